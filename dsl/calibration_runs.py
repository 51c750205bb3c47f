"""What a calibration fits: the report, the runs matched to its points, the cells and the metrics.

`prepare_problem` loads the report, reads its run logs and matches the runs to the sweep points as
`perfdsl eval --measured` does (perfdsl.evaluate_with_runs; with `points = "runs"` the sweep is made from the runs
first), and returns the observations (one per metric and run)
that perfdsl.calibrate fits. No scipy here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from .errors import UsageError, error


@dataclass
class Problem:
    program: object                  # perfdsl.program.Program as loaded (without the overrides)
    report: str
    overrides: dict
    cells: list                      # perfdsl.calibrate.FitCell
    metrics: list                    # perfdsl.calibrate.Metric
    obs: object                      # perfdsl.calibrate.Observations
    group_by: str | None
    files: list[str]                 # the run logs read
    n_runs: int                      # runs in them
    labels: list[str] = field(default_factory=list)   # every sweep point in words
    diagnostics: list = field(default_factory=list)   # matching's warnings and notes


def prepare_problem(report_file: str, measured: list[str] | None, fits: list[str], *, report: str | None = None,
                    overrides: dict | None = None, metrics: list[str] | None = None, group_by: str | None = None,
                    add_measured: list[str] = ()) -> Problem:
    """Load, match and choose, as `perfdsl eval` does (perfdsl.evaluate_with_runs): `measured` logs replace the
    report's own (None or []: the report's own), `add_measured` ones are read as well.

    Raises UsageError for bad options or no matched run, PerfError for bad specs or errors in the logs.
    """
    from .calibrate import Metric, Observations, group_labels, parse_fit, parse_metrics, point_labels
    from .errors import PerfError
    from .measured import evaluate_with_runs
    from .program import load

    overrides = dict(overrides or {})
    if not fits:
        raise UsageError(error("bad-option", "name the cells to fit: --fit BLOCK.CELL[=LOW..HIGH]"))
    program = load([report_file])
    name = program._pick_report(report)
    evaluated = evaluate_with_runs(program, name, overrides, measured=list(measured or []) or None,
                                   add_measured=list(add_measured), base_dir=os.path.dirname(report_file),
                                   compare=True)
    if evaluated.exit_status:
        raise PerfError(evaluated.diagnostics)              # errors in the logs: exit 1, nothing written
    if not evaluated.logs:
        raise UsageError(error("bad-option", f"report '{name}' names no run logs and none were given",
                               hints=["give the runs with --measured RUNS.csv (any format `perfdsl ingest` reads)"]))
    result, comparison = evaluated.result, evaluated.comparison
    overrides = {**_from_runs(program, name, evaluated.logs, overrides), **overrides}
    matched = [m.name for m in comparison.metrics if not m.derived]
    chosen = parse_metrics(list(metrics or []), matched)
    if not chosen:
        raise UsageError(error("no-runs", f"no run matches a sweep point of report '{name}'",
                               hints=["check the runs' model, hardware and shape against the report "
                                      "(perfdsl eval REPORT --measured RUNS lists what did not match)"]))
    cells = [parse_fit(text, program, overrides) for text in fits]
    names = [c.name for c in cells]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UsageError(error("bad-option", "--fit names a cell twice: " + ", ".join(twice)))

    columns = {c.name: c for c in result.columns}
    by_name = {m.name: m for m in comparison.metrics}
    groups = group_labels(result, comparison, group_by)
    labels = point_labels(result)
    sources = comparison.run_source.tolist()
    chosen_metrics, rows = [], {"metric": [], "point": [], "measured": [], "weight": []}
    for index, (metric_name, weight) in enumerate(chosen):
        column = columns[metric_name]
        chosen_metrics.append(Metric(metric_name, column.item.ref, weight, column.unit, column.scale))
        measured = by_name[metric_name].measured
        points = np.flatnonzero(np.isfinite(measured) & (measured > 0))
        rows["metric"] += [index] * len(points)
        rows["point"] += points.tolist()
        rows["measured"] += measured[points].tolist()
        rows["weight"] += [weight] * len(points)
    point = np.array(rows["point"], dtype=int)
    obs = Observations(np.array(rows["metric"], dtype=int), point, np.array(rows["measured"], dtype=float),
                       np.array(rows["weight"], dtype=float), groups[point],
                       [labels[p] for p in point], [sources[p] or "" for p in point])
    return Problem(program, name, overrides, cells, chosen_metrics, obs, group_by, list(evaluated.logs),
                   comparison.n_runs, labels, list(evaluated.diagnostics))


def _from_runs(program, report: str, logs: list[str], overrides: dict) -> dict:
    """The sweeps `points = "runs"` makes from the runs (evaluate_with_runs applied them; the fit needs them too)."""
    from .run_points import overrides_from_runs

    return overrides_from_runs(program, report, logs, overrides)
