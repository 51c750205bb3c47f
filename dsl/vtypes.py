"""The types the checker infers (stage 3c, data only): a number with a dimension, a boolean, a string, a list, a
block (a role binding), or unknown (an error already reported). The function table and the checker both use them."""

from __future__ import annotations

from dataclasses import dataclass

from .units import Dimension, dimension_name


@dataclass(frozen=True)
class VType:
    """The type the checker infers for an expression: `kind` is "num", "bool", "str", "list", "block" or "unknown" (an
    error already reported); `dim` is the dimension of a "num" and None for the others."""

    kind: str                       # "num" | "bool" | "str" | "list" | "block" | "unknown"
    dim: Dimension | None = None

    def describe(self) -> str:
        """The type as error messages name it: a number's dimension name ("byte/s", "count"), "a boolean", "a string",
        "a list", "a block", or "?" for unknown."""
        if self.kind == "num":
            return dimension_name(self.dim)
        return {"bool": "a boolean", "str": "a string", "list": "a list", "block": "a block"}.get(self.kind, "?")


UNKNOWN = VType("unknown")
BOOL = VType("bool")
STR = VType("str")


def num(dim: Dimension) -> VType:
    """The type of a number of dimension `dim`."""
    return VType("num", dim)
