"""nvidia-smi CSV logs: energy by trapezoids over the timestamps, per GPU, inside a window."""

from datetime import datetime, timezone

import pytest

from perfdsl.runlogs import detect_format, load_runs
from perfdsl.errors import PerfError
from perfdsl.runlogs import nvidia_smi

MIB = 2**20


def epoch(text):
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def test_sample_whole_log(shared_logs):
    path = shared_logs / "03_nvidia_smi" / "ap461719_llama2-7b_gpu_power_log.csv"
    assert detect_format(path) == "nvidia-smi"
    result = load_runs(path)
    assert result.problems == []
    [record] = result.records
    assert record.identity == {}  # no name column: the GPU model is unknown (PROVENANCE.md guesses an L4)
    m = record.metrics
    assert m["window_duration"].value == pytest.approx(43.262 - 18.720)  # 19:53:18.720 .. 19:53:43.262
    # The trapezoids over all 25 samples, added by hand: 1766.17 J, i.e. a mean of about 71.97 W over 24.542 s.
    assert m["energy"].value == pytest.approx(1766.174, abs=0.01)
    assert m["power"].value == pytest.approx(1766.174 / 24.542, abs=0.001)
    assert m["peak_power"].value == 72.99  # 19:53:29.256
    assert m["memory_global_vram"].value == 14217 * MIB and m["memory_global_vram"].unit == "MiB"  # last four samples
    assert m["gpu_utilization"].value == pytest.approx(0.9648)  # (95 + 96*11 + 97*13) / 25 %
    assert record.extra["samples"] == 25 and record.source.endswith("gpu_power_log.csv:rows 1-25")


def test_sample_first_three_samples_by_hand(shared_logs):
    path = shared_logs / "03_nvidia_smi" / "ap461719_llama2-7b_gpu_power_log.csv"
    # 18.720 71.80 W, 19.722 70.93 W, 20.723 72.14 W
    result = load_runs(path, window=(epoch("2025-04-16T19:53:18.720"), epoch("2025-04-16T19:53:20.723")))
    [record] = result.records
    expected = 1.002 * (71.80 + 70.93) / 2 + 1.001 * (70.93 + 72.14) / 2
    assert record.metrics["energy"].value == pytest.approx(expected, rel=1e-6)
    assert record.metrics["memory_global_vram"].value == 13285 * MIB
    assert record.metrics["peak_power"].value == 72.14
    assert record.source.endswith(":rows 1-3")


def test_window_edges_interpolate(shared_logs):
    path = shared_logs / "03_nvidia_smi" / "ap461719_llama2-7b_gpu_power_log.csv"
    # ISO window in the side metadata; starts half a second after the first sample
    result = load_runs(path, side={"window": ["2025-04-16T19:53:19.222", "2025-04-16T19:53:20.723"]})
    [record] = result.records
    at_start = 71.80 + (70.93 - 71.80) * (0.502 / 1.002)
    expected = 0.5 * (at_start + 70.93) / 2 + 1.001 * (70.93 + 72.14) / 2
    assert record.metrics["energy"].value == pytest.approx(expected, rel=1e-6)
    assert record.metrics["window_duration"].value == pytest.approx(1.501)


def test_two_gpus_with_names(fixture_logs, monkeypatch):
    monkeypatch.chdir(fixture_logs)
    result = load_runs("nvidia_smi_two_gpus.csv")
    gpu0, gpu1 = result.records
    assert gpu0.identity == {"hardware": "NVIDIA RTX A5000", "gpu_index": 0}
    assert gpu1.identity == {"hardware": "NVIDIA RTX A5000", "gpu_index": 1}
    assert gpu0.metrics["energy"].value == pytest.approx(1 * (100 + 200) / 2 + 2 * (200 + 200) / 2)  # 550 J
    assert gpu0.metrics["power"].value == pytest.approx(550 / 3)
    assert gpu0.metrics["memory_global_vram"].value == 3000 * MIB
    # gpu 1's middle power sample is [N/A]: integrated from the two others, 3 s * (50 + 150) / 2
    assert gpu1.metrics["energy"].value == pytest.approx(300)
    assert gpu1.metrics["memory_global_vram"].value == 900 * MIB
    assert gpu0.extra["unused_columns"] == ["temperature.gpu"]
    assert gpu1.source == "nvidia_smi_two_gpus.csv:rows 2-6 (gpu 1)"
    assert [p.render() for p in result.problems] == [
        "note[unused-column]: column 'temperature.gpu' is not read: perfdsl reads power.draw (or .instant, .average), "
        "memory.used and utilization.gpu from an nvidia-smi log\n"
        "  --> nvidia_smi_two_gpus.csv:1:60 (column 'temperature.gpu')",
        "warning[bad-value]: cannot read '[N/A]' as a power in column 'power.draw' of gpu 1\n"
        "  --> nvidia_smi_two_gpus.csv:5:47 (row 4, column 'power.draw')\n"
        "  |\n"
        "5 | 2025/01/10 12:00:01.000, 1, NVIDIA RTX A5000, [N/A], 700 MiB, 39\n"
        "  |                                               ^^^^^\n"
        "  = note: row 4 is left out of 'power.draw'"]


def test_noheader_needs_columns(fixture_logs, monkeypatch):
    monkeypatch.chdir(fixture_logs)
    assert detect_format("nvidia_smi_noheader.csv") == "nvidia-smi"
    result = load_runs("nvidia_smi_noheader.csv")
    assert result.records == []
    assert result.problems[0].render().splitlines()[0] == (
        "error[no-header]: this nvidia-smi log has no header (noheader): its columns are unknown")
    result = load_runs("nvidia_smi_noheader.csv", side={"columns": ["timestamp", "power.draw", "memory.used"]})
    [record] = result.records
    # nounits: nvidia-smi's own units (W, MiB) are assumed
    assert record.metrics["energy"].value == pytest.approx(0.5 * (230.5 + 229.5) / 2 + 0.5 * (229.5 + 230.0) / 2)
    assert record.metrics["memory_global_vram"].value == 20500 * MIB


def test_utc_offset_moves_the_log_against_an_epoch_window(fixture_logs):
    path = fixture_logs / "nvidia_smi_two_gpus.csv"
    # 12:00:00 at +01:00 is 11:00:00 UTC: a window in UTC epoch seconds selects the first second only
    window = (epoch("2025-01-10T11:00:00"), epoch("2025-01-10T11:00:01"))
    result = load_runs(path, window=window, side={"utc_offset": "+01:00"})
    assert result.records[0].metrics["energy"].value == pytest.approx((100 + 200) / 2)


def test_window_outside_the_log_is_reported(fixture_logs):
    path = fixture_logs / "nvidia_smi_two_gpus.csv"
    result = load_runs(path, window=(epoch("2025-01-10T11:59:59"), epoch("2025-01-10T12:00:01")))
    assert result.records[0].metrics["energy"].value == pytest.approx(150)
    assert {p.code for p in result.problems} >= {"window-outside-log"}


@pytest.mark.parametrize("bound", [float("nan"), float("inf")])
def test_side_metadata_window_bound_that_is_not_finite_is_refused(bound):
    # JSON side metadata may hold NaN or Infinity (Python's json reads both); such a bound is no time.
    with pytest.raises(PerfError, match=r"error\[bad-window\]: cannot read the window bound"):
        nvidia_smi.read_window("power.csv", None, {"window": [0, bound]}, timezone.utc)


def test_the_wrong_tools_log_beside_the_seed_report_is_refused_at_the_log(shared_logs, repo_root, capsys):
    """An nvidia-smi power log given as --measured to the seed report (24 points: 6 models x 2 GPUs x 1/8 GPUs): its
    one run has no identifying field, so it would match all 24 points. It was compared with nothing under exit status
    0, described as `note:  matches 24 sweep points` (an empty description); now an error at the log, exit status 1,
    as a log with no usable row (no-rows) is. Its figures are not the seed's either: memory.used is the device's
    memory (memory_global_vram), and the sampling span no step's runtime (window_duration), so the error says first
    that no run carries a metric the report shows, then that none could be matched."""
    from perfdsl.cli import main

    log = shared_logs / "03_nvidia_smi" / "ap461719_llama2-7b_gpu_power_log.csv"
    status = main(["eval", str(repo_root / "reports" / "seed_benchmark.perf"), "--measured", str(log),
                   "--format", "csv"])
    err = capsys.readouterr().err
    assert status == 1
    assert err.startswith(
        "error[nothing-to-compare]: no run of this log carries a metric the report shows: the log (nvidia-smi) holds "
        "'energy', 'power', 'window_duration', 'peak_power', 'memory_global_vram', 'gpu_utilization'; the report "
        "shows 'runtime', 'memory', 'energy_per_token', 'throughput'\n"
        f"  --> {log}\n"
        "  = note: its runs give no identifying field, so each would match all "
        f"{6 * 2 * 2} sweep points (they differ in model, hardware, n_gpus)\n"), err
    assert "note:  " not in err and "matches 24 sweep points" not in err


def test_a_window_entirely_outside_the_shared_log_is_one_error(shared_logs):
    """The sample log spans 2025-04-16 19:53:18.720 .. 19:53:43.262 UTC; a window in 1970 meets none of it: one error
    naming both spans, and no 'only the overlap is used', no-energy or no-samples beside it (nor no-rows)."""
    path = shared_logs / "03_nvidia_smi" / "ap461719_llama2-7b_gpu_power_log.csv"
    result = load_runs(path, window=(1000.0, 2000.0))
    assert result.records == []
    assert [(p.code, p.severity) for p in result.problems] == [("window-outside-log", "error")]
    assert result.problems[0].message == (
        "the window [1970-01-01T00:16:40.000+00:00, 1970-01-01T00:33:20.000+00:00] lies outside the log's span "
        "[2025-04-16T19:53:18.720+00:00, 2025-04-16T19:53:43.262+00:00]: no sample in it; skipped")


@pytest.mark.parametrize("written, field, lacked", [("power.drew", "power.draw", "energy, power and peak_power"),
                                                    ("memory.usd", "memory.used", "memory_global_vram")])
def test_a_misspelt_column_is_a_warning_naming_what_the_runs_lack(fixture_logs, tmp_path, written, field, lacked):
    # A renamed power column was dropped without a word: the run had no energy, and the ingest exited 0 silently.
    lines = (fixture_logs / "nvidia_smi_two_gpus.csv").read_text().splitlines()
    lines[0] = lines[0].replace(field, written)
    log = tmp_path / "smi.csv"
    log.write_text("\n".join(lines) + "\n")
    result = load_runs(log)
    col = lines[0].index(written) + 1
    assert result.problems[0].render() == (
        f"warning[unknown-column]: column '{written}' is not one the nvidia-smi reader knows: not read; the runs have "
        f"no {lacked} (from '{field}')\n"
        f"  --> {log}:1:{col} (column '{written}')\n"
        "  |\n"
        f"1 | {lines[0]}\n"
        f"  | {' ' * (col - 1)}{'^' * len(written + (' [W]' if field == 'power.draw' else ' [MiB]'))}\n"
        f"  = help: did you mean '{field}'? nvidia-smi writes it as --query-gpu names it")
    assert all(written in r.extra["unused_columns"] for r in result.records)
