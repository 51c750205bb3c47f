"""How an Inputs sheet shows a cell's figure, in the ordinary workbook (workbook_export) and the live one
(workbook_live_plan) alike: the unit it is written in and the number in that unit, so that both sheets give one
figure the same value, unit and formula (`mem_bw = 64 TB/s / 8` is 8 TB/s on both).
"""

from __future__ import annotations

from . import ir
from .linker import walk
from .units import DIMENSIONLESS, auto_unit, parse_unit


def display_unit(cell: ir.Cell, dim, magnitude: float, hertz: bool = False) -> tuple[str, float]:
    """(unit, its factor to SI) for a cell's numbers on the Inputs sheet (this workbook's and the live one's): the
    unit its literal is written in (a number, a negated one, or a swept list whose numbers all carry the same unit),
    or that every number of a formula of constants is written in where it is the cell's own dimension (`64 TB/s / 8`
    is 8 TB/s, `2 * 3350 GB/s` 6700 GB/s: the figure in the datasheet's unit, not 6.7 TB/s), else a readable unit
    for `magnitude` (in SI; a quantity per second in Hz where `hertz` says the cell is a clock, else in 1/s:
    hertz.cell_in_hertz), else none for a dimensionless number."""
    literals = (cell.expr.items if isinstance(cell.expr, ir.ListExpr) else (cell.expr,)) \
        if cell.expr is not None else ()
    units = {getattr(literal.operand if isinstance(literal, ir.Unary) else literal, "unit", None)
             for literal in literals}
    if len(units) == 1 and (written := units.pop()) is not None:
        return written, parse_unit(written).scale
    if dim is None or dim == DIMENSIONLESS:
        return "", 1.0
    written = constant_formula_unit(cell.expr)
    if written is not None and parse_unit(written).dim == dim:
        return written, parse_unit(written).scale
    return auto_unit(dim, magnitude, hertz)


def constant_formula_unit(expr: ir.Expr | None) -> str | None:
    """The one unit the numbers of a formula that reads no other cell are written in (`GB/s` of `128 GB/s / 2`),
    else None: a formula that reads a cell, numbers of two units, or none with a unit; a sweep's list or range (its
    unit is display_unit's)."""
    if expr is None or expr.kind in ("list", "range", "tuple"):
        return None
    units = set()
    for node in walk(expr):
        if node.kind == "ref":
            return None
        if node.kind == "num" and node.unit:
            units.add(node.unit)
    return units.pop() if len(units) == 1 else None


def plain_number(value: float) -> float | int:
    """`value` to 15 significant digits (a float's exact decimal range), so that scaling to the display unit adds no
    visible noise (768e9 / 1e9 is 768, not 767.9999999999999), as an int where it is whole and below 1e15."""
    rounded = float(f"{value:.15g}")
    return int(rounded) if rounded.is_integer() and abs(rounded) < 1e15 else rounded
