"""The Python API: perfdsl.load, Program.check/value/evaluate, Result, overrides with Python values, errors, and the
packaging promise (library_path).

Expected numbers are written as the arithmetic that gives them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import perfdsl
from perfdsl import Diagnostic, PerfError, Program, UsageError, library_path
from perfdsl.errors import EXIT_SPEC_ERROR, EXIT_USAGE_ERROR, Location, available, did_you_mean, error

PROGRAM = """\
hardware gpu {
    peak: FLOP/s
    mem_bw = 1 TB/s
    label = "generic"
}
hardware fast extends gpu { peak = 400 TFLOP/s; label = "fast one" }
hardware slow extends gpu { peak = 100 TFLOP/s }
model m1 { params = 1e9; gated = false }
model m2 { params = 7e9; gated = true }
workload grid {
    sweep batch = [1, 2]
    sweep seq = [128, 256, 512]
    tokens = batch * seq
}
costmodel prefill {
    flops   = 2 FLOP * model.params * workload.tokens
    runtime = flops / hardware.peak
    weights = 2 B * model.params
}
report example {
    sweep model = [m1, m2]
    hardware = fast
    workload = grid
    show prefill.runtime in ms, prefill.flops in TFLOP as flops, prefill.weights in GB, prefill.weights in GiB
}
"""


def runtime_ms(params, batch, seq, peak=400e12):
    return 2 * params * batch * seq / peak * 1e3


@pytest.fixture
def path(tmp_path) -> Path:
    file = tmp_path / "api.perf"
    file.write_text(PROGRAM)
    return file


@pytest.fixture
def program(path) -> Program:
    return perfdsl.load(path)


# -- loading and checking ------------------------------------------------------------------------------------------

def test_load_takes_a_path_a_string_or_a_list(path):
    for arg in (path, str(path), [path], [str(path)]):
        program = perfdsl.load(arg)
        assert isinstance(program, Program)
        assert program.reports == ["example"]
    assert Program.load(path).reports == ["example"]


def test_load_in_memory_texts():
    program = perfdsl.load([], texts={"mem.perf": "model m { a = 2 GB; s = \"x\"; b = true; c = a / 1 s }"})
    assert program.check() == []
    assert program.value("m.a") == 2e9
    assert program.value("m.c") == 2e9
    assert program.value("m.s") == "x"
    assert program.value("m.b") is True


def test_load_missing_file_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError) as info:
        perfdsl.load(tmp_path / "nope.perf")
    assert info.value.exit_status == EXIT_USAGE_ERROR
    assert info.value.diagnostics[0].code == "no-such-file"


def test_load_syntax_error_is_a_perf_error(tmp_path):
    file = tmp_path / "bad.perf"
    file.write_text("model m { a = }\n")
    with pytest.raises(PerfError) as info:
        perfdsl.load(file)
    assert not isinstance(info.value, UsageError)
    assert info.value.exit_status == EXIT_SPEC_ERROR
    (diag,) = info.value.diagnostics
    assert (diag.code, diag.message) == ("syntax", "a cell has no value after '='")
    assert (diag.location.line, diag.location.col) == (1, 13)          # the "=" without a value


def test_a_program_reads_well_in_a_notebook(program, path, monkeypatch):
    """Not the default `<perfdsl.program.Program object at 0x...>`: the files, the reports and how many blocks
    (PROGRAM: gpu, fast, slow, m1, m2, grid, prefill, example), nothing evaluated."""
    monkeypatch.chdir(path.parent)
    assert repr(perfdsl.load("api.perf")) == "<perfdsl Program of api.perf: 1 report (example); 8 blocks>"
    assert repr(perfdsl.load("api.perf").with_overrides({"batch": [4]})) == (
        "<perfdsl Program of api.perf with overrides: 1 report (example); 8 blocks>")
    assert repr(perfdsl.load([], texts={"a.perf": "costmodel c { x = 1 s }"})) == (
        "<perfdsl Program of a.perf: 0 reports; 1 block>")
    # reports/example.perf imports models/opt.perf, hardware/ampere_workstation.perf, software/precisions.perf,
    # and through them models/transformer.perf and hardware/gpu.perf
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    assert repr(perfdsl.load("reports/example.perf")) == (
        "<perfdsl Program of reports/example.perf and 5 imported files: 1 report (example); 33 blocks>")
    many = "".join(f"report r{i} {{ }}\n" for i in range(7))
    assert repr(perfdsl.load([], texts={"m.perf": many})) == (
        "<perfdsl Program of m.perf: 7 reports (r0, r1, r2, r3, r4, ... (2 more)); 7 blocks>")


def test_check_ok(program):
    assert program.check() == []


def test_check_returns_sorted_diagnostics():
    program = perfdsl.load([], texts={"x.perf": "model m {\n b = nope\n a = 1 GB + 1 s\n}\n"})
    diagnostics = program.check()
    assert [d.code for d in diagnostics] == ["unknown-name", "unit-mismatch"]
    assert [d.location.line for d in diagnostics] == [2, 3]
    assert all(isinstance(d, Diagnostic) and d.severity == "error" for d in diagnostics)
    assert diagnostics[1].message == "cannot add '1 GB' (byte) and '1 s' (s)"
    assert diagnostics[1].path == "model.m.a"


# -- value ---------------------------------------------------------------------------------------------------------

def test_value_in_si(program):
    assert program.value("fast.peak") == 400e12
    assert program.value("fast.mem_bw") == 1e12          # inherited
    assert program.value("fast.label") == "fast one"
    assert program.value("slow.label") == "generic"
    assert program.value("m2.gated") is True


def test_value_of_a_cell_that_depends_on_a_sweep_needs_a_report(program):
    with pytest.raises(PerfError) as info:
        program.value("grid.tokens")
    assert {d.code for d in info.value.diagnostics} == {"sweep-outside-report"}


def test_value_of_an_unknown_cell(program):
    with pytest.raises(UsageError) as info:
        program.value("fast.peek")
    assert str(info.value) == ("error[unknown-name]: 'fast' has no cell 'peek'\n"
                               "  = help: did you mean 'peak'?\n"
                               "  = help: available: label, mem_bw, peak")
    with pytest.raises(UsageError):
        program.value("nosuch.peak")
    with pytest.raises(UsageError):
        program.value("fast")


def test_value_of_a_declared_input_that_is_not_given(program):
    with pytest.raises(PerfError) as info:
        program.value("gpu.peak")
    assert info.value.diagnostics[0].code == "missing-input"


def test_block(program):
    block = program.block("fast")
    assert (block.kind, block.name, block.parent) == ("hardware", "fast", "gpu")
    assert block.lineage == ["fast", "gpu"]
    with pytest.raises(UsageError):
        program.block("fats")


# -- evaluate ------------------------------------------------------------------------------------------------------

def test_evaluate_records(program):
    result = program.evaluate("example")
    assert result.report == "example"
    assert result.n_points == 2 * 2 * 3
    assert result.shape == (2, 2, 3)
    assert [axis.name for axis in result.axes] == ["model", "batch", "seq"]
    records = result.records()
    assert len(records) == result.n_points
    assert list(records[0]) == ["model", "batch", "seq", "prefill.runtime [ms]", "flops [TFLOP]",
                                "prefill.weights [GB]", "prefill.weights [GiB]"]
    last = records[-1]
    assert (last["model"], last["batch"], last["seq"]) == ("m2", 2, 512)
    assert type(last["batch"]) is int
    assert last["prefill.runtime [ms]"] == pytest.approx(runtime_ms(7e9, 2, 512))
    assert last["flops [TFLOP]"] == pytest.approx(2 * 7e9 * 2 * 512 / 1e12)


def test_one_cell_shown_in_two_units(program):
    record = program.evaluate().records()[0]
    assert record["prefill.weights [GB]"] == pytest.approx(2 * 1e9 / 1e9)
    assert record["prefill.weights [GiB]"] == pytest.approx(2 * 1e9 / 2**30)


def test_evaluate_picks_the_only_report(program):
    assert program.evaluate().report == "example"


def test_evaluate_unknown_report(program):
    with pytest.raises(UsageError) as info:
        program.evaluate("exmaple")
    assert info.value.diagnostics[0].code == "unknown-report"
    assert info.value.diagnostics[0].hints[0] == "did you mean 'example'?"


def test_column_is_si_and_flat(program):
    result = program.evaluate()
    runtime = result.column("prefill.runtime")
    assert runtime.shape == (12,)
    assert runtime[0] == pytest.approx(2 * 1e9 * 1 * 128 / 400e12)            # seconds
    assert np.array_equal(result.column("flops"), result.column("prefill.flops"))   # by label or by cell
    assert np.array_equal(result.column("flops [TFLOP]"), result.column("flops"))   # or by key
    assert result.display_column("flops")[0] == pytest.approx(2 * 1e9 * 128 / 1e12)
    with pytest.raises(KeyError):
        result.column("nosuch")


def test_an_unknown_column_says_what_is_shown_and_the_closest_names(program):
    """A bad name is a bad call: perfdsl.UsageError (exit status 2) as the README says, and still a KeyError."""
    result = program.evaluate()
    with pytest.raises(UsageError) as caught:
        result.column("prefill.runtme")
    assert isinstance(caught.value, KeyError) and caught.value.exit_status == 2
    assert str(caught.value) == (
        "error[unknown-column]: report 'example' shows no cell 'prefill.runtme' (it shows: prefill.runtime, flops "
        "(prefill.flops), prefill.weights; and sweeps: model, batch, seq)\n"
        "  = help: did you mean 'prefill.runtime' or 'prefill.weights'?")
    with pytest.raises(UsageError) as caught:
        result.array("flop")                                      # a label: its close labels and cells
    assert caught.value.diagnostics[0].hints == ["did you mean 'flops'?"]
    with pytest.raises(UsageError) as caught:
        result.display_column("flops [TFLOPS]")                   # a name with a unit: the close keys
    assert caught.value.diagnostics[0].hints == ["did you mean 'flops [TFLOP]'?"]
    with pytest.raises(KeyError) as caught:                       # `except KeyError` still catches it
        result.column("nosuch")
    assert str(caught.value) == ("error[unknown-column]: report 'example' shows no cell 'nosuch' (it shows: "
                                 "prefill.runtime, flops (prefill.flops), prefill.weights; and sweeps: model, batch, "
                                 "seq)")


def test_an_answer_refuses_an_unknown_column_as_a_result_does():
    """Result.column/array and an Answer's column/array (evaluate() and answer_in_chunks()) look names up alike:
    one UsageError, a KeyError too, with the same text."""
    program = perfdsl.load([], texts={"q.perf": """
workload w { sweep batch = [1, 2, 4] }
costmodel c { tpot = 1 ms * workload.batch }
report r { workload = w; show c.tpot in ms as tpot; largest batch where tpot <= 2 ms }
"""})
    text = ("error[unknown-column]: report 'r' shows no cell 'tpott' (it shows: tpot (c.tpot); and sweeps: batch)\n"
            "  = help: did you mean 'tpot' or 'c.tpot'?")
    answer = perfdsl.answer_in_chunks(program, "r")
    for call in (program.evaluate().column, program.evaluate().array, answer.column, answer.array):
        with pytest.raises(UsageError) as caught:
            call("tpott")
        assert isinstance(caught.value, KeyError) and str(caught.value) == text
    assert answer.column("tpot").tolist() == [2 * 1e-3]           # the largest batch with tpot <= 2 ms: 2


def test_a_values_unit_is_written_as_the_headers_write_it():
    """B for bytes in a header, array().unit and a compound unit alike (FLOP/B), not 'byte': the type's name."""
    program = perfdsl.load([], texts={"u.perf": """
model m { params = 1e9 }
costmodel c { weights = 2 B * model.params; intensity = 2 FLOP * model.params / weights }
report r { model = m; show c.weights, c.intensity }
"""})
    result = program.evaluate()
    assert list(result.records()[0]) == ["c.weights [B]", "c.intensity [FLOP/B]"]
    assert result.array("c.weights").unit == "B" and result.array("c.intensity").unit == "FLOP/B"
    assert result.records()[0]["c.intensity [FLOP/B]"] == 2 * 1e9 / (2 * 1e9)


def test_array_is_labelled(program):
    array = program.evaluate().array("prefill.runtime", display=True)      # SI without display=True, as column()
    assert array.name == "prefill.runtime" and array.unit == "ms"
    assert array.dims == ("model", "batch", "seq")
    assert array.values.shape == (2, 2, 3)
    assert array.coords["model"].tolist() == ["m1", "m2"]
    assert array.coords["seq"].tolist() == [128, 256, 512]
    assert array.values[1, 0, 2] == pytest.approx(runtime_ms(7e9, 1, 512))


def test_axis_columns_and_table(program):
    result = program.evaluate()
    axes = result.axis_columns()
    assert list(axes) == ["model", "batch", "seq"]
    assert axes["model"].tolist() == ["m1"] * 6 + ["m2"] * 6
    assert axes["seq"].tolist() == [128, 256, 512] * 4
    keys, columns = result.table()
    assert keys[:3] == ["model", "batch", "seq"] and len(columns) == len(keys) == 7


# -- overrides with Python values ----------------------------------------------------------------------------------

def test_override_with_ints_and_lists(program):
    result = program.evaluate(overrides={"batch": [4, 8], "seq": 64})
    assert result.shape == (2, 2, 1)
    assert [r["batch"] for r in result.records()] == [4, 8, 4, 8]
    assert result.records()[1]["prefill.runtime [ms]"] == pytest.approx(runtime_ms(1e9, 8, 64))


def test_override_with_a_float_and_a_tuple(program):
    result = program.evaluate(overrides={"batch": (1, 2.5), "seq": 100.0, "model": "m1"})
    assert [r["batch"] for r in result.records()] == [1, 2.5]


def test_override_with_strings_with_units(program):
    result = program.evaluate(overrides={"fast.peak": "200 TFLOP/s", "batch": 1, "seq": 128, "model": "m1"})
    assert result.records()[0]["prefill.runtime [ms]"] == pytest.approx(runtime_ms(1e9, 1, 128, peak=200e12))
    result = program.evaluate(overrides={"hardware.peak": ["1 PFLOP/s"], "batch": 1, "seq": 128, "model": "m1"})
    assert result.records()[0]["prefill.runtime [ms]"] == pytest.approx(runtime_ms(1e9, 1, 128, peak=1e15))


def test_override_with_text_in_perf_syntax(program):
    result = program.evaluate(overrides={"seq": "128 .. 1024 by *2", "batch": "1, 3", "model": "[m1, m2]"})
    assert result.shape == (2, 2, 4)
    assert result.array("flops").coords["seq"].tolist() == [128, 256, 512, 1024]


def test_override_a_role(program):
    result = program.evaluate(overrides={"hardware": "slow", "model": "m2", "batch": 1, "seq": 128})
    assert result.records()[0]["prefill.runtime [ms]"] == pytest.approx(runtime_ms(7e9, 1, 128, peak=100e12))
    result = program.evaluate(overrides={"model": ["m2"], "batch": 1, "seq": 128})
    assert [r["model"] for r in result.records()] == ["m2"]


def test_override_a_string_cell_with_plain_text(program):
    with_label = program.with_overrides({"fast.label": "NVIDIA H100 80GB HBM3"})
    assert with_label.value("fast.label") == "NVIDIA H100 80GB HBM3"


def test_override_a_declared_input(program):
    given = program.with_overrides({"gpu.peak": "10 TFLOP/s"}, "example")
    assert given.value("gpu.peak") == 10e12
    assert given.value("fast.peak") == 400e12            # the child's own value still wins


def test_overrides_leave_the_program_unchanged(program):
    before = program.evaluate().records()
    program.evaluate(overrides={"batch": [16], "fast.peak": "1 TFLOP/s"})
    assert program.evaluate().records() == before
    assert program.value("fast.peak") == 400e12


@pytest.mark.parametrize("overrides, code", [
    ({"nosuch": 1}, "bad-override"),
    ({"fast.nosuch": 1}, "bad-override"),
    ({"fats.peak": 1}, "bad-override"),
    ({"batch": object()}, "bad-override"),
    ({"batch": "[1,"}, "syntax"),
    ({"batch": ["1, 2"]}, "bad-override"),
])
def test_bad_overrides_are_usage_errors(program, overrides, code):
    with pytest.raises(UsageError) as info:
        program.evaluate(overrides=overrides)
    assert info.value.diagnostics[0].code == code
    assert info.value.exit_status == EXIT_USAGE_ERROR


def test_override_with_the_wrong_type_is_a_spec_error(program):
    with pytest.raises(PerfError) as info:
        program.evaluate(overrides={"batch": True})
    assert info.value.diagnostics[0].code == "type-mismatch"
    with pytest.raises(PerfError) as info:
        program.evaluate(overrides={"fast.peak": "1 GB"})       # peak is declared FLOP/s in gpu
    assert info.value.diagnostics[0].code == "unit-mismatch"


def test_override_that_changes_the_dimension_of_an_untyped_cell(program):
    with pytest.raises(UsageError):
        program.evaluate(overrides={"fast.mem_bw": "1 GB"})       # mem_bw is byte/s, given without a declaration


def test_extends_override_that_changes_the_dimension_of_an_untyped_cell():
    program = perfdsl.load([], texts={"x.perf": "hardware base { bw = 1 GB/s }\n"
                                                "hardware card extends base { bw = 10 GB }\n"})
    assert [d.code for d in program.check()] == ["unit-mismatch"]


# -- warnings ------------------------------------------------------------------------------------------------------

def test_warnings_are_diagnostics_with_the_point():
    program = perfdsl.load([], texts={"z.perf": "report r {\n sweep n = [1, 0]\n x = 2 / n\n show r.x\n}\n"})
    result = program.evaluate()
    (warning,) = result.warnings
    assert (warning.severity, warning.code) == ("warning", "division-by-zero")
    assert warning.message == "'r.x' divides by zero at n=0"
    assert warning.location == Location("z.perf", 3, 6, 11)
    assert result.column("r.x").tolist() == [2 / 1, float("inf")]


def test_nan_and_overflow_warnings():
    program = perfdsl.load([], texts={"z.perf": "report r {\n sweep n = [0, 1]\n nan = 0 / n\n big = 10 ^ (400 * n)\n"
                                                " show r.nan, r.big\n}\n"})
    result = program.evaluate()
    assert [(w.code, w.message) for w in result.warnings] == [
        ("not-a-number", "'r.nan' is not a number (NaN) at n=0"),
        ("overflow", "'r.big' overflows at n=1"),
    ]


def test_a_guarded_division_gives_no_warning():
    program = perfdsl.load([], texts={"z.perf": "report r {\n sweep n = [0, 2]\n x = if(n > 0, 1 / n, 0)\n"
                                                " show r.x\n}\n"})
    result = program.evaluate()
    assert result.warnings == []
    assert result.column("r.x").tolist() == [0, 1 / 2]


# -- errors --------------------------------------------------------------------------------------------------------

def test_diagnostic_render():
    diag = error("unit-mismatch", "cannot add 'mem_bw' (byte/s) and 'tdp' (W)", Location("hw.perf", 12, 16, 28),
                 source_line="    roofline = mem_bw + tdp", path="hardware.rtx_a5000.roofline",
                 hints=["did you mean 'mem_bw * time'?"], notes=["a note"])
    assert diag.render() == (
        "error[unit-mismatch]: cannot add 'mem_bw' (byte/s) and 'tdp' (W)\n"
        "   --> hw.perf:12:16\n"
        "   |\n"
        "12 |     roofline = mem_bw + tdp\n"
        "   |                ^^^^^^^^^^^^\n"
        "   = note: a note\n"
        "   = in: hardware.rtx_a5000.roofline\n"
        "   = help: did you mean 'mem_bw * time'?")
    assert str(diag) == diag.render()


def test_diagnostic_without_location_and_with_detail():
    assert error("bad-option", "cannot read --set x").render() == "error[bad-option]: cannot read --set x"
    assert str(Location("runs.csv", 4, detail="column 'runtime [ms]'")) == "runs.csv:4 (column 'runtime [ms]')"


def test_perf_error_sorts_its_diagnostics():
    later = error("b", "second", Location("a.perf", 9, 1))
    earlier = error("a", "first", Location("a.perf", 2, 5))
    nowhere = error("c", "no place")
    exc = PerfError([nowhere, later, earlier])
    assert [d.message for d in exc.diagnostics] == ["first", "second", "no place"]
    assert str(exc) == "\n\n".join(d.render() for d in exc.diagnostics)
    assert PerfError(earlier).diagnostics == [earlier]
    assert issubclass(UsageError, PerfError)


def test_suggestions():
    assert did_you_mean("hiden", ["hidden", "heads", "layers"]) == ["did you mean 'hidden'?"]
    assert did_you_mean("zzz", ["hidden"]) == []
    assert available([]) == "nothing is defined here"
    assert available(["b", "a", "a"]) == "available: a, b"
    assert available([f"c{i:02}" for i in range(14)]) == (
        "available: c00, c01, c02, c03, c04, c05, c06, c07, c08, c09, c10, c11 and 2 more")


# -- packaging -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["models", "hardware"])
def test_library_path(name):
    folder = library_path(name)
    assert isinstance(folder, Path)
    assert folder.is_dir()
    assert folder.name == name
    assert sorted(folder.glob("*.perf")), f"no .perf file in {folder}"


def test_library_path_of_an_unknown_library():
    with pytest.raises(ValueError):
        library_path("datasets")


def test_library_imports_resolve_from_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    some_model = sorted(library_path("models").glob("*.perf"))[0].name
    (tmp_path / "uses.perf").write_text(f'import "models/{some_model}"\n')
    program = perfdsl.load(tmp_path / "uses.perf")
    assert len(program.modules) >= 2


def test_public_api():
    assert set(perfdsl.__all__) >= {"Diagnostic", "PerfError", "Program", "UsageError", "library_path", "load",
                                    "__version__"}
    assert perfdsl.__version__ == "0.1.0"


def test_two_shown_columns_with_one_name_are_an_error():
    program = perfdsl.load([], texts={"d.perf": "costmodel c { a = 1 s; b = 2 s }\n"
                                                "report r { show c.a as x, c.b as x }\n"})
    assert [d.code for d in program.check()] != []


def test_a_role_narrowed_to_one_block_can_sweep_that_blocks_cells():
    program = perfdsl.load([], texts={"n.perf": (
        "hardware a { eff = 0.5 }\nhardware b { eff = 0.9 }\n"
        "report r {\n sweep hardware = [a, b]\n show hardware.eff\n}\n")})
    result = program.evaluate(overrides={"hardware": "a", "hardware.eff": [0.6, 0.7]})
    assert [(r["hardware"], r["eff"], r["hardware.eff"]) for r in result.records()] == [("a", 0.6, 0.6),
                                                                                         ("a", 0.7, 0.7)]


def test_dir_of_the_package_lists_its_lazy_api():
    """`dir(perfdsl)` (a REPL's or notebook's tab completion) lists the public API that is imported on first use:
    it listed only `annotations` before."""
    import perfdsl

    assert set(perfdsl.__all__) <= set(dir(perfdsl))


def test_evaluate_of_a_report_whose_points_are_the_runs_says_it_reads_no_run(monkeypatch):
    """Program.evaluate of a `points = "runs"` report gave the sweep as written without a word, though `perfdsl
    eval` gives the runs' points: now a warning at its `points` line names evaluate_with_runs, which reads them
    (and has no such warning)."""
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)     # the location is written from the repo root
    program = perfdsl.load("tests/fixtures/specs/points_from_runs.perf")
    result = program.evaluate()
    assert [d.render() for d in result.warnings if d.code == "runs-not-read"] == [
        "warning[runs-not-read]: report 'from_runs' takes its points from the runs (points = \"runs\"), but "
        "Program.evaluate reads no run: this is the report's whole sweep as written\n"
        "  --> tests/fixtures/specs/points_from_runs.perf:9:5\n"
        "  |\n"
        "9 |     points = \"runs\"\n"
        "  |     ^^^^^^\n"
        "  = in: report.from_runs.points\n"
        "  = help: perfdsl.evaluate_with_runs(program, report) reads the runs and keeps their points, as `perfdsl "
        "eval` does"]
    with_runs = perfdsl.evaluate_with_runs(program)
    assert "runs-not-read" not in [d.code for d in with_runs.diagnostics + with_runs.result.warnings]
    assert result.n_rows == 1 and with_runs.result.n_rows > 1  # the sweep as written; the runs' values swept
    assert "runs-not-read" not in [d.code for d in perfdsl.load([], texts={"p.perf": PROGRAM}).evaluate().warnings]


def test_an_api_error_s_text_leads_with_the_error_and_the_warnings_follow():
    # The warnings' file (a.perf) sorts before the override's (overrides['batch']): str(exc) began with the warning,
    # the error that stopped the evaluation last. The command line's `--set batch` sorts first, so it led there.
    spec = (
        "workload w {\n"
        "    sweep batch = [1, 2]\n"
        "    sweep tp = [1, 3]\n"
        '    require batch >= 1, "batch is at least 1"\n'
        '    require 4 / tp == floor(4 / tp), "tp divides 4"\n'
        "}\n"
        "costmodel c { t = 1 ms * workload.batch / workload.tp }\n"
        "report r { workload = w; show c.t in ms as t }\n")
    program = perfdsl.load([], texts={"a.perf": spec})
    with pytest.raises(UsageError) as caught:
        program.evaluate("r", overrides={"batch": 0})
    assert str(caught.value) == (
        "error[constraint]: overrides['batch'] = 0 breaks the constraint \"batch is at least 1\"\n"
        "  --> overrides['batch']:1:1\n"
        "  |\n"
        "1 | 0\n"
        "  | ^\n"
        "  = note: the constraint, at a.perf:4:13: batch is at least 1: every sweep point (2) breaks it\n"
        "  = note: without the overrides some of the report's sweep points meet it\n"
        "  = in: workload.w\n"
        "  = help: no sweep point meets every constraint, so there is nothing to show\n"
        "\n"
        "warning[constraint]: tp divides 4: 1 of 2 sweep points break it\n"
        "  --> a.perf:5:13\n"
        "  |\n"
        '5 |     require 4 / tp == floor(4 / tp), "tp divides 4"\n'
        "  |             ^^^^^^^^^^^^^^^^^^^^^^^\n"
        "  = note: at tp=3\n"
        "  = in: workload.w")
    assert caught.value.exit_status == EXIT_USAGE_ERROR
