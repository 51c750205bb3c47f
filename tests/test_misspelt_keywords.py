"""A keyword a letter or two off at a statement's start gets "did you mean" (syntax_errors.keyword_slip): `swep tp =
[4, 8]` in a workload said `unexpected 'tp'` with "expected ':' or '='", `requre`, `shwo` that a cell is written
`requre = VALUE`, and `improt`, `hardwre` at a file's top, and `extnds` after a block's name, only the tokens
expected there."""

from __future__ import annotations

import pytest

from perfdsl.cli import main

WORKLOAD = """\
workload grid70 {
    sweep batch = [1, 4]
    swep tp = [4, 8]
    n_gpus = tp
}
"""


def check_err(tmp_path, text: str, capsys) -> str:
    path = tmp_path / "f.perf"
    path.write_text(text)
    assert main(["check", str(path)]) == 1
    return capsys.readouterr().err.replace(str(path), "f.perf")


def test_swep_in_a_workload_is_sweep(tmp_path, capsys):
    assert check_err(tmp_path, WORKLOAD, capsys) == (
        "error[syntax]: unexpected 'tp' after 'swep'\n"
        "  --> f.perf:3:5\n"
        "  |\n"
        "3 |     swep tp = [4, 8]\n"
        "  |     ^^^^\n"
        "  = help: did you mean 'sweep'? (`sweep NAME = [...]` is an axis)\n"
        "\n"
        "1 error\n")


@pytest.mark.parametrize("line, message, hint", [
    ('    requre x > 1, "x is more than 1"', "unexpected 'x' after 'requre'",
     "did you mean 'require'? (`require CONDITION, \"MESSAGE\"` is a constraint)"),
    ("    shwo x", "unexpected 'x' after 'shwo'", "did you mean 'show'? (`show CELL, ...` prints cells)"),
    ("    wher x > 1", "unexpected 'x' after 'wher'", "did you mean 'where'? (`where CONDITION` filters a report's points)"),
])
def test_a_report_statement_a_letter_off(tmp_path, capsys, line, message, hint):
    err = check_err(tmp_path, "report r {\n    x = 2\n" + line + "\n    show x\n}\n", capsys)
    word = line.split()[0]
    assert err == (f"error[syntax]: {message}\n"
                   "  --> f.perf:3:5\n"
                   "  |\n"
                   f"3 | {line}\n"
                   f"  |     {'^' * len(word)}\n"       # the misspelt word
                   f"  = help: {hint}\n"
                   "\n"
                   "1 error\n")


@pytest.mark.parametrize("text, word, meant", [('improt "models/opt.perf"\n', "improt", "import"),
                                               ("hardwre h { a = 1 }\n", "hardwre", "hardware")])
def test_a_file_statement_a_letter_off(tmp_path, capsys, text, word, meant):
    assert check_err(tmp_path, text, capsys) == (
        f"error[syntax]: unexpected '{word}'\n"
        "  --> f.perf:1:1\n"
        "  |\n"
        f"1 | {text.rstrip()}\n"
        f"  | {'^' * len(word)}\n"
        f"  = help: did you mean '{meant}'?\n"
        "\n"
        "1 error\n")


def test_a_report_statement_is_not_offered_in_another_block(tmp_path, capsys):
    # `show` is no statement of a hardware block: the error stays the one a stray word gets
    err = check_err(tmp_path, "hardware h {\n    shwo a\n}\n", capsys)
    assert "did you mean" not in err
    assert err.startswith("error[syntax]: unexpected 'a' after 'shwo'\n")


@pytest.mark.parametrize("word", ["extnds", "exends", "extend"])
def test_extends_a_letter_off_after_a_blocks_name(tmp_path, capsys, word):
    # `model m extnds base {` said only "expected 'extends' or '{'"; the word after a block's name is a slip of
    # `extends` as `swep` is of `sweep`
    text = f"model base {{\n    x = 1\n}}\nmodel m {word} base {{\n    y = 2\n}}\n"
    assert check_err(tmp_path, text, capsys) == (
        f"error[syntax]: unexpected '{word}'\n"
        "  --> f.perf:4:9\n"
        "  |\n"
        f"4 | model m {word} base {{\n"
        f"  |         {'^' * len(word)}\n"
        "  = help: did you mean 'extends'? (`KIND NAME extends PARENT { ... }` inherits PARENT's cells)\n"
        "\n"
        "1 error\n")


def test_another_word_after_a_blocks_name_is_not_offered_extends(tmp_path, capsys):
    err = check_err(tmp_path, "model m blah base {\n    y = 2\n}\n", capsys)
    assert "did you mean" not in err
    assert "expected 'extends' or '{'" in err
