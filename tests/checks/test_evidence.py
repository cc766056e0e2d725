"""M2-NO-EVIDENCE on hand-made rows, both sides of each boundary."""

from __future__ import annotations

from datetime import date

from auditkit_frames import frame, learner

from kpitools.checks.evidence import m2_without_evidence

AS_OF = date(2023, 3, 31)
DONE = {"m1_date": "2023-01-16", "completion_date": "2023-03-10"}


def _interview(ref: str, offer: str) -> dict:
    return {
        "learner_ref": ref,
        "bootcamp_id": "B1",
        "offer_date": offer,
        "role_type": "job",
        "matches_skills": "Y",
    }


def _outcome(ref: str, kind: str, when: str) -> dict:
    return {"learner_ref": ref, "bootcamp_id": "B1", "outcome_type": kind, "outcome_date": when}


def _flagged(learners, interviews=(), outcomes=(), as_of=AS_OF) -> list[str]:
    findings = m2_without_evidence(
        frame("learners", list(learners)),
        frame("interviews", list(interviews)),
        frame("outcomes", list(outcomes)),
        as_of=as_of,
    )
    assert all(f.rule == "M2-NO-EVIDENCE" and f.severity == "high" for f in findings)
    return [f.entity for f in findings]


def test_independent_needs_an_offer_on_or_before_completion():
    # Completion 2023-03-10. I1's offer is on that day (ok); I2's a day later (flagged);
    # I3 has none (flagged). I4 has not completed: not in the population.
    learners = [learner(r, **DONE) for r in ("I1", "I2", "I3")] + [
        learner("I4", m1_date="2023-01-16")
    ]
    interviews = [_interview("I1", "2023-03-10"), _interview("I2", "2023-03-11")]
    assert _flagged(learners, interviews) == ["learner:I2", "learner:I3"]


def test_completion_after_as_of_is_not_yet_an_m2():
    # Completion 2023-03-10 with as_of 2023-03-09: not due yet, nothing flagged; with
    # as_of 2023-03-10 it is in the population and has no offer.
    learners = [learner("I1", **DONE)]
    assert _flagged(learners, as_of=date(2023, 3, 9)) == []
    assert _flagged(learners, as_of=date(2023, 3, 10)) == ["learner:I1"]


def test_cofunded_passes_with_offer_or_new_role_evidence():
    # C1: new-role evidence on completion day (ok). C2: evidence a day after, no offer
    # (flagged). C3: an offer before completion (ok).
    learners = [
        learner(
            "C1",
            learner_type="co-funded",
            employer_id="E1",
            new_role_evidence_date="2023-03-10",
            **DONE,
        ),
        learner(
            "C2",
            learner_type="co-funded",
            employer_id="E1",
            new_role_evidence_date="2023-03-11",
            **DONE,
        ),
        learner("C3", learner_type="co-funded", employer_id="E1", **DONE),
    ]
    assert _flagged(learners, [_interview("C3", "2023-03-01")]) == ["learner:C2"]


def test_self_employed_needs_plan_unless_wanting_employment():
    # S1 (not wanting a job) has a self_employment_plan on completion day: ok.
    # S2 has only a new_job outcome: flagged. S3 wants employment, so needs an
    # interview offer, which it has: ok. S4 wants employment with only a plan: flagged.
    learners = [
        learner("S1", learner_type="self-employed", **DONE),
        learner("S2", learner_type="self-employed", **DONE),
        learner("S3", learner_type="self-employed", wants_interview="Y", **DONE),
        learner("S4", learner_type="self-employed", wants_interview="Y", **DONE),
    ]
    outcomes = [
        _outcome("S1", "self_employment_plan", "2023-03-10"),
        _outcome("S2", "new_job", "2023-03-01"),
        _outcome("S4", "self_employment_plan", "2023-03-01"),
    ]
    assert _flagged(learners, [_interview("S3", "2023-02-20")], outcomes) == [
        "learner:S2",
        "learner:S4",
    ]


def test_the_earliest_offer_of_the_same_learner_and_bootcamp_counts():
    # I1 has two offers: 2023-03-20 (after completion 2023-03-10) and 2023-03-05 (before):
    # the earliest counts, ok. I2's only offer before completion is for another bootcamp
    # (B2): flagged, with the evidence it lacked in the message.
    learners = [learner("I1", **DONE), learner("I2", **DONE)]
    interviews = [
        _interview("I1", "2023-03-20"),
        _interview("I1", "2023-03-05"),
        {**_interview("I2", "2023-03-01"), "bootcamp_id": "B2"},
    ]
    findings = m2_without_evidence(
        frame("learners", learners),
        frame("interviews", interviews),
        frame("outcomes", []),
        as_of=AS_OF,
    )
    assert [(f.entity, f.message) for f in findings] == [
        (
            "learner:I2",
            "independent learner completed on 2023-03-10 without an interview "
            "offer dated on or before completion",
        )
    ]


def test_an_offer_from_the_ilr_is_evidence_of_an_offer():
    # An interview offer read from the ILR (role type unknown, issue 23) on the completion
    # day is an offer: no M2-NO-EVIDENCE; its validity is the KPI's question.
    offer = {**_interview("L1", "2023-02-28"), "role_type": "unknown", "matches_skills": ""}
    assert (
        _flagged([learner("L1", m1_date="2023-01-16", completion_date="2023-02-28")], [offer]) == []
    )
