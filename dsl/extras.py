"""Optional packages (the extras of pyproject.toml), imported when a command needs them, with a usage error that
says how to install the extra where one is missing."""

from __future__ import annotations

import importlib
import shlex
import sys
from pathlib import Path

from .errors import UsageError, error


def install_hint(extra: str) -> str:
    """How to install an extra, in both places perfdsl comes from: a checkout (the usual one: an editable install
    of its folder, as `make` does) and a package index. In a checkout the pip named is the one of the Python perfdsl
    runs in (checkout_pip): a bare `pip` may be another Python's, and `make run` installs no extra."""
    pip, in_venv = checkout_pip()
    make = " (or `make extras`: notebook, parquet and dask)" if in_venv and extra in MAKE_EXTRAS else ""
    return (f"in the perfdsl checkout: {pip} install -e '.[{extra}]'{make}; from a package index: "
            f"pip install 'perfdsl[{extra}]'")


MAKE_EXTRAS = ("notebook", "parquet", "dask")     # what the Makefile's `extras` target installs


def checkout_pip() -> tuple[str, bool]:
    """The pip command of the running Python, as a user types it in the checkout, and whether it is the
    checkout's own `.venv` (the one `make` builds): `.venv/bin/pip` there, else `PYTHON -m pip` with the running
    interpreter's path."""
    checkout = Path(__file__).resolve().parent.parent
    try:
        in_venv = Path(sys.prefix).resolve() == (checkout / ".venv").resolve()
    except OSError:
        in_venv = False
    if in_venv:
        return ".venv/bin/pip", True
    return f"{shlex.quote(sys.executable or 'python3')} -m pip", False


def require(module: str, extra: str):
    """The module `module` (e.g. "pyarrow.parquet"), or UsageError (missing-package, exit status 2) naming how to
    install the extra `extra` (install_hint)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.partition(".")[0]
        raise UsageError(error("missing-package", f"this needs the package '{package}', which is not installed",
                               hints=[install_hint(extra)])) from None
