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
- A block typed from the top by a report-free checker (Checker.type_cells: each program's check without a report
  types every cell of every block it holds, the imported families and GPUs included) whose every cell has a clean
  record (nothing reported by it or by any cell it typed), without a fact, a missing input or anything reached, is
  replayed in one step (`BlockEntry`): where the union of the records' block ids is among this program's blocks
  and their greatest height fits, each record holds here, so replaying them one by one would type exactly the cells
  of the BlockEntry, in its order, and report nothing. The BlockEntry is made from the records the session keeps for
  the block's cells, and made again once one of them is replaced, so it replays the very records that replaying
  cell by cell would. A block with a cell in a cycle, a diagnostic, or a record that does not hold here (a block it
  names is another block of that name in this program) is typed cell by cell.
- A block none of whose cells has a record yet (a model typed for the first time) whose kin was replayable in one
  step (`CheckSession.kin`: a block that types as it does, cell for cell), gets that kin's BlockEntry with its
  records renamed to it, kept as its own (`CheckSession.sibling_entry`). Kin extend kin (or the same) parents and
  write the same own cells with formulas of the same structure (`cell_shape`), not counting an own cell that
  overrides a parent's cell of the same structure (it types as the cell it replaces; a block with no other own
  cell is "bare", kin to its parent only where that is bare too: see kin). So the models of a family that override
  its numbers with numbers are kin to each other (the library's models inferred their ~200 inherited cells each:
  the report-free checkers of a check of the libraries inferred 13,600 cells, 7,451 of them in models, before
  siblings of one parent were typed from each other's records; 9,663 and 4,092 after); so is a report's `model
  llama3_8b extends llama3_1_8b { hf_id = "..."; max_pos = 8192 }` to its parent, itself bare; and so are the
  blocks under a calibration's `set { gpu.hbm_stream_efficiency = 0.55 }` (a new `gpu` Block, and a new Block of
  every GPU that extends it) to the blocks they stand for. (A check of the libraries, -j 1: 15,062 cells inferred
  with siblings only, 11,142 with kin.)
- What makes a cell impure (never kept): a name that does not resolve (its message names what the program holds), a
  role left open under a name that is not one of linker.ROLE_WORDS, a swept cell that the report does not bind (its
  message names the report), a cycle (its message depends on where the chain was entered), a chain cut at MAX_CHAIN_DEPTH, and any
  impure cell it reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from .formula_types import FormulaTypes
from .limits import MAX_CHAIN_DEPTH
from .linker import walk

from . import ir

if TYPE_CHECKING:
    from .blocks import Block
    from .errors import Diagnostic
    from .vtypes import VType

EMPTY: frozenset = frozenset()

# Records kept per cell for other bindings of the roles they read (CheckSession.older): the library's reports bind
# the cost model to 13 workloads; a few are enough for the reports of one file, checked one after the other.
OLDER_RECORDS = 4


@dataclass(eq=False, slots=True)
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
    items: list | tuple
    missing: "Diagnostic | None" = None
    facts: frozenset = EMPTY
    universal: bool = False
    clean: bool = False
    key: tuple = ()                 # (block name, name): set on creation, read at every replay

    def __post_init__(self):
        self.key = (self.block.name, self.name)


@dataclass(eq=False, slots=True)
class BlockEntry:
    """Every cell of one Block typed from the top by a report-free checker, where each has a clean record: what
    Checker.type_cells does for the block, in one step (CheckSession.blocks).

    `types`, `reach` and `entries` hold, in the order replaying the records one cell after another types them, every
    cell those records type (the block's own cells and, within their records, the cells of the blocks they name),
    with its type, the missing inputs it reaches (none: a record that reaches one is not taken) and its record.
    `ids` is the union of the records' ids (their blocks named), `height` the greatest of their heights.
    """

    block: "Block"
    ids: frozenset
    height: int
    types: dict
    reach: dict
    entries: dict

    def __repr__(self) -> str:
        # Short: the dataclass's own repr would print every record, each with its block's syntax tree.
        return f"<BlockEntry of {self.block.kind} '{self.block.name}': {len(self.types)} cells typed>"


@dataclass(eq=False, slots=True)
class RequiresEntry:
    """The records of every `require` step of one Block (constraints.check_requires, in the order of
    `block.requires`), where none reports anything itself, for a report-free checker to replay in one step
    (Sharing.replay_requires) rather than look each up and test it: `ids` is the union of the records' ids (their
    blocks named), `height` the greatest of their heights, so where these hold here each record does."""

    block: "Block"
    ids: frozenset
    height: int
    steps: tuple
    typed: frozenset               # the cells the records type directly ((block name, cell) of their items)
    universal: bool = False        # every record is universal: kept for checkers with a report too

    def __repr__(self) -> str:
        # Short: the dataclass's own repr would print every record, each with its block's syntax tree.
        return f"<RequiresEntry of {self.block.kind} '{self.block.name}': {len(self.steps)} requires>"


class Frame:
    """A cell being inferred: the impurity and contextual counts when it started, its formula depth then, the
    running maximum depth of the cell that started before it, and what its record collects (see CellEntry); `clean`
    until it or a cell it typed reports something. (A plain class with slots: one is made for every cell inferred.)"""

    __slots__ = ("impure_at", "contextual_at", "base", "outer_peak", "ids", "items", "facts", "clean", "roles")

    def __init__(self, impure_at: int, contextual_at: int, base: int, outer_peak: int):
        self.impure_at = impure_at
        self.contextual_at = contextual_at
        self.base = base
        self.outer_peak = outer_peak
        self.ids: set = set()
        self.facts: set = set()
        self.items: list | None = None         # made when first needed: a literal types nothing, reports nothing
        self.clean = True
        self.roles: set | None = None          # id() of the roles noted (Sharing._note_role), made when first needed

    def add(self, item) -> None:
        """One more item of the record (CellEntry.items): a report's arguments, or a cell's CellEntry."""
        if self.items is None:
            self.items = [item]
        else:
            self.items.append(item)


class Reused:
    """The records of one cell in each block of a swept role (None where a block's cell has none), taken together:
    what reusing all of them does to the cell being inferred, summed once (Sharing._reuse_all) rather than at every
    reference to the role (30 models, 13 GPUs)."""

    __slots__ = ("entries", "unrecorded", "contextual", "clean", "ids", "facts", "height")

    def __init__(self, entries: list):
        self.entries = [entry for entry in entries if entry is not None]
        self.unrecorded = len(self.entries) != len(entries)
        self.contextual = any(not entry.universal for entry in self.entries)
        self.clean = all(entry.clean for entry in self.entries)
        self.ids = frozenset().union(*(entry.ids for entry in self.entries))
        self.facts = frozenset().union(*(entry.facts for entry in self.entries))
        self.height = max((entry.height for entry in self.entries), default=0)


@dataclass(eq=False)
class CheckSession:
    """What the checks of several programs in one process share: the blocks built and the pure cells inferred.

    One session per `perfdsl check` run (or per Program, by default). Blocks in a session are shared objects: a
    session must not outlive changes to them (calibration changes cell values of its own program, which has its own
    session). Keeps strong references to every block it built, so the id() of a block stays unique in it.
    """

    built: dict[tuple[int, int], tuple] = field(default_factory=dict)
    written: dict[tuple[int, int, int], tuple] = field(default_factory=dict)   # set_in's nodes
    free: dict[tuple[int, str], CellEntry] = field(default_factory=dict)       # report-free checkers
    bound: dict[tuple[int, str], CellEntry] = field(default_factory=dict)      # checkers of a report
    # Report-free checkers: the records of a block's cells taken together (BlockEntry), by block id; False where
    # some cell of the block had no record that type_cells replays as it is, when last looked at.
    blocks: dict[int, "BlockEntry | bool"] = field(default_factory=dict)
    # Report-free checkers: the records of a block's `require` steps taken together (RequiresEntry), by block id;
    # False where some `require` of the block had no record that replays as it is, when last looked at.
    requires: dict[int, "RequiresEntry | bool"] = field(default_factory=dict)
    formulas: FormulaTypes = field(default_factory=FormulaTypes)
    parents: dict[int, "Block | None"] = field(default_factory=dict)   # the parent Block each block was built on
    # A block whose cells all have plain records, by its kin (kin): the template of the blocks of its kin
    # (sibling_entry).
    siblings: dict[int, "Block"] = field(default_factory=dict)
    # The kin of each block looked at, by block id and whether string values count (_kin; None: as kin counts
    # them); and the number of each kin, by what makes it (_made_kin).
    kins: dict[tuple[int, "bool | None"], "int | None"] = field(default_factory=dict)
    kin_numbers: dict[tuple, int] = field(default_factory=dict)
    # The kin of blocks whose own cells all type as the cells they replace (_made_kin): they check no override that
    # can fail.
    bare_kins: set[int] = field(default_factory=set)
    # Checkers of a report: the records `bound` held before the latest, for other bindings of the roles they read
    # (at most OLDER_RECORDS a cell, the latest last).
    older: dict[tuple[int, str], list[CellEntry]] = field(default_factory=dict)

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
            self.parents[id(found[2])] = parent
        return found[2]

    def set_in(self, node: "ir.Block", stmt: "ir.SetStmt", replaced: "ir.Cell",
               write: Callable[[], "ir.Block"]) -> "ir.Block":
        """The parsed block `node` with the `set` entry `stmt` written over `replaced` (`write()`, blocks._set_cell),
        made once per session: the programs that import the same `set` (a calibration file, parsed once) get the
        same node, so `inherit` gives them the same Block. Keeps the three objects of the key alive, so their ids
        stay unique."""
        key = (id(node), id(stmt), id(replaced))
        found = self.written.get(key)
        if found is None:
            found = self.written[key] = (node, stmt, replaced, write())
        return found[3]

    def memo(self, report_free: bool) -> dict[tuple[int, str], CellEntry]:
        """The pure cells of report-free checkers, or those of checkers with a report (keyed by block id, cell)."""
        return self.free if report_free else self.bound

    def keep(self, report_free: bool, block: "Block", entry: CellEntry) -> None:
        """Keep a pure cell's record for the checkers of its kind, and for the other kind too where it is
        universal."""
        key = (id(block), entry.name)
        memo = self.memo(report_free)
        if not report_free:
            replaced = memo.get(key)
            if replaced is not None and replaced.facts and replaced.block is block and replaced.facts != entry.facts:
                # A record for other bindings of the roles it reads: still true where they are bound so (a report
                # of the session that binds the same blocks as an earlier one, not as the latest).
                older = self.older.setdefault(key, [])
                older.append(replaced)
                if len(older) > OLDER_RECORDS:
                    del older[0]
        memo[key] = entry
        if entry.universal:
            self.memo(not report_free)[key] = entry
        if report_free or entry.universal:
            # The block's cells' records taken together are made again from the records now kept (block_entry):
            # replaying them replays exactly the records that replaying cell by cell would; so are the records of
            # its steps, its `require`s (requires_entry).
            if type(entry.name) is str:
                self.blocks.pop(id(block), None)
            else:
                self.requires.pop(id(block), None)

    def block_entry(self, block: "Block") -> "BlockEntry | None":
        """The records of every cell of `block` kept for report-free checkers, taken together (BlockEntry): made
        once (until one of them is replaced), where each is the block's own, clean (nothing reported while
        inferring it or any cell it typed), with no fact, no missing input and nothing reached, as is every record
        it types; None where one is not (that block is typed cell by cell)."""
        found = self.blocks.get(id(block))
        if found is None:
            found = self.blocks[id(block)] = self._block_entry(block) or False
        return found if found and found.block is block else None

    def requires_entry(self, block: "Block") -> "RequiresEntry | None":
        """The records of every `require` step of `block` (constraints.check_requires) kept for report-free
        checkers, taken together (RequiresEntry): made once (until one of them is replaced), where each is the
        block's own, reports nothing itself (its items are the cells it typed), has no fact and no missing input;
        None where one does not (the block's `require`s are then replayed or run one by one)."""
        found = self.requires.get(id(block))
        if found is None:
            found = self.requires[id(block)] = self._requires_entry(block) or False
        return found if found and found.block is block else None

    def _requires_entry(self, block: "Block") -> "RequiresEntry | None":
        memo, key = self.free, id(block)
        steps = []
        for _, require in block.requires:
            entry = memo.get((key, ("require", id(require))))
            if entry is None or entry.block is not block or entry.facts or entry.missing is not None \
                    or any(type(item) is not CellEntry for item in entry.items):
                return None
            steps.append(entry)
        return RequiresEntry(block, frozenset().union(*(entry.ids for entry in steps)),
                             max((entry.height for entry in steps), default=0), tuple(steps),
                             frozenset(item.key for entry in steps for item in entry.items),
                             all(entry.universal for entry in steps))

    def offer_sibling(self, block: "Block") -> None:
        """`block` has just been typed cell by cell by a report-free checker: where its cells' records, taken
        together, replay as one BlockEntry and it has a kin (kin), it becomes the template of the blocks of that
        kin (sibling_entry); a template whose records no longer make a BlockEntry is replaced."""
        kin = self.kin(block)
        if kin is None:
            return
        known = self.siblings.get(kin)
        if known is not None and known is not block and self.block_entry(known) is not None:
            return
        if self.block_entry(block) is not None:
            self.siblings[kin] = block

    def sibling_entry(self, block: "Block") -> "BlockEntry | None":
        """The BlockEntry of `block`, a block none of whose cells has a record yet, made from that of a template
        of its kin (kin: the records renamed to `block`, and kept as its own), or None where there is none.

        Why the renamed records are what inferring `block`'s cells would record: a block and its kin have the same
        cells, by name and in order, with the same declared units and options and formulas of the same structure
        (cell_shape: the same names read, operators, functions, strings, and numbers of the same dimensions), and
        each overrides what it overrides with the same types on both sides (see kin). The values of numbers
        differ, but the checker reads a number's dimension only; a string cell's value is read only by the check
        of a choice, and is part of the shape where the block holds a choice. So the same cells get the same types,
        and every override check passes as the template's did. A bare name resolves to a cell of the block itself
        in both (the same names); every other name the records read is a block they name by id (ids: the same
        blocks where they fit; a template that names itself, `T.x`, is not used, since `block` would name T too).
        The records are plain (nothing reported, reached or missing), so a renamed record holds wherever the
        template's holds: the same ids, and a height of the same formula levels (what MAX_CHAIN_DEPTH counts), so
        never a replay where inferring would report a chain too deep. Only the part of a height that an override's
        check adds may differ (the template and `block` may override different cells, over parents whose chains
        differ in length): that check follows the parent's cell in a checker whose diagnostics are not read
        (Checker._replaced_type), and gives the same answer, none, however deep it goes."""
        memo, key = self.free, id(block)
        if any((key, name) in memo for name in block.cells):
            return None                           # typed before (records not all plain): as it is
        kin = self.kin(block)
        template = self.siblings.get(kin) if kin is not None else None
        if template is None or template is block:
            return None
        found = self.block_entry(template)
        if found is None or id(template) in found.ids:
            return None
        made: dict[str, CellEntry] = {}

        def rename(entry: CellEntry) -> CellEntry:       # the template's cells become the block's, recursively
            if entry.block is not template:
                return entry
            copy = made.get(entry.name)
            if copy is None:
                copy = made[entry.name] = CellEntry(block, entry.name, entry.vtype, entry.reach, entry.height,
                                                    entry.ids, tuple([rename(item) for item in entry.items]),
                                                    None, entry.facts, entry.universal, entry.clean)
            return copy

        entries = {}
        for cell_key, entry in found.entries.items():
            copy = rename(entry)
            entries[copy.key] = copy
        types = {cell_key: entry.vtype for cell_key, entry in entries.items()}
        bound = self.bound
        for name, copy in made.items():
            memo[(key, name)] = copy
            if copy.universal:
                bound[(key, name)] = copy
        renamed = self.blocks[key] = BlockEntry(block, found.ids, found.height, types, dict.fromkeys(types, EMPTY),
                                                entries)
        return renamed

    def kin(self, block: "Block") -> int | None:
        """The number of the kin of `block` in this session: blocks of one kin type alike, cell for cell (the same
        names in the same order, the same types, every override check passing alike), so the records of one,
        renamed, are what inferring the other would record (sibling_entry). None where `block` is not one this
        session built, or has an own swept or listed cell, a zipped sweep, or a cell a `set` holds to the type of
        what it replaced (set_over: checked at the set, Checker._check_set).

        What makes a kin (_kin): the kind, the parent's kin, and the shapes (cell_shape: name, declared unit,
        options, a formula's structure) of the block's own cells, in order, but for those that override a cell of
        the parent of the same shape: such an override types as the cell it replaces, and its check passes. A
        block whose own cells are all such overrides ("bare": it checks no override that can fail) types as its
        parent: it is kin to the other bare blocks over its parent's kin, and to its parent where the parent is
        bare too (a report's model that changes only its `hf_id` and `max_pos` of a library model that changes
        only its family's numbers). Not to a parent that is not bare: the parent checks an override of another
        shape, which may fail, where the child checks nothing. So, by induction from the blocks that extend none
        (their own cells are all their cells): kin have their parents' cells, alike, in the same order, then the
        same own cells in the same order, and check the same overrides; a new cell is typed alike from cells typed
        alike, and an override compared with a parent's cell of the same type. The siblings of a family are kin,
        and so are the blocks under a `set`: a calibration's `set { gpu.hbm_stream_efficiency = 0.55 }` makes a
        new `gpu` Block, and a new Block of every GPU that extends it, each the kin of the block it stands for.

        A string literal counts as its kind alone, but for its value in a choice (`mem_type = "HBM3"`, whose check
        reads it), and in every cell of the chain where a choice's formula reads a cell (the check of a choice
        reads the string values its formula leads to, which may be inherited: `kind: "a" | "b" = flavour`)."""
        if block.set_over:                         # written after the blocks are built (blocks.build_blocks)
            return None
        key = (id(block), None)
        found = self.kins.get(key, False)
        if found is False:
            found = self.kins[key] = self._kin(block, _choice_reads_a_cell(block))
        return found

    def _kin(self, block: "Block", values: bool) -> int | None:
        """kin, counting the values of strings where `values`."""
        key = (id(block), values)
        found = self.kins.get(key, False)
        if found is False:
            found = self.kins[key] = self._made_kin(block, values)
        return found

    def _made_kin(self, block: "Block", values: bool) -> int | None:
        if id(block) not in self.parents or block.zipped or block.set_over:
            return None
        cells = block.cells
        own = [cells.get(node_cell.name) for node_cell in block.node.cells]
        if any(cell is None or cell.sweep for cell in own):
            return None
        parent = self.parents[id(block)]
        parent_kin, replaced = (self._kin(parent, values), parent.cells) if parent is not None else (None, {})
        if parent is not None and parent_kin is None:      # kin through the same parent Block only
            parent_kin, replaced = self._kin_number(("block", id(parent))), {}
        shapes = []
        for cell in own:
            shape = cell_shape(cell, values)
            if shape is None:
                return None
            before = replaced.get(cell.name)
            if before is not None and not before.sweep and cell_shape(before, values) == shape:
                continue                           # types as the cell it replaces, and its check passes
            shapes.append(shape)
        if parent is not None and not shapes:
            # Every own cell types as the cell it replaces: the block types as its parent, and each of its override
            # checks passes. It is its parent's kin only where the parent is such a block too: a parent that
            # overrides a cell with another shape checks that override, which may fail (`area = 5 s` over a count)
            # where this block, inheriting it, checks nothing, so its clean records must not stand for the
            # parent's kin (the blocks under a `set` of the parent's own parent).
            if parent_kin in self.bare_kins:
                return parent_kin
            bare = self._kin_number(("bare", parent_kin, block.kind, values))
            self.bare_kins.add(bare)
            return bare
        return self._kin_number((parent_kin, block.kind, values, tuple(shapes)))

    def _kin_number(self, made_of: tuple) -> int:
        number = self.kin_numbers.get(made_of)
        if number is None:
            number = self.kin_numbers[made_of] = len(self.kin_numbers)
        return number

    def _block_entry(self, block: "Block") -> "BlockEntry | None":
        memo, key = self.free, id(block)
        tops = []
        for name in block.cells:
            entry = memo.get((key, name))
            if entry is None or entry.block is not block or entry.facts or not _plain(entry):
                return None
            tops.append(entry)
        types: dict = {}
        entries: dict = {}

        def visit(entry: CellEntry) -> bool:        # in the order _replay_items types them
            for item in entry.items:
                if item.key not in types and not visit(item):
                    return False
            if not _plain(entry):
                return False
            types[entry.key] = entry.vtype
            entries[entry.key] = entry
            return True

        for entry in tops:
            if entry.key not in types and not visit(entry):
                return None
        return BlockEntry(block, frozenset().union(*(entry.ids for entry in tops)),
                          max((entry.height for entry in tops), default=0), types, dict.fromkeys(types, EMPTY),
                          entries)


def _plain(entry: CellEntry) -> bool:
    """Whether replaying `entry` only types cells: clean (so its items are CellEntries only), no missing input of
    its own, nothing reached."""
    return entry.clean and entry.missing is None and not entry.reach


class Sharing:
    """The part of checker.Checker that records pure cells and replays other checkers' records (mixed into it).

    It reads and writes the checker's `blocks`, `ctx`, `types`, `reach`, `missing_inputs` and `_depth` (the formula
    level being followed, a one-item list), calls its `report` and `_swept_cell_type`, and keeps its own state:
    the records of this checker's pure cells (`_entries`), the frames of the cells being inferred, counts of impure
    and of contextual events (a frame is pure, or universal, where its count did not change while it ran), the
    deepest formula level reached (`_peak`), and which records fit this program (`_fits`, `_facts_fit`).
    """

    def _init_sharing(self, session: CheckSession | None, report_free: bool) -> None:
        # Records are made only where they can be shared: with a session (and in the report-free checker that one
        # makes for overrides, which its parent sets). Without, checking costs what it did before sharing existed.
        self._recording = session is not None
        self._session = session
        self._memo = session.memo(report_free) if session is not None else None
        self._entries: dict[tuple[str, str], CellEntry] = {}
        self._frames: list[Frame] = []
        self._impure = 0
        self._contextual = 0
        self._peak = [0]
        self._replaying = 0
        self._fits: dict[frozenset, bool] = {}
        self._here: frozenset | None = None        # ids of this program's blocks that no role of the report takes
        self._facts_fit: dict[frozenset, bool] = {}

    def __getstate__(self) -> dict:
        """A copy for another process (a prepared program sent to Dask workers) keeps its types and diagnostics but
        shares nothing: the records and their checks are keyed by id(), which means nothing there (nor does the
        checker's own cache of role cells, keyed the same way)."""
        state = dict(self.__dict__)
        state.update(_memo=None, _session=None, _entries={}, _fits={}, _facts_fit={}, _here=None)
        if "_role_cells" in state:                 # the checker's, keyed by id() of its lists of blocks
            state["_role_cells"] = {}
        if "_uniform" in state:                    # the checker's, id() of the lists kept in _role_cells
            state["_uniform"] = set()
        if "_resolved" in state:                   # the checker's names resolved, with the ids of their blocks
            state["_resolved"] = {}
        if "_formulas" in state:                   # the session's formula plans (formula_types.py): not shared
            state["_formulas"] = None
        return state

    def _open_frame(self) -> Frame | None:
        """Start recording a cell (or a step) being inferred (None where this checker makes no records)."""
        if not self._recording:
            return None
        frame = Frame(self._impure, self._contextual, self._depth[0], self._peak[0])
        self._peak[0] = frame.base
        self._frames.append(frame)
        return frame

    def _close_frame(self, frame: Frame | None) -> int:
        """Stop recording `frame`; returns the formula levels its inference followed."""
        if frame is None:
            return 0
        self._frames.pop()
        height = self._peak[0] - frame.base
        self._peak[0] = max(frame.outer_peak, self._peak[0])
        return height

    def _record_cell(self, block: "Block", name: str, vtype: "VType", frame: Frame, height: int, keep: bool) -> None:
        """Keep the record of a cell just inferred where it is pure (in the session too, where `keep`)."""
        if frame is None or frame.impure_at != self._impure:
            return
        key = (block.name, name)
        universal = frame.contextual_at == self._contextual
        entry = self._entries[key] = CellEntry(block, name, vtype, self.reach[key], height,
                                               frozenset(frame.ids) if frame.ids else EMPTY, frame.items or (),
                                               self.missing_inputs.get(key),
                                               frozenset(frame.facts) if frame.facts else EMPTY,
                                               universal, frame.clean)
        if self._memo is not None and keep:
            self._session.keep(self.ctx is None, block, entry)

    def _reused(self, key: tuple[str, str]) -> None:
        """The cell `key` was typed (or reused) inside the cell being inferred: that cell's record names it, and is
        impure where it is."""
        frames = self._frames
        if not frames:
            return
        entry = self._entries.get(key)
        if entry is None:
            self._impure += 1
            return
        # Frame.add and _absorb written out: this runs for every reference to a cell typed already (50,000 times in
        # a check of the libraries).
        frame = frames[-1]
        if frame.items is None:
            frame.items = [entry]
        else:
            frame.items.append(entry)
        if not entry.clean:
            frame.clean = False
        if not entry.universal:
            self._contextual += 1
        if entry.ids:
            frame.ids.update(entry.ids)
        if entry.facts:
            frame.facts.update(entry.facts)
        top = self._depth[0] + entry.height
        if top > self._peak[0]:
            self._peak[0] = top

    def _absorb(self, entry: CellEntry | None) -> None:
        """The blocks and the formula levels of a pure cell's inference count for the cell being inferred."""
        if entry is None:
            self._impure += 1
            return
        if not entry.universal:
            self._contextual += 1
        if self._frames:
            if entry.ids:
                self._frames[-1].ids.update(entry.ids)
            if entry.facts:
                self._frames[-1].facts.update(entry.facts)
        top = self._depth[0] + entry.height
        if top > self._peak[0]:
            self._peak[0] = top

    def _reuse_all(self, reused: Reused) -> None:
        """What _reused does for each of the records (of typed cells) in `reused`, in one step: the records join the
        record of the cell being inferred, in order, and count for it as _absorb counts each (the counts of impure
        and contextual events are only compared with their values when a frame opened: one step of each is
        enough)."""
        frame = self._frames[-1]
        entries = reused.entries
        if entries:
            if frame.items is None:
                frame.items = list(entries)
            else:
                frame.items.extend(entries)
            if not reused.clean:
                frame.clean = False
            if reused.contextual:
                self._contextual += 1
            if reused.ids:
                frame.ids.update(reused.ids)
            if reused.facts:
                frame.facts.update(reused.facts)
            top = self._depth[0] + reused.height
            if top > self._peak[0]:
                self._peak[0] = top
        if reused.unrecorded:
            self._impure += 1

    def _note_role(self, bound: tuple) -> None:
        """The cell being inferred reads a role the report binds: `bound` is (the fact its record keeps, the ids of
        the role's blocks), one tuple per role for the checker's life. Added once per frame: a cost-model cell reads
        the same role in many references, and the ids of a swept role's 30 blocks were added again at each."""
        frame = self._frames[-1]
        roles = frame.roles
        if roles is None:
            frame.roles = {id(bound)}
        elif id(bound) in roles:
            return                             # its fact and ids are in the frame already (the sets only grow)
        else:
            roles.add(id(bound))
        frame.facts.add(bound[0])
        frame.ids.update(bound[1])

    def note_block(self, name: str) -> None:
        """The cell being inferred names the block `name` (which exists): its record holds for programs where
        the same Block has that name."""
        if self._frames:
            self._frames[-1].ids.add(id(self.blocks[name]))

    def _recorded(self, block: Block, name: str) -> CellEntry | None:
        """Another checker's record of the cell, where it holds here: the same Block, every block it named the same
        here and (with a report) none of them bound to a role, and its chain of formulas within MAX_CHAIN_DEPTH.
        With a report, the latest record is tried first, then the earlier ones kept for other bindings of the
        roles (CheckSession.older), latest first."""
        if self._memo is None:
            return None
        key = (id(block), name)
        entry = self._memo.get(key)
        if entry is None:
            return None
        if self._holds(entry, block):
            return entry
        if self.ctx is not None:
            for other in reversed(self._session.older.get(key, ())):
                if self._holds(other, block):
                    return other
        return None

    def _holds(self, entry: CellEntry, block: Block) -> bool:
        """Whether the record `entry` holds here for the cell of `block` (see _recorded)."""
        if entry.block is not block or self._depth[0] + entry.height > MAX_CHAIN_DEPTH:
            return False
        if entry.facts:
            holds = self._facts_fit.get(entry.facts)
            if holds is None:
                holds = self._facts_fit[entry.facts] = all(self._context_fact(*fact[:3]) == fact
                                                           for fact in entry.facts)
            if not holds:
                return False
        if not entry.ids:
            return True
        fits = self._fits.get(entry.ids)
        if fits is None:
            fits = self._ids_fit(entry.ids)
        return fits

    def _ids_fit(self, ids: frozenset) -> bool:
        """Whether every block of `ids` is a block of this program (with a report, under a name no role of the
        report takes); kept per set of ids."""
        fits = self._fits.get(ids)
        if fits is None:
            if self._here is None:
                roles = set(self.ctx.roles) if self.ctx is not None else set()
                self._here = frozenset(id(b) for n, b in self.blocks.items() if n not in roles)
            fits = self._fits[ids] = ids <= self._here
        return fits

    def _replay_block(self, block: "Block") -> bool:
        """Type every cell of `block` from the top at once where the records of its cells, taken together
        (CheckSession.block_entry), hold here: each record then holds here (its ids are among theirs, its height at
        most theirs), so replaying them one by one would type exactly these cells, in this order, and report
        nothing. False (nothing done) where they do not."""
        if self._memo is None or self.ctx is not None:
            return False
        found = self._session.block_entry(block)
        if found is None:
            found = self._session.sibling_entry(block)
        if found is None or self._depth[0] + found.height > MAX_CHAIN_DEPTH:
            return False
        if found.ids and not self._ids_fit(found.ids):
            return False
        types = self.types
        if types.keys().isdisjoint(found.types):        # the first block to type these cells here (most often)
            types.update(found.types)
            self.reach.update(found.reach)
            self._entries.update(found.entries)
            return True
        # A cell typed already was typed with every cell its record types (it read them first), as replaying cell
        # by cell skips it with them.
        reach, entries = self.reach, self._entries
        for key, entry in found.entries.items():
            if key not in types:
                types[key] = entry.vtype
                reach[key] = EMPTY
                entries[key] = entry
        return True

    def shared_step(self, block: Block, name: tuple, run):
        """A step of checking that is not a cell (constraints.check_requires: one `require` in one block), shared
        like a cell: replayed from another checker's record where it holds here, else run and recorded where it is
        pure. `run()` returns (result, keep): the step's result, and whether it may be kept (it must be a function
        of what it read, not of what this checker reported before). A step that read no role, no swept cell and no
        declared input left open (a model's or a GPU's own `require`) is kept for both kinds of checker, as a cell
        is: with a report, `run` would find the same (it applies, it reads the same constants). Returns the
        result."""
        entry = self._recorded(block, name)
        if entry is not None:
            self._replay(entry, typed=False)
            return entry.vtype
        frame = self._open_frame()
        try:
            result, keep = run()
        finally:
            height = self._close_frame(frame)
        if keep and frame is not None and frame.impure_at == self._impure and self._memo is not None:
            self._session.keep(self.ctx is None, block, CellEntry(
                block, name, result, EMPTY, height, frozenset(frame.ids) if frame.ids else EMPTY, frame.items or (),
                facts=frozenset(frame.facts) if frame.facts else EMPTY,
                universal=frame.contextual_at == self._contextual))
        return result

    def replay_requires(self, block: Block) -> list | None:
        """At the top (no cell being inferred): the step of each `require` of `block` (constraints.check_requires)
        replayed from the session's records at once, where the records of all of them (CheckSession.requires_entry)
        hold here: each record then holds here (its ids are among theirs, its height at most theirs), so
        shared_step would replay each, in this order, with the same results. A checker with a report takes them
        where each is universal (read no role, no swept cell, no input left open) and the latest kept for
        checkers with a report too (the one shared_step would look up first): a GPU's expectations, checked
        again in each report that binds the GPU (the reports of a check of the libraries, -j 1, looked up and
        replayed 5,963 steps one by one; 1,577 now).
        Returns their results, in the order of `block.requires`; None (nothing done) where they do not hold."""
        if self._memo is None or self._frames:
            return None
        found = self._session.requires_entry(block)
        if found is None or self._depth[0] + found.height > MAX_CHAIN_DEPTH:
            return None
        if self.ctx is not None:
            if not found.universal:
                return None
            memo, key = self._memo, id(block)
            if any(memo.get((key, entry.name)) is not entry for entry in found.steps):
                return None
        if found.ids and not self._ids_fit(found.ids):
            return None
        if found.typed <= self.types.keys():
            # Every cell the records type is typed here already (most often: type_cells typed the program's cells
            # first), so replaying them would do nothing.
            return [entry.vtype for entry in found.steps]
        results = []
        for entry in found.steps:
            if entry.items:
                self._replay(entry, typed=False)
            results.append(entry.vtype)
        return results

    def typed_clean(self) -> bool:
        """Whether the step being run (shared_step) has reported nothing so far, nor has any cell it typed."""
        return bool(self._frames) and self._frames[-1].clean

    def _context_fact(self, kind: str, a: str, b: str | None) -> tuple:
        """What this checker's report gives for a fact of a record (shared_checks.CellEntry.facts): the blocks a role
        takes, or the type of a swept cell (None where the report does not bind it)."""
        ctx = self.ctx
        if ctx is None:
            return (kind, a, b, None)
        if kind == "role":
            if a in ctx.fixed_roles:
                return (kind, a, b, ((ctx.fixed_roles[a],), False))
            if a in ctx.swept_roles:
                return (kind, a, b, (tuple(ctx.role_blocks(a)), True))
            return (kind, a, b, None)
        return (kind, a, b, self._swept_cell_type(a, b))

    def _replay(self, entry: CellEntry, typed: bool = True) -> None:
        """Do what inferring the cell did: report its diagnostics and type the cells it typed, in the same order,
        skipping cells already typed here (as inferring would). `typed` False: a step, not a cell."""
        self._replaying += 1
        try:
            self._replay_items(entry, typed)
        finally:
            self._replaying -= 1

    def _replay_items(self, entry: CellEntry, typed: bool = True) -> None:
        key = entry.key
        if entry.missing is not None:
            self.missing_inputs[key] = entry.missing
        types = self.types
        for item in entry.items:
            if type(item) is CellEntry:
                if item.key not in types:
                    self._replay_items(item)
            else:
                code, message, span, path, severity, kwargs = item
                self.report(code, message, span, path, severity=severity, **kwargs)
        if not typed:
            return
        types[key] = entry.vtype
        self.reach[key] = entry.reach
        self._entries[key] = entry



def _choice_reads_a_cell(block: "Block") -> bool:
    """Whether the formula of some choice of `block` reads a cell (whose string values its check then reads)."""
    return any(cell.choices is not None and cell.expr is not None and type(cell.expr) is not ir.Str
               and any(node.kind == "ref" for node in walk(cell.expr)) for cell in block.cells.values())


def cell_shape(cell: "ir.Cell", values: bool = False) -> tuple | None:
    """What the inference of a cell reads of it: its name, declared unit and dimension, options, and its formula's
    structure (`formula_shape`: the names it reads, its operators and functions, the dimensions of its numbers, its
    strings); a cell that is only a string literal counts as its kind alone, but for a choice's (whose check reads
    its value) and where `values` (a choice of its block reads cells: its check reads the values it leads to). None
    for a formula that is a list, range or tuple."""
    expr = cell.expr
    if expr is None:
        formula = None
    elif type(expr) is ir.Str:
        formula = ("str", expr.value) if values or cell.choices is not None else ("str",)
    else:
        formula = formula_shape(expr)
        if formula is None:
            return None
    return (cell.name, cell.declared, cell.declared_dim, cell.choices, cell.choice_blocks, formula)


def formula_shape(expr: "ir.Expr") -> tuple | None:
    """A formula's structure, as the checker's inference reads it: each node, parents first, left to right, as its
    kind with its operator, function and argument count, reference path, number's dimension (not its value: the
    type of a number is its dimension) or string. None for a list, range or tuple (never a plain record)."""
    shape = []
    for node in walk(expr):
        kind = node.kind
        if kind == "num":
            shape.append(("num", node.dim))
        elif kind == "ref":
            shape.append(("ref", node.parts))
        elif kind == "str":
            shape.append(("str", node.value))
        elif kind == "bool":
            shape.append(("bool",))
        elif kind == "unary" or kind == "binary":
            shape.append((kind, node.op))
        elif kind == "call":
            shape.append(("call", node.func, len(node.args)))
        else:
            return None
    return tuple(shape)
