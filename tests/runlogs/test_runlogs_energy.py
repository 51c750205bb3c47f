"""Energy logs: Zeus metrics CSV, ML.ENERGY leaderboard v2 JSON, CodeCarbon CSV (JSON: see the optimum tests)."""

import json

import pytest

from perfdsl.runlogs import detect_format, load_runs

KWH = 3.6e6


def test_zeus_metrics(shared_logs):
    path = shared_logs / "05_energy" / "ap461719_llama2-7b_zeus_metrics_output.csv"
    assert detect_format(path) == "zeus-csv"
    result = load_runs(path)
    assert [p.render() for p in result.problems] == [
        "note[unused-column]: column 'Carbon_gCO2eq' is not read: carbon emissions (g CO2-eq) are no quantity perfdsl "
        "estimates or compares\n"
        f"  --> {path}:1:165 (column 'Carbon_gCO2eq')"]
    assert len(result.records) == 14
    first = result.records[0]
    assert first.identity == {"model": "meta-llama/Llama-2-7b-hf", "precision": "fp16", "context_window": 2048,
                              "dataset": "alpaca", "batch": 4, "input_tokens": 4096, "output_tokens": 4096}
    m = first.metrics
    assert m["run_duration"].value == pytest.approx(69.7979)
    assert m["memory"].value == pytest.approx(14030.2223e6)  # Memory_MB = max_memory_allocated / 1e6
    assert m["energy"].value == pytest.approx(5001.76)
    assert m["power"].value == pytest.approx(71.6606)
    assert m["power"].value == pytest.approx(5001.76 / 69.7979, rel=1e-4)  # Power_W = Energy_J / Latency_sec
    assert m["energy_per_output_token"].value == pytest.approx(1.2211)  # 5001.76 J / 4096 tokens
    assert first.extra == {"Carbon_gCO2eq": "0.4752"}
    int4 = result.records[8]
    assert int4.identity["precision"] == "int4" and int4.metrics["memory"].value == pytest.approx(4819.5594e6)
    batch1 = result.records[11]
    assert batch1.identity["batch"] == 1 and batch1.metrics["energy"].value == pytest.approx(17924.8)


def test_mlenergy(shared_logs):
    folder = shared_logs / "05_energy" / "mlenergy_leaderboard_v2_A100-SXM4-40GB_vLLM_chat"
    path = folder / "Meta-Llama-3-70B-Instruct" / "rate1.00.json"
    assert detect_format(path) == "mlenergy"
    result = load_runs(path)
    [record] = result.records
    assert result.problems == []
    assert record.identity == {"model": "meta-llama/Meta-Llama-3-70B-Instruct", "backend": "vllm",
                               "hardware": "NVIDIA A100-SXM4-40GB", "n_gpus": 8, "request_rate": 1.0}
    assert record.metrics["energy_per_request"].value == pytest.approx(962.3035159999989)
    assert record.metrics["e2e_latency"].value == pytest.approx(52.73884458467396)
    assert record.metrics["request_throughput"].value == pytest.approx(0.8639502309114531)
    small = load_runs(sorted((folder / "Meta-Llama-3-8B-Instruct").glob("rate*.json")))
    assert len(small.records) == 6 and small.problems == []
    assert {r.identity["n_gpus"] for r in small.records} == {1}
    assert [r.metrics["energy_per_request"].value for r in small.records][-1] == pytest.approx(59.05596200000029)


def test_codecarbon_csv(fixture_logs, monkeypatch):
    monkeypatch.chdir(fixture_logs)
    assert detect_format("codecarbon_emissions.csv") == "codecarbon"
    result = load_runs("codecarbon_emissions.csv")
    first, second = result.records
    assert first.identity == {"hardware": "NVIDIA A100-SXM4-80GB", "n_gpus": 2}
    # two GPUs: CodeCarbon's gpu_energy and gpu_power are their sum, named as memory_total is
    assert first.metrics["energy_total"].value == pytest.approx(0.0083333 * KWH)     # gpu_energy, 30 kJ
    assert first.metrics["power_total"].value == 250.0                              # gpu_power
    # energy_consumed = cpu + gpu + ram: the whole machine's, under its own name
    assert first.metrics["machine_energy"].value == pytest.approx(0.0100000 * KWH)   # 36 kJ
    assert first.metrics["machine_energy"].value == pytest.approx((0.0013333 + 0.0083333 + 0.00033333) * KWH,
                                                                  rel=1e-5)
    assert first.metrics["cpu_energy"].value == pytest.approx(0.0013333 * KWH)
    assert first.metrics["cpu_power"].value == 40.0 and first.metrics["ram_power"].value == 10.0
    assert not {"energy", "power", "gpu_energy", "gpu_power"} & set(first.metrics)
    assert "power_total" not in second.metrics and second.metrics["run_duration"].value == 60.0
    assert second.metrics["energy_total"].value == pytest.approx(0.0041667 * KWH)
    assert [p.render() for p in result.problems] == [
        "warning[bad-value]: cannot read 'abc' as a number in column 'gpu_power'\n"
        "  --> codecarbon_emissions.csv:3:54 (row 2, column 'gpu_power')\n"
        "  |\n"
        "3 | 2025-02-01T10:05:00,demo,r2,60.0,0.0005,8.3e-06,40.0,abc,10.0,0.00066667,0.0041667,0.00016667,"
        "0.0050000,France,2.8.0,2,2 x NVIDIA A100-SXM4-80GB,process\n"
        "  |                                                      ^^^\n"
        "  = note: row 2 is kept without 'gpu_power'"]


def test_codecarbon_json_names_the_gpu_figures_by_the_number_of_gpus(tmp_path):
    # one GPU: gpu_energy and gpu_power are `energy` and `power`; gpu_count 4 (a list of two records): the sums
    log = tmp_path / "emissions.json"
    log.write_text(json.dumps([
        {"codecarbon_version": "2.8.0", "duration": 100.0, "energy_consumed": 0.02, "cpu_energy": 0.002,
         "gpu_energy": 0.0175, "ram_energy": 0.0005, "gpu_power": 630.0, "gpu_count": 1,
         "gpu_model": "1 x NVIDIA H100 80GB HBM3"},
        {"codecarbon_version": "2.8.0", "duration": 100.0, "energy_consumed": 0.08, "gpu_energy": 0.07,
         "gpu_power": "n/a", "gpu_count": 4, "gpu_model": "4 x NVIDIA H100 80GB HBM3"}]))
    result = load_runs(log)
    one_gpu, four = result.records
    assert one_gpu.metrics["energy"].value == pytest.approx(0.0175 * KWH)    # 63 kJ
    assert one_gpu.metrics["power"].value == 630.0
    assert one_gpu.metrics["machine_energy"].value == pytest.approx((0.002 + 0.0175 + 0.0005) * KWH)
    assert four.identity == {"hardware": "NVIDIA H100 80GB HBM3", "n_gpus": 4}
    assert four.metrics["energy_total"].value == pytest.approx(0.07 * KWH)
    assert four.metrics["machine_energy"].value == pytest.approx(0.08 * KWH)
    assert not {"energy", "power", "power_total"} & set(four.metrics)
    assert [p.message for p in result.problems] == [
        "cannot read 'n/a' as a number for key 'gpu_power'; 'power_total' left out"]
