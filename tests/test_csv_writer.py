"""The CSV writer's fast path (rows joined directly where no field needs quoting) writes exactly what Python's
`csv.writer` writes for the same fields, the fields being those of the writer's documented conversions: a float's
repr, an empty cell for NaN or None, `true`/`false` for flags, text neutralised so it never runs as a formula."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from perfdsl.output import neutralise
from perfdsl.render import write_csv


def reference_csv(keys: list[str], columns: list[np.ndarray]) -> str:
    """The same rows through csv.writer, one value at a time: the behaviour the fast path must reproduce."""
    def field(value, kind):
        if kind == "f":
            return "" if math.isnan(value) else repr(value)
        if value is None:
            return ""
        if type(value) is bool:
            return "true" if value else "false"
        return neutralise(value)

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([neutralise(key) for key in keys])
    for row in range(len(columns[0]) if columns else 0):
        writer.writerow([field(column[row].item() if column.dtype.kind in "fb" else column[row], column.dtype.kind)
                         for column in columns])
    return out.getvalue()


floats = st.floats(allow_nan=True, allow_infinity=True)
texts = st.one_of(st.text(max_size=6), st.sampled_from(["=1+2", "+x", "-", "@a", "a,b", 'q"', "l\nm", "r\rs", ""]))
objects = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), floats, texts)


@st.composite
def tables(draw):
    rows = draw(st.integers(0, 12))
    kinds = draw(st.lists(st.sampled_from(["float", "flag", "text", "object"]), min_size=1, max_size=4))
    columns = []
    for kind in kinds:
        if kind == "float":
            columns.append(np.array(draw(st.lists(floats, min_size=rows, max_size=rows)), dtype=float))
        elif kind == "flag":
            columns.append(np.array(draw(st.lists(st.booleans(), min_size=rows, max_size=rows)), dtype=bool))
        else:
            values = draw(st.lists(texts if kind == "text" else objects, min_size=rows, max_size=rows))
            column = np.empty(rows, dtype=object)
            column[:] = values
            columns.append(column)
    return [f"k{i}" for i in range(len(columns))], columns


@settings(max_examples=300, deadline=None)
@given(tables())
def test_the_writer_writes_what_csv_writer_writes(table):
    keys, columns = table
    out = io.StringIO()
    write_csv(keys, columns, out)
    assert out.getvalue() == reference_csv(keys, columns)


def test_flags_and_the_numbers_equal_to_them_stay_apart():
    """True == 1 and hash(True) == hash(1): a column converting each distinct value once must not write `true`
    for the number 1 (a question's count column beside its flags)."""
    column = np.empty(4, dtype=object)
    column[:] = [True, 1, False, 0]
    out = io.StringIO()
    write_csv(["x", "y"], [column, np.arange(4.0)], out)
    assert out.getvalue() == "x,y\ntrue,0.0\n1,1.0\nfalse,2.0\n0,3.0\n"


def test_a_large_float_table_is_written_by_the_fast_path_exactly():
    rng = np.random.default_rng(7)
    columns = [np.array(["llama", "=mistral", "qwen"], dtype=object)[rng.integers(0, 3, 3000)],
               10 ** rng.uniform(-30, 30, 3000), rng.random(3000) > 0.5]
    columns[1][::17] = np.nan
    out = io.StringIO()
    write_csv(["model", "tpot", "fits"], columns, out)
    assert out.getvalue() == reference_csv(["model", "tpot", "fits"], columns)
