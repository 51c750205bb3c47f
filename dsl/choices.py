"""Declared choices (part of stage 3c, checking): a cell that is one of a fixed set of strings or blocks.

    power_model: "tdp" | "utilisation" = "tdp"      # a string setting
    stack: eager | vllm = eager                     # a role binding limited to some blocks (in a report)

Every value a choice cell can take is checked before anything is computed: a literal in the block or in a block that
extends it, every value of a sweep, both branches of an `if`, the cell a formula refers to, and a value given with
`--set` (overrides carry the declaration onto the new cell). A comparison of a choice with a string that is not one
of its options (`workload.power_model == "utilization"`) is an error too: it would be false everywhere. The report
options (dsl/report_options.py) are checked with the same words.

The checker calls `check_choice_cell` and `check_comparison` (small hooks in checker.py); this module reads the
checker only through its `resolve(ref, block, path)` and `report(code, message, span, path, ...)` methods.
"""

from __future__ import annotations

from typing import Iterator

from . import ir
from .errors import suggest

CHOICE_CODE = "bad-choice"


def describe_options(options: tuple[str, ...] | list[str], blocks: bool = False) -> str:
    """`"tdp" or "utilisation"` (strings) or `'eager' or 'vllm'` (blocks), for messages."""
    quoted = [_quote(option, blocks) for option in options]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def did_you_mean_option(value: str, options, blocks: bool = False) -> list[str]:
    """A 'did you mean' hint with the options quoted the way they are written (`"utilisation"`)."""
    close = suggest(value, options)
    if not close:
        return []
    return ["did you mean " + " or ".join(_quote(c, blocks) for c in close) + "?"]


def not_one_of(name: str, value: str, options, blocks: bool = False) -> str:
    """The message for a value outside a set: `'power_model' is one of "tdp" or "utilisation", not "utilization"`."""
    return f"'{name}' is one of {describe_options(options, blocks)}, not {_quote(value, blocks)}"


def choice_kind(cell: ir.Cell) -> str:
    """The value kind of a choice cell: "block" or "str" ("" for a cell that is not a choice)."""
    if cell.choices is None:
        return ""
    return "block" if cell.choice_blocks else "str"


def check_choice_cell(checker, block, cell: ir.Cell, path: str) -> bool:
    """Report every value of a choice cell that is not one of its options (error[bad-choice], located at the value).

    `block` is the block being checked (a cell inherited from a parent is checked with the child's cells);
    a value that is not a string (or not a block, for a block choice) is reported too. True where such a value of
    another kind was reported (`mem_type = 5`): the checker then leaves the cell's type unknown, so that what
    compares it with strings is not reported again.
    """
    if cell.expr is None:
        return False
    declared = cell.declared_span
    elsewhere = declared is not None and (declared.file, declared.line) != (cell.span.file, cell.span.line)
    notes = [f"the choices are declared at {declared.location()}"] if elsewhere else []
    items = cell.expr.items if cell.sweep and isinstance(cell.expr, ir.ListExpr) else (cell.expr,)
    wrong_kind = False
    for item in items:
        for leaf, where in _leaves(checker, item, block, path, set()):
            wrong_kind |= _check_leaf(checker, cell, leaf, where, path, notes)
    return wrong_kind


def _check_leaf(checker, cell: ir.Cell, leaf, where, path: str, notes: list[str]) -> bool:
    """Report `leaf` where it is not one of the cell's options; True where it is not even of their kind."""
    blocks = cell.choice_blocks
    options = cell.choices
    if isinstance(leaf, ir.Cell):          # a cell that is itself a choice: every one of its options must be ours
        extra = [o for o in leaf.choices if o not in options]
        if leaf.choice_blocks != blocks or extra:
            checker.report(CHOICE_CODE, f"'{cell.name}' is one of {describe_options(options, blocks)}, but "
                           f"'{where}' can be {describe_options(extra or leaf.choices, leaf.choice_blocks)}",
                           leaf.span, path=path, notes=notes)
        return False
    if isinstance(leaf, ir.Str) and not blocks:
        if leaf.value not in options:
            checker.report(CHOICE_CODE, not_one_of(cell.name, leaf.value, options), leaf.span, path=path,
                           notes=notes, hints=did_you_mean_option(leaf.value, options))
        return False
    if isinstance(leaf, ir.Ref) and blocks and where == "block":
        name = leaf.parts[0]
        if name not in options:
            checker.report(CHOICE_CODE, not_one_of(cell.name, name, options, blocks=True), leaf.span, path=path,
                           notes=notes, hints=did_you_mean_option(name, options, blocks=True))
        return False
    what = "a block" if blocks else "a string"
    checker.report(CHOICE_CODE, f"'{cell.name}' is one of {describe_options(options, blocks)}: {what}, "
                   f"not {_describe(leaf)}", leaf.span, path=path, notes=notes,
                   hints=[f"write one of the choices, or if(CONDITION, {_quote(options[0], blocks)}, "
                          f"{_quote(options[-1], blocks)})"])
    return True


def _leaves(checker, expr: ir.Expr, block, path: str, seen: set) -> Iterator[tuple[object, str]]:
    """The values a choice's formula can give: (literal, "") for a string, (ref, "block") for a block name,
    (cell, dotted name) for a cell that is a choice itself, (expr, "") for anything else. Both branches of an
    `if` are followed, and so are references to plain cells (a cycle is the checker's to report)."""
    if isinstance(expr, ir.Call) and expr.func == "if" and len(expr.args) == 3:
        for branch in expr.args[1:]:
            yield from _leaves(checker, branch, block, path, seen)
        return
    if isinstance(expr, ir.Ref):
        if len(expr.parts) == 1 and expr.parts[0] not in block.cells and expr.parts[0] in checker.blocks:
            checker.note_block(expr.parts[0])
            yield expr, "block"
            return
        target = checker.resolve(expr, block, path)
        if target is None or target[0] != "cells":
            return                          # reported by the checker, or a role left open
        _, targets, name = target
        for target_block in targets:
            key = (target_block.name, name)
            if key in seen:
                continue
            cell = target_block.cells[name]
            if cell.choices is not None:
                yield cell.model_copy(update={"span": expr.span}), expr.dotted
            elif cell.expr is not None and not cell.sweep:
                yield from _leaves(checker, cell.expr, target_block, path, seen | {key})
        return
    yield expr, ""


def check_comparison(checker, expr: ir.Binary, block, path: str) -> None:
    """`power_model == "utilization"` where `power_model` is a choice without that option: an error, since the
    comparison is false at every point (the bug that a silent fallback to the other branch hides)."""
    for side, other in ((expr.left, expr.right), (expr.right, expr.left)):
        if not isinstance(side, ir.Ref) or not isinstance(other, ir.Str):
            continue
        target = checker.resolve(side, block, path)
        if target is None or target[0] != "cells":
            continue
        _, targets, name = target
        for target_block in targets:
            cell = target_block.cells[name]
            if cell.choices is None or cell.choice_blocks or other.value in cell.choices:
                continue
            checker.report(CHOICE_CODE, f"'{side.dotted}' is never {_quote(other.value)}: it is one of "
                           f"{describe_options(cell.choices)}", other.span, path=path,
                           notes=[f"the choices are declared at {cell.declared_span.location()}"]
                           if cell.declared_span else [],
                           hints=did_you_mean_option(other.value, cell.choices))
            return


def _quote(option: str, blocks: bool = False) -> str:
    return f"'{option}'" if blocks else '"' + option.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _describe(expr) -> str:
    if isinstance(expr, ir.Num):
        return f"the number {expr.text}"
    if isinstance(expr, ir.Bool):
        return "a boolean"
    if isinstance(expr, ir.Str):
        return f"the string {_quote(expr.value)}"
    if isinstance(expr, ir.Ref):
        return f"'{expr.dotted}'"
    if isinstance(expr, (ir.ListExpr, ir.RangeExpr)):
        return "a list"
    return "a formula"
