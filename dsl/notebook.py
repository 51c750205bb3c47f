"""Results in notebooks (stage 5, an output like render.py): pandas and xarray views of a Result, and its repr.

One convention for units through the Python API: arrays are SI (`Result.column`, `Result.array`, `to_xarray`), and
`display=True` gives the units the report shows; tables carry the shown unit in each key (`records`, `table`, CSV,
`to_pandas`), as `perfdsl eval` prints them. pandas and xarray are optional (the extra `notebook`: `pip install -e
'.[notebook]'` in a checkout): they are imported here only, when asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .extras import require
from .units import DIMENSIONLESS, si_unit_name

if TYPE_CHECKING:
    from .result import Result
    from .streaming import Answer


def to_pandas(result: "Result | Answer"):
    """A DataFrame of the rows of a Result (the sweep points, or the answers to its question) or of an Answer
    (streaming.answer_in_chunks): one column per key of records(), axes first, values in display units, the
    report's name in `attrs["report"]`."""
    pandas = require("pandas", "notebook")
    keys, columns = result.table()
    frame = pandas.DataFrame({key: column for key, column in zip(keys, columns)}, columns=keys)
    frame.attrs["report"] = result.report
    return frame


def to_xarray(result: "Result", display: bool = False, keep_invalid: bool = False):
    """A Dataset over the whole sweep (before any question): one dimension per axis (a zipped axis is one
    dimension with several coordinates), one variable per shown cell, `valid` where the report has constraints.
    Variables and numeric coordinates are SI, or in their shown units with `display`; attrs["units"] says which. A
    count axis (numbers without a unit) keeps integer coordinates, as to_pandas' columns.

    Points that break a `require` are masked in every shown variable (NaN; None in text and flag variables), as the
    rows leave them out, so that `ds.tpot.min()` never picks a refused setup; `valid` stays. Not under the report
    option `invalid_points = "mark"` (the rows keep them), nor with `keep_invalid`."""
    xarray = require("xarray", "notebook")
    dims = tuple(axis.name for axis in result.axes)
    coords = {}
    for axis in result.axes:
        for coord in axis.coords:
            if coord.kind == "num":
                values = coord.display_values() if display else coord.values
                unit = coord.unit if display else (si_unit_name(coord.dim) if coord.dim not in (None, DIMENSIONLESS)
                                                   else "")
                if coord.integral:            # as the rows write it (decided over the whole axis)
                    values = np.asarray(values).astype(np.int64)
                coords[coord.name] = (axis.name, np.asarray(values), {"units": unit})
            else:
                coords[coord.name] = (axis.name, np.asarray(coord.values))
    valid = np.broadcast_to(result.valid, result.shape) if result.violations else None
    mask = valid is not None and not keep_invalid and result.invalid_points == "omit"
    variables = {}
    for column in result.columns:
        labelled = result.array(column.name, display=display)
        values = np.array(labelled.values)
        if mask:
            values = _masked(values, valid)
        variables[column.name] = (dims, values, {"units": labelled.unit, "cell": column.ref})
    if valid is not None:
        variables["valid"] = (dims, np.array(valid), {})
    return xarray.Dataset(variables, coords=coords, attrs={"report": result.report})


def _masked(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """`values` with the points where `valid` is False emptied: NaN in numbers, None in text and flags."""
    if values.dtype.kind == "f":
        return np.where(valid, values, np.nan)
    out = values.astype(object)
    out[~valid] = None
    return out


def describe(result: "Result") -> str:
    """A short text for a Result in a notebook or a REPL: the report, its axes, its rows and shown cells."""
    axes = " x ".join(f"{axis.name} ({axis.length:,})" for axis in result.axes) or "no axes"
    shows = ", ".join(column.key for column in result.columns)
    rows = f"{result.n_rows:,} rows" + (f" of {result.n_points:,} points" if result.n_rows != result.n_points else "")
    warnings = f", {len(result.warnings)} warning{'s' if len(result.warnings) != 1 else ''}" if result.warnings \
        else ""
    return f"<perfdsl Result of report '{result.report}': {axes}; {rows}{warnings}; shows {shows}>"


def describe_answer(answer: "Answer") -> str:
    """A short text for an Answer (answer_in_chunks) in a notebook or a REPL, as describe() for a Result."""
    rows = f"{answer.n_rows:,} row{'s' if answer.n_rows != 1 else ''} of {answer.n_points:,} points"
    warnings = f", {len(answer.warnings)} warning{'s' if len(answer.warnings) != 1 else ''}" if answer.warnings \
        else ""
    return f"<perfdsl Answer of report '{answer.report}': {rows}{warnings}; columns {', '.join(answer.keys)}>"
