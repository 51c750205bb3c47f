"""Outputs the system refuses to write: no permission, a full disk (at the start or mid-stream), a read-only file
system, a folder that makes no files (/proc), a file where a folder should be. Every command that writes gives
`error[bad-output]` naming the output the user gave (never the temporary file), exit status 2, leaves no temporary
file, and leaves an output already there as it was.

Portable cases make the system's refusals with monkeypatch: tempfile.mkstemp (how output.atomic_output makes its
temporary file) raising EACCES, EROFS or EDQUOT, and a file class whose writes fill the disk after a few bytes (the
class output.atomic_output writes through). Real cases use /proc and /sys (root cannot chmod a folder shut, so these
stand for folders nobody can write) and /dev/full (ENOSPC on every write), each skipped where absent.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

import pytest

from perfdsl import cli, output

REPO = Path(__file__).resolve().parents[1]

SPEC = """\
workload w {
    sweep n_gpus = [1, 2, 3, 4]
}
costmodel c { runtime = 10 ms * workload.n_gpus }
report r {
    workload = w
    show c.runtime in ms as runtime
}
"""
BIG = SPEC.replace("[1, 2, 3, 4]", "1 .. 3000")        # written in several chunks with --chunk-points 500
RUNS = "n_gpus,runtime [ms]\n1,11\n2,21\n3,31\n4,41\n"
LOG = "model,runtime [ms]\norg/tiny,25\n"                 # what ingest reads
OLD = "an output already there\n"


def bad_output(path: str, reason: str, hint: str, *, counted: bool = True) -> str:
    """The whole of stderr for an output that cannot be written; ingest prints no count of errors."""
    return (f"error[bad-output]: cannot write '{path}': {reason}\n  = help: {hint}\n"
            + ("\n1 error\n" if counted else ""))


FULL = ("no space left on the device", "free some space, or choose an output on another device; nothing was written")


@pytest.fixture
def work(tmp_path, monkeypatch, capsys):
    """A folder with the spec (r.perf, big.perf), run logs (runs.csv to compare, log.csv to ingest) and a Hugging
    Face config; run(argv) ->
    (exit status, stderr) of `perfdsl ARGV` there."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.perf").write_text(SPEC)
    (tmp_path / "big.perf").write_text(BIG)
    (tmp_path / "runs.csv").write_text(RUNS)
    (tmp_path / "log.csv").write_text(LOG)
    (tmp_path / "config.json").write_bytes((REPO / "models/configs/Qwen__Qwen2.5-0.5B.json").read_bytes())

    def run(argv: list[str]) -> tuple[int, str]:
        capsys.readouterr()
        status = cli.main(argv)
        return status, capsys.readouterr().err
    return run


def only_inputs(folder: Path) -> list[str]:
    """The files in `folder` besides the inputs `work` wrote: the output, and never a temporary file."""
    return sorted(p.name for p in folder.iterdir() if p.name not in {"r.perf", "big.perf", "runs.csv", "log.csv", "config.json"})


class FillingDisk(output.TargetFile):
    """A file on a disk with `free` bytes left, shared by every file written: a write past them writes what fits,
    then fails with ENOSPC, as write(2) does on a disk that fills."""

    free = 20

    def write(self, data):
        if FillingDisk.free <= 0:
            self.failure = self.failure or OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            raise self.failure
        written = super().write(bytes(data[:FillingDisk.free]))
        FillingDisk.free -= written
        return written


@pytest.fixture
def full_disk(monkeypatch):
    """full_disk(free): every output from now on is written to a disk with `free` bytes left."""
    def fill(free: int = 20) -> None:
        monkeypatch.setattr(FillingDisk, "free", free)
        monkeypatch.setattr(output, "TargetFile", FillingDisk)
    return fill


# Every command and format that writes a file: (argv, the output's name, ingest: whose stderr has no count).
WRITERS = {
    "csv": (["eval", "r.perf", "-o", "out.csv"], "out.csv"),
    "json": (["eval", "r.perf", "-o", "out.json"], "out.json"),
    "jsonl": (["eval", "r.perf", "-o", "out.jsonl"], "out.jsonl"),
    "txt": (["eval", "r.perf", "-o", "out.txt"], "out.txt"),
    "table to a file": (["eval", "r.perf", "--format", "table", "-o", "out.tbl"], "out.tbl"),
    "xlsx": (["eval", "r.perf", "-o", "out.xlsx"], "out.xlsx"),
    "xlsx with runs": (["eval", "r.perf", "--measured", "runs.csv", "-o", "out.xlsx"], "out.xlsx"),
    "xlsx --live": (["eval", "r.perf", "--live", "-o", "out.xlsx"], "out.xlsx"),
    "csv in chunks": (["eval", "big.perf", "--chunk-points", "500", "-o", "out.csv"], "out.csv"),
    "jsonl in chunks": (["eval", "big.perf", "--chunk-points", "500", "-o", "out.jsonl"], "out.jsonl"),
    "plot": (["plot", "r.perf", "-o", "out.png"], "out.png"),
    "plot svg": (["plot", "r.perf", "-o", "out.svg"], "out.svg"),
    "ingest csv": (["ingest", "log.csv", "-o", "out.csv"], "out.csv"),
    "ingest jsonl": (["ingest", "log.csv", "-o", "out.jsonl"], "out.jsonl"),
    "import-hf": (["import-hf", "config.json", "--hf-id", "Qwen/Qwen2.5-0.5B", "-o", "out.perf"], "out.perf"),
}
PARQUET = {
    "parquet": (["eval", "r.perf", "-o", "out.parquet"], "out.parquet"),
    "parquet in chunks": (["eval", "big.perf", "--chunk-points", "500", "-o", "out.parquet"], "out.parquet"),
}


def with_parquet():
    cases = [pytest.param(*WRITERS[name], id=name) for name in WRITERS]
    return cases + [pytest.param(*PARQUET[name], id=name, marks=pytest.mark.skipif(
        not _has_pyarrow(), reason="pyarrow (the dev extra) is not installed")) for name in PARQUET]


def _has_pyarrow() -> bool:
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.parametrize("argv, name", with_parquet())
def test_a_disk_that_fills_while_writing_leaves_the_old_output_and_no_temporary_file(work, tmp_path, full_disk,
                                                                                    argv, name):
    # import-hf replaces only a file it wrote (its first line says so): the old output is one.
    old = OLD if argv[0] != "import-hf" else "# Imported by `perfdsl import-hf` from an older config\n" + OLD
    (tmp_path / name).write_text(old)
    full_disk()
    status, err = work(argv)
    assert (status, err) == (2, bad_output(name, *FULL, counted=argv[0] != "ingest"))
    assert (tmp_path / name).read_text() == old
    assert only_inputs(tmp_path) == [name]


def test_the_disk_fills_mid_stream_after_chunks_were_written(work, tmp_path, full_disk):
    # 3,000 rows in 6 chunks: the disk fills in the middle of the file, after whole chunks were written to it.
    argv = ["eval", "big.perf", "--chunk-points", "500", "-o", "out.csv"]
    assert work(argv)[0] == 0
    size = (tmp_path / "out.csv").stat().st_size
    full_disk(size // 2)
    assert work(argv) == (2, bad_output("out.csv", *FULL))
    assert FillingDisk.free == 0                                  # half the file was written before the disk filled
    assert (tmp_path / "out.csv").stat().st_size == size          # the output of the first run, as it was
    assert only_inputs(tmp_path) == ["out.csv"]


def test_calibrate_and_its_residuals(work, tmp_path, full_disk):
    spec = SPEC.replace("costmodel c { runtime = 10 ms * workload.n_gpus }",
                        "costmodel c {\n    per_gpu = 10 ms\n    runtime = per_gpu * workload.n_gpus\n}")
    (tmp_path / "r.perf").write_text(spec)
    fit = ["calibrate", "r.perf", "--measured", "runs.csv", "--fit", "c.per_gpu=1ms..100ms"]
    assert work(fit + ["-o", "cal0.perf", "--residuals", "res0.csv"])[0] == 0
    size = (tmp_path / "cal0.perf").stat().st_size
    (tmp_path / "cal1.perf").write_text(OLD)
    full_disk()
    status, err = work(fit + ["-o", "cal1.perf"])
    assert (status, err.splitlines()[-4:]) == (2, bad_output("cal1.perf", *FULL).splitlines())
    assert (tmp_path / "cal1.perf").read_text() == OLD
    full_disk(size)                     # room for the .perf file, none for the residuals after it
    status, err = work(fit + ["-o", "cal2.perf", "--residuals", "res2.csv"])
    assert (status, err.splitlines()[-4:]) == (2, bad_output("res2.csv", *FULL).splitlines())
    assert only_inputs(tmp_path) == ["cal0.perf", "cal1.perf", "cal2.perf", "res0.csv"]


@pytest.mark.parametrize("code, reason, hint", [
    (errno.EACCES, "permission denied", "choose an output in a folder you can write; nothing was written"),
    (errno.EPERM, "permission denied", "choose an output in a folder you can write; nothing was written"),
    (errno.EROFS, "the file system is read-only",
     "choose an output on a file system that can be written; nothing was written"),
    (errno.EDQUOT, "the disk quota is used up",
     "free some space, or choose an output on another device; nothing was written"),
    (errno.ENOSPC, *FULL),
    (errno.EIO, "input/output error", "choose another output; nothing was written"),
], ids=["EACCES", "EPERM", "EROFS", "EDQUOT", "ENOSPC", "EIO"])
def test_an_output_whose_file_cannot_be_made(work, tmp_path, monkeypatch, code, reason, hint):
    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code), str(tmp_path / ".out.csv.x1y2z3.tmp"))

    (tmp_path / "out.csv").write_text(OLD)
    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    assert work(["eval", "r.perf", "-o", "out.csv"]) == (2, bad_output("out.csv", reason, hint))
    assert (tmp_path / "out.csv").read_text() == OLD
    for argv, name in [(["ingest", "log.csv", "-o", "runs.jsonl"], "runs.jsonl"),
                       (["plot", "r.perf", "-o", "p.png"], "p.png"),
                       (["eval", "r.perf", "-o", "out.xlsx"], "out.xlsx")]:
        assert work(argv) == (2, bad_output(name, reason, hint, counted=argv[0] != "ingest"))


def test_a_sync_that_fails_is_the_outputs_failure(work, tmp_path, monkeypatch):
    # Some file systems (NFS) report a full disk only when the file is synced.
    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    assert work(["eval", "r.perf", "-o", "out.csv"]) == (2, bad_output("out.csv", *FULL))
    assert only_inputs(tmp_path) == []


def test_an_error_of_the_writer_itself_is_not_called_the_outputs(tmp_path):
    # An OSError the block raises that no write to the output gave (a Dask worker's lost connection, an input that
    # went away) goes on as it was: it is not the output's failure. The temporary file goes all the same.
    with pytest.raises(ConnectionResetError):
        with output.atomic_output(tmp_path / "out.csv") as stream:
            stream.write("a,b\n")
            raise ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_while_the_disk_is_full_stays_ctrl_c(tmp_path, full_disk):
    full_disk()
    with pytest.raises(KeyboardInterrupt):
        with output.atomic_output(tmp_path / "out.csv") as stream:
            try:
                stream.write("x" * 10_000)
            except OSError:
                raise KeyboardInterrupt from None
    assert list(tmp_path.iterdir()) == []


def test_a_file_where_a_folder_should_be(work, tmp_path):
    (tmp_path / "notes.md").write_text("notes\n")
    hint = "choose another output"
    for argv, path in [(["eval", "r.perf", "-o", "notes.md/x.csv"], "notes.md/x.csv"),
                       (["eval", "r.perf", "-o", "notes.md/deeper/x.xlsx"], "notes.md/deeper/x.xlsx"),
                       (["plot", "r.perf", "-o", "notes.md/x.png"], "notes.md/x.png"),
                       (["import-hf", "config.json", "--hf-id", "Qwen/Qwen2.5-0.5B", "-o", "notes.md/x.perf"], "notes.md/x.perf")]:
        assert work(argv) == (2, bad_output(path, "'notes.md' is a file, not a folder", hint))
    assert work(["ingest", "log.csv", "-o", "notes.md/x.csv"]) == (
        2, bad_output("notes.md/x.csv", "'notes.md' is a file, not a folder", hint, counted=False))
    # A folder that is missing is still said so, with the command that makes it.
    assert work(["ingest", "log.csv", "-o", "nowhere/x.csv"]) == (2, bad_output(
        "nowhere/x.csv", "the folder 'nowhere' does not exist",
        "create it first (mkdir -p 'nowhere') or choose another output", counted=False))


PROC = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="no /proc on this system")


@PROC
@pytest.mark.parametrize("argv, path", [
    (["eval", "r.perf", "-o", "/proc/x.csv"], "/proc/x.csv"),
    (["eval", "r.perf", "-o", "/proc/x.xlsx"], "/proc/x.xlsx"),
    (["eval", "r.perf", "--live", "-o", "/proc/x.xlsx"], "/proc/x.xlsx"),
    (["eval", "big.perf", "--chunk-points", "500", "-o", "/proc/x.jsonl"], "/proc/x.jsonl"),
    (["plot", "r.perf", "-o", "/proc/x.png"], "/proc/x.png"),
    (["import-hf", "config.json", "--hf-id", "Qwen/Qwen2.5-0.5B", "-o", "/proc/x.perf"], "/proc/x.perf"),
], ids=["csv", "xlsx", "xlsx --live", "jsonl in chunks", "plot", "import-hf"])
def test_proc_takes_no_new_files(work, argv, path):
    hint = "choose an output in another folder; nothing was written"
    assert work(argv) == (2, bad_output(path, "the folder '/proc' takes no new files", hint))
    assert not os.path.exists(path)


@pytest.mark.skipif(not os.path.isdir("/sys/kernel") or os.access("/sys", os.W_OK) and os.geteuid() != 0,
                    reason="no /sys on this system")
def test_sys_refuses_new_files(work):
    hint = "choose an output in a folder you can write; nothing was written"
    assert work(["eval", "r.perf", "-o", "/sys/x.csv"]) == (2, bad_output("/sys/x.csv", "permission denied", hint))
    assert work(["ingest", "log.csv", "-o", "/sys/x.csv"]) == (
        2, bad_output("/sys/x.csv", "permission denied", hint, counted=False))


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
@pytest.mark.parametrize("argv", [
    ["eval", "r.perf", "--format", "csv", "-o", "/dev/full"],
    ["eval", "big.perf", "--format", "jsonl", "--chunk-points", "500", "-o", "/dev/full"],
    ["ingest", "log.csv", "-o", "/dev/full"],
], ids=["csv", "jsonl in chunks", "ingest"])
def test_dev_full(work, argv):
    # A device is written in place (it cannot be replaced), so the help does not say that nothing was written.
    assert work(argv) == (2, bad_output("/dev/full", FULL[0], "free some space, or choose an output on another device",
                                        counted=argv[0] != "ingest"))


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
@pytest.mark.parametrize("argv", [["eval", "r.perf", "--format", "csv"], ["eval", "big.perf", "--format", "jsonl",
                                                                           "--chunk-points", "500"], ["errors"]], ids=["csv", "jsonl in chunks", "errors"])
def test_standard_output_on_a_full_device(tmp_path, argv):
    # `perfdsl ... > /dev/full`: the shell opens the device, perfdsl's writes fail. A subprocess: its stdout is the
    # device itself, as in a shell.
    import subprocess
    import sys

    (tmp_path / "r.perf").write_text(SPEC)
    (tmp_path / "big.perf").write_text(BIG)
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "perfdsl.cli", *argv], cwd=tmp_path, stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    assert (done.returncode, done.stderr) == (2, "error[bad-output]: cannot write the standard output: no space left "
                                                 "on the device\n  = help: free some space, or send the output "
                                                 "elsewhere\n\n1 error\n")


def test_an_error_of_no_file_that_is_not_a_refused_write_is_still_a_bug():
    assert output.stdout_failed(OSError(errno.ECONNRESET, "Connection reset by peer")) is None
    assert output.stdout_failed(OSError(errno.ENOSPC, "No space left on device", "/some/input")) is None
    assert str(output.stdout_failed(OSError(errno.EIO, "Input/output error"))) == (
        "error[bad-output]: cannot write the standard output: input/output error\n"
        "  = help: send the output elsewhere")


@pytest.mark.parametrize("fmt", [[], ["--format", "csv"]])
def test_an_output_that_is_a_folder_is_named_so_with_or_without_format(tmp_path, capsys, fmt):
    # Without --format, `-o out/` was told "cannot tell the format ... from its suffix".
    (tmp_path / "r.perf").write_text("report r { sweep a = 1 .. 3; show a }\n")
    (tmp_path / "out").mkdir()
    for written in (f"{tmp_path}/out/", f"{tmp_path}/out"):
        assert cli.main(["eval", str(tmp_path / "r.perf"), "-q", "-o", written, *fmt]) == 2
        assert capsys.readouterr().err.startswith(f"error[bad-output]: cannot write '{tmp_path}/out': it is a folder\n")


@pytest.mark.parametrize("fmt, suffix", [([], ".csv"), (["--format", "csv"], ".csv"), (["--format", "json"], ".json"),
                                         (["--format", "jsonl"], ".jsonl"), (["--format", "table"], ".txt")])
def test_the_file_a_folder_refusal_suggests_has_the_suffix_of_the_format_asked(tmp_path, capsys, fmt, suffix):
    # It suggested results.csv whatever --format asked (a newcomer's try); without --format, CSV (-o has no default)
    (tmp_path / "r.perf").write_text("report r { sweep a = 1 .. 3; show a }\n")
    (tmp_path / "there").mkdir()
    for written, folder in ((f"{tmp_path}/new/", f"{tmp_path}/new/"), (f"{tmp_path}/there", f"{tmp_path}/there/")):
        assert cli.main(["eval", str(tmp_path / "r.perf"), "-q", "-o", written, *fmt]) == 2
        assert f"  = help: name a file, e.g. -o {folder}results{suffix}\n" in capsys.readouterr().err
        Path(folder).mkdir(exist_ok=True)          # new/ is not there: followed once it is
        assert cli.main(["eval", str(tmp_path / "r.perf"), "-q", "-o", f"{folder}results{suffix}", *fmt]) == 0
        assert (tmp_path / folder / f"results{suffix}").exists()


@pytest.mark.parametrize("fmt", [[], ["--format", "csv"]])
def test_an_output_ending_with_a_slash_names_a_folder_even_where_there_is_none(tmp_path, capsys, fmt):
    # With --format csv, `-o new/` was written as a file named new.
    (tmp_path / "r.perf").write_text("report r { sweep a = 1 .. 3; show a }\n")
    assert cli.main(["eval", str(tmp_path / "r.perf"), "-q", "-o", f"{tmp_path}/new/", *fmt]) == 2
    assert capsys.readouterr().err.startswith(
        f"error[bad-output]: cannot write '{tmp_path}/new/': it ends with '/', so it names a folder\n"
        f"  = help: name a file, e.g. -o {tmp_path}/new/results.csv\n")
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("fmt, hint", [(["--format", "csv"], "other.csv"),
                                       (["--format", "table"], "other.txt"),
                                       ([], "other.csv (or .jsonl, .parquet, .xlsx)")])
def test_results_are_never_written_over_a_perf_file(tmp_path, capsys, fmt, hint):
    # A .perf that is no input of the run (another spec of the library) was overwritten with CSV, exit 0.
    (tmp_path / "r.perf").write_text("report r { sweep a = 1 .. 3; show a }\n")
    other = tmp_path / "other.perf"
    other.write_text("model m { params = 1e9 }\n")
    assert cli.main(["eval", str(tmp_path / "r.perf"), "-q", "-o", str(other), *fmt]) == 2
    assert capsys.readouterr().err.startswith(
        f"error[bad-output]: refusing to write the results to '{other}': a .perf file is a spec, not an output of "
        f"eval\n  = help: write them to -o {tmp_path}/{hint}\n")
    assert other.read_text() == "model m { params = 1e9 }\n"
