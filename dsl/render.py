"""Output formats of `perfdsl eval`: an aligned table for the terminal, CSV and JSON.

CSV headers carry units in brackets, like perfdsl's run logs (`prefill.runtime [ms]`), so an evaluation can be read
back as a log. JSON is an array of records (one per sweep point); `jsonl` writes one record per line.
Text in the CSV and JSON Lines that a spreadsheet would run as a formula gets a leading `'` (output.neutralise).
"""

from __future__ import annotations

import csv
import json
import math
import re
from typing import Callable, TextIO

from .lazy_numpy import lazy_numpy
from .output import neutralise

np = lazy_numpy(__name__)

TABLE_ROW_LIMIT = 200


def format_number(value, digits: int = 5) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "0"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    magnitude = abs(value)
    if 1e-4 <= magnitude < 1e9:
        text = f"{value:.{digits}g}"
        return text
    return f"{value:.{digits - 1}e}"


def _row_iter(keys: list[str], columns: list[np.ndarray]):
    lists = [c.tolist() for c in columns]
    return zip(*lists)


def write_table(keys: list[str], columns: list[np.ndarray], out: TextIO, limit: int = TABLE_ROW_LIMIT) -> int:
    """An aligned text table; at most `limit` rows. Returns the number of rows left out."""
    total = len(columns[0]) if columns else 0
    shown = min(total, limit)
    cells = [[_table_cell(v) for v in column[:shown].tolist()] for column in columns]
    numeric = [_numeric(column) for column in columns]
    widths = [max([len(k)] + [len(c) for c in col]) for k, col in zip(keys, cells)]
    header = "  ".join(k.rjust(w) if num else k.ljust(w) for k, w, num in zip(keys, widths, numeric))
    out.write(header.rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for row in range(shown):
        line = "  ".join(col[row].rjust(w) if num else col[row].ljust(w)
                         for col, w, num in zip(cells, widths, numeric))
        out.write(line.rstrip() + "\n")
    return total - shown


def _numeric(column: np.ndarray) -> bool:
    """Whether a column is right-aligned: numbers, also a question's count column with rows without an answer
    (objects: numbers and None)."""
    if column.dtype.kind in "fiu":
        return True
    return column.dtype.kind == "O" and any(v is not None for v in column.tolist()) and all(
        v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in column.tolist())


def _table_cell(value) -> str:
    """A value as the table shows it: a missing one (NaN: a question's row with no answer, a point without a
    measured run; None: the same in a text or flag column) as an empty cell, as the CSV writes it."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return format_number(value)


def write_csv(keys: list[str], columns: list[np.ndarray], out: TextIO,
              progress: Callable[[int, int], None] | None = None, *, header: bool = True) -> None:
    """Rows as CSV (floats as repr, so they read back exactly; NaN as an empty cell). `header`: write the keys
    first (False for the later chunks of a streamed sweep).

    Output is what `csv.writer` (QUOTE_MINIMAL, "\n" line ends) writes. Where no field needs quoting (no text value
    holds a comma, a quote or a line break, and a row has more than one field) the rows are joined directly, which
    writes the same bytes about five times faster than the writer; otherwise the writer is used."""
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow([neutralise(key) for key in keys])
    total = len(columns[0]) if columns else 0
    step = max(total // 20, 50_000)
    for start in range(0, total, step):
        stop = min(start + step, total)
        fields = [_csv_values(c[start:stop]) for c in columns]
        if len(fields) > 1 and not any(_needs_quotes(column, values) for column, values in zip(columns, fields)):
            out.write("\n".join(map(",".join, zip(*fields))))
            out.write("\n")
        else:
            writer.writerows(zip(*fields))
        if progress is not None:
            progress(stop, total)


_QUOTED = re.compile(r'[,"\r\n]')


def _needs_quotes(column: np.ndarray, values: list[str]) -> bool:
    """Whether a field of this column's CSV text needs quoting: only text can (numbers and flags never hold a comma,
    a quote or a line break); each distinct text is looked at once."""
    return column.dtype.kind not in "fb" and any(_QUOTED.search(text) for text in set(values))


def _csv_values(column: np.ndarray) -> list[str]:
    """A column's CSV fields, as text: a float's repr (shortest round-trip), "" for NaN, `true`/`false` for flags,
    text neutralised (never a formula). Text and flags of a sweep axis repeat: each distinct value is converted
    once."""
    if column.dtype.kind == "f":
        values = list(map(float.__repr__, column.tolist()))
        for missing in np.flatnonzero(np.isnan(column)).tolist():
            values[missing] = ""
        return values
    if column.dtype.kind == "b":
        return ["true" if v else "false" for v in column.tolist()]
    # Text (block names, strings): never a formula. A question's column with rows that have no answer holds None
    # there and its values as objects: a flag among them is written as in a plain boolean column.
    values = column.tolist()
    if not set(map(type, values)) <= _TEXT_TYPES:      # numbers: 1 == 1.0 == True as keys, each written apart
        return [_csv_text(value) for value in values]
    text = {value: _csv_text(value) for value in set(values)}
    return list(map(text.__getitem__, values))


_TEXT_TYPES = {str, type(None)}


def _csv_text(value) -> str:
    """One text (or object) field: flags as `true`/`false`, None as empty, anything else neutralised and as
    csv.writer writes it (str())."""
    if value is None:
        return ""
    if type(value) is bool:
        return _FLAGS[value]
    return str(neutralise(value))


_FLAGS = {True: "true", False: "false"}


def _json_value(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(keys: list[str], columns: list[np.ndarray], out: TextIO, *, lines: bool = False,
               progress: Callable[[int, int], None] | None = None, after: int = 0, brackets: bool = True) -> None:
    """Rows as a JSON array of records, or JSON Lines (`lines`). A sweep streamed chunk by chunk calls it once per
    chunk with `brackets` False (write_stream writes them) and `after`: the records already written.

    Each record is the text `json.dumps(record, ensure_ascii=False)` gives (non-finite numbers as null), built from
    each column's values encoded once per column (each distinct text once) rather than one `json.dumps` a row:
    about four times faster, the same bytes (a property test compares them)."""
    total = len(columns[0]) if columns else 0
    # JSON Lines is also opened in spreadsheets: its text is neutralised like the CSV's. A JSON document keeps
    # every value exact (it is for programs).
    keys = [neutralise(key) for key in keys] if lines else keys
    # A key written twice keeps one entry, the last value at the first place, as a dict does.
    places = {key: place for place, key in enumerate(keys)}
    record = "{" + ", ".join(json.dumps(key, ensure_ascii=False).replace("%", "%%") + ": %s" for key in places) + "}"
    columns = [columns[place] for place in places.values()]
    step = max(total // 20, 50_000)
    if not lines and brackets:
        out.write("[")
    for start in range(0, total, step):
        stop = min(start + step, total)
        records = map(record.__mod__, zip(*(_json_texts(c[start:stop], lines) for c in columns)))
        if lines:
            out.write("".join(text + "\n" for text in records))
        else:
            first = "\n  " if after + start == 0 else ",\n  "
            out.write(first + ",\n  ".join(records))
        if progress is not None:
            progress(stop, total)
    if not lines and brackets:
        out.write("\n]\n" if total else "]\n")


def _json_texts(column: np.ndarray, neutralised: bool) -> list[str]:
    """A column's values as JSON text, as json.dumps writes each (ensure_ascii=False): a finite float's repr, null
    for NaN, infinities and None, `true`/`false`, a string quoted and escaped (neutralised first in JSON Lines)."""
    if column.dtype.kind == "f":
        values = list(map(float.__repr__, column.tolist()))
        for missing in np.flatnonzero(~np.isfinite(column)).tolist():
            values[missing] = "null"
        return values
    if column.dtype.kind == "b":
        return ["true" if v else "false" for v in column.tolist()]
    values = column.tolist()
    if set(map(type, values)) <= _TEXT_TYPES:          # each distinct text encoded once
        text = {value: _json_text(value, neutralised) for value in set(values)}
        return list(map(text.__getitem__, values))
    return [_json_text(value, neutralised) for value in values]


def _json_text(value, neutralised: bool) -> str:
    value = _json_value(value)
    return json.dumps(neutralise(value) if neutralised else value, ensure_ascii=False)


def write_stream(fmt: str, parts, out: TextIO) -> int:
    """Rows that come in parts (keys, columns), as one CSV, JSON or JSON Lines document: the header or the opening
    bracket once, then each part as it comes, so only one part is held at a time. Returns the rows written."""
    rows = 0
    if fmt == "json":
        out.write("[")
    for number, (keys, columns) in enumerate(parts):
        if fmt == "csv":
            write_csv(keys, columns, out, header=number == 0)
        else:
            write_json(keys, columns, out, lines=fmt == "jsonl", after=rows, brackets=False)
        rows += len(columns[0]) if columns else 0
    if fmt == "json":
        out.write("\n]\n" if rows else "]\n")
    return rows
