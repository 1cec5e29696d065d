"""Kazakhstan's individual and business identification numbers (IIN, BIN).

Both have 12 digits, the last a control digit: the weighted sum of the first eleven
with weights 1..11, modulo 11; when that gives 10, a second pass with weights
3..11, 1, 2; when that gives 10 again, the number is not valid.
"""

from __future__ import annotations

FIRST_WEIGHTS = tuple(range(1, 12))
SECOND_WEIGHTS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


def control_digit(first_eleven: str) -> int | None:
    """The control digit for the first 11 digits, or None when no digit can be valid."""
    digits = [int(c) for c in first_eleven]
    for weights in (FIRST_WEIGHTS, SECOND_WEIGHTS):
        remainder = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if remainder != 10:
            return remainder
    return None


def is_valid_bin_iin(value: str) -> bool:
    """Whether ``value`` is 12 digits with the right control digit."""
    if len(value) != 12 or not value.isascii() or not value.isdigit():
        return False
    return control_digit(value[:11]) == int(value[11])


def with_control_digit(first_eleven: str) -> str | None:
    """Complete 11 digits into a valid number (None when those 11 digits allow none)."""
    digit = control_digit(first_eleven)
    return None if digit is None else f"{first_eleven}{digit}"
