"""The transformer inference cost model (costmodels/transformer_inference.perf) through the API.

(a) prefill.counted_flops equals torch's FlopCounterMode figures for the six seed models (models.md);
(b) kernels per layer are those of an aten-op trace of transformers' eager forward (17 OPT, 41 GQA Llama);
(c) accuracy on the six single-GPU RTX A5000 runs of the seed benchmark (data/seed_runs_a5000.csv);
(d) physics sanity, as properties over models, GPUs and shapes: tensor and pipeline parallelism, decode, memory,
    energy, throughput.

The reports under test are reports/seed_benchmark.perf and tests/fixtures/specs/costmodel_checks.perf (which shows
the cells the seed report does not). Expected numbers are written as the arithmetic that gives them.
"""

from __future__ import annotations

import json

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perfdsl
from perfdsl.matching import compare_with_runs

REPO = Path(__file__).resolve().parents[1]
SEED_REPORT = REPO / "reports" / "seed_benchmark.perf"
CHECKS = REPO / "tests" / "fixtures" / "specs" / "costmodel_checks.perf"

# Matmul FLOPs of one forward pass over batch 8 x sequence 2048 as torch.utils.flop_counter.FlopCounterMode counts
# them on the models built on the meta device (../shared/reference/models.md, copied with its source into the
# fixture). They carry four or five significant digits, hence the 0.1% tolerance.
FLOP_COUNTER_MODE = json.loads((REPO / "tests" / "fixtures" / "published_flop_counter_mode.json").read_text())["flops"]

# Kernels launched per decoder layer by transformers' eager forward (fp16, SDPA), as counted in the aten-op trace of
# transformers 4.46.3 (docs/costmodel-research/trace.py, traces/*.json: non-view ops, opt-6.7b 557 - opt-1.3b 421 = 136 over
# 32 - 24 layers; clm-200m 1004 - clm-60m 922 = 82 over 24 - 22 layers).
OPT_LAYER_KERNELS = (4          # q, k, v, out projections
                     + 2        # fc1, fc2
                     + 1        # scaled_dot_product_attention
                     + 2 * 1    # two LayerNorms, one fused kernel each
                     + 3        # q, k, v .contiguous() into [batch, heads, seq, head_dim]
                     + 1        # attention output transposed back
                     + 1        # q scaled by 1/sqrt(head_dim) in a kernel of its own
                     + 2        # two residual adds
                     + 1)       # relu
LLAMA_GQA_LAYER_KERNELS = (4        # q, k, v, o projections
                           + 3      # gate, up, down
                           + 1      # scaled_dot_product_attention
                           + 2 * 8  # two eager RMSNorms: to-fp32, pow, mean, add eps, rsqrt, mul, to-fp16, * weight
                           + 10     # rotary on q and k: q*cos, neg, cat, *sin, add (5 each)
                           + 1      # attention output transposed back
                           + 2      # repeat_kv materialises k and v for SDPA (kv_heads < heads)
                           + 2      # two residual adds
                           + 2)     # silu, gate * up
SEED_MODELS = list(FLOP_COUNTER_MODE)
LIBRARY_MODELS = ["opt_1_3b", "opt_6_7b", "clm_60m", "clm_1_1b", "llama2_7b", "llama2_70b", "llama3_1_8b"]
GPUS = ["rtx_a5000", "rtx_a6000", "a100_80gb_sxm4"]
PROPERTY_SETTINGS = settings(max_examples=25, deadline=None)


@pytest.fixture(scope="module")
def checks() -> perfdsl.Program:
    return perfdsl.load(CHECKS)


@pytest.fixture(scope="module")
def seed_rows() -> list[dict]:
    """The seed report's eval records with their measured values and errors (what `perfdsl eval --format json`
    prints), and the run each came from."""
    result = perfdsl.load(SEED_REPORT).evaluate()
    comparison = compare_with_runs(result)
    keys, columns = comparison.table()
    rows = [dict(zip(keys, values)) for values in zip(*(column.tolist() for column in columns))]
    for row, source in zip(rows, comparison.run_source.tolist()):
        row["run source"] = source
    return rows


def by_axes(result, *axes: str) -> dict:
    """Records keyed by the values of the given axes."""
    return {tuple(record[axis] for axis in axes): record for record in result.records()}


def mean_abs(values) -> float:
    return float(np.mean(np.abs(values)))


# -- (a) FLOPs as FlopCounterMode counts them --------------------------------------------------------------------

def test_counted_flops_equal_flop_counter_mode(checks):
    result = checks.evaluate("seed_cells")
    flops = dict(zip(result.axis_columns()["model"].tolist(), result.column("counted_flops").tolist()))
    off = [f"{model}: model {flops[model]:.5e}, FlopCounterMode {published:.5e} "
           f"({(flops[model] - published) / published:+.3%})"
           for model, published in FLOP_COUNTER_MODE.items() if abs(flops[model] - published) > 1e-3 * published]
    assert not off, "prefill.counted_flops at batch 8 x seq 2048 vs models.md:\n  " + "\n  ".join(off)


def test_counted_flops_count_the_full_attention_square_and_executed_flops_half_of_it(checks):
    # FlopCounterMode counts SDPA over the full seq x seq square; a causal kernel executes (seq + 1) / (2 seq) of it.
    result = checks.evaluate("seed_cells")
    counted = dict(zip(result.axis_columns()["model"].tolist(), result.column("counted_flops").tolist()))
    # opt-1.3b at batch 8 x seq 2048: 24 layers x 4 x batch x heads x seq^2 x head_dim (32 heads of 64)
    full_square = 24 * 4 * 8 * 32 * 2048**2 * 64
    linear = 2 * 16384 * (24 * (4 * 2048 * 2048 + 2 * 2048 * 8192) + 50272 * 2048)
    assert counted["opt_1_3b"] == pytest.approx(linear + full_square, rel=1e-12)


# -- (b) kernel counts -------------------------------------------------------------------------------------------

def test_kernels_per_layer_as_traced(checks):
    assert (OPT_LAYER_KERNELS, LLAMA_GQA_LAYER_KERNELS) == (17, 41)
    result = checks.evaluate("seed_cells")
    kernels = dict(zip(result.axis_columns()["model"].tolist(), result.column("layer_kernels").tolist()))
    assert kernels == {"opt_1_3b": OPT_LAYER_KERNELS, "opt_6_7b": OPT_LAYER_KERNELS,
                       "clm_60m": LLAMA_GQA_LAYER_KERNELS, "clm_200m": LLAMA_GQA_LAYER_KERNELS,
                       "clm_400m": LLAMA_GQA_LAYER_KERNELS, "clm_1_1b": LLAMA_GQA_LAYER_KERNELS}


# -- (c) accuracy on the seed's single-GPU A5000 runs ------------------------------------------------------------

def single_gpu_a5000(rows: list[dict]) -> list[dict]:
    return [row for row in rows if row["hardware"] == "rtx_a5000" and row["n_gpus"] == 1]


def test_every_single_gpu_a5000_row_has_its_run(seed_rows):
    rows = single_gpu_a5000(seed_rows)
    assert sorted(row["model"] for row in rows) == sorted(SEED_MODELS)
    assert all("seed_runs_a5000.csv:row " in row["run source"] for row in rows)
    assert all(row["runtime measured [ms]"] is not None and row["memory measured [GiB]"] is not None
               for row in rows)


def test_single_gpu_runtime_mape_below_5_percent(seed_rows):
    rows = single_gpu_a5000(seed_rows)
    errors = [(row["runtime [ms]"] - row["runtime measured [ms]"]) / row["runtime measured [ms]"] for row in rows]
    assert errors == pytest.approx([row["runtime error [%]"] / 100 for row in rows])
    detail = ", ".join(f"{row['model']} {error:+.2%}" for row, error in zip(rows, errors))
    assert mean_abs(errors) < 0.05, f"runtime MAPE {mean_abs(errors):.2%} over the single-GPU A5000 rows: {detail}"


def test_single_gpu_memory_mape_below_1_percent_and_every_row_within_1_percent(seed_rows):
    rows = single_gpu_a5000(seed_rows)
    # measured "GB" are GiB (the report's measured_unit_aliases = "GB=GiB")
    errors = [(row["memory [GiB]"] - row["memory measured [GiB]"]) / row["memory measured [GiB]"] for row in rows]
    detail = ", ".join(f"{row['model']} {error:+.2%}" for row, error in zip(rows, errors))
    assert mean_abs(errors) < 0.01, f"memory MAPE {mean_abs(errors):.2%}: {detail}"
    assert max(abs(e) for e in errors) < 0.01, f"a single-GPU row's memory is off by more than 1%: {detail}"


def eight_gpu_a5000(rows: list[dict]) -> list[dict]:
    return [row for row in rows if row["hardware"] == "rtx_a5000" and row["n_gpus"] == 8]


def test_x8_runtime_from_the_plans_and_one_fitted_ring_bandwidth(seed_rows):
    # The x 8 rows run the recovered plans (../shared/reference/seed_x8_plans.md) with one ring bandwidth fitted by
    # `perfdsl calibrate` (reports/seed_a5000x8_calibration.perf: 18.0 GB/s, in-sample MAPE 7.59%, leave-one-model-
    # out 9.93%). The 5% is not reached: opt-1.3b is 12% slow and clm-1.1b 15% fast at one bandwidth
    # (costmodels/README.md, "What the x 8 rows were"); this pins what the plans reach so a change that loses it fails.
    rows = eight_gpu_a5000(seed_rows)
    assert sorted(row["model"] for row in rows) == sorted(SEED_MODELS)
    errors = {row["model"]: row["runtime error [%]"] / 100 for row in rows}
    detail = ", ".join(f"{model} {error:+.2%}" for model, error in errors.items())
    assert mean_abs(list(errors.values())) < 0.08, f"x 8 runtime MAPE: {detail}"
    assert all(abs(error) < 0.16 for error in errors.values()), detail


def test_x8_clm_memory_within_1_percent_and_opt_memory_left_unexplained(seed_rows):
    # clm: the plan's weights (gate and up split, all else whole) plus the fp16 logits the script keeps beside the
    # loss. OPT: the unsharded model most likely stayed resident (seed_x8_plans.md), which the plan does not hold.
    rows = {row["model"]: row for row in eight_gpu_a5000(seed_rows)}
    clm = [rows[model]["memory error [%]"] / 100 for model in ("clm_60m", "clm_200m", "clm_400m", "clm_1_1b")]
    assert mean_abs(clm) < 0.01, clm
    assert all(abs(error) < 0.015 for error in clm), clm
    assert all(rows[model]["memory [GiB]"] < 0.3 * rows[model]["memory measured [GiB]"]
               for model in ("opt_1_3b", "opt_6_7b"))


def test_x8_energy_counts_one_gpu(seed_rows):
    # The seed's convention: TDP x runtime / tokens for one GPU (230 W on the A5000).
    for row in eight_gpu_a5000(seed_rows):
        assert row["energy_per_token [J/token]"] == pytest.approx(230 * row["runtime [ms]"] / 1e3 / 16384, rel=1e-9)


# -- (d) physics sanity ------------------------------------------------------------------------------------------

# tp = 4 must divide the attention heads (engines refuse it otherwise: the cost model leaves the point out), so the
# models with 4 | heads: clm_60m has 6 heads (tests/test_constraints.py checks that its tp = 4 point is left out).
TP4_MODELS = [model for model in LIBRARY_MODELS if model != "clm_60m"]


@PROPERTY_SETTINGS
@given(model=st.sampled_from(TP4_MODELS), batch=st.integers(1, 16), seq_len=st.sampled_from([128, 512, 2048]))
def test_doubling_tp_halves_flops_and_weights_and_adds_allreduce_time(checks, model, batch, seq_len):
    result = checks.evaluate("tp_scaling", overrides={"model": model, "batch": batch, "seq_len": seq_len})
    rows = by_axes(result, "tp")
    one, two, four = rows[(1,)], rows[(2,)], rows[(4,)]
    assert two["flops [FLOP]"] == pytest.approx(one["flops [FLOP]"] / 2, rel=1e-12)
    assert four["flops [FLOP]"] == pytest.approx(two["flops [FLOP]"] / 2, rel=1e-12)
    assert two["weights [byte]"] == pytest.approx(one["weights [byte]"] / 2, rel=1e-12)
    assert four["weights [byte]"] == pytest.approx(two["weights [byte]"] / 2, rel=1e-12)
    assert one["allreduce [s]"] == 0
    layers, hidden = checks.value(f"{model}.layers"), checks.value(f"{model}.hidden")
    ring_bw = 600e9 / 2                           # A100 SXM4: NVLink 600 GB/s bidirectional, a ring uses one way
    latency = 13.5543e-6                          # per ring step: the inference default, the TensorRT-LLM fit
    for tp, row in ((2, two), (4, four)):
        # two ring all-reduces per layer of the fp16 hidden states; each GPU sends 2 (tp - 1) / tp of them, in
        # 2 (tp - 1) ring steps each (tp 2 and 4 stay inside the A100 SXM4's eight-GPU NVLink domain). The latency
        # term is new: the default per-step latency was 0 before the TensorRT-LLM fit became it.
        expected = 2 * layers * ((2 * (tp - 1) / tp * batch * seq_len * hidden * 2) / ring_bw
                                 + 2 * (tp - 1) * latency)
        assert row["allreduce [s]"] == pytest.approx(expected, rel=1e-12)
        assert row["runtime [s]"] == pytest.approx(row["compute_time [s]"] + row["kernel_time [s]"]
                                                   + row["allreduce [s]"], rel=1e-12)
    assert two["allreduce [s]"] < four["allreduce [s]"]
    # every GPU still launches every kernel of the layer, one by one, plus the two all-reduces of each layer
    kernel_overhead = 38e-6
    assert two["kernel_time [s]"] == pytest.approx(one["kernel_time [s]"] + 2 * layers * kernel_overhead, rel=1e-12)
    assert four["kernel_time [s]"] == pytest.approx(two["kernel_time [s]"], rel=1e-12)


@PROPERTY_SETTINGS
@given(pp=st.integers(1, 16), micro_batches=st.integers(1, 64))
def test_pipeline_bubble_factor(checks, pp, micro_batches):
    result = checks.evaluate("pipeline_bubble", overrides={"pp": pp, "micro_batches": micro_batches})
    (factor,) = result.column("factor").tolist()
    assert factor == pytest.approx((micro_batches + pp - 1) / (micro_batches * pp), rel=1e-12)


def test_pipeline_bubble_factor_grid(checks):
    rows = by_axes(checks.evaluate("pipeline_bubble"), "pp", "micro_batches")
    assert rows[(1, 1)]["factor"] == 1                             # no pipeline, no bubble
    assert rows[(4, 1)]["factor"] == (1 + 4 - 1) / (1 * 4)         # one micro-batch: the stages run one after another
    assert rows[(4, 8)]["factor"] == pytest.approx((8 + 4 - 1) / (8 * 4))


@PROPERTY_SETTINGS
@given(model=st.sampled_from(LIBRARY_MODELS), hardware=st.sampled_from(GPUS), batch=st.integers(1, 64))
def test_decode_step_time_grows_with_context(checks, model, hardware, batch):
    result = checks.evaluate("decode_context", overrides={"model": model, "hardware": hardware, "batch": batch})
    rows = result.records()
    contexts = [row["context"] for row in rows]
    assert contexts == [seq + 256 / 2 for seq in (256, 1024, 4096, 16384)]   # the mean context of 256 new tokens
    step_times = [row["step_time [s]"] for row in rows]
    assert all(a < b for a, b in zip(step_times, step_times[1:])), step_times
    kv_per_token = checks.value(f"{model}.kv_elems_per_token")
    for row in rows:
        assert row["kv_traffic [byte]"] == pytest.approx(kv_per_token * batch * row["context"] * 2, rel=1e-12)


@PROPERTY_SETTINGS
@given(model=st.sampled_from(LIBRARY_MODELS), hardware=st.sampled_from(GPUS), batch=st.integers(1, 64),
       host_us=st.sampled_from([0, 5, 19.5, 60]))
def test_a_step_takes_the_longer_of_the_devices_time_and_the_hosts(checks, model, hardware, batch, host_us):
    result = checks.evaluate("host_and_device", overrides={
        "model": model, "hardware": hardware, "batch": batch, "launching.host_kernel_time": f"{host_us} us"})
    (row,) = result.records()
    assert row["prefill_host [s]"] == pytest.approx(row["prefill_kernels"] * host_us * 1e-6, rel=1e-12, abs=0)
    assert row["step_host [s]"] == pytest.approx(row["step_kernels"] * host_us * 1e-6, rel=1e-12, abs=0)
    assert row["prefill [s]"] == max(row["prefill_device [s]"], row["prefill_host [s]"])
    assert row["step [s]"] == max(row["step_device [s]"], row["step_host [s]"])
    if host_us == 0:          # the default: runtime is device time, as in the seed's summed kernel times
        assert row["prefill [s]"] == row["prefill_device [s]"] and row["step [s]"] == row["step_device [s]"]


def test_a_generation_is_the_prefill_then_output_len_minus_one_decode_steps(checks):
    """The prefill's forward samples the first of output_len tokens, each later one takes a decode step (HF
    generate, gpt-fast; vLLM's tpot = (e2e - ttft) / (output_len - 1)): e2e = ttft + (output_len - 1) x tpot, and
    a one-token request is its prefill alone. Step i = 1 .. output_len - 1 attends to seq_len + i keys: the mean
    context is seq_len + output_len / 2. Throughput and energy count output_len tokens over that e2e."""
    rows = {n: row for (n,), row in by_axes(checks.evaluate("generation_steps"), "output_len").items()}
    for n, row in rows.items():
        assert row["steps"] == max(n - 1, 0)
        assert row["decode_time [s]"] == pytest.approx(max(n - 1, 0) * row["tpot [s]"], rel=1e-12)
        assert row["e2e [s]"] == pytest.approx(row["ttft [s]"] + max(n - 1, 0) * row["tpot [s]"], rel=1e-12)
        assert row["tokens_out [token]"] == 4 * n
        assert row["throughput [token/s]"] == pytest.approx(4 * (512 + n) / row["e2e [s]"], rel=1e-12)
        assert row["energy_per_token [J/token]"] == pytest.approx(row["tdp [W]"] * row["e2e [s]"] / (4 * (512 + n)),
                                                                  rel=1e-12)
        if n >= 2:
            assert row["context"] == pytest.approx(np.mean([512 + i for i in range(1, n)]), rel=1e-12)
    assert rows[0]["e2e [s]"] == rows[0]["ttft [s]"] and rows[1]["e2e [s]"] == rows[1]["ttft [s]"]
    # vLLM's definition recovers the step time from two lengths
    assert (rows[128]["e2e [s]"] - rows[128]["ttft [s]"]) / (128 - 1) == pytest.approx(rows[128]["tpot [s]"], rel=1e-9)


def test_llama2_70b_does_not_fit_one_rtx_a5000(checks):
    rows = by_axes(checks.evaluate("fits_one_gpu"), "model")
    assert rows[("llama2_70b",)]["fits"] is False
    # its fp16 weights alone are over five times the card's 24 GB
    assert checks.value("llama2_70b.params") * 2 > 5 * 24e9
    assert rows[("llama2_70b",)]["peak [byte]"] > 24e9
    assert rows[("clm_60m",)]["fits"] is True


@PROPERTY_SETTINGS
@given(batch=st.integers(1, 16), seq_len=st.sampled_from([256, 1024, 2048]))
def test_energy_per_token_with_the_tdp_power_model(checks, batch, seq_len):
    result = checks.evaluate("energy_tdp", overrides={"batch": batch, "seq_len": seq_len})
    for row in result.records():
        tokens = batch * (seq_len + row["output_len"])
        assert row["energy_per_token [J/token]"] == pytest.approx(row["tdp [W]"] * row["e2e [s]"] / tokens,
                                                                  rel=1e-12)
        if row["output_len"] == 0:                     # prefill only: TDP x runtime / prompt tokens
            assert row["e2e [s]"] == row["runtime [s]"]
            assert row["energy_per_token [J/token]"] == pytest.approx(
                row["tdp [W]"] * row["runtime [s]"] / (batch * seq_len), rel=1e-12)


def test_energy_tdp_figures(checks):
    rows = by_axes(checks.evaluate("energy_tdp"), "model", "hardware", "output_len")
    a5000, a6000 = rows[("opt_1_3b", "rtx_a5000", 0)], rows[("opt_1_3b", "rtx_a6000", 0)]
    assert (a5000["tdp [W]"], a6000["tdp [W]"]) == (230, 300)
    assert a5000["energy_per_token [J/token]"] == pytest.approx(230 * a5000["runtime [s]"] / (8 * 2048))
    assert a6000["energy_per_token [J/token]"] == pytest.approx(300 * a6000["runtime [s]"] / (8 * 2048))


def test_utilisation_power_model(checks):
    tdp = checks.evaluate("energy_tdp").column("energy_per_token")
    # idle_power defaults to the TDP, so the utilisation model gives the TDP convention's figures ...
    same = checks.evaluate("energy_tdp", overrides={"energy_shapes.power_model": "utilisation"})
    assert same.column("energy_per_token") == pytest.approx(tdp, rel=1e-12)
    # ... and with a metered idle power (here an invented 50 W) every step costs less, but at least idle x time
    idle = 50.0
    lower = checks.evaluate("energy_tdp", overrides={"energy_shapes.power_model": "utilisation",
                                                     "rtx_a5000.idle_power": "50 W", "rtx_a6000.idle_power": "50 W"})
    floor = idle * lower.column("e2e") / (8 * (2048 + lower.axis_columns()["output_len"]))
    assert np.all(lower.column("energy_per_token") < tdp)
    assert np.all(lower.column("energy_per_token") > floor)


@PROPERTY_SETTINGS
@given(batch=st.integers(1, 32), seq_len=st.integers(16, 4096))
def test_throughput_is_tokens_over_runtime(checks, batch, seq_len):
    result = checks.evaluate("energy_tdp", overrides={"batch": batch, "seq_len": seq_len, "output_len": 0})
    for row in result.records():
        assert row["throughput [token/s]"] == pytest.approx(batch * seq_len / row["runtime [s]"], rel=1e-12)
        assert row["serving_throughput [token/s]"] == row["throughput [token/s]"]


def test_seed_throughput_is_tokens_over_runtime(seed_rows):
    # real throughput, 16384 tokens / runtime (the seed table's "token/sec" column was runtime_ms / 16.384)
    for row in seed_rows:
        assert row["throughput [token/s]"] == pytest.approx(8 * 2048 / (row["runtime [ms]"] / 1e3), rel=1e-12)


def test_tensor_parallelism_splits_per_head_work_but_not_norms_and_residuals():
    # Megatron-style TP without sequence parallelism: norms and residual adds run on the whole hidden state on every
    # GPU; rotary, layout copies and the MLP activation are split with the heads and the ffn.
    root = Path(__file__).resolve().parents[1]
    text = (f'import "{root}/costmodels/transformer_inference.perf"\nimport "models/llama.perf"\n'
            'import "hardware/ampere_datacenter.perf"\n'
            "workload w extends inference { batch = 4; seq_len = 512; sweep tp = [1, 2, 4]; n_gpus = tp }\n"
            "report r { model = clm_60m; hardware = a100_80gb_sxm4; workload = w; stack = hf_eager_profiled\n"
            "  precision = fp16\n"
            "  show prefill.elementwise_bytes in B as elementwise, prefill.norms_bytes in B as norms,\n"
            "       prefill.residual_bytes in B as residual, prefill.rotary_bytes in B as rotary,\n"
            "       prefill.copy_bytes in B as copies, prefill.activation_bytes in B as activation }\n")
    result = perfdsl.load([], texts={"tp_elementwise.perf": text}).evaluate()
    for row in result.records():
        split = (row["rotary [B]"] + row["copies [B]"] + row["activation [B]"]) / row["tp"]
        assert row["elementwise [B]"] == pytest.approx(split + row["norms [B]"] + row["residual [B]"], rel=1e-12)


ONE_OUTPUT_TOKEN = """
report one_output_token {
    model = llama2_7b
    hardware = rtx_a6000
    workload = generation_lengths
    stack = hf_eager_profiled
    precision = fp16
    show serving.tpot in s as tpot, decode.step_time in s as step_time, serving.ttft in s as ttft,
         serving.e2e in s as e2e
}
"""


def test_tpot_at_one_output_token_shows_the_step_time_for_want_of_an_undefined_value():
    """At output_len 1 no decode step runs, so tpot is undefined (vLLM's benchmarks/benchmark_serving.py takes
    (latency - ttft) / (output_len - 1) only where output_len > 1). The language has no warning-free undefined value,
    so serving.tpot holds the time a decode step would take, and says so beside its formula and in
    costmodels/README.md: finite, with no warning, while e2e is the prefill alone. Should the language gain such a
    value, this is the test to change with that comment."""
    program = perfdsl.load([CHECKS], texts={"one_output_token.perf": ONE_OUTPUT_TOKEN})
    result = program.evaluate("one_output_token", overrides={"output_len": 1})
    (row,) = result.records()
    assert result.warnings == []
    assert np.isfinite(row["tpot [s]"]) and row["tpot [s]"] > 0
    assert row["tpot [s]"] == row["step_time [s]"]
    assert row["e2e [s]"] == row["ttft [s]"]          # no decode step: the tpot shown is in no time of the request


UTILISATION = """
workload utilisation_shapes extends inference {
    batch = 4
    seq_len = 1024
    output_len = 256
    sweep tp = [1, 2]
    sweep pp = [1, 2]
    n_gpus = tp * pp
}

report utilisation {
    model = llama2_7b
    hardware = a100_80gb_sxm4
    workload = utilisation_shapes
    stack = vllm
    precision = fp16
    show serving.mfu as mfu, prefill.model_flops in FLOP as model_flops, prefill.flops in FLOP as flops,
         prefill.runtime in s as runtime, serving.mbu as mbu, decode.step_time in s as step_time,
         decode.weight_traffic in byte as weight_traffic, model.params as params
}
"""


def test_mfu_is_the_model_flops_over_runtime_and_the_precisions_peak_on_every_gpu_of_the_replica():
    """MFU (PaLM, Chowdhery et al. 2022): the step's model FLOPs over the runtime and the fp16 peak (the precision's
    matmul format) of each of the replica's tp x pp GPUs. Llama-2-7B (hidden 4096, 32 layers of 32 heads of 128,
    ffn 11008, vocab 32000), batch 4 x 1,024 tokens, logits at every position, a causal kernel: (1024 + 1) / 2048 of
    the attention square."""
    program = perfdsl.load([CHECKS], texts={"utilisation.perf": UTILISATION})
    result = program.evaluate("utilisation")
    tokens = 4 * 1024
    linear = 2 * tokens * (32 * 4 * 4096 * 4096 + 32 * 3 * 4096 * 11008 + 32000 * 4096)
    attention = 32 * 2 * 4 * 32 * 1024**2 * (128 + 128) * (1024 + 1) / (2 * 1024)
    peak = 312e12                                                     # a100_80gb_sxm4 peak_fp16
    rows = by_axes(result, "tp", "pp")
    assert sorted(rows) == [(1, 1), (1, 2), (2, 1), (2, 2)]
    for (tp, pp), row in rows.items():
        assert row["model_flops [FLOP]"] == pytest.approx(linear + attention, rel=1e-12)
        # Megatron's plan splits every FLOP over the tp GPUs: one GPU's flops (all the stages') x tp is the model's.
        assert row["flops [FLOP]"] * tp == pytest.approx(linear + attention, rel=1e-12)
        assert row["mfu"] == pytest.approx((linear + attention) / (row["runtime [s]"] * tp * pp * peak), rel=1e-12)
    one = rows[(1, 1)]
    assert one["mfu"] == pytest.approx(one["flops [FLOP]"] / one["runtime [s]"] / peak, rel=1e-12)
    assert 0 < one["mfu"] < 1


def test_mbu_is_the_weights_and_kv_cache_one_gpu_reads_over_the_step_time_and_its_bandwidth():
    """MBU (Databricks, 2023): (weights + KV cache read) / TPOT / peak memory bandwidth. At tp 1: every weight but the
    token embedding (untied: a step reads one row of it) in fp16, and the cache of 32 layers x 32 KV heads x (128 +
    128) fp16 elements per token at the mean context 1,024 + 256 / 2, for 4 sequences; a pipeline stage reads a
    pp-th of them in the step."""
    program = perfdsl.load([CHECKS], texts={"utilisation.perf": UTILISATION})
    rows = by_axes(program.evaluate("utilisation"), "tp", "pp")
    mem_bw = 2039e9                                                   # a100_80gb_sxm4 mem_bw
    kv_cache = 32 * 32 * (128 + 128) * 2 * 4 * (1024 + 256 / 2)
    for pp in (1, 2):
        row = rows[(1, pp)]
        weights = (row["params"] - 32000 * 4096) * 2
        assert row["weight_traffic [byte]"] == pytest.approx(weights, rel=1e-12)
        assert row["mbu"] == pytest.approx((weights + kv_cache) / (pp * row["step_time [s]"] * mem_bw), rel=1e-12)
        assert 0 < row["mbu"] < 1
    # At tp 2 each GPU reads half the weights and half the KV heads.
    row = rows[(2, 1)]
    assert row["mbu"] == pytest.approx((row["weight_traffic [byte]"] + kv_cache / 2) / (row["step_time [s]"] * mem_bw),
                                       rel=1e-12)


def test_energy_per_output_token_spreads_the_energy_over_generated_tokens_only(tmp_path):
    """serving.energy_per_output_token = TDP x e2e x tp x pp / generated tokens, beside energy_per_token over the
    prompt and generated tokens: at batch 4, a 1,024-token prompt and 256 generated, (1024 + 256) / 256 = 5x."""
    (tmp_path / "r.perf").write_text(
        f'import "{REPO}/costmodels/transformer_inference.perf"\n'
        f'import "{REPO}/models/llama.perf"\n'
        f'import "{REPO}/hardware/hopper.perf"\n'
        'workload w extends inference { batch = 4; seq_len = 1024; output_len = 256; tp = 2; n_gpus = 2 }\n'
        'report r {\n    model = llama3_1_8b\n    hardware = h100_sxm5\n    stack = vllm\n    precision = bf16\n'
        '    workload = w\n    show serving.e2e in s as e2e, serving.energy_per_token in J/token as all,\n'
        '         serving.energy_per_output_token in J/token as out\n}\n')
    (row,) = perfdsl.load(tmp_path / "r.perf").evaluate().records()
    assert row["out [J/token]"] == pytest.approx(700 * row["e2e [s]"] * 2 / (4 * 256), rel=1e-12)   # H100 SXM: 700 W
    assert row["out [J/token]"] == pytest.approx(5 * row["all [J/token]"], rel=1e-12)
