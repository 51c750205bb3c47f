"""Checker (stage 3c): names, cycles and dimensions, inferred before anything is computed.

Every cell gets a type: a number with a dimension, a boolean, a string, a list, or a block (a role binding).
Checking runs once per block without a report (role references such as `model.hidden` are then left open) and once
per report with its roles bound, so `perfdsl check` reports every error of every file.

A declared input that is not given is an error only where it is used: where a report (or a cell asked for on its
own) reaches it without passing through a branch of `if`. One reached only through a branch (a link bandwidth that
only `if(workload.tp > 1, ...)` reads) is left to the evaluator, which evaluates a branch only at the sweep points
that take it and names the point that needs the input.

Checkers share their work (shared_checks.py): a cell whose inference depends on nothing but the blocks it names is
recorded, and another checker of a `CheckSession` that meets the same cell replays the record, with the same
diagnostics and the same types in the same order, instead of inferring it again (`perfdsl check` of many files).
A cell of the session that must be inferred again (an inherited cell of another model, a cost-model cell in another
report) types its references and takes its formula's type from the formula's plan where they give types seen
before (formula_types.py), with the same diagnostics in the same order as a walk of its operators.
"""

from __future__ import annotations

from collections import ChainMap

from . import ir
from .blocks import Block, SourceLines
from .choices import check_choice_cell, check_comparison, choice_kind
from .errors import (API_OVERRIDE, COMMAND_LINE, Diagnostic, PerfError, did_you_mean, in_override, override_example,
                     suggest)
from .overrides import bare_number_help, dimension_help
from .formula_types import Feed
from .kept_types import (OVERRIDE_KEEPS_DIMENSION, OVERRIDE_KEEPS_TYPE, kind_hints, not_a_quantity, not_the_kind,
                         plural, swept_text_hints, swept_values_type, written_text)
from .functions import FUNCTIONS
from .operators import OPERATORS, UNARY, Operator, Problem, unit_hints
from .vtypes import BOOL, STR, UNKNOWN, VType, clock, num, num_of
from .linker import ROLE_WORDS, Linker, Target, Unresolved, is_block_ref
from .near_misses import quoted_operand_help, quoted_quantity_hints, with_booleans
from .context import ReportContext
from .shared_checks import CheckSession, Reused, Sharing
from .hertz import expr_in_hertz, ref_in_hertz
from .units import (DIMENSIONLESS, FREQUENCY, Dimension, auto_unit, dimension_name, literal_unit, parse_unit,
                    si_unit_name, written_in_hertz)
from .limits import MAX_CHAIN_DEPTH
from .unbound_sweeps import unbound_sweep


class Checker(Sharing):
    """Infers the type of every cell reachable in one context (no report, or one report)."""

    def __init__(self, blocks: dict[str, Block], sources: SourceLines, ctx: ReportContext | None,
                 link: Linker | None = None, session: CheckSession | None = None):
        self.blocks = blocks
        self.sources = sources
        self.ctx = ctx
        self.types: dict[tuple[str, str], VType] = {}
        self.stack: list[tuple[str, str, ir.Span]] = []
        self._on_stack: set[tuple[str, str]] = set()   # the keys of `stack`, to test for a cycle in O(1)
        self.diagnostics: list[Diagnostic] = []
        self._reported: set[tuple] = set()
        self._free: "Checker | None" = None       # a report-free checker for the cells that overrides replace
        self._before: "Checker | None" = None     # a checker of the cells that sets replaced (_type_before)
        self.link = link if link is not None else Linker(blocks, ctx)
        self.constraints: list[tuple] = []         # a report's constraints that apply (constraints.check_requires)
        # Missing inputs: the diagnostic of each, reported once a top-level reference reaches it unconditionally.
        # `reach[cell]` holds the missing inputs a cell reaches outside `if` branches, or in both values of an `if`
        # (every point reads one of them); `_reach_stack` holds, for each cell being inferred, the branch depth its
        # formula starts at, what it reaches there, and what it reaches inside `if` values, by the path of values
        # (below the formula's start) it reached them in. `branch_path` is that path from the top: (id of the
        # `if` call, 1 or 2) per value entered; `branch_depth` its length.
        self.missing_inputs: dict[tuple[str, str], Diagnostic] = {}
        self.reach: dict[tuple[str, str], frozenset] = {}
        self.branch_depth = 0
        self.branch_path: tuple[tuple[int, int], ...] = ()
        self._reach_stack: list[tuple[int, set, dict]] = []
        self._depth = [0]                          # formula levels being followed now (shared with _free)
        # A reference through a swept role reads one cell in each of the role's blocks (30 models, 13 GPUs): once
        # all of them are inferred, their types and what they reach are kept per (blocks, cell) (`ref_type`).
        self._role_cells: dict[tuple[int, str], tuple[list, frozenset, Reused]] = {}
        self._uniform: set[int] = set()            # id() of those kept lists whose types are one object
        self._block_lists: dict[tuple[str, ...], list[Block]] = {}    # resolve's blocks of a target, kept
        # resolve's result for a name in a block that leads to cells, with what it counts for a record (the role's
        # fact and blocks, or the id of the block named), by (block name, name).
        self._resolved: dict[tuple[str, tuple[str, ...]], tuple] = {}
        # A role the report binds: the fact a record of a cell that reads it keeps, and the ids of its blocks.
        self._bound_roles: dict[str, tuple[tuple, frozenset]] = {}
        self.check_overrides = True                # False in _free: it infers types, its diagnostics are not read
        # True in _free: a sweep of literals is typed as its values are written (_sweep_type), so that an override
        # of a formula that reads one is held to the formula's type without a report (_replaced_type)
        self.sweeps_as_written = False
        self._init_sharing(session, ctx is None)
        # Formula types kept by the types their references give (formula_types.py), shared by the session.
        self._formulas = session.formulas if session is not None else None
        self.feed: Feed | None = None              # the walk of a formula resuming after its plan's points
        self.report_calls = 0                      # calls of `report`, reported or not (Feed counts them)

    # -- reporting ---------------------------------------------------------------------------------------------
    def report(self, code: str, message: str, span: ir.Span | None, path: str | None = None, *,
               severity: str = "error", **kwargs) -> None:
        """Add a diagnostic located at `span` (quoting its line) with the cell path `path`; the same code and message at
        the same place is reported once. `kwargs` are errors.error's (hints, notes). Raises nothing."""
        self.report_calls += 1
        if self._frames and not self._replaying:
            frame = self._frames[-1]
            frame.add((code, message, span, path, severity, kwargs))
            frame.clean = False
        key = (code, message, span.file if span else None, span.line if span else 0, span.col if span else 0)
        if key in self._reported:
            return
        self._reported.add(key)
        diagnostic = self.sources.diag(code, message, span, path=path, **kwargs)
        diagnostic.severity = severity
        self.diagnostics.append(diagnostic)

    # -- cells -------------------------------------------------------------------------------------------------
    def cell_type(self, block: Block, name: str, via: ir.Span | None = None) -> VType:
        """The inferred type of cell `name` of `block`, inferred once and cached; `via` is the span of the reference
        that reached it (for the steps of a cycle). A cycle through the cell reports error[cycle] and gives
        UNKNOWN; errors are collected in `diagnostics`, never raised. A pure cell that another checker of the same
        kind inferred is replayed from its record (shared_checks.py)."""
        key = (block.name, name)
        vtype = self.types.get(key)
        if vtype is not None:                   # typed already (most calls)
            reached = self.reach.get(key)
            if reached:
                self._pass_on(reached)
            if self._frames:
                self._reused(key)
            return vtype
        for index, (b, c, _) in enumerate(self.stack if key in self._on_stack else ()):
            if (b, c) == key:
                self._impure += 1               # the message names the chain from where it was entered
                chain = self.stack[index:] + [(block.name, name, via)]
                steps = [f"{b}.{c} at {s.location()}" for b, c, s in chain[1:] if s is not None]
                span, hints = block.cells[name].span, []
                given = _given_in_chain(self.blocks, chain)
                parent = _parent_with(self.blocks, block, name) if len(chain) == 2 else None
                if parent is not None:         # `x = x + 1 s` in a block that extends one with x: meant its value
                    hints = [f"a cell's formula replaces the one it inherits, so '{name}' reads itself; to build on "
                             f"the inherited value, read it by its block's name: `{name} = {parent}.{name} ...`"]
                if given is not None:          # made by an override (`--set h.mem_bw="mem_bw * 1.2"`): bad usage there
                    span, hints = given.expr.span, [
                        f"an override replaces the formula of '{given.name}', so its value cannot read "
                        f"'{given.name}' itself, directly or through other cells: give the value (a number with "
                        "its unit)"]
                self.report("cycle", "cells depend on each other in a cycle: "
                            + " -> ".join(f"{b}.{c}" for b, c, _ in chain), span,
                            path=block.cell_path(name), notes=["the chain: " + "; ".join(steps)], hints=hints)
                return UNKNOWN
        entry = self._recorded(block, name)
        if entry is not None:
            self._replay(entry)
            if entry.reach:
                self._pass_on(entry.reach)
            if self._frames:
                self._reused(key)
            return entry.vtype
        return self._infer_new(block, name, key, via)

    def _infer_new(self, block: Block, name: str, key: tuple[str, str], via: ir.Span | None) -> VType:
        """cell_type of a cell neither typed, nor on the stack, nor with a record that holds here: inferred, then
        recorded where it is pure."""
        frame = self._open_frame()
        self.stack.append((block.name, name, via))
        self._reach_stack.append((self.branch_depth, set(), {}))
        self._on_stack.add(key)
        try:
            vtype = self._infer_cell(block, block.cells[name])
        finally:
            self.stack.pop()
            self._on_stack.discard(key)
            _, reached, branched = self._reach_stack.pop()
            height = self._close_frame(frame)
        if branched:
            reached |= reached_by_both_values(branched)
        if key in self.missing_inputs:
            reached.add(key)
        reached = self.reach[key] = frozenset(reached)
        self.types[key] = vtype
        self._record_cell(block, name, vtype, frame, height, keep=self.check_overrides)
        if reached:
            self._pass_on(reached)
        if self._frames:
            self._reused(key)
        return vtype

    def type_cells(self, blocks) -> None:
        """Type every cell of `blocks`, in order, from the top (no cell being inferred), as cell_type of each would
        (Program.check's check without a report). Most are replayed from another program's record: each library
        file's program imports the same families and GPUs (75,945 of the 86,677 cells of a check of the libraries,
        -j 1).
        A clean record (nothing was reported while inferring the cell or any cell it typed) is replayed here
        without the steps cell_type takes for a cell inside another's inference, which do not apply at the top; a
        block whose cells all have such records, replayed in one step where they hold here (Sharing._replay_block:
        the 2,014 blocks of those programs are 315 distinct ones). Raises ValueError when called inside an
        inference."""
        if self.stack or self._frames:
            raise ValueError("type_cells types cells from the top, not inside another cell's inference")
        types = self.types
        for block in blocks:
            if self._replay_block(block):            # every cell's record holds here: replayed in one step
                continue
            block_name = block.name
            for name in block.cells:
                key = (block_name, name)
                if key in types:
                    reached = self.reach.get(key)
                    if reached:
                        self._pass_on(reached)
                    continue
                entry = self._recorded(block, name)
                if entry is None:                    # nothing on the stack: cell_type would infer it
                    self._infer_new(block, name, key, None)
                    continue
                if not entry.clean or entry.missing is not None:
                    self.cell_type(block, name)
                    continue
                for item in entry.items:             # a clean record holds cells only, no diagnostic
                    if item.key not in types:
                        self._replay_items(item)
                types[key] = entry.vtype
                self.reach[key] = entry.reach
                self._entries[key] = entry
                if entry.reach:
                    self._pass_on(entry.reach)
            if self._memo is not None:
                self._session.offer_sibling(block)      # a template for the blocks of its shape

    def condition_type(self, expr: ir.Expr, block: Block, path: str) -> VType:
        """The type of a formula written at a report's top level, outside any cell (a `where` condition), as
        expr_type gives it; the missing inputs it reads at every point are errors, as a cell's are where a report
        reaches the cell: read outside `if` values, or in both values of an `if` (reached_by_both_values), which
        alone are not passed on from the top."""
        if self._reach_stack or self.branch_depth:       # inside a cell: its own inference folds the values
            return self.expr_type(expr, block, path)
        self._reach_stack.append((0, set(), {}))
        try:
            vtype = self.expr_type(expr, block, path)
        finally:
            _, reached, branched = self._reach_stack.pop()
        if branched:
            reached |= reached_by_both_values(branched)
        if reached:
            self._pass_on(frozenset(reached))
        return vtype

    def _pass_on(self, reached: frozenset) -> None:
        """A cell reached outside `if` branches passes on the missing inputs it reaches (`reached`); at the top (a
        report's cell, a shown cell, a cell asked for on its own) they are errors."""
        if self._reach_stack:
            depth, parent, branched = self._reach_stack[-1]
            if self.branch_depth == depth:
                parent.update(reached)
            elif self.branch_depth > depth:
                branched.setdefault(self.branch_path[depth:], set()).update(reached)
        elif self.branch_depth == 0:
            for missing in sorted(reached):
                diagnostic = self.missing_inputs[missing]
                seen = (diagnostic.code, diagnostic.message, str(diagnostic.location))
                if seen not in self._reported:
                    self._reported.add(seen)
                    self.diagnostics.append(diagnostic)

    def _infer_cell(self, block: Block, cell: ir.Cell) -> VType:
        path = block.cell_path(cell.name)
        declared = num_of(cell.declared_dim) if cell.declared_dim is not None else None
        wrong_choice = cell.choices is not None and check_choice_cell(self, block, cell, path)
        if cell.sweep:
            return self._sweep_type(block, cell)
        if cell.expr is None:
            self._contextual += 1                  # a missing input only where a report reaches it
            if cell.declared is not None and cell.declared_dim is None and cell.choices is None:
                return UNKNOWN  # its unit was already reported by the parser
            if self.ctx is not None:
                self.missing_inputs[(block.name, cell.name)] = missing_input(self.sources, block, cell)
            return declared if declared is not None else VType(choice_kind(cell) or "unknown")
        if cell.expr.kind == "ref" and is_block_ref(cell.expr, self.blocks, block):
            self.note_block(cell.expr.parts[0])
            return VType("block")
        if block.kind == "report" and cell.expr.kind == "ref" and _choice_option(cell.name):
            return UNKNOWN      # `points = runs`: the option's own check says to quote it (not also an unknown name)
        vtype = self.formula_type(cell.expr, block, path)
        if cell.declared is not None and cell.declared_dim is None and cell.choices is None:
            return UNKNOWN                         # its unit was reported by the parser: its formula checked alone
        if wrong_choice and vtype.kind != choice_kind(cell):
            return UNKNOWN                         # reported (bad-choice): what compares it with strings is not checked
        if cell.name in block.set_over and vtype.kind in ("num", "str", "bool"):
            kept = self._check_set(block, cell, vtype, path)
            if kept is not None:
                return kept
        if declared is None and cell.choices is None and vtype.kind in ("num", "str", "bool") \
                and self.check_overrides:
            kept = self._check_override(block, cell, vtype, path)
            if kept is not None:
                return kept
        if declared is not None and vtype.kind != "unknown" and vtype != declared:
            declared = clock(declared, written_in_hertz(cell.declared))
            declared_text, notes = _declaration(cell, declared)
            if vtype.kind != "num":                # a string or boolean has no dimension to compare or hint from
                self.report("unit-mismatch", f"'{cell.name}' is declared as {declared_text}, but "
                            f"{not_a_quantity(cell.expr, vtype, declared)}", cell.expr.span, path=path,
                            notes=notes, hints=quoted_quantity_hints(cell.expr, declared.dim))
                return UNKNOWN                     # reported: what reads it is not checked (nor computed) with text
            self.report("unit-mismatch", f"'{cell.name}' is declared as {declared_text} but "
                        f"its formula gives {self.as_written(vtype, cell.expr, block).describe()}", cell.expr.span,
                        path=path, notes=notes,
                        hints=_count_hints(cell, declared, vtype.dim, _inherited_unit(self.blocks, block, cell))
                        or _rate_hints(cell.expr, declared.dim, vtype.dim, cell.declared))
            return declared
        return vtype

    def _check_override(self, block: Block, cell: ir.Cell, vtype: VType, path: str, swept: bool = False
                        ) -> VType | None:
        """An override in a block that extends another keeps the type of the cell it replaces: a number its dimension, a
        string or a boolean its kind (docs/LANGUAGE.md, "Blocks"). `vtype` is the override's type: its formula's, or
        its swept values' where `swept`. None where it keeps it (or replaces nothing); else the error is reported at
        the value (the formula, or the sweep's values) and the type the cell stands for after it is given: unknown
        for another kind or dimension: what reads the cell is not checked (nor a constant `require` computed) with
        it, so the one mistake is one error, not errors wherever the cost model reads it (`output_len = 256 ms`
        over a count gave seven in transformer_inference.perf before its own)."""
        replaced = self._replaced_type(block, cell)
        if replaced is None:
            return None
        parent, before = replaced
        if before.kind not in ("num", "str", "bool") or before == vtype:
            return None
        original = f"{parent.owner.get(cell.name, parent.name)}.{cell.name}"    # the block that defines it
        before = self.cell_as_written(before, parent, parent.cells[cell.name])
        head = f"'{cell.name}' overrides {original} ({before.describe()})"
        notes = [f"{original} is defined at {parent.cells[cell.name].span.location()}"]
        values = list(getattr(cell.expr, "items", ())) if swept else [cell.expr]
        if before.kind == "num" and vtype.kind == "num":
            # One value (`--set request_rate=5` over a swept cell) is no "swept values"; a bare number is shown with
            # the unit the replaced cell is written in.
            many = swept and len(values) > 1
            replaced_cell = parent.cells[cell.name]
            given = self.as_written(vtype, cell.expr, block).describe()
            self.report("unit-mismatch", f"{head} with {'swept values in ' if many else ''}{given}",
                        cell.expr.span, path=path, notes=notes,
                        hints=(_bare_number_hints(values, replaced_cell, before, None if many else cell.name)
                               or _amount_hint(cell.expr, before.dim, vtype.dim, _written_unit(replaced_cell)))
                        + [OVERRIDE_KEEPS_DIMENSION])
            return UNKNOWN
        if before.kind == "num":
            message = (f"{head}, but its swept values are {plural(vtype)}, not quantities in {before.describe()}"
                       if swept else f"{head}, but {not_a_quantity(cell.expr, vtype, before)}")
            hints = swept_text_hints(values, before.dim) if swept else quoted_quantity_hints(cell.expr, before.dim)
            hints.append(OVERRIDE_KEEPS_DIMENSION)
        else:
            message = (f"{head}, but its swept values are {plural(vtype)}, not {plural(before)}"
                       if swept else f"{head}, but {not_the_kind(cell.expr, vtype, before)}")
            hints = kind_hints(values, before) + [OVERRIDE_KEEPS_TYPE]
        self.report("unit-mismatch", message, cell.expr.span, path=path, notes=notes, hints=hints)
        return UNKNOWN

    def _check_set(self, block: Block, cell: ir.Cell, vtype: VType, path: str) -> VType | None:
        """A `set { BLOCK.CELL = ... }` (or a --set: overrides.mark_held_overrides) keeps the type of the cell it
        replaces: over a literal, a formula, or a literal of another kind, is one error at the set (`h.x =
        hardware.mem_bw` or `h.x = true` over `x = 1`; a number over a number is compared where the set is applied);
        over a formula, any value of another type than the formula has (`wl.tput = 5 GB` over `tput = batch / t`,
        1/s: _type_before), where that type is known. The cell stands for an unknown type after it (what reads it is
        not checked with it). None where the types agree, or the formula's type is not known."""
        replaced = block.set_over[cell.name]
        over_literal = isinstance(replaced.expr, (ir.Num, ir.Str, ir.Bool))
        if over_literal:
            before = _literal_type(replaced.expr)
            was = self.as_written(before, replaced.expr, block).describe()
        else:
            before, was = self._type_before(block, cell.name)
            if before.kind not in ("num", "str", "bool"):
                return None            # unknown (it reads a missing input of no unit, an unknown name, ...), a block
        if before == vtype:
            return None
        where = block.owner.get(cell.name, block.name)
        if before.kind == "num" and vtype.kind == "num":
            hints = [OVERRIDE_KEEPS_DIMENSION]
        else:       # how the value is written as the kind it replaces (`set { h.x = true }` over `x = 1`, ...)
            hints = (quoted_quantity_hints(cell.expr, before.dim) if before.kind == "num"
                     else kind_hints([cell.expr], before)) + [OVERRIDE_KEEPS_TYPE]
        given = self.as_written(vtype, cell.expr, block).describe()
        origin = cell.expr.span.file
        if in_override(origin):     # `--set h.x="2*3 s"` (overrides.mark_held_overrides): as its literals say
            target = f"{where}.{cell.name}"
            text = ' '.join(cell.text.split())
            values = [cell.expr.start, cell.expr.stop] if isinstance(cell.expr, ir.RangeExpr) else \
                list(cell.expr.items) if isinstance(cell.expr, ir.ListExpr) else [cell.expr]
            if over_literal or not all(isinstance(value, (ir.Num, ir.Str, ir.Bool)) for value in values):
                message = f"{origin}: '{text}' is {given}, but '{target}' is {was}"
                hints = [_give_hint(target, before, was, replaced.expr if over_literal else None), hints[-1]]
            elif vtype.kind == before.kind == "num":    # literals over a formula: as over a literal (overrides.py)
                message = f"{origin}: '{text}' is {given}, but '{target}' is {was}"
                numbers = [v for v in values if isinstance(v, ir.Num)]
                first = next((v for v in numbers if Dimension(v.dim) != before.dim), numbers[0])
                hints = [dimension_help(target, first, before.dim, None, was)]
            else:
                kinds = {"bool": "a boolean", "str": "a string", "num": "a number"}
                message = f"{origin}: '{text}' is {kinds[vtype.kind]}, but '{target}' is {was}"
                hints = [_give_hint(target, before, was, None), hints[-1]]
        else:
            message = f"`set {where}.{cell.name}` is {given}, but the cell is {was}"
        # where the type comes from: the literal's place, or the formula that gives it (override_blame's words)
        note = f"the cell is defined at {replaced.span.location()}" if over_literal else \
            f"the cell is `{' '.join(replaced.text.split())}` at {replaced.span.location()}"
        self.report("unit-mismatch", message, cell.expr.span, path=path, notes=[note], hints=hints)
        return UNKNOWN

    def _type_before(self, block: Block, name: str) -> tuple[VType, str]:
        """The type of the formula that a `set` (or --set) replaced in cell `name` of `block`, and how a message names
        it (1/s, or Hz for a clock), as this check gives it without the sets: by a checker of its own (`_before`), over
        the blocks with every cell that a set replaced put back (Block.set_over), the same report, its diagnostics
        not read. Its type follows cells this cell's record does not hold (the roles the report binds, its sweeps):
        the cell is impure (never shared with another check)."""
        self._impure += 1
        if self._before is None:
            from dataclasses import replace

            restored = {b.name: replace(b, cells={**b.cells, **b.set_over}, set_over={})
                        for b in self.blocks.values() if b.set_over}
            blocks = {name_: restored.get(name_, b) for name_, b in self.blocks.items()}
            ctx = self.ctx
            if ctx is not None and ctx.report.name in restored:
                ctx = replace(ctx, report=restored[ctx.report.name])
            self._before = Checker(blocks, self.sources, ctx)
            self._before._depth = self._depth       # a chain followed from here counts from here (MAX_CHAIN_DEPTH)
            self._before.check_overrides = False
        old = self._before.blocks[block.name]
        vtype = self._before.cell_type(old, name)
        return vtype, self._before.cell_as_written(vtype, old, old.cells[name]).describe()

    def _replaced_type(self, block: Block, cell: ir.Cell) -> tuple[Block, VType] | None:
        """The parent block and the type of the cell that `cell`, written in `block`, overrides; None where it
        overrides none with a value (a new cell, a declared input, a sweep). Typed by a report-free checker (`_free`)
        whose record this cell's record takes in (what the parent's cell read)."""
        parent = self.blocks.get(block.parent) if block.parent else None
        if parent is None or block.owner.get(cell.name) != block.name or cell.name not in parent.cells:
            return None
        original = parent.cells[cell.name]
        if original.expr is None or original.sweep:
            return None
        if self._free is None:
            self._free = Checker(self.blocks, self.sources, None)
            self._free._depth = self._depth
            self._free._recording = self._recording  # its records tell ours what the parent's cell read
            # The parent's own overrides are checked when its block is checked; checking them here as well would
            # recurse once per block of a long `extends` chain.
            self._free.check_overrides = False
            # `tput = batch / t` over `sweep batch = [1, 2, 4]` is 1/s whatever report binds the block: an override
            # `tput = 5 GB` in a block that extends it is an error as over `batch = 3` (it passed `check`, and a
            # report showed the 5 GB as tput)
            self._free.sweeps_as_written = True
        before = self._free.cell_type(parent, cell.name)
        self._absorb(self._free._entries.get((parent.name, cell.name)))
        return parent, before

    def _sweep_type(self, block: Block, cell: ir.Cell) -> VType:
        """The type of a swept cell: its axis's, from the report that binds its block. Without a report no axis is
        built, and the cell stays unknown (what reads it is checked with a report; but in _free, which types the
        cell an override replaces: sweeps_as_written), but values written as literals are typed as written (kept_types.swept_values_type; from the sweep's own block only, which its record's
        block stands for) and checked as a report's check checks its axis: against the unit the cell is declared
        with or the type of the cell it overrides."""
        self._contextual += 1
        if self.ctx is None:
            vtype = swept_values_type(cell, block, {block.name: block})
            if vtype is not None:
                kept = self._kept_by_sweep(block, cell, vtype)
                if self.sweeps_as_written:
                    return kept
            return UNKNOWN
        vtype = self._swept_cell_type(block.name, cell.name)
        if vtype is not None:
            if self._frames:
                self._frames[-1].facts.add(("sweep", block.name, cell.name, vtype))
            return self._kept_by_sweep(block, cell, vtype)
        self._impure += 1                          # the message names the report
        message, span, hints = unbound_sweep(block, cell, self.ctx)
        self.report("sweep-outside-report", message, span, path=block.cell_path(cell.name), hints=hints)
        return UNKNOWN

    def _kept_by_sweep(self, block: Block, cell: ir.Cell, vtype: VType) -> VType:
        """A sweep's values of type `vtype` keep the type of the cell: the unit it is declared with, or the type of the
        cell it overrides (error at the values where they do not); the type the cell stands for."""
        if vtype.kind not in ("num", "str", "bool"):
            return vtype
        if cell.declared_dim is not None:
            return self._declared_sweep(block, cell, vtype)
        if cell.name in block.set_over:              # `--set wl.tput="5 GB, 6 GB"` over a formula (_check_set)
            kept = self._check_set(block, cell, vtype, block.cell_path(cell.name))
            if kept is not None:
                return kept
        if cell.choices is None and self.check_overrides:   # a choice's values are check_choice_cell's
            kept = self._check_override(block, cell, vtype, block.cell_path(cell.name), swept=True)
            if kept is not None:
                return kept
        return vtype

    def _declared_sweep(self, block: Block, cell: ir.Cell, vtype: VType) -> VType:
        """A sweep (or a --set list) of a cell declared with a unit keeps the declared dimension: strings or numbers of
        another dimension are one error at the values (`sweep batch = ["1", "2"]` where `batch: count`), not errors
        wherever the cost model reads the cell. The declared type stands for a number of another dimension (as for a
        formula), unknown for text."""
        declared = num_of(cell.declared_dim)
        if vtype == declared:
            return vtype
        declared = clock(declared, written_in_hertz(cell.declared))
        declared_text, notes = _declaration(cell, declared)
        values = cell.expr if cell.expr is not None else cell
        items = list(getattr(cell.expr, "items", ()) or ([cell.expr] if cell.expr is not None else []))
        if vtype.kind != "num":
            self.report("unit-mismatch", f"'{cell.name}' is declared as {declared_text}, but its swept values are "
                        f"{plural(vtype)}, not quantities in {declared.describe()}", values.span,
                        path=block.cell_path(cell.name), notes=notes, hints=swept_text_hints(items, declared.dim))
            return UNKNOWN
        bare = vtype.dim.is_dimensionless and not declared.dim.is_dimensionless and items \
            and all(isinstance(item, ir.Num) and item.unit is None for item in items)
        hints = [f"write them with a unit of {declared.describe()}, e.g. `sweep {cell.name} = ["
                 + ", ".join(f"{item.text} {literal_unit(cell.declared)}" for item in items[:3])
                 + (", ...]`" if len(items) > 3 else "]`")] if bare else unit_hints(declared.dim, vtype.dim)
        self.report("unit-mismatch", f"'{cell.name}' is declared as {declared_text} but its swept values are in "
                    f"{self.as_written(vtype, cell.expr, block).describe()}", values.span,
                    path=block.cell_path(cell.name), notes=notes, hints=hints)
        return declared

    def _swept_cell_type(self, block_name: str, cell_name: str) -> VType | None:
        """The type the report's axes give a swept cell, or None where the report does not bind its block."""
        ctx = self.ctx
        entry = ctx.sweep_cells.get((block_name, cell_name))
        if entry is None:
            if ctx.fixed_roles.get("report") and any(
                    coord.name == cell_name and coord.kind == "role" for _, coord in ctx.swept_roles.values()):
                return VType("block")
            return None
        coord = entry[1]
        if coord.kind == "num":
            return num(coord.dim)
        if coord.kind == "role":
            return VType("block")
        return VType(coord.kind)

    # -- expressions -------------------------------------------------------------------------------------------
    def expr_type(self, expr: ir.Expr, block: Block, path: str) -> VType:
        """The type of a formula. Each nested operation and each cell followed counts one level; past
        MAX_CHAIN_DEPTH levels the formula is refused (error[too-deep]), which also bounds the evaluator's recursion,
        since it follows the same formulas."""
        depth = self._depth
        depth[0] += 1
        if depth[0] > self._peak[0]:
            self._peak[0] = depth[0]
        try:
            if depth[0] > MAX_CHAIN_DEPTH:
                self._impure += 1
                self.report("too-deep", f"'{path}' depends on formulas nested more than {MAX_CHAIN_DEPTH} levels "
                            f"deep (each cell and each operation counts one); perfdsl follows at most "
                            f"{MAX_CHAIN_DEPTH}", expr.span, path=path,
                            hints=["shorten the chain of cells, e.g. compute a long sum in a few cells of "
                                   "partial sums"])
                return UNKNOWN
            return _RULES[expr.kind](self, expr, block, path)
        finally:
            depth[0] -= 1

    def formula_type(self, expr: ir.Expr, block: Block, path: str) -> VType:
        """The type of a whole formula (a cell's, a constraint's), as expr_type gives it, with the same diagnostics
        in the same order and the same cells typed in the same order. With a session, the references are typed
        one by one and the formula's type is taken from its plan (formula_types.py) where the operators have
        been walked with these reference types before and reported nothing; the walk resumes where they have not."""
        plan = self._formulas.plan(expr) if self._formulas is not None else None
        depth = self._depth
        base = depth[0]
        if plan is None or base + plan.levels > MAX_CHAIN_DEPTH:
            return self.expr_type(expr, block, path)
        node = plan.root
        types = []
        if node is not None:
            branch, outer = self.branch_depth, self.branch_path
            try:
                for ref, level, inside in plan.refs:
                    depth[0] = base + level
                    self.branch_depth = branch + len(inside)
                    self.branch_path = outer + inside
                    vtype = self.ref_type(ref, block, path)
                    types.append(vtype)
                    node = node.children.get(vtype.key)
                    if node is None:
                        break
            finally:
                depth[0] = base
                self.branch_depth, self.branch_path = branch, outer
            if node is not None and node.result is not None:
                top = base + plan.levels
                if top > self._peak[0]:
                    self._peak[0] = top
                return node.result
        # The operators after the last point kept have not been walked with these types: walk the formula, giving
        # the references already typed their types.
        feed = self.feed = Feed(types, self.report_calls)
        try:
            vtype = self.expr_type(expr, block, path)
        finally:
            self.feed = None
        feed.mark(self.report_calls)
        plan.learn(feed.types, feed.clean, vtype)
        return vtype

    def _t_num(self, expr: ir.Num, block, path) -> VType:
        # a literal the parser reported (an unknown unit: ir.Num.dim None) is unknown, so nothing that reads it errs
        # again
        return UNKNOWN if expr.dim is None else num_of(expr.dim)

    def _t_str(self, expr, block, path) -> VType:
        return STR

    def _t_bool(self, expr, block, path) -> VType:
        return BOOL

    def _t_list(self, expr, block, path) -> VType:
        self._impure += 1                          # its items are not followed (constraints.py follows them)
        return VType("list")

    _t_range = _t_list

    def _t_tuple(self, expr, block, path) -> VType:
        self._impure += 1
        self.report("bad-tuple", "a tuple is only a point of a zipped sweep", expr.span, path=path,
                    hints=["write `sweep (a, b) = [(1, 2), (3, 4)]`"])
        return UNKNOWN

    def ref_type(self, expr: ir.Ref, block: Block, path: str) -> VType:
        """The type of a reference (`x`, `role.x`, `block.x`); also used for shown cells and `explain`."""
        kept = self._resolved.get((block.name, expr.parts))
        if kept is not None and kept[1] is None and kept[2] is None:
            target = kept[0]            # resolve's, where it counts for nothing in a record (a cell of the block)
        else:
            target = self.resolve(expr, block, path)
        if target is None:
            return UNKNOWN
        kind, blocks, cell = target
        if kind == "open":
            return UNKNOWN
        if len(blocks) == 1:                       # most references: one block, no list of (block, type) to build
            key = (blocks[0].name, cell)
            first = self.types.get(key)
            if first is None:
                first = self.cell_type(blocks[0], cell, expr.span)
            else:                                  # typed already (most): what cell_type does then, written out
                reached = self.reach.get(key)
                if reached:
                    self._pass_on(reached)
                if self._frames:
                    self._reused(key)
            if first.kind == "unknown":
                return UNKNOWN
        else:
            known = self._known_types(blocks, cell, expr.span)
            if not known:
                return UNKNOWN
            first_block, first = known[0]
            for other_block, other in () if id(known) in self._uniform else known[1:]:
                if other is not first and other != first:
                    first_named = self.cell_as_written(first, first_block, first_block.cells[cell])
                    other_named = self.cell_as_written(other, other_block, other_block.cells[cell])
                    self.report("unit-mismatch", f"'{expr.dotted}' is {first_named.describe()} in {first_block.name} "
                                f"but {other_named.describe()} in {other_block.name}", expr.span, path=path,
                                hints=["every block bound to a role must give the cell the same dimension"])
                    return UNKNOWN
        if first.kind == "block":
            self.report("block-as-value", f"'{expr.dotted}' is a block binding, not a value", expr.span, path=path,
                        hints=[f"reach one of its cells with '{expr.dotted}.CELL'"])
            return UNKNOWN
        if first.kind == "list":
            self.report("list-as-value", f"'{expr.dotted}' holds a list; a formula needs one value", expr.span,
                        path=path, hints=["sweep over a list with `sweep NAME = ...` and use NAME"])
            return UNKNOWN
        return first

    def _known_types(self, blocks: list[Block], cell: str, via: ir.Span) -> list[tuple[Block, VType]]:
        """(block, type) of `cell` in each of `blocks` whose type is known. For several blocks (a swept role), kept
        once every one is inferred: later references only pass on the missing inputs those cells reach (and count
        the cells for the record of the cell being inferred, as cell_type does)."""
        if len(blocks) < 2:
            return [(b, t) for b in blocks for t in (self.cell_type(b, cell, via),) if t.kind != "unknown"]
        key = (id(blocks), cell)                   # `blocks` is resolve's list for the role, the same every time
        kept = self._role_cells.get(key)
        if kept is not None:
            known, reached, entries = kept
            if reached:
                self._pass_on(reached)
            if self._frames:
                self._reuse_all(entries)
            return known
        types = [(b, self.cell_type(b, cell, via)) for b in blocks]
        known = [(b, t) for b, t in types if t.kind != "unknown"]
        if all((b.name, cell) in self.types for b in blocks):
            reached = frozenset().union(*(self.reach.get((b.name, cell), ()) for b in blocks))
            self._role_cells[key] = (known, reached, Reused([self._entries.get((b.name, cell)) for b in blocks]))
            if all(t is known[0][1] for _, t in known):
                self._uniform.add(id(known))      # one type object in every block: ref_type compares none
        return known

    def resolve(self, expr: ir.Ref, block: Block, path: str):
        """('cells', [blocks], cell) for a reference, ('open', [], cell) for a role left open, or None (reported).
        A name that leads to cells is resolved once per block and name (`_resolved`): later references only count
        what it names for the record of the cell being inferred (the role bound and its blocks, or the block)."""
        key = (block.name, expr.parts)
        kept = self._resolved.get(key)
        if kept is not None:
            found, bound, named = kept
            if bound is not None:
                self._contextual += 1
                if self._frames:
                    self._note_role(bound)
            elif named is not None and self._frames:
                self._frames[-1].ids.add(named)
            return found
        parts = expr.parts
        if len(parts) == 1 and parts[0] in block.cells and block.kind != "report":
            # A cell of the block itself, as Linker._resolve_local finds it (most names; a report's cell may shadow
            # a block): without the linker's lookup, whose programs each resolve every name of their blocks again.
            blocks = self._block_lists.get((block.name,))
            if blocks is None:
                blocks = self._block_lists[(block.name,)] = [self.blocks[block.name]]
            found = ("cells", blocks, parts[0])
            self._resolved[key] = (found, None, None)
            return found
        target = self.link.target(parts, block)
        if isinstance(target, Unresolved):
            self._impure += 1                      # its message and hints name what the program holds
            if target.severity == "consequence":
                return None
            if target.code == "unbound-role":
                # One error per unbound role: a cost model reads a role in many formulas, and each would repeat it.
                if ("unbound-role", target.message) in self._reported:
                    return None
                self._reported.add(("unbound-role", target.message))
                if self._quoted_role(expr.parts[0]):
                    return None
            hints = list(target.hints)
            if target.code == "unknown-name" and len(expr.parts) == 1:
                hints = with_booleans(expr, block, self.blocks, hints)       # `tru` where a boolean fits
            self.report(target.code, target.message, expr.span, path=path, severity=target.severity, hints=hints)
            if target.severity == "warning":
                return "open", [], expr.parts[-1]
            return None
        if target.open:
            if self.ctx is not None or target.role not in ROLE_WORDS:
                self._impure += 1                  # open only while no loaded report binds it
            self._contextual += 1
            return "open", [], target.cell
        bound = named = None
        if target.role is not None:                # bound by this report: a fact of the record
            self._contextual += 1
            bound = self._bound_roles.get(target.role)
            if bound is None:                      # the same for every reference to the role: made once
                bound = self._bound_roles[target.role] = (
                    self._context_fact("role", target.role, None),
                    frozenset(id(self.blocks[name]) for name in target.blocks))
            if self._frames:
                self._note_role(bound)
        elif len(expr.parts) > 1:
            named = id(self.blocks[target.blocks[0]])
            if self._frames:
                self._frames[-1].ids.add(named)
        blocks = self._block_lists.get(target.blocks)
        if blocks is None:                         # one list per set of blocks (_known_types keys by its id)
            blocks = self._block_lists[target.blocks] = [self.blocks[name] for name in target.blocks]
        found = ("cells", blocks, target.cell)
        self._resolved[key] = (found, bound, named)
        return found

    def _quoted_role(self, role: str) -> bool:
        """Report error[quoted-role] where the report sets the role a formula reads to a string naming a block
        (`stack = "vllm"`, meaning the block `vllm`); True when reported (then not also unbound-role)."""
        report = self.ctx.report if self.ctx is not None else None
        cell = report.cells.get(role) if report is not None else None
        quoted = cell.expr if cell is not None else None
        if cell is not None and cell.sweep and isinstance(cell.expr, ir.ListExpr):
            # A swept role given strings (`--set hardware='"h100_sxm5"'` where the report sweeps hardware): the first.
            quoted = next((item for item in cell.expr.items if isinstance(item, ir.Str)), None)
        if quoted is None or not isinstance(quoted, ir.Str):
            return False
        name = quoted.value
        file = str(quoted.span.file)
        if name not in self.blocks and not in_override(file):
            return False        # a string naming no block, in a file: unbound-role says what the role takes
        # Given on the command line (`--set stack='"vllm"'`), the fix is written as the command line takes it.
        written = f"--set {role}={name}" if file.startswith(COMMAND_LINE) else f"{role} = {name}"
        exists = "the block `{}` exists"
        if name not in self.blocks:              # an override's quoted name of no block: said at the --set
            from .linker import ROLE_KINDS

            kind = ROLE_KINDS.get(role)
            close = suggest(name, [b for b, block in self.blocks.items() if kind is None or block.kind == kind])
            written = f"--set {role}={close[0]}" if close and file.startswith(COMMAND_LINE) else written
            exists = "no block is named `{}`" + (f"; did you mean `{close[0]}`?" if close else "")
        hint = f"write `{written}` without quotes ({exists.format(name)})"
        if file.startswith(API_OVERRIDE):        # the API's value is a Python string: no quotes inside it
            hint = f"give the block's bare name: `overrides={{{role!r}: {name!r}}}` ({exists.format(name)})"
        self.report("quoted-role", f"'{role}' is the string \"{name}\", but a formula reads the role '{role}'",
                    quoted.span, path=report.cell_path(role),
                    hints=[hint])
        return True

    def _t_ref(self, expr: ir.Ref, block, path) -> VType:
        feed = self.feed
        if feed is None:
            return self.ref_type(expr, block, path)
        return feed.next_type(self, expr, block, path)

    def _t_unary(self, expr: ir.Unary, block, path) -> VType:
        return self._apply(OPERATORS[UNARY[expr.op]], (expr.operand,), expr, block, path)

    def _t_binary(self, expr: ir.Binary, block, path) -> VType:
        vtype = self._apply(OPERATORS[expr.op], (expr.left, expr.right), expr, block, path)
        if expr.op in ("==", "!=") and ir.Str in (type(expr.left), type(expr.right)):
            check_comparison(self, expr, block, path)       # `power_model == "utilization"`: not an option
        return vtype

    def _apply(self, operator: Operator, operands: tuple, expr, block, path) -> VType:
        """An operator's dimension rule (operators.py) over its operands' types; a refusal is reported here."""
        types = tuple([self.expr_type(operand, block, path) for operand in operands])
        gives_bool = operator.boolean
        for t in types:
            if t.kind == "unknown":
                return BOOL if gives_bool else UNKNOWN
        result = operator.rule(types, expr)
        if isinstance(result, Problem):
            named = tuple([self.as_written(t, operand, block) for t, operand in zip(types, operands)])
            if any(t.hertz for t in named):     # the message names a clock in Hz, a count per second in 1/s
                result = operator.rule(named, expr)
            span = {"left": operands[0].span, "right": operands[-1].span}.get(result.at, expr.span)
            notes, hints = [], list(result.hints)
            if result.code == "type-mismatch" and result.at in ("left", "right"):
                # A string where a number is wanted (`ctx = "1024"`): say where its quotes are and how to drop them.
                operand = operands[0] if result.at == "left" else operands[-1]
                notes, quoted = quoted_operand_help(operand, self._defining_cell(operand, block))
                hints += quoted
            if result.code == "unit-mismatch" and len(operands) == 2 and getattr(expr, "op", None) != "^":
                # (An exponent is a plain number: `t ^ 0.5` is not `0.5 s`.)
                bare = self._bare_number_hint(operands, types, block)
                if bare is not None:            # the caret under the number that lacks its unit (`50`)
                    span, hint = bare
                    hints = [hint] + hints
            self.report(result.code, result.message, span, path=path, notes=notes, hints=hints)
            return BOOL if gives_bool and result.code == "unit-mismatch" else UNKNOWN
        return result

    def as_written(self, vtype: VType, expr: ir.Expr | None, block: Block) -> VType:
        """`vtype`, the type of the formula `expr` written in `block`, as a message names it: a quantity per second
        in Hz where the formula says Hz (a clock: hertz.expr_in_hertz), else as it is (1/s). For messages only: the
        result is equal to `vtype`, and is not kept."""
        if vtype.dim != FREQUENCY or expr is None:
            return vtype
        self._impure += 1       # the name follows the cells the formula reads, which a cell's record does not hold
        return clock(vtype, expr_in_hertz(expr, block, self.blocks, self.link, self.types))

    def cell_as_written(self, vtype: VType, block: Block, cell: ir.Cell) -> VType:
        """`vtype`, the type of `cell` of `block`, as a message names it: in Hz where the cell says Hz (declared or
        written in Hz, or reading a clock: as_written), else as it is. The cells its formula reads may have been
        typed by the report-free checker (an overridden cell of a parent block): their types are looked up there
        too."""
        if vtype.dim != FREQUENCY:
            return vtype
        if written_in_hertz(cell.declared):
            return clock(vtype, True)
        self._impure += 1
        types = self.types if self._free is None else ChainMap(self.types, self._free.types)
        return clock(vtype, expr_in_hertz(cell.expr, block, self.blocks, self.link, types))

    def _defining_cell(self, operand: ir.Expr, block: Block) -> ir.Cell | None:
        """The cell a reference leads to (the first of a swept role's blocks), for the notes of an error about its
        value; None for any other operand or a name that leads to no cell. Looked up through the linker only: nothing
        is typed or recorded."""
        if not isinstance(operand, ir.Ref):
            return None
        target = self.link.target(operand.parts, block)
        if not isinstance(target, Target) or target.open:
            return None
        return next((self.blocks[name].cells[target.cell] for name in target.blocks
                     if target.cell in self.blocks[name].cells), None)

    def _bare_number_hint(self, operands: tuple, types: tuple, block: Block) -> tuple[ir.Span, str] | None:
        """A number without a unit beside a quantity (`where tpot <= 50`, `runtime + 5`): the number's span and the
        help that writes it in the unit the report shows the other side in (`50 ms` where it shows `tpot in ms`),
        else in its dimension's usual unit (units.auto_unit: `50 s`); None where neither operand is such a number.
        The report's unit is offered on the report's own lines only: a line of a library block is checked once for
        every report that reads it, so its help is the same whichever report was checked first (it took that
        report's unit, and `perfdsl check` of two files gave two helps for one line)."""
        for (number, other), (_, other_type) in ((operands, types), (operands[::-1], types[::-1])):
            if not isinstance(number, ir.Num) or number.unit is not None or other_type.kind != "num" \
                    or other_type.dim.is_dimensionless:
                continue
            shown = self._shown_unit(other, block)
            # As a number's unit is written: `50 s^-1`, not `50 1/s` (a count per second), which does not parse.
            unit = literal_unit(shown or auto_unit(other_type.dim)[0])
            return number.span, (f"'{number.text}' has no unit: write it with one, e.g. `{number.text} {unit}`"
                                 + (f" (the unit the report shows '{other.shown_name}' in)" if shown else ""))
        return None

    def _shown_unit(self, expr: ir.Expr, block: Block) -> str | None:
        """The unit the report being checked shows the cell `expr` reads in (`show serving.tpot in ms as tpot`:
        `ms` for `tpot` or `serving.tpot`), where `expr` is written in that report (`block`); None where it shows it
        in no unit it names, or `expr` is on a line of another block."""
        if self.ctx is None or not isinstance(expr, ir.Ref) or block is None or block.name != self.ctx.report.name:
            return None
        for item in self.ctx.report.shows:
            if item.unit and expr.dotted in (item.name, item.ref.dotted):
                return item.unit
        return None

    def _t_call(self, expr: ir.Call, block, path) -> VType:
        func = FUNCTIONS.get(expr.func)
        if func is None:
            self._impure += 1                      # its arguments are not followed
            self.report("unknown-function", f"unknown function '{expr.func}'", expr.func_span, path=path,
                        hints=did_you_mean(expr.func, FUNCTIONS) + ["functions: " + ", ".join(sorted(FUNCTIONS))])
            return UNKNOWN
        args = []
        for index, arg in enumerate(expr.args):
            branch = expr.func == "if" and index > 0      # a value of `if`: needed only where it is chosen
            if branch:
                self.branch_depth += 1
                self.branch_path += ((id(expr), index),)
            try:
                args.append(self.expr_type(arg, block, path))
            finally:
                if branch:
                    self.branch_depth -= 1
                    self.branch_path = self.branch_path[:-1]
        if not func.min_args <= len(args) <= func.max_args:
            count = (str(func.min_args) if func.min_args == func.max_args
                     else f"{func.min_args} or more" if func.max_args > 9 else f"{func.min_args} to {func.max_args}")
            self.report("bad-call", f"{expr.func}() takes {count} argument{'s' if func.max_args != 1 else ''}, "
                        f"not {len(args)}", expr.span, path=path, hints=[func.usage])
            return UNKNOWN
        for a in args:
            if a.kind == "unknown":
                return UNKNOWN
        problem = func.check(args)
        if isinstance(problem, str):
            named = [self.as_written(a, arg, block) for a, arg in zip(args, expr.args)]
            if any(a.hertz for a in named):     # the message names a clock in Hz, a count per second in 1/s
                problem = func.check(named)
            self.report("unit-mismatch" if "dimension" in problem or "unit" in problem else "type-mismatch",
                        f"{expr.func}(): {problem}", expr.span, path=path, hints=[func.usage])
            return UNKNOWN
        return problem


# The type rule of each expression kind (`_t_<kind>`), looked up once rather than by name for every node.
_RULES = {name[3:]: rule for name, rule in vars(Checker).items() if name.startswith("_t_")}



def reached_by_both_values(branched: dict[tuple, set]) -> set:
    """The missing inputs a formula reaches at every point through its `if`s: `branched` maps a path of `if` values
    (Checker.branch_path below the formula's start: (id of the call, 1 or 2) per value) to the missing inputs reached
    there. An input that both values of an `if` reach is reached wherever the `if` is (a point takes one or the
    other), so it moves up to the path of the `if` itself; the deepest paths first, so nested `if`s fold in. The set
    that reaches the formula's own level (the empty path)."""
    found = {path: set(inputs) for path, inputs in branched.items()}
    top: set = set()
    for length in range(max(map(len, found), default=0), 0, -1):
        values: dict[tuple, dict[int, set]] = {}
        for path in [path for path in found if len(path) == length]:
            call, index = path[-1]
            values.setdefault((path[:-1], call), {})[index] = found[path]
        for (outer, _), by_index in values.items():
            both = by_index.get(1, set()) & by_index.get(2, set())
            if both:
                (found.setdefault(outer, set()) if outer else top).update(both)
    return top


def missing_input(sources: SourceLines, block: Block, cell: ir.Cell, needed_at: str | None = None,
                  chosen_by: ir.Span | None = None) -> Diagnostic:
    """The error for a declared input that a block does not give; `needed_at` names the sweep point that needs
    it and `chosen_by` the `if` whose branch reads it, where only some points do."""
    owner = block.owner.get(cell.name, block.name)
    where = f"{block.kind} '{block.name}'" + (f" (which extends '{owner}')" if owner != block.name else "")
    message = f"{where} does not give its declared input '{cell.name}' ({cell.declared})"
    notes = [f"declared at {cell.span.location()}"]
    if needed_at:
        message += f", which {needed_at} needs"
    if chosen_by is not None:
        notes.append(f"read only where the `if` at {chosen_by.location()} chooses it")
    return sources.diag("missing-input", message, block.span, path=block.cell_path(cell.name), notes=notes,
                        hints=[f"give it in '{block.name}' (`{cell.name} = ...`) or with "
                               + override_example(f"{block.name}.{cell.name}", "VALUE")])


def check_units_of_shows(checker: Checker, ctx: ReportContext) -> None:
    """Every shown cell has one name, and its display unit has the cell's dimension. Two shows of one name are two
    columns where their units differ (`show t in ms, t in s`); in one unit they would be one column twice (`t [s]`
    twice in CSV, once in JSON), so the second is refused, a show without `in UNIT` counting as in its SI unit
    (`show t, t in s`)."""
    names: dict[tuple[str, str | None], ir.ShowItem] = {}
    counts: dict[str, int] = {}
    for item in ctx.report.shows:
        counts[item.name] = counts.get(item.name, 0) + 1
    for item in ctx.report.shows:
        unit = item.unit if item.unit is not None or counts[item.name] == 1 else _si_unit_shown(checker, ctx, item)
        key = (item.name, unit)
        if key in names:
            first = names[key]
            shown_by = _shown_by(checker.blocks, ctx.report, first)
            note = f"the first is at {first.span.location()}"
            written = first.unit or item.unit            # `show t, t` says no unit: its message names none
            if first.unit != item.unit:                  # `show t, t in s`: the one without a unit is in s
                bare = first if first.unit is None else item
                note += (f"; `{bare.ref.dotted}" + (f" as {bare.label}" if bare.label else "")
                         + f"` without `in UNIT` is shown in {unit}, its SI unit")
            hints = ["give one of them another name with `as NAME`, or another unit"]
            if shown_by != ctx.report.name and _shown_by(checker.blocks, ctx.report, item) == ctx.report.name:
                # A child's `show` adds to its parent's: what the parent shows cannot be shown again, nor taken back.
                note += f", in report '{shown_by}', which this report extends: a report's `show` adds to its parent's"
                hints = ["the parent shows it already: remove this one, or give it another name with `as NAME` "
                         "(docs/LANGUAGE.md, Reports: `show` in a report that extends another)"]
            checker.report("duplicate-show", f"two shown cells are named '{item.name}'"
                           + (f" in {unit}" if written else ""), item.span, path=f"report.{ctx.report.name}",
                           notes=[note], hints=hints)
        names.setdefault(key, item)
    _check_labels_against_axes(checker, ctx)
    for item in ctx.report.shows:
        vtype = checker.ref_type(item.ref, ctx.report, f"report.{ctx.report.name}")
        if item.unit is None or vtype.kind == "unknown":
            continue
        if vtype.kind != "num":
            checker.report("unit-mismatch", f"'{item.ref.dotted}' is {vtype.describe()}, so it has no unit",
                           item.unit_span, path=f"report.{ctx.report.name}")
            continue
        try:
            unit = parse_unit(item.unit)
        except ValueError:
            continue
        if unit.dim != vtype.dim:
            vtype = checker.as_written(vtype, item.ref, ctx.report)
            checker.report("unit-mismatch", f"cannot show '{item.ref.dotted}' ({vtype.describe()}) in {item.unit} "
                           f"({dimension_name(unit.dim, written_in_hertz(item.unit))})", item.unit_span, path=f"report.{ctx.report.name}",
                           hints=unit_hints(vtype.dim, unit.dim) + [f"show it in a unit of {vtype.describe()}"])


def _si_unit_shown(checker: Checker, ctx: ReportContext, item: ir.ShowItem) -> str | None:
    """The unit a show without `in UNIT` is in, as its column's key has it (result.ShownColumn.make): the cell's SI
    unit (Hz for a clock), "" for a plain count, a string or a flag; None where the cell's type is not known."""
    vtype = checker.ref_type(item.ref, ctx.report, f"report.{ctx.report.name}")
    if vtype.kind == "unknown":
        return None
    if vtype.kind != "num" or vtype.dim is None or vtype.dim == DIMENSIONLESS:
        return ""
    hertz = vtype.dim == FREQUENCY and ref_in_hertz(item.ref, ctx.report, checker.blocks, checker.link,
                                                     checker.types)
    return si_unit_name(vtype.dim, hertz)


def _check_labels_against_axes(checker: Checker, ctx: ReportContext) -> None:
    """A column's `as` label that names an axis of the report (`show serving.tpot as batch`): the output would have
    two columns of one name (the axis's and the shown cell's), and a `where` line or question reading the name would
    read the axis (shown_names.py: a label is a bare name's last meaning) while the reader means the column. Under
    `invalid_points = "mark"`, a label or an axis named as a column the marks add (`valid`, `violates`) too."""
    axes = {coord.name for axis in ctx.axes for coord in axis.coords}
    _check_names_against_marks(checker, ctx, axes)
    for item in ctx.report.shows:
        if item.label is not None and item.label in axes:
            checker.report("duplicate-show", f"a shown cell is named '{item.label}', like the report's axis "
                           f"'{item.label}'", item.span, path=f"report.{ctx.report.name}",
                           notes=[f"the axis '{item.label}' is a column of the output already, and `where` lines "
                                  f"and questions read '{item.label}' as the axis"],
                           hints=[f"give the column another name: `as {item.ref.parts[-1]}`"
                                  if item.ref.parts[-1] not in axes else "give the column another name with `as NAME`"])


def _choice_option(name: str) -> bool:
    """Whether a report cell `name` is a report option whose value is one of a few words (`points`,
    `error_convention`, `invalid_points`): report_options checks how it is written."""
    from .report_options import OPTIONS

    option = OPTIONS.get(name)
    return option is not None and option.kind == "choice"


def _parent_with(blocks, block: Block, name: str) -> str | None:
    """The nearest block `block` extends that has a cell `name` (whose value a formula `name = name ...` likely
    meant), else None."""
    for ancestor in block.lineage[1:]:
        if ancestor in blocks and name in blocks[ancestor].cells:
            return ancestor
    return None


def _given_in_chain(blocks, chain) -> ir.Cell | None:
    """The first cell of a cycle's chain ((block, cell, span) steps) whose formula an override gave (`--set`, the
    API's overrides=), else None."""
    for block_name, name, _ in chain:
        cell = blocks[block_name].cells.get(name) if block_name in blocks else None
        if cell is not None and cell.expr is not None and in_override(str(cell.expr.span.file)):
            return cell
    return None


MARK_COLUMNS = ("valid", "violates")      # the columns `invalid_points = "mark"` adds (Result.table)


def _check_names_against_marks(checker: Checker, ctx: ReportContext, axes: set[str]) -> None:
    """Under `invalid_points = "mark"`, a shown cell's label or an axis named `valid` or `violates`: the output would
    have two columns of that name, and JSON, whose keys are one each, kept only the marks' (the shown values or the
    axis's were lost without a word)."""
    from .report_options import option_value

    try:
        marked = option_value(checker.sources, ctx.report, "invalid_points") == "mark"
    except PerfError:
        return                                  # a bad option value: reported by the options' own check
    if not marked:
        return
    path = f"report.{ctx.report.name}"
    note = 'invalid_points = "mark" adds the columns valid (whether the point meets every constraint) and violates'
    for item in ctx.report.shows:
        if item.label in MARK_COLUMNS:
            checker.report("duplicate-show", f"a shown cell is named '{item.label}', like the column that "
                           "invalid_points = \"mark\" adds", item.span, path=path, notes=[note],
                           hints=["give the column another name with `as NAME`"])
    for name in sorted(axes & set(MARK_COLUMNS)):
        # Where the sweep is written: the report's, a bound block's, or a --set value's (bad usage there).
        owner = next((checker.blocks[block] for block, cell in ctx.sweep_cells if cell == name
                      and block in checker.blocks), ctx.report)
        cell = owner.cells.get(name)
        span = ctx.report.span if cell is None else (
            cell.expr.span if cell.expr is not None and in_override(str(cell.expr.span.file)) else cell.span)
        checker.report("duplicate-show", f"report '{ctx.report.name}' has an axis '{name}', like the column that "
                       "invalid_points = \"mark\" adds", span, path=path, notes=[note],
                       hints=["give the axis another name"])


def _give_hint(target: str, before: VType, was: str, written: ir.Expr | None) -> str:
    """What to give the override `target` of a cell of type `before` (named `was`): its literal `written` as an
    example where the cell is one, else a value of the type (1 and the dimension's unit, true, a string)."""
    if written is not None:
        text = written_text(written)
        value = f'"{text}"' if " " in text or before.kind == "str" else text
    elif before.kind == "num":
        value = "1" if before.dim.is_dimensionless else f'"1 {literal_unit(was)}"'
    else:
        value = "true" if before.kind == "bool" else '\'"TEXT"\''     # quoted: a formula's cell takes no bare text
    what = ("a boolean, true or false" if before.kind == "bool" else "a string" if before.kind == "str"
            else "a plain number" if before.dim.is_dimensionless else f"a quantity in {was}")
    return f"give {what}, e.g. {override_example(target, value)}"


def _literal_type(expr: ir.Expr) -> VType:
    """The type of a literal number (its dimension), string or boolean."""
    if isinstance(expr, ir.Num):
        return num_of(expr.dim)
    return BOOL if isinstance(expr, ir.Bool) else STR


def _written_unit(cell: ir.Cell) -> str | None:
    """The unit a cell is declared in, or its literal is written in (`tdp = 300 W`: `W`); None where neither."""
    if cell.declared_dim is not None:
        return cell.declared
    return cell.expr.unit if isinstance(cell.expr, ir.Num) else None


def _bare_number_hints(values: list, replaced: ir.Cell, before: VType, name: str | None) -> list[str]:
    """Where the first value is a number without a unit given to a cell of a dimension (`4800` for byte/s): the
    number as --set's help writes it (overrides.bare_number_help: read in SI, and in the unit the replaced cell is
    written in, `4800 GB/s`; a time in that unit and the one below), each as the cell `name = VALUE` (a swept value
    alone, where `name` is None), else with the unit the cell is written in or its dimension's name; [] else."""
    first = values[0] if values else None
    if not isinstance(first, ir.Num) or first.unit is not None or before.dim.is_dimensionless:
        return []
    expr = replaced.expr
    unit = expr.unit if isinstance(expr, ir.Num) and expr.unit else literal_unit(before.describe())
    help_ = bare_number_help(first.text, first.value, before.dim, unit, before.describe(),
                             lambda value: f"`{value}`" if name is None else f"`{name} = {value}`")
    return [help_ or f"write the number with its unit, e.g. `{first.text} {unit}`"]


def _inherited_unit(blocks: dict[str, Block], block: Block, cell: ir.Cell) -> str | None:
    """The unit the value that `cell` of `block` overrides is written in (`3350 GB/s` in h100_sxm5 for `mem_bw =
    4800` in a block that extends it), as --set's help takes the unit of the cell it sets; None where it overrides no
    number written with a unit."""
    parent = blocks.get(block.parent) if block.parent else None
    if parent is None or block.owner.get(cell.name) != block.name or cell.name not in parent.cells:
        return None
    expr = parent.cells[cell.name].expr
    return expr.unit if isinstance(expr, ir.Num) and expr.unit else None


def _shown_by(blocks: dict[str, Block], report: Block, item: ir.ShowItem) -> str:
    """The report of `report`'s lineage whose own `show` lines hold `item` (the report itself where none does)."""
    for name in report.lineage:
        node = blocks[name].node if name in blocks else None
        if node is not None and any(shown is item for shown in node.shows):
            return name
    return report.name


def _declaration(cell: ir.Cell, declared: VType) -> tuple[str, list[str]]:
    """A declared cell's type as its unit-mismatch names it (`count`, or `GB (byte)` where the unit written is not
    the dimension's name) and the note saying where it is declared."""
    text = cell.declared if cell.declared == declared.describe() else f"{cell.declared} ({declared.describe()})"
    return text, [f"declared at {cell.declared_span.location()}"] if cell.declared_span else []


def _count_hints(cell: ir.Cell, declared: VType, given: Dimension, written: str | None = None) -> list[str]:
    """The help for a cell declared with a unit (`peak_fp16: FLOP/s`, its own or inherited) whose formula gives a
    plain count; [] where it gives another dimension or the cell is declared a count. A bare number is offered as
    --set's help offers it (overrides.bare_number_help): read in SI (`989.4e12` for FLOP/s: `peak_fp16 = 989.4
    TFLOP/s`) and as written in `written`, the unit of the parent's value it overrides (`3350 GB/s`: `mem_bw = 4800
    GB/s`; the declared `byte/s` alone offered 4.8 kB/s), else in the unit the cell is declared in (`g: GB/s` gives
    GB/s, not byte/s); a time in that unit and the unit below (a bare `5` for a cell in s may mean ms); where
    neither reading differs from the number as it is, `write it with a unit of FLOP/s, e.g. `peak_fp16 = 5
    FLOP/s``. A formula is told the dimension it needs, with its first bare number (not an exponent; in a product or quotient only) and the unit as the example, then
    unit_hints' token or byte hint (not its rate one: a count is neither a rate nor an amount)."""
    if not given.is_dimensionless or declared.dim.is_dimensionless:
        return []
    from .linker import walk

    unit = cell.declared
    expr, sign = cell.expr, ""
    if isinstance(expr, ir.Unary) and expr.op == "-" and isinstance(expr.operand, ir.Num):
        expr, sign = expr.operand, "-"
    needed = declared.describe()
    if isinstance(expr, ir.Num) and expr.unit is None:
        number = sign + expr.text
        bare = bare_number_help(number, -expr.value if sign else expr.value, declared.dim, written or unit,
                                clock(declared, written_in_hertz(written or unit)).describe(),
                                lambda value: f"`{cell.name} = {value}`")
        return [bare or f"write it with a unit of {needed}, e.g. `{cell.name} = {number} {literal_unit(unit)}`"]
    # A number of a product or quotient takes the unit (`989 / 2`: `989 FLOP/s`); in a sum it would not (`n + 1`).
    nodes = list(walk(cell.expr))
    operators = {node.op for node in nodes if isinstance(node, ir.Binary)}
    exponents = {id(node.right) for node in nodes if isinstance(node, ir.Binary) and node.op == "^"}
    bare = next((node for node in nodes if isinstance(node, ir.Num) and node.unit is None and node.dim is not None
                 and id(node) not in exponents), None)
    hint = f"its formula gives a plain count where '{cell.name}' needs a quantity in {needed}"
    if bare is not None and operators <= {"*", "/", "^"}:
        hint += f": write the unit after the number it applies to, e.g. `{bare.text} {literal_unit(unit)}`"
    return [hint] + [h for h in unit_hints(declared.dim, given) if not h.startswith("one side is a rate")]


def _rate_hints(expr: ir.Expr, declared: Dimension, given: Dimension, declared_unit: str | None = None) -> list[str]:
    """unit_hints for a cell whose formula's dimension is not the one declared, the first replaced by
    _amount_hint where the formula is a number written as the declared rate's amount."""
    hints = unit_hints(declared, given)
    amount = _amount_hint(expr, declared, given, declared_unit)
    return amount + hints[1:] if amount else hints


def _amount_hint(expr: ir.Expr, wanted: Dimension, given: Dimension, unit: str | None = None) -> list[str]:
    """Where `expr` is a number written with a unit that is the amount of the rate `wanted` (`1978.9 TFLOPs` for
    FLOP/s: a datasheet's "TFLOPS" is a rate; `300 J` for W), how to write the rate: in `unit` (the unit the cell
    is declared or written in) where it is the same size (`300 W`), else by the dimension's own name (`300 kJ`:
    `300 kW`), else as the amount per second (`1978.9 TFLOP/s`). [] otherwise."""
    if not (isinstance(expr, ir.Num) and expr.unit and wanted == given / Dimension.of(s=1)) \
            or wanted.is_dimensionless:         # a count is no rate: `256 ms` for a count is not '256 ms/s'
        return []
    from .units import named_unit

    amount = expr.unit[:-1] if expr.unit.endswith(("s", "S")) and expr.unit[-2:-1].isupper() else expr.unit
    rate = named_unit(f"{amount}/s", unit)
    return [f"'{expr.text}' is an amount of {dimension_name(given)}; the rate is written "
            f"'{expr.text[:len(expr.text) - len(expr.unit)]}{rate}'"]
