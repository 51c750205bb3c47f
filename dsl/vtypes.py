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

    def __hash__(self) -> int:
        # Kept once computed: the checker looks a cell's type up in its formulas' plans (formula_types.Node) about
        # 40,000 times in a check of the libraries, and the generated hash of a dataclass is two calls in Python
        # (this one and the Dimension's). The same value as the generated one, hash((kind, dim)).
        found = self.__dict__.get("_hash")
        if found is None:
            found = hash((self.kind, self.dim))
            object.__setattr__(self, "_hash", found)
        return found

    def __getstate__(self) -> dict:
        # Without the kept hash: a string's hash differs from one process to the next (hash randomisation).
        return {"kind": self.kind, "dim": self.dim}

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
