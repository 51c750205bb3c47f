"""A Dask cluster that fails a run ends it with error[cluster-failed] (exit status 2) instead of a traceback or a
wait without end, through distributed's own mechanisms (distributed.py: cluster_failures, LOCAL_SCHEDULER); workers
restarted mid-run (as the scheduler restarts a worker that stops heartbeating) cost the run nothing, as the program
is held by a task the scheduler can run again rather than by scattered data lost with its workers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import perfdsl
from perfdsl import cli
from perfdsl.errors import UsageError
from perfdsl.streaming import evaluate_chunks

distributed = pytest.importorskip("distributed", reason="dask.distributed is in the dev extra")
dask = pytest.importorskip("dask")

REPO = Path(__file__).resolve().parent.parent
CAPACITY = REPO / "reports" / "capacity_planning.perf"
SPEC = "report r { sweep a = 1 .. 300; sweep b = 1 .. 70; q = a * b + b / a; show q }\n"


def test_a_cluster_without_workers_ends_the_run_with_an_error(tmp_path, capsys):
    """A scheduler with no worker (none started, or all gone for good) and distributed's no-workers-timeout (1 s
    here; 60 s on the local cluster of --workers): the tasks fail after it, and the run ends with exit status 2.
    Without the timeout (distributed's default) the run waited for ever without a word."""
    (tmp_path / "r.perf").write_text(SPEC)
    out = tmp_path / "out.csv"
    with dask.config.set({"distributed.scheduler.no-workers-timeout": "1s"}), \
            distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None) as empty:
        status = cli.main(["eval", str(tmp_path / "r.perf"), "--chunk-points", "1000", "--dask",
                           empty.scheduler_address, "-o", str(out)])
    assert (status, capsys.readouterr().err) == (2, (
        "error[cluster-failed]: the Dask cluster had no worker to run the sweep's tasks on for 1 s\n"
        "  = help: the workers could not be started or restarted: see their logs, or run without --dask or "
        "--workers\n\n"
        "1 error\n"))
    assert not out.exists()


def test_a_task_whose_workers_die_is_an_error_not_a_traceback():
    """KilledWorker, as distributed raises it: the worker process running a task dies (os._exit in the task),
    `allowed-failures` times (0 here: no retry) after the first; a local cluster of worker processes, as --workers
    starts (dask_client)."""
    from perfdsl.distributed import cluster_failures, dask_client

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), dask_client(workers=1) as client:
        with pytest.raises(UsageError) as raised, cluster_failures():
            client.submit(os._exit, 1, pure=False).result()
    assert raised.value.exit_status == 2
    assert raised.value.render() == (
        "error[cluster-failed]: the Dask workers died while evaluating the sweep: the worker running one task died "
        "(the cluster allows no retry)\n"
        "  = help: a worker that dies is mostly out of memory or killed from outside: smaller chunks "
        "(--chunk-points N) need less memory each; the workers' logs say more")


def test_workers_restarted_mid_run_give_the_serial_rows():
    """Every worker restarted after the first chunk (Client.restart_workers: what the scheduler does to workers that
    stop heartbeating for worker-ttl): the program they held is made again by its task, and the run goes on to the
    serial rows. Held as scattered data, it was lost with them, and every later task was cancelled
    (FutureCancelledError: 'already forgotten')."""
    from perfdsl.distributed import dask_client, rows_on_dask

    program = perfdsl.load(CAPACITY).with_overrides({"tp": "[1, 4]", "model": "[opt_125m, gpt2, llama3_1_8b, "
                                                                              "qwen2_5_7b]"})
    serial = [result.table() for _, result in evaluate_chunks(program, chunk_points=4_000)]
    with dask_client(workers=2) as client:
        chunks = rows_on_dask(client, program, chunk_points=4_000, window=2)
        on_dask = [next(chunks)]
        client.restart_workers(list(client.nthreads()))
        on_dask += list(chunks)
    # 4 models x (13 x 9 x 9 x 7 x 2 = 14,742 points each) in chunks of 4,000: 4 x ceil(14,742 / 4,000) = 16 or so
    assert len(on_dask) == len(serial) > 2
    for (keys, columns, _), (serial_keys, serial_columns) in zip(on_dask, serial):
        assert keys == serial_keys
        assert all(a.tolist() == b.tolist() for a, b in zip(columns, serial_columns))
