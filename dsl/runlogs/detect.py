"""Which adapter reads a log: decided from the content (header line or JSON keys), never from the file name, by the
tests each format registers (registry.py), in their order."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from ..errors import Diagnostic, Location, PerfError, suggest
from .files import ends_early, load_json_text, physical_lines, read_text, semicolon_separated, truncated_json
from .records import file_error
from .registry import formats


def format_names() -> list[str]:
    """The registered formats' names, in the order recognition tries them."""
    return list(formats())

# Files that look like logs but are not read, and why.
_UNSUPPORTED = {
    "optimum-markdown": "this is optimum-benchmark's markdown rendering (benchmark_report.md): it has the report "
                        "without the config, so no model, hardware or input shapes; ingest the benchmark.json "
                        "written next to it",
    "nsys-stats": "this is Nsight Systems `nsys stats` text: kernel and API summaries of one trace, not a run with "
                  "a model, workload and end-to-end metrics; it is not a run log perfdsl reads",
}


# How to read a log of a format detection cannot tell. Only `ingest` has a --format for the logs (in eval, calibrate
# and plot --format is the OUTPUT's format, so "name the format with --format NAME" failed there): a log read
# elsewhere is ingested first. ingest.py puts INGEST_HINT in its place.
NAMED_FORMAT_HINT = ("name its format where it is converted: perfdsl ingest LOG --format NAME -o runs.csv, then read "
                     "runs.csv (--measured runs.csv, or the report's `measured`)")
INGEST_HINT = "name the format with --format NAME"


def unknown(path: str, reason: str) -> PerfError:
    """The PerfError (unknown-format, exit 1) to raise for a log whose format cannot be told, with `reason`, and the
    formats' names in the hint (NAMED_FORMAT_HINT: ingest with --format NAME, then read what it wrote)."""
    return PerfError(Diagnostic("unknown-format", f"cannot tell which format this log is: {reason}",
                                Location(path), hints=[f"{NAMED_FORMAT_HINT}; formats: " + ", ".join(format_names())]))


def unsupported(path: str, kind: str) -> PerfError:
    """The PerfError (unsupported-format, exit 1) to raise for a file that looks like a log perfdsl does not read;
    `kind` is a key of _UNSUPPORTED ("optimum-markdown", "nsys-stats"), whose text says why."""
    return PerfError(Diagnostic("unsupported-format", _UNSUPPORTED[kind], Location(path),
                                hints=["formats read: " + ", ".join(format_names())]))


def detect_format(path: Path | str) -> str:
    """The registered name of the format of the log at `path`, from its content: JSON (a document, a list of records, or
    JSON Lines) by its keys, otherwise CSV by its first line. Raises PerfError (exit 1): the errors of read_text,
    empty-log for an empty file, bad-json for a JSON document cut short, bad-csv for a ';'-separated CSV,
    unknown-format for content no format registers, unsupported-format for optimum-benchmark's
    markdown report or `nsys stats` text."""
    path_text = str(path)
    text = read_text(path)
    stripped = text.lstrip()
    if not stripped:
        # no format would read it: --format is no help (the hint said to give one)
        raise file_error(path_text, "empty-log", "the file is empty" + (" (blank lines only)" if text else ""),
                         hints=["check that the tool wrote its output (a run that failed, a copy that did not finish)"])
    if stripped[0] in "{[":
        return detect_json(path_text, text)
    first_line = physical_lines(stripped)[0]
    if first_line.startswith("#") and ("## memory:" in text or "## latency:" in text or "| metric" in text):
        raise unsupported(path_text, "optimum-markdown")
    if re.search(r"^ *\*\* .+ Summary \((nvtx|cuda_api|cuda_gpu_kern|osrt)_sum\):", text, re.MULTILINE):
        raise unsupported(path_text, "nsys-stats")
    return detect_csv(path_text, first_line)


def detect_json(path: str, text: str) -> str:
    """The format of a log whose text starts with '{' or '[': a JSON object by its keys, a non-empty list of objects by
    the formats' list tests, or, where the text is not one JSON document but its first line is an object, the JSON
    Lines format that knows that object's keys (json_lines_format: vllm-serve for --append-result output, else
    perfdsl-jsonl). Raises PerfError (exit 1): unknown-format where no format fits, too-deep or bad-json for a document
    Python's parser refuses, and bad-json saying it looks truncated for a document cut short (inside a value or
    between two)."""
    try:
        document = load_json_text(path, text)
    except json.JSONDecodeError as exc:
        if ends_early(text, exc):      # a document cut short: no format reads it, so --format is no help
            raise truncated_json(path, text) from None
        first = physical_lines(text.lstrip())[0]
        try:
            document = load_json_text(path, first)
        except json.JSONDecodeError:
            raise unknown(path, "it starts like JSON but is neither a JSON document nor JSON Lines") from None
        if isinstance(document, dict):
            return json_lines_format(set(document))
        raise unknown(path, "its first line is JSON but not an object") from None
    if isinstance(document, list) and document and all(isinstance(d, dict) for d in document):
        for name, adapter in formats().items():
            if adapter.json_list is not None and adapter.json_list(document):
                return name
        raise unknown(path, "a JSON list of records none of the formats has")
    if not isinstance(document, dict):
        raise unknown(path, f"a JSON {type(document).__name__}, not an object")
    keys = set(document)
    for name, adapter in formats().items():
        if adapter.json_keys is not None and adapter.json_keys(keys):
            return name
    raise unknown(path, f"a JSON object with keys none of the formats has ({shown_keys(keys)})")


def shown_keys(keys, limit: int = 8) -> str:
    """The first `limit` of `keys` (sorted), quoted where a name holds a comma, with "and N more"."""
    names = sorted(keys)
    shown = ", ".join(name if "," not in name else repr(name) for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def describe(path: Path | str) -> str:
    """What the log at `path` looks like, in a few words, for an error that says a forced format does not fit it:
    "a JSON object with the keys config, report", "JSON Lines whose first object has the keys ...", "a CSV file whose
    header is ...", "a JSON list of 3 items". Raises nothing: a file that cannot be read is "a file perfdsl cannot
    read (REASON)"."""
    try:
        text = read_text(path).lstrip()
    except PerfError as exc:
        return f"a file perfdsl cannot read ({exc.diagnostics[0].message})"
    if not text:
        return "an empty file"
    first = physical_lines(text)[0]
    if text[0] in "{[":
        for what, part in (("", text), ("JSON Lines whose first line is ", first)):
            try:
                document = load_json_text(str(path), part)
            except (json.JSONDecodeError, PerfError):
                continue
            if isinstance(document, dict):
                return f"{what}a JSON object with the keys {shown_keys(document)}"
            if isinstance(document, list):
                return f"{what}a JSON list of {len(document):,} item{'s' if len(document) != 1 else ''}"
        return "text that starts like JSON but does not parse"
    try:
        header = [h.strip() for h in next(csv.reader(io.StringIO(first, newline="")), [])]
    except csv.Error:
        return f"text whose first line is {first[:60]!r}"
    shown = ",".join(header[:10]) + (f",... ({len(header)} columns)" if len(header) > 10 else "")
    return f"a CSV file whose header is {shown}"


def json_lines_format(keys: set[str]) -> str:
    """The format of JSON Lines whose first object has `keys`: the first format that reads JSON Lines and knows the
    keys (vLLM's --append-result output is vllm-serve), else perfdsl's own JSON Lines."""
    for name, adapter in formats().items():
        if adapter.json_lines and adapter.json_keys is not None and adapter.json_keys(keys):
            return name
    return "perfdsl-jsonl"


def detect_csv(path: str, first_line: str) -> str:
    """The format of a CSV log from its header line `first_line` (the column names, units in brackets stripped, are
    tested by each format in registry order). Raises PerfError (unknown-format, exit 1) where the line is not CSV or
    no format has that header."""
    try:
        header = [h.strip() for h in next(csv.reader(io.StringIO(first_line, newline="")), [])]
    except csv.Error as exc:
        raise unknown(path, f"its first line is not CSV ({exc})") from None
    names = {h.split("[")[0].strip() for h in header}
    semicolons = semicolon_separated(path, first_line)
    if semicolons is not None:
        raise semicolons
    for name, adapter in formats().items():
        if adapter.csv_header is not None and adapter.csv_header(header, names):
            return name
    shown = ", ".join(header[:8])
    error = unknown(path, f"a header none of the formats has ({shown})")
    error.diagnostics[0].hints[:0] = nearly_a_format(names)
    raise error


# The share of a format's columns a header must have to be named as that format with columns renamed or left out.
NEARLY = 0.5


def nearly_a_format(names: set[str]) -> list[str]:
    """The hint for a CSV header (`names`: its columns without units) that has most of a format's columns
    (Adapter.csv_columns) but not those its detection needs: the format, and each column it lacks with the header's
    column of a close name (a renamed `Latency_sec`), or [] where no format comes near."""
    best = None
    for name, adapter in formats().items():
        if adapter.csv_columns:
            has = sum(column in names for column in adapter.csv_columns) / len(adapter.csv_columns)
            if has >= NEARLY and (best is None or has > best[0]):
                best = (has, name, adapter.csv_columns)
    if best is None:
        return []
    _, name, columns = best
    lacking = []
    for column in columns:
        if column not in names:
            close = suggest(column, sorted(names - set(columns)), limit=1)
            lacking.append(f"'{column}'" + (f" (is '{close[0]}' it, renamed?)" if close else ""))
    plural = "s" if len(lacking) != 1 else ""
    return [f"it looks like a {name} log that lacks the column{plural} " + ", ".join(lacking)
            + f": name the column{plural} as {name} writes {'them' if plural else 'it'}, or name the format {name}"]
