"""`perfdsl calibrate`'s progress bar (issue 10: a bar on stderr for anything over about a second, quiet where stderr
is not a terminal or with -q): it counts every fit of the cells, the full fit's starts first, so it moves from the
fit's first second. Before, it counted only the folds and the bootstrap refits, so the full fit, most of the 16-47 s,
showed nothing, and without --group-by and --bootstrap 0 no bar ever came."""

from __future__ import annotations

import pytest

from perfdsl import cli
from perfdsl.calibrate import calibrate
from perfdsl.calibration_runs import prepare_problem

from test_calibrate import FITS, write_toy


def test_every_fit_of_the_cells_is_a_step_the_full_fit_s_first(tmp_path):
    report, runs = write_toy(tmp_path)
    problem = prepare_problem(str(report), [str(runs)], FITS, group_by="batch")
    calls = []
    calibrate(problem, bootstrap=3, starts=2, progress=lambda done, total: calls.append((done, total)))
    # (1 + 2 starts) for the full fit, as many for each of the 4 batch folds, and 3 bootstrap refits
    total = (1 + 2) * (1 + 4) + 3
    assert calls == [(done, total) for done in range(0, total + 1)]


def test_without_folds_or_bootstrap_the_fit_s_starts_still_move_the_bar(tmp_path):
    report, runs = write_toy(tmp_path)
    calls = []
    calibrate(prepare_problem(str(report), [str(runs)], FITS), bootstrap=0, starts=1,
              progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 2), (1, 2), (2, 2)]      # 1 + 1 start, no fold, no refit: it was never called


class Recorder:
    """cli.Progress as the command builds it: its settings and its calls."""
    made: list = []

    def __init__(self, label, stream=None, delay=1.0, unit="it", quiet=False, scaled=True):
        self.settings = (label, unit, quiet)
        self.scaled = scaled
        self.calls = []
        Recorder.made.append(self)

    def __call__(self, done, total):
        self.calls.append((done, total))

    def done(self):
        self.calls.append("done")


@pytest.mark.parametrize("quiet", [[], ["-q"]])
def test_the_command_s_bar_counts_fits_and_minus_q_quietens_it(tmp_path, capsys, monkeypatch, quiet):
    report, runs = write_toy(tmp_path)
    monkeypatch.setattr(cli, "Progress", Recorder)
    Recorder.made = []
    assert cli.main(["calibrate", str(report), "--measured", str(runs), "--fit", *FITS, "--bootstrap", "2",
                     "--starts", "1", "-o", str(tmp_path / "cal.perf"), *quiet]) == 0
    [bar] = Recorder.made
    assert bar.settings == ("calibrating", "fits", bool(quiet)) and bar.scaled is False
    assert bar.calls == [(done, 4) for done in range(0, 4 + 1)] + ["done"]      # (1 + 1) starts + 2 refits



def test_a_bar_of_a_few_fits_counts_them_whole(monkeypatch):
    """calibrate's bar read `3.00/28.0` (tqdm's unit_scale, for counts of millions of points): unscaled, `3/28`."""
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    bar = cli.Progress("calibrating", stream=stream, delay=0, unit="fits", scaled=False)
    bar(3, 28)
    bar.bar.refresh()
    shown = stream.getvalue().rsplit("\r", 1)[-1]
    bar.done()
    assert shown.startswith("calibrating:  11%|") and "| 3/28 [" in shown
