"""What the calibrated `.perf` file imports, and whether it will pass `perfdsl check` on its own.

The file imports the files that define the fitted blocks, each once, in the order `--fit` names the cells (the
order is the command line's, so a refit with the same command writes the same imports). A block defined in the
report itself (a workload such as `gptfast_generate`) makes the file import the report, and so whatever the report
imports: where that is a calibration that `set`s some of the same cells (the one the report binds, being refitted
into a new file), the new file sets them twice and `check` refuses it. `set_twice` finds that before the fit,
from the imports alone, so `calibrate` can say which file and cells and how to use the new file; `check_written`
checks the file written, so that no file that fails `check` is left without a word.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import Diagnostic, PerfError


@dataclass
class SetTwice:
    """A file in the new calibration's imports (`file`, as shown) that sets some of the fitted cells (`cells`,
    BLOCK.CELL), where the first is set (`location`, `source_line`), and the file and import text that bring it in
    (`importer`, `import_text`; None where a fitted block's own file sets them)."""

    file: str
    cells: list[str]
    location: object
    importer: str | None
    import_text: str | None
    source_line: str | None = None


def fitted_block_files(problem, cells) -> list[str]:
    """The absolute paths of the files that define the fitted blocks, each once, in --fit order."""
    blocks = problem.program.blocks
    return list(dict.fromkeys(os.path.abspath(blocks[cell.block].file) for cell in cells))


def import_lines(problem, cells, output: str) -> list[str]:
    """The `import "..."` lines of the calibrated file: the fitted blocks' files (import_path)."""
    return [f'import "{import_path(path, output)}"' for path in fitted_block_files(problem, cells)]


def import_path(path: str, output: str) -> str:
    """How the file `output` imports the file `path`. A bundled library's file, from an output outside the tree that
    holds the libraries (a user's folder), by its library form (`hardware/hopper.perf`), which finds the libraries
    wherever perfdsl is installed or cloned, where that form resolves to `path` from the output's folder
    (loader.resolve_import: no file of that name beside the output or in the working folder shadows it). Else the path
    relative to the output's folder: a user's file (`toy.perf`), a shadowed library file, and a library file from an
    output inside the libraries' tree (`reports/`: `../hardware/gpu.perf`), which moves with them, so that a copy of
    the tree reads its own files, as the tree's reports do."""
    from .library import library_root
    from .loader import resolve_import

    target = Path(path).resolve()
    out = Path(os.path.abspath(output))
    library = _library_form(target)
    if library is not None and not out.resolve().is_relative_to(library_root().resolve()) \
            and resolve_import(library, out) == target:
        return library
    return os.path.relpath(path, out.parent)


def _library_form(target: Path) -> str | None:
    """`LIBRARY/FILE` (`hardware/hopper.perf`) for a file of a bundled library, or None."""
    from .library import LIBRARIES, library_path

    for name in LIBRARIES:
        try:
            return f"{name}/{target.relative_to(library_path(name).resolve()).as_posix()}"
        except ValueError:
            continue
    return None


def set_twice(problem, cells, output: str) -> list[SetTwice]:
    """The files the new calibration would import (with what they import) that `set` fitted cells too, other than
    the output itself (a calibration written over is replaced). [] where the imports cannot be read (the report
    loaded, so they can)."""
    from .loader import load_modules, resolve_import

    try:
        modules = load_modules(fitted_block_files(problem, cells))
    except PerfError:
        return []
    target = Path(output).resolve()
    fitted = {(cell.block, cell.cell) for cell in cells}
    found = []
    for module in modules:
        if Path(module.file).resolve() == target:
            continue
        stmts = [stmt for stmt in module.sets if (stmt.block, stmt.cell.name) in fitted]
        if not stmts:
            continue
        importer = text = None
        for other in modules:
            for imp in other.imports:
                if resolve_import(imp.path, Path(other.file).resolve()) == Path(module.file).resolve():
                    importer, text = importer or other.file, text or imp.path
        span = stmts[0].cell.span
        found.append(SetTwice(module.file, [f"{s.block}.{s.cell.name}" for s in stmts], span.location(), importer,
                              text, module.source.split("\n")[span.line - 1].removesuffix("\r")))
    return found


def set_twice_warning(clash: SetTwice, output: str) -> Diagnostic:
    """The warning `calibrate` gives before the fit for a file that sets fitted cells too: which file, which cells,
    what brings it in, and the two ways to use the new values."""
    brought = f", and it imports {clash.importer}, which imports that file" if clash.importer else ""
    count = len(clash.cells)
    hints = []
    if clash.importer and clash.import_text:
        new = os.path.relpath(os.path.abspath(output), os.path.dirname(os.path.abspath(clash.importer)))
        hints.append(f"to use the new values, import \"{new}\" in {clash.importer} instead of "
                     f"\"{clash.import_text}\" (the new file then checks), or write over the old file: "
                     f"-o {clash.file}")
    else:
        hints.append(f"write over the old file (-o {clash.file}), or take the cells out of its `set`")
    return Diagnostic("calibration-clash", f"{output} will set {count} cell{'s' if count != 1 else ''} that "
                      f"{clash.file} sets too{brought}: `perfdsl check {output}` will find "
                      f"{'each' if count != 1 else 'it'} set twice", clash.location, clash.source_line,
                      notes=["set by both: " + ", ".join(clash.cells)], hints=hints, severity="warning")


def header_note(clashes: list[SetTwice]) -> list[str]:
    """Comment lines for the calibrated file's header that say why it fails `check` on its own, and what to do."""
    lines = []
    for clash in clashes:
        via = f" (imported through {clash.importer})" if clash.importer else ""
        lines.append(f"# NOTE: {clash.file}{via} sets {', '.join(clash.cells)} too: `perfdsl check` on this file "
                     "finds them set twice until the report imports this file instead of that one, or this file "
                     "replaces it.")
    return lines


def check_written(output: str) -> list[Diagnostic]:
    """The errors `perfdsl check OUTPUT` would give on the file written ([] where it checks)."""
    from .program import Program

    try:
        diagnostics = Program.load([output]).check()
    except PerfError as exc:
        diagnostics = exc.diagnostics
    return [d for d in diagnostics if d.severity == "error"]


def fails_check_warning(output: str, errors: list[Diagnostic], explained: bool) -> Diagnostic:
    """What `calibrate` says after writing a calibration that `perfdsl check` refuses: with `explained` (a
    calibration-clash warning said before the fit why: the report still imports the old calibration), a warning
    that points at it; else error[calibration-fails-check], which the caller raises after putting the old file
    back. Either quotes the first few errors."""
    shown = [f"{d.location}: error[{d.code}]: {d.message}" if d.location else f"error[{d.code}]: {d.message}"
             for d in errors[:3]]
    if len(errors) > 3:
        shown.append(f"... and {len(errors) - 3} more")
    count = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
    if explained:
        return Diagnostic("calibration-clash", f"wrote {output}, but `perfdsl check {output}` finds {count}", None,
                          notes=shown, hints=["see the calibration-clash warning above: the file checks once the "
                                              "report imports it instead of the old calibration"], severity="warning")
    return Diagnostic("calibration-fails-check", f"wrote {output}, but `perfdsl check {output}` finds {count}: the "
                      "old file is put back", None, notes=shown,
                      hints=["a bug in perfdsl: calibrate should write a file that checks; report it with the command"])
