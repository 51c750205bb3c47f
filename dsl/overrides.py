"""Overrides (`--set CELL=VALUE`, `overrides=` in the API): replace cells before checking.

A target is `block.cell`, `role.cell` (every block the report binds to that role), or a bare `cell` of the report
or of a block it binds to a role (a sweep such as `batch`). A value is text in the .perf syntax (`1,2,4`,
`128 .. 1024 by *2`, `900 GB/s`, `[opt_1_3b, opt_6_7b]`) or a Python number, string, boolean or list. A list turns a
cell into a sweep. The override is written into the block that is named, so blocks that extend it inherit it.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Mapping

from . import ir
from .errors import (API_OVERRIDE, PerfError, UsageError, available, did_you_mean, error, from_the_command_line,
                     in_override, override_example, override_key_help)
from .errors import override_origin as origin
from .parser import parse_value
from .linker import report_roles

if TYPE_CHECKING:
    from .blocks import Block


def apply_overrides(modules: list[ir.Module], blocks: dict[str, "Block"], overrides: Mapping[str, object],
                    report: "Block | None") -> tuple[list[ir.Module], dict[str, str], list[tuple[str, str]]]:
    """The modules with the overridden cells replaced, the text of each override (to quote it in errors), and the
    (block, cell) of each cell replaced (for mark_held_overrides).

    `blocks` are the modules' blocks with `extends` resolved; `report` is the report the bare names belong to.
    Raises UsageError (exit status 2) for a target that names nothing or a value of the wrong dimension.
    """
    replacements: dict[tuple[str, str], ir.Cell] = {}
    texts: dict[str, str] = {}
    setters: dict[tuple[str, str], tuple[str, object]] = {}    # the target and value that set each cell first
    for target, raw in overrides.items():
        for block, name in _targets(blocks, target, report):
            current = block.cells.get(name)
            cell = _new_cell(block, name, current, raw, origin(target), texts)
            _refuse_own_cell(blocks, block, name, cell)
            first = replacements.get((block.name, name))
            if first is not None and (first.sweep, value_key(first.expr)) != (cell.sweep, value_key(cell.expr)):
                _refuse_two_names(f"{block.name}.{name}", setters[(block.name, name)], (target, raw))
            setters.setdefault((block.name, name), (target, raw))
            replacements[(block.name, name)] = cell
    new_modules = []
    for module in modules:
        nodes = []
        for node in module.blocks:
            mine = {cell_name: cell for (block_name, cell_name), cell in replacements.items()
                    if block_name == node.name}
            if mine:
                cells = [mine.pop(c.name, c) for c in node.cells]
                cells.extend(mine.values())
                zipped = tuple(z for z in node.zipped if not set(z.names) & {c.name for c in cells if c.sweep
                                                                             or c.expr is not None})
                node = node.model_copy(update={"cells": tuple(cells), "zipped": zipped})
            nodes.append(node)
        # An override on the command line wins over a file's `set` of the same cell.
        sets = tuple(stmt for stmt in module.sets if (stmt.block, stmt.cell.name) not in replacements)
        new_modules.append(module.model_copy(update={"blocks": tuple(nodes), "sets": sets}))
    return new_modules, texts, list(replacements)


def _refuse_own_cell(blocks: dict[str, "Block"], report: "Block", role: str, cell: ir.Cell) -> None:
    """error[unknown-block], bad usage, where an override gives a role of `report` (a usual role, or a cell that
    binds blocks) a bare name that is no block but a cell of the report (`--set model=model`, `--set
    model=hardware` where no block has the name): inside a report a bare name reads the report's own cell before any
    block, so the role read itself (error[cycle] and error[unbound-role] at the report's lines, exit status 1, as if
    the spec were wrong) or another role's binding. A block of that name is linker.shadows_block's case."""
    from .linker import ROLE_KINDS, bindable_blocks, report_roles

    if report.kind != "report" or (role not in ROLE_KINDS and role not in report_roles(report, blocks)):
        return
    expr = cell.expr
    items = list(expr.items) if isinstance(expr, ir.ListExpr) else [expr]
    own = next((item for item in items if isinstance(item, ir.Ref) and len(item.parts) == 1
                and item.parts[0] not in blocks and item.parts[0] in report.cells), None)
    if own is None or own.span is None or not in_override(own.span.file):
        return
    name = own.parts[0]
    kind = ROLE_KINDS.get(role)
    takes = bindable_blocks(blocks, kind) if kind else sorted(b for b in blocks if blocks[b].kind != "report")
    what = "the role itself" if name == role else \
        f"the role '{name}'" if name in ROLE_KINDS or name in report_roles(report, blocks) else f"the cell '{name}'"
    raise UsageError(error(
        "unknown-block", f"no block named '{name}'", own.span.location(),
        source_line=(cell.text.split("\n") + [""])[own.span.line - 1], path=report.cell_path(role),
        notes=[f"inside report '{report.name}' the bare name '{name}' reads the report's own cell, {what}, before "
               "any block"],
        hints=did_you_mean(name, takes) + ([f"the role '{role}' takes {f'a {kind}' if kind else 'a'} block; "
                                            + available(takes)] if takes else [])))


def mark_held_overrides(blocks: dict[str, "Block"], base: dict[str, "Block"], replaced: list[tuple[str, str]]
                        ) -> None:
    """Hold an override to the type of the cell it replaces where only the checker knows one of the two types, as a
    file's `set` is (blocks.Block.set_over, Checker._check_set): a formula over a literal cell (`--set h.x="2*3 s"`
    or `--set h.x=h.flag` over `x = 1`: its number's dimension, or its kind, a number, string or boolean), and any
    value, a literal, a list or a formula, over a formula cell (`--set wl.tput="5 GB"` or `--set wl.tput="5 GB, 6
    GB"` over `tput = batch / t`, 1/s: the formula's type as the report's check gives it). Each is one error at the
    override, bad usage, where the checker types the cell; a literal over a literal is checked as it is applied
    (_check_literal_kind, _check_literal_dimension). `blocks` are the overridden program's (built for it alone:
    changed here), `base` the program's without the overrides, `replaced` the (block, cell) of each override
    (apply_overrides): only those are looked at (a scan of every cell cost 5 ms a call for capacity_planning's
    5,798). A literal cell only where its block writes it itself (an inherited one is the checker's, as for
    `extends`: Checker._check_override); a formula cell inherited too, whose type the report-free check of `extends`
    may not know (it reads a sweep)."""
    from .blocks import over_formula

    literal = (ir.Num, ir.Str, ir.Bool)
    for block_name, name in replaced:
        block, before = blocks.get(block_name), base.get(block_name)
        cell = block.cells.get(name) if block is not None else None
        if cell is None or before is None or cell.expr is None or not in_override(cell.expr.span.file) \
                or block.owner.get(name) != block_name:
            continue
        old = before.cells.get(name)
        if old is None:
            continue
        if not over_formula(old, cell, swept=True):
            if cell.sweep or isinstance(cell.expr, literal) or before.owner.get(name) != block_name or old.sweep \
                    or old.choices is not None or old.declared_dim is not None \
                    or not isinstance(old.expr, literal) or (isinstance(old.expr, ir.Num) and old.expr.dim is None):
                continue
        for other in blocks.values():          # and every block that inherits the cell from it
            if block_name in other.lineage and other.owner.get(name) == block_name:
                other.set_over[name] = old


def value_key(value: "ir.Expr | list[ir.Expr] | None") -> object:
    """What a parsed value is, spelling aside, to tell whether two values are the same: numbers in SI to 12
    significant digits with their dimension (`3 TB/s` and `3000 GB/s`, `4` and `4.0`), the items of a list (`1,2,4`
    and `[1, 2, 4]`), a range between numbers as the list of its values (`1 .. 4` and `1,2,3,4`: _range_key), a bare
    word as the string of its text (`vllm` and `"vllm"`: a string setting takes either, and a role refuses the quotes
    with its own error, quoted-role); spans, the text as written and the unit shown are left out."""
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], (ir.ListExpr, ir.RangeExpr)):
        value = value[0]
    if isinstance(value, ir.ListExpr):
        return ("list",) + tuple(value_key(item) for item in value.items)
    if isinstance(value, (list, tuple)):
        return ("list",) + tuple(value_key(item) for item in value) if len(value) != 1 else value_key(value[0])
    if isinstance(value, ir.Num):
        return ("num", float(f"{value.value:.12g}"), tuple(value.dim) if value.dim is not None else None)
    if isinstance(value, ir.Ref) and len(value.parts) == 1:
        return ("str", value.parts[0])
    if isinstance(value, ir.Str):
        return ("str", value.value)
    if isinstance(value, ir.RangeExpr):
        key = _range_key(value)
        if key is not None:
            return key
    if isinstance(value, ir.Node):
        return (type(value).__name__,) + tuple(
            (field, value_key(getattr(value, field))) for field in type(value).model_fields
            if not field.endswith("span") and field not in ("text", "unit", "written"))
    return value


_LISTED = 10_000         # the most values of a range compared with a list (_range_key)


def _range_key(rng: ir.RangeExpr) -> tuple | None:
    """value_key of the list of a range's values, where its ends and step are numbers and it is a range a sweep
    takes (range_values: `1 .. 4`, `128 .. 512 by *2`, `1 GB .. 4 GB by 1 GB`) and of at most _LISTED values (a
    list typed on a command line is no longer); None for any other (its ends formulas, an empty range, a step of 0,
    which the sweep's check says what is wrong with; a longer range, compared as written)."""
    from .range_values import range_points, range_steps

    start, stop = _number(rng.start), _number(rng.stop)
    step = _number(rng.step) if rng.step is not None else (1.0, start[1]) if start is not None else None
    if None in (start, stop, step) or start[1] != stop[1]:
        return None
    (start, dim), (stop, _), (by, by_dim) = start, stop, step
    plain = tuple(0 for _ in dim)
    if rng.geometric:
        valid = by_dim == plain and by > 1 and start > 0
    else:
        valid = by_dim == dim and by > 0 and (rng.step is not None or dim == plain)
    if not valid:
        return None
    steps = range_steps(start, stop, by, rng.geometric)
    if not math.isfinite(steps) or not 0 <= steps < _LISTED:
        return None
    return ("list",) + tuple(("num", float(f"{v:.12g}"), dim)
                             for v in range_points(start, stop, by, rng.geometric, steps).tolist())


def _number(expr: ir.Expr | None) -> tuple[float, tuple] | None:
    """(value in SI, dimension) of a number written as a literal, or a literal with a minus before it (`-4`)."""
    sign = 1.0
    if isinstance(expr, ir.Unary) and expr.op == "-":
        sign, expr = -1.0, expr.operand
    if isinstance(expr, ir.Num) and expr.dim is not None:
        return sign * expr.value, tuple(expr.dim)
    return None


def _refuse_two_names(cell: str, first: tuple[str, object], second: tuple[str, object]) -> None:
    """error[bad-option]: two overrides under different names (`w1.batch`, `batch`; `hardware.mem_bw`,
    `h100_sxm5.mem_bw`) set the same cell to different values; the last would win without a word."""
    from .usage_hints import quoted_assignment

    def said(target: str, raw: object) -> str:
        if from_the_command_line() and isinstance(raw, str):
            return f"--set {quoted_assignment(target, raw)}"
        return f"{API_OVERRIDE}{target!r}] = {raw!r}"

    raise UsageError(error("bad-option", f"{said(*first)} and {said(*second)} both set '{cell}' to different values",
                           hints=[f"give '{cell}' one value, under one of the names; the same value given again "
                                  "is taken"]))


def reads_no_cell(expr: ir.Expr) -> bool:
    """Whether a formula reads no name (`2*3 s`, `max(1, 2)`): its type is known without the roles a report binds."""
    from .linker import walk

    return not any(isinstance(node, ir.Ref) for node in walk(expr))


def _targets(blocks: dict[str, "Block"], target: str, report: "Block | None") -> list[tuple["Block", str]]:
    head, dot, name = target.partition(".")
    if not head or (dot and not name) or "." in name:
        raise UsageError(error("bad-override", f"cannot read the override target '{target}'",
                               hints=[override_key_help()]))
    roles = {name: list(binding.blocks) for name, binding in report_roles(report, blocks).items()} \
        if report is not None else {}
    if dot:
        if head in blocks:
            chosen = [blocks[head]]
        elif head in roles:
            chosen = [blocks[b] for b in dict.fromkeys(roles[head])]
        else:
            raise UsageError(error("bad-override", f"'{head}' in {origin(target)} is neither a block nor a role",
                                   hints=did_you_mean(head, list(blocks) + list(roles))
                                   + [available(list(roles) + list(blocks))]))
        for block in chosen:
            if name not in block.cells:
                raise UsageError(error("bad-override", f"'{block.name}' has no cell '{name}' ({origin(target)})",
                                       hints=did_you_mean(name, block.cells) + [available(block.cells)]))
        return [(block, name) for block in chosen]
    # A bare name: a cell of the report, else of a block the report binds to one role.
    found = []
    for role, names in roles.items():
        if role == "report" or len(names) != 1:
            continue
        block = blocks[names[0]]
        if head in block.cells:
            found.append((block, head))
    if report is not None and head in report.cells:
        if found and isinstance(report.cells[head].expr, ir.Str) and not report.cells[head].sweep:
            # The report's own text cell shadows a cell the cost model reads (`power_model` as a note on the About
            # sheet and as the workload's choice): say so rather than change the note and nothing else.
            block = found[0][0]
            raise UsageError(error(
                "ambiguous-override", f"'{head}' is a text cell of report '{report.name}' and a cell of "
                f"{block.kind} '{block.name}' ({origin(target)})",
                hints=[f"name the cell: --set {block.name}.{head}=... (what the formulas read) or "
                       f"--set {report.name}.{head}=... (the report's text)"]))
        return [(report, head)]
    if len(found) == 1:
        return found
    if len(found) > 1:
        raise UsageError(error("ambiguous-override", f"'{head}' is a cell of several bound blocks: "
                               + ", ".join(b.name for b, _ in found),
                               hints=["name the block: " + " or ".join(override_example(f"{b.name}.{head}", "...")
                                                                        for b, _ in found)]))
    candidates = list(report.cells) if report is not None else []
    for role, names in roles.items():
        if len(names) == 1 and role != "report":
            candidates.extend(blocks[names[0]].cells)
    # A cell of the blocks a role is swept over (`mem_bw` where the report sweeps hardware): a bare name would set
    # it on every one of them unseen; the role's name says so.
    swept = [(role, names) for role, names in roles.items()
             if len(names) > 1 and role != "report" and all(head in blocks[name].cells for name in names)]
    role_hints = [f"'{head}' is a cell of every block the role '{role}' is swept over: "
                  + override_example(f"{role}.{head}", "VALUE") + " sets it on each of them, "
                  + override_example(f"{names[0]}.{head}", "VALUE") + f" on '{names[0]}' only"
                  for role, names in swept]
    raise UsageError(error("bad-override", f"no cell '{head}' in the report or the blocks it binds ({origin(target)})",
                           hints=role_hints or did_you_mean(head, candidates) + [
                               "write BLOCK.CELL=VALUE for a cell of a block" if from_the_command_line() else
                               "name a cell of a block as 'BLOCK.CELL'"]))


def _new_cell(block: "Block", name: str, current: ir.Cell | None, raw: object, origin: str,
              texts: dict[str, str]) -> ir.Cell:
    span = ir.Span.model_construct(file=origin, line=1, col=1, end_line=1, end_col=2)
    holds_string = _holds_string(current)
    if isinstance(raw, str):
        text = raw
        texts[origin] = text
        try:
            value = parse_value(text, origin)
        except PerfError as exc:
            # Text that does not parse is taken as it is for a string setting (`--set hf_id=org/name`), but not a
            # quoted string with a bad escape: that is the .perf syntax, mistyped.
            if holds_string and not any(d.code == "bad-escape" for d in exc.diagnostics):
                value = [ir.Str.model_construct(value=text, span=span)]
            else:   # a bad value on the command line: exit status 2
                raise UsageError(_units_of_the_cell(exc.diagnostics, text, _current_dimension(block, current))) \
                    from None
        if holds_string and isinstance(value, list) and len(value) == 1 and not isinstance(value[0], ir.Str):
            value = [ir.Str.model_construct(value=text, span=span.model_copy(update={"end_col": len(text) + 1}))]
        elif holds_string and isinstance(value, list):
            # `--set power_model=tdp,utilisation`: in a string setting, a bare name is that string
            value = [ir.Str.model_construct(value=item.parts[0], span=item.span)
                     if isinstance(item, ir.Ref) and len(item.parts) == 1 else item for item in value]
    else:
        items = list(raw) if isinstance(raw, (list, tuple)) else [raw]
        value = [_python_value(item, span, origin, current) for item in items]
        text = ", ".join(str(item) for item in items)
        texts[origin] = text
    written = isinstance(raw, str)      # the values' spans are where they are written; a Python value's are not
    _check_literal_dimension(block, name, current, value, origin, text, written)
    _check_literal_kind(block, name, current, value, origin, text, written)
    was_sweep = current is not None and current.sweep
    declared = {}
    if current is not None and current.declared_dim is not None:
        declared = {"declared": current.declared, "declared_dim": current.declared_dim,
                    "declared_span": current.declared_span}
    elif current is not None and current.choices is not None:
        from .blocks import choice_fields

        declared = choice_fields(current)
    cell_span = current.span if current is not None else span
    if isinstance(value, ir.RangeExpr):
        return ir.Cell.model_construct(name=name, expr=value, text=text, span=cell_span, sweep=True, **declared)
    if len(value) == 1 and not was_sweep:
        return ir.Cell.model_construct(name=name, expr=value[0], text=text, span=cell_span, **declared)
    items = tuple(value)
    if len(items) == 1 and isinstance(items[0], ir.ListExpr):
        items = items[0].items
    return ir.Cell.model_construct(name=name, expr=ir.ListExpr.model_construct(items=items, span=span), text=text, span=cell_span, sweep=True,
                   **declared)


def _units_of_the_cell(diagnostics: list, text: str, dim) -> list:
    """The diagnostics of an override value that does not parse, an unknown unit's hint naming the units of the
    replaced cell's dimension `dim` first where it is known ('3.35 TBs' for a bandwidth: 'TB/s', not 'TB')."""
    if dim is None:
        return diagnostics
    from .units import unit_hint_for

    for diagnostic in diagnostics:
        loc = diagnostic.location
        if diagnostic.code != "unknown-unit" or loc is None or loc.line != 1 or not loc.col:
            continue
        written = text[loc.col - 1:]        # the whole unit: the caret marks it from its first character
        hint = unit_hint_for(written.split()[0] if written.split() else written, dim)
        if hint is not None:
            diagnostic.hints = [hint] + [h for h in diagnostic.hints if not h.startswith("did you mean")]
    return diagnostics


def _holds_string(current: ir.Cell | None) -> bool:
    """Whether the replaced cell is a string setting (a string, or a choice of strings): its value is taken as text."""
    return current is not None and (isinstance(current.expr, ir.Str)
                                    or (current.choices is not None and not current.choice_blocks))


def _python_value(item: object, span: ir.Span, origin: str, current: ir.Cell | None) -> ir.Expr:
    if isinstance(item, bool):
        return ir.Bool.model_construct(value=item, span=span)
    if isinstance(item, (int, float)):
        return ir.Num.model_construct(value=float(item), dim=(0,) * 6, text=repr(item), span=span)
    if isinstance(item, str):
        try:
            parsed = parse_value(item, origin)
        except PerfError as exc:
            raise UsageError(exc.diagnostics) from None
        if isinstance(parsed, list) and len(parsed) == 1:
            if _holds_string(current) and not isinstance(parsed[0], ir.Str):
                return ir.Str.model_construct(value=item, span=span)
            return parsed[0]
        raise UsageError(error("bad-override", f"cannot read '{item}' as one value ({origin})"))
    raise UsageError(error("bad-override", f"cannot use {type(item).__name__!r} values as cell values ({origin})",
                           hints=["give numbers, strings, booleans, or text in the .perf syntax"]))


def _current_dimension(block: "Block", current: ir.Cell | None):
    """The dimension the replaced cell has: declared, or written as a literal with a unit."""
    from .units import Dimension

    if current is None:
        return None
    if current.declared_dim is not None:
        return Dimension(current.declared_dim)
    expr = current.expr
    # A swept range (`sweep request_rate = 1 request/s .. 8 request/s by *2`) has the dimension of its ends.
    items = expr.items if isinstance(expr, ir.ListExpr) else (expr.start, expr.stop) \
        if isinstance(expr, ir.RangeExpr) else (expr,)
    dims = {Dimension(item.dim) for item in items if isinstance(item, ir.Num)}
    return dims.pop() if len(dims) == 1 and len(items) == len([i for i in items if isinstance(i, ir.Num)]) else None


def _rate_of_written(written: str | None, wanted) -> str | None:
    """The unit written, made a rate or a total to fit the dimension `wanted`, keeping its prefix: 'TB' -> 'TB/s'
    for a bandwidth (not the cell's own 'GB/s', 1000 times off for the number given), 'GB/s' -> 'GB' for a size,
    'kJ' -> 'kW' for a power (units.named_unit); None where neither fits."""
    from .units import UnitError, named_unit, parse_unit

    if not written:
        return None
    for candidate in (f"{written}/s", written[:-2] if written.endswith("/s") else None):
        try:
            if candidate and parse_unit(candidate).dim == wanted:
                return named_unit(candidate)
        except UnitError:
            continue
    return None


def _at_value(block: "Block", name: str, current: ir.Cell | None, item: ir.Expr, origin: str, text: str,
              written: bool):
    """Where an error about the value `item` of the override `origin` (its whole text `text`) over the cell `name`
    of `block` stands, as the checker locates one over a formula (Checker._check_set): the location, at the item
    where the text is written (`--set h.mem_bw:1:11` under `800 GB` of `900 GB/s, 800 GB`; the whole text for a
    Python value, whose items have no place of their own), the quoted line, the cell's path, and a note saying where
    the cell it replaces is defined. The keywords of errors.error."""
    from .errors import Location

    span = item.span
    if written and span is not None and span.file == origin and span.line >= 1:
        location, line = span.location(), (text.split("\n") + [""])[span.line - 1]
    else:
        location, line = Location(origin, 1, 1, len(text) + 1), text
    notes = [f"the cell is defined at {current.span.location()}"] \
        if current is not None and current.span is not None and not in_override(current.span.file) else []
    return {"location": location, "source_line": line, "path": block.cell_path(name), "notes": notes}


def _check_literal_dimension(block: "Block", name: str, current: ir.Cell | None, value, origin: str,
                             text: str, written: bool) -> None:
    """An override keeps the dimension of the cell it replaces: a literal of another dimension is a usage error,
    located at the value (_at_value)."""
    from .units import Dimension, dimension_name, written_in_hertz

    before = _current_dimension(block, current)
    if before is None:
        return
    items = [value.start, value.stop] if isinstance(value, ir.RangeExpr) else list(value)
    for item in items:
        if isinstance(item, ir.Num) and Dimension(item.dim) != before:
            after = Dimension(item.dim)
            written = current.expr.unit if current is not None and isinstance(current.expr, ir.Num) else None
            was = dimension_name(before, _current_in_hertz(current))      # a clock: Hz, a count per second: 1/s
            hint = dimension_help(f"{block.name}.{name}", item, before, written, was)
            raise UsageError(error("unit-mismatch", f"{origin}: '{text}' is "
                                   f"{dimension_name(after, written_in_hertz(item.unit))}, but "
                                   f"'{block.name}.{name}' is {was}", hints=[hint],
                                   **_at_value(block, name, current, item, origin, text, written)))


def _current_in_hertz(current: ir.Cell | None) -> bool:
    """Whether the replaced cell says Hz as it is written (declared in Hz, or a number or a swept value written in
    Hz: a clock, hertz.py), for how a message names its dimension."""
    from .linker import walk
    from .units import written_in_hertz

    if current is None:
        return False
    return written_in_hertz(current.declared) or any(
        isinstance(node, ir.Num) and written_in_hertz(node.unit)
        for node in (walk(current.expr) if current.expr is not None else ()))


def _check_literal_kind(block: "Block", name: str, current: ir.Cell | None, value, origin: str, text: str,
                        written: bool) -> None:
    """An override keeps the kind of the literal it replaces in the block that writes it (`--set h.x=true` over
    `x = 1`, which passed and showed `true` for a count: the checker compares an override only with a parent's cell,
    as for `extends`, and says so located at the --set where the cell is inherited): a boolean or string over a
    number, or a number over a boolean, is a usage error. A string setting takes any text as the string
    (_holds_string); a declared unit or a choice is the checker's to hold. Located at the value (_at_value)."""
    from .units import Dimension, dimension_name

    literal = (ir.Num, ir.Str, ir.Bool)
    if current is None or block.owner.get(name) != block.name or current.sweep or current.choices is not None \
            or current.declared_dim is not None or not isinstance(current.expr, literal) \
            or (isinstance(current.expr, ir.Num) and current.expr.dim is None):
        return
    before = current.expr
    items = [value.start, value.stop] if isinstance(value, ir.RangeExpr) else list(value)
    bad = next((item for item in items if isinstance(item, literal) and type(item) is not type(before)), None)
    if bad is None:
        return
    target = f"{block.name}.{name}"
    kinds = {ir.Bool: "a boolean", ir.Str: "a string"}
    was = kinds.get(type(before)) or dimension_name(Dimension(before.dim))
    if isinstance(before, ir.Bool):
        hint = "a boolean is written true or false, e.g. " + override_example(target, "true")
    else:
        hint = "give a number, e.g. " + override_example(target, before.text if " " not in before.text
                                                                     else f'"{before.text}"')
    raise UsageError(error("unit-mismatch", f"{origin}: '{text}' is {kinds.get(type(bad), 'a number')}, but "
                           f"'{target}' is {was}", hints=[hint, "an override keeps the type of the cell it replaces"],
                           **_at_value(block, name, current, bad, origin, text, written)))


def dimension_help(target: str, item: ir.Num, before, written: str | None, was: str) -> str:
    """The help for the number `item` given to the cell `target` of another dimension, `before` (named `was`,
    written in the unit `written`, None for a formula's cell: Checker._check_set): _unit_hint's, with the number as
    it is given and the unit to give it in (the cell's own, else one of its dimension, the given unit's prefix kept
    where a rate or a total of it fits: _rate_of_written)."""
    from .units import literal_unit

    # The number alone, as written before its unit: `4.8TB` (no space) is `4.8`, not `4.8TB` ("4.8TB TB/s").
    found = _NUMBER.match(item.text or "")
    number = found.group(0) if found else "..."
    unit = _rate_of_written(item.unit, before) or written or literal_unit(was)
    return _unit_hint(target, number, item, before, written, unit, was)


_NUMBER = re.compile(r"[-+]?(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][-+]?\d+)?")


def bare_number_forms(number: str, value: float, dim, unit: str | None, hertz: bool = False) -> list[str]:
    """A bare number given for a quantity of dimension `dim` (not a count, not a time: _unit_hint), written as the
    number meant: first the number read in SI, with the prefix its size takes (units.auto_unit: `6e12` for a
    bandwidth is "6 TB/s", 6e12 byte/s), then the number as written in `unit`, the unit the cell is written in
    (`6e12 GB/s`), where that is another size (not a unit of scale 1, the same value as the first)."""
    from .units import UnitError, auto_unit, literal_unit, parse_unit

    si, scale = auto_unit(dim, abs(value), hertz=hertz)
    forms = [f"{value / scale:.12g} {literal_unit(si)}"]
    try:
        other = unit is not None and not math.isclose(parse_unit(unit).scale, 1.0)
    except UnitError:
        other = False
    if other and f"{number} {literal_unit(unit)}" != forms[0]:
        forms.append(f"{number} {literal_unit(unit)}")
    return forms


def _unit_hint(target: str, number: str, item: ir.Num, before, written: str | None, unit: str, was: str) -> str:
    """The help for the number `item` (written `number`), of another dimension than the cell `target` (of dimension
    `before`, named `was`, written in the unit `written`, if any): a count takes the plain number; a time takes a
    number with its unit, shown in the unit the cell is written in and in the one below (a bare `1000` for a cell
    written in s was offered as "1000 s", 16 minutes where milliseconds were meant); another bare number is offered
    read in SI and in the unit the cell is written in (bare_number_forms: `6e12` for a bandwidth in GB/s was offered
    as "6e12 GB/s", 1e9 times the 6 TB/s meant): bare_number_help, as a file's is; else a number in `unit`."""
    if before.is_dimensionless and written in (None, "count", "1"):
        return f"'{target}' is a plain count: give the number alone, e.g. " + override_example(target, number)
    if item.unit is None and item.dim is not None:
        bare = bare_number_help(number, item.value, before, unit, was,
                                lambda value: override_example(target, f'"{value}"'))
        if bare is not None:
            return bare
    return f"give it a unit of {was}, e.g. " + override_example(target, f'"{number} {unit}"')


def bare_number_help(number: str, value: float, dim, unit: str | None, was: str, write) -> str | None:
    """The help for a number without a unit (`number`, of SI value `value`) given for a quantity of dimension `dim`
    (named `was`: `Hz` for a clock), the cell written in `unit` (else its dimension's name): `write` makes one
    value an example as the caller gives it (`--set h.mem_bw="4800 GB/s"`, or `mem_bw = 4800 GB/s` in a file), so
    that a file and --set offer the same readings. A time in `unit` and the one below (a bare `5` for a cell in ms
    may mean us); another quantity read in SI and in `unit` (bare_number_forms: a bare `4800` for a bandwidth the
    library writes in GB/s was offered in a file as `4800 byte/s` alone, 4.8 kB/s, and a ttft of 1.6e10 ms). None
    for a count, and where the only form is the number as it is (`4800 B/s` for a cell in B/s)."""
    from .units import TIME, literal_unit, smaller_unit

    if dim.is_dimensionless:
        return None
    unit = unit or literal_unit(was)
    if dim == TIME:
        forms = [f"{number} {literal_unit(form)}" for form in (smaller_unit(unit), unit) if form]
        return f"'{number}' has no unit: write the one meant, e.g. " + " or ".join(write(form) for form in forms)
    forms = bare_number_forms(number, value, dim, unit, hertz=was == "Hz")
    read = f" ({number} read in {was})" if not forms[0].startswith(f"{number} ") else ""
    if not read and len(forms) == 1:        # one form, the number as it is: the caller's plain help
        return None
    return f"'{number}' has no unit: write the one meant, e.g. {write(forms[0])}{read}" \
        + "".join(f" or {write(form)}" for form in forms[1:])
