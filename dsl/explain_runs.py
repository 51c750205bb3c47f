"""`perfdsl explain` of a report with `points = "runs"`: the points eval has (those its runs matched, over the axes
the runs' fields make: `n_gpus`, `tp` ...), and the one explained among them.

eval makes a runs report's sweeps from its runs' identifying fields and keeps the points a run matched
(run_points.py, matching.py); explain without them took the report's own sweeps, so a field such as n_gpus was not
an axis (`--at n_gpus=2` refused) and kept its written value (the 70B run on two A100s explained on one, pp = 1).
`with_runs` evaluates the report as eval does and gives the runs' points; `choose_run_point` picks the first that
`--at` matches, and `others_note` says what the other matching ones differ in and, where the report has a `where`
(or a question), how many of the runs' points it keeps ("2 of 3 runs' points: where batch <= 4").
"""

from __future__ import annotations

import numpy as np

from .errors import PerfError, UsageError, error
from .evaluator import format_coord
from .explain import choose_point


def with_runs(program, report: str | None, overrides: dict[str, object] | None, measured: list[str] | None,
              add_measured: list[str], base_dir: str):
    """(the program to explain, the runs' points, every point a run matched): for a report with `points = "runs"`
    that has runs (its own `measured` logs, or `measured` in their place, plus `add_measured`), the report evaluated
    and matched as eval does it (measured.evaluate_with_runs: the runs' fields become sweeps, `overrides` from --set
    win), the flat sweep indices of the points its runs matched that are eval's rows, and those of every point a run
    matched, before a `where` or a question keeps the rows (run_points.matched_before_rows); otherwise `program`
    with `overrides`, None and None.
    `program` is as loaded, without overrides. Raises UsageError (exit 2) for a log named that does not exist and
    PerfError (exit 1) for errors in the specs or the logs, as eval does."""
    from .matching import points_option

    plain = program.with_overrides(overrides or None, report)
    if not program.reports:
        return plain, None, None
    try:
        name = program._pick_report(report)
    except UsageError:
        return plain, None, None    # explain says which reports there are, or reads a block's cell
    if points_option(program, program.blocks[name]) != "runs":
        return plain, None, None
    from .measured import evaluate_with_runs
    from .run_points import matched_before_rows, matched_points

    evaluated = evaluate_with_runs(program, name, overrides, measured=measured, add_measured=add_measured,
                                   base_dir=base_dir, provisional=False)
    if evaluated.exit_status:
        raise PerfError([d for d in evaluated.diagnostics if d.severity == "error"])
    points = matched_points(evaluated.comparison)
    if points is None:
        return plain, None, None
    return evaluated.result.program, points, matched_before_rows(evaluated.comparison)


def _positions(ctx, points: np.ndarray) -> list[dict[int, int]]:
    """Flat sweep indices as points, axis index -> position, in their order."""
    shape = tuple(axis.length for axis in ctx.axes)
    # (A report without axes, one run whose fields are single values, has the one point: shape ().)
    positions = np.unravel_index(np.asarray(points, dtype=np.int64), shape) if shape else ()
    return [{axis.index: int(positions[axis.index][k]) for axis in ctx.axes} for k in range(len(points))]


def _agreeing(ctx, at: dict[str, str], runs: list[dict[int, int]]) -> list[dict[int, int]]:
    """The points of `runs` with every `--at AXIS=VALUE` (choose_point's errors for an axis or value there is not)."""
    given, _ = choose_point(ctx, at)
    names = {coord.name: axis for axis in ctx.axes for coord in axis.coords}
    named = {names[name].index for name in at}
    return [run for run in runs if all(run[index] == given[index] for index in named)]


def choose_run_point(ctx, at: dict[str, str], points: np.ndarray,
                     matched: np.ndarray | None = None) -> list[dict[int, int]]:
    """The runs' points (flat sweep indices `points`, eval's rows of a `points = "runs"` report) that agree with every
    `--at AXIS=VALUE`, each as axis index -> position, in eval's row order (the first is the one explained).
    UsageError (bad-point, exit 2) for an axis or value the sweep does not have (choose_point), and where no run's
    point has the values given (the hint lists the runs' points); where a run has them but the report's `where` (or
    question) leaves its point out (`matched`: every point a run matched, with_runs), the error says so."""
    runs = _positions(ctx, points)
    matching = _agreeing(ctx, at, runs)
    if not matching:
        asked = ", ".join(f"{name}={text}" for name, text in at.items())
        listed = [point_words(ctx, run) for run in runs[:5]] + (["..."] if len(runs) > 5 else [])
        hints = ["the report has points = \"runs\": its points are those its runs matched"
                 + (" that it keeps" if matched is not None and len(matched) > len(points) else "") + ": "
                 + "; ".join(listed)] if runs else []
        message = f"no run's point has {asked}" if runs else "no run matched a point"
        left = _agreeing(ctx, at, _positions(ctx, matched)) if matched is not None and at else []
        if left:
            from .plot_points import asked_of

            message = (f"the report's {asked_of(ctx.report)} leaves out the runs' point{'' if len(left) == 1 else 's'}"
                       f" with {asked}: " + "; ".join(point_words(ctx, run) for run in left[:3])
                       + ("; ..." if len(left) > 3 else ""))
        raise UsageError(error("bad-point", message, hints=hints))
    return matching


def kept_words(ctx, at: dict[str, str], points: np.ndarray, matched: np.ndarray | None,
               left_out_only: bool = False) -> str:
    """"2 of 3 runs' points: where batch <= 4" ("... that match --at: ..." where `at` is given): how many of the runs'
    points that agree with `at` the report's `where` (or question) keeps (`points`, eval's rows) of those the runs
    matched (`matched`); "" where the report has neither, where `matched` is None, and with `left_out_only` where it
    keeps them all."""
    from .plot_points import asked_of

    what = asked_of(ctx.report)
    if matched is None or not what:
        return ""
    kept, total = len(_agreeing(ctx, at, _positions(ctx, points))), len(_agreeing(ctx, at, _positions(ctx, matched)))
    if left_out_only and kept == total:
        return ""
    whose = "run's point" if total == 1 else "runs' points"
    return f"{kept:,} of {total:,} {whose}{' that match --at' if at else ''}: {what}"


def point_words(ctx, fix: dict[int, int], axes=None) -> str:
    """A point as `--at` writes it ("model=llama3_1_8b, n_gpus=2"): every coordinate of the axes in `fix` (only those
    in `axes` where given), in the sweep's order."""
    return ", ".join(f"{coord.name}={format_coord(coord, fix[axis.index])}" for axis in ctx.axes
                     if axis.index in fix and (axes is None or axis.index in axes) for coord in axis.coords)


def others_note(ctx, chosen: dict[int, int], others: list[dict[int, int]], axes: frozenset[int], asked: bool,
                kept: str = "") -> str:
    """The words that say the explained point is the first of several runs' points that match the `--at` given
    (`asked`: some --at was given) and what the others differ in, on the axes the cell depends on (`axes`), then
    `kept` (kept_words: how many of the runs' points the report's `where` keeps); "" where they all give the cell
    the same value (they differ on no such axis)."""
    differing = []
    for other in others:
        changed = {index for index in axes if other[index] != chosen[index]}
        if changed and point_words(ctx, other, changed) not in differing:
            differing.append(point_words(ctx, other, changed))
    if not differing:
        return ""
    shown = "; ".join(differing[:3]) + ("; ..." if len(differing) > 3 else "")
    count = len(differing) + 1
    return (f"the first of {count} runs' points{' that match --at' if asked else ''}; "
            f"{'the other has' if count == 2 else 'the others have'} {shown}; choose with --at AXIS=VALUE"
            + (f"; {kept}" if kept else ""))
