"""RESTATED-* between two months, and finding the previous return."""

from __future__ import annotations

from auditkit_frames import bootcamp, learner, provider_return

from kpitools.checks.restated import restatements
from kpitools.model import Finding, ProviderReturn

FEB = "/data/2023-02/P001"
MAR = "/data/2023-03/P001"


def _restated(
    current: ProviderReturn, previous: ProviderReturn, *, payments: bool = True
) -> list[Finding]:
    """The restatements of one provider (a run of one)."""
    key = current.provider_id
    return restatements({key: (current, previous)}, payments={key} if payments else set())[key]


def _pay(amount: float, when: str, evidence: str | None = None, ref: str = "L1") -> dict:
    return {
        "employer_id": "E1",
        "learner_ref": ref,
        "bootcamp_id": "B1",
        "amount": amount,
        "payment_date": when,
        "evidence_ref": evidence,
    }


def _rules(before: dict, now: dict) -> list[tuple[str, str]]:
    previous = provider_return(path=FEB, bootcamps=[bootcamp()], **before)
    current = provider_return(path=MAR, bootcamps=[bootcamp()], **now)
    return [(f.rule, f.entity) for f in _restated(current, previous)]


def test_unchanged_learners_and_progress_are_not_restatements():
    # L1 gains an M1 and L2 a withdrawal, L3 a completion: progress, not restatement.
    before = [
        learner("L1"),
        learner("L2", m1_date="2023-01-16"),
        learner("L3", m1_date="2023-01-16"),
    ]
    now = [
        learner("L1", m1_date="2023-01-16"),
        learner("L2", m1_date="2023-01-16", withdrawal_date="2023-03-01"),
        learner("L3", m1_date="2023-01-16", completion_date="2023-03-20"),
    ]
    assert _rules({"learners": before}, {"learners": now}) == []


def test_disappeared_learner_cites_last_months_row():
    previous = provider_return(
        path=FEB, bootcamps=[bootcamp()], learners=[learner("L1"), learner("L2")]
    )
    current = provider_return(path=MAR, bootcamps=[bootcamp()], learners=[learner("L1")])
    findings = _restated(current, previous)
    assert [(f.rule, f.entity, f.source, f.severity) for f in findings] == [
        ("RESTATED-DISAPPEARED", "learner:L2", "2023-02/learners.csv:3", "high")
    ]


def test_moved_dates_each_give_their_rule():
    # L1 start moved a day, L2 M1 moved a day, L3 M1 removed, L4 withdrawal moved a day,
    # L5 withdrawal removed (still not completed).
    before = [
        learner("L1"),
        learner("L2", m1_date="2023-01-16"),
        learner("L3", m1_date="2023-01-16"),
        learner("L4", withdrawal_date="2023-02-01"),
        learner("L5", withdrawal_date="2023-02-01"),
    ]
    now = [
        learner("L1", start="2023-01-10"),
        learner("L2", m1_date="2023-01-17"),
        learner("L3"),
        learner("L4", withdrawal_date="2023-02-02"),
        learner("L5"),
    ]
    assert _rules({"learners": before}, {"learners": now}) == [
        ("RESTATED-START-DATE", "learner:L1"),
        ("RESTATED-M1-DATE", "learner:L2"),
        ("RESTATED-M1-DATE", "learner:L3"),
        ("RESTATED-WITHDRAWAL-DATE", "learner:L4"),
        ("RESTATED-WITHDRAWAL-DATE", "learner:L5"),
    ]


def test_withdrawal_turned_into_completion_cites_both_months():
    previous = provider_return(
        path=FEB,
        bootcamps=[bootcamp()],
        learners=[learner("L1", m1_date="2023-01-16", withdrawal_date="2023-02-01")],
    )
    current = provider_return(
        path=MAR,
        bootcamps=[bootcamp()],
        learners=[learner("L1", m1_date="2023-01-16", completion_date="2023-03-20")],
    )
    findings = _restated(current, previous)
    assert [(f.rule, f.source) for f in findings] == [
        ("RESTATED-WITHDRAWAL-TO-COMPLETION", "learners.csv:2; 2023-02/learners.csv:2")
    ]


def test_payments_changed_removed_and_new():
    # Last month L1: £300 on 02-01 (EV1) and £200 on 02-15 (EV2); L2: £100 on 02-10.
    # Now L1: £300 on 02-01 (EV1, identical), £250 on 02-15 (EV2, amount changed) and a
    # new £50 (new: not a restatement); L2's payment is gone.
    before = [
        _pay(300, "2023-02-01", "EV1"),
        _pay(200, "2023-02-15", "EV2"),
        _pay(100, "2023-02-10", None, ref="L2"),
    ]
    now = [
        _pay(300, "2023-02-01", "EV1"),
        _pay(50, "2023-03-01", "EV3"),
        _pay(250, "2023-02-15", "EV2"),
    ]
    learners = [learner("L1"), learner("L2")]
    previous = provider_return(
        path=FEB, bootcamps=[bootcamp()], learners=learners, cofunding_payments=before
    )
    current = provider_return(
        path=MAR, bootcamps=[bootcamp()], learners=learners, cofunding_payments=now
    )
    findings = _restated(current, previous)
    assert [(f.rule, f.entity, f.source) for f in findings] == [
        (
            "RESTATED-PAYMENT-CHANGED",
            "learner:L1",
            "cofunding_payments.csv:4; 2023-02/cofunding_payments.csv:3",
        ),
        ("RESTATED-PAYMENT-REMOVED", "learner:L2", "2023-02/cofunding_payments.csv:4"),
    ]
    assert "£200.00" in findings[0].message and "£250.00" in findings[0].message


def test_payment_date_change_without_evidence_ref_pairs_in_date_order():
    # £300 moved from 02-01 to 02-03, no evidence refs: one CHANGED, nothing removed.
    assert _rules(
        {"cofunding_payments": [_pay(300, "2023-02-01")]},
        {"cofunding_payments": [_pay(300, "2023-02-03")]},
    ) == [("RESTATED-PAYMENT-CHANGED", "learner:L1")]


def test_refs_that_lost_their_leading_zeros_are_matched_and_reported_once():
    # Last month 000670, 000671 (a payment), 000672 (withdrawn); this month Excel wrote them
    # as 670, 671, 672, and 672's withdrawal date moved a day (a real restatement, kept).
    # 0673 and 673 both strip to 673: ambiguous, so 0673 disappeared and 673 is new.
    # L9 is gone for real.
    before = [
        learner("000670"),
        learner("000671"),
        learner("000672", withdrawal_date="2023-02-01"),
        learner("0673"),
        learner("00673"),
        learner("L9"),
    ]
    now = [
        learner("670"),
        learner("671"),
        learner("672", withdrawal_date="2023-02-02"),
        learner("673"),
    ]
    pay = {"employer_id": "E1", "bootcamp_id": "B1", "amount": 500, "payment_date": "2023-02-10"}
    previous = provider_return(
        path=FEB,
        bootcamps=[bootcamp()],
        learners=before,
        cofunding_payments=[{**pay, "learner_ref": "000671"}],
    )
    current = provider_return(
        path=MAR,
        bootcamps=[bootcamp()],
        learners=now,
        cofunding_payments=[{**pay, "learner_ref": "671"}],
    )
    findings = _restated(current, previous)
    assert [(f.rule, f.entity) for f in findings] == [
        ("REF-FORMAT-CHANGED", "provider:P001"),
        ("RESTATED-WITHDRAWAL-DATE", "learner:000672"),  # last month's ref names the learner
        ("RESTATED-DISAPPEARED", "learner:0673"),
        ("RESTATED-DISAPPEARED", "learner:00673"),
        ("RESTATED-DISAPPEARED", "learner:L9"),
    ]
    changed = findings[0]
    assert changed.severity == "low"
    assert changed.message.startswith(
        "3 learner ref(s) lost their leading zeros since the 2023-02 return "
        "(the first 3 at the rows cited)"
    )
    assert "670" not in changed.message  # learners are named when an output is written
    assert changed.source == (
        "learners.csv:2; 2023-02/learners.csv:2; learners.csv:3; "
        "2023-02/learners.csv:3; learners.csv:4; 2023-02/learners.csv:4"
    )


def test_a_payment_table_left_out_is_not_every_payment_removed():
    pay = {
        "employer_id": "E1",
        "learner_ref": "L1",
        "bootcamp_id": "B1",
        "amount": 500,
        "payment_date": "2023-02-10",
    }
    previous = provider_return(
        path=FEB, bootcamps=[bootcamp()], learners=[learner("L1")], cofunding_payments=[pay]
    )
    current = provider_return(path=MAR, bootcamps=[bootcamp()], learners=[learner("L1")])
    assert [f.rule for f in _restated(current, previous)] == ["RESTATED-PAYMENT-REMOVED"]
    assert _restated(current, previous, payments=False) == []
