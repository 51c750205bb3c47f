"""What a workbook section estimated, in words a reader needs before the numbers: the workload, the precision, the
software stack, the cost model (with a version) and the sweep's values in that section.

Everything is read from the specs, never guessed: the workload block's own cells (what it sets over its parent),
the blocks bound to the roles `precision` (its bytes and matmul format) and `stack` (named with their labels; without
the roles: the workload's precision cells, names ending in `_bytes` or `_peak`), the report's option `stack_note`
(a text, after the bound stack block where there is one), and the files of the cost-model blocks the estimates
used, with the first 12 hex digits of each file's SHA-256 as its version (it changes whenever the file does). The
cost-model blocks are named in one order, that in which a fresh evaluation finishes them (evaluation_cells), whether
the report was evaluated whole (once or again) or its question answered in chunks.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
import re

import numpy as np

from . import __version__, ir
from .errors import in_override
from .result import Result

PRECISION_CELL = re.compile(r"(_bytes|_peak)$|^(precision|dtype)$")
NOT_STATED = ("not stated by the report (bind the role `stack` to a block of software/stacks.perf, or add the "
              "option `stack_note = \"...\"`)")
LIST_LIMIT = 8


def shown_path(file: str) -> str:
    """A spec file's name as the workbook shows it, which people forward: as diagnostics show it (loader.display_path),
    relative to the working folder where the file is under it, absolute only where it is outside. The name a span
    carries was made when the file was loaded; a program loaded by absolute path, or before a change of folder (a
    notebook), is shown relative to the folder the workbook is written from. An in-memory name (`--set model`) is
    kept as it is."""
    from .loader import display_path

    return display_path(Path(file)) if os.path.isabs(file) else file


def file_version(path: str) -> str:
    """'sha256 0123456789ab' of a file's bytes; 'unreadable' where it cannot be read (an in-memory text)."""
    try:
        with open(path, "rb") as handle:
            return "sha256 " + hashlib.sha256(handle.read()).hexdigest()[:12]
    except OSError:
        return "in memory"


def _cell_text(cell: ir.Cell) -> str:
    return " ".join((cell.text or "").split()) if cell.expr is not None else f"(declared {cell.declared})"


def _override_of(cell: ir.Cell) -> str:
    """' (from --set seq_len)' where an override gave the cell its value (`--set seq_len=1024` on the command line,
    ` (from overrides['seq_len'])` through the API), as diagnostics locate it; '' for a cell as a file wrote it."""
    if cell.expr is None or not in_override(cell.expr.span.file):
        return ""
    return f" (from {cell.expr.span.file})"


def _values_text(values: list, order: list | None = None) -> str:
    # A question's group with no answer has no point, so no axis value (None, NaN): not a value of the sweep.
    unique = list(dict.fromkeys(v for v in values if v is not None and v == v))
    if order is not None:       # in the sweep's own order, not the rows' (a `where`, a question: `tp = 2, 4, 1`)
        rank = {value: index for index, value in enumerate(order)}
        unique.sort(key=lambda v: rank.get(v, len(rank)))
    shown = ", ".join(str(v) for v in unique[:LIST_LIMIT])
    return shown + (f" ... ({len(unique)} values)" if len(unique) > LIST_LIMIT else "")


def evaluation_cells(program, ctx, link) -> list[tuple[str, str]]:
    """The (block, cell) pairs an evaluation of the report reads (its shown cells, its `where` and question, and the
    calibration's low and high where the role `spread` is bound: read beside the estimates), in chunks.reading_order:
    the order the Cost model line names their blocks in, for a whole evaluation and an answer merged from chunks
    alike."""
    from .chunks import reading_order
    from .intervals import ROLE
    from .program import evaluation_roots

    roots = evaluation_roots(link, ctx)
    spread = ctx.fixed_roles.get(ROLE)
    if spread is not None:
        roots += [(spread, cell) for cell in program.blocks[spread].cells]
    return reading_order(link, ctx, roots)


def setup_lines(result: Result, points: list[int], axis_columns: dict[str, np.ndarray], title: str | None = None,
                read: list[tuple[str, str]] | None = None,
                order: list[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    """(label, text) lines for the section `title` (the report cell `section`'s text; None: the one section) made of
    the rows `points` (flat indexes). `read`: the (block, cell) pairs the estimates read, whose cost-model blocks the
    Cost model line names; by default those `result`'s evaluator computed (an answer merged from chunks has no
    evaluator of its own: workbook_answer.py gives those its cells can read). `order`: evaluation_cells, whose
    order the blocks are named in (by default found from `result`'s evaluator's link); the evaluator's memo has
    them in the order that evaluation met them, which differs between a first evaluation and a later one (a
    constant cell kept from the first is met at its first read) and from the chunks' order."""
    ctx = result.ctx
    blocks = result.program.blocks
    sweep_order = _sweep_orders(ctx)
    swept_here = {key: _values_text([axis_columns[key][i] for i in points], sweep_order.get(key))
                  for key in axis_columns}
    # The workload says what was swept in this section, one way whatever its rows are (every point, the points a
    # `where` keeps, a question's answers): a sweep as written (`sweep tp = [1, 2, 4]`), or where the section's
    # points take only some of its values (`section` splits on it), those (`n_gpus = 1`); the last line says which
    # values this section's rows take, in the sweep's order. (With `where` it listed the rows' values in row order,
    # `tp = 2, 4, 1`, while a question wrote the sweep.)
    taken = _section_values(result, title)
    answers = result.rows is not None and bool(ctx.report.questions)
    lines: list[tuple[str, str]] = []
    workload_name = ctx.fixed_roles.get("workload")
    if workload_name is not None:
        workload = blocks[workload_name]
        own = []
        for name, cell in workload.cells.items():
            if workload.owner.get(name, workload.name) != workload.name:
                continue
            given = _override_of(cell)
            if cell.sweep and name in taken:
                own.append(f"{name} = {taken[name]}" + given)
            elif cell.sweep and not (given and len(getattr(cell.expr, "items", ())) == 1):
                own.append(f"sweep {name} = {_cell_text(cell)}" + given)
            else:       # one value, or an override of a swept cell with one (`--set seq_len=1024`): no sweep
                own.append(f"{name} = {_cell_text(cell)}" + given)
        parent = f" (extends {workload.parent})" if workload.parent else ""
        lines.append(("Workload", f"{workload_name}{parent}: " + "; ".join(own)))
        precision = [f"{name} = {_cell_text(cell)}" for name, cell in workload.cells.items()
                     if PRECISION_CELL.search(name)]
        if "precision" in ctx.fixed_roles or "precision" in ctx.swept_roles:
            lines.append(("Precision", _role_text(ctx, blocks, "precision", PRECISION_ROLE_CELLS)))
        elif precision:
            lines.append(("Precision", "; ".join(precision)))
    lines.append(("Stack", _stack_text(ctx, blocks)))
    by_file: dict[str, list[str]] = {}
    # The constants too (as workbook_export.input_cells): a later evaluation of the program takes a cost model's
    # constant cells from them without putting them in its memo.
    if read is None:
        constants = result.evaluator.constants
        read = list(result.evaluator.memo) + (list(constants.values) if constants is not None else [])
    if order is None:
        order = evaluation_cells(result.program, ctx, result.evaluator.link)
    rank: dict[str, int] = {}
    for block_name, _ in order:
        rank.setdefault(block_name, len(rank))
    for block_name in sorted(dict.fromkeys(key[0] for key in read), key=lambda name: rank.get(name, len(rank))):
        block = blocks[block_name]
        if block.kind == "costmodel":
            by_file.setdefault(os.path.normpath(block.file), []).append(block_name)
    if by_file:
        lines.append(("Cost model", "; ".join(f"{', '.join(names)}: {shown_path(path)} ({file_version(path)})"
                                              for path, names in by_file.items())
                      + f"; evaluated by perfdsl {__version__}"))
    axes = [f"{key}: {text}" for key, text in swept_here.items()]
    if axes and answers:
        lines.append(("Answers", f"{len(points):,} rows, the question's answers; their points take " + "; ".join(axes)))
    elif axes:
        lines.append(("Sweep", f"{len(points):,} points; " + "; ".join(axes)))
    return lines


def _section_values(result: Result, title: str | None) -> dict[str, str]:
    """The swept cells of which the section `title`'s sweep points (before `where` and questions: what was searched)
    take only some values, each with those values in the sweep's order (`_values_text`); {} where the report has no
    `section` cell (every point is in the one section)."""
    ctx = result.ctx
    cell = ctx.report.cells.get("section")
    if title is None or cell is None or cell.expr is None or not ctx.shape:
        return {}
    evaluator = result.evaluator
    texts = np.broadcast_to(evaluator._rank(evaluator.run(lambda: evaluator.cell(ctx.report, "section"))), ctx.shape)
    positions = np.nonzero(texts == title)
    taken = {}
    for axis in ctx.axes:
        indexes = np.unique(positions[axis.index])
        for coord in axis.coords:
            values = coord.output_values()
            if len(indexes) < len(values):
                unit = f" {coord.unit}" if coord.kind == "num" and coord.unit else ""
                taken[coord.name] = _values_text(values[indexes].tolist()) + unit
    return taken


def _sweep_orders(ctx) -> dict[str, list]:
    """Each axis coordinate's values in the sweep's order, keyed as the rows' columns are (result.coord_columns)."""
    from .result import key_with_unit

    return {key_with_unit(coord.name, coord.unit if coord.kind == "num" else ""): coord.output_values().tolist()
            for axis in ctx.axes for coord in axis.coords}


PRECISION_ROLE_CELLS = ("weight_bytes", "act_bytes", "kv_bytes", "matmul_format")


def _role_text(ctx, blocks, role: str, cells: tuple[str, ...]) -> str:
    """The block(s) a role binds, each as `NAME (LABEL)` and, for one block, the named cells as written: the
    precision `fp16 (FP16): weight_bytes = 2 byte; ...`, the stack `hf_eager_profiled (transformers ...)`."""
    names = [ctx.fixed_roles[role]] if role in ctx.fixed_roles else list(ctx.role_blocks(role))

    def named(name: str) -> str:
        label = blocks[name].cells.get("label")
        return f"{name} ({label.expr.value})" if label is not None and isinstance(label.expr, ir.Str) else name

    if len(names) != 1:
        return ", ".join(named(name) for name in names)
    block = blocks[names[0]]
    shown = [f"{cell} = {_cell_text(block.cells[cell])}" for cell in cells if cell in block.cells]
    return named(names[0]) + (": " + "; ".join(shown) if shown else "")


def _stack_text(ctx, blocks) -> str:
    """The stack the estimates stand for: the block(s) the role `stack` binds (`vllm (vLLM)`; the swept ones by
    name), then the report's `stack_note` as written (`; ` between the two); NOT_STATED where there is neither."""
    parts = []
    if "stack" in ctx.fixed_roles:
        parts.append(_role_text(ctx, blocks, "stack", ()))
    elif "stack" in ctx.swept_roles:
        parts.append(", ".join(ctx.role_blocks("stack")))
    note = ctx.report.cells.get("stack_note")
    if note is not None and isinstance(note.expr, ir.Str):
        parts.append(note.expr.value)
    return "; ".join(parts) or NOT_STATED


def row_note_lines(section) -> list[str]:
    """Each distinct row note of a section (the report cell `note`), sorted, led by the rows it applies to: their
    count and the identifying columns that single them out (those whose values on these rows are not all the
    section's), so that several notes under one label say which is which:
    "2 rows (Model facebook/opt-1.3b, facebook/opt-6.7b; Device NVIDIA RTX A5000): Memory not explained ...".
    A note of every row says "Every row"."""
    rows = section.rows
    lines = []
    for note in sorted({row.note for row in rows if row.note}):
        noted = [row for row in rows if row.note == note]
        if len(noted) == len(rows):
            lines.append(f"Every row: {note}")
            continue
        named = []
        for column in section.id_columns:
            values = list(dict.fromkeys(row.identity.get(column) for row in noted))
            # A column these rows leave empty does not name them: a question's group with no answer has values
            # only in the group's columns (`model qwen2_5_72b; hardware l40s`), none for the point's (batch, tp).
            if set(values) != {row.identity.get(column) for row in rows} and _values_text(values):
                named.append(f"{column} {_values_text(values)}")
        count = f"{len(noted)} row" + ("s" if len(noted) > 1 else "")
        lines.append(f"{count} ({'; '.join(named)}): {note}" if named else f"{count}: {note}")
    return lines

