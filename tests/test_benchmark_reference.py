"""The hand-written numpy reference of `make bench` (benchmarks/capacity_numpy.py) stays the capacity-planning
report's formulas: the speed figures compare perfdsl with the same arithmetic only while the two agree. Checked here
on the benchmark's 1e4-point sweep (10,530 points), so a cost-model change that the reference does not follow fails
the test suite, not only `make bench`; and on a small sweep over every tensor-parallel degree, since the 1e4 sweep
runs on one GPU only (the ring's NVLink domain and all-reduce latency reached `make bench` alone at first)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import perfdsl  # noqa: E402
from bench_scale import REPORTS, _program, _reference_inputs  # noqa: E402
from capacity_numpy import capacity  # noqa: E402


@pytest.mark.parametrize("sweep", ["reference_and_result", "tensor_parallel"])
@pytest.mark.parametrize("name", ["ttft", "tpot", "e2e", "memory", "energy_per_token",
                                  "total_token_throughput"])
def test_the_numpy_reference_equals_perfdsl(name, sweep, request):
    """On the benchmark's 1e4 sweep, and over every tensor-parallel degree (the fixtures below)."""
    reference, result = request.getfixturevalue(sweep)
    theirs = np.broadcast_to(reference[name], result.shape).reshape(-1)
    assert np.allclose(result.column(name, all_points=True), theirs, rtol=1e-12, atol=0)


def test_the_numpy_reference_finds_the_same_valid_points(reference_and_result):
    reference, result = reference_and_result
    assert result.n_points == 10_530
    valid = np.broadcast_to(reference["valid"], result.shape).reshape(-1)
    assert np.array_equal(result.valid.reshape(-1), valid)


@pytest.fixture(scope="module")
def reference_and_result():
    program = _program("1e4")
    result = program.evaluate()
    _, x = _reference_inputs(program)
    return capacity(x), result


@pytest.fixture(scope="module")
def tensor_parallel():
    """Every model and GPU of the report at tp 1, 2, 4 and 8 (bridged pairs, HGX boards and the MI300X mesh: inside
    and beyond the NVLink domain), two batches, one prompt and one reply length."""
    program = perfdsl.load(REPORTS / "capacity_planning.perf").with_overrides(
        {"batch": "[1, 64]", "seq_len": "[1024]", "output_len": "[256]", "tp": "[1, 2, 4, 8]"})
    result = program.evaluate()
    _, x = _reference_inputs(program)
    return capacity(x), result
