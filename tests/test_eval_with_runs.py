"""The eval-with-runs flow as one API call (perfdsl.evaluate_with_runs) and its command-line contract: --measured
replaces the report's own logs, --add-measured adds to them, repeated runs of one point are combined by their
median, and an error in a log is exit status 1 with no output written."""

from __future__ import annotations

import csv
import io
import math
import shutil
from pathlib import Path

import pytest

import perfdsl
from perfdsl.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
SPEC = FIXTURES / "specs" / "matching.perf"
OWN_LOG = FIXTURES / "logs" / "matching_runs.csv"


def runtime_of(comparison, model: str, hardware: str, n_gpus: int) -> float:
    runtime = next(m for m in comparison.metrics if m.name == "runtime")
    records = comparison.result.records()
    point = next(i for i, r in enumerate(records) if (r["model"], r["hardware"], r["n_gpus"]) == (model, hardware,
                                                                                                  n_gpus))
    return runtime.measured[point]


def write_runs(path: Path, *rows: str) -> Path:
    path.write_text("model,hardware,n_gpus,tokens,runtime [ms]\n" + "".join(row + "\n" for row in rows))
    return path


def test_the_report_own_logs_by_default():
    evaluated = perfdsl.evaluate_with_runs(perfdsl.load(SPEC))
    assert [Path(log).resolve() for log in evaluated.logs] == [OWN_LOG.resolve()]
    assert runtime_of(evaluated.comparison, "tiny", "card_a", 1) == pytest.approx(25e-3)
    assert evaluated.exit_status == 0


def test_measured_replaces_the_report_own_logs(tmp_path):
    mine = write_runs(tmp_path / "mine.csv", "org/tiny,NVIDIA Card A,8,1000,50")
    evaluated = perfdsl.evaluate_with_runs(perfdsl.load(SPEC), measured=[str(mine)])
    assert evaluated.logs == [str(mine)]
    assert runtime_of(evaluated.comparison, "tiny", "card_a", 8) == pytest.approx(50e-3)
    assert math.isnan(runtime_of(evaluated.comparison, "tiny", "card_a", 1))      # the report's own log: not read


def test_add_measured_reads_them_as_well(tmp_path):
    more = write_runs(tmp_path / "more.csv", "org/small,NVIDIA Card B,8,1000,30")
    evaluated = perfdsl.evaluate_with_runs(perfdsl.load(SPEC), add_measured=[str(more)])
    assert runtime_of(evaluated.comparison, "tiny", "card_a", 1) == pytest.approx(25e-3)
    assert runtime_of(evaluated.comparison, "small", "card_b", 8) == pytest.approx(30e-3)


def test_repeated_runs_of_one_point_are_compared_by_their_median(tmp_path):
    repeats = write_runs(tmp_path / "repeats.csv", *(f"org/tiny,NVIDIA Card A,1,1000,{ms}" for ms in (24, 31, 25)))
    evaluated = perfdsl.evaluate_with_runs(perfdsl.load(SPEC), measured=[str(repeats)])
    assert runtime_of(evaluated.comparison, "tiny", "card_a", 1) == pytest.approx(25e-3)      # median of 24, 31, 25
    note = next(d for d in evaluated.diagnostics if d.code == "repeated-runs")
    assert note.render() == (
        "note[repeated-runs]: 1 sweep point has several runs; each metric compared is the median of its runs\n"
        f"  = note: model=tiny, hardware=card_a, n_gpus=1: 3 runs ({repeats}:row 1, {repeats}:row 2, "
        f"{repeats}:row 3)\n"
        "  = help: add an identifying field (a cell of the report) to the runs if they are not repeats")
    assert evaluated.exit_status == 0


def test_cli_measured_replaces_and_add_measured_adds(tmp_path, capsys):
    mine = write_runs(tmp_path / "mine.csv", "org/small,NVIDIA Card B,8,1000,50")

    def measured_runtimes(option: str) -> dict[tuple[str, str, str], str]:
        assert main(["eval", str(SPEC), option, str(mine), "--format", "csv"]) == 0
        rows = csv.DictReader(io.StringIO(capsys.readouterr().out))
        return {(r["model"], r["hardware"], r["n_gpus"]): r["runtime measured [ms]"] for r in rows
                if r["runtime measured [ms]"]}

    assert measured_runtimes("--measured") == {("small", "card_b", "8"): "50.0"}
    assert measured_runtimes("--add-measured") == {("tiny", "card_a", "1"): "25.0", ("tiny", "card_a", "8"): "40.0",
                                                   ("small", "card_b", "1"): "16.0", ("small", "card_b", "8"): "50.0"}


def test_an_error_in_a_log_is_exit_status_1_and_no_output_is_written(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    shutil.copy(FIXTURES / "logs" / "runs_bad_unit.csv", bad)
    out = tmp_path / "out.csv"
    assert main(["eval", str(SPEC), "--measured", str(bad), "-o", str(out)]) == 1
    assert not out.exists()
    assert "error[unknown-unit]: unknown unit 'fortnight' in column 'runtime [fortnight]'" in capsys.readouterr().err


def _unusable_log(tmp_path: Path) -> Path:
    """A log none of whose rows can be used: a batch in words, a runtime in a unit of memory."""
    bad = tmp_path / "bad.csv"
    bad.write_text("model,hardware,n_gpus,tokens,runtime [ms]\n"
                   "org/tiny,NVIDIA Card A,eight,1000,25\n"
                   "org/tiny,NVIDIA Card A,1,1000,7 GB\n")
    return bad


def test_a_log_with_no_usable_row_is_an_error_naming_it_beside_its_rows_warnings(tmp_path, capsys):
    # Before: the two warnings alone, the estimates compared with nothing, exit status 0.
    bad = _unusable_log(tmp_path)
    out = tmp_path / "out.csv"
    assert main(["eval", str(SPEC), "--measured", str(bad), "-o", str(out)]) == 1
    assert not out.exists()
    err = capsys.readouterr().err
    assert err.startswith(f"""\
error[no-rows]: no row of this log could be used: every run in it was skipped
  --> {bad}
  = help: the warnings at its rows say why each was skipped: mend them, or leave the log out

warning[bad-value]: cannot read 'eight' in column 'n_gpus': 'n_gpus' must be a whole number
""")
    assert "warning[bad-value]: cannot read '7 GB' as a number in column 'runtime [ms]'\n" in err
    assert err.endswith("\n1 error, 2 warnings\n")
    # Beside a log that gives runs, too: the report is compared with nothing from it, and says so.
    assert main(["eval", str(SPEC), "--add-measured", str(bad), "-o", str(out)]) == 1
    assert not out.exists()


def test_calibrate_and_ingest_refuse_a_log_with_no_usable_row_as_eval_does(tmp_path, capsys):
    bad = _unusable_log(tmp_path)
    good = write_runs(tmp_path / "good.csv", "org/tiny,NVIDIA Card A,1,1000,25")
    cal = tmp_path / "cal.perf"
    assert main(["calibrate", str(SPEC), "--measured", str(good), str(bad), "--fit", "card_a.peak=50..200",
                 "--bootstrap", "0", "--starts", "1", "-o", str(cal)]) == 1
    assert not cal.exists()
    assert capsys.readouterr().err.startswith("error[no-rows]: no row of this log could be used: every run in it was "
                                              f"skipped\n  --> {bad}\n")
    # ingest writes the runs of the logs it could use, and says which gave none.
    runs = tmp_path / "runs.csv"
    assert main(["ingest", str(good), str(bad), "-o", str(runs)]) == 1
    assert runs.read_text().count("\n") == 2            # the header and good.csv's run
    err = capsys.readouterr().err
    assert f"error[no-rows]: no row of this log could be used: every run in it was skipped\n  --> {bad}\n" in err
    assert err.endswith(f"ingest: 1 run from 2 logs (perfdsl-csv); wrote {runs}; 1 error, 2 warnings\n")


# `points = "runs"`: the runs' n_gpus and tp become two sweeps, whose product holds (n_gpus=1, tp=2) and other points
# that break the whole-replica constraint, though no run asks for them.
REPLICAS = """\
workload w {
    n_gpus = 1
    tp = 1
    batch = 1
}
costmodel c {
    replicas = workload.n_gpus / workload.tp
    require replicas == floor(replicas), "n_gpus is a whole multiple of tp"
    runtime = 12 ms / workload.n_gpus
}
report r {
    measured = "runs.csv"
    points = "runs"
    costmodel = c
    workload = w
    show c.runtime in ms as runtime
}
"""
WHOLE_REPLICAS = "n_gpus,tp,batch,runtime [ms]\n1,1,1,12\n2,2,1,6.5\n4,4,1,3\n"


def _replicas_report(tmp_path: Path, runs: str) -> Path:
    (tmp_path / "runs.csv").write_text(runs)
    path = tmp_path / "r.perf"
    path.write_text(REPLICAS)
    return path


def test_points_from_runs_do_not_warn_of_constraints_broken_where_no_run_asks(tmp_path, capsys):
    """3 runs, each a whole replica: the sweep n_gpus x tp = [1, 2, 4] x [1, 2, 4] breaks the constraint at
    (1, 2), (1, 4) and (2, 4), 3 of 9 points, which the warning counted; no run asks for them."""
    path = _replicas_report(tmp_path, WHOLE_REPLICAS)
    evaluated = perfdsl.evaluate_with_runs(perfdsl.load(path))
    assert [v.count for v in evaluated.result.violations] == [3]          # the sweep the runs span still has them
    assert evaluated.result.warnings == [] and evaluated.diagnostics == []
    assert main(["eval", str(path), "--strict", "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.splitlines()[0] == "n_gpus,tp,runtime [ms],runtime measured [ms],runtime error [%]"     # batch: 1 only
    assert len(out.splitlines()) == 1 + 3


def test_the_about_sheet_says_the_rows_are_the_points_the_runs_matched(tmp_path, capsys):
    """A workbook of 3 rows said "9 sweep points" on its About sheet (the product of the runs' n_gpus and tp): it
    says too that the rows are the 3 points a run matched."""
    path = _replicas_report(tmp_path, WHOLE_REPLICAS)
    assert main(["eval", str(path), "-o", str(tmp_path / "r.xlsx")]) == 0
    capsys.readouterr()
    import openpyxl

    book = openpyxl.load_workbook(tmp_path / "r.xlsx")
    assert book["r"].max_row == 2 + 3                                    # two header rows, three runs
    notes = [row[1] for row in book["About"].iter_rows(values_only=True) if row[0] in ("Note", None)]
    assert notes[:3] == ["Report 'r': 9 sweep points over the axes n_gpus (3), tp (3).",      # 3 x 3
                         'Rows shown: the 3 sweep points a run matched (points = "runs"), not all 9.',
                         "Constraints: 6 of 9 sweep points meet every constraint."]   # 3 break whole replicas


def test_a_run_that_asks_for_a_broken_point_is_counted_among_the_runs_points(tmp_path, capsys):
    """Two runs ask for (n_gpus=2, tp=4) at batch 1 and 8: 2 of the 2 x 4 points the runs ask for break the
    constraint (3 whole replicas at 2 batches, 6, and the 2 broken), quoted once as the whole evaluation names
    them, along the axes the constraint varies along."""
    path = _replicas_report(tmp_path, WHOLE_REPLICAS.replace("\n1,1,1,12", "\n1,1,1,12\n1,1,8,12\n2,2,8,6\n4,4,8,3")
                            + "2,4,1,7\n2,4,8,7\n")
    assert main(["eval", str(path), "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    assert err.startswith(
        "warning[constraint]: n_gpus is a whole multiple of tp: 2 of 8 sweep points break it, left out of the results\n"
        f"  --> {path}:8:13\n")
    assert "  = note: at n_gpus=2, tp=4\n  = in: costmodel.c\n" in err
    assert "warning[unmatched]: 2 runs without an estimate\n" in err
    assert len(out.splitlines()) == 1 + 6


# ---- the Python API after os.chdir: a program's file names are relative to the folder it was loaded in ----

def _report_and_a_decoy(tmp_path: Path) -> Path:
    """proj/specs/matching.perf with its log at proj/logs/ (the report names "../logs/matching_runs.csv"), and under
    elsewhere/ a log at the same relative place with other values: the file a path resolved against the new working
    folder would read instead."""
    for root in ("proj", "elsewhere/proj"):
        (tmp_path / root / "specs").mkdir(parents=True)
        (tmp_path / root / "logs").mkdir()
    shutil.copy(SPEC, tmp_path / "proj" / "specs" / "matching.perf")
    shutil.copy(OWN_LOG, tmp_path / "proj" / "logs" / "matching_runs.csv")
    write_runs(tmp_path / "elsewhere" / "proj" / "logs" / "matching_runs.csv", "org/tiny,NVIDIA Card A,1,1000,99")
    return tmp_path / "proj"


def test_the_report_own_logs_are_read_beside_it_after_a_chdir(tmp_path, monkeypatch):
    proj = _report_and_a_decoy(tmp_path)
    monkeypatch.chdir(tmp_path)
    program = perfdsl.load("proj/specs/matching.perf")                 # relative to tmp_path
    monkeypatch.chdir(tmp_path / "elsewhere")
    evaluated = perfdsl.evaluate_with_runs(program)
    assert [Path(log).resolve() for log in evaluated.logs] == [(proj / "logs" / "matching_runs.csv").resolve()]
    assert runtime_of(evaluated.comparison, "tiny", "card_a", 1) == pytest.approx(25e-3)    # not the decoy's 99 ms


def test_the_inputs_an_output_may_not_replace_are_the_files_read_after_a_chdir(tmp_path, monkeypatch):
    from perfdsl.measured import files_read

    proj = _report_and_a_decoy(tmp_path)
    monkeypatch.chdir(tmp_path)
    program = perfdsl.load("proj/specs/matching.perf")
    monkeypatch.chdir(tmp_path / "elsewhere")
    inputs = {Path(path).resolve() for path in files_read(program, [], None, None, [], ".")}
    assert {proj / "specs" / "matching.perf", proj / "logs" / "matching_runs.csv"} <= inputs
    assert not any(tmp_path / "elsewhere" in path.parents for path in inputs)


def test_the_workbook_goes_where_its_path_points_when_written(tmp_path, monkeypatch):
    """A relative output path is read against the working folder at the time of writing, as open() reads it."""
    proj = _report_and_a_decoy(tmp_path)
    monkeypatch.chdir(tmp_path)
    program = perfdsl.load("proj/specs/matching.perf")
    monkeypatch.chdir(tmp_path / "elsewhere")
    evaluated = perfdsl.evaluate_with_runs(program)
    written = perfdsl.export_workbook(evaluated.result, evaluated.comparison, "out.xlsx")
    assert written.resolve() == tmp_path / "elsewhere" / "out.xlsx" and written.resolve().is_file()
    assert not (tmp_path / "out.xlsx").exists() and not (proj / "specs" / "out.xlsx").exists()


def test_file_names_in_messages_stay_as_loaded_while_the_folder_is_the_same(tmp_path, monkeypatch):
    _report_and_a_decoy(tmp_path)
    monkeypatch.chdir(tmp_path)
    program = perfdsl.load("proj/specs/matching.perf")
    assert program.path_of("proj/specs/matching.perf") == "proj/specs/matching.perf"
    assert perfdsl.evaluate_with_runs(program).logs == ["proj/logs/matching_runs.csv"]
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert program.path_of("proj/specs/matching.perf") == str(tmp_path / "proj" / "specs" / "matching.perf")
    assert program.with_overrides({"n_gpus": 1}).path_of("proj/logs/x.csv") == str(tmp_path / "proj" / "logs" / "x.csv")


# -- a shown name measured in two columns: each its own Measured and Error, in its unit, as the workbook has them ----

def _shown_twice(tmp_path: Path, shows: str) -> Path:
    """matching.perf with its show replaced by `shows` and a cell `runtime2`, twice `runtime`."""
    text = SPEC.read_text().replace("    throughput = workload.tokens",
                                    "    runtime2 = 4 FLOP * model.params * workload.tokens / hardware.peak\n"
                                    "    throughput = workload.tokens")
    text = text.replace('"../logs/matching_runs.csv"', f'"{OWN_LOG.resolve().as_posix()}"')
    start = text.index("    show model.hf_id")
    path = tmp_path / "twice.perf"
    path.write_text(text[:start] + f"    show {shows}\n}}\n")
    return path


def _csv_row(capsys, path: Path, fmt: str = "csv") -> dict:
    assert main(["eval", str(path), "--format", fmt, "-q"]) == 0
    out = capsys.readouterr().out
    rows = list(csv.DictReader(io.StringIO(out))) if fmt == "csv" else __import__("json").loads(out)
    return next(r for r in rows if (r["model"], r["hardware"], str(r["n_gpus"])) == ("tiny", "card_a", "1"))


def _workbook_groups(path: Path, sheet: str = "Single GPU") -> dict:
    """(group title, column) -> the value on the row of tiny, card_a, n_gpus=1 (errors: their formula's inputs)."""
    openpyxl = pytest.importorskip("openpyxl")
    grid = [list(row) for row in openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True)]
    groups, group = [], None
    for top in grid[0]:
        group = top if top is not None else group
        groups.append(group)
    row = next(r for r in grid[2:] if r[0] == "org/tiny" and r[1] == "card_a" and r[2] == 1)
    return {(g, below): value for g, below, value in zip(groups, grid[1], row) if below in ("Measured", "Estimated")}


def test_one_cell_shown_in_two_units_is_measured_in_each(tmp_path, capsys):
    # Before: one pair, `runtime measured [s]` and `runtime error [%]`, in the last show's unit; the workbook had a
    # Measured per show. The run of tiny on card_a with 1 GPU measured 25 ms; the estimate is
    # 2 FLOP x 1e9 x 1000 / 100 TFLOP/s = 0.02 s = 20 ms: error (20 - 25) / 25 = -20 %, in either unit.
    path = _shown_twice(tmp_path, "model.hf_id as Model, cost.runtime in ms as runtime, cost.runtime in s as runtime")
    row = _csv_row(capsys, path)
    assert list(row)[-4:] == ["runtime measured [ms]", "runtime [ms] error [%]", "runtime measured [s]",
                              "runtime [s] error [%]"]
    assert float(row["runtime measured [ms]"]) == 25.0 and float(row["runtime measured [s]"]) == 0.025
    assert float(row["runtime [ms] error [%]"]) == pytest.approx((20 - 25) / 25 * 100)
    assert float(row["runtime [s] error [%]"]) == pytest.approx((0.02 - 0.025) / 0.025 * 100)
    assert _csv_row(capsys, path, "json")["runtime measured [s]"] == 0.025
    out = tmp_path / "twice.xlsx"
    assert main(["eval", str(path), "-o", str(out), "-q"]) == 0
    assert _workbook_groups(out) == {("Runtime (ms)", "Measured"): 25.0, ("Runtime (ms)", "Estimated"): 20.0,
                                     ("Runtime (s)", "Measured"): 0.025, ("Runtime (s)", "Estimated"): 0.02}


def test_two_cells_shown_under_one_label_are_each_compared_with_its_own_estimate(tmp_path, capsys):
    # Before: `runtime measured [s]` beside the error of the first show's estimate (20 ms against 25 ms: -20 %). The
    # run's 25 ms is set beside each: runtime2 = 4 FLOP x 1e9 x 1000 / 100 TFLOP/s = 0.04 s, error
    # (0.04 - 0.025) / 0.025 = +60 %; runtime's 20 ms, error (20 - 25) / 25 = -20 %. The workbook says the same.
    path = _shown_twice(tmp_path, "model.hf_id as Model, cost.runtime in ms as runtime, cost.runtime2 in s as runtime")
    row = _csv_row(capsys, path)
    assert float(row["runtime [s]"]) == pytest.approx(4 * 1e9 * 1000 / 100e12)
    assert float(row["runtime measured [ms]"]) == 25.0 and float(row["runtime measured [s]"]) == 0.025
    assert float(row["runtime [ms] error [%]"]) == pytest.approx((20 - 25) / 25 * 100)
    assert float(row["runtime [s] error [%]"]) == pytest.approx((0.04 - 0.025) / 0.025 * 100)
    out = tmp_path / "twice.xlsx"
    assert main(["eval", str(path), "-o", str(out), "-q"]) == 0
    assert _workbook_groups(out) == {("Runtime (ms)", "Measured"): 25.0, ("Runtime (ms)", "Estimated"): 20.0,
                                     ("Runtime (s)", "Measured"): 0.025, ("Runtime (s)", "Estimated"): 0.04}


def test_a_label_on_cells_of_two_dimensions_is_compared_where_the_run_dimension_agrees(tmp_path, capsys):
    # Before: the last show's dimension (token/s) stood for the name, so the run's 25 ms was compared with nothing
    # and a unit-mismatch warning said so. Now the duration column takes it: (20 - 25) / 25 = -20 %, no warning.
    path = _shown_twice(tmp_path, "model.hf_id as Model, cost.runtime in ms as runtime, "
                                  "cost.throughput in token/s as runtime")
    assert main(["eval", str(path), "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    row = next(r for r in csv.DictReader(io.StringIO(out)) if (r["model"], r["hardware"], r["n_gpus"]) ==
               ("tiny", "card_a", "1"))
    assert list(row)[-2:] == ["runtime measured [ms]", "runtime error [%]"]
    assert float(row["runtime error [%]"]) == pytest.approx((20 - 25) / 25 * 100)
    assert "unit-mismatch" not in err


@pytest.mark.parametrize("shows", ["cost.runtime in ms as runtime, cost.throughput in token/s as runtime",
                                   "cost.throughput in token/s as runtime, cost.runtime in ms as runtime"])
def test_a_label_on_cells_of_two_dimensions_has_a_measured_group_in_the_workbook_where_csv_has_one(tmp_path, capsys,
                                                                                                   shows):
    # Before: the workbook gave the token/s group a Measured and an Error column too, empty on every row (the runs
    # measure a duration: CSV has no `measured` column for it); now its Estimated stands alone, either order. The
    # duration group is compared as CSV compares it: 25 ms measured, 20 ms estimated; the throughput estimate is
    # tokens / runtime = 1000 / 0.02 s = 50000 token/s.
    path = _shown_twice(tmp_path, "model.hf_id as Model, " + shows)
    assert [key for key in _csv_row(capsys, path) if "measured" in key or "error" in key] == [
        "runtime measured [ms]", "runtime error [%]"]
    out = tmp_path / "twice.xlsx"
    assert main(["eval", str(path), "-o", str(out), "-q"]) == 0
    assert _workbook_groups(out) == {("Runtime (ms)", "Measured"): 25.0, ("Runtime (ms)", "Estimated"): 20.0,
                                     ("Runtime (token/s)", "Estimated"): 1000 / 0.02}
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.load_workbook(out)
    headers = [cell.value for cell in book["Single GPU"][2]]
    assert headers.count("Measured") == headers.count("Error") == 1
    about = {row[0]: row[1] for row in book["About"].iter_rows(values_only=True)}
    assert "(Estimated alone for Runtime (token/s): no run compared carries it)" in about["Sheets"]


def test_a_power_log_beside_a_serving_report_is_told_the_missing_key_in_its_side_metadata(tmp_path, capsys):
    # An nvidia-smi log (one run: energy, power) beside a report swept over request_rate: the hint's example side
    # metadata was {"model": "...", "hardware": "..."}, keys that were not the missing one.
    spec = tmp_path / "serving.perf"
    spec.write_text("workload load { sweep request_rate = [0.5 request/s, 2 request/s] }\n"
                    "costmodel c { e2e = 1 s * (2 request/s) / workload.request_rate }\n"
                    "report r {\n    workload = load\n    show c.e2e in s as e2e_latency\n}\n")
    log = tmp_path / "smi.csv"
    log.write_text("energy [J],power [W],window_duration [s]\n1766.17,71.97,24.54\n")
    assert main(["eval", str(spec), "--measured", str(log), "--format", "csv"]) == 1
    err = capsys.readouterr().err
    assert ("  = note: its runs give no identifying field, so each would match all 2 sweep points (they differ in "
            "request_rate)\n") in err
    # the axis's first value, 0.5 request/s, in SI as matching compares it
    assert ("  = help: give the identifying fields (request_rate) as side metadata: perfdsl ingest LOG --meta "
            'side.json with the run\'s values, e.g. {"request_rate": 0.5}, or a file LOG.meta.json beside the '
            "log\n") in err


def test_a_sweep_too_large_with_runs_is_not_told_to_stream_its_rows(tmp_path, capsys, monkeypatch):
    # A report matched with run logs is evaluated at once, never in chunks: the general help ("`perfdsl eval FILE -o
    # OUT.csv` streams the rows") was given to a newcomer who had typed -o m.csv with --add-measured already.
    monkeypatch.setattr("perfdsl.chunks.WHOLE_EVALUATION_BYTES", 64)      # bytes: the 1,600 points need 136
    more = write_runs(tmp_path / "more.csv", "org/small,NVIDIA Card B,8,1000,30")
    out = tmp_path / "m.csv"
    # exit status 1: at this bound the report's own sweep is too large too, so the spec is at fault, not the --set
    assert main(["eval", str(SPEC), "--set", "n_gpus=1 .. 400", "--add-measured", str(more), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error[sweep-too-large]: "), err
    assert [line for line in err.splitlines() if "help:" in line] == [
        "   = help: --add-measured names run logs, and a report matched with run logs is evaluated at once, never in "
        "chunks: narrow the sweep with --set (to the points the runs measured), or leave out --add-measured to "
        "evaluate it in chunks (-o OUT.csv, .jsonl or .parquet streams the rows)"]
    assert not out.exists()
    # the report's own logs: named by its `measured` cell, which the help points at
    assert main(["eval", str(SPEC), "--set", "n_gpus=1 .. 400", "-o", str(out)]) == 1
    assert "= help: the report 'matched' names run logs in its cell `measured` (" in capsys.readouterr().err
