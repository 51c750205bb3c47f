"""Reductions over sweep points (stage 4b): the best point of each group, and the Pareto front of each group.

Pure numpy over flat arrays of candidate points, with no Python loop per point or per group. Every reduction takes
the points as three or four parallel arrays of one length (any subset of the sweep, in any order):

    group   int64   the group a point belongs to, 0 <= group < n_groups (the position of its kept axes)
    value   float   the number it is ranked by (NaN: the point takes no part)
    index   int64   its flat index in the sweep (the order of `Result.records()`), used to break ties

and returns a partial result that can be merged with the partial result of other points (`merge_best`,
`merge_fronts`): reducing a sweep chunk by chunk and merging the partial results gives exactly what reducing it at
once gives, so a sweep too large to hold can be answered one chunk at a time.

Ties are broken by sweep order, so every answer is deterministic and does not depend on how the points were split:
- best: of the points with the best value, the one with the smallest flat index;
- Pareto front: a point is on the front when no other point is at least as good on both metrics and better on one;
  of points with equal values on both metrics, only the one with the smallest flat index is kept.
Points whose value is NaN are left out; infinities are ordinary values (the largest and smallest numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

from .lazy_numpy import lazy_numpy

np = lazy_numpy(__name__)


NO_POINT = -1
MAX_BUCKETS = 1024       # buckets per group of the Pareto front's first cut
_NO_INDEX = 2**63 - 1        # np.iinfo(np.int64).max (written out: numpy is imported at first use, lazy_numpy)


@dataclass(frozen=True)
class Best:
    """The best point of each group: `value[g]` and its flat sweep index `index[g]` (NaN and NO_POINT where the group
    has no point). Shapes: (n_groups,)."""

    value: np.ndarray
    index: np.ndarray
    maximise: bool

    @property
    def found(self) -> np.ndarray:
        """(n_groups,) bool: the groups that have a point."""
        return self.index != NO_POINT


def best_per_group(group, value, index, n_groups: int, maximise: bool = False) -> Best:
    """The point of least (or, with `maximise`, greatest) `value` in each of `n_groups` groups.

    Ties go to the smallest `index`. Cost: two unbuffered ufunc.at passes over the points, O(n + n_groups).
    Raises ValueError where the arrays differ in length or a group is outside 0 .. n_groups - 1.
    """
    group, value, index = _points(group, value, index, n_groups)
    keep = ~np.isnan(value)
    group, value, index = group[keep], value[keep], index[keep]
    key = -value if maximise else value
    best = np.full(n_groups, np.inf)
    np.minimum.at(best, group, key)
    hit = key == best[group]
    first = np.full(n_groups, _NO_INDEX, dtype=np.int64)
    np.minimum.at(first, group[hit], index[hit])
    found = first != _NO_INDEX
    best_value = np.where(found, -best if maximise else best, np.nan)
    return Best(best_value, np.where(found, first, NO_POINT), maximise)


def merge_best(a: Best, b: Best) -> Best:
    """The best of two partial results over the same groups (other points of one sweep): what best_per_group over
    the points of both gives. Raises ValueError where they differ in groups or direction."""
    if a.maximise != b.maximise or a.index.shape != b.index.shape:
        raise ValueError("merge_best needs two results over the same groups, ranked in the same direction")
    sign = -1.0 if a.maximise else 1.0
    key_a, key_b = sign * a.value, sign * b.value
    take_b = b.found & (~a.found | (key_b < key_a) | ((key_b == key_a) & (b.index < a.index)))
    return Best(np.where(take_b, b.value, a.value), np.where(take_b, b.index, a.index), a.maximise)


@dataclass(frozen=True)
class Front:
    """The Pareto front of each group, as parallel arrays of its points, sorted by group, then from the best
    `first` value to the worst (the best `second` value to the worst, as a front goes), then by index."""

    group: np.ndarray          # (k,) int64
    first: np.ndarray          # (k,) float
    second: np.ndarray         # (k,) float
    index: np.ndarray          # (k,) int64
    maximise: tuple[bool, bool]


def pareto_per_group(group, first, second, index, n_groups: int,
                     maximise: tuple[bool, bool] = (False, False)) -> Front:
    """The points of each group that no other point of the group dominates on (`first`, `second`).

    A point dominates another when it is at least as good on both metrics and better on one; `maximise` says, per
    metric, whether larger is better. Of points with equal values on both metrics only the smallest index is kept.
    Cost: one lexsort and one cumulative maximum over the points, O(n log n). Raises ValueError where the arrays
    differ in length or a group is outside 0 .. n_groups - 1.
    """
    group, first, index = _points(group, first, index, n_groups)
    second = np.asarray(second, dtype=np.float64).reshape(-1)
    if second.shape != first.shape:
        raise ValueError("pareto_per_group needs arrays of one length")
    keep = ~(np.isnan(first) | np.isnan(second))
    group, first, second, index = group[keep], first[keep], second[keep], index[keep]
    # Both metrics as costs (smaller is better).
    cost_x = -first if maximise[0] else first
    cost_y = -second if maximise[1] else second
    survivors = _not_dominated_by_lower_buckets(group, cost_x, cost_y, n_groups)
    group, cost_x, cost_y = group[survivors], cost_x[survivors], cost_y[survivors]
    first, second, index = first[survivors], second[survivors], index[survivors]
    # Sort by group, then the first cost, then the second, then index. Dense ranks of the two costs make that one
    # sort of integers (a third of the time of numpy's lexsort over four keys).
    by_index = np.argsort(index, kind="stable") if np.any(index[1:] < index[:-1]) else np.arange(index.size)
    rank_x, levels_x = _dense_rank(cost_x)
    rank_y, levels_y = _dense_rank(cost_y)
    if n_groups * levels_x * levels_y < 2**62:
        key = (group * levels_x + rank_x) * levels_y + rank_y
        order = by_index[np.argsort(key[by_index], kind="stable")]
    else:                                   # keys too wide for int64: sort on the four keys
        order = np.lexsort((index, rank_y, rank_x, group))
    group, rank_y = group[order], rank_y[order]
    # A point is on the front when its second cost is below that of every point before it in its group. Ranks of
    # the second cost, reversed and offset by group, turn that into one running maximum.
    key = group * levels_y + (levels_y - 1 - rank_y)
    on_front = np.empty(key.shape, dtype=bool)
    if key.size:
        on_front[0] = True
        on_front[1:] = key[1:] > np.maximum.accumulate(key)[:-1]
    chosen = order[on_front]
    return Front(group[on_front], first[chosen], second[chosen], index[chosen], tuple(maximise))


def _dense_rank(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Ranks 0, 1, ... of `values`, equal values sharing one rank, and the number of distinct values."""
    order = np.argsort(values)
    ordered = values[order]
    steps = np.empty(values.shape, dtype=np.int64)
    if values.size:
        steps[0] = 0
        np.cumsum(ordered[1:] != ordered[:-1], out=steps[1:])
    rank = np.empty(values.shape, dtype=np.int64)
    rank[order] = steps
    return rank, int(steps[-1]) + 1 if values.size else 1


def _not_dominated_by_lower_buckets(group: np.ndarray, cost_x: np.ndarray, cost_y: np.ndarray, n_groups: int,
                                    buckets: int | None = None) -> np.ndarray:
    """A cheap first cut in O(n): the points that no point of a lower bucket of their group dominates.

    Buckets split the first cost on a log-like scale, and `_monotone_key` never puts a larger cost in a lower
    bucket: every point of a lower bucket has a strictly smaller first cost, so one with a second cost no larger
    dominates. What is left (the front and the points near it) goes to the exact pass.
    """
    if buckets is None:
        buckets = int(min(MAX_BUCKETS, max(1, 2**22 // max(n_groups, 1))))
        if group.size < 4 * buckets:
            return np.ones(group.shape, dtype=bool)
    key = _monotone_key(cost_x)
    sample = key[:: max(1, key.size // (8 * buckets))]
    sample = sample[np.isfinite(sample)]
    if buckets < 2 or sample.size == 0:
        return np.ones(group.shape, dtype=bool)
    low, high = np.quantile(sample, [0.001, 0.999])
    if not high > low:
        return np.ones(group.shape, dtype=bool)
    # (key - low) * scale is monotone in key (IEEE subtraction and multiplication round monotonically); the clip
    # sends the keys outside the sample's range, infinities included, to the end buckets.
    bucket = np.clip((key - low) * (buckets / (high - low)), 0, buckets - 1).astype(np.int64)
    cell = group * buckets + bucket
    # NaN marks an empty bucket (fmin skips it), so that a point with an infinite second cost is dropped only where
    # another point is there to dominate it.
    least = np.full(n_groups * buckets, np.nan)
    np.fmin.at(least, cell, cost_y)
    below = np.fmin.accumulate(least.reshape(n_groups, buckets), axis=1)
    lower = np.empty_like(below)                 # least second cost of the strictly lower buckets of the group
    lower[:, 0] = np.nan
    lower[:, 1:] = below[:, :-1]
    return ~(lower.reshape(-1)[cell] <= cost_y)


def _monotone_key(values: np.ndarray) -> np.ndarray:
    """A non-decreasing map of floats to about their signed log2, from exact operations (frexp splits a float into
    its exponent and mantissa exactly), so that costs spread over many orders of magnitude fill many buckets."""
    mantissa, exponent = np.frexp(np.abs(values))
    magnitude = exponent + (2 * mantissa - 1) + 1100.0        # in [1100 - 1075, 1100 + 1025) for x != 0
    return np.where(values > 0, magnitude, np.where(values < 0, -magnitude, 0.0))


def merge_fronts(a: Front, b: Front, n_groups: int) -> Front:
    """The front of the points of two partial fronts (other points of one sweep): what pareto_per_group over the
    points of both gives. Raises ValueError where they rank in different directions."""
    if a.maximise != b.maximise:
        raise ValueError("merge_fronts needs two fronts ranked in the same directions")
    return pareto_per_group(np.concatenate([a.group, b.group]), np.concatenate([a.first, b.first]),
                            np.concatenate([a.second, b.second]), np.concatenate([a.index, b.index]), n_groups,
                            a.maximise)


def _points(group, value, index, n_groups: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    group = np.asarray(group, dtype=np.int64).reshape(-1)
    value = np.asarray(value, dtype=np.float64).reshape(-1)
    index = np.asarray(index, dtype=np.int64).reshape(-1)
    if not group.shape == value.shape == index.shape:
        raise ValueError(f"group, value and index differ in length ({group.size}, {value.size}, {index.size})")
    if group.size and (group.min() < 0 or group.max() >= n_groups):
        raise ValueError(f"a group is outside 0 .. {n_groups - 1}")
    return group, value, index
