"""Formula types (part of stage 3c): the type of a formula, kept by the types of the names it reads.

The type the checker infers for a formula is a function of the formula and of the types its references give: the
operators' and functions' dimension rules read nothing else. The same formula is inferred many times in a
`perfdsl check` of the libraries: a model family's cells are inherited by each of its 30 models, and a cost model's
cells are inferred again for each report that binds other blocks to its roles (about 10,000 inferences of 3,000
formulas). A `FormulaPlan` lists, once per formula, the references the checker's walk of the formula types, in the
order it types them, with the formula level and `if` values each is typed inside; with it the checker types the
references alone, exactly as the walk would, and takes the formula's type from `FormulaPlan.types` where these
reference types were seen before, without walking its operators again.

A result is kept only where the walk that gave it reported nothing at the formula's own level (no operator or
function refused its operands, no reference was refused): typing the same references then reports exactly what the
walk would, in the same order, since the operators would report nothing again. A formula the plan cannot follow
exactly gets no plan (None) and is always walked: one with a list, a range or a tuple (not followed by the checker,
or reported), a call of an unknown function (its arguments are not followed), or a comparison with a string (which
reads the choices of the cell compared, not only its type).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import ir
from .functions import FUNCTIONS


class Node:
    """A point of a formula's walk after some of its references are typed, given their types: reached only where
    the operators before it reported nothing. `children` maps the type of the next reference (its VType.key) to
    the next point; `result`, at the point after the last reference, is the formula's type (its last operators
    reported nothing)."""

    __slots__ = ("children", "result")

    def __init__(self):
        self.children: dict = {}
        self.result = None


@dataclass(eq=False, slots=True)
class FormulaPlan:
    """What the checker's walk of one formula types: `refs` holds (reference, level, branch) in the order typed,
    where `level` is the formula level the reference is typed at (1 for the formula itself; each nested operation
    adds one, as Checker.expr_type counts them) and `branch` the `if` values it is inside, outermost first, as
    Checker.branch_path names them ((id of the call, 1 or 2) each); `levels` is
    the deepest level of the formula. `root` is the point before the first reference (None until a walk found
    that the operators before it report nothing): from it, the types of the references lead through `Node`s to
    the formula's type."""

    expr: ir.Expr
    refs: tuple[tuple[ir.Ref, int, tuple[tuple[int, int], ...]], ...]
    levels: int
    root: Node | None = None

    def learn(self, types: list, clean: list[bool], result) -> None:
        """Keep what a walk found: `types` of the references in order, `clean[k]` whether the operators between
        reference k-1 and reference k (before the first for k = 0, after the last for k = len(types)) reported
        nothing, and the formula's type `result`. Points are kept up to the first operator that reported."""
        if not clean[0]:
            return
        node = self.root
        if node is None:
            node = self.root = Node()
        for index, vtype in enumerate(types):
            if not clean[index + 1]:
                return
            child = node.children.get(vtype.key)
            if child is None:
                child = node.children[vtype.key] = Node()
            node = child
        node.result = result


class Feed:
    """A walk of a formula (Checker.expr_type) that resumes where the plan's points end: its first references take
    the types already typed (`known`), the others are typed by the checker's ref_type as the walk reaches them.
    Counts the reports of the formula's own operators between references (those made inside ref_type are the
    cells' it reads) for FormulaPlan.learn."""

    __slots__ = ("known", "types", "clean", "_inner", "_start", "_marked")

    def __init__(self, known: list, reports: int):
        self.known = known
        self.types: list = []
        self.clean: list[bool] = []
        self._inner = 0                        # reports made inside ref_type calls
        self._start = reports
        self._marked = 0                       # the formula's own reports when the last reference was typed

    def mark(self, reports: int) -> None:
        """A reference is reached (or the walk ended): whether the formula's operators reported since the last."""
        own = reports - self._start - self._inner
        self.clean.append(own == self._marked)
        self._marked = own

    def next_type(self, checker, expr: ir.Ref, block, path: str):
        """The type of the next reference of the walk: a known one, or ref_type's (typed now, with no feed, so
        that the cells it infers walk their own formulas)."""
        self.mark(checker.report_calls)
        index = len(self.types)
        if index < len(self.known):
            vtype = self.known[index]
        else:
            before = checker.report_calls
            checker.feed = None
            try:
                vtype = checker.ref_type(expr, block, path)
            finally:
                checker.feed = self
            self._inner += checker.report_calls - before
        self.types.append(vtype)
        return vtype


class FormulaTypes:
    """The plans of one CheckSession's formulas, by id() of the formula (kept alive beside its plan)."""

    __slots__ = ("plans",)

    def __init__(self):
        self.plans: dict[int, tuple[ir.Expr, FormulaPlan | None]] = {}

    def plan(self, expr: ir.Expr) -> FormulaPlan | None:
        """The plan of `expr`, made on first use; None where the checker must walk it (see the module's docstring)."""
        found = self.plans.get(id(expr))
        if found is None or found[0] is not expr:
            found = self.plans[id(expr)] = (expr, make_plan(expr))
        return found[1]


def make_plan(expr: ir.Expr) -> FormulaPlan | None:
    """The references of `expr` in the order Checker.expr_type types them (depth first, left to right), with the
    level and the `if` values (outermost first) of each; None where a walk is needed (a list, range or tuple, an
    unknown function, a comparison with a string)."""
    refs: list[tuple[ir.Ref, int, tuple[tuple[int, int], ...]]] = []
    levels = [0]

    def walk(node: ir.Expr, level: int, branch: tuple[tuple[int, int], ...]) -> bool:
        if level > levels[0]:
            levels[0] = level
        kind = node.kind
        if kind == "ref":
            refs.append((node, level, branch))
            return True
        if kind in ("num", "str", "bool"):
            return True
        if kind == "unary":
            return walk(node.operand, level + 1, branch)
        if kind == "binary":
            if node.op in ("==", "!=") and ir.Str in (type(node.left), type(node.right)):
                return False
            return walk(node.left, level + 1, branch) and walk(node.right, level + 1, branch)
        if kind == "call":
            if node.func not in FUNCTIONS:
                return False
            return all(walk(arg, level + 1, branch + ((id(node), index),) if node.func == "if" and index > 0
                            else branch) for index, arg in enumerate(node.args))
        return False                                   # list, range, tuple

    if not walk(expr, 1, ()):
        return None
    return FormulaPlan(expr, tuple(refs), levels[0])
