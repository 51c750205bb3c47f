"""A question over one chunk, evaluated where it can change the answer (stage 4c, for streaming.chunk_answer).

Most points of a large sweep take no part in a question's answer: they break a `where` line or a constraint (at
1e9 points of capacity_questions.perf's latency_throughput, more than 99.8% do not fit in memory). So a chunk is
answered in two steps instead of evaluating every shown cell at every point:

1. over the whole chunk, only the constraints and the `where` conditions (the cells they read: `memory.fits`);
2. over the box of the points that meet them (for each axis, the positions where some point does: a context whose
   axes hold those coordinates only, chunks.box_context), the shown cells, the cells the question ranks by, and
   from these the reduction with the answer so far and the rows of the chunk's winners.

The box's values are the chunk's values at the same points (the evaluator computes each point with the same numpy
operations, as it does for a chunk of the whole sweep), and the constraints and conditions are the chunk's own, so
the answer, its rows and the constraints' warnings are those of evaluating the whole chunk. What differs: a
floating-point warning of a shown or ranked cell (division by zero ...) names only trouble inside the box, and
counts the points of the box; trouble at points that break a `where` condition is not reported (nor, here or in
the whole evaluation, at points a constraint leaves out: point_warnings.py).

A chunk falls back to the whole evaluation (streaming.chunk_answer's own path) where the two steps could apply
other constraints than it: under `invalid_points = "mark"` (every point keeps its row), and where a block with
constraints, other than the report and the blocks its roles bind, is read by name (the whole evaluation applies
its constraints only in chunks whose shown cells reach it: see `two_steps_apply`). It falls back too where the
two steps do not pay: where step 1 alone would hold most of what the whole evaluation holds (STEP_ONE_SHARE), as
for a `where` on the latencies (cheapest_setup: step 1 needs 71% of the model's arrays, and the two steps cost
1.25-1.31 s of CPU at 1e7 points against 1.05-1.12 s evaluated whole; latency_throughput's `where memory.fits`
needs 7%).
"""

from __future__ import annotations

import math
import weakref

import numpy as np

from .chunks import Chunk, box_context, slice_context
from .constraints import blocks_of_report, evaluate_requires
from .errors import PerfError
from .queries import _add_ranked_columns, bind_axes, kept_axes, meets_conditions, ranked_values, reduce_values
from .report_options import option_value
from .result import Result, Rows

_PLANS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()    # program -> {report: answers by box}
# An evaluation's fixed cost in points of arrays. Measured on the 2-core machine, the shown cells of
# latency_throughput over a box of one model, 13 GPUs, B batches and 4 tp (least CPU time of 5): 3.0 ms for 1 point,
# 7.8 ms for 52,000, 17.2 ms for 260,000, 53.8 ms for 1,040,000: about 3.5 ms and 50 ns a point, so 70,000 points.
EVALUATION_POINTS = 1 << 16
# The most points of a chunk in step 1, above chunks.MAX_CHUNK_POINTS: its arrays are few (the booleans of the
# conditions, and the cells they read, mostly over fewer axes than the sweep). Measured on the 2-core machine,
# latency_throughput over 998,400,000 points, CPU time: 6.7 s with chunks of 4,194,304 points, 6.4 s with
# 16,777,216 (peak 299 MB), 8.2 s with 67,108,864 (peak 618 MB).
STEP_ONE_POINTS = 1 << 24
# The share of a chunk's points meeting the conditions from which the chunk is evaluated in its own slices (as a
# chunk evaluated whole is) rather than in boxes of those points: a question without `where` over valid points.
DENSE = 0.5
MAX_PIECES = 64         # positions of an axis beyond which a box is not split at each of them (one per batch)
# The share of the whole evaluation's arrays (chunks.predict_bytes) from which step 1 alone is too much for the two
# steps to pay: step 1 is then most of the work, and step 2 computes again, in boxes, the cells it shares. Measured
# on the 2-core machine over 9,984,000 points (capacity_questions.perf, batch 1 .. 6400, least CPU time of 3):
# cheapest_setup (step 1: 71% of the arrays) 1.25 s in two steps, 1.05 s in one; latency_throughput (7%) is the
# case the two steps are for (1e9 points: more than 99.8% do not fit in memory).
STEP_ONE_SHARE = 0.5


def answers_by_box(program, report: str | None) -> bool:
    """Whether the report's question is answered chunk by chunk in two steps: where they apply (two_steps_apply)
    and pay (step 1 holds less than STEP_ONE_SHARE of the whole evaluation's arrays). Found once per program."""
    plans = _PLANS.setdefault(program, {})
    key = ("by box", program.prepare(report)[0].report.name)
    if key not in plans:
        plans[key] = two_steps_apply(program, report) and step_one_share(program, report) < STEP_ONE_SHARE
    return plans[key]


def step_one_share(program, report: str | None) -> float:
    """The arrays step 1 holds (the cells the constraints and `where` lines read) as a share of those a whole
    evaluation holds (the shown cells, the question's and the constraints'), by chunks.predict_bytes."""
    from .chunks import predict_bytes

    ctx, checker = program.prepare(report)
    whole = predict_bytes(checker.link, ctx, [], program._axes_of(ctx.report.name, checker))
    return _step_one_layout(program, report)[2] / max(whole, 1)


def two_steps_apply(program, report: str | None) -> bool:
    """Whether the report's question may be answered chunk by chunk in two steps (found once per program).

    The whole evaluation of a chunk applies the constraints of the report, of the blocks its roles bind (those of
    the chunk's coordinates, for a swept role) and of every other block its shown cells reached, which depends on
    what was computed (a constant cell computed by an earlier chunk is not walked again). The two steps apply the
    first two kinds, and of the third those that hold at every point (a condition over constant cells that holds:
    the checker refuses one that does not), so they are taken where every constraint of a block read by name from
    the shown cells is such a one. And not under `invalid_points = "mark"`, where the rows keep the points that
    break a constraint, nor for a report with no axis."""
    ctx, checker = program.prepare(report)
    plans = _PLANS.setdefault(program, {})
    name = ctx.report.name
    if name not in plans:
        plans[name] = bool(ctx.axes) and option_value(program.sources, ctx.report, "invalid_points") != "mark" \
            and all(_holds_everywhere(program, ctx, checker, block, require)
                    for block, _, require in _constraints_read_by_name(ctx, checker))
    return plans[name]


def plan(program, report: str | None, chunk_points: int | None = None) -> list[Chunk]:
    """The chunks to answer the report's question over (streaming.answer_in_chunks), each of at most
    `chunk_points` points. Where answers_by_box holds: by default about chunks.CHUNK_BYTES of the arrays of step 1
    (the cells the constraints and `where` lines read), and boxes whose axes are kept whole in the order of what
    step 1 would recompute per position of them (chunks.plan_boxes: at 1e9 points of latency_throughput, the
    memory cells vary along model, batch and tp but not the GPU, so a chunk takes every GPU and a slice of
    batches). Else Program.chunk_points and the sweep's row order (plan_chunks). Found once per program."""
    from .chunks import plan_boxes, plan_chunks

    ctx, _ = program.prepare(report)
    if not answers_by_box(program, report):
        return plan_chunks(ctx.shape, chunk_points or program.chunk_points(report))
    points, order, _ = _step_one_layout(program, report)
    return plan_boxes(ctx.shape, chunk_points or points, order)


def count_plan(program, report: str | None, chunk_points: int) -> int:
    """len(plan(program, report, chunk_points)), without listing the chunks (a million of them take seconds)."""
    from .chunks import count_chunks

    ctx, _ = program.prepare(report)
    if not answers_by_box(program, report):
        return count_chunks(ctx.shape, chunk_points)
    _, order, _ = _step_one_layout(program, report)
    return count_chunks(tuple(ctx.shape[a] for a in order), chunk_points)


def _box_points(program, report: str | None) -> int:
    """The most points of a box (Program.chunk_points: a chunk evaluated whole holds no more), found once."""
    plans = _PLANS.setdefault(program, {})
    key = ("box points", program.prepare(report)[0].report.name)
    if key not in plans:
        plans[key] = program.chunk_points(report)
    return plans[key]


def _step_one_layout(program, report: str | None) -> tuple[int, list[int], int]:
    """(points a chunk, axes outermost first, bytes over the sweep) for step 1: chunk_points_for its bytes per
    point, and the axes by the values step 1 would compute again per position of each (the cells that do not vary
    along it), least first, so that the axes kept whole spare the most; predict_bytes of its cells."""
    ctx, checker = program.prepare(report)
    key = ("layout", ctx.report.name)
    plans = _PLANS.setdefault(program, {})
    if key not in plans:
        from .chunks import CHUNK_BYTES, cell_axes, chunk_points_for, predict_bytes
        from .program import constraint_roots, expr_roots

        link = checker.link
        roots = expr_roots(link, ctx, [bind_axes(where.cond, ctx) for where in ctx.report.wheres]) + \
            constraint_roots(link, checker.constraints)
        axes_of = cell_axes(link, ctx, roots)
        used = predict_bytes(link, ctx, roots, axes_of)
        shape = ctx.shape
        again = [sum(math.prod(shape[b] for b in axes) for axes in axes_of.values() if a not in axes)
                 for a in range(len(shape))]
        points = min(STEP_ONE_POINTS, CHUNK_BYTES // max(used / max(ctx.n_points, 1), 1e-9))
        plans[key] = (int(max(points, chunk_points_for(used / max(ctx.n_points, 1)))),
                      sorted(range(len(shape)), key=lambda a: again[a]), used)
    return plans[key]


def _constraints_read_by_name(ctx, checker) -> list:
    """The constraints (block, owner, require) of blocks other than the report and its roles' that the shown
    cells read by name: those the whole evaluation applies only where it reached them."""
    named = _read_by_name(checker.link, ctx) - {ctx.report.name, *ctx.fixed_roles.values()}
    return [constraint for constraint in checker.constraints if constraint[0].name in named]


def _holds_everywhere(program, ctx, checker, block, require) -> bool:
    """Whether a constraint's condition reads only constant cells (evaluator.Constants) and holds."""
    evaluator = program.evaluator_in(ctx, checker)
    if not evaluator._reads_constants_only(require.condition, block):
        return False
    return bool(np.all(evaluator.run(lambda: evaluator.expr(require.condition, block))))


def _read_by_name(link, ctx) -> set[str]:
    """The blocks a formula reachable from the shown cells reads by name (through a fixed role or as a block of
    its own), not through a swept role, nor as a cell of the formula's own block: every `if` branch and every
    block of a swept role taken."""
    from .chunks import _reads

    from .program import expr_roots

    roots = expr_roots(link, ctx, [item.ref for item in ctx.report.shows])
    named: set[str] = set()
    seen: set[tuple[str, str]] = set()
    stack = list(roots)
    while stack:
        key = stack.pop()
        if key in seen or key[0] not in link.blocks or key[1] not in link.blocks[key[0]].cells:
            continue
        seen.add(key)
        block = link.blocks[key[0]]
        for pair, role_axis in _reads(link, ctx, block, block.cells[key[1]]):
            if role_axis is None and pair[0] != block.name:       # its own cells: reached as it is
                named.add(pair[0])
            stack.append(pair)
    return named


def answer_by_box(program, report: str | None, chunk: Chunk, prior=None):
    """streaming.chunk_answer's ChunkAnswer for one chunk, in the two steps of this module's docstring (a report
    for which answers_by_box holds). The points that meet the conditions are evaluated in boxes of at most
    Program.chunk_points points each (a chunk evaluated whole holds no more). A chunk with no such point gives the
    prior answer (or an empty one) and no rows: its `keys` are then empty (streaming.Merging keeps another
    chunk's)."""
    from .streaming import ChunkAnswer, _group_of_index, _winning_index, answer_table, chunk_tally

    ctx, checker = program.prepare(report)
    question = ctx.report.questions[0]
    kept, n_groups = kept_axes(question, ctx)
    part = slice_context(ctx, chunk)
    meets, chunk_warnings, step_one = _conditions_over(program, checker, part)
    first = [w if isinstance(w, int) else range(n)[w][0] for w, n in zip(chunk.where, ctx.shape)]
    partial = prior if prior is not None else reduce_values(
        question, [np.zeros(0)] * (2 if question.form == "pareto" else 1), np.zeros(0, np.int64),
        np.zeros(0, np.int64), n_groups)
    keys, pieces, warnings = [], [], []
    for positions, local, flat in _runs(meets, _box_points(program, report)):
        index = _sweep_index(local, part.shape, first, ctx.shape)
        box = box_context(part, positions)
        evaluator = program.evaluator_in(box, checker)
        result = Result(program, box, program.shown_columns(evaluator, box, checker), [], evaluator)
        warnings.extend(evaluator.warnings)     # the shown cells' (the whole evaluation's chunk warns of those)
        values = ranked_values(result, question, flat)
        partial = reduce_values(question, values, index, _group_of_index(index, ctx.shape, kept), n_groups,
                                partial)
        winners = _winning_index(partial)
        at = np.minimum(np.searchsorted(index, winners), len(index) - 1)
        mine = index[at] == winners
        _add_ranked_columns(result, checker, question)
        result.rows = Rows(flat[at[mine]], np.zeros(int(mine.sum()), dtype=bool))
        keys, table = answer_table(result)
        pieces.append((winners[mine], table))
    index = np.concatenate([winners for winners, _ in pieces]) if pieces else np.zeros(0, np.int64)
    columns = [np.concatenate(parts) for parts in zip(*(table for _, table in pieces))]
    if len(pieces) > 1:                         # rows a later box's points beat are dropped
        keep = np.isin(index, _winning_index(partial))
        index, columns = index[keep], [column[keep] for column in columns]
    evaluator, constraints = step_one
    # The constraint mask was written over by the conditions (reuse_valid): computed again, from the cells step 1
    # holds, only where some group of the chunk has no answer yet.
    why = chunk_tally(evaluator, ctx, chunk, part.shape,
                      lambda: evaluator.run(lambda: evaluate_requires(evaluator, constraints, "omit")).valid,
                      partial, kept, n_groups)
    return ChunkAnswer(partial, index, keys, columns, program.standing_warnings(checker) + warnings + chunk_warnings,
                       merged=prior is not None, why=why)


def _conditions_over(program, checker, part) -> tuple[np.ndarray, list, tuple]:
    """Step 1 over a chunk's context `part`: (part.shape) bool, the points that meet the report's constraints and
    `where` lines, the warnings of the constraints (as the whole evaluation of the chunk gives them), and its
    evaluator and the constraints it applied (for streaming.chunk_tally)."""
    evaluator = program.evaluator_in(part, checker)
    reached = {block.name for block in blocks_of_report(program.blocks, part, [])}
    constraints = [constraint for constraint in checker.constraints if constraint[0].name in reached]
    validity = evaluator.run(lambda: evaluate_requires(evaluator, constraints, "omit"))
    if any(d.severity == "error" for d in validity.diagnostics):
        raise PerfError(validity.diagnostics)
    warnings = evaluator.kept_warnings(validity.valid) + validity.diagnostics     # as Program._evaluate_in's
    return meets_conditions(evaluator, part, validity.valid, reuse_valid=True), warnings, (evaluator, constraints)


def _true_points(meets: np.ndarray) -> np.ndarray:
    """The flat indices (sorted, int64) of the true points of a boolean array, found a word of 8 points at a time:
    a pass over its bytes, and work in proportion to the true points only (few, in a large sweep)."""
    flat = np.ascontiguousarray(meets).reshape(-1)
    whole = flat.size // 8 * 8
    words = np.flatnonzero(flat[:whole].view(np.uint64))
    found = (words[:, None] * 8 + np.arange(8)).reshape(-1)
    return np.concatenate([found[flat[found]], whole + np.flatnonzero(flat[whole:])]).astype(np.int64)


def _runs(meets: np.ndarray, limit: int):
    """The boxes to evaluate the true points of `meets` (a chunk's points that meet the conditions) in, in order:
    (positions per axis, the points' flat indices in the chunk, their flat indices in the box).

    Where at least DENSE of the points meet them, the boxes are the chunk's own slices of at most `limit` points
    (plan_chunks over it: no index array over its points); else _boxes of the points, taken `limit` at a time (so
    that their index arrays stay small)."""
    from .chunks import plan_chunks

    shape = meets.shape
    if np.count_nonzero(meets) >= DENSE * meets.size:
        for sub in plan_chunks(shape, limit):
            cut = tuple(slice(w, w + 1) if isinstance(w, int) else w for w in sub.where)
            flat = np.flatnonzero(meets[cut])
            if len(flat):
                yield [np.arange(n)[c] for n, c in zip(shape, cut)], sub.offset + flat, flat
        return
    local = _true_points(meets)                 # the candidates: sorted flat indices of the chunk
    for window in range(0, len(local), limit):
        part = local[window:window + limit]
        for start, stop, positions, flat in _boxes(part, shape, limit):
            yield positions, part[start:stop], flat


def _boxes(local: np.ndarray, shape: tuple[int, ...], limit: int) -> list[tuple]:
    """The candidates `local` (sorted flat indices into `shape`) split into runs to evaluate a box each, in order:
    (start, stop, positions per axis, flat index of each of the run's points in its box).

    A box holds at most `limit` points (a run of one point at least). A run is split at the positions of its first
    axis with several (one run per model, say, then per GPU) where its box is too large or that spares more points
    of boxes than the evaluations it adds cost (EVALUATION_POINTS each): the candidates of a chunk over several
    models and GPUs are far fewer than their box, as each pair fits a different range of batches. Consecutive
    pieces of a split are joined again while that costs less than an evaluation and stays within `limit`."""
    if not len(local):
        return []
    coords = np.unravel_index(local, shape)

    def box(a: int, b: int) -> list[np.ndarray]:
        return [_taken(at[a:b], n) for at, n in zip(coords, shape)]

    runs, todo = [], [(0, len(local), box(0, len(local)))]
    while todo:
        start, stop, positions = todo.pop()
        size = _size(positions)
        split = next((a for a, p in enumerate(positions) if len(p) > 1), None)
        if split is None or size - (stop - start) <= EVALUATION_POINTS and size <= limit:
            runs.append((start, stop, positions))
            continue
        at = coords[split][start:stop]          # non-decreasing: the axes before it hold one position
        taken = positions[split]
        if size > limit:                        # too large: slices of the axis's positions, each box within limit
            step = math.ceil(len(taken) / min(len(taken), math.ceil(size / limit)))
            cuts = [start, *(start + np.searchsorted(at, taken[step::step])), stop]
            todo += [(a, b, box(a, b)) for a, b in zip(cuts[-2::-1], cuts[:0:-1])]
            continue
        if len(taken) > MAX_PIECES:             # a long axis (batches): its boxes are dense enough
            runs.append((start, stop, positions))
            continue
        cuts = [start, *(start + 1 + np.flatnonzero(at[1:] != at[:-1])), stop]
        parts = _joined([(a, b, box(a, b)) for a, b in zip(cuts[:-1], cuts[1:])], limit)
        if len(parts) == 1 or sum(_size(part[2]) for part in parts) + EVALUATION_POINTS * (len(parts) - 1) >= size:
            runs.append((start, stop, positions))
            continue
        todo += parts[::-1]
    return [(a, b, positions, _in_box([at[a:b] for at in coords], positions, shape)) for a, b, positions in runs]


def _joined(parts: list[tuple], limit: int) -> list[tuple]:
    """Consecutive runs (start, stop, positions) joined while the joined box holds at most `limit` points and no
    more than the two boxes and an evaluation's cost (EVALUATION_POINTS)."""
    joined = [parts[0]]
    for start, stop, positions in parts[1:]:
        first, _, before = joined[-1]
        union = [np.union1d(a, b) for a, b in zip(before, positions)]
        size = _size(union)
        if size <= limit and size <= _size(before) + _size(positions) + EVALUATION_POINTS:
            joined[-1] = (first, stop, union)
        else:
            joined.append((start, stop, positions))
    return joined


def _size(positions: list[np.ndarray]) -> int:
    return math.prod(len(p) for p in positions)


def _taken(at: np.ndarray, n: int) -> np.ndarray:
    """The positions (sorted) of an axis of length `n` that the coordinates `at` take."""
    taken = np.zeros(n, dtype=bool)
    taken[at] = True
    return np.flatnonzero(taken)


def _in_box(coords: list[np.ndarray], positions: list[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
    """Each point's flat index in the box of `positions` (its coordinates `coords` per axis, among them)."""
    flat = np.zeros(len(coords[0]) if coords else 1, dtype=np.int64)
    for at, taken, n in zip(coords, positions, shape):
        rank = np.zeros(n, dtype=np.int64)
        rank[taken] = np.arange(len(taken))
        flat = flat * len(taken) + rank[at]
    return flat


def _sweep_index(local: np.ndarray, shape: tuple[int, ...], first: list[int], sweep: tuple[int, ...]
                 ) -> np.ndarray:
    """Flat indices into a chunk (a box of `shape` whose first point is at positions `first` of the sweep) as
    flat indices of the sweep of shape `sweep`, in the same (ascending) order."""
    at = np.unravel_index(local, shape)
    return np.ravel_multi_index(tuple(i + f for i, f in zip(at, first)), sweep).astype(np.int64)
