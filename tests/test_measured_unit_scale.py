"""A measured column whose header names the wrong unit (values in s under `[ms]`) is warned about, where the runs'
measured / estimated sits near a power of 1000 (dsl/measured_scale.py): before, the Error columns read +100,000%
under exit status 0, also with --strict, and the workbook was written."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

import perfdsl
from perfdsl.cli import main
from perfdsl.measured_scale import power_of_1000, rescaled_unit

SPEC = Path(__file__).parent / "fixtures" / "specs" / "matching.perf"
# matching.perf's estimates: runtime = 2 FLOP x params x 1000 tokens / peak: tiny on card_a 2 x 1e9 x 1000 / 100e12
# = 20 ms, small on card_b 2 x 2e9 x 1000 / 200e12 = 20 ms, at either n_gpus.
ESTIMATE_MS = 2 * 1e9 * 1000 / 100e12 * 1e3


def write_runs(path: Path, unit: str, *values: float) -> Path:
    points = ["org/tiny,NVIDIA Card A,1", "org/tiny,NVIDIA Card A,8", "org/small,NVIDIA Card B,1"]
    path.write_text(f"model,hardware,n_gpus,tokens,runtime [{unit}]\n"
                    + "".join(f"{point},1000,{value}\n" for point, value in zip(points, values)))
    return path


def test_values_in_ms_under_a_header_in_s_are_warned_about_at_the_column(tmp_path):
    log = write_runs(tmp_path / "runs.csv", "s", 25, 40, 16)      # milliseconds, headed as seconds
    evaluated = perfdsl.evaluate_with_runs(perfdsl.load(SPEC), measured=[str(log)])
    warning = next(d for d in evaluated.diagnostics if d.code == "measured-unit-scale")
    # measured / estimated per run: 25 s / 20 ms = 1250, 40 / 0.020 = 2000, 16 / 0.020 = 800; the median 1250 is
    # within 2x of 1000^1
    assert sorted([25 / (ESTIMATE_MS / 1e3), 40 / (ESTIMATE_MS / 1e3), 16 / (ESTIMATE_MS / 1e3)])[1] == \
        pytest.approx(1250)
    assert warning.render() == (
        "warning[measured-unit-scale]: the measured 'runtime' values are about 1000x the estimates (median measured "
        "/ estimated 1,250 over 3 runs, read in s): is the column in ms, not s?\n"
        f"  --> {log}:1:30 (column 'runtime [s]')\n"
        "  |\n"
        "1 | model,hardware,n_gpus,tokens,runtime [s]\n"
        "  |                              ^^^^^^^^^^^\n"
        "  = help: write the header 'runtime [ms]' if its values are in ms\n"
        "  = help: no cost model is off by a factor of 1000 over every run; a unit's prefix is (measured / "
        "estimated within 2x of a power of 1000 is warned about)")
    assert evaluated.exit_status == 0


def test_values_in_s_under_a_header_in_ms_warn_and_strict_refuses_the_workbook(tmp_path, capsys):
    # The newcomer's case: ML.ENERGY's e2e_latency in s under `e2e_latency [ms]`, errors of +106,134%.
    log = write_runs(tmp_path / "runs.csv", "ms", 0.025, 0.018, 0.021)
    out = tmp_path / "out.xlsx"
    assert main(["eval", str(SPEC), "--measured", str(log), "--format", "csv"]) == 0
    captured = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    assert rows[0]["runtime error [%]"] == str((20.0 - 0.025) / 0.025 * 100)     # 79,900%: what it was silent about
    # median of 0.025 / 20, 0.018 / 20, 0.021 / 20 = 0.00105, within 2x of 1000^-1
    assert ("warning[measured-unit-scale]: the measured 'runtime' values are about 1/1000 of the estimates (median "
            "measured / estimated 0.00105 over 3 runs, read in ms): is the column in s, not ms?\n") in captured.err
    assert main(["eval", str(SPEC), "--measured", str(log), "--strict", "-o", str(out)]) == 1
    assert "--strict: warnings are errors" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("unit, values", [("ms", (25, 40, 16)), ("ms", (0.1, 0.08, 0.12)), ("s", (2.5, 1.9, 2.2))])
def test_a_merely_bad_estimate_is_not_warned_about(tmp_path, unit, values):
    # medians: 25 ms / 20 ms = 1.25; 0.1 ms / 20 ms = 1/200; 2.2 s / 20 ms = 110: none within 2x of a 1000^k, k != 0
    log = write_runs(tmp_path / "runs.csv", unit, *values)
    evaluated = perfdsl.evaluate_with_runs(perfdsl.load(SPEC), measured=[str(log)])
    assert [d for d in evaluated.diagnostics if d.code == "measured-unit-scale"] == []


def test_the_rule_is_a_factor_of_2_around_each_power_of_1000():
    assert [power_of_1000(r) for r in (1e3, 501, 1999, 499, 2001, 1e6, 1e-3, 1 / 1999, 1 / 2001, 1, 300, 4e4)] == \
        [1, 1, 1, 0, 0, 2, -1, -1, 0, 0, 0, 0]
    assert [power_of_1000(r) for r in (0.0, -1e3, float("nan"), float("inf"))] == [0, 0, 0, 0]


def test_the_unit_that_makes_them_agree():
    assert rescaled_unit("ms", 1e3) == "s"
    assert rescaled_unit("s", 1e-3) == "ms"
    assert rescaled_unit("GB", 1e3) == "TB"
    assert rescaled_unit("J/request", 1e3) == "kJ/request"
    assert rescaled_unit("MiB", 1e3) is None
