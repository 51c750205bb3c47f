"""Which fitted cells a set of runs leaves open: the test behind "not determined without GROUP" in a
cross-validation fold (perfdsl.calibrate), and the one-sided flags of the full fit.

A fold refits the cells on the runs outside one group. Where no run left depends on a cell (a kernel overhead
whose only device-bound run was held out, the others being host-bound: a decode step takes the longer of device
and host time), the refit keeps whatever value the optimiser started from, and the held-out "prediction" is made
with a value the other runs never chose. Such a fold's held-out error is no test of the model: calibrate reports
the cell as not determined without the group and the fold's held-out error as not available (never the error at
an arbitrary value, which would read as success or failure by chance).

The test, at the refitted values, for each cell: move it one small step (STEP, relative; a share of its bounds
where it is 0) up and down within its bounds and compare every estimate of the fold's runs, in log units per log
unit of the cell. A side where no estimate moves by NO_EFFECT is flat: the loss of the fold's runs is the same
there, so the runs cannot tell that side's values from the refitted one. Why this is sound for these models: a cell
enters the estimates through smooth formulas joined by max/min/where; a branch that does not hold the cell gives a
derivative of exactly 0 (not a small one), so a flat side is a real plateau of the loss, not a weak slope, and a
slope of 1e-4 in log units is 0.01% of an estimate per 1% of the cell, far below what a run measures. Flat on both
sides: no run left depends on the cell near its value. Flat on one side only: the runs bound it on the other side
(the refit stopped at a kink, where a max() starts to hide it), and every value on the flat side fits as well. The
step is local: the plateau may end further away, but the runs cannot choose a value inside it, which is what "not
determined" means. A broken `require` (an estimate the model refuses, nan) counts as an effect: the constraint
bounds the cell on that side.

Cells that no step leaves flat but that the runs fix only in combination (a product) are found as in the full fit:
a singular value of the fold's Jacobian (log units) below FLAT_RATIO of the largest; the cells whose share in its
singular vector is at least a tenth of the largest share are named together.

A cell that the full fit's runs leave open too (the same test on every run) is not blamed on the group: the full
fit flags it, and with no run depending on it the held-out estimates do not either.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

FLAT_RATIO = 1e-3        # singular value / largest below this: the runs determine that combination of cells poorly
NO_EFFECT = 1e-4         # |d ln(estimate) / d ln(cell)| below this for every run: no run depends on the cell
STEP = 1e-4              # the relative step of the test (as identifiability's Jacobian)


@dataclass(frozen=True)
class Undetermined:
    """Cells (BLOCK.CELL names, as a tuple: one cell, or a flat combination) that a set of runs leaves open, and
    why, in words that follow "not determined: ..." ("no run left depends on it")."""

    cells: tuple
    why: str


def effects(fitter, cells, values: np.ndarray, rows: np.ndarray) -> list[dict[int, np.ndarray]]:
    """Per cell, {+1: d ln estimate / d ln cell of each row one step up, -1: one step down} (signed, per log step of
    the cell), the sides that lie within its bounds; nan (a broken constraint) counts as an infinite effect. Shapes:
    each array (len(rows),)."""
    base = fitter.estimate(values)[rows]
    out = []
    for j, cell in enumerate(cells):
        step = abs(values[j]) * STEP if values[j] != 0 else STEP * (cell.high - cell.low)
        sides = {}
        for sign in (1, -1):
            moved = values[j] + sign * step
            if moved < cell.low or moved > cell.high:
                continue
            shifted = values.copy()
            shifted[j] = moved
            with np.errstate(all="ignore"):
                change = np.log(fitter.estimate(shifted)[rows] / base) / (sign * math.log1p(STEP))
            sides[sign] = np.where(np.isfinite(change), change, np.inf)
        out.append(sides)
    return out


def undetermined(fitter, cells, values: np.ndarray, rows: np.ndarray) -> list[Undetermined]:
    """The cells (or combinations) that the observations `rows` leave open at `values` (SI, shape (p,)): see the
    module's docstring for the test. [] where they determine every cell."""
    found = []
    columns = []
    for j, sides in enumerate(effects(fitter, cells, values, rows)):
        flat = [sign for sign, change in sides.items() if not (np.abs(change) >= NO_EFFECT).any()]
        if flat and len(flat) == len(sides):
            found.append(Undetermined((cells[j].name,), "no run left depends on it"))
        elif flat:
            where = "above" if flat[0] > 0 else "below"
            found.append(Undetermined((cells[j].name,), f"the runs left bound it on one side only: any value {where} "
                                      f"{cells[j].literal(values[j])} fits them as well"))
        else:
            columns.append((j, sides.get(1, sides.get(-1))))
    if len(columns) > 1:
        jac = np.nan_to_num(np.array([c for _, c in columns]).T, posinf=0.0, neginf=0.0)
        singular, vectors = np.linalg.svd(jac, full_matrices=False)[1:]
        if singular[0] > 0:
            for k in np.flatnonzero(singular / singular[0] < FLAT_RATIO):
                share = np.abs(vectors[k])
                names = tuple(cells[columns[i][0]].name for i in np.flatnonzero(share >= 0.1 * share.max()))
                found.append(Undetermined(names, "the runs left fix only a combination of "
                                          + " and ".join(names)))
    return found


def one_sided_flags(fitter, cells, values: np.ndarray, open_cells: list[Undetermined], flagged) -> list[tuple]:
    """(cell, message, hint) for the full fit's cells that its runs bound on one side only (undetermined's
    one-sided case), where `flagged` (the identifiability flags, with a `cell` field) says nothing of them yet."""
    named = {name for flag in flagged for name in flag.cell.split(", ")}
    return [(u.cells[0], u.why.replace("the runs left", "the runs"), "fix it (leave it out of --fit), or add runs "
             "that exercise it on that side") for u in open_cells
            if len(u.cells) == 1 and u.cells[0] not in named and "one side" in u.why]


# ---- the model's constraints -----------------------------------------------------------------------------------

def broken_at_runs(estimator, points: np.ndarray) -> list:
    """The constraints (constraints.Violation) the estimator's last call broke at any of the flat sweep points
    `points` (the runs'): a point a `require` rules out has no estimate there, and `perfdsl eval` of the
    calibration would leave the run out, or refuse the file where the condition reads only constants."""
    shape = estimator.ctx.shape
    return [v for v in estimator.violations if np.broadcast_to(v.broken, shape).reshape(-1)[points].any()]


def constraint_error(estimator, violation, message: str, notes: list[str], hints: list[str]):
    """error[fit-breaks-constraint] located at the `require` broken (its condition's span, the line quoted)."""
    require = violation.require
    return estimator.program.sources.diag("fit-breaks-constraint", f"{message}: `{require.text}` ({require.message})",
                                          require.condition.span, path=f"{violation.kind}.{violation.owner}",
                                          notes=notes, hints=hints)


def check_movable(estimator, cells, start: np.ndarray, points: np.ndarray) -> None:
    """Raise PerfError where the model's constraints pin a fitted cell at its start: every value one step (STEP,
    relative) either side within its bounds breaks a `require` at the runs' points (a whole number of tokens), so
    least squares cannot move it and would report the start as fitted. `start` in SI, shape (p,)."""
    from .errors import PerfError

    for j, cell in enumerate(cells):
        step = abs(start[j]) * STEP if start[j] != 0 else STEP * (cell.high - cell.low)
        tried, broken = [], []
        for moved in (start[j] + step, start[j] - step):
            if not cell.low <= moved <= cell.high:
                continue
            shifted = start.copy()
            shifted[j] = moved
            estimator(shifted)
            tried.append(cell.literal(moved))
            broken.append(broken_at_runs(estimator, points))
        if tried and all(broken):
            estimator(start)
            raise PerfError(constraint_error(
                estimator, broken[0][0], f"the fit cannot move {cell.name} from {cell.literal(start[j])}: the values "
                "next to it break a `require`",
                [f"{cell.name} = {' and '.join(tried)} break it at the runs' points"],
                ["a cell the model takes in whole numbers (a count of tokens) is not fitted by least squares: fix it "
                 f"with --set {cell.name}=N, fitting the other cells at a few values of N, and compare their errors; "
                 f"or fit another cell. Nothing was written"]))


def check_fitted(estimator, cells, values: np.ndarray, points: np.ndarray) -> None:
    """Raise PerfError where the fitted values, as the calibration file writes them (each cell's literal: 6
    digits), break a `require` at the runs' points (the file would not load, or would leave runs out): the
    constraint, the values, and what to do. `values` in SI, shape (p,)."""
    from .errors import PerfError

    written = np.array([float(cell.literal(v).split()[0]) * cell.scale for cell, v in zip(cells, values)])
    estimator(written)
    broken = broken_at_runs(estimator, points)
    if broken:
        read = _cells_read(broken[0].require, cells) or cells
        fitted = ", ".join(f"{cell.name} = {cell.literal(v)}" for cell, v in zip(cells, written))
        raise PerfError(constraint_error(
            estimator, broken[0], f"the fit ends at {fitted}, which breaks a `require`",
            ["the calibration file would set these values, and `perfdsl eval` would refuse it or leave runs out"],
            [f"narrow the bounds (--fit {read[0].name}=LOW..HIGH) to values that meet the constraint, fit another "
             f"cell, or fix {read[0].name} with --set. Nothing was written"]))


def _cells_read(require, cells) -> list:
    """The fitted cells whose name the constraint's condition reads (by the cell's name: `output_len`,
    `workload.output_len`)."""
    from .linker import refs_of

    names = {ref.parts[-1] for ref in refs_of(require.condition)}
    return [cell for cell in cells if cell.cell in names]
