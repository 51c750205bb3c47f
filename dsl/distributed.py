"""The chunks of a sweep on a Dask cluster (stage 4c, beyond one machine): the same chunks as streaming.py, each
evaluated on a worker, their rows or partial answers gathered in row order, so the results are those of the serial
run, value for value.

    perfdsl eval REPORT -o out.csv --dask tcp://scheduler:8786     # a running cluster
    perfdsl eval REPORT -o out.csv --workers 4                     # a local cluster of 4 processes

The program (its parsed files, with the overrides applied) is sent to every worker once (`Client.scatter`,
broadcast, and prepared there once); each task gets a chunk (`chunks.Chunk`: a slice of the axes, about 256 MiB of
arrays) and sends back its rows (streaming.chunk_rows) or, for a question, its partial answer reduced with the answer
merged so far and the rows of the points that beat it (streaming.chunk_answer): numbers, never a chunk's arrays. At
most `window` chunks are in flight, so the client holds a bounded
number of chunks' rows however large the sweep. dask.distributed is optional (`pip install perfdsl[dask]`).
"""

from __future__ import annotations

import itertools
from collections import deque
from contextlib import contextmanager
from typing import Callable, Iterator, Mapping

import numpy as np

from .chunks import plan_chunks
from .errors import UsageError, error
from .extras import require
from .streaming import Answer, Merging, chunk_answer, chunk_rows

Progress = Callable[[int, int], None]


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
    cluster = distributed.LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _in_order(client, program, report, function, chunks, window: int, progress: Progress | None, total: int):
    """The results of function(program, report, chunk) for each chunk, in chunk order, `window` at most in flight."""
    shared = client.scatter(program, broadcast=True)
    pending: deque = deque()
    todo = iter(chunks)
    done = 0
    for chunk in todo:
        pending.append((chunk, client.submit(function, shared, report, chunk, pure=False)))
        if len(pending) >= window:
            break
    while pending:
        chunk, future = pending.popleft()
        value = future.result()
        future.release()
        following = next(todo, None)
        if following is not None:
            pending.append((following, client.submit(function, shared, report, following, pure=False)))
        done += chunk.n_points
        if progress is not None:
            progress(done, total)
        yield value


def rows_on_dask(client, program, report: str | None = None, overrides: Mapping[str, object] | None = None, *,
                 chunk_points: int | None = None, progress: Progress | None = None,
                 window: int | None = None) -> Iterator[tuple[list[str], list[np.ndarray], list]]:
    """The rows of each chunk of the report's sweep, evaluated on the cluster of `client`, in row order: (keys,
    columns, warnings), as streaming.evaluate_chunks's results give them with table(). Raises as Program.evaluate."""
    program = program.with_overrides(overrides, report)
    ctx, _ = program.prepare(report)
    chunks = plan_chunks(ctx.shape, chunk_points or program.chunk_points(report))
    yield from _in_order(client, program, report, chunk_rows, chunks, window or _window(client), progress,
                         ctx.n_points)


def answer_on_dask(client, program, report: str | None = None, overrides: Mapping[str, object] | None = None, *,
                   chunk_points: int | None = None, progress: Progress | None = None,
                   window: int | None = None) -> Answer:
    """The answer to the report's question over its whole sweep, its chunks answered on the cluster of `client`
    and merged here: what streaming.answer_in_chunks gives. Each task takes the answer merged so far as its prior
    (streaming.chunk_answer), so a worker sends back only its chunk's points that beat it: a partial answer and the
    rows of those points, never a chunk's arrays. Raises ValueError for a report without a question."""
    program = program.with_overrides(overrides, report)
    ctx, _ = program.prepare(report)
    if not ctx.report.questions:
        raise ValueError(f"report '{ctx.report.name}' asks no question to answer (best, largest, smallest, pareto)")
    chunks = plan_chunks(ctx.shape, chunk_points or program.chunk_points(report))
    merging = Merging(program, report)
    shared = client.scatter(program, broadcast=True)
    window = window or _window(client)
    pending: deque = deque()
    todo = iter(chunks)

    def submit(chunk) -> None:
        pending.append((chunk, client.submit(chunk_answer, shared, report, chunk, merging.partial, pure=False)))

    for chunk in itertools.islice(todo, window):
        submit(chunk)
    while pending:
        chunk, future = pending.popleft()
        merging.add(future.result())
        future.release()
        following = next(todo, None)
        if following is not None:
            submit(following)
        if progress is not None:
            progress(merging.done(chunk.n_points), ctx.n_points)
    return merging.answer()


def _window(client) -> int:
    """Chunks in flight: two per worker thread, so every worker has the next chunk at hand."""
    threads = sum(client.nthreads().values()) or 1
    return 2 * threads
