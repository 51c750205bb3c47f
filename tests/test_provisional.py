"""Cells marked `# provisional` (dsl/provisional.py): eval's note[provisional] names the shown metrics that rest on
them and each cell's share (value x d metric / d value / metric), explain marks them, the workbook's About sheet
holds the note; a cell defined again (`set`, `--set`) is no longer provisional."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from perfdsl import cli
from perfdsl.provisional import BOX_POINTS, MIN_ON_GRID, marked_reason

ROOT = Path(__file__).resolve().parents[1]

# A stack-like block with a provisional per-step time: a step is 9 ms of kernels and 1 ms of overhead, so the
# overhead is 1 / (9 + 1) = 10% of the step; engine_v2 inherits it over 4 ms of kernels: 1 / (4 + 1) = 20%.
# graph_memory is provisional and 0 (no share): 1% of the 10 GiB of memory is 107 MB of it.
SPEC = """\
software engine {
    step_overhead = 1 ms          # provisional: scheduler and sampler per step; no source gives it
    kernel_time = 9 ms            # the step's kernels at the roofline
    graph_memory = 0 byte         # provisional (as step_overhead): not measured
}
software engine_v2 extends engine {
    kernel_time = 4 ms
}
costmodel step {
    time = stack.kernel_time + stack.step_overhead
    memory = 10 GiB + stack.graph_memory
}
report r {
    sweep stack = [engine, engine_v2]
    show step.time in ms as time, step.memory in GiB as memory
}
"""


def run(tmp_path: Path, monkeypatch, capsys, files: dict[str, str], *argv: str) -> tuple[int, str, str]:
    """`perfdsl ARGV` in `tmp_path` with `files` written there: (exit status, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    for name, text in files.items():
        Path(name).write_text(text)
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_the_note_names_each_provisional_cell_with_its_share(tmp_path, monkeypatch, capsys):
    status, out, err = run(tmp_path, monkeypatch, capsys, {"s.perf": SPEC}, "eval", "s.perf")
    assert status == 0
    assert "provisional" not in out                     # the rows stay as they were: the note is on stderr
    assert err == (
        "note[provisional]: time and memory rest in part on 2 cells marked provisional, values of the right order "
        "that no source gives\n"
        "  --> s.perf:2:5\n"
        # engine: 1 / (9 + 1) = 10%; engine_v2 (inherited): 1 / (4 + 1) = 20%, the largest, at stack=engine_v2
        "  = note: engine.step_overhead = 1 ms (s.perf:2, read as engine and engine_v2): 10-20% of time (20% at "
        "stack=engine_v2); scheduler and sampler per step\n"
        # 0 byte: no share; 1% of the 10 GiB of memory is 0.01 x 10 x 2^30 B = 107 MB
        f"  = note: engine.graph_memory = 0 byte (s.perf:4, read as engine and engine_v2): "
        f"{0.01 * 10 * 2**30 / 1e6:.0f} MB would move memory by 1%; as step_overhead: not measured\n"
        # engine_v2 inherits engine's line: setting engine's sets both
        "  = help: `perfdsl explain s.perf METRIC --report r` shows what a metric reads; replace a provisional cell "
        "by a fit on measured runs (`perfdsl calibrate`) or by your own value (--set engine.step_overhead=..., which "
        "sets it for engine_v2 too, as it inherits it)\n\n")


def test_a_cell_says_what_it_is_from_the_block_that_declares_it(tmp_path, monkeypatch, capsys):
    spec = """\
software base {
    latency: s                    # the fixed time per ring step (2 (tp - 1) steps an all-reduce), one fit for all
    kernel_time = 9 ms
}
software engine extends base {
    latency = 1 ms                # provisional: another engine's fit; not measured here
}
costmodel step { time = stack.kernel_time + stack.latency }
report r {
    stack = engine
    show step.time in ms as time
}
"""
    _, _, err = run(tmp_path, monkeypatch, capsys, {"s.perf": spec}, "eval", "s.perf")
    # the declaration's first part (up to its first ', ' outside parentheses), then the reason's first clause;
    # 1 ms of a 10 ms step: 10%
    assert "  = note: engine.latency = 1 ms, the fixed time per ring step (2 (tp - 1) steps an all-reduce) " \
           "(s.perf:6): 10% of time; another engine's fit\n" in err
    # where the block that declares it marks it, its reason is what it is: said once
    _, _, err = run(tmp_path, monkeypatch, capsys, {"s.perf": SPEC}, "eval", "s.perf")
    assert "engine.step_overhead = 1 ms (s.perf:2, read as engine and engine_v2): 10-20% of time (20% at " \
           "stack=engine_v2); scheduler and sampler per step\n" in err


def test_zero_cells_that_move_one_metric_alike_share_a_line(tmp_path, monkeypatch, capsys):
    spec = SPEC.replace("    graph_memory = 0 byte         # provisional (as step_overhead): not measured\n",
                        "    graph_memory = 0 byte         # provisional (as step_overhead): not measured\n"
                        "    context_memory = 0 byte       # provisional: not measured\n").replace(
        "10 GiB + stack.graph_memory", "10 GiB + stack.graph_memory + stack.context_memory")
    _, _, err = run(tmp_path, monkeypatch, capsys, {"s.perf": spec}, "eval", "s.perf")
    assert "2 cells" not in err and "rest in part on 3 cells marked provisional" in err
    # 1% of the 10 GiB of memory, from either: 0.01 x 10 x 2^30 B = 107 MB
    assert ("  = note: engine.graph_memory, engine.context_memory = 0 byte (s.perf:4, 5, read as engine and "
            f"engine_v2): {0.01 * 10 * 2**30 / 1e6:.0f} MB of either would move memory by 1%\n") in err


def test_an_inherited_cell_is_provisional_with_its_parents_reason(tmp_path, monkeypatch, capsys):
    spec = SPEC.replace("sweep stack = [engine, engine_v2]", "stack = engine_v2")
    _, _, err = run(tmp_path, monkeypatch, capsys, {"s.perf": spec}, "eval", "s.perf")
    # defined in engine, read in engine_v2 only: 1 / (4 + 1) = 20% of the step
    assert "engine.step_overhead = 1 ms (s.perf:2, read as engine_v2.step_overhead): 20% of time; scheduler and " \
           "sampler per step\n" in err
    assert "(--set engine_v2.step_overhead=...)" in err


def test_a_cell_defined_again_by_set_or_dash_dash_set_is_not_provisional(tmp_path, monkeypatch, capsys):
    spec = SPEC.replace("graph_memory = 0 byte         # provisional (as step_overhead): not measured",
                        "graph_memory = 0 byte")
    _, _, err = run(tmp_path, monkeypatch, capsys, {"s.perf": spec}, "eval", "s.perf")
    # as written: provisional
    assert "engine.step_overhead = 1 ms (s.perf:2, read as engine and engine_v2): 10-20% of time" in err
    _, _, err = run(tmp_path, monkeypatch, capsys, {"s.perf": spec}, "eval", "s.perf",
                    "--set", "engine.step_overhead=2ms")
    assert err == ""
    calibration = 'import "s.perf"\nset { engine.step_overhead = 1.2 ms }    # fitted on runs\n' \
                  "report fitted extends r { }\n"
    _, _, err = run(tmp_path, monkeypatch, capsys, {"s.perf": spec, "c.perf": calibration}, "eval", "c.perf",
                    "--report", "fitted")
    assert err == ""


def test_a_cell_read_only_in_a_branch_no_point_takes_is_not_named(tmp_path, monkeypatch, capsys):
    read_if_no_graphs = "if(graphs, stack.kernel_time, stack.kernel_time + stack.step_overhead)"
    spec = SPEC.replace("time = stack.kernel_time + stack.step_overhead",
                        f"graphs = true\n    time = {read_if_no_graphs}")
    _, _, err = run(tmp_path, monkeypatch, capsys, {"s.perf": spec}, "eval", "s.perf")
    assert "step_overhead = 1 ms (" not in err and "moving no" not in err
    assert "engine.graph_memory = 0 byte (s.perf:4, read as engine and engine_v2)" in err     # still read by memory


def test_a_cell_read_but_moving_nothing_is_named_without_a_share(tmp_path, monkeypatch, capsys):
    # max(9 ms, 1 ms): the overhead is read at every point and moves nothing there
    spec = SPEC.replace("time = stack.kernel_time + stack.step_overhead",
                        "time = max(stack.kernel_time, stack.step_overhead)")
    _, _, err = run(tmp_path, monkeypatch, capsys, {"s.perf": spec}, "eval", "s.perf")
    assert err.startswith("note[provisional]: memory rests in part on 1 cell marked provisional, values of the right "
                          "order that no source gives (1 more read but move none here: engine.step_overhead)\n")
    assert "% of time" not in err
    # where no provisional cell moves a metric, there is no note
    spec = spec.replace("graph_memory = 0 byte         # provisional (as step_overhead): not measured",
                        "graph_memory = 0 byte")
    _, _, err = run(tmp_path, monkeypatch, capsys, {"s.perf": spec}, "eval", "s.perf")
    assert err == ""


def test_minus_q_keeps_the_note_as_it_keeps_other_diagnostics(tmp_path, monkeypatch, capsys):
    _, _, err = run(tmp_path, monkeypatch, capsys, {"s.perf": SPEC}, "eval", "s.perf", "-q")
    assert err.startswith("note[provisional]: ")


def test_a_streamed_sweep_samples_a_grid_of_its_points(tmp_path, monkeypatch, capsys):
    # 2 stacks x 1,000 batches = 2,000 points in chunks of 500: the sample is every point (under BOX_POINTS)
    spec = SPEC.replace("sweep stack = [engine, engine_v2]",
                        "sweep stack = [engine, engine_v2]\n    sweep batch = 1 .. 1000")
    _, out, err = run(tmp_path, monkeypatch, capsys, {"s.perf": spec}, "eval", "s.perf", "--chunk-points", "500",
                      "--format", "csv")
    assert len(out.splitlines()) == 1 + 2000
    assert "engine.step_overhead = 1 ms (s.perf:2, read as engine and engine_v2): 10-20% of time (20% at " \
           "stack=engine_v2, batch=" in err
    assert "shares over" not in err         # every point of the sweep: no sample to name


def test_a_large_sweep_is_read_on_a_bounded_grid(tmp_path, monkeypatch, capsys):
    spec = SPEC.replace("sweep stack = [engine, engine_v2]",
                        "sweep stack = [engine, engine_v2]\n    sweep batch = 1 .. 100000")
    _, _, err = run(tmp_path, monkeypatch, capsys, {"s.perf": spec}, "eval", "s.perf", "--format", "csv",
                    "-o", "out.csv")
    # the axes are halved (rounding up), the longest first, until at most BOX_POINTS points: 100,000 -> 2,048
    batches = 100_000
    while 2 * batches > BOX_POINTS:
        batches = (batches + 1) // 2
    assert f"  = note: shares over a grid of {2 * batches:,} of the sweep's 200,000 points, evenly spaced along each " \
           "axis\n" in err
    assert "10-20% of time" in err


def test_the_rows_constraints_keep_of_a_large_sweep_are_read_on_a_grid(tmp_path, monkeypatch, capsys):
    # the odd batches are left out: 100,000 of the 200,000 points are rows; the sample is those on the grid
    spec = SPEC.replace("sweep stack = [engine, engine_v2]",
                        "sweep stack = [engine, engine_v2]\n    sweep batch = 1 .. 100000\n"
                        '    require floor(batch / 2) * 2 == batch, "even batches"')
    _, _, err = run(tmp_path, monkeypatch, capsys, {"s.perf": spec}, "eval", "s.perf", "--format", "csv",
                    "-o", "out.csv")
    found = re.search(r"shares over ([\d,]+) of the 100,000 rows shown, on a grid evenly spaced along each axis\n", err)
    assert found is not None, err
    assert MIN_ON_GRID <= int(found.group(1).replace(",", "")) <= BOX_POINTS // 2     # about half the grid's points
    assert "10-20% of time" in err


def test_a_question_answered_in_chunks_samples_its_answer(tmp_path, monkeypatch, capsys):
    spec = SPEC.replace("sweep stack = [engine, engine_v2]",
                        "sweep stack = [engine, engine_v2]\n    sweep batch = 1 .. 1000").replace(
        "show step.time", "best min step.time per stack\n    show step.time")
    _, out, err = run(tmp_path, monkeypatch, capsys, {"s.perf": spec}, "eval", "s.perf", "--chunk-points", "500",
                      "--format", "csv")
    assert len(out.splitlines()) == 1 + 2                  # one row per stack
    assert "10-20% of time" in err and "shares over" not in err        # every row of the answer


def test_explain_marks_a_provisional_cell(tmp_path, monkeypatch, capsys):
    _, out, _ = run(tmp_path, monkeypatch, capsys, {"s.perf": SPEC}, "explain", "s.perf", "time",
                    "--at", "stack=engine_v2")
    assert "── stack.step_overhead -> engine_v2.step_overhead = 1 ms   (s.perf:2:5, from engine) (provisional: " \
           "scheduler and sampler per step; no source gives it)\n" in out
    assert "── stack.kernel_time -> engine_v2.kernel_time = 4 ms   (s.perf:7:5)\n" in out
    _, out, _ = run(tmp_path, monkeypatch, capsys, {"s.perf": SPEC}, "explain", "s.perf", "engine.step_overhead")
    assert out.startswith("engine.step_overhead = 1 ms (provisional)\n")


def test_the_workbooks_about_sheet_holds_the_note(tmp_path, monkeypatch, capsys):
    openpyxl = pytest.importorskip("openpyxl")
    run(tmp_path, monkeypatch, capsys, {"s.perf": SPEC}, "eval", "s.perf", "-o", "out.xlsx")
    about = openpyxl.load_workbook(tmp_path / "out.xlsx")["About"]
    texts = [str(cell) for row in about.iter_rows(values_only=True) for cell in row if cell]
    note = next(text for text in texts if text.startswith("Provisional cells: "))
    assert "engine.step_overhead = 1 ms (s.perf:2, read as engine and engine_v2): 10-20% of time (20% at " \
           "stack=engine_v2); scheduler and sampler per step" in note
    assert "Share: value x d(metric)/d(value) / metric" in note and "over the 2 points shown" in note


def test_a_library_report_names_vllms_step_overhead(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    status = cli.main(["eval", "reports/serving.perf", "--report", "serving_online"])
    _, err = capsys.readouterr()
    assert status == 0
    note = err[err.index("note[provisional]: "):]
    lines = (ROOT / "software" / "stacks.perf").read_text(encoding="utf-8").splitlines()
    line = 1 + next(i for i, text in enumerate(lines) if text.startswith("    step_overhead = 1 ms")
                    and "scheduler, sampler" in text)
    # stack_base declares what the cell is; vllm's line says why its value is provisional
    assert f"  = note: vllm.step_overhead = 1 ms, engine cost per step (scheduler, sampling, detokenise, Python) " \
           f"(software/stacks.perf:{line}): " in note
    assert "% of tpot" in note.split("vllm.step_overhead")[1].splitlines()[0]
    assert "share: value x d(metric)" not in note     # the definition is in the docs and the workbook's About sheet


@pytest.mark.parametrize("comment, reason", [
    ("provisional: scheduler per step", "scheduler per step"),
    ("provisional (as vllm): fitted in x.perf", "as vllm: fitted in x.perf"),
    ("provisional", ""),
    ("Provisional - a guess", "a guess"),
    ("provisionally 1 ms", None),                 # another word
    ("not provisional", None),                    # the word must start the comment
])
def test_the_marker_is_the_word_at_the_start_of_the_comment(tmp_path, comment, reason):
    import perfdsl

    path = tmp_path / "m.perf"
    path.write_text(f"costmodel c {{\n    x = 1 ms   # {comment}\n}}\n")
    program = perfdsl.load(str(path))
    block = program.blocks["c"]
    assert marked_reason(program.sources, block.cells["x"]) == reason


def test_the_all_reduce_latency_of_vllm_is_named_with_its_share_of_a_tp_8_step(monkeypatch, capsys):
    """vllm.allreduce_latency is TensorRT-LLM's fit taken provisionally (software/stacks.perf): for Llama-3.1-70B in
    fp16 on H100 at batch 1, tp 1 to 8, its share of tpot runs from 0 (tp 1: no all-reduce) to 80 layers x 2
    all-reduces x 14 ring steps x 13.5543 us = 30.36 ms of tp 8's 39.2 ms, 77%: a plan's tp ranking turns on it."""
    monkeypatch.chdir(ROOT)
    status = cli.main(["eval", "reports/capacity_planning.perf", "--set", "model=llama3_1_70b", "--set",
                       "hardware=h100_sxm5", "--set", "stack=vllm", "--set", "batch=1", "--set", "seq_len=1024",
                       "--set", "output_len=256", "--format", "jsonl"])
    out, err = capsys.readouterr()
    assert status == 0
    import json
    tpot = {row["tp"]: row["tpot [ms]"] for row in map(json.loads, out.splitlines())}
    share = 80 * 2 * 14 * 13.5543e-3 / tpot[8]
    assert round(100 * share) == 77
    line = next(text for text in err.splitlines() if "vllm.allreduce_latency = 13.5543 us" in text)
    assert f"0-{100 * share:.2g}% of tpot ({100 * share:.2g}% at tp=8)" in line, line
    assert len(err.split("\n\n")[0].splitlines()) <= 7      # one line a cell that moves a metric; no definition
    # what the cell is, from stack_base's declaration: a time per ring step, 2 (tp - 1) of them an all-reduce
    assert line.split(" (software/stacks.perf:")[0] == (
        "    = note: vllm.allreduce_latency = 13.5543 us, the fixed time per ring step of a tensor-parallel collective "
        "(2 (tp - 1) steps an all-reduce, costmodels/tensor_plan.perf)")

