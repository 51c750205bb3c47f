"""What a calibration fits: the report, the runs matched to its points, the cells and the metrics.

`prepare_problem` loads the report, reads its run logs and matches the runs to the sweep points as
`perfdsl eval --measured` does (perfdsl.evaluate_with_runs; with `points = "runs"` the sweep is made from the runs
first), and returns the observations (one per metric and run) that perfdsl.calibrate fits; and it reads the options that say what to fit (`--fit`, `--metric`, `--group-by`).
No scipy here.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

from . import ir
from .errors import Diagnostic, PerfError, UsageError, available, did_you_mean, error
from .matching import log_of
from .units import Dimension, dimension_name, parse_unit, si_unit_name, written_in_hertz


@dataclass
class FitCell:
    """One cell to fit: `gpu.matmul_efficiency`, its bounds and start in SI, the unit its value is written in."""

    block: str
    cell: str
    start: float
    low: float
    high: float
    dim: Dimension
    unit: str = ""           # display unit ("us"); "" writes the value in SI with its SI unit, or bare for counts

    @property
    def name(self) -> str:
        """The cell as `--fit` names it: "BLOCK.CELL"."""
        return f"{self.block}.{self.cell}"

    @property
    def scale(self) -> float:
        """The size of one display unit in SI (1e-6 for "us"); 1.0 where the value is written in SI. Raises UnitError
        for a unit that does not parse."""
        return parse_unit(self.unit).scale if self.unit else 1.0

    def literal(self, value: float) -> str:
        """The value as .perf text in the cell's unit: `0.6712`, `37.6 us`."""
        unit = self.unit or ("" if self.dim.is_dimensionless else si_unit_name(self.dim))
        number = f"{value / self.scale:.6g}"
        return f"{number} {unit}".rstrip()


@dataclass
class Metric:
    """One shown column fitted to the runs: its name ("runtime"), the cell it shows, the weight of its log ratios in the
    loss (from `--metric NAME=WEIGHT`, default 1), its display unit and that unit's size in SI."""

    name: str                # the shown column's name ("runtime")
    ref: ir.Ref
    weight: float
    unit: str
    scale: float


@dataclass
class Observations:
    """The measured values that enter the fit, one per (metric, run)."""

    metric: np.ndarray       # index into Problem.metrics
    point: np.ndarray        # flat sweep point of the run
    measured: np.ndarray     # SI
    weight: np.ndarray
    group: np.ndarray        # group label (str) for cross-validation
    label: list[str]         # the run, in words
    source: list[str]        # where the run came from
    # The group as its axis gives it (a number for a numeric axis: request_rate 1.0, not '1.0'), for the residuals'
    # workbook; the labels above are text, as the folds and the .perf file's comments name them. [] without groups.
    group_value: list = field(default_factory=list)


@dataclass
class Problem:
    """What `calibrate` fits, from prepare_problem: the loaded program (without the fits' overrides), the report's name,
    the `--set` overrides, the cells to fit (FitCell), the metrics (Metric), the observations, the cross-validation
    axis (None: none), the run logs read and how many runs they hold, every sweep point in words, and matching's
    warnings and notes."""

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
    from .measured import evaluate_with_runs
    from .program import load

    overrides = dict(overrides or {})
    if not fits:
        raise UsageError(error("bad-option", "name the cells to fit: --fit BLOCK.CELL[=LOW..HIGH]"))
    program = load([report_file])
    name = program._pick_report(report)
    evaluated = evaluate_with_runs(program, name, overrides, measured=list(measured or []) or None,
                                   add_measured=list(add_measured), base_dir=os.path.dirname(report_file),
                                   compare=True, in_sample=False,     # the fit reports its own errors
                                   provisional=False)
    if evaluated.exit_status:
        raise PerfError(evaluated.diagnostics)              # errors in the logs: exit 1, nothing written
    if not evaluated.logs:
        raise UsageError(error("bad-option", f"report '{name}' names no run logs and none were given",
                               hints=["give the runs with --measured RUNS.csv (any format `perfdsl ingest` reads)"]))
    result, comparison = evaluated.result, evaluated.comparison
    overrides = {**_from_runs(program, name, evaluated.logs, overrides), **overrides}
    matched = list(dict.fromkeys(m.name for m in comparison.metrics if not m.derived))   # a name shown twice: once
    chosen = parse_metrics(list(metrics or []), matched)
    if not chosen:
        raise UsageError(error("no-runs", f"no run matches a sweep point of report '{name}'",
                               hints=["check the runs' model, hardware and shape against the report "
                                      "(perfdsl eval REPORT --measured RUNS lists what did not match)"]))
    cells = [parse_fit(text, program, overrides, name) for text in fits]
    names = [c.name for c in cells]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UsageError(error("bad-option", "--fit names a cell twice: " + ", ".join(twice)))

    columns = {metric_name: fitted_column(program, result, comparison, metric_name) for metric_name, _ in chosen}
    by_key = {m.key: m for m in comparison.metrics}
    groups = group_labels(result, comparison, group_by)
    group_values = _group_values(result, group_by, groups)
    labels = point_labels(result)
    sources = comparison.run_source.tolist()
    chosen_metrics, rows = [], {"metric": [], "point": [], "measured": [], "weight": []}
    for index, (metric_name, weight) in enumerate(chosen):
        column = columns[metric_name]
        chosen_metrics.append(Metric(metric_name, column.item.ref, weight, column.unit, column.scale))
        measured = by_key[column.key].measured
        points = np.flatnonzero(np.isfinite(measured) & (measured > 0))
        rows["metric"] += [index] * len(points)
        rows["point"] += points.tolist()
        rows["measured"] += measured[points].tolist()
        rows["weight"] += [weight] * len(points)
    # The matched values are one per row of the result; where a `require` leaves points out, the rows are the valid
    # points only, while the estimator evaluates the whole sweep: observe each run at its flat sweep point.
    row = np.array(rows["point"], dtype=int)
    point = result.rows.index[row] if result.rows is not None else row
    obs = Observations(np.array(rows["metric"], dtype=int), point, np.array(rows["measured"], dtype=float),
                       np.array(rows["weight"], dtype=float), groups[row],
                       [labels[r] for r in row], [sources[r] or "" for r in row],
                       [group_values[r] for r in row] if group_by else [])
    problem = Problem(program, name, overrides, cells, chosen_metrics, obs, group_by, list(evaluated.logs),
                      comparison.n_runs, labels, list(evaluated.diagnostics))
    problem.diagnostics += few_runs_warnings(problem)
    return problem


def fitted_column(program, result, comparison, name: str):
    """The shown column (result.ShownColumn) whose estimates the runs' metric `name` is fitted to. A name is shown in
    several columns (`show t in ms, t in s`; two cells under one label, `show a in ms as t, b in token/s as t`), and
    the runs are compared with each column of their dimension (matching: a MetricMatch per column): of those, the
    first shown, where they all show one cell (the same fit in any unit; the output is in that column's unit). Two
    cells compared with the runs' one metric are error[ambiguous-metric] (UsageError), located at the second show,
    naming each: the fit could be to either (it took the last, silently)."""
    compared = {m.key for m in comparison.metrics if not m.derived}
    candidates = [c for c in result.columns if c.kind == "num" and c.name == name and c.key in compared]
    cells = []                     # the first column of each cell, in show order
    for column in candidates:
        if all(column.ref != other.ref for other in cells):
            cells.append(column)
    if len(cells) > 1:
        written = [f"{c.ref} in {c.unit}" if c.unit else c.ref for c in cells]     # each show, but its label
        shown = [f"`{text} as {name}`" for text in written]
        raise UsageError(program.sources.diag(
            "ambiguous-metric", f"the runs' '{name}' is compared with {len(cells)} shown cells, "
            f"{', '.join(shown[:-1])} and {shown[-1]}: calibrate fits it to one", cells[1].item.span,
            path=f"report.{result.report}",
            notes=[f"{text} is at {c.item.span.location()}" for text, c in zip(shown, cells) if c is not cells[1]],
            hints=[f"keep the label '{name}' on the cell to fit and give the other{'s' if len(cells) > 2 else ''} "
                   f"another (`{written[1]} as {name}_2`): the runs' '{name}' is then compared with the cell it labels "
                   "alone"]))
    return candidates[0]


def few_runs_warnings(problem: Problem) -> list:
    """warning[few-runs] where the cells fitted are at least the runs (or, with --group-by, the groups) less one.

    p cells fitted on n runs leave n - p residuals' worth of freedom: at n - p <= 1 the fit matches the runs
    (nearly) exactly, so the in-sample errors and the bootstrap say nothing, and the spread of a new run rests on
    one or two residuals. A leave-one-group-out refit has g - 1 groups for p cells: at g - 1 <= p it has no group
    to spare, so each held-out error tests a fit that was free to match everything it saw (one engineer fitted 3
    cells on 4 runs and got "a new run within x0.9887 .. x1.0129" where the held-out runs were at -2.2% and +3.0%).
    """
    p = len(problem.cells)
    runs = len(set(problem.obs.point.tolist()))
    groups = len(set(problem.obs.group.tolist())) if problem.group_by else None
    found = []
    hints = ["fit fewer cells (fix the others at their values, or with --set), or add runs; read these errors as a "
             "check that the model can match the runs, not as its error on a new run"]
    cells = f"{p} cell{'s' if p != 1 else ''}"
    if p >= runs - 1:
        found.append(Diagnostic("few-runs", f"{cells} fitted on {runs} run{'s' if runs != 1 else ''}: with as many "
                                "cells as the runs less one or more, the errors, the bootstrap interval and the "
                                "spread of a new run are not meaningful", None, hints=hints, severity="warning"))
    elif groups is not None and p >= groups - 1:
        found.append(Diagnostic("few-runs", f"{cells} fitted on {groups} {problem.group_by} group{'s' if groups != 1 else ''}: each "
                                f"leave-one-{problem.group_by}-out refit has {groups - 1} group"
                                f"{'s' if groups != 2 else ''} for {cells}, so the held-out errors and the spread "
                                "of a new run rest on refits with no group to spare: weak evidence of the error on a "
                                f"new {problem.group_by}", None, hints=hints, severity="warning"))
    return found


def _from_runs(program, report: str, logs: list[str], overrides: dict) -> dict:
    """The sweeps `points = "runs"` makes from the runs (evaluate_with_runs applied them; the fit needs them too)."""
    from .run_points import overrides_from_runs

    return overrides_from_runs(program, report, logs, overrides)


def parse_fit(text: str, program, overrides: dict, report: str | None = None) -> FitCell:
    """`BLOCK.CELL` or `BLOCK.CELL=LOW..HIGH` (bounds with units: `kernel_overhead=0us..100us`) -> FitCell.

    The start is the cell's value in the program (after `overrides`); bounds default to start / 100 .. start x 100.
    Raises UsageError for an unknown cell, a cell that is not one number, or bad bounds.
    """
    from .parser import parse_value

    target, _, bounds = (part.strip() for part in text.partition("="))
    block, dot, cell = target.partition(".")
    if not dot or not cell or "." in cell:
        raise UsageError(error("bad-option", f"--fit {text}: name the cell as BLOCK.CELL",
                               hints=["e.g. --fit gpu.matmul_efficiency=0.3..1 (a role such as hardware.x names "
                                      "several blocks; name the block that holds the value)"]))
    if block not in program.blocks:
        raise UsageError(error("bad-option", f"--fit {text}: no block named '{block}'",
                               hints=did_you_mean(block, program.blocks)))
    if cell not in program.blocks[block].cells:
        raise UsageError(error("bad-option", f"--fit {text}: '{block}' has no cell '{cell}'",
                               hints=did_you_mean(cell, program.blocks[block].cells)
                               + [available(program.blocks[block].cells)]))
    current = program.with_overrides(overrides or None, report) if overrides else program
    try:
        _, _, _, _, vtype = current.cell_context(target)
        start = current.value(target)
    except PerfError:
        vtype, start = None, None
    if vtype is not None and vtype.kind != "num":
        raise UsageError(error("bad-option", f"--fit {text}: '{target}' is not a number"))
    written = program.blocks[block].cells[cell].expr
    unit = written.unit or "" if isinstance(written, ir.Num) else ""
    dim = vtype.dim if vtype is not None else None
    low = high = None
    if bounds:
        low_text, sep, high_text = bounds.partition("..")
        try:
            ends = [parse_value(part.strip(), f"--fit {text}") for part in (low_text, high_text)] if sep else None
        except PerfError as exc:
            raise UsageError(exc.diagnostics) from None
        if not ends or any(len(e) != 1 or not isinstance(e[0], ir.Num) for e in ends):
            raise UsageError(error("bad-option", f"--fit {text}: write the bounds as LOW..HIGH",
                                   hints=["e.g. --fit hf_eager_profiled.kernel_overhead=0us..100us"]))
        (low_num,), (high_num,) = ends
        for num in (low_num, high_num):
            if dim is not None and Dimension(num.dim) != dim:
                what = "has no unit" if Dimension(num.dim).is_dimensionless else \
                    f"is {dimension_name(Dimension(num.dim), written_in_hertz(num.unit))}"
                raise UsageError(error("unit-mismatch", f"--fit {text}: the bound '{num.text}' {what}, but "
                                       f"'{target}' is {dimension_name(dim)}"))
        dim = dim or Dimension(low_num.dim)
        low, high = low_num.value, high_num.value
        unit = unit or high_num.unit or low_num.unit or ""
        if not low < high:
            raise UsageError(error("bad-option", f"--fit {text}: the lower bound is not below the upper one"))
    if start is None or not math.isfinite(start):
        if low is None or not (math.isfinite(low) and math.isfinite(high)):
            raise UsageError(_no_start(text, target, written, program, overrides, report))
        start = (low + high) / 2
    if low is None:
        if start <= 0:
            raise UsageError(error("bad-option", f"--fit {text}: '{target}' starts at {start:g}; give its bounds",
                                   hints=["the default bounds, start / 100 .. start x 100, need a positive start"]))
        low, high = start / 100, start * 100
    start = min(max(start, low), high)
    return FitCell(block, cell, start, low, high, dim, unit)


def _no_start(text: str, target: str, written, program, overrides: dict, report: str | None):
    """The error for a --fit cell without bounds whose value cannot be had outside a report: a formula that reads a
    role (`kernel_overhead = stack.kernel_overhead` has no value until a report binds `stack`) names the cell it
    reads in the block the report binds, and the bounds that replace the formula by a number."""
    if isinstance(written, (ir.Num, ir.Str, ir.Bool)):
        return error("bad-option", f"--fit {text}: '{target}' has no value to start from",
                     hints=["give bounds: --fit BLOCK.CELL=LOW..HIGH (the fit starts midway)"])
    from .linker import refs_of

    hints = []
    try:
        ctx, _ = (program.with_overrides(overrides, report) if overrides else program).prepare(report)
    except PerfError:
        ctx = None
    for ref in refs_of(written):
        bound = ctx.role_blocks(ref.parts[0]) if ctx is not None and len(ref.parts) == 2 else None
        holders = list(dict.fromkeys(f"{program.blocks[b].owner.get(ref.parts[1], b)}.{ref.parts[1]}"
                                     for b in bound or () if ref.parts[1] in program.blocks[b].cells))
        if holders:
            hints.append(f"fit the cell it reads, where report '{ctx.report.name}' binds {ref.parts[0]}: "
                         + " or ".join(f"--fit {holder}" for holder in holders[:3]))
            break
    hints.append(f"or give bounds, --fit {target}=LOW..HIGH: the fit then replaces the formula by a number and "
                 "starts midway")
    formula = program.sources.line(written.span.file, written.span.line) or ""
    if written.span.end_line == written.span.line:
        formula = formula[written.span.col - 1:written.span.end_col - 1]
    return error("bad-option", f"--fit {text}: '{target}' is a formula (`{formula.strip()}`), not a number: it has "
                 "no value to start from", hints=hints)


def parse_metrics(texts: list[str], matched: list[str]) -> list[tuple[str, float]]:
    """`runtime` or `runtime=2` (a weight) -> [(name, weight)]. Default: runtime where the runs measure it, else
    every metric the runs measure. Raises UsageError for a metric the runs do not measure."""
    if not texts:
        if not matched:
            return []
        return [("runtime", 1.0)] if "runtime" in matched else [(name, 1.0) for name in matched]
    chosen = []
    for text in texts:
        name, sep, weight = (part.strip() for part in text.partition("="))
        if name not in matched:
            raise UsageError(error("bad-option", f"--metric {text}: no run is matched on '{name}'",
                                   hints=did_you_mean(name, matched) + [available(matched)]))
        try:
            value = float(weight) if sep else 1.0
        except ValueError:
            value = -1.0
        if not value > 0:
            raise UsageError(error("bad-option", f"--metric {text}: the weight is a positive number"))
        chosen.append((name, value))
    return _once_each(chosen, texts)


def _once_each(chosen: list[tuple[str, float]], texts: list[str]) -> list[tuple[str, float]]:
    """Each metric of `chosen` (name, weight) once: the same weight again is taken as once (a metric given twice
    entered the fit twice, its runs' values counted double, and the file written failed `perfdsl check`), and
    different weights are error[bad-option] naming each (`texts`: the --metric values as given, in order)."""
    weights: dict[str, dict[float, str]] = {}
    for (name, weight), text in zip(chosen, texts):
        weights.setdefault(name, {}).setdefault(weight, text)
    for name, given in weights.items():
        if len(given) > 1:
            said = [f"--metric {text}" for text in given.values()]
            raise UsageError(error("bad-option", f"{', '.join(said[:-1])} and {said[-1]} give '{name}' different "
                                   "weights", hints=[f"give --metric {name} once, with the weight meant; the same "
                                                     "weight given again is taken"]))
    return [(name, next(iter(given))) for name, given in weights.items()]


def group_labels(result, comparison, group_by: str | None) -> np.ndarray:
    """Per sweep point, the label of its cross-validation group: an axis value, or the run's log for `source`."""
    n = result.n_points
    if group_by is None:
        return np.full(n, "", dtype=object)
    if group_by == "source":
        sources = comparison.run_source.tolist()
        # A run's log: "data/runs.csv:row 3" is in the group "data/runs.csv" (the pattern ':<digits>' this used
        # missed ':row 3': every run of a CSV was a group of its own, so leave-one-source-out left one run out).
        return np.array([log_of(s or "") for s in sources], dtype=object)
    columns = result.axis_columns()
    for key, values in columns.items():
        if key == group_by or key.startswith(group_by + " ["):
            return np.array([str(v) for v in values.tolist()], dtype=object)
    names = [key.split(" [")[0] for key in columns] + ["source"]
    raise UsageError(error("bad-option", f"--group-by {group_by}: the report has no axis '{group_by}'",
                           hints=did_you_mean(group_by, names) + [available(names)]))


def _group_values(result, group_by: str | None, labels: np.ndarray) -> list:
    """Per sweep point, its group as a value: the numeric axis's number (float), else the label (`labels`, text)."""
    if group_by is None or group_by == "source":
        return labels.tolist()
    for key, values in result.axis_columns().items():
        if (key == group_by or key.startswith(group_by + " [")) and values.dtype.kind in "iuf":
            return [float(v) for v in values.tolist()]
    return labels.tolist()


def point_labels(result) -> list[str]:
    """Each sweep point in words: the values of its shown strings (Model, Device) and its numeric axes."""
    strings = [c for c in result.columns if c.kind == "str"]
    covered = {c.item.ref.parts[0] for c in strings if len(c.item.ref.parts) == 2}
    parts = [[str(v) for v in result.column(c.name).tolist()] for c in strings]
    for key, values in result.axis_columns().items():
        if key.split(" [")[0] not in covered:
            parts.append([f"{key.split(' [')[0]}={v}" for v in values.tolist()])
    return [", ".join(row) for row in zip(*parts)] if parts else ["the only point"] * result.n_points
