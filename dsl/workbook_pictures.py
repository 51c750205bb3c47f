"""The workbook's Plots sheet: what a native spreadsheet chart cannot draw, rendered by `perfdsl.plot`.

For each section, the roofline of its first row's sweep point (its first where every shown boolean is true), where
the cost model names operation classes (`NAME_flops` / `NAME_bytes` cells; see perfdsl.roofline): log-log axes under
two roofs and a point per class. The
measured-against-estimated views are native charts on the Summary sheet (live, log axes where values span a
decade), and `perfdsl plot` draws any metric per model and GPU beside the workbook (`make run` does); drawing
those here too would cost about half a second of matplotlib per picture on every export.

A plot the report cannot give (no operation class, no finite value) is left out, never an error: the workbook is
the product, the pictures an aid to reading it.
"""

from __future__ import annotations

import struct

from .comparison import Picture
from .errors import UsageError
from .evaluator import format_coord
from .result import Result

MAX_PICTURES = 8              # rooflines: those of the first eight sections


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels from a PNG's IHDR chunk."""
    return struct.unpack(">II", png[16:24])


def workbook_pictures(result: Result, first_points: dict[str, int]) -> list[Picture]:
    """Pictures for the workbook of `result`; `first_points` maps each section's title to its first sweep point
    (a flat index)."""
    from .roofline import roofline_view

    views = []
    for title, point in list(first_points.items())[:MAX_PICTURES]:
        try:
            views.append((title, roofline_view(result.program, result.report, _at(result, point))))
        except UsageError:
            continue
    if not views:                 # nothing to draw: a report without operation classes never imports matplotlib
        return []
    from . import plot

    pictures = []
    for title, view in views:
        # A report without `section` has one section titled with its name, which the view's title starts with.
        heading = view.title if view.title.startswith(f"{title}: ") else f"{title}: {view.title}"
        pictures.append(_picture(f"{heading} at {view.point}", plot.render(plot.draw_roofline, view)))
    return pictures


def _at(result: Result, point: int) -> dict[str, str]:
    """The --at texts of a flat sweep point: every name of a zipped axis (its first alone may match several of its
    tuples, which --at refuses)."""
    import numpy as np

    index = np.unravel_index(point, result.shape) if result.shape else ()
    return {coord.name: format_coord(coord, int(index[axis.index])) for axis in result.axes for coord in axis.coords}


def _picture(title: str, png: bytes) -> Picture:
    width, height = png_size(png)
    return Picture(title, png, width, height)
