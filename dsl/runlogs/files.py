"""Reading log files: text and JSON, with every failure turned into a PerfError naming the file (and line)."""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import sys
from pathlib import Path
from typing import Iterable

from ..errors import Diagnostic, Location, PerfError, UsageError, byte_position, error
from .records import file_error, warning


def why_unreadable(path: str | os.PathLike) -> str | None:
    """Why `path` cannot be read as a log before opening it: "no such file", "it is a folder", or None."""
    if os.path.isdir(path):
        return "it is a folder"
    return None if os.path.exists(path) else "no such file"


def require_logs(paths: Iterable[str | os.PathLike], what: str = "the run log") -> None:
    """Raise UsageError (no-such-file, exit 2), one diagnostic per path, where files named on the command line (run
    logs of --measured, --add-measured and ingest, ingest's --meta: `what` names them) do not exist or are folders.
    A missing file named on the command line is a usage mistake, as a missing .perf file is; one that a spec names
    (a report's `measured` cell) is a mistake in the spec (matching.check_report_logs, exit 1)."""
    problems = []
    for path in paths:
        why = why_unreadable(path)
        if why is not None:
            inside = "the log files" if what == "the run log" else "the file"     # --meta names one JSON file
            hint = (f"name {inside} inside it" if why == "it is a folder" else
                    "check the path; a file named on the command line is read relative to the working folder")
            problems.append(error("no-such-file", f"cannot read {what} '{path}': {why}", hints=[hint]))
    if problems:
        raise UsageError(problems)


def read_text(path: Path | str) -> str:
    """The text of a log file, decoded as `decode` does (UTF-8, or the encoding its byte-order mark names). Raises
    PerfError (exit 1): log-missing for no such file, log-unreadable for a folder or a file the system refuses,
    log-encoding for bytes that are not text in that encoding."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise file_error(str(path), "log-missing", "no such file",
                         hints=["check the path; logs are read as given, relative to the current folder"]) from None
    except IsADirectoryError:
        raise file_error(str(path), "log-unreadable", "this is a folder, not a log file",
                         hints=["name the log files inside it"]) from None
    except OSError as exc:
        raise file_error(str(path), "log-unreadable", f"cannot read the file: {exc.strerror or exc}") from None
    return decode(str(path), data)


# Byte-order marks, longest first (UTF-32's little-endian mark begins with UTF-16's).
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def decode(path: str, data: bytes) -> str:
    """A log's text: UTF-8, or the encoding its byte-order mark names (UTF-8, UTF-16 or UTF-32, as Windows tools
    such as PowerShell's Out-File write them). Any other bytes are a located error naming the line and column."""
    encoding, body = "utf-8", data
    for bom, name in _BOMS:
        if data.startswith(bom):
            encoding, body = name, data[len(bom):]
            break
    try:
        return body.decode(encoding)
    except UnicodeDecodeError as exc:
        if encoding == "utf-8":
            line, col, source = byte_position(body, exc.start)
            raise file_error(path, "log-encoding", f"byte 0x{body[exc.start]:02x} is not UTF-8 text", line=line,
                             col=col, end_col=col + 1, source_line=source,
                             hints=["run logs are UTF-8 text files (CSV, JSON, JSON Lines): save the log as UTF-8"]
                             ) from None
        name = encoding.upper().replace("-LE", "").replace("-BE", "")
        raise file_error(path, "log-encoding", f"byte {exc.start + len(data) - len(body)} is not {name} text "
                         "(the file starts with its byte-order mark)",
                         hints=["save the log as UTF-8, or as UTF-16 with a byte-order mark"]) from None


_LONE_CR = re.compile(r"\r(?!\n)")


def csv_text(text: str) -> str:
    """A CSV log's text with every carriage return that does not end a line marked as a bad character (U+FFFD).

    In a file whose lines end in \\n or \\r\\n, a lone \\r is damage inside a field (`7\\r0 W`); read as a
    line end it would split the row and turn 70 W into 7 W without a word. Marked, the value fails to read and is
    reported where it is. A file whose lines all end in a lone \\r (old Mac) is left as it is, and so is a \\r inside
    a quoted field.
    """
    if "\n" not in text or "\r" not in text:
        return text
    # Between double quotes a \r is data (perfdsl writes such a field quoted): split at the quotes, and mark only the
    # parts outside them (the even ones; an escaped "" leaves an empty part inside, so the parity holds).
    parts = text.split('"')
    parts[0::2] = [_LONE_CR.sub("\ufffd", part) for part in parts[0::2]]
    return '"'.join(parts)


def load_json_text(path: str, text: str) -> object:
    """json.loads, with a document nested too deep for Python's parser turned into a located error."""
    try:
        return json.loads(text)
    except RecursionError:
        raise file_error(path, "too-deep", "the JSON nests too deep to read (lists and objects inside each other "
                         f"more than about {sys.getrecursionlimit():,} levels)") from None
    except json.JSONDecodeError:
        raise
    except ValueError as exc:          # an integer of more digits than Python converts (4,300)
        raise file_error(path, "bad-json", f"not valid JSON: {exc}") from None


def csv_rows(path: str, text: str, lines: list[str], *,
             skipinitialspace: bool = False) -> list[tuple[int, list[str], int]]:
    """(first line, fields, last line) of every CSV record; a record the csv module cannot read is a located error.
    A record runs over several lines where a quoted field holds a line break, or where a quote is left open (the
    csv module then reads on to the next quote, or to the end of the file): see numbered_rows and merged_row.

    Line ends are those of the file (\\n, \\r\\n or a lone \\r), as physical_lines counts them.
    """
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=skipinitialspace)
    rows: list[tuple[int, list[str], int]] = []
    last_line = 0
    try:
        for row in reader:
            rows.append((last_line + 1, row, max(reader.line_num, last_line + 1)))
            last_line = reader.line_num
    except csv.Error as exc:
        line = reader.line_num or last_line + 1
        raise file_error(path, "bad-csv", f"cannot read the CSV: {exc}", line=line,
                         source_line=lines[line - 1] if 0 < line <= len(lines) else None) from None
    return rows


def numbered_rows(records: list[tuple[int, list[str], int]],
                  lines: list[str]) -> list[tuple[int, int, list[str], int]]:
    """(row number, first line, fields, last line) of the data records of a CSV (`records`: csv_rows' records after
    the header, blank ones left out; `lines`: the file's physical lines). Rows are the non-blank lines after the
    header, as a text editor shows them: a record that runs over several lines counts each non-blank one, so that a
    quote left open (which joins the lines up to the next quote into one record) does not move the numbers of the
    rows after it, which name the runs' sources."""
    numbered, number = [], 1
    for first, fields, last in records:
        numbered.append((number, first, fields, last))
        number += _rows_in(lines, first, last)
    return numbered


def _rows_in(lines: list[str], first: int, last: int) -> int:
    """The non-blank lines from `first` to `last` (1-based, inclusive): the rows a record over them stands for; at
    least 1."""
    if last == first:
        return 1
    return max(1, sum(1 for line in lines[first - 1:last] if line.strip()))


def merged_row(path: str, number: int, first: int, last: int, fields: int, expected: int,
               lines: list[str], broken: str | None = None) -> Diagnostic:
    """The warning (bad-row) for a record of the wrong number of fields that runs over lines `first` to `last`: a
    quote left open joined them, so none of their rows is used and each is named. Located at the quote that opens
    the joined field (the last of the first line's quotes, where they are odd in number). `broken`: the column of
    a field that holds line breaks, where the field count came out right."""
    text = lines[first - 1] if 0 < first <= len(lines) else ""
    joined = "\n".join(lines[first - 1:last])
    col = text.rfind('"') + 1 if text.count('"') % 2 else 0
    closed = "is never closed" if _ends_inside_quotes(joined) else f"is closed only in line {last}"
    rows = f"rows {number} to {number + _rows_in(lines, first, last) - 1}"
    plural = "s" if fields != 1 else ""
    read_as = (f"one row whose '{broken}' holds line breaks" if broken is not None and fields == expected else
               f"one row of {fields} field{plural}, and the header has {expected} columns")
    return warning("bad-row", f"{rows} (lines {first} to {last}) read as {read_as}: a quote in line {first} "
                   f"{closed}; {rows} skipped",
                   Location(path, first, col, col + 1 if col else 0, f"row {number}"), source_line=text or None,
                   hints=["a field that holds a comma, a quote or a line break is written between double quotes, "
                          'a quote inside it doubled (""); check the quotes of line ' + str(first)])


def _ends_inside_quotes(text: str) -> bool:
    """Whether CSV `text` ends inside a quoted field (the csv module, strict, finds the end of the data there)."""
    try:
        for _ in csv.reader(io.StringIO(text, newline=""), strict=True):
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def read_json(path: Path | str, text: str | None = None, what: str = "log") -> object:
    """The parsed JSON document of a file (text may be passed when already read; `what` it is, as the hint of a
    truncated one names it: "log", "side file")."""
    if text is None:
        text = read_text(path)
    try:
        return load_json_text(str(path), text)
    except json.JSONDecodeError as exc:
        if ends_early(text, exc):
            raise truncated_json(str(path), text, what) from None
        # json counts lines at '\n' only; str.splitlines also cuts at a lone '\r' (JSON whitespace) and at U+2028 or
        # U+2029 (allowed unescaped in a JSON string), which would quote a line above the one the error is on.
        lines = [line.removesuffix("\r") for line in text.split("\n")]
        source = lines[exc.lineno - 1] if 0 < exc.lineno <= len(lines) else None
        raise file_error(str(path), "bad-json", f"not valid JSON: {exc.msg}", line=exc.lineno, col=exc.colno,
                         source_line=source) from None


def ends_early(text: str, exc: json.JSONDecodeError) -> bool:
    """True where the JSON parser failed at the end of `text` (trailing whitespace aside): the document was not
    closed, so the file was cut short, rather than holding a slip somewhere inside. That includes a cut inside a string
    (the parser names the string's start, but says "Unterminated string" only where no quote follows before the end:
    a string broken by a line end is "Invalid control character" instead) and a cut inside true, false or null."""
    rest = text[exc.pos:].rstrip()
    if exc.msg.startswith("Unterminated string"):
        return True
    if exc.msg == "Expecting value" and rest and any(word.startswith(rest) and word != rest
                                                      for word in ("true", "false", "null")):
        return True
    return exc.pos >= len(text.rstrip())


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"?')


def truncated_json(path: str, text: str, what: str = "log") -> PerfError:
    """The PerfError (bad-json, exit 1) for a JSON document that ends before it closes: located after the last
    character of the file's last non-blank line (`Expecting value` at a blank line said nothing of the cause)."""
    content = text.rstrip()
    line = content.count("\n") + 1
    last = content[content.rfind("\n") + 1:].removesuffix("\r")
    outside = _JSON_STRING.sub('""', content)           # brackets inside strings do not count
    still_open = len(re.findall(r"[{\[]", outside)) - len(re.findall(r"[}\]]", outside))
    brackets = f" (about {still_open} bracket{'s' if still_open > 1 else ''} still open)" if still_open > 0 else ""
    return file_error(path, "bad-json", f"the file ends early, at line {line}, before its JSON closes{brackets}: it "
                      "looks truncated", line=line, col=len(last) + 1, end_col=len(last) + 2, source_line=last,
                      hints=[f"the {what} was cut short (copied while the run was still writing it, or only "
                             "partly downloaded): take the whole file" if what == "log" else
                             f"the {what} was cut short, or its JSON is not closed: end it with its closing brackets"])


def semicolon_separated(path: str, first_line: str) -> PerfError | None:
    """The PerfError (bad-csv, exit 1) for a CSV whose header line has ';' between its fields and no ',' (a
    spreadsheet's export in a locale whose decimal mark is ','), else None. Not read as ';'-separated: such files
    write 25,5 for 25.5, and a value read with the wrong decimal mark would be a wrong measurement."""
    if "," in first_line or first_line.count(";") == 0:
        return None
    return file_error(path, "bad-csv", f"cannot read the CSV: its fields look separated by ';' (the header has "
                      f"{first_line.count(';')} ';' and no ','): perfdsl reads comma-separated files", line=1,
                      col=first_line.index(";") + 1, end_col=first_line.index(";") + 2, source_line=first_line,
                      hints=["save the log comma-separated, with '.' as the decimal mark (25.5, not 25,5)"])


def physical_lines(text: str) -> list[str]:
    """The file's lines as the csv module counts them (\\n, \\r\\n or \\r), without their endings.

    str.splitlines also splits at form feeds and other separators, which would put a caret on the wrong line.
    """
    return [line.rstrip("\r\n") for line in io.StringIO(text, newline="")]


def require_object(path: Path | str, document: object, what: str) -> dict:
    """`document` where it is a JSON object (a dict); else raises PerfError (bad-json, exit 1) saying what was expected
    (`what`, e.g. "optimum-benchmark benchmark.json") and the JSON type found."""
    if not isinstance(document, dict):
        raise file_error(str(path), "bad-json", f"expected a JSON object ({what}), found {type(document).__name__}")
    return document


def json_path(*parts: object) -> str:
    """A dotted JSON path: json_path('report', 'prefill', 'latency', 'mean') -> 'report.prefill.latency.mean'."""
    return ".".join(str(p) for p in parts)


__all__ = ["read_text", "decode", "read_json", "load_json_text", "csv_rows", "physical_lines", "require_object",
           "json_path"]
