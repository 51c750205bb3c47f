"""The names of a report's shown columns (`show serving.tpot in ms as tpot`) as names of the cells they show.

A report's `where` lines and its question (`best max tput per hardware`) may read a column by its `as` label: the
bare name reads the cell the column shows, in SI like any cell (the `in UNIT` of the `show` is for display only).
`perfdsl explain tpot` takes the label the same way. One mapping serves them all (`shown_cells`), so that check,
eval (whole, chunked or on Dask workers, which all read questions through queries.bind_axes) and explain agree.

A label is the last meaning a bare name takes: a cell of the report, then an axis (`batch`), come first, so that no
program that read a name before reads another now (a label named like an axis is an error of its own, duplicate-show:
the output would have two columns of that name). A report's own cells do not read labels: a report cell is a cell
like any block's (inherited by the reports that extend it, replaced by `--set`, read as `report.CELL`, written as a
formula into a live workbook), while a label is the name of a column of one report's output, and a report that
extends another adds columns: a parent's cell would read a name that only its child defines. There the linker says
that the name is a column's and which cell to write (label_message).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import ir

if TYPE_CHECKING:
    from .blocks import Block


def shown_cells(report: "Block") -> dict[str, tuple[ir.Ref, ...]]:
    """Every column name of `report` (its `as` label, else the reference as written: ShowItem.name), its parents'
    `show` lines included, -> the references shown under it, one per cell (by their text), in the order shown.
    A name shows two cells only where two columns of one name show different cells in different units."""
    names: dict[str, dict[str, ir.Ref]] = {}
    for item in report.shows:
        names.setdefault(item.name, {}).setdefault(item.ref.dotted, item.ref)
    return {name: tuple(refs.values()) for name, refs in names.items()}


def label_target(name: str, report: "Block") -> ir.Ref | None:
    """The reference shown under the `as` label `name` where that is one cell (`tpot` -> `serving.tpot`); None where
    `name` is no label of the report, a label of two different cells, or a column shown under its own reference."""
    refs = shown_cells(report).get(name, ())
    if len(refs) != 1 or refs[0].dotted == name:
        return None
    return refs[0]


def label_message(name: str, report: "Block") -> tuple[str, list[str]] | None:
    """Where the bare name `name` is a column's name of `report` but reads no cell there: the message that says so
    and which cell to write ("'tput' is a shown column's name, not a cell: write the cell it shows
    (serving.cluster_throughput)"), and its hints; None where `name` is no label of the report."""
    refs = tuple(ref for ref in shown_cells(report).get(name, ()) if ref.dotted != name)
    if not refs:
        return None
    if len(refs) == 1:
        return (f"'{name}' is a shown column's name, not a cell: write the cell it shows ({refs[0].dotted})",
                ["a shown column's name reads its cell in `where` lines and questions, not in a report's cells"])
    return (f"'{name}' is a shown column's name, not a cell, and its columns show different cells: write the cell "
            f"meant ({' or '.join(ref.dotted for ref in refs)})", [])


def close_labels(name: str, report: "Block", after_cells: bool) -> list[str]:
    """The hint naming the `as` labels of `report` closest to the bare name `name` (errors.suggest) and the cells
    they show, as a list of one line: "or a shown column: 'tput' (serving.cluster_throughput)" where `after_cells`
    (a hint already names close cells), else "did you mean a shown column: 'tput' (...)?"; [] where none is close."""
    from .errors import suggest

    labels = {label: refs for label, refs in shown_cells(report).items()
              if label.isidentifier() and any(ref.dotted != label for ref in refs)}
    close = suggest(name, labels) if labels else []
    if not close:
        return []
    listed = ", ".join(f"'{label}' ({' or '.join(ref.dotted for ref in labels[label])})" for label in close)
    return [f"or a shown column: {listed}" if after_cells else f"did you mean a shown column: {listed}?"]
