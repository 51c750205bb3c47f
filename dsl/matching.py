"""Matching (stage 5): measured runs beside the estimates of a report.

A run is matched to the sweep points whose identifying values equal the run's, on the identifying fields the runs
have. A field named like a role the report binds (`model`, `hardware`, `stack`, `precision` ...) matches the block
bound to that role at the point by the block's name or one of its LABEL_CELLS (a model's Hugging Face `hf_id`, a
GPU's nvidia-smi `label`, a stack's or precision's `label`). Other fields (`n_gpus`, `batch`, `seq_len`,
`output_len`, `tokens`, `tp`, `pp`, `kv_cache_dtype` ...) match a cell of the same name (or a true alias, ALIASES)
of the report or of a block it binds to a role. A run's metric is set beside the shown cell of the same name (`show x.runtime as
runtime`) when their dimensions agree; a shown `e2e` also takes a run's `e2e_latency` (METRIC_ALIASES).
Runs that match no point, points without a run, and runs that match several points are reported, never dropped; a
run that matches several points (a label several swept blocks share, a swept cell the log has no column for) is
compared with none of them, in one located warning. Several runs of one point are repeats of one measurement: each metric compared
is their median, and a note lists them.

The report names its logs in a cell `measured = "runs.csv"` (or a list), relative to the report file; `--measured`
names others instead, `--add-measured` more. A log whose units were mislabelled when it was published is read through the report cell
`measured_unit_aliases = "GB=GiB"` (comma-separated pairs): a value written in GB is taken as GiB, and the workbook
says so. The error convention is the report cell `error_convention` ("measured", the default:
(estimated - measured) / measured; or "estimated", the seed table's (estimated - measured) / estimated).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from . import ir
from .comparison import Unmatched
from .errors import Diagnostic, Location, error, near_miss
from .field_aliases import ALIASES, LABEL_CELLS
from .lazy_numpy import lazy_numpy
from .report_options import option_value, unit_alias_factors
from .result import Result, key_with_unit
from .run_fields import unused_identities, unused_metrics

np = lazy_numpy(__name__)

# A shown column's name -> the run metric names it also takes, where the cost models and the logs name one quantity
# differently: the cost models' `e2e` is the logs' `e2e_latency` (vLLM, ML.ENERGY: a request's end-to-end time). A
# run metric of the shown name itself comes first.
METRIC_ALIASES = {"e2e": ("e2e_latency",)}
LIST_LIMIT = 20
# Warnings of the log readers about rows that are still read whole and matched (a name read with an assumption or
# kept as written, runs that name no model): the Unmatched sheet says so, instead of calling them unusable.
KEPT_ROW_CODES = frozenset({"assumed-spelling", "unknown-spelling", "unmatchable-runs"})
UNUSABLE, KEPT_WITH_NOTE = "unusable row", "run kept, with a note"      # the Unmatched sheet's kinds for log rows


def block_aliases(program, names) -> dict[str, tuple[str, ...]]:
    """Lower-cased name or label text -> the blocks it names, among the blocks `names` (in their order): a block's
    name names that block alone; otherwise a LABEL_CELLS text names the blocks that write it themselves, or, where
    none does, those that inherit it (a label written by a block wins over one inherited by another). A text that
    names several blocks (two model blocks with one `hf_id`) makes a run that gives it match each of them: an
    ambiguous match (matching._match reports it), never silently the first."""
    from . import ir

    ranked: dict[str, tuple[int, list[str]]] = {}      # text -> (rank: 0 name, 1 own label, 2 inherited; blocks)
    for name in names:
        block = program.blocks[name]
        texts = [(name.lower(), 0)]
        for label_cell in LABEL_CELLS:
            cell = block.cells.get(label_cell)
            if cell is not None and isinstance(cell.expr, ir.Str) and cell.expr.value.strip():
                own = block.owner.get(label_cell, name) == name
                texts.append((cell.expr.value.strip().lower(), 1 if own else 2))
        for text, rank in texts:
            best, blocks = ranked.get(text, (rank, []))
            if rank < best:
                ranked[text] = (rank, [name])
            elif rank == best and name not in blocks:
                ranked[text] = (rank, blocks + [name])
    return {text: tuple(blocks) for text, (_, blocks) in ranked.items()}


@dataclass
class MetricMatch:
    """A shown column with measured values: its name, its record key ("runtime [ms]"), display unit and that unit's size
    in SI, and `measured`, flat, one SI value per row of the result (per sweep point, or per answer of the report's
    question), the median of the runs matched there and nan where none. `derived`: some values were computed from the
    runs (throughput = tokens / runtime) rather than read. One per shown column, as the workbook has a column group
    per show: a name shown twice (`show t in ms, t in s`, or two cells `as t`) is two metrics, each compared with its
    own column's estimates in its own unit."""

    name: str              # the shown column's name
    key: str               # its record key ("runtime [ms]"): which column, where a name is shown twice
    unit: str
    scale: float
    measured: np.ndarray   # SI, nan where no run
    derived: bool = False


@dataclass
class Comparison:
    """The runs of a report matched to its result: the metrics with measured values, per row where the run came from,
    what was not matched, the diagnostics of reading and matching, the identifying fields used, how many runs were
    read, the rows kept with `points = "runs"` (None: every row) and the unit aliases applied."""

    result: Result
    convention: str
    metrics: list[MetricMatch] = field(default_factory=list)
    run_source: np.ndarray | None = None             # per point: where its run came from ("" where none)
    # per point: the same said in full, for people (the workbook's Run source): the log an ingested run was
    # converted from and a conversion its reader made (_source_text); run_source stays the runs' identifier
    run_trace: np.ndarray | None = None
    unmatched: list[Unmatched] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    used_keys: list[str] = field(default_factory=list)
    n_runs: int = 0
    keep: np.ndarray | None = None                    # with `points = "runs"`: the points some run matched
    # Flat over the sweep: the points some run asks for (the one it matched, or those its identity names where they
    # all break a constraint); with `points = "runs"`, what the constraints' warnings count (run_points).
    asked: np.ndarray | None = None
    aliases: dict[str, float] = field(default_factory=dict)   # unit as written -> factor to the unit meant
    logs: list[str] = field(default_factory=list)     # the run logs given ([]: none, so nothing was compared)
    # The shown columns (their keys, "runtime [ms]") the runs compared can carry, matched or not (_carried): the
    # workbook gives the others no Measured or Error column. None: not known (every column).
    carried: set[str] | None = None
    # The runs compared: each run matched to one sweep point, by the point's order (calibration_bound asks which of
    # them the report's calibration was fitted on).
    matched_runs: list = field(default_factory=list)

    def error(self, metric: MetricMatch) -> np.ndarray:
        """The signed relative error of `metric`'s estimates, flat, one value per row of the result (dimensionless, not
        percent): (estimated - measured) / measured, or / estimated with the convention "estimated"; nan where no run
        was matched, and inf or nan where the divisor is 0 (no warning raised)."""
        estimated = self.result.column(metric.key)      # by the key: the column, where a name is shown twice
        base = metric.measured if self.convention == "measured" else estimated
        with np.errstate(all="ignore"):
            return (estimated - metric.measured) / base

    def table(self) -> tuple[list[str], list[np.ndarray]]:
        """The result's table plus, for each matched metric (each shown column a run measures), its measured value
        in the column's unit and its error in percent (the number the workbook shows, with the unit in the key like
        every other column: `runtime measured [ms]`, `runtime error [%]`). A name measured in two columns (`show t in
        ms, t in s`) has a pair for each, the error named by its column's key: `t [ms] error [%]`, `t [s] error [%]`
        (error_key)."""
        keys, columns = self.result.table()
        for metric in self.metrics:
            keys.append(key_with_unit(f"{metric.name} measured", metric.unit))
            columns.append(metric.measured / metric.scale)
            keys.append(self.error_key(metric))
            columns.append(self.error(metric) * 100.0)
        if self.keep is not None:
            columns = [column[self.keep] for column in columns]
        return keys, columns

    def error_key(self, metric: MetricMatch) -> str:
        """The key of `metric`'s error in table(): `runtime error [%]`, or, where another metric has its name (a name
        shown twice, each column measured), after its column's key, `runtime [ms] error [%]`, as the workbook names
        such a metric by its key (workbook_export.metric_names). Its measured key needs no such care: two columns of
        one name have two units."""
        twice = sum(other.name == metric.name for other in self.metrics) > 1
        return key_with_unit(f"{metric.key if twice else metric.name} error", "%")

    @property
    def n_rows(self) -> int:
        """How many rows table() has: the rows kept with `points = "runs"`, else every row of the result."""
        return int(self.keep.sum()) if self.keep is not None else self.result.n_rows


def report_logs(result: Result, base_dir: str) -> list[str]:
    """The run logs the result's report names in its option `measured`, resolved relative to the report's file (or
    `base_dir` where the cell has no file); [] where it names none."""
    return logs_of_report(result.program, result.ctx.report, base_dir)


def logs_of_report(program, report, base_dir: str = ".") -> list[str]:
    """The run logs a report names in its option `measured`, resolved relative to the report's file (wherever the
    process has moved since the program was loaded: Program.path_of)."""
    names = option_value(program.sources, report, "measured")
    if not names:
        return []
    cell = report.cells["measured"]
    report_dir = os.path.dirname(program.path_of(cell.span.file)) if cell.span.file else base_dir
    return [os.path.normpath(os.path.join(report_dir, name)) for name in names]


def check_report_logs(program, report, base_dir: str = ".") -> None:
    """Raise PerfError (exit 1) for each run log the report's `measured` cell names that does not exist (log-missing)
    or is a folder (log-unreadable), located at the string that names it: a file a spec names that is not there is
    a mistake in the spec, as a missing import is (logs named on the command line: runlogs.files.require_logs)."""
    from .errors import PerfError
    from .runlogs.files import why_unreadable

    paths = logs_of_report(program, report, base_dir)
    if not paths:
        return
    cell = report.cells["measured"]
    items = cell.expr.items if isinstance(cell.expr, ir.ListExpr) else (cell.expr,)
    problems = []
    for item, path in zip(items, paths):
        why = why_unreadable(path)
        if why is not None:
            code, hint = (("log-unreadable", "name the log files inside it") if why == "it is a folder" else
                          ("log-missing", "`measured` names logs relative to the report's file"))
            problems.append(program.sources.diag(code, f"cannot read the run log '{path}': {why}", item.span,
                                                 path=report.cell_path("measured"), hints=[hint]))
    if problems:
        raise PerfError(problems)


def error_convention(result: Result) -> str:
    """The report option `error_convention` ("measured" by default; report_options.py has the schema)."""
    return option_value(result.program.sources, result.ctx.report, "error_convention")


def unit_aliases(result: Result) -> dict[str, float]:
    """Rescaling factors from the report option `measured_unit_aliases = "GB=GiB, MB=MiB"`."""
    text = option_value(result.program.sources, result.ctx.report, "measured_unit_aliases")
    return unit_alias_factors(text) if text else {}


def compare_with_runs(result: Result, logs: list[str] | None = None, base_dir: str = ".",
                      load_runs=None) -> Comparison:
    """Match the result's points with the runs of `logs` (None: the logs the report's `measured` cell names).

    `load_runs(paths)` reads the logs (default: perfdsl.runlogs.load_runs); `evaluate_with_runs` passes one that
    remembers what it read, so logs already read for `points = "runs"` are not read twice. Raises UsageError for a
    log that does not exist.
    """
    if load_runs is None:
        from .runlogs import load_runs

    comparison = Comparison(result=result, convention=error_convention(result))
    paths = report_logs(result, base_dir) if logs is None else list(logs)
    comparison.logs = paths
    if not paths:
        return comparison
    if logs is None:
        check_report_logs(result.program, result.ctx.report, base_dir)
    else:
        from .runlogs.files import require_logs

        require_logs(paths)
    loaded = load_runs(paths)
    comparison.diagnostics.extend(loaded.problems)
    for problem in loaded.problems:
        kind = KEPT_WITH_NOTE if problem.code in KEPT_ROW_CODES else UNUSABLE
        comparison.unmatched.append(Unmatched(kind, problem.message, str(problem.location or "")))
    runs = loaded.records
    comparison.n_runs = len(runs)
    comparison.aliases = unit_aliases(result)
    _match(comparison, runs)
    if points_option(result.program, result.ctx.report) == "runs":
        matched = np.array([bool(source) for source in comparison.run_source.tolist()], dtype=bool)
        comparison.keep = matched
        comparison.unmatched = [u for u in comparison.unmatched if u.kind != "estimate without run"]
        comparison.diagnostics = [d for d in comparison.diagnostics if "without a run" not in d.message]
    if result.rows is not None:     # the report asks a question: one value per row of its answer (queries.py)
        for metric in comparison.metrics:
            metric.measured = result.pick(metric.measured)
        comparison.run_source = result.pick(comparison.run_source)
        comparison.run_trace = result.pick(comparison.run_trace)
        if comparison.keep is not None:
            comparison.keep = result.pick(comparison.keep) == True  # noqa: E712 - None (an empty row) is not kept
    return comparison


def points_option(program, report) -> str:
    """The report option `points`: "sweep" (default, every point of the sweep) or "runs" (the points runs have)."""
    return option_value(program.sources, report, "points")


def _source_text(run) -> str:
    """Where a run came from, as the workbook's Run source says it: its log and row, then the place an ingested
    log's `source` column names (the log it was converted from: "runs.csv:row 6 (from bench.json:report)"), and
    the conversion a reader made of its value (a published decode rate of a batch, divided by it)."""
    text = run.source
    if run.extra.get("source"):
        text += f" (from {run.extra['source']})"
    if run.extra.get("converted"):
        text += f" ({run.extra['converted']})"
    return text


def _value_not_swept(key: str, wanted, values: np.ndarray, taken: dict[int, list]) -> str | None:
    """Why a run matches no point, where its value of `key` is none the report's points take (`n_gpus 8`, where the
    report evaluates n_gpus 1 only): "n_gpus 8 is not among the report's values (1)"; None where the value is
    among them (the run's fields together match no point). `values`: the field's value at each point; `taken`
    keeps their distinct values, found once a field."""
    distinct = taken.get(id(values))
    if distinct is None:
        distinct = taken[id(values)] = np.unique(values).tolist()
    try:
        among = any(np.isclose(value, float(wanted), rtol=1e-9, atol=0) for value in distinct) \
            if values.dtype.kind == "f" else _normalise(wanted) in distinct
    except (TypeError, ValueError):
        among = False
    if among:
        return None
    shown = ", ".join(format(value, "g") if isinstance(value, float) else str(value) for value in distinct[:8])
    return f"{key} {wanted} is not among the report's values ({shown}{', ...' if len(distinct) > 8 else ''})"


def _point_values(result: Result, key: str) -> tuple[np.ndarray, dict[str, tuple[str, ...]]] | None:
    """Per sweep point, the value a run's identifying field `key` is compared with (flat), or None."""
    ctx = result.ctx
    program = result.program
    evaluator = result.evaluator
    blocks = ctx.role_blocks(key) if key != "report" else None
    if blocks:
        aliases = block_aliases(program, blocks)
        if key in ctx.fixed_roles:
            values = np.full(ctx.n_points, ctx.fixed_roles[key], dtype=object)
        else:
            index, coord = ctx.swept_roles[key]
            shape = [1] * len(ctx.axes)
            shape[index] = len(coord.values)
            values = np.broadcast_to(coord.values.reshape(shape), ctx.shape).reshape(-1)
        return values, aliases
    for alias in ALIASES.get(key, (key,)):
        for block_name in [ctx.report.name] + [b for r, b in ctx.fixed_roles.items() if r != "report"]:
            block = program.blocks[block_name]
            if block_name == ctx.report.name and (alias in ctx.fixed_roles or alias in ctx.swept_roles):
                continue    # the report's `precision = fp16` binds a role: not a value to compare (issue 13)
            if alias in block.cells:
                array = evaluator.run(lambda: evaluator.cell(block, alias))
                return np.broadcast_to(evaluator._rank(array), ctx.shape).reshape(-1), {}
    return None


def _log_of(run) -> str:
    return log_of(run.source)


def log_of(source: str) -> str:
    """The log a run came from: its source without the row or part ("runs.csv:row 3" -> "runs.csv"; "v.json:$",
    "smi.csv:rows 1-25 (GPU 0)", "v.json:report" -> the path); a source without one is the path itself."""
    if ":row " in source:
        return source.rsplit(":row ", 1)[0]
    path, sep, part = source.rpartition(":")
    return path if sep and path and "/" not in part and "\\" not in part else source


def _side_example(axes) -> str:
    """The side metadata a run of a report with these axes gives, as JSON, each swept name with the axis's first value
    (a block's name for a swept role, a number in SI, as matching compares it): `{"request_rate": 1}`."""
    import json

    example = {}
    for axis in axes:
        for coord in axis.coords:
            value = coord.values[0]
            if coord.kind == "num":
                value = float(value)
                value = int(value) if value.is_integer() else value
            elif coord.kind == "bool":
                value = bool(value)
            else:
                value = str(value)
            example[coord.name] = value
    return json.dumps(example)


def _refuse_uncomparable(runs, shown: dict, n_points: int, axes) -> tuple[list, list[Diagnostic]]:
    """(the runs to match, an error[nothing-to-compare] per log refused). A log is refused, as a log with no usable
    row is (no-rows, exit status 1), where it can give nothing to compare: none of its runs carries a metric the
    report shows (nor a near miss or the last part of a shown name: those are naming slips, each warned about at its
    column by run_fields.unused_metrics and unused_identities), as a latency report given a log of other figures;
    or, in a report of several points, none of its runs has an identifying field, so each would match every point.
    The wrong tool's log was compared with nothing under exit status 0, its runs described by an empty text. `axes`:
    the report's (their names and first values make the hint's side metadata: _side_example)."""
    from .run_fields import _as_metric, metric_hint as _metric_hint, takes_metric

    by_log: dict[str, list] = {}
    for run in runs:
        by_log.setdefault(_log_of(run), []).append(run)
    kept, refused = [], []
    for log, log_runs in by_log.items():
        metrics = list(dict.fromkeys(name for run in log_runs for name in run.metrics))
        fields = {name for run in log_runs for name in run.identity}
        # Only a metric compares: a field that reads as a shown metric without its unit (`runtime_ms`) identifies
        # the run, so a log whose only figure is one compares nothing; the error's hint names the column to write.
        comparable = any(takes_metric(name, shown, log_runs) for name in metrics)
        anonymous = n_points > 1 and not any(run.identity for run in log_runs)
        if comparable and not anonymous:
            kept.extend(log_runs)
            continue
        formats = ", ".join(sorted({run.format for run in log_runs}))
        holds = ", ".join(f"'{name}'" for name in metrics) or "no metric"
        wants = ", ".join(f"'{name}'" for name in shown) or "no metric"
        differ = ", ".join(axis.name for axis in axes)
        if not comparable:
            message = (f"no run of this log carries a metric the report shows: the log ({formats}) holds {holds}; "
                       f"the report shows {wants}")
            hints = [_metric_hint(name, shown) for name in sorted(fields) if _as_metric(name, shown)[0]]
            hints.append("a log is compared where its runs measure a shown metric: give the log that does, or leave "
                         "this one out; none of its runs is compared")
        else:
            message = (f"no run of this log can be matched: the log ({formats}) holds {holds} for runs without an "
                       f"identifying field; the report's {n_points} sweep points differ in {differ}, so each run "
                       "would match them all and none is compared")
            hints = []
        notes = ([f"its runs give no identifying field, so each would match all {n_points} sweep points (they "
                  f"differ in {differ})"] if anonymous and not comparable else [])
        if anonymous:
            hints.append(f"give the identifying fields ({differ}) as side metadata: perfdsl ingest LOG --meta "
                         f"side.json with the run's values, e.g. {_side_example(axes)}, or a file LOG.meta.json "
                         "beside the log")
        refused.append(Diagnostic("nothing-to-compare", message, Location(log), notes=notes, hints=hints))
    return kept, refused


def _close_fields(result: Result, ignored: list[str]) -> dict[str, list[str]]:
    """For each field in `ignored`, the identifying fields of the report it is a near miss of (`hardwre` ->
    ['hardware']): the sweep's axes and cells, the roles it binds and the usual run fields, each kept only where
    matching can use it (_point_values, asked of the few near misses only)."""
    from .runlogs.records import IDENTITY_ORDER

    ctx = result.ctx
    names = set(IDENTITY_ORDER) | set(ctx.fixed_roles) | set(ctx.swept_roles) | {a.name for a in ctx.axes}
    names |= {cell for _, cell in ctx.sweep_cells}
    names.discard("report")
    close: dict[str, list[str]] = {}
    for key in ignored:
        found = sorted(n for n in names if n != key and near_miss(key, n) and _point_values(result, n) is not None)
        if found:
            close[key] = found
    return close


def _normalise(value) -> object:
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    return str(value).strip().lower()


def _match(comparison: Comparison, runs) -> None:
    result = comparison.result
    n = result.n_points
    keys = sorted({k for run in runs for k in run.identity})
    columns: dict[str, tuple[np.ndarray, dict[str, tuple[str, ...]]]] = {}
    ignored = []
    for key in keys:
        found = _point_values(result, key)
        if found is None:
            ignored.append(key)
        else:
            columns[key] = found
    comparison.used_keys = list(columns)
    shown = {column.name: column for column in result.columns if column.kind == "num"}
    runs, refused = _refuse_uncomparable(runs, shown, n, result.ctx.axes)
    comparison.diagnostics.extend(refused)
    # A refused log's fields are not matched on at all: its error says what it lacks (and names a field that reads
    # as a metric without its unit), so the unused-field warnings speak of the runs kept only.
    fields_kept = {key for run in runs for key in run.identity}
    ignored = [key for key in ignored if key in fields_kept]
    comparison.carried = _carried(runs, shown, [column for column in result.columns if column.kind == "num"])
    if ignored:
        comparison.diagnostics.extend(unused_identities(ignored, runs, shown, _close_fields(result, ignored)))

    normalised = {}
    for key, (values, aliases) in columns.items():
        if aliases:
            normalised[key] = (values, aliases)
        else:
            normalised[key] = (np.array([_normalise(v) for v in values.tolist()], dtype=object)
                               if values.dtype.kind not in "fiub" else values.astype(float), {})

    # A run's value of a shown name in SI depends on the name and the column's dimension alone: one array per
    # (name, dimension), read by each column of it (a cell shown in ms and in s; two cells shown `as t`), the first
    # such column standing for them in a warning. A name's columns of two dimensions are measured apart.
    numeric = [column for column in result.columns if column.kind == "num"]
    measurable: dict[tuple, object] = {}
    for column in numeric:
        measurable.setdefault((column.name, column.dim), column)
    measured = {key: np.full(n, np.nan) for key in measurable}
    derived_used: set[str] = set()
    run_source = np.full(n, "", dtype=object)
    run_trace = np.full(n, "", dtype=object)
    matched_points = np.zeros(n, dtype=bool)
    broken_asked = np.zeros(n, dtype=bool)
    runs_at: dict[int, list] = {}

    valid = None if result.valid.all() else result.valid.reshape(-1)    # points that meet every constraint
    ambiguous: list[tuple] = []      # (run, its names shared by several blocks) for the runs matching several points
    name_hints: list[str] = []       # how to match the runs whose model, hardware ... names no block of the report
    unknown_names: dict[tuple[str, str], tuple[str, list[str]]] = {}     # (role, text) -> _closest's answer
    taken: dict[int, list] = {}      # id of a field's values -> the distinct values the report's points take
    for run in runs:
        mask = np.ones(n, dtype=bool)
        reason = None
        shared = []         # the run's names that are the label of several blocks: why it may be ambiguous
        for key, (values, aliases) in normalised.items():
            if key not in run.identity:
                continue
            wanted = run.identity[key]
            if aliases:
                blocks = aliases.get(str(wanted).strip().lower())
                if blocks is None:
                    said, helps = _closest(result.program, key, str(wanted), aliases, unknown_names)
                    reason = f"{key} '{wanted}' is not in the report{said}"
                    for line in helps:
                        if line not in name_hints:
                            name_hints.append(line)
                    mask[:] = False
                    break
                if len(blocks) > 1:
                    shared.append((key, str(wanted), blocks))
                mask &= np.isin(values, blocks)
            elif values.dtype.kind == "f":
                try:
                    mask &= np.isclose(values, float(wanted), rtol=1e-9, atol=0)
                except (TypeError, ValueError):
                    mask[:] = False
            else:
                mask &= values == _normalise(wanted)
            if reason is None and not mask.any():
                reason = _value_not_swept(key, wanted, values, taken)
        identity = ", ".join(f"{k}={v}" for k, v in run.identity.items()) or "a run without identifying fields"
        if valid is not None and (mask & ~valid).any() and not (mask & valid).any():
            # The run's point breaks a `require`: no estimate stands there (constraints.py).
            reason = "its sweep point breaks a constraint: " + _broken_at(result, int(np.flatnonzero(mask)[0]))
            broken_asked |= mask
            mask[:] = False
        hits = np.flatnonzero(mask if valid is None else mask & valid)
        if len(hits) == 0:
            comparison.unmatched.append(Unmatched("run without estimate", identity + (f" ({reason})" if reason else ""),
                                                  run.source))
            continue
        if len(hits) > 1:      # compared with none of them: which one the run measured is not known
            comparison.unmatched.append(Unmatched("ambiguous match", f"{identity} matches {len(hits)} sweep points: "
                                                  + "; ".join(_describe(result, hit) for hit in hits[:4])
                                                  + ("; ..." if len(hits) > 4 else ""), run.source))
            ambiguous.append((run, shared))
            continue
        point = int(hits[0])
        matched_points[point] = True
        runs_at.setdefault(point, []).append(run)

    if ambiguous:
        comparison.diagnostics.append(_ambiguous_warning(result.program, comparison.unmatched, ambiguous))
    repeated = {point: point_runs for point, point_runs in runs_at.items() if len(point_runs) > 1}
    if repeated:
        comparison.diagnostics.append(_repeated_runs_note(result, repeated))
    mismatched: dict[tuple, list] = {}
    # (log, shown column's key, run metric, unit as written) -> [(run, SI value, point)]
    read: dict[tuple, list] = {}
    for point, point_runs in runs_at.items():
        run_source[point] = "; ".join(run.source for run in point_runs)
        run_trace[point] = "; ".join(_source_text(run) for run in point_runs)
        for (name, _), column in measurable.items():
            values = []
            for run in point_runs:
                value = _run_metric(comparison, run, name, column, derived_used, mismatched)
                if value is None:
                    continue
                values.append(value)
                metric = _metric_read(run, name)
                if metric is not None:       # read, not derived (a throughput from a runtime)
                    read.setdefault((_log_of(run), column.key, metric, run.metrics[metric].unit), []).append(
                        (run, value, point))
            if values:
                measured[name, column.dim][point] = float(np.median(values))
    comparison.diagnostics.extend(_unit_mismatches(mismatched, measurable))
    if read:
        from .measured_scale import scale_warnings

        # By the column's key: the column of the run's dimension where a name is shown with two (measurable).
        estimates = {key: np.asarray(result.column(key, all_points=True), dtype=float)
                     for key in {key[1] for key in read}}
        comparison.diagnostics.extend(scale_warnings(read, estimates))

    for column in numeric:       # each shown column, as the workbook has a group per show (MetricMatch)
        values = measured[column.name, column.dim]
        if np.isfinite(values).any():
            comparison.metrics.append(MetricMatch(column.name, column.key, column.unit, column.scale, values,
                                                  derived=column.name in derived_used))
    used = {"runtime"} if "throughput" in derived_used else set()     # a throughput derived from the runtime
    used |= {alias for name in shown for alias in METRIC_ALIASES.get(name, ())}
    # A log refused above has said that nothing of it is compared: no second warning for its metrics.
    comparison.diagnostics.extend(unused_metrics(runs, shown, used,
                                                 compared_any=bool(comparison.metrics) or bool(refused)))
    comparison.run_source = run_source
    comparison.run_trace = run_trace
    comparison.matched_runs = [run for point in sorted(runs_at) for run in runs_at[point]]
    comparison.asked = matched_points | broken_asked
    without = np.flatnonzero(~matched_points if valid is None else ~matched_points & valid)
    if runs and len(without):
        for point in without[:10_000]:
            comparison.unmatched.append(Unmatched("estimate without run", _describe(result, point)))
    _summarise(comparison, len(without), name_hints)


def _closest(program, key: str, wanted: str, aliases: dict, memo: dict) -> tuple[str, list[str]]:
    """run_names.closest_block for a run's `key` text that names no block of the report (`aliases`: block_aliases),
    asked once per text."""
    from .run_names import closest_block

    if (key, wanted.lower()) not in memo:
        blocks = [block for names in aliases.values() for block in names]
        cells = ("hf_id", "label") if key == "model" else LABEL_CELLS
        memo[key, wanted.lower()] = closest_block(program, key, wanted, blocks, cells)
    return memo[key, wanted.lower()]


def _carried(runs, shown: dict, columns: list) -> set[str]:
    """The keys of the shown columns (`columns`, numeric; `shown`: name -> column) the runs can carry, matched or
    not: a column of a metric some run gives under its name or an alias, a throughput some run gives as a runtime
    with its tokens, or one a run's metric is a naming slip of (a near miss, the last part of a shown name: warned
    about at its column, its Measured cells empty). A metric none of them is meant for (a kernel count beside a log
    of latencies) is no comparison's. Where a name is shown in two dimensions (`show t in ms, x in token/s as t`),
    the runs measure it in one: a column of a dimension no run gives it in, beside one of a dimension they do, carries
    nothing (the runs are compared in the other, as CSV says: _match measures by name and dimension)."""
    names = {name for run in runs for name in run.metrics}
    found = set()
    for metric in shown:
        if metric in names or any(alias in names for alias in METRIC_ALIASES.get(metric, ())):
            found.add(metric)
        elif metric == "throughput" and "runtime" in names and any("tokens" in run.identity for run in runs):
            found.add(metric)
        elif any(near_miss(name, metric) or metric.rpartition(".")[2] == name for name in names):
            found.add(metric)
    keys = set()
    for name in found:
        of_name = [column for column in columns if column.name == name]
        given = {run.metrics[read].dim for run in runs if (read := _metric_read(run, name)) is not None}
        if len({column.dim for column in of_name}) > 1 and given & {column.dim for column in of_name}:
            of_name = [column for column in of_name if column.dim in given]
        keys |= {column.key for column in of_name}
    return keys


def _metric_read(run, name: str) -> str | None:
    """The name of the run's metric read for the shown column `name`: itself, or an alias (METRIC_ALIASES); None
    where the run has neither."""
    for metric in (name, *METRIC_ALIASES.get(name, ())):
        if metric in run.metrics:
            return metric
    return None


def _run_metric(comparison: Comparison, run, name: str, column, derived_used: set[str],
                mismatched: dict[tuple, list]) -> float | None:
    """A run's value (SI) for the shown column `name`, or None where it has none or one of another dimension (then the
    run is added to `mismatched` under (log, metric, the run's field: the metric's name or the alias it gives it
    under (e2e_latency for e2e), unit, the column's dimension), for one warning per log column: _unit_mismatches)."""
    metric = run.metrics.get(name)
    if metric is None and name == "throughput" and "runtime" in run.metrics and "tokens" in run.identity:
        runtime = run.metrics["runtime"].value
        if runtime > 0:
            derived_used.add(name)
            return float(run.identity["tokens"]) / runtime
        return None
    field = name if metric is not None else _metric_read(run, name)
    if field is None:
        return None
    metric = run.metrics[field]
    if column.dim is not None and metric.dim != column.dim:
        mismatched.setdefault((_log_of(run), name, field, metric.unit, column.dim), []).append(run)
        return None
    return metric.value * comparison.aliases.get(metric.unit, 1.0)


def _unit_mismatches(mismatched: dict[tuple, list], measurable: dict) -> list[Diagnostic]:
    """One warning per log and metric whose unit has another dimension than the shown column's (`memory [s]` beside
    memory in byte; `measurable`: (name, dimension) -> the first column of them), located at the column's header
    cell where the log has one (perfdsl CSV, JSON Lines), counting the runs it left uncompared: a log of 3,600 rows
    gave 3,600 warnings, each located only in a help line. None where another column of the name has the run's
    dimension and took it (`show t in ms, b in B as t`)."""
    from .runlogs.columns import kind_of
    from .run_fields import header_place
    from .units import dimension_name

    diagnostics = []
    for (log, name, field, unit, dim), runs in mismatched.items():
        column, first = measurable[name, dim], runs[0]
        if (name, first.metrics[field].dim) in measurable:
            continue        # compared with another column of the name, of its dimension (`show t in ms, m in B as t`)
        location, line = header_place(first, field, quantity=True)
        had, wants = first.metrics[field].dim, column.dim
        headed = location is not None and bool(location.detail)       # "column 'memory [s]'": the header as written
        where = location.detail if headed else f"the runs' '{field}'"
        count = f"{len(runs)} {'row' if headed else 'run'}{'s' if len(runs) != 1 else ''}"
        rows = ", ".join(run.source.rsplit(":", 1)[-1] for run in runs[:5]) + (", ..." if len(runs) > 5 else "")
        diagnostics.append(Diagnostic(
            "unit-mismatch", f"{where} is {kind_of(had)} ({unit}), but the report shows '{column.ref}' as "
            f"{kind_of(wants)} ({dimension_name(wants)}); not compared ({count})", location or Location(log), line,
            notes=[f"not compared in {count}: {rows}"],
            hints=[f"write the column in a unit of {dimension_name(wants)}, e.g. '{field} "
                   f"[{column.unit or dimension_name(wants)}]', or name it after the metric it measures"],
            severity="warning"))
    return diagnostics


def _repeated_runs_note(result: Result, repeated: dict[int, list]) -> Diagnostic:
    """Several runs of one sweep point are repeats of one measurement: each metric compared is their median."""
    points = sorted(repeated)
    lines = [f"{_describe(result, point)}: {len(repeated[point])} runs ("
             + ", ".join(run.source for run in repeated[point][:4])
             + (", ..." if len(repeated[point]) > 4 else "") + ")" for point in points[:LIST_LIMIT]]
    if len(points) > LIST_LIMIT:
        lines.append(f"... and {len(points) - LIST_LIMIT} more")
    note = error("repeated-runs", f"{len(points)} sweep point{'s have' if len(points) > 1 else ' has'} several runs; "
                 "each metric compared is the median of its runs", notes=lines,
                 hints=["add an identifying field (a cell of the report) to the runs if they are not repeats"])
    note.severity = "note"
    return note


def _ambiguous_warning(program, unmatched: list[Unmatched], ambiguous: list[tuple]) -> Diagnostic:
    """The warning for the runs that match several sweep points, compared with none of them: located at the first
    such run's row, a note per run naming the points it matches, and how to tell them apart, by name where a run's
    text is the label of several blocks (block_aliases), else by an identifying field."""
    items = [item for item in unmatched if item.kind == "ambiguous match"]
    count = len(items)
    lines = [f"{item.description} ({item.source})" for item in items[:LIST_LIMIT]]
    if count > LIST_LIMIT:
        lines.append(f"... and {count - LIST_LIMIT} more")
    hints, seen = [], set()
    for _, shared in ambiguous:
        for key, text, blocks in shared:
            if (key, text.lower()) in seen:
                continue
            seen.add((key, text.lower()))
            cell = next((c for c in LABEL_CELLS if _label_of(program, blocks[0]).get(c, "").lower()
                         == text.strip().lower()), "label")
            hints.append(f"{key} '{text}' is the {cell} of {len(blocks)} blocks ({', '.join(blocks)}): give each "
                         f"block its own {cell}, or name the block in the runs' '{key}' column (e.g. {blocks[-1]})")
    if any(not shared for _, shared in ambiguous):     # several points apart from a shared label
        hints.append("give the runs an identifying field whose value differs between those points (a cell of the "
                     "report, or a role such as model or hardware)")
    first = ambiguous[0][0].source
    path, _, where = first.rpartition(":")
    location = Location(path, detail=where if where.startswith("row ") else "") if path else None
    plural = "" if count == 1 else "es"
    warn = error("unmatched", f"{count} ambiguous match{plural}: a run that matches several sweep points is "
                 "compared with none of them", location, notes=lines, hints=hints)
    warn.severity = "warning"
    return warn


def _label_of(program, name: str) -> dict[str, str]:
    """The LABEL_CELLS texts block `name` has (written or inherited)."""
    block = program.blocks[name]
    return {c: block.cells[c].expr.value.strip() for c in LABEL_CELLS
            if c in block.cells and isinstance(block.cells[c].expr, ir.Str)}


def _broken_at(result: Result, point: int) -> str:
    """The messages of the constraints the sweep point (flat index) breaks."""
    return "; ".join(violation.message for violation in result.violations
                     if np.broadcast_to(violation.broken, result.shape).reshape(-1)[point])


def _describe(result: Result, point: int) -> str:
    index = np.unravel_index(int(point), result.shape) if result.shape else ()
    return result.evaluator.describe_point(tuple(int(i) for i in index), result.shape,
                                           {}) if result.shape else "the only point"


def _summarise(comparison: Comparison, without: int, name_hints: list[str] = ()) -> None:
    groups: dict[str, list[Unmatched]] = {}
    for item in comparison.unmatched:       # (ambiguous matches have their own warning: _ambiguous_warning)
        if item.kind not in (UNUSABLE, KEPT_WITH_NOTE, "ambiguous match"):
            groups.setdefault(item.kind, []).append(item)
    for kind, items in groups.items():
        if kind == "estimate without run":
            count = without
        else:
            count = len(items)
        lines = [f"{item.description}" + (f" ({item.source})" if item.source else "") for item in items[:LIST_LIMIT]]
        if count > LIST_LIMIT:
            lines.append(f"... and {count - LIST_LIMIT} more")
        plural = "" if count == 1 else "s"
        message = {"run without estimate": f"{count} run{plural} without an estimate",
                   "estimate without run": f"{count} estimate{plural} without a run"}.get(kind, kind)
        note = error("unmatched", message, notes=lines,
                     hints=list(name_hints[:LIST_LIMIT]) if kind == "run without estimate" else [])
        note.severity = "warning" if kind != "estimate without run" else "note"
        comparison.diagnostics.append(note)
