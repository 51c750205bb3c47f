"""Which declared inputs a formula reads at every point that evaluates it (stage 4, beside the evaluator).

The evaluator reads a declared input that a block does not give only where a point needs it: in the branch of an
`if` that some point takes (evaluator._unneeded_input). Its error names the `if` that chooses the read, "read only
where the `if` at ... chooses it"; an `if` both of whose values read the input does not choose it (every point that
reaches the `if` reads it, one way or the other), so the note names the next `if` out, or none. The checker folds
both values the same way (checker.reached_by_both_values).
"""

from __future__ import annotations

from . import ir
from .linker import Linker, Target, children


class EveryPointReads:
    """Whether a formula reads a cell at every point that evaluates it: the cell itself is referenced, or a cell
    referenced reads it so, outside `if` values or in both values of an `if` (in its condition too). A reference
    through a swept role counts where one of the role's blocks reads it (the input belongs to that block: only its
    points are concerned). Answers are kept per (block, cell, input); a cycle (reported by the checker) reads
    nothing more."""

    def __init__(self, link: Linker):
        self.link = link
        self._cells: dict[tuple[str, str, tuple[str, str]], bool] = {}

    def both_values(self, call: ir.Call, block: str, key: tuple[str, str]) -> bool:
        """Whether both values of `if` call `call` (written in, or evaluated for, block `block`) read the input
        `key` ((block, cell)) at every point that evaluates them."""
        return len(call.args) == 3 and all(self.expr(arg, block, key) for arg in call.args[1:])

    def expr(self, expr: ir.Expr, block: str, key: tuple[str, str]) -> bool:
        """Whether `expr`, evaluated for block `block`, reads the input `key` at every point that evaluates it."""
        kind = getattr(expr, "kind", "")
        if kind == "ref":
            target = self.link.target(expr.parts, self.link.blocks[block])
            return isinstance(target, Target) and any(self.cell(name, target.cell, key) for name in target.blocks)
        if kind == "call" and expr.func == "if" and len(expr.args) == 3:
            return self.expr(expr.args[0], block, key) or self.both_values(expr, block, key)
        return any(self.expr(child, block, key) for child in children(expr))

    def cell(self, block: str, name: str, key: tuple[str, str]) -> bool:
        """Whether evaluating cell `name` of block `block` reads the input `key` at every point."""
        if (block, name) == key:
            return True
        memo = (block, name, key)
        found = self._cells.get(memo)
        if found is None:
            self._cells[memo] = False                      # a cycle reads nothing more
            cell = self.link.blocks[block].cells.get(name)
            found = cell is not None and cell.expr is not None and not cell.sweep \
                and self.expr(cell.expr, block, key)
            self._cells[memo] = found
        return found
