"""Formulas compiled once per prepared report (dsl/compiled.py) and the parts of a formula that read constant cells
only, computed once and kept (evaluator.Evaluator._constant_node): a report evaluated again, or chunk by chunk,
gives the values and the warnings of its first evaluation, bit for bit."""

from __future__ import annotations

import numpy as np

import perfdsl
from perfdsl.streaming import evaluate_chunks

SPEC = """\
model m1 { hidden = 4
           zero = 0 }
model m2 { hidden = 8
           zero = 0 }
workload grid { sweep batch = [1, 2, 3] }
costmodel cost {
    scaled = 2 * model.hidden * model.hidden + workload.batch
    spread = max(model.hidden / 4, 1.5, model.hidden - 3) * workload.batch
    odd    = workload.batch * (1 / model.zero)
}
report r {
    sweep model = [m1, m2]
    workload = grid
    show cost.scaled, cost.spread, cost.odd
}
"""


def _program(tmp_path):
    (tmp_path / "r.perf").write_text(SPEC)
    return perfdsl.load(tmp_path / "r.perf")


def test_a_formula_part_over_constant_cells_gives_the_same_values_at_every_evaluation(tmp_path):
    program = _program(tmp_path)
    hidden = np.array([4.0, 8.0]).reshape(2, 1)
    batch = np.array([1.0, 2.0, 3.0]).reshape(1, 3)
    expected_scaled = (2 * hidden * hidden + batch).reshape(-1).tolist()          # 33, 34, 35, 129, 130, 131
    expected_spread = (np.maximum(np.maximum(hidden / 4, 1.5), hidden - 3) * batch).reshape(-1).tolist()
    for _ in range(3):                                   # the first computes the parts, the others reuse them
        result = program.evaluate()
        assert result.column("cost.scaled", all_points=True).tolist() == expected_scaled
        assert result.column("cost.spread", all_points=True).tolist() == expected_spread
    assert expected_scaled == [33.0, 34.0, 35.0, 129.0, 130.0, 131.0]
    assert expected_spread == [1.5, 3.0, 4.5, 5.0, 10.0, 15.0]


def test_a_constant_part_that_divides_by_zero_is_warned_about_at_every_evaluation(tmp_path):
    program = _program(tmp_path)
    first = [d.code for d in program.evaluate().warnings]
    second = [d.code for d in program.evaluate().warnings]
    assert "division-by-zero" in first
    assert second == first


def test_chunks_that_cut_the_role_axis_give_the_whole_evaluations_values(tmp_path):
    program = _program(tmp_path)
    whole = program.evaluate()
    rows = {name: [] for name in ("cost.scaled", "cost.spread")}
    # Chunks of at most 2 points: m1 x [1, 2], m1 x [3], m2 x [1, 2], m2 x [3]; each takes one model of the role.
    for _, chunk in evaluate_chunks(program, chunk_points=2):
        for name in rows:
            rows[name].extend(chunk.column(name).tolist())
    for name, values in rows.items():
        assert values == whole.column(name, all_points=True).tolist(), name
