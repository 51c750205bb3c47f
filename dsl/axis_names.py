"""error[duplicate-axis] and error[zipped-rewritten] (stage 3b, a report's axes): two sweeps of one name among a
report's axes, and a zipped sweep one of whose names a block that extends its writer writes again (zipped_in_effect).

A report's axes are its own sweeps and the sweeps of the blocks it binds alone to a role (sweeps.build_context). Each
block's formulas read the sweep of their own block, so where two of them sweep one name (`report dup extends fleet {
sweep batch = [1, 64] }` beside the workload's `sweep batch = [1, 8, ...]`) the report would have two axes 'batch':
every row twice, one column 'batch' naming the values of one axis while the numbers follow the other, and `--set
batch=8` setting the report's cell that nothing reads. The language has no way for a report to replace a bound block's
sweep (a report's cell is its own), so the second sweep is an error, located at the report's own sweep where one of
the two is the report's (else at the later of the two), with a note at the other and a help that writes what the
user most likely meant: a block that extends the bound one with the new sweep (or `--set BLOCK.CELL=...`), or
another name for an axis of the report's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import ir
from .blocks import Block, SourceLines
from .errors import Diagnostic, from_the_command_line, in_override, override_example
from .unbound_sweeps import override_span


@dataclass(frozen=True)
class AxisOrigin:
    """Where one axis of a report comes from: the block whose sweep it is, the statement (a swept cell or a zipped
    sweep) and the role that binds the block (None for the report's own sweeps)."""

    block: Block
    statement: ir.Cell | ir.Zipped
    role: str | None

    @property
    def names(self) -> tuple[str, ...]:
        statement = self.statement
        return statement.names if isinstance(statement, ir.Zipped) else (statement.name,)

    @property
    def span(self) -> ir.Span:
        """The sweep's name as written, or the values an override gave it where it gives several (`--set
        batch=1,64` over a report's `batch = 4`: bad usage); a single value given to a swept cell (`--set batch=8`
        over `sweep batch = [1, 64]`) leaves the sweep the file's."""
        statement = self.statement
        expr = statement.expr if isinstance(statement, ir.Cell) else None
        several = isinstance(expr, ir.RangeExpr) or (isinstance(expr, ir.ListExpr) and len(expr.items) > 1)
        if several and in_override(expr.span.file):
            return override_span(statement)
        return statement.span

    def describe(self) -> str:
        if self.role is None:
            return f"report '{self.block.name}'"
        return f"{self.block.kind} '{self.block.name}' (bound to '{self.role}')"


def duplicate_axes(origins: list[AxisOrigin], report: Block, sources: SourceLines) -> list[Diagnostic]:
    """One error[duplicate-axis] for each name that two of `origins` (a report's axes, in axis order) sweep."""
    found: list[Diagnostic] = []
    first: dict[str, AxisOrigin] = {}
    for origin in origins:
        for name in origin.names:
            earlier = first.get(name)
            if earlier is None:
                first[name] = origin
                continue
            found.append(_duplicate(name, earlier, origin, report, sources))
    return found


def _duplicate(name: str, earlier: AxisOrigin, later: AxisOrigin, report: Block, sources: SourceLines
               ) -> Diagnostic:
    # Located at the report's own sweep where one of the two is the report's: that is the one the user wrote
    # beside the block's, and the block may be a library file's.
    here, there = (earlier, later) if earlier.role is None else (later, earlier)
    if here.role is None:
        message = (f"report '{report.name}' sweeps '{name}', which {there.describe()} sweeps too: the report would "
                   f"have two axes '{name}'")
        hints = _report_hints(name, here, there)
    else:
        message = (f"{here.describe()} sweeps '{name}', which {there.describe()} sweeps too: report '{report.name}' "
                   f"would have two axes '{name}'")
        hints = [f"sweep '{name}' in one of the two blocks only (bind a block that extends the other with one value, "
                 f"`{here.block.kind} {here.block.name}_one extends {here.block.name} {{ {name} = ... }}`), or give "
                 "one of the two sweeps another name"]
    if here.role is None:
        notes = [f"{there.describe()} sweeps '{name}' at {_where(there)}, and its formulas read that sweep, not the "
                 f"report's: the column '{name}' would name rows by one axis's values while their numbers follow "
                 "the other's"]
    else:
        notes = [f"{there.describe()} sweeps '{name}' at {_where(there)}; each block's formulas read their own "
                 f"block's sweep, and the column '{name}' would name rows by one axis's values only"]
    return sources.diag("duplicate-axis", message, here.span, path=here.block.cell_path(name), notes=notes,
                        hints=hints)


def _report_hints(name: str, own: AxisOrigin, block: AxisOrigin) -> list[str]:
    """The help of a report's sweep of a name a bound block sweeps: replace the block's sweep, or rename the report's.
    Where an override made the report's sweep (`--set batch=1,2`), the same override of the block's cell."""
    statement = own.statement
    kind, target, role = block.block.kind, block.block.name, block.role
    child = f"{target}_{name}"
    rename = f"for an axis of the report's own, give its sweep another name than '{name}'"
    if isinstance(statement, ir.Zipped):
        sweep = f"sweep ({', '.join(statement.names)}) = {statement.text or '[...]'}"
        given = None
    elif statement.expr is not None and in_override(statement.expr.span.file):
        sweep, given = f"sweep {name} = [...]", statement.text       # the values as typed: `1,2`
    elif isinstance(statement.expr, ir.ListExpr) and statement.text.startswith("["):
        sweep = f"sweep {name} = {statement.text}"
        items = statement.text[1:-1]
        given = ",".join(part.strip() for part in items.split(",")) if from_the_command_line() else statement.text
    else:
        sweep = f"sweep {name} = {statement.text or '[...]'}"
        given = f'"{statement.text}"' if from_the_command_line() else repr(statement.text)
    also = f" (or {override_example(f'{target}.{name}', given)})" if given else ""
    return [f"to sweep the {kind}'s '{name}' over these values instead, bind a {kind} that extends '{target}': "
            f"`{kind} {child} extends {target} {{ {sweep} }}` and `{role} = {child}` in the report{also}", rename]


def _where(origin: AxisOrigin) -> str:
    return _where_span(origin.span)


def _where_span(span: ir.Span) -> str:
    return f"{span.file}:{span.line}:{span.col}"


def zipped_in_effect(block: Block, zipped: ir.Zipped, blocks: dict[str, Block], sources: SourceLines
                     ) -> tuple[bool, Diagnostic | None]:
    """Whether `zipped`, one of `block`'s zipped sweeps (its own or inherited), is an axis of it, and the error where
    a block that extends the one that wrote it writes some of its names again otherwise. A block keeps its parent's
    zipped sweeps beside its own: one its child writes again whole (`sweep (tp, ep) = [...]` over the parent's
    `sweep (tp, ep)`) is replaced, as a cell is, and was an axis twice (every row twice); one of whose names the child
    writes alone (`sweep tp = [4, 8]`, `tp = 4`) or zips with others was an axis still, labelling rows by values the
    formulas no longer read: error[zipped-rewritten] at the name written again, and the parent's zipped sweep is no
    axis."""
    owners = {name: block.cells.get(name) for name in zipped.names}
    if all(_marks(cell, zipped) for cell in owners.values()):
        return True, None
    later = [other for other in block.zipped if other is not zipped and set(other.names) == set(zipped.names)
             and all(_marks(cell, other) for cell in owners.values())]
    if later:
        return False, None          # written again whole in a block that extends the one that wrote it: replaced
    name, cell = next((name, cell) for name, cell in owners.items() if not _marks(cell, zipped))
    writers = [blocks[b] for b in reversed(block.lineage) if b in blocks and zipped in blocks[b].node.zipped]
    writer = writers[0] if writers else block
    others = ", ".join(f"'{other}'" for other in zipped.names if other != name)
    tuple_names = "(" + ", ".join(zipped.names) + ")"
    if cell is not None and cell.expr is None and cell.sweep:
        how = f"zips '{name}' with other names"
    elif cell is not None and cell.sweep:
        how = f"sweeps '{name}' alone"
    else:
        how = f"sets '{name}'"
    rewriter = block.owner.get(name, block.name)
    given = cell is not None and cell.expr is not None and in_override(cell.expr.span.file)
    subject = f"{cell.expr.span.file} sets '{name}' of {block.kind} '{block.name}'" if given else \
        f"{block.kind} '{rewriter}' {how}"
    message = (f"{subject}, which {writer.kind} '{writer.name}' zips with {others} in `sweep {tuple_names} = ...`: "
               "the zipped axis would label rows by values its formulas no longer read")
    if given:       # a zipped sweep's names are not set one by one: a block that extends it sweeps its tuples
        hints = [f"a zipped sweep is written whole: bind a {block.kind} that extends '{block.name}' with `sweep "
                 f"{tuple_names} = [...]` (the tuples it takes), or choose one of its points with --at"]
    else:
        hints = [f"write the zipped sweep again whole in '{rewriter}' (`sweep {tuple_names} = [...]`), with the "
                 f"tuples it takes, or sweep each name apart (`sweep {name} = [...]` and "
                 + " and ".join(f"`sweep {other} = [...]`" for other in zipped.names if other != name) + ")"]
    span = (override_span(cell) or cell.expr.span) if given else cell.span if cell is not None else zipped.span
    return False, sources.diag("zipped-rewritten", message, span, path=block.cell_path(name),
                               notes=[f"the zipped sweep is at {_where_span(zipped.span)}"],
                               hints=hints)


def _marks(cell: ir.Cell | None, zipped: ir.Zipped) -> bool:
    """Whether `cell` is the mark a zipped sweep leaves on each of its names (blocks._inherit)."""
    return cell is not None and cell.sweep and cell.expr is None and cell.span == zipped.span
