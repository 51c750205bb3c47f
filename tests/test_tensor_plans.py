"""Tensor-parallel plans (costmodels/tensor_plan.perf): the collectives and bytes each bundled plan inserts per
layer, against the figures recovered from TorchCAP's code for the seed's x 8 rows
(../shared/reference/seed_x8_plans.md, "The executed plans"), and the all-gathers and reduce-scatters a plan
implies where a column-parallel output meets a consumer that wants it whole or sequence parallelism applies.

The reports under test are in tests/fixtures/specs/costmodel_checks.perf (tp_plans, tp_collectives).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import perfdsl

REPO = Path(__file__).resolve().parents[1]
CHECKS = REPO / "tests" / "fixtures" / "specs" / "costmodel_checks.perf"
MiB, GiB = 2**20, 2**30
T = 16 * 1024                     # tokens of the seed's step (16 x 1024)
FP16 = 2                          # bytes per activation element
TP = 8

# seed_x8_plans.md, "The executed plans": (model, plan) -> (all-reduces per layer, MiB each, GiB per step).
# The OPT rows all-reduce the q, k, v and fc2 outputs (T x hidden) and the fc1 output (T x ffn); the clm rows the
# down output (T x hidden). Hidden and ffn: opt-1.3b 2048 / 8192, opt-6.7b 4096 / 16384, clm 384, 768, 960, 1536.
SEED_PLANS = {
    ("opt_1_3b", "seed_opt"): (5, [64, 64, 64, 256, 64], 12),
    ("opt_6_7b", "seed_opt"): (5, [128, 128, 128, 512, 128], 32),
    ("clm_60m", "seed_clm"): (1, [12], 0.26),
    ("clm_200m", "seed_clm"): (1, [24], 0.56),
    ("clm_400m", "seed_clm"): (1, [30], 0.88),
    ("clm_1_1b", "seed_clm"): (1, [48], 1.50),
}
HIDDEN = {"opt_1_3b": 2048, "opt_6_7b": 4096, "clm_60m": 384, "clm_200m": 768, "clm_400m": 960, "clm_1_1b": 1536}


@pytest.fixture(scope="module")
def plans() -> dict:
    result = perfdsl.load(CHECKS).evaluate("tp_plans")
    return {(row["model"], row["tp_plan"]): row for row in result.records()}


@pytest.mark.parametrize("model, plan", list(SEED_PLANS))
def test_seed_plans_all_reduce_what_torchcap_inserted(plans, model, plan):
    count, buffers_mib, per_step_gib = SEED_PLANS[(model, plan)]
    row = plans[(model, plan)]
    assert (row["all_reduces"], row["all_gathers"], row["reduce_scatters"]) == (count, 0, 0)
    assert row["all_reduced [MiB]"] == pytest.approx(sum(buffers_mib), rel=1e-12)
    # The note's per-step figure is rounded to two digits (0.26 GiB for 22 x 12 MiB = 0.2578 GiB).
    assert row["layers"] * row["all_reduced [MiB]"] * MiB / GiB == pytest.approx(per_step_gib, abs=0.005)
    # A ring all-reduce sends 2 x 7/8 of its buffer from each GPU.
    assert row["sent [byte]"] == pytest.approx(2 * (TP - 1) / TP * sum(buffers_mib) * MiB, rel=1e-12)


def test_opt_1_3b_moves_12_gib_and_clm_1_1b_1_50_gib_per_step(plans):
    opt, clm = plans[("opt_1_3b", "seed_opt")], plans[("clm_1_1b", "seed_clm")]
    assert opt["layers"] * opt["all_reduced [MiB]"] * MiB == 24 * (4 * T * 2048 + T * 8192) * FP16 == 12 * GiB
    assert clm["layers"] * clm["all_reduced [MiB]"] * MiB == 32 * T * 1536 * FP16 == 1.5 * GiB


@pytest.mark.parametrize("model", list(HIDDEN))
@pytest.mark.parametrize("plan", ["megatron", "vllm"])
def test_megatron_and_vllm_all_reduce_the_hidden_states_twice_per_layer(plans, model, plan):
    row = plans[(model, plan)]
    assert (row["all_reduces"], row["all_gathers"], row["reduce_scatters"]) == (2, 0, 0)
    assert row["all_reduced [MiB]"] * MiB == 2 * T * HIDDEN[model] * FP16
    # Every weight split over the eight GPUs (norms and biases too, as the plain `tp` always counted them).
    assert row["weight_share"] == pytest.approx(1 / TP, rel=1e-12)


def test_seed_clm_plan_holds_down_whole_and_splits_gate_and_up(plans):
    # clm-1.1b: 32 layers of gate, up, down (1536 x 5376 each); the script pins gate and up only, so down's weight
    # stays whole ("row_local") and each GPU holds 1/8 of gate and up: 7/8 of two of the three matrices is saved.
    row, one = plans[("clm_1_1b", "seed_clm")], plans[("clm_1_1b", "megatron")]
    params = one["weights [byte]"] * TP / FP16
    saved = 32 * 2 * 1536 * 5376 * (1 - 1 / TP)
    assert row["weights [byte]"] == pytest.approx((params - saved) * FP16, rel=1e-9)


def test_sequence_parallel_turns_all_reduces_into_reduce_scatters_and_all_gathers_of_equal_traffic():
    result = perfdsl.load(CHECKS).evaluate("tp_collectives")
    rows = {(row["sequence_parallel"], row["tp_o"]): row for row in result.records()}
    plain, sp, gathered = rows[(False, "row")], rows[(True, "row")], rows[(False, "column")]
    assert (plain["all_reduces"], plain["all_gathers"], plain["reduce_scatters"]) == (2, 0, 0)
    assert (sp["all_reduces"], sp["all_gathers"], sp["reduce_scatters"]) == (0, 2, 2)
    assert (sp["ag_elems"], sp["rs_elems"]) == (2 * 2048, 2 * 2048)
    # A ring reduce-scatter plus an all-gather sends what one all-reduce does.
    assert sp["allreduce [s]"] == pytest.approx(plain["allreduce [s]"], rel=1e-12)
    # o and down column-parallel: attention's head slices are gathered before o (q_dim = 2048), o's output before
    # the residual (2048), the MLP intermediate before down (ffn = 8192) and down's output (2048); nothing is
    # partial, so nothing is all-reduced.
    assert (gathered["all_reduces"], gathered["all_gathers"], gathered["ag_elems"]) == (0, 4, 2048 + 2048 + 8192 + 2048)
