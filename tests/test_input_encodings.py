"""What Windows editors and Greek keyboards put in a .perf file: a UTF-8 byte order mark at its start (refused as
`unexpected character '\\ufeff'` at 1:1) and the Greek mu of `1 μs` (U+03BC, refused while the micro sign µ, U+00B5,
that looks the same was read). The mark is dropped, with the columns of the first line those an editor shows; both
mus are micro."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import perfdsl
from perfdsl import cli

BOM = b"\xef\xbb\xbf"


def run(tmp_path: Path, monkeypatch, capsys, data: bytes, *args: str) -> tuple[int, str, str]:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.perf").write_bytes(data)
    status = cli.main([*args, "spec.perf"])
    out = capsys.readouterr()
    return status, out.out, out.err


def test_a_file_that_starts_with_a_byte_order_mark_is_read(tmp_path, monkeypatch, capsys):
    text = "workload w {\n    a = 2 ms\n}\nreport r {\n    workload = w\n    show workload.a in ms\n}\n"
    status, out, err = run(tmp_path, monkeypatch, capsys, BOM + text.encode(), "eval")
    assert (status, out, err) == (0, "workload.a [ms]\n---------------\n              2\n", "")


def test_columns_after_a_byte_order_mark_are_those_an_editor_shows(tmp_path, monkeypatch, capsys):
    # The import's path starts at column 8 of line 1 (the mark is no character an editor shows); line 2 is as it was.
    status, _, err = run(tmp_path, monkeypatch, capsys, BOM + b'import "nothere.perf"\n', "check", "--no-cache")
    assert status == 1
    assert err.splitlines()[:5] == [
        "error[no-such-import]: cannot find the imported file 'nothere.perf'",
        "  --> spec.perf:1:8",
        "  |",
        '1 | import "nothere.perf"',
        "  |        ^^^^^^^^^^^^^^"]
    status, _, err = run(tmp_path, monkeypatch, capsys, BOM + b"workload w { a = 1\n    b = 2 * zz }\n", "check",
                         "--no-cache")
    assert status == 1
    assert err.splitlines()[:5] == ["error[unknown-name]: unknown name 'zz' in workload 'w'", "  --> spec.perf:2:13",
                                    "  |", "2 |     b = 2 * zz }", "  |             ^^"]


def test_lines_that_end_in_a_lone_carriage_return_are_counted(tmp_path, monkeypatch, capsys):
    # An old Mac editor's line ends: every place was on line 1, its "line" the whole file with \r escapes.
    status, _, err = run(tmp_path, monkeypatch, capsys, b"costmodel c {\r    a = 1 s\r    b = a + 1 B\r}\r",
                         "check", "--no-cache")
    assert status == 1
    assert err.splitlines()[:5] == ["error[unit-mismatch]: cannot add 'a' (s) and '1 B' (byte)", "  --> spec.perf:3:9",
                                    "  |", "3 |     b = a + 1 B", "  |         ^^^^^^^"]


def test_a_byte_order_mark_given_as_text_to_the_api_is_dropped_too():
    program = perfdsl.load([], texts={"t.perf": "\ufeffworkload w { a = 3 s }\n"})
    assert program.check() == []


def test_greek_mu_and_the_micro_sign_are_both_micro(tmp_path, monkeypatch, capsys):
    assert unicodedata.normalize("NFKC", "\u00b5") == "\u03bc"      # why both are read: NFKC makes one of the other
    text = ("workload w {\n    greek = 250 \u03bcs\n    micro = 250 \u00b5s\n    both = greek + micro\n}\n"
            "report r {\n    workload = w\n    show workload.both in \u03bcs, workload.greek in \u00b5s\n}\n")
    status, out, err = run(tmp_path, monkeypatch, capsys, text.encode(), "eval")
    # 250 us + 250 us = 500 us.
    assert (status, err) == (0, "")
    assert out == ("workload.both [\u03bcs]  workload.greek [\u00b5s]\n"
                   "------------------  -------------------\n"
                   "               500                  250\n")
