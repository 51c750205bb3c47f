"""The context of a report (stage 3b, data only): the roles it binds and the axes of its sweep.

`sweeps.build_context` fills it; the linker, checker, evaluator, explain and the outputs read it. It holds no logic
that needs other stages, so every stage can import it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import ir
from .lazy_numpy import lazy_numpy
from .units import Dimension

if TYPE_CHECKING:
    from .blocks import Block

np = lazy_numpy(__name__)


@dataclass
class Coord:
    """One named coordinate of an axis: a swept cell (`batch`) or a swept role (`model`)."""

    name: str
    owner: str                    # the block that declares the sweep
    kind: str                     # "num" | "str" | "bool" | "role" | "unknown" (a value the parser reported)
    # SI numbers, strings, booleans, or block names for a role; a tuple of them in a check's context (a check computes
    # nothing over the sweep: sweeps.build_context with arrays=False), read through value_list there.
    values: np.ndarray | tuple
    dim: Dimension | None = None
    unit: str = ""                # display unit of the axis values
    scale: float = 1.0
    span: ir.Span | None = None
    # Whether the axis is written as integers (batch 8, not 8.0): a plain number axis (no unit) whose values are all
    # whole. Decided once, over the whole axis, when it is built: a chunk's axis (chunks.slice_context cuts `values`
    # with dataclasses.replace, which keeps this) is written as the whole sweep's is, in every output format.
    integral: bool | None = None

    def __post_init__(self) -> None:
        if self.integral is None:
            self.integral = self.kind == "num" and not self.unit and (
                _all_whole([value / self.scale for value in self.values]) if isinstance(self.values, tuple)
                else whole_valued(self.display_values()))

    def value_list(self) -> list:
        """The values as a list of Python objects (numpy's tolist()), from an array or a check's tuple."""
        return list(self.values) if isinstance(self.values, tuple) else self.values.tolist()

    def display_values(self) -> np.ndarray:
        if self.kind == "num":
            return self.values / self.scale
        return self.values

    def output_values(self) -> np.ndarray:
        """The values as outputs write them: display_values(), as int64 where the whole axis is `integral`."""
        values = self.display_values()
        return values.astype(np.int64) if self.integral else values


def whole_valued(values: np.ndarray) -> bool:
    """Whether float values are all whole numbers that int64 holds exactly (below 2**53)."""
    values = np.asarray(values)
    return values.dtype.kind == "f" and bool(np.isfinite(values).all()) and bool(np.all(np.mod(values, 1) == 0)) \
        and float(np.abs(values).max(initial=0)) < 2**53


def _all_whole(values: list[float]) -> bool:
    """whole_valued of floats, in plain Python (a check's coordinates)."""
    return all(math.isfinite(value) and value % 1 == 0 for value in values) \
        and max(map(abs, values), default=0) < 2**53


@dataclass
class Axis:
    index: int
    name: str
    coords: list[Coord]

    @property
    def length(self) -> int:
        return len(self.coords[0].values)


@dataclass
class ReportContext:
    report: "Block"
    axes: list[Axis] = field(default_factory=list)
    fixed_roles: dict[str, str] = field(default_factory=dict)          # role -> block name
    swept_roles: dict[str, tuple[int, Coord]] = field(default_factory=dict)
    sweep_cells: dict[tuple[str, str], tuple[int, Coord]] = field(default_factory=dict)
    # A chunk of a larger sweep (chunks.slice_context): the axes cut down to one position, and the whole's points,
    # so that warnings name the point and count the points as the whole evaluation does.
    pinned: frozenset[int] = frozenset()
    whole_points: int | None = None
    # A report with `points = "runs"`: each cell name of a block it binds to an unswept role -> that role (the first
    # such block holding it, as run_points.overrides_from_runs picks the cell a run's field sweeps). A bare name in a
    # `where` line or a question reads that cell whether or not the runs given make it an axis (queries.bind_axes),
    # so that `check` (which reads no runs) and eval, plot and explain (which do) read it alike.
    run_fields: dict[str, str] = field(default_factory=dict)
    # Roles whose binding is an error at the binding (role_kinds.py: a block of the wrong kind, a list without
    # `sweep`): a formula that reads one is that error's consequence, not an error of its own (linker.py).
    refused_roles: frozenset[str] = frozenset()

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(axis.length for axis in self.axes)

    @property
    def n_points(self) -> int:
        return math.prod(self.shape) if self.axes else 1

    def role_blocks(self, role: str) -> list[str] | None:
        if role in self.fixed_roles:
            return [self.fixed_roles[role]]
        if role in self.swept_roles:
            return list(dict.fromkeys(self.swept_roles[role][1].value_list()))
        return None

    @property
    def roles(self) -> list[str]:
        return list(self.fixed_roles) + list(self.swept_roles)
