"""Optional packages (the extras of pyproject.toml), imported when a command needs them, with a usage error that
names the extra to install where one is missing."""

from __future__ import annotations

import importlib

from .errors import UsageError, error


def require(module: str, extra: str):
    """The module `module` (e.g. "pyarrow.parquet"), or UsageError (missing-package, exit status 2) naming
    `pip install 'perfdsl[EXTRA]'`."""
    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.partition(".")[0]
        raise UsageError(error("missing-package", f"this needs the package '{package}', which is not installed",
                               hints=[f"pip install 'perfdsl[{extra}]'"])) from None
