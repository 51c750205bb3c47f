"""Reference figures from the real implementations: what `transformers` builds from a shipped config.json.

Every model is built on the meta device (`with torch.device("meta")`), so no weights are allocated or read and
nothing is downloaded: the shapes, the parameter count, the matmul FLOPs that
`torch.utils.flop_counter.FlopCounterMode` counts for a forward pass, and the KV cache a forward returns are all
known without computing a single value.

What FlopCounterMode counts, and so what the formulas in models/*.perf must match:
  - every `nn.Linear` (aten.mm / aten.addmm; GPT-2's Conv1D is aten.addmm): 2 FLOP per multiply-accumulate,
    biases not counted. The LM head is a matmul even when it is tied to the token embedding; the embedding
    look-ups are not matmuls.
  - `scaled_dot_product_attention`: on the meta device (as on CPU) it runs the math kernel, two aten.bmm
    (q.k^T and weights.v) over every query head, counted in full: 4 * batch * heads * seq^2 * head_dim per
    layer, although the mask is causal. (On CUDA the flash / memory-efficient kernels are counted with the same
    full, non-causal formula by torch's registered sdpa formulas.) Grouped-query attention repeats k and v to
    the query heads first, so the count is over query heads.
  - mixture-of-experts: transformers' default ("eager") experts loop only runs the experts that some token was
    routed to, found with `nonzero()`, which on the meta device finds none, so no expert is counted. Building
    with `experts_implementation="batched_mm"` runs every (token, chosen expert) pair as a batched matmul, which
    counts exactly top_k experts per token, the router included.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "models" / "configs"


def config_path(hf_id: str) -> Path:
    """The shipped config.json of a Hugging Face model id: models/configs/<org>__<name>.json."""
    return CONFIGS / (hf_id.replace("/", "__") + ".json")


def shipped_configs() -> list[Path]:
    return sorted(CONFIGS.glob("*.json"))


@lru_cache(maxsize=None)
def load_config(hf_id: str):
    from transformers import AutoConfig

    path = config_path(hf_id)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return AutoConfig.from_pretrained(str(path))


def build_meta_model(hf_id: str, dtype=None):
    """AutoModelForCausalLM.from_config on the meta device, in eval mode (dtype: the parameters' dtype)."""
    import torch
    from transformers import AutoModelForCausalLM

    config = load_config(hf_id)
    kwargs = {}
    if dtype is not None:
        kwargs["dtype"] = dtype
    if getattr(config, "num_local_experts", 1) > 1 or getattr(config, "num_experts", 1) > 1:
        kwargs["experts_implementation"] = "batched_mm"   # see the module docstring
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(config, **kwargs)
    return model.eval()


def count_params(model) -> int:
    """sum(p.numel()) over the model's parameters; `parameters()` yields a tied weight once."""
    return sum(p.numel() for p in model.parameters())


@dataclass
class ForwardCounts:
    flops: int                        # every FLOP FlopCounterMode counted
    by_op: dict[str, int]             # per aten op
    kv_bytes: int                     # bytes of the keys and values the forward returned in its cache
    kv_layers: int                    # layers of that cache


def forward_counts(model, batch: int, seq: int) -> ForwardCounts:
    """One forward over (batch, seq) token ids on the meta device with use_cache=True."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    ids = torch.zeros((batch, seq), dtype=torch.long, device="meta")
    counter = FlopCounterMode(display=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with counter, torch.no_grad():
            out = model(input_ids=ids, use_cache=True)
    by_op = {str(op): int(n) for op, n in counter.get_flop_counts()["Global"].items()}
    cache = getattr(out, "past_key_values", None)
    kv_bytes, kv_layers = cache_bytes(cache)
    return ForwardCounts(int(counter.get_total_flops()), by_op, kv_bytes, kv_layers)


def cache_bytes(cache) -> tuple[int, int]:
    """Bytes held by a transformers cache (DynamicCache: one layer object with .keys and .values per layer)."""
    if cache is None:
        return 0, 0
    layers = getattr(cache, "layers", None)
    if layers is not None:
        pairs = [(layer.keys, layer.values) for layer in layers]
    else:                             # legacy tuple of (key, value) per layer
        pairs = [tuple(entry[:2]) for entry in cache]
    total = 0
    for pair in pairs:
        for tensor in pair:
            if tensor is not None:
                total += tensor.numel() * tensor.element_size()
    return total, len(pairs)


def describe(hf_id: str) -> str:
    data = json.loads(config_path(hf_id).read_text())
    return f"{hf_id} ({config_path(hf_id).relative_to(REPO)}: model_type {data.get('model_type')})"
