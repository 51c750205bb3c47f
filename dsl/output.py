"""Writing output files atomically, and never over an input.

A file is written to a temporary file beside the target and moved onto it with os.replace, so a failed run never
leaves a half-written file, and readers see either the old file or the new one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, Iterable, TextIO

from .errors import UsageError, error


def protect_inputs(output: str | os.PathLike, inputs: Iterable[str | os.PathLike]) -> None:
    """Refuse an output path that is one of the inputs, or whose folder does not exist (exit status 2)."""
    target = Path(output)
    for item in inputs:
        try:
            if Path(item).exists() and target.exists() and target.resolve() == Path(item).resolve():
                raise UsageError(error("output-is-input", f"refusing to write over the input '{item}'",
                                       hints=["choose another output file with -o"]))
        except OSError:
            continue
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(error("bad-output", f"cannot write '{output}': the folder '{folder}' does not exist"))


def write_text_atomically(path: str | os.PathLike, content: str | Callable[[TextIO], None]) -> Path:
    """Write text (or what `content(stream)` writes) as UTF-8 with '\\n' line ends, atomically, with the mode a
    plain open() would give (0666 less the umask)."""
    def write(fd: int) -> None:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            if callable(content):
                content(stream)
            else:
                stream.write(content)

    return _write_atomically(path, write)


def write_bytes_atomically(path: str | os.PathLike, content: bytes) -> Path:
    """Write bytes (an image, say) atomically, with the mode a plain open() would give."""
    def write(fd: int) -> None:
        with os.fdopen(fd, "wb") as stream:
            stream.write(content)

    return _write_atomically(path, write)


def _write_atomically(path: str | os.PathLike, write: Callable[[int], None]) -> Path:
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        # mkstemp creates the file readable by its owner only; give it the mode a plain open() would.
        os.chmod(temp, 0o666 & ~_umask())
        write(fd)
        os.replace(temp, target)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
