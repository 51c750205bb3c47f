"""Fewer passes of Python's cyclic garbage collector while perfdsl builds many objects that live on (stages 1-3).

Loading and checking make hundreds of thousands of small objects that stay alive until the program is dropped
(parsed files, blocks, the checker's records and caches): none of them is garbage, yet the collector's default
thresholds (700 allocations a pass, older generations every 10 passes) walk them again and again. Measured on the
2-core machine: `perfdsl check` of every library file spent about 0.3 s of 2 s in the collector, and parsing and
checking the bundled libraries as one program took 165-180 ms with the default thresholds against 150-155 ms with
those below (and the same with the collector off), a gap that grows with every object the checker keeps.

`fewer_collections()` raises the thresholds for the work inside it and gives the former ones back after (the
caller's process may be a notebook or a test run that wants its own); a pass still runs every FIRST_GENERATION
allocations, so cycles made meanwhile are still collected.
"""

from __future__ import annotations

import functools
import gc
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

F = TypeVar("F", bound=Callable)

FIRST_GENERATION = 100_000       # allocations less deallocations between passes over the youngest objects
OLDER_GENERATIONS = (50, 100)    # passes of the generation below between passes over the next one

# The first threshold while `perfdsl check` checks files, in a worker process (parallel_check) or in the command's
# own process (cli.cmd_check, where the process ends with the check): what a check builds nearly all lives until
# the process ends (parsed files, blocks, the session's records), and a pass over 100,000 young objects took 25-45
# ms and found a few thousand to free: two passes in each worker of a check of the libraries (0.065-0.09 s of its
# 0.7 s of CPU), two and one more over everything when the thresholds were given back with -j 1 (0.09 s of 1.3 s),
# one or two in a check of one report (2-core machine). The memory of a worker was the same (75 MB).
CHECK_FIRST_GENERATION = 1_000_000


@contextmanager
def fewer_collections(first: int = FIRST_GENERATION) -> Iterator[None]:
    """Run the body with the thresholds above, or `first` allocations between passes over the youngest objects
    (nested uses keep the outermost's former thresholds for the end). A caller's first-generation threshold above
    `first` is kept (a `perfdsl check` worker's, CHECK_FIRST_GENERATION): the body collects no more often than it
    did. Raises nothing of its own."""
    before = gc.get_threshold()
    gc.set_threshold(max(first, before[0]), *OLDER_GENERATIONS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def with_fewer_collections(func: F) -> F:
    """Decorate an entry point that builds many lasting objects (Program.load, Program.check) to run inside
    fewer_collections()."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with fewer_collections():
            return func(*args, **kwargs)
    return wrapper  # type: ignore[return-value]
