"""numpy imported at its first use (dsl/lazy_numpy.py): `perfdsl check` of the library imports no numpy (nothing is
computed: a report's sweep is checked as tuples, sweeps.build_context with arrays=False), a report whose sweep
values are formulas computes them with it, every evaluation imports it and gives what it gave, and the modules'
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


def test_a_check_imports_no_numpy():
    """Model, GPU and stack families, a cost model and reports: checked (status 0) without numpy (a report's sweep
    is built of tuples for its check); a sweep whose values are formulas is computed with it, as it is evaluated."""
    assert check_imports_numpy("models/llama.perf", "hardware/ada.perf", "software/stacks.perf",
                               "costmodels/transformer_inference.perf") == (0, "False\n")
    assert check_imports_numpy("reports/example.perf", "reports/capacity_planning.perf") == (0, "False\n")
    assert check_imports_numpy("tests/cases/eval_sweep_values_from_cells.perf")[1] == "True\n"


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


def test_a_check_builds_the_sweep_an_evaluation_builds():
    """A check's context (sweeps.build_context with arrays=False) holds tuples of the values, units and counts an
    evaluation's arrays hold: an arithmetic range's values exactly (range_point_list), a geometric range's to an
    ulp (numpy's SIMD pow), every role, string and zipped column as Python values."""
    from perfdsl.program import load
    from perfdsl.range_values import range_point_list, range_points
    from perfdsl.sweeps import build_context

    for start, stop, step in [(0.0, 1.0, 0.1), (1.0, 100.0, 0.3), (1e-3, 2.5, 7e-3), (-5.0, 5.0, 0.25)]:
        steps = (stop - start) / step
        exact = range_points(start, stop, step, False, steps).tolist()
        assert range_point_list(start, stop, step, False, steps) == exact
    geometric = range_points(3.0, 5000.0, 1.7, True, 14.0)
    assert numpy.allclose(range_point_list(3.0, 5000.0, 1.7, True, 14.0), geometric, rtol=1e-15, atol=0)
    program = load([str(REPO / "reports/capacity_planning.perf")])
    for report in program.reports:
        arrays = build_context(program.blocks[report], program.blocks, program.sources)
        plain = build_context(program.blocks[report], program.blocks, program.sources, arrays=False)
        assert [axis.name for axis in plain.axes] == [axis.name for axis in arrays.axes]
        for axis, plain_axis in zip(arrays.axes, plain.axes):
            for coord, plain_coord in zip(axis.coords, plain_axis.coords):
                assert isinstance(plain_coord.values, tuple) and plain_coord.value_list() == coord.value_list()
                assert (plain_coord.kind, plain_coord.unit, plain_coord.scale, plain_coord.integral) == \
                       (coord.kind, coord.unit, coord.scale, coord.integral)
