"""On the demo data (three consecutive months): every planted irregularity, restatement
and cross-provider duplicate in the ground truth is found, and the clean provider has
no irregularity at all."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

from kpitools.calendar import period_end
from kpitools.checks import run_checks, run_portfolio_checks
from kpitools.load import load_provider
from kpitools.model import Finding
from kpitools.rules import Rules

# Irregularities computed elsewhere: FUTURE-DATED with the KPIs, ILR-* by the ILR
# reconciliation, DUP-PERSON-* by the audit engine's person matching (tests/checks/
# test_people.py holds the demo's to its ground truth). Every other irregularity rule
# is this package's.
NOT_OURS = ("FUTURE-DATED", "ILR-", "DUP-PERSON-")


def _ours(rule_id: str) -> bool:
    return not rule_id.startswith(NOT_OURS)


@pytest.fixture(scope="module")
def demo(demo_dir):
    root, truth = demo_dir
    findings: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    previous: dict[str, object] = {}
    for period in truth.periods:
        as_of = period_end(period)
        returns = {p: load_provider(root / period / p) for p in truth.providers}
        pairs = {p: (current, previous.get(p)) for p, current in returns.items()}
        for provider_id, found in run_checks(pairs, as_of=as_of, rules=Rules()).items():
            findings[(period, provider_id)] += found
        for provider_id, found in run_portfolio_checks(returns, as_of=as_of).items():
            findings[(period, provider_id)] += found
        previous = returns
    return truth, findings


def test_every_planted_irregularity_is_found(demo):
    truth, findings = demo
    expected = [e for e in truth.expectations if e.kind == "irregularity" and _ours(e.rule)]
    assert {e.rule for e in expected} >= {
        "DUP-ROW",
        "DUP-ULN-OVERLAP",
        "DATE-ORDER",
        "M2-NO-EVIDENCE",
        "EMP-UNKNOWN",
        "RESTATED-DISAPPEARED",
        "RESTATED-WITHDRAWAL-TO-COMPLETION",
        "RESTATED-START-DATE",
        "RESTATED-M1-DATE",
        "RESTATED-WITHDRAWAL-DATE",
        "RESTATED-PAYMENT-CHANGED",
        "RESTATED-PAYMENT-REMOVED",
    }
    missed = []
    for e in expected:
        entities = {e.entity, *e.alt_entities}
        found = findings[(e.period, e.provider_id)]
        if not any(f.rule == e.rule and f.entity in entities for f in found):
            missed.append(f"{e.period} {e.provider_id} {e.rule} {e.entity}: {e.note}")
    assert missed == []


def test_cross_provider_duplicate_is_reported_to_both_providers(demo):
    truth, findings = demo
    across = [e for e in truth.expectations if e.plant == "DUP-ULN-OVERLAP-across"]
    assert len({e.provider_id for e in across}) == 2
    for e in across:
        hits = [
            f
            for f in findings[(e.period, e.provider_id)]
            if f.rule == "DUP-ULN-OVERLAP" and f.entity == e.entity
        ]
        other = next(x.provider_id for x in across if x.provider_id != e.provider_id)
        assert any(other in f.message for f in hits)


def test_clean_provider_has_no_irregularity(demo):
    truth, findings = demo
    assert truth.clean_providers
    for period in truth.periods:
        for provider_id in truth.clean_providers:
            assert findings[(period, provider_id)] == []


def test_no_finding_outside_the_ground_truth(demo):
    # Precision: every finding names a planted (rule, entity) of that provider and
    # period, or a rule the truth says may also be reported for that entity.
    truth, findings = demo
    allowed: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for e in truth.expectations + truth.background:
        for entity in (e.entity, *e.alt_entities):
            for rule_id in (e.rule, *e.may_also):
                allowed[(e.period, e.provider_id)].add((rule_id, entity))
    unexpected = [
        f"{period} {provider_id} {f.rule} {f.entity}: {f.message}"
        for (period, provider_id), found in findings.items()
        for f in found
        if (f.rule, f.entity) not in allowed[(period, provider_id)]
    ]
    assert unexpected == []


def test_messages_name_no_learner(demo):
    # The identity rule names learners when an output is written (kpitools.privacy.naming), so
    # no message holds a learner ref of the provider (every learner with a finding is
    # checked against every message) nor anything shaped like a ULN (10 digits).
    _, findings = demo
    named = []
    for key, found in findings.items():
        refs = {f.entity.partition(":")[2] for f in found if f.entity.startswith("learner:")}
        for f in found:
            words = set(re.findall(r"[\w-]+", f.message))
            if words & refs or re.search(r"(?<!\d)\d{10}(?!\d)", f.message):
                named.append(f"{key} {f.rule}: {f.message}")
    assert named == []
