"""Adapter "perfdsl-csv": perfdsl's own run-log CSV (see data/README.md).

The header names each column; `name [unit]` is a quantity (converted to SI with the unit), a bare `name` identifies
the run (`n_gpus`, `batch`, `tokens` ... stay ints). One row per run. A cell that is missing or not a number is a
warning pointing at the cell (file, line, column, caret); the row is kept without that metric if any other metric is
usable. A row with fewer fields than the header (a truncated line) or more is skipped, with a warning at
its line. A bad identifying cell skips the row (a run that cannot be identified cannot be matched). A cell holding
`NA` says the run has no value there (not measured, not known): it is left out without a warning. A header with an
unknown unit makes the whole file unreadable (PerfError naming line 1 and the column).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ..errors import Diagnostic, Location, PerfError
from ..output import restore
from ..units import Unit
from .columns import (MAGNITUDE_HINT, NOT_AVAILABLE, SOURCE_COLUMN, Column, ColumnError, identity_value,
                      magnitude_problem, not_finite, NOT_FINITE_HINT, parse_column, parse_quantity, settle_row)
from .files import csv_rows, csv_text, merged_row, numbered_rows, physical_lines, read_text, semicolon_separated
from .records import IDENTITY_ORDER, LoadResult, Measurement, RunRecord, file_error, ragged_row, warning
from .registry import Adapter, register

FORMAT = "perfdsl-csv"


@lru_cache(maxsize=16)
def field_spans(line: str) -> tuple[tuple[int, int], ...]:
    """(start, end) offsets of each comma-separated field in one line of CSV text, quotes respected.
    Cached: every problem of a line asks for its caret, and a line can have thousands (a fuzzed header of 9,000
    repeated columns took a minute when each asked for the line to be split again)."""
    spans, start, quoted, i = [], 0, False, 0
    while i < len(line):
        char = line[i]
        if char == '"':
            if quoted and i + 1 < len(line) and line[i + 1] == '"':
                i += 1  # an escaped quote inside a quoted field
            else:
                quoted = not quoted
        elif char == "," and not quoted:
            spans.append((start, i))
            start = i + 1
        i += 1
    spans.append((start, len(line)))
    return tuple(spans)


def caret_span(line: str | None, index: int) -> tuple[int, int]:
    """1-based (col, end_col) of field `index` in `line`, trimmed of spaces; past the end where the field is absent."""
    if line is None:
        return 0, 0
    spans = field_spans(line)
    if index >= len(spans):
        end = len(line) + 1
        return end, end + 1
    start, end = spans[index]
    text = line[start:end]
    stripped = text.strip()
    if stripped:
        start += len(text) - len(text.lstrip())
        end = start + len(stripped)
        return start + 1, end + 1
    return start + 1, start + 2


def parse_header(path: str, header: list[str], line_text: str) -> list[Column]:
    """The columns of a perfdsl CSV header (`header`: its fields; `line_text`: the header line, for carets). Raises
    PerfError (exit 1) with one located diagnostic per bad column: an empty name, a malformed `name [unit]`, an
    unknown unit, or a name that appears twice (duplicate-column)."""
    columns, problems, seen = [], [], {}
    spans = field_spans(line_text)
    for index, text in enumerate(header):
        offset = spans[index][0] if index < len(spans) else 0
        try:
            column = parse_column(text)
        except ColumnError as exc:
            problems.append(Diagnostic(
                exc.code, exc.message,
                Location(path, 1, offset + exc.start + 1, offset + exc.end + 1, f"column '{text.strip()}'"),
                line_text, hints=[exc.hint] if exc.hint else []))
            continue
        if column.name in seen:
            col, end = caret_span(line_text, index)
            problems.append(Diagnostic(
                "duplicate-column", f"column '{column.name}' appears twice (columns {seen[column.name] + 1} and "
                f"{index + 1})", Location(path, 1, col, end, f"column '{text.strip()}'"), line_text,
                hints=["keep one column per name; write each run as its own row"]))
        seen.setdefault(column.name, index)
        columns.append(column)
    if problems:
        raise PerfError(problems)
    return columns


def read(path: Path | str, side: dict | None = None, window=None) -> LoadResult:
    """The runs of a perfdsl CSV log, one record per non-blank row after the header (quantities in SI, counts as ints).
    `side` and `window` are not used. Raises PerfError (exit 1) for an unreadable file or CSV, an empty file
    (empty-log), a header that is not the first line (bad-csv) or a bad header (parse_header); bad cells and rows are
    warnings in the result's problems."""
    path_text = str(path)
    text = csv_text(read_text(path))
    lines = physical_lines(text)
    rows = [record for record in csv_rows(path_text, text, lines) if any(cell.strip() for cell in record[1])]
    if not rows:
        raise file_error(path_text, "empty-log", "the file is empty: expected a header line such as "
                         "'model,hardware,n_gpus,runtime [ms]'")
    header_line, header, _ = rows[0]
    if header_line != 1:
        raise file_error(path_text, "bad-csv", "the header must be the first line", line=header_line,
                         source_line=lines[header_line - 1] if header_line <= len(lines) else None,
                         hints=[f"remove the blank line{'s' if header_line > 2 else ''} above the header"])
    semicolons = semicolon_separated(path_text, lines[0])       # with --format, not detected: 'a;b [ms]' is a column
    if semicolons is not None:
        raise semicolons
    columns = parse_header(path_text, header, lines[0])
    result = LoadResult()
    for row_number, line, row, last in numbered_rows(rows[1:], lines):
        broken = broken_field(row, columns) if last > line else None
        if last > line and (len(row) != len(columns) or broken is not None):     # a quote left open
            result.problems.append(merged_row(path_text, row_number, line, last, len(row), len(columns), lines,
                                              broken))
            continue
        source_line = lines[line - 1] if 0 < line <= len(lines) else None
        record = read_row(path_text, columns, row, row_number, line, source_line, result.problems)
        if record is not None:
            result.records.append(record)
    return result


def broken_field(row: list[str], columns: list[Column]) -> str | None:
    """The header of the first field of a record over several lines that holds whole rows: a quantity with a line
    break, or a known identifying field (a model name, a count) with a line break and a comma, else None. A quote
    left open that closed lines later, at the end of a field, joined them (its field count came out right); a name
    with a line break alone is kept (perfdsl writes one quoted, and reads it back)."""
    return next((column.header.strip() for cell, column in zip(row, columns)
                 if ("\n" in cell or "\r" in cell)
                 and (column.is_quantity or (column.name in IDENTITY_ORDER and "," in cell))), None)


def read_row(path: str, columns: list[Column], row: list[str], row_number: int, line: int,
             source_line: str | None, problems: list[Diagnostic]) -> RunRecord | None:
    """The record of one data row (`row_number` counts data rows from 1; `line` is its line in the file), or None where
    it is skipped: more fields than columns (extra-fields), fewer (bad-row: a line cut short), a bad identifying
    cell, or no usable metric in a log that has quantity columns. Cells that are empty or unreadable are warnings
    appended to `problems` (settle_row decides which); `NA` cells are left out silently."""
    if len(row) > len(columns):
        problems.append(warning(
            "extra-fields", f"row {row_number} has {len(row)} fields but the header has {len(columns)} columns; "
            f"row {row_number} skipped", Location(path, line, *caret_span(source_line, len(columns)),
                                                  f"row {row_number}"), source_line=source_line,
            hints=["quote fields that contain commas, e.g. \"a, b\""]))
        return None
    if len(row) < len(columns):
        # Fewer fields than columns is a line cut short (a log still being written, a copy that stopped): its last
        # value may be cut too ('747.1' of '747.15'), so none of it is used, as a row with too many is not.
        short = ragged_row(path, line, row_number, len(row), f"the header has {len(columns)} columns", source_line)
        short.location = Location(path, line, *caret_span(source_line, len(row) - 1), f"row {row_number}")
        short.notes.append(f"its last field, '{row[-1].strip()}' (column '{columns[len(row) - 1].header.strip()}'), "
                           "may be cut short; the columns after it are missing")
        problems.append(short)
        return None
    identity, metrics, extra = {}, {}, {}
    found: list[tuple[Column, Diagnostic]] = []
    for index, column in enumerate(columns):
        cell = row[index].strip() if index < len(row) else None
        problem = None                     # why a number read cannot be a measurement
        if column.name == SOURCE_COLUMN and not column.is_quantity:
            if cell:
                extra[SOURCE_COLUMN] = restore(cell)     # the `'` the writer put before a formula-like source
            continue
        if cell == NOT_AVAILABLE:
            continue
        if not cell:
            code, message = "missing-value", f"row {row_number} has no value in column '{column.header.strip()}'"
        elif column.is_quantity:
            value = parse_quantity(cell)
            problem = magnitude_problem(value, column.unit) if value is not None else None
            if value is not None and problem is None:
                metrics[column.name] = to_measurement(value, column.unit)
                continue
            if value is None and not_finite(cell):
                problem = "not finite"
            code, message = "bad-value", (f"cannot read '{cell}' as a number in column '{column.header.strip()}'"
                                          if problem is None else
                                          f"'{cell}' in column '{column.header.strip()}': {problem}; not used")
        else:
            value, reason = identity_value(column.name, cell)
            if value is not None:
                identity[column.name] = value
                continue
            code, message = "bad-value", f"cannot read '{cell}' in column '{column.header.strip()}': {reason}"
        detail = f"row {row_number}, column '{column.header.strip()}'"
        location = Location(path, line, *caret_span(source_line, index), detail)
        hints = ([NOT_FINITE_HINT] if problem.startswith("not finite") else [MAGNITUDE_HINT]) \
            if column.is_quantity and problem is not None else []
        found.append((column, warning(code, message, location, source_line=source_line, hints=hints)))
    bad_identity = [c.name for c, _ in found if not c.is_quantity]
    quantity_columns = sum(1 for c in columns if c.is_quantity)
    no_metric_left = quantity_columns > 0 and not metrics
    if not settle_row(found, bad_identity, no_metric_left, row_number, problems,
                      Location(path, line, 1, len(source_line or "") + 1, f"row {row_number}"), source_line):
        return None
    return RunRecord(identity, metrics, f"{path}:row {row_number}", extra, FORMAT)


def to_measurement(value: float, unit: Unit) -> Measurement:
    """A Measurement of `value` written in `unit`: value * unit.scale in SI, with the unit's dimension and text."""
    return Measurement(value * unit.scale, unit.dim, unit.text)


register(Adapter("perfdsl-csv", read, "perfdsl's own CSV: 'name [unit]' columns are quantities", rank=90,
                 csv_header=lambda header, names: any("[" in h and h.endswith("]") for h in header) or "model" in names,
                 expects="a CSV header whose measured columns are written 'name [unit]', e.g. "
                         "model,n_gpus,runtime [ms]"))
