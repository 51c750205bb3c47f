"""The help of a --set (or an API override) whose number is in another dimension than the cell it replaces: the
example it gives is a value that parses, in the cell's dimension, and means the number the user most likely meant.

A hardware architect's `--set my_h200.mem_bw=4.8TB` (no space, a size for a bandwidth) was told to write
`"4.8TB TB/s"`, a syntax error; `--set my_h200.mem_bw=6e12` (a bare number: 6e12 B/s = 6 TB/s) was told `"6e12
GB/s"`, 1e9 times that. rtx_a5000 (hardware/ampere_workstation.perf) writes `mem_bw = 768 GB/s`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import perfdsl
from perfdsl import cli
from perfdsl.errors import UsageError

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = str(REPO / "reports" / "example.perf")
AMPERE = REPO / "hardware" / "ampere_workstation.perf"


def _line_of(path: Path, start: str) -> int:
    """The 1-based line of `path` that starts with `start` (the place a diagnostic names, found, not copied)."""
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(start))


def run(argv: list[str], capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = cli.main(argv)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("given, message, hint, followed", [
    # No space between the number and the unit: the number alone, the unit made a rate with the user's prefix.
    # (1.5 TB/s, not the H200's 4.8: the A5000's 112.5 GB/s NVLink bridge over 4.8 TB/s is 0.023, below gpu.perf's
    # link bound, 0.133 / 3, a warning.)
    ("rtx_a5000.mem_bw=1.5TB", "'1.5TB' is byte, but 'rtx_a5000.mem_bw' is byte/s",
     'give it a unit of byte/s, e.g. --set rtx_a5000.mem_bw="1.5 TB/s"', "rtx_a5000.mem_bw=1.5 TB/s"),
    ("rtx_a5000.peak_fp16=120TFLOP", "'120TFLOP' is FLOP, but 'rtx_a5000.peak_fp16' is FLOP/s",
     'give it a unit of FLOP/s, e.g. --set rtx_a5000.peak_fp16="120 TFLOP/s"', "rtx_a5000.peak_fp16=120 TFLOP/s"),
    # A bare number: read in SI first (1.5e12 byte/s = 1.5 TB/s), then in the unit the cell is written in (GB/s).
    # (1.5 TB/s, not 6: 24 GiB read at 6 TB/s in 4.3 ms is below gpu.perf's plausibility bound, 14.1 ms / 3, a
    # warning: followed, the help is to give exit 0 and nothing on stderr.)
    ("rtx_a5000.mem_bw=1.5e12", "'1.5e12' is count, but 'rtx_a5000.mem_bw' is byte/s",
     "'1.5e12' has no unit: write the one meant, e.g. --set rtx_a5000.mem_bw=\"1.5 TB/s\" (1.5e12 read in byte/s) or "
     '--set rtx_a5000.mem_bw="1.5e12 GB/s"', "rtx_a5000.mem_bw=1.5 TB/s"),
    # 1500 read in SI is 1500 B/s, in the unit no prefix: the number as it is, then in the cell's GB/s.
    ("rtx_a5000.mem_bw=1500", "'1500' is count, but 'rtx_a5000.mem_bw' is byte/s",
     "'1500' has no unit: write the one meant, e.g. --set rtx_a5000.mem_bw=\"1500 B/s\" or "
     '--set rtx_a5000.mem_bw="1500 GB/s"', "rtx_a5000.mem_bw=1500 GB/s"),
])
def test_a_set_in_another_dimension_is_helped_with_a_value_that_parses(capsys, monkeypatch, given, message, hint,
                                                                      followed):
    monkeypatch.chdir(REPO)             # the note names the library file relative to the working folder
    code, err = run(["eval", EXAMPLE, "--set", given], capsys)
    target, _, value = given.partition("=")
    cell = target.partition(".")[2]
    line = _line_of(AMPERE, f"    {cell} ")
    # Located at the value, as a --set over a formula is (tests/test_set_over_formula.py).
    assert (code, err) == (2, f"error[unit-mismatch]: --set {target}: {message}\n  --> --set {target}:1:1\n  |\n"
                              f"1 | {value}\n  | {'^' * len(value)}\n"
                              f"  = note: the cell is defined at hardware/ampere_workstation.perf:{line}:5\n"
                              f"  = in: hardware.{target}\n  = help: {hint}\n\n1 error\n")
    assert run(["eval", EXAMPLE, "--set", followed], capsys) == (0, "")     # the help, followed, is taken


def test_a_bare_number_given_to_the_api_is_helped_in_the_api_form():
    with pytest.raises(UsageError) as caught:
        perfdsl.load([EXAMPLE]).evaluate(overrides={"rtx_a5000.mem_bw": 6e12})
    assert caught.value.diagnostics[0].hints == [
        f"'{6e12!r}' has no unit: write the one meant, e.g. overrides={{'rtx_a5000.mem_bw': \"6 TB/s\"}} "
        f"({6e12!r} read in byte/s) or overrides={{'rtx_a5000.mem_bw': \"{6e12!r} GB/s\"}}"]
