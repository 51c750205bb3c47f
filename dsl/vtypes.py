"""The types the checker infers (stage 3c, data only): a number with a dimension, a boolean, a string, a list, a
block (a role binding), or unknown (an error already reported). The function table and the checker both use them."""

from __future__ import annotations

from dataclasses import dataclass

from .units import Dimension, dimension_name


@dataclass(frozen=True)
class VType:
    kind: str                       # "num" | "bool" | "str" | "list" | "block" | "unknown"
    dim: Dimension | None = None

    def describe(self) -> str:
        if self.kind == "num":
            return dimension_name(self.dim)
        return {"bool": "a boolean", "str": "a string", "list": "a list", "block": "a block"}.get(self.kind, "?")


UNKNOWN = VType("unknown")
BOOL = VType("bool")
STR = VType("str")


def num(dim: Dimension) -> VType:
    return VType("num", dim)
