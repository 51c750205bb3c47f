"""The Python API: load .perf files, override cells, check, evaluate reports.

    import perfdsl
    program = perfdsl.load(["reports/example.perf"])
    program.value("rtx_a5000.mem_bw")                       # 7.68e11 (SI: byte/s)
    result = program.evaluate("example", overrides={"batch": [1, 2, 4], "rtx_a5000.mem_bw": "900 GB/s"})
    result.records()                                        # one dict per sweep point, display units in the keys
    result.column("prefill.runtime")                        # numpy array in SI, aligned with records()
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Callable, Iterable, Mapping

from . import ir
from .blocks import Block, SourceLines, build_blocks
from .checker import Checker, check_units_of_shows
from .lazy_numpy import lazy_numpy
from .shared_checks import CheckSession
from .constraints import blocks_of_report, check_requires, evaluate_requires, has_hard
from .data_stack import run_on_fresh_chunk
from .errors import (Diagnostic, PerfError, UsageError, available, dedupe, did_you_mean, error,
                     from_the_command_line, in_override)
from .evaluator import Constants, Evaluator
from .gc_pauses import with_fewer_collections
from .linker import ROLE_WORDS, Linker, report_roles
from .limits import with_recursion_room
from .loader import LoadMemo, LoadTrace, PartialLoad, load_modules
from .near_misses import unread_cells
from .overrides import apply_overrides, mark_held_overrides, reads_no_cell
from .queries import answer, check_questions
from .report_options import check_report_options, option_value
from .role_kinds import RoleErrors
from .sweep_sources import sweep_source_errors
from .sweeps import ReportContext, build_context

if TYPE_CHECKING:
    # Imported where an evaluation needs them: `perfdsl check` computes no result (2 ms of its start, 2-core
    # machine, with those of queries.py).
    from .result import Result, ShownColumn

np = lazy_numpy(__name__)


MAX_REPR_REPORTS = 5     # reports a Program's repr names before "... (N more)"


class Program:
    """Every block of the loaded files, with `extends` resolved."""

    def __init__(self, modules: list[ir.Module], extra_sources: Mapping[str, str] | None = None,
                 session: CheckSession | None = None):
        """`session` (shared_checks.CheckSession) shares built blocks and inferred cells with the other programs
        checked in it (`perfdsl check` of many files); by default nothing is shared (or recorded)."""
        self.modules = modules
        # The working folder when loaded: the modules' and spans' file names are relative to it (loader.display_path),
        # so after an os.chdir a file is read through path_of, never by its name against the new folder.
        self.folder = os.getcwd()
        self.sources = SourceLines(modules)
        for name, text in (extra_sources or {}).items():
            self.sources.add(name, text)
        self._extra_sources = dict(extra_sources or {})
        self.session = session
        self.blocks, self.structure_diagnostics = build_blocks(modules, self.sources, self.session)
        # Found once: every evaluation picks its report (prepare), and a program's blocks do not change.
        self._report_names = [name for name, block in self.blocks.items() if block.kind == "report"]
        self._prepared: dict[str, tuple[ReportContext, Checker]] = {}
        self._constants: dict[str, Constants] = {}         # per report: evaluator.Constants
        self._cell_axes: dict[str, dict] = {}              # per report: chunks.cell_axes of its evaluation roots
        self._without_overrides: Program | None = None     # the program with_overrides made this one from
        self._load_warnings: list[Diagnostic] | None = None   # load_warnings(), found once per loaded program
        # The files the caller named (their names as the modules hold them), not those they import: a report is
        # picked among theirs first (_pick_report). Empty for a program made from modules alone.
        self.named_files: tuple[str, ...] = ()

    # -- loading -----------------------------------------------------------------------------------------------
    @classmethod
    @with_fewer_collections
    def load(cls, paths: str | os.PathLike | Iterable[str | os.PathLike], *,
             texts: Mapping[str, str] | None = None, session: CheckSession | None = None,
             trace: LoadTrace | None = None, memo: LoadMemo | None = None) -> "Program":
        """The program of the given files and what they import (loader.load_modules, which `trace` follows: the
        check cache records what a check read with it; `memo`: what the caller's former loads read, to take again).
        Raises PerfError with every diagnostic of the files: where the only errors of the parse are those after
        which a file is still checked (an unknown unit: PartialLoad), the program is checked all the same and the
        error lists what its check reports too (sorted by location), so that one `perfdsl check`, or one refused
        `eval`, names every error of every file."""
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        paths = list(paths)
        try:
            program = cls(load_modules(paths, dict(texts or {}), trace, memo), session=session)
        except PartialLoad as exc:
            program = cls(exc.modules, session=session)
            raise PerfError(exc.diagnostics + program.check()) from None
        from pathlib import Path

        from .loader import display_path

        program.named_files = tuple(display_path(Path(path).resolve()) for path in paths) + tuple(texts or ())
        return program

    def path_of(self, file: str) -> str:
        """The path, from the current working folder, of a loaded file this program names `file` (a module's file or
        a span's: relative to the folder it was loaded in where below it, else absolute; loader.display_path):
        `file` itself while the process is still in that folder, so that messages name it as they always have, and
        joined to that folder after an os.chdir (a report's `measured` logs, the inputs an output must not replace).
        An override's place (`--set batch`, `overrides['batch']`) is no file and is returned as it is."""
        if os.path.isabs(file) or in_override(file):
            return file
        try:
            here = os.getcwd()
        except OSError:                      # the working folder was removed since
            here = None
        return file if here == self.folder else os.path.join(self.folder, file)

    def __repr__(self) -> str:
        """A short text for a notebook or a REPL, from what loading found (nothing is checked or evaluated): the
        files named (then how many they import), the reports (the first MAX_REPR_REPORTS by name, then how many
        more) and how many blocks, e.g. `<perfdsl Program of reports/example.perf and 5 imported files: 1 report
        (example); 33 blocks>`; `with overrides` for a program with_overrides made."""
        named = self.named_files or tuple(module.file for module in self.modules)
        imported = max(len(self.modules) - len(named), 0)
        files = ", ".join(named) or "no files"
        if imported:
            files += f" and {imported} imported file{'s' if imported != 1 else ''}"
        reports = self._report_names
        listed = ", ".join(reports[:MAX_REPR_REPORTS]) + (f", ... ({len(reports) - MAX_REPR_REPORTS} more)"
                                                          if len(reports) > MAX_REPR_REPORTS else "")
        counted = f"{len(reports)} report{'s' if len(reports) != 1 else ''}" + (f" ({listed})" if reports else "")
        overrides = " with overrides" if self._without_overrides is not None else ""
        return f"<perfdsl Program of {files}{overrides}: {counted}; {len(self.blocks)} block{'s' if len(self.blocks) != 1 else ''}>"

    @property
    def reports(self) -> list[str]:
        """The names of the loaded reports, in the order they are defined."""
        return list(self._report_names)

    def block(self, name: str) -> Block:
        if name not in self.blocks:
            raise UsageError(error("unknown-block", f"no block named '{name}'",
                                   hints=did_you_mean(name, self.blocks) + [available(self.blocks)]))
        return self.blocks[name]

    # -- checking ----------------------------------------------------------------------------------------------
    def load_warnings(self) -> list[Diagnostic]:
        """The warnings about the loaded files themselves, whatever is evaluated: warning[unread-cell] for a cell a
        block adds that nothing reads and whose name is a slip of one it inherits (near_misses.unread_cells: a
        misspelt override, `mem_bww = 4.2 TB/s`, leaves the inherited `mem_bw` in use). `check` reports them, and
        every evaluation (`eval`, `plot`, `calibrate`: each Result's warnings) and `explain` say them, once: they
        are found once per loaded program (~2 ms a file), the program that with_overrides made this one from
        answering for it (an override replaces a cell; it adds none). Raises nothing."""
        root = self
        while root._without_overrides is not None:
            root = root._without_overrides
        if root._load_warnings is None:
            root._load_warnings = unread_cells(root.blocks, root.sources)
        return list(root._load_warnings)

    def standing_warnings(self, checker: Checker) -> list[Diagnostic]:
        """The warnings every evaluation of a prepared report gives before its own, in this order (a whole
        evaluation's Result, a chunk's, an answer by box: candidates.py): the loaded files' (load_warnings), then
        those of the report's check (`checker`, from `prepare`, which raises its errors). Raises nothing."""
        return self.load_warnings() + [d for d in checker.diagnostics if d.severity != "error"]

    @with_recursion_room
    @with_fewer_collections
    def check(self) -> list[Diagnostic]:
        """Every error of every loaded file, sorted by location."""
        diagnostics = list(self.structure_diagnostics) + self.load_warnings()
        roles = self._roles_of_reports()
        free = Checker(self.blocks, self.sources, None, Linker(self.blocks, None, roles), session=self.session)
        free.type_cells(self.blocks.values())
        check_requires(free, self.blocks.values(), None)
        diagnostics.extend(free.diagnostics)
        # A block's sweep values are formulas too: `by x4` is an error where it is written, with or without a report.
        diagnostics.extend(sweep_source_errors(
            self.blocks, lambda: Checker(self.blocks, self.sources, None, Linker(self.blocks, None, roles))))
        bases = self._bases()
        for report in self.reports:
            try:
                ctx = build_context(self.blocks[report], self.blocks, self.sources, arrays=False)
            except RoleErrors as exc:      # its other errors too, in the same run
                diagnostics.extend(exc.with_report_check(self._check_report(exc.context, base=report in bases)
                                                         .diagnostics))
                continue
            except PerfError as exc:
                diagnostics.extend(exc.diagnostics)
                continue
            diagnostics.extend(self._check_report(ctx, base=report in bases).diagnostics)
        return dedupe(diagnostics)

    def _bases(self) -> set[str]:
        """The loaded reports that show nothing and that another loaded report extends: bases that write a sweep
        and its roles once for the reports that show its cells, not reports to evaluate (nothing-to-show is said
        only where one is evaluated, and a file's one report to run is picked among the others)."""
        extended = {name for report in self.reports for name in self.blocks[report].lineage[1:]}
        return {name for name in self.reports if name in extended and not self.blocks[name].shows}

    def _roles_of_reports(self) -> set[str]:
        """The usual role names and every role a loaded report binds (to flag misspelled roles)."""
        roles = set(ROLE_WORDS)
        for name in self.reports:
            roles.update(report_roles(self.blocks[name], self.blocks))
        return roles

    def _check_report(self, ctx: ReportContext, base: bool = False) -> Checker:
        """The checker of a report's context, with every diagnostic found. `base`: a report that only others extend
        (_bases), which may show nothing."""
        checker = Checker(self.blocks, self.sources, ctx, session=self.session)
        if not ctx.report.shows and not base:   # `check` says so too, not only `eval`
            name = ctx.report.name
            children = [report for report in self.reports if name in self.blocks[report].lineage[1:]]
            hints = ["add `show COSTMODEL.CELL in UNIT, ...`"]
            if children:
                hints.insert(0, f"evaluate a report that extends it and shows cells: {', '.join(children)}")
            else:
                # `perfdsl check base.perf plan.perf` checks each file as a program of its own: base.perf alone
                # loads no report that extends it.
                hints.append("a report that only others extend may show nothing: load it with a file whose report "
                             "extends it (perfdsl check THAT.perf checks both)")
            checker.report("nothing-to-show", f"report '{name}' shows no cell", ctx.report.span, hints=hints)
        check_units_of_shows(checker, ctx)
        check_questions(checker, ctx)
        for name in ctx.report.cells:
            checker.cell_type(ctx.report, name)
        check_report_options(checker, ctx.report)
        checker.constraints = check_requires(checker, blocks_of_report(self.blocks, ctx, [b for b, _ in checker.types]),
                                             ctx)
        if self._without_overrides is not None:
            self._check_unread_overrides(ctx, checker)
        return checker

    def _check_unread_overrides(self, ctx: ReportContext, checker: Checker) -> None:
        """A `--set` (or `overrides=`) value is checked as the cell it replaces whether or not the report reads it
        (`--set l40.mem_type='"HBM9"'` where the report binds another GPU): each overridden cell that the report's
        check did not type, of a literal value (a number, string or boolean: its choices, declared unit, or the type
        of the cell it overrides; a formula reads roles this report may not bind), is typed by a checker of its own,
        whose errors located in an override join `checker`'s (bad usage, exit status 2), a value over a formula's cell
        held to the formula's type where this report's check knows it (`--set h.rate="3 GB"` over `rate = 3 / 1 s`);
        so is a formula over a literal or a formula that reads no cell (`--set h.flag="1+1"` over `flag = true`: its
        type is known without the roles; overrides.mark_held_overrides), and a sweep over a formula's cell where it
        is an axis of the report (`--set wl.u="5 GB, 6 GB"`). Nothing is added to `checker.types`, so what
        is evaluated does not change."""
        literal = (ir.Num, ir.Str, ir.Bool)
        # A swept value over a formula's cell is typed too where it is an axis of this report (`--set wl.u="5 GB, 6
        # GB"` over `u = batch / t`, which the report does not read, passed and made an axis `u [GB]`): a sweep of a
        # block the report does not bind has no axis to type (sweep-outside-report is said where it is read).
        axes = {(coord.owner, coord.name) for axis in ctx.axes for coord in axis.coords}
        unread = [(block, name) for block in self.blocks.values() for name, cell in block.cells.items()
                  if (isinstance(cell.expr, literal) or (name in block.set_over and reads_no_cell(cell.expr)))
                  and (not cell.sweep or (name in block.set_over and (block.name, name) in axes))
                  and block.owner.get(name) == block.name
                  and in_override(cell.expr.span.file) and (block.name, name) not in checker.types]
        if not unread:
            return
        alone = Checker(self.blocks, self.sources, ctx, session=self.session)
        for block, name in unread:
            alone.cell_type(block, name)
        seen = {(d.code, d.message, str(d.location)) for d in checker.diagnostics}
        checker.diagnostics.extend(d for d in alone.diagnostics if d.severity == "error" and d.location is not None
                                   and in_override(d.location.file)
                                   and (d.code, d.message, str(d.location)) not in seen)

    # -- overriding --------------------------------------------------------------------------------------------
    def with_overrides(self, overrides: Mapping[str, object] | None, report: str | None = None) -> "Program":
        """A new program with cells replaced: {"batch": [1, 2, 4], "rtx_a5000.mem_bw": "900 GB/s"}."""
        if not overrides:
            return self
        report_block = self.blocks[self._pick_report(report)] if self.reports else None
        modules, texts, replaced = apply_overrides(self.modules, self.blocks, overrides, report_block)
        merged = dict(self._extra_sources)
        merged.update(texts)
        overridden = Program(modules, merged)
        overridden.folder = self.folder                    # the names of its files are relative to where they were read
        overridden.named_files = self.named_files
        overridden._without_overrides = self
        mark_held_overrides(overridden.blocks, self.blocks, replaced)     # `--set h.x="2*3 s"` over `x = 1`, ...
        return overridden

    def _blame_overrides(self, exc: PerfError, report: str, checker: Checker | None = None) -> PerfError:
        """An error only the overrides (--set) cause, a sweep too large or a broken constraint, as bad usage (exit
        status 2, UsageError), as any other error in an override is; `exc` as it is where the report is too large or
        breaks the constraint without them (override_blame.blame; `checker`: the prepared report's)."""
        from .override_blame import blame

        return blame(self, exc, report, checker)

    # -- evaluating --------------------------------------------------------------------------------------------
    def _pick_report(self, report: str | None) -> str:
        """The report to evaluate: `report` where given (UsageError where no report has that name); else the one
        report of the loaded files, or the one report of the files named (not those they import: a plan that
        imports the bundled reports runs its own); else UsageError: none, or several (those of the named files
        listed first)."""
        reports = self.reports
        if report is not None:
            if report not in self.blocks or self.blocks[report].kind != "report":
                raise UsageError(error("unknown-report", f"no report named '{report}'",
                                       hints=did_you_mean(report, reports) + [available(reports)]))
            return report
        if not reports:
            raise UsageError(error("no-report", "the loaded files define no report",
                                   hints=["add a `report NAME { ... }` block that shows cells, or look at one cell with "
                                          "`perfdsl explain FILE BLOCK.CELL`"]))
        bases = self._bases()
        reports = [name for name in reports if name not in bases]
        if len(reports) == 1:
            return reports[0]
        named = [name for name in reports if self.blocks[name].file in self.named_files]
        if len(named) == 1:
            return named[0]
        imported = [name for name in reports if name not in named]
        listed = ", ".join(reports) if not named or not imported else (
            ", ".join(named) + f" (in {', '.join(dict.fromkeys(self.blocks[n].file for n in named))}), then "
            + ", ".join(imported) + " (imported)")
        first = (named or reports)[0]
        raise UsageError(error("which-report", "the loaded files define several reports: " + listed,
                               hints=["choose one with --report NAME" if from_the_command_line()
                                      else f"choose one: report={first!r}"]))

    def prepare(self, report: str | None = None) -> tuple[ReportContext, Checker]:
        """Build and check a report's context once (later calls reuse it); raise PerfError with every problem."""
        name = self._pick_report(report)
        prepared = self._prepared.get(name)
        if prepared is None:
            if self.structure_diagnostics:
                raise self._blame_overrides(PerfError(self.structure_diagnostics), name) from None
            try:
                ctx = build_context(self.blocks[name], self.blocks, self.sources)
            except RoleErrors as exc:      # refused with the report's other errors, as `check` says them
                raise self._blame_overrides(PerfError(exc.with_report_check(self._check_report(exc.context)
                                                                            .diagnostics)), name) from None
            except PerfError as exc:
                raise self._blame_overrides(exc, name) from None
            checker = self._check_report(ctx)
            # Errors stop the report; warnings alone (a misspelt option, `invalid_point = "mark"`) do not: every
            # evaluation's Result says them (standing_warnings), as `check` does. They stopped eval: exit 1, no rows.
            if any(d.severity == "error" for d in checker.diagnostics):
                raise self._blame_overrides(PerfError(checker.diagnostics), name, checker) from None
            if self._without_overrides is not None:      # an expectation only a --set breaks: said at the --set
                from .override_blame import blame_expectations

                blame_expectations(self, name, checker)
            prepared = self._prepared[name] = (ctx, checker)
        return prepared

    @with_recursion_room
    def evaluate(self, report: str | None = None, overrides: Mapping[str, object] | None = None,
                 progress: Callable[[int, int], None] | None = None) -> Result:
        """Evaluate a report's shown cells over its whole sweep.

        The report is linked and its dimensions checked once per program (`prepare`); each call evaluates only the
        cells the shown values depend on. A sweep of evaluator.LARGE_SWEEP points or more splits its largest
        elementwise operations over the usable CPUs, at most 4 threads, from the main thread only
        (split_kernels.py): the same values and warnings as on one thread. `overrides` (as `with_overrides`) give a new program for this call.
        A report with `points = "runs"` is evaluated over its sweep as written (the full product): the runs are not
        read here, and a warning among `warnings` (runs-not-read) says so and names perfdsl.evaluate_with_runs,
        which reads them as `perfdsl eval` does.
        Raises PerfError (exit status 1) for errors in the specs, UsageError (2) for a bad report name or override.
        """
        from .run_points import runs_not_read

        result = self.evaluate_sweep(report, overrides, progress)
        result.warnings.extend(runs_not_read(result.program, result.ctx.report))
        return result

    def evaluate_sweep(self, report: str | None = None, overrides: Mapping[str, object] | None = None,
                       progress: Callable[[int, int], None] | None = None) -> Result:
        """evaluate() without its runs-not-read warning: for evaluate_with_runs, whose overrides are the runs'
        points. Raises as evaluate()."""
        program = self.with_overrides(overrides, report)
        ctx, checker = program.prepare(report)
        program.refuse_too_large(ctx, checker)
        try:
            result = program.evaluate_in(ctx, checker, progress)
        except PerfError as exc:          # no point meets the constraints: the overrides' doing?
            raise program._blame_overrides(exc, ctx.report.name, checker) from None
        answer(result, checker)           # the report's `where` and question, if any (after `valid` is set)
        return result

    def evaluate_in(self, ctx: ReportContext, checker: Checker,
                    progress: Callable[[int, int], None] | None = None) -> Result:
        """The shown cells of a prepared report over the sweep of `ctx` (the whole sweep, or one chunk of it:
        chunks.slice_context), without answering its question. `checker` is `prepare`'s.

        Its Python frames run on a data-stack chunk of their own (data_stack.py): an evaluation makes thousands of
        calls up and down, and at some depths of the caller CPython 3.11 would map and unmap a chunk at each of
        about a hundred crossings of a chunk boundary (1e4 points of the capacity report: 2.0 -> 3.0-3.6 ms)."""
        return run_on_fresh_chunk(self._evaluate_in, ctx, checker, progress)

    def _evaluate_in(self, ctx: ReportContext, checker: Checker, progress) -> Result:
        from .result import Result

        evaluator = self.evaluator_in(ctx, checker, progress)
        columns = self.shown_columns(evaluator, ctx, checker)
        mode = option_value(self.sources, ctx.report, "invalid_points")
        constraints, key = self._constraints_reached(evaluator, ctx, checker)
        validity = evaluator.run(lambda: evaluate_requires(evaluator, constraints, mode, key))
        if any(d.severity == "error" for d in validity.diagnostics):
            raise PerfError(validity.diagnostics)
        # A point the constraints leave out is not in the results: its cells' trouble is not the user's (under
        # "mark" every point keeps its row, and counts).
        warnings = evaluator.kept_warnings(validity.valid if mode != "mark" else None)
        result = Result(self, ctx, columns,
                        self.standing_warnings(checker) + warnings + validity.diagnostics,
                        evaluator)
        result.set_validity(validity.valid, validity.violations, mode)
        # Under "mark", the columns valid and violates wherever the report has constraints, whether or not a point
        # breaks one: one schema for the whole output and the streamed one, whose header comes before its rows. An
        # expectation (`expect`) marks nothing: a report with expectations only has neither column.
        result.always_mark = has_hard(checker.constraints)
        return result

    def _constraints_reached(self, evaluator: Evaluator, ctx: ReportContext, checker: Checker) -> tuple[list, tuple]:
        """The constraints of the blocks an evaluation reached (blocks_of_report: the report, its roles' blocks and
        those its cells were computed in), and a key that names them: found once per prepared report for the same
        blocks in its roles and the same blocks reached, not filtered from every constraint at every evaluation."""
        key = ("constraints", evaluator.roles_key, frozenset(b for b, _, _ in evaluator.memo))
        known = evaluator.constants.formulas.get(key) if evaluator.constants is not None else None
        if known is None:
            reached = {block.name for block in blocks_of_report(self.blocks, ctx, key[2])}
            known = ([constraint for constraint in checker.constraints if constraint[0].name in reached], key)
            if evaluator.constants is not None:
                evaluator.constants.formulas[key] = known
        return known

    def evaluator_in(self, ctx: ReportContext, checker: Checker,
                     progress: Callable[[int, int], None] | None = None) -> Evaluator:
        """A fresh evaluator of a prepared report over the sweep of `ctx` (`checker`: `prepare`'s), sharing the
        report's constants (evaluator.Constants)."""
        return Evaluator(self.blocks, ctx, self.sources, checker.types, progress, link=checker.link,
                         constants=self._constants_of(ctx.report.name, checker))

    @staticmethod
    def shown_columns(evaluator: Evaluator, ctx: ReportContext, checker: Checker) -> list[ShownColumn]:
        """The report's shown cells over the sweep of `evaluator` (its context `ctx`), one column per `show` item (one
        that shows the report's own axis is marked so: ShownColumn.axis)."""
        from .result import ShownColumn

        def compute():
            columns = []
            for item in ctx.report.shows:
                vtype = checker.ref_type(item.ref, ctx.report, "")
                columns.append(ShownColumn.make(item, vtype, evaluator.ref(item.ref, ctx.report), checker,
                                                ctx.report, ctx))
            return columns

        return evaluator.run(compute)

    def refuse_too_large(self, ctx: ReportContext, checker: Checker) -> None:
        """Raise PerfError (sweep-too-large) where evaluating the whole sweep at once would hold more than
        chunks.WHOLE_EVALUATION_BYTES, before anything is computed; UsageError where only the overrides make it so."""
        from .chunks import WHOLE_EVALUATION_BYTES, predict_bytes, too_large_for_once

        if ctx.n_points * 8 <= WHOLE_EVALUATION_BYTES // 64:     # too small to matter: skip the prediction
            return
        predicted = predict_bytes(checker.link, ctx, evaluation_roots(checker.link, ctx),
                                  self._axes_of(ctx.report.name, checker))
        if predicted > WHOLE_EVALUATION_BYTES:
            message, notes, hints = too_large_for_once(ctx, predicted)
            raise self._blame_overrides(PerfError(self.sources.diag("sweep-too-large", message, ctx.report.span,
                                                                    notes=notes, hints=hints)), ctx.report.name)

    def _constants_of(self, name: str, checker: Checker) -> Constants:
        """The constants of a prepared report (evaluator.Constants): its cells that vary along no axis of more than
        one position. An axis of one position over the whole sweep (`tp = [1]`) takes that position in every
        evaluation and chunk, so a cell that varies along it only is as constant as one that varies along none:
        1e4 points of the capacity report (tp = [1]): 26 cells more, ~0.2 ms less an evaluation (1.94 -> 1.73 ms
        CPU, least of 600 interleaved), the same bits, warnings and validity."""
        found = self._constants.get(name)
        if found is None:
            axes = self._axes_of(name, checker)
            shape = self._prepared[name][0].shape
            found = self._constants[name] = Constants(
                frozenset(key for key, on in axes.items() if all(shape[axis] == 1 for axis in on)), axes=axes)
        return found

    def _axes_of(self, name: str, checker: Checker) -> dict:
        """chunks.cell_axes of a prepared report's evaluation roots, found once per program (0.1-0.15 s for the
        capacity-planning report: predicting a size, sizing chunks and finding constants all read it)."""
        found = self._cell_axes.get(name)
        if found is None:
            from .chunks import cell_axes

            ctx, _ = self._prepared[name]
            roots = evaluation_roots(checker.link, ctx) + constraint_roots(checker.link, checker.constraints)
            found = self._cell_axes[name] = cell_axes(checker.link, ctx, roots)
        return found

    def predict_bytes(self, report: str | None = None) -> int:
        """The memory (bytes) a whole evaluation of the report would hold: chunks.predict_bytes over the cells its
        shown values and question read. Raises as `prepare`."""
        from .chunks import predict_bytes

        ctx, checker = self.prepare(report)
        return predict_bytes(checker.link, ctx, evaluation_roots(checker.link, ctx), self._axes_of(ctx.report.name,
                                                                                                   checker))

    def chunk_points(self, report: str | None = None) -> int:
        """The points per chunk for evaluating the report chunk by chunk: about chunks.CHUNK_BYTES of arrays a chunk
        (chunks.chunk_points_for). Raises as `prepare`."""
        from .chunks import chunk_points_for

        ctx, _ = self.prepare(report)
        return chunk_points_for(self.predict_bytes(report) / max(ctx.n_points, 1))

    def cell_context(self, dotted: str):
        """A cell of a named block checked on its own, without a report: (block, cell, context, checker, type)."""
        block_name, _, cell = dotted.partition(".")
        block = self.block(block_name)
        if not cell or cell not in block.cells:
            raise UsageError(error("unknown-name", f"'{block_name}' has no cell '{cell}'",
                                   hints=did_you_mean(cell, block.cells) + [available(block.cells)]))
        if self.structure_diagnostics:
            raise PerfError(self.structure_diagnostics)
        ctx = ReportContext(report=block)
        checker = Checker(self.blocks, self.sources, ctx)
        ref = ir.Ref.model_construct(parts=(block_name, cell), span=block.cells[cell].span)
        vtype = checker.ref_type(ref, block, block.cell_path(cell))
        if checker.diagnostics:
            raise PerfError(checker.diagnostics)
        return block, cell, ctx, checker, vtype

    def value(self, dotted: str):
        """The value of one cell that needs no report (SI float, str or bool): program.value("opt_1_3b.params")."""
        block, cell, ctx, checker, vtype = self.cell_context(dotted)
        evaluator = Evaluator(self.blocks, ctx, self.sources, checker.types, link=checker.link)
        array = evaluator.run(lambda: evaluator.cell(block, cell))
        scalar = np.asarray(array).reshape(-1)[0]
        if vtype.kind == "num":
            return float(scalar)
        if vtype.kind == "bool":
            return bool(scalar)
        return scalar


def load(paths, *, texts: Mapping[str, str] | None = None) -> Program:
    """Load .perf files (and what they import) into a Program."""
    return Program.load(paths, texts=texts)


def constraint_roots(link: Linker, constraints) -> list[tuple[str, str]]:
    """The (block, cell) pairs the report's constraints read (`constraints`: the checker's (block, owner, require)
    triples), so that a model's or a GPU's own `require` over cells no shown value reads is known constant too
    (evaluator.Constants) and computed once per prepared report, not at every evaluation."""
    from .linker import Target, refs_of

    roots: dict[tuple[str, str], None] = {}
    for block, _, require in constraints:
        for ref in refs_of(require.condition):
            target = link.target(ref.parts, block)
            if isinstance(target, Target):
                roots.update(((name, target.cell), None) for name in target.blocks)
    return list(roots)


def evaluation_roots(link: Linker, ctx: ReportContext) -> list[tuple[str, str]]:
    """The (block, cell) pairs an evaluation of the report starts from: its shown cells and what its `where` lines
    and question read (through every block a swept role takes)."""
    from .queries import question_exprs

    return expr_roots(link, ctx, [item.ref for item in ctx.report.shows] + question_exprs(ctx))


def expr_roots(link: Linker, ctx: ReportContext, exprs: list[ir.Expr]) -> list[tuple[str, str]]:
    """The (block, cell) pairs that formulas written in the report read (through every block a swept role takes),
    in the order they are written."""
    from .linker import Target, refs_of

    roots: dict[tuple[str, str], None] = {}
    for expr in exprs:
        for ref in refs_of(expr):
            target = link.target(ref.parts, ctx.report)
            if isinstance(target, Target):
                roots.update(((name, target.cell), None) for name in target.blocks)
    return list(roots)
