"""`perfdsl check --jobs N` (dsl/parallel_check.py): the files checked on forked worker processes print exactly what
checking them in one process prints, in every case: clean files, errors and warnings, a mix of replayed and checked
files, a worker that fails or dies, an error that stops the run, Ctrl-C and Terminated meant for the parent.

Each test checks in this process (cli.main) with a cache folder of its own (conftest.private_cache); the workers are
forked from the pytest process, and a monkeypatch made before the fork is what the workers run.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
from pathlib import Path

import pytest

from perfdsl import cli, parallel_check
from perfdsl.errors import UsageError, error

REPO = Path(__file__).resolve().parent.parent
LIBRARY = sorted(str(p.relative_to(REPO)) for folder in ("models", "hardware", "software", "costmodels", "reports")
                 for p in (REPO / folder).glob("*.perf"))
CASES = sorted(str(p.relative_to(REPO)) for p in (REPO / "tests" / "cases").glob("*.perf"))
ELAPSED = re.compile(r"\(\d+\.\d\d s\)\n\Z")

needs_fork = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="worker processes are forked only on Linux; elsewhere --jobs checks here")


@pytest.fixture(autouse=True)
def one_thread():
    """Workers are forked only from a process of one thread (parallel_check.can_fork): a thread left by an earlier
    test (a Dask client's) would make these tests check in one process and prove nothing."""
    if sys.platform.startswith("linux") and threading.active_count() != 1:
        pytest.skip(f"{threading.active_count()} threads run in this test process: workers would not be forked")


@pytest.fixture
def check(capsys, private_cache, monkeypatch):
    """check(*argv) -> (exit status, stdout, stderr) of `perfdsl check ARGV` in this process (in the repository),
    the elapsed time of the `ok:` line written as (T s)."""
    monkeypatch.chdir(REPO)

    def invoke(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        status = cli.main(["check", *argv])
        out, err = capsys.readouterr()
        return status, out, ELAPSED.sub("(T s)\n", err)

    return invoke


@pytest.fixture
def count_processes(monkeypatch):
    """The `processes` each check_in_processes call was given (the calls that forked workers)."""
    calls: list[int] = []
    real = parallel_check.check_in_processes

    def counted(files, work, processes, progress=None):
        calls.append(processes)
        return real(files, work, processes, progress)

    monkeypatch.setattr(parallel_check, "check_in_processes", counted)
    return calls


# -- how many processes ------------------------------------------------------------------------------------------------
def test_no_fork_from_a_process_with_threads():
    """A second thread (here one that waits for an event) makes can_fork False until it ends."""
    release = threading.Event()
    waiting = threading.Thread(target=release.wait)
    waiting.start()
    try:
        assert parallel_check.can_fork() is False
    finally:
        release.set()
        waiting.join()
    assert parallel_check.can_fork() is True


def test_processes_for_needs_four_files_a_process(monkeypatch):
    """MIN_FILES_PER_PROCESS (4) files or more for each process; 1 (this process) below 8 files, for --jobs 1, and
    where workers cannot be forked."""
    monkeypatch.setattr(parallel_check, "can_fork", lambda: True)
    assert parallel_check.MIN_FILES_PER_PROCESS == 4
    assert [parallel_check.processes_for(2, files) for files in (0, 1, 7, 8, 55)] == [1, 1, 1, 2, 2]
    assert parallel_check.processes_for(8, 55) == 8          # 55 // 4 = 13 files allow 13 processes
    assert parallel_check.processes_for(8, 20) == 5          # 20 // 4
    assert parallel_check.processes_for(1, 55) == 1
    monkeypatch.setattr(parallel_check, "can_fork", lambda: False)
    assert parallel_check.processes_for(8, 55) == 1


def test_default_jobs_is_the_usable_cpus_at_most_eight(monkeypatch):
    monkeypatch.setattr(parallel_check, "usable_cpus", lambda: 2)
    assert parallel_check.default_jobs() == 2
    monkeypatch.setattr(parallel_check, "usable_cpus", lambda: 64)
    assert parallel_check.default_jobs() == parallel_check.MAX_DEFAULT_JOBS == 8


@pytest.mark.parametrize("given, message", [("0", "0 processes: give 1 or more"),
                                            ("-3", "-3 processes: give 1 or more"),
                                            ("two", "'two' is not a whole number of processes")])
def test_a_bad_jobs_is_bad_usage(check, capsys, given, message):
    with pytest.raises(SystemExit) as stopped:
        check("--jobs", given, "models/llama.perf")
    assert stopped.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.endswith(f"perfdsl check: error: argument -j/--jobs: {message}\n")


# -- the same output -------------------------------------------------------------------------------------------------
@needs_fork
def test_the_library_and_the_cases_print_the_same_on_two_processes(check, count_processes):
    """Every library file and golden case (99 errors and 2 warnings among them): --jobs 2 prints the bytes --jobs 1
    prints, cold, warm, and with every other file's entry removed (replayed and checked files mixed)."""
    files = LIBRARY + CASES
    serial = check("--no-cache", "-j", "1", *files)
    assert serial[0] == 1 and "error[" in serial[2] and "warning[" in serial[2]
    assert count_processes == []
    assert check("--no-cache", "-j", "2", *files) == serial
    assert check("-j", "2", *files) == serial
    assert count_processes == [2, 2]
    assert check("-j", "2", *files) == serial                    # all replayed: no worker
    assert count_processes == [2, 2]


@needs_fork
def test_a_clean_run_counts_the_same_files_blocks_and_reports(check):
    serial = check("--no-cache", "-j", "1", *LIBRARY)
    assert serial[0] == 0 and re.fullmatch(rf"ok: {len(LIBRARY)} files, \d+ blocks, \d+ reports \(T s\)\n", serial[2])
    assert check("--no-cache", "-j", "3", *LIBRARY) == serial


@needs_fork
def test_some_files_replayed_some_checked(check, private_cache, count_processes):
    """Half the entries removed: the other half are replayed in the parent, the removed ones checked on workers, and
    the results are put back in command-line order."""
    first = check("-j", "1", *LIBRARY, *CASES)
    entries = sorted(private_cache.glob("check-*.json"))
    for entry in entries[::2]:
        entry.unlink()
    assert check("-j", "2", *LIBRARY, *CASES) == first
    assert count_processes == [2]
    assert len(sorted(private_cache.glob("check-*.json"))) == len(entries)   # the workers stored theirs again


@needs_fork
def test_a_worker_that_dies_leaves_its_files_to_the_parent(check, monkeypatch):
    """A worker killed while it checks a file (as the kernel's out-of-memory killer would): the parent checks what
    was left, and the output is the serial one."""
    serial = check("--no-cache", "-j", "1", *LIBRARY)
    parent = os.getpid()
    real = cli._FileChecker.check

    def dies_on_llama(self, file):
        if os.getpid() != parent and file == "models/llama.perf":
            os._exit(9)
        return real(self, file)

    monkeypatch.setattr(cli._FileChecker, "check", dies_on_llama)
    assert check("--no-cache", "-j", "2", *LIBRARY) == serial


@needs_fork
def test_a_worker_that_fails_leaves_its_file_to_the_parent(check, monkeypatch):
    """An unexpected exception in a worker (a bug): the parent checks that file itself, as a serial run would, so
    the user sees what a serial run shows (here, where it does not fail in the parent, the serial output)."""
    serial = check("--no-cache", "-j", "1", *LIBRARY)
    parent = os.getpid()
    real = cli._FileChecker.check

    def fails_in_workers(self, file):
        if os.getpid() != parent and file.startswith("reports/"):
            raise ValueError("a bug")
        return real(self, file)

    monkeypatch.setattr(cli._FileChecker, "check", fails_in_workers)
    assert check("--no-cache", "-j", "2", *LIBRARY) == serial


@needs_fork
def test_a_bug_in_every_process_is_an_internal_error_as_in_a_serial_run(check, monkeypatch):
    def fails(self, file):
        if file == "reports/serving.perf":
            raise ValueError("a bug")
        return real(self, file)

    real = cli._FileChecker.check
    monkeypatch.setattr(cli._FileChecker, "check", fails)
    serial = check("--no-cache", "-j", "1", *LIBRARY)
    assert serial == (1, "", "error[internal]: ValueError: a bug\n  = help: this is a bug in perfdsl; run again with "
                             "PERFDSL_DEBUG=1 for the details and report it\n")
    assert check("--no-cache", "-j", "2", *LIBRARY) == serial


@needs_fork
def test_a_usage_error_in_a_worker_stops_the_run_as_in_a_serial_run(check, monkeypatch):
    """An error that stops a serial run (UsageError, raised by checking one file) stops the parallel run at the same
    file, with the same diagnostics and exit status 2: the diagnostics cross the process boundary as data."""
    real = cli._FileChecker.check

    def refuses_gemma(self, file):
        if file == "models/gemma.perf":
            raise UsageError(error("no-such-file", "cannot read 'models/gemma.perf': refused for the test",
                                   hints=["a hint"]))
        return real(self, file)

    monkeypatch.setattr(cli._FileChecker, "check", refuses_gemma)
    serial = check("--no-cache", "-j", "1", *LIBRARY)
    assert serial == (2, "", "error[no-such-file]: cannot read 'models/gemma.perf': refused for the test\n"
                             "  = help: a hint\n\n1 error\n")
    assert check("--no-cache", "-j", "2", *LIBRARY) == serial
    assert threading.active_count() == 1                        # the workers and the executor's thread ended


# -- signals -----------------------------------------------------------------------------------------------------------
def test_a_worker_leaves_ctrl_c_to_the_parent_and_ends_on_sigterm():
    """The workers' signal handlers (set by _start_worker in each): SIGINT ignored (the parent stops them), SIGTERM
    and SIGHUP the default (the parent's handlers raise exceptions meant for the parent's clean-up)."""
    names = ("SIGINT", "SIGTERM", "SIGHUP")
    before = {name: signal.getsignal(getattr(signal, name)) for name in names}
    try:
        signal.signal(signal.SIGTERM, lambda *_: None)
        parallel_check._start_worker()
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_DFL
    finally:
        for name, handler in before.items():
            signal.signal(getattr(signal, name), handler)


@needs_fork
def test_ctrl_c_in_the_parent_stops_the_workers(monkeypatch):
    """KeyboardInterrupt while the parent waits for a result: the workers (busy for 30 s each) are killed and joined
    before it propagates, at once."""
    import multiprocessing
    import time
    from concurrent.futures import Future

    def busy(file):
        time.sleep(30)
        return None, 0

    def interrupted(self, timeout=None):
        raise KeyboardInterrupt

    results = parallel_check.check_in_processes([f"f{i}.perf" for i in range(8)], busy, 2)
    monkeypatch.setattr(Future, "result", interrupted)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        next(results)
    assert time.monotonic() - started < 10
    assert multiprocessing.active_children() == [] and threading.active_count() == 1
