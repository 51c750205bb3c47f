"""The check-result cache of `perfdsl check`: a file whose text, and the text of every file it loaded, are unchanged
since it was last checked is not parsed or checked again; its diagnostics are replayed (as mypy and ruff do).

`perfdsl check` checks each file on its command line as a program of its own (the file and what it imports). After
checking one, `store` writes an entry `check-<hex>.json` into the private folder of user_cache.py, named by the
digest of its key and of the root file's content (so an edit of the file, then its undoing, finds the first text's
entry where it was). An entry holds up to VARIANTS results of that file, most recent first, one for each state of
what it imports (so an edit of an imported file, then its undoing, replays too):

- the key: the entry format, `user_cache.code_fingerprint()` (perfdsl's code and the Python version), the versions of
  the libraries whose behaviour shows in a diagnostic (lark's parse errors, pydantic, numpy), the package folder
  (where the bundled libraries are found), the working folder (paths are printed relative to it, and an import is
  looked for in it), the root file as the loader resolved it, and the command's options that change a check;
- in each variant, what the check read: the state of every file the loader read (the SHA-256 of the bytes it read,
  not read again after, or the OSError that refused them), every import as resolved (spec, importing file, the file
  found or none), and, where the result holds diagnostics, the state of the bundled libraries (their hints name
  bundled files and what they define);
- and its result: the program's diagnostics, every field (JSON, never pickle: nothing in an entry is executed), and
  for the summary line each module's file as shown with its number of blocks and reports.

`replay` gives a variant's result back only where the entry's key is this run's and what the variant read reads the
same now: each file's bytes hash the same, each import resolves (loader.resolve_import, the loader's own rule) to the
same file or to none (a new file that shadows an import, or a missing import that now exists, invalidates the
variant), and the bundled libraries are the same. A variant replayed moves to the front of its entry (the least
recently used is the one dropped). The diagnostics are a function of these alone (each file's hints get a fresh
suggestion budget: cmd_check resets it per file), so the replayed run prints the same bytes as the checked one.

Never an error from the cache: an entry that cannot be read, is truncated, is not this format, fails a type check,
or is not this user's private file (user_cache.trusted_entry: such a file is replaced by a fresh entry) is a miss; a
folder that cannot be written (read-only, full) stores nothing. The folder is pruned at most once a day, and after a
run that stored PRUNE_AFTER entries or more: entries unused for UNUSED_DAYS, and the oldest beyond MAX_ENTRIES; in
between, it holds what the checks since wrote beyond MAX_ENTRIES. PERFDSL_NO_CACHE or `perfdsl check --no-cache` turns the
cache off.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .errors import Diagnostic, Location, Tally
from .user_cache import (cache_folder, code_fingerprint, library_versions, prune_due, prune_entries, trusted_entry,
                         write_atomically)

FORMAT = 2
PREFIX = "check-"
MAX_ENTRY_BYTES = 16 * 2**20        # a larger result (tens of thousands of diagnostics) is checked again each time
VARIANTS = 4                        # results kept per root file text: A -> B -> A (a branch switched and back) replays
MAX_ENTRIES = 5000                  # a variant is about 3 KB for the bundled libraries: ~15 MB, ~60 MB at most
UNUSED_DAYS = 30
PRUNE_EVERY_S = 24 * 3600
# A run that stores this many entries prunes whatever the day's stamp says (as the parse cache does after 500), so a
# check of a large folder, or a fuzzer's many runs in one process, cannot leave the folder far beyond MAX_ENTRIES for
# a day; listing the folder costs a few ms per thousand entries.
PRUNE_AFTER = 500
STAMP = PREFIX + "pruned.stamp"     # its mtime: the last pruning
DISTRIBUTIONS = ("lark", "pydantic", "numpy")


@dataclass
class Checked:
    """The result of checking one file as a program: its `diagnostics` (as Program.check gives them, or the load's
    errors) and `modules`, (file as shown, blocks, reports) of each module it loaded ([] where it failed to load)."""

    diagnostics: list[Diagnostic]
    modules: list[tuple[str, int, int]] = field(default_factory=list)


class Recorder:
    """A loader.LoadTrace that remembers what one program's loading read: `files` maps each file's resolved path to its
    state (_state), `imports` lists [spec, importing file, file found] (None: the command line, or not found),
    `root` is the first file read (the one on the command line)."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}
        self.imports: list[list[str | None]] = []
        self.root: str | None = None

    def read(self, path: Path, data: bytes | None, exc: OSError | None) -> None:
        """The loader read `path`: its bytes (`data`), or `exc` refused them."""
        name = str(path)
        if self.root is None:
            self.root = name
        self.files[name] = _state(data, exc)

    def imported(self, spec: str, importer: Path | None, target: Path | None) -> None:
        """The loader resolved `import "spec"` of `importer` to `target` (None: no such file)."""
        self.imports.append([spec, None if importer is None else str(importer),
                             None if target is None else str(target)])


def _state(data: bytes | None, exc: OSError | None) -> str:
    """A file's state as an entry records it: "sha256:HEX" of its bytes, or "oserror:ERRNO:TEXT" (the loader's
    message quotes the error's text)."""
    if data is not None:
        return "sha256:" + hashlib.sha256(data).hexdigest()
    return f"oserror:{getattr(exc, 'errno', None)}:{getattr(exc, 'strerror', None) or exc}"


class CheckCache:
    """The check-result cache of one run of `perfdsl check` (see the module's docstring). `options`: the command's
    options that change what a check prints, part of every key. Current file states and import resolutions are read
    once per run. Make one with `CheckCache.open`."""

    def __init__(self, folder: Path, options: dict):
        self.folder = folder
        self.options = options
        self.stored = 0
        self._states: dict[str, str] = {}
        self._resolved: dict[tuple[str, str | None], str | None] = {}
        self._library: str | None = None
        self._base: dict | None = None
        self._keys: dict[tuple[str, str, str], tuple[dict, str]] = {}

    @classmethod
    def open(cls, options: dict) -> "CheckCache | None":
        """The cache, or None where it is off (PERFDSL_NO_CACHE) or has no usable folder (user_cache.cache_folder)."""
        folder = cache_folder()
        return None if folder is None else cls(folder, options)

    # -- keys ----------------------------------------------------------------------------------------------------
    def _key(self, root: str, state: str) -> tuple[dict, str]:
        """The key of the entries of the program whose root file (resolved) is `root`, and the file name of the entry
        for the root's content `state` (_state)."""
        if self._base is None:
            self._base = {"format": FORMAT, "code": code_fingerprint(), "libraries": library_versions(DISTRIBUTIONS),
                          "package": str(Path(__file__).resolve().parent), "options": self.options}
        cwd = os.getcwd()
        found = self._keys.get((cwd, root, state))   # a file checked after its replay missed: the same key
        if found is None:
            key = {**self._base, "cwd": cwd, "root": root}
            digest = hashlib.sha256(json.dumps([key, state], sort_keys=True).encode()).hexdigest()
            found = self._keys[cwd, root, state] = key, f"{PREFIX}{digest[:40]}.json"
        return found

    # -- replaying -----------------------------------------------------------------------------------------------
    def replay(self, file: str) -> Checked | None:
        """The stored result of checking `file` (as written on the command line; an existing file) where nothing it
        depends on has changed, else None. Never raises (but KeyboardInterrupt and the like)."""
        try:
            return self._replay(file)
        except (OSError, ValueError, KeyError, TypeError, AttributeError, UnicodeError):
            return None                    # an entry that is damaged or not of this format: a miss
        except Exception:                  # noqa: BLE001 - any doubt about an entry is a miss, never an error
            if os.environ.get("PERFDSL_DEBUG"):
                raise
            return None

    def _replay(self, file: str) -> Checked | None:
        root = str(Path(file).resolve())
        key, name = self._key(root, self._current_state(root))
        path = trusted_entry(name)
        if path is None:
            return None
        found = _read(path)
        if found is None:
            return None
        entry, mtime = found
        if not isinstance(entry, dict) or entry.get("key") != key or not isinstance(entry["variants"], list):
            return None
        for rank, variant in enumerate(entry["variants"]):
            if self._unchanged(variant):
                checked = Checked(_diagnostics(variant["diagnostics"]), _modules(variant["modules"]))
                break
        else:
            return None
        if rank:                                      # the most recently used first: it is the last to be dropped
            entry["variants"].insert(0, entry["variants"].pop(rank))
            try:
                self._write(path, json.dumps(entry, separators=(",", ":")), count=False)
            except OSError:
                pass                                  # a read-only or full disk: the order stays as it was
        elif time.time() - mtime > PRUNE_EVERY_S:     # used: keep it from pruning (at most one write a day)
            try:
                os.utime(path)
            except OSError:
                pass
        return checked

    def _unchanged(self, variant: dict) -> bool:
        """Whether every file, import and library state the variant read reads the same now."""
        files, imports, library = variant["files"], variant["imports"], variant["library"]
        if not isinstance(files, list) or not isinstance(imports, list) or not files:
            return False
        for name, state in files:
            if not isinstance(name, str) or self._current_state(name) != state:
                return False
        for spec, importer, target in imports:
            if not isinstance(spec, str) or not isinstance(importer, (str, type(None))):
                return False
            if self._current_target(spec, importer) != target:
                return False
        return library is None or library == self.library_state()

    def _current_state(self, name: str) -> str:
        state = self._states.get(name)
        if state is None:
            try:
                state = _state(Path(name).read_bytes(), None)
            except OSError as exc:
                state = _state(None, exc)
            self._states[name] = state
        return state

    def _current_target(self, spec: str, importer: str | None) -> str | None:
        from .loader import resolve_import

        found = self._resolved.get((spec, importer), False)
        if found is False:
            target = resolve_import(spec, None if importer is None else Path(importer))
            found = self._resolved[spec, importer] = None if target is None else str(target)
        return found

    def library_state(self) -> str:
        """A digest of the bundled libraries as hints read them: every file of library.library_files() with its
        state (_state), in order."""
        if self._library is None:
            from .library import library_files

            digest = hashlib.sha256()
            for path in library_files():
                digest.update(f"{path}\0{self._current_state(str(path))}\0".encode("utf-8", "surrogateescape"))
            self._library = digest.hexdigest()
        return self._library

    # -- storing -------------------------------------------------------------------------------------------------
    def store(self, recorder: Recorder, checked: Checked) -> None:
        """Write the entry of a program just checked: what its loading read (`recorder`) and its result. Written
        only where the entry reads back equal to `checked`; atomically (a temporary file, then os.replace). Never
        raises (but KeyboardInterrupt and the like); a folder that cannot be written stores nothing."""
        try:
            self._store(recorder, checked)
        except (OSError, ValueError, UnicodeError):
            pass                           # a full or read-only disk, a path JSON cannot hold: nothing stored
        except Exception:                  # noqa: BLE001 - a cache that cannot be written is no cache, not an error
            if os.environ.get("PERFDSL_DEBUG"):
                raise

    def _store(self, recorder: Recorder, checked: Checked) -> None:
        if recorder.root is None:
            return
        key, name = self._key(recorder.root, recorder.files[recorder.root])
        variant = {"files": list(recorder.files.items()), "imports": recorder.imports,
                   "library": self.library_state() if checked.diagnostics else None,
                   "diagnostics": [_dump(d) for d in checked.diagnostics],
                   "modules": [list(module) for module in checked.modules]}
        text = json.dumps(variant, separators=(",", ":"))
        if len(text) > MAX_ENTRY_BYTES:
            return
        back = json.loads(text)
        if _diagnostics(back["diagnostics"]) != checked.diagnostics or _modules(back["modules"]) != checked.modules:
            return                         # a field JSON does not carry as it is: do not replay it
        path = trusted_entry(name)
        if path is None:
            return
        variants = [variant] + self._other_variants(path, key, variant)[:VARIANTS - 1]
        while len(variants) > 1:
            entry = json.dumps({"key": key, "variants": variants}, separators=(",", ":"))
            if len(entry) <= MAX_ENTRY_BYTES:
                break
            variants.pop()
        else:                              # the new variant alone: its text is made already (json.dumps's bytes)
            entry = '{"key":' + json.dumps(key, separators=(",", ":")) + ',"variants":[' + text + "]}"
        self._write(path, entry)

    def _other_variants(self, path: Path, key: dict, variant: dict) -> list[dict]:
        """The variants of the entry at `path` that read something else than `variant` does ([] where there is no
        entry, or one of another key or format: it is replaced whole)."""
        try:
            found = _read(path)
            if found is None or not isinstance(found[0], dict) or found[0].get("key") != key:
                return []
            reads = (variant["files"], variant["imports"], variant["library"])
            return [other for other in found[0]["variants"] if _well_formed(other)
                    and (other["files"], other["imports"], other["library"]) != reads]
        except (OSError, ValueError, KeyError, TypeError, AttributeError, UnicodeError):
            return []

    def _write(self, path: Path, text: str, count: bool = True) -> None:
        """Put `text` at `path` atomically (user_cache.write_atomically); raises OSError."""
        write_atomically(path, text.encode("utf-8"), PREFIX)
        if count:
            self.stored += 1

    # -- pruning -------------------------------------------------------------------------------------------------
    def prune(self, now: float | None = None, stored: int = 0) -> None:
        """At most once per PRUNE_EVERY_S (the stamp file's mtime), and after a run that `stored` PRUNE_AFTER entries
        or more: remove this cache's entries unused for UNUSED_DAYS, the oldest beyond MAX_ENTRIES, and temporary
        files left by a run that was killed. Only the `check-` prefix is touched. Never raises."""
        if stored >= PRUNE_AFTER or prune_due(self.folder, STAMP, PRUNE_EVERY_S, now):
            prune_entries(self.folder, PREFIX, ".json", MAX_ENTRIES, UNUSED_DAYS, now)


def _read(path: Path) -> tuple[object, float] | None:
    """The JSON value of the entry at `path` and its mtime, or None where it is missing, a link or too large; raises
    OSError, ValueError (not JSON) or UnicodeError."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as stream:
        mtime = os.fstat(stream.fileno()).st_mtime
        data = stream.read(MAX_ENTRY_BYTES + 1)
    if len(data) > MAX_ENTRY_BYTES:
        return None
    return json.loads(data), mtime


def _well_formed(variant) -> bool:
    """Whether a variant read from an entry has this format's fields (a damaged one is dropped when the entry is
    written again, not kept to fail each replay that reaches it)."""
    try:
        _diagnostics(variant["diagnostics"])
        _modules(variant["modules"])
        return (isinstance(variant["files"], list) and isinstance(variant["imports"], list)
                and isinstance(variant["library"], (str, type(None))))
    except (ValueError, KeyError, TypeError, AttributeError):
        return False


# -- diagnostics as JSON -------------------------------------------------------------------------------------------
_LOCATION = {"file": str, "line": int, "col": int, "end_col": int, "detail": str, "runs_on": bool}
_TALLY = {"key": list, "count": int, "total": int, "verb": str, "before": str, "after": str, "in_note": bool}
_DIAGNOSTIC = {"code": str, "message": str, "source_line": (str, type(None)), "path": (str, type(None)),
               "hints": list, "notes": list, "severity": str}


def _dump(diag: Diagnostic) -> dict:
    """A Diagnostic as JSON values (its Location and Tally as objects, the tally's key as a list)."""
    return asdict(diag)


def _fields(value, types: dict) -> dict:
    """`value`'s fields checked against `types` (exact types: a bool is not an int here); raises ValueError."""
    if not isinstance(value, dict) or set(value) != set(types):
        raise ValueError("not the fields of this format")
    for name, kind in types.items():
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if type(value[name]) not in kinds:
            raise ValueError(f"field {name} is not a {kind}")
    return value


def _diagnostics(items) -> list[Diagnostic]:
    """Diagnostics back from their JSON values (_dump); raises ValueError on anything not of this format."""
    if not isinstance(items, list):
        raise ValueError("not a list of diagnostics")
    found = []
    for item in items:
        if not isinstance(item, dict):
            raise ValueError("not a diagnostic")
        location, tally = item.get("location"), item.get("tally")
        values = _fields({k: v for k, v in item.items() if k not in ("location", "tally")}, _DIAGNOSTIC)
        if "location" not in item or "tally" not in item:
            raise ValueError("not a diagnostic")
        if not all(type(text) is str for text in values["hints"] + values["notes"]):
            raise ValueError("hints and notes are text")
        if location is not None:
            location = Location(**_fields(location, _LOCATION))
        if tally is not None:
            tally = _fields(tally, _TALLY)
            tally = Tally(**{**tally, "key": tuple(tally["key"])})
        found.append(Diagnostic(**values, location=location, tally=tally))
    return found


def _modules(items) -> list[tuple[str, int, int]]:
    """The (file, blocks, reports) triples back from JSON; raises ValueError on anything else."""
    if not isinstance(items, list):
        raise ValueError("not a list of modules")
    found = []
    for item in items:
        if not (isinstance(item, list) and len(item) == 3 and type(item[0]) is str and type(item[1]) is int
                and type(item[2]) is int):
            raise ValueError("not a module")
        found.append((item[0], item[1], item[2]))
    return found
