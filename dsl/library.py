"""Where the bundled spec libraries (`models/`, `hardware/`, `costmodels/`) live.

In a source checkout or an editable install they are the folders at the top of the repository; a plain
`pip install .` copies them into the package as `perfdsl/_library/`.
"""

from __future__ import annotations

from pathlib import Path

LIBRARIES = ("models", "hardware", "costmodels")
_PACKAGE = Path(__file__).resolve().parent


def library_root() -> Path:
    """The folder that holds `models/` and `hardware/`."""
    installed = _PACKAGE / "_library"
    if (installed / "models").is_dir():
        return installed
    return _PACKAGE.parent


def library_path(name: str) -> Path:
    """The folder of one bundled library: library_path("models"), ("hardware") or ("costmodels")."""
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
