"""Software stacks and precisions (issue 13): kernel counts follow the stack's fusions, bytes per weight and the
matmul rate follow the precision. Expected values are the arithmetic that gives them."""

from pathlib import Path

import pytest

import perfdsl

REPO = Path(__file__).resolve().parents[1]
CHECKS = REPO / "tests" / "fixtures" / "specs" / "stacks_checks.perf"


def test_a_llama_layer_launches_41_kernels_eagerly_and_11_under_vllm():
    result = perfdsl.load(CHECKS).evaluate("llama_stacks")
    kernels = dict(zip(result.axis_columns()["stack"].tolist(), result.column("layer_kernels").tolist()))
    hf = 4 + 3 + 1 + 2 * 8 + 10 + 1 + 2 + 2 + 2          # the seed's trace (tests/test_costmodel.py)
    vllm = (2        # qkv (QKVParallelLinear), o
            + 2      # gate_up (MergedColumnParallelLinear), down
            + 1      # attention
            + 2 * 1  # two fused_add_rms_norm (the residual adds inside)
            + 1      # rotary_embedding
            + 1)     # silu_and_mul
    assert (hf, vllm) == (41, 9)
    assert kernels == {"hf_eager": hf, "vllm": vllm}


def test_weight_bytes_and_matmul_rate_follow_the_precision():
    result = perfdsl.load(CHECKS).evaluate("llama_precisions")
    axes = result.axis_columns()
    got = {(h, p): (w, peak, fp16, fp8) for h, p, w, peak, fp16, fp8 in zip(
        axes["hardware"].tolist(), axes["precision"].tolist(), result.column("weights").tolist(),
        result.column("peak").tolist(), result.column("fp16").tolist(), result.column("fp8").tolist())}
    w16 = got[("a100_80gb_sxm4", "fp16")][0]
    # Q4_K_M: 4.58 GiB / 14.96 GiB of the published Llama-3-8B files x 2 byte per weight.
    assert abs(got[("a100_80gb_sxm4", "gguf_q4_k_m")][0] / w16 - 4.58 / 14.96) < 1e-12
    # FP8: one byte per weight, but the embedding and the LM head stay bf16 (precision.embedding_bytes):
    # Llama-3.1-8B's 8,030,261,248 weights, of which 2 x 128256 x 4096 are the embedding and the untied LM head.
    params, embeddings = 8_030_261_248, 2 * 128_256 * 4_096
    assert w16 == 2 * params
    assert got[("a100_80gb_sxm4", "fp8")][0] == (params - embeddings) * 1 + embeddings * 2
    # FP8 on H100 runs at its FP8 peak (1978.9 against 989.4 TFLOP/s FP16); the A100 has none: its FP16 rate.
    _, peak, fp16, fp8 = got[("h100_sxm5", "fp8")]
    assert peak == fp8 and abs(fp8 / fp16 - 2) < 1e-3
    _, peak, fp16, _ = got[("a100_80gb_sxm4", "fp8")]
    assert peak == fp16


def test_kv_pool_is_the_memory_fraction_less_the_rest_or_of_the_free_memory():
    result = perfdsl.load(CHECKS).evaluate("llama_memory")
    got = {row["stack"]: row for row in result.records()}
    vllm, trt = got["vllm"], got["trtllm"]
    mem = 80 * 2**30                  # a100_80gb_sxm4.mem_size: "80 GB" of HBM2e is 80 GiB; no reported total given
    assert vllm["pool [byte]"] == pytest.approx(0.9 * mem - vllm["non_kv [byte]"], rel=1e-12)
    assert trt["pool [byte]"] == pytest.approx(0.9 * (mem - trt["non_kv [byte]"]), rel=1e-12)
    # Llama-3.1-8B: 32 layers x 8 KV heads x 128 x (K and V) x 2 byte = 131,072 byte per token.
    assert vllm["per_token [byte]"] == 32 * 8 * 128 * 2 * 2
    # Whole pages of 16 tokens (vLLM's block_size), and TensorRT-LLM's 64.
    assert vllm["tokens"] == 16 * (vllm["pool [byte]"] // (131072 * 16))
    assert trt["tokens"] == 64 * (trt["pool [byte]"] // (131072 * 64))


def test_vllm_sizes_its_kv_pool_on_an_h100_from_the_total_the_driver_reports(tmp_path):
    """An "80 GB" H100 SXM has 80 GiB of HBM3 (a DRAM capacity's GB is 2^30 byte, JEDEC) and reports 85,520,809,984
    byte = 81,559 MiB as its total (NVML's, ../shared/logs/01_optimum_benchmark: "gpu_vram_mb": 85520809984); vLLM's
    pool is gpu_memory_utilization x that total less weights, activations and buffers. Before, mem_size was 80e9 byte
    (GB read as 10^9) and the pool 0.9 x 80e9 less the rest: 420,320 tokens for Llama-3.1-8B, not 458,224."""
    (tmp_path / "r.perf").write_text(
        f'import "{REPO}/costmodels/transformer_inference.perf"\n'
        f'import "{REPO}/models/llama.perf"\n'
        f'import "{REPO}/hardware/hopper.perf"\n'
        'workload w extends inference { batch = 1; seq_len = 1024; output_len = 128; lm_head_all_positions = false }\n'
        'report r {\n    model = llama3_1_8b\n    hardware = h100_sxm5\n    stack = vllm\n    precision = bf16\n'
        '    workload = w\n    show hardware.mem_size in byte as dram, hardware.mem_visible in byte as total,\n'
        '         memory.non_kv in byte as non_kv, memory.kv_pool in byte as pool, memory.max_kv_tokens as tokens\n}\n')
    (row,) = perfdsl.load(tmp_path / "r.perf").evaluate().records()
    assert row["dram [byte]"] == 80 * 2**30 == 85_899_345_920
    assert row["total [byte]"] == 81_559 * 2**20 == 85_520_809_984
    weights = 2 * 8_030_261_248                                  # bf16 Llama-3.1-8B on one GPU
    # the layer peak at vLLM's step budget on an H100, 16,384 tokens (the LLM class on a GPU of 70 GiB or more)
    activations = 2 * 16384 * 4096 * 2 + 16384 * 14336 * 2 * 3
    buffers = 8.125 * 2**20                                      # vllm.cublas_workspace; the other buffers are 0
    assert row["non_kv [byte]"] == weights + activations + buffers
    assert row["pool [byte]"] == pytest.approx(0.9 * 85_520_809_984 - (weights + activations + buffers), rel=1e-12)
    # Whole pages of 16 tokens of 131,072 byte (32 layers x 8 KV heads x 128 x K and V x 2 byte).
    assert row["tokens"] == 16 * ((0.9 * 85_520_809_984 - (weights + activations + buffers)) // (131_072 * 16))
    assert row["tokens"] == 451_824     # 458,224 at the 8,192-token budget the vllm block gave every GPU before


def test_decode_host_time_is_one_graph_launch_with_cuda_graphs_else_every_kernel():
    result = perfdsl.load(CHECKS).evaluate("llama_memory")
    got = {row["stack"]: row for row in result.records()}
    assert got["vllm"]["host [s]"] == pytest.approx(20e-6, rel=1e-12)          # vllm.graph_launch_time
    hf = got["hf_eager"]
    assert hf["host [s]"] == pytest.approx(hf["kernels"] * 19.5e-6, rel=1e-12)   # hf_eager.host_kernel_time
    # The decode step's kernels: 32 layers x 41 + final norm (8) + embedding + LM head + the fp32 logits upcast
    # (models/llama.perf: hf_logits_fp32) + 2 (the prologue's ten replaced by two per step).
    assert hf["kernels"] == 32 * 41 + 8 + 1 + 1 + 1 + 2


def test_an_engine_fits_only_with_room_for_kv_pages_in_its_pool(tmp_path):
    # Llama-3.1-70B in fp8 on one H100 (80 GiB, 85,520,809,984 byte reported): about 70.6 GB of weights (1 byte
    # each, the embedding and LM head at 2) and the activations leave vLLM 0.9 x 85.52 GB less them, 2.6 GB, for KV
    # pages: batch 1 fits. At batch 16 the activations of the logits of every position (the `inference` default)
    # take it past vLLM's share: no KV page, so vLLM would not start ("No available memory for the cache blocks"),
    # while eager transformers (no pool) holds batch 1 within the 85.52 GB. (With the total read as 80e9 byte, the
    # pool was empty at batch 1 too.) The 2.6 GB hold a few thousand tokens, not one sequence of the model's 131,072
    # positions, vLLM's default max_model_len, at which it refuses to start (memory.max_model_len_fits): the run sets
    # --max-model-len 2048, room for its 1,024 + 128 tokens.
    (tmp_path / "r.perf").write_text(
        f'import "{REPO}/costmodels/transformer_inference.perf"\n'
        f'import "{REPO}/models/llama.perf"\n'
        f'import "{REPO}/hardware/hopper.perf"\n'
        'workload w extends inference {\n'
        '    sweep batch = [1, 16]; seq_len = 1024; output_len = 128; max_model_len = 2048\n}\n'
        'report r {\n    model = llama3_1_70b\n    hardware = h100_sxm5\n    sweep stack = [vllm, hf_eager]\n'
        '    precision = fp8\n    workload = w\n'
        '    show memory.kv_pool in byte as pool, memory.non_kv in byte as non_kv, memory.peak in GB as peak,\n'
        '         memory.fits as fits\n}\n')
    got = {(row["stack"], row["batch"]): row for row in perfdsl.load(tmp_path / "r.perf").evaluate().records()}
    one = got[("vllm", 1)]
    assert one["pool [byte]"] == pytest.approx(0.9 * 85_520_809_984 - one["non_kv [byte]"], rel=1e-12)
    assert 0 < one["pool [byte]"] < 3e9 and one["fits"] is True
    assert got[("vllm", 16)]["pool [byte]"] == 0 and got[("vllm", 16)]["fits"] is False
    assert got[("hf_eager", 1)]["peak [GB]"] < 85.52 and got[("hf_eager", 1)]["fits"] is True


def test_an_engine_profiles_activations_at_its_token_budget_and_transformers_at_the_whole_batch(tmp_path):
    """Llama-3.1-8B, 64 prompts of 4,096 tokens: eager transformers runs the 262,144 tokens in one forward, while
    vLLM's forward holds at most max_num_batched_tokens, 16,384 on an H100 (vLLM's LLM class on a GPU of 70 GiB or
    more), and sizes its KV pool after a profiling forward of that budget (a newcomer found vLLM's pool short by 26
    GB, and `fits` false, from the whole batch's activations).
    The peak inside a layer: the residual stream twice and the gated MLP's three intermediates, 2-byte activations."""
    (tmp_path / "r.perf").write_text(
        f'import "{REPO}/costmodels/transformer_inference.perf"\n'
        f'import "{REPO}/models/llama.perf"\n'
        f'import "{REPO}/hardware/hopper.perf"\n'
        # Logits for the last position only, as generation computes them (the inference default is a plain
        # forward's, every position: 64 x 4,096 x 128,256 of them would be the peak instead).
        'workload w extends inference { batch = 64; seq_len = 4096; output_len = 128; lm_head_all_positions = false }\n'
        'report r {\n    model = llama3_1_8b\n    hardware = h100_sxm5\n    sweep stack = [vllm, hf_eager]\n'
        '    precision = bf16\n    workload = w\n'
        '    show memory.activations in byte as activations, memory.fits as fits\n}\n')
    got = {row["stack"]: row for row in perfdsl.load(tmp_path / "r.perf").evaluate().records()}
    hidden, ffn, a = 4096, 14336, 2

    def layer_peak(tokens):
        return 2 * tokens * hidden * a + tokens * ffn * a * 3

    assert got["vllm"]["activations [byte]"] == layer_peak(16384) == 1_677_721_600
    assert got["hf_eager"]["activations [byte]"] == layer_peak(64 * 4096)
    assert got["vllm"]["fits"] is True          # KV cache 36.5 GB within 0.9 x 80 GB less weights and activations


def test_each_stack_carries_its_own_all_reduce_latency(tmp_path):
    """The fixed time per ring step of a tensor-parallel collective is the stack's (software/stacks.perf): trtllm's is
    perfdsl's fit of TensorRT-LLM v0.6's runs (13.5543 us, reports/published_trtllm_calibration.perf), which the base
    gives every other stack, provisionally; `--set vllm.allreduce_latency=5us` changes vLLM's decode step alone.
    Before, the cell was the workload's: no stack could carry its own, and `vllm.allreduce_latency` was no cell."""
    (tmp_path / "r.perf").write_text(
        f'import "{REPO}/costmodels/transformer_inference.perf"\n'
        f'import "{REPO}/models/llama.perf"\n'
        f'import "{REPO}/hardware/hopper.perf"\n'
        'workload w extends inference { batch = 1; seq_len = 1024; output_len = 128; tp = 8; n_gpus = 8 }\n'
        'report r {\n    model = llama3_1_70b\n    hardware = h100_sxm5\n    sweep stack = [vllm, trtllm]\n'
        '    precision = bf16\n    workload = w\n'
        '    show workload.allreduce_latency in us as latency, decode.allreduce_time in s as ar\n}\n')
    program = perfdsl.load(tmp_path / "r.perf")
    rows = {row["stack"]: row for row in program.evaluate().records()}
    assert rows["vllm"]["latency [us]"] == rows["trtllm"]["latency [us]"] == pytest.approx(13.5543)
    changed = {row["stack"]: row for row in program.evaluate(overrides={"vllm.allreduce_latency": "5 us"}).records()}
    assert changed["vllm"]["latency [us]"] == pytest.approx(5)
    assert changed["trtllm"] == rows["trtllm"]
    # Llama-3.1-70B: 80 layers, each two all-reduces (attention and MLP) of 2 (tp - 1) = 14 ring steps at tp 8.
    steps = 80 * 2 * 2 * (8 - 1)
    assert rows["vllm"]["ar [s]"] - changed["vllm"]["ar [s]"] == pytest.approx(steps * (13.5543 - 5) * 1e-6, rel=1e-9)


def test_sglang_sizes_its_static_memory_by_the_gpu_and_tp(tmp_path):
    """SGLang's mem_fraction_static (sgl-project/sglang@a82da8d arg_groups/memory_hook.py): of the GPU's total in MiB
    it reserves 512 + 1.5 x max(chunked_prefill_size, 2048) + 1024 x tp / 8 + 2 x the decode graphs' largest batch +
    8 per prefill graph size, at least 10 GiB above 60 GiB, and keeps the rest, rounded to 0.001. The stack used to
    give 0.88 on every GPU and tp."""
    (tmp_path / "r.perf").write_text(
        f'import "{REPO}/costmodels/transformer_inference.perf"\n'
        f'import "{REPO}/models/llama.perf"\n'
        f'import "{REPO}/hardware/hopper.perf"\n'
        f'import "{REPO}/hardware/ada.perf"\n'
        'workload w extends inference { batch = 1; seq_len = 1024; sweep tp = [1, 8]; n_gpus = tp;'
        ' lm_head_all_positions = false }\n'
        'report r {\n    model = llama3_1_8b\n    sweep hardware = [h100_sxm5, l40s]\n    stack = sglang\n'
        '    precision = bf16\n    workload = w\n'
        '    show workload.memory_fraction as fraction, workload.max_num_batched_tokens as chunk,\n'
        '         memory.kv_pool in byte as pool, memory.weights in byte as weights, memory.buffers in byte as buffers\n}\n')
    got = {(r["hardware"], r["tp"]): r for r in perfdsl.load(tmp_path / "r.perf").evaluate().records()}
    # H100 (81,559 MiB): chunk 8192 and 58 prefill graph sizes (4 .. 8192); decode graphs to 256 (tp < 4) or 512.
    h100 = 81559
    assert got["h100_sxm5", 1]["chunk"] == 8192
    reserved_tp1 = 512 + 1.5 * 8192 + 1024 * 1 / 8 + 2 * 256 + 8 * 58         # 13,904 MiB, above the 10 GiB floor
    reserved_tp8 = 512 + 1.5 * 8192 + 1024 * 8 / 8 + 2 * 512 + 8 * 58
    assert got["h100_sxm5", 1]["fraction"] == round((h100 - reserved_tp1) / h100, 3)
    assert got["h100_sxm5", 8]["fraction"] == round((h100 - reserved_tp8) / h100, 3)
    assert (got["h100_sxm5", 1]["fraction"], got["h100_sxm5", 8]["fraction"]) == (0.83, 0.812)
    # L40S (46,068 MiB, under 60 GiB: no 10 GiB floor): chunk 4096 and 50 sizes; decode graphs to 32 or 160.
    l40s = 46068
    assert got["l40s", 1]["chunk"] == 4096
    assert got["l40s", 1]["fraction"] == round((l40s - (512 + 1.5 * 4096 + 1024 / 8 + 2 * 32 + 8 * 50)) / l40s, 3)
    assert got["l40s", 1]["fraction"] == 0.843
    assert got["l40s", 8]["fraction"] == round((l40s - (512 + 1.5 * 4096 + 1024 + 2 * 160 + 8 * 50)) / l40s, 3) == 0.818
    # The share holds the weights and the pool (model_runner_kv_cache_mixin.py, profile_max_num_token): the
    # activations are in the reserve, not taken from the pool as vLLM's are.
    row = got["h100_sxm5", 1]
    assert row["pool [byte]"] == pytest.approx(0.83 * h100 * 2**20 - row["weights [byte]"] - row["buffers [byte]"],
                                               rel=1e-12)


def test_a_fixed_time_per_all_reduce_costs_the_same_at_every_tp(tmp_path):
    """stack.allreduce_fixed: a time per all-reduce whatever tp (a one- or two-stage all-reduce, vLLM's custom one),
    spread over the ring's 2 (tp - 1) steps, beside allreduce_latency per step. With allreduce_latency 0 us and 15 us
    per all-reduce, Llama-3.1-70B's decode step spends 80 layers x 2 all-reduces x 15 us = 2.4 ms on latency at tp 2,
    4 and 8 alike (the bytes over the ring are the difference with allreduce_fixed 0). Before, a per-all-reduce time
    could only be written in a workload, as reports/published_mlc.perf does."""
    (tmp_path / "r.perf").write_text(
        f'import "{REPO}/costmodels/transformer_inference.perf"\n'
        f'import "{REPO}/models/llama.perf"\n'
        f'import "{REPO}/hardware/hopper.perf"\n'
        'workload w extends inference { batch = 1; seq_len = 1024; output_len = 128; sweep tp = [2, 4, 8]; n_gpus = tp }\n'
        'report r {\n    model = llama3_1_70b\n    hardware = h100_sxm5\n    stack = vllm\n'
        '    precision = bf16\n    workload = w\n    show decode.allreduce_time in s as ar\n}\n')
    program = perfdsl.load(tmp_path / "r.perf")
    bytes_only = program.evaluate(overrides={"vllm.allreduce_latency": "0 us"}).column("ar")
    fixed = program.evaluate(overrides={"vllm.allreduce_latency": "0 us", "vllm.allreduce_fixed": "15 us"}).column("ar")
    assert (fixed - bytes_only).tolist() == pytest.approx([80 * 2 * 15e-6] * 3, rel=1e-9)
