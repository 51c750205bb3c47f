"""Where the bundled spec libraries (`models/`, `hardware/`, `costmodels/`) live.

In a source checkout or an editable install they are the folders at the top of the repository; a plain
`pip install .` copies them into the package as `perfdsl/_library/`.
"""

from __future__ import annotations

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


@lru_cache(maxsize=1)
def library_index() -> dict[str, str]:
    """Block name -> the bundled file that defines it, as an import path (`"models/llama.perf"`).

    Read with a pattern over the block headers, not parsed, so it is cheap enough for an error message; a file that
    cannot be read is left out (its blocks are then simply not suggested).
    """
    from .ir import BLOCK_KINDS          # not at the top: the loader resolves imports without the IR (pydantic)

    header = re.compile(r"^[ \t]*(?:" + "|".join(BLOCK_KINDS) + r")[ \t]+([A-Za-z_][A-Za-z0-9_]*)", re.M)
    index: dict[str, str] = {}
    for path in library_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for match in header.finditer(text):
            index.setdefault(match.group(1), f"{path.parent.name}/{path.name}")
    return index


def import_hint(name: str) -> list[str]:
    """A hint that names the bundled file to import for a block the loaded files do not define ([] if none does)."""
    defining = library_index().get(name)
    if defining is None:
        return []
    return [f"'{name}' is defined in the bundled library file {defining}: add `import \"{defining}\"`"]
