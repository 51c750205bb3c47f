"""The CSV and JSON writers write column by column what a row-at-a-time writer would: the CSV rows joined directly
where no field needs quoting are exactly what Python's `csv.writer` writes for the same fields (a float's repr, an
empty cell for NaN or None, `true`/`false` for flags, text neutralised so it never runs as a formula), and each JSON
record exactly what `json.dumps` of the row's dict writes."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from perfdsl.output import neutralise
from perfdsl.render import write_csv, write_json


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


def reference_json(keys: list[str], columns: list[np.ndarray], lines: bool) -> str:
    """One `json.dumps` of a dict per row: the behaviour the column-wise writer must reproduce (non-finite numbers
    as null; JSON Lines text neutralised)."""
    def value(v):
        if isinstance(v, float) and not math.isfinite(v):
            v = None
        return neutralise(v) if lines else v

    names = [neutralise(key) for key in keys] if lines else keys
    records = [json.dumps(dict(zip(names, [value(c[row].item() if c.dtype.kind in "fb" else c[row])
                                             for c in columns])), ensure_ascii=False)
               for row in range(len(columns[0]) if columns else 0)]
    if lines:
        return "".join(record + "\n" for record in records)
    return "[" + "".join(("\n  " if i == 0 else ",\n  ") + r for i, r in enumerate(records)) + ("\n]\n" if records else "]\n")


@settings(max_examples=300, deadline=None)
@given(tables(), st.booleans(), st.lists(st.sampled_from(["a", "a", "%s", "=b", 'q"', "é"]), min_size=4, max_size=4))
def test_the_json_writer_writes_what_json_dumps_writes(table, lines, names):
    keys, columns = table
    keys = names[:len(columns)]                # repeated keys, '%' and formula-like keys included
    out = io.StringIO()
    write_json(keys, columns, out, lines=lines)
    assert out.getvalue() == reference_json(keys, columns, lines)
