"""What runs on a Dask worker (stage 4c, beyond one machine): a program shipped once, rebuilt and prepared once per
worker thread, and a chunk evaluated with it (distributed.py sends the tasks).

A program travels as the pickle of what it is built from (its parsed files, with the overrides applied, and the
overrides' texts: Program's constructor arguments), 1.1 MB for capacity_questions.perf, named by a fingerprint of
those bytes. A worker thread keeps the programs it built, prepared (linked, checked, the axes of each cell and the
constants found), under their fingerprints: a later run of the same program, with the same overrides, on the same
cluster reuses it and prepares nothing. Measured on the 2-core machine (capacity_questions.perf, latency_throughput,
1e7 points, before formulas were compiled, main 613e652): preparing cost a worker about 1 s before its first chunk
(unpickling a whole Program 0.1-0.25 s, linking and checking 0.3-0.45 s, the cells' axes 0.35 s, the constants
0.1-0.3 s), while a chunk of 665,600 points cost 0.06-0.15 s.

The fingerprint is blake2b of the pickled bytes, so two programs share one only where their pickles are equal byte
for byte: equal files, equal overrides. A program built elsewhere from the same text may pickle differently (pydantic
keeps a set of field names in each node, whose order follows the process's string hashing), which costs a rebuild,
never a wrong answer. Each worker thread has its own copies, so no two threads share a program's caches.
"""

from __future__ import annotations

import hashlib
import pickle
import threading
from collections import OrderedDict
from dataclasses import dataclass

from .errors import PerfError
from .streaming import ChunkAnswer, Merging, chunk_answer, question_chunks

# Programs a worker thread keeps, the least recently used dropped first: a few sweeps of the same files with
# different overrides (a notebook's what-ifs) stay warm, and a long-lived worker's memory stays bounded.
KEPT_PER_THREAD = 4

_local = threading.local()
_built_lock = threading.Lock()
_built = 0                             # programs rebuilt in this process (built(): what the tests count)


@dataclass(frozen=True)
class Shipped:
    """A program as sent to the workers: `blob` (pickled constructor arguments) and its `fingerprint` (hex)."""

    fingerprint: str
    blob: bytes


def ship(program) -> Shipped:
    """The program's constructor arguments, pickled (its files as parsed, with overrides applied, and the overrides'
    texts; none of its caches), and their fingerprint. 0.04-0.08 s for capacity_questions.perf."""
    blob = pickle.dumps((type(program), program.modules, program._extra_sources), protocol=pickle.HIGHEST_PROTOCOL)
    return Shipped(hashlib.blake2b(blob, digest_size=20).hexdigest(), blob)


def held(blob: bytes) -> bytes:
    """The shipped program's bytes, as the result of a task (distributed.py's _Sent): the scheduler keeps the task,
    so the bytes can be made again on a new worker after every worker holding them died."""
    return blob


def worker_program(fingerprint: str, blob: bytes):
    """The program shipped as `blob`: this thread's copy under `fingerprint`, built from the blob the first time
    (later calls reuse the copy and everything it has prepared)."""
    global _built
    kept: OrderedDict | None = getattr(_local, "programs", None)
    if kept is None:
        kept = _local.programs = OrderedDict()
    program = kept.get(fingerprint)
    if program is not None:
        kept.move_to_end(fingerprint)
        return program
    cls, modules, extra_sources = pickle.loads(blob)
    program = kept[fingerprint] = cls(modules, extra_sources)
    while len(kept) > KEPT_PER_THREAD:
        kept.popitem(last=False)
    with _built_lock:
        _built += 1
    return program


def built() -> int:
    """Programs rebuilt from a blob in this process so far (every worker thread of it together)."""
    return _built


def warm(fingerprint: str, blob: bytes, report: str | None) -> None:
    """Build and prepare the program on this worker thread before its first chunk (a task sent to each worker while
    the client prepares the same program): it is linked and checked, its cells' axes found (chunk_points reads
    them; the chunks' constants do too) and, for a question, how its chunks are planned and answered. A program
    with an error is left to the client, which prepares the same program and raises it (a failed task here would
    only add the worker's log of it to stderr)."""
    try:
        program = worker_program(fingerprint, blob)
        if program.prepare(report)[0].report.questions:
            question_chunks(program, report)         # candidates.plan: how chunks are answered, found once
        else:
            program.chunk_points(report)
    except PerfError:
        pass


def on_worker(function, fingerprint: str, blob: bytes, report: str | None, work, *args):
    """function(program, report, work, *args) with this thread's copy of the shipped program (streaming.chunk_rows
    of a chunk, answer_run of a run of chunks)."""
    return function(worker_program(fingerprint, blob), report, work, *args)


def run_of(chunks: list, index: int, count: int) -> list:
    """Run `index` of `count`: the chunks cut into `count` runs of consecutive chunks whose lengths differ by one
    at most, the longer first (empty runs last where there are fewer chunks than runs)."""
    size, longer = divmod(len(chunks), count)
    start = index * size + min(index, longer)
    return chunks[start:start + size + (index < longer)]


def cluster_chunks(program, report: str | None, chunk_points: int | None, runs: int) -> list:
    """The chunks of a question's sweep for a cluster that answers it in `runs` runs: streaming.question_chunks of
    `chunk_points` a chunk; by default its own plan, or chunks of n_points / runs points where that plan has fewer
    chunks than runs (its chunks are sized for one machine's memory: 3 of them over 3e7 points of
    latency_throughput, which would keep all but 3 worker threads idle). The same on the client and every worker
    (the same program and arguments). Raises as Program.prepare."""
    chunks = question_chunks(program, report, chunk_points)
    if chunk_points is None and len(chunks) < runs:
        n_points = program.prepare(report)[0].n_points
        chunks = question_chunks(program, report, max(1, -(-n_points // runs)))
    return chunks


def answer_run(program, report: str | None, run: tuple[int | None, int, int], prior=None) -> ChunkAnswer | None:
    """The report's question over run (chunk_points, index, count) of its sweep: run_of(index, count) of
    cluster_chunks(chunk_points, count). The worker plans the chunks itself (the same plan as the client's: the
    same program), so the client can send the first runs before it has prepared the program. Its chunks
    are answered one after the other, each with the answer before it as its prior (as streaming.answer_in_chunks
    does), and sent back as one chunk's answer: the partial answer (`prior` included) and the rows of its points
    among the run's. The client merges one answer a run rather than one a chunk, and within a run no chunk reduces
    points its predecessor already beat. None where the run is empty, or the program does not prepare or asks no
    question (the client, preparing the same program, raises that error itself)."""
    chunk_points, index, count = run
    try:
        ctx, _ = program.prepare(report)
    except PerfError:
        return None
    if not ctx.report.questions:
        return None
    chunks = run_of(cluster_chunks(program, report, chunk_points, count), index, count)
    if not chunks:
        return None
    merging = Merging(program, report)
    merging.partial = prior
    for chunk in chunks:
        merging.add(chunk_answer(program, report, chunk, merging.partial), replaces=True)
    return merging.as_chunk_answer(merged=prior is not None)
