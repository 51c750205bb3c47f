"""A report's `where` lines and question read a shown column by its `as` label (`show c.tpot in ms as tpot`, then
`where tpot <= 0.1 ms`, `best min gt per model`): the cell it shows, in SI. check and eval agree, the answers of a
chunked evaluation (streaming.py, candidates.py) and of Dask equal the whole one's and those of the same report
written with the cells, and where a label cannot be read (a report's cell, `per`, two cells under one label) the
error says it is a shown column's name and which cell or axis to write. Expected values are the arithmetic that
gives them (the program of test_queries: two models, batch x tp).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import perfdsl
from perfdsl import cli
from perfdsl.errors import PerfError, UsageError
from perfdsl.explain import explain
from perfdsl.streaming import answer_in_chunks

REPO = Path(__file__).resolve().parent.parent
QUESTIONS = REPO / "reports" / "capacity_questions.perf"

# test_queries.SPEC's sweep (batch 1, 2, 4, 8 x tp 1, 2; models of 1e9 and 12e9 parameters), its columns labelled.
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
    show c.mem in GB as mem, c.tpot in ms as tpot, c.gpu_time in us as gt, workload.batch as b, c.fits as ok
    QUESTION
}
"""


def tpot(params: float, batch: int, tp: int) -> float:
    """c.tpot in s: 2 FLOP per parameter at 100 TFLOP/s, x (1 + batch / 8), / tp."""
    return params * 2 / 100e12 * (1 + batch / 8) / tp


def load(question: str, spec: str = SPEC):
    return perfdsl.load([], texts={"q.perf": spec.replace("QUESTION", question)})


def answer(question: str, spec: str = SPEC):
    program = load(question, spec)
    assert program.check() == []
    return program.evaluate()


def points(result) -> list[tuple]:
    return [(r["model"], r["batch"], r["tp"]) for r in result.records()]


# -- labels read the cells they show ---------------------------------------------------------------------------

def test_where_and_best_read_the_cells_their_labels_show_in_si():
    """`tpot` is shown in ms and `gt` in us, but `tpot <= 0.1 ms` compares times: small's tpot is at most
    tpot(1e9, 8, 1) = 0.04 ms, big's at least tpot(12e9, 1, 2) = 0.135 ms. gt (GPU time per token) is least at
    the largest batch that fits (a tie of tp 1 and 2 at batch 8: the first, tp 1)."""
    result = answer("where ok and tpot <= 0.1 ms\n    best min gt per model")
    assert points(result) == [("small", 8, 1), ("big", None, None)]
    row = result.records()[0]
    assert row["gt [us]"] == pytest.approx(tpot(1e9, 8, 1) * 1 / 8 * 1e6)
    assert [c.name for c in result.columns] == ["mem", "tpot", "gt", "b", "ok"]        # gt is shown: not added
    (warning,) = result.warnings
    best = tpot(12e9, 1, 2) * 1e3
    assert warning.notes == [f"model=big: ok met by 3 of 8 points, tpot <= 0.1 ms by none (best {best:.4g} ms)",
                             "their rows are left empty"]


def test_a_label_answers_as_the_cell_it_shows():
    """The same question written with labels and with the cells: the same rows, value for value."""
    for by_label, by_cell in [
            ("where ok and tpot <= 0.1 ms\n    best min gt per model",
             "where c.fits and c.tpot <= 0.1 ms\n    best min c.gpu_time per model"),
            ("pareto min tpot, min gt per model", "pareto min c.tpot, min c.gpu_time per model"),
            ("where mem <= 10 GB\n    best max b per tp", "where c.mem <= 10 GB\n    largest batch per tp")]:
        labelled, written = answer(by_label), answer(by_cell)
        assert labelled.table()[0] == written.table()[0], by_label
        assert all(np.array_equal(a, b, equal_nan=True) if a.dtype.kind == "f" else a.tolist() == b.tolist()
                   for a, b in zip(labelled.table()[1], written.table()[1])), by_label


def test_a_label_of_an_axis_reads_the_axis():
    """`show workload.batch as b`: `b >= 4` keeps batch 4 and 8; mem = params x 2 byte / tp + batch GB <= 10 GB
    holds for small at every batch up to 8 (2 GB + 8 GB), so its largest b is 8 at tp 1, then tp 2."""
    assert points(answer("where b >= 4 and mem <= 10 GB\n    best max b per model, tp")) == [
        ("small", 8, 1), ("small", 8, 2), ("big", None, 1), ("big", None, 2)]


def test_a_where_on_a_label_keeps_the_points_in_sweep_order():
    """tpot x 1000 < 0.1 s, i.e. tpot < 0.1 ms: every small point (tpot(1e9, 8, 1) = 0.04 ms at most), no big one."""
    assert points(answer("where tpot * 1000 < 0.1 s")) == [("small", b, t) for b in (1, 2, 4, 8) for t in (1, 2)]


def test_a_child_report_reads_its_parents_labels():
    text = SPEC.replace("QUESTION", "") + """
report cheapest extends r {
    where ok and tpot <= 0.1 ms
    best min gt per model
}
"""
    program = perfdsl.load([], texts={"q.perf": text})
    assert program.check() == []
    assert points(program.evaluate("cheapest")) == [("small", 8, 1), ("big", None, None)]


def test_a_report_cell_of_the_labels_name_comes_first():
    """`tpot` is both a report cell (twice c.tpot) and a label of c.tpot: the bare name is the report's cell, so
    `tpot <= 0.048 ms` holds where c.tpot <= 0.024 ms: for small, at tp 1 batch 1 only (tpot(1e9, 1, 1) = 0.0225 ms,
    batch 2: 0.025 ms) and at tp 2 every batch (tpot(1e9, 8, 2) = 0.02 ms). Read as the label it would keep more."""
    spec = SPEC.replace("show c.mem", "tpot = 2 * c.tpot\n    show c.mem")
    result = answer("where tpot <= 0.048 ms and model.params < 2e9", spec)
    want = [("small", b, t) for b in (1, 2, 4, 8) for t in (1, 2) if 2 * tpot(1e9, b, t) <= 0.048e-3]
    assert points(result) == want == [("small", 1, 1), ("small", 1, 2), ("small", 2, 2), ("small", 4, 2),
                                      ("small", 8, 2)]


# -- check and eval agree: where a label cannot be read --------------------------------------------------------

def _errors(text: str) -> list[str]:
    """The errors of `check`, which `eval` raises the same."""
    program = perfdsl.load([], texts={"q.perf": text})
    checked = [d.render() for d in program.check() if d.severity == "error"]
    with pytest.raises(PerfError) as raised:
        perfdsl.load([], texts={"q.perf": text}).evaluate()
    assert [d.render() for d in raised.value.diagnostics if d.severity == "error"] == checked
    return checked


def test_a_report_cell_cannot_read_a_label():
    (error,) = _errors(SPEC.replace("QUESTION", "twice = gt * 2\n    best min twice per model"))
    assert error == """\
error[unknown-name]: 'gt' is a shown column's name, not a cell: write the cell it shows (c.gpu_time)
   --> q.perf:18:13
   |
18 |     twice = gt * 2
   |             ^^
   = in: report.r.twice
   = help: a shown column's name reads its cell in `where` lines and questions, not in a report's cells"""


def test_per_a_label_of_an_axis_names_the_axis():
    (error,) = _errors(SPEC.replace("QUESTION", "best min gt per model, b"))
    assert error.splitlines()[0] == ("error[unknown-axis]: 'b' is a shown column's name, not an axis: write the "
                                     "axis it shows (batch)")
    assert error.splitlines()[-1] == "   = help: axes: model, batch, tp"


def test_largest_a_label_of_a_cell_says_it_is_no_axis():
    (error,) = _errors(SPEC.replace("QUESTION", "largest tpot per model"))
    assert error.splitlines()[0] == "error[unknown-axis]: report 'r' has no axis 'tpot'"
    assert error.splitlines()[-2:] == ["   = help: 'tpot' is a shown column's name (it shows c.tpot), not an axis",
                                       "   = help: axes: model, batch, tp"]


def test_one_label_of_two_cells_is_an_error_at_its_use():
    spec = SPEC.replace("c.fits as ok", "c.fits as ok, c.mem in MB as gt")
    (error,) = _errors(spec.replace("QUESTION", "best min gt per model"))
    assert error.splitlines()[0] == ("error[unknown-name]: 'gt' is a shown column's name, not a cell, and its "
                                     "columns show different cells: write the cell meant (c.gpu_time or c.mem)")
    assert error.splitlines()[1] == "   --> q.perf:18:14"


def test_an_unknown_name_close_to_a_label_names_the_label_and_its_cell():
    (error,) = _errors(SPEC.replace("QUESTION", "where tpt <= 1 ms"))
    assert error.splitlines()[0] == "error[unknown-name]: unknown name 'tpt' in report 'r'"
    assert error.splitlines()[-2:] == ["   = help: did you mean a shown column: 'tpot' (c.tpot)?",
                                       "   = help: available: model, workload"]


def test_a_label_beside_a_close_cell_is_named_after_it():
    spec = SPEC.replace("show c.mem", "tpo = 1 ms\n    show c.mem")
    (error,) = _errors(spec.replace("QUESTION", "where tpt <= 1 ms"))
    assert error.splitlines()[-3:] == ["   = help: did you mean 'tpo'?",
                                       "   = help: or a shown column: 'tpot' (c.tpot)",
                                       "   = help: available: model, tpo, workload"]


def test_the_command_line_check_passes_and_eval_answers(tmp_path, capsys):
    path = tmp_path / "q.perf"
    path.write_text(SPEC.replace("QUESTION", "where ok and tpot <= 0.1 ms\n    best min gt per model"))
    assert cli.main(["check", str(path)]) == 0
    capsys.readouterr()
    assert cli.main(["eval", str(path), "--format", "csv"]) == 0
    header, small, big = capsys.readouterr().out.splitlines()
    assert header == "model,batch,tp,mem [GB],tpot [ms],gt [us],b,ok"
    assert small.split(",")[:5] + small.split(",")[6:] == ["small", "8", "1", "10.0", "0.04", "8.0", "true"]
    assert float(small.split(",")[5]) == pytest.approx(tpot(1e9, 8, 1) * 1 / 8 * 1e6)
    assert big == "big,,,,,,,"


def test_explain_takes_the_label_the_where_reads():
    program = load("where ok and tpot <= 0.1 ms\n    best min gt per model")
    text = explain(program, "gt", None, {"model": "big"})
    assert text.splitlines()[0] == f"gt: c.gpu_time = {tpot(12e9, 1, 1) * 1 / 1 * 1e6:g} us"
    two = load("best min c.tpot per model", SPEC.replace("c.fits as ok", "c.fits as ok, c.mem in MB as gt"))
    with pytest.raises(UsageError) as raised:
        explain(two, "gt", None, {})
    assert raised.value.diagnostics[0].message == (
        "'gt' is a shown column's name, not a cell, and its columns show different cells: write the cell meant "
        "(c.gpu_time or c.mem) (explain gt)")


# -- chunked, by box and on Dask: the whole answer ---------------------------------------------------------------

# capacity_questions' questions written with capacity_planning's labels (ttft, tpot, fits, total_token_throughput)
LABELLED = """
import "{}"

report cheapest_by_label extends capacity_planning {{
    workload = chat
    gpu_time_per_token = workload.n_gpus * serving.e2e / serving.tokens_out
    where fits and tpot <= 50 ms and ttft <= 1 s
    best min gpu_time_per_token per model
}}
report front_by_label extends capacity_planning {{
    workload = chat
    where fits
    pareto min tpot, max total_token_throughput per model
}}
report front_by_cell extends capacity_planning {{
    workload = chat
    where memory.fits
    pareto min serving.tpot, max serving.cluster_throughput per model
}}
"""
SMALLER = {"batch": "[1, 4, 16, 64]"}


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    path = tmp_path_factory.mktemp("labels") / "labelled.perf"
    path.write_text(LABELLED.format(QUESTIONS.as_posix()))
    return perfdsl.load(path)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype.kind == "f" and b.dtype.kind == "f":
        return a.shape == b.shape and np.array_equal(a.view(np.int64), b.view(np.int64))
    return a.tolist() == b.tolist()


def test_the_labelled_questions_answer_as_the_bundled_ones(labelled):
    pairs = [("cheapest_by_label", "cheapest_setup"), ("front_by_label", "front_by_cell")]
    for mine, theirs in pairs:
        by_label, by_cell = labelled.evaluate(mine, SMALLER), labelled.evaluate(theirs, SMALLER)
        # (a report of another file than capacity_planning's lists its workload's axes first: the same columns)
        assert by_label.records() == by_cell.records() and by_label.n_rows >= 30, mine


@pytest.mark.parametrize("report", ["cheapest_by_label", "front_by_label"])
@pytest.mark.parametrize("by_box", [False, True])
def test_labels_chunk_by_chunk_equal_the_whole_answer(labelled, report, by_box, monkeypatch):
    from perfdsl import candidates

    monkeypatch.setattr(candidates, "STEP_ONE_SHARE", 2.0)     # two steps for cheapest too (test_candidates)
    assert candidates.answers_by_box(labelled, report)
    if not by_box:                                              # each chunk evaluated whole
        monkeypatch.setattr(candidates, "answers_by_box", lambda program, report: False)
    whole = labelled.evaluate(report, SMALLER)
    answered = answer_in_chunks(labelled, report, SMALLER, chunk_points=997)
    assert answered.keys == whole.table()[0]
    assert all(_same(a, b) for a, b in zip(answered.columns, whole.table()[1]))
    # The no-point warning word for word; the constraint warnings' example points may differ by box (as they do
    # for the same reports written with cells: test_candidates compares their codes).
    assert [d.code for d in answered.warnings] == [d.code for d in whole.warnings]
    assert [d.render() for d in answered.warnings if d.code == "no-point"] == \
        [d.render() for d in whole.warnings if d.code == "no-point"]
    assert answered.rows.summary == whole.rows.summary


@pytest.mark.parametrize("report", ["cheapest_by_label", "front_by_label"])
def test_labels_on_dask_equal_the_serial_answer(labelled, report):
    distributed = pytest.importorskip("distributed", reason="dask.distributed is in the dev extra")
    from perfdsl.distributed import answer_on_dask

    program = labelled.with_overrides(SMALLER, report)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        on_dask = answer_on_dask(client, program, report, chunk_points=997)
    serial = answer_in_chunks(program, report, chunk_points=997)
    assert on_dask.keys == serial.keys
    assert all(_same(a, b) for a, b in zip(on_dask.columns, serial.columns))
    assert [d.render() for d in on_dask.warnings] == [d.render() for d in serial.warnings]
