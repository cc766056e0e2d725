"""The identity columns of learners (date_of_birth, postcode, ni_number): read, checked,
rejected with file, line, column and rule, and mapped from the ILR (issue 28)."""

from __future__ import annotations

import pandas as pd
import pytest

from kpitools.returns.tables import RawTable
from kpitools.returns.validate import validate_tables

BOOTCAMP = {
    "bootcamp_id": "B1",
    "start_date": "2023-01-09",
    "end_date": "2023-04-28",
    "price_per_learner": "3000",
}
PROVIDER = {"provider_id": "P001", "name": "Demo", "ukprn": "10012345"}
LEARNER = {
    "learner_ref": "L1",
    "bootcamp_id": "B1",
    "learner_type": "independent",
    "start_date": "2023-01-09",
}


def _validated(*learners: dict[str, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    raws = {
        "provider": RawTable.from_records("provider", [PROVIDER], label="provider.csv"),
        "bootcamps": RawTable.from_records("bootcamps", [BOOTCAMP], label="bootcamps.csv"),
        "learners": RawTable.from_records(
            "learners",
            [{**LEARNER, "learner_ref": f"L{i}", **one} for i, one in enumerate(learners, 1)],
            label="learners.csv",
        ),
    }
    tables, rejected, counts = validate_tables(raws)
    assert counts["learners"].read == counts["learners"].accepted + counts["learners"].rejected
    return tables["learners"], rejected


def test_good_identity_values_are_kept_as_written() -> None:
    learners, rejected = _validated(
        {"date_of_birth": "1990-04-12", "postcode": "b1 1aa", "ni_number": "QQ 12 34 56 C"},
        {"date_of_birth": "12/04/1990", "postcode": "SW1A2AA", "ni_number": "AB123456"},
    )
    assert rejected.empty
    assert learners["date_of_birth"].tolist() == [pd.Timestamp("1990-04-12")] * 2
    assert learners["postcode"].tolist() == ["b1 1aa", "SW1A2AA"]
    assert learners["ni_number"].tolist() == ["QQ 12 34 56 C", "AB123456"]


@pytest.mark.parametrize(
    ("born", "ok"),
    [
        # start 2023-01-09: 16 on 2023-01-09 is the youngest, 100 the oldest
        ("2007-01-09", True),  # 16 that day
        ("2007-01-10", False),  # 15, one day short
        ("1922-01-10", True),  # 100
        ("1922-01-09", False),  # 101 that day
        ("1899-12-31", False),  # before 1900: DATE-RANGE
    ],
)
def test_age_at_start_16_to_100(born: str, ok: bool) -> None:
    learners, rejected = _validated({"date_of_birth": born})
    if ok:
        assert rejected.empty and len(learners) == 1
    else:
        assert learners.empty
        [reason] = rejected.to_dict("records")
        assert (reason["source"], reason["column"], reason["value"]) == (
            "learners.csv:2",
            "date_of_birth",
            born,
        )
        assert reason["rule"] in ("BAD-AGE", "DATE-RANGE")


def test_bad_shapes_are_rejected_with_their_rules() -> None:
    learners, rejected = _validated(
        {"date_of_birth": "31/02/1990"},
        {"postcode": "B1"},
        {"postcode": "12345"},
        {"ni_number": "QQ1234567"},
        {"ni_number": "Q1234567A"},  # one letter
        {"ni_number": "qq123456e"},  # suffix beyond D
    )
    assert learners.empty
    rules = rejected.set_index("source")["rule"].to_dict()
    assert rules == {
        "learners.csv:2": "BAD-DATE",
        "learners.csv:3": "BAD-POSTCODE",
        "learners.csv:4": "BAD-POSTCODE",
        "learners.csv:5": "BAD-NI-NUMBER",
        "learners.csv:6": "BAD-NI-NUMBER",
        "learners.csv:7": "BAD-NI-NUMBER",
    }
    # every rejected identity value is personal data: withheld without include_pii
    assert rejected["personal"].all()


def test_a_missing_start_date_is_not_an_age_problem() -> None:
    _, rejected = _validated({"start_date": "", "date_of_birth": "1990-01-01"})
    assert rejected["rule"].tolist() == ["REQUIRED"]
