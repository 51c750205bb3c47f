"""The gaps a newcomer found writing .perf files of their own: each is the exact text and exit status of what they
typed (the CLI in-process, the test's folder as the working directory), or the API call they made.

A caret under a tab-indented line; every unknown block of a role sweep; a `set` of another type over a literal; the
help of a bare number beside a quantity and of an amount given for a rate; log2 of zero; a `--set` value checked
whether or not the report reads the cell; `check --strict`; the roofline's error for half a flops/bytes pair; an
unknown column through the API; the Setup sheet's workload written one way.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import perfdsl
from perfdsl import UsageError, cli
from perfdsl.errors import Diagnostic, Location


@pytest.fixture
def work(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(argv: list[str], capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = cli.main(argv)
    return code, capsys.readouterr().err


# -- the caret under a line indented with tabs ---------------------------------------------------------------------

def test_the_caret_under_a_tab_indented_line_marks_the_unit(work, capsys):
    # Before: the quoted line's tabs were expanded (4 columns each) and the caret's were not, so `^^^` stood under
    # " 10" of "1024", 6 columns left of "GBs" (two tabs: 2 x (4 - 1)).
    (work / "tabs.perf").write_text("hardware h {\n\t\tctx = 1024 GBs\n}\n")
    code, err = run(["check", "--no-cache", "tabs.perf"], capsys)
    assert code == 1
    assert err.split("\n")[:6] == [
        "error[unknown-unit]: unknown unit 'GBs'",
        "  --> tabs.perf:2:14",
        "  |",
        "2 |         ctx = 1024 GBs",
        "  |                    ^^^",
        "  = help: did you mean 'GB' or 'GiB'?",
    ]
    quoted, caret = err.split("\n")[3], err.split("\n")[4]
    assert quoted[caret.index("^"):caret.index("^") + 3] == "GBs"


def test_a_tab_inside_the_marked_text_widens_the_caret():
    # `a\t+ b` marked from `a` (column 1) to the end of `b` (column 5): the tab takes 3 columns when quoted (to
    # column 4), so the caret is 1 + 3 + 3 = 7 wide, not the 5 characters.
    diag = Diagnostic("unit-mismatch", "m", Location("f.perf", 1, 1, 6), source_line="a\t+ b")
    assert diag.render().split("\n")[3:5] == ["1 | a   + b", "  | ^^^^^^^"]


def test_a_long_tab_indented_line_keeps_the_caret_under_its_text():
    # A line over QUOTE_WIDTH (160) characters is quoted as a window around the column: the tabs inside the window
    # are expanded in the text and in the caret alike.
    line = "x = " + "a + " * 60 + "\t\tzz + 1"
    col = line.index("zz") + 1
    text = Diagnostic("syntax", "m", Location("f.perf", 1, col, col + 2), source_line=line).render().split("\n")
    quoted, caret = text[3][4:], text[4][4:]
    assert quoted[caret.index("^"):caret.index("^") + 2] == "zz" and caret.strip() == "^^"


# -- every unknown block of a role sweep ---------------------------------------------------------------------------

SWEEP_THREE = """\
workload w { batch = 1 }
costmodel c { t = hardware.mem_bw * 1 s }
report r {
    sweep hardware = [rtx_a5000, h100_sxm5, l4]
    workload = w
    show c.t
}
"""


def test_each_unknown_block_of_a_sweep_is_an_error_with_its_import(work, capsys):
    # Before: one error, at rtx_a5000; the other two came one run at a time.
    (work / "sweep.perf").write_text(SWEEP_THREE)
    code, err = run(["check", "--no-cache", "sweep.perf"], capsys)
    assert code == 1
    found = [(line, err.split("\n")[i + 6]) for i, line in enumerate(err.split("\n"))
             if line.startswith("error[")]
    assert found == [
        ("error[unknown-name]: unknown name 'rtx_a5000' in report 'r'", "  = help: 'rtx_a5000' is defined in the "
         "bundled library file hardware/ampere_workstation.perf: add `import \"hardware/ampere_workstation.perf\"`"),
        ("error[unknown-name]: unknown name 'h100_sxm5' in report 'r'", "  = help: 'h100_sxm5' is defined in the "
         "bundled library file hardware/hopper.perf: add `import \"hardware/hopper.perf\"`"),
        ("error[unknown-name]: unknown name 'l4' in report 'r'", "  = help: 'l4' is defined in the bundled library "
         "file hardware/ada.perf: add `import \"hardware/ada.perf\"`"),
    ]
    assert err.endswith("3 errors\n")


def test_each_unknown_block_beside_a_known_one_is_an_error(work, capsys):
    (work / "sweep.perf").write_text('import "hardware/hopper.perf"\n'
                                     + SWEEP_THREE.replace("[rtx_a5000, h100_sxm5, l4]", "[rtx_a5000, h100_sxm5, l4]"))
    code, err = run(["check", "--no-cache", "sweep.perf"], capsys)
    assert code == 1
    assert [line for line in err.split("\n") if line.startswith(("error[", "  -->"))] == [
        "error[unknown-name]: no loaded file defines a block 'rtx_a5000' (the sweep 'hardware' lists blocks)",
        "  --> sweep.perf:5:23",
        "error[unknown-name]: no loaded file defines a block 'l4' (the sweep 'hardware' lists blocks)",
        "  --> sweep.perf:5:45",
    ]


# -- a `set` of another type over a literal ------------------------------------------------------------------------

SET_FORMULA = """\
import "hardware/hopper.perf"
hardware hx extends h100_sxm5 { x = 1 }
set { hx.x = hardware.mem_bw }
workload w { batch = 1 }
costmodel c { t = hardware.x * 2 + 1 }
report r {
    hardware = hx
    workload = w
    show c.t
}
"""


def test_a_set_formula_of_another_dimension_is_an_error_at_the_set(work, capsys):
    # Before: no error at the set; "cannot add 'expression' (byte/s) and '1' (count)" in the cost model, where a
    # formula read the cell.
    (work / "set.perf").write_text(SET_FORMULA)
    code, err = run(["check", "--no-cache", "set.perf"], capsys)
    assert code == 1
    assert err == (
        "error[unit-mismatch]: `set hx.x` is byte/s, but the cell is count\n"
        "  --> set.perf:3:14\n"
        "  |\n"
        "3 | set { hx.x = hardware.mem_bw }\n"
        "  |              ^^^^^^^^^^^^^^^\n"
        "  = note: the cell is defined at set.perf:2:33\n"
        "  = in: hardware.hx.x\n"
        "  = help: an override keeps the dimension of the cell it replaces\n"
        "\n"
        "1 error\n")


def test_a_set_formula_of_the_same_dimension_is_taken(work, capsys):
    (work / "set.perf").write_text(SET_FORMULA.replace("x = 1 }", "x = 1 TB/s }").replace("hardware.x * 2 + 1",
                                                                                       "hardware.x * 1 s"))
    code, err = run(["check", "--no-cache", "set.perf"], capsys)
    assert code == 0, err
    h100 = perfdsl.load(["set.perf"])
    assert h100.evaluate().column("c.t")[0] == pytest.approx(h100.value("h100_sxm5.mem_bw") * 1)    # B/s x 1 s


@pytest.mark.parametrize("value, kind, hint", [
    ("true", "a boolean", "a quantity in byte/s is a number with a unit, written without quotes"),  # as over `extends`
    ('"700 GB/s"', "a string", "write 700 GB/s without quotes"),
])
def test_a_set_literal_of_another_kind_is_an_error_at_the_set(work, capsys, value, kind, hint):
    # Before: `set { hx.x = true }` over `x = 1` was taken (check ok, exit 0): a literal over a literal was compared
    # only number with number, and eval showed `true` where a count stood (or a type-mismatch where a formula read it).
    (work / "set.perf").write_text(SET_FORMULA.replace("x = 1 }", "x = 1 TB/s }")
                                   .replace("hardware.mem_bw }", f"{value} }}"))
    code, err = run(["check", "--no-cache", "set.perf"], capsys)
    assert code == 1
    assert err == (
        f"error[unit-mismatch]: `set hx.x` is {kind}, but the cell is byte/s\n"
        "  --> set.perf:3:14\n"
        "  |\n"
        f"3 | set {{ hx.x = {value} }}\n"
        f"  |              {'^' * len(value)}\n"
        "  = note: the cell is defined at set.perf:2:33\n"
        "  = in: hardware.hx.x\n"
        + (f"  = help: {hint}\n" if hint else "")
        + "  = help: an override keeps the type of the cell it replaces\n"
        "\n"
        "1 error\n")


def test_a_set_number_over_a_boolean_says_to_write_true_or_false(work, capsys):
    (work / "set.perf").write_text(SET_FORMULA.replace("x = 1 }", "x = true }").replace("hardware.mem_bw }", "1 }")
                                   .replace("hardware.x * 2 + 1", "if(hardware.x, 1, 2)"))
    code, err = run(["check", "--no-cache", "set.perf"], capsys)
    assert code == 1
    assert [line for line in err.splitlines() if line.startswith(("error", "  -->", "  = help"))] == [
        "error[unit-mismatch]: `set hx.x` is count, but the cell is a boolean",
        "  --> set.perf:3:14",
        "  = help: write true or false",
        "  = help: an override keeps the type of the cell it replaces"]


@pytest.mark.parametrize("name, what, hints", [
    ("true", "a boolean", ["`true` is never a cell's name, so no block has a cell `true` for `set` to replace",
                           "to give a cell the boolean, write it as the value: `set { hx.CELL = true }`"]),
    ("where", "a reserved word",
     ["`where` is never a cell's name, so no block has a cell `where` for `set` to replace"]),
])
def test_a_set_of_a_boolean_or_keyword_as_a_cell_says_it_is_none(work, capsys, name, what, hints):
    # Before: refused, but as any unknown cell ("has no cell 'true' to set", help: `set` does not add a cell), which
    # does not say that `true` can never be a cell.
    (work / "set.perf").write_text(SET_FORMULA.replace("hx.x = hardware.mem_bw", f"hx.{name} = 3"))
    code, err = run(["check", "--no-cache", "set.perf"], capsys)
    assert code == 1
    assert err == (
        f"error[unknown-name]: `set hx.{name}` names {what}, not a cell: hardware 'hx' has no cell '{name}' to set\n"
        "  --> set.perf:3:10\n"
        "  |\n"
        f"3 | set {{ hx.{name} = 3 }}\n"
        f"  |          {'^' * len(name)}\n"
        + "".join(f"  = help: {hint}\n" for hint in hints)
        + "\n1 error\n")


@pytest.mark.parametrize("given, message, defined, hint", [
    ("blk.x=true", "--set blk.x: 'true' is a boolean, but 'blk.x' is byte/s", len("hardware blk { ") + 1,
     'give a number, e.g. --set blk.x="1 GB/s"'),
    ('blk.x="fast"', "--set blk.x: '\"fast\"' is a string, but 'blk.x' is byte/s", len("hardware blk { ") + 1,
     'give a number, e.g. --set blk.x="1 GB/s"'),
    ("blk.f=1", "--set blk.f: '1' is a number, but 'blk.f' is a boolean", len("hardware blk { x = 1 GB/s; ") + 1,
     "a boolean is written true or false, e.g. --set blk.f=true"),
])
def test_a_command_line_set_of_another_kind_over_a_literal_is_bad_usage(work, capsys, given, message, defined, hint):
    # Before: exit status 0, the table showing `true` for a bandwidth (a --set was compared with the cell it replaces
    # only where that cell was a parent's, as for `extends`). Located at the value, as over a formula.
    (work / "o.perf").write_text('hardware blk { x = 1 GB/s; f = true; label = "A" }\n'
                                 "report r { hardware = blk; show hardware.x, hardware.f, hardware.label }\n")
    code, err = run(["eval", "o.perf", "--set", given], capsys)
    target, _, value = given.partition("=")
    assert (code, err) == (2, f"error[unit-mismatch]: {message}\n  --> --set {target}:1:1\n  |\n1 | {value}\n"
                              f"  | {'^' * len(value)}\n  = note: the cell is defined at o.perf:1:{defined}\n"
                              f"  = in: hardware.{target}\n  = help: {hint}\n"
                              "  = help: an override keeps the type of the cell it replaces\n\n1 error\n")
    code, err = run(["eval", "o.perf", "--set", "blk.label=true", "--set", "blk.f=false"], capsys)
    assert code == 0, err                                  # a string setting takes `true` as its text


@pytest.mark.parametrize("given, message, hint, keeps", [
    ("blk.n=2*3 s", "'2*3 s' is s, but 'blk.n' is count", "give a plain number, e.g. --set blk.n=3", "dimension"),
    ("blk.x=2*3", "'2*3' is count, but 'blk.x' is byte/s", 'give a quantity in byte/s, e.g. --set blk.x="1 GB/s"',
     "dimension"),
    ("blk.n=blk.x * 1 s", "'blk.x * 1 s' is byte, but 'blk.n' is count",                      # it reads a cell
     "give a plain number, e.g. --set blk.n=3", "dimension"),
    ("blk.n=1 < 2", "'1 < 2' is a boolean, but 'blk.n' is count", "give a plain number, e.g. --set blk.n=3", "type"),
    ("blk.f=1+1", "'1+1' is count, but 'blk.f' is a boolean",                # the report reads no blk.f: a constant
     "give a boolean, true or false, e.g. --set blk.f=true", "type"),
])
def test_a_command_line_formula_over_a_literal_is_held_to_its_type(work, capsys, given, message, hint, keeps):
    # Before: exit status 0, `2*3 s` shown in the count's column, in seconds (`hardware.n [s]`: 6), as a literal of
    # another kind was before test_a_command_line_set_of_another_kind_over_a_literal_is_bad_usage.
    (work / "o.perf").write_text('hardware blk { x = 1 GB/s; n = 3; f = true; label = "A" }\n'
                                 "report r { hardware = blk; show hardware.x, hardware.n, hardware.label }\n")
    target, _, value = given.partition("=")
    code, err = run(["eval", "o.perf", "--set", given], capsys)
    assert code == 2
    assert [line for line in err.splitlines() if line.startswith(("error", "  -->", "  = "))] == [
        f"error[unit-mismatch]: --set {target}: {message}",
        f"  --> --set {target}:1:1",
        f"  = note: the cell is defined at o.perf:1:{'hardware blk { x = 1 GB/s; n = 3; f'.index(target[-1]) + 1}",
        f"  = in: hardware.{target}",
        f"  = help: {hint}",
        f"  = help: an override keeps the {keeps} of the cell it replaces"]


def test_a_formula_over_a_literal_of_its_type_is_taken_and_held_where_inherited(work, capsys):
    (work / "o.perf").write_text("hardware blk { x = 1 GB/s; n = 3 }\nhardware kid extends blk { }\n"
                                 "report r { hardware = kid; show hardware.x in GB/s, hardware.n }\n")
    result = perfdsl.load(["o.perf"]).evaluate(overrides={"blk.n": "2*3", "blk.x": "blk.n * 1 GB/s"})
    assert (result.column("hardware.x")[0], result.column("hardware.n")[0]) == (2 * 3 * 1e9, 2 * 3)
    code, err = run(["eval", "o.perf", "--set", "blk.n=2*3 s"], capsys)              # read through kid
    assert code == 2 and err.startswith("error[unit-mismatch]: --set blk.n: '2*3 s' is s, but 'blk.n' is count\n")
    with pytest.raises(perfdsl.UsageError) as caught:                                 # the API's overrides too
        perfdsl.load(["o.perf"]).evaluate(overrides={"blk.n": "2*3 s"})
    assert caught.value.diagnostics[0].message == "overrides['blk.n']: '2*3 s' is s, but 'blk.n' is count"


# -- help for a bare number, and for an amount given for a rate -----------------------------------------------

WHERE = """\
workload w { sweep batch = [1, 2]; tpot0 = 20 ms }
costmodel c { tpot = workload.tpot0 * workload.batch }
report r {
    workload = w
    show c.tpot in ms as tpot
    where tpot <= 50
}
"""


def test_a_bare_number_compared_with_a_shown_time_offers_its_shown_unit(work, capsys):
    # Before: the message and help named 'c.tpot', the cell the label `tpot` shows (a name not on the line), and the
    # caret stood under the whole comparison (6:11, `tpot <= 50`) instead of the number that lacks its unit.
    (work / "where.perf").write_text(WHERE)
    code, err = run(["check", "--no-cache", "where.perf"], capsys)
    assert code == 1
    assert err == (
        "error[unit-mismatch]: cannot compare 'tpot' (s) with '50' (count)\n"
        "  --> where.perf:6:19\n"
        "  |\n"
        "6 |     where tpot <= 50\n"
        "  |                   ^^\n"
        "  = in: report.r\n"
        "  = help: '50' has no unit: write it with one, e.g. `50 ms` (the unit the report shows 'tpot' in)\n"
        "\n"
        "1 error\n")


def test_an_axis_in_a_where_is_named_as_written(work, capsys):
    # `batch` is read as the swept cell workload.batch; the message named that, not what the line says.
    (work / "axis.perf").write_text("workload w { sweep batch = [1, 2] }\n"
                                    "report r { workload = w; where batch <= 50 ms; show workload.batch }\n")
    code, err = run(["check", "--no-cache", "axis.perf"], capsys)
    assert code == 1
    assert err.splitlines()[0] == "error[unit-mismatch]: cannot compare 'batch' (count) with '50 ms' (s)"


LIBRARY = """\
model m { params = 2 }
costmodel serving {
    tpot = model.params * 1 ms
    slow = serving.tpot > 50
}
"""


def test_a_bare_number_on_a_library_line_has_one_help_whichever_report_reads_it(work, capsys):
    # Before: the help offered the unit of the first report checked that shows serving.tpot (`50 us` for a.perf,
    # `50 ms` for b.perf, for one line of lib.perf): the line is checked once for all reports, and took the
    # first one's unit. A library line is not any one report's: its help offers the dimension's unit.
    (work / "lib.perf").write_text(LIBRARY)
    for name, unit in (("a", "us"), ("b", "ms")):
        (work / f"{name}.perf").write_text(f'import "lib.perf"\n'
                                           f'report {name} {{ model = m; show serving.tpot in {unit}, serving.slow }}\n')
    (work / "ab.perf").write_text('import "lib.perf"\n'
                                  'report a { model = m; show serving.tpot in us, serving.slow }\n'
                                  'report b { model = m; show serving.tpot in ms, serving.slow }\n')
    errors = []
    for name in ("a", "b", "ab"):
        code, err = run(["check", "--no-cache", f"{name}.perf"], capsys)
        assert code == 1
        errors.append(err)
    assert errors[0] == errors[1] == errors[2] == (
        "error[unit-mismatch]: cannot compare 'serving.tpot' (s) with '50' (count)\n"
        "  --> lib.perf:4:27\n"
        "  |\n"
        "4 |     slow = serving.tpot > 50\n"
        "  |                           ^^\n"
        "  = in: costmodel.serving.slow\n"
        "  = help: '50' has no unit: write it with one, e.g. `50 s`\n"
        "\n"
        "1 error\n")


def test_a_bare_number_beside_a_quantity_not_shown_offers_its_dimensions_unit(work, capsys):
    (work / "add.perf").write_text("workload w { t = 2 ms; u = t + 5 }\n")
    code, err = run(["check", "--no-cache", "add.perf"], capsys)
    assert code == 1
    assert "  = help: '5' has no unit: write it with one, e.g. `5 s`\n" in err


@pytest.mark.parametrize("written, fix", [
    ("tdp: W = 300 J", "'300 J' is an amount of J; the rate is written '300 W'"),        # the declared unit
    ("tdp: J/s = 300 J", "'300 J' is an amount of J; the rate is written '300 J/s'"),    # ... as declared
    ("tdp: W = 3 kJ", "'3 kJ' is an amount of J; the rate is written '3 kW'"),           # the named unit, prefixed
    ("peak: FLOP/s = 1978.9 TFLOPs", "'1978.9 TFLOPs' is an amount of FLOP; the rate is written '1978.9 TFLOP/s'"),
])
def test_an_amount_given_for_a_rate_is_written_in_the_rates_unit(work, capsys, written, fix):
    # Before: '300 J/s' for `tdp: W = 300 J`, where the cell is declared in W.
    (work / "g.perf").write_text(f"hardware g {{ {written} }}\n")
    code, err = run(["check", "--no-cache", "g.perf"], capsys)
    assert code == 1
    assert f"  = help: {fix}\n" in err


def test_an_override_given_an_amount_for_a_rate_is_told_the_rate(work, capsys):
    (work / "g.perf").write_text("hardware g2 { tdp = 300 W }\nhardware g3 extends g2 { tdp = 300 J }\n")
    code, err = run(["check", "--no-cache", "g.perf"], capsys)
    assert code == 1
    assert err.split("\n")[5:8] == ["  = note: g2.tdp is defined at g.perf:1:15",
                                    "  = in: hardware.g3.tdp",
                                    "  = help: '300 J' is an amount of J; the rate is written '300 W'"]


def test_a_set_of_an_amount_for_a_power_offers_watts(work, capsys):
    (work / "p.perf").write_text('import "hardware/ada.perf"\nworkload w { batch = 1 }\n'
                                 "costmodel c { p = hardware.tdp * 1 s }\n"
                                 "report r { hardware = l4; workload = w; show c.p }\n")
    code, err = run(["eval", "p.perf", "--set", "l4.tdp=3 kJ"], capsys)
    assert code == 2
    assert "  = help: give it a unit of W, e.g. --set l4.tdp=\"3 kW\"\n" in err     # not "3 kJ/s"


# -- log2 of zero or below ------------------------------------------------------------------------------------------

def test_log2_of_zero_is_its_own_warning_not_a_division(work, capsys):
    (work / "log.perf").write_text("workload w { sweep batch = [0, 1, 2] }\ncostmodel c { b = log2(workload.batch) }\n"
                                   "report r { workload = w; show c.b }\n")
    code, err = run(["eval", "log.perf", "--format", "csv"], capsys)
    assert code == 0
    assert err == (
        "warning[log-of-non-positive]: 'c.b' takes the log of zero or a negative number at batch=0\n"
        "  --> log.perf:2:19\n"
        "  |\n"
        "2 | costmodel c { b = log2(workload.batch) }\n"
        "  |                   ^^^^^^^^^^^^^^^^^^^^\n"
        "  = note: 1 of 3 sweep points are affected\n"
        "  = in: costmodel.c.b\n"
        "  = help: guard the formula with if(...) or max(...), or check the inputs\n"
        "\n"
        "1 warning\n")
    program = perfdsl.load(["log.perf"])
    assert program.evaluate().column("c.b").tolist() == [-np.inf, 0.0, 1.0]        # log2(1) = 0, log2(2) = 1


def test_log2_of_a_negative_number_is_the_same_warning(work):
    (work / "log.perf").write_text("workload w { sweep x = [-1, 4] }\ncostmodel c { b = log2(workload.x) }\n"
                                   "report r { workload = w; show c.b }\n")
    result = perfdsl.load(["log.perf"]).evaluate()
    assert [(d.code, d.message) for d in result.warnings] == [
        ("log-of-non-positive", "'c.b' takes the log of zero or a negative number at x=-1")]
    assert np.isnan(result.column("c.b")[0]) and result.column("c.b")[1] == 2.0       # log2(4)


def test_a_division_by_zero_is_still_one(work):
    (work / "div.perf").write_text("workload w { sweep x = [0, 4] }\ncostmodel c { b = 1 / workload.x }\n"
                                   "report r { workload = w; show c.b }\n")
    result = perfdsl.load(["div.perf"]).evaluate()
    assert [d.code for d in result.warnings] == ["division-by-zero"]


# -- a --set value is checked whether or not the report reads the cell ---------------------------------------------

ON_L4 = ('import "hardware/ada.perf"\nworkload w { batch = 1 }\ncostmodel c { p = hardware.tdp * 1 s }\n'
         "report r { hardware = l4; workload = w; show c.p }\n")


def test_a_set_outside_the_choices_of_a_cell_the_report_does_not_read_is_bad_usage(work, capsys):
    # Before: exit status 0 and the table, the report reading l4, not l40s.
    (work / "p.perf").write_text(ON_L4)
    code, err = run(["eval", "p.perf", "--set", 'l40s.mem_type="HBM9"'], capsys)
    assert code == 2
    assert err.split("\n")[:9] == [
        "error[bad-choice]: 'mem_type' is one of \"GDDR6\", \"GDDR6X\", \"GDDR7\", \"HBM2\", \"HBM2e\", \"HBM3\" or "
        "\"HBM3e\", not \"HBM9\"",
        "  --> --set l40s.mem_type:1:1",
        "  |",
        '1 | "HBM9"',
        "  | ^^^^^^",
        f"  = note: the choices are declared at {perfdsl.library_path('hardware') / 'gpu.perf'}:47:15",
        "  = in: hardware.l40s.mem_type",
        '  = help: did you mean "HBM3" or "HBM2" or "HBM3e"?',
        "",
    ]


def test_a_set_of_text_for_a_quantity_the_report_does_not_read_is_bad_usage(work, capsys):
    (work / "p.perf").write_text(ON_L4)
    code, err = run(["eval", "p.perf", "--set", 'l40s.mem_bw="fast"'], capsys)
    assert code == 2
    assert err.startswith("error[unit-mismatch]: 'mem_bw' is declared as byte/s, but \"fast\" is a string, not a "
                          "quantity in byte/s\n  --> --set l40s.mem_bw:1:1\n")


def test_the_api_checks_an_override_the_report_does_not_read(work):
    (work / "p.perf").write_text(ON_L4)
    with pytest.raises(UsageError) as caught:
        perfdsl.load(["p.perf"]).evaluate(overrides={"l40s.mem_type": "HBM9"})
    assert caught.value.diagnostics[0].code == "bad-choice"
    assert str(caught.value.diagnostics[0].location) == "overrides['l40s.mem_type']:1:1"


def test_a_set_of_a_text_cell_takes_the_text_as_given(work, capsys):
    # README: a value for a text cell is that text as given, quoted or not (`label = 5` in a file is an error).
    (work / "p.perf").write_text(ON_L4.replace("show c.p", "show c.p, hardware.label"))
    code, err = run(["eval", "p.perf", "--set", "l4.label=5", "--format", "csv"], capsys)
    assert code == 0, err
    result = perfdsl.load(["p.perf"]).evaluate(overrides={"l4.label": "5"})
    assert result.records()[0]["hardware.label"] == "5"


# -- check --strict --------------------------------------------------------------------------------------------------

def test_check_strict_fails_on_warnings_only(work, capsys):
    # Before: `unrecognized arguments: --strict`. A misspelt override is a warning (unread-cell, at both cells):
    # exit status 0, and 1 with --strict, as eval --strict.
    (work / "m.perf").write_text("model base { mem_size = 1 GB }\nmodel mine extends base { mem_sise = 2 GB }\n")
    code, err = run(["check", "--no-cache", "m.perf"], capsys)
    assert code == 0 and "warning[unread-cell]" in err and err.endswith("2 warnings\n")
    code, err = run(["check", "--no-cache", "--strict", "m.perf"], capsys)
    assert code == 1 and err.endswith("2 warnings\n--strict: warnings are errors\n")


def test_check_strict_passes_clean_files(work, capsys):
    (work / "ok.perf").write_text("model base { mem_size = 1 GB }\n")
    code, err = run(["check", "--no-cache", "--strict", "ok.perf"], capsys)
    assert code == 0 and err.startswith("ok: 1 file, 1 block, 0 reports")


# -- the roofline's error names the missing half ---------------------------------------------------------------------

def test_the_roofline_names_the_half_of_a_pair_that_is_missing(work, capsys):
    (work / "roof.perf").write_text(
        'import "hardware/hopper.perf"\nmodel m { params = 1e9 }\nworkload w { batch = 1 }\n'
        "costmodel decode {\n    flops = 2 FLOP * model.params * workload.batch\n"
        "    weight_bytes = 2 B * model.params\n    time = weight_bytes / hardware.mem_bw\n}\n"
        "report r { model = m; hardware = h100_sxm5; workload = w; show decode.time in ms }\n")
    code, err = run(["plot", "roof.perf", "--roofline", "-o", "roof.svg"], capsys)
    assert code == 2
    assert err == (
        "error[bad-plot]: the report's cost models name no operation class with both FLOPs and bytes (cells "
        "NAME_flops and NAME_bytes, or flops and bytes for a whole step)\n"
        "  = help: 'decode' has 'flops' but no 'bytes'\n"
        "  = help: see docs/LANGUAGE.md, 'Plots'\n"
        "\n"
        "1 error\n")
    assert not (work / "roof.svg").exists()
