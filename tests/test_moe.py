"""Mixture-of-experts execution (costmodels/moe.perf) through the API, on Mixtral 8x7B (8 experts, top 2, 32 layers,
hidden 4096, ffn 14336) decoding on 8 A100-SXM4-80GB (tests/fixtures/specs/moe_checks.perf).

Expected numbers are the arithmetic that gives them: the expected distinct experts under uniform routing, the busiest
GPU under expert parallelism (and no communication beyond the all-reduce), a grouped GEMM's padded tiles; and a dense model, which none
of it touches.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import perfdsl
from perfdsl.errors import PerfError, UsageError

REPO = Path(__file__).resolve().parents[1]
CHECKS = REPO / "tests" / "fixtures" / "specs" / "moe_checks.perf"

EXPERTS, TOP_K, LAYERS, HIDDEN, FFN = 8, 2, 32, 4096, 14336
EXPERT_PARAMS = 3 * HIDDEN * FFN              # gate, up, down of one SwiGLU expert
BF16 = 2                                      # bytes per weight


def records(report: str) -> list[dict]:
    return perfdsl.load(CHECKS).evaluate(report).records()


def at(rows: list[dict], **where) -> dict:
    (row,) = [r for r in rows if all(r[k] == v for k, v in where.items())]
    return row


def distinct(tokens: int) -> float:
    """experts x (1 - (1 - top_k / experts)^tokens): the expected distinct experts under uniform routing."""
    return EXPERTS * (1 - (1 - TOP_K / EXPERTS) ** tokens)


def test_one_token_reads_top_k_experts_and_more_tokens_the_expected_distinct_count():
    rows = records("moe_cells")
    assert at(rows, batch=1, ep=1)["decode_experts"] == pytest.approx(2)
    # 8 x (1 - 0.75^4) = 8 x 0.68359375 = 5.46875, where min(8, 4 x 2) said all 8
    assert at(rows, batch=4, ep=1)["decode_experts"] == pytest.approx(8 * (1 - 0.75 ** 4)) == pytest.approx(5.46875)
    assert at(rows, batch=64, ep=1)["decode_experts"] == pytest.approx(distinct(64))


def test_decode_reads_the_routed_experts_split_over_tp_and_one_row_of_the_embedding():
    rows = records("moe_cells")
    row = at(rows, batch=4, ep=1)
    params, share = row["params"], row["weight_share"]
    assert row["expert_params"] == EXPERT_PARAMS
    # tp = 8 splits every linear, the embedding included (Megatron): the step reads its 1/8 of all weights but the
    # embedding table and the 8 experts of each layer, then 1/8 of the 5.47 experts its tokens are routed to.
    embedding = 32000 * HIDDEN
    expected = (params * share - embedding / 8 - LAYERS * EXPERTS * EXPERT_PARAMS / 8
                + LAYERS * 5.46875 * EXPERT_PARAMS / 8) * BF16
    assert row["weight_traffic [byte]"] == pytest.approx(expected, rel=1e-9)


def test_expert_parallelism_makes_the_busiest_gpu_read_a_whole_expert_at_batch_one():
    rows = records("moe_cells")
    split, parallel = at(rows, batch=1, ep=1), at(rows, batch=1, ep=8)
    # ep = 1: each GPU reads 1/8 of both routed experts; ep = 8: two GPUs read one whole expert each, six wait.
    assert split["busiest"] == pytest.approx(2) and parallel["busiest"] == pytest.approx(1)
    extra = LAYERS * (1 * EXPERT_PARAMS * 1 - 2 * EXPERT_PARAMS / 8) * BF16
    assert parallel["weight_traffic [byte]"] - split["weight_traffic [byte]"] == pytest.approx(extra, rel=1e-9)
    # At batch 64 all 8 experts are touched: one per GPU, the same bytes as splitting each over 8.
    assert at(rows, batch=64, ep=8)["weight_traffic [byte]"] == pytest.approx(
        at(rows, batch=64, ep=1)["weight_traffic [byte]"], rel=1e-6)     # distinct(64) = 7.99999... experts


def test_expert_parallelism_inside_tp_adds_no_communication_beyond_the_all_reduce():
    """ep splits the experts over GPUs of the tensor-parallel group: every GPU holds every token and the TP all-reduce
    combines the experts' partial outputs (vLLM with --enable-expert-parallel and dp 1 runs no all-to-all), so ep
    changes only the expert weights the busiest GPU reads. The step used to add an all-to-all on top of the
    unchanged all-reduce: 2 (ep - 1) = 14 messages of 1 us in each of 32 layers, 0.45 ms, at every batch."""
    rows = records("moe_cells")
    for batch in (1, 4, 64):
        split, parallel = at(rows, batch=batch, ep=1), at(rows, batch=batch, ep=8)
        assert parallel["allreduce [s]"] == split["allreduce [s]"] > 0
        # device time = compute + kernels x overhead + all-reduce: only the compute (the expert reads) moves with ep
        assert parallel["device_time [s]"] - split["device_time [s]"] == pytest.approx(
            parallel["step_compute [s]"] - split["step_compute [s]"], abs=1e-12)
    # At batch 64 every expert is touched: one whole expert per GPU reads the bytes of 8 experts split 8 ways, so
    # ep = 8 takes the step ep = 1 takes (it was 32 x 14 x 1 us = 0.448 ms slower, plus the dispatched bytes).
    assert at(rows, batch=64, ep=8)["device_time [s]"] == pytest.approx(
        at(rows, batch=64, ep=1)["device_time [s]"], rel=1e-6)


def test_a_grouped_gemm_pads_each_experts_tokens_to_its_tile():
    rows = records("moe_tile_cells")
    # Batch 1: 2 experts see one token each, padded to 16; the work done is 2 x 16 token-experts, split over tp = 8,
    # where 2 x 1 / 8 would do: the excess is (32 - 2) / 8 token-experts of 2 x 3 x hidden x ffn FLOPs per layer.
    per_token_expert = 2 * 3 * HIDDEN * FFN
    assert at(rows, batch=1)["padding_flops [FLOP]"] == pytest.approx(LAYERS * (2 * 16 - 2) / 8 * per_token_expert)
    # Batch 64: 8 experts see m = 16 tokens each on average; their counts vary around it, so each computes m plus the
    # mean padding of its last tile, (16 - 1) / 2 = 7.5 tokens: 8 x 23.5 token-experts where 128 would do.
    m = 64 * TOP_K / distinct(64)
    assert at(rows, batch=64)["padding_flops [FLOP]"] == pytest.approx(
        LAYERS * (distinct(64) * (m + 7.5) - 128) / 8 * per_token_expert, rel=1e-6)


def test_a_dense_model_is_untouched():
    (row,) = records("dense_cells")
    assert row["padding_flops [FLOP]"] == 0
    # Llama-2-7B on one GPU reads every weight but the 32000 x 4096 embedding table, once.
    assert row["weight_traffic [byte]"] == (row["params"] - 32000 * 4096) * BF16


def test_an_expert_parallel_degree_must_divide_tp_and_the_experts():
    program = perfdsl.load(CHECKS)
    with pytest.raises(UsageError) as info:
        program.evaluate("moe_cells", overrides={"moe_decode.ep": "3"})
    # Only the override breaks it (the report's own ep meets it): bad usage, at the override (named as the API
    # takes it), the constraint noted.
    assert info.value.exit_status == 2
    lines = str(info.value).splitlines()
    assert lines[lines.index(
        'error[constraint]: overrides[\'moe_decode.ep\'] = 3 breaks the constraint "ep is a whole number of GPUs that divides tp '
        '(the experts are split over GPUs of the tensor-parallel group)"') + 5] == (
        "  = note: the constraint, at costmodels/transformer_inference.perf:135:13: ep is a whole number of GPUs that "
        "divides tp (the experts are split over GPUs of the tensor-parallel group): every sweep point (3) breaks it")
    # tp = 8 and 16 experts would allow ep = 16 only if tp were 16: 8 / 16 is not whole
    with pytest.raises(PerfError) as info:
        program.evaluate("moe_cells", overrides={"moe_decode.ep": "16"})
    assert "ep is a whole number of GPUs that divides tp" in str(info.value)
