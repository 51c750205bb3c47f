"""Why a question's group has no answer (stage 4b, for queries.finish): which of the report's conditions binds.

A group with no sweep point that meets the report's `where` lines gets a row left empty and a warning (queries.py).
This module says why, per group, in one line: for each condition of the `where` lines (each side of their top-level
`and`), how many of the group's points that meet the constraints meet it alone, and for a comparison with a number
(`serving.tpot <= 50 ms`) the best value the group reaches, in the number's unit:

    model=llama2_70b: memory.fits met by 247 of 468 points, serving.tpot <= 50 ms by none (best 64.21 ms), ...

The counts are tallied where the conditions were evaluated (the whole sweep, or each chunk of a chunked answer,
streaming.py and candidates.py), only for the groups with no answer so far, and merged like the answers themselves:
counts add, best values take the least (or greatest). A chunked answer gives the same line as a whole one: every
point's values are the same however the sweep is cut (candidates.py), and a group with no answer over the sweep had
none after any chunk, so every chunk tallied it.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import ir
from .lazy_numpy import lazy_numpy
from .long_runs import along_long_runs
from .reductions import Best
from .render import format_number
from .units import parse_unit

np = lazy_numpy(__name__)

BEST_DIGITS = 4         # significant digits of a best value: 50.04 ms against `<= 50 ms` must not read "50 ms"


@dataclass(frozen=True)
class Condition:
    """One condition of a report's `where` lines: a side of their top-level `and`, with bare axes bound
    (queries.bind_axes). A comparison of a formula with a number (`serving.tpot <= 50 ms`, `1 s >= serving.ttft`)
    has the formula as `side`, the direction in which it gets better (`min` for `<=`), and the number's unit."""

    text: str
    expr: ir.Expr
    side: ir.Expr | None = None
    direction: str | None = None       # "min" | "max" | None
    unit: str | None = None            # as the number is written (`ms`); None: no unit


@dataclass
class ConditionTally:
    """Per group (flat index over the kept axes, sorted): the points that meet the constraints, and per condition
    how many of them meet it and its side's best value among them (NaN where none, or not a comparison)."""

    groups: np.ndarray                 # (k,) int64, sorted
    points: np.ndarray                 # (k,) int64
    met: np.ndarray                    # (conditions, k) int64
    best: np.ndarray                   # (conditions, k) float64, SI


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


def conditions_of(ctx, bind) -> list[Condition]:
    """The conditions of the report's `where` lines in order, each a side of their top-level `and`s; `bind` is
    queries.bind_axes (passed in: queries imports this module)."""
    found: list[Condition] = []
    for where in ctx.report.wheres:
        for node in _conjuncts(where.cond):
            text = _text(where, node)
            found.append(_condition(text, bind(node, ctx)))
    return found


def _conjuncts(expr: ir.Expr) -> list[ir.Expr]:
    if isinstance(expr, ir.Binary) and expr.op == "and":
        return _conjuncts(expr.left) + _conjuncts(expr.right)
    return [expr]


def _text(where: ir.Where, node: ir.Expr) -> str:
    """The source text of `node`, a part of the `where` condition (where.text starts at the condition's span)."""
    start, span = where.cond.span, node.span
    lines = where.text.split("\n")
    first, last = span.line - start.line, span.end_line - start.line
    if not (0 <= first <= last < len(lines)):
        return " ".join(where.text.split())
    offset = lambda line: start.col if line == 0 else 1     # noqa: E731 (columns count from the line's start)
    if first == last:
        piece = lines[first][span.col - offset(first):span.end_col - offset(first)]
    else:
        piece = "\n".join([lines[first][span.col - offset(first):], *lines[first + 1:last],
                           lines[last][:span.end_col - offset(last)]])
    return " ".join(piece.split()) or " ".join(where.text.split())


def _condition(text: str, expr: ir.Expr) -> Condition:
    if isinstance(expr, ir.Binary) and expr.op in _FLIP:
        op, side, number = expr.op, expr.left, expr.right
        if isinstance(side, ir.Num) and not isinstance(number, ir.Num):
            op, side, number = _FLIP[op], number, side
        if isinstance(number, ir.Num) and not isinstance(side, ir.Num):
            return Condition(text, expr, side, "min" if op in ("<", "<=") else "max", number.unit)
    return Condition(text, expr)


def tally(evaluator, shape: tuple[int, ...], positions: list[np.ndarray], valid, conditions: list[Condition],
          block, kept: list[int], sweep: tuple[int, ...], wanted: np.ndarray) -> ConditionTally | None:
    """The tally of the groups `wanted` (flat group indices, sorted) over a box of the sweep evaluated by
    `evaluator`: `shape` its shape, `positions` the sweep positions of its axes (one sorted array per axis), `valid`
    the box's constraint mask (broadcastable to `shape`; None: no constraint), `block` the report. Each condition is
    evaluated again with the evaluator (its cells are held: a comparison's cost over the box). The box is cut to the
    positions of the wanted groups along the kept axes first. None where no wanted group has a point in the box."""
    if kept:
        coords = np.unravel_index(wanted, tuple(sweep[a] for a in kept))
        local, inside = [], np.ones(len(wanted), dtype=bool)
        for a, at in zip(kept, coords):
            here = np.minimum(np.searchsorted(positions[a], at), len(positions[a]) - 1)
            inside &= positions[a][here] == at
            local.append(here)
        if not inside.any():
            return None
        groups, local = wanted[inside], [here[inside] for here in local]
        picks = [np.unique(here) for here in local]
        # each group's place in the arrays reduced over the other axes (the picked positions of the kept axes)
        at = np.ravel_multi_index(tuple(np.searchsorted(pick, here) for pick, here in zip(picks, local)),
                                  tuple(len(pick) for pick in picks))
    else:
        groups, picks, at = np.zeros(1, dtype=np.int64), [], np.zeros(1, dtype=np.int64)
    reduced = tuple(a for a in range(len(shape)) if a not in kept)

    def cut(array) -> np.ndarray:
        array = along_long_runs(np.asarray(array), shape)
        for a, pick in zip(kept, picks):
            if array.shape[a] > 1:
                array = np.take(array, pick, axis=a)
        return array

    cut_shape = list(shape)
    for a, pick in zip(kept, picks):
        cut_shape[a] = len(pick)
    full = tuple(cut_shape)
    mask = np.broadcast_to(cut(valid).astype(bool), full) if valid is not None else np.ones(full, dtype=bool)
    points = np.count_nonzero(mask, axis=reduced) if reduced else mask.astype(np.int64)
    met, best = [], []
    warned = len(evaluator.warnings)            # the conditions' warnings were given when they were evaluated
    for condition in conditions:
        expr = evaluator.lasting(condition.expr)
        holds = np.asarray(evaluator.run(lambda: evaluator.expr(expr, block)))
        both = np.logical_and(cut(holds.astype(bool)), mask)
        met.append(np.count_nonzero(both, axis=reduced) if reduced else both.astype(np.int64))
        if condition.side is None:
            best.append(np.full(points.shape, np.nan))
            continue
        side_expr = evaluator.lasting(condition.side)
        side = np.asarray(evaluator.run(lambda: evaluator.expr(side_expr, block)), dtype=np.float64)
        fill = np.inf if condition.direction == "min" else -np.inf
        values = np.where(mask, np.broadcast_to(cut(side), full), fill)
        value = (values.min(axis=reduced) if condition.direction == "min" else values.max(axis=reduced)) \
            if reduced else values
        best.append(np.where(np.isinf(value), np.nan, value))
    del evaluator.warnings[warned:]

    def take(array: np.ndarray) -> np.ndarray:
        return np.asarray(array).reshape(-1)[at]

    return ConditionTally(groups.astype(np.int64), take(points).astype(np.int64),
                          np.array([take(m) for m in met], dtype=np.int64).reshape(len(conditions), -1),
                          np.array([take(b) for b in best], dtype=np.float64).reshape(len(conditions), -1))


def merge(a: ConditionTally | None, b: ConditionTally | None, conditions: list[Condition]) -> ConditionTally | None:
    """Two tallies as one: the counts of a group in both add, its best values take the better."""
    if a is None or b is None:
        return a if b is None else b
    groups = np.concatenate([a.groups, b.groups])
    unique, inverse = np.unique(groups, return_inverse=True)
    points = np.zeros(len(unique), dtype=np.int64)
    np.add.at(points, inverse, np.concatenate([a.points, b.points]))
    met = np.zeros((len(conditions), len(unique)), dtype=np.int64)
    best = np.full((len(conditions), len(unique)), np.nan)
    for i, condition in enumerate(conditions):
        np.add.at(met[i], inverse, np.concatenate([a.met[i], b.met[i]]))
        pick = np.fmin if condition.direction != "max" else np.fmax
        pick.at(best[i], inverse, np.concatenate([a.best[i], b.best[i]]))
    return ConditionTally(unique, points, met, best)


def unanswered(partial, n_groups: int) -> np.ndarray:
    """The groups (sorted flat indices) a partial answer (reductions.Best or Front) has no point for."""
    if isinstance(partial, Best):
        return np.flatnonzero(~partial.found).astype(np.int64)
    return np.setdiff1d(np.arange(n_groups, dtype=np.int64), partial.group)


def keep_groups(found: ConditionTally | None, groups: np.ndarray) -> ConditionTally | None:
    """The tally of `groups` only (the groups still without an answer)."""
    if found is None:
        return None
    keep = np.isin(found.groups, groups)
    return ConditionTally(found.groups[keep], found.points[keep], found.met[:, keep], found.best[:, keep])


def why_line(found: ConditionTally | None, group: int, conditions: list[Condition], group_points: int) -> str | None:
    """The one line that says, for `group`, how many of its points meet each condition alone (`group_points`: its
    points in the sweep): "memory.fits met by 247 of 468 points, serving.tpot <= 50 ms by none (best 64.21 ms)"; the
    best value of a comparison is given where no point meets it (how far the group is from it).
    None where the group was not tallied or the report has no condition."""
    if found is None or not conditions:
        return None
    at = int(np.searchsorted(found.groups, group))
    if at >= len(found.groups) or found.groups[at] != group:
        return None
    points = int(found.points[at])
    if points == 0:
        return f"each of its {group_points:,} points breaks a constraint"
    parts = []
    for i, condition in enumerate(conditions):
        met = int(found.met[i, at])
        count = "none" if met == 0 else ("all" if met == points else f"{met:,}")
        text = f"{condition.text} {'met by ' if i == 0 else 'by '}{count}"
        if i == 0:
            text += f" of {points:,} point{'s' if points != 1 else ''}"
            if points < group_points:
                text += f" that meet the constraints ({group_points - points:,} break one)"
        if met == 0 and condition.side is not None and not np.isnan(found.best[i, at]):   # how far it is
            text += f" (best {_quantity(found.best[i, at], condition.unit)})"
        parts.append(text)
    return ", ".join(parts)


def _quantity(value: float, unit: str | None) -> str:
    if unit:
        return f"{format_number(parse_unit(unit).from_si(value), BEST_DIGITS)} {unit}"
    return format_number(value, BEST_DIGITS)
