"""gc_pauses.fewer_collections: the collector's thresholds are raised inside, the caller's given back after (also
when the body raises, and when uses nest), a caller's higher one kept; Program.load and Program.check run inside it;
`perfdsl check` and its workers collect less often still (CHECK_FIRST_GENERATION)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import perfdsl
from perfdsl import gc_pauses, program
from perfdsl.library import library_files

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def own_thresholds():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield (700, 10, 10)
    gc.set_threshold(*before)


def test_raised_inside_given_back_after(own_thresholds):
    with gc_pauses.fewer_collections():
        assert gc.get_threshold() == (100_000, 50, 100)
        with gc_pauses.fewer_collections():
            assert gc.get_threshold() == (100_000, 50, 100)
        assert gc.get_threshold() == (100_000, 50, 100)
    assert gc.get_threshold() == own_thresholds


def test_a_higher_first_threshold_is_kept_inside(own_thresholds):
    """A caller that collects less often (a check worker: 1,000,000) keeps its own first threshold inside."""
    gc.set_threshold(1_000_000, 10, 10)
    with gc_pauses.fewer_collections():
        assert gc.get_threshold() == (1_000_000, 50, 100)
    assert gc.get_threshold() == (1_000_000, 10, 10)


def test_given_back_when_the_body_raises(own_thresholds):
    with pytest.raises(ValueError):
        with gc_pauses.fewer_collections():
            raise ValueError("the body failed")
    assert gc.get_threshold() == own_thresholds


def test_program_load_and_check_run_with_fewer_collections(own_thresholds, monkeypatch):
    seen = []
    real = program.Checker.type_cells

    def spy(self, blocks):
        seen.append(gc.get_threshold())
        return real(self, blocks)

    monkeypatch.setattr(program.Checker, "type_cells", spy)
    loaded = perfdsl.load(library_files()[:3])
    loaded.check()
    assert seen == [(100_000, 50, 100)]
    assert gc.get_threshold() == own_thresholds


# A new process each (a worker's set-up freezes every object of the process that runs it, and the command ends with
# os._exit): what each prints is the first threshold at every Program check, and whether objects were frozen.
SPY = """
import gc, sys
from perfdsl import cli, parallel_check, program
real = program.Checker.type_cells
def spy(self, blocks):
    print(gc.get_threshold(), gc.get_freeze_count() > 0, flush=True)
    return real(self, blocks)
program.Checker.type_cells = spy
"""


def _run(script: str, tmp_path) -> str:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", SPY + textwrap.dedent(script)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_perfdsl_command_checks_with_fewer_passes_still(tmp_path):
    """`perfdsl check` (cli.run, which ends the process with the check) raises the first threshold to
    CHECK_FIRST_GENERATION; cli.main called by an embedding caller keeps FIRST_GENERATION."""
    ran = _run("""
        sys.argv = ["perfdsl", "check", "--no-cache", "-j", "1", "models/gpt2.perf"]
        cli.main(sys.argv[1:])
        cli.run()
    """, tmp_path)
    assert ran == "(100000, 50, 100) False\n(1000000, 50, 100) False\n"


def test_a_worker_freezes_the_parents_objects_and_collects_less(tmp_path):
    """A worker's set-up (parallel_check._collect_less): the objects it was forked with frozen, the first threshold
    raised to CHECK_FIRST_GENERATION, the older generations' kept; with the collector off, nothing changes."""
    ran = _run("""
        gc.set_threshold(100_000, 50, 100)
        parallel_check._collect_less()
        print(gc.get_threshold(), gc.get_freeze_count() > 0)
        gc.unfreeze()
        gc.disable()
        gc.set_threshold(700, 10, 10)
        parallel_check._collect_less()
        print(gc.get_threshold(), gc.get_freeze_count() > 0, gc.isenabled())
    """, tmp_path)
    assert ran == f"({gc_pauses.CHECK_FIRST_GENERATION}, 50, 100) True\n(700, 10, 10) False False\n"
