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
        "  = help: pip install 'perfdsl[notebook]'")
