"""`perfdsl import-hf` (a front end of its own): a Hugging Face config.json -> the text of a .perf model block.

The config is read through `transformers.AutoConfig.from_pretrained` on a local file or folder, offline
(HF_HUB_OFFLINE=1), so the figures are the ones transformers itself builds the model from (defaults filled in,
old key names mapped). transformers is imported inside `import_hf`: it is heavy and perfdsl does not need it to
start. The block extends the family block of the bundled model library (models/<family>.perf) that matches the
config's model_type; its cells are the family's inputs plus the switches where this config departs from the
family (see models/README.md for the cell contract). Nothing here prints.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import Location, PerfError, UsageError, error


@dataclass(frozen=True)
class Family:
    block: str                        # the family block the imported model extends
    file: str                         # the library file that defines it (an import path)
    tied_default: bool                # the family's tied_embeddings


FAMILIES: dict[str, Family] = {
    "gpt2": Family("gpt2_family", "models/gpt2.perf", True),
    "llama": Family("llama_family", "models/llama.perf", False),
    "mistral": Family("mistral_family", "models/mistral.perf", False),
    "mixtral": Family("mixtral_family", "models/mixtral.perf", False),
    "opt": Family("opt_family", "models/opt.perf", True),
    "qwen2": Family("qwen2_family", "models/qwen2.perf", False),
}


def supported_architectures() -> list[str]:
    return sorted(FAMILIES)


def import_hf(path: str, name: str | None = None) -> str:
    """The text of a .perf model block for the config.json at `path` (a file, or a model folder holding one).

    `name` is the block's name; by default it is made from the model id (`facebook/opt-1.3b` -> `opt_1_3b`),
    with `_hf` appended where that name is already a block of the family's library file.
    Raises UsageError for a missing path and PerfError (code `unsupported-architecture`) for a model_type the
    library has no family for.
    """
    config_file = _config_file(path)
    raw = _read_json(config_file)
    model_type = str(raw.get("model_type", ""))
    if model_type not in FAMILIES:
        raise PerfError(error(
            "unsupported-architecture",
            f"model_type '{model_type or '(none)'}' has no family in the model library",
            Location(str(config_file)),
            hints=[f"supported architectures: {', '.join(supported_architectures())}",
                   "a new architecture needs a family block in models/ (see models/README.md)"]))
    family = FAMILIES[model_type]

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoConfig   # heavy: imported only here

    config = AutoConfig.from_pretrained(str(config_file.parent if config_file.name == "config.json"
                                            else config_file))
    hf_id = _hf_id(raw, config_file)
    cells = _cells(model_type, family, config, config_file)
    block_name = name or _default_name(hf_id, family)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", block_name):
        raise UsageError(error("bad-name", f"'{block_name}' is not a block name",
                               hints=["a block name is letters, digits and '_', not starting with a digit"]))

    width = max(len(f"{cell} = {value}") for cell, value, _ in cells)
    lines = [
        f"# Imported by `perfdsl import-hf` from {config_file}",
        f"# (transformers AutoConfig, model_type \"{model_type}\"); the comments name the config keys.",
        f"import \"{family.file}\"",
        "",
        f"model {block_name} extends {family.block} {{",
        f"    hf_id = {_quote(hf_id)}",
    ]
    for cell, value, key in cells:
        text = f"{cell} = {value}"
        lines.append(f"    {text.ljust(width)}   # {key}")
    lines.append("}")
    return "\n".join(lines) + "\n"


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
    if not isinstance(data, dict):
        raise PerfError(error("bad-config", f"'{config_file}' holds a JSON {type(data).__name__}, not an object",
                              Location(str(config_file)), hints=[hint]))
    return data


def _hf_id(raw: dict, config_file: Path) -> str:
    """The model id: `_name_or_path` when it reads org/name, else the file name `org__name.json`, else the folder."""
    named = str(raw.get("_name_or_path") or "")
    if re.fullmatch(r"[\w.-]+/[\w.-]+", named):
        return named
    if config_file.name != "config.json" and "__" in config_file.stem:
        return config_file.stem.replace("__", "/", 1)
    if config_file.name == "config.json":
        return config_file.parent.resolve().name
    return config_file.stem


def _default_name(hf_id: str, family: Family) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", hf_id.split("/")[-1].lower()).strip("_") or "model"
    if base[0].isdigit():
        base = "m_" + base
    if base in _library_blocks(family.file):
        base += "_hf"
    return base


def _library_blocks(import_path: str) -> set[str]:
    from .library import library_root
    from .parser import parse_text

    file = library_root() / import_path
    if not file.is_file():
        return set()
    return {block.name for block in parse_text(file.read_text(), str(file)).blocks}


# ---- config -> cells -----------------------------------------------------------------------------------

def _cells(model_type: str, family: Family, config, config_file: Path) -> list[tuple[str, str, str]]:
    """(cell, value text, config key) for one config, in the order of models/README.md."""
    get = lambda key, default=None: getattr(config, key, default)  # noqa: E731
    hidden = int(config.hidden_size)
    heads = int(config.num_attention_heads)
    cells: list[tuple[str, str, str]] = [
        ("hidden", str(hidden), "hidden_size"),
        ("layers", str(int(config.num_hidden_layers)), "num_hidden_layers"),
        ("heads", str(heads), "num_attention_heads"),
    ]
    if model_type == "opt":
        cells.append(("ffn", str(int(config.ffn_dim)), "ffn_dim"))
    elif model_type == "gpt2":
        if get("n_inner") is not None:
            cells.append(("ffn", str(int(config.n_inner)), "n_inner"))
    else:
        kv_heads = get("num_key_value_heads") or heads
        cells.append(("kv_heads", str(int(kv_heads)), "num_key_value_heads"))
        cells.append(("ffn", str(int(config.intermediate_size)), "intermediate_size"))
    cells.append(("vocab", str(int(config.vocab_size)), "vocab_size"))
    cells.append(("max_pos", str(int(config.max_position_embeddings)), "max_position_embeddings"))

    head_dim = get("head_dim")
    if head_dim is not None and int(head_dim) * heads != hidden:
        cells.append(("head_dim", str(int(head_dim)), "head_dim"))

    tied = bool(get("tie_word_embeddings", family.tied_default))
    if tied != family.tied_default:
        cells.append(("tied_embeddings", _bool(tied), "tie_word_embeddings"))

    if model_type == "opt":
        if int(config.word_embed_proj_dim) != hidden:
            cells.append(("embed_dim", str(int(config.word_embed_proj_dim)), "word_embed_proj_dim"))
        if not config.do_layer_norm_before or get("_remove_final_layer_norm", False):
            cells.append(("final_norm", "false", "do_layer_norm_before / _remove_final_layer_norm"))
        if not get("enable_bias", True):
            for cell in ("qkv_bias", "out_bias", "mlp_bias"):
                cells.append((cell, "false", "enable_bias"))
        if not get("layer_norm_elementwise_affine", True):
            _unsupported(config_file, "layer_norm_elementwise_affine = false (layer norms without parameters)")
    if model_type == "llama":
        if get("attention_bias", False):
            cells += [("qkv_bias", "true", "attention_bias"), ("out_bias", "true", "attention_bias")]
        if get("mlp_bias", False):
            cells.append(("mlp_bias", "true", "mlp_bias"))
    if model_type == "mixtral":
        cells.append(("experts", str(int(config.num_local_experts)), "num_local_experts"))
        cells.append(("top_k", str(int(config.num_experts_per_tok)), "num_experts_per_tok"))
    window = get("sliding_window")
    uses_window = model_type in ("mistral", "mixtral") or (model_type == "qwen2" and get("use_sliding_window", False))
    if uses_window and window:
        cells.append(("sliding_window", str(int(window)), "sliding_window"))
    return cells


def _unsupported(config_file: Path, what: str) -> None:
    raise PerfError(error("unsupported-architecture", f"this config sets {what}, which the model library does "
                          "not describe", Location(str(config_file)),
                          hints=["extend the family block in models/ with a cell for it (see models/README.md)"]))


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
