"""What `eval` says that only `check` said, and what it no longer says (a newcomer's findings 2 and 5).

- A misspelt override (`mem_bww = 4.2 TB/s` in a copy of the H100) is warning[unread-cell] at `check`; `eval`,
  `explain` and `plot` said nothing (and `eval --strict` passed, exit 0) while the copy kept the inherited mem_bw.
  Every command that loads files to evaluate them now says it once, in the words of `check` (Program.load_warnings).
- Sweep points that a `require` leaves out of the results (`batch = [-1, 8]`) gave a negative-size warning for every
  internal cell of the cost model computed there (23 of the newcomer's 24 warnings) before the constraint's one;
  a warning now counts only the points the constraints keep (point_warnings.py; under `invalid_points = "mark"`
  every point keeps its row and counts).

Each test is the exact text and exit status of the command typed; the CLI runs in-process with the test's folder
as the working directory, so the bundled libraries are imported as they are installed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import perfdsl
from perfdsl import cli
from provisional_text import without_provisional_note

REPO = Path(__file__).resolve().parent.parent
HOPPER = REPO / "hardware" / "hopper.perf"
COSTMODEL = REPO / "costmodels" / "transformer_inference.perf"


def _place(path: Path, start: str, within: str | None = None) -> str:
    """`FILE:line:col` of the first line of `path` that starts with `start`, at its first non-blank (or at `within`'s
    first letter on that line), found in the file, not copied."""
    number, line = next((n, line) for n, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(start))
    col = line.index(within) + 1 if within else len(line) - len(line.lstrip()) + 1
    return f"{path}:{number}:{col}"


MEM_BW_DEFINED = _place(HOPPER, "    mem_bw   = 3350 GB/s")
BATCH_REQUIRE = _place(COSTMODEL, "    require batch >= 1 and", within="batch")
BATCH_REQUIRE_LINE = next(line for line in COSTMODEL.read_text().splitlines()
                          if line.startswith("    require batch >= 1 and"))

GPU = """\
# A hypothetical H100 with more and faster memory
import "hardware/hopper.perf"

hardware h100_big extends h100_sxm5 {
    label    = "H100 big-mem (hypothetical)"
    mem_size = 120 GB
    mem_bww = 4.2 TB/s
}
"""

REPORT = """\
import "costmodels/transformer_inference.perf"
import "gpu.perf"
import "models/llama.perf"

workload grid extends inference {
    sweep batch = [1, 8]
    seq_len = 512
    output_len = 128
    tp = 1
    n_gpus = tp
    use_cache = true
    lm_head_all_positions = false
}

report mine {
    model = llama3_1_8b
    sweep hardware = [h100_sxm5, h100_big]
    workload = grid
    stack = vllm
    precision = bf16
    show serving.ttft in ms as ttft, serving.tpot in ms as tpot
}
"""

UNREAD = f"""\
warning[unread-cell]: 'mem_bww' is not a cell of 'h100_sxm5' (its parent) and nothing reads it
  --> gpu.perf:7:5
  |
7 |     mem_bww = 4.2 TB/s
  |     ^^^^^^^
  = note: 'h100_big' keeps the 'mem_bw' it inherits: mem_bw = 3350 GB/s, at {MEM_BW_DEFINED}
  = in: hardware.h100_big.mem_bww
  = help: did you mean 'mem_bw'?
  = help: a new cell of this name is fine once a formula, `show` or `require` reads it

1 warning
"""

TABLE = """\
hardware   batch  ttft [ms]  tpot [ms]
---------  -----  ---------  ---------
h100_sxm5      1     13.796     7.0686
h100_sxm5      8     97.547     7.2671
h100_big       1     13.796     7.0686
h100_big       8     97.547     7.2671
"""


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    """(status, stdout, stderr) of the command, stderr without its note[provisional] (the report binds `vllm`, whose
    provisional per-step cells move ttft and tpot: that note is tests/test_provisional.py's, not what these texts
    are about)."""
    capsys.readouterr()
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, without_provisional_note(err)


@pytest.fixture()
def typo(work: Path) -> Path:
    (work / "gpu.perf").write_text(GPU)
    (work / "r.perf").write_text(REPORT)
    return work


# -- finding 2: a misspelt override ------------------------------------------------------------------------------

def test_check_and_eval_say_the_misspelt_override_in_the_same_words(typo, capsys):
    # Before: eval printed the table alone, exit 0 (h100_big's rows the same as h100_sxm5's: it keeps mem_bw).
    code, out, err = run(["check", "r.perf"], capsys)
    assert code == 0 and err.startswith(UNREAD[:-len("1 warning\n")])
    assert run(["eval", "r.perf", "--quiet"], capsys) == (0, TABLE, UNREAD)


def test_eval_strict_makes_the_misspelt_override_an_error(typo, capsys):
    # Before: exit 0, nothing on stderr.
    assert run(["eval", "r.perf", "--strict", "--quiet"], capsys) == (1, "", UNREAD + "--strict: warnings are errors\n")


def test_a_sweep_evaluated_in_chunks_says_it_once(typo, capsys):
    code, out, err = run(["eval", "r.perf", "--chunk-points", "1", "--format", "csv", "--quiet"], capsys)
    assert (code, err) == (0, UNREAD)
    assert len(out.splitlines()) == 1 + 4
    code, out, err = run(["eval", "r.perf", "--chunk-points", "1", "--format", "csv", "--strict", "--quiet"], capsys)
    assert code == 1 and err.startswith(UNREAD + "--strict: warnings are errors; stopped at the first chunk")


def test_a_question_answered_in_chunks_says_it_once(typo, capsys):
    (typo / "q.perf").write_text(REPORT.replace("    show serving.ttft in ms as ttft, serving.tpot in ms as tpot\n",
                                                "    show serving.tpot in ms as tpot\n    where memory.fits\n"
                                                "    best min serving.tpot per hardware\n"))
    for extra in ([], ["--chunk-points", "1"]):
        code, out, err = run(["eval", "q.perf", "--quiet", *extra], capsys)
        assert (code, err) == (0, UNREAD), extra
        assert out.splitlines()[2:] == ["h100_sxm5      1     7.0686", "h100_big       1     7.0686"], extra


def test_explain_says_it_before_the_inherited_value_it_explains(typo, capsys):
    code, out, err = run(["explain", "r.perf", "hardware.mem_bw", "--at", "hardware=h100_big"], capsys)
    assert (code, err) == (0, UNREAD)
    assert out.startswith("hardware.mem_bw -> h100_big.mem_bw = 3.35 TB/s\n")


def test_plot_says_it(typo, capsys):
    pytest.importorskip("matplotlib")
    code, _, err = run(["plot", "r.perf", "--y", "tpot", "--x", "batch", "--series", "hardware", "-o", "p.png"],
                       capsys)
    assert code == 0 and err.startswith(UNREAD) and err[len(UNREAD):].startswith("wrote p.png (")


def test_the_api_gives_it_once_per_evaluation_found_once_per_load(typo, monkeypatch):
    from perfdsl import program as program_module

    found = []
    unread_cells = program_module.unread_cells
    monkeypatch.setattr(program_module, "unread_cells", lambda *a: found.append(1) or unread_cells(*a))
    program = perfdsl.load("r.perf")
    for overrides in (None, {"batch": [1, 2]}, {"h100_big.mem_size": "100 GB"}):
        warnings = program.evaluate(overrides=overrides).warnings
        assert [(w.code, str(w.location)) for w in warnings] == [("unread-cell", "gpu.perf:7:5")], overrides
    assert found == [1]          # once for the loaded program; the programs with overrides ask it


# -- finding 5: points a constraint leaves out -------------------------------------------------------------------

NEGATIVE_BATCH = REPORT.replace('import "gpu.perf"', 'import "hardware/hopper.perf"').replace(
    "sweep hardware = [h100_sxm5, h100_big]", "hardware = h100_sxm5").replace("sweep batch = [1, 8]",
                                                                             "sweep batch = [-1, 8]")


def constraint_warning(at: str) -> str:
    """The cost model's one warning for a sweep of two batches, one of them (`at`) below 1."""
    line = BATCH_REQUIRE.split(":")[-2]
    condition = BATCH_REQUIRE_LINE.split("require ")[1].split(",")[0]
    pad = " " * (len(line) + 1)
    return f"""\
warning[constraint]: batch is a whole number of sequences, at least 1: 1 of 2 sweep points break it, left out of the results
{pad}--> {BATCH_REQUIRE}
{pad}|
{line} | {BATCH_REQUIRE_LINE}
{pad}| {" " * BATCH_REQUIRE_LINE.index(condition)}{"^" * len(condition)}
{pad}= note: at {at}
{pad}= in: workload.inference
{pad}= help: to keep them, marked, give the report the option `invalid_points = "mark"`

1 warning
"""


def test_points_a_constraint_leaves_out_give_only_the_constraints_warning(work, capsys):
    # Before: 14 negative-size warnings on internal cells at batch=-1 (prefill.proj_bytes, ...) before this one.
    (work / "neg.perf").write_text(NEGATIVE_BATCH)
    code, out, err = run(["eval", "neg.perf", "--quiet"], capsys)
    assert (code, err) == (0, constraint_warning("batch=-1"))
    assert out.splitlines()[2:] == ["    8     97.547     7.2671"]


def test_a_set_sweep_a_constraint_cuts_gives_only_the_constraints_warning(work, capsys):
    # The newcomer's `--set batch=0,2`: division-by-zero and not-a-number warnings at batch=0 before.
    (work / "neg.perf").write_text(NEGATIVE_BATCH)
    code, out, err = run(["eval", "neg.perf", "--set", "batch=0,2", "--quiet"], capsys)
    assert (code, err) == (0, constraint_warning("batch=0"))
    assert out.splitlines()[2:] == ["    2      25.76     7.0969"]


def test_strict_refuses_the_constraint_alone(work, capsys):
    (work / "neg.perf").write_text(NEGATIVE_BATCH)
    assert run(["eval", "neg.perf", "--strict", "--quiet"], capsys) == (
        1, "", constraint_warning("batch=-1") + "--strict: warnings are errors\n")


def test_under_mark_the_points_kept_and_marked_warn_as_before(work, capsys):
    # invalid_points = "mark": batch=-1 keeps its row (valid = false), so its negative sizes are said, as before.
    (work / "neg.perf").write_text(NEGATIVE_BATCH.replace("    workload = grid\n",
                                                          '    workload = grid\n    invalid_points = "mark"\n'))
    code, _, err = run(["eval", "neg.perf", "--quiet"], capsys)
    heads = [line for line in err.splitlines() if line.startswith("warning[")]
    assert code == 0 and heads[0] == "warning[negative-size]: 'prefill.attention_bytes' is negative (byte) at batch=-1"
    assert len(heads) > 2 and heads[-1].startswith("warning[constraint]: batch is a whole number of sequences")
    assert "   = note: 1 of 2 sweep points are affected\n" in err


# -- a report's own warnings (a bundle's helper found them stopping eval) -------------------------------------------

MISSPELT_OPTION = """\
workload w {
    sweep n = [1, 2, 3]
    require n <= 2, "n is small"
    product = n * 2
}
report r {
    workload = w
    invalid_point = "mark"
    show workload.product
}
"""

UNKNOWN_OPTION_WARNING = """\
warning[unknown-option]: 'invalid_point' is not a report option, so it changes nothing
  --> m.perf:8:5
  |
8 |     invalid_point = "mark"
  |     ^^^^^^^^^^^^^
  = in: report.r.invalid_point
  = help: did you mean 'invalid_points'?
"""


@pytest.mark.parametrize("chunked", [False, True])
def test_a_report_with_a_warning_only_evaluates_and_says_it(tmp_path, capsys, monkeypatch, chunked):
    """A misspelt report option is a warning at `check` (exit 0); `eval` printed that warning, then exit 1 and no
    row (Program.prepare raised on any diagnostic of the report's check). Now the rows, the warning once (also
    evaluated chunk by chunk), the constraint's warning, exit 0."""
    (tmp_path / "m.perf").write_text(MISSPELT_OPTION)
    monkeypatch.chdir(tmp_path)
    extra = ["--chunk-points", "1", "-o", "m.csv"] if chunked else []
    assert cli.main(["eval", "m.perf", *extra]) == 0
    out, err = capsys.readouterr()
    if chunked:
        assert (tmp_path / "m.csv").read_text() == "n,workload.product\n1,2.0\n2,4.0\n"
    else:
        assert out.splitlines()[2:] == ["1                 2", "2                 4"]
    assert err.startswith(UNKNOWN_OPTION_WARNING + "\nwarning[constraint]: n is small: 1 of 3 sweep points break it")
    assert err.count("warning[unknown-option]") == 1
    assert "2 warnings\n" in err


def test_a_report_warning_fails_eval_under_strict(tmp_path, capsys, monkeypatch):
    (tmp_path / "m.perf").write_text(MISSPELT_OPTION)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["eval", "m.perf", "--strict"]) == 1
    assert capsys.readouterr().err.endswith("2 warnings\n--strict: warnings are errors\n")
