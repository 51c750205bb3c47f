"""Faults found while writing the API's docstrings: a `set` that breaks a declared choice, a JSON integer beyond a
float's range in a run log, a config value of Infinity, and ingest's output where one log cannot be read."""

from __future__ import annotations

from perfdsl.cli import main


def test_a_set_value_is_checked_against_the_choice_it_replaces(tmp_path, capsys):
    (tmp_path / "a.perf").write_text('workload hw { power_model: "tdp" | "utilisation" = "tdp" }\n'
                                     'costmodel c { x = if(workload.power_model == "tdp", 1, 2) }\n'
                                     'report r { workload = hw; show c.x }\n', encoding="utf-8")
    (tmp_path / "b.perf").write_text('import "a.perf"\nset { hw.power_model = "utilization" }\n', encoding="utf-8")
    assert main(["check", str(tmp_path / "b.perf")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error[bad-choice]: 'power_model' is one of \"tdp\" or \"utilisation\", not \"utilization\"\n"
                          f"  --> {tmp_path / 'b.perf'}:2:24\n")


def test_a_json_integer_beyond_a_float_is_a_warning_not_a_crash(tmp_path, capsys):
    log = tmp_path / "big.jsonl"
    log.write_text('{"model": "m", "runtime [ms]": 1' + "0" * 400 + "}\n", encoding="utf-8")
    # Its one row skipped, the log gives no run: error[no-rows], exit status 1 (the value itself is a warning).
    assert main(["ingest", str(log), "-o", str(tmp_path / "runs.csv")]) == 1
    err = capsys.readouterr().err
    assert "warning[bad-value]: cannot read 1" + "0" * 400 + " as a number for key 'runtime [ms]'" in err
    assert "error[no-rows]: no row of this log could be used" in err
    assert "error[internal]" not in err and not (tmp_path / "runs.csv").exists()


def test_a_config_value_of_infinity_is_a_bad_config(tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_text('{"model_type": "llama", "hidden_size": Infinity}\n', encoding="utf-8")
    assert main(["import-hf", str(config), "--hf-id", "org/name"]) == 1
    assert capsys.readouterr().err == (
        f"error[bad-config]: 'hidden_size' in '{config}' is Infinity, not a whole number\n"
        f"  --> {config}:1:40\n"
        "  |\n"
        '1 | {"model_type": "llama", "hidden_size": Infinity}\n'
        "  |                                        ^^^^^^^^\n"
        '  = help: config.json gives counts as JSON whole numbers: 4096, not "4096", 4096.5 or true\n'
        "\n1 error\n")


def test_ingest_writes_the_runs_it_read_and_exits_1_for_a_log_it_cannot_read(tmp_path, capsys):
    # README's command table and docs/LANGUAGE.md "Measured runs" say so: the good log's runs are written, the bad
    # file is an error at that file, and the status is 1.
    good, bad, out = tmp_path / "runs.csv", tmp_path / "notes.txt", tmp_path / "out.csv"
    good.write_text("model,n_gpus,runtime [ms]\nm,1,25\nm,2,14\n", encoding="utf-8")
    bad.write_text("hello\nworld\n", encoding="utf-8")
    assert main(["ingest", str(good), str(bad), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error[unknown-format]: cannot tell which format this log is: a header none of the formats "
                          f"has (hello)\n  --> {bad}\n")
    assert err.endswith(f"ingest: 2 runs from 2 logs (perfdsl-csv); wrote {out}; 1 error, 0 warnings\n")
    assert out.read_text(encoding="utf-8").splitlines() == [
        "model,n_gpus,runtime [ms],source", f"m,1,25.0,{good}:row 1", f"m,2,14.0,{good}:row 2"]
