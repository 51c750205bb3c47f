"""What a newcomer found `perfdsl check` pass, or crash on, where `eval` then refused the file: a cell declared with a
unit given a string, an override of a number by a string, a bundled GPU's copy without a declared input that every
point reads (in both values of an `if`), and a bad override through the Python API. Each is the exact text and
exit status of the command they typed (or the API call they made); the CLI runs in-process with the test's folder as
the working directory, so the bundled libraries are found as they are installed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import perfdsl
from perfdsl import cli
from perfdsl.errors import UsageError

REPO = Path(__file__).resolve().parent.parent
GPU_PERF = REPO / "hardware" / "gpu.perf"


def _line_of(path: Path, start: str) -> int:
    """The 1-based line of `path` that starts with `start` (the place a diagnostic quotes, found, not copied)."""
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(start))


def _l40s(edit=lambda block: block) -> str:
    """A report file with a copy of the bundled L40S (hardware/ada.perf) named `my_l40s`, changed by `edit`, on the
    bundled cost model as the bundled reports use it."""
    text = (REPO / "hardware" / "ada.perf").read_text()
    block = re.search(r"^hardware l40s extends ada \{.*?^\}\n", text, re.S | re.M).group(0)
    return ('import "costmodels/transformer_inference.perf"\nimport "models/llama.perf"\nimport "hardware/ada.perf"\n\n'
            + edit(block.replace("hardware l40s extends", "hardware my_l40s extends")) + """
workload w extends inference {
    batch = 1
    seq_len = 512
    output_len = 128
}
report r {
    model = llama3_2_1b
    hardware = my_l40s
    workload = w
    stack = hf_eager
    precision = fp16
    show serving.ttft in ms as ttft, memory.peak in GiB as memory, memory.fits as fits
}
""")


def run(argv: list[str], capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, err


# -- a string in a cell declared with a unit -----------------------------------------------------------------------

def test_a_string_in_a_cell_declared_in_watts_is_an_error_at_the_string(work, capsys):
    # Before: error[internal]: AttributeError: 'NoneType' object has no attribute 'exponents', exit status 1.
    (work / "t.perf").write_text('hardware h { tdp: W = "350 W" }\n')
    assert run(["check", "t.perf"], capsys) == (1, """\
error[unit-mismatch]: 'tdp' is declared as W, but "350 W" is a string, not a quantity in W
  --> t.perf:1:23
  |
1 | hardware h { tdp: W = "350 W" }
  |                       ^^^^^^^
  = note: declared at t.perf:1:19
  = in: hardware.h.tdp
  = help: write 350 W without quotes

1 error
""")


def test_a_string_overriding_a_declared_input_of_a_bundled_gpu_fails_check_and_eval_alike(work, capsys):
    # Before: error[internal] in check and in eval.
    (work / "r.perf").write_text(_l40s(lambda block: re.sub(r"\n    tdp      = 350 W[^\n]*", '\n    tdp = "350 W"', block)))
    line = _line_of(work / "r.perf", '    tdp = "350 W"')
    expected = f"""\
error[unit-mismatch]: 'tdp' is declared as W, but "350 W" is a string, not a quantity in W
   --> r.perf:{line}:11
   |
{line} |     tdp = "350 W"
   |           ^^^^^^^
   = note: declared at {GPU_PERF}:{_line_of(GPU_PERF, "    tdp: W")}:10
   = in: hardware.my_l40s.tdp
   = help: write 350 W without quotes

1 error
"""
    assert run(["check", "r.perf"], capsys) == (1, expected)
    assert run(["eval", "r.perf"], capsys) == (1, expected)


def test_a_string_overriding_a_number_fails_check_at_the_override(work, capsys):
    # Before: `check` said ok; only a report showing the cell said "'hardware.tdp' is a string, so it has no unit".
    (work / "t.perf").write_text('hardware base { tdp = 300 W }\nhardware h extends base { tdp = "350 W" }\n')
    assert run(["check", "t.perf"], capsys) == (1, """\
error[unit-mismatch]: 'tdp' overrides base.tdp (W), but "350 W" is a string, not a quantity in W
  --> t.perf:2:33
  |
2 | hardware h extends base { tdp = "350 W" }
  |                                 ^^^^^^^
  = note: base.tdp is defined at t.perf:1:17
  = in: hardware.h.tdp
  = help: write 350 W without quotes
  = help: an override keeps the dimension of the cell it replaces

1 error
""")


# -- a declared input that every point reads -----------------------------------------------------------------------

def _missing_mem_size(file: str) -> str:
    return f"""\
error[missing-input]: hardware 'my_l40s' (which extends 'gpu') does not give its declared input 'mem_size' (byte)
  --> {file}:5:10
  |
5 | hardware my_l40s extends ada {{
  |          ^^^^^^^
  = note: declared at {GPU_PERF}:{_line_of(GPU_PERF, "    mem_size: byte")}:5
  = in: hardware.my_l40s.mem_size
  = help: give it in 'my_l40s' (`mem_size = ...`) or with --set my_l40s.mem_size=VALUE
"""


def test_a_bundled_gpu_copy_without_its_memory_size_fails_check_as_eval_does(work, capsys):
    # memory.fits reads mem_visible (= mem_size here) in both values of its `if`, and the KV pool in both values of
    # its own: every point reads it. Before: check said ok (exit 0), eval failed with "which every sweep point needs"
    # beside "read only where the `if` ... chooses it".
    (work / "r.perf").write_text(_l40s(lambda block: re.sub(r"\n    mem_size = 48 GiB[^\n]*", "", block)))
    expected = _missing_mem_size("r.perf") + "\n1 error\n"
    assert run(["check", "r.perf"], capsys) == (1, expected)
    assert run(["eval", "r.perf"], capsys) == (1, expected)


def test_a_misspelt_memory_size_is_the_missing_input_and_the_near_miss(work, capsys):
    (work / "r.perf").write_text(_l40s(lambda block: block.replace("mem_size = 48 GiB", "mem_sise = 48 GiB")))
    code, err = run(["check", "r.perf"], capsys)
    assert code == 1
    assert err.startswith(_missing_mem_size("r.perf") + "\nwarning[unread-cell]: 'mem_sise' is not a cell of 'ada' "
                          "(its parent) and nothing reads it\n")
    assert err.endswith("   = help: did you mean 'mem_size'?\n   = help: a new cell of this name is fine once a formula, "
                        "`show` or `require` reads it\n\n1 error, 1 warning\n")


def test_the_bundled_gpu_copy_as_given_checks_and_evaluates(work, capsys):
    (work / "r.perf").write_text(_l40s())
    assert run(["check", "r.perf"], capsys)[0] == 0
    assert run(["eval", "r.perf", "--format", "csv"], capsys) == (0, "")


# -- a report's own condition that reads an input in both values of an `if` -------------------------------------------

CONDITION = """\
hardware gpu {
    mem_size: byte
    pooled = false
}
hardware card extends gpu { }
workload w { sweep batch = [1, 8] }
costmodel memory {
    need = workload.batch * 1 GB
    fits = need <= 1 TB
}
report r {
    hardware = card
    workload = w
    CONDITION
    show memory.fits
}
"""
MISSING_IN_CONDITION = """\
error[missing-input]: hardware 'card' (which extends 'gpu') does not give its declared input 'mem_size' (byte)
  --> c.perf:5:10
  |
5 | hardware card extends gpu { }
  |          ^^^^
  = note: declared at c.perf:2:5
  = in: hardware.card.mem_size
  = help: give it in 'card' (`mem_size = ...`) or with --set card.mem_size=VALUE

1 error
"""


def test_a_where_that_reads_an_input_in_both_values_of_an_if_fails_check_as_eval_does(work, capsys):
    # Every point reads mem_size, through one value or the other. Before: check said ok (exit 0), eval failed.
    (work / "c.perf").write_text(CONDITION.replace(
        "CONDITION", "where if(hardware.pooled, 0.9 * hardware.mem_size, hardware.mem_size) > memory.need"))
    assert run(["check", "c.perf"], capsys) == (1, MISSING_IN_CONDITION)
    assert run(["eval", "c.perf"], capsys) == (1, MISSING_IN_CONDITION)


def test_a_where_with_the_input_in_both_values_of_an_inner_if_fails_check_as_eval_does(work, capsys):
    (work / "c.perf").write_text(CONDITION.replace(
        "CONDITION", "where memory.need < 1 TB and if(workload.batch > 4, "
        "if(hardware.pooled, hardware.mem_size > 2 * memory.need, hardware.mem_size > memory.need), "
        "hardware.mem_size > memory.need)"))
    assert run(["check", "c.perf"], capsys) == (1, MISSING_IN_CONDITION)
    assert run(["eval", "c.perf"], capsys) == (1, MISSING_IN_CONDITION)


def test_a_where_that_reads_an_input_in_one_value_only_checks_and_evaluates(work, capsys):
    # `pooled` is false: no point takes the value that reads mem_size, so neither command needs it.
    (work / "c.perf").write_text(CONDITION.replace(
        "CONDITION", "where if(hardware.pooled, hardware.mem_size > memory.need, true)"))
    assert run(["check", "c.perf"], capsys)[0] == 0
    assert run(["eval", "c.perf", "--format", "csv"], capsys) == (0, "")


def test_a_require_that_reads_a_missing_input_does_not_apply_in_check_or_eval(work, capsys):
    # A constraint never asks for a figure the shown cells do not need (docs/LANGUAGE.md, "Constraints"): read in
    # both values of an `if`, as read outside one, it does not apply, in check and in eval alike.
    for condition in ("if(hardware.pooled, 0.9 * hardware.mem_size, hardware.mem_size) > memory.need",
                      "hardware.mem_size > memory.need"):
        (work / "c.perf").write_text(CONDITION.replace("CONDITION", f'require {condition}, "the KV cache fits"'))
        assert run(["check", "c.perf"], capsys)[0] == 0
        assert run(["eval", "c.perf", "--format", "csv"], capsys) == (0, "")


# -- a bad override through the Python API and the command line ----------------------------------------------------

def test_an_unknown_name_for_a_number_through_the_api_is_a_usage_error_at_the_override():
    program = perfdsl.load([str(REPO / "reports" / "example.perf")])
    with pytest.raises(UsageError) as info:
        program.evaluate("example", overrides={"batch": "abc"})
    assert info.value.exit_status == 2
    assert str(info.value) == """\
error[unknown-name]: unknown name 'abc' in workload 'grid'
  --> overrides['batch']:1:1
  |
1 | abc
  | ^^^
  = in: workload.grid.batch
  = help: 'batch' takes a number, a list or a range, not a name: e.g. overrides={'batch': [1, 8]} or \
overrides={'batch': "1 .. 64 by *2"}"""


def test_an_unknown_name_for_a_number_on_the_command_line_says_what_the_cell_takes(work, capsys):
    # Before: "= help: available: ..." with every cell of the workload (51 of deployment_grid's).
    report = str(REPO / "reports" / "deployment.perf")
    assert run(["eval", report, "--set", "batch=abc"], capsys) == (2, """\
error[unknown-name]: unknown name 'abc' in workload 'deployment_grid'
  --> --set batch:1:1
  |
1 | abc
  | ^^^
  = in: workload.deployment_grid.batch
  = help: 'batch' takes a number, a list or a range, not a name: e.g. --set batch=1,8 or --set batch="1 .. 64 by *2"

1 error
""")


@pytest.mark.parametrize("report, setting, where, takes", [
    # Before, for `yes`: "= help: available: act_bytes, allreduce_latency, ..." (the workload's cells).
    ("seed_benchmark", "inference.use_cache=yes", "workload 'seed_step'",
     "'inference.use_cache' takes true or false, not a name: e.g. --set inference.use_cache=true"),
    ("example", "rtx_a5000.mem_bw=abc", "hardware 'rtx_a5000'",
     "'rtx_a5000.mem_bw' takes a quantity in byte/s, not a name: e.g. --set rtx_a5000.mem_bw=\"768 GB/s\""),
])
def test_a_flag_or_a_unit_cell_set_to_a_name_says_what_the_cell_takes(work, capsys, report, setting, where, takes):
    name, value = setting.split("=")
    path = {"inference.use_cache": "workload.seed_step.use_cache"}.get(name, f"hardware.{name}")
    assert run(["eval", str(REPO / "reports" / f"{report}.perf"), "--set", setting], capsys) == (2, f"""\
error[unknown-name]: unknown name '{value}' in {where}
  --> --set {name}:1:1
  |
1 | {value}
  | {'^' * len(value)}
  = in: {path}
  = help: {takes}

1 error
""")


def test_a_name_close_to_a_cell_keeps_its_suggestions(work, capsys):
    report = str(REPO / "reports" / "example.perf")
    assert run(["eval", report, "--set", "batch=bach"], capsys) == (2, """\
error[unknown-name]: unknown name 'bach' in workload 'grid'
  --> --set batch:1:1
  |
1 | bach
  | ^^^^
  = in: workload.grid.batch
  = help: did you mean 'batch'?
  = help: available: batch, seq, tokens

1 error
""")


def test_a_quoted_block_name_through_the_api_says_how_the_api_takes_it():
    program = perfdsl.load([str(REPO / "reports" / "capacity_planning.perf")])
    with pytest.raises(UsageError) as info:
        program.evaluate(overrides={"stack": '"vllm"'})
    assert str(info.value) == """\
error[quoted-role]: 'stack' is the string "vllm", but a formula reads the role 'stack'
  --> overrides['stack']:1:1
  |
1 | "vllm"
  | ^^^^^^
  = in: report.capacity_planning.stack
  = help: give the block's bare name: `overrides={'stack': 'vllm'}` (the block `vllm` exists)"""


# -- swept values of a cell declared with a unit -------------------------------------------------------------------

SWEPT = 'import "costmodels/transformer_inference.perf"\nimport "models/llama.perf"\nimport "hardware/ada.perf"\n' \
    """
workload w extends inference {
    sweep batch = VALUES
    seq_len = 512
    output_len = 128
}
report r {
    model = llama3_2_1b
    hardware = l40s
    workload = w
    stack = hf_eager
    precision = fp16
    show serving.ttft in ms as ttft
}
"""
COSTMODEL = REPO / "costmodels" / "transformer_inference.perf"
BATCH_DECLARED = _line_of(COSTMODEL, "    batch: count")


def test_swept_strings_in_a_cell_declared_as_a_count_are_one_error_at_the_sweep(work, capsys):
    # Before: 13 type-mismatch errors inside costmodels/ (min(): its arguments are numbers, ...), none at line 5.
    (work / "s.perf").write_text(SWEPT.replace("VALUES", '["1", "2"]'))
    expected = f"""\
error[unit-mismatch]: 'batch' is declared as count, but its swept values are strings, not quantities in count
  --> s.perf:6:19
  |
6 |     sweep batch = ["1", "2"]
  |                   ^^^^^^^^^^
  = note: declared at {COSTMODEL}:{BATCH_DECLARED}:12
  = in: workload.w.batch
  = help: write the values without quotes: [1, 2]

1 error
"""
    assert run(["check", "s.perf"], capsys) == (1, expected)
    assert run(["eval", "s.perf"], capsys) == (1, expected)


def test_swept_values_of_another_dimension_are_one_error_at_the_sweep(work, capsys):
    (work / "s.perf").write_text(SWEPT.replace("VALUES", "[1 s, 2 s]"))
    code, err = run(["check", "s.perf"], capsys)
    assert code == 1 and err.startswith(
        "error[unit-mismatch]: 'batch' is declared as count but its swept values are in s\n  --> s.perf:6:19\n")
    assert err.endswith("\n1 error\n")


def test_a_string_set_on_a_swept_cell_is_bad_usage_at_the_set(work, capsys):
    # Before: exit 1 with 15 type-mismatch errors in the library, none naming the --set.
    (work / "s.perf").write_text(SWEPT.replace("VALUES", "[1, 8]"))
    assert run(["eval", "s.perf", "--set", 'batch="8"'], capsys) == (2, f"""\
error[unit-mismatch]: 'batch' is declared as count, but its swept values are strings, not quantities in count
  --> --set batch:1:1
  |
1 | "8"
  | ^
  = note: declared at {COSTMODEL}:{BATCH_DECLARED}:12
  = in: workload.w.batch
  = help: write 8 without quotes

1 error
""")


def test_a_gpu_whose_family_is_not_imported_is_one_error_at_its_extends(work, capsys):
    """The cells it would inherit are the unknown parent's consequence: check printed seven unknown-name errors in
    costmodels/ first and the cause last."""
    (work / "g.perf").write_text(_l40s().replace('import "hardware/ada.perf"\n', ""))
    code, err = run(["check", "g.perf"], capsys)
    assert (code, err.count("error["), err.splitlines()[0]) == (
        1, 1, "error[unknown-parent]: hardware 'my_l40s' extends 'ada', which is not defined")
    assert "add `import \"hardware/ada.perf\"`" in err


def test_api_errors_give_their_help_in_the_api_form():
    """Through the API the help shows `overrides={...}` and `report=...`, not the command line's --set and --report
    (a newcomer's notebook got the command-line forms)."""
    seed = perfdsl.load([REPO / "reports" / "seed_benchmark.perf"])
    with pytest.raises(UsageError) as caught:
        seed.evaluate(overrides={"rtx_a5000.mem_bw": 900})
    assert caught.value.diagnostics[0].hints == [
        "'900' has no unit: write the one meant, e.g. overrides={'rtx_a5000.mem_bw': \"900 B/s\"} or "
        "overrides={'rtx_a5000.mem_bw': \"900 GB/s\"}"]
    with pytest.raises(UsageError) as caught:
        seed.evaluate(overrides={"a.b.c": 1})
    assert caught.value.diagnostics[0].hints == ["name a cell as 'CELL', 'BLOCK.CELL' or 'ROLE.CELL'"]
    with pytest.raises(UsageError) as caught:
        perfdsl.load([REPO / "reports" / "serving.perf"]).evaluate()
    assert caught.value.diagnostics[0].hints == ["choose one: report='serving_offline'"]


def test_the_command_line_keeps_its_forms(work, capsys):
    code, err = run(["eval", str(REPO / "reports" / "seed_benchmark.perf"), "--set", "rtx_a5000.mem_bw=900"], capsys)
    assert code == 2 and ("= help: '900' has no unit: write the one meant, e.g. --set rtx_a5000.mem_bw=\"900 B/s\" or "
                          '--set rtx_a5000.mem_bw="900 GB/s"\n') in err
