"""Plot stage, pure part: what a plot shows, taken from a report's result (and its matched runs), as plain data.

Two views:
- `metric_view`: a shown metric against one axis of the sweep, one series per value of another axis, optionally
  one panel per value of a third; every other axis is held at one value (`--at AXIS=VALUE`, else its first).
  Measured runs, where the report has them, go beside the estimates. A report with `points = "runs"` has only the
  points its runs matched (eval's rows): each is drawn where its own values of the drawn axes put it, the other axes
  being what that run has (not held at their first value), so every estimate has its run beside it. A report with a
  question has only its answer's points (eval's rows), drawn the same way; a `where` leaves its points out of the
  grid; either way the view says how many points are drawn and what left the others out (plot_points).
- `roofline_view` (in `perfdsl.roofline`): a sweep point's operation classes on the roofline.

`perfdsl.plot` draws these with matplotlib; this module never imports it, so tests can check the data on its own.
Values are in the display units of the report (`show ... in ms`); axis values in the axis' display unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import UsageError, available, did_you_mean, error
from .explain import choose_point
from .evaluator import format_coord
from .plot_points import (MAX_PANELS, Collision, answer_points, eval_mask, hollow_checks, left_out, runs_left_out,
                          runs_slots)
from .result import Result

# A positive range wider than this ratio is drawn on a log axis ("spans decades").
LOG_RATIO = 10.0
MAX_SERIES = 16          # lines one legend can tell apart


@dataclass
class Series:
    """One line of a panel: its label (the series axis' value); `x`, its positions (numbers, or category labels);
    `estimated`, flat, one value per x in the metric's display unit, nan where not finite (and, with `points = "runs"`,
    where no run's point is); `measured`, the same shape with nan where no run (None where the report has no runs for
    it); with a metric as x, `measured_x`, the runs' own x values; `failing`, where the plot marks booleans
    (hollow_checks: a shown `fits`, or those --hollow names), True at the drawn points (finite estimate) where one of
    them is false."""

    label: str                       # the series axis' value, e.g. "NVIDIA RTX A5000"
    x: list                          # numbers for a numeric axis; category positions' labels otherwise
    estimated: np.ndarray            # display unit; nan where not finite
    measured: np.ndarray | None      # display unit; nan where no run; None when the report has no runs for it
    measured_x: np.ndarray | None = None   # with a metric as x: the runs' measured x (else drawn at `x`)
    # True at a drawn point where a boolean the plot marks is false (`memory.fits as fits`: the set-up does not fit in
    # memory), False elsewhere; None where the plot marks no boolean (hollow_checks).
    failing: np.ndarray | None = None


@dataclass
class Panel:
    """One panel of a plot (a value of the `--panels` axis; title "" where there is only one) and its series."""

    title: str                       # "n_gpus=8"; "" for the only panel
    series: list[Series]


@dataclass
class MetricView:
    """A shown metric against one axis (or against another metric, traced `along` an axis): the axis labels, whether x
    is categorical, its categories, the panels, the values the other axes are held at, the title, and whether each
    axis is drawn on a log scale. Values are in display units. `checks`: the booleans the plot marks (`fits`) false at
    some drawn point, in the report's order; the series' `failing` says where. `run_points`: with `points = "runs"`,
    how many runs' points are drawn (None: the report's points are its sweep's). `answer`: the report asks a question and
    only its answer's points are drawn, each at its own values of the axes not drawn. `left_out`: with a `where` or a
    question, how many points are drawn of those the plot covers and what left the others out ("3 of 6 points: where
    batch <= 4"); "" for a report with neither."""

    metric: str                      # the shown cell's name
    y_label: str                     # "Runtime (ms)"
    x_label: str                     # "batch", "seq_len (token)", "Model"
    categorical: bool                # x is a list of names (models, GPUs), not numbers
    categories: list[str]            # the x labels in order, for a categorical x
    panels: list[Panel]
    held: str                        # the values the other axes are held at, e.g. "seq_len=128, output_len=1"
    title: str
    x_log: bool = False
    y_log: bool = False
    along: tuple[str, list[str]] | None = None   # with a metric as x: the axis each curve runs along, its labels
    defaulted: list[str] = field(default_factory=list)   # held axes at their first value: --at did not name them
    checks: list[str] = field(default_factory=list)      # marked booleans false at some drawn point, e.g. ["fits"]
    run_points: int | None = None                        # points = "runs": the runs' points drawn
    answer: bool = False                                 # a question's answer: its points only
    left_out: str = ""                                   # "3 of 6 points: where batch <= 4"
    # Where the default series axis has more values than MAX_SERIES: which of them are drawn, and how to pick others
    series_note: str = ""                                # "16 of 30 models drawn, the first with points: ..."
    joined: bool = True     # a numeric x's points joined by a line; not over one name of a long zipped axis

    @property
    def has_measured(self) -> bool:
        """True where some series of some panel has at least one finite measured value."""
        return any(s.measured is not None and np.isfinite(s.measured).any() for p in self.panels for s in p.series)

    @property
    def failing_points(self) -> tuple[int, int]:
        """(drawn points where a shown boolean is false, drawn points): estimates with a finite value, every panel."""
        drawn = sum(int(np.isfinite(s.estimated).sum()) for p in self.panels for s in p.series)
        failing = sum(int(s.failing.sum()) for p in self.panels for s in p.series if s.failing is not None)
        return failing, drawn


def spans_decades(values) -> bool:
    """True where every finite value is positive and the largest is LOG_RATIO times the smallest or more."""
    array = np.asarray(values, dtype=float)
    array = array[np.isfinite(array)]
    return bool(array.size) and bool((array > 0).all()) and array.max() >= LOG_RATIO * array.min()


def _coords(result: Result) -> dict[str, tuple[object, object]]:
    """coordinate name -> (axis, coord), for every axis of the sweep (a zipped axis has several)."""
    return {coord.name: (axis, coord) for axis in result.axes for coord in axis.coords}


def _pick_axis(result: Result, name: str | None, taken: set[int], role: str, option: str,
               held: dict[int, tuple[str, str]]) -> tuple[object, object] | None:
    """The axis `name` given for `role` by the option `option` (--x, --along, --series, --panels), or None where
    none was given. `held`: axis index -> the --at (name, value) that holds it. UsageError for an unknown axis, one
    already used, and one --at holds (drawn and held at one value at once: the --at was dropped without a word)."""
    coords = _coords(result)
    if name is not None:
        if name not in coords:
            raise UsageError(error("bad-plot", f"the report has no axis '{name}' to use as {role}",
                                   hints=did_you_mean(name, coords) + [available(coords)]))
        axis, coord = coords[name]
        if axis.index in taken:
            raise UsageError(error("bad-plot", f"the axis '{name}' is already used by this plot"))
        if axis.index in held:
            at_name, text = held[axis.index]
            zipped = [f"'{at_name}' and '{name}' are zipped: one axis"] if at_name != name else []
            raise UsageError(error("bad-plot", f"--at {at_name}={text} holds the axis '{name}' that {option} draws: "
                                   "drop one", hints=zipped))
        return axis, coord
    return None


def _default_axes(result: Result, taken: set[int]) -> list:
    """The free axes with more than one value, longest numeric first for x, then shortest for the series. `taken`
    holds the axes already drawn and those --at holds: the help promises axes not drawn are held at --at."""
    return [axis for axis in result.axes if axis.index not in taken and axis.length > 1]


def _default_x(free: list):
    """The longest numeric axis of three values or more (a curve), else the longest axis."""
    pool = [a for a in free if a.coords[0].kind == "num" and a.length >= 3] or free
    return max(pool, key=lambda a: a.length) if pool else None


def _default_series(free: list):
    """The shortest axis: the fewest lines to tell apart."""
    return min(free, key=lambda a: a.length) if free else None


def _default_panels(free: list):
    """The one axis left, where it has at most four values: a panel each rather than held at its first."""
    return free[0] if len(free) == 1 and free[0].length <= 4 else None


_DEFAULT_AXES = (("x", _default_x), ("series", _default_series), ("panels", _default_panels))


def _labels_of(result: Result, coord) -> list[str]:
    """Display labels of a coordinate's values: a role's shown string (`show hardware.label as Device`), else
    its block names; numbers with their unit."""
    if coord.kind == "role":
        for column in result.columns:
            parts = column.item.ref.parts
            if column.kind == "str" and len(parts) == 2 and parts[0] == coord.name:
                names = [_literal_text(result.program.blocks[b], parts[1]) for b in coord.values.tolist()]
                if None not in names and len(set(names)) == len(names):
                    return names
        return [str(v) for v in coord.values.tolist()]
    return [format_coord(coord, i) for i in range(len(coord.values))]


def _point_labels(result: Result, axis, coord) -> list[str]:
    """Labels of an axis's values in a legend or on a panel: `tp=2` (a role's block alone: `vllm`); a zipped axis by
    its whole tuple, `tp=2, ep=1`, whichever of its names is drawn (tp alone would name (2, 1) and (2, 2) alike)."""
    if len(axis.coords) > 1:
        each = [[f"{c.name}={label}" for label in _labels_of(result, c)] for c in axis.coords]
        return [", ".join(parts) for parts in zip(*each)]
    labels = _labels_of(result, coord)
    return labels if coord.kind == "role" else [f"{coord.name}={label}" for label in labels]


def _zipped_title(axis, coord) -> str:
    """A drawn axis's name in a title: its coordinate's, or a zipped axis's names (`(tp, ep)`)."""
    return f"({', '.join(c.name for c in axis.coords)})" if len(axis.coords) > 1 else coord.name


def _literal_text(block, cell_name: str) -> str | None:
    from . import ir

    cell = block.cells.get(cell_name)
    return cell.expr.value if cell is not None and isinstance(cell.expr, ir.Str) else None


def _axis_title(coord) -> str:
    return f"{coord.name} ({coord.unit})" if coord.kind == "num" and coord.unit else coord.name


def metric_title(name: str, unit: str) -> str:
    """'energy_per_token', 'J/token' -> 'energy per token (J/token)' (names keep their case: ttft, tpot)."""
    text = name.replace("_", " ").replace(".", " ").strip()
    return f"{text} ({unit})" if unit else text


def _shown_number(result: Result, name: str):
    numeric = [c for c in result.columns if c.kind == "num"]
    column = next((c for c in result.columns if name in (c.name, c.ref, c.key)), None)
    if column is None or column.kind != "num":
        names = [c.name for c in numeric]
        what = "is not a number" if column is not None else "is not shown by the report"
        raise UsageError(error("bad-plot", f"'{name}' {what}", hints=did_you_mean(name, names) + [available(names)]))
    return column


def _per_point(result, per_row: np.ndarray) -> np.ndarray:
    """Measured values, one per row of `result`, laid out on its sweep grid (NaN at points without a row: those a
    constraint or a question left out), shape `result.shape`."""
    rows = result.rows
    if rows is None:
        return per_row.reshape(result.shape)
    grid = np.full(int(np.prod(result.shape)), np.nan)
    grid[rows.index[~rows.missing]] = per_row[~rows.missing]
    return grid.reshape(result.shape)


def metric_view(result: Result, comparison=None, *, y: str | None = None, x: str | None = None,
                series: str | None = None, panels: str | None = None, along: str | None = None,
                at: dict[str, str] | None = None, hollow: list[str] | None = None) -> MetricView:
    """The data of `perfdsl plot`: shown metric `y` against axis `x`, one series per value of `series`, one panel
    per value of `panels`; the other axes held at `at` (AXIS=VALUE texts) or their first value.

    `x` may also name a shown metric: each series is then a curve of (x metric, y metric) traced along the axis
    `along` (default: the longest numeric axis left), such as time per output token against throughput over the
    batch sizes (a latency-throughput curve).

    Defaults: y is the first numeric shown cell; x the longest numeric axis with several values (else the longest
    axis); series the shortest remaining axis with several values; panels the one axis left, where one is left
    and it has at most four values (more axes left are held). An axis `at` holds is never picked by these defaults,
    and naming it as x, along, series or panels is an error. Raises UsageError for an unknown metric or axis, an
    axis used twice, an axis both drawn and held by `at` (bad-plot), a bad `at` (bad-point), a metric that is not a
    number, and more than MAX_SERIES series (named with `series`) or MAX_PANELS panels, with values to paste in the
    hint. A series axis the defaults pick with more than MAX_SERIES values is drawn for its first MAX_SERIES values
    with points, and `series_note` says so (_first_series). The x axis spans the positions drawn (_span_drawn).

    With `points = "runs"` (the comparison keeps the runs' points), only those points are drawn, each at its own
    values of the drawn axes; an axis neither drawn nor held by `at` takes each run's value rather than its first
    (no default panels); where two runs then fall on one drawn point, a panel per value of the axis that parts them,
    unless panels are drawn already (then bad-plot, naming that axis); bad-plot where no run has the values `at`
    gives. A panel without a run's point is left out.

    A report with a question (best, largest, smallest, pareto) draws its answer's points only (eval's rows: one per
    group, a Pareto front's points), placed as the runs' points are (collisions likewise: "two points of the answer");
    series and panels default to the question's `per` axes, so each group is a series (or a panel) of its own. A
    `where` leaves the points it rules out undrawn (NaN), as a `require` does under `invalid_points = "omit"`; an axis
    held at its first value by default is held instead at the first row's value where the slice at its first value
    has no row of eval's. `left_out` counts the points drawn of those the plot covers and names the `where` and the
    question that left the rest out.

    Points where a marked boolean is false are `failing` (drawn hollow): by default a shown `fits` (hollow_checks),
    else the shown booleans `hollow` names ([]: none).
    """
    numeric = [c for c in result.columns if c.kind == "num"]
    if not numeric:
        raise UsageError(error("bad-plot", f"report '{result.report}' shows no number to plot"))
    column = numeric[0] if y is None else _shown_number(result, y)
    x_metric = None
    if x is not None and x not in _coords(result) and any(x in (c.name, c.ref, c.key) for c in result.columns):
        x_metric, x = _shown_number(result, x), along
    elif along is not None:
        raise UsageError(error("bad-plot", "--along goes with a metric as x (e.g. --x throughput --along batch)"))

    # --at first: an unknown axis or value is its own error, and the axes it holds are neither given nor picked.
    fix, defaulted = choose_point(result.ctx, at or {})
    coords = _coords(result)
    held_by_at = {coords[name][0].index: (name, text) for name, text in (at or {}).items()}
    taken: set[int] = set()
    chosen = {}
    options = (("x", "--along" if x_metric is not None else "--x", x), ("series", "--series", series),
               ("panels", "--panels", panels))
    for role, option, name in options:
        picked = _pick_axis(result, name, taken, role, option, held_by_at)
        if picked is not None:
            chosen[role] = picked
            taken.add(picked[0].index)
    from .run_points import matched_points

    points, whose = matched_points(comparison), "runs"
    if points is None:
        points, whose = answer_points(result), "answer"
    # A question's groups (its `per` axes), so that no two groups share a line: _answer_default.
    per = [a.index for a in result.axes if a.index in result.rows.kept_axes] \
        if whose == "answer" and points is not None else None
    for role, default in _DEFAULT_AXES:
        if role in chosen:
            continue
        free = _default_axes(result, taken | held_by_at.keys())
        if per is not None:
            axis = _answer_default(role, free, per, result.ctx.report.questions[0].form != "pareto")
        elif role == "panels" and points is not None:
            continue        # the runs' points: an axis left is each run's own, not held; panels only to part runs
        else:
            axis = default(free)
        if axis is not None:
            chosen[role] = (axis, axis.coords[0])
            taken.add(axis.index)
    # A series axis the defaults picked that has more values than a legend tells apart (a question per model of 30
    # models) is drawn for its first MAX_SERIES values with points, and the picture says so (_first_series); one the
    # user named, or too many panels, is refused with values to paste.
    too_many = "series" in chosen and series is None and chosen["series"][0].length > MAX_SERIES
    for role, limit in (("series", MAX_SERIES), ("panels", MAX_PANELS)):
        if role in chosen and chosen[role][0].length > limit and not (role == "series" and too_many):
            axis, coord = chosen[role]
            raise UsageError(error("bad-plot", f"{coord.name} has {axis.length} values, too many {role} for one "
                                   f"plot (at most {limit})",
                                   hints=[f"pick some with --set {coord.name}={_set_values(coord, range(3))}, or "
                                          f"hold it with --at {coord.name}={_set_values(coord, range(1))}"]))

    for role, (axis, _coord) in chosen.items():
        fix.pop(axis.index, None)      # drawn, so not held (never one --at holds: refused or left alone above)
    shown = eval_mask(result)
    if points is None:
        fix, defaulted = _held_at_a_row(result, shown, fix, held_by_at, defaulted)
    slots = None
    if points is not None:
        # The runs' points: an axis neither drawn nor held is what each run has, not its first value.
        fix = {index: position for index, position in fix.items() if index in held_by_at}
        defaulted = []
        while True:
            drawn_axes = [chosen[role][0].index for role in ("x", "series", "panels") if role in chosen]
            try:
                slots = runs_slots(result, points, drawn_axes, fix, at or {}, whose)
                break
            except Collision as collision:
                if "panels" in chosen or collision.axis.length > MAX_PANELS:
                    raise collision.error from None
                # Two runs differ only on an axis the plot does not draw: a panel for each of its values.
                chosen["panels"] = (collision.axis, collision.axis.coords[0])
    # By the column, not its name: `--y "t [s]"` of `show t in ms, t in s` is the second column of the name `t`.
    values = np.broadcast_to(result.array_of(column, display=True).values, result.shape).astype(float)
    if not shown.all():
        values = np.where(shown, values, np.nan)     # points eval leaves out (a `require`, a `where`) are not drawn
    measured = None
    if comparison is not None:
        match = next((m for m in comparison.metrics if m.key == column.key), None)
        if match is not None:
            measured = _per_point(result, match.measured / column.scale)     # SI, in the column's unit

    x_axis, x_coord = chosen.get("x", (None, None))
    categorical = (x_coord is None or x_coord.kind != "num") and x_metric is None
    x_labels = _labels_of(result, x_coord) if x_coord is not None else [result.report]
    if x_metric is not None and x_axis is not None and len(x_axis.coords) > 1:
        x_labels = _point_labels(result, x_axis, x_coord)      # a curve's ends named by their tuples
    x_values = list(range(len(x_labels))) if categorical or x_coord is None else x_coord.display_values().tolist()
    x_array = x_measured = None
    if x_metric is not None:
        x_array = np.broadcast_to(result.array_of(x_metric, display=True).values, result.shape).astype(float)
        if not shown.all():
            x_array = np.where(shown, x_array, np.nan)   # nor their x: the axis spans the points drawn (x_log)
        match = next((m for m in (comparison.metrics if comparison else []) if m.key == x_metric.key), None)
        x_measured = _per_point(result, match.measured / x_metric.scale) if match is not None else None

    # Each marked boolean, True where it is false (or has no value): a point there is drawn apart, as a set-up that
    # does not run (fits = false), not as one that does.
    false_at = {c.name: ~np.asarray(np.broadcast_to(result.array(c.name).values, result.shape) == True,  # noqa: E712
                                    dtype=bool) for c in hollow_checks(result, hollow)}
    checks: set[str] = set()
    x_length = x_axis.length if x_axis is not None else 1
    rows_at: list[np.ndarray] = []       # per series drawn, per x position: whether one of eval's rows is there

    def index_of(positions: dict[int, int]) -> tuple:
        index = []
        for axis in result.axes:
            if axis.index == (x_axis.index if x_axis is not None else -1):
                index.append(slice(None))
            else:
                index.append(positions.get(axis.index, fix.get(axis.index, 0)))
        return tuple(index)

    def _flat(array: np.ndarray) -> np.ndarray:
        return np.broadcast_to(array, result.shape).reshape(-1)     # the arrays here are whole grids: no copy

    def run_index(positions: dict[int, int]) -> np.ndarray:
        """Per x position, the flat index of the run's point drawn there, -1 where none (points = "runs")."""
        def key(i: int) -> tuple[int, ...]:
            return tuple(i if index == (x_axis.index if x_axis is not None else -1) else positions[index]
                         for index in drawn_axes)
        return np.array([slots.get(key(i), -1) for i in range(x_length)], dtype=np.int64)

    def pick(array: np.ndarray, positions: dict[int, int]) -> np.ndarray:
        if slots is not None:
            flat = run_index(positions)
            picked = np.asarray(_flat(array)[np.maximum(flat, 0)], dtype=float)
            picked[flat < 0] = np.nan
        else:
            picked = np.asarray(array[index_of(positions)], dtype=float).reshape(-1)
        picked[~np.isfinite(picked)] = np.nan
        return picked

    def pick_bool(array: np.ndarray, positions: dict[int, int]) -> np.ndarray:
        if slots is not None:
            flat = run_index(positions)
            return _flat(array)[np.maximum(flat, 0)] & (flat >= 0)
        return np.asarray(array[index_of(positions)], dtype=bool).reshape(-1)

    def one(label: str, positions: dict[int, int]) -> Series:
        line = Series(label, x_values if x_array is None else pick(x_array, positions).tolist(),
                      pick(values, positions), pick(measured, positions) if measured is not None else None)
        rows_at.append(run_index(positions) >= 0 if slots is not None else pick_bool(shown, positions))
        if x_array is not None and line.measured is not None:
            # A run is drawn where it was measured on both axes; with only y measured, at the estimated x.
            line.measured_x = pick(x_measured, positions) if x_measured is not None else None
        if false_at:
            drawn = np.isfinite(line.estimated)
            if x_array is not None:
                drawn &= np.isfinite(np.asarray(line.x, dtype=float))     # a curve's point needs both values
            per_check = {name: pick_bool(array, positions) & drawn for name, array in false_at.items()}
            line.failing = np.logical_or.reduce(list(per_check.values()))
            checks.update(name for name, failing in per_check.items() if failing.any())
        return line

    def series_of(positions: dict[int, int]) -> list[Series]:
        if "series" not in chosen:
            return [one(column.name, positions)]
        axis, coord = chosen["series"]
        labels = _point_labels(result, axis, coord)      # "tp=2" rather than a bare "2"; "tp=2, ep=1" if zipped
        return [one(labels[i], {**positions, axis.index: i}) for i in range(axis.length)]

    if "panels" in chosen:
        axis, coord = chosen["panels"]
        labels = _point_labels(result, axis, coord)
        # A panel with no point to draw is left out: no run's or answer's point, or none a `where` leaves in (all
        # of them where none has one: the error below says there is nothing to draw).
        kept = [i for i in range(axis.length)
                if (any(key[drawn_axes.index(axis.index)] == i for key in slots) if slots is not None else
                    not result.ctx.report.wheres or shown[_region(result, {**fix, axis.index: i})].any())]
        panel_list = [Panel(labels[i] if coord.kind != "role" else f"{coord.name}={labels[i]}",
                            series_of({axis.index: i}))
                      for i in (kept or range(axis.length))]
    else:
        panel_list = [Panel("", series_of({}))]
    series_note, series_drawn = "", None
    if too_many:
        series_drawn, series_note = _first_series(panel_list, rows_at, *chosen["series"])
    zipped_x, joined = False, True
    if x_metric is None and x_axis is not None and len(x_axis.coords) > 1 and not categorical:
        # x over one name of a zipped axis (tp of (tp, ep) = [(2, 1), (2, 2), (4, 1), ...]) whose value repeats among
        # the points drawn: a line over tp would join (2, 1) to (2, 2) at one x and jump where ep changes. Each tuple
        # is a category, named whole ("tp=2, ep=1"); past MAX_PANELS of them (a table of runs) the labels would not
        # read, so x stays the name's numbers, the points not joined, and the x label names the axis it is zipped in.
        drawn = np.logical_or.reduce([np.isfinite(line.estimated) | (np.isfinite(line.measured) if line.measured
                                      is not None else False) for panel in panel_list for line in panel.series])
        at = x_coord.values[np.flatnonzero(drawn)].tolist()
        if len(set(at)) < len(at):
            zipped_x = True
            if int(drawn.sum()) <= MAX_PANELS:
                categorical, x_values = True, list(range(x_axis.length))
                x_labels = _point_labels(result, x_axis, x_coord)
                for panel in panel_list:
                    for line in panel.series:
                        line.x = x_values
            else:
                joined = False
    if x_metric is None and x_axis is not None:
        along_x = np.logical_or.reduce(rows_at)
        if whose == "answer" and points is not None and result.rows.missing.any():
            # A group with no answer keeps its row in eval, empty: its place on x stays (llama3_1_70b: no set-up
            # meets the targets), as an empty category rather than none.
            empty = result.rows.index[result.rows.missing]
            along_x[np.unravel_index(empty, result.shape)[x_axis.index]] = True
        x_values, x_labels = _span_drawn(panel_list, along_x, x_values, x_labels, categorical)

    held_axes = [a for a in result.axes if a.index in fix and a.length > 1]
    held = ", ".join(f"{c.name}={format_coord(c, fix[a.index])}" for a in held_axes for c in a.coords)
    everything = np.concatenate([np.concatenate([s.estimated] + ([s.measured] if s.measured is not None else []))
                                 for p in panel_list for s in p.series])
    y_label = metric_title(column.name, column.unit)
    x_label = _axis_title(x_coord) if x_coord is not None else ""
    if zipped_x:
        others = ", ".join(c.name for c in x_axis.coords if c is not x_coord)
        x_label = _zipped_title(x_axis, x_coord) if categorical else \
            f"{x_label}, zipped with {others}: points not joined"
    x_named = (_zipped_title(x_axis, x_coord) if zipped_x and categorical else x_coord.name) if x_coord else ""
    title = f"{metric_title(column.name, '')} per {x_named}" if x_coord is not None else y_label
    all_x = x_values
    if x_metric is not None:
        x_label = metric_title(x_metric.name, x_metric.unit)
        title = f"{metric_title(column.name, '')} against {metric_title(x_metric.name, '')}"
        if x_coord is not None:
            title += f" over {_zipped_title(x_axis, x_coord)}"
        all_x = [v for p in panel_list for s in p.series for v in s.x]
    if "series" in chosen:
        named = _zipped_title(*chosen["series"])
        title += f" and {named}" if x_metric is None else f", per {named}"
    region = _region(result, fix)
    drawn_count = len(slots) if slots is not None else None
    if series_drawn is not None:
        # The counts are of the points the picture draws: the series picked, every value of the other drawn axes.
        series_index = chosen["series"][0].index
        region = tuple(np.asarray(series_drawn) if axis.index == series_index else index
                       for axis, index in zip(result.axes, region))
        if slots is not None:
            at = drawn_axes.index(series_index)
            drawn_count = sum(1 for key in slots if key[at] in series_drawn)
    if whose == "runs" and points is not None:
        from .run_points import matched_before_rows

        omitted = runs_left_out(result, matched_before_rows(comparison), region, drawn_count)
    else:
        omitted = left_out(result, region, drawn_count if slots is not None else int(shown[region].sum()))
    view = MetricView(metric=column.name, y_label=y_label, x_label=x_label, categorical=categorical,
                      categories=x_labels if categorical else [], panels=panel_list, held=held,
                      title=f"{result.report}: {title}",
                      x_log=(not categorical) and spans_decades(all_x), y_log=spans_decades(everything),
                      along=(_zipped_title(x_axis, x_coord), x_labels)
                      if x_metric is not None and x_coord is not None else None,
                      defaulted=[a.name for a in held_axes if a.name in defaulted],
                      checks=[name for name in false_at if name in checks],
                      run_points=len(slots) if slots is not None and whose == "runs" else None,
                      answer=slots is not None and whose == "answer", left_out=omitted, series_note=series_note,
                      joined=joined)
    if not np.isfinite(everything).any():
        raise UsageError(error("bad-plot", f"'{column.name}' has no finite value at the points chosen",
                               hints=[f"held at: {held}" if held else "choose other points with --at"]
                               + ([omitted] if omitted else [])))
    return view


def _set_values(coord, positions) -> str:
    """Values of an axis as --set takes them, comma-separated ("opt_125m,opt_350m"; "1,8,64"): a hint the user can
    paste. Numbers in the sweep's display unit, which a dimensioned --set needs with it ("128 token")."""
    texts = []
    for i in positions:
        if i >= len(coord.values):
            break
        texts.append(format_coord(coord, i))
    joined = ",".join(texts)
    return f'"{joined}"' if " " in joined else joined


def _first_series(panels: list[Panel], rows_at: list[np.ndarray], axis, coord) -> tuple[list[int], str]:
    """(the positions of the series axis drawn, the words that say so): its first MAX_SERIES values with one of
    eval's rows in some panel (`rows_at`: per series built, panel by panel, per x position), the other series taken
    out of every panel (and of `rows_at`, in place). The words say how many of how many are drawn and give a --set
    of real values not drawn to paste: "16 of 30 models drawn, the first with points; to draw others, e.g. --set
    model=llama3_1_70b,clm_60m,clm_200m". A series is never dropped without the picture saying so."""
    count = axis.length
    has = [any(rows_at[p * count + i].any() for p in range(len(panels))) for i in range(count)]
    picked = [i for i in range(count) if has[i]][:MAX_SERIES] or list(range(MAX_SERIES))
    kept = [p * count + i for p in range(len(panels)) for i in picked]
    rows_at[:] = [rows_at[k] for k in kept]
    for panel in panels:
        panel.series = [panel.series[i] for i in picked]
    others = [i for i in range(count) if has[i] and i not in picked]
    what = f"{coord.name}s" if coord.kind == "role" else f"{coord.name} values"
    if others:
        return picked, (f"{len(picked)} of {count} {what} drawn, the first with points; to draw others, e.g. --set "
                        f"{coord.name}={_set_values(coord, others[:3])}")
    return picked, f"{len(picked)} of {count} {what} drawn, those with points (the others have none)"


def _span_drawn(panels: list[Panel], rows_at: np.ndarray, x_values: list, x_labels: list[str], categorical: bool
                ) -> tuple[list, list[str]]:
    """The x positions and labels a plot keeps, so that the x axis spans what is drawn: on a categorical x those where
    some series of some panel has one of eval's rows (`rows_at`, per x position), numbered anew; on a numeric x those
    from the first such position to the last (a gap inside stays, breaking the line where no row is). Each series is
    cut to them in place. A `where` (or a question, or runs) that left out batch 8 .. 32 left the axis spanning them,
    ticks and all, with nothing drawn there. Everything is kept where every position, or none, has a row."""
    if rows_at.all() or not rows_at.any():
        return x_values, x_labels
    kept = np.flatnonzero(rows_at)
    if not categorical:
        kept = np.arange(kept[0], kept[-1] + 1)
    values = list(range(len(kept))) if categorical else [x_values[i] for i in kept]
    for panel in panels:
        for line in panel.series:
            line.x = values
            line.estimated = line.estimated[kept]
            if line.measured is not None:
                line.measured = line.measured[kept]
            if line.measured_x is not None:
                line.measured_x = line.measured_x[kept]
            if line.failing is not None:
                line.failing = line.failing[kept]
    return values, [x_labels[i] for i in kept]


def _answer_default(role: str, free: list, per: list[int], one_point: bool):
    """The default axis for `role` (x, series, panels) of a question's answer, among the `free` axes: its groups
    (`per`, axis indices) first. One point per group (`one_point`: best, largest, smallest): x is the longest group
    axis, one point per value, as a category or a number; then the series and panels take the other group axes (no
    series where none is left). A front: its groups are the series (the shortest first; else the shortest axis) and
    panels, x a reduced axis (the default). Panels only for a group axis, of at most MAX_PANELS values: an axis left
    over is each point's own (runs_slots)."""
    groups = [a for a in free if a.index in per]
    if role == "x":
        if one_point and groups:
            return max(groups, key=lambda a: a.length)
        return _default_x([a for a in free if a.index not in per]) or _default_x(free)
    if role == "series":
        # A group axis even of more values than MAX_SERIES: refused then with the hint to pick some (--set), rather
        # than drawn with its groups' points on one line. One point per group and no group axis left: one series
        # (a reduced axis is each point's own, which eval's rows say), not a line per value of the shortest.
        return _default_series(groups) if groups or one_point else _default_series(free)
    return groups[0] if groups and groups[0].length <= MAX_PANELS else None


def _region(result: Result, fix: dict[int, int]) -> tuple:
    """The index of the sweep points a plot covers: each held axis (`fix`: axis index -> position) at its value,
    every other axis whole."""
    return tuple(fix[a.index] if a.index in fix else slice(None) for a in result.axes)


def _held_at_a_row(result: Result, shown: np.ndarray, fix: dict[int, int], held_by_at: dict, defaulted: list[str]
                   ) -> tuple[dict[int, int], list[str]]:
    """`fix` (held axis index -> position) and `defaulted` (the axes held at their first value), with the axes held by
    default moved to the first of eval's rows (`shown`) that agrees with --at, where the slice at their first values
    has none: a `where batch > 4` or `where tp == 2` otherwise left nothing to draw at tp's first value."""
    region = _region(result, fix)
    if not result.shape or shown[region].any():
        return fix, defaulted
    rows = np.argwhere(shown)
    for index, position in fix.items():
        if index in held_by_at:
            rows = rows[rows[:, index] == position]
    if not len(rows):
        return fix, defaulted           # no row agrees with --at: nothing to draw, said by the caller's error
    moved = {index: int(rows[0][index]) for index in fix if index not in held_by_at}
    names = {result.axes[index].name for index, position in moved.items() if position != fix[index]}
    return {**fix, **moved}, [name for name in defaulted if name not in names]
