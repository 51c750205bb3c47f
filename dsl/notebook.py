"""Results in notebooks (stage 5, an output like render.py): pandas and xarray views of a Result or an Answer, and
their reprs.

One convention for units through the Python API: arrays are SI (`Result.column`, `Result.array`, `to_xarray`; the
same of an Answer), and `display=True` gives the units the report shows; tables carry the shown unit in each key
(`records`, `table`, CSV, `to_pandas`), as `perfdsl eval` prints them. A unit is written by its symbol (`B`,
`GB/s`: units.si_unit_name). A question's answer over its `per` axes is answer_to_xarray's; a Result's to_xarray()
is its whole sweep. pandas and xarray are optional (the extra `notebook`: extras.install_hint; `make extras`):
they are imported here only, when asked for.
"""

from __future__ import annotations

import re

from typing import TYPE_CHECKING

import numpy as np

from .extras import require
from .units import DIMENSIONLESS, si_unit_name, written_in_hertz

if TYPE_CHECKING:
    from .result import LabelledArray, Result
    from .streaming import Answer


def to_pandas(result: "Result | Answer"):
    """A DataFrame of the rows of a Result (the sweep points, or the answers to its question) or of an Answer
    (streaming.answer_in_chunks): one column per key of records(), axes first, values in display units, the
    report's name in `attrs["report"]`. A row of a group with no answer (its values None in records()) is empty in
    pandas' own way (frame_column): integers become Int64 and flags boolean, with <NA>; floats stay float64 with
    NaN; text keeps pandas' text dtype with NaN. Columns with no empty value keep their numpy dtypes (int64, bool,
    float64)."""
    pandas = require("pandas", "notebook")
    keys, columns = result.table()
    frame = pandas.DataFrame({key: frame_column(pandas, column) for key, column in zip(keys, columns)},
                             columns=keys)
    frame.attrs["report"] = result.report
    return frame


def frame_column(pandas, values: np.ndarray):
    """A table column as a DataFrame column: an object array of ints or flags with None (Rows.pick blanks the
    rows of a group with no answer so) as pandas' nullable Int64 or boolean, of numbers mixing ints and floats as
    float64 with NaN; anything else as it is, a column of no value at all too (every group unanswered: it was
    typed boolean whatever it held, text and integer axes included). Without this such a column was of dtype object
    (8 and None)."""
    if values.dtype != object or len(values) == 0:
        return values
    empty = pandas.isna(values)
    if not empty.any():
        return values
    present = values[~empty].tolist()
    if not present:             # no value to tell the kind by (every group unanswered): not typed as flags
        return values
    if all(type(v) is bool or isinstance(v, np.bool_) for v in present):
        return pandas.array(values.tolist(), dtype="boolean")
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in present):
        return pandas.array(values.tolist(), dtype="Int64")
    if all(isinstance(v, (int, float, np.integer, np.floating)) for v in present):
        return np.array([np.nan if v is None else float(v) for v in values.tolist()], dtype=float)
    return values


def to_xarray(result: "Result", display: bool = False, keep_invalid: bool = False):
    """A Dataset over the whole sweep (before any question: its answer is answer_to_xarray's): one dimension per
    axis (a zipped axis is one dimension indexed by a MultiIndex of its coordinates: `ds.sel(tp=8, ep=8)`), one
    variable per shown cell (a shown axis of the report is its coordinate: shown_axes.py), `valid` where the
    report has constraints. Variables and numeric coordinates are SI, or in their shown units with `display`;
    attrs["units"] says which. A count axis (numbers without a unit) keeps integer coordinates, as to_pandas'
    columns.

    Points that break a `require` are emptied in every shown variable, as the rows leave them out, so that
    `ds.tpot.min()` never picks a refused setup; `valid` stays. Not under the report option
    `invalid_points = "mark"` (the rows keep them), nor with `keep_invalid`. Emptied is NaN in numbers, and in
    flags too: a flag variable with an emptied point is float64 (1.0 True, 0.0 False, NaN; `ds.fits == 1` selects
    the True ones), one with none keeps numpy's bool; NaN in text too, in an object array (_emptied)."""
    xarray = require("xarray", "notebook")
    dims = tuple(axis.name for axis in result.axes)
    coords = _axis_coords(result.axes, display)
    valid = np.broadcast_to(result.valid, result.shape) if result.violations else None
    mask = valid is not None and not keep_invalid and result.invalid_points == "omit"
    variables = {}
    for column in result.columns:
        if column.axis is not None:       # `show a` of the report's own axis: the coordinate `a` (shown_axes.py)
            continue
        labelled = result.array_of(column, display=display)
        values = np.array(labelled.values)
        if mask:
            values = _emptied(values, valid)
        variables[variable_name(column, variables, coords)] = (dims, values, {"units": labelled.unit,
                                                                               "cell": column.ref})
    if valid is not None:
        variables["valid"] = (dims, np.array(valid), {})
    return xarray.Dataset(variables, coords=coords, attrs={"report": result.report})


def variable_name(column, *taken) -> str:
    """The Dataset variable of shown `column`: its name, or where a coordinate or an earlier variable has that name
    (`show mem in MB, mem in KiB` over `sweep mem`: the first is the coordinate `mem`), its CSV key made an
    identifier (`mem [KiB]` -> `mem_KiB`), numbered where that too is taken. xarray refuses one name in both
    data_vars and coords, and a dict would keep only the last of two variables of one name.

    Not the CSV key itself (`mem [KiB]`), though xarray takes any hashable name: a Dataset is SI unless
    `display=True`, so a name with the shown unit would say KiB over values in B (its unit is attrs["units"], which
    follows `display`; `_KiB` only says which show the variable is, and `cell` which cell); and a key with a '/'
    (`bw [GB/s]`, `rate [1/s]`) could not be written to a netCDF4 file: xarray's to_netcdf refuses a '/' in a
    variable's name ("Forward slashes '/' are not allowed in variable and dimension names", xarray 2026.9
    backends/netCDF4_.py, _ensure_no_forward_slash_in_name). An identifier also reads as `ds.mem_KiB`."""
    def free(name: str) -> bool:
        return not any(name in names for names in taken)

    if free(column.name):
        return column.name
    base = re.sub(r"\W+", "_", column.key).strip("_") or "column"
    name, n = base, 2
    while not free(name):
        name, n = f"{base}_{n}", n + 1
    return name


def _axis_coords(axes, display: bool):
    """xarray coordinates of `axes`, each along its axis's dimension: numbers in SI (or shown units with
    `display`; integers where the axis is written so), with attrs["units"]; text and roles as they are. A zipped
    axis (`sweep (tp, ep) = [(2, 1), (8, 8)]`) is one dimension indexed by a pandas MultiIndex of its coordinates
    (xarray.Coordinates.from_pandas_multiindex), so `ds.sel(tp=8, ep=8)` selects by both names; plain coordinates
    along one dimension would each be an index, which `sel` refuses ("more than one index")."""
    xarray = require("xarray", "notebook")
    pandas = require("pandas", "notebook")
    plain: dict = {}
    zipped = []
    for axis in axes:
        levels = {}
        for coord in axis.coords:
            if coord.kind == "num":
                values = np.asarray(coord.display_values() if display else coord.values)
                if coord.integral:            # as the rows write it (decided over the whole axis)
                    values = values.astype(np.int64)
                levels[coord.name] = (values, {"units": _coord_unit(coord, display)})
            else:
                levels[coord.name] = (np.asarray(coord.values), {})
        if len(levels) == 1:
            name, (values, attrs) = next(iter(levels.items()))
            plain[name] = (axis.name, values, attrs) if attrs else (axis.name, values)
            continue
        index = pandas.MultiIndex.from_arrays([values for values, _ in levels.values()], names=list(levels))
        zipped.append((xarray.Coordinates.from_pandas_multiindex(index, axis.name), levels))
    coords = xarray.Coordinates(plain)
    for multi, levels in zipped:
        coords = coords.assign(multi)
        for name, (_, attrs) in levels.items():
            coords[name].attrs.update(attrs)
    return coords


def _coord_unit(coord, display: bool) -> str:
    if display:
        return coord.unit
    # An axis of clocks is written in Hz (`[1 GHz, 2 GHz]`: its shown unit GHz); its SI unit is Hz, not 1/s.
    return si_unit_name(coord.dim, written_in_hertz(coord.unit)) if coord.dim not in (None, DIMENSIONLESS) else ""


def answer_to_xarray(source: "Result | Answer", display: bool = False):
    """The answer to a report's question (best, largest, smallest: one row per group) as a Dataset over its group
    axes (its `per`; none: a Dataset of scalars): one dimension per kept axis with its coordinates; one variable
    per shown or ranked cell, and one per coordinate of every other axis (where the group's answer lies: `batch`
    per `model` for `largest batch per model`), in SI or with `display` in the shown units, attrs["units"] saying
    which; `answered` False for a group with no answer, whose values are NaN (text in an object array; an integer
    axis's values and flags are then float64, a flag 1.0, 0.0 or NaN: _emptied; where every group has its answer
    they keep their int64 and bool). attrs: the report and the question's summary line. Raises ValueError for a
    pareto front (several rows per group) or a report without such a question (answer_grid)."""
    return answer_grid(source).dataset(display)


def answer_grid(source: "Result | Answer") -> "AnswerGrid":
    """The answer of a Result of a report with a question (evaluated whole) or of an Answer (answer_in_chunks) as
    a grid over the question's group axes. Raises ValueError where the rows are no such grid: a report that asks
    no question, a pareto front."""
    from .streaming import Answer

    if isinstance(source, Answer):
        return AnswerGrid(source.report, source.axes, source.shape, source.rows, source.form, source.shown,
                          lambda column: source.column(column.key))
    questions = source.ctx.report.questions
    if not questions or source.rows is None:
        raise ValueError(f"report '{source.report}' asks no question (best, largest, smallest): its rows are sweep "
                         f"points, and to_xarray() gives them over the sweep")
    return AnswerGrid(source.report, source.axes, source.shape, source.rows, questions[0].form, source.columns,
                      lambda column: source.flat(column.array))


class AnswerGrid:
    """An answer's rows (one per group, in group order: queries.answer_rows) laid out over its kept axes."""

    def __init__(self, report: str, axes, shape: tuple[int, ...], rows, form: str, columns, si_values):
        self.report, self.axes, self.shape, self.rows, self.columns = report, list(axes), shape, rows, columns
        self.si_values = si_values            # column -> its SI values, one per row
        self.kept = sorted(rows.kept_axes)
        self.group_shape = tuple(shape[a] for a in self.kept)
        if form == "pareto":
            raise ValueError(f"report '{report}' asks for a pareto front ({rows.summary}): a group may have several "
                             f"rows, so the answer is no grid over its axes; to_pandas() gives its rows, one per "
                             f"point of each front")
        if len(rows) != int(np.prod(self.group_shape)):
            raise ValueError(f"report '{report}': {rows.summary}, not one row per group: to_pandas() gives them")

    @property
    def dims(self) -> tuple[str, ...]:
        return tuple(self.axes[a].name for a in self.kept)

    def _values(self, column, display: bool) -> tuple[np.ndarray, str]:
        values = np.asarray(self.si_values(column))
        if column.kind != "num":
            return values.reshape(self.group_shape), column.unit
        if display:
            return (values / column.scale).reshape(self.group_shape), column.unit
        return values.reshape(self.group_shape), column.si_unit

    def array(self, name: str, display: bool = False):
        """result.LabelledArray of one column over the group axes (see streaming.Answer.array). A group with no
        answer is emptied as dataset() empties it (_emptied): NaN in numbers and flags (a flag is then float64 1.0,
        0.0, NaN, not an object array of True/False/None), and NaN in text (an object array), as to_xarray() and a
        text axis's array() have it; records() and column(), rows, have None there."""
        from .result import LabelledArray, SweptName, coord_kind, coord_si_unit, coord_values, find_column, \
            row_positions

        column = find_column(self.columns, name, self.report, self.axes)
        coords = {coord.name: coord.output_values() for a in self.kept for coord in self.axes[a].coords}
        if isinstance(column, SweptName):    # a swept name: its value in each group's answer (or the group's own)
            coord, index = column.coord, column.axis.index
            values = coord_values(coord, index, self.shape, row_positions(self.rows, self.shape, index),
                                  self.rows.missing, self.rows.kept_axes, si=not display).reshape(self.group_shape)
            if index not in self.kept and self.rows.missing.any():
                values = _emptied(values, ~self.rows.missing.reshape(self.group_shape))
            return LabelledArray(coord.name, coord.unit if display else coord_si_unit(coord), values, self.dims,
                                 coords, display=display and coord.kind == "num", kind=coord_kind(coord))
        values, unit = self._values(column, display)
        if self.rows.missing.any():
            values = _emptied(values, ~self.rows.missing.reshape(self.group_shape))
        return LabelledArray(column.name, unit, values, self.dims, coords, display=display and column.kind == "num",
                             kind=column.kind)

    def dataset(self, display: bool):
        """The xarray Dataset of answer_to_xarray."""
        xarray = require("xarray", "notebook")
        dims = self.dims
        variables = {}
        positions = np.unravel_index(self.rows.index, self.shape) if self.shape else ()
        missing = self.rows.missing
        for index, axis in enumerate(self.axes):
            if index in self.kept:
                continue
            for coord in axis.coords:
                values = np.asarray(coord.display_values() if display and coord.kind == "num" else coord.values)
                values = values[positions[index]]
                if coord.kind == "num" and coord.integral:
                    values = values.astype(np.int64)
                if missing.any():
                    values = _emptied(values, ~missing)
                attrs = {"units": _coord_unit(coord, display)} if coord.kind == "num" else {}
                variables[coord.name] = (dims, values.reshape(self.group_shape), attrs)
        for column in self.columns:
            if column.axis is not None:   # a shown axis: its coordinate, or its variable above (shown_axes.py)
                continue
            values, unit = self._values(column, display)   # a flag or an int with no answer is None (Rows.pick)
            if missing.any():
                values = _emptied(values, ~missing.reshape(self.group_shape))
            taken = {**variables, **{coord.name: None for a in self.kept for coord in self.axes[a].coords}}
            variables[variable_name(column, taken, ())] = (dims, values, {"units": unit, "cell": column.ref})
        variables["answered"] = (dims, (~missing).reshape(self.group_shape), {})
        coords = _axis_coords([self.axes[a] for a in self.kept], display)
        return xarray.Dataset(variables, coords=coords, attrs={"report": self.report, "question": self.rows.summary})


def _emptied(values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """`values` for an xarray variable with the points where `keep` is False emptied: NaN in numbers, flags
    included (as float64: 1.0, 0.0, NaN), and text (an object array with NaN: what xarray's own `where` fills an
    object variable with, and what it made of a None in a text variable anyway). Where `keep` is all True, `values`
    as they are (bool stays bool, int64 int64). `values` may already be None where emptied (an object array from
    Rows.pick).

    Flags become float64, not object with None (to_xarray's flags were so before), because xarray has no nullable
    bool and float64 with NaN is its own answer: `da.where(cond)` of a bool variable is float64 1.0/0.0/NaN, as an
    integer becomes float64 with NaN (so `ds.fits` equals `kept.fits.where(ds.valid)`, kept the Dataset of
    keep_invalid=True), and a float variable reduces in numpy (`ds.fits.mean()` is the share of the points kept that
    fit, `.sum()` their count) where an object array of True/False/None goes through Python object by object."""
    keep = np.broadcast_to(keep, values.shape)
    if keep.all():
        return values
    present = values[keep]
    numeric = values.dtype.kind in "biuf" or (values.dtype == object and all(
        isinstance(v, (bool, int, float, np.bool_, np.integer, np.floating)) for v in present.tolist()))
    if numeric:
        out = np.full(values.shape, np.nan)
        out[keep] = present.astype(float)
        return out
    out = values.astype(object)
    out[~keep] = np.nan
    return out


def describe(result: "Result") -> str:
    """A short text for a Result in a notebook or a REPL: the report, its axes, its rows and shown cells."""
    axes = " x ".join(f"{axis.name} ({axis.length:,})" for axis in result.axes) or "no axes"
    shows = ", ".join(column.key for column in result.columns)
    rows = f"{result.n_rows:,} rows" + (f" of {result.n_points:,} points" if result.n_rows != result.n_points else "")
    warnings = f", {len(result.warnings)} warning{'s' if len(result.warnings) != 1 else ''}" if result.warnings \
        else ""
    return f"<perfdsl Result of report '{result.report}': {axes}; {rows}{warnings}; shows {shows}>"


def describe_array(labelled: "LabelledArray") -> str:
    """A short text for a LabelledArray (Result.array, Answer.array) in a notebook or a REPL, as describe() for a
    Result: its name, unit (SI or as shown), axes with their lengths, how many points are valid (or empty: an
    answer's group with no answer), and the range of the values over those points (numbers), or how many are True
    (flags). The repr of the dataclass wrote out every value: a million characters for capacity_planning's."""
    values = np.asarray(labelled.values)
    axes = " x ".join(f"{dim} ({length:,})" for dim, length in zip(labelled.dims, values.shape)) or "no axes"
    kept = np.ones(values.shape, dtype=bool) if labelled.valid is None else np.broadcast_to(labelled.valid,
                                                                                             values.shape)
    n = values.size
    if values.dtype == object:
        empty = np.frompyfunc(lambda v: v is None or (isinstance(v, float) and v != v), 1, 1)(values).astype(bool)
    else:
        empty = np.isnan(values) if values.dtype.kind == "f" else np.zeros(values.shape, dtype=bool)
    counts = f"{n:,} point{'s' if n != 1 else ''}"
    if not kept.all():
        counts = f"{int(kept.sum()):,} of {counts} valid"
    if empty.any():
        counts += f", {int(empty.sum()):,} empty"
    kept = kept & ~empty
    present = values[kept]
    flags = labelled.kind == "bool" or values.dtype.kind == "b" or (
        values.dtype == object and present.size > 0 and all(isinstance(v, (bool, np.bool_)) for v in present.tolist()))
    over = " over them" if kept.size and not kept.all() else ""
    summary = ""
    if flags:
        unit = "flags"
        summary = f"; True at {int(np.count_nonzero(present.astype(bool))):,}{' of them' if over else ''}"
    elif values.dtype.kind in "iuf" or (values.dtype == object and present.size == 0):
        unit = (f"{labelled.unit}, {'as shown' if labelled.display else 'SI'}" if labelled.unit
                else "no unit")
        finite = present[np.isfinite(present)] if values.dtype.kind in "iuf" else present[:0]
        if finite.size:
            low, high = f"{finite.min():.4g}", f"{finite.max():.4g}"
            summary = f"; {low if low == high else f'{low} to {high}'}{' ' + labelled.unit if labelled.unit else ''}"
            summary += over
    else:
        unit = "text"
    return f"<perfdsl array '{labelled.name}' [{unit}]: {axes}; {counts}{summary}>"


def describe_answer(answer: "Answer") -> str:
    """A short text for an Answer (answer_in_chunks) in a notebook or a REPL, as describe() for a Result."""
    rows = f"{answer.n_rows:,} row{'s' if answer.n_rows != 1 else ''} of {answer.n_points:,} points"
    warnings = f", {len(answer.warnings)} warning{'s' if len(answer.warnings) != 1 else ''}" if answer.warnings \
        else ""
    return f"<perfdsl Answer of report '{answer.report}': {rows}{warnings}; columns {', '.join(answer.keys)}>"
