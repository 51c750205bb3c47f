"""Adapter "nvidia-smi": a `nvidia-smi --query-gpu=... --format=csv[,noheader][,nounits] -l N` log.

One record per GPU (rows grouped by `index`, else `pci.bus_id`, else `uuid`, else `name`; a log without any of
them is one GPU). Identity: hardware from a `name` column, gpu_index from `index`. Metrics over the samples in the
time window (the whole log when no window is given):
  energy         trapezoidal integral of power.draw over the timestamps (J); at a window edge that falls between
                 two samples the power is interpolated linearly
  power          mean power over the window = energy / duration (time-weighted, W)
  peak_power     the largest power.draw sample (W)
  memory_global_vram  the largest memory.used sample (MiB as nvidia-smi prints it; peak per GPU): the device's used
                 memory, the CUDA context and the allocator's cache included, under the name optimum-benchmark's
                 max_global_vram has; never `memory`, the allocator peak that memory.peak estimates
  window_duration  the span of time integrated (s): how long the samples ran, not one step's runtime
  gpu_utilization  the mean of utilization.gpu samples (%)
Other columns are listed in extra["unused_columns"] and said once each at the header: one spelt like a field read
here that the log lacks (`power.drew` for power.draw) is a warning (unknown-column) naming what the runs lack without
it, any other (temperature.gpu, clocks.sm) a note (unused-column), so that no column is dropped without a word.

Header: nvidia-smi echoes the query, with units ("power.draw [W]"); values carry units as text ("71.80 W") unless
`nounits`. With `noheader`, name the columns in the side metadata: {"columns": ["timestamp", "power.draw", ...]}
(units may be given as "power.draw [W]"; otherwise nvidia-smi's own units are assumed).

Time: timestamps ("2025/04/16 19:53:18.720") carry no time zone. They are read as UTC unless the side metadata
gives {"utc_offset": "+02:00"} (from -12:00 to +14:00). The window is (start, end) in epoch seconds, or side
{"window": [start, end]} where each end is epoch seconds or an ISO time ("2025-04-16T19:53:20"; without an offset
it is read like the log). Epoch milliseconds are refused (bad-window, with the hint to divide by 1000), not taken
as milliseconds by their size.
Sampling: a gap inside the window longer than 3 times the median interval (and 1 s) is a warning (sampling-gap,
at the row after it: the energy across it is interpolated); a row that repeats the time of an earlier sample of its
GPU (a log appended to itself) is left out with a warning (repeated-samples), as it would weigh twice in the means.
A missing or unreadable value ("[N/A]", "[Not Supported]") is a warning; that sample is left out of that metric.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timezone
from pathlib import Path

from ..errors import Diagnostic, Location, near_miss
from ..units import UnitError, parse_unit
from .files import csv_rows, csv_text, physical_lines, read_text
from .perfdsl_csv import caret_span
from .records import LoadResult, Measurement, RunRecord, file_error, measure, note, ragged_row, warning
from .registry import Adapter, register
# The times of the log and its window (times.py); parse_time, window_bound and iso are used here.
from .times import iso, offset_problem, parse_offset, parse_time, window_bound, window_hints

FORMAT = "nvidia-smi"

TIMESTAMP = re.compile(r"^\s*\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}")
# nvidia-smi's units for the fields read here, for logs written with `nounits` and no header.
DEFAULT_UNITS = {"power.draw": "W", "power.draw.instant": "W", "power.draw.average": "W", "memory.used": "MiB",
                 "utilization.gpu": "%"}
POWER_FIELDS = ("power.draw", "power.draw.instant", "power.draw.average")
GROUP_FIELDS = ("index", "pci.bus_id", "uuid", "name")
# A sampling gap: no sample for more than GAP_FACTOR times the log's median interval, and more than GAP_MIN_S (a
# log sampled every 100 ms may stall for 0.3 s under load without a warning).
GAP_FACTOR, GAP_MIN_S = 3.0, 1.0
_HEADER = re.compile(r"^\s*(?P<name>[^\[\]]+?)\s*(?:\[(?P<unit>[^\]]*)\])?\s*$")


@dataclass
class Gpu:
    """The samples of one GPU: (time, value) per quantity, and (time, row number) of its rows."""
    key: str
    identity: dict = field(default_factory=dict)
    power: list = field(default_factory=list)
    memory: list = field(default_factory=list)
    utilization: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    lines: dict = field(default_factory=dict)        # row number -> (line number, the line's text)
    repeated: list = field(default_factory=list)     # (row number, line, text) of samples of a time already read
    seen: set = field(default_factory=set)           # the times of its samples read


def read(path: Path | str, side: dict | None = None, window=None) -> LoadResult:
    """The runs of an nvidia-smi CSV log, one record per GPU, with energy (J), mean power (W), peak power (W), peak
    device memory as memory_global_vram (byte, unit "MiB" as written), window_duration (s) and mean GPU utilization
    (fraction, unit "%") over the window (`window`, (start, end) epoch seconds, or the side metadata's "window";
    None: the whole log). `side` may name the
    columns of a headerless log and the timestamps' utc_offset. Raises PerfError (exit 1): empty-log, no-header,
    no-timestamp, malformed-column, bad-side, bad-window, and the errors of reading the file or its CSV. Unreadable
    samples and ragged rows are warnings in the result's problems."""
    path_text, side = str(path), side or {}
    text = csv_text(read_text(path))
    lines = physical_lines(text)
    rows = [row for _, row, _ in csv_rows(path_text, text, lines, skipinitialspace=True)]
    if not any(rows):
        raise file_error(path_text, "empty-log", "the file is empty")
    offset = utc_offset(path_text, side)
    if TIMESTAMP.match(rows[0][0] if rows[0] else ""):
        if not side.get("columns"):
            raise file_error(path_text, "no-header", "this nvidia-smi log has no header (noheader): its columns "
                             "are unknown", line=1, source_line=lines[0],
                             hints=['name them in the side metadata, e.g. {"columns": ["timestamp", "power.draw", '
                                    '"memory.used"]}, in the order of --query-gpu'])
        columns, first_data = [header_column(path_text, c, 1, None) for c in side["columns"]], 0
    else:
        columns, first_data = [header_column(path_text, c, 1, lines[0]) for c in rows[0]], 1
    names = [c[0] for c in columns]
    if "timestamp" not in names:
        raise file_error(path_text, "no-timestamp", "an nvidia-smi log needs a 'timestamp' column to integrate "
                         "power over time", line=1, source_line=lines[0] if first_data else None,
                         hints=["add timestamp first in --query-gpu"])
    result = LoadResult()
    gpus = group_rows(path_text, rows, lines, first_data, columns, offset, result)
    start, end = read_window(path_text, window, side, offset)
    unused = [n for n in names if n not in READ_FIELDS]
    result.problems[:0] = unread_columns(path_text, names, lines[0] if first_data else None)
    for gpu in gpus.values():
        result.problems.extend(repeated_samples(path_text, gpu))
        record = summarize(path_text, gpu, start, end, result)
        if record is not None:
            if unused:
                record.extra["unused_columns"] = unused
            result.records.append(record)
    return result


# What the runs lack without each field read here (a field of several: any of them gives it).
LACKED = {**{power: "energy, power and peak_power" for power in POWER_FIELDS}, "memory.used": "memory_global_vram",
          "utilization.gpu": "gpu_utilization", "name": "hardware (the GPU's name)",
          **{group: "a GPU of their own for each GPU's rows" for group in GROUP_FIELDS if group != "name"}}
READ_FIELDS = frozenset({"timestamp", *LACKED})


def unread_columns(path: str, names: list[str], header_line: str | None) -> list[Diagnostic]:
    """The header's columns this reader does not read, each said once, located at the header (`header_line`; None
    for the side metadata's columns of a headerless log): a warning (unknown-column) for one spelt like a field the
    log lacks (near_miss), with what the runs lack without it; a note (unused-column) for any other."""
    present = set(names)
    lacking = [field for field in LACKED if field not in present
               and not (field in POWER_FIELDS and present & set(POWER_FIELDS))]
    found = []
    for index, column in enumerate(names):
        if column in READ_FIELDS:
            continue
        at = Location(path, 1, *caret_span(header_line, index), f"column '{column}'")
        close = [field for field in lacking if near_miss(column.lower(), field)]
        if close:
            found.append(warning("unknown-column", f"column '{column}' is not one the nvidia-smi reader knows: not "
                                 f"read; the runs have no {LACKED[close[0]]} (from '{close[0]}')", at,
                                 source_line=header_line,
                                 hints=[f"did you mean '{close[0]}'? nvidia-smi writes it as --query-gpu names it"]))
        else:
            found.append(note("unused-column", f"column '{column}' is not read: perfdsl reads power.draw (or "
                              ".instant, .average), memory.used and utilization.gpu from an nvidia-smi log", at))
    return found


def header_column(path: str, text: str, line: int, source_line: str | None) -> tuple[str, str | None]:
    """(query field, unit) from a header cell such as 'power.draw [W]'."""
    match = _HEADER.match(text)
    if not match:
        raise file_error(path, "malformed-column", f"cannot read column header '{text}'", line=line,
                         source_line=source_line)
    name, unit = match.group("name"), match.group("unit")
    return name, (unit.strip() if unit else DEFAULT_UNITS.get(name))


def utc_offset(path: str, side: dict) -> timezone:
    """The time zone of the log's timestamps from the side metadata's "utc_offset" ("+02:00", "-0530"; UTC where
    absent). Raises PerfError (bad-side, exit 1) for text of another form or out of range (offset_problem); side
    files and --meta are checked where they are read (side.check_side, located at the value), so this is the last
    check, for a side dict given to read() directly."""
    text = side.get("utc_offset", "+00:00")
    problem = offset_problem(text)
    if problem:
        raise file_error(path, "bad-side", problem[0], hints=[problem[1]])
    return parse_offset(str(text))


def read_window(path: str, window, side: dict, offset: timezone) -> tuple[float | None, float | None]:
    """The window of samples to integrate as (start, end) epoch seconds: `window` where given, else the side
    metadata's "window" (each bound epoch seconds or an ISO time read in `offset`); (None, None) where there is
    none. Raises PerfError (bad-window, exit 1) for a window that is not two readable bounds, or whose start is not
    before its end."""
    if window is None and side.get("window") is not None:
        window = side["window"]
    if window is None:
        return None, None
    if not isinstance(window, (list, tuple)) or len(window) != 2:
        raise file_error(path, "bad-window", f"cannot read the window {window!r}",
                         hints=["give [start, end] as epoch seconds or ISO times"])
    bounds = []
    for bound in window:
        value = window_bound(bound, offset)
        if value is None:
            raise file_error(path, "bad-window", f"cannot read the window bound '{bound}'", hints=window_hints(bound))
        bounds.append(value)
    if bounds[0] >= bounds[1]:
        raise file_error(path, "bad-window", f"the window starts at or after its end ({window[0]} .. {window[1]})")
    return bounds[0], bounds[1]


def read_cell(text: str, unit: str | None) -> float | None:
    """A number from '71.80 W', '95 %', '13121' (the unit in the cell must agree with the column's)."""
    parts = text.strip().split()
    if not parts or parts[0].startswith("["):
        return None
    try:
        number = float(parts[0])
    except ValueError:
        return None
    written = parts[1] if len(parts) > 1 else unit
    if written is None:
        return None
    try:
        parsed = parse_unit(written)
        if unit is not None and parsed.dim != parse_unit(unit).dim:
            return None  # e.g. 'W' in a memory column: the columns are not what the header says
    except UnitError:
        return None
    return number * parsed.scale


def group_rows(path: str, rows: list, lines: list, first: int, columns: list, offset: timezone,
               result: LoadResult) -> dict[str, Gpu]:
    """The samples of each GPU, keyed by the first of the columns index, pci.bus_id, uuid, name the log has ("" for a
    log with none of them): (epoch s, SI value) of power (the first of POWER_FIELDS present), memory.used and
    utilization.gpu, and (epoch s, row number) of each row; identity hardware from `name`, gpu_index from `index`.
    Ragged rows and unreadable values are warnings added to `result.problems` (the row, or that value, left out)."""
    names = [c[0] for c in columns]
    units = {c[0]: c[1] for c in columns}
    group_by = next((g for g in GROUP_FIELDS if g in names), None)
    power_field = next((p for p in POWER_FIELDS if p in names), None)
    gpus: dict[str, Gpu] = {}
    for line_index in range(first, len(rows)):
        row, line = rows[line_index], line_index + 1
        if not row:
            continue
        source_line = lines[line_index] if line_index < len(lines) else None
        row_number = line_index - first + 1
        cells = dict(zip(names, row))
        if len(row) != len(names):
            result.problems.append(ragged_row(path, line, row_number, len(row), f"there are {len(names)} columns",
                                              source_line))
            continue

        def problem(column: str, what: str):
            index = names.index(column)
            of_gpu = f" of gpu {key}" if group_by and key else ""
            result.problems.append(warning(
                "bad-value", f"cannot read '{cells[column].strip()}' as {what} in column '{column}'{of_gpu}",
                Location(path, line, *caret_span(source_line, index), f"row {row_number}, column '{column}'"),
                source_line=source_line, notes=[f"row {row_number} is left out of '{column}'"]))

        key = cells[group_by].strip() if group_by else ""
        moment = parse_time(cells["timestamp"], offset)
        if moment is None:
            problem("timestamp", "a time")
            continue
        gpu = gpus.setdefault(key, Gpu(key))
        if moment in gpu.seen:
            # A sample of a time already read (a log's tail appended again): counted twice it weighed twice in
            # gpu_utilization's mean. Left out, and told (repeated_samples).
            gpu.repeated.append((row_number, line, source_line))
            continue
        if "name" in cells:
            gpu.identity.setdefault("hardware", cells["name"].strip())
        if "index" in cells and cells["index"].strip().isascii() and cells["index"].strip().isdigit():
            gpu.identity.setdefault("gpu_index", int(cells["index"]))
        gpu.rows.append((moment, row_number))
        gpu.seen.add(moment)
        gpu.lines[row_number] = (line, source_line)
        for column, series, what in ((power_field, gpu.power, "a power"), ("memory.used", gpu.memory, "a size"),
                                     ("utilization.gpu", gpu.utilization, "a percentage")):
            if column is None or column not in cells:
                continue
            value = read_cell(cells[column], units.get(column))
            if value is None:
                problem(column, what)
            else:
                series.append((moment, value))
    return gpus


def row_ranges(numbers: list[int]) -> str:
    """Row numbers as runs of consecutive ones: [4, 5, 6, 9] -> "rows 4-6, 9"; [4] -> "row 4"."""
    runs: list[list[int]] = []
    for number in sorted(numbers):
        if runs and number == runs[-1][1] + 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    text = ", ".join(f"{a}-{b}" if b > a else f"{a}" for a, b in runs)
    return f"row{'s' if len(numbers) > 1 else ''} {text}"


def repeated_samples(path: str, gpu: Gpu) -> list[Diagnostic]:
    """A warning (repeated-samples) where rows of `gpu` repeat the time of an earlier sample of it, located at the
    first such row: they were left out (group_rows), as the same moment counted twice weighs twice in a mean."""
    if not gpu.repeated:
        return []
    numbers = [n for n, _, _ in gpu.repeated]
    first, line, source_line = gpu.repeated[0]
    of_gpu = f" of gpu {gpu.key}" if gpu.key else ""
    return [warning(
        "repeated-samples", f"{row_ranges(numbers)}{of_gpu} repeat the times of earlier samples; left out "
        f"({len(numbers)} sample{'s' if len(numbers) != 1 else ''})", Location(path, line, detail=f"row {first}"),
        source_line=source_line,
        hints=["a log appended to itself, or several GPUs' rows without an index column (add index to "
               "--query-gpu): keep each sample once"])]


def sampling_gaps(path: str, gpu: Gpu, lo: float, hi: float) -> list[Diagnostic]:
    """A warning (sampling-gap) for each stretch inside [lo, hi] where `gpu` has no sample for more than GAP_FACTOR
    times its median sampling interval (and more than GAP_MIN_S): energy and power interpolate the power across
    it, without a word before. Located at the row after the gap."""
    rows = sorted((t, n) for t, n in gpu.rows if lo <= t <= hi)
    steps = sorted(b[0] - a[0] for a, b in zip(rows, rows[1:]))
    if len(steps) < 2:
        return []
    median = steps[len(steps) // 2] if len(steps) % 2 else (steps[len(steps) // 2 - 1] + steps[len(steps) // 2]) / 2
    label = f" of gpu {gpu.key}" if gpu.key else ""
    found = []
    for (t0, n0), (t1, n1) in zip(rows, rows[1:]):
        if t1 - t0 > max(GAP_FACTOR * median, GAP_MIN_S):
            line, source_line = gpu.lines.get(n1, (0, None))
            found.append(warning(
                "sampling-gap", f"no sample{label} for {t1 - t0:.3g} s between rows {n0} and {n1} "
                f"({iso(t0)} .. {iso(t1)}; the log samples every {median:.3g} s): energy and power interpolate "
                "the power across it", Location(path, line, detail=f"row {n1}"), source_line=source_line,
                hints=["a log with rows cut out, or a paused sampler: the energy over the gap is a guess; "
                       "choose a --window without it, or sample again"]))
    return found


def integrate(samples: list[tuple[float, float]], start: float, end: float) -> float:
    """Trapezoidal integral of (time, value) samples over [start, end], interpolating at the edges."""
    points = sorted(samples)
    total = 0.0
    for (t0, v0), (t1, v1) in zip(points, points[1:]):
        a, b = max(t0, start), min(t1, end)
        if b <= a or t1 == t0:
            continue
        slope = (v1 - v0) / (t1 - t0)
        va, vb = v0 + slope * (a - t0), v0 + slope * (b - t0)
        total += (b - a) * (va + vb) / 2
    return total


def summarize(path: str, gpu: Gpu, start: float | None, end: float | None, result: LoadResult) -> RunRecord | None:
    """The record of one GPU over the window [start, end] (None: from its first or to its last sample), or None with a
    warning in `result.problems` where it has no sample there. Energy (trapezoidal integral, J), mean power (energy /
    duration, W) and window_duration (s) need two power samples; peak power, peak memory and mean utilization are
    taken over the samples inside the window. A window reaching beyond the samples is a warning; its overlap is
    used. A window with no overlap is an error (window-outside-log) and gives no record. A gap in the samples inside
    the window is a warning (sampling_gaps)."""
    label = f"gpu {gpu.key}" if gpu.key else "the log"
    times = [t for t, _ in gpu.power] or [t for t, _ in gpu.memory]
    if not times:
        result.problems.append(warning("no-samples", f"no usable samples for {label}; skipped", Location(path)))
        return None
    first, last = min(times), max(times)
    lo = first if start is None else max(start, first)
    hi = last if end is None else min(end, last)
    if start is not None and (end < first or start > last):
        # No overlap at all: one error that says so (the log gives no run for this GPU), not "only the overlap is
        # used" followed by no-energy and no-samples. An error, as the no-rows it stands for (exit status 1).
        result.problems.append(Diagnostic(
            "window-outside-log", f"the window [{iso(start)}, {iso(end)}] lies outside the log's span "
            f"[{iso(first)}, {iso(last)}]{f' ({label})' if gpu.key else ''}: no sample in it; skipped", Location(path),
            hints=["check the window against the log's time range: ISO times are read in the log's utc_offset "
                   "(side metadata; default UTC), epoch seconds are UTC"]))
        return None
    if start is not None and (start < first or end > last):
        result.problems.append(warning(
            "window-outside-log", f"the window ({iso(start)} .. {iso(end)}) reaches beyond the samples of {label} "
            f"({iso(first)} .. {iso(last)}); only the overlap is used", Location(path)))
    metrics: dict[str, Measurement] = {}
    inside = lambda series: [v for t, v in series if lo <= t <= hi]
    if len(gpu.power) >= 2 and hi > lo:
        result.problems.extend(sampling_gaps(path, gpu, lo, hi))
        energy = integrate(gpu.power, lo, hi)
        metrics["energy"] = measure(energy, "J")
        metrics["power"] = measure(energy / (hi - lo), "W")
        metrics["window_duration"] = measure(hi - lo, "s")
    elif gpu.power:
        result.problems.append(warning("no-energy", f"fewer than two power samples in the window for {label}; "
                                       "energy left out", Location(path),
                                       hints=["widen the window, or sample more often (nvidia-smi -lms 100)"]))
    if inside(gpu.power):
        metrics["peak_power"] = measure(max(inside(gpu.power)), "W")
    if inside(gpu.memory):
        metrics["memory_global_vram"] = Measurement(max(inside(gpu.memory)), parse_unit("MiB").dim, "MiB")
    if inside(gpu.utilization):
        values = inside(gpu.utilization)
        metrics["gpu_utilization"] = Measurement(sum(values) / len(values), parse_unit("%").dim, "%")
    if not metrics:
        result.problems.append(warning("no-samples", f"no samples inside the window for {label}; skipped",
                                       Location(path)))
        return None
    used_rows = [n for t, n in gpu.rows if lo <= t <= hi] or [n for _, n in gpu.rows]
    extra = {"samples": len(used_rows), "window": [iso(lo), iso(hi)]}
    rows = f"rows {min(used_rows)}-{max(used_rows)}"
    source = f"{path}:{rows}" + (f" ({label})" if gpu.key else "")
    return RunRecord(dict(gpu.identity), metrics, source, extra, FORMAT)


_SAMPLED = {"power.draw", "power.draw.instant", "power.draw.average", "memory.used", "utilization.gpu", "pci.bus_id"}


def _is_nvidia_smi(header: list[str], names: set[str]) -> bool:
    """A header of nvidia-smi's CSV, or a first line that is already a sample (a `noheader` log: the side metadata
    names the columns)."""
    return bool(header and TIMESTAMP.match(header[0])) or ("timestamp" in names and bool(names & _SAMPLED))


register(Adapter("nvidia-smi", read, "nvidia-smi --query-gpu ... --format=csv power/memory samples", rank=40,
                 csv_header=_is_nvidia_smi))
