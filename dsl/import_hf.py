"""`perfdsl import-hf` (a front end of its own): a Hugging Face config.json -> the text of a .perf model block.

The config is read as plain JSON: no transformers, no network, so it works on the plain install (`make run`) and
takes milliseconds. Where a config leaves a key out, the value is the default of transformers' config class for
that model_type (the `default` of each reading below, e.g. num_key_value_heads = num_attention_heads for Llama, 8
for Mistral: KV_HEADS_DEFAULT), and the cell's comment says so (`# num_key_value_heads absent: transformers'
default, num_attention_heads`). A value it cannot use is a bad-config error at its line:col in the file. The block
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

from .errors import Location, PerfError, UsageError, byte_position, error
from .json_spans import ObjectSpans, object_spans, place

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


_MISSING = object()


class Config:
    """One config.json: its keys, read with the defaults of transformers' config class. `text` is the file's text and
    `spans` where its keys are (json_spans.object_spans; None where unknown), so that a value import-hf refuses is
    located at line:col with the file's own text under the caret; `prefix` names the object read ("text_config."
    for a multimodal config's language model). `defaulted` maps each key read with a default to the words the
    block's comment gives for it (Config.cite)."""

    def __init__(self, data: dict, path: Path, text: str = "", spans: ObjectSpans | None = None, prefix: str = ""):
        self.data = data
        self.path = path
        self.text = text
        self.spans = spans
        self.prefix = prefix
        self.defaulted: dict[str, str] = {}

    def has(self, key: str) -> bool:
        """Whether the config sets `key` to a value other than null."""
        return self.data.get(key) is not None

    def get(self, key: str, default=None):
        """The value of `key`, or `default` where the config leaves it out or sets it to null."""
        value = self.data.get(key)
        return default if value is None else value

    def int(self, key: str, default=_MISSING, said: str | None = None, *, at_least: int = 1, null=_MISSING,
            null_said: str | None = None) -> int:
        """The value of `key` as a whole number of at least `at_least` (1 for a count: layers, heads, experts; 0 where
        0 means none). Where the config leaves the key out, `default` (transformers' default; `said` is how the
        block's comment names it, by default "transformers' default, <default>"); where it sets it to null, `null`
        (`null_said` naming it) if given, else `default` likewise. Raises PerfError (bad-config, exit 1), located at the value in the file
        (or at its object where the key is missing), where there is no value and no default, where the value is not
        a whole number (a boolean, a string, 2.5, Infinity, NaN), or where it is below `at_least`."""
        value = self.data.get(key)
        if value is None:
            fallback = self._fallback(key, default, said, null, null_said)
            if fallback is _MISSING and key in self.data:
                raise PerfError(self._error(key, f"'{self.prefix}{key}' in '{self.path}' is null, not a whole number"))
            if fallback is _MISSING:
                raise PerfError(self._error(key, f"'{self.path}' has no '{self.prefix}{key}', which a "
                                                 f"{self.get('model_type')} model needs",
                                            hints=[f"add \"{key}\" as the checkpoint's config.json gives it"]))
            return fallback
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or value != int(value):
            raise PerfError(self._error(key, f"'{self.prefix}{key}' in '{self.path}' is {self.json_text(key)}, "
                                             "not a whole number",
                                        hints=["config.json gives counts as JSON whole numbers: 4096, not \"4096\", "
                                               "4096.5 or true"]))
        if value < at_least:
            raise PerfError(self._error(
                key, f"'{self.prefix}{key}' in '{self.path}' is {self.json_text(key)}, not "
                     + ("a count of at least 1" if at_least == 1 else f"at least {at_least}"),
                hints=["import-hf writes nothing for a config it cannot read: give the value the checkpoint has"]))
        return int(value)

    def number(self, key: str, default, said: str | None = None, *, null=_MISSING, null_said: str | None = None) -> str:
        """The value of `key` (a finite number, at least 0) as .perf text, with `default`, `null` and the words for
        them as Config.int takes them. Raises PerfError (bad-config, exit 1) located at a value that is no such
        number."""
        value = self.data.get(key)
        if value is None:
            return _number(self._fallback(key, default, said, null, null_said))
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise PerfError(self._error(key, f"'{self.prefix}{key}' in '{self.path}' is {self.json_text(key)}, "
                                             "not a number of at least 0"))
        return _number(value)

    def _fallback(self, key: str, default, said: str | None, null, null_said: str | None):
        """The value used for `key` where the config leaves it out (`default`) or sets it to null (`null`, else
        `default`), noted in `defaulted` for the cell's comment; _MISSING where there is none."""
        if key in self.data and null is not _MISSING:
            value, words = null, null_said or _number(null)
        else:
            value, words = default, said or (f"transformers' default, {_number(default)}"
                                              if default is not _MISSING else "")
        if value is not _MISSING:
            self.defaulted[key] = f"{key} {'null' if key in self.data else 'absent'}: {words}"
        return value

    def cite(self, key: str, what: str = "") -> str:
        """The comment of a cell read from `key`: the key (and `what`, words on how it was read), or, where
        Config.int or Config.number filled it in, that the key is absent (or null) and what was used instead."""
        if key in self.defaulted:
            return self.defaulted[key]
        return f"{key} {what}" if what else key

    def json_text(self, key: str) -> str:
        """The value of `key` as the file writes it (`true`, `"44"`, `-44`), or as JSON writes it where the file's
        text is not at hand or runs over a line; cut to 60 characters."""
        span = self.spans.keys.get(key) if self.spans else None
        text = self.text[span.value_start:span.value_end] if span else ""
        if not text or "\n" in text:
            text = json.dumps(self.data.get(key), ensure_ascii=False)
        return text if len(text) <= 60 else text[:57] + "..."

    def _error(self, key: str, message: str, hints=(), code: str = "bad-config"):
        """A Diagnostic (by default bad-config) located at `key`'s value in the file, else at the `{` of the object that lacks
        it, else at the file."""
        span = self.spans.keys.get(key) if self.spans else None
        if span is not None:
            location, line = place(self.text, str(self.path), span.value_start, span.value_end)
        elif self.spans is not None:
            location, line = place(self.text, str(self.path), self.spans.start, self.spans.start + 1)
        else:
            location, line = Location(str(self.path)), None
        return error(code, message, location, source_line=line, hints=hints)

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
        return [("sliding_window", str(cfg.int("sliding_window")), "sliding_window")]   # null: no window
    return []


def _mixtral(cfg: Config) -> list[Cell]:
    return [("experts", str(cfg.int("num_local_experts", 8)), cfg.cite("num_local_experts")),
            ("top_k", str(cfg.int("num_experts_per_tok", 2)), cfg.cite("num_experts_per_tok"))] + _sliding_window(cfg)


def _qwen2(cfg: Config) -> list[Cell]:
    if cfg.get("use_sliding_window", False):
        raise cfg.unsupported("use_sliding_window = true (sliding layers from max_window_layers on)")
    return []


def _qwen3_moe(cfg: Config) -> list[Cell]:
    _qwen2(cfg)
    layers = cfg.int("num_hidden_layers")
    step = cfg.int("decoder_sparse_step", 1)
    dense_only = cfg.get("mlp_only_layers", [])
    if not isinstance(dense_only, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in dense_only):
        raise PerfError(cfg._error("mlp_only_layers", f"'{cfg.prefix}mlp_only_layers' in '{cfg.path}' is "
                                   f"{cfg.json_text('mlp_only_layers')}, not a list of layer numbers"))
    dense_only = set(dense_only)
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
    cells = [("sliding_window", str(cfg.int("sliding_window", 4096)), cfg.cite("sliding_window"))] + _window_layers(cfg)
    # Gemma2Config: 50.0 and 30.0 where the key is absent; null turns the capping off (0 in the library).
    cells.append(("attn_softcap", cfg.number("attn_logit_softcapping", 50, null=0, null_said="0, no capping"),
                  cfg.cite("attn_logit_softcapping")))
    cells.append(("logit_softcap", cfg.number("final_logit_softcapping", 30, null=0, null_said="0, no capping"),
                  cfg.cite("final_logit_softcapping")))
    return cells


def _gemma3(cfg: Config) -> list[Cell]:
    cells = [("sliding_window", str(cfg.int("sliding_window", 4096)), cfg.cite("sliding_window"))]
    if isinstance(cfg.get("layer_types"), list):
        return cells + _window_layers(cfg)
    return cells + [("sliding_window_pattern", str(cfg.int("sliding_window_pattern", 6)),
                     cfg.cite("sliding_window_pattern"))]


# DeepseekV2Config / DeepseekV3Config (transformers 5.24) where the key is absent: q_lora_rank 1536 for both;
# n_shared_experts 2 / 1; first_k_dense_replace 0 / 3. A null q_lora_rank (V2-Lite) is one q_proj, no compression.
_DEEPSEEK_DEFAULTS = {"deepseek_v2": {"n_shared_experts": 2, "first_k_dense_replace": 0},
                      "deepseek_v3": {"n_shared_experts": 1, "first_k_dense_replace": 3}}


def _deepseek(cfg: Config) -> list[Cell]:
    if cfg.int("moe_layer_freq", 1) != 1:
        raise cfg.unsupported(f"moe_layer_freq = {cfg.json_text('moe_layer_freq')} (an MoE layer every few layers)")
    defaults = _DEEPSEEK_DEFAULTS[cfg.get("model_type")]
    cells = [("q_lora_rank", str(cfg.int("q_lora_rank", 1536, at_least=0, null=0, null_said="0, one q_proj")),
              "q_lora_rank"),
             ("kv_lora_rank", str(cfg.int("kv_lora_rank")), "kv_lora_rank"),
             ("qk_rope_dim", str(cfg.int("qk_rope_head_dim")), "qk_rope_head_dim"),
             ("qk_nope_dim", str(cfg.int("qk_nope_head_dim")), "qk_nope_head_dim"),
             ("v_head_dim", str(cfg.int("v_head_dim")), "v_head_dim"),
             ("first_dense_layers", str(cfg.int("first_k_dense_replace", defaults["first_k_dense_replace"],
                                                at_least=0)), "first_k_dense_replace"),
             ("dense_ffn", str(cfg.int("intermediate_size")), "intermediate_size"),
             ("ffn", str(cfg.int("moe_intermediate_size")), "moe_intermediate_size"),
             ("experts", str(cfg.int("n_routed_experts")), "n_routed_experts"),
             ("shared_experts", str(cfg.int("n_shared_experts", defaults["n_shared_experts"], at_least=0, null=0,
                                            null_said="0, no shared expert")), "n_shared_experts"),
             ("top_k", str(cfg.int("num_experts_per_tok")), "num_experts_per_tok")]
    return [(cell, value, cfg.cite(key)) for cell, value, key in cells]


def _gpt_oss(cfg: Config) -> list[Cell]:
    # gpt-oss's own config.json names top_k experts_per_token; GptOssConfig's key is num_experts_per_tok (4).
    if not cfg.has("num_experts_per_tok") and cfg.has("experts_per_token"):
        top_k = ("top_k", str(cfg.int("experts_per_token")), "experts_per_token")
    else:
        top_k = ("top_k", str(cfg.int("num_experts_per_tok", 4)), cfg.cite("num_experts_per_tok"))
    return [("experts", str(cfg.int("num_local_experts")), "num_local_experts"), top_k,
            ("sliding_window", str(cfg.int("sliding_window", 128)), cfg.cite("sliding_window"))] + _window_layers(cfg)


def _llama4(cfg: Config) -> list[Cell]:
    layers = cfg.int("num_hidden_layers")
    cells = [("dense_ffn", str(cfg.int("intermediate_size_mlp")), "intermediate_size_mlp"),
             ("experts", str(cfg.int("num_local_experts")), "num_local_experts"),
             ("top_k", str(cfg.int("num_experts_per_tok", 1)), cfg.cite("num_experts_per_tok")),
             ("attention_chunk", str(cfg.int("attention_chunk_size", 8192)), cfg.cite("attention_chunk_size"))]
    if isinstance(cfg.get("moe_layers"), list):
        cells.append(("moe_layers", str(len(cfg.get("moe_layers"))), "moe_layers"))
    else:
        cells.append(("moe_layer_step", str(cfg.int("interleave_moe_layer_step", 1)),
                      cfg.cite("interleave_moe_layer_step")))
    if isinstance(cfg.get("no_rope_layers"), list) and cfg.get("no_rope_layers"):
        rope_layers = sum(1 for flag in cfg.get("no_rope_layers") if flag)     # 1: rotary and chunked attention
        cells.append(("window_layers", str(rope_layers), "no_rope_layers (1: a chunked layer)"))
    else:
        interval = cfg.int("no_rope_layer_interval", 4)
        cells.append(("window_layers", str(layers - layers // interval), cfg.cite("no_rope_layer_interval")))
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
# num_key_value_heads where a config leaves it out: transformers' default of the family's config class (5.24,
# measured by constructing each with 6 heads), where that is not num_attention_heads (LlamaConfig, Phi3Config,
# DeepseekV2Config). A null is num_attention_heads in every family (grouped-query attention off).
KV_HEADS_DEFAULT = {"mistral": 8, "mixtral": 8, "qwen2": 32, "qwen3": 32, "qwen3_moe": 4, "gemma2": 4,
                    "gemma3_text": 4, "gpt_oss": 8, "llama4_text": 8, "deepseek_v3": 128}
# Families whose attention width is not head_dim (latent attention: qk and v head widths of their own).
NO_HEAD_DIM = {"deepseek_v2", "deepseek_v3"}


def supported_architectures() -> list[str]:
    """The model_type values import-hf reads, sorted: the families and the multimodal configs whose text_config is one
    of them."""
    return sorted(set(FAMILIES) | set(TEXT_CONFIG_OF))


# The first line of what import_hf writes: `import-hf -o` replaces only a file that starts with it (cli.py).
IMPORTED_BY = "# Imported by `perfdsl import-hf`"


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
    text = _read_text(config_file)
    raw = _read_json(config_file, text)
    spans, prefix = object_spans(text), ""
    model_type = raw.get("model_type") if isinstance(raw.get("model_type"), str) else None
    if model_type in TEXT_CONFIG_OF and isinstance(raw.get("text_config"), dict):
        inner = dict(raw["text_config"])
        inner.setdefault("model_type", TEXT_CONFIG_OF[model_type])
        inner.setdefault("_name_or_path", raw.get("_name_or_path"))
        raw, model_type = inner, TEXT_CONFIG_OF[model_type]
        spans, prefix = spans.inner.get("text_config") if spans else None, "text_config."
    cfg = Config(raw, config_file, text, spans, prefix)
    if model_type not in FAMILIES:
        hints = [f"supported architectures: {', '.join(supported_architectures())}",
                 "a new architecture needs a family block in models/ (see models/README.md)"]
        if "model_type" not in raw:
            raise PerfError(cfg._error("model_type", f"'{config_file}' has no 'model_type', which names the "
                                       "architecture", hints=["add the checkpoint's \"model_type\" (transformers "
                                                               "reads the architecture from it)"] + hints[:1]))
        raise PerfError(cfg._error("model_type", f"model_type {cfg.json_text('model_type')} has no family in the "
                                   "model library", hints=hints, code="unsupported-architecture"))
    family = FAMILIES[model_type]
    if name is not None:
        _check_name(name)
    model_id = hf_id or _hf_id(raw, config_file)
    cells = _merge(_common_cells(model_type, family, cfg), family.reader(cfg))
    block_name = name or _default_name(model_id, family)
    _check_name(block_name)

    width = max(len(f"{cell} = {value}") for cell, value, _ in cells)
    lines = [
        f"{IMPORTED_BY} from {config_file}",
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
        kv_default = KV_HEADS_DEFAULT.get(model_type)
        kv_heads = cfg.int("num_key_value_heads", heads if kv_default is None else kv_default,
                           "transformers' default, num_attention_heads" if kv_default is None else None,
                           null=heads, null_said="num_attention_heads")
        if heads % kv_heads:        # the family's own `require`: refused here, where the value is, not at check
            raise PerfError(cfg._error("num_key_value_heads", f"'{cfg.prefix}num_key_value_heads' in "
                                       f"'{cfg.path}' is {kv_heads}, which does not divide "
                                       f"num_attention_heads ({heads})", hints=[
                                           "grouped-query attention shares each KV head among a whole number of "
                                           "query heads: give the value the checkpoint has"]))
        cells.append(("kv_heads", str(kv_heads), cfg.cite("num_key_value_heads")))
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


_JSON_HINT = "give a Hugging Face config.json (a JSON object with model_type, hidden_size, ...)"


def _read_text(config_file: Path) -> str:
    """The config's text: UTF-8, a byte order mark before it dropped (as a .perf file's is). Raises PerfError
    (bad-config) for a file that cannot be read, or that is not UTF-8, located at the first byte that is not."""
    try:
        data = config_file.read_bytes()
    except OSError as exc:
        raise PerfError(error("bad-config", f"cannot read '{config_file}': {exc.strerror or exc}",
                              Location(str(config_file)), hints=[_JSON_HINT])) from None
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line, col, text = byte_position(data, exc.start)
        raise PerfError(error("bad-config", f"'{config_file}' is not UTF-8 text: cannot read byte {exc.start} "
                              f"(0x{data[exc.start]:02x})", Location(str(config_file), line, col, col + 1),
                              source_line=text, hints=["save the config as UTF-8 (Hugging Face writes it so)"])) \
            from None


def _read_json(config_file: Path, text: str) -> dict:
    hint = _JSON_HINT
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
