"""The per-user cache folder (dsl/user_cache.py) and `perfdsl cache dir | info | clear` (dsl/cache_command.py).

Which folder (XDG_CACHE_HOME, absolute only, else ~/.cache), when it is used (ours, nobody else can write it: a 0755
folder made by `mkdir -p` is), PERFDSL_NO_CACHE's values, entries others could write replaced, and what the cache
command prints. Every test points XDG_CACHE_HOME (or HOME) at a folder of its own.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from perfdsl import cache_command, cli, user_cache

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def xdg(private_cache) -> Path:
    """The perfdsl folder (not made yet) under an XDG_CACHE_HOME of the test's own, caching on
    (conftest.private_cache)."""
    return private_cache


@pytest.fixture
def run(capsys):
    """run(*argv) -> (exit status, stdout, stderr) of `perfdsl ARGV` in this process."""

    def invoke(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            status = cli.main(list(argv))
        except SystemExit as exc:
            status = exc.code
        out, err = capsys.readouterr()
        assert "Traceback" not in err and "error[internal]" not in err, err
        return status, out, err

    return invoke


# -- which folder ---------------------------------------------------------------------------------------------------

def test_a_new_folder_is_made_private(xdg):
    assert user_cache.cache_folder() == xdg
    assert stat.S_IMODE(os.lstat(xdg).st_mode) == 0o700


@pytest.mark.parametrize("mode", [0o700, 0o755, 0o750, 0o711, 0o500, 0o770, 0o775, 0o757, 0o777, 0o1777])
def test_a_folder_is_used_where_nobody_else_can_write_it(xdg, mode):
    """`mkdir -p` under umask 022 makes 0755: others may read and list it, not plant a file in it. A group or world
    write bit refuses it (the mode is left as the user made it, either way)."""
    xdg.mkdir(parents=True)
    xdg.chmod(mode)
    try:
        status = user_cache.cache_status()
        if mode & 0o022:
            assert (status.used, status.reason, status.fix, status.refused) == (
                False, f"other users can write it (mode {mode:o})", f"chmod go-w {xdg}", True)
            assert user_cache.cache_folder() is None and user_cache.trusted_entry("check-x.json") is None
        else:
            assert (status.used, status.reason, status.folder, status.refused) == (True, None, xdg, False)
            assert user_cache.cache_folder() == xdg
        assert stat.S_IMODE(os.lstat(xdg).st_mode) == mode
    finally:
        xdg.chmod(0o700)


def test_a_folder_made_by_mkdir_p_replays_checks(xdg, tmp_path, monkeypatch, run):
    """The newcomer's case: `mkdir -p $XDG_CACHE_HOME/perfdsl` (0755), then two checks: the second replays."""
    old = os.umask(0o022)
    try:
        xdg.mkdir(parents=True)
    finally:
        os.umask(old)
    assert stat.S_IMODE(xdg.stat().st_mode) == 0o755
    monkeypatch.chdir(REPO)
    first = run("check", "tests/cases/cycle.perf")
    assert first[0] == 1 and sorted(p.name for p in xdg.glob("check-*.json")) != []
    monkeypatch.setattr("perfdsl.program.load_modules", _must_not_load)
    assert run("check", "tests/cases/cycle.perf") == first


def _must_not_load(*args, **kwargs):
    raise AssertionError("a replayed file was loaded")


@pytest.mark.parametrize("value", ["relcache", "./relcache", "~/cache", "."])
def test_a_relative_xdg_cache_home_is_ignored(value, tmp_path, monkeypatch, run):
    """The XDG Base Directory spec: a relative path is invalid and ignored; ~/.cache is used instead, and nothing is
    made in the working folder."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", value)
    monkeypatch.delenv("PERFDSL_NO_CACHE", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    (work / "m.perf").write_text("model m { x = 1 }\n")
    assert user_cache.folder_path() == tmp_path / "home" / ".cache" / "perfdsl"
    assert run("check", "m.perf")[0] == 0
    assert sorted(p.name for p in work.iterdir()) == ["m.perf"]
    assert len(list((tmp_path / "home" / ".cache" / "perfdsl").glob("check-*.json"))) == 1


def test_an_empty_xdg_cache_home_means_the_default(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", "")
    assert user_cache.folder_path() == tmp_path / ".cache" / "perfdsl"


@pytest.mark.parametrize("value", ["", "0", "false", "FALSE", "No", "off", " Off "])
def test_values_of_perfdsl_no_cache_that_leave_caching_on(xdg, monkeypatch, value):
    monkeypatch.setenv("PERFDSL_NO_CACHE", value)
    assert not user_cache.caching_disabled()
    assert user_cache.cache_folder() == xdg


@pytest.mark.parametrize("value", ["1", "yes", "true", "on", "anything"])
def test_values_of_perfdsl_no_cache_that_turn_caching_off(xdg, monkeypatch, value):
    monkeypatch.setenv("PERFDSL_NO_CACHE", value)
    status = user_cache.cache_status()
    assert (status.used, status.reason, status.fix) == (
        False, f"PERFDSL_NO_CACHE={value} turns every cache off", "unset PERFDSL_NO_CACHE (or set it to 0)")
    assert user_cache.cache_folder() is None and not xdg.exists()


def test_a_folder_that_is_a_file_or_a_link(xdg, tmp_path):
    xdg.parent.mkdir()
    xdg.write_text("")
    status = user_cache.cache_status()
    assert (status.used, status.reason, status.fix) == (False, "it is not a folder", f"remove it: rm {xdg}")
    assert user_cache.cache_folder() is None and xdg.is_file()
    xdg.unlink()
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    xdg.symlink_to(tmp_path / "elsewhere")
    status = user_cache.cache_status()
    assert (status.used, status.reason) == (False, "it is not a folder (a link)")
    assert user_cache.cache_folder() is None and user_cache.trusted_entry("check-x.json") is None


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a folder to another user")
def test_a_folder_of_another_user(xdg):
    xdg.mkdir(parents=True, mode=0o700)
    os.chown(xdg, 12345, 12345)
    status = user_cache.cache_status()
    assert (status.used, status.reason) == (False, "it is owned by another user (uid 12345)")
    assert user_cache.cache_folder() is None


def test_a_folder_that_cannot_be_made(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))
    monkeypatch.delenv("PERFDSL_NO_CACHE", raising=False)
    status = user_cache.cache_status()
    assert (status.used, status.reason) == (False, "the folder cannot be made: Not a directory")


# -- entries --------------------------------------------------------------------------------------------------------

def test_an_entry_others_could_write_is_removed_to_be_written_afresh(xdg):
    folder = user_cache.cache_folder()
    entry = folder / "check-planted.json"
    entry.write_text("planted")
    entry.chmod(0o666)
    assert user_cache.trusted_entry(entry.name) == entry and not entry.exists()
    entry.write_text("ours")
    entry.chmod(0o644)
    assert user_cache.trusted_entry(entry.name) == entry and entry.read_text() == "ours"
    target = xdg.parent / "target"
    target.write_text("not ours to remove")
    entry.unlink()
    entry.symlink_to(target)
    assert user_cache.trusted_entry(entry.name) == entry and not entry.is_symlink() and target.exists()
    (folder / "check-a-folder.json").mkdir()
    assert user_cache.trusted_entry("check-a-folder.json") is None


# -- perfdsl cache ----------------------------------------------------------------------------------------------------

def _fill(folder: Path) -> None:
    """Two check entries (100 + 200 bytes) and the check stamp (0), one parse entry (1,000) and a parse writer's
    temporary file (50), one grammar entry (2,500), and a file of no kind (7)."""
    folder.mkdir(parents=True, mode=0o700, exist_ok=True)
    for name, size in [("check-a.json", 100), ("check-b.json", 200), ("check-pruned.stamp", 0),
                       ("parse-c.pickle", 1000), (".parse-d.tmp", 50), ("grammar-lark1.3.1-py311.cache", 2500),
                       ("notes.txt", 7)]:
        (folder / name).write_bytes(b"x" * size)


# The rows of `perfdsl cache info` for the files _fill makes, by kind.
INFO_ROWS = {
    "check": "check          2     300 B  check-*.json: results of perfdsl check (check_cache.py) (and 1 stamp or "
             "temporary file)\n",
    "parse": "parse          1    1.1 kB  parse-*.pickle: parsed .perf files (parse_cache.py) (and 1 stamp or "
             "temporary file)\n",
    "grammar": "grammar        1    2.5 kB  grammar-*.cache: Lark's tables for perfdsl's grammar (parser.py)\n",
    "other": "other          1       7 B  files of no kind above, never cleared\n",
}


def info_table(xdg: Path, kinds: list[str], total: str) -> str:
    """The whole `perfdsl cache info` text of the folder `xdg`, used, with the rows of `kinds` and the `total` line."""
    head = f"folder: {xdg}\nused:   yes\n\nkind     entries      size  what\n"
    return head + "".join(INFO_ROWS[kind] for kind in kinds) + total


def test_cache_info(xdg, run):
    _fill(xdg)
    assert run("cache", "info") == (0, info_table(xdg, ["check", "parse", "grammar", "other"],
                                                  "total          5    3.9 kB\n"), "")  # 300 + 1,050 + 2,500 + 7 B


def test_cache_info_of_the_kinds_named(xdg, run):
    """`perfdsl cache info grammar check`: only those kinds (in the table's order), no files of no kind."""
    _fill(xdg)
    assert run("cache", "info", "grammar", "check") == (0, info_table(xdg, ["check", "grammar"],
                                                                      "total          3    2.8 kB\n"), "")
    code, out, err = run("cache", "info", "bogus")
    assert (code, out) == (2, "") and err.endswith(
        "perfdsl cache info: error: argument KIND: no kind 'bogus' (choose from check, parse, grammar)\n")


def test_cache_info_says_why_the_cache_is_not_used(xdg, run, monkeypatch):
    _fill(xdg)
    xdg.chmod(0o777)
    try:
        status, out, _ = run("cache", "info")
    finally:
        xdg.chmod(0o700)
    assert status == 0 and out.startswith(f"folder: {xdg}\nused:   no: other users can write it (mode 777)\n"
                                          f"fix:    chmod go-w {xdg}\n\nkind ")
    monkeypatch.setenv("PERFDSL_NO_CACHE", "1")
    assert run("cache", "info")[1].startswith(
        f"folder: {xdg}\nused:   no: PERFDSL_NO_CACHE=1 turns every cache off\n"
        "fix:    unset PERFDSL_NO_CACHE (or set it to 0)\n")


def test_cache_info_of_a_folder_not_made_yet_makes_nothing(xdg, run, monkeypatch):
    assert run("cache", "info") == (0, f"folder: {xdg}\nused:   no: the folder does not exist yet (a check makes "
                                       "it)\nholds:  nothing (the folder does not exist)\n", "")
    assert not xdg.exists()
    monkeypatch.setenv("XDG_CACHE_HOME", "relcache")
    monkeypatch.setenv("HOME", str(xdg.parent))
    assert run("cache", "info")[1].splitlines()[2] == (
        "note:   XDG_CACHE_HOME=relcache is ignored: it is not an absolute path (the XDG Base Directory spec)")


def test_cache_info_of_a_folder_not_made_yet_leaves_no_probe(xdg, run, tmp_path):
    """Whether the folder can be made is tried with a folder of its own name in the nearest folder that exists
    (tmp_path, as XDG_CACHE_HOME=tmp_path/xdg is not made either), removed at once: nothing is left."""
    before = sorted(p.name for p in tmp_path.iterdir())
    assert run("cache", "info")[1].splitlines()[1] == "used:   no: the folder does not exist yet (a check makes it)"
    assert sorted(p.name for p in tmp_path.iterdir()) == before and not xdg.parent.exists()


@pytest.mark.parametrize("number, reason, fix", [
    (errno.EPERM, "Operation not permitted", "point XDG_CACHE_HOME to a folder of your own"),     # /sys/kernel
    (errno.EROFS, "Read-only file system", "point XDG_CACHE_HOME to a folder of your own"),
    (errno.EACCES, "Permission denied", "make {above} writable, or point XDG_CACHE_HOME to a folder of your own"),
])
def test_cache_info_of_a_folder_no_check_can_make(xdg, run, monkeypatch, tmp_path, number, reason, fix):
    """XDG_CACHE_HOME=/sys/kernel said 'the folder does not exist yet (a check makes it)', which no check can: the
    kernel refuses a folder there (EPERM, even to root); so do a read-only file system and a folder not writable."""
    def refuse(path, *args, **kwargs):
        raise OSError(number, reason)

    monkeypatch.setattr(cache_command.os, "mkdir", refuse)
    assert run("cache", "info") == (0, (
        f"folder: {xdg}\nused:   no: the folder cannot be made: {tmp_path} takes no new folder ({reason})\n"
        f"fix:    {fix.format(above=tmp_path)}\nholds:  nothing (the folder does not exist)\n"), "")


def test_cache_info_of_a_folder_under_a_file_or_a_broken_link(xdg, run, tmp_path):
    (tmp_path / "xdg").write_text("a file where XDG_CACHE_HOME should be a folder")
    assert run("cache", "info")[1].splitlines()[1:3] == [          # user_cache's own answer (lstat: ENOTDIR)
        "used:   no: the folder cannot be made: Not a directory",
        "fix:    make it writable, or point XDG_CACHE_HOME to a folder of your own"]
    (tmp_path / "xdg").unlink()
    (tmp_path / "xdg").symlink_to(tmp_path / "gone")               # lstat of xdg/perfdsl: ENOENT, "not made yet"
    assert run("cache", "info")[1].splitlines()[1:3] == [
        f"used:   no: the folder cannot be made: '{tmp_path / 'xdg'}' is not a folder",
        "fix:    point XDG_CACHE_HOME to a folder of your own"]


@pytest.mark.skipif(not os.path.isdir("/sys/kernel") or os.path.exists("/sys/kernel/perfdsl"),
                    reason="needs Linux's /sys/kernel (sysfs), which takes no new folder")
def test_cache_info_of_xdg_cache_home_sys_kernel(run, monkeypatch):
    """The newcomer's command, on the real sysfs."""
    monkeypatch.setenv("XDG_CACHE_HOME", "/sys/kernel")
    monkeypatch.delenv("PERFDSL_NO_CACHE", raising=False)
    lines = run("cache", "info")[1].splitlines()
    assert lines[0] == "folder: /sys/kernel/perfdsl"
    assert lines[1].startswith("used:   no: the folder cannot be made: /sys/kernel takes no new folder (")
    assert not os.path.exists("/sys/kernel/perfdsl")


def test_cache_dir(xdg, run, monkeypatch, tmp_path):
    assert run("cache", "dir") == (0, f"{xdg}\n", "")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert run("cache", "dir") == (0, f"{tmp_path}/.cache/perfdsl\n", "")


def test_cache_clear_all_kinds_or_some(xdg, run):
    _fill(xdg)
    assert run("cache", "clear", "check") == (0, "", f"removed 3 files (300 B) from {xdg}\n")
    assert sorted(p.name for p in xdg.iterdir()) == [".parse-d.tmp", "grammar-lark1.3.1-py311.cache", "notes.txt",
                                                      "parse-c.pickle"]
    _fill(xdg)
    assert run("cache", "clear") == (0, "", f"removed 6 files (3.9 kB) from {xdg}\n")   # 3,850 bytes
    assert [p.name for p in xdg.iterdir()] == ["notes.txt"]
    assert run("cache", "clear") == (0, "", f"removed 0 files (0 B) from {xdg}\n")


def test_cache_clear_removes_links_not_their_targets(xdg, run, tmp_path):
    xdg.mkdir(parents=True, mode=0o700)
    (tmp_path / "target").write_text("keep")
    (xdg / "check-link.json").symlink_to(tmp_path / "target")
    assert run("cache", "clear")[0] == 0
    assert list(xdg.iterdir()) == [] and (tmp_path / "target").read_text() == "keep"


def test_cache_clear_that_cannot_remove_a_file(xdg, run, monkeypatch):
    _fill(xdg)

    def refuse(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(cache_command.os, "unlink", refuse)
    status, out, err = run("cache", "clear", "grammar")
    assert (status, out) == (2, "")
    assert err == (f"error[cache-clear]: cannot remove '{xdg}/grammar-lark1.3.1-py311.cache': Permission denied\n"
                   "  = help: check the folder's owner and permissions (`perfdsl cache info`)\n\n1 error\n"
                   f"removed 0 files (0 B) from {xdg}\n")


def test_cache_clear_of_a_read_only_folder_is_one_error_with_the_count(xdg, run, monkeypatch):
    """A folder on a read-only file system refuses every file alike: one error naming the folder, the reason and the
    count (it printed one error per file: 192 errors, ~580 lines, for a full cache), then the totals."""
    _fill(xdg)

    def read_only(path, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(cache_command.os, "unlink", read_only)
    status, out, err = run("cache", "clear")
    assert (status, out) == (2, "")
    # check-a, check-b, check-pruned.stamp, parse-c, .parse-d.tmp, grammar-...: 6 files (notes.txt is no kind's)
    assert err == (f"error[cache-clear]: cannot remove 6 files from '{xdg}': Read-only file system\n"
                   "  = help: the folder is on a file system mounted read-only: remount it read-write to clear it, "
                   "or point XDG_CACHE_HOME at another folder\n\n1 error\n"
                   f"removed 0 files (0 B) from {xdg}\n")


def test_cache_clear_says_each_reason_once(xdg, run, monkeypatch):
    """Files refused for one reason are one error; the others are removed and counted."""
    _fill(xdg)
    unlink = os.unlink

    def refuse_parse(path, *args, **kwargs):
        if "parse" in os.path.basename(path):
            raise PermissionError(errno.EACCES, "Permission denied")
        unlink(path, *args, **kwargs)

    monkeypatch.setattr(cache_command.os, "unlink", refuse_parse)
    status, out, err = run("cache", "clear")
    assert (status, out) == (2, "")
    # removed: check 100 + 200 + 0 and grammar 2,500 bytes = 2,800 bytes
    assert err == (f"error[cache-clear]: cannot remove 2 files from '{xdg}': Permission denied\n"
                   "  = help: check the folder's owner and permissions (`perfdsl cache info`)\n\n1 error\n"
                   f"removed 4 files (2.8 kB) from {xdg}\n")


def test_cache_clear_of_an_unknown_kind_is_bad_usage(xdg, run):
    status, out, err = run("cache", "clear", "checks")
    assert (status, out) == (2, "")
    assert err.endswith("error: argument KIND: no kind 'checks' (choose from check, parse, grammar)\n")


def test_check_help_says_where_the_cache_is(xdg, run, monkeypatch, tmp_path):
    """Where XDG_CACHE_HOME is set, its folder; else ~/.cache/perfdsl (the help names both forms)."""
    out = " ".join(run("check", "--help")[1].split())
    assert f"the check cache in {xdg} ($XDG_CACHE_HOME/perfdsl, by default ~/.cache/perfdsl)." in out
    assert "`perfdsl cache info` shows what it holds, or why it is not used" in out
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    out = " ".join(run("check", "--help")[1].split())
    assert (f"the check cache in {tmp_path}/.cache/perfdsl (~/.cache/perfdsl; $XDG_CACHE_HOME/perfdsl where "
            "XDG_CACHE_HOME is set).") in out


def test_readme_names_the_command_that_clears_the_parse_cache(xdg, run):
    """README's parse-cache paragraph says to clear it with `perfdsl cache clear parse` (not by deleting files by
    hand), and that command removes the parse entries only."""
    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    assert "`perfdsl cache clear parse` clears this one." in readme
    assert "delete the `parse-*.pickle` files" not in readme
    _fill(xdg)
    assert run("cache", "clear", "parse") == (0, "", f"removed 2 files (1.1 kB) from {xdg}\n")
    assert not any(p.name.startswith(("parse-", ".parse-")) for p in xdg.iterdir())


def test_library_versions_names_the_installed_distributions_without_importing_them(tmp_path, monkeypatch):
    """One rule for every cache's key (the parse cache's and the check cache's): each package's metadata folders
    ("NAME-VERSION.dist-info") beside it, then the package's __init__.py; None for a package not installed. The
    packages are not imported (a subprocess, so that nothing this test process imported counts)."""
    import lark
    import pydantic

    script = ("import sys, json; from perfdsl import user_cache\n"
              "found = user_cache.library_versions(('lark', 'pydantic', 'no_such_package_for_perfdsl'))\n"
              "print(json.dumps([found, 'lark' in sys.modules, 'pydantic' in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    found, lark_imported, pydantic_imported = json.loads(done.stdout)
    assert found == {"lark": [f"lark-{lark.__version__}.dist-info", lark.__file__],
                     "pydantic": [f"pydantic-{pydantic.VERSION}.dist-info", pydantic.__file__],
                     "no_such_package_for_perfdsl": None}
    assert (lark_imported, pydantic_imported) == (False, False)


def test_both_caches_key_their_entries_by_library_versions(monkeypatch, private_cache):
    """A change of an installed library seen by library_versions changes the parse cache's entry names and the
    check cache's keys, each over the libraries whose objects or behaviour it keeps."""
    from perfdsl import check_cache, parse_cache

    assert check_cache.CheckCache(Path("."), {})._key("/r.perf", "sha256:0")[0]["libraries"] == \
        user_cache.library_versions(("lark", "pydantic", "numpy"))
    before = parse_cache.entry_name("model m { a = 1 }\n")
    real = user_cache.library_versions

    def upgraded(names):
        return {**real(names), "lark": ["lark-9.9.9.dist-info", "/elsewhere/lark/__init__.py"]}
    parse_cache._fingerprint.cache_clear()
    monkeypatch.setattr(parse_cache, "library_versions", upgraded)
    monkeypatch.setattr(check_cache, "library_versions", upgraded)
    try:
        assert parse_cache.entry_name("model m { a = 1 }\n") != before
        assert check_cache.CheckCache(Path("."), {})._key("/r.perf", "sha256:0")[0]["libraries"]["lark"] == \
            ["lark-9.9.9.dist-info", "/elsewhere/lark/__init__.py"]
    finally:
        parse_cache._fingerprint.cache_clear()
    monkeypatch.undo()
    assert parse_cache.entry_name("model m { a = 1 }\n") == before


def test_make_temporary_makes_a_new_private_file_each_time(tmp_path, monkeypatch):
    """`.PREFIX<16 hex>.tmp`, mode 0600 whatever the umask, never a file that exists (O_EXCL): where every name it
    draws is taken it gives up after 100 draws with FileExistsError, and a link in its place is not followed."""
    import re

    old = os.umask(0o002)
    try:
        handle, path = user_cache.make_temporary(str(tmp_path), "parse-")
    finally:
        os.umask(old)
    os.close(handle)
    assert re.fullmatch(re.escape(str(tmp_path)) + r"/\.parse-[0-9a-f]{16}\.tmp", path)
    assert stat.S_IMODE(os.lstat(path).st_mode) == 0o600
    draws = []
    monkeypatch.setattr(user_cache.os, "urandom", lambda n: draws.append(n) or b"\x01" * n)
    (tmp_path / ".check-0101010101010101.tmp").symlink_to(tmp_path / "target")
    with pytest.raises(FileExistsError):
        user_cache.make_temporary(str(tmp_path), "check-")
    assert len(draws) == 100 and not (tmp_path / "target").exists()
