"""The text of error[sweep-outside-report] (stage 3, checking): a cell swept in a block whose sweeps the report does
not make axes.

A block's own sweeps become axes of a report only where the report binds that block alone to a role (`hardware =
h100_big`, or a role swept over that one block: sweeps.build_context). A block of a role swept over several blocks
(`sweep hardware = [h100_sxm5, h100_big]`) is bound, but its sweeps are not axes: the report's points are a product
of axes, and an axis that applies at some of a role's blocks only is not one. The error says which case it is, and,
where the sweep was made by an override (`--set h100_big.mem_size="80 GB,120 GB"`), stands at the override's value
(so the exit status is 2, bad usage) rather than at the literal in the file the override replaced.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import ir
from .errors import from_the_command_line, in_override, override_example

if TYPE_CHECKING:
    from .blocks import Block
    from .context import ReportContext


def unbound_sweep(block: "Block", cell: ir.Cell, ctx: "ReportContext") -> tuple[str, ir.Span, list[str]]:
    """The message, location and hints of error[sweep-outside-report] for `cell`, a sweep of `block` that `ctx`'s
    report makes no axis of. Located at the override's value where an override made the sweep, else at the cell."""
    report = ctx.report.name
    roles = [role for role, (_, coord) in ctx.swept_roles.items()
             if block.name in coord.value_list()]
    made_by = override_span(cell)
    head = (f"{made_by.file} makes '{cell.name}' a sweep" if made_by is not None else f"'{cell.name}' is swept") \
        + f" in {block.kind} '{block.name}', which report '{report}'"
    if roles:
        role = roles[0]
        others = [name for name in dict.fromkeys(ctx.swept_roles[role][1].value_list()) if name != block.name]
        message = f"{head} sweeps the role '{role}' over with other blocks, so its sweeps are not axes"
        alone = override_example(role, block.name if from_the_command_line() else repr(block.name))
        hints = [f"a block's sweeps are axes only where the report binds that block alone to its role: {alone} "
                 f"(or `{role} = {block.name}` in the report)",
                 f"to compare the values beside {', '.join(others)}, give each value a block of its own "
                 f"(`{block.kind} {block.name}_2 extends {block.name} {{ {cell.name} = ... }}`) and sweep "
                 f"'{role}' over them"]
    else:
        message = f"{head} does not bind to a role"
        hints = [f"bind it in the report (`{block.kind} = {block.name}`, or a role swept over this one block) so its "
                 "sweeps become axes, or move the sweep into the workload or report"]
    return message, made_by if made_by is not None else cell.span, hints


def override_span(cell: ir.Cell) -> ir.Span | None:
    """The span of the values an override gave `cell` (from the first value to the last, where they stand on one
    line), or None where the cell's sweep is written in a file."""
    expr = cell.expr
    if expr is None or not in_override(expr.span.file):
        return None
    items = getattr(expr, "items", None)
    if not items:
        return expr.span
    first, last = items[0].span, items[-1].span
    if first.file != last.file or first.line != last.line:
        return first
    return first.model_copy(update={"end_line": last.end_line, "end_col": last.end_col})
