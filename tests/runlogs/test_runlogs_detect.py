"""Format detection from content, and the errors for logs perfdsl does not read."""

import pytest

from perfdsl.errors import PerfError, UsageError
from perfdsl.runlogs import FORMATS, detect_format, load_runs

EXPECTED = {
    "01_optimum_benchmark/derekliu35_llama3.1-8b_bf16_A100_bs1_seq64_new64.benchmark.json": "optimum-benchmark",
    "01_optimum_benchmark/benchlab_llama3.1-8b_H100_energy_star_ultrachat1000.benchmark.json": "optimum-benchmark",
    "01_optimum_benchmark/benchlab_llama3.1-8b_H100_energy_star_ultrachat1000.prefill_codecarbon.json": "codecarbon",
    "02_vllm/inferencex_gpt-oss-120b_disagg16_conc32_isl1024_osl1024.vllm_bench_serve.json": "vllm-serve",
    "02_vllm/inferencex_glm5-fp8_vllm_tp8_isl1024_osl128_conc4.json": "vllm-serve",
    "02_vllm/zhangxinyuehfad_vllm-ascend_latency_llama8B_tp1.benchmark_latency.json": "vllm-latency",
    "03_nvidia_smi/ap461719_llama2-7b_gpu_power_log.csv": "nvidia-smi",
    "05_energy/ap461719_llama2-7b_zeus_metrics_output.csv": "zeus-csv",
    "05_energy/mlenergy_leaderboard_v2_A100-SXM4-40GB_vLLM_chat/Meta-Llama-3-8B-Instruct/rate2.00.json": "mlenergy",
}


def test_format_names_in_the_order_recognition_tries_them():
    # The specific formats first; perfdsl's own formats last, since they take any header with units or a model.
    assert list(FORMATS) == ["optimum-benchmark", "vllm-latency", "vllm-throughput", "vllm-serve", "mlenergy",
                             "published", "codecarbon", "nvidia-smi", "zeus-csv", "perfdsl-csv", "perfdsl-jsonl"]


def test_a_format_registers_once():
    from perfdsl.runlogs.registry import Adapter, register

    with pytest.raises(ValueError, match="'nvidia-smi' is registered twice"):
        register(Adapter("nvidia-smi", FORMATS["nvidia-smi"].read, "again"))


@pytest.mark.parametrize("relative, expected", sorted(EXPECTED.items()))
def test_shared_samples(shared_logs, relative, expected):
    assert detect_format(shared_logs / relative) == expected


def test_every_shared_log_loads_without_problems(shared_logs):
    logs = [p for p in sorted(shared_logs.rglob("*")) if p.suffix in (".json", ".csv")]
    result = load_runs(logs)
    # The one note: the Zeus log's carbon column, which no run keeps, is said not to be read.
    assert [(p.severity, p.code) for p in result.problems] == [("note", "unused-column")], \
        [p.render() for p in result.problems]
    assert len(result.records) == 35  # 4 optimum + 2 codecarbon + 5 serve + 1 latency + 1 smi + 14 zeus + 9 mlenergy


def test_fixtures(fixture_logs):
    assert detect_format(fixture_logs / "runs_bad_row.csv") == "perfdsl-csv"
    assert detect_format(fixture_logs / "runs.jsonl") == "perfdsl-jsonl"
    assert detect_format(fixture_logs / "vllm_throughput.json") == "vllm-throughput"
    assert detect_format(fixture_logs / "nvidia_smi_two_gpus.csv") == "nvidia-smi"


def test_nsys_stats_is_refused_with_a_reason(shared_logs):
    with pytest.raises(PerfError, match="Nsight Systems `nsys stats` text"):
        detect_format(shared_logs / "04_torch_profiler" / "benchlab_decode_bs64_nsys_stats.txt")


def test_unknown_format(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.csv").write_text("when,what\nmonday,ran things\n")
    with pytest.raises(PerfError) as caught:
        detect_format("notes.csv")
    assert caught.value.render() == (
        "error[unknown-format]: cannot tell which format this log is: a header none of the formats has (when, what)\n"
        "  --> notes.csv\n"
        "  = help: name its format where it is converted: perfdsl ingest LOG --format NAME -o runs.csv, then read "
        "runs.csv (--measured runs.csv, or the report's `measured`); formats: optimum-benchmark, vllm-latency, "
        "vllm-throughput, "
        "vllm-serve, mlenergy, published, codecarbon, nvidia-smi, zeus-csv, perfdsl-csv, perfdsl-jsonl")


def test_unknown_format_name_is_a_usage_error(fixture_logs):
    with pytest.raises(UsageError) as caught:
        load_runs(fixture_logs / "runs.jsonl", format="vllm-serving")
    assert caught.value.exit_status == 2
    assert caught.value.render() == (
        "error[unknown-format]: no run-log format named 'vllm-serving'\n"
        "  = help: did you mean 'vllm-serve'?\n"
        "  = help: available: codecarbon, mlenergy, nvidia-smi, optimum-benchmark, perfdsl-csv, perfdsl-jsonl, "
        "published, vllm-latency, vllm-serve, vllm-throughput, zeus-csv")


def test_named_format_overrides_detection(fixture_logs, tmp_path):
    # Keys of two formats: detection takes the first format in rank order; --format reads the other's.
    log = tmp_path / "both.json"
    log.write_text('{"avg_latency": 1.5, "percentiles": {"50": 1.4}, "mean_ttft_ms": 20.0}')
    assert detect_format(log) == "vllm-latency"
    result = load_runs(log, format="vllm-serve")
    assert result.records[0].format == "vllm-serve"
    assert result.records[0].metrics["ttft"].value == 20.0 / 1000           # ms -> s
    # A named format that finds none of its keys gives no run (it gave one holding only its source, in silence).
    wrong = load_runs(fixture_logs / "vllm_throughput.json", format="vllm-serve")
    assert (wrong.records, [(p.code, p.hints) for p in wrong.problems]) == ([], [
        ("wrong-format", ["detection reads it as vllm-throughput: leave out --format vllm-serve (or name --format "
                          "vllm-throughput)"])])


def test_a_truncated_json_log_says_it_ends_early_with_or_without_format(shared_logs, tmp_path, capsys):
    # The first 80,000 bytes of a 154,548-byte optimum-benchmark log: it ends after line 1955's value and comma,
    # inside report.*.latency.values. Detection said "cannot tell which format" (and advised --format); with
    # --format, "Expecting value" at the blank line 1956. Either way the file was cut.
    from perfdsl.cli import main

    whole = (shared_logs / "01_optimum_benchmark" /
             "derekliu35_llama3.1-8b_bf16_A100_bs1_seq64_new64.benchmark.json").read_bytes()
    cut = tmp_path / "benchmark.json"
    cut.write_bytes(whole[:80_000])
    last = whole[:80_000].decode().rstrip().splitlines()[-1]
    line = whole[:80_000].decode().rstrip().count("\n") + 1
    for extra in ([], ["--format", "optimum-benchmark"]):
        assert main(["ingest", str(cut), *extra, "-o", str(tmp_path / "out.csv")]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"error[bad-json]: the file ends early, at line {line}, before its JSON closes")
        assert "it looks truncated\n" in err and f"{cut}:{line}:{len(last) + 1}\n" in err
        assert "--format" not in err and "Expecting value" not in err and "Traceback" not in err


def test_an_empty_log_is_not_a_question_of_format(tmp_path, capsys):
    from perfdsl.cli import main

    for name, text in (("empty.json", ""), ("blank.csv", "\n\n")):
        log = tmp_path / name
        log.write_text(text)
        assert main(["ingest", str(log), "-o", str(tmp_path / "out.csv")]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"error[empty-log]: the file is empty{' (blank lines only)' if text else ''}\n"
                              f"  --> {log}\n")
        assert "--format" not in err


def test_a_semicolon_separated_csv_is_named_as_such(tmp_path, capsys):
    # A spreadsheet's export where ',' is the decimal mark: read as perfdsl's CSV (with or without --format), its
    # header was ONE column 'model;hardware;n_gpus;runtime' in ms. Refused rather than read with ';': its 25,5
    # means 25.5, which a reader that only changes the delimiter would not know.
    from perfdsl.cli import main

    log = tmp_path / "runs.csv"
    log.write_text("model;hardware;n_gpus;runtime [ms]\norg/x;NVIDIA RTX A5000;1;25,5\n")
    for extra in ([], ["--format", "perfdsl-csv"]):
        assert main(["ingest", str(log), *extra, "-o", str(tmp_path / "out.csv")]) == 1
        assert capsys.readouterr().err == (
            "error[bad-csv]: cannot read the CSV: its fields look separated by ';' (the header has 3 ';' and no ','): "
            "perfdsl reads comma-separated files\n"
            f"  --> {log}:1:6\n"
            "  |\n"
            "1 | model;hardware;n_gpus;runtime [ms]\n"
            "  |      ^\n"
            "  = help: save the log comma-separated, with '.' as the decimal mark (25.5, not 25,5)\n"
            "ingest: 0 runs from 1 log; nothing written; 1 error, 0 warnings\n")
