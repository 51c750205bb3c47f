"""The diagnostics a newcomer met from a fresh clone, with a model of their own beside a report: a role bound to a
block of the wrong kind, a block whose file is not imported, an import with a typo, a block that repeats an imported
one, and a `--set` value that breaks a constraint. Each is the exact text and exit status of the command they typed.

The files are the newcomer's, cut down: `mymodel.perf` (a Llama-like model extending the bundled family) and a
report on the bundled cost model. The CLI runs in-process with the test's folder as the working directory.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import perfdsl
from perfdsl import cli
from provisional_text import without_provisional_note

MYMODEL = """\
# an invented Llama-like 3B model
import "models/llama.perf"

model acme_3b extends llama_family {
    hidden = 3200; layers = 26; heads = 25; kv_heads = 5; ffn = 8640; vocab = 64000; max_pos = 8192
    tied_embeddings = true
}
"""

MYREPORT = """\
import "costmodels/transformer_inference.perf"
import "mymodel.perf"
import "hardware/hopper.perf"

workload grid extends inference {
    sweep batch = [1, 8]
    seq_len = 512
    output_len = 128
    tp = 1
    n_gpus = tp
    use_cache = true
    lm_head_all_positions = false
}
report acme {
    model = acme_3b
    sweep hardware = [h100_sxm5, h200_sxm]
    workload = grid
    stack = vllm
    precision = bf16
    show serving.tpot in ms as tpot
}
"""

# A report of its own, on a one-line cost model, that binds a model nobody imports.
WEIGHTS = """\
import "hardware/hopper.perf"
costmodel weights {
    time = 2 byte * model.params / hardware.mem_bw
}
workload w { batch = 1 }
report r {
    model = acme_3b
    hardware = h100_sxm5
    workload = w
    show weights.time in ms
}
"""

HOPPER = "gh200, h100_nvl, h100_pcie, h100_sxm5, h20, h200_sxm"   # hardware/hopper.perf's parts (not its families gpu, hopper)


@pytest.fixture
def mywork(tmp_path: Path, monkeypatch) -> Path:
    """The newcomer's folder, as the working directory: mymodel.perf, myreport.perf and an empty bad/."""
    (tmp_path / "mymodel.perf").write_text(MYMODEL)
    (tmp_path / "myreport.perf").write_text(MYREPORT)
    (tmp_path / "bad").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(argv: list[str], capsys) -> tuple[int, str]:
    """(status, stderr without note[provisional]: the reports bind vllm, whose provisional cells would add it)."""
    capsys.readouterr()
    code = cli.main(argv)
    return code, without_provisional_note(capsys.readouterr().err)


# -- D2: a role bound to a block of the wrong kind -----------------------------------------------------------------

def test_a_role_bound_to_a_model_is_one_error_at_the_binding(mywork, capsys):
    # Before: 15 errors in costmodels/transformer_inference.perf, "'acme_3b' has no cell 'interconnect_bw' (bound to
    # the role 'hardware')" and so on, each listing the model's cells; none at the report's line.
    (mywork / "wrong_kind.perf").write_text('import "myreport.perf"\nreport r2 extends acme {\n'
                                            '    hardware = acme_3b\n}\n')
    assert run(["check", "wrong_kind.perf"], capsys) == (1, f"""\
error[role-kind]: role 'hardware' is bound to model 'acme_3b'; it takes a hardware block
  --> wrong_kind.perf:3:16
  |
3 |     hardware = acme_3b
  |                ^^^^^^^
  = in: report.r2.hardware
  = help: the role 'hardware' takes a hardware block; available: {HOPPER}
  = help: 'acme_3b' is a model block: it fits the role 'model'

1 error
""")


def test_a_role_given_a_model_with_set_is_bad_usage_at_the_set(mywork, capsys):
    # Before: the same 15 errors, exit status 1.
    assert run(["eval", "myreport.perf", "--set", "hardware=acme_3b"], capsys) == (2, f"""\
error[role-kind]: role 'hardware' is bound to model 'acme_3b'; it takes a hardware block
  --> --set hardware:1:1
  |
1 | acme_3b
  | ^^^^^^^
  = in: report.acme.hardware
  = help: the role 'hardware' takes a hardware block; available: {HOPPER}
  = help: 'acme_3b' is a model block: it fits the role 'model'

1 error
""")


def test_a_swept_role_with_one_block_of_the_wrong_kind_points_at_that_block(mywork, capsys):
    code, err = run(["eval", "myreport.perf", "--set", "hardware=h100_sxm5,acme_3b"], capsys)
    assert code == 2
    assert err.splitlines()[:5] == [
        "error[role-kind]: role 'hardware' is swept over model 'acme_3b'; it takes a hardware block",
        "  --> --set hardware:1:11",
        "  |",
        "1 | h100_sxm5,acme_3b",
        "  |           ^^^^^^^"]
    assert err.endswith("\n\n1 error\n")


def test_the_api_refuses_a_role_of_the_wrong_kind_as_bad_usage(mywork):
    program = perfdsl.load(["myreport.perf"])
    with pytest.raises(perfdsl.PerfError) as raised:
        program.evaluate("acme", overrides={"hardware": "acme_3b"})
    assert [d.code for d in raised.value.diagnostics] == ["role-kind"]
    assert raised.value.exit_status == 2


def test_a_role_of_another_name_takes_a_block_of_any_kind(tmp_path):
    # `scheme` is no usual role: the report may bind it to a model as well as to a GPU.
    path = tmp_path / "custom.perf"
    path.write_text("""\
model small { params = 1e9 }
hardware a5000 { mem_bw = 768 GB/s }
costmodel c { runtime = 2 byte * scheme.params / hardware.mem_bw }
report r {
    scheme = small
    hardware = a5000
    show c.runtime in ms
}
""")
    program = perfdsl.load([path])
    assert program.check() == []
    (row,) = program.evaluate("r").records()
    assert row["c.runtime [ms]"] == pytest.approx(2 * 1e9 / 768e9 * 1e3)


# -- D3: a block whose file is not imported, an import with a typo -------------------------------------------------

def test_a_model_defined_in_a_file_beside_the_report_names_the_import(mywork, capsys):
    # Before: "= help: available: hardware, model, workload", the report's own cells.
    (mywork / "weights.perf").write_text(WEIGHTS)
    assert run(["check", "weights.perf"], capsys) == (1, """\
error[unknown-name]: unknown name 'acme_3b' in report 'r'
  --> weights.perf:7:13
  |
7 |     model = acme_3b
  |             ^^^^^^^
  = in: report.r.model
  = help: 'acme_3b' is defined in mymodel.perf: add `import "mymodel.perf"` to weights.perf

1 error
""")


def test_a_model_defined_in_the_folder_above_names_the_import_from_there(mywork, capsys):
    (mywork / "bad" / "weights.perf").write_text(WEIGHTS)
    code, err = run(["check", "bad/weights.perf"], capsys)
    assert code == 1
    assert "  = help: 'acme_3b' is defined in ../mymodel.perf: add `import \"../mymodel.perf\"` to " \
           "bad/weights.perf\n" in err


def test_an_unknown_model_lists_the_loaded_models_and_says_when_there_are_none(mywork, capsys):
    (mywork / "weights.perf").write_text(WEIGHTS.replace("acme_3b", "acme_9b"))
    code, err = run(["check", "weights.perf"], capsys)
    assert code == 1
    assert err.splitlines()[5:7] == [
        "  = in: report.r.model",
        "  = help: the role 'model' takes a model block, and no loaded file defines one: import the file that "
        "defines 'acme_9b'"]
    (mywork / "weights.perf").write_text('import "models/opt.perf"\n' + WEIGHTS.replace("acme_3b", "opt_1_3"))
    code, err = run(["check", "weights.perf"], capsys)
    assert err.splitlines()[6:8] == [
        "  = help: did you mean 'opt_1_3b' or 'opt_13b' or 'opt_30b'?",
        "  = help: the role 'model' takes a model block; available: opt_125m, opt_13b, opt_1_3b, opt_2_7b, opt_30b, "
        "opt_350m, opt_66b, opt_6_7b"]


def test_an_import_with_a_typo_suggests_the_file_beside_it_first(mywork, capsys):
    # Before: "did you mean 'models/opt.perf'?", a bundled file, while ../mymodel.perf sat beside.
    (mywork / "bad" / "typo.perf").write_text('import "../mymodle.perf"\nworkload w { batch = 1 }\n')
    assert run(["check", "bad/typo.perf"], capsys) == (1, """\
error[no-such-import]: cannot find the imported file '../mymodle.perf'
  --> bad/typo.perf:1:8
  |
1 | import "../mymodle.perf"
  |        ^^^^^^^^^^^^^^^^^
  = help: did you mean '../mymodel.perf'?
  = help: imports are looked up relative to the importing file, then the working folder, then the bundled \
libraries (models/, hardware/, software/, costmodels/)

1 error
""")


# -- duplicate blocks: the later one in load order is the duplicate --------------------------------------------------

def test_a_block_that_repeats_an_imported_one_is_the_duplicate_in_the_importing_file(mywork, capsys):
    # Before: the error stood at mymodel.perf (the imported library file) and "first defined at" bad/dup.perf, the
    # reverse of the order the import reads them in.
    (mywork / "bad" / "dup.perf").write_text('import "../mymodel.perf"\n'
                                             'model acme_3b extends llama_family { hidden = 1 }\n')
    assert run(["check", "bad/dup.perf"], capsys) == (1, """\
error[duplicate-block]: block 'acme_3b' is defined twice
  --> bad/dup.perf:2:7
  |
2 | model acme_3b extends llama_family { hidden = 1 }
  |       ^^^^^^^
  = note: first defined at mymodel.perf:4:7
  = help: block names are global over every loaded file; rename one of them

1 error
""")


def test_of_two_imports_that_define_a_block_the_second_is_the_duplicate(mywork, capsys):
    (mywork / "a.perf").write_text("hardware gpu_x { mem_bw = 1 TB/s }\n")
    (mywork / "b.perf").write_text('import "c.perf"\n')
    (mywork / "c.perf").write_text("\nhardware gpu_x { mem_bw = 2 TB/s }\n")
    (mywork / "main.perf").write_text('import "b.perf"\nimport "a.perf"\n')
    code, err = run(["check", "main.perf"], capsys)
    assert code == 1
    assert err.splitlines()[:2] == ["error[duplicate-block]: block 'gpu_x' is defined twice", "  --> a.perf:1:10"]
    assert "  = note: first defined at c.perf:2:10" in err.splitlines()


# -- D4: a --set value that breaks a constraint -------------------------------------------------------------------

@pytest.mark.parametrize("value", ["0", "-1", "1.5"])
def test_a_batch_set_below_one_or_fractional_is_bad_usage_at_the_set(mywork, capsys, value):
    # Before: exit status 1, "error[constraint]: batch is a whole number of sequences, at least 1: every sweep point
    # (4) breaks it --> costmodels/transformer_inference.perf:75:13", no word of --set.
    code, err = run(["eval", "myreport.perf", "--set", f"batch={value}"], capsys)
    library = Path(perfdsl.library_path("costmodels"), "transformer_inference.perf")
    assert (code, err) == (2, f"""\
error[constraint]: --set batch={value} breaks the constraint "batch is a whole number of sequences, at least 1"
  --> --set batch:1:1
  |
1 | {value}
  | {"^" * len(value)}
  = note: the constraint, at {library}:75:13: batch is a whole number of sequences, at least 1: every sweep point \
(2) breaks it
  = note: without the --set values some of the report's sweep points meet it
  = in: workload.inference
  = help: no sweep point meets every constraint, so there is nothing to show

1 error
""")


def test_a_model_cell_set_against_its_family_constraint_is_bad_usage_at_the_set(mywork, capsys):
    code, err = run(["eval", "myreport.perf", "--set", "acme_3b.heads=7"], capsys)
    family = Path(perfdsl.library_path("models"), "transformer.perf")
    assert (code, err) == (2, f"""\
error[constraint]: --set acme_3b.heads=7 breaks the constraint "heads is a whole multiple of kv_heads"
  --> --set acme_3b.heads:1:1
  |
1 | 7
  | ^
  = note: the constraint, broken by --set acme_3b.heads=7: heads is a whole multiple of kv_heads
  = note: `heads / kv_heads == floor(heads / kv_heads)` is false with heads = 7, kv_heads = 5
  = note: the constraint is written in model 'transformer' at {family}:30:13
  = note: without the --set values the report meets it
  = in: model.acme_3b

1 error
""")


def test_the_api_raises_a_usage_error_for_a_constraint_only_the_overrides_break(mywork):
    program = perfdsl.load(["myreport.perf"])
    with pytest.raises(perfdsl.UsageError):
        program.evaluate("acme", overrides={"batch": 0})
    assert len(program.evaluate("acme", overrides={"batch": [0, 1]}).records()) == 2    # batch 0 left out: a warning


# -- a --set of a formula cell in another dimension ----------------------------------------------------------------

def test_a_formula_cell_set_in_another_dimension_is_bad_usage_at_the_set(mywork, capsys):
    # A second newcomer: `--set serving_grid.kernel_overhead=5 GB` was two unit errors in the cost model, exit 1,
    # the --set never named. The workload's kernel_overhead is the formula `stack.kernel_overhead` (seconds). The
    # check holds the value to the formula's type (Checker._check_set), in the words of a --set over a literal, so
    # nothing the cost model reads is checked with bytes (override_blame._another_dimension named those errors).
    code, err = run(["eval", "myreport.perf", "--set", "grid.kernel_overhead=5 GB"], capsys)
    assert code == 2
    assert err.startswith(
        "error[unit-mismatch]: --set grid.kernel_overhead: '5 GB' is byte, but 'grid.kernel_overhead' is s\n"
        "  --> --set grid.kernel_overhead:1:1\n"
        "  |\n"
        "1 | 5 GB\n"
        "  | ^^^^\n"
        "  = note: the cell is `stack.kernel_overhead` at ")
    assert err.endswith("  = in: workload.grid.kernel_overhead\n"
                        '  = help: give it a unit of s, e.g. --set grid.kernel_overhead="5 s"\n\n1 error\n')
    assert run(["eval", "myreport.perf", "--set", "grid.kernel_overhead=5 us"], capsys)[0] == 0


def test_set_a_misspelt_gpu_lists_the_parts_not_their_families(tmp_path, monkeypatch, capsys):
    # `--set hardware=my_l40` listed `ada` and `gpu` among the blocks to bind: families the parts extend, with no
    # label of their own, that no report can evaluate on. Only the parts are listed.
    (tmp_path / "r.perf").write_text('import "hardware/ada.perf"\ncostmodel c { t = 1 GB / hardware.mem_bw }\n'
                                     "report r { hardware = l40s; show c.t in ms }\n")
    monkeypatch.chdir(tmp_path)
    code, err = run(["eval", "r.perf", "--set", "hardware=my_l40"], capsys)
    assert code == 2
    parts = "l20, l4, l40s, rtx_4000_ada, rtx_4070_ti, rtx_4080, rtx_4090, rtx_5000_ada, rtx_6000_ada"
    assert err == ("error[unknown-name]: unknown name 'my_l40' in report 'r'\n"
                   "  --> --set hardware:1:1\n"
                   "  |\n"
                   "1 | my_l40\n"
                   "  | ^^^^^^\n"
                   "  = in: report.r.hardware\n"
                   "  = help: did you mean 'l40s'?\n"
                   f"  = help: the role 'hardware' takes a hardware block; available: {parts}\n"
                   "\n1 error\n")


# -- a --set that sweeps a cell of one of the blocks a role is swept over ------------------------------------------

def test_a_set_sweeping_a_cell_of_one_swept_gpu_is_bad_usage_at_the_set(mywork, capsys):
    # Before: exit status 0 and nothing said, the --set changing nothing, as this report shows no cell that reads
    # mem_size; where one does (memory.fits), "'mem_size' is swept in hardware 'h200_sxm', which report 'acme' does not
    # bind to a role" (it is bound, through the swept role), located at the literal the --set replaced, exit status 1.
    assert run(["eval", "myreport.perf", "--set", "h200_sxm.mem_size=80 GB,120 GB"], capsys) == (2, """\
error[sweep-outside-report]: --set h200_sxm.mem_size makes 'mem_size' a sweep in hardware 'h200_sxm', which report \
'acme' sweeps the role 'hardware' over with other blocks, so its sweeps are not axes
  --> --set h200_sxm.mem_size:1:1
  |
1 | 80 GB,120 GB
  | ^^^^^^^^^^^^
  = in: hardware.h200_sxm.mem_size
  = help: a block's sweeps are axes only where the report binds that block alone to its role: --set \
hardware=h200_sxm (or `hardware = h200_sxm` in the report)
  = help: to compare the values beside h100_sxm5, give each value a block of its own (`hardware h200_sxm_2 extends \
h200_sxm { mem_size = ... }`) and sweep 'hardware' over them

1 error
""")
    # The first hint's way: bound alone, the GPU's sweep is an axis.
    code, err = run(["eval", "myreport.perf", "--set", "h200_sxm.mem_size=80 GB,120 GB", "--set", "hardware=h200_sxm",
                     "--format", "csv"], capsys)
    assert (code, err) == (0, "")


def test_the_api_refuses_a_sweep_in_one_swept_gpu_as_bad_usage_at_the_override(mywork):
    program = perfdsl.load(["myreport.perf"])
    with pytest.raises(perfdsl.PerfError) as raised:
        program.evaluate("acme", overrides={"h200_sxm.mem_size": ["80 GB", "120 GB"]})
    (diagnostic,) = raised.value.diagnostics
    assert (diagnostic.code, diagnostic.location.file, raised.value.exit_status) == (
        "sweep-outside-report", "overrides['h200_sxm.mem_size']", 2)
    assert diagnostic.hints[0] == ("a block's sweeps are axes only where the report binds that block alone to its role: "
                                   "overrides={'hardware': 'h200_sxm'} (or `hardware = h200_sxm` in the report)")


# -- a value listed twice in a sweep (findings of 1 December, 12) ------------------------------------------------------

def test_a_block_listed_twice_in_a_swept_role_is_bad_usage_at_the_set(mywork, capsys):
    """`--set "hardware=[h100_sxm5, h100_sxm5]"` repeated every row of the part before; the file's own sweeps are
    refused at check the same way (tests/cases/duplicate_sweep_value.perf)."""
    code, err = run(["eval", "myreport.perf", "--set", "hardware=[h100_sxm5, h100_sxm5]"], capsys)
    assert (code, err) == (2, """\
error[duplicate-sweep-value]: the sweep 'hardware' lists h100_sxm5 twice
  --> --set hardware:1:13
  |
1 | [h100_sxm5, h100_sxm5]
  |             ^^^^^^^^^
  = note: first at --set hardware:1:2
  = help: each value is one point of the axis: list it once

1 error
""")


def test_a_number_listed_twice_with_set_is_bad_usage_at_the_set(mywork, capsys):
    code, err = run(["eval", "myreport.perf", "--set", "batch=1,8,8"], capsys)
    assert code == 2
    assert err.splitlines()[:2] == ["error[duplicate-sweep-value]: the sweep 'batch' lists 8 twice",
                                    "  --> --set batch:1:5"]
