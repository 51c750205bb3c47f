"""Errors only the overrides cause (`--set`, `overrides=` in the API): bad usage, exit status 2.

An error in a `--set` value itself is located in it (`--set batch:1:1`) and is bad usage already (errors.PerfError).
Two errors stand elsewhere although only the overrides cause them: a sweep made too large, and a `require` broken
(`--set batch=0` against the cost model's `require batch >= 1`, `--set acme_3b.heads=7` against the model family's
`heads` a whole multiple of `kv_heads`). `blame` tells them apart from a report broken on its own by the program
without the overrides (Program._without_overrides): where it is fine, or meets the constraint at some point, the
error is the overrides', a UsageError. A constraint so blamed is located at the `--set` whose cell its condition
reads (or, where none does directly, the first `--set`), and keeps its own place and text as a note (the `--set`
named there where the value that breaks it is the one it gives, not the line of the default it replaced).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from .constraints import EXPECT_CODE
from .errors import (API_OVERRIDE, COMMAND_LINE, EXIT_USAGE_ERROR, Diagnostic, Location, PerfError, UsageError, error,
                     in_override)

if TYPE_CHECKING:
    from .checker import Checker
    from .program import Program

BLAMED = frozenset({"sweep-too-large", "constraint"})


def blame(program: "Program", exc: PerfError, report: str, checker: "Checker | None" = None) -> PerfError:
    """`exc` as a UsageError where its errors (each a sweep too large or a broken constraint) come from the overrides
    that made `program` (the program without them prepares, is small enough and meets each constraint at some sweep
    point); else `exc` itself. `checker`: the prepared report's (it says which `--set` a constraint reads); without
    it a constraint is not blamed. An error located in an override's own value is bad usage already: a UsageError
    whether the value came from the command line or the API (an unknown name where a number is wanted says so,
    _number_wanted). Raises nothing of its own."""
    base = program._without_overrides
    if not isinstance(exc, UsageError) and exc.exit_status == EXIT_USAGE_ERROR:
        return UsageError([_number_wanted(base, d) for d in exc.diagnostics])
    errors = [d for d in exc.diagnostics if d.severity == "error"]
    codes = {d.code for d in errors}
    if base is not None and checker is not None and "unit-mismatch" in codes:
        return _another_dimension(program, base, exc, report, checker)
    if base is None or not errors or not codes <= BLAMED or ("constraint" in codes and checker is None):
        return exc
    try:
        ctx, base_checker = base.prepare(report)
        if "sweep-too-large" in codes:
            base.refuse_too_large(ctx, base_checker)
        over_the_sweep = [d for d in errors if d.code == "constraint" and d.tally is not None]
        if over_the_sweep and _base_breaks_everywhere(base, ctx, base_checker, over_the_sweep):
            return exc
    except (PerfError, MemoryError):
        return exc
    if "constraint" not in codes:
        return UsageError([_made_too_large(program, d, ctx.n_points) if d.code == "sweep-too-large" else d
                           for d in exc.diagnostics])
    causes = {id(d): _causes(program, d, checker) for d in errors if d.code == "constraint"}
    reached = any(causes.values())
    return UsageError([d if id(d) not in causes
                       else _not_the_cause(d) if reached and not causes[id(d)]
                       else _blamed(program, d, checker, causes[id(d)]) for d in exc.diagnostics])


def _number_wanted(base: "Program | None", diag: Diagnostic) -> Diagnostic:
    """`diag` with the help of what the overridden cell takes where it is an unknown name in an override's value
    that is close to no name (`--set batch=abc`) and the cell holds numbers in the program without the overrides:
    a number, a list or a range, as the override is written (rather than every cell of the block, which `abc` is
    not a slip of). Other diagnostics as they are."""
    from . import ir
    from .units import Dimension, dimension_name, literal_unit, written_in_hertz

    loc = diag.location
    if diag.code != "unknown-name" or base is None or loc is None or not in_override(loc.file) or diag.path is None \
            or any(hint.startswith("did you mean") for hint in diag.hints):
        return diag
    _, _, block_cell = diag.path.partition(".")
    block_name, _, cell_name = block_cell.partition(".")
    block = base.blocks.get(block_name)
    cell = block.cells.get(cell_name) if block is not None else None
    if cell is None:
        return diag
    expr = cell.expr
    literals = expr.items if isinstance(expr, ir.ListExpr) else [expr.start] if isinstance(expr, ir.RangeExpr) \
        else [expr] if expr is not None else []
    target = loc.file[len(COMMAND_LINE):] if loc.file.startswith(COMMAND_LINE) else \
        loc.file[len(API_OVERRIDE) + 1:-2]
    if literals and all(isinstance(item, ir.Bool) for item in literals):     # a flag: `--set use_cache=yes`
        shown = f"--set {target}=true" if loc.file.startswith(COMMAND_LINE) else f"overrides={{{target!r}: True}}"
        hints = [hint for hint in diag.hints if not hint.startswith("available:")]
        return replace(diag, hints=[f"'{target}' takes true or false, not a name: e.g. {shown}", *hints])
    if cell.declared_dim is not None:
        dim = Dimension(cell.declared_dim)
    elif literals and all(isinstance(item, ir.Num) for item in literals):
        dim = Dimension(literals[0].dim)
    else:
        return diag
    hertz = written_in_hertz(cell.declared) or any(isinstance(item, ir.Num) and written_in_hertz(item.unit)
                                                   for item in literals)      # a clock: Hz, else 1/s
    if dim.is_dimensionless:
        examples = ("1,8", '"1 .. 64 by *2"') if loc.file.startswith(COMMAND_LINE) else ("[1, 8]", '"1 .. 64 by *2"')
    else:
        written = next((item.text for item in literals if isinstance(item, ir.Num) and item.unit), None)
        examples = (f'"{written or "1 " + literal_unit(dimension_name(dim, hertz))}"',)
    if loc.file.startswith(COMMAND_LINE):
        shown = " or ".join(f"--set {target}={example}" for example in examples)
    else:
        shown = " or ".join(f"overrides={{{target!r}: {example}}}" for example in examples)
    what = "a number, a list or a range" if dim.is_dimensionless else f"a quantity in {dimension_name(dim, hertz)}"
    hints = [hint for hint in diag.hints if not hint.startswith("available:")]
    return replace(diag, hints=[f"'{target}' takes {what}, not a name: e.g. {shown}", *hints])


def _another_dimension(program: "Program", base: "Program", exc: PerfError, report: str,
                       checker: "Checker") -> PerfError:
    """Unit mismatches that a `--set` of a formula cell causes (`--set serving_grid.kernel_overhead="5 GB"`, where
    the formula it replaces, `stack.kernel_overhead`, gives seconds): a UsageError located at each `--set` whose
    value has another dimension than the cell has in the program without the overrides, with the mismatches it
    caused as notes. `exc` as it is where the program without the overrides does not check, or no `--set` changes a
    cell's dimension. (A `--set` of a cell declared with a unit, or a number, is checked as it is applied.)"""
    try:
        _, base_checker = base.prepare(report)
    except PerfError:
        return exc
    sets = _overrides(program)
    found = []
    for block in checker.link.blocks.values():
        for name, cell in block.cells.items():
            if cell.expr is None or not in_override(cell.expr.span.file):
                continue
            given, before = checker.types.get((block.name, name)), base_checker.types.get((block.name, name))
            if given is None or before is None or given.kind != "num" or before.kind != "num" \
                    or given.dim == before.dim:
                continue
            origin = cell.expr.span.file
            text = sets.get(origin, "")
            replaced = base.blocks[block.name].cells[name]
            given = checker.as_written(given, cell.expr, block)                 # a clock: Hz, else 1/s
            before = base_checker.cell_as_written(before, base.blocks[block.name], replaced)
            found.append(error(
                "unit-mismatch", f"{origin}={text} is {given.describe()}, but {block.name}.{name} is "
                f"{before.describe()}", Location(origin, 1, 1, len(text) + 1), source_line=text,
                path=block.cell_path(name),
                notes=[f"{block.name}.{name} is `{' '.join(replaced.text.split())}` at {replaced.span.location()}"]
                + [f"which gives, at {d.location}: {d.message}" for d in exc.diagnostics
                   if d.code == "unit-mismatch" and d.location is not None][:3],
                hints=[f"give it in a unit of {before.describe()}"]))
    return UsageError(found) if found else exc


def _made_too_large(program: "Program", diag: Diagnostic, base_points: int) -> Diagnostic:
    """A sweep (or its arrays) too large only with the overrides: a note naming them and the sweep's size without
    them, since the error stays located at the report, whose text is not what made it large."""
    sets = _overrides(program)
    named = " ".join(f"{origin}={text}" if origin.startswith(COMMAND_LINE) else f"{origin} = {text}"
                     for origin, text in sets.items())
    given = "the --set values" if all(origin.startswith(COMMAND_LINE) for origin in sets) else "the overrides"
    note = f"made so by {named}: without {given} the report sweeps {base_points:,} points"
    return replace(diag, notes=[*diag.notes, note]) if named else diag


def _base_breaks_everywhere(base: "Program", ctx, checker: "Checker", diagnostics: list[Diagnostic]) -> bool:
    """Whether the program without the overrides breaks one of the constraints these errors (broken at every point
    of the overridden sweep) name at every point of its own sweep too. Its constraints alone are evaluated; a sweep
    whose validity would not fit the memory of one evaluation is not (then the answer is True: not blamed)."""
    from .chunks import WHOLE_EVALUATION_BYTES
    from .constraints import evaluate_requires

    if ctx.n_points * 8 > WHOLE_EVALUATION_BYTES:
        return True
    places = {_place(d.location) for d in diagnostics}
    same = [c for c in checker.constraints if _place(c[2].condition.span.location()) in places]
    evaluator = base.evaluator_in(ctx, checker)
    validity = evaluator.run(lambda: evaluate_requires(evaluator, same, "omit"))
    return any(violation.count == violation.total for violation in validity.violations)


def _not_the_cause(diag: Diagnostic) -> Diagnostic:
    """A constraint broken at some sweep points whose condition reads no override, where another broken constraint
    reads one (`--set batch=-4`: "batch ... at least 1" at every point; "tp divides the attention heads" at the
    tp = 8 points, with or without the --set): the warning a run without the overrides gives, as it is written in
    the cost model, since those points would be left out anyway; it is not why nothing is left, so it is neither
    blamed on a `--set` nor an error of its own."""
    from .constraints import NOTHING_LEFT

    hints = [hint for hint in diag.hints if hint != NOTHING_LEFT]
    return replace(diag, severity="warning", hints=hints)


def _blamed(program: "Program", diag: Diagnostic, checker: "Checker", causes: list[str]) -> Diagnostic:
    """A broken constraint as the overrides' error (a broken expectation as their warning: blame_expectations):
    located at the `--set` its condition reads (`causes`, from _causes; the first `--set` where that is empty), its
    own place and text in the first note."""
    sets = _overrides(program)
    causes = causes or list(sets)[:1]
    named = " and ".join(_named(origin, sets) for origin in causes)
    require = _require_of(diag, checker)
    what = "expectation" if diag.code == EXPECT_CODE else "constraint"
    broken = f"the {what} \"{require.message}\"" if require is not None else f"a {what}"
    first = causes[0] if causes else None
    text = sets.get(first, "")
    location = Location(first, 1, 1, len(text) + 1) if first else None
    # An inherited constraint is located at the value the block writes (constraints._report_broken) and says where
    # it is written in a later note: "at" alone read as the constraint's own place.
    inherited = any(note.startswith(f"the {what} is written in ") for note in diag.notes)
    where = "broken at" if inherited else "at"
    # Located at a value an override gives, the cell keeps the place of the value it replaced (overrides._new_cell):
    # the --set is named, not the line of the default it replaced.
    by = _set_at(diag, checker, sets) if inherited else None
    if by is not None:
        own = f"the {what}, broken by {_named(by, sets)}: {diag.message}"
    elif diag.location:
        own = f"the {what}, {where} {diag.location}: {diag.message}"
    else:
        own = f"the {what}: {diag.message}"
    given = "the --set values" if first is None or first.startswith(COMMAND_LINE) else "the overrides"
    without = (f"without {given} the report meets it" if diag.tally is None
               else f"without {given} some of the report's sweep points meet it")
    verb = "break" if len(causes) > 1 else "breaks"       # "--set a=1 and --set b=2 break the constraint"
    found = error(diag.code, f"{named} {verb} {broken}" if named else diag.message, location,
                  source_line=text if first else None, path=diag.path, notes=[own, *diag.notes, without],
                  hints=diag.hints)
    found.severity = diag.severity
    return found


def blame_expectations(program: "Program", report: str, checker: "Checker") -> None:
    """Each constant expectation broken (warning[unexpected-value] of the prepared report's check) that the program
    without the overrides meets, and whose condition reads a `--set` value: said as a broken constraint is
    (_blamed), at the `--set` (`--set h200_sxm.mem_bw="4800 Gbit/s"`), still a warning; in `checker.diagnostics`,
    in place. Raises nothing."""
    base = program._without_overrides
    if base is None or not any(d.code == EXPECT_CODE for d in checker.diagnostics):
        return
    try:
        _, base_checker = base.prepare(report)
    except PerfError:
        return
    before = {(d.message, d.path) for d in base_checker.diagnostics if d.code == EXPECT_CODE}
    for i, diag in enumerate(checker.diagnostics):
        if diag.code == EXPECT_CODE and diag.tally is None and (diag.message, diag.path) not in before:
            causes = _causes(program, diag, checker)
            if causes:
                checker.diagnostics[i] = _blamed(program, diag, checker, causes)


def _set_at(diag: Diagnostic, checker: "Checker", sets: dict[str, str]) -> str | None:
    """The override (its origin in `sets`) whose value the broken constraint `diag` is located at: a cell of the
    block it names (`hardware.rtx_a5000`) that an override gives, at the place of the cell it replaced; else None."""
    block = checker.blocks.get(diag.path.partition(".")[2]) if diag.path and diag.location else None
    for cell in block.cells.values() if block is not None else ():
        if cell.expr is not None and cell.expr.span.file in sets and cell.span.location() == diag.location:
            return cell.expr.span.file
    return None


def _named(origin: str, sets: dict[str, str]) -> str:
    """An override as it was given: `--set tp=0`, `overrides['tp'] = 0`."""
    return f"{origin}={sets[origin]}" if origin.startswith(COMMAND_LINE) else f"{origin} = {sets[origin]}"


def _overrides(program: "Program") -> dict[str, str]:
    """The `--set` origins of the program (`--set batch`) and the text given for each (`0`), in the order given."""
    return {name: text for name, text in program._extra_sources.items() if in_override(name)}


def _causes(program: "Program", diag: Diagnostic, checker: "Checker") -> list[str]:
    """The `--set` origins whose cells the broken constraint's condition reads, directly or not, or whose role binds
    the block it applies to or a block it reads; [] where the constraint is not found."""
    from .linker import Target, refs_of

    link, ctx = checker.link, checker.ctx
    found: dict[str, None] = {}
    for block, _, require in _constraints_of(diag, checker):
        roots = []
        for ref in refs_of(require.condition):
            target = link.target(ref.parts, block)
            if isinstance(target, Target):
                roots.extend((name, target.cell) for name in target.blocks)
        reached = link.reachable(roots)
        for block_name, cell_name in reached:
            expr = link.blocks[block_name].cells[cell_name].expr
            if expr is not None and in_override(expr.span.file):
                found[expr.span.file] = None
        touched = {block.name} | {block_name for block_name, _ in reached}
        for role, cell in ctx.report.cells.items():
            blocks = ctx.role_blocks(role) if role in ctx.roles else None
            if blocks and cell.expr is not None and in_override(cell.expr.span.file) \
                    and touched & set(blocks):
                found[cell.expr.span.file] = None
    order = list(_overrides(program))
    return sorted(found, key=lambda origin: order.index(origin) if origin in order else len(order))


def _constraints_of(diag: Diagnostic, checker: "Checker") -> list[tuple]:
    """The (block, owner, require) of the prepared report that the diagnostic reports broken: over the sweep it
    stands at the condition; at check time at the condition, or, where another block writes it, at the value the
    block it applies to writes, else at that block (constraints._report_broken)."""
    place = _place(diag.location)
    # A constant expectation is decided at check, not kept among the constraints to evaluate: its block's own.
    named = checker.blocks.get(diag.path.partition(".")[2]) if diag.code == EXPECT_CODE and diag.path else None
    candidates = [(named, owner, require) for owner, require in named.requires if require.soft] if named else []
    return [(block, owner, require) for block, owner, require in candidates or checker.constraints
            if diag.message.startswith(require.message)
            and (_place(require.condition.span.location()) == place
                 or (diag.path == f"{block.kind}.{block.name}"
                     and place in {_place(block.span.location())}
                     | {_place(cell.span.location()) for cell in block.cells.values()}))]


def _require_of(diag: Diagnostic, checker: "Checker"):
    found = _constraints_of(diag, checker)
    return found[0][2] if found else None


def _place(location: Location | None) -> tuple | None:
    return (location.file, location.line, location.col) if location is not None else None
