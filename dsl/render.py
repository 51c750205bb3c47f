"""Output formats of `perfdsl eval`: an aligned table for the terminal, CSV and JSON.

CSV headers carry units in brackets, like perfdsl's run logs (`prefill.runtime [ms]`), so an evaluation can be read
back as a log. JSON is an array of records (one per sweep point); `jsonl` writes one record per line.
Text in the CSV and JSON Lines that a spreadsheet would run as a formula gets a leading `'` (output.neutralise).
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Callable, TextIO

import numpy as np

from .output import neutralise

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
    cells = [[format_number(v) for v in column[:shown].tolist()] for column in columns]
    numeric = [column.dtype.kind in "fiu" for column in columns]
    widths = [max([len(k)] + [len(c) for c in col]) for k, col in zip(keys, cells)]
    header = "  ".join(k.rjust(w) if num else k.ljust(w) for k, w, num in zip(keys, widths, numeric))
    out.write(header.rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for row in range(shown):
        line = "  ".join(col[row].rjust(w) if num else col[row].ljust(w)
                         for col, w, num in zip(cells, widths, numeric))
        out.write(line.rstrip() + "\n")
    return total - shown


def write_csv(keys: list[str], columns: list[np.ndarray], out: TextIO,
              progress: Callable[[int, int], None] | None = None) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([neutralise(key) for key in keys])
    total = len(columns[0]) if columns else 0
    step = max(total // 20, 50_000)
    converted = [_csv_values(c) for c in columns]
    for start in range(0, total, step):
        stop = min(start + step, total)
        writer.writerows(zip(*(c[start:stop] for c in converted)))
        if progress is not None:
            progress(stop, total)


def _csv_values(column: np.ndarray) -> list:
    if column.dtype.kind == "f":
        return [repr(v) if v == v else "" for v in column.tolist()]
    if column.dtype.kind == "b":
        return ["true" if v else "false" for v in column.tolist()]
    return [neutralise(v) for v in column.tolist()]       # text (block names, strings): never a formula


def _json_value(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(keys: list[str], columns: list[np.ndarray], out: TextIO, *, lines: bool = False,
               progress: Callable[[int, int], None] | None = None) -> None:
    total = len(columns[0]) if columns else 0
    # JSON Lines is also opened in spreadsheets: its text is neutralised like the CSV's. A JSON document keeps
    # every value exact (it is for programs).
    value = (lambda v: neutralise(_json_value(v))) if lines else _json_value
    lists = [[value(v) for v in c.tolist()] for c in columns]
    keys = [neutralise(key) for key in keys] if lines else keys
    step = max(total // 20, 50_000)
    if not lines:
        out.write("[")
    for start in range(0, total, step):
        stop = min(start + step, total)
        buffer = io.StringIO()
        for index in range(start, stop):
            record = {k: col[index] for k, col in zip(keys, lists)}
            text = json.dumps(record, ensure_ascii=False)
            if lines:
                buffer.write(text + "\n")
            else:
                buffer.write(("\n  " if index == 0 else ",\n  ") + text)
        out.write(buffer.getvalue())
        if progress is not None:
            progress(stop, total)
    if not lines:
        out.write("\n]\n" if total else "]\n")
