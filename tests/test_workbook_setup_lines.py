"""What the Setup sheet says of a question's answers (dsl/workbook_setup.py), read back as a person sees it.

Found by a newcomer (a `best ... per model, hardware` question with a group that has no answer):
- "Row notes" named that row by every identifying column, the empty ones too: `1 row (model qwen2_5_72b; hardware
  l40s; stack ; batch ; seq_len ; tp ; ep ; fits ): No answer: ...`.
- After `--set seq_len=1024` over the workload's `sweep seq_len = [1024, 4096]`, "Workload" said `sweep seq_len =
  1024`, as if the file swept it: it says the value came from --set, as diagnostics locate an override.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from perfdsl.cli import main

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cheapest(tmp_path_factory) -> openpyxl.Workbook:
    """reports/capacity_questions.perf's `cheapest_setup` (least GPU time per token per model) at batch 64 alone:
    five of its 30 groups (models) have no answer."""
    out = tmp_path_factory.mktemp("setup") / "cheapest.xlsx"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(REPO)
        assert main(["eval", "reports/capacity_questions.perf", "--report", "cheapest_setup", "--set", "batch=64",
                     "-o", str(out)]) == 0
    return openpyxl.load_workbook(out)


def setup_lines(book: openpyxl.Workbook, label: str) -> list[str]:
    """The texts of the Setup sheet's line `label` and of the unlabelled lines that go on after it."""
    lines, inside = [], False
    for name, text in book["Setup"].iter_rows(min_col=1, max_col=2, values_only=True):
        inside = name == label or (inside and name is None)
        if inside:
            lines.append(text)
    return lines


def test_row_notes_name_a_group_without_an_answer_by_its_values(cheapest):
    sheet = cheapest["cheapest_setup"]
    heads = [cell.value for cell in sheet[2]]
    unanswered = {}                   # note -> the models of the rows left empty with it
    for row in sheet.iter_rows(min_row=3, values_only=True):
        note = row[heads.index("Note")]
        if note and note.startswith("No answer: "):
            assert set(row[1:heads.index("Note")]) == {None}         # only the group's column, model, has a value
            unanswered.setdefault(note, []).append(row[0])
    assert sum(len(models) for models in unanswered.values()) == 5
    expected = sorted(f"{len(models)} row{'s' if len(models) > 1 else ''} (model {', '.join(models)}): {note}"
                      for note, models in unanswered.items())
    assert sorted(setup_lines(cheapest, "Row notes")) == expected
    assert "1 row (model qwen2_5_72b): No answer: no sweep point of this group meets the report's conditions: " \
           "memory.fits met by 26 of 52 points, serving.tpot <= 50 ms by none (best 64.21 ms), serving.ttft <= 1 s " \
           "by none (best 1.775 s)" in expected


def test_the_workload_line_says_which_values_came_from_set(cheapest, tmp_path):
    # `--set batch=64` over the sweep chat inherits (capacity_planning.perf: `sweep batch = 1 .. 256 by *2`)
    workload = setup_lines(cheapest, "Workload")
    assert workload == ["chat (extends serving_grid): batch = 64 (from --set batch); seq_len = 1024; output_len = 256"]
    # a list given is still a sweep, written as given
    out = tmp_path / "two.xlsx"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(REPO)
        assert main(["eval", "reports/capacity_questions.perf", "--report", "cheapest_setup", "--set", "batch=8,64",
                     "-o", str(out)]) == 0
    assert setup_lines(openpyxl.load_workbook(out), "Workload") == [
        "chat (extends serving_grid): sweep batch = 8,64 (from --set batch); seq_len = 1024; output_len = 256"]
