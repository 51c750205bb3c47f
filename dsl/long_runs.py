"""Broadcasting a small array over a large sweep with numpy's inner loop over long runs of memory.

numpy loops innermost over the last axis of an operation's memory. A sweep's last axis is often short (tp: 4
values), and an array that varies along it but not along the axis before it (a constraint over model and tp, over
a sweep of model x GPU x batch x tp) makes that inner loop 4 elements long: `valid &= holds` over 16 million points
took 27 ms so on the 2-core machine, against 1.6 ms with `holds` first written out along batch and tp (one inner
loop over 4 x batches per model and GPU). The values are the same either way.
"""

from __future__ import annotations

import math

from .lazy_numpy import lazy_numpy

np = lazy_numpy(__name__)

LONG_RUN = 256          # elements of an inner loop from which numpy's per-loop cost no longer matters


def along_long_runs(small: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """`small` (broadcastable to `shape`) written out along its trailing axes, from the last one it is broadcast
    along, where the axes after that one hold fewer than LONG_RUN elements: still broadcastable to `shape`, and
    broadcasting it runs over long runs of memory. `small` itself where that is already so."""
    small = np.asarray(small)
    small = small.reshape((1,) * (len(shape) - small.ndim) + small.shape)
    spread = [a for a in range(len(shape)) if small.shape[a] == 1 and shape[a] > 1]
    if not spread or math.prod(shape[spread[-1] + 1:]) >= LONG_RUN:
        return small
    last = spread[-1]
    return np.ascontiguousarray(np.broadcast_to(small, small.shape[:last] + tuple(shape[last:])))
