"""Validation: the model library (models/*.perf) against the real implementations in `transformers`.

For every model of the library, the same model is built by `AutoModelForCausalLM.from_config` from the
config.json shipped in models/configs/, on the meta device (no weights, no download), and:
  - the `.perf` cell `params` equals sum(p.numel()) exactly;
  - the forward FLOPs of tests/validation/validation.perf (from the cells `matmul_flops_per_token_linear` and
    `attn_flops_per_token_per_ctx`) equal what torch's FlopCounterMode counts, within 0.5%, at three
    (batch, seq) shapes;
  - the KV cache the forward returns (use_cache=True) holds `kv_elems_per_token` * batch * seq elements of the
    model's dtype.
hf_reference.py says what FlopCounterMode counts and why. The tests that need torch and transformers skip,
saying so, where they are not installed (`pip install -e '.[validation]'`); the others always run.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest

import hf_reference as ref
import perfdsl
from perfdsl.errors import PerfError

pytestmark = pytest.mark.validation

HERE = Path(__file__).resolve().parent
VALIDATION_PERF = HERE / "validation.perf"
FLOPS_RTOL = 0.005
VALIDATION_REPORTS = ("validation", "validation_recent")   # the bundled models at three shapes, the recent ones at one
HF_IDS = [path.stem.replace("__", "/", 1) for path in ref.shipped_configs()]

# Published FlopCounterMode figures, batch 8 x sequence 2048 (../shared/reference/models.md), as printed there
# (4 or 5 significant digits); the same fixture serves tests/test_costmodel.py.
SEED_FLOPS = json.loads((HERE.parent / "fixtures" / "published_flop_counter_mode.json").read_text())["flops"]


# ---- the library side -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def program():
    return perfdsl.load([VALIDATION_PERF])


@pytest.fixture(scope="module")
def library_models(program) -> dict[str, str]:
    """hf_id -> name of the library block that carries it (every model block with an hf_id of its own)."""
    found: dict[str, str] = {}
    for name, block in program.blocks.items():
        if block.kind != "model":
            continue
        try:
            hf_id = program.value(f"{name}.hf_id")
        except PerfError:
            continue                  # a family block: no hf_id
        assert hf_id not in found, f"{hf_id} is the hf_id of both {found[hf_id]} and {name}"
        found[hf_id] = name
    return found


@pytest.fixture(scope="module")
def formula_points(program) -> dict[str, list[dict]]:
    """Reports `validation` and `validation_recent`: block name -> its points (batch, seq, params, flops,
    kv_cache_elems in SI)."""
    points: dict[str, list[dict]] = {}
    for report in VALIDATION_REPORTS:
        result = program.evaluate(report)
        columns = {name: result.column(name) for name in ("params", "flops", "kv_cache_elems")}
        for i, record in enumerate(result.records()):
            point = {"batch": int(record["batch"]), "seq": int(record["seq"])}
            point.update({name: float(values[i]) for name, values in columns.items()})
            points.setdefault(str(record["model"]), []).append(point)
    return points


def block_of(library_models: dict[str, str], hf_id: str) -> str:
    if hf_id not in library_models:
        pytest.fail(f"models/configs/{ref.config_path(hf_id).name} is shipped, but no model in models/*.perf has "
                    f"hf_id = \"{hf_id}\"; library models: {', '.join(sorted(library_models.values()))}")
    return library_models[hf_id]


def test_every_library_model_has_a_shipped_config(library_models):
    missing = sorted(f"{name} (hf_id \"{hf_id}\" -> models/configs/{ref.config_path(hf_id).name})"
                     for hf_id, name in library_models.items() if not ref.config_path(hf_id).is_file())
    assert not missing, "library models without a config.json in models/configs/: " + "; ".join(missing)


def test_every_shipped_config_names_its_source():
    for path in ref.shipped_configs():
        data = json.loads(path.read_text())
        assert data.get("_source"), f"{path.relative_to(ref.REPO)}: no \"_source\" key saying where it came from"
        assert data.get("model_type"), f"{path.relative_to(ref.REPO)}: no \"model_type\""


@pytest.mark.parametrize("hf_id", HF_IDS)
def test_config_figures_match_library_cells(program, library_models, hf_id):
    """The block's figures are the config's (read without transformers: the raw JSON keys)."""
    name = block_of(library_models, hf_id)
    data = json.loads(ref.config_path(hf_id).read_text())
    get = lambda *keys: next(data[k] for k in keys if data.get(k) is not None)  # noqa: E731
    expected = {
        "arch": data["model_type"],
        "hidden": get("hidden_size", "n_embd"),
        "layers": get("num_hidden_layers", "n_layer"),
        "heads": get("num_attention_heads", "n_head"),
        "vocab": data["vocab_size"],
        "max_pos": get("max_position_embeddings", "n_positions"),
        "kv_heads": data.get("num_key_value_heads") or get("num_attention_heads", "n_head"),
        "experts": data.get("num_local_experts") or data.get("num_experts") or data.get("n_routed_experts") or 1,
        "top_k": data.get("num_experts_per_tok") or 1,
    }
    if data["model_type"] not in ("gpt2", "gptj"):     # n_inner null: 4 x n_embd
        # ffn is the routed expert's width where the config gives the experts' own (Qwen3 MoE, DeepSeek)
        expected["ffn"] = get("moe_intermediate_size", "intermediate_size", "ffn_dim")
    if data.get("head_dim") and data.get("model_type") not in ("deepseek_v2", "deepseek_v3"):
        expected["head_dim"] = data["head_dim"]
    diffs = [f"{cell}: library {program.value(f'{name}.{cell}')!r}, config {value!r}"
             for cell, value in expected.items() if program.value(f"{name}.{cell}") != value]
    assert not diffs, f"{name} vs models/configs/{ref.config_path(hf_id).name}:\n  " + "\n  ".join(diffs)


def test_seed_benchmark_flops_match_published_figures(program):
    result = program.evaluate("seed_flops")
    flops = result.column("flops")
    rows = []
    for i, record in enumerate(result.records()):
        name = str(record["model"])
        published = SEED_FLOPS[name]
        rel = abs(flops[i] - published) / published
        if rel > 5e-4:                # the published figures carry 4 significant digits
            rows.append(f"{name}: formula {flops[i]:.5e}, published {published:.5e} ({rel:.3%})")
    assert not rows, "models.md FlopCounterMode figures (batch 8 x seq 2048):\n  " + "\n  ".join(rows)


# ---- the transformers side ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def torch():
    torch = pytest.importorskip("torch", reason="torch is not installed (pip install -e '.[validation]')")
    pytest.importorskip("transformers", reason="transformers is not installed (pip install -e '.[validation]')")
    return torch


@lru_cache(maxsize=None)
def reference(hf_id: str, shapes: tuple[tuple[int, int], ...]) -> dict:
    """Params and per-shape forward counts of the model transformers builds (built once per model)."""
    import torch

    model = ref.build_meta_model(hf_id, dtype=torch.bfloat16)
    counts = {shape: ref.forward_counts(model, *shape) for shape in shapes}
    return {"params": ref.count_params(model), "counts": counts, "elem_bytes": torch.bfloat16.itemsize}


def reference_for(formula_points, library_models, hf_id):
    name = block_of(library_models, hf_id)
    points = formula_points.get(name)
    if not points:
        pytest.fail(f"{name} is not swept by report `validation` or `validation_recent` in "
                    f"{VALIDATION_PERF.relative_to(ref.REPO)}")
    shapes = tuple(sorted({(p["batch"], p["seq"]) for p in points}))
    return name, points, reference(hf_id, shapes)


@pytest.mark.parametrize("hf_id", HF_IDS)
def test_params_equal_transformers(torch, program, library_models, formula_points, hf_id):
    name, points, real = reference_for(formula_points, library_models, hf_id)
    formula = program.value(f"{name}.params")
    assert formula == real["params"], (
        f"{name}.params = {formula:,.0f}, but AutoModelForCausalLM.from_config({ref.describe(hf_id)}) has "
        f"{real['params']:,} parameters ({formula - real['params']:+,.0f})")
    assert all(p["params"] == real["params"] for p in points)


@pytest.mark.parametrize("hf_id", HF_IDS)
def test_prefill_flops_match_flop_counter(torch, library_models, formula_points, hf_id):
    name, points, real = reference_for(formula_points, library_models, hf_id)
    rows, worst = [], 0.0
    for p in points:
        counted = real["counts"][(p["batch"], p["seq"])]
        rel = abs(p["flops"] - counted.flops) / counted.flops
        worst = max(worst, rel)
        rows.append(f"batch {p['batch']} seq {p['seq']}: formula {p['flops']:.6e}, FlopCounterMode "
                    f"{counted.flops:.6e} ({rel:+.4%}) {counted.by_op}")
    assert worst <= FLOPS_RTOL, (f"{name} ({ref.describe(hf_id)}): forward FLOPs off by more than "
                                 f"{FLOPS_RTOL:.1%}:\n  " + "\n  ".join(rows))


@pytest.mark.parametrize("hf_id", HF_IDS)
def test_kv_cache_bytes_match(torch, library_models, formula_points, hf_id):
    name, points, real = reference_for(formula_points, library_models, hf_id)
    for p in points:
        counted = real["counts"][(p["batch"], p["seq"])]
        expected = p["kv_cache_elems"] * real["elem_bytes"]
        assert counted.kv_bytes == expected, (
            f"{name}: kv_elems_per_token * batch {p['batch']} * seq {p['seq']} * {real['elem_bytes']} byte = "
            f"{expected:,.0f} byte, but the cache the bfloat16 forward returned holds {counted.kv_bytes:,} byte "
            f"over {counted.kv_layers} layers")
