"""Checks shared between programs (dsl/shared_checks.py): `perfdsl check` of many files gives every file exactly the
diagnostics it gets when checked alone, in the same order, with the same exit status.

"Alone" below means without a session (Program's default: nothing recorded or shared, every cell inferred, as before
sharing existed); "in the batch" means every file's program checked in one session, in the order of the command line
and in the reverse order.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from perfdsl import checker as checker_module
from perfdsl import cli, shared_checks
from perfdsl.program import Program
from perfdsl.shared_checks import CheckSession

REPO = Path(__file__).resolve().parent.parent
LIBRARY = sorted(str(p.relative_to(REPO)) for folder in ("models", "hardware", "software", "costmodels", "reports")
                 for p in (REPO / folder).glob("*.perf"))
CASES = sorted(str(p.relative_to(REPO)) for p in (REPO / "tests" / "cases").glob("*.perf"))
SPECS = sorted(str(p.relative_to(REPO)) for p in (REPO / "benchmarks" / "specs").glob("*.perf"))
EVERY_FILE = LIBRARY + CASES + SPECS


def _rendered(file: str, session: CheckSession | None) -> list[str]:
    """Every diagnostic of checking `file` as a program of its own (with what it imports), as printed, in order; a
    file that does not parse gives its parse errors."""
    from perfdsl.errors import PerfError

    try:
        program = Program.load([file], session=session)
    except PerfError as exc:
        return [d.severity + ": " + d.render() for d in exc.diagnostics]
    return [d.severity + ": " + d.render() for d in program.check()]


@pytest.fixture(scope="module")
def alone() -> dict[str, list[str]]:
    """The diagnostics of every file checked alone, without a session (computed once for the module)."""
    mp = pytest.MonkeyPatch()
    mp.chdir(REPO)
    try:
        return {file: _rendered(file, None) for file in EVERY_FILE}
    finally:
        mp.undo()


def test_every_file_is_checked_in_the_batch_as_alone(alone, monkeypatch):
    """The property: for every library file, golden case and benchmark spec, its diagnostics (text, severity,
    order) checked in one session after the others equal those of checking it alone; then again in the reverse
    order in the same session, where most of the work is replayed from the records of the first pass."""
    monkeypatch.chdir(REPO)
    session = CheckSession()
    for order in (EVERY_FILE, EVERY_FILE[::-1]):
        differ = [file for file in order if _rendered(file, session) != alone[file]]
        assert not differ, f"checked in the batch, these files differ from checking them alone: {differ}"
        assert session.free and session.bound, "nothing was shared"


def _prepared(file: str, session: CheckSession | None) -> list:
    """What checking each report of `file` leaves for its evaluation: every typed cell with its type, in the order
    typed, and the constraints that apply (Program.prepare)."""
    program = Program.load([file], session=session)
    found = []
    for report in program.reports:
        _, checker = program.prepare(report)
        found.append((report, list(checker.types.items()),
                      [(block.name, owner, require.text) for block, owner, require in checker.constraints]))
    return found


def test_a_report_checked_in_the_batch_types_the_same_cells(monkeypatch):
    """Beyond the diagnostics: each library report's checker types the same cells, with the same types, in the same
    order, and keeps the same constraints, checked after every other library file as when checked alone."""
    monkeypatch.chdir(REPO)
    reports = [file for file in LIBRARY if file.startswith("reports/")]
    session = CheckSession()
    for file in LIBRARY:
        _rendered(file, session)
    batch = {file: _prepared(file, session) for file in reports}
    alone = {file: _prepared(file, None) for file in reports}
    assert [file for file in reports if batch[file] != alone[file]] == []
    assert any(types for found in batch.values() for _, types, _ in found)


def _check_command(files: list[str], capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    status = cli.main(["check", "--no-cache", *files])         # checked, both times: not replayed (check_cache.py)
    out, err = capsys.readouterr()
    return status, out, re.sub(r"\(\d+\.\d\d s\)", "(T s)", err)


def test_the_check_command_prints_the_same_with_and_without_sharing(capsys, monkeypatch):
    """`perfdsl check` of every file at once (errors of the golden cases included): the same stdout, stderr and exit
    status as without sharing."""
    monkeypatch.chdir(REPO)
    shared = _check_command(EVERY_FILE, capsys)
    with monkeypatch.context() as mp:
        mp.setattr(shared_checks, "CheckSession", lambda: None)      # cmd_check's session: none
        unshared = _check_command(EVERY_FILE, capsys)
    assert shared == unshared
    assert shared[0] == 1 and "error[" in shared[2]


def test_the_library_cells_are_inferred_once_per_session(monkeypatch):
    """The work is shared, not repeated: after reports/example.perf, checking models/opt.perf (which it imports)
    infers no cell again, and checking the example a second time infers nothing at all."""
    monkeypatch.chdir(REPO)
    inferred = _spy_inferences(monkeypatch)
    session = CheckSession()
    Program.load(["reports/example.perf"], session=session).check()
    assert inferred, "the first program infers its cells"
    inferred.clear()
    Program.load(["models/opt.perf"], session=session).check()
    assert inferred == []
    Program.load(["reports/example.perf"], session=session).check()
    assert inferred == []


def test_blocks_a_calibration_sets_are_shared_by_the_programs_that_import_it(monkeypatch):
    """A calibration file's `set { ... }` entries write cells into the blocks of a report (its GPU, its stack, its
    workload): the programs that import the same file share the blocks so written, so the report checked after its
    calibration file (which imports it) infers no cell again, and its blocks are the same objects."""
    monkeypatch.chdir(REPO)
    inferred = _spy_inferences(monkeypatch)
    session = CheckSession()
    calibration = Program.load(["reports/published_gptfast_calibration.perf"], session=session)
    calibration.check()
    inferred.clear()
    report = Program.load(["reports/published_gptfast.perf"], session=session)
    assert report.check() == []
    assert inferred == []
    for name in ("gpt_fast", "a100_80gb_sxm4", "gptfast_generate"):       # each has cells the calibration sets
        assert report.blocks[name] is calibration.blocks[name]
    fitted = report.blocks["gpt_fast"].cells["kernel_overhead"].expr
    assert fitted.span.file.endswith("published_gptfast_calibration.perf"), "the fitted value, not the library's"


COST = "costmodel cost {\n    moved: byte = hardware_part.bw * 1 s\n}\n"
GOOD_PART = "hardware hardware_part {\n    bw = 1 GB/s\n}\n"
BAD_PART = "hardware hardware_part {\n    bw = 1 s\n}\n"                 # a duration where a bandwidth belongs


def test_a_record_is_not_reused_where_a_name_leads_to_another_block():
    """The same cost-model text over two different blocks named `hardware_part`: the second program reports its
    own unit mismatch, as when checked alone."""
    session = CheckSession()
    good = Program.load([], texts={"part.perf": GOOD_PART, "cost.perf": COST}, session=session)
    assert good.check() == []
    bad = Program.load([], texts={"part_s.perf": BAD_PART, "cost.perf": COST}, session=session)
    assert good.blocks["cost"] is bad.blocks["cost"], "the cost model's block is shared"
    expected = [
        "error[unit-mismatch]: 'moved' is declared as byte but its formula gives s^2\n"
        "  --> cost.perf:2:19\n"
        "  |\n"
        "2 |     moved: byte = hardware_part.bw * 1 s\n"
        "  |                   ^^^^^^^^^^^^^^^^^^^^^^\n"
        "  = note: declared at cost.perf:2:12\n"
        "  = in: costmodel.cost.moved"]
    assert [d.render() for d in bad.check()] == expected
    alone = Program.load([], texts={"part_s.perf": BAD_PART, "cost.perf": COST})
    assert [d.render() for d in alone.check()] == expected


REPORT = """\
costmodel cost {{
    moved: byte = hardware.bw * 1 s
}}
hardware fast {{
    bw = 1 GB/s
}}
hardware slow {{
    bw = {slow}
}}
report r {{
    hardware = {bound}
    show cost.moved in GB
}}
"""


def test_a_record_is_not_reused_where_a_report_binds_a_role_to_another_block():
    """A cost-model cell read through the role `hardware`: kept for a report that binds it to `fast`, not reused
    by one that binds it to `slow`, whose bandwidth is a duration."""
    session = CheckSession()
    fast = Program.load([], texts={"fast.perf": REPORT.format(slow="1 s", bound="fast")}, session=session)
    assert fast.check() == []
    text = {"slow.perf": REPORT.format(slow="1 s", bound="slow")}
    slow = Program.load([], texts=text, session=session)
    expected = ["'moved' is declared as byte but its formula gives s^2"]
    assert [d.message for d in slow.check()] == expected
    assert [d.message for d in Program.load([], texts=text).check()] == expected


GPU_RULE = 'hardware gpu {\n    mem = 8 GB\n    require mem >= 16 GB, "less memory than the model needs"\n}\n'
BINDS_GPU = "costmodel c{n} {{\n    x = hardware.mem\n}}\nreport r{n} {{\n    hardware = gpu\n    show c{n}.x in GB\n}}\n"


def test_a_constraint_of_a_bound_block_is_decided_once_per_session(monkeypatch):
    """A GPU's own `require` reads only its cells: decided once (by the first program's check without a report)
    and replayed for the reports that bind the GPU, in that program and the next, each reporting the broken
    constraint as when checked alone."""
    from perfdsl import constraints

    decided = []
    original = constraints._holds_everywhere

    def counting(checker, block, *args):
        decided.append((checker.ctx is None, block.name))
        return original(checker, block, *args)

    monkeypatch.setattr(constraints, "_holds_everywhere", counting)
    expected = ["error[constraint]: less memory than the model needs\n"
                "  --> gpu.perf:3:13\n"
                "  |\n"
                '3 |     require mem >= 16 GB, "less memory than the model needs"\n'
                "  |             ^^^^^^^^^^^^\n"
                "  = note: `mem >= 16 GB` is false with mem = 8 GB\n"
                "  = in: hardware.gpu"]
    session = CheckSession()
    for n in (1, 2):
        texts = {"gpu.perf": GPU_RULE, f"r{n}.perf": BINDS_GPU.format(n=n)}
        assert [d.render() for d in Program.load([], texts=texts, session=session).check()] == expected
    assert decided == [(True, "gpu")]
    decided.clear()
    texts = {"gpu.perf": GPU_RULE, "r1.perf": BINDS_GPU.format(n=1)}
    assert [d.render() for d in Program.load([], texts=texts).check()] == expected
    assert decided == [(True, "gpu"), (False, "gpu")]            # alone: once without the report, once with it


def test_typing_every_cell_from_the_top_replays_as_cell_type_does(monkeypatch):
    """Checker.type_cells (Program.check's check without a report) types the same cells, with the same types and
    records, in the same order, and reports the same, as cell_type of each cell, for every library file checked
    after the others in one session (most of its cells replayed from the records of the files before it)."""
    from perfdsl.checker import Checker
    from perfdsl.linker import Linker

    monkeypatch.chdir(REPO)
    session = CheckSession()
    for file in LIBRARY:
        Program.load([file], session=session).check()
    for file in LIBRARY:
        program = Program.load([file], session=session)
        checkers = [Checker(program.blocks, program.sources, None,
                            Linker(program.blocks, None, program._roles_of_reports()), session=session)
                    for _ in range(2)]
        checkers[0].type_cells(program.blocks.values())
        for block in program.blocks.values():
            for name in block.cells:
                checkers[1].cell_type(block, name)
        fast, slow = checkers
        assert list(fast.types.items()) == list(slow.types.items()), file
        assert fast.reach == slow.reach and fast._entries == slow._entries, file
        assert [d.render() for d in fast.diagnostics] == [d.render() for d in slow.diagnostics], file
    with pytest.raises(ValueError):
        fast.stack.append(("b", "c", None))
        fast.type_cells([])


MODEL_READS_PART = "model m {\n    moved: byte = part.bw * 1 s\n    twice = moved * 2\n}\n"
PART = "hardware part {\n    bw = 1 GB/s\n}\n"
PART_S = "hardware part {\n    bw = 1 s\n}\n"                               # a duration where a bandwidth belongs


def _spy_block_replays(monkeypatch) -> list[tuple[str, bool]]:
    """(block name, replayed in one step) for every block that Checker.type_cells looks at from now on."""
    seen = []
    original = shared_checks.Sharing._replay_block

    def spying(self, block):
        replayed = original(self, block)
        seen.append((block.name, replayed))
        return replayed

    monkeypatch.setattr(shared_checks.Sharing, "_replay_block", spying)
    return seen


def _typed(program: Program, session: CheckSession, from_the_top: bool):
    """A report-free checker of `program` in `session` after typing every cell: with type_cells (`from_the_top`), or
    with cell_type of each cell of each block."""
    from perfdsl.checker import Checker
    from perfdsl.linker import Linker

    checker = Checker(program.blocks, program.sources, None, Linker(program.blocks, None, set()), session=session)
    if from_the_top:
        checker.type_cells(program.blocks.values())
    else:
        for block in program.blocks.values():
            for name in block.cells:
                checker.cell_type(block, name)
    return checker


def test_a_block_is_replayed_in_one_step_only_where_every_block_it_names_is_the_same(monkeypatch):
    """The model `m` reads `part.bw`. Its first program types it cell by cell and keeps its records; a second
    program with the same `part` replays the whole block in one step (the same cells, types, order and records as
    cell by cell); a third whose `part` is another block of the same name (its bandwidth a duration) does not, and
    reports the unit mismatch that `m` has there, as when checked alone."""
    replays = _spy_block_replays(monkeypatch)
    session = CheckSession()
    good = {"part.perf": PART, "m.perf": MODEL_READS_PART}
    assert Program.load([], texts=good, session=session).check() == []
    assert ("m", True) not in replays
    replays.clear()
    again = Program.load([], texts=good, session=session)
    assert again.check() == []
    assert replays == [("part", True), ("m", True)]       # `m` after `part`, whose cell it types: skipped there
    fast, slow = _typed(again, session, True), _typed(again, session, False)
    assert list(fast.types.items()) == list(slow.types.items()) and fast._entries == slow._entries
    types = list(fast.types.items())
    assert [key for key, _ in types] == [("part", "bw"), ("m", "moved"), ("m", "twice")]
    replays.clear()
    bad = {"part_s.perf": PART_S, "m.perf": MODEL_READS_PART}
    program = Program.load([], texts=bad, session=session)
    assert program.blocks["m"] is again.blocks["m"], "the model's block is shared"
    expected = [
        "error[unit-mismatch]: 'moved' is declared as byte but its formula gives s^2\n"
        "  --> m.perf:2:19\n"
        "  |\n"
        "2 |     moved: byte = part.bw * 1 s\n"
        "  |                   ^^^^^^^^^^^^^\n"
        "  = note: declared at m.perf:2:12\n"
        "  = in: model.m.moved"]
    assert [d.render() for d in program.check()] == expected
    assert ("m", False) in replays and ("m", True) not in replays
    assert [d.render() for d in Program.load([], texts=bad).check()] == expected


CYCLE_AND_MISMATCH = """\
model c {
    a = b + 1
    b = a * 2
    fine = 3
}
model u {
    size: byte = 2 s
    fine = 3
}
"""


def test_a_block_with_a_cycle_or_a_diagnostic_is_replayed_cell_by_cell(monkeypatch):
    """A cell in a cycle has no record (its message names the chain from where it was entered), and a record that
    reports something is not clean: neither block is replayed in one step, and every program of the session reports
    both errors, as when checked alone."""
    replays = _spy_block_replays(monkeypatch)
    expected = [
        "error[cycle]: cells depend on each other in a cycle: c.a -> c.b -> c.a\n"
        "  --> cells.perf:2:5\n"
        "  |\n"
        "2 |     a = b + 1\n"
        "  |     ^\n"
        "  = note: the chain: c.b at cells.perf:2:9; c.a at cells.perf:3:9\n"
        "  = in: model.c.a",
        "error[unit-mismatch]: 'size' is declared as byte but its formula gives s\n"
        "  --> cells.perf:7:18\n"
        "  |\n"
        "7 |     size: byte = 2 s\n"
        "  |                  ^^^\n"
        "  = note: declared at cells.perf:7:11\n"
        "  = in: model.u.size"]
    session = CheckSession()
    for _ in range(3):
        program = Program.load([], texts={"cells.perf": CYCLE_AND_MISMATCH}, session=session)
        assert [d.render() for d in program.check()] == expected
    assert replays and not any(replayed for _, replayed in replays)
    assert session.blocks[id(program.blocks["c"])] is False and session.blocks[id(program.blocks["u"])] is False
    assert [d.render() for d in Program.load([], texts={"cells.perf": CYCLE_AND_MISMATCH}).check()] == expected


def _spy_inferences(monkeypatch) -> list[tuple[str | None, str, str]]:
    """(report, block, cell) of every cell inferred from here on (report None for a report-free checker), in
    order: Checker._infer_cell runs for a cell that no record typed."""
    found = []
    original = checker_module.Checker._infer_cell

    def spy(self, block, cell):
        found.append((self.ctx.report.name if self.ctx is not None else None, block.name, cell.name))
        return original(self, block, cell)

    monkeypatch.setattr(checker_module.Checker, "_infer_cell", spy)
    return found


def _checked_as_alone(texts: dict[str, str], expected: list[str], times: int = 2,
                      session: CheckSession | None = None) -> Program:
    """Check the program of `texts` `times` times in one session (a new one by default), then without a session:
    each time the rendered diagnostics are `expected`. Returns the last program of the session."""
    session = session if session is not None else CheckSession()
    for _ in range(times):
        program = Program.load([], texts=texts, session=session)
        assert [d.render() for d in program.check()] == expected
    assert [d.render() for d in Program.load([], texts=texts).check()] == expected
    return program


FAMILY = """\
model fam {
    width = 1
    area = width * width + 1
    double = area * 2
}
model a extends fam { width = 3 }
model b extends fam { width = 5 }
model c extends fam { width = 2 s }
"""


def test_a_sibling_of_the_same_shape_is_typed_from_the_first_ones_records(monkeypatch):
    """`a` and `b` extend the family `fam` and override its `width` with numbers of the same dimension: each types
    as fam does and checks no override that can fail ("bare", CheckSession.kin), so they are kin: b's cells are
    typed from a's records, renamed to b (none inferred), and keep them as their own, with a's types. (They are
    not kin to fam itself, whose records a bare block could stand for only where fam were bare too.) `c` writes a
    duration where fam's width is a number: it is inferred, and reports its own unit mismatch (the override's,
    with no follow-on in `area`), as when checked alone."""
    inferred = _spy_inferences(monkeypatch)
    session = CheckSession()
    expected = [   # the override's error alone: the overridden cell's type is unknown after it (no follow-ons)
        "error[unit-mismatch]: 'width' overrides fam.width (count) with s\n"
        "  --> family.perf:8:31\n"
        "  |\n"
        "8 | model c extends fam { width = 2 s }\n"
        "  |                               ^^^\n"
        "  = note: fam.width is defined at family.perf:2:5\n"
        "  = in: model.c.width\n"
        "  = help: an override keeps the dimension of the cell it replaces"]
    program = _checked_as_alone({"family.perf": FAMILY}, expected, times=1, session=session)
    cells = {name: [cell for _, block, cell in inferred if block == name] for name in ("a", "b", "c")}
    assert cells["a"] == cells["c"] == ["width", "area", "double"] * 2       # in the session, then alone
    assert cells["b"] == ["width", "area", "double"], "b is inferred alone only"
    a, b, fam = program.blocks["a"], program.blocks["b"], program.blocks["fam"]
    assert session.kin(a) == session.kin(b) in session.bare_kins
    assert session.kin(a) not in (session.kin(fam), session.kin(program.blocks["c"]))
    for name in ("width", "area", "double"):
        record = session.free[(id(b), name)]
        assert record.block is b and record.key == ("b", name)
        assert record.vtype == session.free[(id(a), name)].vtype
        assert all(item.block is b for item in record.items), "b's records name b's cells, not a's"


CHOSEN_FAMILY = """\
model fam {
    flavour = "a"
    kind: "a" | "b" = flavour
}
model a extends fam { flavour = "b" }
model b extends fam { flavour = "c" }
"""


def test_a_sibling_is_not_typed_from_records_where_a_choice_reads_its_values():
    """The family's choice `kind` takes the value of each model's own `flavour`: a's "b" is one of the options,
    b's "c" is not. The values are part of the shape where the block holds a choice, so b is checked on its own and
    reports its bad choice, in the session as alone."""
    expected = ["error[bad-choice]: 'kind' is one of \"a\" or \"b\", not \"c\"\n"
                "  --> chosen.perf:6:33\n"
                "  |\n"
                "6 | model b extends fam { flavour = \"c\" }\n"
                "  |                                 ^^^\n"
                "  = in: model.b.kind"]
    session = CheckSession()
    program = _checked_as_alone({"chosen.perf": CHOSEN_FAMILY}, expected, session=session)
    assert session.kin(program.blocks["a"]) != session.kin(program.blocks["b"])


FORMULA_FAMILY = """\
model fam {
    width = 1
    height = 1
    area = width * height
}
model p extends fam { width = 3; height = width * 2 }
model q extends fam { width = 4; height = width * 5 }
model r extends fam { width = 4; height = width * 5 s }
"""


def test_a_sibling_whose_own_formulas_have_the_same_structure_is_typed_from_records(monkeypatch):
    """q's own formula `width * 5` reads the same names with the same operators and a number of the same dimension
    as p's `width * 2`: q is typed from p's records. r's `width * 5 s` multiplies by a duration: another shape, so r
    is inferred and reports its override of a count with a duration, as when checked alone."""
    inferred = _spy_inferences(monkeypatch)
    expected = ["error[unit-mismatch]: 'height' overrides fam.height (count) with s\n"
                "  --> formula.perf:8:43\n"
                "  |\n"
                "8 | model r extends fam { width = 4; height = width * 5 s }\n"
                "  |                                           ^^^^^^^^^^^\n"
                "  = note: fam.height is defined at formula.perf:3:5\n"
                "  = in: model.r.height\n"
                "  = help: an override keeps the dimension of the cell it replaces"]
    session = CheckSession()
    program = _checked_as_alone({"formula.perf": FORMULA_FAMILY}, expected, times=1, session=session)
    blocks = [block for _, block, _ in inferred]
    assert blocks.count("q") == 3 and blocks.count("p") == 6 and blocks.count("r") == 6, "q is inferred alone only"
    kin = session.kin
    assert kin(program.blocks["p"]) == kin(program.blocks["q"]) != kin(program.blocks["r"])
    assert kin(program.blocks["p"]) != kin(program.blocks["fam"]), "p's height is a formula where fam's is a number"


PAIR_COST = "costmodel cost { moved: byte = hardware.bw * 1 s }\n"
PAIR_GPUS = """\
hardware gpu { bw = 1 GB/s }
hardware fast extends gpu { bw = 2 GB/s }
hardware slow extends gpu { bw = 3 GB/s }
"""
PAIR_REPORTS = """\
report r1 { hardware = fast; show cost.moved in GB }
report r2 { hardware = slow; show cost.moved in GB }
"""
ODD_GPU = "hardware odd { bw = 2 s }\n"     # a GPU of its own (as a sibling, its override would be the error)
ODD_REPORT = "report r3 { hardware = odd; show cost.moved in GB }\n"
EXPECTED_ODD = [
    "error[unit-mismatch]: 'moved' is declared as byte but its formula gives s^2\n"
    "  --> cost.perf:1:32\n"
    "  |\n"
    "1 | costmodel cost { moved: byte = hardware.bw * 1 s }\n"
    "  |                                ^^^^^^^^^^^^^^^^^\n"
    "  = note: declared at cost.perf:1:25\n"
    "  = in: costmodel.cost.moved"]


def test_reports_sharing_a_cost_model_each_get_their_own_diagnostics():
    """Three reports bind the same cost model's role `hardware`: `fast` and `slow`, siblings of one GPU family (a
    bandwidth; slow typed from fast's records), and `odd`, a GPU of its own whose `bw` is a duration. The cost model's cell is
    recorded for the first reports; the third still reports its own unit mismatch, in a session where the first
    two were checked before (their records kept) as when checked alone, and the first two report nothing."""
    pair = {"cost.perf": PAIR_COST, "gpus.perf": PAIR_GPUS, "reports.perf": PAIR_REPORTS}
    three = {"cost.perf": PAIR_COST, "gpus.perf": PAIR_GPUS, "odd.perf": ODD_GPU, "reports.perf": PAIR_REPORTS,
             "odd_report.perf": ODD_REPORT}
    session = CheckSession()
    first_two = Program.load([], texts=pair, session=session)
    assert first_two.check() == []
    program = _checked_as_alone(three, EXPECTED_ODD, session=session)
    assert program.blocks["cost"] is first_two.blocks["cost"], "the cost model's block is shared"
    assert program.blocks["slow"] is first_two.blocks["slow"]


def test_a_report_binding_the_blocks_of_an_earlier_one_but_the_latest_reuses_its_records(monkeypatch):
    """r1 binds `fast`, r2 `slow`, r3 `fast` again: the cost model's record for r2 replaced r1's as the latest, yet
    r1's is kept (CheckSession.older) and r3 replays it, inferring no cell of the cost model; nothing is reported,
    as when checked alone."""
    inferred = _spy_inferences(monkeypatch)
    again = "report r3 { hardware = fast; show cost.moved in GB }\n"
    texts = {"cost.perf": PAIR_COST, "gpus.perf": PAIR_GPUS, "reports.perf": PAIR_REPORTS + again}
    program = Program.load([], texts=texts, session=CheckSession())
    assert program.check() == []
    assert {report for report, block, _ in inferred if block == "cost" and report is not None} == {"r1", "r2"}
    assert Program.load([], texts=texts).check() == []


def test_the_requires_of_a_block_are_replayed_at_once_as_one_by_one(monkeypatch):
    """constraints.check_requires without a report replays at once the `require` steps of a block whose records all
    hold here (Sharing.replay_requires, CheckSession.requires_entry): the same constraints, in the same order, and
    the same types, records and diagnostics as replaying them one by one (shared_step), for every library file
    checked after the others in one session; there, every block's are replayed at once, and (type_cells having
    typed every cell first) without replaying a record's items."""
    from perfdsl.checker import Checker
    from perfdsl.constraints import check_requires
    from perfdsl.linker import Linker

    monkeypatch.chdir(REPO)
    session = CheckSession()
    for file in LIBRARY:
        Program.load([file], session=session).check()
    at_once, replayed = [], []
    original = shared_checks.Sharing.replay_requires
    replay_record = shared_checks.Sharing._replay

    def counting_replays(self, entry, typed=True):
        replayed.append(entry)
        return replay_record(self, entry, typed)

    def counting(self, block):
        found = original(self, block)
        at_once.append(found is not None)
        return found

    for file in LIBRARY:
        program = Program.load([file], session=session)
        found = []
        for replay in (counting, lambda self, block: None):          # at once, then one by one
            monkeypatch.setattr(shared_checks.Sharing, "replay_requires", replay)
            checker = Checker(program.blocks, program.sources, None,
                              Linker(program.blocks, None, program._roles_of_reports()), session=session)
            checker.type_cells(program.blocks.values())
            replayed.clear()
            monkeypatch.setattr(shared_checks.Sharing, "_replay", counting_replays)
            applicable = check_requires(checker, program.blocks.values(), None)
            monkeypatch.setattr(shared_checks.Sharing, "_replay", replay_record)
            if replay is counting:
                assert replayed == [], file
            found.append(([(id(block), owner, id(require)) for block, owner, require in applicable],
                          list(checker.types.items()), checker.reach, checker._entries,
                          [d.render() for d in checker.diagnostics]))
        assert found[0] == found[1], file
    blocks_with_requires = sum(1 for file in LIBRARY for block in Program.load([file], session=session).blocks.values()
                               if block.requires)
    assert at_once == [True] * blocks_with_requires


SET_GPUS = """\
hardware gpu {
    efficiency = 0.9
    bw = 1 GB/s
    effective_bw = bw * efficiency
}
hardware fast extends gpu { bw = 2 GB/s }
hardware slow extends gpu { bw = 3 GB/s; extra = effective_bw * 2 }
"""
SET_NUMBER = 'import "gpus.perf"\nset { gpu.efficiency = 0.5 }\n'
SET_DURATION = 'import "gpus.perf"\nset { gpu.efficiency = 0.5 s }\n'
SET_FORMULA = 'import "gpus.perf"\nset { gpu.effective_bw = bw * 2 s }\n'


def test_blocks_under_a_set_number_are_typed_from_the_records_of_the_blocks_they_stand_for(monkeypatch, tmp_path):
    """A calibration's `set { gpu.efficiency = 0.5 }` makes a new `gpu` Block, and new Blocks of `fast` and `slow`
    that extend it: a number of the dimension of the one it replaces, so each is kin to the block it stands for
    (CheckSession.kin), and a program that imports the set, checked after gpus.perf in one session, infers none of
    their cells. A set of a duration over the number is the error, and a formula of another dimension set over a
    formula (Block.set_over) is checked at the set: those programs infer their blocks' cells and report as alone."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "gpus.perf").write_text(SET_GPUS, encoding="utf-8")
    inferred = _spy_inferences(monkeypatch)
    session = CheckSession()
    library = Program.load(["gpus.perf"], session=session)
    assert library.check() == []
    (tmp_path / "set.perf").write_text(SET_NUMBER, encoding="utf-8")
    inferred.clear()
    calibrated = Program.load(["set.perf"], session=session)
    assert calibrated.check() == []
    assert inferred == [], "every block under the set is typed from the records of the block it stands for"
    for name in ("gpu", "fast", "slow"):
        assert calibrated.blocks[name] is not library.blocks[name]
        assert session.kin(calibrated.blocks[name]) == session.kin(library.blocks[name]) is not None
        assert {cell: record.vtype for (block, cell), record in session.free.items()
                if block == id(calibrated.blocks[name])} == \
            {cell: record.vtype for (block, cell), record in session.free.items() if block == id(library.blocks[name])}
    for setting, applied in ((SET_DURATION, False), (SET_FORMULA, True)):
        (tmp_path / "set.perf").write_text(setting, encoding="utf-8")
        alone = [d.render() for d in Program.load(["set.perf"]).check()]
        assert alone, "the set is an error"
        inferred.clear()
        program = Program.load(["set.perf"], session=session)
        assert [d.render() for d in program.check()] == alone
        if applied:       # held to the formula's type at the set: not kin, inferred
            assert session.kin(program.blocks["fast"]) is None
            assert {block for _, block, _ in inferred} >= {"gpu", "fast", "slow"}
        else:             # a number of another dimension is not set at all: the library's blocks
            assert program.blocks["fast"] is library.blocks["fast"]


RENAMED_MODEL = """\
model fam {
    hf_id = "fam"
    layers = 2
    width = 4
    params = layers * width * width
}
model base extends fam { hf_id = "org/base"; layers = 32; width = 4096 }
model renamed extends base { hf_id = "org/renamed"; layers = 30 }
model wrong extends base { hf_id = "org/wrong"; layers = 30 s }
"""


def test_a_block_that_only_overrides_its_parents_cells_alike_is_typed_from_its_parents_records(monkeypatch):
    """A report's model that changes only its name and a count of its parent's (`renamed`) types as its parent
    does, and so does the parent over the family (`base` overrides only the family's numbers with numbers): both
    are bare, kin, and renamed's cells are typed from base's records, none inferred. `wrong` gives a duration for
    the count: inferred, and its error reported, in the session as alone."""
    inferred = _spy_inferences(monkeypatch)
    expected = [
        "error[unit-mismatch]: 'layers' overrides base.layers (count) with s\n"
        "  --> renamed.perf:9:58\n"
        "  |\n"
        "9 | model wrong extends base { hf_id = \"org/wrong\"; layers = 30 s }\n"
        "  |                                                          ^^^^\n"
        "  = note: base.layers is defined at renamed.perf:7:46\n"
        "  = in: model.wrong.layers\n"
        "  = help: an override keeps the dimension of the cell it replaces"]
    session = CheckSession()
    program = _checked_as_alone({"renamed.perf": RENAMED_MODEL}, expected, times=1, session=session)
    blocks = [block for _, block, _ in inferred]
    assert blocks.count("renamed") == 4, "inferred alone only"
    assert blocks.count("wrong") == 8, "inferred in the session and alone"
    kin = session.kin
    assert kin(program.blocks["renamed"]) == kin(program.blocks["base"]) in session.bare_kins
    assert kin(program.blocks["base"]) != kin(program.blocks["fam"])


CHOICE_THROUGH_KIN = """\
model fam { flavour = "a" }
model odd extends fam { flavour = "z" }
model chooser extends fam { kind: "a" | "b" = flavour }
model odd_chooser extends odd { kind: "a" | "b" = flavour }
"""


def test_a_choice_that_reads_an_inherited_string_is_not_typed_from_a_kin_whose_string_differs():
    """`odd` overrides the family's string with a string: it types as the family where no choice reads it. But the
    choice `kind` reads `flavour`, which is "a" in chooser and "z" in odd_chooser: where a choice reads cells, the
    values of strings count in the whole chain (CheckSession.kin), so odd_chooser is checked on its own and reports
    its bad choice, in the session as alone."""
    expected = ["error[bad-choice]: 'kind' is one of \"a\" or \"b\", not \"z\"\n"
                "  --> chosen.perf:2:35\n"
                "  |\n"
                "2 | model odd extends fam { flavour = \"z\" }\n"
                "  |                                   ^^^\n"
                "  = in: model.odd_chooser.kind"]
    session = CheckSession()
    program = _checked_as_alone({"chosen.perf": CHOICE_THROUGH_KIN}, expected, session=session)
    kin = session.kin
    assert kin(program.blocks["odd"]) in session.bare_kins, "where no choice reads it, the string is its kind"
    assert kin(program.blocks["chooser"]) != kin(program.blocks["odd_chooser"])


CHECKED_IN_THE_PARENT = """\
model fam { width = 4; area = width * width }
model m0 extends fam { area = 3 }
model m1 extends m0 { area = 5 s }
model m2 extends m1 { }
"""
SET_UNDER_THE_PARENT = "model r0 extends fam { }\nset { m0.area = 3 }\n"


def test_a_block_that_checks_nothing_does_not_stand_for_a_parent_that_checks_an_override():
    """m1 overrides m0's count `area` with a duration (an error, so m1's records are not clean); m2 only inherits it,
    checks nothing and types cleanly, and types as m1 does. The `set` of m0 makes new m0 and m1 Blocks: the new m1
    must check its override again, not take m2's clean records (a bare block is kin to a parent only where the
    parent is bare too). Found by tests/test_shared_checks_properties.py."""
    library = {"lib.perf": CHECKED_IN_THE_PARENT}
    calibrated = {**library, "calibrated.perf": SET_UNDER_THE_PARENT}
    alone = [d.render() for d in Program.load([], texts=calibrated).check()]
    assert any("'area' overrides m0.area (count) with s" in text for text in alone)
    session = CheckSession()
    program = Program.load([], texts=library, session=session)
    assert [d.render() for d in program.check()] == [d.render() for d in Program.load([], texts=library).check()]
    assert session.kin(program.blocks["m2"]) != session.kin(program.blocks["m1"])
    assert [d.render() for d in Program.load([], texts=calibrated, session=session).check()] == alone
