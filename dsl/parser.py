"""Parser facade (stage 1 -> 2): .perf text -> typed IR, built by Lark's LALR parser as it reduces each rule.

The only module that imports lark. The parser is built once per process; Lark's analysis of the grammar is kept in
a private per-user cache folder (`user_cache`), never in the shared temporary folder, where another local user
could plant a pickle for us to load. No parse tree is built: the parser calls `ir_builder.IRBuilder`'s method for each
rule as it reduces it (Lark's `transformer=`). Lark's exceptions are turned into perfdsl Diagnostics that keep the
file, line and column. Unit errors found while building the IR are collected, so one pass reports every bad unit of a
file.

Input depth cannot drive recursion here: Lark's LALR parser keeps its own stack, the IR is built bottom-up as rules
are reduced, and a formula nested deeper than `limits.MAX_EXPR_DEPTH` is a located error[too-deep] (the checker and
evaluator that follow do recurse over formulas).
"""

from __future__ import annotations

import os
import re
import sys
import threading
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from . import ir, parse_cache
from .errors import Diagnostic, Location, PerfError, error
from .ir_builder import CODE_BEFORE_COMMENT as _CODE_BEFORE_COMMENT
from .ir_builder import IRBuilder
from .units import is_unit as _is_unit

if TYPE_CHECKING:      # lark is imported when a file is parsed: a run whose files are all cached never needs it
    from lark import Lark
    from lark.exceptions import UnexpectedInput
from .user_cache import trusted_entry, write_atomically

GRAMMAR_PATH = Path(__file__).with_name("grammar.lark")
BOM = "\ufeff"             # a byte order mark: what `utf-8-sig` drops from the start of a text

_TERMINAL_NAMES = {
    "NAME": "a name",
    "NUMBER": "a number",
    "QUANTITY": "a number with a unit",
    "STRING": "a string",
    "UNIT": "a unit",
    "KIND": "a block kind (" + ", ".join(ir.BLOCK_KINDS) + ")",
    "COMPARE": "a comparison",
    "ADD_OP": "'+' or '-'",
    "MUL_OP": "'*' or '/'",
    "DIRECTION": "'min' or 'max'",
    "$END": "the end of the file",
}

_NUMBER_THEN_NAME = re.compile(r"(\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?)[ \t]+([A-Za-z_]\w*)[ \t]*$")
_EMPTY_VALUE = re.compile(r"(?<![=<>!])=[ \t]*(?:#[^\n]*)?\n(?:[ \t]*(?:#[^\n]*)?\n)*[ \t]*[A-Za-z_]\w*[ \t]*$")
_REQUIRE_START = re.compile(r"(?m)^[ \t]*((?:require|expect)\b)")




def grammar_text() -> str:
    """grammar.lark with its KIND terminal generated from ir.BLOCK_KINDS, the one list of block kinds."""
    kinds = " | ".join(f'"{kind}"' for kind in ir.BLOCK_KINDS)
    return re.sub(r"^KIND:.*$", lambda _: f"KIND: {kinds}", GRAMMAR_PATH.read_text(encoding="utf-8"), count=1,
                  flags=re.M)


# Lark binds the builder's methods once, so one builder serves every parse; the lock gives it to one parse at a time
# (threads of a notebook or a Dask worker). A parse that fails has released it before its error is described, which
# parses the examples of syntax_errors.py; the lock is re-entrant and `_build` restores the builder's state all the
# same, so a parse started from inside another could not break it.
_BUILDER = IRBuilder()
_BUILDER_LOCK = threading.RLock()


def _new_lock_after_fork() -> None:
    """A child forked while another thread was parsing gets a lock of its own (the parent's would stay held)."""
    global _BUILDER_LOCK
    _BUILDER_LOCK = threading.RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_lock_after_fork)


# Lark's options for perfdsl's grammar; part of the grammar cache's key.
_LARK_OPTIONS = {"parser": "lalr", "lexer": "contextual", "start": ["start", "value_text"],
                 "maybe_placeholders": False}
_GRAMMAR_FORMAT = b"perfdsl-grammar-1"    # the first line of a grammar cache entry, before its key


@lru_cache(maxsize=1)
def _lark() -> Lark:
    """The parser, built once per process: its tables loaded from the grammar cache where an entry of this grammar,
    these options, this lark and this Python is there, else analysed (about 60 ms; loading takes about 5 ms, 2-core
    machine, lark 1.3.1) and the entry written.

    perfdsl keys the entry itself rather than pass `cache=PATH` to Lark: Lark's key holds the path of its cache file
    (its options, `cache` among them, are hashed), so a cache folder that was copied or moved (as the benchmarks'
    cold runs copy a folder holding only this entry) was never loaded, and the grammar was analysed again at each
    start. The entry is Lark's own `save` behind one line of ours; it is read as Lark reads its cache
    (`Lark._load`, with the transformer, which is not saved), and written atomically and owner-only
    (user_cache.write_atomically), so no umask makes it untrusted."""
    import io

    from lark import Lark
    from lark.lark import _LOAD_ALLOWED_OPTIONS

    text = grammar_text()
    path = _cache_file()
    header = _GRAMMAR_FORMAT + b" " + _grammar_key(text).encode() + b"\n"
    if path is not None:
        try:
            with open(path, "rb") as handle:
                if handle.readline() == header:
                    return Lark.__new__(Lark)._load(handle, transformer=_BUILDER)
        except Exception:                 # noqa: BLE001 - any doubt about an entry means: analyse the grammar
            pass
    built = Lark(text, transformer=_BUILDER, **_LARK_OPTIONS)
    if path is not None:
        tables = io.BytesIO()
        tables.write(header)
        built.save(tables, _LOAD_ALLOWED_OPTIONS)      # what Lark's own cache leaves out: the transformer and such
        try:
            write_atomically(Path(path), tables.getvalue(), "grammar-")
        except OSError:
            pass                          # a read-only or full disk: analysed again next time
    return built


def load_parser() -> None:
    """Import lark and load the parser's tables now (about 45 ms, 2-core machine) rather than at the first parse:
    `perfdsl check` does so before it forks its workers, which then inherit the loaded parser instead of each
    loading it again."""
    _lark()


def _grammar_key(text: str) -> str:
    """The grammar cache entry's key: the grammar's text, Lark's options, and the versions of lark and Python."""
    import hashlib

    import lark

    return hashlib.sha256(f"{text}\0{sorted(_LARK_OPTIONS.items())}\0lark {lark.__version__}\0{sys.version}"
                          .encode("utf-8")).hexdigest()


def _build(text: str, file: str, start: str, one_value: bool = False):
    """Parse `text` from its `start` rule into IR: (what the rule built, the builder's diagnostics, those of them found
    in `set { ... }` blocks). Raises lark's UnexpectedInput on a syntax error."""
    with _BUILDER_LOCK:
        outer = _BUILDER.state()
        _BUILDER.begin(text, file, one_value)
        try:
            built = _lark().parse(text, start=start)
            return built, _BUILDER.diagnostics, _BUILDER.set_diagnostics
        finally:
            _BUILDER.restore(outer)


def _cache_file() -> str | None:
    """Where the grammar cache entry (Lark's analysis of the grammar, a pickle) is kept in the private cache folder
    (`user_cache`), or None to build it in memory each process. `_lark` checks the key written in the file and
    rebuilds on a mismatch."""
    import lark

    path = trusted_entry(f"grammar-lark{lark.__version__}-py{sys.version_info[0]}{sys.version_info[1]}.cache")
    return None if path is None else str(path)


_BLOCK_START = re.compile(r"^[ \t]*(?:import[ \t]+\"|set[ \t]*\{|(?:" + "|".join(ir.BLOCK_KINDS)
                          + r")[ \t]+[A-Za-z_])", re.M)


def parse_text(text: str, file: str = "<text>") -> ir.Module:
    """Parse a whole .perf file into a Module, or raise PerfError with every diagnostic found: PartialParse, which
    holds the Module, where only errors after which the file is still checked were found (CHECKED_ON).

    The same text under the same name gives the same Module (the IR is frozen), so it is parsed once per process:
    `perfdsl check` of every library loads each file as a program of its own, and the files they import (the cost
    model, the model and GPU families) were parsed again for each (22 files took 82 parses). And once across
    processes: a file that parsed cleanly is kept in the on-disk cache (parse_cache.py) and loaded from it while its
    text, its name and perfdsl's code stay the same.

    A byte order mark at the start (U+FEFF, which Windows editors write before UTF-8 text) is no part of the code:
    it is dropped, so the first line's columns are those an editor shows and the other lines' are unchanged."""
    return _parse_module(plain_text(text), file)


def plain_text(text: str) -> str:
    """A file's text as the parser reads it: a byte order mark at its start dropped, and, in a file whose lines all
    end in a lone carriage return (an old Mac editor's), those ends made line feeds, so that its lines are counted
    (every place was on line 1). One character for one: columns and offsets are unchanged."""
    text = text.removeprefix(BOM)
    if "\r" in text and "\n" not in text:
        text = text.replace("\r", "\n")
    return text


@lru_cache(maxsize=512)
def _parse_module(text: str, file: str) -> ir.Module:
    cached = parse_cache.load(text, file)
    if cached is not None:
        return cached
    from lark.exceptions import UnexpectedInput

    try:
        module, diagnostics, _ = _build(text, file, "start")
    except UnexpectedInput as exc:
        first = _syntax_diagnostic(exc, text, file)
        raise PerfError([first] + _later_errors(text, file, first.location.line if first.location else 0)) from None
    if diagnostics:
        if all(diagnostic.code in CHECKED_ON for diagnostic in diagnostics):
            raise PartialParse(diagnostics, module)
        raise PerfError(diagnostics)
    parse_cache.store(text, file, module)             # clean modules only: a file with errors reports them each time
    return module


# The errors the IR builder reports after which the module it built is still checked (loader.py, Program.load): each
# leaves nothing behind that the checker would misread. A literal with an unknown unit, a number too large and the 0
# that stands for a formula too deep are Nums of unknown dimension (ir.Num.dim None), which the checker types
# unknown; a question outside a report is kept in its block, where nothing reads it. The rest stop at the parse: a
# string with an unknown escape keeps the escape as written (a path or a choice compared with it would err again),
# and a choice that mixes strings and block names has no one kind of value.
CHECKED_ON = frozenset({"unknown-unit", "unit-out-of-range", "number-too-large", "too-deep",
                        "question-outside-report"})


class PartialParse(PerfError):
    """The errors of a file that parsed but whose IR builder reported errors after which it is still checked (every
    one in CHECKED_ON), with the `module` built: `perfdsl check` links and checks it, so one run reports every error
    of the file, and the evaluation of a program that holds it is refused with them all (Program.load). Never kept
    in the parse cache."""

    def __init__(self, diagnostics: list[Diagnostic], module: ir.Module):
        super().__init__(diagnostics)
        self.module = module


def _later_errors(text: str, file: str, line: int) -> list[Diagnostic]:
    """After a syntax error, parse every later block on its own, so that one `perfdsl check` reports the errors
    of every block, each with the line and column it has in the file."""
    found: list[Diagnostic] = []
    starts: list[tuple[int, int]] = []          # (offset, line) of each later block; lines counted as we go
    number, counted = 1, 0
    for match in _BLOCK_START.finditer(text):
        number += text.count("\n", counted, match.start())
        counted = match.start()
        if number > line:
            starts.append((counted, number))
    ends = [offset for offset, _ in starts[1:]] + [len(text)]
    for (begin, first_line), end in zip(starts, ends):
        # Each block is parsed alone and its diagnostics moved down to its place in the file (a block starts at the
        # start of a line, so columns stay): each costs time in its own size, so the rest of a file is checked in
        # time proportional to the file's size, not to its size times its number of blocks.
        found.extend(_moved(_block_errors(text[begin:end], file, first_line - 1), first_line - 1))
    return found


def _block_errors(alone: str, file: str, lines_before: int = 0) -> list[Diagnostic]:
    """The diagnostics of the blocks in `alone` (a piece of a file cut at a block's start): its syntax error, or the
    errors found while building its blocks (not those of a `set { ... }` in it)."""
    from lark.exceptions import UnexpectedInput

    try:
        _, diagnostics, in_sets = _build(alone, file, "start")
    except UnexpectedInput as exc:
        return [_syntax_diagnostic(exc, alone, file, lines_before)]
    skipped = {id(diagnostic) for diagnostic in in_sets}
    return [diagnostic for diagnostic in diagnostics if id(diagnostic) not in skipped]


def _moved(diagnostics: list[Diagnostic], lines: int) -> list[Diagnostic]:
    for diagnostic in diagnostics:
        if diagnostic.location is not None and diagnostic.location.line:
            diagnostic.location = replace(diagnostic.location, line=diagnostic.location.line + lines)
    return diagnostics


def parse_value(text: str, origin: str = "--set") -> list[ir.Expr] | ir.RangeExpr:
    """Parse a value given on the command line: one expression, a comma-separated list, or a range."""
    from lark.exceptions import UnexpectedInput

    try:
        # a --set value has no next cell: no hint to separate one
        value, diagnostics, _ = _build(text, origin, "value_text", one_value=True)
    except UnexpectedInput as exc:
        raise PerfError(_syntax_diagnostic(exc, text, origin)) from None
    if diagnostics:
        raise PerfError(diagnostics)
    return value


def _line_of(text: str, line: int) -> str:
    """Line `line` (1-based) of `text` as the parser counts lines (at '\n' only, as blocks.SourceLines: a string may
    hold U+2028 or a form feed, where str.splitlines would also cut), without its '\r'; "" out of range."""
    lines = text.split("\n")
    return lines[line - 1].removesuffix("\r") if 0 < line <= len(lines) else ""


def _describe_terminal(name: str) -> str:
    if name in _TERMINAL_NAMES:
        return _TERMINAL_NAMES[name]
    for term in _lark().terminals:
        if term.name == name and term.pattern.type == "str":
            return f"'{term.pattern.value}'"
    return name


_LEADING_DOT = re.compile(r"\.\d[\d_]*([eE][+-]?\d+)?")      # `.5`, `.25e3`: a number without its leading 0

# Characters that typography puts where the language has ASCII (a datasheet's minus sign, a product's times sign, a
# no-break space between a number and its unit): what to write instead.
LOOK_ALIKES = {
    "\u2212": "'-' (a minus)", "\u2013": "'-' (a minus)", "\u2014": "'-' (a minus)", "\u2010": "'-' (a minus)",
    "\u00d7": "'*' (times)", "\u22c5": "'*' (times)", "\u00b7": "'*' (times)", "\u2219": "'*' (times)",
    "\u00f7": "'/' (divided by)", "\u2215": "'/' (divided by)",
    "\u00a0": "a plain space", "\u2009": "a plain space", "\u202f": "a plain space", "\u2007": "a plain space",
    "\u200b": "nothing (it is a zero-width space)", "\ufeff": "nothing (a byte order mark inside the text)",
    "\u201c": "'\"' (a straight double quote)", "\u201d": "'\"' (a straight double quote)",
    "\u2018": "'\"' (strings are in straight double quotes)", "\u2019": "'\"' (strings are in straight double quotes)",
    "\u2264": "'<='", "\u2265": "'>='", "\u2260": "'!='", "\u2248": "'==' or a number",
}


def _named_character(char: str) -> str:
    """A character as an error names it: quoted, and for one outside ASCII its code point and Unicode name, since a
    minus sign and '-', or a no-break space and a space, look alike (`'−' (U+2212 MINUS SIGN)`)."""
    if not char or char.isascii():
        return repr(char)
    import unicodedata

    name = unicodedata.name(char, "")
    return f"{char!r} (U+{ord(char):04X}{' ' + name if name else ''})"


def _syntax_diagnostic(exc: UnexpectedInput, text: str, file: str, lines_before: int = 0) -> Diagnostic:
    """The diagnostic of a syntax error in `text` (lines and columns within it; the caller moves them where `text`
    is a block cut from a file, and passes `lines_before`, the lines above it, for the notes that quote a place)."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    from .syntax_errors import keyword_slip, name_slip, written_slip

    line = getattr(exc, "line", 0) or 0
    col = getattr(exc, "column", 0) or 0
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        line, col = _end_of_code(text)
        expected = sorted(getattr(exc, "expected", ()) or ())
        message = "the file ends too early"
        hints = []
        notes = []
        if "RBRACE" in expected:
            hints.append("a block is not closed: add '}'")
            block = _open_block(text, len(text))
            if block is not None:
                notes.append(_unclosed_block_note(text, (_block_title(*block[:2]), block[2]), file, lines_before))
        elif "RSQB" in expected:
            hints.append("a list is not closed: add ']'")
        elif expected:
            hints.append("expected " + ", ".join(_describe_terminal(t) for t in expected[:6]))
        loc = Location(file, line, col, col + 1)
        return error("syntax", message, loc, source_line=_line_of(text, line), hints=hints, notes=notes)

    if isinstance(exc, UnexpectedCharacters):
        char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        loc = Location(file, line, col, col + 1)
        hints = []
        if char == "'":
            hints.append('strings are written in double quotes: "like this"')
        elif char == '"' and '"' not in _line_of(text, line)[col:]:
            hints.append("a string is not closed: end it with '\"' on the same line (a string does not run over "
                         "lines)")
        elif char in LOOK_ALIKES:
            hints.append(f"write {LOOK_ALIKES[char]} instead (characters pasted from a datasheet or a word "
                         "processor look alike but are not the language's)")
        return error("syntax", f"unexpected character {_named_character(char)}", loc,
                     source_line=_line_of(text, line), hints=hints)

    assert isinstance(exc, UnexpectedToken)
    token = exc.token
    expected = sorted(exc.expected)
    width = max(len(str(token)), 1)
    loc = Location(file, line, col, col + width)
    found = f"'{token}'"
    hints = []
    written = written_slip(text, token.start_pos, str(token))
    if written is not None:
        # Told by the text before the token (`where = 1 ms`, `mem_bw: 1 TB/s`, `show a.x b.y`, `1 ... 8`): no
        # example is parsed (name_slip's first call parses them all).
        line = text.count("\n", 0, written.start) + 1
        col = written.start - (text.rfind("\n", 0, written.start) + 1) + 1
        return error("syntax", written.message, Location(file, line, col, col + written.length),
                     source_line=_line_of(text, line), hints=list(written.hints))
    keyword = keyword_slip(text, token.start_pos, str(token), _keywords_at(text, token.start_pos))
    if keyword is not None:
        # `swep tp = [4, 8]`, `improt "x.perf"`: a keyword a letter or two off, located at the word.
        line = text.count("\n", 0, keyword.start) + 1
        col = keyword.start - (text.rfind("\n", 0, keyword.start) + 1) + 1
        return error("syntax", keyword.message, Location(file, line, col, col + keyword.length),
                     source_line=_line_of(text, line), hints=list(keyword.hints))
    prev = _previous_token_text(text, exc.pos_in_stream if hasattr(exc, "pos_in_stream") else token.start_pos)
    slip = name_slip(exc, _parse_file)
    empty_value = slip == "equal_after_cell" and _EMPTY_VALUE.search(text, _window(token.start_pos), token.start_pos)
    number_then_name = slip == "equal_after_cell" and _NUMBER_THEN_NAME.search(text, _window(token.start_pos),
                                                                               token.start_pos)
    unclosed = _unclosed_block(text, token.start_pos)
    question = _question_slip(text, token.start_pos) if slip == "space_in_unit" else None
    leading_dot = _LEADING_DOT.match(text, token.start_pos) if str(token) == "." else None
    if leading_dot is not None and text[:token.start_pos].rstrip()[-1:] in tuple("=+-*/(,[^<>"):
        # `u = .5`: a number starts with a digit (the '.' was read as a name's dot, and the value looked missing).
        message = f"unexpected {found}: a number starts with a digit"
        hints.append(f"write 0{leading_dot.group(0)}")
    elif slip == "missing_value" or empty_value:
        # `a = }`, or `mem_bw =` ending its line (the next line's name was read as its value): point at the '='.
        eq_pos = empty_value.start() if empty_value else text.rfind("=", 0, token.start_pos)
        line = text.count("\n", 0, eq_pos) + 1
        eq_col = eq_pos - (text.rfind("\n", 0, eq_pos) + 1) + 1
        message = "a cell has no value after '='"
        hints.append("write a value or a formula after '=', e.g. `mem_bw = 768 GB/s`")
        loc = Location(file, line, eq_col, eq_col + 1)
    elif slip == "require_without_message" and _require_without_message(text[:token.start_pos]) is not None:
        # `require batch >= 1` (or `expect ...`) and then the next line: the message after a comma is missing.
        start = _require_without_message(text[:token.start_pos])
        line = text.count("\n", 0, start) + 1
        col = start - (text.rfind("\n", 0, start) + 1) + 1
        end = text.find("\n", start)
        keyword = "expect" if text.startswith("expect", start) else "require"
        message = f"{'an' if keyword == 'expect' else 'a'} `{keyword}` has no message"
        hints.append(f'write the message after a comma: `{keyword} batch >= 1, "batch is at least 1"`')
        loc = Location(file, line, col, col + len(text[start:end if end >= 0 else None].rstrip()))
    elif unclosed is not None:
        # A block whose '}' is missing: the next block's header is read as its cells. Say which block is open.
        message = f"unexpected {found}: a block is not closed"
        hints.append(f"end {unclosed[0]} with '}}' before this block starts")
    elif slip == "missing_semicolon" or (slip is None and token.type == "QUANTITY"):
        message = f"unexpected {found}"
        hints.append("is a ';' missing between two cells on one line?")
    elif number_then_name:
        # `a = 1 b = 2`: the name of the next cell was read as the unit of the number before it.
        before = text[:token.start_pos]
        number, name = number_then_name.groups()
        message = f"unexpected {found}"
        if before.count("[") > before.count("]"):
            message += ": a list is not closed"
            hints.append("close the list with ']'")
        else:
            hints.append("is a ';' missing between two cells on one line?")
        hints.append(f"'{number} {name}' reads as the number {number} with the unit '{name}'")
    elif slip == "question_direction" or question is not None:
        # `best maximum x`, `best max x for model`, `max x per model`: located at the word that is wrong.
        message, start, hint = question or _direction_slip(text, token)
        line = text.count("\n", 0, start) + 1
        col = start - (text.rfind("\n", 0, start) + 1) + 1
        loc = Location(file, line, col, col + len(re.match(r"\w+", text[start:]).group(0)))
        hints.append(hint)
    elif slip == "space_in_unit" and re.fullmatch(r"[A-Za-z_]\w*", prev or ""):
        # A name alone where a cell should start: `bw = 768 G B` (a space inside a unit) or a stray word.
        message = f"unexpected {found} after '{prev}'"
        hints.append(f"a cell is written `{prev} = VALUE`")
        if _is_unit(prev):
            hints.append(f"if '{prev}' belongs to the unit before it, write the unit without spaces, "
                         "e.g. `768 GB/s`")
    elif slip == "unclosed_list":
        message = f"unexpected {found}: a list is not closed"
        hints.append("close the list with ']'")
    else:
        message = f"unexpected {found}"
        names = [_describe_terminal(t) for t in expected]
        block = _open_block(text, token.start_pos)
        if block is not None and block[0] != "report":      # a report's statements are no use in other blocks
            names = [name for name in names if name not in _REPORT_ONLY]
        if names:
            hints.append("expected " + _join(names[:8]))
        if str(token) == "," and block is not None and "';'" in names:
            hints.append("cells are separated by a new line or ';', not ','")
    notes = _unclosed_bracket_note(text, token.start_pos, expected, file, lines_before)
    if unclosed is not None:
        notes.append(_unclosed_block_note(text, unclosed, file, lines_before))
    return error("syntax", message, loc, source_line=_line_of(text, line), hints=hints, notes=notes)


# The start of a question's line up to a word that is not `per` and the name after it (`best max x for model`): the
# words before `per` are the question's; a name after them starts the next cell, so the parser fails at the name.
_QUESTION_GROUP = re.compile(r"[ \t]*(best|pareto|largest|smallest)\b[^\n#]*?[ \t]([A-Za-z_]\w*)[ \t]+\Z")
# A question's direction written first, without `best` (`max x per model`): the name after it fails.
_DIRECTION_FIRST = re.compile(r"[ \t]*(min|max)[ \t]+\Z")
_WRITE_QUESTION = "a question is `best min|max CELL [per AXES]`, `pareto min|max A, min|max B [per AXES]` or " \
                  "`largest|smallest AXIS [per AXES]` (docs/LANGUAGE.md, Questions)"


def _question_slip(text: str, position: int) -> tuple[str, int, str] | None:
    """Where a name fails at `position` after a question's words in a report (elsewhere the line is a cell's slip):
    the slip, `for` where `per` groups or a direction without `best`, as (message, offset of the wrong word, hint);
    None where the line is no question's."""
    line_start = text.rfind("\n", 0, position) + 1
    before = text[line_start:position]
    group = _QUESTION_GROUP.match(before)
    first = _DIRECTION_FIRST.match(before)
    if group is None and first is None:
        return None
    block = _open_block(text, position)
    if block is None or block[0] != "report":
        return None
    if group is not None and group.group(2) != "per" and not re.search(r"\bper\b", before):
        word, start = group.group(2), line_start + group.start(2)
        return (f"unexpected '{word}': a question groups its answers with `per`", start,
                f"write {_rewritten(text, start, word, 'per')}")
    if first is not None:
        start = line_start + first.start(1)
        return ("a question starts with `best`, `pareto`, `largest` or `smallest`", start,
                f"write {_rewritten(text, start, '', 'best ')}")
    return None


def _direction_slip(text: str, token) -> tuple[str, int, str]:
    """`best maximum x`: (message, offset of the word, hint), the hint the line with `min` or `max` in its place
    where the word reads as one (`maximum`, `highest`, `lowest`), else how a question is written."""
    # The question's keyword: the last before the word (a `pareto` may go on over two lines).
    keywords = re.findall(r"\b(best|pareto)\b", text[_window(token.start_pos):token.start_pos])
    keyword = keywords[-1] if keywords else "best"
    word = str(token)
    lowered = word.lower()
    meant = "max" if lowered.startswith(("max", "high", "larg", "great", "most")) else \
        "min" if lowered.startswith(("min", "low", "small", "least", "few")) else None
    takes = "`best` takes `min` or `max`" if keyword == "best" else \
        f"`{keyword}` takes `min` or `max` before each cell"
    hint = f"write {_rewritten(text, token.start_pos, word, meant)}" if meant else _WRITE_QUESTION
    return f"unexpected '{word}': {takes}", token.start_pos, hint


def _rewritten(text: str, start: int, word: str, replacement: str) -> str:
    """The code of the line holding offset `start`, with `word` (written there) replaced, in backquotes."""
    line_start = text.rfind("\n", 0, start) + 1
    end = text.find("\n", start)
    line = text[line_start:end if end >= 0 else len(text)].removesuffix("\r")
    fixed = line[:start - line_start] + replacement + line[start - line_start + len(word):]
    return f"`{_CODE_BEFORE_COMMENT.match(fixed).group(1).strip()}`"


def _unclosed_block(text: str, position: int) -> tuple[str, int] | None:
    """Where the syntax error at `position` is on a block's header line (`model my_codellama_34b {`) and a block
    opened before it is not closed: that block ("hardware 'my_l40s'") and the offset of its '{'; else None. Braces in
    strings and comments are not counted. The scan covers the text before the error once (one block of a file, after
    the first error: parser._later_errors)."""
    line_start = text.rfind("\n", 0, position) + 1
    header = _BLOCK_START.match(text, line_start)
    if header is None or not header.group(0).lstrip().startswith(ir.BLOCK_KINDS):
        return None
    found = _open_block(text, line_start)
    return None if found is None else (_block_title(*found[:2]), found[2])


def _keywords_at(text: str, position: int) -> tuple[str, ...]:
    """The keywords a statement at offset `position` may start with: a file's `import`, `set` and block kinds outside
    a block; a report's statements in one; `sweep` and `require` in another block (a report's questions, `where` and
    `show` are no use there); every statement where the block's header cannot be read."""
    block = _open_block(text, position)
    if block is None:
        return ("import", "set", *ir.BLOCK_KINDS)
    if block[0] and block[0] != "report":
        return ("sweep", "require")
    from .syntax_errors import STATEMENTS

    return tuple(STATEMENTS)


def _open_block(text: str, end: int) -> tuple[str, str, int] | None:
    """The outermost block still open at offset `end` of `text`: its kind ("" where its header cannot be read), name
    and the offset of its '{'; or None. A `set { ... }` inside it may be open too. Braces in strings and comments
    are not counted."""
    opened = _unclosed(text, 0, end, "{", "}")
    if not opened:
        return None
    start = opened[0]
    head = re.search(r"([A-Za-z_]\w*)[ \t]+([A-Za-z_]\w*)[^{\n]*$", text[text.rfind("\n", 0, start) + 1:start])
    if head and head.group(1) in ir.BLOCK_KINDS:
        return head.group(1), head.group(2), start
    return "", "", start


def _block_title(kind: str, name: str) -> str:
    """"hardware 'my_l40s'", or "the block" where the header could not be read."""
    return f"{kind} '{name}'" if kind else "the block"


# The statements only a report takes (a question outside one is `question-outside-report`; `show` is what a report
# prints): a syntax error inside another kind of block does not offer them.
_REPORT_ONLY = frozenset({"'best'", "'largest'", "'pareto'", "'smallest'", "'where'", "'show'"})


def _unclosed_block_note(text: str, unclosed: tuple[str, int], file: str, lines_before: int = 0) -> str:
    """The note that points back to the '{' of the block that is not closed (_unclosed_block)."""
    name, start = unclosed
    line = lines_before + text.count("\n", 0, start) + 1
    col = start - (text.rfind("\n", 0, start) + 1) + 1
    return f"the '{{' of {name} at {file}:{line}:{col} is not closed: add '}}'"


_CLOSERS = {"(": ("RPAR", ")"), "[": ("RSQB", "]")}


def _unclosed_bracket_note(text: str, position: int, expected: list[str], file: str,
                           lines_before: int = 0) -> list[str]:
    """Where the parser wanted a closing bracket and the opening one is on an earlier line, a note that points back
    to it ("the '(' at prog.perf:2:9 is not closed"): the error itself lands on the next line, far from the slip.
    Brackets inside strings and comments are not counted; the scan starts at a line start (strings and comments end
    with their line) within the hint window, so many errors in a long file stay linear. [] where there is nothing to
    point back to."""
    if "RPAR" not in expected and "RSQB" not in expected:
        return []
    opened = _unclosed(text, text.rfind("\n", 0, _window(position)) + 1, position, "([", ")]")
    if not opened:
        return []
    start = opened[-1]
    terminal, closer = _CLOSERS[text[start]]
    if terminal not in expected or "\n" not in text[start:position]:
        return []
    line = lines_before + text.count("\n", 0, start) + 1
    col = start - (text.rfind("\n", 0, start) + 1) + 1
    return [f"the '{text[start]}' at {file}:{line}:{col} is not closed: add '{closer}'"]


def _unclosed(text: str, begin: int, end: int, openers: str, closers: str) -> list[int]:
    """The offsets of the brackets of `openers` in text[begin:end] that no bracket of `closers` closes there, outermost
    first; brackets inside strings and comments are not counted (`begin` is a line start: both end with their line)."""
    opened: list[int] = []
    in_string = in_comment = escaped = False
    for index in range(begin, end):
        char = text[index]
        if in_comment:
            in_comment = char != "\n"
        elif in_string:
            in_string = escaped or char not in '"\n'
            escaped = not escaped and char == "\\"
        elif char == "#":
            in_comment = True
        elif char == '"':
            in_string = True
        elif char in openers:
            opened.append(index)
        elif char in closers and opened:
            opened.pop()
    return opened


def _parse_file(text: str) -> ir.Module:
    """A whole file's parse, for naming syntax errors by example (syntax_errors.py): raises UnexpectedInput."""
    return _build(text, "<example>", "start")[0]


def _require_without_message(before: str) -> int | None:
    """Where the last `require` (or `expect`) before a syntax error starts, if no string (its message) follows it."""
    starts = [m.start(1) for m in _REQUIRE_START.finditer(before)]
    if not starts or '"' in before[starts[-1]:]:
        return None
    return starts[-1]


def _end_of_code(text: str) -> tuple[int, int]:
    """Line and column just after the last code of a file (trailing comments and blank lines left out)."""
    lines = text.split("\n")                   # lines as the parser counts them (at '\n' only)
    for number in range(len(lines), 0, -1):
        code = _CODE_BEFORE_COMMENT.match(lines[number - 1]).group(1).rstrip()
        if code:
            return number, len(code) + 1
    return len(lines), len(lines[-1]) + 1


# How far back the hints of a syntax error look: searched from every position of the text before the error, their
# patterns would take time in the square of its length (a 100,000-digit number took minutes).
_HINT_WINDOW = 2000


def _window(pos: int) -> int:
    return max(0, pos - _HINT_WINDOW)


def _previous_token_text(text: str, pos: int) -> str:
    before = text[_window(pos):pos].rstrip()
    # Skip a trailing comment-free run of whitespace and return the last non-space run.
    match = re.search(r"(\S+)$", before)
    return match.group(1) if match else ""


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]
