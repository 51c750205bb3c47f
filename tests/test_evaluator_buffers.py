"""The evaluator writes an operation's result into a temporary operand (evaluator._combine), and lays a new array
out in memory along its longest axis (evaluator._long_axis_last): the values are those of plain numpy, bit for bit,
and no cell, sweep value or constant is ever written into."""

from __future__ import annotations

import numpy as np

import perfdsl

SPEC = """
costmodel chain {
    sweep x = [1, 2, 3, 4]
    sweep y = [0.5, 1.5, 2.5]
    k = 3
    a = x * 2 + y
    b = (a * 3 + a) / (a - y) - a * a
    c = max(a * y, b + 1, k) + min(a, y * 7, x * 1e300 * 1e300)
    d = -(a * 2) + a ^ 2
    e = if(x > 2, a * y, a / y) + a * 0
}

report chain_report {
    costmodel = chain
    show chain.a, chain.b, chain.c, chain.d, chain.e, chain.x, chain.y
}
"""


def _bits(a) -> list[int]:
    return np.asarray(a, dtype=np.float64).reshape(-1).view(np.int64).tolist()


def test_temporaries_reused_give_plain_numpys_values_and_leave_cells_alone(tmp_path, monkeypatch):
    from perfdsl import evaluator

    monkeypatch.setattr(evaluator, "LARGE_SWEEP", 1)       # as for a large sweep: buffers reused, memory order chosen
    (tmp_path / "chain.perf").write_text(SPEC)
    result = perfdsl.load(tmp_path / "chain.perf").evaluate()
    x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(4, 1)
    y = np.array([0.5, 1.5, 2.5]).reshape(1, 3)
    a = x * 2 + y
    b = (a * 3 + a) / (a - y) - a * a
    with np.errstate(over="ignore"):
        c = np.maximum(np.maximum(a * y, b + 1), 3.0) + np.minimum(np.minimum(a, y * 7), x * 1e300 * 1e300)
    d = -(a * 2) + a ** 2
    e = np.where(x > 2, a * y, a / y) + a * 0
    for name, expected in (("a", a), ("b", b), ("c", c), ("d", d), ("e", e)):
        assert _bits(result.column(f"chain.{name}", all_points=True)) == _bits(np.broadcast_to(expected, (4, 3))), name
    # The sweep values and the cell `a` that every later cell read are as they were: nothing wrote into them.
    assert result.column("chain.x", all_points=True).tolist() == [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]
    assert result.column("chain.y", all_points=True).tolist() == [0.5, 1.5, 2.5] * 4
    evaluator = result.evaluator
    kept = [value for (block, name, _), value in evaluator.memo.items() if block == "chain" and name == "a"]
    assert kept and all(_bits(np.broadcast_to(v, (4, 3))) == _bits(np.broadcast_to(a, (4, 3))) for v in kept)
    # a = x * 2 + y is 4 x 3: its memory runs along the 4-long axis (x), numpy's own choice would be the last (y).
    assert kept[0].shape == (4, 3) and kept[0].strides == (8, 32)
