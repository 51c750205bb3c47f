"""What a GPU cannot run natively: bf16 before Ampere is left out by a `require` (engines refuse it), and a format
whose tensor units the part lacks (FP8 before Ada/Hopper, FP4 before Blackwell) runs dequantised at the fp16 rate,
which the cell `workload.matmul_format_native` says."""

from __future__ import annotations

from pathlib import Path

import perfdsl

REPO = Path(__file__).resolve().parent.parent
SPEC = """import "costmodels/transformer_inference.perf"
import "models/llama.perf"
import "hardware/turing.perf"
import "hardware/ampere_datacenter.perf"
import "hardware/hopper.perf"
import "hardware/blackwell.perf"
workload w extends inference { batch = 1; seq_len = 128; output_len = 16 }
report r {
    model = llama3_1_8b
    sweep hardware = [t4, a100_80gb_sxm4, h100_sxm5, b200]
    sweep precision = [fp16, bf16, fp8, nvfp4]
    workload = w
    stack = vllm
    invalid_points = "mark"
    show workload.matmul_format_native as native
}
"""


def evaluate():
    return perfdsl.load([], texts={str(REPO / "native.perf"): SPEC}).evaluate()


def test_bf16_is_left_out_on_parts_without_it():
    records = evaluate().records()
    invalid = [(r["hardware"], r["precision"]) for r in records if not r["valid"]]
    assert invalid == [("t4", "bf16")]
    (t4_bf16,) = [r for r in records if not r["valid"]]
    assert t4_bf16["violates"] == "the GPU computes in bf16 (NVIDIA: Ampere and later; V100 and T4 have none: use fp16)"


def test_a_format_without_its_tensor_units_is_not_native():
    native = {(r["hardware"], r["precision"]): r["native"] for r in evaluate().records() if r["valid"]}
    assert native == {
        ("t4", "fp16"): True, ("t4", "fp8"): False, ("t4", "nvfp4"): False,
        ("a100_80gb_sxm4", "fp16"): True, ("a100_80gb_sxm4", "bf16"): True,
        ("a100_80gb_sxm4", "fp8"): False, ("a100_80gb_sxm4", "nvfp4"): False,      # Ampere: no FP8, no FP4
        ("h100_sxm5", "fp16"): True, ("h100_sxm5", "bf16"): True,
        ("h100_sxm5", "fp8"): True, ("h100_sxm5", "nvfp4"): False,                  # Hopper: FP8, no FP4
        ("b200", "fp16"): True, ("b200", "bf16"): True, ("b200", "fp8"): True, ("b200", "nvfp4"): True}
