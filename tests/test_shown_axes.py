"""A report that shows its own sweep axis (`sweep a = ...`, `show q, a`) writes the axis once, as its axis column
(dsl/shown_axes.py), in every output: it wrote two columns named `a` (the axis's and the shown cell's), of which a CSV
or pandas reader and a JSON object keep one. The unit is the one the user asked for (`show a in MB`), else the one
the axis is written in (GB, not the SI default B of a bare `show a`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import perfdsl
from perfdsl import cli

OWN = "report r {\n    sweep a = [1, 2, 4]\n    q = a * 2\n    show q, a\n}\n"
# q = 2 a at a = 1, 2, 4; the axis a is written as integers (a plain count), q as floats.
OWN_CSV = ["a,q"] + [f"{a},{2.0 * a}" for a in (1, 2, 4)]

UNITS = """\
report r {
    sweep a = [1 GB, 2 GB]
    sweep b = [1, 2]
    q = a * b
    show q in GB, a in MB, b, a as A
}
"""


@pytest.fixture
def work(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PERFDSL_NO_CACHE", "1")
    return tmp_path


def run(capsys, *argv: str) -> str:
    capsys.readouterr()
    assert cli.main(list(argv)) == 0
    return capsys.readouterr().out


def test_a_report_showing_its_own_axis_writes_it_once_in_every_output(work, capsys):
    # Before: table `a  q  a`, CSV `a,q,a` / `1,2.0,1.0`, JSON {"a": 1.0, "q": 2.0} (the second a over the first).
    (work / "own.perf").write_text(OWN)
    assert run(capsys, "eval", "own.perf").splitlines()[0].split() == ["a", "q"]
    assert run(capsys, "eval", "own.perf", "--format", "csv").splitlines() == OWN_CSV
    records = [{"a": a, "q": 2.0 * a} for a in (1, 2, 4)]
    assert json.loads(run(capsys, "eval", "own.perf", "--format", "json")) == records
    assert [json.loads(line) for line in run(capsys, "eval", "own.perf", "--format", "jsonl").splitlines()] == records
    for chunk_points in ("1", "2"):           # streamed chunk by chunk: the same rows
        assert run(capsys, "eval", "own.perf", "--format", "csv", "-q", "--chunk-points",
                   chunk_points).splitlines() == OWN_CSV

    pq = pytest.importorskip("pyarrow.parquet")
    assert cli.main(["eval", "own.perf", "-o", "own.parquet", "-q"]) == 0
    assert pq.read_table("own.parquet").to_pylist() == records

    openpyxl = pytest.importorskip("openpyxl")
    assert cli.main(["eval", "own.perf", "-o", "own.xlsx", "-q"]) == 0
    sheet = openpyxl.load_workbook("own.xlsx")["r"]
    assert [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2, max_row=5)] == \
        [["a", "Estimated"]] + [[a, 2.0 * a] for a in (1, 2, 4)]


def test_the_notebook_api_has_the_axis_once_and_the_shown_cell_still_reads(work):
    (work / "own.perf").write_text(OWN)
    result = perfdsl.load("own.perf").evaluate()
    assert result.table()[0] == ["a", "q"]
    assert result.records() == [{"a": a, "q": 2.0 * a} for a in (1, 2, 4)]
    assert np.array_equal(result.column("a"), [1.0, 2.0, 4.0])     # the shown cell, by its name, as before
    pytest.importorskip("pandas")
    assert list(result.to_pandas().columns) == ["a", "q"]
    xarray = pytest.importorskip("xarray")
    dataset = result.to_xarray()             # was ValueError: variables {'a'} are found in both data_vars and coords
    assert isinstance(dataset, xarray.Dataset)
    assert list(dataset.data_vars) == ["q"] and dataset["a"].values.tolist() == [1, 2, 4]


def test_a_shown_axis_is_written_in_the_unit_asked_for_else_in_the_axis_own(work, capsys):
    # `show a in MB`: the axis column is in MB (1 GB = 1000 MB), not GB beside a second `a [MB]`; `b` (a count) is its
    # axis column; `a as A` is a column of another name, written as any shown cell (SI: B).
    (work / "units.perf").write_text(UNITS)
    lines = run(capsys, "eval", "units.perf", "--format", "csv").splitlines()
    assert lines[0] == "a [MB],b,q [GB],A [B]"
    assert [[float(v) for v in line.split(",")] for line in lines[1:]] == [
        [a * 1000, b, a * b, a * 1e9] for a in (1, 2) for b in (1, 2)]
    # Without `in MB` the axis keeps the unit its values are written in (GB), not the SI default of a shown cell (B).
    (work / "bare.perf").write_text(UNITS.replace("a in MB", "a"))
    assert run(capsys, "eval", "bare.perf", "--format", "csv").splitlines()[0] == "a [GB],b,q [GB],A [B]"
    # Shown twice in two units: the first is the axis's column, the second a column of its own.
    (work / "twice.perf").write_text(UNITS.replace("a as A", "a in kB"))
    assert run(capsys, "eval", "twice.perf", "--format", "csv").splitlines()[:2] == [
        "a [MB],b,q [GB],a [kB]", f"{1 * 1000.0},1,{1 * 1.0},{1 * 1e6}"]

    openpyxl = pytest.importorskip("openpyxl")
    assert cli.main(["eval", "units.perf", "-o", "units.xlsx", "-q"]) == 0
    book = openpyxl.load_workbook("units.xlsx")
    sheet = book["r"]
    # the shown axes first (as the workbook writes them), each header with its unit: none lost
    assert [cell.value for cell in sheet[2]] == ["a [MB]", "b", "A [B]", "Estimated"]
    assert [cell.value for cell in sheet[3]] == [1 * 1000.0, 1, 1 * 1e9, 1 * 1.0]
    assert book["Setup"]["B3"].value == "4 points; a [MB]: 1000.0, 2000.0; b: 1, 2"


def test_a_question_over_chunks_has_the_shown_axis_once(work, capsys):
    (work / "best.perf").write_text(UNITS.replace("show q in GB, a in MB, b, a as A",
                                                  "show q in GB, a in MB\n    best max q per b"))
    whole = run(capsys, "eval", "best.perf", "--format", "csv").splitlines()
    # the best a (2 GB = 2000 MB) of each b: q = 2 GB x b
    assert whole == ["a [MB],b,q [GB]", f"{2 * 1000.0},1,{2 * 1.0}", f"{2 * 1000.0},2,{2 * 2.0}"]
    assert run(capsys, "eval", "best.perf", "--format", "csv", "-q", "--chunk-points", "1").splitlines() == whole
    from perfdsl.streaming import answer_in_chunks

    answer = answer_in_chunks(perfdsl.load("best.perf"), chunk_points=1)
    assert answer.keys == ["a [MB]", "b", "q [GB]"]
    assert answer.column("a").tolist() == [2e9, 2e9]          # SI, as Result.column


def test_a_shown_axis_kept_by_the_question_keeps_its_value_on_a_row_with_no_answer():
    """`show a` with `best ... per a`: the group a = 1 has no point with q > 2 (q = 1, 2), so its row is empty but
    for a, which records() and CSV keep (1); Result.column("a") and display_column("a") read the shown cell and
    blanked it (NaN), where answer_in_chunks' column("a") gave 1. Found by the output consistency audit."""
    program = perfdsl.load([], texts={"kept.perf": "report r {\n    sweep a = [1, 2]\n    sweep b = [1, 2]\n"
                                                   "    q = a * b\n    show a, q\n    where q > 2\n"
                                                   "    best min q per a\n}\n"})
    result = program.evaluate()
    assert result.records() == [{"a": 1, "b": None, "q": None}, {"a": 2, "b": 2, "q": 2.0 * 2}]
    assert result.column("a").tolist() == result.display_column("a").tolist() == [1, 2]
    from perfdsl.streaming import answer_in_chunks

    assert answer_in_chunks(program, chunk_points=1).column("a").tolist() == [1, 2]


def test_at_takes_a_shown_axis_in_its_shown_unit_or_as_a_quantity_in_any_unit(work, capsys):
    # The axis a is shown in MB, so explain lists its values in MB; `--at a=1 GB`, as the sweep writes it, is the
    # same point as `--at a=1000` (MB) or `--at a=1000 MB` (it was refused once the axis was shown in MB), with or
    # without the space (`1GB` was refused).
    (work / "units.perf").write_text(UNITS)
    for value in ("1 GB", "1GB", "1000", "1000 MB", "1000MB", "1e9 B", "1e9B", "1_000"):
        assert run(capsys, "explain", "units.perf", "q", "--at", f"a={value}", "--at", "b=2").splitlines()[0] == \
            f"r.q = {1 * 2} GB"
    assert cli.main(["explain", "units.perf", "q", "--at", "a=1 s"]) == 2
    assert capsys.readouterr().err.splitlines()[:2] == ["error[bad-point]: '1 s' is not a value of axis 'a'",
                                                        "  = help: its values: 1000 MB, 2000 MB"]


TOY = """\
report toy {
    sweep batch = [1, 2, 4, 8]
    sweep mem = [1 GB, 2 GB]
    tpot = mem / (1000 GB/s) * (1 + batch / 8)
    show tpot in ms, batch, mem in MB, mem in KiB
}
"""


def test_a_cell_shown_twice_beside_its_axis_has_each_unit_s_values_in_the_workbook(work, capsys):
    # `mem in MB` is the axis column, `mem in KiB` a column of its own. The workbook read the second by its name,
    # `mem`, i.e. the first column: `mem [KiB]` held 1000.0 (MB) where CSV gives 1 GB / 1024 B = 976562.5 KiB.
    # tpot at batch 1, mem 1 GB: 1 GB / (1000 GB/s) = 1 ms, times 1 + 1/8.
    (work / "toy.perf").write_text(TOY)
    lines = run(capsys, "eval", "toy.perf", "--format", "csv").splitlines()
    assert lines[:2] == ["batch,mem [MB],tpot [ms],mem [KiB]", f"1,{1e9 / 1e6},{1 * (1 + 1 / 8)},"
                                                                f"{1e9 / 1024}"]
    openpyxl = pytest.importorskip("openpyxl")
    for label in ("", " as memk"):
        (work / "toy.perf").write_text(TOY.replace("mem in KiB", "mem in KiB" + label))
        assert cli.main(["eval", "toy.perf", "-o", "toy.xlsx", "-q"]) == 0
        sheet = openpyxl.load_workbook("toy.xlsx")["toy"]
        assert [cell.value for cell in sheet[2]] == ["batch", "mem [MB]", f"{label[4:] or 'mem'} [KiB]", "Estimated"]
        assert [cell.value for cell in sheet[3]] == [1, 1e9 / 1e6, 1e9 / 1024, 1 * (1 + 1 / 8)]


def test_to_xarray_names_a_second_show_of_an_axis_by_its_csv_key(work):
    # Was ValueError: variables {'mem'} are found in both data_vars and coords. `mem` is the coordinate; the KiB show
    # is the variable `mem_KiB` (its CSV key `mem [KiB]` made an identifier), with the KiB values.
    pytest.importorskip("xarray")
    (work / "toy.perf").write_text(TOY)
    result = perfdsl.load("toy.perf").evaluate("toy")
    dataset = result.to_xarray()
    assert list(dataset.data_vars) == ["tpot", "mem_KiB"]
    assert dataset["mem"].values.tolist() == [1e9, 2e9]                     # SI
    assert dataset["mem_KiB"].sel(batch=1).values.tolist() == [1e9, 2e9]    # SI: B
    shown = result.to_xarray(display=True)
    assert shown["mem_KiB"].sel(batch=1).values.tolist() == [1e9 / 1024, 2e9 / 1024]
    assert shown["mem_KiB"].attrs["units"] == "KiB"


BOUND = """\
workload w {
    sweep batch = [1, 2]
}
report r {
    workload = w
    bw = 1000 GB/s * workload.batch
    show workload.batch, bw in GB/s
}
"""


def test_a_bound_block_s_swept_cell_shown_keeps_the_axis_column_in_the_workbook(work, capsys):
    # The workbook headed the axis `workload.batch` and left out one of CSV's columns; now it has CSV's columns.
    (work / "bound.perf").write_text(BOUND)
    lines = run(capsys, "eval", "bound.perf", "--format", "csv").splitlines()
    assert lines == ["batch,workload.batch,bw [GB/s]"] + [f"{b},{float(b)},{1000.0 * b}" for b in (1, 2)]
    openpyxl = pytest.importorskip("openpyxl")
    assert cli.main(["eval", "bound.perf", "-o", "bound.xlsx", "-q"]) == 0
    sheet = openpyxl.load_workbook("bound.xlsx")["r"]
    assert [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2, max_row=4)] == \
        [["batch", "workload.batch", "Estimated"]] + [[b, float(b), 1000.0 * b] for b in (1, 2)]


def test_a_bare_name_of_a_bound_block_s_cell_is_named_dotted_in_the_help(work, capsys):
    (work / "bare.perf").write_text(BOUND.replace("show workload.batch", "show batch"))
    assert cli.main(["eval", "bare.perf"]) == 1
    err = capsys.readouterr().err
    assert "error[unknown-name]: unknown name 'batch' in report 'r'" in err
    assert "= help: 'batch' is a cell of a block the report binds: write 'workload.batch'" in err
    assert "= help: available: bw, workload, workload.batch" in err


def test_live_each_show_of_a_cell_shown_twice_has_its_own_calculation_row(work):
    # The live plan keyed its rows by name: `mem [MB]` and `mem [KiB]` both read the KiB row (976562.5 under MB) and
    # the MB row stayed empty. Each column now reads its own row: /1e6 for MB, /1024 for KiB, of the axis mem in B.
    openpyxl = pytest.importorskip("openpyxl")
    (work / "toy.perf").write_text(TOY)
    assert cli.main(["eval", "toy.perf", "-o", "live.xlsx", "--live", "-q"]) == 0
    book = openpyxl.load_workbook("live.xlsx")
    sheet, calculation = book["toy"], book["Calculation"]
    headers = [cell.value for cell in sheet[2]]
    for header, divisor in (("mem [MB]", "/1000000"), ("mem [KiB]", "/1024")):
        formula = sheet.cell(3, headers.index(header) + 1).value            # =Calculation!E6
        row = calculation[formula.split("!")[1]].row
        assert calculation.cell(row, 1).value == header
        assert calculation[formula.split("!")[1]].value.endswith(divisor)
