"""`perfdsl plot`: every bundled report drawn as a metric plot and as a roofline, read back as images; the data behind
the plots checked against the arithmetic that gives it and against the seed's measured runs; `make run`'s plot."""

from __future__ import annotations

import csv
import math
import re
import shlex
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from PIL import Image

import perfdsl
from perfdsl.cli import main
from perfdsl.plot import DPI, PANEL_SIZE, legend_number, metric_figure, plain_number, roofline_figure
from perfdsl.plot_data import metric_view
from perfdsl.roofline import roofline_view

REPO = Path(__file__).resolve().parents[1]
# The bundled files that define a report (reports/ also holds a calibration, a library file without one).
REPORTS = [path for path in sorted((REPO / "reports").glob("*.perf"))
           if re.search(r"^report\s", path.read_text(encoding="utf-8"), re.M)]
SEED = REPO / "reports" / "seed_benchmark.perf"
EXAMPLE = REPO / "reports" / "example.perf"
CAPACITY = REPO / "reports" / "capacity_planning.perf"

# The default metric plot of each bundled report: (y label, x label, panels), as plot_data's defaults choose them
# (the seed report's n_gpus is the one axis left after model and hardware: a panel for each of its two values).
DEFAULT_LABELS = {
    "capacity_planning.perf": ("ttft (ms)", "batch", 1),
    # its question `largest_batch` (a file of several): the answer, a point per model (x) and hardware (series)
    "capacity_questions.perf": ("ttft (ms)", "model", 1),
    "deployment.perf": ("ttft (ms)", "batch", 1),
    "example.perf": ("prefill runtime (ms)", "seq", 1),
    "published_autoawq.perf": ("prefill throughput (token/s)", "model", 1),
    "published_llamacpp.perf": ("prefill throughput (token/s)", "seq_len", 1),   # its first report: the table
    "published_optimum.perf": ("prefill latency (ms)", "model", 2),       # one panel per GPU
    # x is tp of the runs' zipped (tp, batch, seq_len, output_len): 30 tuples, tp repeating, its points not joined
    "published_trtllm.perf": ("output throughput (token/s)", "tp, zipped with batch, seq_len, output_len: points not "
                              "joined", 1),
    "seed_benchmark.perf": ("runtime (ms)", "model", 2),
    # points = "runs": without --measured the published-measurement reports have one point, drawn over the report
    "published_gptfast.perf": ("decode throughput (token/s)", "published_gptfast", 1),
    "published_mlc.perf": ("decode throughput (token/s)", "published_mlc", 1),
    "serving.perf": ("output throughput per gpu (token/s)", "seq_len", 1),              # its report serving_offline
    "serving_mlenergy.perf": ("request throughput (request/s)", "request_rate (request/s)", 1),
}


# Files that define several reports: the one each test plots.
CHOSEN_REPORT = {"capacity_questions.perf": ["--report", "largest_batch"],
                 "published_llamacpp.perf": ["--report", "published_llamacpp"],
                 "serving.perf": ["--report", "serving_offline"],
                 "serving_mlenergy.perf": ["--report", "serving_mlenergy"]}


def plot_args(report: Path) -> list[str]:
    return ["plot", str(report), *CHOSEN_REPORT.get(report.name, [])]


def svg_texts(path: Path) -> list[str]:
    """The text elements of an SVG written with svg.fonttype = none (text kept as text)."""
    return [re.sub(r"<[^>]+>", "", t).strip() for t in re.findall(r"<text[^>]*>(.*?)</text>", path.read_text(),
                                                                     flags=re.S)]


def test_every_bundled_report_has_its_labels_listed():
    assert sorted(DEFAULT_LABELS) == [p.name for p in REPORTS]


@pytest.mark.parametrize("report", REPORTS, ids=lambda p: p.stem)
def test_metric_plot_of_each_report_is_a_png_of_its_panels(report: Path, tmp_path: Path):
    out = tmp_path / "plot.png"
    assert main([*plot_args(report), "-o", str(out)]) == 0
    panels = DEFAULT_LABELS[report.name][2]
    with Image.open(out) as image:
        image.load()
        assert image.format == "PNG"
        # PANEL_SIZE inches a panel, side by side, plus 0.6 inch for the legend row, at DPI.
        assert image.size == (round(panels * PANEL_SIZE[0] * DPI), round((PANEL_SIZE[1] + 0.6) * DPI))


@pytest.mark.parametrize("report", REPORTS, ids=lambda p: p.stem)
def test_metric_plot_of_each_report_names_its_axes_with_units(report: Path, tmp_path: Path):
    out = tmp_path / "plot.svg"
    assert main([*plot_args(report), "-o", str(out)]) == 0
    texts = svg_texts(out)
    y_label, x_label, _ = DEFAULT_LABELS[report.name]
    assert y_label in texts and x_label in texts


@pytest.mark.parametrize("report", REPORTS, ids=lambda p: p.stem)
def test_roofline_of_each_report(report: Path, tmp_path: Path):
    png, pdf, svg = tmp_path / "roof.png", tmp_path / "roof.pdf", tmp_path / "roof.svg"
    for out in (png, pdf, svg):
        assert main([*plot_args(report), "--roofline", "-o", str(out)]) == 0
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size == (round(8.0 * DPI), round(5.6 * DPI))
    assert pdf.read_bytes().startswith(b"%PDF")
    texts = svg_texts(svg)
    assert "Arithmetic intensity (FLOP/byte)" in texts and "Achieved rate (TFLOP/s)" in texts


def test_make_run_draws_the_seed_runtime_beside_the_workbook(tmp_path: Path):
    """The Makefile's own `perfdsl plot` line, run as written (out/ replaced by the test's folder)."""
    makefile = (REPO / "Makefile").read_text().replace("\\\n", " ")
    line = next(line for line in makefile.splitlines() if "perfdsl plot" in line)
    args = shlex.split(line.replace("$(BIN)/perfdsl", "").replace("$(OUT)", str(tmp_path)))
    assert args[0] == "plot"
    args[1] = str(REPO / args[1])
    assert main(args) == 0
    out = tmp_path / "seed_benchmark_runtime.png"
    with Image.open(out) as image:
        assert image.format == "PNG"
        assert image.size == (round(2 * PANEL_SIZE[0] * DPI), round((PANEL_SIZE[1] + 0.6) * DPI))  # two panels


def test_readme_roofline_holds_output_len_where_a_decode_step_runs():
    """The README's roofline of capacity_planning names 'the decode step': without --at output_len it was drawn at
    output_len's first value, 1, where the prefill samples the only token and no step runs (decode.steps =
    output_len - 1 = 0). tests/test_docs.py runs the command; this checks the point it draws."""
    readme = (REPO / "README.md").read_text().replace("\\\n", " ")
    (line,) = [line for line in readme.splitlines() if line.startswith("perfdsl plot") and "--roofline" in line]
    args = shlex.split(line)
    at = dict(args[i + 1].split("=", 1) for i, arg in enumerate(args) if arg == "--at")
    assert int(at["output_len"]) - 1 > 0                              # decode.steps of that point
    view = roofline_view(perfdsl.load([REPO / args[2]]), at=at)
    assert "output_len=256" in view.point.split(", ")
    assert view.classes[-1].name == "decode"


def test_seed_view_sets_the_measured_runs_beside_the_estimates():
    evaluated = perfdsl.evaluate_with_runs(perfdsl.load([SEED]))       # the report's own measured A5000 runs
    result, comparison = evaluated.result, evaluated.comparison
    view = metric_view(result, comparison, y="runtime", x="model", series="hardware", panels="n_gpus")
    assert [p.title for p in view.panels] == ["n_gpus=1", "n_gpus=8"]
    assert view.categories == ["facebook/opt-1.3b", "facebook/opt-6.7b", "AICrossSim/clm-60m", "AICrossSim/clm-200m",
                               "AICrossSim/clm-400m", "AICrossSim/clm-1.1b"]
    a5000, a6000 = view.panels[0].series
    assert (a5000.label, a6000.label) == ("NVIDIA RTX A5000", "NVIDIA RTX A6000")
    with (REPO / "data" / "seed_runs_a5000.csv").open() as file:
        runs = {(r["model"], int(r["n_gpus"])): float(r["runtime [ms]"]) for r in csv.DictReader(file)}
    assert a5000.measured.tolist() == pytest.approx([runs[(m, 1)] for m in view.categories])
    assert all(v != v for v in a6000.measured.tolist())            # no A6000 run: nan everywhere
    estimated = {(r["Model"], r["Device"], r["n_gpus"]): r["runtime [ms]"] for r in result.records()}
    assert a5000.estimated.tolist() == pytest.approx([estimated[(m, "NVIDIA RTX A5000", 1)] for m in view.categories])
    # 114 ms (clm-60m on the A6000) to 4242 ms (opt-6.7b x 8 measured): more than a decade, so a log axis.
    assert view.y_log and view.y_label == "runtime (ms)"


def test_a_cell_shown_in_two_units_is_drawn_in_the_one_named(tmp_path: Path):
    """`show cost.runtime in ms as runtime, cost.runtime in s as runtime`: --y "runtime [s]" draws the second
    column, in s, and --y "runtime [ms]" the runs in ms. tests/fixtures: org/tiny on card A measured 25 ms (1 GPU)
    and 40 ms (8); the estimate is 2 FLOP x 1e9 x 1000 / 100 TFLOP/s = 20 ms at both. Before, the values were the
    first column's (20 ms drawn as s) and the runs in the last column's unit (0.025 drawn as ms)."""
    fixtures = Path(__file__).parent / "fixtures"
    (tmp_path / "twice.perf").write_text(
        f'import "{fixtures / "specs" / "matching.perf"}"\n'
        f'report twice {{\n    measured = "{fixtures / "logs" / "matching_runs.csv"}"\n'
        "    model = tiny\n    hardware = card_a\n    workload = step\n"
        "    show cost.runtime in ms as runtime, cost.runtime in s as runtime\n}\n")
    evaluated = perfdsl.evaluate_with_runs(perfdsl.load([tmp_path / "twice.perf"]), "twice")
    estimate, runs = 2 * 1e9 * 1000 / 100e12, [25e-3, 40e-3]               # s, at n_gpus 1 and 8
    for y, unit, scale in (("runtime [ms]", "ms", 1e-3), ("runtime [s]", "s", 1.0)):
        view = metric_view(evaluated.result, evaluated.comparison, y=y, x="n_gpus")
        (series,) = view.panels[0].series
        assert view.y_label == f"runtime ({unit})"
        assert series.estimated.tolist() == pytest.approx([estimate / scale] * 2)
        assert series.measured.tolist() == pytest.approx([run / scale for run in runs])


def test_capacity_view_holds_the_other_axes_and_uses_a_log_batch_axis():
    result = perfdsl.load([CAPACITY]).evaluate(overrides={"model": "llama3_1_8b",
                                                          "hardware": "h100_sxm5,a100_80gb_sxm4"})
    view = metric_view(result, y="tpot", x="batch", series="hardware", at={"seq_len": "1024", "tp": "2"})
    assert view.held == "seq_len=1024, output_len=1, tp=2"
    assert view.x_log                                              # batch 1 .. 256
    # The report shows no GPU label, so the legend names the blocks (the seed report, which shows one, uses it).
    assert [s.label for s in view.panels[0].series] == ["h100_sxm5", "a100_80gb_sxm4"]
    assert view.panels[0].series[0].x == [1, 2, 4, 8, 16, 32, 64, 128, 256]


def test_roofline_of_the_example_is_the_arithmetic_of_its_cost_model():
    program = perfdsl.load([EXAMPLE])
    view = roofline_view(program, at={"model": "opt_6_7b", "hardware": "rtx_a6000", "batch": "4", "seq": "512"})
    params = program.value("opt_6_7b.params")
    flops, nbytes = 2 * params * 4 * 512, 2 * params                # the cost model's two cells
    peak, bandwidth = program.value("rtx_a6000.peak_fp16"), program.value("rtx_a6000.mem_bw")
    (cls,) = view.classes
    assert cls.name == "prefill"
    assert cls.intensity == pytest.approx(4 * 512)                  # FLOP per byte: the tokens of the step
    assert cls.rate == pytest.approx(flops / max(flops / peak, nbytes / bandwidth))
    assert (view.peak, view.bandwidth) == (peak, bandwidth)
    assert view.gpu == "NVIDIA RTX A6000"


def test_roofline_of_the_transformer_cost_model_names_its_operation_classes():
    view = roofline_view(perfdsl.load([CAPACITY]), at={"model": "llama3_1_8b", "hardware": "h100_sxm5"})
    assert [c.name for c in view.classes] == ["prefill proj", "prefill attention", "prefill mlp", "prefill head",
                                              "decode"]
    # prefill's layer_time = proj_time + attention_time + mlp_time + elementwise_time: those classes are one layer's
    # (the legend says "per layer"); the head and the decode step are the step's
    assert [c.per_layer for c in view.classes] == [True, True, True, False, False]
    assert [name for name, _ in view.memory_only] == ["prefill elementwise (per layer)"]
    at_tp_2 = roofline_view(perfdsl.load([CAPACITY]), at={"model": "llama3_1_8b", "hardware": "h100_sxm5", "tp": "2"})
    assert [name for name, _ in at_tp_2.memory_only] == ["prefill elementwise (per layer)", "prefill allreduce"]
    achievable = {c.name for c in view.ceilings if c.achievable}
    assert {"prefill.matmul_rate", "prefill.bandwidth"} <= achievable
    for cls in view.classes:                                       # nothing runs above the datasheet's roofs
        assert cls.rate <= min(view.peak, view.bandwidth * cls.intensity) * (1 + 1e-9)


@pytest.mark.parametrize("args, message", [
    (["-o", "plot.gif"], "error[bad-output]: cannot tell the image format of 'plot.gif' from its suffix"),
    (["-o", "p.png", "--x", "btach"], "error[bad-plot]: the report has no axis 'btach' to use as x"),
    (["-o", "p.png", "--y", "Model"], "error[bad-plot]: 'Model' is not a number"),
    (["-o", "p.png", "--x", "model", "--series", "model"], "error[bad-plot]: the axis 'model' is already used by "
                                                             "this plot"),
    # An axis is drawn or held, not both: the --at was dropped without a word (2 panels where one was asked for).
    (["-o", "p.png", "--panels", "n_gpus", "--at", "n_gpus=8"],
     "error[bad-plot]: --at n_gpus=8 holds the axis 'n_gpus' that --panels draws: drop one"),
    (["-o", "p.png", "--series", "hardware", "--at", "hardware=rtx_a6000"],
     "error[bad-plot]: --at hardware=rtx_a6000 holds the axis 'hardware' that --series draws: drop one"),
    (["-o", "p.png", "--x", "model", "--at", "model=clm_60m"],
     "error[bad-plot]: --at model=clm_60m holds the axis 'model' that --x draws: drop one"),
    (["-o", "p.png", "--x", "runtime", "--along", "n_gpus", "--at", "n_gpus=1"],
     "error[bad-plot]: --at n_gpus=1 holds the axis 'n_gpus' that --along draws: drop one"),
    (["-o", "p.png", "--panels", "n_gpus", "--at", "n_gpus=3"],
     "error[bad-point]: '3' is not a value of axis 'n_gpus'"),
])
def test_plot_usage_errors(args, message, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["plot", str(SEED), *args]) == 2
    assert capsys.readouterr().err.splitlines()[0] == message
    assert not list(tmp_path.iterdir())


def _capacity_grid():
    """The newcomer's sweep: two models on three GPUs at three batch sizes, every other axis at one value."""
    return perfdsl.load([CAPACITY]).evaluate(overrides={
        "model": "llama3_1_8b,llama3_1_70b", "hardware": "h100_sxm5,h200_sxm,b200", "batch": "1,16,64",
        "seq_len": "1024", "output_len": "256", "tp": "1"})


def _records_at(result, **point) -> list[dict]:
    return [r for r in result.records() if all(r[name] == value for name, value in point.items())]


def test_an_axis_held_by_at_is_not_picked_for_panels():
    """--at model=llama3_1_70b with x and series given: model was the one axis left, so the defaults drew a panel per
    model (both models, the --at dropped); now model is held and there is one panel, the 70B's."""
    result = _capacity_grid()
    view = metric_view(result, y="tpot", x="batch", series="hardware", at={"model": "llama3_1_70b"})
    assert [p.title for p in view.panels] == [""]
    assert view.held == "model=llama3_1_70b"
    assert [s.label for s in view.panels[0].series] == ["h100_sxm5", "h200_sxm", "b200"]
    for line in view.panels[0].series:
        on_70b = _records_at(result, model="llama3_1_70b", hardware=line.label)
        assert line.estimated.tolist() == pytest.approx([r["tpot [ms]"] for r in on_70b])


def test_an_axis_held_by_at_is_not_picked_for_panels_on_a_categorical_x():
    result = _capacity_grid()
    view = metric_view(result, y="energy_per_token", x="hardware", series="model", at={"batch": "16"})
    assert len(view.panels) == 1 and view.held == "batch=16"        # 3 panels (batch 1, 16, 64) before
    assert view.categories == ["h100_sxm5", "h200_sxm", "b200"]
    for line in view.panels[0].series:
        at_16 = _records_at(result, model=line.label, batch=16)
        assert line.estimated.tolist() == pytest.approx([r["energy_per_token [J/token]"] for r in at_16])


def test_an_axis_held_by_at_is_not_picked_for_series():
    """Without --series the shortest axis left was model (2 values), though --at held it: both models became lines.
    The series are now the other axis left, hardware, all at the 70B."""
    result = _capacity_grid()
    view = metric_view(result, y="tpot", x="batch", at={"model": "llama3_1_70b"})
    assert [p.title for p in view.panels] == [""]
    assert [s.label for s in view.panels[0].series] == ["h100_sxm5", "h200_sxm", "b200"]
    assert view.held == "model=llama3_1_70b"
    b200 = view.panels[0].series[2]
    assert b200.estimated.tolist() == pytest.approx(
        [r["tpot [ms]"] for r in _records_at(result, model="llama3_1_70b", hardware="b200")])


def test_an_axis_held_by_at_is_not_picked_for_x(tmp_path: Path, capsys):
    """The seed report's defaults draw model (x), hardware (series), n_gpus (panels); holding each in turn leaves the
    others to draw, and the --at is in the description (it was not, with the axis drawn anyway)."""
    out = str(tmp_path / "p.png")
    assert main(["plot", str(SEED), "--at", "model=clm_60m", "-o", out]) == 0
    assert capsys.readouterr().err == (
        f"wrote {out} (seed_benchmark: runtime per hardware and n_gpus, at model=clm_60m)\n")
    assert main(["plot", str(SEED), "--at", "n_gpus=8", "-o", out]) == 0
    assert capsys.readouterr().err == (
        f"wrote {out} (seed_benchmark: runtime per model and hardware, at n_gpus=8)\n")
    view = metric_view(perfdsl.load([SEED]).evaluate(), at={"hardware": "rtx_a6000"})
    assert (view.x_label, [s.label for s in view.panels[0].series]) == ("model", ["n_gpus=1", "n_gpus=8"])
    assert len(view.panels) == 1 and view.held == "hardware=rtx_a6000"


def test_at_on_both_names_of_a_zipped_axis_holds_the_tuple_with_both(tmp_path: Path, capsys):
    # Each --at was matched to its first tuple: b=16 to (16, 1024), s=2048 to (8, 2048), "two different points".
    (tmp_path / "r.perf").write_text(
        'workload w {\n    sweep (b, s) = [(8, 2048), (16, 1024), (16, 2048)]\n    sweep tp = [1, 2, 4]\n}\n'
        'costmodel c { runtime = 1 ms * workload.b * workload.s / workload.tp }\n'
        'report r {\n    workload = w\n    show c.runtime in ms as runtime\n}\n')
    out = str(tmp_path / "r.png")
    assert main(["plot", str(tmp_path / "r.perf"), "--x", "tp", "--at", "b=16", "--at", "s=2048", "-o", out]) == 0
    assert capsys.readouterr().err == f"wrote {out} (r: runtime per tp, at b=16, s=2048)\n"
    view = metric_view(perfdsl.load([tmp_path / "r.perf"]).evaluate(), x="tp", at={"b": "16", "s": "2048"})
    (line,) = view.panels[0].series
    assert line.estimated.tolist() == pytest.approx([16 * 2048 / 1, 16 * 2048 / 2, 16 * 2048 / 4])
    assert main(["plot", str(tmp_path / "r.perf"), "--x", "tp", "--at", "b=16", "-o", out]) == 2
    assert capsys.readouterr().err == (
        "error[bad-point]: --at b=16 matches 2 points of the zipped axis (b, s): (16, 1024), (16, 2048)\n"
        "  = help: to choose one, add --at s=1024 or --at s=2048\n\n1 error\n")


def test_at_on_one_name_of_a_zipped_axis_holds_the_whole_axis(tmp_path: Path, capsys):
    (tmp_path / "r.perf").write_text(
        'workload w {\n    sweep (b, s) = [(8, 2048), (16, 1024)]\n    sweep tp = [1, 2, 4]\n}\n'
        'costmodel c { runtime = 1 ms * workload.b * workload.s / workload.tp }\n'
        'report r {\n    workload = w\n    show c.runtime in ms as runtime\n}\n')
    out = str(tmp_path / "r.png")
    assert main(["plot", str(tmp_path / "r.perf"), "--x", "tp", "--series", "b", "--at", "s=1024", "-o", out]) == 2
    assert capsys.readouterr().err.startswith(
        "error[bad-plot]: --at s=1024 holds the axis 'b' that --series draws: drop one\n"
        "  = help: 's' and 'b' are zipped: one axis\n")
    view = metric_view(perfdsl.load([tmp_path / "r.perf"]).evaluate(), x="tp", at={"s": "1024"})
    (line,) = view.panels[0].series                                  # (b, s) held at (16, 1024): not a series
    assert line.estimated.tolist() == pytest.approx([16 * 1024 / 1, 16 * 1024 / 2, 16 * 1024 / 4])


ZIPPED_TP_EP = ('workload w {\n    sweep batch = [1, 4]\n    sweep (tp, ep) = [(2, 1), (2, 2), (8, 1), (8, 8)]\n}\n'
                'costmodel c { time = 1 ms * workload.batch / workload.tp + 1 ms * workload.ep }\n'
                'report r {\n    workload = w\n    show c.time in ms as time\n}\n')


def test_a_series_or_x_over_one_name_of_a_zipped_axis_is_labelled_by_the_whole_tuple(tmp_path: Path, capsys):
    (tmp_path / "r.perf").write_text(ZIPPED_TP_EP)
    result = perfdsl.load([tmp_path / "r.perf"]).evaluate()
    tuples = ["tp=2, ep=1", "tp=2, ep=2", "tp=8, ep=1", "tp=8, ep=8"]
    # a series per tuple, each named whole: "tp=2" twice told (2, 1) and (2, 2) apart by colour only
    view = metric_view(result, x="batch", series="tp")
    assert [line.label for line in view.panels[0].series] == tuples
    # (tp 8, ep 8) at batch 1 and 4: 1 / 8 + 8 ms, 4 / 8 + 8 ms
    assert view.panels[0].series[3].estimated.tolist() == pytest.approx([1 / 8 + 8, 4 / 8 + 8])
    assert view.title == "r: time per batch and (tp, ep)"
    # x over tp: tp 2 twice (ep 1, ep 2), so each tuple is a category rather than a number joined into a line
    view = metric_view(result, x="tp", series="batch")
    assert (view.categorical, view.categories, view.x_label) == (True, tuples, "(tp, ep)")
    # batch 1: 1 / tp + ep ms
    assert view.panels[0].series[0].estimated.tolist() == pytest.approx([1 / 2 + 1, 1 / 2 + 2, 1 / 8 + 1, 1 / 8 + 8])
    view = metric_view(result, x="batch", panels="ep")
    assert [panel.title for panel in view.panels] == tuples
    out = str(tmp_path / "r.png")
    assert main(["plot", str(tmp_path / "r.perf"), "--x", "tp", "--series", "batch", "-o", out]) == 0
    assert capsys.readouterr().err == f"wrote {out} (r: time per (tp, ep) and batch)\n"
    # more tuples than labels that read (MAX_PANELS): x stays tp's numbers, the points not joined, as the label says
    many = ZIPPED_TP_EP.replace("[(2, 1), (2, 2), (8, 1), (8, 8)]",
                                "[" + ", ".join(f"({tp}, {ep})" for tp in (1, 2, 4, 8) for ep in (1, 2, 4, 8)) + "]")
    (tmp_path / "r.perf").write_text(many)
    view = metric_view(perfdsl.load([tmp_path / "r.perf"]).evaluate(), x="tp", series="batch")
    assert (view.categorical, view.joined, view.x_label) == (False, False, "tp, zipped with ep: points not joined")
    assert view.panels[0].series[0].x == [1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 8, 8, 8, 8]


def test_too_many_series_says_how_to_pick_fewer(tmp_path: Path, capsys):
    assert main(["plot", str(CAPACITY), "--series", "model", "-o", str(tmp_path / "p.png")]) == 2
    err = capsys.readouterr().err
    assert "error[bad-plot]: model has 30 values, too many series for one plot (at most 16)" in err
    # values of the report to paste, not A,B,C: the first three models of capacity_planning's sweep
    assert "  = help: pick some with --set model=opt_125m,opt_350m,opt_1_3b, or hold it with --at model=opt_125m" \
        in err


@pytest.mark.parametrize("value, text", [(0.5, "0.5"), (20.0, "20"), (3000.0, "3000"), (10000.0, "10000"),
                                         (0.0123, "0.0123"), (2.5e6, "2.5e+06")])
def test_tick_text_is_a_plain_number(value, text):
    assert plain_number(value) == text


@pytest.mark.parametrize("value, text", [
    (10e12 / 1e9, "10,000"),        # 10 TB/s in GB/s: was "1e+04"
    (8e12 / 1e9, "8,000"), (2250.0, "2,250"), (1508.2, "1,508"), (12345.0, "12,340"),   # 4 significant digits
    (9999.7, "10,000"), (989.46, "989.5"), (14.3, "14.3"), (256.0, "256"), (0.91173, "0.9117"),
    (0.0912, "0.0912"), (0.0, "0"), (-1234.5, "-1,234"), (3e-6, "3e-06"), (2e16, "2e+16")])
def test_legend_figures_are_written_out_to_four_significant_digits(value, text):
    assert legend_number(value) == text


def test_roofline_legend_writes_its_figures_out():
    """A hypothetical B200 at 10 TB/s: the legend said 'memory bandwidth (hardware.mem_bw) 1e+04 GB/s'."""
    program = perfdsl.load([CAPACITY]).with_overrides({"b200.mem_bw": "10 TB/s"})
    view = roofline_view(program, at={"model": "llama3_1_8b", "hardware": "b200", "batch": "16", "seq_len": "1024",
                                      "output_len": "256"})
    figure = roofline_figure(view)
    try:
        labels = [text.get_text() for text in figure.legends[0].get_texts()]
    finally:
        plt.close(figure)
    # b200's datasheet: peak_fp16 2250 TFLOP/s (hardware/blackwell.perf); 10 TB/s = 10e12 / 1e9 = 10,000 GB/s
    assert labels[0] == ("datasheet: peak (workload.matmul_peak) 2,250 TFLOP/s; memory bandwidth (hardware.mem_bw) "
                         "10,000 GB/s")
    decode = view.classes[-1]
    assert decode.name == "decode"
    assert not [label for label in labels if re.search(r"\de[+-]\d", label)]          # no exponent anywhere
    assert f"decode: {legend_number(decode.intensity)} FLOP/byte, {legend_number(decode.rate / 1e12)} TFLOP/s, " \
        f"{legend_number(decode.time * 1e3)} ms (decode.step_time)" in labels


def test_latency_throughput_curve_runs_along_the_batch_axis():
    """--x may name a shown metric: each GPU's curve is (throughput, tpot) at batch 1, 2, ... 256."""
    result = perfdsl.load([CAPACITY]).evaluate(overrides={"model": "llama3_1_8b", "hardware": "h100_sxm5,b200"})
    view = metric_view(result, y="tpot", x="total_token_throughput", along="batch", series="hardware",
                       at={"seq_len": "1024", "output_len": "256", "tp": "1"})
    assert view.along == ("batch", ["1", "2", "4", "8", "16", "32", "64", "128", "256"])
    assert (view.x_label, view.y_label) == ("total token throughput (token/s)", "tpot (ms)")
    assert view.title == "capacity_planning: tpot against total token throughput over batch, per hardware"
    records = [r for r in result.records() if (r["seq_len"], r["output_len"], r["tp"]) == (1024, 256, 1)]
    h100 = view.panels[0].series[0]
    assert h100.label == "h100_sxm5"
    on_h100 = [r for r in records if r["hardware"] == "h100_sxm5"]
    assert h100.x == pytest.approx([r["total_token_throughput [token/s]"] for r in on_h100])
    assert h100.estimated.tolist() == pytest.approx([r["tpot [ms]"] for r in on_h100])
    assert view.x_log                                             # throughput grows about 100-fold over batch


def test_along_without_a_metric_as_x_is_a_usage_error(tmp_path: Path, capsys):
    assert main(["plot", str(SEED), "--x", "model", "--along", "hardware", "-o", str(tmp_path / "p.png")]) == 2
    assert capsys.readouterr().err.startswith(
        "error[bad-plot]: --along goes with a metric as x (e.g. --x throughput --along batch)\n")


def test_plot_says_which_axes_took_their_first_value(tmp_path: Path, capsys):
    seed = str(REPO / "reports" / "seed_benchmark.perf")
    out = str(tmp_path / "roof.png")
    assert main(["plot", seed, "--roofline", "--at", "model=clm_60m", "-o", out]) == 0
    assert capsys.readouterr().err == (
        f"wrote {out} (roofline of 4 operation classes at model=clm_60m, hardware=rtx_a5000, n_gpus=1 (first value "
        "of hardware, n_gpus; choose with --at AXIS=VALUE))\n")
    assert main(["plot", seed, "--roofline", "--at", "model=clm_60m", "--at", "hardware=rtx_a6000",
                 "--at", "n_gpus=8", "-o", out]) == 0
    assert capsys.readouterr().err == (
        f"wrote {out} (roofline of 4 operation classes at model=clm_60m, hardware=rtx_a6000, n_gpus=8)\n")
    capacity = str(REPO / "reports" / "capacity_planning.perf")
    assert main(["plot", capacity, "--at", "seq_len=512", "-o", out]) == 0
    assert capsys.readouterr().err.endswith(
        "at model=opt_125m, hardware=rtx_a5000, seq_len=512, output_len=1 (first value of model, hardware, "
        "output_len; choose with --at AXIS=VALUE))\n")


def test_measured_runs_are_drawn_where_a_constraint_left_points_out(tmp_path: Path):
    # The runs' values come one per row of the result, and the rows are the valid points only: they are laid back
    # on the sweep grid (an error[internal] reshape before).
    (tmp_path / "runs.csv").write_text("batch,runtime [ms]\n1,2.5\n4,11\n")
    (tmp_path / "r.perf").write_text(
        'workload w {\n    sweep batch = [1, 2, 3, 4]\n    require batch != 3, "batch 3 is not run"\n}\n'
        'costmodel c { runtime = 2 ms * workload.batch }\n'
        'report r {\n    measured = "runs.csv"\n    workload = w\n    show c.runtime in ms as runtime\n}\n')
    view = metric_view(*_evaluated(tmp_path / "r.perf"), y="runtime")
    (series,) = view.panels[0].series
    assert [None if math.isnan(v) else v for v in series.estimated.tolist()] == [2, 4, None, 8]
    assert [None if math.isnan(v) else v for v in series.measured.tolist()] == [2.5, None, None, 11]
    assert main(["plot", str(tmp_path / "r.perf"), "-o", str(tmp_path / "r.png")]) == 0


def _evaluated(path: Path):
    from perfdsl.measured import evaluate_with_runs

    evaluated = evaluate_with_runs(perfdsl.load([path]), None, None, base_dir=str(path.parent))
    return evaluated.result, evaluated.comparison


def _panel_points(ax) -> list[float]:
    """Every finite y value drawn on a panel (estimates and measured runs), read back from its lines."""
    return [float(y) for line in ax.get_lines() for y in line.get_ydata() if math.isfinite(float(y))]


@pytest.mark.parametrize("batches, offset, log", [
    ("[1, 2, 3]", "0 ms", False),     # 2 .. 18 ms estimated (19 run): linear from 0; panel 2 goes 3 times higher
    ("[1, 10, 100]", "0 ms", True),   # 2 .. 600 ms: spans decades, a log axis
    ("[1, 2, 3]", "5 ms", False),     # -3 .. 13 ms (14 run): a linear axis that must go below 0
])
def test_every_point_of_every_panel_is_inside_the_shared_y_axis(batches, offset, log, tmp_path: Path):
    # The first panel's top froze the shared axis before the later, higher panels were drawn (points cut off).
    (tmp_path / "runs.csv").write_text("batch,scale,runtime [ms]\n1,1,2.5\n3,3,19\n")   # 19: above its estimate
    (tmp_path / "r.perf").write_text(
        f'workload w {{\n    sweep batch = {batches}\n    sweep scale = [1, 3]\n}}\n'
        f'costmodel c {{ runtime = 2 ms * workload.batch * workload.scale - {offset} }}\n'
        'report r {\n    measured = "runs.csv"\n    workload = w\n    show c.runtime in ms as runtime\n}\n')
    view = metric_view(*_evaluated(tmp_path / "r.perf"), y="runtime", x="batch", panels="scale")
    assert bool(view.y_log) is log
    figure = metric_figure(view)
    try:
        first, second = figure.axes[:2]
        assert first.get_ylim() == second.get_ylim()                 # one shared axis
        low, high = first.get_ylim()
        first_points, second_points = _panel_points(first), _panel_points(second)
        assert max(second_points) > max(first_points)
        for points in (first_points, second_points):
            assert low <= min(points) and max(points) <= high
        if not log and min(first_points) >= 0:
            assert low == 0                                          # a linear axis of sizes starts at 0
    finally:
        plt.close(figure)


def test_a_flat_series_far_above_zero_is_not_drawn_on_the_frame(tmp_path: Path):
    # tpot 64-67 ms from 0: the autoscaled top kept 5% of the data's own 3 ms range (67.5), and the highest line
    # sat on the frame. The top is now at least 5% of the axis above the highest point.
    (tmp_path / "r.perf").write_text(
        'workload w { sweep batch = [1, 16, 64] }\n'
        'costmodel c { tpot = 64 ms + 3 ms * workload.batch / 64 }\n'
        'report r {\n    workload = w\n    show c.tpot in ms as tpot\n}\n')
    figure = metric_figure(metric_view(*_evaluated(tmp_path / "r.perf"), y="tpot", x="batch"))
    try:
        low, high = figure.axes[0].get_ylim()
        assert (low, high) == (0, pytest.approx((64 + 3) * 1.05))
    finally:
        plt.close(figure)


def test_a_series_with_no_point_in_any_panel_is_named_apart_in_the_legend(tmp_path: Path):
    """tp = 1 and 2 of a large model on a small GPU are left out by a constraint everywhere: the key gave them
    colours that appear nowhere on the plot. Here `require workload.tp * 10 GB >= 30 GB` leaves out tp 1 and 2."""
    (tmp_path / "r.perf").write_text(
        'workload w {\n    sweep batch = [1, 2, 4]\n    sweep tp = [1, 2, 4, 8]\n}\n'
        'costmodel c {\n    runtime = 2 ms * workload.batch / workload.tp\n'
        '    require workload.tp * 10 GB >= 30 GB, "the weights fit"\n}\n'
        'report r {\n    workload = w\n    show c.runtime in ms as runtime\n}\n')
    view = metric_view(*_evaluated(tmp_path / "r.perf"), y="runtime", x="batch", series="tp")
    figure = metric_figure(view)
    try:
        labels = [text.get_text() for text in figure.legends[0].get_texts()]
        assert labels == ["tp=4", "tp=8", "no points: tp=1, tp=2"]
    finally:
        plt.close(figure)


# A report whose shown boolean `fits` is false at known points: memory = 10 GB * batch / tp fits in 25 GB where
# batch / tp <= 2.5, so at tp = 1 batch 1 and 2 fit (3 and 4 do not) and at tp = 2 every batch 1 .. 4 fits
# (4 / 2 = 2); tp = 1 / 4 (batch * 40 GB) fits nowhere.
_FITS_REPORT = (
    'workload w {\n    sweep batch = [1, 2, 3, 4]\n    sweep tp = [0.25, 1, 2]\n}\n'
    'costmodel c {\n    runtime = 2 ms * workload.batch / workload.tp\n'
    '    memory = 10 GB * workload.batch / workload.tp\n    fits = memory <= 25 GB\n}\n'
    'report r {\n    workload = w\n    show c.runtime in ms as runtime, c.fits as fits\n}\n')


def test_points_where_a_shown_boolean_is_false_are_marked_failing(tmp_path: Path):
    (tmp_path / "r.perf").write_text(_FITS_REPORT)
    view = metric_view(*_evaluated(tmp_path / "r.perf"), y="runtime", x="batch", series="tp")
    quarter, one, two = view.panels[0].series
    batches = [1, 2, 3, 4]
    # The estimates are drawn as before, failing or not: 2 ms * batch / tp.
    assert one.estimated.tolist() == [2 * b / 1 for b in batches]
    assert quarter.failing.tolist() == [10 * b / 0.25 > 25 for b in batches] == [True] * 4
    assert one.failing.tolist() == [10 * b / 1 > 25 for b in batches] == [False, False, True, True]
    assert two.failing.tolist() == [10 * b / 2 > 25 for b in batches] == [False] * 4
    assert view.checks == ["fits"]
    assert view.failing_points == (4 + 2, 3 * 4)


def test_failing_points_are_hollow_off_the_line_and_keyed_in_the_legend(tmp_path: Path):
    (tmp_path / "r.perf").write_text(_FITS_REPORT)
    view = metric_view(*_evaluated(tmp_path / "r.perf"), y="runtime", x="batch", series="tp")
    figure = metric_figure(view)
    try:
        labels = [text.get_text() for text in figure.legends[0].get_texts()]
        assert labels == ["tp=0.25: fits = false at every point", "tp=1", "tp=2", "hollow: fits = false"]
        lines = figure.axes[0].get_lines()
        solid = [line for line in lines if line.get_linestyle() == "-"]
        hollow = [line for line in lines if line.get_markerfacecolor() == "none"]
        # The lines join the points that fit only: tp = 1 at batch 1, 2 (2 ms * batch); tp = 2 at every batch.
        assert [[y for y in line.get_ydata().tolist() if math.isfinite(y)] for line in solid] == \
            [[], [2 * 1 / 1, 2 * 2 / 1], [2 * b / 2 for b in [1, 2, 3, 4]]]
        # The points that do not fit are hollow markers with no line: tp = 1/4 everywhere, tp = 1 at batch 3, 4.
        assert [line.get_linestyle() for line in hollow] == ["None", "None"]
        assert [line.get_xdata().tolist() for line in hollow] == [[1, 2, 3, 4], [3, 4]]
        assert [line.get_ydata().tolist() for line in hollow] == [[2 * b / 0.25 for b in [1, 2, 3, 4]],
                                                                  [2 * 3 / 1, 2 * 4 / 1]]
    finally:
        plt.close(figure)


def test_plot_says_how_many_points_are_hollow(tmp_path: Path, capsys):
    (tmp_path / "r.perf").write_text(_FITS_REPORT)
    out = tmp_path / "r.png"
    assert main(["plot", str(tmp_path / "r.perf"), "--y", "runtime", "--x", "batch", "--series", "tp",
                 "-o", str(out)]) == 0
    # 4 points at tp = 1/4 and 2 at tp = 1 of the 3 * 4 drawn.
    assert capsys.readouterr().err == (
        f"wrote {out} (r: runtime per batch and tp; 6 of 12 points hollow: fits = false)\n")


def test_one_series_that_fails_everywhere_says_so_in_its_key(tmp_path: Path):
    (tmp_path / "r.perf").write_text(_FITS_REPORT)
    view = metric_view(*_evaluated(tmp_path / "r.perf"), y="runtime", x="batch", at={"tp": "0.25"})
    figure = metric_figure(view)
    try:
        assert [text.get_text() for text in figure.legends[0].get_texts()] == ["hollow: fits = false at every point"]
    finally:
        plt.close(figure)


def test_a_report_whose_booleans_all_hold_or_that_shows_none_draws_as_before(tmp_path: Path):
    """Where every shown boolean holds, nothing is marked and the legend has no hollow key; without a shown boolean
    the plot data is what it was (no `failing`, no checks) and the lines are the estimates."""
    (tmp_path / "r.perf").write_text(_FITS_REPORT.replace("sweep tp = [0.25, 1, 2]", "sweep tp = [2, 4]"))
    (tmp_path / "plain.perf").write_text(_FITS_REPORT.replace(", c.fits as fits", ""))
    held = metric_view(*_evaluated(tmp_path / "r.perf"), y="runtime", x="batch", series="tp")
    assert held.checks == [] and [s.failing.tolist() for s in held.panels[0].series] == [[False] * 4] * 2
    plain = metric_view(*_evaluated(tmp_path / "plain.perf"), y="runtime", x="batch", series="tp")
    assert plain.checks == [] and [s.failing for s in plain.panels[0].series] == [None] * 3
    assert plain.failing_points == (0, 3 * 4)
    assert [s.estimated.tolist() for s in plain.panels[0].series] == \
        [[2 * b / tp for b in [1, 2, 3, 4]] for tp in [0.25, 1, 2]]
    for view, labels in ((held, ["tp=2", "tp=4"]), (plain, ["tp=0.25", "tp=1", "tp=2"])):
        figure = metric_figure(view)
        try:
            assert [text.get_text() for text in figure.legends[0].get_texts()] == labels
            lines = figure.axes[0].get_lines()
            assert [line.get_ydata().tolist() for line in lines] == \
                [s.estimated.tolist() for s in view.panels[0].series]
        finally:
            plt.close(figure)
