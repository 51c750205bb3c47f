"""Chunked evaluation (stage 4c): a sweep evaluated in slices of its axes, so that memory is set by the chunk.

A chunk fixes the leading axes of the report at one position each, takes a slice of the next axis, and keeps every
later axis whole, so its points are one run of consecutive rows of the whole sweep (the order of
`Result.records()`), starting at `Chunk.offset`. Each chunk is evaluated as a report of its own over a context whose
axes hold only the chunk's coordinates: the evaluator computes every point with the same numpy operations in the
same order as over the whole sweep, so a chunk's values equal the whole evaluation's values exactly.

`predict_bytes` says, before anything is computed, how much memory the whole evaluation would hold: every cell the
shown values need is one array over the axes it depends on (8 bytes a value), found from the linked program.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from . import ir
from .context import Axis, ReportContext
from .linker import Target, children, refs_of, walk

if TYPE_CHECKING:
    from .linker import Linker

# The arrays one chunk may hold when its size is chosen by memory (chunk_points_for). Measured on the 2-core machine
# (L2 1 MiB a core, L3 32 MiB), CPU time of one process (the wall clock swings with the other users), minimum of two
# rounds, for the capacity-planning model over 9,984,000 points (130 bytes a point) and its Pareto question over
# 9,984,000 points (250 bytes a point): every chunk costs 6 to 12 ms of Python whatever its size (the walk over the
# linked formulas), so small chunks lose to that; past about a million points the arrays lose to the memory bus.
#     points a chunk       32,768   131,072   262,144   537,432   1,048,576   2,097,152
#     capacity, 1e7 (s)     2.38      0.69      0.51      0.35      0.26        0.27
#     Pareto, 1e7 (s)       5.83      1.77      1.36      1.01      0.91        0.97
# 256 MiB gives 2.1 million and 1.07 million points a chunk to these two (issue 10).
CHUNK_BYTES = 256 << 20
MIN_CHUNK_POINTS = 1 << 14
MAX_CHUNK_POINTS = 1 << 22
BYTES_PER_VALUE = 8                    # float64; booleans and strings are counted as if they took as much
# The arrays an evaluation of a whole sweep at once may hold (predict_bytes); above it the sweep is evaluated in
# chunks or refused. Chosen, not measured: the peak is about twice the arrays (numpy's temporaries, the output's
# columns), which keeps a whole evaluation under about 2 GiB, the memory target (issue 10).
WHOLE_EVALUATION_BYTES = 1 << 30


# What one chunk costs whatever its size (the walk over the linked formulas, the question's merge, the output's
# per-chunk work), for many_chunks_note. Measured on the 2-core machine (shared), capacity_questions.perf's
# latency_throughput: 6.3-7.3 ms of CPU a chunk over 3,000 chunks of 1 to 4 points (evaluate_chunks, the rows);
# `perfdsl eval -o out.csv` of its Pareto question with --chunk-points 7 (4 points a chunk): --set batch="1 .. 400",
# 96,000 chunks, 736 s (620 s of CPU), 6.5-7.7 ms a chunk; --set batch="1 .. 40", 15,600 chunks, 151 s (81 s of
# CPU), against 3.7 s in all in default chunks. Another question costs less a chunk: a newcomer's largest_batch
# (capacity_questions.perf) with --chunk-points 30, 15,360 chunks in 54.7-58.7 s, 3.6-3.8 ms a chunk (2-core Intel
# instance, 2026-12-03), where the note had said "at least about 2 minutes". So the note gives the range.
CHUNK_OVERHEAD_S = (0.0035, 0.007)
# The chunks from which the note is printed: 1,000 chunks cost 3.5-7 s of overhead alone, a wait that is
# noticed, and more than the arrays of the same points cost in default chunks (about 0.3 s a 10 million points
# above). Below it the note is left out: tests and small runs use a few chunks of a few points on purpose.
MANY_CHUNKS = 1_000


@dataclass(frozen=True)
class Chunk:
    """One slice of a sweep: for each axis a position (int) or a slice; its rows are offset .. offset + n_points."""

    where: tuple[int | slice, ...]
    offset: int
    n_points: int


def checked_chunk_points(value) -> int | None:
    """`chunk_points` as the Python API takes it (streaming.evaluate_chunks, answer_in_chunks): None for the default
    size, else a whole number of points a chunk, 1 or more: an int, or a float or text that is one (1e5,
    "1_000_000"), read as `--chunk-points` reads it (whole_numbers.whole_number). Raises UsageError `bad-option` for
    anything else: 1.5 and True ran at one point a chunk (hours for a million-point sweep), 0 evaluated the whole
    sweep at once, and 1e5 or "1e5" raised a bare TypeError."""
    from .errors import UsageError, error
    from .whole_numbers import NotACount, whole_number

    if value is None:
        return None
    try:
        whole = whole_number(value, "points")
        why = "a chunk holds at least one point" if whole < 1 else None
    except NotACount as refused:
        why = refused.reason
    if why is not None:
        raise UsageError(error("bad-option", f"chunk_points={value!r}: {why}",
                               hints=["give a whole number of points a chunk, 1 or more (e.g. 100_000 or 1e5), or "
                                      "None for chunks of about 256 MiB of arrays"]))
    return whole


def plan_chunks(shape: tuple[int, ...], max_points: int) -> list[Chunk]:
    """The chunks of a sweep of `shape`, in row order, each of at most `max_points` points (at least one point).

    The split axis is the first one whose later axes together hold at most `max_points` points; the axes before it
    are fixed one position at a time, and it is cut into slices of as many positions as fit.
    Raises ValueError for max_points < 1.
    """
    if max_points < 1:
        raise ValueError(f"a chunk holds at least one point, not {max_points}")
    n_points = math.prod(shape)
    if n_points <= max_points or not shape:
        return [Chunk(tuple(slice(None) for _ in shape), 0, n_points)]
    split = 0
    while math.prod(shape[split + 1:]) > max_points:
        split += 1
    inner = math.prod(shape[split + 1:])
    step = max(1, max_points // inner)
    chunks = []
    for lead in np.ndindex(*shape[:split]):
        base = int(np.ravel_multi_index(lead, shape[:split])) * shape[split] * inner if split else 0
        for start in range(0, shape[split], step):
            stop = min(start + step, shape[split])
            where = tuple(int(p) for p in lead) + (slice(start, stop),) + tuple(
                slice(None) for _ in shape[split + 1:])
            chunks.append(Chunk(where, base + start * inner, (stop - start) * inner))
    return chunks


def count_chunks(shape: tuple[int, ...], max_points: int) -> int:
    """How many chunks plan_chunks(shape, max_points) gives, without listing them."""
    split, inner, step = _split(shape, max_points)
    if split is None:
        return 1
    return math.prod(shape[:split]) * -(-shape[split] // step)


def chunk_at(shape: tuple[int, ...], max_points: int, k: int) -> Chunk:
    """plan_chunks(shape, max_points)[k], without listing the others: a sample of a sweep of a billion points
    (output_size) would otherwise build half a million chunks, about 9 s."""
    split, inner, step = _split(shape, max_points)
    if split is None:
        return Chunk(tuple(slice(None) for _ in shape), 0, math.prod(shape))
    per_lead = -(-shape[split] // step)
    lead = tuple(int(p) for p in np.unravel_index(k // per_lead, shape[:split])) if split else ()
    start = (k % per_lead) * step
    stop = min(start + step, shape[split])
    base = int(np.ravel_multi_index(lead, shape[:split])) * shape[split] * inner if split else 0
    where = lead + (slice(start, stop),) + tuple(slice(None) for _ in shape[split + 1:])
    return Chunk(where, base + start * inner, (stop - start) * inner)


def _split(shape: tuple[int, ...], max_points: int) -> tuple[int | None, int, int]:
    """plan_chunks' split axis, the points of one position of it (the later axes' product) and its positions a
    chunk; (None, 0, 0) where the whole sweep is one chunk."""
    if max_points < 1:
        raise ValueError(f"a chunk holds at least one point, not {max_points}")
    if math.prod(shape) <= max_points or not shape:
        return None, 0, 0
    split = 0
    while math.prod(shape[split + 1:]) > max_points:
        split += 1
    inner = math.prod(shape[split + 1:])
    return split, inner, max(1, max_points // inner)


def plan_boxes(shape: tuple[int, ...], max_points: int, order: list[int]) -> list[Chunk]:
    """The chunks of plan_chunks over the axes taken in `order` (outermost first; a permutation of the axes): each
    a box of the sweep, but one whose points are consecutive rows only where `order` is the axes' own order.
    `Chunk.offset` is the flat sweep index of its first point. Cells that do not vary along the axes kept whole
    (the last of `order`) are computed once per chunk rather than once per position of those axes.
    Raises ValueError for max_points < 1."""
    chunks = []
    for chunk in plan_chunks(tuple(shape[a] for a in order), max_points):
        where: list[int | slice] = [0] * len(shape)
        for axis, cut in zip(order, chunk.where):
            where[axis] = cut
        first = [w if isinstance(w, int) else range(n)[w][0] if n else 0 for w, n in zip(where, shape)]
        offset = int(np.ravel_multi_index(first, shape)) if shape and math.prod(shape) else 0
        chunks.append(Chunk(tuple(where), offset, chunk.n_points))
    return chunks


def chunk_points_for(bytes_per_point: float) -> int:
    """The points of a chunk whose arrays hold about CHUNK_BYTES, for a model of `bytes_per_point` (predict_bytes
    over the sweep's points), kept within MIN_CHUNK_POINTS .. MAX_CHUNK_POINTS."""
    if not bytes_per_point > 0:
        return MAX_CHUNK_POINTS
    return int(min(MAX_CHUNK_POINTS, max(MIN_CHUNK_POINTS, CHUNK_BYTES // bytes_per_point)))


def many_chunks_note(n_chunks: int, chunk_points: int, default_points: int, n_points: int,
                     default_chunks: int) -> str | None:
    """The note printed before a run cut by --chunk-points `chunk_points` into `n_chunks` chunks, where the per-chunk
    overhead (CHUNK_OVERHEAD_S each, from the least to the most measured) dominates: MANY_CHUNKS or more, and
    smaller than the default chunks
    (`default_points`, Program.chunk_points, which cut the sweep of `n_points` into `default_chunks`: counted as the
    run counts its own, since chunks are whole blocks of the last axes, not n_points / default_points). None where no
    note is due."""
    if n_chunks < MANY_CHUNKS or chunk_points >= default_points:
        return None
    least, most = CHUNK_OVERHEAD_S
    return (f"note: --chunk-points {chunk_points:,} cuts the sweep of {n_points:,} points into {n_chunks:,} chunks, "
            f"and each chunk costs {least * 1000:g} to {most * 1000:g} ms whatever its size, by the question: "
            f"{duration(n_chunks * least)} to {duration(n_chunks * most).removeprefix('about ')}; leave out "
            f"--chunk-points (chunks of about "
            f"{CHUNK_BYTES >> 20} MiB of arrays: {default_points:,} points here, {default_chunks:,} "
            f"chunk{'' if default_chunks == 1 else 's'}) or give a larger N")


def duration(seconds: float) -> str:
    """A rough time for messages: 42 -> 'about 42 s', 660 -> 'about 11 minutes', 15600 -> 'about 4.3 hours'."""
    if seconds < 90:
        return f"about {seconds:.0f} s"
    if seconds < 5400:
        return f"about {seconds / 60:.0f} minutes"
    return f"about {seconds / 3600:,.1f} hours"


def slice_context(ctx: ReportContext, chunk: Chunk) -> ReportContext:
    """The context of one chunk: the same report, roles and axes, each axis holding only the chunk's coordinates."""
    pinned = frozenset(i for i, w in enumerate(chunk.where) if ctx.axes[i].length > 1
                       and (isinstance(w, int) or len(range(ctx.axes[i].length)[w]) == 1))
    cuts = [slice(w, w + 1) if isinstance(w, int) else w for w in chunk.where]
    return _cut(ctx, cuts, pinned, ctx.n_points)


def box_context(ctx: ReportContext, positions: list[np.ndarray]) -> ReportContext:
    """The context of a box of a (chunk's) sweep: for each axis of `ctx`, the coordinates at `positions[axis]`
    (sorted int arrays, at least one each). Its values equal those of `ctx` at the same points, as a chunk's do. An
    axis of `ctx` with several positions cut to one is pinned (its coordinate named in warnings), as in
    slice_context."""
    pinned = ctx.pinned | frozenset(i for i, (axis, at) in enumerate(zip(ctx.axes, positions))
                                    if axis.length > 1 and len(at) == 1)
    return _cut(ctx, positions, pinned, ctx.whole_points or ctx.n_points)


def _cut(ctx: ReportContext, cuts: list, pinned: frozenset, whole_points: int) -> ReportContext:
    """`ctx` with each axis's coordinates cut by `cuts[axis]` (a slice or an index array)."""
    part = ReportContext(report=ctx.report, fixed_roles=dict(ctx.fixed_roles), whole_points=whole_points,
                         pinned=pinned)
    for axis, cut in zip(ctx.axes, cuts):
        coords = [replace(coord, values=coord.values[cut]) for coord in axis.coords]
        part.axes.append(Axis(index=axis.index, name=axis.name, coords=coords))
        for coord in coords:
            if coord.kind == "role":
                part.swept_roles[coord.name] = (axis.index, coord)
            else:
                part.sweep_cells[(coord.owner, coord.name)] = (axis.index, coord)
    return part


# -- predicting the memory of a whole evaluation ----------------------------------------------------------------

def cell_axes(link: "Linker", ctx: ReportContext, roots: list[tuple[str, str]]) -> dict[tuple[str, str], frozenset]:
    """The axes each cell reachable from `roots` varies along (iterative, so any depth of formulas).

    A swept cell varies along its axis; a formula along the axes of what it reads; a reference through a swept
    role along the role's axis and the axes of that cell in every block the role takes."""
    blocks = link.blocks
    axes: dict[tuple[str, str], frozenset] = {}
    stack = [(key, False) for key in roots]
    while stack:
        key, expanded = stack.pop()
        if key in axes or key[0] not in blocks or key[1] not in blocks[key[0]].cells:
            continue
        block = blocks[key[0]]
        cell = block.cells[key[1]]
        reads = _reads(link, ctx, block, cell)
        if not expanded:
            stack.append((key, True))
            stack.extend((pair, False) for pair, _ in reads if pair not in axes)
            continue
        found: set[int] = set()
        if key in ctx.sweep_cells:
            found.add(ctx.sweep_cells[key][0])
        for pair, role_axis in reads:
            found |= axes.get(pair, frozenset())
            if role_axis is not None:
                found.add(role_axis)
        axes[key] = frozenset(found)
    return axes


def reading_order(link: "Linker", ctx: ReportContext, roots: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The cells reachable from `roots`, each after the cells it reads, in the order a fresh evaluation of the roots
    (in their order) finishes them: depth first, a formula's references in the order they are written, a swept
    role's blocks in the role's order. Static, so the same for a whole evaluation and a chunked one, and for a
    first evaluation and a later one (the evaluator's memo is in that order only when no constant cell was kept
    from an earlier evaluation: workbook_setup names the cost model's blocks in this order)."""
    blocks = link.blocks
    done: dict[tuple[str, str], None] = {}
    seen: set[tuple[str, str]] = set()
    for root in roots:
        stack = [(root, None)]
        while stack:
            key, reads = stack[-1]
            if reads is None:
                if key in seen or key[0] not in blocks or key[1] not in blocks[key[0]].cells:
                    stack.pop()
                    continue
                seen.add(key)
                block = blocks[key[0]]
                reads = iter([pair for pair, _ in _reads(link, ctx, block, block.cells[key[1]])])
                stack[-1] = (key, reads)
            following = next((pair for pair in reads if pair not in seen), None)
            if following is None:
                stack.pop()
                done[key] = None
            else:
                stack.append((following, None))
    return list(done)


def _reads(link: "Linker", ctx: ReportContext, block, cell: ir.Cell) -> list[tuple[tuple[str, str], int | None]]:
    if cell.expr is None or cell.sweep:
        return []
    pairs = []
    for ref in _refs_taken(link, ctx, block, cell.expr):
        target = link.target(ref.parts, block)
        if not isinstance(target, Target):
            continue
        role_axis = ctx.swept_roles[target.role][0] if target.swept and target.role in ctx.swept_roles else None
        pairs.extend(((name, target.cell), role_axis) for name in target.blocks)
    return pairs


def _refs_taken(link: "Linker", ctx: ReportContext, block, expr: ir.Expr) -> list[ir.Ref]:
    """refs_of(expr), less the references only a value of `if` reads whose condition is the same at every point
    and takes the other value (`if(stack.memory_rule == "sglang", <SGLang's rule by GPU>, stack.memory_fraction)`
    under a stack that gives "fixed"): the evaluator computes only the value a condition takes where every point
    takes it (Evaluator._if), so the cell does not vary along what the other value reads (a stack's memory cells
    do not vary along the GPU through a rule it does not use: chunk plans and `explain`'s axes)."""
    if not _has_if(expr):
        return refs_of(expr)
    found: dict[str, ir.Ref] = {}
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, ir.Ref):
            found.setdefault(node.dotted, node)
            continue
        if isinstance(node, ir.Call) and node.func == "if" and len(node.args) == 3:
            taken = _constant_truth(link, ctx, block, node.args[0], 0)
            if taken is not None:
                stack.extend(reversed([node.args[0], node.args[1] if taken else node.args[2]]))
                continue
        stack.extend(reversed(children(node)))
    return list(found.values())


@ir.once_per_node
def _has_if(expr: ir.Expr) -> bool:
    """Whether a formula calls `if` anywhere, found once per formula node (ir.once_per_node): cell_axes asks it of
    every cell each time a report's axes are found."""
    return any(isinstance(node, ir.Call) and node.func == "if" for node in walk(expr))


_CONSTANT_DEPTH = 8          # cells followed to find a condition's literal (a choice read through the workload)


def _constant_value(link: "Linker", ctx: ReportContext, block, expr: ir.Expr, depth: int):
    """The literal (bool or str) a formula is at every point, or None: a literal, or a reference to a cell of one
    block (no swept role, no sweep of it) whose formula is such a literal in its own block."""
    if isinstance(expr, (ir.Bool, ir.Str)):
        return expr.value
    if not isinstance(expr, ir.Ref) or depth >= _CONSTANT_DEPTH:
        return None
    target = link.target(expr.parts, block)
    if not isinstance(target, Target) or target.swept or len(target.blocks) != 1:
        return None
    owner = link.blocks.get(target.blocks[0])
    cell = owner.cells.get(target.cell) if owner is not None else None
    if cell is None or cell.sweep or cell.expr is None or (owner.name, target.cell) in ctx.sweep_cells:
        return None
    return _constant_value(link, ctx, owner, cell.expr, depth + 1)


def _constant_truth(link: "Linker", ctx: ReportContext, block, expr: ir.Expr, depth: int) -> bool | None:
    """Whether a condition holds at every point (True), at none (False), or None where that is not known without
    evaluating: literals and cells that are literals (_constant_value), compared with `==` / `!=`, combined with
    `and`, `or`, `not`."""
    if isinstance(expr, ir.Unary) and expr.op == "not":
        inner = _constant_truth(link, ctx, block, expr.operand, depth)
        return None if inner is None else not inner
    if isinstance(expr, ir.Binary) and expr.op in ("and", "or"):
        left = _constant_truth(link, ctx, block, expr.left, depth)
        right = _constant_truth(link, ctx, block, expr.right, depth)
        if expr.op == "and":
            return False if False in (left, right) else (True if left and right else None)
        return True if True in (left, right) else (False if left is False and right is False else None)
    if isinstance(expr, ir.Binary) and expr.op in ("==", "!="):
        left = _constant_value(link, ctx, block, expr.left, depth)
        right = _constant_value(link, ctx, block, expr.right, depth)
        if left is None or right is None or type(left) is not type(right):
            return None
        return (left == right) if expr.op == "==" else (left != right)
    value = _constant_value(link, ctx, block, expr, depth)
    return value if isinstance(value, bool) else None


def predict_bytes(link: "Linker", ctx: ReportContext, roots: list[tuple[str, str]],
                  axes_of: dict[tuple[str, str], frozenset] | None = None) -> int:
    """The memory the whole evaluation holds at its peak: one array per reachable cell, over the axes it varies
    along, 8 bytes a value (a lower bound: numpy's temporaries come on top, for a short time each). `axes_of`:
    cell_axes(link, ctx, roots) where already found."""
    shape = ctx.shape
    total = 0
    for key, axes in (cell_axes(link, ctx, roots) if axes_of is None else axes_of).items():
        total += BYTES_PER_VALUE * math.prod(shape[a] for a in axes)
    return total


def gib(n_bytes: float) -> str:
    """A byte count as GiB for messages: 80_000_000_000 -> '74.5 GiB'."""
    return f"{n_bytes / 2**30:,.1f} GiB"


def too_large_for_once(ctx: ReportContext, predicted: int) -> tuple[str, list[str], list[str]]:
    """The message, notes and hints of error[sweep-too-large] for a sweep whose whole evaluation would hold
    `predicted` bytes, above WHOLE_EVALUATION_BYTES."""
    sizes = " x ".join(f"{axis.name}: {axis.length:,}" for axis in ctx.axes)
    message = (f"report '{ctx.report.name}' would hold {gib(predicted)} of arrays to evaluate its {ctx.n_points:,} "
               f"points at once ({sizes}); an evaluation at once holds at most {gib(WHOLE_EVALUATION_BYTES)}")
    return message, [f"{predicted / max(ctx.n_points, 1):,.0f} bytes a point: one value per point of every cell "
                     "the shown values need"], [
        "evaluate it in chunks: `perfdsl eval FILE -o OUT.csv` (or .jsonl, .parquet) streams the rows, and a "
        "question in the report (best, largest, smallest, pareto) is answered chunk by chunk; from Python, "
        "perfdsl.evaluate_chunks or perfdsl.answer_in_chunks"]
