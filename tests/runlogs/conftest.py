"""Paths for the run-log tests: the repository's own fixtures, and the shared sample logs beside the repository.

CI clones the repository into some folder with `shared/` beside it, so the samples are found from the repository
root (the folder holding pyproject.toml) as ../shared/logs; tests that need them skip, saying why, where absent.
"""

from pathlib import Path

import pytest


def repository_root() -> Path:
    here = Path(__file__).resolve()
    for folder in here.parents:
        if (folder / "pyproject.toml").is_file() and (folder / "dsl").is_dir():
            return folder
    raise RuntimeError(f"no repository root (a folder with pyproject.toml and dsl/) above {here}")


REPO = repository_root()
SHARED_LOGS = (REPO / ".." / "shared" / "logs").resolve()
FIXTURE_LOGS = REPO / "tests" / "fixtures" / "logs"


@pytest.fixture
def shared_logs() -> Path:
    if not SHARED_LOGS.is_dir():
        pytest.skip(f"../shared/logs is absent: the public sample logs are not beside the repository ({SHARED_LOGS})")
    return SHARED_LOGS


@pytest.fixture
def fixture_logs() -> Path:
    return FIXTURE_LOGS


@pytest.fixture
def repo_root() -> Path:
    return REPO
