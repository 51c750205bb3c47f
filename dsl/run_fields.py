"""Fields of the runs that matching leaves unused (stage 5, beside matching.py), said out loud.

A run's metric is compared with the shown column of the same name, and its identifying fields with the report's
cells; a name that meets neither is not used. That is right for a log's extra columns (`load_latency` where the
report shows `prefill_latency`), but a misspelt metric (`tpott [ms]` where the report shows `tpot`) or one written
without its unit (`tpot_ms`, read as an identifying field) would drop the comparison without a word. So:

- a run metric no shown column takes is a warning (`unmatched-metric`) where its name is a near miss of a shown one
  (a letter or two off, errors.near_miss) or the last part of a shown name (`show prefill.runtime` without
  `as runtime`), or where no metric of the runs is compared at all;
- an identifying field no cell takes is a warning (`unused-run-field`); one whose name reads as a shown metric with a
  unit after it (`tpot_ms`), or as a near miss of one, gets a warning of its own that says so.

Each is located at its column in the log's header where the log is perfdsl's CSV or JSON Lines (else at the file).
"""

from __future__ import annotations

import json

from .errors import Diagnostic, Location, did_you_mean, near_miss

# The formats whose headers (or keys) are the field names as written, so a field can be pointed at.
_HEADED = ("perfdsl-csv", "perfdsl-jsonl")


def unused_metrics(runs, shown: dict, used: set[str], compared_any: bool) -> list[Diagnostic]:
    """Warnings for the runs' metrics that no shown column takes (`shown`: name -> result column; `used`: metric names
    read for a shown column, such as `runtime` for a derived throughput). One per metric that is a near miss of a
    shown name; where nothing at all is compared (`compared_any` False), one more naming the rest."""
    first = _first_runs(runs, lambda run: run.metrics)
    unused = [name for name in first if name not in shown and name not in used]
    diagnostics, rest = [], []
    for name in unused:
        unit = first[name].metrics[name].unit
        close = [s for s in shown if near_miss(name, s)]
        unnamed = [s for s in shown if s.rpartition(".")[2] == name]      # `show prefill.runtime` without `as`
        if unnamed:
            hints = [f"the report shows '{unnamed[0]}' under its full name: name it `show {unnamed[0]} in {unit} as "
                     f"{name}` to compare it with the runs' '{name}'"]
        elif close:
            hints = did_you_mean(name, close) + [f"a run's metric is compared with the shown column of the same "
                                                 f"name: name the column '{close[0]} [{unit}]'"]
        else:
            rest.append(name)
            continue
        diagnostics.append(_warning(
            "unmatched-metric", f"the runs' metric '{name}' matches no metric the report shows, so it is not compared",
            first[name], name, quantity=True, hints=hints))
    if rest and not compared_any:
        names = ", ".join(f"'{n}'" for n in rest)
        plural = "s" if len(rest) > 1 else ""
        diagnostics.append(_warning(
            "unmatched-metric", f"the runs' metric{plural} {names} match{'es' if not plural else ''} no metric the "
            "report shows: nothing is compared", first[rest[0]], rest[0], quantity=True,
            hints=["the report shows " + ", ".join(f"'{s}'" for s in shown) + ": name a log's column like the "
                   "shown metric it measures (`show x.tpot in ms as tpot` takes 'tpot [ms]')"]))
    return diagnostics


def takes_metric(name: str, shown: dict, runs) -> bool:
    """Whether a run metric `name` is meant for a shown column (`shown`: name -> column): it is one, or an alias one
    takes (`e2e_latency` for `e2e`), or the runtime a shown throughput is derived from (with the runs' tokens), or a
    near miss or the last part of a shown name (a naming slip, warned about at its column by unused_metrics)."""
    from .matching import METRIC_ALIASES

    if name in shown or any(name in METRIC_ALIASES.get(s, ()) for s in shown):
        return True
    if name == "runtime" and "throughput" in shown and any("tokens" in run.identity for run in runs):
        return True
    return any(near_miss(name, s) or s.rpartition(".")[2] == name for s in shown)


def unused_identities(ignored: list[str], runs, shown: dict,
                      close: dict[str, list[str]] | None = None) -> list[Diagnostic]:
    """Warnings for identifying fields that match no cell of the report (`ignored`): one, as before, naming the
    plain ones (`backend`); one each, located, for those that read as a shown metric without its unit, and for those
    that are a near miss of an identifying field the report matches on (`close`: name -> those fields, e.g.
    'hardwre' -> ['hardware']): a misspelt --meta key or column would otherwise leave the runs ambiguous unnoticed."""
    first = _first_runs(runs, lambda run: run.identity)
    plain, diagnostics = [], []
    for name in ignored:
        metric, unit = _as_metric(name, shown)
        if metric is None and (close or {}).get(name):
            diagnostics.append(_misspelt_field(name, close[name], first.get(name), runs))
            continue
        if metric is None:
            plain.append(name)
            continue
        diagnostics.append(_warning(
            "unused-run-field", f"the runs' field '{name}' matches no cell of the report, so matching does not use "
            "it", first.get(name), name, quantity=False, hints=[metric_hint(name, shown)]))
    if plain:
        diagnostics.insert(0, _warning(
            "unused-run-field", "the runs' fields " + ", ".join(f"'{k}'" for k in plain)
            + " match no cell of the report, so matching does not use them", None, "", quantity=False,
            hints=["add a cell of that name to the report or its workload to match on it"]))
    return diagnostics


def metric_hint(name: str, shown: dict) -> str:
    """The hint for a field `name` that reads as a shown metric (`shown`: name -> result column) without its unit
    (`runtime_ms`) or as a near miss of one: the column name that makes it that metric ('runtime [ms]'). Raises
    KeyError where `name` reads as no shown metric (run_fields._as_metric gives None)."""
    metric, unit = _as_metric(name, shown)
    if metric is None:
        raise KeyError(name)
    written = f"'{metric}' in {unit}" if unit else f"'{metric}'"
    header = f"{metric} [{unit or shown[metric].unit or 'UNIT'}]"
    return (f"'{name}' may be the metric {written}: a column without a unit identifies the run; name it '{header}' "
            f"to compare it with the shown '{metric}'")


def _misspelt_field(name: str, fields: list[str], run, runs) -> Diagnostic:
    """unused-run-field for `name`, a near miss of the report's identifying `fields`: what becomes of it (left out of
    matching) and what that does where the runs lack the field meant (each run matches every value of it)."""
    meant = fields[0]
    lacking = not any(meant in r.identity for r in runs)
    effect = (f"; the runs do not give '{meant}', so a run matches every '{meant}' of the report and, matching "
              f"several points, is compared with none" if lacking else "")
    return _warning(
        "unused-run-field", f"the runs' field '{name}' matches no cell of the report, so matching does not use it"
        f"{effect}", run, name, quantity=False,
        hints=did_you_mean(name, fields) + [f"rename '{name}' to '{meant}' where it is written (the log's column, or "
                                            "the key of the side metadata: --meta, LOG.meta.json)"])


def _as_metric(name: str, shown: dict) -> tuple[str | None, str | None]:
    """(shown metric, unit text) where `name` reads as a shown metric with a unit after it (`tpot_ms`: tpot, ms), or
    (shown metric, None) where it is a near miss of one; (None, None) otherwise."""
    from .units import is_unit

    stem, _, suffix = name.rpartition("_")
    if stem and suffix and is_unit(suffix):
        for metric in shown:
            if stem == metric or near_miss(stem, metric):
                return metric, suffix
    for metric in shown:
        if near_miss(name, metric):
            return metric, None
    return None, None


def _first_runs(runs, fields) -> dict:
    """Field name -> the first run that has it, in the runs' order (`fields(run)`: the run's metrics or identity)."""
    first: dict = {}
    for run in runs:
        for name in fields(run):
            first.setdefault(name, run)
    return first


def _warning(code: str, message: str, run, name: str, *, quantity: bool, hints: list[str]) -> Diagnostic:
    location, line = (None, None) if run is None else header_place(run, name, quantity)
    return Diagnostic(code, message, location, line, hints=hints, severity="warning")


def header_place(run, name: str, quantity: bool) -> tuple[Location | None, str | None]:
    """Where the field `name` of `run` is named in its log: (the column's location in the header line, that line) for
    perfdsl's CSV and JSON Lines, (the file, None) for other formats, (None, None) where the run names no file."""
    path = run.source.rsplit(":row ", 1)[0] if ":row " in run.source else run.source.rsplit(":", 1)[0]
    if not path:
        return None, None
    if run.format not in _HEADED:
        return Location(path), None
    from .runlogs.columns import ColumnError, parse_column
    from .runlogs.files import physical_lines, read_text
    from .runlogs.perfdsl_csv import caret_span, field_spans
    from .errors import PerfError

    try:
        lines = physical_lines(read_text(path))
    except PerfError:
        return Location(path), None
    for number, line in enumerate(lines, start=1):
        if run.format == "perfdsl-csv":
            candidates = [(index, line[start:end].strip().strip('"')) for index, (start, end) in
                          enumerate(field_spans(line))]
        else:
            try:
                document = json.loads(line)
            except ValueError:
                continue
            candidates = list(enumerate(document)) if isinstance(document, dict) else []
        for index, header in candidates:
            try:
                column = parse_column(header)
            except ColumnError:
                continue
            if column.name == name and column.is_quantity == quantity:
                if run.format == "perfdsl-csv":
                    col, end = caret_span(line, index)
                else:
                    from .runlogs.perfdsl_jsonl import key_span

                    col, end = key_span(line, header)
                what = "column" if run.format == "perfdsl-csv" else "key"
                return Location(path, number, col, end, f"{what} '{header}'"), line
        if run.format == "perfdsl-csv":
            break                           # the header is the first line
    return Location(path), None
