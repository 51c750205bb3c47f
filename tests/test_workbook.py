"""The workbook exporter: structure, live formulas (evaluated with the `formulas` engine), text safety, atomic
writes and refusals. The report under test is the seed benchmark table's RTX A5000 rows
(../shared/reference/seed_benchmark.md); the measured values are those of data/seed_runs_a5000.csv."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from xml.etree import ElementTree
from pathlib import Path

import openpyxl
import pytest

import perfdsl.workbook as workbook_module
from perfdsl.comparison import (ComparisonRow, InputCell, MetricSpec, Section, Unmatched, WorkbookData,
                                relative_error)
from perfdsl.errors import EXIT_USAGE_ERROR, UsageError
from perfdsl.workbook import write_workbook
from perfdsl.workbook_layout import (column_letter, error_formula, number_format_for, plan_section,
                                     sheet_titles)
from perfdsl.workbook_summary import excel_text

TOKENS = 16384            # tokens per step in every seed row
A5000 = "NVIDIA RTX A5000"

# model: (runtime ms, memory GB, energy J/token) measured, as in data/seed_runs_a5000.csv (n_gpus 1, then 8),
# and the seed table's estimates for the same rows.
SINGLE_MEASURED = {
    "facebook/opt-1.3b": (693.77, 5.53, 0.010),
    "facebook/opt-6.7b": (3275.30, 15.48, 0.046),
    "AICrossSim/clm-60m": (121.46, 6.16, 0.002),
    "AICrossSim/clm-200m": (241.97, 6.50, 0.003),
    "AICrossSim/clm-400m": (380.49, 6.87, 0.005),
    "AICrossSim/clm-1.1b": (747.17, 8.17, 0.010),
}
SINGLE_ESTIMATED = {
    "facebook/opt-1.3b": (740.79, 5.52, 0.010),
    "facebook/opt-6.7b": (3300.85, 15.47, 0.046),
    "AICrossSim/clm-60m": (112.05, 6.15, 0.002),
    "AICrossSim/clm-200m": (226.40, 6.49, 0.003),
    "AICrossSim/clm-400m": (355.55, 6.85, 0.005),
    "AICrossSim/clm-1.1b": (716.71, 8.13, 0.010),
}
MULTI_MEASURED = {
    "facebook/opt-1.3b": (1311.08, 4.99, 0.018),
    "facebook/opt-6.7b": (4241.64, 16.04, 0.060),
    "AICrossSim/clm-60m": (124.78, 7.62, 0.002),
    "AICrossSim/clm-200m": (245.71, 7.87, 0.004),
    "AICrossSim/clm-400m": (356.11, 8.10, 0.007),
    "AICrossSim/clm-1.1b": (673.65, 8.91, 0.012),
}
MULTI_ESTIMATED = {
    "facebook/opt-1.3b": (1415.36, 4.98, 0.020),
    "facebook/opt-6.7b": (4287.28, 16.03, 0.060),
    "AICrossSim/clm-60m": (131.60, 7.68, 0.002),
    "AICrossSim/clm-200m": (239.86, 7.85, 0.004),
    "AICrossSim/clm-400m": (360.63, 8.08, 0.007),
    "AICrossSim/clm-1.1b": (639.71, 8.89, 0.012),
}
METRICS = [MetricSpec("runtime", "Runtime", "ms"), MetricSpec("memory", "Memory", "GB"),
           MetricSpec("energy", "Energy", "J/token"), MetricSpec("throughput", "Throughput", "token/s")]


def seed_values(runtime_ms: float, memory_gb: float, energy: float) -> dict[str, float]:
    # real throughput, tokens / runtime (the seed table's column was microseconds per token)
    return {"runtime": runtime_ms, "memory": memory_gb, "energy": energy,
            "throughput": TOKENS / (runtime_ms / 1000)}


def seed_section(title: str, device: str, measured: dict, estimated: dict, csv_first_row: int) -> Section:
    rows = [ComparisonRow({"Model": model, "Device": device}, seed_values(*estimated[model]),
                          seed_values(*measured[model]),
                          run_source=f"data/seed_runs_a5000.csv:row {csv_first_row + index}",
                          point={"batch": 8, "seq": 2048})
            for index, model in enumerate(measured)]
    return Section(title, ["Model", "Device"], METRICS, rows)


def seed_report(convention: str = "measured") -> WorkbookData:
    return WorkbookData(
        report_name="seed_benchmark",
        sections=[seed_section("Single GPU", A5000, SINGLE_MEASURED, SINGLE_ESTIMATED, 2),
                  seed_section("Multi GPU", A5000 + " x 8", MULTI_MEASURED, MULTI_ESTIMATED, 8)],
        inputs=[InputCell("rtx_a5000", "hardware", "mem_bw", "768 GB/s", 768, "GB/s", "hardware/ampere.perf:12",
                          "gpus.csv: 768"),
                InputCell("rtx_a5000", "hardware", "tdp", "230 W", 230, "W", "hardware/ampere.perf:14"),
                InputCell("opt_1_3b", "model", "ffn", "4 * hidden", 8192, "", "models/opt.perf:20")],
        error_convention=convention,
        notes=["Energy estimated as TDP x runtime / tokens (230 W)."])


def write(tmp_path: Path, data: WorkbookData, name: str = "seed.xlsx", **kwargs) -> Path:
    return write_workbook(data, tmp_path / name, **kwargs)


def evaluate(path: Path) -> dict[tuple[str, str], object]:
    """Every single cell of the workbook as the `formulas` engine computes it, keyed (SHEET, "E3")."""
    formulas = pytest.importorskip("formulas")
    solution = formulas.ExcelModel().loads(str(path)).finish().calculate()
    cells = {}
    for key, value in solution.items():
        match = re.fullmatch(r"'\[[^\]]+\](.+)'!([A-Z]+[0-9]+)", key)
        if match:
            cells[(match.group(1), match.group(2))] = value.value[0, 0]
    return cells


# ---- structure -----------------------------------------------------------------------------------------------

def test_sheets_in_order(tmp_path):
    book = openpyxl.load_workbook(write(tmp_path, seed_report()))
    assert book.sheetnames == ["Single GPU", "Multi GPU", "Summary", "Inputs", "Unmatched", "About"]


def test_section_sheet_looks_like_the_seed_table(tmp_path):
    sheet = openpyxl.load_workbook(write(tmp_path, seed_report()))["Single GPU"]
    assert [sheet.cell(2, c).value for c in range(1, 17)] == (
        ["Model", "Device"] + ["Measured", "Estimated", "Error"] * 4 + ["Run source", "Point"])
    assert [sheet.cell(1, c).value for c in (3, 6, 9, 12)] == [
        "Runtime (ms)", "Memory (GB)", "Energy (J/token)", "Throughput (token/s)"]
    assert sorted(str(r) for r in sheet.merged_cells.ranges) == ["C1:E1", "F1:H1", "I1:K1", "L1:N1"]
    assert sheet.freeze_panes == "C3"
    assert sheet.auto_filter.ref == "A2:P8"
    assert [sheet.cell(3, c).value for c in range(1, 5)] == ["facebook/opt-1.3b", A5000, 693.77, 740.79]
    assert sheet["O3"].value == "data/seed_runs_a5000.csv:row 2"
    assert sheet["P3"].value == "batch=8, seq=2048"
    assert sheet.column_dimensions["A"].width >= len("AICrossSim/clm-200m")


def test_number_formats_per_metric(tmp_path):
    sheet = openpyxl.load_workbook(write(tmp_path, seed_report()))["Single GPU"]
    # runtime 693.77 and memory 5.53 show two decimals; energy five, three significant digits of its smallest value
    # (0.002 J/token: 0.00200; the seed table's 0.002 gives one)
    assert [sheet.cell(3, c).number_format for c in (3, 4, 6, 7, 9, 10, 12)] == [
        "0.00", "0.00", "0.00", "0.00", "0.00000", "0.00000", "0.00"]
    assert {sheet.cell(row, c).number_format for row in range(3, 9) for c in (5, 8, 11, 14)} == {"0.00%"}


def test_number_format_given_by_the_metric_wins(tmp_path):
    data = seed_report()
    data.sections[0].metrics = [MetricSpec("runtime", "Runtime", "ms", number_format="0.0")]
    sheet = openpyxl.load_workbook(write(tmp_path, data))["Single GPU"]
    assert sheet["C3"].number_format == sheet["D3"].number_format == "0.0"


def test_error_cells_are_live_formulas(tmp_path):
    sheet = openpyxl.load_workbook(write(tmp_path, seed_report()))["Single GPU"]
    assert sheet["E3"].data_type == "f"
    assert sheet["E3"].value == '=IF(OR(C3="",D3="",C3=0),"",(D3-C3)/C3)'
    assert sheet["N8"].value == '=IF(OR(L8="",M8="",L8=0),"",(M8-L8)/L8)'
    seed_sheet = openpyxl.load_workbook(write(tmp_path, seed_report("estimated"), "est.xlsx"))["Single GPU"]
    assert seed_sheet["E3"].value == '=IF(OR(C3="",D3="",D3=0),"",(D3-C3)/D3)'


def test_error_cells_are_coloured_by_size(tmp_path):
    sheet = openpyxl.load_workbook(write(tmp_path, seed_report()))["Single GPU"]
    ranges = {str(cf.sqref): [rule.formula[0] for rule in cf.rules] for cf in sheet.conditional_formatting}
    assert set(ranges) == {"E3:E8", "H3:H8", "K3:K8", "N3:N8"}
    assert ranges["E3:E8"] == ["AND(ISNUMBER(E3),ABS(E3)<0.05)", "AND(ISNUMBER(E3),ABS(E3)<0.15)",
                               "AND(ISNUMBER(E3),TRUE)"]


def test_cached_error_values_for_viewers_that_do_not_recalculate(tmp_path):
    sheet = openpyxl.load_workbook(write(tmp_path, seed_report()), data_only=True)["Single GPU"]
    assert sheet["E3"].value == pytest.approx((740.79 - 693.77) / 693.77)


# ---- the formulas, evaluated ---------------------------------------------------------------------------------

@pytest.mark.parametrize("convention", ["measured", "estimated"])
def test_error_formulas_evaluate_to_the_python_errors(tmp_path, convention):
    data = seed_report(convention)
    cells = evaluate(write(tmp_path, data))
    checked = 0
    for section in data.sections:
        for row_number, row in enumerate(section.rows, start=3):
            for index, metric in enumerate(METRICS):
                error_column = column_letter(5 + 3 * index)
                expected = relative_error(row.estimated[metric.name], row.measured[metric.name], convention)
                assert cells[(section.title.upper(), f"{error_column}{row_number}")] == pytest.approx(
                    expected, rel=1e-12), (section.title, row_number, metric.name)
                checked += 1
    assert checked == 2 * 6 * 4


def test_seed_table_errors_reproduced_with_the_seed_convention(tmp_path):
    cells = evaluate(write(tmp_path, seed_report("estimated")))
    # the seed table prints 6.35% and -8.40% for opt-1.3b and clm-60m runtime on one A5000
    assert round(cells[("SINGLE GPU", "E3")], 4) == 0.0635
    assert round(cells[("SINGLE GPU", "E5")], 4) == -0.0840


def test_missing_measured_value_gives_an_empty_error(tmp_path):
    data = seed_report()
    data.sections[0].rows[1].measured["runtime"] = None
    del data.sections[0].rows[2].measured["memory"]
    data.sections[0].rows[3].measured["energy"] = float("nan")      # NaN is no value, not a number
    path = write(tmp_path, data)
    sheet = openpyxl.load_workbook(path)["Single GPU"]
    assert sheet["C4"].value is None and sheet["F5"].value is None and sheet["I6"].value is None
    cells = evaluate(path)
    assert cells[("SINGLE GPU", "E4")] == "" and cells[("SINGLE GPU", "H5")] == ""
    assert cells[("SINGLE GPU", "K6")] == ""
    assert cells[("SUMMARY", "E2")] == 5          # runtime, one A5000: five matched rows of six


def test_summary_statistics_evaluate_to_python_values(tmp_path):
    data = seed_report()
    cells = evaluate(write(tmp_path, data))
    summary = openpyxl.load_workbook(tmp_path / "seed.xlsx")["Summary"]
    assert [summary.cell(1, c).value for c in range(1, 10)] == [
        "Section", "Metric", "Unit", "Rows", "Matched", "Mean |error|", "Mean error", "Worst error", "Worst row"]
    row = 2
    for section in data.sections:
        for metric in METRICS:
            errors = [relative_error(r.estimated[metric.name], r.measured[metric.name]) for r in section.rows]
            worst = max(errors, key=abs)
            worst_row = section.rows[errors.index(worst)]
            assert summary.cell(row, 1).value == section.title
            assert summary.cell(row, 2).value == metric.title
            assert summary.cell(row, 6).data_type == "f"
            assert cells[("SUMMARY", f"E{row}")] == 6
            assert cells[("SUMMARY", f"F{row}")] == pytest.approx(sum(map(abs, errors)) / 6, rel=1e-12)
            assert cells[("SUMMARY", f"G{row}")] == pytest.approx(sum(errors) / 6, rel=1e-12)
            assert cells[("SUMMARY", f"H{row}")] == pytest.approx(worst, rel=1e-12)
            assert cells[("SUMMARY", f"I{row}")] == (
                f"{worst_row.identity['Model']} / {worst_row.identity['Device']}")
            row += 1
    # the seed document: one A5000, runtime, worst 7.75% (clm-60m, relative to measured)
    assert cells[("SUMMARY", "H2")] == pytest.approx((112.05 - 121.46) / 121.46)
    assert round(cells[("SUMMARY", "H2")], 4) == -0.0775


def summary_formula_cells(path: Path) -> dict[str, object]:
    """The Summary sheet's formula cells with the values the file caches for them (what a viewer that does not
    recalculate shows), keyed "E2"."""
    formulas = openpyxl.load_workbook(path)["Summary"]
    cached = openpyxl.load_workbook(path, data_only=True)["Summary"]
    return {cell.coordinate: cached[cell.coordinate].value
            for row in formulas.iter_rows() for cell in row if cell.data_type == "f"}


@pytest.mark.parametrize("convention", ["measured", "estimated"])
def test_summary_caches_the_values_a_spreadsheet_computes(tmp_path, convention):
    """Previews, pandas and openpyxl(data_only=True) read cached values: every Summary formula carries the one the
    `formulas` engine computes from the sheets, text included (an empty statistic, the worst row's label)."""
    data = seed_report(convention)
    data.sections[0].rows[1].measured["runtime"] = None             # a row without a run is skipped
    data.sections[0].rows[4].estimated["runtime"] = 355.55 * 10     # and one far off becomes the worst
    for row in data.sections[1].rows:
        row.measured["energy"] = None                               # nothing matched: empty statistics
    data.sections[1].id_columns = []                                # no identity: the label is "row N"
    data.sections[0].id_columns.append("fits")                      # a flag describes a row, it does not name it
    for row in data.sections[0].rows:
        row.identity["fits"] = True
    path = write(tmp_path, data)
    computed = evaluate(path)
    cached = summary_formula_cells(path)
    assert len(cached) == 8 * 5 + 7 * 2                             # 8 metric rows; 7 charts' y = x ends
    for reference, value in cached.items():
        expected = computed[("SUMMARY", reference)]
        if isinstance(expected, str):
            assert value in (expected, None if expected == "" else expected), reference   # "" reads as None
        else:
            assert value == pytest.approx(float(expected), rel=1e-12, abs=0), reference
    assert cached["E2"] == 5 and cached["I2"] == "AICrossSim/clm-400m / NVIDIA RTX A5000"
    assert cached["H2"] == pytest.approx(relative_error(3555.5, 380.49, convention), rel=1e-15)
    assert [cached[f"{c}8"] for c in "EFGHI"] == [0, None, None, None, None]    # Multi GPU energy: no runs
    worst = max(range(6), key=lambda i: abs(relative_error(MULTI_ESTIMATED[list(MULTI_ESTIMATED)[i]][0],
                                                           MULTI_MEASURED[list(MULTI_MEASURED)[i]][0],
                                                           convention)))
    assert cached["I6"] == f"row {worst + 3}"                      # data rows start on row 3


def test_the_y_equals_x_line_spans_the_points_with_both_a_run_and_an_estimate(tmp_path):
    """An estimate without a run is no point of the chart: it no longer sets the line's ends (the seed workbook's
    line started at 114.52 ms, an A6000 estimate, below every point drawn)."""
    data = seed_report()
    rows = data.sections[0].rows
    rows.append(ComparisonRow({"Model": "AICrossSim/clm-60m", "Device": "NVIDIA RTX A6000"},
                              seed_values(100.0, 6.0, 0.002), {}))            # below every point: no run
    rows.append(ComparisonRow({"Model": "facebook/opt-6.7b", "Device": "NVIDIA RTX A6000"},
                              seed_values(5000.0, 15.0, 0.05), {}))           # above every point: no run
    rows[0].estimated["runtime"] = None                                       # a run without an estimate
    path = write(tmp_path, data)
    both = [(SINGLE_MEASURED[m][0], SINGLE_ESTIMATED[m][0]) for m in list(SINGLE_MEASURED)[1:]]
    low, high = min(min(pair) for pair in both), max(max(pair) for pair in both)
    assert (low, high) == (112.05, 3300.85)                                   # clm-60m's estimate, opt-6.7b's
    computed, cached = evaluate(path), summary_formula_cells(path)
    assert (computed[("SUMMARY", "C15")], computed[("SUMMARY", "D15")]) == (low, high)      # CHART_BLOCK_ROW + 1
    assert (cached["C15"], cached["D15"]) == (low, high)


def test_excel_text_of_identity_values():
    """The worst row's label joins identity cells with `&`, which turns numbers into Excel's General text."""
    assert [excel_text(v) for v in (8, 8.0, 0.5, 1e-10, 2.5e20, 1 / 3, True, None, "opt")] == [
        "8", "8", "0.5", "1E-10", "2.5E+20", "0.333333333333333", "TRUE", "", "opt"]


def test_summary_has_a_scatter_chart_per_measured_metric(tmp_path):
    data = seed_report()
    for row in data.sections[1].rows:
        row.measured["energy"] = None            # energy was not metered on eight GPUs: no chart for it
    summary = openpyxl.load_workbook(write(tmp_path, data))["Summary"]
    titles = [chart.title.tx.rich.p[0].r[0].t for chart in summary._charts]
    assert titles == [f"{s}: {m}" for s in ("Single GPU", "Multi GPU")
                      for m in ("Runtime (ms)", "Memory (GB)", "Energy (J/token)", "Throughput (token/s)")
                      if not (s == "Multi GPU" and m.startswith("Energy"))]
    chart = summary._charts[0]
    assert type(chart).__name__ == "ScatterChart"
    points, line = chart.series
    assert points.xVal.numRef.f == "'Single GPU'!$C$3:$C$8"     # measured on x
    assert points.yVal.numRef.f == "'Single GPU'!$D$3:$D$8"     # estimated on y
    assert line.xVal.numRef.f == line.yVal.numRef.f == "'Summary'!$C$15:$D$15"
    cells = evaluate(tmp_path / "seed.xlsx")
    assert cells[("SUMMARY", "C15")] == min(min(SINGLE_MEASURED.values())[0], min(SINGLE_ESTIMATED.values())[0])
    assert cells[("SUMMARY", "D15")] == 3300.85


def test_the_chart_lines_are_a_block_of_their_own_below_the_statistics(tmp_path):
    """The y = x ends sat right of the statistics under the same header row, so the statistics' row 2 read
    "Chart: Single GPU: Runtime (ms)": now they are a block below the notes, with its own header, and no row of the
    statistics holds anything past its Worst row column (I)."""
    sheet = openpyxl.load_workbook(write(tmp_path, seed_report()))["Summary"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    statistics = 2 * 4                          # two sections x four metrics, rows 2 to 9
    assert all(value is None for row in rows[:1 + statistics] for value in row[9:])
    assert rows[1 + statistics] == [None] * len(rows[1 + statistics])          # a blank row under them
    assert rows[10][0].startswith("Error = (estimated - measured) / measured")   # row 11: the two notes
    assert rows[11][0].startswith("Colours: ")
    header = 1 + statistics + 1 + 2 + 1 + 1    # header, statistics, blank, notes, blank: row 14
    assert rows[header - 1][:4] == ["Chart section", "Chart metric", "y = x from", "y = x to"]
    assert [row[:2] for row in rows[header:header + 2]] == [["Single GPU", "Runtime (ms)"],
                                                             ["Single GPU", "Memory (GB)"]]
    assert rows[header][2].startswith("=MIN(_xlfn.MINIFS(") and rows[header][3].startswith("=MAX(_xlfn.MAXIFS(")
    # the first chart two rows below the last of its 8 lines
    anchors = [chart.anchor._from.row + 1 for chart in sheet._charts]
    assert anchors[0] == header + 8 + 2


def test_a_metric_no_run_carries_has_no_measured_or_error_column(tmp_path):
    """optimum-benchmark's logs measure latencies, not the kernels a token launches: the report's Kernels per token
    got Measured and Error columns and a Summary row of Matched 0, as if runs had missed it. Estimated alone, and
    the Summary names it below its statistics."""
    data = seed_report()
    kernels = MetricSpec("kernels", "Kernels per token", "", measured=False)
    for section in data.sections:
        section.metrics = METRICS + [kernels]
        for row in section.rows:
            row.estimated["kernels"] = 1234.0
    book = openpyxl.load_workbook(write(tmp_path, data))
    headers = [cell.value for cell in book["Single GPU"][2]]
    # Model, Device, then Measured / Estimated / Error for each of the four, then Estimated alone for the kernels
    assert headers[2 + 4 * 3:2 + 4 * 3 + 2] == ["Estimated", "Run source"]
    assert book["Single GPU"].cell(1, 2 + 4 * 3 + 1).value == "Kernels per token"
    summary = [[cell.value for cell in row] for row in book["Summary"].iter_rows()]
    assert [row[1] for row in summary[1:9]] == ["Runtime", "Memory", "Energy", "Throughput"] * 2
    assert summary[9] == [None] * len(summary[9])
    assert summary[12][0] == ("Not compared (no run compared carries it; the section sheets show its Estimated "
                              "column alone): Single GPU: Kernels per token; Multi GPU: Kernels per token.")
    about = dict(row for row in book["About"].iter_rows(values_only=True) if row[0])
    assert "(Estimated alone for Kernels per token: no run compared carries it)" in about["Sheets"]


def test_a_derived_throughput_says_so_in_its_summary_row(tmp_path):
    """The seed's measured throughput is tokens / measured runtime: its Summary row read as a metric validated
    on its own. A comment on its Metric cell and a line under the statistics say what it is."""
    data = seed_report()
    derived = "each run's tokens / its measured runtime, not measured on its own"
    for section in data.sections:
        section.metrics = METRICS[:3] + [MetricSpec("throughput", "Throughput", "token/s", derived=derived)]
    sheet = openpyxl.load_workbook(write(tmp_path, data))["Summary"]
    assert sheet["B5"].value == "Throughput" and sheet["B9"].value == "Throughput"
    assert sheet["B5"].comment.text == f"Measured throughput is {derived}."
    assert sheet["B2"].comment is None
    assert sheet["A13"].value == f"Throughput: the measured value is {derived}, so its errors follow the runtime's."


def test_inputs_sheet(tmp_path):
    sheet = openpyxl.load_workbook(write(tmp_path, seed_report()))["Inputs"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == ["Block", "Kind", "Cell", "Formula", "Value", "Unit", "Source", "Comment"]
    assert rows[1] == ["rtx_a5000", "hardware", "mem_bw", "768 GB/s", 768, "GB/s", "hardware/ampere.perf:12",
                       "gpus.csv: 768"]
    assert rows[2][7] is None                                  # no comment beside it: an empty cell
    assert [sheet.cell(row, 5).data_type for row in (2, 3, 4)] == ["n", "n", "n"]     # numbers, not text
    assert rows[3][3] == "4 * hidden" and len(rows) == 4
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:H4"


def test_unmatched_sheet_says_none_when_empty(tmp_path):
    sheet = openpyxl.load_workbook(write(tmp_path, seed_report()))["Unmatched"]
    assert sheet["A1"].value == "Kind" and sheet["A2"].value.startswith("none")


def test_no_unmatched_sheet_where_no_runs_were_given(tmp_path):
    data = seed_report()
    data.runs_given = False
    book = openpyxl.load_workbook(write(tmp_path, data))
    assert book.sheetnames == ["Single GPU", "Multi GPU", "Summary", "Inputs", "About"]
    sheets = {row[0]: row[1] for row in book["About"].iter_rows(values_only=True)}["Sheets"]
    assert sheets.endswith("; Summary (says there are no runs to compare); Inputs (every spec cell used); About.")
    data.runs_given = True
    sheets = {row[0]: row[1] for row in openpyxl.load_workbook(write(tmp_path, data))["About"].iter_rows(
        values_only=True)}["Sheets"]
    assert sheets.endswith("; Inputs (every spec cell used); Unmatched (runs and estimates that found no partner); "
                           "About.")


def test_unmatched_sheet_lists_items(tmp_path):
    data = seed_report()
    data.unmatched = [Unmatched("run without estimate", "facebook/opt-13b on NVIDIA RTX A5000",
                                "data/runs.csv:row 14"),
                      Unmatched("unusable row", "runtime [ms] is 'n/a'")]
    sheet = openpyxl.load_workbook(write(tmp_path, data))["Unmatched"]
    assert [[c.value for c in row] for row in sheet.iter_rows(min_row=2)] == [
        ["run without estimate", "facebook/opt-13b on NVIDIA RTX A5000", "data/runs.csv:row 14"],
        ["unusable row", "runtime [ms] is 'n/a'", None]]
    assert sheet.auto_filter.ref == "A1:C3"


def test_about_sheet(tmp_path):
    sheet = openpyxl.load_workbook(write(tmp_path, seed_report("estimated")))["About"]
    about = {row[0].value: row[1].value for row in sheet.iter_rows()}
    assert about["Report"] == "seed_benchmark"
    assert about["Error"].startswith("Error = (estimated - measured) / estimated")
    assert about["Note"] == "Energy estimated as TDP x runtime / tokens (230 W)."


# ---- text stays text, numbers stay numbers -------------------------------------------------------------------

HOSTILE = ["=cmd|' /C calc'!A0", "+1", "-x", "@SUM(1)", "=1+1"]


def test_text_that_looks_like_a_formula_stays_text(tmp_path):
    data = seed_report()
    for row, name in zip(data.sections[0].rows, HOSTILE):
        row.identity["Model"] = name
    data.sections[0].rows[0].run_source = "=HYPERLINK(\"http://x\")"
    data.inputs.append(InputCell("=b", "+k", "-c", "=4 * hidden", "@v", "=u", "-s", "=SUM(A1) from a comment"))
    data.unmatched = [Unmatched("=kind", "+desc", "@src")]
    data.notes = ["=SUM(A1)"]
    data.report_name = "=report"
    path = write(tmp_path, data)
    book = openpyxl.load_workbook(path)
    sheet = book["Single GPU"]
    for row_number, name in enumerate(HOSTILE, start=3):
        cell = sheet.cell(row_number, 1)
        assert (cell.value, cell.data_type) == (name, "s")
        assert cell.quotePrefix        # Excel keeps it text even when someone edits the cell
    assert (sheet["O3"].value, sheet["O3"].data_type) == ("=HYPERLINK(\"http://x\")", "s")
    assert [(c.value, c.data_type) for c in book["Inputs"][5]] == [
        (text, "s") for text in ("=b", "+k", "-c", "=4 * hidden", "@v", "=u", "-s", "=SUM(A1) from a comment")]
    assert [c.value for c in book["Unmatched"][2]] == ["=kind", "+desc", "@src"]
    about = {row[0].value: row[1] for row in book["About"].iter_rows()}
    assert (about["Report"].value, about["Report"].data_type) == ("=report", "s")
    assert (about["Note"].value, about["Note"].data_type) == ("=SUM(A1)", "s")
    # no formula element anywhere but in the Error, Summary and chart helper cells
    with zipfile.ZipFile(path) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "calc" not in "".join(re.findall(r"<f>(.*?)</f>", sheet_xml))
    # and the formula engine sees text, not something to compute
    cells = evaluate(path)
    assert cells[("SINGLE GPU", "A3")] == "=cmd|' /C calc'!A0"
    assert cells[("SINGLE GPU", "A7")] == "=1+1"


def test_numbers_stay_numbers(tmp_path):
    data = seed_report()
    for row in data.sections[0].rows:
        row.identity["GPUs"] = 1
    data.sections[0].id_columns.append("GPUs")
    numpy = pytest.importorskip("numpy")
    data.sections[0].rows[1].identity["GPUs"] = numpy.int64(1)          # what the evaluator hands over
    data.sections[0].rows[1].measured["runtime"] = numpy.float64(3275.30)
    data.sections[0].rows[1].estimated["runtime"] = numpy.float32(3300.85)
    sheet = openpyxl.load_workbook(write(tmp_path, data))["Single GPU"]
    assert (sheet["C3"].value, sheet["C3"].data_type) == (1, "n")
    assert (sheet["D3"].value, sheet["D3"].data_type) == (693.77, "n")
    assert (sheet["C4"].value, sheet["D4"].value) == (1, 3275.30)
    assert sheet["E4"].value == pytest.approx(3300.85, rel=1e-6)


def test_characters_xml_cannot_hold_are_replaced(tmp_path):
    data = seed_report()
    data.sections[0].rows[0].identity["Model"] = "bad\x00name\x1b"
    sheet = openpyxl.load_workbook(write(tmp_path, data))["Single GPU"]
    assert sheet["A3"].value == "bad\ufffdname\ufffd"


# ---- sheet names, layout helpers -----------------------------------------------------------------------------

def test_sheet_titles_are_made_safe_and_unique():
    assert sheet_titles(["A/B: [x]*?", "Summary", "summary", "x" * 40, "x" * 40, "'quoted'", ""],
                        reserved=["Summary"]) == [
        "A-B- -x---", "Summary (2)", "summary (3)", "x" * 31, "x" * 27 + " (2)", "quoted", "Section"]


def test_section_named_like_a_fixed_sheet(tmp_path):
    data = seed_report()
    data.sections[0].title = "Summary"
    book = openpyxl.load_workbook(write(tmp_path, data))
    assert book.sheetnames[:3] == ["Summary (2)", "Multi GPU", "Summary"]
    assert "'Summary (2)'!$E$3:$E$8" in book["Summary"]["E2"].value


def test_apostrophe_in_a_section_title(tmp_path):
    data = seed_report()
    data.sections[0].title = "Bob's GPUs"
    path = write(tmp_path, data)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[0] == "Bob\u2019s GPUs"
    assert book["Summary"]._charts[0].series[0].xVal.numRef.f == "'Bob\u2019s GPUs'!$C$3:$C$8"
    assert evaluate(path)[("SUMMARY", "E2")] == 6


def test_every_part_is_well_formed_xml(tmp_path):
    data = seed_report()
    data.sections[0].rows[0].identity["Model"] = "<b>&amp; \"quoted\" 'x' </b> "
    path = write(tmp_path, data)
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.endswith((".xml", ".rels")):
                ElementTree.fromstring(archive.read(name))
    assert openpyxl.load_workbook(path)["Single GPU"]["A3"].value == "<b>&amp; \"quoted\" 'x' </b> "


def test_only_the_workbook_module_imports_openpyxl():
    code = ("import sys, perfdsl.comparison, perfdsl.workbook_layout; "
            "assert 'openpyxl' not in sys.modules, 'openpyxl imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_layout_helpers():
    assert [column_letter(n) for n in (1, 26, 27, 52, 703)] == ["A", "Z", "AA", "AZ", "AAA"]
    assert number_format_for([693.77, 3275.3]) == "0.00"
    assert number_format_for([0.010, 0.046, 0.002]) == "0.00000"
    assert number_format_for([0.0004]) == "0.000000"
    assert number_format_for([3e-9]) == "0.00E+00"
    assert number_format_for([2.5e9]) == "#,##0"
    assert number_format_for([None, float("nan")]) == "0.00"
    layout = plan_section(seed_report().sections[0], "Single GPU")
    assert error_formula(layout.metrics[1], 7, "estimated") == '=IF(OR(F7="",G7="",G7=0),"",(G7-F7)/G7)'


def test_empty_section(tmp_path):
    data = seed_report()
    data.sections[1].rows = []
    book = openpyxl.load_workbook(write(tmp_path, data))
    assert book["Multi GPU"].auto_filter.ref == "A2:N2"
    assert book["Summary"]["E6"].value == 0


# ---- progress ------------------------------------------------------------------------------------------------

def test_progress_is_reported_every_thousand_rows(tmp_path):
    data = seed_report()
    template = data.sections[0].rows[0]
    data.sections[0].rows = [ComparisonRow(dict(template.identity), dict(template.estimated),
                                           dict(template.measured)) for _ in range(2500)]
    calls = []
    write(tmp_path, data, progress=lambda done, total: calls.append((done, total)))
    total = 2500 + 6 + 3          # section rows, then Inputs rows
    assert calls == [(0, total), (1000, total), (2000, total), (total, total)]


# ---- atomic writes -------------------------------------------------------------------------------------------

def failing_rows(*args, **kwargs):
    yield '<row r="3"><c r="A3" t="inlineStr"><is><t>half</t></is></c></row>'
    raise RuntimeError("disk on fire")


def test_failure_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "seed.xlsx"
    target.write_bytes(b"the previous report")
    monkeypatch.setattr(workbook_module, "section_rows_xml", failing_rows)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_workbook(seed_report(), target)
    assert target.read_bytes() == b"the previous report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seed.xlsx"]


def test_failure_leaves_no_file_at_all(tmp_path, monkeypatch):
    monkeypatch.setattr(workbook_module, "section_rows_xml", failing_rows)
    with pytest.raises(RuntimeError):
        write_workbook(seed_report(), tmp_path / "seed.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_interrupted_write_cleans_up(tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
        yield
    monkeypatch.setattr(workbook_module, "section_rows_xml", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_workbook(seed_report(), tmp_path / "seed.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_rewrite_replaces_the_file(tmp_path):
    target = tmp_path / "seed.xlsx"
    target.write_bytes(b"old")
    assert write_workbook(seed_report(), target) == target
    assert openpyxl.load_workbook(target).sheetnames[0] == "Single GPU"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seed.xlsx"]


# ---- refusals ------------------------------------------------------------------------------------------------

def refusal(tmp_path, target, **kwargs) -> UsageError:
    with pytest.raises(UsageError) as caught:
        write_workbook(seed_report(), target, **kwargs)
    assert caught.value.exit_status == EXIT_USAGE_ERROR
    return caught.value


def test_refuses_to_overwrite_an_input(tmp_path):
    runs = tmp_path / "runs.xlsx"
    runs.write_bytes(b"measured runs")
    (tmp_path / "sub").mkdir()
    err = refusal(tmp_path, tmp_path / "sub" / ".." / "runs.xlsx", protected_inputs=[runs])
    assert err.diagnostics[0].code == "output-is-input"
    assert "is an input of this report" in str(err)
    assert runs.read_bytes() == b"measured runs"


def test_refuses_an_input_reached_through_a_link(tmp_path):
    spec = tmp_path / "report.xlsx"
    spec.write_bytes(b"spec")
    link = tmp_path / "link.xlsx"
    link.symlink_to(spec)
    err = refusal(tmp_path, link, protected_inputs=[spec])
    assert err.diagnostics[0].code == "output-is-input"


def test_refuses_a_name_without_xlsx(tmp_path):
    err = refusal(tmp_path, tmp_path / "seed.csv")
    assert err.diagnostics[0].code == "bad-output"
    assert str(err) == (f"error[bad-output]: cannot write a workbook to '{tmp_path / 'seed.csv'}': "
                        f"the name must end in .xlsx\n  = help: try '{tmp_path / 'seed.xlsx'}'")
    assert list(tmp_path.iterdir()) == []


def test_refuses_a_missing_directory(tmp_path):
    err = refusal(tmp_path, tmp_path / "out" / "seed.xlsx")
    assert err.diagnostics[0].code == "bad-output"
    assert "does not exist" in str(err)
    assert list(tmp_path.iterdir()) == []


def test_refuses_an_unknown_error_convention(tmp_path):
    data = seed_report()
    data.error_convention = "relative"
    with pytest.raises(UsageError) as caught:
        write_workbook(data, tmp_path / "seed.xlsx")
    assert caught.value.diagnostics[0].code == "bad-error-convention"
    assert caught.value.render() == (
        "error[bad-error-convention]: unknown error convention 'relative'\n"
        "  = help: use 'measured' for (estimated - measured) / measured or 'estimated' for "
        "(estimated - measured) / estimated")


# ---- readable charts and text that fits --------------------------------------------------------------------

from perfdsl.workbook_layout import ChartScale, chart_scale, row_height, wrapped_lines  # noqa: E402


@pytest.mark.parametrize("values, scale", [
    # One point (693.77 ms measured, 695.12 estimated): from zero, so a 0.2% error does not fill the chart; the top
    # is the next half step (50 ms) above 1.05 x 695.12 = 729.9.
    ([693.77, 695.12], ChartScale(False, 0.0, 750.0, "#,##0")),
    # 121 ms to 3275 ms: more than a decade, powers of ten around it on a log axis.
    ([121.46, 3275.30, 121.40, 3210.17], ChartScale(True, 100.0, 10_000.0, "General")),
    # Energy 0.0017 to 0.046 J/token: log, 0.001 to 0.1.
    ([0.002, 0.046, 0.0017], ChartScale(True, 0.001, 0.1, "General")),
    # Memory 5.5 to 15.5 GiB: linear from 0 to the next half step above 1.05 x the largest (16.25 -> 20).
    ([5.53, 15.48], ChartScale(False, 0.0, 20.0, "#,##0")),
    # Small linear values get decimals in the ticks: 0.3 to 0.5 -> ends 0 .. 0.55, ticks a tenth of the top.
    ([0.3, 0.5], ChartScale(False, 0.0, 0.55, "0.00")),
    ([None, float("nan")], None),
])
def test_chart_scale(values, scale):
    assert chart_scale(values) == scale


def test_row_height_gives_wrapped_text_its_lines():
    # 110 characters wide holds 110 x 1.1 - 2 = 119 characters a line: 120 characters take two lines.
    assert wrapped_lines("x" * 119, 110) == 1 and wrapped_lines("x" * 120, 110) == 2
    assert row_height([("x" * 240, 110), ("short", 12)]) == 3 * 15.0


def test_about_rows_are_as_tall_as_their_wrapped_text(tmp_path):
    data = seed_report("measured")
    data.notes = ["n" * 300]
    sheet = openpyxl.load_workbook(write(tmp_path, data))["About"]
    row = next(r[0].row for r in sheet.iter_rows() if r[1].value == "n" * 300)
    assert sheet.row_dimensions[row].height == 3 * 15.0          # 300 / 119 characters a line -> 3 lines


def test_pictures_go_on_a_plots_sheet_one_a_page(tmp_path):
    import io

    from PIL import Image

    from perfdsl.comparison import Picture

    def png(width, height):
        buffer = io.BytesIO()
        Image.new("RGB", (width, height), "white").save(buffer, format="PNG")
        return buffer.getvalue()

    data = seed_report("measured")
    data.pictures = [Picture("first", png(1200, 840), 1200, 840), Picture("second", png(600, 300), 600, 300)]
    path = write(tmp_path, data)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Single GPU", "Multi GPU", "Summary", "Plots", "Inputs", "Unmatched", "About"]
    sheet = book["Plots"]
    # Each picture 900 pixels wide on the sheet: the first 900 x 630, 32 rows (630 / 20 px) below its title row,
    # so the second title sits on row 1 + 2 + 32 = 35, after a page break.
    assert sheet["A1"].value == "first" and sheet["A35"].value == "second"
    assert [b.id for b in sheet.row_breaks.brk] == [34]
    with zipfile.ZipFile(path) as archive:
        drawings = "".join(archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/drawings/d"))
    emu = 9525                                        # per pixel at 96 dpi
    anchors = [a for a in re.findall(r"<oneCellAnchor>.*?</oneCellAnchor>", drawings) if "<pic>" in a]
    sizes = [tuple(int(v) // emu for v in re.search(r'<ext cx="(\d+)" cy="(\d+)"', a).groups()) for a in anchors]
    assert sizes == [(900, 630), (900, 450)]
    about = {row[0].value: row[1].value for row in book["About"].iter_rows()}
    assert "; Plots (rooflines and the charts a spreadsheet cannot draw, as pictures); Inputs" in about["Sheets"]


def test_a_report_without_sections_names_itself_once_above_its_roofline(tmp_path):
    """published_trtllm has no `section`: its one section is titled with the report's name, which the roofline's
    title starts with already ("published_trtllm: published_trtllm: roofline ..." before)."""
    from perfdsl.cli import main

    out = tmp_path / "trtllm.xlsx"
    assert main(["eval", str(Path(__file__).resolve().parent.parent / "reports" / "published_trtllm.perf"),
                 "-o", str(out)]) == 0
    titles = [row[0] for row in openpyxl.load_workbook(out)["Plots"].iter_rows(values_only=True) if row[0]]
    assert titles == ["published_trtllm: roofline on NVIDIA H100 80GB HBM3 at model=gptj_6b, hardware=h100_sxm5, "
                      "tp=1, batch=1, seq_len=128, output_len=1, kv_cache_dtype=auto, precision=fp8"]


# A GPU whose datasheet lacks its FP8 peak (a declared input) and whose FP16 peak is derived from it, as
# hardware/ada.perf's rtx_5000_ada: the estimates need neither, the roofline needs a peak it cannot have.
PEAK_LEFT_OPEN = """
hardware g {
    peak_fp8: FLOP/s
    peak_fp16 = peak_fp8 / 2
    mem_bw = 1 TB/s
}
workload w { sweep n_gpus = [1, 2] }
costmodel decode {
    flops = 2 GFLOP
    bytes = 1 GB
    time = bytes / hardware.mem_bw
}
report r {
    hardware = g
    workload = w
    section = if(workload.n_gpus > 1, "Multi GPU", "Single GPU")
    show decode.time in ms
}
"""


def test_a_roofline_the_gpu_cannot_give_is_left_out_of_every_section_and_the_workbook_written(tmp_path, capsys):
    """The roofline of the first section found no compute ceiling (bad-plot, left out), but the second one's reached
    hardware.peak_fp16 and raised missing-input for peak_fp8: the checker says a declared input is missing the first
    time it types a cell only, and `eval -o FILE.xlsx` failed (exit 1) where CSV wrote the rows. Found by an output
    consistency audit on reports/published_llamacpp.perf's rtx_5000_ada report."""
    from perfdsl.cli import main
    from perfdsl.program import load
    from perfdsl.roofline import roofline_view

    spec = tmp_path / "open_peak.perf"
    spec.write_text(PEAK_LEFT_OPEN)
    out = tmp_path / "open_peak.xlsx"
    assert main(["eval", str(spec), "-q", "-o", str(out)]) == 0
    book = openpyxl.load_workbook(out)
    assert book.sheetnames[:2] == ["Single GPU", "Multi GPU"] and "Plots" not in book.sheetnames
    # 1 GB / (1 TB/s) = 1 ms on each row
    assert [row[1] for row in book["Multi GPU"].iter_rows(min_row=3, values_only=True)] == [1e9 / 1e12 * 1e3]
    program = load(spec)
    for _ in range(2):              # the same error each time, not missing-input the second time
        with pytest.raises(UsageError, match="no compute ceiling"):
            roofline_view(program, "r", {"n_gpus": "2"})


def test_each_row_note_says_which_rows_it_is_of():
    from perfdsl.workbook_setup import row_note_lines

    def row(model, device, note):
        return ComparisonRow({"Model": model, "Device": device}, {}, {}, note=note)

    section = Section("s", ["Model", "Device"], METRICS, [
        row("a", "g1", "n1"), row("b", "g1", "n1"), row("a", "g2", "n2"), row("b", "g2", None)])
    assert row_note_lines(section) == ["2 rows (Device g1): n1", "1 row (Model a; Device g2): n2"]
    # a note of every row; rows that no one column singles out (a x g1 and b x g2) are counted
    section.rows = [row("a", "g1", "n"), row("b", "g2", "n")]
    assert row_note_lines(section) == ["Every row: n"]
    section.rows = [row("a", "g1", "n"), row("b", "g2", "n"), row("a", "g2", None), row("b", "g1", None)]
    assert row_note_lines(section) == ["2 rows: n"]
