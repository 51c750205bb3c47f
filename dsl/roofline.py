"""Plot stage, pure part: a sweep point's operation classes on the roofline (arithmetic intensity, achieved rate).

Which cost models: those whose cells the report shows directly, else every one that names a class (see
`_class_blocks`). A cost model names, per operation class, the work and the memory traffic of one kernel (or of one layer's
kernels of that class) as a pair of cells: `proj_flops` / `proj_bytes`, `mlp_flops` / `mlp_bytes` (prefix
`proj`), or `flops` / `bytes` for a whole step (the class is then the block's name, e.g. `decode`). The class's
time is the cell `PREFIX_time` (the roofline time of that class), or for a whole step `step_time`, `time` or
`runtime`. A class without a time cell is placed on its achievable roof. Arithmetic intensity = flops / bytes
(FLOP/byte); achieved rate = flops / time (FLOP/s).

The ceilings drawn: the GPU's peak (`workload.matmul_peak`, the precision's tensor peak in
costmodels/transformer_inference.perf, else `hardware.peak_fp16`) and its memory bandwidth (`hardware.mem_bw`),
then the cost model's achievable rates (every cell of a class's block in FLOP/s or byte/s, e.g.
`prefill.matmul_rate = hardware.matmul_efficiency * workload.matmul_peak`, `prefill.bandwidth`).

Classes whose bytes or flops are zero (element-wise kernels: no FLOPs counted) have no intensity on a log axis;
they are listed in `memory_only` with their time, so a reader still sees them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import ir
from .linker import walk
from .errors import PerfError, UsageError, error
from .explain import Explainer, choose_point
from .units import Dimension, parse_unit

FLOP = parse_unit("FLOP").dim
BYTE = parse_unit("byte").dim
SECOND = parse_unit("s").dim
FLOP_RATE = parse_unit("FLOP/s").dim
BYTE_RATE = parse_unit("byte/s").dim

PEAK_CELLS = ("workload.matmul_peak", "hardware.peak_fp16")
BANDWIDTH_CELLS = ("hardware.mem_bw",)
STEP_TIME_CELLS = ("step_time", "time", "runtime")


@dataclass
class OperationClass:
    """One operation class at the sweep point: its name ("prefill proj", "decode"), its work (FLOP), its memory traffic
    (byte), its time (s), and the cell the time came from ("achievable roof" where the class has no time cell and is
    placed on its roof), and whether its cells are one layer's (`per_layer`: the block's `layer_time` sums its time
    cell, as costmodels/transformer_inference.perf's prefill does for proj, attention, mlp and elementwise, while
    its head and allreduce are the step's): the legend says so, as one layer's 4 ms beside a step's 167 ms read as
    the smaller share of the step."""

    name: str               # "prefill proj", "decode"
    flops: float            # FLOP
    bytes: float            # byte
    time: float             # s
    time_cell: str          # where the time came from: "prefill.proj_time", or "achievable roof"
    per_layer: bool = False

    @property
    def intensity(self) -> float:
        """FLOP per byte."""
        return self.flops / self.bytes

    @property
    def rate(self) -> float:
        """Achieved FLOP/s."""
        return self.flops / self.time


@dataclass
class Ceiling:
    """One roof of the plot: its name, its value (FLOP/s for "compute", byte/s for "bandwidth"), and whether it is a
    cost model's achievable rate (drawn dashed) rather than the datasheet's figure."""

    name: str               # "peak (workload.matmul_peak)", "prefill.matmul_rate"
    value: float            # FLOP/s or byte/s
    kind: str               # "compute" | "bandwidth"
    achievable: bool        # a cost-model rate (dashed) rather than the datasheet's figure


@dataclass
class RooflineView:
    """A sweep point's operation classes on the roofline: the title, the point in words, the GPU's label, the classes,
    the ceilings, and (class, time in s) for the classes with no FLOPs or no bytes."""

    title: str
    point: str                                    # "model=opt_125m, hardware=rtx_a5000, batch=1 ..."
    gpu: str                                      # the hardware block's label
    classes: list[OperationClass]
    ceilings: list[Ceiling]
    memory_only: list[tuple[str, float]] = field(default_factory=list)   # (class, time in s)
    defaulted: list[str] = field(default_factory=list)   # axes at their first value because --at did not name them
    # points = "runs": how the point was chosen among the runs' points ("the first of 3 runs' points; ..."), or ""
    note: str = ""

    @property
    def peak(self) -> float:
        """The datasheet's compute peak, FLOP/s (the largest non-achievable compute ceiling). Raises ValueError where
        there is none (roofline_view always adds one)."""
        return max(c.value for c in self.ceilings if c.kind == "compute" and not c.achievable)

    @property
    def bandwidth(self) -> float:
        """The datasheet's memory bandwidth, byte/s (the largest non-achievable bandwidth ceiling). Raises ValueError
        where there is none (roofline_view always adds one)."""
        return max(c.value for c in self.ceilings if c.kind == "bandwidth" and not c.achievable)

    @property
    def ridge(self) -> float:
        """The intensity (FLOP/byte) where the datasheet's roofs meet."""
        return self.peak / self.bandwidth


class _PointCells:
    """Cells of the report evaluated at one sweep point, with their dimensions. `points` (explain_runs.with_runs):
    the flat sweep indices of a `points = "runs"` report's runs' points, eval's rows; the point is then the first of
    them that `at` matches, as explain takes it (`note` says so where others match), not the report's own sweep at
    its first values (which drew a point no run has, and refused --at n_gpus=2)."""

    def __init__(self, program, report: str | None, at: dict[str, str], points: np.ndarray | None = None,
                 matched: np.ndarray | None = None):
        self.program = program
        self.ctx, self.checker = program.prepare(report)
        self.note = ""
        if points is None:
            self.fix, self.defaulted = choose_point(self.ctx, at)
        else:
            from .explain_runs import choose_run_point, kept_words, others_note

            self.fix, *others = choose_run_point(self.ctx, at, points, matched)
            self.defaulted = []
            self.note = others_note(self.ctx, self.fix, others, frozenset(a.index for a in self.ctx.axes), bool(at),
                                    kept_words(self.ctx, at, points, matched))
        self.explainer = Explainer(program, self.ctx, self.checker, self.fix)
        self._dims: dict[str, Dimension | None] = {}

    def dim(self, dotted: str) -> Dimension | None:
        """The dimension of ROLE.CELL or BLOCK.CELL; None where it is not a number or not reachable."""
        if dotted not in self._dims:
            ref = ir.Ref.model_construct(parts=tuple(dotted.split(".")), span=self.ctx.report.span)
            self.checker.diagnostics.clear()
            try:
                vtype = self.checker.ref_type(ref, self.ctx.report, f"report.{self.ctx.report.name}")
            except PerfError:
                vtype = None
            if self.checker.diagnostics or getattr(vtype, "kind", None) != "num":
                vtype = None
            self.checker.diagnostics.clear()
            self._dims[dotted] = getattr(vtype, "dim", None)
        return self._dims[dotted]

    def value(self, dotted: str) -> object:
        """The value at the point (SI number, string or boolean) of a cell `dim` or `text` accepted."""
        ref = ir.Ref.model_construct(parts=tuple(dotted.split(".")), span=self.ctx.report.span)
        block, name = self.explainer.resolve(ref, self.ctx.report)
        evaluator = self.explainer.evaluator
        scalar = np.asarray(evaluator.run(lambda: evaluator.cell(block, name, self.fix))).reshape(-1)[0]
        return scalar.item() if hasattr(scalar, "item") else scalar

    def number(self, dotted: str, dim: Dimension) -> float | None:
        """A number of dimension `dim` at the point; None where the cell is missing, of another dimension or
        not finite, or reads a declared input left without a value (`peak_fp16 = peak_fp8 / 2` on a part whose
        datasheet lacks peak_fp8). The last is said by the check's first look at the cell only (the checker keeps
        its type, not its diagnostic), so dim() finds it the first time alone: a second roofline of one program (the
        workbook's second section) reached the value and raised missing-input, which failed the whole workbook."""
        if self.dim(dotted) != dim:
            return None
        try:
            value = float(self.value(dotted))
        except PerfError as exc:
            if exc.diagnostics and all(d.code == "missing-input" for d in exc.diagnostics):
                return None
            raise
        return value if np.isfinite(value) else None

    def text(self, dotted: str) -> str | None:
        parts = dotted.split(".")
        role = self.ctx.fixed_roles.get(parts[0])
        if role is None and parts[0] in self.ctx.swept_roles:
            index, coord = self.ctx.swept_roles[parts[0]]
            role = coord.values[self.fix[index]]
        block = self.program.blocks.get(role or parts[0])
        cell = block.cells.get(parts[1]) if block is not None else None
        if cell is None or not isinstance(cell.expr, ir.Str):
            return None
        return cell.expr.value


def roofline_view(program, report: str | None = None, at: dict[str, str] | None = None,
                  points: np.ndarray | None = None, matched: np.ndarray | None = None) -> RooflineView:
    """The roofline of one sweep point (`at`: AXIS=VALUE texts; axes not named take their first value). `points`:
    with `points = "runs"`, the runs' points (explain_runs.with_runs gives them, every point a run matched,
    `matched`, and the program to pass): the point is the first of them that `at` matches, as eval's rows and
    `explain` have it.

    Raises UsageError when the report's cost models name no flops/bytes pair or the GPU has no peak or bandwidth, and
    (bad-point) for an `at` no point (no run's point, or none the report's `where` keeps) has.
    """
    cells = _PointCells(program, report, at or {}, points)
    ceilings = []
    for kind, names, dim in (("compute", PEAK_CELLS, FLOP_RATE), ("bandwidth", BANDWIDTH_CELLS, BYTE_RATE)):
        for dotted in names:
            value = cells.number(dotted, dim)
            if value:
                ceilings.append(Ceiling(f"{'peak' if kind == 'compute' else 'memory bandwidth'} ({dotted})",
                                        value, kind, False))
                break
        else:
            raise UsageError(error("bad-plot", f"no {kind} ceiling: the report reaches none of "
                                   + ", ".join(names), hints=["bind a hardware block that has them"]))

    classes: list[OperationClass] = []
    memory_only: list[tuple[str, float]] = []
    blocks = _class_blocks(program, cells.ctx)
    for block_name in blocks:
        block = program.blocks[block_name]
        per_layer = _summed_by_layer_time(block)
        for cell in block.cells:
            if not (cell.endswith("_flops") or cell == "flops"):
                continue
            prefix = cell[: -len("flops")]
            flops = cells.number(f"{block_name}.{cell}", FLOP)
            nbytes = cells.number(f"{block_name}.{prefix}bytes", BYTE) if prefix + "bytes" in block.cells else None
            if flops is None or nbytes is None:
                continue
            time, time_cell = None, ""
            for name in ((prefix + "time",) if prefix else STEP_TIME_CELLS):
                if name in block.cells:
                    time, time_cell = cells.number(f"{block_name}.{name}", SECOND), f"{block_name}.{name}"
                    if time:
                        break
            label = f"{block_name} {prefix.rstrip('_')}".strip()
            if flops <= 0 or nbytes <= 0:
                if time:
                    memory_only.append((label + (" (per layer)" if prefix + "time" in per_layer else ""), time))
                continue
            if not time:
                time, time_cell = _on_roof(flops, nbytes, ceilings), "achievable roof"
            classes.append(OperationClass(label, flops, nbytes, time, time_cell, prefix + "time" in per_layer))
        for cell in block.cells:
            prefix = cell[: -len("bytes")]
            if cell.endswith("_bytes") and prefix + "flops" not in block.cells and prefix + "time" in block.cells:
                time = cells.number(f"{block_name}.{prefix}time", SECOND)
                if time and cells.number(f"{block_name}.{cell}", BYTE):
                    memory_only.append((f"{block_name} {prefix.rstrip('_')}"
                                        + (" (per layer)" if prefix + "time" in per_layer else ""), time))
            for kind, dim in (("compute", FLOP_RATE), ("bandwidth", BYTE_RATE)):
                value = cells.number(f"{block_name}.{cell}", dim)
                if value:
                    ceilings.append(Ceiling(f"{block_name}.{cell}", value, kind, True))
    if not classes:
        raise UsageError(error("bad-plot", "the report's cost models name no operation class with both FLOPs and "
                               "bytes (cells NAME_flops and NAME_bytes, or flops and bytes for a whole step)",
                               hints=_half_pairs(program, cells.ctx) + ["see docs/LANGUAGE.md, 'Plots'"]))
    gpu_text = cells.text("hardware.label") or ""
    point = cells.explainer.point_text()
    return RooflineView(title=f"{cells.ctx.report.name}: roofline" + (f" on {gpu_text}" if gpu_text else ""),
                        point=point, gpu=gpu_text, classes=classes, ceilings=_unique(ceilings),
                        memory_only=memory_only, defaulted=cells.defaulted, note=cells.note)


# The most half pairs the roofline's error lists.
LIST_LIMIT = 6


def _half_pairs(program, ctx) -> list[str]:
    """For the roofline's error: each cell of a flops/bytes pair whose other half is missing, in the cost models the
    report shows a cell of (else in every cost model): "'decode' has 'flops' but no 'bytes'", "'decode' has
    'attn_flops' but no 'attn_bytes'" (a NAME_bytes alone is not listed: `weight_bytes` is a size, not half a pair)."""
    costmodels = {name: block for name, block in program.blocks.items() if block.kind == "costmodel"}
    shown = [item.ref.parts[0] for item in ctx.report.shows if len(item.ref.parts) == 2]
    names = [name for name in dict.fromkeys(shown) if name in costmodels] or list(costmodels)
    found = []
    for name in names:
        cells = costmodels[name].cells
        for cell in cells:
            for have, want in (("flops", "bytes"), ("bytes", "flops")):
                # NAME_bytes alone is a size as often as half a pair (`weight_bytes`): only the whole step's counts
                if (cell == have or (have == "flops" and cell.endswith("_flops"))) \
                        and cell[: -len(have)] + want not in cells:
                    found.append(f"'{name}' has '{cell}' but no '{cell[: -len(have)] + want}'")
    return found[:LIST_LIMIT] + ([f"... and {len(found) - LIST_LIMIT} more"] if len(found) > LIST_LIMIT else [])


def _summed_by_layer_time(block) -> set[str]:
    """The cells of `block` that its `layer_time` cell adds up (by name, in its own block): one layer's times."""
    cell = block.cells.get("layer_time")
    if cell is None or cell.expr is None:
        return set()
    return {node.parts[0] for node in walk(cell.expr) if node.kind == "ref" and len(node.parts) == 1}


def _has_classes(block) -> bool:
    return any((name.endswith("_flops") or name == "flops") and name[: -len("flops")] + "bytes" in block.cells
               for name in block.cells)


def _class_blocks(program, ctx) -> list[str]:
    """The cost-model blocks whose operation classes are drawn: those the report shows a cell of directly
    (`show prefill.runtime`: the seed report's prefill, not the decode step it never runs), or, where none of
    those names a class (`show serving.tpot`), every cost-model block that does."""
    costmodels = {name: block for name, block in program.blocks.items() if block.kind == "costmodel"}
    shown = [item.ref.parts[0] for item in ctx.report.shows if len(item.ref.parts) == 2]
    direct = [name for name in dict.fromkeys(shown) if name in costmodels and _has_classes(costmodels[name])]
    return direct or [name for name, block in costmodels.items() if _has_classes(block)]


def _on_roof(flops: float, nbytes: float, ceilings: list[Ceiling]) -> float:
    peak = max(c.value for c in ceilings if c.kind == "compute")
    bandwidth = max(c.value for c in ceilings if c.kind == "bandwidth")
    return max(flops / peak, nbytes / bandwidth)


def _unique(ceilings: list[Ceiling]) -> list[Ceiling]:
    """One ceiling per value and kind (an achievable rate equal to the peak adds nothing)."""
    seen, kept = set(), []
    for ceiling in ceilings:
        key = (ceiling.kind, round(ceiling.value, 6))
        if key not in seen:
            seen.add(key)
            kept.append(ceiling)
    return kept
