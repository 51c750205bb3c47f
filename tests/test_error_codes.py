"""The catalogue of diagnostic codes (dsl/error_codes.py): every code a module uses is in it, every code in it is
pinned by a test with its exact text, and docs/ERRORS.md is generated from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from perfdsl import cli
from perfdsl.error_codes import CATALOGUE, describe, markdown

REPO = Path(__file__).resolve().parent.parent
# A code is the first argument of the functions that make diagnostics.
_MAKERS = r"(?:error|warning|note|diag|report|Diagnostic|Unresolved|ColumnError|_warn_point\([^\"]*?)"
_CODE_ARG = re.compile(_MAKERS + r"\(\s*\"([a-z]+(?:-[a-z]+)*)\"")
# A run log's file-level error names the file first: file_error(path, "code", ...).
_FILE_CODE_ARG = re.compile(r"file_error\(\s*[^,()]+(?:\([^()]*\))?,\s*\"([a-z]+(?:-[a-z]+)*)\"")
_CODE_VALUE = re.compile(r"_CODES\s*=\s*\{([^}]*)\}")


def codes_in_sources() -> dict[str, str]:
    """Every code literal the package's modules pass to a diagnostic maker: code -> the first file using it."""
    found: dict[str, str] = {}
    for path in sorted((REPO / "dsl").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for match in [*_CODE_ARG.finditer(text), *_FILE_CODE_ARG.finditer(text)]:
            found.setdefault(match.group(1), str(path.relative_to(REPO)))
        for table in _CODE_VALUE.finditer(text):
            for code in re.findall(r":\s*\"([a-z]+(?:-[a-z]+)*)\"", table.group(1)):
                found.setdefault(code, str(path.relative_to(REPO)))
    return found


def test_every_code_a_module_uses_is_in_the_catalogue():
    missing = {code: where for code, where in codes_in_sources().items() if code not in CATALOGUE}
    assert not missing, f"add these codes to dsl/error_codes.py: {missing}"


def test_every_code_of_the_catalogue_is_pinned_by_a_test_with_its_exact_text():
    texts = "\n".join(path.read_text(encoding="utf-8", errors="replace") for path in (REPO / "tests").rglob("*")
                      if path.is_file() and path.suffix in (".py", ".perf", ".txt", ".md", ".csv", ".json", ".jsonl"))
    unpinned = [code for code in CATALOGUE if not re.search(rf"(error|warning|note)\[{re.escape(code)}\]: \S", texts)]
    assert not unpinned, f"codes without a test of their exact text: {unpinned}"


def test_docs_errors_md_is_generated_from_the_catalogue():
    assert (REPO / "docs" / "ERRORS.md").read_text(encoding="utf-8") == markdown(), \
        "regenerate it: python -m perfdsl.error_codes > docs/ERRORS.md"


def test_describe_one_code():
    assert describe("cycle") == (
        "error[cycle] (spec; exit status 1)\n"
        "  message: cells depend on each other in a cycle: {chain}\n"
        "  what to do: the note gives each step of the chain; one formula must stop reading the next")


def test_perfdsl_errors_lists_and_explains_codes(capsys):
    assert cli.main(["errors", "unit-mismatch"]) == 0
    assert capsys.readouterr().out.startswith("error[unit-mismatch] (spec; exit status 1)\n")
    assert cli.main(["errors"]) == 0
    listing = capsys.readouterr().out
    assert all(f"[{code}]" in listing for code in CATALOGUE)


def test_perfdsl_errors_of_an_unknown_code_is_a_usage_error(capsys):
    assert cli.main(["errors", "unit-mismatc"]) == 2
    assert "error[bad-option]: no diagnostic code 'unit-mismatc'" in capsys.readouterr().err


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_exit_status_follows_the_stage_and_severity(code):
    entry = CATALOGUE[code]
    assert entry.exit_status == (0 if entry.severity in ("warning", "note", "warning or note")
                                 else 2 if entry.stage == "usage" else 1)
