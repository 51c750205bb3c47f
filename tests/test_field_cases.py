"""Field cases of ../shared/cases/field (issue #9), each input copied into tests/field/ and checked against the right
value its README gives.

- kv_heads_per_gpu: tensor parallelism wider than the model's KV heads. Engines (vLLM, TensorRT-LLM, SGLang)
  replicate a KV head rather than split it, so each GPU holds max(1, kv_heads / tp) heads.
- sliding_window_kv: Mistral-7B-v0.1 (sliding_window 4096) under transformers, whose DynamicSlidingWindowLayer keeps
  the last window - 1 tokens of each sliding layer; which stack keeps what is the workload cell window_kv_bounded.
- one_gpu_needs_no_interconnect: a one-GPU estimate on a GPU whose interconnect figures are open inputs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import perfdsl

FIELD = Path(__file__).resolve().parent / "field"
BF16 = 2                                   # bytes per cached element
MIB = 2 ** 20


def rows(report_file: str, report: str, overrides: dict | None = None) -> list[dict]:
    return perfdsl.load([FIELD / report_file]).evaluate(report, overrides=overrides).records()


# ---- kv_heads_per_gpu ----------------------------------------------------------------------------------------

def kv_bytes_per_token(layers: int, heads_on_gpu: int, head_dim: int = 128) -> int:
    return 2 * layers * heads_on_gpu * head_dim * BF16          # keys and values


@pytest.fixture(scope="module")
def kv_per_gpu() -> dict[tuple[str, int], float]:
    return {(row["model"], row["tp"]): row["kv_bytes_per_token_per_gpu [B]"]
            for row in rows("tp_gt_kv_heads.perf", "kv_per_gpu")}


def test_kv_heads_are_replicated_not_split_when_tp_exceeds_them(kv_per_gpu):
    # The README's figures: Qwen2.5-3B (36 layers, 2 KV heads) 18,432 at tp 4, 8 and 16; Qwen2.5-7B (28 layers,
    # 4 KV heads) 14,336 at tp 8; Llama-3.1-70B (80 layers, 8 KV heads) 40,960 at tp 16.
    for tp in (4, 8, 16):
        assert kv_per_gpu[("qwen2_5_3b", tp)] == kv_bytes_per_token(36, 1) == 18_432
    assert kv_per_gpu[("qwen2_5_7b", 8)] == kv_bytes_per_token(28, 1) == 14_336
    assert kv_per_gpu[("llama3_1_70b", 16)] == kv_bytes_per_token(80, 1) == 40_960


def test_a_tp_that_does_not_divide_the_attention_heads_is_marked_as_refused():
    marked = {(row["model"], row["tp"]): (row["valid"], row["violates"])
              for row in rows("tp_gt_kv_heads.perf", "kv_per_gpu")}
    valid, violates = marked[("qwen2_5_7b", 8)]                  # 28 heads over 8 GPUs: 3.5 heads each
    assert valid is False and "attention heads" in violates
    assert marked[("qwen2_5_3b", 8)][0] is True                  # 16 heads over 8 GPUs; its 2 KV heads replicated


def test_kv_heads_split_evenly_while_tp_divides_them(kv_per_gpu):
    assert kv_per_gpu[("qwen2_5_3b", 1)] == kv_bytes_per_token(36, 2)
    assert kv_per_gpu[("qwen2_5_3b", 2)] == kv_bytes_per_token(36, 1)
    assert kv_per_gpu[("qwen2_5_7b", 2)] == kv_bytes_per_token(28, 2)
    assert kv_per_gpu[("llama3_1_70b", 8)] == kv_bytes_per_token(80, 1)
    assert kv_per_gpu[("llama3_1_70b", 1)] == kv_bytes_per_token(80, 8)


# ---- sliding_window_kv ---------------------------------------------------------------------------------------

MISTRAL_PER_TOKEN = kv_bytes_per_token(32, 8)                   # 32 layers, 8 KV heads of 128: 131,072 B


def test_transformers_keeps_window_minus_one_tokens_per_sliding_layer():
    got = {row["seq_len"]: row["kv_cache [MiB]"] for row in rows("mistral_window_kv.perf", "window_kv")}
    assert got[4000] == pytest.approx(4000 * MISTRAL_PER_TOKEN / MIB) == 500
    for seq in (4200, 8192, 32768):
        assert got[seq] == pytest.approx(4095 * MISTRAL_PER_TOKEN / MIB)        # 511.875 MiB
    assert 4095 * MISTRAL_PER_TOKEN / MIB == 511.875


def test_a_stack_that_keeps_the_whole_context_is_one_cell():
    # llama.cpp keeps every token of a sliding layer: the README's "1,024 MiB at 8,192 tokens, 4,096 at 32,768".
    got = {row["seq_len"]: row["kv_cache [MiB]"]
           for row in rows("mistral_window_kv.perf", "window_kv", {"w.window_kv_bounded": "false"})}
    assert got[8192] == pytest.approx(8192 * MISTRAL_PER_TOKEN / MIB) == 1024
    assert got[32768] == pytest.approx(32768 * MISTRAL_PER_TOKEN / MIB) == 4096


# ---- one_gpu_needs_no_interconnect ---------------------------------------------------------------------------

def test_a_one_gpu_estimate_needs_no_interconnect_figure():
    # The RTX 4090 leaves pcie_bw and nvlink_bw open (hardware/README.md, "Gaps"): a one-GPU step never uses them.
    (row,) = rows("single_gpu_runtime_needs_interconnect.perf", "r")
    assert row["peak [GiB]"] > 0 and row["ttft [ms]"] > 0
    for part in ("rtx_3090", "v100_sxm2_32gb", "a100_80gb_pcie"):     # the README's other GPUs (a30 lacks peak_fp16)
        (row,) = rows("single_gpu_runtime_needs_interconnect.perf", "r", {"r.hardware": part})
        assert row["ttft [ms]"] > 0


def test_the_mistral_4090_sweep_runs_and_fits():
    got = rows("mistral_4090_sweep.perf", "fits_4090")
    assert [row["batch"] for row in got] == [1, 2, 4, 8, 16]
    assert all(row["fits"] for row in got)                 # 24 GB: 13.5 GiB of weights, under 3 GiB of KV cache
    kv_per_token = kv_bytes_per_token(32, 8)               # 131,072 B; 512 + 1000 tokens per sequence
    assert got[-1]["kv [GiB]"] == pytest.approx(16 * 1512 * kv_per_token / 2**30)


def test_tensor_parallelism_asks_for_the_figure_and_says_which_set_up_needs_it():
    program = perfdsl.load([FIELD / "single_gpu_runtime_needs_interconnect.perf"])
    with pytest.raises(perfdsl.PerfError) as caught:
        program.evaluate("r", overrides={"gen.tp": [1, 2], "gen.n_gpus": 2})
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "missing-input"
    assert diagnostic.message == ("hardware 'rtx_4090' does not give its declared input 'nvlink_bw' (byte/s), which "
                                  "the sweep point tp=2 needs")
    assert any(note.startswith("read only where the `if` at ") and "transformer_inference.perf" in note
               for note in diagnostic.notes)


def test_an_input_read_outside_any_branch_is_still_a_check_error(tmp_path):
    spec = tmp_path / "gap.perf"
    spec.write_text('import "hardware/ada.perf"\n'
                    'costmodel link { ring = hardware.pcie_bw * 2; guarded = if(hardware.tdp > 1 W, ring, 0 B/s) }\n'
                    'report direct { hardware = rtx_4090; show link.ring }\n'
                    'report guarded { hardware = rtx_4090; show link.guarded }\n')
    program = perfdsl.load([spec])
    codes = [(d.code, d.message) for d in program.check()]
    assert codes == [("missing-input", "hardware 'rtx_4090' does not give its declared input 'pcie_bw' (byte/s)")]
    with pytest.raises(perfdsl.PerfError, match="which every sweep point needs"):
        program.evaluate("guarded")
