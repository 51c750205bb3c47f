"""Loading run logs: the format registry and load_runs, which reads many logs and collects their problems."""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Callable, Iterable

from ..errors import Diagnostic, Location, PerfError, UsageError, available, did_you_mean
from . import energy, nvidia_smi, optimum, perfdsl_csv, perfdsl_jsonl, vllm
from .detect import FORMAT_NAMES, detect_format
from .records import LoadResult, group_problems, note, warning
from .side import apply_side, check_side, is_side_file, side_for


@dataclass(frozen=True)
class Adapter:
    name: str
    read: Callable[..., LoadResult]  # read(path, side=dict, window=(start, end) | None) -> LoadResult
    description: str


FORMATS: dict[str, Adapter] = {a.name: a for a in (
    Adapter("perfdsl-csv", perfdsl_csv.read, "perfdsl's own CSV: 'name [unit]' columns are quantities"),
    Adapter("perfdsl-jsonl", perfdsl_jsonl.read, "perfdsl's own JSON Lines: keys written like the CSV headers"),
    Adapter("optimum-benchmark", optimum.read, "huggingface/optimum-benchmark benchmark.json (incl. energy_star)"),
    Adapter("vllm-serve", vllm.read_serve, "vllm bench serve --save-result JSON (and the InferenceX variant)"),
    Adapter("vllm-latency", vllm.read_latency, "vLLM benchmark_latency.py --output-json"),
    Adapter("vllm-throughput", vllm.read_throughput, "vLLM benchmark_throughput.py --output-json"),
    Adapter("nvidia-smi", nvidia_smi.read, "nvidia-smi --query-gpu ... --format=csv power/memory samples"),
    Adapter("zeus-csv", energy.read_zeus, "Zeus-measured metrics CSV (Energy_J, Latency_sec, Memory_MB ...)"),
    Adapter("mlenergy", energy.read_mlenergy, "ML.ENERGY leaderboard v2 per-configuration JSON"),
    Adapter("codecarbon", energy.read_codecarbon, "CodeCarbon record (JSON) or emissions.csv"),
)}
assert tuple(FORMATS) == FORMAT_NAMES  # detect.py names the same formats, in the same order


def check_format(name: str) -> Adapter:
    if name not in FORMATS:
        raise UsageError(Diagnostic("unknown-format", f"no run-log format named '{name}'",
                                    hints=did_you_mean(name, FORMATS) + [available(FORMATS)]))
    return FORMATS[name]


def check_window(window) -> tuple[float, float] | None:
    if window is None:
        return None
    try:
        start, end = (float(bound) for bound in window)
    except (TypeError, ValueError):
        raise UsageError(Diagnostic("bad-window", f"cannot read the window {window!r}",
                                    hints=["give (start, end) in epoch seconds"])) from None
    if start >= end:
        raise UsageError(Diagnostic("bad-window", f"the window starts at or after its end ({start} .. {end})"))
    return start, end


def load_runs(paths: str | PathLike | Iterable[str | PathLike], format: str | None = None, *,
              side: dict[str, object] | None = None, window: tuple[float, float] | None = None) -> LoadResult:
    """Read every log (format detected per file unless named) into records; file-level failures become problems.

    Raises UsageError only for mistakes in the call itself (an unknown format name, bad side metadata, a bad window).
    """
    if isinstance(paths, (str, PathLike)):
        paths = [paths]
    adapter = check_format(format) if format is not None else None
    given_side = check_side(side, "side metadata") if side is not None else {}
    window = check_window(window)
    result = LoadResult()
    for path in paths:
        path_text = str(path)
        if is_side_file(path) and adapter is None:
            result.problems.append(note("side-file", "side metadata, not a log: read with the logs beside it",
                                        Location(path_text)))
            continue
        try:
            merged = side_for(Path(path), given_side)
            reader = adapter or FORMATS[detect_format(path)]
            loaded = reader.read(Path(path), side=merged, window=window)
        except PerfError as exc:
            if isinstance(exc, UsageError):
                raise
            for diagnostic in exc.diagnostics:
                diagnostic.severity = "error"
            result.problems.extend(group_problems(exc.diagnostics))
            continue
        for record in loaded.records:
            loaded.problems.extend(apply_side(record, merged, path_text))
        loaded.problems = group_problems(loaded.problems)
        if not loaded.records and not any(p.severity in ("error", "warning") for p in loaded.problems):
            loaded.problems.append(warning("no-rows", "this log holds no run (nothing after its header)",
                                           Location(path_text)))
        result.extend(loaded)
    return result

