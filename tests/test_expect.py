"""Expectations (`expect CONDITION, "message"`): a soft constraint. Placed, inherited, linked and typed as a
`require` is; where broken it is a warning (warning[unexpected-value]), never an error nor a point left out: said
once by check where the condition reads constants only (located, with the values as written), and by eval over the
sweep with how many points break it, the points kept. hardware/gpu.perf bounds the ratios of a GPU's datasheet
figures with it (a unit slip such as `mem_bw = 4800 Gbit/s` for 4.8 TB/s, or `nvlink_bw = 900 Gbit/s` for 900 GB/s).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import perfdsl
from perfdsl import cli
from perfdsl.parser import parse_text

REPO = Path(__file__).resolve().parent.parent


def _load(text: str) -> perfdsl.Program:
    return perfdsl.load([], texts={"c.perf": text})


def test_expect_is_read_as_a_soft_require():
    module = parse_text('hardware g {\n    mem_bw = 1 TB/s\n    expect mem_bw <= 100 TB/s, "at most 100 TB/s"\n'
                        '    require mem_bw > 0 B/s, "positive"\n}\n', "g.perf")
    expect, require = module.blocks[0].requires
    assert (expect.soft, expect.message, expect.text, expect.keyword) == (True, "at most 100 TB/s",
                                                                           "mem_bw <= 100 TB/s", "expect")
    assert (expect.span.line, expect.span.col) == (3, 12)
    assert (require.soft, require.keyword) == (False, "require")


CONSTANT = """hardware g {
    mem_bw = 4800 Gbit/s
    mem_size = 141 GB
    expect mem_size / mem_bw <= 100 ms, "the whole memory is read in 100 ms at most"
}
costmodel c { t = hardware.mem_size / hardware.mem_bw }
report r {
    hardware = g
    show c.t in ms
}
"""

CONSTANT_WARNING = (
    "warning[unexpected-value]: the whole memory is read in 100 ms at most\n"
    "  --> c.perf:4:12\n"
    "  |\n"
    '4 |     expect mem_size / mem_bw <= 100 ms, "the whole memory is read in 100 ms at most"\n'
    "  |            ^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
    "  = note: `mem_size / mem_bw <= 100 ms` is false with mem_size = 141 GB, mem_bw = 4800 Gbit/s\n"
    "  = in: hardware.g\n"
    "\n"
    "1 warning\n")


def test_a_constant_expectation_broken_is_one_warning_at_check_located_with_the_values_as_written(work, capsys):
    (work / "c.perf").write_text(CONSTANT)
    assert cli.main(["check", "c.perf"]) == 0
    out, err = capsys.readouterr()
    assert (out, err) == ("", CONSTANT_WARNING)


def test_eval_says_a_constant_expectation_once_and_keeps_the_point(work, capsys):
    (work / "c.perf").write_text(CONSTANT)
    assert cli.main(["eval", "c.perf", "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    assert err == CONSTANT_WARNING
    header, value = out.splitlines()
    assert header == "c.t [ms]" and float(value) == pytest.approx(141e9 / (4800e9 / 8) * 1e3)   # 235 ms: kept
    result = _load(CONSTANT).evaluate()
    assert bool(np.all(result.valid))
    assert result.violations == []
    assert [w.code for w in result.warnings] == ["unexpected-value"]


def test_a_constant_expectation_met_says_nothing():
    assert _load(CONSTANT.replace("Gbit/s", "GB/s")).check() == []


def test_strict_makes_the_expectation_an_error(work, capsys):
    (work / "c.perf").write_text(CONSTANT)
    assert cli.main(["check", "--strict", "c.perf"]) == 1
    assert cli.main(["eval", "--strict", "c.perf"]) == 1
    err = capsys.readouterr().err
    assert err.count("warning[unexpected-value]: the whole memory is read in 100 ms at most") == 2
    assert err.count("--strict: warnings are errors") == 2


def test_a_unit_mismatch_in_the_condition_is_an_error_as_for_require(work, capsys):
    (work / "c.perf").write_text('hardware g {\n    mem_bw = 1 TB/s\n    expect mem_bw <= 100 ms, "bounded"\n}\n')
    assert cli.main(["check", "c.perf"]) == 1
    assert capsys.readouterr().err == (
        "error[unit-mismatch]: cannot compare 'mem_bw' (byte/s) with '100 ms' (s)\n"
        "  --> c.perf:3:12\n"
        "  |\n"
        '3 |     expect mem_bw <= 100 ms, "bounded"\n'
        "  |            ^^^^^^^^^^^^^^^^\n"
        "  = in: hardware.g\n"
        "\n"
        "1 error\n")


def test_a_condition_that_is_no_boolean_is_an_error(work, capsys):
    (work / "c.perf").write_text('hardware g {\n    mem_bw = 1 TB/s\n    expect mem_bw, "bounded"\n}\n')
    assert cli.main(["check", "c.perf"]) == 1
    assert capsys.readouterr().err.splitlines()[:2] == [
        "error[type-mismatch]: an `expect` needs a condition that is true or false, not byte/s",
        "  --> c.perf:3:12"]


SWEEP = """
workload w {
    sweep gpus = [1, 2, 3, 4]
    sweep tp = [1, 2]
    require gpus <= 3, "three GPUs at most"
    expect gpus / tp <= 2, "two replicas at most"
}
costmodel c { replicas = workload.gpus / workload.tp }
report r {
    workload = w
    OPTION
    show c.replicas
}
"""


def test_over_the_sweep_one_warning_counts_the_points_that_break_it_and_keeps_them(work, capsys):
    (work / "s.perf").write_text(SWEEP.replace("OPTION", ""))
    assert cli.main(["eval", "s.perf", "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    # gpus = 4 is left out by the require; of the 6 points kept, gpus / tp > 2 at (3, 1) only.
    assert out.splitlines() == ["gpus,tp,c.replicas", "1,1,1.0", "1,2,0.5", "2,1,2.0", "2,2,1.0", "3,1,3.0",
                                "3,2,1.5"]
    assert err.split("\n\n")[1] == (
        "warning[unexpected-value]: two replicas at most: 1 of 8 sweep points break it, kept in the results\n"
        "  --> s.perf:6:12\n"
        "  |\n"
        '6 |     expect gpus / tp <= 2, "two replicas at most"\n'
        "  |            ^^^^^^^^^^^^^^\n"
        "  = note: at gpus=3, tp=1\n"
        "  = in: workload.w")
    assert err.endswith("2 warnings\n")


def test_under_mark_an_expectation_adds_no_valid_or_violates_column():
    result = _load(SWEEP.replace("OPTION", 'invalid_points = "mark"')
                   .replace('require gpus <= 3, "three GPUs at most"', "")).evaluate()
    assert list(result.records()[0]) == ["gpus", "tp", "c.replicas"]
    assert result.n_rows == 4 * 2 and bool(np.all(result.valid)) and result.violations == []
    (warning,) = result.warnings
    # gpus / tp > 2 at (3, 1) and (4, 1).
    assert warning.message == "two replicas at most: 2 of 8 sweep points break it, kept in the results"
    assert warning.notes == ["at gpus=3, tp=1; gpus=4, tp=1"]


def test_under_mark_whole_and_streamed_outputs_of_expectations_alone_have_neither_column(work, capsys):
    """Under "mark", a report with constraints writes valid and violates in every output, whole or streamed (one
    schema); an expectation is no constraint of that kind: a report with expectations only writes neither, whole or
    in chunks (the two changes met at a merge: the streamed header counted the expectation)."""
    (work / "s.perf").write_text(SWEEP.replace("OPTION", 'invalid_points = "mark"')
                                 .replace('require gpus <= 3, "three GPUs at most"', ""))
    assert cli.main(["eval", "s.perf", "-o", "whole.csv"]) == 0
    assert cli.main(["eval", "s.perf", "-o", "chunked.csv", "--chunk-points", "3"]) == 0
    capsys.readouterr()
    whole, chunked = ((work / name).read_text().splitlines() for name in ("whole.csv", "chunked.csv"))
    assert whole[0] == chunked[0] == "gpus,tp,c.replicas"
    assert whole == chunked


def test_chunks_add_up_to_the_whole_sweeps_count(work, capsys):
    (work / "s.perf").write_text(SWEEP.replace("OPTION", "").replace('require gpus <= 3, "three GPUs at most"', ""))
    assert cli.main(["eval", "s.perf", "-o", "s.csv", "--chunk-points", "3"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning[unexpected-value]: two replicas at most: 2 of 8 sweep points break it, kept in "
                          "the results\n")
    assert len((work / "s.csv").read_text().splitlines()) == 1 + 4 * 2


def test_an_expectation_is_inherited_and_located_at_the_value_that_breaks_it(work, capsys):
    (work / "c.perf").write_text('hardware base {\n    mem_bw: byte/s\n'
                                 '    expect mem_bw >= 10 GB/s, "mem_bw is at least 10 GB/s"\n}\n'
                                 "hardware slow extends base {\n    mem_bw = 16 Gbit/s\n}\n")
    assert cli.main(["check", "c.perf"]) == 0
    assert capsys.readouterr().err == (
        "warning[unexpected-value]: mem_bw is at least 10 GB/s\n"
        "  --> c.perf:6:5\n"
        "  |\n"
        "6 |     mem_bw = 16 Gbit/s\n"
        "  |     ^^^^^^\n"
        "  = note: `mem_bw >= 10 GB/s` is false with mem_bw = 16 Gbit/s\n"
        "  = note: the expectation is written in hardware 'base' at c.perf:3:12\n"
        "  = in: hardware.slow\n"
        "\n"
        "1 warning\n")


SLIP = 'import "hardware/hopper.perf"\nhardware g extends h200_sxm { mem_bw = 4800 Gbit/s }\n'


def test_an_h200_entered_in_gbit_per_second_is_warned_with_the_unit_named(work, capsys):
    """The architect's slip: 4800 Gbit/s is 600 GB/s, not the H200's 4.8 TB/s, and every decode estimate was 8x
    slow without a word. gpu.perf's machine balance bound: 989.4 TFLOP/s / 600 GB/s = 1649 FLOP/B > 419 x 3."""
    assert 989.4e12 / (4800e9 / 8) > 419 * 3 > 989.4e12 / 4800e9
    (work / "g.perf").write_text(SLIP)
    assert cli.main(["check", "g.perf"]) == 0
    err = capsys.readouterr().err
    assert err.splitlines()[:5] == [
        "warning[unexpected-value]: nvlink_bw / mem_bw beyond 3x the library's 0.133 .. 0.386: nvlink_bw in Gbit/s or "
        "mem_bw in Gbit/s?",
        "  --> g.perf:2:31",
        "  |",
        "2 | hardware g extends h200_sxm { mem_bw = 4800 Gbit/s }",
        "  |                               ^^^^^^"]
    assert "  = note: `peak_fp16 / mem_bw >= 37 FLOP/B / 3 and peak_fp16 / mem_bw <= 419 FLOP/B * 3` is false with " \
           "peak_fp16 = 989.4 TFLOP/s, mem_bw = 4800 Gbit/s" in err.splitlines()
    # and its NVLink over that memory: 900 GB/s / 600 GB/s = 1.5 > 0.386 x 3
    assert 900e9 / (4800e9 / 8) > 0.386 * 3
    assert [line for line in err.splitlines() if line.startswith("warning")][1:] == [
        "warning[unexpected-value]: peak_fp16 / mem_bw beyond 3x the library's 37 .. 419 FLOP/B: mem_bw in Gbit/s or "
        "peak_fp16 in GFLOP/s?"]
    assert err.endswith("\n2 warnings\n")
    # Written in bytes, the same part says nothing.
    (work / "g.perf").write_text(SLIP.replace("4800 Gbit/s", "4800 GB/s"))
    assert cli.main(["check", "g.perf"]) == 0
    assert capsys.readouterr().err.startswith("ok: 3 files, 9 blocks, 0 reports")


def test_a_tdp_in_watts_for_kilowatts_breaks_both_per_watt_bounds(work, capsys):
    (work / "g.perf").write_text(SLIP.replace("mem_bw = 4800 Gbit/s", "tdp = 0.7 W"))
    assert cli.main(["check", "g.perf"]) == 0
    heads = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning")]
    # 989.4 TFLOP/s / 0.7 W and 4.8 TB/s / 0.7 W, over 2.25 x 3 TFLOP/s/W and 10 x 3 GB/s/W.
    assert 989.4e12 / 0.7 > 2.25e12 * 3 and 4800e9 / 0.7 > 10e9 * 3
    assert heads == ["warning[unexpected-value]: mem_bw / tdp beyond 3x the library's 1.76 .. 10 GB/s/W: tdp in W for "
                     "kW or mem_bw in Gbit/s?",
                     "warning[unexpected-value]: peak_fp16 / tdp beyond 3x the library's 0.177 .. 2.25 TFLOP/s/W: tdp in "
                     "W for kW or peak_fp16 in GFLOP/s?"]


def test_a_slip_of_either_figure_of_a_ratio_is_offered_beside_the_other():
    """A newcomer's `peak_fp16 = 989.4 GFLOP/s` (for TFLOP/s) was asked "is mem_bw in bits?" and "is tdp in W where
    kW was meant?", with the caret on peak_fp16: each bound's message names a slip of either figure it divides."""
    program = _load(SLIP.replace("mem_bw = 4800 Gbit/s", "peak_fp16 = 989.4 GFLOP/s"))
    heads = sorted(d.message for d in program.check() if d.code == "unexpected-value")
    # 989.4 GFLOP/s / 4.8 TB/s = 0.21 FLOP/B < 37 / 3; / 700 W = 1.4 GFLOP/s/W < 0.177 / 3 TFLOP/s/W.
    assert heads == ["peak_fp16 / mem_bw beyond 3x the library's 37 .. 419 FLOP/B: mem_bw in Gbit/s or peak_fp16 in "
                     "GFLOP/s?",
                     "peak_fp16 / tdp beyond 3x the library's 0.177 .. 2.25 TFLOP/s/W: tdp in W for kW or peak_fp16 in "
                     "GFLOP/s?"]


def test_a_real_unusual_part_is_not_warned():
    """The library's own extremes (h20: the least machine balance, 37 FLOP/B, and the most bandwidth per watt; l4:
    the slowest memory read, 24 GB / 300 GB/s; l40s: the greatest balance) and hardware/README.md's power-capped
    card (rtx_a5000 at 200 W) check with no warning."""
    text = ('import "hardware/hopper.perf"\nimport "hardware/ada.perf"\nimport "hardware/ampere_workstation.perf"\n'
            "hardware my_a5000 extends rtx_a5000 { tdp = 200 W }\n")
    program = perfdsl.load([], texts={"u.perf": text})
    assert program.check() == []
    # Each carries gpu.perf's six expectations (checked, and met).
    assert [sum(r.soft for _, r in program.blocks[part].requires) for part in ("h20", "l4", "l40s", "my_a5000")] \
        == [6, 6, 6, 6]
    for part in ("h20", "l4", "l40s", "my_a5000"):
        assert program.value(f"{part}.mem_bw") > 0


def test_a_set_that_alone_breaks_an_expectation_is_warned_at_the_set(work, capsys):
    (work / "r.perf").write_text('import "hardware/hopper.perf"\ncostmodel c { t = 141 GB / hardware.mem_bw }\n'
                                 "report r {\n    hardware = h200_sxm\n    show c.t in ms\n}\n")
    assert cli.main(["eval", "r.perf", "--format", "csv", "--set", "h200_sxm.mem_bw=4800 Gbit/s"]) == 0
    out, err = capsys.readouterr()
    header, value = out.splitlines()
    assert header == "c.t [ms]" and float(value) == pytest.approx(141e9 / (4800e9 / 8) * 1e3)
    assert err.splitlines()[:6] == [
        'warning[unexpected-value]: --set h200_sxm.mem_bw=4800 Gbit/s breaks the expectation "peak_fp16 / mem_bw '
        "beyond 3x the library's 37 .. 419 FLOP/B: mem_bw in Gbit/s or peak_fp16 in GFLOP/s?\"",
        "  --> --set h200_sxm.mem_bw:1:1",
        "  |",
        "1 | 4800 Gbit/s",
        "  | ^^^^^^^^^^^",
        "  = note: the expectation, broken by --set h200_sxm.mem_bw=4800 Gbit/s: peak_fp16 / mem_bw beyond 3x the "
        "library's 37 .. 419 FLOP/B: mem_bw in Gbit/s or peak_fp16 in GFLOP/s?"]
    assert "  = note: without the --set values the report meets it" in err.splitlines()


def test_a_cell_only_an_expectation_reads_is_read():
    """unread-cell counts an `expect`'s condition as a `require`'s: `mem_bww` read by one is no misspelt override."""
    program = _load('hardware g {\n    mem_bw = 1 TB/s\n    mem_bww = 2 TB/s\n'
                    '    expect mem_bww <= 100 TB/s, "bounded"\n}\n')
    assert program.check() == []


def test_an_expectation_without_its_message_is_named(work, capsys):
    (work / "c.perf").write_text("workload w {\n    a = 1\n    expect a >= 1\n    b = 2\n}\n")
    assert cli.main(["check", "c.perf"]) == 1
    assert capsys.readouterr().err.splitlines()[:6] == [
        "error[syntax]: an `expect` has no message",
        "  --> c.perf:3:5",
        "  |",
        "3 |     expect a >= 1",
        "  |     ^^^^^^^^^^^^^",
        '  = help: write the message after a comma: `expect batch >= 1, "batch is at least 1"`']


def test_a_value_that_breaks_a_require_is_not_warned_of_as_implausible_too(work, capsys):
    """`mem_bw = -1 TB/s` breaks gpu.perf's `mem_bw > 0 B/s` (an error) and the five of its expectations that read
    mem_bw, all located at that value: the error alone is said."""
    (work / "g.perf").write_text(SLIP.replace("4800 Gbit/s", "-1 TB/s"))
    program = perfdsl.load([work / "g.perf"])
    assert sum(r.soft for _, r in program.blocks["g"].requires) == 6
    assert [(d.code, d.severity, str(d.location)) for d in program.check()] == [("constraint", "error", "g.perf:2:31")]


def test_a_part_that_writes_both_figures_of_a_ratio_is_warned_at_its_name_not_at_the_first_figure(work, capsys):
    """peak_fp16 / mem_bw out of its bounds does not say which of the two is off: a part that writes both is warned
    at its name (with both values), not at peak_fp16, which it reads first; and a unit error in a part (here
    `mem_bw = 4800`, a count) is said alone, its expectations left until it is fixed."""
    part = ('import "hardware/hopper.perf"\nhardware mine extends hopper {\n    label = "mine"; sm_count = 132\n'
            "    peak_fp32 = 67 TFLOP/s; peak_tf32 = 494.7 TFLOP/s; peak_fp16 = 989.4 TFLOP/s\n"
            "    peak_fp16_acc16 = 989.4 TFLOP/s; peak_fp8 = 1979 TFLOP/s; peak_int8 = 1979 TFLOP/s\n"
            "    mem_size = 141 GB; mem_bw = 4800 Gbit/s; tdp = 700 W; pcie_bw = 64 GB/s; nvlink_bw = 0 GB/s\n}\n")
    (work / "p.perf").write_text(part)
    assert cli.main(["check", "p.perf"]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert lines[1:5] == ["  --> p.perf:2:10", "  |", "2 | hardware mine extends hopper {", "  |          ^^^^"]
    assert lines[5].endswith("is false with peak_fp16 = 989.4 TFLOP/s, mem_bw = 4800 Gbit/s")
    (work / "p.perf").write_text(part.replace("4800 Gbit/s", "4800"))
    assert cli.main(["check", "p.perf"]) == 1
    assert [line for line in capsys.readouterr().err.splitlines() if line.startswith(("warning", "error"))] == [
        "error[unit-mismatch]: 'mem_bw' is declared as byte/s but its formula gives count"]


def test_the_workbook_live_or_not_has_no_valid_or_violates_column_for_an_expectation(tmp_path):
    from openpyxl import load_workbook

    from perfdsl.workbook_export import build_workbook_data

    text = SWEEP.replace("OPTION", 'invalid_points = "mark"').replace('require gpus <= 3, "three GPUs at most"', "")
    result = _load(text).evaluate()
    (section,) = build_workbook_data(result, None).sections
    assert section.id_columns == ["gpus", "tp"] and len(section.rows) == 4 * 2
    for live in (False, True):
        path = tmp_path / f"w{live}.xlsx"
        perfdsl.export_workbook(result, None, str(path), live=live)
        texts = {str(cell.value) for sheet in load_workbook(path) for row in sheet.iter_rows() for cell in row}
        assert not texts & {"valid", "violates"}, live
    # With a require beside it, the marks are the require's alone.
    marked = _load(SWEEP.replace("OPTION", 'invalid_points = "mark"')).evaluate()
    (section,) = build_workbook_data(marked, None).sections
    assert section.id_columns[-2:] == ["valid", "violates"]
    assert {row.identity["violates"] for row in section.rows} == {"", "three GPUs at most"}


def test_the_points_a_require_leaves_out_are_not_counted_and_the_note_names_the_expectations_axes():
    text = ("workload w {\n    sweep gpus = [1, 2, 3, 4]\n    sweep batch = [1, 8, 64]\n"
            '    require gpus <= 3, "three GPUs at most"\n'
            '    expect batch <= 32, "batches above 32 were not measured"\n}\n'
            "costmodel c { n = workload.gpus * workload.batch }\nreport r {\n    workload = w\n    show c.n\n}\n")
    result = _load(text).evaluate()
    warning = next(w for w in result.warnings if w.code == "unexpected-value")
    # batch = 64 at gpus 1, 2 and 3 (gpus = 4 is left out by the require): 3 of the 4 x 3 points.
    assert warning.message == f"batches above 32 were not measured: {3 * 1} of {4 * 3} sweep points break it, kept " \
                              "in the results"
    assert warning.notes == ["at batch=64"]
    assert [r["batch"] for r in result.records()].count(64) == 3


LINK_SLIP = 'import "hardware/hopper.perf"\nhardware g extends h100_sxm5 { nvlink_bw = 900 Gbit/s }\n'


def test_an_nvlink_entered_in_gbit_per_second_is_warned_with_the_unit_named(work, capsys):
    """`nvlink_bw = 900 Gbit/s`, written for the H100's 900 GB/s, is 112.5 GB/s (every all-reduce 8x slow) and kept
    every `require`. gpu.perf's link bound: 112.5 GB/s / 3.35 TB/s = 0.034, below the library's least 0.133 / 3."""
    assert (900e9 / 8) / 3350e9 < 0.133 / 3 < 900e9 / 3350e9
    (work / "g.perf").write_text(LINK_SLIP)
    assert cli.main(["check", "g.perf"]) == 0
    assert capsys.readouterr().err.splitlines() == [
        "warning[unexpected-value]: nvlink_bw / mem_bw beyond 3x the library's 0.133 .. 0.386: nvlink_bw in Gbit/s or "
        "mem_bw in Gbit/s?",
        "  --> g.perf:2:32",
        "  |",
        "2 | hardware g extends h100_sxm5 { nvlink_bw = 900 Gbit/s }",
        "  |                                ^^^^^^^^^",
        "  = note: `nvlink_bw == 0 B/s or (nvlink_bw / mem_bw >= 0.133 / 3 and nvlink_bw / mem_bw <= 0.386 * 3)` is "
        "false with nvlink_bw = 900 Gbit/s, mem_bw = 3350 GB/s",
        f"  = note: the expectation is written in hardware 'gpu' at {REPO / 'hardware' / 'gpu.perf'}:172:12",
        "  = in: hardware.g",
        "",
        "1 warning"]
    # Written in bytes, or with no NVLink at all (0 B/s: a PCIe part), the same part says nothing.
    for value in ("900 GB/s", "0 B/s"):
        (work / "g.perf").write_text(LINK_SLIP.replace("900 Gbit/s", value))
        assert cli.main(["check", "g.perf"]) == 0
        assert capsys.readouterr().err.startswith("ok: 3 files, 9 blocks, 0 reports")


def test_a_pcie_link_in_gbit_per_second_on_an_hbm_part_or_in_mb_per_second_is_warned():
    # 64 Gbit/s (8 GB/s) over the H100's 3.35 TB/s is 0.0024, and 32 MB/s over the L4's 300 GB/s 0.0001: both below
    # the library's least, 0.008 / 3 (mi355x: 64 GB/s / 8 TB/s)
    assert 64e9 / 8 / 3350e9 < 0.008 / 3 and 32e6 / 300e9 < 0.008 / 3
    for text in ('import "hardware/hopper.perf"\nhardware g extends h100_sxm5 { pcie_bw = 64 Gbit/s }\n',
                 'import "hardware/ada.perf"\nhardware g extends l4 { pcie_bw = 32 MB/s }\n'):
        assert [(d.code, d.message) for d in _load(text).check()] == [
            ("unexpected-value", "pcie_bw / mem_bw beyond 3x the library's 0.008 .. 0.107: pcie_bw in Gbit/s or MB/s, "
                                 "or mem_bw in Gbit/s?")]


def test_every_part_of_the_library_keeps_the_link_bounds():
    """The ranges in gpu.perf's comment are the library's own: no part breaks a bound, and the extremes it names are
    the least and greatest ratio over the parts that give both figures."""
    program = perfdsl.load(sorted(perfdsl.library_path("hardware").glob("*.perf")))
    assert program.check() == []
    parts = [name for name, block in program.blocks.items() if name != "gpu" and block.parent != "gpu"]
    nvlink, pcie = {}, {}
    for part in parts:
        values = {}
        for cell in ("nvlink_bw", "pcie_bw", "mem_bw"):
            try:
                values[cell] = program.value(f"{part}.{cell}")
            except perfdsl.PerfError:        # a figure the part's sources lack (a declared input left open)
                pass
        if values.get("nvlink_bw") and "mem_bw" in values:
            nvlink[part] = values["nvlink_bw"] / values["mem_bw"]
        if "pcie_bw" in values and "mem_bw" in values:
            pcie[part] = values["pcie_bw"] / values["mem_bw"]
    assert (len(nvlink), len(pcie)) == (17, 31)
    assert min(nvlink, key=nvlink.get) == "mi355x" and nvlink["mi355x"] == pytest.approx(1071e9 / 8000e9)
    assert max(nvlink, key=nvlink.get) == "a100_40gb_sxm4" and nvlink["a100_40gb_sxm4"] == pytest.approx(600 / 1555)
    assert min(pcie, key=pcie.get) == "mi355x" and pcie["mi355x"] == pytest.approx(64e9 / 8000e9)
    assert max(pcie, key=pcie.get) == "l4" and pcie["l4"] == pytest.approx(32e9 / 300e9)
    assert 0.133 <= min(nvlink.values()) and max(nvlink.values()) <= 0.386
    assert 0.008 <= min(pcie.values()) and max(pcie.values()) <= 0.107
