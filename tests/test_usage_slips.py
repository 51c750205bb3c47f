"""Slips of a command line that perfdsl took without a word, or named without saying what to give:

- a name of --set or --at given twice with different values: the last one won (`--set batch=1 --set batch=8`
  evaluated batch=8), in every command that takes them; now error[bad-option] naming both, exit status 2;
- a negative count (`explain --depth -1` traced as --depth 0; calibrate's --bootstrap and --starts below 0 taken
  as 0, --seed -1 and --f-scale 0 an internal error after the fit): refused, exit 2, with what to give;
- an option the command does not have (`eval --formt csv`, `plot -y tpot`): argparse's top-level usage
  `perfdsl [-h] [--version] COMMAND ...` and no word of the option meant; now the command's usage and its closest
  options;
- `--format csv -o cmp2.json`: refused with no help line; now it says what each choice writes.
"""

from __future__ import annotations

import pytest

from perfdsl import cli

PROGRAM = """\
hardware gpu1 {
    peak = 100 TFLOP/s
}
model m1 { params = 1e9 }
workload grid {
    sweep batch = [1, 2, 8]
    sweep seq = [128, 256]
    tokens = batch * seq * 1 token
}
costmodel prefill {
    flops   = 2 FLOP/token * model.params * workload.tokens
    runtime = flops / hardware.peak
}
report example {
    model = m1
    hardware = gpu1
    workload = grid
    show prefill.runtime in ms
}
"""

# prefill.runtime [ms] at batch 8, seq 128: 2 * 1e9 * 8 * 128 / 100e12 s
RUNTIME_8_128 = 2 * 1e9 * 8 * 128 / 100e12 * 1e3


@pytest.fixture
def run(run, tmp_path, monkeypatch):
    """conftest's run(*argv) -> (exit status, stdout, stderr), in a folder holding prog.perf."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "120")          # argparse wraps its usage line at the terminal's width
    (tmp_path / "prog.perf").write_text(PROGRAM)
    return run


# ---- a name of --set or --at given twice ----------------------------------------------------------------------

SET_TWICE = ("error[bad-option]: --set batch=1 and --set batch=8 set 'batch' to different values\n"
             "  = help: give --set batch once, with the value meant (a list sweeps them all: --set batch=1,8); the "
             "same value given again is taken\n\n1 error\n")


@pytest.mark.parametrize("argv", [
    ["eval", "prog.perf", "--set", "batch=1", "--set", "batch=8"],
    ["eval", "prog.perf", "--set", "batch=1", "--set", " batch = 8 ", "--format", "csv"],
    ["explain", "prog.perf", "prefill.runtime", "--set", "batch=1", "--set", "batch=8"],
    ["plot", "prog.perf", "-o", "p.png", "--set", "batch=1", "--set", "batch=8"],
    ["calibrate", "prog.perf", "--measured", "runs.csv", "--fit", "gpu1.peak", "-o", "c.perf",
     "--set", "batch=1", "--set", "batch=8"],
])
def test_a_set_name_given_twice_with_different_values_is_refused(run, argv):
    # Before: batch=8 evaluated (explained, drawn, fitted) without a word, exit 0.
    code, out, err = run(*argv)
    assert (code, out, err) == (2, "", SET_TWICE)


def test_three_values_of_a_set_name_are_all_named_and_a_value_with_a_space_is_quoted(run):
    code, _, err = run("eval", "prog.perf", "--set", "gpu1.peak=1 PFLOP/s", "--set", "gpu1.peak=2 PFLOP/s",
                       "--set", "gpu1.peak=1 PFLOP/s", "--set", "gpu1.peak=3 PFLOP/s")
    assert (code, err) == (2, 'error[bad-option]: --set gpu1.peak="1 PFLOP/s", --set gpu1.peak="2 PFLOP/s" and '
                              '--set gpu1.peak="3 PFLOP/s" set \'gpu1.peak\' to different values\n'
                              '  = help: give --set gpu1.peak once, with the value meant (a list sweeps them all: '
                              '--set gpu1.peak="1 PFLOP/s,2 PFLOP/s,3 PFLOP/s"); the same value given again is taken'
                              '\n\n1 error\n')


def test_a_range_given_twice_is_not_offered_as_a_list(run):
    code, _, err = run("eval", "prog.perf", "--set", "seq=128 .. 512", "--set", "seq=1024")
    assert (code, err.splitlines()[:2]) == (2, [
        "error[bad-option]: --set seq=\"128 .. 512\" and --set seq=1024 set 'seq' to different values",
        "  = help: give --set seq once, with the value meant; the same value given again is taken"])


def test_a_set_name_given_again_with_the_same_value_is_taken_and_with_another_refused(run):
    code, out, err = run("eval", "prog.perf", "--set", "batch=8", "--set", "batch=8", "--format", "csv")
    assert (code, err) == (0, "")
    assert out.splitlines() == ["batch,seq,prefill.runtime [ms]", f"8,128,{RUNTIME_8_128!r}",
                                f"8,256,{2 * RUNTIME_8_128!r}"]
    code, out, err = run("eval", "prog.perf", "--set", "batch=1", "--set", "batch=1", "--set", "batch=8")
    assert (code, out, err) == (2, "", SET_TWICE)          # each value named once


AT_TWICE = ("error[bad-option]: --at batch=1 and --at batch=8 hold 'batch' at different values\n"
            "  = help: give --at batch once: a point has one value of each axis; the same value given again is "
            "taken\n\n1 error\n")


@pytest.mark.parametrize("argv", [
    ["explain", "prog.perf", "prefill.runtime", "--at", "batch=1", "--at", "batch=8"],
    ["plot", "prog.perf", "-o", "p.png", "--x", "seq", "--at", "batch=1", "--at", "batch=8"],
    ["plot", "prog.perf", "-o", "p.png", "--roofline", "--at", "batch=1", "--at", "batch=8"],
])
def test_an_at_name_given_twice_with_different_values_is_refused(run, argv):
    # Before: explain and plot took batch=8 without a word.
    code, out, err = run(*argv)
    assert (code, out, err) == (2, "", AT_TWICE)


def test_an_at_name_given_again_with_the_same_value_is_taken_and_with_another_refused(run):
    code, out, err = run("explain", "prog.perf", "prefill.runtime", "--at", "batch=8", "--at", "batch=8")
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == f"prefill.runtime = {RUNTIME_8_128:.4g} ms"
    code, out, err = run("explain", "prog.perf", "prefill.runtime", "--at", "batch=8", "--at", "batch=1",
                         "--at", "batch=8")
    assert (code, out, err) == (2, "", AT_TWICE.replace("batch=1 and --at batch=8", "batch=8 and --at batch=1"))


@pytest.mark.parametrize("command", ["eval", "explain", "plot", "calibrate"])
def test_every_help_of_set_and_at_says_a_name_is_given_once(command):
    text = cli._parser()._subparsers._group_actions[0].choices[command].format_help()
    options = [action for action in cli._parser()._subparsers._group_actions[0].choices[command]._actions
               if action.dest in ("sets", "at")]
    assert options and all(cli._REPEAT_HELP in action.help for action in options)
    assert "a name given twice" in " ".join(text.split())


# ---- one cell under two names, one value in two spellings ------------------------------------------------------

TWO_NAMES = ("error[bad-option]: --set grid.batch=1 and --set batch=8 both set 'grid.batch' to different values\n"
             "  = help: give 'grid.batch' one value, under one of the names; the same value given again is taken"
             "\n\n1 error\n")


@pytest.mark.parametrize("argv", [
    ["eval", "prog.perf", "--set", "grid.batch=1", "--set", "batch=8"],
    ["explain", "prog.perf", "prefill.runtime", "--set", "grid.batch=1", "--set", "batch=8"],
    ["plot", "prog.perf", "-o", "p.png", "--set", "grid.batch=1", "--set", "batch=8"],
    ["calibrate", "prog.perf", "--measured", "runs.csv", "--fit", "gpu1.peak", "-o", "c.perf",
     "--set", "grid.batch=1", "--set", "batch=8"],
])
def test_one_cell_set_under_two_names_with_different_values_is_refused(run, tmp_path, argv):
    (tmp_path / "runs.csv").write_text("batch,seq,prefill.runtime [ms]\n8,128,0.03\n8,256,0.04\n")
    # Before: the last name's value (batch=8) was evaluated (explained, drawn, fitted) without a word, exit 0.
    code, out, err = run(*argv)
    assert (code, out, err) == (2, "", TWO_NAMES)


@pytest.mark.parametrize("first, second, cell", [
    ("workload.batch=1", "grid.batch=8", "grid.batch"),
    ("batch=1", "workload.batch=8", "grid.batch"),
    ('hardware.peak=1 PFLOP/s', 'gpu1.peak=2 PFLOP/s', "gpu1.peak"),
])
def test_a_role_and_a_block_naming_one_cell_are_one_cell(run, first, second, cell):
    code, out, err = run("eval", "prog.perf", "--set", first, "--set", second)
    said = [f'--set {name}="{value}"' if " " in value else f"--set {name}={value}"
            for name, _, value in (first.partition("="), second.partition("="))]
    assert (code, out, err) == (2, "", f"error[bad-option]: {said[0]} and {said[1]} both set '{cell}' to different "
                                       f"values\n  = help: give '{cell}' one value, under one of the names; the "
                                       "same value given again is taken\n\n1 error\n")


def test_one_cell_under_two_names_with_one_value_is_taken(run):
    code, out, err = run("eval", "prog.perf", "--set", "grid.batch=8", "--set", "batch=8.0", "--set",
                         "hardware.peak=100 TFLOP/s", "--set", "gpu1.peak=0.1 PFLOP/s", "--format", "csv")
    assert (code, err) == (0, "")
    assert out.splitlines() == ["batch,seq,prefill.runtime [ms]", f"8,128,{RUNTIME_8_128!r}",
                                f"8,256,{2 * RUNTIME_8_128!r}"]
    code, out, err = run("eval", "prog.perf", "--set", "grid.batch=8", "--set", "batch=8.5")
    assert (code, err.splitlines()[0]) == (2, "error[bad-option]: --set grid.batch=8 and --set batch=8.5 both set "
                                              "'grid.batch' to different values")


SWEPT = PROGRAM.replace("hardware gpu1 {", "hardware gpu2 {\n    peak = 200 TFLOP/s\n}\nhardware gpu3 {\n"
                        "    peak = 400 TFLOP/s\n}\nhardware gpu1 {").replace("hardware = gpu1",
                                                                           "sweep hardware = [gpu2, gpu3]")


def test_a_role_swept_over_other_blocks_is_not_the_block_named(run, tmp_path):
    (tmp_path / "prog.perf").write_text(SWEPT)
    # gpu1 is not in the sweep: hardware.peak sets gpu2's and gpu3's, gpu1.peak gpu1's; the runtime is at 1 PFLOP/s
    code, out, err = run("eval", "prog.perf", "--set", "hardware.peak=1 PFLOP/s", "--set", "gpu1.peak=2 PFLOP/s",
                         "--set", "batch=8", "--set", "seq=128", "--format", "csv")
    assert (code, err) == (0, "")
    assert out.splitlines()[1:] == [f"{hw},8,128,{2 * 1e9 * 8 * 128 / 1e15 * 1e3!r}" for hw in ("gpu2", "gpu3")]
    # gpu2 is in it: hardware.peak and gpu2.peak both set gpu2's peak
    code, out, err = run("eval", "prog.perf", "--set", "hardware.peak=1 PFLOP/s", "--set", "gpu2.peak=2 PFLOP/s")
    assert (code, err.splitlines()[0]) == (2, 'error[bad-option]: --set hardware.peak="1 PFLOP/s" and --set '
                                              'gpu2.peak="2 PFLOP/s" both set \'gpu2.peak\' to different values')


def test_api_overrides_naming_one_cell_twice_are_refused(tmp_path):
    from perfdsl.errors import UsageError

    (tmp_path / "prog.perf").write_text(PROGRAM)
    program = __import__("perfdsl").load(str(tmp_path / "prog.perf"))
    with pytest.raises(UsageError) as caught:
        program.evaluate(overrides={"grid.batch": 1, "batch": 8})
    assert [d.message for d in caught.value.diagnostics] == [
        "overrides['grid.batch'] = 1 and overrides['batch'] = 8 both set 'grid.batch' to different values"]


@pytest.mark.parametrize("first, second", [
    ("batch=8", "batch=8.0"),
    ("batch=8", "batch=8e0"),
    ("gpu1.peak=100 TFLOP/s", "gpu1.peak=0.1 PFLOP/s"),
    ("gpu1.peak=100 TFLOP/s", "gpu1.peak=100e12 FLOP/s"),
])
def test_one_value_in_two_spellings_is_taken_as_one(run, first, second):
    # Before: error[bad-option] '... set 'batch' to different values', exit 2, though the values are one.
    code, out, err = run("eval", "prog.perf", "--set", first, "--set", second, "--set", "batch=8", "--format", "csv")
    assert (code, err) == (0, "")
    assert out.splitlines() == ["batch,seq,prefill.runtime [ms]", f"8,128,{RUNTIME_8_128!r}",
                                f"8,256,{2 * RUNTIME_8_128!r}"]


def test_one_sweep_in_two_spellings_is_taken_as_one(run):
    code, out, err = run("eval", "prog.perf", "--set", "batch=1,8", "--set", "batch=[1, 8.0]", "--set", "seq=128",
                         "--format", "csv")
    assert (code, err) == (0, "")
    assert out.splitlines() == ["batch,seq,prefill.runtime [ms]", f"1,128,{RUNTIME_8_128 / 8!r}",
                                f"8,128,{RUNTIME_8_128!r}"]


@pytest.mark.parametrize("first, second", [
    ("seq=128 .. 256 by *2", "seq=128,256"),
    ("seq=[128, 256]", "seq=128 .. 256 by 128"),
    ("seq=128 .. 256 by 128", "seq=[128, 256.0]"),
])
def test_a_range_and_the_list_of_its_values_are_one_value(run, first, second):
    # Before: error[bad-option] '--set seq="128 .. 256 by *2" and --set seq=128,256 set 'seq' to different values'.
    code, out, err = run("eval", "prog.perf", "--set", first, "--set", second, "--set", "batch=8", "--format", "csv")
    assert (code, err) == (0, "")
    assert out.splitlines() == ["batch,seq,prefill.runtime [ms]", f"8,128,{RUNTIME_8_128!r}",
                                f"8,256,{2 * RUNTIME_8_128!r}"]
    code, _, err = run("eval", "prog.perf", "--set", first, "--set", "seq=128,256,512")
    assert (code, err.splitlines()[0].endswith("set 'seq' to different values")) == (2, True)


def test_a_range_of_quantities_compares_by_its_values(run):
    code, out, err = run("eval", "prog.perf", "--set", "batch=8", "--set", "seq=128",
                         "--set", "gpu1.peak=100 TFLOP/s .. 200 TFLOP/s by 100 TFLOP/s", "--set",
                         "gpu1.peak=0.1 PFLOP/s, 200e12 FLOP/s", "--format", "csv")
    assert (code, err) == (0, "")
    # (the last value given is the one used: its first unit is the column's)
    assert out.splitlines() == ["peak [PFLOP/s],batch,seq,prefill.runtime [ms]",
                                f"0.1,8,128,{RUNTIME_8_128!r}", f"0.2,8,128,{RUNTIME_8_128 / 2!r}"]


LABELLED = PROGRAM.replace("    peak = 100 TFLOP/s\n", '    peak = 100 TFLOP/s\n    label = "A"\n').replace(
    "show prefill.runtime in ms", "show prefill.runtime in ms, hardware.label as device")


@pytest.mark.parametrize("first, second", [
    ('gpu1.label=B', 'gpu1.label="B"'),
    ('gpu1.label="B"', 'gpu1.label=B'),
    ('gpu1.label=B,C', 'gpu1.label="B","C"'),
])
def test_a_bare_word_and_the_same_quoted_string_are_one_value(run, tmp_path, first, second):
    # Before: error[bad-option] "--set gpu1.label=B and --set 'gpu1.label="B"' set 'gpu1.label' to different values".
    (tmp_path / "prog.perf").write_text(LABELLED)
    code, out, err = run("eval", "prog.perf", "--set", first, "--set", second, "--set", "batch=8", "--set",
                         "seq=128", "--format", "csv")
    assert (code, err) == (0, "")
    if "C" in first:        # a list sweeps the string cell
        assert out.splitlines() == ["label,batch,seq,prefill.runtime [ms],device"] + [
            f"{label},8,128,{RUNTIME_8_128!r},{label}" for label in ("B", "C")]
    else:
        assert out.splitlines() == ["batch,seq,prefill.runtime [ms],device", f"8,128,{RUNTIME_8_128!r},B"]
    code, _, err = run("eval", "prog.perf", "--set", first, "--set", 'gpu1.label="D"')
    assert (code, err.splitlines()[0].endswith("set 'gpu1.label' to different values")) == (2, True)


def test_a_role_named_bare_and_quoted_is_one_value_and_the_quotes_are_said(run):
    # Before: "--set hardware=gpu1 and --set 'hardware="gpu1"' set 'hardware' to different values"; now the value
    # used (the last) is refused as it is alone: a role takes the bare name.
    code, out, err = run("eval", "prog.perf", "--set", "hardware=gpu1", "--set", 'hardware="gpu1"')
    assert (code, out) == (2, "")
    assert err.splitlines()[0] == "error[quoted-role]: 'hardware' is the string \"gpu1\", but a formula reads the " \
                                  "role 'hardware'"
    code, out, err = run("eval", "prog.perf", "--set", 'hardware="gpu1"', "--set", "hardware=gpu1", "--set",
                         "batch=8", "--set", "seq=128", "--format", "csv")
    assert (code, err) == (0, "")
    assert out.splitlines() == ["batch,seq,prefill.runtime [ms]", f"8,128,{RUNTIME_8_128!r}"]


# ---- a role set to a name that is no block but a cell of the report --------------------------------------------

@pytest.mark.parametrize("role, value, what, takes", [
    ("model", "model", "the role itself", "the role 'model' takes a model block; available: m1"),
    ("workload", "workload", "the role itself", "the role 'workload' takes a workload block; available: grid"),
    ("model", "hardware", "the role 'hardware'", "the role 'model' takes a model block; available: m1"),
])
def test_a_role_set_to_a_cell_of_the_report_is_bad_usage(run, role, value, what, takes):
    # Before: error[cycle] (`model = model` read itself) and error[unbound-role] at the report's lines, exit status
    # 1 as for a broken spec; `--set model=hardware`: error[block-as-value] and error[unbound-role], exit 1.
    code, out, err = run("eval", "prog.perf", "--set", f"{role}={value}")
    assert (code, out, err) == (2, "", f"""\
error[unknown-block]: no block named '{value}'
  --> --set {role}:1:1
  |
1 | {value}
  | {'^' * len(value)}
  = note: inside report 'example' the bare name '{value}' reads the report's own cell, {what}, before any block
  = in: report.example.{role}
  = help: {takes}

1 error
""")


def test_a_role_swept_over_a_cell_of_the_report_is_bad_usage_at_that_value(run):
    code, out, err = run("explain", "prog.perf", "prefill.runtime", "--set", "model=m1,model")
    assert (code, out) == (2, "")
    assert err.splitlines()[:5] == ["error[unknown-block]: no block named 'model'", "  --> --set model:1:4", "  |",
                                    "1 | m1,model", "  |    ^^^^^"]


def test_one_at_value_in_two_spellings_is_taken_as_one(run):
    code, out, err = run("explain", "prog.perf", "prefill.runtime", "--at", "batch=8", "--at", "batch=8.0")
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == f"prefill.runtime = {RUNTIME_8_128:.4g} ms"


# ---- counts below what they mean ------------------------------------------------------------------------------

def test_explain_refuses_a_negative_depth(run):
    # Before: --depth -1 traced as --depth 0, exit 0.
    code, out, err = run("explain", "prog.perf", "prefill.runtime", "--depth", "-1")
    assert (code, out, err) == (2, "", "error[bad-option]: --depth -1: the depth of the tree of precedents is 0 or "
                                       "more\n  = help: give how many levels of precedents to show, 0 or more (0: "
                                       "the cell alone; e.g. --depth 2), or leave out --depth for 50\n\n1 error\n")


@pytest.mark.parametrize("option, value, message, hint", [
    ("--bootstrap", "-3", "--bootstrap -3: a count of bootstrap refits is 0 or more",
     "give a whole number, 0 or more (0: none; default 100)"),
    ("--starts", "-2", "--starts -2: a count of starts spread over the bounds is 0 or more",
     "give a whole number, 0 or more (0: from the cells' values alone; default 8)"),
    ("--seed", "-1", "--seed -1: a seed of the random draws is 0 or more",
     "give a whole number, 0 or more (default 0)"),
    ("--f-scale", "0", "--f-scale 0: where the robust loss turns linear is a log ratio above 0",
     "give e.g. --f-scale 0.05 (the default: errors beyond about 5% count linearly)"),
    ("--f-scale", "-0.1", "--f-scale -0.1: where the robust loss turns linear is a log ratio above 0",
     "give e.g. --f-scale 0.05 (the default: errors beyond about 5% count linearly)"),
    ("--f-scale", "nan", "--f-scale nan: where the robust loss turns linear is a log ratio above 0",
     "give e.g. --f-scale 0.05 (the default: errors beyond about 5% count linearly)"),
])
def test_calibrate_refuses_a_count_below_what_it_means_before_reading_the_runs(run, option, value, message, hint):
    # Before: --bootstrap -3 and --starts -2 fitted as 0, --f-scale -0.1 fitted; --seed -1 and --f-scale 0 ended in
    # error[internal] after the fit. runs.csv does not exist: the setting is refused first.
    code, out, err = run("calibrate", "prog.perf", "--measured", "runs.csv", "--fit", "gpu1.peak", "-o", "c.perf",
                         option, value)
    assert (code, out, err) == (2, "", f"error[bad-option]: {message}\n  = help: {hint}\n\n1 error\n")


# ---- an option the command does not have ----------------------------------------------------------------------

@pytest.mark.parametrize("argv, left_over, hint", [
    (["eval", "prog.perf", "--formt", "csv"], "--formt csv", "perfdsl eval has no option --formt: did you mean --format?"),
    (["eval", "--formt", "csv", "prog.perf"], "--formt", "perfdsl eval has no option --formt: did you mean --format?"),
    (["eval", "prog.perf", "--formt=csv"], "--formt=csv", "perfdsl eval has no option --formt: did you mean --format?"),
    (["eval", "prog.perf", "-format", "csv"], "-format csv", "perfdsl eval has no option -format: did you mean --format?"),
    (["plot", "prog.perf", "-o", "p.png", "-y", "tpot"], "-y tpot", "perfdsl plot has no option -y: did you mean --y?"),
    (["explain", "prog.perf", "batch", "--depht", "2"], "--depht 2",
     "perfdsl explain has no option --depht: did you mean --depth?"),
    (["check", "-J", "2", "prog.perf"], "-J", "perfdsl check has no option -J: did you mean -j?"),
    (["eval", "prog.perf", "--frobnicate"], "--frobnicate",
     "perfdsl eval has no option --frobnicate: `perfdsl eval --help` lists its options"),
    (["cache", "info", "--al"], "--al", "perfdsl cache info has no option --al: `perfdsl cache info --help` lists "
                                        "its options"),
])
def test_an_unknown_option_is_said_with_the_commands_usage_and_the_closest_option(run, argv, left_over, hint):
    # Before: "usage: perfdsl [-h] [--version] COMMAND ...", "perfdsl: error: unrecognized arguments: --formt csv"
    # and no hint.
    code, out, err = run(*argv)
    command = " ".join(argv[:2] if argv[0] == "cache" else argv[:1])
    assert code == 2
    assert err.startswith(f"usage: perfdsl {command} [-h]")
    assert err.splitlines()[-2:] == [f"perfdsl {command}: error: unrecognized arguments: {left_over}",
                                     f"  = help: {hint}"]


def test_a_misspelt_option_that_leaves_a_required_one_out_is_named_too(run):
    code, _, err = run("plot", "prog.perf", "-y", "tpot")
    assert code == 2
    assert err.splitlines()[-2:] == ["perfdsl plot: error: the following arguments are required: -o/--output",
                                     "  = help: perfdsl plot has no option -y: did you mean --y?"]


@pytest.mark.parametrize("argv, unknown", [
    (["eval", "prog.perf", "--form", "csv", "--frobnicate"], "--frobnicate"),     # --form: argparse takes --format
    (["eval", "prog.perf", "-ofile.csv", "--frobnicate"], "--frobnicate"),        # -o with its value attached
    (["explain", "prog.perf", "x", "--at", "batch=-1", "--depht", "2"], "--depht"),   # a value, not an option
    (["explain", "prog.perf", "x", "--depth", "-1", "--depht", "2"], "--depht"),      # a number, not an option
])
def test_only_the_unknown_option_is_named_not_what_argparse_takes(run, argv, unknown):
    code, _, err = run(*argv)
    assert code == 2
    assert [line.split(":")[1] for line in err.splitlines() if "has no option" in line] == [
        f" perfdsl {argv[0]} has no option {unknown}"]


# ---- a command or a choice one slip from one -------------------------------------------------------------------

COMMANDS = "'check', 'cache', 'eval', 'explain', 'ingest', 'plot', 'calibrate', 'import-hf', 'errors'"


@pytest.mark.parametrize("argv, lines", [
    (["evl", "prog.perf"], ["usage: perfdsl [-h] [--version] COMMAND ...",
                            f"perfdsl: error: argument COMMAND: invalid choice: 'evl' (choose from {COMMANDS})",
                            "  = help: did you mean 'eval'?"]),
    (["chekc", "prog.perf"], ["usage: perfdsl [-h] [--version] COMMAND ...",
                              f"perfdsl: error: argument COMMAND: invalid choice: 'chekc' (choose from {COMMANDS})",
                              "  = help: did you mean 'check' or 'cache'?"]),
    (["cache", "inf"], ["usage: perfdsl cache [-h] ACTION ...",
                        "perfdsl cache: error: argument ACTION: invalid choice: 'inf' (choose from 'dir', 'info', "
                        "'clear')",
                        "  = help: did you mean 'info'?"]),
])
def test_a_mistyped_command_is_said_with_the_closest(run, argv, lines):
    # Before: argparse's invalid choice and its list, no hint.
    assert run(*argv) == (2, "", "\n".join(lines) + "\n")


def test_a_mistyped_format_is_said_with_the_closest(run):
    code, _, err = run("eval", "prog.perf", "--format", "cvs")
    assert code == 2
    assert err.splitlines()[-2:] == ["perfdsl eval: error: argument --format: invalid choice: 'cvs' (choose from "
                                     "'table', 'csv', 'json', 'jsonl')",
                                     "  = help: did you mean 'csv'?"]


def test_a_command_near_none_gets_no_hint(run):
    code, _, err = run("frobnicate", "prog.perf")
    assert code == 2
    assert err.splitlines()[-1] == f"perfdsl: error: argument COMMAND: invalid choice: 'frobnicate' (choose from " \
                                   f"{COMMANDS})"


# ---- --format against -o's suffix -----------------------------------------------------------------------------

@pytest.mark.parametrize("fmt, output, hint", [
    ("csv", "cmp2.json", "the suffix .json writes JSON: drop --format, or write CSV to -o cmp2.csv"),
    ("table", "out/cmp2.jsonl", "the suffix .jsonl writes JSON Lines: drop --format, or write a table to -o "
                                "out/cmp2.txt"),
    ("json", "cmp2.txt", "the suffix .txt writes a table: drop --format, or write JSON to -o cmp2.json"),
])
def test_a_format_that_contradicts_the_suffix_says_what_each_writes(run, fmt, output, hint):
    # Before: the error alone, with no help line.
    code, out, err = run("eval", "prog.perf", "--format", fmt, "-o", output)
    assert (code, out, err) == (2, "", f"error[bad-output]: --format {fmt} does not match '{output}'\n"
                                       f"  = help: {hint}\n\n1 error\n")


def test_a_set_value_that_reads_the_cell_it_replaces_is_bad_usage_at_the_set(run):
    # `--set gpu1.peak="peak * 1.2"` (a what-if on a datasheet figure) was error[cycle] at the spec's line, exit 1.
    status, out, err = run("eval", "prog.perf", "--set", "gpu1.peak=peak * 1.2")
    assert (status, out) == (2, "")
    assert err == (
        "error[cycle]: cells depend on each other in a cycle: gpu1.peak -> gpu1.peak\n"
        "  --> --set gpu1.peak:1:1\n"
        "  |\n"
        "1 | peak * 1.2\n"
        "  | ^^^^^^^^^^\n"
        "  = note: the chain: gpu1.peak at --set gpu1.peak:1:1\n"
        "  = in: hardware.gpu1.peak\n"
        "  = help: an override replaces the formula of 'peak', so its value cannot read 'peak' itself, directly or "
        "through other cells: give the value (a number with its unit)\n"
        "\n"
        "1 error\n")
