"""optimum-benchmark benchmark.json (and its CodeCarbon companions), spot-checked against numbers read by hand
from the public samples in ../shared/logs/01_optimum_benchmark/ (see PROVENANCE.md there)."""

import json

import pytest

from perfdsl.errors import PerfError
from perfdsl.runlogs import detect_format, load_runs

KWH = 3.6e6  # J per kWh
MB = 1e6  # optimum-benchmark's MB


def one(path):
    result = load_runs(path)
    assert result.problems == [], [p.render() for p in result.problems]
    assert len(result.records) == 1
    return result.records[0]


def test_llama8b_bf16_a100(shared_logs):
    path = shared_logs / "01_optimum_benchmark" / "derekliu35_llama3.1-8b_bf16_A100_bs1_seq64_new64.benchmark.json"
    assert detect_format(path) == "optimum-benchmark"
    record = one(path)
    assert record.identity == {"model": "meta-llama/Llama-3.1-8B-Instruct", "hardware": "NVIDIA A100-SXM4-80GB",
                               "n_gpus": 1, "batch": 1, "seq_len": 64, "output_len": 64, "precision": "bf16",
                               "backend": "pytorch"}
    assert record.extra["config.backend.torch_dtype"] == "bfloat16"     # read as the precision block bf16
    m = record.metrics
    assert m["prefill_latency"].value == pytest.approx(0.026584511947631832)  # report.prefill.latency.mean, s
    assert m["decode_latency"].value == pytest.approx(1.6228145874023436)
    assert m["per_token_latency"].value == pytest.approx(0.025692613122402088)
    assert m["load_latency"].value == pytest.approx(20.028271484375)
    # `memory` is torch's allocator peak, what the cost model's memory.peak estimates (hf_eager: framework_overhead
    # 0); nvidia-smi's figure (CUDA context and allocator cache too) keeps its own name, never compared with it
    assert m["memory"].value == pytest.approx(16089.67424 * MB)  # report.decode.memory.max_allocated
    assert m["memory"].unit == "MB"
    assert record.extra["metric_sources"]["memory"] == "report.decode.memory.max_allocated"
    assert m["memory_global_vram"].value == pytest.approx(17699.897344 * MB)  # report.decode.memory.max_global_vram
    assert record.extra["metric_sources"]["memory_global_vram"] == "report.decode.memory.max_global_vram"
    assert m["memory_global_vram"].value - m["memory"].value == pytest.approx((17699.897344 - 16089.67424) * MB)
    assert m["throughput"].value == pytest.approx(38.821440532429996)  # decode tokens/s
    assert m["prefill_throughput"].value == pytest.approx(37.61588709884444)  # samples/s
    assert record.extra["report.prefill.latency.p50"] == 0.026455135345458985
    assert record.extra["config.environment.gpu_count"] == 5  # the machine's GPUs, not the run's
    assert record.source.endswith(".benchmark.json:report")


def test_llama70b_on_two_a100s_reports_summed_memory(shared_logs):
    record = one(shared_logs / "01_optimum_benchmark" /
                 "derekliu35_llama3.1-70b_bf16_2xA100_bs1_seq64_new64_static-cache.benchmark.json")
    # device_ids "2,4" of gpu = [A100, A100, A100, DGX Display, A100]
    assert record.identity["hardware"] == "NVIDIA A100-SXM4-80GB" and record.identity["n_gpus"] == 2
    assert "memory" not in record.metrics  # optimum-benchmark sums over both GPUs: not a per-GPU peak
    assert "memory_global_vram" not in record.metrics
    assert record.metrics["memory_total"].value == pytest.approx(141195.54816 * MB)  # decode max_allocated
    assert record.metrics["memory_global_vram_total"].value == pytest.approx(144667.705344 * MB)
    assert record.metrics["decode_latency"].value == pytest.approx(6.233827343749999)
    assert record.metrics["throughput"].value == pytest.approx(10.106150928797131)


def test_llama70b_fp8_h100(shared_logs):
    record = one(shared_logs / "01_optimum_benchmark" /
                 "derekliu35_llama3.1-70b_fbgemm-fp8_H100_bs1_seq64_new64.benchmark.json")
    assert record.identity["precision"] == "fbgemm_fp8"  # quantization_scheme wins over torch_dtype bfloat16
    assert record.identity["hardware"] == "NVIDIA H100 80GB HBM3" and record.identity["n_gpus"] == 1
    assert record.metrics["prefill_latency"].value == pytest.approx(0.07479091567993164)
    assert record.metrics["memory"].value == pytest.approx(72763.976704 * MB)  # decode max_allocated
    assert record.metrics["memory_global_vram"].value == pytest.approx(74279.616512 * MB)


def test_energy_star(shared_logs):
    record = one(shared_logs / "01_optimum_benchmark" /
                 "benchlab_llama3.1-8b_H100_energy_star_ultrachat1000.benchmark.json")
    assert record.identity == {"model": "meta-llama/Llama-3.1-8B-Instruct", "hardware": "NVIDIA H100 80GB HBM3",
                               "n_gpus": 1, "batch": 1, "backend": "pytorch",
                               "dataset": "jdelavande/ultrachat_200k-Llama-3-8B-Instruct-with-thanks",
                               "num_requests": 1000}  # no output_len: min_new_tokens 1, max_new_tokens 1000
    m = record.metrics
    # <phase>_energy is the GPU's (energy.gpu), what the cost models' energy estimates; the whole machine's
    # (energy.total = cpu + gpu + ram) has its own name
    assert m["prefill_energy"].value == pytest.approx(0.07468241252354346 * KWH)           # report.prefill.energy.gpu
    assert m["prefill_machine_energy"].value == pytest.approx(0.08172944713225458 * KWH)   # report.prefill.energy.total
    assert m["prefill_machine_energy"].value == pytest.approx(
        (0.004878716540231835 + 0.07468241252354346 + 0.0021683180684792915) * KWH)      # cpu + gpu + ram
    assert m["decode_energy"].value == pytest.approx(0.11994518651169983 * KWH)
    assert m["decode_machine_energy"].value == pytest.approx(0.14152102857830748 * KWH)
    assert record.extra["metric_sources"]["prefill_energy"] == "report.prefill.energy.gpu"
    assert record.extra["metric_sources"]["prefill_machine_energy"] == "report.prefill.energy.total"
    # 1 / efficiency, and optimum-benchmark's efficiency is work / energy.total: the machine's energy per token
    assert m["decode_machine_energy_per_token"].value == pytest.approx(KWH / 7059021.617039943)  # 1 / tokens per kWh
    assert m["decode_machine_energy_per_token"].unit == "J/token"
    assert m["prefill_machine_energy_per_request"].value == pytest.approx(KWH / 12235.492042198697)
    # ... which the log bears out: per request x its 1000 requests (num_samples) is the total, not the GPU's
    assert m["prefill_machine_energy_per_request"].value * 1000 == pytest.approx(0.08172944713225458 * KWH)
    assert not {"prefill_gpu_energy", "decode_gpu_energy", "decode_energy_per_token",
                "prefill_energy_per_request"} & set(m)
    assert record.extra["report.decode.energy.cpu"] == 0.015001111233406925
    assert "prefill_latency" not in m and "memory" not in m


def test_codecarbon_companions_agree_with_the_report(shared_logs):
    folder = shared_logs / "01_optimum_benchmark"
    prefill = one(folder / "benchlab_llama3.1-8b_H100_energy_star_ultrachat1000.prefill_codecarbon.json")
    generate = one(folder / "benchlab_llama3.1-8b_H100_energy_star_ultrachat1000.generate_codecarbon.json")
    assert prefill.format == "codecarbon"
    assert prefill.identity == {"hardware": "NVIDIA H100 80GB HBM3", "n_gpus": 1}  # "1 x NVIDIA H100 80GB HBM3"
    assert prefill.metrics["run_duration"].value == pytest.approx(390.29682144802064)
    # `energy` and `power` are the GPU's (gpu_energy, gpu_power), as nvidia-smi's and Zeus's; energy_consumed
    # (cpu + gpu + ram) is the whole machine's
    assert prefill.metrics["energy"].value == pytest.approx(0.07468241252354346 * KWH)
    assert prefill.metrics["power"].value == pytest.approx(687.9673516831513)
    assert prefill.metrics["energy"].value / prefill.metrics["run_duration"].value == pytest.approx(
        687.9673516831513, rel=2e-3)                                          # 268.9 kJ / 390.3 s = 688.9 W
    assert prefill.metrics["machine_energy"].value == pytest.approx(0.08172944713225458 * KWH)
    assert prefill.metrics["cpu_energy"].value == pytest.approx(0.004878716540231835 * KWH)
    assert prefill.metrics["ram_energy"].value == pytest.approx(0.0021683180684792915 * KWH)
    assert not {"gpu_energy", "gpu_power"} & set(prefill.metrics)
    assert prefill.extra["tracking_mode"] == "machine"
    # the report's decode figures are generate minus prefill, each under the same name as here:
    # GPU 0.1946275990352433 - 0.07468241252354346 kWh, machine 0.22325047571056206 - 0.08172944713225458 kWh
    report = one(folder / "benchlab_llama3.1-8b_H100_energy_star_ultrachat1000.benchmark.json").metrics
    assert generate.metrics["energy"].value - prefill.metrics["energy"].value == pytest.approx(
        report["decode_energy"].value)
    assert report["decode_energy"].value == pytest.approx((0.1946275990352433 - 0.07468241252354346) * KWH)
    assert generate.metrics["machine_energy"].value - prefill.metrics["machine_energy"].value == pytest.approx(
        report["decode_machine_energy"].value)
    assert report["decode_machine_energy"].value == pytest.approx((0.22325047571056206 - 0.08172944713225458) * KWH)
    assert prefill.metrics["energy"].value == pytest.approx(report["prefill_energy"].value)


def test_markdown_rendering_is_refused_with_a_reason(shared_logs):
    path = shared_logs / "01_optimum_benchmark" / "derekliu35_llama3.1-8b_fbgemm-fp8_H100_bs1_seq64_new64.benchmark_report.md"
    with pytest.raises(PerfError) as caught:
        detect_format(path)
    assert caught.value.render().splitlines()[0] == (
        "error[unsupported-format]: this is optimum-benchmark's markdown rendering (benchmark_report.md): it has "
        "the report without the config, so no model, hardware or input shapes; ingest the benchmark.json written "
        "next to it")


def test_a_log_with_only_the_device_figure_gives_no_allocator_peak(tmp_path):
    # A report's `memory` models torch's allocator peak: nvidia-smi's max_global_vram never stands in for it.
    log = tmp_path / "benchmark.json"
    log.write_text(json.dumps({
        "config": {"backend": {"name": "pytorch", "model": "m/x", "device": "cuda", "device_ids": "0"},
                   "environment": {"gpu": ["NVIDIA A100-SXM4-80GB"]}, "scenario": {}},
        "report": {"decode": {"memory": {"unit": "MB", "max_global_vram": 17699.9}}}}))
    record = one(log)
    assert "memory" not in record.metrics
    assert record.metrics["memory_global_vram"].value == pytest.approx(17699.9 * MB)
    assert record.extra["metric_sources"] == {"memory_global_vram": "report.decode.memory.max_global_vram"}


def test_the_gpu_energy_of_several_gpus_is_a_total(tmp_path):
    # CodeCarbon inside optimum-benchmark tracks the device_ids and sums their energy: with two GPUs energy.gpu is
    # <phase>_energy_total, as max_allocated is memory_total; energy.total is the machine's, whatever the GPUs
    log = tmp_path / "benchmark.json"
    log.write_text(json.dumps({
        "config": {"backend": {"name": "pytorch", "model": "m/x", "device": "cuda", "device_ids": "0,1"},
                   "environment": {"gpu": ["NVIDIA A100-SXM4-80GB", "NVIDIA A100-SXM4-80GB"]}, "scenario": {}},
        "report": {"prefill": {"energy": {"unit": "kWh", "cpu": 0.001, "ram": 0.0005, "gpu": 0.004, "total": 0.0055},
                               "memory": {"unit": "MB", "max_allocated": 30000.0}}}}))
    record = one(log)
    assert record.identity["n_gpus"] == 2
    assert record.metrics["prefill_energy_total"].value == pytest.approx(0.004 * KWH)
    assert record.metrics["prefill_machine_energy"].value == pytest.approx((0.001 + 0.0005 + 0.004) * KWH)
    assert record.metrics["memory_total"].value == pytest.approx(30000.0 * MB)
    assert not {"prefill_energy", "memory", "prefill_machine_energy_total"} & set(record.metrics)
    assert record.extra["metric_sources"]["prefill_energy_total"] == "report.prefill.energy.gpu"
