"""`perfdsl calibrate`: the fit recovers cells from runs made with known values, flags cells the runs do not
determine, cross-validates and bootstraps; its .perf output is imported like any library file; and on the seed's
six single-GPU RTX A5000 runs it reproduces the cells of reports/seed_a5000_calibration.perf.

The synthetic runs are estimates of perfdsl itself at chosen cell values (TRUTH), optionally times a fixed pattern
of +-1% "noise": no figure below is a measurement.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import numpy as np
import openpyxl
import pytest

import perfdsl
from perfdsl.calibrate import calibrate
from perfdsl.calibration_runs import prepare_problem
from perfdsl.cli import main

REPO = Path(__file__).resolve().parents[1]

TOY = """
hardware toy {
    peak = 100 TFLOP/s
    efficiency = 0.5                 # start of the fit; TRUTH below
    mem_bw = 1 TB/s
    bandwidth_efficiency = 0.7
    unused_efficiency = 0.9          # no shown cell depends on it
    derate = 1.0                     # enters only as efficiency x derate: not separable from efficiency
}
workload shape {
    sweep batch = [1, 2, 4, 8]
    sweep seq_len = [128, 1024]
    overhead = 10 us
}
costmodel step {
    flops = 2 FLOP * 1e9 * workload.batch * workload.seq_len
    bytes = 20 GB * workload.batch
    kernels = 1000 + 2 * workload.seq_len
    runtime = flops / (hardware.efficiency * hardware.derate * hardware.peak)
            + bytes / (hardware.bandwidth_efficiency * hardware.mem_bw) + kernels * workload.overhead
    idle = hardware.unused_efficiency * 1 s
}
report toy_report {
    hardware = toy
    workload = shape
    show step.runtime in ms as runtime
}
"""
TRUTH = {"toy.efficiency": 0.62, "toy.bandwidth_efficiency": 0.83, "shape.overhead": 23e-6}
FITS = ["toy.efficiency=0.1..1", "toy.bandwidth_efficiency=0.1..1", "shape.overhead=0us..100us"]
NOISE = [0.01, -0.01, 0.005, -0.005, 0.0, 0.008, -0.008, 0.003]   # relative, one per run, fixed


def write_toy(folder: Path, noise: bool = False) -> tuple[Path, Path]:
    """The toy report and its runs: perfdsl's own estimates at TRUTH (times 1 + NOISE when asked)."""
    report = folder / "toy.perf"
    report.write_text(TOY)
    truth = {"toy.efficiency": "0.62", "toy.bandwidth_efficiency": "0.83", "shape.overhead": "23 us"}
    result = perfdsl.load([report]).evaluate(overrides=truth)
    runs = folder / "runs.csv"
    with runs.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["batch", "seq_len", "runtime [ms]"])
        for i, record in enumerate(result.records()):
            factor = 1 + NOISE[i] if noise else 1.0
            writer.writerow([record["batch"], record["seq_len"], repr(record["runtime [ms]"] * factor)])
    return report, runs


def fitted(cal) -> dict[str, float]:
    return {cell.name: value for cell, value in zip(cal.cells, cal.values)}


def test_the_fit_recovers_known_cells_from_noiseless_runs(tmp_path):
    report, runs = write_toy(tmp_path)
    problem = prepare_problem(str(report), [str(runs)], FITS, group_by="batch")
    assert [c.start for c in problem.cells] == [0.5, 0.7, pytest.approx(10e-6)]
    cal = calibrate(problem, bootstrap=10)
    for name, value in fitted(cal).items():
        assert value == pytest.approx(TRUTH[name], rel=1e-6)
    assert cal.mape(0) < 1e-9
    # leaving one batch out still recovers them: every fold's held-out error is ~0
    assert len(cal.folds) == 4 and all(f.values is not None for f in cal.folds)
    assert cal.mape(0, cal.cv_estimated()) < 1e-8
    # without noise every bootstrap resample is the fit itself
    assert np.allclose(cal.samples, cal.values, rtol=1e-6)
    assert cal.flags == []


def test_with_noise_the_values_are_close_and_the_interval_holds_them(tmp_path):
    report, runs = write_toy(tmp_path, noise=True)
    # Grouped by batch: each fold keeps both prompt lengths, which separate the three cells (by seq_len, a fold
    # keeps one, where efficiency and bandwidth_efficiency both scale with batch: see the test of undetermined folds)
    cal = calibrate(prepare_problem(str(report), [str(runs)], FITS, group_by="batch"), bootstrap=40, seed=1)
    values, interval = fitted(cal), cal.interval()
    assert values["toy.efficiency"] == pytest.approx(0.62, rel=0.03)
    assert values["toy.bandwidth_efficiency"] == pytest.approx(0.83, rel=0.03)
    assert values["shape.overhead"] == pytest.approx(23e-6, rel=0.05)
    for cell, (low, high) in zip(cal.cells, interval):
        assert low < TRUTH[cell.name] < high, cell.name
    # the in-sample error is about the noise: mean |NOISE| = 0.00625
    assert 0.002 < cal.mape(0) < 0.01
    assert cal.mape(0, cal.cv_estimated()) > cal.mape(0)     # held out is worse than in sample


def test_resampling_runs_gives_an_interval_that_holds_the_truth(tmp_path):
    report, runs = write_toy(tmp_path, noise=True)
    cal = calibrate(prepare_problem(str(report), [str(runs)], FITS), bootstrap=30, resampling="runs", seed=3)
    assert cal.samples.shape == (30, 3)
    for cell, (low, high) in zip(cal.cells, cal.interval()):
        assert low <= TRUTH[cell.name] <= high, cell.name


def test_a_cell_no_run_depends_on_is_flagged(tmp_path):
    report, runs = write_toy(tmp_path)
    cal = calibrate(prepare_problem(str(report), [str(runs)], FITS + ["toy.unused_efficiency=0.1..1"]), bootstrap=0)
    assert [(f.cell, f.message) for f in cal.flags] == [("toy.unused_efficiency", "no run's estimate depends on it")]


def test_cells_that_enter_only_as_a_product_are_flagged_together(tmp_path):
    report, runs = write_toy(tmp_path)
    cal = calibrate(prepare_problem(str(report), [str(runs)], FITS + ["toy.derate=0.5..2"]), bootstrap=0)
    assert cal.mape(0) < 1e-9                               # the product is right ...
    flat = [f for f in cal.flags if f.message.startswith("the loss is flat")]
    assert [f.cell for f in flat] == ["toy.efficiency, toy.derate"]   # ... the split is not determined
    assert flat[0].hint == "tie one to another (a formula) or fix one (leave it out of --fit)"
    assert cal.singular_values[-1] / cal.singular_values[0] < 1e-3


def test_a_cell_held_from_its_value_by_a_bound_is_flagged(tmp_path):
    report, runs = write_toy(tmp_path)
    fits = ["toy.efficiency=0.1..0.5", "toy.bandwidth_efficiency=0.1..1", "shape.overhead=0us..100us"]
    cal = calibrate(prepare_problem(str(report), [str(runs)], fits), bootstrap=0)
    assert fitted(cal)["toy.efficiency"] == pytest.approx(0.5)
    flag = cal.flags[0]
    assert (flag.cell, flag.message) == ("toy.efficiency",
                                         "the fit runs to its bound 0.5: the runs do not determine it")
    assert flag.hint.startswith("fix it (leave it out of --fit) or tie it to ")


def test_the_command_writes_a_perf_file_that_a_report_imports(tmp_path, capsys):
    report, runs = write_toy(tmp_path)
    out = tmp_path / "toy_calibration.perf"
    code = main(["calibrate", str(report), "--measured", str(runs), "--fit", *FITS, "--group-by", "seq_len",
                 "--bootstrap", "5", "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 0
    assert "leave one seq_len out:" in captured.err
    assert captured.out.splitlines()[0].split() == ["run", "source", "seq_len", "metric", "measured", "estimated",
                                                   "error", "[%]", "held-out", "estimate", "held-out", "error", "[%]"]
    text = out.read_text()
    assert text.startswith("# toy_calibration.perf: cells fitted by `perfdsl calibrate` on ")
    assert 'import "toy.perf"' in text and "set {" in text and "costmodel toy_calibration {" in text
    # a report that imports it gets the fitted cells, and shows the spread when it binds the block
    user = tmp_path / "user.perf"
    user.write_text('import "toy.perf"\nimport "toy_calibration.perf"\n'
                    "report mine {\n    hardware = toy; workload = shape; calibration = toy_calibration\n"
                    "    show step.runtime in ms as runtime\n}\n")
    program = perfdsl.load([user])
    for name, value in TRUTH.items():
        assert program.value(name) == pytest.approx(value, rel=1e-5)
    result = program.evaluate("mine")
    records = result.records()
    low, high = (float(line.split("=")[1]) for line in text.splitlines() if line.strip().startswith("runtime_"))
    from perfdsl.intervals import estimate_intervals

    lows, highs = estimate_intervals(result)["runtime [ms]"]          # by the column's key: one per show
    assert lows == pytest.approx(result.column("runtime") * low)
    assert highs == pytest.approx(result.column("runtime") * high)
    assert main(["eval", str(user), "--report", "mine", "--format", "csv"]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert header == "batch,seq_len,runtime [ms],runtime low [ms],runtime high [ms]"
    assert len(records) == 8


def test_set_with_report_in_a_file_of_two_reports_fits_the_report_named(tmp_path, capsys):
    """`--report toy_report --set ...` in a file of two reports: the --fit cell's start is read under the --set of the
    report named. It was error[which-report] (the start was read under the overrides without the report's name),
    exit 2, so reports/serving_mlenergy.perf (two reports) could not be fitted with a --set (found refitting it)."""
    report, runs = write_toy(tmp_path)
    report.write_text(TOY + "report other extends toy_report {\n    show step.idle in s as idle\n}\n")
    out = tmp_path / "toy_calibration.perf"
    code = main(["calibrate", str(report), "--report", "toy_report", "--measured", str(runs),
                 "--set", "toy.efficiency=0.62", "--set", "toy.bandwidth_efficiency=0.83",
                 "--fit", "shape.overhead=0us..100us", "--bootstrap", "0", "--starts", "0", "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "shape.overhead = 23 us" in captured.err


def test_residuals_go_to_csv_and_to_a_workbook(tmp_path, capsys):
    report, runs = write_toy(tmp_path, noise=True)
    base = ["calibrate", str(report), "--measured", str(runs), "--fit", *FITS, "--group-by", "batch",
            "--bootstrap", "0", "-o", str(tmp_path / "cal.perf")]
    assert main(base + ["--residuals", str(tmp_path / "res.csv")]) == 0
    rows = list(csv.DictReader((tmp_path / "res.csv").open()))
    assert len(rows) == 8 and rows[0]["metric"] == "runtime [ms]"
    for row in rows:        # in percent, as eval, its workbook and JSON give errors
        assert float(row["error [%]"]) == pytest.approx(
            (float(row["estimated"]) / float(row["measured"]) - 1) * 100, rel=1e-4)
        assert float(row["held-out error [%]"]) == pytest.approx(
            (float(row["held-out estimate"]) / float(row["measured"]) - 1) * 100, rel=1e-4)
    assert main(base + ["--residuals", str(tmp_path / "res.xlsx")]) == 0
    book = openpyxl.load_workbook(tmp_path / "res.xlsx")
    # No Inputs sheet: it said "no spec cells were recorded" (the estimates are the fit's, not an evaluation's)
    assert book.sheetnames == ["Fit", "Leave one batch out", "Summary", "Unmatched", "About"]
    assert "Inputs" not in dict(book["About"].iter_rows(values_only=True))["Sheets"]
    fit = book["Fit"]
    assert fit.cell(2, 1).value == "Run" and fit.max_row == 2 + 8
    # the group, a numeric axis, as numbers (batch 1.0 was the text '1.0'), in the runs' order: batch x seq_len
    assert fit.cell(2, 2).value == "batch"
    assert [fit.cell(row, 2).value for row in range(3, 11)] == [1, 1, 2, 2, 4, 4, 8, 8]
    assert {fit.cell(row, 2).data_type for row in range(3, 11)} == {"n"}
    capsys.readouterr()


def test_the_header_paths_are_relative_to_the_written_file(tmp_path, capsys, monkeypatch):
    """A calibration written to another folder named its logs relative to itself (../main/data/runs.csv) and its
    runs relative to the working folder (data/runs.csv:row 1): every path is now relative to the file, as its
    imports are, and the header says so."""
    report, runs = write_toy(tmp_path)
    (tmp_path / "data").mkdir()
    runs = runs.rename(tmp_path / "data" / "runs.csv")
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path)
    assert main(["calibrate", "toy.perf", "--measured", "data/runs.csv", "--fit", *FITS, "--group-by", "source",
                 "--bootstrap", "0", "-o", "out/cal.perf"]) == 0
    capsys.readouterr()
    lines = (tmp_path / "out" / "cal.perf").read_text().splitlines()
    assert "8 runs matched (of 8 in ../data/runs.csv)" in lines[2]
    assert lines[3] == ("# Paths are relative to this file's folder, as its imports are; the command's, to the "
                        "folder it ran in.")
    assert lines[4] == "# The runs:"
    assert [line.rpartition(" (")[2] for line in lines[5:13]] == [f"../data/runs.csv:row {n})" for n in range(1, 9)]
    assert 'import "../toy.perf"' in lines
    assert not any("data/runs.csv" in line and "../data/runs.csv" not in line for line in lines[2:])   # but the command
    # --group-by source groups the runs by their log: one log is one group, which no fold can leave out
    assert any(line.endswith("leave-one-source-out n/a (0 of 1 source groups held out; 1 not refitted: too few runs "
                             "left)") for line in lines)
    assert not any(line.startswith("    # refitted leaving one source out:") for line in lines)


def test_group_by_source_leaves_one_log_out(tmp_path, capsys, monkeypatch):
    """--group-by source: a run's group is its log (data/runs.csv), not its row: the pattern it was cut with missed
    ':row 3', so every run of a CSV was a group of its own and 'leave-one-source-out' left one run out."""
    report, runs = write_toy(tmp_path)
    header, *rows = runs.read_text().splitlines()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.csv").write_text("\n".join([header, *rows[:4]]) + "\n")      # batch 1 and 2
    (tmp_path / "data" / "b.csv").write_text("\n".join([header, *rows[4:]]) + "\n")      # batch 4 and 8
    monkeypatch.chdir(tmp_path)
    assert main(["calibrate", "toy.perf", "--measured", "data/a.csv", "--measured", "data/b.csv", "--fit", *FITS,
                 "--group-by", "source", "--bootstrap", "0", "-o", "cal.perf"]) == 0
    captured = capsys.readouterr()
    out = captured.err                                  # the summary goes to stderr, with the diagnostics
    # The residual table (stdout) names the source once: the group, a run's log, is where its source starts (it had
    # a second `source` column, data/a.csv beside data/a.csv:row 1)
    assert captured.out.splitlines()[0].split() == ["run", "source", "metric", "measured", "estimated", "error",
                                                    "[%]", "held-out", "estimate", "held-out", "error", "[%]"]
    assert captured.out.splitlines()[2].split()[2] == "data/a.csv:row"      # batch=1, seq_len=128: row 1 of a.csv
    assert out.split("leave one source out:\n")[1].splitlines()[:2] == [
        "  data/a.csv: runtime 0.00%  (refitted without it: efficiency 0.62, bandwidth_efficiency 0.83, overhead 23 us)",
        "  data/b.csv: runtime 0.00%  (refitted without it: efficiency 0.62, bandwidth_efficiency 0.83, overhead 23 us)"]
    # efficiency 0.62: TRUTH, recovered from either log alone (the runs are noiseless)
    assert "    # refitted leaving one source out: data/a.csv 0.62, data/b.csv 0.62" in (tmp_path / "cal.perf").read_text()


@pytest.mark.parametrize("args, message", [
    (["--fit", "efficiency"], "error[bad-option]: --fit efficiency: name the cell as BLOCK.CELL"),
    (["--fit", "toy.efficiencyy"], "error[bad-option]: --fit toy.efficiencyy: 'toy' has no cell 'efficiencyy'"),
    (["--fit", "toy.efficiency=1..0.5"],
     "error[bad-option]: --fit toy.efficiency=1..0.5: the lower bound is not below the upper one"),
    (["--fit", "shape.overhead=0..1"],
     "error[unit-mismatch]: --fit shape.overhead=0..1: the bound '0' has no unit, but 'shape.overhead' is s"),
    (["--fit", "toy.efficiency", "--metric", "memory"],
     "error[bad-option]: --metric memory: no run is matched on 'memory'"),
    (["--fit", "toy.efficiency", "--group-by", "modle"],
     "error[bad-option]: --group-by modle: the report has no axis 'modle'"),
    (["--fit", "toy.efficiency", "--loss", "l2"],
     "error[bad-option]: --loss l2: one of linear, soft_l1, huber, cauchy, arctan"),
    (["--fit", "toy.efficiency", "--resample", "pairs"], "error[bad-option]: --resample pairs: one of residuals, runs"),
])
def test_bad_options_are_usage_errors(tmp_path, capsys, args, message):
    report, runs = write_toy(tmp_path)
    code = main(["calibrate", str(report), "--measured", str(runs), *args, "-o", str(tmp_path / "c.perf")])
    assert code == 2
    assert capsys.readouterr().err.splitlines()[0] == message


def test_a_metric_given_twice_enters_the_fit_once_and_with_two_weights_is_refused(tmp_path, capsys):
    # Before: `--metric runtime --metric runtime` fitted each run's runtime twice ("16 measured values" for the 8
    # runs), and with two weights wrote a file that `perfdsl check` refused (calibration-fails-check).
    report, runs = write_toy(tmp_path)
    base = ["calibrate", str(report), "--measured", str(runs), "--fit", "toy.efficiency", "--bootstrap", "0",
            "--starts", "0", "-o", str(tmp_path / "c.perf")]
    assert main(base + ["--metric", "runtime", "--metric", "runtime=1"]) == 0
    assert capsys.readouterr().err.splitlines()[0].startswith("fitted 1 cell on 8 runs (8 measured values;")
    assert main(base + ["--metric", "runtime=1", "--metric", "runtime=2"]) == 2
    assert capsys.readouterr().err == (
        "error[bad-option]: --metric runtime=1 and --metric runtime=2 give 'runtime' different weights\n"
        "  = help: give --metric runtime once, with the weight meant; the same weight given again is taken\n\n1 error\n")


def _toy_shown(tmp_path: Path, shows: str) -> tuple[Path, Path]:
    """The toy report and its runs (noiseless), the report showing `shows` of step's runtime, runtime2 (twice it) and
    tput (the tokens over it)."""
    report, runs = write_toy(tmp_path)
    text = report.read_text().replace("    idle = hardware.unused_efficiency * 1 s\n",
                                      "    idle = hardware.unused_efficiency * 1 s\n    runtime2 = 2 * runtime\n"
                                      "    tput = 1 token * workload.batch * workload.seq_len / runtime\n")
    report.write_text(text.replace("    show step.runtime in ms as runtime\n", f"    show {shows}\n"))
    return report, runs


@pytest.mark.parametrize("shows", ["step.runtime in ms as runtime, step.tput in token/s as runtime",
                                   "step.tput in token/s as runtime, step.runtime in ms as runtime"])
def test_a_label_on_cells_of_two_dimensions_is_fitted_to_the_cell_of_the_runs_dimension(tmp_path, shows):
    # Before: the runs' runtime was fitted to the last column named runtime, the throughput in the first order (the
    # fit ran to a bound, its errors in millions of percent); eval compares the runs with the duration alone.
    report, runs = _toy_shown(tmp_path, shows)
    problem = prepare_problem(str(report), [str(runs)], FITS)
    assert [(m.name, m.ref.dotted, m.unit) for m in problem.metrics] == [("runtime", "step.runtime", "ms")]
    cal = calibrate(problem, bootstrap=0, starts=0)
    for name, value in fitted(cal).items():
        assert value == pytest.approx(TRUTH[name], rel=1e-6)


def test_one_cell_shown_in_two_units_is_fitted_once_in_the_first_shows_unit(tmp_path):
    # Before: in the last show's unit (s), taken silently; the fit is the same in either.
    report, runs = _toy_shown(tmp_path, "step.runtime in ms as runtime, step.runtime in s as runtime")
    problem = prepare_problem(str(report), [str(runs)], FITS)
    assert [(m.name, m.ref.dotted, m.unit, m.scale) for m in problem.metrics] == [("runtime", "step.runtime", "ms",
                                                                                   1e-3)]
    assert len(problem.obs.measured) == 8                  # each run once, not once per column


def test_two_cells_compared_with_one_metric_are_refused_naming_both(tmp_path, capsys):
    # Before: the fit took the last column named runtime (here runtime2, twice the runtime the runs measured) and
    # said nothing; the runs' runtime is compared with both in eval, so which one is meant is the user's to say.
    report, runs = _toy_shown(tmp_path, "step.runtime in ms as runtime, step.runtime2 in s as runtime")
    code = main(["calibrate", str(report), "--measured", str(runs), "--fit", "toy.efficiency", "--bootstrap", "0",
                 "--starts", "0", "-o", str(tmp_path / "c.perf")])
    assert code == 2
    assert not (tmp_path / "c.perf").exists()
    shown = "    show step.runtime in ms as runtime, step.runtime2 in s as runtime"
    n = report.read_text().splitlines().index(shown) + 1
    assert capsys.readouterr().err.replace(str(report), "toy.perf") == (
        "error[ambiguous-metric]: the runs' 'runtime' is compared with 2 shown cells, `step.runtime in ms as runtime` "
        "and `step.runtime2 in s as runtime`: calibrate fits it to one\n"
        f"   --> toy.perf:{n}:41\n"
        "   |\n"
        f"{n} | {shown}\n"
        "   |                                         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
        f"   = note: `step.runtime in ms as runtime` is at toy.perf:{n}:10\n"
        "   = in: report.toy_report\n"
        "   = help: keep the label 'runtime' on the cell to fit and give the other another (`step.runtime2 in s as "
        "runtime_2`): the runs' 'runtime' is then compared with the cell it labels alone\n"
        "\n"
        "1 error\n")
    # Labelled apart, the runs' runtime is compared with step.runtime alone, and fitted to it.
    report.write_text(report.read_text().replace("step.runtime2 in s as runtime", "step.runtime2 in s as runtime_2"))
    assert [m.ref.dotted for m in prepare_problem(str(report), [str(runs)], FITS).metrics] == ["step.runtime"]


def test_the_output_is_a_perf_file(tmp_path, capsys):
    report, runs = write_toy(tmp_path)
    assert main(["calibrate", str(report), "--measured", str(runs), "--fit", "toy.efficiency",
                 "-o", str(tmp_path / "c.csv")]) == 2
    assert capsys.readouterr().err.splitlines()[0] == \
        f"error[bad-output]: -o {tmp_path / 'c.csv'}: the calibration is written as a .perf file"


# ---- the seed's runs -------------------------------------------------------------------------------------------

SEED_FITS = ["gpu.matmul_efficiency=0.3..1", "gpu.bandwidth_efficiency=0.3..1", "hf_eager_profiled.kernel_overhead=0us..200us"]
ONE_A5000 = {"n_gpus": "1", "hardware": "rtx_a5000"}
# The report imports the calibration, so the fit would start at its values: start it at the library's defaults.
FROM_DEFAULTS = {"gpu.matmul_efficiency": "0.67", "gpu.bandwidth_efficiency": "0.80", "hf_eager_profiled.kernel_overhead": "38 us"}


@pytest.fixture(scope="module")
def seed_calibration():
    problem = prepare_problem(str(REPO / "reports" / "seed_benchmark.perf"), [], SEED_FITS,
                              overrides={**ONE_A5000, **FROM_DEFAULTS}, group_by="model")
    return problem, calibrate(problem, bootstrap=0)


def test_the_seed_cells_are_what_calibrate_gives_on_the_six_single_gpu_runs(seed_calibration):
    """reports/seed_a5000_calibration.perf holds what this fit gives (written with 6 digits)."""
    problem, cal = seed_calibration
    assert [c.start for c in cal.cells] == [0.67, 0.80, pytest.approx(38e-6)]
    assert len(cal.obs.measured) == 6 and set(cal.obs.group) == {"opt_1_3b", "opt_6_7b", "clm_60m", "clm_200m",
                                                                 "clm_400m", "clm_1_1b"}
    committed = perfdsl.load([REPO / "reports" / "seed_a5000_calibration.perf"])
    for cell, value in zip(cal.cells, cal.values):
        assert committed.value(cell.name) == pytest.approx(value, rel=2e-5), cell.name


def test_the_seed_errors_in_sample_and_leaving_one_model_out(seed_calibration):
    """The figures costmodels/README.md states: runtime MAPE 1.07% in sample, 2.46% leaving one model out."""
    _, cal = seed_calibration
    assert cal.mape(0) == pytest.approx(0.0107, abs=5e-5)
    assert cal.mape(0, cal.cv_estimated()) == pytest.approx(0.0246, abs=5e-5)
    assert np.abs(cal.relative_errors()).max() == pytest.approx(0.0190, abs=5e-5)     # clm-1.1b


def test_attention_fitted_free_on_the_seed_is_not_determined(seed_calibration):
    """Attention is 2-5% of the seed's runs: fitted on its own it is not determined, as costmodels/README.md says."""
    problem = prepare_problem(str(REPO / "reports" / "seed_benchmark.perf"), [],
                              SEED_FITS + ["gpu.attention_efficiency=0.3..1"], overrides=ONE_A5000)
    cal = calibrate(problem, bootstrap=0)
    flags = {f.cell: f for f in cal.flags}
    assert flags["gpu.attention_efficiency"].message.startswith("the runs determine it only to +-")
    assert cal.singular_values[-1] / cal.singular_values[0] < 0.01
    assert flags["gpu.attention_efficiency"].hint.startswith("fix it (leave it out of --fit) or tie it to ")
    assert set(flags) == {"gpu.attention_efficiency"}


def test_the_seed_report_shows_the_calibrations_interval(capsys):
    assert main(["eval", str(REPO / "reports" / "seed_benchmark.perf"), "--set", "n_gpus=1", "--set",
                 "hardware=rtx_a5000", "--format", "json"]) == 0
    import json

    rows = json.loads(capsys.readouterr().out)
    spread = perfdsl.load([REPO / "reports" / "seed_a5000_calibration.perf"])
    low = spread.value("seed_a5000_calibration.runtime_low")
    high = spread.value("seed_a5000_calibration.runtime_high")
    assert low < 1 < high
    for row in rows:
        assert row["runtime low [ms]"] == pytest.approx(row["runtime [ms]"] * low)
        assert row["runtime high [ms]"] == pytest.approx(row["runtime [ms]"] * high)


def test_each_column_of_a_shared_name_takes_the_spread_of_its_own_estimate(capsys):
    """Two cells shown under one name in two units (`t in ms as a, u in s as a`) share the factors `a_low` and
    `a_high`, each times its own estimate: at batch 1, u = 1 x 3 s gives 0.5 x 3 = 1.5 s and 2 x 3 = 6 s. Before,
    both columns' bounds were those of the first, t (1 and 4 s beside 3 s)."""
    text = ("workload wl {\n    sweep batch = [1, 2, 4]\n    t = batch * 2 s\n    u = batch * 3 s\n}\n"
            "costmodel spread {\n    a_low = 0.5\n    a_high = 2\n}\n"
            "report r {\n    workload = wl\n    calibration = spread\n"
            "    show workload.t in ms as a, workload.u in s as a\n}\n")
    result = perfdsl.load([], texts={"r.perf": text}).evaluate()
    from perfdsl.intervals import with_intervals

    keys, columns = with_intervals(result, *result.table())
    table = dict(zip(keys, (column.tolist() for column in columns)))
    assert keys == ["batch", "a [ms]", "a low [ms]", "a high [ms]", "a [s]", "a low [s]", "a high [s]"]
    batches = [1, 2, 4]
    assert table["a low [ms]"] == [b * 2 * 0.5 * 1000 for b in batches]
    assert table["a high [ms]"] == [b * 2 * 2.0 * 1000 for b in batches]
    assert table["a low [s]"] == [b * 3 * 0.5 for b in batches]
    assert table["a high [s]"] == [b * 3 * 2.0 for b in batches]


def test_the_seed_reports_rows_take_the_spread_of_the_calibration_fitted_on_runs_like_them(capsys):
    """One GPU: the single-GPU fit's spread; eight GPUs: the eight-GPU fit's (reports/seed_benchmark.perf binds
    `seed_spread`, which chooses per point). The x 8 factors were shown on every row before, and three of the six
    measured x 8 runs fell outside that band."""
    assert main(["eval", str(REPO / "reports" / "seed_benchmark.perf"), "--format", "json"]) == 0
    import json

    rows = json.loads(capsys.readouterr().out)
    spread = perfdsl.load([REPO / "reports" / "seed_a5000_calibration.perf",
                           REPO / "reports" / "seed_a5000x8_calibration.perf"])
    factors = {1: (spread.value("seed_a5000_calibration.runtime_low"),
                   spread.value("seed_a5000_calibration.runtime_high")),
               8: (spread.value("seed_a5000x8_calibration.runtime_low"),
                   spread.value("seed_a5000x8_calibration.runtime_high"))}
    assert factors[8] == (0.7398, 1.4317)
    assert len(rows) == 24
    for row in rows:
        low, high = factors[row["n_gpus"]]
        assert row["runtime low [ms]"] == pytest.approx(row["runtime [ms]"] * low, rel=1e-12)
        assert row["runtime high [ms]"] == pytest.approx(row["runtime [ms]"] * high, rel=1e-12)
        if row.get("runtime measured [ms]") is not None:           # every measured A5000 run lies in its band
            assert row["runtime low [ms]"] <= row["runtime measured [ms]"] <= row["runtime high [ms]"]
    _, err = capsys.readouterr()
    assert main(["eval", str(REPO / "reports" / "seed_benchmark.perf"), "--format", "csv"]) == 0
    err = capsys.readouterr().err
    assert err[err.index("note[in-sample]"):] == (
        "note[in-sample]: errors on the runs calibrations 'seed_a5000x8_calibration' and 'seed_a5000_calibration' "
        "were fitted on are in-sample: the fit saw them, so they do not test the model\n"
        "  --> reports/seed_a5000x8_calibration.perf\n"
        "  = note: the report binds 'seed_spread', which reads calibrations 'seed_a5000x8_calibration' and "
        "'seed_a5000_calibration'; 'seed_a5000x8_calibration' (reports/seed_a5000x8_calibration.perf) was fitted by "
        "`perfdsl calibrate` on 6 runs of data/seed_runs_a5000.csv; 'seed_a5000_calibration' "
        "(reports/seed_a5000_calibration.perf) was fitted by `perfdsl calibrate` on 6 runs of "
        "data/seed_runs_a5000.csv; that log is compared here\n"
        "  = note: 'seed_a5000x8_calibration' records runtime MAPE in-sample 7.59%, leave-one-model-out 9.93%\n"
        "  = note: 'seed_a5000_calibration' records runtime MAPE in-sample 1.07%, leave-one-model-out 2.46%\n"
        "  = help: cross-validated (held-out) errors per run: `perfdsl calibrate --residuals` with the command in its "
        "header; costmodels/README.md gives them\n\n")


def test_a_command_line_set_wins_over_a_files_set():
    program = perfdsl.load([REPO / "tests" / "cases" / "eval_set_statement.perf"])
    assert program.value("gpu.mem_bw") == 600e9
    assert program.with_overrides({"gpu.mem_bw": "400 GB/s"}).value("gpu.mem_bw") == 400e9


def test_the_seed_workbook_has_estimated_low_and_high_beside_runtime(tmp_path):
    out = tmp_path / "seed.xlsx"
    assert main(["eval", str(REPO / "reports" / "seed_benchmark.perf"), "-o", str(out)]) == 0
    sheet = openpyxl.load_workbook(out)["Single GPU"]
    groups, heads = (list(row) for row in sheet.iter_rows(min_row=1, max_row=2, values_only=True))
    assert heads[3:8] == ["Measured", "Estimated", "Estimated low", "Estimated high", "Error"]
    assert groups[3] == "Runtime (ms)" and groups[8] == "Memory (GiB)"
    assert heads[8:11] == ["Measured", "Estimated", "Error"]          # memory has no spread: three columns
    spread = perfdsl.load([REPO / "reports" / "seed_a5000_calibration.perf"])
    estimated, low, high = (sheet.cell(3, column).value for column in (5, 6, 7))
    assert low == pytest.approx(estimated * spread.value("seed_a5000_calibration.runtime_low"))
    assert high == pytest.approx(estimated * spread.value("seed_a5000_calibration.runtime_high"))
    # the Error formula still compares Measured (D) and Estimated (E)
    assert sheet["H3"].value == '=IF(OR(D3="",E3="",D3=0),"",(E3-D3)/D3)'


def test_runs_that_match_no_point_are_a_usage_error(tmp_path, capsys):
    report, _ = write_toy(tmp_path)
    runs = tmp_path / "other.csv"
    runs.write_text("batch,seq_len,runtime [ms]\n3,128,10\n")             # batch 3 is not in the sweep
    assert main(["calibrate", str(report), "--measured", str(runs), "--fit", "toy.efficiency",
                 "-o", str(tmp_path / "c.perf")]) == 2
    assert "error[no-runs]: no run matches a sweep point of report 'toy_report'" in capsys.readouterr().err


def test_two_real_wall_time_runs_give_the_hosts_two_cells(tmp_path, capsys):
    """The two optimum-benchmark A100 runs (../shared/logs; tests/test_real_logs.py) pin the device-side and the host
    cost per kernel, set by hand in costmodels/README.md to 4 us and 19.5 us. The host time starts at 0, where the
    step's max(device, host) hides it: only the fits from other starts find it."""
    logs = REPO.parent / "shared" / "logs" / "01_optimum_benchmark"
    runs = {"meta-llama/Llama-3.1-8B": logs / "derekliu35_llama3.1-8b_bf16_A100_bs1_seq64_new64.benchmark.json",
            "meta-llama/Llama-3.1-70B":
                logs / "derekliu35_llama3.1-70b_bf16_2xA100_bs1_seq64_new64_static-cache.benchmark.json"}
    if not all(path.exists() for path in runs.values()):
        pytest.skip("../shared/logs is absent: the real-log calibration needs it")
    csvs = []
    for model, log in runs.items():
        side = tmp_path / f"{log.stem}.side.json"
        side.write_text(f'{{"model": "{model}"}}')
        csvs.append(tmp_path / f"{log.stem}.csv")
        assert main(["ingest", str(log), "--meta", str(side), "-o", str(csvs[-1])]) == 0
    problem = prepare_problem(str(REPO / "tests" / "fixtures" / "specs" / "optimum_a100.perf"), [str(c) for c in csvs],
                              ["hf_eager_profiled.kernel_overhead=0us..50us",
                               "hf_eager_profiled.host_kernel_time=0us..50us"],
                              overrides={"stack": "hf_eager_profiled"},      # its host time starts at 0
                              metrics=["per_token_latency"])
    assert problem.cells[1].start == 0
    alone = calibrate(problem, bootstrap=0, starts=0)
    assert fitted(alone)["hf_eager_profiled.host_kernel_time"] < 1e-9      # stuck where the max hides it
    cal = calibrate(problem, bootstrap=0)
    # 4.3 us, where the README's hand-set 4 us predates decode reading one row of the token embedding instead of its
    # whole table (2.1 GB less for the device-bound 70B, which the per-kernel time now makes up)
    assert fitted(cal)["hf_eager_profiled.kernel_overhead"] == pytest.approx(4.30e-6, rel=0.02)
    assert fitted(cal)["hf_eager_profiled.host_kernel_time"] == pytest.approx(19.5e-6, rel=0.02)
    assert cal.mape(0) < 1e-6                                              # two runs, two cells: an exact fit
    assert all(math.isnan(x) for x in cal.spread(0))                       # ... which leaves no spread to measure
    capsys.readouterr()


def test_the_fast_estimator_equals_program_evaluate_with_overrides(tmp_path):
    """The fit writes the cells' values into a linked program instead of relinking per step (perfdsl.calibrate's
    Estimator): it must give what Program.evaluate gives with the same values as overrides."""
    from perfdsl.calibrate import Estimator

    report, runs = write_toy(tmp_path)
    problem = prepare_problem(str(report), [str(runs)], FITS)
    estimator = Estimator(problem.program, problem.report, problem.overrides, problem.cells, problem.metrics)
    for values in ([0.62, 0.83, 23e-6], [0.3, 0.9, 1e-6], [0.62, 0.83, 23e-6]):
        texts = {cell.name: cell.literal(value) for cell, value in zip(problem.cells, values)}
        expected = problem.program.evaluate(problem.report, overrides=texts).column("runtime")
        assert estimator(np.array(values))[0] == pytest.approx(expected, rel=1e-5)   # literal() keeps 6 digits


def test_the_report_is_never_written_over(tmp_path, capsys):
    report, runs = write_toy(tmp_path)
    assert main(["calibrate", str(report), "--measured", str(runs), "--fit", "toy.efficiency", "-o", str(report)]) == 2
    assert capsys.readouterr().err.splitlines()[0] == f"error[output-is-input]: refusing to write over the input " \
                                                      f"'{report}'"
    assert report.read_text() == TOY


def test_runs_are_fitted_at_their_own_point_where_a_require_leaves_points_out(tmp_path):
    # A constraint that leaves the batch-1 points out makes the result's rows the valid points only, while the
    # estimator evaluates the whole sweep: each run must be compared with the estimate of its own point (the fit
    # used to read the estimate of the point with the row's index, another point, and recovered nothing).
    report, runs = write_toy(tmp_path)
    text = report.read_text().replace("    overhead = 10 us\n",
                                      "    overhead = 10 us\n    require batch > 1, \"batch 1 is left out\"\n")
    report.write_text(text)
    problem = prepare_problem(str(report), [str(runs)], FITS)
    assert len(problem.obs.measured) == 6                 # 8 runs, the 2 at batch 1 without a point
    assert sorted(problem.obs.point.tolist()) == [2, 3, 4, 5, 6, 7]   # flat sweep points: batch 2, 4, 8 x 2 lengths
    cal = calibrate(problem, bootstrap=0)
    for name, value in fitted(cal).items():
        assert value == pytest.approx(TRUTH[name], rel=1e-6)
    assert cal.mape(0) < 1e-9


def test_a_misspelt_fit_cell_is_told_the_close_names(tmp_path, capsys):
    """`--fit trtllm.step_overhed`: the newcomer's typo gets a did-you-mean (and the cells the block has)."""
    report, runs = write_toy(tmp_path)
    code = main(["calibrate", str(report), "--measured", str(runs), "--fit", "toy.efficiencyy=0.1..1",
                 "-o", str(tmp_path / "c.perf")])
    assert code == 2
    assert capsys.readouterr().err.splitlines()[:2] == [
        "error[bad-option]: --fit toy.efficiencyy=0.1..1: 'toy' has no cell 'efficiencyy'",
        "  = help: did you mean 'efficiency' or 'unused_efficiency' or 'bandwidth_efficiency'?"]


# ---- what the newcomer met (issues R3-R5, R7) --------------------------------------------------------------------

def test_the_seed_calibration_imports_what_calibrate_writes_for_it(seed_calibration):
    """Refitting the seed wrote `import "../software/stacks.perf"` where the shipped file had transformer_inference:
    hf_eager_profiled moved to software/stacks.perf (commit 4063adc). The imports are the fitted blocks' files, in
    --fit order: gpu (hardware/gpu.perf), then hf_eager_profiled (software/stacks.perf)."""
    from perfdsl.calibration_imports import import_lines

    problem, cal = seed_calibration
    shipped = REPO / "reports" / "seed_a5000_calibration.perf"
    written = import_lines(problem, cal.cells, str(shipped))
    assert written == ['import "../hardware/gpu.perf"', 'import "../software/stacks.perf"']
    assert [line for line in shipped.read_text().splitlines() if line.startswith("import ")] == written


# A report of the newcomer's own, in a folder of theirs, fitting a cell of a bundled GPU: 1 GB read at mem_bw.
ON_A_BUNDLED_GPU = """\
import "hardware/hopper.perf"
costmodel c { runtime = 1 GB / hardware.mem_bw }
workload w { sweep batch = [1, 2] }
report r {
    hardware = h100_sxm5
    workload = w
    show c.runtime in ms as runtime
}
"""


def test_a_calibration_imports_a_bundled_file_by_its_library_form(tmp_path, capsys, monkeypatch):
    """The newcomer's calibration imported `"../../newcomer/hardware/hopper.perf"`, the path from their folder into the
    clone, which breaks when either moves; the library form is found wherever perfdsl is."""
    monkeypatch.chdir(tmp_path)
    Path("mine.perf").write_text(ON_A_BUNDLED_GPU)
    Path("runs.csv").write_text("batch,runtime [ms]\n1,0.25\n2,0.25\n")      # 1 GB / 0.25 ms = 4 TB/s
    assert main(["calibrate", "mine.perf", "--measured", "runs.csv", "--fit", "h100_sxm5.mem_bw=1TB/s..8TB/s",
                 "--bootstrap", "0", "--starts", "1", "-o", "cal.perf"]) == 0
    text = Path("cal.perf").read_text()
    assert [line for line in text.splitlines() if line.startswith("import ")] == ['import "hardware/hopper.perf"']
    assert "    h100_sxm5.mem_bw = 4000 GB/s\n" in text
    capsys.readouterr()
    assert main(["check", "cal.perf"]) == 0


def test_a_library_form_that_another_file_would_shadow_keeps_the_relative_path(tmp_path, monkeypatch):
    """`import "hardware/hopper.perf"` is looked for beside the importing file, then in the working folder, before
    the bundled libraries: where a file of that name stands in either, the relative path names the bundled one."""
    from perfdsl.calibration_imports import import_path

    hopper = perfdsl.library_path("hardware") / "hopper.perf"
    mine = tmp_path / "mine"
    mine.mkdir()
    monkeypatch.chdir(tmp_path)
    output = str(mine / "cal.perf")
    assert import_path(str(hopper), output) == "hardware/hopper.perf"
    relative = os.path.relpath(hopper, mine)
    (mine / "hardware").mkdir()
    (mine / "hardware" / "hopper.perf").write_text("hardware my_hopper { mem_bw = 1 TB/s }\n")   # beside the output
    assert import_path(str(hopper), output) == relative
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert import_path(str(hopper), str(elsewhere / "cal.perf")) == "hardware/hopper.perf"
    monkeypatch.chdir(mine)                                     # in the working folder
    assert import_path(str(hopper), str(elsewhere / "cal.perf")) == os.path.relpath(hopper, elsewhere)


def test_a_calibration_inside_the_libraries_tree_keeps_relative_imports(tmp_path):
    """An output in the tree that holds the libraries (the repository's reports/) moves with them: `../hardware/...`,
    as the tree's reports import, so that a copy of the tree reads its own files. A user's file is always relative."""
    from perfdsl.calibration_imports import import_path
    from perfdsl.library import library_root

    hopper = perfdsl.library_path("hardware") / "hopper.perf"
    assert import_path(str(hopper), str(library_root() / "reports" / "cal.perf")) == "../hardware/hopper.perf"
    (tmp_path / "mygpu.perf").write_text("")
    assert import_path(str(tmp_path / "mygpu.perf"), str(tmp_path / "out" / "cal.perf")) == "../mygpu.perf"


def test_a_calibration_beside_the_one_the_report_imports_is_said_to_set_its_cells_twice(tmp_path, capsys,
                                                                                          monkeypatch):
    """The report imports its calibration, and a fitted block (the workload `shape`) is defined in the report: a new
    calibration written to another file imports the report, so the old one too, and `check` finds every cell set
    twice. calibrate says so before the fit, notes it in the file, and after writing says that the file fails
    `check`; written over the old file, it checks."""
    monkeypatch.chdir(tmp_path)
    write_toy(tmp_path)
    fit = ["--measured", "runs.csv", "--fit", *FITS, "--bootstrap", "0", "--starts", "0"]
    assert main(["calibrate", "toy.perf", *fit, "-o", "toy_calibration.perf"]) == 0
    Path("toy.perf").write_text('import "toy_calibration.perf"\n' + Path("toy.perf").read_text())
    assert main(["check", "toy.perf"]) == 0
    capsys.readouterr()
    assert main(["calibrate", "toy.perf", *fit, "-o", "new.perf"]) == 0
    err = capsys.readouterr().err
    assert err.startswith(
        "warning[calibration-clash]: new.perf will set 3 cells that toy_calibration.perf sets too, and it imports "
        "toy.perf, which imports that file: `perfdsl check new.perf` will find each set twice\n"
        "   --> toy_calibration.perf:21:9\n"
        "   |\n"
        "21 |     toy.efficiency = 0.62\n"
        "   |         ^^^^^^^^^^\n"
        "   = note: set by both: toy.efficiency, toy.bandwidth_efficiency, shape.overhead\n"
        "   = help: to use the new values, import \"new.perf\" in toy.perf instead of \"toy_calibration.perf\" (the "
        "new file then checks), or write over the old file: -o toy_calibration.perf\n"
        "\n"
        "1 warning\n"
        "fitted 3 cells"), err
    assert err.endswith(
        "wrote new.perf\n"
        "warning[calibration-clash]: wrote new.perf, but `perfdsl check new.perf` finds 3 errors\n"
        "  = note: toy_calibration.perf:21:9: error[duplicate-set]: 'toy.efficiency' is set twice\n"
        "  = note: toy_calibration.perf:24:9: error[duplicate-set]: 'toy.bandwidth_efficiency' is set twice\n"
        "  = note: toy_calibration.perf:27:11: error[duplicate-set]: 'shape.overhead' is set twice\n"
        "  = help: see the calibration-clash warning above: the file checks once the report imports it instead of "
        "the old calibration\n"
        "\n"
        "1 warning\n"), err
    assert ("# NOTE: toy_calibration.perf (imported through toy.perf) sets toy.efficiency, toy.bandwidth_efficiency, "
            "shape.overhead too: `perfdsl check` on this file finds them set twice until the report imports this "
            "file instead of that one, or this file replaces it.\n") in Path("new.perf").read_text()
    assert main(["check", "new.perf"]) == 1
    # as the hint says: the report imports the new file instead, and both check
    Path("toy.perf").write_text(Path("toy.perf").read_text().replace('"toy_calibration.perf"', '"new.perf"'))
    assert main(["check", "new.perf", "toy.perf"]) == 0
    # written over the old file, nothing is set twice and nothing is said
    Path("toy.perf").write_text(Path("toy.perf").read_text().replace('"new.perf"', '"toy_calibration.perf"'))
    capsys.readouterr()
    assert main(["calibrate", "toy.perf", *fit, "-o", "toy_calibration.perf"]) == 0
    err = capsys.readouterr().err
    assert "calibration-clash" not in err and "NOTE" not in Path("toy_calibration.perf").read_text()
    assert main(["check", "toy_calibration.perf"]) == 0


def test_leave_one_out_names_cells_that_share_a_name_by_their_block(tmp_path, capsys):
    """Two blocks' `efficiency` fitted at once: the leave-one-out lines name them toy.efficiency and shape.efficiency
    (they said `efficiency 0.6, efficiency 1`); a name only one fitted cell has stays short."""
    report, runs = write_toy(tmp_path)
    report.write_text(TOY.replace("    overhead = 10 us\n", "    overhead = 10 us\n    efficiency = 1.0\n")
                      .replace("hardware.efficiency * hardware.derate", "hardware.efficiency * workload.efficiency"))
    assert main(["calibrate", str(report), "--measured", str(runs), "--fit", "toy.efficiency=0.1..1",
                 "shape.efficiency=0.5..2", "toy.bandwidth_efficiency=0.1..1", "--group-by", "seq_len",
                 "--bootstrap", "0", "--starts", "0", "-o", str(tmp_path / "c.perf")]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if "refitted without it" in line]
    assert len(lines) == 2
    for line in lines:
        names = [part.strip().split(" ")[0] for part in line.split("refitted without it: ")[1].split(",")]
        assert names == ["toy.efficiency", "shape.efficiency", "bandwidth_efficiency"], line


def test_a_formula_cell_without_bounds_is_said_to_be_a_formula(tmp_path, capsys):
    """`--fit generate.kernel_overhead` (`= stack.kernel_overhead`) said it had no value to start from: it says it is
    a formula, and names the cell it reads in the block the report binds, and the bounds that replace it."""
    report, runs = write_toy(tmp_path)
    report.write_text(TOY.replace("    overhead = 10 us\n", "    overhead = hardware.launch_overhead\n")
                      .replace("    derate = 1.0", "    derate = 1.0\n    launch_overhead = 10 us"))
    code = main(["calibrate", str(report), "--measured", str(runs), "--fit", "shape.overhead",
                 "-o", str(tmp_path / "c.perf")])
    assert code == 2
    assert capsys.readouterr().err == (
        "error[bad-option]: --fit shape.overhead: 'shape.overhead' is a formula (`hardware.launch_overhead`), not a "
        "number: it has no value to start from\n"
        "  = help: fit the cell it reads, where report 'toy_report' binds hardware: --fit toy.launch_overhead\n"
        "  = help: or give bounds, --fit shape.overhead=LOW..HIGH: the fit then replaces the formula by a number and "
        "starts midway\n"
        "\n"
        "1 error\n")


def test_errors_on_the_runs_the_bound_calibration_was_fitted_on_are_said_to_be_in_sample(tmp_path, capsys,
                                                                                        monkeypatch):
    """A report that binds its calibration, compared with the very runs it was fitted on: eval's console and the
    workbook's About sheet say the errors are in-sample, from what the calibration's header records (its runs' log),
    and where the held-out errors are. Compared with another log (new measurements of the same runs: the fit did not
    see them), the console says nothing and About says so."""
    bound_toy(tmp_path, monkeypatch)
    remeasured(Path("runs.csv"), Path("other.csv"))
    capsys.readouterr()
    assert main(["eval", "toy.perf", "--measured", "runs.csv", "--format", "csv", "-o", "out.csv"]) == 0
    assert capsys.readouterr().err == (
        "note[in-sample]: errors on the runs calibration 'toy_calibration' was fitted on are in-sample: the fit saw "
        "them, so they do not test the model\n"
        "  --> toy_calibration.perf\n"
        "  = note: the report binds calibration 'toy_calibration' (toy_calibration.perf), fitted by `perfdsl "
        "calibrate` on 8 runs of runs.csv (its header lists them); that log is compared here\n"
        "  = note: its file records runtime MAPE in-sample 0.00%\n"
        "  = help: cross-validated (held-out) errors per run: `perfdsl calibrate --residuals` with the command in its "
        "header; costmodels/README.md gives them\n"
        "\n"
        "wrote out.csv (8 rows)\n")

    def about(book: str) -> list[str]:
        return [row[1] for row in openpyxl.load_workbook(book)["About"].iter_rows(values_only=True)
                if len(row) > 1 and isinstance(row[1], str)]

    assert main(["eval", "toy.perf", "--measured", "runs.csv", "-o", "in.xlsx"]) == 0
    assert ("In-sample errors: the report binds calibration 'toy_calibration' (toy_calibration.perf), fitted by "
            "`perfdsl calibrate` on 8 runs of runs.csv (its header lists them); that log is compared here: the errors "
            "on the runs it was fitted on are in-sample (the fit saw them; they do not test the model). Its file "
            "records runtime MAPE in-sample 0.00%. Cross-validated (held-out) errors per run: `perfdsl calibrate "
            "--residuals` with the command in its header; costmodels/README.md gives them.") in about("in.xlsx")
    capsys.readouterr()
    assert main(["eval", "toy.perf", "--measured", "other.csv", "-o", "out.xlsx"]) == 0
    assert capsys.readouterr().err == "wrote out.xlsx (8 rows)\n"
    assert ("Calibration: the report binds calibration 'toy_calibration' (toy_calibration.perf), fitted by `perfdsl "
            "calibrate` on 8 runs of runs.csv (its header lists them); none of those logs is compared here: these "
            "errors are out of sample; its file records runtime MAPE in-sample 0.00%.") in about("out.xlsx")



def test_the_in_sample_note_names_each_log_fitted_on_once(tmp_path, capsys, monkeypatch):
    """A calibration fitted on two logs (the toy's runs 1-4 and 5-8): compared with both, the note names each once
    and says those logs are compared here; with one, it marks that one. It named them all again after "; " (a
    newcomer's ML.ENERGY note gave six long paths twice in one line)."""
    monkeypatch.chdir(tmp_path)
    write_toy(tmp_path)
    header, *lines = list(csv.reader(Path("runs.csv").open(newline="")))
    for name, part in (("first.csv", lines[:4]), ("second.csv", lines[4:])):
        with open(name, "w", newline="") as file:
            csv.writer(file).writerows([header] + part)
    assert main(["calibrate", "toy.perf", "--measured", "first.csv", "second.csv", "--fit", *FITS, "--bootstrap",
                 "0", "--starts", "0", "-o", "toy_calibration.perf"]) == 0
    Path("toy.perf").write_text('import "toy_calibration.perf"\n' + Path("toy.perf").read_text().replace(
        "    workload = shape\n", "    workload = shape\n    calibration = toy_calibration\n"))
    where = "  = note: the report binds calibration 'toy_calibration' (toy_calibration.perf), fitted by `perfdsl " \
        "calibrate` on 8 runs "
    capsys.readouterr()
    assert main(["eval", "toy.perf", "--measured", "first.csv", "second.csv", "--format", "csv", "-o", "out.csv"]) == 0
    assert where + "of first.csv, second.csv (its header lists them); those logs are compared here\n" \
        in capsys.readouterr().err
    assert main(["eval", "toy.perf", "--measured", "second.csv", "--format", "csv", "-o", "out.csv"]) == 0
    assert where + "(its header lists them) of first.csv, second.csv (compared here)\n" in capsys.readouterr().err

def remeasured(runs: Path, out: Path, rows=range(8)) -> None:
    """`out`: the rows `rows` of the toy's runs measured anew, each runtime 1% above (same batch and seq_len)."""
    header, *lines = list(csv.reader(runs.open(newline="")))
    with out.open("w", newline="") as file:
        csv.writer(file).writerows([header] + [[b, s, repr(float(t) * 1.01)] for i, (b, s, t) in enumerate(lines)
                                               if i in rows])


def bound_toy(tmp_path, monkeypatch) -> None:
    """The toy, its calibration fitted on runs.csv, and the report bound to it, in tmp_path (the working folder)."""
    monkeypatch.chdir(tmp_path)
    write_toy(tmp_path)
    assert main(["calibrate", "toy.perf", "--measured", "runs.csv", "--fit", *FITS, "--bootstrap", "0",
                 "--starts", "0", "-o", "toy_calibration.perf"]) == 0
    Path("toy.perf").write_text('import "toy_calibration.perf"\n' + Path("toy.perf").read_text().replace(
        "    workload = shape\n", "    workload = shape\n    calibration = toy_calibration\n"))


IN_SAMPLE = ("note[in-sample]: errors on the runs calibration 'toy_calibration' was fitted on are in-sample: the fit "
             "saw them, so they do not test the model\n"
             "  --> toy_calibration.perf\n"
             "  = note: the report binds calibration 'toy_calibration' (toy_calibration.perf), fitted by `perfdsl "
             "calibrate` on 8 runs of runs.csv (its header lists them); {compared} is compared here\n"
             "{some}"
             "  = note: its file records runtime MAPE in-sample 0.00%\n"
             "  = help: cross-validated (held-out) errors per run: `perfdsl calibrate --residuals` with the command in "
             "its header; costmodels/README.md gives them\n"
             "\n")


def test_a_copy_of_the_log_the_calibration_was_fitted_on_holds_the_same_runs_so_they_are_in_sample(
        tmp_path, capsys, monkeypatch):
    """The runs fitted on, read from a copy of their log (byte for byte, or with its line ends made "\n": runs.csv
    has csv's "\r\n"): the same runs in the same rows, so in-sample as from the log itself (the note matched logs by
    path only, and said nothing)."""
    bound_toy(tmp_path, monkeypatch)
    Path("copies").mkdir()
    Path("copies/runs.csv").write_bytes(Path("runs.csv").read_bytes())
    Path("copy.csv").write_text(Path("runs.csv").read_text())          # text mode: "\r\n" read and written as "\n"
    assert b"\r\n" in Path("runs.csv").read_bytes() and b"\r\n" not in Path("copy.csv").read_bytes()
    for copy in ["copies/runs.csv", "copy.csv"]:
        capsys.readouterr()
        assert main(["eval", "toy.perf", "--measured", copy, "--format", "csv", "-o", "out.csv"]) == 0
        assert capsys.readouterr().err == IN_SAMPLE.format(compared=f"{copy} (a copy of runs.csv)", some="") \
            + "wrote out.csv (8 rows)\n"


def test_a_log_of_the_same_name_holding_new_measurements_is_not_in_sample(tmp_path, capsys, monkeypatch):
    """lab2/runs.csv: the same runs measured anew, in a file named as the log fitted on. That log is where the header
    says, and this one's content differs: the fit did not see these runs, so no note (a file of the same name was
    taken for the fitted log, and its errors called in-sample); About says they are out of sample."""
    bound_toy(tmp_path, monkeypatch)
    Path("lab2").mkdir()
    remeasured(Path("runs.csv"), Path("lab2/runs.csv"))
    capsys.readouterr()
    assert main(["eval", "toy.perf", "--measured", "lab2/runs.csv", "-o", "out.xlsx"]) == 0
    assert capsys.readouterr().err == "wrote out.xlsx (8 rows)\n"
    about = [row[1] for row in openpyxl.load_workbook("out.xlsx")["About"].iter_rows(values_only=True)
             if len(row) > 1 and isinstance(row[1], str)]
    assert ("Calibration: the report binds calibration 'toy_calibration' (toy_calibration.perf), fitted by `perfdsl "
            "calibrate` on 8 runs of runs.csv (its header lists them); none of those logs is compared here: these "
            "errors are out of sample; its file records runtime MAPE in-sample 0.00%.") in about


def test_runs_ingested_from_the_log_the_calibration_was_fitted_on_are_in_sample(tmp_path, capsys, monkeypatch):
    """`perfdsl ingest runs.csv -o ingested.csv` writes each run with its source (runs.csv:row N): compared from
    ingested.csv, they are the runs fitted on, in-sample (said nothing before), and About says the same."""
    bound_toy(tmp_path, monkeypatch)
    assert main(["ingest", "runs.csv", "-o", "ingested.csv"]) == 0
    capsys.readouterr()
    assert main(["eval", "toy.perf", "--measured", "ingested.csv", "--format", "csv", "-o", "out.csv"]) == 0
    compared = "ingested.csv (`perfdsl ingest` of them: its source column names the runs fitted on)"
    assert capsys.readouterr().err == IN_SAMPLE.format(compared=compared, some="") + "wrote out.csv (8 rows)\n"
    assert main(["eval", "toy.perf", "--measured", "ingested.csv", "-o", "out.xlsx"]) == 0
    about = [row[1] for row in openpyxl.load_workbook("out.xlsx")["About"].iter_rows(values_only=True)
             if len(row) > 1 and isinstance(row[1], str)]
    assert ("In-sample errors: the report binds calibration 'toy_calibration' (toy_calibration.perf), fitted by "
            f"`perfdsl calibrate` on 8 runs of runs.csv (its header lists them); {compared} is compared here: the "
            "errors on the runs it was fitted on are in-sample (the fit saw them; they do not test the model). Its "
            "file records runtime MAPE in-sample 0.00%. Cross-validated (held-out) errors per run: `perfdsl calibrate "
            "--residuals` with the command in its header; costmodels/README.md gives them.") in about


def test_runs_compared_from_the_log_an_ingested_fit_was_ingested_from_are_in_sample(tmp_path, capsys, monkeypatch):
    """The calibration fitted on ingested.csv (`perfdsl ingest runs.csv`), compared with runs.csv itself: its header
    names ingested.csv's rows, whose source column names runs.csv's; the same runs, so in-sample (said nothing)."""
    monkeypatch.chdir(tmp_path)
    write_toy(tmp_path)
    assert main(["ingest", "runs.csv", "-o", "ingested.csv"]) == 0
    assert main(["calibrate", "toy.perf", "--measured", "ingested.csv", "--fit", *FITS, "--bootstrap", "0",
                 "--starts", "0", "-o", "toy_calibration.perf"]) == 0
    Path("toy.perf").write_text('import "toy_calibration.perf"\n' + Path("toy.perf").read_text().replace(
        "    workload = shape\n", "    workload = shape\n    calibration = toy_calibration\n"))
    capsys.readouterr()
    assert main(["eval", "toy.perf", "--measured", "runs.csv", "--format", "csv", "-o", "out.csv"]) == 0
    assert capsys.readouterr().err == IN_SAMPLE.format(
        compared="runs.csv (whose runs ingested.csv was ingested from)", some="").replace(
        "8 runs of runs.csv", "8 runs of ingested.csv") + "wrote out.csv (8 rows)\n"


def test_where_only_some_compared_runs_were_fitted_on_the_note_names_them(tmp_path, capsys, monkeypatch):
    """Rows 1-3 of runs.csv (the fitted runs, ingested) beside rows 4-8 measured anew in another log: the note says 3
    of the 8 runs compared are in-sample and names them, by the identity the calibration's header gives and the row
    they were read from; the remeasured ones are not (the fit did not see them). About says the same."""
    bound_toy(tmp_path, monkeypatch)
    header, *lines = list(csv.reader(Path("runs.csv").open(newline="")))
    with open("mixed.csv", "w", newline="") as file:
        csv.writer(file).writerows([header + ["source"]] + [line + [f"runs.csv:row {i + 1}"]
                                                           for i, line in enumerate(lines[:3])])
    remeasured(Path("runs.csv"), Path("lab2.csv"), rows=range(3, 8))
    capsys.readouterr()
    assert main(["eval", "toy.perf", "--measured", "mixed.csv", "lab2.csv", "--format", "csv", "-o", "out.csv"]) == 0
    # runs.csv's rows 1-3: batch 1 (seq_len 128, 1024) and batch 2 (seq_len 128), as the sweep orders its points
    some = ("  = note: 3 of the 8 runs compared are runs it was fitted on, and only their errors are in-sample: "
            "batch=1, seq_len=128 (mixed.csv:row 1); batch=1, seq_len=1024 (mixed.csv:row 2); batch=2, seq_len=128 "
            "(mixed.csv:row 3)\n")
    compared = "mixed.csv (`perfdsl ingest` of them: its source column names the runs fitted on)"
    assert capsys.readouterr().err == IN_SAMPLE.format(compared=compared, some=some) + "wrote out.csv (8 rows)\n"
    assert main(["eval", "toy.perf", "--measured", "mixed.csv", "lab2.csv", "-o", "out.xlsx"]) == 0
    about = [row[1] for row in openpyxl.load_workbook("out.xlsx")["About"].iter_rows(values_only=True)
             if len(row) > 1 and isinstance(row[1], str)]
    assert ("In-sample errors: the report binds calibration 'toy_calibration' (toy_calibration.perf), fitted by "
            f"`perfdsl calibrate` on 8 runs of runs.csv (its header lists them); {compared} is compared here: the "
            "errors on the runs it was fitted on are in-sample (the fit saw them; they do not test the model). "
            + some.removeprefix("  = note: ").removesuffix("\n") + ". Its file records runtime MAPE in-sample 0.00%. "
            "Cross-validated (held-out) errors per run: `perfdsl calibrate --residuals` with the command in its "
            "header; costmodels/README.md gives them.") in about


def test_refitting_a_report_that_binds_its_calibration_says_nothing_of_the_imported_ones_in_sample_errors(
        tmp_path, capsys, monkeypatch):
    """note[in-sample] is about eval's comparison (the bound calibration's errors on its own runs test nothing);
    `perfdsl calibrate` fits anew and prints its own in-sample and held-out errors, so the note about the imported
    calibration is not among calibrate's output (it was)."""
    monkeypatch.chdir(tmp_path)
    write_toy(tmp_path)
    fit = ["--measured", "runs.csv", "--fit", *FITS, "--bootstrap", "0", "--starts", "0"]
    assert main(["calibrate", "toy.perf", *fit, "-o", "toy_calibration.perf"]) == 0
    Path("toy.perf").write_text('import "toy_calibration.perf"\n' + Path("toy.perf").read_text().replace(
        "    workload = shape\n", "    workload = shape\n    calibration = toy_calibration\n"))
    capsys.readouterr()
    assert main(["calibrate", "toy.perf", *fit, "-o", "toy_calibration.perf"]) == 0
    err = capsys.readouterr().err
    assert "in-sample]" not in err and "fitted 3 cells" in err
    assert main(["eval", "toy.perf", "--measured", "runs.csv", "--format", "csv", "-o", "out.csv"]) == 0
    assert capsys.readouterr().err.startswith("note[in-sample]: ")          # eval still says it


def test_the_residual_table_prints_an_error_the_fit_settles_to_zero_as_0(tmp_path, capsys):
    # Before: noiseless runs, fitted back to TRUTH, printed `-4.5560e-12`, `2.9014e-12` ... in the error column (the
    # fit's float rounding, 1e-13 of the estimate), where an estimate equal to its run prints `0` (as eval's table).
    report, runs = write_toy(tmp_path)
    base = ["calibrate", str(report), "--measured", str(runs), "--fit", *FITS, "--bootstrap", "0",
            "-o", str(tmp_path / "cal.perf")]
    assert main(base) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[2:]]
    assert len(rows) == 8 and all(row[-1] == "0" for row in rows)
    assert main(base + ["--residuals", str(tmp_path / "res.txt")]) == 0          # the same table, in a file
    assert [line.split()[-1] for line in (tmp_path / "res.txt").read_text().splitlines()[2:]] == ["0"] * 8
    assert main(base + ["--residuals", str(tmp_path / "res.csv")]) == 0          # the CSV keeps the exact values
    errors = [float(row["error [%]"]) for row in csv.DictReader((tmp_path / "res.csv").open())]
    assert max(abs(e) for e in errors) < 1e-9 * 100 and any(e != 0 for e in errors)


def test_only_errors_below_the_fit_s_precision_print_as_0():
    from perfdsl.calibration_report import SETTLED, text_errors

    keys = ["measured", "error [%]", "held-out error [%]"]
    tiny = 3.169e-12                                    # percent: 3.169e-14 of the run
    real = 1e-6 * 100                                   # one part in a million, far below the table's 5 digits
    columns = [np.array([tiny, real]), np.array([tiny, -real, np.nan]), np.array([-tiny, SETTLED * 100])]
    measured, error, held = text_errors(keys, columns)
    assert measured.tolist() == [tiny, real]            # not an error column: as it is
    assert error[:2].tolist() == [0.0, -real] and np.isnan(error[2])
    assert held.tolist() == [0.0, SETTLED * 100]         # at the floor: a real error, shown
