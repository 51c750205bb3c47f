"""perfdsl's own run-log CSV and JSON Lines: units in headers, SI values, warnings that point at the cell."""

import os

import pytest

from perfdsl.errors import PerfError
from perfdsl.runlogs import load_runs, write_runs_csv, write_runs_jsonl
from perfdsl.runlogs import perfdsl_csv
from perfdsl.units import BYTES, TIME, Dimension


def test_repository_seed_copy_loads_as_is(repo_root):
    result = load_runs(repo_root / "data" / "seed_runs_a5000.csv")
    assert result.problems == []
    assert len(result.records) == 12
    first, last = result.records[0], result.records[-1]
    assert first.identity == {"model": "facebook/opt-1.3b", "hardware": "NVIDIA RTX A5000", "n_gpus": 1,
                              "tokens": 16384}
    assert isinstance(first.identity["n_gpus"], int) and isinstance(first.identity["tokens"], int)
    assert first.metrics["runtime"].value == pytest.approx(693.77e-3)  # 693.77 ms
    assert first.metrics["runtime"].dim == TIME and first.metrics["runtime"].unit == "ms"
    assert first.metrics["memory"].value == pytest.approx(5.53e9)  # 5.53 GB as published, GB = 1e9 byte
    assert first.metrics["memory"].dim == BYTES and first.metrics["memory"].unit == "GB"
    assert first.metrics["energy_per_token"].value == pytest.approx(0.010)
    assert first.metrics["energy_per_token"].dim == Dimension.of(J=1, token=-1)
    assert last.identity["model"] == "AICrossSim/clm-1.1b" and last.identity["n_gpus"] == 8
    assert last.metrics["runtime"].value == pytest.approx(673.65e-3)
    assert first.source.endswith("seed_runs_a5000.csv:row 1") and first.format == "perfdsl-csv"


def test_repository_copy_matches_shared_seed(repo_root, shared_logs):
    shared = shared_logs.parent / "data" / "seed_runs_a5000.csv"
    if not shared.is_file():
        pytest.skip(f"../shared/data/seed_runs_a5000.csv is absent ({shared})")
    assert (repo_root / "data" / "seed_runs_a5000.csv").read_bytes() == shared.read_bytes()


def test_bad_rows_are_reported_and_kept_where_possible(fixture_logs, monkeypatch):
    monkeypatch.chdir(fixture_logs)
    result = load_runs("runs_bad_row.csv")
    # row 2 (bad runtime) and row 3 (empty runtime) are kept without runtime; row 4 (n_gpus 'two') is skipped;
    # row 5 says NA for runtime: kept without it, silently.
    assert [r.source for r in result.records] == ["runs_bad_row.csv:row 1", "runs_bad_row.csv:row 2",
                                                  "runs_bad_row.csv:row 3", "runs_bad_row.csv:row 5"]
    assert "runtime" not in result.records[1].metrics
    assert result.records[1].metrics["memory"].value == 15.5 * 2**30  # GiB
    assert "runtime" not in result.records[3].metrics
    assert [p.severity for p in result.problems] == ["warning"] * 3
    assert result.problems[0].render() == (
        "warning[bad-value]: cannot read 'fast' as a number in column 'runtime [ms]'\n"
        "  --> runs_bad_row.csv:3:40 (row 2, column 'runtime [ms]')\n"
        "  |\n"
        "3 | facebook/opt-6.7b,NVIDIA RTX A5000,1,8,fast,15.5\n"
        "  |                                        ^^^^\n"
        "  = note: row 2 is kept without 'runtime'")
    assert result.problems[1].render() == (
        "warning[missing-value]: row 3 has no value in column 'runtime [ms]'\n"
        "  --> runs_bad_row.csv:4:40 (row 3, column 'runtime [ms]')\n"
        "  |\n"
        "4 | facebook/opt-6.7b,NVIDIA RTX A5000,2,8,,16\n"
        "  |                                        ^\n"
        "  = note: row 3 is kept without 'runtime'")
    assert result.problems[2].render() == (
        "warning[bad-value]: cannot read 'two' in column 'n_gpus': 'n_gpus' must be a whole number\n"
        "  --> runs_bad_row.csv:5:36 (row 4, column 'n_gpus')\n"
        "  |\n"
        "5 | facebook/opt-6.7b,NVIDIA RTX A5000,two,8,1200,16\n"
        "  |                                    ^^^\n"
        "  = note: row 4 skipped: a run without 'n_gpus' cannot be matched")


def test_unknown_unit_in_header_is_a_file_error(fixture_logs, monkeypatch):
    monkeypatch.chdir(fixture_logs)
    expected = (
        "error[unknown-unit]: unknown unit 'fortnight' in column 'runtime [fortnight]'\n"
        "  --> runs_bad_unit.csv:1:23 (column 'runtime [fortnight]')\n"
        "  |\n"
        "1 | model,n_gpus,runtime [fortnight],memory [GB]\n"
        "  |                       ^^^^^^^^^\n"
        "  = help: known units: s, ms, us, B, GB, GiB, bit, FLOP, TFLOP/s, token, J, Wh, W, Hz, %, count")
    with pytest.raises(PerfError) as caught:
        perfdsl_csv.read("runs_bad_unit.csv")
    assert caught.value.render() == expected
    assert caught.value.exit_status == 1
    result = load_runs("runs_bad_unit.csv")  # load_runs collects it instead of raising
    assert result.records == [] and [p.render() for p in result.problems] == [expected]


def test_unit_typo_gets_a_suggestion(tmp_path):
    log = tmp_path / "runs.csv"
    log.write_text("model,energy_per_token [J/tokn]\nm,1\n")
    with pytest.raises(PerfError) as caught:
        perfdsl_csv.read(log)
    # The whole unit is quoted, mended: the suggestion can be pasted over the header's unit.
    assert caught.value.render().endswith("= help: did you mean 'J/token' or 'J/tok' or 'J/tokens'?")


def test_missing_file(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    result = load_runs(["missing.csv"])
    assert result.records == []
    assert [p.render() for p in result.problems] == [
        "error[log-missing]: no such file\n"
        "  --> missing.csv\n"
        "  = help: check the path; logs are read as given, relative to the current folder"]


def test_quoted_fields_and_duplicate_columns(tmp_path):
    log = tmp_path / "runs.csv"
    log.write_text('model,parallelism,runtime [s]\n"org/m, v2","tp2",1.5\n')
    result = load_runs(log)
    assert result.records[0].identity == {"model": "org/m, v2", "parallelism": "tp2"}
    log.write_text("model,runtime [s],runtime [ms]\nm,1,2\n")
    with pytest.raises(PerfError, match="column 'runtime' appears twice"):
        perfdsl_csv.read(log)


def test_jsonl(fixture_logs, monkeypatch):
    monkeypatch.chdir(fixture_logs)
    result = load_runs("runs.jsonl")
    assert [r.identity["n_gpus"] for r in result.records] == [1, 1, 8]
    assert result.records[1].metrics["runtime"].value == pytest.approx(3.2753)  # "3275.30" ms as a string
    assert result.records[2].metrics["runtime"].value == pytest.approx(4.24164)  # runtime [s]
    assert "memory" not in result.records[1].metrics
    assert [p.render() for p in result.problems] == [
        "warning[missing-value]: row 2 has no value for key 'memory [GB]'\n"
        "  --> runs.jsonl:2:121 (row 2, key 'memory [GB]')\n"
        "  |\n"
        '2 | {"model": "facebook/opt-6.7b", "hardware": "NVIDIA RTX A5000", "n_gpus": 1, "tokens": 16384, '
        '"runtime [ms]": "3275.30", "memory [GB]": null}\n'
        "  |" + " " * 121 + "^" * 13 + "\n"
        "  = note: row 2 is kept without 'memory'"]


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_write_and_read_back(repo_root, tmp_path, suffix):
    records = load_runs(repo_root / "data" / "seed_runs_a5000.csv").records
    out = tmp_path / f"runs.{suffix}"
    (write_runs_csv if suffix == "csv" else write_runs_jsonl)(records, out)
    assert os.listdir(tmp_path) == [out.name]  # the temporary file was moved into place, nothing left behind
    again = load_runs(out)
    assert again.problems == []
    for before, after in zip(records, again.records, strict=True):
        assert after.identity == before.identity
        assert after.extra["source"] == before.source
        for name, measurement in before.metrics.items():
            assert after.metrics[name].value == pytest.approx(measurement.value, rel=1e-12)
            assert after.metrics[name].unit == measurement.unit
    if suffix == "csv":
        assert out.read_text().splitlines()[:2] == [
            "model,hardware,n_gpus,tokens,runtime [ms],memory [GB],energy_per_token [J/token],source",
            f"facebook/opt-1.3b,NVIDIA RTX A5000,1,16384,693.77,5.53,0.01,{records[0].source}"]


def test_mixed_records_write_na_and_read_back_without_problems(fixture_logs, tmp_path):
    records = load_runs([fixture_logs / "vllm_throughput.json", fixture_logs / "runs.jsonl"]).records
    out = tmp_path / "runs.csv"
    write_runs_csv(records, out)
    again = load_runs(out)
    assert again.problems == []
    assert [r.identity for r in again.records] == [r.identity for r in records]
    assert "NA" in out.read_text()


def test_failed_write_keeps_the_old_file(repo_root, tmp_path):
    out = tmp_path / "runs.csv"
    out.write_text("old\n")
    records = load_runs(repo_root / "data" / "seed_runs_a5000.csv").records
    records[1].metrics["runtime"].dim = BYTES  # a column cannot hold two dimensions
    with pytest.raises(PerfError, match="mixed-dimensions"):
        write_runs_csv(records, out)
    assert out.read_text() == "old\n" and os.listdir(tmp_path) == ["runs.csv"]


def test_jsonl_keeps_line_separators_inside_strings(repo_root, tmp_path):
    # JSON allows U+2028 and U+2029 unescaped in a string; str.splitlines would cut the line there.
    records = load_runs(repo_root / "data" / "seed_runs_a5000.csv").records[:2]
    records[0].identity["model"] = "org/m\u2028two\u2029three"
    out = tmp_path / "runs.jsonl"
    write_runs_jsonl(records, out)
    again = load_runs(out)
    assert again.problems == []
    assert [r.identity["model"] for r in again.records] == ["org/m\u2028two\u2029three", "facebook/opt-6.7b"]


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_a_name_both_field_and_metric_is_refused_in_every_format(repo_root, tmp_path, suffix):
    records = load_runs(repo_root / "data" / "seed_runs_a5000.csv").records[:1]
    records[0].identity["runtime"] = "fast"
    out = tmp_path / f"runs.{suffix}"
    with pytest.raises(PerfError, match="'runtime' is an identifying field in .* and a metric in .*; one column "
                                        "cannot be both"):
        (write_runs_csv if suffix == "csv" else write_runs_jsonl)(records, out)
    assert not out.exists()


def test_a_row_cut_short_is_skipped_at_its_line_and_listed_as_unusable(repo_root, tmp_path, capsys):
    # The seed table with the clm-1.1b single-GPU row cut inside its runtime (747.17 ms -> '747.1', no memory or
    # energy): its 5 fields of the header's 7 are a truncated line, and its last value is not to be trusted, so the
    # row is skipped (as a row with too many fields is), never kept as a 747.1 ms run.
    import openpyxl

    from perfdsl.cli import main

    lines = (repo_root / "data" / "seed_runs_a5000.csv").read_text().splitlines()
    assert lines[6] == "AICrossSim/clm-1.1b,NVIDIA RTX A5000,1,16384,747.17,8.17,0.010"
    lines[6] = "AICrossSim/clm-1.1b,NVIDIA RTX A5000,1,16384,747.1"
    log = tmp_path / "runs.csv"
    log.write_text("\n".join(lines) + "\n")
    result = load_runs(log)
    assert len(result.records) == 12 - 1
    assert all(r.source != f"{log}:row 6" for r in result.records)
    assert [p.render() for p in result.problems] == [
        "warning[bad-row]: row 6 has 5 fields but the header has 7 columns; row 6 skipped\n"
        f"  --> {log}:7:46 (row 6)\n"
        "  |\n"
        "7 | AICrossSim/clm-1.1b,NVIDIA RTX A5000,1,16384,747.1\n"
        "  |                                              ^^^^^\n"
        "  = note: its last field, '747.1' (column 'runtime [ms]'), may be cut short; the columns after it are "
        "missing\n"
        "  = help: the row was cut (the log was still being written?) or edited by hand; fix or remove it"]
    out = tmp_path / "seed.xlsx"
    assert main(["eval", str(repo_root / "reports" / "seed_benchmark.perf"), "--measured", str(log),
                 "-o", str(out)]) == 0
    assert "warning[bad-row]: row 6 has 5 fields but the header has 7 columns" in capsys.readouterr().err
    rows = [list(r) for r in openpyxl.load_workbook(out)["Unmatched"].iter_rows(values_only=True)]
    assert ["unusable row", "row 6 has 5 fields but the header has 7 columns; row 6 skipped",
            f"{log}:7:46 (row 6)"] in rows


def test_a_quote_never_closed_names_every_row_it_swallows(tmp_path):
    # The csv module reads a quote left open on to the end of the file: the three rows from it are one "row" of one
    # field. Each is named (none is lost without a word), and the rows before it are kept.
    log = tmp_path / "runs.csv"
    log.write_text('model,hardware,runtime [ms]\n'
                   'facebook/opt-1.3b,NVIDIA RTX A5000,693.77\n'
                   '"facebook/opt-6.7b,NVIDIA RTX A5000,12\n'
                   'facebook/opt-1.3b,NVIDIA RTX A5000,700\n'
                   'facebook/opt-6.7b,NVIDIA RTX A5000,3275.3\n')
    result = load_runs(log)
    assert [r.source for r in result.records] == [f"{log}:row 1"]
    assert [p.render() for p in result.problems] == [
        "warning[bad-row]: rows 2 to 4 (lines 3 to 5) read as one row of 1 field, and the header has 3 columns: a "
        "quote in line 3 is never closed; rows 2 to 4 skipped\n"
        f"  --> {log}:3:1 (row 2)\n"
        "  |\n"
        '3 | "facebook/opt-6.7b,NVIDIA RTX A5000,12\n'
        "  | ^\n"
        '  = help: a field that holds a comma, a quote or a line break is written between double quotes, a quote '
        'inside it doubled (""); check the quotes of line 3']


def test_a_field_over_two_lines_is_kept_and_the_rows_after_it_are_numbered_by_their_lines(tmp_path):
    log = tmp_path / "runs.csv"
    log.write_text('model,hardware,runtime [ms],note\n'
                   'facebook/opt-1.3b,NVIDIA RTX A5000,693.77,"two\nlines"\n'
                   'facebook/opt-6.7b,NVIDIA RTX A5000,3275.3,one line\n')
    result = load_runs(log)
    assert not result.problems
    assert [(r.source, r.identity["note"]) for r in result.records] == [(f"{log}:row 1", "two\nlines"),
                                                                     (f"{log}:row 3", "one line")]


FIRST_RUN = "model,hardware,runtime [ms]\nfacebook/opt-1.3b,NVIDIA RTX A5000,693.77\n"
LAST_RUN = "facebook/opt-6.7b,NVIDIA RTX A5000,3275.3\n"


@pytest.mark.parametrize("between, last_row, message", [
    # Rows are the non-blank lines after the header: the blank line inside the quote was counted as a row, and
    # every later run's source was one row off.
    ('"facebook/opt-6.7b,NVIDIA RTX A5000,12\n\nfacebook/opt-1.3b,NVIDIA RTX A5000,700"\n', 4,
     "rows 2 to 3 (lines 3 to 5) read as one row of 1 field, and the header has 3 columns: a quote in line 3 is "
     "closed only in line 5; rows 2 to 3 skipped"),
    # Closed lines later at the end of a field: the header's field count, the model holding the rows between, taken
    # without a word.
    ('"facebook/opt-6.7b,NVIDIA RTX A5000,12\nfacebook/opt-1.3b,NVIDIA RTX A5000,5\n'
     'AICrossSim/clm-200m",NVIDIA RTX A5000,700\n', 5,
     "rows 2 to 4 (lines 3 to 5) read as one row whose 'model' holds line breaks: a quote in line 3 is closed only "
     "in line 5; rows 2 to 4 skipped"),
])
def test_a_quote_left_open_names_the_rows_as_the_file_shows_them(tmp_path, between, last_row, message):
    log = tmp_path / "runs.csv"
    log.write_text(FIRST_RUN + between + LAST_RUN)
    result = load_runs(log)
    assert [r.source for r in result.records] == [f"{log}:row 1", f"{log}:row {last_row}"]
    assert [p.message for p in result.problems] == [message]
