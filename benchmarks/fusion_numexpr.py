"""Would fusing elementwise chains with numexpr make the evaluation faster? A measurement, run by hand (issue 10:
"fuse elementwise chains where a well-kept library does it (numexpr is one candidate; measure before adopting)").

numexpr is not one of perfdsl's dependencies; to run this, install it beside the environment, not into it:

    .venv/bin/pip install --target /tmp/numexpr-lib --no-deps numexpr
    PYTHONPATH=/tmp/numexpr-lib .venv/bin/python benchmarks/fusion_numexpr.py [1e4 1e6 1e7]

What it times, in turn round by round (the least wall time of each): perfdsl's evaluation of
reports/capacity_planning.perf (in chunks at 1e7), the same formulas hand-written in numpy (capacity_numpy.py), and
`capacity_fused` below, those formulas with every chain that reaches an output's full size fused into one
numexpr.evaluate per output, on numexpr's default threads (the usable CPUs) and on one: fusion as a person who
writes each output as one expression gets it, with the parts that read the model, the GPU or tp alone computed
apart first. Each fused output is checked against numpy's to 1e-12 (relative) before the timing.

Measured on the 2-core machine (2.0 GHz Intel instance, numexpr 2.14.2, numpy 2.4.6, 2026-12-03), least of 40, 10
and 3 rounds in turn at 1e4, 1e6 and 1e7 points: perfdsl 4.6 / 49.4 / 487 ms, numpy 1.1 / 51.0 / 602 ms, fused on 2
threads 2.7 / 93.8 / 706 ms, fused on one 2.9 / 163 / 1082 ms (an earlier run, without perfdsl: numpy 1.8 / 63.0 /
718 ms, fused 5.6 / 98.5 / 827 ms on 2 threads). Fusing is slower: numpy computes each operation at its
operands' broadcast shape (a per-model figure times a per-GPU one is a model x GPU array, once), where a fused
expression computes every operation at every output point. perfdsl evaluates as numpy does, a cell at its own
shape; at 1e6 points, of its 58 ms on one thread, 16 ufunc calls at the full size took 27 ms (the rest: 185 calls
on arrays that lack an axis, 16 ms; small ones and Python, 15 ms). Fusing only those full-size calls, with every
lower-dimensional part computed apart as now, could shrink that 27 ms at most; not attempted.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import _program, _reference_inputs  # noqa: E402
from capacity_numpy import (A, CUBLAS_WORKSPACE, HOST_KERNEL_TIME, KERNEL_OVERHEAD, KV,  # noqa: E402
                            PROLOGUE_KERNELS, W, capacity)

try:
    import numexpr as ne
except ImportError:
    sys.exit("fusion_numexpr.py: numexpr is not installed; see this file's docstring for how to run it")


def _max(a: str, b: str) -> str:
    return f"where(({a}) > ({b}), ({a}), ({b}))"          # numexpr has no maximum(): the same choice, NaN aside


def _min(a: str, b: str) -> str:
    return f"where(({a}) < ({b}), ({a}), ({b}))"


def capacity_fused(x: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """capacity_numpy.capacity's outputs (SI), each full-size chain one numexpr expression; the parts that read the
    model, the GPU or tp alone are computed with numpy first, as a person fusing by hand would hoist them."""
    d = dict(x)
    hidden, layers, heads, kv_heads, vocab = (x[k] for k in ("hidden", "layers", "heads", "kv_heads", "vocab"))
    head_dim, embed_dim, top_k, mm, ffn = x["head_dim"], x["embed_dim"], x["top_k"], x["mlp_matrices"], x["ffn"]
    rms, learned, gated = x["norm_is_rms"] > 0, x["learned_pos"] > 0, x["gated_mlp"] > 0
    fp32_logits = x["hf_logits_fp32"] > 0
    tp = x["tp"]
    gqa = kv_heads < heads
    norm_bytes_per_element = np.where(rms, 4 * A + 28, 2 * A)
    norm_kernels = np.where(rms, 8, 1)
    d.update(
        matmul_rate=x["matmul_efficiency"] * x["peak_fp16"],
        attention_rate=x["attention_efficiency"] * x["peak_fp16"],
        bandwidth=x["bandwidth_efficiency"] * x["mem_bw"],
        proj_params=2 * hidden * x["q_dim"] + 2 * hidden * x["kv_dim"],
        proj_bytes_per_token=A * (5 * hidden + x["q_dim"] + 2 * x["kv_dim"]),
        kv_read=np.where(gqa, heads, kv_heads),
        miss=1 - top_k / x["experts"],
        split_bytes_per_token=(np.where(learned, 0, 10 * A * (heads + kv_heads) * head_dim)
                               + 2 * A * head_dim * (x["hf_qkv_layout_copies"] * heads + heads
                                                     + np.where(gqa, 2 * heads, 0))
                               + np.where(x["hf_q_scale_kernel"] > 0, 2 * A * hidden, 0)
                               + top_k * ffn * A * np.where(gated, 5, 2)),
        whole_bytes_per_token=2 * hidden * norm_bytes_per_element + 6 * A * hidden,
        embed_bytes_per_token=2 * A * hidden + np.where(learned, 5 * A * hidden, 0),
        final_norm_bytes_per_token=np.where(x["final_norm"] > 0, hidden * norm_bytes_per_element, 0),
        logits_bytes_per_sequence=np.where(fp32_logits, vocab * (A + 4), 0),
        fp32_logits=fp32_logits, gated_extra=np.where(gated, 1.0, 0.0),
        A=A, W=W, KERNEL_OVERHEAD=KERNEL_OVERHEAD, HOST_KERNEL_TIME=HOST_KERNEL_TIME,
        PROLOGUE_KERNELS=PROLOGUE_KERNELS, CUBLAS_WORKSPACE=CUBLAS_WORKSPACE)
    layer_kernels = (4 + mm * top_k + 1 + 2 * norm_kernels + np.where(learned, 0, 10) + x["hf_qkv_layout_copies"]
                     + 1 + np.where(gqa, 2, 0) + np.where(x["hf_q_scale_kernel"] > 0, 1, 0) + 2
                     + np.where(gated, 2, 1) + np.where(tp > 1, 2, 0))
    d["step_kernels"] = (layers * layer_kernels + norm_kernels + 2 + np.where(learned, 2, 0) + PROLOGUE_KERNELS
                         + np.where(fp32_logits, 1, 0))
    in_domain = (x["nvlink_bw"] == 0) | (tp <= x["nvlink_domain"])
    mesh = x["nvlink_mesh_links"]
    link_share = np.where(mesh > 0, np.minimum(np.maximum(tp - 1, 1), mesh) / np.maximum(mesh, 1), 1)
    d["ring_bw"] = np.where(in_domain, x["interconnect_bw"] * link_share, x["scaleout_bw"])
    d["ring_latency"] = layers * 2 * 2 * (tp - 1) * x["allreduce_latency"]
    d["kv_bytes_per_token"] = (layers * x["kv_expanded_elems_per_layer_token"] * np.maximum(1, kv_heads / tp)
                               / kv_heads * KV)
    d["window_keep"] = x["kv_window"] - 1
    decode_experts = x["experts"] * (1 - d["miss"] ** np.minimum(x["batch"], 2000))
    embedding_unread = np.where(x["tied_embeddings"] > 0, 0, vocab * embed_dim / tp)
    d["weight_traffic"] = ((x["params"] - layers * (x["experts"] - decode_experts) * x["expert_params"]) / tp
                           - embedding_unread) * W

    tokens = "(batch * seq)"
    proj = _max(f"2 * {tokens} * proj_params / tp / matmul_rate",
                f"({tokens} * proj_bytes_per_token + W * proj_params) / tp / bandwidth")
    attention = _max("4 * batch * heads * seq ** 2 * head_dim * ((seq + 1) / (2 * seq)) / tp / attention_rate",
                     f"A * {tokens} * head_dim * (2 * heads + 2 * kv_read) / tp / bandwidth")
    experts_read = f"experts * (1 - miss ** {_min(tokens, '2000')})"
    mlp = _max(f"2 * {tokens} * top_k * mlp_matrices * hidden * ffn / tp / matmul_rate",
               f"((top_k * A * {tokens} * (hidden * mlp_matrices + ffn * mlp_matrices)"
               f" + {experts_read} * W * mlp_matrices * hidden * ffn) / tp) / bandwidth")
    layer = (f"({proj}) + ({attention}) + ({mlp})"
             f" + ({tokens} * split_bytes_per_token / tp + {tokens} * whole_bytes_per_token) / bandwidth")
    head = _max("2 * batch * embed_dim * vocab / tp / matmul_rate",
                "(A * batch * (embed_dim + vocab) + W * vocab * embed_dim) / tp / bandwidth")
    outside = (f"({tokens} * embed_bytes_per_token + {tokens} * final_norm_bytes_per_token"
               f" + batch * logits_bytes_per_sequence) / bandwidth + ({head})")
    allreduce = f"where(tp > 1, 2 * layers * (2 * (tp - 1) / tp * {tokens} * hidden * A / ring_bw) + ring_latency, 0)"
    d["ttft"] = ne.evaluate(_max(f"layers * ({layer}) + ({outside}) + step_kernels * KERNEL_OVERHEAD + {allreduce}",
                                 "step_kernels * HOST_KERNEL_TIME"), local_dict=d)

    context = "(seq + out / 2)"
    kept = f"((global_layers * {context} + window_layers * {_min(context, 'window_keep')}) / layers)"
    flops = f"batch * (matmul_flops_per_token_linear + attn_flops_per_token_per_ctx * {kept}) / tp"
    decode_bytes = f"weight_traffic + kv_bytes_per_token * batch * {kept} + 2 * A * batch * hidden * layers"
    kernels = "(step_kernels - PROLOGUE_KERNELS + 2)"
    decode_allreduce = ("where(tp > 1, 2 * layers * (2 * (tp - 1) / tp * batch * hidden * A / ring_bw)"
                        " + ring_latency, 0)")
    step = _max(f"{flops} / matmul_rate", f"({decode_bytes}) / bandwidth")
    d["tpot"] = ne.evaluate(_max(f"{step} + {kernels} * KERNEL_OVERHEAD + {decode_allreduce}",
                                 f"{kernels} * HOST_KERNEL_TIME"), local_dict=d)
    d["e2e"] = ne.evaluate("ttft + where(out - 1 > 0, out - 1, 0) * tpot", local_dict=d)

    end = "(seq + out)"
    kv_cache = (f"kv_bytes_per_token * batch * (global_layers * {end}"
                f" + window_layers * {_min(end, 'window_keep')}) / layers")
    layer_peak = f"(2 * {tokens} * hidden * A + {tokens} * ffn * A * top_k * (2 + gated_extra)) / tp"
    head_peak = f"{tokens} * hidden * A + batch * vocab * A + where(fp32_logits, batch * vocab * 4, 0)"
    returned_peak = "batch * vocab * where(fp32_logits, 4, A)"
    d["memory"] = ne.evaluate(f"params * W / tp + {kv_cache} + {_max(_max(layer_peak, head_peak), returned_peak)}"
                              " + CUBLAS_WORKSPACE", local_dict=d)
    valid = ((heads / tp == np.floor(heads / tp))
             & ((kv_heads / tp == np.floor(kv_heads / tp)) | (tp / kv_heads == np.floor(tp / kv_heads))))
    return {"ttft": d["ttft"], "tpot": d["tpot"], "e2e": d["e2e"], "memory": d["memory"],
            "fits": ne.evaluate("memory <= mem_visible", local_dict=d),
            "energy_per_token": ne.evaluate("tdp * e2e * tp / (batch * seq + batch * out)", local_dict=d),
            "total_token_throughput": ne.evaluate("(batch * seq + batch * out) / e2e", local_dict=d),
            "valid": valid}


def _agree(reference: dict, fused: dict) -> None:
    for name, expected in reference.items():
        ours, theirs = np.broadcast_arrays(fused[name], expected)
        if theirs.dtype == bool:
            assert (ours == theirs).all(), name
        else:
            assert np.allclose(ours, theirs, rtol=1e-12, atol=0, equal_nan=True), name


def _on_threads(count: int, x: dict[str, np.ndarray]):
    """capacity_fused(x) on `count` numexpr threads (the former count given back after)."""
    def run():
        saved = ne.set_num_threads(count)
        try:
            return capacity_fused(x)
        finally:
            ne.set_num_threads(saved)
    return run


def measure(size: str) -> None:
    """Print the least wall time of each contender over rounds taken in turn, at `size` (bench_scale.SIZES)."""
    from perfdsl.streaming import evaluate_chunks

    program = _program(size)
    n_points, x = _reference_inputs(program)
    _agree(capacity(x), capacity_fused(x))
    if size == "1e7":
        def perfdsl_evaluation():
            return sum(result.n_points for _, result in evaluate_chunks(program))
    else:
        program.evaluate()                         # prepared once, as bench_scale times it
        perfdsl_evaluation = program.evaluate
    cores = ne.detect_number_of_cores()
    contenders = {"perfdsl": perfdsl_evaluation, "numpy": lambda: capacity(x),
                  f"numexpr on {cores} threads": _on_threads(cores, x), "numexpr on 1 thread": _on_threads(1, x)}
    least = dict.fromkeys(contenders, float("inf"))
    for _ in range({"1e4": 40, "1e6": 10}.get(size, 3)):
        for name, function in contenders.items():
            started = time.perf_counter()
            function()
            least[name] = min(least[name], time.perf_counter() - started)
    figures = [f"{name} {seconds * 1e3:.1f} ms ({n_points / seconds / 1e6:.1f} M/s)" for name, seconds in least.items()]
    print(f"{size}, {n_points:,} points: " + ", ".join(figures))


if __name__ == "__main__":
    for size in sys.argv[1:] or ["1e4", "1e6", "1e7"]:
        measure(size)
