"""How the published measurements' free-text columns read as perfdsl's names (used by the `published` format).

The CSVs of ../shared/data/measured write the GPU, precision, framework, parallelism and metric as the sources print
them, with notes in parentheses ("NVIDIA A100-SXM4-80GB (power-limited to 330 W; ...)"). Matching needs the
library's names: a hardware block's `label` (the device name nvidia-smi prints), a precision block's name and a
stack (software block) name, as fixed by the design contract of issue 13. Every table of spellings is here, in one
place, so that a new published source adds its spellings here and nowhere else.

Each function returns the name and, where the reading is an assumption the source does not state, the reason (a
warning the reader reports once per spelling); a spelling no rule knows is None (the reader keeps the text as
written and warns).
"""

from __future__ import annotations

import re

# --- GPUs ---------------------------------------------------------------------------------------------------------
# Published spelling -> (the hardware text runs carry, assumption or None). The hardware text is the library block's
# `label` (hardware/*.perf) where the library has the GPU; a plain nvidia-smi name with no note (such as "NVIDIA
# GeForce RTX 3070") is not listed: it is read as written. GPUs the library lacks keep their device name, so that a
# block added later with that label matches them.
GPU_NAMES: dict[str, tuple[str, str | None]] = {
    # gpt-fast: stock SXM4 80 GB parts run at a 330 W cap (400 W TDP); the cap stays in the run's extra 'gpu'.
    "NVIDIA A100-SXM4-80GB (power-limited to 330 W; 8-GPU hybrid cube mesh node)": ("NVIDIA A100-SXM4-80GB", None),
    # gpt-fast's AMD rows ran on ONE GCD, half an MI250X package: what software sees as one GPU, and what the
    # library's mi250x block is (hardware/amd_cdna.perf).
    "AMD Instinct MI250X (ONE GCD = half the package)": ("AMD Instinct MI250X", None),
    # TensorRT-LLM's doc: "H100-HBM3-80GB system", the SXM part (nvidia-smi: "NVIDIA H100 80GB HBM3", h100_sxm5).
    "NVIDIA H100 80GB HBM3 (SXM; doc: 'H100-HBM3-80GB system')": ("NVIDIA H100 80GB HBM3", None),
    # TensorRT-LLM's A100 rows do not say which A100; the CSV assumes 80 GB. Read as the 80 GB SXM4 part: the form
    # factor is our assumption too (the doc says neither), and the reader warns about it.
    "NVIDIA A100 (80GB assumed; SKU not stated)": (
        "NVIDIA A100-SXM4-80GB", "the A100's SKU is not stated: read as the 80 GB SXM4 part (a100_80gb_sxm4)"),
    # llm-perf-bench: 80 GB is implied by Llama-2-70B fp16 on 2 GPUs, and its GPUs talk over PCIe without NVLink,
    # which SXM4 boards always have: read as the 80 GB PCIe card, an assumption the reader warns about.
    "NVIDIA A100 (80GB implied by 70B fp16 on 2 GPUs; PCIe-connected per README, SKU not stated)": (
        "NVIDIA A100 80GB PCIe", "the A100's SKU is not stated: read as the 80 GB PCIe card (a100_80gb_pcie), "
                                 "80 GB from 70B fp16 on 2 GPUs and PCIe from the README's 'not NVLink'"),
    # AWS G5's A10G (the library's a10g block; not the A10).
    "NVIDIA A10G (AWS; 24GB)": ("NVIDIA A10G", None),
    # AutoAWQ names its host CPU; the GPU is the stock card.
    "NVIDIA GeForce RTX 4090 (host CPU AMD Ryzen 9 7950X)": ("NVIDIA GeForce RTX 4090", None),
}


def gpu_name(text: str) -> tuple[str | None, str | None]:
    """(hardware text, assumption) for a published GPU spelling: the table's entry; the text itself where it has no
    note in parentheses (a device name as nvidia-smi prints it); (None, None) for a noted spelling not in the table."""
    if text in GPU_NAMES:
        return GPU_NAMES[text]
    if "(" in text or ";" in text:
        return None, None
    return text, None


# --- precisions ---------------------------------------------------------------------------------------------------
# (pattern, precision block name, assumption or None), tried in order; the pattern is searched in the text. Block
# names are the contract's (software/precisions.perf), plus `mlc_q4f16_1` for MLC's own 4-bit format.
PRECISIONS: list[tuple[re.Pattern, str, str | None]] = [
    (re.compile(r"^GGUF Q4_K_M\b"), "gguf_q4_k_m", None),
    (re.compile(r"^GGUF Q8_0\b"), "gguf_q8_0", None),
    (re.compile(r"^GGUF F16\b"), "gguf_f16", None),
    # MLC's q4f16_1: 4-bit weights in groups of 32 with an fp16 scale, fp16 activations (mlc-llm quantization.py);
    # its own name, since its bytes per weight differ from AWQ/GPTQ's group of 128.
    (re.compile(r"^q4f16_1\b"), "mlc_q4f16_1", None),
    (re.compile(r"^AWQ int4\b"), "int4_awq", None),
    # ExLlamaV2's EXL2 is a mixed-bit format; llm-perf-bench says "4-bit" without the bits per weight.
    (re.compile(r"^4-bit GPTQ/EXL2\b"), "int4_gptq", "the bits per weight of EXL2 are not stated: read as 4-bit GPTQ"),
    (re.compile(r"^4-bit GPTQ\b"), "int4_gptq", None),
    (re.compile(r"^int8 weight-only\b"), "int8_wo", None),
    # gpt-fast's int4 is weight-only with a group size of 32 (its quantize.py --groupsize 32 in the README).
    (re.compile(r"^int4 weight-only, group size 32\b"), "int4_g32", None),
    (re.compile(r"^fp8 weights\+activations\b"), "fp8", None),
    (re.compile(r"^bf16\b"), "bf16", None),
    (re.compile(r"^fp16\b"), "fp16", None),
]

# The KV cache's dtype where the precision text names one ("+ fp8 KV cache"); "auto" (vLLM's term: the precision's
# own kv_bytes) otherwise.
_KV_CACHE = re.compile(r"\b(fp8|int8) KV cache\b")


# A stack that runs only its own file format reads a plain dtype as that format: llama.cpp loads GGUF files only, so
# its "fp16" (llm-perf-bench's fp16 table) is GGUF F16, as xiongjiedai's F16 rows name it.
STACK_FORMATS = {("llama_cpp", "fp16"): "gguf_f16"}


def precision_name(text: str, stack: str | None = None) -> tuple[str | None, str | None]:
    """(precision block name, assumption) for a published precision spelling run by `stack` (a stack name, or
    None), or (None, None) where no rule knows it."""
    for pattern, name, assumption in PRECISIONS:
        if pattern.search(text):
            return STACK_FORMATS.get((stack, name), name), assumption
    return None, None


def kv_cache_dtype(text: str) -> str:
    """The run's kv_cache_dtype: "fp8" (or "int8") where the precision text names that KV cache, else "auto"."""
    match = _KV_CACHE.search(text)
    return match.group(1) if match else "auto"


# AutoAWQ's two kernels (its `version`): GEMV is faster at batch 1, GEMM at larger batches; the same model and shape
# were measured with both, so the kernel is a run field.
_AWQ_KERNEL = re.compile(r"\b(GEMM|GEMV) kernel\b")


def awq_kernel(text: str) -> str | None:
    """"GEMM" or "GEMV" where the precision text names AutoAWQ's kernel, else None."""
    match = _AWQ_KERNEL.search(text)
    return match.group(1) if match else None


# --- stacks -------------------------------------------------------------------------------------------------------
# (pattern, stack block name): the framework text's first words. Names are the contract's (software/stacks.perf).
STACKS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"^llama\.cpp\b"), "llama_cpp"),
    (re.compile(r"^gpt-fast\b"), "gpt_fast"),           # CUDA graphs on NVIDIA, HIP graphs on ROCm: one stack
    (re.compile(r"^TensorRT-LLM\b"), "trtllm"),
    # llm-perf-bench's vLLM column (mlc-ai/llm-perf-bench@d401356, November 2023): its docker/Dockerfile.cu118.vllm
    # built vLLM's main of that month, before CUDA graphs (vllm-project/vllm#1926, December 2023) and the custom
    # all-reduce (#2192, 2024): the engine of then, not today's. First: the plain "vLLM" rule below would take it.
    (re.compile(r"^vLLM benchmark_latency\.py\b.*\bdocker cu118\b"), "vllm_2023"),
    (re.compile(r"^vLLM\b"), "vllm"),
    (re.compile(r"^SGLang\b"), "sglang"),
    (re.compile(r"^AutoAWQ\b"), "autoawq"),
    (re.compile(r"^MLC LLM\b"), "mlc_llm"),
    (re.compile(r"^ExLlama(V2)?\b"), "exllama"),       # ExLlama and ExLlamaV2: llm-perf-bench does not always say
]


def stack_name(text: str) -> str | None:
    """The stack block name for a published framework text, or None where no rule knows it."""
    for pattern, name in STACKS:
        if pattern.search(text):
            return name
    return None


# --- parallelism --------------------------------------------------------------------------------------------------
_TP = re.compile(r"\btensor parallel TP=(\d+)\b")
# Layers split over GPUs that run one after another (llama.cpp's -sm layer, ExLlama's gpu split, accelerate's
# device_map): pipeline stages, pp = the number of GPUs.
_LAYER_SPLIT = re.compile(r"\blayer split\b.*?\b(?:over|across) (\d+) GPUs\b")


def parallelism(text: str) -> tuple[int, int] | None:
    """(tp, pp) from a published parallelism text: "none" -> (1, 1), "tensor parallel TP=4" -> (4, 1), a layer split
    over N GPUs -> (1, N); None where the text says neither, or a degree below 1."""
    if text.startswith("none"):
        return 1, 1
    tp, split = _TP.search(text), _LAYER_SPLIT.search(text)
    degree = tp or split
    if degree is None or not 1 <= int(degree.group(1)) <= 1_000_000:     # no GPU count is 0 or has 30 digits
        return None
    return (int(degree.group(1)), 1) if tp else (1, int(degree.group(1)))


# --- metrics ------------------------------------------------------------------------------------------------------
# The metric column's first word -> canonical metric name and the dimension its unit must have.
METRICS: dict[str, tuple[str, str]] = {
    "decode_throughput": ("decode_throughput", "token/s"),               # AutoAWQ: batch / step time (see reader)
    "decode_throughput_per_sequence": ("decode_throughput", "token/s"),  # gpt-fast, llama-bench tg, llm-perf-bench
    "prefill_throughput": ("prefill_throughput", "token/s"),             # AutoAWQ
    "prompt_processing_throughput": ("prefill_throughput", "token/s"),   # llama-bench pp
    "output_throughput": ("output_throughput", "token/s"),               # TensorRT-LLM, scope not stated
    "output_throughput_per_gpu": ("output_throughput", "token/s"),       # TensorRT-LLM H100, per GPU
    "output_throughput_total": ("output_throughput", "token/s"),         # a source that says total
    "first_token_latency": ("ttft", "s"),                                # TensorRT-LLM, output_len 1
    "ttft": ("ttft", "s"),
    "peak_memory": ("peak_memory", "byte"),                              # AutoAWQ max_memory_allocated
}

# Units as the CSVs write them -> a unit perfdsl parses ("tokens/s/GPU" is per GPU: the scope is a run field).
UNITS = {"tokens/s": "token/s", "tokens/s/GPU": "token/s", "tok/s": "token/s", "ms": "ms", "s": "s",
         "GiB": "GiB", "MiB": "MiB", "GB": "GB"}


def metric_key(text: str) -> str:
    """The metric column's name without its note: "decode_throughput (= batch / ...)" -> "decode_throughput",
    lower-case."""
    return text.split("(", 1)[0].strip().lower()


def is_derived(text: str) -> bool:
    """True where the metric column says the value is DERIVED by the source (gpt-fast's bandwidth column), not
    measured."""
    return "DERIVED" in text


def first_token(text: str) -> str:
    """The text's first word: the Hugging Face id of an hf_id cell ("meta-llama/Llama-2-70b-hf / -chat-hf (per
    framework)" -> "meta-llama/Llama-2-70b-hf")."""
    parts = text.split()
    return parts[0] if parts else ""


_LEADING_COUNT = re.compile(r"^\s*(\d+)\s*(?:\(.*\))?\s*$", re.DOTALL)


def leading_count(text: str) -> int | None:
    """A count written with an optional note: "7 (prompt 'What is ...')" -> 7, "64" -> 64; None otherwise."""
    match = _LEADING_COUNT.match(text)
    return int(match.group(1)) if match and len(match.group(1)) <= 30 else None
