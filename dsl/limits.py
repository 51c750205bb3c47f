"""The bounds perfdsl puts on what input can make it do, in one place.

Every stage that input can drive deep or wide checks one of these and, past it, raises a located `error[...]`
that names the limit, instead of running out of stack or memory (issue 9: fuzzed specs ended in RecursionError,
OverflowError and MemoryError). The figures are chosen, not measured: each is far above what a real spec writes
(the bundled libraries nest formulas at most 12 levels and chain at most 9 cells; the largest bundled sweep is
884,520 points) and far below what breaks.
"""

from __future__ import annotations

import functools
import sys
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

F = TypeVar("F", bound=Callable)

# A formula's operators nested inside each other: `1 + 1 + ... + 1` with 200 terms, or 200 unary minus.
MAX_EXPR_DEPTH = 200

# Formula levels followed from one cell through the cells it depends on (each cell and each nested operator counts
# one), and the length of a chain of `extends` overrides: the checker refuses deeper with error[too-deep].
MAX_CHAIN_DEPTH = 2000

# Sweep points one report takes on at all. A sweep too large to evaluate at once is evaluated in chunks
# (chunks.WHOLE_EVALUATION_BYTES, streaming.py): its memory is set by the chunk, its time by its size, about a
# minute per billion points of a small model and several minutes for the capacity-planning cost model on the
# 2-core machine (issue 10). 4 billion points bound that time, and every flat index fits in an int64 many times over.
MAX_POINTS = 4_000_000_000
BYTES_PER_POINT = 8
# Values one sweep axis holds: its coordinates are held whole (8 bytes each, 40 MB at the limit).
MAX_AXIS_POINTS = 5_000_000

# The exponent of a unit term (`s^-2`, `GB^3`): a unit raised higher has no physical meaning here.
MAX_UNIT_POWER = 99

# Python frames the checker and evaluator may use: enough for MAX_CHAIN_DEPTH levels at the handful of frames each
# level takes. Python 3.11 does not use the C stack for Python-to-Python calls, so this is safe on an 8 MiB stack.
RECURSION_LIMIT = 20_000


@contextmanager
def recursion_room() -> Iterator[None]:
    """Run a command (or a check, or an evaluation) with RECURSION_LIMIT frames of Python recursion (the former
    limit is restored after) and a fresh budget for 'did you mean' hints (errors.SUGGEST_BUDGET)."""
    from .errors import reset_suggestions

    reset_suggestions()
    before = sys.getrecursionlimit()
    if before < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)
    try:
        yield
    finally:
        sys.setrecursionlimit(before)


def with_recursion_room(func: F) -> F:
    """Decorate an entry point (Program.check, Program.evaluate) to run inside recursion_room()."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with recursion_room():
            return func(*args, **kwargs)
    return wrapper  # type: ignore[return-value]


def gib(n_bytes: float) -> str:
    """A byte count as GiB for messages: 80_000_000_000 -> '74.5 GiB'."""
    return f"{n_bytes / 2**30:,.1f} GiB"
