"""Linking (stage 3b): every reference of a program resolved once, into one dependency graph.

A formula names other cells as `x` (a cell of its own block), `block.x` (a cell of a named block) or `role.x` (a
cell of whatever block a report binds to the role: one block, or one per value of a swept role). The linker turns
each such name into a `Target` once per block and context, and records which cells each cell reads (its
precedents). The checker (dimensions), the evaluator (values), `explain` (the tree of precedents), overrides and
run points (the roles of a report) and the constant values of sweeps all read the same resolution; nothing else
resolves a name.

The roles of a report come from its cells (`report_roles`): `hardware = rtx_a5000` binds a role to one block,
`sweep model = [opt_1_3b, opt_6_7b]` sweeps a role over blocks, and a zipped sweep whose column lists blocks sweeps a
role too. Once the report's axes are known (`sweeps.build_context`), a swept role also carries its axis.

Names that do not resolve become `Unresolved` (a diagnostic code, message and hints) for the checker to report at the
place where the name is written.
"""

from __future__ import annotations

import os

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Iterator

from . import ir
from .errors import available, did_you_mean

if TYPE_CHECKING:
    from .blocks import Block
    from .context import ReportContext

# The usual role names: `model.params` in a cost model names a role even where no report binds it yet.
ROLE_WORDS = frozenset({"model", "hardware", "workload", "report", "costmodel", "parallel", "precision",
                        "stack"})
# The kind of block a usual role takes: its own name, but for `stack`, which takes a `software` block, and
# `calibration`, which takes the `costmodel` block of factors `perfdsl calibrate` writes (docs/LANGUAGE.md). A report
# that binds another kind is refused at the binding (role_kinds.py); a misspelt block's hints list this kind. A role
# of any other name (`parallel`, a report's own) takes a block of any kind.
ROLE_KINDS = {"model": "model", "hardware": "hardware", "workload": "workload", "costmodel": "costmodel",
              "precision": "precision", "stack": "software", "calibration": "costmodel"}


# The kinds whose concrete blocks name themselves as runs do (a model's `hf_id`, a GPU's, stack's or precision's
# `label`: matching.LABEL_CELLS), and whose families (`gpu`, `ada`, `llama_family`) are extended and carry none.
LABELLED_KINDS = frozenset({"model", "hardware", "software", "precision"})


def bindable_blocks(blocks: dict[str, "Block"], kind: str) -> list[str]:
    """The blocks of `kind` a role can be bound to, sorted, for the hints that list them: a family block (one that
    another loaded block extends and that has no `label` or `hf_id`, as hardware/gpu.perf's `gpu` and `ada`) is left
    out where the kind is one of LABELLED_KINDS; every block of the kind where none is concrete."""
    takes = sorted(name for name, block in blocks.items() if block.kind == kind)
    if kind not in LABELLED_KINDS:
        return takes
    parents = {block.parent for block in blocks.values() if block.parent}
    concrete = [name for name in takes
                if name not in parents or any(cell in blocks[name].cells for cell in ("label", "hf_id"))]
    return concrete or takes


def is_block_ref(expr: ir.Expr | None, blocks: dict[str, "Block"], own: "Block") -> bool:
    """Whether `expr` names a whole block (`rtx_a5000`), not a cell of `own` that happens to share the name."""
    return (isinstance(expr, ir.Ref) and len(expr.parts) == 1 and expr.parts[0] in blocks
            and expr.parts[0] not in own.cells)


def source_items(expr: ir.Expr, block: "Block", blocks: dict[str, "Block"]) -> list[ir.Expr] | ir.RangeExpr:
    """The items of a sweep's source: a list, a range, or a reference to a cell that holds one (followed, once each)."""
    seen: set[tuple[str, str]] = set()
    while True:
        if isinstance(expr, ir.ListExpr):
            return list(expr.items)
        if isinstance(expr, ir.RangeExpr):
            return expr
        if not isinstance(expr, ir.Ref):
            return [expr]
        if len(expr.parts) == 1:
            target, name = block, expr.parts[0]
            if name in blocks and name not in block.cells:
                return [expr]
        else:
            target, name = blocks.get(expr.parts[0]), expr.parts[1]
        if target is None or name not in target.cells or (target.name, name) in seen:
            return [expr]
        cell = target.cells[name]
        if cell.expr is None:
            return [expr]
        seen.add((target.name, name))
        expr, block = cell.expr, target


def shadowing_refs(report: "Block", blocks: dict[str, "Block"]) -> Iterator[tuple[str, ir.Ref, bool]]:
    """Where `report` writes, as the block to bind to a role, a bare name that is both one of its own role cells
    and a loaded block (`model = model`, `sweep model = [model, b]`, a zipped sweep's column `model` holding `model`,
    and as well `model = hardware` beside a block `hardware` where the report binds `hardware = h100_sxm5`): (the
    role, the reference, whether swept), in the order of its cells and then its zipped sweeps. Inside a report a bare
    name reads the report's own cell of that name before any block, so the cell shadows the block: `model = model`
    reads itself (a cycle), `model = hardware` reads the hardware role (a block binding, not a value) and a sweep
    lists a cell beside blocks. role_kinds.shadowed_block_errors says it at the reference; nothing for a block of
    another kind, whose cells bind no role."""
    if report.kind != "report":
        return
    roles = {name for name, _, _ in role_items(report, blocks)}
    for name, cell in report.cells.items():
        if cell.expr is None:
            continue
        if not cell.sweep:
            if shadows_block(cell.expr, name, report, blocks, roles):
                yield name, cell.expr, False
            continue
        items = source_items(cell.expr, report, blocks)
        if isinstance(items, list):
            yield from ((name, item, True) for item in items if shadows_block(item, name, report, blocks, roles))
    for zipped in report.zipped:
        items = source_items(zipped.source, report, blocks)
        if not isinstance(items, list):
            continue
        for column, name in enumerate(zipped.names):
            yield from ((name, item.items[column], True) for item in items
                        if isinstance(item, ir.TupleExpr) and len(item.items) == len(zipped.names)
                        and shadows_block(item.items[column], name, report, blocks, roles))


def shadows_block(item: ir.Expr, name: str, block: "Block", blocks: dict[str, "Block"],
                  roles: set[str] | None = None) -> bool:
    """Whether `item`, written among the values of the report cell (or zipped column) `name` of `block`, is a bare
    name that is both a loaded block and a cell of the report that shadows it: the cell's own name, or another cell
    that binds a role (`roles`: role_items' names, worked out where None) (shadowing_refs)."""
    if block.kind != "report" or not isinstance(item, ir.Ref) or len(item.parts) != 1:
        return False
    shadowed = item.parts[0]
    if shadowed not in blocks or shadowed not in block.cells:
        return False
    if shadowed == name:
        return True
    if roles is None:
        roles = {role for role, _, _ in role_items(block, blocks)}
    return shadowed in roles


@dataclass(frozen=True)
class RoleBinding:
    """A role a report binds: to one block (`swept` False) or swept over blocks (one per value of its axis)."""

    name: str
    blocks: tuple[str, ...]
    swept: bool


def report_roles(report: "Block", blocks: dict[str, "Block"]) -> dict[str, RoleBinding]:
    """The roles a report binds, read from its cells in the order they are written ({} for a block of another kind).

    `report` itself is always bound to the report. Raises nothing: a sweep that mixes blocks and values is reported
    when the report's axes are built.
    """
    roles = {"report": RoleBinding("report", (report.name,), False)}
    for name, items, swept in role_items(report, blocks):
        roles[name] = RoleBinding(name, tuple(dict.fromkeys(item.parts[0] for item in items)), swept)
    return roles


def role_items(report: "Block", blocks: dict[str, "Block"]) -> Iterator[tuple[str, list[ir.Ref], bool]]:
    """The roles a report writes, as (role, the block names written for it, each where it is written, swept), in
    the order of its cells and then its zipped sweeps: `hardware = a5000` gives one item, `sweep model = [a, b]`
    (or a zipped sweep's column of blocks) one per value. A sweep that mixes blocks and values binds no role."""
    for name, cell in report.cells.items():
        if cell.expr is None:
            continue
        if not cell.sweep:
            if is_block_ref(cell.expr, blocks, report):
                yield name, [cell.expr], False
            continue
        items = source_items(cell.expr, report, blocks)
        if isinstance(items, list) and items and all(is_block_ref(item, blocks, report) for item in items):
            yield name, items, True
    for zipped in report.zipped:
        items = source_items(zipped.source, report, blocks)
        if not isinstance(items, list):
            continue
        for column, name in enumerate(zipped.names):
            values = [item.items[column] for item in items
                      if isinstance(item, ir.TupleExpr) and len(item.items) == len(zipped.names)]
            if values and all(is_block_ref(value, blocks, report) for value in values):
                yield name, values, True


@dataclass(frozen=True)
class Target:
    """Where a name leads: a cell of one block, of each block a swept role takes, or of a role still open.

    `blocks` holds one block name, the distinct blocks of a swept role (then `role` names it), or nothing for a role
    that no report binds yet (checking a library file on its own).
    """

    cell: str
    blocks: tuple[str, ...]
    role: str | None = None
    swept: bool = False

    @property
    def open(self) -> bool:
        return not self.blocks


@dataclass(frozen=True)
class Unresolved:
    """A name that leads nowhere, as the checker reports it where the name is written."""

    code: str
    message: str
    hints: tuple[str, ...] = ()
    severity: str = "error"           # "error" | "warning" | "consequence" (of an error reported elsewhere: silent)


@dataclass
class Linker:
    """The resolution of every name in one context: no report (`ctx` None), or one report with its roles bound.

    `known_roles` (without a report) are the roles some loaded report binds: a role outside them and the usual
    ones is likely a typo and gets a warning.
    """

    blocks: dict[str, "Block"]
    ctx: "ReportContext | None" = None
    known_roles: set[str] | None = None
    _targets: dict[tuple, Target | Unresolved] = field(default_factory=dict)   # by (block, name), or dotted name
    _precedents: dict[tuple[str, str], tuple[tuple[str, str], ...]] = field(default_factory=dict)
    _given: set[tuple[str, str]] = field(default_factory=set)     # cells that reach no input left open (all_given)

    # -- names -------------------------------------------------------------------------------------------------
    def target(self, parts: tuple[str, ...], block: "Block") -> Target | Unresolved:
        """Where `parts` (`("x",)` or `("role", "x")`) written in `block` leads; computed once per block and name,
        and once for a dotted name, which leads to the same place from every block (_resolve reads no block for
        it): 3,974 resolutions of such names instead of 6,562 in a check of the library files."""
        key = (block.name, parts) if len(parts) == 1 else parts
        found = self._targets.get(key)
        if found is None:
            found = self._targets[key] = self._resolve(parts, block)
        return found

    def _resolve(self, parts: tuple[str, ...], block: "Block") -> Target | Unresolved:
        if len(parts) == 1:
            return self._resolve_local(parts[0], block)
        head, cell = parts
        ctx = self.ctx
        if ctx is not None and head in ctx.refused_roles:
            # `hardware = acme_3b` (a model), `model = [a, b]`: one error at the binding (role_kinds.py) says it;
            # what reads the role is not checked against it (nor said again as unbound).
            return Unresolved("unbound-role", f"the role '{head}' is bound in error", severity="consequence")
        if ctx is not None and head in ctx.fixed_roles:
            targets, role, swept = (ctx.fixed_roles[head],), head, False
        elif ctx is not None and head in ctx.swept_roles:
            targets, role, swept = tuple(ctx.role_blocks(head)), head, True
        elif head in self.blocks and not (ctx is None and head in ROLE_WORDS):
            targets, role, swept = (head,), None, False
        elif ctx is None:
            return self._open_role(head, cell)
        else:
            return self._unbound_role(head, ".".join(parts))
        for name in targets:
            target = self.blocks[name]
            if cell not in target.cells:
                node = target.node
                if target.parent is None and node is not None and node.parent is not None:
                    # Its parent is unknown or in a cycle (one error at its `extends`): the cell may be one it
                    # would inherit, so a reference to it is that error's consequence, not another error.
                    return Unresolved("unknown-name", f"'{name}' has no cell '{cell}'", severity="consequence")
                return Unresolved("unknown-name", f"'{name}' has no cell '{cell}'"
                                  + (f" (bound to the role '{head}')" if head not in self.blocks else ""),
                                  tuple(did_you_mean(cell, target.cells) + [available(target.cells)]))
        return Target(cell, targets, role, swept)

    def _resolve_local(self, name: str, block: "Block") -> Target | Unresolved:
        if name in block.cells:
            if name in self.blocks and block.kind == "report" \
                    and any(ref.parts[0] == name for _, ref, _ in shadowing_refs(block, self.blocks)):
                # `model = model` (or `model = hardware`) beside a block of that name: the cell shadows the block,
                # one error at the binding (role_kinds.shadowed_block_errors) says so; read as the cell, it would
                # be a cycle (or a block binding read as a value) besides.
                return Unresolved("shadowed-block", f"'{name}' names the report's own cell, which shadows the block "
                                  f"'{name}'", severity="consequence")
            return Target(name, (block.name,))
        if name in self.blocks:
            return Unresolved("block-as-value", f"'{name}' is a block, not a value",
                              (f"reach one of its cells with '{name}.CELL'",))
        if name in (self.ctx.roles if self.ctx is not None else ROLE_WORDS | (self.known_roles or set())):
            return Unresolved("block-as-value", f"'{name}' is a role, not a value",
                              (f"reach one of its cells with '{name}.CELL'",))
        from .library import import_hint
        from .units import is_unit

        if block.kind == "report":
            from .shown_names import close_labels, label_message

            labelled = label_message(name, block)
            if labelled is not None:
                # A column's `as` label, read where only cells are (a report cell: shown_names says why).
                return Unresolved("unknown-name", labelled[0], tuple(labelled[1]))
            # A report binds roles to blocks by name (`stack = vllm`): a misspelt block is the likely slip.
            # (Where a bundled file defines the name, importing it is the answer: no guesses beside it.)
            role_hints = self._role_value_hints(name, block)
            if role_hints is not None:
                hints = role_hints
            else:
                known = sorted(b for b in self.blocks if self.blocks[b].kind != "report")
                hints = import_hint(name) or did_you_mean(name, [*block.cells, *known])
                hints += close_labels(name, block, after_cells=bool(hints))
                # `sweep batch` in the workload the report binds is the report's axis `batch`, yet a cell of the
                # workload: read as `workload.batch`, which the list of the report's own cells would not name.
                dotted = self._bound_cells(name, block)
                if dotted:
                    hints.append(f"'{name}' is a cell of a block the report binds: write "
                                 + " or ".join(f"'{d}'" for d in dotted))
                hints.append(available([*block.cells, *dotted]))
        else:
            hints = import_hint(name) + did_you_mean(name, block.cells) + [available(block.cells)]
        if is_unit(name):
            hints.append(f"'{name}' is a unit: a unit follows its number and has no spaces inside it, "
                         "e.g. `768 GB/s`")
        return Unresolved("unknown-name", f"unknown name '{name}' in {block.kind} '{block.name}'", tuple(hints))

    def _bound_cells(self, name: str, report: "Block") -> list[str]:
        """`role.name` for each role of `report` bound to a block that has the cell `name`, in the report's order."""
        return [f"{role}.{name}" for role, binding in report_roles(report, self.blocks).items() if role != "report"
                and any(name in self.blocks[b].cells for b in binding.blocks if b in self.blocks)]

    def _role_value_hints(self, name: str, report: "Block") -> list[str] | None:
        """The hints for `name` written as the block a usual role is bound to (`model = opt_14b`, in the report or
        by `--set model=opt_14b`): the file to import where a .perf file beside the report or a bundled one defines
        the name (library.import_hint), else the closest blocks of the role's kind; then the list of those blocks, or
        that none is loaded. None where `name` is written
        otherwise (then it may be any name of the report, whose cells are what is available). A misspelt block among
        a swept role's blocks is mostly the sweep's error (sweeps.py)."""
        written: list[ir.Ref] = []

        def names(cell: ir.Cell) -> bool:
            items = source_items(cell.expr, report, self.blocks) if cell.sweep else [cell.expr]
            refs = [item for item in items if isinstance(item, ir.Ref) and item.parts == (name,)] \
                if isinstance(items, list) else []
            written.extend(refs)
            return bool(refs)

        roles = [cell_name for cell_name, cell in report.cells.items()
                 if cell_name in ROLE_KINDS and cell.expr is not None and names(cell)]
        if len(roles) != 1:
            return None
        role, kind = roles[0], ROLE_KINDS[roles[0]]
        takes = bindable_blocks(self.blocks, kind)          # not the families (`gpu`, `ada`) the parts extend
        from .library import import_hint

        # Where a file beside the report or a bundled one defines the name, importing it is the answer: no guess
        # among the loaded blocks (they are not what is meant), only the list of what the role takes as it stands.
        # Not for a name given with --set: the report's file is not the user's to edit (a bundled report), and a
        # near miss of a loaded block (`llama3_8b` for llama3_1_8b) is the likelier slip there, so it comes first.
        if written and all(ref.span is not None and ref.span.file.startswith("--set") for ref in written):
            from .library import nearby_import

            hints = did_you_mean(name, takes)
            beside = nearby_import(name, report.file)
            if beside is not None:
                other = os.path.normpath(os.path.join(os.path.dirname(report.file), beside))
                hints.append(f"'{name}' is defined in {other}, which '{report.name}' does not import: load that "
                             f"file too (perfdsl eval {report.file} {other} --report {report.name} --set ...)")
            else:
                hints += import_hint(name)
        else:
            hints = import_hint(name, report.file) or did_you_mean(name, takes)
        if takes:
            hints.append(f"the role '{role}' takes a {kind} block; " + available(takes))
        elif not hints:
            hints.append(f"the role '{role}' takes a {kind} block, and no loaded file defines one: import the file "
                         f"that defines '{name}'")
        return hints

    def _open_role(self, head: str, cell: str) -> Target | Unresolved:
        """A role only a report binds. Where no loaded report binds a role of that name and it is none of the
        usual ones, it is likely a typo (`modle.params`): a warning, and the name stays open."""
        if self.known_roles is not None and head not in self.known_roles:
            return Unresolved("unknown-role", f"'{head}' is neither a block nor a role that a report binds",
                              tuple(did_you_mean(head, self.known_roles | set(self.blocks))
                                    + ["roles: " + ", ".join(sorted(self.known_roles))]), severity="warning")
        return Target(cell, (), head)

    def _unbound_role(self, head: str, dotted: str) -> Unresolved:
        ctx = self.ctx
        # `report` names the report itself in formulas, but no report binds it: not among the roles listed.
        roles = [role for role in ctx.roles if role != "report"]
        if self._binds_undefined_name(head):
            # `model = llama3_1_8b` where nothing defines llama3_1_8b: that cell's own error says so, once; every
            # formula that reads the role would only repeat it.
            return Unresolved("unbound-role", f"the role '{head}' is bound to a name no loaded file defines",
                              severity="consequence")
        if head in ROLE_WORDS and ctx.report.kind != "report":
            return Unresolved("unbound-role", f"'{dotted}' refers to the role '{head}', which only a report binds",
                              ("evaluate it through a report that binds the role",))
        if head in ROLE_WORDS:
            candidates = self.role_candidates(dotted.split(".", 1)[1], kind=ROLE_KINDS.get(head))
            # The error stands where the role is read (often a bundled cost model): the hint says where the report is,
            # which a check of many files, several defining a `report r`, would otherwise leave to guess.
            span = ctx.report.span
            where = f" ({span.file}:{span.line})" if span is not None else ""
            return Unresolved("unbound-role", f"report '{ctx.report.name}' binds no block to the role '{head}'",
                              (f"add `sweep {head} = [...]` or `{head} = NAME` to report '{ctx.report.name}'{where}",)
                              + ((f"blocks that could fill it: {candidates}",) if candidates else ())
                              + ("roles bound: " + (", ".join(roles) or "none"),))
        from .library import import_hint

        return Unresolved("unknown-name", f"unknown role or block '{head}'",
                          tuple(import_hint(head) + did_you_mean(head, list(ctx.roles) + list(self.blocks))
                                + [f"roles bound by report '{ctx.report.name}': " + (", ".join(roles) or "none")]))

    def role_candidates(self, cell: str, shown: int = 16, kind: str | None = None) -> str:
        """The loaded blocks that could fill a role read as `ROLE.cell`: those of a kind a report binds (not
        reports, cost models or workloads; `kind`, where given: the role's own, ROLE_KINDS, as `hardware` takes a
        hardware block) that define `cell` and give every cell a value (a base block such as `software stack`, which
        only declares, cannot fill it), by name; the first `shown`, then how many more. '' where none does."""
        names = sorted(name for name, block in self.blocks.items()
                       if block.kind not in ("report", "costmodel", "workload") and cell in block.cells
                       and (kind is None or block.kind == kind)
                       and all(c.expr is not None for c in block.cells.values()))
        if len(names) > shown:
            return ", ".join(names[:shown]) + f" and {len(names) - shown} more"
        return ", ".join(names)

    def _binds_undefined_name(self, role: str) -> bool:
        """Whether the report tries to bind `role` to names that no loaded file defines (reported at the binding)."""
        cell = self.ctx.report.cells.get(role)
        if cell is None or cell.expr is None:
            return False
        items = source_items(cell.expr, self.ctx.report, self.blocks) if cell.sweep else [cell.expr]
        return isinstance(items, list) and any(
            isinstance(item, ir.Ref) and len(item.parts) == 1 and item.parts[0] not in self.blocks
            and item.parts[0] not in self.ctx.report.cells for item in items)

    def block_at(self, target: Target, fix: dict[int, int]) -> "Block":
        """The block a resolved target reads at a point whose swept roles are fixed (`fix`: axis -> position)."""
        if target.swept:
            index, coord = self.ctx.swept_roles[target.role]
            return self.blocks[coord.values[fix[index]]]
        return self.blocks[target.blocks[0]]

    # -- the dependency graph ----------------------------------------------------------------------------------
    def precedents(self, block: "Block", name: str) -> tuple[tuple[str, str], ...]:
        """The (block, cell) pairs the cell's formula reads, through every block a swept role can take."""
        key = (block.name, name)
        found = self._precedents.get(key)
        if found is None:
            cell = block.cells[name]
            pairs: dict[tuple[str, str], None] = {}
            if cell.expr is not None and not cell.sweep:
                for ref in refs_of(cell.expr):
                    target = self.target(ref.parts, block)
                    if isinstance(target, Target):
                        for target_block in target.blocks:
                            pairs[(target_block, target.cell)] = None
            found = self._precedents[key] = tuple(pairs)
        return found

    def reachable(self, roots: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """Every cell the roots read, directly or not, the roots included (iterative: no depth limit)."""
        seen: dict[tuple[str, str], None] = {}
        stack = list(roots)
        while stack:
            key = stack.pop()
            if key in seen or key[0] not in self.blocks or key[1] not in self.blocks[key[0]].cells:
                continue
            seen[key] = None
            stack.extend(self.precedents(self.blocks[key[0]], key[1]))
        return list(seen)

    def all_given(self, roots: Iterable[tuple[str, str]]) -> bool:
        """Whether no cell the roots read, directly or not (the roots included), is a declared input left without a
        value: what a scan of `reachable(roots)` for such a cell finds, without walking again the cells a former
        call found to reach none. A walk that ends without finding one has seen every cell each of its cells reads,
        so each of them reaches none (kept in `_given`); a walk that finds one stops there and keeps nothing."""
        given, blocks = self._given, self.blocks
        seen: set[tuple[str, str]] = set()
        stack = list(roots)
        while stack:
            key = stack.pop()
            if key in seen or key in given:
                continue
            block = blocks.get(key[0])
            if block is None or key[1] not in block.cells:
                continue
            cell = block.cells[key[1]]
            if cell.expr is None and not cell.sweep:
                return False
            seen.add(key)
            stack.extend(self.precedents(block, key[1]))
        given.update(seen)
        return True


def refs_of(expr: ir.Expr) -> list[ir.Ref]:
    """The distinct references of a formula, in the order they are written (iterative: any depth). Found once per
    formula node (ir.once_per_node): a parsed formula is frozen, and the programs of one `perfdsl check` share their
    parsed libraries, so the same condition or formula is asked for again in every block that inherits it (a GPU
    family's `require`s, in each of its GPUs: 5,316 calls for 518 formulas in a check of the library files, -j 1)."""
    return list(_refs(expr))


@ir.once_per_node
def _refs(expr: ir.Expr) -> tuple[ir.Ref, ...]:
    found: dict[str, ir.Ref] = {}
    for node in walk(expr):
        if isinstance(node, ir.Ref) and node.dotted not in found:
            found[node.dotted] = node
    return tuple(found.values())


_CHILDREN = {"num": (), "str": (), "bool": (), "ref": (), "unary": ("operand",), "binary": ("left", "right"),
             "range": ("start", "stop", "step")}
_ITEMS = {"call": "args", "list": "items", "tuple": "items"}


_LEAVES = frozenset({"num", "str", "bool", "ref"})


def walk(expr: ir.Expr) -> Iterator[ir.Expr]:
    """Every node of an expression tree, parents before children, left to right. The leaves and the operators, most
    of the nodes, are taken apart here rather than by `children` (a call and a list fewer each)."""
    stack = [expr]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        yield node
        kind = getattr(node, "kind", "")
        if kind in _LEAVES:
            continue
        if kind == "binary":
            push(node.right)
            push(node.left)
        elif kind == "unary":
            push(node.operand)
        else:
            stack.extend(reversed(children(node)))


def children(node: ir.Expr) -> list[ir.Expr]:
    """The direct sub-formulas of a formula node, left to right."""
    kind = getattr(node, "kind", "")
    names = _CHILDREN.get(kind)
    if names is None:
        # A call's arguments, a list's or a tuple's items: their only sub-formulas (pydantic's __getattr__ makes a
        # miss of the lookups below slow).
        sub = _ITEMS.get(kind)
        if sub is not None:
            return list(getattr(node, sub))
        # any node kind added later: looked up by name
        found = [child for name in ("operand", "left", "right", "start", "stop", "step")
                 if (child := getattr(node, name, None)) is not None]
        found.extend(getattr(node, "args", ()) or getattr(node, "items", ()))
        return found
    return [child for name in names if (child := getattr(node, name)) is not None]  # without pydantic's slow path
