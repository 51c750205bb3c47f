"""The Summary sheet's statistics: live formulas over the section sheets' Error columns, and the values they give.

Every formula is written with the value Python computes for it (its cached value), as the section sheets' Error
cells are: viewers that do not recalculate (file previews, mail attachments, pandas and openpyxl with
`data_only=True`) show the numbers, and Excel or LibreOffice recalculate on opening (the workbook asks for a full
calculation on load). The values follow the formulas' arithmetic step by step, so a spreadsheet that recalculates
shows the same numbers. Never imports openpyxl: `cached_formula_values` edits the sheet XML openpyxl wrote.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Mapping

from .comparison import relative_error
from .workbook_layout import (FIRST_DATA_ROW, MetricColumns, SectionLayout, _escape, as_number, clean_text)

CachedValue = bool | float | int | str


# ---- formulas --------------------------------------------------------------------------------------------------

def summary_formulas(layout: SectionLayout, metric: MetricColumns, worst_cell: str) -> dict[str, str]:
    """Formulas over one metric's Error column, keyed by the Summary sheet's headers.

    Only functions every spreadsheet engine evaluates (COUNT, SUMIF, AVERAGE, MAX, MIN, INDEX, MATCH): no array
    formulas. COUNT, SUMIF and AVERAGE skip the empty-text errors of rows without a run. `worst_cell` is the
    Summary cell holding the worst error, which the "Worst row" label looks up.
    """
    errors = layout.column_range(metric.error)
    count = f"COUNT({errors})"
    position = f"MATCH({worst_cell},{errors},0)"
    named_by = label_columns(layout)
    if named_by:
        label = '&" / "&'.join(f"INDEX({layout.column_range(index)},{position})" for index in named_by)
    else:
        label = f'"row "&({position}+{FIRST_DATA_ROW - 1})'
    return {
        "Matched": f"={count}",
        "Mean |error|": f'=IF({count}=0,"",(SUMIF({errors},">0")-SUMIF({errors},"<0"))/{count})',
        "Mean error": f'=IF({count}=0,"",AVERAGE({errors}))',
        "Worst error": f'=IF({count}=0,"",IF(MAX({errors})>=-MIN({errors}),MAX({errors}),MIN({errors})))',
        "Worst row": f'=IF({worst_cell}="","",{label})',
    }


def axis_bounds_formulas(layout: SectionLayout, metric: MetricColumns) -> tuple[str, str]:
    """The two ends of a chart's y = x line: the smallest and largest value on either axis of the points the chart
    draws, the rows with both a measured and an estimated value (an estimate without a run is not a point, and
    stretched the line past the points: the A6000 estimates of the seed report).

    MINIFS and MAXIFS (Excel 2019 and 365, LibreOffice 5.2, the `formulas` engine) pick those rows without an array
    formula; a file names them `_xlfn.MINIFS`, as Excel writes functions newer than its 2007 format. Both give 0
    where no row has both."""
    measured, estimated = layout.column_range(metric.measured), layout.column_range(metric.estimated)
    ends = []
    for outer, inner in (("MIN", "_xlfn.MINIFS"), ("MAX", "_xlfn.MAXIFS")):
        ends.append(f"={outer}({inner}({measured},{estimated},{ANY_NUMBER}),"
                    f"{inner}({estimated},{measured},{ANY_NUMBER}))")
    return ends[0], ends[1]


# The criterion "the other cell holds a number": an empty or text cell never meets a numeric criterion, and every
# finite number exceeds -1E+307. ("<>", not empty, means the same in Excel, but the `formulas` engine that the tests
# recalculate with reads it otherwise.)
ANY_NUMBER = '">-1E+307"'


# ---- the values the formulas give ----------------------------------------------------------------------------

@dataclass
class MetricSummary:
    """What the formulas of one metric's Summary row and chart give: `values` keyed like `summary_formulas`, and
    the y = x line's ends `low` and `high` (`axis_bounds_formulas`)."""

    values: dict[str, CachedValue]
    low: float
    high: float


def summarise(layout: SectionLayout, metric: MetricColumns, convention: str) -> MetricSummary:
    """What `summary_formulas` and `axis_bounds_formulas` evaluate to; "" where a formula shows an empty cell.

    The Error column holds `comparison.relative_error` of each row (the value its cell caches), so these are the
    formulas' steps on those numbers: COUNT of the numeric errors; (SUMIF >0 - SUMIF <0) / COUNT; AVERAGE; the
    larger of MAX and -MIN, signed; the label of the first row holding it (MATCH with 0 finds the first); MIN and
    MAX of the Measured and Estimated numbers of the rows that have both (0 where none has). One pass over the
    rows: a 100,000-row section is summarised in about 0.1 s a metric.
    """
    name = metric.spec.name
    pairs = [(as_number(row.estimated.get(name)), as_number(row.measured.get(name))) for row in layout.section.rows]
    numbers = [number for pair in pairs if None not in pair for number in pair]
    low, high = (min(numbers), max(numbers)) if numbers else (0, 0)
    errors = [relative_error(estimated, measured, convention) for estimated, measured in pairs]
    numeric = [error for error in errors if error is not None]
    if not numeric:
        return MetricSummary({"Matched": 0, "Mean |error|": "", "Mean error": "", "Worst error": "",
                              "Worst row": ""}, low, high)
    count = len(numeric)
    above = sum(error for error in numeric if error > 0)
    below = sum(error for error in numeric if error < 0)
    largest, smallest = max(numeric), min(numeric)
    worst = largest if largest >= -smallest else smallest
    position = errors.index(worst)
    named_by = label_columns(layout)
    if named_by:
        identity = layout.section.rows[position].identity
        label = " / ".join(excel_text(identity.get(layout.section.id_columns[index - 1])) for index in named_by)
    else:
        label = f"row {position + FIRST_DATA_ROW}"
    return MetricSummary({"Matched": count, "Mean |error|": (above - below) / count, "Mean error": sum(numeric) / count,
                          "Worst error": worst, "Worst row": label}, low, high)


def label_columns(layout: SectionLayout) -> list[int]:
    """The identifying columns (1-based) that name the worst row: all but the flags (`memory.fits`: a column of
    TRUE / FALSE describes a row, it does not name it)."""
    rows = layout.section.rows
    return [index for index, name in enumerate(layout.section.id_columns, start=1)
            if not all(isinstance(row.identity.get(name), bool) for row in rows)]


def excel_text(value: object) -> str:
    """A cell's value as Excel's `&` turns it into text: TRUE/FALSE, whole numbers without a point, other numbers
    to 15 significant digits with Excel's exponent (1E-10); "" for an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        number = float(value)
        if not math.isfinite(number):
            return ""
        if number == int(number) and abs(number) < 1e15:
            return str(int(number))
        text = f"{number:.15g}"
        if "e" in text:
            mantissa, exponent = text.split("e")
            text = f"{mantissa}E{exponent[0]}{exponent[1:].lstrip('0').zfill(2)}"
        return text
    return clean_text(value)


# ---- writing the values into openpyxl's sheet XML ------------------------------------------------------------

# openpyxl writes a formula cell as <c r="E2" s="3"><f>...</f><v /></c>, with no way to give its value.
_FORMULA_CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"([^>]*)><f>([^<]*)</f><v\s*/></c>')


def cached_formula_values(xml: str, values: Mapping[str, CachedValue]) -> str:
    """`xml` (a worksheet part) with the value of each formula cell named in `values` ({"E2": 0.12, ...}) cached.

    Numbers are written as Python's shortest round-trip text, booleans with t="b", text with t="str" (what Excel
    writes for a formula that gives text). Cells not named keep an empty value. Raises RuntimeError (a bug in
    perfdsl) where a named cell is not a formula cell of `xml`.
    """
    found = set()

    def cache(match: re.Match[str]) -> str:
        reference, attributes, formula = match.groups()
        if reference not in values:
            return match.group(0)
        found.add(reference)
        value = values[reference]
        if isinstance(value, bool):
            return f'<c r="{reference}"{attributes} t="b"><f>{formula}</f><v>{int(value)}</v></c>'
        if isinstance(value, str):
            return f'<c r="{reference}"{attributes} t="str"><f>{formula}</f><v>{_escape(clean_text(value))}</v></c>'
        return f'<c r="{reference}"{attributes}><f>{formula}</f><v>{value!r}</v></c>'

    xml = _FORMULA_CELL.sub(cache, xml)
    if missing := set(values) - found:
        raise RuntimeError(f"internal error: no formula cell {sorted(missing)} to cache a value in")
    return xml
