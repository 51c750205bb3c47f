"""Matching measured runs to a report's sweep points, and the workbook data built from them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import perfdsl

REPO = Path(__file__).resolve().parents[1]
from perfdsl.cli import main
from perfdsl.matching import compare_with_runs
from perfdsl.workbook_export import build_workbook_data

SPEC = Path(__file__).parent / "fixtures" / "specs" / "matching.perf"


@pytest.fixture(scope="module")
def comparison():
    result = perfdsl.load(SPEC).evaluate()
    return compare_with_runs(result)


def test_runs_match_by_hf_id_label_block_name_and_plain_fields(comparison):
    runtime = next(m for m in comparison.metrics if m.name == "runtime")
    records = comparison.result.records()
    by_point = {(r["model"], r["hardware"], r["n_gpus"]): i for i, r in enumerate(records)}
    assert runtime.measured[by_point[("tiny", "card_a", 1)]] == pytest.approx(25e-3)
    assert runtime.measured[by_point[("tiny", "card_a", 8)]] == pytest.approx(40e-3)
    # the third run names its model and hardware by block name
    assert runtime.measured[by_point[("small", "card_b", 1)]] == pytest.approx(16e-3)


def test_measured_throughput_is_derived_from_tokens_and_runtime(comparison):
    throughput = next(m for m in comparison.metrics if m.name == "throughput")
    assert throughput.derived
    records = comparison.result.records()
    point = next(i for i, r in enumerate(records) if (r["model"], r["hardware"], r["n_gpus"]) == ("tiny", "card_a", 1))
    assert throughput.measured[point] == pytest.approx(1000 / 25e-3)


def test_errors_use_the_measured_value_by_default(comparison):
    runtime = next(m for m in comparison.metrics if m.name == "runtime")
    records = comparison.result.records()
    point = next(i for i, r in enumerate(records) if (r["model"], r["hardware"], r["n_gpus"]) == ("tiny", "card_a", 1))
    estimated = 2 * 1e9 * 1000 / 100e12                     # 0.02 s
    assert comparison.error(runtime)[point] == pytest.approx((estimated - 25e-3) / 25e-3)


def test_unmatched_runs_estimates_and_unusable_rows_are_listed(comparison):
    kinds = {}
    for item in comparison.unmatched:
        kinds.setdefault(item.kind, []).append(item)
    assert [u.description for u in kinds["run without estimate"]] == [
        "model=org/unknown, hardware=NVIDIA Card A, n_gpus=1, tokens=1000 (model 'org/unknown' is not in the report)"]
    assert len(kinds["estimate without run"]) == 8 - 3      # 8 points, 3 runs matched (row 5 has no metric left)
    assert any("row 5" in u.source or "line 6" in u.source for u in kinds["unusable row"])


def test_workbook_data_has_sections_identity_columns_and_inputs(comparison):
    data = build_workbook_data(comparison.result, comparison)
    assert [s.title for s in data.sections] == ["Single GPU", "Multi GPU"]
    single = data.sections[0]
    assert single.id_columns == ["Model", "Device", "n_gpus"]     # shown strings, then the value axes
    assert [m.name for m in single.metrics] == ["runtime", "throughput"]
    first = single.rows[0]
    assert first.identity == {"Model": "org/tiny", "Device": "NVIDIA Card A", "n_gpus": 1}
    assert first.estimated["runtime"] == pytest.approx(20.0)          # 0.02 s in ms
    assert first.measured["runtime"] == pytest.approx(25.0)
    cells = {(c.block, c.cell) for c in data.inputs}
    assert ("card_a", "peak") in cells and ("cost", "runtime") in cells


def test_eval_json_carries_measured_values_and_errors(tmp_path, capsys):
    status = main(["eval", str(SPEC), "--format", "json"])
    captured = capsys.readouterr()
    assert status == 0
    records = json.loads(captured.out)
    first = records[0]
    assert first["runtime [ms]"] == pytest.approx(20.0)
    assert first["runtime measured [ms]"] == pytest.approx(25.0)
    assert first["runtime error [%]"] == pytest.approx((20.0 - 25.0) / 25.0 * 100)      # percent, as the workbook
    assert "1 run without an estimate" in captured.err
    assert "Traceback" not in captured.err


def test_eval_writes_a_workbook_and_refuses_to_overwrite_a_run_log(tmp_path, capsys):
    out = tmp_path / "report.xlsx"
    assert main(["eval", str(SPEC), "-o", str(out)]) == 0
    assert out.exists()
    log = SPEC.parent.parent / "logs" / "matching_runs.csv"
    before = log.read_bytes()
    assert main(["eval", str(SPEC), "--measured", str(log), "-o", str(log)]) == 2
    assert log.read_bytes() == before


def test_a_report_can_take_its_sweep_points_from_the_runs(capsys):
    spec = SPEC.parent / "points_from_runs.perf"
    assert main(["eval", str(spec), "--report", "from_runs", "--format", "json"]) == 0
    captured = capsys.readouterr()
    records = json.loads(captured.out)
    # The runs name tiny and small (by hf_id and by block name), card_a and card_b, n_gpus 1 and 8: the report
    # sweeps those and keeps the points a run matched, one row per usable run that names known blocks.
    seen = {(r["model"], r["hardware"], r["n_gpus"]) for r in records}
    assert seen == {("tiny", "card_a", 1), ("tiny", "card_a", 8), ("small", "card_b", 1)}
    assert all(r["runtime measured [ms]"] is not None for r in records)
    assert "without a run" not in captured.err


def test_eval_reads_the_run_logs_once_when_the_points_come_from_them(monkeypatch, capsys):
    import perfdsl.runlogs as runlogs

    reads = []
    real = runlogs.load_runs

    def counting(paths):
        reads.append(tuple(paths))
        return real(paths)

    monkeypatch.setattr(runlogs, "load_runs", counting)
    spec = SPEC.parent / "points_from_runs.perf"
    assert main(["eval", str(spec), "--report", "from_runs", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 3
    assert len(reads) == 1, reads


def test_command_line_overrides_win_over_the_runs(capsys):
    spec = SPEC.parent / "points_from_runs.perf"
    assert main(["eval", str(spec), "--report", "from_runs", "--format", "json", "--set", "model=tiny"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert {r["Model"] for r in records} == {"org/tiny"}


def test_eval_never_writes_over_an_imported_file_or_the_reports_run_log(tmp_path, capsys):
    imported = SPEC.parent / "matching.perf"
    log = SPEC.parent.parent / "logs" / "matching_runs.csv"
    before = imported.read_bytes(), log.read_bytes()
    spec = SPEC.parent / "points_from_runs.perf"          # imports matching.perf; its report names the log
    assert main(["eval", str(spec), "--report", "from_runs", "-o", str(imported), "--format", "csv"]) == 2
    assert main(["eval", str(spec), "--report", "from_runs", "-o", str(log)]) == 2
    assert (imported.read_bytes(), log.read_bytes()) == before
    assert "refusing to write over the input" in capsys.readouterr().err


def test_a_question_keeps_the_measured_runs_of_its_rows():
    program = perfdsl.load(SPEC, texts={"question.perf": "report one_gpu extends matched {\n"
                                                         "    smallest n_gpus per model, hardware\n}\n"})
    comparison = compare_with_runs(program.evaluate("one_gpu"))
    keys, columns = comparison.table()
    rows = [dict(zip(keys, values)) for values in zip(*(c.tolist() for c in columns))]
    assert [(r["model"], r["hardware"], r["n_gpus"]) for r in rows] == [
        ("tiny", "card_a", 1), ("tiny", "card_b", 1), ("small", "card_a", 1), ("small", "card_b", 1)]
    measured = [r["runtime measured [ms]"] for r in rows]
    assert measured[0] == pytest.approx(25.0) and measured[3] == pytest.approx(16.0)
    assert all(v != v for v in measured[1:3])                    # NaN: no run for those points
    assert rows[0]["runtime error [%]"] == pytest.approx(100 * (2 * 1e9 * 1000 / 100e12 * 1e3 - 25.0) / 25.0)
    data = build_workbook_data(comparison.result, comparison)
    assert sum(len(section.rows) for section in data.sections) == 4


def test_a_run_read_with_an_assumption_is_listed_as_kept_not_unusable(tmp_path):
    # The published format reads "NVIDIA A100 (80GB assumed; SKU not stated)" as the 80 GB SXM4 part and says so;
    # that row is still read and matched, so the Unmatched sheet must not call it unusable.
    log = REPO / "tests" / "fixtures" / "logs" / "published" / "sample.csv"
    (tmp_path / "r.perf").write_text('costmodel c { x = 1 s }\nreport r { show c.x in s }\n')
    result = perfdsl.load([tmp_path / "r.perf"]).evaluate()
    kinds = {}
    for item in compare_with_runs(result, logs=[str(log)]).unmatched:
        kinds.setdefault(item.kind, []).append(item.description)
    assert any("assumed" in text for text in kinds["run kept, with a note"])
    assert not any("assumed" in text for text in kinds.get("unusable row", []))


SHARED_HF_ID = """hardware card_a { label = "NVIDIA Card A"; peak = 100 TFLOP/s }
model tiny { hf_id = "org/tiny"; params = 1e9 }
model my_tiny { hf_id = "org/tiny"; params = 2e9 }
costmodel cost { runtime = 2 FLOP * model.params * 1000 / hardware.peak }
report r {
    sweep model = [tiny, my_tiny]
    hardware = card_a
    show cost.runtime in ms as runtime
}
"""


def test_a_run_whose_hf_id_two_swept_models_share_is_an_ambiguous_match_compared_with_neither(tmp_path, capsys):
    # A copy of a library model that keeps its hf_id: the run names both blocks. It used to go to the first block
    # of the sweep, silently; it is compared with neither, and the warning says how to name the block.
    (tmp_path / "r.perf").write_text(SHARED_HF_ID)
    (tmp_path / "runs.csv").write_text("model,hardware,runtime [ms]\norg/tiny,NVIDIA Card A,25\n"
                                       "my_tiny,NVIDIA Card A,41\n")
    status = main(["eval", str(tmp_path / "r.perf"), "--measured", str(tmp_path / "runs.csv"), "--format", "json"])
    captured = capsys.readouterr()
    assert status == 0
    log = tmp_path / "runs.csv"
    assert captured.err.split("\n\n")[0] == (
        "warning[unmatched]: 1 ambiguous match: a run that matches several sweep points is compared with none of them\n"
        f"  --> {log} (row 1)\n"
        "  = note: model=org/tiny, hardware=NVIDIA Card A matches 2 sweep points: model=tiny; model=my_tiny "
        f"({log}:row 1)\n"
        "  = help: model 'org/tiny' is the hf_id of 2 blocks (tiny, my_tiny): give each block its own hf_id, or name "
        "the block in the runs' 'model' column (e.g. my_tiny)")
    records = json.loads(captured.out)
    # the run that names its block by name is compared; the ambiguous one with neither point
    assert [(r["model"], r.get("runtime measured [ms]")) for r in records] == [("tiny", None), ("my_tiny", 41)]


def test_a_block_name_wins_over_another_blocks_label(tmp_path):
    from perfdsl.matching import block_aliases

    (tmp_path / "r.perf").write_text(SHARED_HF_ID + 'model org_b { hf_id = "tiny"; params = 1e9 }\n')
    program = perfdsl.load([tmp_path / "r.perf"])
    aliases = block_aliases(program, ["tiny", "my_tiny", "org_b"])
    assert aliases["org/tiny"] == ("tiny", "my_tiny")
    assert aliases["tiny"] == ("tiny",)          # the name, not org_b's hf_id


def test_a_column_of_the_wrong_dimension_is_one_warning_at_its_header(tmp_path, capsys):
    # The seed table with its memory column headed 'memory [s]': the 12 runs matched give one warning at the header
    # cell (line 1, column 43 = len("model,hardware,n_gpus,tokens,runtime [ms],") + 1) that counts them, not 12 warnings
    # located only in help lines.
    text = (REPO / "data" / "seed_runs_a5000.csv").read_text().replace("memory [GB]", "memory [s]", 1)
    log = tmp_path / "runs.csv"
    log.write_text(text)
    header = text.splitlines()[0]
    assert main(["eval", str(REPO / "reports" / "seed_benchmark.perf"), "--measured", str(log),
                 "-o", str(tmp_path / "out.csv")]) == 0
    err = capsys.readouterr().err
    assert err.count("unit-mismatch") == 1
    col = len("model,hardware,n_gpus,tokens,runtime [ms],") + 1
    assert err.startswith(
        "warning[unit-mismatch]: column 'memory [s]' is a duration (s), but the report shows 'memory.peak' as a "
        "memory size (byte); not compared (12 rows)\n"
        f"  --> {log}:1:{col} (column 'memory [s]')\n"
        "  |\n"
        f"1 | {header}\n"
        f"  | {' ' * (col - 1)}{'^' * len('memory [s]')}\n"
        "  = note: not compared in 12 rows: row 1, row 2, row 3, row 4, row 5, ...\n"
        "  = help: write the column in a unit of byte, e.g. 'memory [GiB]', or name it after the metric it measures\n")


def test_a_run_whose_value_no_point_takes_says_which_and_the_values_there_are(capsys):
    # The seed's 8-GPU runs against the report held at one GPU were listed without a reason, where a run of another
    # model said "model '...' is not in the report".
    from perfdsl.cli import main

    root = Path(__file__).resolve().parents[1]
    assert main(["eval", str(root / "reports" / "seed_benchmark.perf"), "--set", "n_gpus=1", "--measured",
                 str(root / "data" / "seed_runs_a5000.csv"), "--format", "csv"]) == 0
    err = capsys.readouterr().err
    assert ("  = note: model=facebook/opt-1.3b, hardware=NVIDIA RTX A5000, n_gpus=8, tokens=16384 (n_gpus 8 is not "
            f"among the report's values (1)) ({root / 'data' / 'seed_runs_a5000.csv'}:row 7)\n") in err
