"""Parser facade (stage 1 -> 2): .perf text -> Lark tree -> typed IR.

The only module that imports lark. The parser is built once per process; Lark's analysis of the grammar is kept in
a private per-user cache folder (`user_cache`), never in the shared temporary folder, where another local user
could plant a pickle for us to load. Lark's exceptions are turned into perfdsl Diagnostics that keep the file, line
and column. Unit errors found while building the IR are collected, so one pass reports every bad unit of a file.

Input depth cannot drive recursion here: Lark's LALR parser keeps its own stack, the tree is turned into IR bottom-up
with a list instead of recursion, and a formula nested deeper than `limits.MAX_EXPR_DEPTH` is a located
error[too-deep] (the checker and evaluator that follow do recurse over formulas).
"""

from __future__ import annotations

import math
from dataclasses import replace
import re
import sys
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from . import ir
from .syntax_errors import name_slip
from .errors import Diagnostic, Location, PerfError, error
from .limits import MAX_EXPR_DEPTH
from .units import UnitError, parse_unit
from .units import is_unit as _is_unit
from .user_cache import trusted_entry

GRAMMAR_PATH = Path(__file__).with_name("grammar.lark")

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
_CODE_BEFORE_COMMENT = re.compile(r'((?:[^"#]|"(?:[^"\\\n]|\\.)*"?)*)')
_REQUIRE_START = re.compile(r"(?m)^[ \t]*(require\b)")
_QUANTITY_SPLIT = re.compile(r"(\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?)[ \t]*(.*)", re.S)


# Node constructors as fast as the IR allows (ir.node_maker): the parser builds every node of every file.
_new_Binary = ir.node_maker(ir.Binary)
_new_Block = ir.node_maker(ir.Block)
_new_Bool = ir.node_maker(ir.Bool)
_new_Call = ir.node_maker(ir.Call)
_new_Cell = ir.node_maker(ir.Cell)
_new_Import = ir.node_maker(ir.Import)
_new_ListExpr = ir.node_maker(ir.ListExpr)
_new_Module = ir.node_maker(ir.Module)
_new_Num = ir.node_maker(ir.Num)
_new_Objective = ir.node_maker(ir.Objective)
_new_Question = ir.node_maker(ir.Question)
_new_RangeExpr = ir.node_maker(ir.RangeExpr)
_new_Ref = ir.node_maker(ir.Ref)
_new_Require = ir.node_maker(ir.Require)
_new_SetStmt = ir.node_maker(ir.SetStmt)
_new_ShowItem = ir.node_maker(ir.ShowItem)
_new_Span = ir.node_maker(ir.Span)
_new_Str = ir.node_maker(ir.Str)
_new_TupleExpr = ir.node_maker(ir.TupleExpr)
_new_Unary = ir.node_maker(ir.Unary)
_new_Where = ir.node_maker(ir.Where)
_new_Zipped = ir.node_maker(ir.Zipped)


def grammar_text() -> str:
    """grammar.lark with its KIND terminal generated from ir.BLOCK_KINDS, the one list of block kinds."""
    kinds = " | ".join(f'"{kind}"' for kind in ir.BLOCK_KINDS)
    return re.sub(r"^KIND:.*$", lambda _: f"KIND: {kinds}", GRAMMAR_PATH.read_text(encoding="utf-8"), count=1,
                  flags=re.M)


@lru_cache(maxsize=1)
def _lark() -> Lark:
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        start=["start", "value_text"],
        propagate_positions=True,
        maybe_placeholders=False,
        cache=_cache_file() or False,
    )


def _cache_file() -> str | None:
    """Where Lark keeps its analysis of the grammar (a pickle) in the private cache folder (`user_cache`), or None to
    build it in memory each process. Lark checks the grammar's hash stored in the file and rebuilds on a mismatch.
    Building costs about 85 ms of start-up; loading the cache about 8 ms (2-core machine, lark 1.3)."""
    import lark

    path = trusted_entry(f"grammar-lark{lark.__version__}-py{sys.version_info[0]}{sys.version_info[1]}.cache")
    return None if path is None else str(path)


_BLOCK_START = re.compile(r"^[ \t]*(?:import[ \t]+\"|set[ \t]*\{|(?:" + "|".join(ir.BLOCK_KINDS)
                          + r")[ \t]+[A-Za-z_])", re.M)


def parse_text(text: str, file: str = "<text>") -> ir.Module:
    """Parse a whole .perf file into a Module, or raise PerfError with every diagnostic found.

    The same text under the same name gives the same Module (the IR is frozen), so it is parsed once per process:
    `perfdsl check` of every library loads each file as a program of its own, and the files they import (the cost
    model, the model and GPU families) were parsed again for each (22 files took 82 parses)."""
    return _parse_module(text, file)


@lru_cache(maxsize=512)
def _parse_module(text: str, file: str) -> ir.Module:
    try:
        tree = _parse(text, file, "start")
    except PerfError as exc:
        first = exc.diagnostics[0].location
        raise PerfError(list(exc.diagnostics) + _later_errors(text, file, first.line if first else 0)) from None
    builder = _IRBuilder(text, file)
    imports, blocks, sets = [], [], []
    for child in tree.children:
        if child.data == "import_stmt":
            imports.append(builder.import_stmt(child))
        elif child.data == "set_block":
            sets.extend(builder.set_stmt(item) for item in child.children if isinstance(item, Tree))
        else:
            blocks.append(builder.block(child))
    if builder.diagnostics:
        raise PerfError(builder.diagnostics)
    return _new_Module(file=file, imports=tuple(imports), blocks=tuple(blocks), sets=tuple(sets),
                                     source=text)


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
    try:
        tree = _lark().parse(alone, start="start")
    except UnexpectedInput as exc:
        return [_syntax_diagnostic(exc, alone, file, lines_before)]
    builder = _IRBuilder(alone, file)
    for child in tree.children:
        if child.data == "block":
            builder.block(child)
    return builder.diagnostics


def _moved(diagnostics: list[Diagnostic], lines: int) -> list[Diagnostic]:
    for diagnostic in diagnostics:
        if diagnostic.location is not None and diagnostic.location.line:
            diagnostic.location = replace(diagnostic.location, line=diagnostic.location.line + lines)
    return diagnostics


def parse_value(text: str, origin: str = "--set") -> list[ir.Expr] | ir.RangeExpr:
    """Parse a value given on the command line: one expression, a comma-separated list, or a range."""
    tree = _parse(text, origin, "value_text")
    builder = _IRBuilder(text, origin)
    builder.one_value = True          # a --set value has no next cell: no hint to separate one
    children = tree.children
    if len(children) == 1 and isinstance(children[0], Tree) and children[0].data == "range":
        value = builder.expr(children[0])
    else:
        value = [builder.expr(child) for child in children]
    if builder.diagnostics:
        raise PerfError(builder.diagnostics)
    return value


def _parse(text: str, file: str, start: str) -> Tree:
    try:
        return _lark().parse(text, start=start)
    except UnexpectedInput as exc:
        raise PerfError(_syntax_diagnostic(exc, text, file)) from None


def _line_of(text: str, line: int) -> str:
    lines = text.splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else ""


def _describe_terminal(name: str) -> str:
    if name in _TERMINAL_NAMES:
        return _TERMINAL_NAMES[name]
    for term in _lark().terminals:
        if term.name == name and term.pattern.type == "str":
            return f"'{term.pattern.value}'"
    return name


def _syntax_diagnostic(exc: UnexpectedInput, text: str, file: str, lines_before: int = 0) -> Diagnostic:
    """The diagnostic of a syntax error in `text` (lines and columns within it; the caller moves them where `text`
    is a block cut from a file, and passes `lines_before`, the lines above it, for the notes that quote a place)."""
    line = getattr(exc, "line", 0) or 0
    col = getattr(exc, "column", 0) or 0
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        line, col = _end_of_code(text)
        expected = sorted(getattr(exc, "expected", ()) or ())
        message = "the file ends too early"
        hints = []
        if "RBRACE" in expected:
            hints.append("a block is not closed: add '}'")
        elif "RSQB" in expected:
            hints.append("a list is not closed: add ']'")
        elif expected:
            hints.append("expected " + ", ".join(_describe_terminal(t) for t in expected[:6]))
        loc = Location(file, line, col, col + 1)
        return error("syntax", message, loc, source_line=_line_of(text, line), hints=hints)

    if isinstance(exc, UnexpectedCharacters):
        char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        loc = Location(file, line, col, col + 1)
        hints = []
        if char == "'":
            hints.append('strings are written in double quotes: "like this"')
        return error("syntax", f"unexpected character {char!r}", loc,
                     source_line=_line_of(text, line), hints=hints)

    assert isinstance(exc, UnexpectedToken)
    token = exc.token
    expected = sorted(exc.expected)
    width = max(len(str(token)), 1)
    loc = Location(file, line, col, col + width)
    found = f"'{token}'"
    hints = []
    prev = _previous_token_text(text, exc.pos_in_stream if hasattr(exc, "pos_in_stream") else token.start_pos)
    slip = name_slip(exc, _parse_file)
    empty_value = slip == "equal_after_cell" and _EMPTY_VALUE.search(text, _window(token.start_pos), token.start_pos)
    number_then_name = slip == "equal_after_cell" and _NUMBER_THEN_NAME.search(text, _window(token.start_pos),
                                                                               token.start_pos)
    if slip == "missing_value" or empty_value:
        # `a = }`, or `mem_bw =` ending its line (the next line's name was read as its value): point at the '='.
        eq_pos = empty_value.start() if empty_value else text.rfind("=", 0, token.start_pos)
        line = text.count("\n", 0, eq_pos) + 1
        eq_col = eq_pos - (text.rfind("\n", 0, eq_pos) + 1) + 1
        message = "a cell has no value after '='"
        hints.append("write a value or a formula after '=', e.g. `mem_bw = 768 GB/s`")
        loc = Location(file, line, eq_col, eq_col + 1)
    elif slip == "require_without_message" and _require_without_message(text[:token.start_pos]) is not None:
        # `require batch >= 1` and then the next line: the message after a comma is missing.
        start = _require_without_message(text[:token.start_pos])
        line = text.count("\n", 0, start) + 1
        col = start - (text.rfind("\n", 0, start) + 1) + 1
        end = text.find("\n", start)
        message = "a `require` has no message"
        hints.append('write the message after a comma: `require batch >= 1, "batch is at least 1"`')
        loc = Location(file, line, col, col + len(text[start:end if end >= 0 else None].rstrip()))
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
        if names:
            hints.append("expected " + _join(names[:8]))
    notes = _unclosed_bracket_note(text, token.start_pos, expected, file, lines_before)
    return error("syntax", message, loc, source_line=_line_of(text, line), hints=hints, notes=notes)


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
    opened: list[int] = []
    in_string = in_comment = escaped = False
    for index in range(text.rfind("\n", 0, _window(position)) + 1, position):
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
        elif char in "([":
            opened.append(index)
        elif char in ")]" and opened:
            opened.pop()
    if not opened:
        return []
    start = opened[-1]
    terminal, closer = _CLOSERS[text[start]]
    if terminal not in expected or "\n" not in text[start:position]:
        return []
    line = lines_before + text.count("\n", 0, start) + 1
    col = start - (text.rfind("\n", 0, start) + 1) + 1
    return [f"the '{text[start]}' at {file}:{line}:{col} is not closed: add '{closer}'"]


def _parse_file(text: str) -> Tree:
    """A whole file's parse, for naming syntax errors by example (syntax_errors.py)."""
    return _lark().parse(text, start="start")


def _require_without_message(before: str) -> int | None:
    """Where the last `require` before a syntax error starts, if no string (its message) follows it."""
    starts = [m.start(1) for m in _REQUIRE_START.finditer(before)]
    if not starts or '"' in before[starts[-1]:]:
        return None
    return starts[-1]


def _end_of_code(text: str) -> tuple[int, int]:
    """Line and column just after the last code of a file (trailing comments and blank lines left out)."""
    lines = text.splitlines() or [""]
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


class _IRBuilder:
    """Turns Lark trees into IR nodes, collecting unit diagnostics instead of stopping at the first."""

    def __init__(self, text: str, file: str):
        self.text = text
        self.file = file
        self.diagnostics: list[Diagnostic] = []
        self._built: dict[int, ir.Expr] = {}      # id(Lark subtree) -> its IR, filled bottom-up by expr()
        self._lines: list[str] | None = None      # the text's lines, split once for every diagnostic

    def line(self, number: int) -> str:
        if self._lines is None:
            self._lines = self.text.splitlines()
        return self._lines[number - 1] if 0 < number <= len(self._lines) else ""

    # -- spans -------------------------------------------------------------------------------------------------
    def span(self, node) -> ir.Span:
        if isinstance(node, Token):
            end_line = node.end_line or node.line
            end_col = node.end_column or (node.column + len(node))
            return _new_Span(file=self.file, line=node.line, col=node.column, end_line=end_line, end_col=end_col)
        meta = node.meta
        return _new_Span(file=self.file, line=meta.line, col=meta.column, end_line=meta.end_line,
                       end_col=meta.end_column)

    def source(self, node) -> str:
        if isinstance(node, Token):
            return str(node)
        text = self.text[node.meta.start_pos:node.meta.end_pos]
        if "#" in text and "\n" in text:
            # A formula written over several lines may carry a comment at the end of an inner line: the text that
            # explain, the workbook and error notes show is the formula alone.
            text = "\n".join(_CODE_BEFORE_COMMENT.match(line).group(1).rstrip() for line in text.split("\n"))
        return text

    # -- top level ---------------------------------------------------------------------------------------------
    def import_stmt(self, tree: Tree) -> ir.Import:
        token = tree.children[0]
        return _new_Import(path=_unquote(token), span=self.span(token))

    def set_stmt(self, tree: Tree) -> ir.SetStmt:
        block_token, name_token, value = tree.children
        cell = _new_Cell(name=str(name_token), expr=self.expr(value), text=self.source(value),
                                       span=self.span(name_token))
        return _new_SetStmt(block=str(block_token), cell=cell, block_span=self.span(block_token))

    def block(self, tree: Tree) -> ir.Block:
        kind_token, name_token, *rest = tree.children
        parent = parent_span = None
        cells, zipped, shows, wheres, questions, requires = [], [], [], [], [], []
        for child in rest:
            if isinstance(child, Token):
                continue
            if child.data == "extends":
                parent = str(child.children[0])
                parent_span = self.span(child.children[0])
            elif child.data == "cell":
                name, value = child.children
                cells.append(_new_Cell(name=str(name), expr=self.expr(value), text=self.source(value),
                                     span=self.span(name)))
            elif child.data == "decl":
                name, unit, *value = child.children
                dim = self.unit_dim(unit)
                expr = self.expr(value[0]) if value else None
                cells.append(_new_Cell(name=str(name), expr=expr, declared=str(unit), declared_dim=dim,
                                     declared_span=self.span(unit), text=self.source(value[0]) if value else "",
                                     span=self.span(name)))
            elif child.data == "choice_decl":
                cells.append(self.choice_decl(child))
            elif child.data == "require":
                condition, message = child.children
                requires.append(_new_Require(condition=self.expr(condition), message=_unquote(message),
                                                           text=self.source(condition), span=self.span(condition)))
            elif child.data == "sweep":
                name, source = child.children
                cells.append(_new_Cell(name=str(name), expr=self.expr(source), text=self.source(source),
                                     span=self.span(name), sweep=True))
            elif child.data == "zipped_sweep":
                *names, source = child.children
                zipped.append(_new_Zipped(names=tuple(str(n) for n in names), source=self.expr(source),
                                        text=self.source(source), span=self.span(names[0])))
            elif child.data == "show":
                shows.extend(self.show_item(item) for item in child.children)
            elif child.data == "where":
                wheres.append(_new_Where(cond=self.expr(child.children[0]), span=self.span(child)))
            else:
                questions.append(self.question(child))
            if child.data in ("where", "best", "pareto", "largest", "smallest") and str(kind_token) != "report":
                span = self.span(child)
                self.diagnostics.append(error(
                    "question-outside-report", f"{str(kind_token)} '{name_token}' asks a question: `where`, `best`, "
                    "`pareto`, `largest` and `smallest` belong in a report", span.location(),
                    source_line=_line_of(self.text, span.line),
                    hints=["move it into the report that binds this block"]))
        return _new_Block(kind=str(kind_token), name=str(name_token), parent=parent, parent_span=parent_span,
                        cells=tuple(cells), zipped=tuple(zipped), shows=tuple(shows), wheres=tuple(wheres),
                        questions=tuple(questions), requires=tuple(requires), span=self.span(name_token),
                        file=self.file)

    def question(self, tree: Tree) -> ir.Question:
        """`best min x per a, b`, `pareto min x, max y`, `largest batch per model` (grammar rule `question`)."""
        objectives, axis, per = [], None, ()
        for child in tree.children:
            if isinstance(child, Token):
                axis = _new_Ref(parts=(str(child),), span=self.span(child))
            elif child.data == "objective":
                direction, ref = child.children
                objectives.append(_new_Objective(direction=str(direction), ref=self.expr(ref),
                                                               span=self.span(child)))
            else:
                per = tuple(_new_Ref(parts=(str(t),), span=self.span(t)) for t in child.children)
        return _new_Question(form=tree.data, objectives=tuple(objectives), axis=axis, per=per,
                                           text=" ".join(self.source(tree).split()), span=self.span(tree))

    def choice_decl(self, tree: Tree) -> ir.Cell:
        """`power_model: "tdp" | "utilisation" = "tdp"` (strings) or `stack: eager | vllm = eager` (blocks)."""
        name, *rest = tree.children
        options = [t for t in rest if isinstance(t, Token)]
        value = [t for t in rest if not isinstance(t, Token)]
        strings = [t.type == "STRING" for t in options]
        if any(strings) and not all(strings):
            self._choice_error("a choice lists strings or block names, not both", options[strings.index(False)])
        for token in options:
            if token.type != "STRING" and not re.fullmatch(r"[A-Za-z_]\w*", str(token)):
                self._choice_error(f"'{token}' is neither a string nor a block name", token)
        values = tuple(self.unquote(t) if t.type == "STRING" else str(t) for t in options)
        first, last = self.span(options[0]), self.span(options[-1])
        span = first.model_copy(update={"end_line": last.end_line, "end_col": last.end_col})
        expr = self.expr(value[0]) if value else None
        return _new_Cell(name=str(name), expr=expr, declared=self.text[options[0].start_pos:
                                                                                   options[-1].end_pos],
                                       declared_span=span, choices=values, choice_blocks=not strings[0],
                                       text=self.source(value[0]) if value else "", span=self.span(name))

    def _choice_error(self, message: str, token: Token) -> None:
        self.diagnostics.append(error("syntax", message, self.span(token).location(),
                                      source_line=_line_of(self.text, token.line),
                                      hints=['write `NAME: "a" | "b" = "a"` (strings) or `NAME: block_a | block_b`']))

    def show_item(self, tree: Tree) -> ir.ShowItem:
        ref_tree, *rest = tree.children
        unit = unit_span = label = None
        for token in rest:
            if token.type == "UNIT":
                unit, unit_span = str(token), self.span(token)
                self.unit_dim(token)
            elif token.type == "STRING":
                label = self.unquote(token)
            else:
                label = str(token)
        return _new_ShowItem(ref=self.expr(ref_tree), unit=unit, unit_span=unit_span, label=label,
                           span=self.span(tree))

    def unit_dim(self, token: Token) -> tuple[int, ...] | None:
        try:
            return parse_unit(str(token)).dim.exponents
        except UnitError as exc:
            self.unit_error(exc, self.span(token))
            return None

    def unit_error(self, exc: UnitError, span: ir.Span) -> None:
        hints = [exc.hint] if exc.hint else []
        self.diagnostics.append(error(exc.code, exc.message, span.location(),
                                      source_line=self.line(span.line), hints=hints))

    # -- expressions -------------------------------------------------------------------------------------------
    def expr(self, node) -> ir.Expr:
        """The IR of an expression subtree. Built bottom-up from a list of its nodes, so that the depth of a formula
        never becomes depth of Python recursion; each `e_*` method finds the IR of its children already built."""
        if isinstance(node, Token):
            return self.token_expr(node)
        built = self._built.get(id(node))
        if built is not None:
            return built
        order, stack = [], [node]
        while stack:                                  # pre-order: every node before its descendants
            current = stack.pop()
            order.append(current)
            stack.extend(child for child in current.children if isinstance(child, Tree))
        height: dict[int, int] = {}
        for current in reversed(order):               # descendants first
            height[id(current)] = 1 + max((height[id(c)] for c in current.children if isinstance(c, Tree)),
                                          default=0)
        depth = height[id(node)]
        if depth > MAX_EXPR_DEPTH:
            span = self.span(node)
            self.diagnostics.append(error(
                "too-deep", f"this formula nests {depth} levels deep; perfdsl reads formulas at most "
                f"{MAX_EXPR_DEPTH} levels deep", Location(self.file, span.line, span.col, span.col + 1),
                source_line=self.line(span.line),
                hints=["split it into cells, e.g. `part = a + b + c` and `total = part + d + e`"]))
            placeholder = _new_Num(value=0.0, dim=(0,) * 6, unit=None, text="0", span=span)
            self._built[id(node)] = placeholder
            return placeholder
        for current in reversed(order):
            method = getattr(self, "e_" + current.data, None)
            if method is not None:                    # step wrappers of a range are read by e_range
                self._built[id(current)] = method(current)
        return self._built[id(node)]

    def token_expr(self, token: Token) -> ir.Expr:
        span = self.span(token)
        if token.type == "NAME":
            return _new_Ref(parts=(str(token),), span=span)
        raise AssertionError(f"unexpected token {token.type}")

    def e_quantity(self, tree: Tree) -> ir.Expr:
        token = tree.children[0]
        span = self.span(token)
        number_text, unit_text = _QUANTITY_SPLIT.match(str(token)).groups()
        number = self.finite(float(number_text.replace("_", "")), token, number_text)
        try:
            unit = parse_unit(unit_text)
        except UnitError as exc:
            hints = [exc.hint] if exc.hint else []
            if unit_text.isidentifier() and not exc.hint:
                hints = []
            unit_col = span.col + len(str(token)) - len(unit_text)
            loc = Location(self.file, span.line, unit_col, unit_col + len(unit_text))
            if unit_text.replace("_", "").isalpha() and not getattr(self, "one_value", False):
                hints.append(f"if '{unit_text}' starts the next cell, separate the two with ';' or a new line")
            self.diagnostics.append(error(exc.code, exc.message, loc,
                                          source_line=self.line(span.line), hints=hints))
            return _new_Num(value=number, dim=(0,) * 6, unit=unit_text, text=str(token), span=span)
        value = self.finite(unit.to_si(number), token, str(token))
        return _new_Num(value=value, dim=unit.dim.exponents, unit=unit_text, text=str(token), span=span)

    def e_number(self, tree: Tree) -> ir.Expr:
        token = tree.children[0]
        value = self.finite(float(str(token).replace("_", "")), token, str(token))
        return _new_Num(value=value, dim=(0,) * 6, unit=None, text=str(token), span=self.span(token))

    def finite(self, value: float, token: Token, text: str) -> float:
        """`value`, or 0 after a located error where it overflows a float (above about 1.8e308 in SI)."""
        if math.isfinite(value):
            return value
        span = self.span(token)
        shown = text if len(text) <= 40 else text[:37] + "..."
        self.diagnostics.append(error(
            "number-too-large", f"'{shown}' is too large for a number (the largest is about 1.8e308 in SI units)",
            span.location(), source_line=self.line(span.line)))
        return 0.0

    def unquote(self, token: Token) -> str:
        """A STRING token's text without its quotes, its escapes (ESCAPES) replaced. Any other backslash is a located
        error (bad-escape), not dropped: `"C:\\data"` must not quietly become `C:data`."""
        def replace(match: re.Match) -> str:
            char = match.group(1)
            if char in ESCAPES:
                return ESCAPES[char]
            col = token.column + 1 + match.start()
            span = ir.Span.model_construct(file=self.file, line=token.line, col=col, end_line=token.line,
                                           end_col=col + 2)
            self.diagnostics.append(error(
                "bad-escape", f"unknown escape '\\{char}' in a string", span.location(),
                source_line=self.line(span.line),
                hints=['a string knows the escapes \\" \\\\ \\n \\r \\t: write a backslash as \\\\ (in a path, / '
                       'works on every system)']))
            return match.group(0)

        return re.sub(r"\\(.)", replace, str(token)[1:-1])

    def e_string(self, tree: Tree) -> ir.Expr:
        token = tree.children[0]
        return _new_Str(value=_unquote(token), span=self.span(token))

    def e_true(self, tree: Tree) -> ir.Expr:
        return _new_Bool(value=True, span=self.span(tree))

    def e_false(self, tree: Tree) -> ir.Expr:
        return _new_Bool(value=False, span=self.span(tree))

    def e_ref(self, tree: Tree) -> ir.Expr:
        return _new_Ref(parts=tuple(str(t) for t in tree.children), span=self.span(tree))

    def e_call(self, tree: Tree) -> ir.Expr:
        name, *args = tree.children
        return _new_Call(func=str(name), args=tuple(self.expr(a) for a in args), span=self.span(tree),
                       func_span=self.span(name))

    def e_tuple(self, tree: Tree) -> ir.Expr:
        return _new_TupleExpr(items=tuple(self.expr(c) for c in tree.children), span=self.span(tree))

    def e_list(self, tree: Tree) -> ir.Expr:
        return _new_ListExpr(items=tuple(self.expr(c) for c in tree.children), span=self.span(tree))

    def e_range(self, tree: Tree) -> ir.Expr:
        start, stop, *step = tree.children
        step_expr, geometric = None, False
        if step:
            geometric = step[0].data == "geometric_step"
            step_expr = self.expr(step[0].children[0])
        return _new_RangeExpr(start=self.expr(start), stop=self.expr(stop), step=step_expr, geometric=geometric,
                            span=self.span(tree))

    def e_binary(self, tree: Tree) -> ir.Expr:
        left, op, right = tree.children
        return _new_Binary(op=str(op), left=self.expr(left), right=self.expr(right), span=self.span(tree))

    e_compare = e_binary

    def e_pow(self, tree: Tree) -> ir.Expr:
        left, right = tree.children
        return _new_Binary(op="^", left=self.expr(left), right=self.expr(right), span=self.span(tree))

    def e_and_op(self, tree: Tree) -> ir.Expr:
        left, right = tree.children
        return _new_Binary(op="and", left=self.expr(left), right=self.expr(right), span=self.span(tree))

    def e_or_op(self, tree: Tree) -> ir.Expr:
        left, right = tree.children
        return _new_Binary(op="or", left=self.expr(left), right=self.expr(right), span=self.span(tree))

    def e_not_op(self, tree: Tree) -> ir.Expr:
        return _new_Unary(op="not", operand=self.expr(tree.children[0]), span=self.span(tree))

    def e_neg(self, tree: Tree) -> ir.Expr:
        return _new_Unary(op="-", operand=self.expr(tree.children[0]), span=self.span(tree))


# The escapes a string knows, as in JSON and C: a quote, a backslash, a line feed, a tab, a carriage return.
ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}
