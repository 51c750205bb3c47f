"""`perfdsl import-hf` (a front end of its own): a Hugging Face config.json -> the text of a .perf model block.

The config is read as plain JSON: no transformers, no network, so it works on the plain install (`make run`) and
takes milliseconds. Where a config leaves a key out, the value is the default of transformers' config class for
that model_type (the `default` of each reading below, e.g. num_key_value_heads = num_attention_heads). The block
extends the family block of the bundled model library (models/<family>.perf) that matches the config's
model_type; its cells are the figures of the config plus the switches and layer groups where this config
departs from the family (models/README.md has the cell contract). Nothing here prints.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .errors import Location, PerfError, UsageError, error

Cell = tuple[str, str, str]           # (cell, value text, the config key it comes from)


@dataclass(frozen=True)
class Family:
    """A model family of the bundled library an imported config extends: its family block, the library file that defines
    it (an import path such as "models/qwen2.perf"), its default of tied_embeddings, and the reader of the cells a
    config of the family adds beyond the common ones."""

    block: str                        # the family block the imported model extends
    file: str                         # the library file that defines it (an import path)
    tied_default: bool                # the family's tied_embeddings (= transformers' default for the model_type)
    reader: Callable[["Config"], list[Cell]]   # the cells of one config beyond the common ones


class Config:
    """One config.json: its keys, read with the defaults of transformers' config class."""

    def __init__(self, data: dict, path: Path):
        self.data = data
        self.path = path

    def has(self, key: str) -> bool:
        """Whether the config sets `key` to a value other than null."""
        return self.data.get(key) is not None

    def get(self, key: str, default=None):
        """The value of `key`, or `default` where the config leaves it out or sets it to null."""
        value = self.data.get(key)
        return default if value is None else value

    def int(self, key: str, default: int | None = None) -> int:
        """The value of `key` as a whole number, or `default` where the config leaves it out. Raises PerfError
        (bad-config, exit 1) where there is neither, or where the value is not a whole number (a boolean, a string,
        2.5, Infinity, NaN)."""
        value = self.get(key, default)
        if value is None:
            raise PerfError(error("bad-config", f"'{self.path}' has no '{key}', which a {self.get('model_type')} "
                                  "model needs", Location(str(self.path))))
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or value != int(value):
            raise PerfError(error("bad-config", f"'{key}' in '{self.path}' is {value!r}, not a whole number",
                                  Location(str(self.path))))
        return int(value)

    def unsupported(self, what: str) -> PerfError:
        """The PerfError (unsupported-architecture, exit 1) to raise for a config that sets `what`, which the model
        library does not describe; the caller raises it."""
        return PerfError(error("unsupported-architecture", f"this config sets {what}, which the model library does "
                               "not describe", Location(str(self.path)),
                               hints=["extend the family block in models/ with a cell for it (see models/README.md)"]))


# ---- the readings of each family -------------------------------------------------------------------------

def _window_layers(cfg: Config, default_layers: int | None = None) -> list[Cell]:
    """window_layers from layer_types (sliding or chunked layers), where the config lists them."""
    types = cfg.get("layer_types")
    if isinstance(types, list):
        count = sum(1 for kind in types if kind in ("sliding_attention", "chunked_attention"))
        return [("window_layers", str(count), "layer_types (sliding_attention / chunked_attention)")]
    if default_layers is not None:
        return [("window_layers", str(default_layers), "every layer (sliding_window, no layer_types)")]
    return []


def _llama(cfg: Config) -> list[Cell]:
    cells = []
    if cfg.get("attention_bias", False):
        cells += [("qkv_bias", "true", "attention_bias"), ("out_bias", "true", "attention_bias")]
    if cfg.get("mlp_bias", False):
        cells.append(("mlp_bias", "true", "mlp_bias"))
    return cells


def _sliding_window(cfg: Config) -> list[Cell]:
    """Mistral, Mixtral, Phi-3: every layer slides where the config gives a window."""
    if cfg.has("sliding_window"):
        return [("sliding_window", str(cfg.int("sliding_window")), "sliding_window")]
    return []


def _mixtral(cfg: Config) -> list[Cell]:
    return [("experts", str(cfg.int("num_local_experts", 8)), "num_local_experts"),
            ("top_k", str(cfg.int("num_experts_per_tok", 2)), "num_experts_per_tok")] + _sliding_window(cfg)


def _qwen2(cfg: Config) -> list[Cell]:
    if cfg.get("use_sliding_window", False):
        raise cfg.unsupported("use_sliding_window = true (sliding layers from max_window_layers on)")
    return []


def _qwen3_moe(cfg: Config) -> list[Cell]:
    _qwen2(cfg)
    layers = cfg.int("num_hidden_layers")
    step = cfg.int("decoder_sparse_step", 1)
    dense_only = set(cfg.get("mlp_only_layers", []))
    # Qwen3MoeDecoderLayer: an MoE layer where (i + 1) % decoder_sparse_step == 0 and i is not in mlp_only_layers
    moe = sum(1 for i in range(layers) if i not in dense_only and (i + 1) % step == 0)
    cells = [("ffn", str(cfg.int("moe_intermediate_size")), "moe_intermediate_size"),
             ("experts", str(cfg.int("num_experts")), "num_experts"),
             ("top_k", str(cfg.int("num_experts_per_tok")), "num_experts_per_tok")]
    if moe != layers:
        cells += [("moe_layers", str(moe), "decoder_sparse_step / mlp_only_layers"),
                  ("dense_ffn", str(cfg.int("intermediate_size")), "intermediate_size")]
    return cells


def _gemma2(cfg: Config) -> list[Cell]:
    cells = [("sliding_window", str(cfg.int("sliding_window", 4096)), "sliding_window")] + _window_layers(cfg)
    cells.append(("attn_softcap", _number(cfg.get("attn_logit_softcapping", 0)), "attn_logit_softcapping"))
    cells.append(("logit_softcap", _number(cfg.get("final_logit_softcapping", 0)), "final_logit_softcapping"))
    return cells


def _gemma3(cfg: Config) -> list[Cell]:
    cells = [("sliding_window", str(cfg.int("sliding_window", 4096)), "sliding_window")]
    if isinstance(cfg.get("layer_types"), list):
        return cells + _window_layers(cfg)
    return cells + [("sliding_window_pattern", str(cfg.int("sliding_window_pattern", 6)), "sliding_window_pattern")]


def _deepseek(cfg: Config) -> list[Cell]:
    if cfg.int("moe_layer_freq", 1) != 1:
        raise cfg.unsupported(f"moe_layer_freq = {cfg.get('moe_layer_freq')} (an MoE layer every few layers)")
    return [("q_lora_rank", str(cfg.int("q_lora_rank", 0)), "q_lora_rank (null: 0, one q_proj)"),
            ("kv_lora_rank", str(cfg.int("kv_lora_rank")), "kv_lora_rank"),
            ("qk_rope_dim", str(cfg.int("qk_rope_head_dim")), "qk_rope_head_dim"),
            ("qk_nope_dim", str(cfg.int("qk_nope_head_dim")), "qk_nope_head_dim"),
            ("v_head_dim", str(cfg.int("v_head_dim")), "v_head_dim"),
            ("first_dense_layers", str(cfg.int("first_k_dense_replace", 0)), "first_k_dense_replace"),
            ("dense_ffn", str(cfg.int("intermediate_size")), "intermediate_size"),
            ("ffn", str(cfg.int("moe_intermediate_size")), "moe_intermediate_size"),
            ("experts", str(cfg.int("n_routed_experts")), "n_routed_experts"),
            ("shared_experts", str(cfg.int("n_shared_experts", 0)), "n_shared_experts"),
            ("top_k", str(cfg.int("num_experts_per_tok")), "num_experts_per_tok")]


def _gpt_oss(cfg: Config) -> list[Cell]:
    return [("experts", str(cfg.int("num_local_experts")), "num_local_experts"),
            ("top_k", str(cfg.int("num_experts_per_tok", cfg.get("experts_per_token"))), "num_experts_per_tok"),
            ("sliding_window", str(cfg.int("sliding_window", 128)), "sliding_window")] + _window_layers(cfg)


def _llama4(cfg: Config) -> list[Cell]:
    layers = cfg.int("num_hidden_layers")
    cells = [("dense_ffn", str(cfg.int("intermediate_size_mlp")), "intermediate_size_mlp"),
             ("experts", str(cfg.int("num_local_experts")), "num_local_experts"),
             ("top_k", str(cfg.int("num_experts_per_tok", 1)), "num_experts_per_tok"),
             ("attention_chunk", str(cfg.int("attention_chunk_size", 8192)), "attention_chunk_size")]
    if isinstance(cfg.get("moe_layers"), list):
        cells.append(("moe_layers", str(len(cfg.get("moe_layers"))), "moe_layers"))
    else:
        cells.append(("moe_layer_step", str(cfg.int("interleave_moe_layer_step", 1)), "interleave_moe_layer_step"))
    if isinstance(cfg.get("no_rope_layers"), list) and cfg.get("no_rope_layers"):
        rope_layers = sum(1 for flag in cfg.get("no_rope_layers") if flag)     # 1: rotary and chunked attention
        cells.append(("window_layers", str(rope_layers), "no_rope_layers (1: a chunked layer)"))
    else:
        interval = cfg.int("no_rope_layer_interval", 4)
        cells.append(("window_layers", str(layers - layers // interval), "no_rope_layer_interval"))
    return cells


def _opt(cfg: Config) -> list[Cell]:
    hidden = cfg.int("hidden_size")
    cells = [("ffn", str(cfg.int("ffn_dim")), "ffn_dim")]
    if cfg.int("word_embed_proj_dim", hidden) != hidden:
        cells.append(("embed_dim", str(cfg.int("word_embed_proj_dim")), "word_embed_proj_dim"))
    if not cfg.get("do_layer_norm_before", True) or cfg.get("_remove_final_layer_norm", False):
        cells.append(("final_norm", "false", "do_layer_norm_before / _remove_final_layer_norm"))
    if not cfg.get("enable_bias", True):
        cells += [(cell, "false", "enable_bias") for cell in ("qkv_bias", "out_bias", "mlp_bias")]
    if not cfg.get("layer_norm_elementwise_affine", True):
        raise cfg.unsupported("layer_norm_elementwise_affine = false (layer norms without parameters)")
    return cells


def _gpt2(cfg: Config) -> list[Cell]:
    return [("ffn", str(cfg.int("n_inner")), "n_inner")] if cfg.has("n_inner") else []


FAMILIES: dict[str, Family] = {
    "deepseek_v2": Family("deepseek_v2_family", "models/deepseek.perf", False, _deepseek),
    "deepseek_v3": Family("deepseek_v3_family", "models/deepseek.perf", False, _deepseek),
    "gemma2": Family("gemma2_family", "models/gemma.perf", True, _gemma2),
    "gemma3_text": Family("gemma3_family", "models/gemma.perf", True, _gemma3),
    "gpt2": Family("gpt2_family", "models/gpt2.perf", True, _gpt2),
    "gptj": Family("gptj_family", "models/gptj.perf", False, _gpt2),
    "gpt_oss": Family("gpt_oss_family", "models/gpt_oss.perf", False, _gpt_oss),
    "llama": Family("llama_family", "models/llama.perf", False, _llama),
    "llama4_text": Family("llama4_family", "models/llama4.perf", False, _llama4),
    "mistral": Family("mistral_family", "models/mistral.perf", False, _sliding_window),
    "mixtral": Family("mixtral_family", "models/mixtral.perf", False, _mixtral),
    "opt": Family("opt_family", "models/opt.perf", True, _opt),
    "phi3": Family("phi3_family", "models/phi3.perf", False, _sliding_window),
    "qwen2": Family("qwen2_family", "models/qwen2.perf", False, _qwen2),
    "qwen3": Family("qwen3_family", "models/qwen3.perf", False, _qwen2),
    "qwen3_moe": Family("qwen3_moe_family", "models/qwen3.perf", False, _qwen3_moe),
}
# Multimodal configs whose language model is one of the families above, under "text_config".
TEXT_CONFIG_OF = {"llama4": "llama4_text", "gemma3": "gemma3_text"}
# Families whose attention width is not head_dim (latent attention: qk and v head widths of their own).
NO_HEAD_DIM = {"deepseek_v2", "deepseek_v3"}


def supported_architectures() -> list[str]:
    """The model_type values import-hf reads, sorted: the families and the multimodal configs whose text_config is one
    of them."""
    return sorted(set(FAMILIES) | set(TEXT_CONFIG_OF))


def import_hf(path: str, name: str | None = None, hf_id: str | None = None) -> str:
    """The text of a .perf model block for the config.json at `path` (a file, or a model folder holding one).

    `hf_id` is the model id written in the block; by default the config's `_name_or_path` when it reads
    org/name, else the file name of a config saved as `org__name.json` (the naming of models/configs/), never
    a folder name. `name` is the block's name; by default it is made from the model id
    (`facebook/opt-1.3b` -> `opt_1_3b`), with `_hf` appended where that name is already a block of the family's
    library file. Raises UsageError for a missing path, a bad name or no model id, and PerfError (code
    `unsupported-architecture`, `bad-config`) for a model_type the library has no family for or a config it
    cannot read.
    """
    config_file = _config_file(path)
    raw = _read_json(config_file)
    model_type = str(raw.get("model_type", ""))
    if model_type in TEXT_CONFIG_OF and isinstance(raw.get("text_config"), dict):
        text = dict(raw["text_config"])
        text.setdefault("model_type", TEXT_CONFIG_OF[model_type])
        text.setdefault("_name_or_path", raw.get("_name_or_path"))
        raw, model_type = text, TEXT_CONFIG_OF[model_type]
    if model_type not in FAMILIES:
        raise PerfError(error(
            "unsupported-architecture",
            f"model_type '{model_type or '(none)'}' has no family in the model library",
            Location(str(config_file)),
            hints=[f"supported architectures: {', '.join(supported_architectures())}",
                   "a new architecture needs a family block in models/ (see models/README.md)"]))
    family = FAMILIES[model_type]
    if name is not None:
        _check_name(name)
    cfg = Config(raw, config_file)
    model_id = hf_id or _hf_id(raw, config_file)
    cells = _merge(_common_cells(model_type, family, cfg), family.reader(cfg))
    block_name = name or _default_name(model_id, family)
    _check_name(block_name)

    width = max(len(f"{cell} = {value}") for cell, value, _ in cells)
    lines = [
        f"# Imported by `perfdsl import-hf` from {config_file}",
        f"# (model_type \"{model_type}\"); the comments name the config keys.",
        f"import \"{family.file}\"",
        "",
        f"model {block_name} extends {family.block} {{",
        f"    hf_id = {_quote(model_id)}",
    ]
    for cell, value, key in cells:
        text = f"{cell} = {value}"
        lines.append(f"    {text.ljust(width)}   # {key}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _common_cells(model_type: str, family: Family, cfg: Config) -> list[Cell]:
    """The figures every model has, in the order of models/README.md."""
    if model_type in ("gpt2", "gptj"):              # GPT-2's key names (GPT-J keeps them)
        return [("hidden", str(cfg.int("n_embd")), "n_embd"), ("layers", str(cfg.int("n_layer")), "n_layer"),
                ("heads", str(cfg.int("n_head")), "n_head"), ("vocab", str(cfg.int("vocab_size")), "vocab_size"),
                ("max_pos", str(cfg.int("n_positions")), "n_positions")]
    hidden = cfg.int("hidden_size")
    heads = cfg.int("num_attention_heads")
    cells = [("hidden", str(hidden), "hidden_size"),
             ("layers", str(cfg.int("num_hidden_layers")), "num_hidden_layers"),
             ("heads", str(heads), "num_attention_heads")]
    if model_type != "opt":
        cells.append(("kv_heads", str(cfg.int("num_key_value_heads", heads)), "num_key_value_heads"))
        cells.append(("ffn", str(cfg.int("intermediate_size")), "intermediate_size"))
    cells.append(("vocab", str(cfg.int("vocab_size")), "vocab_size"))
    cells.append(("max_pos", str(cfg.int("max_position_embeddings")), "max_position_embeddings"))
    if cfg.has("head_dim") and model_type not in NO_HEAD_DIM:
        cells.append(("head_dim", str(cfg.int("head_dim")), "head_dim"))
    tied = bool(cfg.get("tie_word_embeddings", family.tied_default))
    if tied != family.tied_default:
        cells.append(("tied_embeddings", _bool(tied), "tie_word_embeddings"))
    return cells


def _check_name(block_name: str) -> None:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", block_name):
        raise UsageError(error("bad-name", f"'{block_name}' is not a block name",
                               hints=["a block name is letters, digits and '_', not starting with a digit"]))


def _merge(common: list[Cell], specific: list[Cell]) -> list[Cell]:
    """The common cells with a family's readings; a reading of the same cell replaces the common one in place
    (DeepSeek's and Qwen3 MoE's ffn is moe_intermediate_size, not intermediate_size)."""
    merged = {cell: (cell, value, key) for cell, value, key in common}
    for cell, value, key in specific:
        merged[cell] = (cell, value, key)
    return list(merged.values())


# ---- reading the config --------------------------------------------------------------------------------

def _config_file(path: str) -> Path:
    given = Path(path)
    if not given.exists():
        raise UsageError(error("no-such-file", f"cannot read '{path}': no such file or folder",
                               hints=["give a config.json or a local model folder that holds one"]))
    if given.is_dir():
        candidate = given / "config.json"
        if not candidate.is_file():
            raise UsageError(error("no-such-file", f"'{path}' is a folder without a config.json",
                                   hints=["give a config.json or a local model folder that holds one"]))
        return candidate
    return given


def _read_json(config_file: Path) -> dict:
    hint = "give a Hugging Face config.json (a JSON object with model_type, hidden_size, ...)"
    try:
        text = config_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PerfError(error("bad-config", f"cannot read '{config_file}': {getattr(exc, 'strerror', None) or exc}",
                              Location(str(config_file)), hints=[hint])) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        lines = text.splitlines()
        raise PerfError(error("bad-config", f"'{config_file}' is not valid JSON: {exc.msg}",
                              Location(str(config_file), exc.lineno, exc.colno, exc.colno + 1),
                              source_line=lines[exc.lineno - 1] if 0 < exc.lineno <= len(lines) else None,
                              hints=[hint])) from None
    except RecursionError:
        raise PerfError(error("bad-config", f"'{config_file}' nests JSON too deeply to read",
                              Location(str(config_file)), hints=[hint])) from None
    if not isinstance(data, dict):
        raise PerfError(error("bad-config", f"'{config_file}' holds a JSON {type(data).__name__}, not an object",
                              Location(str(config_file)), hints=[hint]))
    return data


def _hf_id(raw: dict, config_file: Path) -> str:
    """The model id: `_name_or_path` when it reads org/name, else the file name `org__name.json`."""
    named = str(raw.get("_name_or_path") or "")
    if re.fullmatch(r"[\w.-]+/[\w.-]+", named):
        return named
    if config_file.name != "config.json" and re.fullmatch(r"[\w.-]+__[\w.-]+", config_file.stem):
        return config_file.stem.replace("__", "/", 1)
    raise UsageError(error("no-model-id", f"'{config_file}' does not say which model it is: no '_name_or_path' "
                           "of the form org/name", hints=["give the model id: --hf-id ORG/NAME"]))


def _default_name(hf_id: str, family: Family) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", hf_id.split("/")[-1].lower()).strip("_") or "model"
    if base[0].isdigit():
        base = "m_" + base
    if base in _library_blocks(family.file):
        base += "_hf"
    return base


def _library_blocks(import_path: str) -> set[str]:
    """Block names of a bundled library file (read with a pattern: parsing is not needed to list them)."""
    from .library import library_root

    file = library_root() / import_path
    if not file.is_file():
        return set()
    return set(re.findall(r"^\s*model\s+([A-Za-z_][A-Za-z0-9_]*)", file.read_text(), flags=re.MULTILINE))


def _number(value) -> str:
    number = float(value)
    return str(int(number)) if math.isfinite(number) and number == int(number) else repr(number)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
