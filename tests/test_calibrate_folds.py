"""`perfdsl calibrate`'s held-out figures and constraints: a leave-one-out fold refits from the user's start values,
a cell the other runs leave open is "not determined without GROUP" and that fold's held-out error is not
available (it was a 0.00% that looked like success: the fold kept the value fitted on the held-out run itself);
fitted values meet the model's `require`s or the command fails (exit 1) without writing; too few runs for the
cells fitted is a warning.

The runs are estimates of perfdsl itself at chosen cell values: no figure below is a measurement. HOST is a decode
step that takes the longer of device and host time, as costmodels/transformer_inference.perf's: at batch 1, 2 and
4 the host's 1000 kernels x 23 us = 23 ms is longer than the device's, so only the batch-64 run depends on the
device's matmul efficiency.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import perfdsl
from perfdsl.calibrate import Estimator, calibrate
from perfdsl.calibration_folds import check_fitted
from perfdsl.calibration_runs import prepare_problem
from perfdsl.cli import main
from perfdsl.errors import PerfError, error

HOST = """
hardware toy {
    peak = 100 TFLOP/s
    efficiency = 0.5
}
workload shape {
    sweep batch = [1, 2, 4, 64]
    kernels = 1000
    kernel_overhead = 5 us
    host_time = 10 us
    tokens = 100
    require tokens == floor(tokens), "tokens is a whole number"
}
costmodel step {
    device = 1e11 FLOP * workload.batch / (hardware.efficiency * hardware.peak)
           + workload.kernels * workload.kernel_overhead
    host = workload.kernels * workload.host_time
    runtime = max(device, host) * workload.tokens / 100
}
report host_report {
    hardware = toy
    workload = shape
    show step.runtime in ms as runtime
}
"""
# At efficiency 0.62 and host_time 23 us: device = 1e11 x batch / 62e12 s + 1000 x 5 us, host = 1000 x 23 us
RUNTIME_MS = {1: 23.0, 2: 23.0, 4: 23.0, 64: 1e11 * 64 / 62e12 * 1e3 + 5.0}
FITS = ["toy.efficiency=0.1..1", "shape.host_time=1us..100us"]


def write_host(folder: Path, report_text: str = HOST) -> tuple[Path, Path]:
    report = folder / "host.perf"
    report.write_text(report_text)
    runs = folder / "runs.csv"
    runs.write_text("batch,runtime [ms]\n" + "".join(f"{b},{ms!r}\n" for b, ms in RUNTIME_MS.items()))
    return report, runs


def test_a_fold_without_the_only_run_that_depends_on_a_cell_is_not_determined(tmp_path):
    """Without batch 64 no run depends on efficiency: the fold says so and has no held-out error, where it had
    0.00% (the refit started from the all-runs fit and kept its 0.62, fitted on batch 64 itself)."""
    report, runs = write_host(tmp_path)
    cal = calibrate(prepare_problem(str(report), [str(runs)], FITS, group_by="batch"), bootstrap=0, starts=0)
    assert cal.values == pytest.approx([0.62, 23e-6], rel=1e-5)
    folds = {fold.group: fold for fold in cal.folds}
    assert [(u.cells, u.why) for u in folds["64"].undetermined] == [(("toy.efficiency",), "no run left depends on it")]
    assert folds["64"].estimated is None
    held = cal.cv_estimated()
    assert np.isnan(held[cal.obs.group == "64"]).all()
    for group in ("1", "2", "4"):           # the others keep batch 64 and a host-bound run: both cells determined
        assert folds[group].undetermined == [] and folds[group].values == pytest.approx([0.62, 23e-6], rel=1e-5)
    assert cal.mape(0, held) == pytest.approx(0.0, abs=1e-9)     # over the three folds that have one


def test_the_fold_starts_from_the_users_start_not_from_the_full_fit(tmp_path):
    """The efficiency the batch-64 fold reports is where its own refit stopped (from the start 0.5: at host_time
    10 us the batch-4 run is device-bound, 8 + 5 > 10 ms, until host_time passes 13 us), not the full fit's 0.62."""
    report, runs = write_host(tmp_path)
    cal = calibrate(prepare_problem(str(report), [str(runs)], FITS, group_by="batch"), bootstrap=0, starts=0)
    fold = next(f for f in cal.folds if f.group == "64")
    assert fold.values[0] != pytest.approx(0.62, rel=1e-3)
    assert fold.values[1] == pytest.approx(23e-6, rel=1e-5)


def test_the_command_says_not_determined_and_not_available(tmp_path, capsys):
    report, runs = write_host(tmp_path)
    out = tmp_path / "cal.perf"
    assert main(["calibrate", str(report), "--measured", str(runs), "--fit", *FITS, "--group-by", "batch",
                 "--bootstrap", "0", "--starts", "0", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    cal = calibrate(prepare_problem(str(report), [str(runs)], FITS, group_by="batch"), bootstrap=0, starts=0)
    stopped = f"{cal.folds[-1].values[0]:.6g}"
    assert ("  64: held-out error not available  (refitted without it: efficiency not determined without 64 (no "
            f"run left depends on it; stopped at {stopped}), host_time 23 us)") in err.splitlines()
    assert (", leave-one-batch-out 0.00% (3 of 4 batch groups held out; 1 not available: a fitted cell is not "
            "determined without it)") in err
    text = out.read_text()
    assert (f"    # refitted leaving one batch out: 1 0.62, 2 0.62, 4 0.62, 64 not determined (no run left depends on "
            f"it; stopped at {stopped})") in text.splitlines()
    assert "warning[few-runs]" not in err          # 2 cells on 4 runs in 4 groups
    perfdsl.load([out]).check()


def test_cells_that_only_scale_together_in_a_fold_are_a_flat_combination(tmp_path):
    """test_calibrate's toy grouped by seq_len: a fold keeps one prompt length, where flops and bytes both scale
    with batch alone, so efficiency and bandwidth_efficiency are fixed only as a combination."""
    from test_calibrate import FITS as TOY_FITS, write_toy

    report, runs = write_toy(tmp_path, noise=True)
    cal = calibrate(prepare_problem(str(report), [str(runs)], TOY_FITS, group_by="seq_len"), bootstrap=0, starts=0)
    for fold in cal.folds:
        assert [u.cells for u in fold.undetermined] == [("toy.efficiency", "toy.bandwidth_efficiency")], fold.group
        assert fold.undetermined[0].why == ("the runs left fix only a combination of toy.efficiency and "
                                            "toy.bandwidth_efficiency")
        assert fold.estimated is None
    assert np.isnan(cal.cv_estimated()).all()


def test_a_cell_no_run_depends_on_is_not_blamed_on_a_fold(tmp_path):
    """unused_efficiency moves no estimate with or without any group: the full fit flags it, the folds do not."""
    from test_calibrate import FITS as TOY_FITS, write_toy

    report, runs = write_toy(tmp_path)
    cal = calibrate(prepare_problem(str(report), [str(runs)], TOY_FITS + ["toy.unused_efficiency=0.1..1"],
                                    group_by="batch"), bootstrap=0, starts=0)
    assert "toy.unused_efficiency" in {flag.cell for flag in cal.flags}
    assert all(fold.undetermined == [] and fold.estimated is not None for fold in cal.folds)


def test_a_cell_a_require_keeps_whole_is_an_error_and_nothing_is_written(tmp_path, capsys):
    """tokens must be a whole number: every value next to its start breaks the `require`, so least squares cannot
    move it (calibrate wrote `output_len = 772.134` for such a cell, which `perfdsl eval` then refused)."""
    report, runs = write_host(tmp_path)
    out = tmp_path / "cal.perf"
    assert main(["calibrate", str(report), "--measured", str(runs), "--fit", "shape.tokens=10..1000",
                 "--bootstrap", "0", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert ("error[fit-breaks-constraint]: the fit cannot move shape.tokens from 100: the values next to it break a "
            "`require`: `tokens == floor(tokens)` (tokens is a whole number)") in err
    assert "host.perf:12:13\n" in err          # the `require` line (HOST starts with a blank line)
    # 100 x (1 + 1e-4) and 100 x (1 - 1e-4)
    assert "= note: shape.tokens = 100.01 and 99.99 break it at the runs' points" in err
    assert ("= help: a cell the model takes in whole numbers (a count of tokens) is not fitted by least squares: fix "
            "it with --set shape.tokens=N, fitting the other cells at a few values of N, and compare their errors; or "
            "fit another cell. Nothing was written") in err
    assert not out.exists()


def test_fitted_values_that_break_a_require_are_an_error(tmp_path):
    """The last check, on the values as the file would write them (6 digits)."""
    report, runs = write_host(tmp_path)
    problem = prepare_problem(str(report), [str(runs)], ["shape.tokens=10..1000"])
    estimator = Estimator(problem.program, problem.report, problem.overrides, problem.cells, problem.metrics)
    with pytest.raises(PerfError) as raised:
        check_fitted(estimator, problem.cells, np.array([100.5]), np.unique(problem.obs.point))
    text = str(raised.value)
    assert ("error[fit-breaks-constraint]: the fit ends at shape.tokens = 100.5, which breaks a `require`: "
            "`tokens == floor(tokens)` (tokens is a whole number)") in text
    assert ("help: narrow the bounds (--fit shape.tokens=LOW..HIGH) to values that meet the constraint, fit another "
            "cell, or fix shape.tokens with --set. Nothing was written") in text
    check_fitted(estimator, problem.cells, np.array([100.0]), np.unique(problem.obs.point))     # a whole number


def test_the_fit_never_uses_values_a_require_forbids(tmp_path):
    """A `require efficiency <= 0.6` with runs made at 0.62: the fit stops at the constraint, and the file loads
    (the estimator gives no estimate beyond it, where it used to fit 0.62)."""
    report, runs = write_host(tmp_path, HOST.replace('    efficiency = 0.5\n', '    efficiency = 0.5\n    require '
                                                     'efficiency <= 0.6, "at most 0.6"\n'))
    out = tmp_path / "cal.perf"
    assert main(["calibrate", str(report), "--measured", str(runs), "--fit", *FITS, "--bootstrap", "0",
                 "-o", str(out)]) == 0
    program = perfdsl.load([out])
    assert program.value("toy.efficiency") <= 0.6
    assert program.value("toy.efficiency") == pytest.approx(0.6, rel=1e-3)
    # At the constraint's edge the step up has no estimate: the Jacobian steps down, and the cell, which the batch-64
    # run depends on, is not said to have no effect (it was, before that step)
    cal = calibrate(prepare_problem(str(report), [str(runs)], FITS), bootstrap=0)
    assert [flag.message for flag in cal.flags if flag.cell == "toy.efficiency"] == []


def test_as_many_cells_as_runs_less_one_is_a_warning(tmp_path, capsys):
    report, runs = write_host(tmp_path)
    out = tmp_path / "cal.perf"
    assert main(["calibrate", str(report), "--measured", str(runs), "--fit", *FITS,
                 "shape.kernel_overhead=0us..50us", "--bootstrap", "0", "--starts", "0", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert ("warning[few-runs]: 3 cells fitted on 4 runs: with as many cells as the runs less one or more, the "
            "errors, the bootstrap interval and the spread of a new run are not meaningful") in err
    assert ("= help: fit fewer cells (fix the others at their values, or with --set), or add runs; read these errors "
            "as a check that the model can match the runs, not as its error on a new run") in err
    assert ("# NOTE: 3 cells fitted on 4 runs: with as many cells as the runs less one or more, the errors, the "
            "bootstrap interval and the spread of a new run are not meaningful.") in out.read_text().splitlines()


def test_as_many_cells_as_groups_less_one_is_a_warning(tmp_path, capsys):
    from test_calibrate import FITS as TOY_FITS, write_toy

    report, runs = write_toy(tmp_path)
    assert main(["calibrate", str(report), "--measured", str(runs), "--fit", *TOY_FITS, "--group-by", "seq_len",
                 "--bootstrap", "0", "--starts", "0", "-o", str(tmp_path / "cal.perf")]) == 0
    assert ("warning[few-runs]: 3 cells fitted on 2 seq_len groups: each leave-one-seq_len-out refit has 1 group "
            "for 3 cells, so the held-out errors and the spread of a new run rest on refits with no group to spare: "
            "weak evidence of the error on a new seq_len") in capsys.readouterr().err


def test_a_written_file_that_fails_check_is_an_error_and_the_old_one_is_put_back(tmp_path, capsys, monkeypatch):
    """A safety net for a bug: exit 1, and the file that was there before is there again."""
    import perfdsl.calibration_imports as imports

    report, runs = write_host(tmp_path)
    out = tmp_path / "cal.perf"
    out.write_text("# the old calibration\n")
    monkeypatch.setattr(imports, "check_written", lambda output: [error("syntax", "unexpected '}'")])
    assert main(["calibrate", str(report), "--measured", str(runs), "--fit", *FITS, "--bootstrap", "0",
                 "--starts", "0", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert (f"error[calibration-fails-check]: wrote {out}, but `perfdsl check {out}` finds 1 error: the old file is "
            "put back") in err
    assert "= note: error[syntax]: unexpected '}'" in err
    assert out.read_text() == "# the old calibration\n"
