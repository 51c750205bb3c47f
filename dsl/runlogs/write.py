"""Writing records as perfdsl's own run log: CSV with units in the header, or JSON Lines; always atomically.

Columns: the identity (model, hardware, n_gpus, batch, seq_len, output_len, tokens, precision, parallelism,
backend first, then any other identifying field), then one `name [unit]` column per metric, then `source` (where
each row came from; read back into `extra`, never used for matching). A record without a field of a column gets
`NA` there (not measured / not known; the readers skip it silently, unlike an empty cell). A metric's column uses the unit the logs
wrote it in when every record agrees, otherwise the SI unit. `extra` is not written: it is for inspection.
A file is written to a temporary file in the same folder and moved over the target (os.replace), so a reader never
sees half a file and a failed write leaves the old file as it was (output.atomic_output); it gets the user's
usual mode (the umask) and '\n' line ends. Text that a spreadsheet would run as a formula gets a leading `'`
(output.neutralise); the readers take it off again.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Iterable

from ..errors import Diagnostic, PerfError
from ..output import atomic_output, neutralise
from ..units import DIMENSIONLESS, Dimension, UnitError, parse_unit, si_unit_name
from .columns import NOT_AVAILABLE, SOURCE_COLUMN
from .records import IDENTITY_ORDER, Measurement, RunRecord


def display_unit(dim: Dimension, units: set[str]) -> str:
    """The one unit text to write values of `dim` in: the logs' own when they agree and it parses, else SI."""
    if len(units) == 1:
        unit = next(iter(units))
        try:
            if parse_unit(unit).dim == dim:
                return unit
        except UnitError:
            pass
    if dim == DIMENSIONLESS:
        return "count"
    return si_unit_name(dim)


def number_text(measurement: Measurement, unit: str) -> float:
    """The measurement's value in `unit` (SI value / the unit's scale), rounded to 12 significant digits so that the
    text written is short and reads back to the same value. Returns a float, not text. Raises UnitError for a unit
    that does not parse."""
    return float(format(measurement.value / parse_unit(unit).scale, ".12g"))


def identity_columns(records: list[RunRecord]) -> list[str]:
    """The identifying columns of `records`: the fields of IDENTITY_ORDER the records have, in that order, then every
    other identifying field in the order first seen."""
    seen = [k for r in records for k in r.identity]
    ordered = [k for k in IDENTITY_ORDER if k in seen]
    return ordered + [k for k in dict.fromkeys(seen) if k not in ordered]


def metric_columns(records: list[RunRecord]) -> dict[str, str]:
    """metric name -> unit to write it in; a metric whose dimension differs between records is an error."""
    dims: dict[str, Dimension] = {}
    first: dict[str, str] = {}
    units: dict[str, set[str]] = {}
    for record in records:
        for name, measurement in record.metrics.items():
            first.setdefault(name, record.source)
            if dims.setdefault(name, measurement.dim) != measurement.dim:
                raise PerfError(Diagnostic("mixed-dimensions", f"metric '{name}' is {dims[name]} in {first[name]} "
                                           f"and {measurement.dim} in {record.source}; it cannot be one column",
                                           hints=["write these logs to separate files"]))
            units.setdefault(name, set()).add(measurement.unit)
    return {name: display_unit(dims[name], units[name]) for name in dims}


def write_atomically(path: Path | str, write) -> None:
    """Write `path` through `write(stream)` (a text stream) into a temporary file moved over `path` when done
    (output.atomic_output): a reader never sees half a file, and a failed write leaves the old file. Raises UsageError
    (exit 2) where the target is a folder or cannot be replaced, OSError where its folder cannot be written."""
    with atomic_output(path) as stream:
        write(stream)


def refuse_column_clash(records: list[RunRecord], identity, metrics) -> None:
    """Raise PerfError (exit 1, column-clash) where a name is both an identifying field and a metric among `records`:
    a reader could not tell which the column (CSV) or key (JSON Lines: `name` beside `name [unit]`) is."""
    clash = set(identity) & set(metrics)
    if clash:
        name = sorted(clash)[0]
        as_field = next(r.source for r in records if name in r.identity)
        as_metric = next(r.source for r in records if name in r.metrics)
        raise PerfError(Diagnostic("column-clash", f"'{name}' is an identifying field in {as_field} and a metric in "
                                   f"{as_metric}; one column cannot be both",
                                   hints=["side metadata gives identifying fields (model, hardware, batch, ...): "
                                          f"remove '{name}' from it, or write these logs to separate files"]))


def write_runs_csv(records: Iterable[RunRecord], path: Path | str) -> None:
    """Write `records` to `path` as a perfdsl CSV run log: identity columns, one `name [unit]` column per metric (values
    in the logs' common unit, else SI; NA where a record has none), then `source`. Raises PerfError (exit 1) for a
    metric whose dimension differs between records (mixed-dimensions) or a name that is both an identifying field and
    a metric (column-clash), and write_atomically's errors."""
    records = list(records)
    identity = identity_columns(records)
    metrics = metric_columns(records)
    refuse_column_clash(records, identity, metrics)
    header = identity + [f"{name} [{unit}]" for name, unit in metrics.items()] + [SOURCE_COLUMN]

    def write(stream):
        # '\n' line ends, like every other text file perfdsl writes. Python 3.11's csv quotes a field holding a
        # lone '\r' only when '\r' is in the line terminator, so a row with one is written fully quoted.
        writer = csv.writer(stream, lineterminator="\n")
        quoted = csv.writer(stream, lineterminator="\n", quoting=csv.QUOTE_ALL)
        (quoted if any("\r" in name for name in header) else writer).writerow([neutralise(name) for name in header])
        for record in records:
            row = [neutralise(record.identity.get(k, NOT_AVAILABLE)) for k in identity]
            row += [number_text(record.metrics[m], u) if m in record.metrics else NOT_AVAILABLE
                    for m, u in metrics.items()]
            row.append(neutralise(record.source))
            (quoted if any(isinstance(v, str) and "\r" in v for v in row) else writer).writerow(row)

    write_atomically(path, write)


def write_runs_jsonl(records: Iterable[RunRecord], path: Path | str) -> None:
    """Write `records` to `path` as perfdsl JSON Lines, one object per record: identifying fields, `name [unit]` keys
    for the metrics (each in its own log's unit where it parses with the right dimension, else SI), and `source`.
    Raises PerfError (exit 1) for a name that is both an identifying field and a metric (column-clash), and
    write_atomically's errors."""
    records = list(records)
    refuse_column_clash(records, {key for r in records for key in r.identity},
                        {name for r in records for name in r.metrics})

    def write(stream):
        for record in records:
            line = {neutralise(key): neutralise(value) for key, value in record.identity.items()}
            for name, measurement in record.metrics.items():
                unit = display_unit(measurement.dim, {measurement.unit})
                line[neutralise(f"{name} [{unit}]")] = number_text(measurement, unit)
            line[SOURCE_COLUMN] = neutralise(record.source)
            stream.write(json.dumps(line, ensure_ascii=False) + "\n")

    write_atomically(path, write)
