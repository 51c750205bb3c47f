"""Writing output files: atomically, never over an input, and with no text a spreadsheet would run.

Every file perfdsl writes (CSV, JSON, JSON Lines, text tables, workbooks, run logs, .perf models) goes through
`atomic_output`: the content is written to a hidden temporary file beside the target and moved onto it with
os.replace, so a failed or interrupted run never leaves a half-written file, and readers see either the old file or
the new one. The temporary file is removed on every exit Python sees: an error, Ctrl-C (KeyboardInterrupt), and
SIGTERM or SIGHUP, which the command line turns into an exception (cli.Terminated). Only SIGKILL cannot be seen.
An output the system refuses (no permission, a full disk at the start or mid-stream, a read-only file system, a
folder that makes no files such as /proc) is a usage error, bad-output (exit 2), that names the output as given,
never the temporary file (write_failed).

Text cells of the CSV and JSON Lines we write are neutralised as OWASP's "CSV Injection" guidance says: text that
starts with = + - @, a tab or a carriage return gets a leading `'`, so that a spreadsheet shows it instead of
running it as a formula. Numbers stay numbers. The readers of perfdsl's own run logs take the `'` off again.
"""

from __future__ import annotations

import errno
import io
import os
import re
import stat
import tempfile
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator, TextIO

from .errors import UsageError, error

# OWASP, CSV Injection: "=", "+", "-", "@", tab (0x09) and carriage return (0x0D) start a formula in some spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_GUARDED = re.compile("'+[=+\\-@\t\r]")        # what neutralise writes: quotes, then a formula character


def neutralise(value: object) -> object:
    """Text that a spreadsheet would run as a formula, with a leading `'`; anything else unchanged. Text that already
    reads as guarded (`'+cmd`, `''=x`: quotes, then a formula character) gets one more `'`, so that `restore` gives
    back exactly the text written, whatever it was; the result never starts with a formula character."""
    if isinstance(value, str) and (value.startswith(FORMULA_STARTS) or _GUARDED.match(value)):
        return "'" + value
    return value


def restore(text: str) -> str:
    """The text `neutralise` was given: one leading `'` taken off text that is quotes followed by a formula character
    (`'+cmd` -> `+cmd`, `''+cmd` -> `'+cmd`); any other text unchanged (`'quoted'` stays)."""
    if _GUARDED.match(text):
        return text[1:]
    return text


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """True when two paths name one file, however spelled: relative or absolute, through symbolic links, or as
    two hard links of one file."""
    try:
        if os.path.samefile(a, b):
            return True
    except (OSError, ValueError):
        pass
    try:
        return Path(a).resolve() == Path(b).resolve()
    except (OSError, RuntimeError, ValueError):
        return False


def protect_inputs(output: str | os.PathLike, inputs: Iterable[str | os.PathLike]) -> None:
    """Refuse an output path that is one of the inputs, a folder, or in a folder that does not exist (exit 2)."""
    target = Path(output)
    for item in inputs:
        if same_file(target, item):
            raise UsageError(error("output-is-input", f"refusing to write over the input '{item}'",
                                   hints=["choose another output file with -o"]))
    check_target(target)


def refuse_folder(output: str, suffix: str = ".csv") -> None:
    """A usage error (bad-output, exit 2) for an output that is a folder, or a path ending with '/', which names one
    (there or not): checked before the format is read from the suffix, where `-o out/` was told its format could not
    be told, and, where out/ was not there, written as a file named out with --format. The help names a file in
    that folder with `suffix`, the format's asked (`--format jsonl`: .jsonl; it suggested results.csv whatever the
    format)."""
    if os.path.isdir(output):
        check_target(Path(output), suffix=suffix)
    if output.endswith(("/", os.sep)):
        raise UsageError(error("bad-output", f"cannot write '{output}': it ends with '/', so it names a folder",
                               hints=[f"name a file, e.g. -o {output}results{suffix}"]))


def check_target(target: Path, *, folder_must_exist: bool = True, suffix: str = ".csv") -> None:
    """A usage error (bad-output, exit 2) for an output that is a folder (its help names a file in it, results with
    `suffix`), or (with folder_must_exist) whose folder does not exist or is a file."""
    if target.is_dir():
        raise UsageError(error("bad-output", f"cannot write '{target}': it is a folder",
                               hints=[f"name a file, e.g. -o {target / ('results' + suffix)}"]))
    if not folder_must_exist:
        return
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise _no_folder(target, folder)


def _no_folder(target: Path, folder: Path) -> UsageError:
    """bad-output for a target whose folder is not there: where a file stands on the way (`-o README.md/x.csv`), that
    it is a file, and no `mkdir -p`, which would fail on it."""
    for above in [folder, *folder.parents]:
        if above.is_dir():
            break
        if os.path.lexists(above):
            return UsageError(error("bad-output", f"cannot write '{target}': '{above}' is a file, not a folder",
                                    hints=["choose another output"]))
    return UsageError(error("bad-output", f"cannot write '{target}': the folder '{folder}' does not exist",
                            hints=[f"create it first (mkdir -p '{folder}') or choose another output"]))


# What the system's refusals to write mean to a user (errno -> reason, help); the rest say the system's own words.
_REFUSALS = {
    errno.EACCES: ("permission denied", "choose an output in a folder you can write"),
    errno.EPERM: ("permission denied", "choose an output in a folder you can write"),
    errno.ENOSPC: ("no space left on the device", "free some space, or choose an output on another device"),
    errno.EDQUOT: ("the disk quota is used up", "free some space, or choose an output on another device"),
    errno.EROFS: ("the file system is read-only", "choose an output on a file system that can be written"),
    errno.EFBIG: ("the file would be larger than its file system allows", "choose an output on another file system"),
}


def write_failed(target: str | os.PathLike, failure: OSError, *, in_place: bool = False) -> UsageError:
    """bad-output (exit 2) for an output that the system refused to create or write: `failure` is the OSError, from
    the output itself or its temporary file; the text names the output the user gave, never the temporary file, and
    says that nothing was written (atomic_output leaves an existing output as it was), but for a device written
    `in_place`, which may have taken part of it."""
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    if failure.errno in (errno.ENOENT, errno.ENOTDIR) and not folder.is_dir():
        return _no_folder(target, folder)         # the folder went away, or was never there (ingest, the API)
    if failure.errno == errno.ENOENT:             # the folder is there, but makes no file (/proc)
        reason, hint = f"the folder '{folder}' takes no new files", "choose an output in another folder"
    else:
        words = failure.strerror or str(failure) or type(failure).__name__
        reason, hint = _REFUSALS.get(failure.errno, (words[:1].lower() + words[1:], "choose another output"))
    return UsageError(error("bad-output", f"cannot write '{target}': {reason}",
                            hints=[hint if in_place else hint + "; nothing was written"]))


def stdout_failed(failure: BaseException) -> UsageError | None:
    """bad-output (exit 2) where `failure` is the system refusing to write the standard output (`> /dev/full`, a full
    disk behind a redirection): an OSError with no file name whose errno says the device refused (_REFUSALS, EIO);
    None for any other error, which is no output's."""
    if not isinstance(failure, OSError) or failure.filename is not None:
        return None
    if failure.errno not in _REFUSALS and failure.errno != errno.EIO:
        return None
    reason = _REFUSALS[failure.errno][0] if failure.errno in _REFUSALS else "input/output error"
    full = failure.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
    return UsageError(error("bad-output", f"cannot write the standard output: {reason}",
                            hints=["free some space, or send the output elsewhere" if full else
                                   "send the output elsewhere"]))


class TargetFile(io.FileIO):
    """The file atomic_output writes (the temporary file, or a device in place): an io.FileIO (bytes; atomic_output
    buffers it, and wraps it in UTF-8 text for text outputs) that remembers the first OSError a write to it gave
    (`failure`). The writers above it (csv, zipfile, pyarrow) may wrap or replace that error on its way out, and
    atomic_output must still know that the output itself failed, and not something the caller did while writing
    (evaluating a chunk, a Dask worker). Tests put a subclass in its place to fill a disk."""

    failure: OSError | None = None

    def write(self, data):
        try:
            return super().write(data)
        except OSError as exc:
            self.failure = self.failure or exc
            raise


@contextmanager
def atomic_output(path: str | os.PathLike, *, binary: bool = False) -> Iterator[IO]:
    """A stream whose content replaces `path` when the block ends without an exception, and vanishes otherwise.

    A target that exists and is not a regular file (a device such as /dev/null, a FIFO) is written in place: it
    cannot be replaced, and must not be. Raises UsageError (bad-output, exit 2) where the target is a folder, cannot
    be created, written (no permission, a full disk, a read-only file system: write_failed) or replaced; an error
    the block raises that is not the output's own goes on as it was. Nothing is left beside the target.
    """
    target = Path(path)
    check_target(target, folder_must_exist=False)
    try:
        mode = os.stat(target).st_mode
    except OSError:
        mode = None
    in_place = mode is not None and not stat.S_ISREG(mode)
    temp, raw = None, None
    try:
        if in_place:
            raw = TargetFile(str(target), "w")
        else:
            folder = target.parent if str(target.parent) else Path(".")
            handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
            raw = TargetFile(handle, "w")
            # mkstemp creates the file readable by its owner only; give it the mode a plain open() would.
            os.chmod(temp, 0o666 & ~_umask())
    except OSError as exc:
        if raw is not None:
            raw.close()
        _discard(temp)
        raise write_failed(target, exc, in_place=in_place) from None
    buffered = io.BufferedWriter(raw)
    stream = buffered if binary else io.TextIOWrapper(buffered, encoding="utf-8", newline="")
    written = False
    try:
        yield stream
        written = True
        stream.flush()
        if not in_place:
            os.fsync(raw.fileno())
        stream.close()
    except BaseException as exc:
        with suppress(OSError, ValueError):       # what is still buffered goes nowhere: the file is dropped
            stream.close()
        _discard(temp)
        failure = raw.failure or (exc if written and isinstance(exc, OSError) else None)
        if failure is not None and isinstance(exc, Exception):    # Ctrl-C and SIGTERM stay what they are
            raise write_failed(target, failure, in_place=in_place) from None
        raise
    if temp is not None:
        try:
            os.replace(temp, target)
        except OSError as exc:
            _discard(temp)
            raise UsageError(error("bad-output", f"cannot replace '{target}': {exc.strerror or exc}",
                                   hints=["close the file if a spreadsheet program has it open"])) from None


def _discard(temp: str | None) -> None:
    """Remove a temporary file, if any; one already gone, or that cannot be removed, is left to the system."""
    if temp is not None:
        with suppress(OSError):
            os.unlink(temp)


def write_text_atomically(path: str | os.PathLike, content: str | Callable[[TextIO], None]) -> Path:
    """Write text (or whatever `content(stream)` writes) to `path` through atomic_output."""
    with atomic_output(path) as stream:
        if callable(content):
            content(stream)
        else:
            stream.write(content)
    return Path(path)


def write_bytes_atomically(path: str | os.PathLike, content: bytes) -> Path:
    """Write bytes (an image, say) to `path` through atomic_output."""
    with atomic_output(path, binary=True) as stream:
        stream.write(content)
    return Path(path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def silence(stream) -> None:
    """Point a stream whose reader has gone at the null device (Python's advice for SIGPIPE: its buffered text
    is dropped, and writing or flushing it no longer fails)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (a test's capture): nothing to point elsewhere
        pass
