"""The gaps a newcomer found writing .perf files of their own: each is the exact text and exit status of what they
typed (the CLI in-process, the test's folder as the working directory), or the API call they made.

A caret under a tab-indented line; every unknown block of a role sweep; a `set` of another type over a literal; the
help of a bare number beside a quantity and of an amount given for a rate; log2 of zero; a `--set` value checked
whether or not the report reads the cell; `check --strict`; the roofline's error for half a flops/bytes pair; an
unknown column through the API; the Setup sheet's workload written one way.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import perfdsl
from perfdsl import UsageError, cli
from perfdsl.errors import Diagnostic, Location


@pytest.fixture
def work(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(argv: list[str], capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = cli.main(argv)
    return code, capsys.readouterr().err


# -- the caret under a line indented with tabs ---------------------------------------------------------------------

def test_the_caret_under_a_tab_indented_line_marks_the_unit(work, capsys):
    # Before: the quoted line's tabs were expanded (4 columns each) and the caret's were not, so `^^^` stood under
    # " 10" of "1024", 6 columns left of "GBs" (two tabs: 2 x (4 - 1)).
    (work / "tabs.perf").write_text("hardware h {\n\t\tctx = 1024 GBs\n}\n")
    code, err = run(["check", "--no-cache", "tabs.perf"], capsys)
    assert code == 1
    assert err.split("\n")[:6] == [
        "error[unknown-unit]: unknown unit 'GBs'",
        "  --> tabs.perf:2:14",
        "  |",
        "2 |         ctx = 1024 GBs",
        "  |                    ^^^",
        "  = help: did you mean 'GB' or 'GiB'?",
    ]
    quoted, caret = err.split("\n")[3], err.split("\n")[4]
    assert quoted[caret.index("^"):caret.index("^") + 3] == "GBs"


def test_a_tab_inside_the_marked_text_widens_the_caret():
    # `a\t+ b` marked from `a` (column 1) to the end of `b` (column 5): the tab takes 3 columns when quoted (to
    # column 4), so the caret is 1 + 3 + 3 = 7 wide, not the 5 characters.
    diag = Diagnostic("unit-mismatch", "m", Location("f.perf", 1, 1, 6), source_line="a\t+ b")
    assert diag.render().split("\n")[3:5] == ["1 | a   + b", "  | ^^^^^^^"]


def test_a_long_tab_indented_line_keeps_the_caret_under_its_text():
    # A line over QUOTE_WIDTH (160) characters is quoted as a window around the column: the tabs inside the window
    # are expanded in the text and in the caret alike.
    line = "x = " + "a + " * 60 + "\t\tzz + 1"
    col = line.index("zz") + 1
    text = Diagnostic("syntax", "m", Location("f.perf", 1, col, col + 2), source_line=line).render().split("\n")
    quoted, caret = text[3][4:], text[4][4:]
    assert quoted[caret.index("^"):caret.index("^") + 2] == "zz" and caret.strip() == "^^"


# -- log2 of zero or below ------------------------------------------------------------------------------------------

def test_log2_of_zero_is_its_own_warning_not_a_division(work, capsys):
    (work / "log.perf").write_text("workload w { sweep batch = [0, 1, 2] }\ncostmodel c { b = log2(workload.batch) }\n"
                                   "report r { workload = w; show c.b }\n")
    code, err = run(["eval", "log.perf", "--format", "csv"], capsys)
    assert code == 0
    assert err == (
        "warning[log-of-non-positive]: 'c.b' takes the log of zero or a negative number at batch=0\n"
        "  --> log.perf:2:19\n"
        "  |\n"
        "2 | costmodel c { b = log2(workload.batch) }\n"
        "  |                   ^^^^^^^^^^^^^^^^^^^^\n"
        "  = note: 1 of 3 sweep points are affected\n"
        "  = in: costmodel.c.b\n"
        "  = help: guard the formula with if(...) or max(...), or check the inputs\n"
        "\n"
        "1 warning\n")
    program = perfdsl.load(["log.perf"])
    assert program.evaluate().column("c.b").tolist() == [-np.inf, 0.0, 1.0]        # log2(1) = 0, log2(2) = 1


def test_log2_of_a_negative_number_is_the_same_warning(work):
    (work / "log.perf").write_text("workload w { sweep x = [-1, 4] }\ncostmodel c { b = log2(workload.x) }\n"
                                   "report r { workload = w; show c.b }\n")
    result = perfdsl.load(["log.perf"]).evaluate()
    assert [(d.code, d.message) for d in result.warnings] == [
        ("log-of-non-positive", "'c.b' takes the log of zero or a negative number at x=-1")]
    assert np.isnan(result.column("c.b")[0]) and result.column("c.b")[1] == 2.0       # log2(4)


def test_a_division_by_zero_is_still_one(work):
    (work / "div.perf").write_text("workload w { sweep x = [0, 4] }\ncostmodel c { b = 1 / workload.x }\n"
                                   "report r { workload = w; show c.b }\n")
    result = perfdsl.load(["div.perf"]).evaluate()
    assert [d.code for d in result.warnings] == ["division-by-zero"]


# -- check --strict --------------------------------------------------------------------------------------------------

def test_check_strict_fails_on_warnings_only(work, capsys):
    # Before: `unrecognized arguments: --strict`. A misspelt override is a warning (unread-cell, at both cells):
    # exit status 0, and 1 with --strict, as eval --strict.
    (work / "m.perf").write_text("model base { mem_size = 1 GB }\nmodel mine extends base { mem_sise = 2 GB }\n")
    code, err = run(["check", "--no-cache", "m.perf"], capsys)
    assert code == 0 and "warning[unread-cell]" in err and err.endswith("2 warnings\n")
    code, err = run(["check", "--no-cache", "--strict", "m.perf"], capsys)
    assert code == 1 and err.endswith("2 warnings\n--strict: warnings are errors\n")


def test_check_strict_passes_clean_files(work, capsys):
    (work / "ok.perf").write_text("model base { mem_size = 1 GB }\n")
    code, err = run(["check", "--no-cache", "--strict", "ok.perf"], capsys)
    assert code == 0 and err.startswith("ok: 1 file, 1 block, 0 reports")
