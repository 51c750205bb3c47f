"""A large ufunc call split over threads (split_kernels.py) gives the bits of one call, reports the floating-point
errors one call would report, in numpy's order, and leaves no thread behind; an evaluation that splits equals one
that does not, warnings included."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perfdsl
from perfdsl import split_kernels
from perfdsl.split_kernels import Splitter

UFUNCS = [np.add, np.subtract, np.multiply, np.divide, np.power, np.minimum, np.maximum]


def _bits(a) -> list[int]:
    return np.ascontiguousarray(a, dtype=np.float64).reshape(-1).view(np.int64).tolist()


@pytest.fixture
def split_everything(monkeypatch):
    """Every call split, however small (the threshold is about speed, not about what is computed)."""
    monkeypatch.setattr(split_kernels, "MIN_SPLIT_VALUES", 1)


@st.composite
def broadcast_operands(draw):
    """Two operands of a sweep's kind: each axis of the output, 1 to 7 long, taken whole or as 1 by each operand;
    the output laid out in memory in any order of its axes (Evaluator._long_axis_last lays it out so)."""
    shape = draw(st.lists(st.integers(1, 7), min_size=1, max_size=4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    operands = []
    for _ in range(2):
        own = [n if draw(st.booleans()) else 1 for n in shape]
        dropped = draw(st.integers(0, len(own)))             # leading axes of length 1 may be left out
        own = own[dropped:] if all(n == 1 for n in own[:dropped]) else own
        operands.append(rng.uniform(-3, 3, size=own) if own else np.float64(rng.uniform(-3, 3)))
    order = draw(st.permutations(range(len(shape))))
    inverse = np.argsort(order)
    out = np.empty([shape[k] for k in order]).transpose(inverse)
    return operands[0], operands[1], out


def _helper_parts(monkeypatch) -> list[str]:
    """The names of the threads other than the main one that ran a part of a split call, as they run."""
    names: list[str] = []
    real_part = split_kernels._part

    def part(*args):
        if threading.current_thread() is not threading.main_thread():
            names.append(threading.current_thread().name)
        return real_part(*args)

    monkeypatch.setattr(split_kernels, "_part", part)
    return names


@settings(max_examples=150, deadline=None)
@given(broadcast_operands(), st.sampled_from(UFUNCS), st.integers(2, 5), st.booleans())
def test_a_split_call_gives_the_bits_of_one_call(operands, ufunc, parts, in_place):
    """Against one call into an output of the same memory layout (numpy's own bits may depend on the layout); with
    `in_place`, the output is the first operand itself where it has the output's shape, as Evaluator._combine
    writes into a temporary."""
    a, b, out = operands
    if in_place and np.shape(a) == out.shape:
        out[...] = a
        a = out
    expected = np.empty_like(out)
    with np.errstate(all="ignore"):
        ufunc(a.copy() if a is out else a, b, out=expected)
        old, split_kernels.MIN_SPLIT_VALUES = split_kernels.MIN_SPLIT_VALUES, 1
        try:
            with Splitter(parts) as splitter:
                got = splitter.call(ufunc, a, b, out)
                split = splitter._pool is not None            # made at the first call that splits
        finally:
            split_kernels.MIN_SPLIT_VALUES = old
    assert got is out
    assert _bits(out) == _bits(expected)
    assert split == any(n > 1 for n in out.shape)


def test_the_output_is_cut_along_its_outermost_axis_in_memory_and_broadcast_operands_are_passed_whole():
    out = np.empty((4, 6)).T                  # shape (6, 4), memory runs along the 6-long axis: axis 1 is outermost
    a = np.ones((6, 1))
    b = np.ones(4)
    pieces = split_kernels._pieces(out, a, b, 2)
    assert [p[2].shape for p in pieces] == [(6, 2), (6, 2)]
    assert all(p[0] is a for p in pieces)                    # a does not vary along axis 1: whole
    assert [p[1].shape for p in pieces] == [(2,), (2,)]     # b lines up with the output's last axis: cut
    assert split_kernels._pieces(out, a, b, 9)[-1][2].shape == (6, 1)    # at most one part per position
    row_major = np.empty((6, 4))                                          # the same shape laid out the usual way
    pieces = split_kernels._pieces(row_major, a, b, 2)
    assert [p[2].shape for p in pieces] == [(3, 4), (3, 4)]
    assert [p[0].shape for p in pieces] == [(3, 1), (3, 1)] and all(p[1] is b for p in pieces)


def test_the_errors_of_the_parts_reach_the_handler_once_each_in_numpys_order(split_everything, monkeypatch):
    """0/0 in the first half (invalid value), 1/0 in the second (divide by zero): one call reports divide by zero
    first, then invalid value, each with the call's whole status; so does the split call, whichever part finishes
    first."""
    helpers = _helper_parts(monkeypatch)
    a = np.array([0.0] * 4 + [1.0] * 4)
    b = np.zeros(8)
    one_call: list[tuple[str, int]] = []
    with np.errstate(all="call", call=lambda kind, flag: one_call.append((kind, flag))):
        np.divide(a, b)
    split: list[tuple[str, int]] = []
    with np.errstate(all="call", call=lambda kind, flag: split.append((kind, flag))), Splitter(2) as splitter:
        splitter.call(np.divide, a, b, np.empty(8))
    assert [kind for kind, _ in one_call] == ["divide by zero", "invalid value"]
    assert split == one_call
    assert helpers == ["perfdsl-kernel_0"]                # the second half ran on the helper
    repeated: list[str] = []                             # the same error in both halves: reported once
    with np.errstate(all="call", call=lambda kind, flag: repeated.append(kind)), Splitter(2) as splitter:
        splitter.call(np.divide, np.ones(8), np.zeros(8), np.empty(8))
    assert repeated == ["divide by zero"]


def test_a_call_under_other_error_modes_or_over_overlapping_memory_is_not_split(split_everything):
    splitter = Splitter(2)
    a, out = np.ones(8), np.empty(8)
    with np.errstate(all="warn"):
        assert not splitter.splits(a, a, out)
    with np.errstate(all="call", call=lambda *_: None):
        assert splitter.splits(a, a, out)
        assert splitter.splits(out, a, out)                    # in place into an operand: each part its own slice
        assert not splitter.splits(out[::-1], a, out)          # another view of the output: parts would race
    with np.errstate(all="call"):                               # "call" with no handler: numpy's own error
        assert not splitter.splits(a, a, out)
    with np.errstate(all="ignore"):
        assert splitter.splits(a, a, out)
    assert not Splitter(1).splits(a, a, out)


def test_a_part_that_fails_fails_the_call_after_every_part_has_ended(split_everything):
    ended = []

    def kernel(a, b, out):
        if threading.current_thread() is not threading.main_thread():
            raise ValueError("a helper's part failed")
        out[...] = a + b
        ended.append(True)

    with pytest.raises(ValueError, match="a helper's part failed"), Splitter(2) as splitter, \
            np.errstate(all="call", call=lambda *_: None):
        splitter.call(kernel, np.ones(8), np.ones(8), np.empty(8))
    assert ended == [True]


def test_when_this_threads_part_fails_the_helpers_parts_end_before_the_call_does(split_everything):
    """Ctrl-C (KeyboardInterrupt) in this thread's part: the call waits for the helper's part, which writes its
    half, and no thread is left once the Splitter has ended."""
    release = threading.Event()

    def kernel(a, b, out):
        if threading.current_thread() is threading.main_thread():
            raise KeyboardInterrupt
        release.wait(5)
        out[...] = 7.0

    out = np.zeros(8)
    threads_before = threading.active_count()
    with Splitter(2) as splitter, np.errstate(all="call", call=lambda *_: None):
        threading.Timer(0.2, release.set).start()
        with pytest.raises(KeyboardInterrupt):
            splitter.call(kernel, np.ones(8), np.ones(8), out)
        assert out.tolist() == [0.0] * 4 + [7.0] * 4         # the helper's half was written before the call ended
    assert threading.active_count() == threads_before


def test_parts_no_helper_can_take_run_on_this_thread(split_everything, monkeypatch):
    """At interpreter shutdown no thread starts and no task is taken (RuntimeError): the parts run here."""
    a, b = np.arange(8.0), np.full(8, 3.0)
    with np.errstate(all="call", call=lambda *_: None), Splitter(3) as splitter:
        splitter.call(np.add, a, b, np.empty(8))                   # the pool made
        monkeypatch.setattr(splitter._pool, "submit", _refuse)
        out = np.empty(8)
        assert splitter.call(np.multiply, a, b, out) is out
        assert out.tolist() == (a * b).tolist()
    with np.errstate(all="call", call=lambda *_: None), Splitter(2) as splitter:
        import concurrent.futures

        monkeypatch.setattr(concurrent.futures, "ThreadPoolExecutor", _refuse)
        out = np.empty(8)
        assert splitter.call(np.subtract, a, b, out).tolist() == (a - b).tolist()
        assert splitter._pool is None


def _refuse(*args, **kwargs):
    raise RuntimeError("cannot schedule new futures after interpreter shutdown")


def test_only_the_main_thread_splits(split_everything):
    seen = []
    worker = threading.Thread(target=lambda: seen.append(split_kernels.default_parts()))
    worker.start()
    worker.join()
    assert seen == [1]
    splitter = Splitter(2)                              # made on the main thread, called from another

    def call():
        with np.errstate(all="ignore"):
            seen.append(splitter.splits(np.ones(8), np.ones(8), np.empty(8)))

    worker = threading.Thread(target=call)
    worker.start()
    worker.join()
    assert seen == [1, False]
    assert split_kernels.default_parts() == min(split_kernels.usable_cpus(), split_kernels.MAX_PARTS)


SPEC = """
costmodel chain {
    sweep x = [1, 2, 3, 4, 5]
    sweep y = [0.5, 1.5, 2.5, 0]
    k = 3
    a = x * 2 + y
    b = (a * 3 + a) / (a - y) - a * a
    c = max(a * y, b + 1, k) + min(a, y * 7, x * 1e300 * 1e300)
    d = -(a * 2) + a ^ 2 + x / y
    e = if(x > 2, a * y, a / y) + a * 0
    f = a * 1e300 * 1e300 - x
}

report chain_report {
    costmodel = chain
    show chain.a, chain.b, chain.c, chain.d, chain.e, chain.f
}
"""


def _evaluate(path, monkeypatch, parts: int):
    from perfdsl import evaluator

    monkeypatch.setattr(evaluator, "LARGE_SWEEP", 1)                # buffers reused, as for a large sweep
    monkeypatch.setattr(split_kernels, "MIN_SPLIT_VALUES", 1)
    monkeypatch.setattr(split_kernels, "default_parts", lambda: parts)
    return perfdsl.load(path).evaluate()


def test_an_evaluation_whose_calls_split_equals_one_whose_calls_do_not(tmp_path, monkeypatch):
    """The same cells, bit for bit, and the same warnings (a * 1e300 * 1e300 overflows, x / y divides by zero at
    y = 0), and no helper thread is left once the evaluation has ended."""
    (tmp_path / "chain.perf").write_text(SPEC)
    helpers = _helper_parts(monkeypatch)
    threads_before = threading.active_count()
    whole = _evaluate(tmp_path / "chain.perf", monkeypatch, 1)
    assert helpers == []
    split = _evaluate(tmp_path / "chain.perf", monkeypatch, 3)
    assert len(helpers) > 10                             # parts of many calls ran on the helpers
    assert threading.active_count() == threads_before
    assert not [t for t in threading.enumerate() if t.name.startswith("perfdsl-kernel")]
    for name in ("a", "b", "c", "d", "e", "f"):
        assert _bits(split.column(f"chain.{name}", all_points=True)) == \
            _bits(whole.column(f"chain.{name}", all_points=True)), name
    assert [(w.code, w.message) for w in split.warnings] == [(w.code, w.message) for w in whole.warnings]
    assert {w.code for w in whole.warnings} == {"overflow", "division-by-zero"}
