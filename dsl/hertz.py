"""Whether a quantity per second is a clock, shown in Hz, or a count per second, shown in 1/s (display, after checking).

Both have the dimension 1/s (units.FREQUENCY), so the dimension alone cannot tell `boost_clock = 1700 MHz` from
`request_rate = requests / window`. A value whose unit the user does not name is shown in `1/s` (units.auto_unit)
unless its cell says Hz: its declared type or a number of its formula is written in Hz (`boost_clock: Hz = ...`,
`clock = 1.41 GHz`), or its formula reads a cell of dimension 1/s that says Hz (`clock2 = clock * 2`). Cells of
other dimensions are not followed: a runtime that reads the boost clock does not make tokens / runtime a clock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import ir
from .linker import Target, walk
from .units import FREQUENCY, written_in_hertz

if TYPE_CHECKING:
    from .blocks import Block
    from .linker import Linker


def ref_in_hertz(ref: ir.Ref, block: "Block", blocks: dict[str, "Block"], link: "Linker", types: dict) -> bool:
    """Whether the cell the reference `ref`, written in `block`, reads says Hz (any of a swept role's blocks):
    `blocks` the program's blocks by name, `link` the checker's linker (Checker.link), `types` its inferred types
    by (block, cell) (Checker.types). False for a name that leads to no cell or to a cell not of dimension 1/s.
    Raises nothing."""
    return any(_cell_in_hertz(key, blocks, link, types) for key in _frequency_targets(ref, block, link, types))


def expr_in_hertz(expr: ir.Expr | None, block: "Block", blocks: dict[str, "Block"], link: "Linker",
                  types: dict) -> bool:
    """Whether the formula `expr`, written in `block`, says Hz as a cell's formula does (a number of it written in
    Hz, or a 1/s cell it reads that says Hz): how a message names an operand or a formula of dimension 1/s (a clock:
    Hz, else 1/s). Arguments as ref_in_hertz's; False for None. Raises nothing."""
    for node in walk(expr) if expr is not None else ():
        if isinstance(node, ir.Num) and written_in_hertz(node.unit):
            return True
        if isinstance(node, ir.Ref) and ref_in_hertz(node, block, blocks, link, types):
            return True
    return False


def cell_in_hertz(block: str, cell: str, blocks: dict[str, "Block"], link: "Linker", types: dict) -> bool:
    """Whether the cell `block`.`cell` says Hz (see ref_in_hertz); False where its type is not 1/s."""
    vtype = types.get((block, cell))
    return getattr(vtype, "dim", None) == FREQUENCY and _cell_in_hertz((block, cell), blocks, link, types)


def _frequency_targets(ref: ir.Ref, block: "Block", link: "Linker", types: dict) -> list[tuple[str, str]]:
    """(block, cell) of each cell of dimension 1/s that `ref` in `block` leads to."""
    target = link.target(ref.parts, block)
    if not isinstance(target, Target):
        return []
    return [(name, target.cell) for name in target.blocks
            if getattr(types.get((name, target.cell)), "dim", None) == FREQUENCY]


def _cell_in_hertz(start: tuple[str, str], blocks: dict[str, "Block"], link: "Linker", types: dict) -> bool:
    pending, seen = [start], set()
    while pending:
        key = pending.pop()
        if key in seen:
            continue
        seen.add(key)
        block = blocks.get(key[0])
        cell = block.cells.get(key[1]) if block is not None else None
        if cell is None:
            continue
        if written_in_hertz(cell.declared):
            return True
        for node in walk(cell.expr) if cell.expr is not None else ():
            if isinstance(node, ir.Num) and written_in_hertz(node.unit):
                return True
            if isinstance(node, ir.Ref):
                pending += _frequency_targets(node, block, link, types)
    return False
