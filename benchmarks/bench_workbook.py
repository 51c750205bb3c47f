"""Export speed of the workbook stage: a 100,000-row report (2 id columns, 4 metrics, run sources) must be
written in under 10 s on a 2-core machine.

Run with `pytest benchmarks --benchmark-only` (pass the file itself if the collection pattern misses it).
"""

from __future__ import annotations

import random

import openpyxl
import pytest

from perfdsl.comparison import ComparisonRow, MetricSpec, Section, WorkbookData
from perfdsl.workbook import write_workbook

ROWS = 100_000
BUDGET_S = 10.0
METRICS = [MetricSpec("runtime", "Runtime", "ms"), MetricSpec("memory", "Memory", "GB"),
           MetricSpec("energy", "Energy", "J/token"), MetricSpec("throughput", "Throughput", "token/s")]


def sweep_report(rows_wanted: int = ROWS) -> WorkbookData:
    rng = random.Random(20240601)
    rows = []
    for index in range(rows_wanted):
        runtime = rng.uniform(50, 5000)
        estimated = {"runtime": runtime, "memory": rng.uniform(1, 80), "energy": 230 * runtime / 1000 / 16384,
                     "throughput": 16384 / (runtime / 1000)}
        # one row in ten has no run, as in a sweep only partly measured
        measured = {} if index % 10 == 9 else {name: value * rng.uniform(0.85, 1.15)
                                               for name, value in estimated.items()}
        rows.append(ComparisonRow({"Model": f"org/model-{index % 997}", "Device": f"GPU {index % 7}"},
                                  estimated, measured, run_source=f"data/sweep_runs.csv:row {index + 2}"))
    return WorkbookData("sweep_100k", [Section("Sweep", ["Model", "Device"], METRICS, rows)])


@pytest.fixture(scope="module")
def big_report() -> WorkbookData:
    return sweep_report()


def test_export_100k_rows(benchmark, big_report, tmp_path):
    target = tmp_path / "sweep.xlsx"
    benchmark.pedantic(write_workbook, args=(big_report, target), rounds=3, iterations=1)
    assert benchmark.stats.stats.max < BUDGET_S
    sheet = openpyxl.load_workbook(target, read_only=True)["Sweep"]
    assert sheet.max_row == ROWS + 2
