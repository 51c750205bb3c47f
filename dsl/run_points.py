"""Sweep points taken from the runs themselves (a report with `points = "runs"`).

Before evaluation, each identifying field of the runs becomes a sweep of the report: a field named like a role the
report binds (`model`, `hardware`, `stack`, `precision` ...) sweeps over the library blocks of that role's kind the
runs name (by block name or `label` / `hf_id`), and plain fields (`batch`,
`seq_len`, `n_gpus` ...) sweep the cell of that name in the report or in a block it binds, over the values the
runs have. After matching, only the points some run matched are kept, so the report has one row per run.
An override given on the command line (`--set`) wins over what the runs say.
"""

from __future__ import annotations

from typing import Mapping

from .blocks import Block
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
    """The blocks of a kind whose name or label (matching.LABEL_CELLS) equals one of the values, in the runs' order."""
    by_label = block_aliases(program, [name for name, block in program.blocks.items() if block.kind == kind])
    found = []
    for value in values:
        name = by_label.get(str(value).strip().lower())
        if name is not None and name not in found:
            found.append(name)
    return found
