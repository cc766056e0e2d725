"""The ULN check digit the generator uses (ILR rule ULN_04), worked by hand."""

from __future__ import annotations

import random

from kpitools.demo.world import new_uln, uln_check_digit


def test_check_digit_worked_example():
    # 1*10 + 2*9 + 3*8 + 4*7 + 5*6 + 6*5 + 7*4 + 8*3 + 9*2 = 210; 210 mod 11 = 1;
    # check digit = 10 - 1 = 9, so 1234567899 is valid.
    assert uln_check_digit("123456789") == 9


def test_remainder_ten_gives_check_digit_zero():
    # 1*10 + 1*9 + 1*2 = 21; 21 mod 11 = 10; 10 - 10 = 0.
    assert uln_check_digit("110000001") == 0


def test_remainder_zero_is_invalid():
    # 2*10 + 1*2 = 22; 22 mod 11 = 0: no ULN can start with these nine digits.
    assert uln_check_digit("200000001") is None


def test_new_uln_is_valid_and_unique():
    taken: set[str] = set()
    rng = random.Random(1)
    ulns = [new_uln(rng, taken) for _ in range(500)]
    assert len(set(ulns)) == 500 == len(taken)
    for uln in ulns:
        assert len(uln) == 10 and uln.isdigit() and uln[0] != "0"
        assert int(uln[9]) == uln_check_digit(uln[:9])
