"""What the seed's "x 8" runtimes imply under the plan TorchCAP's solver most likely chose.

TorchCAP's test_multi_gpu.py pins only the MLP weights (gate/up/fc1 column-wise, down/fc2 row-wise over 8 GPUs) and
lets an ILP choose every other placement, minimising resharding cost. Its cost model charges an all-reduce twice
(`comp_ovlp_coefficient = 2`) what a reduce-scatter plus an all-gather of the same tensor cost, so the cheapest plan
reduce-scatters the row-wise MLP output along the batch, runs attention, norms and residuals on 1/8 of the batch,
and all-gathers the hidden states before the next MLP. This script models that plan with the fitted single-GPU
cells (seed_model.py) and prints, per model, the communication time the measured runtime leaves over and the
effective bandwidth that implies. It is evidence for costmodels/README.md ("What the x 8 rows were"), not a fit: the
solver's actual plan for each model was not published, and the implied bandwidths differ by family.

    python x8_sharded_plan.py
"""
import numpy as np

import seed_model as sm

GPUS_X8 = 8
MEASURED_X8_MS = {"facebook/opt-1.3b": 1311.08, "facebook/opt-6.7b": 4241.64, "AICrossSim/clm-60m": 124.78,
                  "AICrossSim/clm-200m": 245.71, "AICrossSim/clm-400m": 356.11, "AICrossSim/clm-1.1b": 673.65}


def roofline(flops, nbytes, matmul_rate, bandwidth):
    return max(flops / matmul_rate, nbytes / bandwidth)


def compute_time_x8(name):
    """Per-GPU kernel time without communication: batch-sharded attention side, column/row-sharded MLP."""
    gpu, cells = sm.GPUS["NVIDIA RTX A5000"], sm.CELLS
    matmul_rate, bandwidth = cells["eta_mm"] * gpu["peak_fp16"], cells["eta_bw"] * gpu["bw"]
    model = sm.MODELS[name]
    whole = sm.derived(model, sm.WORK)
    batch_shard = sm.derived(model, dict(sm.WORK, b=sm.WORK["b"] // GPUS_X8))
    ffn_shard = sm.derived(dict(model, f=model["f"] // GPUS_X8), sm.WORK)
    layer = (roofline(batch_shard["F_proj"], batch_shard["B_proj"], matmul_rate, bandwidth)
             + roofline(batch_shard["F_attn_exec"], batch_shard["B_attn"], matmul_rate, bandwidth)
             + batch_shard["B_elem_layer"] / bandwidth
             + roofline(ffn_shard["F_mlp"], ffn_shard["B_mlp"], matmul_rate, bandwidth))
    outside = (roofline(batch_shard["F_head"], batch_shard["B_head"], matmul_rate, bandwidth)
               + (batch_shard["B_embed"] + batch_shard["B_final_norm"] + batch_shard["B_logits_post"]) / bandwidth)
    kernels = whole["K_total"] + 2 * whole["L"]          # plus a reduce-scatter and an all-gather per layer
    return whole["L"] * layer + outside + kernels * cells["t_kernel"], whole


def main():
    print(f"{'model':22s} {'compute ms':>10s} {'measured':>9s} {'left ms':>8s} {'ring GB':>8s} {'GB/s':>6s}")
    for name, measured_ms in MEASURED_X8_MS.items():
        compute_s, whole = compute_time_x8(name)
        left_s = measured_ms / 1e3 - compute_s
        hidden_bytes = whole["T"] * sm.MODELS[name]["h"] * sm.WORK["a"]
        # a reduce-scatter and an all-gather of the hidden states per layer, each moving (n-1)/n of it per GPU
        ring_bytes = 2 * whole["L"] * (GPUS_X8 - 1) / GPUS_X8 * hidden_bytes
        print(f"{name:22s} {compute_s * 1e3:10.1f} {measured_ms:9.1f} {left_s * 1e3:8.1f} "
              f"{ring_bytes / 1e9:8.2f} {ring_bytes / left_s / 1e9:6.2f}")


if __name__ == "__main__":
    main()
