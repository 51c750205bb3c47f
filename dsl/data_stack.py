"""Where an evaluation's Python frames live (stage 4 support): on a data-stack chunk of their own, whatever the
caller's depth.

CPython 3.11 and 3.12 keep the frames of Python calls on a per-thread data stack made of chunks: a call whose frame
does not fit in the current chunk maps a new one (16 KiB, `mmap`), and when the first frame of that chunk returns,
the chunk is unmapped again (Python/pystate.c: push_chunk, _PyThreadState_PopFrame). A computation that calls up
and down across that boundary maps, faults in and unmaps a chunk at every crossing: CPython's issue gh-142183,
fixed from 3.13's and 3.14's maintenance releases by keeping one freed chunk (python/cpython#145789), not in 3.11.

An evaluation is such a computation: formulas call cells that call formulas, about 5,000 Python calls over a depth
range of about 80 frames (12 KiB of data stack) for the capacity-planning report. Where the boundary falls in that
range depends only on how deep the caller is, so the same evaluation cost 2.0 ms in a plain loop and 3.0-3.6 ms
inside pytest-benchmark, measured on the 2-core machine (reports/capacity_planning.perf, 10,530 points): about 100
mmap/munmap pairs of 16 KiB (strace) and 80-150 minor page faults per evaluation, none of them in the plain loop;
starting the same loop 40-60 frames deeper in a plain script gives the same faults and time.

`run_on_fresh_chunk(func, ...)` calls `func` from a frame larger than a whole 16 KiB chunk (DATA_STACK_SLOTS local
slots, never assigned): that frame never fits in the room left in the caller's chunk, so CPython maps a chunk for
it of twice the size (push_chunk leaves room for 1,000 more slots), and everything `func` calls runs in the
16 KiB left after it. An evaluation that stays within that room crosses no boundary: one map and unmap per call
instead of one per crossing (7 page faults an evaluation at every caller depth instead of 0-150). It changes
nothing else in the process: no setting, no thread, no allocator; elsewhere (other Python implementations, or
versions that cache a chunk) the large frame only costs its allocation.

A call costs about 16 us (5 page faults: the frame's slots are set on fresh pages), so it wraps a whole evaluation
of a sweep or chunk (Program.evaluate_in, streaming.chunk_answer), not each small evaluation of one cell.
"""

from __future__ import annotations

from typing import Callable, TypeVar

T = TypeVar("T")

# Local slots of the holding frame: a data-stack chunk is 16 KiB, 2,048 slots of 8 bytes (CPython's
# DATA_STACK_CHUNK_SIZE), less its header, so a frame of 2,048 slots plus the frame's own fields never fits in the
# room an ordinary chunk has left.
DATA_STACK_SLOTS = 2048


def _holding_function() -> Callable:
    """A function `(func, *args) -> func(*args)` whose frame has DATA_STACK_SLOTS more local slots.

    The slots are locals assigned after the `return`: the compiler counts every name a function assigns, reachable
    or not, so the frame has them, and they are never written. Built from text generated here (no user input)
    because a function with 2,048 locals is not written by hand."""
    slots = " = ".join(f"_{i}" for i in range(DATA_STACK_SLOTS))
    text = ("def run_on_fresh_chunk(func, *args):\n"
            "    return func(*args)\n"
            f"    {slots} = None\n")
    namespace: dict = {}
    exec(compile(text, __file__, "exec"), namespace)      # noqa: S102 -- fixed text, see the docstring
    return namespace["run_on_fresh_chunk"]


_holding: Callable | None = None      # built at the first call: compiling it takes ~3 ms, which a command that
                                      # evaluates nothing (check, explain) need not pay at start-up


def run_on_fresh_chunk(func: Callable[..., T], *args) -> T:
    """func(*args), its frames on a data-stack chunk that begins just below them (see the module's docstring).
    Exceptions pass through unchanged."""
    global _holding
    if _holding is None:
        _holding = _holding_function()
    return _holding(func, *args)
