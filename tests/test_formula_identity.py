"""The evaluator's caches of formula nodes (compiled steps, constant values, resolved references: evaluator.Constants)
are keyed by id() of the node, and CPython gives an object's id() to a later object once the first is gone: "two
objects with non-overlapping lifetimes may have the same id() value" (the id() built-in's documentation). A node
made for one evaluation and dropped after it (a chunk's `where`, bound anew by queries.bind_axes) must not leave
its compiled step to whichever node takes its address next.

Before the fix, bind_axes copied every operation of a `where` at every chunk, and a chunk's `where` was now and then
computed with the step of another formula that had had its address (`memory.fits and ...` with the step of
`serving.tpot <= 50 ms`). Which node took which address followed the allocator: test_distributed's
test_runs_of_chunks_give_the_serial_answer[cheapest_setup-1000] failed once in a while (Dask worker threads in the
same process allocate in between); measured on the 2-core machine, capacity_questions.perf over batch = [1, 64] in
chunks of 150 points: an in-process cluster's answer differed from the serial one in 7 of 10 runs (RUNS_PER_THREAD
1000) and 10 of 10 (8), and the serial chunks' own answer differed from the whole evaluation in 19 of 30 repeated
runs in one process (the first run of a fresh process was right). Here `recycled_ids` stands in for the allocator,
deterministically: a number is given back once its object dies and goes to the next object asking (last freed,
first reused, as pymalloc's free lists do)."""

from __future__ import annotations

import weakref

import numpy as np
import pytest

import perfdsl
from perfdsl import evaluator as evaluator_module
from perfdsl.queries import bind_axes
from perfdsl.streaming import answer_in_chunks


class _RecycledIds:
    """id() as CPython may give it: unique among live objects, a dead object's number given to the next object."""

    def __init__(self):
        self.numbers: dict[int, int] = {}      # builtin id of a live object -> its number
        self.free: list[int] = []
        self.next = 1

    def __call__(self, obj) -> int:
        key = id(obj)
        number = self.numbers.get(key)
        if number is not None:
            return number
        try:
            weakref.finalize(obj, self._died, key)
        except TypeError:                      # not weakly referable: never recycled (negative: no clash)
            return -key
        number = self.numbers[key] = self.free.pop() if self.free else self.next
        self.next += number == self.next
        return number

    def _died(self, key: int) -> None:
        self.free.append(self.numbers.pop(key))


@pytest.fixture
def recycled_ids(monkeypatch) -> _RecycledIds:
    """evaluator.py's id() replaced by _RecycledIds (the module's global name comes before the built-in)."""
    ids = _RecycledIds()
    monkeypatch.setattr(evaluator_module, "id", ids, raising=False)
    return ids


def test_recycled_ids_give_a_dead_objects_number_to_the_next_object(recycled_ids):
    class Thing:
        pass

    first, second = Thing(), Thing()
    numbers = recycled_ids(first), recycled_ids(second)
    assert recycled_ids(first) == numbers[0] and numbers[0] != numbers[1]
    del first
    assert recycled_ids(Thing()) == numbers[0]                   # the dead one's number, as CPython may do


SPEC = """\
workload grid { sweep batch = 1 .. 12 }
costmodel cost {
    t = 2 * workload.batch
    u = 30 - 2 * workload.batch
}
report r {
    workload = grid
    show cost.t, cost.u
    where batch <= 5 and cost.u != 20
    best max cost.t
}
"""


def test_a_formula_node_dropped_after_an_evaluation_leaves_no_step_to_the_next(recycled_ids):
    program = perfdsl.load([], texts={"r.perf": SPEC})
    ctx, checker = program.prepare()
    report = ctx.report
    condition = report.wheres[0].cond                  # batch <= 5 and cost.u != 20
    batch = np.arange(1, 13, dtype=float)
    expected = {"left": batch <= 5, "right": 30 - 2 * batch != 20}
    for side in ("left", "right", "left"):
        # a new node of each side, dropped after its evaluation (its children are the program's own)
        node = getattr(condition, side).model_copy()
        evaluator = program.evaluator_in(ctx, checker)
        bound = bind_axes(node, ctx)                   # `batch`, a bare axis name, as meets_conditions binds it
        values = evaluator.run(lambda: evaluator.expr(bound, report))
        assert np.broadcast_to(values, ctx.shape).reshape(-1).tolist() == expected[side].tolist(), side
        del node, bound, values


def test_chunks_whose_where_binds_a_bare_axis_give_the_whole_answer(recycled_ids):
    # batch <= 5 and u = 30 - 2 batch != 20 (batch != 5): batch 1 .. 4, and t = 2 batch is largest at batch 4.
    # Either condition alone gives another answer (batch 5; batch 12), as does neither (batch 12).
    program = perfdsl.load([], texts={"r.perf": SPEC})
    whole = program.evaluate().records()
    assert whole == [{"batch": 4, "cost.t": 2 * 4, "cost.u": 30 - 2 * 4}]
    for chunk_points in (1, 2, 5):                      # 12, 6 and 3 chunks, each binding the `where` again
        assert answer_in_chunks(program, chunk_points=chunk_points).records() == whole, chunk_points


def test_a_where_without_a_bare_axis_name_is_the_programs_own_node():
    program = perfdsl.load([], texts={"r.perf": SPEC.replace("where batch <= 5", "where workload.batch <= 5")})
    ctx, _ = program.prepare()
    condition = ctx.report.wheres[0].cond
    assert bind_axes(condition, ctx) is condition
    # with a bare name, only the nodes above it are copies: `batch <= 5` and the `and`, not `cost.u != 20`
    bare = perfdsl.load([], texts={"r.perf": SPEC}).prepare()[0].report.wheres[0].cond
    bound = bind_axes(bare, ctx)
    assert bound.left.left.parts == ("workload", "batch") and bare.left.left.parts == ("batch",)
    assert bound.left.right is bare.left.right and bound.right is bare.right


def test_each_chunk_reuses_the_bound_wheres_node():
    program = perfdsl.load([], texts={"r.perf": SPEC})
    constants = []
    for chunk_points in (6, 1):                         # 2 chunks, then 12: each binds the `where` anew
        assert answer_in_chunks(program, chunk_points=chunk_points).records()[0]["batch"] == 4
        constants.append(program._constants["r"])
    assert constants[0] is constants[1]
    # one bound copy of the `where`, whatever the number of chunks, so the nodes held do not grow with them
    assert len(constants[1].lasting) == 1
    held = len(constants[1].held)
    answer_in_chunks(program, chunk_points=2)
    assert len(constants[1].held) == held
