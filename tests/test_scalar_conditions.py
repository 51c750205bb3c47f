"""scalar_conditions.condition_value: a constant condition computed in plain Python gives the evaluator's answer, or
None (then the evaluator decides), never another answer.

Each condition is written in a model whose cells are constants; the expected value is the evaluator's own
(np.all of Evaluator.expr, as constraints._holds_everywhere computed every condition before the plain path).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perfdsl
from perfdsl.context import ReportContext
from perfdsl.evaluator import Evaluator
from perfdsl.scalar_conditions import condition_value

CELLS = """
    heads = 32
    kv_heads = 8
    tdp = 300 W
    idle = 60 W
    zero = 0
    half = 0.5
    small = -2
    big = 1e300
    mode = "tp"
    gated = true
    ratio = heads / kv_heads
    chosen = if(gated, heads, kv_heads)
    kind = batch_kind
    batch_kind = "static"
"""


def _both(condition: str, cells: str = CELLS) -> tuple[bool | None, bool]:
    """(condition_value's answer, the evaluator's) for `condition` written in model `m` with `cells`."""
    program = perfdsl.load([], texts={"c.perf": f"model m {{\n{cells}\n    probe = {condition}\n}}\n"})
    block = program.blocks["m"]
    expr = block.cells["probe"].expr
    evaluator = Evaluator(program.blocks, ReportContext(report=block), program.sources)
    slow = bool(np.all(evaluator.run(lambda: evaluator.expr(expr, block))))
    return condition_value(evaluator.link, expr, block, {}), slow


@pytest.mark.parametrize("condition, expected", [
    ("heads / kv_heads == floor(heads / kv_heads)", 32 / 8 == 4.0),
    ("heads / 3 == floor(heads / 3)", False),                      # 32 / 3 = 10.67
    ("idle >= 0 W and idle <= tdp", 0 <= 60 <= 300),
    ("ratio >= 4 or heads < 1", True),
    ("mode == \"tp\" and not (mode != \"tp\")", True),
    ("kind == \"static\"", True),
    ("chosen == 32", True),                                        # if(gated, ...) takes the first value
    ("max(heads, kv_heads, 4) == 32 and min(heads, kv_heads) == 8", True),
    ("ceil(half) == 1 and floor(half) == 0 and abs(0 - half) == half", True),
    ("-heads < 0", True),
    ("big * 1 > 0", True),
    ("0.1 + 0.2 == 0.3", 0.1 + 0.2 == 0.3),                        # False in IEEE doubles, in both
])
def test_a_constant_condition_has_the_evaluators_value(condition, expected):
    assert _both(condition) == (expected, expected)


@pytest.mark.parametrize("condition", [
    "heads / zero > 1",                   # a division by zero: numpy flags it, Python raises
    "big * big > 1",                      # overflows to inf
    "big * big - big * big == 0",         # inf - inf is NaN
    "small < 0",                          # a negative cell: the evaluator warns about negative sizes
    "heads ^ 2 == 1024",                  # numpy's power may round otherwise than Python's
    "sqrt(heads) > 5",
    "log2(heads) == 5",
    "round(half) == 1",
    "heads == mode",                      # a number beside a string (an error the checker reports)
])
def test_what_numpy_might_compute_otherwise_is_left_to_the_evaluator(condition):
    fast, _ = _both(condition)
    assert fast is None


def test_a_cycle_is_left_to_the_evaluator():
    program = perfdsl.load([], texts={"c.perf": "model m {\n    a = b + 1\n    b = a + 1\n    probe = a > 0\n}\n"})
    block = program.blocks["m"]
    evaluator = Evaluator(program.blocks, ReportContext(report=block), program.sources)
    assert condition_value(evaluator.link, block.cells["probe"].expr, block, {}) is None


def test_cells_are_kept_for_the_next_condition():
    program = perfdsl.load([], texts={"c.perf": "model m {\n    a = 2\n    b = a * 3\n    p = b == 6\n"
                                                "    q = a == 2 and b > 5\n}\n"})
    block = program.blocks["m"]
    evaluator = Evaluator(program.blocks, ReportContext(report=block), program.sources)
    memo: dict = {}
    assert condition_value(evaluator.link, block.cells["p"].expr, block, memo) is True
    assert memo == {("m", "a"): 2.0, ("m", "b"): 6.0}
    assert condition_value(evaluator.link, block.cells["q"].expr, block, memo) is True


@settings(max_examples=150, deadline=None)
@given(a=st.floats(allow_nan=False, allow_infinity=False, width=64, min_value=0),
       b=st.floats(allow_nan=False, allow_infinity=False, width=64, min_value=0),
       op=st.sampled_from(["+", "-", "*", "/"]), compare=st.sampled_from(["<", "<=", ">", ">=", "==", "!="]))
def test_arithmetic_on_any_finite_values_agrees_with_numpy(a, b, op, compare):
    fast, slow = _both(f"a {op} b {compare} floor(a) + ceil(b)", f"    a = {a!r}\n    b = {b!r}\n")
    assert fast is None or fast == slow
