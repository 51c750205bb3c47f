"""error[shadowed-cell] (stage 3b, a report's cells): a report's own cell of a name a block it binds has.

The cost model reads the blocks a report binds to its roles (`workload.seq_len`, `workload.tp`), never the report's
own cells, and a report's cell does not replace a bound block's: `report m4a extends fleet { seq_len = 2048 }`
beside the workload's `sweep seq_len = [1024, 4096]`, or `sweep tp = [1, 4, 8]` beside the workload's `tp = 1`, gave
rows whose numbers followed the workload's cell while the report's value stood in the labels (or nowhere), with
no word; `explain` showed the report's value beside rows of the other, and `--set seq_len=...` set the dead cell.
The report's cell is an error, located where it is written (its own cell, or its name in a zipped sweep that pairs
it with a role), naming the bound block's cell the cost model reads, with a help that writes what was meant: a block
that extends the bound one with the value (or `--set BLOCK.CELL=...`), or another name for a cell of the report's
own. A report's sweep of a name a block bound alone sweeps too is error[duplicate-axis] (axis_names.py), not this.
"""

from __future__ import annotations

from . import ir
from .blocks import Block, SourceLines
from .context import ReportContext
from .errors import Diagnostic, from_the_command_line, override_example
from .linker import report_roles


def shadowed_cells(report: Block, ctx: ReportContext, blocks: dict[str, Block], sources: SourceLines
                   ) -> list[Diagnostic]:
    """One error[shadowed-cell] for each cell of `report` (not a role binding) that a block bound to one of its
    roles has too, in the order the report's cells are written."""
    roles = set(report_roles(report, blocks)) | set(ctx.fixed_roles) | set(ctx.swept_roles)
    bound: list[tuple[str, Block, bool]] = []      # (role, block, bound alone: its sweeps are the report's axes)
    for role, name in ctx.fixed_roles.items():
        if role != "report" and name in blocks:
            bound.append((role, blocks[name], True))
    for role, (_, coord) in ctx.swept_roles.items():
        names = list(dict.fromkeys(coord.value_list()))
        bound.extend((role, blocks[name], len(names) == 1) for name in names if name in blocks)
    found: list[Diagnostic] = []
    for name, cell in report.cells.items():
        if name in roles:
            continue
        for role, block, alone in bound:
            theirs = block.cells.get(name)
            if theirs is None:
                continue
            if alone and cell.sweep and theirs.sweep:
                break           # two axes of one name: error[duplicate-axis]
            found.append(_shadowed(report, cell, role, block, theirs, alone, sources))
            break
    return found


def _shadowed(report: Block, cell: ir.Cell, role: str, block: Block, theirs: ir.Cell, alone: bool,
              sources: SourceLines) -> Diagnostic:
    name, kind, target = cell.name, block.kind, block.name
    zipped = _zipped_of(report, name)
    message = (f"report '{report.name}' writes '{name}', a cell {kind} '{target}' (bound to '{role}') has too: the "
               f"cost model reads the {kind}'s ({_value(theirs, block)}), not the report's")
    where = theirs.span
    owner = block.owner.get(name, target)
    writer = f"{kind} '{target}'" if owner == target else f"{kind} '{owner}' (which '{target}' extends)"
    notes = [f"{writer} writes '{name}' at {where.file}:{where.line}:{where.col}; a report's cell does not "
             f"replace a bound block's: the rows would show the report's '{name}' (or no column) while their "
             f"numbers follow the {kind}'s"]
    child = f"{target}_{name}"
    value = _typed(cell) if cell.text else None
    if zipped is not None:
        zipped_roles = ", ".join(role if column == name else column for column in zipped.names)
        hints = [f"for a value of '{name}' at each point of `sweep ({', '.join(zipped.names)}) = ...`, give each "
                 f"value a {kind} of its own that extends '{target}' (`{kind} {target}_2 extends {target} {{ {name} "
                 f"= ... }}`) and zip the role '{role}' over them in its place: `sweep ({zipped_roles}) = [...]`"]
    elif not alone:
        # The role is swept over several blocks: each reads its own cell.
        also = f" ({override_example(f'{role}.{name}', value)} sets it on each of them)" if value else ""
        hints = [f"to give the '{name}' of every {kind} '{role}' is swept over this value, give each a {kind} that "
                 f"extends it with `{name} = ...` and sweep '{role}' over those{also}"]
    else:
        written = f"sweep {name} = {cell.text}" if cell.sweep else f"{name} = {cell.text}"
        also = f" (or {override_example(f'{target}.{name}', value)})" if value else ""
        hints = [f"to give the {kind}'s '{name}' this value, bind a {kind} that extends '{target}': `{kind} {child} "
                 f"extends {target} {{ {written} }}` and `{role} = {child}` in the report{also}"]
    hints.append(f"for a cell of the report's own, give it another name than '{name}'")
    span = _name_span(zipped, name, sources) if zipped is not None else cell.span
    return sources.diag("shadowed-cell", message, span, path=report.cell_path(name), notes=notes, hints=hints)


def _value(cell: ir.Cell, block: Block) -> str:
    """The bound block's cell as a short phrase: `sweep seq_len = [1024, 4096]`, `tp = 1`, an input."""
    if cell.expr is None:
        zipped = _zipped_of(block, cell.name)
        if zipped is not None:
            return f"`sweep ({', '.join(zipped.names)}) = {zipped.text}`" if zipped.text else "a zipped sweep"
        return "an input the report does not give"
    return f"`sweep {cell.name} = {cell.text}`" if cell.sweep else f"`{cell.name} = {cell.text}`"


def _typed(cell: ir.Cell) -> str:
    """The report's value as an override takes it: `1,4,8` for a list swept from the command line."""
    text = cell.text
    if cell.sweep and text.startswith("[") and text.endswith("]") and from_the_command_line():
        return ",".join(part.strip() for part in text[1:-1].split(","))
    if from_the_command_line():
        return f'"{text}"' if " " in text and not text.startswith('"') else text
    return text if cell.sweep else repr(text)


def _zipped_of(block: Block, name: str) -> ir.Zipped | None:
    """The zipped sweep of `block` that names `name` (the last written: a child's replaces its parent's), or None."""
    for zipped in reversed(block.zipped):
        if name in zipped.names:
            return zipped
    return None


def _name_span(zipped: ir.Zipped, name: str, sources: SourceLines) -> ir.Span:
    """The span of `name` among the names of `zipped` (`tp` of `sweep (model, tp) = ...`), else the zipped sweep's."""
    span = zipped.span
    line = sources.line(span.file, span.line) or ""
    start = span.col - 1
    close = line.find(")", start)
    head = line[start:close if close >= 0 else len(line)]
    for offset in range(len(head)):
        if head.startswith(name, offset) and not (head[offset - 1:offset].isalnum() or head[offset - 1:offset] == "_") \
                and not (head[offset + len(name):offset + len(name) + 1].isalnum()
                         or head[offset + len(name):offset + len(name) + 1] == "_"):
            col = span.col + offset
            return span.model_copy(update={"col": col, "end_line": span.line, "end_col": col + len(name)})
    return span
