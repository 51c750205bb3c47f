"""An output's size predicted before it is written (dsl/output_size.py): refused where it exceeds the free space of
its file system (error[output-too-large], exit 2, nothing written), noted on stderr where it is large; the free space
is monkeypatched (shutil.disk_usage), never a disk filled."""

from __future__ import annotations

import shutil
from collections import namedtuple

import pytest

from perfdsl import cli, output_size
from perfdsl.chunks import chunk_at, count_chunks, plan_chunks

Usage = namedtuple("Usage", "total used free")
# A cell q = a beside the axis a: `show a` would be the axis's own column alone (shown_axes.py).
REPORT = "report r {\n    sweep a = 1 .. 1000\n    q = a\n    show q\n}\n"
# The CSV of REPORT: the axis a and the shown cell q (a float's repr), a row per point.
CSV_BYTES = len("a,q\n") + sum(len(f"{n},{float(n)!r}\n") for n in range(1, 1001))


@pytest.fixture
def report(tmp_path):
    path = tmp_path / "r.perf"
    path.write_text(REPORT)
    return path


def _free(monkeypatch, free: int) -> None:
    monkeypatch.setattr(shutil, "disk_usage", lambda folder: Usage(10**12, 10**12 - free, free))


@pytest.mark.parametrize("chunked", [[], ["--chunk-points", "100"]])
def test_an_output_larger_than_the_free_space_is_refused_before_anything_is_written(report, tmp_path, monkeypatch,
                                                                                      capsys, chunked):
    _free(monkeypatch, CSV_BYTES - 1)
    monkeypatch.setattr(output_size.Prediction, "parquet_bytes_per_row", lambda self: CSV_BYTES / 1000 / 4)
    out = tmp_path / "r.csv"
    assert cli.main(["eval", str(report), "-o", str(out)] + chunked) == 2
    assert capsys.readouterr().err == (
        f"error[output-too-large]: {out} would take about 9.79 kB (1,000 rows x about 10 bytes a row as CSV), more "
        "than the 9.79 kB free on its file system\n"
        "  = help: ask the report a question (best, largest, smallest, pareto) or add `where` lines that keep fewer "
        "rows, or narrow the sweep with --set\n"
        f"  = help: or write Parquet, about 4.0 times smaller here: -o {tmp_path}/r.parquet (about 2.45 kB)\n"
        "  = help: or choose an output on a file system with more free space\n\n"
        "1 error\n")
    assert not out.exists()
    assert CSV_BYTES == 9790            # the sizes above: 9,790 bytes and 9,789 free, both 9.79 kB; 9,790 / 4 = 2,448


@pytest.mark.parametrize("chunked", [[], ["--chunk-points", "100"]])
def test_an_output_that_fits_is_written_with_a_note_where_large(report, tmp_path, monkeypatch, capsys, chunked):
    _free(monkeypatch, CSV_BYTES)
    monkeypatch.setattr(output_size, "NOTE_BYTES", CSV_BYTES - 1)
    out = tmp_path / "r.csv"
    assert cli.main(["eval", str(report), "-o", str(out)] + chunked) == 0
    assert capsys.readouterr().err == (
        f"note: {out} will take about 9.79 kB (1,000 rows x about 10 bytes a row as CSV)\n"
        f"wrote {out} (1,000 rows)\n")
    assert out.stat().st_size == CSV_BYTES
    assert cli.main(["eval", str(report), "-q", "-o", str(out)] + chunked) == 0
    assert capsys.readouterr().err == f"wrote {out} (1,000 rows)\n"


def test_an_output_below_the_note_size_gets_no_note(report, tmp_path, capsys):
    out = tmp_path / "r.jsonl"
    assert cli.main(["eval", str(report), "-o", str(out)]) == 0
    assert capsys.readouterr().err == f"wrote {out} (1,000 rows)\n"


@pytest.mark.parametrize("fmt, suffix", [("csv", "csv"), ("jsonl", "jsonl"), ("json", "json"), ("table", "txt")])
def test_a_text_formats_bytes_a_row_are_those_written(report, tmp_path, fmt, suffix):
    # every row of a 1,000-row output is in the sample (SAMPLE_ROWS: 2,000): the prediction is the file's size
    import perfdsl

    out = tmp_path / f"r.{suffix}"
    assert cli.main(["eval", str(report), "-q", "-o", str(out)]) == 0
    result = perfdsl.load([str(report)]).evaluate()
    prediction = output_size.predict_table(fmt, *result.table())
    assert prediction.rows == 1000
    assert prediction.n_bytes == out.stat().st_size


def test_a_streamed_sweeps_rows_are_estimated_from_the_share_its_sampled_chunks_keep(tmp_path):
    import perfdsl

    path = tmp_path / "w.perf"
    # 10 x 1,000 points, half of them kept (a > 500): the 2,000-point chunks (200 a's x 10 b's) are all sampled
    path.write_text("report w {\n    sweep b = 1 .. 10\n    sweep a = 1 .. 1000\n    show a\n    where a > 500\n}\n")
    prediction = output_size.predict_sweep("csv", perfdsl.load([str(path)]), None)
    assert (prediction.rows, prediction.exact) == (10 * 1000 // 2, False)


@pytest.mark.parametrize("n_bytes, text", [(0, "0 bytes"), (999, "999 bytes"), (1_234_000, "1.23 MB"),
                                           (135_000_000_000, "135 GB"), (99_960_000, "100 MB"),
                                           (999_600_000, "1 GB"), (3 * 10**15, "3,000 TB")])
def test_file_sizes_are_written_in_decimal_units(n_bytes, text):
    assert output_size.file_size(n_bytes) == text


@pytest.mark.parametrize("shape", [(3, 2, 5, 3, 2), (5,), (7, 11, 13), (), (1, 1000), (2, 0, 3)])
@pytest.mark.parametrize("max_points", [1, 2, 3, 50, 999, 10**9])
def test_a_chunk_found_by_its_number_is_the_plans(shape, max_points):
    plan = plan_chunks(shape, max_points)
    assert count_chunks(shape, max_points) == len(plan)
    assert [chunk_at(shape, max_points, k) for k in range(len(plan))] == plan


def test_parquet_is_named_only_where_it_is_smaller(report, tmp_path, monkeypatch, capsys):
    _free(monkeypatch, 0)
    # a row of 10 bytes as CSV takes more as Parquet where there are few rows (its schema and footer)
    monkeypatch.setattr(output_size.Prediction, "parquet_bytes_per_row", lambda self: CSV_BYTES / 1000 * 2)
    assert cli.main(["eval", str(report), "-o", str(tmp_path / "r.csv")]) == 2
    assert "Parquet" not in capsys.readouterr().err


def test_a_file_system_of_no_size_is_not_checked(report, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(shutil, "disk_usage", lambda folder: Usage(0, 0, 0))     # as /proc and /sys report
    assert cli.main(["eval", str(report), "-q", "-o", str(tmp_path / "r.csv")]) == 0
