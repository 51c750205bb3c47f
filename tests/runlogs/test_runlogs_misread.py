"""Logs that were misread in silence: a --format that does not fit, runs without a measured value, misspelt or
renamed columns, an output suffix ingest does not write, and messages that gave the wrong advice.

Each test reproduces what a newcomer saw (the log, the command) and pins what perfdsl says now.
"""

import csv
import io
import json

import pytest

from perfdsl.cli import main
from perfdsl.errors import QUOTE_WIDTH
from perfdsl.runlogs import detect_format, load_runs

OPTIMUM = "01_optimum_benchmark/derekliu35_llama3.1-8b_bf16_A100_bs1_seq64_new64.benchmark.json"
ZEUS = "05_energy/ap461719_llama2-7b_zeus_metrics_output.csv"
GLM5 = [f"02_vllm/inferencex_glm5-fp8_vllm_tp8_isl1024_osl128_conc{c}.json" for c in (4, 16, 64)]
FORMATS_LISTED = ("optimum-benchmark, vllm-latency, vllm-throughput, vllm-serve, mlenergy, published, codecarbon, "
                  "nvidia-smi, zeus-csv, perfdsl-csv, perfdsl-jsonl")


@pytest.fixture
def shared_data(shared_logs):
    measured = shared_logs.parent / "data" / "measured"
    if not measured.is_dir():
        pytest.skip(f"../shared/data/measured is absent ({measured})")
    return measured


def ingest(capsys, *argv) -> tuple[int, str]:
    status = main(["ingest", *map(str, argv)])
    return status, capsys.readouterr().err


# -- 1. a forced --format that does not fit the log ---------------------------------------------------------------

@pytest.mark.parametrize("name, reads", [
    ("mlenergy", "a JSON object with the keys 'Requests per second', 'Latency per request (s)', 'Energy per request "
                 "(J)', 'Model', 'Backend', 'GPU model', '#GPUs', 'Request rate'"),
    ("codecarbon", "JSON keys or CSV columns 'duration', 'energy_consumed', 'cpu_energy', 'gpu_energy', 'ram_energy', "
                   "'cpu_power', 'gpu_power', 'ram_power', 'gpu_model', 'gpu_count'"),
    ("vllm-latency", "a JSON object with the keys 'avg_latency' and 'percentiles'"),
])
def test_a_forced_json_format_that_finds_none_of_its_keys_is_an_error(shared_logs, tmp_path, capsys, name, reads):
    # Before: "1 run" holding only its source, exit 0, and the one warning "the runs name no model".
    log = shared_logs / OPTIMUM
    out = tmp_path / "runs.csv"
    assert ingest(capsys, log, "--format", name, "-o", out) == (1, (
        f"error[wrong-format]: read as --format {name}, its 1 run carries no measured value: this log holds none of "
        f"the fields {name} reads\n"
        f"  --> {log}\n"
        f"  = note: {name} reads {reads}\n"
        "  = note: the file is a JSON object with the keys config, report\n"
        f"  = help: detection reads it as optimum-benchmark: leave out --format {name} (or name --format "
        "optimum-benchmark)\n"
        "ingest: 0 runs from 1 log; nothing written; 1 error, 0 warnings\n"))
    assert not out.exists()


@pytest.mark.parametrize("name", ["zeus-csv", "perfdsl-csv", "perfdsl-jsonl"])
def test_a_forced_table_format_on_json_says_so_once_not_per_line(shared_logs, tmp_path, capsys, name):
    # Before: zeus-csv and perfdsl-csv gave 54 runs of JSON fragments ('"config": {'), exit 0; perfdsl-jsonl gave
    # one bad-json warning per line, 3,748 of them.
    log = shared_logs / OPTIMUM
    lines = log.read_text().splitlines()
    non_blank = [line for line in lines if line.strip()]
    status, err = ingest(capsys, log, "--format", name, "-o", tmp_path / "runs.csv")
    assert status == 1
    assert err.count("error[") == 1 and "warning[" not in err
    first = err.splitlines()[0]
    if name == "perfdsl-jsonl":
        # every non-blank line is a row that is not a JSON object: a warning each, summed up in one note
        assert first == ("error[wrong-format]: read as --format perfdsl-jsonl, no row of this log could be read: it "
                         "does not look like a perfdsl-jsonl log")
        assert f"  = note: the {len(non_blank):,} warnings of reading it as perfdsl-jsonl are not shown\n" in err
        assert len(non_blank) == 3_748
    else:
        # read as CSV, the header is line 1 ('{', one column); the rows of one field are runs of that one field,
        # the others (more fields than the header has) are skipped with a warning each
        rows = [row for row in csv.reader(io.StringIO(log.read_text(), newline="")) if any(c.strip() for c in row)]
        one_field = [row for row in rows[1:] if len(row) == 1]
        assert first == (f"error[wrong-format]: read as --format {name}, its {len(one_field)} runs carry no measured "
                         f"value: this log holds none of the fields {name} reads")
        # zeus-csv also says, at the header, that '{' is no Zeus column and that each of its 13 columns is missing
        at_header = 1 + 13 if name == "zeus-csv" else 0
        ragged = len(rows) - 1 - len(one_field)
        assert f"  = note: the {ragged + at_header:,} warnings of reading it as {name} are not shown\n" in err
        assert (len(one_field), ragged) == (54, 3_693)
    assert err.endswith("  = help: detection reads it as optimum-benchmark: leave out --format "
                        f"{name} (or name --format optimum-benchmark)\n"
                        "ingest: 0 runs from 1 log; nothing written; 1 error, 0 warnings\n")


def test_a_forced_format_that_fits_still_reads(shared_logs):
    result = load_runs(shared_logs / OPTIMUM, format="optimum-benchmark")
    assert (len(result.records), result.problems) == (1, [])


def test_bad_json_lines_are_one_warning_with_the_count(tmp_path, capsys):
    log = tmp_path / "runs.jsonl"
    log.write_text('{"model": "a", "runtime [ms]": 3}\n{"model": "b", \nnot json\n{"model": "c", "runtime [ms]": 4}\n')
    status, err = ingest(capsys, log, "-o", tmp_path / "out.csv")
    assert (status, err) == (0, (
        "warning[bad-json]: row 2 is not valid JSON; row 2 skipped (2 rows)\n"
        f"  --> {log}:2:16 (row 2)\n"
        "  |\n"
        '2 | {"model": "b", \n'
        "  |                ^\n"
        "  = note: line 2, column 16: Expecting property name enclosed in double quotes\n"
        "  = note: the same in 1 more row: 3\n"
        f"ingest: 2 runs from 1 log (perfdsl-jsonl); wrote {tmp_path / 'out.csv'}; 0 errors, 1 warning\n"))


# -- 2. runs without a measured value ---------------------------------------------------------------------------------

def test_a_published_csv_with_a_misspelt_column_is_read_as_published_and_refused(tmp_path, capsys, repo_root):
    # `unit` spelt `units`: detection took the file for perfdsl's CSV, whose runs were 14 identifying fields each
    # and no metric (exit 0), and `eval --measured` blamed the report's cells.
    sample = repo_root / "tests" / "fixtures" / "logs" / "published" / "sample.csv"
    header, *rows = sample.read_text().splitlines(keepends=True)
    log = tmp_path / "pub1.csv"
    log.write_text(header.replace(",unit,", ",units,") + "".join(rows))
    wrong = header.replace(",unit,", ",units,").rstrip("\n")
    assert detect_format(log) == "published"
    assert ingest(capsys, log, "-o", tmp_path / "out.csv") == (1, (
        "error[bad-header]: not the 14-column header of published measurements: missing 'unit'; unexpected 'units'\n"
        f"  --> {log}:1:1\n"
        "  |\n"
        f"1 | {wrong}\n"
        f"  | {'^' * len(wrong)}\n"
        "  = help: 'units': did you mean 'unit'?\n"
        "  = help: the header is: model,hf_id,gpu,n_gpus,parallelism,precision,framework,batch_or_concurrency,"
        "input_len,output_len,metric,value,unit,source\n"
        "ingest: 0 runs from 1 log; nothing written; 1 error, 0 warnings\n"))


def test_eval_refuses_the_misspelt_published_csv_at_the_log_not_at_the_report(shared_data, tmp_path, capsys, repo_root):
    text = (shared_data / "trtllm_v06_performance_md.csv").read_text()
    log = tmp_path / "pub1.csv"
    log.write_text(text.replace(",unit,", ",units,", 1))
    status = main(["eval", str(repo_root / "reports" / "published_trtllm.perf"), "--measured", str(log)])
    err = capsys.readouterr().err
    assert status == 1
    assert err.startswith("error[bad-header]: not the 14-column header of published measurements: missing 'unit'; "
                          f"unexpected 'units'\n  --> {log}:1:1\n")
    assert "missing-input" not in err


def test_a_log_whose_runs_carry_no_measured_value_is_an_error(tmp_path, capsys):
    # `runtime_ms` for `runtime [ms]`: every column identifies the run, so no run has anything to compare.
    log = tmp_path / "runs.csv"
    log.write_text("model,hardware,runtime_ms\norg/x,NVIDIA A10G,3.5\norg/y,NVIDIA A10G,4.5\n")
    assert ingest(capsys, log, "-o", tmp_path / "out.csv") == (1, (
        "error[no-metric]: no run of this log carries a measured value: 2 runs read, the first has identifying "
        "fields hardware, model, runtime_ms\n"
        f"  --> {log}\n"
        "  = help: 'runtime_ms' may be a measured value in ms: a column without a unit identifies the run; name it "
        "'runtime [ms]'\n"
        "  = help: perfdsl-csv reads a CSV header whose measured columns are written 'name [unit]', e.g. "
        "model,n_gpus,runtime [ms]\n"
        "ingest: 0 runs from 1 log; nothing written; 1 error, 0 warnings\n"))


def test_runs_without_a_measured_value_beside_others_are_left_out_with_a_warning(tmp_path, capsys):
    log = tmp_path / "runs.jsonl"
    log.write_text('{"model": "a", "runtime [ms]": 3}\n{"model": "b"}\n{"model": "c"}\n')
    out = tmp_path / "out.csv"
    assert ingest(capsys, log, "-o", out) == (0, (
        "warning[no-metric]: 2 runs of this log carry no measured value: left out (row 2, row 3)\n"
        f"  --> {log} (row 2)\n"
        "  = note: the first has identifying fields model\n"
        "  = help: a run is compared by its measured values: give each run one, or leave the rows out\n"
        f"ingest: 1 run from 1 log (perfdsl-jsonl); wrote {out}; 0 errors, 1 warning\n"))
    assert out.read_text() == f"model,runtime [ms],source\na,3.0,{log}:row 1\n"


# -- 3. Zeus columns the reader does not read --------------------------------------------------------------------------

@pytest.mark.parametrize("written, meant, lacks, unit", [
    ("Latency_s", "Latency_sec", "run_duration", "s"),
    ("Energy_kJ", "Energy_J", "energy", "J"),
])
def test_a_renamed_zeus_column_is_named_with_what_the_runs_lack(shared_logs, tmp_path, capsys, written, meant, lacks,
                                                                unit):
    # Before: 14 runs, 0 warnings, and no runtime (or energy) column in the output.
    header, *rows = (shared_logs / ZEUS).read_text().splitlines(keepends=True)
    log = tmp_path / "z.csv"
    log.write_text(header.replace(meant, written) + "".join(rows))
    out = tmp_path / "out.csv"
    status, err = ingest(capsys, log, "--format", "zeus-csv", "-o", out)
    line = header.replace(meant, written).rstrip("\n")
    col = line.index(written) + 1
    shown = line[:QUOTE_WIDTH] + "..."                # a long line is quoted as a window from its start
    assert len(line) > QUOTE_WIDTH and col < QUOTE_WIDTH // 2
    assert (status, err) == (0, (
        f"warning[unknown-column]: column '{written}' is not one the Zeus reader knows: not read; the runs have no "
        f"{lacks} (from '{meant}')\n"
        f"  --> {log}:1:{col} (column '{written}')\n"
        "  |\n"
        f"1 | {shown}\n"
        f"  | {' ' * (col - 1)}{'^' * len(written)}\n"
        f"  = help: did you mean '{meant}'? (its values are read in {unit}: rename the column to it only where they "
        f"are in {unit})\n"
        f"note[unused-column]: column 'Carbon_gCO2eq' is not read: carbon emissions (g CO2-eq) are no quantity "
        "perfdsl estimates or compares\n"
        f"  --> {log}:1:{line.index('Carbon_gCO2eq') + 1} (column 'Carbon_gCO2eq')\n"
        f"ingest: 14 runs from 1 log (zeus-csv); wrote {out}; 0 errors, 1 warning\n"))


def test_a_renamed_zeus_column_names_the_format_detection_nearly_found(shared_logs, tmp_path, capsys):
    """Without --format, a Zeus CSV whose Latency_sec was renamed matched no format's header: the error named none.
    It has 12 of Zeus's 13 columns (ZEUS_COLUMNS), at least half: the help names zeus-csv and the renamed column."""
    header, *rows = (shared_logs / ZEUS).read_text().splitlines(keepends=True)
    log = tmp_path / "z.csv"
    log.write_text(header.replace("Latency_sec", "Latency_s") + "".join(rows))
    status, err = ingest(capsys, log, "-o", tmp_path / "out.csv")
    assert status == 1
    assert err.splitlines()[2] == (
        "  = help: it looks like a zeus-csv log that lacks the column 'Latency_sec' (is 'Latency_s' it, renamed?): "
        "name the column as zeus-csv writes it, or name the format zeus-csv")


def test_a_missing_zeus_column_is_named(tmp_path, capsys):
    log = tmp_path / "z.csv"
    log.write_text("Model,Batch_Size,Latency_sec,Energy_J\norg/x,4,69.8,5001.8\n")
    status, err = ingest(capsys, log, "--format", "zeus-csv", "-o", tmp_path / "out.csv")
    # in the order Zeus writes them, with the field or metric each gives
    missing = {"Quantization": "precision", "Context_Window": "context_window", "Dataset": "dataset",
               "Memory_MB": "memory", "Power_W": "power", "Input_Tokens": "input_tokens",
               "Output_Tokens": "output_tokens", "Energy_per_InputToken": "energy_per_input_token",
               "Energy_per_OutputToken": "energy_per_output_token"}
    assert status == 0
    assert [line for line in err.splitlines() if line.startswith("warning[")] == [
        f"warning[missing-column]: the header has no column '{name}': the runs have no {lacks} (from '{name}')"
        for name, lacks in missing.items()]
    assert err.endswith(f"0 errors, {len(missing)} warnings\n")


def test_the_shared_zeus_log_says_its_carbon_column_is_not_read(shared_logs):
    result = load_runs(shared_logs / ZEUS)
    assert [(p.severity, p.code, p.message) for p in result.problems] == [
        ("note", "unused-column", "column 'Carbon_gCO2eq' is not read: carbon emissions (g CO2-eq) are no quantity "
                                  "perfdsl estimates or compares")]
    assert len(result.records) == 14


# -- 4. the output's suffix -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("output, hints", [
    ("runs.json", ["did you mean '.jsonl'?", "write -o runs.csv or -o runs.jsonl"]),
    ("runs.xlsx", ["write -o runs.csv or -o runs.jsonl"]),
    ("runs", ["write -o runs.csv or -o runs.jsonl"]),
])
def test_an_output_suffix_ingest_does_not_write_is_refused_before_a_log_is_read(tmp_path, capsys, monkeypatch,
                                                                                output, hints):
    # Before: CSV text under runs.json or runs.xlsx, exit 0. The log named does not exist: the output is refused
    # first, as eval -o x.foo is, so nothing is read.
    monkeypatch.chdir(tmp_path)
    assert ingest(capsys, "missing.csv", "-o", output) == (2, (
        f"error[bad-output]: cannot tell the format of '{output}' from its suffix: ingest writes .csv (perfdsl's "
        "CSV) or .jsonl (JSON Lines)\n" + "".join(f"  = help: {hint}\n" for hint in hints)))
    assert not (tmp_path / output).exists()


def test_the_suffix_chooses_the_writer_in_any_case(repo_root, tmp_path, capsys):
    seed = repo_root / "data" / "seed_runs_a5000.csv"
    assert ingest(capsys, seed, "-o", tmp_path / "runs.JSONL")[0] == 0
    assert json.loads((tmp_path / "runs.JSONL").read_text().splitlines()[0])["model"]
    assert ingest(capsys, seed, "-o", tmp_path / "runs.CSV")[0] == 0
    assert (tmp_path / "runs.CSV").read_text().startswith("model,")


# -- 5. messages ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key, meant, value", [("colums", "columns", ["timestamp", "power.draw"]),
                                               ("windw", "window", [1, 2])])
def test_a_misspelt_control_key_gets_did_you_mean(tmp_path, capsys, key, meant, value):
    log = tmp_path / "runs.csv"
    log.write_text("model,runtime [ms]\norg/x,3\n")
    side = tmp_path / "side.json"
    text = json.dumps({key: value})
    side.write_text(text)
    column = len(f'{{"{key}": ') + 1                   # located at the value (json_spans), caret under all of it
    assert ingest(capsys, log, "--meta", side, "-o", tmp_path / "out.csv") == (1, (
        f"error[bad-side]: cannot use {value!r} for '{key}': '{key}' must be text or a number, and '{key}' is no "
        "control key\n"
        f"  --> {side}:1:{column} (value of '{key}')\n"
        "  |\n"
        f"1 | {text}\n"
        f"  | {' ' * (column - 1)}{'^' * len(json.dumps(value))}\n"
        f"  = help: did you mean '{meant}'? (control keys: columns, utc_offset, window)\n"))


@pytest.mark.parametrize("text, line, last", [
    ('{\n  "date": "2026', 2, '  "date": "2026'),          # cut inside a string
    ('{"a": 1, "b": tr', 1, '{"a": 1, "b": tr'),           # cut inside true
])
def test_a_log_cut_inside_a_value_looks_truncated(tmp_path, capsys, text, line, last):
    # A cut inside a string was "starts like JSON but is neither a JSON document nor JSON Lines" (unknown-format).
    log = tmp_path / "cut.json"
    log.write_text(text)
    assert ingest(capsys, log, "-o", tmp_path / "out.csv") == (1, (
        f"error[bad-json]: the file ends early, at line {line}, before its JSON closes (about 1 bracket still "
        "open): it looks truncated\n"
        f"  --> {log}:{line}:{len(last) + 1}\n"
        "  |\n"
        f"{line} | {last}\n"
        f"  | {' ' * len(last)}^\n"
        "  = help: the log was cut short (copied while the run was still writing it, or only partly downloaded): "
        "take the whole file\n"
        "ingest: 0 runs from 1 log; nothing written; 1 error, 0 warnings\n"))


def test_the_shared_mlenergy_log_cut_inside_a_string_looks_truncated(shared_logs, tmp_path):
    whole = next((shared_logs / "05_energy").rglob("*.json")).read_bytes()
    log = tmp_path / "cut.json"
    log.write_bytes(whole[:200])
    assert whole[:200].decode().rstrip()[-1] != '"'          # the cut is inside a string
    result = load_runs(log)
    assert [(p.code, p.message.split(":")[-1]) for p in result.problems] == [("bad-json", " it looks truncated")]


def test_unknown_format_says_what_works_in_eval_and_in_ingest(tmp_path, capsys, repo_root):
    log = tmp_path / "notes.csv"
    log.write_text("when,what\nmonday,ran things\n")
    status, err = ingest(capsys, log, "-o", tmp_path / "out.csv")
    assert status == 1
    assert f"  = help: name the format with --format NAME; formats: {FORMATS_LISTED}\n" in err
    # In eval, calibrate and plot, --format is the output's format: the advice is to ingest first.
    assert main(["eval", str(repo_root / "reports" / "published_trtllm.perf"), "--measured", str(log)]) == 1
    assert capsys.readouterr().err == (
        "error[unknown-format]: cannot tell which format this log is: a header none of the formats has (when, what)\n"
        f"  --> {log}\n"
        "  = help: name its format where it is converted: perfdsl ingest LOG --format NAME -o runs.csv, then read "
        f"runs.csv (--measured runs.csv, or the report's `measured`); formats: {FORMATS_LISTED}\n"
        "\n"
        "1 error\n")


# -- 6. vLLM's --append-result: one result per line --------------------------------------------------------------------

def test_append_result_json_lines_are_vllm_serve_runs(fixture_logs, tmp_path, capsys):
    # benchmark_serving.py --append-result appends json.dump(result) to the file, a "\n" before every result but the
    # first. It was read as perfdsl-jsonl: the statistics became identifying fields.
    log = fixture_logs / "vllm_serve_append_result.jsonl"
    assert detect_format(log) == "vllm-serve"
    result = load_runs(log)
    assert result.problems == []
    assert [r.source for r in result.records] == [f"{log}:line {n}" for n in (1, 2, 3)]
    assert [r.identity["concurrency"] for r in result.records] == [4, 16, 64]
    assert [r.identity["num_requests"] for r in result.records] == [40, 160, 640]      # 10 prompts per user
    assert result.records[0].metrics["ttft_median"].value == 0.26499967742711306      # s, as written


def test_the_append_result_fixture_is_the_three_shared_results(shared_logs, fixture_logs):
    # The fixture holds the three InferenceX GLM-5 results (../shared/logs/PROVENANCE.md), one per line; each line
    # reads as the run of its own file, but for the source.
    log = fixture_logs / "vllm_serve_append_result.jsonl"
    lines = log.read_text().split("\n")
    assert [json.loads(line) for line in lines] == [json.loads((shared_logs / name).read_text()) for name in GLM5]
    appended = load_runs(log).records
    alone = [load_runs(shared_logs / name).records[0] for name in GLM5]
    assert [(r.identity, {k: m.value for k, m in r.metrics.items()}) for r in appended] == \
        [(r.identity, {k: m.value for k, m in r.metrics.items()}) for r in alone]


def test_a_bad_line_of_append_result_output_is_skipped_with_a_warning(fixture_logs, tmp_path):
    lines = (fixture_logs / "vllm_serve_append_result.jsonl").read_text().split("\n")
    failed = json.loads(lines[1]) | {"completed": 0}
    log = tmp_path / "serve.jsonl"
    log.write_text("\n".join([lines[0], json.dumps(failed), lines[2][:50]]))
    result = load_runs(log)
    assert [r.source for r in result.records] == [f"{log}:line 1"]
    assert [(p.severity, p.code, p.message) for p in result.problems] == [
        ("warning", "no-completed-requests", "no request completed (0 of 160): its latency and throughput figures "
                                             "are placeholders, not measurements, so the run is not used; line 2 "
                                             "skipped"),
        ("warning", "bad-json", "line 3 is not valid JSON: Unterminated string starting at; line 3 skipped")]
