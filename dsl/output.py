"""Writing output files: atomically, never over an input, and with no text a spreadsheet would run.

Every file perfdsl writes (CSV, JSON, JSON Lines, text tables, workbooks, run logs, .perf models) goes through
`atomic_output`: the content is written to a hidden temporary file beside the target and moved onto it with
os.replace, so a failed or interrupted run never leaves a half-written file, and readers see either the old file or
the new one. The temporary file is removed on every exit Python sees: an error, Ctrl-C (KeyboardInterrupt), and
SIGTERM or SIGHUP, which the command line turns into an exception (cli.Terminated). Only SIGKILL cannot be seen.

Text cells of the CSV and JSON Lines we write are neutralised as OWASP's "CSV Injection" guidance says: text that
starts with = + - @, a tab or a carriage return gets a leading `'`, so that a spreadsheet shows it instead of
running it as a formula. Numbers stay numbers. The readers of perfdsl's own run logs take the `'` off again.
"""

from __future__ import annotations

import os
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator, TextIO

from .errors import UsageError, error

# OWASP, CSV Injection: "=", "+", "-", "@", tab (0x09) and carriage return (0x0D) start a formula in some spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Text that a spreadsheet would run as a formula, with a leading `'`; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def restore(text: str) -> str:
    """The text `neutralise` was given: a leading `'` before a formula character is taken off."""
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r":
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


def check_target(target: Path, *, folder_must_exist: bool = True) -> None:
    """A usage error for an output that is a folder, or (with folder_must_exist) whose folder does not exist."""
    if target.is_dir():
        raise UsageError(error("bad-output", f"cannot write '{target}': it is a folder",
                               hints=["name a file, e.g. -o out/results.csv"]))
    if not folder_must_exist:
        return
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(error("bad-output", f"cannot write '{target}': the folder '{folder}' does not exist",
                               hints=[f"create it first (mkdir -p '{folder}') or choose another output"]))


@contextmanager
def atomic_output(path: str | os.PathLike, *, binary: bool = False) -> Iterator[IO]:
    """A stream whose content replaces `path` when the block ends without an exception, and vanishes otherwise.

    A target that exists and is not a regular file (a device such as /dev/null, a FIFO) is written in place: it
    cannot be replaced, and must not be. Raises UsageError where the target is a folder or cannot be replaced, and
    OSError where the folder cannot be written (callers check the folder first, or report the failure as theirs).
    """
    target = Path(path)
    check_target(target, folder_must_exist=False)
    try:
        mode = os.stat(target).st_mode
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        with open(target, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8", "newline": ""})) as out:
            yield out
        return
    folder = target.parent if str(target.parent) else Path(".")
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        # mkstemp creates the file readable by its owner only; give it the mode a plain open() would.
        os.chmod(temp, 0o666 & ~_umask())
        with os.fdopen(handle, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8",
                                                                               "newline": ""})) as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        try:
            os.replace(temp, target)
        except OSError as exc:
            raise UsageError(error("bad-output", f"cannot replace '{target}': {exc.strerror or exc}",
                                   hints=["close the file if a spreadsheet program has it open"])) from None
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


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
