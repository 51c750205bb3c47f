"""Results in notebooks (stage 5, an output like render.py): pandas and xarray views of a Result, and its repr.

One convention for units through the Python API: arrays are SI (`Result.column`, `Result.array`, `to_xarray`), and
`display=True` gives the units the report shows; tables carry the shown unit in each key (`records`, `table`, CSV,
`to_pandas`), as `perfdsl eval` prints them. pandas and xarray are optional (`pip install perfdsl[notebook]`): they
are imported here only, when asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .extras import require
from .units import DIMENSIONLESS, si_unit_name

if TYPE_CHECKING:
    from .result import Result


def to_pandas(result: "Result"):
    """A DataFrame of the result's rows (the sweep points, or the answers to its question): one column per key of
    records(), axes first, values in display units, the report's name in `attrs["report"]`."""
    pandas = require("pandas", "notebook")
    keys, columns = result.table()
    frame = pandas.DataFrame({key: column for key, column in zip(keys, columns)}, columns=keys)
    frame.attrs["report"] = result.report
    return frame


def to_xarray(result: "Result", display: bool = False):
    """A Dataset over the whole sweep (before any question): one dimension per axis (a zipped axis is one
    dimension with several coordinates), one variable per shown cell, `valid` where the report has constraints.
    Variables and numeric coordinates are SI, or in their shown units with `display`; attrs["units"] says which."""
    xarray = require("xarray", "notebook")
    dims = tuple(axis.name for axis in result.axes)
    coords = {}
    for axis in result.axes:
        for coord in axis.coords:
            if coord.kind == "num":
                values = coord.display_values() if display else coord.values
                unit = coord.unit if display else (si_unit_name(coord.dim) if coord.dim not in (None, DIMENSIONLESS)
                                                   else "")
                coords[coord.name] = (axis.name, np.asarray(values), {"units": unit})
            else:
                coords[coord.name] = (axis.name, np.asarray(coord.values))
    variables = {}
    for column in result.columns:
        labelled = result.array(column.name, display=display)
        variables[column.name] = (dims, np.array(labelled.values), {"units": labelled.unit, "cell": column.ref})
    if result.violations:
        variables["valid"] = (dims, np.array(np.broadcast_to(result.valid, result.shape)), {})
    return xarray.Dataset(variables, coords=coords, attrs={"report": result.report})


def describe(result: "Result") -> str:
    """A short text for a Result in a notebook or a REPL: the report, its axes, its rows and shown cells."""
    axes = " x ".join(f"{axis.name} ({axis.length:,})" for axis in result.axes) or "no axes"
    shows = ", ".join(column.key for column in result.columns)
    rows = f"{result.n_rows:,} rows" + (f" of {result.n_points:,} points" if result.n_rows != result.n_points else "")
    warnings = f", {len(result.warnings)} warning{'s' if len(result.warnings) != 1 else ''}" if result.warnings \
        else ""
    return f"<perfdsl Result of report '{result.report}': {axes}; {rows}{warnings}; shows {shows}>"
