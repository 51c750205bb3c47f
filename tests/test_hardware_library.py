"""The bundled GPU library (hardware/*.perf): every block loads, every part evaluates, and spot checks against the
datasheet facts in ../shared/reference/gpus.csv, each expected number written as the arithmetic from the figure
the datasheet prints (dense = sparse headline / 2, per direction = bidirectional / 2, ...).

The gaps (figures gpus.csv does not have) are listed here as in hardware/README.md: evaluating one must fail with an
error that names it, never give a number.
"""

from __future__ import annotations

import math
import re

import pytest

import perfdsl
from perfdsl.errors import PerfError

BASE = "gpu"

# Family block -> its parts. Every part extends its family; every family extends `gpu`.
FAMILIES = {
    "ampere_workstation": ["rtx_a5000", "rtx_a6000"],
    "ampere_geforce": ["rtx_3090", "rtx_3090_ti", "rtx_3080", "rtx_3070", "rtx_3080_ti"],
    "ampere_datacenter": ["a10", "a30", "a100_40gb_sxm4", "a100_80gb_sxm4", "a100_80gb_pcie", "a40", "a10g"],
    "ada": ["l4", "l40s", "rtx_4090", "l20", "rtx_6000_ada", "rtx_5000_ada", "rtx_4000_ada", "rtx_4080", "rtx_4070_ti"],
    "hopper": ["h100_sxm5", "h100_pcie", "h200_sxm", "h100_nvl", "h20", "gh200"],
    "blackwell": ["b200", "gb200"],
    "blackwell_rtx": ["rtx_pro_6000_blackwell", "rtx_5090"],
    "volta": ["v100_sxm2_32gb"],
    "turing": ["t4"],
    "amd_cdna": ["mi250x", "mi300x", "mi325x", "mi355x"],
}
PARTS = {part: family for family, parts in FAMILIES.items() for part in parts}

# What the base block declares: every part must give these (or re-declare one as a gap).
BASE_INPUTS = {
    "sm_count", "peak_fp32", "peak_tf32", "peak_fp16", "peak_fp16_acc16", "peak_fp8", "peak_int8",
    "mem_size", "mem_bw", "tdp", "pcie_bw", "nvlink_bw",
}
# What the part computes in at all: bf16 = true, false on Volta and Turing (gpus.csv: "BF16 N/A").
BASE_FEATURES = {"bf16"}
BASE_FORMULAS = {"interconnect_bw", "idle_power", "peak_fp4"}   # peak_fp4 = peak_fp16 where a part has no FP4
# The total the driver reports, mem_size less what the driver keeps (0 B where no source gives the reported total):
# what engines size their KV pool from.
BASE_FORMULAS |= {"mem_visible", "mem_reserved"}
# Cells a cost model needs that datasheets lack: defaults in the base block (costmodels/README.md, "Calibration").
BASE_DEFAULTS = {"matmul_efficiency", "attention_efficiency", "bandwidth_efficiency"}
# Carrying across GPUs (issue 13): the memory type as a declared choice, and the formulas over it and the power per SM
# with their fitted coefficients (costmodels/README.md, "Carrying across GPUs").
# The ring's links (costmodels/README.md, "Parallelism"): the GPUs one NVLink domain joins (1 without NVLink), the
# links of a fully connected mesh (0: switched or bridged), and the rate a ring gets leaving the domain (= pcie_bw).
BASE_LINKS = {"nvlink_domain", "nvlink_mesh_links", "scaleout_bw"}
BASE_CARRYING = {"mem_type", "hbm", "gddr_stream_efficiency", "hbm_stream_efficiency", "stream_efficiency",
                 "power_per_sm", "full_clock_power_per_sm", "clock_power_exponent", "sustained_clock_factor"}

# Declared inputs a part leaves open because gpus.csv has no figure for them (n/f).
GAPS = {
    "rtx_a5000": {"peak_tf32", "peak_int8", "mem_type"},
    "rtx_a6000": {"peak_tf32"},
    "rtx_3090": {"peak_int8", "pcie_bw", "nvlink_bw"},
    "a10": {"peak_tf32", "peak_fp16", "peak_int8"},
    "a30": {"peak_fp16", "peak_int8", "tdp", "pcie_bw", "nvlink_bw"},
    "a100_80gb_pcie": {"nvlink_bw"},
    "l40s": {"peak_int8"},
    "rtx_4090": {"pcie_bw", "nvlink_bw"},
    "b200": {"pcie_bw"},
    "v100_sxm2_32gb": {"pcie_bw", "nvlink_bw"},
    "mi300x": {"peak_tf32", "peak_int8"},
    # issue 12's parts: figures no source read gives
    "gb200": {"pcie_bw"},
    "h100_nvl": {"sm_count", "peak_fp32", "peak_tf32", "peak_int8"},   # no source read gives them
    "h20": {"sm_count"},
    "gh200": {"tdp", "pcie_bw"},
    "l20": {"peak_tf32", "peak_fp8", "peak_int8"},
    "rtx_5000_ada": {"peak_fp32", "peak_fp8"},     # no source read gives its AI TOPS or settles its FP32
    "a10g": {"sm_count", "peak_fp32", "peak_tf32", "peak_fp16", "peak_int8", "mem_bw", "tdp", "pcie_bw"},
    "rtx_3090_ti": {"nvlink_bw"},
    "mi325x": {"peak_int8"},
    "mi355x": {"peak_fp32", "peak_tf32", "peak_int8"},
}
# Cells that are formulas over a gap, so they cannot be evaluated either.
BLOCKED = {
    "rtx_a5000": {"hbm", "stream_efficiency"},                # over its memory type (not in gpus.csv)
    # issue 13's carrying cells over an open tdp or sm_count (power_per_sm, sustained_clock_factor): a30, gh200,
    # a10g below, and:
    "h100_nvl": {"power_per_sm", "sustained_clock_factor"},
    "h20": {"power_per_sm", "sustained_clock_factor"},
    # scaleout_bw = pcie_bw wherever pcie_bw is a gap
    "rtx_3090": {"interconnect_bw", "scaleout_bw"},
    "a10": {"peak_fp16_acc16", "peak_fp8", "peak_fp4"},
    "a30": {"peak_fp16_acc16", "peak_fp8", "peak_fp4", "interconnect_bw", "idle_power", "power_per_sm",
            "sustained_clock_factor", "scaleout_bw"},
    "a100_80gb_pcie": {"interconnect_bw"},
    "rtx_4090": {"interconnect_bw", "scaleout_bw"},
    "v100_sxm2_32gb": {"interconnect_bw", "scaleout_bw"},
    "a10g": {"peak_fp16_acc16", "peak_fp8", "peak_fp4", "idle_power", "interconnect_bw", "power_per_sm",
             "sustained_clock_factor", "scaleout_bw"},
    "gh200": {"idle_power", "power_per_sm", "sustained_clock_factor", "scaleout_bw"},
    "b200": {"scaleout_bw"},
    "gb200": {"scaleout_bw"},
    "rtx_3090_ti": {"interconnect_bw"},
    "rtx_5000_ada": {"peak_fp16", "peak_fp16_acc16", "peak_tf32", "peak_int8", "peak_fp4"},   # formulas over peak_fp8
}

# Figures not declared in the base, given only where gpus.csv has them: the parts that lack each.
NEW_PARTS = {"gb200", "rtx_pro_6000_blackwell", "rtx_5090", "h100_nvl", "h20", "gh200", "l20", "rtx_6000_ada",
             "rtx_5000_ada", "rtx_4000_ada", "a40", "a10g", "rtx_3090_ti", "rtx_3080", "rtx_3070", "mi325x", "mi355x",
             "rtx_3080_ti"}                                    # issue 13's: rtx_3080_ti, rtx_4080, rtx_4070_ti
OPTIONAL_MISSING = {
    "boost_clock": {"rtx_a5000", "b200", "mi300x"} | NEW_PARTS,      # no clock recorded for issue 12's parts
    "l2_size": {"rtx_a5000"} | NEW_PARTS - {"rtx_pro_6000_blackwell", "rtx_5090"},
    "pcie_gen": {"rtx_3090", "rtx_4090", "a30", "v100_sxm2_32gb", "b200", "a10g", "gb200", "gh200"},
    "pcie_lanes": {"rtx_3090", "rtx_4090", "a30", "v100_sxm2_32gb", "b200", "a10g", "gb200", "gh200"},
}

GiB = 2**30
MiB = 2**20
KiB = 2**10

# (cell, expected in SI): the datasheet arithmetic, with the gpus.csv cell it comes from.
SPOT_CHECKS = [
    ("rtx_a5000.peak_fp16", 222.2e12 / 2),        # "Tensor Performance 222.2 TFLOPS" is the sparse headline
    ("rtx_a5000.peak_fp16_acc16", 222.2e12 / 2),  # pro GA102 parts are not halved
    ("rtx_a5000.peak_fp8", 222.2e12 / 2),         # no FP8 on Ampere: the FP16 rate
    ("rtx_a5000.peak_fp32", 27.8e12),
    ("rtx_a5000.sm_count", 8192 / 128),           # 8,192 CUDA cores / 128 per GA10x SM
    ("rtx_a5000.mem_size", 24 * GiB),              # a DRAM capacity's "GB" is 2^30 byte (JEDEC)
    ("rtx_a5000.mem_bw", 768e9),
    ("rtx_a5000.tdp", 230),                        # total board power
    ("rtx_a5000.pcie_bw", 64e9 / 2),               # Gen4 x16, 64 GB/s bidirectional
    ("rtx_a5000.nvlink_bw", 112.5e9),              # NVLink bridge, bidirectional, 2 cards
    ("rtx_a5000.interconnect_bw", 112.5e9 / 2),
    ("rtx_a6000.peak_fp16", 154.8e12),             # 309.7 sparse
    ("rtx_a6000.peak_int8", 309.7e12),
    ("rtx_a6000.mem_size", 48 * GiB),
    ("rtx_a6000.tdp", 300),
    ("rtx_a6000.boost_clock", 1800e6),
    ("rtx_a6000.l2_size", 6 * MiB),
    ("rtx_3090.peak_fp16", 71e12),                 # FP32 accumulate (GeForce: half the FP16-accumulate rate)
    ("rtx_3090.peak_fp16_acc16", 142e12),
    ("rtx_3090.peak_tf32", 35.6e12),               # TF32 on GeForce = the FP32 non-tensor rate
    ("rtx_3090.peak_fp8", 71e12),
    ("rtx_3090.l2_size", 6144 * KiB),
    ("a10.peak_fp32", 31.2e12),
    ("a10.nvlink_bw", 0),
    ("a10.interconnect_bw", 64e9 / 2),             # no NVLink: the ring runs over PCIe
    ("a30.peak_tf32", 165e12 / 2),                 # "165 TFLOPS of TF32" is sparse
    ("a30.l2_size", 24576 * KiB),
    ("a30.mem_bw", 933e9),
    ("a30.mem_visible", 24060 * MiB),              # "24 (24060 MiB reported)"
    ("a100_40gb_sxm4.peak_fp16", 624e12 / 2),
    ("a100_40gb_sxm4.peak_int8", 1248e12 / 2),
    ("a100_40gb_sxm4.mem_bw", 1555e9),
    ("a100_40gb_sxm4.l2_size", 41943040),          # deviceQuery
    ("a100_40gb_sxm4.interconnect_bw", 600e9 / 2),  # NVLink3 600, 300 + 300 per direction
    ("a100_80gb_sxm4.mem_size", 80 * GiB),
    ("a100_80gb_sxm4.mem_visible", 80 * GiB),      # no reported total given: = mem_size
    ("a100_80gb_sxm4.mem_bw", 2039e9),
    ("a100_80gb_pcie.mem_bw", 1935e9),
    ("a100_80gb_pcie.tdp", 300),                   # disputed: 300 | 250
    ("l4.sm_count", 58),                           # disputed: 58 | 60
    ("l4.peak_tf32", 120e12 / 2),                  # every L4 headline is sparse
    ("l4.peak_fp16", 242e12 / 2),
    ("l4.peak_fp8", 485e12 / 2),
    ("l4.peak_int8", 485e12 / 2),
    ("l4.mem_bw", 300e9),
    ("l4.tdp", 72),
    ("l4.mem_visible", 23034 * MiB),              # nvidia-smi's total (modal-labs/modal-client#2797): 1542 MiB kept
    ("l40s.peak_fp16", 362e12),                    # 733 sparse
    ("l40s.peak_fp8", 733e12),                     # 1466 sparse
    ("l40s.tdp", 350),                             # disputed: 350 | 300
    ("l40s.pcie_bw", 64e9 / 2),
    ("l40s.interconnect_bw", 64e9 / 2),
    ("l40s.mem_visible", 46068 * MiB),            # nvidia-smi: "46068 MiB" (akash-network/provider-configs#99): 48 GiB
                                                   # less 3084 MiB, ECC on
    ("rtx_4090.peak_fp16", 165.2e12),              # FP32 accumulate
    ("rtx_4090.peak_fp16_acc16", 330.3e12),
    ("rtx_4090.peak_fp8", 330.3e12),               # FP8 with FP32 accumulate (whitepaper v2.02)
    ("rtx_4090.peak_int8", 660.6e12),
    ("rtx_4090.l2_size", 73728 * KiB),
    ("rtx_4090.tdp", 450),
    ("rtx_4090.mem_visible", 24564 * MiB),         # nvidia-smi: "23859MiB / 24564MiB"
    ("h100_sxm5.mem_size", 80 * GiB),              # "80 GB" of HBM3: 80 x 2^30 = 85,899,345,920 byte
    ("h100_sxm5.mem_visible", 85_520_809_984),     # NVML's total, the H100 optimum-benchmark log: 81,559 MiB
    ("h100_sxm5.mem_bw", 3350e9),
    ("h100_sxm5.peak_fp16", 989.4e12),             # 1979 sparse
    ("h100_sxm5.peak_fp8", 1978.9e12),             # 3958 sparse
    ("h100_sxm5.peak_tf32", 494.7e12),
    ("h100_sxm5.boost_clock", 1980e6),             # disputed: 1980 | 1830 | 1770
    ("h100_sxm5.pcie_bw", 128e9 / 2),              # Gen5 x16, 128 GB/s bidirectional
    ("h100_sxm5.interconnect_bw", 900e9 / 2),      # NVLink4 900
    ("h100_pcie.sm_count", 114),
    ("h100_pcie.peak_fp16", 756.5e12),
    ("h100_pcie.tdp", 350),                        # disputed: 350 | 300-350
    ("h100_pcie.interconnect_bw", 600e9 / 2),      # NVLink bridge 600
    ("h200_sxm.mem_size", 141 * GiB),
    ("h200_sxm.mem_visible", 143771 * MiB),        # nvidia-smi: "0MiB / 143771MiB"
    ("h200_sxm.mem_bw", 4800e9),
    ("h200_sxm.peak_fp8", 1978.9e12),
    ("b200.mem_size", 1440 * GiB / 8),             # DGX B200: 1,440 GB / 8 GPUs
    ("b200.mem_visible", 183359 * MiB),            # nvidia-smi: "166593MiB / 183359MiB"
    ("b200.mem_bw", 64e12 / 8),                    # DGX B200: 64 TB/s / 8 GPUs
    ("b200.peak_fp8", 9000e12 / 2),
    ("b200.peak_fp4", 18000e12 / 2),               # gpus.csv: "FP4 9000 (18000 sparse)"
    ("t4.bf16", False),                            # gpus.csv: "BF16 N/A"
    ("v100_sxm2_32gb.bf16", False),
    ("a100_80gb_sxm4.bf16", True),
    ("b200.peak_fp16", 4500e12 / 2),
    ("b200.tdp", 1000),
    ("v100_sxm2_32gb.peak_fp16", 125e12),          # Volta: dense, no sparsity
    ("v100_sxm2_32gb.peak_tf32", 15.7e12),         # no TF32: the FP32 rate
    ("v100_sxm2_32gb.peak_int8", 125e12),          # no INT8 tensor path: the FP16 rate
    ("v100_sxm2_32gb.mem_bw", 900e9),
    ("t4.peak_fp16", 65e12),
    ("t4.peak_int8", 130e12),
    ("t4.mem_bw", 320e9),                          # disputed: 320 | 300
    ("t4.tdp", 70),                                # disputed: 70 | 75
    ("t4.pcie_bw", 32e9 / 2),                      # Gen3 x16: half of Gen4 x16's 32 GB/s per direction
    ("t4.interconnect_bw", 32e9 / 2),
    # mi250x is ONE GCD, the GPU software sees: half of each package figure of gpus.csv
    ("mi250x.sm_count", 220 / 2),                  # compute units: 220 per package, 110 per GCD
    ("mi250x.peak_fp16", 383e12 / 2),
    ("mi250x.peak_tf32", 95.7e12 / 2),             # no TF32: the FP32 matrix rate
    ("mi250x.mem_size", 128 * GiB / 2),            # 64 GB per GCD
    ("mi250x.mem_bw", 3200e9 / 2),
    ("mi250x.tdp", 560 / 2),                       # half the module's 560 W (disputed: 500 | 560)
    ("mi250x.nvlink_bw", 8 * 50e9 * 2 / 2),        # 8 Infinity Fabric links x 50 GB/s x 2 directions = 800 per package
    ("mi250x.interconnect_bw", 200e9),             # OLCF Frontier guide: 200 GB/s between a package's two GCDs
    ("mi300x.peak_fp16", 1307e12),                 # 2615 sparse
    ("mi300x.peak_fp8", 2610e12),                  # disputed: ~2610-2615
    ("mi300x.mem_bw", 5300e9),
    ("mi300x.nvlink_bw", 7 * 128e9),               # xGMI: 7 links x 128 GB/s = 896
    ("mi300x.pcie_bw", 128e9 / 2),
    # issue 12's parts
    ("gb200.peak_fp16", 2500e12),                  # Klockwood, GB200 at 1,200 W: 2500 dense (5000 sparse)
    ("gb200.peak_fp4", 10000e12),
    ("gb200.mem_size", 13400 * GiB / 72),          # 13.4 TB (72 x 186 GB) over the 72 GPUs of an NVL72
    ("gb200.interconnect_bw", 1800e9 / 2),
    ("gb200.nvlink_domain", 72),
    ("rtx_pro_6000_blackwell.peak_fp4", 4000e12 / 2),   # "4,000 AI TOPS" FP4 sparse
    ("rtx_pro_6000_blackwell.peak_fp8", 4000e12 / 4),
    ("rtx_pro_6000_blackwell.peak_fp16", 4000e12 / 8),  # professional: not halved
    ("rtx_pro_6000_blackwell.mem_bw", 1792e9),
    ("rtx_pro_6000_blackwell.interconnect_bw", 128e9 / 2),   # no NVLink: PCIe Gen5 x16 per direction
    ("rtx_5090.peak_fp16", 3352e12 / 2 / 4 / 2),   # 209.5: FP4 sparse -> dense -> FP16 acc16 -> FP32 acc (GeForce)
    ("rtx_5090.peak_fp8", 3352e12 / 2 / 4),        # 419: FP8 with FP32 accumulate
    ("h100_nvl.peak_fp16", 1671e12 / 2),
    ("h100_nvl.mem_bw", 3.9e12),
    ("h100_nvl.interconnect_bw", 600e9 / 2),
    ("h20.peak_fp16", 148e12),
    ("rtx_6000_ada.peak_fp8", 1457e12 / 2),        # "AI TOPS" FP8 sparse / 2
    ("rtx_6000_ada.peak_fp16", 1457e12 / 4),
    ("a40.peak_fp16", 149.7e12),                   # gpus_notes.md: the A40 datasheet's 149.7 / 299.4
    ("a40.interconnect_bw", 112.5e9 / 2),
    ("rtx_3090_ti.peak_fp16", 160e12 / 2),         # FP32 accumulate: half the FP16-accumulate rate
    ("rtx_3080.peak_fp16", 119e12 / 2),
    ("rtx_3070.mem_bw", 448e9),                    # two spec pages (fudzilla's 16 Gbps would give 512)
    ("mi325x.mem_size", 256 * GiB),
    ("mi355x.peak_fp4", 10000e12),                 # "up to 10 PFLOPS FP4" (rounded in the source)
    # The NVLink domain: bridged PCIe cards join pairs, SXM/OAM boards eight, NVL72 seventy-two; a part without
    # NVLink is a domain of one. A fully connected Infinity Fabric mesh gives its links per GPU.
    ("rtx_a5000.nvlink_domain", 2),                # gpus.csv: "NVLink bridge 112.5 (bidirectional, 2 cards)"
    ("rtx_a6000.nvlink_domain", 2),
    ("h100_pcie.nvlink_domain", 2),                # gpus.csv: "bridges link pairs of cards"
    ("h100_nvl.nvlink_domain", 2),
    ("a40.nvlink_domain", 2),
    ("a100_80gb_sxm4.nvlink_domain", 8),           # HGX A100
    ("h100_sxm5.nvlink_domain", 8),                # HGX H100
    ("h200_sxm.nvlink_domain", 8),
    ("b200.nvlink_domain", 8),                     # HGX B200
    ("mi250x.nvlink_domain", 2),                   # the package's two GCDs
    ("mi250x.scaleout_bw", 50e9),                  # Frontier guide: 50-100 GB/s between packages; the low end
    ("mi300x.nvlink_domain", 8),
    ("mi300x.nvlink_mesh_links", 7),               # gpus.csv: 7 links of 128 GB/s
    ("h100_sxm5.nvlink_mesh_links", 0),            # NVSwitch: no mesh
    ("l40s.nvlink_domain", 1),                     # no NVLink
    ("l40s.scaleout_bw", 64e9 / 2),                # = pcie_bw
    ("h100_sxm5.scaleout_bw", 128e9 / 2),          # = pcie_bw: the ring leaves an HGX board over PCIe
    ("mi355x.peak_fp16", 5000e12 / 2),             # half the "five petaflops" of FP8
    ("rtx_3080.peak_fp16_acc16", 2 * 59.5e12),
    # issue 13's parts and gaps: INT8 (pytorch-lightning's table) at twice the FP16-accumulate rate on GA10x/AD10x
    ("rtx_3070.peak_fp16_acc16", 162.6e12 / 2),
    ("rtx_3080_ti.peak_fp16_acc16", 272.8e12 / 2),
    ("rtx_3080_ti.mem_bw", 19e9 * 384 / 8),        # 19 Gbps x 384 bits = 912 GB/s
    ("rtx_4080.peak_fp16_acc16", 389.9e12 / 2),
    ("rtx_4080.mem_bw", 22.4e9 * 256 / 8),         # 716.8 GB/s
    ("rtx_4070_ti.peak_fp16_acc16", 4 * 40.09e12),  # 4 x the FP32 rate on an AD10x SM
    ("rtx_4000_ada.peak_fp16", 4 * 26.7e12),
    ("rtx_3090.tdp", 350),
    ("gh200.peak_fp16", 989.4e12),
]

STRING_CHECKS = [
    ("rtx_a5000.label", "NVIDIA RTX A5000"),       # the seed run log's hardware column
    ("a100_40gb_sxm4.label", "NVIDIA A100-SXM4-40GB"),  # nvidia-smi names seen in ../shared/logs
    ("a100_80gb_sxm4.label", "NVIDIA A100-SXM4-80GB"),
    ("h100_sxm5.label", "NVIDIA H100 80GB HBM3"),
    ("rtx_4090.label", "NVIDIA GeForce RTX 4090"),
    ("rtx_a5000.vendor", "NVIDIA"),
    ("rtx_a5000.arch", "Ampere"),
    ("l4.arch", "Ada Lovelace"),
    ("mi250x.vendor", "AMD"),
    ("mi250x.arch", "CDNA 2"),
    ("mi300x.arch", "CDNA 3"),
]


@pytest.fixture(scope="module")
def program():
    folder = perfdsl.library_path("hardware")
    files = sorted(folder.glob("*.perf"))
    assert files, f"no .perf files in {folder}"
    return perfdsl.load(files)


def test_library_holds_the_base_the_families_and_every_part(program):
    expected = {BASE, *FAMILIES, *PARTS}
    names = set(program.blocks)
    assert names == expected, f"missing: {sorted(expected - names)}; unexpected: {sorted(names - expected)}"
    for name, block in program.blocks.items():
        assert block.kind == "hardware", f"hardware.{name}: kind {block.kind!r}"


def test_every_part_extends_its_family_and_every_family_the_base(program):
    assert program.blocks[BASE].parent is None
    for family in FAMILIES:
        assert program.blocks[family].parent == BASE, f"hardware.{family} extends {program.blocks[family].parent}"
    for part, family in PARTS.items():
        assert program.blocks[part].parent == family, f"hardware.{part} extends {program.blocks[part].parent}"


def test_base_declares_the_datasheet_inputs(program):
    cells = set(program.blocks[BASE].cells)
    expected = BASE_INPUTS | BASE_FORMULAS | BASE_DEFAULTS | BASE_CARRYING | BASE_FEATURES | BASE_LINKS
    assert cells == expected, f"hardware.gpu cells: {sorted(cells)}"


@pytest.mark.parametrize("part", sorted(PARTS))
def test_part_evaluates_every_cell_except_its_gaps(program, part):
    gaps = GAPS.get(part, set())
    blocked = BLOCKED.get(part, set())
    cells = set(program.blocks[part].cells)
    assert gaps | blocked <= cells, f"hardware.{part}: gaps not cells: {sorted((gaps | blocked) - cells)}"
    for cell in sorted(cells):
        path = f"{part}.{cell}"
        if cell in gaps or cell in blocked:
            with pytest.raises(PerfError) as caught:
                program.value(path)
            named = [gap for gap in gaps if re.search(rf"\b{gap}\b", str(caught.value))]
            assert named, f"hardware.{path}: the error does not name the missing input ({sorted(gaps)}):\n{caught.value}"
            continue
        value = program.value(path)
        assert isinstance(value, (str, bool, float, int)), f"hardware.{path}: {value!r}"
        if isinstance(value, float):
            assert math.isfinite(value) and value >= 0, f"hardware.{path} = {value}"


@pytest.mark.parametrize("part", sorted(PARTS))
def test_part_gives_a_label_vendor_and_arch(program, part):
    for cell in ("label", "vendor", "arch"):
        value = program.value(f"{part}.{cell}")
        assert isinstance(value, str) and value, f"hardware.{part}.{cell} = {value!r}"
    assert program.value(f"{part}.vendor") in {"NVIDIA", "AMD"}


def test_labels_are_given_by_the_parts_not_inherited(program):
    for family in FAMILIES:
        assert "label" not in program.blocks[family].cells, f"hardware.{family} gives a label its parts would inherit"
    labels = [program.value(f"{part}.label") for part in PARTS]
    assert len(set(labels)) == len(labels), f"duplicate labels: {sorted(labels)}"


@pytest.mark.parametrize("cell", sorted(OPTIONAL_MISSING))
def test_optional_figures_are_given_exactly_where_known(program, cell):
    for part in PARTS:
        has = cell in program.blocks[part].cells
        assert has == (part not in OPTIONAL_MISSING[cell]), (
            f"hardware.{part}.{cell}: {'given' if has else 'missing'}, hardware/README.md says otherwise")


@pytest.mark.parametrize(("path", "expected"), SPOT_CHECKS, ids=[path for path, _ in SPOT_CHECKS])
def test_spot_check_against_the_datasheet(program, path, expected):
    assert program.value(path) == pytest.approx(expected, rel=1e-12), f"hardware.{path}"


@pytest.mark.parametrize(("path", "expected"), STRING_CHECKS, ids=[path for path, _ in STRING_CHECKS])
def test_strings(program, path, expected):
    assert program.value(path) == expected, f"hardware.{path}"


def test_every_part_with_nvlink_says_how_many_gpus_its_domain_joins(program):
    # A part that gives an NVLink figure but forgets nvlink_domain would inherit the base's 1 and put every ring
    # of tp 2 on PCIe: every such part in the library gives 2 at least, and the base's require says so.
    for part in PARTS:
        try:
            nvlink = program.value(f"{part}.nvlink_bw")
        except PerfError:                              # a gap: the part gives no figure
            nvlink = None
        domain = program.value(f"{part}.nvlink_domain")
        if nvlink is not None and nvlink > 0:
            assert domain >= 2, f"hardware.{part}: nvlink_bw {nvlink} but nvlink_domain {domain}"
        elif nvlink == 0:
            assert domain == 1, f"hardware.{part}: no NVLink but nvlink_domain {domain}"


def test_b200_interconnect_does_not_wait_for_its_open_pcie_bw(program):
    # b200.pcie_bw is a gap; b200 writes out the NVLink branch of the base formula so the ring bandwidth is known.
    assert program.value("b200.interconnect_bw") == pytest.approx(1800e9 / 2, rel=1e-12)
    with pytest.raises(PerfError):
        program.value("b200.pcie_bw")


def test_a6000_takes_the_a5000s_gemm_rate_per_sm(program):
    # Same GA102 SM at the same watts per SM: the A6000's SMs sustain the A5000's clock under the power cap, so the
    # A5000's achieved GEMM rate per SM carries over (costmodels/README.md, "What carries over to the RTX A6000").
    a5000 = program.value("rtx_a5000.matmul_efficiency") * program.value("rtx_a5000.peak_fp16") / 64
    a6000 = program.value("rtx_a6000.matmul_efficiency") * program.value("rtx_a6000.peak_fp16") / 84
    assert a6000 == pytest.approx(a5000, rel=1e-12)
    assert program.value("rtx_a6000.matmul_efficiency") == pytest.approx(0.67 * (111.1 / 64) / (154.8 / 84), rel=1e-12)
    assert program.value("rtx_a6000.attention_efficiency") == program.value("rtx_a6000.matmul_efficiency")


def test_a6000_follows_a_measured_a5000_efficiency(program):
    changed = program.with_overrides({"rtx_a5000.matmul_efficiency": "0.70"})
    assert changed.value("rtx_a6000.matmul_efficiency") == pytest.approx(0.70 * (111.1 / 64) / (154.8 / 84), rel=1e-12)
