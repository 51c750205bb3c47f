"""What a calibration hands back: the `.perf` file of fitted cells, the residuals per run, and a summary.

The `.perf` file has one `BLOCK.CELL = VALUE` entry per fitted cell in a `set { ... }`, each under a comment that
says what it was fitted on (runs, files, date), the in-sample and cross-validated errors and the bootstrap interval,
and a block of the calibration's residual spread per metric (`runtime_low`, `runtime_high`: factors on an estimate),
which a report that binds it as `calibration = NAME` shows as "low" and "high" columns beside each estimate
(perfdsl.intervals). No scipy here: the numbers come from perfdsl.calibrate.
"""

from __future__ import annotations

import datetime
import os
import re

import numpy as np

from .comparison import ComparisonRow, MetricSpec, Section, WorkbookData
from .errors import UsageError, error


def block_name(output: str) -> str:
    """The spread block's name from the output file: reports/seed_a5000_calibration.perf -> seed_a5000_calibration."""
    stem = re.sub(r"\W", "_", os.path.splitext(os.path.basename(output))[0])
    return stem if re.match(r"[A-Za-z_]", stem) else f"calibration_{stem}"


HEADER = "cells fitted by `perfdsl calibrate`"


def written_by_calibrate(text: str) -> bool:
    """Whether a .perf file's first line says perfdsl calibrate wrote it (so a refit may replace it)."""
    return HEADER in text.split("\n", 1)[0]


def _percent(value: float) -> str:
    return f"{100 * value:.2f}%" if np.isfinite(value) else "n/a"


def metric_errors(cal, metric: int) -> tuple[float, float]:
    """(in-sample MAPE, cross-validated MAPE) of one metric, as fractions (nan without folds). The cross-validated
    one is over the folds whose held-out error is available (held_out_coverage says how many)."""
    held = cal.cv_estimated()
    cv = cal.mape(metric, held, np.isfinite(held)) if np.isfinite(held).any() else float("nan")
    return cal.mape(metric), cv


def held_out_coverage(cal) -> str:
    """"" where every fold has a held-out error; else what the leave-one-out figure covers, to follow it:
    " (2 of 3 sources held out; 1 not available: a fitted cell is not determined without it)"."""
    missing = [fold for fold in cal.folds if fold.estimated is None]
    if not missing:
        return ""
    why = []
    open_ = sum(1 for fold in missing if fold.undetermined)
    if open_:
        why.append(f"{open_} not available: a fitted cell is not determined without {'it' if open_ == 1 else 'each'}")
    if len(missing) > open_:
        why.append(f"{len(missing) - open_} not refitted: too few runs left")
    return f" ({len(cal.folds) - len(missing)} of {len(cal.folds)} {cal.group_by} groups held out; {'; '.join(why)})"


def fold_cells(cal, fold, name_group: bool = True) -> list[str]:
    """Each cell of a fold's refit in words: `kernel_overhead 4.30341 us`, or for a cell the other runs leave open
    `kernel_overhead not determined without GROUP (why; stopped at VALUE)` ("not determined (...)" without
    `name_group`)."""
    open_cells = {name: found for found in fold.undetermined for name in found.cells}
    out = []
    for name, cell, value in zip(short_names(cal.cells), cal.cells, fold.values):
        found = open_cells.get(cell.name)
        without = f" without {fold.group}" if name_group else ""
        out.append(f"{name} not determined{without} ({found.why}; stopped at {cell.literal(value)})"
                   if found else f"{name} {cell.literal(value)}")
    return out


def short_names(cells) -> list[str]:
    """Each fitted cell by its shortest name that tells it from the others: CELL where no other fitted cell has that
    name, else BLOCK.CELL as --fit names it (int8_wo.weight_read_efficiency beside int4_g32.weight_read_efficiency)."""
    names = [cell.cell for cell in cells]
    return [cell.cell if names.count(cell.cell) == 1 else cell.name for cell in cells]


def summary_lines(cal) -> list[str]:
    """The calibration in words: cells with intervals, errors per metric and per group, identifiability flags."""
    lines = [f"fitted {len(cal.cells)} cell{'s' if len(cal.cells) != 1 else ''} on {len(set(cal.obs.point.tolist()))} "
             f"runs ({len(cal.obs.measured)} measured values; loss {cal.loss}, f_scale {cal.f_scale:g}, on "
             f"log(estimated / measured); {cal.evaluations} evaluations)"]
    interval = cal.interval()
    for cell, value, (low, high) in zip(cal.cells, cal.values, interval):
        band = f"  95% bootstrap interval {cell.literal(low)} .. {cell.literal(high)} ({len(cal.samples)} " \
               f"{cal.resampling} resamples)" if np.isfinite(low) else ""
        lines.append(f"  {cell.name} = {cell.literal(value)}  (start {cell.literal(cell.start)}, bounds "
                     f"{cell.literal(cell.low)} .. {cell.literal(cell.high)}){band}")
    for index, metric in enumerate(cal.metrics):
        inside, cv = metric_errors(cal, index)
        start = cal.mape(index, cal.start_estimated)
        text = f"  {metric.name} MAPE: in-sample {_percent(inside)} (at the start values {_percent(start)})"
        if cal.folds:
            text += f", leave-one-{cal.group_by}-out {_percent(cv)}{held_out_coverage(cal)}"
        low, high = cal.spread(index)
        if np.isfinite(low):
            text += f"; a new run within x{low:.4f} .. x{high:.4f} of the estimate (95%)"
        lines.append(text)
    if cal.folds:
        lines.append(f"leave one {cal.group_by} out:")
        for fold in cal.folds:
            if fold.values is None:
                lines.append(f"  {fold.group}: not refitted ({fold.note})")
                continue
            cells = ", ".join(fold_cells(cal, fold))
            if fold.estimated is None:
                lines.append(f"  {fold.group}: held-out error not available  (refitted without it: {cells})")
                continue
            held = np.zeros(len(cal.obs.measured), dtype=bool)
            held[fold.held_out] = True
            errors = ", ".join(f"{m.name} {_percent(cal.mape(i, cal.cv_estimated(), held))}"
                               for i, m in enumerate(cal.metrics) if (held & (cal.obs.metric == i)).any())
            lines.append(f"  {fold.group}: {errors}  (refitted without it: {cells})")
    for flag in cal.flags:
        lines.append(f"not determined: {flag.cell}: {flag.message}; {flag.hint}")
    return lines


def perf_text(cal, problem, output: str, command: str, date: str, clashes=()) -> str:
    """The calibrated `.perf` file: imports of the files that define the fitted blocks (in --fit order,
    calibration_imports.py), a commented `set` per cell, and the block of residual spreads. `clashes`
    (calibration_imports.SetTwice) add a header note saying why the file fails `check` on its own."""
    from .calibration_imports import header_note, import_lines

    out_dir = os.path.dirname(os.path.abspath(output))
    files = ", ".join(os.path.relpath(os.path.abspath(f), out_dir) for f in cal.files)
    # Every path of the header but the command's is relative to this file's folder, as its imports are (the logs
    # above; the runs' sources and a `--group-by source` group below): a run given as data/runs.csv:row 1 beside
    # its log ../data/runs.csv read as two files.
    def here(text: str) -> str:           # a point's runs are "a.csv:row 1; a.csv:row 2"
        return "; ".join(from_file(part, out_dir) for part in text.split("; "))

    runs = len(set(cal.obs.point.tolist()))
    lines = [f"# {os.path.basename(output)}: {HEADER} on {date}.",
             f"#   {command}",
             f"# Report '{problem.report}'; {runs} runs matched (of {cal.n_runs} in {files}); metrics "
             + ", ".join(f"{m.name} (weight {m.weight:g})" for m in cal.metrics)
             + f"; loss {cal.loss} (f_scale {cal.f_scale:g}) on log(estimated / measured).",
             "# Paths are relative to this file's folder, as its imports are; the command's, to the folder it ran "
             "in.",
             "# The runs:"]
    lines += [f"#   {label} ({here(source)})" for label, source in dict.fromkeys(zip(cal.obs.label, cal.obs.source))]
    lines += [f"# Import this file from a report to use the fitted cells; bind `calibration = {block_name(output)}` "
              "in the report to show the intervals.",
              "# It imports the files that define the fitted blocks, in the order --fit names the cells."]
    lines += header_note(list(clashes))
    lines += [f"# NOTE: {d.message}." for d in cal.diagnostics if d.code == "few-runs"] + [""]
    lines += import_lines(problem, cal.cells, output) + [""]
    interval = cal.interval()
    errors = [metric_errors(cal, i) for i in range(len(cal.metrics))]
    error_text = "; ".join(f"{m.name} MAPE in-sample {_percent(e[0])}"
                           + (f", leave-one-{cal.group_by}-out {_percent(e[1])}{held_out_coverage(cal)}"
                              if cal.folds else "")
                           for m, e in zip(cal.metrics, errors))
    lines.append("set {")
    for index, (cell, value, (low, high)) in enumerate(zip(cal.cells, cal.values, interval)):
        lines.append(f"    # fitted on {runs} runs, {date}: {error_text}")
        if np.isfinite(low):
            lines.append(f"    # 95% bootstrap interval {cell.literal(low)} .. {cell.literal(high)} "
                         f"({len(cal.samples)} {cal.resampling} resamples); start {cell.literal(cell.start)}, bounds "
                         f"{cell.literal(cell.low)} .. {cell.literal(cell.high)}")
        if cal.folds:
            refits = ", ".join(f"{here(f.group) if cal.group_by == 'source' else f.group} "
                               f"{fold_cells(cal, f, False)[index].partition(' ')[2]}" for f in cal.folds
                               if f.values is not None)
            if refits:                    # no fold refitted (one group, or too few runs left): the error line says so
                lines.append(f"    # refitted leaving one {cal.group_by} out: {refits}")
        for flag in cal.flags:
            if cell.name in flag.cell.split(", "):
                lines.append(f"    # NOT DETERMINED: {flag.message}; {flag.hint}")
        lines.append(f"    {cell.name} = {cell.literal(value)}")
        lines.append("")
    lines[-1] = "}"
    lines.append("")
    held_out = bool(cal.folds) and bool(np.isfinite(cal.cv_estimated()).any())
    lines.append(f"# The residual spread: a new run's measured value lies within [estimate x NAME_low, estimate x "
                 f"NAME_high] with 95% probability (from the {'held-out' if held_out else 'in-sample'} log "
                 "residuals: mean +- Student t x sd x sqrt(1 + 1/n)).")
    lines.append(f"costmodel {block_name(output)} {{")
    for index, metric in enumerate(cal.metrics):
        low, high = cal.spread(index)
        if np.isfinite(low):
            lines.append(f"    {metric.name}_low = {low:.4f}")
            lines.append(f"    {metric.name}_high = {high:.4f}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def from_file(text: str, folder: str) -> str:
    """A run's source ("data/runs.csv:row 3", "logs/v.json:report", a log's path) with its path, relative to the
    working folder, made relative to `folder` (the written file's); text that starts with no file there is kept as it
    is (a source that names no file: "", a label)."""
    for end in [len(text)] + [i for i in range(len(text) - 1, 0, -1) if text[i] == ":"]:
        path = text[:end]
        if path and os.path.isfile(path):
            return os.path.relpath(os.path.abspath(path), folder) + text[end:]
    return text


def residual_table(cal) -> tuple[list[str], list[np.ndarray]]:
    """One row per measured value: run, source, group, metric, measured, estimated, error [%], and the held-out
    estimate and error [%] where there are folds. Values in each metric's display unit (named in the metric column);
    errors in percent, (estimated - measured) / measured x 100, as `perfdsl eval`, its workbook and JSON give them.
    With `--group-by source` the group is the run's log, which its source already starts with
    ("data/a.csv:row 3"): no second column named `source` (the table had two, and a CSV reader keeps one)."""
    scale = np.array([cal.metrics[m].scale for m in cal.obs.metric])
    keys = ["run", "source", "metric", "measured", "estimated", "error [%]"]
    columns = [np.array(cal.obs.label, dtype=object), np.array(cal.obs.source, dtype=object),
               np.array([f"{cal.metrics[m].name} [{cal.metrics[m].unit}]" if cal.metrics[m].unit
                         else cal.metrics[m].name for m in cal.obs.metric], dtype=object),
               cal.obs.measured / scale, cal.estimated / scale, cal.relative_errors() * 100.0]
    if cal.folds:
        held = cal.cv_estimated()
        if cal.group_by != "source":
            keys[2:2] = [cal.group_by]
            columns[2:2] = [np.array(cal.obs.group, dtype=object)]
        keys += ["held-out estimate", "held-out error [%]"]
        columns += [held / scale, cal.relative_errors(held) * 100.0]
    return keys, columns


# A fitted estimate matches its run to within this relative error (1e-7 %) only by the fit's own arithmetic: the fit
# stops where a step changes the cells by less than xtol = 1e-10 of their size (calibrate.py), and float64 rounds
# the estimate's sums at about 1e-16 each (runs made at the fitted values were off by 9e-16 to 1.4e-13). A run's
# real error, even a synthetic run's, is orders of magnitude above it.
SETTLED = 1e-9


def text_errors(keys: list[str], columns: list[np.ndarray]) -> list[np.ndarray]:
    """The residual table's columns (residual_table) as the text table prints them: an error [%] whose size is
    below SETTLED (as a fraction) is 0, as an estimate equal to its run prints (`0`, not `-4.5560e-12`); every
    other value as it is. The CSV keeps the exact values."""
    out = []
    for key, column in zip(keys, columns):
        if key.endswith("error [%]"):
            with np.errstate(invalid="ignore"):
                column = np.where(np.abs(column) < SETTLED * 100.0, 0.0, column)
        out.append(column)
    return out


def workbook_data(cal, report: str) -> WorkbookData:
    """The residuals as a workbook: a sheet of in-sample estimates and, with folds, one of held-out estimates, each
    with Measured / Estimated / Error per metric; the summary on the About sheet."""
    specs = [MetricSpec(m.name, m.name[:1].upper() + m.name[1:].replace("_", " "), m.unit) for m in cal.metrics]
    sections = []
    estimates = [("Fit", cal.estimated)]
    if cal.folds:
        estimates.append((f"Leave one {cal.group_by} out", cal.cv_estimated()))
    for title, estimated in estimates:
        rows: dict[int, ComparisonRow] = {}
        for k, point in enumerate(cal.obs.point.tolist()):
            row = rows.get(point)
            if row is None:
                identity = {"Run": cal.obs.label[k]}
                if cal.group_by:        # a numeric axis's value as a number (request_rate 1.0, not the label)
                    identity[cal.group_by] = (cal.obs.group_value[k] if cal.obs.group_value
                                              else cal.obs.group[k])
                row = rows[point] = ComparisonRow(identity, {}, {}, cal.obs.source[k] or None)
            metric = cal.metrics[cal.obs.metric[k]]
            value = estimated[k] / metric.scale
            row.estimated[metric.name] = float(value) if np.isfinite(value) else None
            row.measured[metric.name] = float(cal.obs.measured[k] / metric.scale)
        sections.append(Section(title, ["Run"] + ([cal.group_by] if cal.group_by else []), specs, list(rows.values())))
    # No Inputs sheet (inputs=None): the estimates are the fit's, at the fitted cells the summary gives, not an
    # evaluation's cells to list.
    return WorkbookData(report_name=f"{report} (calibration)", sections=sections, inputs=None,
                        notes=summary_lines(cal))


def check_outputs(problem, report_file: str, output: str, residuals: str | None) -> None:
    """Refuse, before any work, an output that is not a .perf file or that would write over an input: the report,
    what it imports and the run logs. A calibration this command wrote before may be replaced even where the report
    imports it: its `set`s were overridden by the fit, so they only served as the start values."""
    from .output import protect_inputs

    if not output.endswith(".perf"):
        raise UsageError(error("bad-output", f"-o {output}: the calibration is written as a .perf file"))
    inputs = [report_file] + problem.files + [problem.program.path_of(m.file) for m in problem.program.modules
                                              if not written_by_calibrate(m.source)]
    for target in filter(None, (output, residuals)):
        protect_inputs(target, inputs)


def write_outputs(cal, problem, output: str, residuals: str | None, command: str, clashes=()):
    """Write the calibrated .perf file (`clashes`: see perf_text), and the residuals to `residuals` (.csv, .xlsx,
    else a text table). Returns the residual table (keys, columns) where no file was named for it, for the caller
    to print; else None."""
    from .output import write_text_atomically
    from .render import write_csv, write_table

    write_text_atomically(output, perf_text(cal, problem, output, command, datetime.date.today().isoformat(),
                                            clashes))
    keys, columns = residual_table(cal)
    if residuals is None:
        return keys, text_errors(keys, columns)
    if residuals.endswith(".xlsx"):
        from .workbook import write_workbook

        write_workbook(workbook_data(cal, problem.report), residuals)
    else:
        if residuals.endswith(".csv"):
            write_text_atomically(residuals, lambda out: write_csv(keys, columns, out))
        else:
            write_text_atomically(residuals, lambda out: write_table(keys, text_errors(keys, columns), out))
    return None
