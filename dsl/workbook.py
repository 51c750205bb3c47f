"""Workbook stage: writes a report (`WorkbookData`) as the Excel workbook people open, filter, chart and forward.

Sheets, in order: one per section, laid out like the seed benchmark table (id columns, then Measured / Estimated /
Error under a merged "Runtime (ms)" header per metric; Error is a live formula coloured by size); "Summary" (live
error statistics per section and metric, and a measured-vs-estimated scatter chart per metric that has runs);
a report compared with no runs (`WorkbookData.runs_given` False) gets the estimates-only layout instead: Estimated
alone under each metric's header (with Estimated low / high where a calibration gives a spread), and a Summary that
says there are no runs to compare and how to name some;
"Inputs" (every spec cell the estimates used); "Unmatched" (runs and estimates that found no partner, where run
logs were given); "About".

This is the only module that imports openpyxl. openpyxl builds the frame: headers, styles, merged cells, frozen
panes, filters, conditional colours, charts and the small sheets. The rows of the big sheets (sections, Inputs,
Unmatched) are rendered by `workbook_layout` and spliced into the frame's XML while the file is written, because
openpyxl needs about 20 s for 100,000 rows and the splice needs a few.

The file appears atomically: it is written beside the target under a temporary name and renamed over it, so a
failure leaves the previous file (if any) untouched and no temporary file behind.
"""

from __future__ import annotations

import io
import math
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.chart import Reference, ScatterChart, Series
from openpyxl.comments import Comment
from openpyxl.drawing.image import Image
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from . import __version__
from .comparison import ERROR_CONVENTIONS, WorkbookData
from .errors import UsageError, error
from .output import atomic_output
from .workbook_layout import (ERROR_FORMAT, EXCEL_MAX_ROWS, FAIR_ERROR, FIRST_DATA_ROW, GOOD_ERROR, HEADER_ROWS,
                              HOW_TO_COMPARE, NO_RUNS, ColumnStyles, SectionLayout, about_lines, as_number,
                              chart_scale, clean_text, column_letter, convention_words, looks_like_formula,
                              plain_rows_xml, plan_section, row_height, section_rows_xml, sheet_titles)
from .workbook_summary import (CachedValue, axis_bounds_formulas, cached_formula_values, summarise,
                               summary_formulas)
from .workbook_live_plan import LIVE_SHEETS
from .workbook_setup import row_note_lines

PROGRESS_EVERY = 1000            # rows between progress callbacks
SUMMARY, INPUTS, UNMATCHED, ABOUT, SETUP, PLOTS = "Summary", "Inputs", "Unmatched", "About", "Setup", "Plots"
WRAP_WIDTH = 60                  # characters: a wider text column wraps (Inputs' formulas, Unmatched descriptions)
PICTURE_WIDTH = 900              # pixels on the sheet (at 96 per inch): one landscape page wide
POINT_COLOUR, LINE_COLOUR = "1F4E79", "808080"      # chart markers (dark blue) and the y = x line (grey)
CHART_ROWS = 16                  # rows one chart takes (7.5 cm tall at the default 15-point row height, plus a gap)
CHARTS_PER_PAGE = 4              # two rows of two: 32 rows, which fit a landscape page at any fit-to-width scale
PAGE_ROWS = 36                   # rows a landscape page holds at 100% (19 cm of 0.53 cm rows); fit-to-width only
                                 # shrinks rows, so a page holds at least this many
INPUT_HEADERS = ("Block", "Kind", "Cell", "Formula", "Value", "Unit", "Source", "Comment")
UNMATCHED_HEADERS = ("Kind", "Description", "Source")
SUMMARY_HEADERS = ("Section", "Metric", "Unit", "Rows", "Matched", "Mean |error|", "Mean error", "Worst error",
                   "Worst row")
# Deflate level 1: a third of the time of the default level for a file about 15% larger.
COMPRESS_LEVEL = 1

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_WRAP = Alignment(wrap_text=True, vertical="top")
_THIN = Side(style="thin", color="8EA9DB")
_HEADER_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_GROUP_START = Border(left=_THIN)   # a line down the left of each metric group, header to last row
_ERROR_FILLS = (("C6EFCE", "006100"), ("FFEB9C", "9C5700"), ("FFC7CE", "9C0006"))  # Excel's good / neutral / bad


def write_workbook(data: WorkbookData, path: str | Path, *, progress: Callable[[int, int], None] | None = None,
                   protected_inputs: Iterable[Path] = ()) -> Path:
    """Write `data` as an .xlsx workbook at `path` and return the path.

    Raises UsageError (exit status 2) for an output that is one of `protected_inputs`, that does not end in
    .xlsx, or whose directory does not exist, and for an unknown `data.error_convention`.
    `progress(done_rows, total_rows)` is called with (0, total) first, then every PROGRESS_EVERY rows and once
    with (total, total) at the end; rows are those of the section, Inputs and Unmatched sheets.
    """
    target = Path(path)
    _check_target(target, protected_inputs)
    _check_data(data)
    workbook, streamed, cached = _build_frame(data)
    _write_atomically(target, lambda out: _save(workbook, streamed, cached, out, progress))
    return target


# ---- refusals ------------------------------------------------------------------------------------------------

def _check_target(target: Path, protected_inputs: Iterable[Path]) -> None:
    resolved = target.resolve()
    for protected in protected_inputs:
        protected = Path(protected)
        if protected.resolve() == resolved or _same_file(protected, target):
            raise UsageError(error(
                "output-is-input", f"refusing to write the workbook over '{target}': it is an input of this report",
                hints=[f"choose another output, e.g. '{target.with_name(target.stem + '-report.xlsx')}'"]))
    if target.suffix.lower() != ".xlsx":
        raise UsageError(error(
            "bad-output", f"cannot write a workbook to '{target}': the name must end in .xlsx",
            hints=[f"try '{target.with_suffix('.xlsx')}'"]))
    if not target.parent.is_dir():
        raise UsageError(error(
            "bad-output", f"cannot write '{target}': the directory '{target.parent}' does not exist",
            hints=[f"create it first (mkdir -p '{target.parent}') or choose another output"]))
    if target.is_dir():
        raise UsageError(error("bad-output", f"cannot write '{target}': it is a directory"))


def _same_file(a: Path, b: Path) -> bool:
    """Also catches a hard link or a second mount of an input, which resolve() does not."""
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _check_data(data: WorkbookData) -> None:
    if data.error_convention not in ERROR_CONVENTIONS:
        raise UsageError(error(
            "bad-error-convention", f"unknown error convention '{data.error_convention}'",
            hints=["use 'measured' for (estimated - measured) / measured or 'estimated' for "
                   "(estimated - measured) / estimated"]))
    for section in data.sections:
        if HEADER_ROWS + len(section.rows) > EXCEL_MAX_ROWS:
            raise UsageError(error(
                "too-many-rows", f"section '{section.title}' has {len(section.rows)} rows; an Excel sheet holds "
                f"{EXCEL_MAX_ROWS - HEADER_ROWS} below its headers",
                hints=["split the rows over several sheets with a report cell `section` (a string per point, e.g. "
                       "`section = if(workload.n_gpus > 1, \"multi\", \"single\")`), or write CSV: -o FILE.csv"]))
    for name, count in ((INPUTS, len(data.inputs or ())), (UNMATCHED, len(data.unmatched))):
        if count + 1 > EXCEL_MAX_ROWS:
            raise UsageError(error("too-many-rows", f"the {name} sheet would need {count} rows; an Excel sheet "
                                   f"holds {EXCEL_MAX_ROWS - 1} below its header", hints=["write CSV: -o FILE.csv"]))


# ---- the frame (openpyxl) ------------------------------------------------------------------------------------

@dataclass
class _Streamed:
    """A sheet whose rows are spliced into the frame's XML when the file is written."""

    sheet: Worksheet
    rows: Callable[[], Iterator[str]]
    count: int
    columns: int
    extent: str                       # the sheet's used range once the rows are in, e.g. "A1:N100002"


# The cached values of frame formula cells, by sheet and cell ("E2"); by sheet, since its part's name
# ("/xl/worksheets/sheet4.xml") is only known once openpyxl saves the frame.
_Cached = dict[Worksheet, dict[str, CachedValue]]


def _build_frame(data: WorkbookData) -> tuple[Workbook, list[_Streamed], _Cached]:
    workbook = Workbook()
    workbook.remove(workbook.active)
    titles = sheet_titles([s.title for s in data.sections],
                          reserved=(SUMMARY, INPUTS, UNMATCHED, ABOUT, SETUP, PLOTS, *LIVE_SHEETS))
    layouts = [plan_section(section, title, compared=data.runs_given)
               for section, title in zip(data.sections, titles)]
    streamed = [_section_sheet(workbook.create_sheet(layout.sheet_title), layout, data.error_convention)
                for layout in layouts]
    if any(section.setup for section in data.sections):
        _setup_sheet(workbook.create_sheet(SETUP), layouts)
    for layout in layouts:
        _page_header(workbook[layout.sheet_title], data.report_name, layout)
    summary = workbook.create_sheet(SUMMARY)
    if data.runs_given:
        cached = {summary: _summary_sheet(summary, layouts, data.error_convention, data.summary_caveat)}
    else:                           # no runs: no errors to summarise or chart
        _no_runs_summary(summary)
        cached = {}
    if data.pictures:
        _plots_sheet(workbook.create_sheet(PLOTS), data.pictures)
    if data.live is not None:       # --live: Inputs, Derived and Calculation carry the cost model as formulas
        from .workbook_live import add_live_sheets

        cached |= add_live_sheets(workbook, data.live)
    elif data.inputs is not None:
        streamed.append(_table_sheet(workbook.create_sheet(INPUTS), INPUT_HEADERS,
                                     [(c.block, c.kind, c.cell, c.formula, c.value, c.unit, c.source, c.comment)
                                      for c in data.inputs], "no spec cells were recorded"))
    if data.runs_given:             # no runs: nothing was compared, so nothing is unmatched (About says so)
        streamed.append(_table_sheet(workbook.create_sheet(UNMATCHED), UNMATCHED_HEADERS,
                                     [(u.kind, u.description, u.source) for u in data.unmatched],
                                     "none: every run found its estimate and every estimate its run"))
    _about_sheet(workbook.create_sheet(ABOUT), data)
    for sheet in workbook.worksheets:
        _printable(sheet)
    return workbook, [s for s in streamed if s.count], cached


def _printable(sheet: Worksheet) -> None:
    """Print or export to PDF as people forward it: landscape, one page wide, header rows on every page."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    if sheet.title not in (SUMMARY, ABOUT, SETUP, PLOTS):
        sheet.print_title_rows = f"1:{HEADER_ROWS}" if sheet.title not in (INPUTS, UNMATCHED) else "1:1"


def _page_header(sheet: Worksheet, report: str, layout: SectionLayout) -> None:
    """Printed pages say what they show: report and section on the left, where the setup is on the right."""
    sheet.oddHeader.left.text = clean_text(f"{report}: {layout.section.title}").replace("&", "&&")
    sheet.oddHeader.right.text = "workload, precision, stack and cost model: sheet Setup" \
        if layout.section.setup else ""
    sheet.oddFooter.center.text = "page &P of &N"


def _setup_sheet(sheet: Worksheet, layouts: list[SectionLayout]) -> None:
    """Per section, what was estimated: workload, precision, stack, cost model and version, the sweep's values."""
    label_width, text_width = 14, 110
    sheet.column_dimensions["A"].width = label_width
    sheet.column_dimensions["B"].width = text_width
    row = 1
    for layout in layouts:
        _put(sheet, row, 1, "Section", header=True)
        _put(sheet, row, 2, layout.sheet_title, header=True).alignment = Alignment(horizontal="left")
        row += 1
        for label, text in layout.section.setup:
            _label(_put(sheet, row, 1, label))
            _put(sheet, row, 2, text).alignment = _WRAP
            sheet.row_dimensions[row].height = row_height([(text, text_width)])
            row += 1
        for index, note in enumerate(row_note_lines(layout.section)):
            _label(_put(sheet, row, 1, "Row notes" if index == 0 else ""))
            _put(sheet, row, 2, note).alignment = _WRAP
            sheet.row_dimensions[row].height = row_height([(note, text_width)])
            row += 1
        row += 1


def _label(cell: Cell) -> None:
    """A bold label beside wrapped text, at the text's first line."""
    cell.font = _HEADER_FONT
    cell.alignment = _WRAP


def _style_id(sheet: Worksheet, *, number_format: str | None = None, border: Border | None = None,
              quote: bool = False, wrap: bool = False) -> int:
    """Register a cell style with the workbook and return its index, for cells written as XML."""
    cell = Cell(sheet)      # never placed on the sheet: only its style is recorded
    if wrap:
        cell.alignment = Alignment(wrap_text=True)    # bottom, like the row's numbers: the last lines align
    if number_format:
        cell.number_format = number_format
    if border:
        cell.border = border
    if quote:
        cell.quotePrefix = True
    return cell.style_id


def _put(sheet: Worksheet, row: int, column: int, value: object, *, header: bool = False) -> Cell:
    """Write one frame cell; text stays text even when it starts with '=' (it may come from a log or a spec)."""
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, str):
        text = clean_text(value)
        cell.value = text
        if looks_like_formula(text):
            cell.data_type = "s"        # openpyxl would otherwise store "=..." as a formula
            cell.quotePrefix = True     # and Excel keeps it text when someone edits the cell
    else:
        cell.value = value
    if header:
        cell.font, cell.fill, cell.alignment, cell.border = _HEADER_FONT, _HEADER_FILL, _CENTER, _HEADER_BORDER
    return cell


def _formula(sheet: Worksheet, row: int, column: int, formula: str, number_format: str | None = None) -> None:
    cell = sheet.cell(row=row, column=column, value=formula)
    if number_format:
        cell.number_format = number_format


def _section_sheet(sheet: Worksheet, layout: SectionLayout, convention: str) -> _Streamed:
    for index, name in enumerate(layout.section.id_columns, start=1):
        _put(sheet, 1, index, None, header=True)
        _put(sheet, 2, index, name, header=True)
    for metric in layout.metrics:
        _put(sheet, 1, metric.first, metric.header, header=True)
        for column, name in metric.value_columns:
            _put(sheet, 2, column, name, header=True)
            if column != metric.first:
                _put(sheet, 1, column, None, header=True)   # borders of the merged header
        if metric.last > metric.first:  # a one-column group (Estimated alone) is a plain cell, not merged
            sheet.merge_cells(start_row=1, start_column=metric.first, end_row=1, end_column=metric.last)
    groups = [(metric.header, sum(layout.widths[c] for c in range(metric.first, metric.last + 1)))
              for metric in layout.metrics]
    if row_height(groups) > row_height([]):     # a header wider than its group wraps: make the row that tall
        sheet.row_dimensions[1].height = row_height(groups)
    for column, name in ((layout.source_column, "Run source"), (layout.point_column, "Point"),
                         (layout.note_column, "Note")):
        if column:
            _put(sheet, 1, column, None, header=True)
            _put(sheet, 2, column, name, header=True)
    for column, width in layout.widths.items():
        sheet.column_dimensions[column_letter(column)].width = width
    sheet.freeze_panes = f"{column_letter(layout.id_count + 1)}{FIRST_DATA_ROW}"
    last = column_letter(layout.last_column)
    sheet.auto_filter.ref = f"A{HEADER_ROWS}:{last}{layout.last_row}"
    if layout.section.rows:
        for metric in (m for m in layout.metrics if m.compared):
            _error_colours(sheet, f"{column_letter(metric.error)}{FIRST_DATA_ROW}:"
                                  f"{column_letter(metric.error)}{layout.last_row}")

    by_column: dict[int, int] = {}
    for metric in layout.metrics:
        by_column[metric.first] = _style_id(sheet, number_format=metric.number_format, border=_GROUP_START)
        plain = _style_id(sheet, number_format=metric.number_format)
        if metric.compared:
            by_column[metric.estimated] = plain
            by_column[metric.error] = _style_id(sheet, number_format=ERROR_FORMAT)
        if metric.low is not None:
            by_column[metric.low] = by_column[metric.high] = plain
    if layout.note_column:
        by_column[layout.note_column] = _style_id(sheet, wrap=True)
    styles = ColumnStyles(by_column, guarded=_style_id(sheet, quote=True))
    return _Streamed(sheet, lambda: section_rows_xml(layout, convention, styles), len(layout.section.rows),
                     layout.last_column, f"A1:{last}{layout.last_row}")


def _error_colours(sheet: Worksheet, cells: str) -> None:
    """Green within GOOD_ERROR, amber within FAIR_ERROR, red beyond; empty errors stay white. Live rules."""
    top_left = cells.split(":")[0]
    tests = (f"ABS({top_left})<{GOOD_ERROR}", f"ABS({top_left})<{FAIR_ERROR}", "TRUE")
    for test, (fill, font) in zip(tests, _ERROR_FILLS):
        rule = FormulaRule(formula=[f"AND(ISNUMBER({top_left}),{test})"], stopIfTrue=True,
                           fill=PatternFill("solid", bgColor=fill), font=Font(color=font))
        sheet.conditional_formatting.add(cells, rule)


def _table_sheet(sheet: Worksheet, headers: tuple[str, ...], rows: list[tuple], empty_line: str) -> _Streamed:
    """A plain filterable table with a frozen header row (Inputs, Unmatched)."""
    wrapped: dict[int, float] = {}
    for index, name in enumerate(headers, start=1):
        _put(sheet, 1, index, name, header=True)
        longest = max((len(str(row[index - 1])) for row in rows[:20_000]), default=0)
        width = min(max(longest, len(name)) + 2, WRAP_WIDTH)
        sheet.column_dimensions[column_letter(index)].width = width
        if longest + 2 > WRAP_WIDTH:        # long formulas and descriptions wrap rather than being cut
            wrapped[index] = width
    sheet.freeze_panes = "A2"
    last = column_letter(len(headers))
    sheet.auto_filter.ref = f"A1:{last}{len(rows) + 1}"
    if not rows:
        _put(sheet, 2, 1, empty_line)
    styles = ColumnStyles({index: _style_id(sheet, wrap=True) for index in wrapped},
                          guarded=_style_id(sheet, quote=True))
    return _Streamed(sheet, lambda: plain_rows_xml(2, rows, styles, wrapped), len(rows), len(headers),
                     f"A1:{last}{len(rows) + 1}")


def _no_runs_summary(sheet: Worksheet) -> None:
    """The Summary of a report compared with no runs: that there is nothing to compare, and how to compare."""
    text_width = 110
    sheet.column_dimensions["A"].width = text_width
    _put(sheet, 1, 1, "No runs to compare", header=True).alignment = Alignment(horizontal="left")
    for row, text in enumerate((NO_RUNS, HOW_TO_COMPARE), start=2):
        _put(sheet, row, 1, text).alignment = _WRAP
        sheet.row_dimensions[row].height = row_height([(text, text_width)])


def _summary_sheet(sheet: Worksheet, layouts: list[SectionLayout], convention: str, caveat: str = ""
                   ) -> dict[str, CachedValue]:
    """One row of live statistics per section and metric compared, the error convention, the colours, `caveat` (that
    the errors are in-sample, where the report's calibration was fitted on the runs compared) and the metrics no run
    carries (Estimated alone: no statistics to give); then the charts' y = x lines, a block of their own with its own
    header below all that, and a scatter chart per metric that has runs.

    Returns the values of its formula cells, by cell ("F2"), for the file to cache.
    """
    cached: dict[str, CachedValue] = {}
    column = {name: index for index, name in enumerate(SUMMARY_HEADERS, start=1)}
    for name, index in column.items():
        _put(sheet, 1, index, name, header=True)
    charted, unmeasured, derived = [], [], {}
    row = 2
    for layout in layouts:
        for metric in layout.metrics:
            if not metric.compared:     # no run carries it: a row of Matched 0 would read as runs missed
                unmeasured.append(f"{layout.sheet_title}: {metric.header}")
                continue
            for name, value in (("Section", layout.sheet_title), ("Metric", metric.spec.title),
                                ("Unit", metric.spec.unit), ("Rows", len(layout.section.rows))):
                _put(sheet, row, column[name], value)
            if metric.spec.derived:     # its errors are the runtime's, not a second metric's: said in its row
                text = f"Measured {metric.spec.title.lower()} is {metric.spec.derived}."
                sheet.cell(row, column["Metric"]).comment = Comment(text, "perfdsl", width=300, height=80)
                derived[metric.spec.title] = metric.spec.derived
            if layout.section.rows:
                worst = f"{column_letter(column['Worst error'])}{row}"
                summary = summarise(layout, metric, convention)
                for name, formula in summary_formulas(layout, metric, worst).items():
                    percent = ERROR_FORMAT if "error" in name else None
                    _formula(sheet, row, column[name], formula, percent)
                    cached[f"{column_letter(column[name])}{row}"] = summary.values[name]
                if any(as_number(r.measured.get(metric.spec.name)) is not None for r in layout.section.rows):
                    charted.append((layout, metric, summary))
            else:
                _put(sheet, row, column["Matched"], 0)
            row += 1
    if row == 2:
        _put(sheet, row, 1, "no sections or metrics to summarise")
        row += 1
    notes = [convention_words(convention),
             f"Colours: green within {GOOD_ERROR:.0%}, amber within {FAIR_ERROR:.0%}, red beyond."]
    if caveat:                      # beside the figures it qualifies, not only on the About sheet
        notes.append(caveat)
    for title, how in derived.items():
        notes.append(f"{title}: the measured value is {how}, so its errors follow the runtime's.")
    if unmeasured:
        notes.append("Not compared (no run compared carries it; the section sheets show its Estimated column alone): "
                     + "; ".join(unmeasured) + ".")
    for offset, text in enumerate(notes, start=1):
        _put(sheet, row + offset, 1, text)
    row += len(notes) + 2           # a blank row after the notes
    # The Metric column holds the charts' metrics with their units too ("Decode throughput (token/s)").
    metric_width = min(40, max([16] + [len(metric.header) + 2 for _, metric, _ in charted]))
    for name, width in (("Section", 18), ("Metric", metric_width), ("Unit", 12), ("Rows", 12), ("Matched", 9),
                        ("Mean |error|", 13), ("Mean error", 12), ("Worst error", 12), ("Worst row", 44)):
        sheet.column_dimensions[column_letter(column[name])].width = width
    sheet.freeze_panes = "A2"
    cached |= _charts(sheet, charted, first_row=row)
    return cached


# The charts' y = x lines: a block below the statistics and their notes, with a header of its own, in the columns
# Section, Metric, Unit and Rows (so the chart's section and metric sit under those headers' widths).
CHART_HEADERS = ("Chart section", "Chart metric", "y = x from", "y = x to")


def _charts(sheet: Worksheet, charted: list, first_row: int) -> dict[str, CachedValue]:
    """Measured (x) against estimated (y), with the y = x line; two charts across, below the table.

    The line's two ends are live MIN/MAX formulas in a block of their own from `first_row` (its header, then a row
    per chart); the charts start two rows below it. Returns the ends' values, by cell.
    """
    cached: dict[str, CachedValue] = {}
    if not charted:
        return cached
    for offset, name in enumerate(CHART_HEADERS, start=1):
        _put(sheet, first_row, offset, name, header=True)
    low_col, high_col = 3, 4
    charts_row = first_row + len(charted) + 2
    for index, (layout, metric, summary) in enumerate(charted):
        helper_row = first_row + 1 + index
        name = f"{layout.sheet_title}: {metric.header}"
        _put(sheet, helper_row, 1, layout.sheet_title)
        _put(sheet, helper_row, 2, metric.header)
        low, high = axis_bounds_formulas(layout, metric)
        _formula(sheet, helper_row, low_col, low, metric.number_format)
        _formula(sheet, helper_row, high_col, high, metric.number_format)
        cached[f"{column_letter(low_col)}{helper_row}"] = summary.low
        cached[f"{column_letter(high_col)}{helper_row}"] = summary.high

        chart = ScatterChart()
        chart.title = name
        chart.style = 13
        chart.height, chart.width = 7.5, 15
        chart.x_axis.delete = chart.y_axis.delete = False   # openpyxl 3.1 hides axes unless told
        scale = chart_scale([value for row in layout.section.rows
                             if as_number(row.measured.get(metric.spec.name)) is not None
                             for value in (row.measured.get(metric.spec.name), row.estimated.get(metric.spec.name))])
        for axis in (chart.x_axis, chart.y_axis):
            if scale is not None:
                axis.scaling.min, axis.scaling.max = scale.low, scale.high
                axis.scaling.logBase = 10 if scale.log else None
                axis.number_format = scale.number_format
        log = ", log scale" if scale is not None and scale.log else ""
        chart.x_axis.title = f"Measured ({metric.spec.unit}{log})"
        chart.y_axis.title = f"Estimated ({metric.spec.unit}{log})"
        chart.legend.position = "b"
        section = sheet.parent[layout.sheet_title]
        rows = {"min_row": FIRST_DATA_ROW, "max_row": layout.last_row}
        points = Series(Reference(section, min_col=metric.estimated, **rows),
                        Reference(section, min_col=metric.measured, **rows), title="Rows")
        points.marker.symbol = "circle"
        points.marker.size = 6
        # Colours set explicitly: without them LibreOffice draws the markers white on white.
        points.marker.graphicalProperties.solidFill = POINT_COLOUR
        points.marker.graphicalProperties.line.solidFill = POINT_COLOUR
        points.graphicalProperties.line.noFill = True
        ends = Reference(sheet, min_col=low_col, max_col=high_col, min_row=helper_row, max_row=helper_row)
        line = Series(ends, ends, title="y = x")
        line.marker.symbol = "none"
        line.graphicalProperties.line.solidFill = LINE_COLOUR
        line.graphicalProperties.line.dashStyle = "dash"
        chart.series += [points, line]
        anchor_row = charts_row + (index // 2) * CHART_ROWS
        anchor_column = 1 if index % 2 == 0 else 8
        sheet.add_chart(chart, f"{column_letter(anchor_column)}{anchor_row}")
    # Page breaks between rows of charts, so that a printed chart is never cut: as many rows of charts as fit
    # under the table on the first page, then CHARTS_PER_PAGE a page.
    rows_of_charts = (len(charted) + 1) // 2
    on_first_page = max(0, (PAGE_ROWS - charts_row + 1) // CHART_ROWS)
    for start in range(on_first_page, rows_of_charts, CHARTS_PER_PAGE // 2):
        sheet.row_breaks.append(Break(id=charts_row + start * CHART_ROWS - 1))
    return cached


def _plots_sheet(sheet: Worksheet, pictures) -> None:
    """The pictures one below the other, each under its title, a page each when printed."""
    row = 1
    for index, picture in enumerate(pictures):
        if index:
            sheet.row_breaks.append(Break(id=row - 1))
        _put(sheet, row, 1, picture.title).font = _HEADER_FONT
        image = Image(io.BytesIO(picture.png))
        image.width = PICTURE_WIDTH
        image.height = round(picture.height * PICTURE_WIDTH / picture.width)
        sheet.add_image(image, f"A{row + 1}")
        row += 2 + math.ceil(image.height / 20)          # rows of 15 points are 20 pixels tall


def _about_sheet(sheet: Worksheet, data: WorkbookData) -> None:
    lines = about_lines(data, f"perfdsl {__version__}")
    text_width = 110
    for row, (label, text) in enumerate(lines, start=1):
        _label(_put(sheet, row, 1, label))
        _put(sheet, row, 2, text).alignment = _WRAP
        # Spreadsheets keep the default height of a row written without one, and wrapped text then runs
        # into the next row (LibreOffice's PDF export shows it): give each row the lines its text needs.
        sheet.row_dimensions[row].height = row_height([(text, text_width)])
    sheet.column_dimensions["A"].width = 12
    sheet.column_dimensions["B"].width = text_width


# ---- writing the file ----------------------------------------------------------------------------------------

_DIMENSION = re.compile(r'<dimension ref="[^"]*"\s*/>')


def _save(workbook: Workbook, streamed: list[_Streamed], cached: _Cached, out: BinaryIO,
          progress: Callable[[int, int], None] | None) -> None:
    """Save the frame, then copy it into `out`, splicing each streamed sheet's rows in before `</sheetData>` and
    writing the `cached` values into the frame's formula cells."""
    frame = io.BytesIO()
    workbook.save(frame)
    by_member = {s.sheet.path.lstrip("/"): s for s in streamed}
    cached_by_member = {sheet.path.lstrip("/"): values for sheet, values in cached.items() if values}
    total = sum(s.count for s in streamed)
    done = 0
    report = progress or (lambda done, total: None)
    report(0, total)
    with zipfile.ZipFile(frame) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename in cached_by_member:
                body = cached_formula_values(body.decode("utf-8"), cached_by_member[info.filename]).encode("utf-8")
            sheet = by_member.get(info.filename)
            if sheet is None:
                target.writestr(info.filename, body)
                continue
            head, tail = _split_at_rows_end(body.decode("utf-8"), sheet.extent)
            # ZIP64 only when the sheet may pass 2 GiB: some readers still stumble over it.
            big = sheet.count * sheet.columns * 120 > 2**31
            with target.open(info.filename, "w", force_zip64=big) as member:
                member.write(head.encode("utf-8"))
                batch: list[str] = []
                for xml in sheet.rows():
                    batch.append(xml)
                    if len(batch) == PROGRESS_EVERY:
                        member.write("".join(batch).encode("utf-8"))
                        done += len(batch)
                        batch.clear()
                        report(done, total)
                member.write("".join(batch).encode("utf-8"))
                done += len(batch)
                member.write(tail.encode("utf-8"))
    report(done, total)


def _split_at_rows_end(xml: str, extent: str) -> tuple[str, str]:
    end = xml.rfind("</sheetData>")
    if end < 0:
        raise RuntimeError("internal error: the workbook frame has a sheet without header rows")
    return _DIMENSION.sub(f'<dimension ref="{extent}"/>', xml[:end], count=1), xml[end:]


def _write_atomically(target: Path, write: Callable[[BinaryIO], None]) -> None:
    """Through output.atomic_output: a hidden temporary file beside the target, removed on any exit."""
    with atomic_output(target, binary=True) as out:
        write(out)
