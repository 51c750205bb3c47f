"""Speed of the questions (issue #8): a reduction of a 1,000,000-point sweep takes well under a second on the
2-core machine. Each benchmark evaluates the sweep once and times the answer alone: the `where` filter, the
reduction and the rows (queries.answer), on fifty_cells.perf's 10 x 10 x 10 x 10 x 10 x 10 points.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import perfdsl
from perfdsl import program as program_module
from perfdsl.queries import answer

SPECS = Path(__file__).resolve().parent / "specs"


@pytest.mark.parametrize("report", ["best_energy", "front", "largest_batch"])
def test_answer_a_question_over_a_million_points(benchmark, report, monkeypatch):
    program = perfdsl.load(SPECS / "questions.perf")
    monkeypatch.setattr(program_module, "answer", lambda result, checker: None)   # evaluate without answering
    result = program.evaluate(report)
    _, checker = program.prepare(report)
    assert result.n_points == 1_000_000

    def ask():
        result.rows = None
        answer(result, checker)
        return result

    answered = benchmark(ask)
    assert 0 < answered.n_rows < 1_000_000
