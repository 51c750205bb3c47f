"""`perfdsl ingest LOG... -o runs.csv [--format NAME] [--meta side.json] [--window START,END]`.

Reads the logs (format detected per file unless --format names one), writes the records as perfdsl's own run log
(CSV for an output ending in .csv, JSON Lines for .jsonl; any other suffix is refused before a log is read), and
prints a one-line summary and every problem to stderr. The output is written when at least one record was read, even
if other rows or logs had problems.

Exit status (returned, for the CLI to exit with):
  0  every log was read (warnings, such as a value or row skipped, may have been printed: one per file, column
     and reason, with the count of rows)
  1  a log or the --meta file could not be read (an error located at the file, and its line where it has one): a
     file the system refuses (log-unreadable), bytes that are not UTF-8 (log-encoding), JSON that does not parse
     (bad-json), side metadata that is not a JSON object of identifying fields (bad-side). The same rule as for the
     logs and for the side metadata found beside a log; a bad --meta file stops the run before any log is read,
     with nothing written, as the side metadata it gives would be missing from every run
  2  a usage mistake: a log or --meta file that does not exist (or is a folder), unknown --format, malformed
     --window, an output whose suffix is not .csv or .jsonl, an output that is one of the inputs (refused, so a log
     is never overwritten) or that cannot be written (output.atomic_output: no folder, no permission, a full disk)
--window takes two bounds, each epoch seconds ("1744833200,1744833220") or an ISO time ("2025-04-16T19:53:20,
2025-04-16T19:53:40", read in the nvidia-smi log's time zone: see nvidia_smi.py); it selects the nvidia-smi samples
to integrate. A bound that is no time (NaN, infinity, other text, a number past the year 9999 as epoch seconds) is a
usage mistake, refused before any log is read; epoch milliseconds (1744833200000) are refused so, with the hint to
divide them by 1000, not taken as milliseconds by their size. Logs other than nvidia-smi's have no samples to select:
the window leaves them as they are, and a note says so once.
"""

from __future__ import annotations

import os
import sys
from datetime import timezone
from pathlib import Path

from ..errors import EXIT_OK, EXIT_SPEC_ERROR, Diagnostic, Location, PerfError, UsageError
from .detect import INGEST_HINT, NAMED_FORMAT_HINT
from .files import read_json, read_text, require_logs
from .load import read_logs
from .times import window_bound, window_hints
from .records import note, warning
from ..output import check_target, same_file, silence
from .side import check_side, is_side_file, misspelt_keys, side_files
from .side_unused import unused_control_keys, window_unused
from .write import write_runs_csv, write_runs_jsonl


# What each control key of side metadata does (side.py reads them); a test checks the keys equal CONTROL_KEYS.
CONTROL_KEY_HELP = {
    "columns": 'the column names of a headerless nvidia-smi log, e.g. ["timestamp", "power.draw"]',
    "window": "[start, end] of the nvidia-smi samples to integrate: epoch seconds (not ms) or ISO times",
    "utc_offset": 'the time zone of nvidia-smi\'s timestamps, e.g. "+02:00" (-12:00 .. +14:00; default UTC)',
}


def help_epilog() -> str:
    """The end of `perfdsl ingest --help`: the formats read (from the adapter registry) and the --meta keys."""
    from .load import FORMATS
    from .records import IDENTITY_ORDER
    from .side import FOLDER_FILE, LOG_SUFFIX

    width = max(len(name) for name in FORMATS)
    lines = ["formats (detected from each log's content; --format NAME forces one):"]
    lines += [f"  {name.ljust(width)}  {adapter.description}" for name, adapter in FORMATS.items()]
    lines += ["",
              "--meta SIDE.json: a JSON object of what the logs lack, copied into every run, e.g.",
              '  {"hardware": "NVIDIA H100 80GB HBM3", "n_gpus": 8, "batch": 32, "seq_len": 1024}',
              "  identifying keys: " + ", ".join(IDENTITY_ORDER),
              "    (any other name is an identifying field too, matched against a report cell of that name;",
              "     a near miss of a known key, such as 'hardwre', is kept so but warned about: misspelt-side-key)",
              "  control keys:"]
    lines += [f"    {key.ljust(10)}  {text}" for key, text in CONTROL_KEY_HELP.items()]
    lines += [
              f"  also read without --meta: {FOLDER_FILE} in a log's folder and LOG{LOG_SUFFIX} beside a log",
              "",
              "output: -o RUNS.csv (perfdsl's CSV) or -o RUNS.jsonl (JSON Lines); any other suffix is refused.",
              "a log whose runs carry no measured value is an error (no-metric; wrong-format where --format named a",
              "format that does not fit it); runs without one beside others are left out, with a warning.",
              "",
              "exit status: 0 every run written (warnings, such as skipped rows, are printed), 1 a bad log or side metadata, "
              "2 usage errors (a log that does not exist, an output that cannot be written)."]
    return "\n".join(lines)


def parse_window(text: str) -> tuple[float, float] | list[str]:
    """(start, end) epoch seconds, or [start, end] texts for the side metadata where one is an ISO time (read in each
    log's utc_offset, so read there). Raises UsageError (bad-window, exit 2) where the text is not two bounds each
    of which is epoch seconds or an ISO time (NaN and infinity are no time)."""
    parts = [p.strip() for p in text.split(",")]
    bounds = [window_bound(part, timezone.utc) for part in parts]
    if len(parts) != 2 or any(bound is None for bound in bounds):
        bad = next((part for part, bound in zip(parts, bounds) if bound is None), None)
        ms = window_hints(bad)[:-1] if len(parts) == 2 else []      # epoch milliseconds? divide by 1000
        raise UsageError(Diagnostic("bad-window", f"cannot read --window '{text}'", hints=ms + [
            "write START,END as epoch seconds (1744833200,1744833220) or ISO times "
            "(2025-04-16T19:53:20,2025-04-16T19:53:40)"]))
    try:
        return float(parts[0]), float(parts[1])
    except ValueError:
        return parts


def read_side_file(path: str) -> dict:
    """The side metadata of `--meta PATH` (a file that exists and is no folder: require_logs, exit 2), a JSON object
    checked by side.check_side. Raises PerfError (exit 1) located at the file where its content cannot be used: the
    system refuses to read it (log-unreadable), it is not UTF-8 (log-encoding) or not valid JSON (bad-json, at its
    line and column), or it is not side metadata (bad-side). A bad file's content is a bad input, as a bad log or
    a bad LOG.meta.json beside a log is; only a file that is not there is a mistake in the command line."""
    text = read_text(path)
    return check_side(read_json(path, text, "side file"), path, error=PerfError, text=text)


def refuse_overwrite(logs: list[str], output: str, side_file: str | None = None) -> None:
    """No output over anything ingest reads, however the path is spelled (relative, absolute, through a symbolic
    or hard link): the logs, the --meta file, and the side metadata found beside each log. An output named like
    side metadata is refused too: the next ingest would read the runs as metadata."""
    inputs = [(log, "a log to read") for log in logs]
    inputs += [(side_file, "the side metadata (--meta)")] if side_file else []
    inputs += [(str(p), "side metadata of a log") for log in logs for p in side_files(Path(log))]
    for item, what in inputs:
        if same_file(output, item):
            raise UsageError(Diagnostic("output-is-input", f"the output '{output}' is also {what}",
                                        Location(item), hints=[f"write the runs to another file, e.g. -o "
                                                               f"{_other_output(output, [i for i, _ in inputs])}"]))
    if is_side_file(output):
        raise UsageError(Diagnostic("bad-output", f"the output '{output}' is named like side metadata",
                                    hints=["write the runs to a .csv or .jsonl file, e.g. -o runs.csv"]))
    output_writer(output)
    check_target(Path(output))


def _other_output(output: str, inputs: list[str]) -> str:
    """A name for the output that is none of the inputs: `output` with `.ingested` before its suffix, in its folder
    (`runs.csv` -> `runs.ingested.csv`; a suggestion of `-o runs.csv` to `ingest runs.csv -o runs.csv` named the
    refused file again), numbered where that is an input too."""
    import os

    stem, suffix = os.path.splitext(output)
    for number in ["", *range(2, 100)]:
        candidate = f"{stem}.ingested{number}{suffix}"
        if not any(same_file(candidate, item) for item in inputs):
            return candidate
    return candidate


# What ingest writes, by the output's suffix (any case): perfdsl's CSV or JSON Lines. Nothing else: `-o runs.json` or
# `-o runs.xlsx` wrote CSV text under that name before, which the next reader took for JSON or a workbook.
OUTPUT_SUFFIXES = {".csv": write_runs_csv, ".jsonl": write_runs_jsonl}


def output_writer(output: str):
    """The writer of the output's suffix (write_runs_csv for .csv, write_runs_jsonl for .jsonl, in any case; CSV for a
    device or pipe such as /dev/stdout, which has no suffix to tell). Raises UsageError (bad-output, exit 2) for any
    other suffix, or none, as `eval -o x.foo` does, before a log is read."""
    suffix = Path(output).suffix
    if suffix.lower() in OUTPUT_SUFFIXES:
        return OUTPUT_SUFFIXES[suffix.lower()]
    if os.path.exists(output) and not os.path.isfile(output) and not os.path.isdir(output):
        return write_runs_csv       # a device or FIFO (/dev/stdout, /dev/full): written in place, as eval does
    from ..errors import did_you_mean

    hints = did_you_mean(suffix.lower(), OUTPUT_SUFFIXES) if suffix else []
    base = Path(output).with_suffix("") if Path(output).name else Path("runs")
    raise UsageError(Diagnostic("bad-output", f"cannot tell the format of '{output}' from its suffix: ingest writes "
                                ".csv (perfdsl's CSV) or .jsonl (JSON Lines)",
                                hints=hints + [f"write -o {base}.csv or -o {base}.jsonl"]))


def ingest_command(logs: list[str], output: str, format: str | None, side_file: str | None,
                   window: str | None) -> int:
    """`perfdsl ingest`: run() with a PerfError (a usage mistake, an output that is an input, a failed write) printed to
    stderr instead of raised; returns the exit status (0, 1 or 2; see the module docstring)."""
    try:
        return run(logs, output, format, side_file, window)
    except PerfError as exc:  # usage mistakes, and a write that failed (e.g. mixed dimensions)
        print(exc.render(), file=sys.stderr)
        return exc.exit_status


def run(logs: list[str], output: str, format: str | None, side_file: str | None, window: str | None) -> int:
    """Read `logs` (format detected per file, or `format`), with the side metadata of `side_file` and the `window` text
    of --window, and write every record read to `output` (CSV for .csv, JSON Lines for .jsonl); the problems and a
    one-line summary go to stderr. Returns 1 where a log had an error, else 0 (warnings included); nothing is written
    where no record was read. Raises UsageError (exit 2) for an output that is one of the inputs, named like side
    metadata, of a suffix other than .csv and .jsonl, or that cannot be written, a log or --meta file that does not
    exist, a bad --window, an unknown --format; PerfError (exit 1) for a --meta file whose content cannot be used
    (read_side_file)."""
    refuse_overwrite(logs, output, side_file)
    require_logs(logs)
    if side_file:
        require_logs([side_file], "the side metadata")
    side = read_side_file(side_file) if side_file else {}
    epoch_window = None
    if window is not None:
        parsed = parse_window(window)
        if isinstance(parsed, list):
            side = {**side, "window": parsed}
        else:
            epoch_window = parsed
    # The --meta file's control keys are warned at their keys below, an ISO --window in a note (window_unused)
    result = read_logs(logs, format, side=side, window=epoch_window, warn_given_side=False)
    for problem in result.problems:
        if problem.code == "unknown-format":       # here --format names the logs' format: say it directly
            problem.hints = [hint.replace(NAMED_FORMAT_HINT, INGEST_HINT) for hint in problem.hints]
    if side_file:
        # --meta may name a log's own side file too, whose keys load_runs has checked already: said once, here.
        result.problems = [p for p in result.problems if not (p.code == "misspelt-side-key" and p.location is not None
                                                              and _same_file(p.location.file, side_file))]
        result.problems[:0] = misspelt_keys(side, side_file)
        read = [(log, r.format) for log in logs for r in result.records if r.source.startswith(f"{log}:")]
        result.problems.extend(unused_control_keys({side_file: list(dict.fromkeys(read))}))
    if window is not None:
        result.problems.extend(window_unused(logs, result.records, "--window"))
    for log in logs:
        result.problems.extend(unmatchable(log, [r for r in result.records if r.source.startswith(f"{log}:")]))
    failed = [p for p in result.problems if p.severity in ("error", "warning")]
    errors = any(p.severity == "error" for p in failed)
    # The runs are written first: a reader of stderr that stops early (`2>&1 | head`) leaves them and the status as
    # they would be (it lost both before: no file, and exit status 0). A write that fails is raised after the
    # problems are told, as before.
    failure = None
    if result.records:
        try:
            output_writer(output)(result.records, output)
        except PerfError as exc:
            failure = exc
    try:
        for problem in result.problems:
            print(problem.render(), file=sys.stderr)
        if failure is None:
            print(summary(logs, output, result, failed), file=sys.stderr)
        sys.stderr.flush()
    except BrokenPipeError:
        silence(sys.stderr)
    if failure is not None:
        raise failure
    return EXIT_SPEC_ERROR if errors else EXIT_OK


def _same_file(one: str, other: str) -> bool:
    try:
        return os.path.samefile(one, other)
    except OSError:
        return False


def summary(logs: list[str], output: str, result, failed: list[Diagnostic]) -> str:
    """The line ingest ends with: "ingest: N runs from M logs (formats); wrote OUTPUT (or nothing written); E errors, W
    warnings", counting the error and warning diagnostics in `failed`."""
    formats = sorted({r.format for r in result.records})
    errors = sum(1 for p in failed if p.severity == "error")
    warnings = len(failed) - errors
    runs = f"{len(result.records)} run{'s' if len(result.records) != 1 else ''}"
    where = f"wrote {output}" if result.records else "nothing written"
    via = f" ({', '.join(formats)})" if formats else ""
    return (f"ingest: {runs} from {len(logs)} log{'s' if len(logs) != 1 else ''}{via}; {where}; "
            f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}")


def unmatchable(path: str, records: list) -> list[Diagnostic]:
    """A warning for a log whose runs name no model (nvidia-smi and Zeus logs, for one): matched to a report, such
    a run would stand for every model of the sweep, so it matches nothing until the side metadata says which.
    (A missing hardware is common and harmless where a report sweeps one GPU, so it is not warned about.)"""
    if not records or any("model" in r.identity for r in records):
        return []
    return [warning("unmatchable-runs", "the runs of this log name no model: they cannot be matched to estimates",
                    Location(path), hints=['give the model as side metadata: --meta side.json with {"model": "..."}, '
                                           f"or a file '{Path(path).name}.meta.json' beside the log"])]
