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
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

from lark.exceptions import UnexpectedInput


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
    "require_without_message": _in_block("require b >= 1", "require b"),
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
