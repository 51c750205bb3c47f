"""Checking the files of one `perfdsl check` on several processes (`--jobs N`).

Each file on the command line is checked as a program of its own (cli._FileChecker), so the files can be checked
apart: on N processes, each with its own CheckSession, the results gathered back in command-line order. What is
printed is the same as checking them one after the other in one process: a session shares work between programs,
never a diagnostic (shared_checks.py), and the results are put back in the order the files were given before they
are deduplicated and sorted.

How many: `--jobs`, at most the usable CPUs and one for every MIN_FILES_PER_PROCESS files to check.

Which files each: runs of consecutive files, two workers meeting in the middle of each run (_Ends), so that the files
one worker checks share their imports (what its session parsed and inferred for one file serves the next).

How: each worker is forked (os.fork) and gives back the result of each file as it is done, as one pickled record on a
pipe of its own, which the parent reads as they come (select.poll). Not `concurrent.futures.ProcessPoolExecutor`,
which this module used before: its manager and feeder threads, a task and a future a file, and its shutdown took about
25 ms of the parent's CPU while the workers ran and 11 ms after them, on the 2-core machine where the workers need
both cores (the cold check of the library files on 2 workers, the two versions in turn, 20 rounds each: median 0.640 s
with the executor, 0.610 s without). A worker that dies shows as the end of its pipe, however it dies, and nothing in
the parent runs on a thread (no fork of a process with threads). The workers are forked after the checker's modules
are imported and the parser loaded (lark and its tables), so they import and load nothing (the parent waits anyway;
each loading lark itself cost about 45 ms of CPU a worker). Only where `fork` is safe (Linux, a process of one thread:
`can_fork`); elsewhere, and for N = 1 or a handful of files, the files are checked in this process.

What crosses the process boundary is data only (check_cache.Checked, or an error's diagnostics): perfdsl's error
classes do not survive pickling as exceptions. A worker that fails in any other way (a bug, MemoryError), or dies,
leaves its file, and the files it took and did not give back, to the parent, which checks them in this process as a
serial run would, so the same error (or traceback, with PERFDSL_DEBUG=1) reaches the user. Ctrl-C stops the workers:
they ignore SIGINT (the parent handles it, and ends them with SIGTERM) and take SIGTERM and SIGHUP as their default
(the parent's handlers raise exceptions meant for it); a parent killed outright takes its workers with it
(PR_SET_PDEATHSIG). A worker ends with os._exit: it runs none of the parent's exit handlers and flushes none of the
output the parent had buffered when it was forked.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from contextlib import contextmanager
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
    """Whether worker processes may be forked here: on Linux (os.fork), and only while this process runs one thread
    (as the command line does). A process with other threads (a notebook or a test run with a Dask client, a
    progress bar's monitor) may hold a lock in one of them at the fork, which the child would wait for for ever:
    there the files are checked in this process."""
    return sys.platform.startswith("linux") and hasattr(os, "fork") and threading.active_count() == 1


def processes_for(jobs: int, files: int) -> int:
    """How many processes check `files` files with `--jobs jobs`: at most the usable CPUs (more processes than CPUs
    only take turns on them, each inferring the shared blocks again: `-j 4` on 2 CPUs was the slowest), and 1 (this
    process) where forking is not possible, or where there are too few files for a second process to pay
    (MIN_FILES_PER_PROCESS each)."""
    processes = min(jobs, usable_cpus(), files // MIN_FILES_PER_PROCESS)
    if processes <= 1 or not can_fork():
        return 1
    return processes


# The work of a worker and the files to check: set in the parent just before the fork, inherited by the workers
# (never pickled); _TAKEN is the shared record of which files the workers have taken (_Ends).
_WORK: Callable | None = None
_FILES: list[str] = []
_TAKEN: "_Ends | None" = None


class _Ends:
    """Which files the workers have taken, shared by the processes forked after it is made (an anonymous shared
    mapping, and a lock): the files are cut into ceil(N / 2) runs of consecutive files, and worker 2k takes the files
    of run k from its front, one at a time, worker 2k + 1 from its back, so the two meet where run k is done however
    long its files take. A worker whose run is done takes from the back of the run with the most files left.

    Why: the files next to each other on a command line (a folder, sorted) import the same files (a report and its
    calibration, the models of one family), which a worker's CheckSession parses and infers once for all its files;
    dealt out in turn (one file each), each worker met nearly every shared file, and the two workers of a check of
    the libraries did 0.3 s more work together than one process alone (measured 1.09 s of CPU together, 0.78 s in
    one; 0.89-0.94 s taking runs from both ends)."""

    def __init__(self, files: int, processes: int):
        import mmap

        runs = max(1, (processes + 1) // 2)
        self._runs = runs
        # The lock: a POSIX record lock (fcntl.lockf) on a file of no name, which each process holds on its own and
        # the kernel lets go of when the process ends, so a worker killed while it takes a file leaves no other
        # waiting for ever.
        self._lock = _nameless_file()
        # [next worker number, then each run's front and back: its files are front .. back - 1]
        self._shared = mmap.mmap(-1, 8 * (1 + 2 * runs))
        cuts = [files * run // runs for run in range(runs + 1)]
        self._write([0] + [cut for run in range(runs) for cut in (cuts[run], cuts[run + 1])])
        self.worker = -1

    def close(self) -> None:
        """Let go of the lock's file and the shared values (in the parent, once the workers are gone)."""
        os.close(self._lock)
        self._shared.close()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        import fcntl

        fcntl.lockf(self._lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.lockf(self._lock, fcntl.LOCK_UN)

    def _read(self) -> list[int]:
        import struct

        return list(struct.unpack_from(f"{1 + 2 * self._runs}q", self._shared))

    def _write(self, values: list[int]) -> None:
        import struct

        struct.pack_into(f"{1 + 2 * self._runs}q", self._shared, 0, *values)

    def join(self) -> None:
        """In a worker, once: take the next worker number (which run it works, from which end)."""
        with self._locked():
            values = self._read()
            self.worker = values[0]
            values[0] += 1
            self._write(values)

    def take(self) -> int | None:
        """The index of the next file for this worker, or None where every file is taken."""
        with self._locked():
            values = self._read()
            run = self.worker // 2
            if run >= self._runs or values[1 + 2 * run] >= values[2 + 2 * run]:
                # its own run is done (or it has none): help the run with the most files left, from its back
                run = max(range(self._runs), key=lambda r: values[2 + 2 * r] - values[1 + 2 * r])
                front, back = values[1 + 2 * run], values[2 + 2 * run]
                if front >= back:
                    return None
                from_front = False
            else:
                front, back = values[1 + 2 * run], values[2 + 2 * run]
                from_front = self.worker % 2 == 0
            if from_front:
                values[1 + 2 * run] = front + 1
                taken = front
            else:
                values[2 + 2 * run] = back - 1
                taken = back - 1
            self._write(values)
            return taken


def _nameless_file() -> int:
    """A descriptor of a new file with no name, gone with its last descriptor: a memfd (Linux), else a temporary
    file already unlinked (tempfile.TemporaryFile, where Python has no os.memfd_create)."""
    if hasattr(os, "memfd_create"):
        return os.memfd_create("perfdsl-check-ends", getattr(os, "MFD_CLOEXEC", 0))
    import tempfile

    with tempfile.TemporaryFile() as handle:
        return os.dup(handle.fileno())


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
    """The start of each worker, just after the fork: _start_worker, then fewer passes of the garbage collector
    (_collect_less), then its place among the workers (_Ends.join)."""
    _start_worker(parent)
    _collect_less()
    if _TAKEN is not None:
        _TAKEN.join()


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
    except (OSError, AttributeError):      # no prctl here: the worker ends when its pipe to the parent breaks
        return
    if os.getppid() != parent:
        os._exit(1)


_PR_SET_PDEATHSIG = 1           # <linux/prctl.h>


def _run_in_worker() -> tuple:
    """Take the next file of this worker (_Ends.take) and check it: (its index, outcome), the outcome ("done", result,
    the entries it stored in the check cache), ("error", the error's class name, its diagnostics) for a PerfError or
    UsageError, or ("retry",) for anything else (the parent checks the file itself, so that the error reaches the
    user as a serial run gives it); (None, None) where every file was taken."""
    from .errors import PerfError, UsageError

    index = _TAKEN.take()
    if index is None:
        return None, None
    try:
        result, stored = _WORK(_FILES[index])
    except UsageError as exc:
        return index, ("error", "usage", exc.diagnostics)
    except PerfError as exc:
        return index, ("error", "spec", exc.diagnostics)
    except Exception:                   # noqa: BLE001 - given back to the parent, which checks the file again
        return index, ("retry",)
    return index, ("done", result, stored)


def check_in_processes(files: list[str], work: Callable[[str], tuple], processes: int,
                       progress: Callable[[int], None] | None = None) -> Iterator[tuple[str, object, int]]:
    """Check `files` on `processes` forked worker processes; yields (file, result, entries stored) in the order of
    `files`, as `work(file)` -> (result, entries stored) gives them. Each worker takes runs of consecutive files
    (_Ends), so that the files it checks share what they import. `progress(n)`, where given, is called each time a
    worker gives back one more file, with the number given back so far: a progress bar counts the files as they are
    checked (a worker taking a run from its back finishes files long before they are yielded, in order).

    `work` runs in a worker (the state it reads is the parent's at the fork). A PerfError or UsageError that `work`
    raises in a worker is raised again here, with its diagnostics, when its file's turn comes; a file whose worker
    failed otherwise or died (or could not be forked) is checked here with `work`, as a serial run would (so its
    error is raised here). Raises what `work` raises for the files checked here, and KeyboardInterrupt. However the
    generator ends (all yielded, an error, closed early), no worker is left: those still running are ended (SIGTERM)
    and every one is waited for (so its CPU time counts in this process's children's, as `time` reports it)."""
    global _WORK, _FILES, _TAKEN
    _WORK, _FILES, _TAKEN = work, files, _Ends(len(files), processes)
    workers: dict[int, _Worker] = {}                # by the read end of its pipe
    try:
        for _ in range(processes):
            worker = _fork_worker()
            if worker is None:                      # no process to be had: the others, or this one, check the files
                break
            workers[worker.pipe] = worker
        outcomes: dict[int, tuple] = {}
        given = 0                                   # files yielded so far, in the order of `files`
        received = 0                                # files the workers gave back so far, in any order
        while workers:
            for pipe in _wait(list(workers)):
                worker = workers[pipe]
                records = worker.read()
                if worker.pid is None:              # its pipe ended: it is done, or it died
                    del workers[pipe]
                for index, outcome in records:
                    outcomes[index] = outcome
                    received += 1
                    if progress is not None:
                        progress(received)
            while given in outcomes:
                yield _given(files[given], outcomes.pop(given), work)
                given += 1
        for index in range(given, len(files)):     # what no worker gave back
            yield _given(files[index], outcomes.pop(index, ("retry",)), work)
    finally:
        for worker in workers.values():
            worker.end()
        _TAKEN.close()
        _WORK, _FILES, _TAKEN = None, [], None


def _wait(pipes: list[int]) -> list[int]:
    """The pipes among `pipes` that have something to read (a record, or their end), waiting until one has."""
    import select

    poll = select.poll()
    for pipe in pipes:
        poll.register(pipe, select.POLLIN)
    return [pipe for pipe, _ in poll.poll()]


class _Worker:
    """A forked worker as the parent sees it: its pid (None once it has ended and been waited for) and the read end
    of its pipe, on which it writes one record a file: 8 bytes of length (big-endian), then the pickled (index,
    outcome) of _run_in_worker."""

    def __init__(self, pid: int, pipe: int):
        self.pid: int | None = pid
        self.pipe = pipe
        self._buffer = bytearray()

    def read(self) -> list[tuple[int, tuple]]:
        """The records whole in the pipe now (one read, which does not wait: call it where the pipe is ready); at the
        pipe's end (the worker is done, or died), the worker is waited for and its pid set to None."""
        import pickle

        data = os.read(self.pipe, 1 << 16)
        if not data:
            os.close(self.pipe)
            _wait_for(self.pid)
            self.pid = None
            return []
        self._buffer += data
        records = []
        while len(self._buffer) >= 8:
            size = int.from_bytes(self._buffer[:8], "big")
            if len(self._buffer) < 8 + size:
                break
            records.append(pickle.loads(self._buffer[8:8 + size]))
            del self._buffer[:8 + size]
        return records

    def end(self) -> None:
        """End the worker where it still runs (SIGTERM: an interrupted or failed run does not wait for it), then wait
        for it."""
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            os.close(self.pipe)
            _wait_for(self.pid)
            self.pid = None


def _wait_for(pid: int) -> None:
    """Wait for the worker `pid` to end; nothing to wait for where it has been waited for already (a caller that
    set SIGCHLD to SIG_IGN, whose children nobody waits for)."""
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _fork_worker() -> "_Worker | None":
    """Fork one worker, which checks files (_run_in_worker) until none is left and writes each result on its pipe;
    the parent gets its _Worker, or None where no process could be forked (OSError: the process limit, memory)."""
    parent = os.getpid()
    pipe, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(pipe)
        os.close(write_end)
        return None
    if pid == 0:
        os.close(pipe)
        _work(parent, write_end)                    # never returns
    os.close(write_end)
    return _Worker(pid, pipe)


def _work(parent: int, pipe: int) -> None:
    """The whole life of a forked worker: _start_checking_worker, then a record on `pipe` for each file it checks,
    then os._exit (status 0; 1 where anything failed, its pipe ended early or the outcome could not be pickled: the
    parent checks what it did not give back)."""
    import pickle

    status = 1
    try:
        _start_checking_worker(parent)
        while True:
            index, outcome = _run_in_worker()
            if index is None:
                break
            record = pickle.dumps((index, outcome), protocol=pickle.HIGHEST_PROTOCOL)
            data = memoryview(len(record).to_bytes(8, "big") + record)
            while data:
                data = data[os.write(pipe, data):]
        os.close(pipe)                              # the parent sees the end before the kernel frees the memory
        status = 0
    except BaseException:                           # noqa: BLE001 - anything: the parent checks what is left
        pass
    finally:
        os._exit(status)


def _given(file: str, outcome: tuple, work: Callable[[str], tuple]) -> tuple[str, object, int]:
    """(file, result, entries stored) from a worker's outcome for `file`: its result; its error raised again; or, for
    a file the worker failed to check, `work(file)` here."""
    from .errors import PerfError, UsageError

    if outcome[0] == "done":
        return file, outcome[1], outcome[2]
    if outcome[0] == "error":
        raise (UsageError if outcome[1] == "usage" else PerfError)(outcome[2])
    result, stored = work(file)
    return file, result, stored
