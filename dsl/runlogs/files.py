"""Reading log files: text and JSON, with every failure turned into a PerfError naming the file (and line)."""

from __future__ import annotations

import io
import json
from pathlib import Path

from ..errors import byte_position
from .records import file_error


def read_text(path: Path | str) -> str:
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
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, col, source = byte_position(data, exc.start)
        raise file_error(str(path), "log-encoding", f"byte 0x{data[exc.start]:02x} is not UTF-8 text", line=line,
                         col=col, end_col=col + 1, source_line=source,
                         hints=["run logs are UTF-8 text files (CSV, JSON, JSON Lines): save the log as UTF-8"]) from None
    return text


def read_json(path: Path | str, text: str | None = None) -> object:
    """The parsed JSON document of a file (text may be passed when already read)."""
    if text is None:
        text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        lines = text.splitlines()
        source = lines[exc.lineno - 1] if 0 < exc.lineno <= len(lines) else None
        raise file_error(str(path), "bad-json", f"not valid JSON: {exc.msg}", line=exc.lineno, col=exc.colno,
                         source_line=source) from None


def physical_lines(text: str) -> list[str]:
    """The file's lines as the csv module counts them (\n, \r\n or \r), without their endings.

    str.splitlines also splits at form feeds and other separators, which would put a caret on the wrong line.
    """
    return [line.rstrip("\r\n") for line in io.StringIO(text, newline="")]


def require_object(path: Path | str, document: object, what: str) -> dict:
    if not isinstance(document, dict):
        raise file_error(str(path), "bad-json", f"expected a JSON object ({what}), found {type(document).__name__}")
    return document


def json_path(*parts: object) -> str:
    """A dotted JSON path: json_path('report', 'prefill', 'latency', 'mean') -> 'report.prefill.latency.mean'."""
    return ".".join(str(p) for p in parts)


__all__ = ["read_text", "read_json", "physical_lines", "require_object", "json_path"]
