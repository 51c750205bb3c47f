"""What an override or a sweep must keep (part of stage 3c, checking): the type of the cell it replaces.

A block that extends another may override any cell it inherits, with a formula or a sweep; the value keeps the type
of the cell it replaces (docs/LANGUAGE.md, "Blocks"): a number keeps its dimension (or the unit it is declared
with), a string stays a string, a boolean a boolean. This module types a sweep's values as they are written, for a
check without a report (no axis is built there, sweeps.py builds them for a report), and words the errors: the
checker (checker.py) decides when one is due and reports it. Nothing here reports, computes or raises.
"""

from __future__ import annotations

from . import ir
from .linker import source_items
from .near_misses import quoted_quantity_hints
from .units import Dimension
from .vtypes import BOOL, STR, UNKNOWN, VType, num_of

OVERRIDE_KEEPS_DIMENSION = "an override keeps the dimension of the cell it replaces"
OVERRIDE_KEEPS_TYPE = "an override keeps the type of the cell it replaces"

_PLURAL = {"num": "numbers", "str": "strings", "bool": "booleans"}
_WANTED = {"str": "a string", "bool": "a boolean"}


def written_type(expr: ir.Expr) -> VType | None:
    """The type of a literal as written (`300 W`, `-2`, `"x"`, `true`), None for anything else (a formula); unknown
    for a number the parser reported (`300 Watt`)."""
    if isinstance(expr, ir.Unary) and expr.op == "-" and isinstance(expr.operand, ir.Num):
        expr = expr.operand
    if isinstance(expr, ir.Num):       # dim None: a literal the parser reported (an unknown unit)
        return UNKNOWN if expr.dim is None else num_of(expr.dim)
    if isinstance(expr, ir.Str):
        return STR
    if isinstance(expr, ir.Bool):
        return BOOL
    return None


def swept_values_type(cell: ir.Cell, block, blocks: dict) -> VType | None:
    """The type of a sweep's values where each is a literal of one type (`[300 W, 350 W]`, `1 .. 64 by *2`, or a cell
    that holds such a list, followed as sweeps.py follows it), else None: a value that is a formula or names a block
    (a role sweep), or values of several types or dimensions, which the check of a report that binds the block types
    or refuses (error[mixed-sweep], a range's ends) when it builds the axis. `block` is the sweep's Block, `blocks`
    the program's."""
    if cell.expr is None:
        return None
    items = source_items(cell.expr, block, blocks)
    if isinstance(items, ir.RangeExpr):
        items = [items.start, items.stop]
    types = {written_type(item) for item in items}
    return types.pop() if len(types) == 1 and None not in types else None


def not_a_quantity(expr: ir.Expr, vtype: VType, wanted: VType) -> str:
    """The end of the message for a formula that gives a string or boolean (`vtype`) where a number of `wanted`'s
    dimension is wanted: the literal as written where the formula is one (`"350 W" is a string, not a quantity in
    W`), else what the formula gives."""
    what = f'"{expr.value}" is a string' if isinstance(expr, ir.Str) else f"its formula gives {vtype.describe()}"
    return f"{what}, not a quantity in {wanted.describe()}"


def not_the_kind(expr: ir.Expr, vtype: VType, wanted: VType) -> str:
    """The end of the message for a formula of type `vtype` where a string or boolean (`wanted`) is wanted: the literal
    as written where the formula is one (`5 is a number, not a string`), else what the formula gives."""
    if isinstance(expr, ir.Str):
        what = f'"{expr.value}" is a string'
    elif written_type(expr) is not None:
        what = f"{written_text(expr)} is {'a number' if vtype.kind == 'num' else vtype.describe()}"
    else:
        what = f"its formula gives {vtype.describe()}"
    return f"{what}, not {_WANTED[wanted.kind]}"


def kind_hints(exprs: list[ir.Expr], wanted: VType) -> list[str]:
    """How to write literals `exprs` (one value, or a sweep's values) as the string or boolean `wanted`: quoted
    (`write "5" in quotes`, `write the values in quotes: ["1", "2"]`), unquoted (`write false without quotes`), or
    `write true or false`; none where a value is a formula."""
    if not exprs or any(written_type(expr) is None for expr in exprs):
        return []
    if wanted.kind == "str":
        quoted = [f'"{written_text(expr)}"' for expr in exprs]
        return [f"write {quoted[0]} in quotes" if len(quoted) == 1
                else "write the values in quotes: [" + ", ".join(quoted) + "]"]
    if len(exprs) == 1 and isinstance(exprs[0], ir.Str) and exprs[0].value.strip() in ("true", "false"):
        return [f"write {exprs[0].value.strip()} without quotes"]
    return ["write true or false"]


def swept_text_hints(exprs: list[ir.Expr], dim: Dimension) -> list[str]:
    """How to write a sweep's string values as quantities of dimension `dim`: one hint for them all
    (`write the values without quotes: [1, 2]` where each reads as one), else the first value's."""
    hints = [quoted_quantity_hints(item, dim)[0] for item in exprs]
    if len(exprs) > 1 and all(hint.startswith("write ") for hint in hints):   # each reads as a quantity
        hints = ["write the values without quotes: [" + ", ".join(item.value.strip() for item in exprs) + "]"]
    return list(dict.fromkeys(hints))[:1]


def plural(vtype: VType) -> str:
    """A sweep's values of type `vtype`, as the messages name them: "numbers", "strings", "booleans"."""
    return _PLURAL[vtype.kind]


def written_text(expr: ir.Expr) -> str:
    """A literal as written: a number's text (`300 W`, `-2`), a boolean's word, a string's value."""
    if isinstance(expr, ir.Num):
        return expr.text
    if isinstance(expr, ir.Unary):
        return "-" + written_text(expr.operand)
    if isinstance(expr, ir.Bool):
        return "true" if expr.value else "false"
    return expr.value
