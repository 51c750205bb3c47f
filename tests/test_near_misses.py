"""Slips that are valid syntax (dsl/near_misses.py): a misspelt override is a new cell that nothing reads
(warning[unread-cell], exact texts), and a misspelt `true` or `false` is offered where a boolean fits. No bundled
file warns."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import perfdsl
from perfdsl import cli
from perfdsl.near_misses import misspelt

REPO = Path(__file__).resolve().parent.parent

FAMILY = """\
model family {
    hidden: count
    layers: count
    tied_embeddings = false
    params = layers * 12 * hidden^2 + if(tied_embeddings, 0, 1000 * hidden)
}
"""


def check(tmp_path: Path, text: str, capsys, monkeypatch) -> tuple[int, str]:
    """`perfdsl check spec.perf` of `text` in tmp_path (its working folder): the exit status and stderr."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.perf").write_text(text)
    status = cli.main(["check", "--no-cache", "spec.perf"])
    return status, capsys.readouterr().err


def test_a_misspelt_override_that_nothing_reads_is_a_located_warning(tmp_path, capsys, monkeypatch):
    status, err = check(tmp_path, FAMILY + "model small extends family {\n    hidden = 64; layers = 2\n"
                        "    tied_embedings = true\n}\n", capsys, monkeypatch)
    assert status == 0
    assert err == (
        "warning[unread-cell]: 'tied_embedings' is not a cell of 'family' (its parent) and nothing reads it\n"
        "  --> spec.perf:9:5\n"
        "  |\n"
        "9 |     tied_embedings = true\n"
        "  |     ^^^^^^^^^^^^^^\n"
        "  = note: 'small' keeps the 'tied_embeddings' it inherits: tied_embeddings = false, at spec.perf:4:5\n"
        "  = in: model.small.tied_embedings\n"
        "  = help: did you mean 'tied_embeddings'?\n"
        "  = help: a new cell of this name is fine once a formula, `show` or `require` reads it\n"
        "\n"
        "1 warning\n")


def test_the_newcomers_llama_slip_is_caught_and_would_change_the_parameters(tmp_path, capsys, monkeypatch):
    # models/llama.perf with `tied_embeddings = true` of Llama 3.2 1B misspelt: `check` used to say ok while the
    # parameter count grew by the untied LM head (vocab x hidden = 128256 x 2048 = 262.7M, 21% of 1.24B).
    shutil.copytree(REPO / "models", tmp_path / "models")
    llama = tmp_path / "models" / "llama.perf"
    text = llama.read_text()
    block = text.index("model llama3_2_1b extends llama_family {")
    at = text.index("tied_embeddings = true", block)
    llama.write_text(text[:at] + "tied_embedings = true" + text[at + len("tied_embeddings = true"):])
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "--no-cache", "models/llama.perf"]) == 0
    err = capsys.readouterr().err
    line = text[:at].count("\n") + 1
    lines = [text.strip() for text in err.splitlines()]
    assert lines[:2] == ["warning[unread-cell]: 'tied_embedings' is not a cell of 'llama_family' (its parent) and "
                         "nothing reads it", f"--> models/llama.perf:{line}:5"]
    assert "= help: did you mean 'tied_embeddings'?" in lines and err.endswith("\n1 warning\n")
    fixed = perfdsl.load(REPO / "models" / "llama.perf").value("llama3_2_1b.params")
    slipped = perfdsl.load(llama).value("llama3_2_1b.params")
    assert slipped - fixed == 128256 * 2048
    assert (slipped - fixed) / fixed == pytest.approx(0.212, abs=0.001)


def test_a_near_miss_of_another_block_of_the_kind_is_named_with_its_block(tmp_path, capsys, monkeypatch):
    # Of two cells one slip apart, the one a formula reads is taken as meant.
    status, err = check(tmp_path, "hardware a { mem_bw = 1 TB/s }\nhardware b { mem_bwdth = 2 TB/s }\n"
                        "hardware c { mme_bw = 2 TB/s }\ncostmodel k { t = 1 GB / hardware.mem_bw }\n", capsys,
                        monkeypatch)
    assert status == 0
    assert err.splitlines()[0] == "warning[unread-cell]: 'mme_bw' is a cell of no other hardware and nothing reads it"
    assert "  = help: did you mean 'mem_bw' (a cell of hardware 'a')?" in err.splitlines()
    assert "mem_bwdth" not in err            # `bwdth` is not one slip from `bw`: another word
    assert err.endswith("\n1 warning\n")


@pytest.mark.parametrize("extra", [
    "model reader { hidden = 1; layers = 1; x = small.tied_embedings }",    # a formula reads it
    "model small2 extends family { hidden = 1; layers = 1; tied_embedings = true }",   # another block writes it
])
def test_a_cell_that_something_reads_or_another_block_writes_is_not_warned_of(tmp_path, capsys, monkeypatch,
                                                                               extra):
    status, err = check(tmp_path, FAMILY + "model small extends family {\n    hidden = 64; layers = 2\n"
                        "    tied_embedings = true\n}\n" + extra + "\n", capsys, monkeypatch)
    assert status == 0 and "unread-cell" not in err


def test_a_report_that_shows_the_cell_reads_it(tmp_path, capsys, monkeypatch):
    status, err = check(tmp_path, FAMILY + "model small extends family { hidden = 64; layers = 2; hiden = 3 }\n"
                        "report r { model = small\n show model.params, model.hiden }\n", capsys, monkeypatch)
    assert status == 0 and "unread-cell" not in err


@pytest.mark.parametrize("name, meant, slip", [
    ("tied_embedings", "tied_embeddings", True),          # a letter left out
    ("tiedembeddings", "tied_embeddings", True),          # an underscore left out
    ("kv_haeds", "kv_heads", True),                       # two letters swapped
    ("num_layer", "num_layers", True),
    ("output_throughput_low", "output_throughput_total", False),   # another word
    ("decode_throughput_low", "decode_throughput", False),         # a word added
    ("gemm_matmul_efficiency", "matmul_efficiency", False),
    ("peak_fp4", "peak_fp8", False),                      # another number
    ("tp_size", "pp_size", False),                        # another short word
    # One letter typed for another, or one added, which difflib scores low in a short word (a newcomer's what-if
    # GPU kept its 80 GB: `mem_sise = 141 GB` was `ok`).
    ("mem_sise", "mem_size", True), ("ffm", "ffn", True), ("heade", "heads", True), ("hidfen", "hidden", True),
    ("mem_bwe", "mem_bw", True), ("mem_siz", "mem_size", True),
    ("tp_k", "tp_q", False),                              # a one-letter word: another word
    ("peak_bf16", "peak_fp16", False),                    # two letters: another format
    # Case aside (a newcomer's `TDP = 200 W` kept the inherited tdp), and slips of the keys in a number.
    ("TDP", "tdp", True), ("MEM_BW", "mem_bw", True), ("mem_BW", "mem_bw", True), ("memBW", "mem_bw", True),
    ("mem_Bw", "mem_bw", True), ("top_K", "top_k", True), ("Tdp", "tdp", True),
    ("peak_fp61", "peak_fp16", True),                     # two digits swapped
    ("peak_fp1", "peak_fp16", True),                      # the last digit left out
    ("peak_fp6", "peak_fp16", False),                     # a digit left out elsewhere: another format (FP6)
    ("peak_fp4", "peak_fp64", False),
    ("peak_FP4", "peak_fp8", False),                      # another number, case aside
    ("peak_fp166", "peak_fp16", False),                   # a digit added: another number (fp160, fp80)
    # In a word of three letters, one typed for another is a slip only where the two keys touch on the keyboard:
    # f and b do not (f's neighbours are r, t, d, g, c, v), so `mfu` (model FLOPs utilisation) names another thing
    # than `mbu` (model bandwidth utilisation); m and n touch, so `ffm` is a slip of `ffn`; e touches s and d.
    ("mfu", "mbu", False), ("mbu", "mfu", False), ("ffn", "ffm", True), ("kvs", "kvd", True), ("kvs", "kvb", False),
])
def test_what_counts_as_a_slip(name, meant, slip):
    assert misspelt(name, meant) is slip


def test_a_what_if_gpus_misspelt_figure_is_warned_of(tmp_path, capsys, monkeypatch):
    """`mem_sise = 141 GB` in a GPU that extends another: a new cell nothing reads, so the GPU keeps its 80 GB."""
    status, err = check(tmp_path, "hardware gpu80 {\n    mem_size = 80 GB\n    mem_bw = 3350 GB/s\n}\n"
                        "hardware what_if extends gpu80 {\n    mem_sise = 141 GB\n}\n"
                        "costmodel decode {\n    kv_room = hardware.mem_size / hardware.mem_bw\n}\n",
                        capsys, monkeypatch)
    assert status == 0
    assert err == (
        "warning[unread-cell]: 'mem_sise' is not a cell of 'gpu80' (its parent) and nothing reads it\n"
        "  --> spec.perf:6:5\n"
        "  |\n"
        "6 |     mem_sise = 141 GB\n"
        "  |     ^^^^^^^^\n"
        "  = note: 'what_if' keeps the 'mem_size' it inherits: mem_size = 80 GB, at spec.perf:2:5\n"
        "  = in: hardware.what_if.mem_sise\n"
        "  = help: did you mean 'mem_size'?\n"
        "  = help: a new cell of this name is fine once a formula, `show` or `require` reads it\n"
        "\n"
        "1 warning\n")


def test_two_utilisations_in_two_cost_models_are_not_taken_for_a_slip(tmp_path, capsys, monkeypatch):
    """A cost model's `mfu` beside another's `mbu`, neither read in the file: one key apart, but not neighbouring
    keys, so two acronyms and no unread-cell warning (before, `mbu` was warned of as a slip of `mfu`)."""
    status, err = check(tmp_path, "costmodel prefill {\n    mfu = 0.5\n}\ncostmodel decode {\n    mbu = 0.7\n}\n",
                        capsys, monkeypatch)
    assert status == 0 and err.startswith("ok: 1 file, 2 blocks, 0 reports ("), err


GPU = """\
hardware gpu48 {
    tdp = 300 W
    mem_bw = 864 GB/s
    peak_fp16 = 181 TFLOP/s
}
hardware what_if extends gpu48 {
    SLIP
}
report r { hardware = what_if
    show hardware.tdp, hardware.mem_bw, hardware.peak_fp16 }
"""


@pytest.mark.parametrize("slip, meant", [
    ("TDP = 200 W", "tdp"), ("MEM_BW = 1 TB/s", "mem_bw"), ("mem_BW = 1 TB/s", "mem_bw"),
    ("memBW = 1 TB/s", "mem_bw"), ("mem_Bw = 1 TB/s", "mem_bw"),
    ("peak_fp61 = 200 TFLOP/s", "peak_fp16"), ("peak_fp1 = 200 TFLOP/s", "peak_fp16"),
])
def test_a_slip_of_case_or_of_a_digit_in_an_override_is_warned_of(tmp_path, capsys, monkeypatch, slip, meant):
    """Each of these left the GPU with the figure it inherits, and `check` said ok (the rule compared case as any
    letter, and a name whose letters matched was taken for another number)."""
    status, err = check(tmp_path, GPU.replace("SLIP", slip), capsys, monkeypatch)
    name = slip.split(" = ")[0]
    kept = {"tdp": "300 W", "mem_bw": "864 GB/s", "peak_fp16": "181 TFLOP/s"}[meant]
    line = {"tdp": 2, "mem_bw": 3, "peak_fp16": 4}[meant]
    assert status == 0
    assert err == (
        f"warning[unread-cell]: '{name}' is not a cell of 'gpu48' (its parent) and nothing reads it\n"
        "  --> spec.perf:7:5\n"
        "  |\n"
        f"7 |     {slip}\n"
        f"  |     {'^' * len(name)}\n"
        f"  = note: 'what_if' keeps the '{meant}' it inherits: {meant} = {kept}, at spec.perf:{line}:5\n"
        f"  = in: hardware.what_if.{name}\n"
        f"  = help: did you mean '{meant}'?\n"
        "  = help: a new cell of this name is fine once a formula, `show` or `require` reads it\n"
        "\n"
        "1 warning\n")


def test_a_model_whose_top_k_is_written_in_capitals_is_warned_of(tmp_path, capsys, monkeypatch):
    status, err = check(tmp_path, "model moe {\n    top_k = 8\n}\nmodel fewer extends moe {\n    top_K = 4\n}\n"
                        "report r { model = fewer\n    show model.top_k }\n", capsys, monkeypatch)
    assert status == 0
    assert err.splitlines()[0] == "warning[unread-cell]: 'top_K' is not a cell of 'moe' (its parent) and nothing " \
        "reads it"
    assert "  = note: 'fewer' keeps the 'top_k' it inherits: top_k = 8, at spec.perf:2:5\n" \
        "  = in: model.fewer.top_K\n  = help: did you mean 'top_k'?\n" in err


def test_no_bundled_file_warns_of_an_unread_cell(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    files = sorted(str(p.relative_to(REPO)) for folder in ("models", "hardware", "software", "costmodels", "reports")
                   for p in (REPO / folder).glob("*.perf"))
    assert cli.main(["check", "--no-cache", *files]) == 0
    assert "unread-cell" not in capsys.readouterr().err


# -- `true` and `false` among the names a misspelt one may mean ------------------------------------------------

BOOLEANS = FAMILY + """\
model m extends family {
    hidden = 64; layers = 2
    tied_embeddings = tru
    flag = flase
    n = 2 * tru
    y = if(tru, 1, 2)
}
"""


def test_true_and_false_are_offered_where_a_boolean_fits(tmp_path, capsys, monkeypatch):
    status, err = check(tmp_path, BOOLEANS, capsys, monkeypatch)
    assert status == 1
    blocks = ["\n".join(line.strip() for line in block.splitlines()) + "\n" for block in err.split("\n\n")]
    assert "error[unknown-name]: unknown name 'tru' in model 'm'" in blocks[0]
    assert "= in: model.m.tied_embeddings\n= help: did you mean 'true'?\n" in blocks[0]
    assert "= in: model.m.flag\n= help: did you mean 'false' or 'flag'?\n" in blocks[1]
    # A number fits `2 * _`, not a boolean: no `true` there.
    assert "= in: model.m.n\n= help: available: " in blocks[2]
    assert "= in: model.m.y\n= help: did you mean 'true'?\n" in blocks[3]


def test_a_boolean_is_not_offered_for_a_cell_that_overrides_a_number(tmp_path, capsys, monkeypatch):
    status, err = check(tmp_path, FAMILY + "model m extends family { hidden = tru; layers = 2 }\n", capsys,
                        monkeypatch)
    assert status == 1
    assert "did you mean 'true'" not in err
