"""A report that shows its own sweep axis (`sweep a = [1, 2]`, `show q, a`): the axis is written once, as its axis column.

Every axis is a column of the output, before the shown cells; the `show` of the axis wrote it a second time under the
same name (`a  q  a`), which a CSV or pandas reader, or a JSON object, keeps only one of. Reports that show an axis
as their only cell (`sweep a = ...; show a`) are common and fine, so this is no error: the shown item is written as
the axis's column, where the axes are, and nowhere else, in every output (table, CSV, JSON, JSON Lines, Parquet, the
workbook, Result.table()/records()/to_pandas()/to_xarray(); streaming.Answer alike, whose tables are Result.table()'s).

Which unit: the axis column's is the unit its values are written in (`sweep a = [1 GB, 2 GB]`: GB), while a `show a`
without `in UNIT` would be in SI (B): the axis's is the more informative and is kept. A `show a in MB` asks for a
unit: the axis is then displayed in MB everywhere (adopt_shown_units, when the context is built: its column, the
workbook's Setup line, plot labels, `--at` values, warnings' points), so the unit asked for is never lost. A second
`show a in GB` beside it is a column of its own (`a [GB]`, another key than `a [MB]`), as a cell shown in two units
is. A labelled show (`show a as A`) names a column of another name: it is written as it was.

A shown column that is so written keeps its place in Result.columns (ShownColumn.axis names the coordinate; its unit
and scale are the axis's), so that `Result.column("a")`, `perfdsl plot --y a`, `explain` and run matching read it
as before.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from .units import UnitError, parse_unit

if TYPE_CHECKING:
    from . import ir
    from .context import Coord, ReportContext


def own_axis(ctx: "ReportContext", item: "ir.ShowItem") -> "Coord | None":
    """The coordinate of the report's own sweep (`sweep a = ...` in the report or a report it extends, or a cell a
    `--set` sweeps) that the unlabelled show item `item` reads by its bare name, so that its column would be named
    like the axis's; None for any other item (a label, `workload.batch`, a cell)."""
    if item.label is not None or len(item.ref.parts) != 1:
        return None
    entry = ctx.sweep_cells.get((ctx.report.name, item.ref.parts[0]))
    if entry is None or entry[1].kind not in ("num", "str", "bool"):
        return None
    return entry[1]


def written_as_axis(ctx: "ReportContext", item: "ir.ShowItem") -> "Coord | None":
    """The coordinate whose column show item `item` is written as (own_axis, and no unit other than the axis's:
    `show a`, or `show a in MB` where the axis is displayed in MB), else None: the item is a column of its own."""
    coord = own_axis(ctx, item)
    if coord is None or (item.unit and item.unit != coord.unit):
        return None
    return coord


def adopt_shown_units(ctx: "ReportContext") -> None:
    """Display each of the report's own number axes in the unit of the first unlabelled `show` of it that gives one
    of its dimension (`show a in MB`): its coordinate's unit and scale, in ctx.axes and ctx.sweep_cells alike. A unit
    that is unknown or of another dimension is left to the checker (check_units_of_shows), and the axis as it was."""
    done: set[str] = set()
    for item in ctx.report.shows:
        coord = own_axis(ctx, item)
        if coord is None or not item.unit or coord.kind != "num" or coord.name in done:
            continue
        done.add(coord.name)
        try:
            unit = parse_unit(item.unit)
        except (UnitError, ValueError):
            continue
        if unit.dim != coord.dim or item.unit == coord.unit:
            continue
        # integral=None: decided anew (a plain count shown in % is no longer written as integers)
        shown = replace(coord, unit=item.unit, scale=unit.scale, integral=None)
        for axis in ctx.axes:
            axis.coords = [shown if c is coord else c for c in axis.coords]
        key = (ctx.report.name, coord.name)
        ctx.sweep_cells[key] = (ctx.sweep_cells[key][0], shown)
