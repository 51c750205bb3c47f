"""Serving engines against their published measurements (issue 13): TensorRT-LLM v0.6's performance tables, AutoAWQ's
RTX 4090 benchmark and three optimum-benchmark runs of eager transformers.

The reports are reports/published_trtllm.perf, published_autoawq.perf and published_optimum.perf; the measurements
are ../shared/data/measured/*.csv and ../shared/logs/01_optimum_benchmark (other projects' files, never copied into
the repository): those tests skip, saying so, where ../shared is absent. The first tests need nothing but the
repository: the engine cells by hand arithmetic (tests/fixtures/specs/engine_checks.perf).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import perfdsl
from perfdsl.cli import main

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TRTLLM_CSV = SHARED / "data" / "measured" / "trtllm_v06_performance_md.csv"
AUTOAWQ_CSV = SHARED / "data" / "measured" / "autoawq_rtx4090_w4a16.csv"
OPTIMUM = SHARED / "logs" / "01_optimum_benchmark"
OPTIMUM_LOGS = [OPTIMUM / "derekliu35_llama3.1-8b_bf16_A100_bs1_seq64_new64.benchmark.json",
                OPTIMUM / "derekliu35_llama3.1-70b_bf16_2xA100_bs1_seq64_new64_static-cache.benchmark.json",
                OPTIMUM / "derekliu35_llama3.1-70b_fbgemm-fp8_H100_bs1_seq64_new64.benchmark.json"]
CHECKS = REPO / "tests" / "fixtures" / "specs" / "engine_checks.perf"


def need(*paths: Path) -> None:
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        pytest.skip(f"../shared is absent ({', '.join(missing)}): the published-measurement check needs it")


def evaluate(report: str, logs: list[Path], capsys, *sets: str) -> list[dict]:
    """The report's JSON records with the logs as its measured runs (exit status 0 asserted)."""
    measured = [item for log in logs for item in ("--measured", str(log))]
    options = [item for s in sets for item in ("--set", s)]
    assert main(["eval", str(REPO / "reports" / report), *measured, "--format", "json", *options]) == 0
    return json.loads(capsys.readouterr().out)


def mape(records: list[dict], metric: str) -> tuple[float, int]:
    """Mean absolute error in percent over the records that have a measured `metric`, and how many there are."""
    errors = [abs(r[f"{metric} error [%]"]) for r in records if r.get(f"{metric} error [%]") is not None]
    return sum(errors) / len(errors), len(errors)


# ---- the engines' cells, by arithmetic ----------------------------------------------------------------------------

def test_a_kernel_without_gqa_grouping_reads_each_kv_head_once_per_query_head():
    result = perfdsl.load(CHECKS).evaluate("kv_reads")
    axes = result.axis_columns()
    got = {(m, s): (kv, per_token) for m, s, kv, per_token in zip(
        axes["model"].tolist(), axes["stack"].tolist(), result.column("kv_traffic").tolist(),
        result.column("kv_per_token").tolist())}
    # Llama-2-7B: 32 KV heads for 32 query heads; 4 sequences x 1000 tokens x 2 x 32 layers x 32 x 128 x 2 byte.
    per_token_7b = 2 * 32 * 32 * 128 * 2
    assert got[("llama2_7b", "trtllm")] == got[("llama2_7b", "vllm")] == (4 * 1000 * per_token_7b, per_token_7b)
    # Llama-2-70B: 8 KV heads for 64 query heads: TensorRT-LLM v0.6 reads each 64 / 8 = 8 times.
    per_token_70b = 2 * 80 * 8 * 128 * 2
    assert got[("llama2_70b", "vllm")] == (4 * 1000 * per_token_70b, per_token_70b)
    assert got[("llama2_70b", "trtllm")] == (8 * 4 * 1000 * per_token_70b, per_token_70b)


def test_fbgemm_fp8_adds_a_quantise_kernel_per_gemm_and_attention_stays_16_bit():
    result = perfdsl.load(CHECKS).evaluate("fbgemm_kernels")
    rows = dict(zip(result.axis_columns()["precision"].tolist(),
                    zip(*(result.column(c).tolist() for c in ("layer_kernels", "attention_rate", "matmul_rate")))))
    gemms = 4 + 3                       # q, k, v, o and gate, up, down: each input quantised by its own kernel
    assert rows["bf16"][0] == rows["fp8"][0] == 41
    assert rows["fbgemm_fp8"][0] == 41 + gemms
    # H100 SXM: 989.4 TFLOP/s FP16, 1978.9 FP8, at the library's 0.67 of peak; attention at the FP16 rate throughout.
    for name in ("bf16", "fp8", "fbgemm_fp8"):
        assert rows[name][1] == pytest.approx(0.67 * 989.4e12)
    assert rows["fp8"][2] == pytest.approx(0.67 * 1978.9e12)


def test_awq_keeps_the_embedding_and_lm_head_in_fp16():
    result = perfdsl.load(CHECKS).evaluate("awq_weights")
    rows = dict(zip(result.axis_columns()["precision"].tolist(),
                    zip(result.column("weights").tolist(), result.column("weight_traffic").tolist())))
    params, matrix = 6_738_415_616, 32_000 * 4_096           # Llama-2-7B; embed_tokens and lm_head are each vocab x hidden
    int4 = 66.5 / 128                                        # 4 bits + an fp16 scale + a 4-bit zero per 128 weights
    # A decode step reads the layers and the LM head, and of the token embedding one row a sequence (not counted).
    assert rows["fp16"] == (2 * params, 2 * (params - matrix))
    assert rows["int4_awq"][0] == pytest.approx((params - 2 * matrix) * int4 + 2 * matrix * 2, rel=1e-12)
    assert rows["int4_awq"][1] == pytest.approx((params - 2 * matrix) * int4 + matrix * 2, rel=1e-12)


# ---- TensorRT-LLM v0.6 (performance.md) ---------------------------------------------------------------------------

def test_every_trtllm_row_is_matched_and_within_the_issues_target(capsys):
    need(TRTLLM_CSV)
    records = evaluate("published_trtllm.perf", [TRTLLM_CSV], capsys)
    throughput, n_throughput = mape(records, "output_throughput")
    ttft, n_ttft = mape(records, "ttft")
    assert (n_throughput, n_ttft) == (31, 16)                # 47 published rows
    # In-sample, with the two cells of reports/published_trtllm_calibration.perf (costmodels/README.md), fitted with
    # a decode step reading one row of the token embedding a sequence.
    assert throughput == pytest.approx(12.39, abs=0.05) and throughput < 15
    assert ttft == pytest.approx(9.57, abs=0.05) and ttft < 15


def test_the_a100_tensor_parallel_rows_are_per_gpu(capsys):
    # performance.md does not say whether its A100 "out tok/s" at tp > 1 is per GPU or for the group: read as the
    # group's total, the cost model would be 2.6x too fast on average on those six rows; per GPU it is within 12%.
    need(TRTLLM_CSV)
    records = evaluate("published_trtllm.perf", [TRTLLM_CSV], capsys)
    rows = [r for r in records if r["hardware"] == "a100_80gb_sxm4" and r["tp"] > 1
            and r.get("output_throughput measured [token/s]") is not None]
    assert len(rows) == 6
    per_gpu = sum(abs(r["output_throughput error [%]"]) for r in rows) / len(rows)
    total = sum(abs(r["output_throughput_total [token/s]"] / r["output_throughput measured [token/s]"] - 1)
                for r in rows) / len(rows) * 100
    assert per_gpu < 15 < 100 < total


def test_llama2_70b_long_generations_need_the_kv_head_read_per_query_head(capsys):
    # Llama-2-70B's three rows generating 2048 tokens: with grouped KV reads the model is 80-112% too fast.
    need(TRTLLM_CSV)

    def errors(*sets):
        records = evaluate("published_trtllm.perf", [TRTLLM_CSV], capsys, *sets)
        return [r["output_throughput error [%]"] for r in records
                if r["model"] == "llama2_70b" and r["output_len"] == 2048
                and r.get("output_throughput error [%]") is not None]

    per_query_head, grouped = errors(), errors("trtllm.kv_read_per_query_head=false")
    assert len(per_query_head) == len(grouped) == 3
    assert all(-30 < e < 0 for e in per_query_head)
    assert all(e > 75 for e in grouped)


# ---- AutoAWQ on RTX 4090 ------------------------------------------------------------------------------------------

def test_autoawq_decode_is_within_the_issues_target(capsys):
    need(AUTOAWQ_CSV)
    records = evaluate("published_autoawq.perf", [AUTOAWQ_CSV], capsys)
    decode, n_decode = mape(records, "decode_throughput")
    # Vicuna 2, Mistral 8 (both kernels), Llama-2-13B 4, CodeLlama-34B 2, Mixtral 8 sweep points.
    assert n_decode == 2 + 8 + 4 + 2 + 8
    assert decode == pytest.approx(10.42, abs=0.05) and decode < 15


def test_autoawq_models_the_library_lacks_are_reported(capsys):
    need(AUTOAWQ_CSV)
    measured = ["--measured", str(AUTOAWQ_CSV)]
    assert main(["eval", str(REPO / "reports" / "published_autoawq.perf"), *measured, "--format", "json"]) == 0
    err = capsys.readouterr().err
    # TinyLlama, MPT-7B, Falcon-7B and deepseek-coder-33b: 6 rows each, listed, never dropped in silence. CodeLlama-34B
    # is matched: models/llama.perf describes it (codellama_34b, the AWQ checkpoint's base architecture).
    assert "warning[unmatched]: 24 runs without an estimate" in err
    unmatched = err.split("warning[unmatched]")[1]
    for hf_id in ("TinyLlama/TinyLlama-1.1B", "mosaicml/mpt-7b", "tiiuae/falcon-7b", "deepseek-ai/deepseek-coder-33b"):
        assert f"model '{hf_id}' is not in the report" in unmatched
    assert "CodeLlama" not in unmatched


# ---- eager transformers: optimum-benchmark ------------------------------------------------------------------------

def test_eager_transformers_per_token_latency_on_three_hosts_runs(capsys):
    need(*OPTIMUM_LOGS)
    records = {(r["model"], r["hardware"]): r for r in evaluate("published_optimum.perf", OPTIMUM_LOGS, capsys)}
    assert len(records) == 3
    for key, record in records.items():
        assert abs(record["per_token_latency error [%]"]) < 1.5, key
    # Kernels a token: 32 x 41 + 13 for the 8B; the 70B under fbgemm_fp8 adds one quantise kernel per GEMM (7 a layer).
    assert records[("llama3_1_8b_instruct", "a100_80gb_sxm4")]["kernels_per_token"] == 32 * 41 + 13
    assert records[("llama3_1_70b_instruct", "h100_sxm5")]["kernels_per_token"] == 80 * (41 + 7) + 13


def test_eager_memory_is_compared_with_the_allocator_peak_it_models(capsys):
    # hf_eager's memory.peak models torch's allocator peak (framework_overhead 0), which optimum-benchmark writes as
    # max_allocated: 16,089.67 MB for the 8B, 72,763.98 MB for the 70B fp8, 141,195.55 MB over the 70B's two GPUs.
    # Its max_global_vram (nvidia-smi's, CUDA context included) gave -9.08%, -2.10%, -2.40% against the same
    # estimates; it is ingested as memory_global_vram, a column this report does not show.
    need(*OPTIMUM_LOGS)
    records = {(r["model"], r["hardware"]): r for r in evaluate("published_optimum.perf", OPTIMUM_LOGS, capsys)}
    small = records[("llama3_1_8b_instruct", "a100_80gb_sxm4")]
    fp8 = records[("llama3_1_70b_instruct", "h100_sxm5")]
    pair = records[("llama3_1_70b_instruct", "a100_80gb_sxm4")]
    assert small["memory measured [MB]"] == pytest.approx(16089.67424)
    assert fp8["memory measured [MB]"] == pytest.approx(72763.976704)
    assert pair["memory_total measured [MB]"] == pytest.approx(141195.54816)
    for record, measured in ((small, 16089.67424), (fp8, 72763.976704)):
        assert record["memory error [%]"] == pytest.approx((record["memory [MB]"] - measured) / measured * 100)
    assert abs(small["memory error [%]"]) < 0.05 and abs(fp8["memory error [%]"]) < 0.1
    assert abs(pair["memory_total error [%]"]) < 0.01


def test_the_seeds_profiler_cells_put_the_8b_at_60_ms_a_token(capsys):
    # The issue's complaint: a report that used the seed's device-time cells (38 us a kernel, no host) gave 60.3 ms
    # per output token where optimum-benchmark measured 25.7 ms. The cost model now gives 59.56 ms: a decode step
    # reads one row of the token embedding a sequence (128,256 x 4,096 x 2 byte = 1.05 GB less, 0.64 ms at 0.80 x
    # 2,039 GB/s), no longer the whole matrix (60.2 ms).
    need(*OPTIMUM_LOGS)
    records = evaluate("published_optimum.perf", OPTIMUM_LOGS, capsys, "stack=hf_eager_profiled")
    small = next(r for r in records if r["model"] == "llama3_1_8b_instruct")
    assert small["per_token_latency measured [ms]"] == pytest.approx(25.6926131224)
    assert small["per_token_latency [ms]"] == pytest.approx(59.56, abs=0.01)


def test_the_optimum_calibration_refits_to_the_cells_it_wrote():
    need(*OPTIMUM_LOGS)
    from perfdsl.calibrate import calibrate
    from perfdsl.calibration_runs import prepare_problem

    problem = prepare_problem(str(REPO / "reports" / "published_optimum.perf"), [str(p) for p in OPTIMUM_LOGS],
                              ["hf_eager.kernel_overhead=0us..50us", "hf_eager.host_kernel_time=0us..50us"],
                              metrics=["per_token_latency"], group_by="source")
    cal = calibrate(problem, bootstrap=0)
    text = (REPO / "reports" / "published_optimum_calibration.perf").read_text()
    for cell, value in zip(problem.cells, cal.values):
        written = float(text.split(f"{cell.name} = ")[1].split()[0]) * 1e-6     # written in us
        assert value == pytest.approx(written, rel=1e-3), cell.name
