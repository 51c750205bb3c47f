"""`no_value(x)`: no value at the points where a quantity does not exist (the decode throughput of a test that
generates no token), empty in tables, CSV and workbook and null in JSON, never a 0 that reads as a value; and the
floating-point warnings of `if`, which count a branch's division by zero or NaN only where a point takes it."""

from __future__ import annotations

import perfdsl
from perfdsl.cli import main

SPEC = """\
workload w {
    sweep tokens = [0, 4]
    time = 2 s
}
costmodel c {
    rate = if(workload.tokens > 0, workload.tokens * 1 token / workload.time, no_value(1 token/s))
    per_token = if(workload.tokens >= 0, workload.time / workload.tokens, 0 s)   # divides by 0 where taken
}
report r {
    workload = w
    show c.rate in token/s as rate
}
report both extends r {
    show c.per_token in s as per_token
}
"""


def _write(tmp_path):
    path = tmp_path / "r.perf"
    path.write_text(SPEC)
    return path


def test_no_value_is_empty_where_its_branch_is_taken_without_a_warning(tmp_path, capsys):
    path = _write(tmp_path)
    records = perfdsl.load(path).evaluate("r").records()
    assert [r["rate [token/s]"] for r in records] == [None, 4 / 2]      # tokens 0: none; 4 tokens / 2 s
    assert main(["check", str(path)]) == 0
    assert main(["eval", str(path), "--report", "r", "--format", "csv"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[1:] == ["0,", "4,2.0"]              # tokens, rate: empty where no value
    assert "warning" not in captured.err        # 0 tokens / 2 s in the branch tokens = 0 does not take
    assert main(["eval", str(path), "--report", "r", "--format", "json"]) == 0
    assert '"rate [token/s]": null' in capsys.readouterr().out


def test_a_division_by_zero_in_the_branch_a_point_takes_is_still_warned_about(tmp_path, capsys):
    path = _write(tmp_path)
    records = perfdsl.load(path).evaluate("both").records()
    assert records[0]["per_token [s]"] is None                        # 2 s / 0 tokens, at tokens = 0: inf
    assert records[1]["per_token [s]"] == 2 / 4
    assert main(["eval", str(path), "--report", "both", "--format", "csv"]) == 0
    assert "warning[division-by-zero]: 'c.per_token'" in capsys.readouterr().err


def test_no_value_takes_a_number(tmp_path, capsys):
    path = tmp_path / "bad.perf"
    path.write_text('costmodel c { x = no_value("none") }\nreport r { show c.x }\n')
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert "no_value(): its argument is a number (it gives the unit)" in err
    assert "= help: no_value(x): no value, in x's unit (x is not used)" in err
