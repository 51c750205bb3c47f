"""`perfdsl plot FILE -o OUT.png|.svg|.pdf`: evaluate a report (with its runs) and draw one plot of it.

    perfdsl plot reports/seed_benchmark.perf --y runtime --x model --series hardware --panels n_gpus -o runtime.png
    perfdsl plot reports/capacity_planning.perf --set model=llama3_1_8b --y tpot --x batch --series hardware \\
        --at seq_len=1024 --at output_len=256 --at tp=1 -o tpot.png
    perfdsl plot reports/capacity_planning.perf --roofline --at model=llama3_1_8b --at hardware=h100_sxm5 \\
        --at output_len=256 -o r.png

The command line parses the options and prints; this module evaluates and draws, and returns what it wrote.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .errors import Diagnostic
from .output import protect_inputs, write_bytes_atomically


@dataclass
class PlotRequest:
    """What `perfdsl plot` is asked for: the .perf files, the output file (.png, .svg or .pdf), the report (None: the
    only one), `--set` overrides, run logs that replace (`measured`) or add to (`add_measured`) the report's own, the
    values other axes are held at (`at`: axis -> value text), and the shown metric (`y`), axes or metric for x,
    series, panels and `along` (see plot_data.metric_view); `hollow`, the shown booleans whose false points are drawn
    hollow (None: a shown `fits`; plot_data.hollow_checks); `roofline` draws the roofline at one point instead."""

    files: list[str]
    output: str
    report: str | None = None
    overrides: dict[str, str] = field(default_factory=dict)
    measured: list[str] = field(default_factory=list)       # in place of the report's own `measured` logs
    add_measured: list[str] = field(default_factory=list)   # as well as them
    at: dict[str, str] = field(default_factory=dict)
    y: str | None = None
    x: str | None = None
    series: str | None = None
    panels: str | None = None
    along: str | None = None
    roofline: bool = False
    hollow: list[str] | None = None     # the shown booleans whose false points are hollow (None: a shown `fits`)


@dataclass
class PlotOutcome:
    """What make_plot wrote: the output path, a description of the plot, and the warnings of the evaluation and the
    matching."""

    path: str
    description: str                     # "runtime per model and hardware, 2 panels; 3 of 12 points hollow: ..."
    diagnostics: list[Diagnostic]        # warnings of the evaluation and of the matching


def make_plot(request: PlotRequest) -> PlotOutcome:
    """Evaluate the report of `request.files` and write the plot to `request.output`.

    Raises UsageError for a bad output (suffix, folder, an input), axis or metric; PerfError for bad specs or
    logs. Runs: the report's own `measured` logs, or `request.measured` in their place, plus `request.add_measured`.
    """
    from . import plot
    from .errors import PerfError
    from .measured import evaluate_with_runs, files_read
    from .program import load

    fmt = plot.image_format(request.output)
    protect_inputs(request.output, list(request.files) + list(request.measured) + list(request.add_measured))
    program = load(request.files)
    base_dir = os.path.dirname(request.files[0])
    measured = request.measured or None
    protect_inputs(request.output, files_read(program, request.files, request.report, measured, request.add_measured,
                                              base_dir))

    if request.roofline:
        from .explain_runs import with_runs
        from .roofline import roofline_view

        # points = "runs": the runs' points, eval's rows, as plain plot and explain take them (not the report's own
        # sweep at its first values, a point no run may have).
        plotted, points, matched = with_runs(program, request.report, request.overrides, measured,
                                             request.add_measured, base_dir)
        view = roofline_view(plotted, request.report, request.at, points, matched)
        write_bytes_atomically(request.output, plot.render(plot.draw_roofline, view, fmt))
        count = len(view.classes)
        return PlotOutcome(request.output, f"roofline of {count} operation class{'' if count == 1 else 'es'} at "
                           f"{view.point}{_defaulted_text(view.defaulted)}"
                           + (f" ({view.note})" if view.note else ""), [])

    from .plot_data import metric_view

    try:
        evaluated = evaluate_with_runs(program, request.report, request.overrides, measured=measured,
                                       add_measured=request.add_measured, base_dir=base_dir,
                                       provisional=False)
    except PerfError as exc:
        for diagnostic in exc.diagnostics:
            if diagnostic.code == "sweep-too-large":
                diagnostic.hints = PLOT_TOO_LARGE_HINTS[:]
        raise
    if evaluated.exit_status:
        raise PerfError(evaluated.diagnostics)      # errors in the logs: exit 1, and nothing is drawn
    view = metric_view(evaluated.result, evaluated.comparison, y=request.y, x=request.x, series=request.series,
                       panels=request.panels, along=request.along, at=request.at, hollow=request.hollow)
    write_bytes_atomically(request.output, plot.render(plot.draw_metric, view, fmt))
    panels = f", {len(view.panels)} panels" if len(view.panels) > 1 else ""
    diagnostics = [d for d in evaluated.diagnostics if d.severity != "note"]
    held = f", at {view.held}{_defaulted_text(view.defaulted)}" if view.held else ""
    if view.run_points is not None:         # points = "runs": each estimate at its run's point
        count = view.run_points
        # With a `where`, `omitted` counts them: "2 of 3 runs' points: where batch <= 4".
        held = (", at the runs' points" if view.left_out else ", at the run's point" if count == 1
                else f", at the {count} runs' points") + (
            f" with {view.held}" if view.held else "")
    elif view.answer:                       # a question: each of its answer's points at its own values
        held = ", at the answer's points" + (f" with {view.held}" if view.held else "")
    # What a `where` or a question left out, as the picture's subtitle says: "; 3 of 6 points: where batch <= 4".
    omitted = f"; {view.left_out}" if view.left_out else ""
    if view.series_note:                    # the default series' first values only: "16 of 30 models drawn, ..."
        omitted += f"; {view.series_note}"
    return PlotOutcome(request.output, f"{view.title}{panels}{held}{omitted}{_failing_text(view)}", diagnostics)


# eval's way out of a sweep too large (streaming it in chunks) is not a plot's: a plot needs the whole sweep it draws.
PLOT_TOO_LARGE_HINTS = [
    "narrow the sweep with --set (e.g. --set batch=1,8,64): a plot draws one value per point of the sweep it "
    "evaluates, so it needs that sweep at once and cannot stream it in chunks",
    "--at holds an axis in the picture only; to draw one value of a large axis, give it with --set as well "
    "(--set AXIS=VALUE --at AXIS=VALUE)"]


def _failing_text(view) -> str:
    """The words that say how many drawn points a shown boolean rules out ("; 6 of 6 points hollow: fits = false"),
    "" where none: the terminal says what the picture marks."""
    failing, drawn = view.failing_points
    checks = " or ".join(f"{name} = false" for name in view.checks)
    return f"; {failing} of {drawn} point{'' if drawn == 1 else 's'} hollow: {checks}" if failing else ""


def _defaulted_text(axes: list[str]) -> str:
    """The words that say which axes took their first value because --at did not name them (as explain says)."""
    return f" (first value of {', '.join(axes)}; choose with --at AXIS=VALUE)" if axes else ""
