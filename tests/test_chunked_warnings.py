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
