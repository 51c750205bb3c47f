"""Diagnostics quote text from specs and logs safely: a terminal escape sequence, a NUL or a bidirectional override
in a log cell or a spec is printed escaped (\\x1b), never sent to the terminal, and the caret stays under it.
errors.printable is applied once, in Diagnostic.render, so every reader and checker gets it."""

from __future__ import annotations

import pytest

from perfdsl.cli import main
from perfdsl.errors import Diagnostic, Location, printable

# A cell that sets the terminal's title to "pwned" (OSC 0 ... BEL) and turns the text red (CSI 31 m).
HOSTILE = "\x1b]0;pwned\x07\x1b[31m693.77"
SHOWN = "\\x1b]0;pwned\\x07\\x1b[31m693.77"


@pytest.mark.parametrize("raw, shown", [
    (HOSTILE, SHOWN),
    ("a\x00b", "a\\x00b"),                              # NUL
    ("a\x9bb", "a\\x9bb"),                              # C1 CSI, one byte
    ("abc\u202edef", "abc\\u202edef"),                  # right-to-left override
    ("line\nerror[fake]: x", "line\\nerror[fake]: x"),  # a line that would read as perfdsl's own
    ("50\r70 W", "50\\r70 W"),
    ("tab\there, é, 日本", "tab\there, é, 日本"),       # tabs and ordinary text as they are
])
def test_printable_escapes_what_a_terminal_would_act_on(raw, shown):
    assert printable(raw) == shown


def test_a_hostile_log_cell_is_quoted_escaped_with_the_caret_under_it(tmp_path, capsys):
    log = tmp_path / "runs.csv"
    log.write_bytes(("model,hardware,n_gpus,tokens,runtime [ms]\n"
                     f"facebook/opt-1.3b,NVIDIA RTX A5000,1,16384,{HOSTILE}\n"
                     "facebook/opt-6.7b,NVIDIA RTX A5000,1,16384,3275.30\n").encode())
    assert main(["ingest", str(log), "-o", str(tmp_path / "out.csv")]) == 0
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err
    prefix = "facebook/opt-1.3b,NVIDIA RTX A5000,1,16384,"
    assert err.startswith(
        f"warning[bad-value]: cannot read '{SHOWN}' as a number in column 'runtime [ms]'\n"
        f"  --> {log}:2:{len(prefix) + 1} (row 1, column 'runtime [ms]')\n"
        "  |\n"
        f"2 | {prefix}{SHOWN}\n"
        f"  | {' ' * len(prefix)}{'^' * len(SHOWN)}\n"           # the caret spans the cell as shown, escapes and all
        "  = note: row 1 skipped: none of its metrics could be read\n")


def test_a_spec_and_every_part_of_a_diagnostic_are_escaped(tmp_path, capsys):
    # A spec with an escape sequence in a name the parser refuses: the quoted line and the message are escaped.
    spec = tmp_path / "bad.perf"
    spec.write_bytes(b"model m {\n    layers = 2\x1b[2J\n}\n")
    assert main(["check", str(spec)]) == 1
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\\x1b[2J" in err and "Traceback" not in err
    d = Diagnostic("bad-value", "m\x1b", Location("f\x07.csv", 1, 1, 2, "row \x00"), "x", notes=["n\x1b"],
                   hints=["h\x1b"], path="p\x1b")
    assert d.render() == ("error[bad-value]: m\\x1b\n"
                          "  --> f\\x07.csv:1:1 (row \\x00)\n"
                          "  |\n"
                          "1 | x\n"
                          "  | ^\n"
                          "  = note: n\\x1b\n"
                          "  = in: p\\x1b\n"
                          "  = help: h\\x1b")
