"""Adapter "published": the 14-column CSV of published measurements (../shared/data/measured/README.md).

Header, exactly: model,hf_id,gpu,n_gpus,parallelism,precision,framework,batch_or_concurrency,input_len,output_len,
metric,value,unit,source. Each row is one measured value; it becomes one run with ONE metric. Identity:
  model           hf_id's first word (the Hugging Face id; the CSV's notes after it are dropped)
  hardware        gpu, read through published_names.GPU_NAMES as a hardware block's `label`; a plain device name
                  is kept as written; a SKU the source does not state is an assumption, warned about
  n_gpus          n_gpus
  tp, pp          from parallelism: "none" 1/1, "tensor parallel TP=N" tp N, a layer split over N GPUs pp N
  batch           batch_or_concurrency
  seq_len         input_len (its leading count: "7 (prompt '...')" -> 7)
  output_len      output_len
  precision       a precision block name (published_names.PRECISIONS)
  kv_cache_dtype  "fp8" where the precision says "+ fp8 KV cache", else "auto" (the precision's own KV element)
  stack           a stack (software block) name (published_names.STACKS)
  throughput_scope  on output_throughput rows only: "per_gpu" (labelled per GPU, or one GPU), "total" (labelled
                  total) or "unknown" (TensorRT-LLM's A100/L40S tables at TP > 1 do not say)
  awq_kernel      "GEMM" or "GEMV" on AutoAWQ rows (the same shapes were measured with both kernels)
Metrics, in SI: decode_throughput [token/s per sequence], prefill_throughput [token/s], output_throughput
[token/s], ttft [s] (first_token_latency in ms), peak_memory [byte] (GiB as the CSV's unit column says;
peak_memory_total where the source sums it over n_gpus > 1 GPUs). AutoAWQ's decode_throughput is the batch's
(batch / step time): it is divided by the batch to be per sequence, and extra["converted"] says so.
Every cell as written is kept in `extra` under its column's name (`source`: the publication, repository@commit:path).

Rows not used are never dropped silently: a metric the source DERIVED (gpt-fast's achieved_weight_bandwidth) or
one the reader does not know is one warning per file and metric listing the rows; a cell that cannot be read is a
warning at the cell (row skipped); a spelling no table knows is kept as written with one warning per spelling.
"""

from __future__ import annotations

import math
from pathlib import Path

from ..errors import Diagnostic, Location, near_miss
from ..units import UnitError, parse_unit
from .columns import parse_quantity
from .files import csv_rows, csv_text, merged_row, numbered_rows, physical_lines, read_text
from .perfdsl_csv import caret_span
from .published_names import (METRICS, UNITS, awq_kernel, first_token, gpu_name, is_derived, kv_cache_dtype,
                              leading_count, metric_key, parallelism, precision_name, stack_name)
from .records import LoadResult, RunRecord, file_error, int_identity, measure, ragged_row, warning
from .registry import Adapter, register

FORMAT = "published"
COLUMNS = ("model", "hf_id", "gpu", "n_gpus", "parallelism", "precision", "framework", "batch_or_concurrency",
           "input_len", "output_len", "metric", "value", "unit", "source")
ROWS_LISTED = 60            # row numbers a grouped warning lists before "and N more"


class _Row:
    """One data row being read: its cells by column name, where it is, and the problems found (a bad cell skips it)."""

    def __init__(self, path: str, cells: list[str], number: int, line: int, source_line: str | None):
        self.path, self.number, self.line, self.source_line = path, number, line, source_line
        self.cells = dict(zip(COLUMNS, (cell.strip() for cell in cells)))
        self.problem: Diagnostic | None = None

    def at(self, column: str) -> Location:
        """The location of this row's cell in `column` (line, caret columns, "row N, column 'name'")."""
        return Location(self.path, self.line, *caret_span(self.source_line, COLUMNS.index(column)),
                        f"row {self.number}, column '{column}'")

    def fail(self, code: str, column: str, reason: str) -> None:
        """Record the first unreadable cell: a warning at the cell; the row is skipped."""
        if self.problem is None:
            cell = self.cells[column]
            shown = f"'{cell}'" if cell else "nothing"
            self.problem = warning(code, f"cannot read {shown} in column '{column}': {reason}; row {self.number} "
                                   "skipped", self.at(column), source_line=self.source_line)

    def count(self, column: str, reader=int_identity) -> int | None:
        """The cell of `column` as a whole number (with `reader`), or None after recording why not."""
        value = reader(self.cells[column])
        if value is None or value < 0:
            self.fail("bad-value", column, "expected a whole number of at least 0")
            return None
        return value


class _Findings:
    """What a file's rows had in common, reported once per file: rows not used, per reason; spellings kept as
    written; spellings read through an assumption."""

    def __init__(self):
        self.unused: dict[tuple[str, str], list[_Row]] = {}      # (code, metric) -> rows
        self.unknown: dict[tuple[str, str], list[_Row]] = {}     # (column, text) -> rows
        self.assumed: dict[tuple[str, str, str], list[_Row]] = {}  # (column, text, reading) -> rows
        self.per_sequence: list[_Row] = []      # decode rates of a batch, divided by it

    def diagnostics(self) -> list[Diagnostic]:
        """One warning per group, located at its first row, listing the rows."""
        found = []
        for (code, metric), rows in self.unused.items():
            what = ("a value the source DERIVED, not a measurement" if code == "derived-metric"
                    else "a metric the published reader does not know")
            found.append(self._grouped(code, f"{_rows(rows)} hold{'s' if len(rows) == 1 else ''} '{metric}', {what}: "
                                       "not used", rows, "metric",
                                       ["a report compares measured metrics only; see dsl/runlogs/published.py"
                                        if code == "derived-metric" else unknown_metric_hint()]))
        for (column, text), rows in self.unknown.items():
            message = (f"{column} '{text}' is in no table of published names: kept as written ({_rows(rows)})" if text
                       else f"{column} is empty: the runs have no {column} to match ({_rows(rows)})")
            found.append(self._grouped("unknown-spelling", message, rows, column,
                                       [f"kept as written, the {column} matches a block only where the library "
                                        "writes it so (a model's hf_id, a GPU's label, a stack's or precision's "
                                        f"label): write the {column} that way in the CSV"] if text else []))
        for (column, text, reading), rows in self.assumed.items():
            found.append(self._grouped("assumed-spelling", f"{column} '{text}': {reading} ({_rows(rows)})", rows,
                                       column, []))
        if self.per_sequence:
            rows = self.per_sequence
            note = self._grouped("converted-value", f"{_rows(rows)} of decode_throughput of a batch: each value is "
                                 "divided by its batch, the rate one sequence decodes at, as the cost model's "
                                 "decode_throughput is", rows, "value",
                                 ["the source's value is the batch's (batch / step time); a workbook's Run "
                                  "source says the division beside each such run"])
            note.severity = "note"
            found.append(note)
        return found

    @staticmethod
    def _grouped(code: str, message: str, rows: list[_Row], column: str, hints: list[str]) -> Diagnostic:
        first = rows[0]
        numbers = [str(row.number) for row in rows]
        listed = ", ".join(numbers[:ROWS_LISTED]) + (f" and {len(numbers) - ROWS_LISTED} more"
                                                     if len(numbers) > ROWS_LISTED else "")
        location = Location(first.path, first.line, *caret_span(first.source_line, COLUMNS.index(column)),
                            f"column '{column}'")
        return warning(code, message, location, source_line=first.source_line, hints=hints,
                       notes=[f"row{'s' if len(rows) > 1 else ''} {listed}"])


def unknown_metric_hint() -> str:
    """What a user can do about a metric the reader does not know: the names its metric column may hold. (A new
    metric of a source is taught to the reader in published_names.METRICS: a developer's change, not the user's.)"""
    return ("the metric column names one of " + ", ".join(METRICS) + " (a note in parentheses may follow); "
            "spell it so to use the rows, or leave them out")


def _rows(rows: list) -> str:
    return f"{len(rows)} row{'s' if len(rows) != 1 else ''}"


def read(path: Path | str, side: dict | None = None, window=None) -> LoadResult:
    """The runs of a published-measurements CSV, one record per usable row (see the module docstring). `side` and
    `window` are not used. Raises PerfError (exit 1): the errors of reading the file, empty-log for an empty file,
    bad-csv for a header that is not the first line, bad-header for a header other than the 14 columns. Unusable
    rows and cells are warnings in the result's problems."""
    path_text = str(path)
    text = csv_text(read_text(path))
    lines = physical_lines(text)
    rows = [record for record in csv_rows(path_text, text, lines) if any(cell.strip() for cell in record[1])]
    if not rows:
        raise file_error(path_text, "empty-log", "the file is empty: expected the header " + ",".join(COLUMNS))
    header_line, header, _ = rows[0]
    if header_line != 1:
        raise file_error(path_text, "bad-csv", "the header must be the first line", line=header_line,
                         source_line=lines[header_line - 1] if header_line <= len(lines) else None)
    check_header(path_text, [h.strip() for h in header], lines[0])
    result, findings = LoadResult(), _Findings()
    for number, line, cells, last in numbered_rows(rows[1:], lines):
        source_line = lines[line - 1] if 0 < line <= len(lines) else None
        # A field holding whole rows (a line break and a comma) where a quote left open closed at a field's end.
        broken = next((column for cell, column in zip(cells, COLUMNS) if column != "source"
                       and ("\n" in cell or "\r" in cell) and "," in cell), None) if last > line else None
        if last > line and (len(cells) != len(COLUMNS) or broken is not None):   # lines joined by a quote left open
            result.problems.append(merged_row(path_text, number, line, last, len(cells), len(COLUMNS), lines,
                                              broken))
            continue
        if len(cells) != len(COLUMNS):
            result.problems.append(ragged_row(path_text, line, number, len(cells), f"the header has {len(COLUMNS)} "
                                              "columns", source_line))
            continue
        row = _Row(path_text, cells, number, line, source_line)
        record = read_row(row, findings)
        if row.problem is not None:
            result.problems.append(row.problem)
        elif record is not None:
            result.records.append(record)
    result.problems.extend(findings.diagnostics())
    return result


def check_header(path: str, header: list[str], line_text: str) -> None:
    """Raise PerfError (bad-header, exit 1) naming the columns missing, unexpected or out of order, unless `header`
    is exactly COLUMNS."""
    if tuple(header) == COLUMNS:
        return
    missing = [c for c in COLUMNS if c not in header]
    extra = [h for h in header if h not in COLUMNS]
    if missing or extra:
        parts = ([f"missing {', '.join(repr(c) for c in missing)}"] if missing else []) + \
                ([f"unexpected {', '.join(repr(h) for h in extra)}"] if extra else [])
        reason = "; ".join(parts)
    else:
        reason = "the columns are out of order"
    near = []                               # `units` for `unit`: one hint per misspelt column
    for written in extra:
        close = [column for column in missing if near_miss(written.lower(), column)]
        if close:
            near.append(f"'{written}': did you mean '{close[0]}'?")
    raise file_error(path, "bad-header", f"not the 14-column header of published measurements: {reason}", line=1,
                     col=1, end_col=len(line_text) + 1, source_line=line_text,
                     hints=near + ["the header is: " + ",".join(COLUMNS)])


def read_row(row: _Row, findings: _Findings) -> RunRecord | None:
    """The run of one row, or None: a metric not used (noted in `findings`), or a bad cell (row.problem says)."""
    cells = row.cells
    metric_text = cells["metric"]
    key = metric_key(metric_text)
    if is_derived(metric_text) or key not in METRICS:
        findings.unused.setdefault(("derived-metric" if is_derived(metric_text) else "unknown-metric", key),
                                   []).append(row)
        return None
    name, dimension = METRICS[key]
    n_gpus, batch = row.count("n_gpus"), row.count("batch_or_concurrency")
    seq_len, output_len = row.count("input_len", leading_count), row.count("output_len", leading_count)
    value = parse_quantity(cells["value"])
    if value is None or value < 0:
        row.fail("bad-value", "value", "expected a number of at least 0")
    unit = UNITS.get(cells["unit"], cells["unit"])
    try:
        if parse_unit(unit).dim != parse_unit(dimension).dim:
            row.fail("bad-unit", "unit", f"'{key}' is in {dimension}")
    except UnitError:
        row.fail("bad-unit", "unit", "not a unit perfdsl knows")
    model = first_token(cells["hf_id"])
    if not model:
        row.fail("missing-value", "hf_id", "a run without a model cannot be matched")
    if row.problem is None:
        measurement = measure(value, unit)
        if not math.isfinite(measurement.value):
            row.fail("bad-value", "value", f"beyond a float's range in {dimension}")
    if row.problem is not None:
        return None

    identity: dict[str, object] = {"model": model}
    _named(identity, "hardware", row, "gpu", gpu_name(cells["gpu"]), findings)
    identity["n_gpus"] = n_gpus
    split = parallelism(cells["parallelism"])
    if split is None:
        findings.unknown.setdefault(("parallelism", cells["parallelism"]), []).append(row)
    else:
        identity["tp"], identity["pp"] = split
    identity.update(batch=batch, seq_len=seq_len, output_len=output_len)
    stack = stack_name(cells["framework"])
    _named(identity, "precision", row, "precision", precision_name(cells["precision"], stack), findings)
    identity["kv_cache_dtype"] = kv_cache_dtype(cells["precision"])
    _named(identity, "stack", row, "framework", (stack, None), findings)
    kernel = awq_kernel(cells["precision"])
    if kernel is not None:
        identity["awq_kernel"] = kernel

    extra: dict[str, object] = dict(cells)
    if name == "decode_throughput" and "= batch /" in metric_text and batch > 1:
        # AutoAWQ's decode rate is the batch's (batch / step time); one sequence gets a token per step.
        measurement = measure(value / batch, unit)
        extra["converted"] = f"value / batch ({value:g} / {batch}): the source's decode rate is the batch's"
        findings.per_sequence.append(row)
    if name == "output_throughput":
        identity["throughput_scope"] = throughput_scope(key, cells["unit"], n_gpus)
    if name == "peak_memory" and n_gpus > 1 and "summed over GPUs" in metric_text:
        name = "peak_memory_total"
    return RunRecord(identity, {name: measurement}, f"{row.path}:row {row.number}", extra, FORMAT)


def _named(identity: dict, field: str, row: _Row, column: str, reading: tuple[str | None, str | None],
           findings: _Findings) -> None:
    """Set identity[field] to the name a table gives the cell of `column`, noting an assumption; to the text as
    written (noted) where no table knows it; leave it out (noted) where the cell is empty."""
    name, assumption = reading
    text = row.cells[column]
    if name is None or not text:
        findings.unknown.setdefault((column, text), []).append(row)
        if text:
            identity[field] = text
        return
    if assumption is not None:
        findings.assumed.setdefault((column, text, f"read as '{name}': {assumption}"), []).append(row)
    identity[field] = name


def throughput_scope(key: str, unit: str, n_gpus: int) -> str:
    """"per_gpu" where the metric or unit says per GPU, or the run has one GPU (per GPU and total are one number);
    "total" where the metric says total; "unknown" otherwise."""
    if key.endswith("_per_gpu") or unit.endswith("/GPU") or n_gpus == 1:
        return "per_gpu"
    if key.endswith("_total"):
        return "total"
    return "unknown"


def is_published_header(header: list[str]) -> bool:
    """Whether a CSV header is the published measurements': the 14 columns, or all but two of them with the rest
    misspelt, reordered or extra (read as published, check_header names what differs; read as perfdsl's CSV, a
    header with `units` for `unit` made every column an identifying field and every run metric-less)."""
    if tuple(header) == COLUMNS:
        return True
    return len(set(header) & set(COLUMNS)) >= len(COLUMNS) - 2 and not any("[" in h for h in header)


register(Adapter(FORMAT, read, "published measurements: the 14-column CSV of ../shared/data/measured", rank=30,
                 csv_header=lambda header, names: is_published_header(header),
                 expects="the CSV header " + ",".join(COLUMNS)))
