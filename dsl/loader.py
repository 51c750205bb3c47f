"""Loading (stage 1): files -> parsed modules, following imports.

An import is resolved relative to the importing file, then the working folder, then the bundled libraries, so
`import "hardware/ampere_workstation.perf"` works from anywhere. Every file is parsed once; import cycles are harmless.
Diagnostics of every file are collected before anything is raised.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator, Protocol

from .errors import (Diagnostic, Location, PerfError, UsageError, byte_position, command_line_args, did_you_mean, error,
                     suggest)
from .library import IMPORT_ORDER, library_files, library_root

if TYPE_CHECKING:       # the parser (lark, pydantic) is imported when a file is parsed: check_cache replays without
    from . import ir    # it, resolving imports with resolve_import alone


class LoadTrace(Protocol):
    """What a loading read from the file system, as check_cache records it: every file read (its bytes, or the
    OSError that refused them) and every import resolved (None: no candidate was a file)."""

    def read(self, path: Path, data: bytes | None, exc: OSError | None) -> None: ...

    def imported(self, spec: str, importer: Path | None, target: Path | None) -> None: ...


def display_path(path: Path) -> str:
    """A path as users should read it in messages: relative to the working directory when below it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return relative if not relative.startswith("..") else str(path)


def resolve_import(spec: str, importer: Path | None) -> Path | None:
    """The file an `import "SPEC"` names, as an absolute path: looked for relative to the importing file (`importer`;
    None for a file given on the command line), then the working folder, then the bundled libraries. None where no
    candidate is a readable regular file; raises nothing."""
    for candidate in _candidates(spec, importer):
        if _is_file(candidate):
            return candidate.resolve()
    return None


def _candidates(spec: str, importer: Path | None) -> Iterator[Path]:
    """Where `import "SPEC"` is looked for, in order, each made only where the one before is not a file (most
    imports are found beside their importer: the library root is not looked up for them)."""
    if importer is not None:
        yield importer.parent / spec
    yield Path(spec)
    yield library_root() / spec


def _is_file(path: Path) -> bool:
    """Path.is_file that answers False for any path the system refuses (too long, a NUL byte, no permission)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


class LoadMemo:
    """What the loads of one `perfdsl check` share (cli._FileChecker keeps one for its programs, which load the same
    libraries): resolve_import's answers by (spec, importing file), and each file read cleanly, by its resolved
    path: its name as shown, its bytes and its text. The files are taken as they are when first looked up. In a
    check of the library files: 157 imports resolved instead of 516 (Path.is_file and Path.resolve, about 20 us
    each) and 57 files read and decoded instead of 362."""

    def __init__(self) -> None:
        self.imports: dict[tuple[str, Path | None], Path | None] = {}
        self.files: dict[Path, tuple[str, bytes, str]] = {}


def load_modules(paths: Iterable[str | os.PathLike], texts: dict[str, str] | None = None,
                 trace: LoadTrace | None = None, memo: LoadMemo | None = None) -> list[ir.Module]:
    """Parse the given files and everything they import. `texts` maps extra in-memory file names to their text;
    `trace` (optional) is told every file read and every import resolved, failed ones included (those `memo`
    answers too). `memo` (optional): what the former loads given it found (LoadMemo), to take again. Raises
    PerfError with every diagnostic of every file: PartialLoad, which holds the modules, where the only errors are
    those after which a file is still checked (parser.CHECKED_ON: an unknown unit)."""
    from .parser import PartialParse, parse_text, plain_text

    modules: list[ir.Module] = []
    diagnostics: list[Diagnostic] = []
    seen: set[Path] = set()
    queue: list[Path] = []

    missing = []
    cut_hints = set()
    for raw in paths:
        path = Path(raw)
        if not _is_file(path):
            cut = _cut_value_hint(str(raw))
            if cut is None or _cut_value(cut) not in cut_hints:   # the pieces of one cut value: one error, the first
                missing.append(_missing_file(str(raw), path, cut))
            if cut is not None:
                cut_hints.add(_cut_value(cut))
            continue
        queue.append(path.resolve())
    if missing:
        raise UsageError(missing)

    partial: list[Diagnostic] = []         # the errors of files parsed with errors after which they are checked

    def parse(text: str, shown: str, importer: Path | None) -> None:
        try:
            module = parse_text(text, shown)
        except PartialParse as exc:           # an unknown unit, say: the module is loaded, its imports followed
            partial.extend(exc.diagnostics)
            module = exc.module
        except PerfError as exc:
            diagnostics.extend(exc.diagnostics)
            return
        modules.append(module)
        lines: list[str] | None = None                # split once, for however many imports are missing
        for imp in module.imports:
            if memo is None:
                target = resolve_import(imp.path, importer)
            elif (target := memo.imports.get((imp.path, importer), _UNSEEN)) is _UNSEEN:
                target = memo.imports[imp.path, importer] = resolve_import(imp.path, importer)
            if trace is not None:
                trace.imported(imp.path, importer, target)
            if target is None:
                lines = text.split("\n") if lines is None else lines       # as the parser counts lines
                diagnostics.append(_missing_import(imp, lines, importer))
            else:
                queue.append(target)

    for name, text in (texts or {}).items():
        parse(text, name, None)
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        kept = memo.files.get(path) if memo is not None else None
        if kept is not None:
            shown, data, text = kept
            if trace is not None:
                trace.read(path, data, None)
            parse(text, shown, path)
            continue
        shown = display_path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            if trace is not None:
                trace.read(path, None, exc)
            diagnostics.append(error("unreadable-file", f"cannot read '{shown}': {exc.strerror or exc}",
                                     Location(shown), hints=["check that the file can be read"]))
            continue
        if trace is not None:
            trace.read(path, data, None)
        try:
            # A byte order mark (Windows editors) is dropped here, not only by the parser: the errors of a missing
            # import quote the file's lines, and the first line is often an import.
            text = plain_text(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            diagnostics.append(_not_utf8(shown, data, exc))
            continue
        if memo is not None:
            memo.files[path] = (shown, data, text)
        parse(text, shown, path)
    if diagnostics:
        raise PerfError(diagnostics + partial)
    if partial:
        raise PartialLoad(partial, modules)
    return modules


_UNSEEN = object()       # an import a LoadMemo does not hold yet


class PartialLoad(PerfError):
    """The errors of loaded files that parsed with errors after which they are still checked (parser.PartialParse),
    every file loaded and every import found: `modules` is what load_modules would have returned, the checker's to
    check (Program.load), never to evaluate."""

    def __init__(self, diagnostics: list[Diagnostic], modules: list[ir.Module]):
        super().__init__(diagnostics)
        self.modules = modules


# A block's name as the grammar writes one: what a report's name given in place of a file looks like.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _missing_file(raw: str, path: Path, cut: str | None = None) -> Diagnostic:
    """A file of the command line that is not a file: a folder (its .perf files are what to give), or nothing. `cut`:
    the hint to quote the `--set` value that `raw` is a piece of, instead of the path's help."""
    if _is_dir(path):
        return error("no-such-file", f"cannot read '{raw}': it is a folder",
                     hints=[cut or f"give its files: {raw.rstrip('/' + os.sep) or raw}/*.perf"])
    hints = [cut or "check the path (a file given here is read relative to the working folder); imports "
             f"inside .perf files are looked up {IMPORT_ORDER}"]
    if cut is None and _NAME.fullmatch(raw):
        # `perfdsl eval plan.perf plan`: a report's name given where a file is read (a newcomer's slip).
        hints.append(f"'{raw}' reads as a name, not a file: a report is chosen with --report {raw} (eval, plot, "
                        "explain, calibrate)")
    return error("no-such-file", f"cannot read '{raw}': no such file", hints=hints)


def _cut_value_hint(raw: str) -> str | None:
    """The hint to quote a `--set` value, where `raw` is a piece of it that the shell cut off and argparse took for the
    report's file (`perfdsl eval --set x=900 GB/s r.perf`, `--set batch=1, 2 r.perf`, `--set seq=128 .. 1024
    r.perf`: `..` too, though a folder of that name exists); None elsewhere, and always through the API."""
    argv = command_line_args()
    if not argv:
        return None
    from .usage_hints import cut_value_hint

    return cut_value_hint(raw, argv)


def _cut_value(hint: str) -> str:
    """The quoted value a cut-value hint ends with (the same for every piece of one value)."""
    return hint.rpartition(": ")[2]


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def _not_utf8(shown: str, data: bytes, exc: UnicodeDecodeError) -> Diagnostic:
    """The first byte that is not UTF-8, located by line and column."""
    line, col, source = byte_position(data, exc.start)
    return error("unreadable-file", f"cannot read '{shown}': byte 0x{data[exc.start]:02x} is not UTF-8 text",
                 Location(shown, line, col, col + 1), source_line=source,
                 hints=["save the file as UTF-8 (a .perf file is UTF-8 text)"])


def _missing_import(imp: ir.Import, lines: list[str], importer: Path | None) -> Diagnostic:
    """error[no-such-import], with the closest files the import could have meant: those in the folder it names
    (beside the importing file, then in the working folder: `../mymodel.perf` for `../mymodle.perf`) where one is
    close, else the closest bundled files."""
    source = lines[imp.span.line - 1].removesuffix("\r") if imp.span.line <= len(lines) else None
    shown = imp.path if len(imp.path) <= 80 else imp.path[:77] + "..."
    folder = next((candidate for candidate in _candidates(imp.path, importer) if _is_dir(candidate)), None)
    if folder is not None:                      # `import "models"`: a folder is no file to import
        return error("no-such-import", f"cannot import '{shown}': it is a folder", imp.span.location(),
                     source_line=source, hints=[f"an import names one .perf file, e.g. `import \"{imp.path.rstrip('/')}"
                                                f"/NAME.perf\"`; each file imports what it reads"])
    suffixed = f"{imp.path}.perf"
    if not imp.path.endswith(".perf") and resolve_import(suffixed, importer) is not None:
        hints = [f"did you mean '{suffixed}'? an import names the file with its .perf suffix"]
    else:
        bundled = [f"{path.parent.name}/{path.name}" for path in library_files()]
        hints = _nearby_guesses(imp.path, importer) or did_you_mean(imp.path, bundled)
    return error("no-such-import", f"cannot find the imported file '{shown}'", imp.span.location(),
                 source_line=source, hints=hints + [f"imports are looked up {IMPORT_ORDER}"])


# The most .perf files of one folder that a missing import's hint compares with (on the path of an error only).
NEARBY_SPECS = 500


def _nearby_guesses(spec: str, importer: Path | None) -> list[str]:
    """The hint "did you mean '../mymodel.perf'?" for the .perf files of the folder an import names whose names are
    close to the one written (compared without the folder and the suffix they share), written as the import would
    write them; the folder relative to the importing file, then to the working folder, as `import` looks them up,
    at most NEARBY_SPECS files of each. [] where none is close; raises nothing."""
    folder, written = os.path.split(spec)
    places = ([importer.parent] if importer is not None else []) + [Path(".")]
    stems: dict[str, None] = {}
    for place in places:
        try:
            names = sorted(entry.name for entry in os.scandir(place / folder)
                           if entry.name.endswith(".perf") and entry.is_file())[:NEARBY_SPECS]
        except (OSError, ValueError):
            continue
        stems.update((name.removesuffix(".perf"), None) for name in names)
    close = suggest(written.removesuffix(".perf"), stems)
    if not close:
        return []
    return ["did you mean " + " or ".join(f"'{folder + '/' if folder else ''}{stem}.perf'" for stem in close) + "?"]
