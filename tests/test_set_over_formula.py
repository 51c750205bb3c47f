"""A value set over a formula's cell keeps the type the formula has, as one set over a literal keeps the literal's
(docs/LANGUAGE.md, "Setting cells of another file's blocks"): `--set wl.tput="5 GB"` over `tput = batch / t` (1/s)
printed a column `workload.tput [B]` of 5000000000, exit status 0, where `--set wl.t="5 GB"` over `t = 2 s` is bad
usage. Each test is the exact text and exit status of what was typed (the CLI in-process, the test's folder as the
working directory), or the API call made.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import perfdsl
from perfdsl import UsageError, cli

SPEC = """\
workload wl {
  sweep batch = [1, 2, 4]
  t = 2 s
  tput = batch / t
  n = batch * 2
  f = batch > 1
}
report r {
  workload = wl
  show workload.tput, workload.n, workload.f
}
"""
TPUT_DEFINED = "`batch / t` at c.perf:4:3"        # where the formula's type comes from
N_DEFINED = "`batch * 2` at c.perf:5:3"
F_DEFINED = "`batch > 1` at c.perf:6:3"


@pytest.fixture
def work(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.perf").write_text(SPEC)
    return tmp_path


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def summary(err: str) -> list[str]:
    """The lines of an error that say what and where (its quoted line and caret left out)."""
    return [line for line in err.splitlines() if line.startswith(("error", "  -->", "  = "))]


# -- on the command line: eval, explain, plot ----------------------------------------------------------------------

@pytest.mark.parametrize("given, message, defined, hints", [
    ("wl.tput=5 GB", "'5 GB' is byte, but 'wl.tput' is 1/s", TPUT_DEFINED,         # as over a literal: its number
     ['give it a unit of 1/s, e.g. --set wl.tput="5 s^-1"']),
    ("wl.tput=5 GB, 6 GB", "'5 GB, 6 GB' is byte, but 'wl.tput' is 1/s", TPUT_DEFINED,           # a list: a sweep
     ['give it a unit of 1/s, e.g. --set wl.tput="5 s^-1"']),
    ("wl.tput=2", "'2' is count, but 'wl.tput' is 1/s", TPUT_DEFINED,
     ['give it a unit of 1/s, e.g. --set wl.tput="2 s^-1"']),
    ("wl.n=3 s", "'3 s' is s, but 'wl.n' is count", N_DEFINED,
     ["'wl.n' is a plain count: give the number alone, e.g. --set wl.n=3"]),
    ("wl.tput=true", "'true' is a boolean, but 'wl.tput' is 1/s", TPUT_DEFINED,
     ['give a quantity in 1/s, e.g. --set wl.tput="1 s^-1"', "an override keeps the type of the cell it replaces"]),
    ("wl.f=1", "'1' is a number, but 'wl.f' is a boolean", F_DEFINED,
     ["give a boolean, true or false, e.g. --set wl.f=true", "an override keeps the type of the cell it replaces"]),
    ("wl.tput=wl.t", "'wl.t' is s, but 'wl.tput' is 1/s", TPUT_DEFINED,                  # a formula over a formula
     ['give a quantity in 1/s, e.g. --set wl.tput="1 s^-1"',
      "an override keeps the dimension of the cell it replaces"]),
])
def test_a_set_over_a_formula_is_held_to_the_formulas_type(work, capsys, given, message, defined, hints):
    # Before: exit status 0, the shown column in the value's unit (`workload.tput [B]`: 5000000000).
    target = given.partition("=")[0]
    code, out, err = run(["eval", "c.perf", "--set", given], capsys)
    assert (code, out) == (2, "")
    assert summary(err) == [f"error[unit-mismatch]: --set {target}: {message}",
                            f"  --> --set {target}:1:1",
                            f"  = note: the cell is {defined}",
                            f"  = in: workload.{target}"] + [f"  = help: {hint}" for hint in hints]


def test_its_words_are_those_of_a_set_over_a_literal(work, capsys):
    # Both located at the value, the cell's place in a note (the literal's case had no `-->` line, note or path).
    code, _, over_literal = run(["eval", "c.perf", "--set", "wl.t=5 GB"], capsys)
    assert (code, over_literal) == (2, """\
error[unit-mismatch]: --set wl.t: '5 GB' is byte, but 'wl.t' is s
  --> --set wl.t:1:1
  |
1 | 5 GB
  | ^^^^
  = note: the cell is defined at c.perf:3:3
  = in: workload.wl.t
  = help: give it a unit of s, e.g. --set wl.t="5 s"

1 error
""")
    code, _, over_formula = run(["eval", "c.perf", "--set", "wl.tput=5 GB"], capsys)
    assert (code, over_formula) == (2, f"""\
error[unit-mismatch]: --set wl.tput: '5 GB' is byte, but 'wl.tput' is 1/s
  --> --set wl.tput:1:1
  |
1 | 5 GB
  | ^^^^
  = note: the cell is {TPUT_DEFINED}
  = in: workload.wl.tput
  = help: give it a unit of 1/s, e.g. --set wl.tput="5 s^-1"

1 error
""")


@pytest.mark.parametrize("given, caret", [
    ("wl.t=2 s, 5 GB", (len("2 s, ") + 1, "^^^^")),     # a list: at the value of another dimension
    ("wl.t=true", (1, "^^^^")),                 # another kind (overrides._check_literal_kind)
])
def test_a_set_over_a_literal_is_located_at_its_value(work, capsys, given, caret):
    target, _, text = given.partition("=")
    code, _, err = run(["eval", "c.perf", "--set", given], capsys)
    column, marks = caret
    assert code == 2
    assert err.splitlines()[1:7] == [f"  --> --set {target}:1:{column}", "  |", f"1 | {text}",
                                     f"  | {' ' * (column - 1)}{marks}", "  = note: the cell is defined at c.perf:3:3",
                                     f"  = in: workload.{target}"]


@pytest.mark.parametrize("command", [["explain", "c.perf", "wl.tput"], ["plot", "c.perf", "-o", "out.png"]])
def test_explain_and_plot_hold_it_too(work, capsys, command):
    code, _, err = run(command + ["--set", "wl.tput=5 GB"], capsys)
    assert code == 2
    assert err.startswith("error[unit-mismatch]: --set wl.tput: '5 GB' is byte, but 'wl.tput' is 1/s\n")
    assert '  = help: give it a unit of 1/s, e.g. --set wl.tput="5 s^-1"\n' in err
    assert not (work / "out.png").exists()


def test_a_value_of_the_formulas_type_is_taken_in_any_unit(work, capsys):
    code, out, err = run(["eval", "c.perf", "--set", "wl.tput=0.5 ms^-1", "--set", "wl.n=3",
                          "--set", "wl.f=false", "--format", "csv"], capsys)
    assert (code, err) == (0, "")
    rows = [line.split(",") for line in out.splitlines()]
    assert rows[0] == ["batch", "workload.tput [1/s]", "workload.n", "workload.f"]
    assert [[float(row[1]), float(row[2]), row[3]] for row in rows[1:]] == [[0.5 / 1e-3, 3, "false"]] * 3
    code, out, err = run(["eval", "c.perf", "--set", "wl.tput=wl.n / 1 s", "--format", "csv"], capsys)
    assert code == 0 and [float(line.split(",")[1]) for line in out.splitlines()[1:]] == [1 * 2, 2 * 2, 4 * 2]
    code, out, err = run(["eval", "c.perf", "--set", "wl.tput=wl.n * 1 s", "--format", "csv"], capsys)   # not s
    assert (code, out) == (2, "")
    assert err.startswith("error[unit-mismatch]: --set wl.tput: 'wl.n * 1 s' is s, but 'wl.tput' is 1/s\n")


# -- through the API -------------------------------------------------------------------------------------------------

def test_the_api_holds_it_as_it_holds_a_literals_override(work):
    program = perfdsl.load(["c.perf"])
    with pytest.raises(UsageError) as over_literal:
        program.evaluate(overrides={"wl.t": "5 GB"})
    assert [(d.code, d.message, d.hints) for d in over_literal.value.diagnostics] == [
        ("unit-mismatch", "overrides['wl.t']: '5 GB' is byte, but 'wl.t' is s",
         ['give it a unit of s, e.g. overrides={\'wl.t\': "5 s"}'])]
    with pytest.raises(UsageError) as over_formula:
        program.evaluate(overrides={"wl.tput": "5 GB"})
    assert [(d.code, d.message, d.hints) for d in over_formula.value.diagnostics] == [
        ("unit-mismatch", "overrides['wl.tput']: '5 GB' is byte, but 'wl.tput' is 1/s",
         ['give it a unit of 1/s, e.g. overrides={\'wl.tput\': "5 s^-1"}'])]
    with pytest.raises(UsageError) as a_python_bool:
        program.evaluate(overrides={"wl.n": True})
    assert a_python_bool.value.diagnostics[0].message == "overrides['wl.n']: 'True' is a boolean, but 'wl.n' is count"
    result = program.evaluate(overrides={"wl.tput": "0.5 ms^-1", "wl.n": 3})
    assert list(result.column("workload.tput")) == [0.5 / 1e-3] * 3
    assert list(result.column("workload.n")) == [3] * 3


# -- where the cell is inherited, or not read by the report ------------------------------------------------------------

def test_a_formula_inherited_is_held_whichever_block_is_named(work, capsys):
    (work / "k.perf").write_text(SPEC.replace("workload = wl", "workload = kid")
                                 + "workload kid extends wl { }\n")
    for target in ("wl.tput", "kid.tput"):
        code, _, err = run(["eval", "k.perf", "--set", f"{target}=5 GB"], capsys)
        assert code == 2
        assert summary(err)[:4] == [f"error[unit-mismatch]: --set {target}: '5 GB' is byte, but '{target}' is 1/s",
                                    f"  --> --set {target}:1:1",
                                    "  = note: the cell is `batch / t` at k.perf:4:3",
                                    "  = in: workload.kid.tput"]


def test_a_formula_the_report_does_not_read_is_held_where_its_type_is_known(work, capsys):
    (work / "u.perf").write_text("hardware h { rate = 3 / 1 s; mem = 8 GB }\n"
                                 "report r { hardware = h; show hardware.mem in GB }\n")
    code, _, err = run(["eval", "u.perf", "--set", "h.rate=3 GB"], capsys)
    assert code == 2
    assert summary(err) == ["error[unit-mismatch]: --set h.rate: '3 GB' is byte, but 'h.rate' is 1/s",
                            "  --> --set h.rate:1:1",
                            "  = note: the cell is `3 / 1 s` at u.perf:1:14",
                            "  = in: hardware.h.rate",
                            '  = help: give it a unit of 1/s, e.g. --set h.rate="3 s^-1"']


UNREAD = SPEC.replace("  n = batch * 2\n", "  n = batch * 2\n  u = batch / t\n")     # u: 1/s, shown by no report


@pytest.mark.parametrize("value", ["5 GB", "5 GB, 6 GB", "5 GB .. 7 GB by 1 GB"])
def test_a_sweep_over_a_formula_the_report_does_not_read_is_held_as_one_value_is(work, capsys, value):
    # Before: a single value was refused (exit 2), but a list or a range made an axis `u [GB]` and printed its rows,
    # exit 0: the unread overrides checked were those that are no sweep.
    (work / "u.perf").write_text(UNREAD)
    code, out, err = run(["eval", "u.perf", "--set", f"wl.u={value}"], capsys)
    assert (code, out) == (2, "")
    assert summary(err) == [f"error[unit-mismatch]: --set wl.u: '{value}' is byte, but 'wl.u' is 1/s",
                            "  --> --set wl.u:1:1",
                            "  = note: the cell is `batch / t` at u.perf:6:3",
                            "  = in: workload.wl.u",
                            '  = help: give it a unit of 1/s, e.g. --set wl.u="5 s^-1"']
    # Swept in its own type, it is an axis of the report.
    code, out, err = run(["eval", "u.perf", "--set", "wl.u=5 s^-1, 6 s^-1", "--format", "csv"], capsys)
    assert (code, err, out.splitlines()[0]) == (0, "", "batch,u [s^-1],workload.tput [1/s],workload.n,workload.f")


# -- where the formula's type is not known, nothing is made up ---------------------------------------------------------

def test_a_formula_of_no_known_type_takes_any_value(work, capsys):
    # `bad` reads a name no block has; `late` a sweep of a block the report does not bind (wl, where it binds kid);
    # `rate` reads nothing: 1/s wherever it is typed.
    (work / "n.perf").write_text("workload wl {\n  sweep batch = [1, 2]\n  bad = batch / tt\n"
                                 "  late = batch / 1 s\n  rate = 2 / 1 s\n}\nworkload kid extends wl { }\n"
                                 "report r {\n  workload = kid\n  show workload.bad in GB\n}\n")
    code, out, err = run(["eval", "n.perf", "--set", "wl.bad=5 GB", "--set", "wl.late=5 GB", "--format", "csv"],
                         capsys)
    assert (code, err) == (0, "")
    assert [float(line.split(",")[1]) for line in out.splitlines()[1:]] == [5.0, 5.0]
    code, out, err = run(["eval", "n.perf", "--set", "wl.bad=5 GB", "--set", "wl.rate=5 GB"], capsys)
    assert (code, out) == (2, "")
    assert summary(err) == ["error[unit-mismatch]: --set wl.rate: '5 GB' is byte, but 'wl.rate' is 1/s",
                            "  --> --set wl.rate:1:1",
                            "  = note: the cell is `2 / 1 s` at n.perf:5:3",
                            "  = in: workload.wl.rate",
                            '  = help: give it a unit of 1/s, e.g. --set wl.rate="5 s^-1"']


def test_a_formula_that_reads_a_missing_input_has_the_inputs_type(work, capsys):
    # `bw = x / t` with `x: GB` given by no one: its type is the declared one's, byte/s.
    (work / "i.perf").write_text("workload wl {\n  x: GB\n  t = 2 s\n  bw = x / t\n}\n"
                                 "report r {\n  workload = wl\n  show workload.bw in GB/s\n}\n")
    code, out, err = run(["eval", "i.perf", "--set", "wl.bw=5 GB/s", "--format", "csv"], capsys)
    assert (code, err) == (0, "") and [float(line) for line in out.splitlines()[1:]] == [5.0]
    code, _, err = run(["eval", "i.perf", "--set", "wl.bw=5 GB"], capsys)
    assert code == 2 and err.startswith("error[unit-mismatch]: --set wl.bw: '5 GB' is byte, but 'wl.bw' is byte/s\n")


# -- a file's own `set` ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, given, hints", [
    ("5 GB", "byte", ["an override keeps the dimension of the cell it replaces"]),
    ("wl.t", "s", ["an override keeps the dimension of the cell it replaces"]),
    ("true", "a boolean", ["a quantity in 1/s is a number with a unit, written without quotes",
                           "an override keeps the type of the cell it replaces"]),
])
def test_a_files_set_over_a_formula_is_held_to_its_type(work, capsys, value, given, hints):
    # Before: `perfdsl check` said ok and eval showed the column in the value's unit, exit status 0.
    (work / "s.perf").write_text(SPEC.replace("report r", f"set {{ wl.tput = {value} }}\nreport r"))
    code, _, err = run(["check", "--no-cache", "s.perf"], capsys)
    assert code == 1
    assert summary(err) == [f"error[unit-mismatch]: `set wl.tput` is {given}, but the cell is 1/s",
                            f"  --> s.perf:8:{len('set { wl.tput = ') + 1}",
                            "  = note: the cell is `batch / t` at s.perf:4:3",
                            "  = in: workload.wl.tput"] + [f"  = help: {hint}" for hint in hints]


def test_a_files_set_of_the_formulas_type_is_taken(work, capsys):
    (work / "s.perf").write_text(SPEC.replace("report r", "set { wl.tput = 0.5 ms^-1 }\nreport r"))
    code, out, err = run(["eval", "s.perf", "--format", "csv"], capsys)
    assert (code, err) == (0, "")
    assert [float(line.split(",")[1]) for line in out.splitlines()[1:]] == [0.5 / 1e-3] * 3
    (work / "s.perf").write_text(SPEC.replace("report r", "set { wl.tput = 0.5 ms }\nreport r"))
    code, out, err = run(["eval", "s.perf"], capsys)
    assert (code, out) == (1, "")
    assert err.startswith("error[unit-mismatch]: `set wl.tput` is s, but the cell is 1/s\n")
