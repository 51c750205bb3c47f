"""Which adapter reads a log: decided from the content (header line or JSON keys), never from the file name."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from ..errors import Diagnostic, Location, PerfError
from .files import load_json_text, read_text
from .nvidia_smi import TIMESTAMP

FORMAT_NAMES = ("perfdsl-csv", "perfdsl-jsonl", "optimum-benchmark", "vllm-serve", "vllm-latency", "vllm-throughput",
                "nvidia-smi", "zeus-csv", "mlenergy", "codecarbon")

# Files that look like logs but are not read, and why.
_UNSUPPORTED = {
    "optimum-markdown": "this is optimum-benchmark's markdown rendering (benchmark_report.md): it has the report "
                        "without the config, so no model, hardware or input shapes; ingest the benchmark.json "
                        "written next to it",
    "nsys-stats": "this is Nsight Systems `nsys stats` text: kernel and API summaries of one trace, not a run with "
                  "a model, workload and end-to-end metrics; it is not a run log perfdsl reads",
}


def unknown(path: str, reason: str) -> PerfError:
    return PerfError(Diagnostic("unknown-format", f"cannot tell which format this log is: {reason}",
                                Location(path), hints=["name the format with --format NAME; formats: " +
                                                       ", ".join(FORMAT_NAMES)]))


def unsupported(path: str, kind: str) -> PerfError:
    return PerfError(Diagnostic("unsupported-format", _UNSUPPORTED[kind], Location(path),
                                hints=["formats read: " + ", ".join(FORMAT_NAMES)]))


def detect_format(path: Path | str) -> str:
    path_text = str(path)
    text = read_text(path)
    stripped = text.lstrip()
    if not stripped:
        raise unknown(path_text, "the file is empty")
    if stripped[0] in "{[":
        return detect_json(path_text, stripped)
    first_line = stripped.splitlines()[0]
    if first_line.startswith("#") and ("## memory:" in text or "## latency:" in text or "| metric" in text):
        raise unsupported(path_text, "optimum-markdown")
    if re.search(r"^ *\*\* .+ Summary \((nvtx|cuda_api|cuda_gpu_kern|osrt)_sum\):", text, re.MULTILINE):
        raise unsupported(path_text, "nsys-stats")
    return detect_csv(path_text, first_line)


def detect_json(path: str, text: str) -> str:
    try:
        document = load_json_text(path, text)
    except json.JSONDecodeError:
        first = text.splitlines()[0]
        try:
            document = load_json_text(path, first)
        except json.JSONDecodeError:
            raise unknown(path, "it starts like JSON but is neither a JSON document nor JSON Lines") from None
        if isinstance(document, dict):
            return "perfdsl-jsonl"
        raise unknown(path, "its first line is JSON but not an object") from None
    if isinstance(document, list) and document and all(isinstance(d, dict) for d in document):
        if all(is_codecarbon(d.keys()) for d in document):
            return "codecarbon"
        raise unknown(path, "a JSON list that is not a list of CodeCarbon records")
    if not isinstance(document, dict):
        raise unknown(path, f"a JSON {type(document).__name__}, not an object")
    keys = set(document)
    if {"config", "report"} <= keys:
        return "optimum-benchmark"
    if is_codecarbon(keys):
        return "codecarbon"
    if "Energy per request (J)" in keys or {"GPU model", "#GPUs"} <= keys:
        return "mlenergy"
    if "avg_latency" in keys and ("percentiles" in keys or "latencies" in keys):
        return "vllm-latency"
    if "elapsed_time" in keys and ("tokens_per_second" in keys or "requests_per_second" in keys):
        return "vllm-throughput"
    if any(k.endswith(("_ttft_ms", "_tpot_ms", "_e2el_ms")) or k in ("median_ttft", "median_tpot") for k in keys) \
            or {"request_throughput", "completed"} <= keys:
        return "vllm-serve"
    if any("[" in k for k in keys) or "model" in keys:
        return "perfdsl-jsonl"  # one JSON object is a JSON Lines file of one run
    shown = ", ".join(sorted(keys)[:8])
    raise unknown(path, f"a JSON object with keys none of the formats has ({shown})")


def is_codecarbon(keys) -> bool:
    keys = set(keys)
    return "codecarbon_version" in keys or {"energy_consumed", "emissions", "duration"} <= keys


def detect_csv(path: str, first_line: str) -> str:
    try:
        header = [h.strip() for h in next(csv.reader(io.StringIO(first_line, newline="")), [])]
    except csv.Error as exc:
        raise unknown(path, f"its first line is not CSV ({exc})") from None
    names = {h.split("[")[0].strip() for h in header}
    if TIMESTAMP.match(header[0] if header else ""):
        return "nvidia-smi"  # a headerless (noheader) nvidia-smi log: the side metadata names the columns
    if "timestamp" in names and names & {"power.draw", "power.draw.instant", "power.draw.average", "memory.used",
                                         "utilization.gpu", "pci.bus_id"}:
        return "nvidia-smi"
    if {"Energy_J", "Latency_sec"} <= names:
        return "zeus-csv"
    if is_codecarbon(names):
        return "codecarbon"
    if any("[" in h and h.endswith("]") for h in header) or "model" in names:
        return "perfdsl-csv"
    shown = ", ".join(header[:8])
    raise unknown(path, f"a header none of the formats has ({shown})")
