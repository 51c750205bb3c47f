"""Diagnostics: the one error format used by every stage (specs, run logs, command line).

A `Diagnostic` carries structured fields (code, message, location, cell path, hints) and renders itself in the
format documented in the README:

    error[unit-mismatch]: cannot add 'mem_bw' (byte/s) and 'tdp' (W)
      --> hardware/rtx_a5000.perf:12:18
       |
    12 |     roofline = mem_bw + tdp
       |                ^^^^^^^^^^^^
       = in: hardware.rtx_a5000.roofline
       = help: did you mean 'mem_bw * time'?

`PerfError` bundles one or more diagnostics; its `exit_status` is 1 for bad specs or logs, 2 for bad usage.
Nothing here prints: the command line decides where text goes.
"""

from __future__ import annotations

import difflib
import re
import heapq
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Iterable, Iterator, Sequence

EXIT_OK = 0
EXIT_SPEC_ERROR = 1
EXIT_USAGE_ERROR = 2
COMMAND_LINE = "--set "         # the file name of a value given with --set (overrides.py), as diagnostics locate it
API_OVERRIDE = "overrides["     # ... and of one given to the API (`overrides['batch']`, Program.evaluate)


# Whether the overrides being applied were given on the command line (cli.main sets it while a command runs): their
# values are then named as typed there (`--set batch`), else as the API takes them (`overrides['batch']`).
_FROM_COMMAND_LINE: ContextVar[bool] = ContextVar("perfdsl_overrides_from_command_line", default=False)
# The running command's arguments as typed (after `perfdsl`), for the hints that read how the shell split them.
_COMMAND_LINE_ARGS: ContextVar[tuple[str, ...]] = ContextVar("perfdsl_command_line_args", default=())


@contextmanager
def from_command_line(argv: Sequence[str] = ()) -> Iterator[None]:
    """Within it, the diagnostics of an override name it as the command line gives it (`--set batch`); outside it,
    as the Python API takes it (`overrides['batch']`). `argv`: the command's arguments as typed (command_line_args)."""
    token = _FROM_COMMAND_LINE.set(True)
    args_token = _COMMAND_LINE_ARGS.set(tuple(argv))
    try:
        yield
    finally:
        _COMMAND_LINE_ARGS.reset(args_token)
        _FROM_COMMAND_LINE.reset(token)


def from_the_command_line() -> bool:
    """Whether a command-line command is running (its diagnostics name options as typed there)."""
    return _FROM_COMMAND_LINE.get()


def command_line_args() -> tuple[str, ...]:
    """The running command's arguments as typed, after `perfdsl` (as the shell split them); () outside a command."""
    return _COMMAND_LINE_ARGS.get()


def override_origin(target: str) -> str:
    """The name of the override of `target` in diagnostics, where its value is located (errors.in_override):
    `--set batch` from the command line, `overrides['batch']` from the API."""
    return f"{COMMAND_LINE}{target}" if _FROM_COMMAND_LINE.get() else f"{API_OVERRIDE}{target!r}]"


def override_example(target: str, value: str) -> str:
    """How to give `target` the value `value` (as typed: `"900 GB/s"`, `1,8`, `...`), as the caller gives overrides:
    `--set rtx_a5000.mem_bw="900 GB/s"` on the command line, `overrides={'rtx_a5000.mem_bw': "900 GB/s"}` through
    the API."""
    return f"--set {target}={value}" if _FROM_COMMAND_LINE.get() else f"overrides={{{target!r}: {value}}}"


def override_key_help() -> str:
    """What an override's name may be, in the caller's form."""
    return "write CELL=VALUE, BLOCK.CELL=VALUE or ROLE.CELL=VALUE" if _FROM_COMMAND_LINE.get() else \
        "name a cell as 'CELL', 'BLOCK.CELL' or 'ROLE.CELL'"


def in_override(file: str) -> bool:
    """Whether a diagnostic's file is a value given as an override, on the command line (`--set batch`) or to the
    API (`overrides['batch']`), rather than a loaded file."""
    return file.startswith((COMMAND_LINE, API_OVERRIDE))


@dataclass(frozen=True, order=True)
class Location:
    """A place in a file. Lines and columns are 1-based; `end_col` is exclusive and on `line`.

    `detail` names a place that lines and columns do not, such as a run log's row and column name
    ("row 4, column 'runtime [ms]'") or a JSON path ("report.prefill.latency.mean"). `runs_on`: the place goes on
    past `line` (a formula written over several lines), so the caret marks `line` from `col` to the end of its code.
    """

    file: str
    line: int = 0
    col: int = 0
    end_col: int = 0
    detail: str = ""
    runs_on: bool = False

    def __str__(self) -> str:
        text = self.file
        if self.line:
            text += f":{self.line}"
            if self.col:
                text += f":{self.col}"
        if self.detail:
            text += f" ({self.detail})"
        return text


@dataclass(frozen=True)
class Tally:
    """The sweep points a warning counts, kept apart from its text so that the warnings of a sweep's chunks add up
    to the whole sweep's (streaming.keep_first): `count` of the sweep's `total` points, under `key` (the warnings
    whose counts add: one constraint, or one cell's floating-point trouble). The text is `before`, the count in
    words (`points_text`), then `after`, in the diagnostic's message or in its first note (`in_note`). `verb` is
    the phrase after the count: "break it" or "are affected"."""

    key: tuple
    count: int
    total: int
    verb: str
    before: str = ""
    after: str = ""
    in_note: bool = False

    def text(self) -> str:
        return self.before + points_text(self.count, self.total, self.verb) + self.after


def points_text(count: int, total: int, verb: str) -> str:
    """"3 of 1,000 sweep points break it", "every sweep point (1,000) breaks it", "the only sweep point is affected".
    `verb` is the plural phrase ("break it", "are affected")."""
    singular = {"break it": "breaks it", "are affected": "is affected"}.get(verb, verb)
    if total == 1:
        return f"the only sweep point {singular}"
    if count == total and verb == "break it":
        return f"every sweep point ({total:,}) {singular}"
    return f"{count:,} of {total:,} sweep points {verb}"


@dataclass
class Diagnostic:
    """One error, warning or note about the input: its `code` (a key of dsl/error_codes.py), message, where it is
    (`location`, with the quoted `source_line`), the cell path it concerns, and its notes and hints.

    `severity` is "error", "warning" or "note"; only errors make a command fail."""

    code: str
    message: str
    location: Location | None = None
    source_line: str | None = None
    path: str | None = None
    hints: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    severity: str = "error"
    tally: Tally | None = None          # the sweep points it counts (a warning over a sweep), where its text says

    def sort_key(self) -> tuple:
        """The order diagnostics are reported in: by file, line, column, code and message; those without a location
        last."""
        loc = self.location
        if loc is None:
            return ("~", 0, 0, self.code, self.message)
        return (loc.file, loc.line, loc.col, self.code, self.message)

    def render(self) -> str:
        """The diagnostic as printed: `severity[code]: message`, then the location, the quoted line with a caret under
        columns col..end_col, and its notes, cell path and hints (the format the module docstring shows). Every part
        is passed through `printable`: text from a spec or a log (a cell holding a terminal escape sequence, a NUL)
        is shown escaped (\\x1b), never sent to the terminal as it is; the caret stays under the escaped text."""
        lines = [f"{self.severity}[{self.code}]: {printable(self.message)}"]
        loc = self.location
        gutter = " "
        if loc is not None:
            number = str(loc.line) if loc.line else ""
            gutter = " " * max(len(number), 1)
            lines.append(f"{gutter} --> {printable(str(loc))}")
            if self.source_line is not None and loc.line:
                text, column = _quoted_line(self.source_line.rstrip("\n"), loc.col)
                lines.append(f"{gutter} |")
                lines.append(f"{number} | {printable(text)}")
                if loc.col:
                    if loc.runs_on:     # to the end of the line's code (before a comment)
                        width = max(_code_end(self.source_line.rstrip("\n")) - (loc.col - 1), 1)
                    else:
                        width = max((loc.end_col - loc.col) if loc.end_col > loc.col else 1, 1)
                    # columns count characters of the line; the caret counts those of the quoted text (tabs
                    # expanded, a long line cut to a window)
                    start = column(loc.col - 1)
                    width = max(column(loc.col - 1 + width) - start, 1)
                    width = min(width, max(len(text) - start, 1))
                    # where the text before or under the caret was escaped, the caret moves and widens with it
                    start, width = len(printable(text[:start])), len(printable(text[start:start + width]))
                    lines.append(f"{gutter} | {' ' * start}{'^' * max(width, 1)}")
        for note in self.notes:
            lines.append(f"{gutter} = note: {printable(note)}")
        if self.path:
            lines.append(f"{gutter} = in: {printable(self.path)}")
        for hint in self.hints:
            lines.append(f"{gutter} = help: {printable(hint)}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


# Characters a terminal acts on rather than shows, and those that hide or reorder text: C0 controls but the tab (a
# line feed inside a message, a log cell's, would start a line that reads as perfdsl's own), DEL, C1 controls (0x9b
# is a one-byte CSI), the bidirectional overrides and isolates ("Trojan Source"), zero-width and line or paragraph
# separators, and a BOM inside text.
_UNPRINTABLE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064"
                          "\u2066-\u2069\ufeff]")


_NAMED = {"\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match) -> str:
    if match.group() in _NAMED:
        return _NAMED[match.group()]
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` safe to print to a terminal: each character a terminal would act on (ESC of an escape sequence, BEL,
    NUL, a carriage return, C1 controls) or that hides or reorders text (bidirectional overrides, zero-width
    characters) written as a Python escape (\\x1b, \\u202e, \\n: a diagnostic's parts are one line each);
    everything else, tabs included, as it is. Used by Diagnostic.render on every part of every diagnostic, so
    specs, logs and the command line all get it."""
    return _UNPRINTABLE.sub(_escape, text)


# A source line longer than this is quoted as a window around the column (a fuzzed log's header of 63,000 commas,
# quoted whole under each of its errors, made gigabytes of output).
QUOTE_WIDTH = 160


def _code_end(line: str) -> int:
    """The length of a line's code: up to a `#` comment outside a string, trailing blanks left out."""
    quoted = False
    for i, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == "#" and not quoted:
            return len(line[:i].rstrip())
    return len(line.rstrip())


def _quoted_line(line: str, col: int) -> tuple[str, Callable[[int], int]]:
    """The line as quoted under a diagnostic (tabs as 4 spaces), and where a character of it lands in the quote: a
    function from a 0-based index in `line` to the 0-based column in the quoted text, so that the caret line expands
    tabs as the text does (a caret under `\t\tctx = 1024 GBs` counted each tab as one column). Lines longer than
    QUOTE_WIDTH are cut to a window around `col`, with '...' where text is left out."""
    start, end = 0, len(line)
    if len(line) > QUOTE_WIDTH:
        start = max(0, min(col - 1 - QUOTE_WIDTH // 2, len(line) - QUOTE_WIDTH))
        end = start + QUOTE_WIDTH
    lead = "..." if start else ""
    window = line[start:end]
    text = lead + window.expandtabs(4) + ("..." if end < len(line) else "")

    def column(index: int) -> int:
        inside = min(max(index - start, 0), len(window))
        # past the window's end (a caret running on past the cut): as far past the quoted text
        return len(lead) + len(window[:inside].expandtabs(4)) + max(index - start - len(window), 0)

    return text, column


class PerfError(Exception):
    """One or more diagnostics about bad input (a spec or a log). Exit status 1, or 2 where every error is in a
    value given on the command line (`--set`: its diagnostics are located in the file `--set NAME`)."""

    def __init__(self, diagnostics: Diagnostic | Sequence[Diagnostic]):
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        super().__init__(self.render())

    @property
    def exit_status(self) -> int:
        """1 (EXIT_SPEC_ERROR), or 2 (EXIT_USAGE_ERROR) where every error (or, with none, every diagnostic) is located
        in an override's value (`--set` on the command line, `overrides=` in the API)."""
        errors = [d for d in self.diagnostics if d.severity == "error"] or self.diagnostics
        if errors and all(d.location is not None and in_override(d.location.file) for d in errors):
            return EXIT_USAGE_ERROR
        return EXIT_SPEC_ERROR

    def render(self) -> str:
        """Every diagnostic rendered, separated by a blank line: the errors first, then the warnings and notes, each
        in sort_key order, so that the text of an exception (str(), a traceback's last line) leads with what went
        wrong and not with the warnings that came with it (whose files may sort first: an API override's
        `overrides['batch']` sorts after a library file, the command line's `--set batch` before it)."""
        ordered = sorted(self.diagnostics, key=lambda d: d.severity != "error")     # stable: sort_key kept within
        return "\n\n".join(d.render() for d in ordered)

    def __str__(self) -> str:
        return self.render()


class UsageError(PerfError):
    """A mistake on the command line or in an API call. Exit status 2."""

    @property
    def exit_status(self) -> int:
        """Always 2 (EXIT_USAGE_ERROR)."""
        return EXIT_USAGE_ERROR


class UnknownColumn(UsageError, KeyError):
    """A name that no shown column has, asked of a result (`result.column("tpott")`, `array`, an Answer's `column`):
    a UsageError like every bad call, and a KeyError too, as a lookup by name, so that `except KeyError` written
    before it was a UsageError still catches it. Its str() is the rendered diagnostic, not KeyError's quoted key."""


def dedupe(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """One diagnostic per message and place; a warning where an error already stands is left out."""
    errors_at = {str(d.location) for d in diagnostics if d.severity == "error" and d.location is not None}
    seen, unique = set(), []
    for diag in diagnostics:
        if diag.severity == "warning" and diag.location is not None and str(diag.location) in errors_at:
            continue
        key = (diag.code, diag.message, str(diag.location))
        if key not in seen:
            seen.add(key)
            unique.append(diag)
    return sorted(unique, key=Diagnostic.sort_key)


def error(code: str, message: str, location: Location | None = None, *, source_line: str | None = None,
          path: str | None = None, hints: Iterable[str] = (), notes: Iterable[str] = ()) -> Diagnostic:
    """A Diagnostic of severity "error" (a constructor with keyword fields); raises nothing: wrap it in PerfError or
    UsageError to report it."""
    return Diagnostic(code, message, location, source_line, path, list(hints), list(notes))


def byte_position(data: bytes, offset: int) -> tuple[int, int, str]:
    """(line, column, the line's text) of a byte offset in undecodable data, for a "not UTF-8" error: lines and
    columns are 1-based, columns count characters, and bytes that are not UTF-8 show as U+FFFD in the text."""
    start = data.rfind(b"\n", 0, offset) + 1
    end = data.find(b"\n", offset)
    text = data[start:end if end >= 0 else len(data)].decode("utf-8", errors="replace").rstrip("\r")
    column = len(data[start:offset].decode("utf-8", errors="replace")) + 1
    return data.count(b"\n", 0, offset) + 1, column, text


# Comparisons of names that 'did you mean' hints may make in one process. Each comparison costs microseconds, but a
# file with thousands of unknown names among thousands of cells made millions of them (minutes of `perfdsl check`);
# past the budget (per command: limits.recursion_room resets it), hints name no close match. Hints are help, not
# results: the errors are reported all the same.
SUGGEST_BUDGET = 300_000
_compared = 0


def reset_suggestions() -> None:
    """Give 'did you mean' hints a fresh SUGGEST_BUDGET (each command and each check or evaluation does)."""
    global _compared
    _compared = 0


def suggest(name: str, candidates: Iterable[str], limit: int = 3) -> list[str]:
    """The closest names to `name`, best first (for 'did you mean' hints); [] once SUGGEST_BUDGET is spent.
    Only candidates whose length lets them reach difflib's cutoff (2 * shorter / both lengths >= 0.6) are compared:
    the others cannot be suggested anyway."""
    global _compared
    if _compared >= SUGGEST_BUDGET:
        return []
    names = candidates if isinstance(candidates, (list, tuple, set, frozenset, dict)) else list(candidates)
    _compared += len(names)                      # looking at a name costs too
    size = len(name)
    pool = sorted({c for c in names if 2 * min(size, len(c)) >= 0.6 * (size + len(c))})
    if _compared + len(pool) > SUGGEST_BUDGET:
        return []
    _compared += len(pool)
    return list(_closest(name, tuple(pool), limit))


@lru_cache(maxsize=4096)
def _closest(name: str, pool: tuple[str, ...], limit: int) -> tuple[str, ...]:
    """suggest's answer among `pool` (sorted), kept: the programs of one `perfdsl check` ask for the same names
    among the same candidates (each report cell of the library's reports among the report options: 161 times in a
    check of the library files, about 50 us of difflib each)."""
    # A name that differs only in case (`FP8` for `fp8`) comes first: difflib scores case as any other letter.
    # One spelling of it is enough (`kFLOP`, not `kflop` too).
    same = [c for c in pool if c != name and c.lower() == name.lower()][:1]
    close = difflib.get_close_matches(name, pool, n=limit, cutoff=0.6)
    if not close and not same:
        close = difflib.get_close_matches(name.lower(), pool, n=limit, cutoff=0.6)
    return tuple((same + [c for c in close if c.lower() != name.lower()])[:limit])


def near_miss(name: str, other: str) -> bool:
    """Whether `name` is close enough to `other` to be a typo of it (a letter or two left out, doubled or swapped:
    difflib's ratio at least 0.85), not another word that shares a stem (`section_title` beside `section`)."""
    matcher = difflib.SequenceMatcher(None, name, other)
    # The two quick ratios are upper bounds of ratio(), cheap to compute: most names fail them (as in difflib's own
    # get_close_matches).
    return matcher.real_quick_ratio() >= 0.85 and matcher.quick_ratio() >= 0.85 and matcher.ratio() >= 0.85


def did_you_mean(name: str, candidates: Iterable[str]) -> list[str]:
    """The hint "did you mean 'a' or 'b'?" for the candidates closest to `name` (see suggest), as a list of one line, or
    [] where none is close or the suggestion budget is spent."""
    close = suggest(name, candidates)
    if not close:
        return []
    return ["did you mean " + " or ".join(f"'{c}'" for c in close) + "?"]


def available(candidates: Iterable[str], limit: int = 12) -> str:
    """'available: a, b, c and N more': the first `limit` names in order (picked without sorting them all, since
    one check can ask this for every unknown name of a large file)."""
    names = set(candidates)
    if not names:
        return "nothing is defined here"
    shown = ", ".join(heapq.nsmallest(limit, names))
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return f"available: {shown}{more}"


def with_more_points(diag: Diagnostic, more: Diagnostic) -> Diagnostic:
    """`diag` with the points `more` counts added to its tally (the same warning from another chunk of the sweep),
    its text rewritten; a copy: `diag` itself is unchanged."""
    from dataclasses import replace

    tally = replace(diag.tally, count=diag.tally.count + more.tally.count)
    if tally.in_note:
        return replace(diag, tally=tally, notes=[tally.text()] + diag.notes[1:])
    return replace(diag, tally=tally, message=tally.text())
