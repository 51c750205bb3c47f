"""error[misspelt-role]: a report that binds blocks to a misspelt role (`sweep hardwre = [h100_sxm5]`) was accepted
silently, and its rows named one GPU under the misspelt name beside the figures of the `hardware` it inherits. Now
the binding is an error at the name, with the role meant, as `--set hardwre=...` already was (bad-override)."""

from __future__ import annotations

from pathlib import Path

from perfdsl import cli

# Two GPUs of the bundled library, and a cost model that reads `hardware` only. One step reads 16 GB at mem_bw.
PLAN = """\
import "hardware/ampere_datacenter.perf"
import "hardware/hopper.perf"
costmodel decode {
    step = 16 GB / hardware.mem_bw
}
report plan {
    sweep hardware = [a100_80gb_sxm4, h100_sxm5]
    show decode.step in ms
}
"""


def run(tmp_path: Path, monkeypatch, capsys, files: dict[str, str], *args: str) -> tuple[int, str, str]:
    """`perfdsl ARGS` in tmp_path holding `files` (plan.perf among them): the exit status, stdout and stderr."""
    monkeypatch.chdir(tmp_path)
    for name, text in {"plan.perf": PLAN, **files}.items():
        (tmp_path / name).write_text(text)
    status = cli.main(list(args))
    out = capsys.readouterr()
    return status, out.out, out.err


CHILD = 'import "plan.perf"\nreport only_h100 extends plan {\n    sweep hardwre = [h100_sxm5]\n}\n'
CHILD_ERROR = (
    "error[misspelt-role]: report 'only_h100' sweeps 'hardwre', a role no formula reads\n"
    "  --> child.perf:3:11\n"
    "  |\n"
    "3 |     sweep hardwre = [h100_sxm5]\n"
    "  |           ^^^^^^^\n"
    "  = note: 'hardware', which the formulas read, stays swept over a100_80gb_sxm4, h100_sxm5 (plan.perf:7:11, in "
    "report 'plan'): the rows would name h100_sxm5 under 'hardwre' beside the figures of a100_80gb_sxm4, h100_sxm5\n"
    "  = in: report.only_h100.hardwre\n"
    "  = help: did you mean 'hardware'? Write `sweep hardware = [h100_sxm5]`\n"
    "  = help: a role of another name is fine once a formula reads it (`hardwre.CELL`)\n"
    "\n"
    "1 error\n")


def test_a_misspelt_role_swept_in_a_child_report_is_an_error_in_check_and_eval(tmp_path, monkeypatch, capsys):
    # Before: `check` said ok and `eval` printed h100_sxm5 under `hardwre` beside the A100's 16 GB / 2039 GB/s.
    status, out, err = run(tmp_path, monkeypatch, capsys, {"child.perf": CHILD}, "check", "--no-cache", "child.perf")
    assert (status, out, err) == (1, "", CHILD_ERROR)
    status, out, err = run(tmp_path, monkeypatch, capsys, {"child.perf": CHILD}, "eval", "child.perf",
                           "--report", "only_h100")
    assert (status, out, err) == (1, "", CHILD_ERROR)


def test_a_misspelt_sweep_beside_the_real_role_is_an_error(tmp_path, monkeypatch, capsys):
    text = ('import "plan.perf"\nimport "hardware/ada.perf"\nreport l40_only {\n    hardware = l40s\n'
            "    sweep hardwar = [l40s, h100_sxm5]\n    show decode.step in ms\n}\n")
    status, out, err = run(tmp_path, monkeypatch, capsys, {"two.perf": text}, "eval", "two.perf",
                           "--report", "l40_only")
    assert (status, out) == (1, "")
    assert err.splitlines()[:2] == [
        "error[misspelt-role]: report 'l40_only' sweeps 'hardwar', a role no formula reads", "  --> two.perf:5:11"]
    assert "  = note: 'hardware', which the formulas read, stays bound to l40s (two.perf:4:5): the rows would name " \
           "l40s, h100_sxm5 under 'hardwar' beside the figures of l40s\n" in err
    assert "  = help: did you mean 'hardware'? Write `sweep hardware = [l40s, h100_sxm5]`\n" in err


def test_a_misspelt_role_binding_and_a_zipped_column_are_errors_too(tmp_path, monkeypatch, capsys):
    text = ('import "plan.perf"\nreport one {\n    hardwre = h100_sxm5\n    show decode.step in ms\n}\n'
            "report zip {\n    hardware = h100_sxm5\n    sweep (hardwre, n) = [(h100_sxm5, 1), (a100_80gb_sxm4, 2)]\n"
            "    show decode.step in ms\n}\n")
    status, out, err = run(tmp_path, monkeypatch, capsys, {"more.perf": text}, "check", "--no-cache", "more.perf")
    assert status == 1
    assert [line for line in err.splitlines() if line.startswith(("error", "  -->", "  = help: did", "  = note"))] == [
        "error[misspelt-role]: report 'one' binds 'hardwre', a role no formula reads",
        "  --> more.perf:3:5",
        "  = note: report 'one' binds nothing to 'hardware', which the formulas read",
        "  = help: did you mean 'hardware'? Write `hardware = h100_sxm5`",
        "error[misspelt-role]: report 'zip' sweeps 'hardwre', a role no formula reads",
        "  --> more.perf:8:12",
        "  = note: 'hardware', which the formulas read, stays bound to h100_sxm5 (more.perf:7:5): the rows would "
        "name h100_sxm5, a100_80gb_sxm4 under 'hardwre' beside the figures of h100_sxm5",
        "  = help: did you mean 'hardware'? Write 'hardware' in place of 'hardwre' among the sweep's names",
        # The role `one` leaves unbound through the misspelling is said too, as its consequence (it was left out).
        "error[unbound-role]: report 'one' binds no block to the role 'hardware'",
        "  --> plan.perf:4:20",
        "  = note: a consequence of error[misspelt-role] at more.perf:3:5: the report binds 'hardwre', one slip from "
        "'hardware'; written 'hardware' there, it binds this role",
    ]


# A parent that binds `hardware` only, for a cost model that reads `model` and `workload` too.
PARTIAL = PLAN.replace("16 GB / hardware.mem_bw", "2 byte * model.params / hardware.mem_bw + workload.overhead")


def test_the_roles_a_report_with_a_misspelt_role_leaves_unbound_are_said_in_the_same_run(tmp_path, monkeypatch,
                                                                                          capsys):
    # Before: check and eval said the misspelt role alone (its report's check was not run), and the child's unbound
    # `model` and `workload` came one run later, once the name was mended.
    files = {"plan.perf": PARTIAL, "child.perf": CHILD}
    for args in (["check", "--no-cache", "child.perf"], ["eval", "child.perf", "--report", "only_h100"]):
        status, out, err = run(tmp_path, monkeypatch, capsys, files, *args)
        assert (status, out) == (1, "")
        errors = [line for line in err.splitlines() if line.startswith(("error", "  -->"))]
        child = [errors[0], errors[1]] + [line for i, line in enumerate(errors) if "'only_h100' binds no" in line
                                          or (i and "'only_h100' binds no" in errors[i - 1])]
        assert child == [
            "error[misspelt-role]: report 'only_h100' sweeps 'hardwre', a role no formula reads",
            "  --> child.perf:3:11",
            "error[unbound-role]: report 'only_h100' binds no block to the role 'model'", "  --> plan.perf:4:21",
            "error[unbound-role]: report 'only_h100' binds no block to the role 'workload'", "  --> plan.perf:4:54"]
        assert "consequence" not in err          # `hardware` is bound by the parent: none is the misspelling's doing


def test_the_same_slip_given_with_set_says_the_same_role(tmp_path, monkeypatch, capsys):
    status, out, err = run(tmp_path, monkeypatch, capsys, {}, "eval", "plan.perf", "--set", "hardwre=h100_sxm5")
    assert status == 2
    assert "  = help: did you mean 'hardware'?\n" in err


def test_a_role_of_another_name_that_is_no_slip_or_that_a_formula_reads_is_left_alone(tmp_path, monkeypatch,
                                                                                         capsys):
    # `site` is one slip from no role the formulas read (a label column); `hardwre` read by a formula is a role.
    text = ('import "plan.perf"\nreport labelled extends plan {\n    sweep site = [h100_sxm5]\n}\n'
            "costmodel odd {\n    bw = hardwre.mem_bw\n}\n"
            "report read {\n    hardware = h100_sxm5\n    hardwre = a100_80gb_sxm4\n    show odd.bw in GB/s\n}\n")
    status, out, err = run(tmp_path, monkeypatch, capsys, {"other.perf": text}, "check", "--no-cache", "other.perf")
    assert status == 0 and err.startswith("ok: ")
