"""error[quoted-role]: a report that sets a role the cost model reads to a string naming a block (`stack = "vllm"`)
is told to drop the quotes, instead of being told that it binds no block to the role."""

from __future__ import annotations

from pathlib import Path

import pytest

import perfdsl

REPO = Path(__file__).resolve().parent.parent
SPEC = """import "costmodels/transformer_inference.perf"
import "models/qwen2.perf"
import "hardware/hopper.perf"
workload w extends inference {{ batch = 1; seq_len = 128; gen_tokens = 16 }}
report r {{
    model = qwen2_5_3b
    {hardware}
    workload = w
    {stack}
    {precision}
    show serving.tpot in ms
}}
"""
BOUND = {"hardware": "hardware = h100_sxm5", "stack": "stack = vllm", "precision": "precision = fp16"}


def check(**quoted: str) -> list[str]:
    text = SPEC.format(**{**BOUND, **quoted})
    diagnostics = perfdsl.load([], texts={str(REPO / "q.perf"): text}).check()
    return [d.render().replace(f"{REPO}/", "") for d in diagnostics]


def test_a_quoted_stack_is_told_to_drop_the_quotes():
    assert check(stack='stack = "vllm"') == [
        "error[quoted-role]: 'stack' is the string \"vllm\", but a formula reads the role 'stack'\n"
        "  --> q.perf:9:13\n"
        "  |\n"
        "9 |     stack = \"vllm\"\n"
        "  |             ^^^^^^\n"
        "  = in: report.r.stack\n"
        "  = help: write `stack = vllm` without quotes (the block `vllm` exists)"]


@pytest.mark.parametrize("role, line, block", [("precision", 10, "fp8"), ("hardware", 7, "h100_sxm5")])
def test_any_role_quoted_with_a_block_name_is_the_same_error(role, line, block):
    (first,) = check(**{role: f'{role} = "{block}"'})
    assert first.splitlines()[0] == (
        f"error[quoted-role]: '{role}' is the string \"{block}\", but a formula reads the role '{role}'")
    assert first.splitlines()[1].endswith(f"q.perf:{line}:{len(role) + 8}")
    assert first.splitlines()[-1].strip() == (
        f"= help: write `{role} = {block}` without quotes (the block `{block}` exists)")


def test_a_string_naming_no_block_is_still_an_unbound_role():
    (first,) = check(stack='stack = "PyTorch eager"')
    assert first.splitlines()[0] == "error[unbound-role]: report 'r' binds no block to the role 'stack'"


def test_a_quoted_stack_on_the_command_line_is_told_the_command_line_fix(capsys):
    from perfdsl.cli import main

    status = main(["eval", str(REPO / "reports/serving.perf"), "--report", "serving_offline",
                   "--set", 'stack="vllm"'])
    assert status == 2
    assert capsys.readouterr().err == (
        "error[quoted-role]: 'stack' is the string \"vllm\", but a formula reads the role 'stack'\n"
        "  --> --set stack:1:1\n"
        "  |\n"
        "1 | \"vllm\"\n"
        "  | ^^^^^^\n"
        "  = in: report.serving_offline.stack\n"
        "  = help: write `--set stack=vllm` without quotes (the block `vllm` exists)\n"
        "\n"
        "1 error\n")


def test_a_swept_role_given_quoted_names_is_the_same_error(capsys):
    # A report that sweeps hardware, given --set hardware='"h100_sxm5"': the sweep of one string bound no block, and
    # the error was unbound-role at the cost model's line, exit 1, as if the spec were wrong.
    from perfdsl.cli import main

    assert check(hardware='sweep hardware = ["h100_sxm5", "h200_sxm"]')[0].splitlines()[:2] == [
        "error[quoted-role]: 'hardware' is the string \"h100_sxm5\", but a formula reads the role 'hardware'",
        "  --> q.perf:7:23"]
    status = main(["eval", str(REPO / "reports/capacity_planning.perf"), "--set", 'hardware="h100_sxm5"'])
    assert status == 2
    assert capsys.readouterr().err == (
        "error[quoted-role]: 'hardware' is the string \"h100_sxm5\", but a formula reads the role 'hardware'\n"
        "  --> --set hardware:1:1\n"
        "  |\n"
        "1 | \"h100_sxm5\"\n"
        "  | ^^^^^^^^^^^\n"
        "  = in: report.capacity_planning.hardware\n"
        "  = help: write `--set hardware=h100_sxm5` without quotes (the block `h100_sxm5` exists)\n"
        "\n"
        "1 error\n")


def test_a_quoted_name_of_no_block_given_on_the_command_line_is_said_at_the_set(capsys):
    # It was unbound-role at the cost model's line, with "add `sweep hardware = [...]`", exit 1.
    from perfdsl.cli import main

    assert main(["eval", str(REPO / "reports/capacity_planning.perf"), "--set", 'hardware="h100"']) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[:2] == [
        "error[quoted-role]: 'hardware' is the string \"h100\", but a formula reads the role 'hardware'",
        "  --> --set hardware:1:1"]
    assert err.splitlines()[-3] == ("  = help: write `--set hardware=h100_nvl` without quotes (no block is named "
                                    "`h100`; did you mean `h100_nvl`?)")
