"""Tokens -> typed IR (stage 1 -> 2), as Lark's LALR parser reduces each grammar rule: no parse tree is built.

`IRBuilder` is the `transformer=` of the parser's Lark instance (parser.py): Lark calls the method named after each
rule (or its alias) with the rule's children, already turned into IR, and pushes what it returns. A `?rule` with one
child never reaches it (Lark passes the child on), so each method meets only the rules that build something. Building
during the parse rather than walking a tree afterwards halved the parse of the bundled libraries (measured in
benchmarks/bench_language.py). The nodes are those the tree walk built before, equal field for field, spans included:

- A node spans from the start of its first child's *container* to the end of its last child's: a child written in
  parentheses, `(a + b) * c`, contains them (Lark's `propagate_positions` rule), while the child's own span and
  source text leave them out. The rules whose span starts or ends at a keyword or a bracket keep all their tokens
  (`!` in grammar.lark); the parentheses of `"(" expr ")"` are remembered in `_containers`.
- A formula nested deeper than `limits.MAX_EXPR_DEPTH` Lark tree levels is a located error[too-deep] at the formula
  that holds it (a cell's value, a condition, a sweep's source), and what was reported inside it is taken back: the
  checker and evaluator recurse over formulas. Heights are counted as the tree walk counted them.
- Unit errors and the like are collected in `diagnostics`, so one pass reports every bad unit of a file. A literal
  reported here (an unknown unit, a number too large, the 0 put in place of a formula too deep) is a Num of unknown
  dimension (`dim` None): the parser hands the module on (parser.PartialParse) and the checker types it unknown, so
  the rest of the file is checked without an error that only follows from it.

One instance serves every parse of the process (Lark binds its methods once): `begin` gives it the text and file of
the next parse, and parser.py holds a lock around each parse. Lark's tokens are `str` subclasses, which is how a
token is told from a node here: this module does not import lark.
"""

from __future__ import annotations

import math
import re

from . import ir
from .errors import Diagnostic, Location, error
from .limits import MAX_EXPR_DEPTH
from .units import UnitError, parse_unit

CODE_BEFORE_COMMENT = re.compile(r'((?:[^"#]|"(?:[^"\\\n]|\\.)*"?)*)')
_QUANTITY_SPLIT = re.compile(r"(\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?)[ \t]*(.*)", re.S)
_PLAIN_NAME = re.compile(r"[A-Za-z_]\w*")
_NO_DIM = (0,) * 6
# A set, not a tuple: `in` hashes the token (str's hash) and compares only on a match, where a tuple calls the
# token's own __eq__ (Python code of lark's Token) for each word, at every cell.
_BOOLEAN_WORDS = frozenset({"true", "false"})

_span = ir.node_maker(ir.Span)
_num = ir.node_maker(ir.Num)
_str = ir.node_maker(ir.Str)
_bool = ir.node_maker(ir.Bool)
_ref = ir.node_maker(ir.Ref)
_unary = ir.node_maker(ir.Unary)
_binary = ir.node_maker(ir.Binary)
_call = ir.node_maker(ir.Call)
_list = ir.node_maker(ir.ListExpr)
_tuple = ir.node_maker(ir.TupleExpr)
_range = ir.node_maker(ir.RangeExpr)
_cell = ir.node_maker(ir.Cell)
_zipped = ir.node_maker(ir.Zipped)
_require = ir.node_maker(ir.Require)
_show_item = ir.node_maker(ir.ShowItem)
_where = ir.node_maker(ir.Where)
_objective = ir.node_maker(ir.Objective)
_question = ir.node_maker(ir.Question)
_block = ir.node_maker(ir.Block)
_import = ir.node_maker(ir.Import)
_set_stmt = ir.node_maker(ir.SetStmt)
_module = ir.node_maker(ir.Module)


class _Step:
    """The `by` part of a range (`arithmetic_step` / `geometric_step`): its value, its tree height and where it
    ends (the range's span ends there)."""

    __slots__ = ("expr", "geometric", "height", "end")

    def __init__(self, expr, geometric: bool, height: int, end: tuple[int, int]):
        self.expr, self.geometric, self.height, self.end = expr, geometric, height, end


class _Extends:
    """`extends PARENT` of a block: the parent's name token."""

    __slots__ = ("token",)

    def __init__(self, token):
        self.token = token


class IRBuilder:
    """Lark's callbacks, one per grammar rule, that build the IR of one parse at a time (see the module docstring).
    After a parse, `diagnostics` holds every unit, number, depth and placement error found (the caller raises them);
    `set_diagnostics` those found inside `set { ... }` blocks (a block parsed alone after a syntax error reports only
    its blocks' errors, as it always has)."""

    def __init__(self):
        self.begin("", "<text>")

    def begin(self, text: str, file: str, one_value: bool = False) -> None:
        """Make ready for the parse of `text` from `file`; `one_value`: a value given on the command line (`--set`),
        where a unit error has no next cell to hint at."""
        self.text = text
        self.file = file
        self.one_value = one_value
        self.diagnostics: list[Diagnostic] = []
        self.set_diagnostics: list[Diagnostic] = []
        self._item_end = 0                            # diagnostics up to the last top-level item
        self._lines: list[str] | None = None          # the text's lines, split once for every diagnostic
        self._line_starts: list[int] | None = None    # offset of each line, for the source text of a span
        self._containers: dict[int, tuple] = {}       # id(node) -> its "(" and ")" tokens, for written parentheses
        self._heights: dict[int, int] = {}            # id(node) -> its tree height, for nodes above a leaf
        self._dropped: list = []                      # formulas replaced by a 0: their ids stay taken

    def state(self) -> dict:
        """Everything `begin` set, to be given back by `restore` (a parse inside another: the examples that name a
        syntax error are parsed while the error is being described)."""
        return dict(self.__dict__)

    def restore(self, state: dict) -> None:
        self.__dict__.update(state)

    # -- positions ---------------------------------------------------------------------------------------------
    def _token_span(self, token) -> ir.Span:
        return _span(file=self.file, line=token.line, col=token.column, end_line=token.end_line or token.line,
                     end_col=token.end_column or (token.column + len(token)))

    def _start(self, value) -> tuple[int, int]:
        """Line and column where `value` starts, its parentheses included."""
        if isinstance(value, str):
            return value.line, value.column
        around = self._containers.get(id(value))
        if around is not None:
            return around[0].line, around[0].column
        span = value.span
        return span.line, span.col

    def _end(self, value) -> tuple[int, int]:
        """Line and column (exclusive) where `value` ends, its parentheses included."""
        if isinstance(value, str):
            return value.end_line or value.line, value.end_column or (value.column + len(value))
        if isinstance(value, _Step):
            return value.end
        around = self._containers.get(id(value))
        if around is not None:
            value = around[1]
            return value.end_line or value.line, value.end_column or (value.column + len(value))
        span = value.span
        return span.end_line, span.end_col

    def _between(self, first, last) -> ir.Span:
        line, col = self._start(first)
        end_line, end_col = self._end(last)
        return _span(file=self.file, line=line, col=col, end_line=end_line, end_col=end_col)

    def _offset(self, line: int, col: int) -> int:
        if self._line_starts is None:
            self._line_starts = [0] + [match.end() for match in re.finditer("\n", self.text)]
        return self._line_starts[line - 1] + col - 1

    def source(self, value) -> str:
        """The source text of a token or node (a node's own span: parentheses around it left out)."""
        return str(value) if isinstance(value, str) else self._text(value.span)

    def _text(self, span: ir.Span) -> str:
        text = self.text[self._offset(span.line, span.col):self._offset(span.end_line, span.end_col)]
        if "#" in text and "\n" in text:
            # A formula written over several lines may carry a comment at the end of an inner line: the text that
            # explain, the workbook and error notes show is the formula alone.
            text = "\n".join(CODE_BEFORE_COMMENT.match(line).group(1).rstrip() for line in text.split("\n"))
        return text

    def line(self, number: int) -> str:
        if self._lines is None:
            self._lines = self.text.split("\n")     # as the parser counts lines: at '\n' only (blocks.SourceLines)
        return self._lines[number - 1].removesuffix("\r") if 0 < number <= len(self._lines) else ""

    def _height(self, value) -> int:
        return self._heights.get(id(value), 1)

    def _tall(self, node, height: int):
        self._heights[id(node)] = height
        return node

    def formula(self, node):
        """`node` as the whole formula of a cell, condition or sweep: too deep, a located error[too-deep] (and
        nothing reported from inside it) and a 0 in its place."""
        depth = self._heights.get(id(node), 1)
        if depth <= MAX_EXPR_DEPTH:
            return node
        span = node.span
        start, end = (span.line, span.col), (span.end_line, span.end_col)
        self.diagnostics = [d for d in self.diagnostics if not (
            d.location is not None and d.location.file == self.file
            and start <= (d.location.line, d.location.col) < end)]
        self.diagnostics.append(error(
            "too-deep", f"this formula nests {depth} levels deep; perfdsl reads formulas at most "
            f"{MAX_EXPR_DEPTH} levels deep", Location(self.file, span.line, span.col, span.col + 1),
            source_line=self.line(span.line),
            hints=["split it into cells, e.g. `part = a + b + c` and `total = part + d + e`"]))
        self._dropped.append(node)
        return _num(value=0.0, dim=None, unit=None, text="0", span=span)      # unknown: no follow-on error

    # -- top level ---------------------------------------------------------------------------------------------
    def start(self, items: list) -> ir.Module:
        imports, blocks, sets = [], [], []
        for item in items:
            if type(item) is ir.Block:
                blocks.append(item)
            elif type(item) is ir.Import:
                imports.append(item)
            else:
                sets.extend(item)
        return _module(file=self.file, imports=tuple(imports), blocks=tuple(blocks), sets=tuple(sets),
                       source=self.text)

    def value_text(self, children: list):
        """A value given on the command line: a range, or a list of expressions."""
        children = [child for child in children if not isinstance(child, str)]
        if len(children) == 1 and type(children[0]) is ir.RangeExpr:
            return self.formula(children[0])
        return [self.formula(child) for child in children]

    def import_stmt(self, children: list) -> ir.Import:
        token = children[0]
        self._item_end = len(self.diagnostics)
        return _import(path=self.unquote(token), span=self._token_span(token))

    def set_block(self, children: list) -> list[ir.SetStmt]:
        children = [child for child in children if not isinstance(child, str)]
        self.set_diagnostics.extend(self.diagnostics[self._item_end:])
        self._item_end = len(self.diagnostics)
        return children

    def set_stmt(self, children: list) -> ir.SetStmt:
        block_token, name_token, value = children
        cell = _cell(name=str(name_token), expr=self.formula(value), text=self.source(value),
                     span=self._token_span(name_token))
        return _set_stmt(block=str(block_token), cell=cell, block_span=self._token_span(block_token))

    def extends(self, children: list) -> _Extends:
        return _Extends(children[0])

    def block(self, children: list) -> ir.Block:
        kind_token, name_token, *rest = children
        kind = str(kind_token)
        parent = parent_span = None
        cells, zipped, shows, wheres, questions, requires = [], [], [], [], [], []
        for child in rest:
            kind_of = type(child)
            if kind_of is ir.Cell:
                cells.append(child)
            elif kind_of is ir.Require:
                requires.append(child)
            elif kind_of is list:
                shows.extend(child)
            elif kind_of is ir.Zipped:
                zipped.append(child)
            elif kind_of is _Extends:
                parent, parent_span = str(child.token), self._token_span(child.token)
            elif kind_of is ir.Where or kind_of is ir.Question:
                (wheres if kind_of is ir.Where else questions).append(child)
                if kind != "report":
                    span = child.span
                    self.diagnostics.append(error(
                        "question-outside-report", f"{kind} '{name_token}' asks a question: `where`, `best`, "
                        "`pareto`, `largest` and `smallest` belong in a report", span.location(),
                        source_line=self.line(span.line), hints=["move it into the report that binds this block"]))
        self._item_end = len(self.diagnostics)
        return _block(kind=kind, name=str(name_token), parent=parent, parent_span=parent_span, cells=tuple(cells),
                      zipped=tuple(zipped), shows=tuple(shows), wheres=tuple(wheres), questions=tuple(questions),
                      requires=tuple(requires), span=self._token_span(name_token), file=self.file)

    # -- a block's statements ----------------------------------------------------------------------------------
    def cell(self, children: list) -> ir.Cell:
        name, value = children
        self._not_boolean(name)
        return _cell(name=str(name), expr=self.formula(value), text=self.source(value), span=self._token_span(name))

    def decl(self, children: list) -> ir.Cell:
        name, unit, *value = children
        self._not_boolean(name)
        dim = self.unit_dim(unit)
        if value:
            return _cell(name=str(name), expr=self.formula(value[0]), declared=str(unit), declared_dim=dim,
                         declared_span=self._token_span(unit), text=self.source(value[0]),
                         span=self._token_span(name))
        return _cell(name=str(name), expr=None, declared=str(unit), declared_dim=dim,
                     declared_span=self._token_span(unit), text="", span=self._token_span(name))

    def choice_decl(self, children: list) -> ir.Cell:
        """`power_model: "tdp" | "utilisation" = "tdp"` (strings) or `stack: eager | vllm = eager` (blocks)."""
        name, *rest = children
        self._not_boolean(name)
        options = [t for t in rest if isinstance(t, str)]
        value = [t for t in rest if not isinstance(t, str)]
        strings = [t.type == "STRING" for t in options]
        if any(strings) and not all(strings):
            self._choice_error("a choice lists strings or block names, not both", options[strings.index(False)])
        for token in options:
            if token.type != "STRING" and not _PLAIN_NAME.fullmatch(token):
                self._choice_error(f"'{token}' is neither a string nor a block name", token)
        values = tuple(self.unquote(t) if t.type == "STRING" else str(t) for t in options)
        span = self._between(options[0], options[-1])
        expr = self.formula(value[0]) if value else None
        return _cell(name=str(name), expr=expr, declared=self.text[options[0].start_pos:options[-1].end_pos],
                     declared_span=span, choices=values, choice_blocks=not strings[0],
                     text=self.source(value[0]) if value else "", span=self._token_span(name))

    def _not_boolean(self, name) -> None:
        """`true = 1 ms` is refused where the cell is defined: the parser reads a name where a cell's name goes, but
        a formula that reads `true` gets the boolean, never the cell."""
        if name in _BOOLEAN_WORDS:
            self.diagnostics.append(error(
                "syntax", f"'{name}' is a boolean, not a cell's name", self._token_span(name).location(),
                source_line=self.line(name.line),
                hints=[f"a formula that reads `{name}` gets the boolean, not this cell: give the cell another name"]))

    def _choice_error(self, message: str, token) -> None:
        self.diagnostics.append(error("syntax", message, self._token_span(token).location(),
                                      source_line=self.line(token.line),
                                      hints=['write `NAME: "a" | "b" = "a"` (strings) or `NAME: block_a | block_b`']))

    def require(self, children: list, soft: bool = False) -> ir.Require:
        condition, message = children
        return _require(condition=self.formula(condition), message=self.unquote(message), text=self.source(condition),
                        span=self._own_span(condition), soft=soft)

    def expect(self, children: list) -> ir.Require:
        """`expect CONDITION, "message"`: read as a `require` that warns where it is broken (constraints.py)."""
        return self.require(children, soft=True)

    def sweep(self, children: list) -> ir.Cell:
        name, source = children
        self._not_boolean(name)
        return _cell(name=str(name), expr=self.formula(source), text=self.source(source),
                     span=self._token_span(name), sweep=True)

    def zipped_sweep(self, children: list) -> ir.Zipped:
        *names, source = children
        names = [name for name in names if name.type == "NAME"]
        for name in names:
            self._not_boolean(name)
        return _zipped(names=tuple(str(n) for n in names), source=self.formula(source), text=self.source(source),
                       span=self._token_span(names[0]))

    def show(self, children: list) -> list[ir.ShowItem]:
        return [child for child in children if not isinstance(child, str)]

    def show_item(self, children: list) -> ir.ShowItem:
        ref, *rest = children
        unit = unit_span = label = None
        for token in rest:
            if token.type == "UNIT":
                unit, unit_span = str(token), self._token_span(token)
                self.unit_dim(token)
            elif token.type == "STRING":
                label = self.unquote(token)
            else:
                label = str(token)
        return _show_item(ref=ref, unit=unit, unit_span=unit_span, label=label,
                          span=self._between(ref, children[-1]))

    def where(self, children: list) -> ir.Where:
        keyword, condition = children
        return _where(cond=self.formula(condition), text=self.source(condition),
                      span=self._between(keyword, condition))

    def _question(self, form: str, children: list) -> ir.Question:
        """`best min x per a, b`, `pareto min x, max y`, `largest batch per model` (grammar rule `question`)."""
        objectives, axis, per = [], None, ()
        for child in children[1:]:
            if type(child) is ir.Objective:
                objectives.append(child)
            elif type(child) is tuple:
                per = child
            elif child.type == "NAME":
                axis = _ref(parts=(str(child),), span=self._token_span(child))
        last = children[-1]
        span = self._between(children[0], last[-1] if type(last) is tuple else last)
        return _question(form=form, objectives=tuple(objectives), axis=axis, per=per,
                         text=" ".join(self._text(span).split()), span=span)

    def best(self, children: list) -> ir.Question:
        return self._question("best", children)

    def pareto(self, children: list) -> ir.Question:
        return self._question("pareto", children)

    def largest(self, children: list) -> ir.Question:
        return self._question("largest", children)

    def smallest(self, children: list) -> ir.Question:
        return self._question("smallest", children)

    def objective(self, children: list) -> ir.Objective:
        direction, ref = children
        return _objective(direction=str(direction), ref=ref, span=self._between(direction, ref))

    def per(self, children: list) -> tuple[ir.Ref, ...]:
        return tuple(_ref(parts=(str(t),), span=self._token_span(t)) for t in children if t.type == "NAME")

    def unit_dim(self, token) -> tuple[int, ...] | None:
        try:
            return parse_unit(str(token)).dim.exponents
        except UnitError as exc:
            span = self._token_span(token)
            self.diagnostics.append(error(exc.code, exc.message, span.location(), source_line=self.line(span.line),
                                          hints=[exc.hint] if exc.hint else []))
            return None

    # -- expressions -------------------------------------------------------------------------------------------
    def _own_span(self, node) -> ir.Span:
        """A new span equal to `node`'s (each node has a Span object of its own, as the tree walk gave it)."""
        span = node.span
        return _span(file=span.file, line=span.line, col=span.col, end_line=span.end_line, end_col=span.end_col)

    def quantity(self, children: list) -> ir.Num:
        token = children[0]
        span = self._token_span(token)
        number_text, unit_text = _QUANTITY_SPLIT.match(token).groups()
        number = self.finite(float(number_text.replace("_", "")), token, number_text)
        try:
            unit = parse_unit(unit_text)
        except UnitError as exc:
            hints = [exc.hint] if exc.hint else []
            unit_col = span.col + len(token) - len(unit_text)
            loc = Location(self.file, span.line, unit_col, unit_col + len(unit_text))
            if unit_text.replace("_", "").isalpha() and not self.one_value:
                hints.append(f"if '{unit_text}' starts the next cell, separate the two with ';' or a new line")
            self.diagnostics.append(error(exc.code, exc.message, loc, source_line=self.line(span.line), hints=hints))
            # Its dimension unknown (None): the file is checked on, and what reads this cell reports nothing more.
            return _num(value=0.0 if number is None else number, dim=None, unit=unit_text, text=str(token),
                        span=span)
        value = None if number is None else self.finite(unit.to_si(number), token, str(token))
        if value is None:
            return _num(value=0.0, dim=None, unit=unit_text, text=str(token), span=span)
        return _num(value=value, dim=unit.dim.exponents, unit=unit_text, text=str(token), span=span)

    def number(self, children: list) -> ir.Num:
        token = children[0]
        value = self.finite(float(token.replace("_", "")), token, str(token))
        if value is None:
            return _num(value=0.0, dim=None, unit=None, text=str(token), span=self._token_span(token))
        return _num(value=value, dim=_NO_DIM, unit=None, text=str(token), span=self._token_span(token))

    def finite(self, value: float, token, text: str) -> float | None:
        """`value`, or None after a located error where it overflows a float (above about 1.8e308 in SI): the literal
        then stands as 0 of unknown dimension (dim None)."""
        if math.isfinite(value):
            return value
        span = self._token_span(token)
        shown = text if len(text) <= 40 else text[:37] + "..."
        self.diagnostics.append(error(
            "number-too-large", f"'{shown}' is too large for a number (the largest is about 1.8e308 in SI units)",
            span.location(), source_line=self.line(span.line)))
        return None

    def unquote(self, token) -> str:
        """A STRING token's text without its quotes, its escapes (ESCAPES) replaced. Any other backslash is a located
        error (bad-escape), not dropped: `"C:\\data"` must not quietly become `C:data`."""
        def replace(match: re.Match) -> str:
            char = match.group(1)
            if char in ESCAPES:
                return ESCAPES[char]
            col = token.column + 1 + match.start()
            span = _span(file=self.file, line=token.line, col=col, end_line=token.line, end_col=col + 2)
            self.diagnostics.append(error(
                "bad-escape", f"unknown escape '\\{char}' in a string", span.location(),
                source_line=self.line(span.line),
                hints=['a string knows the escapes \\" \\\\ \\n \\r \\t: write a backslash as \\\\ (in a path, / '
                       'works on every system)']))
            return match.group(0)

        return re.sub(r"\\(.)", replace, str(token)[1:-1])

    def string(self, children: list) -> ir.Str:
        token = children[0]
        return _str(value=self.unquote(token), span=self._token_span(token))

    def true(self, children: list) -> ir.Bool:
        return _bool(value=True, span=self._token_span(children[0]))

    def false(self, children: list) -> ir.Bool:
        return _bool(value=False, span=self._token_span(children[0]))

    def ref(self, children: list) -> ir.Ref:
        if len(children) == 1:
            return _ref(parts=(str(children[0]),), span=self._token_span(children[0]))
        return _ref(parts=tuple(str(t) for t in children), span=self._between(children[0], children[-1]))

    def atom(self, children: list):
        """`( expr )`: the expression itself, contained in its parentheses (a parent's span includes them)."""
        inner = children[1]
        self._containers[id(inner)] = (children[0], children[2])
        return inner

    def call(self, children: list) -> ir.Call:
        name = children[0]
        args = tuple(child for child in children[2:-1] if not isinstance(child, str))
        node = _call(func=str(name), args=args, span=self._between(name, children[-1]),
                     func_span=self._token_span(name))
        return self._tall(node, 1 + max(map(self._height, args), default=0))

    def tuple(self, children: list) -> ir.TupleExpr:
        items = tuple(child for child in children[1:-1] if not isinstance(child, str))
        node = _tuple(items=items, span=self._between(children[0], children[-1]))
        return self._tall(node, 1 + max(map(self._height, items)))

    def list(self, children: list) -> ir.ListExpr:
        items = tuple(child for child in children[1:-1] if not isinstance(child, str))
        node = _list(items=items, span=self._between(children[0], children[-1]))
        return self._tall(node, 1 + max(map(self._height, items), default=0))

    def arithmetic_step(self, children: list) -> _Step:
        return _Step(children[0], False, 1 + self._height(children[0]), self._end(children[0]))

    def geometric_step(self, children: list) -> _Step:
        return _Step(children[0], True, 1 + self._height(children[0]), self._end(children[0]))

    def range(self, children: list) -> ir.RangeExpr:
        start, stop, *step = children
        height = 1 + max(self._height(start), self._height(stop), step[0].height if step else 0)
        node = _range(start=start, stop=stop, step=step[0].expr if step else None,
                      geometric=step[0].geometric if step else False, span=self._between(start, children[-1]))
        return self._tall(node, height)

    def binary(self, children: list) -> ir.Binary:
        left, op, right = children
        node = _binary(op=str(op), left=left, right=right, span=self._between(left, right))
        return self._tall(node, 1 + max(self._heights.get(id(left), 1), self._heights.get(id(right), 1)))

    compare = binary

    def _infix(self, op: str, left, right) -> ir.Binary:
        node = _binary(op=op, left=left, right=right, span=self._between(left, right))
        return self._tall(node, 1 + max(self._height(left), self._height(right)))

    def pow(self, children: list) -> ir.Binary:
        return self._infix("^", children[0], children[-1])      # `atom "^" unary` (the '^' kept in a `!` rule)

    def and_op(self, children: list) -> ir.Binary:
        return self._infix("and", children[0], children[1])

    def or_op(self, children: list) -> ir.Binary:
        return self._infix("or", children[0], children[1])

    def _prefix(self, op: str, children: list) -> ir.Unary:
        keyword, operand = children
        node = _unary(op=op, operand=operand, span=self._between(keyword, operand))
        return self._tall(node, 1 + self._height(operand))

    def not_op(self, children: list) -> ir.Unary:
        return self._prefix("not", children)

    def neg(self, children: list) -> ir.Unary:
        return self._prefix("-", children)


# The escapes a string knows, as in JSON and C: a quote, a backslash, a line feed, a tab, a carriage return.
ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}
