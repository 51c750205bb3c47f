"""A constant condition's value in plain Python (part of stage 3c, for constraints.check_requires).

`perfdsl check` decides every `require` that reads constants only (a model's `heads / kv_heads == floor(heads /
kv_heads)`, a GPU's `idle_power <= tdp`): 1,371 conditions in a check of the bundled libraries. The evaluator
computes each with numpy (a 0-d array per node, numpy's error state set and restored per condition), which cost
more than the arithmetic by far. `condition_value` computes the same condition with Python floats, booleans and
strings, and gives None wherever it cannot promise numpy's answer; the caller then asks the evaluator, as before.

Why the answer is the same: Python's float is an IEEE 754 double, as numpy's float64 is, and +, -, *, / and the
comparisons are correctly rounded (or exact) in both, so finite operands give the same bits. Everything else gives
None: a result that is not finite (numpy flags it and the evaluator warns, Python raises on a division by zero), a
negative cell value (the evaluator warns about a negative size or duration), any exception, the operator `^` and
the functions whose numpy kernels may round otherwise than Python's math (log2, sqrt, round), `if` with a condition
that is not a boolean, operands of two kinds, and every reference the evaluator would read through a swept role, a
sweep or a declared input. The sign of a zero (numpy's floor(-0.5) is -0.0 where Python's is 0.0) reaches a result
only through a division by it or a copysign (round), which give None. The evaluator reads the same cells through
the same linker (its own), so the values read are those it would compute.
"""

from __future__ import annotations

import math

from . import ir

_NUMBER_OPS = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b,
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
}
_EQUALITY = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b}
_LOGIC = {"and": lambda a, b: a and b, "or": lambda a, b: a or b}


class _Unsure(Exception):
    """A value numpy might compute otherwise (or warn about): the evaluator decides the condition."""


def condition_value(link, condition: ir.Expr, block, memo: dict) -> bool | None:
    """The value of a constant `condition` written in `block`, as the evaluator with linker `link` computes it
    (np.all of its value), or None where that is not certain (see the module's docstring). `memo` keeps the cells
    computed, by (block, cell), for the next conditions of the same linker (None where a cell gave no value)."""
    try:
        value = _value(link, condition, block, memo)
    except Exception:                     # noqa: BLE001 - _Unsure, a division by zero, anything: numpy decides
        return None
    return value if type(value) is bool else None


def _value(link, expr: ir.Expr, block, memo: dict):
    kind = expr.kind
    if kind == "num":
        number = float(expr.value)
        if not math.isfinite(number):
            raise _Unsure
        return number
    if kind == "bool":
        return bool(expr.value)
    if kind == "str":
        return expr.value
    if kind == "ref":
        return _cell(link, expr, block, memo)
    if kind == "binary":
        a, b = _value(link, expr.left, block, memo), _value(link, expr.right, block, memo)
        kind_a = type(a)
        if kind_a is not type(b):
            raise _Unsure
        if kind_a is float:
            result = _NUMBER_OPS[expr.op](a, b)
            if type(result) is float and not math.isfinite(result):
                raise _Unsure
            return result
        if kind_a is bool:
            op = _LOGIC.get(expr.op) or _EQUALITY[expr.op]
            return op(a, b)
        return _EQUALITY[expr.op](a, b)
    if kind == "unary":
        operand = _value(link, expr.operand, block, memo)
        if expr.op == "-" and type(operand) is float:
            return -operand
        if expr.op == "not" and type(operand) is bool:
            return not operand
        raise _Unsure
    if kind == "call":
        return _call(link, expr, block, memo)
    raise _Unsure


def _call(link, expr: ir.Call, block, memo: dict):
    func, args = expr.func, expr.args
    if func == "if":
        if len(args) != 3:
            raise _Unsure
        condition = _value(link, args[0], block, memo)
        if type(condition) is not bool:
            raise _Unsure
        return _value(link, args[1] if condition else args[2], block, memo)      # the branch taken, as _if
    values = [_value(link, arg, block, memo) for arg in args]
    if not values or any(type(v) is not float for v in values):
        raise _Unsure
    if func in ("min", "max"):
        if any(v != v for v in values):
            raise _Unsure                 # NaN: numpy's minimum keeps it, Python's min may not
        return min(values) if func == "min" else max(values)
    if len(values) != 1:
        raise _Unsure
    if func == "floor":
        return float(math.floor(values[0]))
    if func == "ceil":
        return float(math.ceil(values[0]))
    if func == "abs":
        return abs(values[0])
    raise _Unsure                         # ^, log2, sqrt, round, and any function added later


def _cell(link, expr: ir.Ref, block, memo: dict):
    parts = expr.parts
    if len(parts) == 1 and parts[0] in block.cells and block.kind != "report":
        # A cell of the block itself, as the linker's _resolve_local finds it, without its look-up (most names).
        owner, name = link.blocks[block.name], parts[0]
    else:
        target = link.target(parts, block)
        if target.swept or len(target.blocks) != 1:
            raise _Unsure
        owner, name = link.blocks[target.blocks[0]], target.cell
    key = (owner.name, name)
    if key in memo:
        value = memo[key]
        if value is None:
            raise _Unsure
        return value
    memo[key] = None                      # on the way (a cycle), or no value
    cell = owner.cells[name]
    if cell.sweep or cell.expr is None:
        raise _Unsure
    value = _value(link, cell.expr, owner, memo)
    if type(value) is float and not 0.0 <= value < math.inf:
        raise _Unsure                     # negative (a size or a duration is warned about), or not finite
    memo[key] = value
    return value
