"""The number format of a workbook's metric columns (dsl/workbook_layout.py `number_format_for`), read as a person
sees the cells.

Found by a newcomer: GPU time per token in s/token was formatted `0.0000`, so mixtral_8x7b on an H100 and an H200
read 0.0008 and 0.0006 (0.000752 and 0.000646); in reports/capacity_questions.perf's `cheapest_setup` the same
column (1.31e-05 .. 0.00130) read 0.00001 .. 0.00130 and energy per token 0.003. Every value now keeps at least
three significant digits.
"""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest

from perfdsl.cli import main
from perfdsl.workbook_layout import number_format_for

REPO = Path(__file__).resolve().parent.parent


def shown(value: float, number_format: str) -> str:
    """The text Excel shows for `value` in a cell of `number_format` (the forms number_format_for gives)."""
    if number_format == "0.00E+00":
        return f"{value:.2E}"
    if number_format == "#,##0":
        return f"{value:,.0f}"
    assert re.fullmatch(r"0\.0+", number_format), number_format
    return f"{value:.{len(number_format) - 2}f}"


@pytest.fixture(scope="module")
def cheapest(tmp_path_factory) -> openpyxl.Workbook:
    out = tmp_path_factory.mktemp("formats") / "cheapest.xlsx"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(REPO)
        assert main(["eval", "reports/capacity_questions.perf", "--report", "cheapest_setup", "-o", str(out)]) == 0
    return openpyxl.load_workbook(out)


def test_every_estimate_reads_with_three_significant_digits(cheapest):
    sheet = cheapest["cheapest_setup"]
    heads = [cell.value for cell in sheet[1]]
    column = heads.index("GPU time per token (s/token)") + 1
    numbers = [cell for row in sheet.iter_rows(min_row=3, min_col=6, max_col=12) for cell in row
               if isinstance(cell.value, float)]
    assert len(numbers) == 26 * 7                            # 30 answers, 4 groups without one
    for cell in numbers:
        read = float(shown(cell.value, cell.number_format).replace(",", ""))
        # three significant digits: rounding errs by at most half a unit of the third, 0.5 / 100 of the value
        assert abs(read - cell.value) <= 0.5 / 100 * abs(cell.value), (cell.coordinate, cell.value, read)
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=3)}
    gpu_time = {model: rows[model][column - 1] for model in ("opt_125m", "llama2_7b", "qwen2_5_14b")}
    assert {model: shown(cell.value, cell.number_format) for model, cell in gpu_time.items()} == {
        "opt_125m": "1.69E-05", "llama2_7b": "4.31E-04", "qwen2_5_14b": "1.30E-03"}


def test_the_newcomers_gpu_time_per_token_keeps_its_digits():
    # mixtral_8x7b, qwen2_5_32b, qwen2_5_72b, llama3_1_8b on h100_sxm5, h200_sxm, l40s (the newcomer's `cheapest`)
    values = [0.000751718, 0.000646207, 0.00626615, 0.00164586, 0.00137692, 0.0206651, 0.00941972, 0.00735351,
              0.000260116, 0.000214268, 0.00154239]
    fmt = number_format_for(values + [None])                # the group without an answer has no value
    assert fmt == "0.000000"                                # the smallest, 0.000214, has 3 digits from the 4th decimal
    assert [shown(value, fmt) for value in values[:2]] == ["0.000752", "0.000646"]


def test_integers_and_large_values_keep_their_formats():
    assert number_format_for([1, 8, 256]) == "0.00"                      # as before: 256.00
    assert number_format_for([2.5e9, 3.1e9]) == "#,##0"
    assert number_format_for([7, 2_000_000, 3_000_000]) == "#,##0"       # whole numbers: each one exact
    assert number_format_for([7.5, 2e6, 3e6]) == "0.00E+00"              # 7.5 would read 8
    assert number_format_for([0.002, 3300.85]) == "0.00E+00"             # six decades apart: not 3300.85000
