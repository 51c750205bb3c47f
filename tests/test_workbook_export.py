"""What `perfdsl eval REPORT -o out.xlsx` writes for a real report (dsl/workbook_export.py): the README tour's
reports/example.perf, evaluated from the repository root as a user runs it.

Faults a newcomer found: the Inputs sheet's values were text ('768', '1315758080'), so a spreadsheet did not compute
with them; the Unmatched sheet said "every run found its estimate" of a report given no runs at all; it showed absolute paths of spec files (Inputs' Source, Setup's Cost model) in a workbook that people forward.
"""

from __future__ import annotations

import collections
import os
import re
from pathlib import Path

import openpyxl
import pytest

import perfdsl
from perfdsl.cli import main

REPO = Path(__file__).resolve().parent.parent
NUMBER_TEXT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


@pytest.fixture(scope="module")
def example_book(tmp_path_factory):
    """reports/example.perf's workbook, evaluated in the repository root (the README's command)."""
    out = tmp_path_factory.mktemp("example") / "out.xlsx"
    here = os.getcwd()
    os.chdir(REPO)
    try:
        assert main(["eval", "reports/example.perf", "-o", str(out)]) == 0
    finally:
        os.chdir(here)
    return openpyxl.load_workbook(out)


def inputs(book) -> dict[tuple[str, str], tuple]:
    """(block, cell) -> (value, unit, source, comment) of the Inputs sheet."""
    rows = list(book["Inputs"].iter_rows(min_row=2, values_only=True))
    return {(block, cell): (value, unit, source, comment)
            for block, _kind, cell, _formula, value, unit, source, comment in rows}


def test_inputs_values_that_are_one_number_are_number_cells(example_book):
    cells = inputs(example_book)
    # hardware/ampere_workstation.perf: `mem_bw = 768 GB/s`, `peak_fp16 = 222.2 TFLOP/s / 2` (the datasheet's 222.2
    # is with sparsity); shown in the unit of the Unit column
    assert cells["rtx_a5000", "mem_bw"][:2] == (768, "GB/s")
    assert cells["rtx_a5000", "peak_fp16"][:2] == (222.2 / 2, "TFLOP/s")
    # models/transformer.perf's params of OPT-1.3B, a count (no unit): a whole number, an int
    assert cells["opt_1_3b", "params"][:2] == (1315758080, None)
    assert cells["rtx_a5000", "bandwidth_efficiency"][:2] == (0.8, None)
    kinds = collections.Counter(type(value).__name__ for value, *_ in cells.values())
    # text: the swept list and range, and four cells that vary over the sweep (tokens, bytes, flops, runtime).
    # The cells the constraints read are inputs too: gpu.perf's datasheet bounds (mem_size, pcie_bw, nvlink_bw and
    # the peaks of each part: 7 on rtx_a5000, whose peak_int8 is open (no source), 8 on rtx_a6000) and
    # transformer.perf's layer-group bounds (window_layers, sliding_window, attention_chunk of both OPT models), and
    # gpu.perf's bounds on the ring's links (nvlink_domain and nvlink_mesh_links of each of the two parts: 4), and
    # its bound on the memory the driver keeps (mem_reserved, 0 B on both parts: 2)
    assert kinds == {"int": 84 + 10 + 4 + 2, "float": 16 + 11, "bool": 24, "str": 6}


def test_inputs_keep_text_for_lists_ranges_and_strings_and_booleans_as_booleans(example_book):
    cells = inputs(example_book)
    assert cells["grid", "batch"][0] == "1, 2, 4, 8, 16"        # a swept list: its values, not a range
    # a swept range (`128 .. 8192 by *2`): its 7 points, the first eight at most ("128 .. 8192" hid the step)
    assert cells["grid", "seq"][0] == "128, 256, 512, 1024, 2048, 4096, 8192"
    assert cells["grid", "tokens"][0] == "128 .. 131072"        # batch * seq: 1 * 128 .. 16 * 8192
    # a computed cell of a few values lists them, ascending ("2.6315 .. 13.317" read as any size between): the
    # weights of the two OPT models at fp16, 2 byte * 1,315,758,080 and 2 byte * 6,658,473,984, in GB (5 digits)
    assert cells["prefill", "bytes"][:2] == ("2.6315, 13.317", "GB")
    assert cells["opt_1_3b", "tied_embeddings"][0] is True      # a boolean cell (TRUE), not the text 'true'
    sheet = example_book["Inputs"]
    text = [cell.value for cell in sheet["E"][1:] if cell.data_type == "s"]
    assert text and not [value for value in text if NUMBER_TEXT.fullmatch(value)]
    assert {cell.data_type for cell in sheet["E"][1:] if isinstance(cell.value, bool)} == {"b"}


def test_inputs_show_a_figure_in_its_written_unit_and_the_comment_beside_it(example_book):
    cells = inputs(example_book)
    # hardware/ampere_workstation.perf: `mem_bw = 768 GB/s   # gpus.csv: 768`
    assert cells["rtx_a5000", "mem_bw"] == (768, "GB/s", "hardware/ampere_workstation.perf:35", "gpus.csv: 768")
    # a comment continued on the lines below it, in the same column, is joined
    assert cells["rtx_a5000", "peak_fp16"][3] == (
        '111.1; "Tensor Performance 222.2 TFLOPS" sparse headline / 2 (gpus.csv: derived)')
    assert cells["opt_1_3b", "params"][3] is None                # no comment beside it


def test_no_sheet_writes_a_number_as_text(example_book):
    """Every sheet: a cell that reads as a plain number is a number cell. The Inputs sheet's Formula column is the
    text of the .perf file (`0.80` as written), so it stays text."""
    found = [(sheet.title, cell.coordinate, cell.value) for sheet in example_book for row in sheet.iter_rows()
             for cell in row if isinstance(cell.value, str) and NUMBER_TEXT.fullmatch(cell.value.strip())
             and not (sheet.title == "Inputs" and cell.column == 4)]
    assert found == []


def test_a_report_given_no_runs_has_no_unmatched_sheet_and_about_says_why(example_book):
    assert example_book.sheetnames == ["example", "Setup", "Summary", "Plots", "Inputs", "About"]
    about = [row for row in example_book["About"].iter_rows(values_only=True)]
    assert dict(about)["Layout"].startswith("Estimates only. No runs were compared: no run logs were given (a "
                                            "`measured` cell in the report, --measured or --add-measured), so ")
    sheets = dict(about)["Sheets"]
    assert sheets.endswith("; Inputs (every spec cell used); About.") and "Unmatched" not in sheets


def test_spec_files_are_shown_relative_to_the_working_folder(example_book):
    sources = [row[6] for row in example_book["Inputs"].iter_rows(min_row=2, values_only=True)]
    assert sources and all(re.fullmatch(r"(hardware|models|software|reports)/\w+\.perf:\d+", s) for s in sources)
    assert sources[0] == "hardware/gpu.perf:76"      # rtx_a5000.attention_efficiency, from ampere_workstation's import
    setup = dict(example_book["Setup"].iter_rows(values_only=True))
    assert re.fullmatch(r"prefill: reports/example\.perf \(sha256 [0-9a-f]{12}\); evaluated by perfdsl \S+",
                        setup["Cost model"])


def test_a_program_loaded_by_absolute_path_is_shown_as_diagnostics_show_it(tmp_path, monkeypatch):
    """Loaded from outside the repository (its files named by absolute paths), written from inside it: the workbook
    names them relative to the folder it is written from; written from outside, absolute (loader.display_path)."""
    monkeypatch.chdir(tmp_path)
    result = perfdsl.load([REPO / "reports" / "example.perf"]).evaluate("example")
    outside = openpyxl.load_workbook(perfdsl.export_workbook(result, None, tmp_path / "outside.xlsx"))
    assert outside["Inputs"]["G2"].value == f"{REPO}/hardware/gpu.perf:76"
    monkeypatch.chdir(REPO)
    inside = openpyxl.load_workbook(perfdsl.export_workbook(result, None, tmp_path / "inside.xlsx"))
    assert inside["Inputs"]["G2"].value == "hardware/gpu.perf:76"
    setup = dict(inside["Setup"].iter_rows(values_only=True))
    assert setup["Cost model"].startswith("prefill: reports/example.perf (sha256 ")


@pytest.mark.parametrize("name, title", [
    ("ttft", "TTFT"), ("tpot", "TPOT"), ("e2e", "E2E"), ("kv_cache.bytes", "KV cache bytes"),
    ("energy_per_token", "Energy per token"), ("decode.mfu", "Decode MFU"), ("gpus_per_replica", "GPUs per replica"),
    ("lm_head_flops", "LM head FLOPs"), ("moe_layers", "MoE layers"), ("throughput", "Throughput"),
    ("tps", "Tps"), ("Model", "Model")])
def test_a_header_writes_the_fields_abbreviations_as_the_field_does(name, title):
    """A newcomer's workbook had the headers "Ttft (ms)" and "Tpot (ms)": a shown name's title keeps the field's
    abbreviations in capitals; other words are left as written, the first letter capitalised."""
    from perfdsl.workbook_export import title_of

    assert title_of(name) == title


def test_a_measured_value_is_written_as_the_log_gave_it(tmp_path, monkeypatch):
    """data/seed_runs_a5000.csv gives opt-6.7b on 8 GPUs 16.04 "GB" of memory, read as GiB (measured_unit_aliases):
    16.04 x 2^30 bytes, shown in GiB again, is 16.040000000000003 in floating point; the workbook holds 16.04, the
    number of the log (a newcomer saw the artefact in the formula bar)."""
    monkeypatch.chdir(REPO)
    out = tmp_path / "seed.xlsx"
    assert main(["eval", "reports/seed_benchmark.perf", "-o", str(out)]) == 0
    sheet = openpyxl.load_workbook(out)["Multi GPU"]
    header = [cell.value for cell in sheet[2]]
    memory_measured = header.index("Measured", header.index("Estimated high") + 1)     # after the runtime group
    row = next(r for r in sheet.iter_rows(min_row=3, values_only=True)
               if r[0] == "facebook/opt-6.7b" and r[1] == "NVIDIA RTX A5000")
    assert row[memory_measured] == 16.04


def test_a_shown_sweep_value_names_rows_and_a_flag_follows_the_axes(tmp_path):
    """`show workload.tp as TP` shows an axis's own value: it names the row (an identity column, its axis column
    left out: not twice), never a metric with Measured and Error columns and a Summary row; a shown flag
    (`c.fits`) comes after the axes. A report without a question says "Rows", not "Question", about the points it
    keeps."""
    from perfdsl.workbook_export import build_workbook_data

    (tmp_path / "r.perf").write_text(
        "workload w {\n    sweep tp = [1, 2]\n}\n"
        "costmodel c {\n    t = 2 s / workload.tp\n    fits = workload.tp < 2\n}\n"
        "report r {\n    workload = w\n    sweep batch = [1, 8]\n"
        "    require batch * workload.tp < 16, \"too large\"\n"
        "    show workload.tp as TP, c.fits as fits, c.t in s as time\n}\n")
    program = perfdsl.load(tmp_path / "r.perf")
    data = build_workbook_data(program.evaluate(), None)
    section = data.sections[0]
    assert section.id_columns == ["TP", "batch", "fits"]
    assert [metric.name for metric in section.metrics] == ["time"]
    assert [(row.identity["TP"], row.identity["batch"], row.identity["fits"]) for row in section.rows] == \
        [(1, 1, True), (1, 8, True), (2, 1, False)]                 # tp 2 x batch 8 breaks the `require`
    assert "Rows: 3 of 4 sweep points meet every constraint." in data.notes


def test_a_shown_sweep_value_of_an_axis_the_question_keeps_is_a_column_beside_its_axis(tmp_path):
    """Under a question `per tp`, a group with no answer keeps its tp and leaves every shown cell empty: CSV writes
    tp = 2 and TP empty. The workbook wrote TP in place of the axis column, so its row said TP = 2 where CSV said
    none. Now TP is a column of its own after the axes, and the axis column tp names the group, as in CSV."""
    from perfdsl.workbook_export import build_workbook_data

    (tmp_path / "r.perf").write_text(
        "workload w {\n    sweep tp = [1, 2]\n    sweep batch = [1, 8]\n}\n"
        "costmodel c {\n    t = 2 s * workload.batch / workload.tp\n}\n"
        "report r {\n    workload = w\n    show workload.tp as TP, c.t in s as time\n"
        "    where c.t >= 2 s\n    best min c.t per tp\n}\n")
    result = perfdsl.load(tmp_path / "r.perf").evaluate()
    section = build_workbook_data(result, None).sections[0]
    assert section.id_columns == ["tp", "batch", "TP"]
    # tp 1: t = 2 s x 1 / 1 = 2 s (batch 1) meets t >= 2 s; tp 2: 2 s x 8 / 2 = 8 s (batch 8) meets it too, the
    # least being 8 s at batch 8 (batch 1 gives 1 s, below 2 s). Then with `where c.t >= 9 s`, tp 1 has 16 s at
    # batch 8 and tp 2 nothing (8 s at most): its row keeps tp = 2 and leaves TP and the estimate empty.
    assert [(row.identity["batch"], row.identity["tp"], row.identity["TP"], row.estimated["time"])
            for row in section.rows] == [(1, 1, 1, 2.0), (8, 2, 2, 8.0)]
    (tmp_path / "r.perf").write_text((tmp_path / "r.perf").read_text().replace(">= 2 s", ">= 9 s"))
    result = perfdsl.load(tmp_path / "r.perf").evaluate()
    section = build_workbook_data(result, None).sections[0]
    rows = [tuple(None if value != value else value       # NaN: an empty cell of the sheet
                  for value in (row.identity["batch"], row.identity["tp"], row.identity["TP"], row.estimated["time"]))
            for row in section.rows]
    assert rows == [(8, 1, 1, 2 * 8 / 1), (None, 2, None, None)]
    assert result.records()[1] == {"tp": 2, "batch": None, "TP": None, "time [s]": None}     # CSV's row, as well


def test_inputs_values_in_the_unit_written_and_sweeps_as_written(tmp_path, monkeypatch):
    """A figure keeps the unit its literal is written in (1555 GB/s, not the 1.555 TB/s a readable unit for its size
    would give); a computed value keeps a readable unit; a swept list is its values (in its written unit), a swept
    range a range, a zipped sweep the values of each of its cells."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.perf").write_text(
        'hardware g {\n    mem_bw = 1555 GB/s     # gpus.csv: 1555\n    fast = true\n    bytes_per_s = mem_bw * 1\n}\n'
        'workload w {\n    sweep batch = [1, 8, 32, 128]\n    sweep seq = 128 .. 512 by *2\n'
        '    sweep extra = [900 GB/s, 1200 GB/s]\n    sweep (a, b) = [(1, 5), (2, 5), (1, 6)]\n}\n'
        'costmodel c {\n    runtime = if(hardware.fast, workload.batch * workload.seq * (workload.a + workload.b)'
        ' * 1 GB / (hardware.bytes_per_s + workload.extra), 0 s)\n}\n'
        'report r {\n    hardware = g\n    workload = w\n    show c.runtime in ms as runtime\n}\n')
    result = perfdsl.load([tmp_path / "r.perf"]).evaluate("r")
    cells = inputs(openpyxl.load_workbook(perfdsl.export_workbook(result, None, tmp_path / "r.xlsx")))
    assert cells["g", "mem_bw"] == (1555, "GB/s", "r.perf:2", "gpus.csv: 1555")
    assert cells["g", "bytes_per_s"][:2] == (1.555, "TB/s")        # computed: a readable unit, as before
    assert cells["g", "fast"][:2] == (True, None)
    assert cells["w", "batch"][:2] == ("1, 8, 32, 128", None)
    assert cells["w", "seq"][:2] == ("128, 256, 512", None)         # a range: its points, as a list
    assert cells["w", "extra"][:2] == ("900, 1200", "GB/s")
    assert (cells["w", "a"][0], cells["w", "b"][0]) == ("1, 2", "5, 6")


def test_a_comment_goes_on_below_its_cell_in_any_column_deeper_than_the_cell():
    """hardware/gpu.perf aligns some continuations with the code, not with the `#` (attention_efficiency's three
    lines): they are the comment's; a comment at the cell's own indentation is the next cell's, not a continuation.
    The Inputs sheet's Comment column and explain's `comment:` read this."""
    text = ("hardware g {\n"
            "    a = 1          # first line of a's comment, which\n"
            "                # goes on here, aligned with nothing in particular\n"
            "    # the next cell's heading\n"
            "    b = 2          # b's own\n"
            "}\n")
    program = perfdsl.load([], texts={"g.perf": text})
    block = program.blocks["g"]
    assert program.sources.cell_comment(block.cells["a"]) == (
        "first line of a's comment, which goes on here, aligned with nothing in particular")
    assert program.sources.cell_comment(block.cells["b"]) == "b's own"


def test_a_formula_over_several_lines_keeps_the_comment_of_each_line():
    """models/transformer.perf's attn_params_per_layer names the term of each line in a comment; only the last
    line's ("sinks") was shown. A `#` inside a string is not a comment; a line with no comment adds nothing."""
    text = ("hardware g {\n"
            "    label = \"a # b\"\n"
            "    a = 1\n"
            "        + 2            # the second term\n"
            "        + 3\n"
            "        + 4            # the last term, which\n"
            "                       # goes on here\n"
            "    b = if(label == \"a # b\", 1,   # a string's '#' is text\n"
            "           2)\n"
            "}\n")
    program = perfdsl.load([], texts={"g.perf": text})
    block = program.blocks["g"]
    assert program.sources.cell_comment(block.cells["a"]) == (
        "the second term; the last term, which goes on here")
    assert program.sources.cell_comment(block.cells["b"]) == "a string's '#' is text"
    assert program.sources.cell_comment(block.cells["label"]) == ""


def test_the_plots_sheet_pictures_a_row_where_every_shown_flag_is_true():
    """The capacity report's first row (a 70B model on one GPU) does not fit: its roofline pictured a set-up nobody
    runs. The first row whose shown booleans are all true is pictured (tp 4: 4 x 20 GB >= 70 GB), else the first."""
    from perfdsl.workbook_export import _first_points

    text = ("workload w { sweep tp = [1, 2, 4, 8] }\n"
            "costmodel c {\n    fits = workload.tp * 20 GB >= 70 GB\n    t = 1 s / workload.tp\n}\n"
            "report r {\n    workload = w\n    show c.t in s as t, c.fits as fits\n}\n")
    result = perfdsl.load([], texts={"r.perf": text}).evaluate()
    assert _first_points(result, None) == {"r": 2}
    never = perfdsl.load([], texts={"r.perf": text.replace(">= 70 GB", ">= 700 GB")}).evaluate()
    assert _first_points(never, None) == {"r": 0}


def test_a_second_evaluation_of_a_program_lists_the_same_inputs(tmp_path, monkeypatch):
    """A notebook evaluates one Program again and again: a cell that varies along no axis is computed once per
    prepared report (evaluator.Constants), and the second evaluation's Inputs sheet lost every cell such a cell
    reads (example.perf: 157 cells, then 6)."""
    from perfdsl.workbook_export import export_workbook

    monkeypatch.chdir(REPO)
    program = perfdsl.load(["reports/example.perf"])
    first = inputs(openpyxl.load_workbook(export_workbook(program.evaluate(), None, str(tmp_path / "1.xlsx"))))
    second = inputs(openpyxl.load_workbook(export_workbook(program.evaluate(), None, str(tmp_path / "2.xlsx"))))
    fresh = inputs(openpyxl.load_workbook(export_workbook(perfdsl.load(["reports/example.perf"]).evaluate(), None,
                                                          str(tmp_path / "3.xlsx"))))
    assert second == first == fresh
    assert len(first) == 157                    # 155, and mem_reserved of the two GPUs (gpu.perf's bound reads it)
    # read only by constant cells (opt_1_3b's weights): what the second evaluation's memo lacked
    assert first["opt_1_3b", "attn_params_per_layer"] == second["opt_1_3b", "attn_params_per_layer"]


# ---- one cell shown twice, in two units: a column group each, in its own unit ------------------------------------

TWICE = ("workload wl {\n  sweep batch = [1, 2, 4]\n  t = batch * 2 s\n}\n"
         "report r {\n  workload = wl\n  show workload.t in ms, workload.t in s\n}\n")


def sheet_rows(path: Path, sheet: str, values: bool = False) -> list[tuple]:
    """A sheet's rows; `values`: formulas as the values cached in the file."""
    return list(openpyxl.load_workbook(path, data_only=values)[sheet].iter_rows(values_only=True))


def test_a_cell_shown_in_two_units_is_written_in_each(tmp_path):
    """`show workload.t in ms, workload.t in s` (t = batch x 2 s) is the CSV's `workload.t [ms]` and `workload.t [s]`:
    at batch 1, 1 x 2 s = 2000 ms and 2 s. The workbook kept a metric's values by the cell's name, so both groups
    held the second's: 2.0 under 'Workload t (ms)'."""
    (tmp_path / "d.perf").write_text(TWICE)
    out = tmp_path / "d.xlsx"
    assert main(["eval", str(tmp_path / "d.perf"), "-q", "-o", str(out)]) == 0
    rows = sheet_rows(out, "r")
    assert rows[:2] == [(None, "Workload t (ms)", "Workload t (s)"), ("batch", "Estimated", "Estimated")]
    assert rows[2:] == [(batch, batch * 2 * 1000.0, batch * 2.0) for batch in (1, 2, 4)]


def test_a_measured_metric_shown_in_two_units_compares_in_each(tmp_path):
    """A runs report (points = "runs") showing the runtime in ms and in s, both named `runtime`, the name its runs
    give: each group's Measured and Estimated are in its unit, and the Summary's statistics and chart ends too.
    tests/fixtures/logs/matching_runs.csv's first run, org/tiny on card A, measured 25 ms; the estimate is
    2 FLOP x 1e9 x 1000 / 100 TFLOP/s = 20 ms. Before, the ms group held seconds (0.025, 0.02)."""
    fixtures = Path(__file__).parent / "fixtures"
    (tmp_path / "twice.perf").write_text(
        f'import "{fixtures / "specs" / "matching.perf"}"\n'
        "report twice {\n"
        f'    measured = "{fixtures / "logs" / "matching_runs.csv"}"\n'
        '    points = "runs"\n    sweep model = [tiny, small]\n    sweep hardware = [card_a, card_b]\n'
        "    workload = step\n"
        "    show model.hf_id as Model, hardware.label as Device, cost.runtime in ms as runtime,\n"
        "         cost.runtime in s as runtime\n}\n")
    out = tmp_path / "twice.xlsx"
    assert main(["eval", str(tmp_path / "twice.perf"), "--report", "twice", "-q", "-o", str(out)]) == 0
    rows = sheet_rows(out, "twice", values=True)
    assert rows[0][:9] == (None, None, None, "Runtime (ms)", None, None, "Runtime (s)", None, None)
    assert rows[1][:9] == ("Model", "Device", "n_gpus") + ("Measured", "Estimated", "Error") * 2
    estimate = {"NVIDIA Card A": 2 * 1e9 * 1000 / 100e12, "NVIDIA Card B": 2 * 2e9 * 1000 / 200e12}    # s
    measured = {("org/tiny", "NVIDIA Card A", 1): 25e-3, ("org/tiny", "NVIDIA Card A", 8): 40e-3,
                ("org/small", "NVIDIA Card B", 1): 16e-3}
    assert [row[:3] for row in rows[2:]] == list(measured)
    for row in rows[2:]:
        run, estimated = measured[row[:3]], estimate[row[1]]
        assert row[3:5] == pytest.approx((run * 1000, estimated * 1000))
        assert row[6:8] == pytest.approx((run, estimated))
        assert row[5] == pytest.approx((estimated - run) / run)
        assert row[8] == pytest.approx((estimated - run) / run)
    summary = sheet_rows(out, "Summary", values=True)
    assert [row[1:5] for row in summary[1:3]] == [("Runtime", "ms", 3, 3), ("Runtime", "s", 3, 3)]
    ends = {row[1]: row[2:4] for row in summary if row[0] == "twice" and row[1].startswith("Runtime (")}
    assert ends["Runtime (ms)"] == pytest.approx((16e-3 * 1000, 40e-3 * 1000))     # y = x from the least to the most
    assert ends["Runtime (s)"] == pytest.approx((16e-3, 40e-3))


def test_a_calibrations_spread_of_a_cell_shown_in_two_units_is_in_each(tmp_path):
    """Estimated low / high beside each of `t in ms` and `t in s`: 0.5 and 2 x (1 x 2 s) = 1000 and 4000 ms, 1 and 4
    s. Before, the ms group had none (its bounds were kept under the name, in the second's unit)."""
    text = TWICE.replace("report r {\n", "costmodel spread {\n  t_low = 0.5\n  t_high = 2\n}\n"
                                        "report r {\n  calibration = spread\n")
    (tmp_path / "cal.perf").write_text(text.replace("workload.t in ms, workload.t in s",
                                                    "workload.t in ms as t, workload.t in s as t"))
    out = tmp_path / "cal.xlsx"
    assert main(["eval", str(tmp_path / "cal.perf"), "-q", "-o", str(out)]) == 0
    rows = sheet_rows(out, "r")
    assert rows[1] == ("batch",) + ("Estimated", "Estimated low", "Estimated high") * 2
    assert rows[2:] == [(batch, batch * 2 * 1000.0, batch * 2 * 0.5 * 1000, batch * 2 * 2.0 * 1000,
                         batch * 2.0, batch * 2 * 0.5, batch * 2 * 2.0) for batch in (1, 2, 4)]
