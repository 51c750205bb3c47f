"""Which points a plot draws, and which it draws hollow (plot_data.metric_view's rules).

- A report with `points = "runs"` has only the points its runs matched (eval's rows): `runs_slots` places each where
  its own values of the drawn axes put it; the other axes are what each run has, not held at their first value (a
  plot held them, and drew the 70B on one A100 that no run has beside the one run it matched).
- A report with a `where` (and no question) draws eval's rows of the grid: the points it leaves out are not drawn
  (`eval_mask`), and `left_out` says how many and why ("3 of 6 points: where batch <= 4"); a plot drew every point
  and said nothing.
- A report with a question (best, largest, smallest, pareto) draws its answer's rows (`answer_points`), as a
  `points = "runs"` report draws its runs': each where its own values of the drawn axes put it (`runs_slots`), one
  point per group, a Pareto front as its front. A plot drew the whole sweep under the title of the question.
- A point is drawn hollow where a marked boolean is false: a shown `fits` by default (the set-up cannot run), else
  the booleans `--hollow` names (`hollow_checks`). Every shown boolean marked before, so `saturated` (true is the
  bad case) hollowed the normal points and left the saturated one filled.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import UsageError, available, did_you_mean, error
from .evaluator import format_coord

MAX_PANELS = 12          # panels one figure can hold

# The booleans a plot marks by default: a set-up that does not fit in memory cannot run, so its estimate is drawn
# apart. A boolean whose true is the bad case (`saturated`: the requests outrun the engine) must not be: its false
# points are the normal ones. Others are marked where --hollow names them.
FITS_NAMES = frozenset({"fits"})


def hollow_checks(result, hollow: list[str] | None) -> list:
    """The shown boolean columns whose false points a plot draws hollow: those `hollow` names (--hollow: a shown
    boolean's name, its dotted cell, or the cell's own name where one shown boolean has it), else those whose name or cell is `fits` (FITS_NAMES; `memory.fits`,
    `show memory.fits as fits`). [] where `hollow` is []. UsageError (bad-plot) for a name that is not a shown
    boolean."""
    booleans = [c for c in result.columns if c.kind == "bool"]
    if hollow is None:
        return [c for c in booleans if c.name in FITS_NAMES or c.ref.split(".")[-1] in FITS_NAMES]
    picked = []
    for name in hollow:
        column = next((c for c in result.columns if name in (c.name, c.ref)), None)
        if column is None:      # `saturated` for an unlabelled `show online_serving.saturated`
            ends = [c for c in booleans if c.ref.split(".")[-1] == name]
            column = ends[0] if len(ends) == 1 else None
        if column is None or column.kind != "bool":
            names = [c.name for c in booleans]
            what = "is not a boolean" if column is not None else "is not shown by the report"
            raise UsageError(error("bad-plot", f"--hollow {name}: '{name}' {what}",
                                   hints=did_you_mean(name, names) + [available(names) if names else
                                                                      "the report shows no boolean"]))
        if column not in picked:
            picked.append(column)
    return picked


def eval_mask(result) -> np.ndarray:
    """(result.shape) bool: the sweep points that are eval's rows (`result.rows`: those a `require` under
    `invalid_points = "omit"`, a `where` or a question leaves in; a group with no answer is no point), every point
    where the rows are the sweep's."""
    rows = result.rows
    if rows is None:
        return np.ones(result.shape, dtype=bool)
    mask = np.zeros(result.n_points, dtype=bool)
    mask[rows.index[~rows.missing]] = True
    return mask.reshape(result.shape)


def answer_points(result) -> np.ndarray | None:
    """The flat sweep indices of a question's answer (eval's rows that found a point: one per group of `best`,
    `largest` and `smallest`, the front's points of `pareto`), in row order; None for a report without a question."""
    if not result.ctx.report.questions or result.rows is None:
        return None
    rows = result.rows
    return np.asarray(rows.index[~rows.missing], dtype=np.int64)


def asked(result) -> str:
    """What the report's `where` lines and question leave in, as written: "where batch <= 4",
    "where memory.fits; best min cost per model"; "" for a report with neither."""
    return asked_of(result.ctx.report)


def asked_of(report) -> str:
    """asked() of a report block (explain has its context, not a result)."""
    parts = ["where " + " and ".join(where.text for where in report.wheres)] if report.wheres else []
    if report.questions:
        parts.append(report.questions[0].text)
    return "; ".join(parts)


def left_out(result, region: tuple, drawn: int) -> str:
    """"3 of 6 points: where batch <= 4": how many points the plot draws (`drawn`) of the sweep points its `region`
    covers (an index into the sweep: the drawn axes whole, the held ones at their value), and what left the others
    out; with "; 1 of the 6 breaks a require" where a constraint leaves some out too. An axis of `region` may be an
    array of positions (the series a plot picked: plot_data._first_series). "" for a report without
    `where` or a question (its rows are the sweep's, or the constraints': drawn as before)."""
    what = asked(result)
    if not what:
        return ""
    total = math.prod(length if isinstance(index, slice) else len(index) for length, index in zip(result.shape, region)
                      if not isinstance(index, (int, np.integer)))
    text = f"{drawn:,} of {total:,} point{'' if total == 1 else 's'}: {what}"
    # A point that breaks a constraint takes no part in a `where` or a question, even under "mark" (queries.py).
    broken = int((~np.broadcast_to(result.valid, result.shape) & ~eval_mask(result))[region].sum())
    if broken:
        text += f"; {broken:,} of the {total:,} break{'s' if broken == 1 else ''} a require"
    return text


def runs_left_out(result, matched: np.ndarray, region: tuple, drawn: int) -> str:
    """"2 of 3 runs' points: where batch <= 4": how many runs' points a plot of a `points = "runs"` report draws
    (`drawn`: eval's rows in the plot) of those its runs matched (`matched`: flat sweep indices, before the `where`
    or the question keeps eval's rows: run_points.matched_before_rows) in its `region` (the axes --at holds at their
    value), and what left the others out. "" for a report without `where` or a question."""
    what = asked(result)
    if not what:
        return ""
    inside = np.zeros(result.n_points, dtype=bool)
    inside[matched] = True
    total = int(inside.reshape(result.shape)[region].sum()) if result.shape else int(inside.sum())
    whose = "run's point" if total == 1 else "runs' points"
    return f"{drawn:,} of {total:,} {whose}: {what}"


# How runs_slots's errors name the points it places: a `points = "runs"` report's runs, or a question's answer.
WHOSE = {"runs": ("two runs' points", "no run's point",
                  "the report has points = \"runs\": its points are those its runs matched"),
         "answer": ("two points of the answer", "no point of the answer",
                    "the report asks a question: its points are its answer's (eval's rows)")}


class Collision(Exception):
    """Two runs' points fall on one drawn point: `axis` tells them apart; `error`, the bad-plot diagnostic."""

    def __init__(self, axis, diagnostic):
        super().__init__(diagnostic.message)
        self.axis = axis
        self.error = UsageError(diagnostic)


def runs_slots(result, points: np.ndarray, drawn: list[int], held: dict[int, int],
                at: dict[str, str], whose: str = "runs") -> dict[tuple[int, ...], int]:
    """The runs' points (flat sweep indices `points`: eval's rows of a `points = "runs"` report; with `whose`
    "answer", a question's answer: answer_points) by where the plot draws them: positions on the `drawn` axes (x, series, panels; in that order) -> flat index. Points off a value
    `--at` holds (`held`: axis index -> position) are left out. UsageError (bad-plot) where no run's point has the
    values `at` gives, and where two runs' points fall on one drawn point (they differ on an axis neither drawn nor
    held): the hint names the axis to draw or hold."""
    if not result.shape:            # no axes (one run whose fields are single values): the one point
        return {(): int(points[0])} if len(points) else {}
    positions = np.unravel_index(np.asarray(points, dtype=np.int64), result.shape)
    slots: dict[tuple[int, ...], int] = {}
    for k, flat in enumerate(points.tolist()):
        point = [int(axis_positions[k]) for axis_positions in positions]
        if any(point[index] != at_position for index, at_position in held.items()):
            continue
        key = tuple(point[index] for index in drawn)
        if key in slots:
            other = [int(p) for p in np.unravel_index(np.int64(slots[key]), result.shape)]
            apart = [axis for axis in result.axes if point[axis.index] != other[axis.index]]
            words = [f"{c.name}={format_coord(c, other[a.index])} and {format_coord(c, point[a.index])}"
                     for a in apart for c in a.coords]
            name = apart[0].coords[0].name
            raise Collision(apart[0], error(
                "bad-plot", f"{WHOSE[whose][0]} fall on one drawn point: they differ in " + ", ".join(words)
                + ", which the plot neither draws nor holds",
                hints=[f"draw {name} with --series or --panels, or hold it with --at {name}=VALUE"]))
        slots[key] = flat
    if not slots and len(points):
        given = ", ".join(f"{name}={text}" for name, text in at.items())
        raise UsageError(error("bad-plot", f"{WHOSE[whose][1]} has {given}", hints=[WHOSE[whose][2]]))
    return slots
