"""The linking stage: every name resolved once per block and context, one dependency graph, a report checked once
per program, and evaluation of only what the shown cells read."""

from __future__ import annotations

import perfdsl
from perfdsl import ir
from perfdsl.linker import Linker, RoleBinding, Target, Unresolved, refs_of, report_roles
from perfdsl.parser import parse_value

PROGRAM = """\
hardware fast { peak = 400 TFLOP/s }
hardware slow { peak = 100 TFLOP/s }
model m1 { params = 1e9 }
model m2 { params = 7e9 }
workload grid { sweep batch = [1, 2] }
costmodel prefill {
    flops   = 2 FLOP * model.params * workload.batch
    runtime = flops / hardware.peak
    unused  = runtime * 2
}
report example {
    sweep model = [m1, m2]
    hardware = fast
    workload = grid
    show prefill.runtime in ms
}
"""


def load() -> perfdsl.Program:
    return perfdsl.load([], texts={"example.perf": PROGRAM})


def test_report_roles_read_from_the_report_cells():
    program = load()
    roles = report_roles(program.blocks["example"], program.blocks)
    assert roles == {
        "report": RoleBinding("report", ("example",), False),
        "model": RoleBinding("model", ("m1", "m2"), True),      # in the order written
        "hardware": RoleBinding("hardware", ("fast",), False),
        "workload": RoleBinding("workload", ("grid",), False),
    }


def test_targets_are_resolved_once_per_block_and_name():
    program = load()
    ctx, checker = program.prepare()
    link = checker.link
    prefill = program.blocks["prefill"]
    params = link.target(("model", "params"), prefill)
    assert params == Target("params", ("m1", "m2"), role="model", swept=True)
    assert link.target(("model", "params"), prefill) is params
    assert link.target(("hardware", "peak"), prefill) == Target("peak", ("fast",), role="hardware")
    assert link.target(("flops",), prefill) == Target("flops", ("prefill",))
    missing = link.target(("hardware", "peek"), prefill)
    assert isinstance(missing, Unresolved) and missing.message == "'fast' has no cell 'peek' (bound to the role " \
                                                                  "'hardware')"


def test_the_dependency_graph_reaches_through_every_block_of_a_swept_role():
    program = load()
    _, checker = program.prepare()
    link = checker.link
    assert link.precedents(program.blocks["prefill"], "runtime") == (("prefill", "flops"), ("fast", "peak"))
    assert sorted(link.reachable([("prefill", "runtime")])) == [
        ("fast", "peak"), ("grid", "batch"), ("m1", "params"), ("m2", "params"), ("prefill", "flops"),
        ("prefill", "runtime")]


def test_a_report_is_linked_and_checked_once_per_program(monkeypatch):
    program = load()
    calls = []
    original = perfdsl.Program._check_report
    monkeypatch.setattr(perfdsl.Program, "_check_report", lambda self, ctx: calls.append(ctx) or original(self, ctx))
    first = program.evaluate()
    second = program.evaluate()
    assert len(calls) == 1
    assert (first.column("prefill.runtime") == second.column("prefill.runtime")).all()


def test_evaluation_computes_only_the_cells_the_shown_values_read():
    result = load().evaluate()
    computed = {(block, cell) for block, cell, _ in result.evaluator.memo}
    assert ("prefill", "unused") not in computed
    assert {("prefill", "runtime"), ("prefill", "flops"), ("m1", "params"), ("m2", "params")} <= computed
    # 2 FLOP * 7e9 * 2 / 400 TFLOP/s at model m2, batch 2
    assert result.column("prefill.runtime")[3] == 2 * 7e9 * 2 / 400e12     # flat, in records() order


def test_refs_of_walks_any_depth_without_recursion():
    expr = parse_value("x + y", "deep")[0]
    for _ in range(5000):
        expr = ir.Binary.model_construct(op="+", left=expr, right=expr.right, span=expr.span)
    assert [ref.dotted for ref in refs_of(expr)] == ["x", "y"]


def test_the_references_of_a_formula_are_found_once_per_formula(monkeypatch):
    """refs_of walks a formula node once (parsed formulas are frozen; the same condition is asked for in every block
    that inherits it): again, it gives the same references, in a list of its own (a caller's change to one list
    leaves the next as it was); another node of the same text is walked for itself."""
    from perfdsl import linker

    walked = []
    original = linker.walk

    def counting(expr):
        walked.append(expr)
        return original(expr)

    monkeypatch.setattr(linker, "walk", counting)
    expr = parse_value("model.heads / kv_heads + model.heads", "once")[0]
    first = refs_of(expr)
    assert [ref.dotted for ref in first] == ["model.heads", "kv_heads"]
    first.clear()
    again = refs_of(expr)
    assert [ref.dotted for ref in again] == ["model.heads", "kv_heads"] and again is not first
    assert walked == [expr]
    other = parse_value("model.heads / kv_heads + model.heads", "twice")[0]
    assert [ref.dotted for ref in refs_of(other)] == ["model.heads", "kv_heads"]
    assert walked == [expr, other]


def test_the_resolution_in_a_library_file_without_a_report_leaves_roles_open():
    program = load()
    link = Linker(program.blocks, None, known_roles={"model", "hardware", "workload", "report"})
    prefill = program.blocks["prefill"]
    assert link.target(("model", "params"), prefill).open
    typo = link.target(("modle", "params"), prefill)
    assert isinstance(typo, Unresolved) and typo.severity == "warning"


def check_texts(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """(message, hints) of each diagnostic of checking `text` beside PROGRAM's blocks."""
    program = perfdsl.load([], texts={"example.perf": PROGRAM, "typo.perf": text})
    return [(d.message, tuple(d.hints)) for d in program.check() if d.code == "unknown-name"]


def test_a_misspelt_role_value_lists_the_blocks_the_role_takes():
    """`hardware = fsat`: the guesses and the list are the hardware blocks, not the report's cells."""
    found = check_texts("report typo { hardware = fsat\n model = m1\n workload = grid\n show prefill.runtime }")
    assert found == [("unknown name 'fsat' in report 'typo'",
                      ("did you mean 'fast'?", "the role 'hardware' takes a hardware block; available: fast, slow"))]


def test_a_stack_takes_a_software_block():
    found = check_texts("software vllm { label = \"vLLM\" }\nsoftware sglang { label = \"SGLang\" }\n"
                        "report typo { stack = vlm\n show stack.label }")
    assert found == [("unknown name 'vlm' in report 'typo'",
                      ("did you mean 'vllm'?", "the role 'stack' takes a software block; available: sglang, vllm"))]


def test_a_name_in_a_report_formula_still_lists_the_reports_cells():
    found = check_texts("report typo { hardware = fast\n batch = bacth * 2\n show batch }")
    assert found == [("unknown name 'bacth' in report 'typo'",
                      ("did you mean 'batch'?", "available: batch, hardware"))]


def test_perfdsl_eval_set_model_to_a_misspelt_model(capsys, monkeypatch):
    """The newcomer's command: the list names the models of reports/example.perf (models/opt.perf, its
    `opt_family` and their base `transformer`), not the report's cells (hardware, model, precision, workload)."""
    from pathlib import Path

    from perfdsl.cli import main

    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    assert main(["eval", "reports/example.perf", "--set", "model=opt_14b"]) == 2
    assert capsys.readouterr().err == (
        "error[unknown-name]: unknown name 'opt_14b' in report 'example'\n"
        "  --> --set model:1:1\n"
        "  |\n"
        "1 | opt_14b\n"
        "  | ^^^^^^^\n"
        "  = in: report.example.model\n"
        "  = help: did you mean 'opt_13b' or 'opt_1_3b' or 'opt_66b'?\n"
        "  = help: the role 'model' takes a model block; available: opt_125m, opt_13b, opt_1_3b, opt_2_7b, opt_30b, "
        "opt_350m, opt_66b, opt_6_7b\n"
        "\n"
        "1 error\n")
