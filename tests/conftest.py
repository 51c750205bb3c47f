"""Fixtures shared by the test modules."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfdsl import cli


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


@pytest.fixture
def run(capsys):
    """run(*argv) -> (exit status, stdout, stderr) of the perfdsl command run in-process (cli.main) in the working
    directory; an argparse exit counts as its status. A traceback (on either stream) or an internal error fails the
    test. Modules with a `run` of their own use theirs; test_usage_slips.py's requests this one after its setup."""

    def invoke(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = cli.main(list(argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        assert "Traceback" not in err + out and "error[internal]" not in err, err
        return code, out, err

    return invoke
