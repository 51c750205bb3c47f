"""What a report's bound calibration says about the runs compared with it: errors on the runs it was fitted on are
in-sample.

A report that binds `calibration = NAME` imports the file `perfdsl calibrate` wrote, whose header records what it
was fitted on (calibration_report.perf_text): the command, "Report 'R'; N runs matched (of M in LOGS)" with the logs
relative to the file's folder, and each run with its log row; each fitted cell's comment gives the in-sample and
cross-validated (held-out) errors. Read here, never guessed: where the header says nothing, the note says so.
`perfdsl eval` gives the note on the console (`note[in-sample]`) and the workbook on its About sheet.

The bound block may be a spread of the report's own that chooses between calibrations per sweep point
(reports/seed_benchmark.perf: the single-GPU fit's spread on one GPU, the eight-GPU fit's on eight): the note then
speaks of every calibration its cells read.
"""

from __future__ import annotations

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
    its folder), the errors its comments record (in-sample and held-out, as text), and its file's path from the
    current working folder (Program.path_of: the logs are found there after an os.chdir too)."""

    name: str
    file: str
    written_by_calibrate: bool
    runs: int | None = None
    logs: list[str] = field(default_factory=list)
    errors: str = ""
    path: str = ""


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
    for line in source.split("\n"):
        matched = _MATCHED.match(line)
        if matched and found.runs is None:
            found.runs = int(matched.group("runs"))
            found.logs = [log.strip() for log in matched.group("logs").split(", ") if log.strip()]
        errors = _ERRORS.match(line)
        if errors and not found.errors:
            found.errors = errors.group("errors").strip()
    return found


def shared_logs(found: FittedOn, compared: list[str]) -> list[str]:
    """The logs compared here (as given) that the calibration names: the same file, or (its relative path written
    on another checkout, so found elsewhere) a file of the same name."""
    folder = os.path.dirname(os.path.abspath(found.path or found.file))
    real = {os.path.realpath(os.path.join(folder, log)) for log in found.logs}
    names = {os.path.basename(log) for log in found.logs}
    return [log for log in compared if os.path.realpath(log) in real or os.path.basename(log) in names]


def _shown(found: FittedOn, log: str) -> str:
    """A log the calibration names, relative to the working folder where it is there, else as the file writes it."""
    path = os.path.join(os.path.dirname(os.path.abspath(found.path or found.file)), log)
    return os.path.relpath(path) if os.path.isfile(path) else log


HELD_OUT = ("cross-validated (held-out) errors per run: `perfdsl calibrate --residuals` with the command in its "
            "header; costmodels/README.md gives them")


def in_sample_parts(result, logs: list[str]) -> tuple[bool, str, list[str]] | None:
    """(in-sample, headline, details) for a report that binds a calibration and is compared with the run logs `logs`:
    in-sample is True where a log compared is one the calibration was fitted on. None where the report binds no
    calibration or no log is compared."""
    found = calibrations_bound(result)
    if not found or not logs:
        return None
    if len(found) == 1 and found[0].name == result.ctx.fixed_roles.get(ROLE):
        return _one_calibration(found[0], logs)
    return _calibrations_read(result.ctx.fixed_roles[ROLE], found, logs)


def _one_calibration(found: FittedOn, logs: list[str]) -> tuple[bool, str, list[str]]:
    where = f"the report binds calibration '{found.name}' ({found.file})"
    if not found.written_by_calibrate or found.runs is None:
        what = "which does not say what it was fitted on" if not found.written_by_calibrate else \
            "written by `perfdsl calibrate`; its header does not say which runs it was fitted on"
        return False, f"{where}, {what}", ["if its cells were fitted on the runs compared here, their errors are "
                                           "in-sample"]
    fitted = (f"fitted by `perfdsl calibrate` on {found.runs} runs of {', '.join(_shown(found, log) for log in found.logs)}"
              " (its header lists them)")
    held = [f"its file records {found.errors}"] if found.errors else []
    shared = shared_logs(found, logs)
    if shared:
        return True, (f"errors on the runs calibration '{found.name}' was fitted on are in-sample: the fit saw them, "
                      "so they do not test the model"), [f"{where}, {fitted}; {', '.join(shared)} is compared here"] \
            + held + [HELD_OUT]
    return False, f"{where}, {fitted}", ["none of those logs is compared here: these errors are out of sample"] + held


def _calibrations_read(bound: str, found: list[FittedOn], logs: list[str]) -> tuple[bool, str, list[str]]:
    """in_sample_parts for a bound spread block that reads the calibrations `found` (each written by calibrate)."""
    names = " and ".join(f"'{f.name}'" for f in found)
    where = f"the report binds '{bound}', which reads calibrations {names}"
    fitted = [f"'{f.name}' ({f.file}) was fitted by `perfdsl calibrate` on "
              + (f"{f.runs} runs of {', '.join(_shown(f, log) for log in f.logs)}" if f.runs is not None else
                 "runs its header does not name") for f in found]
    held = [f"'{f.name}' records {f.errors}" for f in found if f.errors]
    shared = list(dict.fromkeys(log for f in found for log in shared_logs(f, logs)))
    if shared:
        return True, (f"errors on the runs calibrations {names} were fitted on are in-sample: the fit saw them, so "
                      "they do not test the model"), [f"{where}; {'; '.join(fitted)}; {', '.join(shared)} is compared "
                                                      "here"] + held + [HELD_OUT]
    return False, f"{where}; {'; '.join(fitted)}", ["none of those logs is compared here: these errors are out of "
                                                     "sample"] + held


def in_sample_text(result, logs: list[str]) -> str | None:
    """The note in words, for the workbook's About sheet; None where in_sample_parts is None."""
    parts = in_sample_parts(result, logs)
    if parts is None:
        return None
    inside, headline, details = parts
    if not inside:
        return "Calibration: " + headline + "; " + "; ".join(details) + "."
    fitted = "they were" if len(calibrations_bound(result)) > 1 else "it was"
    return ("In-sample errors: " + details[0] + f": the errors on the runs {fitted} fitted on are in-sample (the fit "
            "saw them; they do not test the model). " + ". ".join(d[:1].upper() + d[1:] for d in details[1:]) + ".")


def in_sample_note(result, logs: list[str]) -> Diagnostic | None:
    """`note[in-sample]` for `perfdsl eval`'s console, located at the calibration file, where a log compared is one
    the calibration was fitted on; None otherwise (an out-of-sample comparison needs no note there)."""
    parts = in_sample_parts(result, logs)
    if parts is None or not parts[0]:
        return None
    from .errors import Location

    _, headline, details = parts
    return Diagnostic("in-sample", headline, Location(calibrations_bound(result)[0].file), notes=details[:-1],
                      hints=[details[-1]], severity="note")
