"""The values of a block's own sweeps, checked without a report (stage 3, `perfdsl check` of a file alone).

A sweep's axis is built only for a report that binds its block (sweeps.build_context), so before this check a
workload alone with `sweep batch = 1 .. 256 by x4` (a factor written as on a datasheet: `x4` is read as a name)
passed `perfdsl check` and failed only once a report bound it. The values that are formulas (a range's ends and step,
a list's items that are not literals, a zipped sweep's tuple members) are typed here as any cell's formula is,
against the block that writes the sweep, so that an unknown name or a unit mismatch in them is an error where it is
written, as in any other formula of the block (`y = z * 2` is one even where a block that extends it defines `z`).
Only what the check of a formula finds is reported: not what the values are (an empty range, a value listed
twice), which can depend on cells a block that extends this one replaces, and which a report's check still finds.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Callable

from . import ir
from .errors import Diagnostic
from .linker import is_block_ref, source_items

if TYPE_CHECKING:
    from .blocks import Block, SourceLines
    from .checker import Checker

_WRITTEN_FACTOR = re.compile(r"[xX](\d+(?:\.\d+)?)")     # `by x4`: a factor written as on a datasheet
_LITERALS = (ir.Num, ir.Str, ir.Bool)     # typed as written where the sweep's cell is (kept_types.swept_values_type)


def sweep_source_errors(blocks: dict[str, "Block"], make_checker: Callable[[], "Checker"]) -> list[Diagnostic]:
    """Type the formulas among the values of every sweep a non-report block writes itself (a report's own sweeps are
    its axes, built by its check) with a checker without a report (`make_checker()`: Program.check's, made only
    where a block writes a sweep), and return what it reported; `by x4` gets factor_hint's help. A value that names
    a block (a role swept in a workload) is no formula."""
    checker, start = None, 0
    for block in blocks.values():
        if block.kind == "report" or not _writes_sweeps(block.node):
            continue
        if checker is None:
            checker = make_checker()
            start = len(checker.diagnostics)
        for name, cell in block.cells.items():
            if cell.sweep and cell.expr is not None and block.owner.get(name) == block.name:
                _type_values(checker, block, source_items(cell.expr, block, blocks), block.cell_path(name), blocks)
        for zipped in block.node.zipped:                 # its own, not those it inherits
            items = source_items(zipped.source, block, blocks)
            if isinstance(items, ir.RangeExpr):
                continue                                 # error[bad-sweep] where a report builds it
            for item in items:                          # each member as the cell of its column
                members = item.items if isinstance(item, ir.TupleExpr) else (item,)
                for name, value in zip(zipped.names, members):
                    _type_values(checker, block, [value], block.cell_path(name), blocks)
    if checker is None:
        return []
    found = checker.diagnostics[start:]
    del checker.diagnostics[start:]
    return found


@ir.once_per_node
def _writes_sweeps(node: ir.Block) -> bool:
    """Whether a parsed block writes a sweep itself (a cell's, or a zipped one): few do (29 cells in a check of the
    library files), so the cells of the others, inherited ones included, are not looked through in each program of
    a check. Found once per node (ir.once_per_node)."""
    return bool(node.zipped) or any(cell.sweep and cell.expr is not None for cell in node.cells)


def _type_values(checker: "Checker", block: "Block", items: list[ir.Expr] | ir.RangeExpr, path: str,
                 blocks: dict[str, "Block"]) -> None:
    """Type each formula among a sweep's values (`items`: source_items's list, or a range) with `checker`."""
    if isinstance(items, ir.RangeExpr):
        before = len(checker.diagnostics)
        for expr in (items.start, items.stop, items.step):
            if expr is not None and not isinstance(expr, _LITERALS):
                checker.expr_type(expr, block, path)
        factor_hint(checker.diagnostics[before:], items)
        return
    for expr in items:
        if not isinstance(expr, (*_LITERALS, ir.TupleExpr)) and not is_block_ref(expr, blocks, block):
            checker.expr_type(expr, block, path)


def factor_hint(diagnostics: list[Diagnostic], rng: ir.RangeExpr) -> None:
    """Where the step of an arithmetic range is an unknown name that reads as a factor (`1 .. 256 by x4`), the help of
    its error[unknown-name] says how a factor is written (`by *4`), in place of the names that are not meant."""
    step = rng.step
    factor = _WRITTEN_FACTOR.fullmatch(step.parts[0]) if isinstance(step, ir.Ref) and len(step.parts) == 1 else None
    if factor is None or rng.geometric:
        return
    for diagnostic in diagnostics:
        if diagnostic.code == "unknown-name" and diagnostic.location is not None \
                and (diagnostic.location.line, diagnostic.location.col) == (step.span.line, step.span.col):
            diagnostic.hints = [f"a factor is written `by *{factor.group(1)}` (a geometric range: each value "
                                f"{factor.group(1)} times the one before); `by {factor.group(1)}` adds "
                                f"{factor.group(1)} each time"]
