"""Live workbook, pure part (`perfdsl eval --live`): a report's cost model as Excel formulas, and where each goes.

The workbook then answers "what if the GPU had 20% more bandwidth?" without perfdsl: a reader edits a figure on the
Inputs sheet and every estimate, its Error and the Summary move. Three sheets carry the model:

- **Inputs**: every cell that a shown value depends on, that holds one value for the whole report and whose formula
  reads no other cell (datasheet figures, model sizes, workload settings, constants of the cost model): a literal
  (`768 GB/s`), or arithmetic of constants (`64 TB/s / 8`, `2 * 3350 GB/s`), whose value perfdsl computes (8 TB/s,
  6700 GB/s: in the unit its numbers are written in, as the ordinary workbook's Inputs sheet shows it). Each row: the
  value, its unit, the factor to SI, the SI value (`= value x factor`), the SI unit, the `.perf` formula, `file:line`
  and the comment written beside the figure there (where it comes from: "gpus.csv: 768"). Each SI value is an Excel
  defined name `block.cell` (`rtx_a6000.mem_bw`): the cell to edit.
- **Derived**: cells computed once for the report from other cells (`opt_1_3b.params`, `b200.interconnect_bw =
  nvlink_bw / 2`), each a defined name whose formula reads other names, the `.perf` formula, `file:line` and comment
  beside it.
- **Calculation**: one row per cell whose value changes over the sweep (the cost model's cells, the workload's),
  one column per sweep point. The first rows are the point's axes (its model, GPU, batch ...; editable, in SI), then
  the shown values in the report's display units, then the cells in `.perf` order. A formula reads the inputs of
  its own point's model, GPU and workload by name (`=rtx_a6000.bandwidth_efficiency*rtx_a6000.mem_bw`) and the
  other cells of its point by reference into its own column (`E31`), whose row carries the `.perf` name in column A.
  Per-point cells are not names: a name standing for a row would need implicit intersection, which Excel 365,
  LibreOffice and the `formulas` engine treat differently.

Units: SI throughout, with the unit beside every value, except where a person reads or types a figure: the Inputs
sheet's Value column (the unit as written: 768 GB/s) and the shown rows (the report's display unit: ms). Both
conversions are visible numbers: the Inputs sheet's factor column and the divisor in a shown row (`=E40/0.001`); a
literal with a unit inside a formula is written as its number times its factor (`38*1E-06` for `38 us`).

Operators and functions take their Excel form from their own tables (`operators.OPERATORS`, `functions.FUNCTIONS`);
one without a form is refused by name (`no-excel-form`), never dropped. Strings are compared with EXACT, as `==` is
case-sensitive in perfdsl and `=` is not in Excel. Size: at most LIVE_MAX_FORMULAS formula cells on the Calculation
sheet (points x cells that vary) and LIVE_MAX_POINTS points (one column each); beyond, `too-large-for-live`.

This module never imports openpyxl; `workbook_live` writes what it plans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from . import ir
from .errors import UsageError, error
from .functions import FUNCTIONS
from .hertz import cell_in_hertz
from .input_units import display_unit, plain_number
from .linker import refs_of
from .operators import OPERATORS, UNARY
from .units import DIMENSIONLESS, parse_unit, si_unit_name, written_in_hertz
from .workbook_layout import column_letter
from .workbook_live_values import cache_live_values, constant_value
from .workbook_setup import shown_path

# Formula cells on the Calculation sheet (points x cells that vary): the seed report has 24 x 81 = 1,944; a capacity
# question of 288 points 288 x 99 = 28,512, which LibreOffice recalculates in a few seconds. openpyxl writes about
# 20,000 cells a second, so the limit keeps a live workbook to some ten seconds of writing.
LIVE_MAX_FORMULAS = 200_000
LIVE_MAX_POINTS = 16_000             # one column per point; an Excel sheet holds 16,384 columns
EXCEL_MAX_FORMULA = 8_192            # characters in one formula
INPUTS, DERIVED, CALCULATION = "Inputs", "Derived", "Calculation"
LIVE_SHEETS = (DERIVED, CALCULATION)
# "Comment" is the ordinary workbook's header (workbook.INPUT_HEADERS) for the same text: where a figure comes from.
INPUT_HEADERS = ("Cell", "Kind", "Value", "Unit", "Factor to SI", "SI value", "SI unit", "Formula (.perf)",
                 "Defined at", "Comment")
DERIVED_HEADERS = ("Cell", "Value", "Unit", "Formula (.perf)", "Defined at", "Comment")
CALC_HEADERS = ("Cell", "Unit", "Formula (.perf)", "Defined at")
FIRST_POINT_COLUMN = len(CALC_HEADERS) + 1

# Excel's precedence of the infix operators (higher binds tighter); negation binds tighter than ^ in Excel, so a
# negated operand is always parenthesised where it matters.
_ATOM, _NEG = 9, 2
_INFIX = {"^": 5, "*": 3, "/": 3, "+": 2, "-": 2, "=": 1, "<>": 1, "<": 1, "<=": 1, ">": 1, ">=": 1}
_NUMBER = re.compile(r"\s*([0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9]+)?)")
_CELL_LIKE = re.compile(r"^(?:[A-Za-z]{1,3}[0-9]+|[RrCc][0-9]*)$")
_COLUMN = "\x00"                     # where a template's column letter goes


@dataclass
class InputRow:
    """One editable figure: `value` as written (a number, a string or a boolean; for a formula of constants such
    as `64 TB/s / 8`, its value in the unit its numbers are written in: 8), `factor` to SI, the `.perf` formula
    (`perf`: "768 GB/s", "64 TB/s / 8"), where it is defined (`source`, "FILE:LINE") and the comment written beside
    it there (`comment`: where the figure comes from)."""

    name: str
    kind: str
    value: object
    unit: str
    factor: float
    si_unit: str
    source: str
    si_value: object = None          # the SI column's value, cached in the file (workbook_live_values)
    comment: str = ""                # "gpus.csv: 768"
    perf: str = ""                   # "768 GB/s"


@dataclass
class DerivedRow:
    """A cell computed once for the report: `formula` is Excel text (with '='), `perf` the .perf formula, `comment`
    the one written beside it (as InputRow's)."""

    name: str
    unit: str
    perf: str
    formula: str
    source: str
    cell: tuple[str, str] | None = None      # (block, cell)
    value: object = None                     # the formula's value, cached in the file (workbook_live_values)
    comment: str = ""


@dataclass
class CalcRow:
    """One row of the Calculation sheet: `cells[i]` for the i-th point column (a formula with '=', a value, or
    None where the cell is not needed at that point); `values[i]` what a formula there gives, cached in the file."""

    name: str
    unit: str
    perf: str
    source: str
    cells: list = field(default_factory=list)
    cell: tuple[str, str] | None = None      # (block, cell) of a row that varies; None for an axis or shown row
    values: list = field(default_factory=list)


@dataclass
class LivePlan:
    """Everything the live sheets hold. `shown_rows`: metric name -> its row; `columns`: point index -> column."""

    inputs: list[InputRow]
    derived: list[DerivedRow]
    rows: list[CalcRow]
    point_labels: list[str]
    shown_rows: dict[str, int]
    columns: dict[int, int]
    names: dict[str, str]            # defined name -> "Sheet!$C$2"
    axis_rows: int                   # the first rows of the Calculation sheet that are axes

    def estimate_ref(self, point: int, metric: str) -> str | None:
        """The Calculation cell of a shown metric at a sweep point (flat index), as other sheets' formulas read it."""
        row = self.shown_rows.get(metric)
        column = self.columns.get(point)
        if row is None or column is None:
            return None
        return f"{CALCULATION}!{column_letter(column)}{row}"

    @property
    def formula_count(self) -> int:
        """How many cells of the Calculation sheet hold a formula (text starting with '=')."""
        return sum(1 for row in self.rows for cell in row.cells if isinstance(cell, str) and cell.startswith("="))


def defined_name(block: str, cell: str) -> str:
    """The Excel name of a cell: `rtx_a6000.mem_bw`; `_l4.tdp` where the block's name reads as a cell reference
    (L4, B200, R1C1), which Excel refuses as the start of a name."""
    return ("_" if _CELL_LIKE.match(block) else "") + f"{block}.{cell}"


def excel_number(value: float) -> str:
    """A number as Excel formula text that reads back to the same double: 38, 0.001, 1E-06, 1E+12, 8519680."""
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        text = str(int(value))
        mantissa, exponent = f"{value:.15e}".split("e")
        if len(text) > 7 and float(mantissa).is_integer():
            return f"{int(float(mantissa))}E+{int(exponent):02d}"
        return text
    return repr(value).upper()


def check_live_size(result, n_points: int) -> None:
    """Refuse (UsageError `too-large-for-live`) a live workbook of `n_points` points of a report past the limits,
    before anything is built for it."""
    planner = _Planner(result)
    planner._check_size(n_points, len(planner.classify()[2]) + len(planner.shows))


def plan_live(result, points: Sequence[int] | None = None) -> LivePlan:
    """Plan the live sheets of an evaluated report (`Result`), for the sweep points given (flat indexes; all by
    default). Raises UsageError `too-large-for-live` past the size limits and `no-excel-form` for a function or
    operator that has no Excel form."""
    return _Planner(result).plan(list(range(result.n_points)) if points is None else list(points))


class _Planner:
    def __init__(self, result):
        self.result = result
        self.program = result.program
        self.blocks = self.program.blocks
        self.ctx, checker = self.program.prepare(result.report)
        self.link, self.types = checker.link, checker.types
        self._deps: dict[tuple[str, str], frozenset[int]] = {}
        self._refs: dict[tuple[str, str], list] = {}
        self._reached: dict[tuple[int, ...], list[tuple[str, str]]] = {}
        self.axis_row: dict[tuple[str, str], int] = {}      # a swept cell -> its row on the Calculation sheet
        self.calc_row: dict[tuple[str, str], int] = {}      # a cell that varies -> its row
        self.role_axes = sorted({index for index, _ in self.ctx.swept_roles.values()})
        self.shows = list(result.columns)           # numbers, and the strings and booleans (`memory.fits`)
        self.constants: dict[tuple[str, str], object] = {}     # a formula of constants -> its value (classify)

    # -- which axes a cell depends on ----------------------------------------------------------------------------
    def deps(self, block: str, cell: str) -> frozenset[int]:
        key = (block, cell)
        found = self._deps.get(key)
        if found is not None:
            return found
        swept = self.ctx.sweep_cells.get(key)
        axes: set[int] = {swept[0]} if swept else set()
        node = self.blocks[block].cells[cell]
        if not swept and node.expr is not None and not node.sweep:
            for ref in refs_of(node.expr):
                target = self.link.target(ref.parts, self.blocks[block])
                if target.swept:
                    axes.add(self.ctx.swept_roles[target.role][0])
                for name in target.blocks:
                    axes |= self.deps(name, target.cell)
        found = self._deps[key] = frozenset(axes)
        return found

    # -- the plan ------------------------------------------------------------------------------------------------
    def classify(self) -> tuple[list, list, list]:
        """The cells the shown values read, in .perf order: (inputs, derived, varying) (block, cell) pairs; the
        sweep cells themselves are none of them (they are axis rows)."""
        roots = []
        for column in self.shows:
            target = self.link.target(column.item.ref.parts, self.ctx.report)
            roots += [(name, target.cell) for name in target.blocks]
        order = {name: i for i, name in enumerate(self.blocks)}
        reachable = sorted(self.link.reachable(roots),
                           key=lambda k: (order[k[0]], list(self.blocks[k[0]].cells).index(k[1])))
        inputs, derived, varying = [], [], []
        for key in reachable:
            if key in self.ctx.sweep_cells:
                continue
            if self.deps(*key):
                varying.append(key)
            elif _literal(self.blocks[key[0]].cells[key[1]].expr) is not None or self._constant(key) is not None:
                inputs.append(key)
            else:
                derived.append(key)
        return inputs, derived, varying

    def _constant(self, key: tuple[str, str]) -> object | None:
        """The value of a cell whose formula reads no other cell (`64 TB/s / 8`, `2 * 3350 GB/s`), as a cell holds
        it (a finite float in SI, a str, a bool), else None: such a figure is an input, edited as its value (the
        ordinary workbook's Inputs sheet lists it so too). A formula that reads a cell stays derived; one that
        gives no finite value (`1 / 0`) too, as a spreadsheet computes its error value."""
        if key in self.constants:
            return self.constants[key]
        expr = self.blocks[key[0]].cells[key[1]].expr
        value = None
        if expr is not None and expr.kind not in ("list", "range", "tuple") and not refs_of(expr):
            value = constant_value(self, key)
        self.constants[key] = value
        return value

    def plan(self, points: list[int]) -> LivePlan:
        report = self.ctx.report
        inputs, derived, varying = self.classify()
        self._check_size(len(points), len(varying) + len(self.shows))

        rows: list[CalcRow] = []
        for axis in self.ctx.axes:
            for coord in axis.coords:
                name = coord.name if coord.kind == "role" else f"{coord.owner}.{coord.name}"
                unit = "block" if coord.kind == "role" else \
                    self._unit_of_dim(coord.dim, written_in_hertz(coord.unit)) if coord.kind == "num" \
                    else coord.kind
                perf = "sweep " + (" ".join(self.blocks[coord.owner].cells[coord.name].text.split())
                                   if coord.name in self.blocks[coord.owner].cells else "")
                values = [_python(coord.values[self._fix(p)[axis.index]]) for p in points]
                if coord.kind != "role":
                    self.axis_row[(coord.owner, coord.name)] = len(rows) + 2
                rows.append(CalcRow(name, unit, perf, _where(coord.span), values))
        axis_rows = len(rows)
        # By the column's key (`mem [KiB]`, the workbook's header for it), and by its name for the first column of
        # that name (a metric's): `show mem in MB, mem in KiB` is two columns named `mem`, each with its own row.
        shown_rows: dict[str, int] = {}
        row_of: list[int] = []
        for column in self.shows:
            row_of.append(len(rows) + 2)
            shown_rows[column.key] = len(rows) + 2
            perf = f"show {column.ref}" + (f" in {column.unit}" if column.item.unit else "")
            rows.append(CalcRow(f"{column.name} [{column.unit}]" if column.unit else column.name, column.unit,
                                perf, _where(column.item.span), [None] * len(points)))
        for column, number in zip(self.shows, row_of):
            shown_rows.setdefault(column.name, number)
        for key in varying:
            self.calc_row[key] = len(rows) + 2
            cell = self.blocks[key[0]].cells[key[1]]
            rows.append(CalcRow(f"{key[0]}.{key[1]}", self._unit(key), _text(cell), _where(cell.span),
                                [None] * len(points), cell=key))

        columns = {point: FIRST_POINT_COLUMN + i for i, point in enumerate(points)}
        templates: dict[tuple, str] = {}
        for i, point in enumerate(points):
            fix = self._fix(point)
            letter = column_letter(columns[point])
            for key in self._varying_at(fix):
                roles = tuple(fix[a] for a in self.role_axes)
                template = templates.get((key, roles))
                if template is None:
                    block = self.blocks[key[0]]
                    template = templates[(key, roles)] = self._formula(block.cells[key[1]], block, fix, key)
                rows[self.calc_row[key] - 2].cells[i] = template.replace(_COLUMN, letter)
            for column, number in zip(self.shows, row_of):
                target = self.link.target(column.item.ref.parts, report)
                ref = self._ref(self.link.block_at(target, fix).name, target.cell)
                divisor = "" if column.scale == 1 else f"/{excel_number(column.scale)}"
                rows[number - 2].cells[i] = ("=" + ref + divisor).replace(_COLUMN, letter)

        names: dict[str, str] = {}
        input_rows = []
        for index, key in enumerate(inputs, start=2):
            input_rows.append(self._input_row(key))
            names[defined_name(*key)] = f"{INPUTS}!$F${index}"
        derived_rows = []
        for index, key in enumerate(derived, start=2):
            block, cell = self.blocks[key[0]], self.blocks[key[0]].cells[key[1]]
            derived_rows.append(DerivedRow(f"{key[0]}.{key[1]}", self._unit(key), _text(cell),
                                           self._formula(cell, block, {}, key), _where(cell.span), cell=key,
                                           comment=self.program.sources.cell_comment(cell)))
            names[defined_name(*key)] = f"{DERIVED}!$B${index}"
        labels = [self._label(point) for point in points]
        plan = LivePlan(input_rows, derived_rows, rows, labels, shown_rows, columns, names, axis_rows)
        cache_live_values(self, plan, points)
        return plan

    def _check_size(self, points: int, cells: int) -> None:
        count = points * cells
        if count <= LIVE_MAX_FORMULAS and points <= LIVE_MAX_POINTS:
            return
        what = (f"{count:,} formulas; it writes at most {LIVE_MAX_FORMULAS:,}" if count > LIVE_MAX_FORMULAS
                else f"{points:,} point columns; it writes at most {LIVE_MAX_POINTS:,}")
        axes = ", ".join(f"{a.name} ({a.length})" for a in self.ctx.axes if a.length > 1)
        raise UsageError(error(
            "too-large-for-live", f"a live workbook of report '{self.ctx.report.name}' would hold {points:,} "
            f"points x {cells} cells = {what}",
            notes=[f"the sweep: {axes}"] if axes else [],
            hints=["narrow the sweep with --set (e.g. --set model=NAME --set batch=1,8), or ask a question of a "
                   "smaller report; without --live the workbook holds every point's estimates as numbers"]))

    def _fix(self, point: int) -> dict[int, int]:
        if not self.ctx.axes:
            return {}
        return {axis: int(i) for axis, i in enumerate(np.unravel_index(point, self.ctx.shape))}

    def _varying_at(self, fix: dict[int, int]) -> list[tuple[str, str]]:
        """The cells that vary over the sweep and that the shown values read at one point, each once (the same
        for every point whose swept roles take the same blocks)."""
        roles = tuple(fix[a] for a in self.role_axes)
        found = self._reached.get(roles)
        if found is None:
            found = self._reached[roles] = self._reach(fix)
        return found

    def _targets(self, key: tuple[str, str]) -> list:
        """The linker's targets of the references of a cell's formula, once per cell."""
        found = self._refs.get(key)
        if found is None:
            block = self.blocks[key[0]]
            found = self._refs[key] = [self.link.target(ref.parts, block) for ref in refs_of(block.cells[key[1]].expr)]
        return found

    def _reach(self, fix: dict[int, int]) -> list[tuple[str, str]]:
        stack = []
        for column in self.shows:
            target = self.link.target(column.item.ref.parts, self.ctx.report)
            stack.append((self.link.block_at(target, fix).name, target.cell))
        seen: dict[tuple[str, str], None] = {}
        while stack:
            key = stack.pop()
            if key in seen or key not in self.calc_row:
                continue
            seen[key] = None
            for target in self._targets(key):
                stack.append((self.link.block_at(target, fix).name, target.cell))
        return list(seen)

    # -- one formula ---------------------------------------------------------------------------------------------
    def _ref(self, block: str, cell: str) -> str:
        """How a formula at the current point reads a cell: its name, or its row in this point's column."""
        row = self.axis_row.get((block, cell)) or self.calc_row.get((block, cell))
        if row is not None:
            return f"{_COLUMN}{row}"
        return defined_name(block, cell)

    def _formula(self, cell: ir.Cell, block, fix: dict[int, int], key: tuple[str, str]) -> str:
        if cell.expr is None:
            # A declared input the part does not give (rtx_a5000.peak_int8), read only in an `if` branch the
            # evaluation never takes (the cost model picks the peak of the bound precision's format): #N/A.
            return "=NA()"
        text = "=" + self._excel(cell.expr, block, fix)[0]
        if len(text) > EXCEL_MAX_FORMULA:
            raise UsageError(self.program.sources.diag(
                "no-excel-form", f"the formula of '{key[0]}.{key[1]}' is {len(text):,} characters as an Excel "
                f"formula; Excel holds {EXCEL_MAX_FORMULA:,}", cell.span,
                hints=["split it into named cells of its own"]))
        return text

    def _excel(self, expr: ir.Expr, block, fix: dict[int, int]) -> tuple[str, int]:
        """Excel text of a checked formula and the precedence of its outermost operator (_ATOM: none)."""
        kind = expr.kind
        if kind == "num":
            number = _written_number(expr)
            if number is None:
                return excel_number(expr.value), _ATOM
            factor = parse_unit(expr.unit).scale
            return f"{excel_number(number)}*{excel_number(factor)}", _INFIX["*"]
        if kind == "str":
            return '"' + expr.value.replace('"', '""') + '"', _ATOM
        if kind == "bool":
            return ("TRUE" if expr.value else "FALSE"), _ATOM
        if kind == "ref":
            target = self.link.target(expr.parts, block)
            return self._ref(self.link.block_at(target, fix).name, target.cell), _ATOM
        if kind == "unary":
            return self._apply(OPERATORS[UNARY[expr.op]], (expr.operand,), expr, block, fix)
        if kind == "binary":
            operator = OPERATORS[expr.op]
            if expr.op in ("==", "!=") and (self._is_text(expr.left, block) or self._is_text(expr.right, block)):
                left, right = (self._excel(side, block, fix)[0] for side in (expr.left, expr.right))
                exact = f"EXACT({left},{right})"
                return (exact if expr.op == "==" else f"NOT({exact})"), _ATOM
            return self._apply(operator, (expr.left, expr.right), expr, block, fix)
        if kind == "call":
            return self._apply(FUNCTIONS[expr.func], expr.args, expr, block, fix)
        raise AssertionError(f"a checked formula holds no {kind}")

    def _apply(self, entry, operands, expr, block, fix) -> tuple[str, int]:
        """An operator's or function's Excel form over its operands, parenthesised by Excel's precedence."""
        form = entry.excel
        if not form:
            what = f"the function '{entry.name}'" if hasattr(entry, "name") else f"the operator '{entry.symbol}'"
            raise UsageError(self.program.sources.diag(
                "no-excel-form", f"{what} has no Excel form, so this formula cannot go into a live workbook",
                expr.span, hints=["write the workbook without --live (its estimates are then numbers), or "
                                  "give the function an Excel form in dsl/functions.py / dsl/operators.py"]))
        parts = [self._excel(operand, block, fix) for operand in operands]
        infix = re.fullmatch(r"\{0\}(\S+?)\{1\}", form)
        if infix is not None:
            precedence = _INFIX[infix.group(1)]
            (left, lp), (right, rp) = parts
            left = f"({left})" if lp < precedence else left
            right = f"({right})" if rp <= precedence else right
            return f"{left}{infix.group(1)}{right}", precedence
        texts = []
        for index, (text, precedence) in enumerate(parts):
            placeholder = form.find("{%d}" % index)
            guarded = placeholder > 0 and form[placeholder - 1] in "-+*/^&=<>"
            texts.append(f"({text})" if guarded and precedence != _ATOM else text)
        body = form.replace("{*}", ",".join(texts))
        for index, text in enumerate(texts):
            body = body.replace("{%d}" % index, text)
        return body, (_ATOM if body[:1].isalpha() else _NEG)

    def _is_text(self, expr: ir.Expr, block) -> bool:
        if expr.kind == "str":
            return True
        if expr.kind == "ref":
            target = self.link.target(expr.parts, block)
            vtype = self.types.get((target.blocks[0], target.cell)) if target.blocks else None
            return getattr(vtype, "kind", None) == "str"
        if expr.kind == "call" and expr.func == "if":
            return self._is_text(expr.args[1], block)
        return False

    # -- rows ----------------------------------------------------------------------------------------------------
    def _unit(self, key: tuple[str, str]) -> str:
        vtype = self.types.get(key)
        if vtype is None or vtype.kind != "num":
            return {"bool": "boolean", "str": "text"}.get(getattr(vtype, "kind", ""), "")
        return self._unit_of_dim(vtype.dim, self._in_hertz(key))

    def _in_hertz(self, key: tuple[str, str]) -> bool:
        """Whether the cell `key` is a clock, its SI unit Hz rather than 1/s (hertz.cell_in_hertz)."""
        return cell_in_hertz(key[0], key[1], self.blocks, self.link, self.types)

    @staticmethod
    def _unit_of_dim(dim, hertz: bool = False) -> str:
        return "" if dim is None or dim == DIMENSIONLESS else si_unit_name(dim, hertz)

    def _input_row(self, key: tuple[str, str]) -> InputRow:
        block, cell = self.blocks[key[0]], self.blocks[key[0]].cells[key[1]]
        literal = _literal(cell.expr)
        unit, factor, value = "", 1.0, literal
        if literal is None:         # a formula of constants: its value, in the unit the ordinary workbook shows
            value = self.constants[key]
            if isinstance(value, float):
                vtype = self.types.get(key)
                unit, factor = display_unit(cell, getattr(vtype, "dim", None), abs(value), self._in_hertz(key))
                value = float(plain_number(value / factor))
        elif isinstance(literal, float):
            number = cell.expr.operand if cell.expr.kind == "unary" else cell.expr
            if number.unit:
                unit, factor = number.unit, parse_unit(number.unit).scale
                written = _written_number(number)
                if written is not None:
                    value = -written if cell.expr.kind == "unary" else written
        return InputRow(f"{key[0]}.{key[1]}", block.kind, value, unit, factor, self._unit(key), _where(cell.span),
                        comment=self.program.sources.cell_comment(cell), perf=_text(cell))

    def _label(self, point: int) -> str:
        from .evaluator import format_coord

        fix = self._fix(point)
        parts = [format_coord(coord, fix[axis.index]) for axis in self.ctx.axes for coord in axis.coords
                 if axis.length > 1]
        return " / ".join(parts) if parts else "the only point"


def _literal(expr: ir.Expr | None) -> object | None:
    """The value of a literal cell (a number in SI, a string, a boolean; `-3` too), else None."""
    if expr is None:
        return None
    if expr.kind == "num":
        return float(expr.value)
    if expr.kind == "unary" and expr.op == "-" and expr.operand.kind == "num":
        return -float(expr.operand.value)
    if expr.kind in ("str", "bool"):
        return expr.value
    return None


def _written_number(expr: ir.Num) -> float | None:
    """The number as written before a unit whose factor to SI is not 1 (`38` of `38 us`), else None."""
    if not expr.unit:
        return None
    factor = parse_unit(expr.unit).scale
    if factor == 1.0:
        return None
    match = _NUMBER.match(expr.text)
    if match is None:
        return None
    number = float(match.group(1).replace("_", ""))
    return number if number * factor == expr.value else None


def _text(cell: ir.Cell) -> str:
    return " ".join((cell.text or "").split()) or f"(declared {cell.declared})"


def _where(span: ir.Span | None) -> str:
    return f"{shown_path(span.file)}:{span.line}" if span is not None else ""


def _python(value: object) -> object:
    return value.item() if hasattr(value, "item") else value



def attach_live(data, result) -> None:
    """Make a report's workbook data live: plan the sheets for the points its rows show, and point each row's
    estimates, and its shown strings and booleans (`memory.fits`, a model's label), at the Calculation sheet. An
    estimate that is not finite stays empty, as without --live."""
    points = sorted({row.index for section in data.sections for row in section.rows if row.index is not None})
    plan = plan_live(result, points)
    keyed = {column.key: column.name for column in result.columns}
    for section in data.sections:
        for row in section.rows:
            if row.index is None:
                continue
            for name in section.id_columns:
                # a shown axis's column is named by its key, with its unit (`a [MB]`: workbook_export)
                ref = plan.estimate_ref(row.index, name) or plan.estimate_ref(row.index, keyed.get(name, name))
                if ref is not None and row.identity.get(name) is not None:
                    row.formulas[name] = ref
            for metric in section.metrics:
                ref = plan.estimate_ref(row.index, metric.name)
                if ref is not None and row.estimated.get(metric.name) is not None:
                    row.formulas[metric.name] = ref
    data.live = plan
    data.notes.append(
        f"Live: the estimates are formulas. Edit a yellow Value on the {INPUTS} sheet (or an axis value on the "
        f"{CALCULATION} sheet) and every estimate"
        + (", its Error and the Summary follow" if data.runs_given else " follows") + f". {INPUTS}: each figure as "
        "written (a formula of constants such as 64 TB/s / 8 as its value, 8 TB/s, the formula beside it), its factor "
        f"to SI and its SI value (an Excel name such as {next(iter(plan.names), 'block.cell')}), its source and "
        f"comment; {DERIVED}: cells computed once from other cells; {CALCULATION}: one row per cell of the cost "
        "model, one column per sweep point, values in SI with the unit beside them; the shown rows divide by the "
        "display unit's factor.")
