"""gc_pauses.fewer_collections: the collector's thresholds are raised inside, the caller's given back after (also
when the body raises, and when uses nest); Program.load and Program.check run inside it."""

from __future__ import annotations

import gc

import pytest

import perfdsl
from perfdsl import gc_pauses, program
from perfdsl.library import library_files


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
