"""Property tests (hypothesis) for the parser, the evaluator and the units.

(a) Random well-formed formulas over swept cells, rendered to .perf text with the fewest parentheses the documented
    precedence allows, evaluate to what a small scalar reference evaluator (Python floats and math) gives, point by
    point.
(b) Random edits of valid .perf files (the bundled libraries and the golden cases) never raise anything but
    perfdsl's own PerfError (UsageError included) from load, check, evaluate, value and rendering.
(c) Units: prefixes are consistent, compound units multiply out, GB is not GiB, and any text either parses or
    raises UnitError.

Example counts are modest so the suite stays fast on a 2-core CI machine.
"""

from __future__ import annotations

import io
import math
import os
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import perfdsl
from perfdsl.errors import PerfError
from perfdsl.parser import parse_value
from perfdsl.render import write_csv, write_json, write_table
from perfdsl.units import UNIT_TABLE, UnitError, auto_unit, parse_unit
from perfdsl.units import BYTES, ENERGY, FLOPS_DIM, POWER, TIME, Dimension

REPO = Path(__file__).resolve().parent.parent

# PERFDSL_EXAMPLES=5000 runs every property with more examples (e.g. before a release); the default keeps CI fast.
SCALE = float(os.environ.get("PERFDSL_EXAMPLES", "0")) / 150 or 1.0
FAST = settings(max_examples=int(150 * SCALE), deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ = settings(max_examples=int(120 * SCALE), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


# =================================================================================================================
# (a) formulas against a scalar reference
# =================================================================================================================
#
# An AST is a tuple:
#   ("num", value) | ("var", name) | ("neg", a) | ("bin", op, a, b) | ("pow", a, n) | ("call", fn, [args])
#   | ("abs", a) | ("if", cond, a, b)
# and a condition:
#   ("cmp", op, leaf, leaf) | ("not", c) | ("and", c, c) | ("or", c, c)
# Conditions compare leaves only, so a last-bit difference in a computed value can never flip a branch.

SWEEP_VALUES = [-3.0, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 2.5, 4.0]
CONSTANTS = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 10.0, 0.25]
VARS = ["x", "y", "k"]
COMPARE = ["<", "<=", ">", ">=", "==", "!="]

leaves = st.one_of(st.sampled_from(CONSTANTS).map(lambda v: ("num", v)), st.sampled_from(VARS).map(lambda v: ("var", v)))


def _conditions():
    base = st.builds(lambda op, a, b: ("cmp", op, a, b), st.sampled_from(COMPARE), leaves, leaves)
    return st.recursive(base, lambda inner: st.one_of(
        inner.map(lambda c: ("not", c)),
        st.tuples(st.just("and"), inner, inner),
        st.tuples(st.just("or"), inner, inner),
    ), max_leaves=4)


conditions = _conditions()


def _extend(inner):
    return st.one_of(
        inner.map(lambda a: ("neg", a)),
        st.tuples(st.just("bin"), st.sampled_from(["+", "-", "*", "/"]), inner, inner),
        st.tuples(st.just("pow"), inner, st.integers(-2, 3)),
        st.tuples(st.just("call"), st.sampled_from(["min", "max"]), st.lists(inner, min_size=1, max_size=3)),
        inner.map(lambda a: ("abs", a)),
        st.tuples(st.just("if"), conditions, inner, inner),
    )


formulas = st.recursive(leaves, _extend, max_leaves=10)

# Precedence, loosest first (LANGUAGE.md): or, and, not, comparisons, + -, * /, unary -, ^, atoms.
P_OR, P_AND, P_NOT, P_CMP, P_ADD, P_MUL, P_NEG, P_POW, P_ATOM = range(1, 10)


def _wrap(text_prec: tuple[str, int], needed: int) -> str:
    text, prec = text_prec
    return text if prec >= needed else f"({text})"


def render(node) -> tuple[str, int]:
    """.perf text of a formula, with parentheses only where the precedence needs them."""
    kind = node[0]
    if kind == "num":
        value = node[1]
        return (str(int(value)) if value.is_integer() else repr(value)), P_ATOM
    if kind == "var":
        return node[1], P_ATOM
    if kind == "neg":
        return "-" + _wrap(render(node[1]), P_NEG), P_NEG
    if kind == "bin":
        _, op, a, b = node
        prec = P_ADD if op in "+-" else P_MUL
        return f"{_wrap(render(a), prec)} {op} {_wrap(render(b), prec + 1)}", prec
    if kind == "pow":
        _, a, n = node
        return f"{_wrap(render(a), P_ATOM)} ^ {n}", P_POW
    if kind == "call":
        _, fn, args = node
        return f"{fn}({', '.join(render(a)[0] for a in args)})", P_ATOM
    if kind == "abs":
        return f"abs({render(node[1])[0]})", P_ATOM
    if kind == "if":
        _, cond, a, b = node
        return f"if({render_condition(cond)[0]}, {render(a)[0]}, {render(b)[0]})", P_ATOM
    raise AssertionError(kind)


def render_condition(node) -> tuple[str, int]:
    kind = node[0]
    if kind == "cmp":
        _, op, a, b = node
        return f"{render(a)[0]} {op} {render(b)[0]}", P_CMP
    if kind == "not":
        return "not " + _wrap(render_condition(node[1]), P_NOT), P_NOT
    prec = P_AND if kind == "and" else P_OR
    _, a, b = node
    return f"{_wrap(render_condition(a), prec)} {kind} {_wrap(render_condition(b), prec + 1)}", prec


class Reference:
    """A scalar evaluator over the AST with Python floats; it records the largest magnitude it meets."""

    def __init__(self, env: dict[str, float]):
        self.env = env
        self.largest = 1.0

    def note(self, value: float) -> float:
        if math.isfinite(value):
            self.largest = max(self.largest, abs(value))
        return value

    def value(self, node) -> float:
        kind = node[0]
        if kind == "num":
            return node[1]
        if kind == "var":
            return self.env[node[1]]
        if kind == "neg":
            return -self.value(node[1])
        if kind == "bin":
            _, op, a, b = node
            left, right = self.value(a), self.value(b)
            if op == "+":
                return self.note(left + right)
            if op == "-":
                return self.note(left - right)
            if op == "*":
                return self.note(left * right)
            return self.note(left / right)              # ZeroDivisionError: the point is skipped
        if kind == "pow":
            _, a, n = node
            base = self.value(a)
            if math.isnan(base):
                return 1.0 if n == 0 else math.nan
            return self.note(base ** n)                 # ZeroDivisionError / OverflowError: skipped
        if kind == "call":
            _, fn, args = node
            values = [self.value(a) for a in args]
            if any(math.isnan(v) for v in values):
                return math.nan                         # numpy's minimum/maximum propagate NaN
            return min(values) if fn == "min" else max(values)
        if kind == "abs":
            return abs(self.value(node[1]))
        if kind == "if":
            _, cond, a, b = node
            return self.value(a) if self.condition(cond) else self.value(b)
        raise AssertionError(kind)

    def condition(self, node) -> bool:
        kind = node[0]
        if kind == "cmp":
            _, op, a, b = node
            left, right = self.value(a), self.value(b)
            return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right,
                    "==": left == right, "!=": left != right}[op]
        if kind == "not":
            return not self.condition(node[1])
        if kind == "and":
            return self.condition(node[1]) and self.condition(node[2])
        return self.condition(node[1]) or self.condition(node[2])


def _number_text(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _same(got: float, want: float, largest: float) -> bool:
    if math.isnan(want):
        return math.isnan(got)
    if math.isinf(want):
        return got == want
    return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9 * largest)


@FAST
@given(formula=formulas, condition=conditions,
       xs=st.lists(st.sampled_from(SWEEP_VALUES), min_size=1, max_size=4, unique=True),   # a value listed twice
       ys=st.lists(st.sampled_from(SWEEP_VALUES), min_size=1, max_size=3, unique=True),   # is an error
       k=st.sampled_from(SWEEP_VALUES))
def test_formulas_match_a_scalar_reference(formula, condition, xs, ys, k):
    text = render(formula)[0]
    cond_text = render_condition(condition)[0]
    source = (f"report r {{\n"
              f"    sweep x = [{', '.join(_number_text(v) for v in xs)}]\n"
              f"    sweep y = [{', '.join(_number_text(v) for v in ys)}]\n"
              f"    k = {_number_text(k)}\n"
              f"    f = {text}\n"
              f"    g = {cond_text}\n"
              f"    show r.f, r.g\n"
              f"}}\n")
    program = perfdsl.load([], texts={"formula.perf": source})
    assert program.check() == [], source
    result = program.evaluate()
    axes = result.axis_columns()
    f_values = result.column("r.f").tolist()
    g_values = result.column("r.g").tolist()
    assert len(f_values) == len(xs) * len(ys)
    for x, y, got_f, got_g in zip(axes["x"].tolist(), axes["y"].tolist(), f_values, g_values):
        reference = Reference({"x": float(x), "y": float(y), "k": k})
        assert bool(got_g) == reference.condition(condition), (source, x, y)
        try:
            want = reference.value(formula)
        except (ZeroDivisionError, OverflowError):
            continue
        assert _same(float(got_f), want, reference.largest), f"{source}\nat x={x}, y={y}: got {got_f}, want {want}"


@FAST
@given(formula=formulas)
def test_rendered_formulas_parse_back_to_one_expression(formula):
    text = render(formula)[0]
    parsed = parse_value(text)
    assert isinstance(parsed, list) and len(parsed) == 1, text


def test_precedence_examples():
    # The renderer's precedence is the documented one; spot-check it against hand-written expectations.
    cases = {
        "-2 ^ 2": -(2 ** 2),
        "2 ^ 3 ^ 2": 2 ** (3 ** 2),
        "2 ^ -1": 2 ** -1,
        "1 - 2 - 3": (1 - 2) - 3,
        "8 / 4 / 2": (8 / 4) / 2,
        "1 + 2 * 3": 1 + (2 * 3),
        "-3 * -2": (-3) * (-2),
        "2 * -x ^ 2": 2 * -(3 ** 2),
    }
    source = "report r {\n    x = 3\n" + "".join(f"    c{i} = {text}\n" for i, text in enumerate(cases)) \
        + "    show " + ", ".join(f"r.c{i}" for i in range(len(cases))) + "\n}\n"
    record = perfdsl.load([], texts={"p.perf": source}).evaluate().records()[0]
    assert [record[f"r.c{i}"] for i in range(len(cases))] == pytest.approx(list(cases.values()))


# =================================================================================================================
# (b) random edits never raise anything but PerfError
# =================================================================================================================

SEED_DIRS = {"models": REPO / "models", "hardware": REPO / "hardware", "cases": REPO / "tests" / "cases"}
PUNCTUATION = list("{}[]()=;:,.+-*/^\"'#<>!%_") + ["..", "==", "by", "sweep", "show", "in", "as", "extends",
                                                    "and", "not", "if(", "1e", "\n", " GB", "*2", "µ", "\t"]
TOKEN = re.compile(r"\w+|\.\.|[^\w\s]|\s+")


@pytest.fixture(scope="module")
def seed_tree(tmp_path_factory) -> dict[str, list[Path]]:
    """A copy of the seed folders (so a mutant can sit beside the files it imports)."""
    root = tmp_path_factory.mktemp("seeds")
    seeds: dict[str, list[Path]] = {}
    for name, folder in SEED_DIRS.items():
        if not folder.is_dir():
            continue
        target = root / name
        target.mkdir()
        for file in sorted(folder.glob("*.perf")):
            shutil.copy(file, target / file.name)
        seeds[name] = sorted(target.glob("*.perf"))
    return seeds


def _seed_choices(seed_tree) -> list[Path]:
    return [path for paths in seed_tree.values() for path in paths]


def mutate(text: str, data) -> str:
    for _ in range(data.draw(st.integers(1, 3), label="edits")):
        kind = data.draw(st.sampled_from(["delete", "swap", "truncate", "insert", "duplicate-line"]), label="kind")
        if kind == "delete" and text:
            at = data.draw(st.integers(0, len(text) - 1))
            width = data.draw(st.integers(1, 3))
            text = text[:at] + text[at + width:]
        elif kind == "swap":
            tokens = TOKEN.findall(text)
            solid = [i for i, t in enumerate(tokens) if not t.isspace()]
            if len(solid) >= 2:
                j = data.draw(st.integers(0, len(solid) - 2))
                a, b = solid[j], solid[j + 1]
                tokens[a], tokens[b] = tokens[b], tokens[a]
                text = "".join(tokens)
        elif kind == "truncate":
            text = text[:data.draw(st.integers(0, len(text)))]
        elif kind == "insert":
            at = data.draw(st.integers(0, len(text)))
            text = text[:at] + data.draw(st.sampled_from(PUNCTUATION)) + text[at:]
        elif kind == "duplicate-line":
            lines = text.split("\n")
            at = data.draw(st.integers(0, len(lines) - 1))
            lines.insert(at, lines[at])
            text = "\n".join(lines)
    return text


def exercise(path: Path, data) -> None:
    """Everything a user can do with a file; only PerfError may come out."""
    try:
        program = perfdsl.load([path])
    except PerfError as exc:
        str(exc)
        return
    for diag in program.check():
        diag.render()
    for report in program.reports[:2]:
        try:
            result = program.evaluate(report)
        except PerfError as exc:
            str(exc)
            continue
        keys, columns = result.table()
        write_csv(keys, columns, io.StringIO())
        write_json(keys, columns, io.StringIO())
        write_table(keys, columns, io.StringIO())
        result.records()
    cells = [f"{block.name}.{cell}" for block in program.blocks.values() for cell in block.cells]
    if cells:
        for dotted in data.draw(st.lists(st.sampled_from(cells), max_size=2), label="cells"):
            try:
                program.value(dotted)
            except PerfError:
                pass


@FUZZ
@given(data=st.data())
def test_random_edits_raise_only_perf_errors(seed_tree, data):
    seed = data.draw(st.sampled_from(_seed_choices(seed_tree)), label="seed")
    text = mutate(seed.read_text(encoding="utf-8"), data)
    mutant = seed.with_name("zz_mutant.perf")
    mutant.write_text(text, encoding="utf-8")
    try:
        exercise(mutant, data)
    finally:
        mutant.unlink()


def test_there_are_seeds(seed_tree):
    # Seeds for the fuzz test: the bundled libraries and the golden cases (their validity is tested elsewhere).
    assert sum(len(paths) for paths in seed_tree.values()) >= 20
    assert len(seed_tree.get("cases", [])) >= 20


@FAST
@given(text=st.lists(st.sampled_from(list("0123456789 .,_eE+-*/^()[]\"'abxyzGBs%µ") + [" .. ", " by ", " *2"]),
                    max_size=20).map("".join))
def test_set_values_raise_only_perf_errors(text):
    try:
        parse_value(text)
    except PerfError:
        pass


# =================================================================================================================
# (c) units
# =================================================================================================================

SI_LARGE = {"k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}
BINARY = {"Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40, "Pi": 2.0**50, "Ei": 2.0**60}
PREFIXED = ["FLOP", "B", "byte", "bit", "J", "W", "Hz", "token", "FLOPS", "OP", "OPS", "Wh"]


@pytest.mark.parametrize("base", PREFIXED)
@pytest.mark.parametrize("prefix", list(SI_LARGE))
def test_si_prefixes_scale_consistently(prefix, base):
    unit, plain = parse_unit(prefix + base), parse_unit(base)
    assert unit.scale == pytest.approx(SI_LARGE[prefix] * plain.scale, rel=1e-15)
    assert unit.dim == plain.dim


@pytest.mark.parametrize("base", ["B", "byte", "bit"])
@pytest.mark.parametrize("prefix", list(BINARY))
def test_binary_prefixes_scale_consistently(prefix, base):
    unit, plain = parse_unit(prefix + base), parse_unit(base)
    assert unit.scale == BINARY[prefix] * plain.scale
    assert unit.dim == plain.dim
    si = parse_unit(prefix[0] + base if prefix != "Ki" else "k" + base)
    assert unit.scale != si.scale                   # GiB is not GB, KiB is not kB


@pytest.mark.parametrize("base", ["s", "J", "W"])
@pytest.mark.parametrize("prefix, factor", [("m", 1e-3), ("u", 1e-6), ("µ", 1e-6), ("n", 1e-9), ("p", 1e-12)])
def test_small_prefixes_scale_consistently(prefix, factor, base):
    assert parse_unit(prefix + base).scale == pytest.approx(factor * parse_unit(base).scale, rel=1e-15)


SIMPLE_UNITS = sorted(name for name in UNIT_TABLE if name != "1" and re.fullmatch(r"%|[A-Za-zµ_]+", name))


@FAST
@given(terms=st.lists(st.tuples(st.sampled_from(SIMPLE_UNITS), st.integers(-3, 3)), min_size=1, max_size=4),
       ops=st.lists(st.sampled_from("*/"), min_size=3, max_size=3))
def test_compound_units_multiply_out(terms, ops):
    text = ""
    want_scale, want_dim = 1.0, Dimension()
    for index, (name, power) in enumerate(terms):
        op = "*" if index == 0 else ops[index - 1]
        term = name if power == 1 else f"{name}^{power}"
        text += term if index == 0 else op + term
        scale, dim = UNIT_TABLE[name]
        if op == "*":
            want_scale, want_dim = want_scale * scale**power, want_dim * dim**power
        else:
            want_scale, want_dim = want_scale / scale**power, want_dim / dim**power
    unit = parse_unit(text)
    assert unit.dim == want_dim, text
    assert unit.scale == pytest.approx(want_scale, rel=1e-12), text
    assert unit.text == text


@FAST
@given(name=st.sampled_from(SIMPLE_UNITS), value=st.floats(-1e12, 1e12, allow_nan=False))
def test_to_si_and_back(name, value):
    unit = parse_unit(name)
    assert unit.from_si(unit.to_si(value)) == pytest.approx(value, rel=1e-12, abs=1e-300)


@FAST
@given(text=st.text(alphabet=st.sampled_from(list("GMkKiBbsW%µ*/^-1 2_TFLOPJhz")), max_size=12))
def test_any_text_parses_or_raises_unit_error(text):
    try:
        unit = parse_unit(text)
    except UnitError as exc:
        assert exc.message
        return
    assert unit.scale > 0


def test_gb_is_not_gib():
    assert parse_unit("GB").scale != parse_unit("GiB").scale
    assert parse_unit("GiB").scale / parse_unit("GB").scale == pytest.approx(2**30 / 1e9)


@FAST
@given(dimension=st.sampled_from([TIME, BYTES, FLOPS_DIM, ENERGY, POWER]),
       magnitude=st.floats(1e-12, 1e18, allow_nan=False))
def test_auto_unit_keeps_numbers_readable(dimension, magnitude):
    text, scale = auto_unit(dimension, magnitude)
    assert parse_unit(text).dim == dimension if text else True
    shown = magnitude / scale
    smallest = min(s for _, s in _family(dimension))
    largest = max(s for _, s in _family(dimension))
    if magnitude >= smallest:
        assert shown >= 1
    if scale != largest:
        assert shown < 1000 + 1e-9


def _family(dimension):
    from perfdsl.units import _AUTO_FAMILIES

    return _AUTO_FAMILIES[dimension]
