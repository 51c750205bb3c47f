"""The per-user cache folder: where perfdsl keeps what it can rebuild but need not (Lark's analysis of the grammar).

Lark's grammar cache and the parse cache (parse_cache.py) are loaded with pickle, and a pickle is code (the check
cache, check_cache.py, is JSON):
the folder is $XDG_CACHE_HOME/perfdsl (default ~/.cache/perfdsl; a relative XDG_CACHE_HOME is ignored, as the XDG
Base Directory spec says), created readable by its owner only, and used only when it is owned by this user and nobody
else can write it (a 0755 folder made by `mkdir -p` is fine), never the shared temporary folder, where another local
user could plant a file for us to load. An entry in it that others could write, or that is not this user's regular
file, is never read: it is removed (the folder is ours, so nobody can put it back) and written afresh.
PERFDSL_NO_CACHE turns every cache off: nothing is read or written; 0, false, no, off (any case) and the empty value
count as not set. `cache_status()` says where the folder is and, where it is not used, why (`perfdsl cache info`).

Every cache keys its entries by `code_fingerprint()` (besides what it caches): perfdsl's own code, read, not its
version, since an editable install changes the code under one version and several checkouts share one folder.
Each prunes its own entries (`prune_due`, `prune_entries`): names that start with its prefix, nothing else.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import sys
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


_OFF_VALUES = ("", "0", "false", "no", "off")


@dataclass(frozen=True)
class CacheStatus:
    """Where the cache folder is and whether it is used. `folder`: $XDG_CACHE_HOME/perfdsl or ~/.cache/perfdsl (None
    where no home folder is known); `used`: entries are read (and written, unless `read_only`); `reason`: why not,
    in words, None where it is used; `fix`: what to do about it, None where nothing is to be done; `refused`: the
    folder is there but not to be trusted (a file, a link, another user's, writable by others), a setup to mend."""

    folder: Path | None
    used: bool
    reason: str | None = None
    fix: str | None = None
    read_only: bool = False
    refused: bool = False


def caching_disabled() -> bool:
    """Whether PERFDSL_NO_CACHE turns the caches off: any value but 0, false, no, off (any case) or empty."""
    return os.environ.get("PERFDSL_NO_CACHE", "").strip().lower() not in _OFF_VALUES


def folder_path() -> Path | None:
    """$XDG_CACHE_HOME/perfdsl, or ~/.cache/perfdsl where XDG_CACHE_HOME is unset, empty or relative (the XDG Base
    Directory spec: a relative path is invalid and ignored). None where the home folder is not known."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        home = os.path.expanduser("~")
        if not os.path.isabs(home):
            return None
        base = os.path.join(home, ".cache")
    return Path(base, "perfdsl")


def cache_status(create: bool = True) -> CacheStatus:
    """The cache folder and whether it may be used (see the module's docstring); with `create`, a missing folder is
    made (mode 0700). Never raises."""
    folder = folder_path()
    if caching_disabled():
        return CacheStatus(folder, False, f"PERFDSL_NO_CACHE={os.environ['PERFDSL_NO_CACHE']} turns every cache off",
                           "unset PERFDSL_NO_CACHE (or set it to 0)")
    if not hasattr(os, "getuid"):
        return CacheStatus(folder, False, "this platform has no user ids to tell a private folder by")
    if folder is None:
        return CacheStatus(None, False, "no home folder is known", "set HOME or XDG_CACHE_HOME to an absolute path")
    try:
        if create:
            try:
                os.makedirs(folder, mode=0o700, exist_ok=True)
            except FileExistsError:
                pass                      # something that is not a folder: lstat tells what
        info = os.lstat(folder)
    except FileNotFoundError:
        return CacheStatus(folder, False, "the folder does not exist yet (a check makes it)")
    except OSError as exc:
        return CacheStatus(folder, False, f"the folder cannot be made: {exc.strerror or exc}",
                           "make it writable, or point XDG_CACHE_HOME to a folder of your own")
    if _private_folder(info):
        return CacheStatus(folder, True, read_only=not os.access(folder, os.W_OK))
    if not stat.S_ISDIR(info.st_mode):
        return CacheStatus(folder, False, "it is not a folder" + (" (a link)" if stat.S_ISLNK(info.st_mode) else ""),
                           f"remove it: rm {folder}", refused=True)
    if info.st_uid != os.getuid():
        return CacheStatus(folder, False, f"it is owned by another user (uid {info.st_uid})",
                           "point XDG_CACHE_HOME to a folder of your own", refused=True)
    return CacheStatus(folder, False, f"other users can write it (mode {stat.S_IMODE(info.st_mode):o})",
                       f"chmod go-w {folder}", refused=True)


def _private_folder(info: os.stat_result) -> bool:
    """Whether the lstat of the cache folder is of a folder (not a link) of this user that nobody else can write."""
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o022


def cache_folder() -> Path | None:
    """The private cache folder, created (mode 0700) if missing, or None where caching is off or the folder cannot
    be made or trusted (cache_status says why). Never raises. The caches ask at every entry they read or write
    (hundreds of times in a `perfdsl check`), and the folder is there but for the first time: one lstat answers."""
    if caching_disabled() or not hasattr(os, "getuid"):
        return None
    folder = folder_path()
    if folder is None:
        return None
    try:
        info = os.lstat(folder)
    except OSError:
        status = cache_status()           # missing (made here) or not to be looked at: cache_status tells which
        return status.folder if status.used else None
    return folder if _private_folder(info) else None


def trusted_entry(name: str, folder: Path | None = None) -> Path | None:
    """The path of the file `name` in the cache folder, to read and write: it does not exist, or it is a regular
    file of this user that nobody else can write. An entry that is not to be trusted (a link, another owner's file,
    one others can write) is removed first, so that it is built and written afresh: the folder is ours and nobody
    else can write it, so nothing can take its place meanwhile. None when caching is off or such an entry cannot be
    removed (a folder of that name). `folder`: the cache folder as cache_folder() has just given it (not asked for
    again), or None to ask. Never raises."""
    folder = cache_folder() if folder is None else folder
    if folder is None:
        return None
    path = folder / name
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return path
    except OSError:
        return None
    if stat.S_ISREG(found.st_mode) and found.st_uid == os.getuid() and not found.st_mode & 0o022:
        return path
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError:
        return None
    return path


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hex digest of perfdsl's own code and of the Python that runs it: the contents of the package's *.py files
    and grammar.lark, in name order, with sys.version and the implementation's cache tag. Computed once per process
    (about 60 files, 0.7 MB: a few ms). A file that cannot be read counts as its error, so the digest still changes
    with it. Never raises."""
    digest = hashlib.sha256(f"{sys.version}\0{sys.implementation.cache_tag}\0".encode())
    package = Path(__file__).resolve().parent
    try:
        names = sorted(name for name in os.listdir(package) if name.endswith(".py") or name == "grammar.lark")
    except OSError as exc:
        names = []
        digest.update(f"unlisted {exc.errno}".encode())
    for name in names:
        try:
            data = (package / name).read_bytes()
        except OSError as exc:
            data = f"unreadable {exc.errno}".encode()
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


@lru_cache(maxsize=8)
def library_versions(names: tuple[str, ...]) -> dict[str, list[str] | None]:
    """The installed distributions of the packages `names` as their metadata folders name them
    ("lark-1.3.1.dist-info"), each followed by where the package is found (its __init__.py), None where one is not
    installed: what a cache's key holds of the libraries whose objects or behaviour its entries keep. Neither the
    packages nor importlib.metadata are imported (a run whose entries are all cached imports neither, and
    importlib.metadata alone costs ~15 ms): the folder that holds each package is listed, once per folder, once per
    process. Never raises (a folder that cannot be listed counts as holding no metadata)."""
    from importlib.util import find_spec

    found: dict[str, list[str] | None] = {}
    for name in names:
        try:
            spec = find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.origin:
            found[name] = None
            continue
        site = os.path.dirname(os.path.dirname(spec.origin))         # site-packages/NAME/__init__.py
        found[name] = sorted(entry for entry in _listing(site)
                             if entry.startswith(name + "-") and entry.endswith((".dist-info", ".egg-info")))
        found[name].append(spec.origin)
    return found


@lru_cache(maxsize=8)
def _listing(folder: str) -> tuple[str, ...]:
    """The names in `folder` (a site-packages), once per process; () where it cannot be listed."""
    try:
        return tuple(os.listdir(folder))
    except OSError:
        return ()


def prune_due(folder: Path, stamp: str, every_s: float, now: float | None = None) -> bool:
    """True at most once per `every_s` seconds for the stamp file `stamp` in `folder`: where it is missing or older,
    it is touched and True returned. False where it cannot be read or touched. Never raises."""
    now = time.time() if now is None else now
    path = folder / stamp
    try:
        if now - path.stat().st_mtime < every_s:
            return False
    except FileNotFoundError:
        pass
    except OSError:
        return False
    try:
        path.touch()
        return True
    except OSError:
        return False


def prune_entries(folder: Path, prefix: str, suffix: str, max_entries: int, unused_days: float,
                  now: float | None = None) -> int:
    """Remove from `folder` the entries `prefix...suffix` unused for `unused_days` days and, beyond `max_entries`,
    the least recently used (an entry's modification time is its last use), and the temporary files `.prefix...tmp`
    of writers killed more than an hour ago. Nothing else is touched. Returns how many files went; never raises."""
    now = time.time() if now is None else now
    entries, removed = [], 0
    try:
        with os.scandir(folder) as found:
            for item in found:
                name = item.name
                try:
                    if name.startswith("." + prefix) and name.endswith(".tmp"):
                        if now - item.stat(follow_symlinks=False).st_mtime > 3600:
                            removed += _remove(item.path)
                    elif name.startswith(prefix) and name.endswith(suffix):
                        entries.append((item.stat(follow_symlinks=False).st_mtime, item.path))
                except OSError:
                    continue
    except OSError:
        return removed
    entries.sort(reverse=True)
    for rank, (used, path) in enumerate(entries):
        if rank >= max_entries or now - used > unused_days * 86400:
            removed += _remove(path)
    return removed


def write_atomically(path: Path, data: bytes, prefix: str) -> None:
    """Put `data` at `path` (in the cache folder) as a reader never sees half of: written to a temporary file
    `.PREFIX*.tmp` beside it (mode 0600; prune_entries clears those a killed writer left), then moved over it.
    Raises OSError where the disk refuses (read-only, full), with nothing left behind."""
    handle, temporary = make_temporary(str(path.parent), prefix)
    try:
        with open(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        _remove(temporary)
        raise


_TEMPORARY_FLAGS = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
                    | getattr(os, "O_BINARY", 0))


def make_temporary(folder: str, prefix: str) -> tuple[int, str]:
    """A new file `.PREFIX<16 hex digits>.tmp` in `folder`, made by this call alone (O_EXCL, no link followed) with
    mode 0600: (open descriptor, path), as tempfile.mkstemp gives them. tempfile is not imported for it: with the
    `random` it imports, that is about 3 ms of every start of perfdsl, a run replayed from the caches included.
    Raises OSError where the folder refuses it."""
    for _ in range(100):
        temporary = os.path.join(folder, f".{prefix}{os.urandom(8).hex()}.tmp")
        try:
            return os.open(temporary, _TEMPORARY_FLAGS, 0o600), temporary
        except FileExistsError:
            continue                      # 64 random bits taken already: another name
    raise FileExistsError(errno.EEXIST, "no temporary file name is free", folder)


def _remove(path: str) -> int:
    try:
        os.unlink(path)
        return 1
    except OSError:
        return 0
