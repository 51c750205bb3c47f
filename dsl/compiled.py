"""Formulas compiled once per prepared report into Python closures (stage 4, the evaluator's inner loop).

The evaluator walked each formula's tree at every evaluation: the kind of each node tested, its references
resolved, its operator looked up. A report evaluated many times (a small sweep asked again, every chunk of a large
one) pays that walk per node per call: at 10,530 points it was most of an evaluation. Compiling a node once gives
a closure `step(evaluator, fix) -> (value, temporary)` with all of that decided: a reference knows its cell (or
its swept role), an operation its kernel and operands. The closures hold no evaluator: the same ones serve every
evaluation and chunk of the prepared report (evaluator.Constants keeps them), each call bringing its own.

What a step computes is exactly what the tree walk computed (evaluator.Evaluator._eval's contract): the same
kernels on the same operands in the same order, `if` through Evaluator._if (only the branches some point takes),
parts that read constant cells only through Evaluator._constant_node, in-place reuse through Evaluator._combine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from . import ir
from .functions import FUNCTIONS
from .lazy_numpy import lazy_numpy
from .operators import OPERATORS, UNARY

if TYPE_CHECKING:
    from .blocks import Block
    from .evaluator import Evaluator

np = lazy_numpy(__name__)


# A compiled node: (evaluator, fixed role positions {axis: position}) -> (value, whether it is a temporary).
Step = Callable[["Evaluator", dict], tuple]


def compile_node(evaluator: "Evaluator", expr: ir.Expr, block: "Block", folds: dict) -> Step:
    """The closure of one formula node written in `block`, its children compiled through evaluator.compiled (so
    shared). `folds`: the functions computed as a chain of their two-operand kernel (min, max)."""
    kind = expr.kind
    if kind == "num":
        number = np.float64(expr.value)
        return lambda ev, fix: (number, False)
    if kind == "ref":
        return _compile_ref(evaluator, expr, block)
    if kind == "str":
        return lambda ev, fix: (np.asarray(expr.value, dtype=object), False)
    if kind == "bool":
        flag = np.bool_(expr.value)
        return lambda ev, fix: (flag, False)
    step = _compile_operation(evaluator, expr, block, folds)
    if evaluator.reads_constant_cells(expr, block):
        return lambda ev, fix: (ev._constant_node(step, expr, block, fix), False)
    return step


def _compile_ref(evaluator: "Evaluator", expr: ir.Ref, block: "Block") -> Step:
    target = evaluator.link.target(expr.parts, block)
    name = target.cell
    if not target.swept:
        owner = evaluator.blocks[target.blocks[0]]
        unfixed = (owner.name, name, ())          # Evaluator._cell's memo key where no role position is fixed

        def cell(ev: "Evaluator", fix: dict) -> tuple:
            if not fix:                           # a cell read again: from the memo without a call
                value = ev.memo.get(unfixed)
                if value is not None:
                    return value, False
            return ev._cell(owner, name, fix), False

        return cell
    role = target.role

    def swept(ev: "Evaluator", fix: dict) -> tuple:
        index, coord = ev.ctx.swept_roles[role]
        if index in fix:
            return ev._cell(ev.blocks[coord.values[fix[index]]], name, fix), False
        return ev._stack_role(index, coord.values, name, fix), False

    return swept


def _compile_operation(evaluator: "Evaluator", expr: ir.Expr, block: "Block", folds: dict) -> Step:
    compiled = evaluator.compiled
    kind = expr.kind
    if kind == "binary":
        kernel = OPERATORS[expr.op].kernel
        left, right = compiled(expr.left, block), compiled(expr.right, block)

        def binary(ev: "Evaluator", fix: dict) -> tuple:
            a, b = left(ev, fix), right(ev, fix)
            if ev._large:                   # reuse of temporaries: Evaluator._combine
                return ev._combine(kernel, a, b)
            return kernel(a[0], b[0]), False    # a small sweep: _combine's own first test, without the call

        return binary
    if kind == "unary":
        kernel = OPERATORS[UNARY[expr.op]].kernel
        operand = compiled(expr.operand, block)
        return lambda ev, fix: (kernel(operand(ev, fix)[0]), False)
    if kind != "call":
        raise AssertionError(f"{kind} cannot be evaluated")
    if expr.func == "if":
        return lambda ev, fix: (ev._if(expr, block, fix), False)     # it may give a branch's value as it is
    args = [compiled(arg, block) for arg in expr.args]
    fold = folds.get(expr.func)
    if fold is not None:                                  # min(a, b, c) = min(min(a, b), c), as its kernel
        first, rest = args[0], args[1:]

        def folded(ev: "Evaluator", fix: dict) -> tuple:
            value = first(ev, fix)
            for arg in rest:
                value = ev._combine(fold, value, arg(ev, fix))
            return value

        return folded
    kernel = FUNCTIONS[expr.func].kernel
    return lambda ev, fix: (kernel(*[arg(ev, fix)[0] for arg in args]), False)
