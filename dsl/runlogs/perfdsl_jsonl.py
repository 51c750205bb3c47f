"""Adapter "perfdsl-jsonl": perfdsl's run log as JSON Lines, one JSON object per line and per run.

Keys are written like the CSV headers: `"runtime [ms]": 693.77` is a quantity (a JSON number, or a string holding
one), `"model": "facebook/opt-1.3b"` identifies the run. Blank lines are ignored. A line that is not a JSON object,
or a value that cannot be read (null or "" included), is a warning with the line and key; a key that is absent,
or holds "NA", says the run has no value there; a key with an unknown unit makes the file
unreadable, as a CSV header would.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import Diagnostic, Location, PerfError
from ..output import restore
from .columns import (MAGNITUDE_HINT, NOT_AVAILABLE, SOURCE_COLUMN, Column, ColumnError, identity_value,
                      magnitude_problem, not_finite, NOT_FINITE_HINT, parse_column, parse_quantity, settle_row)
from .files import load_json_text, physical_lines, read_text
from .perfdsl_csv import to_measurement
from .records import LoadResult, RunRecord, file_error, is_number, warning
from .registry import Adapter, register

FORMAT = "perfdsl-jsonl"


def key_span(line: str, key: str) -> tuple[int, int]:
    """1-based (col, end_col) of `"key"` in the line text, for the caret; (0, 0) where it cannot be found."""
    needle = json.dumps(key, ensure_ascii=False)
    at = line.find(needle)
    if at < 0:
        return 0, 0
    return at + 1, at + 1 + len(needle)


def read(path: Path | str, side: dict | None = None, window=None) -> LoadResult:
    """The runs of a perfdsl JSON Lines log, one record per non-blank line (quantities in SI, counts as ints). `side`
    and `window` are not used. Raises PerfError (exit 1) for an unreadable file, an empty one (empty-log), or keys
    that are not `name` or `name [unit]` with a known unit (every such key of the file, located); a line that is
    not a JSON object, and bad values, are warnings in the result's problems."""
    path_text = str(path)
    text = read_text(path)
    result = LoadResult()
    columns: dict[str, Column] = {}
    header_errors: list[Diagnostic] = []
    row_number = 0
    # JSON Lines ends lines at \n (or \r\n); str.splitlines would also split inside a string holding U+2028 or
    # U+2029, which JSON allows unescaped.
    for line_number, line in enumerate(physical_lines(text), start=1):
        if not line.strip():
            continue
        row_number += 1
        try:
            document = load_json_text(path_text, line)
        except json.JSONDecodeError as exc:
            # The parser's reason goes in a note: in the message it would keep the warnings of many bad lines from
            # being grouped into one (a JSON document read as JSON Lines gave one warning per line, 3,748).
            result.problems.append(warning(
                "bad-json", f"row {row_number} is not valid JSON; row {row_number} skipped",
                Location(path_text, line_number, exc.colno, exc.colno + 1, f"row {row_number}"), source_line=line,
                notes=[f"line {line_number}, column {exc.colno}: {exc.msg}"]))
            continue
        if not isinstance(document, dict):
            result.problems.append(warning(
                "bad-json", f"row {row_number} is not a JSON object; row {row_number} skipped",
                Location(path_text, line_number, 1, len(line) + 1, f"row {row_number}"), source_line=line))
            continue
        for key in document:
            if key not in columns:
                try:
                    columns[key] = parse_column(key)
                except ColumnError as exc:
                    col, end = key_span(line, key)
                    header_errors.append(Diagnostic(
                        exc.code, exc.message,
                        Location(path_text, line_number, col, end, f"row {row_number}, key '{key}'"), line,
                        hints=[exc.hint] if exc.hint else []))
                    columns[key] = None  # reported once
        if header_errors:
            continue
        record = read_object(path_text, document, columns, row_number, line_number, line, result.problems)
        if record is not None:
            result.records.append(record)
    if header_errors:
        raise PerfError(header_errors)
    if row_number == 0:
        raise file_error(path_text, "empty-log", "the file is empty: expected one JSON object per line")
    return result


def read_object(path: str, document: dict, columns: dict[str, Column], row_number: int, line_number: int,
                line: str, problems: list[Diagnostic]) -> RunRecord | None:
    """The record of one JSON object (line `line_number`, the `row_number`-th non-blank line), or None where it is
    skipped: a bad or missing identifying value, or no usable metric where the object has quantity keys. `columns`
    holds the parsed key of each of its keys. Bad values are warnings appended to `problems`; keys absent or holding
    "NA" are left out silently."""
    identity, metrics, extra, bad_identity, found = {}, {}, {}, [], []
    for key, value in document.items():
        column, problem = columns[key], None
        if column.name == SOURCE_COLUMN and not column.is_quantity:
            extra[SOURCE_COLUMN] = restore(value) if isinstance(value, str) else value   # the writer's `'` off
            continue
        if value == NOT_AVAILABLE:
            continue
        if value is None or value == "":
            message = f"row {row_number} has no value for key '{key}'"
        elif column.is_quantity:
            number = value if is_number(value) else parse_quantity(value) if isinstance(value, str) else None
            problem = magnitude_problem(float(number), column.unit) if number is not None else None
            if number is not None and problem is None:
                metrics[column.name] = to_measurement(float(number), column.unit)
                continue
            if number is None and not_finite(value):
                problem = "not finite"
            message = (f"cannot read {json.dumps(value)} as a number for key '{key}'" if problem is None else
                       f"{json.dumps(value)} for key '{key}': {problem}; not used")
        else:
            kept, reason = identity_value(column.name, value.strip() if isinstance(value, str) else value)
            if kept is not None:
                identity[column.name] = kept
                continue
            message = f"cannot read {json.dumps(value)} for key '{key}': {reason}"
            bad_identity.append(column.name)
        if value is None or value == "":
            if not column.is_quantity:
                bad_identity.append(column.name)
        diagnostic = warning("missing-value" if value is None or value == "" else "bad-value", message,
                             Location(path, line_number, *key_span(line, key), f"row {row_number}, key '{key}'"),
                             source_line=line, hints=[] if problem is None else
                             [NOT_FINITE_HINT] if problem.startswith("not finite") else [MAGNITUDE_HINT])
        found.append((column, diagnostic))
    has_quantities = any(columns[k].is_quantity for k in document)
    no_metric_left = has_quantities and not metrics
    if not settle_row(found, bad_identity, no_metric_left, row_number, problems,
                      Location(path, line_number, 1, len(line) + 1, f"row {row_number}"), line):
        return None
    return RunRecord(identity, metrics, f"{path}:row {row_number}", extra, FORMAT)


# One JSON object is a JSON Lines file of one run; a first line that is an object, a JSON Lines file (detect.py).
register(Adapter("perfdsl-jsonl", read, "perfdsl's own JSON Lines: keys written like the CSV headers", rank=91,
                 json_keys=lambda keys: any("[" in k for k in keys) or "model" in keys, json_lines=True,
                 expects='one JSON object per line, its measured keys written "name [unit]", e.g. '
                         '{"model": "org/x", "runtime [ms]": 25.5}'))
