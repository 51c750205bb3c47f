"""The packaging promise: after a plain, non-editable install, the bundled libraries are found and evaluate."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    work = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(work), str(ROOT)],
                           capture_output=True, text=True)
    if build.returncode != 0:
        pytest.skip(f"cannot build a wheel here (no build backend reachable?): {build.stderr[-500:]}")
    wheel = next(work.glob("perfdsl-*.whl"))
    site = work / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, text=True)
    return site


def _run_outside_the_checkout(site: Path, code: str, cwd: Path) -> str:
    env = dict(os.environ, PYTHONPATH=str(site))
    done = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(site)!r}); {code}"],
                          capture_output=True, text=True, cwd=cwd, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_wheel_ships_the_libraries_and_they_evaluate(installed, tmp_path):
    out = _run_outside_the_checkout(installed, (
        "import perfdsl; from perfdsl.library import library_files; "
        "print(perfdsl.library_path('models')); print(len(library_files())); "
        "print(perfdsl.load(library_files('models')).value('opt_1_3b.params'))"), tmp_path)
    folder, count, params = out.split()
    assert Path(folder).is_relative_to(installed)
    assert int(count) >= 15
    assert float(params) == 1_315_758_080        # models.md


def test_imports_of_the_bundled_libraries_resolve_from_anywhere(installed, tmp_path):
    (tmp_path / "mine.perf").write_text('import "models/opt.perf"\nimport "hardware/ampere_workstation.perf"\n'
                                        'model my_opt extends opt_1_3b { layers = 12 }\n')
    out = _run_outside_the_checkout(installed, (
        "import perfdsl; p = perfdsl.load('mine.perf'); "
        "print(p.value('my_opt.layers'), p.value('rtx_a5000.mem_bw'))"), tmp_path)
    assert out.split() == ["12.0", "768000000000.0"]
