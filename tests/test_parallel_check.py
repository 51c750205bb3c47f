"""`perfdsl check --jobs N` (dsl/parallel_check.py): the files checked on forked worker processes print exactly what
checking them in one process prints, in every case: clean files, errors and warnings, a mix of replayed and checked
files, a worker that fails or dies, an error that stops the run, Ctrl-C and Terminated meant for the parent.

Each check runs in a new Python process (workers are forked only from a process of one thread, and the test process
may hold threads that earlier tests left, a Dask client's), with a cache folder of its own; a test that makes a
worker fail or die gives that process a few lines of Python run before `perfdsl check` (the workers are forked from
it, so they run the patched code too).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from perfdsl import parallel_check

REPO = Path(__file__).resolve().parent.parent
LIBRARY = sorted(str(p.relative_to(REPO)) for folder in ("models", "hardware", "software", "costmodels", "reports")
                 for p in (REPO / folder).glob("*.perf"))
CASES = sorted(str(p.relative_to(REPO)) for p in (REPO / "tests" / "cases").glob("*.perf"))
ELAPSED = re.compile(r"\(\d+\.\d\d s\)\n\Z")

needs_fork = pytest.mark.skipif(not sys.platform.startswith("linux") or parallel_check.usable_cpus() < 2,
                                reason="worker processes are forked only on Linux, and only where 2 CPUs or more may "
                                       "be used; elsewhere --jobs checks in one process")


@pytest.fixture
def check(private_cache):
    """check(*argv, before="") -> (exit status, stdout, stderr) of `perfdsl check ARGV` in a new process (in the
    repository; XDG_CACHE_HOME the test's own), after running the Python lines `before` there, the elapsed time of
    the `ok:` line written as (T s). Its stdout ends with the counts of check_in_processes calls, as "forked: [N, ...]"
    (the processes of each call that forked workers)."""
    env = {**os.environ, "XDG_CACHE_HOME": str(private_cache.parent)}

    def invoke(*argv: str, before: str = "") -> tuple[int, str, str]:
        script = COUNTING + textwrap.dedent(before) + RUN
        done = subprocess.run([sys.executable, "-c", script, "check", *argv], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=300)
        return done.returncode, done.stdout, ELAPSED.sub("(T s)\n", done.stderr)

    return invoke


COUNTING = """
import os, sys
from perfdsl import cli, parallel_check
forked = []
_real = parallel_check.check_in_processes
def _counted(files, work, processes, **options):
    forked.append(processes)
    return _real(files, work, processes, **options)
parallel_check.check_in_processes = _counted
"""
RUN = """
status = cli.main(sys.argv[1:])
print("forked:", forked)
sys.exit(status)
"""


# -- how many processes ------------------------------------------------------------------------------------------------
def test_processes_for_needs_four_files_a_process(monkeypatch):
    """MIN_FILES_PER_PROCESS (4) files or more for each process; 1 (this process) below 8 files, for --jobs 1, and
    where workers cannot be forked."""
    monkeypatch.setattr(parallel_check, "can_fork", lambda: True)
    monkeypatch.setattr(parallel_check, "usable_cpus", lambda: 16)
    assert parallel_check.MIN_FILES_PER_PROCESS == 4
    assert [parallel_check.processes_for(2, files) for files in (0, 1, 7, 8, 55)] == [1, 1, 1, 2, 2]
    assert parallel_check.processes_for(8, 55) == 8          # 55 // 4 = 13 files allow 13 processes
    assert parallel_check.processes_for(8, 20) == 5          # 20 // 4
    assert parallel_check.processes_for(1, 55) == 1
    monkeypatch.setattr(parallel_check, "usable_cpus", lambda: 2)
    assert parallel_check.processes_for(8, 55) == 2          # never more processes than CPUs
    monkeypatch.setattr(parallel_check, "can_fork", lambda: False)
    assert parallel_check.processes_for(8, 55) == 1


def test_default_jobs_is_the_usable_cpus_at_most_eight(monkeypatch):
    monkeypatch.setattr(parallel_check, "usable_cpus", lambda: 2)
    assert parallel_check.default_jobs() == 2
    monkeypatch.setattr(parallel_check, "usable_cpus", lambda: 64)
    assert parallel_check.default_jobs() == parallel_check.MAX_DEFAULT_JOBS == 8


@pytest.mark.parametrize("given", ["0", "-3"])
def test_a_count_of_jobs_below_one_is_bad_usage(check, given):
    # As every count below what it means (--workers 0, --chunk-points -5, explain --depth -1): error[bad-option].
    status, out, err = check("--jobs", given, "models/llama.perf")
    assert status == 2 and out == "forked: []\n"          # refused before any file is looked at
    assert err == (f"error[bad-option]: -j {given}: a check runs on at least one process\n"
                   "  = help: give the most processes to check on, 1 or more (e.g. -j 2; -j 1: in this process only), "
                   "or leave out -j for the CPUs this process may use\n\n1 error\n")


def test_jobs_that_are_not_a_whole_number_are_bad_usage(check):
    status, out, err = check("--jobs", "two", "models/llama.perf")
    assert status == 2 and out == ""
    assert err.endswith("perfdsl check: error: argument -j/--jobs: 'two' is not a whole number of processes\n")


def test_the_workers_take_runs_of_files_from_both_ends():
    """Two workers meet in the middle of the files, each taking consecutive ones (the files next to each other share
    imports); with 3 or 4, two runs; a worker whose run is done helps the run with the most files left, from its
    back. Every file is taken once."""
    def taken(files: int, processes: int, turns: list[int]) -> list[tuple[int, int]]:
        ends = parallel_check._Ends(files, processes)
        workers = []
        for _ in range(processes):
            worker = parallel_check._Ends.__new__(parallel_check._Ends)
            worker.__dict__.update(ends.__dict__)
            worker.join()
            workers.append(worker)
        return [(turn, workers[turn].take()) for turn in turns]

    assert taken(5, 2, [0, 1, 1, 0, 0, 1]) == [(0, 0), (1, 4), (1, 3), (0, 1), (0, 2), (1, None)]
    # runs 0-4 (workers 0 and 1) and 5-9 (worker 2 from its front; worker 3 from its back)
    assert taken(10, 4, [2, 3, 0, 1, 2, 2]) == [(2, 5), (3, 9), (0, 0), (1, 4), (2, 6), (2, 7)]
    # worker 0's run is done (0-4 taken): it helps the run 5-9 from its back, where 8 and 9 are left
    assert taken(10, 3, [0, 1, 0, 0, 0, 2, 0, 0, 2]) == [(0, 0), (1, 4), (0, 1), (0, 2), (0, 3), (2, 5), (0, 9),
                                                          (0, 8), (2, 6)]
    for processes in (2, 3, 5):
        everything = taken(57, processes, [turn % processes for turn in range(58)])
        assert sorted(index for _, index in everything[:57]) == list(range(57)) and everything[57][1] is None


@needs_fork
def test_a_worker_that_dies_holding_the_lock_leaves_the_others_free():
    """A worker killed while it takes a file (inside _Ends' lock): the kernel lets go of its lock (a POSIX record
    lock), so the others go on taking files rather than wait for ever."""
    script = textwrap.dedent("""
        import os
        from perfdsl import parallel_check

        ends = parallel_check._Ends(8, 2)
        child = os.fork()
        if child == 0:
            ends.join()                         # worker 0
            ends._locked().__enter__()
            os._exit(9)                         # dies holding the lock
        os.waitpid(child, 0)
        ends.join()                             # worker 1: from the back
        print(ends.take(), ends.take())
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "7 6\n", "")


@needs_fork
def test_results_larger_than_a_pipe_cross_whole():
    """A worker's result larger than a pipe holds (64 KiB) reaches the parent whole, across several reads, and the
    records of the two workers do not mix: each file's result is its own."""
    script = textwrap.dedent("""
        from perfdsl import parallel_check

        def work(file):
            return file * 50_000, 0          # about 400 KB a result

        files = [f"f{i}.perf" for i in range(8)]
        results = list(parallel_check.check_in_processes(files, work, 2))
        print([file for file, _, _ in results] == files, all(result == file * 50_000 for file, result, _ in results))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "True True\n", "")


@needs_fork
def test_a_caller_that_ignores_sigchld_gets_every_result():
    """A caller whose children nobody waits for (SIGCHLD set to SIG_IGN, as some servers do): the workers' results
    come back all the same, and the end of a worker is not an error."""
    script = textwrap.dedent("""
        import signal
        from perfdsl import parallel_check

        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        files = [f"f{i}.perf" for i in range(6)]
        print(list(parallel_check.check_in_processes(files, lambda file: (file.upper(), 0), 2)))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == str([(f"f{i}.perf", f"F{i}.PERF", 0) for i in range(6)]) + "\n"


@needs_fork
def test_no_worker_can_be_forked_so_the_parent_checks_every_file():
    """os.fork failing (the process limit, no memory): no worker, and every file checked in this process, in order."""
    script = textwrap.dedent("""
        import os
        from perfdsl import parallel_check

        def no_fork():
            raise BlockingIOError(11, "Resource temporarily unavailable")

        os.fork = no_fork
        parent = os.getpid()
        results = list(parallel_check.check_in_processes([f"f{i}.perf" for i in range(6)],
                                                         lambda file: ((file, os.getpid() == parent), 0), 2))
        print([result for _, result, _ in results])
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == str([(f"f{i}.perf", True) for i in range(6)]) + "\n"


# -- the same output -------------------------------------------------------------------------------------------------
@needs_fork
def test_the_library_and_the_cases_print_the_same_on_two_processes(check):
    """Every library file and golden case (errors and warnings among them): --jobs 2 prints the bytes --jobs 1
    prints, cold, then all stored, then all replayed (no worker forked)."""
    files = LIBRARY + CASES
    serial = check("--no-cache", "-j", "1", *files)
    assert serial[0] == 1 and "error[" in serial[2] and "warning[" in serial[2]
    assert serial[1] == "forked: []\n"
    assert check("--no-cache", "-j", "2", *files) == (serial[0], "forked: [2]\n", serial[2])
    assert check("-j", "2", *files) == (serial[0], "forked: [2]\n", serial[2])
    assert check("-j", "2", *files) == (serial[0], "forked: []\n", serial[2])


@needs_fork
def test_a_clean_run_counts_the_same_files_blocks_and_reports(check):
    serial = check("--no-cache", "-j", "1", *LIBRARY)
    assert serial[0] == 0 and re.fullmatch(rf"ok: {len(LIBRARY)} files, \d+ blocks, \d+ reports \(T s\)\n", serial[2])
    assert check("--no-cache", "-j", "3", *LIBRARY) == (0, f"forked: [{min(3, parallel_check.usable_cpus())}]\n",
                                                        serial[2])


@needs_fork
def test_some_files_replayed_some_checked(check, private_cache):
    """Half the entries removed: the other half are replayed in the parent, the removed ones checked on workers
    (which store their entries again), and the results are put back in command-line order."""
    first = check("-j", "1", *LIBRARY, *CASES)
    entries = sorted(private_cache.glob("check-*.json"))
    for entry in entries[::2]:
        entry.unlink()
    assert check("-j", "2", *LIBRARY, *CASES) == (first[0], "forked: [2]\n", first[2])
    assert len(sorted(private_cache.glob("check-*.json"))) == len(entries)


@needs_fork
def test_a_worker_that_dies_leaves_its_files_to_the_parent(check):
    """A worker killed while it checks a file (as the kernel's out-of-memory killer would): the parent checks what
    was left, and the output is the serial one."""
    serial = check("--no-cache", "-j", "1", *LIBRARY)
    assert check("--no-cache", "-j", "2", *LIBRARY, before="""
        parent = os.getpid()
        real = cli._FileChecker.check
        def dies_on_llama(self, file):
            if os.getpid() != parent and file == "models/llama.perf":
                os._exit(9)
            return real(self, file)
        cli._FileChecker.check = dies_on_llama
    """) == (0, "forked: [2]\n", serial[2])


@needs_fork
def test_a_worker_that_fails_leaves_its_file_to_the_parent(check):
    """An unexpected exception in a worker (a bug): the parent checks that file itself, as a serial run would, so
    the user sees what a serial run shows (here, where it does not fail in the parent, the serial output)."""
    serial = check("--no-cache", "-j", "1", *LIBRARY)
    assert check("--no-cache", "-j", "2", *LIBRARY, before="""
        parent = os.getpid()
        real = cli._FileChecker.check
        def fails_in_workers(self, file):
            if os.getpid() != parent and file.startswith("reports/"):
                raise ValueError("a bug")
            return real(self, file)
        cli._FileChecker.check = fails_in_workers
    """) == (0, "forked: [2]\n", serial[2])


FAILS_ON_SERVING = """
    real = cli._FileChecker.check
    def fails(self, file):
        if file == "reports/serving.perf":
            raise ValueError("a bug")
        return real(self, file)
    cli._FileChecker.check = fails
"""


@needs_fork
def test_a_bug_in_every_process_is_an_internal_error_as_in_a_serial_run(check):
    internal = ("error[internal]: ValueError: a bug\n  = help: this is a bug in perfdsl; run again with "
                "PERFDSL_DEBUG=1 for the details and report it\n")
    assert check("--no-cache", "-j", "1", *LIBRARY, before=FAILS_ON_SERVING) == (1, "forked: []\n", internal)
    assert check("--no-cache", "-j", "2", *LIBRARY, before=FAILS_ON_SERVING) == (1, "forked: [2]\n", internal)


@needs_fork
def test_a_usage_error_in_a_worker_stops_the_run_as_in_a_serial_run(check):
    """An error that stops a serial run (UsageError, raised by checking one file) stops the parallel run at the same
    file, with the same diagnostics and exit status 2: the diagnostics cross the process boundary as data. Nothing
    is left running: the script's last line counts the threads and child processes at the end."""
    refuses_gemma = """
        from perfdsl.errors import UsageError, error
        real = cli._FileChecker.check
        def refuses_gemma(self, file):
            if file == "models/gemma.perf":
                raise UsageError(error("no-such-file", "cannot read 'models/gemma.perf': refused for the test",
                                       hints=["a hint"]))
            return real(self, file)
        cli._FileChecker.check = refuses_gemma
        import atexit, multiprocessing, threading
        atexit.register(lambda: print("left:", threading.active_count(), len(multiprocessing.active_children())))
    """
    refused = ("error[no-such-file]: cannot read 'models/gemma.perf': refused for the test\n  = help: a hint\n\n"
               "1 error\n")
    assert check("--no-cache", "-j", "1", *LIBRARY, before=refuses_gemma) == (2, "forked: []\nleft: 1 0\n", refused)
    assert check("--no-cache", "-j", "2", *LIBRARY, before=refuses_gemma) == (2, "forked: [2]\nleft: 1 0\n", refused)


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


def test_no_fork_from_a_process_with_threads():
    """A second thread (here one that waits for an event) makes can_fork False while it runs."""
    release = threading.Event()
    waiting = threading.Thread(target=release.wait)
    waiting.start()
    try:
        assert parallel_check.can_fork() is False
    finally:
        release.set()
        waiting.join()


@needs_fork
def test_ctrl_c_in_the_parent_stops_the_workers():
    """KeyboardInterrupt while the parent waits for results (workers busy for 30 s each; Ctrl-C raises it in the
    parent's wait, here parallel_check._wait): the workers are ended and waited for before it propagates, at once (a
    new process, of one thread): no child process is left, not even one waiting to be reaped."""
    script = textwrap.dedent("""
        import os, threading, time
        from perfdsl import parallel_check

        def busy(file):
            time.sleep(30)
            return None, 0

        def interrupted_wait(pipes):
            raise KeyboardInterrupt

        results = parallel_check.check_in_processes([f"f{i}.perf" for i in range(8)], busy, 2)
        parallel_check._wait = interrupted_wait
        started = time.monotonic()
        try:
            next(results)
        except KeyboardInterrupt:
            try:
                left = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                left = "none"
            print("interrupted", time.monotonic() - started < 10, left, threading.active_count())
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "interrupted True none 1\n", "")


@needs_fork
def test_progress_counts_the_files_as_the_workers_finish_them():
    """The files are yielded in command-line order, but counted for the progress bar as each worker gives one back:
    the first file takes a second, and the other worker checks the other seven from the back meanwhile, so seven
    are counted before the first is yielded (they used to be counted only as they were yielded, a jump at the end)."""
    script = textwrap.dedent("""
        import time
        from perfdsl import parallel_check

        def work(file):
            time.sleep(1.0 if file == "f0.perf" else 0.05)
            return file, 0

        events = []
        for file, result, stored in parallel_check.check_in_processes(
                [f"f{i}.perf" for i in range(8)], work, 2, progress=lambda n: events.append(n)):
            events.append(file)
        print(events)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    events = eval(done.stdout)                  # noqa: S307 - the list the script printed
    assert [event for event in events if isinstance(event, int)] == list(range(1, 9))
    assert [event for event in events if isinstance(event, str)] == [f"f{i}.perf" for i in range(8)]
    assert events[:8] == list(range(1, 9)), "every file counted as it was done, before the first was yielded"


@needs_fork
def test_a_parent_killed_outright_takes_its_workers_with_it():
    """SIGKILL of the parent (a caller's timeout, the out-of-memory killer) while its workers are busy: the workers
    die with it (PR_SET_PDEATHSIG) rather than wait for work for ever holding the caller's pipes open."""
    script = textwrap.dedent("""
        import time
        from perfdsl import parallel_check

        def busy(file):
            time.sleep(60)
            return None, 0

        next(parallel_check.check_in_processes([f"f{i}.perf" for i in range(8)], busy, 2))
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    workers: list[int] = []
    deadline = time.monotonic() + 30
    while len(workers) < 2 and time.monotonic() < deadline:
        workers = children_of(parent.pid)
        time.sleep(0.05)
    assert len(workers) == 2, "the workers did not start"
    parent.kill()
    parent.wait(timeout=30)
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in workers if alive(pid)] == []
    assert parent.stdout.read() == ""          # the pipe closed: no worker holds it open


def children_of(pid: int) -> list[int]:
    """The pids of the processes whose parent is `pid` (Linux: /proc/PID/task/*/children)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            pass
    return sorted(found)


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie whose parent died is reaped by init at once; one still listed counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
