"""An override, or a sweep, keeps the type of the cell it replaces (docs/LANGUAGE.md, "Blocks"): what a newcomer found
`perfdsl check` pass, exit 0, in a copy of a bundled GPU. A sweep of a cell declared with a unit was checked only
where a report binds its block; a number, boolean or sweep of numbers over an inherited string (or boolean) cell was
not checked at all. Each test is the exact text and exit status of the command typed; the CLI runs in-process with
the test's folder as the working directory, so the bundled libraries are imported as they are installed.
"""

from __future__ import annotations

import re
from pathlib import Path


from perfdsl import cli

REPO = Path(__file__).resolve().parent.parent
GPU_PERF = REPO / "hardware" / "gpu.perf"
AMPERE = REPO / "hardware" / "ampere_workstation.perf"


def _place(path: Path, start: str) -> str:
    """`line:col` of the first line of `path` that starts with `start`, at its first non-blank (a cell's name), found
    in the file, not copied."""
    number, line = next((n, line) for n, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(start))
    return f"{number}:{len(line) - len(line.lstrip()) + 1}"


TDP_DECLARED = f"{GPU_PERF}:" + _place(GPU_PERF, "    tdp: W").split(":")[0] + ":10"      # the `W` of `tdp: W`
LABEL_DEFINED = f"{AMPERE}:" + _place(AMPERE, '    label    = "NVIDIA RTX A5000"')
BF16_DEFINED = f"{GPU_PERF}:" + _place(GPU_PERF, "    bf16 = true")


def _copy(line: str) -> str:
    """A file with a copy of the bundled RTX A5000 that writes `line` (no report)."""
    return f'import "hardware/ampere_workstation.perf"\nhardware my_a5000 extends rtx_a5000 {{\n    {line}\n}}\n'


def _with_report(line: str) -> str:
    """_copy(line) with a report that binds the copy and shows one of its cells (line 6 on)."""
    return _copy(line) + "report r {\n    hardware = my_a5000\n    show hardware.mem_bw in GB/s\n}\n"


def run(argv: list[str], capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = cli.main(argv)
    _, err = capsys.readouterr()
    return code, err


def check(text: str, capsys, work: Path) -> tuple[int, str]:
    """`perfdsl check x.perf` of `text`: exit status and stderr, with its timed `ok:` line (the only line of a clean
    check) read as "ok"."""
    (work / "x.perf").write_text(text)
    code, err = run(["check", "x.perf"], capsys)
    return code, "ok" if re.fullmatch(r"ok: \d+ files?, \d+ blocks?, \d+ reports? \(\d+\.\d\d s\)\n", err) else err


# -- swept values of a declared cell, without a report ---------------------------------------------------------------

SWEPT_STRING = f"""\
error[unit-mismatch]: 'tdp' is declared as W, but its swept values are strings, not quantities in W
  --> x.perf:3:17
  |
3 |     sweep tdp = ["300 W"]
  |                 ^^^^^^^^^
  = note: declared at {TDP_DECLARED}
  = in: hardware.my_a5000.tdp
  = help: write 300 W without quotes

1 error
"""


def test_swept_strings_of_a_declared_cell_are_one_error_at_the_values_without_a_report(work, capsys):
    # Before: ok (exit 0); only a report that binds the block reported the values.
    assert check(_copy('sweep tdp = ["300 W"]'), capsys, work) == (1, SWEPT_STRING)


def test_a_report_that_binds_the_block_gives_the_same_one_error(work, capsys):
    # The report's check and the report-free one find the same error: it is printed once, by check and by eval.
    assert check(_with_report('sweep tdp = ["300 W"]'), capsys, work) == (1, SWEPT_STRING)
    assert run(["eval", "x.perf"], capsys) == (1, SWEPT_STRING)


def test_swept_values_of_another_dimension_are_one_error_at_the_values_without_a_report(work, capsys):
    expected = f"""\
error[unit-mismatch]: 'tdp' is declared as W but its swept values are in byte/s
  --> x.perf:3:17
  |
3 |     sweep tdp = [300 GB/s, 400 GB/s]
  |                 ^^^^^^^^^^^^^^^^^^^^
  = note: declared at {TDP_DECLARED}
  = in: hardware.my_a5000.tdp

1 error
"""
    assert check(_copy("sweep tdp = [300 GB/s, 400 GB/s]"), capsys, work) == (1, expected)
    assert check(_with_report("sweep tdp = [300 GB/s, 400 GB/s]"), capsys, work) == (1, expected)


def test_a_swept_range_of_another_dimension_is_the_same_error(work, capsys):
    code, err = check(_copy("sweep tdp = 1 s .. 3 s by 1 s"), capsys, work)
    assert code == 1 and err.startswith(
        "error[unit-mismatch]: 'tdp' is declared as W but its swept values are in s\n  --> x.perf:3:17\n")
    assert err.endswith("\n1 error\n")


def test_swept_values_of_the_declared_dimension_check_clean(work, capsys):
    assert check(_copy("sweep tdp = [200 W, 230 W]"), capsys, work) == (0, "ok")
    assert check(_copy("sweep tdp = 200 W .. 300 W by 50 W"), capsys, work) == (0, "ok")


# -- an override keeps the type of a string or boolean cell --------------------------------------------------------

def test_a_number_overriding_a_string_cell_is_an_error_at_the_number(work, capsys):
    # Before: ok (exit 0). The opposite (a string over a number) was an error already, in the same words.
    assert check(_copy("label = 5"), capsys, work) == (1, f"""\
error[unit-mismatch]: 'label' overrides rtx_a5000.label (a string), but 5 is a number, not a string
  --> x.perf:3:13
  |
3 |     label = 5
  |             ^
  = note: rtx_a5000.label is defined at {LABEL_DEFINED}
  = in: hardware.my_a5000.label
  = help: write "5" in quotes
  = help: an override keeps the type of the cell it replaces

1 error
""")


def test_a_formula_giving_a_number_over_a_string_cell_says_what_it_gives(work, capsys):
    code, err = check(_copy("label = 2 * mem_bw"), capsys, work)
    assert code == 1 and err.startswith(
        "error[unit-mismatch]: 'label' overrides rtx_a5000.label (a string), but its formula gives byte/s, "
        "not a string\n  --> x.perf:3:13\n")
    assert "help: write" not in err and err.endswith(
        "  = help: an override keeps the type of the cell it replaces\n\n1 error\n")


def test_a_boolean_over_a_string_and_a_number_over_a_boolean_are_errors(work, capsys):
    code, err = check(_copy("label = true"), capsys, work)
    assert code == 1 and err.startswith(
        "error[unit-mismatch]: 'label' overrides rtx_a5000.label (a string), but true is a boolean, not a string\n")
    assert '  = help: write "true" in quotes\n' in err
    assert check(_copy("bf16 = 1"), capsys, work) == (1, f"""\
error[unit-mismatch]: 'bf16' overrides gpu.bf16 (a boolean), but 1 is a number, not a boolean
  --> x.perf:3:12
  |
3 |     bf16 = 1
  |            ^
  = note: gpu.bf16 is defined at {BF16_DEFINED}
  = in: hardware.my_a5000.bf16
  = help: write true or false
  = help: an override keeps the type of the cell it replaces

1 error
""")
    code, err = check(_copy('bf16 = "false"'), capsys, work)
    assert code == 1 and err.startswith(
        "error[unit-mismatch]: 'bf16' overrides gpu.bf16 (a boolean), but \"false\" is a string, not a boolean\n")
    assert "  = help: write false without quotes\n" in err


def test_a_sweep_of_numbers_over_a_string_cell_is_an_error_at_the_values(work, capsys):
    expected = f"""\
error[unit-mismatch]: 'label' overrides rtx_a5000.label (a string), but its swept values are numbers, not strings
  --> x.perf:3:19
  |
3 |     sweep label = [1, 2]
  |                   ^^^^^^
  = note: rtx_a5000.label is defined at {LABEL_DEFINED}
  = in: hardware.my_a5000.label
  = help: write the values in quotes: ["1", "2"]
  = help: an override keeps the type of the cell it replaces

1 error
"""
    assert check(_copy("sweep label = [1, 2]"), capsys, work) == (1, expected)
    assert check(_with_report("sweep label = [1, 2]"), capsys, work) == (1, expected)


def test_a_sweep_of_strings_over_an_undeclared_number_is_an_error_at_the_values(work, capsys):
    (work / "x.perf").write_text('hardware base { clock = 1 GHz }\n'
                                 'hardware h extends base { sweep clock = ["2 GHz"] }\n')
    assert run(["check", "x.perf"], capsys) == (1, """\
error[unit-mismatch]: 'clock' overrides base.clock (Hz), but its swept values are strings, not quantities in Hz
  --> x.perf:2:41
  |
2 | hardware h extends base { sweep clock = ["2 GHz"] }
  |                                         ^^^^^^^^^
  = note: base.clock is defined at x.perf:1:17
  = in: hardware.h.clock
  = help: write 2 GHz without quotes
  = help: an override keeps the dimension of the cell it replaces

1 error
""")
    (work / "x.perf").write_text('hardware base { clock = 1 GHz }\nhardware h extends base { sweep clock = [2 W] }\n')
    code, err = run(["check", "x.perf"], capsys)
    assert code == 1 and err.startswith(
        "error[unit-mismatch]: 'clock' overrides base.clock (Hz) with W\n  --> x.perf:2:41\n")   # one value


def test_overrides_of_the_same_type_check_clean(work, capsys):
    for line in ('label = "My RTX A5000"', 'label = if(mem_bw > 1 TB/s, "fast", "slow")', "bf16 = false",
                 'sweep label = ["a", "b"]', "sweep bf16 = [true, false]", "tdp = 250 W"):
        assert check(_copy(line), capsys, work) == (0, "ok"), line


def test_a_choice_given_a_number_is_the_one_choice_error(work, capsys):
    # Before: the bad-choice error and five unit-mismatch errors in gpu.perf's `hbm`, which compares the cell with
    # strings (follow-on errors of the one mistake).
    code, err = check(_copy("mem_type = 5"), capsys, work)
    assert code == 1 and err.startswith(
        "error[bad-choice]: 'mem_type' is one of \"GDDR6\", \"GDDR6X\", \"GDDR7\", \"HBM2\", \"HBM2e\", \"HBM3\" "
        "or \"HBM3e\": a string, not the number 5\n  --> x.perf:3:16\n")
    assert err.endswith("\n1 error\n")


def test_a_number_set_over_an_inherited_boolean_is_bad_usage_at_the_set(work, capsys):
    # `--set` gives my_a5000 a cell of its own that overrides the one it inherits from gpu, under the same rule (eval
    # checks the cells the report reads: it shows this one).
    (work / "x.perf").write_text(_copy("tdp = 230 W")
                                 + "report r {\n    hardware = my_a5000\n    show hardware.bf16\n}\n")
    assert run(["eval", "x.perf", "--set", "my_a5000.bf16=1"], capsys) == (2, f"""\
error[unit-mismatch]: 'bf16' overrides gpu.bf16 (a boolean), but 1 is a number, not a boolean
  --> --set my_a5000.bf16:1:1
  |
1 | 1
  | ^
  = note: gpu.bf16 is defined at {BF16_DEFINED}
  = in: hardware.my_a5000.bf16
  = help: write true or false
  = help: an override keeps the type of the cell it replaces

1 error
""")


# -- a number of another dimension over a number -------------------------------------------------------------------

COSTMODEL = REPO / "costmodels" / "transformer_inference.perf"
OUTPUT_LEN_DEFINED = f"{COSTMODEL}:" + _place(COSTMODEL, "    output_len = ")

# The newcomer's workload (e10_unit.perf): the bundled cost model reads output_len in a constraint, in decode.steps,
# decode.context, kv_cache.context_end, memory.kv_cache and serving.cluster_throughput.
WORKLOAD_IN_MS = """\
import "costmodels/transformer_inference.perf"
import "software/stacks.perf"
import "software/precisions.perf"
import "hardware/hopper.perf"
import "models/llama.perf"

workload mygrid extends inference {
    sweep batch = [1, 8]
    seq_len = 512
    output_len = 256 ms
    tp = 1
    n_gpus = tp
    use_cache = true
    lm_head_all_positions = false
}

report mine {
    model = llama3_1_8b
    hardware = h100_sxm5
    workload = mygrid
    stack = vllm
    precision = bf16
    show serving.tpot in ms as tpot, serving.cluster_throughput in token/s as throughput
}
"""

OUTPUT_LEN_IN_MS = f"""\
error[unit-mismatch]: 'output_len' overrides inference.output_len (count) with s
   --> x.perf:10:18
   |
10 |     output_len = 256 ms
   |                  ^^^^^^
   = note: inference.output_len is defined at {OUTPUT_LEN_DEFINED}
   = in: workload.mygrid.output_len
   = help: an override keeps the dimension of the cell it replaces

1 error
"""


def test_a_number_of_another_dimension_over_a_number_is_its_one_error(work, capsys):
    # Before: eight errors, the first seven follow-ons in transformer_inference.perf (the constraint on output_len,
    # `cannot add 'tokens_in' (token) and 'tokens_out' (s*token)`, ...): the override was typed with its own
    # dimension, so everything that reads the cell was checked with seconds. It now stands for an unknown type, as
    # an override of another kind does. `eval` of the report refuses it with the same one error.
    assert check(WORKLOAD_IN_MS, capsys, work) == (1, OUTPUT_LEN_IN_MS)
    assert run(["eval", "x.perf"], capsys) == (1, OUTPUT_LEN_IN_MS)


def test_a_sweep_of_another_dimension_over_a_number_is_its_one_error(work, capsys):
    code, err = check(WORKLOAD_IN_MS.replace("    output_len = 256 ms", "    sweep output_len = [1 ms, 2 ms]"),
                      capsys, work)
    assert code == 1 and err.startswith("error[unit-mismatch]: 'output_len' overrides inference.output_len (count) "
                                        "with swept values in s\n   --> x.perf:10:24\n")
    assert err.count("error[") == 1 and err.endswith("\n1 error\n")


# -- an override of a formula that reads a sweep ---------------------------------------------------------------------

OVER_A_SWEEPS_FORMULA = """\
workload wl {
    sweep batch = [1, 2, 4]
    t = 2 s
    tput = batch / t
}
workload kid extends wl { tput = 5 GB }
"""
TPUT_OVERRIDDEN = """\
error[unit-mismatch]: 'tput' overrides wl.tput (1/s) with byte
  --> x.perf:6:34
  |
6 | workload kid extends wl { tput = 5 GB }
  |                                  ^^^^
  = note: wl.tput is defined at x.perf:4:5
  = in: workload.kid.tput
  = help: an override keeps the dimension of the cell it replaces

1 error
"""


def test_an_override_of_a_formula_that_reads_a_sweep_keeps_its_type(work, capsys):
    # Before: ok (exit 0), with or without a report, and `eval` showed `workload.tput [B]` of 5000000000: the
    # formula's type, read without a report, stood unknown where it reads a sweep (`batch`).
    assert check(OVER_A_SWEEPS_FORMULA, capsys, work) == (1, TPUT_OVERRIDDEN)
    # As over a formula that reads a number (`batch = 3`): the same one error.
    assert check(OVER_A_SWEEPS_FORMULA.replace("sweep batch = [1, 2, 4]", "batch = 3"), capsys, work) == \
        (1, TPUT_OVERRIDDEN)
    with_report = OVER_A_SWEEPS_FORMULA + "report r {\n    workload = kid\n    show workload.tput\n}\n"
    assert check(with_report, capsys, work) == (1, TPUT_OVERRIDDEN)
    assert run(["eval", "x.perf"], capsys) == (1, TPUT_OVERRIDDEN)
    # An override of the formula's type checks clean: 5 per second.
    assert check(OVER_A_SWEEPS_FORMULA.replace("tput = 5 GB", "tput = 5 s^-1"), capsys, work) == (0, "ok")
