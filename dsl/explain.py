"""`perfdsl explain`: a cell's formula, value and unit, and the tree of its precedents (trace-precedents).

The cell is evaluated at one sweep point (every axis fixed), so only that point is computed; the `at:` line names
the whole point, every axis, so a reader can find its row, and marks with `*` the axes the cell does not depend on
("model=m2*, batch=2 (*: the value does not depend on model)"; "every sweep point (this row: ...)" for a constant):
naming only the axes it depends on left out which row it is (memory.peak of a report sweeping GPUs named no GPU).
A report with `points = "runs"` has the points eval has: those its runs matched, over the axes the runs' fields
make, so `--at n_gpus=2` picks the run on two GPUs; where several runs' points match the `--at` given, the first is
taken and the `at:` line says what the others differ in, and how many of the runs' points a `where` keeps
(explain_runs.py). Each node shows the cell, where it is defined, its formula, its value in a readable unit and the
comment written beside it (`comment:` under the root, `# ...` after a figure of the tree: where a datasheet figure
comes from, or any other note); a cell reached twice is expanded once.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from . import ir
from .blocks import Block
from .errors import UsageError, available, did_you_mean, error
from .evaluator import Evaluator, format_coord
from .hertz import cell_in_hertz
from .linker import children
from .provisional import marked_reason
from .render import format_number
from .shown_names import label_message, shown_cells
from .units import DIMENSIONLESS, UnitError, auto_unit, parse_unit


@dataclass
class ExplainNode:
    """One cell of an explain tree: how the formula reached it (`label`), the block, cell and block kind, its formula,
    its value as text in a readable unit, where it is defined (file:line:col), the block it is inherited from (None
    where it is its own), and its precedents. `repeated` marks a cell already expanded higher in the tree."""

    label: str                      # how the formula reached it: "model.params -> opt_1_3b.params"
    block: str
    cell: str
    kind: str                       # block kind
    formula: str
    value: str
    location: str
    inherited_from: str | None
    children: list["ExplainNode"] = field(default_factory=list)
    repeated: bool = False
    note: str = ""
    comment: str = ""               # the comment written beside the cell (a datasheet figure's source, or a note)
    provisional: str | None = None  # its reason where the cell is marked `# provisional` (provisional.py), else None


def choose_point(ctx, at: dict[str, str]) -> tuple[dict[int, int], list[str]]:
    """Axis positions from `--at AXIS=VALUE`; axes not named take their first value (the names returned). The --at
    values of one zipped axis (`--at tp=8 --at ep=8` of `sweep (tp, ep) = [...]`) together choose the tuple that has
    them all: UsageError (bad-point) where none has (the tuples listed), and where several do because some of its
    names are not given (`--at tp=8` of (8, 1) and (8, 8): the tuples listed, and the --at that chooses each)."""
    fix: dict[int, int] = {}
    chosen_default = []
    names = {coord.name: (axis, coord) for axis in ctx.axes for coord in axis.coords}
    given: dict[int, list[tuple[str, str, set[int]]]] = {}      # axis index -> (name, text, its positions) by --at
    for name, text in at.items():
        if name not in names:
            raise UsageError(error("bad-point", f"the report has no axis '{name}'",
                                   hints=did_you_mean(name, names) + [available(names)]))
        axis, coord = names[name]
        shown = [format_coord(coord, i) for i in range(axis.length)]
        plain = [str(v) for v in coord.display_values().tolist()]
        positions = {i for i in range(axis.length) if text in (shown[i], plain[i]) or _same_number(text, coord, i)}
        if not positions:
            values = list(dict.fromkeys(shown))
            raise UsageError(error("bad-point", f"'{text}' is not a value of axis '{name}'",
                                   hints=["its values: " + ", ".join(values[:20])
                                          + (" ..." if len(values) > 20 else "")]))
        given.setdefault(axis.index, []).append((name, text, positions))
    for index, named in given.items():
        axis = ctx.axes[index]
        matching = sorted(set.intersection(*(positions for _, _, positions in named)))
        if len(matching) == 1:
            fix[index] = matching[0]
            continue
        asked = " ".join(f"--at {name}={text}" for name, text, _ in named)
        tuples = [_tuple_text(axis, i) for i in range(axis.length)]
        if not matching:
            raise UsageError(error(
                "bad-point", f"no point of the zipped axis {axis.name} has {_and(named)} ({asked})",
                hints=["its points: " + ", ".join(tuples[:20]) + (" ..." if len(tuples) > 20 else "")]))
        left = [coord for coord in axis.coords if coord.name not in {name for name, _, _ in named}]
        choices = ["--at " + " --at ".join(f"{coord.name}={format_coord(coord, i)}" for coord in left)
                   for i in matching]
        raise UsageError(error(
            "bad-point", f"{asked} matches {len(matching)} points of the zipped axis {axis.name}: "
            + ", ".join(tuples[i] for i in matching),
            hints=["to choose one, add " + (", ".join(choices[:-1]) + " or " + choices[-1] if len(choices) <= 6
                                            else ", ".join(choices[:6]) + ", ...")]))
    for axis in ctx.axes:
        if axis.index not in fix:
            fix[axis.index] = 0
            if axis.length > 1:
                chosen_default.append(axis.name)
    return fix, chosen_default


def _tuple_text(axis, i: int) -> str:
    """The i-th point of an axis as written: `(8, 1)` of a zipped one, `8` of another."""
    texts = [format_coord(coord, i) for coord in axis.coords]
    return texts[0] if len(texts) == 1 else "(" + ", ".join(texts) + ")"


def _and(named: list[tuple[str, str, set[int]]]) -> str:
    return " and ".join(f"{name}={text}" for name, text, _ in named)


# A number and its unit, with or without a space between them (`1 GB`, `1GB`, `2.5e3 MB`, `1000`).
_QUANTITY = re.compile(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")


def _same_number(text: str, coord, i: int) -> bool:
    """Whether `text` is the axis's i-th value: a plain number in the axis's display unit, or a quantity in any
    unit of its dimension (`1 GB` of an axis written in GB and shown in MB: shown_axes.adopt_shown_units), equal in
    SI to within rounding (1000 MB and 1 GB are one value)."""
    if coord.kind != "num":
        return False
    try:
        return float(text) == float(coord.display_values()[i])      # a plain number: 8, 1e3, 1_000
    except ValueError:
        pass
    written = _QUANTITY.match(text)
    if written is None or not written.group(2):
        return False
    number, unit = written.group(1), written.group(2)
    try:
        parsed = parse_unit(unit)
        return parsed.dim == coord.dim and math.isclose(float(number) * parsed.scale, float(coord.values[i]),
                                                         rel_tol=1e-12)
    except (ValueError, UnitError):
        return False


class Explainer:
    """Builds the precedent tree of cells at one sweep point (`fix`: axis index -> position) of a checked report
    context, evaluating each cell at that point only."""

    def __init__(self, program, ctx, checker, fix: dict[int, int]):
        self.program = program
        self.ctx = ctx
        self.checker = checker
        self.fix = fix
        self.evaluator = Evaluator(program.blocks, ctx, program.sources, checker.types, link=checker.link)
        self.seen: set[tuple[str, str]] = set()

    def point_text(self, axes: frozenset[int] | None = None) -> str:
        """The chosen sweep point as text ("batch=8, seq=2048"), or "the only point" for a report without axes.
        `axes` (axis indexes): name only these, "every sweep point" where none (None: every axis)."""
        if not self.ctx.axes:
            return "the only point"
        fix = self.fix if axes is None else {index: at for index, at in self.fix.items() if index in axes}
        return self.evaluator.describe_point(tuple(0 for _ in self.ctx.axes), tuple(1 for _ in self.ctx.axes), fix)

    def row_text(self, axes: frozenset[int]) -> tuple[str, str]:
        """(the chosen point as text with every axis, each coordinate of an axis not in `axes` marked `*`, the words
        that say what `*` means): ("model=m2*, batch=2", "*: the value does not depend on model"). A cell that
        depends on no axis: ("every sweep point (this row: model=m2, batch=2)", ""); a report without axes: ("the
        only point", ""). `axes`: the axis indexes the cell depends on (axes_of)."""
        if not self.ctx.axes:
            return "the only point", ""
        if not axes & {axis.index for axis in self.ctx.axes}:
            return f"every sweep point (this row: {self.point_text()})", ""
        parts, others = [], []
        for axis in self.ctx.axes:
            mark = "" if axis.index in axes else "*"
            for coord in axis.coords:
                parts.append(f"{coord.name}={format_coord(coord, self.fix[axis.index])}{mark}")
                if mark:
                    others.append(coord.name)
        legend = f"*: the value does not depend on {', '.join(others)}" if others else ""
        return ", ".join(parts), legend

    def axes_of(self, ref: ir.Ref, block: Block, name: str) -> frozenset[int]:
        """The axes (indexes) the explained cell depends on: those its value varies along (chunks.cell_axes: its
        own sweep, what its formulas read, swept roles they read through) and the axis of a swept role the name
        itself goes through (`model.layers` is llama3_1_8b.layers at model=llama3_1_8b). The point's other axes
        change nothing in the tree: `explain` marks them (row_text)."""
        from .chunks import cell_axes

        link = self.checker.link
        axes = set(cell_axes(link, self.ctx, [(block.name, name)]).get((block.name, name), frozenset()))
        target = link.target(ref.parts, self.ctx.report)
        if getattr(target, "swept", False) and target.role in self.ctx.swept_roles:
            axes.add(self.ctx.swept_roles[target.role][0])
        return frozenset(axes)

    def failed_wheres(self) -> list[str]:
        """The texts of the report's `where` conditions (each side of their top-level `and`s) that are false at the
        chosen point: the report shows no row there, so a value explained at such a point is one the user will not
        find in the output."""
        from .no_answer import conditions_of
        from .queries import bind_axes

        report = self.ctx.report
        failed = []
        for condition in conditions_of(self.ctx, bind_axes):
            holds = np.asarray(self.evaluator.run(lambda: self.evaluator.expr(condition.expr, report, self.fix)))
            if not holds.astype(bool).all():
                failed.append(condition.text)
        return failed

    def resolve(self, ref: ir.Ref, block: Block) -> tuple[Block, str]:
        """The block and cell a checked reference reads at the chosen point (the linker's resolution)."""
        target = self.checker.link.target(ref.parts, block)
        return self.checker.link.block_at(target, self.fix), target.cell

    def node(self, label: str, block: Block, name: str, depth: int, max_depth: int,
             unit: str | None = None) -> ExplainNode:
        """The ExplainNode of cell `name` of `block` with its value at the chosen point (in `unit` where given: the
        unit the report shows it in), and its precedents expanded to `max_depth` levels below the root (`depth` is
        this node's level); a cell already expanded is marked `repeated` and not expanded again. Errors of
        evaluation propagate."""
        cell = block.cells[name]
        owner = block.owner.get(name, block.name)
        value = self.evaluator.run(lambda: self.evaluator.cell(block, name, self.fix))
        vtype = self.checker.types.get((block.name, name))
        checker = self.checker
        hertz = cell_in_hertz(block.name, name, checker.blocks, checker.link, checker.types)     # a clock: Hz
        node = ExplainNode(label=label, block=block.name, cell=name, kind=block.kind,
                           formula=_formula(cell), value=_value_text(value, vtype, hertz, unit),
                           location=str(cell.span.location()), inherited_from=owner if owner != block.name else None,
                           comment=self.program.sources.cell_comment(cell),
                           provisional=marked_reason(self.program.sources, cell))
        key = (block.name, name)
        if cell.sweep:
            node.note = "a sweep axis"
        if key in self.seen:
            node.repeated = True
            return node
        self.seen.add(key)
        if cell.expr is None or cell.sweep or depth >= max_depth:
            return node
        for ref, taken in self.precedents(cell.expr, block):
            target_block, target_cell = self.resolve(ref, block)
            label = ref.dotted if len(ref.parts) == 2 else f"{target_block.name}.{target_cell}"
            if len(ref.parts) == 2 and ref.parts[0] != target_block.name:
                label = f"{ref.dotted} -> {target_block.name}.{target_cell}"
            if taken:
                node.children.append(self.node(label, target_block, target_cell, depth + 1, max_depth))
            else:
                node.children.append(self.not_taken(label, target_block, target_cell))
        return node

    def precedents(self, expr: ir.Expr, block: Block) -> list[tuple[ir.Ref, bool]]:
        """The distinct references of a formula in the order they are written, each with whether the chosen point
        reads it: a reference only in a branch of `if` that the point does not take is not read (the evaluator
        does not compute that branch, so a declared input there need not be given: Evaluator._if)."""
        found: dict[str, tuple[ir.Ref, bool]] = {}
        stack: list[tuple[ir.Expr, bool]] = [(expr, True)]
        while stack:
            node, taken = stack.pop()
            if isinstance(node, ir.Ref):
                if node.dotted not in found or (taken and not found[node.dotted][1]):
                    found[node.dotted] = (node, taken or found.get(node.dotted, (node, False))[1])
                continue
            if taken and isinstance(node, ir.Call) and node.func == "if" and len(node.args) == 3:
                condition = np.asarray(self.evaluator.run(
                    lambda: self.evaluator.expr(node.args[0], block, self.fix)), bool)
                branches = [(node.args[0], True), (node.args[1], bool(condition.any())),
                            (node.args[2], not condition.all())]
                stack.extend(reversed(branches))
                continue
            stack.extend((child, taken) for child in reversed(children(node)))
        return list(found.values())

    def not_taken(self, label: str, block: Block, name: str) -> ExplainNode:
        """The node of a cell that only a branch of `if` not taken at the chosen point reads: shown, not evaluated."""
        cell = block.cells[name]
        owner = block.owner.get(name, block.name)
        return ExplainNode(label=label, block=block.name, cell=name, kind=block.kind, formula=_formula(cell),
                           value="(not evaluated)", location=str(cell.span.location()),
                           inherited_from=owner if owner != block.name else None,
                           note="in a branch of if() not taken at this point",
                           provisional=marked_reason(self.program.sources, cell))


def _formula(cell: ir.Cell) -> str:
    if cell.expr is None:
        return f"(declared input: {cell.declared})"
    return " ".join(cell.text.split())


def _value_text(value: np.ndarray, vtype, hertz: bool = False, unit: str | None = None) -> str:
    """The value at the explained point in words, a number in a readable unit (`hertz`: a clock, in Hz; a count per
    second in 1/s: units.auto_unit), or in `unit` where given (the unit the report shows the cell in) and of its
    dimension."""
    scalar = np.asarray(value).reshape(-1)[0]
    if isinstance(scalar, (bool, np.bool_)):
        return "true" if scalar else "false"
    if isinstance(scalar, str):
        return f'"{scalar}"'
    dim = getattr(vtype, "dim", None)
    number = float(scalar)
    if dim is None or dim == DIMENSIONLESS:
        return format_number(number)
    if unit is not None:
        try:
            shown = parse_unit(unit)
        except UnitError:
            shown = None
        if shown is not None and shown.dim == dim:
            return f"{format_number(number / shown.scale)} {unit}"
    unit, scale = auto_unit(dim, number, hertz)
    return f"{format_number(number / scale)} {unit}"


def _shown_unit(report: Block, asked: str, cell: str) -> str | None:
    """The unit the report shows the explained cell in (`show memory.weights in GiB as weights`: GiB, asked as
    `weights` or `memory.weights`), so that explain gives the number the report's output has; None where it is
    shown in no unit it names, or in two."""
    units = {item.unit for item in report.shows if item.unit and (item.name == asked or item.ref.dotted == cell)}
    return units.pop() if len(units) == 1 else None


def render_tree(root: ExplainNode, point: str, defaulted: list[str], left_out: list[str] = (), note: str = "",
                legend: str = "") -> str:
    """The explain output: the root cell's value, formula, where it is defined, the comment written beside it, the
    point (`point`; `legend`, what its `*` marks mean: row_text; the axes in `defaulted` took their first value;
    `note`, words on how it was chosen among the runs' points) and the report's `where` conditions it fails
    (`left_out`: their texts), then its precedents as a box-drawn tree."""
    lines = [f"{root.label} = {root.value}" + (" (provisional)" if root.provisional is not None else ""),
             f"  formula: {root.formula}", f"  defined: {root.location}"
             + (f" (inherited from {root.inherited_from})" if root.inherited_from else "")]
    if root.comment:
        lines.append(f"  comment: {root.comment}")
    said = ([legend] if legend else []) + (
        [f"first value of {', '.join(defaulted)}; choose with --at AXIS=VALUE"] if defaulted else []) + (
        [note] if note else [])
    lines.append(f"  at: {point}" + (f" ({'; '.join(said)})" if said else ""))
    if left_out:
        lines.append("  left out by the report's where: " + ", ".join(left_out)
                     + (" is" if len(left_out) == 1 else " are") + " false at this point")
    if root.children:
        lines.append("  precedents:")

    def walk(node: ExplainNode, prefix: str, last: bool) -> None:
        branch = "└── " if last else "├── "
        text = f"{node.label} = {node.value}"
        if node.formula and node.formula != node.value and not node.repeated and node.children:
            text += f"   = {node.formula}"
        elif node.formula and node.cell and not node.children and node.formula not in (node.value,) \
                and not node.repeated:
            text += f"   [{node.formula}]"
        text += f"   ({node.location}"
        if node.inherited_from:
            text += f", from {node.inherited_from}"
        text += ")"
        if node.note:
            text += f" {node.note}"
        if node.provisional is not None:     # a value no source gives: the reason, in place of the comment it is in
            text += f" (provisional: {node.provisional})" if node.provisional and not node.repeated else \
                " (provisional)"
        if node.repeated:
            text += " (see above)"
        elif node.comment and not node.children and node.provisional is None:     # where a written figure comes from
            text += f"   # {node.comment}"
        lines.append(prefix + branch + text)
        child_prefix = prefix + ("    " if last else "│   ")
        for index, child in enumerate(node.children):
            walk(child, child_prefix, index == len(node.children) - 1)

    for index, child in enumerate(root.children):
        walk(child, "  ", index == len(root.children) - 1)
    return "\n".join(lines)


def explain(program, cell: str, report: str | None, at: dict[str, str], max_depth: int = 50,
            points: np.ndarray | None = None, matched: np.ndarray | None = None) -> str:
    """`perfdsl explain CELL`: the text of the tree of `cell`'s precedents with their values at one sweep point of
    `report` (the only report where None), chosen with `at` (axis name -> value as text; other axes take their first
    value). `cell` is CELL, ROLE.CELL, BLOCK.CELL or a shown cell's label. `points` (with_runs): the flat sweep
    indices of the runs' points of a `points = "runs"` report; the point is then the first of them that `at`
    matches (explain_runs); `matched`, every point a run matched before the report's `where` kept eval's rows (the
    `at:` line says how many it keeps: "2 of 3 runs' points: where batch <= 4"). Raises UsageError (exit 2) for a
    cell name that cannot be read or is unknown, for an axis or value `at` does not have (or, with `points`, that no
    run's point has, or one the report's `where` leaves out), and for an unknown report (or none named among
    several); PerfError (exit 1) for errors in the specs."""
    if not program.reports and report is None and "." in cell:
        # Files without a report: a cell of a named block that needs no role (`a10.peak_fp8`).
        _, _, ctx, checker, _ = program.cell_context(cell)
    else:
        ctx, checker = program.prepare(report)
    others: list[dict[int, int]] = []
    if points is not None:
        from .explain_runs import choose_run_point

        fix, *others = choose_run_point(ctx, at, points, matched)
        defaulted: list[str] = []
    else:
        try:
            fix, defaulted = choose_point(ctx, at)
        except UsageError as exc:
            from .matching import points_option

            if program.reports and points_option(program, ctx.report) == "runs":
                # No runs given: their fields (n_gpus, tp ...) are not axes yet, as eval would make them.
                exc.diagnostics[0].hints.append(
                    'the report has points = "runs" and no runs: its runs\' fields become axes where they are '
                    "given (--measured LOG, or the report's `measured` cell)")
            raise
    explainer = Explainer(program, ctx, checker, fix)
    shown = shown_cells(ctx.report)
    asked = cell
    if cell in shown and cell not in ctx.report.cells:
        # A `show serving.tpot as tpot` label names the cell it shows (as in `where` lines: shown_names).
        if len(shown[cell]) > 1:
            raise UsageError(error("unknown-name", label_message(cell, ctx.report)[0] + f" (explain {asked})"))
        cell = shown[cell][0].dotted
    parts = tuple(cell.split("."))
    if len(parts) > 2 or not all(parts):
        raise UsageError(error("bad-cell", f"cannot read the cell name '{cell}'",
                               hints=["write CELL, ROLE.CELL or BLOCK.CELL, e.g. prefill.runtime"]))
    if len(parts) == 1 and parts[0] not in ctx.report.cells:
        # A bare name that is not the report's own: a cell of a block the report binds (`batch` of the workload).
        owners = [role for role, block in ctx.fixed_roles.items()
                  if role != "report" and parts[0] in program.blocks[block].cells]
        if len(owners) == 1:
            parts = (owners[0], parts[0])
    ref = ir.Ref.model_construct(parts=parts, span=ctx.report.span)
    checker.diagnostics.clear()
    checker.ref_type(ref, ctx.report, f"report.{ctx.report.name}")
    if checker.diagnostics:
        diag = checker.diagnostics[0]
        hints = list(diag.hints)
        if shown:
            hints.append("or a shown cell's name: " + ", ".join(shown))
        raise UsageError(error(diag.code, diag.message + f" (explain {asked})", hints=hints))
    block, name = explainer.resolve(ref, ctx.report)
    label = cell if len(parts) == 2 and parts[0] == block.name else (
        f"{cell} -> {block.name}.{name}" if len(parts) == 2 else f"{block.name}.{name}")
    if asked != cell:
        label = f"{asked}: {label}"
    root = explainer.node(label, block, name, 0, max_depth, _shown_unit(ctx.report, asked, cell))
    axes = explainer.axes_of(ref, block, name)
    names = {axis.name for axis in ctx.axes if axis.index in axes}
    note = ""
    if points is not None:
        from .explain_runs import kept_words, others_note

        # With a `where`: how many of the runs' points it keeps, beside the others, or alone where it left some out.
        note = others_note(ctx, fix, others, axes, bool(at), kept_words(ctx, at, points, matched)) \
            or kept_words(ctx, at, points, matched, left_out_only=True)
    point, legend = explainer.row_text(axes)
    return render_tree(root, point, [axis for axis in defaulted if axis in names], explainer.failed_wheres(), note,
                       legend)
