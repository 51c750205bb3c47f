"""Fixtures shared by the test modules."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def private_cache(tmp_path, monkeypatch) -> Path:
    """A cache folder of the test's own, empty (the first run is cold), with caching on whatever the environment
    says (PERFDSL_NO_CACHE and PERFDSL_DEBUG unset): the perfdsl folder under XDG_CACHE_HOME=tmp_path/xdg, not made
    yet."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("PERFDSL_NO_CACHE", raising=False)
    monkeypatch.delenv("PERFDSL_DEBUG", raising=False)
    return tmp_path / "xdg" / "perfdsl"


@pytest.fixture
def work(tmp_path: Path, monkeypatch) -> Path:
    """The test's folder as the working directory, with the check cache off (each command checks its files, no replay
    of a check): the CLI run in-process there finds the bundled libraries as they are installed. Modules with a
    `work` fixture of their own (test_cli.py, test_output_failures.py) use theirs."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PERFDSL_NO_CACHE", "1")
    return tmp_path
