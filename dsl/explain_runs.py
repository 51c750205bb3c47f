"""`perfdsl explain` of a report with `points = "runs"`: the points eval has (those its runs matched, over the axes
the runs' fields make: `n_gpus`, `tp` ...), and the one explained among them.

eval makes a runs report's sweeps from its runs' identifying fields and keeps the points a run matched
(run_points.py, matching.py); explain without them took the report's own sweeps, so a field such as n_gpus was not
an axis (`--at n_gpus=2` refused) and kept its written value (the 70B run on two A100s explained on one, pp = 1).
`with_runs` evaluates the report as eval does and gives the runs' points; `choose_run_point` picks the first that
`--at` matches, and `others_note` says what the other matching ones differ in.
"""

from __future__ import annotations

import numpy as np

from .errors import PerfError, UsageError, error
from .evaluator import format_coord
from .explain import choose_point


def with_runs(program, report: str | None, overrides: dict[str, object] | None, measured: list[str] | None,
              add_measured: list[str], base_dir: str):
    """(the program to explain, the runs' points): for a report with `points = "runs"` that has runs (its own
    `measured` logs, or `measured` in their place, plus `add_measured`), the report evaluated and matched as eval
    does it (measured.evaluate_with_runs: the runs' fields become sweeps, `overrides` from --set win) and the flat
    sweep indices of the points its runs matched (eval's rows); otherwise `program` with `overrides` and None.
    `program` is as loaded, without overrides. Raises UsageError (exit 2) for a log named that does not exist and
    PerfError (exit 1) for errors in the specs or the logs, as eval does."""
    from .matching import points_option

    plain = program.with_overrides(overrides or None, report)
    if not program.reports:
        return plain, None
    try:
        name = program._pick_report(report)
    except UsageError:
        return plain, None          # explain says which reports there are, or reads a block's cell
    if points_option(program, program.blocks[name]) != "runs":
        return plain, None
    from .measured import evaluate_with_runs
    from .run_points import matched_points

    evaluated = evaluate_with_runs(program, name, overrides, measured=measured, add_measured=add_measured,
                                   base_dir=base_dir)
    if evaluated.exit_status:
        raise PerfError([d for d in evaluated.diagnostics if d.severity == "error"])
    points = matched_points(evaluated.comparison)
    return (evaluated.result.program, points) if points is not None else (plain, None)


def choose_run_point(ctx, at: dict[str, str], points: np.ndarray) -> list[dict[int, int]]:
    """The runs' points (flat sweep indices `points`, eval's rows of a `points = "runs"` report) that agree with every
    `--at AXIS=VALUE`, each as axis index -> position, in eval's row order (the first is the one explained).
    UsageError (bad-point, exit 2) for an axis or value the sweep does not have (choose_point), and where no run's
    point has the values given (the hint lists the runs' points)."""
    given, _ = choose_point(ctx, at)
    names = {coord.name: axis for axis in ctx.axes for coord in axis.coords}
    named = {names[name].index for name in at}
    shape = tuple(axis.length for axis in ctx.axes)
    # (A report without axes, one run whose fields are single values, has the one point: shape ().)
    positions = np.unravel_index(np.asarray(points, dtype=np.int64), shape) if shape else ()
    runs = [{axis.index: int(positions[axis.index][k]) for axis in ctx.axes} for k in range(len(points))]
    matching = [run for run in runs if all(run[index] == given[index] for index in named)]
    if not matching:
        asked = ", ".join(f"{name}={text}" for name, text in at.items())
        listed = [point_words(ctx, run) for run in runs[:5]] + (["..."] if len(runs) > 5 else [])
        raise UsageError(error("bad-point", f"no run's point has {asked}" if runs else "no run matched a point",
                               hints=["the report has points = \"runs\": its points are those its runs matched: "
                                      + "; ".join(listed)] if runs else []))
    return matching


def point_words(ctx, fix: dict[int, int], axes=None) -> str:
    """A point as `--at` writes it ("model=llama3_1_8b, n_gpus=2"): every coordinate of the axes in `fix` (only those
    in `axes` where given), in the sweep's order."""
    return ", ".join(f"{coord.name}={format_coord(coord, fix[axis.index])}" for axis in ctx.axes
                     if axis.index in fix and (axes is None or axis.index in axes) for coord in axis.coords)


def others_note(ctx, chosen: dict[int, int], others: list[dict[int, int]], axes: frozenset[int], asked: bool) -> str:
    """The words that say the explained point is the first of several runs' points that match the `--at` given
    (`asked`: some --at was given) and what the others differ in, on the axes the cell depends on (`axes`); "" where
    they all give the cell the same value (they differ on no such axis)."""
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
            f"{'the other has' if count == 2 else 'the others have'} {shown}; choose with --at AXIS=VALUE")
