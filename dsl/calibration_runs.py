"""What a calibration fits: the report, the runs matched to its points, the cells and the metrics.

`prepare_problem` loads the report, reads its run logs (the report's `measured` cell and the logs given, each read
once), matches the runs to the sweep points as `perfdsl eval --measured` does (perfdsl.matching; with
`points = "runs"` the sweep is made from the runs first), and returns the observations (one per metric and run)
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


def prepare_problem(report_file: str, logs: list[str], fits: list[str], *, report: str | None = None,
                    overrides: dict | None = None, metrics: list[str] | None = None,
                    group_by: str | None = None, load_runs=None) -> Problem:
    """Load, match and choose. Raises UsageError for bad options, PerfError for bad specs or logs."""
    from .calibrate import Metric, Observations, group_labels, parse_fit, parse_metrics, point_labels, same_path
    from .matching import compare_with_runs, logs_of_report
    from .program import load
    from .run_points import overrides_from_runs

    if load_runs is None:
        from .runlogs import load_runs as read

        cache: dict = {}

        def load_runs(paths):
            key = tuple(paths)
            if key not in cache:
                cache[key] = read(paths)
            return cache[key]

    overrides = dict(overrides or {})
    if not fits:
        raise UsageError(error("bad-option", "name the cells to fit: --fit BLOCK.CELL[=LOW..HIGH]"))
    program = load([report_file])
    name = program._pick_report(report)
    base_dir = os.path.dirname(report_file)
    named = logs_of_report(program, program.blocks[name], base_dir)
    extra = [log for log in logs if not any(same_path(log, other) for other in named)]
    extra = [log for i, log in enumerate(extra) if not any(same_path(log, e) for e in extra[:i])]
    if not named and not extra:
        raise UsageError(error("bad-option", f"report '{name}' names no run logs and none were given",
                               hints=["give the runs with --measured RUNS.csv (any format `perfdsl ingest` reads)"]))
    from_runs = overrides_from_runs(program, name, extra, base_dir, overrides, load_runs=load_runs)
    overrides = {**from_runs, **overrides}
    result = program.evaluate(name, overrides=overrides)
    comparison = compare_with_runs(result, extra, base_dir=base_dir, load_runs=load_runs)
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
    files = named + extra
    return Problem(program, name, overrides, cells, chosen_metrics, obs, group_by, files, comparison.n_runs,
                   labels, list(comparison.diagnostics))
