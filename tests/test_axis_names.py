"""Two sweeps of one name among a report's axes (error[duplicate-axis], dsl/axis_names.py), and a report's own cell of a
name a bound block has (error[shadowed-cell], dsl/shadowed_cells.py).

A report's sweep of a name its workload sweeps, or two bound blocks sweeping one name, made two axes of one name:
every row twice under one column, labelled by the values of one axis while the numbers followed the other. The
golden cases tests/cases/duplicate_axis*.perf pin the text of the error in a file; these tests pin the override
that makes such a sweep (bad usage, exit status 2, located at the --set), the API's error, and that the help's
suggestion gives the rows the user meant.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import perfdsl
from perfdsl import cli
from perfdsl.errors import PerfError

SPEC = """\
workload grid {
    sweep batch = [1, 8]
    tokens = batch * 128
}
costmodel c { t = workload.tokens * 1 ms }
report base {
    batch = 4
    workload = grid
    show c.t in ms
}
"""


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_a_set_that_sweeps_the_reports_cell_of_the_workloads_axis_is_bad_usage(work: Path, capsys):
    # The report's own `batch = 4` is a cell nothing reads; `--set batch=1,2` made it a second axis 'batch'.
    (work / "r.perf").write_text(SPEC)
    code, out, err = run(["eval", "r.perf", "--set", "batch=1,2"], capsys)
    assert code == 2 and out == ""
    assert err.splitlines() == [
        "error[duplicate-axis]: report 'base' sweeps 'batch', which workload 'grid' (bound to 'workload') sweeps "
        "too: the report would have two axes 'batch'",
        "  --> --set batch:1:1",
        "  |",
        "1 | 1,2",
        "  | ^^^",
        "  = note: workload 'grid' (bound to 'workload') sweeps 'batch' at r.perf:2:11, and its formulas read that "
        "sweep, not the report's: the column 'batch' would name rows by one axis's values while their numbers "
        "follow the other's",
        "  = in: report.base.batch",
        "  = help: to sweep the workload's 'batch' over these values instead, bind a workload that extends 'grid': "
        "`workload grid_batch extends grid { sweep batch = [...] }` and `workload = grid_batch` in the report (or "
        "--set grid.batch=1,2)",
        "  = help: for an axis of the report's own, give its sweep another name than 'batch'",
        "",
        "1 error",
    ]


def test_the_api_refuses_the_report_sweep_of_a_workloads_name_and_the_helps_workload_gives_the_rows(work: Path):
    (work / "r.perf").write_text(SPEC + "report dup extends base { sweep batch = [1, 64] }\n")
    with pytest.raises(PerfError) as caught:
        perfdsl.load(work / "r.perf").evaluate("dup")
    assert [d.code for d in caught.value.diagnostics] == ["duplicate-axis"]
    assert str(caught.value).startswith(
        "error[duplicate-axis]: report 'dup' sweeps 'batch', which workload 'grid' (bound to 'workload') sweeps too")
    # What the help writes: a workload that extends grid with the report's values, bound in the report (a report
    # without base's own `batch = 4`, which would be error[shadowed-cell] beside grid_batch's `batch`).
    (work / "r.perf").write_text(SPEC.replace("    batch = 4\n", "") + """\
workload grid_batch extends grid { sweep batch = [1, 64] }
report more extends base {
    workload = grid_batch
}
""")
    result = perfdsl.load(work / "r.perf").evaluate("more")
    assert [axis.name for axis in result.axes] == ["batch"]
    assert result.records() == [{"batch": 1, "c.t [ms]": 1 * 128 * 1.0},
                                {"batch": 64, "c.t [ms]": 64 * 128 * 1.0}]


def test_a_set_of_one_name_of_an_inherited_zipped_sweep_is_bad_usage(work: Path, capsys):
    # `--set tp=4` was taken without a word, and the rows still read tp=1, 2 (the zipped axis the formulas read).
    (work / "z.perf").write_text(
        "workload w { sweep (tp, ep) = [(1, 1), (2, 2)] }\n"
        "workload w2 extends w { x = 1 }\n"
        "costmodel c { t = 1 ms * workload.tp * workload.ep }\n"
        "report r { workload = w2; show c.t in ms as t }\n")
    code, out, err = run(["eval", "z.perf", "--set", "tp=4"], capsys)
    assert code == 2 and out == ""
    assert err.splitlines() == [
        "error[zipped-rewritten]: --set tp sets 'tp' of workload 'w2', which workload 'w' zips with 'ep' in `sweep "
        "(tp, ep) = ...`: the zipped axis would label rows by values its formulas no longer read",
        "  --> --set tp:1:1",
        "  |",
        "1 | 4",
        "  | ^",
        "  = note: the zipped sweep is at z.perf:1:21",
        "  = in: workload.w2.tp",
        "  = help: a zipped sweep is written whole: bind a workload that extends 'w2' with `sweep (tp, ep) = [...]` "
        "(the tuples it takes), or choose one of its points with --at",
        "",
        "1 error",
    ]


# error[shadowed-cell] (dsl/shadowed_cells.py): a report's own cell of a name a bound block has, swept or not, was a
# cell the cost model never read (it reads workload.tp), while the rows showed its values. The golden cases
# tests/cases/shadowed_cell*.perf pin the text in a file (a report's cell over a workload's sweep, a report's sweep
# over a workload's single value, a zipped sweep pairing a role with such a name).

SHADOW = """\
workload grid {
    sweep seq_len = [1024, 4096]
    tp = 1
    output_len = 256
    tokens = seq_len * output_len / tp
}
costmodel c { t = workload.tokens * 1 ms }
report base {
    workload = grid
    show c.t in ms
}
"""


def test_a_reports_single_value_of_a_workloads_cell_is_an_error_at_it(work: Path, capsys):
    # `tp = 8` (the newcomer's mis3) was ignored: the rows were tp 1's, exit status 0.
    (work / "s.perf").write_text(SHADOW + "report m3 extends base {\n    tp = 8\n}\n")
    code, out, err = run(["eval", "s.perf", "--report", "m3"], capsys)
    assert code == 1 and out == ""
    assert err.splitlines() == [
        "error[shadowed-cell]: report 'm3' writes 'tp', a cell workload 'grid' (bound to 'workload') has too: the "
        "cost model reads the workload's (`tp = 1`), not the report's",
        "   --> s.perf:13:5",
        "   |",
        "13 |     tp = 8",
        "   |     ^^",
        "   = note: workload 'grid' writes 'tp' at s.perf:3:5; a report's cell does not replace a bound block's: the "
        "rows would show the report's 'tp' (or no column) while their numbers follow the workload's",
        "   = in: report.m3.tp",
        "   = help: to give the workload's 'tp' this value, bind a workload that extends 'grid': `workload grid_tp "
        "extends grid { tp = 8 }` and `workload = grid_tp` in the report (or --set grid.tp=8)",
        "   = help: for a cell of the report's own, give it another name than 'tp'",
        "",
        "1 error",
    ]


def test_a_reports_sweep_of_a_workloads_single_value_is_refused_and_the_helps_workload_gives_the_rows(work: Path):
    # `sweep output_len = [128, 1024]` beside the workload's `output_len = 256` (the newcomer's mis1) gave rows
    # 128 and 1024 with output_len 256's numbers.
    (work / "s.perf").write_text(SHADOW + "report mis1 extends base { sweep output_len = [128, 1024] }\n")
    with pytest.raises(PerfError) as caught:
        perfdsl.load(work / "s.perf").evaluate("mis1")
    assert [d.code for d in caught.value.diagnostics] == ["shadowed-cell"]
    assert str(caught.value).startswith(
        "error[shadowed-cell]: report 'mis1' writes 'output_len', a cell workload 'grid' (bound to 'workload') has "
        "too: the cost model reads the workload's (`output_len = 256`), not the report's")
    # What the help writes: a workload that extends grid with the sweep, bound in the report.
    (work / "s.perf").write_text(SHADOW + """\
workload grid_output_len extends grid { sweep output_len = [128, 1024] }
report mis1 extends base { workload = grid_output_len }
""")
    result = perfdsl.load(work / "s.perf").evaluate("mis1")
    assert result.records() == [
        {"seq_len": 1024, "output_len": 128, "c.t [ms]": 1024 * 128 / 1 * 1.0},
        {"seq_len": 1024, "output_len": 1024, "c.t [ms]": 1024 * 1024 / 1 * 1.0},
        {"seq_len": 4096, "output_len": 128, "c.t [ms]": 4096 * 128 / 1 * 1.0},
        {"seq_len": 4096, "output_len": 1024, "c.t [ms]": 4096 * 1024 / 1 * 1.0},
    ]


def test_a_set_of_the_reports_shadowing_cell_is_still_refused_and_explain_says_why(work: Path, capsys):
    # `--set seq_len=8192` set the report's dead `seq_len = 2048` (the rows stayed 1024 and 4096), and explain
    # printed `m4a.seq_len = 2048` beside rows of seq_len 1024.
    (work / "s.perf").write_text(SHADOW + "report m4a extends base {\n    seq_len = 2048\n}\n")
    code, out, err = run(["eval", "s.perf", "--report", "m4a", "--set", "seq_len=8192"], capsys)
    assert code == 1 and out == ""
    assert err.splitlines()[:2] == [
        "error[shadowed-cell]: report 'm4a' writes 'seq_len', a cell workload 'grid' (bound to 'workload') has too: "
        "the cost model reads the workload's (`sweep seq_len = [1024, 4096]`), not the report's",
        "   --> s.perf:13:5",
    ]
    assert "--set grid.seq_len=8192" in err
    code, out, err = run(["explain", "s.perf", "seq_len", "--report", "m4a"], capsys)
    assert code == 1 and "error[shadowed-cell]: report 'm4a' writes 'seq_len'" in err
    # The override the help names gives the rows: seq_len 8192 and its numbers.
    code, out, err = run(["eval", "s.perf", "--report", "base", "--set", "grid.seq_len=8192", "--format", "csv"],
                         capsys)
    assert code == 0 and err == ""
    assert out.splitlines() == ["seq_len,c.t [ms]", f"8192,{8192 * 256 / 1}"]
    # With no report cell of the name, a bare `--set seq_len=...` reaches the workload's cell, which the numbers read;
    # a report cell of a name no bound block has is the report's own.
    (work / "s.perf").write_text(SHADOW + "report own extends base {\n    gpus = 8\n    show gpus\n}\n")
    code, out, err = run(["eval", "s.perf", "--report", "own", "--set", "seq_len=8192", "--set", "tp=4",
                          "--format", "csv"], capsys)
    assert code == 0 and err == ""
    assert out.splitlines() == ["seq_len,c.t [ms],gpus", f"8192,{8192 * 256 / 4},{8.0}"]


def test_a_report_cell_of_a_name_of_a_block_in_a_role_sweep_is_an_error(work: Path, capsys):
    # Each model's formulas read their own params; the report's `params = 2` was shown beside both rows.
    (work / "m.perf").write_text(
        "model small { params = 1 }\n"
        "model big { params = 4 }\n"
        "costmodel c { mem = model.params * 1 GB }\n"
        "report r {\n"
        "    sweep model = [small, big]\n"
        "    params = 2\n"
        "    show c.mem in GB, params\n"
        "}\n")
    code, out, err = run(["check", "m.perf"], capsys)
    assert code == 1 and out == ""
    assert err.splitlines()[:2] == [
        "error[shadowed-cell]: report 'r' writes 'params', a cell model 'small' (bound to 'model') has too: the cost "
        "model reads the model's (`params = 1`), not the report's",
        "  --> m.perf:6:5",
    ]

