"""Messages a capacity planner found misleading, pinned with their exact text: a list of blocks without `sweep`, the
hints for a `--set` value of the wrong unit, the note of a misspelt cell beside the cell meant, and which report
`eval` picks when the file named defines one and imports others. (The question slips are golden syntax cases:
tests/cases/syntax_question_*.perf.)"""

from __future__ import annotations

from pathlib import Path

import pytest

import perfdsl
from perfdsl import cli

MODELS = """\
model m1 { params = 1e9 }
model m2 { params = 2e9 }
costmodel c { weights = model.params * 2 byte }
"""


@pytest.fixture
def work(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# -- a list of blocks without `sweep` -----------------------------------------------------------------------------

def test_a_role_given_a_list_without_sweep_is_one_error_at_its_line(work, capsys):
    # Before: error[unbound-role] located in the cost model (costmodels/transformer_inference.perf:325:19 for the
    # planner), whose help said "add `sweep model = [...]` or `model = NAME`" though the report writes `model = ...`.
    (work / "plan.perf").write_text(MODELS + "report plan {\n    model = [m1, m2]\n    show c.weights in GB\n}\n")
    assert run(["eval", "plan.perf"], capsys) == (1, "", """\
error[role-list]: report 'plan' gives the role 'model' a list of blocks without `sweep`
  --> plan.perf:5:5
  |
5 |     model = [m1, m2]
  |     ^^^^^
  = in: report.plan.model
  = help: did you mean `sweep model = [...]`? It sweeps the role over them; `model = NAME` binds one block

1 error
""")


ELSEWHERE = """\
hardware h { mem_bw = 768 GB/s }
workload w { batch = 4; tokens = batch * 128 }
costmodel step {
    runtime = model.params * 2 byte / hardware.mem_bw
    slots = workload.tokens + 1 s
}
"""


@pytest.mark.parametrize("binding, first", [
    ("model = [m1, m2]", "error[role-list]: report 'plan' gives the role 'model' a list of blocks without `sweep`"),
    ("model = h", "error[role-kind]: role 'model' is bound to hardware 'h'; it takes a model block"),
])
def test_a_role_bound_in_error_comes_with_the_reports_other_errors(work, capsys, binding, first):
    # Before: the role's error alone (1 error); the report's other errors, which do not read the role, came only once
    # it was mended. What reads the role (step.runtime, the question's `per model`) is not checked against it.
    (work / "plan.perf").write_text(MODELS + ELSEWHERE + "report plan {\n"
                                    f"    {binding}\n    hardware = h\n    workload = w\n"
                                    "    best min step.runtime per model\n"
                                    "    show step.runtime in ms, step.slots, workload.batch in GB\n}\n")
    code, out, err = run(["eval", "plan.perf"], capsys)
    assert (code, out) == (1, "")
    assert [line.strip() for line in err.splitlines() if line.lstrip().startswith(("error", "-->"))] == [
        "error[unit-mismatch]: cannot add 'workload.tokens' (count) and '1 s' (s)", "--> plan.perf:8:13",
        first, f"--> plan.perf:11:{5 if 'list' in first else 13}",
        "error[unit-mismatch]: cannot show 'workload.batch' (count) in GB (byte)", "--> plan.perf:15:60"]
    assert err.endswith("\n3 errors\n")
    code, _, check = run(["check", "plan.perf"], capsys)                 # check says the same
    assert (code, check) == (1, err)


def test_a_list_without_sweep_in_a_child_report_says_it_replaces_the_parents_sweep(work, capsys):
    (work / "plan.perf").write_text(MODELS + "report base {\n    sweep model = [m1, m2]\n    show c.weights in GB\n}\n"
                                    "report plan extends base {\n    model = [m2]\n}\n")
    assert run(["eval", "plan.perf", "--report", "plan"], capsys) == (1, "", """\
error[role-list]: report 'plan' gives the role 'model' a list of blocks without `sweep`
  --> plan.perf:9:5
  |
9 |     model = [m2]
  |     ^^^^^
  = note: report 'plan' extends 'base', whose `sweep model` is at plan.perf:5:11: this line replaces that sweep, \
it does not add to it
  = in: report.plan.model
  = help: did you mean `sweep model = [...]`? It sweeps the role over these blocks in place of the parent's; \
`model = NAME` binds one block

1 error
""")
    # The fix the help names: the child's own sweep replaces the parent's (2 GB of fp16 weights per 1e9 parameters).
    result = perfdsl.load(["plan.perf"], texts={"fixed.perf": "report fixed extends base { sweep model = [m2] }"}) \
        .evaluate("fixed")
    assert result.records() == [{"model": "m2", "c.weights [GB]": 2e9 * 2 / 1e9}]


# -- the help of a --set value of the wrong unit ------------------------------------------------------------------

LOAD = """\
workload load {
    request_rate = 1 request/s
    ttft_target = 1 s
    seq_len: count
}
costmodel cm {
    slack = workload.ttft_target - 10 ms
    arrivals = workload.request_rate * workload.ttft_target
    tokens = workload.seq_len * 2
}
workload my_online extends load {
    seq_len = 1024
    sweep request_rate = 1 request/s .. 8 request/s by *2
}
report my {
    workload = my_online
    show cm.slack in ms, cm.arrivals, cm.tokens
}
"""


@pytest.fixture
def served(work) -> Path:
    (work / "plan.perf").write_text(LOAD)
    return work


def test_a_bare_number_for_a_time_is_shown_in_the_cells_unit_and_the_one_below(served, capsys):
    # Before: `e.g. --set my_online.ttft_target="1000 s"`, 16 minutes where 1000 ms was meant.
    assert run(["eval", "plan.perf", "--set", "ttft_target=1000"], capsys) == (2, "", """\
error[unit-mismatch]: --set ttft_target: '1000' is count, but 'my_online.ttft_target' is s
  --> --set ttft_target:1:1
  |
1 | 1000
  | ^^^^
  = note: the cell is defined at plan.perf:3:5
  = in: workload.my_online.ttft_target
  = help: '1000' has no unit: write the one meant, e.g. --set my_online.ttft_target="1000 ms" or \
--set my_online.ttft_target="1000 s"

1 error
""")


def test_a_quantity_for_a_count_is_told_the_plain_number(served, capsys):
    # Before: `e.g. --set my_online.seq_len="1024 count"`.
    assert run(["eval", "plan.perf", "--set", "seq_len=1024 token"], capsys) == (2, "", """\
error[unit-mismatch]: --set seq_len: '1024 token' is token, but 'my_online.seq_len' is count
  --> --set seq_len:1:1
  |
1 | 1024 token
  | ^^^^^^^^^^
  = note: the cell is defined at plan.perf:12:5
  = in: workload.my_online.seq_len
  = help: 'my_online.seq_len' is a plain count: give the number alone, e.g. --set my_online.seq_len=1024

1 error
""")


def test_a_bare_number_over_a_swept_range_gets_an_example_with_the_unit(served, capsys):
    # Before: "'request_rate' overrides load.request_rate (request/s) with swept values in count" (one value), with
    # no example: a range's ends now give the cell its dimension, as a list's values do.
    assert run(["eval", "plan.perf", "--set", "request_rate=5"], capsys) == (2, "", """\
error[unit-mismatch]: --set request_rate: '5' is count, but 'my_online.request_rate' is request/s
  --> --set request_rate:1:1
  |
1 | 5
  | ^
  = note: the cell is defined at plan.perf:13:11
  = in: workload.my_online.request_rate
  = help: give it a unit of request/s, e.g. --set my_online.request_rate="5 request/s"

1 error
""")
    # With the unit, the range is replaced by the one value: 5 requests/s over a 1 s target are 5 * 1 requests.
    code, out, _ = run(["eval", "plan.perf", "--set", "request_rate=5 request/s", "--format", "csv"], capsys)
    assert (code, out.splitlines()[1].split(",")[:3]) == (0, ["5.0", str(1000.0 - 10.0), str(5.0 * 1)])


def test_one_value_over_a_sweep_the_checker_types_is_no_swept_values_and_gets_an_example(served, capsys):
    # A sweep whose values are formulas has no dimension before the check: the checker's error says it.
    (served / "plan.perf").write_text(LOAD.replace("1 request/s .. 8 request/s by *2", "[2 * 1 request/s, 4 request/s]"))
    assert run(["eval", "plan.perf", "--set", "request_rate=5"], capsys) == (2, "", """\
error[unit-mismatch]: 'request_rate' overrides load.request_rate (request/s) with count
  --> --set request_rate:1:1
  |
1 | 5
  | ^
  = note: load.request_rate is defined at plan.perf:2:5
  = in: workload.my_online.request_rate
  = help: write the number with its unit, e.g. `5 request/s`
  = help: an override keeps the dimension of the cell it replaces

1 error
""")


def test_errors_unknown_unit_says_a_space_may_come_before_the_unit(capsys):
    # Before: "units are written right after the number without spaces (`768 GB/s`)", its own example spaced.
    assert run(["errors", "unknown-unit"], capsys) == (0, """\
error[unknown-unit] (syntax; exit status 1)
  message: unknown unit '{unit}'
  what to do: a unit follows its number on the same line, with or without a space between (`768 GB/s`, \
`768GB/s`), and has no spaces inside it (`GB/s`, not `GB / s`); see docs/LANGUAGE.md, Units
""", "")
    # Both forms read the same number: 768e9 byte/s.
    program = perfdsl.load([], texts={"u.perf": "hardware g { a = 768 GB/s; b = 768GB/s }"})
    assert program.value("g.a") == program.value("g.b") == 768e9


def test_a_misspelt_cell_beside_the_cell_meant_says_the_block_sets_its_own(work, capsys):
    # Before: "'l40' keeps the 'mem_bw' it inherits: mem_bw (a declared input), at gpu.perf:2:5", though l40 sets
    # its own mem_bw on the next line.
    (work / "gpu.perf").write_text("hardware gpu {\n    mem_bw: byte/s\n}\nhardware l40 extends gpu {\n"
                                   "    mem_bww = 800 GB/s\n    mem_bw = 864 GB/s\n}\n")
    assert run(["check", "gpu.perf"], capsys) == (0, "", """\
warning[unread-cell]: 'mem_bww' is not a cell of 'gpu' (its parent) and nothing reads it
  --> gpu.perf:5:5
  |
5 |     mem_bww = 800 GB/s
  |     ^^^^^^^
  = note: 'l40' defines its own 'mem_bw' at gpu.perf:6:5; 'mem_bww' is read by nothing
  = in: hardware.l40.mem_bww
  = help: did you mean 'mem_bw'? 'l40' sets it already: remove one of the two
  = help: a new cell of this name is fine once a formula, `show` or `require` reads it

1 warning
""")


# -- `show` in a report that extends another -----------------------------------------------------------------------

def test_a_child_showing_what_its_parent_shows_is_told_show_adds_to_the_parents(work, capsys):
    # Before: "the first is at ...", with the help "give one of them another name": not that the parent shows it.
    (work / "dup.perf").write_text("costmodel serving { ttft = 20 ms }\n"
                                   "report serving_ms { show serving.ttft in ms as ttft }\n"
                                   "report again extends serving_ms { show serving.ttft in ms as ttft }\n")
    assert run(["check", "dup.perf"], capsys) == (1, "", """\
error[duplicate-show]: two shown cells are named 'ttft' in ms
  --> dup.perf:3:40
  |
3 | report again extends serving_ms { show serving.ttft in ms as ttft }
  |                                        ^^^^^^^^^^^^^^^^^^^^^^^^^^
  = note: the first is at dup.perf:2:26, in report 'serving_ms', which this report extends: a report's `show` adds \
to its parent's
  = in: report.again
  = help: the parent shows it already: remove this one, or give it another name with `as NAME` (docs/LANGUAGE.md, \
Reports: `show` in a report that extends another)

1 error
""")


def test_a_cell_shown_bare_and_in_its_si_unit_is_one_column_twice(work, capsys):
    # Before: no error; the CSV had two columns `c.t [s]` and JSON one (a record holds a key once), the other lost.
    (work / "twice.perf").write_text("costmodel c { t = 2 s }\nreport r { show c.t, c.t in s }\n")
    assert run(["check", "twice.perf"], capsys) == (1, "", """\
error[duplicate-show]: two shown cells are named 'c.t' in s
  --> twice.perf:2:22
  |
2 | report r { show c.t, c.t in s }
  |                      ^^^^^^^^
  = note: the first is at twice.perf:2:17; `c.t` without `in UNIT` is shown in s, its SI unit
  = in: report.r
  = help: give one of them another name with `as NAME`, or another unit

1 error
""")
    # in another unit, or under another name, they are two columns: `c.t [s]` and `c.t [ms]`, `c.t [s]` and `u [s]`
    for shows in ("c.t, c.t in ms", "c.t, c.t as u", "c.t in ms, c.t in s"):
        (work / "twice.perf").write_text(f"costmodel c {{ t = 2 s }}\nreport r {{ show {shows} }}\n")
        assert run(["check", "twice.perf"], capsys)[0] == 0, shows


def test_a_column_named_like_an_axis_is_an_error(work, capsys):
    # Before: no error; the output had the axis 'batch' and the column 'batch [ms]', and `where batch > 1` read the
    # axis where the user meant the column.
    (work / "axis.perf").write_text("workload w { sweep batch = [1, 2, 4] }\n"
                                    "costmodel c { t = workload.batch * 1 ms }\n"
                                    "report r {\n    workload = w\n    show c.t in ms as batch\n    where batch > 1\n}\n")
    assert run(["check", "axis.perf"], capsys) == (1, "", """\
error[duplicate-show]: a shown cell is named 'batch', like the report's axis 'batch'
  --> axis.perf:5:10
  |
5 |     show c.t in ms as batch
  |          ^^^^^^^^^^^^^^^^^^
  = note: the axis 'batch' is a column of the output already, and `where` lines and questions read 'batch' as the \
axis
  = in: report.r
  = help: give the column another name: `as t`

1 error
""")


def test_a_column_or_an_axis_named_like_the_marks_columns_is_an_error_under_mark(work, capsys):
    # Before: no error; the CSV had two columns 'violates', and JSON, one key each, kept the marks' and lost the shown
    # flags (or the axis 'valid': its rows looked duplicated).
    head = 'workload w { sweep batch = [1, 2, 4]; require batch <= 2, "batch at most 2" }\n' \
           "costmodel c { t = workload.batch * 1 ms; ok = workload.batch > 1 }\n"
    (work / "labels.perf").write_text(head + 'report r {\n    workload = w\n    invalid_points = "mark"\n'
                                      "    show c.t in ms as valid, c.ok as violates\n}\n")
    note = '  = note: invalid_points = "mark" adds the columns valid (whether the point meets every constraint) and ' \
           "violates\n  = in: report.r\n"
    assert run(["check", "labels.perf"], capsys) == (1, "", f"""\
error[duplicate-show]: a shown cell is named 'valid', like the column that invalid_points = "mark" adds
  --> labels.perf:6:10
  |
6 |     show c.t in ms as valid, c.ok as violates
  |          ^^^^^^^^^^^^^^^^^^
{note}  = help: give the column another name with `as NAME`

error[duplicate-show]: a shown cell is named 'violates', like the column that invalid_points = "mark" adds
  --> labels.perf:6:30
  |
6 |     show c.t in ms as valid, c.ok as violates
  |                              ^^^^^^^^^^^^^^^^
{note}  = help: give the column another name with `as NAME`

2 errors
""")
    (work / "axis.perf").write_text(head + 'report r {\n    workload = w\n    sweep valid = [1, 2]\n'
                                    '    invalid_points = "mark"\n    show c.t\n}\n')
    status, _, err = run(["eval", "axis.perf", "--format", "json"], capsys)
    assert status == 1 and err.startswith(
        "error[duplicate-show]: report 'r' has an axis 'valid', like the column that invalid_points = \"mark\" adds\n"
        "  --> axis.perf:5:11\n")
    # A workload's axis is said where its sweep is, and one a --set makes is bad usage there.
    (work / "bound.perf").write_text(head.replace("sweep batch = [1, 2, 4];", "sweep batch = [1, 2, 4]; "
                                                  "sweep valid = [1, 2];")
                                     + 'report r {\n    workload = w\n    invalid_points = "mark"\n    show c.t\n}\n')
    status, _, err = run(["check", "bound.perf"], capsys)
    column = (work / "bound.perf").read_text().index("valid =") + 1
    assert status == 1 and err.splitlines()[1] == f"  --> bound.perf:1:{column}"
    (work / "set.perf").write_text(head.replace("sweep batch = [1, 2, 4];", "sweep batch = [1, 2, 4]; violates = 1;")
                                   + 'report r {\n    workload = w\n    invalid_points = "mark"\n    show c.t\n}\n')
    status, _, err = run(["eval", "set.perf", "--set", "w.violates=1,2"], capsys)
    assert status == 2 and err.splitlines()[1] == "  --> --set w.violates:1:1"
    (work / "omit.perf").write_text(head + "report r {\n    workload = w\n    show c.t in ms as valid\n}\n")
    assert run(["check", "omit.perf"], capsys)[0] == 0          # without the marks, no column of that name


# -- which report runs without --report ------------------------------------------------------------------------------

LIBRARY_REPORTS = MODELS + """\
report capacity { sweep model = [m1, m2]; show c.weights in GB }
report cheapest { model = m1; show c.weights in GB }
"""


def test_the_one_report_of_the_file_named_runs_whatever_it_imports(work, capsys):
    # Before: error[which-report]: the loaded files define several reports: capacity, cheapest, plan70b (exit 2).
    (work / "library.perf").write_text(LIBRARY_REPORTS)
    (work / "plan70b.perf").write_text('import "library.perf"\nreport plan70b extends capacity { model = m2 }\n')
    code, out, err = run(["eval", "plan70b.perf", "--format", "csv"], capsys)
    assert (code, out, err) == (0, f"c.weights [GB]\n{2e9 * 2 / 1e9}\n", "")
    assert perfdsl.load(["plan70b.perf"]).evaluate().records() == [{"c.weights [GB]": 2e9 * 2 / 1e9}]


def test_several_reports_in_the_file_named_are_listed_before_the_imported_ones(work, capsys):
    (work / "library.perf").write_text(LIBRARY_REPORTS)
    (work / "plans.perf").write_text('import "library.perf"\nreport small extends capacity { model = m1 }\n'
                                     'report big extends capacity { model = m2 }\n')
    assert run(["eval", "plans.perf"], capsys) == (2, "", """\
error[which-report]: the loaded files define several reports: small, big (in plans.perf), then capacity, cheapest \
(imported)
  = help: choose one with --report NAME

1 error
""")
    with pytest.raises(perfdsl.UsageError) as raised:
        perfdsl.load(["plans.perf"]).evaluate()
    assert raised.value.diagnostics[0].hints == ["choose one: report='small'"]
    # A file that defines none and imports several: the reports as they are loaded.
    (work / "none.perf").write_text('import "library.perf"\n')
    assert run(["eval", "none.perf"], capsys)[2].startswith(
        "error[which-report]: the loaded files define several reports: capacity, cheapest\n")


BASE_REPORT = """\
workload w { sweep batch = [1, 2] }
costmodel c { t = workload.batch * 1 ms }
report base { workload = w }
report child extends base { show c.t in ms }
"""


def test_a_report_that_shows_nothing_and_that_another_extends_is_a_base(work, capsys):
    # Before: check gave error[nothing-to-show] for 'base' (exit 1) and eval error[which-report] (exit 2), though
    # 'base' only writes the sweep once for the reports that extend it.
    (work / "base.perf").write_text(BASE_REPORT)
    assert run(["check", "base.perf"], capsys)[:2] == (0, "")
    assert run(["eval", "base.perf", "--format", "csv"], capsys) == (0, "batch,c.t [ms]\n1,1.0\n2,2.0\n", "")
    # Asked for by name, it still shows nothing, and the error names the report to evaluate.
    assert run(["eval", "base.perf", "--report", "base"], capsys) == (1, "", """\
error[nothing-to-show]: report 'base' shows no cell
  --> base.perf:3:8
  |
3 | report base { workload = w }
  |        ^^^^
  = help: evaluate a report that extends it and shows cells: child
  = help: add `show COSTMODEL.CELL in UNIT, ...`

1 error
""")


def test_a_set_model_near_a_loaded_one_is_told_the_near_miss_before_another_files_block(work, capsys):
    # Before: only "'m1x' is defined in other.perf: add `import "other.perf"` to plans/capacity.perf", advice to edit
    # a report the user did not write, and no did-you-mean for m1.
    (work / "plans").mkdir()
    (work / "plans" / "capacity.perf").write_text(MODELS + "report capacity { sweep model = [m1, m2]; "
                                                  "show c.weights in GB }\n")
    (work / "plans" / "other.perf").write_text("model m1x { params = 3e9 }\n")
    code, out, err = run(["eval", "plans/capacity.perf", "--set", "model=m1x"], capsys)
    assert (code, out) == (2, "")          # a bad --set is bad usage
    assert err.splitlines()[6:8] == [
        "  = help: did you mean 'm1'?",
        "  = help: 'm1x' is defined in plans/other.perf, which 'capacity' does not import: load that file too "
        "(perfdsl eval plans/capacity.perf plans/other.perf --report capacity --set ...)"]
    # The advice works as written.
    assert run(["eval", "plans/capacity.perf", "plans/other.perf", "--report", "capacity", "--set", "model=m1x",
                "--format", "csv"], capsys) == (0, f"model,c.weights [GB]\nm1x,{3e9 * 2 / 1e9}\n", "")
