"""The full cost model over a large sweep (issue: model and GPU libraries and the cost model).

reports/capacity_planning.perf: 30 models x 13 GPUs x batch 1..256 x prompt 128..32k x output 1..4k x tensor
parallel 1..8 = 884,520 points through every cell of costmodels/transformer_inference.perf. The figure to
report is points per second (the open estimators evaluate 2,000 to 8,000 points per second in a Python loop).
"""

from __future__ import annotations

from pathlib import Path

import perfdsl

REPORT = Path(__file__).resolve().parents[1] / "reports" / "capacity_planning.perf"


def test_full_cost_model_over_the_capacity_planning_sweep(benchmark):
    program = perfdsl.load(REPORT)
    result = benchmark(program.evaluate)
    assert result.n_points == 30 * 13 * 9 * 9 * 7 * 4
    # Tensor-parallel degrees that do not divide a model's heads are left out (tests/test_constraints.py counts them)
    assert all(w.code == "constraint" for w in result.warnings)
    benchmark.extra_info["points"] = result.n_points
    benchmark.extra_info["points_per_second"] = result.n_points / benchmark.stats.stats.median


def test_seed_report_with_measured_runs(benchmark):
    program = perfdsl.load(REPORT.parent / "seed_benchmark.perf")

    def evaluate_and_match():
        from perfdsl.matching import compare_with_runs

        result = program.evaluate()
        return compare_with_runs(result)

    comparison = benchmark(evaluate_and_match)
    assert comparison.n_runs == 12
