"""Speed targets of the language (issue: the .perf language).

- A cost model of about 50 cells over a 1,000,000-point sweep evaluates in under 0.1 s on the 2-core machine.
- Parsing and checking every file in models/ and hardware/ takes under 0.2 s.
- `perfdsl --help` and the evaluation of a small report start in under 0.5 s; the start-up of `perfdsl check` of a
  small file with no report is measured too (no target of its own: the floor under every check).
- `perfdsl check` of every library file on the command line (the files of the Makefile's `make check`, read from
  its recipe: models/, hardware/, software/, costmodels/ and reports/, each file checked as its own program with
  what it imports) in under 0.5 s (issue 10),
  measured three ways: cold (no check or parse cache entry: each round starts from a cache folder that holds only
  Lark's grammar cache; with the default `--jobs`, the files shared among worker processes, and with `-j 1`), warm (every file's result in the check cache, dsl/check_cache.py) and after one edit (a
  comment changed in models/llama.perf: every program that imports it is checked again, the others replayed).
  `extra_info["cpu_s"]` is the least CPU time of a round (user + system of the child and its workers): on a machine shared by
  several users the wall clock swings with their load, the CPU time much less; `load_1min_before_after` is the
  machine's load average before the first round and after the last.
- Parsing the same files, cold (Lark, the IR built during the parse) and from the parse cache (parse_cache.py).
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import perfdsl
from perfdsl import parallel_check
from perfdsl.library import library_files

SPECS = Path(__file__).resolve().parent / "specs"
ROOT = Path(__file__).resolve().parents[1]


def test_fifty_cell_model_over_a_million_points(benchmark):
    program = perfdsl.load(SPECS / "fifty_cells.perf")
    result = benchmark(program.evaluate)
    assert result.n_points == 1_000_000
    assert len(program.blocks["cost"].cells) >= 45


def test_parse_and_check_the_bundled_libraries(benchmark):
    files = library_files()
    assert files, "the bundled libraries are empty"

    def parse_and_check():
        program = perfdsl.load(files)
        return program.check()

    diagnostics = benchmark(parse_and_check)
    assert not [d for d in diagnostics if d.severity == "error"]


def _run(args):
    completed = subprocess.run(args, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
    return completed


def test_start_up_of_perfdsl_help(benchmark):
    benchmark.pedantic(_run, args=([sys.executable, "-m", "perfdsl.cli", "--help"],), rounds=5, iterations=1)


def test_start_up_and_evaluation_of_a_small_report(benchmark):
    benchmark.pedantic(_run, args=([sys.executable, "-m", "perfdsl.cli", "eval", str(SPECS / "small_report.perf")],),
                       rounds=5, iterations=1)


def test_start_up_of_checking_one_small_file(benchmark, grammar_cache, tmp_path):
    """Start-up of `perfdsl check` of a file of one small block and no report: what every check pays before its
    first cell (Python, perfdsl's checker modules, Lark and its tables; numpy is not imported: a check with no report
    computes nothing, lazy_numpy.py), cold: each round from a cache folder that holds Lark's grammar cache only.
    extra_info: the least CPU time of a round (user + system of the child) and the 1-minute load average before the
    first round and after the last."""
    spec = tmp_path / "tiny.perf"
    spec.write_text("hardware tiny { clock = 1 GHz }\n", encoding="utf-8")
    home = tmp_path / "home"
    env = {**os.environ, "XDG_CACHE_HOME": str(home)}
    env.pop("PERFDSL_NO_CACHE", None)
    cpu, load = [], [round(os.getloadavg()[0], 2)]

    def renew():
        shutil.rmtree(home, ignore_errors=True)
        shutil.copytree(grammar_cache, home)

    def check():
        before = os.times()
        completed = subprocess.run([sys.executable, "-m", "perfdsl.cli", "check", str(spec)], env=env,
                                   capture_output=True, text=True)
        after = os.times()
        cpu.append(after.children_user - before.children_user + after.children_system - before.children_system)
        assert completed.returncode == 0, completed.stderr
        assert completed.stderr.startswith("ok: 1 file, 1 block, 0 reports"), completed.stderr

    benchmark.pedantic(check, setup=renew, rounds=10, iterations=1)
    load.append(round(os.getloadavg()[0], 2))
    benchmark.extra_info["cpu_s"] = round(min(cpu), 3)
    benchmark.extra_info["load_1min_before_after"] = load


def _make_check_files() -> list[str]:
    """The files `make check` checks: the globs of the Makefile's `check` recipe (`perfdsl check models/*.perf ...`),
    expanded in the repository as the shell would (each sorted), so the benchmark times what the README quotes."""
    recipe = re.search(r"^check:.*\n\t\$\(BIN\)/perfdsl check (.+)$", (ROOT / "Makefile").read_text(), re.M)
    assert recipe, "the Makefile has a `check` recipe that runs `perfdsl check`"
    return [str(Path(f).relative_to(ROOT)) for pattern in recipe.group(1).split()
            for f in sorted(glob.glob(str(ROOT / pattern)))]


LIBRARY_FILES = _make_check_files()


@pytest.fixture(scope="module")
def grammar_cache(tmp_path_factory) -> Path:
    """A cache folder ($XDG_CACHE_HOME) that holds only Lark's analysis of the grammar (grammar-lark*.cache): what a
    user's folder holds after a first run of any other command, so that a cold check starts as their second-ever
    run, with no check or parse cache entry."""
    home = tmp_path_factory.mktemp("grammar-only")
    subprocess.run([sys.executable, "-m", "perfdsl.cli", "check", "--no-cache", str(SPECS / "small_report.perf")],
                   env={**os.environ, "XDG_CACHE_HOME": str(home)}, check=True, capture_output=True)
    for entry in (home / "perfdsl").iterdir():
        if not entry.name.startswith("grammar-lark"):
            entry.unlink()
    assert [p.name for p in (home / "perfdsl").iterdir()], "Lark wrote no grammar cache"
    return home


def _check_library(benchmark, cwd: Path, home: Path, setup=None, rounds: int = 5, options: tuple = ()) -> None:
    """Benchmark `perfdsl check OPTIONS` of LIBRARY_FILES in a new process (working folder `cwd`, XDG_CACHE_HOME
    `home`), `setup` run before each round, untimed. extra_info: the least CPU time of a round (user + system of the
    child and of its worker processes, which it waits for), the 1-minute load average of the machine before the
    first and after the last round, the files, and the processes `--jobs` allows here."""
    cpu, load = [], [round(os.getloadavg()[0], 2)]
    env = {**os.environ, "XDG_CACHE_HOME": str(home)}
    env.pop("PERFDSL_NO_CACHE", None)

    def check():
        before = os.times()
        completed = subprocess.run([sys.executable, "-m", "perfdsl.cli", "check", *options, *LIBRARY_FILES], cwd=cwd,
                                   env=env, capture_output=True, text=True)
        after = os.times()
        cpu.append(after.children_user - before.children_user + after.children_system - before.children_system)
        assert completed.returncode == 0, completed.stderr
        return completed

    benchmark.pedantic(check, setup=setup, rounds=rounds, iterations=1)
    load.append(round(os.getloadavg()[0], 2))
    benchmark.extra_info["files"] = len(LIBRARY_FILES)
    benchmark.extra_info["jobs"] = " ".join(options) or f"default: {parallel_check.default_jobs()}"
    benchmark.extra_info["cpu_s"] = round(min(cpu), 3)
    benchmark.extra_info["load_1min_before_after"] = load


@pytest.mark.parametrize("options", [(), ("-j", "1")], ids=["default jobs", "one process"])
def test_check_of_every_library_file_on_the_command_line(benchmark, grammar_cache, tmp_path, options):
    """Cold: each round starts from a cache folder with Lark's grammar cache only (no check or parse entries), as a
    user's second-ever run; the round stores its entries (their writing is timed too). With the default `--jobs`
    (the usable CPUs: the files shared among worker processes) and with `-j 1` (all in one process), for the gain."""
    home = tmp_path / "home"

    def renew():
        shutil.rmtree(home, ignore_errors=True)
        shutil.copytree(grammar_cache, home)

    _check_library(benchmark, ROOT, home, setup=renew, options=options)


def test_check_of_every_library_file_warm(benchmark, grammar_cache, tmp_path):
    """Warm: every file's result is in the check cache (one run before the rounds stores them): each round replays
    them all, parsing and checking nothing."""
    home = tmp_path / "home"
    shutil.copytree(grammar_cache, home)
    subprocess.run([sys.executable, "-m", "perfdsl.cli", "check", *LIBRARY_FILES], cwd=ROOT, check=True,
                   env={**os.environ, "XDG_CACHE_HOME": str(home)}, capture_output=True)
    _check_library(benchmark, ROOT, home)


def test_check_of_every_library_file_after_editing_one_model_family(benchmark, grammar_cache, tmp_path):
    """One file edited: a copy of the libraries (their imports are relative: the copy's files import the copy) with a
    warm cache, and before each round a comment in models/llama.perf changed (a new text each round), so that every
    program that imports it (the Llama models' file, the reports that sweep over Llama models) is checked again and
    the others are replayed."""
    copy = tmp_path / "copy"
    for folder in ("models", "hardware", "software", "costmodels", "reports"):
        shutil.copytree(ROOT / folder, copy / folder, ignore=shutil.ignore_patterns("configs"))
    home = tmp_path / "home"
    shutil.copytree(grammar_cache, home)
    subprocess.run([sys.executable, "-m", "perfdsl.cli", "check", *LIBRARY_FILES], cwd=copy, check=True,
                   env={**os.environ, "XDG_CACHE_HOME": str(home)}, capture_output=True)
    family = copy / "models" / "llama.perf"
    original = family.read_text(encoding="utf-8")
    edits = iter(range(1000))

    def edit():
        family.write_text(original + f"# edited for the benchmark, round {next(edits)}\n", encoding="utf-8")

    _check_library(benchmark, copy, home, setup=edit)
    # How many programs a round checks again: the entries one more edited run rewrites.
    before = {entry.name: entry.stat().st_mtime_ns for entry in (home / "perfdsl").glob("check-*.json")}
    edit()
    subprocess.run([sys.executable, "-m", "perfdsl.cli", "check", *LIBRARY_FILES], cwd=copy, check=True,
                   env={**os.environ, "XDG_CACHE_HOME": str(home)}, capture_output=True)
    after = {entry.name: entry.stat().st_mtime_ns for entry in (home / "perfdsl").glob("check-*.json")}
    benchmark.extra_info["files_checked_again"] = sum(1 for name in after if before.get(name) != after[name])


def _library_texts() -> list[tuple[str, str]]:
    return [((ROOT / name).read_text(encoding="utf-8"), name) for name in LIBRARY_FILES]


def _parse_all(texts):
    from perfdsl import parser

    parser._parse_module.cache_clear()                   # as a new process: the in-process memo forgotten
    return [parser.parse_text(text, name) for text, name in texts]


def test_parse_of_every_library_file_cold(benchmark, cpu_time, monkeypatch):
    """Lark's parse and the IR built during it (no disk cache): ~0.17 s CPU for the 55 files (issue 10)."""
    monkeypatch.setenv("PERFDSL_NO_CACHE", "1")
    texts = _library_texts()
    modules = benchmark.pedantic(cpu_time(_parse_all), args=(texts,), rounds=7, iterations=1, warmup_rounds=1)
    benchmark.extra_info["files"] = len(modules)


def test_parse_of_every_library_file_from_the_cache(benchmark, cpu_time, monkeypatch, tmp_path):
    """The same files loaded from the parse cache (parse_cache.py), filled by the warm-up round: ~0.05 s CPU."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("PERFDSL_NO_CACHE", raising=False)
    texts = _library_texts()
    modules = benchmark.pedantic(cpu_time(_parse_all), args=(texts,), rounds=7, iterations=1, warmup_rounds=1)
    benchmark.extra_info["files"] = len(modules)
    assert len(list((tmp_path / "perfdsl").glob("parse-*.pickle"))) == len(texts)
