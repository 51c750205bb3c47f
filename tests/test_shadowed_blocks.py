"""error[shadowed-block]: a block named like the role it fills (`model model extends llama3_1_8b { }`) bound by that
name (`model = model`) read the report's own cell `model` instead, and `check` said "cells depend on each other in a
cycle: r.model -> r.model"; swept (`sweep model = [model, llama3_1_8b]`) it said "the sweep 'model' mixes blocks and
values" at llama3_1_8b. Now either is one error at the name that says the report's cell shadows the block, and how to
rename it. A cell that reads itself with no block of its name (`x = x`) keeps its error[cycle]. Every test here
failed on the old code, which said the cycle or the mixed sweep."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfdsl import cli
from provisional_text import without_provisional_note

# The newcomer's file (a model block named `model`, the bundled cost model, library and hardware).
ROLE2 = """\
import "costmodels/transformer_inference.perf"
import "models/llama.perf"
import "hardware/hopper.perf"
hardware gpu2 extends h100_sxm5 { tdp = 600 W }
workload wl extends inference { batch = 1; seq_len = 512 }
model model extends llama3_1_8b { }
report r { model = model; hardware = gpu2; workload = wl; stack = vllm; precision = bf16
  show prefill.runtime in ms }
"""
ROLE2_ERROR = (
    "error[shadowed-block]: inside report 'r', 'model' names the report's own role cell, which shadows the block "
    "'model'\n"
    "  --> role2.perf:7:20\n"
    "  |\n"
    "7 | report r { model = model; hardware = gpu2; workload = wl; stack = vllm; precision = bf16\n"
    "  |                    ^^^^^\n"
    "  = note: the model block 'model' is defined at role2.perf:6:7; a bare name inside a report reads the report's "
    "own cell of that name before any block (docs/LANGUAGE.md, Reports)\n"
    "  = in: report.r.model\n"
    "  = help: rename the block (e.g. `model my_model`) and write `model = my_model`\n"
    "\n"
    "1 error\n")


def run(tmp_path: Path, monkeypatch, capsys, files: dict[str, str], *args: str) -> tuple[int, str, str]:
    """`perfdsl ARGS` in tmp_path holding `files`: the exit status, stdout and stderr (without note[provisional]:
    the reports bind vllm, whose provisional cells would add it)."""
    monkeypatch.chdir(tmp_path)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    status = cli.main(list(args))
    out = capsys.readouterr()
    return status, out.out, without_provisional_note(out.err)


def test_a_model_block_named_model_bound_by_its_name_is_one_error_in_check_and_eval(tmp_path, monkeypatch, capsys):
    # Before: error[cycle]: cells depend on each other in a cycle: r.model -> r.model
    status, out, err = run(tmp_path, monkeypatch, capsys, {"role2.perf": ROLE2}, "check", "--no-cache", "role2.perf")
    assert (status, out, err) == (1, "", ROLE2_ERROR)
    status, out, err = run(tmp_path, monkeypatch, capsys, {"role2.perf": ROLE2}, "eval", "role2.perf")
    assert (status, out, err) == (1, "", ROLE2_ERROR)
    # The help's fix: the same figure as binding llama3_1_8b itself (the block extends it and changes nothing).
    fixed = ROLE2.replace("model model extends", "model my_model extends").replace("model = model", "model = my_model")
    status, out, err = run(tmp_path, monkeypatch, capsys, {"fixed.perf": fixed}, "eval", "fixed.perf")
    assert (status, err) == (0, "")
    status, same, err = run(tmp_path, monkeypatch, capsys, {"same.perf": fixed.replace("model = my_model",
                                                                                      "model = llama3_1_8b")},
                            "eval", "same.perf")
    assert (status, out) == (0, same)


def test_a_report_that_extends_it_says_the_error_once(tmp_path, monkeypatch, capsys):
    child = 'import "role2.perf"\nreport r2 extends r { }\n'
    status, out, err = run(tmp_path, monkeypatch, capsys, {"role2.perf": ROLE2, "child.perf": child},
                           "check", "--no-cache", "child.perf")
    assert (status, out, err) == (1, "", ROLE2_ERROR)


def test_a_workload_block_named_workload(tmp_path, monkeypatch, capsys):
    text = ROLE2.replace("workload wl extends", "workload workload extends").replace("workload = wl",
                                                                                       "workload = workload")
    text = text.replace("model = model", "model = llama3_1_8b")
    status, out, err = run(tmp_path, monkeypatch, capsys, {"role.perf": text}, "check", "--no-cache", "role.perf")
    assert (status, out) == (1, "")
    assert err == (
        "error[shadowed-block]: inside report 'r', 'workload' names the report's own role cell, which shadows the "
        "block 'workload'\n"
        "  --> role.perf:7:61\n"
        "  |\n"
        "7 | report r { model = llama3_1_8b; hardware = gpu2; workload = workload; stack = vllm; precision = bf16\n"
        "  |                                                             ^^^^^^^^\n"
        "  = note: the workload block 'workload' is defined at role.perf:5:10; a bare name inside a report reads the "
        "report's own cell of that name before any block (docs/LANGUAGE.md, Reports)\n"
        "  = in: report.r.workload\n"
        "  = help: rename the block (e.g. `workload my_workload`) and write `workload = my_workload`\n"
        "\n"
        "1 error\n")


def test_a_sweep_that_lists_the_block_named_like_its_role(tmp_path, monkeypatch, capsys):
    # Before: error[mixed-sweep]: the sweep 'model' mixes blocks and values, at llama3_1_8b.
    text = ROLE2.replace("model = model;", "sweep model = [model, llama3_1_8b];")
    status, out, err = run(tmp_path, monkeypatch, capsys, {"sw.perf": text}, "check", "--no-cache", "sw.perf")
    assert (status, out) == (1, "")
    assert err.splitlines()[:2] + err.splitlines()[-4:] == [
        "error[shadowed-block]: inside report 'r', 'model' names the report's own role cell, which shadows the block "
        "'model'",
        "  --> sw.perf:7:27",
        "  = in: report.r.model",
        "  = help: rename the block (e.g. `model my_model`) and write `sweep model = [my_model, llama3_1_8b]`",
        "",
        "1 error"]


def test_a_zipped_sweep_whose_column_lists_the_block_named_like_it(tmp_path, monkeypatch, capsys):
    text = ROLE2.replace("model = model;", "sweep (model, tag) = [(model, 1), (llama3_1_8b, 2)];")
    status, out, err = run(tmp_path, monkeypatch, capsys, {"zip.perf": text}, "check", "--no-cache", "zip.perf")
    assert (status, out) == (1, "")
    assert err.splitlines()[:2] + err.splitlines()[-4:] == [
        "error[shadowed-block]: inside report 'r', 'model' names the report's own role cell, which shadows the block "
        "'model'",
        "  --> zip.perf:7:35",
        "  = in: report.r.model",
        "  = help: rename the block (e.g. `model my_model`) and write 'my_model' in place of 'model' among the "
        "sweep's values",
        "",
        "1 error"]


def test_set_of_the_role_to_its_own_name_is_bad_usage(tmp_path, monkeypatch, capsys):
    text = ROLE2.replace("model = model", "model = llama3_1_8b")
    status, out, err = run(tmp_path, monkeypatch, capsys, {"set.perf": text}, "eval", "set.perf",
                           "--set", "model=model")
    assert (status, out) == (2, "")
    assert err.splitlines()[:2] + err.splitlines()[-4:] == [
        "error[shadowed-block]: inside report 'r', 'model' names the report's own role cell, which shadows the block "
        "'model'",
        "  --> --set model:1:1",
        "  = in: report.r.model",
        "  = help: rename the block (e.g. `model my_model`) and write --set model=my_model",
        "",
        "1 error"]


# Every usual role (linker.ROLE_KINDS) and one of any other name, each with a block of the kind it takes named like it.
ROLES = [("model", "model"), ("hardware", "hardware"), ("workload", "workload"), ("stack", "software"),
         ("precision", "precision"), ("costmodel", "costmodel"), ("calibration", "costmodel"), ("parallel", "workload")]


@pytest.mark.parametrize("role, kind", ROLES)
def test_every_role_bound_to_a_block_of_its_own_name(tmp_path, monkeypatch, capsys, role, kind):
    text = (f"{kind} {role} {{ v = 1 s }}\n"
            f"costmodel c {{ t = {role}.v * 2 }}\n"
            f"report r {{\n    {role} = {role}\n    show c.t\n}}\n")
    status, out, err = run(tmp_path, monkeypatch, capsys, {"one.perf": text}, "check", "--no-cache", "one.perf")
    col = 5 + len(role) + 3
    assert (status, out, err) == (1, "", (
        f"error[shadowed-block]: inside report 'r', '{role}' names the report's own role cell, which shadows the "
        f"block '{role}'\n"
        f"  --> one.perf:4:{col}\n"
        "  |\n"
        f"4 |     {role} = {role}\n"
        "  |     " + " " * (len(role) + 3) + "^" * len(role) + "\n"
        f"  = note: the {kind} block '{role}' is defined at one.perf:1:{len(kind) + 2}; a bare name inside a report "
        "reads the report's own cell of that name before any block (docs/LANGUAGE.md, Reports)\n"
        f"  = in: report.r.{role}\n"
        f"  = help: rename the block (e.g. `{kind} my_{role}`) and write `{role} = my_{role}`\n"
        "\n"
        "1 error\n"))
    fixed = text.replace(f"{kind} {role} {{", f"{kind} my_{role} {{").replace(f"{role} = {role}",
                                                                               f"{role} = my_{role}")
    status, out, err = run(tmp_path, monkeypatch, capsys, {"fixed.perf": fixed}, "eval", "fixed.perf")
    assert (status, err) == (0, "")
    assert out.splitlines()[-1].strip() == "2"          # t = v * 2 = 1 s * 2, in s
    # A cell that reads itself with no block of its name is still a cycle.
    cycle = fixed.replace("    show c.t", "    x = x\n    show c.t")
    status, out, err = run(tmp_path, monkeypatch, capsys, {"cycle.perf": cycle}, "check", "--no-cache", "cycle.perf")
    assert (status, out) == (1, "")
    assert err.splitlines()[:2] == ["error[cycle]: cells depend on each other in a cycle: r.x -> r.x",
                                    "  --> cycle.perf:5:5"]
    assert "shadowed-block" not in err


# A block named like ANOTHER role the report binds (`model hardware extends llama3_1_8b { }`, `model = hardware`):
# before, `model = hardware` read the report's hardware cell, and the run said error[block-as-value] ('hardware' is a
# block binding, not a value) and error[unbound-role] for `model` inside the bundled cost model; swept
# (`sweep model = [stack, llama3_1_8b]`) it said error[mixed-sweep] at llama3_1_8b. Now one error at the name.
OTHER = ROLE2.replace("model model extends", "model hardware extends").replace("model = model",
                                                                               "model = hardware")
OTHER_ERROR = (
    "error[shadowed-block]: inside report 'r', 'hardware' names the report's own role cell, which shadows the block "
    "'hardware'\n"
    "  --> other.perf:7:20\n"
    "  |\n"
    "7 | report r { model = hardware; hardware = gpu2; workload = wl; stack = vllm; precision = bf16\n"
    "  |                    ^^^^^^^^\n"
    "  = note: the model block 'hardware' is defined at other.perf:6:7; a bare name inside a report reads the "
    "report's own cell of that name before any block (docs/LANGUAGE.md, Reports)\n"
    "  = in: report.r.model\n"
    "  = help: rename the block (e.g. `model my_hardware`) and write `model = my_hardware`\n"
    "\n"
    "1 error\n")


def test_a_model_block_named_like_another_role_the_report_binds(tmp_path, monkeypatch, capsys):
    for command in (["check", "--no-cache"], ["eval"]):
        status, out, err = run(tmp_path, monkeypatch, capsys, {"other.perf": OTHER}, *command, "other.perf")
        assert (status, out, err) == (1, "", OTHER_ERROR)
    # The help's fix evaluates, as binding llama3_1_8b itself does (the block extends it and changes nothing).
    fixed = OTHER.replace("model hardware extends", "model my_hardware extends").replace("model = hardware",
                                                                                         "model = my_hardware")
    status, out, err = run(tmp_path, monkeypatch, capsys, {"fixed.perf": fixed}, "eval", "fixed.perf")
    assert (status, err) == (0, "")
    status, same, err = run(tmp_path, monkeypatch, capsys, {"same.perf": fixed.replace("model = my_hardware",
                                                                                      "model = llama3_1_8b")},
                            "eval", "same.perf")
    assert (status, out) == (0, same)
    # A report cell that binds no role is read as the cell beside a block of its name: `y = x` is x * 3.
    text = fixed.replace("  show prefill.runtime in ms", "  x = 2; y = x * 3\n  show y")
    text += "model x extends llama3_1_8b { }\n"
    status, out, err = run(tmp_path, monkeypatch, capsys, {"v.perf": text}, "eval", "v.perf")
    assert (status, err) == (0, "")
    assert out.splitlines()[-1].strip() == str(2 * 3)


def test_a_model_block_named_precision(tmp_path, monkeypatch, capsys):
    text = ROLE2.replace("model model extends", "model precision extends").replace("model = model",
                                                                                   "model = precision")
    status, out, err = run(tmp_path, monkeypatch, capsys, {"p.perf": text}, "check", "--no-cache", "p.perf")
    assert (status, out) == (1, "")
    assert err.splitlines()[:2] + err.splitlines()[-4:] == [
        "error[shadowed-block]: inside report 'r', 'precision' names the report's own role cell, which shadows the "
        "block 'precision'",
        "  --> p.perf:7:20",
        "  = in: report.r.model",
        "  = help: rename the block (e.g. `model my_precision`) and write `model = my_precision`",
        "",
        "1 error"]


def test_a_sweep_that_lists_a_block_named_like_another_role(tmp_path, monkeypatch, capsys):
    # Before: error[mixed-sweep]: the sweep 'model' mixes blocks and values, at llama3_1_8b.
    text = ROLE2.replace("model model extends", "model stack extends").replace(
        "model = model;", "sweep model = [stack, llama3_1_8b];")
    status, out, err = run(tmp_path, monkeypatch, capsys, {"sw.perf": text}, "check", "--no-cache", "sw.perf")
    assert (status, out) == (1, "")
    assert err.splitlines()[:2] + err.splitlines()[-4:] == [
        "error[shadowed-block]: inside report 'r', 'stack' names the report's own role cell, which shadows the block "
        "'stack'",
        "  --> sw.perf:7:27",
        "  = in: report.r.model",
        "  = help: rename the block (e.g. `model my_stack`) and write `sweep model = [my_stack, llama3_1_8b]`",
        "",
        "1 error"]

