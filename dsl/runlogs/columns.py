"""perfdsl's column headers: `name [unit]` is a quantity, a bare `name` identifies the run.

Shared by the CSV and the JSON Lines readers (a JSON Lines key is written like a CSV header) and by the writers.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..errors import Location
from ..output import restore
from ..units import BYTES, ENERGY, POWER, TIME, Dimension, Unit, UnitError, parse_unit
from .records import INT_FIELDS, int_identity, warning

_QUANTITY = re.compile(r"^\s*(?P<name>[^\[\]]*?)\s*\[(?P<unit>[^\[\]]*)\]\s*$")

# A column that records where a row came from (written by `perfdsl ingest`); kept in `extra`, not in the identity,
# so that matching never compares file names.
SOURCE_COLUMN = "source"

# A cell holding NA says "this run has no value here" (not measured, or not known): the field is left out without a
# warning. The writer uses it where records of different logs share a file; an EMPTY cell is still reported, since
# in a hand-written log it is more often a slip than a statement.
NOT_AVAILABLE = "NA"


@dataclass(frozen=True)
class Column:
    """One column of a perfdsl log: its header as written, the name of the metric or identifying field, the unit of a
    quantity (None for an identifying column), and where the unit starts in the header (0-based offset)."""

    header: str  # as written
    name: str  # the metric or identity name
    unit: Unit | None  # None for an identifying column
    unit_start: int = 0  # offset of the unit text inside `header` (for a caret under it)

    @property
    def is_quantity(self) -> bool:
        """True for a quantity column (`name [unit]`), False for an identifying one."""
        return self.unit is not None


class ColumnError(ValueError):
    """A header that cannot be used; `start`/`end` are offsets inside the header text for the caret."""

    def __init__(self, code: str, message: str, start: int, end: int, hint: str | None = None):
        super().__init__(message)
        self.code, self.message, self.start, self.end, self.hint = code, message, start, end, hint


def parse_column(header: str) -> Column:
    """The column a header names: `runtime [ms]` is a quantity in ms, a bare `model` identifies the run (a leading `'`
    that the writer put before formula-like text is taken off). Raises ColumnError (a ValueError, with offsets for the
    caret) for an empty name, a header that is not `name [unit]`, or a unit that does not parse."""
    header = restore(header)                     # a `'` we put before a header that reads as a formula
    if "[" not in header and "]" not in header:
        name = header.strip()
        if not name:
            raise ColumnError("empty-column-name", "a column has no name", 0, max(len(header), 1),
                              "name every column, e.g. 'model' or 'runtime [ms]'")
        return Column(header, name, None)
    match = _QUANTITY.match(header)
    if not match:
        raise ColumnError("malformed-column", f"cannot read column header '{header}'", 0, len(header),
                          "write a quantity column as 'name [unit]', e.g. 'runtime [ms]'")
    name, unit_text = match.group("name"), match.group("unit").strip()
    start = match.start("unit")
    if not name:
        raise ColumnError("empty-column-name", f"column '{header}' has a unit but no name", 0, len(header),
                          "write a quantity column as 'name [unit]', e.g. 'runtime [ms]'")
    try:
        unit = parse_unit(unit_text)
    except UnitError as exc:
        raise ColumnError(exc.code, f"{exc.message} in column '{header}'", start,
                          start + max(len(match.group("unit")), 1), exc.hint) from None
    return Column(header, name, unit, start)


def parse_quantity(text: str) -> float | None:
    """A finite number from a cell ("693.77", " 1e3 "), or None."""
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


# What a quantity of each dimension is called in a warning; any other dimension is "a quantity in DIM".
def not_finite(value: object) -> bool:
    """Whether a cell or JSON value is a number that is not finite: 'inf', '-inf', 'nan' (any case, as Python's float
    reads them; perfdsl's own CSV writes an estimate that is not finite as inf), or a JSON Infinity / NaN. Such a
    value is read, and reported as not finite (never 'cannot read'), not used as a measurement."""
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, str):
        try:
            return not math.isfinite(float(value.strip()))
        except ValueError:
            return False
    return False


NOT_FINITE_HINT = ("a measurement is a finite number: perfdsl writes an estimate that is not finite (a division by "
                   "zero) as inf, which no run measures; write NA where a run has no value")

MAGNITUDE_HINT = "a duration, memory size, energy, power or throughput is greater than 0: fix the value, or write NA " \
    "where the run has no value"
_KINDS = {TIME: "a duration", BYTES: "a memory size", ENERGY: "an energy", POWER: "a power"}


def magnitude_problem(value: float, unit: Unit | Dimension) -> str | None:
    """Why `value` (as written in `unit`, or in SI with its dimension) cannot be a measurement, or None where it can.

    Every base dimension counts something that a run spends or moves (seconds, bytes, FLOPs, tokens, joules,
    requests), so a quantity with a dimension (a duration, a memory size, an energy, a power, a throughput) is a
    magnitude greater than 0: a negative value is a slip (a sign, a difference taken the wrong way), and 0 is not
    the measurement of a run that ran (a log writes 0 where a counter or sensor gave nothing) and leaves the
    relative error undefined. Dimensionless columns (counts, ratios, %) are not judged. Nor is a value that is not
    finite once in SI (written in GB near the largest float), whatever its dimension."""
    dim = unit.dim if isinstance(unit, Unit) else unit
    if not math.isfinite(value * (unit.scale if isinstance(unit, Unit) else 1.0)):
        # 1.797693134862316e+299 GB is 1.8e308 B, past the largest float: inf in SI, which no run measures
        return "not finite in SI units (past the largest number a float holds, about 1.8e308)"
    if dim.is_dimensionless or value > 0:
        return None
    what = kind_of(dim)
    if value < 0:
        return f"{what} cannot be negative"
    return f"{what} of 0 is not a measurement"


def kind_of(dim: Dimension) -> str:
    """What a quantity of `dim` is called in a warning: "a duration", "a memory size", "an energy", "a power",
    "a throughput" (anything per second), else "a quantity in DIM"."""
    if dim in _KINDS:
        return _KINDS[dim]
    if dim.exponents[0] == -1:
        return "a throughput"
    from ..units import dimension_name

    return f"a quantity in {dimension_name(dim)}"


def identity_value(name: str, value: object) -> tuple[object | None, str | None]:
    """The identity value to keep (ints for counts, text as written otherwise) or (None, reason)."""
    if name in INT_FIELDS:
        number = int_identity(value)
        if number is None:
            return None, f"'{name}' must be a whole number"
        return number, None
    if isinstance(value, str):
        return restore(value), None              # a `'` we put before formula text is taken off
    if isinstance(value, float) and not math.isfinite(value):
        return None, f"'{name}' must be text or a finite number"
    if isinstance(value, (int, float, bool)):
        return value, None
    return None, f"'{name}' must be text or a number"


def settle_row(found: list, bad_identity: list[str], no_metric_left: bool, row_number: int, problems: list,
               location=None, source_line: str | None = None) -> bool:
    """Report a row's problems with what became of the row; True when the row is kept.

    A row whose identifying value cannot be read is skipped (a run that cannot be identified cannot be matched),
    as is a row with no metric left; otherwise the row is kept without its unreadable metrics.
    `found` holds (column, diagnostic) pairs of the row. No row is skipped without a warning: one whose quantities
    are all NA gets its own, at `location`.
    """
    if no_metric_left and not found and location is not None:
        problems.append(warning("no-measurement", f"row {row_number} has no measured value (every quantity is "
                                f"{NOT_AVAILABLE}); row {row_number} skipped", location, source_line=source_line))
        return False
    for column, diagnostic in found:
        if bad_identity:
            names = ", ".join(f"'{n}'" for n in bad_identity)
            diagnostic.notes.append(f"row {row_number} skipped: a run without {names} cannot be matched")
        elif no_metric_left:
            diagnostic.notes.append(f"row {row_number} skipped: none of its metrics could be read")
        else:
            diagnostic.notes.append(f"row {row_number} is kept without '{column.name}'")
        problems.append(diagnostic)
    return not (bad_identity or no_metric_left)


def drop_non_magnitudes(record, path: str) -> list:
    """Take out of `record` the metrics that cannot be measurements (magnitude_problem: a negative or zero duration,
    memory size, energy, power or throughput), each with a bad-value warning located at the log and the record's
    place in it. For the formats whose readers do not check each cell (perfdsl's CSV and JSON Lines do, with the
    column), and for values from side metadata."""
    problems = []
    for name, measurement in list(record.metrics.items()):
        problem = magnitude_problem(measurement.value, measurement.dim)
        if problem is None:
            continue
        del record.metrics[name]
        try:
            written = measurement.value / parse_unit(measurement.unit).scale
        except UnitError:
            written = measurement.value
        place = record.source[len(path) + 1:] if record.source.startswith(path + ":") else ""
        detail = f"metric '{name}'" if place in ("", "$", "report") else f"{place}, metric '{name}'"
        problems.append(warning("bad-value", f"'{name}' is {written:g} {measurement.unit}: {problem}; not used",
                                Location(path, detail=detail), hints=[MAGNITUDE_HINT]))
    return problems
