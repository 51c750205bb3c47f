"""Counts written as a user writes them (points a chunk, workers): 1000000, 1_000_000, 1e6, 1.5e3, "1e5".

One reader for `--chunk-points` and `--workers` (cli) and for the Python API's `chunk_points`
(chunks.checked_chunk_points), so that both take the same forms and refuse the same values for the same reasons;
each caller words the refusal for its own option and checks the lower bound (1) with a help of its own.
"""

from __future__ import annotations

import numbers
from decimal import Decimal, InvalidOperation

# The largest count taken: every whole number of at most 19 digits. Decimal reads any exponent (1e999999999), and
# int() of that would build a number of a billion digits, so the count is bounded before it is made an int (the
# bound the command line has had since it took 1e6); 19 digits are far more points or workers than any run uses.
LARGEST = 10 ** 19 - 1


class NotACount(ValueError):
    """The value is no whole number within the counts taken. `reason` completes "'1.5' is ..." or "chunk_points=1.5:
    ...": "not a whole number of points", "too large a number of points: at most 9,999,999,999,999,999,999"."""

    def __init__(self, reason: str, too_large: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.too_large = too_large


def whole_number(value, what: str) -> int:
    """`value` (an int, a float or numpy number that is whole, or text such as "1e5", "1_000_000", " 4 ") as an int
    of at most LARGEST; `what` names the unit counted ("points", "workers") in the reason. A negative number is
    returned as it is (the callers refuse it with their own help), down to -LARGEST. Raises NotACount for a bool,
    another type, text that is no number, a fraction, NaN or infinity, and a number past +-LARGEST."""
    number = None
    if not isinstance(value, bool) and isinstance(value, (numbers.Real, str)):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            number = None
    if number is None or not number.is_finite() or number != number.to_integral_value():
        raise NotACount(f"not a whole number of {what}")
    # adjusted() is the exponent: compared first, so that 1e999999999 is never compared or made an int in full
    if number.adjusted() > 19 or abs(number) > LARGEST:
        if number < 0:
            raise NotACount(f"below 1 (a number of {what} is 1 or more)")
        raise NotACount(f"too large a number of {what}: at most {LARGEST:,}", too_large=True)
    return int(number)
