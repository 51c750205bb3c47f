"""A report evaluated beside its measured runs, in one call: what `perfdsl eval` does, for the Python API too.

    import perfdsl
    program = perfdsl.load("reports/seed_benchmark.perf")
    evaluated = perfdsl.evaluate_with_runs(program)                   # the report's own `measured` logs
    evaluated.comparison.table()                                      # keys, columns: Measured, Estimated, Error
    perfdsl.evaluate_with_runs(program, measured=["mine.csv"])        # these logs instead of the report's own
    perfdsl.evaluate_with_runs(program, add_measured=["more.csv"])    # these logs as well as the report's own

The steps: with `points = "runs"`, the runs' identifying values become the report's sweeps (an override given by
the caller wins); the report is evaluated; the runs are matched to its points, and with `points = "runs"` a broken
constraint's warning counts only the points the runs ask for (run_points.at_runs_points). Each log is read once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

from .errors import Diagnostic
from .matching import Comparison, check_report_logs, compare_with_runs, logs_of_report
from .result import Result


@dataclass
class Evaluated:
    """A result, its comparison with runs (None where the report has none and none were given), and every
    diagnostic of both, errors first. `exit_status` is 1 where a diagnostic is an error, else 0."""

    result: Result
    comparison: Comparison | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)

    @property
    def exit_status(self) -> int:
        """The exit status `perfdsl eval` gives this outcome: 1 (EXIT_SPEC_ERROR) where any diagnostic is an error, else
        0 (warnings and notes only)."""
        return 1 if any(d.severity == "error" for d in self.diagnostics) else 0


def run_logs(program, report: str | None, measured: Sequence[str] | None, add_measured: Sequence[str],
             base_dir: str) -> list[str]:
    """The logs to compare with: `measured` where given (it replaces the report's own `measured` cell), else the
    report's own; then `add_measured`. Paths are as given or, for the report's own, relative to the report file."""
    if measured is not None:
        own: list[str] = list(measured)
    elif program.reports:
        own = logs_of_report(program, program.blocks[program._pick_report(report)], base_dir)
    else:
        own = []
    return own + [path for path in add_measured if path not in own]


def files_read(program, files: Sequence[str], report: str | None, measured: Sequence[str] | None,
               add_measured: Sequence[str], base_dir: str) -> list[str]:
    """Every file an evaluation of `program` reads, which no output may replace: the files named, what they import,
    the run logs of every report and those given, and the side metadata beside each log (side.py's places)."""
    from pathlib import Path

    from .runlogs.side import side_files

    inputs = list(files) + [program.path_of(m.file) for m in program.modules] + list(add_measured) + list(measured or ())
    for name in program.reports:
        inputs += logs_of_report(program, program.blocks[name], base_dir)
    if program.reports:
        inputs += run_logs(program, report, measured, add_measured, base_dir)
    return inputs + [str(side) for log in list(inputs) for side in side_files(Path(log))]


def evaluate_with_runs(program, report: str | None = None, overrides: Mapping[str, object] | None = None, *,
                       measured: Sequence[str] | None = None, add_measured: Sequence[str] = (),
                       base_dir: str | None = None, compare: bool | None = None,
                       progress: Callable[[int, int], None] | None = None, in_sample: bool = True,
                       provisional: bool = True, max_rows: int | None = None) -> Evaluated:
    """Evaluate `report` of `program` and set measured runs beside it.

    measured: logs that replace the report's own `measured` cell (None: keep the report's own).
    add_measured: logs read as well. base_dir: where the report's own relative paths start when its cells carry
    no file (default: the first loaded file's folder). compare: force (True) or skip (False) matching; by default
    it runs where there are logs. in_sample: add `note[in-sample]` where the calibration the report binds was fitted
    on runs compared (its errors there test nothing); `perfdsl calibrate` passes False, since it fits anew and
    reports its own in-sample and held-out errors. max_rows: where no run logs are matched and the evaluation has
    more rows than this, it is given back unmatched (comparison None) even with `compare`, and without
    note[provisional]: the caller refuses to write so many (a workbook's XLSX_ROW_LIMIT), and matching them all
    first cost about 1.5 s a million rows and their memory. provisional: add `note[provisional]` where a shown metric reads a
    cell marked provisional (provisional.py: which, and its share of the metric, from a few evaluations of a small
    sample of the points); `calibrate`, `plot` and `explain` pass False. Raises PerfError (exit 1) for errors in the
    specs (a log the report's `measured` names that is not there among them), UsageError (exit 2) for a log given that
    does not exist or a bad override; problems inside the logs are in `diagnostics`.
    """
    from .run_points import at_runs_points, overrides_from_runs
    from .runlogs import load_runs

    if base_dir is None:
        base_dir = os.path.dirname(program.path_of(program.modules[0].file)) if program.modules else "."
    overrides = dict(overrides or {})
    read: dict[tuple[str, ...], object] = {}

    def load_once(paths):
        key = tuple(paths)
        if key not in read:
            read[key] = load_runs(paths)
        return read[key]

    from .runlogs.files import require_logs

    require_logs(list(measured or ()) + list(add_measured))        # named on the command line: exit 2
    if measured is None and program.reports:                        # named by the report: exit 1, located
        check_report_logs(program, program.blocks[program._pick_report(report)], base_dir)
    logs = run_logs(program, report, measured, add_measured, base_dir)
    from_runs = overrides_from_runs(program, report, logs, overrides, load_runs=load_once)
    result = program.evaluate_sweep(report, overrides={**from_runs, **overrides}, progress=progress)
    comparison = None
    unmatched = max_rows is not None and not logs and result.n_rows > max_rows
    if (compare or (compare is None and logs)) and not unmatched:
        comparison = compare_with_runs(result, logs, load_runs=load_once)
        if comparison.keep is not None:     # points = "runs": the points of the report are those the runs ask for
            result.warnings[:] = at_runs_points(result, comparison.asked)
    diagnostics = list(result.warnings) + (comparison.diagnostics if comparison is not None else [])
    if in_sample and comparison is not None and comparison.metrics:
        from .calibration_bound import in_sample_note

        note = in_sample_note(result, comparison)     # the bound calibration was fitted on these runs: say so
        if note is not None:
            diagnostics.append(note)
    if provisional and not unmatched:               # too many rows: the caller refuses them, and prints no note
        from .provisional import for_result, provisional_note

        note = provisional_note(for_result(result, comparison))     # shown metrics resting on provisional cells
        if note is not None:
            diagnostics.append(note)
    diagnostics.sort(key=lambda d: d.severity != "error")
    return Evaluated(result, comparison, diagnostics, logs)
