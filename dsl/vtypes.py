"""The types the checker infers (stage 3c, data only): a number with a dimension, a boolean, a string, a list, a
block (a role binding), or unknown (an error already reported). The function table and the checker both use them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

from .units import Dimension, dimension_name


@dataclass(frozen=True)
class VType:
    """The type the checker infers for an expression: `kind` is "num", "bool", "str", "list", "block" or "unknown" (an
    error already reported); `dim` is the dimension of a "num" and None for the others. `hertz` only changes how a
    message names a quantity per second (describe): a clock in Hz, else 1/s; it is not part of the type (equality
    and hash ignore it), and the types the checker keeps never have it (see clock)."""

    kind: str                       # "num" | "bool" | "str" | "list" | "block" | "unknown"
    dim: Dimension | None = None
    hertz: bool = field(default=False, compare=False)
    # A number per type in this process: equal types (and only they) have the same. A formula's plan
    # (formula_types.Node) looks the types of its references up by it, about 36,000 times in a check of the
    # libraries: an int's hash calls no Python, where a VType's (the dataclass's, and its Dimension's) does.
    key: int = field(default=0, init=False, compare=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "key", _KEYS.setdefault((self.kind, self.dim), next(_NUMBERS)))

    def __reduce__(self):
        # Made again from its kind and dimension: the keys differ from one process to the next. hertz: a message's,
        # never kept.
        return VType, (self.kind, self.dim)

    def describe(self) -> str:
        """The type as error messages name it: a number's dimension name ("byte/s", "count", "1/s", "Hz" for a
        clock), "a boolean", "a string", "a list", "a block", or "?" for unknown."""
        if self.kind == "num":
            return dimension_name(self.dim, hertz=self.hertz)
        return {"bool": "a boolean", "str": "a string", "list": "a list", "block": "a block"}.get(self.kind, "?")


# VType.key by (kind, dim). A key is drawn from a counter, never from the size of the table: two threads (those
# of a Dask worker unpickle programs) that add two types at once still get two keys.
_KEYS: dict[tuple[str, Dimension | None], int] = {}
_NUMBERS = itertools.count()

UNKNOWN = VType("unknown")
BOOL = VType("bool")
STR = VType("str")


# The type of a number, one object per dimension, by its exponents: the operators' rules make a product's type for
# every `*` and `/` walked, and where equal types are one object, looking one up in a formula's plan
# (formula_types.Node) finds it by identity, without calling VType.__eq__ and Dimension.__eq__ (Python).
_NUMS: dict[tuple[int, ...], VType] = {}


def num(dim: Dimension) -> VType:
    """The type of a number of dimension `dim` (the same object for the same dimension)."""
    found = _NUMS.get(dim.exponents)
    if found is None:
        found = _NUMS[dim.exponents] = VType("num", dim)
    return found


def num_of(exponents: tuple[int, ...]) -> VType:
    """num(Dimension(exponents)), without making the Dimension where the type is made already."""
    found = _NUMS.get(exponents)
    if found is None:
        found = _NUMS[exponents] = VType("num", Dimension(exponents))
    return found


def clock(vtype: VType, hertz: bool) -> VType:
    """`vtype` as a message names it where `hertz` says its value is a clock (hertz.expr_in_hertz): a copy that
    describe()s a quantity per second as Hz; `vtype` itself otherwise (1/s). Equal to `vtype` either way."""
    return replace(vtype, hertz=True) if hertz and vtype.kind == "num" and not vtype.hertz else vtype
