"""Where the keys and values of a JSON object are in its text, for diagnostics located at line:col.

json.loads gives values, not places; a config.json's value errors (`"num_hidden_layers": "44"`) were located at
the file alone. `object_spans` walks the text of a document json.loads has already read (so it is valid JSON) and
records, for each key of its top-level object and of the objects one level inside it (`text_config`), where the
key and its value are. A key given twice is located at its last mention: json.loads keeps the last value.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from .errors import Location

_BLANK = re.compile(r"[ \t\n\r]*")
_SCAN = json.JSONDecoder().scan_once         # (value, end offset) of the JSON value at an offset
_STRING = json.decoder.scanstring            # (text, end offset) of a string whose opening quote is just before


@dataclass(frozen=True)
class Span:
    """One key of an object: the offsets (0-based, into the document's text) of its quoted key and of its value's
    first character and one past its last."""

    key_start: int
    value_start: int
    value_end: int


@dataclass
class ObjectSpans:
    """The place of one JSON object: the offset of its `{`, its keys' Spans, and the ObjectSpans of the values that
    are objects themselves (one level down only)."""

    start: int
    keys: dict[str, Span] = field(default_factory=dict)
    inner: dict[str, "ObjectSpans"] = field(default_factory=dict)


def object_spans(text: str, depth: int = 2) -> ObjectSpans | None:
    """The spans of the object `text` holds (a JSON document json.loads has read), its inner objects `depth - 1`
    levels down; None where the document is not an object. Raises nothing for valid JSON."""
    start = _BLANK.match(text, 0).end()
    if text[start:start + 1] != "{":
        return None
    spans, _ = _object(text, start, depth)
    return spans


def _object(text: str, start: int, depth: int) -> tuple[ObjectSpans, int]:
    spans = ObjectSpans(start)
    at = _BLANK.match(text, start + 1).end()
    if text[at] == "}":
        return spans, at + 1
    while True:
        key_start = at
        key, at = _STRING(text, at + 1)
        at = _BLANK.match(text, at).end() + 1                  # past the ':'
        value_start = _BLANK.match(text, at).end()
        if text[value_start] == "{" and depth > 1:
            spans.inner[key], at = _object(text, value_start, depth - 1)
        else:
            spans.inner.pop(key, None)
            _, at = _SCAN(text, value_start)
        spans.keys[key] = Span(key_start, value_start, at)
        at = _BLANK.match(text, at).end()
        if text[at] == "}":
            return spans, at + 1
        at = _BLANK.match(text, at + 1).end()                  # past the ','


def place(text: str, file: str, start: int, end: int) -> tuple[Location, str]:
    """The Location (1-based line and column; the caret to `end`, or to the end of the line where the text runs on
    past it) of the characters start..end of `text`, and the line they start on (the diagnostic's quoted line)."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    line_end = len(text) if line_end < 0 else line_end
    col = start - line_start + 1
    runs_on = end > line_end
    end_col = (line_end if runs_on else end) - line_start + 1
    return (Location(file, text.count("\n", 0, start) + 1, col, end_col, runs_on=runs_on),
            text[line_start:line_end].rstrip("\r"))
