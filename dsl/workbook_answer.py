"""The workbook of a question's answer merged from chunks: `perfdsl eval REPORT -o out.xlsx` where the sweep is
evaluated in chunks (too large to evaluate at once, or --chunk-points, --workers, --dask) and the report asks a
question (best, largest, smallest, pareto).

Its rows and values are those of the answer's CSV (streaming.Answer.table(): the same arrays), laid out by the
workbook of one whole evaluation (workbook_export.build_workbook_data, workbook.write_workbook): headers with units,
number formats, frozen headers, filters, the Setup, Summary, Plots and About sheets, text never a formula, the file
written atomically. An answer holds its rows' values and nothing over the sweep, so what the whole workbook reads of
the whole evaluation is taken from the answer (AnswerParts) or left out, and the About sheet says what and why:
- the Inputs sheet (every spec cell's values over the sweep) is not written;
- the report cells `section` and `note` (a text per sweep point, never a column of the answer) are not evaluated:
  the rows are on one sheet, without notes;
- the Plots sheet's roofline is evaluated at the first row's point, as the whole workbook's is (roofline_view
  evaluates one point);
- --live (the cost model as formulas over one whole evaluation) is refused before anything is computed (cli.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .comparison import InputCell
from .result import Rows, ShownColumn, key_with_unit
from .workbook_export import WholeParts, _first_points, build_workbook_data
from .workbook_pictures import workbook_pictures
from .workbook_setup import evaluation_cells, setup_lines

# Report cells the whole workbook evaluates at every sweep point, which an answer merged from chunks does not
PER_POINT_OPTIONS = ("section", "note")


class AnswerRows:
    """A streaming.Answer as build_workbook_data reads a Result: the whole sweep's context (`ctx`, from the
    program the answer was found with), the shown (and ranked) columns, the rows, and their values, every one
    taken from the answer's table, in display units as the CSV has them."""

    def __init__(self, answer, program, report: str | None):
        self.answer = answer
        self.program = program
        self.ctx, self.checker = program.prepare(report)
        self.columns: list[ShownColumn] = answer.shown
        self.rows: Rows = answer.rows

    @property
    def report(self) -> str:
        return self.answer.report

    @property
    def shape(self) -> tuple[int, ...]:
        return self.ctx.shape

    @property
    def axes(self):
        return self.ctx.axes

    @property
    def n_points(self) -> int:
        return self.answer.n_points

    @property
    def n_rows(self) -> int:
        return self.answer.n_rows

    def axis_columns(self) -> dict[str, np.ndarray]:
        """The rows' coordinates, keyed like the table: its first columns, one per coordinate of every axis."""
        count = sum(len(axis.coords) for axis in self.ctx.axes)
        return dict(zip(self.answer.keys[:count], self.answer.columns[:count]))

    def column(self, name: str) -> np.ndarray:
        """A shown cell per row in SI (streaming.Answer.column); text and flags as they are."""
        return self.answer.column(name)

    def display_column(self, name: str) -> np.ndarray:
        """A shown cell per row in its shown unit: the table's (and the CSV's) column."""
        return self.answer.display_column(name)

    def table_column(self, key: str) -> np.ndarray | None:
        """The table's column of header `key` ("serving.tpot low [ms]"); None where the answer has none."""
        keys = self.answer.keys
        return self.answer.columns[keys.index(key)] if key in keys and len(self.answer.columns) == len(keys) \
            else None


class AnswerParts(WholeParts):
    """What build_workbook_data reads besides the rows, for an answer merged from chunks: the calibration's low and
    high from the answer's own columns, no per-point `section` or `note`, the setup from the cells the report's
    evaluation reads (the linked program's, as Program.predict_bytes finds them, and the calibration's), no Inputs
    sheet."""

    result: AnswerRows

    def bounds(self, metrics: dict[str, ShownColumn]) -> dict[str, tuple[list, list]]:
        """Each metric's "NAME low [unit]" and "NAME high [unit]" columns (intervals.with_intervals, which the
        chunks' tables carry), as they are, by its name in the workbook (`metrics`: name -> shown column)."""
        out = {}
        for name, column in metrics.items():
            low = self.result.table_column(key_with_unit(f"{column.name} low", column.unit))
            high = self.result.table_column(key_with_unit(f"{column.name} high", column.unit))
            if low is not None and high is not None:
                out[name] = (low.tolist(), high.tolist())
        return out

    def per_point_text(self, option: str) -> list[str] | None:
        return None

    def setup(self, points: list[int], axis_columns: dict[str, np.ndarray], title: str) -> list[tuple[str, str]]:
        """setup_lines of the rows `points`, its Cost model line naming the blocks of every cell the report's
        evaluation can read (workbook_setup.evaluation_cells), in the order the whole workbook names them."""
        view = self.result
        read = evaluation_cells(view.program, view.ctx, view.checker.link)
        return setup_lines(view, points, axis_columns, None, read=read, order=read)

    def marks(self) -> tuple[list, list] | None:
        valid, violates = self.result.table_column("valid"), self.result.table_column("violates")
        return None if valid is None or violates is None else (valid.tolist(), violates.tolist())

    def inputs(self) -> list[InputCell] | None:
        return None


def answer_notes(view: AnswerRows) -> list[str]:
    """The About sheet's lines on what the rows are (the answer to which question, over how many points, in how many
    chunks, on how many Dask workers) and on what the workbook leaves out."""
    answer, ctx = view.answer, view.ctx
    question = ctx.report.questions[0]
    chunks = f"{answer.n_chunks:,} chunk{'s' if answer.n_chunks != 1 else ''}"
    where = f" on {answer.workers:,} Dask worker{'s' if answer.workers != 1 else ''}" if answer.workers else ""
    notes = [f"Rows: the answer to the question `{question.text}` over all {answer.n_points:,} sweep points, "
             f"evaluated in {chunks}{where}, and merged; the rows and values are those of -o FILE.csv of the same run.",
             "Not in this workbook: the Inputs sheet (every spec cell's values over the sweep). An answer merged from "
             "chunks keeps its rows' values, never the whole sweep's cells; a sweep evaluated whole (small enough "
             "to fit, narrowed with --set where it is not, without --chunk-points, --workers or --dask; "
             "Program.evaluate from Python) gets the Inputs sheet."]
    unapplied = [name for name in PER_POINT_OPTIONS if name in ctx.report.cells]
    if unapplied:
        cells = " and ".join(f"`{name}`" for name in unapplied)
        notes.append(f"Not applied: the report's {cells} (a text per sweep point, which an answer merged from chunks "
                     "does not evaluate): every row is on one sheet, without row notes.")
    return notes


def export_answer_workbook(answer, program, report: str | None, output: str, *, protected: Sequence[str] = (),
                           progress: Callable[[int, int], None] | None = None) -> Path:
    """Write the workbook of `answer` (streaming.Answer, found by answer_in_chunks or distributed.answer_on_dask over
    `program`, its overrides applied, and `report`) at `output` and return its path; `protected`: files it must
    not overwrite. Raises UsageError as workbook.write_workbook (an output that is an input, a missing folder)."""
    from .workbook import write_workbook

    view = AnswerRows(answer, program, report)
    parts = AnswerParts(view)
    data = build_workbook_data(view, None, parts)
    data.notes += answer_notes(view)
    from .provisional import for_answer, provisional_text

    data.notes += [text for text in [provisional_text(for_answer(answer))] if text]     # as eval's note[provisional]
    data.pictures = workbook_pictures(view, _first_points(view, None, parts))
    return write_workbook(data, output, progress=progress, protected_inputs=[Path(p) for p in protected])
