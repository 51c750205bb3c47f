"""Messages a capacity planner found misleading, pinned with their exact text: a list of blocks without `sweep`, the
hints for a `--set` value of the wrong unit, the note of a misspelt cell beside the cell meant, and which report
`eval` picks when the file named defines one and imports others. (The question slips are golden syntax cases:
tests/cases/syntax_question_*.perf.)"""

from __future__ import annotations

from pathlib import Path

import pytest

import perfdsl
from perfdsl import cli

MODELS = """\
model m1 { params = 1e9 }
model m2 { params = 2e9 }
costmodel c { weights = model.params * 2 byte }
"""


@pytest.fixture
def work(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# -- a list of blocks without `sweep` -----------------------------------------------------------------------------

def test_a_role_given_a_list_without_sweep_is_one_error_at_its_line(work, capsys):
    # Before: error[unbound-role] located in the cost model (costmodels/transformer_inference.perf:325:19 for the
    # planner), whose help said "add `sweep model = [...]` or `model = NAME`" though the report writes `model = ...`.
    (work / "plan.perf").write_text(MODELS + "report plan {\n    model = [m1, m2]\n    show c.weights in GB\n}\n")
    assert run(["eval", "plan.perf"], capsys) == (1, "", """\
error[role-list]: report 'plan' gives the role 'model' a list of blocks without `sweep`
  --> plan.perf:5:5
  |
5 |     model = [m1, m2]
  |     ^^^^^
  = in: report.plan.model
  = help: did you mean `sweep model = [...]`? It sweeps the role over them; `model = NAME` binds one block

1 error
""")


def test_a_list_without_sweep_in_a_child_report_says_it_replaces_the_parents_sweep(work, capsys):
    (work / "plan.perf").write_text(MODELS + "report base {\n    sweep model = [m1, m2]\n    show c.weights in GB\n}\n"
                                    "report plan extends base {\n    model = [m2]\n}\n")
    assert run(["eval", "plan.perf", "--report", "plan"], capsys) == (1, "", """\
error[role-list]: report 'plan' gives the role 'model' a list of blocks without `sweep`
  --> plan.perf:9:5
  |
9 |     model = [m2]
  |     ^^^^^
  = note: report 'plan' extends 'base', whose `sweep model` is at plan.perf:5:11: this line replaces that sweep, \
it does not add to it
  = in: report.plan.model
  = help: did you mean `sweep model = [...]`? It sweeps the role over these blocks in place of the parent's; \
`model = NAME` binds one block

1 error
""")
    # The fix the help names: the child's own sweep replaces the parent's (2 GB of fp16 weights per 1e9 parameters).
    result = perfdsl.load(["plan.perf"], texts={"fixed.perf": "report fixed extends base { sweep model = [m2] }"}) \
        .evaluate("fixed")
    assert result.records() == [{"model": "m2", "c.weights [GB]": 2e9 * 2 / 1e9}]
