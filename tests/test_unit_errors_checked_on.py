"""A file whose only parse errors are unknown units (and the other errors after which the IR builder's module is still
checked: parser.CHECKED_ON) is linked and checked: one `perfdsl check` reports every error of the file, and the cells
whose literal was reported are typed unknown, so they cause no follow-on error. The golden case is
tests/cases/unit_errors_check_on.perf (a newcomer's file with four kinds of error); here: the property that adding a
unit error never hides an error the file had elsewhere, nor adds one that only follows from it; eval refused with
every error; the check cache replaying such a file; the parse cache keeping none of it; `--set` unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfdsl import cli, parse_cache, parser
from perfdsl.errors import PerfError
from perfdsl.parser import CHECKED_ON
from perfdsl.program import Program

REPO = Path(__file__).resolve().parent.parent
CASE = "tests/cases/unit_errors_check_on.perf"

# A small program with no error: a GPU whose cells a cost model reads and whose constraints read its literals, a swept
# workload and a report that shows cells in units.
BASE = """\
hardware g {
    mem_bw = 768 GB/s
    tdp = 300 W
    eff = 0.8
    require eff > 0 and eff <= 1, "eff is a share"
    require tdp > 0 W, "tdp is a power"
}
costmodel m {
    runtime = 1 GB / hardware.mem_bw
    power = hardware.tdp * hardware.eff
    launch = 10 us
    step = 2 * launch * workload.batch
}
workload w {
    sweep batch = [1, 2, 4]
}
report r {
    hardware = g
    workload = w
    show m.runtime in ms, m.power in W, m.step in us
}
"""

# An error elsewhere: each replaces text of one line by text of one line (the lines of the others stay where they are).
ERRORS = {
    "unknown-name": ("launch = 10 us", "launch = 10 us + lanch"),
    "constraint": ("eff = 0.8", "eff = 1.5"),
    "unit-mismatch": ("launch = 10 us", "launch = 10 us + 1"),
    "unknown-role-block": ("workload = w", "workload = ww"),
}

# A unit error (or another error after which the file is still checked), each on a line no error above touches.
UNIT_ERRORS = {
    "bad unit in a literal read by a formula": ("mem_bw = 768 GB/s", "mem_bw = 768 GBps"),
    "bad unit in a literal read by a constraint": ("tdp = 300 W", "tdp = 300 Watt"),
    "bad declared unit": ("tdp = 300 W", "tdp: Watt = 300 W"),
    "bad unit in a sweep": ("sweep batch = [1, 2, 4]", "sweep batch = [1, 2 seqs, 4]"),
    "bad unit in a range": ("sweep batch = [1, 2, 4]", "sweep batch = 1 seq .. 4 seq by *2"),
    "bad unit in a show": ("m.power in W", "m.power in Watt"),
    "number too large": ("mem_bw = 768 GB/s", "mem_bw = 1e999 GB/s"),
}


def errors(text: str) -> list[tuple[str, str, str]]:
    """(code, message, location) of every error `perfdsl check` gives for `text` (a file of its own), in order."""
    try:
        diagnostics = Program.load([], texts={"case.perf": text}).check()
    except PerfError as exc:
        diagnostics = exc.diagnostics
    return [(d.code, d.message, str(d.location)) for d in diagnostics if d.severity == "error"]


def edit(text: str, change: tuple[str, str]) -> str:
    old, new = change
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_the_base_has_no_error_and_each_error_is_one():
    assert errors(BASE) == []
    for code, change in ERRORS.items():
        found = errors(edit(BASE, change))
        assert len(found) == 1, (code, found)


@pytest.mark.parametrize("unit_error", list(UNIT_ERRORS), ids=list(UNIT_ERRORS))
def test_a_unit_error_alone_gives_its_parse_errors_and_no_follow_on_error(unit_error):
    found = errors(edit(BASE, UNIT_ERRORS[unit_error]))
    assert found, "the parse reports it"
    assert {code for code, _, _ in found} <= CHECKED_ON, found


@pytest.mark.parametrize("unit_error", list(UNIT_ERRORS), ids=list(UNIT_ERRORS))
@pytest.mark.parametrize("other", list(ERRORS), ids=list(ERRORS))
def test_a_unit_error_never_hides_an_error_elsewhere(other, unit_error):
    """With both: exactly the errors of each alone (their union, sorted by location as check sorts them)."""
    with_other = edit(BASE, ERRORS[other])
    both = errors(edit(with_other, UNIT_ERRORS[unit_error]))
    alone = errors(with_other) + errors(edit(BASE, UNIT_ERRORS[unit_error]))
    assert sorted(both) == sorted(alone)
    assert set(errors(with_other)) <= set(both)


def test_a_syntax_error_still_stops_at_the_parse():
    """A syntax error (Lark's) stops at the parse as before: the blocks after it are parsed alone for their own
    errors (the unknown unit below it), and nothing is checked (the constraint error of `eff` is not reported)."""
    text = edit(edit(edit(BASE, ERRORS["constraint"]), UNIT_ERRORS["bad unit in a show"]),
                ("launch = 10 us", "launch = = 10 us"))
    assert [code for code, _, _ in errors(text)] == ["syntax", "unknown-unit"]


def run(capsys, *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    status = cli.main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err and "error[internal]" not in err, err
    return status, err


def test_eval_is_refused_with_every_error(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    status, err = run(capsys, "eval", CASE)
    assert status == 1
    assert [line.split(":")[0] for line in err.splitlines() if line.startswith("error[")] == [
        "error[unknown-unit]", "error[unknown-unit]", "error[constraint]", "error[constraint]", "error[unknown-name]"]
    assert err.endswith("5 errors\n")


def test_check_twice_replays_the_same_output_from_the_check_cache(private_cache, capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    cold = run(capsys, "check", CASE)
    assert cold[0] == 1 and cold[1].count("error[") == 5

    def must_not_load(*args, **kwargs):
        raise AssertionError("a replayed file was loaded")

    monkeypatch.setattr("perfdsl.program.load_modules", must_not_load)
    assert run(capsys, "check", CASE) == cold


def test_the_parse_cache_keeps_no_module_with_errors(private_cache, capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    parser._parse_module.cache_clear()       # parsed earlier in this process: it would not reach the disk cache
    run(capsys, "check", CASE)
    text = (REPO / CASE).read_text(encoding="utf-8")
    assert not (private_cache / parse_cache.entry_name(text)).exists()
    assert (private_cache / parse_cache.entry_name((REPO / "hardware/hopper.perf").read_text(encoding="utf-8"))
            ).exists(), "the clean files it imports are kept"


def test_a_set_value_with_a_bad_unit_is_still_bad_usage(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    status, err = run(capsys, "eval", "reports/example.perf", "--set", "rtx_a5000.mem_bw=900 GBps")
    assert status == 2
    assert err.startswith("error[unknown-unit]: unknown unit 'GBps'\n  --> --set rtx_a5000.mem_bw:1:5")
