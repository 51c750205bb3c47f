"""The on-disk cache of parsed files (parse_cache.py): what it loads is what a parse gives, and any doubt about an
entry (corrupt, truncated, foreign, another file's, another perfdsl's) means a parse and a fresh entry.

Every test points XDG_CACHE_HOME at its own tmp_path, so it starts cold and shares nothing with the user's cache.
"""

from __future__ import annotations

import errno
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from perfdsl import parse_cache, parser, user_cache
from perfdsl.errors import PerfError
from perfdsl.library import library_files

from test_properties import FAST, formulas, render

REPO = Path(__file__).resolve().parent.parent
CASES = REPO / "tests" / "cases"
SMALL = 'model m {\n    hidden = 4_096\n    bw = 768 GB/s   # per GPU\n    t = (hidden * 2) / bw\n}\n'


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder of this test's own; the in-process memo of parses emptied before and after."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("PERFDSL_NO_CACHE", raising=False)
    parser._parse_module.cache_clear()
    yield tmp_path / "perfdsl"
    parser._parse_module.cache_clear()


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("parse-*.pickle")) if folder.is_dir() else []


def parse_again(text: str, file: str):
    """Parse as a new process would: the in-process memo forgotten, the disk cache kept."""
    parser._parse_module.cache_clear()
    return parser.parse_text(text, file)


def refuse_to_parse(monkeypatch) -> None:
    """Fail the test if Lark parses anything from now on: what follows must come from the cache."""
    def refuse(*args, **kwargs):
        raise AssertionError("parsed where the cache should have answered")
    monkeypatch.setattr(parser, "_build", refuse)


def clean_files() -> list[Path]:
    """Every bundled library file and every golden case that parses cleanly."""
    found = []
    for path in list(library_files()) + sorted(CASES.glob("*.perf")):
        try:
            parser.parse_text(path.read_text(encoding="utf-8"), str(path))
        except PerfError:
            continue
        found.append(path)
    return found


def test_every_library_file_and_golden_case_loads_as_it_parses(cache, monkeypatch):
    monkeypatch.setenv("PERFDSL_NO_CACHE", "1")
    files = clean_files()
    assert len(files) > 100
    parsed = {path: parse_again(path.read_text(encoding="utf-8"), str(path)) for path in files}
    monkeypatch.delenv("PERFDSL_NO_CACHE")
    assert entries(cache) == []
    for path in files:                                      # cold: parsed and stored
        assert parse_again(path.read_text(encoding="utf-8"), str(path)) == parsed[path]
    assert len(entries(cache)) == len(files)
    refuse_to_parse(monkeypatch)                            # warm: nothing is parsed
    for path in files:
        loaded = parse_again(path.read_text(encoding="utf-8"), str(path))
        assert loaded == parsed[path], path
        assert loaded.file == str(path) and all(block.span.file == str(path) for block in loaded.blocks)


@FAST
@given(formula=formulas, name=st.sampled_from(["a.perf", "dir/b.perf", "/abs/c.perf"]))
def test_random_formulas_load_as_they_parse(formula, name, tmp_path_factory):
    text = render(formula)[0]
    source = f"model m {{\n    x = 1\n    y = 2\n    k = 3\n    f = {text}\n}}\n"
    outer = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg"))     # hypothesis: no function fixtures
    try:
        parsed = parse_again(source, name)
        assert parsed.blocks[0].cells[-1].text == text
        assert parse_again(source, name) == parsed
        assert len(entries(Path(os.environ["XDG_CACHE_HOME"]) / "perfdsl")) == 1
    finally:
        if outer is None:
            del os.environ["XDG_CACHE_HOME"]
        else:
            os.environ["XDG_CACHE_HOME"] = outer
        parser._parse_module.cache_clear()


def test_an_entry_serves_its_text_under_any_name(cache, monkeypatch):
    """The key is the text: a second name for it (another file of that text, or the same file reached from another
    working folder) loads the first one's entry, renamed; an edited text is an entry of its own."""
    first = parser.parse_text(SMALL, "a.perf")
    (entry,) = entries(cache)
    assert entry.name == parse_cache.entry_name(SMALL)
    refuse_to_parse(monkeypatch)
    other_name = parse_again(SMALL, "b.perf")
    assert other_name.file == "b.perf" and other_name.blocks[0].file == "b.perf"
    assert {span.file for span in spans(other_name)} == {"b.perf"}
    assert first.file == "a.perf" and {span.file for span in spans(first)} == {"a.perf"}
    assert entries(cache) == [entry]
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache.parent))
    edited = parse_again(SMALL.replace("4_096", "8_192"), "a.perf")
    assert edited.blocks[0].cells[0].expr.value == 8192.0
    assert len(entries(cache)) == 2


def test_a_library_file_stored_under_one_path_loads_under_another_as_it_parses_there(cache, monkeypatch):
    """Every library file, stored under its path relative to the repository (as `perfdsl check` shows it from
    there) and loaded under its absolute path (as from a folder outside it), equals its parse under the absolute
    path, spans and all; and back."""
    files = [path for path in clean_files() if not path.is_relative_to(CASES)]
    assert len(files) == len(library_files())
    relative = {path: str(path.relative_to(REPO)) for path in files}
    monkeypatch.setenv("PERFDSL_NO_CACHE", "1")
    parsed = {(path, name): parse_again(path.read_text(encoding="utf-8"), name)
              for path in files for name in (relative[path], str(path))}
    monkeypatch.delenv("PERFDSL_NO_CACHE")
    for path in files:
        parse_again(path.read_text(encoding="utf-8"), relative[path])             # stored under the relative path
    refuse_to_parse(monkeypatch)
    for path in files:
        for name in (str(path), relative[path]):
            loaded = parse_again(path.read_text(encoding="utf-8"), name)
            assert loaded == parsed[path, name], (path, name)
            assert {span.file for span in spans(loaded)} == {name}
            assert loaded.file == name and {block.file for block in loaded.blocks} <= {name}


def spans(node) -> list:
    """Every Span in an IR node, depth first."""
    from perfdsl import ir

    if isinstance(node, ir.Span):
        return [node]
    if isinstance(node, ir.Node):
        return [span for value in node.__dict__.values() for span in spans(value)]
    if isinstance(node, tuple):
        return [span for item in node for span in spans(item)]
    return []


def test_a_warm_cache_parses_nothing_and_does_not_import_lark(cache):
    path = cache.parent / "m.perf"
    path.write_text(SMALL, encoding="utf-8")
    program = (f"import sys\nfrom perfdsl import parser\nm = parser.parse_text(open({str(path)!r}).read(), 'm.perf')\n"
               "print(m.blocks[0].cells[-1].text, 'lark' in sys.modules)")
    env = dict(os.environ, XDG_CACHE_HOME=str(cache.parent))
    cold = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True)
    warm = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True)
    assert cold.stdout == "(hidden * 2) / bw True\n"
    assert warm.stdout == "(hidden * 2) / bw False\n"


def _stored(cache: Path) -> Path:
    parser.parse_text(SMALL, "m.perf")
    (entry,) = entries(cache)
    return entry


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "other format", "another file's module",
                                    "not a module"])
def test_a_damaged_entry_is_ignored_and_replaced(cache, damage):
    entry = _stored(cache)
    good = entry.read_bytes()
    if damage == "garbage":
        entry.write_bytes(b"\x00\xff not a pickle at all" * 10)
    elif damage == "truncated":
        entry.write_bytes(good[: len(good) // 2])
    elif damage == "empty":
        entry.write_bytes(b"")
    elif damage == "other format":
        entry.write_bytes(b"perfdsl-parse-0\n" + good.split(b"\n", 1)[1])
    elif damage == "another file's module":
        other = parser.parse_text("model other { a = 1 }\n", "m.perf")
        entry.write_bytes(parse_cache.FORMAT + b"\n" + pickle.dumps(other, protocol=5))
    else:
        entry.write_bytes(parse_cache.FORMAT + b"\n" + pickle.dumps({"file": "m.perf"}, protocol=5))
    module = parse_again(SMALL, "m.perf")
    assert module.blocks[0].name == "m" and module.source == SMALL
    assert entry.read_bytes() == good                   # rewritten whole


def test_an_entry_of_another_owner_or_writable_by_others_is_not_read_but_replaced(cache, monkeypatch):
    entry = _stored(cache)
    good = entry.read_bytes()
    planted = parser.parse_text("model planted { a = 1 }\n", "x.perf")
    entry.write_bytes(parse_cache.FORMAT + b"\n" + pickle.dumps(planted.model_copy(
        update={"file": "m.perf", "source": SMALL}), protocol=5))
    entry.chmod(0o666)                                   # writable by others: never read
    assert parse_again(SMALL, "m.perf").blocks[0].name == "m"
    assert entry.read_bytes() == good and entry.stat().st_mode & 0o777 == 0o600
    if os.getuid() == 0:                                 # only root can give a file away
        entry.write_bytes(parse_cache.FORMAT + b"\n" + pickle.dumps(planted.model_copy(
            update={"file": "m.perf", "source": SMALL}), protocol=5))
        os.chown(entry, 12345, -1)
        assert parse_again(SMALL, "m.perf").blocks[0].name == "m"
        assert entry.stat().st_uid == os.getuid() and entry.read_bytes() == good


def test_an_entry_of_another_perfdsl_is_not_used(cache, monkeypatch):
    entry = _stored(cache)
    monkeypatch.setattr(parse_cache, "_fingerprint", lambda: b"another perfdsl's code")
    assert parse_cache.entry_name(SMALL) != entry.name
    calls = []
    build = parser._build
    monkeypatch.setattr(parser, "_build", lambda *args, **kwargs: calls.append(args) or build(*args, **kwargs))
    assert parse_again(SMALL, "m.perf").blocks[0].name == "m"
    assert len(calls) == 1 and len(entries(cache)) == 2


def test_a_file_with_errors_is_not_kept_and_reports_every_time(cache):
    bad = "model m {\n    bw = 768 GQ/s\n}\n"
    for _ in range(2):
        with pytest.raises(PerfError) as caught:
            parse_again(bad, "bad.perf")
        assert "bad.perf:2:14" in str(caught.value)
    assert entries(cache) == []


def test_perfdsl_no_cache_writes_nothing(cache, monkeypatch):
    monkeypatch.setenv("PERFDSL_NO_CACHE", "1")
    parser.parse_text(SMALL, "m.perf")
    assert parse_again(SMALL, "m.perf").blocks[0].name == "m"
    assert not cache.exists()


def test_a_cache_folder_that_cannot_be_written_still_parses(cache, monkeypatch):
    cache.mkdir(mode=0o700)

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")
    monkeypatch.setattr(user_cache, "make_temporary", read_only)
    cache.chmod(0o500)                                   # read-only for a user other than root too
    try:
        for _ in range(2):
            assert parse_again(SMALL, "m.perf").blocks[0].name == "m"
        assert entries(cache) == []
    finally:
        cache.chmod(0o700)


def test_a_full_disk_leaves_no_half_entry(cache, monkeypatch):
    real_open = open

    def full(file, mode="r", *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        if isinstance(file, int) and "w" in mode:
            def refuse(data):
                raise OSError(errno.ENOSPC, "No space left on device")
            handle.write = refuse
        return handle
    monkeypatch.setattr(user_cache, "open", full, raising=False)
    assert parser.parse_text(SMALL, "m.perf").blocks[0].name == "m"
    assert [path.name for path in cache.iterdir() if "parse-" in path.name] == []


def test_prune_keeps_the_most_recently_used_and_only_touches_its_own_files(cache):
    cache.mkdir(mode=0o700)
    now = time.time()
    for age_days in range(6):                            # parse-0 used now ... parse-5 five days ago
        path = cache / f"parse-{age_days}.pickle"
        path.write_bytes(b"x")
        os.utime(path, (now - age_days * 86400, now - age_days * 86400))
    old = cache / "parse-old.pickle"
    old.write_bytes(b"x")
    os.utime(old, (now - 31 * 86400, now - 31 * 86400))
    dead_writer = cache / ".parse-abc.tmp"
    dead_writer.write_bytes(b"x")
    os.utime(dead_writer, (now - 2 * 86400, now - 2 * 86400))
    others = [cache / "check-1.json", cache / "grammar-lark1.3.1-py311.cache"]
    for path in others:
        path.write_bytes(b"x")
        os.utime(path, (now - 400 * 86400, now - 400 * 86400))
    assert parse_cache.prune(max_entries=3) == 5         # parse-3, -4, -5, the 31-day-old one, the dead writer's
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        ["parse-0.pickle", "parse-1.pickle", "parse-2.pickle"] + [p.name for p in others])


def test_pruning_runs_at_most_once_an_hour(cache, monkeypatch):
    pruned = []
    monkeypatch.setattr(parse_cache, "prune", lambda: pruned.append(1) or 0)
    monkeypatch.setattr(parse_cache, "_written", 0)      # entries written by earlier tests of this process
    parser.parse_text(SMALL, "a.perf")
    parser.parse_text(SMALL + "# b\n", "b.perf")       # texts of their own: each is an entry written
    assert pruned == [1]
    stamp = cache / "parse-pruned"
    os.utime(stamp, (time.time() - 2 * 3600,) * 2)
    parser.parse_text(SMALL + "# c\n", "c.perf")
    assert pruned == [1, 1]


def test_a_used_entry_is_marked_used(cache):
    entry = _stored(cache)
    long_ago = time.time() - 10 * 86400
    os.utime(entry, (long_ago, long_ago))
    parse_again(SMALL, "m.perf")
    assert time.time() - entry.stat().st_mtime < 3600
