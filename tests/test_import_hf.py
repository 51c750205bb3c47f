"""`perfdsl import-hf` (dsl/import_hf.py): a config.json -> a .perf model block.

Importing every config shipped in models/configs/ must give a block whose cells (the whole contract of
models/README.md, the layer groups and the attention variants included) equal those of the library block with
the same hf_id. The config is read as JSON: no transformers, which these tests check is never imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import perfdsl
from perfdsl.errors import PerfError, UsageError
from perfdsl.import_hf import import_hf, supported_architectures

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted((REPO / "models" / "configs").glob("*.json"))

# The cell contract of models/README.md, plus the cells the validation formulas use.
CONTRACT = [
    "hf_id", "arch", "hidden", "layers", "heads", "kv_heads", "head_dim", "ffn", "vocab", "max_pos", "experts",
    "top_k", "gated_mlp", "tied_embeddings", "learned_pos", "pos_rows", "norm_is_rms", "qkv_bias", "out_bias",
    "mlp_bias", "attn_params_per_layer", "mlp_params_per_layer", "router_params_per_layer",
    "norm_params_per_layer", "params_per_layer", "embed_params", "lm_head_params", "final_norm_params", "params",
    "active_params", "kv_elems_per_token", "embed_dim", "final_norm", "sliding_window",
    "matmul_flops_per_token_linear", "attn_flops_per_token_per_ctx",
    # layer groups and attention variants
    "window_layers", "global_layers", "kv_window", "moe_layers", "dense_layers", "dense_ffn", "shared_experts",
    "shared_ffn", "qk_head_dim", "v_head_dim", "qk_norm", "attn_sinks", "attn_softcap", "logit_softcap", "mla",
    "q_lora_rank", "kv_lora_rank", "qk_rope_dim", "norms_per_layer", "router_bias", "attention_chunk",
    "kv_elems_per_layer_token", "hf_matmul_flops_per_token",
]


def library_block(program, hf_id: str, exclude: str) -> str:
    for name, block in program.blocks.items():
        if block.kind != "model" or name == exclude:
            continue
        try:
            if program.value(f"{name}.hf_id") == hf_id:
                return name
        except PerfError:
            continue
    pytest.fail(f"no block of the model library has hf_id = \"{hf_id}\"")


@pytest.mark.parametrize("config", CONFIGS, ids=lambda path: path.stem)
def test_import_reproduces_library_block(tmp_path, config):
    text = import_hf(str(config), name="imported")
    perf = tmp_path / "imported.perf"
    perf.write_text(text)
    program = perfdsl.load([perf])
    hf_id = program.value("imported.hf_id")
    assert hf_id == config.stem.replace("__", "/", 1)
    library = library_block(program, hf_id, exclude="imported")
    diffs = []
    for cell in CONTRACT:
        got, want = program.value(f"imported.{cell}"), program.value(f"{library}.{cell}")
        if got != want:
            diffs.append(f"{cell}: imported {got!r}, library {library}.{cell} = {want!r}")
    assert not diffs, f"import-hf {config.relative_to(REPO)}:\n{text}\n  " + "\n  ".join(diffs)


def test_import_reads_a_model_folder(tmp_path):
    folder = tmp_path / "opt-1.3b"
    folder.mkdir()
    (folder / "config.json").write_text((REPO / "models/configs/facebook__opt-1.3b.json").read_text())
    text = import_hf(str(folder))
    assert 'hf_id = "facebook/opt-1.3b"' in text          # from _name_or_path
    assert "model opt_1_3b_hf extends opt_family {" in text  # opt_1_3b is taken by the library
    assert 'import "models/opt.perf"' in text
    assert str(folder / "config.json") in text


def test_import_block_name_and_cited_keys():
    text = import_hf(str(REPO / "models/configs/mistralai__Mixtral-8x7B-v0.1.json"))
    assert "model mixtral_8x7b_v0_1 extends mixtral_family {" in text
    lines = {line.split("#")[0].strip(): line.split("#")[1].strip() for line in text.splitlines()
             if "=" in line and "#" in line and not line.startswith("#")}
    assert lines["experts = 8"] == "num_local_experts"
    assert lines["top_k = 2"] == "num_experts_per_tok"
    assert lines["kv_heads = 8"] == "num_key_value_heads"


def test_unsupported_architecture_lists_the_supported_ones(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"model_type": "bert", "hidden_size": 768}))
    with pytest.raises(PerfError) as caught:
        import_hf(str(tmp_path))
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "unsupported-architecture"
    assert str(caught.value) == (
        "error[unsupported-architecture]: model_type \"bert\" has no family in the model library\n"
        f"  --> {config}:1:16\n"
        "  |\n"
        '1 | {"model_type": "bert", "hidden_size": 768}\n'
        "  |                ^^^^^^\n"
        "  = help: supported architectures: deepseek_v2, deepseek_v3, gemma2, gemma3, gemma3_text, gpt2, "
        "gpt_oss, gptj, llama, llama4, llama4_text, mistral, mixtral, opt, phi3, qwen2, qwen3, qwen3_moe\n"
        "  = help: a new architecture needs a family block in models/ (see models/README.md)")
    assert supported_architectures() == ["deepseek_v2", "deepseek_v3", "gemma2", "gemma3", "gemma3_text", "gpt2",
                                         "gpt_oss", "gptj", "llama", "llama4", "llama4_text", "mistral", "mixtral", "opt",
                                         "phi3", "qwen2", "qwen3", "qwen3_moe"]


def test_missing_path_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError) as caught:
        import_hf(str(tmp_path / "nowhere"))
    assert caught.value.diagnostics[0].code == "no-such-file"
    assert caught.value.exit_status == 2


def test_folder_without_config_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="without a config.json"):
        import_hf(str(tmp_path))


def test_transformers_is_not_loaded_at_start_up():
    code = ("import sys, perfdsl, perfdsl.import_hf; perfdsl.load; "
            "print('transformers' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_the_model_id_comes_from_the_config_or_the_flag_never_the_folder(tmp_path):
    folder = tmp_path / "llama3_2_1b"                   # a folder name that looks like a block name
    folder.mkdir()
    data = json.loads((REPO / "models/configs/meta-llama__Llama-3.2-1B.json").read_text())
    (folder / "config.json").write_text(json.dumps(data))
    assert 'hf_id = "meta-llama/Llama-3.2-1B"' in import_hf(str(folder))          # _name_or_path
    assert 'hf_id = "me/my-llama"' in import_hf(str(folder), hf_id="me/my-llama")  # the flag wins
    del data["_name_or_path"]
    (folder / "config.json").write_text(json.dumps(data))
    with pytest.raises(UsageError) as caught:
        import_hf(str(folder))
    assert str(caught.value) == (
        f"error[no-model-id]: '{folder / 'config.json'}' does not say which model it is: no '_name_or_path' of the "
        "form org/name\n"
        "  = help: give the model id: --hf-id ORG/NAME")
    assert caught.value.exit_status == 2


def test_a_multimodal_config_imports_its_language_model(tmp_path):
    text = json.loads((REPO / "models/configs/meta-llama__Llama-4-Scout-17B-16E.json").read_text())
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"model_type": "llama4", "_name_or_path": "meta-llama/Llama-4-Scout-17B-16E",
                                  "text_config": {k: v for k, v in text.items() if k != "_name_or_path"},
                                  "vision_config": {"model_type": "llama4_vision_model"}}))
    program_text = import_hf(str(config), name="scout")
    (tmp_path / "scout.perf").write_text(program_text)
    program = perfdsl.load([tmp_path / "scout.perf"])
    assert program.value("scout.params") == program.value("llama4_scout.params") == 107_769_861_120


def test_a_config_key_the_library_cannot_describe_is_refused(tmp_path):
    data = json.loads((REPO / "models/configs/deepseek-ai__DeepSeek-V2-Lite.json").read_text())
    data["moe_layer_freq"] = 2
    config = tmp_path / "config.json"
    config.write_text(json.dumps(data))
    with pytest.raises(PerfError) as caught:
        import_hf(str(config))
    assert str(caught.value).splitlines()[0] == (
        "error[unsupported-architecture]: this config sets moe_layer_freq = 2 (an MoE layer every few layers), "
        "which the model library does not describe")


def test_import_hf_runs_without_transformers_in_well_under_a_second(tmp_path):
    """The plain install (`make run`) has no transformers: import-hf reads the JSON itself."""
    # perfdsl's own start-up (the CLI module, the library lookup) is every command's and is measured apart.
    code = ("import sys, time; sys.modules['transformers'] = None; sys.modules['torch'] = None\n"
            "from perfdsl.cli import main\n"
            "import perfdsl.library\n"
            "start = time.perf_counter()\n"
            f"status = main(['import-hf', {str(REPO / 'models/configs/deepseek-ai__DeepSeek-V3.json')!r}, "
            f"'-o', {str(tmp_path / 'v3.perf')!r}])\n"
            "print(status, time.perf_counter() - start)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "0"
    assert float(out[1]) < 0.5, f"import-hf took {float(out[1]):.2f} s"
    assert "model deepseek_v3_hf extends deepseek_v3_family {" in (tmp_path / "v3.perf").read_text()


LLAMA = """{
  "_name_or_path": "me/big-llama",
  "model_type": "llama",
  "hidden_size": 6144,
  "num_hidden_layers": 44,
  "num_attention_heads": 48,
  "intermediate_size": 16384,
  "vocab_size": 32000,
  "max_position_embeddings": 8192
}
"""


def _refused(tmp_path, text: str) -> str:
    config = tmp_path / "config.json"
    config.write_text(text)
    with pytest.raises(PerfError) as caught:
        import_hf(str(config))
    assert caught.value.exit_status == 1
    return str(caught.value).replace(str(config), "config.json")


def test_a_defaulted_key_is_commented_as_absent_with_the_value_used(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(LLAMA)
    text = import_hf(str(config))
    # LlamaConfig: num_key_value_heads = num_attention_heads where the key is absent
    assert "    kv_heads = 48    # num_key_value_heads absent: transformers' default, num_attention_heads\n" in text
    assert "    heads = 48       # num_attention_heads\n" in text
    config.write_text(LLAMA.replace('"model_type": "llama"', '"model_type": "mistral"'))
    # MistralConfig's default is 8 kv heads, not num_attention_heads (transformers 5.24)
    assert "    kv_heads = 8     # num_key_value_heads absent: transformers' default, 8\n" in import_hf(str(config))
    config.write_text(LLAMA.replace('"model_type": "llama"', '"model_type": "mistral", "num_key_value_heads": null'))
    assert "    kv_heads = 48    # num_key_value_heads null: num_attention_heads\n" in import_hf(str(config))


def test_defaults_of_the_family_readings_are_commented_too(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(LLAMA.replace('"model_type": "llama"', '"model_type": "mixtral", "num_key_value_heads": 8'))
    text = import_hf(str(config))
    assert "    experts = 8      # num_local_experts absent: transformers' default, 8\n" in text
    assert "    top_k = 2        # num_experts_per_tok absent: transformers' default, 2\n" in text
    assert "    kv_heads = 8     # num_key_value_heads\n" in text
    config.write_text(LLAMA.replace('"model_type": "llama"', '"model_type": "gemma2", "num_key_value_heads": 8, '
                                    '"final_logit_softcapping": null'))
    text = import_hf(str(config))
    # Gemma2Config: 4096, 50.0 and 30.0 where absent; null turns a capping off
    assert "    sliding_window = 4096   # sliding_window absent: transformers' default, 4096\n" in text
    assert "    attn_softcap = 50       # attn_logit_softcapping absent: transformers' default, 50\n" in text
    assert "    logit_softcap = 0       # final_logit_softcapping null: 0, no capping\n" in text


def test_a_config_without_model_type_says_the_key_is_missing(tmp_path):
    assert _refused(tmp_path, LLAMA.replace('  "model_type": "llama",\n', "")) == (
        "error[bad-config]: 'config.json' has no 'model_type', which names the architecture\n"
        "  --> config.json:1:1\n"
        "  |\n"
        "1 | {\n"
        "  | ^\n"
        "  = help: add the checkpoint's \"model_type\" (transformers reads the architecture from it)\n"
        "  = help: supported architectures: deepseek_v2, deepseek_v3, gemma2, gemma3, gemma3_text, gpt2, "
        "gpt_oss, gptj, llama, llama4, llama4_text, mistral, mixtral, opt, phi3, qwen2, qwen3, qwen3_moe")


def test_a_value_that_is_no_whole_number_is_located_and_quoted_as_json_writes_it(tmp_path):
    assert _refused(tmp_path, LLAMA.replace('"hidden_size": 6144', '"hidden_size": true')) == (
        "error[bad-config]: 'hidden_size' in 'config.json' is true, not a whole number\n"
        "  --> config.json:4:18\n"
        "  |\n"
        '4 |   "hidden_size": true,\n'
        "  |                  ^^^^\n"
        '  = help: config.json gives counts as JSON whole numbers: 4096, not "4096", 4096.5 or true')
    assert _refused(tmp_path, LLAMA.replace('"num_hidden_layers": 44', '"num_hidden_layers": "44"')) == (
        "error[bad-config]: 'num_hidden_layers' in 'config.json' is \"44\", not a whole number\n"
        "  --> config.json:5:24\n"
        "  |\n"
        '5 |   "num_hidden_layers": "44",\n'
        "  |                        ^^^^\n"
        '  = help: config.json gives counts as JSON whole numbers: 4096, not "4096", 4096.5 or true')


@pytest.mark.parametrize("layers", ["-44", "0"])
def test_a_count_below_one_is_refused_at_the_value_and_nothing_is_written(tmp_path, layers, capsys):
    from perfdsl.cli import main

    config = tmp_path / "config.json"
    config.write_text(LLAMA.replace('"num_hidden_layers": 44', f'"num_hidden_layers": {layers}'))
    out = tmp_path / "out.perf"
    assert main(["import-hf", str(config), "-o", str(out)]) == 1
    assert not out.exists()
    assert capsys.readouterr().err.replace(str(config), "config.json") == (
        f"error[bad-config]: 'num_hidden_layers' in 'config.json' is {layers}, not a count of at least 1\n"
        "  --> config.json:5:24\n"
        "  |\n"
        f'5 |   "num_hidden_layers": {layers},\n'
        "  |                        " + "^" * len(layers) + "\n"
        "  = help: import-hf writes nothing for a config it cannot read: give the value the checkpoint has\n"
        "\n"
        "1 error\n")


def test_a_missing_key_and_a_text_config_value_are_located(tmp_path):
    assert _refused(tmp_path, LLAMA.replace('  "vocab_size": 32000,\n', "")).splitlines()[:2] == [
        "error[bad-config]: 'config.json' has no 'vocab_size', which a llama model needs",
        "  --> config.json:1:1"]
    scout = json.loads((REPO / "models/configs/meta-llama__Llama-4-Scout-17B-16E.json").read_text())
    scout["num_hidden_layers"] = 0
    text = json.dumps({"model_type": "llama4", "_name_or_path": "meta-llama/Llama-4-Scout-17B-16E",
                       "text_config": scout}, indent=1)
    line, row = next((i, row) for i, row in enumerate(text.splitlines(), start=1) if '"num_hidden_layers"' in row)
    assert _refused(tmp_path, text).splitlines()[:2] == [
        "error[bad-config]: 'text_config.num_hidden_layers' in 'config.json' is 0, not a count of at least 1",
        f"{' ' * len(str(line))} --> config.json:{line}:{row.index(': 0') + 3}"]


def test_bad_list_and_softcap_values_are_located_errors_not_tracebacks(tmp_path):
    qwen = json.loads((REPO / "models/configs/Qwen__Qwen3-30B-A3B.json").read_text())
    for key, value, words in [("decoder_sparse_step", 0, "0, not a count of at least 1"),
                              ("mlp_only_layers", 3, "3, not a list of layer numbers")]:
        assert _refused(tmp_path, json.dumps({**qwen, key: value})).splitlines()[0] == (
            f"error[bad-config]: '{key}' in 'config.json' is {words}")
    gemma = json.loads((REPO / "models/configs/google__gemma-2-2b.json").read_text())
    assert _refused(tmp_path, json.dumps({**gemma, "attn_logit_softcapping": "50"})).splitlines()[0] == (
        "error[bad-config]: 'attn_logit_softcapping' in 'config.json' is \"50\", not a number of at least 0")


def test_json_spans_locate_the_last_mention_of_a_key_and_inner_objects():
    from perfdsl.json_spans import object_spans, place

    text = '{"a": 1,\n "b": {"c": [1, 2]},\n "a": "x"}'
    spans = object_spans(text)
    # json.loads keeps the last "a": its value "x" is on line 3 from column 7 to 9 (end exclusive: 10)
    location, line = place(text, "f.json", spans.keys["a"].value_start, spans.keys["a"].value_end)
    assert (location.line, location.col, location.end_col, line) == (3, 7, 10, ' "a": "x"}')
    inner = spans.inner["b"].keys["c"]
    assert text[inner.value_start:inner.value_end] == "[1, 2]"
    assert object_spans("[1]") is None and object_spans("{}").keys == {}


def test_kv_heads_that_do_not_divide_the_heads_are_refused_at_the_value(tmp_path):
    # Written with exit 0 before, and the block then failed `check` (the family's require: heads a whole multiple
    # of kv_heads), away from the config.
    text = LLAMA.replace('"num_attention_heads": 48,', '"num_attention_heads": 48,\n  "num_key_value_heads": 5,')
    assert _refused(tmp_path, text) == (
        "error[bad-config]: 'num_key_value_heads' in 'config.json' is 5, which does not divide num_attention_heads "
        "(48)\n"
        "  --> config.json:7:26\n"
        "  |\n"
        '7 |   "num_key_value_heads": 5,\n'
        "  |                          ^\n"
        "  = help: grouped-query attention shares each KV head among a whole number of query heads: give the value "
        "the checkpoint has")


def test_a_config_with_a_byte_order_mark_is_read_and_one_not_in_utf8_is_located(tmp_path):
    config = tmp_path / "config.json"
    config.write_bytes(b"\xef\xbb\xbf" + LLAMA.encode())
    assert "model big_llama extends llama_family {" in import_hf(str(config))
    latin = LLAMA.replace("me/big-llama", "me/caf\u00e9").encode("latin-1")
    config.write_bytes(latin)
    with pytest.raises(PerfError) as caught:
        import_hf(str(config))
    column = len('  "_name_or_path": "me/caf') + 1              # the é, on line 2, after "{\n"
    assert str(caught.value).replace(str(config), "config.json").splitlines()[:2] == [
        f"error[bad-config]: 'config.json' is not UTF-8 text: cannot read byte {2 + column - 1} (0xe9)",
        f"  --> config.json:2:{column}"]


def test_the_output_is_a_perf_file_and_one_import_hf_did_not_write_is_not_replaced(tmp_path, capsys):
    from perfdsl.cli import main

    config = tmp_path / "config.json"
    config.write_text(LLAMA)
    mine = tmp_path / "mine.perf"
    mine.write_text("hardware acme { mem_bw = 4 TB/s }\n")
    assert main(["import-hf", str(config), "-o", str(mine)]) == 2
    assert mine.read_text() == "hardware acme { mem_bw = 4 TB/s }\n"
    assert capsys.readouterr().err == (
        f"error[bad-output]: refusing to replace '{mine}': perfdsl import-hf did not write it\n"
        "  = help: choose another file with -o (import-hf replaces only a file it wrote, whose first line is "
        "'# Imported by `perfdsl import-hf` ...'), or remove it first\n\n1 error\n")
    assert main(["import-hf", str(config), "-o", str(tmp_path / "model.csv")]) == 2
    assert "import-hf writes a .perf model block, not" in capsys.readouterr().err
    assert main(["import-hf", str(config), "-o", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith(f"error[bad-output]: cannot write '{tmp_path}': it is a folder\n")
    written = tmp_path / "model.perf"
    for _ in range(2):                               # written, then replaced: it wrote it
        assert main(["import-hf", str(config), "-o", str(written)]) == 0
    assert written.read_text() == import_hf(str(config))
