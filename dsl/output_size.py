"""The size of a sweep's output file, predicted before it is written (issue 10: before any large work, its size).

A prediction is rows x bytes a row. The bytes a row are measured, not guessed from a formula: a sample of the rows is
written in the output's own format into memory (render.py's writers, or pyarrow for Parquet) and its length divided
by its rows. The rows are exact where the whole table is in memory; for a sweep streamed chunk by chunk they are
estimated from a few small chunks spread over the sweep (constraints and `where` lines keep a share of the points),
evaluated before the run starts (each costs about 10 ms of Python, whatever its size).

`check` refuses an output that would not fit in the free space of its file system (error[output-too-large], exit
status 2, nothing computed or written: the run would otherwise fail after hours with `no space left on the device`)
and notes an output above NOTE_BYTES on stderr (quiet with -q). On the 2-core machine capacity_planning's 766,584
rows take 144 bytes a row as CSV, 350-353 as JSON Lines or JSON, 179 as a table (each predicted within 0.5% of the
file written) and 32 as Parquet (predicted 45: a sample of 65,536 rows compresses less than a chunk's row group, so
the Parquet figure is an upper bound); they are written at about 100k rows/s (CSV), 35k rows/s (JSON) and 0.8M
rows/s (Parquet). A prediction costs 22-69 ms there, against 27-52 s of writing.
"""

from __future__ import annotations

import io
import os
import shutil
from dataclasses import dataclass

import numpy as np

from .constraints import has_hard

# Rows of the sample a text format is measured on: enough that the widths of numbers average out, cheap (2,000 CSV
# rows take about 20 ms). Parquet compresses runs of repeated values, so it is measured on more rows, as one row group.
SAMPLE_ROWS = 2_000
PARQUET_SAMPLE_ROWS = 1 << 16
# The small chunks a streamed sweep's rows are estimated from (SAMPLE_CHUNKS of at most SAMPLE_CHUNK_POINTS points,
# spread evenly over the sweep's chunks): the share of points that are rows, and the bytes a row.
SAMPLE_CHUNKS = 8
SAMPLE_CHUNK_POINTS = 2_000
# An output predicted above this gets a note on stderr (a CSV of 1 GB takes about 1.5 minutes to write here).
NOTE_BYTES = 10**9

_FORMAT_NAMES = {"csv": "CSV", "json": "JSON", "jsonl": "JSON Lines", "table": "a text table", "parquet": "Parquet"}


@dataclass(frozen=True)
class Prediction:
    """An output's predicted size: `rows` (exact where `exact`, else estimated from sampled chunks) times
    `bytes_per_row` (measured on the rows `sample`, keys and columns, written as `fmt`)."""

    fmt: str
    rows: int
    exact: bool
    bytes_per_row: float
    sample: tuple[list[str], list[np.ndarray]]

    @property
    def n_bytes(self) -> int:
        return round(self.rows * self.bytes_per_row)

    def parquet_bytes_per_row(self) -> float | None:
        """The sample's bytes a row as Parquet, the alternative a refusal names (measured only then: pyarrow's import
        and the sample's writing take about 0.3 s); None where fmt is Parquet or pyarrow is missing."""
        from .errors import UsageError

        if self.fmt == "parquet":
            return None
        try:
            return bytes_per_row("parquet", *self.sample)
        except UsageError:
            return None


def bytes_per_row(fmt: str, keys: list[str], columns: list[np.ndarray]) -> float:
    """The bytes a row of `columns` takes written as `fmt` (csv, json, jsonl, table or parquet), measured on a sample
    of rows spread evenly over them (SAMPLE_ROWS; PARQUET_SAMPLE_ROWS for Parquet). 0.0 for no rows. Raises
    UsageError (missing-package) for Parquet without pyarrow."""
    total = len(columns[0]) if columns else 0
    if total == 0:
        return 0.0
    sample = min(total, PARQUET_SAMPLE_ROWS if fmt == "parquet" else SAMPLE_ROWS)
    picked = np.linspace(0, total - 1, sample).astype(np.int64) if sample < total else slice(None)
    part = [column[picked] for column in columns]
    if fmt == "parquet":
        from .extras import require
        from .parquet import _arrow_column

        pa = require("pyarrow", "parquet")
        require("pyarrow.parquet", "parquet")
        buffer = io.BytesIO()
        pa.parquet.write_table(pa.table([_arrow_column(pa, column) for column in part], names=keys), buffer)
        return buffer.tell() / sample
    from .render import write_csv, write_json, write_table

    text = io.StringIO()
    if fmt == "csv":
        write_csv(keys, part, text)
    elif fmt == "table":
        write_table(keys, part, text, limit=sample)
    else:
        write_json(keys, part, text, lines=fmt == "jsonl")
    return len(text.getvalue().encode("utf-8")) / sample


def predict_table(fmt: str, keys: list[str], columns: list[np.ndarray]) -> Prediction:
    """The size of a table held in memory (keys, columns) written as `fmt`: its rows are exact."""
    rows = len(columns[0]) if columns else 0
    return Prediction(fmt, rows, True, bytes_per_row(fmt, keys, columns), (keys, columns))


def predict_sweep(fmt: str, program, report: str | None) -> Prediction:
    """The size of a prepared report's rows streamed chunk by chunk (no question) as `fmt`: SAMPLE_CHUNKS small
    chunks spread over the sweep are evaluated; the share of their points that are rows estimates the rows (exact
    where every sampled point is a row and the report has no constraint or `where` that could drop one)."""
    from .chunks import chunk_at, count_chunks
    from .streaming import chunk_result, chunk_table

    ctx, checker = program.prepare(report)
    count = count_chunks(ctx.shape, SAMPLE_CHUNK_POINTS)
    picks = [chunk_at(ctx.shape, SAMPLE_CHUNK_POINTS, k)
             for k in sorted({int(i) for i in np.linspace(0, count - 1, min(SAMPLE_CHUNKS, count))})]
    parts = [chunk_table(chunk_result(program, report, chunk)) for chunk in picks]
    keys = parts[0][0]
    columns = [np.concatenate([part[1][c] for part in parts]) for c in range(len(keys))]
    sampled_points = sum(chunk.n_points for chunk in picks)
    kept = len(columns[0]) if columns else 0
    exact = not ctx.report.wheres and not has_hard(checker.constraints)     # an `expect` leaves no point out
    rows = ctx.n_points if exact else round(ctx.n_points * kept / max(sampled_points, 1))
    return Prediction(fmt, rows, exact, bytes_per_row(fmt, keys, columns), (keys, columns))


def check(prediction: Prediction, output: str, *, quiet: bool) -> str | None:
    """Refuse `output` where `prediction` exceeds the free space of its file system: raises UsageError
    (output-too-large). Returns the note line for stderr where the output is large (above NOTE_BYTES) and not
    `quiet`, else None. A folder whose free space cannot be read (it does not exist: the write names that), a file
    system of no size and an output that is no regular file (a device) are not checked."""
    from .errors import UsageError, error

    folder = os.path.dirname(os.path.abspath(output))
    free = None
    # A device or pipe (/dev/null) is written in place, not stored; a file system of no size (/proc, /sys) takes no
    # files at all, which the write says (error[bad-output]) better than a size would.
    if not os.path.exists(output) or os.path.isfile(output):
        try:
            usage = shutil.disk_usage(folder)
        except OSError:
            usage = None
        free = usage.free if usage is not None and usage.total > 0 else None
    size = prediction.n_bytes
    about = "" if prediction.exact else "about "
    held = (f"{about}{prediction.rows:,} rows x about {prediction.bytes_per_row:,.0f} bytes a row as "
            f"{_FORMAT_NAMES[prediction.fmt]}")
    if free is not None and size > free:
        stem = os.path.splitext(output)[0]
        hints = ["ask the report a question (best, largest, smallest, pareto) or add `where` lines that keep fewer "
                 "rows, or narrow the sweep with --set"]
        parquet_rate = prediction.parquet_bytes_per_row()
        if parquet_rate and parquet_rate < prediction.bytes_per_row:       # a few rows are smaller as text
            parquet = int(prediction.rows * parquet_rate)
            hints.append(f"or write Parquet, about {size / max(parquet, 1):,.1f} times smaller here: -o "
                         f"{stem}.parquet (about {file_size(parquet)})")
        hints.append("or choose an output on a file system with more free space")
        raise UsageError(error("output-too-large", f"{output} would take about {file_size(size)} ({held}), more than "
                               f"the {file_size(free)} free on its file system", hints=hints))
    if size > NOTE_BYTES and not quiet:
        return f"note: {output} will take about {file_size(size)} ({held})"
    return None


def file_size(n_bytes: float) -> str:
    """A file's size for messages, in decimal units as `ls -lh --si` and disk makers give them: 135_000_000_000 ->
    '135 GB', 1_234_000 -> '1.23 MB'."""
    value = float(n_bytes)
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if value < 999.5 or unit == "TB":
            return f"{value:,.0f} {unit}" if value >= 100 or unit == "bytes" else f"{value:.3g} {unit}"
        value /= 1000
    raise AssertionError("unreachable")
