"""A measured column read in the wrong unit (stage 5, beside matching.py), said out loud.

A log's header names the unit of its values (`e2e_latency [ms]`); a header that names the wrong one (values in
seconds under `[ms]`) is read without a word, every value 1000 times off, and the Error columns show +100,000%.
A cost model's estimate can be bad, but not by a power of 1000 over every run at once: the worst comparison of
the seed report is a factor of 4 (seed_benchmark's memory at -74.8%: measured / estimated = 1 / (1 - 0.748)
= 3.97), and a cost model off by 500x or more is broken whatever the log's units. So a metric is warned about
(`measured-unit-scale`) where, over the runs of one log, the median of measured / estimated lies within a factor of
SCALE_SLACK (2) of 1000^k for some whole k != 0: between 1/2000 and 1/500 (the ms-for-s slip), 500 and 2000
(s-for-ms, GB-for-MB), 1/2e6 and 1/5e5 ... A median of 2000 to 5e5 is no slip of one prefix and is not said; a
median within 500x of the estimates never is. The median, not each run: one wild run does not make the warning, and
a handful of right runs does not hide it. The hint names the unit that makes them agree, where the table of units
has one of the same dimension (ms -> s, GB -> TB, J/request -> kJ/request).
"""

from __future__ import annotations

import math

import numpy as np

from .errors import Diagnostic, Location

SCALE_SLACK = 2.0       # how far (a factor) the median ratio may lie from a power of 1000


def power_of_1000(ratio: float) -> int:
    """The whole k != 0 with `ratio` within a factor SCALE_SLACK of 1000^k, or 0 where there is none (a ratio
    between 1/500 and 500, between 2000 and 500,000 ..., not a finite positive number)."""
    if not (math.isfinite(ratio) and ratio > 0):
        return 0
    k = round(math.log10(ratio) / 3)
    if k == 0 or abs(math.log10(ratio) - 3 * k) > math.log10(SCALE_SLACK):
        return 0
    return k


def rescaled_unit(text: str, factor: float) -> str | None:
    """The unit `factor` times the size of the unit `text`, written as `text` is with another prefix on its first
    term (`ms` x 1000 -> `s`, `GB` x 1000 -> `TB`, `J/request` x 1000 -> `kJ/request`), or None where the table of
    units has none (`MiB` x 1000)."""
    from .units import UNIT_TABLE

    head, sep, rest = text.partition("/")
    found = UNIT_TABLE.get(head.strip())
    if found is None:
        return None
    scale, dim = found
    target = scale * factor
    names = [name for name, (size, unit_dim) in UNIT_TABLE.items()
             if unit_dim == dim and math.isclose(size, target, rel_tol=1e-9)]
    if not names:
        return None

    def shared_tail(name: str) -> int:      # how many last letters it shares with `head`: `s` for `ms`, `B` for `GB`
        count = 0
        while count < min(len(name), len(head)) and name[-1 - count] == head[-1 - count]:
            count += 1
        return count

    best = max(names, key=lambda name: (shared_tail(name), -len(name)))
    return best + sep + rest


def _times(k: int) -> str:
    """1000^k as the message says it: `1000x`, `1000000x`, `1/1000 of`."""
    size = 1000 ** abs(k)
    return f"{size}x" if k > 0 else f"1/{size} of"


def scale_warnings(found: dict[tuple, list[tuple]], estimates: dict[str, np.ndarray]) -> list[Diagnostic]:
    """One warning per log and metric whose measured values sit a power of 1000 from the estimates. `found`:
    (log, the shown column's key, the run's metric name, the unit as written) -> [(run, measured value in SI, flat
    point)]; `estimates`: the shown column's key -> the estimates per sweep point, flat, in SI."""
    from .run_fields import header_place

    diagnostics = []
    for (log, name, metric, unit), items in found.items():
        with np.errstate(all="ignore"):
            ratios = [value / estimates[name][point] for _, value, point in items]
        ratios = [ratio for ratio in ratios if math.isfinite(ratio) and ratio > 0]     # no estimate of 0, nan
        if not ratios:
            continue
        median = float(np.median(ratios))
        k = power_of_1000(median)
        if k == 0:
            continue
        first = items[0][0]
        location, line = header_place(first, metric, quantity=True)
        headed = location is not None and bool(location.detail)        # at the column's header: "column '...'"
        meant = rescaled_unit(unit, 1000.0 ** -k)
        runs = f"{len(ratios)} run{'s' if len(ratios) != 1 else ''}"
        if meant is None:
            question = f"are its values in a unit {1000 ** abs(k)} times {'larger' if k < 0 else 'smaller'} than {unit}?"
        else:
            question = f"is the column in {meant}, not {unit}?" if headed else f"are its values in {meant}, not {unit}?"
        hints = [f"write the header '{metric} [{meant}]' if its values are in {meant}" if headed else
                 f"give the log's '{metric}' in {unit}"] if meant else []
        hints.append(f"no cost model is off by a factor of {1000 ** abs(k)} over every run; a unit's prefix is "
                     "(measured / estimated within 2x of a power of 1000 is warned about)")
        diagnostics.append(Diagnostic(
            "measured-unit-scale",
            f"the measured '{metric}' values are about {_times(k)} the estimates (median measured / estimated "
            f"{median:,.4g} over {runs}, read in {unit}): {question}",
            location or Location(log), line, hints=hints, severity="warning"))
    return diagnostics
