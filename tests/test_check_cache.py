"""The check-result cache of `perfdsl check` (dsl/check_cache.py).

The property: a run that replays files from the cache prints byte for byte the same stdout and stderr, and exits with
the same status, as the run that checked them (the elapsed time of the `ok:` line aside), for every library file,
golden case and benchmark spec. Then invalidation: an edit anywhere along an import chain, a new file that shadows an
import, an entry that is corrupt or not ours, PERFDSL_NO_CACHE and --no-cache, a folder that cannot be written.
Every test sets XDG_CACHE_HOME to a folder of its own, so the user's cache is neither read nor written.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest

from perfdsl import check_cache, cli, user_cache

REPO = Path(__file__).resolve().parent.parent
LIBRARY = sorted(str(p.relative_to(REPO)) for folder in ("models", "hardware", "software", "costmodels", "reports")
                 for p in (REPO / folder).glob("*.perf"))
CASES = sorted(str(p.relative_to(REPO)) for p in (REPO / "tests" / "cases").glob("*.perf"))
FUZZ_CASES = sorted(str(p.relative_to(REPO)) for p in (REPO / "tests" / "cases" / "fuzz").glob("*.perf"))
SPECS = sorted(str(p.relative_to(REPO)) for p in (REPO / "benchmarks" / "specs").glob("*.perf"))
EVERY_FILE = LIBRARY + CASES + FUZZ_CASES + SPECS
ELAPSED = re.compile(r"\(\d+\.\d\d s\)\n\Z")


@pytest.fixture
def cache(private_cache) -> Path:
    """A cache folder of the test's own, empty: the first run is cold (conftest.private_cache)."""
    return private_cache


@pytest.fixture
def check(capsys):
    """check(*argv) -> (exit status, stdout, stderr) of `perfdsl check ARGV` run in this process, the elapsed time of
    the `ok:` line written as (T s)."""

    def invoke(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        status = cli.main(["check", *argv])
        out, err = capsys.readouterr()
        assert "Traceback" not in err and "error[internal]" not in err, err
        return status, out, ELAPSED.sub("(T s)\n", err)

    return invoke


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("check-*.json"))


def stored_entry(folder: Path, root: Path) -> Path:
    """The entry whose root file is `root` (resolved)."""
    found = [p for p in entries(folder) if json.loads(p.read_text())["key"]["root"] == str(root.resolve())]
    assert len(found) == 1, found
    return found[0]


# -- the same output, cold and warm --------------------------------------------------------------------------------

def test_every_file_replayed_prints_what_checking_it_printed(cache, check, monkeypatch):
    """Each library file, golden case (tests/cases and its fuzz/ inputs) and benchmark spec, checked on its own: the
    cold run stores an entry and the warm run replays it (nothing is parsed: the loader is not called) with the same
    stdout, stderr and exit status; both equal a run without the cache."""
    monkeypatch.chdir(REPO)
    cold = {file: check(file) for file in EVERY_FILE}
    assert len(entries(cache)) == len(EVERY_FILE)
    uncached = {file: check("--no-cache", file) for file in EVERY_FILE}
    monkeypatch.setattr("perfdsl.program.load_modules", _must_not_load)
    warm = {file: check(file) for file in EVERY_FILE}
    assert [file for file in EVERY_FILE if warm[file] != cold[file]] == []
    assert [file for file in EVERY_FILE if uncached[file] != cold[file]] == []
    statuses = {status for status, _, _ in cold.values()}
    assert statuses == {0, 1}, "the files include both accepted and rejected ones"
    assert sum(1 for _, _, err in cold.values() if "warning[" in err) >= 1, "and warnings"


def _must_not_load(*args, **kwargs):
    raise AssertionError("a replayed file was loaded")


def test_all_files_at_once_warm_and_half_warm(cache, check, monkeypatch):
    """Every file on one command line (diagnostics of many files merged, sorted and deduplicated): the same output
    cold, warm, and with only every other file in the cache (checked files and replayed ones mixed in one run)."""
    monkeypatch.chdir(REPO)
    cold = check(*EVERY_FILE)
    assert cold[0] == 1 and "error[" in cold[2]
    assert check(*EVERY_FILE) == cold
    for entry in entries(cache)[::2]:
        entry.unlink()
    assert check(*EVERY_FILE) == cold
    assert check("--no-cache", *EVERY_FILE) == cold


def test_the_library_in_a_fresh_process_cold_then_warm(cache):
    """`perfdsl check` of every library file in a new process (as `make check` runs it): the same bytes on stdout and
    stderr (up to the elapsed time) and status 0, cold and warm; the cold run imports no numpy (a check computes
    nothing with it: sweeps.build_context with arrays=False), the warm run neither lark nor pydantic, and checks
    nothing. (The cold run checks in this process, `-j 1`: with worker processes, the parent imports no parser,
    tests/test_parallel_check.py.)"""
    script = ("import sys\nfrom perfdsl import cli\nstatus = cli.main(sys.argv[1:])\n"
              "print(sorted(m for m in ('lark', 'pydantic', 'numpy', 'perfdsl.checker', 'perfdsl.parser') "
              "if m in sys.modules))\nsys.exit(status)\n")
    env = {**os.environ, "XDG_CACHE_HOME": str(cache.parent)}
    env.pop("PERFDSL_NO_CACHE", None)

    def run(*options):
        done = subprocess.run([sys.executable, "-c", script, "check", *options, *LIBRARY], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=120)
        return done.returncode, done.stdout, ELAPSED.sub("(T s)\n", done.stderr)

    status, out, err = run("-j", "1")
    assert status == 0 and re.fullmatch(rf"ok: {len(LIBRARY)} files, \d+ blocks, \d+ reports \(T s\)\n", err), err
    assert out == "['lark', 'perfdsl.checker', 'perfdsl.parser', 'pydantic']\n"
    assert run() == (0, "[]\n", err)


def test_every_file_at_once_in_a_fresh_process_cold_then_warm(cache):
    """Every library file, golden case, fuzz input and benchmark spec on one command line in a new process: the same
    bytes on stdout and stderr (anything a check prints outside its diagnostics, a Python warning, would show here)
    and exit status 1, cold and warm."""
    env = {**os.environ, "XDG_CACHE_HOME": str(cache.parent)}
    env.pop("PERFDSL_NO_CACHE", None)

    def run():
        done = subprocess.run([sys.executable, "-m", "perfdsl.cli", "check", *EVERY_FILE], cwd=REPO, env=env,
                              capture_output=True, timeout=120)
        return done.returncode, done.stdout, done.stderr

    cold = run()
    assert cold[0] == 1 and cold[1] == b"" and b"error[" in cold[2]
    assert len(entries(cache)) == len(EVERY_FILE)
    assert run() == cold


# -- invalidation ----------------------------------------------------------------------------------------------------

@pytest.fixture
def library_copy(tmp_path, monkeypatch) -> Path:
    """A copy of the bundled libraries in a folder of the test's own, as the working folder: its files import each
    other by relative paths ("../models/llama.perf"), so edits to the copy are what the copy's reports see."""
    root = copy_of_the_libraries(tmp_path)
    monkeypatch.chdir(root)
    return root


def copy_of_the_libraries(tmp_path: Path) -> Path:
    root = tmp_path / "copy"
    for folder in ("models", "hardware", "software", "costmodels", "reports"):
        shutil.copytree(REPO / folder, root / folder, ignore=shutil.ignore_patterns("configs", "*.json"))
    return root


BROKEN_FAMILY_CELL = "\nmodel chain_test_family extends transformer {\n    oops = hidden * 1 s + 1 W\n}\n"


def test_an_edit_down_an_import_chain_is_seen(cache, check, library_copy):
    """report -> cost model -> model family: reports/deployment.perf imports costmodels/transformer_inference.perf,
    which imports models/transformer.perf. An error added to the family file is reported when the report is checked
    again (it is not replayed), as a run without the cache reports it; undoing the edit replays the first entry."""
    report = "reports/deployment.perf"
    assert '"../costmodels/transformer_inference.perf"' in (library_copy / report).read_text()
    assert '"../models/transformer.perf"' in (library_copy / "costmodels/transformer_inference.perf").read_text()
    clean = check(report)
    assert clean[0] == 0 and clean[2].startswith("ok: ")
    family = library_copy / "models" / "transformer.perf"
    original = family.read_bytes()
    family.write_bytes(original + BROKEN_FAMILY_CELL.encode())
    broken = check(report)
    assert broken[0] == 1
    assert "error[unit-mismatch]" in broken[2] and "--> models/transformer.perf:" in broken[2]
    assert broken == check("--no-cache", report)
    assert check(report) == broken                    # now replayed
    family.write_bytes(original)
    with pytest.MonkeyPatch.context() as patched:     # the first text's result is kept beside the edit's: replayed
        patched.setattr("perfdsl.program.load_modules", _must_not_load)
        assert check(report) == clean
        family.write_bytes(original + BROKEN_FAMILY_CELL.encode())
        assert check(report) == broken


def test_an_edit_undone_replays_the_library(cache, check, library_copy, monkeypatch):
    """A -> B -> A: every library file checked, a comment added to models/llama.perf (the programs that import it
    are checked again), then the edit undone: every program is replayed (the first text's results were kept beside
    the edit's), and the edit redone replays too."""
    family = library_copy / "models" / "llama.perf"
    original = family.read_bytes()
    first = check(*LIBRARY)
    family.write_bytes(original + b"# an edit\n")
    edited = check(*LIBRARY)
    assert edited[0] == first[0] == 0
    monkeypatch.setattr("perfdsl.program.load_modules", _must_not_load)
    family.write_bytes(original)
    assert check(*LIBRARY) == first
    family.write_bytes(original + b"# an edit\n")
    assert check(*LIBRARY) == edited


def test_an_edit_of_the_file_itself_undone_replays(cache, check, library_copy, monkeypatch):
    """Entries are named by the root file's content too: the entry of the first text is still there after the
    second text's is written."""
    report = library_copy / "reports" / "example.perf"
    original = report.read_bytes()
    first = check("reports/example.perf")
    report.write_bytes(original + BROKEN_FAMILY_CELL.encode())
    broken = check("reports/example.perf")
    assert first[0] == 0 and broken[0] == 1
    monkeypatch.setattr("perfdsl.program.load_modules", _must_not_load)
    report.write_bytes(original)
    assert check("reports/example.perf") == first
    report.write_bytes(original + BROKEN_FAMILY_CELL.encode())
    assert check("reports/example.perf") == broken


def test_at_most_variants_results_are_kept_per_file_text(cache, check, library_copy, monkeypatch):
    """An imported file in VARIANTS + 1 texts, one after the other: the report's entry keeps the last VARIANTS
    results, most recently used first; the first text's result was dropped and is checked again."""
    family = library_copy / "models" / "transformer.perf"
    original = family.read_bytes()
    texts = [original + f"# edit {i}\n".encode() for i in range(check_cache.VARIANTS + 1)]
    for text in texts:
        family.write_bytes(text)
        check("reports/example.perf")
    entry = stored_entry(cache, library_copy / "reports" / "example.perf")
    assert len(json.loads(entry.read_text())["variants"]) == check_cache.VARIANTS
    with monkeypatch.context() as patched:
        patched.setattr("perfdsl.program.load_modules", _must_not_load)
        for text in texts[1:]:                    # replayed, the oldest first (each use moves it to the front)
            family.write_bytes(text)
            assert check("reports/example.perf")[0] == 0
    from perfdsl import program

    loaded = []
    real = program.load_modules
    monkeypatch.setattr("perfdsl.program.load_modules", lambda *a, **k: loaded.append(1) or real(*a, **k))
    family.write_bytes(texts[0])
    assert check("reports/example.perf")[0] == 0 and loaded == [1]


def test_a_damaged_variant_is_dropped_when_the_entry_is_written_again(cache, check, library_copy):
    """An entry whose older variant is damaged still replays its good one; the next store keeps the good ones only."""
    family = library_copy / "models" / "transformer.perf"
    first = check("reports/example.perf")
    entry = stored_entry(cache, library_copy / "reports" / "example.perf")
    data = json.loads(entry.read_text())
    good = data["variants"][0]
    data["variants"].append({"files": "not a list", "imports": [], "library": None, "diagnostics": [], "modules": []})
    entry.write_text(json.dumps(data))
    assert check("reports/example.perf") == first
    family.write_bytes(family.read_bytes() + b"# an edit\n")
    assert check("reports/example.perf")[0] == 0
    variants = json.loads(entry.read_text())["variants"]
    assert len(variants) == 2 and variants[1] == good


def test_a_touch_that_keeps_the_text_keeps_the_entry(cache, check, library_copy, monkeypatch):
    """Entries are keyed by content, not by time: a file rewritten with the same bytes (a new mtime) is replayed."""
    report = "reports/example.perf"
    first = check(report)
    family = library_copy / "models" / "transformer.perf"
    family.write_bytes(family.read_bytes())
    os.utime(family, (time.time() + 10, time.time() + 10))
    monkeypatch.setattr("perfdsl.program.load_modules", _must_not_load)
    assert check(report) == first


def test_a_new_file_that_shadows_an_import(cache, check, tmp_path, monkeypatch):
    """`import "models/opt.perf"` resolves relative to the importing file, then the working folder, then the bundled
    libraries: the first check finds the bundled file; a file created later beside the importer shadows it, and the
    next check reads the new file (here: its error), not the entry."""
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    monkeypatch.chdir(work)
    (work / "sub" / "r.perf").write_text('import "models/opt.perf"\nmodel mine extends opt_125m {}\n')
    first = check("sub/r.perf")
    assert first[0] == 0
    (work / "sub" / "models").mkdir()
    (work / "sub" / "models" / "opt.perf").write_text("model opt_125m { hidden = 1 s + 1 W }\n")
    shadowed = check("sub/r.perf")
    assert shadowed[0] == 1 and "--> sub/models/opt.perf:1:" in shadowed[2]
    assert shadowed == check("--no-cache", "sub/r.perf")


def test_a_missing_import_that_appears(cache, check, tmp_path, monkeypatch):
    """An import that no file answered (error no-such-import) is looked for again: once the file exists, the check
    reads it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.perf").write_text('import "part.perf"\nmodel m extends part {}\n')
    missing = check("r.perf")
    assert missing[0] == 1 and "error[no-such-import]" in missing[2]
    assert check("r.perf") == missing
    (tmp_path / "part.perf").write_text("model part { x = 1 }\n")
    assert check("r.perf")[0] == 0


def test_the_working_folder_is_part_of_the_key(cache, check, monkeypatch):
    """Paths are printed relative to the working folder: the same file checked from two folders prints each its own
    paths, cold and warm."""
    monkeypatch.chdir(REPO)
    from_repo = check("tests/cases/cycle.perf")
    monkeypatch.chdir(REPO / "tests")
    from_tests = check("cases/cycle.perf")
    assert "--> tests/cases/cycle.perf:" in from_repo[2] and "--> cases/cycle.perf:" in from_tests[2]
    assert check("cases/cycle.perf") == from_tests
    monkeypatch.chdir(REPO)
    assert check("tests/cases/cycle.perf") == from_repo
    assert check(str(REPO / "tests" / "cases" / "cycle.perf")) == from_repo      # the same file, written otherwise


def test_a_change_of_perfdsl_code_misses(cache, check, monkeypatch):
    """Another perfdsl (its code fingerprint differs) does not read this one's entries."""
    monkeypatch.chdir(REPO)
    first = check("tests/cases/cycle.perf")
    with monkeypatch.context() as patched:
        patched.setattr(check_cache, "code_fingerprint", lambda: "another perfdsl")
        assert check("tests/cases/cycle.perf") == first
        assert len(entries(cache)) == 2
    monkeypatch.setattr("perfdsl.program.load_modules", _must_not_load)
    assert check("tests/cases/cycle.perf") == first


# -- entries that are not to be trusted -----------------------------------------------------------------------------

@pytest.fixture
def one_entry(cache, check, monkeypatch) -> tuple[Path, tuple]:
    """The entry of tests/cases/cycle.perf (an error case) after a cold check, with that check's output."""
    monkeypatch.chdir(REPO)
    first = check("tests/cases/cycle.perf")
    return stored_entry(cache, REPO / "tests/cases/cycle.perf"), first


def test_a_stored_entry_is_what_is_replayed(one_entry, check):
    """The replay prints the entry (an entry whose message is changed prints the changed message): the tests of
    corrupt entries below show a fallback to checking, not a cache that is never read."""
    entry, first = one_entry
    data = json.loads(entry.read_text())
    data["variants"][0]["diagnostics"][0]["message"] = "REPLAYED"
    entry.write_text(json.dumps(data))
    assert "error[cycle]: REPLAYED" in check("tests/cases/cycle.perf")[2]


def test_an_entry_is_the_compact_json_of_its_key_and_variants(one_entry, cache, check, tmp_path, monkeypatch):
    """An entry's bytes are json.dumps of {"key", "variants"} with the separators (",", ":"), whether it holds the
    new variant alone (written from that variant's text) or that and older ones."""
    entry, _ = one_entry
    text = entry.read_text(encoding="ascii")
    data = json.loads(text)
    assert list(data) == ["key", "variants"] and len(data["variants"]) == 1
    assert text == json.dumps(data, separators=(",", ":"))
    library_copy = copy_of_the_libraries(tmp_path)
    monkeypatch.chdir(library_copy)
    family = library_copy / "models" / "transformer.perf"
    original = family.read_text(encoding="utf-8")
    for edit in ("", "# one\n"):
        family.write_text(original + edit, encoding="utf-8")
        check("reports/example.perf")
    text = stored_entry(cache, library_copy / "reports" / "example.perf").read_text(encoding="ascii")
    data = json.loads(text)
    assert len(data["variants"]) == 2 and text == json.dumps(data, separators=(",", ":"))


@pytest.mark.parametrize("damage", [
    lambda text: text[: len(text) // 2],                                       # truncated
    lambda text: "",                                                           # empty
    lambda text: "\x00\x01 not json",                                          # garbage
    lambda text: json.dumps([1, 2, 3]),                                        # another shape
    lambda text: text.replace('"line":', '"line":"x", "was":', 1),            # a field of the wrong type
    lambda text: text.replace('"severity":"error"', '"severity":1', 1),
    lambda text: text.replace('"modules":[', '"modules":[["x", "1", 2],', 1),
    lambda text: text.replace('"format":2', '"format":1', 1),                 # another format
    lambda text: text.replace('"variants":[', '"variants":{"x":[', 1) + "}",   # variants not a list
], ids=["truncated", "empty", "garbage", "list", "line-type", "severity-type", "modules-type", "format",
         "variants-type"])
def test_a_corrupt_entry_is_ignored_and_rewritten(one_entry, check, damage):
    entry, first = one_entry
    entry.write_text(damage(entry.read_text()))
    assert check("tests/cases/cycle.perf") == first
    json.loads(entry.read_text())                                              # rewritten whole
    assert check("tests/cases/cycle.perf") == first


def test_an_entry_that_is_not_ours_is_not_read_but_replaced(one_entry, check):
    """A file others can write, a link, or (where the tests run as root) another user's file under an entry's name:
    never read; since nobody else can write the folder, it is replaced by a fresh entry of this user's (mode 0600),
    which the next run replays. A link's target is left alone."""
    entry, first = one_entry
    data = json.loads(entry.read_text())
    data["variants"][0]["diagnostics"][0]["message"] = "PLANTED"
    planted = json.dumps(data)

    def fresh() -> bool:
        found = os.lstat(entry)
        return (stat.S_ISREG(found.st_mode) and stat.S_IMODE(found.st_mode) == 0o600
                and found.st_uid == os.getuid() and "PLANTED" not in entry.read_text())

    entry.write_text(planted)
    entry.chmod(0o666)
    assert check("tests/cases/cycle.perf") == first
    assert fresh()
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr("perfdsl.program.load_modules", _must_not_load)
        assert check("tests/cases/cycle.perf") == first
    if os.geteuid() == 0:
        entry.write_text(planted)
        os.chown(entry, 12345, 12345)
        assert check("tests/cases/cycle.perf") == first
        assert fresh()
    target = entry.with_name("elsewhere.json")
    target.write_text(planted)
    entry.unlink()
    entry.symlink_to(target)
    assert check("tests/cases/cycle.perf") == first
    assert fresh() and target.read_text() == planted


def test_a_folder_others_can_write_is_not_used(one_entry, check):
    """Neither read nor written, and the check says so in one line first (the rest is what checking prints)."""
    entry, first = one_entry
    entry.parent.chmod(0o777)
    try:
        entry.write_text("{}")
        status, out, err = check("tests/cases/cycle.perf")
        assert (status, out) == first[:2]
        assert err == (f"note: the check cache is off: {entry.parent}: other users can write it (mode 777); "
                       f"chmod go-w {entry.parent} (perfdsl cache info)\n" + first[2])
        assert entry.read_text() == "{}"
        assert check("--no-cache", "tests/cases/cycle.perf") == first            # asked for: no note
    finally:
        entry.parent.chmod(0o700)


def test_no_note_where_the_cache_is_off_by_choice_or_cannot_be_made(one_entry, check, monkeypatch, tmp_path):
    entry, first = one_entry
    monkeypatch.setenv("PERFDSL_NO_CACHE", "1")
    assert check("tests/cases/cycle.perf") == first
    monkeypatch.delenv("PERFDSL_NO_CACHE")
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "a-file"))          # perfdsl/ cannot be made in a file
    assert check("tests/cases/cycle.perf") == first


def test_no_cache_neither_reads_nor_writes(cache, check, monkeypatch, one_entry):
    """PERFDSL_NO_CACHE (every cache off) and --no-cache (this one) check every file and leave the folder as it is."""
    entry, first = one_entry
    data = json.loads(entry.read_text())
    data["variants"][0]["diagnostics"][0]["message"] = "REPLAYED"
    entry.write_text(json.dumps(data))
    assert check("--no-cache", "tests/cases/cycle.perf") == first
    assert check("--no-cache", "tests/cases/unknown_name.perf")[0] == 1
    monkeypatch.setenv("PERFDSL_NO_CACHE", "1")
    assert check("tests/cases/cycle.perf") == first
    assert check("tests/cases/unknown_name.perf")[0] == 1
    assert entries(cache) == [entry] and "REPLAYED" in entry.read_text()


def test_help_names_the_option(capsys):
    with pytest.raises(SystemExit):
        cli.main(["check", "--help"])
    assert "--no-cache" in capsys.readouterr().out


# -- a folder that cannot be written ---------------------------------------------------------------------------------

@pytest.mark.parametrize("code", [errno.EROFS, errno.ENOSPC])
def test_a_folder_that_cannot_be_written(cache, check, monkeypatch, code):
    """A read-only or full disk: every file is checked and printed as ever, nothing is stored, no temporary file is
    left behind."""
    monkeypatch.chdir(REPO)
    first = check("--no-cache", "tests/cases/cycle.perf", "reports/example.perf")

    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    if code == errno.EROFS:                  # the temporary file cannot be made
        monkeypatch.setattr(user_cache, "make_temporary", refuse)
    else:                                    # it is written, and the disk is full when it is put in place
        monkeypatch.setattr(user_cache, "os", types.SimpleNamespace(**{**vars(os), "replace": refuse}))
    assert check("tests/cases/cycle.perf", "reports/example.perf") == first
    # nothing of the check cache's (user_cache.write_atomically, which the parse cache shares, refuses both)
    assert [p.name for p in cache.iterdir() if p.name.startswith(("check-", ".check-"))] == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_a_read_only_folder(cache, check, monkeypatch):
    monkeypatch.chdir(REPO)
    first = check("tests/cases/cycle.perf")
    cache.chmod(0o500)
    try:
        assert check("tests/cases/unknown_name.perf") == check("--no-cache", "tests/cases/unknown_name.perf")
        assert check("tests/cases/cycle.perf") == first
    finally:
        cache.chmod(0o700)


def test_a_cache_home_that_is_a_file(tmp_path, check, monkeypatch):
    monkeypatch.chdir(REPO)
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))
    first = check("--no-cache", "tests/cases/cycle.perf")
    assert check("tests/cases/cycle.perf") == first


# -- pruning ---------------------------------------------------------------------------------------------------------

def test_pruning_removes_old_and_surplus_entries_once_a_day(cache, check, monkeypatch):
    """Entries unused for UNUSED_DAYS go, then the oldest beyond MAX_ENTRIES, and temporary files of killed runs; not
    at every run (a stamp file's time), and never another cache's files."""
    monkeypatch.chdir(REPO)
    check("tests/cases/cycle.perf")
    real = stored_entry(cache, REPO / "tests/cases/cycle.perf").name
    now = time.time()
    day = 86400
    for i in range(6):
        (cache / f"check-{i:040x}.json").write_text("{}")
        os.utime(cache / f"check-{i:040x}.json", (now - i * day, now - i * day))
    (cache / f"check-{99:040x}.json").write_text("{}")
    os.utime(cache / f"check-{99:040x}.json", (now - 31 * day, now - 31 * day))
    (cache / ".check-left.tmp").write_text("")
    os.utime(cache / ".check-left.tmp", (now - 7200, now - 7200))
    (cache / "parse-0.pickle").write_text("")
    os.utime(cache / "parse-0.pickle", (now - 99 * day, now - 99 * day))
    monkeypatch.setattr(check_cache, "MAX_ENTRIES", 4)
    folder = check_cache.CheckCache.open({})
    folder.prune(now)                # nothing: the first check's pruning wrote the stamp a moment ago
    assert len(entries(cache)) == 8
    os.utime(cache / check_cache.STAMP, (now - day - 1, now - day - 1))
    folder.prune(now)
    kept = {p.name for p in cache.iterdir()}
    # the parse cache's entries (parse-*) and Lark's grammar cache stay, whatever this process parsed before
    assert {name for name in kept if name.startswith("check-")} == {
        check_cache.STAMP, real, *(f"check-{i:040x}.json" for i in range(3))}
    assert "parse-0.pickle" in kept and {p.name for p in cache.glob("grammar-*")} <= kept



def test_a_run_that_stores_many_entries_prunes_within_the_day(cache, check, monkeypatch):
    """The caps hold at each pruning; a run that stored PRUNE_AFTER entries prunes at once, stamp or not (a newcomer's
    cache held 5,333 check entries under a cap of 5,000, the day's pruning done)."""
    monkeypatch.chdir(REPO)
    check("tests/cases/cycle.perf")                 # the day's pruning: the stamp is fresh
    now = time.time()
    for i in range(6):
        (cache / f"check-{i:040x}.json").write_text("{}")
        os.utime(cache / f"check-{i:040x}.json", (now - (i + 1) * 60, now - (i + 1) * 60))
    monkeypatch.setattr(check_cache, "MAX_ENTRIES", 4)
    folder = check_cache.CheckCache.open({})
    folder.prune(now, stored=check_cache.PRUNE_AFTER - 1)
    assert len(entries(cache)) == 7
    folder.prune(now, stored=check_cache.PRUNE_AFTER)
    assert len(entries(cache)) == 4                 # the newest 4: the check's own entry and the 3 youngest
