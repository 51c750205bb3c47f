"""Parquet output of `perfdsl eval -o FILE.parquet` (stage 5, an output like render.py): rows written chunk by
chunk as row groups, so a sweep of any size streams into one file. Column names are the keys of records() (display
units in brackets), values in those units; numbers stay float64 or int64, booleans boolean, names strings; a
missing value (NaN, or a question's row without an answer) is null. A column's type is its column's kind
(column_kinds: a shown number float64, an axis of whole numbers int64, a flag boolean, text string), so a column with
no value at all (every group of a question unanswered, the first chunk a `where` empties) has the type it has
where it has values, not the text type pyarrow gives a column of nulls.

pyarrow is optional (the extra `parquet`: `pip install -e '.[parquet]'` in a checkout): it is imported here only.
The file is written beside the target under a hidden temporary name and moved onto it at the end, as every output
of perfdsl is (output.py).
"""

from __future__ import annotations

import os
from typing import Iterable

import numpy as np

from .extras import require
from .output import atomic_output


def write_parquet(path: str | os.PathLike, parts: Iterable[tuple[list[str], list[np.ndarray]]],
                  kinds: dict[str, str] | None = None) -> int:
    """Rows that come in parts (keys, columns) as one Parquet file, one row group a part; returns the rows written.
    `kinds`: key -> "float", "int", "bool" or "str" (column_kinds), the type of a column that holds nulls alone (a
    key not in it: typed from its values, text where it has none). The file appears through output.atomic_output (the
    mode a plain open() gives, the umask applied). Raises UsageError (missing-package) without pyarrow."""
    pa = require("pyarrow", "parquet")
    require("pyarrow.parquet", "parquet")
    kinds = kinds or {}
    rows, writer = 0, None
    with atomic_output(path, binary=True) as out:
        try:
            for keys, columns in parts:
                table = pa.table([_arrow_column(pa, column, kinds.get(key)) for key, column in zip(keys, columns)],
                                 names=keys)
                if writer is None:
                    writer = pa.parquet.ParquetWriter(out, table.schema)    # writes into `out`, leaves it open
                writer.write_table(table.cast(writer.schema))
                rows += table.num_rows
            if writer is None:
                raise ValueError("no rows to write")       # evaluate_chunks always yields one part at least
        finally:
            if writer is not None:
                writer.close()
    return rows


def column_kinds(axes, columns) -> dict[str, str]:
    """Each key of a report's rows -> its kind for write_parquet: the axes' (context.Axis) coordinates ("int" where an
    axis of numbers is written as whole numbers, as the rows write it, "float" for other numbers, "bool", "str" for
    text and roles), the shown columns' (result.ShownColumn: "float", "bool", "str"; a shown axis is its axis's
    column), and `valid` and `violates`. Known before any value, so every part of a streamed file has one schema."""
    from .result import coord_key

    kinds = {"valid": "bool", "violates": "str"}
    for axis in axes:
        for coord in axis.coords:
            kind = coord.kind if coord.kind in ("num", "bool") else "str"
            kinds[coord_key(coord)] = ("int" if coord.integral else "float") if kind == "num" else kind
    for column in columns:
        if column.axis is None:
            kinds[column.key] = {"num": "float", "bool": "bool"}.get(column.kind, "str")
    return kinds


def _arrow_column(pa, column: np.ndarray, kind: str | None = None):
    types = {"float": pa.float64(), "int": pa.int64(), "bool": pa.bool_(), "str": pa.string()}
    if column.dtype.kind == "O":
        # Names, or any column of a question's answer with rows that have none (None there): typed by its kind, or
        # from its values (a count stays int64, a flag boolean), the missing values null; a column of nothing but
        # None of no known kind as text.
        if kind in types and not any(value is not None for value in column.tolist()):
            return pa.array(column.tolist(), type=types[kind])
        array = pa.array(column.tolist())
        return array.cast(pa.string()) if pa.types.is_null(array.type) else array
    # A missing number (NaN: a row without an answer, a point without a measured run) is null, as JSON's null.
    return pa.array(column, from_pandas=column.dtype.kind == "f")
