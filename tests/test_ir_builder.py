"""The IR built as Lark reduces each rule (ir_builder.py): spans as Lark's `propagate_positions` gives them (a child in
parentheses contains them, its own span and text do not), heights counted as a tree walk counts them, and nodes from
ir.node_maker that behave as pydantic's model_construct builds them. The expected spans below were also those of the
tree walk that built the IR before (main ec48152).
"""

from __future__ import annotations

import copy
import pickle

import pytest
from pydantic import ValidationError

from perfdsl import ir, parser
from perfdsl.errors import PerfError

TEXT = """report r {
    x = (a + b) * c
    y = ((a))
    z = -f(a, (b))
    w = not [1, 2] == (1, 2)
    sweep s = (1) .. 8 by *(2)
    where x > 1  # note
    best min r.x per s, t
    q = a +
        b  # inner
        * c
}
"""
INDENT = 4


@pytest.fixture(scope="module")
def block(tmp_path_factory) -> ir.Block:
    parser._parse_module.cache_clear()
    return parser.parse_text(TEXT, "t.perf").blocks[0]


def where(span: ir.Span) -> tuple[int, int, int, int]:
    return span.line, span.col, span.end_line, span.end_col


def test_a_parenthesised_operand_spans_its_parentheses_in_its_parent_only(block):
    x = block.cells[0]
    start = INDENT + len("x = ") + 1                      # the '(' at column 9
    assert where(x.expr.span) == (2, start, 2, start + len("(a + b) * c"))
    assert where(x.expr.left.span) == (2, start + 1, 2, start + 1 + len("a + b"))
    assert x.text == "(a + b) * c"


def test_a_formula_in_parentheses_is_its_own_text(block):
    y = block.cells[1]
    assert y.text == "a"
    assert where(y.expr.span) == (3, INDENT + len("y = ((") + 1, 3, INDENT + len("y = ((a") + 1)


def test_prefix_operators_calls_lists_and_tuples_span_their_keywords_and_brackets(block):
    z, w = block.cells[2], block.cells[3]
    start = INDENT + len("z = ") + 1
    assert where(z.expr.span) == (4, start, 4, start + len("-f(a, (b))"))
    assert where(z.expr.operand.span) == (4, start + 1, 4, start + len("-f(a, (b))"))
    assert where(z.expr.operand.func_span) == (4, start + 1, 4, start + 2)
    compare = w.expr.operand
    assert where(w.expr.span) == (5, start, 5, start + len("not [1, 2] == (1, 2)"))
    assert where(compare.left.span) == (5, start + len("not "), 5, start + len("not [1, 2]"))
    assert where(compare.right.span) == (5, start + len("not [1, 2] == "), 5, start + len("not [1, 2] == (1, 2)"))


def test_a_range_spans_from_its_start_to_its_step(block):
    s = block.cells[4]
    start = INDENT + len("sweep s = ") + 1
    assert s.sweep and s.text == "(1) .. 8 by *(2)"
    assert where(s.expr.span) == (6, start, 6, start + len("(1) .. 8 by *(2)"))
    assert s.expr.geometric and s.expr.step.value == 2.0


def test_where_and_questions_span_from_their_keyword(block):
    assert where(block.wheres[0].span) == (7, INDENT + 1, 7, INDENT + 1 + len("where x > 1"))
    question = block.questions[0]
    assert where(question.span) == (8, INDENT + 1, 8, INDENT + 1 + len("best min r.x per s, t"))
    assert question.text == "best min r.x per s, t"
    assert [ref.parts for ref in question.per] == [("s",), ("t",)]
    assert where(question.objectives[0].span) == (8, INDENT + len("best ") + 1, 8, INDENT + len("best min r.x") + 1)


def test_a_formula_over_several_lines_drops_its_inner_comments(block):
    q = block.cells[5]
    assert q.text == "a +\n        b\n        * c"
    assert where(q.expr.span) == (9, INDENT + len("q = ") + 1, 11, len("        * c") + 1)


def test_a_too_deep_formula_reports_only_its_depth():
    # 250 minus signs over a bad unit: 251 levels (each neg one, the quantity one); the bad unit inside is not reached
    text = "model m {\n    x = " + "-" * 250 + "3 qq\n    y = 2 qq\n}\n"
    with pytest.raises(PerfError) as caught:
        parser.parse_text(text, "deep.perf")
    codes = [(d.code, d.location.line, d.location.col) for d in caught.value.diagnostics]
    assert codes == [("too-deep", 2, 9), ("unknown-unit", 3, 11)]
    assert caught.value.diagnostics[0].message.startswith("this formula nests 251 levels deep")


def test_a_set_value_is_built_from_its_own_rule():
    assert [item.value for item in parser.parse_value("1, 2, 4,")] == [1.0, 2.0, 4.0]
    value = parser.parse_value("128 .. 8192 by *2")
    assert isinstance(value, ir.RangeExpr) and value.geometric and where(value.span) == (1, 1, 1, 18)


SPAN = dict(file="f.perf", line=1, col=2, end_line=1, end_col=5)
KINDS = {
    ir.Span: SPAN,
    ir.Num: dict(value=768e9, dim=(0, 1, -1, 0, 0, 0), unit="GB/s", text="768 GB/s", span=ir.Span(**SPAN)),
    ir.Cell: dict(name="bw", expr=ir.Ref(parts=("x",), span=ir.Span(**SPAN)), text="x", span=ir.Span(**SPAN)),
    ir.Block: dict(kind="model", name="m", span=ir.Span(**SPAN), file="f.perf"),
}


@pytest.mark.parametrize("cls", list(KINDS), ids=lambda cls: cls.__name__)
def test_a_node_from_node_maker_is_the_node_model_construct_builds(cls):
    values = KINDS[cls]
    made, constructed = ir.node_maker(cls)(**values), cls.model_construct(**values)
    assert made == constructed and hash(made) == hash(constructed)
    assert list(made.__dict__.items()) == list(constructed.__dict__.items())
    assert made.model_fields_set == constructed.model_fields_set == set(values)
    assert made.model_dump() == constructed.model_dump() == cls(**values).model_dump()
    assert pickle.loads(pickle.dumps(made, protocol=5)) == constructed
    assert copy.deepcopy(made) == constructed and made.model_copy() == constructed
    with pytest.raises(ValidationError):
        setattr(made, next(iter(values)), "other")           # frozen, as every node is


def test_node_maker_refuses_a_mutable_default():
    class Mutable(ir.Node):
        items: list = []

    with pytest.raises(TypeError, match="immutable defaults"):
        ir.node_maker(Mutable)


def test_a_span_pickles_as_its_numbers_and_comes_back_whole():
    span = ir.node_maker(ir.Span)(**SPAN)
    back = pickle.loads(pickle.dumps(span, protocol=5))
    assert back == span and back.model_fields_set == set(SPAN) and list(back.__dict__) == list(SPAN)
    assert len(pickle.dumps(span, protocol=5)) < len(pickle.dumps(dict(SPAN), protocol=5)) + 40
    partial = ir.Span.model_construct(file="f.perf", line=1)            # not a span the parser makes: pickled whole
    again = pickle.loads(pickle.dumps(partial, protocol=5))
    assert again.model_fields_set == {"file", "line"} and again.__dict__ == {"file": "f.perf", "line": 1}


def test_once_per_node_computes_once_for_a_node_and_again_for_an_equal_other_one(monkeypatch):
    """ir.once_per_node keeps a value by the node's identity (the node kept with it): asked again for the same node,
    it computes nothing; an equal node parsed apart is another node; past NODE_MEMO_LIMIT the memo starts again."""
    from perfdsl import ir
    from perfdsl.parser import parse_text

    calls = []

    @ir.once_per_node
    def kind_of(expr):
        calls.append(expr)
        return expr.kind

    def formula(file: str):
        return parse_text("model m { x = a + b; y = c }\n", file).blocks[0].cells[0].expr

    first, again = formula("one.perf"), formula("two.perf")
    assert first.kind == again.kind == "binary" and first is not again
    assert kind_of(first) == kind_of(first) == kind_of(again) == "binary"
    assert calls == [first, again]
    monkeypatch.setattr(ir, "NODE_MEMO_LIMIT", 2)
    kind_of(parse_text("model m { x = a + b; y = c }\n", "one.perf").blocks[0].cells[1].expr)   # full: starts again
    kind_of(first)
    assert calls[-1] is first and len(calls) == 4
