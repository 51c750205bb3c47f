"""The live workbook keeps every figure's source, and a figure written as arithmetic of constants is an input.

- A cell whose formula reads no other cell (`64 TB/s / 8`, `128 GB/s / 2`, `2 * 3350 GB/s`, `-1 / 4`) is a yellow
  Value on the Inputs sheet: its value in the unit its numbers are written in (8 TB/s), the `.perf` formula and the
  comment beside it (its datasheet source), as the ordinary workbook's Inputs sheet lists it. Editing it moves the
  estimates as `--set` does (the `formulas` engine recalculates the file).
- A cell that reads another cell (`pcie_bw * 2`, b200's `nvlink_bw / 2`) stays on the Derived sheet, which carries
  its comment in a Comment column, as the ordinary workbook's Inputs sheet does.
- Text stays text: a formula or a comment that starts with = or - is written as a string (workbook._put's guard).
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

import perfdsl
from perfdsl import workbook_live_plan as live
from test_workbook_live import (CAPACITY, TOLERANCE, cached_against_engine, input_cell, recalculate, worst_difference,
                                write_live)

# mem_bw as DGX B200's 64 TB/s over its 8 GPUs, a PCIe figure halved per direction, a user's doubled bandwidth, a
# dimensionless constant written as a division, and a cell that reads another (derived). The comments start with
# = where a spreadsheet would read a formula.
CONSTANTS = """\
hardware gpu {
    mem_bw = 64 TB/s / 8            # gpus.csv: "8000 (DGX B200: 64 TB/s / 8)"
    pcie_bw = 128 GB/s / 2          # 64 per direction; gpus.csv: "128 GB/s bidirectional"
    link_bw = pcie_bw * 2           # =2 x 64: both directions (reads a cell)
    label = "GPU"
}
hardware gpu_2xbw extends gpu {
    mem_bw = 2 * 3350 GB/s          # twice the H100 SXM's 3350
    label = "GPU 2x"
}
model m { bytes = 16 GB }
workload w { sweep batch = [1, 4] }
costmodel c {
    overlap = -1 / 4                # =-0.25: a quarter of the copy hides under the read
    read = model.bytes / hardware.mem_bw * workload.batch
    copy = model.bytes / hardware.link_bw
    t = read + copy * (1 + overlap)
}
report r {
    sweep hardware = [gpu, gpu_2xbw]
    model = m
    workload = w
    show hardware.label as device, c.t in ms as t
}
"""


@pytest.fixture(scope="module")
def constants(tmp_path_factory):
    """The CONSTANTS report written live, and its plan."""
    path = tmp_path_factory.mktemp("constants") / "constants.xlsx"
    program = perfdsl.load([], texts={"constants.perf": CONSTANTS})
    result, plan = write_live(program, path)
    return program, path, result, plan


def ordinary_inputs(program, folder: Path, overrides=None) -> dict[str, tuple]:
    """The ordinary workbook's Inputs sheet by `block.cell`: (Block, Kind, Cell, Formula, Value, Unit, Source,
    Comment) rows, from an evaluation of `program`, written in `folder`. `program` is loaded for it: one evaluated
    before lists only the cells its second evaluation read (the prepared report keeps the constant cells' values),
    not every cell the estimates used."""
    evaluated = perfdsl.evaluate_with_runs(program, overrides=overrides)
    path = perfdsl.export_workbook(evaluated.result, evaluated.comparison, str(folder / "plain.xlsx"))
    return {f"{row[0]}.{row[2]}": row for row in openpyxl.load_workbook(path)["Inputs"].iter_rows(
        min_row=2, values_only=True)}


def test_a_formula_of_constants_is_an_input_with_its_value_formula_and_comment(constants):
    program, path, result, plan = constants
    inputs = {row.name: (row.value, row.unit, row.factor, row.si_unit, row.perf, row.comment) for row in plan.inputs}
    assert inputs["gpu.mem_bw"] == (64 / 8, "TB/s", 1e12, "B/s", "64 TB/s / 8",
                                    'gpus.csv: "8000 (DGX B200: 64 TB/s / 8)"')
    assert inputs["gpu.pcie_bw"] == (128 / 2, "GB/s", 1e9, "B/s", "128 GB/s / 2",
                                     '64 per direction; gpus.csv: "128 GB/s bidirectional"')
    assert inputs["gpu_2xbw.mem_bw"] == (2 * 3350, "GB/s", 1e9, "B/s", "2 * 3350 GB/s", "twice the H100 SXM's 3350")
    assert inputs["c.overlap"] == (-1 / 4, "", 1.0, "", "-1 / 4",
                                   "=-0.25: a quarter of the copy hides under the read")
    assert inputs["m.bytes"][:5] == (16, "GB", 1e9, "B", "16 GB")                # a literal, as before
    derived = {row.name: (row.formula, row.perf, row.comment) for row in plan.derived}
    assert derived == {name: ("=" + name.split(".")[0] + ".pcie_bw*2", "pcie_bw * 2",
                              "=2 x 64: both directions (reads a cell)")
                       for name in ("gpu.link_bw", "gpu_2xbw.link_bw")}
    assert plan.names["gpu.mem_bw"] == f"Inputs!$F${[row.name for row in plan.inputs].index('gpu.mem_bw') + 2}"


def test_the_sheets_write_the_constant_inputs_and_every_comment_as_text(constants):
    program, path, result, plan = constants
    book = openpyxl.load_workbook(path)
    inputs, derived = book["Inputs"], book["Derived"]
    assert [cell.value for cell in inputs[1]] == list(live.INPUT_HEADERS)
    assert [cell.value for cell in derived[1]] == list(live.DERIVED_HEADERS)
    assert live.INPUT_HEADERS[-1] == live.DERIVED_HEADERS[-1] == "Comment"      # the ordinary workbook's header
    row = int(plan.names["gpu.mem_bw"].rsplit("$", 1)[1])
    assert [cell.value for cell in inputs[row]] == [
        "gpu.mem_bw", "hardware", 8, "TB/s", 1e12, f"=C{row}*E{row}", "B/s", "64 TB/s / 8", "constants.perf:2",
        'gpus.csv: "8000 (DGX B200: 64 TB/s / 8)"']
    assert inputs.cell(row, 3).fill.fgColor.rgb.endswith("FFF2CC")              # yellow: the cell to edit
    overlap = int(plan.names["_c.overlap"].rsplit("$", 1)[1])
    for cell in (inputs.cell(overlap, 8), inputs.cell(overlap, 10), derived["F2"], derived["F3"]):
        assert cell.data_type == "s" and cell.value[0] in "=-"                 # text, not a formula
    assert (inputs.cell(overlap, 8).value, derived["F2"].value) == ("-1 / 4", "=2 x 64: both directions (reads a cell)")


def test_the_live_inputs_agree_with_the_ordinary_workbooks_inputs_sheet(constants, tmp_path):
    """Every live input's value, unit, formula and comment are those of its row on the ordinary Inputs sheet, and
    every derived cell's comment too: one source for a figure, whichever workbook shows it."""
    program, path, result, plan = constants
    rows = ordinary_inputs(perfdsl.load([], texts={"constants.perf": CONSTANTS}), tmp_path)
    for item in plan.inputs:
        block, kind, cell, formula, value, unit, source, comment = rows[item.name]
        assert (item.perf, item.value, item.unit or None, item.comment or None) == (formula, value, unit, comment)
    for item in plan.derived:
        assert (item.comment or None) == rows[item.name][7]
    assert rows["gpu_2xbw.mem_bw"][4:6] == (6700, "GB/s")     # the unit the figure is written in, not 6.7 TB/s


def test_editing_a_constant_input_moves_the_estimates_as_set_does(constants):
    """gpu.mem_bw from 64 TB/s / 8 to 10 TB/s and gpu_2xbw.mem_bw from 2 * 3350 to 6000 GB/s on the Inputs sheet:
    what --set gives; untouched, every formula recalculates to perfdsl's values and carries its cached value."""
    program, path, result, plan = constants
    cells = recalculate(path)
    assert worst_difference(result, plan, lambda ref: cells[("CALCULATION", ref)]) <= TOLERANCE
    count, worst, wrong = cached_against_engine(path, cells)
    assert wrong == [] and worst <= TOLERANCE and count > len(plan.inputs) + len(plan.derived)
    edited = recalculate(path, {("Inputs", input_cell(plan, "gpu.mem_bw")): 10,
                                ("Inputs", input_cell(plan, "gpu_2xbw.mem_bw")): 6000})
    changed = program.evaluate(overrides={"gpu.mem_bw": "10 TB/s", "gpu_2xbw.mem_bw": "6000 GB/s"})
    assert worst_difference(changed, plan, lambda ref: edited[("CALCULATION", ref)]) <= TOLERANCE
    # t = 16 GB / mem_bw * batch + 16 GB / (2 * 64 GB/s) * (1 - 1/4), at batch 1 on gpu, in ms
    assert edited[("CALCULATION", f"E{plan.shown_rows['t']}")] == pytest.approx(
        (16e9 / 10e12 * 1 + 16e9 / (2 * 64e9) * (1 - 1 / 4)) / 1e-3, rel=TOLERANCE)


B200_POINT = {"model": "llama3_1_8b", "hardware": "b200", "batch": "1", "seq_len": "1024", "output_len": "256",
              "tp": "1"}


def test_b200s_mem_bw_is_an_input_of_the_library_report(tmp_path):
    """README's what-if on b200: its mem_bw (`64 TB/s / 8`) is a yellow Value with its gpus.csv source; its
    interconnect_bw (`nvlink_bw / 2`) stays derived, with its comment. Every input and derived cell that the ordinary
    workbook lists too has its value, unit, formula and comment there (the live workbook lists more: the cells of
    `if` branches no point takes, which an edit can make it take)."""
    result = perfdsl.load([CAPACITY]).evaluate(overrides=B200_POINT)
    plan = live.plan_live(result)
    rows = ordinary_inputs(perfdsl.load([CAPACITY]), tmp_path, B200_POINT)
    both = [item for item in plan.inputs if item.name in rows]
    assert len(both) > 80 and "b200.mem_bw" in [item.name for item in both]
    assert [(item.name, item.perf, item.value, item.unit or None, item.comment or None) for item in both] == \
        [(item.name, *(rows[item.name][i] for i in (3, 4, 5, 7))) for item in both]
    assert [item.comment or None for item in plan.derived if item.name in rows] == \
        [rows[item.name][7] for item in plan.derived if item.name in rows]
    inputs = {row.name: row for row in plan.inputs}
    mem_bw = inputs["b200.mem_bw"]
    assert (mem_bw.value, mem_bw.unit, mem_bw.factor, mem_bw.perf) == (64 / 8, "TB/s", 1e12, "64 TB/s / 8")
    assert mem_bw.comment.endswith('gpus.csv: "8000 (DGX B200: 64 TB/s / 8)"')
    assert (inputs["b200.mem_size"].value, inputs["b200.mem_size"].unit) == (1440 / 8, "GiB")
    interconnect = {row.name: row for row in plan.derived}["b200.interconnect_bw"]
    assert interconnect.formula == "=_b200.nvlink_bw/2" and interconnect.comment.startswith("900 per direction")
