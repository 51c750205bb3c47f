"""Documentation that runs: every fenced block of README.md and docs/*.md is an example this test runs.

A fence's info string says what the block is (docs/LANGUAGE.md, first section):
  perf                    checked with no error; each report it defines evaluated to finite numbers
  perf expect-error=CODE  checked, and one of its errors has that code
  perf excerpt            an abridged copy of files: after each `# path` comment, every line is found in that file
  python                  executed from the repository root
  sh                      each `perfdsl ...` line run from the repository root, outputs (-o) in a temporary folder;
                          `make` lines are what the Makefile runs and are not repeated here
  text                    output shown to the reader, not run
  ... no-run              deliberately partial: not run (say why beside it)
New blocks are picked up without touching this file; a fence with no info string, or one this test does not
know, fails, so that nothing is skipped by accident.
"""

from __future__ import annotations

import math
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import perfdsl
from perfdsl.cli import main

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
KNOWN = {"perf", "python", "sh", "text"}
FENCE = re.compile(r"^```(.*)$")


@dataclass
class Block:
    document: Path
    line: int                  # of the opening fence, 1-based
    language: str
    options: list[str]
    text: str

    @property
    def id(self) -> str:
        return f"{self.document.relative_to(REPO)}:{self.line}"


def fenced_blocks(path: Path) -> list[Block]:
    blocks, current, body = [], None, []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = FENCE.match(line)
        if match and current is None:
            info = match.group(1).split()
            current = (number, info[0] if info else "", info[1:])
            body = []
        elif match:
            blocks.append(Block(path, current[0], current[1], current[2], "\n".join(body) + "\n"))
            current = None
        elif current is not None:
            body.append(line)
    assert current is None, f"{path}:{current[0]}: a fence is never closed"
    return blocks


BLOCKS = [block for document in DOCUMENTS for block in fenced_blocks(document)]


def blocks_of(language: str) -> list[Block]:
    return [b for b in BLOCKS if b.language == language and "no-run" not in b.options]


def test_every_block_says_what_it_is():
    unknown = [f"{b.id}: '{b.language}'" for b in BLOCKS if b.language not in KNOWN]
    assert not unknown, "fences need an info string among " + ", ".join(sorted(KNOWN)) + ": " + "; ".join(unknown)


def test_the_documents_have_examples_of_each_kind():
    kinds = {(b.language, tuple(o.split("=")[0] for o in b.options)) for b in BLOCKS}
    assert {("perf", ()), ("perf", ("expect-error",)), ("perf", ("excerpt",)), ("python", ()), ("sh", ())} <= kinds


@pytest.mark.parametrize("block", [b for b in blocks_of("perf") if not b.options], ids=lambda b: b.id)
def test_perf_example_checks_and_evaluates(block: Block, tmp_path: Path):
    path = tmp_path / "example.perf"
    path.write_text(block.text, encoding="utf-8")
    program = perfdsl.load([path])
    diagnostics = [d for d in program.check() if d.severity == "error"]
    assert not diagnostics, "\n".join(d.render() for d in diagnostics)
    for report in program.reports:
        result = program.evaluate(report)
        # a question's row for a group with no answer is empty by design (a no-point warning names it)
        answered = ~result.rows.missing if result.rows is not None else slice(None)
        for column in result.columns:
            if column.kind == "num":
                values = result.column(column.name)[answered]
                assert np.isfinite(values).all(), f"{block.id}: {report}.{column.name} is not finite"


@pytest.mark.parametrize("block", [b for b in blocks_of("perf") if any(o.startswith("expect-error=") for o in
                                                                       b.options)], ids=lambda b: b.id)
def test_perf_example_shows_the_error_it_says(block: Block, tmp_path: Path):
    code = next(o for o in block.options if o.startswith("expect-error=")).partition("=")[2]
    path = tmp_path / "example.perf"
    path.write_text(block.text, encoding="utf-8")
    try:
        codes = {d.code for d in perfdsl.load([path]).check() if d.severity == "error"}
    except perfdsl.PerfError as exc:
        codes = {d.code for d in exc.diagnostics}
    assert code in codes, f"{block.id}: expected error[{code}], got {sorted(codes)}"


def _normalised(line: str) -> str:
    return " ".join(line.split("#", 1)[0].split())


@pytest.mark.parametrize("block", [b for b in blocks_of("perf") if "excerpt" in b.options], ids=lambda b: b.id)
def test_perf_excerpt_is_taken_from_the_files_it_names(block: Block):
    file, missing, checked = None, [], 0
    for line in block.text.splitlines():
        named = re.match(r"#\s*(\S+\.perf)\b", line.strip())
        if named:
            file = REPO / named.group(1)
            assert file.is_file(), f"{block.id}: the excerpt names {named.group(1)}, which does not exist"
            wanted = {_normalised(t) for t in file.read_text(encoding="utf-8").splitlines()}
            continue
        text = _normalised(line)
        if not text or text == "}":
            continue
        assert file is not None, f"{block.id}: an excerpt starts with a `# path/to/file.perf` comment"
        checked += 1
        if text not in wanted:
            missing.append(f"{text!r} (from {file.relative_to(REPO)})")
    assert checked and not missing, f"{block.id}: lines not in their files: " + "; ".join(missing)


@pytest.mark.parametrize("block", blocks_of("python"), ids=lambda b: b.id)
def test_python_example_runs(block: Block, monkeypatch):
    monkeypatch.chdir(REPO)
    exec(compile(block.text, block.id, "exec"), {"__name__": "doc_example"})


def shell_commands(block: Block) -> list[list[str]]:
    """The `perfdsl ...` commands of a sh block (continuation lines joined, comments dropped)."""
    joined = block.text.replace("\\\n", " ")
    commands = []
    for line in joined.splitlines():
        line = line.strip().removeprefix("$ ")
        if line.startswith("perfdsl "):
            commands.append(shlex.split(line, comments=True)[1:])
        else:
            assert not line or line.startswith(("#", "make ")), f"{block.id}: a shell line this test cannot run: {line}"
    return commands


SHELL = [(block, index, argv) for block in blocks_of("sh") for index, argv in enumerate(shell_commands(block))]


@pytest.mark.parametrize("block, index, argv", SHELL, ids=[f"{b.id}#{i}" for b, i, _ in SHELL])
def test_shell_example_runs(block: Block, index: int, argv: list[str], tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    argv = list(argv)
    for option in ("-o", "--output"):
        if option in argv:
            position = argv.index(option) + 1
            argv[position] = str(tmp_path / Path(argv[position]).name)
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 0, f"{block.id}: perfdsl {' '.join(argv)} -> {status}\n{err}"
    assert "error[" not in err
    for option in ("-o", "--output"):
        if option in argv:
            output = Path(argv[argv.index(option) + 1])
            assert output.is_file() and output.stat().st_size > 0


def test_numbers_in_the_python_example_are_right():
    """README's comment `# 7.68e11: one cell, in SI (B/s)` is what the call returns."""
    program = perfdsl.load([REPO / "reports" / "example.perf"])
    assert math.isclose(program.value("rtx_a5000.mem_bw"), 7.68e11)


def test_the_limits_the_language_reference_states_are_the_codes():
    """docs/LANGUAGE.md "Limits" names the rule the code applies: 1 GiB of arrays at once (not a count of points),
    the points of a whole sweep and the values of one axis."""
    from perfdsl.chunks import WHOLE_EVALUATION_BYTES
    from perfdsl.limits import MAX_AXIS_POINTS, MAX_POINTS

    limits = (REPO / "docs" / "LANGUAGE.md").read_text().split("## Limits", 1)[1]
    assert WHOLE_EVALUATION_BYTES == 2**30
    assert "evaluates its sweep at once where that holds at most 1 GiB of arrays" in limits
    assert f"at most {MAX_POINTS:,} points in all" in limits
    assert f"at most {MAX_AXIS_POINTS:,} values" in limits
    assert "sweep points at once" not in limits


def test_every_unit_the_language_accepts_is_in_the_reference():
    """docs/LANGUAGE.md "Units" lists every name dsl/units.py accepts (`msec`, `sec` were accepted and not listed):
    each name of the table is written there in backquotes, or is an SI or binary prefix on one that is."""
    from perfdsl.units import _BINARY, _SI_LARGE, _SI_SMALL, UNIT_TABLE

    section = (REPO / "docs" / "LANGUAGE.md").read_text().split("## Units", 1)[1].split("\n## ", 1)[0]
    listed = {word for quoted in re.findall(r"`([^`]+)`", section) for word in quoted.split()}
    prefixes = {**_SI_LARGE, **_SI_SMALL, **_BINARY}
    missing = [name for name in UNIT_TABLE
               if name not in listed and not any(name.startswith(p) and name[len(p):] in listed for p in prefixes)]
    assert missing == []
