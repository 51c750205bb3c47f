"""How the C allocator keeps the memory of large arrays (stage 4 support): freed arrays are reused, not unmapped.

glibc serves an allocation above M_MMAP_THRESHOLD (128 KiB at first, adapting up to 32 MiB) with a fresh mapping
and gives it back to the kernel when freed; memory freed at the top of the heap beyond M_TRIM_THRESHOLD goes back
too. Every cell of a large sweep is such an array, so each evaluation (and each chunk) touched fresh pages: the
page faults cost more than the arithmetic. Measured on the 2-core machine, the capacity-planning report (884,520
points): 148 ms as glibc comes, 31 ms with the two settings below, in the same minute (issue 10).

`keep_freed_memory()` raises both thresholds once per process: arrays up to 32 MiB (4 million values) come from the
heap, and up to WHOLE_EVALUATION_BYTES of freed memory stays in the process for the next evaluation or chunk. The
process then holds on to memory it has freed, at most what one evaluation used. Elsewhere than glibc it does nothing.
"""

from __future__ import annotations

M_TRIM_THRESHOLD = -1            # glibc's malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_MAX = 32 * 2**20  # glibc's largest M_MMAP_THRESHOLD on 64-bit systems (4 * 1 MiB * sizeof(long))

_done: bool | None = None


def keep_freed_memory(trim_threshold: int = 2**30) -> bool:
    """Ask glibc to keep freed large arrays for reuse (once per process); False where that is not possible."""
    global _done
    if _done is None:
        # ctypes (and, through ctypes.util, subprocess) only here: every check imports the evaluator, which calls
        # this for large sweeps alone (2 ms of `perfdsl check`'s start otherwise).
        import ctypes
        import ctypes.util

        _done = False
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            mallopt = libc.mallopt
        except (OSError, AttributeError):
            return False
        mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
        _done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX)) and bool(mallopt(M_TRIM_THRESHOLD, trim_threshold))
    return _done
