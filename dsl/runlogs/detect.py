"""Which adapter reads a log: decided from the content (header line or JSON keys), never from the file name, by the
tests each format registers (registry.py), in their order."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from ..errors import Diagnostic, Location, PerfError
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


def unknown(path: str, reason: str) -> PerfError:
    """The PerfError (unknown-format, exit 1) to raise for a log whose format cannot be told, with `reason` and the
    formats' names in the hint."""
    return PerfError(Diagnostic("unknown-format", f"cannot tell which format this log is: {reason}",
                                Location(path), hints=["name the format with --format NAME; formats: " +
                                                       ", ".join(format_names())]))


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
    the formats' list tests, or "perfdsl-jsonl" where the text is not one JSON document but its first line is an
    object. Raises PerfError (unknown-format, exit 1) where no format fits, and too-deep or bad-json for a document
    Python's parser refuses."""
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
            return "perfdsl-jsonl"
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
    shown = ", ".join(sorted(keys)[:8])
    raise unknown(path, f"a JSON object with keys none of the formats has ({shown})")


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
    raise unknown(path, f"a header none of the formats has ({shown})")
