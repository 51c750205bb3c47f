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
        "  = help: in the perfdsl checkout: pip install -e '.[notebook]'; from a package index: pip install "
        "'perfdsl[notebook]'")


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
