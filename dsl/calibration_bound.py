"""What a report's bound calibration says about the runs compared with it: errors on the runs it was fitted on are
in-sample.

A report that binds `calibration = NAME` imports the file `perfdsl calibrate` wrote, whose header records what it
was fitted on (calibration_report.perf_text): the command, "Report 'R'; N runs matched (of M in LOGS)" with the logs
relative to the file's folder, and each run with its log row; each fitted cell's comment gives the in-sample and
cross-validated (held-out) errors. Read here, never guessed: where the header says nothing, the note says so.
`perfdsl eval` gives the note on the console (`note[in-sample]`) and the workbook on its About sheet, from the same
parts (in_sample_parts). Which compared runs are in-sample is decided per run (in_sample_runs): a fitted run's row of
the same log, read from that log, a copy of it, or perfdsl's CSV that `perfdsl ingest` wrote of it; where only some
are, the note names them.

The bound block may be a spread of the report's own that chooses between calibrations per sweep point
(reports/seed_benchmark.perf: the single-GPU fit's spread on one GPU, the eight-GPU fit's on eight): the note then
speaks of every calibration its cells read.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field

from .errors import Diagnostic

ROLE = "calibration"
_MATCHED = re.compile(r"^# Report '[^']*'; (?P<runs>\d+) runs matched \(of \d+ in (?P<logs>.*)\); metrics ")
_ERRORS = re.compile(r"^\s*# fitted on \d+ runs, [^:]*: (?P<errors>.*)$")


@dataclass
class FittedOn:
    """A bound calibration: its block name, its file (as loaded, as messages name it), whether `perfdsl calibrate`
    wrote it, the number of runs its header says it was fitted on, the logs it names (paths as written, relative to
    its folder), the errors its comments record (in-sample and held-out, as text), its file's path from the
    current working folder (Program.path_of: the logs are found there after an os.chdir too), and the runs its header
    lists."""

    name: str
    file: str
    written_by_calibrate: bool
    runs: int | None = None
    logs: list[str] = field(default_factory=list)
    errors: str = ""
    path: str = ""
    # The runs its header lists ("# The runs:"): (identity line, sources as written, relative to its folder).
    sources: list[tuple[str, str]] = field(default_factory=list)


def fitted_on(result) -> FittedOn | None:
    """What the calibration the result's report binds records of its fit; None where the report binds none."""
    name = result.ctx.fixed_roles.get(ROLE)
    return None if name is None else _fitted(result.program, name)


def calibrations_bound(result) -> list[FittedOn]:
    """The calibrations behind the report's bound block: itself, or where `perfdsl calibrate` did not write it and
    its cells read blocks that it did write (a spread that chooses between calibrations), those, in the order they
    are read; [] where the report binds none."""
    found = fitted_on(result)
    if found is None or found.written_by_calibrate:
        return [found] if found else []
    from .linker import refs_of

    program = result.program
    names = [ref.parts[0] for cell in program.blocks[found.name].cells.values() if cell.expr is not None
             for ref in refs_of(cell.expr) if len(ref.parts) == 2 and ref.parts[0] in program.blocks]
    read = [_fitted(program, name) for name in dict.fromkeys(names)]
    return [f for f in read if f.written_by_calibrate] or [found]


def _fitted(program, name: str) -> FittedOn:
    from .calibration_report import written_by_calibrate

    block = program.blocks[name]
    source = next((m.source for m in program.modules if m.file == block.file), "")
    found = FittedOn(name, block.file, written_by_calibrate(source), path=program.path_of(block.file))
    if not found.written_by_calibrate:
        return found
    listing = False
    for line in source.split("\n"):
        run = _run_line(line) if listing else None
        if run is not None:
            found.sources.append(run)
            continue
        listing = line == "# The runs:"
        matched = _MATCHED.match(line)
        if matched and found.runs is None:
            found.runs = int(matched.group("runs"))
            found.logs = [log.strip() for log in matched.group("logs").split(", ") if log.strip()]
        errors = _ERRORS.match(line)
        if errors and not found.errors:
            found.errors = errors.group("errors").strip()
    return found


@dataclass
class _Run:
    """A run the calibration was fitted on, as its header lists it: its identity line, its log (resolved from the
    calibration's folder) and its place in that log ("row 3", "$"; "" where the source names none)."""

    label: str
    log: str
    place: str
    ingested: str = ""      # the original of a fitted run read from `perfdsl ingest`'s output: that output


def _split(source: str) -> tuple[str, str]:
    """(log, place) of a run's source: "a.csv:row 3" -> ("a.csv", "row 3"), "v.json:$" -> ("v.json", "$")."""
    from .matching import log_of

    log = log_of(source)
    return log, source[len(log) + 1:] if source.startswith(log + ":") else ""


def _run_line(text: str) -> tuple[str, str] | None:
    """(identity line, sources) of a header line "#   LABEL (SOURCES)" (calibration_report.perf_text); the sources may
    hold parentheses of their own ("smi.csv:rows 1-25 (GPU 0)"): the last balanced group is theirs."""
    if not text.startswith("#   ") or not text.endswith(")"):
        return None
    depth = 0
    for index in range(len(text) - 1, 3, -1):
        depth += {")": 1, "(": -1}.get(text[index], 0)
        if depth == 0:
            return text[4:index].rstrip(), text[index + 1:-1]
    return None


def _folder(found: FittedOn) -> str:
    """The calibration file's folder, absolute: its header's log paths are relative to it."""
    return os.path.dirname(os.path.abspath(found.path or found.file))


def fitted_runs(found: FittedOn) -> list[_Run]:
    """The runs the calibration's header lists ("# The runs:", one line per sweep point, its runs' sources joined by
    "; "), each log resolved from the calibration's folder; [] where the header lists none."""
    folder = _folder(found)
    runs = []
    for label, sources in found.sources:
        for source in sources.split("; "):
            log, place = _split(source)
            runs.append(_Run(label, os.path.normpath(os.path.join(folder, log)), place))
    return runs


class _SameFile:
    """Whether a compared log is a log the calibration was fitted on, remembering each file's content hash:
    "same" (the same file), "copy" (another file of the same content, its line ends aside: the same runs in the same
    rows; a copy made through Python's text mode or git on Windows has its "\r\n" as "\n"), "name" (the fitted log is
    not where the header says, its relative path written on another checkout, and the compared one has its file
    name), or None. Where the fitted log is there, a file of the same name and other content is another log (another
    model's rate1.00.json), not the runs fitted on."""

    def __init__(self):
        self.hashes: dict[str, str] = {}
        self.said: dict[tuple[str, str], str | None] = {}

    def digest(self, path: str) -> str:
        real = os.path.realpath(path)
        if real not in self.hashes:
            with open(real, "rb") as file:
                self.hashes[real] = hashlib.sha256(file.read().replace(b"\r\n", b"\n")).hexdigest()
        return self.hashes[real]

    def __call__(self, compared: str, fitted: str) -> str | None:
        if (compared, fitted) not in self.said:
            self.said[compared, fitted] = self._how(compared, fitted)
        return self.said[compared, fitted]

    def _how(self, compared: str, fitted: str) -> str | None:
        if not os.path.isfile(fitted):
            return "name" if os.path.basename(compared) == os.path.basename(fitted) else None
        if not os.path.isfile(compared):
            return None
        if os.path.realpath(compared) == os.path.realpath(fitted):
            return "same"
        try:
            return "copy" if self.digest(compared) == self.digest(fitted) else None
        except OSError:
            return None


def _read_as(run) -> list[tuple[str, str, bool]]:
    """Where a compared run can be said to come from: (log, place, ingested) for its own source and, where it was
    read from perfdsl's CSV or JSON Lines, for the source its `source` column gives (`perfdsl ingest` writes there the
    run's original log and place, with the log's path as ingest was given it: found from the working folder or the
    CSV's folder)."""
    log, place = _split(run.source)
    out = [(log, place, False)]
    original = run.extra.get("source") if isinstance(run.extra, dict) else None
    if isinstance(original, str) and original:
        path, at = _split(original)
        places = [path] if os.path.isabs(path) else [path, os.path.join(os.path.dirname(log), path)]
        there = [p for p in dict.fromkeys(places) if os.path.isfile(p)] or [path]
        out += [(p, at, True) for p in there]
    return out


@dataclass
class InSample:
    """Which compared runs a calibration was fitted on: those runs with the fitted run each is (its identity line as
    the header writes it), how each compared log holding one relates to the fitted logs (log -> "same", "copy",
    "ingested", "original" or "name", _SameFile), and whether any compared log is a fitted log at all (its fitted runs
    unmatched)."""

    runs: list[tuple[object, str]] = field(default_factory=list)
    logs: dict[str, tuple[str, str]] = field(default_factory=dict)     # compared log -> (how, fitted log)
    log_shared: bool = False


def in_sample_runs(found: list[FittedOn], comparison, same: _SameFile | None = None) -> InSample:
    """The compared runs (comparison.matched_runs) that the calibrations `found` were fitted on.

    A compared run is one a calibration was fitted on where its header lists a run with the same place ("row 3",
    "$") in the same log, read (1) from that log, (2) from a copy of it (the same content hash, line ends aside: the
    same runs), or (3) from perfdsl's CSV that `perfdsl ingest` wrote of it, whose `source` column names that log and
    place (the file or a copy of it); or (4), where the fitted log is such a CSV and is there, from the log its
    `source` column names for that row (_ingested_from). Where the fitted log is not where the header says (written
    on another checkout), a log of the same file name stands for it, as before. A header that lists no runs (written
    before it did): every run of a log the calibration names.

    The identity line alone is not used: the header records no measured values, so it cannot tell the run fitted on
    from a new measurement of the same configuration in another log, which the fit did not see (its error is out of
    sample)."""
    same = same or _SameFile()
    out = InSample()
    runs = [(f, run) for f in found for run in fitted_runs(f)]
    originals: list | None = None
    logs = [(f, os.path.normpath(os.path.join(_folder(f), log)))
            for f in found for log in f.logs]
    for log in comparison.logs:
        if any(same(log, fitted) for _, fitted in logs):
            out.log_shared = True

    def find(path: str, place: str, candidates) -> tuple[_Run, str] | None:
        for _, fitted in candidates:
            how = same(path, fitted.log) if fitted.place == place else None
            if how:
                return fitted, how
        return None

    for run in getattr(comparison, "matched_runs", []):
        hit = None
        for path, place, ingested in _read_as(run):
            at = find(path, place, runs)
            if at is None and any(f.sources for f in found):
                if originals is None:
                    originals = _ingested_from(runs)      # read only where a compared run is not found directly
                at = find(path, place, originals)
            if at is not None:
                fitted, how = at
                hit = (fitted.label, "ingested" if ingested else "original" if fitted.ingested else how,
                       fitted.ingested or fitted.log)
            else:
                at_log = next(((fitted, how) for f, fitted in logs if not f.sources    # a header without its runs:
                               for how in [same(path, fitted)] if how), None)          # the log stands for them
                if at_log is not None:
                    hit = ("", "ingested" if ingested else at_log[1], at_log[0])
            if hit is not None:
                break
        if hit is not None:
            label, how, fitted_log = hit
            out.runs.append((run, label))
            out.logs.setdefault(_split(run.source)[0], (how, os.path.relpath(fitted_log)
                                                        if os.path.isfile(fitted_log) else fitted_log))
            out.log_shared = True
    return out


def _ingested_from(runs: list[tuple[FittedOn, _Run]]) -> list[tuple[FittedOn, _Run]]:
    """For fitted runs read from perfdsl's CSV or JSON Lines that is there (`perfdsl ingest`'s output, its `source`
    column naming each run's original log and place), each run at that original place, where that log is there too
    (found from the working folder or the file's folder, as _read_as finds it): the same run, compared from the log
    it was ingested from. A row without a source, or one whose log is not found, gives none."""
    from .errors import PerfError
    from .runlogs import load_runs

    read: dict[str, dict[str, object]] = {}
    out = []
    for f, run in runs:
        if not run.log.endswith((".csv", ".jsonl")) or not os.path.isfile(run.log):
            continue
        if run.log not in read:
            try:
                read[run.log] = {_split(record.source)[1]: record for record in load_runs([run.log]).records}
            except PerfError:
                read[run.log] = {}
        record = read[run.log].get(run.place)
        if record is None:
            continue
        for path, place, ingested in _read_as(record):
            if ingested and os.path.isfile(path):
                out.append((f, _Run(run.label, os.path.normpath(os.path.abspath(path)), place, run.log)))
    return out


def _compared_here(shared: InSample, named: set[str] = frozenset()) -> str:
    """The compared logs that hold runs fitted on, each with how it holds them: "runs.csv", "copy.csv (a copy of
    runs.csv)", "runs_ingested.csv (ingested from them: its source column names the runs fitted on)"; but not those
    `named` (the note has named them with the logs fitted on: _logs_named)."""
    said = []
    for log, (how, fitted) in shared.logs.items():
        if log in named:
            continue
        said.append(f"{log} (a copy of {fitted})" if how == "copy" else
                    f"{log} (`perfdsl ingest` of them: its source column names the runs fitted on)"
                    if how == "ingested" else f"{log} (whose runs {fitted} was ingested from)"
                    if how == "original" else log)
    return ", ".join(said)


_LISTED = 10


def _only_some(shared: InSample, comparison, fitted: str) -> list[str]:
    """Where only some compared runs are runs the fit saw, a line naming them (the first 10): their identity as the
    calibration's header writes it and their source here; [] where every compared run is one."""
    n = len(getattr(comparison, "matched_runs", []))
    k = len(shared.runs)
    if k >= n:
        return []
    named = [f"{label} ({run.source})" if label else run.source for run, label in shared.runs[:_LISTED]]
    more = f"; and {k - _LISTED} more" if k > _LISTED else ""
    which = "is a run" if k == 1 else "are runs"
    only = "its errors are" if k == 1 else "their errors are"
    return [f"{k} of the {n} runs compared {which} {fitted} fitted on, and only {only} in-sample: "
            + "; ".join(named) + more]


def _shown(found: FittedOn, log: str) -> str:
    """A log the calibration names, relative to the working folder where it is there, else as the file writes it."""
    path = os.path.join(_folder(found), log)
    return os.path.relpath(path) if os.path.isfile(path) else log


def _logs_named(found: list[FittedOn], shared: InSample) -> tuple[list[str], set[str], int]:
    """The logs of `found` as the note names them, each once: one text per calibration ("rate1.00.json,
    rate2.00.json"), where only some of them are compared here each of those marked ("rate1.00.json (compared here),
    rate2.00.json"); the compared logs (shared.logs's keys) that this names, so that _compared_here leaves them out:
    a fitted log compared as itself, or one that stands for a fitted log by its name, under the name the note gives
    that fitted log; and, where every log named is compared here, how many logs they are (the note then says so once,
    after them, rather than naming them all again), else 0."""
    logs = [[(_shown(f, log), os.path.realpath(os.path.join(_folder(f), log))) for log in f.logs] for f in found]
    shown = {real: text for pairs in logs for text, real in pairs}
    covered, compared = set(), set()
    for log, (how, fitted) in shared.logs.items():
        # a log compared as itself; or, its fitted log not where the header says (a header whose runs are written
        # from the folder calibrate ran in: reports/seed_a5000_calibration.perf), one the note names as compared
        real = os.path.realpath(fitted) if how == "same" else \
            next((real for real, text in shown.items() if text == log), None) if how == "name" else None
        if real in shown:
            covered.add(log)
            compared.add(real)
    every = len(shown) if shown and set(shown) <= compared else 0
    texts = [", ".join(f"{text} (compared here)" if real in compared and not every else text
                       for text, real in pairs) for pairs in logs]
    return texts, covered, every


def _those_logs(count: int) -> str:
    return "that log is compared here" if count == 1 else "those logs are compared here"


HELD_OUT = ("cross-validated (held-out) errors per run: `perfdsl calibrate --residuals` with the command in its "
            "header; costmodels/README.md gives them")


def in_sample_parts(result, comparison) -> tuple[bool, str, list[str]] | None:
    """(in-sample, headline, details) for a report that binds a calibration and is compared with runs
    (matching.Comparison: its logs and the runs matched): in-sample is True where a run compared is one the
    calibration was fitted on (in_sample_runs says which). None where the report binds no calibration or no log is
    compared."""
    found = calibrations_bound(result)
    if not found or comparison is None or not comparison.logs:
        return None
    if len(found) == 1 and found[0].name == result.ctx.fixed_roles.get(ROLE):
        return _one_calibration(found[0], comparison)
    return _calibrations_read(result.ctx.fixed_roles[ROLE], found, comparison)


def _one_calibration(found: FittedOn, comparison) -> tuple[bool, str, list[str]]:
    where = f"the report binds calibration '{found.name}' ({found.file})"
    if not found.written_by_calibrate or found.runs is None:
        what = "which does not say what it was fitted on" if not found.written_by_calibrate else \
            "written by `perfdsl calibrate`; its header does not say which runs it was fitted on"
        return False, f"{where}, {what}", ["if its cells were fitted on the runs compared here, their errors are "
                                           "in-sample"]
    held = [f"its file records {found.errors}"] if found.errors else []
    shared = in_sample_runs([found], comparison)
    (logs,), named, every = _logs_named([found], shared)
    if every:
        fitted = f"fitted by `perfdsl calibrate` on {found.runs} runs of {logs} (its header lists them); " \
            + _those_logs(every)
    elif named:             # only some: each marked "(compared here)"
        fitted = f"fitted by `perfdsl calibrate` on {found.runs} runs (its header lists them) of {logs}"
    else:
        fitted = f"fitted by `perfdsl calibrate` on {found.runs} runs of {logs} (its header lists them)"
    if shared.runs:
        others = _compared_here(shared, named)
        return True, (f"errors on the runs calibration '{found.name}' was fitted on are in-sample: the fit saw them, "
                      "so they do not test the model"), [f"{where}, {fitted}"
                                                         + (f"; {others} is compared here" if others else "")] \
            + _only_some(shared, comparison, "it was") + held + [HELD_OUT]
    return False, f"{where}, {fitted}", [_none_compared(shared)] + held


def _none_compared(shared: InSample) -> str:
    return ("none of the runs it was fitted on is compared here" if shared.log_shared else
            "none of those logs is compared here") + ": these errors are out of sample"


def _calibrations_read(bound: str, found: list[FittedOn], comparison) -> tuple[bool, str, list[str]]:
    """in_sample_parts for a bound spread block that reads the calibrations `found` (each written by calibrate)."""
    names = " and ".join(f"'{f.name}'" for f in found)
    where = f"the report binds '{bound}', which reads calibrations {names}"
    held = [f"'{f.name}' records {f.errors}" for f in found if f.errors]
    shared = in_sample_runs(found, comparison)
    logs, named, every = _logs_named(found, shared)
    fitted = [f"'{f.name}' ({f.file}) was fitted by `perfdsl calibrate` on "
              + (f"{f.runs} runs of {text}" if f.runs is not None else "runs its header does not name")
              for f, text in zip(found, logs)]
    if shared.runs:
        others = _compared_here(shared, named)
        compared = ([_those_logs(every)] if every else []) + ([f"{others} is compared here"] if others else [])
        return True, (f"errors on the runs calibrations {names} were fitted on are in-sample: the fit saw them, so "
                      "they do not test the model"), ["; ".join([where] + fitted + compared)] \
            + _only_some(shared, comparison, "they were") + held + [HELD_OUT]
    return False, f"{where}; {'; '.join(fitted)}", [_none_compared(shared).replace(" it was ", " they were ")] + held


def in_sample_text(result, comparison) -> str | None:
    """The note in words, for the workbook's About sheet; None where in_sample_parts is None."""
    parts = in_sample_parts(result, comparison)
    if parts is None:
        return None
    inside, headline, details = parts
    if not inside:
        return "Calibration: " + headline + "; " + "; ".join(details) + "."
    fitted = "they were" if len(calibrations_bound(result)) > 1 else "it was"
    return ("In-sample errors: " + details[0] + f": the errors on the runs {fitted} fitted on are in-sample (the fit "
            "saw them; they do not test the model). " + ". ".join(d[:1].upper() + d[1:] for d in details[1:]) + ".")


def in_sample_note(result, comparison) -> Diagnostic | None:
    """`note[in-sample]` for `perfdsl eval`'s console, located at the calibration file, where a run compared is one
    the calibration was fitted on; None otherwise (an out-of-sample comparison needs no note there)."""
    parts = in_sample_parts(result, comparison)
    if parts is None or not parts[0]:
        return None
    from .errors import Location

    _, headline, details = parts
    return Diagnostic("in-sample", headline, Location(calibrations_bound(result)[0].file), notes=details[:-1],
                      hints=[details[-1]], severity="note")
