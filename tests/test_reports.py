"""Smoke test: every bundled report and library file checks cleanly, and every report evaluates without warnings
other than the constraints' (a sweep that crosses every model with every tensor-parallel degree holds points that
engines refuse: they are left out with one warning per constraint, tests/test_constraints.py counts them)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import perfdsl
from perfdsl.explain import explain
from perfdsl.library import library_files

ROOT = Path(__file__).resolve().parents[1]
REPORTS = sorted((ROOT / "reports").glob("*.perf"))


def test_the_libraries_check_without_diagnostics():
    assert perfdsl.load(library_files()).check() == []


# The columns whose cost model gives no value (`no_value`, NaN) where a phase does not run, and the axis that is 0
# there: a llama-bench pp test generates no token, a tg test reads no prompt (costmodels/llama_cpp.perf).
NO_VALUE_WHERE_ZERO = {("published_llamacpp", "prefill_throughput"): "seq_len",
                       ("published_llamacpp", "decode_throughput"): "output_len",
                       ("published_llamacpp_rtx_5000_ada", "decode_throughput"): "output_len"}


@pytest.mark.parametrize("report", REPORTS, ids=[p.stem for p in REPORTS])
def test_every_report_checks_and_evaluates(report):
    program = perfdsl.load(report)
    assert program.check() == []
    for name in program.reports:
        result = program.evaluate(name)
        assert result.n_points >= 1
        # A question's groups with no answer are listed in a `no-point` warning and keep an empty row: an answer,
        # not a fault of the report; so are the points a constraint leaves out. A `points = "runs"` report is
        # evaluated here over its sweep as written, and Program.evaluate says so (runs-not-read): its runs are in
        # ../shared, read by test_eval_with_runs and test_published_*.
        faults = [w for w in result.warnings if w.code not in ("no-point", "constraint", "runs-not-read")]
        assert not faults, [w.render() for w in faults]
        answered = ~result.rows.missing if result.rows is not None else slice(None)
        for column in result.columns:
            values = result.column(column.name)
            if column.kind != "num":
                continue
            axis = NO_VALUE_WHERE_ZERO.get((name, column.name))
            if axis is not None:        # no value exactly where the phase does not run, finite elsewhere
                absent = result.axis_columns()[axis][answered] == 0
                assert np.isnan(values[answered][absent]).all() and np.isfinite(values[answered][~absent]).all()
                continue
            assert np.isfinite(values[answered]).all(), f"{report.name}: {column.name} is not finite everywhere"


@pytest.mark.parametrize("report", REPORTS, ids=[p.stem for p in REPORTS])
def test_every_shown_cell_explains_at_the_first_point(report):
    """explain works wherever eval does: a declared input that only a branch of `if` not taken reads (the RTX
    A5000's peak_int8) is shown as not evaluated, not needed."""
    program = perfdsl.load(report)
    for name in program.reports:
        ctx, _ = program.prepare(name)
        for show in ctx.report.shows:
            text = explain(program, show.ref.dotted, name, {})
            assert f"{show.ref.parts[-1]} = " in text.splitlines()[0], text[:200]
