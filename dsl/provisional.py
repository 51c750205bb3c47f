"""Provisional cells (stage 5, beside the evaluator): which shown metrics rest on cells marked `# provisional`, and
by how much.

A cell is provisional where the comment on the line that defines it starts with the word `provisional`
(`step_overhead = 1 ms   # provisional: scheduler, sampler ...`, `# provisional (as vllm): fitted in ...`): a value of
the right order that no source gives. The text after the word is its reason (`marked_reason`). A block that extends
it and does not define the cell again reads the parent's line, so the cell stays provisional there; a calibration's
`set { ... }`, a report's own definition or a `--set` defines it anew on another line, so it no longer is.

`perfdsl eval` says which shown metrics read such cells (`note[provisional]`, provisional_note; the workbook's About
sheet, provisional_text) and each cell's share of each metric: its elasticity, value x d(metric)/d(value) / metric,
found by evaluating the shown cells again with the cell 1% larger (FACTOR) over a bounded sample of the points shown
(sample_of: every point of a sweep of at most BOX_POINTS points, else those on an evenly spaced grid of it, or rows
evenly spaced), and given as the range over those points. A cell that is 0 has no share (0 at its value); it is tried
with a small amount added (PROBES), to say the amount of it that would move a metric by 1%. A cell read only in a
branch of `if` that no sampled point takes is not named (the evaluation does not compute it); one read but moving no
metric (under a `max` it does not win there) is named in the headline, without a share. The console gives a line a
cell: the range of its share of the metric it moves most, with the point where that is largest, and a count of the
others; the workbook gives the same lines with the definition of a share and the points read (HOW).

The evaluations run on a box of the sweep (chunks.box_context) with a fresh Evaluator whose constants leave out every
cell downstream of the provisional ones, so the note costs a few evaluations of at most BOX_POINTS points however
large the sweep (a chunked sweep's memory bound holds: no array is larger than the box).
"""

from __future__ import annotations

import math
import re
import weakref
from dataclasses import dataclass, field

from . import ir
from .errors import Diagnostic, Location, PerfError
from .evaluator import Constants, Evaluator
from .lazy_numpy import lazy_numpy
from .units import BYTES, TIME, UnitError, parse_unit

np = lazy_numpy(__name__)

CODE = "provisional"
# The word that marks a cell, at the start of the comment on its line (any case), then its reason.
_MARK = re.compile(r"provisional\b(.*)", re.IGNORECASE | re.DOTALL)
FACTOR = 1.01                   # a cell that is not 0 is tried 1% larger: its elasticity is the change / 1%
BOX_POINTS = 4096               # the most points a sample's box evaluates (a sweep this small is read whole)
SAMPLE_ROWS = 256               # the most rows sampled from a result's rows when its sweep is larger
MIN_ON_GRID = 64                # rows a grid of the sweep must hold to be the sample (else rows evenly spaced)
# The amount (SI) added to a provisional cell that is 0, by its dimension: a size 1 GiB (a byte moves no figure a
# person reads in floats), anything else 1 of the unit it is written in (`0 us`: 1 us; a duration without one: 1 ms).
PROBES = {BYTES: 2.0 ** 30}
MAX_METRICS = 4                 # metrics named on a cell's line; the others are counted, with their largest share
MAX_CELLS = 8                   # cells named, the largest share first; the others are counted


@dataclass(frozen=True)
class Marked:
    """A provisional cell as it is defined: the block that writes it (`block`; blocks that extend it read it too),
    the cell's name, its formula as written ("1 ms"), the reason after the word `provisional` ("" where none), and
    where it is defined."""

    block: str
    cell: str
    written: str
    reason: str
    location: Location

    @property
    def name(self) -> str:
        return f"{self.block}.{self.cell}"


@dataclass
class CellShare:
    """A provisional cell's share of each shown metric it moves: (metric name, least, largest) elasticities as
    fractions (0.084: 8.4%), the largest in size first. `one_percent`: for a cell that is 0 (no share), the least
    amount of it that would move the first metric by 1% ("79 MiB"), found from adding a small amount (PROBES); its
    `shares` are then the relative changes from that amount."""

    marked: Marked
    shares: list[tuple[str, float, float]]
    one_percent: str | None = None
    # The cell as the blocks that read it, where that is not just the block that defines it: `trtllm.kernel_overhead`
    # (only a block that inherits it reads it), or several (`vllm.allreduce_latency`, `sglang.allreduce_latency`:
    # swept stacks, one inheriting the other's line).
    read_as: list[str] = field(default_factory=list)
    peak: str = ""          # the point where the first metric's share is largest in size ("tp=8"; "" for one point)
    meaning: str = ""       # what the cell is, from the comment of the block that declares it ("" where none)

    @property
    def setting(self) -> str:
        """The name to --set it by: as it is read (`trtllm.kernel_overhead`), or as it is defined."""
        return self.read_as[0] if len(self.read_as) == 1 else self.marked.name

    @property
    def also_sets(self) -> list[str]:
        """The blocks besides the one --set names whose reading of the cell that --set changes too (they inherit it)."""
        named = self.setting.partition(".")[0]
        return [name.partition(".")[0] for name in self.read_as if name.partition(".")[0] != named]

    @property
    def largest(self) -> float:
        return max(max(abs(low), abs(high)) for _, low, high in self.shares)


@dataclass
class Shares:
    """What the note says of one evaluation: the cells that move a shown metric (the largest share first), those
    read that move none at the points sampled (`unmoved`), those whose changed value could not be evaluated
    (`failed`), and the points sampled, in words (`sample`)."""

    cells: list[CellShare] = field(default_factory=list)
    unmoved: list[Marked] = field(default_factory=list)
    failed: list[Marked] = field(default_factory=list)
    sample: str = ""
    report_file: str = ""
    report: str = ""
    metrics: list[str] = field(default_factory=list)      # the report's numeric shown metrics, in its order


def marked_reason(sources, cell: ir.Cell) -> str | None:
    """The reason of a cell marked provisional, the comment's text after the word (`provisional (as vllm): fitted
    ...` -> "as vllm: fitted ..."; "" where the word stands alone); None where the cell is not marked, or has no
    value (a declared input) or is a sweep. `sources`: blocks.SourceLines (the comment is read from the line, as
    `explain` reads it: SourceLines.cell_comment)."""
    if cell.expr is None or cell.sweep:
        return None
    found = _MARK.match(sources.cell_comment(cell))
    if found is None:
        return None
    rest = found.group(1).strip()
    if rest.startswith("(") and ")" in rest:
        inside, after = rest[1:rest.index(")")].strip(), rest[rest.index(")") + 1:].lstrip(" :-").strip()
        return f"{inside}: {after}" if inside and after else inside or after
    return rest.lstrip(":-").strip()


def marked_cells(program, keys) -> dict[tuple[str, str], Marked]:
    """The provisional cells among `keys` ((block, cell) pairs), by the (block that defines it, cell) pair: a cell
    inherited by several blocks is one entry."""
    found: dict[tuple[str, str], Marked] = {}
    for block_name, name in keys:
        block = program.blocks[block_name]
        cell = block.cells[name]
        owner = block.owner.get(name, block_name)
        if (owner, name) in found:
            continue
        reason = marked_reason(program.sources, cell)
        if reason is not None:
            span = cell.span
            found[(owner, name)] = Marked(owner, name, " ".join(cell.text.split()), reason,
                                          Location(span.file, span.line, span.col))
    return found


class _Changed(Evaluator):
    """An evaluator that reads the cells `changed` ((block, cell) keys) multiplied by `factor` plus `added` (SI)."""

    def __init__(self, *args, changed: frozenset = frozenset(), factor: float = 1.0, added: float = 0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self._changed, self._factor, self._added = changed, factor, added

    def _cell(self, block, name: str, fix: dict[int, int]):
        if (block.name, name) not in self._changed:
            return super()._cell(block, name, fix)
        key = (block.name, name, tuple(sorted(fix.items())) if fix else ())
        cached = self.memo.get(key)
        if cached is not None:
            return cached
        value = super()._cell(block, name, fix) * self._factor + self._added
        self.memo[key] = value
        return value


def sample_of(ctx, shown, n_shown_words: str):
    """(the context of a box of the sweep to evaluate, the flat indices in that box of the points to read, the
    points in words). `shown`: the flat indices (over `ctx.shape`) of the points the output shows, or None for
    every point of the sweep (a streamed sweep: the caller keeps those that meet the report's conditions). A sweep of
    at most BOX_POINTS points is read whole; else a grid of positions evenly spaced along each axis, of at most
    BOX_POINTS points: all of them where every point is shown, the rows shown on it where it holds MIN_ON_GRID of
    them (the points that meet the constraints), else SAMPLE_ROWS of the rows shown, evenly spaced (a question's
    answer), fewer where their box would pass BOX_POINTS."""
    from .chunks import box_context

    total = ctx.n_points
    if total <= BOX_POINTS:
        points = np.arange(total) if shown is None else np.asarray(shown)
        return ctx, points, _all_of(len(points), n_shown_words)
    shape = ctx.shape
    counts = list(shape)
    while math.prod(counts) > BOX_POINTS:
        axis = max(range(len(counts)), key=lambda a: counts[a])
        counts[axis] = (counts[axis] + 1) // 2
    positions = [np.unique(np.linspace(0, length - 1, count).round().astype(np.int64))
                 for length, count in zip(shape, counts)]
    grid = box_context(ctx, positions)
    if shown is None or len(shown) == total:
        return grid, np.arange(grid.n_points), (f"a grid of {grid.n_points:,} of the sweep's {total:,} points, "
                                                "evenly spaced along each axis")
    shown = np.asarray(shown)
    # Rows that are most of the sweep (the points that meet its constraints): those of them on the grid.
    whole = np.ravel_multi_index(np.meshgrid(*positions, indexing="ij"), shape).reshape(-1)
    on_grid = np.flatnonzero(np.isin(whole, shown))
    if len(on_grid) >= min(MIN_ON_GRID, len(shown)):
        return grid, on_grid, (f"{len(on_grid):,} of the {len(shown):,} {n_shown_words}, on a grid evenly spaced "
                               "along each axis")
    k = min(len(shown), SAMPLE_ROWS)
    while True:
        chosen = shown[np.unique(np.linspace(0, len(shown) - 1, k).round().astype(np.int64))]
        index = np.unravel_index(chosen, shape)
        positions = [np.unique(at) for at in index]
        if math.prod(len(p) for p in positions) <= BOX_POINTS or k == 1:
            break
        k = max(k // 2, 1)
    box = box_context(ctx, positions)
    inner = np.ravel_multi_index(tuple(np.searchsorted(p, at) for p, at in zip(positions, index)), box.shape) \
        if shape else np.zeros(len(chosen), dtype=np.int64)
    words = _all_of(len(chosen), n_shown_words) if len(chosen) == len(shown) else \
        f"{len(chosen):,} of the {len(shown):,} {n_shown_words}, evenly spaced"
    return box, inner, words


def _all_of(count: int, words: str) -> str:
    """ "the 56 points shown", "the only point shown" (`words`: "points shown", "rows of the answer", ...)."""
    if count == 1:
        first, _, rest = words.partition(" ")
        return f"the only {first.removesuffix('s')} {rest}".rstrip()
    return f"the {count:,} {words}"


def shares_of(program, report: str | None, shown=None, shown_words: str = "points shown",
              conditions: bool = False) -> Shares | None:
    """The Shares of a prepared report's shown metrics (`program` with any overrides applied), over the points
    `shown` (flat sweep indices; None: every point, sampled by sample_of) named `shown_words` in the note.
    `conditions`: keep only the sampled points that meet the report's constraints and `where` lines (a streamed
    sweep, whose rows are not kept). None where no shown metric reads a provisional cell."""
    from .program import expr_roots

    ctx, checker = program.prepare(report)
    link = checker.link
    items = [item for item in ctx.report.shows if _numeric(checker, ctx, item)]
    reachable = link.reachable(expr_roots(link, ctx, [item.ref for item in items]))
    marked = marked_cells(program, reachable)
    readers: dict[tuple[str, str], set] = {key: set() for key in marked}
    for block_name, name in reachable:
        owner = program.blocks[block_name].owner.get(name, block_name)
        if (owner, name) in readers and getattr(checker.types.get((block_name, name)), "kind", None) == "num":
            readers[(owner, name)].add((block_name, name))          # a number, which can be made larger
    marked = {key: found for key, found in marked.items() if readers[key]}
    if not marked:
        return None
    box, points, words = sample_of(ctx, shown, shown_words)
    if conditions:
        points = _meeting_conditions(program, box, checker, points)
        words = _all_of(len(points), shown_words) if box is ctx else f"{words} ({len(points):,} of them meet its " \
            "conditions)"
        if not len(points):
            return None
    # Constants shared by every evaluation below: the report's constant cells that read no provisional cell.
    base_constants = program._constants_of(ctx.report.name, checker)
    downstream = _downstream(link, reachable, {key for keys in readers.values() for key in keys})
    constants = Constants(frozenset(base_constants.cells - downstream), axes=base_constants.axes)

    def evaluate(changed=frozenset(), factor=1.0, added=0.0):
        evaluator = _Changed(program.blocks, box, program.sources, checker.types, link=link, constants=constants,
                             changed=changed, factor=factor, added=added)
        values = evaluator.run(lambda: [evaluator.ref(item.ref, ctx.report) for item in items])
        return evaluator, [np.broadcast_to(value, box.shape).reshape(-1)[points].astype(float) for value in values]

    base_evaluator, base = evaluate()
    varying = _varying(box, points)
    # A cell only a branch of `if` that no sampled point takes reads was not computed: the metrics do not rest on it.
    computed = {(block_name, name) for block_name, name, _ in base_evaluator.memo}
    shares = Shares(sample=words, report_file=ctx.report.file, report=ctx.report.name,
                    metrics=[item.name for item in items])
    for key, found in marked.items():
        keys = frozenset(readers[key] & computed)
        if not keys:
            continue
        zero = all(not np.asarray(value).any() for (b, c, _), value in base_evaluator.memo.items() if (b, c) in keys)
        added = _probe(program.blocks[key[0]].cells[key[1]], checker, next(iter(keys))) if zero else 0.0
        try:
            _, changed = evaluate(keys, 1.0 if zero else FACTOR, added)
        except PerfError:
            shares.failed.append(found)
            continue
        moved, named, peaks = [], set(), {}
        for item, before, after in zip(items, base, changed):
            ok = np.isfinite(before) & np.isfinite(after) & (before != 0)
            if item.name in named or not ok.any() or (after[ok] == before[ok]).all():
                continue            # a name shown twice (in two units) is one metric
            named.add(item.name)
            relative = (after[ok] - before[ok]) / before[ok]
            share = relative if zero else relative / (FACTOR - 1)
            moved.append((item.name, float(share.min()), float(share.max())))
            peaks[item.name] = int(points[np.flatnonzero(ok)[int(np.abs(share).argmax())]])
        if not moved:
            shares.unmoved.append(found)
            continue
        moved.sort(key=lambda s: -max(abs(s[1]), abs(s[2])))
        one_percent = None
        if zero:            # linear in a small amount: the amount that moves the most sensitive metric by 1%
            vtype = checker.types.get(next(iter(keys)))
            one_percent = _quantity(added * 0.01 / max(abs(moved[0][1]), abs(moved[0][2])), getattr(vtype, "dim", None))
        # Read as blocks other than the one defining it: only blocks that inherit it, or several (the definer first).
        read_as = sorted(f"{b}.{c}" for b, c in keys if (b, c) != key)
        read_as = ([found.name] if key in keys else []) + read_as if key not in keys or len(keys) > 1 else []
        peak = _point(box, varying, peaks[moved[0][0]]) if not zero else ""
        shares.cells.append(CellShare(found, moved, one_percent, read_as, peak, _meaning(program, found)))
    if not shares.cells and not shares.failed:
        return None         # none moves a shown metric (nor is read, in a branch of `if` that no point takes)
    shares.cells.sort(key=lambda c: (c.one_percent is not None, -c.largest))
    return shares


def _varying(box, points) -> list[int]:
    """The axes of `box` whose coordinate differs among the flat `points` (those a point is named by)."""
    if not box.shape or len(points) < 2:
        return []
    index = np.unravel_index(np.asarray(points), box.shape)
    return [axis for axis, at in enumerate(index) if len(np.unique(at)) > 1]


def _point(box, varying: list[int], flat: int) -> str:
    """A point of `box` (flat index) by the coordinates of the `varying` axes: "tp=8", "stack=vllm, tp=8"; every
    coordinate of a zipped axis ("tp=8, ep=8")."""
    from .render import format_number

    if not varying:
        return ""
    index = np.unravel_index(flat, box.shape)
    parts = []
    for axis in varying:
        for coord in box.axes[axis].coords:
            value = coord.values[index[axis]]
            if coord.kind == "num":
                text = format_number(float(value) / coord.scale, 4) + (f" {coord.unit}" if coord.unit else "")
            else:
                text = format_number(value.item() if hasattr(value, "item") else value)
            parts.append(f"{coord.name}={text}")
    return ", ".join(parts)


def _meaning(program, marked: Marked) -> str:
    """What a cell is, where the block that defines it overrides a block that declares or defines it with a comment
    (stack_base's `allreduce_latency ... # provisional: the fixed time per ring step of a tensor-parallel collective
    (2 (tp - 1) steps an all-reduce, ...), TensorRT-LLM's fit ...`): that comment's first part, up to its first `, `,
    `; ` or `: ` outside parentheses, without the word `provisional`; of the first block in its lineage that writes it
    (a base's declaration says what the cell is, an override in between why its value). "" where the block overrides
    none, or the comment is empty."""
    block = program.blocks.get(marked.block)
    for name in reversed(block.lineage[1:] if block is not None else []):      # the block that declares it first
        base = program.blocks.get(name)
        if base is None or marked.cell not in base.cells or base.owner.get(marked.cell) != name:
            continue
        comment = program.sources.cell_comment(base.cells[marked.cell])
        if not comment.strip():
            continue
        found = _MARK.match(comment)
        if found is not None:
            comment = found.group(1).strip()
            if comment.startswith("("):         # `provisional (as vllm): ...`
                comment = comment[comment.index(")") + 1:] if ")" in comment else ""
            comment = comment.lstrip(" :-")
        depth = 0
        for at, char in enumerate(comment):
            depth += (char == "(") - (char == ")")
            if depth == 0 and comment[at:at + 2] in (", ", "; ", ": "):
                return comment[:at].strip()
        return comment.strip()
    return ""


def _numeric(checker, ctx, item: ir.ShowItem) -> bool:
    """Whether a show item is a number the note can give a share of (not a flag, a text, nor the report's axis)."""
    from .shown_axes import written_as_axis

    vtype = checker.ref_type(item.ref, ctx.report, "")
    return getattr(vtype, "kind", "num") == "num" and written_as_axis(ctx, item) is None


def _downstream(link, reachable, keys: set) -> set:
    """The cells among `reachable` that read any of `keys`, directly or not (the keys included)."""
    readers_of: dict = {}
    for key in reachable:
        for read in link.precedents(link.blocks[key[0]], key[1]):
            readers_of.setdefault(read, []).append(key)
    found, stack = set(), list(keys)
    while stack:
        key = stack.pop()
        if key not in found:
            found.add(key)
            stack.extend(readers_of.get(key, ()))
    return found


def _meeting_conditions(program, box, checker, points):
    """The points (flat in `box`) that meet the report's constraints and `where` lines (no question: a question's
    rows are given as `shown`)."""
    from .queries import answer

    try:
        result = program.evaluate_in(box, checker)
    except PerfError:           # no point of the sample meets the constraints: nothing to read there
        return points[:0]
    if box.report.questions:
        kept = np.flatnonzero(result.valid.reshape(-1))
    else:
        answer(result, checker)
        kept = result.rows.index if result.rows is not None else np.arange(box.n_points)
    return np.intersect1d(points, kept)


def _probe(cell: ir.Cell, checker, key) -> float:
    """The amount (SI) added to a provisional cell that is 0 (PROBES), the dimension's or 1 of its written unit."""
    vtype = checker.types.get(key)
    dim = getattr(vtype, "dim", None)
    if dim in PROBES:
        return PROBES[dim]
    unit = cell.expr.unit if isinstance(cell.expr, ir.Num) else None
    if unit:
        try:
            return parse_unit(unit).scale
        except (ValueError, UnitError):
            pass
    return 1e-3 if dim == TIME else 1.0


def _quantity(value: float, dim) -> str:
    """An amount in a readable unit ("79 MiB", "12 us"; a plain number where dimensionless)."""
    from .render import format_number
    from .units import DIMENSIONLESS, auto_unit

    if dim is None or dim == DIMENSIONLESS:
        return format_number(value, 3)
    unit, scale = auto_unit(dim, value)
    return f"{format_number(value / scale, 3)} {unit}"


# -- the note --------------------------------------------------------------------------------------------------

def _percent(share: float) -> str:
    """A share as a percentage without its sign's clutter: "8.4", "13", "<0.01", "0", "-3.3"."""
    if share == 0:
        return "0"
    size = abs(share) * 100
    if size < 0.005:
        return "<0.01" if share >= 0 else "-<0.01"
    text = f"{size:.2g}" if size < 10 else f"{size:.0f}"
    return ("-" if share < 0 else "") + text


def _range(low: float, high: float) -> str:
    """`3.1-8.4%`, `8.4%` where both ends read alike, `-8.4 to -3.1%` where an end is negative."""
    a, b = _percent(low), _percent(high)
    if a == b:
        return f"{a}%"
    return f"{a} to {b}%" if low < 0 or high < 0 else f"{a}-{b}%"


def _short(reason: str) -> str:
    """A reason's first clause (up to its first '; '): the note keeps one line a cell; explain shows it whole."""
    return reason.split("; ")[0]


def _place(share: CellShare) -> str:
    """Where a cell is defined, and how it is read where not just as that block: `software/stacks.perf:172`,
    `..., read as trtllm.kernel_overhead`, `..., read as vllm and sglang`."""
    marked = share.marked
    place = f"{marked.location.file}:{marked.location.line}"
    if len(share.read_as) == 1:
        return f"{place}, read as {share.read_as[0]}"
    if share.read_as:
        blocks = [name.partition(".")[0] for name in share.read_as]
        return f"{place}, read as {', '.join(blocks[:-1])} and {blocks[-1]}"
    return place


def _more(rest: list[tuple[str, float, float]]) -> str:
    """", and 3 more metrics (at most 41%)" of the metrics after the first."""
    if not rest:
        return ""
    most = max(max(abs(low), abs(high)) for _, low, high in rest)
    return f", and {len(rest)} more metric{'s' if len(rest) != 1 else ''} (at most {_percent(most)}%)"


def cell_line(share: CellShare) -> str:
    """One cell's line: its name, value and place, its range of share of the metric it moves most, with the point
    where that is largest, a count of the others, and the first clause of its reason."""
    marked = share.marked
    name, low, high = share.shares[0]
    if share.one_percent is not None:
        moves = f"{share.one_percent} would move {name} by 1%"
    else:
        top = high if abs(high) >= abs(low) else low
        at = f" ({_percent(top)}% at {share.peak})" if share.peak and low != high else ""
        moves = f"{_range(low, high)} of {name}{at}"
    moves += _more(share.shares[1:])
    what = f", {share.meaning}" if share.meaning and not marked.reason.startswith(share.meaning) else ""
    reason = _short(marked.reason)
    return f"{marked.name} = {marked.written}{what} ({_place(share)}): {moves}" + (f"; {reason}" if reason else "")


def _zero_lines(cells: list[CellShare]) -> list[str]:
    """The lines of cells that are 0: one a cell, or one for those of one value that move the same metric by 1% with
    the same amount (`vllm.cuda_graph_memory, vllm.framework_overhead = 0 byte (...:193, 194): 181 MB of either would
    move memory by 1%`)."""
    groups: dict[tuple, list[CellShare]] = {}
    for share in cells:
        key = (share.marked.written, share.one_percent, share.shares[0][0], share.marked.location.file,
               tuple(name.partition(".")[0] for name in share.read_as), len(share.shares))
        groups.setdefault(key, []).append(share)
    lines = []
    for (written, amount, metric, file, _, _), group in groups.items():
        if len(group) == 1:
            lines.append(cell_line(group[0]))
            continue
        group.sort(key=lambda share: share.marked.location.line)          # in the order they are written
        first = group[0]
        names = ", ".join(share.marked.name for share in group)
        lines_at = ", ".join(str(share.marked.location.line) for share in group)
        place = _place(first).replace(f"{file}:{first.marked.location.line}", f"{file}:{lines_at}", 1)
        either = "either" if len(group) == 2 else "any of them"
        lines.append(f"{names} = {written} ({place}): {amount} of {either} would move {metric} by 1%"
                     + _more(first.shares[1:]))
    return lines


def _lines(shares: Shares, console: bool = True) -> list[str]:
    """The note's lines: a cell with a share a line, the largest first, then the cells that are 0, then those whose
    changed value could not be evaluated; on the console, the points the shares are read over where they are a
    sample, not every point shown (the workbook says the points and how a share is found, HOW, in any case)."""
    cells = shares.cells[:MAX_CELLS]
    lines = [cell_line(share) for share in cells if share.one_percent is None]
    lines += _zero_lines([share for share in cells if share.one_percent is not None])
    if len(shares.cells) > MAX_CELLS:
        lines.append(f"{len(shares.cells) - MAX_CELLS} more provisional cells move them less")
    if shares.failed:
        lines.append("not tried (their changed value cannot be evaluated): " + ", ".join(m.name for m in shares.failed))
    if console and not shares.sample.startswith("the "):
        lines.append(f"shares over {shares.sample}")
    return lines


def _headline(shares: Shares) -> str:
    moved = {name for share in shares.cells for name, _, _ in share.shares}
    metrics = [name for name in dict.fromkeys(shares.metrics) if name in moved]
    unmoved = (f" ({len(shares.unmoved)} more read but move none here: "
               + ", ".join(m.name for m in shares.unmoved) + ")") if shares.unmoved else ""
    if not metrics:
        return "shown metrics read cells marked provisional (values no source gives), which move none of them here"
    named = metrics[:3] + ([f"{len(metrics) - 3} more"] if len(metrics) > 3 else [])
    listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
    verb = "rests" if len(metrics) == 1 else "rest"
    count = len(shares.cells)
    return (f"{listed} {verb} in part on {count} cell{'s' if count != 1 else ''} marked provisional, values of the "
            f"right order that no source gives{unmoved}")


HOW = ("share: value x d(metric)/d(value) / metric, from the metric with the cell 1% larger (a cell that is 0: the "
       "amount of it that moves a metric by 1%, from a small amount added), over {sample}")


def _help(shares: Shares) -> str:
    first = (shares.cells or [None])[0]
    example = ""
    if first is not None:
        also = first.also_sets
        example = f" (--set {first.setting}=...{'' if not also else ', which sets it for ' + ' and '.join(also)} too" \
            f"{'' if not also else ', as ' + ('it inherits' if len(also) == 1 else 'they inherit') + ' it'})"
        example = example.replace("=... too)", "=...)")
    return (f"`perfdsl explain {shares.report_file} METRIC --report {shares.report}` shows what a metric reads; "
            f"replace a provisional cell by a fit on measured runs (`perfdsl calibrate`) or by your own value"
            f"{example}")


def provisional_note(shares: Shares | None) -> Diagnostic | None:
    """`note[provisional]` for eval's console, located at the first cell named; None where `shares` is None."""
    if shares is None:
        return None
    first = (shares.cells or shares.unmoved or shares.failed)[0]
    marked = first.marked if isinstance(first, CellShare) else first
    return Diagnostic(CODE, _headline(shares), marked.location, notes=_lines(shares), hints=[_help(shares)],
                      severity="note")


def provisional_text(shares: Shares | None) -> str | None:
    """The note in words for the workbook's About sheet; None where `shares` is None."""
    if shares is None:
        return None
    return (f"Provisional cells: {_headline(shares)}. " + " | ".join(_lines(shares, console=False)) + ". "
            + "S" + HOW.format(sample=shares.sample)[1:] + ". " + _help(shares) + ".")


# -- what eval reads: a whole result, or an answer merged from chunks (each worked out once) -----------------------

_FOUND: dict[int, "Shares | None"] = {}       # id of a result or an answer -> its Shares, while it lives


def _remembered(owner, compute) -> "Shares | None":
    key = id(owner)
    if key not in _FOUND:
        _FOUND[key] = compute()
        weakref.finalize(owner, _FOUND.pop, key, None)
    return _FOUND[key]


def for_result(result, comparison=None) -> Shares | None:
    """The Shares of a whole evaluation (`result`, with `comparison` where runs were matched: with `points = "runs"`
    only the rows a run matched are shown), over the rows it shows; found once per result (the console note and
    the workbook's About sheet read the same)."""
    return _remembered(result, lambda: _of_result(result, comparison))


def _of_result(result, comparison) -> Shares | None:
    rows = result.rows
    index = np.arange(result.n_points) if rows is None else rows.index
    keep = np.ones(len(index), dtype=bool) if rows is None else ~rows.missing
    if comparison is not None and comparison.keep is not None:
        keep &= np.asarray(comparison.keep, dtype=bool)
    shown = index[keep]
    words = "rows shown" if rows is not None or (comparison is not None and comparison.keep is not None) \
        else "points shown"
    if not len(shown):
        return None
    return shares_of(result.program, result.report, None if rows is None and keep.all() else shown, words)


def for_answer(answer) -> Shares | None:
    """The Shares of a question answered in chunks (streaming.Answer), over its rows; found once per answer."""
    def compute() -> Shares | None:
        shown = answer.rows.index[~answer.rows.missing]
        return shares_of(answer.program, answer.report, shown, "rows of the answer") if len(shown) else None

    return _remembered(answer, compute)


def for_stream(program, report: str | None) -> Shares | None:
    """The Shares of a sweep streamed chunk by chunk (its rows are not kept): over a grid of at most BOX_POINTS of
    its points, those that meet its constraints and `where` lines (sample_of)."""
    return shares_of(program, report, None, "points of the sweep that meet its conditions", conditions=True)
