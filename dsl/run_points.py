"""Sweep points taken from the runs themselves (a report with `points = "runs"`).

Before evaluation, each identifying field of the runs becomes a sweep of the report: a field named like a role the
report binds (`model`, `hardware`, `stack`, `precision` ...) sweeps over the library blocks of that role's kind the
runs name (by block name or `label` / `hf_id`), and plain fields (`batch`,
`seq_len`, `n_gpus` ...) sweep the cell of that name in the report or in a block it binds, over the values the
runs have. After matching, only the points some run matched are kept, so the report has one row per run.
An override given on the command line (`--set`) wins over what the runs say.

The sweep is the product of those axes, so it holds points no run asks for: `n_gpus` and `tp` are separate axes,
and (n_gpus=1, tp=2) breaks the whole-replica constraint. The constraints' warnings count the points the runs ask
for (at_runs_points), not the product's: a constraint broken only at points no run asks for is not reported.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping

import numpy as np

from .blocks import Block
from .constraints import CODE as CONSTRAINT, EXAMPLES, Examples
from .errors import Diagnostic
from .matching import ALIASES, block_aliases, points_option
from .linker import report_roles


def overrides_from_runs(program, report_name: str | None, logs: list[str], user_overrides: Mapping[str, object],
                        load_runs=None) -> dict[str, object]:
    """Overrides that make the report's sweep cover the runs' identifying values ({} without `points = "runs"`).

    `logs` are the run logs to read; `load_runs(paths)` reads them (default: perfdsl.runlogs.load_runs).
    """
    if not program.reports or not logs:
        return {}
    report = program.blocks[program._pick_report(report_name)]
    if points_option(program, report) != "runs":
        return {}
    if load_runs is None:
        from .runlogs import load_runs

    paths = list(logs)
    runs = load_runs(paths).records
    overrides: dict[str, object] = {}
    bound = _bound_blocks(program, report)
    roles = report_roles(report, program.blocks)
    for key in sorted({k for run in runs for k in run.identity}):
        values = [run.identity[key] for run in runs if key in run.identity]
        if key in roles and key != "report":
            kind = program.blocks[roles[key].blocks[0]].kind
            names = _blocks_named(program, kind, values)
            if names and key not in user_overrides:
                overrides[key] = ", ".join(names)
            continue
        for alias in ALIASES.get(key, (key,)):
            target = next((b for b in bound if alias in b.cells), None)
            if target is None:
                continue
            name = alias if target is report else f"{target.name}.{alias}"
            if name in user_overrides or alias in user_overrides:
                break
            unique = sorted({v for v in values if isinstance(v, (int, float))})
            if unique and len(unique) == len({v for v in values}):
                overrides[name] = unique
            break
    return overrides


def _bound_blocks(program, report: Block) -> list[Block]:
    """The report and the blocks it binds to a role that is not swept (their cells can become sweeps)."""
    return [report] + [program.blocks[binding.blocks[0]] for name, binding in report_roles(report, program.blocks).items()
                       if name != "report" and not binding.swept]


def _blocks_named(program, kind: str, values: list) -> list[str]:
    """The blocks of a kind whose name or label (matching.LABEL_CELLS) equals one of the values, in the runs' order;
    every block a label names where several share it (the run is then an ambiguous match, which matching reports)."""
    by_label = block_aliases(program, [name for name, block in program.blocks.items() if block.kind == kind])
    found = []
    for value in values:
        for name in by_label.get(str(value).strip().lower(), ()):
            if name not in found:
                found.append(name)
    return found


def at_runs_points(result, asked: np.ndarray) -> list[Diagnostic]:
    """The result's warnings with each broken constraint's counted over the points the runs ask for (`asked`, flat
    over the sweep: matching.Comparison.asked) instead of every point of the sweep the runs' values span: "K of M
    sweep points break it" where M points are asked for and K of them break it, quoting the first of those; a
    constraint that no asked point breaks is left out. Other warnings are kept as they are."""
    shape = result.shape
    by_key = {(CONSTRAINT, span.file, span.line, span.col): violation for violation in result.violations
              for span in [violation.require.condition.span]}
    kept = []
    for diag in result.warnings:
        violation = by_key.get(diag.tally.key) if diag.code == CONSTRAINT and diag.tally is not None else None
        if violation is None:
            kept.append(diag)
            continue
        broken = np.broadcast_to(violation.broken, shape) & asked.reshape(shape)
        count = int(np.count_nonzero(broken))
        if count == 0:
            continue
        # Named as the whole evaluation names them: along the axes the constraint varies along only.
        along = tuple(axis for axis, n in enumerate(violation.broken.shape) if n == 1 and shape[axis] > 1)
        reduced = np.logical_or.reduce(broken, axis=along, keepdims=True) if along else broken
        points = tuple(result.evaluator.describe_point(tuple(int(i) for i in index), reduced.shape, {})
                       for index in np.argwhere(reduced)[:EXAMPLES])
        examples = Examples(points, int(np.count_nonzero(reduced)) > len(points))
        tally = replace(diag.tally, count=count, total=int(np.count_nonzero(asked)))
        others = diag.notes[1:] if getattr(diag, "examples", None) is not None else diag.notes
        notes = others if points == ("every sweep point",) else [examples.note(), *others]
        recounted = replace(diag, message=tally.text(), notes=notes, tally=tally)
        recounted.examples = examples       # as constraints.py gives it (the first note's points)
        kept.append(recounted)
    return kept


def matched_points(comparison) -> np.ndarray | None:
    """The flat sweep indices of the points the runs matched, in the order of eval's rows (sweep order), for a report
    with `points = "runs"`: the points eval shows, which `explain` and `plot` use too. None where the comparison does
    not keep points (no comparison, no logs, or `points = "sweep"`)."""
    if comparison is None or comparison.keep is None:
        return None
    keep = np.asarray(comparison.keep, dtype=bool)
    rows = comparison.result.rows
    flat = rows.index[keep] if rows is not None else np.flatnonzero(keep)
    return np.asarray(flat, dtype=np.int64)


def matched_before_rows(comparison) -> np.ndarray | None:
    """The flat sweep indices of every point some run matched, in sweep order, before a `where` or a question keeps
    eval's rows of them (matched_points gives those rows): with `where batch <= 4`, the runs at batch 8 are here and
    not in matched_points, so `plot` and `explain` can say "2 of 3 runs' points: where batch <= 4". The points a run
    names that break a constraint are not among them (no estimate stands there: matching._match). None where
    matched_points is None."""
    if matched_points(comparison) is None or comparison.asked is None:
        return None
    result = comparison.result
    valid = np.broadcast_to(result.valid, result.shape).reshape(-1)
    return np.flatnonzero(np.asarray(comparison.asked, dtype=bool) & valid).astype(np.int64)


def runs_not_read(program, report: Block) -> list[Diagnostic]:
    """A warning (`runs-not-read`) for Program.evaluate of a report with `points = "runs"`: it evaluates the sweep
    as written (the product, not the runs' points: no log is read there), at the report's `points` line; [] for
    any other report. perfdsl.evaluate_with_runs reads the runs (and gives no such warning)."""
    if points_option(program, report) != "runs":
        return []
    cell = report.cells["points"]
    found = program.sources.diag(
        "runs-not-read", f"report '{report.name}' takes its points from the runs (points = \"runs\"), but "
        "Program.evaluate reads no run: this is the report's whole sweep as written", cell.span,
        path=report.cell_path("points"),
        hints=["perfdsl.evaluate_with_runs(program, report) reads the runs and keeps their points, as `perfdsl "
               "eval` does"])
    return [replace(found, severity="warning")]
