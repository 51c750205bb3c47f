"""Golden single-file cases: tests/cases/*.perf.

Each case starts with a header comment that says what it tests and ends with its expected output, as comments:

    # expect-error:      the exact diagnostics `perfdsl check FILE` prints on stderr (exit status 1; 0 when
                         they are warnings only; 2 when every error is in a value given with --set)
    # expect:            the exact CSV `perfdsl eval FILE --format csv` prints on stdout (exit status 0)
    # expect-warning:    (with expect:) the exact warnings the evaluation prints on stderr

A header line `# args: --set batch=1,4 ...` adds options to `perfdsl eval` (and makes an expect-error case run
`eval` instead of `check`). The CLI runs in-process with the repository root as the working directory, so paths read
`tests/cases/NAME.perf`. Text is compared exactly, up to trailing spaces on a line; numbers in CSV are compared to
12 significant digits (log2 and sqrt may differ in the last bit between numpy builds), and a mismatch is reported
cell by cell.

Below the golden comparison, a few cases also assert chosen values through the Python API, written as the arithmetic
that gives them.
"""

from __future__ import annotations

import csv
import io
import math
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import perfdsl
from perfdsl import cli

REPO = Path(__file__).resolve().parent.parent
CASES = REPO / "tests" / "cases"
CASE_FILES = sorted(CASES.glob("*.perf"))
SECTIONS = ("expect", "expect-error", "expect-warning")


@dataclass
class Case:
    path: Path
    header: list[str]
    args: list[str]
    sections: dict[str, str] = field(default_factory=dict)

    @property
    def rel(self) -> str:
        return f"tests/cases/{self.path.name}"


def parse_case(path: Path) -> Case:
    lines = path.read_text(encoding="utf-8").splitlines()
    header = []
    for line in lines:
        if not line.startswith("#"):
            break
        header.append(line)
    args: list[str] = []
    for line in header:
        if line.startswith("# args:"):
            args = shlex.split(line[len("# args:"):])
    sections: dict[str, list[str]] = {}
    current = None
    for line in lines:
        name = line[2:-1] if line.startswith("# ") and line.endswith(":") else None
        if name in SECTIONS:
            current = name
            sections[current] = []
        elif current is not None:
            if not line.startswith("#"):
                raise AssertionError(f"{path.name}: code after the '# {current}:' section: {line!r}")
            sections[current].append(line[2:] if line.startswith("# ") else line[1:])
    return Case(path, header, args, {k: "\n".join(v).rstrip("\n") for k, v in sections.items()})


def normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.rstrip("\n").split("\n"))


def run_cli(argv: list[str], capsys, monkeypatch) -> tuple[int, str, str]:
    monkeypatch.chdir(REPO)
    capsys.readouterr()
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def csv_diff(expected: str, actual: str) -> list[str]:
    """Cell-by-cell differences between two CSV texts: numbers to 12 significant digits, other text exactly."""
    want = list(csv.reader(io.StringIO(expected)))
    got = list(csv.reader(io.StringIO(actual)))
    problems = []
    if want[:1] != got[:1]:
        return [f"header: expected {want[:1]}, got {got[:1]}"]
    if len(want) != len(got):
        problems.append(f"expected {len(want) - 1} rows, got {len(got) - 1}")
    header = want[0]
    for row, (w_row, g_row) in enumerate(zip(want[1:], got[1:]), start=1):
        for column, w, g in zip(header, w_row, g_row):
            if not _same_cell(w, g):
                problems.append(f"row {row}, column '{column}': expected {w!r}, got {g!r}")
    return problems


def _same_cell(want: str, got: str) -> bool:
    if want == got:
        return True
    try:
        a, b = float(want), float(got)
    except ValueError:
        return False
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_case(path: Path, capsys, monkeypatch):
    case = parse_case(path)
    assert case.header and case.header[0].startswith("# ") and len(case.header[0]) > 10, \
        f"{case.rel}: a case starts with a header comment that says what it tests"
    if "expect-error" in case.sections:
        argv = ["check", case.rel] if not case.args else ["eval", case.rel, "--format", "csv", *case.args]
        code, out, err = run_cli(argv, capsys, monkeypatch)
        assert normalise(err) == normalise(case.sections["expect-error"]), (
            f"{case.rel}: diagnostics differ\n--- expected\n{case.sections['expect-error']}\n--- got\n{err}")
        only_warnings = "error[" not in case.sections["expect-error"]
        # errors located only in values given with --set are bad usage (exit 2), other errors bad specs (exit 1)
        errors_at = re.findall(r"^error\[.*\n\s*--> (.*)$", case.sections["expect-error"], re.M)
        usage = bool(errors_at) and all(place.startswith("--set ") for place in errors_at)
        assert code == (0 if only_warnings else 2 if usage else 1), f"{case.rel}: exit status {code}"
        assert out == ""
    else:
        assert "expect" in case.sections, f"{case.rel}: no '# expect:' or '# expect-error:' section"
        code, out, err = run_cli(["eval", case.rel, "--format", "csv", *case.args], capsys, monkeypatch)
        assert code == 0, f"{case.rel}: exit status {code}\n{err}"
        problems = csv_diff(case.sections["expect"], out)
        assert not problems, f"{case.rel}: the CSV differs:\n  " + "\n  ".join(problems) + f"\n--- got\n{out}"
        assert normalise(err) == normalise(case.sections.get("expect-warning", "")), (
            f"{case.rel}: stderr differs\n--- got\n{err}")
    assert "Traceback" not in err


def test_every_kind_of_case_is_present():
    kinds = {"expect-error": 0, "expect": 0}
    for path in CASE_FILES:
        sections = parse_case(path).sections
        kinds["expect-error" if "expect-error" in sections else "expect"] += 1
    assert kinds["expect-error"] >= 20 and kinds["expect"] >= 8, kinds


def test_csv_diff_reports_cells():
    expected = "a,b\n1,x\n2.0,y\n"
    assert csv_diff(expected, "a,b\n1.0,x\n2.0000000000001,y\n") == []
    assert csv_diff(expected, "a,b\n1,x\n2.5,z\n") == ["row 2, column 'a': expected '2.0', got '2.5'",
                                                        "row 2, column 'b': expected 'y', got 'z'"]


# -- chosen values through the API, written as the arithmetic that gives them ------------------------------------

def _records(name: str, **kwargs) -> list[dict]:
    program = perfdsl.load([CASES / f"{name}.perf"])
    return program.evaluate(**kwargs).records()


def test_units_chosen_values():
    (row,) = _records("eval_units")
    assert row["u.gib [B]"] == 2**30
    assert row["u.gib [GB]"] == pytest.approx(2**30 / 1e9)
    assert row["u.gib [MiB]"] == pytest.approx(2**30 / 2**20)
    assert row["u.gb [B]"] == 10**9 != row["u.gib [B]"]
    assert row["u.kb [B]"] == 1000 and row["u.kib [B]"] == 1024
    assert row["u.gbit [MB]"] == pytest.approx(1e9 / 8 / 1e6)
    assert row["u.time [ms]"] == pytest.approx(1.5 + 0.5 + 2.0)
    assert row["u.work [TFLOP]"] == pytest.approx(2 * 0.5)
    assert row["u.energy [J]"] == pytest.approx(1000 * 3600)
    assert row["u.charge [kWh]"] == pytest.approx(250 * 2 / 1000)
    assert row["u.share [%]"] == pytest.approx(50) and row["u.share"] == pytest.approx(0.5)
    assert row["u.minutes [s]"] == 2 * 60


def test_extends_chosen_values():
    rows = _records("eval_extends_override")
    assert [r["hardware"] for r in rows] == ["slow", "fast"]
    assert rows[0]["hardware.read_time [ms]"] == pytest.approx(24e9 / 600e9 * 1e3)
    assert rows[1]["hardware.read_time [ms]"] == pytest.approx(48e9 / 1.2e12 * 1e3)


def test_role_sweep_chosen_values():
    rows = {(r["model"], r["hardware"]): r for r in _records("eval_role_sweep")}
    assert rows["big", "a5000"]["prefill.runtime [ms]"] == pytest.approx(2 * 7e9 * 1000 / 100e12 * 1e3)
    assert rows["small", "h100"]["prefill.flops [TFLOP]"] == pytest.approx(2 * 1e9 * 1000 / 1e12)


def test_zipped_sweep_points_go_together():
    rows = _records("eval_zipped")
    assert len(rows) == 2 * 2
    assert {(r["batch"], r["seq"]) for r in rows} == {(8, 2048), (16, 512)}
    assert {(r["model"], r["tag"]) for r in rows} == {("small", "S"), ("big", "B")}
    big = [r for r in rows if r["model"] == "big" and r["batch"] == 16][0]
    assert big["c.work"] == 4096 * 16 * 512


def test_ranges_chosen_values():
    result = perfdsl.load([CASES / "eval_ranges.perf"]).evaluate()
    assert [axis.name for axis in result.axes] == ["mem", "frac", "n"]
    assert result.shape == (4, 3, 2)
    assert result.axes[0].coords[0].values.tolist() == [1024 * 2**k for k in range(4)]
    assert result.axes[1].coords[0].values.tolist() == [0, 0.5, 1]
    assert result.column("r.total").max() == 8 * 1024 * 2


def test_functions_chosen_values():
    rows = _records("eval_functions")
    first = rows[0]                               # x = -2.5
    assert first["f.near"] == -3.0                # halves away from zero, as spreadsheets round
    assert first["f.bits"] == pytest.approx(math.log2(2.5 * 4))
    assert first["f.side [s]"] == pytest.approx(math.sqrt(2.5 * 16))
    assert first["f.tower"] == 2 ** (3 ** 2)
    assert first["f.negpow"] == -(2 ** 2)


def test_division_by_zero_warning_names_cell_and_point():
    result = perfdsl.load([CASES / "eval_division_by_zero.perf"]).evaluate()
    (warning,) = result.warnings
    assert warning.severity == "warning" and warning.code == "division-by-zero"
    assert "'c.per'" in warning.message and "n=0" in warning.message
    assert result.column("c.per").tolist() == [math.inf, 8 / 2, 8 / 4]
    assert result.records()[0]["c.per"] is None     # JSON has no inf


def test_set_override_through_the_api():
    rows = _records("eval_set_override", overrides={"batch": [1, 4], "slow.mem_bw": "2 TB/s", "hardware": "slow"})
    assert [r["c.runtime [ms]"] for r in rows] == pytest.approx([1e9 / 2e12 * 1e3, 4e9 / 2e12 * 1e3])


def test_make_check_finds_nothing_in_the_library(capsys):
    """`make check` (every library file, each its own program) reports neither errors nor warnings: a component file
    such as costmodels/moe.perf imports the cost model whose cells it reads back."""
    from perfdsl import cli

    repo = Path(__file__).resolve().parents[1]
    makefile = (repo / "Makefile").read_text(encoding="utf-8")
    globs = next(line for line in makefile.splitlines() if "perfdsl check" in line).split("check", 1)[1].split()
    files = sorted(str(path) for pattern in globs for path in repo.glob(pattern))
    assert len(files) > 40
    assert cli.main(["check", *files]) == 0
    out, err = capsys.readouterr()
    assert "warning" not in out + err and "error" not in out + err, err
