"""Optional packages (the extras of pyproject.toml), imported when a command needs them, with a usage error that
says how to install the extra where one is missing."""

from __future__ import annotations

import importlib

from .errors import UsageError, error


def install_hint(extra: str) -> str:
    """How to install an extra, in both places perfdsl comes from: a checkout (the usual one: an editable install
    of its folder, as `make` does) and a package index."""
    return f"in the perfdsl checkout: pip install -e '.[{extra}]'; from a package index: pip install 'perfdsl[{extra}]'"


def require(module: str, extra: str):
    """The module `module` (e.g. "pyarrow.parquet"), or UsageError (missing-package, exit status 2) naming how to
    install the extra `extra` (install_hint)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.partition(".")[0]
        raise UsageError(error("missing-package", f"this needs the package '{package}', which is not installed",
                               hints=[install_hint(extra)])) from None
