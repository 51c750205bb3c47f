"""The ring's links (costmodels/README.md, "Parallelism"): a tensor-parallel ring runs at the GPU's interconnect_bw
inside one NVLink domain (a bridged pair, an HGX board), on a share of the links of an Infinity Fabric mesh, and at
scaleout_bw (= pcie_bw) beyond the domain; each ring step costs allreduce_latency, by default perfdsl's fit of
TensorRT-LLM's published runs (reports/published_trtllm_calibration.perf).

The report under test is tests/fixtures/specs/ring_links_checks.perf: a Llama-2-7B decode step (32 layers, hidden
4096, batch 8, fp16, Megatron's two all-reduces per layer) at tp 1 to 32. Expected numbers are the arithmetic that
gives them, from the datasheet figures of hardware/*.perf.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import perfdsl
from perfdsl.errors import PerfError

REPO = Path(__file__).resolve().parents[1]
CHECKS = REPO / "tests" / "fixtures" / "specs" / "ring_links_checks.perf"
SEED_REPORT = REPO / "reports" / "seed_benchmark.perf"

LAYERS, HIDDEN, BATCH, FP16 = 32, 4096, 8, 2
LATENCY = 13.5543e-6          # reports/published_trtllm_calibration.perf: inference.allreduce_latency = 13.5543 us
GB = 1e9


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return perfdsl.load(CHECKS).evaluate("ring_links").records()


def at(rows: list[dict], hardware: str, tp: int) -> dict:
    (row,) = [r for r in rows if r["hardware"] == hardware and r["tp"] == tp]
    return row


def decode_allreduce(tp: int, ring_bw: float, latency: float = LATENCY) -> float:
    """One decode step's all-reduce time: per layer, two all-reduces of batch x hidden fp16 elements, each GPU sending
    2 (tp - 1) / tp of each over ring_bw in 2 (tp - 1) ring steps of `latency`."""
    sent = 2 * (2 * (tp - 1) / tp * BATCH * HIDDEN * FP16)
    steps = 2 * 2 * (tp - 1)
    return LAYERS * (sent / ring_bw + steps * latency)


# -- the ring bandwidth -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("hardware", "tp", "ring_bw"), [
    # bridged RTX A5000 pairs: the bridge (112.5 GB/s bidirectional, halved) joins two cards; a ring over 4 or 8
    # leaves the pair over each card's PCIe Gen4 x16 link, 64 GB/s bidirectional = 32 per direction
    ("rtx_a5000", 2, 112.5 * GB / 2),
    ("rtx_a5000", 4, 64 * GB / 2),
    ("rtx_a5000", 8, 64 * GB / 2),
    # HGX H100: NVLink4 900 GB/s bidirectional, halved, up to the board's eight GPUs; tp 16 and 32 span boards
    # and leave each over PCIe Gen5 x16 (128 GB/s bidirectional = 64 per direction)
    ("h100_sxm5", 2, 900 * GB / 2),
    ("h100_sxm5", 8, 900 * GB / 2),
    ("h100_sxm5", 16, 128 * GB / 2),
    ("h100_sxm5", 32, 128 * GB / 2),
    # MI300X: seven Infinity Fabric links of 128 GB/s (bidirectional), one to each peer; a ring over tp GPUs uses
    # tp - 1 of them, 64 GB/s per direction each
    ("mi300x", 2, 1 * 128 * GB / 2),
    ("mi300x", 4, 3 * 128 * GB / 2),
    ("mi300x", 8, 7 * 128 * GB / 2),
    ("mi300x", 16, 128 * GB / 2),                       # beyond the eight: PCIe Gen5 x16, 64 per direction
    # MI250X GCDs: 200 GB/s inside the package (Frontier guide), 50 GB/s between packages (one 50 GB/s link)
    ("mi250x", 2, 200 * GB),
    ("mi250x", 4, 50 * GB),
    ("mi250x", 8, 50 * GB),
    # L40S, no NVLink: PCIe Gen4 x16 at every tp (64 GB/s bidirectional)
    ("l40s", 2, 64 * GB / 2),
    ("l40s", 32, 64 * GB / 2),
])
def test_the_ring_runs_inside_the_nvlink_domain_and_at_scaleout_bw_beyond_it(rows, hardware, tp, ring_bw):
    assert at(rows, hardware, tp)["ring_bw [B/s]"] == pytest.approx(ring_bw, rel=1e-12)


@pytest.mark.parametrize(("hardware", "tp", "ring_bw"), [
    ("rtx_a5000", 4, 32 * GB),       # a tp-4 decode step on bridged A5000s uses pcie_bw
    ("rtx_a5000", 2, 56.25 * GB),
    ("h100_sxm5", 8, 450 * GB),      # a tp-8 step on an HGX H100 uses nvlink_bw / 2
    ("h100_sxm5", 32, 64 * GB),
    ("mi300x", 4, 192 * GB),
])
def test_a_decode_steps_allreduce_is_the_bytes_over_the_ring_and_the_steps_times_the_latency(rows, hardware, tp,
                                                                                             ring_bw):
    row = at(rows, hardware, tp)
    assert row["ring_steps"] == 2 * 2 * (tp - 1)                      # two all-reduces of 2 (tp - 1) steps a layer
    assert row["ring_elems"] == pytest.approx(2 * 2 * (tp - 1) / tp * HIDDEN, rel=1e-12)
    assert row["allreduce [s]"] == pytest.approx(decode_allreduce(tp, ring_bw), rel=1e-12)


def test_the_latency_term_is_ring_steps_times_layers_times_the_latency(rows):
    # The default per-step latency is the TensorRT-LLM fit, and at tp 8 it is most of the step's all-reduce:
    # 28 steps x 32 layers x 13.5543 us = 12.1 ms, against 14,336 x 8 x 2 bytes / 450 GB/s x 32 layers = 16 us.
    row = at(rows, "h100_sxm5", 8)
    assert row["latency [s]"] == pytest.approx(LATENCY, rel=1e-12)
    latency_term = 2 * 2 * (8 - 1) * LAYERS * LATENCY
    bandwidth_term = LAYERS * 2 * 2 * 7 / 8 * HIDDEN * BATCH * FP16 / (450 * GB)
    assert row["allreduce [s]"] == pytest.approx(latency_term + bandwidth_term, rel=1e-12)
    assert at(rows, "h100_sxm5", 1)["allreduce [s]"] == 0                    # one GPU sends nothing


def test_a_given_latency_replaces_the_default():
    program = perfdsl.load(CHECKS).with_overrides({"ring_decode.allreduce_latency": "0 us"})
    row = at(program.evaluate("ring_links").records(), "rtx_a5000", 4)
    assert row["allreduce [s]"] == pytest.approx(decode_allreduce(4, 32 * GB, latency=0.0), rel=1e-12)


def test_a_part_without_nvlink_keeps_a_given_interconnect_bw_at_every_tp():
    # Without NVLink the domain does not apply: a measured PCIe ring rate given as interconnect_bw is the ring's.
    program = perfdsl.load(CHECKS).with_overrides({"l40s.interconnect_bw": "20 GB/s"})
    row = at(program.evaluate("ring_links").records(), "l40s", 8)
    assert row["ring_bw [B/s]"] == pytest.approx(20 * GB, rel=1e-12)


def test_a_given_scaleout_bw_is_the_rate_beyond_the_domain():
    program = perfdsl.load(CHECKS).with_overrides({"h100_sxm5.scaleout_bw": "50 GB/s"})
    records = program.evaluate("ring_links").records()
    assert at(records, "h100_sxm5", 16)["ring_bw [B/s]"] == pytest.approx(50 * GB, rel=1e-12)
    assert at(records, "h100_sxm5", 8)["ring_bw [B/s]"] == pytest.approx(450 * GB, rel=1e-12)


def test_a_part_given_nvlink_without_its_domain_is_refused():
    # l40s has no NVLink (nvlink_domain 1); a figure given for it without the domain would put every ring on PCIe.
    with pytest.raises(PerfError) as caught:
        perfdsl.load(CHECKS).evaluate("ring_links", overrides={"l40s.nvlink_bw": "100 GB/s"})
    assert "a part with NVLink gives nvlink_domain" in str(caught.value)


# -- the seed report keeps what it was calibrated with --------------------------------------------------------------

def test_the_seed_reports_x8_rows_pin_latency_0_and_their_fitted_ring_bw():
    # reports/seed_a5000x8_calibration.perf fitted the ring bandwidth with allreduce_latency 0 (costmodels/README.md:
    # "A per-step latency fitted beside it is not determined by the six rows"): the seed report pins both.
    program = perfdsl.load(SEED_REPORT)
    assert program.value("seed_step.allreduce_latency") == 0
    assert program.value("seed_step.ring_bw") == pytest.approx(17.9954 * GB, rel=1e-12)
