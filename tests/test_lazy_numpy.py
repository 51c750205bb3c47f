"""numpy imported at its first use (dsl/lazy_numpy.py): `perfdsl check` of files with no report imports no numpy
(nothing is computed), a report's check and every evaluation import it and give what they gave, and the modules'
`np` becomes numpy itself at its first use.

Each import check runs in a new Python process (this one has numpy imported by other tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy

from perfdsl import lazy_numpy

REPO = Path(__file__).resolve().parent.parent

IMPORTED = ("import sys\nfrom perfdsl import cli\nstatus = cli.main(sys.argv[1:])\n"
            "print('numpy' in sys.modules)\nsys.exit(status)\n")


def check_imports_numpy(*files: str) -> tuple[int, str]:
    """(exit status, whether numpy was imported) of `perfdsl check --no-cache -j 1 FILES` in a new process."""
    done = subprocess.run([sys.executable, "-c", IMPORTED, "check", "--no-cache", "-j", "1", *files], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout


def test_a_check_of_files_with_no_report_imports_no_numpy():
    """Model, GPU and stack families and a cost model: checked (status 0) without numpy; a report needs it (its
    sweep's values are arrays)."""
    assert check_imports_numpy("models/llama.perf", "hardware/ada.perf", "software/stacks.perf",
                               "costmodels/transformer_inference.perf") == (0, "False\n")
    assert check_imports_numpy("reports/example.perf") == (0, "True\n")


def test_the_stand_in_becomes_numpy_in_its_module():
    """The first name read through a module's stand-in imports numpy and rebinds the module's `np` to numpy."""
    module = type(sys)("lazy_numpy_test_module")
    module.np = lazy_numpy.lazy_numpy(module.__name__)
    sys.modules[module.__name__] = module
    try:
        assert module.np is not numpy
        assert module.np.add is numpy.add
        assert module.np is numpy
    finally:
        del sys.modules[module.__name__]


def test_the_stand_in_pickles_and_copies_as_numpy():
    """A stand-in pickled (a function pickled by value with its globals, as cloudpickle does for Dask) or copied is
    numpy where it is loaded: it was a RecursionError (its __getattr__ read its own slot, not yet set)."""
    import copy
    import pickle

    stand_in = lazy_numpy.lazy_numpy("a_module_never_imported")
    assert pickle.loads(pickle.dumps(stand_in)) is numpy
    assert copy.copy(stand_in) is numpy
    assert copy.deepcopy(stand_in) is numpy


def test_labelled_array_is_still_a_name_of_result():
    from perfdsl import labelled, result
    from perfdsl.result import LabelledArray

    assert LabelledArray is result.LabelledArray is labelled.LabelledArray
