"""Results of a report: shown cells as arrays over the sweep, flattened into records on demand.

Units, one convention: arrays are SI (`column()`, `array()`, `to_xarray()`; `display=True` where offered gives the
shown unit), tables are in the shown units with the unit in each key (`records()`, `table()`, `to_pandas()`):
`"prefill.runtime [ms]"`, `"batch"`, `"model"`. Records are the stable machine interface of
`perfdsl eval --format json`.
A report that asks a question (`where`, `best`, `pareto`, `largest`, `smallest`: queries.py) has one row per answer
instead of one per sweep point: `rows` says which points they are, and `column()`, `records()`, `table()` and
`to_pandas()` follow it; `array()` and `to_xarray()` stay over the whole sweep, and `to_xarray(answer=True)` gives the
answer over the question's `per` axes (notebook.answer_to_xarray). Units are written by their symbols (`B`, `GB/s`,
`FLOP/B`: units.si_unit_name), as the headers write them.

Points that break a `require` (dsl/constraints.py) are never shown as if valid: `valid` (the full sweep's shape) is
False there, and the rows leave them out, or, with the report option `invalid_points = "mark"`, keep them with the
columns `valid` and `violates` (in a report with constraints, whether or not a point breaks one); a question
considers valid points only. `all_points=True` gives every point of the sweep (what matching and the workbook align
with their own masks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import ir
from .hertz import ref_in_hertz
from .lazy_numpy import lazy_numpy
from .shown_axes import written_as_axis
from .units import DIMENSIONLESS, FREQUENCY, Dimension, parse_unit, si_unit_name, written_in_hertz

if TYPE_CHECKING:
    from .labelled import LabelledArray
    from .evaluator import Evaluator
    from .context import Axis, Coord, ReportContext

np = lazy_numpy(__name__)


def __getattr__(name: str):
    """`result.LabelledArray`, where it was defined: it is labelled.py's (a subclass of numpy's operator mixin, so
    defined where numpy is imported: `perfdsl check` imports this module and need not import numpy)."""
    if name == "LabelledArray":
        from .labelled import LabelledArray

        return LabelledArray
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def key_with_unit(name: str, unit: str) -> str:
    return f"{name} [{unit}]" if unit else name


@dataclass
class ShownColumn:
    name: str                # the show item's name (its `as` label, or the dotted cell)
    ref: str                 # the dotted cell, e.g. "prefill.runtime"
    kind: str                # "num" | "bool" | "str"
    dim: Dimension | None
    unit: str                # display unit text ("" for plain counts, strings and booleans)
    scale: float             # SI value / scale = display value
    array: np.ndarray        # broadcastable to the report's shape, SI
    item: ir.ShowItem
    hertz: bool = False      # a quantity per second that is a clock: SI unit Hz, not 1/s (hertz.py)
    # The report's own axis this column shows (`show a` over `sweep a = ...`): it is written as that axis's column,
    # not a second time among the shown cells (shown_axes.py), and has the axis's display unit.
    axis: str | None = None

    @classmethod
    def make(cls, item: ir.ShowItem, vtype, array: np.ndarray, checker=None, report=None,
             ctx: "ReportContext | None" = None) -> "ShownColumn":
        """The column of show item `item` of type `vtype` (its values `array`, SI); with `checker` (the report's
        Checker) and `report` (its Block), a quantity per second whose cell says Hz is a clock, shown in Hz, and any
        other in 1/s (hertz.ref_in_hertz). With `ctx` (the report's context), an item that shows the report's own
        axis is that axis's column (`axis` set, the axis's unit: shown_axes.written_as_axis)."""
        kind = vtype.kind if vtype.kind in ("num", "bool", "str") else "num"
        dim = vtype.dim if kind == "num" else None
        coord = written_as_axis(ctx, item) if ctx is not None else None
        if coord is not None:
            unit, scale = (coord.unit, coord.scale) if kind == "num" else ("", 1.0)
            return cls(item.name, item.ref.dotted, kind, dim, unit, scale, array, item,
                       kind == "num" and written_in_hertz(coord.unit), axis=coord.name)
        hertz = dim == FREQUENCY and checker is not None and ref_in_hertz(item.ref, report, checker.blocks,
                                                                         checker.link, checker.types)
        if item.unit:
            unit = parse_unit(item.unit)
            text, scale = item.unit, unit.scale
        elif kind == "num" and dim is not None and dim != DIMENSIONLESS:
            text, scale = si_unit_name(dim, hertz), 1.0
        else:
            text, scale = "", 1.0
        return cls(item.name, item.ref.dotted, kind, dim, text, scale, array, item, hertz)

    @property
    def key(self) -> str:
        return key_with_unit(self.name, self.unit)

    @property
    def si_unit(self) -> str:
        """The SI unit of the column's values (`array`): "" for a plain count, a string or a boolean."""
        return si_unit_name(self.dim, self.hertz) if self.kind == "num" and self.dim not in (None, DIMENSIONLESS) \
            else ""


@dataclass
class Rows:
    """The rows of a result that are not simply its sweep points: flat sweep indices, one per row, in output order.

    A question's answer (queries.py), or the valid points where constraints leave some out. A row that stands for a
    group with no answer (`missing`) points at the group's first sweep point, so the kept axes (`kept_axes`) show
    the group, and every other value of the row is left empty (NaN or None)."""

    index: np.ndarray                          # (rows,) int64
    missing: np.ndarray                        # (rows,) bool
    kept_axes: frozenset[int] = frozenset()
    summary: str = ""                          # one line for notes: the question and what it found
    # A missing row's flat index -> why its group has no answer, where known (no_answer.why_line)
    reasons: dict = field(default_factory=dict, compare=False)
    _positions: dict = field(default_factory=dict, compare=False, repr=False)   # shape -> unravelled index

    def __len__(self) -> int:
        return len(self.index)

    def pick(self, flat: np.ndarray, axis: int | None = None) -> np.ndarray:
        """One value per row from a flat array with one value per sweep point."""
        return self._blank_missing(flat[self.index], axis)

    def pick_over(self, array: np.ndarray, shape: tuple[int, ...], axis: int | None = None) -> np.ndarray:
        """pick() of an array over the sweep (broadcastable to `shape`), read at the rows' positions without
        flattening it first: a cell that varies along few axes is not copied out to every point of a chunk to give
        a few hundred rows."""
        positions = self._positions.get(shape)
        if positions is None:
            positions = self._positions[shape] = np.unravel_index(self.index, shape)
        return self._blank_missing(np.broadcast_to(array, shape)[positions], axis)

    def _blank_missing(self, values: np.ndarray, axis: int | None) -> np.ndarray:
        if axis in self.kept_axes or not self.missing.any():
            return values
        if values.dtype.kind == "f":
            values = values.copy()
            values[self.missing] = np.nan
        else:
            values = values.astype(object)
            values[self.missing] = None
        return values


class Result:
    def __init__(self, program, ctx: "ReportContext", columns: list[ShownColumn], warnings,
                 evaluator: "Evaluator"):
        self.program = program
        self.ctx = ctx
        self.columns = columns
        self.warnings = warnings
        self.evaluator = evaluator
        self.rows: Rows | None = None     # which points the rows are; None: one row per sweep point
        self.valid = np.ones(ctx.shape, dtype=bool)     # full sweep shape: True where every constraint holds
        self.violations: list = []                        # constraints.Violation, one per broken constraint
        self.invalid_points = "omit"
        # Under "mark", the valid and violates columns where the report has constraints (Program.evaluate_in sets
        # it), whether or not a point breaks one, so that every chunk of a streamed sweep, and the whole, has the same
        # columns: a reader's code does not see columns come and go with the data.
        self.always_mark = False

    def set_validity(self, valid: np.ndarray, violations: list, mode: str) -> None:
        """Record which points meet every constraint (`valid`, the full sweep's shape) and what the report does
        with the others (`mode`: the report option `invalid_points`, "omit" or "mark"). Under "omit", the rows are
        the valid points."""
        self.valid = np.asarray(valid, dtype=bool).reshape(self.shape)
        self.violations = list(violations)
        self.invalid_points = mode
        if mode == "omit" and not self.valid.all():
            index = np.flatnonzero(self.valid.reshape(-1))
            self.rows = Rows(index=index, missing=np.zeros(len(index), dtype=bool),
                             summary=f"{len(index):,} of {self.n_points:,} sweep points meet every constraint")

    @property
    def report(self) -> str:
        return self.ctx.report.name

    @property
    def shape(self) -> tuple[int, ...]:
        return self.ctx.shape

    @property
    def n_points(self) -> int:
        return self.ctx.n_points

    @property
    def n_rows(self) -> int:
        """Rows of records() and table(): the sweep points, or the answers to the report's question."""
        return self.n_points if self.rows is None else len(self.rows)

    @property
    def axes(self):
        return self.ctx.axes

    def _column(self, name: str) -> "ShownColumn | SweptName":
        """What `name` names (find_column); the report's own axis shown (`show a`: ShownColumn.axis) is read as
        that axis, its column in records(): integers where the axis is written so, as records() and to_pandas()
        give them, not the floats the shown cell's array holds."""
        found = find_column(self.columns, name, self.report, self.axes)
        if isinstance(found, ShownColumn) and found.axis is not None:
            return next(SweptName(axis, coord) for axis in self.axes for coord in axis.coords
                        if coord.name == found.axis)
        return found

    def column(self, name: str, all_points: bool = False, display: bool = False) -> np.ndarray:
        """A shown cell, or a swept name (an axis's coordinate: `batch`, `model`), as a flat array in SI (with
        `display`, in the unit the report shows it in, as array() and to_xarray() take it), one value
        per row of records() (per sweep point with all_points), which may be a read-only view of the result's own
        array (copy it to write to it); a swept name is read by its records() key too
        ("prefill_len", "ctx [ms]"), and the report's own axis shown (`show batch`) as that axis. Integers where the
        axis is written so (int64, as records()), block names for a swept role; empty in a
        row of a group with no answer, as a shown cell (NaN in floats, else None), but for the question's `per`
        axes. Raises perfdsl.UsageError (a KeyError too: find_column) for a name the report neither shows nor
        sweeps."""
        if display:
            return self.display_column(name, all_points)
        found = self._column(name)
        if isinstance(found, SweptName):
            return self._swept_rows(found, si=True, all_points=all_points)
        return self.flat(found.array, self._axis_of(found), all_points=all_points)

    def _axis_of(self, column: ShownColumn) -> int | None:
        """The index of the report's own axis a shown column is (`show a` over `sweep a`: ShownColumn.axis), whose
        value a row of a group with no answer keeps where the question keeps the axis (`per a`), as its axis column
        in records() does; None for any other column."""
        if column.axis is None:
            return None
        return next((axis.index for axis in self.axes if any(c.name == column.axis for c in axis.coords)), None)

    def _swept_rows(self, swept: "SweptName", si: bool, all_points: bool = False) -> np.ndarray:
        if self.rows is None or all_points:
            return coord_values(swept.coord, swept.axis.index, self.shape, None, si=si)
        return coord_values(swept.coord, swept.axis.index, self.shape,
                            row_positions(self.rows, self.shape, swept.axis.index), self.rows.missing,
                            self.rows.kept_axes, si=si)

    def flat(self, array: np.ndarray, axis: int | None = None, all_points: bool = False) -> np.ndarray:
        """An array over the sweep (broadcastable to `shape`) as one value per row, in the order of records().
        `axis`: the array is that axis's coordinate (kept on a row that stands for a group with no answer)."""
        if self.rows is None or all_points or not self.shape:
            return self.pick(np.broadcast_to(self._ranked(array), self.shape).reshape(-1), axis, all_points)
        return self.rows.pick_over(self._ranked(array), self.shape, axis)

    def pick(self, flat: np.ndarray, axis: int | None = None, all_points: bool = False) -> np.ndarray:
        """A flat array with one value per sweep point as one value per row (itself where the rows are the points,
        or with all_points)."""
        return flat if self.rows is None or all_points else self.rows.pick(flat, axis)

    def display_column(self, name: str, all_points: bool = False) -> np.ndarray:
        """column() in the unit the report shows it in (a swept name in its axis's unit: records()' values)."""
        found = self._column(name)
        if isinstance(found, SweptName):
            return self._swept_rows(found, si=False, all_points=all_points)
        return self._display_values(found, all_points)

    def _display_values(self, column: ShownColumn, all_points: bool = False) -> np.ndarray:
        flat = self.flat(column.array, self._axis_of(column), all_points=all_points)
        return flat / column.scale if column.kind == "num" else flat

    def _ranked(self, array: np.ndarray) -> np.ndarray:
        return self.evaluator._rank(array)

    def axis_columns(self, all_points: bool = False) -> dict[str, np.ndarray]:
        """The coordinates of every row (every sweep point with all_points), flat, in display units, keyed like
        records()."""
        if self.rows is None or all_points:
            return coord_columns(self.ctx, None)
        return coord_columns(self.ctx, self.rows.index, self.rows.missing, self.rows.kept_axes)

    def table(self, all_points: bool = False) -> tuple[list[str], list[np.ndarray]]:
        """Header keys and flat columns (axes first, then shown cells but those that show an axis: it is their column,
        shown_axes.py), in display units; with
        `invalid_points = "mark"` in a report with constraints (some point broken or none: always_mark), then
        `valid` and `violates` (the broken constraints' messages, joined by "; ", "" where none)."""
        axes = self.axis_columns(all_points)
        cells = [c for c in self.columns if c.axis is None]     # a shown axis is its axis's column (shown_axes.py)
        keys = list(axes) + [c.key for c in cells]
        # By column, not by name: a report may show one cell twice, in two units.
        values = list(axes.values()) + [self._display_values(c, all_points) for c in cells]
        if self.invalid_points == "mark" and (self.violations or self.always_mark):
            keys += ["valid", "violates"]
            values += [self.pick(self.valid.reshape(-1), all_points=all_points),
                       self.pick(self.violates(), all_points=all_points)]
        return keys, values

    def violates(self) -> np.ndarray:
        """Per sweep point (flat), the messages of the constraints it breaks ("" where none)."""
        texts = np.full(self.n_points, "", dtype=object)
        for violation in self.violations:
            broken = np.broadcast_to(violation.broken, self.shape).reshape(-1)
            texts[broken] = [text + "; " + violation.message if text else violation.message
                             for text in texts[broken].tolist()]
        return texts

    def records(self) -> list[dict]:
        keys, values = self.table()
        lists = [_python_list(v) for v in values]
        return [dict(zip(keys, row)) for row in zip(*lists)]

    def array(self, name: str, display: bool = False) -> "LabelledArray":
        """A shown cell over the whole sweep (before any question of the report), with its axes: in SI like
        column() (`unit` names the SI unit), or with `display` in the unit the report shows it in. Every point
        has its value, a point a `require` refuses too (`valid` is False there; to_xarray() empties them).
        `values` is a read-only view (broadcast over the sweep): copy it to write to it. LabelledArray: `values`
        (the sweep's shape), `dims`, `coords`, `valid`; np.asarray() of it is `values`.
        A swept name (`batch`, `model`) gives its coordinate broadcast over the sweep (`unit` its SI unit, or its
        axis's shown unit with `display`), so that `r.array("tpot") * r.array("batch")` lines up point by point.
        Raises perfdsl.UsageError (a KeyError too) for a name the report neither shows nor sweeps."""
        from .labelled import LabelledArray

        found = self._column(name)
        if isinstance(found, SweptName):
            coord, axis = found.coord, found.axis
            values = coord_si(coord) if not display else coord.output_values()
            view = [1] * len(self.shape)
            view[axis.index] = len(values)
            full = np.broadcast_to(values.reshape(view), self.shape)
            coords = {c.name: c.output_values() for a in self.axes for c in a.coords}
            return LabelledArray(coord.name, coord.unit if display else coord_si_unit(coord), full,
                                 tuple(a.name for a in self.axes), coords, self.valid,
                                 display=display and coord.kind == "num", kind=coord_kind(coord))
        return self.array_of(found, display)

    def array_of(self, column: ShownColumn, display: bool = False) -> "LabelledArray":
        """array() of one of self.columns, by the column: a cell shown twice (`show mem in MB, mem in KiB`) has two
        columns of one name, which array(name) cannot tell apart (the first)."""
        from .labelled import LabelledArray

        full = np.broadcast_to(self._ranked(column.array), self.shape)
        if display or column.kind != "num":
            values, unit = (full / column.scale if column.kind == "num" else full), column.unit
        else:
            values, unit = full, column.si_unit
        coords = {coord.name: coord.output_values() for axis in self.axes for coord in axis.coords}
        return LabelledArray(column.name, unit, values, tuple(a.name for a in self.axes), coords, self.valid,
                             display=display and column.kind == "num", kind=column.kind)

    def to_pandas(self):
        """The rows of records() as a pandas DataFrame (display units in the column names, as in CSV output).
        A group with no answer leaves its row empty: Int64 and boolean columns with <NA>, NaN in floats
        (notebook.frame_column). Needs pandas (the extra `notebook`: extras.install_hint)."""
        from .notebook import to_pandas

        return to_pandas(self)

    def to_xarray(self, display: bool = False, keep_invalid: bool = False, answer: bool = False):
        """The shown cells over the whole sweep as an xarray Dataset: the report's axes as dimensions, each axis's
        coordinates along its dimension, values in SI (or, with `display`, in the shown units), units in each
        variable's attributes. Points that break a `require` are emptied, as the rows leave them out, with a `valid`
        variable: NaN in numbers and in flags (a flag variable with an emptied point is float64, 1.0/0.0/NaN; bool
        where none is), NaN in text too (an object array: notebook._emptied); `keep_invalid` (or
        `invalid_points = "mark"`) keeps their values.

        Of a report with a question (best, largest, smallest) too this is the whole sweep, as array() is, not the
        answer's rows: `answer=True` gives the answer over the question's group axes instead
        (notebook.answer_to_xarray, as streaming.Answer.to_xarray: `keep_invalid` plays no part, a question
        considers valid points only), and to_pandas() its rows. answer=True raises ValueError for a pareto front
        (several rows per group) and for a report without a question. Needs xarray (the extra `notebook`:
        extras.install_hint)."""
        from .notebook import answer_to_xarray, to_xarray

        return answer_to_xarray(self, display) if answer else to_xarray(self, display, keep_invalid)

    def __repr__(self) -> str:
        from .notebook import describe

        return describe(self)


@dataclass(frozen=True)
class SweptName:
    """A swept name find_column found where no shown column has it: an axis's coordinate (`batch`, `model`),
    which column() and array() read as the rows and to_xarray() have it."""

    axis: "Axis"
    coord: "Coord"

    @property
    def name(self) -> str:
        return self.coord.name

    @property
    def key(self) -> str:
        return coord_key(self.coord)


def find_column(columns: list[ShownColumn], name: str, report: str, axes=()) -> "ShownColumn | SweptName":
    """The first column `name` names: its label (`as`), the dotted cell it shows, or its key with the unit
    ("serving.tpot [ms]"); else, among `axes` (the report's: context.Axis), the swept name it names by its name or
    its records() key ("batch", "ctx [ms]"): a SweptName. Raises errors.UnknownColumn (a UsageError that is also a
    KeyError) otherwise, saying what the report shows (each label with the cell behind it) and its swept names,
    with a help line naming the closest names (errors.did_you_mean over the labels, cells and swept names, or over
    the keys for a name with a unit). The one lookup of Result.column/array/display_column and of
    streaming.Answer's column and array."""
    for column in columns:
        if name in (column.name, column.ref, column.key):
            return column
    coords = [(axis, coord) for axis in axes for coord in axis.coords]
    for axis, coord in coords:
        if name in (coord.name, coord_key(coord)):
            return SweptName(axis, coord)
    from .errors import UnknownColumn, did_you_mean, error

    # A name with a unit ("tpot [s]") is closest to a key; else to a label or a cell (not to both it and its key).
    names = list(dict.fromkeys([*(n for c in columns for n in ((c.key,) if "[" in name else (c.name, c.ref))),
                                *(coord_key(coord) if "[" in name else coord.name for _, coord in coords)]))
    known = ", ".join(dict.fromkeys(c.name if c.name == c.ref else f"{c.name} ({c.ref})" for c in columns))
    swept = ", ".join(dict.fromkeys(coord.name for _, coord in coords))
    if swept:
        known = f"{known or 'nothing'}; and sweeps: {swept}"
    raise UnknownColumn(error("unknown-column", f"report '{report}' shows no cell '{name}' (it shows: "
                              f"{known or 'nothing'})", hints=did_you_mean(name, names)))


def coord_key(coord: "Coord") -> str:
    """A swept name's key in records() and CSV: with its axis's unit where it is a number ("ctx [ms]")."""
    return key_with_unit(coord.name, coord.unit if coord.kind == "num" else "")


def coord_si(coord: "Coord") -> np.ndarray:
    """A swept name's values along its axis as column() and array() give them: numbers in SI (int64 where the axis
    is written as integers, which have no unit), block names for a role, text and flags as they are."""
    return coord.output_values() if coord.kind != "num" or coord.integral else np.asarray(coord.values)


def coord_si_unit(coord: "Coord") -> str:
    """The SI unit of coord_si(): "" for a plain count, text, a flag or a role."""
    if coord.kind != "num" or coord.dim is None or coord.dim == DIMENSIONLESS:
        return ""
    return si_unit_name(coord.dim, written_in_hertz(coord.unit))


def coord_kind(coord: "Coord") -> str:
    """A swept name's kind as a ShownColumn's (`num`, `bool`, `str`): a role's values are block names, text."""
    return coord.kind if coord.kind in ("num", "bool") else "str"


def _python_list(values: np.ndarray) -> list:
    if values.dtype.kind == "f":
        return [None if not np.isfinite(v) else float(v) for v in values.tolist()] if not np.isfinite(
            values).all() else values.tolist()
    return values.tolist()


def coord_columns(ctx: "ReportContext", index: np.ndarray | None, missing: np.ndarray | None = None,
                  kept: frozenset[int] = frozenset()) -> dict[str, np.ndarray]:
    """The coordinates of sweep points in display units, keyed like records(): of every point in row order
    (`index` None), or of the points at flat sweep indices `index`. Where `missing` marks a row that stands for a
    group with no answer, only its `kept` axes have values (the others are NaN or None)."""
    positions = np.unravel_index(index, ctx.shape) if index is not None and ctx.shape else None
    return {coord_key(coord): coord_values(coord, axis.index, ctx.shape, None if positions is None else
                                           positions[axis.index], missing, kept)
            for axis in ctx.axes for coord in axis.coords}


def row_positions(rows: "Rows", shape: tuple[int, ...], axis_index: int) -> np.ndarray:
    """The rows' positions along one axis of the sweep (`shape`)."""
    return np.unravel_index(rows.index, shape)[axis_index]


def coord_values(coord: "Coord", axis_index: int, shape: tuple[int, ...], at: np.ndarray | None,
                 missing: np.ndarray | None = None, kept: frozenset[int] = frozenset(), si: bool = False) -> np.ndarray:
    """One swept name's value per row (see coord_columns), in its axis's shown unit, or with `si` in SI
    (coord_si): of every sweep point (`at` None), or of the rows at positions `at` along its axis."""
    values = coord_si(coord) if si else coord.output_values()   # integers or not as the whole axis is
    if at is None:
        view_shape = [1] * len(shape)
        view_shape[axis_index] = len(values)
        return np.broadcast_to(values.reshape(view_shape), shape).reshape(-1)
    flat = values[at]
    if missing is not None and axis_index not in kept and missing.any():
        flat = flat.copy() if flat.dtype.kind == "f" else flat.astype(object)   # as Rows.pick
        flat[missing] = np.nan if flat.dtype.kind == "f" else None
    return flat
