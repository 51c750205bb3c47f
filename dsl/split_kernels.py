"""Large elementwise kernels on several threads (stage 4 support): one ufunc call over a large array split in parts.

A large sweep's evaluation spends much of its time in a few ufunc calls over arrays of hundreds of thousands of
values or more (the capacity-planning report at 884,520 points: 16 calls of 512 Ki values or more took 28 of its
about 50 ms), each on one core. numpy releases the GIL inside such a call, so the same call over the halves of its
output, on two threads, runs on two cores. Measured on the 2-core machine (Intel Xeon, 2.0 GHz): a multiply, an add
and a divide over 884,520 float64 values already in the cache took 1.38-1.41 ms a call on one thread and 0.58-0.63
ms over two halves; the report's own calls of 128 Ki values or more, which stream their arrays from memory, 17.4 ms
an evaluation on one thread and 12.5 ms split (1.2-1.5x a call). Split and unsplit evaluations in turn: 2-18% less
wall time at 884,520 points, 0-20% at 9,984,000 points in chunks, for 10-25% more CPU time (issue 10).

`Splitter.call(ufunc, a, b, out)` writes ufunc(a, b) into `out` (a float64 array of the broadcast shape, as
Evaluator._combine gives it), the parts on this thread and on helper threads. Each part is the same ufunc over a
slice of the output, along its outermost axis in memory, and the matching slices of the operands (an operand that
does not vary along that axis is passed whole, to broadcast as before): every value is computed by the same
operation on the same operands, so the bits are those of one call.

numpy's floating-point error state (np.errstate) belongs to the thread (a context variable since numpy 2.0), and
the evaluator routes errors to its own handler (Evaluator.run: all="call"). Each part records the errors numpy
reports to it; once all are done, the errors are handed to the caller's handler in the order numpy reports them for
one call (divide by zero, overflow, underflow, invalid value: numpy/_core/src/umath/extobj.c), each once, so the
handler sees what one call over the whole array would have shown it (the status bits it is given are those of all
the parts together, as numpy gives one call's). Under any other error mode (warn, raise, print, log), or "call"
with no handler set, the call is not split.

Only the main thread splits: a caller that already runs evaluations on threads of its own (Dask's workers run tasks
on a thread pool) has its parallelism, and more threads than cores only take turns. The helper threads live for one
`Splitter` (an evaluation: Evaluator.run starts and ends it), so that no thread outlives an evaluation:
parallel_check forks workers only from a process of one thread. At interpreter shutdown, where no thread starts and
no task is taken, the parts run on the calling thread.

Below MIN_SPLIT_VALUES a call is not split: handing a part to a thread and waiting for it cost about 30-60 us
(concurrent.futures), more than half a call over fewer values saves.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from .lazy_numpy import lazy_numpy
from .parallel_check import usable_cpus

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

np = lazy_numpy(__name__)

# Output values from which a call is split. Measured on the 2-core machine: a float64 multiply over 131,072 values
# takes about 0.15-0.2 ms, of which a thread's hand-off and wait (30-60 us) is a third.
MIN_SPLIT_VALUES = 1 << 17
# The most parts one call is split into: the usable CPUs, at most this many (beyond it, the memory bus, not the
# cores, bounds an elementwise call).
MAX_PARTS = 4
# The order in which numpy reports a call's floating-point errors to an errstate handler.
_NUMPY_ERROR_ORDER = ("divide by zero", "overflow", "underflow", "invalid value")


def default_parts() -> int:
    """How many parts a large call is split into: the usable CPUs (parallel_check.usable_cpus), at most MAX_PARTS;
    1 (no split) off the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return 1
    return min(usable_cpus(), MAX_PARTS)


class Splitter:
    """Splits large ufunc calls over `parts` threads (this one and parts - 1 helpers, started at the first split
    call). Use as a context manager: the helpers end with it."""

    def __init__(self, parts: int | None = None):
        self.parts = default_parts() if parts is None else max(1, parts)
        self._pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> "Splitter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """End the helper threads (idle: every call waits for its parts before it returns)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def splits(self, a, b, out) -> bool:
        """Whether a call over `a` and `b` writing into `out` is split: called on the main thread, more than one
        part, `out` large enough, no operand other than `out` itself in memory `out` may share (parts would read
        what others write), and numpy's error modes all "call" (with a handler set) or "ignore" (see the module's
        docstring)."""
        if self.parts < 2 or out.size < MIN_SPLIT_VALUES or threading.current_thread() is not threading.main_thread():
            return False
        if any(x is not out and isinstance(x, np.ndarray) and np.may_share_memory(x, out) for x in (a, b)):
            return False
        modes = np.geterr().values()
        if not all(mode in ("call", "ignore") for mode in modes):
            return False
        return "call" not in modes or np.geterrcall() is not None

    def call(self, ufunc, a, b, out):
        """ufunc(a, b, out=out), split in parts where `splits(a, b, out)`; returns `out`. `out`: an array of the
        broadcast shape of `a` and `b`. Exceptions of any part are raised here, after every part has ended. A part
        no helper can take (the interpreter is shutting down: no new thread or task) runs on this thread."""
        if not self.splits(a, b, out):
            return ufunc(a, b, out=out)
        pieces = _pieces(out, a, b, self.parts)
        if len(pieces) < 2:
            return ufunc(a, b, out=out)
        modes = np.geterr()
        handler = np.geterrcall()
        futures, here = self._hand_out(ufunc, pieces[1:], modes)
        errors = []
        try:
            for piece in [pieces[0], *here]:
                errors.append(_part(ufunc, piece, modes))
        finally:                                  # no part may still write into `out` once this call has ended
            if futures:
                from concurrent.futures import wait

                wait(futures)
        errors += [future.result() for future in futures]
        if handler is not None:
            # Each kind once, in numpy's order, with the status bits of all the parts (numpy gives one call's
            # handler the call's whole status at each kind).
            kinds = {kind for found in errors for kind, _ in found}
            status = 0
            for found in errors:
                for _, flag in found:
                    status |= flag
            for kind in _NUMPY_ERROR_ORDER:
                if kind in kinds:
                    handler(kind, status)
        return out

    def _hand_out(self, ufunc, pieces, modes) -> tuple[list, list]:
        """Submit `pieces` to the helper threads (the pool made at the first split call): their futures, and the
        pieces no helper could take (RuntimeError: at interpreter shutdown no thread starts and no task is taken)."""
        try:
            # Imported here: every `perfdsl check` imports the evaluator, and concurrent.futures costs its start-up.
            from concurrent.futures import ThreadPoolExecutor

            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.parts - 1, thread_name_prefix="perfdsl-kernel")
        except RuntimeError:
            return [], list(pieces)
        futures, here = [], []
        for piece in pieces:
            try:
                futures.append(self._pool.submit(_part, ufunc, piece, modes))
            except RuntimeError:
                here.append(piece)
        return futures, here


def _part(ufunc, piece, modes) -> list[tuple[str, int]]:
    """One part of a split call, under the caller's error modes; the errors numpy reported, in its order."""
    a, b, out = piece
    found: list[tuple[str, int]] = []
    with np.errstate(call=lambda kind, flag: found.append((kind, flag)), **modes):
        ufunc(a, b, out=out)
    return found


def _pieces(out, a, b, parts: int) -> list[tuple]:
    """(a, b, out) sliced into up to `parts` runs of the output's outermost axis in memory (the largest stride,
    among axes of two positions or more); an operand of fewer dimensions lines up with the output's last ones, and
    one that does not vary along the axis is passed whole."""
    axes = [axis for axis in range(out.ndim) if out.shape[axis] > 1]
    if not axes:
        return [(a, b, out)]
    axis = max(axes, key=lambda k: abs(out.strides[k]))
    length = out.shape[axis]
    parts = min(parts, length)
    bounds = [length * k // parts for k in range(parts + 1)]
    pieces = []
    for start, stop in zip(bounds, bounds[1:]):
        cut = slice(start, stop)
        pieces.append((_cut(a, axis, out.ndim, cut), _cut(b, axis, out.ndim, cut), _cut(out, axis, out.ndim, cut)))
    return pieces


def _cut(array, axis: int, ndim: int, cut: slice):
    """`array`'s run `cut` along the output's `axis` (an operand lines up with the output's last dimensions); the
    array itself where it has no such axis or one of length 1 (it broadcasts)."""
    shape = np.shape(array)
    own = axis - (ndim - len(shape))
    if own < 0 or shape[own] == 1:
        return array
    index = [slice(None)] * len(shape)
    index[own] = cut
    return array[tuple(index)]
