"""A shown cell as an array with its axes and unit (LabelledArray): what Result.array and an answer's array() give.

Kept apart from result.py, which `perfdsl check` imports without numpy (lazy_numpy.py): the class derives from numpy's
operator mixin, so numpy is imported with it. `perfdsl.result.LabelledArray` still names it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .units import DIMENSIONLESS, dimension_name, parse_unit, written_in_hertz


# Ufuncs whose operands must be in one unit: a sum, a difference, a comparison, a choice between two values.
_SAME_UNIT = frozenset({np.add, np.subtract, np.equal, np.not_equal, np.less, np.less_equal, np.greater,
                        np.greater_equal, np.maximum, np.minimum, np.fmax, np.fmin, np.hypot, np.fmod,
                        np.remainder})


@dataclass(repr=False, eq=False)
class LabelledArray(np.lib.mixins.NDArrayOperatorsMixin):
    """A shown cell over the full sweep (Result.array), or over a question's `per` axes (an answer's array():
    notebook.AnswerGrid, `valid` None): values[i, j, ...] at axis coordinates coords[axis][i] ...

    `values` holds every point's value, a point a `require` refuses included (`valid` says which; to_xarray() is
    where they are emptied); of an answer, a group with no answer is NaN, in flags too (then float64: 1.0 True, 0.0
    False, NaN, as to_xarray() gives them; bool where every group has its answer), NaN in text too. Take it as
    read-only: a Result's array() is always a read-only view (np.broadcast_to of the evaluation's own array, whatever
    axes the cell varies along), an answer's a read-only view of its rows (or a fresh array where a group has no
    answer); copy it to write to it (`a.values.copy()`, `np.array(a)`).
    np.asarray(labelled) is `values` (`__array__`), so numpy functions take a LabelledArray as they take `values`.

    Operators and numpy's ufuncs work on `values` as numpy's do, and give a plain ndarray, unit-free: its numbers are
    in the operands' `unit` (SI from array(), the shown unit with display=True), a plain number beside it is taken in
    that unit (`a < 0.05` with `a.unit == "s"` is 50 ms), and the refused points (`valid` False) are compared and
    computed as any other: `a == b` is numpy's elementwise bool array (not one bool: `(a == b).all()`, or
    np.array_equal(a, b), says whether all are equal), `a * 1e3` an ndarray in ms, `np.sqrt(a)` an ndarray.
    Raises ValueError where two LabelledArrays do not line up (other `dims` or `coords`: numpy would pair their
    values by position, whatever point each is; compare `.values` to mean that, or use to_xarray(), which aligns
    by coordinate) or where a sum, difference, comparison, maximum or minimum mixes two units (`s` and `ms`:
    take both in SI, or both with display=True). Its repr is one line (notebook.describe_array), not the values.

    Indexing, len() and iteration are `values`': `a[0]`, `a[:, 1]`, `a[a.valid]` give a plain ndarray or a
    numpy scalar (no labels, in `unit`), len(a) the length along the first axis (TypeError for a 0-d array, as
    numpy's), and `shape`, `ndim`, `dtype` are `values`'. It has no ndarray methods: write `a.values.sum()` or
    np.sum(a), `a.values.max()` or np.max(a) (numpy's functions take it through __array__)."""

    name: str
    unit: str                                 # the unit of `values`: SI (array()), or the shown unit (display=True)
    values: np.ndarray                        # full shape, in `unit`
    dims: tuple[str, ...]                     # axis names
    coords: dict[str, np.ndarray]             # coordinate name -> values along its axis, in the axis's shown unit
    valid: np.ndarray | None = None           # full shape: False where a point breaks a `require`
    display: bool = False                     # `unit` is the shown unit (array(display=True)), not SI
    kind: str = ""                            # "num" | "bool" | "str" (ShownColumn.kind): float flags read as flags

    @property
    def shape(self) -> tuple[int, ...]:
        """The sweep's shape: one length per axis of `dims`."""
        return self.values.shape

    @property
    def ndim(self) -> int:
        """The number of axes (len(dims)); 0 for an answer without `per`."""
        return self.values.ndim

    @property
    def dtype(self) -> np.dtype:
        """The dtype of `values` (float64 for numbers and for flags of an answer with a group unanswered)."""
        return self.values.dtype

    def __len__(self) -> int:
        """The length along the first axis, as len() of `values`; TypeError for a 0-d array."""
        return len(self.values)

    def __getitem__(self, key):
        """`values[key]`: a plain ndarray or numpy scalar, in `unit`, with no labels (see the class)."""
        return self.values[key]

    def __iter__(self):
        """`values` along its first axis, as iterating an ndarray; TypeError for a 0-d array."""
        return iter(self.values)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """`values` (in `unit`; refused points keep their values, as in `values`), for np.asarray() and numpy's
        functions: numpy's protocol, `dtype` converts, `copy=True` gives a writable copy, `copy=False` raises
        ValueError where `dtype` needs a copy. Without it np.asarray() gave a 0-d object array."""
        values = self.values if dtype is None else self.values.astype(dtype, copy=False)
        if copy:
            return np.array(values, copy=True)
        if copy is False and values is not self.values:
            raise ValueError(f"array '{self.name}' of dtype {self.values.dtype} cannot be {np.dtype(dtype)} "
                             f"without a copy")
        return values

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """numpy's protocol for ufuncs and the operators (NDArrayOperatorsMixin): the ufunc of the operands'
        `values`, a plain ndarray (see the class: unit-free, in the operands' unit). Raises ValueError for two
        LabelledArrays that do not line up, or in two units where the ufunc needs one (_check_operands)."""
        labelled = [x for x in inputs + kwargs.get("out", ()) if isinstance(x, LabelledArray)]
        _check_operands(ufunc, labelled)
        inputs = tuple(x.values if isinstance(x, LabelledArray) else x for x in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(x.values if isinstance(x, LabelledArray) else x for x in kwargs["out"])
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __repr__(self) -> str:
        from .notebook import describe_array

        return describe_array(self)


def _check_operands(ufunc, labelled: list[LabelledArray]) -> None:
    """Refuse (ValueError) LabelledArrays that a ufunc would pair by position though they are over other axes or
    other coordinates, and, for a ufunc whose operands share a unit (_SAME_UNIT), ones in two units."""
    first = labelled[0]
    for other in labelled[1:]:
        if other.dims != first.dims or other.values.shape != first.values.shape:
            differ = f"over {_axes_text(first)} and {_axes_text(other)}"
        else:
            names = list(dict.fromkeys([*first.coords, *other.coords]))
            differ = next((f"their {name} differs" for name in names if name not in first.coords or
                           name not in other.coords or not np.array_equal(first.coords[name], other.coords[name])), "")
        if differ:
            raise ValueError(
                f"arrays '{first.name}' and '{other.name}' are not over the same sweep points ({differ}): numpy "
                f"would pair their values by position. Compare .values to mean that, or use to_xarray(), which "
                f"aligns them by coordinate")
        if ufunc in _SAME_UNIT and other.unit != first.unit:
            dims = _dimension_names(first, other)
            if dims is not None:
                raise ValueError(
                    f"np.{ufunc.__name__} of '{first.name}' in {first.unit or 'no unit'} and '{other.name}' in "
                    f"{other.unit or 'no unit'}: they have different dimensions ({dims[0]} and {dims[1]}), so they "
                    f"cannot be added, subtracted or compared in any unit")
            raise ValueError(
                f"np.{ufunc.__name__} of '{first.name}' in {first.unit or 'no unit'} and '{other.name}' in "
                f"{other.unit or 'no unit'}: numpy takes their values as plain numbers, each in its array's unit; take "
                f"both in SI (array(name)), or both as shown (array(name, display=True)) where they show one unit")


def _dimension_names(first: LabelledArray, other: LabelledArray) -> tuple[str, str] | None:
    """The two arrays' dimensions as text (units.dimension_name: "s", "byte", "count") where they differ; None where
    they are one dimension (in two scales: `s` and `ms`) or a unit does not parse. Text and flags have no unit, so
    a count."""
    try:
        dims = [parse_unit(a.unit).dim if a.unit else DIMENSIONLESS for a in (first, other)]
    except ValueError:
        return None
    if dims[0] == dims[1]:
        return None
    return tuple(dimension_name(d, written_in_hertz(a.unit)) for d, a in zip(dims, (first, other)))


def _axes_text(labelled: LabelledArray) -> str:
    return " x ".join(f"{dim} ({length:,})" for dim, length in zip(labelled.dims, labelled.values.shape)) or "no axes"
