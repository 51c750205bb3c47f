"""Typed IR (stage 2): what the parser builds as Lark reduces each grammar rule (ir_builder.py). Every node carries its
source span.

The node classes are named after the grammar rules (see grammar.lark), so the builder is mechanical.
Numbers are already in SI with a dimension; the evaluator never sees unit strings.
"""

# No `from __future__ import annotations`: pydantic would evaluate each field's annotation from its text as it builds
# the class (typing._eval_type, 105 of them): a fifth of this module's import. Only the references to Expr, written
# before it is defined, are text. The classes built are the same (their fields and schemas).
import functools
from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from .errors import Location

# The kinds of block, in one place: the grammar's KIND terminal is generated from it (parser.py), and the block
# table, the library index and the error texts read it.
BLOCK_KINDS = ("hardware", "model", "software", "precision", "workload", "costmodel", "report")


class Node(BaseModel):
    """Base of every IR node. The parser is the only producer and builds nodes of the right types, so it uses
    `model_construct` (no validation) and the schemas are built only when something validates (tests do):
    this keeps `perfdsl eval` of a small report well under half a second."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, defer_build=True)

    def __reduce_ex__(self, protocol):
        """Pickled as its class, its fields' values and the set of fields given, rebuilt by one call
        (_node_from_pickle) as node_maker builds a node, without pydantic's __getstate__ and __setstate__ (Python
        calls for every node). A node with extra or private attributes (the parser makes none) is pickled as
        pydantic pickles it."""
        if self.__pydantic_extra__ is not None or self.__pydantic_private__ is not None:
            return super().__reduce_ex__(protocol)
        return _node_from_pickle, (type(self), self.__dict__, self.__pydantic_fields_set__)


class Span(Node):
    """Where a node was written: `file`, and 1-based `line`, `col` to `end_line`, `end_col` (end column exclusive, as
    Lark gives them)."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __reduce_ex__(self, protocol):
        """Pickled as its file and four numbers, rebuilt by one call: spans are half the nodes of a parsed file, and
        this takes a third off the size of a Module's pickle (parse_cache, the programs sent to Dask workers) and a
        fifth off its loading. A span always has its five fields given (all are required)."""
        if self.__pydantic_fields_set__ != _SPAN_FIELDS:
            return super().__reduce_ex__(protocol)
        return _span_from_pickle, (self.file, self.line, self.col, self.end_line, self.end_col)

    def location(self) -> Location:
        """The span as a diagnostic Location; a span over several lines keeps its first line (`runs_on`: the caret
        marks it from `col` to the end of its code)."""
        if self.end_line > self.line:
            return Location(self.file, self.line, self.col, 0, runs_on=True)
        return Location(self.file, self.line, self.col, self.end_col)


class Num(Node):
    """A number literal, with or without a unit: `768 GB/s`, `24`, `1e-3`, `4_096`. `value` is in SI (768e9 for `768
    GB/s`), `dim` its dimension exponents over units.BASE_DIMENSIONS, `unit` the unit as written (None for a plain
    number) and `text` the literal as written. `dim` is None where the parser reported the literal (an unknown unit,
    a number too large) or put it in place of a formula it reported (too deep): its type is unknown to the checker,
    so the file is still checked without an error that only follows from it (parser.PartialParse)."""

    kind: Literal["num"] = "num"
    value: float                      # in SI
    dim: tuple[int, ...] | None       # exponents over units.BASE_DIMENSIONS; None: reported by the parser
    unit: str | None = None           # the unit as written, kept for display
    text: str
    span: Span


class Str(Node):
    """A string literal: `"facebook/opt-1.3b"`; `value` is the text without its quotes, escapes resolved."""

    kind: Literal["str"] = "str"
    value: str
    span: Span


class Bool(Node):
    """A boolean literal: `true` or `false`."""

    kind: Literal["bool"] = "bool"
    value: bool
    span: Span


class Ref(Node):
    """`hidden` (one part) or `model.hidden` / `prefill.flops` (two parts). `written` is the name as the user wrote
    it where a report's question bound it to the cell it reads (`tpot`, a shown column's label, for `c.tpot`;
    `batch` for the axis `workload.batch`: queries.bind_axes), so that a message names what is on the line; None
    where `parts` are as written."""

    kind: Literal["ref"] = "ref"
    parts: tuple[str, ...]
    span: Span
    written: str | None = None

    @property
    def shown_name(self) -> str:
        """How a message names the reference: as it was written (`written`), else its dotted parts."""
        return self.written or self.dotted

    @property
    def dotted(self) -> str:
        """The reference as written, parts joined by '.': "model.hidden"."""
        return ".".join(self.parts)


class Unary(Node):
    """A prefix operator: `-x` (negation) or `not fits`."""

    kind: Literal["unary"] = "unary"
    op: Literal["-", "not"]
    operand: "Expr"
    span: Span


class Binary(Node):
    """An infix operator and its two operands: `4 * hidden`, `2 ^ n`, `tpot <= 50 ms`, `a and b`. `op` is one of + - * /
    ^ == != < <= > >= and or."""

    kind: Literal["binary"] = "binary"
    op: str                           # + - * / ^ == != < <= > >= and or
    left: "Expr"
    right: "Expr"
    span: Span


class Call(Node):
    """A function call: `if(gated_mlp, hidden / heads, 64)`, `max(a, b)`. `func` is the name as written (checked against
    the function table later); `func_span` spans the name alone."""

    kind: Literal["call"] = "call"
    func: str
    args: tuple["Expr", ...]
    span: Span
    func_span: Span


class ListExpr(Node):
    """A list in brackets, the values of a sweep: `[1, 2, 4]`, `[rtx_a5000, rtx_a6000]`."""

    kind: Literal["list"] = "list"
    items: tuple["Expr", ...]
    span: Span


class TupleExpr(Node):
    """A parenthesised tuple of two or more values, one point of a zipped sweep: `(8, 2048)`."""

    kind: Literal["tuple"] = "tuple"
    items: tuple["Expr", ...]
    span: Span


class RangeExpr(Node):
    """A range, the values of a sweep: `128 .. 8192 by *2` (geometric: `step` is the factor) or `0 .. 1 by 0.25`
    (arithmetic: `step` is added); `step` is None where `by` is left out."""

    kind: Literal["range"] = "range"
    start: "Expr"
    stop: "Expr"
    step: "Expr | None" = None
    geometric: bool = False
    span: Span


Expr = Union[Num, Str, Bool, Ref, Unary, Binary, Call, ListExpr, TupleExpr, RangeExpr]

class Cell(Node):
    """A named cell. `expr` is None for a declared input; `declared` is the dimension text after ':' (or the
    options of a choice, `"tdp" | "utilisation"`, whose values `choices` holds: strings, or block names where
    `choice_blocks`)."""

    name: str
    expr: Expr | None = None
    declared: str | None = None
    declared_dim: tuple[int, ...] | None = None
    declared_span: Span | None = None
    choices: tuple[str, ...] | None = None
    choice_blocks: bool = False
    text: str = ""                    # the formula's source text, for explain and the workbook
    span: Span                        # the name
    sweep: bool = False               # `sweep name = ...`: the cell is an axis of the report


class Zipped(Node):
    """`sweep (batch, seq) = [(8, 2048), (16, 1024)]`: several cells that share one axis."""

    names: tuple[str, ...]
    source: Expr
    text: str = ""
    span: Span


class Require(Node):
    """`require CONDITION, "message"`: a constraint that every shown sweep point must meet; with `soft`, `expect
    CONDITION, "message"`: an expectation (a plausibility bound), whose broken points are kept, with a warning."""

    condition: Expr
    message: str
    text: str = ""                    # the condition's source text
    span: Span                        # the condition
    soft: bool = False                # `expect`: a warning where it is broken, never a point left out

    @property
    def keyword(self) -> str:
        return "expect" if self.soft else "require"


class ShowItem(Node):
    """One cell a report prints: `show prefill.runtime in ms as runtime`. `unit` is the display unit (None: chosen from
    the value), `label` the name after `as` (a NAME or a string), None where there is none."""

    ref: Ref
    unit: str | None = None
    unit_span: Span | None = None
    label: str | None = None
    span: Span

    @property
    def name(self) -> str:
        """The column's name: the `as` label, or else the reference as written ("prefill.runtime")."""
        return self.label or self.ref.dotted


class Where(Node):
    """`where CONDITION` in a report: only the sweep points where the condition holds are shown or reduced."""

    cond: Expr
    text: str = ""                    # the condition's source text, for the workbook's notes
    span: Span


class Objective(Node):
    """`min serving.tpot` / `max serving.throughput`: a cell a question ranks points by."""

    direction: Literal["min", "max"]
    ref: Ref
    span: Span


class Question(Node):
    """A reduction over the axes of a report (queries.py): `best min COST per AXES`, `pareto min A, max B per AXES`,
    `largest AXIS per AXES`, `smallest AXIS per AXES`. The axes not named in `per` are reduced."""

    form: Literal["best", "pareto", "largest", "smallest"]
    objectives: tuple[Objective, ...] = ()     # best: one, pareto: two, largest/smallest: none
    axis: Ref | None = None                    # largest/smallest: the axis (one part)
    per: tuple[Ref, ...] = ()                  # the axes kept (one part each)
    text: str = ""                             # the statement as written, for notes and warnings
    span: Span


class Block(Node):
    """A block: `hardware rtx_a6000 extends rtx_a5000 { ... }`, of a `kind` in BLOCK_KINDS, with its cells, zipped
    sweeps, and (reports only) its `show`, `where` and question statements, and its `require` constraints and
    `expect` expectations (both in `requires`, an expectation `soft`: read, inherited and checked alike). `parent` is
    the block named after `extends` (None without one); `span` spans the name; `file` is the file it is in."""

    kind: str
    name: str
    parent: str | None = None
    parent_span: Span | None = None
    cells: tuple[Cell, ...] = ()
    zipped: tuple[Zipped, ...] = ()
    shows: tuple[ShowItem, ...] = ()
    wheres: tuple[Where, ...] = ()
    questions: tuple[Question, ...] = ()
    requires: tuple[Require, ...] = ()
    span: Span                        # the block's name
    file: str


class Import(Node):
    """An import: `import "models/opt.perf"`; `path` is the text without quotes, looked up by loader.py."""

    path: str
    span: Span


class SetStmt(Node):
    """`rtx_a5000.mem_bw = 700 GB/s` in a file's `set { ... }`: replaces a cell of a block defined elsewhere."""

    block: str
    cell: Cell                        # the new cell; its span is the cell name's in the `set` statement
    block_span: Span


class Module(Node):
    """One parsed .perf file: its imports, blocks and `set { ... }` statements, in the order written, and its full
    `source` text (for quoting lines in diagnostics)."""

    file: str
    imports: tuple[Import, ...] = ()
    blocks: tuple[Block, ...] = ()
    sets: tuple[SetStmt, ...] = ()
    source: str = Field(default="", repr=False)


def once_per_node(compute):
    """`compute(node)` kept for each parsed node, by the node's id with the node itself (so that the id stays its
    own while kept): a parsed node is frozen, and the programs of one `perfdsl check` share their parsed libraries,
    so the same formula or block is asked about again in every block or program that holds it. Not functools'
    caches: a node's hash is pydantic's, over every field of its subtree. Past NODE_MEMO_LIMIT nodes the memo
    starts again (a long-lived process). A decorator: `compute` takes one node; what it returns is shared by every
    caller (return something immutable)."""
    kept: dict[int, tuple] = {}

    @functools.wraps(compute)
    def once(node):
        found = kept.get(id(node))
        if found is not None and found[0] is node:
            return found[1]
        if len(kept) >= NODE_MEMO_LIMIT:
            kept.clear()
        value = compute(node)
        kept[id(node)] = (node, value)
        return value

    return once


NODE_MEMO_LIMIT = 100_000    # nodes once_per_node remembers for each function


def node_maker(cls: type[Node]):
    """A constructor of `cls` nodes that behaves as `cls.model_construct(**values)` (the same `__dict__`, in field
    order with the defaults filled in, the same set of fields given, no validation) in about a quarter of its time:
    1.4 against 6.0 us a Cell (2-core machine, pydantic 2), and the parser builds about 19,000 nodes for the bundled
    libraries. Only the fields of `cls` may be given; their defaults must be immutable (they are shared, as pydantic
    shares immutable defaults). Written as generated code, as dataclasses writes its __init__: one dict display of
    the fields, no loop."""
    fields = cls.__pydantic_fields__
    for name, field in fields.items():
        if field.default_factory is not None or (not field.is_required() and not isinstance(
                field.default, (str, int, float, bool, tuple, type(None)))):
            raise TypeError(f"{cls.__name__}.{name}: node_maker needs immutable defaults")
    defaults = {name: field.default for name, field in fields.items() if not field.is_required()}
    items = ", ".join(f"{name!r}: values[{name!r}]" if name not in defaults
                      else f"{name!r}: values.get({name!r}, defaults[{name!r}])" for name in fields)
    source = (f"def make_{cls.__name__}(**values):\n"
              f"    node = new(cls)\n"
              f"    setattr(node, '__dict__', {{{items}}})\n"
              f"    setattr(node, '__pydantic_fields_set__', set(values))\n"
              f"    setattr(node, '__pydantic_extra__', None)\n"
              f"    setattr(node, '__pydantic_private__', None)\n"
              f"    return node\n")
    namespace = {"new": object.__new__, "setattr": object.__setattr__, "cls": cls, "defaults": defaults}
    exec(source, namespace)                           # noqa: S102 - the text is built from field names only
    return namespace[f"make_{cls.__name__}"]


_SPAN_FIELDS = frozenset(Span.__pydantic_fields__)
_new_span = node_maker(Span)


def _node_from_pickle(cls: type[Node], values: dict, fields_set: set) -> Node:
    node = object.__new__(cls)
    object.__setattr__(node, "__dict__", values)
    object.__setattr__(node, "__pydantic_fields_set__", fields_set)
    object.__setattr__(node, "__pydantic_extra__", None)
    object.__setattr__(node, "__pydantic_private__", None)
    return node


def _span_from_pickle(file: str, line: int, col: int, end_line: int, end_col: int) -> Span:
    return _new_span(file=file, line=line, col=col, end_line=end_line, end_col=end_col)
