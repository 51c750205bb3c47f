"""A run log's metric names mean what the report's shown names mean: vLLM's throughputs by vLLM's own names, and the
cost models' `e2e` compared with the logs' `e2e_latency` (a request's end-to-end time).

The serve log is synthetic (tmp_path), in vLLM's `bench serve --save-result` schema: 32 requests of 1,024 prompt
and 1,024 generated tokens in 109.755 s, so output_throughput = 32 x 1024 / 109.755 = 298.56 token/s and
total_token_throughput = 2 x 298.56 = 597.11 token/s; mean end-to-end latency 10,917.59 ms.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perfdsl.cli import main

REPO = Path(__file__).resolve().parents[1]
DURATION = 109.75491525093094
TOKENS = 32 * 1024


def serve_log(folder: Path) -> Path:
    log = folder / "serve.json"
    log.write_text(json.dumps({
        "backend": "vllm", "model_id": "meta-llama/Llama-3.1-8B", "num_prompts": 32, "request_rate": "inf",
        "max_concurrency": 32, "duration": DURATION, "completed": 32, "total_input_tokens": TOKENS,
        "total_output_tokens": TOKENS, "request_throughput": 32 / DURATION, "output_throughput": TOKENS / DURATION,
        "total_token_throughput": 2 * TOKENS / DURATION, "mean_ttft_ms": 327.79, "median_ttft_ms": 139.85,
        "mean_tpot_ms": 10.3517, "median_tpot_ms": 10.3731, "mean_e2el_ms": 10917.59, "median_e2el_ms": 10899.03}))
    # what the log does not say: the point of capacity_planning's sweep it ran
    (folder / "serve.json.meta.json").write_text(json.dumps(
        {"hardware": "NVIDIA H100 80GB HBM3", "batch": 32, "seq_len": 1024, "output_len": 1024, "tp": 1}))
    return log


def test_capacity_planning_compares_total_token_throughput_and_e2e(tmp_path, capsys):
    log = serve_log(tmp_path)
    assert main(["eval", str(REPO / "reports" / "capacity_planning.perf"), "--set", "model=llama3_1_8b",
                 "--set", "hardware=h100_sxm5", "--measured", str(log), "--format", "json"]) == 0
    rows = [r for r in json.loads(capsys.readouterr().out) if r.get("e2e measured [s]") is not None]
    assert len(rows) == 1
    row = rows[0]
    # prompt + generated tokens on both sides (it compared the estimate with output_throughput, half of it)
    assert row["total_token_throughput measured [token/s]"] == pytest.approx(2 * TOKENS / DURATION)
    estimated = row["total_token_throughput [token/s]"]
    assert row["total_token_throughput error [%]"] == pytest.approx(
        (estimated - 2 * TOKENS / DURATION) / (2 * TOKENS / DURATION) * 100)
    assert "throughput measured [token/s]" not in row
    # the report's `e2e` takes the log's `e2e_latency` (the mean)
    assert row["e2e measured [s]"] == pytest.approx(10.91759)
    assert row["ttft measured [ms]"] == pytest.approx(327.79)          # the mean, never the median 139.85


def test_a_shown_e2e_latency_is_still_compared_by_its_own_name(tmp_path, capsys):
    # serving_mlenergy.perf shows `engine.e2e as e2e_latency`: the same metric, without the mapping
    log = serve_log(tmp_path)
    report = tmp_path / "r.perf"
    report.write_text(f'import "{REPO / "reports" / "capacity_planning.perf"}"\n'
                      "report by_name extends capacity_planning {\n"
                      "    show serving.e2e in s as e2e_latency\n}\n")
    assert main(["eval", str(report), "--report", "by_name", "--set", "model=llama3_1_8b",
                 "--set", "hardware=h100_sxm5", "--measured", str(log), "--format", "json"]) == 0
    rows = [r for r in json.loads(capsys.readouterr().out) if r.get("e2e_latency measured [s]") is not None]
    assert [r["e2e_latency measured [s]"] for r in rows] == [pytest.approx(10.91759)]


def test_a_shown_energy_meets_the_gpus_energy_of_a_codecarbon_log_not_the_machines(tmp_path, capsys):
    # The cost models' energy is a GPU's (serving.power x e2e): CodeCarbon's gpu_energy (0.0175 kWh) is compared
    # with it, and energy_consumed (cpu + gpu + ram, 0.02 kWh) keeps its own name, machine_energy
    log = tmp_path / "emissions.json"
    log.write_text(json.dumps({
        "codecarbon_version": "2.8.0", "duration": 100.0, "energy_consumed": 0.02, "cpu_energy": 0.002,
        "gpu_energy": 0.0175, "ram_energy": 0.0005, "cpu_power": 72.0, "gpu_power": 630.0, "ram_power": 18.0,
        "gpu_count": 1, "gpu_model": "1 x NVIDIA H100 80GB HBM3", "tracking_mode": "machine"}))
    (tmp_path / "emissions.json.meta.json").write_text(json.dumps(
        {"model": "meta-llama/Llama-3.1-8B", "batch": 32, "seq_len": 1024, "output_len": 1024, "tp": 1}))
    report = tmp_path / "r.perf"
    report.write_text(f'import "{REPO / "reports" / "capacity_planning.perf"}"\n'
                      "report gpu_energy extends capacity_planning {\n"
                      "    show serving.energy_per_gpu in J as energy, serving.power in W as power\n}\n")
    assert main(["eval", str(report), "--report", "gpu_energy", "--set", "model=llama3_1_8b",
                 "--set", "hardware=h100_sxm5", "--measured", str(log), "--format", "json"]) == 0
    rows = [r for r in json.loads(capsys.readouterr().out) if r.get("energy measured [J]") is not None]
    assert len(rows) == 1
    assert rows[0]["energy measured [J]"] == pytest.approx(0.0175 * 3.6e6)     # gpu_energy, kWh -> J: 63 kJ
    assert rows[0]["power measured [W]"] == pytest.approx(630.0)               # gpu_power
    assert "machine_energy measured [J]" not in rows[0]


def test_an_alias_column_in_a_unit_of_another_dimension_is_a_located_warning(tmp_path, capsys):
    """A log's `e2e_latency` (the alias of a cost model's `e2e`) written in GB beside `show c.e2e in s as e2e`: a
    unit-mismatch warning at its header cell, naming the column as written, exit 0. It was error[internal]: KeyError
    'e2e' (the warning looked the run's metric up by the shown name, not by the alias the run gives it under)."""
    (tmp_path / "r.perf").write_text("costmodel c {\n    e2e = 2 s * workload.k\n}\nworkload w {\n"
                                     "    sweep k = [1, 2]\n}\nreport r {\n    workload = w\n"
                                     "    show c.e2e in s as e2e\n}\n")
    (tmp_path / "runs.csv").write_text("k,e2e_latency [GB]\n1,2\n2,4\n")
    status = main(["eval", str(tmp_path / "r.perf"), "--measured", str(tmp_path / "runs.csv")])
    err = capsys.readouterr().err
    assert status == 0
    assert err == (
        "warning[unit-mismatch]: column 'e2e_latency [GB]' is a memory size (GB), but the report shows 'c.e2e' as a "
        "duration (s); not compared (2 rows)\n"
        f"  --> {tmp_path / 'runs.csv'}:1:3 (column 'e2e_latency [GB]')\n"
        "  |\n"
        "1 | k,e2e_latency [GB]\n"
        "  |   ^^^^^^^^^^^^^^^^\n"
        "  = note: not compared in 2 rows: row 1, row 2\n"
        "  = help: write the column in a unit of s, e.g. 'e2e_latency [s]', or name it after the metric it measures\n"
        "\n"
        "1 warning\n")
