"""A cell whose `if` reads a declared input a block leaves open, in a branch no point of that block takes, is right
for every reader (np.where kept the other value there): it is kept like any cell, and the cells after it too. It was
computed again at each read, with everything after it (the ring's bandwidth of d3cd32d reads b200's open pcie_bw
beyond its NVLink domain: the capacity sweep took twice as long). A stand-in read inside an `if` around the cell
stays right for that reader only and is not kept."""

from __future__ import annotations

import perfdsl

TEXT = """
hardware base {
    link: byte/s
    far = link
    domain = 8
}
hardware open extends base { }
hardware bridged extends base {
    link = 32 GB/s
    domain = 2
}
workload w { sweep tp = [1, 2, 4] }
costmodel c {
    ring = if(workload.tp <= hardware.domain, 100 GB/s, hardware.far)
    t = 1 GB / ring
    u = t + t
}
report r {
    sweep hardware = [open, bridged]
    workload = w
    show c.u in s as u
}
"""


def test_a_cell_with_an_untaken_open_input_in_its_own_if_is_kept():
    result = perfdsl.load([], texts={"r.perf": TEXT}).evaluate()
    # open: tp <= 8 everywhere, 100 GB/s; bridged: tp 4 leaves its domain of 2, 32 GB/s. u = 2 x 1 GB / ring
    assert result.column("u", all_points=True).tolist() == [2 / 100, 2 / 100, 2 / 100, 2 / 100, 2 / 100, 2 / 32]
    kept = {(block, cell) for block, cell, _ in result.evaluator.memo}
    assert {("c", "ring"), ("c", "t"), ("c", "u")} <= kept


def test_an_open_input_a_point_takes_is_still_an_error():
    text = TEXT.replace("sweep tp = [1, 2, 4]", "sweep tp = [1, 16]")
    try:
        perfdsl.load([], texts={"r.perf": text}).evaluate()
    except perfdsl.PerfError as exc:
        assert exc.diagnostics[0].code == "missing-input"
        assert "'open'" in exc.diagnostics[0].message and "link" in exc.diagnostics[0].message
    else:
        raise AssertionError("a point that takes the branch needs the input")


def test_which_inputs_a_branch_reads_is_worked_out_once_per_prepared_report(monkeypatch):
    # branch_reads walks the formulas behind the `if`: that depends on the linked program alone, so a second
    # evaluation (or chunk) of the same prepared report asks the walk kept by the first one.
    from perfdsl import branch_reads

    made = []
    original = branch_reads.EveryPointReads.__init__

    def counted(self, link):
        made.append(link)
        original(self, link)

    monkeypatch.setattr(branch_reads.EveryPointReads, "__init__", counted)
    program = perfdsl.load([], texts={"r.perf": TEXT})
    first, second = program.evaluate(), program.evaluate()
    assert second.column("u", all_points=True).tolist() == first.column("u", all_points=True).tolist()
    assert len(made) == 1
