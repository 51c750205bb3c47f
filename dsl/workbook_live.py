"""Live workbook, openpyxl part: writes the Inputs, Derived and Calculation sheets that `workbook_live_plan` plans,
with an Excel defined name for every input and derived cell, into the frame `workbook.write_workbook` builds.

Editable figures (the Inputs sheet's Value column, the axis rows of the Calculation sheet) are filled light yellow,
as spreadsheet models mark their inputs; everything else on these sheets is a formula, written with the value
perfdsl computed for it (workbook_live_values), for the file to cache, or text written through workbook._put, which
keeps a `.perf` formula or a comment that starts with = or - as text.
"""

from __future__ import annotations

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.worksheet import Worksheet

from .workbook import _put
from .workbook_layout import column_letter
from .workbook_summary import CachedValue
from .workbook_live_plan import (CALC_HEADERS, CALCULATION, DERIVED, DERIVED_HEADERS, FIRST_POINT_COLUMN,
                                 INPUT_HEADERS, INPUTS, LivePlan)

_EDITABLE = PatternFill("solid", fgColor="FFF2CC")     # Excel's "input" yellow
_SHOWN = Font(bold=True)


def add_live_sheets(workbook: Workbook, plan: LivePlan) -> dict[Worksheet, dict[str, CachedValue]]:
    """Append the live sheets (Inputs, Derived, Calculation) and define the names their formulas read.

    Returns the values of their formula cells, by sheet and cell ("F2"), for the file to cache (those perfdsl could
    compute; the others are left to the spreadsheet).
    """
    cached = {}
    for title, fill in ((INPUTS, _inputs_sheet), (DERIVED, _derived_sheet), (CALCULATION, _calculation_sheet)):
        sheet = workbook.create_sheet(title)
        values = fill(sheet, plan)
        cached[sheet] = {reference: value for reference, value in values.items() if value is not None}
    for name, ref in plan.names.items():
        workbook.defined_names[name] = DefinedName(name, attr_text=ref)
    return cached


def _headers(sheet: Worksheet, headers: tuple[str, ...], widths: tuple[float, ...]) -> None:
    for index, (name, width) in enumerate(zip(headers, widths), start=1):
        _put(sheet, 1, index, name, header=True)
        sheet.column_dimensions[column_letter(index)].width = width
    sheet.freeze_panes = "B2"


def _inputs_sheet(sheet: Worksheet, plan: LivePlan) -> dict[str, CachedValue | None]:
    _headers(sheet, INPUT_HEADERS, (34, 11, 14, 12, 13, 16, 12, 24, 44, 60))
    values = {}
    for row, item in enumerate(plan.inputs, start=2):
        for column, value in enumerate((item.name, item.kind, item.value, item.unit, item.factor), start=1):
            _put(sheet, row, column, value)
        sheet.cell(row=row, column=3).fill = _EDITABLE
        numeric = isinstance(item.value, float)
        sheet.cell(row=row, column=6, value=f"=C{row}*E{row}" if numeric else f"=C{row}")
        values[f"F{row}"] = item.si_value
        for column, value in ((7, item.si_unit), (8, item.perf), (9, item.source), (10, item.comment)):
            _put(sheet, row, column, value)      # text stays text: a comment may start with = or -
    sheet.auto_filter.ref = f"A1:{column_letter(len(INPUT_HEADERS))}{len(plan.inputs) + 1}"
    return values


def _derived_sheet(sheet: Worksheet, plan: LivePlan) -> dict[str, CachedValue | None]:
    _headers(sheet, DERIVED_HEADERS, (40, 16, 12, 90, 44, 60))
    values = {}
    for row, item in enumerate(plan.derived, start=2):
        _put(sheet, row, 1, item.name)
        sheet.cell(row=row, column=2, value=item.formula)
        values[f"B{row}"] = item.value
        for column, value in ((3, item.unit), (4, item.perf), (5, item.source), (6, item.comment)):
            _put(sheet, row, column, value)
    return values


def _calculation_sheet(sheet: Worksheet, plan: LivePlan) -> dict[str, CachedValue | None]:
    _headers(sheet, CALC_HEADERS, (34, 10, 70, 40))
    for offset, label in enumerate(plan.point_labels):
        column = FIRST_POINT_COLUMN + offset
        _put(sheet, 1, column, label, header=True)
        sheet.column_dimensions[column_letter(column)].width = 16
    shown = set(plan.shown_rows.values())
    values = {}
    for row, item in enumerate(plan.rows, start=2):
        for column, value in enumerate((item.name, item.unit, item.perf, item.source), start=1):
            cell = _put(sheet, row, column, value)
            if row in shown:
                cell.font = _SHOWN
        axis = row - 2 < plan.axis_rows
        for offset, value in enumerate(item.cells):
            if value is None:
                continue
            column = FIRST_POINT_COLUMN + offset
            if isinstance(value, str) and value.startswith("=") and not axis:
                cell = sheet.cell(row=row, column=column, value=value)
                if item.values:
                    values[cell.coordinate] = item.values[offset]
            else:
                cell = _put(sheet, row, column, value)
                cell.fill = _EDITABLE
            if row in shown:
                cell.font = _SHOWN
    sheet.freeze_panes = sheet.cell(row=2, column=FIRST_POINT_COLUMN).coordinate
    return values
