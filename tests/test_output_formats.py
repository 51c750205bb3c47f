"""Output formats agree with themselves: a sweep written chunk by chunk is the same file as written whole (a column's
type decided over the whole axis, not per chunk), Parquet takes reports with measured runs, and each format writes
values that are not finite as the README's table says (tests/fixtures/specs/mixed_axis.perf)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perfdsl import cli

REPO = Path(__file__).resolve().parent.parent
MIXED = REPO / "tests" / "fixtures" / "specs" / "mixed_axis.perf"
CAPACITY = REPO / "reports" / "capacity_planning.perf"
SEED = REPO / "reports" / "seed_benchmark.perf"
# 2 models x 2 GPUs x 9 batches x 9 prompts x 7 outputs x 4 tp = 9,072 points, of which GPT-2's tp 8 (12 heads) are
# left out by a `require`: rows of a bundled report whose chunks end anywhere in a run of rows.
CAPACITY_SETS = ["--set", "model=gpt2,llama3_1_8b", "--set", "hardware=h100_sxm5,l4"]

# The whole output of mixed_axis.perf as CSV: x mixes whole and fractional values, so every x is a float (-2.0);
# n's values are all whole, so every n is an integer; n / x at x = 0 is inf, x * (n / x) there is NaN (empty).
MIXED_CSV = (
    "x,n,workload.ratio,workload.undefined,workload.positive\n"
    "-2.0,1,-0.5,1.0,false\n"
    "-2.0,2,-1.0,2.0,false\n"
    "0.0,1,inf,,false\n"
    "0.0,2,inf,,false\n"
    "1.0,1,1.0,1.0,true\n"
    "1.0,2,2.0,2.0,true\n"
    "2.5,1,0.4,1.0,true\n"
    "2.5,2,0.8,2.0,true\n")


def evaluate(spec: Path, output: Path, *extra: str) -> None:
    assert cli.main(["eval", str(spec), "-o", str(output), "-q", *extra]) == 0


CASES = [(MIXED, [], ["1", "3"]), (CAPACITY, CAPACITY_SETS, ["1000", "4999"])]


@pytest.mark.parametrize("spec, sets, chunks", CASES, ids=["mixed_axis", "capacity_planning"])
@pytest.mark.parametrize("suffix", ["csv", "json", "jsonl"])
def test_chunked_text_outputs_are_the_whole_outputs_byte_for_byte(tmp_path, capsys, spec, sets, chunks, suffix):
    whole = tmp_path / f"whole.{suffix}"
    evaluate(spec, whole, *sets)
    for chunk_points in chunks:
        chunked = tmp_path / f"chunked_{chunk_points}.{suffix}"
        evaluate(spec, chunked, *sets, "--chunk-points", chunk_points)
        assert chunked.read_bytes() == whole.read_bytes()


def test_the_type_of_an_axis_column_is_decided_over_the_whole_axis(tmp_path, capsys):
    # The chunk of x = -2 alone is whole, but the axis is not: it is written -2.0 as in the whole output.
    for chunk_points in ("1", "2", "8"):
        out = tmp_path / f"rows_{chunk_points}.csv"
        evaluate(MIXED, out, "--chunk-points", chunk_points)
        assert out.read_text() == MIXED_CSV
    lines = tmp_path / "rows.jsonl"
    evaluate(MIXED, lines, "--chunk-points", "1")
    assert [json.loads(line)["x"] for line in lines.read_text().splitlines()] == [-2.0, -2.0, 0.0, 0.0, 1.0, 1.0,
                                                                                 2.5, 2.5]
    assert lines.read_text().startswith('{"x": -2.0, "n": 1, ')


@pytest.mark.parametrize("spec, sets, chunks", CASES, ids=["mixed_axis", "capacity_planning"])
def test_chunked_parquet_reads_back_as_the_whole_parquet(tmp_path, capsys, spec, sets, chunks):
    parquet = pytest.importorskip("pyarrow.parquet", reason="pyarrow is in the dev extra")
    whole = tmp_path / "whole.parquet"
    evaluate(spec, whole, *sets)
    expected = parquet.read_table(whole)
    for chunk_points in chunks:
        chunked = tmp_path / f"chunked_{chunk_points}.parquet"
        evaluate(spec, chunked, *sets, "--chunk-points", chunk_points)
        table = parquet.read_table(chunked)
        assert table.schema == expected.schema
        assert table.to_pylist() == expected.to_pylist()


def test_parquet_of_a_mixed_axis_in_chunks_of_one_point_keeps_the_fractions(tmp_path, capsys):
    # The newcomer's repro: the first chunk (x = -2) used to fix x as int64, and 2.5 failed to cast (error[internal]).
    parquet = pytest.importorskip("pyarrow.parquet", reason="pyarrow is in the dev extra")
    out = tmp_path / "c1.parquet"
    evaluate(MIXED, out, "--chunk-points", "1")
    table = parquet.read_table(out)
    assert [str(t) for t in table.schema.types] == ["double", "int64", "double", "double", "bool"]
    assert table.column("x").to_pylist() == [-2.0, -2.0, 0.0, 0.0, 1.0, 1.0, 2.5, 2.5]
    assert table.column("n").to_pylist() == [1, 2] * 4


def test_parquet_of_a_report_with_measured_runs_holds_the_json_records(tmp_path, capsys):
    # The runs are matched over the whole evaluation, in memory: Parquet is written in one go, with the same keys
    # and values as the JSON output (an estimate without a run has null measured and error values in both).
    parquet = pytest.importorskip("pyarrow.parquet", reason="pyarrow is in the dev extra")
    rows, records = tmp_path / "seed.parquet", tmp_path / "seed.json"
    evaluate(SEED, rows)
    assert capsys.readouterr().err.endswith(f"wrote {rows} (24 rows)\n")
    evaluate(SEED, records)
    table = parquet.read_table(rows)
    assert table.to_pylist() == json.loads(records.read_text())
    assert "runtime measured [ms]" in table.schema.names and "runtime error [%]" in table.schema.names
    assert parquet.ParquetFile(rows).num_row_groups == 1


# -- values that are not finite: one rule per format (README, "Output formats") ------------------------------------

def test_each_format_writes_nan_and_infinity_as_the_readme_says(tmp_path, capsys):
    # At x = 0: workload.ratio is inf (n / 0), workload.undefined NaN (0 * inf).
    evaluate(MIXED, tmp_path / "rows.csv")
    assert (tmp_path / "rows.csv").read_text().splitlines()[3] == "0.0,1,inf,,false"

    for suffix in ("json", "jsonl"):      # JSON has no infinity: both are null, and the file stays valid JSON
        evaluate(MIXED, tmp_path / f"rows.{suffix}")
    document = (tmp_path / "rows.json").read_text()
    assert json.loads(document)[2] == {"x": 0.0, "n": 1, "workload.ratio": None, "workload.undefined": None,
                                       "workload.positive": False}
    assert "Infinity" not in document and "NaN" not in document
    assert (tmp_path / "rows.jsonl").read_text().splitlines()[2] == (
        '{"x": 0.0, "n": 1, "workload.ratio": null, "workload.undefined": null, "workload.positive": false}')

    assert cli.main(["eval", str(MIXED), "-q"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[4] == "  0  1             inf                      false"

    parquet = pytest.importorskip("pyarrow.parquet", reason="pyarrow is in the dev extra")
    evaluate(MIXED, tmp_path / "rows.parquet")
    assert parquet.read_table(tmp_path / "rows.parquet").to_pylist()[2] == {
        "x": 0.0, "n": 1, "workload.ratio": float("inf"), "workload.undefined": None, "workload.positive": False}


def test_a_workbook_leaves_nan_and_infinity_blank(tmp_path, capsys):
    openpyxl = pytest.importorskip("openpyxl")
    out = tmp_path / "rows.xlsx"
    evaluate(MIXED, out)
    sheet = openpyxl.load_workbook(out)["mixed"]
    header = [cell.value for cell in sheet[2]]
    x, estimated = header.index("x"), [i for i, name in enumerate(header) if name == "Estimated"]
    row = next(r for r in sheet.iter_rows(min_row=3, values_only=True) if r[x] == 0.0)
    assert [row[i] for i in estimated] == [None, None]          # ratio (inf) and undefined (NaN)


NO_GROUP_ANSWERED = """
report r {
    sweep group = ["x", "y"]
    sweep batch = [1, 2, 4]
    t = batch * 1 s
    fits = batch < 8
    show t in ms, fits
    where t > 1 min
    best min t per group
}
"""


@pytest.mark.parametrize("extra", [(), ("--chunk-points", "2")])
def test_parquet_types_a_column_with_no_value_by_its_kind(tmp_path, capsys, extra):
    # No point has t > 1 min (t is 1, 2 or 4 s): both groups are unanswered, every column but `group` all null.
    # Before: pyarrow typed a column of nulls as text, so batch (an axis of whole numbers) and fits (a flag) read
    # back as string; a reader's code saw the type change with the data. Now int64 and bool, as with values.
    parquet = pytest.importorskip("pyarrow.parquet", reason="pyarrow is in the dev extra")
    spec = tmp_path / "none.perf"
    spec.write_text(NO_GROUP_ANSWERED)
    out = tmp_path / "none.parquet"
    evaluate(spec, out, *extra)
    table = parquet.read_table(out)
    assert {field.name: str(field.type) for field in table.schema} == {
        "group": "string", "batch": "int64", "t [ms]": "double", "fits": "bool"}
    assert table.to_pylist() == [{"group": "x", "batch": None, "t [ms]": None, "fits": None},
                                 {"group": "y", "batch": None, "t [ms]": None, "fits": None}]
    # With the points answered (t > 1 s: batch 2 at 2,000 ms), the same types.
    spec.write_text(NO_GROUP_ANSWERED.replace("1 min", "1 s"))
    evaluate(spec, out, *extra)
    table = parquet.read_table(out)
    assert [str(field.type) for field in table.schema] == ["string", "int64", "double", "bool"]
    assert table.to_pylist()[0] == {"group": "x", "batch": 2, "t [ms]": 2 * 1000.0, "fits": True}
