"""Questions in a report: the numpy reductions against a brute-force Python reference, their merges (reducing two
parts and merging equals reducing the whole, as chunked evaluation will), and answers through the Python API
(rows, records, empty groups, the constraints' `valid` points, the workbook's data).

The golden cases tests/cases/eval_where*.perf, eval_best*.perf, eval_pareto*.perf, eval_largest*.perf and the
question error cases pin the exact CSV and diagnostics of the command line.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import perfdsl
from perfdsl import program as program_module
from perfdsl import queries
from perfdsl.reductions import NO_POINT, best_per_group, merge_best, merge_fronts, pareto_per_group

# PERFDSL_EXAMPLES=5000 runs every property with more examples, as in test_properties.py.
PROPERTY = settings(max_examples=int(150 * (float(os.environ.get("PERFDSL_EXAMPLES", "0")) / 150 or 1.0)),
                    deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Few distinct values, so that ties and duplicates are frequent; NaN (no part) and infinities included.
VALUES = [0.0, 1.0, 2.0, 2.5, -1.0, math.inf, -math.inf, math.nan]


@st.composite
def points(draw, metrics: int = 1):
    n_groups = draw(st.integers(1, 4))
    size = draw(st.integers(0, 24))
    group = draw(st.lists(st.integers(0, n_groups - 1), min_size=size, max_size=size))
    columns = [draw(st.lists(st.sampled_from(VALUES), min_size=size, max_size=size)) for _ in range(metrics)]
    index = draw(st.permutations(range(size)))          # flat sweep indices, in any order
    return n_groups, np.array(group, dtype=np.int64), [np.array(c) for c in columns], np.array(index, np.int64)


# -- brute-force references: one Python loop over every point (and every pair, for the front) ----------------------

def best_reference(n_groups, group, value, index, maximise):
    """Per group: (value, index) of the best point, ties to the smallest index; (nan, -1) where none."""
    out = []
    for g in range(n_groups):
        mine = [(v, i) for gg, v, i in zip(group.tolist(), value.tolist(), index.tolist()) if gg == g
                and not math.isnan(v)]
        if not mine:
            out.append((math.nan, NO_POINT))
            continue
        best = max(v for v, _ in mine) if maximise else min(v for v, _ in mine)
        out.append((best, min(i for v, i in mine if v == best)))
    return out


def front_reference(group, first, second, index, maximise):
    """Sorted (group, index) of the points no other point of the group dominates; equal points: smallest index."""
    pts = [(g, (-a if maximise[0] else a), (-b if maximise[1] else b), i)
           for g, a, b, i in zip(group.tolist(), first.tolist(), second.tolist(), index.tolist())
           if not (math.isnan(a) or math.isnan(b))]
    kept = []
    for g, x, y, i in pts:
        beaten = any(h == g and ((u <= x and v <= y and (u < x or v < y)) or (u == x and v == y and j < i))
                     for h, u, v, j in pts)
        if not beaten:
            kept.append((g, i))
    return sorted(kept)


def same_best(a, b) -> bool:
    return np.array_equal(a.index, b.index) and np.array_equal(a.value, b.value, equal_nan=True)


def same_front(a, b) -> bool:
    return all(np.array_equal(getattr(a, f), getattr(b, f), equal_nan=True)
               for f in ("group", "first", "second", "index"))


@PROPERTY
@given(points(), st.booleans())
def test_best_per_group_equals_the_reference(data, maximise):
    n_groups, group, (value,), index = data
    best = best_per_group(group, value, index, n_groups, maximise)
    got = list(zip(best.value.tolist(), best.index.tolist()))
    want = best_reference(n_groups, group, value, index, maximise)
    assert len(got) == len(want)
    for (gv, gi), (wv, wi) in zip(got, want):
        assert gi == wi and (gv == wv or (math.isnan(gv) and math.isnan(wv)))


@PROPERTY
@given(points(metrics=2), st.tuples(st.booleans(), st.booleans()))
def test_pareto_per_group_equals_the_reference(data, maximise):
    n_groups, group, (first, second), index = data
    front = pareto_per_group(group, first, second, index, n_groups, maximise)
    assert sorted(zip(front.group.tolist(), front.index.tolist())) == \
        front_reference(group, first, second, index, maximise)
    # Sorted by group, then best first value first; within a group the second value gets strictly better.
    cost_x = -front.first if maximise[0] else front.first
    cost_y = -front.second if maximise[1] else front.second
    for g in range(n_groups):
        mine = front.group == g
        assert np.all(np.diff(cost_x[mine]) > 0) and np.all(np.diff(cost_y[mine]) < 0)
    assert np.all(np.diff(front.group) >= 0)


@PROPERTY
@given(points(), st.booleans(), st.data())
def test_merging_two_parts_equals_reducing_the_whole(data, maximise, draw):
    n_groups, group, (value,), index = data
    part = np.array(draw.draw(st.lists(st.booleans(), min_size=len(group), max_size=len(group))), dtype=bool)
    whole = best_per_group(group, value, index, n_groups, maximise)
    left = best_per_group(group[part], value[part], index[part], n_groups, maximise)
    right = best_per_group(group[~part], value[~part], index[~part], n_groups, maximise)
    assert same_best(merge_best(left, right), whole)
    assert same_best(merge_best(right, left), whole)


@PROPERTY
@given(points(metrics=2), st.tuples(st.booleans(), st.booleans()), st.data())
def test_merging_two_fronts_equals_the_front_of_the_whole(data, maximise, draw):
    n_groups, group, (first, second), index = data
    part = np.array(draw.draw(st.lists(st.booleans(), min_size=len(group), max_size=len(group))), dtype=bool)
    whole = pareto_per_group(group, first, second, index, n_groups, maximise)
    halves = [pareto_per_group(group[p], first[p], second[p], index[p], n_groups, maximise) for p in (part, ~part)]
    assert same_front(merge_fronts(halves[0], halves[1], n_groups), whole)
    assert same_front(merge_fronts(halves[1], halves[0], n_groups), whole)


@PROPERTY
@given(points(metrics=2), st.integers(2, 6))
def test_the_first_cut_of_a_front_keeps_every_point_of_the_front(data, buckets):
    """Large sweeps first drop the points that a point of a lower bucket dominates (small ones skip that cut, so
    here it is forced with a few buckets): no point of the front may be dropped."""
    from perfdsl.reductions import _not_dominated_by_lower_buckets

    n_groups, group, (first, second), index = data
    keep = ~(np.isnan(first) | np.isnan(second))
    kept = _not_dominated_by_lower_buckets(group[keep], first[keep], second[keep], n_groups, buckets)
    survivors = set(index[keep][kept].tolist())
    assert {i for _, i in front_reference(group, first, second, index, (False, False))} <= survivors


def test_merges_refuse_partial_results_that_do_not_go_together():
    a = best_per_group([0], [1.0], [0], 1, maximise=False)
    with pytest.raises(ValueError, match="same direction"):
        merge_best(a, best_per_group([0], [1.0], [1], 1, maximise=True))
    with pytest.raises(ValueError, match="same directions"):
        merge_fronts(pareto_per_group([0], [1.0], [1.0], [0], 1, (False, False)),
                     pareto_per_group([0], [1.0], [1.0], [1], 1, (False, True)), 1)
    with pytest.raises(ValueError, match="outside 0 .. 1"):
        best_per_group([2], [1.0], [0], 2)
    with pytest.raises(ValueError, match="differ in length"):
        best_per_group([0, 1], [1.0], [0], 2)


def test_a_million_points_reduce_in_well_under_a_second():
    """The issue's target, with room for a shared 2-core machine: best and Pareto front of 1e6 points in 390
    groups. `make bench` (benchmarks/bench_queries.py) measures it through a report."""
    rng = np.random.default_rng(8)
    n = 1_000_000
    group = np.repeat(np.arange(390), n // 390 + 1)[:n]
    tpot, throughput, index = rng.random(n), rng.random(n), np.arange(n)
    started = time.perf_counter()
    best_per_group(group, tpot, index, 390)
    pareto_per_group(group, tpot, throughput, index, 390, (False, True))
    assert time.perf_counter() - started < 2.0     # about 0.1 s measured; the margin is for a busy machine


# -- answers through the Python API ----------------------------------------------------------------------------

SPEC = """
workload w {
    sweep batch = [1, 2, 4, 8]
    sweep tp = [1, 2]
}
model small { params = 1e9 }
model big { params = 12e9 }
costmodel c {
    mem = model.params * 2 byte / workload.tp + workload.batch * 1 GB
    fits = mem <= 16 GB
    tpot = model.params * 2 FLOP / (100 TFLOP/s) * (1 + workload.batch / 8) / workload.tp
    gpu_time = tpot * workload.tp / workload.batch
}
report r {
    sweep model = [small, big]
    workload = w
    show c.mem in GB, c.tpot in ms
    QUESTION
}
"""


def _evaluate(question: str, **kwargs):
    program = perfdsl.load([], texts={"q.perf": SPEC.replace("QUESTION", question)})
    assert program.check() == []
    return program.evaluate(**kwargs)


def test_best_per_group_gives_one_row_per_group_with_the_ranked_cell():
    result = _evaluate("where c.fits\n best min c.gpu_time per model")
    rows = result.records()
    # gpu_time = 2 params / 100e12 * (1 + batch/8) / batch: least at the largest batch that fits, the same at tp 1
    # and 2 (a tie: the first in sweep order, tp 1, is kept). small fits everywhere (2 GB + 8 GB at batch 8);
    # big fits only at tp = 2 (12 GB + batch GB <= 16 GB: batch <= 4).
    assert [(r["model"], r["batch"], r["tp"]) for r in rows] == [("small", 8, 1), ("big", 4, 2)]
    assert rows[0]["c.gpu_time [s]"] == pytest.approx(2 * 1e9 / 100e12 * (1 + 8 / 8) / 8)
    assert result.n_rows == 2 and result.n_points == 16
    assert result.column("c.tpot").tolist() == pytest.approx([2e9 / 100e12 * 2, 2 * 12e9 / 100e12 * 1.5 / 2])
    assert not result.warnings


def test_a_group_with_no_answer_keeps_an_empty_row_and_is_listed_in_a_warning():
    result = _evaluate("where c.fits and workload.tp == 1\n largest batch per model")
    rows = result.records()
    assert rows[0] == {"model": "small", "batch": 8, "tp": 1, "c.mem [GB]": pytest.approx(10.0),
                       "c.tpot [ms]": pytest.approx(2e9 / 100e12 * 2 * 1e3)}
    assert rows[1] == {"model": "big", "batch": None, "tp": None, "c.mem [GB]": None, "c.tpot [ms]": None}
    (warning,) = result.warnings
    assert warning.code == "no-point" and warning.severity == "warning"
    assert warning.message == "1 of 2 groups (model) has no sweep point that meets the report's conditions"
    # big's 8 points (4 batches x 2 tp): it fits only at tp 2 with batch <= 4 (12e9 x 2 byte / 2 + batch GB <= 16 GB),
    # 3 points; tp == 1 holds at the 4 points of tp 1. Neither alone is empty: it is their `and` that nothing meets.
    assert warning.notes == ["model=big: c.fits met by 3 of 8 points, workload.tp == 1 by 4",
                             "their rows are left empty"]


def test_a_group_with_no_answer_names_the_condition_that_binds_with_the_best_value_reached():
    """A comparison with a number that no point meets gets the best value the group reaches, in the number's unit:
    big's least tpot is at batch 1, tp 2 (12e9 x 2 FLOP / 100 TFLOP/s x (1 + 1/8) / 2 = 0.135 ms); small's
    most is 1e9 x 2 FLOP / 100 TFLOP/s x (1 + 8/8) = 0.04 ms."""
    result = _evaluate("where c.fits and c.tpot <= 0.1 ms\n best min c.gpu_time per model")
    (warning,) = result.warnings
    best = 12e9 * 2 / 100e12 * (1 + 1 / 8) / 2 * 1e3
    assert best == pytest.approx(0.135)
    assert warning.notes == [f"model=big: c.fits met by 3 of 8 points, c.tpot <= 0.1 ms by none (best {best:.4g} ms)",
                             "their rows are left empty"]
    # the workbook's row of big says the same
    from perfdsl.workbook_export import build_workbook_data
    data = build_workbook_data(result, None)
    notes = [row.note for section in data.sections for row in section.rows if row.note]
    assert notes == [f"No answer: no sweep point of this group meets the report's conditions: c.fits met by 3 of 8 "
                     f"points, c.tpot <= 0.1 ms by none (best {best:.4g} ms)"]


def test_a_number_on_the_left_of_a_comparison_is_read_the_other_way():
    (warning,) = _evaluate("where c.fits and 100 us >= c.tpot\n best min c.gpu_time per model").warnings
    assert warning.notes[0] == "model=big: c.fits met by 3 of 8 points, 100 us >= c.tpot by none (best 135 us)"


def test_points_that_break_a_constraint_are_not_counted_for_a_condition():
    """The counts are of the group's points that meet the constraints; how many break one is said."""
    spec = SPEC.replace("sweep tp = [1, 2]", "sweep tp = [1, 2]\n    require batch <= 4, \"batch is at most 4\"")
    question = "where c.tpot <= 0.1 ms\n largest batch per model"
    program = perfdsl.load([], texts={"q.perf": spec.replace("QUESTION", question)})
    warning = [w for w in program.evaluate().warnings if w.code == "no-point"][0]
    # big: 8 points, 2 of them (batch 8) break the constraint; of the 6 left none has tpot <= 0.1 ms (least 0.135)
    assert warning.notes[0] == ("model=big: c.tpot <= 0.1 ms met by none of 6 points that meet the constraints "
                                "(2 break one) (best 0.135 ms)")


def test_the_no_point_warning_agrees_with_its_count():
    # One group without an answer "has" none (above); several "have" none: small at tp 2 (tp == 1 is asked for),
    # big at tp 1 (24 GB of weights) and at tp 2 (tp == 1 again).
    (warning,) = _evaluate("where c.fits and workload.tp == 1\n largest batch per model, tp").warnings
    assert warning.message == "3 of 4 groups (model x tp) have no sweep point that meets the report's conditions"


def test_where_alone_keeps_the_points_that_meet_it_in_sweep_order():
    result = _evaluate("where not c.fits or batch == 1")
    assert [(r["model"], r["batch"], r["tp"]) for r in result.records()] == [
        ("small", 1, 1), ("small", 1, 2), ("big", 1, 1), ("big", 1, 2), ("big", 2, 1), ("big", 4, 1),
        ("big", 8, 1), ("big", 8, 2)]


def test_pareto_rows_are_the_front_per_group_best_first():
    result = _evaluate("pareto min c.tpot, min c.gpu_time per model")
    fronts = [(r["model"], r["batch"], r["tp"]) for r in result.records()]
    # At tp 2 tpot halves and gpu_time stays: every tp 2 point beats its tp 1 twin on tpot, and the two metrics
    # trade off along batch (tpot grows, gpu_time shrinks).
    assert fronts == [(m, b, 2) for m in ("small", "big") for b in (1, 2, 4, 8)]


def test_only_points_that_meet_the_constraints_take_part(monkeypatch):
    """The constraints of the report (Result.valid, set by the evaluation before the questions are answered):
    points that break one never answer a question."""
    real_answer = queries.answer

    def answer_with_constraints(result, checker):
        batch = np.array([1, 2, 4, 8]).reshape(1, 4, 1)
        result.valid = np.broadcast_to(batch <= 2, result.shape)          # a constraint: batch <= 2
        real_answer(result, checker)

    monkeypatch.setattr(program_module, "answer", answer_with_constraints)
    result = _evaluate("where c.fits\n largest batch per model, tp")
    assert [(r["model"], r["tp"], r["batch"]) for r in result.records()] == [
        ("small", 1, 2), ("small", 2, 2), ("big", 1, None), ("big", 2, 2)]
    # big at tp 1: 4 batches, 2 of them above 2; 24 GB of weights fit at neither of the other 2
    assert result.warnings[0].notes[0] == ("model=big, tp=1: c.fits met by none of 2 points that meet the constraints "
                                           "(2 break one)")


def test_overrides_keep_the_question():
    result = _evaluate("smallest tp per model", overrides={"batch": [2]})
    assert [(r["model"], r["batch"], r["tp"]) for r in result.records()] == [("small", 2, 1), ("big", 2, 1)]


def test_a_report_that_extends_another_adds_filters_and_replaces_the_question():
    text = SPEC.replace("QUESTION", "where c.fits\n best min c.tpot") + """
report r2 extends r {
    where batch >= 4
    largest batch per model
}
"""
    program = perfdsl.load([], texts={"q.perf": text})
    assert program.check() == []
    assert [(r["model"], r["batch"], r["tp"]) for r in program.evaluate("r").records()] == [("small", 1, 2)]
    assert [(r["model"], r["batch"], r["tp"]) for r in program.evaluate("r2").records()] == [
        ("small", 8, 1), ("big", 4, 2)]


def test_the_workbook_data_has_the_answer_rows():
    from perfdsl.workbook_export import build_workbook_data

    result = _evaluate("where c.fits\n best min c.gpu_time per model")
    data = build_workbook_data(result, None)
    (section,) = data.sections
    assert [row.identity["model"] for row in section.rows] == ["small", "big"]
    assert [m.name for m in section.metrics] == ["c.mem", "c.tpot", "c.gpu_time"]
    assert "Question: best min c.gpu_time per model: 2 rows over 2 groups (model), 0 with no answer (where c.fits)." \
        in data.notes


def test_the_workbook_says_why_a_group_has_no_answer():
    """Whoever receives the file sees the conditions (About) and, on the empty row, why it is empty; the Setup sheet
    lists the sweep values of the answers only (it listed None for the empty row)."""
    from perfdsl.workbook_export import build_workbook_data

    data = build_workbook_data(_evaluate("where c.fits\n    where batch >= 8\n best min c.gpu_time per model"), None)
    assert ("Question: best min c.gpu_time per model: 2 rows over 2 groups (model), 1 with no answer (where c.fits "
            "and batch >= 8).") in data.notes
    (section,) = data.sections
    assert [(row.identity["model"], row.identity["batch"], row.note) for row in section.rows] == [
        ("small", 8, None),
        # big fits at 3 of its 8 points (tp 2, batch <= 4); batch >= 8 holds at 2 (batch 8, tp 1 and 2)
        ("big", None, "No answer: no sweep point of this group meets the report's conditions: c.fits met by 3 of 8 "
                      "points, batch >= 8 by 2")]
    assert ("Answers", "2 rows, the question's answers; their points take model: small, big; batch: 8; tp: 1") \
        in section.setup
    assert ("Workload", "w: sweep batch = [1, 2, 4, 8]; sweep tp = [1, 2]") in section.setup    # what was searched


def test_the_setup_sheet_writes_the_workload_one_way_with_where_or_a_question():
    """The Workload line is the sweep as written whatever the rows are (a section that takes only some of a sweep's
    values names those: tests/test_seed_report.py, `n_gpus = 1`), and the Sweep line lists this section's values in
    the sweep's order. Before: with `where` alone, the values in row order, `w: batch = 1, 2, 4, 8; tp = 2, 1` (the
    first row kept is at tp 2), where a question wrote `sweep tp = [1, 2]`."""
    from perfdsl.workbook_export import build_workbook_data

    # Kept: every point but batch 1 at tp 1 (and big's that do not fit), so tp 2 comes first in row order.
    data = build_workbook_data(_evaluate("where c.fits and (workload.batch > 1 or workload.tp == 2)"), None)
    (section,) = data.sections
    setup = dict(section.setup)
    assert setup["Workload"] == "w: sweep batch = [1, 2, 4, 8]; sweep tp = [1, 2]"
    # small: its 8 points less batch 1 at tp 1 = 7; big fits only at tp 2 with batch <= 4 (batch 1, 2, 4) = 3
    assert setup["Sweep"] == f"{7 + 3} points; model: small, big; batch: 1, 2, 4, 8; tp: 1, 2"


# -- the bundled questions, against a plain-Python search over the whole sweep -------------------------------------

@pytest.fixture(scope="module")
def questions():
    return perfdsl.load(Path(__file__).resolve().parents[1] / "reports" / "capacity_questions.perf")


def test_largest_batch_is_the_last_batch_that_fits(questions):
    result = questions.evaluate("largest_batch")
    fits = result.array("fits")                   # the whole sweep, before the question: model x hardware x batch
    assert fits.dims == ("model", "hardware", "batch")
    batches = fits.coords["batch"].tolist()
    want = {}
    for i, model in enumerate(fits.coords["model"].tolist()):
        for j, hardware in enumerate(fits.coords["hardware"].tolist()):
            fitting = [b for k, b in enumerate(batches) if fits.values[i, j, k]]
            want[model, hardware] = max(fitting) if fitting else None
    assert {(r["model"], r["hardware"]): r["batch"] for r in result.records()} == want
    assert want["llama2_70b", "rtx_a5000"] is None           # 140 GB of fp16 weights on a 24 GB GPU
    assert [w.code for w in result.warnings] == ["no-point"]


def test_cheapest_setup_is_the_least_gpu_time_that_meets_the_targets(questions):
    result = questions.evaluate("cheapest_setup")
    arrays = {name: result.array(name, display=True) for name in ("tpot", "ttft", "fits")}
    keys = arrays["tpot"].dims
    assert keys == ("model", "hardware", "batch", "tp")
    coords = arrays["tpot"].coords
    tpot, ttft, fits = (arrays[n].values for n in ("tpot", "ttft", "fits"))       # ms, ms, bool
    e2e = result.array("e2e").values                                                 # s
    want = {}
    for i, model in enumerate(coords["model"].tolist()):
        best = None
        for j, hardware in enumerate(coords["hardware"].tolist()):
            for k, batch in enumerate(coords["batch"].tolist()):
                for m, tp in enumerate(coords["tp"].tolist()):
                    if not (fits[i, j, k, m] and tpot[i, j, k, m] <= 50 and ttft[i, j, k, m] <= 1000):
                        continue
                    cost = tp * e2e[i, j, k, m] / (batch * 256)              # GPU-seconds per generated token
                    if best is None or cost < best[0]:                        # strict: ties keep the first point
                        best = (cost, hardware, batch, tp)
        want[model] = best
    got = {r["model"]: r for r in result.records()}
    for model, best in want.items():
        row = got[model]
        if best is None:
            assert row["hardware"] is None and row["gpu_time_per_token [s/token]"] is None
        else:
            assert (row["hardware"], row["batch"], row["tp"]) == best[1:]
            assert row["gpu_time_per_token [s/token]"] == pytest.approx(best[0], rel=1e-9)


def test_question_exprs_are_the_formulas_a_question_reads():
    program = perfdsl.load([], texts={"q.perf": SPEC.replace("QUESTION", "where c.fits and batch > 1\n"
                                                                         " pareto min c.tpot, max c.mem per model")})
    ctx, _ = program.prepare()
    exprs = queries.question_exprs(ctx)
    assert [ref.dotted for expr in exprs for ref in _refs(expr)] == ["c.fits", "workload.batch", "c.tpot", "c.mem"]


def _refs(expr):
    if isinstance(expr, perfdsl.ir.Ref):
        return [expr]
    return [ref for key in ("left", "right", "operand") if getattr(expr, key, None) is not None
            for ref in _refs(getattr(expr, key))]


def test_a_group_with_no_answer_names_the_choices_the_report_fixes():
    """capacity_questions.perf fixes eager transformers, whose host time per kernel bounds a 70B model's time per
    output token on every GPU (64.21 ms at best against 50 ms): the warning names the fixed roles and the --set that
    changes one; the report's workload, which holds the sweep, is not among them."""
    program = perfdsl.load(Path(__file__).resolve().parents[1] / "reports" / "capacity_questions.perf")
    result = program.evaluate("cheapest_setup", {"model": "llama3_1_70b", "hardware": "h100_sxm5"})
    (warning,) = result.warnings
    assert warning.code == "no-point"
    assert warning.hints == ["the report fixes stack = hf_eager, precision = fp16: another choice may meet the "
                             "conditions (--set stack=NAME)"]
    assert program.evaluate("cheapest_setup", {"model": "llama3_1_70b", "hardware": "h100_sxm5",
                                               "stack": "vllm"}).warnings == []
