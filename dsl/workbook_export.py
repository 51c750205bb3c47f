"""From a report's result (and its matched runs) to the workbook's plain data (comparison.py), then to Excel.

- Sections: the report cell `section` (a string formula, e.g. `if(workload.n_gpus > 1, "Multi GPU", "Single GPU")`)
  puts each sweep point on a sheet; without it there is one sheet named after the report. Each section carries
  its setup (workload, precision, stack, cost model: `workbook_setup`).
- Row notes: the report cell `note` (a string formula; "" for none) says why a row's estimate is known to miss.
- Identifying columns: the shown cells that are strings or booleans (`show model.hf_id as Model`), then the value
  axes, then the role axes that no shown string already names.
- Metrics: the shown numeric cells, in their display units, with the measured value and the error where runs matched;
  a report compared with no runs gets the estimates alone (workbook.py's estimates-only layout).
- Inputs: every cell the estimates used, with its formula, value (in the unit its literal is written in; a swept
  list as its values), unit, source file:line and the comment written beside it (where a figure comes from).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from . import ir
from .comparison import ComparisonRow, InputCell, MetricSpec, Section, WorkbookData
from .hertz import cell_in_hertz
from .input_units import display_unit, plain_number
from .matching import Comparison
from .render import format_number
from .report_options import OPTIONS as REPORT_OPTIONS
from .result import Result, ShownColumn, key_with_unit
from .workbook_pictures import workbook_pictures
from .workbook_setup import evaluation_cells, setup_lines, shown_path


# The field's abbreviations, written as the field writes them in a title: "ttft" -> "TTFT", not "Ttft".
_ABBREVIATIONS = {word.lower(): word for word in (
    "TTFT", "TPOT", "ITL", "E2E", "KV", "MFU", "MBU", "GPU", "GPUs", "CPU", "TP", "PP", "EP", "DP", "LM", "MoE",
    "HBM", "SM", "FLOPs", "FLOP", "QK", "MLP", "ID")}


def title_of(name: str) -> str:
    """A name as a header title: underscores and dots as spaces, first letter capitalised, the field's abbreviations
    as it writes them ("kv_cache.bytes" -> "KV cache bytes", "ttft" -> "TTFT", "energy_per_token" -> "Energy per
    token")."""
    words = [_ABBREVIATIONS.get(word.lower(), word) for word in name.replace("_", " ").replace(".", " ").split()]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _swept_cell(ctx, ref: ir.Ref) -> str | None:
    """The name of the sweep axis coordinate a shown reference reads as it is (`workload.tp` where the workload's
    `tp` is swept), else None."""
    if len(ref.parts) == 1:
        block, cell = ctx.report.name, ref.parts[0]
    else:
        block, cell = ctx.fixed_roles.get(ref.parts[0], ref.parts[0]), ref.parts[1]
    entry = ctx.sweep_cells.get((block, cell))
    return entry[1].name if entry is not None else None


def _kept_by_question(ctx) -> set[str]:
    """The names of the swept coordinates the report's question keeps (its `per` axes), whose value a row of a group
    with no answer keeps while its shown cells are empty; none without a question."""
    if not ctx.report.questions:
        return set()
    from .queries import kept_axes

    kept, _ = kept_axes(ctx.report.questions[0], ctx)
    return {coord.name for axis in ctx.axes if axis.index in kept for coord in axis.coords}


def metric_names(columns: list[ShownColumn]) -> list[str]:
    """Each shown metric's name in the workbook (MetricSpec.name, the key of its row values): the column's name, or
    its key (`workload.t [ms]`) where another metric has that name (`show workload.t in ms, workload.t in s`: two
    columns named `workload.t`, each a group of its own, as each is a column of the CSV)."""
    counts: dict[str, int] = {}
    for column in columns:
        counts[column.name] = counts.get(column.name, 0) + 1
    return [column.key if counts[column.name] > 1 else column.name for column in columns]


def _shown_values(result: Result, column) -> np.ndarray:
    """One shown column's values per row in its display unit, by the column (a cell shown twice in two units is two
    columns of one name: `display_column(name)` reads the first; its key, `mem [KiB]`, is the CSV's and its own)."""
    return result.display_column(column.key)


class WholeParts:
    """What a workbook reads of a whole evaluation besides its rows: the calibration's bounds, the per-point texts
    `section` and `note`, each section's setup and the Inputs sheet. workbook_answer.AnswerParts gives them for a
    question's answer merged from chunks, which holds its rows alone."""

    def __init__(self, result: Result):
        self.result = result
        self._order: list[tuple[str, str]] | None = None    # workbook_setup.evaluation_cells, found once

    def bounds(self, metrics: dict[str, ShownColumn]) -> dict[str, tuple[list, list]]:
        """Metric (its name in the workbook: metric_names) -> (low, high) per row, in the display unit of its shown
        column (`metrics`: name -> column); {} without a calibration."""
        from .intervals import estimate_intervals

        intervals = estimate_intervals(self.result)
        return {name: ((low / column.scale).tolist(), (high / column.scale).tolist())
                for name, column in metrics.items() if column.key in intervals
                for low, high in (intervals[column.key],)}

    def per_point_text(self, option: str) -> list[str] | None:
        """The report cell `option` (`section`, `note`) per row; None where the report has none."""
        return _per_point_text(self.result, option)

    def setup(self, points: list[int], axis_columns: dict[str, np.ndarray], title: str) -> list[tuple[str, str]]:
        """workbook_setup.setup_lines of the section `title` made of the rows `points`."""
        if self._order is None:             # one walk of the formulas for every section
            result = self.result
            self._order = evaluation_cells(result.program, result.ctx, result.evaluator.link)
        return setup_lines(self.result, points, axis_columns, title, order=self._order)

    def marks(self) -> tuple[list, list] | None:
        """The columns valid and violates per row, where `invalid_points = "mark"` keeps points that break a
        `require` (in a report with constraints, some point broken or none, as Result.table); else None."""
        result = self.result
        if result.invalid_points == "mark" and (result.violations or result.always_mark):
            return result.pick(result.valid.reshape(-1)).tolist(), result.pick(result.violates()).tolist()
        return None

    def inputs(self) -> list[InputCell] | None:
        """The Inputs sheet's cells (input_cells)."""
        return input_cells(self.result)


def build_workbook_data(result: Result, comparison: Comparison | None, parts: WholeParts | None = None
                        ) -> WorkbookData:
    """The workbook's plain data for a report's result and its runs (`comparison`; None: no runs): one section per value
    of the report option `section`, a row per row of the result (only the rows runs matched with `points = "runs"`),
    estimates and measured values in each metric's display unit (None where not finite or no run), the calibration's
    bounds, the Inputs sheet, what was not matched, and the About notes. `parts`: what is read of the evaluation
    besides the rows (WholeParts(result) by default; a question's answer merged from chunks gives its own:
    workbook_answer.py, with `result` a view of the answer's rows). Errors of evaluating the `section` or `note`
    cells propagate."""
    parts = parts if parts is not None else WholeParts(result)
    ctx = result.ctx
    n = result.n_rows
    axis_columns = result.axis_columns()
    # Text shown cells name a row (Model, Device) and come first, as does a shown number that names an axis with the
    # axis's own values (`workload.tp as TP`: no metric, nothing measured; its axis column is then left out, not
    # twice). The report's own axis shown (`show a`, `show a in MB`: ShownColumn.axis, shown_axes.py) is its axis
    # column, where the axes are, as in CSV. Any other shown value of a swept cell (`workload.batch` beside the axis
    # `batch`, `mem in KiB` or `mem in KiB as memk` beside `mem [MB]`) is a column of its own with its CSV key and its
    # shown values, after the axes with the flags (`memory.fits`) in the order shown; so is a labelled show of an
    # axis the report's question keeps (`per tp`): a group with no answer keeps the axis's value (tp = 2) and leaves
    # the shown cell empty, as CSV does, and the axis column says which group the row is. Columns, not names: a cell
    # shown twice (`show mem in MB, mem in KiB`) is two columns of one name.
    def axis_unit(coord_name: str) -> str:
        swept = next(c for axis in ctx.axes for c in axis.coords if c.name == coord_name)
        return swept.unit if swept.kind == "num" else ""

    naming: list = []               # (column, its axis): a labelled show of an axis in its unit, which replaces it
    after_axes: list = []           # flags and the other shown swept values
    numeric_shows = []
    kept = _kept_by_question(ctx)
    for column in result.columns:
        if column.axis is not None:
            continue
        swept = _swept_cell(ctx, column.item.ref) if column.kind == "num" else None
        if swept is not None and column.item.label is not None and column.unit == axis_unit(swept) \
                and swept not in kept:
            naming.append((column, swept))
        elif column.kind == "bool" or swept is not None:
            after_axes.append(column)
        elif column.kind == "num":
            numeric_shows.append(column)
    string_shows = [c for c in result.columns if c.kind == "str" and c.axis is None]
    covered_roles = {c.item.ref.parts[0] for c in string_shows if len(c.item.ref.parts) == 2}
    covered_axes = {swept for _, swept in naming}

    id_names: list[str] = []
    id_values: list[list] = []
    for column in string_shows:
        id_names.append(column.name)
        id_values.append(result.column(column.name).tolist())
    for column, swept in naming:        # the axis's own values, written as the axis column writes them (1, not 1.0)
        id_names.append(column.key)
        id_values.append(axis_columns[key_with_unit(swept, axis_unit(swept))].tolist())
    for axis in ctx.axes:
        for coord in axis.coords:
            if (coord.kind == "role" and coord.name in covered_roles) or coord.name in covered_axes:
                continue
            key = next(k for k in axis_columns if k == coord.name or k.startswith(coord.name + " ["))
            id_names.append(key)
            id_values.append(axis_columns[key].tolist())

    for column in after_axes:
        id_names.append(column.key if column.kind == "num" else column.name)
        id_values.append(_shown_values(result, column).tolist() if column.kind == "num" else
                         result.column(column.name).tolist())

    marks = parts.marks()
    if marks is not None:                                         # kept points that break a `require`: say so
        id_names += ["valid", "violates"]
        id_values += list(marks)

    # The runs are matched by the shown name (`runtime`), a metric per shown column (matching.MetricMatch, by its
    # key); each metric's values are keyed by its name in the workbook (metric_names: the key where a name is shown
    # twice, `show t in ms, t in s`) and are in its own display unit.
    measured = {m.key: m for m in (comparison.metrics if comparison else [])}
    carried = comparison.carried if comparison is not None else None
    derived = {m.key for m in (comparison.metrics if comparison else []) if m.derived}
    by_name = dict(zip(metric_names(numeric_shows), numeric_shows))
    metrics = [MetricSpec(name=name, title=title_of(c.name), unit=c.unit,
                          measured=carried is None or c.key in carried,
                          derived=DERIVED_THROUGHPUT if c.key in derived else "") for name, c in by_name.items()]
    estimates = {name: _shown_values(result, c).tolist() for name, c in by_name.items()}
    # A run's value went to SI and back (16.04 "GB" read as GiB: 16.04 x 2^30 / 2^30 = 16.040000000000003): at 15
    # significant digits, what a float holds for sure, the number the log gave is shown again.
    measured_lists = {name: [float(f"{value:.15g}") for value in (measured[c.key].measured / c.scale).tolist()]
                      for name, c in by_name.items() if c.key in measured}
    traced = comparison.run_trace if comparison is not None and comparison.run_trace is not None else \
        comparison.run_source if comparison is not None else None
    sources = traced.tolist() if traced is not None else [None] * n

    bounds = parts.bounds(by_name)
    sections_of = parts.per_point_text("section") or [result.report] * n
    notes_of = parts.per_point_text("note") or [""] * n
    if result.rows is not None and result.rows.missing.any():     # a question's group with no answer: say why
        no_answer = "No answer: no sweep point of this group meets " + (
            f"the report's conditions ({conditions_text(result)})" if ctx.report.wheres else "the report's constraints")
        reasons = result.rows.reasons              # which condition binds, per group (no_answer.why_line)
        notes_of = [(f"No answer: no sweep point of this group meets the report's conditions: {reasons[index]}"
                     if index in reasons else no_answer) if missing else note
                    for note, missing, index in zip(notes_of, result.rows.missing.tolist(),
                                                    result.rows.index.tolist())]
    order: dict[str, Section] = {}
    members: dict[str, list[int]] = {}
    points = range(n) if comparison is None or comparison.keep is None else \
        [int(i) for i in np.flatnonzero(comparison.keep)]
    for point in points:
        title = sections_of[point]
        section = order.get(title)
        if section is None:
            section = order[title] = Section(title=title, id_columns=list(id_names), metrics=metrics, rows=[])
        members.setdefault(title, []).append(point)
        estimated = {name: _finite(values[point]) for name, values in estimates.items()}
        measured_row = {name: _finite(values[point]) for name, values in measured_lists.items()}
        section.rows.append(ComparisonRow(
            identity={name: values[point] for name, values in zip(id_names, id_values)},
            estimated=estimated, measured=measured_row, run_source=sources[point] or None,
            note=notes_of[point] or None, index=_sweep_point(result, point),
            bounds={name: (_finite(low[point]), _finite(high[point])) for name, (low, high) in bounds.items()}))
    for title, section in order.items():
        section.setup = parts.setup(members[title], axis_columns, title)

    notes = [f"Report '{result.report}': {result.n_points:,} sweep points over the axes "
             + ", ".join(f"{a.name} ({a.length})" for a in ctx.axes) + "." if ctx.axes else ""]
    if comparison is not None and comparison.keep is not None:
        # points = "runs": the sweep spans every combination; the sheets hold only the points a run matched.
        kept = len(points)
        notes.append(f"Rows shown: the {kept:,} sweep point{'s' if kept != 1 else ''} a run matched "
                     f"(points = \"runs\"), not all {result.n_points:,}.")
    if result.rows is not None:
        # The rows a question picked, or (no question) the points that meet every constraint: only those are rows.
        # with points = "runs" the rows are the points matched (said above): this counts what the constraints keep
        runs_rows = comparison is not None and comparison.keep is not None
        label = "Question" if ctx.report.questions else "Constraints" if runs_rows else "Rows"
        where = f" (where {conditions_text(result)})" if ctx.report.wheres else ""
        notes.append(f"{label}: {result.rows.summary}{where}.")
    for name, cell in ctx.report.cells.items():
        if isinstance(cell.expr, ir.Str) and name not in REPORT_OPTIONS:
            notes.append(f"{title_of(name)}: {cell.expr.value}")
    if bounds:
        from .calibration_bound import calibrations_bound

        bound = ctx.fixed_roles["calibration"]
        read = [f"'{found.name}'" for found in calibrations_bound(result) if found.name != bound]
        source = (f"from the calibrations {' and '.join(read)}, as the block '{bound}' the report binds chooses them"
                  if read else f"from the calibration '{bound}' the report binds")
        notes.append(f"Estimated low / high ({', '.join(bounds)}): the 95% spread of a new run around the estimate, "
                     f"{source}.")
    # Logs named (the report's `measured` cell, --measured, --add-measured): the comparison layout, even where no run
    # matched (the user expects the comparison). None: the estimates-only layout, which About's Layout line explains.
    runs_given = comparison is not None and bool(comparison.logs)
    if comparison is not None and comparison.n_runs:
        notes.append(f"Measured: {comparison.n_runs} runs, matched on " + ", ".join(comparison.used_keys) + ".")
        alias_cell = ctx.report.cells.get("measured_unit_aliases")
        if comparison.aliases and alias_cell is not None:
            notes.append(f"Measured units read as the report says (measured_unit_aliases): {alias_cell.expr.value}.")
        for name in dict.fromkeys(metric.name for metric in comparison.metrics if metric.derived):   # once a name
            notes.append(f"Measured {name} is {DERIVED_THROUGHPUT}.")
    caveat = ""
    if comparison is not None and comparison.n_runs and comparison.metrics:
        from .calibration_bound import in_sample_parts, in_sample_text

        notes.append(in_sample_text(result, comparison) or "")
        in_sample = in_sample_parts(result, comparison)
        if in_sample is not None and in_sample[0]:
            # the headline, what each calibration file records of its held-out errors, and where to find them
            caveat = "; ".join([in_sample[1][:1].upper() + in_sample[1][1:]] + in_sample[2][1:]) + "."
    if isinstance(result, Result):        # an answer merged from chunks: workbook_answer.py adds its own
        from .provisional import for_result, provisional_text

        notes.append(provisional_text(for_result(result, comparison)) or "")     # as eval's note[provisional]
    return WorkbookData(report_name=result.report, sections=list(order.values()), inputs=parts.inputs(),
                        unmatched=list(comparison.unmatched) if comparison else [],
                        error_convention=comparison.convention if comparison else "measured",
                        runs_given=runs_given,
                        notes=[line for line in notes if line], summary_caveat=caveat)


# What a measured throughput is where the runs give a runtime and tokens, not a throughput (matching._run_metric).
DERIVED_THROUGHPUT = "each run's tokens / its measured runtime, not measured on its own"


def _sweep_point(result: Result, row: int) -> int | None:
    """The flat sweep index a row of the result stands for (None: a question's group with no answer)."""
    if result.rows is None:
        return row
    return None if result.rows.missing[row] else int(result.rows.index[row])


def _finite(value):
    if value is None:
        return None
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def conditions_text(result: Result) -> str:
    """The report's `where` conditions as written, joined by ' and ' (its parents' included), each on one line:
    "memory.fits and serving.tpot <= 50 ms and serving.ttft <= 1 s"."""
    return " and ".join(" ".join(where.text.split()) for where in result.ctx.report.wheres)


def _per_point_text(result: Result, option: str) -> list[str] | None:
    """A report cell that is a string per sweep point (`section`, `note`), one per row; None where the report has
    none."""
    cell = result.ctx.report.cells.get(option)
    if cell is None or cell.expr is None:
        return None
    evaluator = result.evaluator
    array = evaluator.run(lambda: evaluator.cell(result.ctx.report, option))
    values = result.flat(array)
    return [str(v) for v in values.tolist()]


def input_cells(result: Result) -> list[InputCell]:
    """Every cell the estimates used: formula, value (`_value_summary`), unit, source file:line and the comment
    written beside it (where a datasheet figure comes from). The same cells at every evaluation of a program: a cell
    that varies along no axis is computed once per prepared report (evaluator.Constants), and a later evaluation
    reads it, or a formula part over it, from there without visiting the cells it reads, so its memo lacks them
    (the seed report's Inputs sheet went from 698 cells to 214 at a second evaluate()); they are taken from the
    constants, which hold only cells an evaluation of this report read."""
    evaluator = result.evaluator
    by_cell: dict[tuple[str, str], list[np.ndarray]] = {}
    for (block, cell, _fix), array in evaluator.memo.items():
        by_cell.setdefault((block, cell), []).append(array)
    if evaluator.constants is not None:
        for key, array in evaluator.constants.values.items():
            by_cell.setdefault(key, [array])
    rows = []
    blocks = result.program.blocks
    sources = result.program.sources
    for (block_name, cell_name), arrays in by_cell.items():
        block = blocks[block_name]
        cell = block.cells[cell_name]
        vtype = evaluator.types.get((block_name, cell_name))
        hertz = cell_in_hertz(block_name, cell_name, blocks, evaluator.link, evaluator.types)    # a clock: Hz
        value, unit = _value_summary(arrays, vtype, cell, hertz)
        span = cell.span
        rows.append(InputCell(block=block_name, kind=block.kind, cell=cell_name,
                              formula=" ".join((cell.text or "").split()) or f"(declared {cell.declared})",
                              value=value, unit=unit, source=f"{shown_path(span.file)}:{span.line}",
                              comment=sources.cell_comment(cell)))
    kind_order = {"hardware": 0, "model": 1, "workload": 2, "costmodel": 3, "report": 4}
    rows.sort(key=lambda r: (kind_order.get(r.kind, 9), r.block, r.cell))
    return rows


MAX_LISTED = 8          # values of a swept list or of strings named on the Inputs sheet before "... (N values)"
_FEW_VALUES_SCAN = 4096  # a computed cell's values looked through for a few distinct ones (else shown as a range)


def _value_summary(arrays: list[np.ndarray], vtype, cell: ir.Cell, hertz: bool = False
                   ) -> tuple[float | int | bool | str, str]:
    """A cell's value for the Inputs sheet and its unit.

    One number over the whole sweep is a number (an int where it is whole, so a spreadsheet computes with it) in the
    unit its literal is written in (`1555 GB/s` stays 1555 GB/s), else in a readable unit for its size (computed
    cells). A swept list or range (`[1, 8, 32, 128]`, `512 .. 8192 by *4`, a zipped sweep) is its values in sweep
    order ("1, 8, 32, 128", "512, 2048, 8192"; the first MAX_LISTED, then how many), as a list is not a range and
    a range's step is not its ends; a computed cell that varies over the sweep is its values in ascending order
    where it takes at most MAX_LISTED ("1, 2, 4, 8" for `tp = n_gpus`), else a range ("128 .. 131072"). One boolean is a boolean; strings, booleans that vary and values that are not finite are text."""
    flat = np.concatenate([np.asarray(a).reshape(-1) for a in arrays])
    if flat.dtype.kind == "b" and len(set(flat.tolist())) == 1:
        return bool(flat[0]), ""
    if flat.dtype.kind in "fiu":
        finite = flat[np.isfinite(flat)] if flat.dtype.kind == "f" else flat
        if finite.size == 0:
            return "not finite", ""
        low, high = float(finite.min()), float(finite.max())
        unit, scale = display_unit(cell, getattr(vtype, "dim", None), max(abs(low), abs(high)), hertz)
        if low == high:
            return plain_number(low / scale), unit
        if cell.sweep:     # a range's points too: "512 .. 8192" hid `by *4` (the points are 512, 2048, 8192)
            return _listed([format_number(plain_number(v / scale)) for v in dict.fromkeys(finite.tolist())]), unit
        # A computed cell of a few values (`tp = n_gpus` over [1, 2, 4, 8]) shows them: "1 .. 8" read as every
        # whole number between. Its arrays hold one value per point of the axes it depends on (broadcast, not
        # repeated), so they are small where the values are few; a large one (it varies with many axes) is a range.
        few = np.unique(finite) if finite.size <= _FEW_VALUES_SCAN else None
        if few is not None and few.size <= MAX_LISTED:
            return ", ".join(format_number(plain_number(v / scale)) for v in few.tolist()), unit
        return f"{format_number(low / scale)} .. {format_number(high / scale)}", unit
    return _listed(sorted({(str(v).lower() if isinstance(v, bool) else str(v)) for v in flat.tolist()})), ""


def _listed(values: list[str]) -> str:
    return ", ".join(values[:MAX_LISTED]) + (f" ... ({len(values)} values)" if len(values) > MAX_LISTED else "")


def _first_points(result: Result, comparison: Comparison | None, parts: WholeParts | None = None
                  ) -> dict[str, int]:
    """Each section's first row's sweep point (flat index), in the order of the sheets: its first row where every
    shown boolean (`memory.fits as fits`) is true, where it has one (the capacity report's first row, a 70B model
    on one L40, does not fit: its roofline pictured a set-up nobody runs), else its first row. `parts`: as
    build_workbook_data's (the rows' sections)."""
    parts = parts if parts is not None else WholeParts(result)
    sections = parts.per_point_text("section") or [result.report] * result.n_rows
    kept = range(result.n_rows) if comparison is None or comparison.keep is None else \
        [int(i) for i in np.flatnonzero(comparison.keep)]
    flags = [np.asarray(result.column(column.name)) == True for column in result.columns  # noqa: E712 (None: no)
             if column.kind == "bool"]
    all_true = np.logical_and.reduce(flags) if flags else None
    first: dict[str, int] = {}
    fallback: dict[str, int] = {}
    for row in kept:
        point = row if result.rows is None else int(result.rows.index[row])
        fallback.setdefault(sections[row], point)
        if all_true is None or all_true[row]:
            first.setdefault(sections[row], point)
    return {section: first.get(section, point) for section, point in fallback.items()}


def export_workbook(result: Result, comparison: Comparison | None, output: str, *, protected: Sequence[str] = (),
                    progress: Callable[[int, int], None] | None = None, live: bool = False) -> Path:
    """Write a report's workbook (as `perfdsl eval -o out.xlsx`) and return its path; `protected`: files it must
    not overwrite. `live`: the estimates as Excel formulas over an Inputs sheet (workbook_live_plan.py); raises
    UsageError `too-large-for-live` for a sweep past its size limit.

    `result` may be an Answer (answer_in_chunks: a question over a sweep of any size): its workbook is the one
    `perfdsl eval -o out.xlsx` writes for a question answered in chunks (workbook_answer.py), with no comparison
    and no live formulas (UsageError `bad-option` for either: measured runs are compared over a whole evaluation,
    and the formulas need every cell's inputs over the sweep)."""
    from .streaming import Answer
    from .workbook import write_workbook

    if isinstance(result, Answer):
        return _export_answer(result, comparison, output, protected, progress, live)

    if live:
        from .workbook_live_plan import attach_live, check_live_size

        kept = comparison.keep if comparison is not None else None
        check_live_size(result, result.n_rows if kept is None else int(np.count_nonzero(kept)))
    data = build_workbook_data(result, comparison)
    data.pictures = workbook_pictures(result, _first_points(result, comparison))
    if live:
        attach_live(data, result)
    return write_workbook(data, output, progress=progress, protected_inputs=[Path(p) for p in protected])


def _export_answer(answer, comparison, output: str, protected: Sequence[str], progress, live: bool) -> Path:
    from .errors import UsageError, error
    from .workbook_answer import export_answer_workbook

    refused = "comparison" if comparison is not None else "live=True" if live else None
    if refused is not None:
        raise UsageError(error("bad-option", f"export_workbook of an Answer takes no {refused}: the answer was "
                               "merged from chunks, and measured runs and live formulas need a whole evaluation",
                               hints=["evaluate the report whole (Program.evaluate) for a workbook with either"]))
    return export_answer_workbook(answer, answer.program, answer.report, output, protected=protected,
                                  progress=progress)
