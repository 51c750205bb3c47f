"""Side metadata's control keys that change nothing: a warning at the key (`side-key-unused`).

The control keys (`window`, `columns`, `utc_offset`: side.CONTROL_KEYS) are read by the nvidia-smi reader alone: the
window selects the power samples to integrate, and no other format has samples to select. A side file that gives one
beside logs of other formats only (a vLLM JSON's `run.json.meta.json`, a folder's `perfdsl-meta.json`, `ingest
--meta`) was read without a word, as if the window applied; the runs were the whole logs'. Now each such key is one
warning (the exit status stays 0; `eval --strict` refuses it, as the run logs' other warnings) located at the key in
its file (line and column), that says which logs it applies to and why it has no effect on them. A file that an
nvidia-smi log reads too is left alone: its keys act there. The same keys given to the Python API
(`load_runs(..., side={"window": ...})`) are warned so too, located at `side['window']`.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from ..errors import Diagnostic, Location, PerfError
from ..json_spans import object_spans, place
from .files import read_text
from .records import note, warning
from .side import CONTROL_KEYS

SAMPLED_FORMAT = "nvidia-smi"        # the one reader of the control keys (nvidia_smi.py)

# What each control key does, and so why it does nothing for another format's log.
_WHAT_IT_DOES = {
    "window": "it selects the samples of nvidia-smi power logs to integrate",
    "columns": "it names the columns of a headerless nvidia-smi log",
    "utc_offset": "it gives the time zone of nvidia-smi's timestamps",
}


def unused_control_keys(uses: dict[str, list[tuple[str, str]]]) -> list[Diagnostic]:
    """One side-key-unused warning per control key of each side file in `uses` (its path -> the (log, format) of each
    log it applied to, in order) where none of those logs is an nvidia-smi log; located at the key's first mention
    (line and column, json_spans), else at the file. A file that cannot be read again is left alone (its logs'
    reading said what was wrong with it)."""
    found = []
    for side_file, logs in uses.items():
        if not logs or any(fmt == SAMPLED_FORMAT for _, fmt in logs):
            continue
        try:
            text = read_text(side_file)
            side = json.loads(text)
        except (PerfError, ValueError):
            continue
        if not isinstance(side, dict):
            continue
        for key in (key for key in side if key in CONTROL_KEYS):
            found.append(_unused(side_file, text, key, logs))
    return found


def unused_given_keys(side: dict[str, object], logs: list[tuple[str, str]]) -> list[Diagnostic]:
    """One side-key-unused warning per control key of the side metadata given to the API (load_runs' `side=`, which
    applies to every log it reads: `logs`, the (log, format) of each) where none of those logs is an nvidia-smi log;
    located at the argument as the API takes it (`side['window']`, as an override is named `overrides['batch']`).
    The command line's --meta file is warned at its key instead (unused_control_keys)."""
    if not logs or any(fmt == SAMPLED_FORMAT for _, fmt in logs):
        return []
    return [_warning(key, logs, Location(f"side[{key!r}]"), None,
                     f"leave '{key}' out of side=, or give it with the nvidia-smi log it is meant for "
                     f"(load_runs(smi_log, side=...), or LOG.meta.json beside that log)")
            for key in side if key in CONTROL_KEYS]


def _unused(side_file: str, text: str, key: str, logs: list[tuple[str, str]]) -> Diagnostic:
    """The warning for `key` of `side_file` (JSON `text`), which applies to `logs` only."""
    location, line = _key_place(text, side_file, key)
    return _warning(key, logs, location, line,
                    f"leave '{key}' out of {Path(side_file).name}, or give it beside the nvidia-smi log it is meant "
                    "for (LOG.meta.json, or --meta when ingesting that log)")


def _warning(key: str, logs: list[tuple[str, str]], location: Location, line: str | None, hint: str) -> Diagnostic:
    """side-key-unused for the control key `key`, which applies to `logs` only, at `location`."""
    names = list(dict.fromkeys(log for log, _ in logs))
    formats = ", ".join(dict.fromkeys(fmt for _, fmt in logs))
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    which = f"the log it applies to is a {formats} log" if len(names) == 1 else \
        f"the {len(names)} logs it applies to are {formats} logs"
    return warning(
        "side-key-unused", f"the side metadata's '{key}' has no effect: {_WHAT_IT_DOES[key]}, and {which}, read "
        f"whole: {shown}", location, source_line=line, hints=[hint])


def _key_place(text: str, file: str, key: str) -> tuple[Location, str | None]:
    """The place of `key`'s quoted name in the side file `file` (JSON `text`): line, column and the caret under it."""
    spans = object_spans(text, depth=1)
    span = spans.keys.get(key) if spans else None
    if span is None:
        return Location(file), None
    location, line = place(text, file, span.key_start, span.key_start + len(json.dumps(key)))   # the quoted name
    return replace(location, detail=f"key '{key}'"), line


def window_unused(logs: list[str], records: list, given: str) -> list[Diagnostic]:
    """One note (window-unused) where a window was given (`given`: ingest's "--window", load_runs' "window=") with
    logs that are not nvidia-smi power logs: only those have samples to select, so the others' runs are the whole
    log's. Said once, naming the logs (it was silent)."""
    whole = [log for log in logs if any(r.source.startswith(f"{log}:") and r.format != SAMPLED_FORMAT for r in records)]
    if not whole:
        return []
    formats = sorted({r.format for r in records if r.format != SAMPLED_FORMAT})
    named = ", ".join(whole[:3]) + (f" and {len(whole) - 3} more" if len(whole) > 3 else "")
    return [note("window-unused", f"{given} selects the samples of nvidia-smi logs only; {len(whole)} "
                 f"log{'s' if len(whole) != 1 else ''} of other formats ({', '.join(formats)}) "
                 f"{'are' if len(whole) != 1 else 'is'} read whole: {named}")]
