"""Speed targets of the language (issue: the .perf language).

- A cost model of about 50 cells over a 1,000,000-point sweep evaluates in under 0.1 s on the 2-core machine.
- Parsing and checking every file in models/ and hardware/ takes under 0.2 s.
- `perfdsl --help` and the evaluation of a small report start in under 0.5 s.
- `perfdsl check` of every library file on the command line (the Makefile's `make check`: models/, hardware/,
  costmodels/ and reports/, each file checked as its own program with what it imports) in under 0.5 s (issue 10).
  `extra_info["cpu_s"]` is the least CPU time of a round (user + system of the child): on a machine shared by
  several users the wall clock swings with their load, the CPU time much less.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
from pathlib import Path

import perfdsl
from perfdsl.library import library_files

SPECS = Path(__file__).resolve().parent / "specs"
ROOT = Path(__file__).resolve().parents[1]


def test_fifty_cell_model_over_a_million_points(benchmark):
    program = perfdsl.load(SPECS / "fifty_cells.perf")
    result = benchmark(program.evaluate)
    assert result.n_points == 1_000_000
    assert len(program.blocks["cost"].cells) >= 45


def test_parse_and_check_the_bundled_libraries(benchmark):
    files = library_files()
    assert files, "the bundled libraries are empty"

    def parse_and_check():
        program = perfdsl.load(files)
        return program.check()

    diagnostics = benchmark(parse_and_check)
    assert not [d for d in diagnostics if d.severity == "error"]


def _run(args):
    completed = subprocess.run(args, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
    return completed


def test_start_up_of_perfdsl_help(benchmark):
    benchmark.pedantic(_run, args=([sys.executable, "-m", "perfdsl.cli", "--help"],), rounds=5, iterations=1)


def test_start_up_and_evaluation_of_a_small_report(benchmark):
    benchmark.pedantic(_run, args=([sys.executable, "-m", "perfdsl.cli", "eval", str(SPECS / "small_report.perf")],),
                       rounds=5, iterations=1)


def test_check_of_every_library_file_on_the_command_line(benchmark):
    files = sorted(str(Path(f).relative_to(ROOT)) for folder in ("models", "hardware", "costmodels", "reports")
                   for f in glob.glob(str(ROOT / folder / "*.perf")))
    cpu = []

    def check():
        before = os.times()
        completed = subprocess.run([sys.executable, "-m", "perfdsl.cli", "check", *files], cwd=ROOT,
                                   capture_output=True, text=True)
        after = os.times()
        cpu.append(after.children_user - before.children_user + after.children_system - before.children_system)
        assert completed.returncode == 0, completed.stderr
        return completed

    benchmark.pedantic(check, rounds=5, iterations=1, warmup_rounds=1)
    benchmark.extra_info["files"] = len(files)
    benchmark.extra_info["cpu_s"] = round(min(cpu), 3)
