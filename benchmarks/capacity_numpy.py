"""The capacity-planning report's formulas hand-written in numpy: the speed a person gets without perfdsl, measured in
the same run as perfdsl (benchmarks/bench_scale.py; issue 10's table).

costmodels/transformer_inference.perf over reports/capacity_planning.perf's sweep (model x hardware x batch x
seq_len x output_len x tp), with serving_grid's constants folded in as a person writing it by hand would (pp = 1,
one micro-batch, n_gpus = tp, fp16 everywhere, lm_head on the last position, a KV cache, the TDP power model, no
logit copies; Megatron's two all-reduces a layer, each 2 (tp - 1) ring steps of the stack's (hf_eager)
allreduce_latency, on a ring inside the NVLink domain at the GPU's interconnect_bw (an Infinity Fabric mesh: tp - 1
of its links) or beyond it at scaleout_bw). The per-model and per-GPU figures, and the latency, are read from the libraries with
perfdsl (not timed). `capacity(inputs)` gives the seven shown values (SI) and whether the point meets the
constraints; the benchmark checks them against perfdsl's to 1e-12.
"""

from __future__ import annotations

import numpy as np

MODEL_CELLS = ["hidden", "layers", "heads", "kv_heads", "ffn", "vocab", "head_dim", "embed_dim", "experts", "top_k",
               "gated_mlp", "tied_embeddings", "learned_pos", "norm_is_rms", "final_norm", "hf_q_scale_kernel", "hf_qkv_layout_copies",
               "hf_logits_fp32", "q_dim", "kv_dim", "mlp_matrices", "expert_params", "params",
               "matmul_flops_per_token_linear", "attn_flops_per_token_per_ctx", "kv_expanded_elems_per_layer_token",
               "kv_window", "window_layers", "global_layers"]
GPU_CELLS = ["matmul_efficiency", "attention_efficiency", "bandwidth_efficiency", "mem_bw", "peak_fp16",
             "interconnect_bw", "mem_visible", "tdp", "nvlink_bw", "nvlink_domain", "nvlink_mesh_links", "scaleout_bw"]

A = W = KV = 2.0                      # bytes per element: fp16 activations, weights, KV cache
KERNEL_OVERHEAD = 4e-6                # s per kernel (serving_grid)
HOST_KERNEL_TIME = 19.5e-6            # s per kernel issued (serving_grid)
PROLOGUE_KERNELS = 10
CUBLAS_WORKSPACE = 8.125 * 2**20      # byte


def _figure(program, dotted: str) -> float:
    """A GPU's figure, or NaN where the part leaves it open and the cost model never reads it: b200's scaleout_bw
    (= pcie_bw, open) is read only by a ring beyond its NVLink domain of eight, which the sweep's tp never reaches
    (np.where picks the other branch; a NaN that reached a result would fail the benchmark's comparison)."""
    from perfdsl.errors import PerfError

    try:
        return float(program.value(dotted))
    except PerfError:
        if dotted.endswith(".scaleout_bw"):
            return float("nan")
        raise


def inputs(program, models, gpus, batch, seq_len, output_len, tp) -> dict[str, np.ndarray]:
    """Every figure the formulas read, as arrays shaped to broadcast over (model, gpu, batch, seq, out, tp)."""
    def along(values, axis):
        shape = [1] * 6
        shape[axis] = len(values)
        return np.asarray(values, dtype=np.float64).reshape(shape)

    out = {name: along([float(program.value(f"{m}.{name}")) for m in models], 0) for name in MODEL_CELLS}
    out.update({name: along([_figure(program, f"{g}.{name}") for g in gpus], 1) for name in GPU_CELLS})
    out.update(batch=along(batch, 2), seq=along(seq_len, 3), out=along(output_len, 4), tp=along(tp, 5))
    out["allreduce_latency"] = np.float64(program.value("hf_eager.allreduce_latency"))   # the report's stack
    return out


def capacity(x: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """ttft, tpot, e2e (s), memory (byte), fits, energy_per_token (J/token), total_token_throughput (token/s), valid."""
    hidden, layers, heads, kv_heads, ffn, vocab = (x[k] for k in ("hidden", "layers", "heads", "kv_heads", "ffn",
                                                                  "vocab"))
    head_dim, embed_dim, top_k, mm = x["head_dim"], x["embed_dim"], x["top_k"], x["mlp_matrices"]
    rms, learned, gated = x["norm_is_rms"] > 0, x["learned_pos"] > 0, x["gated_mlp"] > 0
    fp32_logits = x["hf_logits_fp32"] > 0
    batch, seq, out, tp = x["batch"], x["seq"], x["out"], x["tp"]
    matmul_rate = x["matmul_efficiency"] * x["peak_fp16"]
    attention_rate = x["attention_efficiency"] * x["peak_fp16"]
    bandwidth = x["bandwidth_efficiency"] * x["mem_bw"]

    # ---- prefill: one forward over the prompt ----
    tokens = batch * seq
    gqa = kv_heads < heads
    proj_params = 2 * hidden * x["q_dim"] + 2 * hidden * x["kv_dim"]
    proj_time = np.maximum(2 * tokens * proj_params / tp / matmul_rate,
                           (A * tokens * (5 * hidden + x["q_dim"] + 2 * x["kv_dim"]) + W * proj_params) / tp / bandwidth)
    causal = (seq + 1) / (2 * seq)
    attention_flops = 4 * batch * heads * seq ** 2 * head_dim * causal / tp
    kv_read = np.where(gqa, heads, kv_heads)
    attention_time = np.maximum(attention_flops / attention_rate,
                                A * tokens * head_dim * (2 * heads + 2 * kv_read) / tp / bandwidth)
    mlp_flops = 2 * tokens * top_k * mm * hidden * ffn / tp
    # the distinct experts T tokens touch under uniform routing: experts x (1 - (1 - top_k / experts)^T), T capped
    # at 2,000 as costmodels/moe.perf caps it
    miss = 1 - top_k / x["experts"]
    experts_read = x["experts"] * (1 - miss ** np.minimum(tokens, 2000))
    mlp_bytes = (top_k * A * tokens * (hidden * mm + ffn * mm) + experts_read * W * mm * hidden * ffn) / tp
    mlp_time = np.maximum(mlp_flops / matmul_rate, mlp_bytes / bandwidth)
    norm_bytes_per_element = np.where(rms, 4 * A + 28, 2 * A)
    norm_kernels = np.where(rms, 8, 1)
    elementwise_bytes = ((np.where(learned, 0, 10 * A * tokens * (heads + kv_heads) * head_dim)
                          + 2 * A * tokens * head_dim * (x["hf_qkv_layout_copies"] * heads + heads
                                                         + np.where(gqa, 2 * heads, 0))
                          + np.where(x["hf_q_scale_kernel"] > 0, 2 * A * tokens * hidden, 0)
                          + top_k * tokens * ffn * A * np.where(gated, 5, 2)) / tp
                         + 2 * tokens * hidden * norm_bytes_per_element + 6 * A * tokens * hidden)
    layer_time = proj_time + attention_time + mlp_time + elementwise_bytes / bandwidth
    embed_bytes = 2 * A * tokens * hidden + np.where(learned, 5 * A * tokens * hidden, 0)
    final_norm_bytes = np.where(x["final_norm"] > 0, tokens * hidden * norm_bytes_per_element, 0)
    head_time = np.maximum(2 * batch * embed_dim * vocab / tp / matmul_rate,
                           (A * batch * (embed_dim + vocab) + W * vocab * embed_dim) / tp / bandwidth)
    logits_bytes = np.where(fp32_logits, batch * vocab * (A + 4), 0)
    outside_time = (embed_bytes + final_norm_bytes + logits_bytes) / bandwidth + head_time
    layer_kernels = (4 + mm * top_k + 1 + 2 * norm_kernels + np.where(learned, 0, 10) + x["hf_qkv_layout_copies"]
                     + 1 + np.where(gqa, 2, 0) + np.where(x["hf_q_scale_kernel"] > 0, 1, 0) + 2
                     + np.where(gated, 2, 1) + np.where(tp > 1, 2, 0))
    step_kernels = (layers * layer_kernels + norm_kernels + 2 + np.where(learned, 2, 0) + PROLOGUE_KERNELS
                    + np.where(fp32_logits, 1, 0))
    in_domain = (x["nvlink_bw"] == 0) | (tp <= x["nvlink_domain"])
    mesh = x["nvlink_mesh_links"]
    link_share = np.where(mesh > 0, np.minimum(np.maximum(tp - 1, 1), mesh) / np.maximum(mesh, 1), 1)
    ring_bw = np.where(in_domain, x["interconnect_bw"] * link_share, x["scaleout_bw"])
    ring_latency = layers * 2 * 2 * (tp - 1) * x["allreduce_latency"]      # two all-reduces of 2 (tp - 1) steps
    allreduce_time = np.where(tp > 1, 2 * layers * (2 * (tp - 1) / tp * tokens * hidden * A / ring_bw)
                              + ring_latency, 0)
    compute_time = layers * layer_time + outside_time
    prefill_runtime = np.maximum(compute_time + step_kernels * KERNEL_OVERHEAD + allreduce_time,
                                 step_kernels * HOST_KERNEL_TIME)

    # ---- the KV cache per GPU: a KV head is never split (max(1, kv_heads / tp) heads a GPU); a window layer
    # (sliding or chunked attention) keeps at most window - 1 tokens ----
    bytes_per_token = layers * x["kv_expanded_elems_per_layer_token"] * np.maximum(1, kv_heads / tp) / kv_heads * KV
    window_keep = x["kv_window"] - 1
    global_layers, window_layers = x["global_layers"], x["window_layers"]

    # ---- decode: one token for each sequence, at the mean context ----
    context = seq + out / 2
    kept_decode = (global_layers * context + window_layers * np.minimum(context, window_keep)) / layers
    flops = batch * (x["matmul_flops_per_token_linear"] + x["attn_flops_per_token_per_ctx"] * kept_decode) / tp
    decode_experts = x["experts"] * (1 - miss ** np.minimum(batch, 2000))
    # a step reads one row of an untied token embedding (row-split over the tp GPUs), not the whole of it
    embedding_unread = np.where(x["tied_embeddings"] > 0, 0, vocab * embed_dim / tp)
    weight_traffic = ((x["params"] - layers * (x["experts"] - decode_experts) * x["expert_params"]) / tp
                      - embedding_unread) * W
    decode_bytes = weight_traffic + bytes_per_token * batch * kept_decode + 2 * A * batch * hidden * layers
    step_compute = np.maximum(flops / matmul_rate, decode_bytes / bandwidth)
    decode_kernels = step_kernels - PROLOGUE_KERNELS + 2
    decode_allreduce = np.where(tp > 1, 2 * layers * (2 * (tp - 1) / tp * batch * hidden * A / ring_bw)
                                + ring_latency, 0)
    step_time = np.maximum(step_compute + decode_kernels * KERNEL_OVERHEAD + decode_allreduce,
                           decode_kernels * HOST_KERNEL_TIME)
    decode_time = np.maximum(out - 1, 0) * step_time   # the prefill samples the first token: out - 1 steps

    # ---- memory per GPU ----
    weights = x["params"] * W / tp
    context_end = seq + out
    kv_cache = bytes_per_token * batch * (global_layers * context_end
                                          + window_layers * np.minimum(context_end, window_keep)) / layers
    layer_peak = (2 * tokens * hidden * A + tokens * ffn * A * top_k * (2 + np.where(gated, 1, 0))) / tp
    head_peak = tokens * hidden * A + batch * vocab * A + np.where(fp32_logits, batch * vocab * 4, 0)
    returned_peak = batch * vocab * np.where(fp32_logits, 4, A)
    peak = weights + kv_cache + np.maximum(np.maximum(layer_peak, head_peak), returned_peak) + CUBLAS_WORKSPACE

    # ---- serving ----
    e2e = prefill_runtime + decode_time
    tokens_in_out = batch * seq + batch * out
    valid = ((heads / tp == np.floor(heads / tp))
             & ((kv_heads / tp == np.floor(kv_heads / tp)) | (tp / kv_heads == np.floor(tp / kv_heads))))
    return {"ttft": prefill_runtime, "tpot": step_time, "e2e": e2e, "memory": peak, "fits": peak <= x["mem_visible"],
            "energy_per_token": x["tdp"] * e2e * tp / tokens_in_out, "total_token_throughput": tokens_in_out / e2e,
            "valid": valid}
