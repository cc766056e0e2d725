"""The generator's small rules, on hand-made rows with the figures worked out by hand."""

from __future__ import annotations

import random
from datetime import date

from kpitools.demo.lives import required_pence
from kpitools.demo.people import deal_fates
from kpitools.demo.snapshot import find_row, learner_as_of, remove_learner
from kpitools.demo.world import LearnerLife, ProviderWorld
from kpitools.demo.writers import format_cell


def _learner(**dates: date | None) -> dict:
    row = {
        "learner_ref": "000123",
        "bootcamp_id": "BC1",
        "start_date": date(2023, 1, 3),
        "m1_date": None,
        "withdrawal_date": None,
        "withdrawal_reported_date": None,
        "completion_date": None,
        "new_role_evidence_date": None,
    }
    row.update(dates)
    return row


def test_milestones_show_from_their_own_day():
    row = _learner(
        m1_date=date(2023, 1, 20),
        completion_date=date(2023, 4, 10),
        new_role_evidence_date=date(2023, 4, 5),
    )
    # the day before M1: blank; on M1's day: shown; completion still to come: blank
    assert learner_as_of(row, date(2023, 1, 19))["m1_date"] is None
    shown = learner_as_of(row, date(2023, 1, 20))
    assert shown["m1_date"] == date(2023, 1, 20)
    assert shown["completion_date"] is None and shown["new_role_evidence_date"] is None
    assert learner_as_of(row, date(2023, 4, 10))["completion_date"] == date(2023, 4, 10)
    assert row["completion_date"] == date(2023, 4, 10)  # the world row is not changed


def test_withdrawal_shows_once_reported():
    row = _learner(
        m1_date=date(2023, 1, 12),
        withdrawal_date=date(2023, 1, 25),
        withdrawal_reported_date=date(2023, 2, 3),
    )
    # withdrew 25 January, reported 3 February: the January return does not know yet
    january = learner_as_of(row, date(2023, 1, 31))
    assert january["withdrawal_date"] is None and january["withdrawal_reported_date"] is None
    assert learner_as_of(row, date(2023, 2, 2))["withdrawal_date"] is None
    assert learner_as_of(row, date(2023, 2, 3))["withdrawal_date"] == date(2023, 1, 25)


def test_fates_are_dealt_by_quota():
    rng = random.Random(0)
    # 40 learners: 25 % = 10 leave before M1; cohort 30; 10 % of 30 = 3 after M1; 27 complete
    fates = deal_fates(40, 0.10, rng)
    assert (
        fates.count("pre_m1_withdrawn"),
        fates.count("withdrawn"),
        fates.count("completed"),
    ) == (10, 3, 27)
    # planted bootcamp, 30 %: ceil(0.3 * 30) = 9 withdraw after M1 (9 / 30 > 20 %)
    assert deal_fates(40, 0.30, rng).count("withdrawn") == 9
    # 12 learners: 3 before M1, cohort 9 < 10, so nobody withdraws after M1
    assert deal_fates(12, 0.10, rng).count("withdrawn") == 0


def _provider(employees: int) -> tuple[ProviderWorld, LearnerLife]:
    pw = ProviderWorld(provider_id="P1", seed=1, clean=True, provider={})
    pw.bootcamps = [{"bootcamp_id": "BC1", "price_per_learner": 345000}]  # £3,450.00
    pw.employers = [{"employer_id": "E1", "employee_count": employees}]
    life = LearnerLife(
        row={"learner_ref": "1", "bootcamp_id": "BC1", "employer_id": "E1"},
        fate="completed",
        success=True,
    )
    return pw, life


def test_required_contribution_by_employer_size():
    # 249 employees is an SME: 10 % of £3,450.00 = £345.00; 250 is large: 30 % = £1,035.00
    assert required_pence(*_provider(249)) == 34500
    assert required_pence(*_provider(250)) == 103500


def test_cells_follow_the_provider_style():
    uk, pounds = {"dates": "uk"}, {"money": "pounds"}
    assert format_cell(date(2023, 3, 31), "date", {}) == "2023-03-31"
    assert format_cell(date(2023, 3, 31), "date", uk) == "31/03/2023"
    assert format_cell(125000, "money", {}) == "1250.00"
    assert format_cell(125050, "money", pounds) == "£1,250.50"
    assert format_cell(["BC1", "BC2"], "idlist", {}) == "BC1;BC2"
    assert format_cell(None, "date", uk) == ""
    assert format_cell("31/02/2023", "date", {}) == "31/02/2023"  # planted text stays as is


def test_rows_are_numbered_as_a_person_sees_them_and_learners_leave_whole():
    tables = {
        name: []
        for name in (
            "learners",
            "cofunding_payments",
            "assessments",
            "interviews",
            "outcomes",
            "referrals",
        )
    }
    tables["learners"] = [
        {"learner_ref": "1", "bootcamp_id": "A"},
        {"learner_ref": "2", "bootcamp_id": "A"},
    ]
    tables["assessments"] = [{"learner_ref": "2", "bootcamp_id": "A", "kind": "initial"}]
    # header is line 1, so the second learner is on line 3
    assert find_row(tables, "learners", {"learner_ref": "2"}) == 3
    assert find_row(tables, "learners", {"learner_ref": "9"}) is None
    remove_learner(tables, "2", "A")
    assert tables["learners"] == [{"learner_ref": "1", "bootcamp_id": "A"}]
    assert tables["assessments"] == []
