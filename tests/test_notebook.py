"""Results in notebooks (issue 10): to_pandas and to_xarray, the repr, and one convention for units (arrays SI,
tables in the shown units)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import perfdsl
from perfdsl.errors import UsageError

pandas = pytest.importorskip("pandas", reason="pandas is in the dev extra; without it to_pandas is untested")
xarray = pytest.importorskip("xarray", reason="xarray is in the dev extra; without it to_xarray is untested")

# The command line's example program (tests/test_cli.py): 2 models x batch [1, 2] x seq [128, 256, 512].
from test_cli import PROGRAM  # noqa: E402


@pytest.fixture
def result():
    return perfdsl.load([], texts={"example.perf": PROGRAM}).evaluate()


def test_column_and_array_are_si_and_display_gives_the_shown_unit(result):
    # m1, batch 1, seq 128: 2 x 1e9 x 128 FLOP = 2.56e11 FLOP; / 1e14 FLOP/s = 2.56e-3 s = 2.56 ms
    assert result.column("prefill.runtime")[0] == pytest.approx(2.56e-3)
    si = result.array("prefill.runtime")
    assert si.unit == "s" and si.values[0, 0, 0] == pytest.approx(2.56e-3)
    shown = result.array("prefill.runtime", display=True)
    assert shown.unit == "ms" and shown.values[0, 0, 0] == pytest.approx(2.56)
    assert result.records()[0]["prefill.runtime [ms]"] == pytest.approx(2.56)
    # column() takes display=True as array() does (the README's one rule: a newcomer's column(..., display=True)
    # was a TypeError): the records' values, a swept name's too
    assert result.column("prefill.runtime", display=True).tolist() == [r["prefill.runtime [ms]"]
                                                                        for r in result.records()]
    assert result.column("seq", display=True).tolist() == [r["seq"] for r in result.records()]


def test_to_pandas_has_the_rows_of_records(result):
    frame = result.to_pandas()
    assert list(frame.columns) == ["model", "batch", "seq", "prefill.runtime [ms]", "flops [TFLOP]"]
    assert len(frame) == 2 * 2 * 3
    assert frame.to_dict("records") == result.records()
    assert frame.attrs["report"] == "example"


def test_to_xarray_has_the_axes_as_dimensions_and_units_in_attributes(result):
    data = result.to_xarray()
    assert dict(data.sizes) == {"model": 2, "batch": 2, "seq": 3}
    assert data["model"].values.tolist() == ["m1", "m2"]
    assert data["seq"].values.tolist() == [128, 256, 512]
    assert data["prefill.runtime"].attrs == {"units": "s", "cell": "prefill.runtime"}
    # m2, batch 2, seq 512: 2 x 7e9 x 2 x 512 FLOP / 1e14 FLOP/s = 0.14336 s
    assert float(data["prefill.runtime"].sel(model="m2", batch=2, seq=512)) == pytest.approx(2 * 7e9 * 2 * 512 / 1e14)
    shown = result.to_xarray(display=True)
    assert shown["prefill.runtime"].attrs["units"] == "ms"
    assert float(shown["flops"].sel(model="m1", batch=1, seq=128)) == pytest.approx(2 * 1e9 * 128 / 1e12)
    assert np.array_equal(data["prefill.runtime"].values, result.array("prefill.runtime").values)


def test_a_result_reads_well_in_a_notebook(result):
    assert repr(result) == ("<perfdsl Result of report 'example': model (2) x batch (2) x seq (3); 12 rows; shows "
                            "prefill.runtime [ms], flops [TFLOP]>")


def test_without_pandas_the_error_says_what_to_install(result, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)          # what `import pandas` meets where it is missing
    with pytest.raises(UsageError) as caught:
        result.to_pandas()
    assert caught.value.diagnostics[0].render() == (
        "error[missing-package]: this needs the package 'pandas', which is not installed\n"
        "  = help: in the perfdsl checkout: .venv/bin/pip install -e '.[notebook]' (or `make extras`: notebook, "
        "parquet and dask); from a package index: pip install 'perfdsl[notebook]'")


def test_outside_the_checkouts_venv_the_hint_names_the_running_python(monkeypatch):
    """A bare `pip` may be another Python's: the hint names the interpreter perfdsl runs in."""
    from perfdsl.extras import install_hint

    monkeypatch.setattr(sys, "prefix", "/opt/elsewhere")
    monkeypatch.setattr(sys, "executable", "/opt/elsewhere/bin/python3")
    assert install_hint("parquet") == ("in the perfdsl checkout: /opt/elsewhere/bin/python3 -m pip install -e "
                                       "'.[parquet]'; from a package index: pip install 'perfdsl[parquet]'")


def test_count_axes_stay_integers_in_xarray_and_arrays(result):
    """batch and seq are plain counts: int64 coordinates, as to_pandas' columns (not 1.0, 2.0)."""
    data = result.to_xarray()
    assert data["batch"].dtype == np.int64 and data["seq"].dtype == np.int64
    assert data["batch"].dtype == result.to_pandas()["batch"].dtype
    assert result.array("prefill.runtime").coords["seq"].dtype == np.int64


def test_a_labelled_array_has_the_sweeps_shape(result):
    assert result.array("prefill.runtime").shape == (2, 2, 3) == result.shape


# Two constraints on gpus x tp (tests/test_constraints.py): valid at (1, 1), (2, 1), (2, 2), (3, 1).
from test_constraints import GRID  # noqa: E402


def test_to_xarray_masks_the_points_a_constraint_refuses():
    """replicas = gpus / tp: the refused (1 GPU, tp 2) has 0.5, below any valid point's (1): masked, min() is 1."""
    refused = perfdsl.load([], texts={"g.perf": GRID.replace("OPTION", "")}).evaluate()
    data = refused.to_xarray()
    assert float(data["c.replicas"].min()) == 1.0
    assert data["valid"].values.tolist() == refused.valid.tolist()
    assert np.isnan(data["c.replicas"].values[~refused.valid]).all()
    assert float(refused.to_xarray(keep_invalid=True)["c.replicas"].min()) == 0.5
    marked = perfdsl.load([], texts={"g.perf": GRID.replace("OPTION", 'invalid_points = "mark"')}).evaluate()
    assert float(marked.to_xarray()["c.replicas"].min()) == 0.5        # the rows keep them: so does the Dataset


def test_a_violation_reads_in_one_line():
    (violation, _) = perfdsl.load([], texts={"g.perf": GRID.replace("OPTION", "")}).evaluate().violations
    # gpus % tp != 0 at (1, 2) and (3, 2): 2 of the 8 points
    assert repr(violation) == "<Violation of workload 'w': 'gpus is a whole multiple of tp', 2 of 8 points>"


QUESTION = """
workload w { sweep batch = [1, 2, 4, 8] }
model small { params = 1e9 }
model big { params = 20e9 }
costmodel c { mem = model.params * 2 byte + workload.batch * 1 GB }
report r {
    sweep model = [small, big]
    workload = w
    show c.mem in GB
    where c.mem <= 16 GB
    largest batch per model
}
"""


def test_an_answer_in_chunks_has_the_frame_of_the_whole_evaluation_and_a_short_repr():
    program = perfdsl.load([], texts={"q.perf": QUESTION})
    answer = perfdsl.answer_in_chunks(program, chunk_points=3)
    pandas.testing.assert_frame_equal(answer.to_pandas(), program.evaluate().to_pandas())
    assert answer.to_pandas().attrs["report"] == "r"
    # big: 40 GB of weights never fits, so its row is empty (one no-point warning)
    assert repr(answer) == ("<perfdsl Answer of report 'r': 2 rows of 8 points, 1 warning; columns model, batch, "
                            "c.mem [GB]>")


# QUESTION with a flag shown and a count axis swept beside batch: largest batch per model, over tp [1, 2]
FLAGGED = QUESTION.replace("workload w { sweep batch = [1, 2, 4, 8] }",
                           "workload w { sweep batch = [1, 2, 4, 8]; sweep tp = [1, 2] }").replace(
    "costmodel c { mem = model.params * 2 byte + workload.batch * 1 GB }",
    "costmodel c { mem = model.params * 2 byte / workload.tp + workload.batch * 1 GB; fits = mem <= 16 GB }").replace(
    "show c.mem in GB", "show c.mem in GB, c.fits")


def test_an_answer_has_columns_in_si_and_arrays_over_the_per_axes():
    program = perfdsl.load([], texts={"q.perf": QUESTION})
    answer = perfdsl.answer_in_chunks(program, chunk_points=3)
    # small: 2e9 B of weights + 8 x 1e9 B at batch 8 (the largest within 16 GB); big (4e10 B of weights): none
    assert answer.column("c.mem").tolist()[0] == 2e9 + 8 * 1e9 and np.isnan(answer.column("c.mem")[1])
    assert answer.display_column("c.mem [GB]").tolist()[0] == (2e9 + 8 * 1e9) / 1e9
    shown_column = answer.column("c.mem", display=True)
    assert shown_column.tolist()[0] == (2e9 + 8 * 1e9) / 1e9 and np.isnan(shown_column[1])
    np.testing.assert_allclose(answer.column("c.mem"), program.evaluate().column("c.mem"), rtol=1e-15)
    si = answer.array("c.mem")
    assert (si.name, si.unit, si.dims, si.shape) == ("c.mem", "B", ("model",), (2,))
    assert si.coords["model"].tolist() == ["small", "big"] and si.values[0] == 2e9 + 8 * 1e9
    shown = answer.array("c.mem", display=True)
    assert shown.unit == "GB" and shown.values[0] == (2e9 + 8 * 1e9) / 1e9 and np.isnan(shown.values[1])


def test_an_answers_dataset_is_over_the_per_axes_and_the_same_from_a_whole_evaluation():
    program = perfdsl.load([], texts={"q.perf": QUESTION})
    data = perfdsl.answer_in_chunks(program, chunk_points=3).to_xarray()
    assert dict(data.sizes) == {"model": 2}
    assert data["model"].values.tolist() == ["small", "big"]
    assert data["batch"].values[0] == 8 and np.isnan(data["batch"].values[1])    # the batch found, per model
    assert data["c.mem"].attrs == {"units": "B", "cell": "c.mem"} and data["c.mem"].values[0] == 2e9 + 8 * 1e9
    assert data["answered"].values.tolist() == [True, False]
    assert data.attrs == {"report": "r", "question": "largest batch per model: 2 rows over 2 groups (model), "
                                                     "1 with no answer"}
    whole = program.evaluate().to_xarray(answer=True)
    xarray.testing.assert_allclose(whole, data, rtol=1e-15)
    assert whole.attrs == data.attrs
    shown = program.evaluate().to_xarray(answer=True, display=True)
    assert shown["c.mem"].attrs["units"] == "GB" and shown["c.mem"].values[0] == (2e9 + 8 * 1e9) / 1e9


def test_a_question_results_to_xarray_is_still_the_whole_sweep():
    """As array(): 2 models x 4 batches; the answer is to_xarray(answer=True)'s."""
    result = perfdsl.load([], texts={"q.perf": QUESTION}).evaluate()
    assert dict(result.to_xarray().sizes) == {"model": 2, "batch": 4}
    assert result.to_xarray()["c.mem"].values[1, 0] == 20e9 * 2 + 1 * 1e9       # big at batch 1: refused by `where`
    assert len(result.to_pandas()) == 2


def test_a_pareto_front_or_no_question_is_no_grid_and_says_what_to_use():
    front = QUESTION.replace("largest batch per model", "pareto min c.mem, max batch per model")
    program = perfdsl.load([], texts={"p.perf": front})
    with pytest.raises(ValueError) as caught:
        perfdsl.answer_in_chunks(program).to_xarray()
    # small's front: every batch of 1, 2, 4, 8 (more memory buys more batch), 4 rows; big: 1 empty row
    assert str(caught.value) == (
        "report 'r' asks for a pareto front (pareto min c.mem, max batch per model: 5 rows over 2 groups "
        "(model), 1 with no answer): a group may have several rows, so the answer is no grid over its axes; "
        "to_pandas() gives its rows, one per point of each front")
    with pytest.raises(ValueError, match="asks for a pareto front"):
        program.evaluate().to_xarray(answer=True)
    plain = perfdsl.load([], texts={"q.perf": QUESTION.replace("largest batch per model", "")}).evaluate()
    with pytest.raises(ValueError) as caught:
        plain.to_xarray(answer=True)
    assert str(caught.value) == ("report 'r' asks no question (best, largest, smallest): its rows are sweep points, "
                                 "and to_xarray() gives them over the sweep")


def test_an_answers_flag_array_is_float_with_nan_for_a_group_with_no_answer_as_in_xarray():
    """FLAGGED: small fits (batch 8, tp 1: 2 GB + 8 GB <= 16 GB); big never does. array() of the flag was an object
    array [True, None]; now to_xarray()'s float64 [1.0, NaN], and bool where every group has its answer."""
    program = perfdsl.load([], texts={"f.perf": FLAGGED})
    answer = perfdsl.answer_in_chunks(program, chunk_points=5)
    fits = answer.array("c.fits")
    assert fits.values.dtype == np.float64
    np.testing.assert_array_equal(fits.values, [1.0, np.nan])
    np.testing.assert_array_equal(fits.values, answer.to_xarray()["c.fits"].values)
    assert float(np.nansum(fits)) == 1 and (fits == 1).tolist() == [True, False]    # selects the True ones
    assert repr(fits) == "<perfdsl array 'c.fits' [flags]: model (2); 2 points, 1 empty; True at 1 of them>"
    assert answer.column("c.fits").tolist() == [True, None]          # the rows keep records()' None
    answered = perfdsl.load([], texts={"f.perf": FLAGGED.replace("model big { params = 20e9 }",
                                                                 "model big { params = 2e9 }")})
    every = perfdsl.answer_in_chunks(answered, chunk_points=5).array("c.fits")
    assert every.values.dtype == bool and every.values.tolist() == [True, True]


def test_an_empty_group_leaves_nullable_columns_in_pandas():
    """largest batch per model over tp [1, 2]: small fits batch 8 at tp 1 (2 + 8 GB <= 16 GB); big's weights
    (40 GB, 20 GB at tp 2) never fit: its row is empty, as <NA> in Int64 and boolean columns, NaN in floats."""
    program = perfdsl.load([], texts={"f.perf": FLAGGED})
    for frame in (program.evaluate().to_pandas(), perfdsl.answer_in_chunks(program, chunk_points=5).to_pandas()):
        assert {key: str(dtype) for key, dtype in frame.dtypes.items()} == {
            "model": "str", "batch": "Int64", "tp": "Int64", "c.mem [GB]": "float64", "c.fits": "boolean"}
        assert frame["batch"].tolist() == [8, pandas.NA] and frame["tp"].tolist() == [1, pandas.NA]
        assert frame["c.fits"].tolist() == [True, pandas.NA]
        assert frame["c.mem [GB]"].iloc[0] == (2e9 + 8 * 1e9) / 1e9 and np.isnan(frame["c.mem [GB]"].iloc[1])
    # with every group answered, the numpy dtypes stay
    answered = perfdsl.load([], texts={"f.perf": FLAGGED.replace("model big { params = 20e9 }",
                                                                 "model big { params = 2e9 }")}).evaluate()
    assert {key: str(dtype) for key, dtype in answered.to_pandas().dtypes.items()} == {
        "model": "str", "batch": "int64", "tp": "int64", "c.mem [GB]": "float64", "c.fits": "bool"}


# A question no group answers: no point meets the `where` (q = a x b is never negative), so both rows are empty.
UNANSWERED = """
report r {
    sweep a = [1, 2]
    sweep b = [1, 2]
    q = a * b
    f = q > 2
    t = if(f, "big", "small")
    show f, t
    where q < 0
    best min q per a
}
"""


def test_an_answer_in_chunks_of_no_group_has_the_whole_answers_columns():
    """No chunk had a row, so the merged answer's flag and text columns were NaN (float64) where the whole
    evaluation's are None (object), and to_pandas() typed them apart (float64 beside the whole's). Found by the
    output consistency audit (tests/test_output_consistency.py)."""
    program = perfdsl.load([], texts={"u.perf": UNANSWERED})
    whole, answer = program.evaluate(), perfdsl.answer_in_chunks(program, chunk_points=1)
    for keys, columns in (whole.table(), answer.table()):
        assert keys == ["a", "b", "f", "t", "q"]
        assert [column.dtype.kind for column in columns] == ["i", "O", "O", "O", "f"]
        assert [column.tolist() for column in columns[1:4]] == [[None, None]] * 3
        assert np.isnan(columns[4]).all()
    assert answer.column("f").tolist() == answer.column("t").tolist() == [None, None]
    assert answer.to_pandas().dtypes.tolist() == whole.to_pandas().dtypes.tolist()


def test_a_column_of_no_value_keeps_its_values_in_pandas_not_typed_as_flags():
    """Every group of UNANSWERED is empty: its b (an integer axis) and t (text) columns hold None alone, which
    frame_column typed boolean (<NA>), as if they were flags. With no value to tell the kind by, they stay as they
    are (object, None), in the whole evaluation's frame and the chunked answer's alike."""
    program = perfdsl.load([], texts={"u.perf": UNANSWERED})
    for frame in (program.evaluate().to_pandas(), perfdsl.answer_in_chunks(program, chunk_points=1).to_pandas()):
        assert {key: str(dtype) for key, dtype in frame.dtypes.items()} == {
            "a": "int64", "b": "object", "f": "object", "t": "object", "q": "float64"}
        assert frame["t"].tolist() == frame["b"].tolist() == [None, None]


def test_a_labelled_array_reads_in_one_line(result):
    """The dataclass's repr wrote out every value (a million characters for capacity_planning's tpot)."""
    si = result.array("prefill.runtime")
    # m1, batch 1, seq 128: 2 x 1e9 x 1 x 128 / 1e14 s = 0.00256 s; m2, batch 2, seq 512: 2 x 7e9 x 2 x 512 / 1e14
    # = 0.14336 s (0.1434 to 4 figures); every point valid (no `require`)
    assert repr(si) == ("<perfdsl array 'prefill.runtime' [s, SI]: model (2) x batch (2) x seq (3); 12 points; "
                        "0.00256 to 0.1434 s>")
    assert repr(result.array("prefill.runtime", display=True)) == (
        "<perfdsl array 'prefill.runtime' [ms, as shown]: model (2) x batch (2) x seq (3); 12 points; "
        "2.56 to 143.4 ms>")


def test_numpy_takes_a_labelled_array_as_its_values(result):
    """np.asarray() of a LabelledArray was a 0-d object array: now its `values`, in its unit (SI here)."""
    si = result.array("prefill.runtime")
    values = np.asarray(si)
    assert values.shape == (2, 2, 3) and values.dtype == np.float64 and values is si.values
    assert values[1, 1, 2] == 2 * 7e9 * 2 * 512 / 1e14 and float(np.max(si)) == 2 * 7e9 * 2 * 512 / 1e14
    assert np.asarray(si, dtype=np.float32).dtype == np.float32
    copied = np.array(si, copy=True)
    copied[0, 0, 0] = 0.0                                     # a copy is the caller's to write
    assert si.values[0, 0, 0] == 2 * 1e9 * 128 / 1e14


def test_a_labelled_array_indexes_and_has_a_length_as_its_values(result):
    """a[0], len(a) and iteration raised TypeError, and pandas.Series(a) was one object holding the whole array:
    now `values`' (plain ndarrays and numpy scalars); methods go through `.values` or numpy's functions."""
    si = result.array("prefill.runtime")                      # 2 models x batch [1, 2] x seq [128, 256, 512]
    assert len(si) == 2 and si.ndim == 3 and si.shape == (2, 2, 3) and si.dtype == np.float64
    assert type(si[0]) is np.ndarray and si[0].shape == (2, 3)
    assert si[1, 1, 2] == 2 * 7e9 * 2 * 512 / 1e14 and si[0, 0, 0] == 2 * 1e9 * 128 / 1e14
    assert np.array_equal(si[:, 0, 0], [2 * 1e9 * 128 / 1e14, 2 * 7e9 * 128 / 1e14])
    assert [row.shape for row in si] == [(2, 3), (2, 3)]
    assert not hasattr(si, "sum") and float(np.sum(si)) == float(si.values.sum())
    line = perfdsl.result.LabelledArray("x", "s", np.array([1.5, 2.5]), ("b",), {"b": np.array([1, 2])})
    assert pandas.Series(line).tolist() == [1.5, 2.5] and pandas.Series(line).dtype == np.float64
    with pytest.raises(TypeError):
        len(perfdsl.result.LabelledArray("x", "s", np.array(1.0), (), {}))


def test_a_labelled_array_compares_and_computes_elementwise_as_numpy(result):
    """The dataclass's __eq__ compared the `values` fields with ==, and `a == b` raised numpy's "truth value of an
    array ... is ambiguous"; `a < b`, `a * 2` were TypeErrors and `a == 0.0` was False. Now numpy's, on `values`,
    giving plain ndarrays in the arrays' unit."""
    si, again = result.array("prefill.runtime"), result.array("prefill.runtime")
    same = si == again
    assert type(same) is np.ndarray and same.dtype == bool and same.shape == (2, 2, 3) and same.all()
    assert not (si != again).any() and np.array_equal(si - again, np.zeros((2, 2, 3)))
    # below 3 ms: m1 at batch 1, seq 128 only (2 x 1e9 x 1 x 128 / 1e14 s = 2.56 ms; the next, seq 256: 5.12 ms)
    below = si < 3e-3
    assert type(below) is np.ndarray and below.sum() == 1 and below[0, 0, 0]
    in_ms = si * 1e3                                            # a plain ndarray: the unit is the caller's to say
    assert type(in_ms) is np.ndarray
    assert in_ms[1, 1, 2] == pytest.approx(2 * 7e9 * 2 * 512 / 1e14 * 1e3)
    np.testing.assert_allclose(in_ms, result.array("prefill.runtime", display=True).values, rtol=1e-15)
    assert type(np.sqrt(si)) is np.ndarray
    # FLOP / s: a product or quotient of two units is fine (the peak, 100 TFLOP/s, at every point)
    np.testing.assert_allclose(result.array("flops") / si, np.full((2, 2, 3), 100e12), rtol=1e-12)
    with pytest.raises(ValueError) as caught:
        si + result.array("prefill.runtime", display=True)
    assert str(caught.value) == (
        "np.add of 'prefill.runtime' in s and 'prefill.runtime' in ms: numpy takes their values as plain numbers, "
        "each in its array's unit; take both in SI (array(name)), or both as shown (array(name, display=True)) "
        "where they show one unit")
    other = perfdsl.load([], texts={"example.perf": PROGRAM}).evaluate(overrides={"batch": [1, 4]})
    with pytest.raises(ValueError) as caught:
        si == other.array("prefill.runtime")
    assert str(caught.value) == (
        "arrays 'prefill.runtime' and 'prefill.runtime' are not over the same sweep points (their batch differs): "
        "numpy would pair their values by position. Compare .values to mean that, or use to_xarray(), which aligns "
        "them by coordinate")


# GRID (gpus [1, 2, 3, 4] x tp [1, 2], valid at (1, 1), (2, 1), (2, 2), (3, 1)) with a flag: replicas >= 2
FLAG_GRID = GRID.replace("OPTION", "").replace(
    "costmodel c { replicas = workload.gpus / workload.tp }",
    "costmodel c { replicas = workload.gpus / workload.tp; many = replicas >= 2; label = \"g\" }").replace(
    "show c.replicas", "show c.replicas, c.many, c.label")


def test_a_labelled_arrays_repr_counts_the_valid_points_and_ranges_over_them():
    refused = perfdsl.load([], texts={"g.perf": FLAG_GRID}).evaluate()
    # replicas at the valid points: 1/1, 2/1, 2/2, 3/1 = 1, 2, 1, 3 (the refused 0.5 and 4 are not in the range)
    assert repr(refused.array("c.replicas")) == ("<perfdsl array 'c.replicas' [no unit]: gpus (4) x tp (2); "
                                                 "4 of 8 points valid; 1 to 3 over them>")
    # many (replicas >= 2) at the valid points: False, True, False, True
    assert repr(refused.array("c.many")) == ("<perfdsl array 'c.many' [flags]: gpus (4) x tp (2); "
                                             "4 of 8 points valid; True at 2 of them>")
    # `values` keeps the refused points' values, as np.asarray does: (4, 2) has 4 / 2 = 2 replicas
    assert refused.array("c.replicas").values[3, 1] == 2.0 == np.asarray(refused.array("c.replicas"))[3, 1]


def test_a_flag_with_refused_points_is_float_with_nan_in_xarray_and_bool_without():
    refused = perfdsl.load([], texts={"g.perf": FLAG_GRID}).evaluate()
    data = refused.to_xarray()
    # many = gpus / tp >= 2: [[F, F], [T, F], [T, F], [T, T]]; refused (1, 2), (3, 2), (4, 1), (4, 2) emptied
    assert data["c.many"].dtype == np.float64
    np.testing.assert_array_equal(data["c.many"].values, [[0.0, np.nan], [1.0, 0.0], [1.0, np.nan], [np.nan, np.nan]])
    assert float(data["c.many"].sum()) == 2 and float(data["c.many"].mean()) == 2 / 4
    kept = refused.to_xarray(keep_invalid=True)                 # nothing emptied: numpy's bool, every value
    assert kept["c.many"].dtype == bool
    assert kept["c.many"].values.tolist() == [[False, False], [True, False], [True, False], [True, True]]
    xarray.testing.assert_identical(kept["c.many"].where(data["valid"]), data["c.many"])   # xarray's own masking
    assert refused.array("c.many").values.dtype == bool
    # text: NaN at the same four refused points, in an object array (as xarray's own `where` fills text)
    assert data["c.label"].dtype == object
    assert pandas.isna(data["c.label"].values).tolist() == [[False, True], [False, False], [False, True], [True, True]]
    assert data["c.label"].values[0, 0] == "g"


def test_an_answers_flag_is_float_with_nan_for_a_group_with_no_answer_and_bool_where_all_answered():
    """FLAGGED: small fits at batch 8, tp 1 (2 GB + 8 GB <= 16 GB): fits True; big never fits: no answer."""
    program = perfdsl.load([], texts={"f.perf": FLAGGED})
    for data in (program.evaluate().to_xarray(answer=True),
                 perfdsl.answer_in_chunks(program, chunk_points=5).to_xarray()):
        assert data["c.fits"].dtype == np.float64
        np.testing.assert_array_equal(data["c.fits"].values, [1.0, np.nan])
        np.testing.assert_array_equal(data["tp"].values, [1.0, np.nan])
        assert data["model"].values.tolist() == ["small", "big"] and data["answered"].dtype == bool
    assert repr(perfdsl.answer_in_chunks(program, chunk_points=5).array("c.mem")) == (
        "<perfdsl array 'c.mem' [B, SI]: model (2); 2 points, 1 empty; 1e+10 B over them>")  # 2e9 + 8e9 B
    # big with 2e9 parameters fits too (4 GB + 8 GB at batch 8, tp 1): every group answered, the flag stays bool
    answered = perfdsl.load([], texts={"f.perf": FLAGGED.replace("model big { params = 20e9 }",
                                                                 "model big { params = 2e9 }")})
    data = answered.evaluate().to_xarray(answer=True)
    assert data["c.fits"].dtype == bool and data["c.fits"].values.tolist() == [True, True]
    assert data["tp"].dtype == np.int64 and data["tp"].values.tolist() == [1, 1]


def test_column_of_a_shown_integer_axis_is_int64_as_records():
    # Before: column("batch") and array("batch") of `show batch` read the shown cell's array, float64 (1.0, 2.0, 4.0),
    # where records(), CSV and to_pandas give the axis's integers; the axis not shown gave int64 already.
    program = perfdsl.load([], texts={"ax.perf": """report r {
    sweep batch = [1, 2, 4]
    sweep ctx = [1 GB, 2 GB]
    t = batch * 1 s
    show t, batch, ctx
}"""})
    result = program.evaluate()
    assert [row["batch"] for row in result.records()] == [1, 1, 2, 2, 4, 4]
    for values in (result.column("batch"), result.display_column("batch"), result.array("batch").values):
        assert values.dtype == np.int64
    assert result.column("batch").tolist() == [1, 1, 2, 2, 4, 4]
    assert result.column("ctx").tolist() == [1e9, 2e9] * 3                # a shown axis with a unit: SI, 1 GB = 1e9 B
    assert result.display_column("ctx").tolist() == [1.0, 2.0] * 3


def test_an_answer_array_empties_text_as_to_xarray_does():
    # Before: array() of a shown text cell gave None for a group with no answer, where to_xarray() and array() of
    # a text axis (`model`) give NaN. tpot = 1e9 x 2 FLOP / 100 TFLOP/s x (1 + batch / 8) / tp = 20 us x (1 + batch
    # / 8) / tp: tp 1's least is 20 x 1.125 = 22.5 us > 0.02 ms (no answer); tp 2's is 22.5 / 2 = 11.25 us, "fast".
    program = perfdsl.load([], texts={"a.perf": """
model small { params = 1e9 }
hardware a { peak = 100 TFLOP/s }
workload grid {
    sweep batch = [1, 2, 4, 8]
    sweep tp = [1, 2]
}
costmodel serving {
    tpot = model.params * 2 FLOP / hardware.peak * (1 + workload.batch / 8) / workload.tp
    verdict = if(tpot < 1 ms, "fast", "slow")
}
report r {
    sweep model = [small]
    hardware = a
    workload = grid
    show serving.tpot in ms, serving.verdict
    where serving.tpot <= 0.02 ms
    best min serving.tpot per tp
}"""})
    from perfdsl.notebook import answer_grid
    from perfdsl.result import Result

    for answer in (program.evaluate(), perfdsl.answer_in_chunks(program, None, chunk_points=3)):
        grid = answer_grid(answer) if isinstance(answer, Result) else answer
        verdict = grid.array("serving.verdict").values
        assert verdict.dtype == object and verdict[1] == "fast"
        assert isinstance(verdict[0], float) and np.isnan(verdict[0])          # tp 1: no answer
        model = grid.array("model").values
        assert isinstance(model[0], float) and np.isnan(model[0]) and model[1] == "small"
        data = answer.to_xarray(answer=True) if isinstance(answer, Result) else answer.to_xarray()
        assert np.isnan(data["serving.verdict"].values[0]) and data["serving.verdict"].values[1] == "fast"
        assert [row["serving.verdict"] for row in answer.records()] == [None, "fast"]     # rows: None, as before


ZIPPED = """\
workload w {
    sweep batch = [1, 4]
    sweep (tp, ep) = [(2, 1), (2, 2), (8, 1), (8, 8)]
}
costmodel c {
    time = workload.batch * 1 ms / workload.tp + workload.ep * 1 ms
    fits = workload.tp * workload.ep >= 4
}
report r {
    workload = w
    show c.time in ms as time, c.fits as fits
}
"""


def test_a_zipped_axis_is_a_multi_index_that_selects_by_both_names():
    result = perfdsl.load([], texts={"z.perf": ZIPPED}).evaluate()
    data = result.to_xarray()
    assert isinstance(data.indexes["(tp, ep)"], pandas.MultiIndex)
    assert data["tp"].values.tolist() == [2, 2, 8, 8] and data["ep"].values.tolist() == [1, 2, 1, 8]
    # batch 4 at (tp 8, ep 8): 4 x 1 ms / 8 + 8 x 1 ms = 8.5 ms
    assert float(data["time"].sel(batch=4, tp=8, ep=8)) == pytest.approx(4 * 1e-3 / 8 + 8 * 1e-3)
    # one name: the points of that tp, along the other name (ep 1, ep 2 at tp 2); batch 1: 1 / 2 + ep ms
    assert data["time"].sel(batch=1, tp=2).values.tolist() == pytest.approx([1e-3 / 2 + 1e-3, 1e-3 / 2 + 2e-3])
    assert data["tp"].attrs == {"units": ""}
    # no point emptied: the flag stays bool, as to_pandas has it; tp x ep >= 4 is False only at (2, 1)
    assert data["fits"].dtype == bool and result.to_pandas()["fits"].dtype == bool
    assert data["fits"].sel(batch=1).values.tolist() == [False, True, True, True]
