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


@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_eval_with_dask_to_stdout_counts_every_chunks_warnings(cluster, tmp_path, capsys, fmt):
    """A table on stdout took the first chunk's rows and counted its warnings only; every chunk is evaluated now,
    on the workers, each sending back at most the table's rows."""
    (tmp_path / "k.perf").write_text(
        "report r { sweep batch = 1 .. 100; sweep k = [1, 2, 3]; q = k * batch; require k <= 2, \"k is at most 2\";"
        " show q }\n")
    args = ["eval", str(tmp_path / "k.perf"), "--quiet", "--format", fmt]
    assert cli.main(args) == 0
    whole = capsys.readouterr()
    # k = 3 at every batch: 100 x 1 of 100 x 3 points
    assert f"k is at most 2: {100 * 1} of {100 * 3} sweep points break it" in whole.err
    assert cli.main(args + ["--chunk-points", "30", "--dask", cluster.scheduler_address]) == 0
    on_dask = capsys.readouterr()
    assert on_dask.out == whole.out
    # The table's 200 rows are all that the sweep keeps, which the workers do not count: on Dask its line bounds
    # the rows by the points, after the warnings, where a whole run's line stands
    note = ("" if fmt != "table" else f"... the rows after the first 200 not shown (of up to {100 * 3}, one per sweep "
            "point); use --format csv, or -o FILE.csv, -o FILE.jsonl or -o FILE.parquet, for all\n")
    assert on_dask.err[on_dask.err.index("warning["):] == whole.err[whole.err.index("warning["):] + note


def test_a_table_of_chunks_on_dask_says_its_rows_are_at_most_the_sweeps_points(cluster, tmp_path, capsys):
    # The workers send back a table's first rows only, so the rows left out are not counted there: the sweep's
    # points bound them (the serial run counts them: test_chunks).
    (tmp_path / "w.perf").write_text("report r { sweep a = 1 .. 1000; where a != 500; show a }\n")
    assert cli.main(["eval", str(tmp_path / "w.perf"), "--chunk-points", "100", "--dask",
                     cluster.scheduler_address]) == 0
    assert capsys.readouterr().err == ("... the rows after the first 200 not shown (of up to 1,000, one per sweep "
                                       "point); use --format csv, or -o FILE.csv, -o FILE.jsonl or -o FILE.parquet, "
                                       "for all\n")

def test_workers_below_one_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "r.perf").write_text("report r { sweep a = 1 .. 3; show a }\n")
    assert cli.main(["eval", str(tmp_path / "r.perf"), "--workers", "0"]) == 2
    assert capsys.readouterr().err.startswith("error[bad-option]: --workers 0: a cluster has at least one worker\n")


def test_an_unreachable_scheduler_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "r.perf").write_text("report r { sweep a = 1 .. 3; show a }\n")
    assert cli.main(["eval", str(tmp_path / "r.perf"), "--dask", "tcp://127.0.0.1:9"]) == 2
    assert capsys.readouterr().err.startswith("error[bad-option]: cannot reach the Dask scheduler at "
                                              "'tcp://127.0.0.1:9': ")



@pytest.mark.parametrize("address, said", [
    ("notanaddress", "--dask notanaddress: no port in the address of the Dask scheduler"),
    ("tcp://127.0.0.1", "--dask tcp://127.0.0.1: no port in the address of the Dask scheduler"),
    ("tcp://:8786", "--dask tcp://:8786: no host in the address of the Dask scheduler"),
    ("tcp://h:99999", "--dask tcp://h:99999: '99999' is not a port (1 to 65535) in the address of the Dask scheduler"),
    ("http://127.0.0.1:8787", "--dask http://127.0.0.1:8787: 'http://' is not a scheme of a Dask scheduler "
                              "(tcp, tls, ws, wss, ucx)"),
    ("", "--dask '': the address of the Dask scheduler is empty"),
])
def test_a_malformed_scheduler_address_is_a_usage_error_before_connecting(tmp_path, capsys, address, said):
    # distributed's ValueError was error[internal], exit 1; "" (an unset shell variable) ran serially, exit 0.
    (tmp_path / "r.perf").write_text("report r { sweep a = 1 .. 3; show a }\n")
    assert cli.main(["eval", str(tmp_path / "r.perf"), "-q", "--dask", address, "--format", "csv"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"error[bad-option]: {said}\n  = help: give the scheduler's address as "
                                   "tcp://HOST:8786 (its scheme, host and port; 8786 is dask's default)")


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:8786", "127.0.0.1:8786", "tcp://[::1]:8786", "tls://h:1"])
def test_a_well_formed_scheduler_address_passes_the_check(address):
    from perfdsl.distributed import check_address

    check_address(address)          # no error: whether a scheduler answers there is the connection's to say


# -- the program kept on each worker (dask_worker.py), and the runs of chunks a worker answers ---------------------

@pytest.fixture(scope="module")
def questions():
    """capacity_questions.perf, loaded once."""
    return perfdsl.load(QUESTIONS)


@pytest.fixture(scope="module")
def small(questions):
    """capacity_questions.perf over 2 batches (30 models x 13 GPUs x 2 batches x 4 tp = 3,120 points), one program
    for the module: each report is prepared once here and once on each worker thread."""
    return questions.with_overrides({"batch": "[1, 64]"}, "latency_throughput")


def _records_equal(a, b) -> bool:
    return a.keys == b.keys and all(_same(x, y) for x, y in zip(a.columns, b.columns))


@pytest.mark.parametrize("report, runs_per_thread", [("latency_throughput", 1), ("cheapest_setup", 8),
                                                     ("latency_throughput", 8), ("cheapest_setup", 1000)])
def test_runs_of_chunks_give_the_serial_answer(client, small, monkeypatch, report, runs_per_thread):
    from perfdsl import distributed as on_dask

    # 30 models x 13 GPUs x 2 batches x 4 tp = 3,120 points; 150 points a chunk: one model (104 points), so 30
    # chunks. Two worker threads: 2 runs of 15 chunks; 16 runs of 2 (14 of them) or 1; 30 runs of 1, 1,970 empty.
    monkeypatch.setattr(on_dask, "RUNS_PER_THREAD", runs_per_thread)
    answered = on_dask.answer_on_dask(client, small, report, chunk_points=150)
    serial = answer_in_chunks(small, report, chunk_points=150)
    assert _records_equal(answered, serial) and answered.records() == serial.records()
    assert [d.render() for d in answered.warnings] == [d.render() for d in serial.warnings]


def test_the_chunks_are_cut_into_runs_of_consecutive_chunks():
    from perfdsl.chunks import plan_chunks
    from perfdsl.dask_worker import run_of

    chunks = plan_chunks((30, 13, 9, 4), 300)                 # 2 chunks a model: 60
    runs = [run_of(chunks, index, 16) for index in range(16)]  # 2 worker threads x RUNS_PER_THREAD (8)
    assert [len(run) for run in runs] == [4] * 12 + [3] * 4   # 60 = 16 x 3 + 12: the first 12 runs take one more
    assert [chunk for run in runs for chunk in run] == chunks
    assert [len(run_of(chunks[:5], index, 16)) for index in range(16)] == [1] * 5 + [0] * 11


def test_a_repeated_run_prepares_nothing_again_on_the_workers(client, questions, small):
    from perfdsl.dask_worker import built
    from perfdsl.distributed import answer_on_dask

    first = answer_on_dask(client, small, "latency_throughput", chunk_points=150)
    before = built()
    # the same files and overrides, in a new program object (as every run with overrides makes)
    again = answer_on_dask(client, questions, "latency_throughput", {"batch": "[1, 64]"}, chunk_points=150)
    assert built() == before                                 # both worker threads kept their prepared copy
    assert _records_equal(first, again)


def test_other_overrides_or_files_are_another_program_on_the_workers(client, questions, small):
    from perfdsl.dask_worker import built
    from perfdsl.distributed import answer_on_dask

    answer_on_dask(client, small, "latency_throughput", chunk_points=150)
    before = built()
    other = answer_on_dask(client, questions, "latency_throughput", {"batch": "[2, 16]"}, chunk_points=150)
    assert built() == before + 2                             # one new copy on each of the two worker threads
    assert _records_equal(other, answer_in_chunks(questions, "latency_throughput", {"batch": "[2, 16]"},
                                                  chunk_points=150))
    assert set(other.columns[other.keys.index("batch")].tolist()) <= {2, 16}

    text = "report r { sweep a = 1 .. 300; sweep b = 1 .. 70; q = a * b + b / a; show q; best max q per b }\n"
    edited = text.replace("b / a", "b / a - a")
    answers = [answer_on_dask(client, perfdsl.load([], texts={"r.perf": t}), chunk_points=1000)
               for t in (text, edited)]
    assert answers[0].records() != answers[1].records()
    assert answers[1].records() == answer_in_chunks(perfdsl.load([], texts={"r.perf": edited}),
                                                    chunk_points=1000).records()


def test_a_fingerprint_names_the_files_and_overrides_of_a_program(questions):
    from perfdsl.dask_worker import ship

    program = questions
    same = perfdsl.load(QUESTIONS)
    assert ship(program).fingerprint == ship(same).fingerprint
    program.prepare("latency_throughput")                   # a program's caches are not shipped
    assert ship(program) == ship(same)
    batches = program.with_overrides({"batch": "[1, 8]"}, "latency_throughput")
    assert ship(batches) == ship(same.with_overrides({"batch": "[1, 8]"}, "latency_throughput"))
    assert ship(batches).fingerprint != ship(program).fingerprint
    assert ship(batches).fingerprint != ship(program.with_overrides({"batch": "[1, 9]"}, "latency_throughput")
                                             ).fingerprint
    text = "report r { sweep a = 1 .. 30; q = a + 1; best max q }\n"
    assert ship(perfdsl.load([], texts={"r.perf": text})) == ship(perfdsl.load([], texts={"r.perf": text}))
    assert ship(perfdsl.load([], texts={"r.perf": text})).fingerprint != \
        ship(perfdsl.load([], texts={"r.perf": text.replace("a + 1", "a + 2")})).fingerprint


def test_a_worker_thread_keeps_its_latest_programs():
    from perfdsl import dask_worker

    shipped = [dask_worker.ship(perfdsl.load([], texts={"r.perf": f"report r {{ sweep a = 1 .. {n}; "
                                                                          "show a }\n"}))
               for n in range(2, 3 + dask_worker.KEPT_PER_THREAD)]
    first = dask_worker.worker_program(shipped[0].fingerprint, shipped[0].blob)
    assert dask_worker.worker_program(shipped[0].fingerprint, shipped[0].blob) is first
    assert first.prepare()[0].n_points == 2
    for later in shipped[1:]:                                  # KEPT_PER_THREAD more: the first is dropped
        dask_worker.worker_program(later.fingerprint, later.blob)
    rebuilt = dask_worker.worker_program(shipped[0].fingerprint, shipped[0].blob)
    assert rebuilt is not first and rebuilt.prepare()[0].n_points == 2


def test_a_spec_error_is_raised_by_the_client_and_the_cluster_goes_on(client):
    from perfdsl.distributed import answer_on_dask
    from perfdsl.errors import PerfError

    broken = perfdsl.load([], texts={"r.perf": "report r { sweep a = 1 .. 30; q = a + 1 s; show q; "
                                                       "best max q }\n"})
    with pytest.raises(PerfError) as raised:
        answer_on_dask(client, broken, chunk_points=10)
    assert raised.value.diagnostics[0].code == "unit-mismatch"
    fine = perfdsl.load([], texts={"r.perf": "report r { sweep a = 1 .. 30; q = a + 1; show q; best max q }\n"})
    assert answer_on_dask(client, fine, chunk_points=10).records() == [{"a": 30, "q": 31}]


def test_a_cluster_gets_enough_chunks_and_the_serial_answer(client, small):
    from perfdsl.dask_worker import cluster_chunks
    from perfdsl.distributed import answer_on_dask
    from perfdsl.streaming import question_chunks

    # 3,120 points: one chunk on one machine; for 16 runs (2 threads x RUNS_PER_THREAD) chunks of at most
    # ceil(3,120 / 16) = 195 points: one model (104 points) each, 30 chunks
    assert len(question_chunks(small, "latency_throughput")) == 1
    chunks = cluster_chunks(small, "latency_throughput", None, 16)
    assert len(chunks) == 30 and {chunk.n_points for chunk in chunks} == {104}
    assert cluster_chunks(small, "latency_throughput", 5000, 16) == question_chunks(small, "latency_throughput", 5000)
    for report in ("latency_throughput", "cheapest_setup"):
        assert answer_on_dask(client, small, report).records() == answer_in_chunks(small, report).records()


def test_ctrl_c_during_a_local_cluster_run_stops_it_without_tracebacks(tmp_path):
    """Ctrl-C in a terminal reaches the whole process group: the workers of `--workers N` start with SIGINT
    ignored, and the client stops them quietly (exit 130, "interrupted", no output file)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "out.csv"
    sets = ["--set", "model=llama3_1_8b,qwen2_5_7b,mixtral_8x7b", "--set", "batch=1..3000"]
    process = subprocess.Popen([sys.executable, "-m", "perfdsl.cli", "eval", str(CAPACITY), *sets,
                                "--chunk-points", "100000", "--workers", "2", "-o", str(out)],
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".out.csv.*")) and time.monotonic() < deadline:   # rows are being written
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130
    # before any row is written, a note of the predicted size (output_size.check): about 4 GB here, above 1 GB
    note, stop = err.splitlines()
    assert note.startswith(f"note: {out} will take about ") and note.endswith(" bytes a row as CSV)")
    assert stop == "interrupted"
    assert not out.exists()


def test_ctrl_c_while_the_local_cluster_starts_stops_the_run(tmp_path):
    """Ctrl-C pressed while `--workers N` starts its local cluster (2 to 2.5 s here) was lost: SIGINT was ignored
    in the client while its worker processes were started, so that they would not take it, and the run went on to
    its end with exit status 0 (a newcomer's run wrote 7.7 GB in 11 minutes after it). It is held until the run
    can stop (exit 130, "interrupted", no output file), and the workers, started with it blocked, print nothing."""
    import os
    import signal
    import subprocess
    import sys
    import time

    psutil = pytest.importorskip("psutil", reason="distributed's dependency")
    out = tmp_path / "out.csv"
    sets = ["--set", "model=llama3_1_8b,qwen2_5_7b,mixtral_8x7b", "--set", "batch=1..3000"]
    process = subprocess.Popen([sys.executable, "-m", "perfdsl.cli", "eval", str(CAPACITY), *sets,
                                "--chunk-points", "100000", "--workers", "2", "-q", "-o", str(out)],
                               stderr=subprocess.PIPE, text=True, start_new_session=True)

    def a_worker_started() -> bool:           # a worker process (not multiprocessing's resource tracker)
        try:
            return any("spawn_main" in " ".join(child.cmdline())
                       for child in psutil.Process(process.pid).children(recursive=True))
        except psutil.Error:                  # a child that ended between the listing and its cmdline
            return False

    try:
        deadline = time.monotonic() + 120
        while not a_worker_started() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert process.poll() is None, "the run ended before its cluster started"
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=60)      # the run itself takes minutes: it went on without a word
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert (process.returncode, err) == (130, "interrupted\n")
    assert not out.exists() and not list(tmp_path.glob(".out.csv.*"))


@pytest.mark.parametrize("signum, status, said", [(2, 130, "interrupted\n"), (15, 143, "terminated by signal 15\n")],
                         ids=["SIGINT", "SIGTERM"])
def test_ctrl_c_while_the_local_cluster_closes_ends_the_run_promptly(tmp_path, signum, status, said):
    """Ctrl-C (or SIGTERM: a caller's timeout) just after the `wrote` line lands while the local cluster closes.
    Raised there, it skipped or broke off the close (once inside logging's lock, which stayed taken), and
    distributed's exit hook waited out its timeouts: 10.7-13.2 s from Ctrl-C to the end of the process (2 cores), and
    15.4 s once in 14 runs for SIGTERM, against 0.4-2.4 s (2-3 s under load 6) now that the close finishes first
    (then exit 130, or 143)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    spec = tmp_path / "big.perf"
    spec.write_text("workload w {\n    sweep n_gpus = 1 .. 300000\n}\ncostmodel c { runtime = 10 ms * workload.n_gpus }\n"
                    "report r {\n    workload = w\n    show c.runtime in ms as runtime\n}\n")
    out = tmp_path / "out.csv"
    process = subprocess.Popen([sys.executable, "-m", "perfdsl.cli", "eval", str(spec), "--chunk-points", "100000",
                                "--workers", "2", "-o", str(out)],
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    lines = []
    for line in process.stderr:
        lines.append(line)
        if line.startswith("wrote "):
            break
    os.killpg(process.pid, signum)
    sent = time.monotonic()
    _, err = process.communicate(timeout=120)
    took = time.monotonic() - sent
    assert lines[-1].startswith(f"wrote {out} (")
    assert process.returncode in (status, -signum), err          # -signum: it came as the interpreter ended
    assert "Traceback" not in err and err in (said, "")
    # 0.4-0.6 s on 2 cores; the bound leaves room for a loaded machine, below the 10.7-13.2 s of before.
    assert took < 5, f"{took:.1f} s from Ctrl-C to the end"
    assert out.exists()                                         # written before Ctrl-C, and kept


def test_a_question_answered_on_dask_is_the_workbook_of_the_serial_answer(cluster, tmp_path):
    # The workbook of an answer merged from chunks (dsl/workbook_answer.py): the rows of the serial run, cell by
    # cell, and an About sheet that names the cluster's workers (tests/test_workbook_answer.py: the serial run's
    # workbook equals the whole evaluation's).
    openpyxl = pytest.importorskip("openpyxl")
    from perfdsl.dask_worker import cluster_chunks

    serial, on_dask = tmp_path / "serial.xlsx", tmp_path / "dask.xlsx"
    args = ["eval", str(QUESTIONS), "--report", "latency_throughput", "--chunk-points", "3000", "-q"]
    assert cli.main([*args, "-o", str(serial)]) == 0
    assert cli.main([*args, "--dask", cluster.scheduler_address, "-o", str(on_dask)]) == 0
    serial_book, dask_book = openpyxl.load_workbook(serial), openpyxl.load_workbook(on_dask)
    assert dask_book.sheetnames == serial_book.sheetnames
    rows = {name: [[[c.value for c in row] for row in book[name].iter_rows()] for book in (serial_book, dask_book)]
            for name in ("latency_throughput", "Setup", "Summary")}
    assert all(serial_rows == dask_rows for serial_rows, dask_rows in rows.values())
    # the question's chunks of at most 3,000 points, answered in runs by 2 workers of one thread each
    chunks = len(cluster_chunks(perfdsl.load(QUESTIONS), "latency_throughput", 3000, 2))
    about = [row[1].value for row in dask_book["About"].iter_rows()]
    assert "Rows: the answer to the question `pareto min serving.tpot, max throughput_per_gpu per model` over all "\
        f"14,040 sweep points, evaluated in {chunks} chunks on 2 Dask workers, and merged; the rows and values are "\
        "those of -o FILE.csv of the same run." in about
