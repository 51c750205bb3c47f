"""Constraints (`require CONDITION, "message"`): what check decides, what evaluation leaves out or marks, and the
Result interface (`valid`, `violations`) that queries combine with their filters.

The golden cases tests/cases/constraint_*.perf and eval_constraint_*.perf pin the diagnostics' text; here the
values, shapes and counts, written as the arithmetic that gives them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perfdsl
from perfdsl import cli
from perfdsl.errors import Diagnostic, Location, PerfError
from perfdsl.workbook_export import build_workbook_data

REPO = Path(__file__).resolve().parent.parent
CASES = REPO / "tests" / "cases"
CAPACITY = REPO / "reports" / "capacity_planning.perf"


def _load(text: str) -> perfdsl.Program:
    return perfdsl.load([], texts={"c.perf": text})


GRID = """
workload w {
    sweep gpus = [1, 2, 3, 4]
    sweep tp = [1, 2]
    require gpus / tp == floor(gpus / tp), "gpus is a whole multiple of tp"
    require gpus <= 3, "three GPUs at most"
}
costmodel c { replicas = workload.gpus / workload.tp }
report r {
    workload = w
    OPTION
    show c.replicas
}
"""


def test_valid_has_the_full_sweeps_shape_and_records_leave_the_broken_points_out():
    result = _load(GRID.replace("OPTION", "")).evaluate()
    gpus = np.array([1, 2, 3, 4])[:, None]
    tp = np.array([1, 2])[None, :]
    expected = (gpus % tp == 0) & (gpus <= 3)
    assert result.shape == (4, 2) and result.valid.shape == (4, 2)
    assert result.valid.tolist() == expected.tolist()
    assert result.n_points == 8 and result.n_rows == int(expected.sum()) == 4
    rows = result.records()
    assert [(r["gpus"], r["tp"]) for r in rows] == [(1, 1), (2, 1), (2, 2), (3, 1)]
    assert result.column("c.replicas").tolist() == [1 / 1, 2 / 1, 2 / 2, 3 / 1]      # aligned with records()
    assert result.column("c.replicas", all_points=True).shape == (8,)
    assert result.array("c.replicas").valid.tolist() == expected.tolist()
    whole, at_most = result.violations
    assert (whole.message, whole.count, whole.total) == ("gpus is a whole multiple of tp", 2, 8)   # (1, 2), (3, 2)
    assert (at_most.message, at_most.count) == ("three GPUs at most", 2)                            # gpus = 4
    assert np.broadcast_to(whole.broken, (4, 2)).tolist() == (gpus % tp != 0).tolist()
    assert [w.code for w in result.warnings] == ["constraint", "constraint"]


def test_mark_keeps_every_point_with_valid_and_violates_columns():
    result = _load(GRID.replace("OPTION", 'invalid_points = "mark"')).evaluate()
    rows = result.records()
    assert len(rows) == 8 and result.n_rows == 8
    by_point = {(r["gpus"], r["tp"]): r for r in rows}
    assert by_point[(2, 2)]["valid"] is True and by_point[(2, 2)]["violates"] == ""
    assert by_point[(3, 2)]["valid"] is False
    assert by_point[(3, 2)]["violates"] == "gpus is a whole multiple of tp"
    assert by_point[(4, 1)]["violates"] == "three GPUs at most"
    assert result.valid.sum() == 4


def test_mark_has_valid_and_violates_where_no_point_breaks_a_constraint(tmp_path):
    # Before: the whole output had them only where some point broke a constraint, while every streamed chunk
    # (--chunk-points, Parquet) had them where the report had constraints: two schemas for one report. With gpus
    # 1 to 3 and tp = 1 every point meets both constraints (gpus / 1 is whole; gpus <= 3): each row is valid.
    text = GRID.replace("OPTION", 'invalid_points = "mark"').replace("[1, 2, 3, 4]", "[1, 2, 3]")
    text = text.replace("sweep tp = [1, 2]", "sweep tp = [1]")
    result = _load(text).evaluate()
    assert result.violations == []
    assert [(r["gpus"], r["tp"], r["valid"], r["violates"]) for r in result.records()] == [
        (1, 1, True, ""), (2, 1, True, ""), (3, 1, True, "")]
    spec = tmp_path / "grid.perf"
    spec.write_text(text)
    whole, streamed = tmp_path / "whole.csv", tmp_path / "streamed.csv"
    assert cli.main(["eval", str(spec), "-q", "-o", str(whole)]) == 0
    assert cli.main(["eval", str(spec), "-q", "-o", str(streamed), "--chunk-points", "2"]) == 0      # 2 + 1
    assert whole.read_text().splitlines()[0] == "gpus,tp,c.replicas,valid,violates"
    assert whole.read_text() == streamed.read_text()
    (section,) = build_workbook_data(result, None).sections
    assert section.id_columns[-2:] == ["valid", "violates"]
    # A report without constraints has neither, under "mark" too: nothing can be marked.
    plain = text.replace('    require gpus / tp == floor(gpus / tp), "gpus is a whole multiple of tp"\n', "")
    plain = plain.replace('    require gpus <= 3, "three GPUs at most"\n', "")
    assert "valid" not in _load(plain).evaluate().records()[0]


def test_the_workbook_has_only_the_valid_points():
    result = _load(GRID.replace("OPTION", "")).evaluate()
    data = build_workbook_data(result, None)
    (section,) = data.sections
    assert [(row.identity["gpus"], row.identity["tp"]) for row in section.rows] == [(1, 1), (2, 1), (2, 2), (3, 1)]


def test_no_valid_point_is_an_error_that_names_the_constraints():
    program = _load(GRID.replace("OPTION", "").replace("[1, 2, 3, 4]", "[5, 7]"))
    with pytest.raises(PerfError) as caught:
        program.evaluate()
    messages = [d.message for d in caught.value.diagnostics]
    assert messages == ["gpus is a whole multiple of tp: 2 of 4 sweep points break it",
                        "three GPUs at most: every sweep point (4) breaks it"]


def test_check_decides_constants_only():
    program = _load("""
workload w {
    n = 4; k = 3
    sweep s = [1, 2]
    require n / k == floor(n / k), "k divides n"
    require s >= 1, "s is at least 1"
    require model.x >= 1, "open role: not decided"
}
""")
    (diag,) = program.check()
    assert (diag.code, diag.message, diag.location.line) == ("constraint", "k divides n", 5)
    assert diag.notes[0] == "`n / k == floor(n / k)` is false with n = 4, k = 3"


@settings(max_examples=30, deadline=None)
@given(values=st.lists(st.integers(-5, 20), min_size=1, max_size=8, unique=True), threshold=st.integers(-5, 20))
def test_a_threshold_constraint_keeps_exactly_the_points_that_meet_it(values, threshold):
    program = _load(f"""
workload w {{
    sweep x = [{", ".join(map(str, values))}]
    require x >= {threshold}, "x is large enough"
}}
costmodel c {{ twice = 2 * workload.x }}
report r {{ workload = w; show c.twice }}
""")
    kept = [v for v in values if v >= threshold]
    if not kept:
        with pytest.raises(PerfError):
            program.evaluate()
        return
    result = program.evaluate()
    assert result.valid.tolist() == [v >= threshold for v in values]
    assert [r["x"] for r in result.records()] == kept
    assert result.column("c.twice").tolist() == [2 * v for v in kept]
    assert len(result.warnings) == (0 if len(kept) == len(values) else 1)


# -- the cost model's constraints ---------------------------------------------------------------------------------

def test_capacity_planning_leaves_out_the_tensor_parallel_degrees_that_engines_refuse():
    program = perfdsl.load(CAPACITY)
    result = program.evaluate(overrides={"hardware": "h100_sxm5"})
    model_axis = next(a for a in result.axes if a.name == "model")
    tp_axis = next(a for a in result.axes if a.name == "tp")
    others = result.n_points // (model_axis.length * tp_axis.length)       # batch x prompt x output
    assert others == 9 * 9 * 7
    heads_breaks = kv_breaks = 0
    refused = set()
    for model in (str(m) for m in model_axis.coords[0].values):
        heads, kv = program.value(f"{model}.heads"), program.value(f"{model}.kv_heads")
        for tp in tp_axis.coords[0].values.tolist():
            if heads % tp:
                heads_breaks += others
                refused.add((model, tp))
            if kv % tp and tp % kv:
                kv_breaks += others
                refused.add((model, tp))
    by_message = {v.message: v.count for v in result.violations}
    assert by_message["tp divides the attention heads"] == heads_breaks
    assert by_message.get("tp divides the KV heads, or is a whole multiple of them (each KV head replicated on "
                          "tp / kv_heads GPUs)", 0) == kv_breaks
    assert result.n_rows == result.n_points - len(refused) * others
    shown = {(r["model"], r["tp"]) for r in result.records()}
    assert not shown & refused
    assert ("qwen2_5_7b", 8) in refused                  # 28 heads: vLLM refuses tp = 8
    assert ("clm_60m", 4) in refused                     # 6 heads


def test_kv_heads_fewer_than_tp_are_replicated_not_refused():
    """Qwen2.5-3B has 16 heads and 2 KV heads: at tp = 4, 8 and 16 every GPU holds one KV head (a replica)."""
    text = """
import "costmodels/transformer_inference.perf"
import "models/qwen2.perf"
import "hardware/hopper.perf"
workload w extends inference { batch = 1; seq_len = 1; sweep tp = [1, 2, 4, 8, 16]; n_gpus = tp }
report r { model = qwen2_5_3b; hardware = h100_sxm5; workload = w; stack = vllm; precision = fp16; show memory.weights }
"""
    result = perfdsl.load([], texts={str(REPO / "kv.perf"): text}).evaluate()
    assert result.valid.all() and not result.violations
    assert [r["tp"] for r in result.records()] == [1, 2, 4, 8, 16]


@pytest.mark.parametrize("override, message", [
    ({"tp": 3}, "n_gpus is a whole multiple of tp x pp (whole replicas)"),
    ({"batch": 0}, "batch is a whole number of sequences, at least 1"),
    ({"output_len": -5}, "output_len is a whole number of tokens, at least 0"),
])
def test_a_constant_that_breaks_the_cost_model_is_an_error_before_evaluation(override, message):
    program = perfdsl.load(CASES / "constraint_tp_heads.perf")
    overrides = {"model": "llama3_1_8b", "tp": 1, "n_gpus": 2, **override}
    with pytest.raises(PerfError) as caught:
        program.evaluate(overrides=overrides)
    assert message in [d.message for d in caught.value.diagnostics]


def test_the_command_line_exits_1_on_a_broken_constant(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    code = cli.main(["eval", "tests/cases/constraint_tp_heads.perf", "--set", "model=llama3_1_8b", "--set", "tp=3",
                     "--set", "n_gpus=2"])
    err = capsys.readouterr().err
    assert code == 1
    assert "error[constraint]: n_gpus is a whole multiple of tp x pp (whole replicas)" in err
    assert "with n_gpus = 2, tp = 3, pp = 1" in err


def test_the_workbook_marks_the_kept_points_that_break_a_constraint():
    result = _load(GRID.replace("OPTION", 'invalid_points = "mark"')).evaluate()
    (section,) = build_workbook_data(result, None).sections
    assert section.id_columns[-2:] == ["valid", "violates"]
    marks = {(row.identity["gpus"], row.identity["tp"]): (row.identity["valid"], row.identity["violates"])
             for row in section.rows}
    assert len(marks) == 8
    assert marks[(2, 2)] == (True, "") and marks[(3, 2)] == (False, "gpus is a whole multiple of tp")


def test_a_run_at_a_point_that_breaks_a_constraint_matches_no_estimate(tmp_path):
    from perfdsl.matching import compare_with_runs

    runs = tmp_path / "runs.csv"
    runs.write_text("gpus,tp,replicas [count]\n2,2,1\n3,2,1.5\n4,1,4\n", encoding="utf-8")
    result = _load(GRID.replace("OPTION", "").replace("c.replicas", "c.replicas as replicas")).evaluate()
    comparison = compare_with_runs(result, [str(runs)])
    assert comparison.n_rows == result.n_rows == 4               # the 4 valid points, not 8
    unmatched = {u.description: u.kind for u in comparison.unmatched}
    assert unmatched["gpus=3, tp=2 (its sweep point breaks a constraint: gpus is a whole multiple of tp)"] \
        == "run without estimate"
    assert unmatched["gpus=4, tp=1 (its sweep point breaks a constraint: three GPUs at most)"] \
        == "run without estimate"
    estimates_without_run = [u for u in comparison.unmatched if u.kind == "estimate without run"]
    assert len(estimates_without_run) == 4 - 1                  # valid points only; (2, 2) has its run
    keys, columns = comparison.table()
    assert len(columns[0]) == 4


def test_a_constraint_over_a_role_the_report_does_not_bind_does_not_apply():
    program = _load("""
workload w {
    sweep tp = [1, 2, 3]
    require model.heads / tp == floor(model.heads / tp), "tp divides the heads"
}
costmodel c { gpus = workload.tp }
report r { workload = w; show c.gpus }
""")
    assert program.check() == []
    result = program.evaluate()
    assert result.valid.all() and [r["tp"] for r in result.records()] == [1, 2, 3]


def test_a_constraint_never_asks_for_a_figure_the_shown_cells_do_not_need():
    """`idle_power <= tdp` (hardware/gpu.perf) on a part without a TDP, in a report that shows no energy."""
    program = _load("""
hardware base {
    tdp: W
    idle_power: W = tdp
    peak = 100 TFLOP/s
    require idle_power <= tdp, "idle_power is at most tdp"
}
hardware no_tdp extends base { }
costmodel c { time = 1 TFLOP / hardware.peak }
report r { hardware = no_tdp; show c.time in ms }
""")
    assert program.check() == []
    assert program.evaluate().records() == [{"c.time [ms]": 10.0}]


def test_a_require_over_several_lines_is_underlined_to_the_end_of_its_first_lines_code():
    text = ("workload w {\n"
            "    sweep n = [1, 2, 3]\n"
            "    require n <= 2   # a comment, not code\n"
            "            or n == 5, \"n is small\"\n"
            "}\n"
            "costmodel c { x = workload.n * 1 s }\n"
            "report r { workload = w; show c.x }\n")
    (warning,) = _load(text).evaluate().warnings
    assert warning.render() == (
        "warning[constraint]: n is small: 1 of 3 sweep points break it, left out of the results\n"
        "  --> c.perf:3:13\n"
        "  |\n"
        "3 |     require n <= 2   # a comment, not code\n"
        "  |             ^^^^^^\n"
        "  = note: at n=3\n"
        "  = in: workload.w\n"
        "  = help: to keep them, marked, give the report the option `invalid_points = \"mark\"`")


def test_a_hash_in_a_string_is_code_not_a_comment():
    line = '    require label != "a # b" or n <= 2   # the comment'
    diagnostic = Diagnostic("constraint", "m", Location("f.perf", 1, 13, runs_on=True), source_line=line,
                            severity="warning")
    assert diagnostic.render().splitlines()[4] == "  |             " + "^" * len('label != "a # b" or n <= 2')


def test_the_bundled_example_refuses_a_batch_below_one_at_the_set(capsys, monkeypatch):
    """reports/example.perf, what users copy first, declares its bounds: a negative batch is refused, located at the
    --set (bad usage, 2), as costmodels/transformer_inference.perf refuses it; it evaluated to negative FLOPs before."""
    monkeypatch.chdir(REPO)
    code = cli.main(["eval", "reports/example.perf", "--set", "batch=-4"])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == (
        'error[constraint]: --set batch=-4 breaks the constraint "batch is a whole number of sequences, at least 1"\n'
        "  --> --set batch:1:1\n"
        "  |\n"
        "1 | -4\n"
        "  | ^^\n"
        "  = note: the constraint, at reports/example.perf:18:13: batch is a whole number of sequences, at least 1: "
        f"every sweep point ({7 * 2 * 2}) breaks it\n"       # 7 lengths (128 .. 8192 by *2) x 2 models x 2 GPUs
        "  = note: without the --set values some of the report's sweep points meet it\n"
        "  = in: workload.grid\n"
        "  = help: no sweep point meets every constraint, so there is nothing to show\n"
        "\n"
        "1 error\n")


@pytest.mark.parametrize("override, message", [
    ({"batch": 2.5}, "batch is a whole number of sequences, at least 1"),
    ({"seq": 0}, "seq is a whole number of tokens, at least 1"),
])
def test_the_bundled_example_refuses_fractions_and_empty_sequences(override, message):
    with pytest.raises(PerfError) as caught:
        perfdsl.load(REPO / "reports" / "example.perf").evaluate(overrides=override)
    assert caught.value.exit_status == 2
    assert [d.message for d in caught.value.diagnostics] == [f'overrides[{next(iter(override))!r}] = '
                                                             f'{next(iter(override.values()))} breaks the constraint '
                                                             f'"{message}"']


def test_a_constraint_the_overrides_do_not_reach_is_not_blamed_on_them(tmp_path, capsys, monkeypatch):
    """`--set batch=-4,-2` leaves no point: the batch bound breaks everywhere and is the --set's error; `n <= 2` breaks
    at n = 3 with or without the --set (its condition reads no override), so it stays the warning a run without the
    --set gives, at its own place. Both were errors blamed on `--set batch=-4` before (capacity_planning's tp
    constraints under `--set batch=-4`)."""
    (tmp_path / "c.perf").write_text(
        "workload w {\n"
        "    sweep batch = [4, 8]\n"
        "    sweep n = [1, 2, 3]\n"
        "    require batch >= 1, \"batch is at least 1\"\n"
        "    require n <= 2, \"n is small\"\n"
        "    product = n * batch\n"
        "}\n"
        "report r {\n"
        "    workload = w\n"
        "    show workload.product\n"
        "}\n")
    monkeypatch.chdir(tmp_path)
    code = cli.main(["eval", "c.perf", "--set", "batch=-4,-2"])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == (
        'error[constraint]: --set batch=-4,-2 breaks the constraint "batch is at least 1"\n'
        "  --> --set batch:1:1\n"
        "  |\n"
        "1 | -4,-2\n"
        "  | ^^^^^\n"
        f"  = note: the constraint, at c.perf:4:13: batch is at least 1: every sweep point ({2 * 3}) breaks it\n"
        "  = note: at batch=-4; batch=-2\n"
        "  = note: without the --set values some of the report's sweep points meet it\n"
        "  = in: workload.w\n"
        "  = help: no sweep point meets every constraint, so there is nothing to show\n"
        "\n"
        f"warning[constraint]: n is small: {2} of {2 * 3} sweep points break it\n"     # n = 3, either batch
        "  --> c.perf:5:13\n"
        "  |\n"
        "5 |     require n <= 2, \"n is small\"\n"
        "  |             ^^^^^^\n"
        "  = note: at n=3\n"
        "  = in: workload.w\n"
        "\n"
        "1 error, 1 warning\n")


def test_a_negative_bandwidth_given_with_set_is_bad_usage_at_the_set(capsys, monkeypatch):
    """gpu.perf bounds every datasheet figure: `mem_bw = -1 TB/s` gave a decode faster than the real part's before (a
    negative memory time under max()), with only negative-size warnings and exit status 0."""
    monkeypatch.chdir(REPO)
    code = cli.main(["eval", "reports/example.perf", "--set", "rtx_a5000.mem_bw=-1 TB/s"])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == (
        'error[constraint]: --set rtx_a5000.mem_bw=-1 TB/s breaks the constraint "mem_bw is a bandwidth, above 0 B/s"\n'
        "  --> --set rtx_a5000.mem_bw:1:1\n"
        "  |\n"
        "1 | -1 TB/s\n"
        "  | ^^^^^^^\n"
        "  = note: the constraint, broken by --set rtx_a5000.mem_bw=-1 TB/s: mem_bw is a bandwidth, above 0 B/s\n"
        "  = note: `mem_bw > 0 B/s` is false with mem_bw = -1 TB/s\n"
        "  = note: the constraint is written in hardware 'gpu' at hardware/gpu.perf:132:13\n"
        "  = note: without the --set values the report meets it\n"
        "  = in: hardware.rtx_a5000\n"
        "\n"
        "1 error\n")


def test_two_sets_that_break_a_constraint_together_break_it_in_the_plural(capsys, monkeypatch):
    """A zero bandwidth (division-by-zero warnings and exit status 0 before); the role's --set is named too, and the
    verb agrees with the two."""
    monkeypatch.chdir(REPO)
    code = cli.main(["eval", "reports/example.perf", "--set", "rtx_a5000.mem_bw=0 TB/s", "--set", "hardware=rtx_a5000"])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.splitlines()[0] == ("error[constraint]: --set rtx_a5000.mem_bw=0 TB/s and --set hardware=rtx_a5000 "
                                   'break the constraint "mem_bw is a bandwidth, above 0 B/s"')


def test_a_constraint_broken_by_a_set_of_an_inherited_default_names_the_set_not_the_default(capsys, monkeypatch):
    """`--set rtx_a5000.bandwidth_efficiency=80` (a percentage where gpu.perf wants a share): the note said "broken at
    hardware/gpu.perf:79:5", the line of the default 0.80 the --set replaced, as if the file broke it."""
    monkeypatch.chdir(REPO)
    code = cli.main(["eval", "reports/example.perf", "--set", "rtx_a5000.bandwidth_efficiency=80"])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == (
        'error[constraint]: --set rtx_a5000.bandwidth_efficiency=80 breaks the constraint "bandwidth_efficiency is a '
        'share of the peak bandwidth, in (0, 1]"\n'
        "  --> --set rtx_a5000.bandwidth_efficiency:1:1\n"
        "  |\n"
        "1 | 80\n"
        "  | ^^\n"
        "  = note: the constraint, broken by --set rtx_a5000.bandwidth_efficiency=80: bandwidth_efficiency is a "
        "share of the peak bandwidth, in (0, 1]\n"
        "  = note: `bandwidth_efficiency > 0 and bandwidth_efficiency <= 1` is false with bandwidth_efficiency = 80\n"
        "  = note: the constraint is written in hardware 'gpu' at hardware/gpu.perf:109:13\n"
        "  = note: without the --set values the report meets it\n"
        "  = in: hardware.rtx_a5000\n"
        "\n"
        "1 error\n")


def test_a_constraint_broken_by_a_set_of_a_workload_default_names_the_set(capsys, monkeypatch):
    """`--set tp=0` on a workload that extends `inference`: the notes named transformer_inference.perf:33:5 (`tp =
    1`), the default the --set replaced."""
    monkeypatch.chdir(REPO)
    code = cli.main(["eval", "reports/published_gptfast.perf", "--set", "tp=0"])
    err = capsys.readouterr().err
    assert code == 2
    assert [line for line in err.splitlines() if "the constraint," in line] == [
        "  = note: the constraint, broken by --set tp=0: n_gpus is a whole multiple of tp x pp (whole replicas)",
        "  = note: the constraint, broken by --set tp=0: tp is a whole number of GPUs, at least 1"]


def test_a_constraint_broken_by_an_api_override_names_the_override():
    with pytest.raises(perfdsl.UsageError) as caught:
        perfdsl.load(REPO / "reports" / "example.perf").evaluate(
            overrides={"rtx_a5000.bandwidth_efficiency": 80})
    assert caught.value.diagnostics[0].notes[0] == (
        "the constraint, broken by overrides['rtx_a5000.bandwidth_efficiency'] = 80: bandwidth_efficiency is a share "
        "of the peak bandwidth, in (0, 1]")


@pytest.mark.parametrize("override, message", [
    ({"rtx_a6000.sm_count": 84.5}, "sm_count is a whole number of compute units, at least 1"),
    ({"rtx_a6000.tdp": "0 W"}, "tdp is a power, above 0 W"),
    ({"rtx_a6000.peak_fp32": "-1 TFLOP/s"}, "peak_fp32 is a rate, above 0 FLOP/s"),
    ({"rtx_a6000.mem_size": "0 GB"}, "mem_size is a size, above 0 B"),
    ({"rtx_a6000.pcie_bw": "0 GB/s"}, "pcie_bw is a bandwidth, above 0 B/s"),
    ({"rtx_a6000.nvlink_bw": "-1 GB/s"}, "nvlink_bw is a bandwidth, at least 0 B/s (0 B/s for a part without one)"),
    ({"opt_1_3b.max_pos": 0}, "max_pos is a whole number of positions, at least 1"),
    ({"opt_1_3b.hidden": 2048.5}, "hidden, layers, heads, kv_heads, ffn and vocab are whole numbers (config.json gives "
                                  "integers)"),
    ({"opt_1_3b.window_layers": 25}, "window_layers is from 0 to layers"),
    ({"opt_1_3b.sliding_window": -1}, "sliding_window, attention_chunk and shared_experts are at least 0 (0: none)"),
])
def test_the_libraries_refuse_a_figure_outside_its_datasheet_bounds(override, message):
    with pytest.raises(PerfError) as caught:
        perfdsl.load(REPO / "reports" / "example.perf").evaluate(overrides=override)
    assert caught.value.exit_status == 2
    name, value = next(iter(override.items()))
    assert [d.message for d in caught.value.diagnostics] == [
        f"overrides[{name!r}] = {value} breaks the constraint \"{message}\""]


def test_a_figure_a_part_leaves_open_is_not_asked_for_by_its_bound():
    """rtx_a5000 declares peak_int8 again without a value (gpus.csv: n/f): `peak_int8 > 0 FLOP/s` does not apply to
    it, and the library checks clean (tests/test_hardware_library.py checks every part)."""
    program = perfdsl.load(REPO / "hardware" / "ampere_workstation.perf")
    assert [d for d in program.check() if d.severity == "error"] == []


def test_an_inherited_constraint_is_located_at_the_written_value_that_breaks_it(tmp_path, capsys):
    # The family's `hidden >= 1 and layers >= 1 and ...` read `hidden` first; `layers = -44`, the line after it,
    # is what makes it false (its part `layers >= 1` is the first false one), so the caret is there.
    model = tmp_path / "m.perf"
    model.write_text('import "models/llama.perf"\n'
                     "\n"
                     "model big extends llama_family {\n"
                     '    hf_id = "me/big"\n'
                     "    hidden = 6144\n"
                     "    layers = -44\n"
                     "    heads = 48; kv_heads = 8; ffn = 16384; vocab = 32000; max_pos = 8192\n"
                     "}\n")
    assert cli.main(["check", "--no-cache", str(model)]) == 1
    err = capsys.readouterr().err.replace(str(model), "m.perf")
    first = err.split("\n\n")[0].splitlines()
    assert first[:5] == ["error[constraint]: hidden, layers, heads, kv_heads, ffn and vocab are counts of at least 1",
                         "  --> m.perf:6:5",
                         "  |",
                         "6 |     layers = -44",
                         "  |     ^^^^^^"]
    # With two values broken, the first false part's: `heads >= 1` comes before `kv_heads >= 1`.
    model.write_text(model.read_text().replace("layers = -44", "layers = 44").replace("heads = 48;", "heads = 0;")
                     .replace("kv_heads = 8", "kv_heads = -8"))
    assert cli.main(["check", "--no-cache", str(model)]) == 1
    first = capsys.readouterr().err.replace(str(model), "m.perf").split("\n\n")[0].splitlines()
    assert first[1] == "  --> m.perf:7:5"
    assert first[3:5] == ["7 |     heads = 0; kv_heads = -8; ffn = 16384; vocab = 32000; max_pos = 8192",
                          "  |     ^^^^^"]


SWAPPED = """import "costmodels/transformer_inference.perf"
import "models/llama.perf"
import "hardware/hopper.perf"

model swapped extends llama_family {
    hf_id = "me/swapped"
    HIDDEN; layers = 32; heads = 4096; kv_heads = 8; ffn = 14336; vocab = 128256; max_pos = 8192
}
workload w extends inference { batch = 1; seq_len = 512; output_len = 256 }
report r { model = swapped; hardware = h200_sxm; workload = w; stack = vllm; precision = bf16
  show serving.tpot in ms, prefill.runtime in ms, memory.fits }
"""


def test_hidden_below_heads_is_refused_at_the_members_line(tmp_path, capsys):
    """hidden and heads swapped (32 and 4096): head_dim = floor(32 / 4096) = 0, so q_dim and kv_dim are 0 and
    tensor_plan's proj_share divides 0 by 2 * q_dim + 2 * kv_dim = 0; the family's require refuses it at the line
    that gives hidden, not as a NaN warning inside the cost model."""
    spec = tmp_path / "swap.perf"
    spec.write_text(SWAPPED.replace("HIDDEN", "hidden = 32"))
    assert cli.main(["check", "--no-cache", str(spec)]) == 1
    err = capsys.readouterr().err.replace(str(spec), "swap.perf")
    first = err.split("\n\n")[0].splitlines()
    assert first[:5] == ["error[constraint]: head_dim, qk_head_dim and v_head_dim are at least 1 "
                         "(head_dim is floor(hidden / heads) unless set)",
                         "  --> swap.perf:7:5",
                         "  |",
                         "7 |     hidden = 32; layers = 32; heads = 4096; kv_heads = 8; ffn = 14336; vocab = 128256; "
                         "max_pos = 8192",
                         "  |     ^^^^^^"]
    assert "not-a-number" not in err


def test_a_set_that_makes_hidden_below_heads_is_bad_usage_at_the_set(capsys, monkeypatch):
    """reports/example.perf's OPT models have 32 heads: --set model.hidden=5 gives head_dim = floor(5 / 32) = 0."""
    monkeypatch.chdir(REPO)
    assert cli.main(["eval", "reports/example.perf", "--set", "model.hidden=5"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[:2] == [
        'error[constraint]: --set model.hidden=5 breaks the constraint "head_dim, qk_head_dim and v_head_dim are at '
        'least 1 (head_dim is floor(hidden / heads) unless set)"',
        "  --> --set model.hidden:1:1"]
    assert "`head_dim >= 1 and qk_head_dim >= 1 and v_head_dim >= 1` is false with hidden = 5, heads = 32" in err


def test_a_sweep_point_whose_heads_are_zero_wide_is_left_out():
    """hidden swept over [32, 4096] with heads = 4096: head_dim = floor(32 / 4096) = 0 (left out) and
    floor(4096 / 4096) = 1 (kept); the point left out raises no NaN warning."""
    text = SWAPPED.replace("HIDDEN", "sweep hidden = [32, 4096]")
    result = perfdsl.load([], texts={str(REPO / "swap.perf"): text}).evaluate()
    assert result.valid.tolist() == [False, True]
    assert [r["hidden"] for r in result.records()] == [4096]
    (broken,) = result.violations
    assert (broken.message, broken.count, broken.total) == (
        "head_dim, qk_head_dim and v_head_dim are at least 1 (head_dim is floor(hidden / heads) unless set)", 1, 2)
    assert [w.code for w in result.warnings] == ["constraint"]
