"""The warnings (and a branch's missing-input error) of a sweep evaluated chunk by chunk say what the whole
evaluation says; its warnings count the whole sweep's points, as the whole evaluation's do:
each chunk's broken constraint or floating-point trouble carries its count (errors.Tally) and
streaming.keep_first adds them up. `--strict` stops a streamed run at the first chunk that warns, writing nothing."""

from __future__ import annotations

import pytest

import perfdsl
from perfdsl.cli import main
from perfdsl.errors import points_text
from perfdsl.streaming import evaluate_chunks, keep_first

# Trouble at batch 5, a point the constraint keeps, and at batch 0, one it leaves out (not warned of: the
# constraint's warning says why those points are not in the results).
SPEC = """\
costmodel c {
    sweep batch = 0 .. 9
    sweep k = [1, 2, 3]
    per = k / (batch - 5)
    inverse = 1 / (batch - 5)
    left_out = 1 / batch
    require batch >= 2, "batch is at least 2"
}
report r {
    costmodel = c
    show c.per, c.inverse, c.left_out
}
"""


@pytest.fixture()
def spec(tmp_path):
    path = tmp_path / "r.perf"
    path.write_text(SPEC)
    return path


def _counts(diagnostics) -> dict[str, str]:
    """Each warning's counting text: a constraint's message, a floating-point warning's first note."""
    return {f"{d.code} {d.path}": d.message if d.code == "constraint" else d.notes[0] for d in diagnostics}


def test_the_whole_evaluation_counts_every_point_a_cell_that_does_not_vary_along_an_axis_affects(spec):
    warnings = perfdsl.load(spec).evaluate().warnings
    # 10 batches x 3 k = 30 points; batch 0 and 1 break the constraint: 2 x 3 = 6 points.
    # per = k / 0 at batch 5: 3 points; inverse = 1 / 0 varies along batch only, and still affects 1 x 3 points;
    # left_out = 1 / 0 at batch 0 only, which the constraint leaves out: no warning.
    assert _counts(warnings) == {
        "division-by-zero costmodel.c.per": "3 of 30 sweep points are affected",
        "division-by-zero costmodel.c.inverse": "3 of 30 sweep points are affected",
        "constraint costmodel.c": "batch is at least 2: 6 of 30 sweep points break it, left out of the results",
    }


def test_under_mark_the_points_a_constraint_breaks_keep_their_rows_and_their_warnings(tmp_path):
    # invalid_points = "mark": batch 0 and 1 are in the results (valid = false), so left_out's 1 / 0 there is said,
    # and per's trouble counts its 3 points at batch 5 as before.
    path = tmp_path / "r.perf"
    path.write_text(SPEC.replace("    costmodel = c\n", '    costmodel = c\n    invalid_points = "mark"\n'))
    warnings = perfdsl.load(path).evaluate().warnings
    assert _counts(warnings) == {
        "division-by-zero costmodel.c.per": "3 of 30 sweep points are affected",
        "division-by-zero costmodel.c.inverse": "3 of 30 sweep points are affected",
        "division-by-zero costmodel.c.left_out": "3 of 30 sweep points are affected",
        "constraint costmodel.c": "batch is at least 2: 6 of 30 sweep points break it, marked: valid = false",
    }


@pytest.mark.parametrize("mark", [False, True])
@pytest.mark.parametrize("chunk_points", [1, 3, 6, 9])
def test_chunks_add_up_to_the_whole_evaluations_counts(spec, chunk_points, mark):
    # A chunk whose points the constraint all leaves out (batch 0 and 1) warns of no trouble there, as the whole
    # evaluation does; under "mark" every chunk does.
    if mark:
        spec.write_text(SPEC.replace("    costmodel = c\n", '    costmodel = c\n    invalid_points = "mark"\n'))
    program = perfdsl.load(spec)
    whole = _counts(program.evaluate().warnings)
    merged: dict = {}
    for _, chunk in evaluate_chunks(program, chunk_points=chunk_points):
        keep_first(merged, chunk.warnings)
    assert _counts(merged.values()) == whole


def test_points_text_says_every_point_and_the_only_point_in_words():
    assert points_text(6, 30, "break it") == "6 of 30 sweep points break it"
    assert points_text(30, 30, "break it") == "every sweep point (30) breaks it"
    assert points_text(1, 1, "break it") == "the only sweep point breaks it"
    assert points_text(1, 1, "are affected") == "the only sweep point is affected"
    assert points_text(1_234_567, 9_876_543, "are affected") == "1,234,567 of 9,876,543 sweep points are affected"


def test_strict_stops_a_streamed_run_at_the_first_chunk_that_warns_and_writes_nothing(spec, tmp_path, capsys):
    out = tmp_path / "out.csv"
    status = main(["eval", str(spec), "--chunk-points", "6", "--strict", "-o", str(out)])
    err = capsys.readouterr().err
    assert status == 1
    assert not out.exists()
    assert err.endswith(f"--strict: warnings are errors ({out} not written); stopped at the first chunk that warns, "
                        "so the counts above cover its points and those before it, not the whole sweep\n")


def test_without_strict_the_streamed_run_writes_every_valid_row_and_the_whole_counts(spec, tmp_path, capsys):
    out = tmp_path / "out.csv"
    assert main(["eval", str(spec), "--chunk-points", "6", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "batch is at least 2: 6 of 30 sweep points break it, left out of the results" in err
    assert len(out.read_text().splitlines()) == 1 + 24          # a header and the 8 x 3 points that meet it


@pytest.mark.parametrize("extra", [[], ["--format", "json"]])
def test_a_chunked_eval_with_overrides_prepares_the_program_once(spec, monkeypatch, capsys, extra):
    """`perfdsl eval --set ... --chunk-points N`: one program with the overrides, linked and checked once (it was
    built and prepared three times: to choose chunking, to check the output, to evaluate)."""
    from perfdsl import program as program_module

    prepared = []
    check_report = program_module.Program._check_report

    def counted(self, ctx):
        prepared.append(ctx.report.name)
        return check_report(self, ctx)

    monkeypatch.setattr(program_module.Program, "_check_report", counted)
    assert main(["eval", str(spec), "--set", "k=[1, 2]", "--chunk-points", "6", "--quiet", *extra]) == 0
    assert prepared == ["r"]
    assert capsys.readouterr().out.count("c.per") == (1 if not extra else 16)    # 10 batches x 2 k, less batch 0 and 1: 16 rows


# Cells and a constraint that vary along k only, while chunks of 3 points pin batch (one batch, every k, a chunk).
ALONG_K = """\
costmodel c {
    sweep batch = 0 .. 9
    sweep k = [1, 2, 3]
    per = k / batch
    spread = 1 / (k - 1)
    require k <= 2, "k is at most 2"
}
report r {
    costmodel = c
    show c.per, c.spread
}
"""


def _texts(diagnostics) -> dict[str, tuple]:
    return {f"{d.code} {d.path}": (d.message, tuple(d.notes), tuple(d.hints)) for d in diagnostics}


@pytest.mark.parametrize("chunk_points", [1, 3, 6, 15])
def test_chunked_warnings_say_what_the_whole_evaluations_say(tmp_path, chunk_points):
    """The same point named the same way: a chunk's axes cut to one position are named only where the whole
    evaluation names them, where the cell or the constraint varies along them ("at k=1", not "at batch=0, k=1")."""
    path = tmp_path / "r.perf"
    path.write_text(ALONG_K)
    program = perfdsl.load(path)
    whole = _texts(program.evaluate().warnings)
    assert whole["division-by-zero costmodel.c.per"][0] == "'c.per' divides by zero at batch=0, k=1"
    assert whole["division-by-zero costmodel.c.spread"][0] == "'c.spread' divides by zero at k=1"
    assert whole["constraint costmodel.c"][1] == ("at k=3",)
    merged: dict = {}
    for _, chunk in evaluate_chunks(program, chunk_points=chunk_points):
        keep_first(merged, chunk.warnings)
    assert _texts(merged.values()) == whole


@pytest.mark.parametrize("chunk_points", [1, 3, 6, 15])
def test_a_chunked_constraints_note_quotes_the_whole_evaluations_points(tmp_path, chunk_points):
    """A constraint broken at batch 0 to 3: the whole evaluation quotes the first three batches and "..."; chunks of
    fewer batches quote theirs, and the merge quotes the same three."""
    path = tmp_path / "r.perf"
    path.write_text(SPEC.replace("require batch >= 2, \"batch is at least 2\"", "require batch >= 4, \"b\""))
    program = perfdsl.load(path)
    whole = _texts(program.evaluate().warnings)
    assert whole["constraint costmodel.c"][1] == ("at batch=0; batch=1; batch=2; ...",)
    merged: dict = {}
    for _, chunk in evaluate_chunks(program, chunk_points=chunk_points):
        keep_first(merged, chunk.warnings)
    assert _texts(merged.values()) == whole


# A declared input that only one branch of `if` reads: the first point taking the branch is named in the error.
BRANCH = """\
hardware base {
    peak = 100 TFLOP/s
    peak_int8: FLOP/s
}
hardware a100 extends base { mem_bw = 2 TB/s }
hardware h100 extends base { mem_bw = 3 TB/s }
workload w {
    sweep batch = [0, 1, 2, 3]
    sweep fmt = ["fp16", "int8"]
}
costmodel c {
    rate = if(CONDITION, hardware.peak_int8, hardware.peak)
}
report r { sweep hardware = [a100, h100]; workload = w; show c.rate }
"""


@pytest.mark.parametrize(("condition", "point"), [
    ('workload.fmt == "int8"', "fmt=int8"),
    ('workload.fmt == "int8" and workload.batch >= 2', "batch=2, fmt=int8"),
])
@pytest.mark.parametrize("chunk_points", [1, 2, 4, 8])
def test_a_chunked_missing_input_error_is_the_whole_evaluations(tmp_path, capsys, condition, point, chunk_points):
    """The error names the point as the whole evaluation does: a chunk's pinned axes (hardware, batch) only where
    the `if`'s condition varies along them ("at fmt=int8", not "at hardware=a100, batch=0, fmt=int8")."""
    path = tmp_path / "branch.perf"
    path.write_text(BRANCH.replace("CONDITION", condition))
    assert main(["eval", str(path), "-o", str(tmp_path / "whole.csv"), "--quiet"]) == 1
    whole = capsys.readouterr().err
    assert whole.startswith("error[missing-input]: hardware 'a100' (which extends 'base') does not give its "
                            f"declared input 'peak_int8' (FLOP/s), which the sweep point {point} needs\n")
    assert main(["eval", str(path), "-o", str(tmp_path / "chunked.csv"), "--quiet",
                 "--chunk-points", str(chunk_points)]) == 1
    assert capsys.readouterr().err == whole


def _branch_spec(tmp_path, condition: str, h100: str = "", costmodel: str = "", show: str = "c.rate"):
    text = BRANCH.replace("CONDITION", condition).replace("mem_bw = 3 TB/s }", f"mem_bw = 3 TB/s{h100} }}")
    text = text.replace("costmodel c {\n", "costmodel c {\n" + costmodel).replace("show c.rate", f"show {show}")
    path = tmp_path / "branch.perf"
    path.write_text(text)
    return path


@pytest.mark.parametrize("chunk_points", [None, 1, 4])
def test_a_gpu_whose_points_do_not_take_the_branch_need_not_give_its_input(tmp_path, capsys, chunk_points):
    """Only h100 (3 TB/s) takes the branch, and it gives peak_int8: a100's missing one is not needed. The whole
    evaluation refused it ("hardware 'a100' ... which the sweep point hardware=h100 needs") where chunks of one
    GPU evaluated it."""
    path = _branch_spec(tmp_path, "hardware.mem_bw > 2.5 TB/s", h100="; peak_int8 = 200 TFLOP/s")
    out = tmp_path / "out.csv"
    chunks = ["--chunk-points", str(chunk_points)] if chunk_points else []
    assert main(["eval", str(path), "-o", str(out), "--quiet", *chunks]) == 0, capsys.readouterr().err
    rows = out.read_text().splitlines()
    assert rows[0] == "hardware,batch,fmt,c.rate [FLOP/s]"
    # a100 takes peak (100 TFLOP/s) everywhere, h100 peak_int8 (200 TFLOP/s): 2 GPUs x 4 batches x 2 formats
    assert sorted(rows[1:]) == sorted(f"{gpu},{batch},{fmt},{rate}" for gpu, rate in
                                      (("a100", "100000000000000.0"), ("h100", "200000000000000.0"))
                                      for batch in range(4) for fmt in ("fp16", "int8"))


@pytest.mark.parametrize("chunk_points", [None, 1, 4])
def test_the_gpu_whose_points_take_the_branch_is_the_one_named(tmp_path, capsys, chunk_points):
    path = _branch_spec(tmp_path, "hardware.mem_bw > 2.5 TB/s")
    chunks = ["--chunk-points", str(chunk_points)] if chunk_points else []
    assert main(["eval", str(path), "-o", str(tmp_path / "out.csv"), "--quiet", *chunks]) == 1
    assert capsys.readouterr().err.startswith(
        "error[missing-input]: hardware 'h100' (which extends 'base') does not give its declared input 'peak_int8' "
        "(FLOP/s), which the sweep point hardware=h100 needs\n")


@pytest.mark.parametrize("show", ["c.a, c.b", "c.b, c.a"])
def test_a_cell_read_in_a_branch_no_gpu_point_took_is_not_kept_for_a_branch_that_needs_it(tmp_path, capsys, show):
    """int8 is read by two branches: a's (h100 only) and b's (every GPU at int8). a100's value of int8 in a's
    branch stands in as NaN; kept (memo, constants), b would have shown NaN at a100's int8 points, not the error."""
    path = _branch_spec(tmp_path, "true", h100="; peak_int8 = 200 TFLOP/s", show=show,
                        costmodel="    int8 = hardware.peak_int8 * 1\n"
                                  "    a = if(hardware.mem_bw > 2.5 TB/s, int8, hardware.peak)\n"
                                  "    b = if(workload.fmt == \"int8\", int8, hardware.peak)\n")
    assert main(["eval", str(path), "--quiet"]) == 1
    assert capsys.readouterr().err.startswith(
        "error[missing-input]: hardware 'a100' (which extends 'base') does not give its declared input 'peak_int8' "
        "(FLOP/s), which the sweep point fmt=int8 needs\n")


# -- every output of a chunked run counts the whole sweep -----------------------------------------------------------

@pytest.fixture()
def along_k(tmp_path):
    path = tmp_path / "k.perf"
    path.write_text(ALONG_K)
    return path


def _warnings_block(err: str) -> str:
    """stderr from its first warning on, without the `wrote FILE` line of a run with -o."""
    block = err[err.index("warning["):]
    return block[:block.index("wrote ")] if "wrote " in block else block


@pytest.mark.parametrize("output", ["table", "csv", "file.csv", "file.jsonl"])
def test_every_output_of_a_chunked_run_says_the_whole_sweeps_counts(along_k, tmp_path, capsys, output):
    """Chunks of 3 points (one batch, every k): the first chunk holds 1 of the constraint's 10 points and 1 of
    spread's 10. A table on stdout said the first chunk's counts ("1 of 30 sweep points break it"): it showed one
    chunk's rows and never evaluated the others; a CSV on stdout or a file counted every chunk."""
    assert main(["eval", str(along_k), "--quiet"] + (["--format", "csv"] if output == "csv" else [])) == 0
    whole = capsys.readouterr()
    # k = 3 breaks the constraint at every batch: 10 batches x 1 k of 10 batches x 3 k; spread = 1 / (k - 1) divides
    # by zero at k = 1, which the constraint keeps: 10 x 1 points; per = k / batch at batch 0, k = 1 and 2: 1 x 2.
    assert f"k is at most 2: {10 * 1} of {10 * 3} sweep points break it, left out of the results\n" in whole.err
    assert f"= note: {10 * 1} of {10 * 3} sweep points are affected\n  = in: costmodel.c.spread" in whole.err
    assert f"= note: {1 * 2} of {10 * 3} sweep points are affected\n  = in: costmodel.c.per" in whole.err
    assert "= note: at k=3\n" in whole.err

    chunked = ["eval", str(along_k), "--quiet", "--chunk-points", "3"]
    if output == "csv":
        chunked += ["--format", "csv"]
    elif output.startswith("file"):
        out = tmp_path / output
        chunked += ["-o", str(out)]
    assert main(chunked) == 0
    captured = capsys.readouterr()
    assert _warnings_block(captured.err) == whole.err
    if output.startswith("file"):
        assert captured.err.endswith(f"wrote {out} ({10 * 2} rows)\n")
    else:
        # the rows of every chunk: the table joins the chunks' rows up to its 200, as the whole table shows them
        assert captured.out == whole.out
    if output == "table":      # every row the `where` keeps is shown: no "first 20 rows of 30 sweep points"
        assert "the table shows" not in captured.err


# 100 batches x 3 k = 300 points, chunks of 30 (10 batches): the constraint breaks in the last chunk only, after the
# table's 200 rows are known.
LATE = """\
costmodel c {
    sweep batch = 1 .. 100
    sweep k = [1, 2, 3]
    per = k * batch
    require batch <= 90, "batch is at most 90"
}
report r {
    costmodel = c
    show c.per
}
"""


@pytest.fixture()
def late(tmp_path):
    path = tmp_path / "late.perf"
    path.write_text(LATE)
    return path


def test_a_table_written_before_the_last_chunk_still_counts_it(late, capsys):
    assert main(["eval", str(late), "--quiet", "--chunk-points", "30"]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 2 + 200               # a header, a rule and the first 200 rows
    # batches 91 .. 100 break it: 10 batches x 3 k
    assert (f"batch is at most 90: {10 * 3} of {100 * 3} sweep points break it, left out of the results\n"
            in captured.err)


def test_strict_writes_no_table_where_a_later_chunk_warns(late, capsys):
    """The table's rows are known after the first chunks; under --strict it waits for the last one."""
    assert main(["eval", str(late), "--quiet", "--chunk-points", "30", "--strict"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.endswith("--strict: warnings are errors; stopped at the first chunk that warns, so the "
                                 "counts above cover its points and those before it, not the whole sweep\n")


def test_strict_says_which_rows_a_stream_to_stdout_wrote_before_the_chunk_that_warns(late, capsys):
    assert main(["eval", str(late), "--quiet", "--chunk-points", "30", "--strict", "--format", "csv"]) == 1
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 1 + 90 * 3               # a header and the 9 chunks before the last
    assert captured.err.endswith(f"--strict: warnings are errors (the {90 * 3} rows of the chunks before it are "
                                 "written); stopped at the first chunk that warns, so the counts above cover its "
                                 "points and those before it, not the whole sweep\n")
