"""The chunks of a sweep on a Dask cluster (stage 4c, beyond one machine): the same chunks as streaming.py, each
evaluated on a worker, their rows or partial answers gathered in row order, so the results are those of the serial
run, value for value.

    perfdsl eval REPORT -o out.csv --dask tcp://scheduler:8786     # a running cluster
    perfdsl eval REPORT -o out.csv --workers 4                     # a local cluster of 4 processes

The program (its parsed files, with the overrides applied) is pickled once and sent to the cluster once, as the
result of a task that holds it (dask_worker.held), which every worker fetches once: a task rather than scattered
data, so that where every worker that held it dies, the scheduler runs the task again and the run goes on (scattered
data was lost with its workers, and every later task of the run cancelled). Each worker thread rebuilds and prepares
it once and keeps it under the fingerprint of those bytes (dask_worker.py), so a later run of the same program and
overrides on the same cluster prepares nothing. Before the client prepares the program itself (to plan the chunks),
it asks every worker to prepare its copy, so the two happen at once. Each task gets a chunk (`chunks.Chunk`: a slice
of the axes, about 256 MiB of arrays) and sends back its rows (streaming.chunk_rows) or, for a question, its partial
answer reduced with the answer merged so far and the rows of the points that beat it (streaming.chunk_answer):
numbers, never a chunk's arrays. At most `window` chunks are in flight, so the client holds a bounded number of
chunks' rows however large the sweep.
A cluster that fails the run (a task whose workers died while running it, no worker for too long, the scheduler
gone) is error[cluster-failed], exit status 2, never a traceback (cluster_failures); a local cluster's scheduler
bounds how long it waits on stalled workers (LOCAL_SCHEDULER). dask.distributed is optional (the extra `dask`:
`pip install -e '.[dask]'` in a checkout).
"""

from __future__ import annotations

import itertools
import logging
import os
import signal
import sys
import threading
from collections import deque
from contextlib import contextmanager
from typing import Callable, Iterator, Mapping

import numpy as np

from .chunks import plan_chunks
from .dask_worker import answer_run, cluster_chunks, held, on_worker, run_of, ship, warm
from .errors import UsageError, error
from .extras import require
from .streaming import Answer, Merging, chunk_rows

Progress = Callable[[int, int], None]

# Runs of chunks a worker thread answers, over a question's sweep: a task answers a run of consecutive chunks and
# sends back one answer (dask_worker.answer_run). Fewer, longer runs cost the client less (a task costs it about
# 10 ms: submitting, merging) and keep the prior of each chunk fresh; more, shorter runs leave less idle time at
# the end, when the last run of one worker is still going and the others are done.
RUNS_PER_THREAD = 8


# The schemes of distributed's own transports a scheduler listens on (distributed.comm.registry). `inproc` (a
# scheduler in this same process: inproc://HOST/PID/N, no port) is passed through unchecked and left out of the
# message: nobody types it, but an in-process cluster (the tests') has such an address.
SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")
_ADDRESS_FORM = "give the scheduler's address as tcp://HOST:8786 (its scheme, host and port; 8786 is dask's default)"


def check_address(address: str) -> None:
    """Raise UsageError (error[bad-option], exit 2) for a --dask ADDRESS that is not SCHEME://HOST:PORT or HOST:PORT
    (scheme one of SCHEMES, port 1 to 65535, an IPv6 host in brackets): checked before connecting, where distributed
    raised a bare ValueError ("missing port number", "unknown address scheme 'http'"), reported as an internal
    error. An empty address is refused too: `--dask "$SCHEDULER"` with the variable unset ran serially, without a
    word."""
    if not address.strip():
        raise UsageError(error("bad-option", "--dask '': the address of the Dask scheduler is empty",
                               hints=[_ADDRESS_FORM + "; a shell variable given as the address may be unset"]))
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    if scheme == "inproc":
        return
    if scheme not in SCHEMES:
        raise UsageError(error("bad-option", f"--dask {address}: '{scheme}://' is not a scheme of a Dask scheduler "
                               f"({', '.join(SCHEMES)})",
                               hints=[_ADDRESS_FORM] + (["HOST:8787 over http:// is the dashboard, not the scheduler"]
                                                        if scheme in ("http", "https") else [])))
    host, colon, port = rest.rpartition(":")
    if not colon or "]" in port:                    # "host", or "[::1]" (an IPv6 host without its port)
        what = "no port"
    elif not host:
        what = "no host"
    elif not (port.isdigit() and 0 < int(port) < 65536):
        what = f"'{port}' is not a port (1 to 65535)"
    else:
        return
    raise UsageError(error("bad-option", f"--dask {address}: {what} in the address of the Dask scheduler",
                           hints=[_ADDRESS_FORM]))


@contextmanager
def dask_client(address: str | None = None, workers: int | None = None) -> Iterator[object]:
    """A client of the cluster at `address`, or of a local cluster of `workers` processes (one thread each, as
    numpy's arithmetic here is one thread); closed (and the local cluster stopped) on the way out.
    Raises UsageError (exit 2) where the scheduler cannot be reached."""
    distributed = require("distributed", "dask")
    if address:
        try:
            client = distributed.Client(address, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise UsageError(error("bad-option", f"cannot reach the Dask scheduler at '{address}': {exc}",
                                   hints=["start one (dask scheduler; dask worker ADDRESS), or use --workers N for "
                                          "a local cluster"])) from None
        try:
            yield client
        finally:
            client.close()
        return
    # Without a dashboard nobody reads the workers' statistical profiler, which samples every thread's stack every
    # 10 ms: about 10% of a worker's CPU time here (3.1 s against 2.8 s in its thread, 3e7 points, 2 cores).
    # LOCAL_SCHEDULER bounds how long the scheduler, in this process, waits on workers that stall or are gone.
    # Ctrl-C, SIGTERM and SIGHUP are held from the cluster's start to its close (_signals_held), but for the run
    # itself (_ctrl_c_kept puts the run's handlers back), so that none lands inside the start or the close.
    with _signals_held() as (run_handlers, held):
        blocked = _block_ctrl_c()
        try:
            with require("dask", "dask").config.set({"distributed.worker.profile.enabled": False,
                                                     **LOCAL_SCHEDULER}), _workers_log_critical():
                # Any free port for the scheduler's HTTP server: its fixed default (8787) taken by another cluster
                # made distributed warn on stderr ("Port 8787 is already in use").
                cluster = distributed.LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True,
                                                   dashboard_address=":0")
            try:
                client = distributed.Client(cluster)
            except BaseException:
                cluster.close(timeout=CLOSE_TIMEOUT)
                raise
        except BaseException:
            _unblock_ctrl_c(blocked)
            # A signal sent to the process group (a caller's timeout: SIGTERM) also ends the workers as they start,
            # and the start fails ("Nanny failed to start"): the signal, not that failure, is what ends the run.
            _deliver_held(held, run_handlers)
            raise
        _unblock_ctrl_c(blocked)           # a Ctrl-C pending in this thread comes now, to the holder
        try:
            with _ctrl_c_kept(run_handlers):
                _deliver_held(held, run_handlers)      # one that came while the cluster started stops the run here
                yield client
        finally:
            # Stopping our own cluster, on success or Ctrl-C, is no news: the scheduler's log of the workers it loses
            # ("Removing worker ... caused the cluster to lose ...") would only alarm, and so would tornado's log of
            # the cancel callback of a client call that Ctrl-C broke off (a traceback, seen once in a CI run).
            loggers = [logging.getLogger(name) for name in ("distributed", "tornado.application")]
            levels = [logger.level for logger in loggers]
            for logger in loggers:
                logger.setLevel(logging.CRITICAL)
            try:
                client.close(timeout=CLOSE_TIMEOUT)
                cluster.close(timeout=CLOSE_TIMEOUT)
            finally:
                for logger, level in zip(loggers, levels):
                    logger.setLevel(level)


# The local cluster's scheduler, set with distributed's own settings so that a stalled cluster ends the run with an
# error (cluster_failures) instead of waiting for ever without a word. A worker process that dies is seen at once
# (its nanny, in this process, restarts it and its task runs again: after `allowed-failures` + 1 deaths on one task,
# KilledWorker). What distributed waits for without bound by default: a worker that is alive but does not heartbeat
# (stopped, wedged) is restarted after worker-ttl, checked every worker-ttl (default 5 minutes: a run of 6 s whose
# two workers were stopped had said nothing and finished nothing after 7 minutes); tasks with no worker to run on
# (nannies that cannot start one) wait for ever unless no-workers-timeout is set (default null). 60 s is ten times a
# run of the capacity-planning report here, and about a hundred heartbeats (0.5 s each for a few workers), so a
# loaded machine does not trip it.
LOCAL_SCHEDULER = {"distributed.scheduler.worker-ttl": "60s", "distributed.scheduler.no-workers-timeout": "60s"}

# Seconds each of the client and the local cluster may take to close; about 1.4 s on 2 cores (2 workers), the rest
# is room for a loaded machine. Past it, distributed gives up waiting (TimeoutError) and its exit hooks end what is left.
CLOSE_TIMEOUT = 10


_HELD_SIGNALS = [getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)]


@contextmanager
def _signals_held() -> Iterator[tuple[dict, list[int]]]:
    """Ctrl-C, SIGTERM or SIGHUP while the local cluster starts or closes is held: one that came while it started is
    acted on as the run starts (dask_client, _deliver_held), one while it closes once it has closed, delivered again
    to the handler that was in force (exit status 130, 143 or 129: the CLI's KeyboardInterrupt and Terminated). Raised
    there, it skipped the close or broke it off, sometimes inside `logging`'s module lock (Logger.setLevel takes it),
    which stayed taken: the scheduler's loop, in its thread, then waited on that lock, and distributed's exit hook
    waited out its timeouts on the unclosed cluster. A run interrupted just after its `wrote ...` line took 10.7-13.2
    s more to end (13.5-15.4 s in all, against about 6 s for the run), where the close takes 0.4-1.4 s (2 workers,
    2 cores); SIGTERM, held only since, took 15.4 s once in 14 runs (1.7-4.0 s the others, under load). The close is
    bounded (CLOSE_TIMEOUT). Yields the handlers in force before (the run's, which _ctrl_c_kept puts back while the
    run goes on) and the list of the signals held so far. A no-op outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield {}, []
        return
    held: list[int] = []
    def hold(signum, frame) -> None:
        held.append(signum)

    previous = {signum: signal.signal(signum, hold) for signum in _HELD_SIGNALS}
    try:
        yield previous, held
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    _deliver_held(held, previous)         # one that came while it closed: to the handler restored above, as if now


_WORKER_LOGGING = "DASK_LOGGING__DISTRIBUTED"   # dask's configuration of the `distributed` logger, by environment
_INTERRUPTED = threading.Event()        # Ctrl-C came during a run on the cluster (see _ctrl_c_kept)


@contextmanager
def _ctrl_c_kept(run_handlers: Mapping[int, object] | None = None) -> Iterator[None]:
    """During a run on a local cluster, SIGTERM and SIGHUP go to `run_handlers` (those in force before _signals_held:
    the CLI raises Terminated), and Ctrl-C is kept as well as raised: the scheduler, in this process, watches the
    garbage collector with a callback (distributed.gc), and a KeyboardInterrupt raised while that callback runs
    is swallowed by Python, which prints it ("Exception ignored in ...", a traceback). The loops below raise it
    again at the next chunk (_raise_if_interrupted), and Python's report of the swallowed one is left out (any
    other exception a callback loses is reported as before). A no-op outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupted(signum, frame):
        _INTERRUPTED.set()
        raise KeyboardInterrupt

    previous_hook = sys.unraisablehook

    def unraisable(report) -> None:
        if report.exc_type is not KeyboardInterrupt:
            previous_hook(report)

    _INTERRUPTED.clear()
    others = {signum: handler for signum, handler in (run_handlers or {}).items() if signum != signal.SIGINT}
    previous = {signum: signal.signal(signum, handler) for signum, handler in [(signal.SIGINT, interrupted),
                                                                               *others.items()]}
    sys.unraisablehook = unraisable
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        sys.unraisablehook = previous_hook
        _INTERRUPTED.clear()


def _raise_if_interrupted() -> None:
    if _INTERRUPTED.is_set():
        raise KeyboardInterrupt


def _block_ctrl_c() -> object:
    """Block Ctrl-C (SIGINT) in this thread while a local cluster starts, and give what _unblock_ctrl_c needs (None
    where nothing was blocked). Ctrl-C in a terminal reaches the whole process group, and each worker printed a
    KeyboardInterrupt traceback; afterwards the client, this process, alone takes it and stops the cluster on its way
    out. The threads that start the worker processes are made while the cluster starts (distributed's IO loop and its
    process starters), so they and the workers inherit the block and never take Ctrl-C. In this process one pressed
    meanwhile waits, pending, or is taken by a thread that does not block it (one made before, as OpenBLAS's), and
    either way reaches _signals_held's holder. It was ignored (SIG_IGN) before: a Ctrl-C in the 2 to 2.5 s of
    start-up was lost, and the run went on to its end with exit status 0 (a newcomer's run wrote 7.7 GB in 11 minutes
    after it). Where pthread_sigmask is missing (not POSIX) nothing is blocked, and the workers may print a traceback
    at a Ctrl-C. A no-op outside the main thread (signals are handled there only)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        return None
    # multiprocessing's resource tracker, started with the first worker process where it is not running, blocks
    # SIGINT and SIGTERM around its own start and then unblocks them in the thread that started it: the workers
    # started from that thread took Ctrl-C again. Started now, it is found running then.
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def _unblock_ctrl_c(blocked: object) -> None:
    """Undo _block_ctrl_c(): a Ctrl-C pending in this thread reaches the handler in force now."""
    if blocked is not None and signal.SIGINT not in blocked:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _deliver_held(held: list[int], handlers: Mapping[int, object]) -> None:
    """Act now on the first signal _signals_held held (`held`, emptied): Ctrl-C as KeyboardInterrupt, as
    _ctrl_c_kept's handler raises it, SIGTERM or SIGHUP through its handler in `handlers` (the CLI's raises
    Terminated; a default one ends the process as the signal would). Called as the run starts, for one that came
    while the local cluster started, and after the close, for one that came while it closed."""
    if not held:
        return
    first = held[0]
    held.clear()
    if first == signal.SIGINT:
        raise KeyboardInterrupt
    handler = handlers.get(first)
    if callable(handler):
        handler(first, None)
    elif handler != signal.SIG_IGN:                 # SIG_DFL, or None (not set from Python): the default action
        signal.signal(first, signal.SIG_DFL)
        signal.raise_signal(first)


@contextmanager
def _workers_log_critical() -> Iterator[None]:
    """While a local cluster starts its worker processes, which inherit it: their logging at critical only. Their
    warnings and errors when the cluster stops under them ("Async instruction ... ended with CancelledError", "Could
    not find data") are no news, and an error in a task reaches the client as its exception."""
    logging_level = os.environ.get(_WORKER_LOGGING)
    os.environ[_WORKER_LOGGING] = "critical"
    try:
        yield
    finally:
        if logging_level is None:
            os.environ.pop(_WORKER_LOGGING, None)
        else:
            os.environ[_WORKER_LOGGING] = logging_level


@contextmanager
def cluster_failures() -> Iterator[None]:
    """Where the cluster fails the run, raise UsageError (error[cluster-failed], exit 2: the machines failed, not the
    spec), as distributed reports it to a waiting future: KilledWorker (the workers that ran one task all died while
    running it, `distributed.scheduler.allowed-failures` + 1 of them, out of memory or killed), NoWorkerError (no
    worker running for `no-workers-timeout`), FutureCancelledError (the scheduler cancelled the tasks: its connection
    lost, the cluster closed) or CommClosedError (the connection to the scheduler closed). An error raised by the
    task itself (a PerfError of the spec) passes as it is."""
    from distributed.client import FutureCancelledError
    from distributed.comm.core import CommClosedError
    from distributed.scheduler import KilledWorker, NoValidWorkerError, NoWorkerError

    try:
        yield
    except KilledWorker as exc:
        tries = exc.allowed_failures + 1
        raise _failed("the Dask workers died while evaluating the sweep: " + (
                      f"one task ran on {tries} workers in turn, and each died while running it" if tries > 1 else
                      "the worker running one task died (the cluster allows no retry)"),
                      "a worker that dies is mostly out of memory or killed from outside: smaller chunks "
                      "(--chunk-points N) need less memory each; the workers' logs say more") from None
    except (NoWorkerError, NoValidWorkerError) as exc:
        raise _failed(f"the Dask cluster had no worker to run the sweep's tasks on for {exc.timeout:g} s",
                      "the workers could not be started or restarted: see their logs, or run without --dask "
                      "or --workers") from None
    except FutureCancelledError as exc:
        raise _failed(f"the Dask cluster cancelled the sweep's tasks ({exc.reason})",
                      "check that the scheduler is running, and run again") from None
    except CommClosedError as exc:
        raise _failed(f"the connection to the Dask scheduler closed: {exc}",
                      "check that the scheduler is running, and run again") from None


def _failed(message: str, hint: str) -> UsageError:
    return UsageError(error("cluster-failed", message, hints=[hint]))


class _Sent:
    """A program sent to the cluster of `client` (dask_worker.ship), and a task on each worker thread that prepares
    it there (dask_worker.warm) while the client prepares its own copy; a context manager that releases both."""

    def __init__(self, client, program, report: str | None):
        self.client = client
        shipped = ship(program)
        self.fingerprint = shipped.fingerprint
        self.blob = client.submit(held, shipped.blob, pure=False)
        # allow_other_workers: a warm-up whose worker is gone (restarted under a new address) runs on another, where
        # it costs nothing, rather than wait for that address (and fail after no-workers-timeout, with a log line)
        self.warming = [client.submit(warm, self.fingerprint, self.blob, report, workers=[address],
                                      allow_other_workers=True, pure=False)
                        for address, threads in client.nthreads().items() for _ in range(threads)]

    def submit(self, function, report: str | None, work, *args):
        """A future of function(program, report, work, *args) on a worker (dask_worker.on_worker)."""
        return self.client.submit(on_worker, function, self.fingerprint, self.blob, report, work, *args,
                                  pure=False)

    def __enter__(self) -> "_Sent":
        return self

    def __exit__(self, *exc) -> None:
        # The warm-ups are not waited for: where one has not run yet, the first task on that thread prepares.
        for future in self.warming:
            future.release()
        self.blob.release()


def _in_order(sent: _Sent, report, function, chunks, window: int, progress: Progress | None, total: int, *args):
    """The results of function(program, report, chunk, *args) for each chunk, in chunk order, `window` at most in
    flight."""
    pending: deque = deque()
    todo = iter(chunks)
    done = 0
    for chunk in itertools.islice(todo, window):
        pending.append((chunk, sent.submit(function, report, chunk, *args)))
    while pending:
        chunk, future = pending.popleft()
        value = future.result()
        _raise_if_interrupted()
        future.release()
        following = next(todo, None)
        if following is not None:
            pending.append((following, sent.submit(function, report, following, *args)))
        done += chunk.n_points
        if progress is not None:
            progress(done, total)
        yield value


def rows_on_dask(client, program, report: str | None = None, overrides: Mapping[str, object] | None = None, *,
                 chunk_points: int | None = None, progress: Progress | None = None,
                 window: int | None = None, limit: int | None = None
                 ) -> Iterator[tuple[list[str], list[np.ndarray], list]]:
    """The rows of each chunk of the report's sweep, evaluated on the cluster of `client`, in row order: (keys,
    columns, warnings), as streaming.evaluate_chunks's results give them with table(); with `limit`, each chunk's
    first `limit` rows only (a table's first rows: every chunk is still evaluated, for its warnings). Raises as
    Program.evaluate, and UsageError (cluster-failed) where the cluster fails the run (cluster_failures)."""
    program = program.with_overrides(overrides, report)
    report = program._pick_report(report)   # by name: the workers' programs know no file named on the command line
    with cluster_failures(), _Sent(client, program, report) as sent:
        ctx, _ = program.prepare(report)
        chunks = plan_chunks(ctx.shape, chunk_points or program.chunk_points(report))
        yield from _in_order(sent, report, chunk_rows, chunks, window or _window(client), progress, ctx.n_points,
                             limit)


def answer_on_dask(client, program, report: str | None = None, overrides: Mapping[str, object] | None = None, *,
                   chunk_points: int | None = None, progress: Progress | None = None,
                   window: int | None = None) -> Answer:
    """The answer to the report's question over its whole sweep, its chunks answered on the cluster of `client`
    and merged here: what streaming.answer_in_chunks gives. The chunks go out in runs of consecutive chunks,
    RUNS_PER_THREAD for each worker thread (dask_worker.answer_run); the first `window` runs before this machine
    prepares the program, so the workers start at once. Each later run takes the answer merged so far as its prior
    (streaming.chunk_answer), so a worker sends back only its run's points that beat it: a partial answer and the
    rows of those points, never a chunk's arrays. Raises ValueError for a report without a question, and UsageError
    (cluster-failed) where the cluster fails the run (cluster_failures)."""
    program = program.with_overrides(overrides, report)
    report = program._pick_report(report)   # by name: the workers' programs know no file named on the command line
    with cluster_failures(), _Sent(client, program, report) as sent:
        n_runs = _threads(client) * RUNS_PER_THREAD
        pending: deque = deque()
        submitted = 0

        def submit(prior) -> None:
            nonlocal submitted
            pending.append((submitted, sent.submit(answer_run, report, (chunk_points, submitted, n_runs), prior)))
            submitted += 1

        for _ in range(min(n_runs, window or _window(client))):
            submit(None)
        ctx, _ = program.prepare(report)
        if not ctx.report.questions:
            raise ValueError(f"report '{ctx.report.name}' asks no question to answer (best, largest, smallest, "
                             "pareto)")
        chunks = cluster_chunks(program, report, chunk_points, n_runs)
        merging = Merging(program, report)
        while pending:
            index, future = pending.popleft()
            answered = future.result()
            _raise_if_interrupted()
            future.release()
            run = run_of(chunks, index, n_runs)
            if run:
                if answered is None:
                    raise RuntimeError(f"a Dask worker could not answer report '{ctx.report.name}', which this "
                                       "machine prepared: do the workers run the same perfdsl?")
                merging.add(answered)
            if submitted < min(n_runs, len(chunks)):
                submit(merging.partial)
            if progress is not None:
                progress(merging.done(sum(chunk.n_points for chunk in run)), ctx.n_points)
        answered = merging.answer()
        answered.n_chunks, answered.workers = len(chunks), len(client.nthreads())
        return answered


def _threads(client) -> int:
    return sum(client.nthreads().values()) or 1


def _window(client) -> int:
    """Tasks in flight: two per worker thread, so every worker has the next chunk (or run) at hand."""
    return 2 * _threads(client)
