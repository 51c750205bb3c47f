"""Slips a newcomer made writing .perf files by hand, each with the exact diagnostic `perfdsl check` gives: a string
where arithmetic wants a number (the note says where its quotes are), and the syntax slips whose messages pointed
elsewhere (a missing comma in a show list, `mem_bw: 1 TB/s`, a keyword or a boolean as a cell's name, `by x4` and
`...` in a range)."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfdsl import cli


def check(tmp_path: Path, text: str, capsys, monkeypatch) -> tuple[int, str]:
    """`perfdsl check spec.perf` of `text` in tmp_path (its working folder): the exit status and stderr."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.perf").write_text(text)
    status = cli.main(["check", "--no-cache", "spec.perf"])
    return status, capsys.readouterr().err


# -- a string used as a number ---------------------------------------------------------------------------------------

def test_a_quoted_number_read_by_a_formula_points_back_at_its_quotes(tmp_path, capsys, monkeypatch):
    status, err = check(tmp_path, 'workload w {\n    batch = 8\n    ctx = "1024"\n}\n'
                        "costmodel m {\n    tokens = workload.batch * workload.ctx\n}\n"
                        "report r { workload = w\n    show m.tokens }\n", capsys, monkeypatch)
    assert status == 1
    assert err == (
        "error[type-mismatch]: '*' needs numbers, but 'workload.ctx' is a string\n"
        "  --> spec.perf:6:31\n"
        "  |\n"
        "6 |     tokens = workload.batch * workload.ctx\n"
        "  |                               ^^^^^^^^^^^^\n"
        "  = note: 'workload.ctx' is defined at spec.perf:3:11 as the string \"1024\"\n"
        "  = in: costmodel.m.tokens\n"
        "  = help: write 1024 without quotes\n"
        "\n"
        "1 error\n")


def test_a_string_that_is_no_number_and_a_quoted_literal_get_their_own_help(tmp_path, capsys, monkeypatch):
    status, err = check(tmp_path, 'workload w {\n    batch = 8\n    name = "llama"\n    a = batch + name\n'
                        '    b = batch * "12"\n}\n', capsys, monkeypatch)
    assert status == 1
    assert [line for line in err.splitlines() if line.startswith(("error", "  = note", "  = help"))] == [
        "error[type-mismatch]: '+' needs numbers, but 'name' is a string",
        "  = note: 'name' is defined at spec.perf:3:12 as the string \"llama\"",
        "  = help: a string is text, which no arithmetic takes: a number is written without quotes",
        "error[type-mismatch]: '*' needs numbers, but \"12\" is a string",
        "  = help: write 12 without quotes"]
