"""Where the bundled spec libraries (`models/`, `hardware/`, `costmodels/`) live.

In a source checkout or an editable install they are the folders at the top of the repository; a plain
`pip install .` copies them into the package as `perfdsl/_library/`.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

LIBRARIES = ("models", "hardware", "software", "costmodels")
# Where `import "SPEC"` looks, in order (loader.resolve_import): the one wording of every message that says so.
IMPORT_ORDER = ("relative to the importing file, then the working folder, then the bundled libraries ("
                + ", ".join(lib + "/" for lib in LIBRARIES) + ")")
_PACKAGE = Path(__file__).resolve().parent


def library_root() -> Path:
    """The folder that holds `models/` and `hardware/`."""
    installed = _PACKAGE / "_library"
    if (installed / "models").is_dir():
        return installed
    return _PACKAGE.parent


def library_path(name: str) -> Path:
    """The folder of one bundled library: library_path("models"), ("hardware"), ("software") or ("costmodels")."""
    if name not in LIBRARIES:
        raise ValueError(f"unknown library {name!r}; the bundled libraries are {', '.join(LIBRARIES)}")
    return library_root() / name


def library_files(name: str | None = None) -> list[Path]:
    """Every .perf file of one bundled library, or of all of them."""
    names = LIBRARIES if name is None else (name,)
    files: list[Path] = []
    for lib in names:
        folder = library_path(lib)
        if folder.is_dir():
            files.extend(sorted(folder.glob("*.perf")))
    return files


def _block_header(name: str = r"([A-Za-z_][A-Za-z0-9_]*)") -> re.Pattern:
    """The pattern of a block's header (`model NAME`, at the start of a line), capturing the name, or of the
    header of the block `name` (re-escaped by the caller)."""
    from .ir import BLOCK_KINDS          # not at the top: the loader resolves imports without the IR (pydantic)

    return re.compile(r"^[ \t]*(?:" + "|".join(BLOCK_KINDS) + r")[ \t]+" + name + r"(?![A-Za-z0-9_])", re.M)


@lru_cache(maxsize=1)
def library_index() -> dict[str, str]:
    """Block name -> the bundled file that defines it, as an import path (`"models/llama.perf"`).

    Read with a pattern over the block headers, not parsed, so it is cheap enough for an error message; a file that
    cannot be read is left out (its blocks are then simply not suggested).
    """
    header = _block_header()
    index: dict[str, str] = {}
    for path in library_files():
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            continue
        for match in header.finditer(text):
            index.setdefault(match.group(1), f"{path.parent.name}/{path.name}")
    return index


# How much of the folders beside a file `nearby_import` reads, on the path of an error only: a folder of specs holds
# tens of files, and these bounds keep a folder of thousands (or a huge file) from slowing an error message.
NEARBY_FILES = 200
NEARBY_BYTES = 1 << 20


def nearby_import(name: str, near: str | None) -> str | None:
    """The import path, relative to the file `near`, of a .perf file in its folder or the folder above that defines
    a block `name` (its own folder first, files by name), or None: where `near` is no file on disk (`--set`, text
    given through the API), or no such file defines it. Read with a pattern over block headers, not parsed: the
    first NEARBY_FILES .perf files of each folder, those up to NEARBY_BYTES; raises nothing."""
    if not near:
        return None
    try:
        here = Path(near).resolve()
        if not here.is_file():
            return None
    except (OSError, ValueError):
        return None
    header = _block_header(re.escape(name))
    for folder, prefix in ((here.parent, ""), (here.parent.parent, "../")):
        try:
            files = sorted(entry.path for entry in os.scandir(folder) if entry.name.endswith(".perf")
                           and not entry.name.startswith(".") and entry.is_file())[:NEARBY_FILES]
        except OSError:
            continue
        for path in map(Path, files):
            try:
                if path == here or path.stat().st_size > NEARBY_BYTES:
                    continue
                text = path.read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError):
                continue
            if header.search(text):
                return prefix + path.name
    return None


def import_hint(name: str, near: str | None = None) -> list[str]:
    """A hint that names the file to import for a block the loaded files do not define ([] if none does): a .perf file
    beside `near` (the file that writes the name: nearby_import), else the bundled library file."""
    beside = nearby_import(name, near)
    if beside is not None:
        return [f"'{name}' is defined in {beside}: add `import \"{beside}\"` to {near}"]
    defining = library_index().get(name)
    if defining is None:
        return []
    return [f"'{name}' is defined in the bundled library file {defining}: add `import \"{defining}\"`"]
