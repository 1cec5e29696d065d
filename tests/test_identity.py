"""The IIN/BIN control digit, both weight passes."""

from __future__ import annotations

import pytest

from portal.campaign.identity import control_digit, is_valid_bin_iin, with_control_digit


def test_first_pass():
    # 1*9 + 2*0 + 3*0 + 4*1 + 5*0 + 6*1 + 7*3 + 8*0 + 9*0 + 10*0 + 11*1 = 51; 51 % 11 = 7
    assert control_digit("90010130001") == 7
    assert is_valid_bin_iin("900101300017")
    assert not is_valid_bin_iin("900101300018")


def test_second_pass_when_the_first_gives_ten():
    first = "00000000010"  # 10*1 = 10 on the first pass
    assert sum(int(d) * w for d, w in zip(first, range(1, 12), strict=True)) % 11 == 10
    # second pass: the weight at that position is 1 -> 1 % 11 = 1
    assert control_digit(first) == 1
    assert is_valid_bin_iin("000000000101")
    assert not is_valid_bin_iin("000000000100")


def test_no_valid_number_when_both_passes_give_ten():
    candidates = [f"{n:011d}" for n in range(0, 200000, 7)]
    hopeless = [c for c in candidates if control_digit(c) is None]
    assert hopeless, "some 11-digit prefixes admit no control digit"
    assert all(not is_valid_bin_iin(c + str(d)) for c in hopeless[:20] for d in range(10))
    assert with_control_digit(hopeless[0]) is None


@pytest.mark.parametrize(
    "bad", ["", "12345678901", "1234567890123", "12345678901a", "١٢٣٤٥٦٧٨٩٠١٢", " 90010130001"]
)
def test_not_twelve_ascii_digits(bad):
    assert not is_valid_bin_iin(bad)


def test_nca_test_numbers_fail_the_control_digit():
    # ../shared/testdata/eds/MANIFEST.md: the NCA's test IIN/BIN do not pass the check
    for number in ("123456789011", "123456789012", "123456789021"):
        assert not is_valid_bin_iin(number)


def test_completing_makes_a_valid_number():
    assert with_control_digit("90010130001") == "900101300017"  # the first pass
    assert with_control_digit("00000000010") == "000000000101"  # the second pass
    for n in range(0, 5000, 37):
        first_eleven = f"{n:011d}"
        digit = control_digit(first_eleven)
        completed = with_control_digit(first_eleven)
        assert completed == (None if digit is None else f"{first_eleven}{digit}")
        assert completed is None or is_valid_bin_iin(completed)
