"""What a report's workbook shows: estimates beside measured runs, as plain data.

This is the hand-over point between the stages that compute (evaluating specs, reading run logs, matching runs to
sweep points) and the one that writes the Excel workbook (`perfdsl.workbook`). Nothing here depends on openpyxl or
numpy, so any stage can build these objects and tests can write them by hand.

Values are already in each metric's display unit (milliseconds, GB, J/token ...): the workbook shows them as given.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ERROR_CONVENTIONS = ("measured", "estimated")


@dataclass
class MetricSpec:
    """One compared metric, a column group of a sheet (estimate, measured, error): its matching name, header title,
    display unit, and Excel number format (None: chosen from the values' magnitude)."""

    name: str            # machine name used for matching, e.g. "runtime"
    title: str           # group header text without unit, e.g. "Runtime"
    unit: str            # display unit, e.g. "ms", "GB", "J/token", "token/s"
    number_format: str | None = None   # Excel number format; None = choose from magnitude (e.g. '0.00', '0.000')
    # False where no run compared carries the metric (`decode.kernels` beside optimum-benchmark's latencies): its
    # group is Estimated alone, as in a workbook compared with no runs, and the Summary lists it apart.
    measured: bool = True
    # How the measured value is derived where no run measures it as such ("each run's tokens / its measured
    # runtime"); "" where the runs give it. The Summary says so in the metric's row.
    derived: str = ""


@dataclass
class ComparisonRow:
    """One sweep point of a section: its identifying columns, and per metric name the estimate and the measured value in
    the metric's display unit (None: none), with where the run came from, the sweep point, a note, the calibration's
    bounds and, with --live, the estimate's formula."""

    identity: dict[str, object]            # ordered id columns, e.g. {"Model": "facebook/opt-1.3b", "Device": ...}
    estimated: dict[str, float | None]     # metric name -> estimate in the metric's display unit
    measured: dict[str, float | None]      # metric name -> measured value in display unit; missing/None = no run
    run_source: str | None = None          # where the measured run came from, e.g. "data/seed_runs_a5000.csv:row 3"
    point: dict[str, object] = field(default_factory=dict)  # the sweep point (axis -> value) for auditing
    note: str | None = None                # why this row's estimate is known to miss (the report cell `note`)
    # metric name -> (low, high) of the estimate in the display unit, from a calibration's spread (perfdsl.intervals)
    bounds: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    index: int | None = None               # the sweep point's flat index in the report's result
    formulas: dict[str, str] = field(default_factory=dict)  # metric name -> live formula of its estimate (--live)


@dataclass
class Section:
    """One comparison sheet: its title, identifying columns, metrics and rows, and the set-up lines that say what was
    estimated."""

    title: str                   # sheet name, e.g. "Single GPU" (the workbook sanitises it for Excel)
    id_columns: list[str]        # e.g. ["Model", "Device"]
    metrics: list[MetricSpec]
    rows: list[ComparisonRow]
    # What was estimated, for a reader: (label, text) lines such as ("Workload", "seed_step: batch = 16 ..."),
    # ("Precision", ...), ("Stack", ...), ("Cost model", "prefill, memory: costmodels/x.perf (sha256 ...)").
    setup: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Picture:
    """An image for the workbook's Plots sheet: what native charts cannot draw (a roofline, log axes with runs
    beside estimates per model and GPU)."""

    title: str
    png: bytes
    width: int          # pixels of the PNG
    height: int


@dataclass
class InputCell:
    """One cell of the Inputs sheet: the block, its kind, the cell, its formula as written (or "(declared UNIT)" for an
    input), its value (a number in `unit` or a boolean where it is one value over the sweep, else text), that unit,
    where it is defined ("FILE:LINE") and the comment written beside it there."""

    block: str        # e.g. "rtx_a5000"
    kind: str         # "hardware" | "model" | "workload" | "costmodel" | "report"
    cell: str         # e.g. "mem_bw"
    formula: str      # source text of the cell, e.g. "768 GB/s" or "4 * hidden"
    value: float | int | bool | str   # one number in `unit` (768 for 768 GB/s) or one boolean; text for the values
                                      # of a swept list ("1, 8, 32"), a range over the sweep ("0.67 .. 0.8"),
                                      # strings ("fp16"), booleans that vary ("false, true"), or "not finite"
    unit: str         # as the literal is written ("GB/s" for 768 GB/s); a readable one for a computed value
    source: str       # "hardware/ampere.perf:12"
    comment: str = ""  # the comment beside the cell, e.g. "gpus.csv: 768"


@dataclass
class Unmatched:
    """A run or an estimate that was not paired, for the Unmatched sheet: `kind` is "run without estimate", "estimate
    without run", "ambiguous match", "unusable row" or "run kept, with a note"; `source` is where the run came
    from ("" if none)."""

    kind: str         # "run without estimate" | "estimate without run" | "ambiguous match" | "unusable row"
                      # | "run kept, with a note"
    description: str
    source: str = ""


@dataclass
class WorkbookData:
    """Everything a report's workbook shows: the sections, the inputs, what was not matched (where runs were given),
    the error convention of the Error columns ("measured" or "estimated", see relative_error), About notes, pictures
    for the Plots sheet and, with --live, the plan of formulas."""

    report_name: str
    sections: list[Section]
    # The Inputs sheet's cells; None: no Inputs sheet (a calibration's residuals: its estimates are the fit's, not
    # one evaluation's cells).
    inputs: list[InputCell] | None = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)
    # "measured": (est - meas) / meas, the usual convention and the default;
    # "estimated": (est - meas) / est, the one the seed benchmark table used.
    error_convention: str = "measured"
    notes: list[str] = field(default_factory=list)   # free text lines for the About sheet (power model used, etc.)
    # Whether run logs were given (the report's `measured` cell, --measured): without any, nothing was compared and
    # there is no Unmatched sheet (an "every run found its estimate" line would claim runs that do not exist).
    runs_given: bool = True
    pictures: list[Picture] = field(default_factory=list)   # the Plots sheet, in order
    live: object | None = None   # a workbook_live_plan.LivePlan: the cost model as formulas (--live), else None
    # The Summary's line under its figures where they are in-sample (calibration_bound.in_sample_text), else "".
    summary_caveat: str = ""


def relative_error(estimated: float | None, measured: float | None, convention: str = "measured") -> float | None:
    """The signed relative error the workbook's Error column computes; None where it shows an empty cell.

    Kept beside the data classes so every stage (and every test) agrees with the workbook's live formula.
    """
    if estimated is None or measured is None:
        return None
    base = measured if convention == "measured" else estimated
    if base == 0:
        return None
    return (estimated - measured) / base
