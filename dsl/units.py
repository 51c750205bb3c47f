"""Units and dimensions (used by the parser, the checker and the run-log adapters).

A dimension is a vector of integer exponents over the base dimensions below; a unit is a scale to SI plus a
dimension. Values are held in SI (seconds, bytes, FLOP, tokens, joules, requests); users choose display units.

Unit expressions are written without spaces: `GB/s`, `TFLOP/s`, `J/token`, `byte*s`, `s^-1`, `%`.
  - SI prefixes k M G T P E (and m u µ n p for s, J, W, Hz; micro also as Greek mu μ, U+03BC, which NFKC
    makes of the micro sign µ, U+00B5: they look alike): `kB` = 1000 byte, `ms` = 0.001 s.
  - Binary prefixes Ki Mi Gi Ti Pi Ei for bytes and bits: `GiB` = 2^30 byte. GB and GiB are different units.
  - `KB` is read as 1000 byte (as drive and memory vendors print it); write `KiB` for 1024.
  - `FLOPS` means FLOP/s (so `TFLOPS` = `TFLOP/s`), `TOPS` means TOP/s; `OP` counts an operation like `FLOP`.
  - `count` (or `1`) is the dimensionless unit; `%` is 0.01.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from .limits import MAX_UNIT_POWER

BASE_DIMENSIONS = ("s", "byte", "FLOP", "token", "J", "request")


class UnitError(ValueError):
    """An unknown or malformed unit; `hint` proposes a fix."""

    def __init__(self, message: str, hint: str | None = None, code: str = "unknown-unit", unknown: str | None = None,
                 written: tuple[str, int, int] | None = None):
        super().__init__(message)
        self.message = message
        self._hint = hint
        self._unknown = unknown
        self._written = written          # (the whole unit text, start, end of the unknown name in it)
        self.code = code

    @property
    def hint(self) -> str | None:
        """The fix to propose; for an unknown name, the closest known units, looked up only when asked (is_unit
        asks nothing, and a close-match search over every unit costs milliseconds)."""
        if self._hint is None and self._unknown is not None:
            self._hint = _unit_hint(self._unknown, self._written)
        return self._hint


@dataclass(frozen=True)
class Dimension:
    """A physical dimension: one integer exponent per base dimension in BASE_DIMENSIONS (s, byte, FLOP, token, J,
    request), in that order; bandwidth (byte/s) is (-1, 1, 0, 0, 0, 0). Supports *, / and ** by an integer."""

    exponents: tuple[int, ...] = (0,) * len(BASE_DIMENSIONS)

    @staticmethod
    def of(**powers: int) -> "Dimension":
        """The dimension with the given exponents by base name, e.g. Dimension.of(J=1, s=-1) for power (W); names left
        out have exponent 0. A keyword that is not a base name is ignored, not an error."""
        return Dimension(tuple(powers.get(name, 0) for name in BASE_DIMENSIONS))

    @property
    def is_dimensionless(self) -> bool:
        """True where every exponent is 0 (a count or a ratio)."""
        return not any(self.exponents)

    def __mul__(self, other: "Dimension") -> "Dimension":
        return Dimension(tuple(a + b for a, b in zip(self.exponents, other.exponents)))

    def __truediv__(self, other: "Dimension") -> "Dimension":
        return Dimension(tuple(a - b for a, b in zip(self.exponents, other.exponents)))

    def __pow__(self, power: int) -> "Dimension":
        return Dimension(tuple(a * power for a in self.exponents))

    def root(self, n: int) -> "Dimension | None":
        """The n-th root, or None where an exponent is not divisible by n."""
        if any(a % n for a in self.exponents):
            return None
        return Dimension(tuple(a // n for a in self.exponents))

    def __str__(self) -> str:
        return dimension_name(self)


DIMENSIONLESS = Dimension()
TIME = Dimension.of(s=1)
BYTES = Dimension.of(byte=1)
FLOPS_DIM = Dimension.of(FLOP=1)
TOKENS = Dimension.of(token=1)
ENERGY = Dimension.of(J=1)
POWER = Dimension.of(J=1, s=-1)
REQUESTS = Dimension.of(request=1)
FREQUENCY = Dimension.of(s=-1)      # a clock (Hz) or a count per second (1/s): auto_unit's `hertz` tells which

# Compound dimensions that have a name of their own when printed (named_unit; a type in messages: dimension_name, where
# 1/s is named Hz only for a clock).
_NAMED = {POWER: "W", FREQUENCY: "Hz"}


def dimension_name(dim: Dimension, hertz: bool = False) -> str:
    """The dimension as text: "count" for dimensionless, "W" by name, otherwise the base names with powers,
    numerator before denominator ("byte/s", "FLOP/byte", "s^2", "1/token"). A quantity per second is named as
    auto_unit shows it: "1/s" (a count per second), "Hz" where `hertz` says it is a clock (hertz.py)."""
    if dim.is_dimensionless:
        return "count"
    if dim == FREQUENCY:
        return "Hz" if hertz else "1/s"
    if dim in _NAMED:
        return _NAMED[dim]
    num, den = [], []
    for name, power in zip(BASE_DIMENSIONS, dim.exponents):
        if power > 0:
            num.append(name if power == 1 else f"{name}^{power}")
        elif power < 0:
            den.append(name if power == -1 else f"{name}^{-power}")
    text = "*".join(num) if num else "1"
    if den:
        text += "/" + "/".join(den)
    return text


@dataclass(frozen=True)
class Unit:
    """A unit of measure: `scale` is the size of one unit in SI base units (GB/s has scale 1e9), `dim` its dimension and
    `text` how it was written."""

    scale: float
    dim: Dimension
    text: str

    def to_si(self, value):
        """`value` (a float or a numpy array, any shape) in this unit, converted to SI: value * scale."""
        return value * self.scale

    def from_si(self, value):
        """`value` in SI (a float or a numpy array, any shape), converted to this unit: value / scale."""
        return value / self.scale


_SI_LARGE = {"k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}
_SI_SMALL = {"m": 1e-3, "u": 1e-6, "µ": 1e-6, "μ": 1e-6, "n": 1e-9, "p": 1e-12}
_BINARY = {"Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40, "Pi": 2.0**50, "Ei": 2.0**60}


def _build_table() -> dict[str, tuple[float, Dimension]]:
    table: dict[str, tuple[float, Dimension]] = {}

    def add(names, scale, dim, prefixes=()):
        for name in names:
            table[name] = (scale, dim)
            for group in prefixes:
                for prefix, factor in group.items():
                    # 'K' as kilo only for bytes and bits (KB, as vendors print it); elsewhere it is a typo for 'k'.
                    if prefix == "K" and dim != BYTES:
                        continue
                    table.setdefault(prefix + name, (factor * scale, dim))

    add(["s", "sec"], 1.0, TIME, [_SI_SMALL])
    table["us"] = (1e-6, TIME)
    add(["min"], 60.0, TIME)
    add(["h", "hr", "hour", "hours"], 3600.0, TIME)
    add(["day", "days"], 86400.0, TIME)
    add(["B", "byte", "bytes"], 1.0, BYTES, [_SI_LARGE, _BINARY])
    add(["bit", "bits"], 0.125, BYTES, [_SI_LARGE, _BINARY])
    add(["FLOP", "FLOPs", "flop", "OP", "op", "ops"], 1.0, FLOPS_DIM, [_SI_LARGE])
    add(["FLOPS", "OPS"], 1.0, FLOPS_DIM / TIME, [_SI_LARGE])
    add(["token", "tokens", "tok"], 1.0, TOKENS, [_SI_LARGE])
    add(["J"], 1.0, ENERGY, [_SI_LARGE, _SI_SMALL])
    add(["Wh"], 3600.0, ENERGY, [_SI_LARGE])
    add(["W"], 1.0, POWER, [_SI_LARGE, _SI_SMALL])
    add(["Hz"], 1.0, Dimension.of(s=-1), [_SI_LARGE])
    add(["request", "requests", "req", "sample", "samples"], 1.0, REQUESTS)
    add(["count", "1"], 1.0, DIMENSIONLESS)
    table["%"] = (0.01, DIMENSIONLESS)
    return table


UNIT_TABLE = _build_table()
_TERM = re.compile(r"(?P<name>%|[A-Za-zµμ_][A-Za-zµμ_]*|1)(?:\^(?P<power>-?\d+))?")


@lru_cache(maxsize=4096)
def parse_unit(text: str) -> Unit:
    """Parse a unit expression such as 'GB/s' or 'J/token' into a Unit (scale to SI and dimension)."""
    if not text or text != text.strip() or " " in text:
        raise UnitError(f"malformed unit '{text}'", "write units without spaces, e.g. 'GB/s'")
    scale, dim = 1.0, DIMENSIONLESS
    pos, op = 0, "*"
    while True:
        match = _TERM.match(text, pos)
        if not match:
            raise UnitError(f"malformed unit '{text}'", "a unit is names joined by '*' and '/', e.g. 'J/token'")
        name, power_text = match.group("name"), match.group("power") or "1"
        if name not in UNIT_TABLE:
            raise UnitError(f"unknown unit '{name}'", unknown=name, written=(text, match.start(), match.end()))
        power = int(power_text) if len(power_text.lstrip("-")) <= 3 else MAX_UNIT_POWER + 1
        if abs(power) > MAX_UNIT_POWER:
            raise UnitError(f"the exponent of '{name}^{_short(power_text)}' is too large",
                            f"a unit's exponent is at most {MAX_UNIT_POWER} in size, e.g. 's^-2'",
                            "unit-out-of-range")
        term_scale, term_dim = UNIT_TABLE[name]
        try:
            term_scale, term_dim = term_scale**power, term_dim**power
            if op == "*":
                scale, dim = scale * term_scale, dim * term_dim
            else:
                scale, dim = scale / term_scale, dim / term_dim
        except (OverflowError, ZeroDivisionError):
            scale = math.inf
        if not 0 < scale < math.inf:
            raise UnitError(f"the unit '{_short(text)}' is out of range: its size in SI units is not a float "
                            "(above about 1.8e308 or below about 2.2e-308)",
                            "write a smaller exponent, or a prefix nearer the value (e.g. 'TB' for 1e12 byte)",
                            "unit-out-of-range")
        pos = match.end()
        if pos == len(text):
            break
        op = text[pos]
        if op not in "*/":
            raise UnitError(f"malformed unit '{text}'", "join unit names with '*' or '/'")
        pos += 1
    return Unit(scale, dim, text)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _per_second(name: str) -> str | None:
    """'TBps' -> 'TB/s', 'Gbps' -> 'Gbit/s', 'MBps' -> 'MB/s': a rate spelled with the suffix 'ps' (per second), as
    vendors print it; None where the part before 'ps' is no unit."""
    if not name.endswith("ps") or len(name) < 3:
        return None
    stem = name[:-2]
    if stem in UNIT_TABLE:
        return stem + "/s"
    if stem.endswith("b") and stem[:-1] + "bit" in UNIT_TABLE:
        return stem[:-1] + "bit/s"
    return None


# Units spelled out in words (`gigabyte`, `terabytes`, `milliseconds`): the prefix and the unit as symbols.
_PREFIX_WORDS = {"kilo": "k", "mega": "M", "giga": "G", "tera": "T", "peta": "P", "exa": "E", "milli": "m",
                 "micro": "u", "nano": "n", "pico": "p", "kibi": "Ki", "mebi": "Mi", "gibi": "Gi", "tebi": "Ti",
                 "pebi": "Pi", "": ""}
_UNIT_WORDS = {"byte": "B", "bit": "bit", "second": "s", "sec": "s", "watt": "W", "joule": "J", "hertz": "Hz",
               "flop": "FLOP", "flops": "FLOP/s", "watthour": "Wh"}


def _spelled_out(name: str) -> str | None:
    """'gigabyte' -> 'GB', 'Milliseconds' -> 'ms', 'teraflops' -> 'TFLOP/s': a unit written out in words, as its
    symbols; None where `name` is no such spelling (or its symbols are no unit)."""
    lower = name.lower()
    for prefix, symbol in _PREFIX_WORDS.items():
        if not lower.startswith(prefix):
            continue
        rest = lower[len(prefix):]
        unit = _UNIT_WORDS.get(rest) or (_UNIT_WORDS.get(rest[:-1]) if rest.endswith("s") else None)
        if unit is None or (not prefix and rest in ("flop", "flops")):
            continue
        candidate = symbol + unit
        try:
            parse_unit(candidate)
        except UnitError:
            continue
        return candidate
    return None


def parse_unit_or_none(text: str) -> Dimension | None:
    """The dimension of the unit `text`, or None where it does not parse."""
    try:
        return parse_unit(text).dim
    except UnitError:
        return None


def _spelled_out_parts(text: str) -> str | None:
    """A unit expression whose names are spelled out (`gigabytes/s`, `joules/token`) with each as its symbols
    (`GB/s`), where at least one is and the result is a unit; else None."""
    parts = re.split(r"([*/])", text)
    symbols = [_spelled_out(part) or part if part not in "*/" else part for part in parts]
    if symbols == parts:
        return None
    candidate = "".join(symbols)
    try:
        parse_unit(candidate)
    except UnitError:
        return None
    return candidate


def _unit_hint(name: str, written: tuple[str, int, int] | None = None) -> str:
    """'did you mean ...?' for the unknown unit name `name`: a rate written with 'ps' ('TBps': 'TB/s') alone, else
    the closest known names (one that differs only in case first: 'Gib': 'GiB', 'S': 's'); each
    quoted within the whole unit written (`written`: its text and the name's place in it), so 'GB/S' gives
    'GB/s'."""
    from .errors import suggest

    rate = _per_second(name) or _spelled_out(name)
    # A rate, or a unit spelled out, is what was meant ('Tops' or 'ps' beside it would mislead; 'gigabyte' is no
    # slip of 'Tibyte'); else suggest() puts a name differing only in case first ('Gib': 'GiB', 'S': 's').
    close = [rate] if rate else suggest(name, UNIT_TABLE.keys())
    if close:
        text, start, end = written if written is not None else (name, 0, len(name))
        return "did you mean " + " or ".join(f"'{text[:start]}{c}{text[end:]}'" for c in close[:3]) + "?"
    return "known units: s, ms, us, B, GB, GiB, bit, FLOP, TFLOP/s, token, J, Wh, W, Hz, %, count"


# The denominators of the rates a cell's unit is usually written with: byte/s, FLOP/s, J/token, token/request.
_RATE_DENOMINATORS = ("s", "token", "request")


def units_of(dim: Dimension) -> list[str]:
    """The unit names of a dimension as a user writes them: single names (`GB`, `W`) and rates over the usual
    denominators (`TB/s`, `J/token`)."""
    found = [name for name, (_, unit_dim) in UNIT_TABLE.items() if unit_dim == dim]
    for below in _RATE_DENOMINATORS:
        above = dim * UNIT_TABLE[below][1]
        found += [f"{name}/{below}" for name, (_, unit_dim) in UNIT_TABLE.items() if unit_dim == above]
    return found


def unit_hint_for(text: str, dim: Dimension) -> str | None:
    """'did you mean ...?' for a unit `text` that does not parse, written for a cell of dimension `dim` (an
    override): the closest units of that dimension ('TBs' for byte/s: 'TB/s'), or None where none is close."""
    from .errors import suggest

    rate = _per_second(text) or _spelled_out(text) or _spelled_out_parts(text)
    known = units_of(dim)
    same = [name for name in known if name.lower() == text.lower()][:1]     # 'GB/S': 'GB/s' alone
    meant = [unit for unit in ((rate, f"{rate}/s") if rate is not None else ()) if parse_unit_or_none(unit) == dim]
    if meant:                   # a spelled-out amount for a rate (`768 gigabyte` for byte/s): per second
        close = meant[:1]
    else:
        close = same or suggest(text, known)
    return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?" if close else None


def named_unit(text: str, preferred: str | None = None) -> str:
    """The unit `text` (`J/s`, `kJ/s`) written as a unit of the same size and dimension that has a name of its own:
    `preferred` where it is one (the unit a cell is declared in: `tdp: W`), else the named unit of the dimension with
    the same prefix (`W`, `kW`; `Hz`), else `text` as it is (`TB/s`). `text` must parse."""
    unit = parse_unit(text)
    candidates = ([preferred] if preferred else []) + \
        [name for name, (_, dim) in UNIT_TABLE.items() if dim == unit.dim and _NAMED.get(dim)
         and name.endswith(_NAMED[dim])]
    for name in candidates:
        try:
            found = parse_unit(name)
        except UnitError:
            continue
        if found.dim == unit.dim and math.isclose(found.scale, unit.scale, rel_tol=1e-12):
            return name
    return text


def is_unit(text: str) -> bool:
    """Whether `text` parses as a unit expression (see parse_unit); raises nothing."""
    try:
        parse_unit(text)
    except UnitError:
        return False
    return True


# Display: the unit a value is shown in when the user names none.
_AUTO_FAMILIES: dict[Dimension, list[tuple[str, float]]] = {
    TIME: [("ns", 1e-9), ("us", 1e-6), ("ms", 1e-3), ("s", 1.0)],
    BYTES: [("B", 1.0), ("kB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12)],
    FLOPS_DIM: [("FLOP", 1.0), ("kFLOP", 1e3), ("MFLOP", 1e6), ("GFLOP", 1e9), ("TFLOP", 1e12), ("PFLOP", 1e15)],
    FLOPS_DIM / TIME: [("FLOP/s", 1.0), ("GFLOP/s", 1e9), ("TFLOP/s", 1e12), ("PFLOP/s", 1e15)],
    BYTES / TIME: [("B/s", 1.0), ("MB/s", 1e6), ("GB/s", 1e9), ("TB/s", 1e12)],
    ENERGY: [("mJ", 1e-3), ("J", 1.0), ("kJ", 1e3), ("MJ", 1e6)],
    POWER: [("mW", 1e-3), ("W", 1.0), ("kW", 1e3)],
    TOKENS / TIME: [("token/s", 1.0)],
    # A count per second (steps or requests over a time, a throughput of things): `1/s`, not `Hz`, which is for a
    # clock and is shown only where the cell says Hz (hertz=True).
    FREQUENCY: [("1/s", 1.0)],
    ENERGY / TOKENS: [("mJ/token", 1e-3), ("J/token", 1.0)],
    TOKENS: [("token", 1.0)],
    DIMENSIONLESS: [("", 1.0)],
}


def auto_unit(dim: Dimension, magnitude: float | None = None, hertz: bool = False) -> tuple[str, float]:
    """A readable display unit (text, scale) for a dimension, chosen for a typical magnitude. A quantity per second
    (FREQUENCY) is shown in `1/s`, or in `Hz` where `hertz` says it is a clock (its cell is written in Hz:
    hertz.ref_in_hertz), as before, in Hz whatever its size."""
    if hertz and dim == FREQUENCY:
        return "Hz", 1.0
    family = _AUTO_FAMILIES.get(dim)
    if family is None:
        return unit_symbols(dimension_name(dim)), 1.0
    if magnitude is None or not math.isfinite(magnitude) or magnitude == 0:
        for text, scale in family:
            if scale == 1.0:
                return text, scale
        return family[0]
    best = family[0]
    for text, scale in family:
        if abs(magnitude) / scale >= 1.0:
            best = (text, scale)
    return best


def smaller_unit(text: str) -> str | None:
    """The display unit one step below the unit `text` in its dimension's family (`s` -> `ms`, `ms` -> `us`, `min`
    -> `s`), or None where there is none (no family, or nothing smaller) or `text` is no unit."""
    try:
        unit = parse_unit(text)
    except UnitError:
        return None
    below = [(scale, name) for name, scale in _AUTO_FAMILIES.get(unit.dim, ()) if scale < unit.scale * (1 - 1e-9)]
    return max(below)[1] if below else None


def si_unit_name(dim: Dimension, hertz: bool = False) -> str:
    """The SI unit text of a dimension (what a value is stored in), as a unit is written for a value (a column's
    header, `array().unit`, xarray's attrs["units"], the Inputs sheet): by its symbol, `B` for bytes as the auto
    units have it (`B`, `B/s`, and `FLOP/B`, `B/token` where the dimension has no family of auto units), `1/s` for
    a count per second and `Hz` for a clock (`hertz`: auto_unit), while a type (a declaration, a message about
    dimensions: vtypes.VType.describe) names the dimension (`byte/s`, `1/s`, `Hz` for a clock: dimension_name).
    Both parse as the same unit."""
    return auto_unit(dim, hertz=hertz)[0]


def written_in_hertz(unit: str | None) -> bool:
    """Whether the unit text `unit` is a frequency written in Hz (`Hz`, `MHz`, `GHz`), as a clock is; False for
    `1/s`, `s^-1`, None or text that is no unit."""
    if not unit or "Hz" not in unit:
        return False
    try:
        return parse_unit(unit).dim == FREQUENCY
    except UnitError:
        return False


def literal_unit(text: str) -> str:
    """A display unit as a number's unit is written in a formula: `1/s` as `s^-1` and `1/token` as `token^-1` (a
    unit written after a number cannot start with `1`: `50 1/s` does not parse); any other text as it is."""
    if not text.startswith("1/"):
        return text
    first, slash, rest = text[2:].partition("/")
    name, _, power = first.partition("^")
    return f"{name}^{-int(power or 1)}" + slash + rest


def unit_symbols(name: str) -> str:
    """A dimension's name (dimension_name) written as a value's unit: `byte` as `B` (`FLOP/byte` -> `FLOP/B`)."""
    return _BYTE_NAME.sub("B", name)


_BYTE_NAME = re.compile(r"\bbyte\b")        # the base dimension's name inside dimension_name's text
