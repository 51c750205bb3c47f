"""numpy for the modules that `perfdsl check` imports, imported at its first use rather than at theirs.

A check computes nothing with numpy (a report's sweep is checked as tuples: sweeps.build_context with arrays=False;
only a sweep value that is a formula is computed, with numpy), yet the checker's modules are those that evaluation
uses too (operators, functions, the evaluator): with `np = lazy_numpy(__name__)` in place of `import numpy as np`,
a module's `np` is a stand-in until one of numpy's names is read through it; then numpy is imported and the
stand-in puts numpy itself in its module's `np` (every later use is a plain global look-up, as with the import it
replaces). A name read at a module's import (a table of ufuncs, a base class) imports numpy there: such tables are
built at their first use instead (operators.Operator.kernel).
"""

from __future__ import annotations

import importlib
import sys


class _LazyNumpy:
    """The stand-in: `np.NAME` imports numpy, rebinds the module's `np` to it and gives numpy's NAME."""

    __slots__ = ("_module",)

    def __init__(self, module: str):
        self._module = module

    def __getattr__(self, name: str):
        if name == "_module":                   # not set yet (a copy being made): no recursion, no import
            raise AttributeError(name)
        import numpy

        module = sys.modules.get(self._module)
        if module is not None and module.__dict__.get("np") is self:
            module.np = numpy
        return getattr(numpy, name)

    def __reduce__(self):
        """Pickled (and copied) as numpy itself: a function pickled by value with the globals it reads (Dask's
        cloudpickle does so) finds numpy where it is loaded."""
        return importlib.import_module, ("numpy",)

    def __repr__(self) -> str:
        return f"<numpy, imported at its first use in {self._module}>"


def lazy_numpy(module: str) -> "numpy":  # noqa: F821 - the stand-in reads as numpy
    """The stand-in for numpy in the module named `module` (its `__name__`), which binds it as `np`."""
    return _LazyNumpy(module)
