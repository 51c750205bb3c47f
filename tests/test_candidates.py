"""A question answered chunk by chunk in two steps (dsl/candidates.py): the conditions over every point, the shown
and ranked cells over boxes of the points that meet them. The answer equals the whole evaluation's, row for row and
bit for bit; chunks are boxes that cover the sweep once; the two steps are taken only where they apply the same
constraints as the whole evaluation."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import perfdsl
from perfdsl import candidates
from perfdsl.chunks import box_context, plan_boxes, plan_chunks
from perfdsl.streaming import answer_in_chunks

QUESTIONS = Path(__file__).resolve().parent.parent / "reports" / "capacity_questions.perf"


def same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal value for value: NaN equals NaN, and floats equal to the last bit."""
    if a.dtype.kind == "f" and b.dtype.kind == "f":
        return a.shape == b.shape and np.array_equal(a.view(np.int64), b.view(np.int64))
    return a.shape == b.shape and a.tolist() == b.tolist()


def assert_same_answer(answered, whole) -> None:
    keys, columns = whole.table()
    assert answered.keys == keys
    assert answered.n_rows == whole.n_rows
    for key, mine, theirs in zip(keys, answered.columns, columns):
        assert same(mine, theirs), key
    assert answered.rows.summary == whole.rows.summary


# -- the pieces --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(0,), (5,), (8,), (13,), (3, 7, 5), (2, 1, 64), (1,)])
def test_true_points_are_flatnonzero(shape):
    rng = np.random.default_rng(sum(shape))
    for density in (0.0, 0.01, 0.5, 1.0):
        meets = rng.random(shape) < density
        assert candidates._true_points(meets).tolist() == np.flatnonzero(meets).tolist()
        assert candidates._true_points(meets).dtype == np.int64


@pytest.mark.parametrize("shape, max_points, order", [((30, 13, 9, 4), 5_000, [2, 0, 3, 1]),
                                                      ((5, 7), 3, [1, 0]), ((2, 3, 4), 5, [2, 1, 0]),
                                                      ((4, 6), 24, [1, 0]), ((3,), 1, [0])])
def test_box_chunks_cover_the_sweep_once(shape, max_points, order):
    seen = np.zeros(shape, dtype=int)
    flat = np.arange(math.prod(shape)).reshape(shape)
    for chunk in plan_boxes(shape, max_points, order):
        where = tuple(slice(w, w + 1) if isinstance(w, int) else w for w in chunk.where)
        assert 1 <= chunk.n_points == seen[where].size <= max_points
        assert chunk.offset == flat[where].reshape(-1)[0]          # the chunk's first point
        seen[where] += 1
    assert (seen == 1).all()


def test_box_chunks_in_the_axes_own_order_are_plan_chunks():
    assert plan_boxes((30, 13, 9, 4), 5_000, [0, 1, 2, 3]) == plan_chunks((30, 13, 9, 4), 5_000)


def test_runs_of_candidates_split_into_boxes_that_hold_them():
    rng = np.random.default_rng(3)
    shape = (6, 13, 300, 4)
    meets = rng.random(shape) < np.linspace(0.9, 0.0, 300)[None, None, :, None] ** 8
    local = np.flatnonzero(meets)
    runs = candidates._boxes(local, shape, 20_000)
    assert [run[0] for run in runs] == [0] + [run[1] for run in runs[:-1]] and runs[-1][1] == len(local)
    for start, stop, positions, flat in runs:
        assert math.prod(len(p) for p in positions) <= 20_000
        box = np.arange(math.prod(shape)).reshape(shape)[np.ix_(*positions)].reshape(-1)
        assert box[flat].tolist() == local[start:stop].tolist()    # each point's place in its box


def test_a_box_of_the_sweep_has_the_whole_evaluations_values():
    program = perfdsl.load(QUESTIONS)
    whole = program.evaluate("latency_throughput")
    ctx, checker = program.prepare("latency_throughput")
    positions = [np.array([0, 7, 29]), np.array([2, 12]), np.array([0, 4, 8]), np.array([1, 3])]
    box = box_context(ctx, positions)
    evaluator = program.evaluator_in(box, checker)
    for column, mine in zip(whole.columns, program.shown_columns(evaluator, box, checker)):
        theirs = np.broadcast_to(whole.evaluator._rank(column.array), ctx.shape)[np.ix_(*positions)]
        assert same(np.ascontiguousarray(np.broadcast_to(mine.array, box.shape)), np.ascontiguousarray(theirs))


# -- answers -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("report", ["cheapest_setup", "largest_batch", "latency_throughput"])
@pytest.mark.parametrize("chunk_points", [1_000, 7_000])
@pytest.mark.parametrize("dense", [0.0, 1.1])        # every chunk evaluated in its own slices; none
def test_answers_over_many_box_chunks_equal_the_whole_answer(report, chunk_points, dense, monkeypatch):
    monkeypatch.setattr(candidates, "DENSE", dense)
    monkeypatch.setattr(candidates, "STEP_ONE_SHARE", 2.0)     # two steps for cheapest_setup too
    program = perfdsl.load(QUESTIONS)
    assert candidates.answers_by_box(program, report)
    whole = program.evaluate(report)
    answered = answer_in_chunks(program, report, chunk_points=chunk_points)
    assert_same_answer(answered, whole)
    assert answered.records() == whole.records()
    assert [d.code for d in answered.warnings] == [d.code for d in whole.warnings]


@pytest.mark.parametrize("report", ["cheapest_setup", "latency_throughput", "latency_throughput_of_all"])
def test_the_two_steps_answer_as_each_chunk_evaluated_whole(report, monkeypatch, tmp_path):
    """1,248,000 points in chunks of 100,000: boxes of the step-1 layout against the row-order chunks evaluated
    whole (the path taken where the two steps do not apply)."""
    (tmp_path / "all.perf").write_text(ALL_VALID.format(QUESTIONS.as_posix()))
    program = perfdsl.load(tmp_path / "all.perf")
    overrides = {"batch": "1 .. 800"}
    monkeypatch.setattr(candidates, "STEP_ONE_SHARE", 2.0)     # two steps for cheapest_setup too
    by_box = answer_in_chunks(program, report, overrides, chunk_points=100_000)
    monkeypatch.setattr(candidates, "answers_by_box", lambda program, report: False)
    evaluated_whole = answer_in_chunks(program, report, overrides, chunk_points=100_000)
    assert by_box.keys == evaluated_whole.keys and by_box.n_rows == evaluated_whole.n_rows >= 30
    assert all(same(a, b) for a, b in zip(by_box.columns, evaluated_whole.columns))
    assert by_box.rows.summary == evaluated_whole.rows.summary


@pytest.mark.parametrize("report, by_box", [("cheapest_setup", False), ("largest_batch", True),
                                            ("latency_throughput", True)])
def test_the_two_steps_are_taken_only_where_step_one_is_the_smaller_part(report, by_box):
    """cheapest_setup's `where` reads the latencies: step 1 would hold 71% of the whole evaluation's arrays, so its
    chunks are evaluated whole; `where memory.fits` holds 7%."""
    program = perfdsl.load(QUESTIONS)
    assert candidates.two_steps_apply(program, report)
    share = candidates.step_one_share(program, report)
    assert (share < candidates.STEP_ONE_SHARE) is by_box
    assert share < 0.1 if by_box else share > 0.6
    assert candidates.answers_by_box(program, report) is by_box


# latency_throughput without `where`: every valid point takes part (most of each chunk: its own slices)
ALL_VALID = """
import "{}"

report latency_throughput_of_all extends capacity_planning {{
    workload = chat
    throughput_per_gpu = serving.cluster_throughput / workload.n_gpus
    pareto min serving.tpot, max throughput_per_gpu per model
}}
"""


GROUPS = """
workload w {
    sweep n = 1 .. 60
    sweep k = [1, 2, 3]
}
costmodel c {
    y = workload.n * workload.k
    z = 1 / (workload.n - 3)
}
report r {
    workload = w
    show c.y, c.z
    WHERE
    best min c.y per k
}
"""


def test_groups_with_no_point_keep_their_empty_rows_and_keys(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "g.perf").write_text(GROUPS.replace("WHERE", "where c.y > 1000"))
    monkeypatch.setattr(candidates, "STEP_ONE_SHARE", 2.0)     # two steps, though `where` reads what is shown
    program = perfdsl.load("g.perf")
    whole = program.evaluate()
    answered = answer_in_chunks(program, chunk_points=7)
    assert answered.n_rows == 3 and answered.rows.missing.all()
    assert_same_answer(answered, whole)
    # no point meets `where`, so c.z is evaluated nowhere: of the whole's warnings, the groups' one only
    assert [d.code for d in whole.warnings] == ["division-by-zero", "no-point"]
    assert [d.render() for d in answered.warnings] == [whole.warnings[1].render()]


def test_floating_point_trouble_is_reported_only_where_points_meet_the_conditions(tmp_path, monkeypatch):
    """z divides by zero at n = 3: the whole evaluation warns of it; the chunked answer evaluates z only at the
    points that meet `where`, so it warns where n = 3 meets it, and not where it does not."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.perf").write_text(GROUPS.replace("WHERE", "where workload.n <= 10"))
    (tmp_path / "out.perf").write_text(GROUPS.replace("WHERE", "where workload.n > 5"))
    inside, outside = perfdsl.load("in.perf"), perfdsl.load("out.perf")
    assert [d.code for d in inside.evaluate().warnings] == ["division-by-zero"]
    assert [d.code for d in answer_in_chunks(inside, chunk_points=7).warnings] == ["division-by-zero"]
    assert [d.code for d in outside.evaluate().warnings] == ["division-by-zero"]
    answered = answer_in_chunks(outside, chunk_points=7)
    assert answered.warnings == []
    assert_same_answer(answered, outside.evaluate())


NAMED = """
workload w {
    sweep n = 1 .. 40
    sweep k = [1, 2, 3]
}
costmodel helper {
    x = HELPER_X
    require x < 35, "x below 35"
}
costmodel c {
    y = helper.x * workload.k + workload.n
}
report r {
    workload = w
    show c.y
    OPTION
    best min c.y per k
}
"""


@pytest.mark.parametrize("helper_x, option, by_box", [
    ("3", "", True),                                   # a constant constraint that holds: applies everywhere
    ("workload.n", "", False),                         # a sweep-dependent one read by name: applied where reached
    ("3", 'invalid_points = "mark"', False),           # every point keeps its row
])
def test_the_two_steps_are_taken_only_where_they_apply_the_same_constraints(tmp_path, monkeypatch, helper_x,
                                                                            option, by_box):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "n.perf").write_text(NAMED.replace("HELPER_X", helper_x).replace("OPTION", option))
    program = perfdsl.load("n.perf")
    assert candidates.two_steps_apply(program, "r") is by_box
    whole = program.evaluate()
    answered = answer_in_chunks(program, chunk_points=11)
    assert answered.records() == whole.records()
