"""The command line `perfdsl` (the only module that prints).

Exit status: 0 success (warnings may have been printed), 1 errors in specs or logs, 2 usage errors (bad options,
missing files, an output that would overwrite an input or cannot be written). Diagnostics and progress go to stderr, data to stdout.
Heavy modules (numpy, lark, openpyxl, transformers) are imported inside the commands, so `perfdsl --help` is quick.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import gc
import os
import signal
import sys
import threading
import time

EXIT_OK, EXIT_SPEC, EXIT_USAGE = 0, 1, 2

FORMATS = ("table", "csv", "json", "jsonl")
_SUFFIX_FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".txt": "table", ".xlsx": "xlsx",
                   ".parquet": "parquet"}
_FILE_ONLY = ("xlsx", "parquet")            # formats chosen by the output's suffix alone
_FILE_ONLY_NAMES = {"xlsx": "a workbook", "parquet": "a Parquet file"}
_FORMAT_SUFFIX = {fmt: suffix for suffix, fmt in _SUFFIX_FORMATS.items()}
_TEXT_FORMAT_NAMES = {"table": "a table", "csv": "CSV", "json": "JSON", "jsonl": "JSON Lines"}   # FORMATS, in hints
# The format an example file name of a help takes where --format names none: -o has no default format (its suffix
# chooses), and CSV is the one every output path writes (a chunked sweep's rows too, unlike the table's .txt).
_EXAMPLE_FORMAT = "csv"


def _either(items) -> str:
    """'a, b or c': the items of a help's list, in their order."""
    items = list(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


class Progress:
    """A progress bar on stderr (tqdm) for work that takes more than about a second; nothing for quick work, where
    stderr is not a terminal (a log, a pipe, a test), or with -q. Called as progress(done, total). `scaled`: counts
    shown with a prefix (1.2M points); a small count (calibrate's 28 fits) is shown whole (3/28, not 3.00/28.0)."""

    def __init__(self, label: str, stream=None, delay: float = 1.0, unit: str = "it", quiet: bool = False,
                 scaled: bool = True):
        self.label = label
        self.stream = stream or sys.stderr
        self.delay = delay
        self.unit = unit
        self.scaled = scaled
        self.enabled = not quiet and getattr(self.stream, "isatty", lambda: False)()
        self.bar = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            from tqdm import tqdm

            # tqdm shows nothing before `delay` seconds have passed: quick work leaves no trace. A terminal that
            # gives its size as 0 columns and 0 lines (a pseudo-terminal nobody sized: `script`, some CI runners
            # and IDE consoles) gets a bar 80 columns wide on a screen of 24 lines, where tqdm would draw nothing
            # at all (it takes the bar for one below the screen's last line).
            unsized = _zero_columns(self.stream)
            self.bar = tqdm(total=total, desc=self.label, unit=self.unit, unit_scale=self.scaled, file=self.stream,
                            delay=self.delay, leave=False, dynamic_ncols=not unsized,
                            ncols=80 if unsized else None, nrows=24 if unsized else None)
        self.bar.total = total
        self.bar.update(done - self.bar.n)

    def done(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _zero_columns(stream) -> bool:
    """Whether `stream` is a terminal that gives its width as 0 columns (False where it has no descriptor or size,
    as a test's stream: tqdm then draws its bar of default width)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns == 0
    except (AttributeError, OSError, ValueError):     # io.UnsupportedOperation is both an OSError and a ValueError
        return False


# Which report runs without --report: Program._pick_report.
_REPORT_HELP = ("which report to run; by default the one report of the file(s) named, where they define one (reports "
                "of the files they import are not counted), or the one report loaded")

# --set and --at: a name given again must have the same value (_refuse_repeats).
_REPEAT_HELP = "a name given twice with different values is refused"

def _parser() -> argparse.ArgumentParser:
    from .usage_hints import UsageParser

    parser = UsageParser(          # argparse's, with hints under its usage errors (its subcommands' parsers too)
        prog="perfdsl",
        description="A spreadsheet-style, declarative cost-model language for LLM inference on GPUs.",
        epilog="Exit status: 0 success, 1 errors in specs or logs, 2 usage errors. See README.md.")
    parser.add_argument("--version", action="version", version=f"perfdsl {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser("check", help="check .perf files and print every error, sorted by location",
                           description="Check .perf files, each as its own program (with what it imports), and print "
                           "every error, sorted by location. A file whose text, and that of everything it imports, "
                           f"is unchanged since its last check is replayed from the check cache in {_cache_where()}.")
    check.add_argument("files", nargs="+", metavar="FILE", help="a .perf file, or a folder: every .perf file in it "
                       "and its subfolders")
    check.add_argument("--no-cache", action="store_true",
                       help="check every file, neither replaying nor storing results in the check cache "
                            "(`perfdsl cache info` shows what it holds, or why it is not used; PERFDSL_NO_CACHE=1 "
                            "turns every cache off)")
    check.add_argument("-j", "--jobs", type=_whole_jobs, default=None, metavar="N",
                       help=f"check on up to N processes at once, never more than the CPUs this process may use, "
                            f"each given 4 files or more (default: {_default_jobs()} here, the usable CPUs, at most 8; "
                            "1: in this process only); the output is the same for every N")
    check.add_argument("--strict", action="store_true",
                       help="treat warnings as errors: exit status 1 where any file has a warning (as eval --strict; "
                            "for a CI job that must keep the specs free of warnings)")

    cache = sub.add_parser("cache", help="where perfdsl's cache is, what it holds, and clearing it",
                           description=f"perfdsl's cache folder: {_cache_where()}. It holds check results, parsed "
                           "files and Lark's grammar tables, each rebuilt when missing. PERFDSL_NO_CACHE=1 turns every "
                           "cache off (0, false, no, off and empty do not).")
    actions = cache.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("dir", help="print the cache folder's path")
    info = actions.add_parser("info", help="the folder, whether it is used (if not: why, and the fix), and the "
                              "entries and bytes of each kind (all kinds, or those named)")
    info.add_argument("kinds", nargs="*", metavar="KIND", type=_cache_kind, help="check, parse or grammar "
                      "(default: all, and files of no kind)")
    clear = actions.add_parser("clear", help="remove perfdsl's cache files (all kinds, or those named)")
    clear.add_argument("kinds", nargs="*", metavar="KIND", type=_cache_kind, help="check, parse or grammar "
                       "(default: all)")

    ev = sub.add_parser("eval", help="evaluate a report")
    ev.add_argument("files", nargs="+", metavar="FILE", help="the report's .perf file (and any others to load)")
    ev.add_argument("--report", help=_REPORT_HELP)
    ev.add_argument("--set", dest="sets", action="append", default=[], metavar="CELL=VALUE",
                    help='override a cell or a sweep: --set batch=1,2,4  --set rtx_a5000.mem_bw="900 GB/s" '
                         f'({_REPEAT_HELP})')
    ev.add_argument("--format", choices=FORMATS, help="output format (default: table, or from -o's suffix; Parquet "
                    "and workbooks are chosen by the suffix alone: -o FILE.parquet, -o FILE.xlsx)")
    ev.add_argument("-o", "--output", metavar="OUT", help=f"write to a file ({' '.join(_SUFFIX_FORMATS)})")
    # --measured A B C, or repeated, as calibrate takes them (a shell glob of logs is the common case).
    ev.add_argument("--measured", action="extend", nargs="+", default=[], metavar="LOG",
                    help="run logs to set beside the estimates, instead of those the report's `measured` cell names "
                         "(perfdsl CSV or any format `ingest` reads)")
    ev.add_argument("--add-measured", action="extend", nargs="+", default=[], metavar="LOG",
                    help="run logs to set beside the estimates as well as the report's own")
    ev.add_argument("--strict", action="store_true", help="treat warnings (division by zero ...) as errors")
    ev.add_argument("--live", action="store_true",
                    help="with -o FILE.xlsx: the estimates as Excel formulas over an Inputs sheet, so a reader can "
                         "change a figure and see every estimate move")
    ev.add_argument("--chunk-points", type=_whole_number("points", "100000, 100_000 or 1e5"), metavar="N",
                    help="evaluate the sweep in chunks of at most N points (1e5 and 100_000 are read too): whole "
                         "blocks of its last axes, so a chunk may hold fewer (500 over last axes of 9 x 7 x 4 values: "
                         "chunks of 252), streaming the rows to the output (default: the whole sweep at once where "
                         "its arrays hold at most 1 GiB, else chunks of about 256 MiB of arrays: README.md, 'Sweeps "
                         "of any size'); a chunk costs 3.5 to 7 ms whatever its size, so a small N over a large sweep "
                         "is slow (a note says so)")
    ev.add_argument("--dask", metavar="ADDRESS", help="evaluate the chunks on the Dask cluster at ADDRESS "
                    "(tcp://HOST:8786); the results are those of the serial run (needs the extra dask: pip install "
                    "-e '.[dask]')")
    ev.add_argument("--workers", type=_whole_number("workers", "4"), metavar="N",
                    help="evaluate the chunks on a local Dask cluster of N processes, at most 4 a CPU (not with "
                         "--dask; needs the extra dask: pip install -e '.[dask]')")
    ev.add_argument("-q", "--quiet", action="store_true",
                    help="no progress bars, and no notes: the size of a large output (above 1 GB), a --chunk-points "
                         "that cuts the sweep into very many chunks (diagnostics are still written: warning[...] and "
                         "note[...], note[provisional] among them)")

    ex = sub.add_parser("explain", help="a cell's formula, value and the tree of its precedents")
    ex.add_argument("file", metavar="FILE")
    ex.add_argument("cell", metavar="CELL", help="e.g. prefill.runtime, model.params, batch")
    ex.add_argument("--report", help=_REPORT_HELP)
    ex.add_argument("--at", action="append", default=[], metavar="AXIS=VALUE",
                    help="the sweep point (axes not given take their first value; with points = \"runs\", the "
                    f"first of the runs' points that match, as eval's rows; {_REPEAT_HELP})")
    ex.add_argument("--set", dest="sets", action="append", default=[], metavar="CELL=VALUE",
                    help=f"override a cell or a sweep, as eval's --set ({_REPEAT_HELP})")
    ex.add_argument("--measured", action="extend", nargs="+", default=[], metavar="LOG",
                    help="run logs that make the points of a report with points = \"runs\" (as eval), instead of "
                    "those the report's `measured` cell names")
    ex.add_argument("--add-measured", action="extend", nargs="+", default=[], metavar="LOG",
                    help="run logs read as well as the report's own (points = \"runs\")")
    ex.add_argument("--depth", type=int, default=50, metavar="N",
                    help="how many levels of precedents to trace, 0 or more (0: the cell alone; default 50)")

    ing = sub.add_parser("ingest", help="convert run logs into perfdsl's own CSV (or JSON Lines)",
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    _lazy_epilog(ing, "runlogs.ingest", "help_epilog")
    ing.add_argument("logs", nargs="+", metavar="LOG")
    ing.add_argument("-o", "--output", required=True, metavar="OUT", help="runs.csv or runs.jsonl")
    ing.add_argument("--format", dest="log_format", metavar="NAME", help="the logs' format (default: detected)")
    ing.add_argument("--meta", metavar="SIDE.json", help="what the logs lack: model, hardware, n_gpus ...")
    ing.add_argument("--window", metavar="START,END",
                     help="time window of the nvidia-smi power logs: epoch seconds (not milliseconds: divide "
                     "those by 1000) or ISO times, e.g. 1744833200,1744833220 or "
                     "2025-04-16T19:53:20,2025-04-16T19:53:40; other logs have no samples to select")

    _plot_parser(sub)
    cal = sub.add_parser("calibrate", help="fit cells of a report's spec to measured runs (writes a .perf file)")
    cal.add_argument("file", metavar="REPORT")
    cal.add_argument("--measured", action="extend", nargs="+", default=[], metavar="RUNS",
                     help="run logs (any format `ingest` reads), instead of those the report's `measured` cell names")
    cal.add_argument("--add-measured", action="extend", nargs="+", default=[], metavar="RUNS",
                     help="run logs to fit on as well as the report's own")
    cal.add_argument("--fit", action="extend", nargs="+", default=[], metavar="CELL[=LOW..HIGH]", required=True,
                     help="the cells to fit, e.g. gpu.matmul_efficiency=0.3..1 hf_eager_profiled.kernel_overhead=0us..200us")
    cal.add_argument("--metric", action="append", default=[], metavar="NAME[=WEIGHT]",
                     help="a metric that enters the fit (default: runtime, else every measured metric)")
    cal.add_argument("--group-by", metavar="AXIS", help="leave-one-group-out cross-validation: model, hardware, "
                     "source (the run log) or any axis of the report")
    cal.add_argument("--loss", default="soft_l1", help="linear, soft_l1 (default), huber, cauchy or arctan")
    cal.add_argument("--f-scale", type=float, default=0.05, help="where the robust loss turns linear, in log "
                     "ratio, above 0 (default 0.05, about 5%%)")
    cal.add_argument("--bootstrap", type=int, default=100, metavar="N",
                     help="bootstrap refits, 0 or more (default 100; 0: none)")
    cal.add_argument("--resample", default="residuals", help="residuals (default) or runs")
    cal.add_argument("--starts", type=int, default=8, metavar="N",
                     help="fit also from N points spread over the bounds and keep the best, 0 or more (default 8)")
    cal.add_argument("--seed", type=int, default=0, metavar="N",
                     help="of the bootstrap's and the starts' random draws, 0 or more (default 0)")
    cal.add_argument("--report", help=_REPORT_HELP)
    cal.add_argument("--set", dest="sets", action="append", default=[], metavar="CELL=VALUE",
                     help=f"override cells first, e.g. --set n_gpus=1 to fit on the one-GPU runs only "
                          f"({_REPEAT_HELP})")
    cal.add_argument("-o", "--output", required=True, metavar="OUT.perf", help="the calibrated .perf file")
    cal.add_argument("--residuals", metavar="FILE", help="write the residuals per run (.csv .txt .xlsx) instead of "
                     "printing them")
    cal.add_argument("-q", "--quiet", action="store_true",
                     help="no progress bar (there is none where stderr is not a terminal)")

    imp = sub.add_parser("import-hf", help="write a .perf model block from a Hugging Face config.json (offline)")
    imp.add_argument("path", metavar="CONFIG_OR_DIR")
    imp.add_argument("--name", help="the block's name (default: from the model id)")
    imp.add_argument("--hf-id", dest="hf_id", metavar="ORG/NAME",
                     help="the model id (default: the config's _name_or_path)")
    imp.add_argument("-o", "--output", metavar="OUT", help="write to a file instead of stdout")

    err = sub.add_parser("errors", help="list the diagnostic codes, or explain one (docs/ERRORS.md)")
    err.add_argument("code", nargs="?", metavar="CODE", help="a code such as unit-mismatch")
    return parser


def _plot_parser(sub) -> None:
    plot = sub.add_parser("plot", help="draw a report: a metric over an axis, or a point's roofline (PNG/SVG/PDF)",
                          description="Draw a shown metric against an axis (one series per value of another "
                          "axis, measured runs as open diamonds, points where a shown `fits` (or a boolean "
                          "--hollow names) is false as hollow circles off the line), or with --roofline a sweep "
                          "point's operation classes under the GPU's roofs. Axes not drawn are held at --at "
                          "AXIS=VALUE, else their first value; an axis --at holds is never drawn. A report with "
                          "points = \"runs\" draws only its runs' points (eval's rows), each at its run's values "
                          "of the axes not drawn. A plot draws eval's rows: points a `where` leaves out are not drawn, and a report "
                          "with a question (best, largest, smallest, pareto) draws its answer's points only, each at "
                          "its own values of the axes not drawn; the subtitle and the printed line say how many "
                          "(\"3 of 6 points: where batch <= 4\"); the report it extends, without the question, draws the "
                          "whole sweep. Log axes where values span decades.")
    plot.add_argument("files", nargs="+", metavar="FILE", help="the report's .perf file (and any others to load)")
    plot.add_argument("-o", "--output", required=True, metavar="OUT", help="the image: .png, .svg or .pdf")
    plot.add_argument("--report", help=_REPORT_HELP)
    plot.add_argument("--set", dest="sets", action="append", default=[], metavar="CELL=VALUE",
                      help=f"override a cell or a sweep, as eval's --set ({_REPEAT_HELP})")
    plot.add_argument("--measured", action="extend", nargs="+", default=[], metavar="LOG",
                      help="run logs to draw beside the estimates, in place of the report's own `measured` logs")
    plot.add_argument("--add-measured", action="extend", nargs="+", default=[], metavar="LOG",
                      help="run logs to draw as well as the report's own")
    plot.add_argument("--at", action="append", default=[], metavar="AXIS=VALUE",
                      help=f"hold an axis at a value ({_REPEAT_HELP})")
    plot.add_argument("--y", metavar="METRIC", help="a shown cell (default: the first number shown)")
    plot.add_argument("--x", metavar="AXIS", help="the horizontal axis (default: the longest numeric axis; for a "
                      "report's best, largest or smallest, its longest `per` axis), or a shown metric: then one "
                      "curve per series along --along AXIS")
    plot.add_argument("--series", metavar="AXIS", help="one line per value of this axis")
    plot.add_argument("--panels", metavar="AXIS", help="one panel per value of this axis")
    plot.add_argument("--along", metavar="AXIS", help="with a metric as --x: the axis the curves run along")
    plot.add_argument("--hollow", action="append", metavar="BOOLEAN",
                      help="a shown boolean whose false points are drawn hollow, as a set-up that cannot run "
                      "(default: a shown fits; not one such as saturated, whose true is the bad case)")
    plot.add_argument("--roofline", action="store_true", help="the roofline of one point (choose it with --at)")


def _cache_where() -> str:
    """Where the cache folder is, for --help: its path where XDG_CACHE_HOME is set, else the default (user_cache)."""
    from .user_cache import folder_path

    folder = folder_path()
    default = "$XDG_CACHE_HOME/perfdsl, by default ~/.cache/perfdsl"
    if folder is None:
        return default
    return (f"{folder} ({default})" if os.path.isabs(os.environ.get("XDG_CACHE_HOME", "")) else
            f"{folder} (~/.cache/perfdsl; $XDG_CACHE_HOME/perfdsl where XDG_CACHE_HOME is set)").replace("%", "%%")


def _cache_kind(text: str) -> str:
    """A KIND of `perfdsl cache clear` (argparse's choices would refuse an empty list of them)."""
    from .cache_command import KINDS

    if text not in [kind.name for kind in KINDS]:
        raise argparse.ArgumentTypeError(f"no kind '{text}' (choose from {', '.join(k.name for k in KINDS)})")
    return text


def _lazy_epilog(parser: argparse.ArgumentParser, module: str, function: str) -> None:
    """The parser's help ends with text built only when the help is shown (its module is slow to import)."""
    format_help = parser.format_help

    def with_epilog() -> str:
        import importlib

        parser.epilog = getattr(importlib.import_module(f".{module}", __package__), function)()
        return format_help()

    parser.format_help = with_epilog


def _default_jobs() -> int:
    from .parallel_check import default_jobs

    return default_jobs()


def _whole_jobs(text: str) -> int:
    """--jobs N: a whole number of processes (argparse reports the ValueError as bad usage, status 2); below 1 it is
    refused by cmd_check (error[bad-option], as every count below what it means)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of processes") from None


# More local workers than this many a CPU only add processes (each a Python with numpy, the program and a chunk's
# arrays: about 0.1-0.3 GB): `--workers 100000` would start a hundred thousand of them before any point is evaluated.
WORKERS_PER_CPU = 4


def _cpus() -> int:
    """The CPUs this process may run on (its affinity where the OS says, as a container limits it), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:                  # macOS, Windows: no affinity call
        return max(1, os.cpu_count() or 1)


def _whole_number(what: str, example: str):
    """An argparse type for a count of `what` (points, workers): a whole number written as 1000000, 1_000_000 or
    1e6 (argparse's int refused 1e6 without a word of why), read as the Python API reads chunk_points
    (whole_numbers.whole_number). Its sign is checked where it is used (cmd_eval), with a help saying what to give.
    Raises ArgumentTypeError (usage, status 2) for text that is no whole number, or one past the largest taken."""
    def parse(text: str) -> int:
        from .whole_numbers import NotACount, whole_number

        try:
            return whole_number(text, what)
        except NotACount as refused:
            # a fraction or a typo is shown a number to write; a count too large has its bound in its reason
            write = "" if refused.too_large else f": write e.g. {example}"
            raise argparse.ArgumentTypeError(f"'{text}' is {refused.reason}{write}") from None

    parse.__name__ = f"whole number of {what}"        # argparse names the type by it in some messages
    return parse


def _version() -> str:
    from . import __version__

    return __version__


# What `-o -` means: standard output where a command writes text there without -o; a command that writes only a
# file says which (a file named '-' was written before, and ingest's hint was `-o -.csv`).
_DASH_FILES = {"ingest": "-o runs.csv or -o runs.jsonl", "calibrate": "-o calibration.perf (the calibrated cells)",
               "plot": "-o plot.png (or .svg, .pdf)"}


def _output_dash(args) -> None:
    """`-o -`: for eval and import-hf, standard output (as without -o: eval's --format picks the text format); for a
    command that writes a file only, error[bad-output] (UsageError, exit 2)."""
    if getattr(args, "output", None) != "-":
        return
    if args.command in _DASH_FILES:
        from .errors import UsageError, error

        raise UsageError(error("bad-output", f"`perfdsl {args.command}` writes a file, not standard output "
                               "(-o -)", hints=[f"name the file: {_DASH_FILES[args.command]}"]))
    args.output = None


def main(argv: list[str] | None = None) -> int:
    """Run one command (`argv`: the arguments after `perfdsl`, sys.argv's by default) and return its exit status:
    0, 1 (bad specs or logs), 2 (bad usage), 130 (Ctrl-C) or 128 + the signal (SIGTERM, SIGHUP). Prints
    diagnostics, never a traceback (but with PERFDSL_DEBUG=1); argparse's own usage errors exit 2 (SystemExit)."""
    try:
        parser = _parser()
        args = parser.parse_args(argv)
    except KeyboardInterrupt:                      # Ctrl-C while the command line is read
        sys.stderr.write("interrupted\n")
        return 130
    args.argv = list(sys.argv[1:] if argv is None else argv)      # as typed, for the files that record it
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    from .limits import RECURSION_LIMIT, recursion_room

    try:
        handler = {"check": cmd_check, "cache": cmd_cache, "eval": cmd_eval, "explain": cmd_explain,
                   "ingest": cmd_ingest, "import-hf": cmd_import_hf, "errors": cmd_errors, "plot": cmd_plot,
                   "calibrate": cmd_calibrate}[args.command]
        from .errors import from_command_line

        with recursion_room(), _signals_as_exceptions(), from_command_line(args.argv):
            _output_dash(args)
            return handler(args)
    except Terminated as exc:
        sys.stderr.write(f"terminated by signal {exc.signum}\n")
        return 128 + exc.signum
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except MemoryError:
        # Sizes are predicted before large work (chunks.predict_bytes), but the machine may hold less than that.
        return _out_of_memory(args.command)
    except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
        from .errors import PerfError, error

        if _is_memory_refusal(exc):
            return _out_of_memory(args.command)

        if isinstance(exc, RecursionError) and not os.environ.get("PERFDSL_DEBUG"):
            # The stages bound what input can nest (limits.py); this is the net below them.
            exc = PerfError(error("too-deep", f"the input nests deeper than perfdsl follows ({RECURSION_LIMIT:,} "
                                  "levels of formulas, cells and blocks)",
                                  hints=["shorten the chains of cells or of `extends`"]))
        if isinstance(exc, OSError):
            from .output import silence, stdout_failed

            failed = stdout_failed(exc)
            if failed is not None:            # what is left in stdout's buffer would fail again on the way out
                silence(sys.stdout)
                exc = failed
        if isinstance(exc, PerfError):
            _print_diagnostics(exc.diagnostics)
            return exc.exit_status
        if os.environ.get("PERFDSL_DEBUG"):
            raise
        sys.stderr.write(f"error[internal]: {type(exc).__name__}: {exc}\n"
                         "  = help: this is a bug in perfdsl; run again with PERFDSL_DEBUG=1 for the details "
                         "and report it\n")
        return EXIT_SPEC


def _out_of_memory(command: str) -> int:
    """error[out-of-memory] on stderr; returns EXIT_USAGE."""
    from .errors import error

    _print_diagnostics([error("out-of-memory", f"the machine ran out of memory while running `perfdsl {command}`",
                              hints=["evaluate the sweep in smaller chunks (--chunk-points N, e.g. 100000), or narrow "
                                     "its axes with --set"])])
    return EXIT_USAGE


# What the dynamic loader says where the memory limit (ulimit -v, a container's) leaves no room to map a compiled
# module imported on first use (numpy's, pydantic-core's): the memory ran out, not a bug of perfdsl. glibc's
# dlopen writes "failed to map segment from shared object"; an mmap refused writes errno ENOMEM's text.
_MEMORY_REFUSALS = ("failed to map segment", "cannot allocate memory")


def _is_memory_refusal(exc: BaseException) -> bool:
    """Whether `exc` is an import (or an OSError) that failed because no memory was left to map or allocate."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOMEM:
        return True
    return isinstance(exc, ImportError) and any(text in str(exc).lower() for text in _MEMORY_REFUSALS)


class Terminated(BaseException):
    """SIGTERM or SIGHUP, raised as an exception so that every `finally` and `except BaseException` on the way out
    runs: outputs are written to a temporary file that is removed on the way out, never left beside the target."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def _signals_as_exceptions():
    """While a command runs, SIGTERM and SIGHUP raise Terminated (as Ctrl-C raises KeyboardInterrupt).
    Only in the main thread, where Python lets a handler be set; the former handlers are restored after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_terminated(signum, _frame):
        raise Terminated(signum)

    names = [name for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    before = {name: signal.signal(getattr(signal, name), raise_terminated) for name in names}
    try:
        yield
    finally:
        for name, handler in before.items():
            signal.signal(getattr(signal, name), handler)


def _print_diagnostics(diagnostics) -> None:
    """Write the diagnostics and the count of errors and warnings on stderr. A reader that stops early (`2>&1 | head`)
    does not change the exit status the caller returns: the rest is dropped (stderr then goes to the null device,
    so that nothing more is written, nor fails, on the way out)."""
    errors = sum(1 for d in diagnostics if d.severity == "error")
    warnings = sum(1 for d in diagnostics if d.severity == "warning")
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    try:
        for diag in diagnostics:
            sys.stderr.write(diag.render() + "\n\n")
        if parts:
            sys.stderr.write(", ".join(parts) + "\n")
        sys.stderr.flush()
    except BrokenPipeError:
        from .output import silence

        silence(sys.stderr)


def _parse_sets(sets: list[str]) -> dict[str, str]:
    from .errors import UsageError, error

    overrides: dict[str, str] = {}
    for item in sets:
        target, sep, value = item.partition("=")
        if not sep or not target.strip() or not value.strip():
            raise UsageError(error("bad-option", f"cannot read --set {item}",
                                   hints=['write --set CELL=VALUE, e.g. --set batch=1,2,4 or '
                                          '--set rtx_a5000.mem_bw="900 GB/s"']))
        overrides[target.strip()] = value.strip()
    _refuse_repeats(sets, "--set")
    return overrides


def _parse_pairs(items: list[str], option: str) -> dict[str, str]:
    from .errors import UsageError, error

    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise UsageError(error("bad-option", f"cannot read {option} {item}", hints=[f"write {option} NAME=VALUE"]))
        pairs[key.strip()] = value.strip()
    _refuse_repeats(items, option)
    return pairs


def _refuse_repeats(items: list[str], option: str) -> None:
    """error[bad-option] where `option` (--set, --at) gives one name different values (`--set batch=1 --set
    batch=8`): the last would win without a word, and in a script it is almost always a slip (a line added without
    removing the one before). The same name with the same value again is taken, as one. Items are NAME=VALUE, read
    already (_parse_sets, _parse_pairs)."""
    from .errors import UsageError, error
    from .usage_hints import quoted_assignment

    from .errors import PerfError
    from .overrides import value_key
    from .parser import parse_value

    values: dict[str, dict[object, str]] = {}
    given = [name.strip() for name, _, _ in (item.partition("=") for item in items)]
    for item in items:
        name, _, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if given.count(name) < 2:       # given once: nothing to compare (a long range is not expanded)
            continue
        try:        # the same value in other words is the same (`4` and `4.0`, `3 TB/s` and `3000 GB/s`)
            key = value_key(parse_value(value, f"{option} {name}"))
        except PerfError:       # text of a string setting (`--set hf_id=org/name`), or a slip the load reports
            key = ("text", value)
        values.setdefault(name, {}).setdefault(key, value)
    for name, keyed in values.items():
        given = list(keyed.values())
        if len(given) < 2:
            continue
        said = [f"{option} {quoted_assignment(name, value)}" for value in given]
        said = f"{', '.join(said[:-1])} and {said[-1]}"
        if option == "--set":
            message = f"{said} set '{name}' to different values"
            hint = f"give --set {name} once, with the value meant"
            if not any(".." in value or " by " in value or value.startswith("[") for value in given):
                hint += f" (a list sweeps them all: --set {quoted_assignment(name, ','.join(given))})"
        else:
            message = f"{said} hold '{name}' at different values"
            hint = f"give {option} {name} once: a point has one value of each axis"
        raise UsageError(error("bad-option", message, hints=[hint + "; the same value given again is taken"]))


def cmd_check(args) -> int:
    """Each file is checked as its own program (with what it imports): two reports that both define a block
    `prefill` are fine, as they are when evaluated one at a time. A file whose text and imports are unchanged since
    its last check is replayed from the check cache (check_cache.py) without parsing: nothing heavier than the
    standard library is imported unless some file must be checked."""
    from .check_cache import CheckCache
    from .errors import dedupe
    from .gc_pauses import CHECK_FIRST_GENERATION, FIRST_GENERATION, fewer_collections

    started = time.perf_counter()
    if args.jobs is not None and args.jobs < 1:
        from .errors import UsageError, error

        raise UsageError(error("bad-option", f"-j {args.jobs}: a check runs on at least one process",
                               hints=["give the most processes to check on, 1 or more (e.g. -j 2; -j 1: in this "
                                      "process only), or leave out -j for the CPUs this process may use"]))
    args.files, skipped = _check_targets(args.files)
    missing = [f for f in args.files if not os.path.isfile(f)]
    if missing:
        from .loader import load_modules

        load_modules(missing)                      # raises the usage error that names every missing file
    cache = None if getattr(args, "no_cache", False) else CheckCache.open({"command": "check"})
    if cache is None and not getattr(args, "no_cache", False):
        _say_why_the_cache_is_off()
    diagnostics, modules = list(skipped), {}
    checker = _FileChecker(cache)
    progress = Progress("checking", unit="files", scaled=False)      # 67/182 files, not 67.0/182
    # Many lasting objects, little garbage (gc_pauses.py); in the `perfdsl` command, which ends when the check
    # does, fewer passes still (CHECK_FIRST_GENERATION). An embedding caller (a notebook, a test) keeps the usual.
    with fewer_collections(CHECK_FIRST_GENERATION if _ENDS_AT_ONCE else FIRST_GENERATION):
        for checked in _checked_files(args.files, cache, checker, args.jobs, progress):
            diagnostics.extend(checked.diagnostics)
            for shown, blocks, reports in checked.modules:
                modules.setdefault(shown, (blocks, reports))
        if _ENDS_AT_ONCE:
            gc.freeze()        # the first allocation after the thresholds are given back does not pass over them
    progress.done()
    if checker.stored:                             # entries written, here or in workers: time to prune?
        cache.prune(stored=checker.stored)
    diagnostics = dedupe(diagnostics)
    if diagnostics:
        _print_diagnostics(diagnostics)
        if any(d.severity == "error" for d in diagnostics):
            return EXIT_SPEC
        if _strict_refuses(args, diagnostics):
            sys.stderr.write("--strict: warnings are errors\n")
            return EXIT_SPEC
        return EXIT_OK
    blocks = sum(count for count, _ in modules.values())
    reports = sum(count for _, count in modules.values())
    files = len(modules)
    sys.stderr.write(f"ok: {files} file{'s' if files != 1 else ''}, {blocks} block{'s' if blocks != 1 else ''}, "
                     f"{reports} report{'s' if reports != 1 else ''} ({time.perf_counter() - started:.2f} s)\n")
    return EXIT_OK


def cmd_cache(args) -> int:
    """`perfdsl cache dir | info | clear [KIND...]` (cache_command.py): the path and the report on stdout, what was
    removed on stderr; exit status 2 where a file could not be removed."""
    from . import cache_command

    if args.action == "dir":
        sys.stdout.write(cache_command.folder_text() + "\n")
        return EXIT_OK
    if args.action == "info":
        sys.stdout.write(cache_command.info_text(args.kinds))
        return EXIT_OK
    removed, size, errors = cache_command.clear(args.kinds)
    if errors:
        _print_diagnostics(errors)
    sys.stderr.write(f"removed {removed} file{'s' if removed != 1 else ''} ({cache_command.size_text(size)}) "
                     f"from {cache_command.folder_text()}\n")
    return EXIT_USAGE if errors else EXIT_OK


def _say_why_the_cache_is_off() -> None:
    """One line on stderr where the cache folder is there but refused (a file, a link, another user's, writable by
    others): a setup to mend, which would otherwise only show as every check running cold. Nothing where the user
    turned caching off, or where no folder can be made (a read-only home: nothing to mend there)."""
    from .user_cache import cache_status

    status = cache_status(create=False)
    if status.refused:
        sys.stderr.write(f"note: the check cache is off: {status.folder}: {status.reason}; {status.fix} "
                         "(perfdsl cache info)\n")


def _check_targets(items: list[str]) -> tuple[list[str], list]:
    """The files `perfdsl check` checks, and warnings about files it passed over: each item as given, but a folder
    stands for every .perf file in it and its subfolders (as linters take a folder), sorted, hidden folders (.venv,
    .git) and hidden files (an editor's `.#name.perf` lock) skipped and links to folders not followed; a link found
    in a folder whose target is missing is passed over with warning[skipped-file] (a file named on the command line
    that cannot be read stays an error). A file given twice is checked once. Raises UsageError for a folder that
    holds no .perf file."""
    from .errors import UsageError, error

    found: list[str] = []
    empty, skipped = [], []
    for item in items:
        if not os.path.isdir(item):
            found.append(item)
            continue
        inside = []
        for folder, subfolders, names in os.walk(item):
            subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
            for name in sorted(names):
                if name.startswith(".") or not name.endswith(".perf"):
                    continue
                path = os.path.join(folder, name)
                if os.path.islink(path) and not os.path.exists(path):
                    skipped.append(_skipped_link(path))
                    continue
                inside.append(path)
        if not inside:
            empty.append(error("no-such-file", f"cannot read '{item}': the folder holds no .perf file",
                               hints=["give .perf files, or folders that hold them"]))
        found.extend(inside)
    if empty:
        raise UsageError(empty)
    return list(dict.fromkeys(found)), skipped


def _skipped_link(path: str):
    """warning[skipped-file] for a link found in a folder whose target is missing."""
    from .errors import error

    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    diagnostic = error("skipped-file", f"skipped '{path}': a link to '{target}', which does not exist",
                       hints=["remove the link or mend its target; a file named on the command line is always read"])
    diagnostic.severity = "warning"
    return diagnostic


def _checked_files(files: list[str], cache, checker: "_FileChecker", jobs: int | None, progress):
    """The check_cache.Checked of each file, in the order of `files`: replayed from the check cache where it holds,
    else checked, on several processes where `jobs` (None: parallel_check.default_jobs) and the number of files to
    check allow it (parallel_check.processes_for). Raises what checking a file raises (UsageError)."""
    from . import parallel_check

    replayed = {file: cache.replay(file) for file in files} if cache is not None else {}
    todo = [file for file in files if replayed.get(file) is None]
    processes = parallel_check.processes_for(parallel_check.default_jobs() if jobs is None else jobs, len(todo))
    if processes > 1:
        checker.prepare(parsing=True)          # imported and loaded once here, before the workers are forked
        # The bar counts the files as the workers finish them (in any order), the replayed ones done from the start.
        fresh = parallel_check.check_in_processes(
            todo, checker.check_counted, processes,
            progress=lambda count: progress(len(files) - len(todo) + count, len(files)))
    else:
        fresh = ((file, *checker.check_counted(file)) for file in todo)
    done = 0
    for file, checked, stored in fresh:
        checker.stored += stored
        while files[done] != file:             # the replayed files before it, in command-line order
            yield replayed[files[done]]
            done += 1
        if processes == 1:
            progress(done, len(files))
        yield checked
        done += 1
    for file in files[done:]:
        yield replayed[file]


class _FileChecker:
    """Checks one file of `perfdsl check` as a program and stores its result in the check cache (`cache`, None where
    it is off). The checker's modules (lark, pydantic) are imported at the first file checked (or by
    `prepare`), not when every file is replayed; the programs checked in one process share one CheckSession (the
    blocks and cells they have in common) and what their loading read (`memo`, a loader.LoadMemo: the files are
    taken as they are when first looked up). `stored` counts the check-cache entries written (in worker processes
    too)."""

    def __init__(self, cache=None):
        self.cache = cache
        self.session = None
        self.stored = 0
        self.memo = None                 # loader.LoadMemo, made with the session (prepare)

    def prepare(self, parsing: bool = False) -> None:
        """Import what checking needs and make the session (before worker processes are forked from this one);
        with `parsing`, the parser too (lark and its tables, parser.load_parser), which each worker would otherwise
        import and load again (a run that parses nothing, every file in the parse cache, is rare where files are
        checked at all: a file not replayed from the check cache has mostly changed). Not numpy: a check computes
        nothing with it (sweeps.build_context with arrays=False, lazy_numpy.py)."""
        from .shared_checks import CheckSession
        from . import program  # noqa: F401 - imported here, once, rather than in each worker

        if parsing:
            from .parser import load_parser

            load_parser()
        if self.session is None:
            from .loader import LoadMemo

            self.session = CheckSession()
            self.memo = LoadMemo()

    def check_counted(self, file: str):
        """(check(file), the check-cache entries that check stored)."""
        before = self.cache.stored if self.cache is not None else 0
        checked = self.check(file)
        return checked, (self.cache.stored if self.cache is not None else 0) - before

    def check(self, file: str):
        """check_cache.Checked for `file`; raises UsageError and errors of the checker itself (PerfError too deep)."""
        from .check_cache import Checked, Recorder
        from .errors import PerfError, UsageError, reset_suggestions
        from .program import Program

        self.prepare()
        reset_suggestions()                        # each file's hints are its own (and so the same when replayed)
        recorder = Recorder()
        try:
            program = Program.load([file], session=self.session, trace=recorder, memo=self.memo)
        except UsageError:
            raise
        except PerfError as exc:                   # a parse error: keep going with the other files
            checked = Checked(exc.diagnostics)
        else:
            checked = Checked(program.check(), [(module.file, len(module.blocks),
                                                 sum(1 for block in module.blocks if block.kind == "report"))
                                                for module in program.modules])
        if self.cache is not None:
            self.cache.store(recorder, checked)
        return checked


def _not_written(args) -> str:
    """What --strict's refusal adds about an output named with -o: ' (FILE not written)', as a chunked run says it."""
    return f" ({args.output} not written)" if getattr(args, "output", None) else ""


def _output_format(args) -> str:
    from .errors import UsageError, did_you_mean, error

    if args.output:
        from .output import refuse_folder

        # a folder has no suffix: the folder is what is wrong; the help's file takes the format asked
        refuse_folder(args.output, _FORMAT_SUFFIX[args.format or _EXAMPLE_FORMAT])
        suffix = os.path.splitext(args.output)[1].lower()
        from .output import same_file

        # A .perf named as an input is error[output-is-input] (protect_inputs), the more telling of the two: said
        # here, before its suffix would be (it said "cannot tell the format").
        if suffix == ".perf" and any(same_file(args.output, file) for file in getattr(args, "files", [])):
            from .output import protect_inputs

            protect_inputs(args.output, list(args.files))
        if suffix == ".perf":
            # With --format, a .perf that was no input (another spec of the library) was overwritten with the rows.
            fmt = args.format or _EXAMPLE_FORMAT
            raise UsageError(error("bad-output", f"refusing to write the results to '{args.output}': a .perf file is "
                                   "a spec, not an output of eval",
                                   hints=[f"write them to -o {os.path.splitext(args.output)[0]}{_FORMAT_SUFFIX[fmt]}"
                                          + ("" if args.format else " (or .jsonl, .parquet, .xlsx)")]))
        by_suffix = _SUFFIX_FORMATS.get(suffix)
        if by_suffix is None and args.format is None:
            raise UsageError(error("bad-output", f"cannot tell the format of '{args.output}' from its suffix",
                                   hints=(did_you_mean(suffix, _SUFFIX_FORMATS) if suffix else [])
                                   + [f"use {_either(_SUFFIX_FORMATS)}, or give --format"]))
        if args.format and by_suffix in _FILE_ONLY:
            # --format names text formats only: with a workbook or Parquet file it would be ignored, while the user
            # asked for that format.
            raise UsageError(error("bad-output", f"--format {args.format} does not match '{args.output}'",
                                   hints=[f"the suffix {suffix} writes {_FILE_ONLY_NAMES[by_suffix]}: drop --format, "
                                          f"or write {args.format} to -o FILE{_FORMAT_SUFFIX[args.format]}"]))
        if args.format and by_suffix and by_suffix != args.format:
            raise UsageError(error("bad-output", f"--format {args.format} does not match '{args.output}'",
                                   hints=[f"the suffix {suffix} writes {_TEXT_FORMAT_NAMES[by_suffix]}: drop "
                                          f"--format, or write {_TEXT_FORMAT_NAMES[args.format]} to -o "
                                          f"{os.path.splitext(args.output)[0]}{_FORMAT_SUFFIX[args.format]}"]))
        return by_suffix if by_suffix in _FILE_ONLY else (args.format or by_suffix)
    return args.format or "table"


def cmd_eval(args) -> int:
    from .errors import PerfError
    from .measured import evaluate_with_runs, files_read
    from .output import protect_inputs, write_text_atomically
    from .program import load
    from .render import write_csv, write_json, write_table

    fmt = _output_format(args)
    if args.dask is not None:          # before anything is loaded, and never "" read as no --dask at all
        from .distributed import check_address

        check_address(args.dask)
    if args.dask and args.workers:
        from .errors import UsageError, error

        # Both name where the chunks go: one cluster or the other, never a silent choice between them.
        raise UsageError(error("bad-option", f"--dask {args.dask} and --workers {args.workers} each choose a cluster "
                               "for the chunks: give one of them",
                               hints=["--dask ADDRESS uses a running cluster, --workers N starts a local one of N "
                                      "processes"]))
    if args.live and fmt != "xlsx":
        from .errors import UsageError, error

        raise UsageError(error("bad-option", "--live writes a workbook, so it needs -o FILE.xlsx",
                               hints=["e.g. perfdsl eval REPORT.perf --live -o out.xlsx"]))
    overrides = _parse_sets(args.sets)
    if args.output:
        protect_inputs(args.output, list(args.files) + list(args.measured) + list(args.add_measured))
    program = load(args.files)
    base_dir = os.path.dirname(args.files[0])
    measured = args.measured or None
    # Never write over an input: the files named, what they import, every run log read or named, their side files.
    inputs = files_read(program, args.files, args.report, measured, args.add_measured, base_dir)
    if args.output:
        protect_inputs(args.output, inputs)

    chunk_points, overridden = _chunked(program, args, overrides, fmt)
    if chunk_points:
        return _eval_in_chunks(overridden, args, fmt, chunk_points)

    progress = Progress("evaluating", quiet=args.quiet)
    row_limit = None
    if fmt == "xlsx" and not args.live:             # live: too-large-for-live, when written
        from .workbook_layout import XLSX_ROW_LIMIT as row_limit
    evaluated = evaluate_with_runs(program, args.report, overrides, measured=measured, add_measured=args.add_measured,
                                   base_dir=base_dir, compare=True if fmt == "xlsx" else None, progress=progress,
                                   max_rows=row_limit)
    progress.done()
    result, comparison = evaluated.result, evaluated.comparison
    if evaluated.exit_status:
        raise PerfError(evaluated.diagnostics)      # errors in the logs: exit 1, and no output is written
    if row_limit is not None:
        rows = comparison.n_rows if comparison is not None else result.n_rows     # None: too many to match
        if rows > row_limit:                         # refused alone: the evaluation's warnings would bury it
            from .errors import UsageError

            raise UsageError(_workbook_too_large(result.report, rows, args.output, axes=result.axes))
    if evaluated.diagnostics:
        _print_diagnostics(evaluated.diagnostics)
        if _strict_refuses(args, evaluated.diagnostics):    # the run logs' warnings too: a value left out
            sys.stderr.write(f"--strict: warnings are errors{_not_written(args)}\n")
            return EXIT_SPEC

    if fmt == "xlsx":
        from .workbook_export import export_workbook

        progress = Progress("writing workbook", unit="rows", quiet=args.quiet)
        path = export_workbook(result, comparison, args.output, protected=inputs,
                               progress=progress, live=args.live)
        progress.done()
        sys.stderr.write(f"wrote {path} ({_rows(comparison.n_rows)})\n")
        return EXIT_OK

    keys, columns = comparison.table() if comparison is not None else result.table()
    from .intervals import with_intervals

    keys, columns = with_intervals(result, keys, columns, comparison.keep if comparison is not None else None)
    if args.output:
        from .output_size import predict_table

        _check_size(predict_table(fmt, keys, columns), args)
    progress = Progress("writing", unit="rows", quiet=args.quiet)

    def write(stream) -> None:
        if fmt == "table":
            left = write_table(keys, columns, stream)
            if left:
                sys.stderr.write(_table_cut_note(result.n_rows - left, result.n_rows) + "\n")
        elif fmt == "csv":
            write_csv(keys, columns, stream, progress)
        else:
            write_json(keys, columns, stream, lines=(fmt == "jsonl"), progress=progress)

    if fmt == "parquet":            # a sweep matched with run logs: the whole table is in memory, one row group
        from .parquet import column_kinds, write_parquet

        write_parquet(args.output, [(keys, columns)], column_kinds(result.axes, result.columns))
        rows = comparison.n_rows if comparison is not None else result.n_rows
        sys.stderr.write(f"wrote {args.output} ({_rows(rows)})\n")
        return EXIT_OK
    if args.output:
        if fmt == "table":
            import io

            from .render import TABLE_ROW_LIMIT

            buffer = io.StringIO()
            write_table(keys, columns, buffer, limit=max(result.n_rows, TABLE_ROW_LIMIT))
            write_text_atomically(args.output, buffer.getvalue())
        else:
            write_text_atomically(args.output, write)
        progress.done()
        rows = comparison.n_rows if comparison is not None else result.n_rows
        sys.stderr.write(f"wrote {args.output} ({_rows(rows)})\n")
    else:
        write(sys.stdout)
        progress.done()
        sys.stdout.flush()
    return EXIT_OK


def _chunked(program, args, overrides, fmt) -> tuple[int, object]:
    """The points per chunk where the sweep is to be evaluated in chunks (0: at once), and the program with the
    overrides applied, prepared here: a chunked run goes on with it (each with_overrides builds, links and checks a
    new program). In chunks: where asked (--chunk-points), or where the whole sweep would not fit in memory and its
    rows can be streamed or its question answered chunk by chunk. Run logs are matched over a whole evaluation
    (which refuses a sweep too large, and applies the runs' overrides and these to the loaded program itself).
    A workbook of more rows than a person reads is refused here, before anything is computed."""
    from .chunks import WHOLE_EVALUATION_BYTES
    from .errors import UsageError, error
    from .workbook_layout import XLSX_ROW_LIMIT

    if args.chunk_points is not None and args.chunk_points < 1:
        raise UsageError(error("bad-option", f"--chunk-points {args.chunk_points}: a chunk holds at least one point",
                               hints=["give a whole number of points a chunk, 1 or more (e.g. 100000 or 1e5), or "
                                      "leave out --chunk-points for chunks of about 256 MiB of arrays"]))
    if args.workers is not None and args.workers < 1:
        raise UsageError(error("bad-option", f"--workers {args.workers}: a cluster has at least one worker",
                               hints=["give the number of worker processes of the local cluster, 1 or more (e.g. "
                                      "--workers 2), or leave out --workers to evaluate in this process"]))
    if args.workers is not None and args.workers > WORKERS_PER_CPU * _cpus():
        raise UsageError(error(
            "bad-option", f"--workers {args.workers:,}: this machine has {_cpus()} CPUs, and a local cluster starts one "
            f"process a worker, each with its own copy of the program and of its chunk's arrays",
            hints=[f"give at most {WORKERS_PER_CPU * _cpus()} ({WORKERS_PER_CPU} a CPU; one a CPU is the fastest), or "
                   "--dask tcp://HOST:8786 for a cluster of more machines"]))
    if not program.reports:
        return 0, program
    overridden = program.with_overrides(overrides or None, args.report)
    ctx, checker = overridden.prepare(args.report)
    report = ctx.report
    # A live workbook has its own, smaller limit (workbook_live: too-large-for-live), checked where it is written.
    with_runs = bool(args.measured or args.add_measured or "measured" in report.cells)
    # Refused before it is evaluated where every sweep point is a row. Where `where` lines, or constraints in a whole
    # evaluation (no option that asks for chunks), may leave points out, the rows are counted once evaluated
    # (cmd_eval): a sweep of 117,936 points whose constraints left 88,452 rows was refused as "up to 117,936 rows".
    # Under such an option a report with constraints is refused "up to" its points, with the help to leave the
    # option out; one with `where` lines as before, by the chunked run (_workbook_in_chunks).
    rows_known_once_evaluated = bool(report.wheres) or (bool(checker.constraints) and _chunks_option(args) is None)
    if fmt == "xlsx" and not getattr(args, "live", False) and not rows_known_once_evaluated \
            and not report.questions and ctx.n_points > XLSX_ROW_LIMIT:
        # Rows with no question: under an option that asks for chunks (run logs aside, matched whole) a narrower
        # sweep is streamed chunk by chunk and refused again (_workbook_in_chunks), so the help names it too.
        raise UsageError(_workbook_too_large(report.name, ctx.n_points, args.output, up_to=True, axes=ctx.axes,
                                             chunked_by=None if with_runs else _chunks_option(args)))
    distributed = bool(args.dask or args.workers)
    if with_runs:
        # Matched over the whole evaluation, in memory: Parquet is then written in one go, as JSON is.
        if distributed or args.chunk_points:
            raise UsageError(_chunks_with_runs(args, report))
        _refuse_too_large_with_runs(overridden, ctx, checker, args, report)
        return 0, overridden
    if args.chunk_points or distributed or fmt == "parquet":
        return args.chunk_points or overridden.chunk_points(args.report), overridden
    if ctx.n_points * 8 <= WHOLE_EVALUATION_BYTES // 64:
        return 0, overridden
    too_large = overridden.predict_bytes(args.report) > WHOLE_EVALUATION_BYTES
    return (overridden.chunk_points(args.report) if too_large else 0), overridden


def _runs_source(args, report) -> tuple[list[str], str]:
    """The options that name run logs (--measured, --add-measured), and what names them, in words: those options,
    or the report's own `measured` cell (file:line), which the user may never have typed."""
    given = [name for name, logs in (("--measured", args.measured), ("--add-measured", args.add_measured)) if logs]
    if given:
        return given, f"{' and '.join(given)} name{'s' if len(given) == 1 else ''} run logs"
    span = report.cells["measured"].span
    return given, f"the report '{report.name}' names run logs in its cell `measured` ({span.file}:{span.line})"


def _refuse_too_large_with_runs(program, ctx, checker, args, report) -> None:
    """Raise sweep-too-large (PerfError, or UsageError where a --set makes it so) for a report whose runs are
    matched and whose whole evaluation would not fit: such a report is evaluated at once, never in chunks, so the
    help says to narrow the sweep or to leave the logs out. The general help ("`perfdsl eval FILE -o OUT.csv`
    streams the rows") was given to a newcomer who had typed `-o m.csv` already."""
    from .errors import PerfError

    try:
        program.refuse_too_large(ctx, checker)
    except PerfError as exc:
        given, source = _runs_source(args, report)
        leave_out = f"leave out {' and '.join(given)}" if given else "evaluate a copy of the report without its " \
            "`measured` cell"
        for diagnostic in exc.diagnostics:
            if diagnostic.code == "sweep-too-large":
                diagnostic.hints = [
                    f"{source}, and a report matched with run logs is evaluated at once, never in chunks: narrow the "
                    f"sweep with --set (to the points the runs measured), or {leave_out} to evaluate it in chunks "
                    "(-o OUT.csv, .jsonl or .parquet streams the rows)"]
        raise


def _chunks_with_runs(args, report):
    """error[bad-option] for --dask, --workers or --chunk-points where run logs are matched: it names where the logs
    come from, the options given or the report's own `measured` cell (file:line), which the user may never have
    typed. --chunk-points was passed over without a word there (the report evaluated whole, as if it worked)."""
    from .errors import error

    option = "--dask" if args.dask else "--workers" if args.workers else "--chunk-points"
    given, source = _runs_source(args, report)
    if option == "--chunk-points":
        whole = "evaluate the sweep at once: leave out --chunk-points"
        hint = f"leave out {' and '.join(given)}, or {whole}" if given else \
            f"{whole} (the report's runs are matched over one whole evaluation)"
    elif given:
        hint = f"leave out {' and '.join(given)}, or evaluate on one machine (leave out {option})"
    else:
        hint = f"evaluate on one machine: leave out {option} (the report's runs are matched in memory)"
    return error("bad-option", f"{option} evaluates a sweep in chunks, which are not matched with run logs, and "
                 f"{source}", hints=[hint])


def _workbook_too_large(report: str, rows: int, output: str, up_to: bool = False, axes=(),
                        chunked_by: str | None = None):
    """error[workbook-too-large]; `up_to`: `rows` counts every sweep point, before constraints leave some out;
    `axes` (the report's, where known) give the first hint an example of narrowing the sweep with --set;
    `chunked_by`: the option that asks for chunks ('--chunk-points 1000', _chunks_option) where the rows would be
    streamed chunk by chunk, which no workbook is written from: the hint says to leave it out as well (a newcomer
    followed the --set alone and was refused again)."""
    from .errors import error
    from .workbook_layout import XLSX_ROW_LIMIT

    narrow = _narrowing(axes, rows, XLSX_ROW_LIMIT)
    stem = os.path.splitext(output)[0]
    count = f"up to {rows:,} rows, one per sweep point" if up_to else f"{rows:,} rows"
    leave_out = f" and leave out {chunked_by.split()[0]}," if chunked_by else ""
    # under such an option a `where` keeps rows that are streamed too: only an answer is then a workbook
    questions = "best, largest, smallest, pareto" if chunked_by else "where, best, largest, smallest, pareto"
    return error("workbook-too-large", f"a workbook of report '{report}' would have {count}; perfdsl writes at "
                 f"most {XLSX_ROW_LIMIT:,} rows to a workbook (a workbook is for people)",
                 hints=[(f"narrow the sweep with --set, e.g. {narrow},{leave_out} to write a workbook" if narrow else
                         f"narrow the sweep with --set AXIS=VALUE{leave_out} to write a workbook")
                        + (" (one is written from a whole evaluation, not from rows streamed chunk by chunk)"
                           if chunked_by else ""),
                        f"or write every row with -o {stem}.csv, -o {stem}.jsonl or -o {stem}.parquet (the smallest "
                        f"and quickest to write), or ask the report a question ({questions}) whose answer fits "
                        f"(a best, largest, smallest or pareto answer of up to {XLSX_ROW_LIMIT:,} rows is a workbook "
                        "however large the sweep)"])


def _narrowing(axes, rows: int, limit: int) -> str:
    """An example --set that narrows the sweep over `axes` to one value of an axis, '--set model=gpt2': the axis of
    a role (a block's name needs no quoting) or a plain number, preferring one that leaves at most `limit` of
    `rows`, else the longest (leaves the most out). '' where no axis has two values of these kinds."""
    fit = [axis for axis in axes if axis.length > 1 and len(axis.coords) == 1
           and (axis.coords[0].kind == "role" or axis.coords[0].kind == "num" and not axis.coords[0].unit)]
    if not fit:
        return ""
    axis = min(fit, key=lambda a: (rows // a.length > limit, a.coords[0].kind != "role", -a.length))
    value = axis.coords[0].values[0]
    return f"--set {axis.name}={value if axis.coords[0].kind == 'role' else format(float(value), 'g')}"


def _workbook_in_chunks(program, ctx, args):
    """The error for a workbook of a sweep evaluated in chunks that cannot be one: rows streamed chunk by chunk (a
    report without a question: as many rows as the sweep keeps, known only once written), or --live (the cost model
    as formulas over one whole evaluation). A question's answer merged from chunks is a workbook
    (workbook_answer.py). It says what made the run chunked: an option given (--chunk-points, --workers, --dask:
    leaving it out writes the workbook, the rows having passed the row limit up front) or the sweep's size."""
    from .chunks import WHOLE_EVALUATION_BYTES
    from .errors import error

    stem = os.path.splitext(args.output)[0]
    files = f"-o {stem}.csv, -o {stem}.jsonl or -o {stem}.parquet (the smallest and quickest to write)"
    option = _chunks_option(args)
    at_once = option is not None and program.predict_bytes(args.report) <= WHOLE_EVALUATION_BYTES
    if ctx.report.questions:                    # --live: its formulas are the cost model's, over every cell
        cause = (f"{option} evaluates the sweep of report '{ctx.report.name}' ({ctx.n_points:,} points) in chunks"
                 if at_once else f"report '{ctx.report.name}' sweeps {ctx.n_points:,} points, too many to evaluate "
                 "at once, so its question is answered chunk by chunk")
        return error("bad-option", f"--live writes the cost model as formulas over one whole evaluation, and {cause}",
                     hints=[f"leave out --live: the workbook then holds the answer's values"
                            + (f", or leave out {option.split()[0]}" if at_once else "")])
    if at_once:
        return error("bad-output", f"{option} evaluates the sweep of report '{ctx.report.name}' "
                     f"({ctx.n_points:,} points) in chunks, and a workbook is written from one whole evaluation, not "
                     "from rows streamed chunk by chunk",
                     hints=[f"leave out {option.split()[0]} to write the workbook, or write {files}"])
    # Too large to evaluate at once: narrowed with --set, it is refused as above while the option is given.
    return _workbook_too_large(ctx.report.name, ctx.n_points, args.output, up_to=True, axes=ctx.axes,
                               chunked_by=option)


def _chunks_option(args) -> str | None:
    """The option given that makes eval evaluate in chunks, as typed ('--chunk-points 1000', '--workers 2',
    '--dask tcp://...'), or None."""
    return next((f"{name} {value}" for name, value in (("--chunk-points", args.chunk_points),
                                                        ("--workers", args.workers), ("--dask", args.dask))
                 if value), None)


def _eval_in_chunks(program, args, fmt: str, chunk_points: int) -> int:
    """`eval` of a sweep chunk by chunk: rows streamed to the output (a table shows its first rows only), or the
    report's question answered over the whole sweep; the chunks on a Dask cluster with --dask or --workers.
    `program` has the overrides (--set) applied and is prepared (_chunked)."""
    from .errors import UsageError, error

    ctx, _ = program.prepare(args.report)
    stem = os.path.splitext(args.output or "")[0]
    if fmt == "xlsx":
        _answer_fits_a_workbook(program, ctx, args)
    if fmt == "table" and args.output and not ctx.report.questions:
        # every suffix that writes a streamed sweep's rows: all of -o's but the table's and the workbook's (refused
        # for rows with no question, _answer_fits_a_workbook)
        streamed = [f"-o {stem}{suffix}" for suffix, written in _SUFFIX_FORMATS.items()
                    if written not in ("table", "xlsx")]
        raise UsageError(error("bad-output", f"a sweep evaluated in chunks ({ctx.n_points:,} points) is not "
                               "written as an aligned text table", hints=[f"use {_either(streamed)}"]))
    if args.chunk_points and not args.quiet:        # a note, as the size note: -q hides it; never refused
        _note_many_chunks(program, ctx, args.report, args.chunk_points)
    progress = Progress("evaluating", unit="points", quiet=args.quiet)
    with contextlib.ExitStack() as stack:
        client = None
        if args.dask or args.workers:
            from .distributed import dask_client

            client = stack.enter_context(dask_client(args.dask, args.workers))
        return _write_chunks(program, args, fmt, chunk_points, ctx, progress, client)


def _answer_fits_a_workbook(program, ctx, args) -> None:
    """Refuse, before anything is computed, a workbook a chunked run cannot write: rows streamed with no question,
    --live, or a best, largest or smallest answer of more groups (one row each) than XLSX_ROW_LIMIT (a Pareto
    front's rows are known once answered: _write_answer_workbook). Raises UsageError."""
    from .errors import UsageError
    from .queries import kept_axes
    from .workbook_layout import XLSX_ROW_LIMIT

    if not ctx.report.questions or args.live:
        raise UsageError(_workbook_in_chunks(program, ctx, args))
    question = ctx.report.questions[0]
    if question.form != "pareto":
        _, n_groups = kept_axes(question, ctx)
        if n_groups > XLSX_ROW_LIMIT:
            raise UsageError(_workbook_too_large(ctx.report.name, n_groups, args.output, axes=ctx.axes))


def _write_answer_workbook(answered, program, args) -> int:
    """The workbook of a question's answer merged from chunks (workbook_answer.py); refused (workbook-too-large)
    above XLSX_ROW_LIMIT rows."""
    from .errors import UsageError
    from .workbook_answer import export_answer_workbook
    from .workbook_layout import XLSX_ROW_LIMIT

    if answered.n_rows > XLSX_ROW_LIMIT:
        raise UsageError(_workbook_too_large(answered.report, answered.n_rows, args.output, axes=answered.axes))
    progress = Progress("writing workbook", unit="rows", quiet=args.quiet)
    path = export_answer_workbook(answered, program, args.report, args.output, progress=progress)
    progress.done()
    sys.stderr.write(f"wrote {path} ({_rows(answered.n_rows)})\n")
    return EXIT_OK


def _note_many_chunks(program, ctx, report: str | None, chunk_points: int) -> None:
    """Print chunks.many_chunks_note where --chunk-points cuts the sweep into so many chunks that their overhead
    dominates (a tiny N ran silently for minutes to hours). A note, not a warning[...]: a diagnostic warning would
    make --strict refuse a run whose specs are fine."""
    from .chunks import MANY_CHUNKS, count_chunks, many_chunks_note

    if ctx.report.questions:
        from .candidates import count_plan

        def count(points: int) -> int:
            return count_plan(program, report, points)
    else:
        def count(points: int) -> int:
            return count_chunks(ctx.shape, points)
    default_points = program.chunk_points(report)
    if count(chunk_points) < MANY_CHUNKS or chunk_points >= default_points:
        return
    note = many_chunks_note(count(chunk_points), chunk_points, default_points, ctx.n_points, count(default_points))
    if note:
        sys.stderr.write(note + "\n")


def _write_chunks(program, args, fmt: str, chunk_points: int, ctx, progress, client) -> int:
    from .output import write_text_atomically
    from .render import TABLE_ROW_LIMIT, write_csv, write_json, write_stream, write_table
    from .provisional import for_answer, for_stream
    from .queries import is_no_point_in_chunk
    from .streaming import answer_in_chunks, chunk_table, evaluate_chunks, keep_first

    if ctx.report.questions:
        if client is not None:
            from .distributed import answer_on_dask

            answered = answer_on_dask(client, program, args.report,
                                      chunk_points=args.chunk_points, progress=progress)
        else:
            # chunks of the question's own layout (streaming.question_chunks) unless --chunk-points asks
            answered = answer_in_chunks(program, args.report, chunk_points=args.chunk_points,
                                        progress=progress)
        progress.done()
        _print_diagnostics(answered.warnings + _provisional_notes(lambda: for_answer(answered)))
        if _strict_refuses(args, answered.warnings):
            sys.stderr.write(f"--strict: warnings are errors{_not_written(args)}\n")
            return EXIT_SPEC
        if fmt == "xlsx":
            return _write_answer_workbook(answered, program, args)
        keys, columns = answered.table()
        rows = answered.n_rows

        if fmt == "parquet":
            from .parquet import column_kinds, write_parquet

            write_parquet(args.output, [(keys, columns)], column_kinds(answered.axes, answered.shown))
            sys.stderr.write(f"wrote {args.output} ({_rows(rows)})\n")
            return EXIT_OK

        def write(stream) -> None:
            if fmt == "table":
                left = write_table(keys, columns, stream, limit=max(rows, TABLE_ROW_LIMIT) if args.output else
                                   TABLE_ROW_LIMIT)
                if left:            # the line a whole evaluation's answer has under it (it was left out here)
                    sys.stderr.write(_table_cut_note(rows - left, rows) + "\n")
            elif fmt == "csv":
                write_csv(keys, columns, stream)
            else:
                write_json(keys, columns, stream, lines=fmt == "jsonl")
    else:
        if args.output and fmt != "table":          # a table file of a chunked sweep is refused before this
            from .output_size import predict_sweep

            _check_size(predict_sweep(fmt, program, args.report), args)
        warnings: dict = {}
        rows = 0
        all_rows = None         # the sweep's rows (after `where` and constraints), where counted
        streamed = 0            # rows given to the output so far (written to stdout, where it is the output)

        def strict(chunk_warnings) -> None:
            # --strict: the first chunk that warns stops the run before its rows are written (-o keeps the old file)
            if _strict_refuses(args, chunk_warnings):
                raise _StrictStop()

        def chunk_parts(limit: int | None):
            if client is not None:
                from .distributed import rows_on_dask

                yield from rows_on_dask(client, program, args.report, chunk_points=chunk_points, progress=progress,
                                        limit=limit)
                return
            nonlocal all_rows
            kept = 0
            all_rows = 0            # counted where the rows are evaluated here, not on a cluster
            for _, result in evaluate_chunks(program, args.report, chunk_points=chunk_points, progress=progress):
                all_rows += result.n_rows          # before chunk_table cuts the result to its first rows
                if limit is not None and kept >= limit:     # evaluated for its warnings only
                    yield [], [], result.warnings
                    continue
                keys, columns = chunk_table(result, None if limit is None else limit - kept)
                kept += len(columns[0]) if columns else 0
                yield keys, columns, result.warnings

        def parts(limit: int | None = None):
            # Every chunk, in row order, its warnings kept (they add up to the whole sweep's: streaming.keep_first)
            # and --strict asked before its rows are given. `limit`: the sweep's first `limit` rows are wanted (a
            # table's), but every chunk is still evaluated, for its warnings (a later chunk's given as no rows).
            # A chunk none of whose points meets the `where` lines warns so of its own points: said of the sweep
            # only where no chunk has a row (a where keeping a = 301 .. 1000 warned at chunks of a = 1 .. 300).
            nonlocal streamed
            none_kept: dict = {}
            any_row = False
            for keys, columns, chunk_warnings in chunk_parts(limit):
                held = [diag for diag in chunk_warnings if is_no_point_in_chunk(diag)]
                chunk_warnings = [diag for diag in chunk_warnings if not is_no_point_in_chunk(diag)]
                keep_first(none_kept, held)
                keep_first(warnings, chunk_warnings)
                strict(chunk_warnings)
                any_row = any_row or bool(columns and len(columns[0]))
                streamed += len(columns[0]) if columns else 0
                yield keys, columns
            if not any_row and none_kept:
                keep_first(warnings, none_kept.values())
                strict(list(none_kept.values()))

        def first_rows(stream) -> None:
            # A table on a terminal shows the sweep's first rows: it is written once they are known, while the later
            # chunks are evaluated for their warnings (printed at the end, over the whole sweep). Under --strict it
            # waits for the last chunk, so that a run a later chunk stops writes nothing.
            nonlocal rows
            keys, first, pieces, written = [], [], [], False
            for part_keys, columns in parts(TABLE_ROW_LIMIT):
                if not keys:
                    keys, first = part_keys, columns        # the columns, empty, where no chunk has a row
                if columns and len(columns[0]) and rows < TABLE_ROW_LIMIT:
                    pieces.append(columns)
                    rows += len(columns[0])
                if rows >= TABLE_ROW_LIMIT and not written and not args.strict:
                    write_table(keys, _joined(pieces), stream)
                    stream.flush()
                    written = True
            if not written:
                write_table(keys, _joined(pieces) if pieces else first, stream)

        def write(stream) -> None:
            nonlocal rows
            if fmt == "table":
                first_rows(stream)
            else:
                rows = write_stream(fmt, parts(), stream)

    try:
        if fmt == "parquet" and not ctx.report.questions:
            from .parquet import column_kinds, write_parquet
            from .queries import report_columns

            kinds = column_kinds(ctx.axes, report_columns(ctx, program, args.report))
            rows = write_parquet(args.output, parts(), kinds)
        elif args.output:
            write_text_atomically(args.output, write)
        else:
            write(sys.stdout)
            sys.stdout.flush()
    except _StrictStop:
        progress.done()
        _print_diagnostics(list(warnings.values()))
        written = ""
        if args.output:
            written = f" ({args.output} not written)"
        elif streamed and fmt != "table":       # streamed to stdout: a table waits for the last chunk (first_rows)
            written = f" (the {_rows(streamed)} of the chunks before it are written)"
        sys.stderr.write("--strict: warnings are errors" + written + "; stopped at the first chunk that warns, so "
                         "the counts above cover its points and those before it, not the whole sweep\n")
        return EXIT_SPEC
    progress.done()
    if not ctx.report.questions:
        _print_diagnostics(list(warnings.values()) + _provisional_notes(lambda: for_stream(program, args.report)))
    # After the warnings, as under a whole evaluation's table (which prints its warnings before the rows)
    if fmt == "table" and not args.output and not ctx.report.questions and rows >= TABLE_ROW_LIMIT \
            and (all_rows is None or all_rows > rows):
        # Below the limit the table shows every row the sweep keeps (every chunk is evaluated): nothing left out.
        sys.stderr.write(_table_cut_note(min(rows, TABLE_ROW_LIMIT), all_rows, ctx.n_points) + "\n")
    if args.output:
        sys.stderr.write(f"wrote {args.output} ({_rows(rows)})\n")
    return EXIT_OK


def _provisional_notes(shares) -> list:
    """note[provisional] of a chunked run, as a list of at most one diagnostic: `shares()` gives the provisional
    cells' shares (provisional.for_answer over a question's rows, for_stream over a sample of a streamed sweep's
    points: a few small evaluations, after the chunks)."""
    from .provisional import provisional_note

    note = provisional_note(shares())
    return [note] if note is not None else []


def _joined(pieces: list[list]) -> list:
    """The rows of consecutive chunks (each a list of columns under the same keys) as one list of columns."""
    import numpy as np

    return pieces[0] if len(pieces) == 1 else [np.concatenate(parts) for parts in zip(*pieces)]


def _table_cut_note(shown: int, rows: int | None, points: int | None = None) -> str:
    """The line under a table on the terminal that shows the first `shown` of `rows` rows, the same for a whole
    evaluation and a chunked one; where the rows are not counted (chunks on a cluster), the sweep's `points` are
    their upper bound."""
    files = "-o FILE.csv, -o FILE.jsonl or -o FILE.parquet"
    if rows is not None:
        return f"... {rows - shown:,} more rows not shown; use --format csv, or {files}, for all {rows:,}"
    return (f"... the rows after the first {shown:,} not shown (of up to {points:,}, one per sweep point); use "
            f"--format csv, or {files}, for all")


def _check_size(prediction, args) -> None:
    """Refuse an output that would not fit on its file system (error[output-too-large]), and note a large one on
    stderr (output_size.check), before anything is written."""
    from .output_size import check

    note = check(prediction, args.output, quiet=args.quiet)
    if note:
        sys.stderr.write(note + "\n")


def _strict_refuses(args, diagnostics) -> bool:
    """Whether --strict makes these diagnostics an error: it was given and one of them is a warning."""
    return args.strict and any(d.severity == "warning" for d in diagnostics)


class _StrictStop(Exception):
    """A chunk of a streamed sweep warned under --strict: the run stops (eval's chunked path)."""


def _rows(count: int) -> str:
    return f"{count:,} row{'' if count == 1 else 's'}"


def cmd_explain(args) -> int:
    from .explain import explain
    from .explain_runs import with_runs
    from .program import load

    from .errors import UsageError, error

    if args.depth < 0:
        raise UsageError(error("bad-option", f"--depth {args.depth}: the depth of the tree of precedents is 0 or "
                               "more", hints=["give how many levels of precedents to show, 0 or more (0: the cell "
                                              "alone; e.g. --depth 2), or leave out --depth for 50"]))
    overrides, at = _parse_sets(args.sets), _parse_pairs(args.at, "--at")     # bad usage before the files are read
    from .runlogs.files import require_logs

    logs = list(args.measured) + list(args.add_measured)
    require_logs(logs)                              # a log named that is not there: exit 2, whatever the report
    # A report with points = "runs" has the points its runs matched, over the axes their fields make (as eval).
    loaded = load([args.file])
    program, points, matched = with_runs(loaded, args.report, overrides,
                                         args.measured or None, args.add_measured, os.path.dirname(args.file))
    text = explain(program, args.cell, args.report, at, args.depth, points, matched)
    _print_diagnostics(program.load_warnings() + _logs_not_read(loaded, args.report, logs))
    sys.stdout.write(text + "\n")
    return EXIT_OK


def _logs_not_read(program, report: str | None, logs: list[str]) -> list:
    """note[logs-not-read] where explain was given run logs for a report that sweeps its own points (they make the
    points of a report with points = "runs" only), else []."""
    from .errors import Diagnostic, UsageError
    from .matching import points_option

    if not logs or not program.reports:
        return []
    try:
        name = program._pick_report(report)
    except UsageError:
        return []
    if points_option(program, program.blocks[name]) == "runs":
        return []
    named = ", ".join(f"'{log}'" for log in logs)
    return [Diagnostic("logs-not-read", "explain reads --measured and --add-measured for a report with points = \"runs\" "
                 f"only: report '{name}' sweeps its own points, so {named} {'was' if len(logs) == 1 else 'were'} not "
                 "read", hints=["leave them out: explain shows the cost model's formulas; eval --measured sets the "
                                      "runs beside them"], severity="note")]


def cmd_ingest(args) -> int:
    from .runlogs.ingest import ingest_command

    return ingest_command(args.logs, args.output, args.log_format, args.meta, args.window)


def cmd_plot(args) -> int:
    from .plot_command import PlotRequest, make_plot

    request = PlotRequest(list(args.files), args.output, args.report, _parse_sets(args.sets), list(args.measured),
                          list(args.add_measured), _parse_pairs(args.at, "--at"), args.y, args.x, args.series,
                          args.panels, args.along, args.roofline, args.hollow)
    outcome = make_plot(request)
    if outcome.diagnostics:
        _print_diagnostics(outcome.diagnostics)
    sys.stderr.write(f"wrote {outcome.path} ({outcome.description})\n")
    return EXIT_OK


def cmd_calibrate(args) -> int:
    """Fit, write the .perf file and the residuals (perfdsl.calibrate); the summary goes to stderr."""
    import shlex

    from .calibrate import calibrate, check_settings
    from .calibration_imports import check_written, fails_check_warning, set_twice, set_twice_warning
    from .calibration_report import check_outputs, summary_lines, write_outputs
    from pathlib import Path

    from .calibration_runs import prepare_problem
    from .errors import PerfError
    from .output import write_bytes_atomically
    from .render import write_table

    check_settings(args.loss, args.f_scale, args.bootstrap, args.resample, args.seed, args.starts)  # before the runs
    problem = prepare_problem(args.file, args.measured, args.fit, report=args.report, add_measured=args.add_measured,
                              overrides=_parse_sets(args.sets), metrics=args.metric, group_by=args.group_by)
    check_outputs(problem, args.file, args.output, args.residuals)
    clashes = set_twice(problem, problem.cells, args.output)       # said before the fit, which takes minutes
    diagnostics = list(problem.diagnostics) + [set_twice_warning(clash, args.output) for clash in clashes]
    if diagnostics:
        _print_diagnostics(diagnostics)
    # The fit, each fold's refits and each bootstrap refit: a bar from the fit's first second (calibrate.calibrate)
    progress = Progress("calibrating", unit="fits", quiet=args.quiet, scaled=False)
    cal = calibrate(problem, loss=args.loss, f_scale=args.f_scale, bootstrap=args.bootstrap,
                    resampling=args.resample, seed=args.seed, starts=args.starts, progress=progress)
    progress.done()
    sys.stderr.write("\n".join(summary_lines(cal)) + "\n")
    old = Path(args.output).read_bytes() if Path(args.output).is_file() else None
    residuals = write_outputs(cal, problem, args.output, args.residuals, "perfdsl " + shlex.join(args.argv), clashes)
    errors = check_written(args.output)
    if errors and not clashes:          # never exit 0 leaving a file that perfdsl itself refuses
        if old is None:
            Path(args.output).unlink()
        else:
            write_bytes_atomically(args.output, old)
        raise PerfError(fails_check_warning(args.output, errors, explained=False))
    sys.stderr.write("".join(f"wrote {path}\n" for path in (args.output, args.residuals) if path))
    if errors:
        _print_diagnostics([fails_check_warning(args.output, errors, explained=True)])
    if residuals is not None:
        write_table(*residuals, sys.stdout)
    return EXIT_OK


def cmd_import_hf(args) -> int:
    from .import_hf import import_hf
    from .output import protect_inputs, write_text_atomically

    if args.output:
        _import_hf_output(args.output)              # bad usage before the config is read
    text = import_hf(args.path, args.name, args.hf_id)
    if args.output:
        protect_inputs(args.output, [args.path])
        write_text_atomically(args.output, text)
        sys.stderr.write(f"wrote {args.output}\n")
    else:
        sys.stdout.write(text)
    return EXIT_OK




def _import_hf_output(output: str) -> None:
    """Raise UsageError (bad-output, exit 2) for an -o of import-hf that is no .perf file, or a file there already
    that import-hf did not write (a spec of the user's own, which it would replace); one it wrote is replaced."""
    from .errors import UsageError, error
    from .import_hf import IMPORTED_BY
    from .output import refuse_folder

    refuse_folder(output, ".perf")                  # a folder: said as one (eval's help, with a .perf file in it)
    if not output.lower().endswith(".perf"):
        raise UsageError(error("bad-output", f"import-hf writes a .perf model block, not '{output}'",
                               hints=["name the output FILE.perf, or leave out -o for standard output"]))
    try:
        with open(output, encoding="utf-8", errors="replace") as existing:
            first = existing.readline()
    except OSError:
        return                                      # none there, or unreadable: the write says what fails
    if not first.startswith(IMPORTED_BY):
        raise UsageError(error("bad-output", f"refusing to replace '{output}': perfdsl import-hf did not write it",
                               hints=["choose another file with -o (import-hf replaces only a file it wrote, whose "
                                      f"first line is '{IMPORTED_BY} ...'), or remove it first"]))


def cmd_errors(args) -> int:
    from .error_codes import CATALOGUE, describe
    from .errors import UsageError, did_you_mean, error

    if args.code is None:
        sys.stdout.write("\n".join(describe(code) for code in CATALOGUE) + "\n")
        return EXIT_OK
    if args.code not in CATALOGUE:
        raise UsageError(error("bad-option", f"no diagnostic code '{args.code}'",
                               hints=did_you_mean(args.code, CATALOGUE) + ["`perfdsl errors` lists them all"]))
    sys.stdout.write(describe(args.code) + "\n")
    return EXIT_OK


# Commands after which the process may end without tearing down the interpreter: they leave no child process and
# no file open for writing when main() returns. Freeing what a check of many files built (every parsed file, block
# and record of its session) took 0.15-0.7 s after its `ok:` line; mypy ends the same way (os._exit).
_QUICK_EXIT = {"check", "cache", "errors"}
_ENDS_AT_ONCE = False           # set by run(): this process ends (os._exit) when main() returns


def _end_at_once(signum, _frame) -> None:
    """SIGINT after main() returned: say so and end with 128 + the signal, running no more Python code."""
    try:
        os.write(2, b"interrupted\n")
    except OSError:
        pass
    os._exit(128 + signum)


def run() -> None:
    """The `perfdsl` command (the console script, and `python -m perfdsl.cli`): main() with sys.argv, then exit with
    its status. After a command of _QUICK_EXIT, stdout and stderr are flushed and the process ends at once
    (os._exit), without freeing every object one by one; other commands exit as usual (sys.exit), which runs
    atexit hooks (a Dask cluster's clean-up, multiprocessing's)."""
    global _ENDS_AT_ONCE
    command = sys.argv[1] if len(sys.argv) > 1 else None
    _ENDS_AT_ONCE = command in _QUICK_EXIT and not os.environ.get("PERFDSL_DEBUG")
    status = main()
    if not _ENDS_AT_ONCE:
        # main() has returned: every output is in place or gone (atomic_output), a Dask cluster closed. Ctrl-C now,
        # while atexit hooks run (a second or more after a run on a cluster), raised KeyboardInterrupt inside one:
        # a traceback, and exit status 0. It ends the process at once instead, as Ctrl-C does: 130.
        signal.signal(signal.SIGINT, _end_at_once)
        sys.exit(status)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        pass
    os._exit(status)


if __name__ == "__main__":  # pragma: no cover
    run()
