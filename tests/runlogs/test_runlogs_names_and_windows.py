"""The validation engineer's faults in ingest: one name for two quantities, --window in epoch milliseconds, an
out-of-range utc_offset, and nvidia-smi logs with a gap or repeated samples (issue smilog).

Each reader names what its log measures: nvidia-smi's memory.used is the device's memory in use (CUDA context and
allocator cache included), ingested as `memory_global_vram` like optimum-benchmark's max_global_vram, never as
`memory` (the allocator peak that reports compare with memory.peak); the span of samples integrated is
`window_duration` and a whole run's time (CodeCarbon, vLLM, Zeus) is `run_duration`, never `runtime` (one step).
"""

import json
import shutil

import pytest

from perfdsl.cli import main
from perfdsl.runlogs import load_runs
from perfdsl.runlogs.ingest import ingest_command

MIB = 2**20
SMI = "03_nvidia_smi/ap461719_llama2-7b_gpu_power_log.csv"
PREFILL_CC = "01_optimum_benchmark/benchlab_llama3.1-8b_H100_energy_star_ultrachat1000.prefill_codecarbon.json"
WINDOW_FORMS = ("  = help: write START,END as epoch seconds (1744833200,1744833220) or ISO times "
                "(2025-04-16T19:53:20,2025-04-16T19:53:40)\n")


def test_each_reader_names_what_its_log_measures(shared_logs):
    smi = load_runs(shared_logs / SMI).records[0].metrics
    # memory.used's largest sample (the last four rows), and the span 19:53:18.720 .. 19:53:43.262
    assert smi["memory_global_vram"].value == 14217 * MIB
    assert smi["window_duration"].value == pytest.approx(43.262 - 18.720)
    assert "memory" not in smi and "runtime" not in smi
    cc = load_runs(shared_logs / PREFILL_CC).records[0].metrics
    assert cc["run_duration"].value == pytest.approx(390.29682144802064)     # "duration" of the prefill phase
    assert "runtime" not in cc
    serve = load_runs(shared_logs / "02_vllm" / "inferencex_gpt-oss-120b_disagg16_conc32_isl1024_osl1024"
                      ".vllm_bench_serve.json").records[0].metrics
    duration = json.loads((shared_logs / "02_vllm" / "inferencex_gpt-oss-120b_disagg16_conc32_isl1024_osl1024"
                           ".vllm_bench_serve.json").read_text())["duration"]
    assert serve["run_duration"].value == duration and "runtime" not in serve
    zeus = load_runs(shared_logs / "05_energy" / "ap461719_llama2-7b_zeus_metrics_output.csv").records[0].metrics
    assert zeus["run_duration"].value == pytest.approx(69.7979) and "runtime" not in zeus    # row 1's Latency_sec


def test_vllm_throughputs_elapsed_time_is_no_runtime_a_throughput_is_derived_from(fixture_logs):
    """benchmark_throughput's elapsed_time covers all its requests; as `runtime` beside its `tokens` (prompt and
    generated) a report's `throughput` (generated tokens/s) was derived from it."""
    [run] = load_runs(fixture_logs / "vllm_throughput.json").records
    document = json.loads((fixture_logs / "vllm_throughput.json").read_text())
    assert run.metrics["run_duration"].value == document["elapsed_time"] and "runtime" not in run.metrics


def test_the_seed_report_no_longer_compares_a_power_log_and_a_codecarbon_phase_with_one_step(shared_logs, repo_root,
                                                                                              tmp_path, capsys):
    """The repro: nvidia-smi's memory.used (13.884 GiB) was compared with memory.peak (error -60.19%) and the mean of
    the sampling window (24.542 s) and CodeCarbon's prefill phase (390.297 s) with one forward's runtime (error
    -99.663%), with only notes. Now neither log measures a metric the seed report shows: an error says so."""
    side = tmp_path / "seedmeta.json"
    side.write_text('{"model":"facebook/opt-1.3b","hardware":"NVIDIA RTX A5000","n_gpus":1}')
    runs = tmp_path / "smi_seed.csv"
    assert main(["ingest", str(shared_logs / SMI), str(shared_logs / PREFILL_CC), "--meta", str(side),
                 "-o", str(runs)]) == 0
    header = runs.read_text().splitlines()[0].split(",")
    assert "memory_global_vram [MiB]" in header and "window_duration [s]" in header and "run_duration [s]" in header
    assert not {"memory [MiB]", "runtime [s]"} & set(header)
    capsys.readouterr()
    assert main(["eval", str(repo_root / "reports" / "seed_benchmark.perf"), "--measured", str(runs),
                 "--format", "csv", "-o", str(tmp_path / "out.csv")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "error[nothing-to-compare]: no run of this log carries a metric the report shows: the log (perfdsl-csv) holds "
        "'energy', 'power', 'window_duration', 'peak_power', 'memory_global_vram', 'gpu_utilization', 'run_duration', "
        "'cpu_power', 'ram_power', 'cpu_energy', 'ram_energy', 'machine_energy'; the report shows 'runtime', "
        "'memory', 'energy_per_token', 'throughput'\n"), err


@pytest.mark.parametrize(("window", "hints"), [
    ("1744833200000,1744833210000", "  = help: 1744833200000 is after the year 9999 as epoch seconds: epoch "
                                    "milliseconds? divide by 1000 (1744833200)\n"),
    ("0,1e12", "  = help: 1e12 is after the year 9999 as epoch seconds: epoch milliseconds? divide by 1000 "
               "(1000000000)\n"),
    ("1e20,1e21", "  = help: 1e20 is no time as epoch seconds (those run from the year 1 to 9999)\n"),
    ("-1e12,0", "  = help: -1e12 is no time as epoch seconds (those run from the year 1 to 9999)\n"),
    ("1744833200,noon", ""),
    ("1,2,3", ""),
])
def test_a_window_that_is_no_epoch_seconds_is_a_usage_error(shared_logs, tmp_path, capsys, window, hints):
    """Epoch milliseconds crashed (year 57261 is out of range, exit 1 as an internal error); 1e20 overflowed. Epoch
    milliseconds are refused, not guessed from their size: --window takes seconds, and the hint divides by 1000."""
    out = tmp_path / "o.csv"
    assert ingest_command([str(shared_logs / SMI)], str(out), None, None, window) == 2
    assert capsys.readouterr().err == f"error[bad-window]: cannot read --window '{window}'\n" + hints + WINDOW_FORMS
    assert not out.exists()


def test_epoch_milliseconds_divided_by_1000_select_the_samples(shared_logs, tmp_path):
    # 1744833200 s is 2025-04-16T19:53:20 UTC: rows 3 (20.723) .. 22 (39.260) of the log lie in the window
    out = tmp_path / "o.csv"
    assert ingest_command([str(shared_logs / SMI)], str(out), None, None, "1744833200,1744833220") == 0
    [run] = load_runs(out).records
    assert run.metrics["window_duration"].value == pytest.approx(20)


def test_a_side_window_in_epoch_milliseconds_is_refused_at_its_value(shared_logs, tmp_path, capsys):
    side = tmp_path / "side.json"
    side.write_text('{"model": "m",\n "window": [1744833200000, 1744833210000]}\n')
    assert ingest_command([str(shared_logs / SMI)], str(tmp_path / "o.csv"), None, str(side), None) == 1
    assert capsys.readouterr().err == (
        "error[bad-side]: cannot read the window bound '1744833200000'\n"
        f"  --> {side}:2:12 (value of 'window')\n"
        "  |\n"
        '2 |  "window": [1744833200000, 1744833210000]}\n'
        "  |            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
        "  = help: 1744833200000 is after the year 9999 as epoch seconds: epoch milliseconds? divide by 1000 "
        "(1744833200)\n"
        "  = help: give epoch seconds or an ISO time such as 2025-04-16T19:53:20\n")


OFFSETS = {
    "+25:00": ("utc_offset '+25:00' is no time zone's offset: they run from -12:00 to +14:00",
               "write the offset from UTC of the clock that wrote the log, e.g. '+02:00' for CEST"),
    "-24:00": ("utc_offset '-24:00' is no time zone's offset: they run from -12:00 to +14:00",
               "write the offset from UTC of the clock that wrote the log, e.g. '+02:00' for CEST"),
    "+02:75": ("utc_offset '+02:75' has 75 minutes", "minutes run from 00 to 59, e.g. '+05:30'"),
    "CEST": ("cannot read utc_offset 'CEST'",
             "write it as '+02:00' (a sign, hours and minutes: the offset from UTC, not a zone's name)"),
}


@pytest.mark.parametrize("offset", OFFSETS)
def test_a_bad_utc_offset_is_bad_side_at_its_value_in_the_side_file(shared_logs, tmp_path, capsys, offset):
    """'+25:00' and '-24:00' were internal errors (timezone()'s ValueError); 'CEST' a bad-side located at the log.
    Each is now bad-side at the value in the side file, --meta or the log's own LOG.meta.json (exit 1)."""
    message, hint = OFFSETS[offset]
    text = '{"model": "m",\n  "utc_offset": "' + offset + '"}\n'
    caret = " " * 17 + "^" * (len(offset) + 2)
    side = tmp_path / "side.json"
    side.write_text(text)
    assert ingest_command([str(shared_logs / SMI)], str(tmp_path / "o.csv"), None, str(side), None) == 1
    def expected(file):
        return (f"error[bad-side]: {message}\n  --> {file}:2:17 (value of 'utc_offset')\n  |\n"
                f'2 |   "utc_offset": "{offset}"}}\n  |{caret}\n  = help: {hint}\n')
    assert capsys.readouterr().err == expected(side)
    log = tmp_path / "power.csv"
    shutil.copy(shared_logs / SMI, log)
    own = tmp_path / "power.csv.meta.json"
    own.write_text(text)
    assert ingest_command([str(log)], str(tmp_path / "o.csv"), None, None, None) == 1
    assert capsys.readouterr().err == (expected(own)
                                       + "ingest: 0 runs from 1 log; nothing written; 1 error, 0 warnings\n")


def test_the_widest_offsets_in_use_are_read(shared_logs):
    # +14:00 (Kiribati) and -12:00: the log's 19:53:18.720 is 05:53:18.720 and 07:53:18.720 UTC
    for offset, window in (("+14:00", ["2025-04-16T05:53:18.720Z", "2025-04-16T05:53:20.723Z"]),
                           ("-12:00", ["2025-04-17T07:53:18.720Z", "2025-04-17T07:53:20.723Z"])):
        [run] = load_runs(shared_logs / SMI, side={"utc_offset": offset, "window": window}).records
        assert run.metrics["window_duration"].value == pytest.approx(20.723 - 18.720)


def trapezoids(samples):
    return sum((t1 - t0) * (p0 + p1) / 2 for (t0, p0), (t1, p1) in zip(samples, samples[1:]))


def test_a_sampling_gap_is_warned_at_the_row_after_it(shared_logs, tmp_path):
    """`sed '5,20d'` of the log: rows 4-19 (19:53:21.724 .. 19:53:37.259) are cut, and the 17.537 s from row 3 to the
    old row 20 was integrated without a word. Its median interval is 1.001 s (7 steps: 1.002, 1.001, 17.537, 1.000,
    1.000, 1.001, 1.001)."""
    lines = (shared_logs / SMI).read_text().splitlines(keepends=True)
    log = tmp_path / "gap.csv"
    log.write_text("".join(lines[:4] + lines[20:]))
    result = load_runs(log)
    assert [p.render() for p in result.problems] == [
        "warning[sampling-gap]: no sample for 17.5 s between rows 3 and 4 (2025-04-16T19:53:20.723+00:00 .. "
        "2025-04-16T19:53:38.260+00:00; the log samples every 1 s): energy and power interpolate the power across it\n"
        f"  --> {log}:5 (row 4)\n"
        "  |\n"
        "5 | 2025/04/16 19:53:38.260, 71.75 W, 97 %, 13845 MiB\n"
        "  = help: a log with rows cut out, or a paused sampler: the energy over the gap is a guess; choose a --window "
        "without it, or sample again"]
    samples = [(18.720, 71.80), (19.722, 70.93), (20.723, 72.14), (38.260, 71.75), (39.260, 71.76), (40.260, 72.29),
               (41.260, 71.96), (42.261, 71.71), (43.262, 71.43)]
    # within the rounding of times held as epoch seconds (1.7e9 s: steps of 2.4e-7 s)
    assert result.records[0].metrics["energy"].value == pytest.approx(trapezoids(samples), abs=1e-4)
    # the whole log, sampled every second, has no gap (test_sample_whole_log: no problems)
    assert load_runs(shared_logs / SMI).problems == []


def test_repeated_samples_are_left_out_and_warned(shared_logs, tmp_path):
    """The log's last five rows appended again (rows 26-30 = rows 21-25): counted twice, they weighed twice in
    gpu_utilization's mean ((95 + 96*11 + 97*13 + 96 + 97*4) / 30 = 96.53 %). Left out: the 25 samples' 96.48 %."""
    text = (shared_logs / SMI).read_text()
    log = tmp_path / "dup.csv"
    log.write_text(text + "".join(text.splitlines(keepends=True)[-5:]))
    result = load_runs(log)
    assert [p.render() for p in result.problems] == [
        "warning[repeated-samples]: rows 26-30 repeat the times of earlier samples; left out (5 samples)\n"
        f"   --> {log}:27 (row 26)\n"
        "   |\n"
        "27 | 2025/04/16 19:53:39.260, 71.76 W, 96 %, 13845 MiB\n"
        "   = help: a log appended to itself, or several GPUs' rows without an index column (add index to "
        "--query-gpu): keep each sample once"]
    [run] = result.records
    assert run.metrics["gpu_utilization"].value == pytest.approx((95 + 96 * 11 + 97 * 13) / 25 / 100)
    assert run.metrics["energy"].value == pytest.approx(load_runs(shared_logs / SMI).records[0].metrics["energy"].value)
    assert run.source.endswith("dup.csv:rows 1-25") and run.extra["samples"] == 25


def test_a_window_beside_logs_without_samples_is_noted_once(shared_logs, tmp_path, capsys):
    cc = shared_logs / PREFILL_CC
    generate = shared_logs / PREFILL_CC.replace("prefill", "generate")
    out = tmp_path / "o.csv"
    assert ingest_command([str(shared_logs / SMI), str(cc), str(generate)], str(out), None, None,
                          "1744833200,1744833220") == 0
    err = capsys.readouterr().err
    assert (f"note[window-unused]: --window selects the samples of nvidia-smi logs only; 2 logs of other formats "
            f"(codecarbon) are read whole: {cc}, {generate}\n") in err
    assert err.count("window-unused") == 1
    assert ingest_command([str(cc)], str(out), None, None, None) == 0
    assert "window-unused" not in capsys.readouterr().err


def test_a_window_given_to_load_runs_beside_logs_without_samples_is_warned_at_the_argument(fixture_logs, tmp_path,
                                                                                             capsys, monkeypatch):
    """load_runs(..., side={"window": ...}) from Python beside logs of no nvidia-smi format returned the whole logs'
    runs without a word, where ingest --meta warns side-key-unused at the file's key: now the same warning, among
    the problems, located at the argument as the API takes it."""
    monkeypatch.chdir(fixture_logs)
    result = load_runs(["vllm_throughput.json", "codecarbon_emissions.csv"],
                       side={"model": "m", "window": [1744833200, 1744833220], "utc_offset": "+01:00"})
    assert len(result.records) == 1 + 2                       # the vLLM log's one run, CodeCarbon's two rows
    unused = [p.render() for p in result.problems if p.code == "side-key-unused"]
    assert unused == [
        "warning[side-key-unused]: the side metadata's 'window' has no effect: it selects the samples of nvidia-smi "
        "power logs to integrate, and the 2 logs it applies to are vllm-throughput, codecarbon logs, read whole: "
        "vllm_throughput.json, codecarbon_emissions.csv\n"
        "  --> side['window']\n"
        "  = help: leave 'window' out of side=, or give it with the nvidia-smi log it is meant for "
        "(load_runs(smi_log, side=...), or LOG.meta.json beside that log)",
        "warning[side-key-unused]: the side metadata's 'utc_offset' has no effect: it gives the time zone of "
        "nvidia-smi's timestamps, and the 2 logs it applies to are vllm-throughput, codecarbon logs, read whole: "
        "vllm_throughput.json, codecarbon_emissions.csv\n"
        "  --> side['utc_offset']\n"
        "  = help: leave 'utc_offset' out of side=, or give it with the nvidia-smi log it is meant for "
        "(load_runs(smi_log, side=...), or LOG.meta.json beside that log)"]
    assert result.problems[-2].severity == "warning"
    # Beside an nvidia-smi log the window selects its samples (here none: window-outside-log), and says nothing else
    beside = load_runs(["vllm_throughput.json", "nvidia_smi_two_gpus.csv"], side={"window": [1744833200, 1744833220]})
    assert "side-key-unused" not in [p.code for p in beside.problems]
    # ingest says an ISO --window beside such logs in its own note, once, not as an unused side key
    assert ingest_command(["vllm_throughput.json"], str(tmp_path / "o.csv"), None, None,
                          "2025-04-16T19:53:20,2025-04-16T19:53:40") == 0
    err = capsys.readouterr().err
    assert "side-key-unused" not in err and err.count("note[window-unused]") == 1


def test_a_misspelt_key_given_to_load_runs_is_warned_at_the_argument(fixture_logs, monkeypatch):
    """load_runs(..., side={"hardwre": ...}) kept the misspelt key without a word, where ingest --meta warns
    misspelt-side-key at the file's key: now the same warning, first among the problems, at the argument."""
    monkeypatch.chdir(fixture_logs)
    result = load_runs(["vllm_throughput.json"], side={"model": "m", "hardwre": "x"})
    assert result.records[0].identity["hardwre"] == "x"             # kept, as a field of its own
    assert result.problems[0].render() == (
        "warning[misspelt-side-key]: the side metadata's key 'hardwre' is no field perfdsl knows; it is kept as an "
        "identifying field of its own, which a report matches only where it has a cell of that name\n"
        "  --> side['hardwre']\n"
        "  = help: did you mean 'hardware'?\n"
        "  = help: write the key as 'hardware' to identify the runs by that field")
    assert "misspelt-side-key" not in [p.code for p in load_runs(["vllm_throughput.json"],
                                                                  side={"hardware": "x"}).problems]


def test_load_runs_window_argument_beside_logs_without_samples_is_noted_once(fixture_logs, monkeypatch):
    """load_runs(..., window=(start, end)) (the argument, not a side key) beside logs of no nvidia-smi format gave
    the whole logs' runs without a word, where ingest --window notes it: now the same note, naming `window=`."""
    monkeypatch.chdir(fixture_logs)
    result = load_runs(["vllm_throughput.json", "nvidia_smi_two_gpus.csv"], side={"model": "m"},
                       window=(1744833200, 1744833220))
    assert [p.render() for p in result.problems if p.code == "window-unused"] == [
        "note[window-unused]: window= selects the samples of nvidia-smi logs only; 1 log of other formats "
        "(vllm-throughput) is read whole: vllm_throughput.json"]
    assert "window-unused" not in [p.code for p in load_runs(["nvidia_smi_two_gpus.csv"], side={"model": "m"},
                                                              window=(1744833200, 1744833220)).problems]


def test_load_runs_takes_a_window_as_a_tuple_as_a_list(fixture_logs, monkeypatch):
    """side={"window": (start, end)} was refused "'window' must be [start, end]" where a list was taken."""
    monkeypatch.chdir(fixture_logs)
    window = [1744833200, 1744833220]
    as_list = load_runs(["nvidia_smi_two_gpus.csv"], side={"model": "m", "window": window})
    as_tuple = load_runs(["nvidia_smi_two_gpus.csv"], side={"model": "m", "window": tuple(window)})
    assert [p.render() for p in as_tuple.problems] == [p.render() for p in as_list.problems]
    assert as_tuple.records == as_list.records


def test_a_side_files_window_beside_logs_without_samples_is_warned_at_its_key(shared_logs, tmp_path, capsys):
    """A window in a side file (the folder's perfdsl-meta.json, LOG.meta.json, --meta) selects nvidia-smi samples only:
    beside CodeCarbon logs it has no effect, and it was read without a word (exit 0, the runs the whole logs')."""
    for name in (PREFILL_CC, PREFILL_CC.replace("prefill", "generate"), SMI):
        shutil.copy(shared_logs / name, tmp_path / name.split("/")[1])
    cc, generate, smi = (str(tmp_path / name.split("/")[1]) for name in (PREFILL_CC, PREFILL_CC.replace(
        "prefill", "generate"), SMI))
    folder = tmp_path / "perfdsl-meta.json"
    folder.write_text('{"model": "m",\n  "window": [1744833200, 1744833220]}\n')
    out = str(tmp_path / "o.csv")
    assert ingest_command([cc, generate], out, None, None, None) == 0
    err = capsys.readouterr().err
    assert err.startswith(
        "warning[side-key-unused]: the side metadata's 'window' has no effect: it selects the samples of nvidia-smi "
        f"power logs to integrate, and the 2 logs it applies to are codecarbon logs, read whole: {cc}, {generate}\n"
        f"  --> {folder}:2:3 (key 'window')\n"
        "  |\n"
        '2 |   "window": [1744833200, 1744833220]}\n'
        "  |   ^^^^^^^^\n"
        "  = help: leave 'window' out of perfdsl-meta.json, or give it beside the nvidia-smi log it is meant for "
        "(LOG.meta.json, or --meta when ingesting that log)\n")
    assert err.count("side-key-unused") == 1 and err.endswith("0 errors, 1 warning\n")
    # Beside an nvidia-smi log the same file's window selects its samples: no warning.
    assert ingest_command([cc, smi], out, None, None, None) == 0
    assert "side-key-unused" not in capsys.readouterr().err
    # Given with --meta, it is warned at that file's key (the per-log and folder files are said by load_runs).
    folder.unlink()
    meta = tmp_path / "side.json"
    meta.write_text('{"model": "m", "window": [1744833200, 1744833220]}')
    assert ingest_command([cc], out, None, str(meta), None) == 0
    err = capsys.readouterr().err
    assert (f"warning[side-key-unused]: the side metadata's 'window' has no effect: it selects the samples of "
            f"nvidia-smi power logs to integrate, and the log it applies to is a codecarbon log, read whole: {cc}\n"
            f"  --> {meta}:1:16 (key 'window')\n") in err
