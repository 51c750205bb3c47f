"""The operators of a formula: for each, its dimension rule (read by the checker) and its numpy kernel (read by the
evaluator), in one table. Functions (`min`, `if`, ...) have the same pair in `functions.py`.

A rule takes the operands' types and the expression, and gives the result's type or a `Problem` for the checker to
report. Rules never see an operand of unknown type: the checker stops at the error that made it unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import ir
from .lazy_numpy import lazy_numpy
from .limits import MAX_UNIT_POWER
from .units import DIMENSIONLESS, Dimension, auto_unit, literal_unit
from .vtypes import BOOL, VType, num

np = lazy_numpy(__name__)


@dataclass(frozen=True)
class Problem:
    """What a rule refuses: a diagnostic code, its message, and where the caret points (`at`: the operator's whole
    expression, or its left or right operand)."""

    code: str
    message: str
    at: str = "expr"
    hints: tuple[str, ...] = ()


@dataclass(frozen=True)
class Operator:
    """One operator: `symbol` as written (`neg` for unary minus), its arity, dimension rule, numpy kernel (`kernel`,
    numpy's ufunc named `ufunc`: numpy is imported at its first use, lazy_numpy.py) and its Excel form (`{0}`,
    `{1}`: the operands as Excel text; "" where Excel has none, which `perfdsl eval --live` refuses by name).
    The live workbook (workbook_live_plan.py) parenthesises operands by Excel's precedence."""

    symbol: str
    arity: int
    rule: Callable[..., "VType | Problem"]       # rule(types, expr) -> VType | Problem
    ufunc: str                                   # np.add: "add"
    excel: str = ""

    @property
    def kernel(self) -> Callable[..., np.ndarray]:
        """numpy's ufunc `ufunc` (np.add for "+")."""
        return getattr(np, self.ufunc)

    @property
    def boolean(self) -> bool:
        """Whether it always gives a boolean (a comparison or a logical operator)."""
        return self.rule in (_compare, _logic, _not)


def text_of(expr: ir.Expr) -> str:
    """How an operand is named in a message: a reference or literal as written (a report's `tpot` as `tpot`, not
    the cell `c.tpot` its question reads: ir.Ref.shown_name), else its kind."""
    if isinstance(expr, ir.Ref):
        return expr.shown_name
    if isinstance(expr, ir.Num):
        return expr.text
    return {"binary": "expression", "call": getattr(expr, "func", "") + "(...)"}.get(expr.kind, expr.kind)


def unit_hints(left: Dimension, right: Dimension) -> list[str]:
    """What two dimensions that should agree differ by, when that points at the usual slip."""
    ratio = left / right
    if ratio == Dimension.of(s=1) or ratio == Dimension.of(s=-1):
        return ["one side is a rate and the other an amount: multiply or divide by a time"]
    if ratio == Dimension.of(token=1) or ratio == Dimension.of(token=-1):
        return ["the two differ by a token: where a plain count means tokens, multiply it by `1 token`"]
    if ratio == Dimension.of(byte=1) or ratio == Dimension.of(byte=-1):
        return ["the two differ by a byte: a count of elements times bytes per element gives bytes"]
    return []


def constant_integer(expr: ir.Expr) -> int | None:
    """The value of a whole-number literal without a unit (`3`, `-2`), else None."""
    if isinstance(expr, ir.Num) and expr.unit is None and float(expr.value).is_integer() \
            and abs(expr.value) <= MAX_UNIT_POWER:            # no dimension is raised further (limits.py)
        return int(expr.value)
    if isinstance(expr, ir.Unary) and expr.op == "-":
        inner = constant_integer(expr.operand)
        return -inner if inner is not None else None
    return None


# -- rules --------------------------------------------------------------------------------------------------------
def _numbers(types, expr) -> Problem | None:
    left, right = types
    if left.kind == "num" and right.kind == "num":
        return None
    side, bad = ("left", left) if left.kind != "num" else ("right", right)
    hints = ("use if(condition, a, b) to choose between numbers",) if bad.kind == "bool" else ()
    operand = expr.left if side == "left" else expr.right
    # A string literal is named as written, in its own quotes: `"12" is a string`.
    named = f'"{operand.value}"' if isinstance(operand, ir.Str) else f"'{text_of(operand)}'"
    return Problem("type-mismatch", f"'{expr.op}' needs numbers, but {named} is {bad.describe()}", side, hints)


def _same_dimension(types, expr) -> VType | Problem:
    problem = _numbers(types, expr)
    if problem is not None:
        return problem
    left, right = types
    if left.dim != right.dim:
        verb = "add" if expr.op == "+" else "subtract"
        return Problem("unit-mismatch", f"cannot {verb} '{text_of(expr.left)}' ({left.describe()}) and "
                       f"'{text_of(expr.right)}' ({right.describe()})", hints=tuple(unit_hints(left.dim, right.dim)))
    return left


def _product(types, expr) -> VType | Problem:
    problem = _numbers(types, expr)
    if problem is not None:
        return problem
    left, right = types
    return num(left.dim * right.dim if expr.op == "*" else left.dim / right.dim)


def _power(types, expr) -> VType | Problem:
    problem = _numbers(types, expr)
    if problem is not None:
        return problem
    left, right = types
    if right.dim != DIMENSIONLESS:
        return Problem("unit-mismatch", f"an exponent is a plain number, not {right.describe()}", "right")
    if left.dim == DIMENSIONLESS:
        return left
    power = constant_integer(expr.right)
    if power is None:
        # The power of a plain number instead: the quantity divided by one of its unit (`(t / 1 s) ^ 0.5`).
        plain = f"({text_of(expr.left)} / 1 {literal_unit(auto_unit(left.dim)[0])}) ^ {text_of(expr.right)}"
        written = expr.right.value if isinstance(expr.right, ir.Num) and expr.right.unit is None else None
        if written is not None and float(written).is_integer():       # whole, but past what a dimension takes
            return Problem("unit-mismatch", f"'{text_of(expr.left)}' has a unit ({left.describe()}), so its exponent "
                           f"is a whole number of at most {MAX_UNIT_POWER} in size, not {text_of(expr.right)}",
                           "right", (f"a unit's exponent is at most {MAX_UNIT_POWER} in size (limits.py); the power "
                                     f"of a plain number has none: {plain}",))
        return Problem("unit-mismatch", f"'{text_of(expr.left)}' has a unit ({left.describe()}), so its exponent "
                       "must be a whole constant number", "right",
                       ("a quantity with a unit takes a whole exponent written as a number (^ 2, ^ -1); any power "
                        f"of a plain number: {plain}",))
    return num(left.dim ** power)


def _compare(types, expr) -> VType | Problem:
    left, right = types
    if expr.op not in ("==", "!="):
        problem = _numbers(types, expr)
        if problem is not None:
            return problem
    if left.kind != right.kind or (left.kind == "num" and left.dim != right.dim):
        hints = ()
        quoted = [side for side in (expr.left, expr.right) if isinstance(side, ir.Str)]
        if quoted and {left.kind, right.kind} == {"num", "str"}:     # `t == "2 s"`: the quotes make it a string
            hints = (f"\"{quoted[0].value}\" in quotes is a string: write a quantity without them, e.g. "
                     f"{quoted[0].value.strip() or '2 s'}",)
        return Problem("unit-mismatch", f"cannot compare {_named(expr.left)} ({left.describe()}) with "
                       f"{_named(expr.right)} ({right.describe()})", hints=hints)
    return BOOL


def _named(operand: ir.Expr) -> str:
    """An operand as a comparison's message names it: a string literal in its own double quotes, else as text_of
    names it, in single quotes."""
    if isinstance(operand, ir.Str):
        return f'"{operand.value}"'
    return f"'{text_of(operand)}'"


def _logic(types, expr) -> VType | Problem:
    for side, operand, vtype in (("left", expr.left, types[0]), ("right", expr.right, types[1])):
        if vtype.kind != "bool":
            return Problem("type-mismatch", f"'{expr.op}' needs booleans, but '{text_of(operand)}' is "
                           f"{vtype.describe()}", side)
    return BOOL


def _negate(types, expr) -> VType | Problem:
    if types[0].kind != "num":
        return Problem("type-mismatch", f"cannot negate {types[0].describe()}")
    return types[0]


def _not(types, expr) -> VType | Problem:
    if types[0].kind != "bool":
        return Problem("type-mismatch", f"'not' needs a boolean, not {types[0].describe()}")
    return BOOL


# Excel: `=` and `<>` compare text ignoring case, so the live workbook compares strings with EXACT (as numpy does,
# case and all); `and`, `or`, `not` are functions there.
OPERATORS: dict[str, Operator] = {op.symbol: op for op in [
    Operator("+", 2, _same_dimension, "add", "{0}+{1}"),
    Operator("-", 2, _same_dimension, "subtract", "{0}-{1}"),
    Operator("*", 2, _product, "multiply", "{0}*{1}"),
    Operator("/", 2, _product, "divide", "{0}/{1}"),
    Operator("^", 2, _power, "power", "{0}^{1}"),
    Operator("==", 2, _compare, "equal", "{0}={1}"),
    Operator("!=", 2, _compare, "not_equal", "{0}<>{1}"),
    Operator("<", 2, _compare, "less", "{0}<{1}"),
    Operator("<=", 2, _compare, "less_equal", "{0}<={1}"),
    Operator(">", 2, _compare, "greater", "{0}>{1}"),
    Operator(">=", 2, _compare, "greater_equal", "{0}>={1}"),
    Operator("and", 2, _logic, "logical_and", "AND({0},{1})"),
    Operator("or", 2, _logic, "logical_or", "OR({0},{1})"),
    Operator("neg", 1, _negate, "negative", "-{0}"),
    Operator("not", 1, _not, "logical_not", "NOT({0})"),
]}

UNARY = {"-": "neg", "not": "not"}      # the IR's unary op -> its entry in OPERATORS
