"""Sweeps of any size (issue 10): chunked evaluation equals the whole evaluation exactly, questions answered chunk
by chunk equal the answers over the whole sweep, outputs stream chunk by chunk, and sizes are predicted and refused
up front with exact texts."""

from __future__ import annotations

import io
import math
import os
import re
from pathlib import Path

import numpy as np
import pytest

import perfdsl
from perfdsl import cli
from perfdsl.chunks import WHOLE_EVALUATION_BYTES, plan_chunks
from perfdsl.errors import PerfError, UsageError
from perfdsl.streaming import answer_in_chunks, evaluate_chunks, keep_first

REPO = Path(__file__).resolve().parent.parent
CAPACITY = REPO / "reports" / "capacity_planning.perf"
QUESTIONS = REPO / "reports" / "capacity_questions.perf"
# A quarter of the capacity-planning sweep (30 models x 13 GPUs x 9 x 9 x 7 x 1 tp): 221,130 points.
SMALLER = {"tp": "[1, 4]"}


def same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal value for value: NaN equals NaN, and floats equal to the last bit."""
    if a.dtype.kind == "f" and b.dtype.kind == "f":
        return a.shape == b.shape and np.array_equal(a.view(np.int64), b.view(np.int64))
    return a.shape == b.shape and a.tolist() == b.tolist()


def load_text(folder: Path, name: str, text: str):
    (folder / name).write_text(text)
    return perfdsl.load(name)


# -- planning ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, max_points", [((30, 13, 9, 9, 7, 4), 50_000), ((5, 7), 3), ((5, 7), 35),
                                               ((5, 7), 1), ((1000,), 64), ((2, 3, 4), 5), ((), 10)])
def test_chunks_are_consecutive_runs_of_rows_that_cover_the_sweep(shape, max_points):
    chunks = plan_chunks(shape, max_points)
    offset = 0
    for chunk in chunks:
        assert chunk.offset == offset
        assert 1 <= chunk.n_points <= max(max_points, 1)
        # the chunk's points, read from the whole sweep's row order, are offset .. offset + n_points
        rows = np.arange(math.prod(shape)).reshape(shape)[tuple(
            slice(w, w + 1) if isinstance(w, int) else w for w in chunk.where)].reshape(-1)
        assert rows.tolist() == list(range(offset, offset + chunk.n_points))
        offset += chunk.n_points
    assert offset == math.prod(shape)


def test_a_chunk_holds_at_least_one_point():
    with pytest.raises(ValueError, match="a chunk holds at least one point, not 0"):
        plan_chunks((3,), 0)


# -- chunked and whole evaluation agree exactly -----------------------------------------------------------------

@pytest.fixture(scope="module")
def capacity():
    program = perfdsl.load(CAPACITY).with_overrides(SMALLER)
    return program, program.evaluate()


@pytest.mark.parametrize("chunk_points", [7_777, 60_000, 10_000_000])
def test_chunked_evaluation_equals_the_whole_evaluation_exactly(capacity, chunk_points):
    program, whole = capacity
    keys, columns = whole.table()
    parts = [result.table() for _, result in evaluate_chunks(program, chunk_points=chunk_points)]
    assert all(part_keys == keys for part_keys, _ in parts)
    for i, key in enumerate(keys):
        assert same(np.concatenate([part[i] for _, part in parts]), columns[i]), key


def test_chunked_evaluation_keeps_the_where_rows_in_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = "report r { sweep a = 1 .. 50; sweep b = 1 .. 40; q = a * b; where q > 1900; show q }"
    program = load_text(tmp_path, "r.perf", text)
    whole = program.evaluate()
    rows = np.concatenate([result.column("q") for _, result in evaluate_chunks(program, chunk_points=37)])
    assert same(rows, whole.column("q"))
    assert rows.tolist() == [a * b for a in range(1, 51) for b in range(1, 41) if a * b > 1900]


def test_warnings_of_a_chunked_evaluation_name_the_same_cells(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = "report r { sweep a = 0 .. 9; sweep b = 1 .. 5; q = b / a; show q }"
    program = load_text(tmp_path, "r.perf", text)
    whole = program.evaluate()
    chunked = [d for _, result in evaluate_chunks(program, chunk_points=5) for d in result.warnings]
    assert [d.code for d in whole.warnings] == [chunked[0].code] == ["division-by-zero"]
    assert chunked[0].message == whole.warnings[0].message


from test_constraints import GRID  # noqa: E402  (gpus [1..4] x tp [1, 2], two constraints, OPTION to fill)


@pytest.mark.parametrize("option", ["", 'invalid_points = "mark"'])
def test_chunks_leave_out_or_mark_the_points_that_break_a_constraint_as_the_whole_does(option):
    program = perfdsl.load([], texts={"c.perf": GRID.replace("OPTION", option)})
    keys, columns = program.evaluate().table()
    parts = [result.table() for _, result in evaluate_chunks(program, chunk_points=3)]
    assert all(part_keys == keys for part_keys, _ in parts)
    for i, key in enumerate(keys):
        assert same(np.concatenate([part[i] for _, part in parts]), columns[i]), key


# -- questions answered chunk by chunk equal the answers over the whole sweep -----------------------------------

@pytest.mark.parametrize("report", ["cheapest_setup", "largest_batch", "latency_throughput"])
@pytest.mark.parametrize("chunk_points", [20_000, 300_000])
def test_a_question_answered_chunk_by_chunk_equals_the_whole_answer(report, chunk_points):
    program = perfdsl.load(QUESTIONS)
    whole = program.evaluate(report)
    answered = answer_in_chunks(program, report, chunk_points=chunk_points)
    keys, columns = whole.table()
    assert answered.keys == keys
    assert answered.n_rows == whole.n_rows
    for key, mine, theirs in zip(keys, answered.columns, columns):
        assert same(mine, theirs), key
    assert [d.render() for d in answered.warnings] == [d.render() for d in whole.warnings]
    assert answered.rows.summary == whole.rows.summary
    assert answered.records() == whole.records()
    # The SI values too, to the last bit: ttft and tpot are shown in ms, and a display value times 1e-3 is not
    # always the SI value (0.08569558399999998 where the cell is 0.08569558399999999).
    for column in whole.columns:
        if column.axis is None:
            assert same(answered.column(column.key), whole.column(column.key)), column.key
    if report != "latency_throughput":     # a pareto front is no grid over its groups
        xarray = pytest.importorskip("xarray")
        xarray.testing.assert_identical(answered.to_xarray(), whole.to_xarray(answer=True))
        xarray.testing.assert_identical(answered.to_xarray(display=True), whole.to_xarray(answer=True, display=True))


MARKED_QUESTION = """
report r {
    invalid_points = "mark"
    sweep a = 1 .. 30
    sweep b = 1 .. 20
    q = a * b + b / a
    require q < 300, "q too large"
    show q
    best max q per b
}
"""


@pytest.mark.parametrize("bound, header", [("300", "a,b,q,valid,violates"), ("1e9", "a,b,q,valid,violates")])
def test_a_marked_question_answered_in_chunks_keeps_the_valid_and_violates_columns(tmp_path, capsys, bound, header):
    # Chunks of 50 points (2.5 values of a, every b): those of a <= 14 break no constraint (a = 15, b = 20 is the
    # first point with q >= 300: 300 + 20/15), later ones do. Each chunk's rows had the valid and violates columns
    # only where its own points broke one, and the merge cut every row to the shortest: a header of 5 names over
    # rows of 3 values. Found by the engineer of the chunked-answer workbook. A bound of 1e9 no point breaks: the
    # valid and violates columns all the same, whole and in chunks, as streamed rows must write them before they
    # know (Result.always_mark: a report's columns under "mark" do not depend on its data).
    spec = tmp_path / "marked.perf"
    spec.write_text(MARKED_QUESTION.replace("q < 300", f"q < {bound}"))
    whole, chunked = tmp_path / "whole.csv", tmp_path / "chunked.csv"
    assert cli.main(["eval", str(spec), "-q", "-o", str(whole)]) == 0
    assert cli.main(["eval", str(spec), "-q", "-o", str(chunked), "--chunk-points", "50"]) == 0
    lines = chunked.read_text().splitlines()
    assert lines[0] == header
    assert lines[1].startswith(f"30,1,{30 * 1 + 1 / 30!r}")          # best a for b = 1: a = 30, q = 30 + 1/30
    assert chunked.read_text() == whole.read_text()


@pytest.mark.parametrize("chunk_points", [7, 20_000])
def test_why_a_group_has_no_answer_is_the_same_chunk_by_chunk(chunk_points):
    """The counts per condition of a group with no answer are tallied chunk by chunk and merged: the same line as
    over the whole sweep, down to chunks of 7 points that cut every group into pieces. (The chunks answered in two
    steps, candidates.py, tally too: capacity_questions' largest_batch, whose 75 groups that fit nowhere are listed,
    in test_a_question_answered_chunk_by_chunk_equals_the_whole_answer.)"""
    program = perfdsl.load([], texts={"q.perf": QUESTION_SPEC})
    whole = program.evaluate()
    answered = answer_in_chunks(program, chunk_points=chunk_points)
    # big: 8 points (4 batches x 2 tp); it fits at tp 2 with batch <= 4 (3 points); its least tpot, at batch 1 and
    # tp 2, is 12e9 x 2 FLOP / 100 TFLOP/s x (1 + 1/8) / 2 = 0.135 ms
    assert whole.warnings[0].notes[0] == ("model=big: c.fits met by 3 of 8 points, c.tpot <= 0.1 ms by none "
                                          "(best 0.135 ms)")
    assert [d.render() for d in answered.warnings] == [d.render() for d in whole.warnings]


from test_queries import SPEC as QUESTIONS_SPEC  # noqa: E402  (small and big models over batch x tp, QUESTION to fill)

QUESTION_SPEC = QUESTIONS_SPEC.replace("QUESTION", "where c.fits and c.tpot <= 0.1 ms\n    largest batch per model")


def test_rows_pruned_between_chunks_leave_the_answer_unchanged(monkeypatch):
    """The rows of beaten points are dropped only when the stored rows double (streaming.Merging); with pruning
    from 1 row on, the stored rows are pruned, and the answer is still the whole sweep's, row for row."""
    from perfdsl.streaming import Merging

    program = perfdsl.load(QUESTIONS)
    whole = program.evaluate("latency_throughput")
    pruned = []
    original = Merging._prune
    monkeypatch.setattr(Merging, "PRUNE_FROM", 1)
    monkeypatch.setattr(Merging, "_prune", lambda self: (pruned.append(self.stored), original(self)))
    answered = answer_in_chunks(program, "latency_throughput", chunk_points=20_000)
    assert pruned
    assert answered.records() == whole.records()


def test_a_chunk_holds_about_chunk_bytes_of_arrays():
    from perfdsl.chunks import CHUNK_BYTES, MAX_CHUNK_POINTS, MIN_CHUNK_POINTS, chunk_points_for

    assert chunk_points_for(256) == CHUNK_BYTES // 256 == 1_048_576
    assert chunk_points_for(1) == MAX_CHUNK_POINTS
    assert chunk_points_for(1e9) == MIN_CHUNK_POINTS
    assert chunk_points_for(0) == MAX_CHUNK_POINTS
    program = perfdsl.load(QUESTIONS)
    ctx, _ = program.prepare("latency_throughput")
    assert program.chunk_points("latency_throughput") == chunk_points_for(
        program.predict_bytes("latency_throughput") / ctx.n_points)


def test_answer_in_chunks_needs_a_question():
    program = perfdsl.load(CAPACITY)
    with pytest.raises(ValueError, match="report 'capacity_planning' asks no question to answer"):
        answer_in_chunks(program)


# -- predicting and refusing sizes ----------------------------------------------------------------------------------

def test_the_predicted_memory_counts_each_cell_over_the_axes_it_varies_along(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = "report r { sweep a = 1 .. 1000; sweep b = 1 .. 100; q = a * b; k = a + 1; unused = q * 2; show q, k }"
    program = load_text(tmp_path, "r.perf", text)
    # a: 1,000 values, b: 100, q: 1,000 x 100, k: 1,000 (unused is not shown: not counted); 8 bytes each
    assert program.predict_bytes() == 8 * (1000 + 100 + 1000 * 100 + 1000)


BIG = "report r { sweep a = 1 .. 20000; sweep b = 1 .. 10000; q = a * b; r = q + 1; show q, r }\n"
BIG_ERROR = (
    "error[sweep-too-large]: report 'r' would hold 3.0 GiB of arrays to evaluate its 200,000,000 points at once "
    "(a: 20,000 x b: 10,000); an evaluation at once holds at most 1.0 GiB\n"
    "  --> big.perf:1:8\n"
    "  |\n"
    "1 | report r { sweep a = 1 .. 20000; sweep b = 1 .. 10000; q = a * b; r = q + 1; show q, r }\n"
    "  |        ^\n"
    "  = note: 16 bytes a point: one value per point of every cell the shown values need\n"
    "  = help: evaluate it in chunks: `perfdsl eval FILE -o OUT.csv` (or .jsonl, .parquet) streams the rows, and a "
    "question in the report (best, largest, smallest, pareto) is answered chunk by chunk; from Python, "
    "perfdsl.evaluate_chunks or perfdsl.answer_in_chunks")


def test_a_sweep_too_large_to_evaluate_at_once_is_refused_before_anything_is_computed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    program = load_text(tmp_path, "big.perf", BIG)
    # q and r over 2e8 points, 8 bytes each (a and b are 30,000 values): 3.2e9 bytes = 3.0 GiB, above the 1 GiB
    assert 2 * 8 * 2e8 > WHOLE_EVALUATION_BYTES
    with pytest.raises(PerfError) as caught:
        program.evaluate()
    assert caught.value.diagnostics[0].render() == BIG_ERROR


SMALL = "report r { sweep a = 1 .. 20; sweep b = 1 .. 10; q = a * b; r = q + 1; show q, r }\n"
PLOT_HELP = (
    "  = help: narrow the sweep with --set (e.g. --set batch=1,8,64): a plot draws one value per point of the sweep "
    "it evaluates, so it needs that sweep at once and cannot stream it in chunks\n"
    "  = help: --at holds an axis in the picture only; to draw one value of a large axis, give it with --set as well "
    "(--set AXIS=VALUE --at AXIS=VALUE)\n")


def test_plot_of_a_sweep_too_large_says_to_narrow_it_and_blames_the_spec(tmp_path, capsys):
    """The report's own sweep is too large: an error in the spec (exit 1), with a plot's way out, not eval's."""
    (tmp_path / "big.perf").write_text(BIG)
    assert cli.main(["plot", str(tmp_path / "big.perf"), "-o", str(tmp_path / "big.png")]) == 1
    err = capsys.readouterr().err
    head = BIG_ERROR.split("  = help:")[0].replace("big.perf", str(tmp_path / "big.perf"))
    assert err == head + PLOT_HELP + "\n1 error\n"
    assert not (tmp_path / "big.png").exists()


def test_a_sweep_made_too_large_by_set_is_bad_usage(tmp_path, capsys):
    """--set a=1..20000 --set b=1..10000 makes SMALL the BIG sweep: bad usage (exit 2, as any error in a --set
    value), with the same message; the points limit (4e9) likewise."""
    (tmp_path / "small.perf").write_text(SMALL)
    grow = ["--set", "a=1 .. 20000", "--set", "b=1 .. 10000"]
    assert cli.main(["plot", str(tmp_path / "small.perf"), "-o", str(tmp_path / "s.png"), *grow]) == 2
    assert capsys.readouterr().err.startswith("error[sweep-too-large]: report 'r' would hold 3.0 GiB of arrays")
    with pytest.raises(UsageError):
        perfdsl.load(tmp_path / "small.perf").evaluate(overrides={"a": "1 .. 20000", "b": "1 .. 10000"})
    huge = ["--set", "a=1 .. 5e6", "--set", "b=1 .. 5e6"]
    assert cli.main(["eval", str(tmp_path / "small.perf"), "-o", str(tmp_path / "s.csv"), *huge]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "error[sweep-too-large]: report 'r' sweeps 25,000,000,000,000 points (a: 5,000,000 x b: 5,000,000); ")
    # Located at the report, whose text did not make it large: a note names the --set values that did.
    small_points = 20 * 10      # SMALL: a = 1 .. 20 x b = 1 .. 10
    assert (f"  = note: made so by --set a=1 .. 5e6 --set b=1 .. 5e6: without the --set values the report sweeps "
            f"{small_points:,} points\n") in err


def test_eval_streams_a_sweep_too_large_to_evaluate_at_once(tmp_path, capsys):
    (tmp_path / "big.perf").write_text(BIG)
    assert cli.main(["eval", str(tmp_path / "big.perf")]) == 0
    captured = capsys.readouterr()
    assert [line.split() for line in captured.out.splitlines()[2:4]] == [["1", "1", "1", "2"], ["1", "2", "2", "3"]]
    # the same line as a whole evaluation's (it counted points, not rows, and named no Parquet)
    assert captured.err == (f"... {200_000_000 - 200:,} more rows not shown; use --format csv, or -o FILE.csv, "
                            "-o FILE.jsonl or -o FILE.parquet, for all 200,000,000\n")


def test_a_workbook_of_more_rows_than_people_read_is_refused(tmp_path, capsys):
    # The report's constraints leave 766,584 of its 884,520 points: the rows are counted once evaluated, and the
    # refusal comes alone, before the evaluation's warnings
    out = tmp_path / "capacity.xlsx"
    assert cli.main(["eval", str(CAPACITY), "-o", str(out)]) == 2
    assert capsys.readouterr().err == (
        "error[workbook-too-large]: a workbook of report 'capacity_planning' would have 766,584 rows; perfdsl writes "
        "at most 100,000 rows to a workbook (a workbook is for people)\n"
        # one model leaves 766,584 / 30 rows at most, under the limit (the run writes 22,113 rows)
        "  = help: narrow the sweep with --set, e.g. --set model=opt_125m, to write a workbook\n"
        f"  = help: or write every row with -o {tmp_path}/capacity.csv, -o {tmp_path}/capacity.jsonl or -o "
        f"{tmp_path}/capacity.parquet (the smallest and quickest to write), or ask the report a question (where, "
        "best, largest, smallest, pareto) whose answer fits (a best, largest, smallest or pareto answer of up to "
        "100,000 rows is a workbook however large the sweep)\n\n"
        "1 error\n")
    assert not out.exists()


def test_a_workbook_is_refused_by_its_rows_not_by_the_points_its_constraints_leave_out(tmp_path, capsys,
                                                                                        monkeypatch):
    # A newcomer's capacity_planning over 4 models: 117,936 points, of which the constraints leave 88,452 rows,
    # was refused as "up to 117,936 rows" although the README says a workbook holds up to 100,000 rows. Here with a
    # limit of 100 rows: a sweep of 150 points whose constraint keeps 90 is written; one that keeps 120 is refused
    # with its 120 rows; without constraints, every point is a row and the sweep is refused before it is evaluated.
    # The provisional note is looked for only where the workbook is written.
    monkeypatch.setattr("perfdsl.workbook_layout.XLSX_ROW_LIMIT", 100)
    from perfdsl import provisional

    looked_for, for_result = [], provisional.for_result
    monkeypatch.setattr(provisional, "for_result", lambda *args: (looked_for.append(1), for_result(*args))[1])
    out = tmp_path / "r.xlsx"
    spec = tmp_path / "r.perf"
    for kept in (90, 120):
        spec.write_text(f'report r {{ sweep a = 1 .. 150; require a <= {kept}, "a small a"; q = 2 * a; show q }}\n')
        looked_for.clear()
        status = cli.main(["eval", str(spec), "-q", "-o", str(out)])
        err = capsys.readouterr().err
        if kept == 90:
            assert status == 0 and err.endswith(f"wrote {out} (90 rows)\n") and looked_for, err
        else:
            assert not looked_for
            assert status == 2 and err.startswith(
                "error[workbook-too-large]: a workbook of report 'r' would have 120 rows; perfdsl writes at most 100 "
                "rows to a workbook (a workbook is for people)\n"), err
    openpyxl = pytest.importorskip("openpyxl")
    rows = list(openpyxl.load_workbook(out)["r"].iter_rows(values_only=True))
    assert [row[:2] for row in rows[-90:]] == [(a, 2 * a) for a in range(1, 91)], rows[:3]     # under 2 header rows
    spec.write_text("report r { sweep a = 1 .. 150; q = 2 * a; show q }\n")
    monkeypatch.setattr("perfdsl.program.Program.evaluate_sweep",
                        lambda *args, **kwargs: pytest.fail("evaluated before it was refused"))
    assert cli.main(["eval", str(spec), "-q", "-o", str(out)]) == 2
    assert capsys.readouterr().err.startswith(
        "error[workbook-too-large]: a workbook of report 'r' would have up to 150 rows, one per sweep point; perfdsl "
        "writes at most 100 rows to a workbook")


def test_the_narrowing_example_takes_an_axis_that_brings_the_rows_under_the_limit():
    from perfdsl.context import Axis, Coord

    def axis(index, name, kind, values, unit=""):
        return Axis(index, name, [Coord(name, "r", kind, np.array(values), unit=unit)])

    axes = [axis(0, "batch", "num", [1.0, 2.0, 4.0]), axis(1, "model", "role", ["m1", "m2"]),
            axis(2, "seq", "num", [128.0, 256.0], unit="token")]
    # 3 x 2 x 2 = 12 rows, limit 6: model leaves 12 / 2 = 6 (a role, preferred); limit 4: only batch leaves 12 / 3
    assert cli._narrowing(axes, 12, 6) == "--set model=m1"
    assert cli._narrowing(axes, 12, 4) == "--set batch=1"
    assert cli._narrowing(axes[2:], 12, 4) == ""          # a number with a unit would need quoting: no example


def test_running_out_of_memory_is_a_located_error_not_an_internal_one(tmp_path, monkeypatch, capsys):
    def no_memory(*args, **kwargs):
        raise MemoryError()

    monkeypatch.setattr(perfdsl.Program, "evaluate_in", no_memory)
    (tmp_path / "r.perf").write_text("report r { sweep a = 1 .. 3; show a }\n")
    assert cli.main(["eval", str(tmp_path / "r.perf")]) == 2
    assert capsys.readouterr().err == (
        "error[out-of-memory]: the machine ran out of memory while running `perfdsl eval`\n"
        "  = help: evaluate the sweep in smaller chunks (--chunk-points N, e.g. 100000), or narrow its axes with "
        "--set\n\n"
        "1 error\n")



@pytest.mark.parametrize("refusal", [
    ImportError("/venv/lib/python3.11/site-packages/pydantic_core/_pydantic_core.so: failed to map segment from "
                "shared object"),
    OSError(12, "Cannot allocate memory"),
])
def test_a_memory_limit_met_while_loading_a_module_is_out_of_memory_too(tmp_path, monkeypatch, capsys, refusal):
    # Under `ulimit -v 150000` the dynamic loader could not map pydantic-core: "error[internal]: ImportError: ...
    # this is a bug in perfdsl" (a newcomer's find).
    def no_room(*args, **kwargs):
        raise refusal

    monkeypatch.setattr(perfdsl.Program, "evaluate_in", no_room)
    (tmp_path / "r.perf").write_text("report r { sweep a = 1 .. 3; show a }\n")
    assert cli.main(["eval", str(tmp_path / "r.perf")]) == 2
    assert capsys.readouterr().err.startswith(
        "error[out-of-memory]: the machine ran out of memory while running `perfdsl eval`\n")
# -- streamed outputs ---------------------------------------------------------------------------------------------

MID = "report r { sweep a = 1 .. 300; sweep b = 1 .. 70; q = a * b + b / a; w = q > 5; show q, w, b }\n"


@pytest.mark.parametrize("suffix", ["csv", "json", "jsonl"])
def test_streamed_outputs_equal_the_whole_outputs_byte_for_byte(tmp_path, suffix, capsys):
    (tmp_path / "mid.perf").write_text(MID)
    whole, streamed = tmp_path / f"whole.{suffix}", tmp_path / f"streamed.{suffix}"
    assert cli.main(["eval", str(tmp_path / "mid.perf"), "-o", str(whole)]) == 0
    assert cli.main(["eval", str(tmp_path / "mid.perf"), "-o", str(streamed), "--chunk-points", "777"]) == 0
    assert streamed.read_bytes() == whole.read_bytes()
    assert capsys.readouterr().err.endswith(f"wrote {streamed} (21,000 rows)\n")


@pytest.mark.parametrize("chunk_points", ["777", "100000"])
def test_parquet_streams_the_rows_of_the_csv(tmp_path, chunk_points, capsys):
    parquet = pytest.importorskip("pyarrow.parquet", reason="pyarrow is in the dev extra")
    (tmp_path / "mid.perf").write_text(MID.replace("show q, w, b", "show q, w"))
    csv_path, parquet_path = tmp_path / "rows.csv", tmp_path / "rows.parquet"
    assert cli.main(["eval", str(tmp_path / "mid.perf"), "-o", str(csv_path)]) == 0
    assert cli.main(["eval", str(tmp_path / "mid.perf"), "-o", str(parquet_path), "--chunk-points",
                     chunk_points]) == 0
    assert capsys.readouterr().err.endswith(f"wrote {parquet_path} (21,000 rows)\n")
    stored = parquet.ParquetFile(parquet_path)
    assert stored.num_row_groups == math.ceil(21_000 / (int(chunk_points) // 70 * 70))
    table = stored.read()
    assert table.schema.names == ["a", "b", "q", "w"]
    lines = csv_path.read_text().splitlines()[1:]
    got = zip(*(table.column(name).to_pylist() for name in ("a", "b", "q", "w")))
    assert [f"{a},{b},{q!r},{str(w).lower()}" for a, b, q, w in got] == lines


def test_a_question_to_parquet_writes_its_answer(tmp_path, capsys):
    parquet = pytest.importorskip("pyarrow.parquet", reason="pyarrow is in the dev extra")
    out = tmp_path / "front.parquet"
    assert cli.main(["eval", str(QUESTIONS), "--report", "latency_throughput", "-o", str(out)]) == 0
    whole = perfdsl.load(QUESTIONS).evaluate("latency_throughput")
    assert parquet.read_table(out).to_pylist() == whole.records()


def test_a_streamed_question_writes_the_whole_answer(tmp_path, capsys):
    whole, streamed = tmp_path / "whole.csv", tmp_path / "streamed.csv"
    args = ["eval", str(QUESTIONS), "--report", "latency_throughput", "-o"]
    assert cli.main(args + [str(whole)]) == 0
    assert cli.main(args + [str(streamed), "--chunk-points", "100000"]) == 0
    assert streamed.read_text() == whole.read_text()


def test_a_streamed_table_shows_its_first_rows(tmp_path, capsys):
    (tmp_path / "mid.perf").write_text(MID)
    assert cli.main(["eval", str(tmp_path / "mid.perf"), "--chunk-points", "5000"]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 2 + 200
    assert captured.err == (f"... {21_000 - 200:,} more rows not shown; use --format csv, or -o FILE.csv, "
                            "-o FILE.jsonl or -o FILE.parquet, for all 21,000\n")


@pytest.mark.parametrize("chunk_points", ["50", "5000"])
def test_a_streamed_table_says_its_warnings_and_its_cut_as_the_whole_table_does(tmp_path, capsys, chunk_points):
    # The chunked run printed the "... more rows not shown" line before the warnings, the whole run after them
    (tmp_path / "w.perf").write_text("report r { sweep a = 0 .. 300; x = 1 / a; show x }\n")   # a = 0 warns
    assert cli.main(["eval", str(tmp_path / "w.perf")]) == 0
    whole = capsys.readouterr()
    assert cli.main(["eval", str(tmp_path / "w.perf"), "--chunk-points", chunk_points]) == 0
    chunked = capsys.readouterr()
    assert (chunked.out, chunked.err) == (whole.out, whole.err)
    assert whole.err.endswith(f"\n1 warning\n... {301 - 200} more rows not shown; use --format csv, or -o FILE.csv, "
                              "-o FILE.jsonl or -o FILE.parquet, for all 301\n")


def test_an_answer_in_chunks_longer_than_a_table_says_so_as_the_whole_answer_does(tmp_path, capsys):
    # Every point is on its group's front: 300 x 70 rows, of which a table shows 200. Chunked, the cut was silent.
    (tmp_path / "front.perf").write_text("report r { sweep a = 1 .. 300; sweep b = 1 .. 70; x = a * b; "
                                         "y = 2 * a * b + b; show x, y; pareto min x, max y per b }\n")
    assert cli.main(["eval", str(tmp_path / "front.perf")]) == 0
    whole = capsys.readouterr()
    assert cli.main(["eval", str(tmp_path / "front.perf"), "--chunk-points", "1000"]) == 0
    chunked = capsys.readouterr()
    assert (chunked.out, chunked.err) == (whole.out, whole.err)
    assert whole.err == (f"... {300 * 70 - 200:,} more rows not shown; use --format csv, or -o FILE.csv, "
                         f"-o FILE.jsonl or -o FILE.parquet, for all {300 * 70:,}\n")


def test_chunk_points_is_at_most_n_points_in_whole_blocks_of_the_last_axes(capsys):
    # The help said "evaluate N sweep points at a time": 500 over last axes of 9 x 7 x 4 values gives chunks of 252
    # (one position of the axis before them; two would be 504), as capacity_planning's sweep does (a newcomer's try)
    chunks = plan_chunks((30, 13, 9, 9, 7, 4), 500)
    assert {chunk.n_points for chunk in chunks} == {9 * 7 * 4} and len(chunks) == 30 * 13 * 9
    # 504: the 9 positions in slices of 2, the last of 1 (252), never more than N
    sizes = [chunk.n_points for chunk in plan_chunks((30, 13, 9, 9, 7, 4), 2 * 9 * 7 * 4)]
    assert (sizes.count(2 * 9 * 7 * 4), sizes.count(9 * 7 * 4), len(sizes)) == (30 * 13 * 4, 30 * 13, 30 * 13 * 5)
    with pytest.raises(SystemExit):
        cli.main(["eval", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "evaluate the sweep in chunks of at most N points" in text
    assert "so a chunk may hold fewer (500 over last axes of 9 x 7 x 4 values: chunks of 252)" in text
    assert "N sweep points at a time" not in text


def test_a_text_table_of_a_chunked_sweep_is_refused(tmp_path, capsys):
    (tmp_path / "mid.perf").write_text(MID)
    assert cli.main(["eval", str(tmp_path / "mid.perf"), "-o", str(tmp_path / "t.txt"), "--chunk-points", "50"]) == 2
    assert capsys.readouterr().err == (
        "error[bad-output]: a sweep evaluated in chunks (21,000 points) is not written as an aligned text table\n"
        f"  = help: use -o {tmp_path}/t.csv, -o {tmp_path}/t.json, -o {tmp_path}/t.jsonl or -o {tmp_path}/t.parquet"
        "\n\n1 error\n")
    assert not (tmp_path / "t.txt").exists()


@pytest.mark.parametrize("suffix", [".csv", ".json", ".jsonl", ".parquet"])
def test_every_output_the_chunked_table_refusal_names_is_written(tmp_path, capsys, suffix):
    # The help named .csv and .jsonl only, while .json and .parquet stream the rows as well (a newcomer's try)
    (tmp_path / "mid.perf").write_text(MID)
    assert cli.main(["eval", str(tmp_path / "mid.perf"), "-o", str(tmp_path / "t.txt"), "--chunk-points", "50"]) == 2
    hint = capsys.readouterr().err.split("  = help: use ")[1].split("\n")[0]
    assert f"-o {tmp_path}/t{suffix}" in hint.replace(" or ", ", ").split(", ")
    out = tmp_path / f"t{suffix}"
    assert cli.main(["eval", str(tmp_path / "mid.perf"), "-q", "-o", str(out), "--chunk-points", "50"]) == 0
    assert capsys.readouterr().err == f"wrote {out} (21,000 rows)\n"


def test_chunk_points_below_one_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "mid.perf").write_text(MID)
    assert cli.main(["eval", str(tmp_path / "mid.perf"), "--chunk-points", "0"]) == 2
    assert capsys.readouterr().err.startswith("error[bad-option]: --chunk-points 0: a chunk holds at least one "
                                              "point\n")


# -- progress -----------------------------------------------------------------------------------------------------

class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_quiet_off_a_terminal_and_with_quiet():
    for stream, quiet in [(io.StringIO(), False), (_Terminal(), True)]:
        progress = cli.Progress("evaluating", stream=stream, delay=0, quiet=quiet)
        progress(5, 10)
        progress(10, 10)
        progress.done()
        assert stream.getvalue() == ""


def test_progress_draws_a_bar_on_a_terminal():
    stream = _Terminal()
    progress = cli.Progress("evaluating", stream=stream, delay=0, unit="points")
    progress(5, 10)
    assert stream.getvalue().startswith("\revaluating:   0%|          | 0.00/10.0 [00:00<?, ?points/s]")
    progress.bar.refresh()
    assert "\revaluating:  50%|" in stream.getvalue()
    progress.done()


def test_constants_are_computed_once_but_their_warnings_come_with_every_evaluation(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = ("model m { zero = 0; ratio = 1 / zero; size = 2 }\n"
            "report r { model = m; sweep a = 1 .. 4; q = a * model.size; show q, model.ratio }\n")
    program = load_text(tmp_path, "r.perf", text)
    first, second = program.evaluate(), program.evaluate()
    assert [d.code for d in first.warnings] == [d.code for d in second.warnings] == ["division-by-zero"]
    assert first.column("q").tolist() == second.column("q").tolist() == [2.0, 4.0, 6.0, 8.0]
    # m.size varies along no axis: kept with the report's constants; m.ratio warns, so it is computed each time
    constants = program._constants["r"]
    assert ("m", "size") in constants.values and ("m", "ratio") not in constants.values


def test_a_cell_that_varies_along_an_axis_of_one_position_only_is_a_constant(tmp_path, monkeypatch):
    """`sweep k = [3]`: every evaluation and chunk takes k = 3, so cells of k alone are computed once (kept with
    the constants) and a warning of one is still given by every evaluation and every chunk."""
    monkeypatch.chdir(tmp_path)
    text = ("model m { sweep k = [3]; sweep b = 1 .. 4; twice = 2 * k; over = 1 / (k - 3); q = b * twice }\n"
            "report r { model = m; show m.q, m.over }\n")
    program = load_text(tmp_path, "r.perf", text)
    first, second = program.evaluate(), program.evaluate()
    assert first.column("m.q").tolist() == second.column("m.q").tolist() == [6.0, 12.0, 18.0, 24.0]
    assert [d.message for d in first.warnings] == [d.message for d in second.warnings] == [
        "'m.over' divides by zero at every sweep point"]
    constants = program._constants["r"]
    assert ("m", "twice") in constants.values and ("m", "over") not in constants.values
    assert ("m", "q") not in constants.values              # q varies along b
    merged: dict = {}
    for _, chunk in evaluate_chunks(program, chunk_points=2):
        keep_first(merged, chunk.warnings)
    assert [d.render() for d in merged.values()] == [d.render() for d in first.warnings]


def test_a_constant_if_whose_other_branch_no_point_takes_is_kept_with_the_constants(tmp_path, monkeypatch):
    """`if(model.fast, model.a, model.b)` reads constant cells only: computed once per prepared report, though
    model.a is never computed (no model takes that branch), so not kept."""
    monkeypatch.chdir(tmp_path)
    text = ("model m1 { fast = false; a = 2; b = 3 }\nmodel m2 { fast = false; a = 4; b = 5 }\n"
            "costmodel c { sweep n = 1 .. 3; y = if(model.fast, model.a, model.b) * n }\n"
            "report r { sweep model = [m1, m2]; costmodel = c; show c.y }\n")
    program = load_text(tmp_path, "r.perf", text)
    assert program.evaluate().column("c.y").tolist() == [3.0, 6.0, 9.0, 5.0, 10.0, 15.0]
    constants = program._constants["r"]
    assert ("m1", "a") not in constants.values and ("m1", "b") in constants.values
    kept = [key for key in constants.node_values if key[1] == "c"]
    assert len(kept) == 1                                   # the `if`, for the two models at once
    assert program.evaluate().column("c.y").tolist() == [3.0, 6.0, 9.0, 5.0, 10.0, 15.0]
    assert [key for key in constants.node_values if key[1] == "c"] == kept


def test_chunks_carry_a_calibrations_low_and_high_columns_as_the_whole_output_does():
    from perfdsl.intervals import with_intervals
    from perfdsl.streaming import chunk_table

    program = perfdsl.load(REPO / "reports" / "seed_benchmark.perf")
    whole = program.evaluate()
    keys, columns = with_intervals(whole, *whole.table())
    assert "runtime low [ms]" in keys
    parts = [chunk_table(result) for _, result in evaluate_chunks(program, chunk_points=5)]
    assert all(part_keys == keys for part_keys, _ in parts)
    for i, key in enumerate(keys):
        assert same(np.concatenate([part[i] for _, part in parts]), columns[i]), key


def test_glibc_keeps_freed_arrays_for_the_next_evaluation():
    import platform

    from perfdsl.heap import keep_freed_memory

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt is glibc's: elsewhere keep_freed_memory does nothing")
    assert keep_freed_memory() is True
    assert keep_freed_memory() is True               # once per process; later calls say what the first did


# -- the note on a --chunk-points that cuts the sweep into so many chunks that their overhead dominates ----------

def test_the_many_chunks_note_counts_the_chunks_and_their_time():
    from perfdsl.chunks import CHUNK_OVERHEAD_S, many_chunks_note

    # 6,240,000 points in chunks of 4 (--chunk-points 7 over an inner axis of 4): 6,240,000 / 4 chunks
    note = many_chunks_note(6_240_000 // 4, 7, 912_858, 6_240_000, 8)
    least, most = (6_240_000 // 4 * seconds / 3600 for seconds in CHUNK_OVERHEAD_S)      # 1.5 and 3.0 hours
    assert note == (f"note: --chunk-points 7 cuts the sweep of 6,240,000 points into 1,560,000 chunks, and each chunk "
                    f"costs 3.5 to 7 ms whatever its size, by the question: about {least:,.1f} hours to "
                    f"{most:,.1f} hours; leave out --chunk-points (chunks of about 256 MiB of arrays: 912,858 points "
                    f"here, 8 chunks) or give a larger N")
    assert many_chunks_note(999, 1, 1_000_000, 999, 1) is None                # below MANY_CHUNKS: no note
    assert many_chunks_note(5_000, 2_000_000, 1_000_000, 10**10, 10**4) is None   # chunks no smaller than the default's


def test_the_many_chunks_note_counts_the_default_chunks_as_the_run_cuts_them(tmp_path, capsys, monkeypatch):
    """Default chunks are whole blocks of the last axes too: 12 points (a: 4 x b: 3) in chunks of at most 5 points
    are 4 chunks of one `a` each (3 points), not 12 / 5 rounded up = 3 (the note said 3)."""
    from perfdsl import chunks, cli
    from perfdsl.program import Program

    monkeypatch.setattr(chunks, "MANY_CHUNKS", 4)
    monkeypatch.setattr(Program, "chunk_points", lambda self, report=None: 5)
    (tmp_path / "r.perf").write_text("report r { sweep a = 1 .. 4; sweep b = 1 .. 3; q = a * b; show q }\n")
    assert cli.main(["eval", str(tmp_path / "r.perf"), "--chunk-points", "1", "-o", str(tmp_path / "out.csv")]) == 0
    one_a = 3                   # b's 3 values: the most whole blocks of the last axis that fit in 5 points
    assert f"(chunks of about 256 MiB of arrays: 5 points here, {4 * 3 // one_a} chunks)" in capsys.readouterr().err


def test_eval_notes_many_chunks_before_starting_and_q_hides_it(tmp_path, capsys, monkeypatch):
    from perfdsl import chunks, cli

    monkeypatch.setattr(chunks, "MANY_CHUNKS", 4)         # 1,000 chunks of a real sweep take seconds
    (tmp_path / "r.perf").write_text("report r { sweep a = 1 .. 12; show a }\n")
    out = tmp_path / "out.csv"
    assert cli.main(["eval", str(tmp_path / "r.perf"), "--chunk-points", "3", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert err.startswith("note: --chunk-points 3 cuts the sweep of 12 points into 4 chunks, and each chunk costs "
                          "3.5 to 7 ms whatever its size, by the question: about 0 s to 0 s; leave out --chunk-points")
    assert err.endswith(f"wrote {out} (12 rows)\n")
    assert cli.main(["eval", str(tmp_path / "r.perf"), "--chunk-points", "3", "-q", "-o", str(out)]) == 0
    assert capsys.readouterr().err == f"wrote {out} (12 rows)\n"      # a note, as the size note: -q hides it
    assert len(out.read_text().splitlines()) == 1 + 12          # the header and every point: noted, never refused


def test_a_chunked_table_says_what_the_whole_table_says_of_the_rows_left_out(tmp_path, capsys):
    # `where` keeps 1,000 - 1 rows of 1,000 points: the chunked line counted the points, the whole one the rows.
    (tmp_path / "w.perf").write_text("report r { sweep a = 1 .. 1000; where a != 500; show a }\n")
    assert cli.main(["eval", str(tmp_path / "w.perf")]) == 0
    whole = capsys.readouterr()
    assert cli.main(["eval", str(tmp_path / "w.perf"), "--chunk-points", "100"]) == 0
    chunked = capsys.readouterr()
    assert chunked.out == whole.out
    assert chunked.err == whole.err == (f"... {1000 - 1 - 200:,} more rows not shown; use --format csv, or "
                                        "-o FILE.csv, -o FILE.jsonl or -o FILE.parquet, for all 999\n")


@pytest.mark.parametrize("where, rows, warned", [("a > 300", 700, False), ("a > 3000", 0, True)])
def test_a_where_warns_of_no_point_only_where_no_chunk_has_a_row(tmp_path, capsys, where, rows, warned):
    # Chunks of 100 points: those of a = 1 .. 300 keep no point of `where a > 300`. Each warned
    # warning[no-point] "no sweep point meets the report's conditions" for its own points, and the run said so of
    # the sweep beside its 700 rows (the whole evaluation: no warning). Found by the cliopts engineer.
    spec = tmp_path / "kept.perf"
    spec.write_text(f"report r {{ sweep a = 1 .. 1000; where {where}; show a }}\n")
    out = tmp_path / "kept.csv"
    assert cli.main(["eval", str(spec), "-q", "--chunk-points", "100", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert len(out.read_text().splitlines()) == 1 + rows
    assert ("warning[no-point]: no sweep point meets the report's conditions" in err) is warned
    assert cli.main(["eval", str(spec), "-q", "-o", str(tmp_path / "whole.csv")]) == 0
    assert capsys.readouterr().err.count("warning[no-point]") == int(warned)


@pytest.mark.parametrize("value, why", [(1.5, "not a whole number of points"), (True, "not a whole number of points"),
                                        ("x", "not a whole number of points"), (0, "a chunk holds at least one point"),
                                        (-5, "a chunk holds at least one point"),
                                        # whole numbers past the largest taken: they were "not a whole number"
                                        (1e20, f"too large a number of points: at most {10 ** 19 - 1:,}"),
                                        ("1e20", f"too large a number of points: at most {10 ** 19 - 1:,}"),
                                        (10 ** 19, f"too large a number of points: at most {10 ** 19 - 1:,}")])
def test_the_api_refuses_a_chunk_size_that_is_no_whole_number_of_points(value, why):
    # Before: 1.5 and True ran at one point a chunk (399,360 chunks of largest_batch: about 46 minutes), 0 evaluated
    # the whole sweep at once, 'x' raised a bare TypeError. The command line refused them (a newcomer's re-try).
    program = perfdsl.load(QUESTIONS)
    with pytest.raises(UsageError, match=re.escape(f"chunk_points={value!r}: {why}")):
        answer_in_chunks(program, "largest_batch", chunk_points=value)
    with pytest.raises(UsageError, match=re.escape(f"chunk_points={value!r}: {why}")):
        next(evaluate_chunks(program, "largest_batch", chunk_points=value))


def test_the_api_takes_a_chunk_size_written_as_the_command_line_takes_it():
    # 1e5 (a float) and "1e5" raised TypeError; they are 100,000 points, as --chunk-points 1e5 is
    program = perfdsl.load(QUESTIONS)
    chunks = [len(list(evaluate_chunks(program, "largest_batch", chunk_points=value)))
              for value in (100_000, 1e5, "1e5", "100_000")]
    assert chunks[1:] == [chunks[0]] * 3 and chunks[0] > 1      # largest_batch: 399,360 points, several chunks


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="no pseudo-terminals here (os.openpty)")
def test_progress_draws_a_bar_on_a_terminal_of_zero_columns():
    """A pseudo-terminal nobody gave a size (`script`, some CI runners) reports 0 columns, where tqdm's own width
    would draw nothing: the bar is drawn 80 columns wide."""
    leader, follower = os.openpty()
    try:
        assert os.get_terminal_size(follower).columns == 0
        with open(follower, "w", closefd=False) as stream:
            progress = cli.Progress("checking", stream=stream, delay=0, unit="files", scaled=False)
            progress(5, 10)
            progress.bar.refresh()
            progress.done()
        os.set_blocking(leader, False)          # nothing drawn must fail the test, not wait for ever
        try:
            written = os.read(leader, 65536)
        except BlockingIOError:
            written = b""
        shown = written.decode().replace("\r", "\n").split("\n")
        drawn = [line for line in shown if line.startswith("checking:  50%|")]
        assert drawn and len(drawn[0]) == 80, shown
    finally:
        os.close(leader)
        os.close(follower)
