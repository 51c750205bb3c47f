"""Escapes in .perf strings (docs/LANGUAGE.md, "Cells"): `\\"` `\\\\` `\\n` `\\t` `\\r` as in JSON and C; any other
backslash is a located error (bad-escape), never silently dropped (`"\\r CR"` used to become `r CR`)."""

from __future__ import annotations

import pytest

import perfdsl
from perfdsl import cli
from perfdsl.parser import parse_text


def value(text: str) -> str:
    """The value of a string cell written as `text` (the quotes included)."""
    (cell,) = parse_text(f"model m {{ s = {text} }}").blocks[0].cells
    return cell.expr.value


@pytest.mark.parametrize("written, meant", [
    (r'"\r CR"', "\r CR"),
    (r'"a\tb"', "a\tb"),
    (r'"one\ntwo"', "one\ntwo"),
    (r'"say \"hi\""', 'say "hi"'),
    (r'"C:\\data"', "C:\\data"),
    (r'"\\\\"', "\\\\"),
])
def test_the_escapes_a_string_knows(written, meant):
    assert value(written) == meant


def test_an_unknown_escape_is_a_located_error(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs.perf").write_text('report r {\n    measured = "C:\\data\\runs.csv"\n    show x\n    x = 1\n}\n')
    assert cli.main(["check", "--no-cache", "runs.perf"]) == 1
    assert capsys.readouterr().err == (
        "error[bad-escape]: unknown escape '\\d' in a string\n"
        "  --> runs.perf:2:19\n"
        "  |\n"
        '2 |     measured = "C:\\data\\runs.csv"\n'
        "  |                   ^^\n"
        "  = help: a string knows the escapes \\\" \\\\ \\n \\r \\t: write a backslash as \\\\ (in a path, / works on "
        "every system)\n"
        "\n"
        "1 error\n")


def test_every_unknown_escape_of_a_file_is_reported():
    with pytest.raises(perfdsl.PerfError) as caught:
        parse_text('model m { a = "\\x"; b = "ok\\n"; c = "\\u00e9" }', "m.perf")
    assert [(d.message, str(d.location)) for d in caught.value.diagnostics] == [
        ("unknown escape '\\x' in a string", "m.perf:1:16"), ("unknown escape '\\u' in a string", "m.perf:1:38")]


def test_a_quoted_set_value_with_an_unknown_escape_is_bad_usage(tmp_path, capsys, monkeypatch):
    # Unquoted text is a string setting's value as it is (a path with backslashes too); a quoted one is .perf syntax.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.perf").write_text('report r {\n    x = "a"\n    show x\n}\n')
    assert cli.main(["eval", "s.perf", "--set", 'x="a\\d"']) == 2
    assert capsys.readouterr().err.startswith("error[bad-escape]: unknown escape '\\d' in a string\n"
                                              "  --> --set x:1:3\n")
    assert cli.main(["eval", "s.perf", "--set", "x=C:\\data", "--format", "csv"]) == 0
    assert capsys.readouterr().out == "x\nC:\\data\n"
    assert cli.main(["eval", "s.perf", "--set", 'x="\\r CR"', "--format", "json"]) == 0
    assert capsys.readouterr().out == '[\n  {"x": "\\r CR"}\n]\n'
