"""Intervals beside estimates: a report that binds a calibration's spread block shows "low" and "high" columns.

`perfdsl calibrate` writes, beside the fitted cells, a block of factors per metric (`runtime_low = 0.9189`,
`runtime_high = 1.0776`): a new run's measured value lies within estimate x [low, high] with 95% probability, by
the calibration's residual spread. A report that binds the block to the role `calibration`
(`calibration = seed_a5000_calibration`) gets, for each shown metric NAME whose factors the block has, the columns
"NAME low" and "NAME high" in its table, CSV and JSON, right after the estimate. The factors may vary over the
sweep: a spread block whose cells choose between calibrations (`runtime_low = if(workload.n_gpus > 1,
x8_calibration.runtime_low, x1_calibration.runtime_low)`, as reports/seed_benchmark.perf does) gives each row the
factors of the calibration fitted on runs like it.
"""

from __future__ import annotations

import numpy as np

from .result import key_with_unit

ROLE = "calibration"


def estimate_intervals(result) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Shown metric's key ("runtime [ms]", one per shown column: a name may be shown twice, in two units) ->
    (low, high) flat arrays in SI, one value per row of the result; {} without a calibration. Each row's factors are
    the spread block's cells (NAME_low, NAME_high, by the shown name) at that row's sweep point."""
    name = result.ctx.fixed_roles.get(ROLE)
    if name is None:
        return {}
    block = result.program.blocks[name]
    evaluator = result.evaluator
    out = {}
    for column in result.columns:
        if column.kind != "num" or f"{column.name}_low" not in block.cells or f"{column.name}_high" not in block.cells:
            continue
        low, high = (result.flat(np.asarray(evaluator.run(lambda c=cell: evaluator.cell(block, c)), dtype=float))
                     for cell in (f"{column.name}_low", f"{column.name}_high"))
        estimate = result.flat(column.array)        # the column's own: `column(name)` reads the first of a name
        out[column.key] = (estimate * low, estimate * high)
    return out


def with_intervals(result, keys: list[str], columns: list, keep: np.ndarray | None = None) -> tuple[list, list]:
    """The table's keys and columns with "NAME low [unit]" and "NAME high [unit]" after each estimate that has them
    (`keep`: the rows the table kept, with `points = "runs"`)."""
    intervals = estimate_intervals(result)
    if not intervals:
        return keys, columns
    keys, columns = list(keys), list(columns)
    for shown in result.columns:
        if shown.key not in intervals or shown.key not in keys or shown.axis is not None:
            continue
        at = keys.index(shown.key) + 1
        low, high = (values / shown.scale for values in intervals[shown.key])
        if keep is not None:
            low, high = low[keep], high[keep]
        keys[at:at] = [key_with_unit(f"{shown.name} low", shown.unit), key_with_unit(f"{shown.name} high", shown.unit)]
        columns[at:at] = [low, high]
    return keys, columns
