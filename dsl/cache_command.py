"""`perfdsl cache dir | info | clear`: where perfdsl's cache folder is, whether it is used (and if not, why), what it
holds, and clearing it (as `pip cache dir/info/purge` and `ruff clean` do).

The folder and the rule that decides whether it is used are user_cache's (`cache_status`); this module only reads
the folder's listing and removes perfdsl's own files from it. Each kind of entry is one row of KINDS, named by its
file name's prefix (the cache contract: each cache touches only its own prefix); a kind's stamp files and the
temporary files of writers (".PREFIX*.tmp") are cleared with it. Files of no kind are listed as "other" and never
removed. Nothing here imports more than the standard library.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import Diagnostic, error
from .user_cache import CacheStatus, cache_status, caching_disabled


@dataclass(frozen=True)
class Kind:
    """One kind of cache file: `name` (as `perfdsl cache clear NAME` takes it), the file names of its entries
    (`prefix`*`suffix`), and what it holds."""

    name: str
    prefix: str
    suffix: str
    what: str

    def owns(self, name: str) -> bool:
        """Whether the file `name` is this kind's: an entry, a stamp or a writer's temporary file."""
        return name.startswith(self.prefix) or (name.startswith("." + self.prefix) and name.endswith(".tmp"))

    def is_entry(self, name: str) -> bool:
        return name.startswith(self.prefix) and name.endswith(self.suffix)


KINDS = (
    Kind("check", "check-", ".json", "results of perfdsl check (check_cache.py)"),
    Kind("parse", "parse-", ".pickle", "parsed .perf files (parse_cache.py)"),
    Kind("grammar", "grammar-", ".cache", "Lark's tables for perfdsl's grammar (parser.py)"),
)


@dataclass
class Tally:
    """How many entries (and other files: stamps, temporary files) of one kind, and their size in bytes."""

    entries: int = 0
    others: int = 0
    size: int = 0


def listing(folder: Path) -> tuple[dict[str, Tally], Tally]:
    """The files of the folder by kind (KINDS' names), and those of no kind; links and subfolders count as files of
    their own size (lstat). Raises OSError where the folder cannot be listed."""
    kinds = {kind.name: Tally() for kind in KINDS}
    other = Tally()
    with os.scandir(folder) as found:
        for item in found:
            try:
                size = item.stat(follow_symlinks=False).st_size
            except OSError:
                size = 0
            kind = next((k for k in KINDS if k.owns(item.name)), None)
            tally = other if kind is None else kinds[kind.name]
            if kind is not None and kind.is_entry(item.name):
                tally.entries += 1
            else:
                tally.others += 1
            tally.size += size
    return kinds, other


def size_text(size: int) -> str:
    """A size in bytes as people read it: 950 B, 12.3 kB, 1.6 MB (decimal units, as pip and du --si print)."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def folder_text() -> str:
    """The folder's path, or what is missing to name one."""
    folder = cache_status(create=False).folder
    return str(folder) if folder is not None else "(none: no home folder is known; set XDG_CACHE_HOME)"


def info_text(kinds: list[str] | None = None) -> str:
    """The report of `perfdsl cache info [KIND...]`: the folder, whether it is used (if not: why, and the fix), and
    per kind (those of `kinds`, in KINDS order; every kind and the files of no kind where none is named) the entries
    and bytes it holds. Makes nothing (a probe folder at most, removed at once); never raises."""
    named = set(kinds or ())
    status = _unmakeable(cache_status(create=False))
    lines = [f"folder: {status.folder if status.folder is not None else '(none)'}"]
    if status.used:
        lines.append("used:   yes" + (" (read only: entries are replayed, none are written)" if status.read_only
                                      else ""))
    else:
        lines.append(f"used:   no: {status.reason}")
        if status.fix:
            lines.append(f"fix:    {status.fix}")
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg and not os.path.isabs(xdg):
        lines.append(f"note:   XDG_CACHE_HOME={xdg} is ignored: it is not an absolute path (the XDG Base Directory "
                     "spec)")
    if status.folder is None:
        return "\n".join(lines) + "\n"
    try:
        tallies, other = listing(status.folder)
    except FileNotFoundError:
        return "\n".join(lines + ["holds:  nothing (the folder does not exist)"]) + "\n"
    except OSError as exc:
        return "\n".join(lines + [f"holds:  cannot be listed: {exc.strerror or exc}"]) + "\n"
    # (kind, how many, bytes, what): a kind counts its entries (its stamps and temporaries are said beside them).
    rows = []
    for kind in KINDS:
        if named and kind.name not in named:
            continue
        tally = tallies[kind.name]
        extra = f" (and {tally.others} stamp or temporary file{'s' if tally.others != 1 else ''})" \
            if tally.others else ""
        rows.append((kind.name, tally.entries, tally.size, f"{kind.prefix}*{kind.suffix}: {kind.what}{extra}"))
    if other.others and not named:
        rows.append(("other", other.others, other.size, "files of no kind above, never cleared"))
    lines.append("")
    lines.append(f"{'kind':<8} {'entries':>7} {'size':>9}  what")
    for name, count, size, what in rows:
        lines.append(f"{name:<8} {count:>7} {size_text(size):>9}  {what}")
    lines.append(f"{'total':<8} {sum(r[1] for r in rows):>7} {size_text(sum(r[2] for r in rows)):>9}")
    return "\n".join(lines) + "\n"


def _unmakeable(status: CacheStatus) -> CacheStatus:
    """`status`, where it says the folder does not exist yet, told whether a check could make it: the nearest folder
    above it that exists must take a new folder. Only trying tells (root may write /sys/kernel by its mode, yet the
    kernel refuses a folder there), so a folder of a name of its own is made there and removed at once; the cache
    folder itself is never made. Never raises."""
    folder = status.folder
    if (folder is None or status.used or status.refused or status.fix is not None or caching_disabled()
            or os.path.lexists(folder)):
        return status
    above = folder.parent
    while not os.path.lexists(above) and above != above.parent:
        above = above.parent
    own = "point XDG_CACHE_HOME to a folder of your own"
    if not os.path.isdir(above):
        return replace(status, reason=f"the folder cannot be made: '{above}' is not a folder", fix=own)
    probe = above / f".perfdsl-probe-{os.getpid()}"
    try:
        os.mkdir(probe, 0o700)
    except FileExistsError:
        return status                    # another probe's, of a process with our id: the folder takes new ones
    except OSError as exc:
        fix = f"make {above} writable, or {own}" if exc.errno == errno.EACCES else own   # not EPERM, EROFS
        return replace(status, reason=f"the folder cannot be made: {above} takes no new folder "
                                      f"({exc.strerror or exc})", fix=fix)
    try:
        os.rmdir(probe)
    except OSError:
        pass
    return status


def clear(names: list[str]) -> tuple[int, int, list[Diagnostic]]:
    """Remove the files of the kinds `names` (all kinds where empty) from the cache folder, whether or not it is
    used: (files removed, their bytes, the errors of the files that could not be removed: one per reason, naming the
    file where one failed, else the folder and how many; a read-only folder refuses every file alike, and 192 errors
    saying so would bury the totals line). A link is removed, never what it points to. Never raises."""
    chosen = [kind for kind in KINDS if not names or kind.name in names]
    folder = cache_status(create=False).folder
    removed, size = 0, 0
    failed: dict[tuple[int | None, str], list[Path]] = {}      # (errno, reason) -> the files it refused
    if folder is None:
        return 0, 0, []
    try:
        if not stat.S_ISDIR(os.lstat(folder).st_mode):
            return 0, 0, []
        items = list(os.scandir(folder))
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            return 0, 0, []
        return 0, 0, [_not_removed(folder, exc)]
    for item in sorted(items, key=lambda entry: entry.name):
        if not any(kind.owns(item.name) for kind in chosen):
            continue
        try:
            bytes_ = item.stat(follow_symlinks=False).st_size
            os.unlink(item.path)
        except FileNotFoundError:
            continue                         # another run removed it meanwhile
        except OSError as exc:
            failed.setdefault((exc.errno, exc.strerror or str(exc)), []).append(Path(item.path))
            continue
        removed += 1
        size += bytes_
    return removed, size, [_not_removed_files(folder, files, number, reason)
                           for (number, reason), files in failed.items()]


def _hint(number: int | None) -> str:
    if number == errno.EROFS:
        return ("the folder is on a file system mounted read-only: remount it read-write to clear it, or point "
                "XDG_CACHE_HOME at another folder")
    return "check the folder's owner and permissions (`perfdsl cache info`)"


def _not_removed(path: Path, exc: OSError) -> Diagnostic:
    return error("cache-clear", f"cannot remove '{path}': {exc.strerror or exc}", hints=[_hint(exc.errno)])


def _not_removed_files(folder: Path, files: list[Path], number: int | None, reason: str) -> Diagnostic:
    """One error for the files of `folder` that failed for one reason: the file itself where it is one."""
    if len(files) == 1:
        return error("cache-clear", f"cannot remove '{files[0]}': {reason}", hints=[_hint(number)])
    return error("cache-clear", f"cannot remove {len(files)} files from '{folder}': {reason}", hints=[_hint(number)])
