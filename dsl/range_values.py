"""The values of a range between numbers (`START .. STOP by STEP`, `START .. STOP by *FACTOR`), in SI: the axis of a
swept range (sweeps._range_coord, which checks the range first and says what is wrong with it) and an override's
value compared with another (overrides.value_key: `--set batch="1 .. 4"` is the value `--set batch=1,2,3,4` is)."""

from __future__ import annotations

import math

from .lazy_numpy import lazy_numpy

np = lazy_numpy(__name__)     # the checker imports this module; numpy at its first use (lazy_numpy.py)


def range_steps(start: float, stop: float, step: float, geometric: bool) -> float:
    """How many steps (a fraction where the last falls short of `stop`) the range takes from `start` to `stop`; -1
    where it ends before it starts. `step` is the factor of a geometric range (above 1, the start above 0) or the
    step added (above 0)."""
    if stop < start:
        return -1.0
    return math.log(stop / start) / math.log(step) if geometric else (stop - start) / step


def range_points(start: float, stop: float, step: float, geometric: bool, steps: float) -> np.ndarray:
    """The range's values, both ends included where the steps reach `stop` (`steps`: range_steps, finite):
    start * step^k, or start + step * k rounded to 12 significant digits (0 .. 1 by 0.1 gives 0.3)."""
    count = point_count(start, stop, steps)
    if geometric:
        return start * step ** np.arange(count)
    return round12(start + step * np.arange(count))


def range_point_list(start: float, stop: float, step: float, geometric: bool, steps: float) -> list[float]:
    """range_points as a list, without numpy (a check: sweeps.build_context): an arithmetic range's values are
    range_points' (each start + step * k, one multiplication and one addition of doubles, then rounded12); a
    geometric range's are start * step ** k by the C library's pow, which numpy's may differ from by an ulp (numpy
    2 computes powers with SIMD code on AVX-512 machines): a check counts them and reads no value."""
    count = point_count(start, stop, steps)
    if geometric:
        return [start * step ** k for k in range(count)]
    return rounded12([start + step * k for k in range(count)])


def point_count(start: float, stop: float, steps: float) -> int:
    """How many values range_points gives."""
    return int(math.floor(steps + 1e-9)) + 1 if stop >= start else 0


# Up to this many values, round12 rounds each through its text.
ROUNDED_BY_TEXT = 100_000


def round12(values: np.ndarray) -> np.ndarray:
    """Values rounded to 12 significant digits, so that 0 .. 1 by 0.1 gives 0.3, not 0.30000000000000004.
    Through text for ordinary sizes (exact); vectorised for long ranges, where formatting each would take seconds."""
    if len(values) <= ROUNDED_BY_TEXT:
        return np.array([float(f"{v:.12g}") for v in values.tolist()])
    with np.errstate(all="ignore"):
        magnitude = np.floor(np.log10(np.abs(np.where(values == 0, 1.0, values))))
        scale = 10.0 ** (11 - magnitude)
        rounded = np.round(values * scale) / scale
    return np.where(np.isfinite(rounded), rounded, values)


def rounded12(values: list) -> list[float]:
    """round12(np.array(values, float)).tolist(), in plain Python up to ROUNDED_BY_TEXT values (no numpy imported)."""
    if len(values) <= ROUNDED_BY_TEXT:
        return [float(f"{v:.12g}") for v in map(float, values)]
    return round12(np.array(values, float)).tolist()
