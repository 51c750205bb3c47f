"""Units and dimensions (perfdsl.units): prefixes, compound units, errors, dimension arithmetic and display.

Expected scales are written as the arithmetic that gives them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from perfdsl.units import (BYTES, DIMENSIONLESS, ENERGY, FLOPS_DIM, FREQUENCY, POWER, REQUESTS, TIME, TOKENS,
                           Dimension, UnitError, auto_unit, dimension_name, is_unit, literal_unit, parse_unit,
                           si_unit_name, written_in_hertz)

RATE = FLOPS_DIM / TIME
BANDWIDTH = BYTES / TIME


def scale(text: str) -> float:
    return parse_unit(text).scale


def dim(text: str) -> Dimension:
    return parse_unit(text).dim


# -- base units and prefixes ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected, dimension", [
    ("s", 1.0, TIME), ("sec", 1.0, TIME), ("ms", 1e-3, TIME), ("us", 1e-6, TIME), ("µs", 1e-6, TIME), ("μs", 1e-6, TIME), ("μJ", 1e-6, ENERGY),
    ("ns", 1e-9, TIME), ("min", 60.0, TIME), ("h", 60.0 * 60, TIME), ("hour", 60.0 * 60, TIME),
    ("day", 24 * 60.0 * 60, TIME),
    ("B", 1.0, BYTES), ("byte", 1.0, BYTES), ("bytes", 1.0, BYTES), ("bit", 1 / 8, BYTES),
    ("kB", 1e3, BYTES), ("KB", 1e3, BYTES), ("MB", 1e6, BYTES), ("GB", 1e9, BYTES), ("TB", 1e12, BYTES),
    ("PB", 1e15, BYTES),
    ("KiB", 2.0**10, BYTES), ("MiB", 2.0**20, BYTES), ("GiB", 2.0**30, BYTES), ("TiB", 2.0**40, BYTES),
    ("Gbit", 1e9 / 8, BYTES), ("Gibit", 2.0**30 / 8, BYTES),
    ("FLOP", 1.0, FLOPS_DIM), ("OP", 1.0, FLOPS_DIM), ("kFLOP", 1e3, FLOPS_DIM), ("GFLOP", 1e9, FLOPS_DIM),
    ("TFLOP", 1e12, FLOPS_DIM), ("PFLOP", 1e15, FLOPS_DIM),
    ("FLOPS", 1.0, RATE), ("TFLOPS", 1e12, RATE), ("TOPS", 1e12, RATE),
    ("token", 1.0, TOKENS), ("tokens", 1.0, TOKENS), ("ktoken", 1e3, TOKENS),
    ("J", 1.0, ENERGY), ("kJ", 1e3, ENERGY), ("mJ", 1e-3, ENERGY), ("Wh", 60.0 * 60, ENERGY),
    ("kWh", 1e3 * 60 * 60, ENERGY), ("MWh", 1e6 * 60 * 60, ENERGY),
    ("W", 1.0, POWER), ("kW", 1e3, POWER), ("mW", 1e-3, POWER),
    ("Hz", 1.0, Dimension.of(s=-1)), ("MHz", 1e6, Dimension.of(s=-1)), ("GHz", 1e9, Dimension.of(s=-1)),
    ("request", 1.0, REQUESTS), ("req", 1.0, REQUESTS),
    ("count", 1.0, DIMENSIONLESS), ("1", 1.0, DIMENSIONLESS), ("%", 0.01, DIMENSIONLESS),
])
def test_unit_scale_and_dimension(text, expected, dimension):
    unit = parse_unit(text)
    assert unit.scale == pytest.approx(expected, rel=1e-15)
    assert unit.dim == dimension
    assert unit.text == text


def test_gb_and_gib_are_different_units():
    assert scale("GB") == 10**9
    assert scale("GiB") == 2**30
    assert scale("GiB") / scale("GB") == pytest.approx(1.073741824)
    assert dim("GB") == dim("GiB") == BYTES


def test_si_prefix_steps_are_powers_of_1000_and_binary_steps_powers_of_1024():
    si = ["B", "kB", "MB", "GB", "TB", "PB", "EB"]
    binary = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    for a, b in zip(si, si[1:]):
        assert scale(b) == pytest.approx(1000 * scale(a))
    for a, b in zip(binary, binary[1:]):
        assert scale(b) == 1024 * scale(a)


def test_flops_means_flop_per_second():
    for prefix in ["", "k", "M", "G", "T", "P"]:
        assert parse_unit(f"{prefix}FLOPS").dim == parse_unit(f"{prefix}FLOP/s").dim == RATE
        assert scale(f"{prefix}FLOPS") == pytest.approx(scale(f"{prefix}FLOP/s"))


def test_kilo_as_capital_k_only_for_bytes_and_bits():
    assert scale("KB") == scale("kB") == 1000
    assert scale("Kbit") == 1000 / 8
    for text in ["KFLOP", "KJ", "KW", "Ks"]:
        assert not is_unit(text), text


def test_small_prefixes_only_where_they_make_sense():
    assert scale("ms") == 1e-3 and scale("mJ") == 1e-3 and scale("mW") == 1e-3
    for text in ["mB", "mFLOP", "mtoken"]:
        assert not is_unit(text), text


def test_percent_and_count_are_dimensionless():
    assert parse_unit("%").dim.is_dimensionless
    assert parse_unit("count").dim.is_dimensionless
    assert scale("%") == 1 / 100


def test_kwh_is_energy_and_w_times_h_equals_wh():
    assert dim("kWh") == ENERGY == dim("W*h")
    assert scale("kWh") == pytest.approx(1000 * scale("W*h"))


# -- compound units ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected, dimension", [
    ("GB/s", 1e9, BANDWIDTH),
    ("TB/s", 1e12, BANDWIDTH),
    ("GiB/s", 2.0**30, BANDWIDTH),
    ("TFLOP/s", 1e12, RATE),
    ("J/token", 1.0, ENERGY / TOKENS),
    ("mJ/token", 1e-3, ENERGY / TOKENS),
    ("token/s", 1.0, TOKENS / TIME),
    ("byte*s", 1.0, BYTES * TIME),
    ("s^-1", 1.0, Dimension.of(s=-1)),
    ("s^2", 1.0, Dimension.of(s=2)),
    ("ms^2", 1e-6, Dimension.of(s=2)),
    ("GB/s/W", 1e9, BYTES / ENERGY),
    ("kW*h", 1e3 * 3600, ENERGY),
    ("FLOP/byte", 1.0, FLOPS_DIM / BYTES),
    ("request/s", 1.0, REQUESTS / TIME),
    ("1/s", 1.0, Dimension.of(s=-1)),
])
def test_compound_units(text, expected, dimension):
    unit = parse_unit(text)
    assert unit.scale == pytest.approx(expected, rel=1e-15)
    assert unit.dim == dimension


def test_division_is_left_associative():
    # GB/s/W = (GB/s)/W, not GB/(s/W)
    assert dim("GB/s/W") == BYTES / TIME / POWER
    assert dim("GB/s/W") == BYTES / ENERGY


def test_to_si_and_from_si():
    unit = parse_unit("GB/s")
    assert unit.to_si(768) == 768 * 1e9
    assert unit.from_si(768e9) == 768
    assert parse_unit("ms").from_si(0.25) == pytest.approx(250)


# -- errors --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, message, hint", [
    ("GBs", "unknown unit 'GBs'", "did you mean 'GB' or 'GiB'?"),
    ("Xs", "unknown unit 'Xs'", "did you mean 's'?"),
    ("KFLOP", "unknown unit 'KFLOP'", "did you mean 'kFLOP' or 'FLOP' or 'TFLOP'?"),
    ("GB/xyz", "unknown unit 'xyz'",
     "known units: s, ms, us, B, GB, GiB, bit, FLOP, TFLOP/s, token, J, Wh, W, Hz, %, count"),
])
def test_unknown_unit_with_hint(text, message, hint):
    with pytest.raises(UnitError) as info:
        parse_unit(text)
    assert info.value.message == message
    assert str(info.value) == message
    assert info.value.hint == hint


@pytest.mark.parametrize("text, hint", [
    ("", "write units without spaces, e.g. 'GB/s'"),
    (" s", "write units without spaces, e.g. 'GB/s'"),
    ("GB /s", "write units without spaces, e.g. 'GB/s'"),
    ("GB s", "write units without spaces, e.g. 'GB/s'"),
    ("GB//s", "a unit is names joined by '*' and '/', e.g. 'J/token'"),
    ("GB/", "a unit is names joined by '*' and '/', e.g. 'J/token'"),
    ("*s", "a unit is names joined by '*' and '/', e.g. 'J/token'"),
    ("kW*", "a unit is names joined by '*' and '/', e.g. 'J/token'"),
    ("s^x", "join unit names with '*' or '/'"),
    ("GB-s", "join unit names with '*' or '/'"),
])
def test_malformed_units(text, hint):
    with pytest.raises(UnitError) as info:
        parse_unit(text)
    assert info.value.message == f"malformed unit '{text}'"
    assert info.value.hint == hint
    assert not is_unit(text)


def test_unit_error_is_a_value_error():
    assert issubclass(UnitError, ValueError)


# -- dimension arithmetic ------------------------------------------------------------------------------------------

def test_dimension_arithmetic():
    assert BYTES / TIME * TIME == BYTES
    assert (BYTES / TIME) ** 2 == Dimension.of(byte=2, s=-2)
    assert TIME ** 0 == DIMENSIONLESS
    assert TIME / TIME == DIMENSIONLESS and (TIME / TIME).is_dimensionless
    assert not TIME.is_dimensionless
    assert Dimension.of(s=2, byte=4).root(2) == Dimension.of(s=1, byte=2)
    assert Dimension.of(s=1).root(2) is None
    assert POWER == ENERGY / TIME == dim("J/s") == dim("W")
    assert Dimension.of(s=-1) == dim("Hz") == dim("s^-1")


def test_dimensions_are_hashable_and_compare_by_exponents():
    assert {dim("GB/s"): 1}[dim("B/s")] == 1
    assert dim("GB") != dim("GB/s")


# -- display -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dimension, name", [
    (DIMENSIONLESS, "count"),
    (TIME, "s"),
    (BYTES, "byte"),
    (POWER, "W"),
    (Dimension.of(s=-1), "1/s"),               # a count per second; a clock's type is named Hz (hertz=True)
    (BANDWIDTH, "byte/s"),
    (RATE, "FLOP/s"),
    (ENERGY / TOKENS, "J/token"),
    (Dimension.of(s=-2), "1/s^2"),
    (Dimension.of(byte=2), "byte^2"),
    (BYTES * TIME, "s*byte"),
    (FLOPS_DIM / BYTES / TIME, "FLOP/s/byte"),
])
def test_dimension_names(dimension, name):
    assert dimension_name(dimension) == name
    assert str(dimension) == name


@pytest.mark.parametrize("dimension, magnitude, expected", [
    (TIME, 0.002, ("ms", 1e-3)),
    (TIME, 5e-10, ("ns", 1e-9)),
    (TIME, 3e-6, ("us", 1e-6)),
    (TIME, 100.0, ("s", 1.0)),
    (TIME, None, ("s", 1.0)),
    (TIME, 0.0, ("s", 1.0)),
    (TIME, float("inf"), ("s", 1.0)),
    (BYTES, 3e9, ("GB", 1e9)),
    (BYTES, 999.0, ("B", 1.0)),
    (BYTES, 5e15, ("TB", 1e12)),
    (RATE, 111.1e12, ("TFLOP/s", 1e12)),
    (BANDWIDTH, 768e9, ("GB/s", 1e9)),
    (POWER, 230.0, ("W", 1.0)),
    (POWER, 1500.0, ("kW", 1e3)),
    (ENERGY, 2e6, ("MJ", 1e6)),
    (DIMENSIONLESS, 5.0, ("", 1.0)),
    (TIME, -0.002, ("ms", 1e-3)),
])
def test_auto_unit(dimension, magnitude, expected):
    assert auto_unit(dimension, magnitude) == expected


def test_auto_unit_of_a_dimension_without_a_family_is_its_name_in_si():
    assert auto_unit(Dimension.of(s=2), 5.0) == ("s^2", 1.0)
    # a value's unit spells bytes B, as the auto units (B, GB/s) and the headers do; the type is FLOP/byte
    assert auto_unit(FLOPS_DIM / BYTES) == ("FLOP/B", 1.0)


def test_si_unit_names():
    assert si_unit_name(BYTES) == "B"
    assert si_unit_name(TIME) == "s"
    assert si_unit_name(RATE) == "FLOP/s"
    assert si_unit_name(BYTES / ENERGY) == "B/J"             # dimension_name: "byte/J"
    assert si_unit_name(Dimension.of(byte=2) / TIME) == "B^2/s"
    assert parse_unit(si_unit_name(BYTES / ENERGY)).dim == BYTES / ENERGY
    assert si_unit_name(DIMENSIONLESS) == ""


def test_a_count_per_second_is_shown_in_1_per_s_and_a_clock_in_hz():
    # Before: every quantity per second was shown in Hz (`tput [Hz]` for requests / window), right for a clock only.
    assert FREQUENCY == TIME ** -1 == dim("Hz") == dim("1/s")
    assert auto_unit(FREQUENCY) == auto_unit(FREQUENCY, 80.0) == ("1/s", 1.0)
    assert si_unit_name(FREQUENCY) == "1/s"
    assert auto_unit(FREQUENCY, 1.41e9, hertz=True) == ("Hz", 1.0)      # in Hz whatever its size, as before
    assert si_unit_name(FREQUENCY, hertz=True) == "Hz"
    assert si_unit_name(TIME, hertz=True) == "s"                        # `hertz` concerns 1/s alone
    # A type's name in messages follows the same rule (before: "Hz" for both).
    assert dimension_name(FREQUENCY) == "1/s" and dimension_name(FREQUENCY, hertz=True) == "Hz"
    assert dimension_name(TIME, hertz=True) == "s" and dimension_name(POWER, hertz=True) == "W"


@pytest.mark.parametrize("unit, clock", [("Hz", True), ("MHz", True), ("GHz", True), ("1/s", False),
                                         ("s^-1", False), (None, False), ("Hz*s", False), ("GHzz", False)])
def test_written_in_hertz(unit, clock):
    assert written_in_hertz(unit) is clock


@pytest.mark.parametrize("shown, written", [("1/s", "s^-1"), ("1/token", "token^-1"), ("1/s^2", "s^-2"),
                                            ("1/s/token", "s^-1/token"), ("GB/s", "GB/s"), ("Hz", "Hz")])
def test_a_display_unit_as_a_number_is_written_with_it(shown, written):
    # the help of a bare number writes the unit as s^-1 (`50 1/s` parses too), of the same size
    assert literal_unit(shown) == written
    assert (parse_unit(written).dim, parse_unit(written).scale) == (parse_unit(shown).dim, parse_unit(shown).scale)


def test_auto_units_parse_back_to_their_scale():
    for dimension in [TIME, BYTES, FLOPS_DIM, RATE, BANDWIDTH, ENERGY, POWER, TOKENS / TIME, ENERGY / TOKENS]:
        for magnitude in [1e-9, 1e-3, 1.0, 1e3, 1e9, 1e12, 1e15]:
            text, factor = auto_unit(dimension, magnitude)
            unit = parse_unit(text)
            assert unit.dim == dimension, text
            assert unit.scale == pytest.approx(factor), text


@pytest.mark.parametrize("text, hint", [
    ("TBps", "did you mean 'TB/s'?"),               # vendors' 'ps' (per second): the rate, prefix kept
    ("Gbps", "did you mean 'Gbit/s'?"),
    ("GB/S", "did you mean 'GB/s'?"),               # the whole unit, its case mended
    ("Gib", "did you mean 'GiB' or 'Gibit' or 'Gibyte'?"),   # case-only differences first
    ("gigabyte", "did you mean 'GB'?"),             # spelled out in words: its symbols (it offered 'Tibyte' ...)
    ("Milliseconds", "did you mean 'ms'?"),
    ("teraflops", "did you mean 'TFLOP/s'?"),
    ("gibibytes/s", "did you mean 'GiB/s'?"),
])
def test_unknown_unit_hints_mend_rates_and_case(text, hint):
    with pytest.raises(UnitError) as info:
        parse_unit(text)
    assert info.value.hint == hint


HOPPER = Path(__file__).resolve().parent.parent / "hardware" / "hopper.perf"


def _line_of(path: Path, start: str) -> int:
    """The 1-based line of `path` that starts with `start` (the place a diagnostic names, found, not copied)."""
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(start))


def _set_error(capsys, value: str) -> str:
    from perfdsl import cli

    code = cli.main(["eval", str(Path(__file__).resolve().parent.parent / "reports" / "capacity_planning.perf"),
                     "--set", f"h100_sxm5.mem_bw={value}", "--format", "csv"])
    assert code == 2                        # a bad --set value: bad usage
    return capsys.readouterr().err


def test_a_set_value_of_bytes_for_a_bandwidth_is_told_the_rate_with_its_own_prefix(capsys, monkeypatch):
    monkeypatch.chdir(HOPPER.parent.parent)     # the note names the library file relative to the working folder
    assert _set_error(capsys, "3.35 TB") == (
        "error[unit-mismatch]: --set h100_sxm5.mem_bw: '3.35 TB' is byte, but 'h100_sxm5.mem_bw' is byte/s\n"
        "  --> --set h100_sxm5.mem_bw:1:1\n"
        "  |\n"
        "1 | 3.35 TB\n"
        "  | ^^^^^^^\n"
        f"  = note: the cell is defined at hardware/hopper.perf:{_line_of(HOPPER, '    mem_bw ')}:5\n"
        "  = in: hardware.h100_sxm5.mem_bw\n"
        "  = help: give it a unit of byte/s, e.g. --set h100_sxm5.mem_bw=\"3.35 TB/s\"\n"
        "\n"
        "1 error\n")


def test_a_set_value_with_an_unknown_unit_has_no_next_cell_to_separate(capsys):
    assert _set_error(capsys, "3.35 TBps") == (
        "error[unknown-unit]: unknown unit 'TBps'\n"
        "  --> --set h100_sxm5.mem_bw:1:6\n"
        "  |\n"
        "1 | 3.35 TBps\n"
        "  |      ^^^^\n"
        "  = help: did you mean 'TB/s'?\n"
        "\n"
        "1 error\n")
    assert _set_error(capsys, "3350 GB/S") == (
        "error[unknown-unit]: unknown unit 'S'\n"
        "  --> --set h100_sxm5.mem_bw:1:6\n"
        "  |\n"
        "1 | 3350 GB/S\n"
        "  |      ^^^^\n"
        "  = help: did you mean 'GB/s'?\n"
        "\n"
        "1 error\n")


def test_a_set_value_with_an_unknown_unit_is_told_the_units_of_the_cells_dimension_first(capsys):
    """'TBs' for a bandwidth: the units of byte/s closest to it, not 'TB' or 'TiB' (bytes, another dimension)."""
    assert _set_error(capsys, "3.35 TBs") == (
        "error[unknown-unit]: unknown unit 'TBs'\n"
        "  --> --set h100_sxm5.mem_bw:1:6\n"
        "  |\n"
        "1 | 3.35 TBs\n"
        "  |      ^^^\n"
        "  = help: did you mean 'TB/s' or 'TiB/s' or 'B/s'?\n"
        "\n"
        "1 error\n")


def test_units_of_a_dimension_include_its_rates():
    from perfdsl.units import BYTES, TIME, units_of

    bandwidth = units_of(BYTES / TIME)
    assert {"TB/s", "GiB/s", "B/s"} <= set(bandwidth) and "TB" not in bandwidth


@pytest.mark.parametrize("text, hint", [
    ("gigabytes/s", "did you mean 'GB/s'?"),        # spelled out, each name as its symbols
    ("gigabyte", "did you mean 'GB/s'?"),           # an amount spelled out for a rate: per second
    ("TBps", "did you mean 'TB/s'?"),
])
def test_a_set_value_of_a_bandwidth_with_its_unit_spelled_out_is_helped_to_the_symbols(text, hint):
    # `--set rtx_a5000.mem_bw="768 gigabytes/s"` was offered 'Tibytes/s' or 'Pibytes/s' or 'Mibytes/s'.
    from perfdsl.units import unit_hint_for

    assert unit_hint_for(text, BANDWIDTH) == hint
