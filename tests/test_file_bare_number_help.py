"""A bare number in a FILE is helped as --set helps it (overrides.bare_number_help): read in SI, then in the unit the
replaced cell is written in. `hardware g extends h100_sxm5 { mem_bw = 4800 }` (h100_sxm5 writes `mem_bw = 3350
GB/s`, hardware/hopper.perf; gpu.perf declares `mem_bw: byte/s`) was told `mem_bw = 4800 byte/s`, 4.8 kB/s: followed
literally, it gave a time-to-first-token of about 1.6e10 ms without a warning, where `--set h100_sxm5.mem_bw=4800`
offers "4800 B/s" or "4800 GB/s". Each test fails on the old code."""

from __future__ import annotations

from pathlib import Path

from perfdsl import cli

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = str(REPO / "reports" / "example.perf")


def run(tmp_path: Path, monkeypatch, capsys, text: str, *args: str) -> tuple[int, str, str]:
    """`perfdsl ARGS` in tmp_path holding `text` as f.perf: the exit status, stdout and stderr."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f.perf").write_text(text)
    capsys.readouterr()
    status = cli.main(list(args))
    out = capsys.readouterr()
    return status, out.out, out.err


def helps(err: str) -> list[str]:
    return [line.strip() for line in err.splitlines() if line.strip().startswith("= help")]


def test_a_bare_bandwidth_over_a_library_gpu_is_read_in_si_and_in_the_library_unit(tmp_path, monkeypatch, capsys):
    text = 'import "hardware/hopper.perf"\nhardware g extends h100_sxm5 { mem_bw = 4800 }\n'
    status, out, err = run(tmp_path, monkeypatch, capsys, text, "check", "--no-cache", "f.perf")
    assert (status, out) == (1, "")
    assert err.splitlines()[0] == "error[unit-mismatch]: 'mem_bw' is declared as byte/s but its formula gives count"
    # 4800 in SI is 4800 B/s (no prefix: the number as it is), then in h100_sxm5's GB/s.
    assert helps(err) == ["= help: '4800' has no unit: write the one meant, e.g. `mem_bw = 4800 B/s` or "
                          "`mem_bw = 4800 GB/s`"]


def test_the_file_and_set_offer_the_same_readings(tmp_path, monkeypatch, capsys):
    """The same number over the same cell: the file's help and --set's name the same values."""
    text = 'import "hardware/ampere_workstation.perf"\nhardware g extends rtx_a5000 { mem_bw = 6e12 }\n'
    status, _, err = run(tmp_path, monkeypatch, capsys, text, "check", "--no-cache", "f.perf")
    assert status == 1
    # 6e12 byte/s = 6 TB/s; rtx_a5000 writes `mem_bw = 768 GB/s`.
    assert helps(err) == ["= help: '6e12' has no unit: write the one meant, e.g. `mem_bw = 6 TB/s` (6e12 read in "
                          "byte/s) or `mem_bw = 6e12 GB/s`"]
    status, _, err = run(tmp_path, monkeypatch, capsys, "", "eval", EXAMPLE, "--set", "rtx_a5000.mem_bw=6e12")
    assert status == 2
    assert helps(err) == ["= help: '6e12' has no unit: write the one meant, e.g. --set rtx_a5000.mem_bw=\"6 TB/s\" "
                          "(6e12 read in byte/s) or --set rtx_a5000.mem_bw=\"6e12 GB/s\""]


def test_a_bare_peak_over_a_library_gpu_in_tflops(tmp_path, monkeypatch, capsys):
    """The declared-unit case: `peak_fp16 = 989.4e12` for a cell declared FLOP/s that h100_sxm5 writes in TFLOP/s
    (it was told `peak_fp16 = 989.4e12 FLOP/s` alone)."""
    text = 'import "hardware/hopper.perf"\nhardware g extends h100_sxm5 { peak_fp16 = 989.4e12 }\n'
    status, _, err = run(tmp_path, monkeypatch, capsys, text, "check", "--no-cache", "f.perf")
    assert status == 1
    assert helps(err) == ["= help: '989.4e12' has no unit: write the one meant, e.g. `peak_fp16 = 989.4 TFLOP/s` "
                          "(989.4e12 read in FLOP/s) or `peak_fp16 = 989.4e12 TFLOP/s`"]


def test_an_undeclared_override_a_sweep_and_a_set_take_the_same_help(tmp_path, monkeypatch, capsys):
    text = ("hardware base { mem_bw = 3350 GB/s; t = 5 ms }\n"
            "hardware g extends base { mem_bw = 4.8e12; t = 5 }\n"
            "hardware g2 extends base { sweep mem_bw = [4800, 5000] }\n"
            "set { base.mem_bw = 4800 }\n")
    status, _, err = run(tmp_path, monkeypatch, capsys, text, "check", "--no-cache", "f.perf")
    assert status == 1
    assert helps(err) == [
        # 4.8e12 byte/s = 4.8 TB/s (it was offered `4.8e12 GB/s` alone, 1e9 times that)
        "= help: '4.8e12' has no unit: write the one meant, e.g. `mem_bw = 4.8 TB/s` (4.8e12 read in byte/s) or "
        "`mem_bw = 4.8e12 GB/s`",
        "= help: an override keeps the dimension of the cell it replaces",
        # a time in the unit the cell is written in and the one below, as --set's (it offered `5 ms` alone)
        "= help: '5' has no unit: write the one meant, e.g. `t = 5 us` or `t = 5 ms`",
        "= help: an override keeps the dimension of the cell it replaces",
        "= help: '4800' has no unit: write the one meant, e.g. `4800 B/s` or `4800 GB/s`",
        "= help: an override keeps the dimension of the cell it replaces",
        # a file's `set` had no help at all
        "= help: '4800' has no unit: write the one meant, e.g. `base.mem_bw = 4800 B/s` or "
        "`base.mem_bw = 4800 GB/s`",
    ]
