"""perfdsl reads back what it writes: an estimate written as `inf` (eval's CSV) is read and said to be not finite,
as JSON's null for it is said to be no value, never "cannot read"; text perfdsl guarded with a leading `'` against
spreadsheet formulas reads back as the text it was given, whichever writer wrote it (eval's CSV and JSON Lines,
ingest's CSV and JSON Lines) and whichever field held it (an identifying field, the source), while every write keeps
the guard (no written cell starts with a formula character)."""

from __future__ import annotations

import csv
import json

import pytest

from perfdsl.cli import main
from perfdsl.output import FORMULA_STARTS, neutralise, restore
from perfdsl.runlogs import load_runs, write_runs_csv, write_runs_jsonl
from perfdsl.runlogs.records import Measurement, RunRecord
from perfdsl.units import TIME

# Two GPU counts x two backends; rate divides by zero at one GPU, so eval writes inf there.
REPORT = """\
workload w {
    sweep n_gpus = [1, 2]
    sweep backend = ["+cmd", "vllm"]
}
costmodel c {
    runtime = 10 ms * workload.n_gpus
    rate = 1 Hz / (workload.n_gpus - 1)
}
report r {
    workload = w
    show c.runtime in ms as runtime
    show c.rate in 1/s as rate
}
"""

TEXTS = ["+cmd", "=1+1", "-x", "@a", "\t+x", "'+cmd", "''=x", "'quoted'", "'", "plain"]


@pytest.mark.parametrize("text", TEXTS)
def test_neutralise_is_undone_by_restore_and_never_leaves_a_formula(text):
    written = neutralise(text)
    assert restore(written) == text
    assert not written.startswith(FORMULA_STARTS)


def test_evals_csv_reads_back_inf_as_not_finite_and_the_guarded_text_as_written(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.perf").write_text(REPORT)
    assert main(["eval", "r.perf", "-o", "e.csv"]) == 0
    rows = list(csv.reader((tmp_path / "e.csv").open()))
    assert rows[1] == ["1", "'+cmd", "10.0", "inf"]                # the guard on write, and inf as eval writes it
    result = load_runs("e.csv")
    assert [r.identity for r in result.records] == [
        {"n_gpus": 1, "backend": "+cmd"}, {"n_gpus": 1, "backend": "vllm"},
        {"n_gpus": 2, "backend": "+cmd"}, {"n_gpus": 2, "backend": "vllm"}]
    assert [sorted(r.metrics) for r in result.records] == [["runtime"], ["runtime"], ["rate", "runtime"],
                                                           ["rate", "runtime"]]
    [problem] = [p for p in result.problems if p.code == "bad-value"]
    assert problem.severity == "warning"
    # One warning for the 1 x 2 rows at n_gpus = 1 (both backends), grouped.
    assert problem.message == f"'inf' in column 'rate [1/s]': not finite; not used ({1 * 2} rows)"
    assert problem.hints == ["a measurement is a finite number: perfdsl writes an estimate that is not finite (a "
                             "division by zero) as inf, which no run measures; write NA where a run has no value"]
    # And matched as a log: the guarded backend meets the sweep's "+cmd"; runtime compared at all 2 x 2 points.
    capsys.readouterr()
    assert main(["eval", "r.perf", "--measured", "e.csv", "--format", "csv"]) == 0
    out = list(csv.reader(capsys.readouterr().out.splitlines()))
    assert [row[4] for row in out[1:]] == ["10.0", "10.0", "20.0", "20.0"]      # runtime measured [ms]


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "Infinity"])
def test_a_value_that_is_not_finite_is_said_so_in_csv_and_json_lines(tmp_path, value):
    (tmp_path / "a.csv").write_text(f"model,runtime [ms]\nm,{value}\nm,5\n")
    (tmp_path / "a.jsonl").write_text(f'{{"model": "m", "runtime [ms]": {json.dumps(value)}}}\n'
                                      '{"model": "m", "runtime [ms]": 5}\n')
    (tmp_path / "b.jsonl").write_text('{"model": "m", "runtime [ms]": Infinity}\n{"model": "m", "runtime [ms]": 5}\n')
    for name, written in (("a.csv", f"'{value}'"), ("a.jsonl", json.dumps(value)), ("b.jsonl", "Infinity")):
        result = load_runs(tmp_path / name)
        assert len(result.records) == 1, name
        [problem] = result.problems
        assert (problem.code, problem.severity) == ("bad-value", "warning")
        assert problem.message.startswith(f"{written} ") and problem.message.endswith(": not finite; not used"), \
            problem.message


@pytest.mark.parametrize("writer, suffix", [(write_runs_csv, "csv"), (write_runs_jsonl, "jsonl")])
def test_ingests_output_reads_back_every_guarded_text_and_stays_guarded(tmp_path, writer, suffix):
    records = [RunRecord({"model": "m", "backend": text}, {"runtime": Measurement(0.025, TIME, "ms")},
                         f"{text}.log:row 1", {}, "test") for text in TEXTS]
    first, second = tmp_path / f"a.{suffix}", tmp_path / f"b.{suffix}"
    writer(records, first)
    read = load_runs(first).records
    assert [r.identity["backend"] for r in read] == TEXTS
    assert [r.extra["source"] for r in read] == [f"{text}.log:row 1" for text in TEXTS]
    writer(read, second)                                            # re-ingested: the same text, guarded the same
    assert [r.identity["backend"] for r in load_runs(second).records] == TEXTS
    lines = second.read_text().splitlines()[1 if suffix == "csv" else 0:]
    cells = ([row[1] for row in csv.reader(lines)] if suffix == "csv"
             else [json.loads(line)["backend"] for line in lines])
    assert cells == [neutralise(text) for text in TEXTS]
    assert not any(cell.startswith(FORMULA_STARTS) for cell in cells)
