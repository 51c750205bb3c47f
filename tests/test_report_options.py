"""Report options: one schema (dsl/report_options.py) that check validates, the stages read, and the docs show."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import perfdsl
from perfdsl.errors import PerfError
from perfdsl.report_options import OPTIONS, markdown_table, option_value, unit_alias_factors

REPO = Path(__file__).resolve().parent.parent
DSL = REPO / "dsl"


def test_the_docs_show_the_schemas_table():
    text = (REPO / "docs" / "LANGUAGE.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- report-options -->\n(.*?)\n<!-- /report-options -->", text, re.S)
    assert found, "docs/LANGUAGE.md has no <!-- report-options --> table"
    assert found.group(1) == markdown_table(), (
        "docs/LANGUAGE.md's report options differ from the schema; paste the output of\n"
        "  .venv/bin/python -c 'from perfdsl.report_options import markdown_table; print(markdown_table())'")


def test_every_report_cell_the_code_reads_is_in_the_schema():
    """A stage that reads a report option by name (`option_value(..., "points")`, `report.cells.get("section")`)
    names one the schema documents and check validates."""
    read = set()
    for path in DSL.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        read.update(re.findall(r'option_value\([^)]*?"(\w+)"\)', source))
        read.update(re.findall(r'report\.cells\.get\("(\w+)"\)', source))
    assert read and read <= set(OPTIONS), read - set(OPTIONS)


def test_defaults_and_values_are_read_through_the_schema():
    program = perfdsl.load([], texts={"r.perf": 'report r { x = 1\n error_convention = "estimated"\n show r.x }'})
    report = program.blocks["r"]
    assert option_value(program.sources, report, "error_convention") == "estimated"
    assert option_value(program.sources, report, "points") == "sweep"
    assert option_value(program.sources, report, "invalid_points") == "omit"
    assert option_value(program.sources, report, "measured") == []


def test_a_bad_value_read_at_evaluation_raises_the_same_diagnostic_as_check():
    program = perfdsl.load([], texts={"r.perf": 'report r {\n x = 1\n points = "run"\n show r.x\n}\n'})
    (checked,) = program.check()
    with pytest.raises(PerfError) as caught:
        option_value(program.sources, program.blocks["r"], "points")
    (read,) = caught.value.diagnostics
    assert read.render() == checked.render()
    assert checked.render() == (
        "error[bad-choice]: 'points' is one of \"sweep\" or \"runs\", not \"run\"\n"
        "  --> r.perf:3:11\n"
        "  |\n"
        "3 |  points = \"run\"\n"
        "  |           ^^^^^\n"
        "  = in: report.r.points\n"
        "  = help: did you mean \"runs\"?\n"
        "  = help: \"sweep\": every point of the sweep\n"
        "  = help: \"runs\": the points the runs of `measured` have: each identifying field of the runs becomes a "
        "sweep, and only the points a run matched are kept")


def test_unit_alias_factors():
    assert unit_alias_factors("GB=GiB, MB=MiB") == {"GB": 2**30 / 1e9, "MB": 2**20 / 1e6}
    with pytest.raises(ValueError, match="MB and s have different dimensions"):
        unit_alias_factors("MB=s")
    with pytest.raises(ValueError, match="cannot read 'GB'"):
        unit_alias_factors("GB")


def test_eval_reports_every_bad_option_at_once(capsys, monkeypatch):
    from perfdsl import cli

    monkeypatch.chdir(REPO)
    code = cli.main(["eval", "tests/cases/report_options_misspelt.perf"])
    err = capsys.readouterr().err
    assert code == 1
    assert [line for line in err.splitlines() if line.startswith("error[")] == [
        "error[bad-choice]: 'points' is one of \"sweep\" or \"runs\", not \"run\"",
        "error[bad-choice]: 'error_convention' is one of \"measured\" or \"estimated\", not \"measurd\""]


STACK_NOTE_SPEC = """import "models/opt.perf"
import "hardware/ampere_workstation.perf"
workload sized { tokens = 16384 }
costmodel stream { time = 2 byte * model.params / hardware.mem_bw }
report with_options {
    stack_note = "PyTorch eager, fp16"
    model = opt_1_3b
    hardware = rtx_a5000
    workload = sized
    show stream.time in ms as runtime
}
"""


def test_stack_note_is_the_setup_sheets_stack_where_no_stack_block_is_bound():
    from perfdsl.workbook_setup import NOT_STATED, setup_lines

    result = perfdsl.load([], texts={str(REPO / "r.perf"): STACK_NOTE_SPEC}).evaluate()
    assert dict(setup_lines(result, [0], {}))["Stack"] == "PyTorch eager, fp16"
    bare = perfdsl.load([], texts={str(REPO / "r.perf"): STACK_NOTE_SPEC.replace(
        '    stack_note = "PyTorch eager, fp16"\n', "")}).evaluate()
    assert dict(setup_lines(bare, [0], {}))["Stack"] == NOT_STATED == (
        "not stated by the report (bind the role `stack` to a block of software/stacks.perf, or add the option "
        "`stack_note = \"...\"`)")


def test_stack_note_follows_the_bound_stack_block_and_its_label():
    from perfdsl.workbook_setup import setup_lines

    text = STACK_NOTE_SPEC.replace('import "models/opt.perf"',
                                   'import "models/opt.perf"\nimport "software/stacks.perf"')
    text = text.replace("    workload = sized\n", "    workload = sized\n    stack = vllm\n")
    result = perfdsl.load([], texts={str(REPO / "r.perf"): text}).evaluate()
    assert dict(setup_lines(result, [0], {}))["Stack"] == "vllm (vLLM); PyTorch eager, fp16"


def test_a_quoted_string_cell_named_stack_is_no_option_any_more():
    """`stack` is the role of a software block; the text option is `stack_note` (tests/test_quoted_role.py pins
    what `stack = "vllm"` says where a formula reads the role)."""
    assert "stack" not in OPTIONS and OPTIONS["stack_note"].kind == "text"
