"""Side metadata: what a log does not say about its run (hardware, n_gpus, batch, seq_len ...).

Many logs lack identifying fields (vLLM's JSON has no hardware, nvidia-smi's CSV no model). They come from a JSON
object, merged from three places, later ones winning:

  1. `perfdsl-meta.json` in the log's folder          (applies to every log in that folder)
  2. `<log file name>.meta.json` beside the log       (e.g. `run1.json.meta.json`; applies to that log only)
  3. the `side` argument of load_runs / `perfdsl ingest --meta side.json`   (applies to every log named)

Example:
    {"hardware": "NVIDIA H100 80GB HBM3", "n_gpus": 8, "batch": 32, "seq_len": 1024, "output_len": 128,
     "parallelism": "tp8", "backend": "vllm"}

Every key is an identifying field copied into each record (counts such as n_gpus and batch must be whole numbers),
except these control keys read by the adapters:
  columns     the column names of a headerless nvidia-smi log, e.g. ["timestamp", "power.draw", "memory.used"]
  window      [start, end] of the nvidia-smi samples to integrate: epoch seconds (not milliseconds) or ISO times
  utc_offset  the time zone of nvidia-smi's timestamps, e.g. "+02:00" (-12:00 .. +14:00; default UTC)
A value that cannot be used is a bad-side error located at it in the side file (line and column). A control key in a
side file that applies to no nvidia-smi log has no effect: a warning at the key says so (side_unused.py).
Where the side metadata names a field the log also has, the side value is used and a note says so.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timezone
from pathlib import Path

from ..errors import Diagnostic, Location, PerfError, UsageError, did_you_mean
from ..json_spans import object_spans, place
from .columns import identity_value
from .files import read_json, read_text
from .times import offset_problem, window_bound, window_hints
from .records import RunRecord, note

FOLDER_FILE = "perfdsl-meta.json"
LOG_SUFFIX = ".meta.json"
CONTROL_KEYS = frozenset({"columns", "window", "utc_offset"})


def is_side_file(path: Path | str) -> bool:
    """Whether `path` is named like side metadata: perfdsl-meta.json, or a name ending in .meta.json."""
    name = Path(path).name
    return name == FOLDER_FILE or name.endswith(LOG_SUFFIX)


def check_side(side: object, where: str, error=UsageError, text: str | None = None) -> dict[str, object]:
    """The side metadata with counts as ints; `error` (UsageError for the command line, PerfError for a file).
    `text`: the JSON text of the file `where` names, so that a value refused is located at its line and column
    (json_spans), not at the file alone. Raises `error` (bad-side) for a value that cannot be used."""
    def fail(message: str, *hints: str, key: str | None = None) -> PerfError:
        location, line = value_place(text, where, key)
        return error(Diagnostic("bad-side", message, location, line, hints=list(hints)))

    if not isinstance(side, dict):
        raise fail("side metadata must be a JSON object", 'write e.g. {"hardware": "NVIDIA H100 80GB HBM3", "n_gpus": 8}')
    checked: dict[str, object] = {}
    for key, value in side.items():
        if key in ("columns", "window") and isinstance(value, tuple):
            value = list(value)         # the API's side= may give a tuple where JSON has a list
        if key == "columns":
            if not isinstance(value, list) or not all(isinstance(c, str) and c.strip() for c in value):
                raise fail("'columns' must be a list of column names", 'e.g. ["timestamp", "power.draw [W]"]', key=key)
            checked[key] = value
        elif key == "window":
            if not isinstance(value, list) or len(value) != 2:
                raise fail("'window' must be [start, end]", 'e.g. ["2025-04-16T19:53:20", "2025-04-16T19:53:40"]',
                           key=key)
            for bound in value:         # the zone (utc_offset) moves a time, never makes it readable
                if window_bound(bound, timezone.utc) is None:
                    shown = bound if isinstance(bound, str) else json.dumps(bound)     # NaN, Infinity, true
                    raise fail(f"cannot read the window bound '{shown}'", *window_hints(bound), key=key)
            checked[key] = value
        elif key == "utc_offset":
            problem = offset_problem(value)
            if problem:
                raise fail(*problem, key=key)
            checked[key] = value
        elif "[" in key:
            raise fail(f"side metadata holds identifying fields only; '{key}' is a quantity",
                       "measured values come from the logs", key=key)
        else:
            kept, reason = identity_value(key, value)
            if kept is None:
                # A list is no identifying value but what `columns` and `window` take: `colums` is more likely one
                # of them misspelt than a field of its own (identifying keys get misspelt_keys' warning).
                near = did_you_mean(key, CONTROL_KEYS) if isinstance(value, (list, dict)) else []
                if near:
                    raise fail(f"cannot use {value!r} for '{key}': {reason}, and '{key}' is no control key",
                               near[0] + " (control keys: " + ", ".join(sorted(CONTROL_KEYS)) + ")", key=key)
                raise fail(f"cannot use {value!r} for '{key}': {reason}", "write counts as whole numbers, names as text",
                           key=key)
            checked[key] = kept
    return checked


def value_place(text: str | None, file: str, key: str | None) -> tuple[Location, str | None]:
    """Where the value of `key` is in the side file `file` whose JSON text is `text` (json_spans: line, column, the
    caret under the value, and its line to quote), or the file alone where there is no text, no key, or the
    document is not an object (json.loads keeps a key's last mention, and so does object_spans)."""
    spans = object_spans(text, depth=1) if text is not None and key is not None else None
    span = spans.keys.get(key) if spans else None
    if span is None:
        return Location(file), None
    location, line = place(text, file, span.value_start, span.value_end)
    return replace(location, detail=f"value of '{key}'"), line


def _one_swap(written: str, name: str) -> bool:
    """Whether `written` is `name` with two neighbouring letters swapped (`modle`, `hardwaer`): near_miss's ratio
    leaves such a slip out of short names (`modle` against `model`: 0.8)."""
    if len(written) != len(name) or written == name:
        return False
    differ = [i for i, (a, b) in enumerate(zip(written, name)) if a != b]
    return len(differ) == 2 and differ[1] == differ[0] + 1 and written[differ[0]] == name[differ[1]] \
        and written[differ[1]] == name[differ[0]]


def misspelt_keys(side: dict[str, object], path: str | None) -> list[Diagnostic]:
    """A warning (`misspelt-side-key`) for each key of the side metadata read from `path` that is not a known field
    but a near miss of one (`hardwre`, `n_gpu`): any other name is documented as an identifying field of its own,
    so the key is kept, but a report has no cell of that name and the run would match every value of the field
    meant. Located at the key's first mention in the file (line and column) where it can be found; with `path`
    None (the side metadata given to load_runs as `side=`), at the argument: `side['hardwre']`."""
    from ..errors import did_you_mean, near_miss
    from .files import physical_lines
    from .records import IDENTITY_ORDER, warning

    known = set(IDENTITY_ORDER) | CONTROL_KEYS | {"tp", "pp", "stack", "kv_cache_dtype"}
    found = []
    for key in side:
        close = [k for k in known if key not in known and (near_miss(key, k) or _one_swap(key, k))]
        if not close:
            continue
        if path is None:                    # load_runs' side=: named as the API takes it (side_unused.py too)
            found.append(warning(
                "misspelt-side-key", f"the side metadata's key '{key}' is no field perfdsl knows; it is kept as an "
                "identifying field of its own, which a report matches only where it has a cell of that name",
                Location(f"side[{key!r}]"), hints=did_you_mean(key, close) + [
                    f"write the key as '{sorted(close)[0]}' to identify the runs by that field"]))
            continue
        location, line = Location(path), None
        try:
            for number, text in enumerate(physical_lines(read_text(path)), start=1):
                col = text.find(json.dumps(key))
                if col >= 0:
                    location = Location(path, number, col + 1, col + 1 + len(json.dumps(key)), f"key '{key}'")
                    line = text
                    break
        except PerfError:
            pass                            # read once already; a file gone since is located at its name
        found.append(warning(
            "misspelt-side-key", f"the side metadata's key '{key}' is no field perfdsl knows; it is kept as an "
            "identifying field of its own, which a report matches only where it has a cell of that name",
            location, source_line=line, hints=did_you_mean(key, close) + [
                f"write the key as '{sorted(close)[0]}' to identify the runs by that field"]))
    return found


def side_files(log: Path) -> tuple[Path, Path]:
    """Where side metadata for one log may be: the folder's file, then the log's own. A path with no name of its own
    (".", a folder given by mistake, refused later as no log) has them as if it were a file in its parent."""
    return log.parent / FOLDER_FILE, log.parent / (log.name + LOG_SUFFIX)


def side_for(log: Path | str, given: dict | None) -> dict[str, object]:
    """The merged side metadata for one log (folder file, then per-log file, then `given`)."""
    log = Path(log)
    merged: dict[str, object] = {}
    for candidate in side_files(log):
        if candidate.is_file():
            text = read_text(candidate)
            merged.update(check_side(read_json(candidate, text, "side file"), str(candidate), error=PerfError,
                                     text=text))
    merged.update(given or {})
    return merged


def apply_side(record: RunRecord, side: dict[str, object], log: str) -> list[Diagnostic]:
    """Copy the side metadata's identifying fields (every key but the control keys) into `record.identity`, the side
    value winning; where the log had another value, keep it in `extra` as "log.KEY" and return a side-override note
    located at the record (`log` is the log's path)."""
    notes = []
    for key, value in side.items():
        if key in CONTROL_KEYS:
            continue
        if key in record.identity and record.identity[key] != value:
            notes.append(note("side-override", f"'{key}' is {record.identity[key]!r} in the log; the side metadata "
                              f"gives {value!r}, which is used",
                              Location(log, detail=record.source.removeprefix(f"{log}:"))))
            record.extra.setdefault(f"log.{key}", record.identity[key])
        record.identity[key] = value
    return notes
