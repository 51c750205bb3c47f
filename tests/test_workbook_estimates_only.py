"""The two layouts of a report's workbook (dsl/workbook_layout.py `plan_section`): a report compared with runs (its
`measured` cell, --measured or --add-measured name logs) has Measured, Estimated and Error per metric; one compared
with none has each metric's Estimated column alone (with Estimated low / high where a calibration gives a spread).

Found by a newcomer: the capacity planners' workbooks (reports/capacity_questions.perf, serving ...) had Measured and
Error columns empty on every row, two thirds of the sheet. A report that names logs keeps the comparison layout even
where no run matched; `--live` works in both layouts and no formula reads a column the sheet does not have.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import openpyxl
import pytest

import perfdsl
from perfdsl.cli import main
from perfdsl.workbook import SUMMARY_HEADERS
from perfdsl.workbook_layout import HOW_TO_COMPARE, NOTE_WIDTH, NO_RUNS

from test_workbook_live import cached_against_engine, recalculate

REPO = Path(__file__).resolve().parent.parent
QUESTIONS = REPO / "reports" / "capacity_questions.perf"
EXAMPLE = REPO / "reports" / "example.perf"
SEED = REPO / "reports" / "seed_benchmark.perf"
SEED_RUNS = REPO / "data" / "seed_runs_a5000.csv"
CAPACITY_METRICS = ["TTFT (ms)", "TPOT (ms)", "E2E (s)", "Memory (GiB)", "Energy per token (J/token)",
                    "Total token throughput (token/s)", "GPU time per token (s/token)"]


def eval_workbook(folder: Path, name: str, *argv: str) -> openpyxl.Workbook:
    """`perfdsl eval ARGV -o folder/name.xlsx` from the repository root, as a user runs it; the workbook read back."""
    out = folder / f"{name}.xlsx"
    assert main(["eval", *argv, "-o", str(out)]) == 0
    return openpyxl.load_workbook(out)


@pytest.fixture(scope="module")
def cheapest(tmp_path_factory):
    """The capacity question `cheapest_setup` (per model, the setup of least GPU time per token that meets the
    latency targets: 30 rows, 4 without an answer), as capacity planners write it: no runs."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(REPO)
        return eval_workbook(tmp_path_factory.mktemp("cheapest"), "cheapest", "reports/capacity_questions.perf",
                             "--report", "cheapest_setup")


def test_a_capacity_workbook_has_one_estimated_column_per_metric(cheapest):
    assert cheapest.sheetnames == ["cheapest_setup", "Setup", "Summary", "Plots", "Inputs", "About"]
    sheet = cheapest["cheapest_setup"]
    groups, heads = ([cell.value for cell in row] for row in sheet.iter_rows(min_row=1, max_row=2))
    assert groups == [None] * 5 + CAPACITY_METRICS + [None]
    assert heads == ["model", "hardware", "batch", "tp", "fits"] + ["Estimated"] * 7 + ["Note"]
    # A one-column group is a plain header cell: nothing merged; row 1 is two lines tall (30) where a header is
    # wider than its 30-character column ("Total token throughput (token/s)", 32), so that it wraps in view.
    assert sheet.merged_cells.ranges == set() and sheet.row_dimensions[1].height == 30
    assert sheet.freeze_panes == "F3"                        # the five id columns stay in view
    assert sheet.auto_filter.ref == "A2:M32"                 # headers in row 2, 30 rows below: 2 + 30
    assert sheet.conditional_formatting._cf_rules == {}      # no Error cells to colour
    # Each Estimated column is as wide as its group header plus 2, at least 12 and at most 30 characters: the
    # header "GPU time per token (s/token)" (28 characters) reads on one line over its numbers.
    widths = [sheet.column_dimensions[letter].width for letter in "FGHIJKL"]
    assert widths == [12, 12, 12, len("Memory (GiB)") + 2, len("Energy per token (J/token)") + 2,
                      30, 30]                  # "Total token throughput (token/s)" is 32 characters: at most 30
    assert sheet.column_dimensions["M"].width == NOTE_WIDTH
    row = [cell for cell in sheet[3]]
    assert [cell.data_type for cell in row[5:12]] == ["n"] * 7                  # numbers, every one of them
    # three significant digits on each column's smallest value: E2E 0.860 s, energy 0.00262 J/token; GPU time per
    # token 1.31E-05 .. 1.30E-03 s/token, scientific (0.0000131 would take seven decimals): test_workbook_number_formats
    assert [cell.number_format for cell in row[5:12]] == ["0.00", "0.00", "0.000", "0.00", "0.00000", "0.00",
                                                          "0.00E+00"]
    assert [cell.border.left.style for cell in row[4:13]] == [None] + ["thin"] * 7 + [None]   # a line per group
    notes = [r[12] for r in sheet.iter_rows(min_row=3, values_only=True) if r[12]]
    assert len(notes) == 4 and all(note.startswith("No answer: no sweep point of this group meets") for note in notes)


def test_the_summary_says_there_are_no_runs_to_compare_and_how_to_name_some(cheapest):
    summary = cheapest["Summary"]
    assert [row for row in summary.iter_rows(values_only=True)] == [("No runs to compare",), (NO_RUNS,),
                                                                     (HOW_TO_COMPARE,)]
    assert NO_RUNS == ("No runs were compared: no run logs were given (a `measured` cell in the report, "
                       "--measured or --add-measured), so each metric shows its Estimated column alone (with "
                       "Estimated low / high where a calibration gives a spread): no Measured or Error column, no "
                       "error statistics or charts.")
    assert HOW_TO_COMPARE == ("For the comparison layout (Measured, Estimated and a live Error per metric; error "
                              "statistics and charts on the Summary sheet), name runs: `measured = \"runs.csv\"` in "
                              "the report, or perfdsl eval REPORT --add-measured runs.csv -o FILE.xlsx.")
    assert summary._charts == []
    about = dict(cheapest["About"].iter_rows(values_only=True))
    assert about["Layout"] == f"Estimates only. {NO_RUNS} {HOW_TO_COMPARE}"
    assert "Error" not in about and "Colours" not in about            # no Error cells to explain
    assert about["Sheets"].startswith("one per section (Estimated per metric, with Estimated low / high where a "
                                      "calibration gives a spread, and a Note where a row's estimate is known to "
                                      "miss); Setup (")
    assert "; Summary (says there are no runs to compare); " in about["Sheets"]


def test_a_calibrations_spread_stays_beside_the_estimate(tmp_path):
    """The seed report through the API with no comparison (`export_workbook(result, None)`): runtime keeps its
    Estimated low / high under one merged header; memory, energy and throughput (no spread) one column each."""
    result = perfdsl.load([SEED]).evaluate()
    sheet = openpyxl.load_workbook(perfdsl.export_workbook(result, None, tmp_path / "seed.xlsx"))["Single GPU"]
    groups, heads = ([cell.value for cell in row] for row in sheet.iter_rows(min_row=1, max_row=2))
    assert groups == [None, None, None, "Runtime (ms)", None, None, "Memory (GiB)", "Energy per token (J/token)",
                      "Throughput (token/s)", None]
    assert heads == ["Model", "Device", "n_gpus", "Estimated", "Estimated low", "Estimated high", "Estimated",
                     "Estimated", "Estimated", "Note"]
    assert [str(r) for r in sheet.merged_cells.ranges] == ["D1:F1"]
    assert sheet.freeze_panes == "D3" and sheet.auto_filter.ref == "A2:J14"
    low, estimate, high = (sheet.cell(3, column).value for column in (5, 4, 6))
    assert low < estimate < high
    assert [sheet.cell(3, column).border.left.style for column in range(4, 10)] == \
        ["thin", None, None, "thin", "thin", "thin"]


# ---- no formula reads a column that is not there -----------------------------------------------------------

# A cell or range reference, maybe on another sheet ('Single GPU'!$H$3:$H$8, Calculation!E6, F3); never part of a
# name (rtx_a6000.mem_bw) or of a number (1E-06): string literals are taken out first.
_REFERENCE = re.compile(r"(?<![\w.$'])(?:'((?:[^']|'')+)'!|([A-Za-z_][\w.]*)!)?"
                        r"\$?([A-Z]{1,3})\$?([0-9]+)(?::\$?([A-Z]{1,3})\$?([0-9]+))?(?![\w.(!])")
_TEXT = re.compile(r'"(?:[^"]|"")*"')


def references(book: openpyxl.Workbook) -> list[tuple[str, str, str, str, int, int]]:
    """Every cell reference of every formula: (sheet of the formula, its cell, sheet read, column read, first row,
    last row)."""
    found = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type != "f":
                    continue
                for match in _REFERENCE.finditer(_TEXT.sub('""', cell.value)):
                    quoted, plain, column, first, last_column, last = match.groups()
                    read = (quoted or "").replace("''", "'") or plain or sheet.title
                    assert last_column in (None, column), f"{sheet.title}!{cell.coordinate}: {cell.value}"
                    found.append((sheet.title, cell.coordinate, read, column, int(first), int(last or first)))
    return found


def missing_columns(book: openpyxl.Workbook, sections: list[str]) -> list[str]:
    """The formulas that read a column of a section sheet that has no header in row 2 or no value in the rows read,
    or a cell of another sheet that holds nothing: one line per formula and range read, sorted."""
    wrong = []
    for sheet, cell, read, column, first, last in references(book):
        target = book[read]
        if read in sections:
            values = [target[f"{column}{row}"].value for row in range(first, last + 1)]
            if target[f"{column}2"].value is None or all(value is None for value in values):
                wrong.append(f"{sheet}!{cell} reads {read}!{column}{first}:{column}{last}")
        elif target[f"{column}{first}"].value is None:
            wrong.append(f"{sheet}!{cell} reads the empty cell {read}!{column}{first}")
    return sorted(set(wrong))


def test_no_formula_reads_a_column_the_estimates_only_layout_left_out(cheapest, tmp_path):
    assert [ref for ref in references(cheapest)] == []          # estimates only, not live: no formula at all
    live = eval_workbook(tmp_path, "live", str(EXAMPLE), "--live", "--set", "model=opt_1_3b",
                         "--set", "hardware=rtx_a5000", "--set", "batch=1")
    reads = references(live)
    assert {(sheet, read) for sheet, _, read, *_ in reads} >= {("example", "Calculation"),
                                                               ("Calculation", "Calculation")}
    assert missing_columns(live, ["example"]) == []
    # Against the comparison layout of the same report, given runs (--add-measured: none matches a point of it,
    # the Unmatched sheet says why): the same check finds each Error formula's read of its empty Measured cell.
    compared = eval_workbook(tmp_path, "compared", str(EXAMPLE), "--live", "--set", "model=opt_1_3b",
                             "--set", "hardware=rtx_a5000", "--set", "batch=1", "--add-measured", str(SEED_RUNS))
    wrong = missing_columns(compared, ["example"])
    # (runtime only: no run can carry prefill.flops, which has its Estimated column alone)
    assert len(wrong) == 7 and all(re.fullmatch(r"example!G\d+ reads example!E\d+:E\d+", line) for line in wrong)
    # The seed report, compared with its runs: every column a formula reads on a section sheet has its header.
    seed = eval_workbook(tmp_path, "seed", str(SEED))
    sections = ["Single GPU", "Multi GPU"]
    read = {(sheet, column) for _, _, sheet, column, *_ in references(seed) if sheet in sections}
    # The Summary's worst-row labels read the 3 id columns; the Errors, Summary and charts read Measured, Estimated
    # and Error of the 4 metrics (not the spread's low / high): 15 columns a sheet, each under its header.
    assert len(read) == 2 * (3 + 4 * 3)
    assert {seed[sheet][f"{column}2"].value for sheet, column in read} == {
        "Model", "Device", "n_gpus", "Measured", "Estimated", "Error"}


# ---- runs named: the comparison layout -----------------------------------------------------------------------

# The seed's runs give a runtime (read for prefill.runtime, a naming slip warned about) and no FLOP count: the
# FLOPs, which no run can carry, have their Estimated column alone.
EXAMPLE_COMPARED = ["model", "hardware", "batch", "seq"] + ["Measured", "Estimated", "Error"] + ["Estimated"]


def test_add_measured_on_a_report_without_runs_gives_the_comparison_layout(tmp_path):
    """reports/example.perf names no runs; given the seed's A5000 log, which matches none of its points (its runs
    are ambiguous or name models the report does not sweep), it is compared all the same: Measured stays empty and
    the Unmatched sheet says why of each run."""
    book = eval_workbook(tmp_path, "example", str(EXAMPLE), "--add-measured", str(SEED_RUNS))
    assert book.sheetnames == ["example", "Setup", "Summary", "Plots", "Inputs", "Unmatched", "About"]
    sheet = book["example"]
    groups, heads = ([cell.value for cell in row] for row in sheet.iter_rows(min_row=1, max_row=2))
    assert groups == [None] * 4 + ["Prefill runtime (ms)", None, None, "Prefill FLOPs (TFLOP)"]
    assert heads == EXAMPLE_COMPARED
    assert sorted(str(r) for r in sheet.merged_cells.ranges) == ["E1:G1"]
    assert sheet["G3"].value == '=IF(OR(E3="",F3="",E3=0),"",(F3-E3)/E3)'
    assert [cell.value for cell in book["Summary"][1]] == list(SUMMARY_HEADERS)
    kinds = {row[0] for row in book["Unmatched"].iter_rows(min_row=2, values_only=True)}
    assert kinds == {"ambiguous match", "run without estimate", "estimate without run"}
    assert "Layout" not in dict(book["About"].iter_rows(values_only=True))


def test_a_report_that_names_its_runs_keeps_the_comparison_layout_where_none_matched(tmp_path):
    """The report's own `measured` cell, matching no point: the user expects the comparison."""
    text = EXAMPLE.read_text().replace("    show prefill.runtime in ms",
                                       '    measured = "runs.csv"\n    show prefill.runtime in ms')
    assert 'measured = "runs.csv"' in text
    (tmp_path / "example.perf").write_text(text)
    shutil.copy(SEED_RUNS, tmp_path / "runs.csv")
    book = eval_workbook(tmp_path, "named", str(tmp_path / "example.perf"))
    heads = [cell.value for cell in book["example"][2]]
    assert heads == EXAMPLE_COMPARED
    assert all(row[4] is None for row in book["example"].iter_rows(min_row=3, values_only=True))    # no run matched
    assert "Unmatched" in book.sheetnames


# ---- --live in the estimates-only layout ---------------------------------------------------------------------

def test_a_live_workbook_without_runs_recalculates_to_its_cached_values(tmp_path):
    """reports/example.perf for OPT-1.3B on the A5000 at batch 1 (7 points), written live with no runs: each
    Estimated cell reads its point's shown row of the Calculation sheet, and every formula of the file carries the
    value the `formulas` engine recalculates; an edited bandwidth moves the estimates."""
    out = tmp_path / "live.xlsx"
    assert main(["eval", str(EXAMPLE), "--live", "--set", "model=opt_1_3b", "--set", "hardware=rtx_a5000",
                 "--set", "batch=1", "-o", str(out)]) == 0
    book = openpyxl.load_workbook(out)
    sheet = book["example"]
    assert [cell.value for cell in sheet[2]] == ["model", "hardware", "batch", "seq", "Estimated", "Estimated"]
    assert (sheet["E3"].value, sheet["F3"].value) == ("=Calculation!E6", "=Calculation!E7")
    cells = recalculate(out)
    count, worst, wrong = cached_against_engine(out, cells)
    assert wrong == [] and worst <= 1e-9 and count > 7 * 2            # at least the 14 estimates
    about = dict(book["About"].iter_rows(values_only=True))
    live_note = next(text for text in about.values() if text and text.startswith("Live:"))
    assert "and every estimate follows." in live_note and "Error" not in live_note
    # OPT-1.3B's prefill at batch 1 and 128 tokens is bound by its weights' bytes / memory bandwidth (2.63 GB /
    # 768 GB/s = 3.43 ms against 2 x 1.32 GFLOP x 128 / 111.1 TFLOP/s = 3.03 ms): half the bandwidth, twice the time.
    bandwidth = next(row[0].row for row in book["Inputs"].iter_rows(min_row=2)
                     if row[0].value == "rtx_a5000.mem_bw")
    slower = recalculate(out, {("Inputs", f"C{bandwidth}"): 768 / 2})
    assert slower[("EXAMPLE", "E3")] == pytest.approx(cells[("EXAMPLE", "E3")] * 2, rel=1e-9)
