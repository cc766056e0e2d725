"""The checks of a run's providers run together (run_checks) give each provider exactly
what run_checks gives it alone (a run of one), on hand-made returns whose providers
reuse the same bootcamp, learner and employer ids."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from auditkit_frames import bootcamp, learner, provider_return

from kpitools.checks import run_checks
from kpitools.model import TableCount
from kpitools.rules import Rules

AS_OF = date(2023, 3, 31)
ULN = "1234567899"  # a valid check digit


def _pay(amount: float, when: str, ref: str = "L1") -> dict:
    return {
        "employer_id": "E1",
        "learner_ref": ref,
        "bootcamp_id": "B1",
        "amount": amount,
        "payment_date": when,
    }


def _pair(provider: str, before: dict | None, now: dict) -> tuple:
    current = provider_return(provider, path=f"/data/2023-03/{provider}", **now)
    previous = (
        None
        if before is None
        else provider_return(provider, path=f"/data/2023-02/{provider}", **before)
    )
    return current, previous


def _period() -> dict:
    camps = [bootcamp("B1"), bootcamp("B2")]
    employers = [{"employer_id": "E1", "name": "Acme"}]
    cofunded = {"learner_type": "co-funded", "employer_id": "E1"}
    # P1: L2 gone, L1's start date moved, ref 000670 saved as 670, a payment changed, one
    # ULN on two overlapping bootcamps, E1 not on its employer list.
    p1 = _pair(
        "P1",
        {
            "bootcamps": camps,
            "employers": employers,
            "learners": [learner("L1", **cofunded), learner("L2"), learner("000670")],
            "cofunding_payments": [_pay(500, "2023-02-01")],
        },
        {
            "bootcamps": camps,
            "learners": [
                learner("L1", start="2023-01-16", uln=ULN, **cofunded),
                learner("670"),
                learner("L3", "B2", uln=ULN),
            ],
            "cofunding_payments": [_pay(450, "2023-02-01")],
        },
    )
    # P2: the same ids, no previous month, E1 listed, the ULN of P1's learners (a
    # cross-provider pair: not for these checks)
    p2 = _pair(
        "P2",
        None,
        {
            "bootcamps": camps,
            "employers": employers,
            "learners": [learner("L1", uln=ULN, **cofunded)],
        },
    )
    # P3: a header-only learners file this month: last month's learner disappeared
    p3 = _pair("P3", {"bootcamps": camps, "learners": [learner("L1")]}, {"bootcamps": camps})
    # P4: every learner row rejected (one naming an employer not listed): no restatement
    rejected = [
        {
            "table": "learners",
            "source": "learners.csv:2",
            "column": "employer_id",
            "value": "E9",
            "reason": "no accepted row of employers has this employer_id",
            "rule": "REF-EMPLOYER",
            "personal": False,  # an id, not personal data (kpitools.returns.personal)
        }
    ]
    current, previous = _pair(
        "P4",
        {"bootcamps": camps, "learners": [learner("L1")]},
        {"bootcamps": camps, "rejected": rejected},
    )
    counts = {**current.counts, "learners": TableCount("learners", 1, 0, 1)}
    p4 = (replace(current, counts=counts), previous)
    # P5: cofunding_payments not supplied this month: learners compared, payments not
    current, previous = _pair(
        "P5",
        {
            "bootcamps": camps,
            "learners": [learner("L1")],
            "cofunding_payments": [_pay(500, "2023-02-01")],
        },
        {"bootcamps": camps, "learners": [learner("L1", start="2023-01-02")]},
    )
    p5 = (replace(current, not_supplied={"cofunding_payments": "cofunding_payments.csv"}), previous)
    return {"P1": p1, "P2": p2, "P3": p3, "P4": p4, "P5": p5}


def test_the_period_checked_together_is_each_provider_checked_alone():
    pairs = _period()
    together = run_checks(pairs, as_of=AS_OF, rules=Rules())
    assert list(together) == list(pairs)
    for provider, pair in pairs.items():
        alone = run_checks({provider: pair}, as_of=AS_OF, rules=Rules())
        assert together[provider] == alone[provider], provider
    rules = {
        provider: [(f.rule, f.entity) for f in findings] for provider, findings in together.items()
    }
    assert rules == {
        "P1": [
            ("DUP-ULN-OVERLAP", "learner:L3"),
            ("EMP-UNKNOWN", "learner:L1"),
            ("EMP-UNKNOWN", "learner:L1"),  # learner, payment
            ("REF-FORMAT-CHANGED", "provider:P1"),
            ("RESTATED-START-DATE", "learner:L1"),
            ("RESTATED-DISAPPEARED", "learner:L2"),
            ("RESTATED-PAYMENT-CHANGED", "learner:L1"),
        ],
        "P2": [],
        "P3": [("RESTATED-DISAPPEARED", "learner:L1")],
        "P4": [("EMP-UNKNOWN", "employer:E9")],
        "P5": [("RESTATED-START-DATE", "learner:L1")],
    }
    overlap = together["P1"][0]
    assert "bootcamp B1" in overlap.message and "\x1f" not in overlap.message


def test_an_empty_period_has_no_findings():
    assert run_checks({}, as_of=AS_OF, rules=Rules()) == {}


def test_a_period_without_previous_returns_has_no_restatements():
    pairs = {provider: (current, None) for provider, (current, _) in _period().items()}
    together = run_checks(pairs, as_of=AS_OF, rules=Rules())
    assert not any(
        f.rule.startswith("RESTATED") for findings in together.values() for f in findings
    )
    for provider, pair in pairs.items():
        assert (
            together[provider] == run_checks({provider: pair}, as_of=AS_OF, rules=Rules())[provider]
        )
