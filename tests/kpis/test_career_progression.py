"""Career progression: the six-month window, valid outcomes by learner type, statuses."""

from __future__ import annotations

from datetime import date

from kpi_frames import bootcamp, build, learner

from kpitools.kpis.career_progression import career_progression
from kpitools.rules import Rules


def _outcome(
    ref: str,
    day: str,
    kind: str = "new_job",
    employer: str = "E9",
    role: str = "job",
    matches: str = "Y",
) -> dict[str, str]:
    return {
        "learner_ref": ref,
        "bootcamp_id": "B1",
        "outcome_type": kind,
        "outcome_date": day,
        "employer_id": employer,
        "role_type": role,
        "matches_skills": matches,
    }


def _found(results):
    return sorted((f.entity, f.rule) for r in results for f in r.exceptions)


def _informational(results):
    return sorted((f.bootcamp_id, f.entity, f.rule) for r in results for f in r.informational)


def test_window_closes_six_calendar_months_after_31_august(rules):
    # Completion 2023-08-31: window closes 2024-02-29 (leap year, no 31 February).
    # EDGE: outcome on 2024-02-29 -> counts. LATE: outcome 2024-03-01 -> outside the window.
    # as_of 2024-03-31: both windows closed, the bootcamp is over. Value 1 / 2.
    boot = bootcamp(start="2023-06-01", end="2023-08-31")
    learners = [
        learner(r, start="2023-06-01", m1="2023-06-10", completed="2023-08-31")
        for r in ("EDGE", "LATE")
    ]
    outcomes = [_outcome("EDGE", "2024-02-29"), _outcome("LATE", "2024-03-01")]
    tables = build(bootcamps=[boot], learners=learners, outcomes=outcomes)
    results = career_progression(tables, as_of=date(2024, 3, 31), rules=rules)
    assert (results[0].numerator, results[0].denominator) == (1, 2)
    assert results[0].status == "reported"  # no progression target by default
    assert _found(results) == [("learner:LATE", "CP-INVALID-OUTCOME")]
    # On 2024-02-28 the windows are still open: nobody is due; EDGE's outcome is not yet
    # dated (after as_of), so the interim figure is 0 of 2.
    early = career_progression(tables, as_of=date(2024, 2, 28), rules=rules)[0]
    assert (early.denominator, early.status) == (0, "no_data")
    assert early.notes == (
        "interim: 0 of 2 completers whose window is still open already have a valid outcome",
    )


def test_valid_outcome_by_learner_type(rules):
    # Completion 2023-03-01, window closes 2023-09-01; as_of 2023-10-01.
    # IND new_job elsewhere -> valid.        COF co-funded new_role at own E1 -> valid.
    # COFX co-funded new_role at E2 (not own) -> invalid.
    # SELF self-employed (no aim) with self_employment_plan -> valid.
    # SELFJ self-employed who wants employment with a plan only -> invalid (needs new_job).
    # NONE independent without outcome -> CP-NO-OUTCOME, reported for information only
    # (no progression target, so nothing can be missed). Value 3 / 6.
    rows = [
        ("IND", "independent", "", ""),
        ("COF", "co-funded", "E1", ""),
        ("COFX", "co-funded", "E1", ""),
        ("SELF", "self-employed", "", ""),
        ("SELFJ", "self-employed", "", "Y"),
        ("NONE", "independent", "", ""),
    ]
    learners = [
        learner(r, m1="2023-01-10", completed="2023-03-01", learner_type=t, employer=e, wants=w)
        for r, t, e, w in rows
    ]
    outcomes = [
        _outcome("IND", "2023-05-01"),
        _outcome("COF", "2023-05-01", "new_role", employer="E1", role=""),
        _outcome("COFX", "2023-05-01", "new_role", employer="E2", role=""),
        _outcome("SELF", "2023-05-01", "self_employment_plan", employer="", role=""),
        _outcome("SELFJ", "2023-05-01", "self_employment_plan", employer="", role=""),
    ]
    results = career_progression(
        build(learners=learners, outcomes=outcomes), as_of=date(2023, 10, 1), rules=rules
    )
    assert (results[0].numerator, results[0].denominator) == (3, 6)
    assert _found(results) == [
        ("learner:COFX", "CP-INVALID-OUTCOME"),
        ("learner:SELFJ", "CP-INVALID-OUTCOME"),
    ]
    # once on its bootcamp's result (ALL pools the counts, not the cases)
    assert _informational(results) == [("B1", "learner:NONE", "CP-NO-OUTCOME")]


def test_no_outcome_is_a_finding_only_when_a_target_is_set():
    # A due completer without any outcome: informational without a target, a medium
    # finding with one (the target can then be missed). Completion 2023-03-01, window
    # closed 2023-09-01, as_of 2023-10-01.
    tables = build(learners=[learner("NONE", m1="2023-01-10", completed="2023-03-01")])
    as_of = date(2023, 10, 1)
    reported = career_progression(tables, as_of=as_of, rules=Rules())
    assert (_found(reported), _informational(reported)) == (
        [],
        [("B1", "learner:NONE", "CP-NO-OUTCOME")],
    )
    targeted = career_progression(tables, as_of=as_of, rules=Rules(progression_target=0.5))
    assert (_found(targeted), _informational(targeted)) == ([("learner:NONE", "CP-NO-OUTCOME")], [])
    assert targeted[0].exceptions[0].severity == "medium"


def test_target_gives_met_or_not_met_when_due():
    # 1 of 2 due completers progressed = 50 %: met at a 50 % target, not_met at 60 %.
    learners = [learner(r, m1="2023-01-10", completed="2023-03-01") for r in ("A", "B")]
    tables = build(learners=learners, outcomes=[_outcome("A", "2023-04-01")])
    as_of = date(2023, 9, 2)  # windows closed 2023-09-01, bootcamp over
    assert (
        career_progression(tables, as_of=as_of, rules=Rules(progression_target=0.5))[0].status
        == "met"
    )
    assert (
        career_progression(tables, as_of=as_of, rules=Rules(progression_target=0.6))[0].status
        == "not_met"
    )


def test_an_achievement_from_the_ilr_is_unverified_for_a_job_seeker(rules):
    # The ILR's outcomes (its AchDate) have role type "unknown" (issue 23). JOB: an
    # independent learner's new_job outcome from the ILR inside the window -> unverified.
    # ROLE: a co-funded learner's new_role outcome from the ILR with its own employer ->
    # valid (a new role needs no role type). LATE: the ILR's outcome after the window
    # closed -> CP-INVALID-OUTCOME (the date is known). Windows close 2023-09-20; as_of
    # 2023-10-31: value 1 / 2, 1 unverified.
    learners = [
        learner("JOB", m1="2023-01-10", completed="2023-03-20"),
        learner(
            "ROLE", m1="2023-01-10", completed="2023-03-20", learner_type="co-funded", employer="E1"
        ),
        learner("LATE", m1="2023-01-10", completed="2023-03-20"),
    ]
    outcomes = [
        _outcome("JOB", "2023-05-01", role="unknown", matches=""),
        _outcome("ROLE", "2023-05-01", kind="new_role", employer="E1", role="unknown", matches=""),
        _outcome("LATE", "2023-09-21", role="unknown", matches=""),
    ]
    tables = build(bootcamps=[bootcamp()], learners=learners, outcomes=outcomes)
    results = career_progression(tables, as_of=date(2023, 10, 31), rules=rules)
    assert (results[-1].numerator, results[-1].denominator, results[-1].unverified) == (1, 2, 1)
    assert _found(results) == [("learner:LATE", "CP-INVALID-OUTCOME")]
    assert _informational(results) == []  # JOB has an outcome: not "no outcome" either
