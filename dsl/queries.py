"""Questions in a report (stage 3d checks them, stage 4b answers them): filters and reductions over the sweep.

    where memory.fits and serving.tpot <= 50 ms        only the points where the condition holds
    best min cost per model                             the point of least `cost` in each group
    pareto min serving.tpot, max throughput per model   the Pareto front of two cells in each group
    largest batch per model, hardware                   the point of the largest `batch` in each group
    smallest tp per model                               ... of the smallest `tp`

A report may have any number of `where` lines (they all hold: their `and`), its parents' included, and one
reduction (its own, else its parent's). `per` names the axes kept; every other axis is reduced, so `best min cost`
without `per` gives one row. The answer is a row per group (per point of the front, for `pareto`), in the order of
the sweep, with the chosen point's coordinates and shown cells, and with the ranked cells added where the report
does not show them. Points that break a constraint of the report (`Result.valid`) never take part. A group with no
point that meets the conditions still gets its row, left empty, and a warning lists those groups.

In formulas of `where`, a bare axis name (`batch`) is the swept cell of the block that declares it, and there and
in the cells ranked a shown column's `as` label (`tpot`) is the cell it shows (shown_names.py). The numpy
reductions themselves are in reductions.py; here they are read from and written to a report.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from . import ir
from .errors import did_you_mean
from .lazy_numpy import lazy_numpy
from .shown_names import label_target, shown_cells
from .evaluator import format_coord
from .long_runs import along_long_runs
from .context import Axis, Coord, ReportContext

if TYPE_CHECKING:
    from . import no_answer
    from .checker import Checker
    from .reductions import Best, Front
    from .result import Result, Rows, ShownColumn

# The answer's modules (no_answer, reductions, result) are imported by the functions that answer, not here:
# `perfdsl check` reads check_questions alone (2 ms of its start, 2-core machine).

np = lazy_numpy(__name__)

MAX_LISTED = 10          # groups named in the warning about groups with no answer


# -- names ---------------------------------------------------------------------------------------------------------

def axis_coords(ctx: ReportContext) -> dict[str, tuple[Axis, Coord]]:
    """Every coordinate name of the report's axes (`batch`, `model`, each name of a zipped axis)."""
    return {coord.name: (axis, coord) for axis in ctx.axes for coord in axis.coords}


def bind_axes(expr: ir.Expr, ctx: ReportContext) -> ir.Expr:
    """`expr` with each bare name that is an axis of a block the report binds (not a cell of the report) written
    as the swept cell it is: `batch` -> `workload.batch` (the role) or `serving_grid.batch` (the block), and each
    other bare name that is the `as` label of a shown column written as the cell it shows (`tpot` ->
    `serving.tpot`, at the label's span; shown_names: a cell of the report, then an axis, come first). Last, in a
    report with `points = "runs"`, a bare name that is a cell of a block it binds (ReportContext.run_fields) is that
    cell (`batch` -> `workload.batch`): the axis the runs make of it where they carry the field, else the cell as
    it is, so that `check`, which reads no runs, reads the name as eval, plot and explain do. A node
    with no such name below it is `expr` itself, not a copy (the evaluator's caches know the program's nodes; a
    copy is a new node to them: Evaluator.lasting)."""
    if isinstance(expr, ir.Ref):
        if len(expr.parts) == 1 and expr.parts[0] not in ctx.report.cells:
            axis = _bound_axis(expr, ctx)
            if axis is not None:
                return axis
            shown = label_target(expr.parts[0], ctx.report)
            if shown is not None:           # a column's label (`tpot`): the cell it shows, at the label's place
                shown = shown.model_copy(update={"span": expr.span, "written": expr.dotted})
                # `show batch as b`: the axis. The cell shown is not read as a label again (no loop of labels).
                bare = len(shown.parts) == 1 and shown.parts[0] not in ctx.report.cells
                return (_bound_axis(shown, ctx) if bare else None) or shown
            role = ctx.run_fields.get(expr.parts[0])
            if role is not None:            # points = "runs": the cell a run's field sweeps, an axis or not
                return expr.model_copy(update={"parts": (role, expr.parts[0]), "written": expr.shown_name})
        return expr
    update = {}
    for key in ("operand", "left", "right"):
        child = getattr(expr, key, None)
        if child is not None:
            bound = bind_axes(child, ctx)
            if bound is not child:
                update[key] = bound
    if isinstance(expr, ir.Call):
        args = tuple(bind_axes(arg, ctx) for arg in expr.args)
        if any(bound is not arg for bound, arg in zip(args, expr.args)):
            update["args"] = args
    return expr.model_copy(update=update) if update else expr


def _bound_axis(expr: ir.Ref, ctx: ReportContext) -> ir.Ref | None:
    """The one-part `expr` written as the swept cell it names (`batch` -> `workload.batch`, still named `batch` in
    messages: ir.Ref.written, kept where `expr` has one, a label's); None where it names none."""
    for (owner, name) in ctx.sweep_cells:
        if name == expr.parts[0]:
            return expr.model_copy(update={"parts": (_role_of(owner, ctx), name), "written": expr.shown_name})
    return None


def shown_or_written(ref: ir.Ref, ctx: ReportContext) -> ir.Ref:
    """The reference a question's ranked cell `ref` reads: the cell a column's label shows (`tpot` ->
    `serving.tpot`: shown_names), else `ref` itself (no axis bound)."""
    if len(ref.parts) != 1 or ref.parts[0] in ctx.report.cells or _bound_axis(ref, ctx) is not None:
        return ref
    return label_target(ref.parts[0], ctx.report) or ref


def _role_of(owner: str, ctx: ReportContext) -> str:
    for role, block in ctx.fixed_roles.items():
        if block == owner:
            return role
    for role, (_, coord) in ctx.swept_roles.items():
        if set(coord.value_list()) == {owner}:
            return role
    return owner


def question_exprs(ctx: ReportContext) -> list[ir.Expr]:
    """The formulas a report's questions read, with bare axis names bound: its `where` conditions and the cells its
    reduction ranks by (the roots, beside the shown cells, of what an evaluation needs)."""
    report = ctx.report
    objectives = report.questions[0].objectives if report.questions else ()
    return [bind_axes(where.cond, ctx) for where in report.wheres] + [bind_axes(o.ref, ctx) for o in objectives]


# -- checking ------------------------------------------------------------------------------------------------------

def check_questions(checker: "Checker", ctx: ReportContext) -> None:
    """Report every problem of the report's `where` lines and reduction through `checker` (nothing is computed)."""
    report = ctx.report
    path = f"report.{report.name}"
    for where in report.wheres:
        cond = bind_axes(where.cond, ctx)
        vtype = checker.condition_type(cond, report, path)
        if vtype.kind not in ("bool", "unknown"):
            checker.report("type-mismatch", f"`where` needs a condition, true or false, but '{_text(where.cond)}' "
                           f"is {_kind(checker.as_written(vtype, cond, report))}", where.cond.span, path=path,
                           hints=["compare it, e.g. `where serving.tpot <= 50 ms`"])
    for extra in report.questions[1:]:
        checker.report("duplicate-question", f"report '{report.name}' asks two questions", extra.span, path=path,
                       notes=[f"the first is at {report.questions[0].span.location()}"],
                       hints=["ask one reduction per report; a report that extends this one can ask another"])
    if not report.questions:
        return
    question = report.questions[0]
    coords = axis_coords(ctx)
    for objective in question.objectives:
        vtype = checker.ref_type(bind_axes(objective.ref, ctx), report, path)
        if vtype.kind not in ("num", "unknown"):
            checker.report("type-mismatch", f"`{question.form}` ranks points by a number, but "
                           f"'{objective.ref.dotted}' is {_kind(vtype)}", objective.ref.span, path=path)
    named = ([question.axis] if question.axis is not None else []) + list(question.per)
    seen: dict[int, ir.Ref] = {}
    for ref in named:
        name = ref.parts[0]
        if name not in coords and name in ctx.refused_roles:
            continue        # `model = [a, b]` (error[role-list]): meant as the axis its `sweep` would make
        if name not in coords:
            bound = ([f"'{name}' is bound to one block ({ctx.fixed_roles[name]}), so it is not an axis"]
                     if name in ctx.fixed_roles else [])
            message, hints = f"report '{report.name}' has no axis '{name}'", did_you_mean(name, coords)
            shows = [shown for shown in shown_cells(report).get(name, ()) if shown.dotted != name]
            if shows:
                # A column's label names a cell, and `per`/`largest` take axes: say which axis the column shows.
                axes = [axis for axis in (_axis_name(shown, ctx, coords) for shown in shows) if axis is not None]
                if axes:
                    message = (f"'{name}' is a shown column's name, not an axis: write the axis it shows "
                               f"({axes[0]})")
                    hints = []
                else:
                    hints = [f"'{name}' is a shown column's name (it shows "
                             f"{' or '.join(shown.dotted for shown in shows)}), not an axis"]
            checker.report("unknown-axis", message, ref.span, path=path,
                           hints=bound + hints + ["axes: " + (", ".join(coords) or "none")])
            continue
        axis, coord = coords[name]
        if axis.index in seen:
            first = seen[axis.index].parts[0]
            checker.report("bad-question", f"'{name}' is named twice in `{question.text}`" if first == name else
                           f"'{name}' and '{first}' are one zipped axis, {axis.name}", ref.span, path=path,
                           hints=["name each axis once: the axes after `per` are kept, every other axis is reduced"])
        seen[axis.index] = ref
        if ref is question.axis and coord.kind != "num":
            what = "swept over blocks" if coord.kind == "role" else \
                f"an axis of {'strings' if coord.kind == 'str' else 'booleans'}"
            checker.report("type-mismatch", f"`{question.form}` needs an axis of numbers, but '{name}' is {what}",
                           ref.span, path=path, hints=["use `best min CELL` to rank points by a cell"])


def _axis_name(ref: ir.Ref, ctx: ReportContext, coords: dict) -> str | None:
    """The name of the axis a shown reference is (`batch`, `workload.batch`), None where it is a cell."""
    bound = bind_axes(ref, ctx) if len(ref.parts) == 1 else ref
    if len(bound.parts) == 1:
        return bound.parts[0] if bound.parts[0] in coords else None
    for (owner, name) in ctx.sweep_cells:
        if name == bound.parts[1] and bound.parts[0] in (owner, _role_of(owner, ctx)) and name in coords:
            return name
    return None


def _kind(vtype) -> str:
    return f"a number ({vtype.describe()})" if vtype.kind == "num" else vtype.describe()


def _text(expr: ir.Expr) -> str:
    if isinstance(expr, ir.Ref):
        return expr.dotted
    if isinstance(expr, ir.Num):
        return expr.text
    return "the condition"


# The warning of a report without a question whose `where` lines keep no point. A chunk of a streamed sweep gives it
# for its own points; the stream says it only where no chunk has a row (cli._eval_in_chunks: is_no_point_in_chunk).
NO_POINT_MEETS = "no sweep point meets the report's conditions"


def is_no_point_in_chunk(diag) -> bool:
    """Whether `diag` is a chunk's "no sweep point meets the report's conditions": true of its own points only."""
    return diag.code == "no-point" and diag.message == NO_POINT_MEETS


# -- answering -----------------------------------------------------------------------------------------------------

def answer(result: "Result", checker: "Checker") -> None:
    """Answer the report's question: set `result.rows`, add the ranked cells the report does not show to
    `result.columns`, and add a warning for the groups with no answer. Nothing happens for a report without one.

    Reads `result.valid` (a boolean array over the sweep: the points that meet the report's constraints) where it
    is set, so set it before calling this. Expects a report that `check_questions` passed.
    """
    ctx = result.ctx
    report = ctx.report
    if not report.wheres and not report.questions:
        return
    from . import no_answer
    from .result import Rows

    candidates = np.flatnonzero(conditions_met(result).reshape(-1))
    question = report.questions[0] if report.questions else None
    if question is None:
        result.rows = Rows(candidates, np.zeros(len(candidates), dtype=bool),
                           summary=f"where: {len(candidates):,} of {ctx.n_points:,} sweep points meet the conditions")
        if not len(candidates):
            _warn(result, report.wheres[0].span, NO_POINT_MEETS, [],
                  _other_choices_hint(ctx))
        return
    kept, n_groups = kept_axes(question, ctx)
    group = _group_of(candidates, ctx.shape, kept)
    partial = reduce_points(result, question, candidates, candidates, group, n_groups)
    _add_ranked_columns(result, checker, question)
    index, missing, found = answer_rows(partial, n_groups, ctx.shape, kept)
    why = None
    if report.wheres and not found.all():       # which condition binds, from the arrays just evaluated
        why = no_answer.tally(result.evaluator, ctx.shape, [np.arange(n) for n in ctx.shape],
                              getattr(result, "valid", None), no_answer.conditions_of(ctx, bind_axes), report, kept,
                              ctx.shape, np.flatnonzero(~found).astype(np.int64))
    result.rows = finish(result, question, index, missing, found, kept, why)


def conditions_met(result: "Result") -> np.ndarray:
    """(shape of the result's sweep) bool: the points that meet every `where` of the report and its constraints
    (`result.valid`, where set)."""
    return meets_conditions(result.evaluator, result.ctx, getattr(result, "valid", None))


def meets_conditions(evaluator, ctx: ReportContext, valid: np.ndarray | None, reuse_valid: bool = False
                     ) -> np.ndarray:
    """(ctx.shape) bool: the points of the evaluator's sweep that meet every `where` of the report and, where
    `valid` is given (broadcastable to ctx.shape), its constraints. `reuse_valid`: `valid` is the caller's own
    boolean array of ctx.shape, and the answer may be written into it (no other array over the sweep is made)."""
    report = ctx.report
    if reuse_valid and isinstance(valid, np.ndarray) and valid.dtype == bool and valid.shape == ctx.shape \
            and valid.flags.writeable:
        meets = valid
    else:
        meets = np.ones(ctx.shape, dtype=bool)
        if valid is not None:
            meets &= np.broadcast_to(np.asarray(valid, dtype=bool), ctx.shape)
    for where in report.wheres:
        cond = bind_axes(where.cond, ctx)
        if cond is not where.cond:              # a copy made for this evaluation: the one the caches know
            cond = evaluator.lasting(cond)
        holds = np.asarray(evaluator.run(lambda: evaluator.expr(cond, report)))
        np.logical_and(meets, along_long_runs(holds if holds.dtype == bool else holds.astype(bool), ctx.shape),
                       out=meets)
    return meets


def kept_axes(question: ir.Question, ctx: ReportContext) -> tuple[list[int], int]:
    """The axes a question keeps (its `per`), in axis order, and the number of groups they make."""
    coords = axis_coords(ctx)
    kept = sorted({coords[ref.parts[0]][0].index for ref in question.per})
    return kept, math.prod(ctx.shape[a] for a in kept)


def reduce_points(result: "Result", question: ir.Question, local: np.ndarray, index: np.ndarray,
                  group: np.ndarray, n_groups: int, prior: "Best | Front | None" = None) -> "Best | Front":
    """The partial answer of the points `local` (flat indices into the result's sweep), known to the whole sweep
    by `index` and `group`: merge it with others by reductions.merge_best / merge_fronts. With `prior` (the partial
    answer of other points of the sweep), the answer over both: a front's points go into one reduction with the
    chunk's, so that its first cut drops the chunk's points the front already dominates before any sort."""
    return reduce_values(question, ranked_values(result, question, local), index, group, n_groups, prior)


def ranked_values(result: "Result", question: ir.Question, local: np.ndarray) -> list[np.ndarray]:
    """The values a question ranks the points `local` (flat indices into the result's sweep) by, as floats (SI):
    one array for best, largest and smallest (the cell, or the axis), two for pareto."""
    ctx = result.ctx
    if question.form in ("best", "pareto"):
        return [_flat_values(result, objective.ref)[local] for objective in question.objectives]
    axis, coord = axis_coords(ctx)[question.axis.parts[0]]
    return [_axis_values(axis, coord, ctx.shape)[local]]


def reduce_values(question: ir.Question, values: list[np.ndarray], index: np.ndarray, group: np.ndarray,
                  n_groups: int, prior: "Best | Front | None" = None) -> "Best | Front":
    """The partial answer of points known by their flat sweep `index` and `group`, ranked by `values`
    (ranked_values), merged with `prior` where given (see reduce_points)."""
    from .reductions import best_per_group, merge_best, pareto_per_group

    if question.form in ("best", "largest", "smallest"):
        maximise = question.objectives[0].direction == "max" if question.form == "best" else \
            question.form == "largest"
        found = best_per_group(group, values[0], index, n_groups, maximise)
        return found if prior is None else merge_best(prior, found)
    first, second = question.objectives
    first_values, second_values = values
    if prior is not None:
        group, index = np.concatenate([prior.group, group]), np.concatenate([prior.index, index])
        first_values = np.concatenate([prior.first, first_values])
        second_values = np.concatenate([prior.second, second_values])
    return pareto_per_group(group, first_values, second_values, index, n_groups,
                            (first.direction == "max", second.direction == "max"))


def answer_rows(partial: "Best | Front", n_groups: int, shape: tuple[int, ...], kept: list[int]
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows of an answer, in output order: (flat sweep index, missing, found per group). A group with no point
    gets one row at its first point, marked missing."""
    from .reductions import Best

    if isinstance(partial, Best):
        found = partial.found
        index = np.where(found, partial.index, _first_points(np.arange(n_groups), shape, kept))
        return index.astype(np.int64), ~found, found
    empty = np.setdiff1d(np.arange(n_groups), partial.group)
    groups = np.concatenate([partial.group, empty])
    order = np.argsort(groups, kind="stable")
    index = np.concatenate([partial.index, _first_points(empty, shape, kept)])[order]
    missing = np.concatenate([np.zeros(len(partial.index), bool), np.ones(len(empty), bool)])[order]
    found = np.ones(n_groups, dtype=bool)
    found[empty] = False
    return index.astype(np.int64), missing, found


def finish(result: "Result", question: ir.Question, index: np.ndarray, missing: np.ndarray, found: np.ndarray,
           kept: list[int], why: "no_answer.ConditionTally | None" = None) -> Rows:
    """The rows of an answer over the sweep of `result.ctx`, with the warning about groups with no answer: each
    group it lists says, where `why` (no_answer.tally) has it, how many of its points meet each condition alone;
    the same line is the row's reason (Rows.reasons, for the workbook's note)."""
    from . import no_answer
    from .result import Rows

    ctx = result.ctx
    report = ctx.report
    n_groups = len(found)
    group_shape = tuple(ctx.shape[a] for a in kept)
    per = " x ".join(ctx.axes[a].name for a in kept) if kept else "the whole sweep"
    rows = Rows(index, missing, frozenset(kept),
                summary=f"{question.text}: {len(index):,} rows over {n_groups:,} groups ({per}), "
                        f"{int((~found).sum()):,} with no answer")
    if not found.all():
        filtered = len(report.wheres) + (getattr(result, "valid", None) is not None)
        lonely = np.flatnonzero(~found)
        conditions = no_answer.conditions_of(ctx, bind_axes) if why is not None else []
        group_points = ctx.n_points // max(n_groups, 1)
        reasons = {int(g): no_answer.why_line(why, int(g), conditions, group_points) for g in lonely}
        first = _first_points(lonely, ctx.shape, kept)
        rows.reasons = {int(point): reasons[int(g)] for g, point in zip(lonely, first) if reasons[int(g)]}
        listed = [_describe_group(g, group_shape, kept, ctx) + (f": {reasons[int(g)]}" if reasons[int(g)] else "")
                  for g in lonely[:MAX_LISTED]]
        if len(lonely) > MAX_LISTED:
            listed.append(f"... and {len(lonely) - MAX_LISTED:,} more")
        reason = "that meets the report's conditions" if filtered else "with a value to rank"
        group_word = "group" if n_groups == 1 else "groups"
        verb = "has" if len(lonely) == 1 else "have"         # "1 of 4 groups has", "2 of 4 groups have"
        _warn(result, question.span, f"{len(lonely):,} of {n_groups:,} {group_word} ({per}) {verb} no sweep point "
              f"{reason}", listed + ["their rows are left empty"], _other_choices_hint(ctx) if filtered else [])
    return rows


def _other_choices_hint(ctx: ReportContext) -> list[str]:
    """A hint naming the roles the report fixes to one block (its stack, precision ...; not its workload, which holds
    the sweep): no point of the sweep meets the conditions, another choice may (capacity_questions.perf fixes eager
    transformers, whose host time per kernel bounds a 70B model's time per output token on every GPU)."""
    fixed = [(role, block) for role, block in ctx.fixed_roles.items() if role not in ("report", "workload")]
    if not fixed:
        return []
    listed = ", ".join(f"{role} = {block}" for role, block in fixed)
    return [f"the report fixes {listed}: another choice may meet the conditions "
            f"(--set {fixed[0][0]}=NAME)"]


def _flat_values(result: "Result", ref: ir.Ref) -> np.ndarray:
    """A cell (or axis) over the whole sweep, flat, as floats (SI)."""
    evaluator = result.evaluator
    bound = bind_axes(ref, result.ctx)
    array = evaluator.run(lambda: evaluator.ref(bound, result.ctx.report))
    return np.asarray(evaluator.full(array), dtype=np.float64).reshape(-1)


def _axis_values(axis: Axis, coord: Coord, shape: tuple[int, ...]) -> np.ndarray:
    view = [1] * len(shape)
    view[axis.index] = axis.length
    return np.broadcast_to(np.asarray(coord.values, dtype=np.float64).reshape(view), shape).reshape(-1)


def _group_of(flat: np.ndarray, shape: tuple[int, ...], kept: list[int]) -> np.ndarray:
    """The group (the position over the kept axes, row-major) of each flat sweep index."""
    if not kept:
        return np.zeros(len(flat), dtype=np.int64)
    # The group of every point, built by broadcasting one small array per kept axis (cheaper than unravelling).
    groups = np.zeros((1,) * len(shape), dtype=np.int64)
    stride = 1
    for a in reversed(kept):
        view = [1] * len(shape)
        view[a] = shape[a]
        groups = groups + (np.arange(shape[a], dtype=np.int64) * stride).reshape(view)
        stride *= shape[a]
    return np.broadcast_to(groups, shape).reshape(-1)[flat]


def _first_points(groups: np.ndarray, shape: tuple[int, ...], kept: list[int]) -> np.ndarray:
    """The flat index of the first sweep point of each group (every reduced axis at its first value)."""
    full = [np.zeros(len(groups), dtype=np.int64) for _ in shape]
    if kept:
        for a, position in zip(kept, np.unravel_index(groups, tuple(shape[a] for a in kept))):
            full[a] = position
    return np.ravel_multi_index(tuple(full), shape).astype(np.int64) if shape else np.zeros(len(groups), np.int64)


def _describe_group(group: int, group_shape: tuple[int, ...], kept: list[int], ctx: ReportContext) -> str:
    if not kept:
        return "the whole sweep"
    positions = np.unravel_index(group, group_shape)
    return ", ".join(f"{coord.name}={format_coord(coord, int(p))}"
                     for a, p in zip(kept, positions) for coord in ctx.axes[a].coords)


def _add_ranked_columns(result: "Result", checker: "Checker", question: ir.Question) -> None:
    """The cells a question ranks by are part of its answer: add those the report does not show."""
    from .result import ShownColumn

    evaluator = result.evaluator
    for item in ranked_items(result.ctx, question, {column.ref for column in result.columns}):
        vtype = checker.ref_type(item.ref, result.ctx.report, "")
        array = evaluator.run(lambda: evaluator.ref(item.ref, result.ctx.report))
        result.columns.append(ShownColumn.make(item, vtype, array, checker, result.ctx.report))


def ranked_items(ctx: ReportContext, question: ir.Question, shown: set[str]) -> list[ir.ShowItem]:
    """A show item (no unit, no label) for each cell the question ranks by that is neither among the dotted cells
    `shown` nor an axis, in the question's order: the columns an answer adds after the report's own."""
    shown = set(shown)
    axes = axis_coords(ctx)
    items = []
    for objective in question.objectives:
        ref = shown_or_written(objective.ref, ctx)       # a column's label: that column shows it
        if ref.dotted in shown or (len(ref.parts) == 1 and ref.parts[0] in axes):
            continue
        shown.add(ref.dotted)
        items.append(ir.ShowItem.model_construct(ref=ref, unit=None, unit_span=None, label=None, span=ref.span))
    return items


def report_columns(ctx: ReportContext, program, report: str | None) -> list[ShownColumn]:
    """The report's shown columns with their units and types but no values (as answer_columns), before any chunk of
    a streamed sweep is evaluated: what parquet.column_kinds types a file's columns by."""
    from .result import ShownColumn

    _, checker = program.prepare(report)
    return [ShownColumn.make(item, checker.ref_type(item.ref, ctx.report, ""), np.zeros(0), checker, ctx.report, ctx)
            for item in ctx.report.shows]


def answer_columns(ctx: ReportContext, checker: "Checker", question: ir.Question) -> list[ShownColumn]:
    """The shown columns of a question's answer (the report's show items, then the cells it ranks by:
    ranked_items), with their units and types but no values (each `array` is empty): what an answer merged from
    chunks (streaming.Answer) knows of its columns without an evaluation over the sweep."""
    from .result import ShownColumn

    items = list(ctx.report.shows)
    items += ranked_items(ctx, question, {item.ref.dotted for item in items})
    return [ShownColumn.make(item, checker.ref_type(item.ref, ctx.report, ""), np.zeros(0), checker, ctx.report, ctx)
            for item in items]


def _warn(result: "Result", span: ir.Span, message: str, notes: list[str], hints: list[str] = ()) -> None:
    diag = result.program.sources.diag("no-point", message, span, path=f"report.{result.ctx.report.name}",
                                       notes=notes, hints=list(hints))
    diag.severity = "warning"
    result.warnings.append(diag)
