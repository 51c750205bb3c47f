"""The outputs of one evaluation agree: every format and every view of a report carries the same numbers, in the
units its headers and attributes say.

For each report below (small hand-written ones that cover shown units, labels, shown axes, counts, text and flags,
NaN and infinity, constraints omitted or marked, `where`, the four questions and measured runs; reports made by
hypothesis; and the bundled reports that evaluate quickly, the large ones narrowed with --set), the rows of the API
(`Result.table()`, and with runs the comparison's, as `perfdsl eval` writes them) are the reference, and each of
these must give the same values, converted through the unit in its header or attributes:
- `perfdsl eval` to the terminal, a table file, CSV, JSON, JSON Lines, Parquet and the section sheets of the
  workbook (and of the live workbook, whose formulas carry their values);
- `Result.records()`, `column()` (SI), `display_column()`, `to_pandas()`, `to_xarray()` (SI and display) and, for
  best / largest / smallest, `to_xarray(answer=True)`;
- chunked evaluation (`--chunk-points` small, evaluate_chunks, answer_in_chunks, a chunked question's workbook),
  which equals the whole for every format.
Values that are not finite are written as README.md's table of output formats says: JSON, JSON Lines, records() and
the workbook have none (null, blank), CSV, the table, Parquet, pandas and xarray keep an infinity. The workbook's
measured values are written to 15 significant digits and its errors are formulas over them (compared to 1e-9).
A name shown twice with runs (`show t in ms, t in s`, two cells `as t`) has a Measured and an Error per column, in
every output (runs_shown_twice). The disagreements found and not fixed are marked xfail (KNOWN), with what they are.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import perfdsl
from perfdsl import cli
from perfdsl.intervals import with_intervals
from perfdsl.output import restore
from perfdsl.units import parse_unit
from perfdsl.workbook_export import _per_point_text, title_of

pandas = pytest.importorskip("pandas", reason="pandas is in the dev extra")
xarray = pytest.importorskip("xarray", reason="xarray is in the dev extra")
parquet = pytest.importorskip("pyarrow.parquet", reason="pyarrow is in the dev extra")
openpyxl = pytest.importorskip("openpyxl")

REPO = Path(__file__).resolve().parent.parent

# Shared blocks of the hand-written reports: two models, two GPUs, a batch x tp grid, and cells of every kind. Text
# that a spreadsheet would run ("=Big,12B", with a comma) tests the neutralising of CSV and JSON Lines.
BASE = """
model small { params = 1e9; name = "Small-1B"; moe = false }
model big { params = 12e9; name = "=Big,12B"; moe = true }
hardware a { mem_size = 24 GB; peak = 100 TFLOP/s; clock = 1.5 GHz; boost = clock * 1.25; kind = "pcie" }
hardware b { mem_size = 80 GB; peak = 400 TFLOP/s; clock = 1.98 GHz; boost = clock * 1.25; kind = "sxm" }
workload grid {
    sweep batch = [1, 2, 4, 8]
    sweep tp = [1, 2]
    seq = 512
}
costmodel serving {
    memory = model.params * 2 byte / workload.tp + workload.batch * 1 GB
    kv = workload.batch * workload.seq * 128 KiB
    fits = memory <= hardware.mem_size
    flops = model.params * 2 FLOP * workload.batch * workload.seq
    tpot = model.params * 2 FLOP / hardware.peak * (1 + workload.batch / 8) / workload.tp
    gpu_time = tpot * workload.tp / workload.batch
    throughput = workload.batch / tpot
    achieved = flops / (tpot * workload.seq)
    cycles = tpot * hardware.clock
    ratio = workload.batch / workload.tp
    undefined = no_value(1 s) + tpot
    overflow = if(workload.batch > 4, 1 s / (workload.batch - workload.batch), tpot)
    verdict = if(fits, "fits", "too big")
    sparse = model.moe and fits
}
"""

# name -> the report (after BASE). Each is one report, so `perfdsl eval FILE` runs it.
REPORTS = {
    "units": """report r {
    sweep model = [small, big]
    sweep hardware = [a, b]
    workload = grid
    show serving.tpot in ms, serving.memory in GB, serving.achieved in TFLOP/s, serving.throughput in 1/s,
         serving.cycles, serving.ratio, serving.kv in GiB as kv_gib, serving.gpu_time in us as gpu_us
}""",
    "labels_text_flags": """report r {
    sweep model = [small, big]
    hardware = a
    workload = grid
    show model.name as Model, serving.tpot in ms as tpot, serving.memory in GB as mem, serving.fits as fits,
         serving.verdict as verdict, serving.sparse, hardware.clock in GHz as clk, hardware.kind
}""",
    "clock_in_hz": """report r {
    sweep hardware = [a, b]
    model = small
    workload = grid
    show hardware.clock, hardware.boost in MHz as boost_mhz, serving.cycles, serving.throughput
}""",
    "shown_axes": """report r {
    sweep model = [small, big]
    hardware = b
    workload = grid
    sweep ctx = [0.5 GB, 1 GB, 2 GB]
    show serving.tpot in ms, ctx, workload.batch, workload.tp as TP, serving.memory in MB
}""",
    "shown_axis_in_a_unit": """report r {
    model = small
    hardware = a
    workload = grid
    sweep ctx = [500 MB, 1 GB, 2.5 GB]
    show ctx in GB, serving.tpot in us
}""",
    "zipped_axis": """workload zipped { sweep (batch, seq) = [(1, 4096), (8, 512), (16, 256)]; tp = 1 }
report r {
    sweep model = [small, big]
    hardware = a
    workload = zipped
    show serving.tpot in ms, serving.flops in TFLOP
}""",
    "counts": """workload odd { sweep batch = [1, 3, 5]; sweep tp = [1, 2]; seq = 100 }
report r {
    model = small
    hardware = a
    workload = odd
    n = workload.batch * workload.tp
    show n, serving.ratio, workload.seq
}""",
    "text_and_flag_axes": """report r {
    sweep mode = ["eager", "graphs"]
    sweep flag = [true, false]
    model = small
    hardware = a
    workload = grid
    factor = if(mode == "eager", 2, 1)
    show factor, serving.tpot in ms
}""",
    "nan_and_infinity": """report r {
    sweep model = [small, big]
    hardware = a
    workload = grid
    show serving.overflow in ms, serving.undefined in ms, serving.tpot in ms
}""",
    "fraction_axis": """report r {
    sweep x = [-2, 0, 1, 2.5]
    sweep n = [1, 2]
    y = n / x
    z = x * (n / x)
    show y, z
}""",
    "constraint_omit": """workload g2 extends grid { require batch <= 4 or tp > 1, "a batch above 4 needs tp 2" }
report r {
    sweep model = [small, big]
    hardware = a
    workload = g2
    show serving.tpot in ms, serving.fits, serving.verdict, serving.memory in GB
}""",
    "constraint_mark": """workload g2 extends grid {
    require batch <= 4 or tp > 1, "a batch above 4 needs tp 2"
    require batch != 2, "no batch of 2"
}
report r {
    sweep model = [small, big]
    hardware = a
    workload = g2
    invalid_points = "mark"
    show serving.tpot in ms, serving.fits, serving.verdict, serving.memory in GB
}""",
    "constraint_mark_none_broken": """workload g2 extends grid { require batch <= 100, "a batch of at most 100" }
report r {
    sweep model = [small, big]
    hardware = a
    workload = g2
    invalid_points = "mark"
    show serving.tpot in ms, serving.fits
}""",
    "where": """report r {
    sweep model = [small, big]
    sweep hardware = [a, b]
    workload = grid
    show serving.tpot in ms as tpot, serving.memory in GB, serving.fits
    where serving.fits and tpot <= 0.5 ms
}""",
    "where_keeps_nothing": """report r {
    model = small
    hardware = a
    workload = grid
    show serving.tpot in ms
    where serving.tpot <= 0 s
}""",
    "section": """report r {
    sweep model = [small, big]
    hardware = a
    workload = grid
    section = if(workload.tp > 1, "Multi GPU", "Single GPU")
    show serving.tpot in ms, serving.memory in GB
}""",
    "best": """report r {
    sweep model = [small, big]
    sweep hardware = [a, b]
    workload = grid
    show serving.memory in GB, serving.tpot in ms, serving.verdict, serving.fits
    where serving.fits and serving.tpot <= 0.3 ms
    best min serving.gpu_time per model, hardware
}""",
    "best_with_a_group_unanswered": """report r {
    sweep model = [small, big]
    sweep hardware = [a, b]
    workload = grid
    show serving.tpot in ms as tpot, serving.fits as fits, serving.ratio
    where fits and tpot <= 0.05 ms
    best min serving.gpu_time per model, hardware
}""",
    "best_max_by_label_one_group": """report r {
    sweep model = [small, big]
    hardware = a
    workload = grid
    show serving.throughput in 1/s as tput, serving.tpot in ms
    best max tput
}""",
    "best_marked": """workload g2 extends grid { require batch <= 4 or tp > 1, "a batch above 4 needs tp 2" }
report r {
    sweep model = [small, big]
    hardware = a
    workload = g2
    invalid_points = "mark"
    show serving.tpot in ms, serving.fits
    best max serving.throughput per model
}""",
    "pareto": """report r {
    sweep model = [small, big]
    hardware = b
    workload = grid
    show serving.tpot in ms, serving.throughput in 1/s, model.name
    pareto min serving.tpot, max serving.throughput per model
}""",
    "pareto_with_a_group_unanswered": """report r {
    sweep model = [small, big]
    hardware = a
    workload = grid
    show serving.tpot in ms, serving.throughput in 1/s, serving.fits
    where serving.tpot <= 0.03 ms
    pareto min serving.tpot, max serving.throughput per model
}""",
    "largest_with_groups_unanswered": """report r {
    sweep model = [small, big]
    sweep hardware = [a, b]
    workload = grid
    show serving.memory in GB, serving.fits, serving.verdict, model.name
    where serving.fits and serving.memory <= 14 GB and workload.tp == 1
    largest batch per model, hardware
}""",
    "smallest": """report r {
    sweep model = [small, big]
    hardware = a
    workload = grid
    show serving.memory in GB, serving.tpot in ms
    where serving.tpot <= 0.2 ms
    smallest tp per model, batch
}""",
    "smallest_over_a_text_axis": """report r {
    sweep mode = ["eager", "graphs"]
    sweep model = [small, big]
    hardware = a
    workload = grid
    factor = if(mode == "eager", 2, 1)
    t = serving.tpot * factor
    show t in ms, factor
    where t <= 0.1 ms
    smallest batch per mode, model
}""",
    "largest_axis_with_a_unit": """report r {
    sweep ctx = [500 MB, 1 GB, 2.5 GB]
    sweep n = [1, 2, 3]
    t = ctx / (1 GB/s) * n
    show t in ms, ctx in GB
    where t <= 2 s
    largest ctx per n
}""",
    "swept_cell_in_another_unit": """workload long extends grid { sweep ctx = [0.5 GB, 2 GB] }
report r {
    model = small
    hardware = a
    workload = long
    show workload.ctx in MB as ctx_mb, workload.tp as tp_shown, serving.tpot in ms
}""",
    "text_a_spreadsheet_would_run": """report r {
    sweep mode = ["=eager", "+graphs", "-1", "@x", "'=quoted"]
    model = small
    hardware = a
    workload = grid
    tag = mode
    show tag, serving.tpot in ms
}""",
    "question_no_group_answered": """report r {
    sweep model = [small, big]
    sweep hardware = [a, b]
    workload = grid
    show serving.tpot in ms, serving.fits, serving.verdict, serving.ratio
    where serving.tpot <= 0 s
    best min serving.gpu_time per model
}""",
    "labelled_swept_cell_per_its_axis": """report r {
    model = small
    hardware = a
    workload = grid
    show workload.tp as TP, serving.tpot in ms
    where serving.tpot >= 0.04 ms
    best min serving.gpu_time per tp
}""",
    "shown_axis_kept_by_the_question": """report r {
    sweep ctx = [500 MB, 1 GB, 2.5 GB]
    sweep mode = ["eager", "graphs"]
    model = small
    hardware = a
    workload = grid
    scaled = serving.tpot * ctx / (1 GB)
    show ctx, scaled in ms
    where ctx >= 1 GB
    best min scaled per ctx
}""",
    "runs": """report r {
    sweep model = [small, big]
    hardware = a
    workload = grid
    measured = "runs.csv"
    error_convention = "estimated"
    show serving.tpot in ms as tpot, serving.memory in GB as memory, serving.fits, serving.verdict
}""",
    "runs_shown_twice": """report r {
    sweep model = [small, big]
    hardware = a
    workload = grid
    measured = "runs.csv"
    show serving.tpot in ms as tpot, serving.tpot in us as tpot, serving.gpu_time in s as tpot,
         serving.memory in GB as memory
}""",
    "runs_points": """workload open { batch = 1; tp = 1; seq = 512 }
report r {
    sweep model = [small, big]
    hardware = a
    workload = open
    measured = "runs.csv"
    points = "runs"
    measured_unit_aliases = "GB=GiB"
    show serving.tpot in ms as tpot, serving.memory in GB as memory
}""",
}

# Run logs written beside a report that names them (perfdsl's CSV: a model block's name, the point's fields, each
# metric in the unit of its header): a run for some points, none for others; GB read as GiB where the report says so.
RUN_LOGS = {
    "runs": "model,batch,tp,tpot [us],memory [GB]\nsmall,1,1,23,3.1\nbig,8,2,250,20\nsmall,4,2,NA,5\n",
    "runs_shown_twice": "model,batch,tp,tpot [us],memory [GB]\nsmall,1,1,23,3.1\nbig,8,2,250,20\n",
    "runs_points": "model,batch,tpot [ms],memory [GB]\nsmall,1,0.023,2.9\nbig,4,0.34,27\nbig,2,0.3,25\n",
}


@dataclass(frozen=True)
class Case:
    """A report to evaluate every way: a file (a hand-written one is written from BASE and REPORTS), the report
    where the file defines several, and --set values (as `overrides` in the API)."""

    name: str
    path: Path | None = None
    report: str | None = None
    sets: tuple[tuple[str, str], ...] = ()
    text: str | None = None              # the report after BASE (default: REPORTS[name])

    def args(self) -> list[str]:
        extra = ["--report", self.report] if self.report else []
        for cell, value in self.sets:
            extra += ["--set", f"{cell}={value}"]
        return extra


# Bundled reports that evaluate in well under a second (capacity planning and deployment narrowed by --set); each
# with runs, a calibration, sections, labels or a question.
BUNDLED = [
    Case("example", REPO / "reports" / "example.perf"),
    Case("seed_benchmark", REPO / "reports" / "seed_benchmark.perf"),
    Case("published_llamacpp_rtx_5000_ada", REPO / "reports" / "published_llamacpp.perf",
         "published_llamacpp_rtx_5000_ada"),
    Case("capacity_planning", REPO / "reports" / "capacity_planning.perf", None,
         (("model", "gpt2,llama3_1_8b"), ("hardware", "h100_sxm5,l4"), ("batch", "1,16"), ("seq_len", "128,2048"))),
    *(Case(f"capacity_questions.{report}", REPO / "reports" / "capacity_questions.perf", report,
           (("model", "gpt2,llama3_1_70b"), ("hardware", "h100_sxm5,t4")))
      for report in ("cheapest_setup", "largest_batch")),
]
CASES = [Case(name) for name in REPORTS] + BUNDLED


# -- evaluating a case every way ------------------------------------------------------------------------------------

def run_cli(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(args)
    return status, out.getvalue(), err.getvalue()


@dataclass
class Evaluation:
    """One case evaluated: the API's result and reference rows, and a folder for the command line's outputs."""

    case: Case
    path: Path
    folder: Path
    result: object
    keys: list[str]                      # the reference: what `perfdsl eval` writes, from the API
    columns: list[np.ndarray]
    runs: bool                           # compared with runs (evaluated whole: no chunks)
    keep: np.ndarray | None              # with `points = "runs"`: the result's rows a run matched
    outputs: dict = field(default_factory=dict)

    @property
    def rows(self) -> list[dict]:
        """The reference rows, a dict per row, Python values (NaN as None; infinities kept)."""
        lists = [[None if isinstance(v, float) and v != v else v for v in column.tolist()] for column in self.columns]
        return [dict(zip(self.keys, row)) for row in zip(*lists)]

    def eval(self, *args: str) -> tuple[int, str, str]:
        return run_cli(["eval", str(self.path), *self.case.args(), "-q", *args])

    def output(self, suffix: str, *args: str) -> Path:
        """The file `perfdsl eval -o out.SUFFIX ARGS` writes (once per case and arguments)."""
        key = (suffix, args)
        if key not in self.outputs:
            target = self.folder / f"out{len(self.outputs)}.{suffix}"
            status, _, err = self.eval("-o", str(target), *args)
            assert status == 0, err
            self.outputs[key] = target
        return self.outputs[key]

    def has_question(self) -> bool:
        return bool(self.result.ctx.report.questions)

    def question_form(self) -> str | None:
        return self.result.ctx.report.questions[0].form if self.has_question() else None


_FOLDERS: dict = {}


@lru_cache(maxsize=None)
def evaluation(case: Case) -> Evaluation:
    folder = _FOLDERS["root"] / case.name
    folder.mkdir(exist_ok=True)
    path = case.path
    if path is None:
        path = folder / f"{case.name}.perf"
        path.write_text(BASE + (case.text or REPORTS[case.name]) + "\n")
        if case.name in RUN_LOGS:
            (folder / "runs.csv").write_text(RUN_LOGS[case.name])
    program = perfdsl.load(path)
    evaluated = perfdsl.evaluate_with_runs(program, case.report, dict(case.sets))
    result, comparison = evaluated.result, evaluated.comparison
    keys, columns = comparison.table() if comparison is not None else result.table()
    keys, columns = with_intervals(result, keys, columns, comparison.keep if comparison is not None else None)
    return Evaluation(case, path, folder, result, keys, columns, runs=comparison is not None,
                      keep=comparison.keep if comparison is not None else None)


@pytest.fixture(scope="module", autouse=True)
def _outputs_folder(tmp_path_factory):
    _FOLDERS["root"] = tmp_path_factory.mktemp("consistency")
    evaluation.cache_clear()
    yield
    evaluation.cache_clear()


# -- comparing values -----------------------------------------------------------------------------------------------

def unit_of(key: str) -> str:
    """The unit in a key's brackets ("tpot [ms]" -> "ms"; "" for none)."""
    found = re.search(r" \[([^\]]+)\]$", key)
    return found.group(1) if found else ""


def scale_of(unit: str) -> float:
    """The size of a unit in SI (1 for none)."""
    return parse_unit(unit).scale if unit else 1.0


def is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def plain(value):
    """A numpy scalar as Python's, NaN (pandas' NA too) as None."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is pandas.NA or (isinstance(value, float) and value != value):
        return None
    return value


def agree(got, want, rel: float = 1e-12, infinity_as_null: bool = False, flag_as_number: bool = False,
          near_zero: float = 0.0) -> bool:
    """Whether a format's value `got` is the reference value `want`: numbers equal within `rel`, flags as flags,
    text as text, None as None; with `infinity_as_null` a reference infinity is written None (JSON, the workbook),
    with `flag_as_number` a flag 1.0 or 0.0 (xarray's flag with an emptied point: notebook._emptied); numbers within
    `near_zero` of each other agree too (an error of 0% computed from values rounded apart)."""
    got, want = plain(got), plain(want)
    if infinity_as_null and is_number(want) and math.isinf(want):
        want = None
    if want is None or got is None:
        return want is None and got is None
    if isinstance(want, (bool, np.bool_)) and flag_as_number and is_number(got):
        got = bool(got)                 # 1.0 or 0.0
    if isinstance(want, (bool, np.bool_)) or isinstance(got, (bool, np.bool_)):
        return isinstance(want, (bool, np.bool_)) and isinstance(got, (bool, np.bool_)) and bool(got) == bool(want)
    if is_number(want) and is_number(got):
        want, got = float(want), float(got)
        if math.isinf(want) or math.isinf(got):
            return want == got
        return abs(got - want) <= rel * max(abs(want), abs(got)) + near_zero
    return type(got) is type(want) and got == want


def disagreements(name: str, got_rows: list[dict], want_rows: list[dict], rel: float = 1e-12,
                  infinity_as_null: bool = False, flag_as_number: bool = False, near_zero: float = 0.0,
                  limit: int = 5) -> list[str]:
    """Where `got_rows` (a format's rows) differ from `want_rows`: the keys, the number of rows, values."""
    if len(got_rows) != len(want_rows):
        return [f"{name}: {len(got_rows)} rows, the API {len(want_rows)}"]
    found = []
    for number, (got, want) in enumerate(zip(got_rows, want_rows)):
        if list(got) != list(want):
            return [f"{name}: keys {list(got)}, the API's {list(want)}"]
        for key in want:
            if not agree(got[key], want[key], rel, infinity_as_null, flag_as_number, near_zero):
                found.append(f"{name}: row {number}, {key!r}: {got[key]!r}, the API {want[key]!r}")
        if len(found) >= limit:
            break
    return found


def assert_agree(name, got_rows, want_rows, **options) -> None:
    found = disagreements(name, got_rows, want_rows, **options)
    assert not found, "\n".join(found)


def parse_text(text: str, want, neutralised: bool = True):
    """A CSV or table field read as the kind of the reference value: "" is None (an empty text in a text column),
    `true`/`false` a flag, a number a float, text as written (with `neutralised`, a CSV's `'` before text a
    spreadsheet would run taken off; the terminal's table writes text as it is)."""
    if isinstance(want, str):
        return restore(text) if neutralised else text
    if text == "":
        return None
    if isinstance(want, (bool, np.bool_)):
        return {"true": True, "false": False}.get(text, text)
    if is_number(want):
        try:
            return float(text)
        except ValueError:
            return text
    return restore(text) if neutralised else text


def without_nulls_in_text(rows: list[dict], reference: list[dict]) -> list[dict]:
    """The reference's empty text ("": `violates` of a point that breaks nothing) where a format has no empty text
    (CSV, the table and the workbook write "" and None alike)."""
    return [{key: ("" if value is None and isinstance(want.get(key), str) else value) for key, value in row.items()}
            for row, want in zip(rows, reference)]


# -- the command line's outputs --------------------------------------------------------------------------------------

def csv_rows(text: str, reference: list[dict]) -> tuple[list[str], list[dict]]:
    lines = list(csv.reader(io.StringIO(text)))
    keys = [restore(key) for key in lines[0]] if lines else []
    rows = [{key: parse_text(field, want.get(key)) for key, field in zip(keys, line)}
            for line, want in zip(lines[1:], reference + [{}] * len(lines))]
    return keys, rows


def table_rows(text: str, reference: list[dict]) -> tuple[list[str], list[dict]]:
    """The terminal table read back by the spans of its dashed line (numbers are printed to 5 significant digits)."""
    lines = text.splitlines()
    spans = [(m.start(), m.end()) for m in re.finditer(r"-+", lines[1])]
    keys = [lines[0][start:end].strip() for start, end in spans]
    rows = [{key: parse_text(line[start:end].strip(), want.get(key), neutralised=False)
             for key, (start, end) in zip(keys, spans)}
            for line, want in zip(lines[2:], reference + [{}] * len(lines))]
    return keys, rows


SHEETS_NOT_SECTIONS = {"Setup", "Summary", "Plots", "Inputs", "Unmatched", "About", "Derived", "Calculation"}


def workbook_rows(path: Path) -> tuple[list[str], list[dict]]:
    """The rows of the section sheets: each column named by its header ("batch", "Model"), or for a metric its group
    header and column ("TPOT (ms) / Estimated", "Runtime (ms) / Measured"); values as cached in the file."""
    book = openpyxl.load_workbook(path, data_only=True)
    sections, rows = [], []
    for sheet in book.worksheets:
        if sheet.title in SHEETS_NOT_SECTIONS:
            continue
        sections.append(sheet.title)
        grid = [list(row) for row in sheet.iter_rows(values_only=True)]
        names, group = [], None
        for top, below in zip(grid[0], grid[1]):
            group = top if top is not None else group
            metric = top is not None or below in ("Measured", "Estimated", "Estimated low", "Estimated high", "Error")
            names.append(f"{group} / {below}" if metric else below)
        rows += [dict(zip(names, row)) for row in grid[2:] if any(value is not None for value in row)]
    return sections, rows


def workbook_names(evaluation_: Evaluation) -> dict[str, list[str]]:
    """Each reference key -> the workbook columns that may hold it: a shown metric under "Title (unit) / Estimated",
    its measured value, error, low and high beside it; every other key under its own name (or its name without the
    unit: an axis)."""
    names: dict[str, list[str]] = {}
    numeric = [c for c in evaluation_.result.columns if c.axis is None and c.kind == "num"]
    for column in numeric:
        group = f"{title_of(column.name)} ({column.unit})" if column.unit else title_of(column.name)
        suffix = f" [{column.unit}]" if column.unit else ""
        twice = sum(c.name == column.name for c in numeric) > 1      # its error named by its key (Comparison.error_key)
        names[column.key] = [f"{group} / Estimated"]
        names[f"{column.name} measured{suffix}"] = [f"{group} / Measured"]
        names[f"{column.key if twice else column.name} error [%]"] = [f"{group} / Error"]
        names[f"{column.name} low{suffix}"] = [f"{group} / Estimated low"]
        names[f"{column.name} high{suffix}"] = [f"{group} / Estimated high"]
    return names


def named_in_workbook(evaluation_: Evaluation, key: str) -> bool:
    """Whether the workbook names the rows by something else than the axis `key`: a role whose block's text is shown
    (`model.hf_id as Model` for `model`), or a swept cell shown under a label in the axis's unit (`workload.tp as
    TP` for `tp`)."""
    name = key.split(" [")[0]
    columns = evaluation_.result.columns
    return any(c.kind == "str" and c.ref.startswith(name + ".") for c in columns) or any(
        c.item.label is not None and c.ref.split(".")[-1] == name for c in columns)


def row_sections(evaluation_: Evaluation) -> list[str]:
    """The report option `section` of each reference row."""
    result = evaluation_.result
    texts = _per_point_text(result, "section") or [result.report] * result.n_rows
    if evaluation_.keep is not None:
        return [texts[int(i)] for i in np.flatnonzero(evaluation_.keep)]
    return list(texts)


def workbook_disagreements(evaluation_: Evaluation, path: Path, name: str) -> list[str]:
    sections, rows = workbook_rows(path)
    reference = evaluation_.rows
    names = workbook_names(evaluation_)
    present = set().union(*(row.keys() for row in rows)) if rows else set()
    found, mapping = [], {}
    for key in evaluation_.keys:
        column = next((c for c in names.get(key, []) + [key, key.split(" [")[0]] if c in present), None)
        if column is None:
            if rows and not named_in_workbook(evaluation_, key):
                found.append(f"{name}: no column for {key!r} (columns: {sorted(map(str, present))})")
            continue
        mapping[key] = column
    # The workbook's error is a fraction (0.00%), the table's in percent; a measured value is written to 15
    # significant digits (workbook_export: the number the log gave), and the error is a formula over the two cells.
    percent = {key for key in mapping if key.endswith(" error [%]")}
    got = [{key: (row.get(column) * 100 if key in percent and is_number(row.get(column)) else row.get(column))
            for key, column in mapping.items()} for row in rows]
    want = without_nulls_in_text([{key: row[key] for key in mapping} for row in reference], reference)
    got = without_nulls_in_text(got, want)
    if len(sections) > 1:        # a sheet a section, in the order of their first rows; rows in order within each
        want = [row for section in sections for row, its in zip(want, row_sections(evaluation_)) if its == section]
    return found + disagreements(name, got, want, rel=1e-9 if evaluation_.runs else 1e-12, infinity_as_null=True,
                                 near_zero=1e-9 if evaluation_.runs else 0.0)


# -- what each output gives, against the reference ------------------------------------------------------------------

def table_of(result) -> list[dict]:
    """Result.table()'s rows (display units, NaN as None, infinities kept)."""
    keys, columns = result.table()
    return [dict(zip(keys, row)) for row in zip(*[[plain(v) for v in c.tolist()] for c in columns])]


def text_formats_problems(ev: Evaluation) -> list[str]:
    """`eval -o` CSV, JSON and JSON Lines against the reference."""
    reference = ev.rows
    keys, rows = csv_rows(ev.output("csv").read_text(encoding="utf-8"), reference)
    found = [] if keys == ev.keys else [f"csv: keys {keys}, the API's {ev.keys}"]
    found += disagreements("csv", rows, without_nulls_in_text(reference, reference))
    found += disagreements("json", json.loads(ev.output("json").read_text(encoding="utf-8")), reference,
                           infinity_as_null=True)
    lines = [{restore(key): restore(value) if isinstance(value, str) else value
              for key, value in json.loads(line).items()}
             for line in ev.output("jsonl").read_text(encoding="utf-8").splitlines()]
    return found + disagreements("jsonl", lines, reference, infinity_as_null=True)


def parquet_problems(ev: Evaluation) -> list[str]:
    """`eval -o FILE.parquet` (always streamed chunk by chunk, in chunks of the default size) against the
    reference."""
    return disagreements("parquet", parquet.read_table(ev.output("parquet")).to_pylist(), ev.rows)


def terminal_problems(ev: Evaluation) -> list[str]:
    """The terminal's table (its first 200 rows, numbers to 5 significant digits), and a table written to a file
    (every row), against the reference."""
    reference = ev.rows[:200]
    status, text, err = ev.eval()
    if status != 0:
        return [f"table: exit status {status}: {err}"]
    keys, rows = table_rows(text, reference)
    found = [] if keys == ev.keys else [f"table: keys {keys}, the API's {ev.keys}"]
    found += disagreements("table", rows, without_nulls_in_text(reference, reference), rel=5e-5)
    keys, rows = table_rows(ev.output("txt").read_text(encoding="utf-8"), ev.rows)    # -o FILE.txt: every row
    return found + disagreements("-o .txt", rows, without_nulls_in_text(ev.rows, ev.rows), rel=5e-5)


def api_problems(ev: Evaluation) -> list[str]:
    """records(), to_pandas(), display_column() and column() (SI: the key's unit times its size) of every shown
    cell by its label, cell and key, and of every axis, against Result.table()."""
    result = ev.result
    table = table_of(result)
    keys = list(table[0]) if table else result.table()[0]
    found = disagreements("records()", result.records(), table, infinity_as_null=True)
    frame = result.to_pandas()
    if list(frame.columns) != keys:
        found.append(f"to_pandas(): columns {list(frame.columns)}, table()'s {keys}")
    found += disagreements("to_pandas()", [{k: plain(v) for k, v in row.items()} for row in frame.to_dict("records")],
                           table)
    axis_keys = list(result.axis_columns())
    # A name several columns share (`show t in ms, t in s`) reads the first of them (find_column); its key, each.
    named = list({name: column.key if column.axis is None else next(k for k in axis_keys
                                                                    if k.split(" [")[0] == column.axis)
                  for column in reversed(result.columns)
                  for name in dict.fromkeys([column.name, column.ref, column.key])}.items())
    claimed = {name for column in result.columns for name in (column.name, column.ref, column.key)}
    named += [(coord.name, next(k for k in axis_keys if k.split(" [")[0] == coord.name))   # a shown column's name
              for axis in result.axes for coord in axis.coords if coord.name not in claimed]  # is that column's
    for name, key in named:
        scale = scale_of(unit_of(key))
        shown = [{key: row[key]} for row in table]
        si = [{key: row[key] * scale if is_number(row[key]) else row[key]} for row in table]
        found += disagreements(f"display_column({name!r})", [{key: v} for v in result.display_column(name).tolist()],
                               shown)
        found += disagreements(f"column({name!r})", [{key: v} for v in result.column(name).tolist()], si)
    return found


def xarray_problems(ev: Evaluation, display: bool) -> list[str]:
    """to_xarray(display): each shown cell's variable (found by its `cell` attribute) and each coordinate, at each
    row's sweep point, in the unit of its `units` attribute, against Result.table() in the unit of its key."""
    result = ev.result
    table = table_of(result)
    keys = result.table()[0]
    data = result.to_xarray(display=display)
    index = result.rows.index if result.rows is not None else np.arange(result.n_points)
    missing = result.rows.missing if result.rows is not None else np.zeros(len(index), dtype=bool)
    positions = np.unravel_index(index, result.shape) if result.shape else ()
    rows = [(row, point) for row, (point, empty) in enumerate(zip(index.tolist(), missing.tolist())) if not empty]
    found = []
    cells = [column for column in result.columns if column.axis is None]
    for column in cells:
        # a cell shown twice (`show t in ms, t in s`) is a variable per show, in the order shown
        variables = [name for name in data.data_vars if data[name].attrs.get("cell") == column.ref]
        shows = [c for c in cells if c.ref == column.ref]
        if len(variables) != len(shows):
            found.append(f"to_xarray(): variables {variables} of the cell {column.ref} ({list(data.data_vars)})")
            continue
        variable = data[variables[shows.index(column)]]
        values = np.broadcast_to(variable.values, result.shape).reshape(-1)
        scale, key_scale = scale_of(variable.attrs["units"]), scale_of(unit_of(column.key))
        got, want = [], []
        for row, point in rows:
            value, shown = plain(values[point]), table[row][column.key]
            if is_number(shown):
                value, shown = value * scale if is_number(value) else value, shown * key_scale
            got.append({column.key: value})
            want.append({column.key: shown})
        found += disagreements(f"to_xarray(display={display})[{variable.name!r}] [{variable.attrs['units']}]",
                               got, want, flag_as_number=True)
    for axis in result.axes:
        for coord in axis.coords:
            key = next(k for k in keys if k.split(" [")[0] == coord.name)
            values = data[coord.name].values
            scale = scale_of(data[coord.name].attrs.get("units", ""))
            number = coord.kind == "num"
            got = [{key: plain(values[positions[axis.index][row]]) * (scale if number else 1)} if number else
                   {key: plain(values[positions[axis.index][row]])} for row, _ in rows]
            want = [{key: table[row][key] * scale_of(unit_of(key)) if number else table[row][key]} for row, _ in rows]
            found += disagreements(f"to_xarray(display={display}) coordinate {coord.name!r}", got, want)
    return found


def answer_xarray_problems(ev: Evaluation, display: bool) -> list[str]:
    """to_xarray(answer=True, display) of best, largest or smallest: a group a row, against Result.table()."""
    result = ev.result
    table = table_of(result)
    data = result.to_xarray(answer=True, display=display)
    found = []
    for column in result.columns:
        if column.axis is not None:
            continue
        name = next(name for name in data.data_vars if data[name].attrs.get("cell") == column.ref)
        values = np.asarray(data[name].values).reshape(-1)
        scale, key_scale = scale_of(data[name].attrs["units"]), scale_of(unit_of(column.key))
        got, want = [], []
        for value, row in zip(values.tolist(), table):
            shown = row[column.key]
            if is_number(shown):
                value, shown = value * scale, shown * key_scale
            got.append({column.key: value})
            want.append({column.key: shown})
        found += disagreements(f"to_xarray(answer=True, display={display})[{name!r}]", got, want,
                               flag_as_number=True)
    return found


def chunk_sizes(ev: Evaluation) -> tuple[int, ...]:
    """For a small sweep a point a chunk (a chunk ends in every run of rows) and about 3 chunks; for a larger one
    (the bundled reports) about 10 chunks."""
    points = ev.result.n_points
    return (1, max(2, points // 3)) if points <= 100 else (points // 10,)


def chunked_output_problems(ev: Evaluation, sizes=None) -> list[str]:
    """`eval -o --chunk-points N`: CSV, JSON and JSON Lines byte for byte the whole outputs, Parquet the whole
    Parquet's schema and rows."""
    whole = parquet.read_table(ev.output("parquet"))
    found = []
    for size in sizes or chunk_sizes(ev):
        for suffix in ("csv", "json", "jsonl"):
            chunked, full = ev.output(suffix, "--chunk-points", str(size)), ev.output(suffix)
            if chunked.read_bytes() != full.read_bytes():
                found.append(f"--chunk-points {size} -o .{suffix}:\n{chunked.read_text()[:800]}\nwhole:\n"
                             f"{full.read_text()[:800]}")
        table = parquet.read_table(ev.output("parquet", "--chunk-points", str(size)))
        if table.schema != whole.schema:
            found.append(f"--chunk-points {size} -o .parquet: schema\n{table.schema}\nwhole:\n{whole.schema}")
        found += disagreements(f"--chunk-points {size} -o .parquet", table.to_pylist(), whole.to_pylist())
    return found


def chunked_api_problems(ev: Evaluation, sizes=None) -> list[str]:
    """evaluate_chunks' rows (a report without a question), or answer_in_chunks' Answer (with one): records(),
    column(), display_column(), to_pandas() and to_xarray(), as the whole Result's."""
    case, result, program = ev.case, ev.result, perfdsl.load(ev.path)
    table = table_of(result)
    overrides = dict(case.sets) or None
    found = []
    for size in sizes or chunk_sizes(ev):
        if not ev.has_question():
            parts = [chunk.table() for _, chunk in perfdsl.evaluate_chunks(program, case.report, overrides,
                                                                           chunk_points=size)]
            rows = [dict(zip(part_keys, row)) for part_keys, part in parts
                    for row in zip(*[[plain(v) for v in c.tolist()] for c in part])]
            found += disagreements(f"evaluate_chunks(chunk_points={size})", rows, table)
            continue
        answer = perfdsl.answer_in_chunks(program, case.report, overrides, chunk_points=size)
        name = f"answer_in_chunks(chunk_points={size})"
        found += disagreements(f"{name}.records()", answer.records(), result.records())
        keys = [c.key for c in result.columns]
        for column, method in [(key, method) for key in keys for method in ("column", "display_column")] + [
                (c.name, "column") for a in result.axes for c in a.coords]:
            got = [{column: v} for v in getattr(answer, method)(column).tolist()]
            want = [{column: v} for v in getattr(result, method)(column).tolist()]
            found += disagreements(f"{name}.{method}({column!r})", got, want)
        frame, whole = answer.to_pandas(), result.to_pandas()
        if not (list(frame.dtypes) == list(whole.dtypes) and frame.equals(whole)):
            found.append(f"{name}.to_pandas():\n{frame}\n{frame.dtypes}\nwhole:\n{whole}\n{whole.dtypes}")
        if ev.question_form() != "pareto":
            for display in (False, True):
                data, whole_data = answer.to_xarray(display=display), result.to_xarray(answer=True, display=display)
                if not data.identical(whole_data):
                    found.append(f"{name}.to_xarray(display={display}):\n{data}\nwhole:\n{whole_data}")
    return found


def assert_none(found: list[str]) -> None:
    assert not found, "\n".join(found)


# -- the tests ------------------------------------------------------------------------------------------------------

# Disagreements found and not fixed here: the case, the tests it fails (it passes the others), and why.
# (Under invalid_points = "mark" where no point breaks a constraint, the streamed rows had valid and violates and the
# whole output not: now every output has them where the report has constraints, constraint_mark_none_broken.)
# (A swept cell shown under a label in its axis's unit, `show workload.tp as TP`, was the axis's column in the
# workbook, which wrote TP = 2 on a row of a group with no answer `per tp` where CSV leaves TP empty beside tp = 2:
# now, where the question keeps the axis, TP is a column of its own, labelled_swept_cell_per_its_axis.)
KNOWN: dict = {}


def params(cases, test: str):
    return [pytest.param(case, id=case.name, marks=KNOWN.get((case.name, test), ())) for case in cases]


def ids(cases):
    return [case.name for case in cases]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_csv_json_and_json_lines_hold_the_rows_of_the_api(case):
    assert_none(text_formats_problems(evaluation(case)))


@pytest.mark.parametrize("case", params(CASES, "parquet"))
def test_parquet_holds_the_rows_of_the_api(case):
    assert_none(parquet_problems(evaluation(case)))


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_the_terminal_table_shows_the_rows_of_the_api_to_five_digits(case):
    assert_none(terminal_problems(evaluation(case)))


@pytest.mark.parametrize("case", params(CASES, "workbook"))
def test_the_workbook_holds_the_rows_of_the_api(case):
    ev = evaluation(case)
    assert_none(workbook_disagreements(ev, ev.output("xlsx"), "workbook"))


# The live workbook writes each estimate as a formula with its value: the values as the plain workbook's.
LIVE = [case for case in CASES if case.name in ("units", "nan_and_infinity", "constraint_mark", "section",
                                                "best_with_a_group_unanswered", "runs", "runs_points")]


@pytest.mark.parametrize("case", LIVE, ids=ids(LIVE))
def test_the_live_workbook_holds_the_rows_of_the_api(case):
    ev = evaluation(case)
    assert_none(workbook_disagreements(ev, ev.output("xlsx", "--live"), "live workbook"))


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_records_pandas_and_columns_hold_the_rows_in_the_units_of_their_keys(case):
    assert_none(api_problems(evaluation(case)))


@pytest.mark.parametrize("display", [False, True], ids=["si", "display"])
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_to_xarray_holds_each_rows_values_at_its_point_in_the_units_of_its_attributes(case, display):
    assert_none(xarray_problems(evaluation(case), display))


ANSWERS = [case for case in CASES if case.name in REPORTS and "pareto" not in case.name and any(
    word in REPORTS[case.name] for word in ("\n    best ", "\n    largest ", "\n    smallest "))] + [
    case for case in BUNDLED if case.report in ("cheapest_setup", "largest_batch")]


@pytest.mark.parametrize("display", [False, True], ids=["si", "display"])
@pytest.mark.parametrize("case", ANSWERS, ids=ids(ANSWERS))
def test_the_answer_over_its_groups_holds_the_rows_of_the_answer(case, display):
    assert_none(answer_xarray_problems(evaluation(case), display))


# Reports with runs are matched over a whole evaluation (a chunk size is not taken: README.md), so they have nothing
# to compare here. Of the bundled reports, the example and a question: tests/test_output_formats.py streams the
# capacity-planning sweep, tests/test_chunks.py answers its questions in chunks.
CHUNKED = [case for case in CASES if (case.name in REPORTS and case.name not in RUN_LOGS)
           or case.name in ("example", "capacity_questions.largest_batch")]


@pytest.mark.parametrize("case", params(CHUNKED, "chunked"))
def test_chunked_csv_json_json_lines_and_parquet_are_the_whole_outputs(case):
    assert_none(chunked_output_problems(evaluation(case)))


@pytest.mark.parametrize("case", params(CHUNKED, "chunked"))
def test_the_api_in_chunks_gives_the_whole_rows(case):
    assert_none(chunked_api_problems(evaluation(case)))


QUESTIONS = [case for case in CHUNKED if case.name in ("best", "best_with_a_group_unanswered", "best_marked",
                                                       "question_no_group_answered",
                                                       "shown_axis_kept_by_the_question",
                                                       "pareto_with_a_group_unanswered",
                                                       "largest_with_groups_unanswered", "smallest_over_a_text_axis")
             or case.name.startswith("capacity_questions.")]


@pytest.mark.parametrize("case", QUESTIONS, ids=ids(QUESTIONS))
def test_the_workbook_of_a_question_answered_in_chunks_holds_the_rows_of_the_api(case):
    ev = evaluation(case)
    size = chunk_sizes(ev)[0]
    assert_none(workbook_disagreements(ev, ev.output("xlsx", "--chunk-points", str(size)),
                                       f"--chunk-points {size} -o .xlsx"))


# -- reports made by hypothesis: any few cells, each in a unit or not, under a label or not ------------------------

# Cells of BASE by kind, with the units each may be shown in (None: the default, its SI unit).
SHOWABLE = {
    "serving.tpot": [None, "ms", "us"],
    "serving.memory": [None, "GB", "GiB", "MB"],
    "serving.achieved": [None, "TFLOP/s", "GFLOP/s"],
    "serving.throughput": [None, "1/s"],
    "serving.kv": ["KiB", "GB"],
    "hardware.clock": [None, "GHz", "MHz"],
    "serving.cycles": [None],
    "serving.ratio": [None],
    "serving.overflow": ["ms"],
    "serving.undefined": ["s"],
    "serving.fits": [None],
    "serving.sparse": [None],
    "serving.verdict": [None],
    "model.name": [None],
    "workload.tp": [None],
}
CONDITIONS = ["", "where serving.fits", "where serving.tpot <= 0.1 ms", "where workload.batch >= 4 and not serving.fits"]
QUESTIONS_ASKED = ["", "best min serving.gpu_time per tp", "largest batch per tp", "smallest tp per batch",
                   "best max serving.throughput", "pareto min serving.tpot, max serving.throughput"]


@st.composite
def reports(draw) -> str:
    """A report over BASE: models and GPUs swept or bound, some cells shown (none twice), a constraint omitted or
    marked (one some point breaks: batch 8 on one GPU), a `where` and a question or none."""
    cells = draw(st.lists(st.sampled_from(sorted(SHOWABLE)), min_size=1, max_size=5, unique=True))
    shows = []
    for number, cell in enumerate(cells):
        unit = draw(st.sampled_from(SHOWABLE[cell]))
        label = draw(st.sampled_from([None, f"c{number}"]))
        shows.append(cell + (f" in {unit}" if unit else "") + (f" as {label}" if label else ""))
    model = draw(st.sampled_from(["sweep model = [small, big]", "model = big"]))
    hardware = draw(st.sampled_from(["sweep hardware = [a, b]", "hardware = a"]))
    option = draw(st.sampled_from(["", 'invalid_points = "mark"']))
    constraint = draw(st.booleans())
    where = draw(st.sampled_from(CONDITIONS))
    question = draw(st.sampled_from(QUESTIONS_ASKED))
    workload = 'workload g2 extends grid { require batch <= 4 or tp > 1, "a batch above 4 needs tp 2" }\n' \
        if constraint else ""
    lines = [model, hardware, f"workload = {'g2' if constraint else 'grid'}", option, "show " + ", ".join(shows),
             where, question]
    return workload + "report r {\n" + "".join(f"    {line}\n" for line in lines if line) + "}"


_GENERATED = iter(range(10**6))


@settings(max_examples=10, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=reports())
def test_every_output_of_a_generated_report_agrees(text):
    ev = evaluation(Case(f"generated_{next(_GENERATED)}", text=text))
    found = text_formats_problems(ev) + parquet_problems(ev) + api_problems(ev) + xarray_problems(ev, False)
    found += workbook_disagreements(ev, ev.output("xlsx"), "workbook")
    if ev.question_form() in ("best", "largest", "smallest"):
        found += answer_xarray_problems(ev, True)
    found += chunked_output_problems(ev, sizes=(3,)) + chunked_api_problems(ev, sizes=(3,))
    assert_none([text] + found if found else [])
