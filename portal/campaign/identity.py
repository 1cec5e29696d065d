"""Kazakhstan's individual and business identification numbers (IIN, BIN).

Both have 12 digits, the last a control digit: the weighted sum of the first eleven
with weights 1..11, modulo 11; when that gives 10, a second pass with weights
3..11, 1, 2; when that gives 10 again, the number is not valid.
"""

from __future__ import annotations

from functools import cache
from itertools import product
from operator import mul

FIRST_WEIGHTS = tuple(range(1, 12))
SECOND_WEIGHTS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
# The sums are taken over the characters' codes (a digit's code is 48 more than the
# digit); these undo the 48s.
_PASSES = tuple((weights, 48 * sum(weights)) for weights in (FIRST_WEIGHTS, SECOND_WEIGHTS))


def _partial_sums(start: int, stop: int) -> dict[str, tuple[int, int]]:
    """Both passes' weighted sums of the digits at ``start:stop``, for every digit string
    that may stand there (10,000 at most)."""
    first, second = FIRST_WEIGHTS[start:stop], SECOND_WEIGHTS[start:stop]
    sums = {}
    for digits in product(range(10), repeat=stop - start):
        sums["".join(map(str, digits))] = (
            sum(map(mul, digits, first)),
            sum(map(mul, digits, second)),
        )
    return sums


@cache
def _parts() -> tuple[dict[str, tuple[int, int]], ...]:
    """The first eleven digits in three parts, each part's sums looked up: what makes the
    import's million checks cheap (21,000 strings, about 3 MB, made at the first check).
    A part that is not ASCII digits is in no table."""
    return _partial_sums(0, 4), _partial_sums(4, 8), _partial_sums(8, 11)


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
    if len(value) != 12:
        return False
    heads, middles, tails = _parts()
    try:
        head, middle, tail = heads[value[:4]], middles[value[4:8]], tails[value[8:11]]
    except KeyError:  # not eleven ASCII digits
        return False
    remainder = (head[0] + middle[0] + tail[0]) % 11
    if remainder == 10:
        remainder = (head[1] + middle[1] + tail[1]) % 11
        if remainder == 10:
            return False
    # 0 to 9 here: only an ASCII digit's code is 48 more
    return ord(value[11]) - 48 == remainder


def with_control_digit(first_eleven: str) -> str | None:
    """Complete 11 digits into a valid number (None when those 11 digits allow none)."""
    digit = control_digit(first_eleven)
    return None if digit is None else f"{first_eleven}{digit}"
