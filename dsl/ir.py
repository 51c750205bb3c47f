"""Typed IR (stage 2): what the parser builds from a Lark tree. Every node carries its source span.

The node classes are named after the grammar rules (see grammar.lark), so the tree-to-IR transformer is mechanical.
Numbers are already in SI with a dimension; the evaluator never sees unit strings.
"""

from __future__ import annotations

from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from .errors import Location

# The kinds of block, in one place: the grammar's KIND terminal is generated from it (parser.py), and the block
# table, the library index and the error texts read it.
BLOCK_KINDS = ("hardware", "model", "workload", "costmodel", "report")


class Node(BaseModel):
    """Base of every IR node. The parser is the only producer and builds nodes of the right types, so it uses
    `model_construct` (no validation) and the schemas are built only when something validates (tests do):
    this keeps `perfdsl eval` of a small report well under half a second."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, defer_build=True)


class Span(Node):
    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def location(self) -> Location:
        end_col = self.end_col if self.end_line == self.line else 0
        return Location(self.file, self.line, self.col, end_col)


class Num(Node):
    kind: Literal["num"] = "num"
    value: float                      # in SI
    dim: tuple[int, ...]              # exponents over units.BASE_DIMENSIONS
    unit: str | None = None           # the unit as written, kept for display
    text: str
    span: Span


class Str(Node):
    kind: Literal["str"] = "str"
    value: str
    span: Span


class Bool(Node):
    kind: Literal["bool"] = "bool"
    value: bool
    span: Span


class Ref(Node):
    """`hidden` (one part) or `model.hidden` / `prefill.flops` (two parts)."""

    kind: Literal["ref"] = "ref"
    parts: tuple[str, ...]
    span: Span

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


class Unary(Node):
    kind: Literal["unary"] = "unary"
    op: Literal["-", "not"]
    operand: "Expr"
    span: Span


class Binary(Node):
    kind: Literal["binary"] = "binary"
    op: str                           # + - * / ^ == != < <= > >= and or
    left: "Expr"
    right: "Expr"
    span: Span


class Call(Node):
    kind: Literal["call"] = "call"
    func: str
    args: tuple["Expr", ...]
    span: Span
    func_span: Span


class ListExpr(Node):
    kind: Literal["list"] = "list"
    items: tuple["Expr", ...]
    span: Span


class TupleExpr(Node):
    kind: Literal["tuple"] = "tuple"
    items: tuple["Expr", ...]
    span: Span


class RangeExpr(Node):
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
    """`require CONDITION, "message"`: a constraint that every shown sweep point must meet."""

    condition: Expr
    message: str
    text: str = ""                    # the condition's source text
    span: Span                        # the condition


class ShowItem(Node):
    ref: Ref
    unit: str | None = None
    unit_span: Span | None = None
    label: str | None = None
    span: Span

    @property
    def name(self) -> str:
        return self.label or self.ref.dotted


class Where(Node):
    """`where CONDITION` in a report: only the sweep points where the condition holds are shown or reduced."""

    cond: Expr
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
    path: str
    span: Span


class SetStmt(Node):
    """`rtx_a5000.mem_bw = 700 GB/s` in a file's `set { ... }`: replaces a cell of a block defined elsewhere."""

    block: str
    cell: Cell                        # the new cell; its span is the cell name's in the `set` statement
    block_span: Span


class Module(Node):
    file: str
    imports: tuple[Import, ...] = ()
    blocks: tuple[Block, ...] = ()
    sets: tuple[SetStmt, ...] = ()
    source: str = Field(default="", repr=False)
