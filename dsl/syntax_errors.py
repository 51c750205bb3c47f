"""Naming syntax errors (stage 1): which slip a parse error is, by Lark's `match_examples`.

Lark's LALR parser fails in a parser state; `UnexpectedInput.match_examples` parses small example texts of each known
slip and names the error after the slip whose examples fail in the same state, with the same tokens acceptable there.
The slips are the golden syntax cases (`tests/cases/syntax_*.perf`: a test checks that each is named as its file
says), written here as one-line block bodies, each at the start of a block and after one or two cells, and lists of
one to three items, since the parser's stack (and so its state) differs between those.

The parser module builds the message and location for each name; this module only names (with parser.py, the only
modules that touch lark). Examples are parsed once per process: the parse function given to `match_examples`
remembers each example's exception. Where two slips fail in one state (an `=` after a whole cell: a value left out at
the end of a line, or a missing ';'; a name alone where a cell starts: a space inside a unit, `for` where a question
takes `per`, or `max x` without `best`), the parser tells them apart by the text before the token.

Some slips are told by the text before the token alone (`written_slip`, tried first, so that they cost no example
parse): a statement's keyword as a cell's name (`where = 1 ms`, `hardware blk { where = 3 }`), a value after ':' (`mem_bw: 1 TB/s`), a missing
',' in a show list (`show a.x b.y`), three dots in a range (`1 ... 256`). Each reads the token's line (and, for a
show list, the lines before it that end in ','), never the whole text. So is a keyword a letter or two off at a
statement's start (`keyword_slip`: `swep tp = [4, 8]`, `requre`, `shwo`, `improt`, `hardwre`), which gets "did you
mean 'sweep'?" among the keywords the place takes, and `extnds` after a block's name (`model m extnds base {`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from . import lark_import  # noqa: F401 - lark without `regex` (lark_import.py): the first import of lark of a check
from lark.exceptions import UnexpectedInput

from .ir import BLOCK_KINDS


def _in_block(*items: str) -> list[str]:
    """Each item as the body of a block: first, after one cell, after two (three parser stacks), in the first block
    of a file and in a later one (or after an import), whose stack holds one more entry (the blocks before it):
    Lark compares states by the depth of the stack too, so a slip in the second block of a file was named by none."""
    return [f"{earlier}workload w {{\n    {before}{item}\n}}\n"
            for earlier in ("", "workload v {}\n") for item in items
            for before in ("", "a = 1\n    ", "a = 1\n    b = 2\n    ")]


def _lists() -> list[str]:
    values = [f"{kw}b = [{items}" for kw in ("", "sweep ") for items in ("1", "1, 2", "1, 2, 3", "1,")]
    zipped = [f"sweep (a, b) = [{items}" for items in ("(1, 2)", "(1, 2), (3, 4)", "(1, 2), (3, 4), (5, 6)")]
    return values + zipped


# slip -> example texts. Order matters where two slips fail alike: the first that matches names the error.
SLIPS: dict[str, list[str]] = {
    "missing_value": _in_block("a = ", "a = ;"),                        # `a = }`: nothing after '='
    "unclosed_list": _in_block(*_lists()),                              # `[1, 2, 4` then `}`
    "require_without_message": _in_block("require b >= 1", "require b", "expect b >= 1", "expect b"),
    "space_in_unit": _in_block("m = 768 G B", "word"),                  # a name alone where a cell starts
    "missing_semicolon": _in_block("a = x 2 GB"),                       # a number with a unit after a whole cell
    "equal_after_cell": _in_block("a = 24 b = 16", "a =\n    b = 1", "a = x\n    = 2"),   # `=` after a whole cell
    # `best maximum x`: a word other than min or max where a question's direction goes (`best`, `pareto`'s two)
    "question_direction": _in_block("best lowest x", "pareto lowest x, max y", "pareto min x, lowest y"),
}


def name_slip(exc: UnexpectedInput, parse: Callable[[str], object]) -> str | None:
    """The slip whose examples fail as `exc` does (a key of SLIPS), or None. `parse(text)` parses a whole file."""
    if getattr(exc, "state", None) is None:
        return None
    try:
        return exc.match_examples(_remembering(parse), SLIPS, use_accepts=True)
    except TypeError:
        # lark 1.3 formats a debug message with `%d` of its ParserState when an example fails in the same state with
        # other tokens acceptable, before it checks the log level: that example is no match, and the error gets the
        # generic message rather than another slip's.
        return None


@lru_cache(maxsize=4)
def _remembering(parse: Callable[[str], object]) -> Callable[[str], object]:
    """`parse`, raising for each example the exception its first parse raised (the examples never change)."""
    failures: dict[str, UnexpectedInput | None] = {}

    def parse_example(text: str):
        if text not in failures:
            try:
                parse(text)
                failures[text] = None
            except UnexpectedInput as exc:
                failures[text] = exc
        if failures[text] is not None:
            raise failures[text]

    return parse_example


# -- slips read from the text before the token (no example parsed: a regular expression over one line or two) ------

# A statement's keyword where a cell's name goes (`where = 1 ms`): the parser took the word for the statement.
STATEMENTS = {"where": "`where CONDITION` filters a report's points", "show": "`show CELL, ...` prints cells",
               "require": '`require CONDITION, "MESSAGE"` is a constraint',
               "expect": '`expect CONDITION, "MESSAGE"` is an expectation', "sweep": "`sweep NAME = [...]` is an axis",
               "best": "`best min|max CELL` is a question", "pareto": "`pareto min|max A, min|max B` is a question",
               "largest": "`largest AXIS` is a question", "smallest": "`smallest AXIS` is a question"}
# It starts a statement: a line, or follows a block's `{` or a `;` on it (`hardware blk { where = 3 }`), as a show
# statement does (_STATEMENT_START).
_KEYWORD_AS_NAME = re.compile(r"(?:\A|[{;])[ \t]*(" + "|".join(STATEMENTS) + r")[ \t]*\Z")
# `mem_bw: 1 TB/s`: a value after ':', which declares a type (`1` is the dimensionless unit, so the parser read on).
_VALUE_AFTER_COLON = re.compile(r"([ \t]*)([A-Za-z_]\w*)([ \t]*:[ \t]*)(-?\d[^=\n]*)\Z")
_SHOWN_ITEM = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?")
# A show statement starts a line, or follows a block's `{` or a `;` on it (`report r { show c.t in ms }`).
_STATEMENT_START = re.compile(r"(?:^|[{;])[ \t]*(show)\b", re.M)


@dataclass(frozen=True)
class WrittenSlip:
    """A syntax slip named from the text before the failing token: message, the offset and length of the text the
    caret marks, and hints."""

    message: str
    start: int
    length: int
    hints: tuple[str, ...]


def written_slip(text: str, position: int, token: str) -> WrittenSlip | None:
    """The slip of a syntax error at offset `position` (the failing token `token`) where the text before it says
    which (a keyword as a cell's name, a value after ':', a missing ',' in a show list, `...` in a range), else None.
    Reads the token's line and the lines of a show list before it, never the whole text."""
    line_start = text.rfind("\n", 0, position) + 1
    before = text[line_start:position]
    keyword = _KEYWORD_AS_NAME.search(before)
    if keyword is not None and token in ("=", ":"):
        word = keyword.group(1)
        return WrittenSlip(f"'{word}' is a reserved word, not a cell's name", line_start + keyword.start(1),
                           len(word), (f"{STATEMENTS[word]}: give the cell another name",))
    if token == "." and text[max(0, position - 2):position] == "..":
        end = text.find("\n", position)
        line = text[line_start:end if end >= 0 else len(text)].removesuffix("\r")
        fixed = _code(re.sub(r"\.{3,}", "..", line, count=1))
        return WrittenSlip("a range is written with two dots: `START .. STOP`", position - 2, 3,
                           (f"write `{fixed}` (`by STEP` or `by *FACTOR` after it sets the step)",))
    colon = _VALUE_AFTER_COLON.match(_code_line(text, position))
    if colon is not None and (colon.group(4).strip() != "1" or _line_start_of_code(text, position) == line_start):
        # (`ratio: 1` alone is a dimensionless input: a slip only where the parser fails on its own line)
        indent, name, sep, value = colon.groups()
        start = _line_start_of_code(text, position) + len(indent) + len(name)
        value = value.rstrip()
        unit = re.match(r"-?[\d_.]+(?:[eE][+-]?\d+)?[ \t]*([A-Za-z%µμ][^ \t]*)?\Z", value)
        typed = unit.group(1) if unit is not None and unit.group(1) else "count"
        return WrittenSlip("a cell's value is written after '=', not ':'", start + sep.index(":"), 1, (
            f"write `{name} = {value}`",
            f"':' declares a type: `{name}: {typed}`, or with a value `{name}: {typed} = {value}`"))
    return _missing_comma_in_show(text, position, token)


# A word alone at a statement's start (a line, or after a block's `{` or a `;`), the parser failing at the next token.
_STATEMENT_WORD = re.compile(r"(?:\A|[{;])[ \t]*([A-Za-z_]\w*)[ \t]+\Z")
_WORD = re.compile(r"[A-Za-z_]\w*")


# A block's header up to the word after its name (`model m extnds base {`), where only `extends` or '{' may follow.
_HEADER_THEN_WORD = re.compile(r"(?:\A|[};])[ \t]*(?:" + "|".join(BLOCK_KINDS) + r")[ \t]+[A-Za-z_]\w*[ \t]+\Z")
EXTENDS = "`KIND NAME extends PARENT { ... }` inherits PARENT's cells"


def keyword_slip(text: str, position: int, token: str, keywords: tuple[str, ...]) -> WrittenSlip | None:
    """A misspelt keyword (`swep tp = [4, 8]`, `requre`, `shwo`; `improt`, `hardwre` where a file's statement
    starts; `extnds` after a block's name) where the parser fails at offset `position` (the failing token `token`):
    a word at a statement's start that is a slip (near_misses.misspelt: a letter or two off, two swapped) of one of
    `keywords`, those the place takes (a report's statements, another block's `sweep` and `require`, a file's
    `import`, `set` and block kinds), or the word after a block's name that is a slip of `extends`; else None. The
    caret marks the word."""
    line_start = text.rfind("\n", 0, position) + 1
    before = text[line_start:position]
    if _HEADER_THEN_WORD.search(before) and _WORD.fullmatch(token):
        from .near_misses import misspelt   # (an error's path only: near_misses reads the checker's modules)

        if token != "extends" and misspelt(token, "extends"):
            return WrittenSlip(f"unexpected '{token}'", position, len(token),
                               (f"did you mean 'extends'? ({EXTENDS})",))
        return None
    word = _STATEMENT_WORD.search(before)
    if word is not None and token not in ("=", ":"):
        word, start, message = word.group(1), line_start + word.start(1), f"unexpected '{token}' after '{word.group(1)}'"
    elif not before.strip() and _WORD.fullmatch(token):
        word, start, message = token, position, f"unexpected '{token}'"
    else:
        return None
    if word in keywords:
        return None
    from .near_misses import misspelt       # (an error's path only: near_misses reads the checker's modules)

    close = [keyword for keyword in keywords if misspelt(word, keyword)]
    if not close:
        return None
    meant = close[0]
    said = f" ({STATEMENTS[meant]})" if meant in STATEMENTS else ""
    return WrittenSlip(message, start, len(word), (f"did you mean '{meant}'?{said}",))


def _missing_comma_in_show(text: str, position: int, token: str) -> WrittenSlip | None:
    """`show c.t in ms c.u in ms`: the next item was read as the next cell's name, and the parser failed at its '.'.
    The show statement may run over lines ending in ','."""
    if token != ".":
        return None
    item_start = position
    while item_start > 0 and (text[item_start - 1].isalnum() or text[item_start - 1] == "_"):
        item_start -= 1
    if item_start == position or (item_start > 0 and text[item_start - 1] == "."):
        return None                        # no name, or one of three parts (`c.t.u`): no comma was left out
    if "\n" in text[item_start:position]:
        return None
    shown = _SHOWN_ITEM.match(text, item_start)
    if shown is None:                      # `0.` : a number, no cell's name
        return None
    item = shown.group(0)
    line_start = text.rfind("\n", 0, item_start) + 1
    statement = _statement_start(text, item_start)
    if statement is None and line_start > 0 and not text[line_start:item_start].strip():
        # The item starts its line: the list went on from the line above, whose ',' is missing.
        above_end = line_start - 1
        above_start = text.rfind("\n", 0, above_end) + 1
        above = _code(text[above_start:above_end])
        if above and not above.endswith((",", "show", " in", " as")) \
                and _statement_start(text, above_start + len(text[above_start:above_end].rstrip())) is not None:
            return WrittenSlip(f"a ',' is missing before '{item}' in a `show` list (at the end of the line above)",
                               item_start, len(item), (f"end the line above with ',': `{above},`",))
        return None
    if statement is None:
        return None
    listed = text[statement:item_start].rstrip()
    if listed.endswith((",", "show", " in", " as")):
        return None
    end = text.find("\n", item_start)
    line = text[line_start:end if end >= 0 else len(text)].removesuffix("\r")
    cut = item_start - line_start
    fixed = _code(line[:cut].rstrip() + ", " + line[cut:])
    return WrittenSlip(f"a ',' is missing before '{item}' in a `show` list", item_start, len(item),
                       (f"separate shown cells with ',': `{fixed}`",))


def _statement_start(text: str, position: int) -> int | None:
    """The offset of the `show` that starts the statement holding `position`: on its line, or on a line above
    joined to it by lines that end in ','; None where the statement is no show."""
    line_start = text.rfind("\n", 0, position) + 1
    end = position
    for _ in range(50):                    # a show list of fifty lines is as far as this looks
        found = [match.start(1) for match in _STATEMENT_START.finditer(text, line_start, end)]
        if found:
            return found[-1]
        if line_start == 0:
            return None
        previous = text.rfind("\n", 0, line_start - 1) + 1
        if not _code(text[previous:line_start - 1]).endswith(","):
            return None
        end = line_start - 1
        line_start = previous
    return None


def _code(line: str) -> str:
    """A line's code: without its comment, its '\\r' and the spaces around it."""
    in_string = False
    for index, char in enumerate(line):
        if char == '"':
            in_string = not in_string
        elif char == "#" and not in_string:
            line = line[:index]
            break
    return line.strip()


def _code_line(text: str, position: int) -> str:
    """The whole line that holds the last code before `position` (the token's own line, or the line above where the
    token starts its line), without its comment: what a slip at the end of a cell is read from."""
    start = _line_start_of_code(text, position)
    end = text.find("\n", start)
    line = text[start:end if end >= 0 else len(text)].removesuffix("\r")
    code = _code(line)
    return line[:len(line) - len(line.lstrip())] + code


def _line_start_of_code(text: str, position: int) -> int:
    """The start of the line that holds the last non-space character before `position`."""
    index = position
    while index > 0 and text[index - 1] in " \t\r\n":
        index -= 1
    return text.rfind("\n", 0, index) + 1
