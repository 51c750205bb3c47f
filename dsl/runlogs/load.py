"""Loading run logs: load_runs reads many logs, each by the adapter the registry (registry.py) names for it, and
collects their problems."""

from __future__ import annotations

import math
import os
from os import PathLike
from pathlib import Path
from typing import Iterable

from ..errors import Diagnostic, Location, PerfError, UsageError, available, did_you_mean
from .columns import drop_non_magnitudes
from .detect import detect_format
from .metricless import check_metrics
from .files import read_json
from .registry import Adapter, formats
from .records import LoadResult, group_problems, note
from .side import apply_side, check_side, is_side_file, misspelt_keys, side_files, side_for
from .side_unused import unused_control_keys, unused_given_keys, window_unused


FORMATS: dict[str, Adapter] = formats()      # name -> adapter, every registered run-log format


def check_format(name: str) -> Adapter:
    """The adapter registered as `name` (a --format value). Raises UsageError (unknown-format, exit 2) for a name no
    format has, with the closest names and the list of formats."""
    if name not in FORMATS:
        raise UsageError(Diagnostic("unknown-format", f"no run-log format named '{name}'",
                                    hints=did_you_mean(name, FORMATS) + [available(FORMATS)]))
    return FORMATS[name]


def check_window(window) -> tuple[float, float] | None:
    """The nvidia-smi window as (start, end) epoch seconds (floats), or None where `window` is None. Raises UsageError
    (bad-window, exit 2) where it is not two numbers, or where start is not before end."""
    if window is None:
        return None
    try:
        start, end = (float(bound) for bound in window)
        if not (math.isfinite(start) and math.isfinite(end)):
            raise ValueError("a bound is not finite")
    except (TypeError, ValueError):
        raise UsageError(Diagnostic("bad-window", f"cannot read the window {window!r}",
                                    hints=["give (start, end) in epoch seconds"])) from None
    if start >= end:
        raise UsageError(Diagnostic("bad-window", f"the window starts at or after its end ({start} .. {end})"))
    return start, end


def load_runs(paths: str | PathLike | Iterable[str | PathLike], format: str | None = None, *,
              side: dict[str, object] | None = None, window: tuple[float, float] | None = None) -> LoadResult:
    """Read every log (format detected per file unless named) into records; file-level failures become problems.
    Runs without a measured value are left out, with a warning, or an error where no run of a log has one
    (metricless.check_metrics: wrong-format where a named format does not fit the log). `side`: metadata copied
    into every run (side.py); a control key of it (`window`, `columns`, `utc_offset`) beside logs none of which is
    an nvidia-smi log has no effect and is a warning (side-key-unused) at `side['window']`, among `problems`; a key
    that is a near miss of a known field (`hardwre`) is kept but warned about (misspelt-side-key) at
    `side['hardwre']`, as ingest --meta warns at its file's key. `window` and `columns` may be lists or tuples. A
    `window` argument beside logs that are not nvidia-smi logs (read whole: nothing to select) is a note
    (window-unused) among `problems`, as ingest's --window is.

    Raises UsageError only for mistakes in the call itself (an unknown format name, bad side metadata, a bad window).
    """
    return read_logs(paths, format, side=side, window=window, warn_given_side=True)


def read_logs(paths: str | PathLike | Iterable[str | PathLike], format: str | None = None, *,
              side: dict[str, object] | None = None, window: tuple[float, float] | None = None,
              warn_given_side: bool = True) -> LoadResult:
    """load_runs; `warn_given_side` False leaves the control keys of `side` unwarned, for a caller that says itself
    what of them has no effect (ingest: at the key of its --meta file, and a --window's note)."""
    if isinstance(paths, (str, PathLike)):
        paths = [paths]
    adapter = check_format(format) if format is not None else None
    given_side = check_side(side, "side metadata") if side is not None else {}
    window = check_window(window)
    result = LoadResult()
    paths, twice = _read_once(list(paths))
    result.problems.extend(twice)
    uses: dict[str, list[tuple[str, str]]] = {}       # side file -> the (log, format) it applied to
    read: list[tuple[str, str]] = []                  # every log read, and its format: `side` applied to them
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
            if adapter is not None:
                exc.diagnostics[0].hints.extend(other_format(path, adapter.name))
            result.problems.extend(group_problems(exc.diagnostics))
            continue
        for side_file in side_files(Path(path)):
            if side_file.is_file():
                uses.setdefault(str(side_file), []).append((path_text, reader.name))
        read.append((path_text, reader.name))
        check_metrics(loaded, path_text, adapter)      # runs without a measured value: never passed on silently
        for record in loaded.records:
            loaded.problems.extend(apply_side(record, merged, path_text))
            loaded.problems.extend(drop_non_magnitudes(record, path_text))   # a negative latency is no measurement
        loaded.problems = group_problems(loaded.problems)
        if not loaded.records and not any(p.severity == "error" for p in loaded.problems):   # else said already
            loaded.problems.append(_no_run(loaded.problems, path_text))
        result.extend(loaded)
    result.problems.extend(unused_control_keys(uses))  # a side file's window beside no nvidia-smi log: said
    for side_file in uses:                             # a key spelt like a field, once a file, as --meta's is
        result.problems.extend(misspelt_keys(read_json(side_file), side_file))
    if warn_given_side:
        result.problems.extend(unused_given_keys(given_side, read))     # ... and one given to the API
        if window is not None:                                          # ... as its window= argument is
            result.problems.extend(window_unused([log for log, _ in read], result.records, "window="))
        result.problems[:0] = misspelt_keys(given_side, None)           # first, as ingest --meta's are
    return result


def _read_once(paths: list) -> tuple[list, list[Diagnostic]]:
    """`paths` with a file named again (the same path, another spelling of it, a link to it) left out, and a note
    (log-named-twice) for each: read twice, every run of it was a repeat of itself (ingest wrote them twice, eval
    took them for repeated runs)."""
    kept, seen, notes = [], {}, []
    for path in paths:
        try:
            key = os.path.realpath(path)
        except (OSError, ValueError):
            key = str(path)
        if key in seen:
            same = f" (as '{seen[key]}')" if str(seen[key]) != str(path) else ""
            notes.append(note("log-named-twice", f"the log '{path}' is named twice{same}: read once",
                              Location(str(path))))
            continue
        seen[key] = path
        kept.append(path)
    return kept, notes


def other_format(path, forced: str) -> list[str]:
    """A hint for a log that the format `forced` (--format) could not read, where detection reads it as another
    (`--format optimum-benchmark` on a CSV said "not valid JSON" and no more); [] where detection agrees or fails."""
    try:
        detected = detect_format(path)
    except PerfError:
        return []
    if detected == forced:
        return []
    return [f"detection reads it as {detected}: leave out --format {forced} (or name --format {detected})"]


def _no_run(problems: list[Diagnostic], path: str) -> Diagnostic:
    """error[no-rows] for a log that gave no run: one given on purpose (named on the command line or by a report's
    `measured`) that holds nothing to compare or fit is a bad log, as an empty file is (empty-log), not a quiet
    comparison with nothing. Its rows' own problems (the warnings that skipped each) stay beside it."""
    if any(p.severity == "warning" for p in problems):
        message = "no row of this log could be used: every run in it was skipped"
        hints = ["the warnings at its rows say why each was skipped: mend them, or leave the log out"]
    else:
        message = "this log holds no run (nothing after its header)"
        hints = ["check that the run wrote its rows, or leave the log out"]
    return Diagnostic("no-rows", message, Location(path), hints=hints)
