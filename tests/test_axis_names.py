"""Two sweeps of one name among a report's axes (error[duplicate-axis], dsl/axis_names.py).

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
    # What the help writes: a workload that extends grid with the report's values, bound in the report.
    (work / "r.perf").write_text(SPEC + """\
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
