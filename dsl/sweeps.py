"""Sweeps (stage 3b): the roles a report binds and the axes of its sweep, built into a `ReportContext`.

A report binds roles to blocks: `sweep model = [opt_1_3b, opt_6_7b]` sweeps the role `model` over blocks (an axis),
`workload = grid` binds the role `workload` to one block. The axes of the report are its own sweeps, the sweeps of
the blocks it binds to a role, and its role sweeps, in the order they are written: a report's or block's sweep
written again in a block that extends it keeps the place of the first (in_inherited_order). A zipped sweep is one axis with
several coordinates. The report's points are the product of its axes.

Sweep values are constants (numbers with units, strings, booleans, or formulas over constant cells): the checker
types them and the evaluator computes them, over a context with no axes, as it does every other formula.
"""

from __future__ import annotations

import math
from typing import Callable

from . import ir
from .axis_names import AxisOrigin, duplicate_axes, zipped_in_effect
from .blocks import Block, SourceLines
from .checker import Checker
from .context import Axis, Coord, ReportContext
from .errors import Diagnostic, PerfError, dedupe, did_you_mean
from .evaluator import Evaluator
from .lazy_numpy import lazy_numpy
from .library import import_hint
from .limits import BYTES_PER_POINT, MAX_AXIS_POINTS, MAX_POINTS, gib
from .range_values import ROUNDED_BY_TEXT, point_count, range_point_list, range_points, range_steps, rounded12
from .linker import Linker, Target, is_block_ref, refs_of, report_roles, shadows_block, source_items, walk
from .shadowed_cells import shadowed_cells
from .shown_axes import adopt_shown_units
from .sweep_sources import factor_hint
from .role_kinds import RoleErrors, misspelt_role_error, misspelt_roles, refused_bindings
from .unbound_sweeps import unbound_sweep
from .units import DIMENSIONLESS, Dimension, UnitError, auto_unit, parse_unit

np = lazy_numpy(__name__)

__all__ = ["Axis", "Coord", "ReportContext", "build_context", "const_value", "MAX_AXIS_POINTS"]



def build_context(report: Block, blocks: dict[str, Block], sources: SourceLines, arrays: bool = True
                  ) -> ReportContext:
    """The roles and axes of a report, or PerfError listing every problem found. Where the only problems are roles
    bound in error (a block of the wrong kind, a list without `sweep`, a misspelt role: role_kinds.py), RoleErrors,
    which holds the context built all the same (those roles refused), for the report to be checked with.

    With `arrays` False (Program.check), each coordinate's values are a tuple, not a numpy array: a check computes
    nothing over the sweep, so `perfdsl check` of reports imports no numpy (30 ms of every run, 2-core machine)."""
    ctx = ReportContext(report=report)
    ctx.fixed_roles["report"] = report.name
    # A role bound in error (a block of the wrong kind, a list without `sweep`) is said once at the binding; the
    # report is checked all the same where nothing else stops its axes (RoleErrors), with the role refused.
    bindings = refused_bindings(report, blocks, sources)
    refused = [diagnostic for _, diagnostic in bindings]
    diagnostics: list[Diagnostic] = []
    misspellings = misspelt_roles(report, blocks)
    misspelt = [misspelt_role_error(report, *misspelling, blocks, sources) for misspelling in misspellings]

    # Items of the report in inherited order: its cells and zipped sweeps, each where its parent first wrote it.
    items = in_inherited_order(report, blocks, [*report.cells.values(), *report.zipped])

    origins: list[AxisOrigin] = []      # where each axis comes from, for error[duplicate-axis]

    def add_axis(name: str, coords: list[Coord], origin: AxisOrigin) -> None:
        axis = Axis(index=len(ctx.axes), name=name, coords=coords)
        ctx.axes.append(axis)
        origins.append(origin)
        for coord in coords:
            if coord.kind == "role":
                ctx.swept_roles[coord.name] = (axis.index, coord)
            else:
                ctx.sweep_cells[(coord.owner, coord.name)] = (axis.index, coord)

    rewritten: dict[tuple[str, int], Diagnostic] = {}     # error[zipped-rewritten], once a zipped sweep

    def zipped_axis(block: Block, zipped: ir.Zipped) -> bool:
        """Whether `zipped` is an axis of `block`: not where a block that extends its writer wrote it again."""
        axis, problem = zipped_in_effect(block, zipped, blocks, sources)
        if problem is not None:
            rewritten.setdefault((block.name, id(zipped)), problem)
        return axis

    def block_sweeps(block: Block, role: str) -> None:
        swept = [cell for cell in block.cells.values() if cell.sweep and cell.expr is not None]
        for entry in in_inherited_order(block, blocks, [*swept, *block.zipped]):
            try:
                if isinstance(entry, ir.Zipped):
                    if zipped_axis(block, entry):
                        add_axis("(" + ", ".join(entry.names) + ")",
                                 _zipped_coords(entry, block, blocks, sources, arrays), AxisOrigin(block, entry, role))
                else:
                    add_axis(entry.name, [_cell_coord(entry, block, blocks, sources, arrays)],
                             AxisOrigin(block, entry, role))
            except PerfError as exc:
                diagnostics.extend(exc.diagnostics)

    for item in items:
        try:
            if isinstance(item, ir.Zipped):
                if zipped_axis(report, item):
                    add_axis("(" + ", ".join(item.names) + ")", _zipped_coords(item, report, blocks, sources, arrays),
                             AxisOrigin(report, item, None))
            elif item.sweep and item.expr is not None:
                coord = _cell_coord(item, report, blocks, sources, arrays)
                add_axis(item.name, [coord], AxisOrigin(report, item, None))
                if coord.kind == "role" and len(set(coord.value_list())) == 1:
                    # A role swept over one block (`--set hardware=rtx_a5000`): its own sweeps are axes too.
                    block_sweeps(blocks[coord.values[0]], item.name)
            elif is_block_ref(item.expr, blocks, report):
                target = blocks[item.expr.parts[0]]
                ctx.fixed_roles[item.name] = target.name
                block_sweeps(target, item.name)
        except PerfError as exc:
            diagnostics.extend(exc.diagnostics)
    diagnostics.extend(rewritten.values())
    diagnostics.extend(duplicate_axes(origins, report, sources))
    diagnostics.extend(shadowed_cells(report, ctx, blocks, sources))
    diagnostics.extend(_sweeps_among_swept_blocks(ctx, blocks, sources))
    if diagnostics:
        raise PerfError(refused + diagnostics + misspelt)
    try:
        _refuse_too_many_points(ctx, sources)
    except PerfError as exc:
        raise PerfError(refused + exc.diagnostics + misspelt) from None
    ctx.run_fields = run_field_roles(report, blocks, sources)
    adopt_shown_units(ctx)          # `show a in MB` of the report's own axis: the axis is displayed in MB
    if refused or misspelt:     # the axes are built: the report is checked all the same (RoleErrors.with_report_check)
        ctx.refused_roles = frozenset(role for role, _ in bindings)
        raise RoleErrors(refused + misspelt, ctx, misspellings)
    return ctx


def in_inherited_order(block: Block, blocks: dict[str, Block], entries: list[ir.Cell | ir.Zipped]
                       ) -> list[ir.Cell | ir.Zipped]:
    """`entries` (cells and zipped sweeps of `block`) in the order its axes take: each where the first block of its
    `extends` chain to write the name wrote it, so that a sweep written again in a child (`sweep hardware = [...]`
    in `report mine extends fleet`) keeps its parent's place, as an overridden cell does, and a new one comes after
    the parent's; within one block, in the order they are written. A zipped sweep takes the place of the first of
    its names."""
    if len(entries) < 2:
        return list(entries)        # in order already (most blocks a role binds write no sweep)
    place: dict[str, int] = {}
    for name in reversed(block.lineage):            # the root of the chain first
        node = blocks[name].node if name in blocks else None
        if node is None:
            continue
        written = [(cell.span, (cell.name,)) for cell in node.cells]
        written += [(zipped.span, zipped.names) for zipped in node.zipped]
        written.sort(key=lambda pair: (pair[0].file, pair[0].line, pair[0].col))
        for _, names in written:
            for cell_name in names:
                place.setdefault(cell_name, len(place))

    def key(entry: ir.Cell | ir.Zipped) -> tuple:
        names = entry.names if isinstance(entry, ir.Zipped) else (entry.name,)
        span = entry.span
        return (min(place.get(name, len(place)) for name in names), span.file, span.line, span.col)

    return sorted(entries, key=key)


def run_field_roles(report: Block, blocks: dict[str, Block], sources: SourceLines) -> dict[str, str]:
    """Of a report with `points = "runs"`, each cell name of the blocks it binds to an unswept role -> the role of
    the first that holds it: the cell a run's field of that name sweeps (run_points.overrides_from_runs takes the
    report's own cell, then the bound blocks' in the order the report binds them). {} for any other report, or one
    whose `points` is no valid choice (the checker says so)."""
    from .report_options import option_value

    try:
        if option_value(sources, report, "points") != "runs":
            return {}
    except PerfError:
        return {}
    roles: dict[str, str] = {}
    for role, binding in report_roles(report, blocks).items():
        if role == "report" or binding.swept or binding.blocks[0] not in blocks:
            continue
        for name in blocks[binding.blocks[0]].cells:
            roles.setdefault(name, role)
    return roles


def _sweeps_among_swept_blocks(ctx: ReportContext, blocks: dict[str, Block], sources: SourceLines
                               ) -> list[Diagnostic]:
    """error[sweep-outside-report] for each cell swept in a block of a role swept over several blocks, whether or not
    a shown value reads it: such a block's sweeps are no axes (an axis of the product cannot apply at some of the
    role's blocks only), so the sweep, in its file or made by a `--set`, would otherwise change nothing."""
    found = []
    for _, coord in ctx.swept_roles.values():
        names = list(dict.fromkeys(coord.value_list()))
        if len(names) < 2:
            continue
        for name in names:
            block = blocks[name]
            for cell in block.cells.values():
                if cell.sweep and cell.expr is not None:
                    message, span, hints = unbound_sweep(block, cell, ctx)
                    found.append(sources.diag("sweep-outside-report", message, span, path=block.cell_path(cell.name),
                                              hints=hints))
    return found


def _refuse_too_many_points(ctx: ReportContext, sources: SourceLines) -> None:
    """The sweep's size is known from its axes before anything is evaluated: refuse one that cannot fit."""
    n_points = ctx.n_points
    if n_points <= MAX_POINTS:
        return
    sizes = " x ".join(f"{axis.name}: {axis.length:,}" for axis in ctx.axes)
    example = ctx.axes[0].name if ctx.axes else "batch"
    raise PerfError(sources.diag(
        "sweep-too-large", f"report '{ctx.report.name}' sweeps {n_points:,} points ({sizes}); perfdsl takes on "
        f"at most {MAX_POINTS:,}, in chunks", ctx.report.span,
        notes=[f"each cell that varies over every axis would take {gib(n_points * BYTES_PER_POINT)} "
               f"({BYTES_PER_POINT} bytes a point)"],
        hints=[f"narrow the axes with --set (e.g. --set {example}=...); a sweep of up to {MAX_POINTS:,} points "
               "is evaluated chunk by chunk (-o FILE.csv, .jsonl or .parquet, or a question in the report)"]))


def _too_many(name: str, count: float, rng: ir.RangeExpr, sources: SourceLines) -> PerfError:
    shown = f"{count:,.0f}" if math.isfinite(count) and count < 1e18 else (
        f"about {count:.3g}" if math.isfinite(count) else "more than 1e308")
    return PerfError(sources.diag("sweep-too-large", f"the range of '{name}' has {shown} points", rng.span,
                                  hints=[f"a sweep axis holds at most {MAX_AXIS_POINTS:,} points"]))


def _cell_coord(cell: ir.Cell, block: Block, blocks: dict[str, Block], sources: SourceLines, arrays: bool) -> Coord:
    items = source_items(cell.expr, block, blocks)
    if isinstance(items, ir.RangeExpr):
        return _range_coord(cell.name, items, block, blocks, sources, arrays)
    return _list_coord(cell.name, items, block, blocks, sources, cell.expr.span, arrays)


def _values(values: list, dtype, arrays: bool):
    """A coordinate's values (build_context): a numpy array of `dtype` (object, float or bool), or with `arrays`
    False a tuple of the same Python values."""
    if arrays:
        return np.array(values, dtype=dtype)
    return tuple(values) if dtype is object else tuple(map(dtype, values))


def _zipped_coords(zipped: ir.Zipped, block: Block, blocks: dict[str, Block], sources: SourceLines, arrays: bool
                   ) -> list[Coord]:
    items = source_items(zipped.source, block, blocks)
    width = len(zipped.names)
    if isinstance(items, ir.RangeExpr) or not items:
        raise PerfError(sources.diag("bad-sweep", f"a zipped sweep needs a list of {width}-tuples",
                                     zipped.source.span, hints=[f"e.g. sweep {_example_tuple(zipped.names)}"]))
    columns: list[list[ir.Expr]] = [[] for _ in range(width)]
    for item in items:
        if not isinstance(item, ir.TupleExpr) or len(item.items) != width:
            raise PerfError(sources.diag("bad-sweep", f"each point of this zipped sweep is a tuple of {width} values",
                                         item.span, hints=[f"e.g. sweep {_example_tuple(zipped.names)}"]))
        for j, value in enumerate(item.items):
            columns[j].append(value)
    coords = [_list_coord(name, column, block, blocks, sources, zipped.source.span, arrays, zipped=True)
              for name, column in zip(zipped.names, columns)]
    rows = list(zip(*[rounded12(c.value_list()) if c.kind == "num" else c.value_list() for c in coords]))
    _refuse_repeats("(" + ", ".join(zipped.names) + ")", items, rows, sources)
    return coords


def _example_tuple(names: tuple[str, ...]) -> str:
    return "(" + ", ".join(names) + ") = [(" + ", ".join("1" for _ in names) + "), (" + ", ".join(
        "2" for _ in names) + ")]"


def _list_coord(name: str, items: list[ir.Expr], block: Block, blocks: dict[str, Block], sources: SourceLines,
                span: ir.Span, arrays: bool, zipped: bool = False) -> Coord:
    """The coordinate of a list sweep; `zipped`: one column of a zipped sweep, whose values may repeat (its tuples
    may not: _zipped_coords)."""
    if not items:
        raise PerfError(sources.diag("empty-sweep", f"the sweep '{name}' has no values", span))
    if any(shadows_block(item, name, block, blocks) for item in items):
        # `sweep model = [model, b]` beside a block `model`: the report's own cell shadows the block, one error at
        # the binding (role_kinds.shadowed_block_errors); an axis of no values' kind, as for a value reported.
        return _unknown_coord(name, block, len(items), span, arrays)
    refs = [is_block_ref(item, blocks, block) for item in items]
    if all(refs):
        names = [item.parts[0] for item in items]
        if not zipped:
            _refuse_repeats(name, items, names, sources)
        return Coord(name=name, owner=block.name, kind="role", values=_values(names, object, arrays), span=span)
    if any(refs):
        # A bare name that names no block is the slip (`[vlm, trtllm]`: 'vlm'); otherwise the odd one out of a
        # sweep that mixes values and blocks.
        unknown = [item for item, ref in zip(items, refs) if not ref and isinstance(item, ir.Ref)
                   and len(item.parts) == 1 and item.parts[0] not in block.cells]
        if unknown:         # each of them (check reports every error), with the import that defines it
            kind = blocks[items[refs.index(True)].parts[0]].kind
            raise PerfError([sources.diag(
                "unknown-name", f"no loaded file defines a block '{bad.parts[0]}' (the sweep '{name}' lists blocks)",
                bad.span, hints=import_hint(bad.parts[0], block.file) + did_you_mean(bad.parts[0], [
                    b for b in blocks if blocks[b].kind == kind])) for bad in unknown])
        bad = items[refs.index(False)] if refs[0] else items[refs.index(True)]
        raise PerfError(sources.diag("mixed-sweep", f"the sweep '{name}' mixes blocks and values", bad.span,
                                     hints=["a role sweep lists blocks only; a value sweep lists values only"]))
    values, errors = [], []
    for item in items:      # every value's errors, not the first's alone (`[rtx_a5000, h100_sxm5, l4]`, none imported)
        try:
            values.append(const_value(item, block, blocks, sources, name))
        except PerfError as exc:
            errors.extend(exc.diagnostics)
    if errors:
        raise PerfError(dedupe(errors))
    kinds = {kind for kind, _, _ in values}
    if "unknown" in kinds:
        return _unknown_coord(name, block, len(items), span, arrays)
    if len(kinds) > 1:
        raise PerfError(sources.diag("mixed-sweep", f"the sweep '{name}' mixes "
                                     + " and ".join({"num": "numbers", "str": "strings", "bool": "booleans"}[k]
                                                    for k in sorted(kinds)),
                                     span))
    kind = kinds.pop()
    if kind == "num":
        dims = [dim for _, _, dim in values]
        for item, dim in zip(items, dims):
            if dim != dims[0]:
                raise PerfError(sources.diag(
                    "unit-mismatch", f"the values of sweep '{name}' have different dimensions ({dims[0]} and {dim})",
                    item.span))
        if not zipped:
            _refuse_repeats(name, items, rounded12([v for _, v, _ in values]), sources)
        unit, scale = _display_unit(items, dims[0], [v for _, v, _ in values], block, blocks)
        return Coord(name=name, owner=block.name, kind="num", values=_values([v for _, v, _ in values], float, arrays),
                     dim=dims[0], unit=unit, scale=scale, span=span)
    if not zipped:
        _refuse_repeats(name, items, [v for _, v, _ in values], sources)
    dtype = bool if kind == "bool" else object
    return Coord(name=name, owner=block.name, kind=kind, values=_values([v for _, v, _ in values], dtype, arrays),
                 span=span)


def _refuse_repeats(name: str, items: list[ir.Expr], keys: list, sources: SourceLines) -> None:
    """A value listed twice in a sweep (`[8, 8]`, `[h100_sxm5, h100_sxm5]`, `[1 GB, 1000 MB]`: equal values, to 12
    significant digits) is an error at its second place: every row of the first would be repeated, and a question
    or a plot would count the point twice. A zipped sweep's tuples are checked whole (_refuse_repeated_tuples)."""
    first: dict = {}
    for item, key in zip(items, keys):
        if key in first:
            earlier, text = first[key], _item_text(item, sources)
            note = f"first at {earlier.span.location()}" + (
                f", as {_item_text(earlier, sources)}" if _item_text(earlier, sources) != text else "")
            raise PerfError(sources.diag(
                "duplicate-sweep-value", f"the sweep '{name}' lists {text} twice", item.span, notes=[note],
                hints=["each value is one point of the axis: list it once"]))
        first[key] = item


def _item_text(item: ir.Expr, sources: SourceLines) -> str:
    """A sweep value as written (`8`, `-3`, `1000 MB`, `h100_sxm5`, `"fp16"`, `(1, 512)`), from its line; a value
    written over several lines as 'a value'."""
    span = item.span
    if span.line == span.end_line:
        text = " ".join((sources.line(span.file, span.line) or "")[span.col - 1:span.end_col - 1].split())
        if text:
            return text
    return "a value"


def _display_unit(items: list[ir.Expr], dim: Dimension, values: list[float] | Callable[[], list[float]],
                  block: Block | None = None, blocks: dict[str, Block] | None = None) -> tuple[str, float]:
    """The unit an axis is shown in: the first unit of its dimension written in its values, or in the cells they read
    (`[window / 2, window]` with `window = 4 KiB` shows KiB); else a unit chosen for the values' magnitude (`values`,
    or a function that gives them, called only then)."""
    for unit_text in _units_written(items, block, blocks):
        try:
            unit = parse_unit(unit_text)
        except UnitError:
            continue
        if unit.dim == dim:
            return unit_text, unit.scale
    if dim == DIMENSIONLESS:
        return "", 1.0
    if callable(values):
        values = values()
    magnitude = float(np.median(np.abs(values))) if values else None
    return auto_unit(dim, magnitude)


def _units_written(items: list[ir.Expr], block: Block | None, blocks: dict[str, Block] | None):
    """The units of the literals in `items` and, through local references, in the cells they read, in order."""
    pending, seen = list(items), set()
    while pending:
        for node in walk(pending.pop(0)):
            if isinstance(node, ir.Num) and node.unit:
                yield node.unit
            elif isinstance(node, ir.Ref) and block is not None and len(node.parts) == 1 and node.parts[0] not in seen:
                seen.add(node.parts[0])
                cell = block.cells.get(node.parts[0])
                if cell is not None and cell.expr is not None and not cell.sweep:
                    pending.append(cell.expr)


def _range_coord(name: str, rng: ir.RangeExpr, block: Block, blocks: dict[str, Block],
                 sources: SourceLines, arrays: bool) -> Coord:
    start_kind, start, start_dim = const_value(rng.start, block, blocks, sources, name)
    stop_kind, stop, stop_dim = const_value(rng.stop, block, blocks, sources, name)
    if "unknown" in (start_kind, stop_kind):
        return _unknown_coord(name, block, 1, rng.span, arrays)
    if start_kind != "num" or stop_kind != "num":
        raise PerfError(sources.diag("bad-range", "a range runs between two numbers", rng.span,
                                     hints=["write `START .. STOP by STEP` or `START .. STOP by *FACTOR`, e.g. `1 .. 64 by *2`"]))
    if start_dim != stop_dim:
        raise PerfError(sources.diag("unit-mismatch", f"the ends of this range have different dimensions "
                                     f"({start_dim} and {stop_dim})", rng.span))
    if rng.step is None:
        step, step_dim = 1.0, start_dim
        if start_dim != DIMENSIONLESS:
            raise PerfError(sources.diag("bad-range", "a range of quantities with units needs a step",
                                         rng.span, hints=["e.g. `1 GB .. 8 GB by *2` or `0 s .. 1 s by 0.1 s`"]))
    else:
        try:
            step_kind, step, step_dim = const_value(rng.step, block, blocks, sources, name)
        except PerfError as exc:
            factor_hint(exc.diagnostics, rng)
            raise
        if step_kind == "unknown":
            return _unknown_coord(name, block, 1, rng.span, arrays)
        if step_kind != "num":
            raise PerfError(sources.diag("bad-range", "the step of a range is a number", rng.step.span,
                                         hints=["write `START .. STOP by STEP` or `START .. STOP by *FACTOR`, e.g. `1 .. 64 by *2`"]))
    if rng.geometric:
        if step_dim != DIMENSIONLESS:
            raise PerfError(sources.diag("unit-mismatch", f"a geometric step is a plain factor, not {step_dim}",
                                         rng.step.span, hints=["e.g. `128 .. 8192 by *2`"]))
        if not step > 1 or not start > 0:
            raise PerfError(sources.diag("bad-range", "a geometric range needs a start above 0 and a factor above 1",
                                         rng.span))
        steps = range_steps(start, stop, step, True)
        if not math.isfinite(steps) or steps + 1 > MAX_AXIS_POINTS:
            raise _too_many(name, steps + 1, rng, sources)
    else:
        if step_dim != start_dim:
            raise PerfError(sources.diag("unit-mismatch", f"the step ({step_dim}) and the ends ({start_dim}) of "
                                         "this range have different dimensions", rng.span))
        if not step > 0:
            raise PerfError(sources.diag("bad-range", "the step of a range must be above 0", rng.span))
        steps = range_steps(start, stop, step, False)
        if not math.isfinite(steps) or steps + 1 > MAX_AXIS_POINTS:
            raise _too_many(name, steps + 1, rng, sources)
    # A check's axis of more values than are rounded through their text is built with numpy all the same: numpy's
    # import is then the lesser cost.
    arrays = arrays or point_count(start, stop, steps) > ROUNDED_BY_TEXT
    if arrays:
        values = range_points(start, stop, step, rng.geometric, steps)
    else:
        values = range_point_list(start, stop, step, rng.geometric, steps)
    if len(values) == 0:
        raise PerfError(sources.diag("empty-sweep", f"the range of '{name}' has no values (it ends before it starts)",
                                     rng.span))
    # A check's geometric values may be an ulp off numpy's (range_point_list): a unit chosen by their magnitude is
    # chosen from numpy's, as an evaluation chooses it.
    exact = list(values) if arrays or not rng.geometric else lambda: list(range_points(start, stop, step, True, steps))
    unit, scale = _display_unit([rng.start, rng.stop], start_dim, exact, block, blocks)
    return Coord(name=name, owner=block.name, kind="num", values=np.asarray(values, float) if arrays else tuple(values),
                 dim=start_dim, unit=unit, scale=scale, span=rng.span)


def _unknown_coord(name: str, block: Block, count: int, span: ir.Span, arrays: bool) -> Coord:
    """The coordinate of a sweep one of whose values the parser reported (`[300 Watt, 350 W]`: an unknown unit): of
    kind "unknown", which the checker types unknown, so nothing that reads the swept cell errs again; `count`
    distinct placeholder values (a zipped sweep's rows stay distinct). Never evaluated: the program's load raised."""
    values = np.arange(count, dtype=float) if arrays else tuple(float(i) for i in range(count))
    return Coord(name=name, owner=block.name, kind="unknown", values=values, span=span)


def const_value(expr: ir.Expr, block: Block, blocks: dict[str, Block], sources: SourceLines, name: str = "sweep"
                ) -> tuple[str, object, Dimension | None]:
    """The value of a sweep's constant item: ("num", SI float, dim) | ("str", text, None) | ("bool", b, None), or
    ("unknown", 0.0, None) for a number the parser reported (`300 Watt`) or a formula that reads one.

    A sweep value is a formula like any other, typed by the checker and computed by the evaluator (over a context
    with no axes), so the same names, units and cycle rules hold. It may read cells that are themselves constant:
    not a role, a swept cell or a declared input. Raises PerfError (located) for a value that is not constant,
    that the checker rejects, or that is not finite.
    """
    if isinstance(expr, ir.Num):
        return ("num", expr.value, Dimension(expr.dim)) if expr.dim is not None else ("unknown", 0.0, None)
    if isinstance(expr, ir.Str):
        return "str", expr.value, None
    if isinstance(expr, ir.Bool):
        return "bool", expr.value, None
    _require_constant(expr, block, Linker(blocks, None), sources)
    ctx = ReportContext(report=block)
    link = Linker(blocks, ctx)
    checker = Checker(blocks, sources, ctx, link)
    vtype = checker.expr_type(expr, block, block.cell_path(name))
    if checker.diagnostics:
        raise PerfError(checker.diagnostics)
    if vtype.kind == "unknown":            # it reads a number the parser reported, and nothing else is wrong
        return "unknown", 0.0, None
    if vtype.kind not in ("num", "str", "bool"):
        raise PerfError(sources.diag("non-constant-sweep", f"a sweep value is a number, a string or a boolean, "
                                     f"not {vtype.describe()}", expr.span))
    evaluator = Evaluator(blocks, ctx, sources, checker.types, link=link)
    value = np.asarray(evaluator.run(lambda: evaluator.expr(expr, block))).reshape(-1)[0]
    if vtype.kind == "num":
        if not math.isfinite(float(value)):
            raise PerfError(sources.diag("not-finite", f"this sweep value is {float(value)} (a division by zero or "
                                         "an overflow)", expr.span,
                                         hints=["check the formula and the cells it reads: a sweep value is a finite "
                                                "number"]))
        return "num", float(value), vtype.dim
    return vtype.kind, (bool(value) if vtype.kind == "bool" else str(value)), None


def _require_constant(expr: ir.Expr, block: Block, link: Linker, sources: SourceLines) -> None:
    """Every cell the expression reads, directly or not, is a formula over constants (no role, sweep or input)."""
    pending = [(expr, block)]
    seen: set[tuple[str, str]] = set()
    while pending:
        formula, owner = pending.pop()
        for ref in refs_of(formula):
            target = link.target(ref.parts, owner)
            if not isinstance(target, Target):
                continue  # the checker reports it where it is written
            reason = None
            if target.open or target.swept:
                reason = f"'{ref.dotted}' is a cell of a role, known only at evaluation"
            else:
                target_block = link.blocks[target.blocks[0]]
                cell = target_block.cells[target.cell]
                if cell.sweep:
                    reason = f"'{ref.dotted}' is swept"
                elif cell.expr is None:
                    reason = f"'{ref.dotted}' is a declared input"
                elif (target_block.name, target.cell) not in seen:
                    seen.add((target_block.name, target.cell))
                    pending.append((cell.expr, target_block))
            if reason is not None:
                raise PerfError(sources.diag(
                    "non-constant-sweep", "sweep values must be constants (numbers with units, strings, booleans, "
                    f"or formulas over constant cells): {reason}", ref.span,
                    hints=["compute derived values in a cell that uses the swept cell"]))
