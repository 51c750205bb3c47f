"""Checking the files of one `perfdsl check` on several processes (`--jobs N`).

Each file on the command line is checked as a program of its own (cli._FileChecker), so the files can be checked
apart: on N processes, each with its own CheckSession, the results gathered back in command-line order. What is
printed is the same as checking them one after the other in one process: a session shares work between programs,
never a diagnostic (shared_checks.py), and the results are put back in the order the files were given before they
are deduplicated and sorted.

How many: `--jobs`, at most the usable CPUs and one for every MIN_FILES_PER_PROCESS files to check.

How: `concurrent.futures.ProcessPoolExecutor` (standard library) with the `fork` start method, chosen because it
reports a worker that died (`BrokenProcessPool`) where `multiprocessing.Pool` waits for it for ever, and because with
`fork` it starts every worker before its manager thread (no fork of a process with threads). The workers are forked
after the checker's modules are imported and the parser loaded (lark and its tables), so they import and load
nothing (the parent waits anyway; each loading lark itself cost about 45 ms of CPU a worker). Only where `fork` is
safe (Linux, a process of one thread: `can_fork`); elsewhere, and for N = 1 or a handful of files, the files are
checked in this process.

What crosses the process boundary is data only (check_cache.Checked, or an error's diagnostics): perfdsl's error
classes do not survive pickling as exceptions. A worker that fails in any other way (a bug, MemoryError), or dies,
leaves its file to the parent, which checks it in this process as a serial run would, so the same error (or
traceback, with PERFDSL_DEBUG=1) reaches the user. Ctrl-C stops the workers: they ignore SIGINT (the parent
handles it) and take SIGTERM and SIGHUP as their default (the parent's handlers raise exceptions meant for it); a
parent killed outright takes its workers with it (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Callable, Iterator

# Below this many files to check, a second process costs more than it saves (forking, a second session that infers
# the shared cost model and families again): about 30 ms a file of the library on the 2-core machine.
MIN_FILES_PER_PROCESS = 4

# The most processes `--jobs` defaults to: beyond the number of files in the largest import chains, more processes
# only infer the same shared blocks again.
MAX_DEFAULT_JOBS = 8


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, as taskset and containers set it), else os.cpu_count();
    at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def default_jobs() -> int:
    """`--jobs` when it is not given: the usable CPUs, at most MAX_DEFAULT_JOBS."""
    return min(usable_cpus(), MAX_DEFAULT_JOBS)


def can_fork() -> bool:
    """Whether worker processes may be forked here: on Linux, where `fork` is a start method of multiprocessing, and
    only while this process runs one thread (as the command line does). A process with other threads (a notebook or
    a test run with a Dask client, a progress bar's monitor) may hold a lock in one of them at the fork, which the
    child would wait for for ever: there the files are checked in this process."""
    if not sys.platform.startswith("linux") or threading.active_count() != 1:
        return False
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def processes_for(jobs: int, files: int) -> int:
    """How many processes check `files` files with `--jobs jobs`: at most the usable CPUs (more processes than CPUs
    only take turns on them, each inferring the shared blocks again: `-j 4` on 2 CPUs was the slowest), and 1 (this
    process) where forking is not possible, or where there are too few files for a second process to pay
    (MIN_FILES_PER_PROCESS each)."""
    processes = min(jobs, usable_cpus(), files // MIN_FILES_PER_PROCESS)
    if processes <= 1 or not can_fork():
        return 1
    return processes


# The work of a worker: set in the parent just before the fork, inherited by the workers (never pickled).
_WORK: Callable | None = None


def _start_worker(parent: int | None = None) -> None:
    """Each worker: Ctrl-C is the parent's to handle (it stops the workers); SIGTERM and SIGHUP end the worker (the
    parent's handlers turn them into exceptions for the parent's own clean-up); and the worker is killed when its
    parent (pid `parent`) dies, however it dies (SIGKILL, the out-of-memory killer, a caller's timeout): else it
    would wait for work for ever, holding the caller's stdout and stderr open."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    if parent is not None:
        _die_with_parent(parent)


def _start_checking_worker(parent: int) -> None:
    """The initializer of each worker: _start_worker, then fewer passes of the garbage collector (_collect_less)."""
    _start_worker(parent)
    _collect_less()


def _collect_less() -> None:
    """In a worker: what the parent built before the fork is left out of every pass of the collector (gc.freeze:
    nor are its pages copied by the collector's writes), and a pass runs every gc_pauses.CHECK_FIRST_GENERATION
    allocations (the older generations' thresholds kept); nothing changes where the collector is off."""
    import gc

    from .gc_pauses import CHECK_FIRST_GENERATION

    if not gc.isenabled():
        return
    gc.freeze()
    first, *older = gc.get_threshold()
    if first:
        gc.set_threshold(max(first, CHECK_FIRST_GENERATION), *older)


def _die_with_parent(parent: int) -> None:
    """Ask Linux to send this process SIGKILL when its parent ends (prctl PR_SET_PDEATHSIG, through ctypes), then end
    at once where the parent has already gone (it may have died before the request was made)."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):      # no prctl here: the worker ends when the parent's executor ends it
        return
    if os.getppid() != parent:
        os._exit(1)


_PR_SET_PDEATHSIG = 1           # <linux/prctl.h>


def _run_in_worker(file: str) -> tuple:
    """Check `file` in a worker: ("done", result, the entries it stored in the check cache), ("error", the error's
    class name, its diagnostics) for a PerfError or UsageError, or ("retry",) for anything else (the parent checks
    the file itself, so that the error reaches the user as a serial run gives it)."""
    from .errors import PerfError, UsageError

    try:
        result, stored = _WORK(file)
    except UsageError as exc:
        return ("error", "usage", exc.diagnostics)
    except PerfError as exc:
        return ("error", "spec", exc.diagnostics)
    except Exception:                   # noqa: BLE001 - given back to the parent, which checks the file again
        return ("retry",)
    return ("done", result, stored)


def check_in_processes(files: list[str], work: Callable[[str], tuple],
                       processes: int) -> Iterator[tuple[str, object, int]]:
    """Check `files` on `processes` forked worker processes; yields (file, result, entries stored) in the order of
    `files`, as `work(file)` -> (result, entries stored) gives them.

    `work` runs in a worker (the state it reads is the parent's at the fork). A PerfError or UsageError that `work`
    raises in a worker is raised again here, with its diagnostics, when its file's turn comes; a file whose worker
    failed otherwise or died is checked here with `work`, as a serial run would (so its error is raised here).
    Raises what `work` raises for the files checked here, and
    KeyboardInterrupt (the workers are stopped first)."""
    global _WORK
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from .errors import PerfError, UsageError

    _WORK = work
    executor = ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_start_checking_worker, initargs=(os.getpid(),))
    finished = False
    try:
        futures = [executor.submit(_run_in_worker, file) for file in files]
        for file, future in zip(files, futures):
            try:
                outcome = future.result()
            except BrokenProcessPool:
                outcome = ("retry",)
            if outcome[0] == "done":
                yield file, outcome[1], outcome[2]
            elif outcome[0] == "error":
                raise (UsageError if outcome[1] == "usage" else PerfError)(outcome[2])
            else:
                result, stored = work(file)
                yield file, result, stored
        finished = True
    finally:
        _WORK = None
        if finished:
            executor.shutdown(wait=True)
        else:
            _stop(executor)


def _stop(executor) -> None:
    """End the workers now: those still checking are killed (an interrupted or failed run does not wait for them),
    then the executor's manager thread, which sees them gone, is waited for (nothing is left running)."""
    processes = list((getattr(executor, "_processes", None) or {}).values())
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join()
    executor.shutdown(wait=True, cancel_futures=True)
