"""The workbook's Plots sheet: the plots a native spreadsheet chart cannot draw, rendered by `perfdsl.plot`.

- For each shown metric that has measured runs: the metric per identifying axis, one series per value of another,
  one panel per value of a third (the seed report: runtime per model, one series per GPU, a panel per GPU count),
  estimates filled and runs as open markers, on a log axis where the values span a decade.
- For each section: the roofline of its first row's sweep point, where the cost model names operation classes
  (`NAME_flops` / `NAME_bytes` cells; see perfdsl.roofline).

A plot the report cannot give (no finite value, no operation class) is left out, never an error: the workbook is
the product, the pictures an aid to reading it.
"""

from __future__ import annotations

import struct

from .comparison import Picture
from .errors import UsageError
from .evaluator import format_coord
from .result import Result

MAX_PICTURES = 12


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels from a PNG's IHDR chunk."""
    return struct.unpack(">II", png[16:24])


def workbook_pictures(result: Result, comparison, first_points: dict[str, int]) -> list[Picture]:
    """Pictures for the workbook of `result`; `first_points` maps each section's title to its first sweep point
    (a flat index)."""
    from . import plot
    from .plot_data import metric_view
    from .roofline import roofline_view

    pictures: list[Picture] = []
    measured = {m.name for m in (comparison.metrics if comparison is not None else [])}
    for column in result.columns:
        if column.kind != "num" or column.name not in measured:
            continue
        try:
            view = metric_view(result, comparison, y=column.name)
        except UsageError:
            continue
        pictures.append(_picture(view.title, plot.render(plot.draw_metric, view)))
    for title, point in first_points.items():
        try:
            view = roofline_view(result.program, result.report, _at(result, point))
        except UsageError:
            continue
        pictures.append(_picture(f"{title}: {view.title} at {view.point}", plot.render(plot.draw_roofline, view)))
    return pictures[:MAX_PICTURES]


def _at(result: Result, point: int) -> dict[str, str]:
    """The --at texts of a flat sweep point."""
    import numpy as np

    index = np.unravel_index(point, result.shape) if result.shape else ()
    return {axis.coords[0].name: format_coord(axis.coords[0], int(index[axis.index])) for axis in result.axes}


def _picture(title: str, png: bytes) -> Picture:
    width, height = png_size(png)
    return Picture(title, png, width, height)
