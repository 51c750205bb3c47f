"""Block table (stage 3a): every block of every loaded module, with `extends` resolved.

A block's effective cells are its parent's cells overridden by its own. An override keeps the dimension that the
parent declared: the declaration is carried onto the overriding cell, so the checker enforces it.

A file's `set { BLOCK.CELL = ... }` entries (a calibration's fitted cells) are written into the named block before
`extends` is resolved, as if the block had defined the cell, so blocks that extend it inherit the new value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import ir
from .errors import Diagnostic, available, did_you_mean, error
from .ir_builder import CODE_BEFORE_COMMENT
from .library import import_hint
from .syntax_errors import STATEMENTS

from .ir import BLOCK_KINDS  # noqa: F401 - re-exported: the block kinds are part of the block table

if TYPE_CHECKING:
    from .shared_checks import CheckSession


@dataclass
class Block:
    """A block with its inheritance resolved."""

    kind: str
    name: str
    node: ir.Block
    parent: str | None
    cells: dict[str, ir.Cell] = field(default_factory=dict)
    owner: dict[str, str] = field(default_factory=dict)       # cell name -> block that wrote it
    zipped: list[ir.Zipped] = field(default_factory=list)
    shows: list[ir.ShowItem] = field(default_factory=list)
    wheres: list[ir.Where] = field(default_factory=list)      # a report's filters: its own and its parents'
    questions: list[ir.Question] = field(default_factory=list)  # its own reduction, else its parent's
    requires: list[tuple[str, ir.Require]] = field(default_factory=list)   # (block that wrote it, constraint)
    lineage: list[str] = field(default_factory=list)          # this block, its parent, ...
    # cell name -> the cell a `set { BLOCK.CELL = ... }` (or a --set) replaced where the checker holds the new value
    # to its type: a literal a formula replaced, or a formula any value replaced (Checker._check_set)
    set_over: dict[str, ir.Cell] = field(default_factory=dict)

    @property
    def file(self) -> str:
        """The file the block is written in."""
        return self.node.file

    @property
    def span(self) -> ir.Span:
        """The span of the block's name where it is defined."""
        return self.node.span

    def cell_path(self, name: str) -> str:
        """The full path of cell `name` as diagnostics print it: "KIND.BLOCK.CELL" ("hardware.rtx_a5000.mem_bw")."""
        return f"{self.kind}.{self.name}.{name}"


class SourceLines:
    """The text of every loaded file, to quote the offending line in a diagnostic.

    Lines are cut at '\n' only, as the parser counts them: str.splitlines also cuts at U+2028, U+2029, a form feed
    and other separators a string may hold, and quoted the wrong line below one (the '\r' of a '\r\n' is dropped
    when a line is quoted). A file's text is cut into lines at its first quote: most programs of a `perfdsl check`
    quote none of the files they load."""

    def __init__(self, modules: list[ir.Module]):
        self._texts = {m.file: m.source for m in modules}
        self._lines: dict[str, list[str]] = {}

    def add(self, file: str, text: str) -> None:
        """Keep the text of one more file (such as the `--set` values) for quoting."""
        self._texts[file] = text
        self._lines.pop(file, None)

    def line(self, file: str, line: int) -> str | None:
        """Line `line` (1-based) of `file`, without its newline; None for an unknown file or a line out of range."""
        lines = self._lines.get(file)
        if lines is None:
            text = self._texts.get(file)
            if text is None:
                return None
            lines = self._lines[file] = text.split("\n")
        if not 0 < line <= len(lines):
            return None
        return lines[line - 1].removesuffix("\r")

    def cell_comment(self, cell: ir.Cell) -> str:
        """The comment written after a cell on its last line (`mem_bw = 3350 GB/s   # gpus.csv: 3350 ...`), with the
        comment lines right below it indented deeper than the cell's line (its continuation, in whatever column it
        is aligned: the library aligns some with the code, not the `#`; a comment at the cell's own indentation is
        the next cell's), joined by spaces; "" where
        the line goes on with code (`a = 1; b = 2`) or has no comment. A formula written over several lines keeps
        the comment of each of its lines too, in order, joined by "; " (transformer.perf's attn_params_per_layer
        names the term of each line: `# q_norm, k_norm`, ...; only its last line's was shown). Where a datasheet
        figure comes from: `explain` and the workbook's Inputs sheet show it."""
        span = cell.expr.span if cell.expr is not None else (cell.declared_span or cell.span)
        inside = [comment for number in range(span.line, span.end_line)
                  if (comment := _line_comment(self.line(span.file, number) or ""))]
        last = self._last_line_comment(span)
        return "; ".join(inside + [last] if last else inside)

    def _last_line_comment(self, span: ir.Span) -> str:
        """The comment after the code ending at `span` and its continuation lines (see cell_comment)."""
        line = self.line(span.file, span.end_line)
        if line is None:
            return ""
        text = line[span.end_col - 1:].lstrip()
        if not text.startswith("#"):
            return ""
        indent = len(line) - len(line.lstrip())
        parts = [text[1:].strip()]
        number = span.end_line + 1
        while (following := self.line(span.file, number)) is not None:
            rest = following.lstrip()
            if not rest.startswith("#") or len(following) - len(rest) <= indent:
                break
            parts.append(rest[1:].strip())
            number += 1
        return " ".join(part for part in parts if part)

    def diag(self, code: str, message: str, span: ir.Span | None, **kwargs) -> Diagnostic:
        """An error Diagnostic located at `span`, quoting its line; `kwargs` are those of errors.error (path, hints,
        notes). With `span` None, the diagnostic has no location."""
        if span is None:
            return error(code, message, **kwargs)
        return error(code, message, span.location(), source_line=self.line(span.file, span.line), **kwargs)


def _line_comment(line: str) -> str:
    """The comment at the end of one line of code (after a `#` outside any string), stripped; "" where none."""
    rest = line[CODE_BEFORE_COMMENT.match(line).end():]
    return rest[1:].strip() if rest.startswith("#") else ""


def build_blocks(modules: list[ir.Module], sources: SourceLines, session: "CheckSession | None" = None
                 ) -> tuple[dict[str, Block], list[Diagnostic]]:
    """The block table of the loaded modules: every block by name with `extends` resolved (its parent's cells overridden
    by its own) and each file's `set { ... }` entries applied first. Raises nothing: the second item lists the
    diagnostics found (duplicate-block, duplicate-cell, unknown-name and duplicate-set for `set`, unit-mismatch,
    unknown-parent, extends-cycle, kind-mismatch); a block whose parent cannot be resolved is kept without it.
    With a `session` (shared_checks.CheckSession), a block already built there from the same node and parent Block
    is reused, the same object."""
    diagnostics: list[Diagnostic] = []
    nodes = _definitions(modules, sources, diagnostics)
    for node in nodes.values():
        if _names_distinct(node):
            continue                                 # most blocks: no duplicate-cell to look for, cell by cell
        seen_cells: dict[str, ir.Cell] = {}
        for cell in node.cells:
            if cell.name in seen_cells:
                diagnostics.append(sources.diag(
                    "duplicate-cell", f"cell '{cell.name}' is defined twice in {node.kind} '{node.name}'",
                    cell.span, notes=[f"first defined at {seen_cells[cell.name].span.location()}"]))
            seen_cells[cell.name] = cell
        for zipped in node.zipped:
            for name in zipped.names:
                if name in seen_cells:
                    diagnostics.append(sources.diag(
                        "duplicate-cell", f"cell '{name}' is defined twice in {node.kind} '{node.name}'",
                        zipped.span))
                seen_cells[name] = ir.Cell.model_construct(name=name, span=zipped.span, sweep=True)

    set_over = _apply_sets(modules, nodes, sources, diagnostics, session)
    blocks: dict[str, Block] = {}
    inherit = (lambda node, parent: session.inherit(node, parent, _inherit)) if session is not None else _inherit
    for name in nodes:
        _resolve_chain(name, nodes, blocks, sources, diagnostics, inherit)
    for (name, cell_name), replaced in set_over.items():
        # the set block and every block that inherits the set cell from it (an `extends` chain checks it there too)
        for block in blocks.values():
            if name in block.lineage and block.owner.get(cell_name) == name:
                block.set_over[cell_name] = replaced
    return blocks, diagnostics


@ir.once_per_node
def _names_distinct(node: ir.Block) -> bool:
    """Whether the names of a parsed block's cells and zipped sweeps are all distinct: found once per node
    (ir.once_per_node), since the programs of a `perfdsl check` share their parsed libraries (some 2,000 blocks of
    275 nodes in a check of the library files)."""
    names = [cell.name for cell in node.cells] + [name for zipped in node.zipped for name in zipped.names]
    return len(set(names)) == len(names)


def _definitions(modules: list[ir.Module], sources: SourceLines, diagnostics: list[Diagnostic]) -> dict[str, ir.Block]:
    """Every block node by name, in the order the modules define them; a name defined more than once keeps its
    first definition in load order (_load_order: a file after the files it imports, as their text comes before its
    own) and each other one is a duplicate-block error, located at it. So a block that repeats one of an imported
    file is the error, in the file that imports, whichever file was given on the command line."""
    found: dict[str, list[tuple[int, ir.Block]]] = {}
    for index, module in enumerate(modules):
        for node in module.blocks:
            found.setdefault(node.name, []).append((index, node))
    repeated = [name for name, defined in found.items() if len(defined) > 1]
    if repeated:
        order = _load_order(modules)
        for name in repeated:
            defined = sorted(found[name], key=lambda pair: (order[pair[0]], pair[1].span.line, pair[1].span.col))
            found[name] = defined
            first = defined[0][1]
            for _, node in defined[1:]:
                diagnostics.append(sources.diag(
                    "duplicate-block", f"block '{name}' is defined twice", node.span,
                    notes=[f"first defined at {first.span.location()}"],
                    hints=["block names are global over every loaded file; rename one of them"]))
    return {name: defined[0][1] for name, defined in found.items()}


def _load_order(modules: list[ir.Module]) -> dict[int, int]:
    """Module index -> its place in load order, where each file comes after the files it imports (in the order its
    imports are written) and files given first come first: a depth-first walk of the imports, each file placed once
    its imports are (iterative: any depth; an import cycle is cut where it closes). Imports are resolved again as
    the loader resolved them (loader.resolve_import), which only a duplicate block makes worth doing."""
    from pathlib import Path

    from .loader import resolve_import

    by_path: dict[Path, int] = {}
    for index, module in enumerate(modules):
        try:
            by_path.setdefault(Path(module.file).resolve(), index)
        except (OSError, ValueError):
            continue

    def imports(index: int) -> list[int]:
        module = modules[index]
        here = Path(module.file)
        importer = here if here.is_file() else None
        targets = (resolve_import(imp.path, importer) for imp in module.imports)
        return [by_path[target] for target in targets if target in by_path]

    order: dict[int, int] = {}
    visited: set[int] = set()
    for root in range(len(modules)):
        if root in visited:
            continue
        visited.add(root)
        stack = [(root, iter(imports(root)))]
        while stack:
            index, pending = stack[-1]
            child = next(pending, None)
            if child is None:
                stack.pop()
                order[index] = len(order)
            elif child not in visited:
                visited.add(child)
                stack.append((child, iter(imports(child))))
    return order


def choice_fields(cell: ir.Cell) -> dict:
    """The fields that make a cell a declared choice, to carry onto a cell that overrides it."""
    return {"declared": cell.declared, "declared_span": cell.declared_span, "choices": cell.choices,
            "choice_blocks": cell.choice_blocks}


def _apply_sets(modules: list[ir.Module], nodes: dict[str, ir.Block], sources: SourceLines,
                diagnostics: list[Diagnostic], session: "CheckSession | None" = None
                ) -> dict[tuple[str, str], ir.Cell]:
    """Write every `set { BLOCK.CELL = ... }` entry into its block; a cell set twice, or one no block has, is an
    error, and so is a number of another dimension over a number. With a `session`, the same entry written into the
    same node gives the same new node (CheckSession.set_in), so the Blocks built from it, and the records of their
    cells, are shared by the programs that import the same `set` (a calibration file).

    Returns, by (block, cell), the literal (a number, string or boolean, not declared) that a formula was set over,
    or the formula that any value was set over: a formula's type is known only to the checker, which holds the new
    value to the old one's type (Checker._check_set), so that `set { h.x = hardware.mem_bw }` over `x = 1`, or
    `set { wl.tput = 5 GB }` over `tput = batch / t`, is an error at the set, not wherever a formula reads the cell
    (or nowhere: a shown cell changed its dimension)."""
    done: dict[tuple[str, str], ir.SetStmt] = {}
    set_over: dict[tuple[str, str], ir.Cell] = {}
    for module in modules:
        for stmt in module.sets:
            name, cell = stmt.block, stmt.cell
            node = nodes.get(name)
            if node is None:
                diagnostics.append(sources.diag(
                    "unknown-name", f"`set` names the block '{name}', which is not defined", stmt.block_span,
                    hints=did_you_mean(name, nodes) + ["import the file that defines it"]))
                continue
            replaced = _inherited_cell(node, cell.name, nodes)
            if replaced is None:
                diagnostics.append(_no_cell_to_set(sources, node, name, cell, _all_cell_names(node, nodes)))
                continue
            first = done.get((name, cell.name))
            if first is not None:
                diagnostics.append(sources.diag(
                    "duplicate-set", f"'{name}.{cell.name}' is set twice", cell.span,
                    notes=[f"first set at {first.cell.span.location()}"]))
                continue
            done[(name, cell.name)] = stmt
            if _set_changes_dimension(replaced, cell):
                from .units import Dimension, dimension_name, written_in_hertz

                given, before = (dimension_name(Dimension(num.dim), written_in_hertz(num.unit))     # a clock: Hz
                                 for num in (cell.expr, replaced.expr))
                diagnostics.append(sources.diag(
                    "unit-mismatch", f"`set {name}.{cell.name}` is {given}, but the cell is {before}", cell.expr.span,
                    notes=[f"the cell is defined at {replaced.span.location()}"], hints=_set_number_hints(
                        f"{name}.{cell.name}", cell.expr, replaced.expr, before)))
                continue
            if _literal_under_formula(replaced, cell) or over_formula(replaced, cell):
                set_over[(name, cell.name)] = replaced
            nodes[name] = _set_cell(node, cell, replaced) if session is None else \
                session.set_in(node, stmt, replaced, lambda: _set_cell(node, cell, replaced))
    return set_over


def _set_number_hints(target: str, given: ir.Num, replaced: ir.Num, was: str) -> list[str]:
    """The help for a number without a unit set over a number with one (`set { h.mem_bw = 4800 }` over `3350
    GB/s`): the readings --set's help gives (overrides.bare_number_help: `h.mem_bw = 4800 B/s` or `h.mem_bw = 4800
    GB/s`); [] for a number with a unit."""
    from .overrides import bare_number_help
    from .units import Dimension

    if given.unit is not None:
        return []
    found = bare_number_help(given.text, given.value, Dimension(replaced.dim), replaced.unit, was,
                             lambda value: f"`{target} = {value}`")
    return [found] if found else [f"write the number with its unit, e.g. `{target} = {given.text} {replaced.unit}`"]


# A name no block's cell can have: the booleans (a formula that reads `true` gets the boolean) and the statements'
# keywords, each refused where a cell would be defined with it (ir_builder._not_boolean, syntax_errors.written_slip).
_NOT_CELL_NAMES = {"true": "a boolean", "false": "a boolean"} | {word: "a reserved word" for word in STATEMENTS}


def _no_cell_to_set(sources: SourceLines, node: ir.Block, name: str, cell: ir.Cell, names: list[str]) -> Diagnostic:
    """error[unknown-name] at a `set` entry's cell name that the block lacks. A boolean or keyword there
    (`set { blk.true = 3 }`) is no cell's name at all: the message says which, and the help how a boolean is given
    (as the value, `set { blk.CELL = true }`), not a did-you-mean that could only be a coincidence."""
    what = _NOT_CELL_NAMES.get(cell.name)
    if what is None:
        return sources.diag(
            "unknown-name", f"{node.kind} '{name}' has no cell '{cell.name}' to set", cell.span,
            hints=did_you_mean(cell.name, names)
            + ["`set` replaces a cell a block has (its own or inherited); it does not add one"])
    hints = [f"`{cell.name}` is never a cell's name, so no block has a cell `{cell.name}` for `set` to replace"]
    if what == "a boolean":
        hints.append(f"to give a cell the boolean, write it as the value: `set {{ {name}.CELL = {cell.name} }}`")
    return sources.diag(
        "unknown-name", f"`set {name}.{cell.name}` names {what}, not a cell: {node.kind} '{name}' has no cell "
        f"'{cell.name}' to set", cell.span, hints=hints)


def _literal_under_formula(replaced: ir.Cell, cell: ir.Cell) -> bool:
    """Whether a `set` gives a formula, or a literal of another kind (a boolean or string over a number, ...), over a
    plain literal, whose type the checker can hold the value to (a number over a number is compared by
    _set_changes_dimension: a literal of the same kind needs no check)."""
    return replaced.choices is None and replaced.declared_dim is None and not replaced.sweep and not cell.sweep \
        and isinstance(replaced.expr, (ir.Num, ir.Str, ir.Bool)) and cell.expr is not None \
        and not (isinstance(cell.expr, (ir.Num, ir.Str, ir.Bool)) and type(cell.expr) is type(replaced.expr)) \
        and not (isinstance(replaced.expr, ir.Num) and replaced.expr.dim is None)


def over_formula(replaced: ir.Cell, cell: ir.Cell, swept: bool = False) -> bool:
    """Whether a `set` (or an override: overrides.mark_held_overrides) gives a value, a literal or a formula, over a
    formula of no declared unit or choice (those the checker holds the value to as it is): the checker holds it to
    the type the formula has (Checker._check_set). A swept value only where `swept` (a --set list, `--set
    wl.tput="5 GB, 6 GB"`: Checker._kept_by_sweep)."""
    return replaced.choices is None and replaced.declared_dim is None and not replaced.sweep \
        and (swept or not cell.sweep) \
        and replaced.expr is not None and not isinstance(replaced.expr, (ir.Num, ir.Str, ir.Bool)) \
        and cell.expr is not None


def _set_changes_dimension(replaced: ir.Cell, cell: ir.Cell) -> bool:
    """Whether a `set` gives a number of another dimension than the number it replaces (a declared unit or choice
    is checked with the other cells instead)."""
    return replaced.choices is None and replaced.declared_dim is None and isinstance(replaced.expr, ir.Num) \
        and isinstance(cell.expr, ir.Num) and None not in (replaced.expr.dim, cell.expr.dim) \
        and tuple(replaced.expr.dim) != tuple(cell.expr.dim)       # None: reported by the parser (unknown unit)


def _set_cell(node: ir.Block, cell: ir.Cell, replaced: ir.Cell) -> ir.Block:
    """`node` with `cell` (a `set` entry's) in place of `replaced` (the cell the block has, its own or inherited),
    or after its own cells where it inherits it; the cell keeps a declared choice or unit of `replaced`."""
    if replaced.choices is not None:
        cell = cell.model_copy(update=choice_fields(replaced))      # a `set` value is checked as a choice
    elif replaced.declared_dim is not None:
        cell = cell.model_copy(update={"declared": replaced.declared, "declared_dim": replaced.declared_dim,
                                       "declared_span": replaced.declared_span})
    cells = [cell if c.name == cell.name else c for c in node.cells]
    if all(c.name != cell.name for c in node.cells):
        cells.append(cell)
    return node.model_copy(update={"cells": tuple(cells)})


def _inherited_cell(node: ir.Block, name: str, nodes: dict[str, ir.Block]) -> ir.Cell | None:
    """The cell `name` as `node` has it, its own or from the nearest ancestor that defines it."""
    seen = set()
    while node is not None and node.name not in seen:
        seen.add(node.name)
        for cell in node.cells:
            if cell.name == name:
                return cell
        node = nodes.get(node.parent) if node.parent else None
    return None


def _all_cell_names(node: ir.Block, nodes: dict[str, ir.Block]) -> list[str]:
    names, seen = [], set()
    while node is not None and node.name not in seen:
        seen.add(node.name)
        names.extend(c.name for c in node.cells)
        node = nodes.get(node.parent) if node.parent else None
    return names


def _resolve_chain(name: str, nodes: dict[str, ir.Block], blocks: dict[str, Block], sources: SourceLines,
                   diagnostics: list[Diagnostic], inherit=None) -> None:
    """Resolve `name` and the blocks it extends, without recursion: walk up the `extends` chain to a block already
    resolved (or one without a usable parent), then build the blocks back down. A chain of any length costs time in
    its length, never Python stack."""
    chain: list[str] = []                      # name, its parent, its grandparent ... (unresolved ones)
    current: str | None = name
    while current is not None and current not in blocks:
        node = nodes[current]
        chain.append(current)
        parent = node.parent
        if parent is None:
            break
        if parent not in nodes:
            diagnostics.append(sources.diag(
                "unknown-parent", f"{node.kind} '{current}' extends '{parent}', which is not defined",
                node.parent_span, hints=import_hint(parent, node.file) + did_you_mean(
                    parent, [n for n, b in nodes.items() if b.kind == node.kind])))
            break
        if parent in chain:
            cycle = " -> ".join(chain[chain.index(parent):] + [parent])
            diagnostics.append(sources.diag("extends-cycle", f"blocks extend each other in a cycle: {cycle}",
                                            node.parent_span))
            break
        current = parent
    for index in range(len(chain) - 1, -1, -1):
        node = nodes[chain[index]]
        parent_block = blocks.get(node.parent) if node.parent is not None else None
        if parent_block is not None and parent_block.kind != node.kind:
            diagnostics.append(sources.diag(
                "kind-mismatch", f"{node.kind} '{node.name}' cannot extend {parent_block.kind} '{node.parent}'",
                node.parent_span, hints=["a block extends a block of the same kind"]))
        blocks[node.name] = (inherit or _inherit)(node, parent_block)


def _inherit(node: ir.Block, parent_block: Block | None) -> Block:
    """A block's effective cells: its parent's (already resolved), overridden by its own. `parent` is None where
    the parent could not be resolved (unknown, or a cycle), so that no later stage follows it."""
    block = Block(kind=node.kind, name=node.name, node=node, parent=node.parent if parent_block else None)
    if parent_block is not None:
        block.cells.update(parent_block.cells)
        block.owner.update(parent_block.owner)
        block.zipped.extend(parent_block.zipped)
        block.shows.extend(parent_block.shows)
        block.wheres.extend(parent_block.wheres)
        block.requires.extend(parent_block.requires)
        block.lineage.extend(parent_block.lineage)
    block.lineage.insert(0, node.name)
    for cell in node.cells:
        inherited = block.cells.get(cell.name)
        if inherited is not None and inherited.declared_dim is not None and cell.declared_dim is None:
            cell = cell.model_copy(update={"declared": inherited.declared, "declared_dim": inherited.declared_dim,
                                           "declared_span": inherited.declared_span})
        elif inherited is not None and inherited.choices is not None and cell.choices is None:
            cell = cell.model_copy(update=choice_fields(inherited))   # an override stays one of the choices
        block.cells[cell.name] = cell
        block.owner[cell.name] = node.name
    for zipped in node.zipped:
        block.zipped.append(zipped)
        for zname in zipped.names:
            block.cells[zname] = ir.Cell.model_construct(name=zname, span=zipped.span, sweep=True, text=zipped.text)
            block.owner[zname] = node.name
    block.shows.extend(node.shows)
    block.wheres.extend(node.wheres)
    block.questions = list(node.questions) or list(parent_block.questions if parent_block else [])
    block.requires.extend((node.name, require) for require in node.requires)
    return block


def describe_available(block: Block) -> str:
    """The hint "available: a, b, ... and N more" over the block's effective cells (see errors.available)."""
    return available(block.cells.keys())
