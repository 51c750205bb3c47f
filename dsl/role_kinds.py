"""Role kinds (stage 3b, where a report's roles are bound): a usual role takes blocks of one kind.

`hardware = acme_3b` (a model) would otherwise pass every check of the report and fail in each formula that reads
`hardware.CELL`: fifteen errors in the bundled cost model, each listing the model's cells, none at the binding.
Here it is one error where the block is written (`error[role-kind]`, in the report or in `--set hardware=acme_3b`,
whose errors are bad usage); the report is checked all the same with the role refused, so that what reads it is not
checked against the wrong block (those errors would only repeat it), and the report's other errors come in the same
run.

The kind a role takes is linker.ROLE_KINDS (`model`, `hardware`, `workload`, `precision` take their own kind,
`stack` a `software` block, `costmodel` and `calibration` a `costmodel` block); a role of any other name takes any
block. A swept role is checked block by block: each block of the wrong kind is its own error, at its place in the list.

A list of blocks written without `sweep` (`model = [llama3_1_70b, mistral_7b]`) binds no role: every formula that
reads the role would be `unbound-role`, located in the cost model. Here it is one error at the line
(`error[role-list]`) that asks for `sweep`; in a report that extends another whose sweep of the role it replaces, its
note says so. The report is checked all the same, the role refused, as for a block of the wrong kind.

A misspelt role (`sweep hardwre = [h100_sxm5]` in a report whose cost model reads `hardware`) binds blocks that no
formula reads: the figures stay those of the `hardware` bound elsewhere while the misspelt column names the rows.
Where no formula, show or question reads the name and it is one slip (near_misses.misspelt) from a role one reads,
it is one error at the name (`error[misspelt-role]`) that names the role meant, as `--set hardwre=...` does. The
binding is one more axis that no formula reads, so the report is checked all the same (RoleErrors) and its other
errors come in the same run; an unbound role that the misspelt name meant says that it is the misspelling's doing.
"""

from __future__ import annotations

from . import ir
from .blocks import Block, SourceLines
from .errors import Diagnostic, PerfError, available, did_you_mean, in_override, override_example
from .linker import ROLE_KINDS, ROLE_WORDS, bindable_blocks, role_items, shadowing_refs, source_items


def refused_bindings(report: Block, blocks: dict[str, Block], sources: SourceLines) -> list[tuple[str, Diagnostic]]:
    """(role, error) for each role `report` binds in error: role_kind_errors, role_list_errors and
    shadowed_block_errors, in that order.
    The report is checked all the same with those roles refused (ReportContext.refused_roles): what reads one is not
    checked against it, and the report's other errors are said in the same run (RoleErrors). Raises nothing."""
    return (role_kind_errors(report, blocks, sources) + role_list_errors(report, blocks, sources)
            + shadowed_block_errors(report, blocks, sources))


def role_kind_errors(report: Block, blocks: dict[str, Block], sources: SourceLines) -> list[tuple[str, Diagnostic]]:
    """(role, error[role-kind]) for each block that `report` binds to a role of linker.ROLE_KINDS and that is of
    another kind, located where the block's name is written (the report, a block it extends, or a `--set` value).
    Raises nothing; [] where every binding fits."""
    found = []
    for role, items, swept in role_items(report, blocks):
        kind = ROLE_KINDS.get(role)
        if kind is None:
            continue
        names = {item.parts[0] for item in items}
        for item in items:
            block = blocks[item.parts[0]]
            if block.kind == kind:
                continue
            verb = "swept over" if swept and len(names) > 1 else "bound to"
            found.append((role, sources.diag(
                "role-kind", f"role '{role}' is {verb} {block.kind} '{block.name}'; it takes a {kind} block",
                item.span, path=report.cell_path(role), hints=_hints(role, kind, block, blocks))))
    return found


def _hints(role: str, kind: str, block: Block, blocks: dict[str, Block]) -> list[str]:
    """The blocks of the kind the role takes (the closest names first), and the roles the block itself fits."""
    takes = bindable_blocks(blocks, kind)          # not the families (`gpu`, `ada`) the parts extend
    if takes:
        hints = did_you_mean(block.name, takes) + [f"the role '{role}' takes a {kind} block; " + available(takes)]
    else:
        hints = [f"the role '{role}' takes a {kind} block, and no loaded file defines one: import the file that "
                 "defines the block meant"]
    fits = [other for other, wanted in ROLE_KINDS.items() if wanted == block.kind and other != role]
    if fits:
        hints.append(f"'{block.name}' is a {block.kind} block: it fits the role "
                     + " or ".join(f"'{other}'" for other in fits))
    return hints


def role_list_errors(report: Block, blocks: dict[str, Block], sources: SourceLines) -> list[tuple[str, Diagnostic]]:
    """(role, error[role-list]) for each cell of `report` that holds a list of bare names without `sweep` where those name
    blocks (or the cell is a usual role: `model = [a, b]`), located at the cell's name, where `sweep` is missing.
    Where the report extends one that sweeps the role, the note says that the line replaces that sweep. Raises
    nothing; [] where there is none."""
    found = []
    parent = blocks.get(report.parent) if report.parent else None
    for name, cell in report.cells.items():
        items = cell.expr.items if isinstance(cell.expr, ir.ListExpr) and not cell.sweep else ()
        if not items or not all(isinstance(item, ir.Ref) and len(item.parts) == 1 for item in items):
            continue
        if name not in ROLE_WORDS and name not in ROLE_KINDS \
                and not any(item.parts[0] in blocks for item in items):
            continue
        notes, sweeps = [], "sweeps the role over them"
        replaced = parent.cells.get(name) if parent is not None else None
        if replaced is not None and replaced.sweep and report.owner.get(name) == report.name:
            notes.append(f"report '{report.name}' extends '{parent.name}', whose `sweep {name}` is at "
                         f"{replaced.span.location()}: this line replaces that sweep, it does not add to it")
            sweeps = "sweeps the role over these blocks in place of the parent's"
        found.append((name, sources.diag(
            "role-list", f"report '{report.name}' gives the role '{name}' a list of blocks without `sweep`",
            cell.span, path=report.cell_path(name), notes=notes,
            hints=[f"did you mean `sweep {name} = [...]`? It {sweeps}; `{name} = NAME` binds one block"])))
    return found


def shadowed_block_errors(report: Block, blocks: dict[str, Block], sources: SourceLines
                          ) -> list[tuple[str, Diagnostic]]:
    """(role, error[shadowed-block]) for each place where `report` writes, as the block to bind, a name that is
    both one of its role cells and a loaded block (linker.shadowing_refs: `model = model`, `sweep model = [model, b]`,
    `model = hardware` beside a block `hardware` and `hardware = h100_sxm5`, in
    the report, a report it extends or a `--set` value), located at that name. Inside a report the name reads the
    report's own cell, which shadows the block: `model = model` would read itself (error[cycle]), a sweep would list
    its own cell beside blocks (error[mixed-sweep]). Raises nothing; [] where there is none."""
    found = []
    for role, ref, swept in shadowing_refs(report, blocks):
        name = ref.parts[0]         # the role itself (`model = model`) or another role cell (`model = hardware`)
        block = blocks[name]
        renamed = _free_name(name, blocks)
        if in_override(ref.span.file):
            written = override_example(role, renamed)
        elif not swept:
            written = f"`{role} = {renamed}`"
        elif role in report.cells and not any(role in zipped.names for zipped in report.zipped) \
                and isinstance(items := source_items(report.cells[role].expr, report, blocks), list) \
                and all(isinstance(item, ir.Ref) for item in items):
            written = f"`sweep {role} = [" + ", ".join(renamed if item.parts == (name,) else item.dotted
                                                       for item in items) + "]`"
        else:
            written = f"'{renamed}' in place of '{name}' among the sweep's values"
        # The report that writes it (one error for it and each report that extends it: the same message and place)
        owner = blocks.get(report.owner.get(role, report.name), report)
        found.append((role, sources.diag(
            "shadowed-block", f"inside report '{owner.name}', '{name}' names the report's own role cell, which "
                              f"shadows the block '{name}'",
            ref.span, path=owner.cell_path(role),
            notes=[f"the {block.kind} block '{name}' is defined at {block.span.location()}; a bare name inside a "
                   "report reads the report's own cell of that name before any block (docs/LANGUAGE.md, Reports)"],
            hints=[f"rename the block (e.g. `{block.kind} {renamed}`) and write {written}"])))
    return found


def _free_name(name: str, blocks: dict[str, Block]) -> str:
    """A name for a block named `name` like a role: `my_NAME`, or `my_NAME_2`, ... where that is loaded too."""
    renamed, number = f"my_{name}", 2
    while renamed in blocks:
        renamed, number = f"my_{name}_{number}", number + 1
    return renamed


def misspelt_roles(report: Block, blocks: dict[str, Block]) -> list[tuple[str, list[ir.Ref], bool, str]]:
    """The roles `report` binds blocks to (`sweep hardwre = [h100_sxm5]`, `hardwre = l40s`) under a name that no
    formula, show or question of the loaded files reads and that is one slip (near_misses.misspelt) from a role one
    reads: (the name, the blocks' references, whether swept, the role meant). The usual roles (linker.ROLE_WORDS,
    ROLE_KINDS) are left alone: a report may bind one that no formula reads."""
    from .near_misses import misspelt, reads
    from .errors import suggest

    found = []
    read = heads = None
    for role, items, swept in role_items(report, blocks):
        if role in ROLE_WORDS or role in ROLE_KINDS:
            continue
        if read is None:
            read, heads = reads(blocks)
        if role in read:
            continue
        slips = sorted(head for head in heads if head != role and misspelt(role, head))
        if not slips:
            continue
        meant = suggest(role, slips, limit=1) or slips[:1]      # (suggest gives none once its budget is spent)
        found.append((role, items, swept, meant[0]))
    return found


class RoleErrors(PerfError):
    """Errors of a report's role bindings whose axes could be built all the same (sweeps.build_context), so the
    report is still checked with `context` and its other errors said in the same run (with_report_check):
    error[misspelt-role] (a misspelt binding is one more axis that no formula reads; roles it leaves unbound among
    the others: `perfdsl check` said the misspelling alone), and error[role-kind] and error[role-list], whose roles
    `context` refuses (ReportContext.refused_roles: what reads one is that error's consequence, not checked; the
    report's other errors were not said). `misspellings`: misspelt_roles of the report."""

    def __init__(self, diagnostics: list[Diagnostic], context, misspellings: list[tuple[str, list[ir.Ref], bool, str]]):
        super().__init__(diagnostics)
        self.context = context
        self.misspellings = misspellings

    def with_report_check(self, checked: list[Diagnostic]) -> list[Diagnostic]:
        """These errors and `checked`, what the report's check found, where an unbound role that a misspelt one
        meant (`sweep hardwre = [...]` and no `hardware`) is a direct consequence of the misspelling: its note says so
        and where, rather than leaving it out (what reads the role is unbound until the name is mended)."""
        report = self.context.report
        for diagnostic in checked:
            if diagnostic.code != "unbound-role":
                continue
            for role, _, swept, meant in self.misspellings:
                if diagnostic.message.endswith(f"binds no block to the role '{meant}'"):
                    diagnostic.notes.append(
                        f"a consequence of error[misspelt-role] at {_role_span(report, role).location()}: the report "
                        f"{'sweeps' if swept else 'binds'} '{role}', one slip from '{meant}'; written '{meant}' "
                        "there, it binds this role")
        return list(self.diagnostics) + list(checked)


def _role_span(report: Block, role: str) -> ir.Span:
    """Where `report` binds `role`: its cell, or the zipped sweep that names it."""
    if role in report.cells:
        return report.cells[role].span
    return next(zipped for zipped in report.zipped if role in zipped.names).span


def misspelt_role_error(report: Block, role: str, items: list[ir.Ref], swept: bool, meant: str,
                        blocks: dict[str, Block], sources: SourceLines) -> Diagnostic:
    """error[misspelt-role] at the name of one of misspelt_roles (`role`, its blocks' `items`, `swept`, the role
    `meant`). Such a binding changes nothing the formulas compute, yet its blocks name the rows (a leading `hardwre`
    column of H100s beside the A100 figures of the `hardware` the report inherits)."""
    names = list(dict.fromkeys(item.parts[0] for item in items))
    zipped = next((zipped for zipped in report.zipped if role in zipped.names), None)
    span = _role_span(report, role)
    verb = "sweeps" if swept else "binds"
    what = ", ".join(names)
    notes = []
    bindings = {name: (kept, was_swept) for name, kept, was_swept in role_items(report, blocks)}
    if meant in bindings:
        kept, was_swept = bindings[meant]
        place = report.cells[meant].span if meant in report.cells else kept[0].span
        owner = report.owner.get(meant, report.name)
        where = f"{place.location()}" + ("" if owner == report.name else f", in report '{owner}'")
        them = ", ".join(dict.fromkeys(item.parts[0] for item in kept))
        notes.append(f"'{meant}', which the formulas read, stays {'swept over' if was_swept else 'bound to'} "
                     f"{them} ({where}): the rows would name {what} under '{role}' beside the figures of {them}")
    else:
        notes.append(f"report '{report.name}' binds nothing to '{meant}', which the formulas read")
    written = f"`sweep {meant} = [{what}]`" if swept else f"`{meant} = {what}`"
    if zipped is not None:                  # a column of a zipped sweep: its name in the tuple
        written = f"'{meant}' in place of '{role}' among the sweep's names"
    return sources.diag(
        "misspelt-role", f"report '{report.name}' {verb} '{role}', a role no formula reads", span,
        path=report.cell_path(role), notes=notes,
        hints=[f"did you mean '{meant}'? Write {written}",
               f"a role of another name is fine once a formula reads it (`{role}.CELL`)"])
