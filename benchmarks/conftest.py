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
