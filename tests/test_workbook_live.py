"""The live workbook (`perfdsl eval --live`): the cost model as Excel formulas, recalculated by real spreadsheet
engines and compared with perfdsl's own numpy evaluation to 1e-9 relative.

- The `formulas` engine (a dev dependency, so these always run): a small report that uses every operator and
  function, and the seed report narrowed to one model, where a test edits `rtx_a5000.mem_bw` on the Inputs sheet,
  recalculates, and checks the estimates, their Error and the Summary against `--set rtx_a5000.mem_bw=900 GB/s`.
- LibreOffice headless (skipped, with the reason, where `soffice` is not installed): the whole seed report, a what-if
  on `rtx_a6000.mem_bw`, and the capacity question `largest_batch` of reports/capacity_questions.perf (390 rows: the
  largest batch that fits, per model and GPU; its answer's points are chosen when the workbook is written, their
  estimates are live).
"""

from __future__ import annotations

import csv
import dataclasses
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import openpyxl
import pytest

import perfdsl
from perfdsl import cli
from perfdsl import functions, operators
from perfdsl import workbook_live_plan as live
from perfdsl.comparison import relative_error
from perfdsl.errors import UsageError
from perfdsl.workbook_layout import column_letter

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "reports" / "seed_benchmark.perf"
CAPACITY = REPO / "reports" / "capacity_planning.perf"
TOLERANCE = 1e-9

# Every operator and function of the language, at three points (x = 1, 2.5, -3.5) and once for the report.
FORMS = """\
hardware chip { mem_bw = 768 GB/s; name = "Chip" }
model m { n = 3; p = -2 }
workload w {
    sweep x = [1, 2.5, -3.5]
    kind = "fast"
}
costmodel c {
    a = hardware.mem_bw * 1 s / 1 GB
    neg = -model.n^2
    left = (workload.x - model.n) - model.n
    right = workload.x - (model.n - 1)
    power = 2^model.n^2
    lo = min(workload.x, model.n, 2)
    hi = max(workload.x, model.p)
    up = ceil(workload.x)
    down = floor(workload.x)
    near = round(workload.x)
    lg = log2(abs(workload.x) * 4)
    root = sqrt(abs(workload.x))
    pick = if(workload.kind == "FAST", 1, 0) + if(workload.kind != "fast", 10, 0)
    logic = if(workload.x > 1 and not (workload.x >= 2.5) or workload.x <= -3.5, 1, 2)
    compare = if(workload.x == 1, 1, 0) + if(workload.x != 1, 2, 0) + if(workload.x < 0, 4, 0)
    t = 38 us * workload.x
}
report r {
    hardware = chip
    model = m
    workload = w
    show c.a, c.neg, c.left, c.right, c.power, c.lo, c.hi, c.up, c.down, c.near, c.lg, c.root, c.pick,
         c.logic, c.compare, c.t in us
}
"""


def engine(path: Path):
    """The workbook compiled by the `formulas` engine (the slow step: about 10 ms a formula)."""
    formulas = pytest.importorskip("formulas")
    return formulas.ExcelModel().loads(str(path)).finish()


def recalculate(path: Path, inputs: dict[tuple[str, str], object] | None = None, model=None
                ) -> dict[tuple[str, str], object]:
    """Every cell of the workbook as the `formulas` engine computes it, keyed (SHEET, "E3") in upper case, after
    setting `inputs` ({("Inputs", "C5"): 900}); `model`: the workbook already compiled."""
    model = model or engine(path)
    given = {f"'[{path.name}]{sheet.upper()}'!{cell}": value for (sheet, cell), value in (inputs or {}).items()}
    cells = {}
    for key, value in model.calculate(inputs=given).items():
        match = re.fullmatch(r"'\[[^\]]+\](.+)'!([A-Z]+[0-9]+)", key)
        if match:
            cells[(match.group(1), match.group(2))] = value.value[0, 0]
    return cells


def write_live(program, path: Path, overrides=None, report=None):
    """Evaluate beside the report's runs (as `perfdsl eval` does) and write the live workbook; the result and the
    plan of its sheets."""
    evaluated = perfdsl.evaluate_with_runs(program, report, overrides=overrides)
    perfdsl.export_workbook(evaluated.result, evaluated.comparison, str(path), live=True)
    result = evaluated.result
    rows = range(result.n_rows) if result.rows is None else result.rows.index[~result.rows.missing].tolist()
    return result, live.plan_live(result, sorted(rows))


def worst_difference(result, plan: live.LivePlan, cell_value) -> float:
    """The largest relative difference between a shown value on the Calculation sheet and perfdsl's value."""
    worst = 0.0
    for metric, row in plan.shown_rows.items():
        expected = result.display_column(metric, all_points=True)
        for point, column in plan.columns.items():
            got, want = cell_value(f"{column_letter(column)}{row}"), expected[point]
            if isinstance(want, (str, bool, np.bool_)):             # a shown string or boolean: equal, or a miss
                worst = max(worst, 0.0 if got == want else 1.0)
                continue
            worst = max(worst, abs(float(got) - float(want)) / max(abs(float(want)), 1e-300))
    return worst


def input_cell(plan: live.LivePlan, name: str) -> str:
    """The Value cell (column C) of an input, from its defined name's SI cell (column F)."""
    return "C" + plan.names[name].rsplit("$", 1)[1]


# ---- the translation -----------------------------------------------------------------------------------------

def test_every_operator_and_function_has_an_excel_form():
    assert [op.symbol for op in operators.OPERATORS.values() if not op.excel] == []
    assert [f.name for f in functions.FUNCTIONS.values() if not f.excel] == []


def test_formulas_follow_the_perf_formulas_with_excels_precedence():
    program = perfdsl.load([], texts={"forms.perf": FORMS})
    plan = live.plan_live(program.evaluate())
    first = {row.name: row.cells[0] for row in plan.rows}           # the first point's column (E)
    x = "E" + str(next(i for i, row in enumerate(plan.rows, start=2) if row.name == "w.x"))
    assert first["c.left"] == f"={x}-m.n-m.n"                       # Excel's - is left-associative too
    assert first["c.right"] == f"={x}-(m.n-1)"
    assert first["c.up"] == f"=-INT(-{x})"
    assert first["c.down"] == f"=INT({x})"
    assert first["c.near"] == f"=ROUND({x},0)"
    assert first["c.lg"] == f"=LOG(ABS({x})*4,2)"
    assert first["c.lo"] == f"=MIN({x},m.n,2)"
    assert first["c.logic"] == f"=IF(OR(AND({x}>1,NOT({x}>=2.5)),{x}<=-3.5),1,2)"
    assert first["c.compare"] == f"=IF({x}=1,1,0)+IF({x}<>1,2,0)+IF({x}<0,4,0)"
    assert first["c.t"] == f"=38*1E-06*{x}"                         # 38 us: the factor to SI in sight
    derived = {row.name: row.formula for row in plan.derived}
    # Excel negates before it raises to a power, and its ^ is left-associative: both need parentheses here.
    assert derived["c.neg"] == "=-(m.n^2)"
    assert derived["c.power"] == "=2^(m.n^2)"
    assert derived["c.pick"] == '=IF(EXACT(w.kind,"FAST"),1,0)+IF(NOT(EXACT(w.kind,"fast")),10,0)'
    assert derived["c.a"] == "=chip.mem_bw*1/(1*1E+09)"               # 1 GB is 1 x 1E+09 byte
    inputs = {row.name: (row.value, row.unit, row.factor, row.si_unit) for row in plan.inputs}
    assert inputs["chip.mem_bw"] == (768.0, "GB/s", 1e9, "B/s")
    assert inputs["m.p"] == (-2.0, "", 1.0, "")
    assert inputs["w.kind"] == ("fast", "", 1.0, "text")


def test_a_block_named_like_a_cell_reference_gets_an_underscore():
    assert live.defined_name("rtx_a6000", "mem_bw") == "rtx_a6000.mem_bw"
    assert live.defined_name("l4", "tdp") == "_l4.tdp"
    assert live.defined_name("b200", "tdp") == "_b200.tdp"
    assert live.defined_name("c", "a") == "_c.a"                     # R1C1's C


def test_every_form_recalculates_to_perfdsls_values(tmp_path):
    program = perfdsl.load([], texts={"forms.perf": FORMS})
    path = tmp_path / "forms.xlsx"
    result, plan = write_live(program, path)
    cells = recalculate(path)
    assert worst_difference(result, plan, lambda ref: cells[("CALCULATION", ref)]) <= TOLERANCE
    assert result.display_column("c.near").tolist() == [1.0, 3.0, -4.0]     # halves away from zero, as ROUND


def test_a_form_excel_lacks_is_refused_by_name(monkeypatch):
    program = perfdsl.load([], texts={"forms.perf": FORMS})
    result = program.evaluate()
    monkeypatch.setitem(functions.FUNCTIONS, "sqrt", dataclasses.replace(functions.FUNCTIONS["sqrt"], excel=""))
    with pytest.raises(UsageError) as caught:
        live.plan_live(result)
    assert caught.value.diagnostics[0].render() == (
        "error[no-excel-form]: the function 'sqrt' has no Excel form, so this formula cannot go into a live "
        "workbook\n"
        "   --> forms.perf:19:12\n"
        "   |\n"
        "19 |     root = sqrt(abs(workload.x))\n"
        "   |            ^^^^^^^^^^^^^^^^^^^^^\n"
        "   = help: write the workbook without --live (its estimates are then numbers), or give the function an "
        "Excel form in dsl/functions.py / dsl/operators.py")


# ---- the seed report, with the formulas engine -------------------------------------------------------------------

SEED_CLM = {"model": "clm_60m", "n_gpus": "1"}


@pytest.fixture(scope="module")
def seed_clm(tmp_path_factory):
    """The seed report for one model on one GPU (the A5000 and the A6000: two points), written live and compiled
    once by the `formulas` engine."""
    path = tmp_path_factory.mktemp("live") / "seed_clm.xlsx"
    program = perfdsl.load([SEED])
    result, plan = write_live(program, path, SEED_CLM)
    return program, path, result, plan, engine(path)


def test_seed_estimates_recalculate_to_perfdsls_values(seed_clm):
    program, path, result, plan, model = seed_clm
    cells = recalculate(path, model=model)
    assert worst_difference(result, plan, lambda ref: cells[("CALCULATION", ref)]) <= TOLERANCE
    sheet = openpyxl.load_workbook(path)["Single GPU"]
    # The A5000 row: its label and runtime come from the first point's column (rows 5 and 7 of Calculation).
    assert (sheet["A3"].value, sheet["E3"].value) == ("=Calculation!E5", "=Calculation!E7")
    assert cells[("SINGLE GPU", "A3")] == "AICrossSim/clm-60m"
    assert cells[("SINGLE GPU", "E3")] == pytest.approx(result.display_column("runtime")[0], rel=TOLERANCE)


def cached_against_engine(path: Path, cells: dict) -> tuple[int, float, list[str]]:
    """Every formula cell of the file against the `formulas` engine's recalculation: (how many formulas give a
    value, that is neither empty text nor #N/A; the worst relative difference of the numbers cached for them; the
    cells whose cached text or boolean differs, or that are uncached although the engine gives a value)."""
    formulas_book, values_book = openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True)
    count, worst, wrong = 0, 0.0, []
    for sheet in formulas_book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type != "f":
                    continue
                got = values_book[sheet.title][cell.coordinate].value
                want = cells[(sheet.title.upper(), cell.coordinate)]
                if want == "" or str(want) == "#N/A":           # openpyxl reads an empty cached text as None
                    if got is not None:
                        wrong.append(f"{sheet.title}!{cell.coordinate}: cached {got!r}, computed {want!r}")
                    continue
                count += 1
                if isinstance(want, (bool, np.bool_, str)) or got is None or isinstance(got, (bool, str)):
                    if got != want:
                        wrong.append(f"{sheet.title}!{cell.coordinate}: cached {got!r}, computed {want!r}")
                else:
                    worst = max(worst, abs(float(got) - float(want)) / max(abs(float(want)), 1e-300))
    return count, worst, wrong


def test_every_formula_carries_the_value_a_spreadsheet_computes(seed_clm, tmp_path):
    """Previews and pandas read cached values: each formula of every sheet (Calculation, Derived, Inputs, the
    estimates, Error and Summary) carries what the `formulas` engine recalculates, to 1e-9; `=NA()` of a figure
    the report does not give, and empty text, are left empty."""
    program, path, result, plan, model = seed_clm
    count, worst, wrong = cached_against_engine(path, recalculate(path, model=model))
    assert wrong == [] and worst <= TOLERANCE
    assert count > len(plan.inputs) + len(plan.derived) + 400     # 99 inputs, 83 derived, 400 Calculation cells
    forms = tmp_path / "forms.xlsx"                 # every operator and function, strings and booleans among them
    write_live(perfdsl.load([], texts={"forms.perf": FORMS}), forms)
    count, worst, wrong = cached_against_engine(forms, recalculate(forms))
    assert wrong == [] and worst <= TOLERANCE and count > 40


def test_changing_an_input_moves_the_estimates_their_error_and_the_summary(seed_clm):
    """rtx_a5000.mem_bw from 768 to 900 GB/s on the Inputs sheet: what `--set rtx_a5000.mem_bw="900 GB/s"` gives."""
    program, path, result, plan, model = seed_clm
    cells = recalculate(path, {("Inputs", input_cell(plan, "rtx_a5000.mem_bw")): 900}, model=model)
    changed = perfdsl.evaluate_with_runs(program, overrides={**SEED_CLM, "rtx_a5000.mem_bw": "900 GB/s"})
    assert worst_difference(changed.result, plan, lambda ref: cells[("CALCULATION", ref)]) <= TOLERANCE
    after, before = changed.result.display_column("runtime"), result.display_column("runtime")
    a5000 = result.axis_columns(all_points=True)["hardware"] == "rtx_a5000"
    assert (after < before).tolist() == a5000.tolist()              # the A5000 points are faster, the A6000 not
    assert changed.result.display_column("memory").tolist() == result.display_column("memory").tolist()
    # The Error of the A5000 row on one GPU (row 3: runtime Measured D, Estimated E, the calibration's low and high
    # F and G, Error H) against its measured 121.46 ms.
    assert cells[("SINGLE GPU", "H3")] == pytest.approx(relative_error(after[0], 121.46), rel=TOLERANCE)
    # Estimated low and high are the estimate times the calibration's factors: they move with it, to perfdsl's
    # bounds under the same --set (they were numbers, and kept the old estimate's band).
    from perfdsl.intervals import estimate_intervals

    low, high = estimate_intervals(changed.result)["runtime [ms]"]
    assert openpyxl.load_workbook(path)["Single GPU"]["F3"].value.startswith("=E3*")
    assert (cells[("SINGLE GPU", "F3")], cells[("SINGLE GPU", "G3")]) == (
        pytest.approx(low[0] * 1e3, rel=TOLERANCE), pytest.approx(high[0] * 1e3, rel=TOLERANCE))
    summary = openpyxl.load_workbook(path)["Summary"]
    assert (summary["A2"].value, summary["B2"].value, summary["G2"].value) == ("Single GPU", "Runtime",
                                                                             '=IF(COUNT(\'Single GPU\'!$H$3:$H$4)=0,"",AVERAGE(\'Single GPU\'!$H$3:$H$4))')
    assert cells[("SUMMARY", "G2")] == pytest.approx(relative_error(after[0], 121.46), rel=TOLERANCE)


def test_the_inputs_sheet_shows_each_figure_as_written_with_its_factor_and_source(seed_clm):
    program, path, result, plan, _ = seed_clm
    sheet = openpyxl.load_workbook(path)["Inputs"]
    row = int(plan.names["rtx_a5000.mem_bw"].rsplit("$", 1)[1])
    assert [cell.value for cell in sheet[row]][:8] == ["rtx_a5000.mem_bw", "hardware", 768, "GB/s", 1e9,
                                                        f"=C{row}*E{row}", "B/s", "768 GB/s"]
    assert sheet.cell(1, 8).value == "Formula (.perf)"
    assert re.fullmatch(r".*hardware/ampere_workstation\.perf:\d+", sheet.cell(row, 9).value)
    # the comment beside `mem_bw = 768 GB/s` in that file: where the datasheet figure comes from
    assert (sheet.cell(1, 10).value, sheet.cell(row, 10).value) == ("Comment", "gpus.csv: 768")
    assert openpyxl.load_workbook(path).defined_names["rtx_a5000.mem_bw"].attr_text == f"Inputs!$F${row}"


# ---- refusals ------------------------------------------------------------------------------------------------

def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_a_sweep_past_the_limit_is_refused_with_the_count(tmp_path, capsys):
    code, out, err = run_cli(["eval", str(CAPACITY), "--live", "-o", str(tmp_path / "all.xlsx")], capsys)
    # 194 cells: 191, the ring's two (workload.ring_in_domain, ring_link_share) since the ring respects the
    # NVLink domain, and decode.kv_cache_read (kv_traffic's one read of the KV cache, which serving.mbu reads too,
    # 3905dc3); 206 since the stack's memory rules (vLLM's limits by GPU, SGLang's share, max_model_len's start-up
    # check) and allreduce_fixed are cells the memory and step formulas read; 766,584 x 206 = 157,916,304
    assert 766_584 * 206 == 157_916_304
    assert err.endswith(
        "error[too-large-for-live]: a live workbook of report 'capacity_planning' would hold 766,584 points x 206 "
        "cells = 157,916,304 formulas; it writes at most 200,000\n"
        "  = note: the sweep: model (30), hardware (13), batch (9), seq_len (9), output_len (7), tp (4)\n"
        "  = help: narrow the sweep with --set (e.g. --set model=NAME --set batch=1,8), or ask a question of a "
        "smaller report; without --live the workbook holds every point's estimates as numbers\n"
        "\n"
        "1 error\n")
    assert code == 2 and out == "" and not (tmp_path / "all.xlsx").exists()


def test_live_needs_a_workbook(capsys):
    code, out, err = run_cli(["eval", str(SEED), "--live"], capsys)
    assert (code, out, err) == (2, "", "error[bad-option]: --live writes a workbook, so it needs -o FILE.xlsx\n"
                                       "  = help: e.g. perfdsl eval REPORT.perf --live -o out.xlsx\n\n1 error\n")


def test_a_cell_shown_in_two_units_reads_its_own_calculation_row(tmp_path):
    """`show workload.t in ms, workload.t in s` (t = batch x 2 s) has a Calculation row per column, `workload.t [ms]`
    dividing by 0.001; each Estimated reads its own, and recalculates to 1 x 2 s = 2000 ms and 2 s at batch 1. Before,
    both read the first row (the name's) and cached the second's values: 2000 under (s), 2 cached under (ms)."""
    path = tmp_path / "d.xlsx"
    text = ("workload wl {\n  sweep batch = [1, 2, 4]\n  t = batch * 2 s\n}\n"
            "report r {\n  workload = wl\n  show workload.t in ms, workload.t in s\n}\n")
    program = perfdsl.load([], texts={"d.perf": text})
    perfdsl.export_workbook(program.evaluate(), None, str(path), live=True)
    calculation = [row[0] for row in openpyxl.load_workbook(path)["Calculation"].iter_rows(values_only=True)]
    ms, s = calculation.index("workload.t [ms]") + 1, calculation.index("workload.t [s]") + 1
    sheet = openpyxl.load_workbook(path)["r"]
    letters = [column_letter(5 + point) for point in range(3)]          # the points' columns: E, F, G
    assert [[sheet.cell(row, column).value for column in (2, 3)] for row in (3, 4, 5)] == \
        [[f"=Calculation!{letter}{ms}", f"=Calculation!{letter}{s}"] for letter in letters]
    cached = openpyxl.load_workbook(path, data_only=True)["r"]
    expected = [[batch * 2 * 1000.0, batch * 2.0] for batch in (1, 2, 4)]
    assert [[cached.cell(row, column).value for column in (2, 3)] for row in (3, 4, 5)] == expected
    cells = recalculate(path)
    recalculated = [cells[("R", f"{letter}{row}")] for row in (3, 4, 5) for letter in "BC"]
    assert recalculated == pytest.approx([value for pair in expected for value in pair], rel=TOLERANCE)


# ---- LibreOffice: the whole seed report and a capacity question --------------------------------------------------

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
QUESTIONS = REPO / "reports" / "capacity_questions.perf"


@pytest.fixture(scope="module")
def libreoffice(tmp_path_factory):
    """Three live workbooks recalculated by LibreOffice in one run: the seed report, the seed report with
    rtx_a6000.mem_bw edited to 900 GB/s on its Inputs sheet, and the capacity question largest_batch. Each file
    passes through openpyxl first, which drops every cached value, so LibreOffice computes every formula."""
    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install -y libreoffice-calc")
    folder = tmp_path_factory.mktemp("libreoffice")
    seed = perfdsl.load([SEED])
    seed_result, seed_plan = write_live(seed, folder / "seed.xlsx")
    book = openpyxl.load_workbook(folder / "seed.xlsx")
    book["Inputs"][input_cell(seed_plan, "rtx_a6000.mem_bw")] = 900
    book.save(folder / "seed_whatif.xlsx")
    openpyxl.load_workbook(folder / "seed.xlsx").save(folder / "seed.xlsx")
    capacity_result, capacity_plan = write_live(perfdsl.load([QUESTIONS]), folder / "capacity.xlsx",
                                                report="largest_batch")
    openpyxl.load_workbook(folder / "capacity.xlsx").save(folder / "capacity.xlsx")
    out = folder / "out"
    names = ["seed.xlsx", "seed_whatif.xlsx", "capacity.xlsx"]
    subprocess.run([SOFFICE, f"-env:UserInstallation=file://{folder / 'profile'}", "--headless", "--convert-to",
                    "xlsx", "--outdir", str(out), *names], cwd=folder, check=True, capture_output=True, timeout=300,
                   env={**os.environ, "HOME": str(folder)})
    books = {name: openpyxl.load_workbook(out / name, data_only=True) for name in names}
    whatif = perfdsl.evaluate_with_runs(seed, overrides={"rtx_a6000.mem_bw": "900 GB/s"}).result
    return {"seed": (seed_result, seed_plan, books["seed.xlsx"]),
            "whatif": (whatif, seed_plan, books["seed_whatif.xlsx"]),
            "capacity": (capacity_result, capacity_plan, books["capacity.xlsx"])}


@pytest.mark.parametrize("case", ["seed", "whatif", "capacity"])
def test_libreoffice_recalculates_every_estimate_to_perfdsls_value(libreoffice, case):
    result, plan, book = libreoffice[case]
    sheet = book["Calculation"]
    assert worst_difference(result, plan, lambda ref: sheet[ref].value) <= TOLERANCE
    if case == "capacity":                  # a row per model and GPU, less those where even batch 1 does not fit
        assert len(plan.columns) == int(np.count_nonzero(~result.rows.missing)) > 300
    if case == "seed":
        # The Summary's y = x line (_xlfn.MINIFS / MAXIFS) spans the single-GPU runtimes of the rows with a run (the
        # A5000's), measured and estimated: the A6000's estimates, without runs, are left out.
        with (REPO / "data" / "seed_runs_a5000.csv").open() as file:
            measured = [float(r["runtime [ms]"]) for r in csv.DictReader(file) if r["n_gpus"] == "1"]
        estimated = [r["runtime [ms]"] for r in result.records() if r["Device"] == "NVIDIA RTX A5000"
                     and r["n_gpus"] == 1]
        assert len(measured) == len(estimated) == 6
        summary = book["Summary"]
        assert summary["K2"].value == "Single GPU: Runtime (ms)"
        assert (summary["L2"].value, summary["M2"].value) == pytest.approx(
            (min(measured + estimated), max(measured + estimated)), rel=1e-12)
    if case == "whatif":                    # every A6000 estimate moved; the A5000 ones did not
        base = libreoffice["seed"][0]
        hardware = result.axis_columns(all_points=True)["hardware"]
        moved = result.display_column("runtime", all_points=True) != base.display_column("runtime", all_points=True)
        assert moved.tolist() == (hardware == "rtx_a6000").tolist()
