"""Swept names (a report's axes) through the Python API's column(), array() and display_column(), of a Result and
of an Answer (answer_in_chunks), by the keys records() and the CSV use; and the errors of the LabelledArray
operators between two dimensions. Before, `column("batch")` was error[unknown-column] though `batch` is a key of
records(), a CSV column and a to_xarray() variable."""

import numpy as np
import pytest

import perfdsl
from perfdsl import UsageError

SPEC = """
workload w { sweep batch = [1, 2, 4]; sweep ctx = [1 ms, 2 ms] }
costmodel c {
    tpot = 1 ms * workload.batch + workload.ctx
    mem = 1 GB * workload.batch
    e2e = 10 * tpot
}
report r { workload = w; show c.tpot in ms as tpot, c.mem in GB as mem, c.e2e in s as e2e }
report q { workload = w; show c.tpot in ms as tpot; largest batch per ctx where tpot <= 3.5 ms }
"""


@pytest.fixture(scope="module")
def program():
    return perfdsl.load([], texts={"a.perf": SPEC})


def test_a_swept_name_is_a_column_in_si_by_its_name_or_its_records_key(program):
    result = program.evaluate("r")
    records = result.records()
    assert [row["batch"] for row in records] == [1, 1, 2, 2, 4, 4]          # batch the outer axis, ctx the inner
    assert result.column("batch").tolist() == [1, 1, 2, 2, 4, 4]
    assert result.column("batch").dtype == np.int64                         # integers, as records() writes them
    # ctx is shown in ms (its key "ctx [ms]"); column() is SI, display_column() the shown unit.
    assert np.allclose(result.column("ctx"), [row["ctx [ms]"] * 1e-3 for row in records])
    assert np.allclose(result.column("ctx [ms]"), [1e-3, 2e-3] * 3)
    assert result.display_column("ctx").tolist() == [row["ctx [ms]"] for row in records]


def test_a_swept_name_is_an_array_broadcast_over_the_sweep(program):
    result = program.evaluate("r")
    batch, ctx = result.array("batch"), result.array("ctx")
    assert batch.dims == ("batch", "ctx") and batch.shape == (3, 2) and batch.unit == ""
    assert batch.values.tolist() == [[1, 1], [2, 2], [4, 4]]
    assert ctx.unit == "s" and np.allclose(ctx.values, [[1e-3, 2e-3]] * 3)
    assert result.array("ctx", display=True).unit == "ms"
    assert np.allclose(result.array("ctx", display=True).values, [[1, 2]] * 3)
    # It lines up with a shown cell point by point: tpot - ctx = 1 ms * batch, in SI.
    assert np.allclose(result.array("tpot") - ctx, 1e-3 * batch.values)


def test_a_question_s_swept_names_are_the_answer_s_from_evaluate_and_from_chunks(program):
    result = program.evaluate("q")
    answer = perfdsl.answer_in_chunks(program, "q")
    # tpot = batch ms + ctx <= 3.5 ms: ctx 1 ms -> batch 2 (3 ms), ctx 2 ms -> batch 1 (3 ms; batch 2 is 4 ms).
    assert [row["batch"] for row in result.records()] == [2, 1]
    for source in (result, answer):
        assert source.column("batch").tolist() == [2, 1]
        assert np.allclose(source.column("ctx"), [1e-3, 2e-3])
        assert source.display_column("ctx").tolist() == [1, 2]
    grid = answer.array("batch")
    assert grid.dims == ("ctx",) and grid.values.tolist() == [2, 1]
    assert np.array_equal(grid.values, result.to_xarray(answer=True)["batch"].values)
    assert np.allclose(answer.array("ctx").values, [1e-3, 2e-3])              # a `per` axis: the group's own


def test_the_capacity_question_reads_its_batch_model_and_hardware_by_name():
    """The newcomer's case: largest_batch's rows name model, hardware and the batch found."""
    questions = perfdsl.load("reports/capacity_questions.perf")
    result = questions.evaluate("largest_batch")
    records = result.records()
    for name in ("batch", "model", "hardware"):
        assert result.column(name).tolist() == [row[name] for row in records]
    assert result.array("batch").shape == result.shape


def test_an_unknown_name_lists_the_swept_names_and_suggests_them(program):
    result = program.evaluate("r")
    with pytest.raises(UsageError) as caught:
        result.column("bach")
    assert str(caught.value) == (
        "error[unknown-column]: report 'r' shows no cell 'bach' (it shows: tpot (c.tpot), mem (c.mem), e2e (c.e2e); "
        "and sweeps: batch, ctx)\n"
        "  = help: did you mean 'batch'?")
    answer = perfdsl.answer_in_chunks(program, "q")
    with pytest.raises(KeyError) as caught:
        answer.array("ctx [s]")                                   # a name with a unit: the close keys
    assert caught.value.diagnostics[0].hints == ["did you mean 'ctx [ms]' or 'tpot [ms]'?"]


def test_two_dimensions_cannot_be_added_and_two_scales_take_si(program):
    result = program.evaluate("r")
    with pytest.raises(ValueError) as caught:
        result.array("tpot") + result.array("mem")
    assert str(caught.value) == ("np.add of 'tpot' in s and 'mem' in B: they have different dimensions (s and "
                                 "byte), so they cannot be added, subtracted or compared in any unit")
    with pytest.raises(ValueError, match=r"different dimensions \(s and count\)"):
        result.array("tpot") < result.array("batch")
    with pytest.raises(ValueError, match=r"in ms and 'e2e' in s: .* take both in SI"):
        result.array("tpot", display=True) + result.array("e2e", display=True)
    assert np.allclose(result.array("tpot") + result.array("e2e"), 11 * result.array("tpot").values)


def test_arrays_and_an_answer_s_columns_are_read_only(program):
    """As the README says: copy them to write. An Answer's column() was its own array, writable: writing into it
    changed the answer's rows."""
    result = program.evaluate("r")
    assert not result.array("tpot").values.flags.writeable
    assert not result.array("mem").values.flags.writeable             # one that varies along fewer axes too
    answer = perfdsl.answer_in_chunks(program, "q")
    for values in (answer.column("tpot"), answer.display_column("tpot"), answer.array("tpot").values):
        with pytest.raises(ValueError):
            values[0] = 0
    assert answer.records()[0]["tpot [ms]"] == 3.0


# A parent report in one file, children in another whose name sorts after it: the axes' order was the order of
# (file, line, column), so a sweep written again in the child moved to the last columns.
PARENT = """
model small { params = 1e9 }
model big { params = 12e9 }
hardware slow { mem_bw = 1 TB/s }
hardware fast { mem_bw = 2 TB/s }
workload w { sweep batch = [1, 8]; sweep tp = [1, 2]; sweep ep = [1, 2] }
costmodel c { t = 2 byte * model.params * workload.batch / (hardware.mem_bw * workload.tp * workload.ep) }
report fleet {
    sweep model = [small, big]
    sweep hardware = [slow, fast]
    workload = w
    show c.t in ms as t
}
"""
CHILD = """
import "parent.perf"
workload moe extends w { sweep (tp, ep) = [(1, 1), (2, 2)] }
report mine extends fleet {
    sweep hardware = [fast]
    sweep model = [big, small]
    sweep extra = [1, 2]
}
report zipped extends fleet { workload = moe }
"""


def test_a_sweep_written_again_in_a_child_keeps_its_parent_s_place_and_a_new_one_comes_after(tmp_path):
    (tmp_path / "parent.perf").write_text(PARENT)
    (tmp_path / "z_child.perf").write_text(CHILD)
    program = perfdsl.load(tmp_path / "z_child.perf")
    mine = program.evaluate("mine")
    assert [axis.name for axis in mine.axes] == ["model", "hardware", "batch", "tp", "ep", "extra"]
    assert list(mine.to_pandas().columns[:6]) == ["model", "hardware", "batch", "tp", "ep", "extra"]
    assert mine.array("t").dims == ("model", "hardware", "batch", "tp", "ep", "extra")
    # The rows keep the parent's nesting: model outermost, in the child's own order of its values.
    assert [row["model"] for row in mine.records()][:2 * 2 * 2 * 2 + 1] == ["big"] * 16 + ["small"]
    # A zipped sweep that replaces a workload's two sweeps takes the place of the first of them.
    zipped = program.evaluate("zipped")
    assert [axis.name for axis in zipped.axes] == ["model", "hardware", "batch", "(tp, ep)"]
