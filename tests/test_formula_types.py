"""Formula types kept by the types of what a formula reads (dsl/formula_types.py): the checker takes a formula's type
from its plan where the references give types seen before, and walks it where they do not, with every diagnostic
as a walk gives it. "Alone" below is a program checked without a session (no plans, every formula walked)."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfdsl import checker as checker_module
from perfdsl.checker import Checker
from perfdsl.formula_types import make_plan
from perfdsl.program import Program
from perfdsl.shared_checks import CheckSession
from perfdsl.units import Dimension
from perfdsl.vtypes import num_of

REPO = Path(__file__).resolve().parent.parent
LIBRARY = sorted(str(p.relative_to(REPO)) for folder in ("models", "hardware", "software", "costmodels", "reports")
                 for p in (REPO / folder).glob("*.perf"))

# One cost-model formula (the same file text, so the same parsed formula in every program of a session) over a
# part whose cells a test chooses.
COST = "costmodel cost {\n    moved = hardware.bw * 1 s + hardware.size\n}\n"
PART = """\
hardware part {{
    bw = {bw}
    size = {size}
}}
report r {{
    hardware = part
    show cost.moved
}}
"""


def _program(bw: str, size: str, session: CheckSession | None) -> Program:
    return Program.load([], texts={"cost.perf": COST, "r.perf": PART.format(bw=bw, size=size)}, session=session)


def _rendered(program: Program) -> list[str]:
    return [d.severity + ": " + d.render() for d in program.check()]


def _moved_type(program: Program) -> str:
    _, checker = program.prepare("r")
    return checker.types[("cost", "moved")].describe()


def test_the_same_formula_over_other_input_types_gets_other_types():
    """`hardware.bw * 1 s + hardware.size`: bytes over a part in GB/s and GB, FLOP over one in FLOP/s and FLOP,
    and bytes again; the plan keeps one point per type of `hardware.bw`."""
    session = CheckSession()
    assert _moved_type(_program("1 GB/s", "2 GB", session)) == "byte"
    assert _moved_type(_program("3 FLOP/s", "4 FLOP", session)) == "FLOP"
    assert _moved_type(_program("5 GB/s", "6 GB", session)) == "byte"
    plans = [plan for _, plan in session.formulas.plans.values() if plan is not None and len(plan.refs) == 2]
    assert len(plans) == 1
    # one point for byte/s, one for FLOP/s, by the types' keys (VType.key)
    assert set(plans[0].root.children) == {num_of(Dimension.of(byte=1, s=-1).exponents).key,
                                           num_of(Dimension.of(FLOP=1, s=-1).exponents).key}


def test_an_operator_error_is_reported_in_each_program_as_alone():
    """The formula's type is kept for (GB/s, GB); a part whose size is a duration makes its `+` refuse the operands:
    reported in each program that meets it (twice in the session), exactly as checking it alone reports it."""
    expected = [
        "error: error[unit-mismatch]: cannot add 'expression' (byte) and 'hardware.size' (s)\n"
        "  --> cost.perf:2:13\n"
        "  |\n"
        "2 |     moved = hardware.bw * 1 s + hardware.size\n"
        "  |             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
        "  = in: costmodel.cost.moved"]
    session = CheckSession()
    assert _rendered(_program("1 GB/s", "2 GB", session)) == []
    assert _rendered(_program("1 GB/s", "2 s", session)) == expected
    assert _rendered(_program("1 GB/s", "2 s", session)) == expected
    assert _rendered(_program("1 GB/s", "2 s", None)) == expected
    assert _rendered(_program("1 GB/s", "2 GB", session)) == []


def test_a_warning_of_a_reference_is_reported_in_each_program():
    """`modle.params` (a misspelt role) in a formula that two programs of one session check: both warn, as alone."""
    base = "costmodel base {\n    x = modle.params * 2\n}\n"
    expected = [
        "warning: warning[unknown-role]: 'modle' is neither a block nor a role that a report binds\n"
        "  --> base.perf:2:9\n"
        "  |\n"
        "2 |     x = modle.params * 2\n"
        "  |         ^^^^^^^^^^^^\n"
        "  = in: costmodel.base.x\n"
        "  = help: did you mean 'model'?\n"
        "  = help: roles: costmodel, hardware, model, parallel, precision, report, stack, workload"]
    session = CheckSession()
    for name in ("one", "two"):
        texts = {"base.perf": base, f"{name}.perf": f"costmodel {name} extends base {{\n    y = 1\n}}\n"}
        assert _rendered(Program.load([], texts=texts, session=session)) == expected
        assert _rendered(Program.load([], texts=texts)) == expected


FAMILY = "model fam {\n    width = 1\n    size = width * 2 + width ^ 2\n}\n"
CHILDREN = "".join(f"model m{i} extends fam {{\n    width = {i + 2}\n}}\n" for i in range(3))


@pytest.mark.parametrize("session, walks", [(CheckSession, ["fam"] * 3), (lambda: None, ["fam", "m0", "m1", "m2"] * 3)],
                         ids=["session", "alone"])
def test_the_inherited_cells_of_a_family_take_their_types_from_the_plan(session, walks, monkeypatch):
    """A model family's formula inherited by three models, each giving `width` a count: with a session the operators
    (`+`, `*`, `^`) are walked for the family's own cell only; alone, for each of the four blocks."""
    walked = []
    original = Checker._t_binary

    def counting(self, expr, block, path):
        walked.append(block.name)
        return original(self, expr, block, path)

    monkeypatch.setitem(checker_module._RULES, "binary", counting)      # the walk's rule for `binary` nodes
    program = Program.load([], texts={"fam.perf": FAMILY, "m.perf": CHILDREN}, session=session())
    assert program.check() == []
    assert sorted(walked) == sorted(walks)


def test_a_formula_the_plan_cannot_follow_is_walked():
    """A list, a call of an unknown function and a comparison with a string get no plan."""
    session = CheckSession()
    text = ('model m {\n    a = [1, 2]\n    b = nope(1)\n    c = if(kind == "x", 1, 2)\n'
            '    kind: "x" | "y"\n    d = a\n}\n')
    program = Program.load([], texts={"m.perf": text}, session=session)
    program.check()
    cells = program.blocks["m"].cells
    for name, planned in (("a", False), ("b", False), ("c", False), ("d", True)):
        assert (session.formulas.plan(cells[name].expr) is not None) == planned, name


@pytest.mark.parametrize("file", LIBRARY)
def test_a_plan_lists_the_references_in_the_order_the_walk_types_them(file, monkeypatch):
    """For every formula of the libraries: the references Checker.expr_type types, in order, each at its formula
    level and inside the same `if` values (the checker's branch path), are the plan's (what the plan's points, a
    resumed walk, and the missing inputs read in both values of an `if` rely on)."""
    monkeypatch.chdir(REPO)
    program = Program.load([file])
    seen: list[tuple[int, int, tuple]] = []

    class Recorder:
        """Stands in for a Feed: records each reference the walk reaches at the formula's own level."""

        def next_type(self, checker, expr, block, path):
            assert checker.branch_depth == len(checker.branch_path)
            seen.append((id(expr), checker._depth[0], checker.branch_path))
            checker.feed = None
            try:
                return checker.ref_type(expr, block, path)
            finally:
                checker.feed = self

    checked = 0
    checker = Checker(program.blocks, program.sources, None)
    for block in program.blocks.values():
        for cell in block.cells.values():
            plan = make_plan(cell.expr) if cell.expr is not None and not cell.sweep else None
            if plan is None:
                continue
            seen.clear()
            checker.feed = Recorder()
            try:
                checker.expr_type(cell.expr, block, block.cell_path(cell.name))
            finally:
                checker.feed = None
            assert seen == [(id(ref), level, branch) for ref, level, branch in plan.refs], block.cell_path(cell.name)
            checked += 1
    assert checked or not program.blocks
