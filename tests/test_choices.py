"""Declared choices: every way a value reaches a choice cell is checked against its options (the golden cases
tests/cases/choice_*.perf pin the messages), and a valid choice changes what is computed."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perfdsl
from perfdsl.errors import PerfError

REPO = Path(__file__).resolve().parent.parent
OPTIONS = ("tdp", "utilisation", "measured")

SPEC = """
workload w { power_model: "tdp" | "utilisation" | "measured" = "tdp" }
costmodel c { share = if(workload.power_model == "utilisation", 0.5, 1) }
report r { workload = w; show c.share }
"""


def _load(text: str) -> perfdsl.Program:
    return perfdsl.load([], texts={"c.perf": text})


@settings(max_examples=40, deadline=None)
@given(value=st.text(alphabet="abcdefghijklmnopqrstuvwxyz_ ", min_size=1, max_size=12) | st.sampled_from(OPTIONS))
def test_a_value_is_accepted_exactly_when_it_is_an_option(value):
    program = _load(SPEC.replace('= "tdp" }', f'= "{value}" }}'))
    codes = [d.code for d in program.check()]
    assert codes == ([] if value in OPTIONS else ["bad-choice"])


@pytest.mark.parametrize("value, share", [("tdp", 1.0), ("utilisation", 0.5), ("measured", 1.0)])
def test_an_override_within_the_options_is_evaluated(value, share):
    (row,) = _load(SPEC).evaluate(overrides={"power_model": value}).records()
    assert row["c.share"] == share


def test_an_override_outside_the_options_is_refused_with_a_did_you_mean():
    with pytest.raises(PerfError) as caught:
        _load(SPEC).evaluate(overrides={"power_model": "utilization"})
    (diag,) = caught.value.diagnostics
    assert diag.code == "bad-choice"
    assert diag.message == '\'power_model\' is one of "tdp", "utilisation" or "measured", not "utilization"'
    assert diag.hints == ['did you mean "utilisation"?']


def test_a_list_override_sweeps_over_options():
    rows = _load(SPEC).evaluate(overrides={"power_model": ["tdp", "utilisation"]}).records()
    assert [(r["power_model"], r["c.share"]) for r in rows] == [("tdp", 1.0), ("utilisation", 0.5)]


def test_a_declared_choice_without_a_value_must_be_given():
    program = _load(SPEC.replace('= "tdp" }', "}"))
    (diag,) = program.check()
    assert diag.code == "missing-input"
    assert diag.message == ("workload 'w' does not give its declared input 'power_model' "
                            '("tdp" | "utilisation" | "measured")')


def test_the_cost_models_power_model_is_a_choice_that_changes_the_energy():
    """The utilisation model charges idle power plus the busy share of (TDP - idle): between idle power and TDP
    (the library leaves idle power at TDP, since no datasheet gives it: here 100 W of the H100 SXM's 700 W)."""
    program = perfdsl.load(REPO / "reports" / "capacity_planning.perf")
    point = {"model": "llama3_1_8b", "hardware": "h100_sxm5", "tp": 1, "batch": 8, "seq_len": 1024,
             "output_len": 256, "h100_sxm5.idle_power": "100 W"}
    tdp = program.evaluate(overrides={**point, "power_model": "tdp"}).records()[0]
    busy = program.evaluate(overrides={**point, "power_model": "utilisation"}).records()[0]
    ratio = busy["energy_per_token [J/token]"] / tdp["energy_per_token [J/token]"]
    assert 100 / 700 < ratio < 1
    with pytest.raises(PerfError):
        program.evaluate(overrides={**point, "power_model": "utilization"})


def test_every_string_setting_compared_in_a_bundled_formula_is_a_choice():
    """A string cell that a library formula compares with `==` is a setting: it must be declared as a choice, so a
    misspelt value is an error rather than a silent fall-back to the other branch."""
    from perfdsl.library import library_files

    program = perfdsl.load(library_files())
    compared = []
    for block in program.blocks.values():
        for cell in block.cells.values():
            if cell.expr is not None and _compares_a_string(cell.expr):
                compared.extend(_compared_refs(cell.expr))
    assert compared, "the cost model compares power_model with a string"
    for head, name in compared:
        owners = [b for b in program.blocks.values() if name in b.cells and b.cells[name].choices is not None]
        assert owners, f"'{head}.{name}' is compared with a string but is not declared as a choice"


def _compares_a_string(expr) -> bool:
    return any(True for _ in _compared_refs(expr))


def _compared_refs(expr):
    from perfdsl import ir

    if isinstance(expr, ir.Binary):
        if expr.op in ("==", "!=") and isinstance(expr.right, ir.Str) and isinstance(expr.left, ir.Ref):
            yield tuple(expr.left.parts) if len(expr.left.parts) == 2 else ("", expr.left.parts[0])
        yield from _compared_refs(expr.left)
        yield from _compared_refs(expr.right)
    elif isinstance(expr, ir.Call):
        for arg in expr.args:
            yield from _compared_refs(arg)
    elif isinstance(expr, ir.Unary):
        yield from _compared_refs(expr.operand)


def test_a_listed_set_value_is_checked_item_by_item_at_its_column(capsys, monkeypatch):
    from perfdsl import cli

    monkeypatch.chdir(REPO)
    code = cli.main(["eval", "tests/cases/choice_set_override.perf", "--set", "power_model=tdp,utilization"])
    err = capsys.readouterr().err
    assert code == 2                   # an error in a value given on the command line: bad usage
    assert err.startswith('error[bad-choice]: \'power_model\' is one of "tdp" or "utilisation", not "utilization"\n'
                          "  --> --set power_model:1:5\n")


def test_a_declared_choice_takes_python_strings():
    program = _load(SPEC.replace('= "tdp" }', "}"))
    rows = program.evaluate(overrides={"power_model": ["utilisation", "measured"]}).records()
    assert [r["c.share"] for r in rows] == [0.5, 1.0]
