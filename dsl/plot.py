"""Plot stage: draws `perfdsl.plot_data` and `perfdsl.roofline` views as PNG, SVG or PDF (the only module that
imports matplotlib).

matplotlib runs on its Agg backend (files only, never a display), chosen before pyplot is imported, so plotting
works on a headless server or in CI. Figures are built with the object API and closed after saving, so plotting
many reports in one process does not accumulate memory.

Conventions, the same in every plot: units in the axis labels; a log axis where the values span decades
(`plot_data.LOG_RATIO`), with ticks in plain numbers (0.5, 20, 3000) rather than powers of ten; estimates filled,
measured runs open markers in the series' colour; points where a shown boolean (fits) is false hollow circles off the
line; what the other axes are held at in the subtitle, how many points a `where` or a question leaves in, and which
series are drawn where the default series has more values than a legend tells apart.
"""

from __future__ import annotations

import io
import math
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")      # before pyplot: a file backend, no display needed
matplotlib.rcParams["svg.fonttype"] = "none"     # SVG text stays text: searchable, editable, smaller
matplotlib.rcParams["pdf.fonttype"] = 42         # TrueType in PDFs, which editors and printers handle well

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

from .errors import UsageError, error  # noqa: E402
from .plot_data import MetricView  # noqa: E402
from .roofline import RooflineView  # noqa: E402

FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
DPI = 150
PANEL_SIZE = (6.4, 4.4)          # inches per panel
_COLOURS = plt.get_cmap("tab10").colors + plt.get_cmap("Dark2").colors


def image_format(path: str | Path) -> str:
    """'png', 'svg' or 'pdf' from the output's suffix; UsageError (exit status 2) for any other."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(error("bad-output", f"cannot tell the image format of '{path}' from its suffix",
                               hints=["use .png, .svg or .pdf"]))
    return FORMATS[suffix]


def plain_number(value: float, _position=None) -> str:
    """Tick text: 0.5, 20, 3000, 10000, 1.2e+06 (no 10^x powers, no trailing zeros)."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else ""
    magnitude = abs(value)
    if 1 <= magnitude < 1e6 and float(value).is_integer():
        return str(int(value))
    if 1e-3 <= magnitude < 1e5:
        return f"{value:.4g}"
    return f"{value:.2g}"


def legend_number(value: float) -> str:
    """A figure in a legend: 4 significant digits written out, thousands separated, trailing zeros dropped
    (8,000; 10,000; 1,508; 989.5; 14.3; 0.9124), in the unit the legend names, so GPUs compare digit for digit.
    An exponent only outside 1e-4 .. 1e15, where a written-out number would be a row of zeros."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    rounded = float(f"{value:.4g}")            # 9999.7 rounds to 10000: its digits are counted after rounding
    if not 1e-4 <= abs(rounded) < 1e15:
        return f"{value:.4g}"
    decimals = max(0, 3 - math.floor(math.log10(abs(rounded))))
    text = f"{rounded:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _log_axis(axis) -> None:
    axis.set_major_formatter(FuncFormatter(plain_number))
    axis.set_minor_formatter(NullFormatter())
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))


def _colour(index: int):
    return _COLOURS[index % len(_COLOURS)]


def draw_metric(view: MetricView, path: str | Path | io.BytesIO, fmt: str | None = None) -> None:
    """A metric against an axis (`metric_figure`), saved to `path` as PNG, SVG or PDF."""
    _save(metric_figure(view), path, fmt)


def metric_figure(view: MetricView):
    """A metric against an axis: one panel per value of the panel axis, one series per colour, as a matplotlib
    Figure (the caller saves and closes it; `draw_metric` does both).

    Numeric x: lines with markers (measured runs as open diamonds, no line). Categorical x (models, GPUs): the
    series side by side around each category, since a line between two models means nothing. A point where a shown
    boolean is false (`Series.failing`: fits = false, a set-up that does not fit in memory) is a hollow circle that
    no line reaches, keyed "hollow: fits = false" in the legend; a series hollow at every point says so beside its
    name. The panels share one y-axis whose limits hold every point of every panel (`_fit_y`).
    """
    count = len(view.panels)
    columns = 2 if count == 4 else min(count, 3)       # 2 x 2 rather than 3 + 1
    rows = math.ceil(count / columns)
    figure, axes = plt.subplots(rows, columns, squeeze=False, sharey=True,
                                figsize=(PANEL_SIZE[0] * columns, PANEL_SIZE[1] * rows + 0.6),
                                layout="constrained")
    series_count = max(len(p.series) for p in view.panels)
    width = 0.8 / max(series_count, 1)
    for panel, ax in zip(view.panels, axes.flat):
        for index, series in enumerate(panel.series):
            colour = _colour(index)
            # A point where a shown boolean is false (fits = false) is a hollow marker the line does not reach.
            failing = series.failing if series.failing is not None else np.zeros(len(series.estimated), bool)
            holding = np.where(failing, np.nan, series.estimated)
            if view.categorical:
                x = np.asarray(series.x, dtype=float) + (index - (series_count - 1) / 2) * width
                ax.plot(x, holding, linestyle="none", marker="o", markersize=7, color=colour)
                size = 7
            else:
                x = np.asarray(series.x, dtype=float)
                ax.plot(x, holding, marker="o", markersize=4 if view.joined else 6, linewidth=1.6, color=colour,
                        linestyle="-" if view.joined else "none")
                size = 6
            if failing.any():
                ax.plot(x[failing], series.estimated[failing], linestyle="none", marker="o", markersize=size,
                        markerfacecolor="none", markeredgewidth=1.4, color=colour)
            if series.measured is not None and np.isfinite(series.measured).any():
                measured_x = x if series.measured_x is None else np.asarray(series.measured_x, dtype=float)
                ax.plot(measured_x, series.measured, linestyle="none", marker="D", markersize=8,
                        markerfacecolor="none", markeredgewidth=1.6, color=colour)
            if view.along is not None and index == 0:     # one series is enough to read the direction
                _label_ends(ax, x, series.estimated, view.along, colour)
        if panel.title:
            ax.set_title(panel.title, fontsize=10)
        if view.categorical:
            ax.set_xticks(range(len(view.categories)))
            ax.set_xticklabels(view.categories, rotation=30 if max(map(len, view.categories)) > 8 else 0,
                               ha="right" if max(map(len, view.categories)) > 8 else "center", fontsize=8)
            ax.set_xlim(-0.6, len(view.categories) - 0.4)
            for boundary in range(len(view.categories) - 1):
                ax.axvline(boundary + 0.5, color="0.9", linewidth=0.8, zorder=0)
        elif view.x_log:
            ax.set_xscale("log")
            _log_axis(ax.xaxis)
            values = panel.series[0].x
            if len(values) <= 12 and view.along is None:
                ax.set_xticks(values)
                ax.xaxis.set_major_formatter(FuncFormatter(plain_number))
        ax.set_xlabel(view.x_label)
        ax.grid(True, which="major", axis="y", color="0.88", linewidth=0.8)
        if view.y_log:
            ax.set_yscale("log")
            _log_axis(ax.yaxis)
        else:
            ax.yaxis.set_major_formatter(FuncFormatter(plain_number))
    _fit_y(axes.flat[:count], view)
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel(view.y_label)
    # A series with no point in any panel (every point left out by a constraint or a `where`) is named apart, not
    # given a colour in the key that appears nowhere on the plot.
    empty = {i for i in range(series_count)
             if not any(i < len(p.series) and np.isfinite(np.asarray(p.series[i].estimated, dtype=float)).any()
                        for p in view.panels)}
    # A series whose every drawn point fails a shown boolean (a 70B model on one 80 GB GPU: fits = false) says so
    # beside its name, with a hollow marker and no line, as it is drawn.
    checks = " or ".join(f"{name} = false" for name in view.checks)
    failed = {i for i in range(series_count) if i not in empty and
              all(s.failing is not None and not (np.isfinite(s.estimated) & ~s.failing).any()
                  for p in view.panels if i < len(p.series) for s in [p.series[i]])}
    handles = [Line2D([], [], color=_colour(i), marker="o",
                      linestyle="-" if not view.categorical and view.joined and i not in failed else "none",
                      markerfacecolor="none" if i in failed else None,
                      label=f"{s.label}: {checks} at every point" if i in failed else s.label)
               for i, s in enumerate(view.panels[0].series) if i not in empty] if series_count > 1 else []
    if handles and empty:
        handles.append(Line2D([], [], linestyle="none", label="no points: " + ", ".join(
            view.panels[0].series[i].label for i in sorted(empty))))
    if view.checks:                # the key to the hollow markers, only where some point is drawn hollow
        every = " at every point" if series_count == 1 and failed else ""
        handles.append(Line2D([], [], color="0.3", marker="o", markerfacecolor="none", linestyle="none",
                              label=f"hollow: {checks}{every}"))
    if view.has_measured:          # filled and open markers need a key only where both appear
        handles.append(Line2D([], [], color="0.3", marker="o", linestyle="none", label="estimated"))
        handles.append(Line2D([], [], color="0.3", marker="D", markerfacecolor="none", linestyle="none",
                              label="measured"))
    if handles:
        figure.legend(handles=handles, loc="outside lower center", ncols=_legend_columns(handles, figure), fontsize=8,
                      frameon=False)
    subtitle = f"at {view.held}" if view.held else ""
    if view.run_points is not None or view.answer:    # the axes not drawn are each run's (each answer's) own
        subtitle = ("at the answer's points" if view.answer else "at the runs' points") + (
            f" with {view.held}" if view.held else "")
    # What a `where` or a question leaves out ("3 of 6 points: where batch <= 4") on a line of its own, wrapped to the
    # figure's width: a question's text ran past both edges of a one-panel figure.
    lines = [view.title] + [line for text in (subtitle, view.left_out, view.series_note) if text
                            for line in textwrap.wrap(text, _title_characters(figure))]
    figure.suptitle("\n".join(lines), fontsize=_TITLE_POINTS)
    return figure


_TITLE_POINTS = 11


def _title_characters(figure) -> int:
    """The characters of a title line at _TITLE_POINTS that fit the figure's width (0.6 em a character, as the
    legend's _LEGEND_CHAR_IN), less a margin."""
    return max(20, int(figure.get_figwidth() * 0.92 / (0.6 * _TITLE_POINTS / 72)))


# Width of one legend character at fontsize 8 (DejaVu Sans averages about 0.6 em) and of a handle with its padding,
# in inches: enough to tell whether a row of labels fits the figure's width.
_LEGEND_CHAR_IN = 0.6 * 8 / 72
_LEGEND_HANDLE_IN = 0.55


def _legend_columns(handles, figure) -> int:
    """At most 4 columns, fewer where the longest labels would not fit the figure's width side by side (long labels
    such as "h100_sxm5: fits = false at every point" were cut off at the edges of the image)."""
    width = figure.get_figwidth()
    longest = max(len(h.get_label()) for h in handles)
    columns = min(len(handles), 4)
    while columns > 1 and columns * (longest * _LEGEND_CHAR_IN + _LEGEND_HANDLE_IN) > width:
        columns -= 1
    return columns


def _fit_y(axes, view: MetricView) -> None:
    """A linear y-axis starts at 0 (where no value is negative), set only once every panel is drawn.

    Setting a limit freezes it: set on the first panel before the others are drawn, the shared axis kept the first
    panel's top and cut off the higher points of the later panels. Set now, the top is matplotlib's autoscaled one,
    taken over the data of every panel sharing the axis. A log axis keeps its autoscaled limits.
    """
    if view.y_log:
        return
    values = [v for panel in view.panels for s in panel.series
              for v in (*s.estimated.tolist(), *([] if s.measured is None else s.measured.tolist()))
              if math.isfinite(v)]
    if values and min(values) < 0:
        return                     # the autoscaled bottom, below the lowest point
    top = max(values, default=0.0)
    for ax in axes:
        ax.set_ylim(bottom=0)
        # The autoscaled top leaves 5% of the data's own range above the highest point: with the bottom moved to 0
        # from far above it (tpot 64-67 ms), the highest line sat on the frame. 5% of the axis's range instead.
        if top > 0 and ax.get_ylim()[1] < top * 1.05:
            ax.set_ylim(top=top * 1.05)


def _label_ends(ax, x: np.ndarray, y: np.ndarray, along: tuple[str, list[str]], colour) -> None:
    """Name the first and last point of a curve traced along an axis ("batch=1", "batch=256"; a zipped axis's labels
    name their tuple already: "tp=2, ep=1")."""
    name, labels = along
    finite = [i for i in range(len(labels)) if np.isfinite(x[i]) and np.isfinite(y[i])]
    for i in (finite[:1] + finite[-1:]) if len(finite) > 1 else finite:
        ax.annotate(labels[i] if "=" in labels[i] else f"{name}={labels[i]}", (x[i], y[i]), xytext=(4, 4),
                    textcoords="offset points", fontsize=7,
                    color=colour)


def draw_roofline(view: RooflineView, path: str | Path | io.BytesIO, fmt: str | None = None) -> None:
    """The roofline of a point (`roofline_figure`), saved to `path` as PNG, SVG or PDF."""
    _save(roofline_figure(view), path, fmt)


def roofline_figure(view: RooflineView):
    """Arithmetic intensity (FLOP/byte) against achieved rate (TFLOP/s), log-log, under the GPU's roofs, as a
    matplotlib Figure (the caller saves and closes it; `draw_roofline` does both).

    The datasheet's roofs are solid (peak FLOP/s and bytes/s x intensity); the cost model's achievable rates are
    dashed. Each operation class is a point, named in the legend below with its figures (the legend rather than
    labels beside the points, which overlap where classes have similar intensities); classes with no FLOPs are
    listed there too. Figures in the legend are `legend_number`s.
    """
    figure, ax = plt.subplots(figsize=(8.0, 5.6), layout="constrained")
    tera = 1e12
    intensities = [c.intensity for c in view.classes]
    low = min(intensities + [view.ridge]) / 4
    high = max(intensities + [view.ridge]) * 4
    x = np.geomspace(low, high, 200)
    peaks = [c for c in view.ceilings if c.kind == "compute"]
    bandwidths = [c for c in view.ceilings if c.kind == "bandwidth"]
    for peak in peaks:
        for bandwidth in bandwidths:
            if peak.achievable != bandwidth.achievable:
                continue
            roof = np.minimum(peak.value, bandwidth.value * x) / tera
            ax.plot(x, roof, color="0.55" if peak.achievable else "black",
                    linestyle="--" if peak.achievable else "-", linewidth=1.0 if peak.achievable else 1.8)
    handles = []
    for achievable in (False, True):
        peak_text = ", ".join(f"{c.name} {legend_number(c.value / tera)} TFLOP/s"
                              for c in peaks if c.achievable == achievable)
        bw_text = ", ".join(f"{c.name} {legend_number(c.value / 1e9)} GB/s"
                            for c in bandwidths if c.achievable == achievable)
        if peak_text and bw_text:
            handles.append(Line2D([], [], color="0.55" if achievable else "black", linestyle="--" if achievable
                                  else "-", label=f"{'achievable' if achievable else 'datasheet'}: {peak_text}; "
                                                  f"{bw_text}"))
    for index, cls in enumerate(view.classes):
        colour = _colour(index)
        ax.plot([cls.intensity], [cls.rate / tera], marker="o", markersize=8, color=colour, linestyle="none")
        handles.append(Line2D([], [], color=colour, marker="o", linestyle="none",
                              label=f"{cls.name}: {legend_number(cls.intensity)} FLOP/byte, "
                                    f"{legend_number(cls.rate / tera)} TFLOP/s, {legend_number(cls.time * 1e3)} ms"
                                    f"{' per layer' if cls.per_layer else ''} "
                                    f"({cls.time_cell})"))
    if view.memory_only:
        listed = ", ".join(f"{name} {legend_number(seconds * 1e3)} ms" for name, seconds in view.memory_only)
        handles.append(Line2D([], [], linestyle="none", label=f"no FLOPs counted (memory only): {listed}"))
    figure.legend(handles=handles, loc="outside lower left", fontsize=7.5, frameon=False)
    ax.set_xscale("log")
    ax.set_yscale("log")
    _log_axis(ax.xaxis)
    _log_axis(ax.yaxis)
    ax.set_xlim(low, high)
    rates = [c.rate / tera for c in view.classes]
    ax.set_ylim(min(rates + [view.bandwidth * low / tera]) / 2, view.peak / tera * 2.5)
    ax.set_xlabel("Arithmetic intensity (FLOP/byte)")
    ax.set_ylabel("Achieved rate (TFLOP/s)")
    ax.grid(True, which="major", color="0.9", linewidth=0.8)
    point = f"at {view.point}" + (f" ({view.note})" if view.note else "")     # runs: which of them, where several
    figure.suptitle("\n".join([view.title] + textwrap.wrap(point, _title_characters(figure))), fontsize=10)
    return figure


def _save(figure, path, fmt: str | None) -> None:
    try:
        figure.savefig(path, format=fmt or image_format(path), dpi=DPI)
    finally:
        plt.close(figure)


def render(draw, view, fmt: str = "png") -> bytes:
    """A view drawn in memory (`draw` is draw_metric or draw_roofline), as the bytes of a PNG, SVG or PDF file."""
    buffer = io.BytesIO()
    draw(view, buffer, fmt)
    return buffer.getvalue()
