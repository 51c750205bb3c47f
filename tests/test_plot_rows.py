"""`perfdsl plot` draws what `perfdsl eval` gives: a `where` leaves its points out of the plot, and a report with a
question (best, largest, smallest, pareto) is drawn at its answer's points only; the view, the printed line and the
subtitle say how many points are drawn and what left the others out. The data plot_data.metric_view gives is
checked, not pixels, against eval's rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import perfdsl
from perfdsl.cli import main
from perfdsl.errors import UsageError
from perfdsl.plot import metric_figure
from perfdsl.plot_data import metric_view

NAN = float("nan")

WHERE = """\
workload g { sweep batch = [1, 2, 4, 8, 16, 32] }
costmodel c { t = 1 ms * workload.batch }
report small_batches { workload = g; show c.t in ms as t; where batch <= 4 }
"""

# tpot = params * 2 FLOP / 100 TFLOP/s * (1 + batch / 8) / tp: 0.02 ms * (1 + batch / 8) / tp for `small` (1e9
# parameters), 0.24 ms * (1 + batch / 8) / tp for `big` (12e9). memory = params * 2 byte / tp + batch GB.
QUESTIONS = """\
workload grid {
    sweep batch = [1, 2, 4, 8]
    sweep tp = [1, 2]
}
model small { params = 1e9 }
model big { params = 12e9 }
costmodel serving {
    memory = model.params * 2 byte / workload.tp + workload.batch * 1 GB
    fits = memory <= 16 GB
    tpot = model.params * 2 FLOP / (100 TFLOP/s) * (1 + workload.batch / 8) / workload.tp
    gpu_time = tpot * workload.tp / workload.batch
    throughput = workload.batch / tpot
}
report all {
    workload = grid
    sweep model = [small, big]
    show serving.tpot in ms as tpot, serving.gpu_time in ms as gpu_time, serving.throughput in 1/s as throughput
}
report best extends all {
    where serving.fits
    best min serving.gpu_time per model
}
report front extends all {
    pareto min serving.tpot, max serving.throughput
}
report tp2 extends all {
    where tp == 2
}
"""


def tpot(params: float, batch: float, tp: float) -> float:
    """ms"""
    return params * 2 / 100e12 * (1 + batch / 8) / tp * 1e3


@pytest.fixture
def files(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("PERFDSL_NO_CACHE", "1")
    (tmp_path / "wplot.perf").write_text(WHERE)
    (tmp_path / "q.perf").write_text(QUESTIONS)
    return tmp_path


def evaluate(path: Path, report: str | None = None):
    return perfdsl.load([path]).evaluate(report)


def lines(panel) -> dict[str, list[float]]:
    return {s.label: s.estimated.tolist() for s in panel.series}


def same(a, b) -> bool:
    return np.allclose(np.asarray(a, float), np.asarray(b, float), rtol=1e-12, atol=0, equal_nan=True)


def drawn_points(view) -> list[tuple]:
    """(panel, series, x, estimate) of every point drawn: what the picture shows, to set beside eval's rows."""
    return [(p.title, s.label, x, float(v)) for p in view.panels for s in p.series
            for x, v in zip(s.x, s.estimated.tolist()) if np.isfinite(v)]


def test_a_where_leaves_its_points_off_the_plot(files):
    result = evaluate(files / "wplot.perf")
    view = metric_view(result, y="t", x="batch")
    (panel,) = view.panels
    # t = 1 ms * batch at batch 1, 2, 4 (eval's rows); 8, 16 and 32 are left out by `where batch <= 4`, and so is
    # their part of the x axis (_span_drawn).
    assert same(panel.series[0].estimated, [1 * 1, 1 * 2, 1 * 4])
    assert panel.series[0].x == [1, 2, 4]
    assert [(x, v) for _, _, x, v in drawn_points(view)] == [(r["batch"], r["t [ms]"]) for r in result.records()]
    assert view.left_out == "3 of 6 points: where batch <= 4"
    assert not view.answer


def test_plot_says_what_a_where_left_out(files, capsys):
    status = main(["plot", str(files / "wplot.perf"), "--y", "t", "--x", "batch", "-o", str(files / "w.png")])
    assert status == 0
    assert f"wrote {files / 'w.png'} (small_batches: t per batch; 3 of 6 points: where batch <= 4)" in \
        capsys.readouterr().err
    figure = metric_figure(metric_view(evaluate(files / "wplot.perf"), y="t", x="batch"))
    try:
        assert figure.get_suptitle() == "small_batches: t per batch\n3 of 6 points: where batch <= 4"
    finally:
        import matplotlib.pyplot as plt

        plt.close(figure)


def test_the_x_axis_spans_the_points_a_where_leaves_in(files):
    """The x axis spans what is drawn, not the whole sweep. Before, `where batch <= 4` drew batch 1, 2, 4 on an axis
    from 1 to 32 (ticks 8, 16, 32 over nothing, and log because 32 / 1 spans decades), and `where model.p >= 3` drew
    m3 and m4 beside the empty categories m1 and m2."""
    import matplotlib.pyplot as plt

    view = metric_view(evaluate(files / "wplot.perf"), y="t", x="batch")
    assert not view.x_log                          # 4 / 1 < LOG_RATIO: a linear axis
    figure = metric_figure(view)
    try:
        # matplotlib's 5% margins on each side of the data, 1 .. 4
        assert figure.axes[0].get_xlim() == pytest.approx((1 - 0.05 * (4 - 1), 4 + 0.05 * (4 - 1)))
    finally:
        plt.close(figure)
    (files / "models.perf").write_text(
        "model m1 { p = 1 }\nmodel m2 { p = 2 }\nmodel m3 { p = 3 }\nmodel m4 { p = 4 }\n"
        "costmodel c { t = 1 ms * model.p }\n"
        "report r { sweep model = [m1, m2, m3, m4]; show c.t in ms as t; where model.p >= 3 }\n")
    view = metric_view(evaluate(files / "models.perf"), y="t")
    assert (view.categorical, view.categories) == (True, ["m3", "m4"])
    assert view.panels[0].series[0].x == [0, 1]
    assert same(view.panels[0].series[0].estimated, [1 * 3, 1 * 4])
    assert view.left_out == "2 of 4 points: where model.p >= 3"
    figure = metric_figure(view)
    try:
        assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == ["m3", "m4"]
    finally:
        plt.close(figure)


def test_a_group_without_an_answer_keeps_its_place_on_x(files):
    """eval keeps a row, empty, for a group with no answer: its category stays on x (the span is of eval's rows),
    empty. `big`'s least tpot is 0.24 ms x (1 + 1 / 8) / 2 = 0.135 ms, not below 0.1 ms: no answer; `small`'s GPU
    time per token is least at batch 8 (tp 1 and 2 tie: the first), tpot 0.02 ms x (1 + 8 / 8) = 0.04 ms."""
    (files / "none.perf").write_text(QUESTIONS.replace("where serving.fits", "where serving.fits and "
                                                                           "serving.tpot < 0.1 ms"))
    assert tpot(12e9, 1, 2) == pytest.approx(0.24 * (1 + 1 / 8) / 2) and tpot(12e9, 1, 2) > 0.1
    view = metric_view(evaluate(files / "none.perf", "best"), y="tpot")
    assert view.categories == ["small", "big"]
    assert same(view.panels[0].series[0].estimated, [tpot(1e9, 8, 1), NAN])


@pytest.mark.parametrize("mode", ["omit", "mark"])
def test_a_where_and_a_require_both_say_what_they_left_out(files, mode):
    (files / "both.perf").write_text(WHERE.replace("sweep batch = [1, 2, 4, 8, 16, 32]",
                                                   "sweep batch = [1, 2, 4, 8, 16, 32]; require batch != 2, \"odd\"")
                                     .replace("workload = g;", f"workload = g; invalid_points = \"{mode}\";"))
    result = evaluate(files / "both.perf")
    view = metric_view(result, y="t", x="batch")
    # batch 1 and 4 drawn; 2 breaks the require, 8, 16, 32 fail the where. Under "mark" too, a `where` takes no
    # point that breaks a constraint: eval's rows are batch 1 and 4 either way.
    assert [r["batch"] for r in result.records()] == [1, 4]
    # The x axis spans batch 1 to 4, what is drawn; batch 2 inside it stays, a gap in the line.
    assert same(view.panels[0].series[0].estimated, [1, NAN, 4])
    assert view.left_out == "2 of 6 points: where batch <= 4; 1 of the 6 breaks a require"


def test_a_panel_the_where_leaves_no_point_in_is_left_out(files):
    view = metric_view(evaluate(files / "q.perf", "tp2"), y="tpot", x="batch", series="model")
    # tp, the one axis left, is the panels: tp = 1 has no point `where tp == 2` leaves in.
    assert [panel.title for panel in view.panels] == ["tp=2"]
    assert same(lines(view.panels[0])["small"], [tpot(1e9, b, 2) for b in (1, 2, 4, 8)])
    assert same(lines(view.panels[0])["big"], [tpot(12e9, b, 2) for b in (1, 2, 4, 8)])
    # 8 points at tp = 2 (4 batches x 2 models), every one in eval's rows; 8 more at tp = 1.
    assert view.left_out == "8 of 16 points: where tp == 2"


def test_an_axis_held_by_default_takes_a_value_the_where_leaves_in(files):
    (files / "held.perf").write_text("""\
workload g {
    sweep batch = [1, 2, 4]
    sweep tp = [1, 2]
    sweep seq = [128, 256]
    sweep replicas = [1, 2]
}
costmodel c { t = 1 ms * workload.batch * workload.seq / 128 / workload.tp * workload.replicas }
report long { workload = g; show c.t in ms as t; where seq == 256 }
""")
    view = metric_view(evaluate(files / "held.perf"), y="t")
    # x batch, a series per tp; seq and replicas held. At seq's first value, 128, the `where` leaves no point: seq is
    # held at 256, the first row's, and replicas at its first value, 1.
    assert (view.x_label, view.held, view.defaulted) == ("batch", "seq=256, replicas=1", ["replicas"])
    assert same(lines(view.panels[0])["tp=1"], [1 * b * 256 / 128 / 1 * 1 for b in (1, 2, 4)])
    assert same(lines(view.panels[0])["tp=2"], [1 * b * 256 / 128 / 2 * 1 for b in (1, 2, 4)])
    # The plot covers 3 batches x 2 tp at seq = 256, replicas = 1: all 6 are eval's rows.
    assert view.left_out == "6 of 6 points: where seq == 256"


def test_best_per_group_is_one_point_per_group(files):
    result = evaluate(files / "q.perf", "best")
    view = metric_view(result, y="tpot")
    # x is the group axis (model): one point per model, at the batch and tp of its answer. small fits at every point,
    # and its GPU time per token 0.02 ms * (1 + batch / 8) / batch is least at batch 8 (tp 1 and 2 tie: the first);
    # big fits (24 GB / tp + batch GB <= 16 GB) at tp 2 and batch <= 4 only: batch 4.
    assert view.answer and view.categorical and view.categories == ["small", "big"]
    (panel,) = view.panels
    assert same(lines(panel)["tpot"], [tpot(1e9, 8, 1), tpot(12e9, 4, 2)])
    assert [(view.categories[x], v) for _, _, x, v in drawn_points(view)] == \
        [(r["model"], r["tpot [ms]"]) for r in result.records()]
    assert view.left_out == "2 of 16 points: where serving.fits; best min serving.gpu_time per model"
    # With batch as x, the group axis is the series: still one point per model.
    view = metric_view(result, y="tpot", x="batch")
    # The x axis spans the answers' batches, 4 and 8 (1 and 2 have none).
    assert view.panels[0].series[0].x == [4, 8]
    assert same(lines(view.panels[0])["small"], [NAN, tpot(1e9, 8, 1)])
    assert same(lines(view.panels[0])["big"], [tpot(12e9, 4, 2), NAN])


def test_plot_says_it_draws_the_answer(files, capsys):
    status = main(["plot", str(files / "q.perf"), "--report", "best", "--y", "tpot", "-o", str(files / "b.png")])
    assert status == 0
    assert ("(best: tpot per model, at the answer's points; 2 of 16 points: where serving.fits; "
            "best min serving.gpu_time per model)") in capsys.readouterr().err


def test_a_pareto_front_is_drawn_as_its_front(files):
    result = evaluate(files / "q.perf", "front")
    view = metric_view(result, y="tpot", x="batch", series="tp")
    (panel,) = view.panels
    # The front of (min tpot, max throughput = batch / tpot): small on two GPUs, at every batch; no point at tp 1
    # (its tpot is twice tp 2's at the same throughput per ... batch / tpot, so tp 2 dominates it).
    assert same(lines(panel)["tp=2"], [tpot(1e9, b, 2) for b in (1, 2, 4, 8)])
    assert same(lines(panel)["tp=1"], [NAN] * 4)
    assert [(x, v) for _, _, x, v in drawn_points(view)] == [(r["batch"], r["tpot [ms]"]) for r in result.records()]
    assert view.left_out == "4 of 16 points: pareto min serving.tpot, max serving.throughput"


def test_a_pareto_front_against_a_metric_is_the_front_curve(files):
    result = evaluate(files / "q.perf", "front")
    view = metric_view(result, y="tpot", x="throughput", along="batch", series="tp")
    (panel,) = view.panels
    front = {s.label: s for s in panel.series}["tp=2"]
    # throughput = batch / tpot, in 1/s: 1 / 11.25 us, 2 / 12.5 us, 4 / 15 us, 8 / 20 us.
    assert same(front.x, [b / (tpot(1e9, b, 2) / 1e3) for b in (1, 2, 4, 8)])
    assert same(front.estimated, [r["tpot [ms]"] for r in result.records()])


def test_at_a_value_no_point_of_the_answer_has_is_a_usage_error(files):
    with pytest.raises(UsageError) as caught:
        metric_view(evaluate(files / "q.perf", "best"), y="tpot", at={"batch": "1"})
    assert caught.value.diagnostics[0].message == "no point of the answer has batch=1"


def test_a_report_without_where_or_question_is_drawn_as_before(files, capsys):
    view = metric_view(evaluate(files / "q.perf", "all"), y="tpot")
    # Every point: x batch, a series per tp, a panel per model, no words about points left out.
    assert (view.x_label, view.left_out, view.answer, view.run_points) == ("batch", "", False, None)
    assert [p.title for p in view.panels] == ["model=small", "model=big"]
    for panel, params in zip(view.panels, (1e9, 12e9)):
        assert same(lines(panel)["tp=1"], [tpot(params, b, 1) for b in (1, 2, 4, 8)])
        assert same(lines(panel)["tp=2"], [tpot(params, b, 2) for b in (1, 2, 4, 8)])
    assert main(["plot", str(files / "q.perf"), "--report", "all", "-o", str(files / "a.png")]) == 0
    assert f"wrote {files / 'a.png'} (all: tpot per batch and tp, 2 panels)\n" in capsys.readouterr().err


# 18 models, m01 .. m18 with k x 1e9 parameters: t = params x batch / 1e9 ms. x is batch (the numeric axis), the
# series model (the one left): 18 values, more than a legend tells apart (MAX_SERIES = 16).
MANY = "".join(f"model m{k:02d} {{ params = {k}e9 }}\n" for k in range(1, 19)) + """\
workload g { sweep batch = [1, 2, 3] }
costmodel c { t = 1 ms * model.params / 1e9 * workload.batch }
report many {
    sweep model = [""" + ", ".join(f"m{k:02d}" for k in range(1, 19)) + """]
    workload = g
    show c.t in ms as t
    where model.params != 2e9
}
"""


def test_a_default_series_of_too_many_values_draws_the_first_and_says_so(files, capsys):
    """The default plot of a report whose series axis has more values than MAX_SERIES (capacity_questions'
    latency_throughput: a front per model, 30 models) draws the first 16 values with points and says so on the
    picture and the printed line, with a --set of real values to paste; it was refused ("model has 30 values, too
    many series") with a hint to write A,B,C. Named with --series, too many is still refused, with real values."""
    import matplotlib.pyplot as plt

    (files / "many.perf").write_text(MANY)
    result = evaluate(files / "many.perf")
    view = metric_view(result, y="t")
    # m02 has no point (the where): the first 16 with points are m01, m03 .. m17; m18 is not drawn.
    drawn = ["m01"] + [f"m{k:02d}" for k in range(3, 18)]
    assert [s.label for s in view.panels[0].series] == drawn
    assert same(lines(view.panels[0])["m03"], [3 * 1, 3 * 2, 3 * 3])
    assert view.series_note == "16 of 18 models drawn, the first with points; to draw others, e.g. --set model=m18"
    assert view.left_out == f"{16 * 3} of {16 * 3} points: where model.params != 2e9"     # the drawn models' points
    figure = metric_figure(view)
    try:
        # the subtitle's last lines, wrapped to the figure's width
        assert " ".join(figure.get_suptitle().splitlines()[-2:]) == view.series_note
    finally:
        plt.close(figure)
    out = files / "many.png"
    assert main(["plot", str(files / "many.perf"), "-o", str(out)]) == 0
    assert capsys.readouterr().err == (f"wrote {out} (many: t per batch and model; {16 * 3} of {16 * 3} points: where "
                                       "model.params != 2e9; 16 of 18 models drawn, the first with points; to draw "
                                       "others, e.g. --set model=m18)\n")
    # Fewer than 16 with points: those are drawn, and the words say the others have none.
    (files / "few.perf").write_text(MANY.replace("model.params != 2e9", "model.params <= 10e9"))
    view = metric_view(evaluate(files / "few.perf"), y="t")
    assert [s.label for s in view.panels[0].series] == [f"m{k:02d}" for k in range(1, 11)]
    assert view.series_note == "10 of 18 models drawn, those with points (the others have none)"
    with pytest.raises(UsageError) as caught:
        metric_view(result, y="t", series="model")
    assert caught.value.diagnostics[0].message == "model has 18 values, too many series for one plot (at most 16)"
    assert caught.value.diagnostics[0].hints == ["pick some with --set model=m01,m02,m03, or hold it with --at "
                                                 "model=m01"]
