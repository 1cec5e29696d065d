"""Kazakhstan's individual and business identification numbers (IIN, BIN).

Both have 12 digits, the last a control digit: the weighted sum of the first eleven
with weights 1..11, modulo 11; when that gives 10, a second pass with weights
3..11, 1, 2; when that gives 10 again, the number is not valid.
"""

from __future__ import annotations

from operator import mul

FIRST_WEIGHTS = tuple(range(1, 12))
SECOND_WEIGHTS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
# The sums are taken over the characters' codes (a digit's code is 48 more than the
# digit), which is what makes the import's million checks cheap; these undo the 48s.
_PASSES = tuple((weights, 48 * sum(weights)) for weights in (FIRST_WEIGHTS, SECOND_WEIGHTS))


def control_digit(first_eleven: str) -> int | None:
    """The control digit for the first 11 digits, or None when no digit can be valid."""
    if len(first_eleven) != 11 or not first_eleven.isascii() or not first_eleven.isdigit():
        raise ValueError("eleven digits expected")
    codes = first_eleven.encode("ascii")
    for weights, offset in _PASSES:
        remainder = (sum(map(mul, codes, weights)) - offset) % 11
        if remainder != 10:
            return remainder
    return None


def is_valid_bin_iin(value: str) -> bool:
    """Whether ``value`` is 12 digits with the right control digit."""
    if len(value) != 12 or not value.isascii() or not value.isdigit():
        return False
    codes = value.encode("ascii")  # the weights run out after the first eleven
    for weights, offset in _PASSES:
        remainder = (sum(map(mul, codes, weights)) - offset) % 11
        if remainder != 10:
            return remainder == codes[11] - 48
    return False


def with_control_digit(first_eleven: str) -> str | None:
    """Complete 11 digits into a valid number (None when those 11 digits allow none)."""
    digit = control_digit(first_eleven)
    return None if digit is None else f"{first_eleven}{digit}"
