"""Money in exact pence: amounts as typed, requirements rounded half up to the penny."""

from __future__ import annotations

import math

import pytest

from kpitools.money import pence, pounds_text, share_pence


def test_amounts_are_the_pence_typed():
    # 4205.45 is 4205.4499999999998... as a double; its shortest form is what was typed.
    assert pence(4205.45) == 420_545
    assert pence(0.29) == 29  # 0.29 * 100 = 28.999999999999996 as floats
    assert pence(1250) == 125_000
    assert pence(-1.01) == -101
    assert pence(419.545) == 41_955  # a sub-penny amount: half up to the penny


def test_requirement_rounded_half_up_to_the_penny():
    # 10 % of £4,205.45 = £420.545 -> £420.55 (half up, not half to even: £420.54).
    assert share_pence(0.10, 420_545) == 42_055
    assert share_pence(0.30, 300_010) == 90_003
    assert share_pence(0.10, 420_525) == 42_053  # 42,052.5 -> up, where even would keep 2


def test_pounds_text():
    assert pounds_text(42_055) == "£420.55"
    assert pounds_text(420_545_00) == "£420,545.00"
    assert pounds_text(-101) == "-£1.01"
    assert pounds_text(5) == "£0.05"


@pytest.mark.parametrize("blank", [math.nan, math.inf])
def test_a_blank_amount_is_not_zero_pence(blank):
    with pytest.raises(ValueError, match="not an amount"):
        pence(blank)
