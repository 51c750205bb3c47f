"""Runs that carry no measured value: never passed on in silence.

A reader keeps what it does not know in `extra`, so a log read by the wrong reader (`--format mlenergy` on an
optimum-benchmark JSON) or one whose measured columns are misspelt gives runs of identifying fields only, or none
at all: "1 run", exit status 0, and a report that later blames its own cells. load_runs checks every log's runs here:

  - some runs without a metric: those runs are left out, one warning (`no-metric`) listing where they are;
  - no run with a metric, the format forced (--format) and detection reading the file otherwise: the format does not
    fit the file (`wrong-format`, an error naming what the format reads, what the file looks like and what detection
    makes of it); the reader's row warnings, which only repeat that, are not shown;
  - no run with a metric otherwise: an error (`no-metric`) naming what the log's runs hold.
"""

from __future__ import annotations

from ..errors import Diagnostic, Location, PerfError
from .records import LoadResult, RunRecord, warning
from .registry import Adapter

PLACES_SHOWN = 5


def check_metrics(loaded: LoadResult, path: str, forced: Adapter | None) -> None:
    """Leave out of `loaded` the runs without a metric, adding a warning or an error to its problems (see the module
    docstring). `forced` is the adapter --format named (None where the format was detected). Raises nothing."""
    with_metric = [record for record in loaded.records if record.metrics]
    if len(with_metric) == len(loaded.records) and (with_metric or forced is None):
        return                                   # all carry one; or none was read, which load_runs says (no-rows)
    if with_metric:
        without = [record for record in loaded.records if not record.metrics]
        loaded.records = with_metric
        loaded.problems.append(warning(
            "no-metric", f"{_count(without)} of this log carr{'ies' if len(without) == 1 else 'y'} no measured "
            f"value: left out ({_places(without, path)})", Location(path, detail=_place(without[0], path)),
            notes=[f"{_held(without)}"],
            hints=["a run is compared by its measured values: give each run one, or leave the rows out"]))
        return
    if forced is not None:
        wrong = wrong_format(loaded, path, forced)
        if wrong is not None:
            loaded.records, loaded.problems = [], [wrong]
            return
    if not loaded.records:
        return
    records, loaded.records = loaded.records, []
    loaded.problems.append(Diagnostic(
        "no-metric", f"no run of this log carries a measured value: {_count(records)} read, "
        f"{_held(records)}", Location(path),
        hints=unit_suffixed(records[0]) + [_what_reads(records[0].format, forced)]))


def unit_suffixed(record: RunRecord) -> list[str]:
    """Hints for the run's identifying fields that read as a value with its unit after an underscore (`runtime_ms`:
    a column without a unit in brackets identifies the run): "'runtime_ms' may be a measured value in ms: name the
    column 'runtime [ms]'". Known identifying fields (`input_tokens`, `n_gpus`) and dimensionless units (`count`,
    `%`) are left out."""
    from ..units import UnitError, parse_unit
    from .records import IDENTITY_ORDER, INT_FIELDS

    hints = []
    for name in record.identity:
        stem, _, suffix = name.rpartition("_")
        if name in INT_FIELDS or name in IDENTITY_ORDER:
            continue
        try:
            if not stem or parse_unit(suffix).dim.is_dimensionless:
                continue
        except UnitError:
            continue
        hints.append(f"'{name}' may be a measured value in {suffix}: a column without a unit identifies the run; "
                     f"name it '{stem} [{suffix}]'")
    return hints


def wrong_format(loaded: LoadResult, path: str, forced: Adapter) -> Diagnostic | None:
    """error[wrong-format] where detection reads the log at `path` as another format than `forced` (or cannot tell
    it), else None: the forced reader found none of its fields."""
    from .detect import describe, detect_format

    try:
        detected, why = detect_format(path), ""
    except PerfError as exc:
        detected, why = None, exc.diagnostics[0].message
    if detected == forced.name:
        return None
    warnings = sum(1 for problem in loaded.problems if problem.severity == "warning")
    if loaded.records:
        what = (f"its {_count(loaded.records)} carr{'ies' if len(loaded.records) == 1 else 'y'} no measured value: "
                f"this log holds none of the fields {forced.name} reads")
    else:
        what = f"no row of this log could be read: it does not look like a {forced.name} log"
    notes = [f"{forced.name} reads {forced.expects or forced.description}",
             f"the file is {describe(path)}"]
    if warnings:
        notes.append(f"the {warnings:,} warning{'s' if warnings != 1 else ''} of reading it as {forced.name} "
                     "are not shown")
    hints = ([f"detection reads it as {detected}: leave out --format {forced.name} (or name --format {detected})"]
             if detected else [f"detection cannot tell its format either: {why}"])
    return Diagnostic("wrong-format", f"read as --format {forced.name}, {what}", Location(path), hints=hints,
                      notes=notes)


def _what_reads(format_name: str, forced: Adapter | None) -> str:
    """What the log's reader takes measured values from, as a hint."""
    from .load import FORMATS

    adapter = forced or FORMATS.get(format_name)
    if adapter is None:
        return "give each run a measured value"
    return f"{adapter.name} reads {adapter.expects or adapter.description}"


def _count(records: list[RunRecord]) -> str:
    return f"{len(records):,} run{'s' if len(records) != 1 else ''}"


def _place(record: RunRecord, path: str) -> str:
    """Where a run is in its log ("row 3", "$"), from its source "FILE:PLACE"."""
    return record.source[len(path) + 1:] if record.source.startswith(path + ":") else record.source


def _places(records: list[RunRecord], path: str) -> str:
    shown = ", ".join(_place(record, path) for record in records[:PLACES_SHOWN])
    return shown + (f" and {len(records) - PLACES_SHOWN:,} more" if len(records) > PLACES_SHOWN else "")


def _held(records: list[RunRecord]) -> str:
    """What the runs hold instead: their identifying fields and other keys (the first run's)."""
    from .detect import shown_keys

    first = records[0]
    fields = shown_keys(first.identity) if first.identity else "no identifying field"
    other = f"; other fields: {shown_keys(first.extra)}" if first.extra else ""
    return f"the first has identifying fields {fields}{other}" if first.identity else f"the first has {fields}{other}"
