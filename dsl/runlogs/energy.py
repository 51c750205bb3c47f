"""Adapters for energy logs: "zeus-csv", "mlenergy", "codecarbon".

zeus-csv   the metrics CSV of Zeus-measured Hugging Face runs (ap461719/Benchmarking-Energy-Consumption-LLMs:
           Model, Quantization, Context_Window, Dataset, Batch_Size, Latency_sec, Memory_MB, Energy_J, Power_W,
           Input_Tokens, Output_Tokens, Energy_per_InputToken, Energy_per_OutputToken, Carbon_gCO2eq). One record
           per row. Latency and energy are totals over all batches of the row; Input_Tokens counts the padded
           prompt tokens of all batches, Output_Tokens the generated ones; Memory_MB is
           torch.cuda.max_memory_allocated() / 1e6 (MB = 1e6 bytes). Metrics: run_duration (Latency_sec: the
           whole row's time, all its batches, so not `runtime`, one step's), memory, energy and power (Energy_J,
           Power_W: the GPU's, as Zeus measures it through NVML), energy_per_input_token, energy_per_output_token.
           Identity: model, precision (Quantization), context_window, dataset, batch, input_tokens, output_tokens. No GPU name: give it as side metadata.
           Carbon_gCO2eq is not read (a note says so); a column the reader does not know (a renamed Latency_s)
           is a warning at the header, with did-you-mean, and so is each expected column missing.
mlenergy   an ML.ENERGY leaderboard v2 per-configuration JSON ("Model", "Backend", "GPU model", "#GPUs",
           "Request rate", "Requests per second", "Latency per request (s)", "Energy per request (J)"):
           identity model, backend, hardware, n_gpus, request_rate; metrics request_throughput, e2e_latency,
           energy_per_request (GPU energy of all the run's GPUs per request, measured with Zeus).
codecarbon a CodeCarbon record: a JSON object (or a list of them), or emissions.csv (one record per row).
           duration -> run_duration (s: the tracked run's whole time, not one step's `runtime`);
           gpu_energy -> energy, gpu_power -> power: the GPUs' energy (kWh -> J) and mean power (W), as nvidia-smi's
           and Zeus's `energy` and `power` are and as the cost models estimate them; CodeCarbon sums them over the
           GPUs it tracks, so where the record has n_gpus > 1 they are energy_total and power_total (memory_total's
           rule). energy_consumed -> machine_energy: CPU + GPU + RAM, the whole machine's, never `energy`.
           cpu_energy, ram_energy (kWh -> J), cpu_power, ram_power (W) keep their names. hardware and n_gpus from
           gpu_model ("1 x NVIDIA H100 80GB HBM3") and gpu_count. In "machine" tracking mode the CPU and RAM
           figures are the whole machine's, other processes' included (extra["tracking_mode"] keeps it).
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import Location, near_miss
from .columns import parse_quantity
from .files import csv_rows, csv_text, merged_row, numbered_rows, physical_lines, read_json, read_text
from .perfdsl_csv import caret_span
from .records import (LoadResult, RunRecord, file_error, int_identity, is_number, measure, note, ragged_row,
                      summed_name, warning)
from .registry import Adapter, register

# CSV column / JSON key -> (metric, unit as the tool writes it)
ZEUS_METRICS = {
    "Latency_sec": ("run_duration", "s"),     # all the row's batches: a run's time, not one step's runtime
    "Memory_MB": ("memory", "MB"),
    "Energy_J": ("energy", "J"),
    "Power_W": ("power", "W"),
    "Energy_per_InputToken": ("energy_per_input_token", "J/token"),
    "Energy_per_OutputToken": ("energy_per_output_token", "J/token"),
}
# The columns of a Zeus metrics CSV, in the order it writes them.
ZEUS_COLUMNS = ("Model", "Quantization", "Context_Window", "Dataset", "Batch_Size", "Latency_sec", "Memory_MB",
                "Energy_J", "Power_W", "Input_Tokens", "Output_Tokens", "Energy_per_InputToken",
                "Energy_per_OutputToken", "Carbon_gCO2eq")
# Columns Zeus writes that are not compared, said in a note rather than dropped silently.
ZEUS_UNUSED = {"Carbon_gCO2eq": "carbon emissions (g CO2-eq) are no quantity perfdsl estimates or compares"}
ZEUS_IDENTITY = {"Model": "model", "Quantization": "precision", "Context_Window": "context_window",
                 "Dataset": "dataset", "Batch_Size": "batch", "Input_Tokens": "input_tokens",
                 "Output_Tokens": "output_tokens"}

MLENERGY_METRICS = {
    "Requests per second": ("request_throughput", "request/s"),
    "Latency per request (s)": ("e2e_latency", "s"),
    "Energy per request (J)": ("energy_per_request", "J/request"),
}
MLENERGY_IDENTITY = {"Model": "model", "Backend": "backend", "GPU model": "hardware", "#GPUs": "n_gpus",
                     "Request rate": "request_rate"}

CODECARBON_METRICS = {
    "duration": ("run_duration", "s"),        # the tracked run (a whole phase), not one step's runtime
    "energy_consumed": ("machine_energy", "kWh"),   # CPU + GPU + RAM: the machine's, not what `energy` estimates
    "cpu_energy": ("cpu_energy", "kWh"),
    "gpu_energy": ("energy", "kWh"),
    "ram_energy": ("ram_energy", "kWh"),
    "cpu_power": ("cpu_power", "W"),
    "gpu_power": ("power", "W"),
    "ram_power": ("ram_power", "W"),
}
# CodeCarbon's GPU figures are sums over the GPUs it tracks (mlco2/codecarbon, codecarbon/external/hardware.py,
# GPU.measure_power_and_energy adds the energy and power of each tracked gpu_index; commit
# 004e88f6e4ee4b7e7bc6a42f96c869bc199f52a0): with several GPUs they are named by summed_name (energy_total ...).
CODECARBON_GPU_KEYS = ("gpu_energy", "gpu_power")
_GPU_MODEL = re.compile(r"^\s*(?P<count>\d+)\s*x\s*(?P<name>.+?)\s*$")


def read_table(path: str, text: str, fmt: str, metrics_map, identity_map: dict,
               convert_extra=None, check_header=None) -> LoadResult:
    """One record per CSV row: mapped columns become metrics or identity, the rest go to extra. `metrics_map` is a dict
    (column -> (metric, unit)) or a function of the row's cells (column -> text) giving that row's dict, for a name
    that depends on another column (CodeCarbon's gpu_count). `check_header(header, line, source_line)` (optional)
    returns diagnostics about the header's columns, put first in the problems."""
    text = csv_text(text)
    lines = physical_lines(text)
    rows_with_lines = [record for record in csv_rows(path, text, lines) if any(c.strip() for c in record[1])]
    if not rows_with_lines:
        raise file_error(path, "empty-log", "the file is empty")
    header_line, header, _ = rows_with_lines[0]
    header = [h.strip() for h in header]
    result = LoadResult()
    if check_header is not None:
        result.problems.extend(check_header(header, header_line, lines[header_line - 1]))
    for row_number, line, row, last in numbered_rows(rows_with_lines[1:], lines):
        source_line = lines[line - 1] if line - 1 < len(lines) else None
        if len(row) != len(header) and last > line:         # lines joined by a quote left open
            result.problems.append(merged_row(path, row_number, line, last, len(row), len(header), lines))
            continue
        if len(row) != len(header):
            result.problems.append(ragged_row(path, line, row_number, len(row), f"the header has {len(header)}",
                                              source_line))
            continue
        record = RunRecord({}, {}, f"{path}:row {row_number}", {}, fmt)
        row_metrics = metrics_map(dict(zip(header, row))) if callable(metrics_map) else metrics_map
        for index, (column, cell) in enumerate(zip(header, row)):
            cell = cell.strip()
            def bad(what: str):
                result.problems.append(warning(
                    "bad-value", f"cannot read '{cell}' as {what} in column '{column}'",
                    Location(path, line, *caret_span(source_line, index), f"row {row_number}, column '{column}'"),
                    source_line=source_line, notes=[f"row {row_number} is kept without '{column}'"]))
            if column in row_metrics:
                value = parse_quantity(cell)
                if value is None:
                    bad("a number")
                else:
                    name, unit = row_metrics[column]
                    record.metrics[name] = measure(value, unit)
            elif column in identity_map:
                name = identity_map[column]
                value = int_identity(cell) if name in ("batch", "n_gpus", "context_window", "input_tokens",
                                                      "output_tokens", "gpu_count") else cell
                if value is None or value == "":
                    bad("a whole number" if value is None else "a value")
                else:
                    record.identity[name] = value
            else:
                record.extra[column] = cell
        if convert_extra:
            convert_extra(record)
        result.records.append(record)
    return result


def read_zeus(path: Path | str, side: dict | None = None, window=None) -> LoadResult:
    """The runs of a Zeus metrics CSV, one record per row (metrics in SI, e.g. Memory_MB at 1e6 byte per MB; see the
    module docstring for the columns). `side` and `window` are not used (the adapter signature). Raises PerfError
    (exit 1) for an unreadable file or CSV; bad cells are warnings in the result's problems."""
    path_text = str(path)
    return read_table(path_text, read_text(path), "zeus-csv", ZEUS_METRICS, ZEUS_IDENTITY,
                      check_header=lambda header, line, text: zeus_columns(path_text, header, line, text))


def zeus_columns(path: str, header: list[str], line: int, source_line: str) -> list:
    """What a Zeus header has that the reader does not read, and what it lacks, each said once at the header: a
    column Zeus writes that perfdsl does not compare (ZEUS_UNUSED) is a note; any other column is an
    `unknown-column` warning (a misspelt or renamed one, `Latency_s`, gets did-you-mean and what the runs lack
    without it); an expected column missing is a `missing-column` warning naming what the runs lack."""
    expected = sorted({**ZEUS_METRICS, **ZEUS_IDENTITY}, key=ZEUS_COLUMNS.index)
    missing = [column for column in expected if column not in header]
    explained: set[str] = set()
    found = []

    def at(column: str) -> Location:
        return Location(path, line, *caret_span(source_line, header.index(column)), f"column '{column}'")

    for column in header:
        if column in expected:
            continue
        if column in ZEUS_UNUSED:
            found.append(note("unused-column", f"column '{column}' is not read: {ZEUS_UNUSED[column]}", at(column)))
            continue
        close = [name for name in missing if near_miss(column.lower(), name.lower())]
        explained.update(close[:1])
        lacks = f"; the runs have no {_lacked(close[0])}" if close else ""
        found.append(warning("unknown-column", f"column '{column}' is not one the Zeus reader knows: not read{lacks}",
                             at(column), source_line=source_line,
                             hints=[_rename_hint(close[0])] if close else
                             ["the columns read: " + ", ".join(expected)]))
    for name in missing:
        if name not in explained:
            found.append(warning("missing-column", f"the header has no column '{name}': the runs have no "
                                 f"{_lacked(name)}", Location(path, line, 1, len(source_line) + 1, "header"),
                                 source_line=source_line))
    return found


def _rename_hint(column: str) -> str:
    """did-you-mean for a Zeus column, with the unit its values are read in (Energy_kJ renamed Energy_J would be
    read 1,000 times too small)."""
    if column in ZEUS_METRICS:
        unit = ZEUS_METRICS[column][1]
        return (f"did you mean '{column}'? (its values are read in {unit}: rename the column to it only where they "
                f"are in {unit})")
    return f"did you mean '{column}'?"


def _lacked(column: str) -> str:
    """What the runs lack without a Zeus column: "runtime (Latency_sec)", "batch (Batch_Size)"."""
    name = ZEUS_METRICS[column][0] if column in ZEUS_METRICS else ZEUS_IDENTITY[column]
    return f"{name} (from '{column}')"


def read_mlenergy(path: Path | str, side: dict | None = None, window=None) -> LoadResult:
    """The one run of an ML.ENERGY leaderboard v2 per-configuration JSON: request_throughput (request/s), e2e_latency
    (s) and energy_per_request (J/request), identity from "Model", "Backend", "GPU model", "#GPUs" and "Request
    rate". `side` and `window` are not used. Raises PerfError (bad-json, exit 1) where the document is not a JSON
    object or not valid JSON."""
    path_text = str(path)
    document = read_json(path)
    if not isinstance(document, dict):
        raise file_error(path_text, "bad-json", "expected a JSON object (an ML.ENERGY leaderboard configuration)")
    record = RunRecord({}, {}, f"{path_text}:$", {}, "mlenergy")
    result = LoadResult()
    read_keys(path_text, document, MLENERGY_METRICS, MLENERGY_IDENTITY, record, result)
    result.records.append(record)
    return result


def read_keys(path: str, document: dict, metrics_map: dict, identity_map: dict, record: RunRecord,
              result: LoadResult, prefix: str = "") -> None:
    """Read the keys of one JSON object into `record`: keys of `metrics_map` (key -> (metric, unit as written)) become
    metrics in SI, keys of `identity_map` (key -> field) identifying fields (n_gpus as an int), any other key goes to
    `extra`. A metric value that is not a number is a bad-value warning added to `result.problems`, located at
    `prefix` + key. Raises nothing."""
    for key, value in document.items():
        if key in metrics_map:
            name, unit = metrics_map[key]
            if is_number(value):
                record.metrics[name] = measure(value, unit)
            else:
                result.problems.append(warning("bad-value", f"cannot read {value!r} as a number for key '{key}'; "
                                               f"'{name}' left out", Location(path, detail=f"{prefix}{key}")))
        elif key in identity_map and value not in (None, ""):
            name = identity_map[key]
            record.identity[name] = int_identity(value) if name == "n_gpus" else value
        else:
            record.extra[key] = value


def codecarbon_gpus(fields: dict) -> tuple[str | None, int | None]:
    """(hardware, n_gpus) of a CodeCarbon record's fields (JSON keys or CSV cells): from gpu_model ("1 x NVIDIA H100
    80GB HBM3") where it names one kind of GPU, else n_gpus from gpu_count; None where the record does not say."""
    model, count = fields.get("gpu_model"), int_identity(fields.get("gpu_count"))
    match = _GPU_MODEL.match(model) if isinstance(model, str) else None
    if match and "," not in model:
        return match.group("name"), int(match.group("count"))
    return None, count


def codecarbon_metrics(fields: dict) -> dict:
    """CODECARBON_METRICS for one record: the GPUs' energy and power named for its number of GPUs (energy, power on
    one GPU or where the record does not say; energy_total, power_total on several)."""
    n_gpus = codecarbon_gpus(fields)[1]
    return {key: (summed_name(name, n_gpus) if key in CODECARBON_GPU_KEYS else name, unit)
            for key, (name, unit) in CODECARBON_METRICS.items()}


def codecarbon_hardware(record: RunRecord) -> None:
    """hardware and n_gpus of a record read from CodeCarbon's fields (codecarbon_gpus; they are in `extra`)."""
    hardware, n_gpus = codecarbon_gpus(record.extra)
    if hardware is not None:
        record.identity["hardware"] = hardware
    if n_gpus is not None:
        record.identity["n_gpus"] = n_gpus


def read_codecarbon(path: Path | str, side: dict | None = None, window=None) -> LoadResult:
    """The runs of a CodeCarbon log: a JSON record or a list of them, or emissions.csv (one record per row); energies
    converted from kWh to J, durations in s, powers in W, hardware and n_gpus from gpu_model and gpu_count. `side` and
    `window` are not used. Raises PerfError (exit 1) for an unreadable file, bad JSON or CSV; a list item that is not
    an object is a warning, skipped."""
    path_text = str(path)
    text = read_text(path)
    if text.lstrip().startswith(("{", "[")):
        document = read_json(path, text)
        objects = document if isinstance(document, list) else [document]
        result = LoadResult()
        for index, item in enumerate(objects):
            where = f"[{index}]" if isinstance(document, list) else "$"
            if not isinstance(item, dict):
                result.problems.append(warning("bad-json", f"{where} is not a CodeCarbon record; skipped",
                                               Location(path_text, detail=where)))
                continue
            record = RunRecord({}, {}, f"{path_text}:{where}", {}, "codecarbon")
            read_keys(path_text, item, codecarbon_metrics(item), {}, record, result,
                      prefix="" if where == "$" else f"{where}.")
            codecarbon_hardware(record)
            result.records.append(record)
        return result
    return read_table(path_text, text, "codecarbon", codecarbon_metrics, {}, codecarbon_hardware)


__all__ = ["read_zeus", "read_mlenergy", "read_codecarbon"]


def is_codecarbon(keys) -> bool:
    """Whether JSON keys or CSV column names are CodeCarbon's (its version key, or its three measured fields)."""
    keys = set(keys)
    return "codecarbon_version" in keys or {"energy_consumed", "emissions", "duration"} <= keys


def _listed(names) -> str:
    return ", ".join(f"'{name}'" for name in names)


register(Adapter("mlenergy", read_mlenergy, "ML.ENERGY leaderboard v2 per-configuration JSON", rank=30,
                 json_keys=lambda keys: "Energy per request (J)" in keys or {"GPU model", "#GPUs"} <= keys,
                 expects="a JSON object with the keys " + _listed([*MLENERGY_METRICS, *MLENERGY_IDENTITY])))
register(Adapter("codecarbon", read_codecarbon, "CodeCarbon record (JSON) or emissions.csv", rank=31,
                 json_keys=is_codecarbon, json_list=lambda records: all(is_codecarbon(r.keys()) for r in records),
                 csv_header=lambda header, names: is_codecarbon(names),
                 expects="JSON keys or CSV columns " + _listed([*CODECARBON_METRICS, "gpu_model", "gpu_count"])))
register(Adapter("zeus-csv", read_zeus, "Zeus-measured metrics CSV (Energy_J, Latency_sec, Memory_MB ...)", rank=41,
                 csv_header=lambda header, names: {"Energy_J", "Latency_sec"} <= names,
                 csv_columns=ZEUS_COLUMNS,
                 expects="a CSV header with the columns " + _listed(c for c in ZEUS_COLUMNS if c not in ZEUS_UNUSED)))
