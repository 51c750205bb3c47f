"""A bare number for a cell declared with a unit, in a file (`peak_fp16 = 989.4e12` in a GPU that extends the bundled
`gpu`, whose `peak_fp16: FLOP/s`), got error[unit-mismatch] with no help, where `4800 GB` for a byte/s cell is told
"the rate is written '4800 GB/s'" and `--set x=5` for a cell in s "e.g. --set x=\"5 s\"". Now the help keeps the
number and writes it with the unit the cell is declared in (a time: in that unit or the one below, as --set's help
does), a formula that gives a plain count is told the quantity it needs, and so is a sweep of bare numbers. Each test
failed on the old code, which gave no help (or, for a time, "one side is a rate and the other an amount")."""

from __future__ import annotations

from pathlib import Path

from perfdsl import cli

REPO = Path(__file__).resolve().parent.parent
GPU_PERF = REPO / "hardware" / "gpu.perf"


def _line_of(path: Path, start: str) -> int:
    """The 1-based line of `path` that starts with `start` (the place a diagnostic quotes, found, not copied)."""
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(start))


def run(tmp_path: Path, monkeypatch, capsys, text: str, *args: str) -> tuple[int, str, str]:
    """`perfdsl ARGS` in tmp_path holding `text` as f.perf: the exit status, stdout and stderr."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f.perf").write_text(text)
    status = cli.main(list(args))
    out = capsys.readouterr()
    return status, out.out, out.err


# The newcomer's H200 (their u2.perf), written from ../shared/reference/gpus.csv row "NVIDIA H200 SXM 141GB" (sources:
# aiwiki.ai/wiki/nvidia_h200, aiminingco.com/gpu/h200/specs, hmc-tech.com, ai-hpc.github.io 8x-H200 page), with
# peak_fp16 written as a bare number.
H200 = """\
import "hardware/gpu.perf"

hardware my_h200 extends gpu {
    vendor   = "NVIDIA"
    arch     = "Hopper"
    label    = "NVIDIA H200 (mine)"
    sm_count = 132                         # gpus.csv: 132
    boost_clock: Hz = 1980 MHz             # gpus.csv: "1980 (hmc-tech)"
    peak_fp32       = 66.9 TFLOP/s         # gpus.csv: 66.9
    peak_tf32       = 989 TFLOP/s / 2      # gpus.csv: "494.7 (989 sparse)"
    peak_fp16       = 989.4e12     # gpus.csv: "989.4 (1979 sparse)"
    peak_fp16_acc16 = peak_fp16            # gpus.csv: 989.4
    peak_fp8        = 3958 TFLOP/s / 2     # gpus.csv: "1978.9 (3958 sparse)"
    peak_int8       = 3958 TOPS / 2        # gpus.csv: "1978.9 (3958 sparse)"
    mem_size = 141 GB                      # gpus.csv: 141
    mem_type = "HBM3e"                     # gpus.csv: HBM3e
    mem_bw   = 4800 GB/s                   # gpus.csv: 4800
    l2_size: byte = 50 MiB                 # gpus.csv: 50 (binary, hardware/README.md)
    tdp      = 700 W                       # gpus.csv: "700 (up to)"
    pcie_bw  = 128 GB/s / 2                # gpus.csv: "PCIe Gen5 (128 GB/s)", bidirectional
    nvlink_bw = 900 GB/s                   # gpus.csv: "NVLink4 900"
    nvlink_domain = 8                      # HGX board
}
"""


def test_a_bare_peak_in_a_gpu_that_extends_gpu_is_told_its_unit(tmp_path, monkeypatch, capsys):
    status, out, err = run(tmp_path, monkeypatch, capsys, H200, "check", "--no-cache", "f.perf")
    assert (status, out, err) == (1, "", f"""\
error[unit-mismatch]: 'peak_fp16' is declared as FLOP/s but its formula gives count
   --> f.perf:11:23
   |
11 |     peak_fp16       = 989.4e12     # gpus.csv: "989.4 (1979 sparse)"
   |                       ^^^^^^^^
   = note: declared at {GPU_PERF}:{_line_of(GPU_PERF, "    peak_fp16: FLOP/s")}:16
   = in: hardware.my_h200.peak_fp16
   = help: '989.4e12' has no unit: write the one meant, e.g. `peak_fp16 = 989.4 TFLOP/s` (989.4e12 read in FLOP/s)

1 error
""")
    # The help's line as written is the same figure as the datasheet's 989.4 TFLOP/s: the file checks.
    fixed = H200.replace("peak_fp16       = 989.4e12 ", "peak_fp16 = 989.4 TFLOP/s")
    status, out, err = run(tmp_path, monkeypatch, capsys, fixed, "check", "--no-cache", "f.perf")
    assert (status, out, err.startswith("ok: 2 files, 2 blocks, 0 reports (")) == (0, "", True)


def test_a_bare_memory_bandwidth_is_told_its_unit(tmp_path, monkeypatch, capsys):
    text = H200.replace("peak_fp16       = 989.4e12 ", "peak_fp16 = 989.4 TFLOP/s").replace(
        "mem_bw   = 4800 GB/s", "mem_bw   = 4800")
    status, out, err = run(tmp_path, monkeypatch, capsys, text, "check", "--no-cache", "f.perf")
    assert (status, out) == (1, "")
    assert err.splitlines()[0] == "error[unit-mismatch]: 'mem_bw' is declared as byte/s but its formula gives count"
    assert err.splitlines()[-3:] == [
        "   = help: write it with a unit of byte/s, e.g. `mem_bw = 4800 byte/s`", "", "1 error"]


def test_bare_numbers_take_the_unit_the_cell_is_declared_in(tmp_path, monkeypatch, capsys):
    text = ("costmodel c {\n    g: GB/s = 4_800\n    w: W = -3\n    f: 1/s = 5\n    t: ms = 5\n"
            "    n: token = 4\n    k: count = 4\n}\n")
    status, out, err = run(tmp_path, monkeypatch, capsys, text, "check", "--no-cache", "f.perf")
    assert (status, out) == (1, "")
    assert [line for line in err.splitlines() if line.startswith(("error", "  = help"))] == [
        "error[unit-mismatch]: 'g' is declared as GB/s (byte/s) but its formula gives count",
        # Read in SI and in the unit declared, as --set's help reads it (overrides.bare_number_help).
        "  = help: '4_800' has no unit: write the one meant, e.g. `g = 4800 B/s` (4_800 read in byte/s) or "
        "`g = 4_800 GB/s`",
        "error[unit-mismatch]: 'w' is declared as W but its formula gives count",
        "  = help: write it with a unit of W, e.g. `w = -3 W`",
        "error[unit-mismatch]: 'f' is declared as 1/s but its formula gives count",
        "  = help: write it with a unit of 1/s, e.g. `f = 5 s^-1`",
        # A time in the unit declared and the one below, as --set's help gives it (it said "one side is a rate").
        "error[unit-mismatch]: 't' is declared as ms (s) but its formula gives count",
        "  = help: '5' has no unit: write the one meant, e.g. `t = 5 us` or `t = 5 ms`",
        # (it said "the two differ by a token")
        "error[unit-mismatch]: 'n' is declared as token but its formula gives count",
        "  = help: write it with a unit of token, e.g. `n = 4 token`",
    ]


def test_a_formula_that_gives_a_count_is_told_the_quantity_it_needs(tmp_path, monkeypatch, capsys):
    text = H200.replace("peak_fp16       = 989.4e12 ", "peak_fp16 = 989.4 TFLOP/s").replace(
        "peak_tf32       = 989 TFLOP/s / 2", "peak_tf32 = 989 / 2").replace(
        "sm_count = 132", "sm_count = 132\n    n = 3\n    l2_lines: byte = n + 1\n    tiles: byte = n ^ 2 * 4")
    status, out, err = run(tmp_path, monkeypatch, capsys, text, "check", "--no-cache", "f.perf")
    assert (status, out) == (1, "")
    assert [line.strip() for line in err.splitlines() if line.strip().startswith(("error", "= help"))] == [
        "error[unit-mismatch]: 'l2_lines' is declared as byte but its formula gives count",
        # In a sum a unit after `1` would not do: the quantity alone, and the byte hint.
        "= help: its formula gives a plain count where 'l2_lines' needs a quantity in byte",
        "= help: the two differ by a byte: a count of elements times bytes per element gives bytes",
        "error[unit-mismatch]: 'tiles' is declared as byte but its formula gives count",
        # The exponent 2 is no number to give a unit.
        "= help: its formula gives a plain count where 'tiles' needs a quantity in byte: write the unit after the "
        "number it applies to, e.g. `4 byte`",
        "= help: the two differ by a byte: a count of elements times bytes per element gives bytes",
        "error[unit-mismatch]: 'peak_tf32' is declared as FLOP/s but its formula gives count",
        "= help: its formula gives a plain count where 'peak_tf32' needs a quantity in FLOP/s: write the unit after "
        "the number it applies to, e.g. `989 FLOP/s`",
    ]


def test_a_sweep_of_bare_numbers_is_told_its_unit(tmp_path, monkeypatch, capsys):
    text = 'import "hardware/gpu.perf"\nhardware g2 extends gpu {\n    sweep mem_bw = [1000, 2000, 3000, 4000]\n}\n'
    status, out, err = run(tmp_path, monkeypatch, capsys, text, "check", "--no-cache", "f.perf")
    assert (status, out) == (1, "")
    assert err.splitlines()[0] == \
        "error[unit-mismatch]: 'mem_bw' is declared as byte/s but its swept values are in count"
    assert "  = help: write them with a unit of byte/s, e.g. `sweep mem_bw = [1000 byte/s, 2000 byte/s, 3000 " \
           "byte/s, ...]`\n" in err
