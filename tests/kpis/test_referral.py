"""Referral: unsuccessful completers and withdrawn learners, one calendar month."""

from __future__ import annotations

from datetime import date

from kpi_frames import build, learner

from kpitools.kpis.referral import referral
from kpitools.rules import Rules


def _referral(ref: str, day: str) -> dict[str, str]:
    return {
        "learner_ref": ref,
        "bootcamp_id": "B1",
        "referral_date": day,
        "referred_to": "careers service",
    }


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
    assert _found(final) == [
        ("learner:C1", "REF-MISSING"),
        ("learner:W1", "REF-MISSING"),
        ("learner:W3", "REF-MISSING"),
    ]


def test_withdrawn_learners_can_be_left_out():
    # referral_includes_withdrawn false: only C1 (no outcome, window closed) counts: 0 / 1.
    learners, referrals = _cases()
    results = referral(
        build(learners=learners, referrals=referrals),
        as_of=date(2023, 10, 1),
        rules=Rules(referral_includes_withdrawn=False),
    )
    assert (results[0].numerator, results[0].denominator) == (0, 1)
    assert _found(results) == [("learner:C1", "REF-MISSING")]


def test_successful_completer_needs_no_referral(rules):
    # C1 has a valid outcome in the window -> not unsuccessful; nobody to refer -> no_data.
    outcome = {
        "learner_ref": "C1",
        "bootcamp_id": "B1",
        "outcome_type": "new_job",
        "outcome_date": "2023-05-01",
        "employer_id": "E9",
        "role_type": "job",
        "matches_skills": "Y",
    }
    tables = build(
        learners=[learner("C1", m1="2023-01-10", completed="2023-03-01")], outcomes=[outcome]
    )
    result = referral(tables, as_of=date(2023, 10, 1), rules=rules)[0]
    assert (result.denominator, result.status) == (0, "no_data")


def test_a_learner_is_one_case_at_most(rules):
    # D withdrew 2023-01-31 after M1 and also carries a completion date 2023-03-01 (a
    # DATE-ORDER finding), never referred; W2 withdrew 2023-01-31 and was referred on
    # 2023-02-10. As of 2023-10-01 D's completion window (to 2023-09-01) has closed too,
    # yet D is one case, unsuccessful at withdrawal (due 2023-02-28): 1 / 2, not 1 / 3.
    learners = [
        learner("D", m1="2023-01-10", withdrawn="2023-01-31", completed="2023-03-01"),
        learner("W2", m1="2023-01-10", withdrawn="2023-01-31"),
    ]
    tables = build(learners=learners, referrals=[_referral("W2", "2023-02-10")])
    result = referral(tables, as_of=date(2023, 10, 1), rules=rules)
    assert (result[0].numerator, result[0].denominator) == (1, 2)
    missing = [f for r in result for f in r.exceptions if r.bootcamp_id == "B1"]
    assert [(f.entity, f.message) for f in missing] == [
        ("learner:D", "withdrew after M1 on 2023-01-31; no referral by 2023-02-28")
    ]
    # the other side: a completer who did not withdraw is still a completer case
    tables = build(learners=[learner("C", m1="2023-01-10", completed="2023-03-01")])
    result = referral(tables, as_of=date(2023, 10, 1), rules=rules)[0]
    assert (result.numerator, result.denominator) == (0, 1)


def test_status_final_as_soon_as_nobody_can_still_become_a_case(rules):
    # B1 ends 2023-03-31. W1 withdrew 2023-01-31 after M1, referred 2023-02-10 (due
    # 2023-02-28). C1 completed 2023-03-01 and has a valid outcome dated 2023-05-01.
    # On 2023-04-30 C1's window (to 2023-09-01) is open without a valid outcome yet: C1
    # may still become a case (due 2023-10-01) -> on_track. On 2023-05-01 the outcome is
    # there: nobody can become a case and W1's case has fallen due -> met, 1 / 1, not
    # on_track until 2023-10-01 as before (kpi-rules.md, clarified 2026-11-30).
    outcome = {
        "learner_ref": "C1",
        "bootcamp_id": "B1",
        "outcome_type": "new_job",
        "outcome_date": "2023-05-01",
        "employer_id": "E9",
        "role_type": "job",
        "matches_skills": "Y",
    }
    tables = build(
        learners=[
            learner("W1", m1="2023-01-10", withdrawn="2023-01-31"),
            learner("C1", m1="2023-01-10", completed="2023-03-01"),
        ],
        referrals=[_referral("W1", "2023-02-10")],
        outcomes=[outcome],
    )

    def figures(day: date):
        r = referral(tables, as_of=day, rules=rules)[0]
        return r.numerator, r.denominator, r.status, r.due_date

    assert figures(date(2023, 4, 30)) == (1, 1, "on_track", date(2023, 10, 1))
    # due at the finish: every cohort learner was done by C1's completion on 2023-03-01
    assert figures(date(2023, 5, 1)) == (1, 1, "met", date(2023, 3, 1))


def test_a_completer_with_an_unverified_outcome_is_not_ref_missing(rules):
    # C1 and C2 completed 2023-03-01 (windows closed 2023-09-01, referral due
    # 2023-10-01). C1's only outcome is from the ILR (role type unknown): it may have
    # succeeded, so without a referral it is unverified, not REF-MISSING. C2 has no
    # outcome and no referral: REF-MISSING. C3, like C1 but referred in time: passes.
    outcome = {
        "bootcamp_id": "B1",
        "outcome_type": "new_job",
        "outcome_date": "2023-05-01",
        "role_type": "unknown",
    }
    tables = build(
        learners=[learner(r, m1="2023-01-10", completed="2023-03-01") for r in ("C1", "C2", "C3")],
        outcomes=[{"learner_ref": "C1", **outcome}, {"learner_ref": "C3", **outcome}],
        referrals=[_referral("C3", "2023-09-15")],
    )
    results = referral(tables, as_of=date(2023, 10, 31), rules=rules)
    final = results[-1]
    assert (final.numerator, final.denominator, final.unverified) == (1, 2, 1)
    assert _found(results) == [("learner:C2", "REF-MISSING")]
