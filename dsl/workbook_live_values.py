"""Live workbook: the value of every formula on the Inputs, Derived and Calculation sheets, as perfdsl evaluates it.

The file caches them beside the formulas (as the section sheets' estimates and Errors are cached), so that viewers
that do not recalculate (file previews, pandas, openpyxl with `data_only=True`) show the cost model's numbers;
Excel and LibreOffice recalculate on opening and get the same numbers to about 1e-9 (tests/test_workbook_live.py).
Values are SI, as the sheets' formulas compute them; the shown rows are in their display units.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import PerfError
from .evaluator import Evaluator
from .workbook_summary import CachedValue


def cache_live_values(planner, plan, points: list[int]) -> None:
    """Fill `plan`'s cached values: `CalcRow.values` (one per point column, None where the column holds no
    formula), `DerivedRow.value` and `InputRow.si_value`.

    `planner` is workbook_live_plan's planner of `plan` (its program, prepared report, types and links); `points`
    the flat sweep indexes of the point columns. A cell whose evaluation fails or is not finite (a spreadsheet would
    show an error value there) gets None: the file then leaves it to the spreadsheet.
    """
    program, ctx = planner.program, planner.ctx
    evaluator = Evaluator(program.blocks, ctx, program.sources, planner.types, link=planner.link)
    shape = tuple(ctx.shape) if ctx.axes else ()
    # One fancy index picks a cell's value at every point column at once.
    at_points = np.unravel_index(np.asarray(points, dtype=np.intp), shape) if shape else None

    def evaluated(key: tuple[str, str]) -> np.ndarray | None:
        try:
            return np.asarray(evaluator.cell(program.blocks[key[0]], key[1]))
        except PerfError:
            return None

    def at_each_point(key: tuple[str, str]) -> np.ndarray | None:
        """The cell's value at each point column, in column order."""
        value = evaluated(key)
        if value is None:
            return None
        if not shape:
            return np.full(len(points), value.reshape(()), dtype=value.dtype)
        return np.broadcast_to(value, shape)[at_points]

    with np.errstate(all="ignore"):             # a failing step only leaves its cell uncached
        for row in plan.rows:
            if row.cell is None:
                continue
            values = at_each_point(row.cell)
            if values is not None:
                row.values = [cached_value(value) if _is_formula(cell) else None
                              for cell, value in zip(row.cells, values.tolist())]
        for metric, number in plan.shown_rows.items():
            shown = planner.result.display_column(metric, all_points=True)
            row = plan.rows[number - 2]
            row.values = [cached_value(value) if _is_formula(cell) else None
                          for cell, value in zip(row.cells, shown[points].tolist())]
        for derived in plan.derived:
            value = evaluated(derived.cell)
            derived.value = None if value is None else cached_value(value.reshape(-1)[:1].tolist()[0])
    for item in plan.inputs:        # the SI column is =C*E (a number) or =C (text, a boolean)
        item.si_value = cached_value(item.value * item.factor if isinstance(item.value, float) else item.value)


def constant_value(planner, key: tuple[str, str]) -> object | None:
    """The value of a cell of one value for the report (a formula of constants: `64 TB/s / 8`), as perfdsl
    evaluates it: a finite float in SI, a str or a bool; None where its evaluation fails or is not finite (the Inputs
    sheet then has no value to show for it). `planner`: as cache_live_values'; one evaluator serves all its cells."""
    evaluator = getattr(planner, "_constant_evaluator", None)
    if evaluator is None:
        program = planner.program
        evaluator = planner._constant_evaluator = Evaluator(program.blocks, planner.ctx, program.sources,
                                                            planner.types, link=planner.link)
    try:
        with np.errstate(all="ignore"):
            value = np.asarray(evaluator.cell(planner.program.blocks[key[0]], key[1]))
    except PerfError:
        return None
    if value.size != 1:
        return None
    value = cached_value(value.reshape(()).item())
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def cached_value(value: object) -> CachedValue | bool | None:
    """A value as a cell caches it: a bool, a float, a str; None for what a spreadsheet cannot hold as a number
    (NaN, infinity) and for no value."""
    if type(value) is float:                # the common case, kept fast: x - x is 0 only for finite x
        return value if value - value == 0.0 else None
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (str, np.str_)):
        return str(value)
    try:
        number = float(value)      # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    return number if math.isfinite(number) else None


def _is_formula(cell: object) -> bool:
    return isinstance(cell, str) and cell.startswith("=")
