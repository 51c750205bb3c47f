"""eval's refusals of an output or of options that do not go together: each says what caused it and what to do
(a workbook of rows streamed chunk by chunk, --live in chunks, --workers with the report's own run logs, --dask
with --workers, --format parquet), exit status 2, nothing written; and the writing progress counts rows."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from perfdsl import cli

REPO = Path(__file__).resolve().parent.parent
CAPACITY = REPO / "reports" / "capacity_planning.perf"
QUESTIONS = REPO / "reports" / "capacity_questions.perf"
SEED = REPO / "reports" / "seed_benchmark.perf"


@pytest.mark.parametrize("option", [["--chunk-points", "1000"], ["--workers", "2"]])
def test_a_workbook_too_large_under_an_option_for_chunks_says_to_leave_it_out_too(tmp_path, capsys, option):
    # A newcomer followed the --set the refusal gave, kept --chunk-points, and was refused again: rows streamed
    # chunk by chunk are no workbook. The refusal comes before any cluster is started.
    out = tmp_path / "c.xlsx"
    assert cli.main(["eval", str(CAPACITY), *option, "-o", str(out)]) == 2
    assert capsys.readouterr().err == (
        "error[workbook-too-large]: a workbook of report 'capacity_planning' would have up to 884,520 rows, one per "
        "sweep point; perfdsl writes at most 100,000 rows to a workbook (a workbook is for people)\n"
        f"  = help: narrow the sweep with --set, e.g. --set model=opt_125m, and leave out {option[0]}, to write a "
        "workbook (one is written from a whole evaluation, not from rows streamed chunk by chunk)\n"
        f"  = help: or write every row with -o {tmp_path}/c.csv, -o {tmp_path}/c.jsonl or -o {tmp_path}/c.parquet "
        "(the smallest and quickest to write), or ask the report a question (best, largest, smallest, pareto) whose "
        "answer fits (a best, largest, smallest or pareto answer of up to 100,000 rows is a workbook however large "
        "the sweep)\n\n1 error\n")
    # the --set alone, the option kept: refused again, as the help says
    assert cli.main(["eval", str(CAPACITY), *option, "--set", "model=opt_125m", "-o", str(out)]) == 2
    assert capsys.readouterr().err.startswith(f"error[bad-output]: {' '.join(option)} evaluates the sweep of report ")
    assert not out.exists()


def test_a_sweep_too_large_at_once_refused_as_a_workbook_under_chunk_points_says_to_leave_it_out(tmp_path, capsys,
                                                                                                 monkeypatch):
    # With `where` lines the rows are counted only once evaluated: the refusal comes from the chunked run, where the
    # sweep is too large to evaluate at once (1 KiB of arrays here); the --set would leave 2 points, and the option
    monkeypatch.setattr("perfdsl.chunks.WHOLE_EVALUATION_BYTES", 1 << 10)
    (tmp_path / "w.perf").write_text("report r { sweep a = 1 .. 100001; sweep b = 1 .. 2; where a > 0; q = a * b; "
                                     "show q }\n")
    out = tmp_path / "w.xlsx"
    assert cli.main(["eval", str(tmp_path / "w.perf"), "--chunk-points", "1000", "-o", str(out)]) == 2
    assert capsys.readouterr().err.startswith(
        f"error[workbook-too-large]: a workbook of report 'r' would have up to {100_001 * 2:,} rows, one per sweep "
        "point; perfdsl writes at most 100,000 rows to a workbook (a workbook is for people)\n"
        "  = help: narrow the sweep with --set, e.g. --set a=1, and leave out --chunk-points, to write a workbook "
        "(one is written from a whole evaluation, not from rows streamed chunk by chunk)\n")
    # without the option, too large to evaluate at once, it is chunked for its size: the --set alone is the way
    assert cli.main(["eval", str(tmp_path / "w.perf"), "-o", str(out)]) == 2
    assert "  = help: narrow the sweep with --set, e.g. --set a=1, to write a workbook\n" in capsys.readouterr().err
    assert not out.exists()


def test_a_workbook_with_chunk_points_names_the_option_not_the_row_limit(tmp_path, capsys):
    out = tmp_path / "z.xlsx"
    # gpt2's sweep of capacity_planning: 29,484 points, under the workbook's 100,000 rows
    assert cli.main(["eval", str(CAPACITY), "--set", "model=gpt2", "--chunk-points", "100", "-o", str(out)]) == 2
    assert capsys.readouterr().err == (
        "error[bad-output]: --chunk-points 100 evaluates the sweep of report 'capacity_planning' (29,484 points) in "
        "chunks, and a workbook is written from one whole evaluation, not from rows streamed chunk by chunk\n"
        f"  = help: leave out --chunk-points to write the workbook, or write -o {tmp_path}/z.csv, -o {tmp_path}/z.jsonl "
        f"or -o {tmp_path}/z.parquet (the smallest and quickest to write)\n\n"
        "1 error\n")
    assert not out.exists()
    # and leaving it out writes the workbook
    assert cli.main(["eval", str(CAPACITY), "--set", "model=gpt2", "-q", "-o", str(out)]) == 0
    assert out.exists()


def test_a_question_with_chunk_points_writes_its_answer_as_a_workbook(tmp_path, capsys):
    # Refused before (a workbook was written from one whole evaluation only); the workbook's rows and values:
    # tests/test_workbook_answer.py
    out = tmp_path / "cheap.xlsx"
    assert cli.main(["eval", str(QUESTIONS), "--report", "cheapest_setup", "--chunk-points", "1000",
                     "-o", str(out)]) == 0
    assert capsys.readouterr().err.endswith(f"wrote {out} (30 rows)\n")
    assert out.exists()


def test_live_with_a_question_answered_chunk_by_chunk_for_its_size_is_refused_up_front(tmp_path, capsys):
    out = tmp_path / "cheap.xlsx"
    assert cli.main(["eval", str(QUESTIONS), "--report", "cheapest_setup", "--set", "batch=1 .. 64000", "--live",
                     "-o", str(out)]) == 2
    points = 14_040 // 9 * 64_000       # the report's 9 batches become 64,000 (14,040 points: 1,560 per batch)
    assert capsys.readouterr().err == (
        "error[bad-option]: --live writes the cost model as formulas over one whole evaluation, and report "
        f"'cheapest_setup' sweeps {points:,} points, too many to evaluate at once, so its question is answered "
        "chunk by chunk\n"
        "  = help: leave out --live: the workbook then holds the answer's values\n\n"
        "1 error\n")
    assert not out.exists()


@pytest.mark.parametrize("option, name, hint", [
    (["--workers", "2"], "--workers", "evaluate on one machine: leave out --workers (the report's runs are matched in "
                                      "memory)"),
    # --chunk-points was passed over without a word: the report evaluated at once, the same output as without it
    (["--chunk-points", "5"], "--chunk-points", "evaluate the sweep at once: leave out --chunk-points (the report's "
                                                "runs are matched over one whole evaluation)")], ids=["workers", "chunks"])
def test_chunks_with_the_reports_own_run_logs_name_its_measured_cell(tmp_path, capsys, option, name, hint):
    out = tmp_path / "s.csv"
    line = next(number for number, text in enumerate(SEED.read_text().splitlines(), 1)
                if text.strip().startswith("measured ="))
    assert cli.main(["eval", str(SEED), *option, "-o", str(out)]) == 2
    assert capsys.readouterr().err == (
        f"error[bad-option]: {name} evaluates a sweep in chunks, which are not matched with run logs, and the "
        f"report 'seed_benchmark' names run logs in its cell `measured` ({os.path.relpath(SEED)}:{line})\n"
        f"  = help: {hint}\n\n"
        "1 error\n")
    assert not out.exists()


def test_chunk_points_with_add_measured_names_the_option(tmp_path, capsys):
    out = tmp_path / "s.csv"
    runs = REPO / "data" / "seed_runs_a5000.csv"
    assert cli.main(["eval", str(CAPACITY), "--chunk-points", "1000", "--add-measured", str(runs), "-o", str(out)]) == 2
    assert capsys.readouterr().err == (
        "error[bad-option]: --chunk-points evaluates a sweep in chunks, which are not matched with run logs, and "
        "--add-measured names run logs\n"
        "  = help: leave out --add-measured, or evaluate the sweep at once: leave out --chunk-points\n\n"
        "1 error\n")
    assert not out.exists()


def test_dask_with_measured_names_the_option(tmp_path, capsys):
    runs = REPO / "data" / "seed_runs_a5000.csv"
    assert cli.main(["eval", str(SEED), "--dask", "tcp://127.0.0.1:1", "--measured", str(runs),
                     "-o", str(tmp_path / "s.csv")]) == 2
    assert capsys.readouterr().err == (
        "error[bad-option]: --dask evaluates a sweep in chunks, which are not matched with run logs, and --measured "
        "names run logs\n"
        "  = help: leave out --measured, or evaluate on one machine (leave out --dask)\n\n"
        "1 error\n")


def test_dask_and_workers_together_are_a_usage_error(tmp_path, capsys):
    out = tmp_path / "c.csv"
    assert cli.main(["eval", str(CAPACITY), "--dask", "tcp://127.0.0.1:1", "--workers", "2", "-o", str(out)]) == 2
    assert capsys.readouterr().err == (
        "error[bad-option]: --dask tcp://127.0.0.1:1 and --workers 2 each choose a cluster for the chunks: give one "
        "of them\n"
        "  = help: --dask ADDRESS uses a running cluster, --workers N starts a local one of N processes\n\n"
        "1 error\n")
    assert not out.exists()


@pytest.mark.parametrize("chosen, named", [("parquet", "Parquet"), ("xlsx", "A workbook (.xlsx)")])
def test_format_parquet_or_xlsx_says_the_suffix_chooses_them(chosen, named, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["eval", str(CAPACITY), "--format", chosen])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines()[-2:] == [
        f"perfdsl eval: error: argument --format: invalid choice: '{chosen}' (choose from 'table', 'csv', 'json', "
        "'jsonl')",
        f"  = help: {named} is chosen by -o's suffix, not by --format: -o FILE.{chosen} (--format chooses among the "
        "text formats only)"]


def test_format_of_another_name_gets_no_suffix_hint(capsys):
    with pytest.raises(SystemExit):
        cli.main(["eval", str(CAPACITY), "--format", "xls"])
    assert "= help" not in capsys.readouterr().err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_writing_progress_counts_rows():
    stream = _Terminal()
    progress = cli.Progress("writing", stream=stream, delay=0, unit="rows")
    progress(0, 2000)
    progress(2000, 2000)
    progress.done()
    assert "rows/s" in stream.getvalue() and "it/s" not in stream.getvalue()


def test_eval_writes_with_a_progress_in_rows(tmp_path, monkeypatch):
    units = []
    real = cli.Progress.__init__

    def recording(self, label, *args, **kwargs):
        units.append((label, kwargs.get("unit", "it")))
        real(self, label, *args, **kwargs)

    monkeypatch.setattr(cli.Progress, "__init__", recording)
    assert cli.main(["eval", str(CAPACITY), "--set", "model=gpt2", "-q", "-o", str(tmp_path / "c.csv")]) == 0
    assert ("writing", "rows") in units
