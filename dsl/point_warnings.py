"""A cell's trouble at some sweep points, as a warning (part of stage 4, evaluation): a size or duration below zero
(warning[negative-size]), a division by zero, a log of zero or below, or a value that is not a number
(division-by-zero, log-of-non-positive, not-a-number, overflow), named at its first point and counted over the
points it affects.

A point that a `require` leaves out of the results is not one the user reads, so a warning counts only the points
the constraints keep (`over_kept`): `batch = [-1, 8]` under the cost model's `require batch >= 1` is the
constraint's one warning, not twenty negative sizes of internal cells at batch=-1 as well. Under the report option
`invalid_points = "mark"` every point keeps its row (marked), so there every point counts. The evaluator finds the
trouble while it computes a cell (Evaluator._warn_point), before the constraints are known: it records the points
here and gives the warning at once (so that a cell that warned is not kept as a constant); the evaluation's caller
counts it again over the kept points once the constraints are evaluated (Program._evaluate_in, and the chunks of
an answer: candidates.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from . import ir
from .blocks import Block
from .errors import Diagnostic, Tally
from .lazy_numpy import lazy_numpy

np = lazy_numpy(__name__)


@dataclass
class Trouble:
    """One warning of a cell (`code` at `block`.`cell`): its words, and the bad points of each computation of the cell
    (`masks`: (bad, fix), a boolean array of the cell's shape and the role positions it was computed at; a cell read
    through several blocks of a swept role is computed once per block). `diag` is the warning of the first."""

    block: Block
    cell: ir.Cell
    code: str
    message: str
    hint: str
    masks: list[tuple[np.ndarray, dict[int, int]]] = field(default_factory=list)
    diag: Diagnostic | None = None


def point_warning(evaluator, trouble: Trouble, bad: np.ndarray, fix: dict[int, int],
                  valid: np.ndarray | None = None) -> Diagnostic | None:
    """The warning of `trouble` for one computation of its cell (`bad` at role positions `fix`), named at its first
    bad point and counting the sweep points affected: the cell's bad values times the axes it does not vary along
    (a role's axis fixed at this block's position counts once: its other positions are other blocks). With `valid`
    (the evaluator's full-shape mask of the points the constraints keep), only the kept points count and name the
    point; None where no kept point is bad."""
    if valid is None:
        spread = math.prod(n for axis, n in enumerate(evaluator.shape) if axis not in fix and bad.shape[axis] == 1)
        count = int(np.count_nonzero(bad)) * spread
        first = tuple(int(i) for i in np.argwhere(bad)[0])
    else:
        # The constraints' mask at the role positions the cell was computed at; the axes the cell does not vary along
        # count through it (the same count as above where every point is kept).
        at = valid[tuple(slice(fix[axis], fix[axis] + 1) if axis in fix else slice(None)
                         for axis in range(valid.ndim))]
        kept = np.logical_and(bad, at)
        count = int(np.count_nonzero(kept))
        if count == 0:
            return None
        # The first kept bad point, on the cell's own axes (the lexicographic first of the whole mask's, where every
        # point is kept, as above).
        first = tuple(int(i) if bad.shape[axis] > 1 else 0 for axis, i in enumerate(np.argwhere(kept)[0]))
    block, cell = trouble.block, trouble.cell
    where = evaluator.describe_point(first, bad.shape, fix, evaluator.axes_of(block.name, cell.name))
    span = cell.expr.span if cell.expr is not None else cell.span
    # A chunk counts its own points of the whole sweep's: the chunks' warnings add up (streaming.keep_first).
    tally = Tally(key=(trouble.code, block.name, cell.name), count=count,
                  total=evaluator.ctx.whole_points or evaluator.ctx.n_points, verb="are affected", in_note=True)
    diag = evaluator.sources.diag(trouble.code, f"{trouble.message} at {where}", span,
                                  path=block.cell_path(cell.name), notes=[tally.text()], hints=[trouble.hint])
    diag.severity = "warning"
    diag.tally = tally
    return diag


def over_kept(evaluator, troubles: dict[tuple, Trouble], valid: np.ndarray | None) -> list[Diagnostic]:
    """The evaluator's warnings (in their order) with each cell's trouble counted over the points `valid` keeps (the
    constraints' full-shape mask; None: every point): from the first computation of the cell that is bad at a kept
    point, and left out where none is. Other warnings are kept as they are."""
    warnings = evaluator.warnings
    if valid is None or not troubles or valid.all():
        return list(warnings)
    by_diag = {id(trouble.diag): trouble for trouble in troubles.values()}
    found = []
    for diag in warnings:
        trouble = by_diag.get(id(diag))
        if trouble is None:
            found.append(diag)
            continue
        for bad, fix in trouble.masks:
            kept = point_warning(evaluator, trouble, bad, fix, valid)
            if kept is not None:
                found.append(kept)
                break
    return found
