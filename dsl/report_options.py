"""Report options (part of stage 3c, checking): the cells of a report that say how it is evaluated and shown.

One schema (name, kind, the choices or the form of the value, default, documentation) serves three readers:
`perfdsl check` validates every option of every report with located errors and did-you-mean hints
(`check_report_options`, called by Program's report check); the stages that use an option read it through
`option_value` (matching, run points, the workbook, constraints), which raises the same diagnostic; and
docs/LANGUAGE.md carries `markdown_table()` (a test keeps the two equal).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import ir
from .choices import CHOICE_CODE, describe_options, did_you_mean_option, not_one_of
from .errors import PerfError, near_miss, suggest
from .units import UnitError, parse_unit


@dataclass(frozen=True)
class ReportOption:
    """One report option. `kind`: "choice" (one of `choices`), "paths" (a string or a list of strings),
    "unit pairs" (a string `"WRITTEN=MEANT, ..."`), "string formula" (a string per sweep point) or "text" (one
    string, shown as written)."""

    name: str
    kind: str
    doc: str
    default: str | None = None
    choices: tuple[tuple[str, str], ...] = ()           # (value, what it means)

    @property
    def values(self) -> tuple[str, ...]:
        """The values a "choice" option allows, in the order declared; () for the other kinds."""
        return tuple(value for value, _ in self.choices)

    def form(self) -> str:
        """The value's form, in words with an example (hints quote it; the docs' table too)."""
        if self.kind == "choice":
            return " | ".join(f'"{value}"' for value in self.values)
        return {"paths": "a string or a list of strings, relative to the report's file: \"runs.csv\" or "
                         '["a.csv", "b.jsonl"]',
                "unit pairs": 'a string of WRITTEN=MEANT unit pairs: "GB=GiB, MB=MiB"',
                "string formula": 'a string formula: if(workload.n_gpus > 1, "Multi GPU", "Single GPU")',
                "text": 'a string: "eager transformers (PyTorch 2.1), device time"'}[self.kind]


OPTIONS: dict[str, ReportOption] = {option.name: option for option in (
    ReportOption("measured", "paths", "run logs (perfdsl CSV or any format `perfdsl ingest` reads), relative to "
                 "the report's file, whose runs are set beside the estimates (`--measured` names others instead, `--add-measured` more)"),
    ReportOption("points", "choice", "which sweep points the report has", "sweep",
                 (("sweep", "every point of the sweep"),
                  ("runs", "the points the runs of `measured` have: each identifying field of the runs becomes a "
                           "sweep, and only the points a run matched are kept"))),
    ReportOption("error_convention", "choice", "how the error of an estimate is computed", "measured",
                 (("measured", "(estimated - measured) / measured"),
                  ("estimated", "(estimated - measured) / estimated, as the seed table does"))),
    ReportOption("measured_unit_aliases", "unit pairs", "units the run logs mislabelled: a value a log writes in "
                 "WRITTEN is read as MEANT (the two of one dimension), and the workbook says so"),
    ReportOption("section", "string formula", "the workbook sheet each sweep point goes on (without it, one sheet "
                 "named after the report)"),
    ReportOption("note", "string formula", "a note on each sweep point's workbook row, such as why its estimates are "
                 "known to miss (an empty string: no note)"),
    ReportOption("stack_note", "text", "the software stack the estimates stand for, in words, stated on the "
                 "workbook's Setup sheet (after the block where the role `stack` binds one, which the Setup names "
                 "with its label)"),
    ReportOption("invalid_points", "choice", "what happens to the sweep points that break a `require`", "omit",
                 (("omit", "they are left out of the results, with one warning per constraint"),
                  ("mark", "they are kept, with the columns `valid` (false) and `violates` (the constraints' "
                           "messages)"))),
)}


def markdown_table() -> str:
    """The table of report options that docs/LANGUAGE.md shows (tests/test_report_options.py keeps them equal)."""
    lines = ["| option | value | default | what it does |", "|---|---|---|---|"]
    for option in OPTIONS.values():
        doc = option.doc[:1].upper() + option.doc[1:]
        if option.choices:
            doc += ": " + "; ".join(f'`"{value}"`: {meaning}' for value, meaning in option.choices)
        default = f'`"{option.default}"`' if option.default is not None else "none"
        lines.append(f"| `{option.name}` | {option.form().replace('|', chr(92) + '|')} | {default} | {doc} |")
    return "\n".join(lines)


# -- checking ------------------------------------------------------------------------------------------------------

def check_report_options(checker, report) -> None:
    """Report every bad report option of `report` (a resolved Block) through `checker.report`, and warn about a
    report cell whose name is close to an option's (`error_conventon`): it is an ordinary cell, not an option."""
    path_of = report.cell_path
    for name, cell in report.cells.items():
        option = OPTIONS.get(name)
        if option is None:
            # Only text can be a misspelt option's value: the role bindings and formulas are not looked up (difflib
            # over every cell of every report cost a check of the libraries about 7 ms).
            close = suggest(name, OPTIONS, limit=1) if _is_constant_text(cell.expr) else []
            if close and near_miss(name, close[0]):
                checker.report("unknown-option", f"'{name}' is not a report option, so it changes nothing",
                               cell.span, path=path_of(name), severity="warning",
                               hints=[f"did you mean '{close[0]}'?"])
            continue
        for code, message, span, hints in _problems(option, cell):
            checker.report(code, message, span, path=path_of(name), hints=hints)
        if option.kind == "string formula" and cell.expr is not None:
            vtype = checker.cell_type(report, name)
            if vtype.kind not in ("str", "unknown"):
                checker.report("bad-report-option", f"'{name}' is a string formula, but it gives "
                               f"{checker.as_written(vtype, cell.expr, report).describe()}",
                               cell.expr.span, path=path_of(name), hints=[option.form()])


def option_value(sources, report, name: str):
    """The value of a choice or unit-pairs option of `report` (its default where the report does not give it);
    for "paths", the list of strings. Raises PerfError for a bad value, with the diagnostics `check` gives for
    every bad option of the report (so `eval` too reports them all at once)."""
    option = OPTIONS[name]
    cell = report.cells.get(name)
    if cell is None or cell.expr is None:
        return [] if option.kind == "paths" else option.default
    if _problems(option, cell):
        raise PerfError([sources.diag(code, message, span, path=report.cell_path(other), hints=hints)
                         for other, other_cell in report.cells.items() if other in OPTIONS
                         for code, message, span, hints in _problems(OPTIONS[other], other_cell)])
    if option.kind == "paths":
        items = cell.expr.items if isinstance(cell.expr, ir.ListExpr) else (cell.expr,)
        return [item.value for item in items]
    return cell.expr.value


def unit_alias_factors(text: str) -> dict[str, float]:
    """`"GB=GiB, MB=MiB"` -> {"GB": 2**30 / 1e9, "MB": 2**20 / 1e6}: the factor from the unit written to the unit
    meant. Raises ValueError with the reason for a pair that cannot be read or whose units differ in dimension."""
    factors = {}
    for pair in text.split(","):
        written, sep, meant = (part.strip() for part in pair.partition("="))
        try:
            if not sep:
                raise UnitError(f"cannot read '{pair.strip()}'")
            old, new = parse_unit(written), parse_unit(meant)
        except UnitError as exc:
            raise ValueError(exc.message) from None
        if old.dim != new.dim:
            raise ValueError(f"{written} and {meant} have different dimensions")
        factors[written] = new.scale / old.scale
    return factors


def _problems(option: ReportOption, cell: ir.Cell) -> list[tuple[str, str, ir.Span, list[str]]]:
    """(code, message, span, hints) for each thing wrong with an option's value."""
    expr = cell.expr
    if expr is None or option.kind == "string formula":
        return []
    if option.kind == "text" and (cell.choices or isinstance(expr, (ir.Ref, ir.ListExpr))):
        return []       # `stack` bound to a block (a software-stack role), not written as text
    if option.kind == "paths":
        items = expr.items if isinstance(expr, ir.ListExpr) else (expr,)
        return [("bad-report-option", f"'{option.name}' names run logs: a string or a list of strings", item.span,
                 [option.form()]) for item in items if not isinstance(item, ir.Str)][:1]
    if not isinstance(expr, ir.Str):
        what = "a string" if option.kind in ("unit pairs", "text") else f"one of {describe_options(option.values)}"
        return [("bad-report-option", f"'{option.name}' is {what}, written as it is (not a formula)", expr.span,
                 [option.form()])]
    if option.kind == "choice":
        if expr.value in option.values:
            return []
        meanings = [f'"{value}": {meaning}' for value, meaning in option.choices]
        return [(CHOICE_CODE, not_one_of(option.name, expr.value, option.values), expr.span,
                 did_you_mean_option(expr.value, option.values) + meanings)]
    if option.kind == "text":
        return []
    try:
        unit_alias_factors(expr.value)
    except ValueError as exc:
        return [("bad-report-option", f"{option.name}: {exc}", expr.span, [option.form()])]
    return []


def _is_constant_text(expr) -> bool:
    items = expr.items if isinstance(expr, ir.ListExpr) else (expr,)
    return expr is not None and all(isinstance(item, ir.Str) for item in items)
