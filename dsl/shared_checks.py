"""Checks shared between programs (part of stage 3c): what the checker inferred for a cell, kept for reuse.

`perfdsl check` of every library file checks each file as a program of its own, with what it imports; the cost model,
the model families and the GPUs are imported by most of them, and their cells were inferred again in every program
(about 1.3 s of 3 s for the bundled libraries). A `CheckSession` lets the checkers of several programs share that
work without changing a diagnostic:

- Blocks are built once per session (`inherit`): the same parsed block (the parser keeps one Module per file text)
  with the same parent Block gives the same Block object, so a Block's identity stands for its cells and its
  `extends` chain.
- A cell whose inference read nothing that depends on the program or the report (`CellEntry`, "pure") is kept with
  everything its inference did: its type, the missing inputs it reaches, the height of its chain of formulas, the
  blocks it named (by identity) and, in order, the diagnostics it reported and the cells it typed or reused. Another
  checker of the same kind (report-free, or with a report) that meets the cell again replays that record instead of
  inferring it, where every block it named is the same Block in its program and, with a report, none of them is a
  role the report binds, where the report binds the roles it read through to the same blocks and gives the swept
  cells it read the same type, and where its chain still fits under limits.MAX_CHAIN_DEPTH. A cell that read no role,
  no swept cell and no declared input left open is the same with a report and without one: both kinds reuse it. Replaying reports the same
  diagnostics in the same order and types the same cells in the same order as inferring would, so the result of a
  check is the same.
- What makes a cell impure (never kept): a name that does not resolve (its message names what the program holds), a
  role left open under a name that is not one of linker.ROLE_WORDS, a swept cell that the report does not bind (its
  message names the report), a cycle (its message depends on where the chain was entered), a chain cut at MAX_CHAIN_DEPTH, and any
  impure cell it reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from . import ir
    from .blocks import Block
    from .errors import Diagnostic
    from .vtypes import VType

EMPTY: frozenset = frozenset()


@dataclass(eq=False)
class CellEntry:
    """What inferring one pure cell did, to be replayed by another checker of the same kind.

    `items` holds, in the order they happened, the diagnostics reported while inferring the cell (as the arguments
    of Checker.report) and the cells typed or reused on the way (their own CellEntry). `ids` holds the id() of every
    block the cell's formulas named, its own precedents' included; `height` is the number of formula levels its
    inference followed (limits.MAX_CHAIN_DEPTH counts these); `reach` the missing inputs it reaches outside `if`
    branches; `missing` the diagnostic of the cell itself where it is a declared input left without a value.
    """

    block: "Block"
    name: str
    vtype: "VType"
    reach: frozenset
    height: int
    ids: frozenset
    items: list
    missing: "Diagnostic | None" = None
    facts: frozenset = EMPTY
    universal: bool = False
    clean: bool = False


@dataclass(eq=False)
class Frame:
    """A cell being inferred: the impurity count when it started, its formula depth then, the running maximum depth
    of the cell that started before it, and what its record collects (see CellEntry)."""

    impure_at: int
    contextual_at: int
    base: int
    outer_peak: int
    ids: set = field(default_factory=set)
    items: list = field(default_factory=list)
    facts: set = field(default_factory=set)


@dataclass(eq=False)
class CheckSession:
    """What the checks of several programs in one process share: the blocks built and the pure cells inferred.

    One session per `perfdsl check` run (or per Program, by default). Blocks in a session are shared objects: a
    session must not outlive changes to them (calibration changes cell values of its own program, which has its own
    session). Keeps strong references to every block it built, so the id() of a block stays unique in it.
    """

    built: dict[tuple[int, int], tuple] = field(default_factory=dict)
    free: dict[tuple[int, str], CellEntry] = field(default_factory=dict)       # report-free checkers
    bound: dict[tuple[int, str], CellEntry] = field(default_factory=dict)      # checkers of a report

    def __reduce__(self):
        # A copy in another process (a program sent to Dask workers) starts empty: the records are keyed by id(),
        # which means nothing there.
        return (CheckSession, ())

    def inherit(self, node: "ir.Block", parent: "Block | None", build: Callable) -> "Block":
        """The Block of `node` extending `parent` (blocks._inherit), built once per session."""
        key = (id(node), id(parent))
        found = self.built.get(key)
        if found is None:
            found = self.built[key] = (node, parent, build(node, parent))
        return found[2]

    def memo(self, report_free: bool) -> dict[tuple[int, str], CellEntry]:
        """The pure cells of report-free checkers, or those of checkers with a report (keyed by block id, cell)."""
        return self.free if report_free else self.bound

    def keep(self, report_free: bool, block: "Block", entry: CellEntry) -> None:
        """Keep a pure cell's record for the checkers of its kind, and for the other kind too where it is
        universal."""
        key = (id(block), entry.name)
        self.memo(report_free)[key] = entry
        if entry.universal:
            self.memo(not report_free)[key] = entry
