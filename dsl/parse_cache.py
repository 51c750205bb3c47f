"""The on-disk cache of parsed files (stage 1): a file whose text was parsed before loads its Module from a pickle.

Every command that loads .perf files (eval, check, explain, plot, ...) parses them; a file unchanged since its last
parse is loaded instead, from `parse-<hex>.pickle` in the private cache folder (`user_cache`; PERFDSL_NO_CACHE turns
it off). Measured on the 2-core machine (benchmarks/bench_language.py, the 55 files of the bundled libraries and
reports): parsed about 0.17 s CPU, loaded about 0.05 s (0.06 s in a fresh process).

- The key is a digest of the file's text (not its name), perfdsl's own code (`user_cache.code_fingerprint`: an
  editable install changes it under one version, and several checkouts share one folder), and the installed
  distributions of lark (what parsed) and pydantic (what the pickle holds) (`user_cache.library_versions`, the
  check cache's rule too). An entry holds the Module and is used only where its text is the file's.
- The name a file is parsed under is in its Module (the Module's, each block's and each span's `file`: the path as
  messages show it, relative to the working folder), but not in the key: one file reached by two names (from two
  working folders, a relative and an absolute path) or two files of one text share an entry, and a Module loaded
  under another name than the one it was stored under is given the name it is asked for (`_Relocating`), so it
  equals the parse under that name.
- Only a file that parses cleanly is stored: a file with errors is parsed, and reports them, every time.
- Any doubt about an entry (unreadable, truncated, not a pickle, an unknown class, another file's Module) and it is
  ignored, the file parsed, and the entry written anew: written to a temporary file in the same folder and moved
  into place (os.replace), so no reader sees half an entry. A read-only or full disk costs the cache, never the run.
- Entries not used for `KEEP_DAYS` days, and the least recently used beyond `MAX_ENTRIES`, are removed (`prune`) at
  most once an hour, and after every `PRUNE_EVERY` entries one process writes (a fuzzer's thousands of texts); an
  entry's modification time says when it was last used (refreshed on a use a day or more after the last).
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import sys
import time
from functools import lru_cache

from . import ir
from .user_cache import (cache_folder, code_fingerprint, library_versions, prune_due, prune_entries, trusted_entry,
                         write_atomically)

PREFIX = "parse-"
SUFFIX = ".pickle"
FORMAT = b"perfdsl-parse-2"       # written before each entry's pickle; a different first line is not ours
DISTRIBUTIONS = ("lark", "pydantic")
MAX_ENTRIES = 2000                # about 30 KB each for the bundled files: some 60 MB at most
KEEP_DAYS = 30
PRUNE_EVERY = 500                 # entries written by one process between two prunes
_DAY = 24 * 3600
_HOUR = 3600
_written = 0                      # entries this process wrote since it last pruned
_PRUNED_STAMP = PREFIX + "pruned"  # its modification time: when the entries were last pruned


@lru_cache(maxsize=1)
def _fingerprint() -> bytes:
    """perfdsl's code, Python's version, and the installed lark and pydantic, once per process; neither is imported
    (a run whose files are all cached imports no lark, about 40 ms)."""
    digest = hashlib.blake2b(code_fingerprint().encode(), digest_size=32)
    digest.update(f"\0{sys.version}\0{library_versions(DISTRIBUTIONS)}".encode("utf-8", "surrogateescape"))
    return digest.digest()


def entry_name(text: str) -> str:
    """The cache file name of the parse of `text` (under any name): parse-<64 hex digits>.pickle."""
    digest = hashlib.blake2b(_fingerprint(), digest_size=32)
    digest.update(text.encode("utf-8", "surrogatepass"))
    return PREFIX + digest.hexdigest() + SUFFIX


class _Relocating(pickle.Unpickler):
    """Loads a stored Module's spans under the name `file` (the spans are pickled as ir._span_from_pickle calls:
    each is rebuilt with `file` in place of the name it was stored under). Any other class loads as it is."""

    def __init__(self, handle, file: str):
        super().__init__(handle)
        self._file = file

    def find_class(self, module: str, name: str):
        if module == ir.__name__ and name == "_span_from_pickle":
            file, make = self._file, ir._span_from_pickle

            def span(stored: str, line: int, col: int, end_line: int, end_col: int) -> ir.Span:
                return make(file, line, col, end_line, end_col)
            return span
        return super().find_class(module, name)


def _renamed(module: ir.Module, file: str) -> ir.Module:
    """`module` under the name `file`: the Module's and each block's `file` (the spans have it already)."""
    blocks = tuple(block.model_copy(update={"file": file}) for block in module.blocks)
    return module.model_copy(update={"file": file, "blocks": blocks})


def load(text: str, file: str) -> ir.Module | None:
    """The Module of `text` parsed under the name `file`, from the cache, or None (caching off, no entry, or an entry
    in doubt). Never raises."""
    folder = cache_folder()
    if folder is None:                    # caching off: not even the key is computed
        return None
    path = trusted_entry(entry_name(text), folder)
    if path is None:
        return None
    # The collector is paused while an entry loads: it holds hundreds of new objects and no cycle, and in a fresh
    # process (the imports' objects not yet old) the collections they set off cost a third of loading the libraries.
    collecting = gc.isenabled()
    gc.disable()
    try:
        with open(path, "rb") as handle:
            if handle.readline() != FORMAT + b"\n":
                return None
            module = _Relocating(handle, file).load()
            used = os.fstat(handle.fileno()).st_mtime
        if type(module) is not ir.Module or module.source != text:
            return None
        if module.file != file:
            module = _renamed(module, file)
    except Exception:                     # noqa: BLE001 - any failure to read an entry means: parse the file
        return None
    finally:
        if collecting:
            gc.enable()
    if time.time() - used > _DAY:
        try:
            os.utime(path)                # used today: kept by prune
        except OSError:
            pass
    return module


def store(text: str, file: str, module: ir.Module) -> None:
    """Keep `module`, the parse of `text` under the name `file`, for the next run. Never raises: a cache folder that
    cannot be written (read-only, full, caching off) keeps nothing. What stood under the entry's name is replaced
    whatever it was (a link, another owner's file): it is never read, and the folder is ours alone."""
    folder = cache_folder()
    if folder is None:
        return
    path = folder / entry_name(text)
    try:
        blob = pickle.dumps(module, protocol=5)
    except Exception:                     # noqa: BLE001 - a Module that cannot be pickled is simply not kept
        return
    try:
        write_atomically(path, FORMAT + b"\n" + blob, PREFIX)
    except OSError:
        return
    global _written
    _written += 1
    if _written >= PRUNE_EVERY:
        _written = 0
        prune()
    elif prune_due(folder, _PRUNED_STAMP, _HOUR):      # at most once an hour: the stamp's mtime says when
        prune()


def prune(max_entries: int = MAX_ENTRIES, keep_days: float = KEEP_DAYS) -> int:
    """Remove the parse entries not used for `keep_days` days and, beyond `max_entries`, the least recently used
    (and temporary files of writers that died). Only this cache's own files (PREFIX) are touched. Returns how many
    files were removed; never raises."""
    folder = cache_folder()
    return 0 if folder is None else prune_entries(folder, PREFIX, SUFFIX, max_entries, keep_days)
