"""Parquet output of `perfdsl eval -o FILE.parquet` (stage 5, an output like render.py): rows written chunk by
chunk as row groups, so a sweep of any size streams into one file. Column names are the keys of records() (display
units in brackets), values in those units; numbers stay float64 or int64, booleans boolean, names strings; a
missing value (NaN, or a question's row without an answer) is null.

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


def write_parquet(path: str | os.PathLike, parts: Iterable[tuple[list[str], list[np.ndarray]]]) -> int:
    """Rows that come in parts (keys, columns) as one Parquet file, one row group a part; returns the rows written.
    The file appears through output.atomic_output (the mode a plain open() gives, the umask applied). Raises
    UsageError (missing-package) without pyarrow."""
    pa = require("pyarrow", "parquet")
    require("pyarrow.parquet", "parquet")
    rows, writer = 0, None
    with atomic_output(path, binary=True) as out:
        try:
            for keys, columns in parts:
                table = pa.table([_arrow_column(pa, column) for column in columns], names=keys)
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


def _arrow_column(pa, column: np.ndarray):
    if column.dtype.kind == "O":
        # Names, or any column of a question's answer with rows that have none (None there): typed from its values
        # (a count stays int64, a flag boolean), the missing values null; a column of nothing but None as text.
        array = pa.array(column.tolist())
        return array.cast(pa.string()) if pa.types.is_null(array.type) else array
    # A missing number (NaN: a row without an answer, a point without a measured run) is null, as JSON's null.
    return pa.array(column, from_pandas=column.dtype.kind == "f")
