"""Constraints (`require CONDITION, "message"`) and expectations (`expect CONDITION, "message"`): at check time
(stage 3c) and over the sweep (stage 4).

A `require` belongs to the block that writes it and to every block that extends that one; it is evaluated with the
cells of the block it ends up in (a constraint of the family workload `inference` reads the `tp` of the report's
workload), like any inherited cell.

- `check_requires` (called by Program's checks): the condition is a boolean; where it reads only constants (no
  sweep, no role swept over several blocks, no declared input left open) it is decided before anything is
  computed, and a false one is an error that names the values it read.
- `evaluate_requires` (called by Program.evaluate): the condition over the whole sweep. `valid` is True where every
  constraint holds; each constraint that some points break gives ONE diagnostic with its message, how many points
  and a few of their axis values: a warning (the points are left out of the results, or kept and marked, as the
  report option `invalid_points` says), or an error where no point is left.

An expectation (ir.Require with `soft`: a plausibility bound, such as a GPU's bandwidth per byte of memory) takes the
same path, and is never an error nor a point left out: a constant one that is false is a warning at check
(EXPECT_CODE, located and quoted as a constraint's error is), decided there once (not evaluated again over the
sweep); one that varies over the sweep gives one warning that counts the points that break it (of those the
constraints keep), and those points keep their rows, with no `valid`/`violates` mark.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from . import ir
from .context import ReportContext
from .errors import Diagnostic, Tally, in_override
from .evaluator import Evaluator
from .functions import FUNCTIONS
from .lazy_numpy import lazy_numpy
from .linker import Linker, Target, Unresolved, is_block_ref, refs_of, walk
from .long_runs import along_long_runs
from .scalar_conditions import condition_value
from .vtypes import UNKNOWN

np = lazy_numpy(__name__)


CODE = "constraint"
EXPECT_CODE = "unexpected-value"   # an `expect` broken: a warning
EXAMPLES = 3              # sweep points quoted per broken constraint
VALUES_QUOTED = 6         # constant cells quoted per constraint broken at check time


@dataclass
class Violation:
    """A constraint that some sweep points break. `broken` is True at those points (broadcastable to the
    report's shape); `count` of the report's `total` points break it; `examples` describe the first few."""

    owner: str                     # the block that writes the `require`
    kind: str                      # that block's kind
    require: ir.Require
    broken: np.ndarray
    count: int
    total: int
    examples: list[str]

    @property
    def message(self) -> str:
        return self.require.message

    def __repr__(self) -> str:
        # Short: the dataclass's own repr would print the whole `require` syntax tree and the mask.
        return f"<Violation of {self.kind} '{self.owner}': {self.message!r}, {self.count:,} of {self.total:,} points>"


@dataclass(frozen=True)
class Examples:
    """The sweep points a broken constraint's note quotes ("at batch=0; batch=1; ..."): the first EXAMPLES, in row
    order, and whether more points break it. A chunk's merge with a later chunk's (streaming.keep_first) quotes
    what the whole evaluation would: the distinct points of both, in order, up to EXAMPLES."""

    points: tuple[str, ...]
    more: bool

    def note(self) -> str:
        return "at " + "; ".join(self.points) + ("; ..." if self.more else "")

    def merged(self, later: "Examples") -> "Examples":
        points = self.points + tuple(p for p in later.points if p not in self.points)
        return Examples(points[:EXAMPLES], self.more or later.more or len(points) > EXAMPLES)


@dataclass
class Validity:
    """Which points of a report meet every constraint: `valid` has the report's full shape."""

    valid: np.ndarray
    violations: list[Violation]
    diagnostics: list[Diagnostic]


# -- check time ----------------------------------------------------------------------------------------------------

def check_requires(checker, blocks, ctx: ReportContext | None) -> list[tuple]:
    """Type every `require` of `blocks` (resolved Blocks) in the checker's context and report, through
    `checker.report`, a condition that is not a boolean and one that reads only constants and is false.

    Returns the constraints that apply in this context and are well typed, as (block, owner, require): what
    `evaluate_requires` evaluates over the sweep (decided once per report, like its dimensions).
    """
    applicable = []
    # One evaluator per context (the report's, or one for every report-free block), under "", made where needed,
    # with its linker ("link") and context ("context"), and the cells the plain-Python path computed
    # (scalar_conditions.py) under "cells": _holds_everywhere.
    evaluators: dict[str, object] = {}
    # Whether each cell a condition reaches is a constant, found once for every condition of this call (one linker).
    constants: dict[tuple[str, str], tuple[bool, ir.Cell | None]] = {}
    for block in blocks:
        if block.requires:
            # Most blocks' `require`s were decided by an earlier program's check without a report, with the same
            # Block: replayed at once (Sharing.replay_requires), as one by one below would.
            replayed = checker.replay_requires(block)
            if replayed is not None:
                applicable.extend((block, owner, require)
                                  for (owner, require), applies in zip(block.requires, replayed) if applies)
                continue
        for owner, require in block.requires:
            path = f"{block.kind}.{block.name}"

            def run(block=block, owner=owner, require=require, path=path) -> tuple[bool, bool]:
                # Without a report, every constraint is typed; one that reads an input left open is no constant.
                applies = ctx is None or _applies(checker.link, require, block)
                if not applies:
                    return False, False     # typing it would ask for the role or the input (not followed: not kept)
                reported = len(checker.diagnostics)
                vtype = checker.formula_type(require.condition, block, path)
                # Whether typing reported something depends on what this checker reported before: kept only where
                # the condition and every cell it reads report nothing.
                keep = checker.typed_clean()
                if vtype.kind == "unknown" or len(checker.diagnostics) > reported:
                    return False, keep
                if vtype.kind != "bool":
                    article = "an" if require.soft else "a"
                    checker.report("type-mismatch", f"{article} `{require.keyword}` needs a condition that is true or "
                                   f"false, not {checker.as_written(vtype, require.condition, block).describe()}",
                                   require.condition.span, path=path, hints=[EXAMPLE[require.soft]])
                    return False, keep
                constant = _is_constant(require.condition, block, checker.link, None, constants)
                if constant and not _reads_unknown(checker, require, block) \
                        and not _holds_everywhere(checker, block, require, ctx, evaluators):
                    # The cells it read, named as it reaches them (a fresh memo: the shared one stops at the cells
                    # that earlier conditions reached, which this one reads too).
                    reads: dict[str, ir.Cell] = {}
                    _is_constant(require.condition, block, checker.link, reads, {})
                    _report_broken(checker, block, owner, require, reads, path,
                                   lambda part, block=block: _holds_everywhere(checker, block, part, ctx, evaluators))
                # A constant expectation is decided here, once: not evaluated again over the sweep.
                return not (require.soft and constant), keep

            # Shared with the other programs of a `perfdsl check` (shared_checks.py), like the cells it reads.
            if checker.shared_step(block, ("require", id(require)), run):
                applicable.append((block, owner, require))
    _drop_moot_expectations(checker)
    return applicable


def _drop_moot_expectations(checker) -> None:
    """A block with an error is not warned of as implausible too: an expectation's warning is left out where an
    error stands in the block it names (a broken `require`, a cell's unit mismatch): `mem_bw = -1 TB/s` breaks
    `mem_bw > 0 B/s` and gpu.perf's three bounds that read mem_bw; `mem_bw = 4800`, a count, is a unit mismatch and
    would be read as 4800 B/s. Fixed, the block is checked again, its expectations with it."""
    failed = [d.path + "." for d in checker.diagnostics if d.severity == "error" and d.path]
    if failed:
        checker.diagnostics[:] = [d for d in checker.diagnostics if d.code != EXPECT_CODE or not d.path
                                  or not any(path.startswith(d.path + ".") for path in failed)]


# The example a condition that is no boolean is given, by `soft`.
EXAMPLE = {False: 'e.g. `require batch >= 1, "batch is at least 1"`',
           True: 'e.g. `expect mem_bw <= 100 TB/s, "mem_bw is a bandwidth in bytes: 4800 Gbit/s is 600 GB/s"`'}


def has_hard(constraints) -> bool:
    """Whether some of `constraints` (block, owner, require) is a `require` (an expectation leaves no point out, and
    marks none)."""
    return any(not require.soft for _, _, require in constraints)


def blocks_of_report(blocks, ctx: ReportContext, reached) -> list:
    """The blocks whose constraints apply to a report: the report, the blocks its roles bind, and the blocks named
    in `reached` (those a checked or evaluated cell of the report reached: the cost models it shows)."""
    names = [ctx.report.name] + list(ctx.fixed_roles.values())
    for _, coord in ctx.swept_roles.values():
        names.extend(coord.value_list())
    names.extend(reached)
    return [blocks[name] for name in dict.fromkeys(names) if name in blocks]


def _applies(link, require: ir.Require, block) -> bool:
    """Whether a constraint applies in this context. It does not where its condition reads a role the report does
    not bind (the workload `inference`'s rule on the model's heads, in a report without a model), nor where it
    reads a declared input that is not given (`idle_power <= tdp` on a part whose datasheet lacks the TDP): a
    constraint never asks for a figure that the shown cells do not need."""
    roots = []
    for ref in refs_of(require.condition):
        target = link.target(ref.parts, block)
        if isinstance(target, Unresolved):
            return target.code != "unbound-role"       # other names: the checker reports them
        roots.extend((name, target.cell) for name in target.blocks)
    return link.all_given(roots)


def _reads_unknown(checker, require: ir.Require, block) -> bool:
    """Whether the condition reads a cell whose type is unknown (an error already reported there, such as a cell
    declared in W given the string "350 W"): its value is not computed, as the cell's may be text. A cell's formula
    that reads such a cell is unknown too, so the condition's own references tell."""
    types, own = checker.types, None if block.kind == "report" else block.cells
    for ref in refs_of(require.condition):
        parts = ref.parts
        if own is not None and len(parts) == 1 and parts[0] in own:
            # A cell of the block itself, as the linker's _resolve_local finds it, without its look-up (most names).
            if types.get((block.name, parts[0])) == UNKNOWN:
                return True
            continue
        target = checker.link.target(parts, block)
        if not isinstance(target, Unresolved) and any(
                types.get((name, target.cell)) == UNKNOWN for name in target.blocks):
            return True
    return False


def _holds_everywhere(checker, block, require: ir.Require | ir.Expr, ctx: ReportContext | None,
                      evaluators: dict[str, object]) -> bool:
    """A constant condition's value (a `require`'s, or a part of one) (constants only: no axis, so any report-free
    context computes it): in plain Python where that gives numpy's answer (scalar_conditions.py), else with the
    evaluator. Both read the cells through one linker (the checker's, or one of the report-free context), kept in
    `evaluators` with the cells computed; the evaluator is made only where the plain path gives no answer (no
    condition of the library files): a check computes nothing with numpy."""
    link = evaluators.get("link")
    if link is None:
        evaluators["context"] = context = ctx or ReportContext(report=block)
        link = evaluators["link"] = checker.link if ctx is not None else Linker(checker.blocks, context)
        evaluators["cells"] = {}
    condition = require.condition if isinstance(require, ir.Require) else require
    value = condition_value(link, condition, block, evaluators["cells"])
    if value is not None:
        return value
    evaluator = evaluators.get("")
    if evaluator is None:
        evaluator = evaluators[""] = Evaluator(checker.blocks, evaluators["context"], checker.sources, checker.types,
                                               link=link)
    value = evaluator.run(lambda: evaluator.expr(condition, block))
    return bool(np.all(value))


def _report_broken(checker, block, owner: str, require: ir.Require, reads: dict[str, ir.Cell], path: str,
                   holds: Callable[[ir.Expr], bool]) -> None:
    """Report a false constant `require` of `block` (written in `owner`), its `reads` quoted in a note. `holds`
    tells whether a part of its condition is true (_holds_everywhere), to locate the value that breaks it."""
    values = ", ".join(f"{name} = {_written(cell)}" for name, cell in list(reads.items())[:VALUES_QUOTED])
    notes = [f"`{_one_line(require.text)}` is false" + (f" with {values}" if values else "")]
    if owner != block.name:
        what = "expectation" if require.soft else "constraint"
        notes.append(f"the {what} is written in {checker.blocks[owner].kind} '{owner}' at "
                     f"{require.span.location()}")
        # Located at the value the block itself writes that the constraint reads (`matmul_efficiency = 67` in a
        # GPU that extends another), else at the block. Of several, the one a false part of the condition reads:
        # `hidden >= 1 and layers >= 1` broken by `layers = -44` is located there, not at `hidden = 6144`.
        own = [cell for name, cell in _culprits(checker, block, require.condition, reads, holds).items()
               if block.owner.get(name) == block.name]
        # Of those, first a value a `--set` gives (override_blame names it where it alone breaks the condition).
        own.sort(key=lambda cell: not in_override(cell.expr.span.file))
        if require.soft and len(own) > 1 and not in_override(own[0].expr.span.file):
            # A ratio out of its bounds does not say which of the block's figures is off: the block, not the first.
            own = []
        span = own[0].span if own else block.span
    else:
        span = require.condition.span
    if require.soft:
        checker.report(EXPECT_CODE, require.message, span, path=path, notes=notes, severity="warning")
    else:
        checker.report(CODE, require.message, span, path=path, notes=notes)


def _culprits(checker, block, condition: ir.Expr, reads: dict[str, ir.Cell],
              holds: Callable[[ir.Expr], bool]) -> dict[str, ir.Cell]:
    """The literal cells of `reads` (those a false constant `condition` read, in reading order) with first those
    that the first false part of its `and` chain reads (`holds` tells a part's value); `reads` as it is where the
    condition is no `and` chain or no part can be told false."""
    parts = []

    def split(expr: ir.Expr) -> None:
        if expr.kind == "binary" and expr.op == "and":
            split(expr.left)
            split(expr.right)
        else:
            parts.append(expr)

    split(condition)
    if len(parts) < 2:
        return reads
    for part in parts:
        try:
            false = not holds(part)
        except Exception:               # noqa: BLE001 - where a part cannot be computed alone, it is not blamed
            false = False
        if false:
            first: dict[str, ir.Cell] = {}
            _is_constant(part, block, checker.link, first, {})
            return {**{name: cell for name, cell in first.items() if name in reads}, **reads}
    return reads


def _written(cell: ir.Cell) -> str:
    expr = cell.expr
    if isinstance(expr, ir.Str):
        return f'"{expr.value}"'
    if isinstance(expr, ir.Bool):
        return "true" if expr.value else "false"
    return " ".join((cell.text or getattr(expr, "text", "")).split())


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _is_constant(expr: ir.Expr, block, link, reads: dict[str, ir.Cell] | None, memo: dict, prefix: str = "") -> bool:
    """Whether `expr` (in `block`) reads no sweep, no role swept over blocks, no declared input left open and no
    role a report has not bound; `reads` (unless None) collects the literal cells it reads, named as the condition
    reaches them (`model.heads`; `prefix` is the role or block a formula cell of another block was reached through):
    all of them only with a fresh `memo`, as a cell found in `memo` is not followed again. `memo` (by block and cell:
    whether it is a constant, and the cell where it is a literal) holds for every condition of the same `link`.
    A formula's shape is looked at once (_constant_refs); what varies with the block is only where its names lead."""
    refs = _constant_refs(expr)
    if refs is None:
        return False
    own = None if block.kind == "report" else block.cells
    for ref in refs:
        parts = ref.parts
        if own is not None and len(parts) == 1 and parts[0] in own:
            # A cell of the block itself, as the linker's _resolve_local finds it (checker.Checker.resolve says why).
            target_block, name = link.blocks[block.name], parts[0]
        else:
            target = link.target(parts, block)
            if not isinstance(target, Target) or len(target.blocks) != 1:
                return False                          # unresolved, a role left open, or swept over blocks
            target_block, name = link.blocks[target.blocks[0]], target.cell
        key = (target_block.name, name)
        known = memo.get(key)
        if known is None:
            memo[key] = (False, None)                 # a cycle is not a constant (the checker reports it)
            cell = target_block.cells[name]
            if cell.sweep or cell.expr is None or is_block_ref(cell.expr, link.blocks, target_block):
                known = (False, None)
            elif cell.expr.kind in _LITERALS or (cell.expr.kind == "unary" and cell.expr.operand.kind == "num"):
                known = (True, cell)
            else:
                inner = prefix if len(parts) == 1 else parts[0] + "."
                known = (_is_constant(cell.expr, target_block, link, reads, memo, inner), None)
            memo[key] = known
        found, literal = known
        if not found:
            return False
        if literal is not None and reads is not None:
            reads.setdefault(prefix + ref.dotted if len(parts) == 1 else ref.dotted, literal)
    return True


_LITERALS = ("num", "str", "bool")
_OPERATORS = frozenset({"unary", "binary"})


@ir.once_per_node
def _constant_refs(expr: ir.Expr) -> tuple[ir.Ref, ...] | None:
    """The distinct references of a formula in the order they are written, or None where a node of it is never a
    constant whatever its names read (a function perfdsl does not know; a list, a tuple or a range). Found once per
    formula node (ir.once_per_node), as linker.refs_of finds its references: a condition that blocks inherit is
    asked for in each of them, and a cell's formula in each condition that reads it (5,629 times for 356 formulas
    in a check of the library files, -j 1)."""
    found: dict[str, ir.Ref] = {}
    for node in walk(expr):
        kind = node.kind
        if kind == "ref":
            found.setdefault(node.dotted, node)
        elif not (kind in _LITERALS or kind in _OPERATORS or (kind == "call" and node.func in FUNCTIONS)):
            return None
    return tuple(found.values())


# -- over the sweep ------------------------------------------------------------------------------------------------

def evaluate_requires(evaluator: Evaluator, constraints, mode: str, key=None) -> Validity:
    """The constraints over the whole sweep (call inside `evaluator.run`).

    `constraints`: (block, owner, require) as `check_requires` returned them, for the blocks the report's shown
    cells reached (`blocks_of_report`); `mode`: the report option `invalid_points` ("omit" or "mark"), which the
    warnings name; `key`: what names this list of constraints among the prepared report's, where the caller has
    one (by default, the constraints' blocks and requires).
    Returns the full-shape `valid` array, one Violation per broken constraint, and their diagnostics: warnings,
    or errors where no point meets every constraint; then a warning per expectation broken at some point that the
    constraints keep (every point under "mark"), which leaves `valid` and the violations as they are.
    """
    ctx = evaluator.ctx
    by_require: dict[tuple, tuple[str, ir.Require, np.ndarray, list]] = {}
    candidates, remembered = _candidates(evaluator, constraints, key)
    may_break = []
    for block, owner, require in candidates:
        holds = _holds(evaluator, ctx, block, require)
        if holds is _always_holds():         # a constant condition true at all its positions: nothing to add
            continue
        may_break.append((block, owner, require))
        key = (require.span.file, require.span.line, require.span.col)
        blocks = [block]
        if key in by_require:
            holds = np.logical_and(by_require[key][2], holds)
            blocks = by_require[key][3] + blocks
        by_require[key] = (owner, require, holds, blocks)

    if remembered is not None:
        evaluator.constants.formulas[remembered] = may_break
    valid = np.ones(ctx.shape, dtype=bool)
    violations, expected = [], []
    for owner, require, holds, blocks in by_require.values():
        if require.soft:
            expected.append((owner, require, holds, blocks))
            continue
        broken = ~holds
        # Points broken: those of the reduced array times the axes it does not vary along (no full-shape copy).
        spread = math.prod(n for n, m in zip(ctx.shape, broken.shape) if m == 1 and n > 1)
        count = int(np.count_nonzero(broken)) * spread
        if count == 0:
            continue
        np.logical_and(valid, along_long_runs(holds, ctx.shape), out=valid)
        varies = _condition_axes(evaluator, blocks, require)
        examples = [evaluator.describe_point(tuple(int(i) for i in index), broken.shape, {}, varies)
                    for index in np.argwhere(broken)[:EXAMPLES]]
        violations.append(Violation(owner, evaluator.blocks[owner].kind, require, broken, count, ctx.n_points,
                                    examples))
    # A chunk of a streamed sweep (ctx.whole_points set) whose points all break a constraint is no error: other
    # chunks may have points to show.
    nothing_left = bool(violations) and not valid.any() and ctx.whole_points is None
    diagnostics = [_diagnostic(evaluator, violation, mode, nothing_left) for violation in violations]
    if not nothing_left:
        kept = valid if violations and mode != "mark" else None
        diagnostics += [_unexpected(evaluator, *entry, kept) for entry in expected]
    return Validity(valid, violations, [d for d in diagnostics if d is not None])


def _unexpected(evaluator: Evaluator, owner: str, require: ir.Require, holds: np.ndarray, blocks: list,
                kept: np.ndarray | None) -> Diagnostic | None:
    """The warning of an expectation that the points `kept` (the constraints' valid mask; None: every point) break
    somewhere, counted and quoted as a broken constraint's (_diagnostic): None where none of them does."""
    ctx = evaluator.ctx
    broken = ~holds
    if kept is None:
        # Points broken: those of the reduced array times the axes it does not vary along (no full-shape copy).
        spread = math.prod(n for n, m in zip(ctx.shape, broken.shape) if m == 1 and n > 1)
        count = int(np.count_nonzero(broken)) * spread
    else:
        count = int(np.count_nonzero(np.logical_and(broken, kept)))
        # Quoted as the condition varies (its axes only): where some point kept along the others breaks it.
        axes = tuple(i for i, (n, m) in enumerate(zip(ctx.shape, broken.shape)) if m == 1 and n > 1)
        broken = np.logical_and(broken, kept.any(axis=axes, keepdims=True) if axes else kept)
    if count == 0:
        return None
    varies = _condition_axes(evaluator, blocks, require)
    examples = [evaluator.describe_point(tuple(int(i) for i in index), broken.shape, {}, varies)
                for index in np.argwhere(broken)[:EXAMPLES]]
    violation = Violation(owner, evaluator.blocks[owner].kind, require, broken, count, ctx.n_points, examples)
    return _diagnostic(evaluator, violation, "expect", False)


def _condition_axes(evaluator: Evaluator, blocks: list, require: ir.Require) -> frozenset | None:
    """The axes a constraint written in `blocks` varies along over the whole sweep (what its examples name in a
    chunk, as in the whole evaluation): its condition's in each, and the axes of the swept roles that take them
    (_holds); None where a cell's are not known."""
    found: set[int] = set()
    for block in blocks:
        axes = evaluator.formula_axes(require.condition, block)
        if axes is None:
            return None
        found |= axes
        found.update(index for index, _ in evaluator.role_positions(block.name))
    return frozenset(found)


def _candidates(evaluator: Evaluator, constraints, key=None) -> tuple[list, tuple | None]:
    """The constraints less those an earlier evaluation of the prepared report, with the same blocks in its roles,
    found to hold at every position they apply to (most of a report's: each a model's or a GPU's own), and the key
    under which evaluate_requires keeps the ones it evaluates (None without constants)."""
    constants = evaluator.constants
    if constants is None:
        return constraints, None
    if key is None:
        key = tuple((block.name, id(require)) for block, _, require in constraints)
    key = ("may break", evaluator.roles_key, key)
    return constants.formulas.get(key, constraints), key


# The help of a constraint broken where no sweep point is left to show (the run fails).
NOTHING_LEFT = "no sweep point meets every constraint, so there is nothing to show"

def _always_holds():
    """What _holds gives for a condition over constant cells that is true at every position (numpy's True, one
    object): most of a report's constraints (a model's or a GPU's own `require`s), which an evaluation then skips at
    the cost of a dict look-up. A function, not a constant: numpy is imported at the first evaluation (lazy_numpy)."""
    return np.True_


def _holds(evaluator: Evaluator, ctx: ReportContext, block, require: ir.Require) -> np.ndarray:
    """The condition over the sweep, as a boolean array; for a block of a role swept over several blocks, its value
    at that role's positions (True elsewhere: the constraint is not this block's there). _always_holds() for a
    condition over constant cells known true at each of those positions."""
    positions = evaluator.role_positions(block.name)
    if not positions:
        return np.asarray(evaluator.expr(require.condition, block), dtype=bool)
    constants = evaluator.constants
    key = ("holds", block.name, id(require), positions, evaluator.shape)
    if constants is not None:
        found = constants.formulas.get(key)
        if found is not None:
            return found
    warned = len(evaluator.warnings)
    pieces = [(index, i, np.asarray(evaluator.expr(require.condition, block, {index: i}), dtype=bool))
              for index, i in positions]
    shape = list(np.broadcast_shapes(*(piece.shape for _, _, piece in pieces)))
    for index, _, _ in pieces:
        shape[index] = ctx.shape[index]
    holds = np.ones(shape, dtype=bool)
    for index, i, piece in pieces:
        where = tuple(i if axis == index else slice(None) for axis in range(len(shape)))
        holds[where] = np.take(np.broadcast_to(piece, [1 if a == index else n for a, n in enumerate(shape)]), 0,
                               axis=index)
    # A condition over constant cells only (a model's own `require`) holds the same in every evaluation and chunk
    # with these role positions: kept with the report's constants (evaluator.Constants).
    if constants is not None and len(evaluator.warnings) == warned \
            and constants.formulas.get((block.name, id(require.condition))) is not None:
        constants.formulas[key] = _always_holds() if holds.all() else holds
    return holds


def _diagnostic(evaluator: Evaluator, violation: Violation, mode: str, nothing_left: bool) -> Diagnostic:
    """The diagnostic of a broken constraint, or of an expectation (mode "expect": a warning, its points kept)."""
    code = EXPECT_CODE if mode == "expect" else CODE
    if nothing_left:
        outcome = ""
    elif mode == "expect":
        outcome = ", kept in the results"
    elif mode == "mark":
        outcome = ", marked: valid = false"
    else:
        outcome = ", left out of the results"
    more = int(np.count_nonzero(violation.broken)) > len(violation.examples)   # more than the examples show
    examples = Examples(tuple(violation.examples), more)
    notes = [examples.note()]
    if violation.examples == ["every sweep point"]:
        notes, examples = [], None
    hints = []
    if nothing_left:
        hints.append(NOTHING_LEFT)
    elif mode not in ("mark", "expect"):
        hints.append('to keep them, marked, give the report the option `invalid_points = "mark"`')
    require = violation.require
    span = require.condition.span
    # A chunk counts its own points of the whole sweep's: the chunks' warnings add up (streaming.keep_first).
    tally = Tally(key=(code, span.file, span.line, span.col), count=violation.count,
                  total=evaluator.ctx.whole_points or violation.total, verb="break it",
                  before=f"{require.message}: ", after=outcome)
    diag = evaluator.sources.diag(code, tally.text(), span, path=f"{violation.kind}.{violation.owner}", notes=notes,
                                  hints=hints)
    diag.severity = "error" if nothing_left else "warning"
    diag.tally = tally
    diag.examples = examples          # its first note's points, for the merge of a chunked run's (keep_first)
    return diag
