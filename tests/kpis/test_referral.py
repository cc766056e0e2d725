"""Referral: unsuccessful completers and withdrawn learners, one calendar month."""

from __future__ import annotations

from datetime import date

from kpi_frames import build, learner

from kpitools.kpis.referral import referral
from kpitools.rules import Rules


def _referral(ref: str, day: str) -> dict[str, str]:
    return {"learner_ref": ref, "bootcamp_id": "B1", "referral_date": day,
            "referred_to": "careers service"}


def _found(results):
    return sorted((f.entity, f.rule) for r in results for f in r.exceptions)


def _cases():
    # W1 withdrew 2023-01-31 after M1: unsuccessful then, due 2023-02-28 (month end).
    # W2 withdrew 2023-01-31, referred 2023-02-28 (last allowed day) -> passes.
    # W3 withdrew 2023-01-31, referred 2023-03-01 (a day late) -> REF-MISSING.
    # PRE withdrew before M1 -> not in the population.
    # C1 completed 2023-03-01 without outcome: unsuccessful 2023-09-01, due 2023-10-01.
    return [
        learner("W1", m1="2023-01-10", withdrawn="2023-01-31"),
        learner("W2", m1="2023-01-10", withdrawn="2023-01-31"),
        learner("W3", m1="2023-01-10", withdrawn="2023-01-31"),
        learner("PRE", m1="2023-01-10", withdrawn="2023-01-09"),
        learner("C1", m1="2023-01-10", completed="2023-03-01"),
    ], [_referral("W2", "2023-02-28"), _referral("W3", "2023-03-01")]


def test_one_calendar_month_boundary_and_life_cycle(rules):
    learners, referrals = _cases()
    tables = build(learners=learners, referrals=referrals)

    def figures(day: date):
        r = referral(tables, as_of=day, rules=rules)[0]
        return r.numerator, r.denominator, r.status

    assert figures(date(2023, 1, 9)) == (0, 0, "not_due")  # before the first M1
    # 2023-02-01: three withdrawn learners, none due yet, W1 and W3 not referred -> at_risk
    assert figures(date(2023, 2, 1)) == (0, 0, "at_risk")
    # 2023-02-28: W1, W2, W3 due; only W2 referred by then -> 1 / 3, off_track
    assert figures(date(2023, 2, 28)) == (1, 3, "off_track")
    # 2023-10-01: C1's referral also due (none): 1 / 4; bootcamp over and all due -> not_met
    final = referral(tables, as_of=date(2023, 10, 1), rules=rules)
    assert (final[0].numerator, final[0].denominator, final[0].status) == (1, 4, "not_met")
    assert _found(final) == [("learner:C1", "REF-MISSING"), ("learner:W1", "REF-MISSING"),
                             ("learner:W3", "REF-MISSING")]


def test_withdrawn_learners_can_be_left_out():
    # referral_includes_withdrawn false: only C1 (no outcome, window closed) counts: 0 / 1.
    learners, referrals = _cases()
    results = referral(build(learners=learners, referrals=referrals), as_of=date(2023, 10, 1),
                       rules=Rules(referral_includes_withdrawn=False))
    assert (results[0].numerator, results[0].denominator) == (0, 1)
    assert _found(results) == [("learner:C1", "REF-MISSING")]


def test_successful_completer_needs_no_referral(rules):
    # C1 has a valid outcome in the window -> not unsuccessful; nobody to refer -> no_data.
    outcome = {"learner_ref": "C1", "bootcamp_id": "B1", "outcome_type": "new_job",
               "outcome_date": "2023-05-01", "employer_id": "E9", "role_type": "job",
               "matches_skills": "Y"}
    tables = build(learners=[learner("C1", m1="2023-01-10", completed="2023-03-01")],
                   outcomes=[outcome])
    result = referral(tables, as_of=date(2023, 10, 1), rules=rules)[0]
    assert (result.denominator, result.status) == (0, "no_data")
