"""Syntax errors are named by Lark's match_examples (dsl/syntax_errors.py): each golden syntax case
(tests/cases/syntax_NAME.perf) fails in the parser state of the slip it is named after."""

from __future__ import annotations

from pathlib import Path

import pytest
from lark.exceptions import UnexpectedInput

from perfdsl.parser import _parse_file
from perfdsl.syntax_errors import SLIPS, name_slip

CASES = Path(__file__).resolve().parent / "cases"
# golden case -> the slip match_examples names (None: a generic "unexpected ..." with the tokens expected there)
NAMED = {
    "syntax_missing_value": "equal_after_cell",         # `mem_bw =` ends its line: the '=' of the next line fails
    "syntax_missing_semicolon": "equal_after_cell",     # `layers = 24 heads = 16`: '24 heads' is a number with a unit
    "syntax_unclosed_list": "unclosed_list",
    "syntax_require_without_message": "require_without_message",
    "syntax_space_in_unit": "space_in_unit",
    "syntax_errors_in_several_blocks": "missing_value",  # its first error: `x = ` then `}`
    "syntax_question_direction": "question_direction",   # `best maximum x`: the word where `min` or `max` goes
    # a name alone where a cell starts: the parser reads the question's line before it (`for` where `per` goes, `max x`
    # without `best`), in a report after other blocks
    "syntax_question_per": "space_in_unit",
    "syntax_question_without_best": "space_in_unit",
    "syntax_unclosed_paren": None,                    # a generic "unexpected", with a note pointing back to the "("
    # the next block's name where a cell's '=' should come; the error says a block is not closed, with its '{'
    "syntax_unclosed_block_before_next": "space_in_unit",
    "syntax_trailing_comma": None,                    # generic: the tokens a hardware block takes there
}


def failure(text: str) -> UnexpectedInput:
    with pytest.raises(UnexpectedInput) as caught:
        _parse_file(text)
    return caught.value


@pytest.mark.parametrize("case", sorted(NAMED))
def test_each_golden_syntax_case_is_named_after_its_slip(case):
    assert name_slip(failure((CASES / f"{case}.perf").read_text(encoding="utf-8")), _parse_file) == NAMED[case]


def test_every_slip_is_named_by_its_own_examples():
    for slip, examples in SLIPS.items():
        named = {name_slip(failure(text), _parse_file) for text in examples}
        assert named == {slip}, (slip, named)


def test_every_syntax_case_is_covered():
    cases = {path.stem for path in CASES.glob("syntax_*.perf")}
    # cases whose error is not a parse failure: a character the lexer refuses, the end of the file, a bad choice
    lexer_or_builder = {"syntax_single_quote", "syntax_unclosed_block", "syntax_choice_mixed"}
    assert cases - lexer_or_builder == set(NAMED)


def test_a_parse_failing_in_an_example_state_with_other_tokens_acceptable_is_generic():
    # Found by mutating the cost model: a number with a unit glued to a name inside a call (`hidden  GBfn, 0)`).
    # Lark raised TypeError from its own debug message on the state comparison; the error is now the generic one.
    text = "costmodel c {\n    x = if(a, 2 * hidden  GBfn, 0)\n}\n"
    exc = failure(text)
    assert name_slip(exc, _parse_file) is None


@pytest.mark.parametrize("slip, body", [("missing_value", "x = 1\n    a = "), ("space_in_unit", "x = 1\n    word b"),
                                        ("require_without_message", "x = 1\n    require b > 1"),
                                        ("equal_after_cell", "x = 1\n    y = 2 z = 3")])
def test_a_slip_in_a_later_block_is_named_as_in_the_first(slip, body):
    # Lark's states compare the depth of the parser's stack, which the blocks before the slip's add to: after a cell
    # of a file's second block (or of a block after an import), these were named by none and got the generic message.
    for before in ("", "workload v {}\n", 'import "x.perf"\n'):
        assert name_slip(failure(f"{before}report r {{\n    {body}\n}}\n"), _parse_file) == slip


def test_a_pareto_direction_on_its_next_line_is_named_as_pareto_s():
    from perfdsl import PerfError
    from perfdsl.parser import parse_text

    text = "costmodel c { a = 1 ms; b = 2 ms }\nreport r {\n    show c.a\n    pareto min c.a,\n        lowest c.b\n}\n"
    with pytest.raises(PerfError) as raised:
        parse_text(text, "p.perf")
    assert raised.value.diagnostics[0].render() == """\
error[syntax]: unexpected 'lowest': `pareto` takes `min` or `max` before each cell
  --> p.perf:5:9
  |
5 |         lowest c.b
  |         ^^^^^^
  = help: write `min c.b`"""
