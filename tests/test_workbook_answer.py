"""The workbook of a question answered chunk by chunk (dsl/workbook_answer.py): `perfdsl eval REPORT -o out.xlsx`
where the sweep is evaluated in chunks holds the rows and values of the same question answered by one whole
evaluation, and of the CSV answer of the same run, cell by cell; its About sheet says what the rows are and what
is left out; an answer over the row limit, --live, and rows streamed with no question are refused with exact texts.
(On Dask: tests/test_distributed.py.)"""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest

import perfdsl
from perfdsl import cli
from perfdsl.streaming import question_chunks

REPO = Path(__file__).resolve().parent.parent
QUESTIONS = REPO / "reports" / "capacity_questions.perf"
# cheapest_setup and latency_throughput: 30 models x 13 GPUs x 9 batches x 4 tp; largest_batch: 30 x 13 x 1,024
POINTS = {"cheapest_setup": 30 * 13 * 9 * 4, "latency_throughput": 30 * 13 * 9 * 4, "largest_batch": 30 * 13 * 1024}


def rows_of(sheet) -> list[list]:
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def eval_to(tmp_path: Path, name: str, *argv: str) -> Path:
    out = tmp_path / name
    assert cli.main(["eval", *argv, "-q", "-o", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """Per report: the workbook of one whole evaluation, and the workbook and CSV of the same question answered in
    chunks of at most 3,000 points (--chunk-points), written from the repository root as a user runs them."""
    folder = tmp_path_factory.mktemp("answers")
    out = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(REPO)
        for report in POINTS:
            args = ("reports/capacity_questions.perf", "--report", report)
            out[report] = (eval_to(folder, f"{report}-whole.xlsx", *args),
                           eval_to(folder, f"{report}-chunks.xlsx", *args, "--chunk-points", "3000"),
                           eval_to(folder, f"{report}-chunks.csv", *args, "--chunk-points", "3000"))
    return out


@pytest.mark.parametrize("report", list(POINTS))
def test_a_question_answered_in_chunks_is_the_workbook_of_the_whole_answer(written, report):
    whole_path, chunks_path, _ = written[report]
    whole, chunks = openpyxl.load_workbook(whole_path), openpyxl.load_workbook(chunks_path)
    # Every sheet of the whole workbook but Inputs (every cell's values over the sweep, which chunks never hold)
    assert chunks.sheetnames == [name for name in whole.sheetnames if name != "Inputs"]
    assert "Inputs" in whole.sheetnames
    # The rows, cell by cell (values, headers with units), and the sheet's layout: frozen header, filter, formats
    for name in (report, "Summary", "Plots"):
        assert rows_of(chunks[name]) == rows_of(whole[name])
    sheet, whole_sheet = chunks[report], whole[report]
    assert (sheet.freeze_panes, sheet.auto_filter.ref) == (whole_sheet.freeze_panes, whole_sheet.auto_filter.ref)
    assert [[cell.number_format for cell in row] for row in sheet.iter_rows()] == \
        [[cell.number_format for cell in row] for row in whole_sheet.iter_rows()]
    # Setup: the same lines, the Cost model line too: the same blocks of the same files in the same order (it named
    # them in the chunks' order, "prefill, decode, kv_cache, serving, memory", where the whole one had "prefill,
    # serving, decode, kv_cache, memory": workbook_setup.evaluation_cells orders both)
    assert rows_of(chunks["Setup"]) == rows_of(whole["Setup"])


def test_the_setup_sheet_of_an_answer_in_chunks_is_the_whole_ones_from_python(tmp_path, monkeypatch):
    """As a notebook writes both from one program: evaluate() then answer_in_chunks() and export_workbook() of each.
    The whole one named the cost model's blocks in its evaluator's memo order, which a second evaluation of the
    program changes (its constant cells are kept from the first, and met at their first read): "prefill, serving,
    kv_cache, decode, memory" then, and the chunked one "serving, prefill, decode, kv_cache, memory"."""
    monkeypatch.chdir(REPO)
    program = perfdsl.load("reports/capacity_questions.perf")
    first = program.evaluate("cheapest_setup")
    whole = perfdsl.export_workbook(program.evaluate("cheapest_setup"), None, tmp_path / "whole.xlsx")
    chunked = perfdsl.export_workbook(perfdsl.answer_in_chunks(program, "cheapest_setup", chunk_points=5000), None,
                                      tmp_path / "chunks.xlsx")
    fresh = perfdsl.export_workbook(first, None, tmp_path / "first.xlsx")
    setups = [rows_of(openpyxl.load_workbook(path)["Setup"]) for path in (whole, chunked, fresh)]
    assert setups[0] == setups[1] == setups[2]
    cost_model = dict((row[0], row[1]) for row in setups[0])["Cost model"]
    assert cost_model.startswith("prefill, serving, decode, kv_cache, memory: costmodels/transformer_inference.perf ")


def test_the_about_sheet_says_what_the_rows_are_and_what_is_left_out(written):
    whole_path, chunks_path, _ = written["cheapest_setup"]
    about = dict(rows_of(openpyxl.load_workbook(chunks_path)["About"])[:4])
    notes = [row[1] for row in rows_of(openpyxl.load_workbook(chunks_path)["About"])[4:]]
    whole_about = rows_of(openpyxl.load_workbook(whole_path)["About"])
    program = perfdsl.load(QUESTIONS)
    chunks = len(question_chunks(program, "cheapest_setup", 3000))
    assert chunks > 1
    assert about["Sheets"] == dict(whole_about[:4])["Sheets"].replace("; Inputs (every spec cell used)", "")
    # The whole workbook's notes, then what the rows are and what is not in the workbook; the note on provisional
    # cells (hf_eager reads stack_base's allreduce_latency), read over the whole sweep's points or over the
    # answer's rows, comes last in the merged answer's (test_provisional.py has its text).
    provisional = [note for note in notes if note.startswith("Provisional cells:")]
    assert len(provisional) == 1 and notes[-1] == provisional[0]
    notes = notes[:-1]
    whole_notes = [row[1] for row in whole_about[4:] if not str(row[1]).startswith("Provisional cells:")]
    assert notes == whole_notes + [
        "Rows: the answer to the question `best min gpu_time_per_token per model` over all 14,040 sweep points, "
        f"evaluated in {chunks} chunks, and merged; the rows and values are those of -o FILE.csv of the same run.",
        "Not in this workbook: the Inputs sheet (every spec cell's values over the sweep). An answer merged from "
        "chunks keeps its rows' values, never the whole sweep's cells; a sweep evaluated whole (small enough to "
        "fit, narrowed with --set where it is not, without --chunk-points, --workers or --dask; Program.evaluate "
        "from Python) gets the Inputs sheet."]


def _text(value) -> str:
    """A workbook cell as perfdsl's CSV writes it: floats as repr, flags as true/false, empty as ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


@pytest.mark.parametrize("report", list(POINTS))
def test_the_workbook_of_an_answer_holds_the_values_of_its_csv(written, report):
    _, chunks_path, csv_path = written[report]
    with open(csv_path, newline="") as handle:
        table = list(csv.reader(handle))
    keys, records = table[0], table[1:]
    sheet = rows_of(openpyxl.load_workbook(chunks_path)[report])
    groups, heads, body = sheet[0], sheet[1], sheet[2:]
    # id columns by their CSV key; a metric's Estimated column under its title: "TPOT (ms)" is "tpot [ms]"
    columns = {}
    for at, (group, head) in enumerate(zip(groups, heads)):
        if head in keys:
            columns[head] = at
        elif head == "Estimated":
            title, unit = group.rsplit(" (", 1)
            key = next(k for k in keys if k.endswith(f" [{unit[:-1]}]")
                       and k.split(" [")[0].replace("_", " ").lower() == title.lower())
            columns[key] = at
    assert sorted(columns) == sorted(keys)
    assert len(body) == len(records)
    assert [[_text(row[columns[key]]) for key in keys] for row in body] == records


def test_the_answer_of_a_sweep_too_large_to_evaluate_at_once_is_a_workbook(written, tmp_path, monkeypatch):
    # A whole evaluation allowed 1 MiB of arrays: cheapest_setup's 14,040 points are then chunked for their size
    # alone (no option asks for chunks), in chunks of the question's own plan, of 1 MiB of arrays each.
    for name, value in (("WHOLE_EVALUATION_BYTES", 1 << 20), ("CHUNK_BYTES", 1 << 20), ("MIN_CHUNK_POINTS", 1)):
        monkeypatch.setattr(f"perfdsl.chunks.{name}", value)
    program = perfdsl.load(QUESTIONS)
    assert program.predict_bytes("cheapest_setup") > 1 << 20
    out = eval_to(tmp_path, "cheap.xlsx", str(QUESTIONS), "--report", "cheapest_setup")
    chunks = len(question_chunks(program, "cheapest_setup"))
    assert chunks > 1
    book = openpyxl.load_workbook(out)
    assert rows_of(book["cheapest_setup"]) == rows_of(openpyxl.load_workbook(written["cheapest_setup"][0])
                                                      ["cheapest_setup"])
    assert any(f"sweep points, evaluated in {chunks} chunks, and merged;" in str(row[1])
               for row in rows_of(book["About"])[4:])


def test_an_answer_of_more_groups_than_the_row_limit_is_refused_before_it_is_computed(tmp_path, capsys):
    (tmp_path / "wide.perf").write_text("report r { sweep a = 1 .. 200000; sweep b = 1 .. 2; q = a * b; show q; "
                                        "best max q per a }\n")
    out = tmp_path / "wide.xlsx"
    assert cli.main(["eval", str(tmp_path / "wide.perf"), "--chunk-points", "1000", "-o", str(out)]) == 2
    assert capsys.readouterr().err == (
        "error[workbook-too-large]: a workbook of report 'r' would have 200,000 rows; perfdsl writes at most "
        "100,000 rows to a workbook (a workbook is for people)\n"
        "  = help: narrow the sweep with --set, e.g. --set a=1, to write a workbook\n"
        f"  = help: or write every row with -o {tmp_path}/wide.csv, -o {tmp_path}/wide.jsonl or -o "
        f"{tmp_path}/wide.parquet (the smallest and quickest to write), or ask the report a question (where, best, "
        "largest, smallest, pareto) whose answer fits (a best, largest, smallest or pareto answer of up to 100,000 "
        "rows is a workbook however large the sweep)\n\n"
        "1 error\n")
    assert not out.exists()


def test_a_pareto_front_over_the_row_limit_is_refused_once_answered(tmp_path, capsys, monkeypatch):
    # Every point is on its group's front (x and y grow together, x is minimised and y maximised): 300 x 70 rows
    (tmp_path / "front.perf").write_text("report r { sweep a = 1 .. 300; sweep b = 1 .. 70; x = a * b; "
                                         "y = 2 * a * b + b; show x, y; pareto min x, max y per b }\n")
    monkeypatch.setattr("perfdsl.workbook_layout.XLSX_ROW_LIMIT", 300 * 70 - 1)
    out = tmp_path / "front.xlsx"
    assert cli.main(["eval", str(tmp_path / "front.perf"), "--chunk-points", "1000", "-o", str(out)]) == 2
    assert capsys.readouterr().err.startswith(
        f"error[workbook-too-large]: a workbook of report 'r' would have {300 * 70:,} rows; perfdsl writes at most "
        f"{300 * 70 - 1:,} rows to a workbook (a workbook is for people)\n")
    assert not out.exists()
    monkeypatch.setattr("perfdsl.workbook_layout.XLSX_ROW_LIMIT", 300 * 70)      # at the limit: written
    assert cli.main(["eval", str(tmp_path / "front.perf"), "--chunk-points", "1000", "-q", "-o", str(out)]) == 0
    assert openpyxl.load_workbook(out)["r"].max_row == 2 + 300 * 70


def test_live_with_a_question_in_chunks_is_refused(tmp_path, capsys):
    out = tmp_path / "cheap.xlsx"
    assert cli.main(["eval", str(QUESTIONS), "--report", "cheapest_setup", "--chunk-points", "1000", "--live",
                     "-o", str(out)]) == 2
    assert capsys.readouterr().err == (
        "error[bad-option]: --live writes the cost model as formulas over one whole evaluation, and --chunk-points "
        "1000 evaluates the sweep of report 'cheapest_setup' (14,040 points) in chunks\n"
        "  = help: leave out --live: the workbook then holds the answer's values, or leave out --chunk-points\n\n"
        "1 error\n")
    assert not out.exists()


SPREAD = """costmodel spread { q_low = 0.9; q_high = 1.2 }
report r {
    calibration = spread
    sweep a = 1 .. 300
    sweep b = 1 .. 70
    q = a * b + b / a
    show q
    best max q per b
}
"""


def test_a_calibrations_low_and_high_come_from_the_answers_own_columns(tmp_path):
    (tmp_path / "spread.perf").write_text(SPREAD)
    whole = openpyxl.load_workbook(eval_to(tmp_path, "whole.xlsx", str(tmp_path / "spread.perf")))
    chunks = openpyxl.load_workbook(eval_to(tmp_path, "chunks.xlsx", str(tmp_path / "spread.perf"),
                                            "--chunk-points", "500"))
    assert rows_of(chunks["r"])[:3] == rows_of(whole["r"])[:3] == [
        [None, None, "Q", None, None],
        ["a", "b", "Estimated", "Estimated low", "Estimated high"],
        # b = 1: the best point is a = 300, q = 300 + 1 / 300, low and high 0.9 and 1.2 times it
        [300, 1, 300 + 1 / 300, (300 + 1 / 300) * 0.9, (300 + 1 / 300) * 1.2]]
    assert rows_of(chunks["r"]) == rows_of(whole["r"])
    # The Setup's cost model names the calibration's block, which the estimates' cells do not read
    assert rows_of(chunks["Setup"]) == rows_of(whole["Setup"])
    assert any(row[0] == "Cost model" and row[1].startswith("spread: ") for row in rows_of(chunks["Setup"]))


TWICE = """\
workload wl {
    sweep batch = [1, 2, 4]
    sweep n = [1, 3]
    t = batch * n * 2 s
}
costmodel spread {
    t_low = 0.5
    t_high = 2
}
report r {
    workload = wl
    calibration = spread
    show workload.t in ms as t, workload.t in s as t
    best min t per batch
}
"""


def test_a_cell_shown_in_two_units_is_answered_in_each(tmp_path):
    """The answer's `t [ms]` and `t [s]`, with their low and high, each in its unit, as the CSV has them: at batch 1
    the best is n = 1, t = 1 x 1 x 2 s = 2000 ms and 2 s, low 0.5 and high 2 times that. Before, both groups held
    the second's values, and the ms group no low or high."""
    (tmp_path / "twice.perf").write_text(TWICE)
    whole = openpyxl.load_workbook(eval_to(tmp_path, "whole.xlsx", str(tmp_path / "twice.perf")))
    chunks = openpyxl.load_workbook(eval_to(tmp_path, "chunks.xlsx", str(tmp_path / "twice.perf"),
                                            "--chunk-points", "2"))
    assert rows_of(chunks["r"]) == rows_of(whole["r"]) == [
        [None, None, "T (ms)", None, None, "T (s)", None, None],
        ["batch", "n"] + ["Estimated", "Estimated low", "Estimated high"] * 2,
        *([batch, 1, batch * 2 * 1000.0, batch * 2 * 0.5 * 1000, batch * 2 * 2.0 * 1000,
           batch * 2.0, batch * 2 * 0.5, batch * 2 * 2.0] for batch in (1, 2, 4))]


def test_the_per_point_section_and_note_are_not_applied_and_about_says_so(tmp_path):
    (tmp_path / "sections.perf").write_text(SPREAD.replace("    show q\n", '    show q\n    section = if(b > 35, '
                                                           '"wide", "narrow")\n    note = if(a > 1, "a note", "")\n'))
    book = openpyxl.load_workbook(eval_to(tmp_path, "chunks.xlsx", str(tmp_path / "sections.perf"),
                                          "--chunk-points", "500"))
    assert book.sheetnames == ["r", "Setup", "Summary", "About"]          # one sheet of 70 rows, no Note column
    assert len(rows_of(book["r"])) == 2 + 70 and "Note" not in rows_of(book["r"])[1]
    assert rows_of(book["About"])[-1][1] == (
        "Not applied: the report's `section` and `note` (a text per sweep point, which an answer merged from chunks "
        "does not evaluate): every row is on one sheet, without row notes.")


def test_the_python_api_writes_the_workbook_eval_writes_for_a_chunked_answer(written, tmp_path):
    """perfdsl.export_workbook takes an Answer (answer_in_chunks), as it takes a Result: the sheets eval -o writes
    from the same chunks (the About sheet differs in the command line it names, if at all)."""
    _, chunks_path, _ = written["largest_batch"]
    program = perfdsl.load(str(QUESTIONS))
    answer = perfdsl.answer_in_chunks(program, "largest_batch", chunk_points=3000)
    mine = openpyxl.load_workbook(perfdsl.export_workbook(answer, None, str(tmp_path / "api.xlsx")))
    theirs = openpyxl.load_workbook(chunks_path)
    assert mine.sheetnames == theirs.sheetnames
    for name in ("largest_batch", "Summary"):
        assert rows_of(mine[name]) == rows_of(theirs[name])
    with pytest.raises(perfdsl.UsageError, match=r"export_workbook of an Answer takes no live=True"):
        perfdsl.export_workbook(answer, None, str(tmp_path / "live.xlsx"), live=True)
