"""`perfdsl plot` of a report with `points = "runs"` (only the points its runs matched: eval's rows, each drawn at its
own values of the axes not drawn), and which booleans a plot draws hollow (a shown `fits`, or those --hollow names;
never `saturated` by default). The data plot_data.metric_view gives is checked, not pixels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import perfdsl
from perfdsl.cli import main
from perfdsl.errors import UsageError
from perfdsl.measured import evaluate_with_runs
from perfdsl.plot_data import metric_view

# runtime = 10 ms * batch / n_gpus * seq_len / 128; the runs set batch, n_gpus and seq_len: eval's rows are
# (1, 1, 128), (4, 2, 128) and (8, 1, 256) of the 3 x 2 x 2 points their values span.
REPORT = """\
workload w {
    batch = 1
    n_gpus = 1
    seq_len = 128
    output_len = 16                   # runtime does not read it: runs that differ only here have one estimate
}
costmodel c {
    runtime = 10 ms * workload.batch / workload.n_gpus * workload.seq_len / 128
}
report r {
    points = "runs"
    measured = "runs.csv"
    workload = w
    show c.runtime in ms as runtime
}
"""
RUNS = "batch,n_gpus,seq_len,runtime [ms]\n1,1,128,11\n4,2,128,19\n8,1,256,170\n"
NAN = float("nan")


def runtime(batch: float, n_gpus: float, seq_len: float) -> float:
    return 10 * batch / n_gpus * seq_len / 128


@pytest.fixture
def report(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("PERFDSL_NO_CACHE", "1")
    (tmp_path / "r.perf").write_text(REPORT)
    (tmp_path / "runs.csv").write_text(RUNS)
    return tmp_path / "r.perf"


def evaluated(path: Path, measured: list[str] | None = None):
    result = evaluate_with_runs(perfdsl.load([path]), None, None, measured=measured, base_dir=str(path.parent))
    return result.result, result.comparison


def lines(view) -> dict[str, tuple[list, list]]:
    """label -> (estimated, measured) of each series of the only panel, NaN as nan (compared with `same`)."""
    (panel,) = view.panels
    return {s.label: (s.estimated.tolist(), s.measured.tolist()) for s in panel.series}


def same(a, b) -> bool:
    return np.array_equal(np.asarray(a, float), np.asarray(b, float), equal_nan=True)


def test_only_the_runs_points_are_drawn_each_at_its_own_seq_len(report):
    view = metric_view(*evaluated(report), y="runtime", x="batch", series="n_gpus")
    drawn = lines(view)
    assert list(drawn) == ["n_gpus=1", "n_gpus=2"]
    # x = batch 1, 4, 8: on one GPU the runs (1, 128) and (8, 256); on two, (4, 128). seq_len is each run's own,
    # not held at its first value 128 (which drew 10 * 8 / 1 = 80 ms beside the 170 ms measured at seq_len 256).
    assert same(drawn["n_gpus=1"][0], [runtime(1, 1, 128), NAN, runtime(8, 1, 256)])
    assert same(drawn["n_gpus=1"][1], [11, NAN, 170])
    assert same(drawn["n_gpus=2"][0], [NAN, runtime(4, 2, 128), NAN])
    assert same(drawn["n_gpus=2"][1], [NAN, 19, NAN])
    assert (view.run_points, view.held, view.defaulted) == (3, "", [])


def test_every_estimate_drawn_has_its_run_beside_it(report):
    view = metric_view(*evaluated(report), y="runtime", x="batch", series="n_gpus")
    for estimated, measured in lines(view).values():
        assert same(np.isfinite(estimated), np.isfinite(measured))


def test_at_keeps_the_runs_that_have_its_value(report):
    view = metric_view(*evaluated(report), y="runtime", x="batch", series="seq_len", at={"n_gpus": "2"})
    drawn = lines(view)
    # The one run on two GPUs is at batch 4: the x axis spans it alone (batch 1 and 8 have no run there).
    assert view.panels[0].series[0].x == [4]
    assert same(drawn["seq_len=128"][0], [runtime(4, 2, 128)])
    assert same(drawn["seq_len=256"][0], [NAN])
    assert (view.run_points, view.held) == (1, "n_gpus=2")


def test_at_a_value_no_run_has_is_a_usage_error(report):
    with pytest.raises(UsageError) as caught:
        metric_view(*evaluated(report), y="runtime", x="seq_len", at={"n_gpus": "2", "batch": "1"})
    assert caught.value.diagnostics[0].message == "no run's point has n_gpus=2, batch=1"


MORE = "batch,n_gpus,seq_len,output_len,runtime [ms]\n1,1,128,16,11\n1,1,256,16,21\n4,2,128,16,19\n"


def test_runs_on_one_drawn_point_get_a_panel_each_of_the_axis_that_parts_them(report):
    # The runs (1, 1, 128) and (1, 1, 256) differ in seq_len alone, which neither x nor the series draws: a panel for
    # each of its values, where the plot names no --panels.
    (report.parent / "more.csv").write_text(MORE)
    view = metric_view(*evaluated(report, [str(report.parent / "more.csv")]), y="runtime", x="batch",
                       series="n_gpus")
    assert [panel.title for panel in view.panels] == ["seq_len=128", "seq_len=256"]
    # x = batch 1, 4; series n_gpus = 1, 2.
    want = [[[runtime(1, 1, 128), NAN], [NAN, runtime(4, 2, 128)]], [[runtime(1, 1, 256), NAN], [NAN, NAN]]]
    for panel, estimates in zip(view.panels, want, strict=True):
        assert same([s.estimated for s in panel.series], estimates)


def test_runs_that_panels_cannot_part_ask_for_the_axis_that_tells_them_apart(report):
    # A fourth run differs from (1, 1, 256) in output_len alone: seq_len's panels cannot part them.
    (report.parent / "more.csv").write_text(MORE + "1,1,256,32,22\n")
    data = evaluated(report, [str(report.parent / "more.csv")])
    with pytest.raises(UsageError) as caught:
        metric_view(*data, y="runtime", x="batch", series="n_gpus")
    diagnostic = caught.value.diagnostics[0]
    assert diagnostic.message == ("two runs' points fall on one drawn point: they differ in output_len=16 and 32, "
                                  "which the plot neither draws nor holds")
    assert diagnostic.hints == ["draw output_len with --series or --panels, or hold it with --at output_len=VALUE"]
    view = metric_view(*data, y="runtime", x="batch", series="n_gpus", at={"output_len": "32"})
    assert [panel.title for panel in view.panels] == [""]
    assert view.panels[0].series[0].x == [1]            # the one run of output_len 32 is at batch 1
    assert same(view.panels[0].series[0].estimated, [runtime(1, 1, 256)])


def test_panels_without_a_run_are_left_out(report):
    view = metric_view(*evaluated(report), y="runtime", x="batch", series="n_gpus", panels="seq_len")
    assert [panel.title for panel in view.panels] == ["seq_len=128", "seq_len=256"]
    # On two GPUs the one run has seq_len 128: no panel for 256.
    view = metric_view(*evaluated(report), y="runtime", x="batch", panels="seq_len", at={"n_gpus": "2"})
    assert [panel.title for panel in view.panels] == ["seq_len=128"]
    assert same(view.panels[0].series[0].estimated, [runtime(4, 2, 128)])


def test_plot_says_it_draws_the_runs_points(report, capsys):
    out = report.parent / "r.png"
    assert main(["plot", str(report), "--y", "runtime", "--x", "batch", "--series", "n_gpus", "-o", str(out)]) == 0
    assert capsys.readouterr().err == f"wrote {out} (r: runtime per batch and n_gpus, at the 3 runs' points)\n"
    assert main(["plot", str(report), "--x", "batch", "--series", "seq_len", "--at", "n_gpus=2", "-o",
                 str(out)]) == 0
    assert capsys.readouterr().err == (f"wrote {out} (r: runtime per batch and seq_len, at the run's point with "
                                       "n_gpus=2)\n")


# A step of 1 GFLOP x batch x seq_len / 128 and 1 GB, each split over n_gpus, on a GPU of 100 TFLOP/s and 1 TB/s:
# intensity = batch x seq_len / 128 FLOP/byte (n_gpus divides both), whatever GPU count.
ROOFLINE = REPORT.replace("costmodel c {", """hardware g {
    peak_fp16 = 100 TFLOP/s
    mem_bw = 1 TB/s
}
costmodel step {
    flops = 1 GFLOP * workload.batch * workload.seq_len / 128 / workload.n_gpus
    bytes = 1 GB / workload.n_gpus
    time = max(flops / hardware.peak_fp16, bytes / hardware.mem_bw)
}
costmodel c {""").replace("    workload = w\n", "    workload = w\n    hardware = g\n").replace(
    "show c.runtime in ms as runtime", "show step.time in ms as runtime")


def test_the_roofline_is_drawn_at_a_runs_point(report, capsys):
    """The roofline of a `points = "runs"` report is at one of eval's rows, the runs' points, chosen with --at on the
    axes the runs' fields make, as explain chooses it. It took the report's own sweep: --at n_gpus=2 was refused (no
    such axis) and batch, n_gpus and seq_len stayed at their written values (1, 1, 128) whatever run was asked for."""
    (report.parent / "roof.perf").write_text(ROOFLINE)
    out = report.parent / "roof.png"
    assert main(["plot", str(report.parent / "roof.perf"), "--roofline", "--at", "n_gpus=2", "-o", str(out)]) == 0
    # the run (4, 2, 128): 1 GFLOP x 4 / 2 = 2 GFLOP over 1 GB / 2 = 0.5 GB
    assert capsys.readouterr().err == f"wrote {out} (roofline of 1 operation class at batch=4, n_gpus=2, seq_len=128)\n"
    from perfdsl.explain_runs import with_runs
    from perfdsl.roofline import roofline_view

    program, points, _ = with_runs(perfdsl.load([report.parent / "roof.perf"]), None, None, None, [],
                                   str(report.parent))
    (step,) = roofline_view(program, at={"batch": "8"}, points=points).classes
    assert (step.flops, step.bytes) == (1e9 * 8 * 256 / 128, 1e9)          # the run (8, 1, 256)
    assert step.intensity == 8 * 256 / 128
    view = roofline_view(program, points=points)                           # no --at: the first run, the others named
    assert (view.classes[0].flops, view.classes[0].bytes) == (1e9, 1e9)
    assert (view.point, view.note) == ("batch=1, n_gpus=1, seq_len=128", "the first of 3 runs' points; the others "
                                       "have batch=4, n_gpus=2; batch=8, seq_len=256; choose with --at AXIS=VALUE")
    with pytest.raises(UsageError, match="no run's point has n_gpus=2, batch=1"):
        roofline_view(program, at={"n_gpus": "2", "batch": "1"}, points=points)


def test_a_where_says_how_many_of_the_runs_points_it_keeps(report, capsys):
    """`where workload.batch <= 4` keeps 2 of the 3 runs' points, (1, 1, 128) and (4, 2, 128): the view, the printed
    line and the subtitle say so, as "3 of 6 points: where batch <= 4" does for a sweep (they said "at the 2 runs'
    points" only). With --at n_gpus=1, of the 2 runs on one GPU the where keeps 1."""
    import matplotlib.pyplot as plt

    from perfdsl.plot import metric_figure

    kept = report.parent / "kept.perf"
    kept.write_text(REPORT.replace("    workload = w\n", "    workload = w\n    where workload.batch <= 4\n"))
    view = metric_view(*evaluated(kept), y="runtime", x="batch", series="n_gpus")
    assert (view.run_points, view.left_out) == (2, "2 of 3 runs' points: where workload.batch <= 4")
    assert same(lines(view)["n_gpus=1"][0], [runtime(1, 1, 128), NAN])      # x: batch 1 and 4, the kept runs'
    figure = metric_figure(view)
    try:
        assert figure.get_suptitle() == ("r: runtime per batch and n_gpus\nat the runs' points\n"
                                         "2 of 3 runs' points: where workload.batch <= 4")
    finally:
        plt.close(figure)
    view = metric_view(*evaluated(kept), y="runtime", x="batch", series="seq_len", at={"n_gpus": "1"})
    assert (view.run_points, view.left_out) == (1, "1 of 2 runs' points: where workload.batch <= 4")
    out = report.parent / "kept.png"
    assert main(["plot", str(kept), "--y", "runtime", "--x", "batch", "--series", "n_gpus", "-o", str(out)]) == 0
    assert capsys.readouterr().err == (f"wrote {out} (r: runtime per batch and n_gpus, at the runs' points; "
                                       "2 of 3 runs' points: where workload.batch <= 4)\n")


def test_a_report_of_sweep_points_is_drawn_as_before(report):
    (report.parent / "sweep.perf").write_text(REPORT.replace('points = "runs"', 'points = "sweep"')
                                              .replace("batch = 1", "sweep batch = [1, 4, 8]"))
    view = metric_view(*evaluated(report.parent / "sweep.perf"), y="runtime", x="batch")
    (line,) = view.panels[0].series
    assert line.estimated.tolist() == [runtime(b, 1, 128) for b in (1, 4, 8)]
    assert view.run_points is None


# The newcomer's case: published_optimum has three runs, Llama-3.1-8B bf16 on one A100, Llama-3.1-70B bf16 on two
# A100s and Llama-3.1-70B fbgemm_fp8 on one H100; the plot drew four estimates at precision=bf16, n_gpus=1 (one of
# them the 70B on one A100, a set-up no run has) and one measured diamond.
ROOT = Path(__file__).resolve().parents[1]
OPTIMUM_LOGS = sorted((ROOT.parent / "shared" / "logs" / "01_optimum_benchmark").glob("derekliu35_*.json"))


@pytest.mark.skipif(not OPTIMUM_LOGS, reason="../shared/logs/01_optimum_benchmark is absent")
def test_published_optimum_draws_each_run_with_its_estimate_as_eval_has_them():
    program = perfdsl.load([ROOT / "reports" / "published_optimum.perf"])
    done = perfdsl.evaluate_with_runs(program, measured=[str(log) for log in OPTIMUM_LOGS])
    keys, columns = done.comparison.table()
    rows = {(r["Model"], r["Device"]): r for r in (dict(zip(keys, values)) for values in zip(*columns))}
    view = metric_view(done.result, done.comparison, y="prefill_latency", x="model", series="hardware")
    (panel,) = view.panels
    drawn = {}
    for series in panel.series:
        for model, estimated, measured in zip(view.categories, series.estimated, series.measured):
            if np.isfinite(estimated) or np.isfinite(measured):
                drawn[(model, series.label)] = (estimated, measured)
    assert drawn == {key: (pytest.approx(row["prefill_latency [ms]"]),
                           pytest.approx(row["prefill_latency measured [ms]"])) for key, row in rows.items()}
    assert len(drawn) == 3 and view.run_points == 3


# Hollow points: a report showing `fits` (10 GB * batch fits in 25 GB at batch 1 and 2) and `saturated` (runtime
# = 2 ms * batch above 5 ms: batch 3 and 4), unlabelled as `show c.saturated` is.
HOLLOW = """\
workload w {
    sweep batch = [1, 2, 3, 4]
}
costmodel c {
    runtime = 2 ms * workload.batch
    fits = 10 GB * workload.batch <= 25 GB
    saturated = runtime > 5 ms
}
report r {
    workload = w
    show c.runtime in ms as runtime, c.fits as fits, c.saturated
}
"""


def test_a_boolean_whose_true_is_the_bad_case_is_not_drawn_hollow(tmp_path: Path):
    (tmp_path / "r.perf").write_text(HOLLOW)
    view = metric_view(*evaluated(tmp_path / "r.perf"), y="runtime", x="batch")
    (line,) = view.panels[0].series
    # Only fits marks: hollow where 10 GB * batch > 25 GB; saturated (true at batch 3, 4) marks nothing.
    assert line.failing.tolist() == [10 * b > 25 for b in (1, 2, 3, 4)] == [False, False, True, True]
    assert view.checks == ["fits"]
    (tmp_path / "s.perf").write_text(HOLLOW.replace("c.fits as fits, ", ""))
    view = metric_view(*evaluated(tmp_path / "s.perf"), y="runtime", x="batch")
    assert view.panels[0].series[0].failing is None and view.checks == [] and view.failing_points == (0, 4)


def test_hollow_names_the_booleans_that_mark(tmp_path: Path):
    (tmp_path / "r.perf").write_text(HOLLOW)
    data = evaluated(tmp_path / "r.perf")
    for name in ("saturated", "c.saturated"):
        view = metric_view(*data, y="runtime", x="batch", hollow=[name])
        assert view.panels[0].series[0].failing.tolist() == [not 2 * b > 5 for b in (1, 2, 3, 4)]
        assert view.checks == ["c.saturated"]
    view = metric_view(*data, y="runtime", x="batch", hollow=[])
    assert view.panels[0].series[0].failing is None and view.checks == []


@pytest.mark.parametrize("name, message", [
    ("runtime", "--hollow runtime: 'runtime' is not a boolean"),
    ("nosuch", "--hollow nosuch: 'nosuch' is not shown by the report")])
def test_hollow_of_a_name_that_is_not_a_shown_boolean_is_a_usage_error(tmp_path: Path, capsys, name, message):
    (tmp_path / "r.perf").write_text(HOLLOW)
    out = tmp_path / "r.png"
    assert main(["plot", str(tmp_path / "r.perf"), "--hollow", name, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[0] == f"error[bad-plot]: {message}"
    assert "  = help: available: c.saturated, fits" in err.splitlines()
    assert not out.exists()


def test_plot_counts_the_points_hollow_by_the_boolean_hollow_names(tmp_path: Path, capsys):
    (tmp_path / "r.perf").write_text(HOLLOW)
    out = tmp_path / "r.png"
    assert main(["plot", str(tmp_path / "r.perf"), "--hollow", "saturated", "-o", str(out)]) == 0
    # saturated is false at batch 1 and 2 (2 ms * batch <= 5 ms): 2 of 4 points.
    assert capsys.readouterr().err == (
        f"wrote {out} (r: runtime per batch; 2 of 4 points hollow: c.saturated = false)\n")
    assert main(["plot", str(tmp_path / "r.perf"), "-o", str(out)]) == 0
    assert capsys.readouterr().err == f"wrote {out} (r: runtime per batch; 2 of 4 points hollow: fits = false)\n"
