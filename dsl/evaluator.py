"""Evaluator (stage 4): checked IR -> numpy arrays over the whole sweep at once.

Every value is an array with one dimension per axis of the report, of length 1 on the axes it does not depend on,
so numpy broadcasting does the sweep. Each cell is computed once per context: a context fixes the axes of the
roles whose block is being evaluated (a model block's cells are computed once per model on the `model` axis and
then stacked along it). Nothing is evaluated point by point. Formulas are compiled once per prepared report into
closures (compiled.py), and the parts of a formula that read constant cells only are computed once and kept with
the report's constants (`Constants`), so evaluating a report again, or its next chunk, repeats only the work
that depends on the sweep.

Floating-point trouble (division by zero, NaN, overflow) is caught with numpy's error callback at no cost on
healthy cells; a flagged cell whose result is not finite becomes a warning that names the cell and a sweep point.
Negative sizes and durations are warned about too.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from typing import Callable

from . import ir
from .blocks import Block, SourceLines
from .checker import missing_input
from .errors import Diagnostic, PerfError
from .compiled import compile_node
from .heap import keep_freed_memory
from .lazy_numpy import lazy_numpy
from .linker import Linker, Target, refs_of
from .point_warnings import Trouble, over_kept, point_warning
from .split_kernels import Splitter
from .context import ReportContext
from .units import BYTES, TIME

np = lazy_numpy(__name__)


Fix = tuple[tuple[int, int], ...]
# Points from which an evaluation's arrays are large enough for heap.py, reused buffers and memory order (_combine)
# to matter; below it the checks cost more than they save (1e4 points: 4.1 ms with none, 7.2 ms with all).
LARGE_SWEEP = 1 << 16

_FP_CODES = {"divide": "division-by-zero", "invalid": "not-a-number", "overflow": "overflow",
             "log": "log-of-non-positive"}
_FP_WORDS = {"divide": "divides by zero", "invalid": "is not a number (NaN)", "overflow": "overflows",
             "log": "takes the log of zero or a negative number"}     # functions.LOG_DOMAIN_ERROR


@dataclass
class Constants:
    """Values that stay the same for every evaluation of one prepared report and every chunk of its sweep: the
    cells that vary along no axis (`cells`, from chunks.cell_axes), once computed without a warning, and the
    arrays of such a cell stacked along a swept role (by the role's blocks). A model's or a GPU's figures are then
    computed once per program, not once per block per call and per chunk."""

    cells: frozenset
    values: dict = field(default_factory=dict)          # (block, cell) -> array
    stacks: dict = field(default_factory=dict)          # (axis, blocks, cell) -> array
    formulas: dict = field(default_factory=dict)        # (block, id of a formula) -> array, or None: not constant
    # Formula nodes compiled (compiled.py), and the values of the parts of formulas that read constant cells only
    # (`2 * model.hidden * model.q_dim` inside a formula that also reads the batch) by (roles, block, id of the
    # node, fixed positions). `roles` numbers the blocks the context's swept roles take (a chunk may take fewer), as
    # `role_sets` lists them.
    steps: dict = field(default_factory=dict)           # (link, block, id of a node) -> compiled.Step
    sized: dict = field(default_factory=dict)           # (block, cell) -> whether it is a size or a duration
    node_values: dict = field(default_factory=dict)
    role_sets: dict = field(default_factory=dict)
    # (block, cell) -> the axes the cell varies along over the whole sweep (chunks.cell_axes): a chunk's warning names
    # an axis the chunk cuts to one position only where the cell varies along it, as the whole evaluation does.
    axes: dict = field(default_factory=dict)
    # (link, block, id of a formula node) -> what its references resolve to (Linker.target), in order: found once,
    # read by every check of what a formula part reads (a constant part's first computation per role positions).
    targets: dict = field(default_factory=dict)
    # id -> the formula node (or link) whose id() keys an entry above, held as long as the entries: CPython gives a
    # dead object's id() to a later object, so a node made for one evaluation and dropped (a `where` bound per chunk)
    # would leave its step, value or references to whichever node took its address next (Evaluator._hold).
    held: dict = field(default_factory=dict)
    # A formula made anew for each evaluation (queries.bind_axes of a `where`), by its value: the node the entries
    # above know for it, so that each chunk reuses its steps instead of compiling and holding another copy.
    lasting: dict = field(default_factory=dict)
    # id of a link -> its branch_reads.EveryPointReads: which inputs a formula reads at every point depends on the
    # link alone, and finding it walks the formulas behind an `if` (about 1,500 nodes at each evaluation of the
    # capacity report, whose ring reads b200's open scaleout_bw in a branch no b200 point takes).
    reads: dict = field(default_factory=dict)


def _not_finite_where(value, where: np.ndarray) -> bool:
    """Whether `value` (a branch of `if`) is not finite at some point of `where` (the points that take it)."""
    value = np.asarray(value)
    if value.dtype.kind not in "fc":
        return False
    value, where = np.broadcast_arrays(value, where)
    return not np.isfinite(value[where]).all()


class Evaluator:
    def __init__(self, blocks: dict[str, Block], ctx: ReportContext, sources: SourceLines,
                 types: dict[tuple[str, str], object] | None = None,
                 progress: Callable[[int, int], None] | None = None, link: Linker | None = None,
                 constants: Constants | None = None):
        self.blocks = blocks
        self.ctx = ctx
        self.link = link if link is not None else Linker(blocks, ctx)
        self._link_id = id(self.link)       # the compiled steps' key (compiled())
        self.sources = sources
        self.types = types or {}
        self.ndim = len(ctx.axes)
        self.shape = ctx.shape          # the sweep's (or chunk's) shape: ctx.shape computes it at every read
        self.memo: dict[tuple[str, str, Fix], np.ndarray] = {}
        self.warnings: list[Diagnostic] = []
        self._troubles: dict[tuple[str, str, str], Trouble] = {}     # point_warnings: (code, block, cell)
        # the `if`s being evaluated: (call, the points taking the branch, fix, the block the `if` is written in)
        self._branches: list[tuple[ir.Call, np.ndarray, dict[int, int], Block]] = []
        self._reads = None                  # branch_reads.EveryPointReads, made at the first input a branch reads
        # How many times a declared input no point needed stood in as NaN (_unneeded_input): a cell computed while
        # the count grew holds NaN where no point takes its branch, so it is not kept for another reader.
        self._stand_ins = 0
        self._fp_flag: str | None = None
        self.progress = progress
        self._done = 0
        self._total = max(len(self.types), 1)
        self._last_progress = time.monotonic()
        self.constants = constants
        self._large = ctx.n_points >= LARGE_SWEEP
        self._splitter: Splitter | None = None      # during run() of a large sweep
        if self._large:
            keep_freed_memory()       # heap.py: without it, page faults of fresh arrays cost more than the sums
        self._positions: dict[str, tuple[tuple[int, int], ...]] | None = None
        self._role_names: dict[int, tuple[str, ...]] = {}
        self._roles_key = None
        self._steps: dict = constants.steps if constants is not None else {}
        self._sized: dict = constants.sized if constants is not None else {}
        self._targets: dict = constants.targets if constants is not None else {}
        self._held: dict = constants.held if constants is not None else {}
        self._hold(self.link)
        if constants is not None:
            roles = tuple((index, tuple(coord.value_list())) for index, coord in ctx.swept_roles.values())
            self._roles_key = constants.role_sets.setdefault(roles, len(constants.role_sets))

    # -- public ------------------------------------------------------------------------------------------------
    def run(self, func: Callable[[], object]):
        """Run evaluations with numpy's floating-point errors routed to this evaluator. (A whole evaluation of a
        sweep runs on a data-stack chunk of its own: data_stack.py, Program.evaluate_in.)"""
        if not self._large or self._splitter is not None:     # small, or within a run already
            with np.errstate(all="call", call=self._on_fp_error):
                return func()
        # A large sweep's ufunc calls split over the usable CPUs (split_kernels.py), its threads ended with the run.
        with Splitter() as splitter, np.errstate(all="call", call=self._on_fp_error):
            try:
                self._splitter = splitter
                return func()
            finally:
                self._splitter = None

    def ref(self, expr: ir.Ref, block: Block, fix: dict[int, int] | None = None) -> np.ndarray:
        return self._ref(expr, block, fix or {})

    def cell(self, block: Block, name: str, fix: dict[int, int] | None = None) -> np.ndarray:
        return self._cell(block, name, fix or {})

    def expr(self, expr: ir.Expr, block: Block, fix: dict[int, int] | None = None) -> np.ndarray:
        """A checked formula written in `block` (a constraint, a filter, a sweep value), as an array of the report's
        rank. Call it inside `run` so floating-point trouble is caught. A formula that reads only constant cells
        (a model's own `require`) is computed once per prepared report."""
        constants = self.constants
        if constants is None:
            return self._rank(self._expr(expr, block, fix or {}))
        key = (block.name, id(expr))
        cached = constants.formulas.get(key, False)
        if cached is not False and cached is not None:
            return cached
        warned = len(self.warnings)
        value = self._rank(self._expr(expr, block, fix or {}))
        if cached is False:
            constant = self._reads_constants_only(expr, block) and len(self.warnings) == warned
            constants.formulas[key] = value if constant else None
            self._hold(expr)
        return value

    def lasting(self, expr: ir.Expr) -> ir.Expr:
        """The node this prepared report's caches know for a formula equal to `expr` (a frozen node, compared by
        value), `expr` itself the first time: for a formula its caller builds anew at every evaluation
        (queries.bind_axes), so that every chunk shares one node's compiled steps. `expr` without constants."""
        if self.constants is None:
            return expr
        return self.constants.lasting.setdefault(expr, expr)

    def _hold(self, node) -> None:
        """Keep `node` alive as long as the caches that its id() keys (Constants.held): no other object can then
        take its id() while they may answer for it."""
        self._held[id(node)] = node

    def _reads_constants_only(self, expr: ir.Expr, block: Block) -> bool:
        cells = self.constants.cells
        for target in self.targets_of(expr, block):
            if not isinstance(target, Target) or target.swept or (target.blocks[0], target.cell) not in cells:
                return False
        return True

    def targets_of(self, expr: ir.Expr, block: Block) -> list:
        """What the distinct references of a formula written in `block` resolve to (Linker.target), in the order
        they are written: walked and resolved once per node (kept with the constants)."""
        key = (self._link_id, block.name, id(expr))
        found = self._targets.get(key)
        if found is None:
            found = self._targets[key] = [self.link.target(ref.parts, block) for ref in refs_of(expr)]
            self._hold(expr)
        return found

    @property
    def roles_key(self):
        """A number for the blocks this context's swept roles take (None without constants): what a value kept with
        the constants depends on, beside the cells it reads."""
        return self._roles_key

    def role_positions(self, block_name: str) -> tuple[tuple[int, int], ...]:
        """The (axis, position) pairs where a swept role takes the block `block_name` in this context."""
        if self._positions is None:
            found: dict[str, list[tuple[int, int]]] = {}
            for index, coord in self.ctx.swept_roles.values():
                for i, name in enumerate(coord.value_list()):
                    found.setdefault(name, []).append((index, i))
            self._positions = {name: tuple(pairs) for name, pairs in found.items()}
        return self._positions.get(block_name, ())

    def full(self, array: np.ndarray) -> np.ndarray:
        """An array broadcast to the report's full shape (a read-only view)."""
        return np.broadcast_to(self._rank(array), self.shape)

    # -- cells -------------------------------------------------------------------------------------------------
    def _cell(self, block: Block, name: str, fix: dict[int, int]) -> np.ndarray:
        key = (block.name, name, tuple(sorted(fix.items())) if fix else ())
        cached = self.memo.get(key)
        if cached is not None:
            return cached
        constants = self.constants
        if constants is not None:
            cached = constants.values.get((block.name, name))
            if cached is not None:
                self.memo[key] = cached
                return cached
        warned = len(self.warnings)
        stand_ins = self._stand_ins
        in_branch = bool(self._branches)
        cell = block.cells[name]
        outer_flag, self._fp_flag = self._fp_flag, None
        if cell.sweep:
            value = self._sweep_value(block, cell, fix)
        elif cell.expr is None:        # an input only a branch of `if` reads (the checker leaves those here)
            self._fp_flag = outer_flag
            return self._unneeded_input(block, cell, fix)
        else:
            value = self.compiled(cell.expr, block)(self, fix)[0]
        if type(value) is not np.ndarray or value.ndim != self.ndim:
            value = self._rank(value)
        flag, self._fp_flag = self._fp_flag, outer_flag
        if flag is not None and value.dtype.kind == "f" and not np.isfinite(value).all():
            self._warn_fp(block, cell, value, fix, flag)
        sized = self._sized.get((block.name, name))
        if sized is None:
            vtype = self.types.get((block.name, name))
            sized = self._sized[(block.name, name)] = vtype is not None and getattr(vtype, "dim", None) in (BYTES,
                                                                                                          TIME)
        if sized and value.dtype.kind == "f":
            # A reduction first (no boolean array over the sweep); NaN makes the minimum NaN: then look closer.
            least = value.min() if value.size else 0.0
            if (least < 0 or least != least) and (value < 0).any():
                self._warn_point(block, cell, value < 0, fix, "negative-size",
                                 f"'{block.name}.{name}' is negative ({self.types[(block.name, name)].describe()})",
                                 hint="a size or a duration below zero means an input is out of range: check the "
                                      "inputs this cell reads")
        if self._stand_ins != stand_ins and in_branch:
            # NaN where no point takes a branch it reads, inside an `if` around this cell: right for this reader
            # only. Where every `if` that chose the read is inside this cell's own formulas (none was open when it
            # started), their np.where kept the other value at each such point and the value is right for every
            # reader: kept, as the ring's bandwidth (a GPU that leaves pcie_bw open, read only beyond its NVLink
            # domain) was not, and every cell after it was computed again at each read (2x the capacity sweep).
            return value
        self.memo[key] = value
        if constants is not None and len(self.warnings) == warned and (block.name, name) in constants.cells:
            constants.values[(block.name, name)] = value      # a warning is given again by every evaluation
        self._done += 1
        if self.progress is not None:
            self._tick()
        return value

    def _sweep_value(self, block: Block, cell: ir.Cell, fix: dict[int, int]) -> np.ndarray:
        index, coord = self.ctx.sweep_cells[(block.name, cell.name)]
        if index in fix:
            return np.asarray(coord.values[fix[index]])
        shape = [1] * self.ndim
        shape[index] = len(coord.values)
        return coord.values.reshape(shape)

    def _rank(self, value) -> np.ndarray:
        value = np.asarray(value)
        if value.ndim == self.ndim:
            return value
        if value.ndim == 0:
            return value.reshape((1,) * self.ndim)
        raise AssertionError(f"array of rank {value.ndim} in a sweep of rank {self.ndim}")

    def _tick(self) -> None:
        """Report progress (a cell more done: _cell counts it) at most every 0.2 s."""
        now = time.monotonic()
        if now - self._last_progress > 0.2:
            self._last_progress = now
            self.progress(min(self._done, self._total), self._total)

    # -- references --------------------------------------------------------------------------------------------
    def _ref(self, expr: ir.Ref, block: Block, fix: dict[int, int]) -> np.ndarray:
        target = self.link.target(expr.parts, block)
        if not target.swept:
            return self._cell(self.blocks[target.blocks[0]], target.cell, fix)
        index, coord = self.ctx.swept_roles[target.role]
        if index in fix:
            return self._cell(self.blocks[coord.values[fix[index]]], target.cell, fix)
        return self._stack_role(index, coord.values, target.cell, fix)

    def _stack_role(self, index: int, block_names: np.ndarray, name: str, fix: dict[int, int]) -> np.ndarray:
        constants = self.constants
        if constants is None:
            return self._stack_parts(index, block_names, name, fix)
        names = self._role_names.get(index)
        if names is None:
            names = self._role_names[index] = tuple(block_names.tolist())
        key = (index, names, name)
        stacked = constants.stacks.get(key)
        if stacked is not None:
            return stacked
        warned, stand_ins = len(self.warnings), self._stand_ins
        stacked = self._stack_parts(index, block_names, name, fix)
        if len(self.warnings) == warned and self._stand_ins == stand_ins \
                and all((b, name) in constants.cells for b in names):
            constants.stacks[key] = stacked
        return stacked

    def _stack_parts(self, index: int, block_names: np.ndarray, name: str, fix: dict[int, int]) -> np.ndarray:
        parts = []
        for i, block_name in enumerate(block_names):
            inner = dict(fix)
            inner[index] = i
            parts.append(self._cell(self.blocks[block_name], name, inner))
        shape = [1] * self.ndim
        shape[index] = len(parts)
        if all(p.size == 1 for p in parts):
            flat = [p.reshape(-1)[0] for p in parts]
            dtype = parts[0].dtype if all(p.dtype == parts[0].dtype for p in parts) else object
            return np.array(flat, dtype=dtype).reshape(shape)
        common = np.broadcast_shapes(*(p.shape for p in parts))
        return np.concatenate([np.broadcast_to(p, common) for p in parts], axis=index)

    # -- expressions -------------------------------------------------------------------------------------------
    def _expr(self, expr: ir.Expr, block: Block, fix: dict[int, int]):
        return self.compiled(expr, block)(self, fix)[0]

    def _eval(self, expr: ir.Expr, block: Block, fix: dict[int, int]) -> tuple[object, bool]:
        """A formula's value and whether it is a temporary: an array this formula's own arithmetic made, which no
        cell, constant or caller holds, so that the next operation may write its result into it (_combine)."""
        return self.compiled(expr, block)(self, fix)

    def compiled(self, expr: ir.Expr, block: Block):
        """The formula node written in `block`, compiled (compiled.compile_node) once per prepared report (kept
        with the constants; per evaluation without them): every chunk and box of the sweep shares it, whatever
        blocks its swept roles take (reads_constant_cells decides over those of the whole sweep)."""
        key = (self._link_id, block.name, id(expr))
        step = self._steps.get(key)
        if step is None:
            step = self._steps[key] = compile_node(self, expr, block, _folds())
            self._hold(expr)
        return step

    def _constant_node(self, step, expr: ir.Expr, block: Block, fix: dict[int, int]) -> np.ndarray:
        """A part of a formula that reads constant cells only (its compiled `step`): computed once per prepared
        report and fixed positions, kept where it was computed without a floating-point flag and every cell it
        read is kept (a warning would be given again by every evaluation). Never a temporary: the caller must not
        write into it."""
        key = (self._roles_key, block.name, id(expr), tuple(sorted(fix.items())) if fix else ())
        values = self.constants.node_values
        value = values.get(key)
        if value is not None:
            return value
        outer_flag, self._fp_flag = self._fp_flag, None
        warned, stand_ins = len(self.warnings), self._stand_ins
        value = step(self, fix)[0]
        flag, self._fp_flag = self._fp_flag, outer_flag if outer_flag is not None else self._fp_flag
        if flag is None and len(self.warnings) == warned and self._stand_ins == stand_ins \
                and self._constants_kept(expr, block, fix):
            values[key] = value
            self._hold(expr)
        return value

    def reads_constant_cells(self, expr: ir.Expr, block: Block) -> bool:
        """Whether every cell the formula part reads is constant (varies along no axis) in every block a swept
        role it reads through takes over the sweep the link resolves roles for (the prepared report's whole sweep,
        which holds every chunk's blocks); False without constants."""
        if self.constants is None:
            return False
        cells = self.constants.cells
        for target in self.targets_of(expr, block):
            if not isinstance(target, Target):
                return False
            names = target.blocks
            if not names or not all((name, target.cell) in cells for name in names):
                return False
        return True

    def _constants_kept(self, expr: ir.Expr, block: Block, fix: dict[int, int]) -> bool:
        """Whether every value the formula part read is kept with the constants (computed without a warning).

        A cell it reads only in the branch of an `if` that no point took was not computed (nor warned about): that
        does not stop the part being kept, as the part takes the same branch every time (its condition reads
        constant cells only). Without that, such a part (`if(precision.matmul_format == "fp4",
        hardware.peak_fp4, ...)`) was computed again, and its references walked, at every evaluation."""
        constants = self.constants
        for target in self.targets_of(expr, block):
            if not target.swept:
                name = target.blocks[0]
                if (name, target.cell) not in constants.values and self._computed(name, target.cell, fix):
                    return False
                continue
            index, coord = self.ctx.swept_roles[target.role]
            if index in fix:
                name = coord.values[fix[index]]
                if (name, target.cell) not in constants.values and self._computed(name, target.cell, fix):
                    return False
            elif (index, self._role_names.get(index), target.cell) not in constants.stacks \
                    and self._computed(coord.values[0], target.cell, {**fix, index: 0}):
                return False
        return True

    def _computed(self, block_name: str, name: str, fix: dict[int, int]) -> bool:
        """Whether this evaluation computed (or took from the constants) a cell at these fixed positions."""
        return (block_name, name, tuple(sorted(fix.items())) if fix else ()) in self.memo

    def _combine(self, kernel, left: tuple[object, bool], right: tuple[object, bool]) -> tuple[object, bool]:
        """kernel(left, right), written into a temporary operand of the result's shape where there is one.

        Reusing a buffer gives the same bits (a ufunc computes each element alike, in place or not) and spares
        the memory bus a fresh array per operation: the arrays of a large chunk are far larger than the caches."""
        (a, a_temp), (b, b_temp) = left, right
        if not self._large:                # arrays of a few thousand values: the checks would cost more than they save
            return kernel(a, b), False
        in_place = kernel in _in_place()
        if in_place:
            call = self._splitter.call if self._splitter is not None else _call_into
            if a_temp and _fits(a, b):
                return call(kernel, a, b, a), True
            if b_temp and _fits(b, a):
                return call(kernel, a, b, b), True
            out = _long_axis_last(a, b)
            if out is not None:
                return call(kernel, a, b, out), True
        value = kernel(a, b)
        return value, in_place and type(value) is np.ndarray

    def _if(self, expr: ir.Call, block: Block, fix: dict[int, int]):
        """if(condition, a, b): a branch that no point takes is not computed (nor warned about), and a declared
        input it reads is needed only where a point takes it."""
        condition = np.asarray(self._expr(expr.args[0], block, fix), bool)
        if condition.all():
            return self._branch(expr, 1, condition, block, fix)
        if not condition.any():
            return self._branch(expr, 2, ~condition, block, fix)
        # Both branches are computed at every point: a division by zero or a NaN (0 / 0) that only the points the
        # other branch takes meet is not this cell's (a pp test's prefill throughput, seq_len / runtime at seq_len
        # 0, where the other branch is no_value): a branch's floating-point error counts where its taken values are
        # not finite.
        outer, self._fp_flag = self._fp_flag, None
        taken = self._branch(expr, 1, condition, block, fix)
        taken_flag, self._fp_flag = self._fp_flag, None
        other = self._branch(expr, 2, ~condition, block, fix)
        other_flag = self._fp_flag
        flags = [flag for flag, value, where in ((taken_flag, taken, condition), (other_flag, other, ~condition))
                 if flag is not None and _not_finite_where(value, where)]
        self._fp_flag = outer if outer is not None else (flags[0] if flags else None)
        return np.where(condition, taken, other)

    def _branch(self, call: ir.Call, index: int, where: np.ndarray, block: Block, fix: dict[int, int]):
        self._branches.append((call, where, fix, block))
        try:
            return self._expr(call.args[index], block, fix)
        finally:
            self._branches.pop()

    def _unneeded_input(self, block: Block, cell: ir.Cell, fix: dict[int, int]) -> np.ndarray:
        """A declared input that `block` does not give, read by a branch of `if` at the role positions `fix` holds
        (a swept role reads each of its blocks at its own position): NaN where no point there takes the branches
        that choose the read (np.where keeps the other branch's value; the GPUs of a sweep that do not take the
        branch need not give the figure). Raises PerfError (missing-input) where a point there takes them. An `if`
        both of whose values read the input does not choose it (branch_reads.py)."""
        if not self._branches:      # the checker reports every input reached outside a branch
            raise PerfError(missing_input(self.sources, block, cell))
        choosing = self._choosing(block, cell)
        taken = self._taken_at(fix, choosing)
        if taken.any():
            raise PerfError(self._missing_input(block, cell, taken, choosing))
        self._stand_ins += 1
        return self._rank(np.float64(np.nan))

    def _choosing(self, block: Block, cell: ir.Cell) -> list:
        """The `if`s being evaluated (as `_branches` holds them) that choose whether the input `cell` of `block` is
        read: those of which only the value being evaluated reads it."""
        if self._reads is None:
            from .branch_reads import EveryPointReads

            known = self.constants.reads if self.constants is not None else {}
            self._reads = known.get(self._link_id) or known.setdefault(self._link_id, EveryPointReads(self.link))
        key = (block.name, cell.name)
        return [entry for entry in self._branches if not self._reads.both_values(entry[0], entry[3].name, key)]

    def _taken_at(self, fix: dict[int, int], branches: list) -> np.ndarray:
        """The points that take every branch of `branches` (the `if`s nest), False along an axis outside the
        position `fix` holds there (the reading cell's role positions). An array of the branches' shape."""
        taken = np.ones((1,) * self.ndim, dtype=bool)
        for _, where, _, _ in branches:
            taken = taken & self._rank(where)        # a new array: written below
        for axis, position in fix.items():
            if taken.shape[axis] > 1:
                outside = np.ones(taken.shape[axis], dtype=bool)
                outside[position] = False
                taken[(slice(None),) * axis + (outside,)] = False
        return taken

    def _missing_input(self, block: Block, cell: ir.Cell, taken: np.ndarray, choosing: list) -> Diagnostic:
        """A declared input that a branch of `if` reads: the first sweep point of those `taken` (_taken_at) needs it,
        and the innermost `if` of `choosing` (_choosing) chooses the read; with none, it is read at every point
        that gets here, as the checker reports an input read outside `if` values. A chunk names that point as the
        whole evaluation does: an axis it pins is named only where the condition of an `if` of `choosing` varies
        along it over the whole sweep."""
        if not choosing:
            return missing_input(self.sources, block, cell)
        call, _, fix, _ = choosing[-1]
        first = tuple(int(i) for i in np.argwhere(taken)[0])
        point = self.describe_point(first, taken.shape, fix, self._branch_axes(choosing))
        needed_at = point if point == "every sweep point" else f"the sweep point {point}"
        return missing_input(self.sources, block, cell, needed_at=needed_at, chosen_by=call.span)

    def _branch_axes(self, branches: list) -> frozenset | None:
        """The axes the conditions of `branches` (`if`s being evaluated) vary along over the whole sweep; None where
        one is not known."""
        found: set[int] = set()
        for call, _, _, written_in in branches:
            axes = self.formula_axes(call.args[0], written_in)
            if axes is None:
                return None
            found |= axes
        return frozenset(found)

    # -- warnings ----------------------------------------------------------------------------------------------
    def _on_fp_error(self, kind: str, _flag: int) -> None:
        # numpy names the error in words: "divide by zero", "invalid value", "overflow", "underflow"; log2
        # (functions.py) "log of zero or a negative number".
        word = kind.split()[0] if kind else ""
        if word == "underflow":
            return
        if self._fp_flag is None:
            self._fp_flag = word

    def _warn_fp(self, block: Block, cell: ir.Cell, value: np.ndarray, fix: dict[int, int], kind: str) -> None:
        self._warn_point(block, cell, ~np.isfinite(value), fix, _FP_CODES.get(kind, "not-finite"),
                         f"'{block.name}.{cell.name}' {_FP_WORDS.get(kind, 'is not finite')}")

    def _warn_point(self, block: Block, cell: ir.Cell, bad: np.ndarray, fix: dict[int, int], code: str,
                    message: str, hint: str = "guard the formula with if(...) or max(...), or check the inputs"
                    ) -> None:
        """Warn of `code` at the points `bad` of a cell computed at role positions `fix`: once per cell and code (the
        first computation's points), with every computation's points kept for kept_warnings."""
        key = (code, block.name, cell.name)
        trouble = self._troubles.get(key)
        if trouble is not None:
            trouble.masks.append((bad, dict(fix)))
            return
        trouble = self._troubles[key] = Trouble(block, cell, code, message, hint, [(bad, dict(fix))])
        trouble.diag = point_warning(self, trouble, bad, fix)
        self.warnings.append(trouble.diag)

    def kept_warnings(self, valid: np.ndarray | None) -> list[Diagnostic]:
        """The warnings, each cell's trouble (negative sizes, division by zero, ...) counted over the points `valid`
        keeps (the constraints' full-shape mask; None: every point), and left out where it touches none of them
        (point_warnings.over_kept)."""
        return over_kept(self, self._troubles, valid)

    def axes_of(self, block_name: str, cell: str) -> frozenset | None:
        """The axes a cell varies along over the whole sweep (Constants.axes); None where not known."""
        return self.constants.axes.get((block_name, cell)) if self.constants is not None else None

    def formula_axes(self, expr: ir.Expr, block: Block) -> frozenset | None:
        """The axes a formula written in `block` varies along over the whole sweep: those of the cells it reads
        and of the swept roles it reads through (None where a cell's are not known)."""
        found: set[int] = set()
        for target in self.targets_of(expr, block):
            if not isinstance(target, Target):
                return None
            if target.swept:
                found.add(self.ctx.swept_roles[target.role][0])
            for name in target.blocks:
                axes = self.axes_of(name, target.cell)
                if axes is None:
                    return None
                found |= axes
        return frozenset(found)

    def describe_point(self, index: tuple[int, ...], shape: tuple[int, ...], fix: dict[int, int],
                       varies: frozenset | None = None) -> str:
        """The sweep point at `index` of an array of `shape` (of this context's rank), as a warning names it:
        "batch=0, k=1", its coordinates on the axes the array has several positions along and those `fix` fixes,
        or "every sweep point". A chunk's axis cut to one position (ctx.pinned) is named where the value varies
        along it over the whole sweep (`varies`: its axes, chunks.cell_axes; None: not known, named), so a chunk
        names the point as the whole evaluation does."""
        parts = []
        for axis in self.ctx.axes:
            position = fix.get(axis.index)
            if position is None and shape[axis.index] > 1:
                position = index[axis.index]
            elif position is None and axis.index in self.ctx.pinned and (varies is None or axis.index in varies):
                position = 0
            if position is None:
                continue
            for coord in axis.coords:
                parts.append(f"{coord.name}={format_coord(coord, position)}")
        return ", ".join(parts) if parts else "every sweep point"


@functools.lru_cache(maxsize=1)
def _in_place() -> frozenset:
    """The kernels _combine may write into an operand: float arithmetic, whose result has the operands' dtype
    (float64). Made at the first evaluation (lazy_numpy: a check need not import numpy)."""
    return frozenset({np.add, np.subtract, np.multiply, np.divide, np.power, np.minimum, np.maximum})


@functools.lru_cache(maxsize=1)
def _folds() -> dict:
    """The functions whose kernel is a left fold of one ufunc (made at the first evaluation, as _in_place)."""
    return {"min": np.minimum, "max": np.maximum}


def _call_into(ufunc, a, b, out):
    """ufunc(a, b, out=out): Splitter.call's contract on one thread (an evaluation outside run())."""
    return ufunc(a, b, out=out)


def _long_axis_last(a, b) -> np.ndarray | None:
    """An empty float64 array for the result of a ufunc over `a` and `b` whose memory runs along its longest axis
    (the others outside it, shortest first), or None where numpy's own choice is as good (at most one axis longer
    than 1, or the longest axis already last).

    numpy loops over the last axis of the memory order innermost. A sweep's last axis is often short (tp: 4 values)
    and a cell that does not vary along it makes that inner loop 4 elements long: measured on the 2-core machine,
    (268,716 x 4) * (268,716 x 1) takes 1.39 ms in row-major order and 0.38 ms with the long axis innermost, the
    same product. The array keeps its shape (and so every index); only its strides differ, and every later
    operation on it follows its memory order (numpy's order="K"). The values are the same bits either way."""
    layout = _memory_layout(np.shape(a), np.shape(b))
    if layout is None or np.result_type(a, b) != np.float64:
        return None
    memory_shape, transpose = layout
    return np.empty(memory_shape).transpose(transpose)


@functools.lru_cache(maxsize=4096)
def _memory_layout(a_shape: tuple[int, ...], b_shape: tuple[int, ...]) -> tuple[tuple, tuple] | None:
    """For _long_axis_last: the shape in memory of the result over operands of these shapes, with the axes that
    put it back in the result's order, or None where numpy's own order is as good. A sweep's evaluation meets the
    same few pairs of shapes at every operation and every evaluation: they are worked out once."""
    shape = np.broadcast_shapes(a_shape, b_shape)
    if len(shape) < 2 or shape[-1] == max(shape) or sum(n > 1 for n in shape) < 2:
        return None
    order = sorted(range(len(shape)), key=lambda axis: shape[axis])      # stable: the longest last
    return tuple(shape[axis] for axis in order), tuple(int(axis) for axis in np.argsort(order))


def _fits(temporary, other) -> bool:
    """Whether a ufunc's result over (temporary, other) can be written into `temporary`: a float64 array that
    already has the result's shape, and an operand that gives no other dtype."""
    if type(temporary) is not np.ndarray or temporary.dtype != np.float64:
        return False
    other_dtype = getattr(other, "dtype", None)
    if other_dtype is None or other_dtype.kind not in "fiub":
        return False
    return np.ndim(other) <= temporary.ndim and all(
        o == 1 or o == t for o, t in zip(np.shape(other)[::-1], temporary.shape[::-1]))


def format_coord(coord, position: int) -> str:
    value = coord.display_values()[position]
    if coord.kind == "num":
        text = f"{float(value):g}"
        return f"{text} {coord.unit}".rstrip() if coord.unit else text
    return str(value)

