"""`perfdsl ingest`: the function the CLI calls; its output file, stderr and exit status."""

import json
from pathlib import Path

import pytest

from perfdsl.errors import UsageError
from perfdsl.runlogs import load_runs
from perfdsl.runlogs.ingest import ingest_command


def test_seed_to_csv(repo_root, tmp_path, capsys):
    out = tmp_path / "runs.csv"
    status = ingest_command([str(repo_root / "data" / "seed_runs_a5000.csv")], str(out), None, None, None)
    assert status == 0
    assert capsys.readouterr().err == f"ingest: 12 runs from 1 log (perfdsl-csv); wrote {out}; 0 errors, 0 warnings\n"
    assert len(load_runs(out).records) == 12


def test_problems_give_status_1_and_are_printed(fixture_logs, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(fixture_logs)
    out = tmp_path / "runs.jsonl"
    latin = tmp_path / "latin.csv"
    latin.write_bytes("model,runtime [ms]\ncaf\xe9,25\n".encode("latin-1"))
    status = ingest_command(["runs_bad_row.csv", str(latin)], str(out), None, None, None)
    assert status == 1
    err = capsys.readouterr().err
    assert "--> runs_bad_row.csv:3:40 (row 2, column 'runtime [ms]')" in err
    assert f"error[log-encoding]: byte 0xe9 is not UTF-8 text\n  --> {latin}:2:4" in err
    assert err.endswith(f"ingest: 4 runs from 2 logs (perfdsl-csv); wrote {out}; 1 error, 3 warnings\n")
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines[0]["runtime [ms]"] == 693.77 and lines[0]["source"] == "runs_bad_row.csv:row 1"


def test_a_missing_log_is_bad_usage_and_nothing_is_read(fixture_logs, tmp_path, capsys, monkeypatch):
    # A file named on the command line that is not there is a usage mistake (exit 2), as a missing .perf file is
    # for `perfdsl eval`, and as `eval --measured` treats a missing log: reported before any log is read.
    monkeypatch.chdir(fixture_logs)
    out = tmp_path / "runs.jsonl"
    status = ingest_command(["runs_bad_row.csv", "missing.csv", "."], str(out), None, None, None)
    assert status == 2
    assert capsys.readouterr().err == (
        "error[no-such-file]: cannot read the run log '.': it is a folder\n"
        "  = help: name the log files inside it\n"
        "\n"
        "error[no-such-file]: cannot read the run log 'missing.csv': no such file\n"
        "  = help: check the path; a file named on the command line is read relative to the working folder\n")
    assert not out.exists()


def test_refuses_to_overwrite_an_input(fixture_logs, capsys, monkeypatch):
    monkeypatch.chdir(fixture_logs)
    before = (fixture_logs / "runs.jsonl").read_bytes()
    status = ingest_command(["runs.jsonl"], "./runs.jsonl", None, None, None)
    assert status == 2
    assert capsys.readouterr().err == (
        "error[output-is-input]: the output './runs.jsonl' is also a log to read\n"
        "  --> runs.jsonl\n"
        "  = help: write the runs to another file, e.g. -o ./runs.ingested.jsonl\n")
    assert (fixture_logs / "runs.jsonl").read_bytes() == before


def test_the_other_output_suggested_is_not_the_refused_one_nor_another_input(tmp_path, capsys, monkeypatch):
    # `ingest runs.csv -o runs.csv` was told "e.g. -o runs.csv": the very name refused.
    monkeypatch.chdir(tmp_path)
    header = "model,hardware,runtime [ms]\n"
    Path("runs.csv").write_text(header + "org/tiny,NVIDIA Card A,25\n")
    assert ingest_command(["runs.csv"], "runs.csv", None, None, None) == 2
    assert capsys.readouterr().err == (
        "error[output-is-input]: the output 'runs.csv' is also a log to read\n"
        "  --> runs.csv\n"
        "  = help: write the runs to another file, e.g. -o runs.ingested.csv\n")
    Path("runs.ingested.csv").write_text(header + "org/tiny,NVIDIA Card A,26\n")
    assert ingest_command(["runs.csv", "runs.ingested.csv"], "runs.csv", None, None, None) == 2
    assert capsys.readouterr().err.endswith("  = help: write the runs to another file, e.g. -o runs.ingested2.csv\n")
    assert ingest_command(["runs.csv"], "runs.ingested.csv", None, None, None) == 0   # the name suggested is taken


def test_meta_file_and_iso_window(shared_logs, tmp_path, capsys):
    side = tmp_path / "side.json"
    side.write_text('{"model": "meta-llama/Llama-2-7b-hf", "hardware": "NVIDIA L4"}')
    out = tmp_path / "power.csv"
    log = shared_logs / "03_nvidia_smi" / "ap461719_llama2-7b_gpu_power_log.csv"
    status = ingest_command([str(log)], str(out), "nvidia-smi", str(side),
                            "2025-04-16T19:53:18.720,2025-04-16T19:53:20.723")
    assert status == 0, capsys.readouterr().err
    [record] = load_runs(out).records
    assert record.identity == {"model": "meta-llama/Llama-2-7b-hf", "hardware": "NVIDIA L4"}
    assert record.metrics["energy"].value == pytest.approx(1.002 * (71.80 + 70.93) / 2 + 1.001 * (70.93 + 72.14) / 2)


def test_usage_mistakes_give_status_2(fixture_logs, tmp_path, capsys):
    log = str(fixture_logs / "runs.jsonl")
    assert ingest_command([log], str(tmp_path / "o.csv"), "nope", None, None) == 2
    assert ingest_command([log], str(tmp_path / "o.csv"), None, str(tmp_path / "absent.json"), None) == 2
    assert ingest_command([log], str(tmp_path / "o.csv"), None, None, "10") == 2
    err = capsys.readouterr().err
    assert "error[unknown-format]: no run-log format named 'nope'" in err
    assert "error[no-such-file]: cannot read the side metadata '" + str(tmp_path / "absent.json") + "': no such file" in err
    assert "error[bad-window]: cannot read --window '10'" in err
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("window", ["nan,5", "0,inf", "-inf,nan", "2025-01-10T12:00:00,NaN", "2025-01-10T12:00:00,1e400",
                                    "noon,one"])
def test_a_window_bound_that_is_not_a_finite_time_is_refused(fixture_logs, tmp_path, capsys, window):
    # float() reads "nan" and "inf"; a NaN bound compares false with everything and would select nothing silently.
    # Beside an ISO time, the other bound was passed on to the nvidia-smi adapter and refused there as a bad log
    # (exit 1, located at the log); it is a mistake in the command line, refused before any log is read.
    log = str(fixture_logs / "nvidia_smi_two_gpus.csv")
    assert ingest_command([log], str(tmp_path / "o.csv"), None, None, window) == 2
    assert capsys.readouterr().err == (f"error[bad-window]: cannot read --window '{window}'\n"
                                       "  = help: write START,END as epoch seconds (1744833200,1744833220) or ISO "
                                       "times (2025-04-16T19:53:20,2025-04-16T19:53:40)\n")


def test_a_window_of_epoch_seconds_and_an_iso_time_is_read(fixture_logs, tmp_path, capsys):
    """1736510400 is 2025-01-10T12:00:00Z: the window is the log's first second, where GPU 0 draws 100 W then 200 W
    (the other bound's ISO text made the epoch seconds be read as an ISO time, and refused)."""
    out = tmp_path / "o.csv"
    log = str(fixture_logs / "nvidia_smi_two_gpus.csv")
    assert ingest_command([log], str(out), None, None, "1736510400,2025-01-10T12:00:01") == 0, capsys.readouterr().err
    gpu0 = load_runs(out).records[0]
    assert gpu0.metrics["energy"].value == pytest.approx(1 * (100 + 200) / 2)


@pytest.mark.parametrize(("bound", "text"), [("NaN", "NaN"), ("Infinity", "Infinity"), ("1e400", "Infinity"),
                                             ('"nan"', "nan"), ('"noon"', "noon"), ("true", "true")])
def test_a_side_window_bound_that_is_no_time_is_refused_where_it_is_written(fixture_logs, tmp_path, capsys,
                                                                             bound, text):
    """A side file's window bound that is no time is bad-side located at that file (it was refused as a bad log,
    located at the log): a bad input file (exit 1), whether --meta names it or it is a log's own LOG.meta.json
    (--meta's was exit 2, as if its content were a mistake in the command line; test_ingest_meta.py)."""
    side = tmp_path / "side.json"
    side.write_text('{"hardware": "NVIDIA RTX A5000", "window": ["2025-01-10T12:00:00", ' + bound + ']}')
    log = str(fixture_logs / "nvidia_smi_two_gpus.csv")
    # located at the window's value: column 44, after '{"hardware": "NVIDIA RTX A5000", "window": ' (43 characters)
    at = (":1:44 (value of 'window')\n"
          "  |\n"
          f"1 | {side.read_text()}\n"
          "  |" + " " * 44 + "^" * len('["2025-01-10T12:00:00", ' + bound + ']') + "\n")
    assert ingest_command([log], str(tmp_path / "o.csv"), None, str(side), None) == 1
    assert capsys.readouterr().err == (f"error[bad-side]: cannot read the window bound '{text}'\n"
                                       f"  --> {side}{at}"
                                       "  = help: give epoch seconds or an ISO time such as 2025-04-16T19:53:20\n")
    copy = tmp_path / "power.csv"
    copy.write_text((fixture_logs / "nvidia_smi_two_gpus.csv").read_text())
    own = tmp_path / "power.csv.meta.json"
    own.write_text(side.read_text())
    assert ingest_command([str(copy)], str(tmp_path / "o.csv"), None, None, None) == 1
    assert capsys.readouterr().err == (f"error[bad-side]: cannot read the window bound '{text}'\n"
                                       f"  --> {own}{at}"
                                       "  = help: give epoch seconds or an ISO time such as 2025-04-16T19:53:20\n"
                                       "ingest: 0 runs from 1 log; nothing written; 1 error, 0 warnings\n")


def test_ingest_help_says_a_run_with_warnings_only_exits_0(fixture_logs, tmp_path, capsys):
    """The exit status line of `perfdsl ingest --help` (it said warnings exit 1), and a run that only warns."""
    from perfdsl.cli import main

    with pytest.raises(SystemExit):
        main(["ingest", "--help"])
    assert capsys.readouterr().out.endswith(
        "exit status: 0 every run written (warnings, such as skipped rows, are printed), 1 a bad log or side "
        "metadata, 2 usage errors (a log that does not exist, an output that cannot be written).\n")
    out = tmp_path / "o.csv"
    assert main(["ingest", str(fixture_logs / "runs_bad_row.csv"), "-o", str(out)]) == 0
    assert capsys.readouterr().err.endswith(f"ingest: 4 runs from 1 log (perfdsl-csv); wrote {out}; 0 errors, "
                                            "3 warnings\n")


@pytest.mark.parametrize("window", [(float("nan"), 5.0), (0.0, float("inf"))])
def test_load_runs_refuses_a_window_that_is_not_finite(fixture_logs, window):
    with pytest.raises(UsageError, match="bad-window"):
        load_runs(fixture_logs / "runs.jsonl", window=window)


@pytest.mark.parametrize("name", ["runs.csv", "runs.jsonl"])
def test_written_with_the_users_mode_and_newline_line_ends(repo_root, tmp_path, capsys, name):
    """Like any file a program creates: 0666 less the umask (0644 under umask 022), not mkstemp's 0600; '\\n'."""
    import os
    import stat

    out = tmp_path / name
    old = os.umask(0o022)
    try:
        assert ingest_command([str(repo_root / "data" / "seed_runs_a5000.csv")], str(out), None, None, None) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    data = out.read_bytes()
    assert b"\r" not in data and data.count(b"\n") == 13 - name.endswith(".jsonl")   # header + 12 runs


def test_a_field_with_a_carriage_return_is_quoted_and_reads_back(tmp_path, capsys):
    from perfdsl.runlogs.records import Measurement, RunRecord
    from perfdsl.runlogs.write import write_runs_csv
    from perfdsl.units import parse_unit

    runtime = Measurement(0.5, parse_unit("s").dim, "s")
    record = RunRecord(identity={"model": "a\rb"}, metrics={"runtime": runtime}, source="x.csv:row 1")
    out = tmp_path / "r.csv"
    write_runs_csv([record], out)
    assert out.read_bytes() == b'model,runtime [s],source\n"a\rb","0.5","x.csv:row 1"\n'
    assert load_runs(out).records[0].identity["model"] == "a\rb"


def test_ingest_help_lists_the_formats_and_the_meta_keys(capsys):
    from perfdsl.cli import main
    from perfdsl.runlogs.detect import format_names
    from perfdsl.runlogs.ingest import CONTROL_KEY_HELP
    from perfdsl.runlogs.records import IDENTITY_ORDER
    from perfdsl.runlogs.side import CONTROL_KEYS

    with pytest.raises(SystemExit):
        main(["ingest", "--help"])
    text = capsys.readouterr().out
    for name in format_names():
        assert f"\n  {name} " in text
    assert "identifying keys: " + ", ".join(IDENTITY_ORDER) in text
    assert set(CONTROL_KEY_HELP) == CONTROL_KEYS
    for key in CONTROL_KEYS:
        assert f"\n    {key} " in text


@pytest.mark.parametrize("name", ["out.csv", "out.jsonl"])
def test_a_name_both_field_and_metric_is_the_same_error_in_csv_and_json_lines(tmp_path, capsys, monkeypatch, name):
    """JSON Lines would write `runtime` beside `runtime [ms]`, which the reader cannot tell apart: refused with the
    CSV writer's check and text, and nothing written."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs.csv").write_text("model,runtime [ms]\norg/tiny,25\n")
    (tmp_path / "side.json").write_text('{"runtime": "fast"}')
    assert ingest_command(["runs.csv"], name, None, "side.json", None) == 1
    assert capsys.readouterr().err == (
        "error[column-clash]: 'runtime' is an identifying field in runs.csv:row 1 and a metric in runs.csv:row 1; "
        "one column cannot be both\n"
        "  = help: side metadata gives identifying fields (model, hardware, batch, ...): remove 'runtime' from it, "
        "or write these logs to separate files\n")
    assert not (tmp_path / name).exists()


def test_a_value_holding_line_separators_reads_back_from_json_lines(tmp_path, capsys, monkeypatch):
    """json.dumps(ensure_ascii=False) writes U+2028 and U+2029 unescaped (valid JSON); the reader splits lines at
    '\\n' only, so `ingest runs.jsonl` reads the value written, not two broken lines."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs.csv").write_text("model,runtime [ms]\norg/a\u2028b\u2029c,25\n")
    assert ingest_command(["runs.csv"], "runs.jsonl", None, None, None) == 0
    assert (tmp_path / "runs.jsonl").read_text() == (
        '{"model": "org/a\u2028b\u2029c", "runtime [ms]": 25.0, "source": "runs.csv:row 1"}\n')
    assert ingest_command(["runs.jsonl"], "back.csv", None, None, None) == 0
    assert capsys.readouterr().err.endswith("ingest: 1 run from 1 log (perfdsl-jsonl); wrote back.csv; 0 errors, "
                                            "0 warnings\n")
    assert (tmp_path / "back.csv").read_text() == ("model,runtime [ms],source\n"
                                                   "org/a\u2028b\u2029c,25.0,runs.jsonl:row 1\n")


@pytest.mark.parametrize("name", ["runs.csv", "runs.jsonl"])
def test_the_energy_names_read_back_from_ingests_output(shared_logs, tmp_path, capsys, name):
    # The GPU's energy and the machine's keep their names through perfdsl's own CSV and JSON Lines: a CodeCarbon
    # record and the optimum-benchmark report behind it, each value as the log wrote it (kWh -> J)
    folder = shared_logs / "01_optimum_benchmark"
    logs = [folder / "benchlab_llama3.1-8b_H100_energy_star_ultrachat1000.prefill_codecarbon.json",
            folder / "benchlab_llama3.1-8b_H100_energy_star_ultrachat1000.benchmark.json"]
    out = tmp_path / name
    assert ingest_command([str(log) for log in logs], str(out), None, None, None) == 0
    capsys.readouterr()
    codecarbon, report = load_runs(out).records
    kwh = 3.6e6
    assert codecarbon.metrics["energy"].value == pytest.approx(0.07468241252354346 * kwh)  # gpu_energy
    assert codecarbon.metrics["power"].value == pytest.approx(687.9673516831513)  # gpu_power
    assert codecarbon.metrics["machine_energy"].value == pytest.approx(0.08172944713225458 * kwh)  # energy_consumed
    assert report.metrics["prefill_energy"].value == pytest.approx(0.07468241252354346 * kwh)  # energy.gpu
    assert report.metrics["prefill_machine_energy"].value == pytest.approx(0.08172944713225458 * kwh)
    assert report.metrics["decode_machine_energy_per_token"].value == pytest.approx(kwh / 7059021.617039943)
    direct = load_runs(logs)
    assert [sorted(r.metrics) for r in direct.records] == [sorted(codecarbon.metrics), sorted(report.metrics)]


def test_a_log_named_twice_is_read_once_with_a_note(repo_root, tmp_path, monkeypatch, capsys):
    # `ingest runs.csv ./runs.csv` wrote every run twice without a word (eval took them for repeated runs).
    from perfdsl.cli import main

    monkeypatch.chdir(repo_root)
    out = tmp_path / "runs.csv"
    assert main(["ingest", "data/seed_runs_a5000.csv", "./data/seed_runs_a5000.csv", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert err.startswith("note[log-named-twice]: the log './data/seed_runs_a5000.csv' is named twice (as "
                          "'data/seed_runs_a5000.csv'): read once\n")
    assert len(out.read_text().splitlines()) == 1 + 12           # the header and the log's 12 runs, once
