"""Benchmarks run with `make bench` (pytest-benchmark); the normal test run does not collect them."""
