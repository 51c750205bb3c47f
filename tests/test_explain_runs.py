"""`perfdsl explain` of a report with `points = "runs"`: it explains at the points eval's rows have (those the runs
matched, over the axes the runs' fields make), takes `--measured` / `--add-measured` as eval does, accepts `--at` on
those axes (n_gpus), and says which run it took where several match."""

from __future__ import annotations

from pathlib import Path

import pytest

import perfdsl

# runtime = 10 ms * batch / n_gpus * seq_len / 128 and memory = 40 GB / n_gpus, where the runs set batch, n_gpus and
# seq_len: the three runs are eval's three rows (1, 1, 128), (4, 2, 128) and (8, 1, 256), in the sweep's order.
REPORT = """\
workload w {
    batch = 1
    n_gpus = 1
    seq_len = 128
}
costmodel c {
    runtime = 10 ms * workload.batch / workload.n_gpus * workload.seq_len / 128
    memory = 40 GB / workload.n_gpus
}
report r {
    points = "runs"
    measured = "runs.csv"
    workload = w
    show c.runtime in ms as runtime, c.memory in GB as memory
}
"""
RUNS = "batch,n_gpus,seq_len,runtime [ms]\n1,1,128,11\n4,2,128,19\n8,1,256,170\n"


@pytest.fixture
def work(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PERFDSL_NO_CACHE", "1")
    (tmp_path / "r.perf").write_text(REPORT)
    (tmp_path / "runs.csv").write_text(RUNS)
    return tmp_path


def head(out: str) -> list[str]:
    """The value line and the `at:` line of an explain output."""
    lines = out.splitlines()
    return [lines[0], next(line for line in lines if line.startswith("  at: "))]


def test_at_an_axis_the_runs_make_picks_that_run(work, run):
    code, out, err = run("explain", "r.perf", "c.runtime", "--at", "n_gpus=2")
    assert (code, err) == (0, "")
    assert head(out) == [f"c.runtime = {10 * 4 / 2 * 128 / 128:g} ms", "  at: batch=4, n_gpus=2, seq_len=128"]


def test_the_value_explained_is_the_one_eval_shows(work, run):
    code, out, _ = run("eval", "r.perf")
    assert code == 0
    row = next(line.split() for line in out.splitlines() if line.split()[:3] == ["4", "2", "128"])
    assert row[3:5] == ["20", "20"]                                 # runtime 10 ms * 4 / 2, memory 40 GB / 2
    code, out, _ = run("explain", "r.perf", "memory", "--at", "batch=4")
    assert code == 0
    # memory reads n_gpus only: the row's batch and seq_len are named, marked as changing nothing
    assert head(out) == [f"memory: c.memory = {40 / 2:g} GB",
                         "  at: batch=4*, n_gpus=2, seq_len=128* (*: the value does not depend on batch, seq_len)"]


def test_without_at_the_first_run_is_explained_and_the_others_are_named(work, run):
    code, out, _ = run("explain", "r.perf", "c.runtime")
    assert code == 0
    assert head(out) == ["c.runtime = 10 ms",
                         "  at: batch=1, n_gpus=1, seq_len=128 (the first of 3 runs' points; the others have "
                         "batch=4, n_gpus=2; batch=8, seq_len=256; choose with --at AXIS=VALUE)"]


def test_several_runs_matching_at_say_which_was_taken(work, run):
    code, out, _ = run("explain", "r.perf", "c.runtime", "--at", "n_gpus=1")
    assert code == 0
    assert head(out) == ["c.runtime = 10 ms",
                         "  at: batch=1, n_gpus=1, seq_len=128 (the first of 2 runs' points that match --at; the "
                         "other has batch=8, seq_len=256; choose with --at AXIS=VALUE)"]
    code, out, _ = run("explain", "r.perf", "c.runtime", "--at", "n_gpus=1", "--at", "batch=8")
    assert head(out) == [f"c.runtime = {10 * 8 / 1 * 256 / 128:g} ms", "  at: batch=8, n_gpus=1, seq_len=256"]


def test_runs_that_give_the_cell_one_value_need_no_choice(work, run):
    # Both runs on one GPU have memory 40 GB / 1: which of them is explained changes nothing, so nothing is said.
    code, out, _ = run("explain", "r.perf", "c.memory", "--at", "n_gpus=1")
    assert code == 0
    assert head(out) == ["c.memory = 40 GB",
                         "  at: batch=1*, n_gpus=1, seq_len=128* (*: the value does not depend on batch, seq_len)"]


def test_at_values_no_run_has_is_a_usage_error_that_lists_the_runs(work, run):
    code, out, err = run("explain", "r.perf", "c.runtime", "--at", "n_gpus=2", "--at", "batch=1")
    assert (code, out) == (2, "")
    assert err.splitlines()[:2] == [
        "error[bad-point]: no run's point has n_gpus=2, batch=1",
        "  = help: the report has points = \"runs\": its points are those its runs matched: batch=1, n_gpus=1, "
        "seq_len=128; batch=4, n_gpus=2, seq_len=128; batch=8, n_gpus=1, seq_len=256"]


def test_measured_replaces_the_reports_runs_and_add_measured_adds_to_them(work, run):
    (work / "other.csv").write_text("batch,n_gpus,seq_len,runtime [ms]\n2,4,128,6\n")
    code, out, _ = run("explain", "r.perf", "c.runtime", "--measured", "other.csv")
    assert code == 0
    # One run: its fields are single values, not axes (as eval's table, which has no column for them).
    assert head(out) == [f"c.runtime = {10 * 2 / 4 * 128 / 128:g} ms", "  at: the only point"]
    code, out, _ = run("explain", "r.perf", "c.runtime", "--add-measured", "other.csv", "--at", "n_gpus=4")
    assert head(out) == [f"c.runtime = {10 * 2 / 4:g} ms", "  at: batch=2, n_gpus=4, seq_len=128"]
    code, out, _ = run("explain", "r.perf", "c.runtime", "--add-measured", "other.csv", "--at", "n_gpus=2")
    assert head(out) == [f"c.runtime = {10 * 4 / 2:g} ms", "  at: batch=4, n_gpus=2, seq_len=128"]


def test_a_log_given_that_does_not_exist_is_a_usage_error(work, run):
    code, out, err = run("explain", "r.perf", "c.runtime", "--measured", "nosuch.csv")
    assert (code, out) == (2, "")
    assert "nosuch.csv" in err.splitlines()[0]


def test_set_wins_over_the_runs(work, run):
    # --set n_gpus=2 holds n_gpus at 2 for every run (as eval does): the run (4, 2, 128) is the only one left.
    code, out, _ = run("explain", "r.perf", "c.runtime", "--set", "n_gpus=2")
    assert code == 0
    assert head(out)[0] == f"c.runtime = {10 * 4 / 2:g} ms"


def test_without_runs_an_axis_the_runs_would_make_is_refused_with_a_hint(work, run):
    (work / "bare.perf").write_text(REPORT.replace('    measured = "runs.csv"\n', ""))
    code, out, err = run("explain", "bare.perf", "c.runtime", "--at", "n_gpus=2")
    assert (code, out) == (2, "")
    lines = err.splitlines()
    assert lines[0] == "error[bad-point]: the report has no axis 'n_gpus'"
    assert "  = help: the report has points = \"runs\" and no runs: its runs' fields become axes where they are " \
        "given (--measured LOG, or the report's `measured` cell)" in lines


def test_a_bare_axis_the_runs_make_reads_alike_in_check_eval_plot_and_explain(work, run):
    # `where batch <= 4`: batch is an axis only once the runs are read (its runs' field sweeps w.batch). Before:
    # check and eval refused it (error[unknown-name]: unknown name 'batch' in report 'r'; eval prepared the report
    # before the runs made the axis, check reads no runs), while plot and explain, which read the runs first,
    # kept 2 of the 3 runs. Now the bare name is the cell the runs' field sweeps (workload.batch) in all four.
    pytest.importorskip("matplotlib")
    bare = REPORT.replace("    workload = w\n", "    workload = w\n    where batch <= 4\n")
    (work / "bare.perf").write_text(bare)
    (work / "dotted.perf").write_text(bare.replace("where batch", "where workload.batch"))
    code, out, err = run("check", "bare.perf")
    assert (code, out) == (0, "") and err.startswith("ok: 1 file")
    code, bare_rows, err = run("eval", "bare.perf", "--format", "csv")
    assert (code, err) == (0, "")
    # the runs (1, 1, 128) and (4, 2, 128): runtime 10 ms * batch / n_gpus, memory 40 GB / n_gpus; measured 11, 19
    lines = bare_rows.splitlines()
    assert lines[0] == "batch,n_gpus,seq_len,runtime [ms],memory [GB],runtime measured [ms],runtime error [%]"
    assert [[float(v) for v in line.split(",")] for line in lines[1:]] == [
        [1, 1, 128, 10 * 1 / 1, 40 / 1, 11, pytest.approx((10 - 11) / 11 * 100)],
        [4, 2, 128, 10 * 4 / 2, 40 / 2, 19, pytest.approx((20 - 19) / 19 * 100)]]
    assert run("eval", "dotted.perf", "--format", "csv")[1] == bare_rows
    code, out, _ = run("explain", "bare.perf", "c.runtime")
    assert code == 0
    assert head(out)[1] == ("  at: batch=1, n_gpus=1, seq_len=128 (the first of 2 runs' points; the other has "
                            "batch=4, n_gpus=2; choose with --at AXIS=VALUE; 2 of 3 runs' points: where batch <= 4)")
    code, _, err = run("plot", "bare.perf", "-o", "bare.png")
    assert code == 0
    assert err == "wrote bare.png (r: runtime per batch and n_gpus, at the runs' points; 2 of 3 runs' points: " \
                  "where batch <= 4)\n"
    # Runs that do not carry batch make no axis of it: the name reads the cell (w.batch = 1), which meets the
    # condition at every run, in eval as in check.
    (work / "nobatch.csv").write_text("n_gpus,runtime [ms]\n1,11\n2,19\n")
    code, out, _ = run("eval", "bare.perf", "--measured", "nobatch.csv", "--format", "csv")
    assert code == 0
    assert [line.split(",")[:2] for line in out.splitlines()] == [["n_gpus", "runtime [ms]"], ["1", "10.0"],
                                                                 ["2", f"{10 * 1 / 2:.1f}"]]


def test_a_report_of_sweep_points_is_explained_as_before(work, run):
    (work / "sweep.perf").write_text(REPORT.replace('points = "runs"', 'points = "sweep"')
                                     .replace("batch = 1", "sweep batch = [1, 2]"))
    code, out, _ = run("explain", "sweep.perf", "c.runtime", "--at", "batch=2")
    assert code == 0
    assert head(out) == [f"c.runtime = {10 * 2:g} ms", "  at: batch=2"]


def test_logs_given_for_a_report_of_sweep_points_are_checked_and_said_to_be_unread(work, run):
    # explain --measured of a report that sweeps its own points printed the tree and exit 0 without a word, even for
    # a log that does not exist (eval and plot: no-such-file, exit 2).
    (work / "sweep.perf").write_text(REPORT.replace('points = "runs"', 'points = "sweep"')
                                     .replace("batch = 1", "sweep batch = [1, 2]"))
    code, out, err = run("explain", "sweep.perf", "c.runtime", "--measured", "nosuch.csv")
    assert (code, out) == (2, "") and err.startswith("error[no-such-file]: cannot read the run log 'nosuch.csv'")
    code, out, err = run("explain", "sweep.perf", "c.runtime", "--at", "batch=2", "--add-measured", "runs.csv")
    assert code == 0 and head(out) == [f"c.runtime = {10 * 2:g} ms", "  at: batch=2"]
    assert err == ("note[logs-not-read]: explain reads --measured and --add-measured for a report with points = "
                   "\"runs\" only: report 'r' sweeps its own points, so 'runs.csv' was not read\n"
                   "  = help: leave them out: explain shows the cost model's formulas; eval --measured sets the runs "
                   "beside them\n\n")


# The newcomer's case: Llama-3.1-70B bf16 on A100-80GB is one run, on two GPUs (pp = n_gpus = 2): eval's row has memory
# 70596 MB; explain took n_gpus as 1 (141.17 GB, pp = 1) and refused --at n_gpus=2.
ROOT = Path(__file__).resolve().parents[1]
OPTIMUM_LOGS = sorted((ROOT.parent / "shared" / "logs" / "01_optimum_benchmark").glob("derekliu35_*.json"))


@pytest.mark.skipif(not OPTIMUM_LOGS, reason="../shared/logs/01_optimum_benchmark is absent")
def test_published_optimum_70b_on_a100_is_the_two_gpu_run(run, capsys):
    report = str(ROOT / "reports" / "published_optimum.perf")
    logs = ["--measured", *map(str, OPTIMUM_LOGS)]
    evaluated = perfdsl.evaluate_with_runs(perfdsl.load([report]), measured=[str(log) for log in OPTIMUM_LOGS])
    keys, columns = evaluated.comparison.table()
    rows = [dict(zip(keys, values)) for values in zip(*columns)]
    (row,) = [r for r in rows if r["model"] == "llama3_1_70b_instruct" and r["hardware"] == "a100_80gb_sxm4"]
    assert (row["precision"], row["n_gpus"]) == ("bf16", 2)
    memory_mb = round(float(row["memory [MB]"]))
    assert memory_mb == 70596
    for at in (["--at", "model=llama3_1_70b_instruct", "--at", "hardware=a100_80gb_sxm4", "--at", "precision=bf16"],
               ["--at", "n_gpus=2"]):
        code, out, _ = run("explain", report, "memory.peak", *logs, *at, "--depth", "0")
        assert code == 0
        assert head(out) == [f"memory.peak = {memory_mb} MB",       # in MB, as the report shows it
                             "  at: model=llama3_1_70b_instruct, hardware=a100_80gb_sxm4*, precision=bf16, n_gpus=2 "
                             "(*: the value does not depend on hardware)"]
    code, out, _ = run("explain", report, "workload.pp", *logs, "--at", "n_gpus=2")
    assert head(out) == ["workload.pp -> optimum_generate.pp = 2",
                         "  at: model=llama3_1_70b_instruct*, hardware=a100_80gb_sxm4*, precision=bf16*, n_gpus=2 "
                         "(*: the value does not depend on model, hardware, precision)"]


def test_a_where_says_how_many_of_the_runs_points_it_keeps(work, run):
    """`where workload.batch <= 4` keeps the runs (1, 1, 128) and (4, 2, 128) of the three: the `at:` line says so,
    as plot's "3 of 6 points: where batch <= 4" does for a sweep. It said "the first of 2 runs' points" only, and an
    --at on the run left out was "no run's point has batch=8", though a run has it."""
    (work / "kept.perf").write_text(REPORT.replace("    workload = w\n",
                                                   "    workload = w\n    where workload.batch <= 4\n"))
    code, out, _ = run("explain", "kept.perf", "c.runtime")
    assert code == 0
    assert head(out) == ["c.runtime = 10 ms",
                         "  at: batch=1, n_gpus=1, seq_len=128 (the first of 2 runs' points; the other has batch=4, "
                         "n_gpus=2; choose with --at AXIS=VALUE; 2 of 3 runs' points: where workload.batch <= 4)"]
    # On one GPU: (1, 1, 128) kept, (8, 1, 256) left out; the one left is explained, and the line says what was left.
    code, out, _ = run("explain", "kept.perf", "c.runtime", "--at", "n_gpus=1")
    assert head(out) == ["c.runtime = 10 ms", "  at: batch=1, n_gpus=1, seq_len=128 (1 of 2 runs' points that match "
                         "--at: where workload.batch <= 4)"]
    code, out, err = run("explain", "kept.perf", "c.runtime", "--at", "batch=8")
    assert (code, out) == (2, "")
    assert err.splitlines()[:2] == [
        "error[bad-point]: the report's where workload.batch <= 4 leaves out the runs' point with batch=8: batch=8, "
        "n_gpus=1, seq_len=256",
        "  = help: the report has points = \"runs\": its points are those its runs matched that it keeps: batch=1, "
        "n_gpus=1, seq_len=128; batch=4, n_gpus=2, seq_len=128"]


def test_a_shown_cell_is_explained_in_the_unit_the_report_shows_it_in(work, run):
    # `show c.m in MiB as m`: explain gave 2.5 GB (its own readable unit) where the output has 2384.19 MiB.
    from perfdsl.render import format_number

    (work / "units.perf").write_text("costmodel c { m = 2.5 GB; k = 2 * m }\n"
                                     "report r { show c.m in MiB as m, c.k }\n")
    mib = format_number(2.5e9 / 2**20)
    for asked in ("m", "c.m"):
        code, out, _ = run("explain", "units.perf", asked)
        assert code == 0 and out.splitlines()[0].endswith(f"c.m = {mib} MiB"), out
    code, out, _ = run("explain", "units.perf", "c.k")         # shown without a unit: its readable one
    assert out.splitlines()[0] == "c.k = 5 GB"
