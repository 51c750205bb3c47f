"""`perfdsl ingest --meta SIDE.json`: a side-metadata file that cannot be used, through the whole command.

The rule is the README's and the other log options': a file named on the command line that is not there (no such
file, or a folder) is a mistake in the command line, `error[no-such-file]`, exit status 2, reported before anything
is read; a file that is there but whose content cannot be used (the system refuses to read it, bytes that are not
UTF-8, JSON that does not parse, JSON that is not side metadata) is a bad input, exit status 1, located at the file
(and its line and column where the error has one), as a bad run log is, and as the same file beside a log
(LOG.meta.json) is. --meta's content errors were exit status 2, a mistake in the command line. Nothing is written
in either case: the side metadata would be missing from every run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from perfdsl.cli import main

LOG = "model,runtime [ms]\norg/tiny,25\n"


@pytest.fixture
def ingest(tmp_path, monkeypatch, capsys):
    """ingest(meta) -> (exit status, stderr) of `perfdsl ingest log.csv --meta META -o out.csv` in tmp_path, which
    holds log.csv; asserts that nothing was written."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "log.csv").write_text(LOG)

    def run(meta: str) -> tuple[int, str]:
        status = main(["ingest", "log.csv", "--meta", meta, "-o", "out.csv"])
        assert not (tmp_path / "out.csv").exists()
        return status, capsys.readouterr().err

    return run


def test_a_missing_meta_file_is_bad_usage(ingest):
    assert ingest("side.json") == (2, (
        "error[no-such-file]: cannot read the side metadata 'side.json': no such file\n"
        "  = help: check the path; a file named on the command line is read relative to the working folder\n"))


def test_a_folder_is_bad_usage_and_the_hint_names_a_file_not_logs(ingest, tmp_path):
    (tmp_path / "meta").mkdir()
    assert ingest("meta") == (2, (
        "error[no-such-file]: cannot read the side metadata 'meta': it is a folder\n"
        "  = help: name the file inside it\n"))


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads a file of mode 000")
def test_a_file_without_read_permission_is_a_bad_input(ingest, tmp_path):
    side = tmp_path / "side.json"
    side.write_text('{"hardware": "NVIDIA RTX A5000"}')
    side.chmod(0)
    try:
        assert ingest("side.json") == (1, "error[log-unreadable]: cannot read the file: Permission denied\n"
                                          "  --> side.json\n")
    finally:
        side.chmod(0o644)


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="no /proc/self/mem on this system")
def test_a_file_the_system_refuses_to_read_is_a_bad_input(ingest):
    """/proc/self/mem exists, is no folder, and reading it from offset 0 (unmapped) fails with EIO, as root too:
    a file the system refuses, where chmod 000 cannot make one for root."""
    assert ingest("/proc/self/mem") == (1, "error[log-unreadable]: cannot read the file: Input/output error\n"
                                           "  --> /proc/self/mem\n")


# (file content, the error that follows its "--> FILE" line's location, and the lines after it)
BAD_CONTENT = {
    "bad UTF-8": (b'{"hardware": "RTX \xff"}', "log-encoding", "byte 0xff is not UTF-8 text", ":1:19", (
        "  |\n"
        '1 | {"hardware": "RTX \ufffd"}\n'
        "  |                   ^\n"
        "  = help: run logs are UTF-8 text files (CSV, JSON, JSON Lines): save the log as UTF-8\n")),
    "malformed JSON": (b'{"hardware": "NVIDIA RTX A5000",\n "n_gpus": }\n', "bad-json",
                       "not valid JSON: Expecting value", ":2:12", (
        "  |\n"
        '2 |  "n_gpus": }\n'
        "  |            ^\n")),
    "not an object": (b'["NVIDIA RTX A5000"]', "bad-side", "side metadata must be a JSON object", "", (
        '  = help: write e.g. {"hardware": "NVIDIA H100 80GB HBM3", "n_gpus": 8}\n')),
    "a count that is not whole": (b'{"batch": 1.5}', "bad-side",
                                  "cannot use 1.5 for 'batch': 'batch' must be a whole number",
                                  ":1:11 (value of 'batch')", (
        "  |\n"
        '1 | {"batch": 1.5}\n'
        "  |           ^^^\n"
        "  = help: write counts as whole numbers, names as text\n")),
}


@pytest.mark.parametrize("case", BAD_CONTENT)
def test_content_that_cannot_be_used_is_a_bad_input_located_at_the_file(ingest, tmp_path, case):
    data, code, message, where, rest = BAD_CONTENT[case]
    (tmp_path / "side.json").write_bytes(data)
    assert ingest("side.json") == (1, f"error[{code}]: {message}\n  --> side.json{where}\n" + rest)


@pytest.mark.parametrize("case", BAD_CONTENT)
def test_the_same_file_beside_the_log_gives_the_same_error_and_status(tmp_path, monkeypatch, capsys, case):
    """The rule --meta now follows: the log's own LOG.meta.json with the same content, read with the log."""
    data, code, message, where, rest = BAD_CONTENT[case]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "log.csv").write_text(LOG)
    (tmp_path / "log.csv.meta.json").write_bytes(data)
    assert main(["ingest", "log.csv", "-o", "out.csv"]) == 1
    assert capsys.readouterr().err == (f"error[{code}]: {message}\n  --> log.csv.meta.json{where}\n" + rest
                                       + "ingest: 0 runs from 1 log; nothing written; 1 error, 0 warnings\n")


def test_misspelt_meta_keys_are_warned_at_ingest_and_at_eval(tmp_path, monkeypatch, capsys, repo_root):
    """The validation engineer's case: `--meta` with 'hardwre' and 'n_gpu'. Any name is an identifying field (as
    `ingest --help` says), so the keys are kept and the exit status stays 0; but ingest warns at each key with the
    known key meant, and eval of the seed report (which sweeps hardware and n_gpus) warns at each column with the
    report's field meant and says why the run is compared with nothing (it matches 2 GPUs x 2 counts = 4 points)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "log.csv").write_text("model,runtime [ms]\nfacebook/opt-1.3b,693.77\n")
    (tmp_path / "side.json").write_text('{"hardwre": "NVIDIA RTX A5000",\n "n_gpu": 1}\n')
    assert main(["ingest", "log.csv", "--meta", "side.json", "-o", "runs.csv"]) == 0
    err = capsys.readouterr().err
    assert "warning[misspelt-side-key]: the side metadata's key 'hardwre' is no field perfdsl knows" in err
    assert "  --> side.json:1:2 (key 'hardwre')\n" in err and "  --> side.json:2:2 (key 'n_gpu')\n" in err
    assert "= help: did you mean 'hardware'?" in err and "= help: did you mean 'n_gpus'?" in err
    assert err.endswith("ingest: 1 run from 1 log (perfdsl-csv); wrote runs.csv; 0 errors, 2 warnings\n")

    assert main(["eval", str(repo_root / "reports" / "seed_benchmark.perf"), "--measured", "runs.csv",
                 "--format", "csv"]) == 0
    err = capsys.readouterr().err
    assert ("warning[unused-run-field]: the runs' field 'hardwre' matches no cell of the report, so matching does "
            "not use it; the runs do not give 'hardware', so a run matches every 'hardware' of the report and, "
            "matching several points, is compared with none\n  --> runs.csv:1:7 (column 'hardwre')\n") in err
    assert "  = help: did you mean 'n_gpus'?\n" in err
    assert f"matches {2 * 2} sweep points" in err


def test_misspelt_keys_of_the_side_files_beside_the_logs_are_warned_once_each(tmp_path, monkeypatch, capsys):
    # A LOG.meta.json with 'hardwar' and the folder's perfdsl-meta.json with 'modle' (two letters swapped) were
    # taken in silence: the output had a 'hardwar' column and exit 0, where --meta warned. Said once a file, also
    # when --meta names the log's own side file.
    monkeypatch.chdir(tmp_path)
    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text("model,runtime [ms]\nfacebook/opt-1.3b,693.77\n")
    (tmp_path / "a.csv.meta.json").write_text('{"hardwar": "NVIDIA RTX A5000"}\n')
    (tmp_path / "perfdsl-meta.json").write_text('{"n_gpus": 1, "modle": "x"}\n')
    for meta in ([], ["--meta", "a.csv.meta.json"]):
        assert main(["ingest", "a.csv", "b.csv", *meta, "-o", "runs.csv"]) == 0
        err = capsys.readouterr().err
        assert err.count("warning[misspelt-side-key]") == 2, err
        assert "key 'hardwar' is no field perfdsl knows" in err and "a.csv.meta.json:1:2 (key 'hardwar')" in err
        assert "key 'modle' is no field perfdsl knows" in err and "perfdsl-meta.json:1:15 (key 'modle')" in err
        assert "= help: did you mean 'model'?" in err
        assert err.endswith("0 errors, 2 warnings\n")


def test_a_truncated_meta_file_is_told_as_a_side_file(ingest, tmp_path):
    # The help said "the log was cut short (copied while the run was still writing it ...)" of a side file.
    (tmp_path / "side.json").write_text('{"hardware": "NVIDIA L4",\n "n_gpus": 1')
    status, err = ingest("side.json")
    assert status == 1
    assert err.splitlines()[0] == ("error[bad-json]: the file ends early, at line 2, before its JSON closes (about 1 "
                                   "bracket still open): it looks truncated")
    assert "  = help: the side file was cut short, or its JSON is not closed: end it with its closing brackets" \
        in err.splitlines()
