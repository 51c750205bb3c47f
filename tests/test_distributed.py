"""The chunks of a sweep on Dask (issue 10): a LocalCluster started in this process gives the serial run's rows and
answers, value for value; the command line writes the same file with --dask as without."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import perfdsl
from perfdsl import cli
from perfdsl.streaming import answer_in_chunks, evaluate_chunks

distributed = pytest.importorskip("distributed", reason="dask.distributed is in the dev extra")

REPO = Path(__file__).resolve().parent.parent
CAPACITY = REPO / "reports" / "capacity_planning.perf"
QUESTIONS = REPO / "reports" / "capacity_questions.perf"


@pytest.fixture(scope="module")
def cluster():
    # In process (threads): no worker processes to start, and the test's own modules are the workers' modules.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as local:
        yield local


@pytest.fixture
def client(cluster):
    with distributed.Client(cluster) as connected:
        yield connected


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype.kind == "f" and b.dtype.kind == "f":
        return a.shape == b.shape and np.array_equal(a.view(np.int64), b.view(np.int64))
    return a.tolist() == b.tolist()


def test_rows_on_dask_equal_the_serial_run(client):
    from perfdsl.distributed import rows_on_dask

    program = perfdsl.load(CAPACITY).with_overrides({"tp": "[1, 4]"})
    serial = [result.table() for _, result in evaluate_chunks(program, chunk_points=40_000)]
    on_dask = list(rows_on_dask(client, program, chunk_points=40_000, window=3))
    # 30 models x (13 x 9 x 9 x 7 x 2 = 14,742 points each): 40,000 // 14,742 = 2 models a chunk, 15 chunks
    assert len(on_dask) == len(serial) == 30 // 2
    for (keys, columns, _), (serial_keys, serial_columns) in zip(on_dask, serial):
        assert keys == serial_keys
        assert all(_same(a, b) for a, b in zip(columns, serial_columns))


@pytest.mark.parametrize("report", ["cheapest_setup", "latency_throughput"])
def test_answers_on_dask_equal_the_serial_and_the_whole_answer(client, report):
    from perfdsl.distributed import answer_on_dask

    program = perfdsl.load(QUESTIONS)
    on_dask = answer_on_dask(client, program, report, chunk_points=30_000)
    serial = answer_in_chunks(program, report, chunk_points=30_000)
    whole = program.evaluate(report)
    assert on_dask.keys == serial.keys == whole.table()[0]
    assert all(_same(a, b) for a, b in zip(on_dask.columns, whole.table()[1]))
    assert all(_same(a, b) for a, b in zip(on_dask.columns, serial.columns))
    assert [d.render() for d in on_dask.warnings] == [d.render() for d in whole.warnings]


def test_eval_with_dask_writes_the_serial_file(cluster, tmp_path, capsys):
    (tmp_path / "mid.perf").write_text(
        "report r { sweep a = 1 .. 300; sweep b = 1 .. 70; q = a * b + b / a; w = q > 5; show q, w, b }\n")
    serial, on_dask = tmp_path / "serial.csv", tmp_path / "dask.csv"
    assert cli.main(["eval", str(tmp_path / "mid.perf"), "-o", str(serial), "--chunk-points", "1000"]) == 0
    assert cli.main(["eval", str(tmp_path / "mid.perf"), "-o", str(on_dask), "--chunk-points", "1000",
                     "--dask", cluster.scheduler_address]) == 0
    assert on_dask.read_bytes() == serial.read_bytes()
    assert capsys.readouterr().err.endswith(f"wrote {on_dask} (21,000 rows)\n")


def test_workers_below_one_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "r.perf").write_text("report r { sweep a = 1 .. 3; show a }\n")
    assert cli.main(["eval", str(tmp_path / "r.perf"), "--workers", "0"]) == 2
    assert capsys.readouterr().err.startswith("error[bad-option]: --workers 0: a cluster has at least one worker\n")


def test_an_unreachable_scheduler_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "r.perf").write_text("report r { sweep a = 1 .. 3; show a }\n")
    assert cli.main(["eval", str(tmp_path / "r.perf"), "--dask", "tcp://127.0.0.1:9"]) == 2
    assert capsys.readouterr().err.startswith("error[bad-option]: cannot reach the Dask scheduler at "
                                              "'tcp://127.0.0.1:9': ")
