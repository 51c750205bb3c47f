"""A report evaluated chunk by chunk (stage 4c): rows streamed to an output, questions answered by merging.

`evaluate_chunks` yields one `Result` per chunk of the sweep (chunks.plan_chunks), in row order: a report without a
question streams its rows (those that meet its `where` lines) chunk by chunk, so memory is set by the chunk, not the
sweep. `answer_in_chunks` answers a report's question (best, largest, smallest, pareto) over a sweep of any size:
each chunk's points are reduced, the partial answers merged (reductions.merge_best / merge_fronts: the same answer
as over the whole sweep, ties included), and only the rows of the current winners are kept between chunks.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Iterator, Mapping

import numpy as np

from .chunks import Chunk, checked_chunk_points, plan_chunks, slice_context
from .data_stack import run_on_fresh_chunk
from .errors import Diagnostic, with_more_points
from . import no_answer
from .queries import (_add_ranked_columns, answer, answer_columns, answer_rows, bind_axes, conditions_met, finish,
                      kept_axes, reduce_points)
from .reductions import Best, merge_best, merge_fronts
from .result import Result, Rows, coord_columns

Progress = Callable[[int, int], None]


def evaluate_chunks(program, report: str | None = None, overrides: Mapping[str, object] | None = None, *,
                    chunk_points: int | None = None, progress: Progress | None = None
                    ) -> Iterator[tuple[Chunk, Result]]:
    """Each chunk of the report's sweep, evaluated, with its `where` lines applied (its rows are those that meet
    them), in row order; a chunk holds at most `chunk_points` points, whole blocks of the last axes (so it may hold
    fewer: chunks.plan_chunks), by default about chunks.CHUNK_BYTES of arrays (Program.chunk_points).
    `progress(points done, points in all)` is called after each chunk. A report with a question is answered per
    chunk only: use answer_in_chunks for the answer over the whole sweep. Under
    `invalid_points = "mark"`, every chunk has the valid and violates columns where the report has constraints, as
    the whole evaluation has. Raises as Program.evaluate, and UsageError
    for a `chunk_points` that is no whole number of points, 1 or more (chunks.checked_chunk_points)."""
    chunk_points = checked_chunk_points(chunk_points)
    program = program.with_overrides(overrides, report)
    ctx, _ = program.prepare(report)
    done = 0
    for chunk in plan_chunks(ctx.shape, chunk_points or program.chunk_points(report)):
        result = chunk_result(program, report, chunk)
        done += chunk.n_points
        if progress is not None:
            progress(done, ctx.n_points)
        yield chunk, result


def chunk_result(program, report: str | None, chunk: Chunk) -> Result:
    """One chunk of a prepared report's sweep, evaluated, its `where` lines applied (see evaluate_chunks)."""
    ctx, checker = program.prepare(report)
    result = program.evaluate_in(slice_context(ctx, chunk), checker)    # always_mark: every chunk's columns
    answer(result, checker)
    return result


def chunk_rows(program, report: str | None, chunk: Chunk, limit: int | None = None
               ) -> tuple[list[str], list[np.ndarray], list[Diagnostic]]:
    """The rows of one chunk as chunk_table() gives them (its first `limit` only, where given), and its warnings:
    what a worker sends back (distributed.py)."""
    result = chunk_result(program, report, chunk)
    keys, columns = chunk_table(result, limit)
    return keys, columns, list(result.warnings)


def chunk_table(result: Result, limit: int | None = None) -> tuple[list[str], list[np.ndarray]]:
    """A chunk's table() with the columns the whole evaluation's output adds: a calibration's low and high
    (intervals.py). With `limit`, only its first `limit` rows (a table on a terminal shows the sweep's first rows):
    the columns of the rest are not built."""
    from .intervals import with_intervals

    if limit is not None and result.n_rows > limit:
        rows = result.rows
        if rows is None:                 # every point is a row
            rows = Rows(np.arange(result.n_points, dtype=np.int64), np.zeros(result.n_points, dtype=bool))
        result.rows = replace(rows, index=rows.index[:limit], missing=rows.missing[:limit], _positions={})
    return with_intervals(result, *result.table())


# The key prefix of an answer chunk's SI columns (answer_table): no report's key can start with a NUL.
SI_KEY = "\0si "


def answer_table(result: Result) -> tuple[list[str], list[np.ndarray]]:
    """chunk_table(result), then the SI values of each shown numeric cell with a scale (ms, GB/s ...) under the
    key SI_KEY + its key: a chunked Answer's column() and to_xarray() give them, bit for bit the whole evaluation's
    (a display value times its scale may differ from the SI value in the last bit). Answer strips them."""
    keys, columns = chunk_table(result)
    scaled = [c for c in result.columns if c.axis is None and c.kind == "num" and c.scale != 1.0]
    return keys + [SI_KEY + c.key for c in scaled], columns + [result.flat(c.array) for c in scaled]


def split_si(keys: list[str], columns: list[np.ndarray]) -> tuple[list[str], list[np.ndarray], dict]:
    """answer_table's keys and columns as the table's (no SI column) and its SI columns by the cell's key."""
    table = [(k, c) for k, c in zip(keys, columns) if not k.startswith(SI_KEY)]
    si = {k[len(SI_KEY):]: c for k, c in zip(keys, columns) if k.startswith(SI_KEY)}
    return [k for k, _ in table], [c for _, c in table], si


@dataclass
class ChunkAnswer:
    """A question answered over one chunk: its partial reduction (flat indices of the whole sweep) and the rows
    (table() of the chunk) of its winners, sorted by flat index."""

    partial: object                    # reductions.Best | reductions.Front
    index: np.ndarray                  # (k,) int64: the winners' flat indices, sorted
    keys: list[str]
    columns: list[np.ndarray]          # (k,) each
    warnings: list[Diagnostic]
    merged: bool = False               # `partial` holds a prior answer's points too (chunk_answer's prior)
    why: object = None                 # no_answer.ConditionTally of the chunk's groups with no answer so far


def chunk_answer(program, report: str | None, chunk: Chunk, prior=None) -> ChunkAnswer:
    """The report's question over one chunk of its sweep (a prepared report with a question). With `prior` (the
    partial answer of the chunks before), the partial answer over both, and only the rows of the chunk's points in
    it: points the earlier chunks already beat are dropped before the chunk's own reduction sorts anything.

    The chunk is answered by candidates.answer_by_box (its shown and ranked cells evaluated only over the box of
    the points that meet the report's conditions) where candidates.answers_by_box allows, else by evaluating
    everything over the whole chunk; the answer is the same. A chunk with no point that meets the conditions may
    come back with no rows and empty `keys`."""
    from .candidates import answer_by_box, answers_by_box

    if answers_by_box(program, report):
        # its evaluations' frames on a data-stack chunk of their own, as Program.evaluate_in's (data_stack.py)
        return run_on_fresh_chunk(answer_by_box, program, report, chunk, prior)
    ctx, checker = program.prepare(report)
    question = ctx.report.questions[0]
    kept, n_groups = kept_axes(question, ctx)
    result = program.evaluate_in(slice_context(ctx, chunk), checker)   # always_mark: every chunk's columns
    local = np.flatnonzero(conditions_met(result).reshape(-1))
    index = chunk.offset + local
    partial = reduce_points(result, question, local, index, _group_of_index(index, ctx.shape, kept), n_groups, prior)
    why = chunk_tally(result.evaluator, ctx, chunk, result.ctx.shape, lambda: getattr(result, "valid", None),
                      partial, kept, n_groups)
    winners = _winning_index(partial)
    winners = winners[(winners >= chunk.offset) & (winners < chunk.offset + chunk.n_points)]
    _add_ranked_columns(result, checker, question)
    result.rows = Rows(winners - chunk.offset, np.zeros(len(winners), dtype=bool))
    keys, columns = answer_table(result)
    return ChunkAnswer(partial, winners, keys, columns, list(result.warnings), merged=prior is not None, why=why)


def chunk_tally(evaluator, ctx, chunk: Chunk, shape: tuple[int, ...], valid: Callable[[], object], partial,
                kept: list[int], n_groups: int):
    """The no_answer tally of a chunk's groups that have no answer after it (`partial`, its prior's included), over
    the chunk evaluated by `evaluator` (`shape`: its context's); `valid()` gives its constraint mask, asked for only
    where some group is tallied. None where every group of the chunk has an answer or the report has no `where`."""
    if not ctx.report.wheres:
        return None
    wanted = no_answer.unanswered(partial, n_groups)
    if not len(wanted):
        return None
    positions = [np.atleast_1d(np.arange(n)[w]) for w, n in zip(chunk.where, ctx.shape)]
    return no_answer.tally(evaluator, shape, positions, valid(), no_answer.conditions_of(ctx, bind_axes),
                           ctx.report, kept, ctx.shape, wanted)


@dataclass
class Answer:
    """The answer to a report's question over a sweep evaluated in chunks: rows like `Result.table()`'s.

    Its notebook surface is a Result's where an answer has it, under the same unit convention (arrays SI, tables
    in the shown units): table(), records() and to_pandas() give the rows in display units; column() a shown (or
    ranked) cell's values per row in SI, display_column() in the shown unit; array() and to_xarray() the answer
    over the question's group axes (its `per`: one row per group), as Result.to_xarray(answer=True) does. A pareto
    front has several rows per group (no grid): array() and to_xarray() raise ValueError there, and to_pandas() has
    its rows. There is no array over the whole sweep: only the answer's rows were kept (Program.evaluate gives it).
    The SI values are the cells' own (carried with the rows: answer_table), equal to the whole evaluation's bit for
    bit; display values are the table's."""

    report: str
    keys: list[str]
    columns: list[np.ndarray]
    rows: Rows
    n_points: int
    warnings: list[Diagnostic] = field(default_factory=list)
    # What column(), array() and to_xarray() need, filled in by answer_in_chunks: the shown and ranked columns'
    # units (queries.answer_columns; no values), the report's axes and shape, and the question's form.
    shown: list = field(default_factory=list, repr=False)
    axes: list = field(default_factory=list, repr=False)
    shape: tuple[int, ...] = ()
    form: str = ""
    # How it was answered, for the workbook's About sheet (workbook_answer.py): the chunks the sweep was evaluated
    # in, and the Dask workers they went to (0: evaluated in this process).
    n_chunks: int = 0
    workers: int = 0
    # The program it was answered over (its overrides applied), which export_workbook reads for the Setup sheet.
    program: object = field(default=None, repr=False, compare=False)
    # The SI values of the shown numeric cells with a scale, by key, one per row (answer_table); a cell not here
    # has its display values in SI.
    si: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_rows(self) -> int:
        """Rows of the answer: one per group (per point of each group's front, for pareto)."""
        return len(self.rows)

    def table(self) -> tuple[list[str], list[np.ndarray]]:
        """Header keys and flat columns (axes first, then shown cells), in display units, one row per answer."""
        return self.keys, self.columns

    def records(self) -> list[dict]:
        """One dict per row, as Result.records() gives them (None for a value that is not finite)."""
        from .result import _python_list

        lists = [_python_list(v) for v in self.columns]
        return [dict(zip(self.keys, row)) for row in zip(*lists)]

    def column(self, name: str, display: bool = False) -> np.ndarray:
        """A shown (or ranked) cell's values, or a swept name's (an axis's coordinate: `batch`, `model`), one per
        row of records(), in SI (as Result.column), or with `display` in the shown unit (display_column); `name` is
        its label, its dotted cell or its key. NaN (None in text and flags) in a row of a group with no answer (but
        for the `per` axes). Raises perfdsl.UsageError
        (errors.UnknownColumn, a KeyError too), with the close names, for a name the answer does not have. A shown
        cell's values are a read-only view of the answer's own (copy them to write to them)."""
        from .result import SweptName, coord_values, find_column, row_positions

        column = find_column(self.shown, name, self.report, self.axes)
        if isinstance(column, SweptName):
            return coord_values(column.coord, column.axis.index, self.shape,
                                row_positions(self.rows, self.shape, column.axis.index), self.rows.missing,
                                self.rows.kept_axes, si=not display)
        if display:
            return self.display_column(name)
        if column.key in self.si:
            return _read_only(self.si[column.key])
        return _read_only(self._si(column, self.display_column(name)))

    def display_column(self, name: str) -> np.ndarray:
        """column() in the unit the report shows the cell in: the table's column."""
        from .result import find_column

        return _read_only(self.columns[self.keys.index(find_column(self.shown, name, self.report, self.axes).key)])

    @staticmethod
    def _si(column, values: np.ndarray) -> np.ndarray:
        if column.kind != "num" or column.scale == 1.0:
            return values
        return np.asarray(values, dtype=float) * column.scale

    def array(self, name: str, display: bool = False):
        """A shown cell over the question's group axes (result.LabelledArray: `dims` the `per` axes, `shape` the
        groups'; a question without `per` gives a 0-d array), in SI (`unit` names it) or with `display` in the
        shown unit; NaN for a group with no answer, in flags too (a flag is then float64, 1.0 True, 0.0 False, NaN,
        as to_xarray() gives it; bool where every group has its answer), NaN in text too (an object array), as
        to_xarray() (records() and column() have None). Raises ValueError for a
        pareto front (several rows per group), UsageError as column()."""
        from .notebook import answer_grid

        return answer_grid(self).array(name, display)

    def to_pandas(self):
        """The rows as a pandas DataFrame, as Result.to_pandas() gives a question's rows (display units in the
        column names; a group with no answer leaves its row empty: nullable Int64 and boolean columns, NaN in
        floats). Needs pandas (the extra `notebook`: extras.install_hint)."""
        from .notebook import to_pandas

        return to_pandas(self)

    def to_xarray(self, display: bool = False):
        """The answer as an xarray Dataset over the question's group axes (notebook.answer_to_xarray): one
        variable per shown (or ranked) cell and per other axis (the answer's coordinates), `answered` False for a
        group with no answer, whose values are NaN (integers and flags then float64; text an object array).
        Raises ValueError for a pareto front (to_pandas() has its rows). Needs xarray (the extra `notebook`)."""
        from .notebook import answer_to_xarray

        return answer_to_xarray(self, display)

    def __repr__(self) -> str:
        from .notebook import describe_answer

        return describe_answer(self)


def _read_only(values: np.ndarray) -> np.ndarray:
    """A read-only view of one of the answer's own arrays: column() handed them out writable, and writing into
    one changed the answer's rows (records(), the workbook) behind its back. Copy it to write."""
    view = values.view()
    view.flags.writeable = False
    return view


def answer_in_chunks(program, report: str | None = None, overrides: Mapping[str, object] | None = None, *,
                     chunk_points: int | None = None, progress: Progress | None = None) -> Answer:
    """The answer to the report's question (best, largest, smallest or pareto, after its `where` lines) over its
    whole sweep, evaluated at most `chunk_points` points at a time (boxes of whole blocks of the axes,
    question_chunks; by default larger chunks where only the conditions are evaluated over every point): the rows
    and values `Program.evaluate(...).table()` gives, in the same order. Each chunk is reduced together with the
    answer so far (chunk_answer's prior). Memory: a chunk, plus the rows of the best points found so far (one per
    group; the front of each group) and of at most as many points since beaten. Raises ValueError for a report
    without such a question, UsageError for a `chunk_points` that is no whole number of points, 1 or more
    (chunks.checked_chunk_points), else as Program.evaluate."""
    chunk_points = checked_chunk_points(chunk_points)
    program = program.with_overrides(overrides, report)
    ctx, _ = program.prepare(report)
    _question_of(ctx)
    merging = Merging(program, report)
    chunks = question_chunks(program, report, chunk_points)
    for chunk in chunks:
        merging.add(chunk_answer(program, report, chunk, merging.partial), replaces=True)
        if progress is not None:
            progress(merging.done(chunk.n_points), ctx.n_points)
    answered = merging.answer()
    answered.n_chunks = len(chunks)
    return answered


def question_chunks(program, report: str | None = None, chunk_points: int | None = None) -> list[Chunk]:
    """The chunks answer_in_chunks answers a question over (candidates.plan): boxes of the sweep, each of at most
    `chunk_points` points (by default chosen by what is evaluated over every point). Raises as Program.prepare."""
    from .candidates import plan

    return plan(program, report, chunk_points)


def _question_of(ctx) -> object:
    if not ctx.report.questions:
        raise ValueError(f"report '{ctx.report.name}' asks no question to answer (best, largest, smallest, pareto)")
    return ctx.report.questions[0]


class Merging:
    """The answer so far over the chunks added: the merged partial answer and the rows of its points.

    Rows are kept in pieces, one per chunk, and pruned to the current winners only when they have doubled since the
    last pruning, so that a chunk costs no set operation over every stored row (amortised O(rows added))."""

    PRUNE_FROM = 1 << 16               # stored rows below which pruning is not worth a set operation

    def __init__(self, program, report: str | None):
        self.program, self.report = program, report
        self.ctx, _ = program.prepare(report)
        self.question = _question_of(self.ctx)
        self.kept, self.n_groups = kept_axes(self.question, self.ctx)
        self.partial = None
        self.index: list[np.ndarray] = []          # per chunk: the flat indices of its stored rows
        self.columns: list[list[np.ndarray]] = []  # per chunk: its stored rows' columns
        self.keys: list[str] = []
        self.stored = 0
        self.after_pruning = 0
        self.warnings: dict[tuple[str, str, str], Diagnostic] = {}
        self.why = None                            # no_answer.ConditionTally of the groups with no answer so far
        self.conditions = no_answer.conditions_of(self.ctx, bind_axes)
        self._done = 0

    def done(self, n_points: int) -> int:
        """Points answered so far, `n_points` more counted."""
        self._done += n_points
        return self._done

    def add(self, mine: ChunkAnswer, replaces: bool = False) -> None:
        """Merge a chunk's answer. `replaces`: its partial answer was reduced with this one's as its prior, so it
        already holds every point so far (else a prior it was given is merged again: a point met twice is kept
        once, as reductions.pareto_per_group keeps one of equal points)."""
        if self.partial is None or (replaces and mine.merged):
            self.partial = mine.partial
        else:
            self.partial = _merge(self.partial, mine.partial, self.n_groups)
        if len(mine.index):
            self.index.append(mine.index)
            self.columns.append(mine.columns)
            self.stored += len(mine.index)
        self.keys = mine.keys or self.keys           # a chunk with no point to answer may not know them
        keep_first(self.warnings, mine.warnings)
        if mine.why is not None or self.why is not None:   # a group answered since is no longer tallied
            self.why = no_answer.keep_groups(no_answer.merge(self.why, mine.why, self.conditions),
                                             no_answer.unanswered(self.partial, self.n_groups))
        if self.stored > max(self.PRUNE_FROM, 2 * self.after_pruning):
            self._prune()

    def as_chunk_answer(self, merged: bool) -> ChunkAnswer:
        """The chunks added so far (in plan order, each with the answer before it as its prior) as one chunk's answer:
        their partial answer and the rows of its points among them; `merged`: the first had a prior (distributed.py
        sends a worker a run of chunks and gets back one answer)."""
        if self.index:
            self._prune()
        index = self.index[0] if self.index else np.zeros(0, dtype=np.int64)
        columns = self.columns[0] if self.columns else []
        return ChunkAnswer(self.partial, index, self.keys, columns, list(self.warnings.values()), merged=merged,
                           why=self.why)

    def _prune(self) -> None:
        index = np.concatenate(self.index)
        keep = np.isin(index, _winning_index(self.partial))
        self.index = [index[keep]]
        self.columns = [[np.concatenate(parts)[keep] for parts in zip(*self.columns)]]
        self.stored = self.after_pruning = int(keep.sum())

    def answer(self) -> Answer:
        ctx, question, kept, n_groups = self.ctx, self.question, self.kept, self.n_groups
        index, missing, found = answer_rows(self.partial, n_groups, ctx.shape, kept)
        shell = _Whole(self.program, ctx, list(self.warnings.values()))
        rows = finish(shell, question, index, missing, found, kept, self.why)
        axes = coord_columns(ctx, index, missing, frozenset(kept))
        store_index = np.concatenate(self.index) if self.index else np.zeros(0, dtype=np.int64)
        store = [np.concatenate(parts) for parts in zip(*self.columns)]
        keys = self.keys
        if not self.index:                          # no chunk had a point to answer: the columns of an empty one
            keys, store = self._empty_table()
        keys, store, si_store = split_si(keys, store)
        order = np.argsort(store_index, kind="stable")
        at = np.searchsorted(store_index, index, sorter=order)
        cells = [_rows_of(column, order, at, missing) for column in store[len(axes):]]
        si = {key: _rows_of(column, order, at, missing) for key, column in si_store.items()}
        _, checker = self.program.prepare(self.report)
        return Answer(ctx.report.name, keys, list(axes.values()) + cells, rows, ctx.n_points, shell.warnings,
                      shown=answer_columns(ctx, checker, question), axes=list(ctx.axes), shape=ctx.shape,
                      form=question.form, program=self.program, si=si)

    def _empty_table(self) -> tuple[list[str], list[np.ndarray]]:
        """The keys and (empty) columns of an answer none of whose chunks had a row: a chunk_table of the sweep's
        first point with no rows (its evaluation gives the shown and ranked cells' keys)."""
        ctx, checker = self.program.prepare(self.report)
        first = Chunk(tuple(slice(0, 1) for _ in ctx.shape), 0, 1)
        result = self.program.evaluate_in(slice_context(ctx, first), checker)
        _add_ranked_columns(result, checker, self.question)
        result.rows = Rows(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool))
        return answer_table(result)


def keep_first(warnings: dict, diagnostics) -> None:
    """Add a chunk's diagnostics to `warnings` (a dict): the first of each code at each place is kept (the chunks
    come in row order, so it names the first point, as the whole evaluation's does), with the sweep points of every
    chunk's same warning counted in it (errors.Tally: a broken constraint, a cell's floating-point trouble)."""
    for diag in diagnostics:
        key = diag.tally.key if diag.tally is not None else (diag.code, str(diag.location), str(diag.path))
        kept = warnings.get(key)
        if kept is None:
            warnings[key] = diag
        elif kept.tally is not None and diag.tally is not None:
            merged = with_more_points(kept, diag)
            # A broken constraint's note quotes the first points of the chunks so far, as the whole sweep's does.
            before, later = getattr(kept, "examples", None), getattr(diag, "examples", None)
            if before is not None and later is not None:
                examples = before.merged(later)
                merged = replace(merged, notes=[examples.note()] + merged.notes[1:])
                merged.examples = examples
            warnings[key] = merged


@dataclass
class _Whole:
    """What queries.finish reads of a result, for the whole sweep of a chunked answer (no arrays over it)."""

    program: object
    ctx: object
    warnings: list
    valid: bool = True                   # as a whole Result's: the constraints take part in every answer


def _merge(a, b, n_groups: int):
    return merge_best(a, b) if isinstance(a, Best) else merge_fronts(a, b, n_groups)


def _winning_index(partial) -> np.ndarray:
    """The flat sweep indices of a partial answer's points, sorted."""
    index = partial.index[partial.found] if isinstance(partial, Best) else partial.index
    return np.unique(index)


def _group_of_index(index: np.ndarray, shape: tuple[int, ...], kept: list[int]) -> np.ndarray:
    """The group (the position over the kept axes, row-major) of each flat sweep index."""
    if not kept:
        return np.zeros(len(index), dtype=np.int64)
    positions = np.unravel_index(index, shape)
    return np.ravel_multi_index(tuple(positions[a] for a in kept), tuple(shape[a] for a in kept)).astype(np.int64)


def _rows_of(column: np.ndarray, order: np.ndarray, at: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """The stored values at the answer's rows (`at` into the sorted store), empty where a row is missing: NaN in
    numbers, None in flags and text, as the whole evaluation's rows (Rows.pick), also where no chunk had a row (the
    store is empty: its flags and text were NaN, float64, and to_pandas() typed them apart from the whole's)."""
    if not len(order):
        return np.full(len(at), np.nan) if column.dtype.kind == "f" else np.full(len(at), None, dtype=object)
    picked = column[order[np.minimum(at, len(order) - 1)]]
    if not missing.any():
        return picked
    if picked.dtype.kind == "f":
        picked = picked.copy()
        picked[missing] = np.nan
    else:
        picked = picked.astype(object)
        picked[missing] = None
    return picked
