"""Workbook stage, pure part: where everything goes in the exported workbook, and the XML of its big sheets.

`perfdsl.workbook` builds the workbook's frame with openpyxl (headers, merged group headers, styles, filters,
conditional colours, charts, the small sheets). openpyxl spends about 20 microseconds on every cell it writes, too
slow for a report of 100,000 rows, so the rows of the big sheets are rendered here as SpreadsheetML text and spliced
into that frame. This module decides the geometry both halves share (which column holds what, which formula goes in
which cell, which number format a metric gets) and never imports openpyxl.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Sequence

from .comparison import MetricSpec, Section, WorkbookData, relative_error

HEADER_ROWS = 2                  # group headers ("Runtime (ms)"), then column headers ("Measured" ...)
FIRST_DATA_ROW = HEADER_ROWS + 1
EXCEL_MAX_ROWS = 1_048_576
# The rows `perfdsl eval -o FILE.xlsx` writes at most: a workbook is for people to read. 100,000 rows write in
# about 6 s on the 2-core machine (benchmarks/bench_workbook.py: < 10 s); the capacity-planning sweep's 884,520 rows
# made a 225 MB workbook in 65 s (issue 10). Above it, eval refuses and names CSV, JSON Lines and questions.
XLSX_ROW_LIMIT = 100_000
EXCEL_MAX_TEXT = 32_767          # characters in one cell
SHEET_TITLE_MAX = 31

# Error colours: within 5% is good, within 15% is usable, beyond that the estimate needs work.
GOOD_ERROR = 0.05
FAIR_ERROR = 0.15

ERROR_FORMAT = "0.00%"

# Characters Excel forbids in sheet names, and those XML 1.0 forbids anywhere.
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_XML_ILLEGAL = re.compile(r"[\000-\010\013\014\016-\037]")
# Text starting with these is a formula to Excel (or to a user who edits the cell): it must stay text.
FORMULA_TRIGGERS = ("=", "+", "-", "@")


def column_letter(index: int) -> str:
    """1 -> 'A', 27 -> 'AA'."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def clean_text(value: object) -> str:
    """Text as a cell can hold it: no characters XML forbids, no more than Excel's limit per cell."""
    text = _XML_ILLEGAL.sub("\ufffd", str(value))
    if len(text) > EXCEL_MAX_TEXT:
        text = text[:EXCEL_MAX_TEXT - 1] + "\u2026"
    return text


def looks_like_formula(text: str) -> bool:
    """True where Excel (or a user editing the cell) would read `text` as a formula: it starts with =, +, - or @
    (FORMULA_TRIGGERS)."""
    return text.startswith(FORMULA_TRIGGERS)


def as_number(value: object) -> float | None:
    """A metric value as a float; None for a missing value and for NaN or infinity, which Excel cannot store."""
    if type(value) is float:               # the common case, kept fast: x - x is 0 only for finite x
        return value if value - value == 0.0 else None
    if value is None or isinstance(value, bool):
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


# ---- sheet names ---------------------------------------------------------------------------------------------

def sheet_titles(wanted: Sequence[str], reserved: Iterable[str] = ()) -> list[str]:
    """Excel-safe, unique sheet names for `wanted`, avoiding the names in `reserved` (compared ignoring case)."""
    taken = {name.casefold() for name in reserved} | {"history"}  # Excel reserves "History"
    titles = []
    for raw in wanted:
        # Apostrophes inside a name need doubling in every formula that names the sheet, and some formula
        # engines get that wrong: a typographic one reads the same and needs nothing.
        base = _SHEET_FORBIDDEN.sub("-", clean_text(raw)).strip().strip("'").replace("'", "\u2019") or "Section"
        base = base[:SHEET_TITLE_MAX]
        title, n = base, 1
        while title.casefold() in taken:
            n += 1
            suffix = f" ({n})"
            title = base[:SHEET_TITLE_MAX - len(suffix)] + suffix
        taken.add(title.casefold())
        titles.append(title)
    return titles


def sheet_ref(title: str) -> str:
    """The sheet's name as formulas quote it: 'Single GPU'."""
    return "'" + title.replace("'", "''") + "'"


# ---- section sheets ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MetricColumns:
    """Where one metric's columns are (1-based) and how its numbers look.

    The comparison layout (a report compared with runs) gives each metric Measured, Estimated and Error; with a
    calibration's spread, Estimated low and Estimated high sit between Estimated and Error. The estimates-only
    layout (a report compared with no runs: nothing to measure, no error to compute) gives it Estimated alone, with
    low and high beside it where a spread gives them: `measured` and `error` are then None."""

    spec: MetricSpec
    measured: int | None
    estimated: int
    error: int | None
    number_format: str
    low: int | None = None
    high: int | None = None

    @property
    def compared(self) -> bool:
        """True in the comparison layout (Measured and Error columns), False in the estimates-only one."""
        return self.error is not None

    @property
    def first(self) -> int:
        """The group's leftmost column: Measured, or Estimated where there is no Measured column."""
        return self.estimated if self.measured is None else self.measured

    @property
    def last(self) -> int:
        """The group's rightmost column: Error, or the last estimate column where there is no Error column."""
        return self.error if self.error is not None else (self.high or self.estimated)

    @property
    def value_columns(self) -> list[tuple[int, str]]:
        """(column, header) of the group's columns, left to right."""
        named = [(self.measured, "Measured")] if self.measured is not None else []
        named.append((self.estimated, "Estimated"))
        if self.low is not None:
            named += [(self.low, "Estimated low"), (self.high, "Estimated high")]
        return named + ([(self.error, "Error")] if self.error is not None else [])

    @property
    def header(self) -> str:
        """The metric's group header: "Title (unit)", or the title alone for a metric without a unit."""
        return f"{self.spec.title} ({self.spec.unit})" if self.spec.unit else self.spec.title


@dataclass
class SectionLayout:
    """One section's sheet: id columns first, then each metric's group of columns, then the audit columns."""

    section: Section
    sheet_title: str
    metrics: list[MetricColumns]
    source_column: int | None          # "Run source", when any row names one
    point_column: int | None           # "Point", when any row carries its sweep point
    widths: dict[int, float] = field(default_factory=dict)
    note_column: int | None = None     # "Note", when any row's estimate is known to miss

    @property
    def id_count(self) -> int:
        """How many identifying columns the sheet starts with."""
        return len(self.section.id_columns)

    @property
    def last_column(self) -> int:
        """The last column (1-based) the sheet uses: the rightmost of the id, metric and audit columns."""
        return max([self.id_count, self.source_column or 0, self.point_column or 0, self.note_column or 0]
                   + [m.last for m in self.metrics] + [1])

    @property
    def last_row(self) -> int:
        """The last data row; the last header row when the section has no rows."""
        return HEADER_ROWS + len(self.section.rows)

    def column_range(self, column: int) -> str:
        """The data cells of one column as other sheets' formulas name them: 'Single GPU'!$E$3:$E$8."""
        letter = column_letter(column)
        return f"{sheet_ref(self.sheet_title)}!${letter}${FIRST_DATA_ROW}:${letter}${self.last_row}"


def plan_section(section: Section, sheet_title: str, compared: bool = True) -> SectionLayout:
    """The layout of one section's sheet titled `sheet_title`: the id columns, then per metric Measured, Estimated (and
    Estimated low and high where some row has bounds) and Error, with a number format from the metric's spec or its
    values (number_format_for); then Run source, Point and Note where some row has one; and the column widths.

    `compared` False (a report compared with no runs: WorkbookData.runs_given) gives the estimates-only layout: per
    metric Estimated (and low and high) alone, no Measured or Error column, which would be empty on every row; so
    does a metric no run compared carries (MetricSpec.measured False) in the comparison layout."""
    metrics = []
    column = len(section.id_columns)
    sample = section.rows[:5_000]      # enough to see a column's magnitude
    for spec in section.metrics:
        values = [row.measured.get(spec.name) for row in sample]
        values += [row.estimated.get(spec.name) for row in sample]
        fmt = spec.number_format or number_format_for(values)
        spread = any(spec.name in row.bounds for row in section.rows)
        if not compared or not spec.measured:
            low, high = (column + 2, column + 3) if spread else (None, None)
            metrics.append(MetricColumns(spec, None, column + 1, None, fmt, low, high))
            column += 3 if spread else 1
        elif spread:
            metrics.append(MetricColumns(spec, column + 1, column + 2, column + 5, fmt, column + 3, column + 4))
            column += 5
        else:
            metrics.append(MetricColumns(spec, column + 1, column + 2, column + 3, fmt))
            column += 3
    source_column = point_column = None
    if any(row.run_source for row in section.rows):
        column += 1
        source_column = column
    if any(row.point for row in section.rows):
        column += 1
        point_column = column
    note_column = None
    if any(row.note for row in section.rows):
        column += 1
        note_column = column
    layout = SectionLayout(section, sheet_title, metrics, source_column, point_column, note_column=note_column)
    layout.widths = _section_widths(layout)
    return layout


def number_format_for(values: Iterable[object], sample: int = 10_000) -> str:
    """A number format that shows at least three significant digits of every value of the column (of a sample).

    Decimals from the smallest value: two from 1 up (runtime 693.77 ms, memory 5.53 GB), one more per decade below
    that (GPU time 0.000646 s/token -> 0.000000, so that 0.000752 and 0.000646 do not both read 0.0008 and 0.0006);
    scientific (1.31E-05) where that would take more than six decimals or where the column spans four decades or
    more below 1 (0.002 .. 3300: 3300.00000 would hide the small values' digits among the large ones' zeros); and
    thousands separators where a typical value is a million or more and the smallest has three digits before the
    point or every value is whole (2,500,000,000).
    """
    magnitudes = []
    for value in values:
        number = as_number(value)
        if number:
            magnitudes.append(abs(number))
            if len(magnitudes) >= sample:
                break
    if not magnitudes:
        return "0.00"
    magnitudes.sort()
    smallest, typical, largest = magnitudes[0], magnitudes[len(magnitudes) // 2], magnitudes[-1]
    if typical >= 1e6:
        whole = all(magnitude == int(magnitude) for magnitude in magnitudes)
        return "#,##0" if smallest >= 100 or whole else SCIENTIFIC
    decimals = max(2, 2 - math.floor(math.log10(smallest)))
    if decimals > 6 or (decimals > 2 and largest >= smallest * 1e4):
        return SCIENTIFIC
    return "0." + "0" * decimals


SCIENTIFIC = "0.00E+00"


def _section_widths(layout: SectionLayout, sample: int = 20_000) -> dict[int, float]:
    """Column widths (in characters) from the headers and a sample of the values, within readable bounds."""
    rows = layout.section.rows[:sample]
    widths: dict[int, float] = {}
    for index, name in enumerate(layout.section.id_columns, start=1):
        longest = max((len(str(row.identity.get(name, ""))) for row in rows), default=0)
        widths[index] = _bounded(max(longest, len(name)) + 2, 8, 48)
    for metric in layout.metrics:
        widths[metric.estimated] = 12
        if metric.compared:
            widths[metric.measured] = 12
            widths[metric.error] = 10
        if metric.low is not None:
            widths[metric.low] = widths[metric.high] = 12
        elif not metric.compared:      # a one-column group: its header ("Energy per token (J/token)") on one line
            widths[metric.estimated] = _bounded(len(metric.header) + 2, 12, 30)
    if layout.source_column:
        longest = max((len(row.run_source or "") for row in rows), default=0)
        widths[layout.source_column] = _bounded(longest + 2, 12, 60)
    if layout.point_column:
        longest = max((len(point_text(row.point)) for row in rows), default=0)
        widths[layout.point_column] = _bounded(longest + 2, 10, 60)
    if layout.note_column:
        widths[layout.note_column] = NOTE_WIDTH     # long reasons wrap: see note_row_height
    return widths


NOTE_WIDTH = 50
LINE_HEIGHT = 15.0               # points per line of 11-point text (Excel's default row height)


def wrapped_lines(text: str, width: float) -> int:
    """How many lines `text` takes wrapped in a column `width` characters wide (a little pessimistic, so that a
    row made this tall never cuts its text: proportional fonts fit more than `width` average characters)."""
    lines = 0
    # A column `width` wide holds `width` zeros of the default font; English text averages narrower letters
    # (about 0.85 of a zero in Calibri and in LibreOffice's Carlito), so about 1.1 x width characters a line.
    per_line = max(width * 1.1 - 2, 1)
    for paragraph in str(text).split("\n"):
        lines += max(1, math.ceil(len(paragraph) / per_line))
    return lines


def row_height(texts: Iterable[tuple[str, float]]) -> float:
    """The height (points) of a row whose wrapped cells hold `texts` as (text, column width) pairs."""
    return LINE_HEIGHT * max((wrapped_lines(text, width) for text, width in texts), default=1)


def _bounded(value: float, low: float, high: float) -> float:
    return float(min(max(value, low), high))


def point_text(point: dict[str, object]) -> str:
    """A sweep point as text: "axis=value, axis=value" in the point's order."""
    return ", ".join(f"{axis}={value}" for axis, value in point.items())


def error_formula(metric: MetricColumns, row: int, convention: str) -> str:
    """The live Error formula of one row, empty text where either value is missing (or the base is zero)."""
    return "=" + str(row).join(error_formula_pieces(metric, convention))


def error_formula_pieces(metric: MetricColumns, convention: str) -> list[str]:
    """The Error formula split where the row number goes, so `str(row).join(pieces)` renders one row quickly."""
    measured, estimated = column_letter(metric.measured), column_letter(metric.estimated)
    base = measured if convention == "measured" else estimated
    return f'IF(OR({measured}#="",{estimated}#="",{base}#=0),"",({estimated}#-{measured}#)/{base}#)'.split("#")


# What a workbook of a report compared with no runs says about itself (About's Layout line, the Summary sheet).
NO_RUNS = ("No runs were compared: no run logs were given (a `measured` cell in the report, --measured or "
           "--add-measured), so each metric shows its Estimated column alone (with Estimated low / high where a "
           "calibration gives a spread): no Measured or Error column, no error statistics or charts.")
HOW_TO_COMPARE = ("For the comparison layout (Measured, Estimated and a live Error per metric; error statistics and "
                  "charts on the Summary sheet), name runs: `measured = \"runs.csv\"` in the report, or "
                  "perfdsl eval REPORT --add-measured runs.csv -o FILE.xlsx.")


def about_lines(data: WorkbookData, writer: str) -> list[tuple[str, str]]:
    """The About sheet: (label, text) lines. A report compared with runs (`data.runs_given`) gets the comparison
    layout's lines (the error convention, the colours); one compared with none says it shows estimates only and how
    to get the comparison."""
    if data.runs_given:
        layout = [
            ("Error", convention_words(data.error_convention)),
            ("Colours", f"Error cells: green within {GOOD_ERROR:.0%}, amber within {FAIR_ERROR:.0%}, red beyond; "
                        "empty where a row has no measured run."),
        ]
        columns = "Measured, Estimated and a live Error formula per metric"
        unmeasured = _unmeasured(data)
        if unmeasured:
            columns += (f" (Estimated alone for {', '.join(unmeasured)}: no run compared carries "
                        f"{'it' if len(unmeasured) == 1 else 'them'})")
        summary = "live error statistics and charts"
    else:
        layout = [("Layout", f"Estimates only. {NO_RUNS} {HOW_TO_COMPARE}")]
        columns = "Estimated per metric, with Estimated low / high where a calibration gives a spread"
        summary = "says there are no runs to compare"
    lines = [
        ("Report", data.report_name),
        ("Written by", writer),
        *layout,
        ("Sheets", f"one per section ({columns}, and a Note where a "
                   "row's estimate is known to miss)" + ("; Setup (the workload, precision, stack and cost model of "
                   "each section)" if any(s.setup for s in data.sections) else "") + f"; Summary ({summary})"
                   + ("; Plots (rooflines and the charts a spreadsheet cannot "
                   "draw, as pictures)" if data.pictures else "")
                   + ("; Inputs (every spec cell used)" if data.inputs is not None or data.live is not None else "")
                   + ("; Unmatched (runs and estimates that found no partner)" if data.runs_given else "")
                   + "; About."),
    ]
    return lines + [("Note" if index == 0 else "", note) for index, note in enumerate(data.notes)]


def _unmeasured(data: WorkbookData) -> list[str]:
    """The titles of the metrics of the sections (once each) that no run compared carries (MetricSpec.measured), with
    the unit, as their column group's header says, where another metric has the same title (one name shown in two
    units, or a label on cells of two dimensions: `show t in ms, x in token/s as t`)."""
    specs = list({spec.name: spec for section in data.sections for spec in section.metrics}.values())
    titles = [spec.title for spec in specs]
    return [f"{spec.title} ({spec.unit})" if titles.count(spec.title) > 1 and spec.unit else spec.title
            for spec in specs if not spec.measured]


def convention_words(convention: str) -> str:
    """The About sheet's sentence for the error convention: "measured" ((estimated - measured) / measured) or, for any
    other value, "estimated" ((estimated - measured) / estimated)."""
    if convention == "measured":
        return ("Error = (estimated - measured) / measured: the usual convention; "
                "+10% means the estimate is 10% above the measured value.")
    return ("Error = (estimated - measured) / estimated: the seed benchmark table's convention; "
            "+10% means the measured value is 10% below the estimate.")


# ---- sheet rows as SpreadsheetML -----------------------------------------------------------------------------

@dataclass(frozen=True)
class ColumnStyles:
    """Style indexes (into the workbook's cellXfs; 0 = default) for the cells of a streamed sheet: one per column
    that needs one, and `guarded`, the quote-prefix style for text that starts like a formula (Excel then keeps
    it text even when someone edits the cell)."""

    by_column: dict[int, int]
    guarded: int


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _style_attr(style: int) -> str:
    return f' s="{style}"' if style else ""


def cell_tail(value: object, style: int, guarded_style: int) -> str:
    """A cell's XML after its reference (`<c r="A3` + tail); empty for no value.

    Numbers stay numbers (NaN and infinity become empty cells); everything else is an inline string, shown exactly
    as given and never evaluated, even when it starts with '=' (it may come from a log or a spec). Such text also
    gets the quote-prefix style, so Excel keeps it text when someone edits the cell.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return f'"{_style_attr(style)} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, numbers.Integral):
        return f'"{_style_attr(style)}><v>{int(value)}</v></c>'
    if isinstance(value, numbers.Real):
        number = as_number(value)
        return f'"{_style_attr(style)}><v>{number!r}</v></c>' if number is not None else ""
    text = clean_text(value)
    if looks_like_formula(text):
        style = guarded_style
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'"{_style_attr(style)} t="inlineStr"><is><t{space}>{_escape(text)}</t></is></c>'


class _ColumnCells:
    """Renders one column's cells, remembering the XML of each distinct value: ids repeat (six models, one
    device), so most rows cost a dictionary look-up instead of escaping and styling the text again."""

    def __init__(self, column: int, styles: ColumnStyles, limit: int = 50_000):
        self.letter = column_letter(column)
        self.style, self.guarded_style = styles.by_column.get(column, 0), styles.guarded
        self.limit = limit
        self.tails: dict[tuple[type, object], str] = {}

    def render(self, r: str, value: object) -> str:
        try:
            key = (type(value), value)
            tail = self.tails.get(key)
        except TypeError:                      # an unhashable value: render it, do not remember it
            key, tail = None, None
        if tail is None:
            tail = cell_tail(value, self.style, self.guarded_style)
            if key is not None and len(self.tails) < self.limit:
                self.tails[key] = tail
        return f'<c r="{self.letter}{r}{tail}' if tail else ""

    def formula(self, r: str, formula: str, value: object) -> str:
        """A live cell (--live): its formula, and the value computed for it for viewers that do not recalculate."""
        kind, cached = ((' t="b"', str(int(value))) if isinstance(value, bool) else
                        (' t="str"', _escape(clean_text(value))) if isinstance(value, str) else ("", repr(value)))
        return f'<c r="{self.letter}{r}"{_style_attr(self.style)}{kind}><f>{_escape(formula)}</f><v>{cached}</v></c>'


def _bound_formula(column: _ColumnCells, r: str, estimate: str, bound: float | None, estimated: float) -> str:
    """A live workbook's Estimated low or high: the estimate's cell times the factor that gives `bound` (the spread
    block's factor at the row: intervals.py), its value cached; empty where there is no bound."""
    if bound is None:
        return column.render(r, None)
    # 15 significant digits, as Excel shows them: the factor as the spread block writes it (0.9189, not the
    # quotient's 0.9189000000000002); Excel's recalculation may then differ from the cached bound in the last digit.
    return column.formula(r, f"{estimate}*{bound / estimated:.15g}", bound)


def section_rows_xml(layout: SectionLayout, convention: str, styles: ColumnStyles) -> Iterator[str]:
    """One `<row>` element per comparison row, in order, starting at FIRST_DATA_ROW.

    Error cells (the comparison layout's) carry the live formula plus the value Python computed for it, so viewers
    that do not recalculate (previews, pandas) still show the numbers; Excel recalculates on opening. This loop is
    the exporter's hot path (a million cells for a big sweep): everything that does not depend on the row is
    prepared before it.
    """
    id_cells = [(name, _ColumnCells(index, styles)) for index, name in enumerate(layout.section.id_columns, 1)]
    metric_cells = []
    bound_cells = {}
    for m in layout.metrics:
        e_style = _style_attr(styles.by_column.get(m.estimated, 0))
        if m.compared:
            m_style, x_style = (_style_attr(styles.by_column.get(column, 0)) for column in (m.measured, m.error))
            compared = (f'<c r="{column_letter(m.measured)}', f'"{m_style}><v>',
                        f'<c r="{column_letter(m.error)}', f'"{x_style}><f>', f'"{x_style} t="str"><f>',
                        error_formula_pieces(m, convention))
        else:
            compared = None            # estimates only: no Measured, no Error
        metric_cells.append((m.spec.name, f'<c r="{column_letter(m.estimated)}', f'"{e_style}><v>', compared))
        if m.low is not None:
            bound_cells[m.spec.name] = (_ColumnCells(m.low, styles), _ColumnCells(m.high, styles),
                                        column_letter(m.estimated))
    source = _ColumnCells(layout.source_column, styles) if layout.source_column else None
    point = _ColumnCells(layout.point_column, styles) if layout.point_column else None
    note = _ColumnCells(layout.note_column, styles) if layout.note_column else None
    for row_number, row in enumerate(layout.section.rows, start=FIRST_DATA_ROW):
        r = str(row_number)
        if note and row.note:      # tall enough for the wrapped reason (spreadsheets do not grow streamed rows)
            height = row_height([(row.note, NOTE_WIDTH)])
            cells = ['<row r="', r, f'" ht="{height:g}" customHeight="1">']
        else:
            cells = ['<row r="', r, '">']
        for name, column in id_cells:
            live = row.formulas.get(name) if row.formulas else None
            cells.append(column.formula(r, live, row.identity[name]) if live else
                         column.render(r, row.identity.get(name)))
        for name, e_open, e_close, compared in metric_cells:
            estimated = as_number(row.estimated.get(name))
            if compared is not None:
                m_open, m_close = compared[:2]
                measured = as_number(row.measured.get(name))
                if measured is not None:
                    cells += (m_open, r, m_close, repr(measured), "</v></c>")
            if estimated is not None:
                live = row.formulas.get(name) if row.formulas else None
                if live:      # --live: the estimate is a formula over the Calculation sheet, its value cached
                    cells += (e_open, r, e_close[:-3], "<f>", _escape(live), "</f><v>", repr(estimated), "</v></c>")
                else:
                    cells += (e_open, r, e_close, repr(estimated), "</v></c>")
            if name in bound_cells:
                low, high = row.bounds.get(name, (None, None))
                low_cells, high_cells, estimate_letter = bound_cells[name]
                if estimated and row.formulas and row.formulas.get(name):
                    # --live: the bounds are the estimate times the calibration's factors, and move with it
                    cells += tuple(_bound_formula(bound_column, r, f"{estimate_letter}{r}", as_number(bound), estimated)
                                   for bound_column, bound in ((low_cells, low), (high_cells, high)))
                else:
                    cells += (low_cells.render(r, as_number(low)), high_cells.render(r, as_number(high)))
            if compared is None:
                continue
            x_open, x_close, x_close_text, pieces = compared[2:]
            error = relative_error(estimated, measured, convention)
            if error is None:
                cells += (x_open, r, x_close_text, r.join(pieces), "</f><v></v></c>")
            else:
                cells += (x_open, r, x_close, r.join(pieces), "</f><v>", repr(error), "</v></c>")
        if source:
            cells.append(source.render(r, row.run_source))
        if point:
            cells.append(point.render(r, point_text(row.point)))
        if note:
            cells.append(note.render(r, row.note))
        cells.append("</row>")
        yield "".join(cells)


def plain_rows_xml(first_row: int, rows: Iterable[Sequence[object]], styles: ColumnStyles,
                   wrapped: dict[int, float] | None = None) -> Iterator[str]:
    """Rows of plain values (the Inputs and Unmatched sheets), numbers as numbers, the rest as text.

    `wrapped` maps a (1-based) column whose text wraps to its width: a row whose text there needs more than one
    line is made that tall (spreadsheets do not grow rows written with the file)."""
    columns: dict[int, _ColumnCells] = {}
    wrapped = wrapped or {}
    for row_number, values in enumerate(rows, start=first_row):
        r = str(row_number)
        height = row_height([(str(values[i - 1]), width) for i, width in wrapped.items()]) if wrapped else 0
        cells = ['<row r="', r, f'" ht="{height:g}" customHeight="1">' if height > LINE_HEIGHT else '">']
        for index, value in enumerate(values, start=1):
            column = columns.get(index) or columns.setdefault(index, _ColumnCells(index, styles))
            cells.append(column.render(r, value))
        cells.append("</row>")
        yield "".join(cells)


# ---- the Summary sheet's charts ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChartScale:
    """One chart axis: log or linear, its fixed ends, and the number format of its ticks."""

    log: bool
    low: float
    high: float
    number_format: str


LOG_SPAN = 10.0      # values whose largest is this many times their smallest go on a log axis


def chart_scale(values: Iterable[object]) -> ChartScale | None:
    """Axis ends for a measured-against-estimated chart of `values` (both axes share them, so y = x is the
    diagonal): powers of ten around values spanning a decade or more (log axis), else 0 up to a round number
    above the largest value. A single point gets the same treatment, so it sits on the diagonal of a chart that
    starts at zero instead of one zoomed to a fraction of a percent. None when there is no positive number."""
    numbers = [n for n in (as_number(v) for v in values) if n is not None]
    if not numbers or max(numbers) <= 0:
        return None
    low, high = min(numbers), max(numbers)
    if low > 0 and high >= LOG_SPAN * low:
        low_end, high_end = 10.0 ** math.floor(math.log10(low)), 10.0 ** math.ceil(math.log10(high))
        return ChartScale(True, low_end, high_end, "General")     # 0.001, 0.01, 0.1: no padded zeros
    step = 10.0 ** math.floor(math.log10(high * 1.05))
    top = math.ceil(high * 1.05 / (step / 2)) * (step / 2)
    return ChartScale(False, 0.0 if low >= 0 else low, top, tick_format(top / 10))


def tick_format(smallest_step: float) -> str:
    """Tick labels in the display unit without needless decimals: 2,000 / 20 / 0.5 / 0.002."""
    if smallest_step >= 1:
        return "#,##0"
    decimals = min(max(0, -math.floor(math.log10(smallest_step))), 6)
    return "0." + "0" * decimals
