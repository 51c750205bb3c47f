"""The functions a formula can call: their dimension rules (for the checker) and numpy kernels (for the evaluator)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from typing import Callable

from .lazy_numpy import lazy_numpy
from .units import DIMENSIONLESS
from .vtypes import num

np = lazy_numpy(__name__)


@dataclass(frozen=True)
class Function:
    """One function: its arity, usage line, dimension rule (checker), numpy kernel (evaluator) and Excel form
    (`perfdsl eval --live`): `{0}`, `{1}` ... are the arguments as Excel text, `{*}` all of them joined by commas;
    "" where Excel has no form, which --live refuses by name rather than dropping the formula."""

    name: str
    min_args: int
    max_args: int
    usage: str
    check: Callable          # list[VType] -> VType | str (a problem)
    compute: Callable | str  # (*arrays) -> array, or the name of the numpy function that is (imported at first use)
    excel: str = ""

    @property
    def kernel(self) -> Callable:
        """(*arrays) -> array: `compute`, or the numpy function it names."""
        return getattr(np, self.compute) if isinstance(self.compute, str) else self.compute


def _same_dim(args):
    if any(a.kind != "num" for a in args):
        return "its arguments are numbers"
    dims = {a.dim for a in args}
    if len(dims) > 1:
        return "its arguments have different dimensions (" + ", ".join(sorted(str(d) for d in dims)) + ")"
    return args[0]


def _dimensionless(args):
    arg = args[0]
    if arg.kind != "num":
        return "its argument is a number"
    if arg.dim != DIMENSIONLESS:
        return f"its argument must be a plain number, not {arg.describe()} (divide by a unit first)"
    return arg


def _sqrt(args):
    arg = args[0]
    if arg.kind != "num":
        return "its argument is a number"
    root = arg.dim.root(2)
    if root is None:
        return f"the square root of {arg.describe()} has no whole unit"
    return num(root)


def _if(args):
    cond, a, b = args
    if cond.kind != "bool":
        return f"its first argument is a condition (a boolean), not {cond.describe()}"
    if a != b:
        problem = f"both branches must have the same dimension, not {a.describe()} and {b.describe()}"
        if a.kind == b.kind == "num" and (a.dim / b.dim).exponents.count(0) == len(a.dim.exponents) - 1:
            from .units import dimension_name
            problem += f" (they differ by {dimension_name(a.dim / b.dim)})"
        return problem
    return a


def _no_value(args):
    if args[0].kind != "num":
        return "its argument is a number (it gives the unit)"
    return args[0]


def _nothing(x):
    """NaN in x's shape: no value (the sweep points where a quantity does not exist, such as the decode throughput
    of a test that generates no token), shown as an empty cell, never as a 0 that reads as measured."""
    return np.full(np.shape(x), np.nan)


def _abs(args):
    if args[0].kind != "num":
        return "its argument is a number"
    return args[0]


# What a logarithm of zero or of a negative number tells the evaluator's floating-point handler (evaluator.py,
# _on_fp_error reads the first word): numpy says "divide by zero" for log2(0), which read as a division.
LOG_DOMAIN_ERROR = "log of zero or a negative number"


def _log2(x):
    """np.log2, where an argument of zero or below is reported to the handler numpy calls (np.errstate(call=...):
    the evaluator's) as LOG_DOMAIN_ERROR rather than numpy's own "divide by zero" or "invalid value"."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log2(x)
    if np.any(np.less_equal(x, 0)):
        handler = np.geterrcall()
        if handler is not None and np.geterr()["divide"] == "call":
            handler(LOG_DOMAIN_ERROR, 0)
    return out


# Excel forms: INT rounds down (toward minus infinity), so ceil(x) = -INT(-x) for either sign, where CEILING
# differs between Excel versions for negative numbers; ROUND(x, 0) rounds halves away from zero, as `round` does;
# LOG(x, 2) is ln(x) / ln(2), within an ulp or two of numpy's log2.
FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in [
        Function("min", 1, 99, "min(a, b, ...): the smallest; all of one dimension", _same_dim,
                 lambda *xs: reduce(np.minimum, xs), "MIN({*})"),
        Function("max", 1, 99, "max(a, b, ...): the largest; all of one dimension", _same_dim,
                 lambda *xs: reduce(np.maximum, xs), "MAX({*})"),
        Function("ceil", 1, 1, "ceil(x): rounds a plain number up", _dimensionless, "ceil", "-INT(-{0})"),
        Function("floor", 1, 1, "floor(x): rounds a plain number down", _dimensionless, "floor", "INT({0})"),
        Function("round", 1, 1, "round(x): rounds a plain number to the nearest whole number, halves away from zero "
                 "(as spreadsheets do)", _dimensionless, lambda x: np.copysign(np.floor(np.abs(x) + 0.5), x),
                 "ROUND({0},0)"),
        Function("log2", 1, 1, "log2(x): base-2 logarithm of a plain number", _dimensionless, _log2, "LOG({0},2)"),
        Function("sqrt", 1, 1, "sqrt(x): square root; the unit's exponents are halved", _sqrt, "sqrt", "SQRT({0})"),
        Function("abs", 1, 1, "abs(x): absolute value", _abs, "abs", "ABS({0})"),
        # NA() is the spreadsheet's "no value": charts leave a gap, as they do for an empty cell.
        Function("no_value", 1, 1, "no_value(x): no value, in x's unit (x is not used): an empty cell in tables, CSV "
                 "and the workbook, null in JSON", _no_value, _nothing, "NA()"),
        Function("if", 3, 3, "if(condition, value_if_true, value_if_false)", _if, "where", "IF({0},{1},{2})"),
    ]
}
