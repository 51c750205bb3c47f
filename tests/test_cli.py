"""The command line: every command, its output and its exit status (0 ok, 1 errors in specs, 2 usage errors).

The CLI runs in-process (perfdsl.cli.main) with the test's temporary folder as the working directory; a couple of
tests run the installed `perfdsl` script to check the entry point itself.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from perfdsl import cli
from perfdsl.errors import UsageError

PROGRAM = """\
hardware gpu1 {
    peak = 100 TFLOP/s
    mem_bw = 1 TB/s
}
model m1 { params = 1e9 }
model m2 { params = 7e9 }
workload grid {
    sweep batch = [1, 2]
    sweep seq = 128 .. 512 by *2
    tokens = batch * seq * 1 token
}
costmodel prefill {
    flops   = 2 FLOP/token * model.params * workload.tokens
    runtime = flops / hardware.peak
}
report example {
    sweep model = [m1, m2]
    hardware = gpu1
    workload = grid
    show prefill.runtime in ms, prefill.flops in TFLOP as flops
}
"""

# prefill.runtime [ms] at (model, batch, seq): 2 * params * batch * seq / 100e12 s
def runtime_ms(params: float, batch: int, seq: int) -> float:
    return 2 * params * batch * seq / 100e12 * 1e3


DIVIDE = """\
workload w { sweep n = [0, 1, 2] }
costmodel c { r = 1 / workload.n }
report z { workload = w; show c.r }
"""

TWO_REPORTS = """\
costmodel c { x = 1.5 s }
report seconds { show c.x in s }
report millis { show c.x in ms }
"""

BROKEN = """\
model m { hidden = 10; ffn = 4 * hiden }
"""


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "prog.perf").write_text(PROGRAM)
    (tmp_path / "div.perf").write_text(DIVIDE)
    (tmp_path / "two.perf").write_text(TWO_REPORTS)
    (tmp_path / "broken.perf").write_text(BROKEN)
    return tmp_path


def csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


# -- check ---------------------------------------------------------------------------------------------------------

def test_check_ok(work, run):
    code, out, err = run("check", "prog.perf")
    assert code == 0
    assert out == ""
    assert err.startswith("ok: 1 file, 6 blocks, 1 report (")
    assert err.endswith(" s)\n")


def test_check_several_files(work, run):
    code, _, err = run("check", "prog.perf", "two.perf")
    assert code == 0
    assert err.startswith("ok: 2 files, 9 blocks, 3 reports (")


def test_check_errors(work, run):
    code, out, err = run("check", "broken.perf")
    assert code == 1
    assert out == ""
    assert err == (
        "error[unknown-name]: unknown name 'hiden' in model 'm'\n"
        "  --> broken.perf:1:34\n"
        "  |\n"
        "1 | model m { hidden = 10; ffn = 4 * hiden }\n"
        "  |                                  ^^^^^\n"
        "  = in: model.m.ffn\n"
        "  = help: did you mean 'hidden'?\n"
        "  = help: available: ffn, hidden\n"
        "\n"
        "1 error\n")


def test_check_reports_every_error_of_every_file_sorted(work, run):
    (work / "b.perf").write_text("model b { x = 1 GB + 1 s\ny = nope }\n")
    code, _, err = run("check", "b.perf", "broken.perf")
    assert code == 1
    headers = [line for line in err.splitlines() if line.startswith("error[")]
    locations = [line.strip() for line in err.splitlines() if line.strip().startswith("-->")]
    assert len(headers) == 3 and err.endswith("3 errors\n")
    assert locations == ["--> b.perf:1:15", "--> b.perf:2:5", "--> broken.perf:1:34"]


def test_check_missing_file(work, run):
    code, _, err = run("check", "nope.perf")
    assert code == 2
    assert err.startswith("error[no-such-file]: cannot read 'nope.perf': no such file\n")


def test_check_missing_file_names_where_imports_are_looked_up(work, run):
    """The same search order as no-such-import's hint (library.IMPORT_ORDER), software/ and costmodels/ included."""
    assert run("check", "nope.perf")[2] == (
        "error[no-such-file]: cannot read 'nope.perf': no such file\n"
        "  = help: check the path (a file given here is read relative to the working folder); imports inside .perf "
        "files are looked up relative to the importing file, then the working folder, then the bundled libraries "
        "(models/, hardware/, software/, costmodels/)\n\n1 error\n")


def test_an_import_of_a_folder_or_without_the_suffix_says_so(work, run):
    # `import "sub"` (a folder) said "cannot find the imported file"; `import "gpu"` beside gpu.perf had no hint.
    (work / "sub").mkdir()
    (work / "gpu.perf").write_text("hardware g { mem_bw = 1 TB/s }\n")
    (work / "a.perf").write_text('import "sub"\nimport "gpu"\n')
    code, _, err = run("check", "a.perf")
    assert code == 1
    assert err == (
        "error[no-such-import]: cannot import 'sub': it is a folder\n"
        "  --> a.perf:1:8\n  |\n1 | import \"sub\"\n  |        ^^^^^\n"
        "  = help: an import names one .perf file, e.g. `import \"sub/NAME.perf\"`; each file imports what it reads\n"
        "\n"
        "error[no-such-import]: cannot find the imported file 'gpu'\n"
        "  --> a.perf:2:8\n  |\n2 | import \"gpu\"\n  |        ^^^^^\n"
        "  = help: did you mean 'gpu.perf'? an import names the file with its .perf suffix\n"
        "  = help: imports are looked up relative to the importing file, then the working folder, then the bundled "
        "libraries (models/, hardware/, software/, costmodels/)\n\n2 errors\n")


def test_a_report_name_given_as_a_file_is_told_to_use_report(work, run):
    """`perfdsl eval plan.perf plan` (a newcomer's slip: the report's name after its file): the name reads as no
    file; a help line after the path's says how a report is chosen."""
    (work / "plan.perf").write_text("report plan { x = 1 s; show x }\n")
    code, _, err = run("eval", "plan.perf", "plan")
    assert code == 2
    lines = err.splitlines()
    assert lines[0] == "error[no-such-file]: cannot read 'plan': no such file"
    assert lines[2] == ("  = help: 'plan' reads as a name, not a file: a report is chosen with --report plan (eval, "
                        "plot, explain, calibrate)")


def test_check_takes_a_folder_as_its_perf_files(work, run):
    """A folder stands for every .perf file in it and its subfolders (hidden ones skipped), as linters take one: the
    same output as the files given one by one."""
    (work / "sub" / "deeper").mkdir(parents=True)
    (work / "sub" / "a.perf").write_text("model a { x = 1 }\n")
    (work / "sub" / "deeper" / "b.perf").write_text("model b { y = 1 GB + 1 s }\n")
    (work / "sub" / "notes.txt").write_text("not a spec\n")
    (work / "sub" / ".hidden").mkdir()
    (work / "sub" / ".hidden" / "c.perf").write_text("model c { z = nope }\n")
    by_folder = run("check", "--no-cache", "sub")
    assert by_folder[0] == 1 and "--> sub/deeper/b.perf:1:" in by_folder[2] and "c.perf" not in by_folder[2]
    assert by_folder == run("check", "--no-cache", "sub/a.perf", "sub/deeper/b.perf")
    (work / "sub" / "deeper" / "b.perf").unlink()
    assert run("check", "--no-cache", "sub/", "sub/a.perf")[2].startswith("ok: 1 file, 1 block, 0 reports (")


def test_check_of_a_folder_passes_over_hidden_files_and_dangling_links(work, run):
    """Emacs keeps a lock `.#a.perf` (a link to 'user@host.pid:time') beside a file with unsaved edits: a hidden file
    is not checked; a link whose target is missing is passed over with a warning that names it (exit 0: the other
    files are checked); a file named on the command line is always read (its error stands)."""
    (work / "sub").mkdir()
    (work / "sub" / "a.perf").write_text("model a { x = 1 }\n")
    os.symlink("root@host.1234:1700000000", work / "sub" / ".#a.perf")
    (work / "sub" / ".b.perf").write_text("model b { y = nope }\n")
    os.symlink("/nonexistent/moved.perf", work / "sub" / "gone.perf")
    assert run("check", "--no-cache", "sub") == (
        0, "", "warning[skipped-file]: skipped 'sub/gone.perf': a link to '/nonexistent/moved.perf', which does not "
               "exist\n  = help: remove the link or mend its target; a file named on the command line is always "
               "read\n\n1 warning\n")
    assert run("check", "--no-cache", "sub/gone.perf")[0] == 2


def test_check_of_a_folder_without_perf_files(work, run):
    (work / "empty" / ".hidden").mkdir(parents=True)
    (work / "empty" / ".hidden" / "c.perf").write_text("model c { z = 1 }\n")
    assert run("check", "empty") == (2, "", "error[no-such-file]: cannot read 'empty': the folder holds no .perf "
                                            "file\n  = help: give .perf files, or folders that hold them\n\n1 error\n")


def test_eval_of_a_folder_says_it_is_one(work, run):
    (work / "reports").mkdir()
    assert run("eval", "reports/") == (2, "", "error[no-such-file]: cannot read 'reports/': it is a folder\n"
                                              "  = help: give its files: reports/*.perf\n\n1 error\n")


def test_check_syntax_error(work, run):
    (work / "s.perf").write_text("model m { a = 'x' }\n")
    code, _, err = run("check", "s.perf")
    assert code == 1
    assert err.startswith("error[syntax]: unexpected character \"'\"\n  --> s.perf:1:15\n")


# -- eval: formats -------------------------------------------------------------------------------------------------

def test_eval_table_to_stdout(work, run):
    code, out, err = run("eval", "prog.perf")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["model", "batch", "seq", "prefill.runtime", "[ms]", "flops", "[TFLOP]"]
    assert set(lines[1]) == {"-", " "}
    assert len(lines) == 2 + 2 * 2 * 3
    assert lines[2].split() == ["m1", "1", "128", "2.56", "0.256"]


def test_eval_csv_to_stdout(work, run):
    code, out, err = run("eval", "prog.perf", "--format", "csv")
    assert code == 0 and err == ""
    rows = csv_rows(out)
    assert list(rows[0]) == ["model", "batch", "seq", "prefill.runtime [ms]", "flops [TFLOP]"]
    assert len(rows) == 12
    assert rows[0]["batch"] == "1" and rows[0]["seq"] == "128"
    last = rows[-1]
    assert (last["model"], last["batch"], last["seq"]) == ("m2", "2", "512")
    assert float(last["prefill.runtime [ms]"]) == pytest.approx(runtime_ms(7e9, 2, 512))
    assert float(last["flops [TFLOP]"]) == pytest.approx(2 * 7e9 * 2 * 512 / 1e12)


def test_eval_json_to_stdout(work, run):
    code, out, err = run("eval", "prog.perf", "--format", "json")
    assert code == 0 and err == ""
    records = json.loads(out)
    assert isinstance(records, list) and len(records) == 2 * 2 * 3
    first = records[0]
    assert list(first) == ["model", "batch", "seq", "prefill.runtime [ms]", "flops [TFLOP]"]
    assert first["model"] == "m1"
    assert type(first["batch"]) is int and type(first["seq"]) is int      # whole-number axes are integers
    assert first["prefill.runtime [ms]"] == pytest.approx(runtime_ms(1e9, 1, 128))
    assert [r["seq"] for r in records[:3]] == [128, 256, 512]


def test_eval_jsonl_to_stdout(work, run):
    code, out, _ = run("eval", "prog.perf", "--format", "jsonl")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 12
    records = [json.loads(line) for line in lines]
    assert records == json.loads(run("eval", "prog.perf", "--format", "json")[1])


def test_eval_json_non_finite_is_null(work, run):
    code, out, err = run("eval", "div.perf", "--format", "json")
    assert code == 0
    assert json.loads(out) == [{"n": 0, "c.r": None}, {"n": 1, "c.r": 1.0}, {"n": 2, "c.r": 0.5}]
    assert err.startswith("warning[division-by-zero]: 'c.r' divides by zero at n=0\n")
    assert err.endswith("1 warning\n")


# -- eval: output files --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, fmt", [("out.csv", "csv"), ("out.json", "json"), ("out.jsonl", "jsonl"),
                                       ("out.txt", "table")])
def test_eval_to_file_by_suffix(work, run, name, fmt):
    code, out, err = run("eval", "prog.perf", "-o", name)
    assert code == 0
    assert out == ""
    assert err == f"wrote {name} (12 rows)\n"
    written = (work / name).read_text()
    assert written == run("eval", "prog.perf", "--format", fmt)[1]
    assert sorted(p.name for p in work.iterdir() if p.name.startswith(".")) == []    # no temporary file left


@pytest.mark.parametrize("name", ["out.csv", "out.json", "out.jsonl", "out.txt", "out.xlsx", "out.parquet"])
@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640)])
def test_eval_to_file_has_the_usual_permissions(work, run, name, umask, mode):
    """Every output gets the mode a plain open() gives: 0o666 less the umask (Parquet was 0o600, mkstemp's)."""
    if name.endswith(".parquet"):
        pytest.importorskip("pyarrow", reason="Parquet output needs pyarrow (perfdsl[parquet])")
    mask = os.umask(umask)
    try:
        assert run("eval", "prog.perf", "-o", name)[0] == 0
    finally:
        os.umask(mask)
    assert stat.S_IMODE((work / name).stat().st_mode) == mode


QUESTION = """\
workload w { sweep batch = [1, 2, 4, 8] }
model small { params = 1e9 }
model big { params = 20e9 }
costmodel c {
    mem = model.params * 2 byte + workload.batch * 1 GB
    fits = mem <= 16 GB
}
report r {
    sweep model = [small, big]
    workload = w
    show c.mem in GB, c.fits
    where c.fits
    largest batch per model
}
"""


def test_a_questions_flags_and_empty_rows_read_the_same_in_every_format(work, run):
    """small: 2 GB of weights + batch GB fits 16 GB up to batch 8 (10 GB); big: 40 GB of weights never fits, so its
    row is empty. Flags are true/false as in a plain sweep, the empty row's cells empty in the table and CSV."""
    (work / "q.perf").write_text(QUESTION)
    code, out, _ = run("eval", "q.perf")
    assert code == 0
    assert out.splitlines() == ["model  batch  c.mem [GB]  c.fits", "-----  -----  ----------  ------",
                                "small      8          10  true", "big"]
    assert run("eval", "q.perf", "--format", "csv")[1] == "model,batch,c.mem [GB],c.fits\nsmall,8,10.0,true\nbig,,,\n"
    assert run("eval", "q.perf", "--format", "jsonl")[1] == (
        '{"model": "small", "batch": 8, "c.mem [GB]": 10.0, "c.fits": true}\n'
        '{"model": "big", "batch": null, "c.mem [GB]": null, "c.fits": null}\n')


def test_a_questions_empty_rows_in_parquet_keep_each_columns_type(work, run):
    pq = pytest.importorskip("pyarrow.parquet", reason="Parquet output needs pyarrow (perfdsl[parquet])")
    (work / "q.perf").write_text(QUESTION)
    assert run("eval", "q.perf", "-o", "q.parquet")[0] == 0
    table = pq.read_table(work / "q.parquet")
    assert [str(field.type) for field in table.schema] == ["string", "int64", "double", "bool"]
    assert table.to_pylist() == [{"model": "small", "batch": 8, "c.mem [GB]": 10.0, "c.fits": True},
                                 {"model": "big", "batch": None, "c.mem [GB]": None, "c.fits": None}]


def test_eval_to_file_with_format_and_unknown_suffix(work, run):
    code, _, _ = run("eval", "prog.perf", "-o", "out.dat", "--format", "csv")
    assert code == 0
    assert csv_rows((work / "out.dat").read_text())[0]["model"] == "m1"


def test_output_dash_is_standard_output_for_eval_and_refused_where_a_file_is_written(work, run):
    """`-o -` is standard output for eval (as without -o; --format picks the text): it wrote a file named '-'. A
    command that writes a file only (ingest, calibrate, plot) refuses it, exit 2, naming a file to write: ingest's
    hint was `-o -.csv`."""
    code, out, _ = run("eval", "prog.perf", "-o", "-", "--format", "csv")
    assert code == 0 and not (work / "-").exists()
    assert out == run("eval", "prog.perf", "--format", "csv")[1]
    assert csv_rows(out)[0]["model"] == "m1"
    code, out, err = run("ingest", "prog.perf", "-o", "-")
    assert code == 2 and not (work / "-").exists()
    assert err.startswith("error[bad-output]: `perfdsl ingest` writes a file, not standard output (-o -)\n"
                          "  = help: name the file: -o runs.csv or -o runs.jsonl\n"), err
    assert run("plot", "prog.perf", "-o", "-")[0] == 2 and not (work / "-").exists()


def test_eval_overwrites_an_earlier_output(work, run):
    (work / "out.csv").write_text("old\n")
    assert run("eval", "prog.perf", "-o", "out.csv")[0] == 0
    assert (work / "out.csv").read_text().startswith("model,batch,seq,")


def test_eval_refuses_to_overwrite_an_input(work, run):
    before = (work / "prog.perf").read_text()
    code, out, err = run("eval", "prog.perf", "--format", "csv", "-o", "prog.perf")
    assert code == 2
    assert err == ("error[output-is-input]: refusing to write over the input 'prog.perf'\n"
                   "  = help: choose another output file with -o\n\n1 error\n")
    assert (work / "prog.perf").read_text() == before
    assert run("eval", "prog.perf", "--format", "csv", "-o", "./prog.perf")[0] == 2
    # Without --format too: it said "cannot tell the format of 'prog.perf' from its suffix".
    assert run("eval", "prog.perf", "-o", "prog.perf")[1:] == ("", err)


def test_eval_bad_suffix(work, run):
    code, _, err = run("eval", "prog.perf", "-o", "out.xyz")
    assert code == 2
    assert err.startswith("error[bad-output]: cannot tell the format of 'out.xyz' from its suffix\n")
    assert not (work / "out.xyz").exists()
    # a misspelt suffix gets the one it is closest to before the list
    code, _, err = run("eval", "prog.perf", "-o", "out.xslx")
    assert code == 2
    assert err == ("error[bad-output]: cannot tell the format of 'out.xslx' from its suffix\n"
                   "  = help: did you mean '.xlsx'?\n"
                   "  = help: use .csv, .json, .jsonl, .txt, .xlsx or .parquet, or give --format\n\n1 error\n")


def test_the_unknown_suffix_help_lists_every_suffix_eval_writes(work, run):
    # One source: the suffixes -o reads a format from (a list written out by hand can drift from them)
    code, _, err = run("eval", "prog.perf", "-o", "out.xyz")
    hint = next(line for line in err.splitlines() if line.startswith("  = help: use "))
    assert code == 2 and hint.endswith(", or give --format")
    listed = hint.removeprefix("  = help: use ").removesuffix(", or give --format").replace(" or ", ", ").split(", ")
    assert listed == [".csv", ".json", ".jsonl", ".txt", ".xlsx", ".parquet"] == list(cli._SUFFIX_FORMATS)


def test_eval_format_that_contradicts_the_suffix(work, run):
    code, _, err = run("eval", "prog.perf", "-o", "out.csv", "--format", "json")
    assert code == 2
    assert err.startswith("error[bad-output]: --format json does not match 'out.csv'\n")
    # Before: a workbook was written and --format json ignored, exit 0.
    code, _, err = run("eval", "prog.perf", "-o", "out.xlsx", "--format", "json")
    assert (code, err) == (2, "error[bad-output]: --format json does not match 'out.xlsx'\n"
                              "  = help: the suffix .xlsx writes a workbook: drop --format, or write json to -o "
                              "FILE.json\n\n1 error\n")
    assert not (work / "out.xlsx").exists()


def test_eval_missing_output_folder(work, run):
    code, _, err = run("eval", "prog.perf", "-o", "nowhere/out.csv")
    assert code == 2
    assert err.startswith("error[bad-output]: cannot write 'nowhere/out.csv': the folder 'nowhere' does not exist\n")
    assert not (work / "nowhere").exists()


def test_failed_write_leaves_no_file(work, monkeypatch):
    from perfdsl.output import write_text_atomically

    (work / "keep.csv").write_text("old\n")

    def explode(stream):
        stream.write("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_text_atomically(work / "keep.csv", explode)
    assert (work / "keep.csv").read_text() == "old\n"
    assert [p.name for p in work.iterdir() if p.name.startswith(".")] == []


# -- eval: --set and --report --------------------------------------------------------------------------------------

def test_set_on_a_sweep(work, run):
    code, out, _ = run("eval", "prog.perf", "--format", "csv", "--set", "batch=4,8", "--set", "seq=64")
    assert code == 0
    rows = csv_rows(out)
    assert [(r["model"], r["batch"], r["seq"]) for r in rows] == [
        ("m1", "4", "64"), ("m1", "8", "64"), ("m2", "4", "64"), ("m2", "8", "64")]
    assert float(rows[1]["prefill.runtime [ms]"]) == pytest.approx(runtime_ms(1e9, 8, 64))


def test_set_a_range(work, run):
    code, out, _ = run("eval", "prog.perf", "--format", "csv", "--set", "seq=64 .. 1024 by *4",
                       "--set", "batch=1", "--set", "model=m1")
    assert code == 0
    assert [r["seq"] for r in csv_rows(out)] == ["64", "256", "1024"]


def test_set_a_block_cell_with_a_unit(work, run):
    code, out, _ = run("eval", "prog.perf", "--format", "csv", "--set", "gpu1.peak=50 TFLOP/s",
                       "--set", "batch=1", "--set", "seq=128")
    assert code == 0
    rows = csv_rows(out)
    assert float(rows[0]["prefill.runtime [ms]"]) == pytest.approx(2 * 1e9 * 128 / 50e12 * 1e3)


def test_set_a_cell_through_its_role(work, run):
    code, out, _ = run("eval", "prog.perf", "--format", "csv", "--set", "hardware.peak=1 PFLOP/s",
                       "--set", "batch=1", "--set", "seq=128")
    assert code == 0
    assert float(csv_rows(out)[1]["prefill.runtime [ms]"]) == pytest.approx(2 * 7e9 * 128 / 1e15 * 1e3)


def test_set_a_role(work, run):
    code, out, _ = run("eval", "prog.perf", "--format", "csv", "--set", "model=m2", "--set", "batch=1")
    assert code == 0
    assert {r["model"] for r in csv_rows(out)} == {"m2"}
    assert len(csv_rows(out)) == 3


@pytest.mark.parametrize("option, message", [
    ("batch", "error[bad-option]: cannot read --set batch\n"),
    ("batch=", "error[bad-option]: cannot read --set batch=\n"),
    ("=4", "error[bad-option]: cannot read --set =4\n"),
    ("batch=[1,", "error[syntax]: the file ends too early\n  --> --set batch:1:4\n"),
    ("batch=1 GBs", "error[unknown-unit]: unknown unit 'GBs'\n  --> --set batch:1:3\n"),
    ("nosuch=1", "error[bad-override]: no cell 'nosuch' in the report or the blocks it binds (--set nosuch)\n"),
    ("gpu1.nosuch=1", "error[bad-override]: 'gpu1' has no cell 'nosuch' (--set gpu1.nosuch)\n"),
    ("gpux.peak=1", "error[bad-override]: 'gpux' in --set gpux.peak is neither a block nor a role\n"),
    ("a.b.c=1", "error[bad-override]: cannot read the override target 'a.b.c'\n"),
])
def test_bad_set_is_a_usage_error(work, run, option, message):
    code, out, err = run("eval", "prog.perf", "--set", option)
    assert code == 2, err
    assert out == ""
    assert err.startswith(message)


def test_a_bare_cell_of_the_blocks_a_role_sweeps_is_told_the_role_form(work, run):
    # Before: "no cell 'params' ... help: write BLOCK.CELL=VALUE", not that every swept model has one.
    code, out, err = run("eval", "prog.perf", "--set", "params=2e9")
    assert (code, out, err) == (2, "", "error[bad-override]: no cell 'params' in the report or the blocks it binds "
                                       "(--set params)\n"
                                       "  = help: 'params' is a cell of every block the role 'model' is swept over: "
                                       "--set model.params=VALUE sets it on each of them, --set m1.params=VALUE on 'm1' "
                                       "only\n\n1 error\n")
    assert run("eval", "prog.perf", "--set", "model.params=2e9", "--format", "csv")[0] == 0


def test_set_that_breaks_the_units_is_a_usage_error(work, run):
    code, _, err = run("eval", "prog.perf", "--set", "batch=1 s")
    assert code == 2
    assert "error[unit-mismatch]: --set batch: '1 s' is s, but" in err


def test_report_choice(work, run):
    code, out, _ = run("eval", "two.perf", "--report", "millis", "--format", "csv")
    assert code == 0
    assert out == "c.x [ms]\n1500.0\n"
    assert run("eval", "two.perf", "--report", "seconds", "--format", "csv")[1] == "c.x [s]\n1.5\n"


def test_several_reports_need_a_choice(work, run):
    code, out, err = run("eval", "two.perf")
    assert code == 2 and out == ""
    assert err == ("error[which-report]: the loaded files define several reports: seconds, millis\n"
                   "  = help: choose one with --report NAME\n\n1 error\n")


def test_unknown_report(work, run):
    code, _, err = run("eval", "two.perf", "--report", "milis")
    assert code == 2
    assert err == ("error[unknown-report]: no report named 'milis'\n"
                   "  = help: did you mean 'millis'?\n"
                   "  = help: available: millis, seconds\n\n1 error\n")


def test_no_report(work, run):
    code, _, err = run("eval", "broken.perf")
    assert code in (1, 2)
    assert err.startswith("error[")


def test_eval_missing_file(work, run):
    code, out, err = run("eval", "nope.perf")
    assert code == 2 and out == ""
    assert err.startswith("error[no-such-file]: cannot read 'nope.perf': no such file\n")


def test_eval_spec_error(work, run):
    (work / "bad.perf").write_text(PROGRAM.replace("hardware.peak", "hardware.peek"))
    code, out, err = run("eval", "bad.perf")
    assert code == 1 and out == ""
    assert err.startswith("error[unknown-name]: 'gpu1' has no cell 'peek' (bound to the role 'hardware')\n")
    assert "did you mean 'peak'?" in err


# -- --strict ------------------------------------------------------------------------------------------------------

def test_warnings_do_not_fail_without_strict(work, run):
    code, out, err = run("eval", "div.perf", "--format", "csv")
    assert code == 0
    assert out == "n,c.r\n0,inf\n1,1.0\n2,0.5\n"
    assert "warning[division-by-zero]" in err


def test_strict_turns_warnings_into_errors(work, run):
    code, out, err = run("eval", "div.perf", "--format", "csv", "--strict")
    assert code == 1
    assert out == ""
    assert "warning[division-by-zero]: 'c.r' divides by zero at n=0" in err
    assert err.endswith("--strict: warnings are errors\n")
    # with -o, the line says the file is not written, as a run in chunks says it
    code, _, err = run("eval", "div.perf", "--strict", "-o", "div.csv")
    assert code == 1 and err.endswith("--strict: warnings are errors (div.csv not written)\n")


def test_strict_without_warnings_is_ok(work, run):
    assert run("eval", "prog.perf", "--strict", "--format", "csv")[0] == 0


# -- explain -------------------------------------------------------------------------------------------------------

def test_explain(work, run):
    code, out, err = run("explain", "prog.perf", "prefill.runtime", "--at", "batch=2", "--at", "model=m2")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == f"prefill.runtime = {runtime_ms(7e9, 2, 128):g} ms"
    assert lines[1] == "  formula: flops / hardware.peak"
    assert lines[2] == "  defined: prog.perf:14:5"
    assert lines[3] == "  at: model=m2, batch=2, seq=128 (first value of seq; choose with --at AXIS=VALUE)"
    assert lines[4] == "  precedents:"
    assert "prefill.flops = 3.584 TFLOP   = 2 FLOP/token * model.params * workload.tokens   (prog.perf:13:5)" in out
    assert "model.params -> m2.params = 7000000000   [7e9]   (prog.perf:6:12)" in out
    assert "workload.tokens -> grid.tokens = 256 token   = batch * seq * 1 token   (prog.perf:10:5)" in out
    assert "grid.seq = 128   [128 .. 512 by *2]   (prog.perf:9:11) a sweep axis" in out
    assert "hardware.peak -> gpu1.peak = 100 TFLOP/s   (prog.perf:2:5)" in out


def test_explain_at_a_point_the_report_leaves_out_says_which_conditions_fail(work, run):
    """A value explained at a point the report's `where` drops is one the output never shows: explain says so,
    naming each side of the `and` that is false there. m2 at batch 2, seq 512: runtime = 2 x 7e9 x 2 x 512 / 100e12
    s = 143.36 ms (not below 100 ms); batch 2 is not 1."""
    (work / "where.perf").write_text(PROGRAM.replace("    show prefill.runtime",
                                                     "    where prefill.runtime < 100 ms and batch == 1\n"
                                                     "    show prefill.runtime"))
    code, out, err = run("explain", "where.perf", "prefill.runtime", "--at", "batch=2", "--at", "model=m2",
                         "--at", "seq=512")
    assert code == 0 and err == ""
    assert runtime_ms(7e9, 2, 512) == pytest.approx(143.36)
    assert out.splitlines()[3:5] == [
        "  at: model=m2, batch=2, seq=512",
        "  left out by the report's where: prefill.runtime < 100 ms, batch == 1 are false at this point"]
    code, out, _ = run("explain", "where.perf", "prefill.runtime", "--at", "batch=1", "--at", "model=m1",
                       "--at", "seq=128")
    assert code == 0 and "left out" not in out


def test_explain_shows_a_formula_without_the_comments_between_its_lines(work, run):
    (work / "comments.perf").write_text(
        'costmodel c {\n'
        '    x = 1 s      # the first term\n'
        '        + 2 s    # "a # in quotes" and the second term\n'
        '}\n'
        'report r { label = "a # b"; show c.x }\n')
    code, out, _ = run("explain", "comments.perf", "c.x")
    assert code == 0
    assert out.splitlines()[:2] == ["c.x = 3 s", "  formula: 1 s + 2 s"]


def test_explain_shows_the_comment_written_beside_a_figure(work, run):
    """Every number traces back to a datasheet: the comment written after a cell (and the comment lines below it in
    the same column), its source or any other note, is shown as `comment:` under the root and after a leaf of the
    tree; code after the cell on the same line is no comment."""
    (work / "sourced.perf").write_text(
        'hardware gpu {\n'
        '    mem_bw = 3350 GB/s     # gpus.csv: 3350 (datasheet)\n'
        '    clock: Hz = 1980 MHz   # DISPUTED: 1980 for FP32 peaks;\n'
        '                           # 1830 for tensor peaks\n'
        '    # a note about what follows, not a continuation\n'
        '    sm = 132; tdp = 700 W  # not the source of sm\n'
        '}\n'
        'costmodel c {\n'
        '    t = 1 GB / hardware.mem_bw + hardware.sm / hardware.clock\n'
        '}\n'
        'report r { hardware = gpu; show c.t }\n')
    code, out, _ = run("explain", "sourced.perf", "hardware.clock")
    assert code == 0
    assert out.splitlines()[3] == "  comment: DISPUTED: 1980 for FP32 peaks; 1830 for tensor peaks"
    code, out, _ = run("explain", "sourced.perf", "c.t")
    assert code == 0
    assert "hardware.mem_bw -> gpu.mem_bw = 3.35 TB/s   [3350 GB/s]   (sourced.perf:2:5)   # gpus.csv: 3350 (datasheet)" \
        in out
    assert "hardware.sm -> gpu.sm = 132   (sourced.perf:6:5)\n" in out + "\n"


@pytest.mark.parametrize("cell, at, line", [
    # a constant of a block (bound at no point, or at the point chosen): no axis changes it, the row is still named
    ("gpu1.peak", [], "every sweep point (this row: model=m1, batch=1, seq=128)"),
    ("m2.params", ["--at", "seq=512"], "every sweep point (this row: model=m1, batch=1, seq=512)"),
    # a role swept over blocks names the block the point takes; the workload's axes change nothing there
    ("model.params", [], "model=m1, batch=1*, seq=128* (*: the value does not depend on batch, seq; first value of "
                         "model; choose with --at AXIS=VALUE)"),
    # tokens varies with batch and seq only: the model chosen with --at is marked, not left out
    ("grid.tokens", ["--at", "model=m2", "--at", "batch=2"], "model=m2*, batch=2, seq=128 (*: the value does not "
                                                              "depend on model; first value of seq; choose with "
                                                              "--at AXIS=VALUE)"),
])
def test_explain_names_every_axis_and_marks_those_the_cell_does_not_depend_on(work, run, cell, at, line):
    """The `at:` line names the whole row (every axis, so a reader can find it in eval's output) and marks with `*`
    the axes the value does not depend on; the first-value note names only the axes it depends on. Before, those
    axes were left out of the line: memory.peak of a report sweeping GPUs named no GPU."""
    code, out, err = run("explain", "prog.perf", cell, *at)
    assert code == 0 and err == ""
    assert [text for text in out.splitlines() if text.startswith("  at: ")] == [f"  at: {line}"]


def test_explain_names_the_gpu_of_the_row_where_the_cell_does_not_read_it(work, run):
    """The newcomer's case: a cell that does not read the hardware (flops: params x tokens), of a report sweeping
    GPUs. The row explained is gpu2's, and the line says so, marked as changing nothing."""
    (work / "gpus.perf").write_text(PROGRAM.replace("hardware = gpu1", "sweep hardware = [gpu1, gpu2]")
                                    + "hardware gpu2 {\n    peak = 200 TFLOP/s\n    mem_bw = 2 TB/s\n}\n")
    code, out, err = run("explain", "gpus.perf", "prefill.flops", "--at", "model=m2", "--at", "hardware=gpu2",
                         "--at", "batch=2", "--at", "seq=256")
    assert code == 0 and err == ""
    assert out.splitlines()[0] == f"prefill.flops = {2 * 7e9 * 2 * 256 / 1e12:g} TFLOP"
    assert out.splitlines()[3] == ("  at: model=m2, hardware=gpu2*, batch=2, seq=256 (*: the value does not depend "
                                   "on hardware)")
    code, out, err = run("explain", "gpus.perf", "prefill.runtime", "--at", "model=m2", "--at", "hardware=gpu2",
                         "--at", "batch=2", "--at", "seq=256")
    assert out.splitlines()[0] == f"prefill.runtime = {2 * 7e9 * 2 * 256 / 200e12 * 1e3:g} ms"
    assert out.splitlines()[3] == "  at: model=m2, hardware=gpu2, batch=2, seq=256"       # it reads every axis


def test_explain_every_axis_given(work, run):
    code, out, _ = run("explain", "prog.perf", "prefill.flops", "--at", "batch=1", "--at", "model=m1",
                       "--at", "seq=512")
    assert code == 0
    assert out.splitlines()[3] == "  at: model=m1, batch=1, seq=512"
    assert out.splitlines()[0] == f"prefill.flops = {2 * 1e9 * 1 * 512 / 1e12:g} TFLOP"


def test_explain_with_set(work, run):
    code, out, _ = run("explain", "prog.perf", "prefill.runtime", "--set", "batch=4", "--at", "seq=256")
    assert code == 0
    assert out.splitlines()[0] == f"prefill.runtime = {runtime_ms(1e9, 4, 256):g} ms"


@pytest.mark.parametrize("argv, message", [
    (["--at", "nosuch=1"], "error[bad-point]: the report has no axis 'nosuch'\n  = help: available: batch, model, seq\n"),
    (["--at", "batch=3"], "error[bad-point]: '3' is not a value of axis 'batch'\n  = help: its values: 1, 2\n"),
    (["--at", "model=m3"], "error[bad-point]: 'm3' is not a value of axis 'model'\n  = help: its values: m1, m2\n"),
    (["--at", "batch"], "error[bad-option]: cannot read --at batch\n"),
])
def test_explain_bad_point(work, run, argv, message):
    code, out, err = run("explain", "prog.perf", "prefill.runtime", *argv)
    assert code == 2 and out == ""
    assert err.startswith(message)


ZIPPED = """\
workload w { sweep (tp, ep) = [(2, 1), (2, 2), (4, 1), (4, 4), (8, 1), (8, 8)] }
costmodel c { t = 1 ms * workload.tp + 100 ms * workload.ep }
report r {
    workload = w
    show c.t in ms as t
}
"""


@pytest.mark.parametrize("tp, ep", [(8, 8), (8, 1), (4, 4), (2, 2)])
def test_explain_at_both_names_of_a_zipped_axis_chooses_the_tuple_with_both(work, run, tp, ep):
    # Each --at was matched to the first tuple with its value: tp=8 to (8, 1), ep=8 to (8, 8), "two different points".
    (work / "zip.perf").write_text(ZIPPED)
    code, out, err = run("explain", "zip.perf", "c.t", "--at", f"tp={tp}", "--at", f"ep={ep}")
    assert code == 0 and err == ""
    assert out.splitlines()[0] == f"c.t = {1 * tp + 100 * ep:g} ms"
    assert out.splitlines()[3] == f"  at: tp={tp}, ep={ep}"


@pytest.mark.parametrize("argv, message", [
    # no tuple has both: the tuples listed
    (["--at", "tp=8", "--at", "ep=2"],
     "error[bad-point]: no point of the zipped axis (tp, ep) has tp=8 and ep=2 (--at tp=8 --at ep=2)\n"
     "  = help: its points: (2, 1), (2, 2), (4, 1), (4, 4), (8, 1), (8, 8)\n"),
    # one name of several tuples: it silently took (8, 1); the user is asked which
    (["--at", "tp=8"],
     "error[bad-point]: --at tp=8 matches 2 points of the zipped axis (tp, ep): (8, 1), (8, 8)\n"
     "  = help: to choose one, add --at ep=1 or --at ep=8\n"),
    (["--at", "ep=1"],
     "error[bad-point]: --at ep=1 matches 3 points of the zipped axis (tp, ep): (2, 1), (4, 1), (8, 1)\n"
     "  = help: to choose one, add --at tp=2, --at tp=4 or --at tp=8\n"),
    # a value of neither: its values once each (a zipped name repeats them along its axis)
    (["--at", "tp=3"], "error[bad-point]: '3' is not a value of axis 'tp'\n  = help: its values: 2, 4, 8\n"),
])
def test_explain_at_a_zipped_axis_with_no_tuple_or_several_is_bad_usage(work, run, argv, message):
    (work / "zip.perf").write_text(ZIPPED)
    code, out, err = run("explain", "zip.perf", "c.t", *argv)
    assert code == 2 and out == ""
    assert err == message + "\n1 error\n"


def test_explain_unknown_cell(work, run):
    code, _, err = run("explain", "prog.perf", "prefill.nosuch")
    assert code == 2
    assert err.startswith("error[unknown-name]: 'prefill' has no cell 'nosuch' (explain prefill.nosuch)\n")
    assert run("explain", "prog.perf", "a.b.c")[0] == 2


def test_explain_a_shown_label(work, run):
    """`show prefill.flops in TFLOP as flops`: the label names the cell it shows."""
    code, out, err = run("explain", "prog.perf", "flops", "--at", "batch=2", "--at", "model=m2")
    assert code == 0 and err == ""
    assert out.splitlines()[0] == f"flops: prefill.flops = {2 * 7e9 * 2 * 128 / 1e12:g} TFLOP"
    assert out.splitlines()[1] == "  formula: 2 FLOP/token * model.params * workload.tokens"


def test_explain_unknown_name_lists_the_shown_labels(work, run):
    code, _, err = run("explain", "prog.perf", "flop")
    assert code == 2
    assert err.startswith("error[unknown-name]: unknown name 'flop' in report 'example' (explain flop)\n")
    assert "  = help: or a shown cell's name: prefill.runtime, flops\n" in err


BRANCH = """\
hardware base {
    peak = 100 TFLOP/s
    peak_int8: FLOP/s
}
hardware gpu extends base { mem_bw = 1 TB/s }
workload w { sweep fmt = ["fp16", "int8"] }
costmodel c {
    rate = if(workload.fmt == "int8", hardware.peak_int8, hardware.peak)
}
report r { hardware = gpu; workload = w; show c.rate }
"""


def test_explain_does_not_evaluate_a_branch_the_point_does_not_take(work, run):
    """A declared input read only by a branch of `if` that the point does not take is not needed (as for eval):
    explain shows it as not evaluated."""
    (work / "branch.perf").write_text(BRANCH)
    assert run("eval", "branch.perf", "--set", 'fmt="fp16"', "--format", "csv")[0] == 0
    code, out, err = run("explain", "branch.perf", "c.rate")
    assert code == 0 and err == ""
    assert out.splitlines()[5:] == [
        '  ├── workload.fmt -> w.fmt = "fp16"   [["fp16", "int8"]]   (branch.perf:6:20) a sweep axis',
        "  ├── hardware.peak_int8 -> gpu.peak_int8 = (not evaluated)   [(declared input: FLOP/s)]   "
        "(branch.perf:3:5, from base) in a branch of if() not taken at this point",
        "  └── hardware.peak -> gpu.peak = 100 TFLOP/s   (branch.perf:2:5, from base)"]


def test_explain_of_a_point_that_takes_the_branch_needs_its_input_as_eval_does(work, run):
    (work / "branch.perf").write_text(BRANCH)
    code, out, err = run("explain", "branch.perf", "c.rate", "--at", "fmt=int8")
    assert code == 1 and out == ""
    assert err.startswith("error[missing-input]: hardware 'gpu' (which extends 'base') does not give its declared "
                          "input 'peak_int8' (FLOP/s), which the sweep point fmt=int8 needs\n")
    assert "  = note: read only where the `if` at branch.perf:8:12 chooses it\n" in err


def test_explain_missing_file(work, run):
    assert run("explain", "nope.perf", "prefill.runtime")[0] == 2


# -- usage ---------------------------------------------------------------------------------------------------------

def test_no_command(work, run):
    code, out, err = run()
    assert code == 2
    assert out == ""
    assert err.startswith("usage: perfdsl")


@pytest.mark.parametrize("argv", [
    ["eval"],                                     # no file
    ["eval", "prog.perf", "--format", "xml"],     # a format that does not exist
    ["eval", "prog.perf", "--frobnicate"],        # an option that does not exist
    ["frobnicate"],                               # a command that does not exist
    ["explain", "prog.perf"],                     # no cell
    ["explain", "prog.perf", "x", "--depth", "deep"],
])
def test_argparse_errors(work, run, argv):
    code, out, err = run(*argv)
    assert code == 2
    assert "usage: perfdsl" in err
    assert "error:" in err


def test_an_unquoted_set_value_with_a_space_gets_a_hint_to_quote_it(work, run):
    code, out, err = run("eval", "prog.perf", "--set", "my_l40s.mem_bw=900", "GB/s")
    assert code == 2
    assert err.splitlines()[-2:] == [
        "perfdsl eval: error: unrecognized arguments: GB/s",
        '  = help: a value with a space is one argument only when quoted: --set my_l40s.mem_bw="900 GB/s"']


QUOTE_X = ("'GB/s' is the unit of --set x=900, cut off by the shell: a value with a space is one argument only when "
           'quoted: --set x="900 GB/s"')


@pytest.mark.parametrize("argv", [
    ["eval", "--set", "x=900", "GB/s", "prog.perf"],
    ["eval", "--format", "csv", "--set", "x=900", "GB/s", "prog.perf"],
    ["plot", "--set", "x=900", "GB/s", "prog.perf", "-o", "p.png"],
    ["explain", "--set", "x=900", "GB/s", "prog.perf"],
])
def test_a_set_unit_cut_off_before_the_file_is_not_read_as_one(work, run, argv):
    # The shell made `GB/s` an argument of its own; before the report's file, argparse took it for the file.
    code, out, err = run(*argv)
    assert code == 2
    assert err == f"error[no-such-file]: cannot read 'GB/s': no such file\n  = help: {QUOTE_X}\n\n1 error\n"


@pytest.mark.parametrize("argv, left_over", [
    (["calibrate", "--set", "x=900", "GB/s", "prog.perf", "--fit", "x", "-o", "c.perf"], "prog.perf"),
    (["explain", "--set", "x=900", "GB/s", "prog.perf", "prefill.flops"], "prefill.flops"),
])
def test_a_set_unit_cut_off_where_argparse_errs_gets_the_same_hint(work, run, argv, left_over):
    code, out, err = run(*argv)
    assert code == 2
    assert err.splitlines()[-2:] == [f"perfdsl {argv[0]}: error: unrecognized arguments: {left_over}",
                                     f"  = help: {QUOTE_X}"]


@pytest.mark.parametrize("argv, hint", [
    (["eval", "--set", "hw.tdp=230", "W", "prog.perf"],
     "'W' is the unit of --set hw.tdp=230, cut off by the shell: a value with a space is one argument only when "
     'quoted: --set hw.tdp="230 W"'),
    (["eval", "--set", "x=1.5e2", "TFLOP/s", "prog.perf"],
     "'TFLOP/s' is the unit of --set x=1.5e2, cut off by the shell: a value with a space is one argument only when "
     'quoted: --set x="1.5e2 TFLOP/s"'),
    (["eval", "--set", "x[0]=24", "GB", "prog.perf"],         # a name the shell would glob: quoted whole
     "'GB' is the unit of --set x[0]=24, cut off by the shell: a value with a space is one argument only when "
     "quoted: --set 'x[0]=24 GB'"),
])
def test_the_cut_off_hint_names_each_unit_and_quotes_safely(work, run, argv, hint):
    code, out, err = run(*argv)
    assert code == 2
    assert err.splitlines()[1] == f"  = help: {hint}"


@pytest.mark.parametrize("argv, quoted", [
    (["eval", "prog.perf", "--set", "seq=128", "..", "1024"], 'seq="128 .. 1024"'),
    (["eval", "prog.perf", "--set", "seq=128", "..", "1024", "by", "*2"], 'seq="128 .. 1024 by *2"'),
    (["eval", "prog.perf", "--set", "batch=1,", "2,", "4", "--format", "csv"], 'batch="1, 2, 4"'),
    (["eval", "prog.perf", "--set", "label=My", "big", "GPU"], 'label="My big GPU"'),
])
def test_a_set_value_cut_after_the_file_is_quoted_whole(work, run, argv, quoted):
    # Before: `--set seq="128 .."` (the first two pieces only), `--set batch="1, 2,"`.
    code, out, err = run(*argv)
    assert code == 2
    assert err.splitlines()[-1] == f"  = help: a value with a space is one argument only when quoted: --set {quoted}"


@pytest.mark.parametrize("argv, message, hint", [
    (["eval", "--set", "batch=1,", "2", "prog.perf"], "cannot read '2': no such file",
     "'2' is a piece of the value of --set batch, cut off by the shell: a value with a space is one argument only "
     'when quoted: --set batch="1, 2"'),
    (["eval", "--set", "batch=1,", "2,", "4", "prog.perf"], "cannot read '2,': no such file",
     "'2,' is a piece of the value of --set batch, cut off by the shell: a value with a space is one argument only "
     'when quoted: --set batch="1, 2, 4"'),
    (["eval", "--set", "seq=128", "..", "1024", "by", "*2", "prog.perf"], "cannot read '..': it is a folder",
     "'..' is a piece of the value of --set seq, cut off by the shell: a value with a space is one argument only "
     'when quoted: --set seq="128 .. 1024 by *2"'),
    (["plot", "--set", "hw.mem_size=80", "GB,", "120", "GB", "prog.perf", "-o", "p.png"],
     "cannot read 'GB,': no such file",
     "'GB,' is a piece of the value of --set hw.mem_size, cut off by the shell: a value with a space is one argument "
     'only when quoted: --set hw.mem_size="80 GB, 120 GB"'),
])
def test_a_list_or_range_cut_before_the_file_is_one_error_with_the_quoting_hint(work, run, argv, message, hint):
    # Before: `cannot read '2'` with the path's help; `..` "is a folder: give its files: ../*.perf" and a second
    # error for `1024`. Every piece of the value is quoted, and only the first piece taken for a file is an error.
    code, out, err = run(*argv)
    assert (code, err) == (2, f"error[no-such-file]: {message}\n  = help: {hint}\n\n1 error\n")


def test_a_list_cut_where_argparse_errs_gets_the_same_hint(work, run):
    code, out, err = run("calibrate", "--set", "batch=1,", "2", "prog.perf", "--fit", "x", "-o", "c.perf")
    assert code == 2
    assert err.splitlines()[-2:] == [
        "perfdsl calibrate: error: unrecognized arguments: prog.perf",
        "  = help: '2' is a piece of the value of --set batch, cut off by the shell: a value with a space is one "
        'argument only when quoted: --set batch="1, 2"']


@pytest.mark.parametrize("argv", [
    ["eval", "--set", "model=m1", "GB/s", "prog.perf"],       # not a number before it: no value cut at a unit
    ["eval", "--set", "x=900", "GBs", "prog.perf"],           # not a unit
    ["eval", "GB/s", "prog.perf"],                            # no --set before it
    ["eval", "--set", "batch=1,2", "4", "prog.perf"],         # a whole list before it: 4 is no piece of it
    ["eval", "--set", "batch=1", "2", "prog.perf"],           # nor after a whole number
])
def test_a_missing_file_that_no_set_value_lost_keeps_the_path_help(work, run, argv):
    code, out, err = run(*argv)
    assert code == 2
    assert err.splitlines()[1].startswith("  = help: check the path (a file given here is read relative to the "
                                          "working folder)")


@pytest.mark.parametrize("argv, option, metavar", [
    (["eval", "--measured", "runs.csv", "prog.perf"], "--measured", "LOG"),
    (["eval", "--add-measured", "a.csv", "b.csv", "prog.perf"], "--add-measured", "LOG"),
    (["calibrate", "--measured", "runs.csv", "prog.perf", "--fit", "x", "-o", "c.perf"], "--measured", "RUNS"),
    (["calibrate", "-o", "c.perf", "--fit", "gpu.eff=0.3..1", "prog.perf"], "--fit", "CELL[=LOW..HIGH]"),
])
def test_a_perf_file_swallowed_by_a_list_option_is_named_with_the_fix(work, run, argv, option, metavar):
    code, out, err = run(*argv)
    assert code == 2
    command, required = argv[0], {"eval": "FILE", "calibrate": "REPORT"}[argv[0]]
    assert err.splitlines()[-2:] == [
        f"perfdsl {command}: error: the following arguments are required: {required}",
        f"  = help: 'prog.perf' was taken as a {metavar} of {option}, which takes every argument up to the next "
        f"option: put the file first (perfdsl {command} prog.perf {option} ...), or end the list with -- "
        f"(perfdsl {command} {option} ... -- prog.perf)"]


def test_a_list_option_ended_with_double_dash_leaves_the_file_to_eval(work, run):
    (work / "runs.csv").write_text("model,batch,seq,prefill.runtime [ms]\nm1,1,128,0.003\n")
    code, out, err = run("eval", "--format", "csv", "--measured", "runs.csv", "--", "prog.perf")
    assert code == 0, err
    first = csv_rows(out)[0]
    assert (first["model"], first["batch"], first["seq"]) == ("m1", "1", "128")
    assert float(first["prefill.runtime measured [ms]"]) == pytest.approx(0.003)


def test_help_and_version(run):
    code, out, _ = run("--help")
    assert code == 0
    assert out.startswith("usage: perfdsl")
    for command in ("check", "eval", "explain"):
        assert command in out
    assert "Exit status: 0 success, 1 errors in specs or logs, 2 usage errors." in " ".join(out.split())
    code, out, _ = run("--version")
    assert code == 0
    assert out.strip() == "perfdsl 0.1.0"


@pytest.mark.parametrize("command", ["check", "eval", "explain"])
def test_subcommand_help(run, command):
    code, out, _ = run(command, "--help")
    assert code == 0
    assert out.startswith(f"usage: perfdsl {command}")


def test_eval_help_lists_every_output_suffix(run):
    code, out, _ = run("eval", "--help")
    assert code == 0
    assert "-o OUT, --output OUT write to a file (.csv .json .jsonl .txt .xlsx .parquet)" in " ".join(out.split())


def test_installed_script(work):
    script = shutil.which("perfdsl", path=str(Path(sys.executable).parent)) or shutil.which("perfdsl")
    if script is None:
        pytest.skip("the perfdsl script is not installed")
    done = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "perfdsl 0.1.0"
    done = subprocess.run([script, "check", "broken.perf"], capture_output=True, text=True, timeout=60, cwd=work)
    assert done.returncode == 1
    assert done.stderr.startswith("error[unknown-name]: unknown name 'hiden' in model 'm'\n")
    done = subprocess.run([script, "eval", "prog.perf", "--format", "csv", "--set", "batch=1", "--set", "seq=128"],
                          capture_output=True, text=True, timeout=60, cwd=work)
    assert done.returncode == 0
    assert done.stdout.splitlines()[0] == "model,batch,seq,prefill.runtime [ms],flops [TFLOP]"
    assert len(done.stdout.splitlines()) == 3


def test_python_dash_m_perfdsl_is_the_command(work):
    """`python -m perfdsl` (an environment whose scripts folder is not on PATH) runs the same command: its output and
    exit statuses, 1 for a bad spec and 2 for bad usage (docs/ERRORS.md)."""
    done = subprocess.run([sys.executable, "-m", "perfdsl", "--version"], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "perfdsl 0.1.0\n")
    done = subprocess.run([sys.executable, "-m", "perfdsl", "check", "broken.perf"], capture_output=True, text=True,
                          timeout=60, cwd=work)
    assert done.returncode == 1
    assert done.stderr.startswith("error[unknown-name]: unknown name 'hiden' in model 'm'\n")
    done = subprocess.run([sys.executable, "-m", "perfdsl", "eval"], capture_output=True, text=True, timeout=60,
                          cwd=work)
    assert done.returncode == 2 and done.stderr.startswith("usage: perfdsl eval")


def test_check_takes_each_file_as_its_own_program(work, run):
    # Two reports may each define a block of the same name: they are evaluated one at a time, and checked so.
    (work / "r1.perf").write_text("costmodel c { x = 1 s }\nreport r1 { show c.x }\n")
    (work / "r2.perf").write_text("costmodel c { x = 2 s }\nreport r2 { show c.x }\n")
    code, _, err = run("check", "r1.perf", "r2.perf")
    assert code == 0, err
    assert err.startswith("ok: 2 files, 4 blocks, 2 reports (")


def test_a_set_value_outside_a_choice_is_a_usage_error(tmp_path, capsys):
    """An error located only in a value given with --set is bad usage (exit 2), like a --set that cannot be read."""
    spec = tmp_path / "c.perf"
    spec.write_text('workload w { power_model: "tdp" | "utilisation" = "tdp" }\n'
                    'costmodel c { x = if(workload.power_model == "tdp", 1, 2) }\n'
                    'report r { workload = w; show c.x }\n', encoding="utf-8")
    assert cli.main(["eval", str(spec), "--set", "power_model=utilization"]) == 2
    assert capsys.readouterr().err == (
        "error[bad-choice]: 'power_model' is one of \"tdp\" or \"utilisation\", not \"utilization\"\n"
        "  --> --set power_model:1:1\n"
        "  |\n"
        "1 | utilization\n"
        "  | ^^^^^^^^^^^\n"
        "  = in: workload.w.power_model\n"
        "  = help: did you mean \"utilisation\"?\n"
        "\n"
        "1 error\n")
    assert cli.main(["eval", str(spec), "--set", "power_model=utilisation", "--format", "csv"]) == 0


def test_a_bare_set_name_that_is_report_text_and_a_bound_cell_is_ambiguous(tmp_path, capsys):
    """`--set power_model=...` where the report has a text cell `power_model` (a note) and its workload the choice the
    formulas read: changing the note alone would change no number, so the name must be qualified."""
    spec = tmp_path / "c.perf"
    spec.write_text('workload w { power_model: "tdp" | "utilisation" = "tdp" }\n'
                    'costmodel c { x = if(workload.power_model == "tdp", 1, 2) }\n'
                    'report r { power_model = "TDP x runtime"; workload = w; show c.x }\n', encoding="utf-8")
    assert cli.main(["eval", str(spec), "--set", "power_model=utilisation"]) == 2
    assert capsys.readouterr().err == (
        "error[ambiguous-override]: 'power_model' is a text cell of report 'r' and a cell of workload 'w' "
        "(--set power_model)\n"
        "  = help: name the cell: --set w.power_model=... (what the formulas read) or --set r.power_model=... "
        "(the report's text)\n"
        "\n"
        "1 error\n")
    # The note itself shadows the workload's cell the cost model reads (error[shadowed-cell], at the note); named
    # otherwise, the bare name reaches the workload's choice.
    assert cli.main(["eval", str(spec), "--set", "w.power_model=utilisation", "--format", "csv"]) == 1
    assert capsys.readouterr().err.startswith(
        "error[shadowed-cell]: report 'r' writes 'power_model', a cell workload 'w' (bound to 'workload') has too")
    spec.write_text(spec.read_text(encoding="utf-8").replace("{ power_model =", "{ power_note ="), encoding="utf-8")
    assert cli.main(["eval", str(spec), "--set", "power_model=utilisation", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[1] == "2.0"


def test_eval_takes_several_logs_after_one_measured(work, run):
    # As calibrate does: `--measured a.csv b.csv` (a shell glob), or the option repeated. Both logs' runs match: of
    # the four points at seq 128, two are left without a run (one log alone would leave three).
    (work / "a.csv").write_text("model,batch,seq,runtime [ms]\nm1,1,128,7\n")
    (work / "b.csv").write_text("model,batch,seq,runtime [ms]\nm2,1,128,70\n")
    for argv in (["--measured", "a.csv", "b.csv"], ["--measured", "a.csv", "--measured", "b.csv"]):
        code, _, err = run("eval", "prog.perf", *argv, "--set", "seq=128", "--format", "csv")
        assert code == 0
        # The report shows `prefill.runtime` under its full name, so the runs' `runtime` is not compared: said.
        assert err.startswith("warning[unmatched-metric]: the runs' metric 'runtime' matches no metric the report "
                              "shows, so it is not compared\n  --> a.csv:1:17 (column 'runtime [ms]')\n"), err
        assert ("  = help: the report shows 'prefill.runtime' under its full name: name it `show prefill.runtime in "
                "ms as runtime` to compare it with the runs' 'runtime'\n\nnote[unmatched]: 2 estimates without a "
                "run\n") in err, err


# -- exit statuses that do not depend on the reader or on the moment ---------------------------------------------

def test_a_reader_that_stops_early_does_not_change_the_status(work):
    """`perfdsl check ... 2>&1 | head -1`: the reader is gone before the diagnostics are written (here: the pipe is
    closed before the child writes anything), and the status is still 1 for errors, 0 for a clean check."""
    (work / "bad.perf").write_text("model m { x = 1 GB + 1 s }\n")
    (work / "good.perf").write_text("model m { x = 1 GB }\n")
    for file, status in (("bad.perf", 1), ("good.perf", 0)):
        child = subprocess.Popen([sys.executable, "-m", "perfdsl.cli", "check", "--no-cache", file],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        child.stderr.close()
        assert child.wait(timeout=60) == status


def test_ingest_writes_its_runs_and_keeps_its_status_when_the_reader_stops_early(work):
    """`perfdsl ingest ... 2>&1 | head -1`: the runs are written and the status is 1 for a log that gave no run (before:
    the first warning's write failed, so nothing was written and the status was 0)."""
    (work / "good.csv").write_text("model,batch,runtime [ms]\nm1,1,3\n")
    (work / "bad.csv").write_text("model,batch,runtime [ms]\nm1,one,3\n")
    child = subprocess.Popen([sys.executable, "-m", "perfdsl.cli", "ingest", "good.csv", "bad.csv", "-o", "runs.csv"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    child.stderr.close()
    assert child.wait(timeout=60) == 1
    assert (work / "runs.csv").read_text().splitlines()[1:] == ["m1,1,3.0,good.csv:row 1"]


def test_ctrl_c_while_the_command_line_is_read(run, monkeypatch):
    """Ctrl-C in the first moments (argparse building its parser): `interrupted`, status 130, no traceback."""
    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_parser", interrupted)
    assert run("check", "x.perf") == (130, "", "interrupted\n")


def test_the_command_ends_with_everything_written(work):
    """`check`, `cache` and `errors` end the process without tearing the interpreter down (cli.run, os._exit): what
    they wrote to stdout and stderr is flushed first, and the status is theirs."""
    (work / "bad.perf").write_text("model m { x = 1 GB + 1 s }\n")
    env = {**os.environ, "XDG_CACHE_HOME": str(work / "xdg")}
    checked = subprocess.run([sys.executable, "-m", "perfdsl.cli", "check", "bad.perf"], capture_output=True,
                             text=True, env=env)
    assert checked.returncode == 1 and checked.stdout == ""
    assert checked.stderr.startswith("error[unit-mismatch]: ") and checked.stderr.endswith("\n\n1 error\n")
    folder = subprocess.run([sys.executable, "-m", "perfdsl.cli", "cache", "dir"], capture_output=True, text=True,
                            env=env)
    assert (folder.returncode, folder.stdout, folder.stderr) == (0, f"{work / 'xdg' / 'perfdsl'}\n", "")
    listed = subprocess.run([sys.executable, "-m", "perfdsl.cli", "errors"], capture_output=True, text=True, env=env)
    assert listed.returncode == 0 and listed.stdout.count("\n") > 100 and listed.stdout.endswith("\n")


# -- --chunk-points and --workers: whole numbers as a user writes them, and what to give instead -----------------

@pytest.mark.parametrize("written, points", [("1e6", 1_000_000), ("1_000_000", 1_000_000), ("1.5e3", 1_500),
                                             ("4", 4)])
def test_chunk_points_takes_a_whole_number_written_with_an_exponent_or_underscores(tmp_path, capsys, written, points):
    (tmp_path / "r.perf").write_text("report r { sweep a = 1 .. 3; show a }\n")
    assert cli._parser().parse_args(["eval", "r.perf", "--chunk-points", written]).chunk_points == points
    assert cli.main(["eval", str(tmp_path / "r.perf"), "-q", "--format", "csv", "--chunk-points", written]) == 0
    # The shown a is the axis's own column (shown_axes.py); it was written twice: a,a / 1,1.0 / 2,2.0 / 3,3.0
    assert capsys.readouterr().out.splitlines() == ["a", "1", "2", "3"]


@pytest.mark.parametrize("option, written, example", [("--chunk-points", "1.5", "100000, 100_000 or 1e5"),
                                                      ("--chunk-points", "1e-3", "100000, 100_000 or 1e5"),
                                                      ("--workers", "2.5", "4"), ("--workers", "NaN", "4")])
def test_a_count_that_is_no_whole_number_says_what_to_write(tmp_path, capsys, option, written, example):
    (tmp_path / "r.perf").write_text("report r { sweep a = 1 .. 3; show a }\n")
    with pytest.raises(SystemExit) as exited:
        cli.main(["eval", str(tmp_path / "r.perf"), option, written])
    assert exited.value.code == 2
    what = "points" if option == "--chunk-points" else "workers"
    assert f"error: argument {option}: '{written}' is not a whole number of {what}: write e.g. {example}\n" \
        in capsys.readouterr().err


@pytest.mark.parametrize("option, what", [("--chunk-points", "points"), ("--workers", "workers")])
@pytest.mark.parametrize("written", ["1e20", "1e19", "10000000000000000000", "1e999999999"])
def test_a_count_too_large_says_so_and_gives_the_largest_taken(tmp_path, capsys, option, what, written):
    # 1e20 is a whole number: it was told "not a whole number" (a newcomer's try). The largest taken: 19 digits.
    (tmp_path / "r.perf").write_text("report r { sweep a = 1 .. 3; show a }\n")
    with pytest.raises(SystemExit) as exited:
        cli.main(["eval", str(tmp_path / "r.perf"), option, written])
    assert exited.value.code == 2
    assert capsys.readouterr().err.endswith(f"error: argument {option}: '{written}' is too large a number of {what}: "
                                            f"at most {10 ** 19 - 1:,}\n")


def test_the_largest_chunk_size_taken_runs(tmp_path, capsys):
    (tmp_path / "r.perf").write_text("report r { sweep a = 1 .. 3; show a }\n")
    largest = str(10 ** 19 - 1)
    assert cli._parser().parse_args(["eval", "r.perf", "--chunk-points", largest]).chunk_points == 10 ** 19 - 1
    assert cli.main(["eval", str(tmp_path / "r.perf"), "-q", "--format", "csv", "--chunk-points", largest]) == 0
    assert capsys.readouterr().out.splitlines() == ["a", "1", "2", "3"]


@pytest.mark.parametrize("written", ["1e6", "1_000_000", "1.5e3", " 4 ", "1.5", "1e-3", "NaN", "inf", "x", "", "1e20",
                                     "9999999999999999999", "1e19", "-1e20", "-5", "0"])
def test_the_command_line_and_the_api_read_a_chunk_size_alike(tmp_path, capsys, written):
    # One reader (whole_numbers.whole_number) for --chunk-points and for chunk_points: the same numbers taken, the
    # same refused for the same reason (the two were copies, and both said "not a whole number" of 1e20)
    from perfdsl.chunks import checked_chunk_points

    (tmp_path / "r.perf").write_text("report r { sweep a = 1 .. 3; show a }\n")
    try:
        api, api_why = checked_chunk_points(written), None
    except UsageError as refused:
        api, api_why = None, str(refused).split("\n")[0].split(f"chunk_points={written!r}: ")[1]
    try:
        command_line = cli._parser().parse_args(["eval", "r.perf", f"--chunk-points={written}"]).chunk_points
        cli_why = None
    except SystemExit:
        cli_why = capsys.readouterr().err.splitlines()[-1].split(f"'{written}' is ")[1].split(": write e.g.")[0]
        command_line = None
    if command_line is not None and command_line < 1:       # taken as a number; its sign is refused in cmd_eval
        assert cli.main(["eval", str(tmp_path / "r.perf"), f"--chunk-points={written}"]) == 2
        cli_why = capsys.readouterr().err.split("\n")[0].split(f"--chunk-points {command_line}: ")[1]
        command_line = None
    assert (command_line, cli_why) == (api, api_why)


def test_one_reader_serves_the_command_line_and_the_api(tmp_path, capsys, monkeypatch):
    # chunks.checked_chunk_points and cli._whole_number were two copies of one Decimal reading: a bound changed in
    # one place now changes both (whole_numbers.LARGEST, here lowered to 10)
    from perfdsl.chunks import checked_chunk_points

    monkeypatch.setattr("perfdsl.whole_numbers.LARGEST", 10)
    assert checked_chunk_points("1e1") == 10
    assert cli._parser().parse_args(["eval", "r.perf", "--chunk-points", "1e1", "--workers", "10"]).workers == 10
    with pytest.raises(UsageError, match="chunk_points=11: too large a number of points: at most 10\n"):
        checked_chunk_points(11)
    for option, what in (("--chunk-points", "points"), ("--workers", "workers")):
        with pytest.raises(SystemExit):
            cli._parser().parse_args(["eval", "r.perf", option, "11"])
        assert capsys.readouterr().err.endswith(f": '11' is too large a number of {what}: at most 10\n")


@pytest.mark.parametrize("option, value, said, hint", [
    ("--chunk-points", "-5", "--chunk-points -5: a chunk holds at least one point",
     "give a whole number of points a chunk, 1 or more (e.g. 100000 or 1e5), or leave out --chunk-points for chunks "
     "of about 256 MiB of arrays"),
    ("--workers", "0", "--workers 0: a cluster has at least one worker",
     "give the number of worker processes of the local cluster, 1 or more (e.g. --workers 2), or leave out "
     "--workers to evaluate in this process")])
def test_a_count_below_one_says_what_to_give(tmp_path, capsys, option, value, said, hint):
    (tmp_path / "r.perf").write_text("report r { sweep a = 1 .. 3; show a }\n")
    assert cli.main(["eval", str(tmp_path / "r.perf"), option, value]) == 2
    assert capsys.readouterr().err.startswith(f"error[bad-option]: {said}\n  = help: {hint}\n")


def test_more_local_workers_than_four_a_cpu_are_refused_before_starting_any(tmp_path, capsys, monkeypatch):
    """--workers 100000 started that many processes (a local cluster has one a worker) before evaluating a point."""
    monkeypatch.setattr(cli, "_cpus", lambda: 2)
    (tmp_path / "r.perf").write_text("report r { sweep a = 1 .. 3; show a }\n")
    assert cli.main(["eval", str(tmp_path / "r.perf"), "--workers", str(4 * 2 + 1)]) == 2
    assert capsys.readouterr().err == (
        "error[bad-option]: --workers 9: this machine has 2 CPUs, and a local cluster starts one process a worker, "
        "each with its own copy of the program and of its chunk's arrays\n"
        f"  = help: give at most {4 * 2} (4 a CPU; one a CPU is the fastest), or --dask tcp://HOST:8786 for a "
        "cluster of more machines\n\n1 error\n")


def test_eval_help_says_what_q_hides_what_the_cluster_options_need_and_where_the_threshold_is(capsys):
    with pytest.raises(SystemExit):
        cli.main(["eval", "--help"])
    text = " ".join(capsys.readouterr().out.split())        # argparse wraps at the terminal's width
    assert "-q, --quiet no progress bars, and no notes: the size of a large output (above 1 GB), a --chunk-points " \
           "that cuts the sweep into very many chunks" in text
    assert text.count("needs the extra dask: pip install -e '.[dask]'") == 2          # --dask and --workers
    assert "at most 1 GiB, else chunks of about 256 MiB of arrays: README.md, 'Sweeps of any size'" in text
