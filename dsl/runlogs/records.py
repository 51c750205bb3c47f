"""Run records: what every run-log adapter returns (the measurement stage's data types).

An adapter turns one log file into `RunRecord`s: identifying fields (what was run, where) plus measured metrics held
in SI with their dimension. Canonical names, so that runs from different tools can be matched to estimates:

identity   model (Hugging Face id as written), hardware (device name as nvidia-smi prints it), n_gpus, batch,
           seq_len (input length), output_len, tokens, precision, parallelism, backend, plus tool-specific fields
           such as concurrency, request_rate, num_requests, input_tokens, output_tokens; the published measurements
           (published.py) add tp, pp, stack and kv_cache_dtype, and precision as a precision block's name.
metrics    runtime (one step, as a report's runtime is: only perfdsl's own CSV and JSON Lines give it),
           run_duration (a whole run's time: CodeCarbon's duration, vLLM's duration and elapsed_time, Zeus's
           Latency_sec), window_duration (the span of an nvidia-smi log's samples integrated), prefill_latency
           (one forward over the prompt), decode_latency, per_token_latency, ttft, tpot, itl, e2e_latency (these
           four: the MEAN over requests; another statistic has its own name, ttft_median, ttft_p99,
           e2e_latency_p50 ..., never the plain one), memory (peak per GPU: what the process allocated, torch's
           allocator peak where the log says), memory_global_vram (the device-wide figure nvidia-smi shows, CUDA
           context and allocator cache included: optimum-benchmark's max_global_vram, nvidia-smi's memory.used),
           energy and power (mean) and peak_power: the GPU's (nvidia-smi, Zeus, CodeCarbon's gpu_energy and
           gpu_power, optimum-benchmark's energy.gpu), what the cost models estimate; energy_total, power_total
           where a tool sums them over several GPUs (as memory_total); machine_energy (CPU + GPU + RAM, the whole
           machine: CodeCarbon's energy_consumed, optimum-benchmark's energy.total), never written as `energy`;
           energy_per_token, energy_per_request, throughput (generated tokens/s; optimum-benchmark's
           decode), output_throughput (generated tokens/s, vLLM's name),
           total_token_throughput (input + generated tokens/s), request_throughput;
           adapters add others where a log has them (published.py: decode_throughput per sequence,
           prefill_throughput, peak_memory).

Problems (rows or fields that could not be used) are Diagnostics: severity "warning" for a value or row that was
skipped, "error" for a file that could not be read at all, "note" for information (a side value that replaced a
value from the log).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from ..errors import Diagnostic, Location, PerfError
from ..units import Dimension, UnitError, parse_unit

# Identifying fields that are counts: kept as Python ints so that matching compares 8 with 8, not "8" with 8.0.
INT_FIELDS = frozenset({
    "n_gpus", "batch", "seq_len", "output_len", "tokens", "input_tokens", "output_tokens", "concurrency",
    "num_requests", "gpu_index", "context_window", "tp", "pp", "dp",
})

# Column order when records are written: the canonical identity first, then whatever else the logs knew.
IDENTITY_ORDER = ("model", "hardware", "n_gpus", "batch", "seq_len", "output_len", "tokens", "precision",
                  "parallelism", "backend")


@dataclass
class Measurement:
    """One measured value: `value` in SI, its dimension, and the unit the log wrote it in (for display)."""

    value: float  # in SI
    dim: Dimension
    unit: str  # the unit as written in the log, for display


@dataclass
class RunRecord:
    """One run read from a log: identifying fields (model, hardware, n_gpus, batch ...; counts as ints), metrics by
    canonical name, where it came from ("FILE:row 3"), fields the log had that perfdsl does not use (`extra`), and the
    format's name."""

    identity: dict[str, object]
    metrics: dict[str, Measurement]
    source: str
    extra: dict[str, object] = field(default_factory=dict)
    format: str = ""


@dataclass
class LoadResult:
    """What reading logs gives: the records and the problems (diagnostics: warnings for skipped values and rows, errors
    for files that could not be read, notes)."""

    records: list[RunRecord] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)

    def extend(self, other: "LoadResult") -> None:
        """Append another result's records and problems to this one."""
        self.records.extend(other.records)
        self.problems.extend(other.problems)


def measure(value: float, unit: str) -> Measurement:
    """A Measurement from a number in `unit` (a unit expression perfdsl knows; adapters pass literals)."""
    parsed = parse_unit(unit)
    return Measurement(float(value) * parsed.scale, parsed.dim, unit)


def summed_name(name: str, n_gpus) -> str:
    """The name of a figure a tool sums over the run's GPUs: `name` where the record has one GPU or does not say how
    many, `name`_total where it has several ("memory" -> "memory_total", "power" -> "power_total"), so that a sum is
    never compared with a per-GPU estimate under the per-GPU name."""
    return name if n_gpus is None or n_gpus == 1 else f"{name}_total"


def is_number(value: object) -> bool:
    """True for a finite int or float (JSON numbers) that a float holds; bools, NaN and integers beyond a float's range
    (a JSON integer of 400 digits) are not measurements."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:           # an int too large to convert to a float
        return False


def warning(code: str, message: str, location: Location | None = None, *, source_line: str | None = None,
            hints: list[str] | None = None, notes: list[str] | None = None) -> Diagnostic:
    """A Diagnostic of severity "warning" (a value or row skipped; the exit status stays 0)."""
    return Diagnostic(code, message, location, source_line, hints=list(hints or []), notes=list(notes or []),
                      severity="warning")


def ragged_row(path: str, line: int, row_number: int, fields: int, expected: str,
               source_line: str | None) -> Diagnostic:
    """The warning for a table row whose field count differs from the header's; `expected` says what it has."""
    return warning("bad-row", f"row {row_number} has {fields} fields but {expected}; row {row_number} skipped",
                   Location(path, line, detail=f"row {row_number}"), source_line=source_line,
                   hints=["the row was cut (the log was still being written?) or edited by hand; fix or remove it"])


def note(code: str, message: str, location: Location | None = None) -> Diagnostic:
    """A Diagnostic of severity "note" (information, such as a side value that replaced the log's)."""
    return Diagnostic(code, message, location, severity="note")


def file_error(path: str, code: str, message: str, *, line: int = 0, col: int = 0, end_col: int = 0,
               detail: str = "", source_line: str | None = None, hints: list[str] | None = None) -> PerfError:
    """A PerfError about a whole file (it cannot be read as its format)."""
    location = Location(str(path), line, col, end_col, detail)
    return PerfError(Diagnostic(code, message, location, source_line, hints=list(hints or [])))


_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


def int_identity(value: object) -> int | None:
    """An identifying count as an int ("8", 8, 8.0 -> 8), or None where it is not a whole number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        # ASCII digits with one optional sign: str.isdigit also takes '¹' and '٣', and lstrip("+-") took "--5",
        # which int() refuses; no count has more than 30 digits (int() refuses 4,300).
        if _WHOLE_NUMBER.fullmatch(text) and len(text) <= 30:
            return int(text)
    return None


def unit_or_none(text: str) -> str | None:
    """The unit text if perfdsl knows it, else None (for units named inside logs, e.g. report 'unit' fields)."""
    try:
        parse_unit(text)
    except UnitError:
        return None
    return text


_ROW = re.compile(r"\brow (\d+)")
_READ_VALUE = re.compile(r"^cannot read .*? (as|in column|for key) ")
GROUP_ROWS_SHOWN = 5


def group_problems(problems: list[Diagnostic]) -> list[Diagnostic]:
    """One warning per file, column and reason, instead of one per row: the first row's warning, located, with the
    count of rows like it and the first few of their numbers (a one-hour nvidia-smi log of a GPU that prints
    `[Not Supported]` gave 3,600 warnings). A diagnostic that names no row is given once per file and message,
    with the count and the first few other places.

    Rows are alike when the warning's code, file and column agree and its message does too, up to the row numbers
    and the unreadable value itself.
    """
    groups: dict[tuple, list[Diagnostic]] = {}
    order: list[object] = []
    for problem in problems:
        detail = problem.location.detail if problem.location else ""
        row = _ROW.search(detail)
        if row is None:
            # The same message at several places of a file (a header of 63,000 unnamed columns): once, counted.
            key = ("places", problem.severity, problem.code, problem.location.file if problem.location else "",
                   problem.message)
            if key not in groups:
                groups[key] = []
                order.append(key)
            groups[key].append(problem)
            continue
        column = _ROW.sub("", detail).strip(", ")
        reason = _ROW.sub("row #", problem.message)
        value = _READ_VALUE.match(reason)
        if value:
            reason = "cannot read ... " + reason[value.end(1) - len(value.group(1)):]
        key = (problem.code, problem.location.file, column, reason)
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(problem)
    grouped = []
    for item in order:
        if isinstance(item, Diagnostic):
            grouped.append(item)
            continue
        members = groups[item]
        first = members[0]
        if item[0] == "places":
            if len(members) > 1:
                places = [f"{m.location.line}:{m.location.col}" if m.location.line else str(m.location)
                          for m in members[1:GROUP_ROWS_SHOWN + 1] if m.location is not None]
                more = f" and {len(members) - 1 - len(places):,} more" if len(members) - 1 > len(places) else ""
                first = Diagnostic(first.code, f"{first.message} ({len(members):,} times)", first.location,
                                   first.source_line, first.path, list(first.hints),
                                   list(first.notes) + [f"also at {', '.join(places)}{more}"], first.severity)
        elif len(members) > 1:
            rows = [int(_ROW.search(m.location.detail).group(1)) for m in members[1:]]
            shown = ", ".join(str(r) for r in rows[:GROUP_ROWS_SHOWN])
            more = f" and {len(rows) - GROUP_ROWS_SHOWN:,} more" if len(rows) > GROUP_ROWS_SHOWN else ""
            first = Diagnostic(first.code, f"{first.message} ({len(members):,} rows)", first.location,
                               first.source_line, first.path, list(first.hints),
                               list(first.notes) + [f"the same in {len(rows):,} more row{'s' if len(rows) != 1 else ''}"
                                                    f": {shown}{more}"], first.severity)
        grouped.append(first)
    return grouped
