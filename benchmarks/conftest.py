"""Benchmarks run with `make bench` (pytest-benchmark); the normal test run does not collect them."""

from __future__ import annotations

import time

import pytest


@pytest.fixture
def cpu_time(benchmark):
    """Wrap a function so that each call's CPU time (this process: time.process_time) is recorded; after the
    benchmark, `extra_info["cpu_s"]` holds the least. On a machine shared by several users the wall clock swings
    with their load, the CPU time of one process much less: both are reported."""
    seen: list[float] = []

    def wrap(function):
        def timed(*args, **kwargs):
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                seen.append(time.process_time() - started)
        return timed

    yield wrap
    if seen:
        benchmark.extra_info["cpu_s"] = round(min(seen), 4)


# What in_turn measured, for the summary at the end of the run: (what, rounds, {contender: least seconds}).
_IN_TURN: list[tuple[str, int, dict[str, float]]] = []


@pytest.fixture
def in_turn():
    """Time contenders one after the other, round by round: `in_turn(what, rounds, perfdsl=f, numpy=g)` calls f then
    g in each round and returns the least wall time of each (seconds), also printed at the end of `make bench`.

    The benchmarks of one `make bench` run minutes apart, and the 2-core machine's speed has swung by up to 1.8x
    within an hour (an Intel instance, numpy's 1e6 reference 37 to 68 ms in four runs): a ratio of two benchmarks
    run apart is that swing as much as the code. Calls in turn meet the same minute."""
    def measure(what: str, rounds: int, **contenders) -> dict[str, float]:
        least = {name: float("inf") for name in contenders}
        for _ in range(rounds):
            for name, function in contenders.items():
                started = time.perf_counter()
                function()
                least[name] = min(least[name], time.perf_counter() - started)
        _IN_TURN.append((what, rounds, least))
        return least

    return measure


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter):
    """The in_turn figures, after pytest-benchmark's table."""
    if not _IN_TURN:
        return
    terminalreporter.write_sep("-", "in turn: each round calls every contender once; the least wall time of each")
    for what, rounds, least in _IN_TURN:
        (first, first_seconds), *others = least.items()
        figures = [f"{name} {seconds * 1e3:.2f} ms" for name, seconds in least.items()]
        ratios = [f"{first}/{name} {first_seconds / seconds:.2f}" for name, seconds in others if seconds > 0]
        terminalreporter.write_line(f"{what} ({rounds} rounds): {', '.join(figures + ratios)}")
