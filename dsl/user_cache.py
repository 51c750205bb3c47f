"""The per-user cache folder: where perfdsl keeps what it can rebuild but need not (Lark's analysis of the grammar).

Lark's grammar cache here is loaded with pickle, and a pickle is code (the check cache, check_cache.py, is JSON):
the folder is $XDG_CACHE_HOME/perfdsl (default ~/.cache/perfdsl), created readable by its owner only, and used only
when it is owned by this user and nobody else can write it, never the shared temporary folder, where another local
user could plant a file for us to load.
PERFDSL_NO_CACHE (any non-empty value) turns every cache off: nothing is read or written.

Every cache keys its entries by `code_fingerprint()` (besides what it caches): perfdsl's own code, read, not its
version, since an editable install changes the code under one version and several checkouts share one folder.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from functools import lru_cache
from pathlib import Path


def cache_folder() -> Path | None:
    """The private cache folder, created (mode 0700) if missing, or None when caching is off (PERFDSL_NO_CACHE, a
    platform without user ids) or the folder cannot be trusted (not a folder, another owner, writable by others) or
    made (read-only home). Never raises."""
    if os.environ.get("PERFDSL_NO_CACHE") or not hasattr(os, "getuid"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "perfdsl")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        info = os.lstat(folder)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None
    return Path(folder)


def trusted_entry(name: str) -> Path | None:
    """The path of the file `name` in the cache folder when it may be read and written: it does not exist yet, or it
    is a regular file of this user that nobody else can write. None when caching is off or the file is not to be
    trusted (a link, another owner, group- or world-writable). Never raises."""
    folder = cache_folder()
    if folder is None:
        return None
    path = folder / name
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return path
    except OSError:
        return None
    if not stat.S_ISREG(found.st_mode) or found.st_uid != os.getuid() or found.st_mode & 0o022:
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
