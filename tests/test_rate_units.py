"""A count per second is shown in 1/s, a clock in Hz (hertz.py, units.auto_unit).

Both have the dimension 1/s. Before, every such value without a unit named was shown in Hz: `tput [Hz]` for
requests / window, in the table, the CSV and JSON keys, the workbook's headers and Inputs sheet, and `explain`. A
cell that says Hz (a number written in Hz, a declared `: Hz`, or a 1/s cell read from one) is still a clock.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest

import perfdsl
from perfdsl import cli

RATES = """\
hardware h {
    boost_clock: Hz = 1700 MHz            # declared in Hz
}
costmodel c {
    requests = 8
    window = 100 ms
    tput = requests / window              # a count per second: 8 / 0.1 s = 80 /s
    clock = 1.41 GHz                      # written in Hz
    clock2 = clock * 2                    # reads a clock: a clock
    cycles = 2.82e8
    runtime = cycles / clock              # 2.82e8 / 1.41e9 Hz = 0.2 s
    steps = 4 / runtime                   # reads a clock through a time: a count per second, 4 / 0.2 s = 20 /s
}
report r {
    hardware = h
    show c.tput, c.clock, c.clock2, c.steps, hardware.boost_clock, c.tput in Hz as tput_hz
}
"""

HEADER = ["c.tput [1/s]", "c.clock [Hz]", "c.clock2 [Hz]", "c.steps [1/s]", "hardware.boost_clock [Hz]",
          "tput_hz [Hz]"]
VALUES = [8 / 0.1, 1.41e9, 1.41e9 * 2, 4 / (2.82e8 / 1.41e9), 1700e6, 8 / 0.1]


@pytest.fixture
def work(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rates.perf").write_text(RATES)
    return tmp_path


def test_the_table_and_its_records_show_a_count_per_second_in_1_per_s(work, capsys):
    assert cli.main(["eval", "rates.perf"]) == 0
    assert capsys.readouterr().out.splitlines()[0].split("  ") == HEADER
    result = perfdsl.load(["rates.perf"]).evaluate()
    [record] = result.records()
    assert list(record) == HEADER
    assert list(record.values()) == pytest.approx(VALUES)
    assert result.array("c.tput").unit == "1/s" and result.array("c.clock").unit == "Hz"


def test_csv_and_json_headers(work, capsys):
    assert cli.main(["eval", "rates.perf", "-o", "out.csv"]) == 0
    assert cli.main(["eval", "rates.perf", "-o", "out.json"]) == 0
    with open("out.csv", newline="") as file:
        assert next(csv.reader(file)) == HEADER
    assert list(json.loads(Path("out.json").read_text())[0]) == HEADER


def test_the_workbook_headers_and_inputs(work, capsys):
    assert cli.main(["eval", "rates.perf", "-o", "out.xlsx"]) == 0
    book = openpyxl.load_workbook("out.xlsx")
    assert [cell.value for cell in book["r"][1]] == ["C tput (1/s)", "C clock (Hz)", "C clock2 (Hz)",
                                                     "C steps (1/s)", "Hardware boost clock (Hz)", "Tput hz (Hz)"]
    rows = list(book["Inputs"].iter_rows(values_only=True))
    units = {row[2]: row[5] for row in rows[1:]}
    # a literal keeps the unit it is written in (1.41 GHz, 1700 MHz); a formula gets 1/s or Hz
    assert units == {"tput": "1/s", "clock": "GHz", "clock2": "Hz", "steps": "1/s", "boost_clock": "MHz",
                     "requests": None, "window": "ms", "cycles": None, "runtime": "ms"}


def test_the_live_workbook_names_the_units_as_the_table_does(work, capsys):
    assert cli.main(["eval", "rates.perf", "--live", "-o", "live.xlsx"]) == 0
    derived = {row[0]: row[2] for row in openpyxl.load_workbook("live.xlsx")["Derived"].iter_rows(values_only=True)}
    assert (derived["c.tput"], derived["c.clock2"], derived["c.steps"]) == ("1/s", "Hz", "1/s")


def test_explain_shows_a_count_per_second_in_1_per_s(work, capsys):
    assert cli.main(["explain", "rates.perf", "c.steps"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "c.steps = 20 1/s"                     # 4 / 0.2 s
    assert cli.main(["explain", "rates.perf", "c.clock2"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "c.clock2 = 2820000000 Hz"      # 2 x 1.41 GHz, as before


def test_a_bare_number_beside_a_count_per_second_is_offered_a_unit_that_parses(work, capsys):
    Path("where.perf").write_text(RATES + "report w { where c.tput > 50; show c.tput }\n")
    assert cli.main(["check", "--no-cache", "where.perf"]) == 1
    assert "  = help: '50' has no unit: write it with one, e.g. `50 s^-1`\n" in capsys.readouterr().err
    Path("fixed.perf").write_text(RATES + "report w { where c.tput > 50 s^-1; show c.tput }\n")
    assert cli.main(["check", "--no-cache", "fixed.perf"]) == 0


def test_an_axis_of_clocks_is_in_hz_in_si_and_an_axis_of_rates_in_1_per_s(tmp_path):
    pytest.importorskip("xarray")
    (tmp_path / "axes.perf").write_text("workload w { sweep clock = [1 GHz, 2 GHz]; sweep rate = [1 s^-1, 2 s^-1] }\n"
                                        "costmodel c { cycles = workload.clock * 1 s; n = workload.rate * 1 s }\n"
                                        "report r { workload = w; show c.cycles, c.n }\n")
    result = perfdsl.load([tmp_path / "axes.perf"]).evaluate()
    coords = result.to_xarray().coords
    assert (coords["clock"].attrs["units"], coords["rate"].attrs["units"]) == ("Hz", "1/s")      # SI
    assert coords["clock"].values.tolist() == [1e9, 2e9]
    display = result.to_xarray(display=True).coords
    assert (display["clock"].attrs["units"], display["rate"].attrs["units"]) == ("GHz", "s^-1")  # as written


# -- the type names in messages follow the same rule ----------------------------------------------------------------
# Before: every message named a quantity per second Hz (`cannot compare 'c.tput' (Hz) with ...` for requests / window).

MISTAKES = """\
hardware base {
    clock = 1 GHz
    rate = 5 s^-1
}
hardware h extends base {
    clock = 3 W
    rate = 2 GB
}
costmodel c {
    requests = 8
    window = 100 ms
    tput = requests / window
    clock = 1.41 GHz
    clock2 = clock * 2
    cycles = 2.82e8
    runtime = cycles / clock
    steps = 4 / runtime
    a = tput > 3 s
    b = clock2 + 1 GB
    d = steps + 1 GB
    per: 1/s = 2 s
    boost: Hz = 2 s
    e = sqrt(tput)
    f = if(true, clock, 3 s)
    require tput, "a condition"
}
report r {
    hardware = h
    where c.tput
    show c.a, c.b, c.d, c.per, c.boost, c.e, c.f, c.tput in GB
}
"""


def _messages(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("error[")]


def test_messages_name_a_count_per_second_1_per_s_and_a_clock_hz(work, capsys):
    (work / "mistakes.perf").write_text(MISTAKES)
    assert cli.main(["check", "mistakes.perf"]) == 1
    assert sorted(_messages(capsys)) == sorted([
        "error[unit-mismatch]: 'clock' overrides base.clock (Hz) with W",
        "error[unit-mismatch]: 'rate' overrides base.rate (1/s) with byte",
        "error[unit-mismatch]: cannot compare 'tput' (1/s) with '3 s' (s)",
        "error[unit-mismatch]: cannot add 'clock2' (Hz) and '1 GB' (byte)",      # reads a clock
        "error[unit-mismatch]: cannot add 'steps' (1/s) and '1 GB' (byte)",      # reads a clock through a time
        "error[unit-mismatch]: 'per' is declared as 1/s but its formula gives s",   # was "as 1/s (Hz)"
        "error[unit-mismatch]: 'boost' is declared as Hz but its formula gives s",
        "error[unit-mismatch]: sqrt(): the square root of 1/s has no whole unit",
        "error[unit-mismatch]: if(): both branches must have the same dimension, not Hz and s (they differ by 1/s^2)",
        "error[type-mismatch]: a `require` needs a condition that is true or false, not 1/s",
        "error[type-mismatch]: `where` needs a condition, true or false, but 'c.tput' is a number (1/s)",
        "error[unit-mismatch]: cannot show 'c.tput' (1/s) in GB (byte)",
    ])


def test_a_set_over_a_count_per_second_says_1_per_s_and_its_example_parses(work, capsys):
    # Before: "'c.rate' is Hz" and the help `--set c.rate="3 Hz"`; a name gave `"1 Hz"` (where 1/s, `"1 1/s"`,
    # did not parse then).
    (work / "sets.perf").write_text("workload w {\n    clock = 1 GHz\n    rate = 5 s^-1\n}\n"
                                    "report r {\n    workload = w\n    show w.clock, w.rate\n}\n")
    assert cli.main(["eval", "sets.perf", "--set", "w.rate=3 GB"]) == 2
    err = capsys.readouterr().err
    assert "error[unit-mismatch]: --set w.rate: '3 GB' is byte, but 'w.rate' is 1/s" in err
    assert 'help: give it a unit of 1/s, e.g. --set w.rate="3 s^-1"' in err
    assert cli.main(["eval", "sets.perf", "--set", "w.clock=3 s"]) == 2
    err = capsys.readouterr().err
    assert "error[unit-mismatch]: --set w.clock: '3 s' is s, but 'w.clock' is Hz" in err
    assert cli.main(["eval", "sets.perf", "--set", "w.rate=abc"]) == 2
    assert "'w.rate' takes a quantity in 1/s, not a name: e.g. --set w.rate=\"5 s^-1\"" in capsys.readouterr().err
    assert cli.main(["eval", "sets.perf", "--set", "w.rate=3 s^-1"]) == 0       # the example given parses


def test_a_value_written_in_1_per_unit_parses_as_its_header_and_show_in_write_it(work, capsys):
    # Before: `rate = 5 1/s` (and --set w.rate="5 1/s") was error[syntax]: unexpected '1', though the header
    # says [1/s] and `show x in 1/s` takes it.
    (work / "per.perf").write_text(
        "workload w {\n    rate = 5 1/s\n    fast = 4 1/ms\n    same = 5 s^-1\n    n = 51/two\n    two = 2\n}\n"
        "report r {\n    workload = w\n    show w.rate, w.fast, w.same, w.n\n}\n")
    assert cli.main(["eval", "per.perf", "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    # 4 per ms is 4 * 1000 per second; `51/two` (no space before the 1) stays the number 51 over a cell: 51 / 2.
    assert list(csv.reader(out.splitlines())) == [
        ["w.rate [1/s]", "w.fast [1/s]", "w.same [1/s]", "w.n"], [str(5.0), str(4 * 1000.0), str(5.0), str(51 / 2)]]
    assert cli.main(["eval", "per.perf", "--format", "csv", "--set", "w.rate=7 1/s"]) == 0
    assert list(csv.reader(capsys.readouterr().out.splitlines()))[1][0] == str(7.0)
