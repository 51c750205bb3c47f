"""Property test (hypothesis) of the sharing of checks between programs (dsl/shared_checks.py): random families of
blocks, with overrides of every kind (numbers of the same or another dimension, strings, formulas of the same or
another structure, a choice that reads an inherited string) and calibration-like `set` entries, checked in one
CheckSession after other programs over the same family report exactly what each program reports checked alone.
The records a block takes from its kin (CheckSession.kin: siblings, a block that only renames its parent, the blocks
under a `set`) must never hide or change a diagnostic.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perfdsl.errors import PerfError
from perfdsl.program import Program
from perfdsl.shared_checks import CheckSession

SCALE = float(os.environ.get("PERFDSL_EXAMPLES", "0")) / 60 or 1.0
SHARED = settings(max_examples=int(60 * SCALE), deadline=None, suppress_health_check=[HealthCheck.too_slow])

# The family every program imports: numbers of three dimensions, a string a choice reads, formulas over them.
FAMILY = """\
model fam {
    width = 4
    size = 2 GB
    rate = 1 GB/s
    flavour = "x"
    kind: "x" | "y" = flavour
    area = width * width
    time = size / rate
    scaled = if(flavour == "x", area, area * 2)
}
"""

# What an own cell of a generated block may be written as: each a value of the cell's own type or of another.
NUMBERS = ["3", "7", "5 s", "3 GB", "4 GB/s", '"z"', '"y"', "width * 3", "width * 3 s", "size / 2", "rate * 2 s"]
STRINGS = ['"x"', '"y"', '"q"', "3"]
CELLS = {"width": NUMBERS, "size": NUMBERS, "rate": NUMBERS, "flavour": STRINGS, "area": NUMBERS,
         "time": NUMBERS}


@st.composite
def blocks(draw, prefix: str, parents: list[str], count: int) -> list[tuple[str, str, str]]:
    """`count` blocks (name, parent, text), each extending the family or a block made before it, overriding a few
    cells (or none: a block that only renames its parent)."""
    made = []
    names = list(parents)
    for index in range(count):
        name = f"{prefix}{index}"
        parent = draw(st.sampled_from(names))
        chosen = draw(st.lists(st.sampled_from(sorted(CELLS)), max_size=3, unique=True))
        cells = "; ".join(f"{cell} = {draw(st.sampled_from(CELLS[cell]))}" for cell in chosen)
        made.append((name, parent, f"model {name} extends {parent} {{ {cells} }}\n"))
        names.append(name)
    return made


@st.composite
def programs(draw) -> tuple[dict[str, str], dict[str, str]]:
    """Two programs over one family: the library (the family and its models) and a calibration-like one that loads
    it too and adds models of its own, maybe with `set` entries over the family's or a model's cells (the texts of
    a program are all loaded: no `import` is needed)."""
    library = draw(blocks("m", ["fam"], draw(st.integers(1, 4))))
    extra = draw(blocks("r", ["fam"] + [name for name, _, _ in library], draw(st.integers(1, 3))))
    sets = draw(st.lists(st.tuples(st.sampled_from(["fam"] + [name for name, _, _ in library]),
                                   st.sampled_from(sorted(CELLS)), st.sampled_from(NUMBERS + STRINGS)),
                         max_size=2, unique_by=lambda entry: entry[:2]))
    lib = {"lib.perf": FAMILY + "".join(text for _, _, text in library)}
    calibration = ("".join(text for _, _, text in extra)
                   + ("set {\n" + "".join(f"    {block}.{cell} = {value}\n" for block, cell, value in sets) + "}\n"
                      if sets else ""))
    return lib, {**lib, "calibrated.perf": calibration}


def _rendered(texts: dict[str, str], session: CheckSession | None) -> list[str]:
    try:
        program = Program.load([], texts=texts, session=session)
    except PerfError as exc:                    # a program whose load already fails reports the same as alone too
        return [d.render() for d in exc.diagnostics]
    return [d.render() for d in program.check()]


@SHARED
@given(programs())
def test_programs_checked_in_one_session_report_what_each_reports_alone(pair):
    library, calibrated = pair
    alone = {"library": _rendered(library, None), "calibrated": _rendered(calibrated, None)}
    session = CheckSession()
    for which, texts in (("library", library), ("calibrated", calibrated), ("library", library),
                         ("calibrated", calibrated)):
        assert _rendered(texts, session) == alone[which], which
