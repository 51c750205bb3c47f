"""data_stack.run_on_fresh_chunk: a computation that calls up and down many times costs the same minor page faults at
every caller depth (CPython 3.11 maps and unmaps a 16 KiB data-stack chunk at each crossing of a chunk boundary
otherwise), and an evaluation runs through it (Evaluator.run)."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

import perfdsl
from perfdsl.data_stack import run_on_fresh_chunk

REPORTS = Path(__file__).resolve().parents[1] / "reports"
CALLER_DEPTHS = range(0, 160, 3)     # a chunk holds about 140 frames of `_at_depth`: every position in it


def _at_depth(depth: int, func):
    """func() called `depth` Python frames below this one."""
    return func() if depth == 0 else _at_depth(depth - 1, func)


def _descend(levels: int) -> int:
    return 0 if levels == 0 else _descend(levels - 1) + 1


def _waves() -> int:
    """200 descents of 30 frames (about 4 KiB of data stack): 200 crossings where a chunk boundary falls in it."""
    return sum(_descend(30) for _ in range(200))


def _minor_faults(func) -> int:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    func()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def _worst_over_depths(func) -> int:
    func()                                   # warm: first calls may fault for other reasons (code caches)
    return max(_at_depth(depth, lambda: _minor_faults(func)) for depth in CALLER_DEPTHS)


def test_a_fresh_chunk_costs_the_same_at_every_caller_depth():
    plain = _worst_over_depths(_waves)
    if plain < 100:
        pytest.skip(f"this Python does not map a chunk at each crossing ({plain} page faults at the worst depth)")
    held = _worst_over_depths(lambda: run_on_fresh_chunk(_waves))
    # The holding frame's chunk: 32 KiB, 8 pages at most, mapped once.
    assert held <= 12, (plain, held)


def test_the_result_and_exceptions_pass_through():
    assert run_on_fresh_chunk(divmod, 7, 2) == (3, 1)
    with pytest.raises(ZeroDivisionError):
        run_on_fresh_chunk(divmod, 7, 0)


def test_an_evaluation_faults_alike_at_every_caller_depth():
    """The capacity-planning report over 10,530 points (benchmarks/bench_scale.py's 1e4 sweep): 80-150 page faults
    an evaluation at the worst caller depths without the fresh chunk, about 7 with it."""
    program = perfdsl.load(REPORTS / "capacity_planning.perf").with_overrides(
        {"batch": "[1, 16, 128]", "seq_len": "[512, 2048, 8192]", "output_len": "[16, 256, 4096]", "tp": "[1]"})
    program.evaluate()
    worst = max(_at_depth(depth, lambda: _minor_faults(program.evaluate)) for depth in range(0, 150, 10))
    assert worst <= 30
