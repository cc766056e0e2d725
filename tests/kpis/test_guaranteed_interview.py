"""Guaranteed interview: valid offers, accelerated apprenticeships, new-role evidence."""

from __future__ import annotations

from datetime import date

from kpi_frames import bootcamp, build, learner

from kpitools.kpis.guaranteed_interview import guaranteed_interview


def _offer(
    ref: str, day: str = "2023-03-01", role: str = "job", matches: str = "Y", employer: str = "E9"
) -> dict[str, str]:
    return {
        "learner_ref": ref,
        "bootcamp_id": "B1",
        "employer_id": employer,
        "offer_date": day,
        "role_type": role,
        "matches_skills": matches,
    }


def _run(learners, interviews, *, as_of=date(2023, 4, 1), accelerated="N", rules):
    tables = build(
        bootcamps=[bootcamp(accelerated=accelerated)], learners=learners, interviews=interviews
    )
    return guaranteed_interview(tables, as_of=as_of, rules=rules)


def _found(results):
    return sorted((f.entity, f.rule) for r in results for f in r.exceptions)


def test_full_apprenticeship_on_accelerated_bootcamp_is_invalid(rules):
    # Accelerated bootcamp. FULL: only a full apprenticeship offer -> INT-INVALID.
    # ACC: accelerated apprenticeship -> valid. JOB: a job -> valid. Value 2 / 3.
    learners = [learner(r, m1="2023-01-10", completed="2023-03-20") for r in ("FULL", "ACC", "JOB")]
    offers = [
        _offer("FULL", role="apprenticeship"),
        _offer("ACC", role="accelerated_apprenticeship"),
        _offer("JOB"),
    ]
    results = _run(learners, offers, accelerated="Y", rules=rules)
    assert (results[0].numerator, results[0].denominator, results[0].status) == (2, 3, "not_met")
    assert _found(results) == [("learner:FULL", "INT-INVALID")]
    # the same full apprenticeship on an ordinary bootcamp is valid: 3 / 3 met.
    results = _run(learners, offers, accelerated="N", rules=rules)
    assert (results[0].numerator, results[0].status) == (3, "met")


def test_invalid_and_missing_offers(rules):
    # OTHER: role_type other -> invalid. NOMATCH: matches_skills N -> invalid.
    # OWN: independent learner with employer E1 offered a job at E1 -> not a new employer.
    # AFTER: offer dated 2023-03-21, the day after completion 2023-03-20 -> invalid.
    # ONDAY: offer dated on the completion date -> valid. NONE: no offer -> INT-NONE.
    refs = ("OTHER", "NOMATCH", "OWN", "AFTER", "ONDAY", "NONE")
    learners = [
        learner(r, m1="2023-01-10", completed="2023-03-20", employer="E1" if r == "OWN" else "")
        for r in refs
    ]
    offers = [
        _offer("OTHER", role="other"),
        _offer("NOMATCH", matches="N"),
        _offer("OWN", employer="E1"),
        _offer("AFTER", day="2023-03-21"),
        _offer("ONDAY", day="2023-03-20"),
    ]
    results = _run(learners, offers, rules=rules)
    assert (results[0].numerator, results[0].denominator) == (1, 6)
    assert _found(results) == [
        ("learner:AFTER", "INT-INVALID"),
        ("learner:NOMATCH", "INT-INVALID"),
        ("learner:NONE", "INT-NONE"),
        ("learner:OTHER", "INT-INVALID"),
        ("learner:OWN", "INT-INVALID"),
    ]


def test_co_funded_completer_with_new_role_evidence_passes(rules):
    # Co-funded learners who want an interview (wants Y): EVID has the employer's
    # new-role evidence on the completion date -> pass; LATE has it the day after -> fails
    # with INT-NONE; NOWANT (co-funded, default wants N) is not in the population.
    learners = [
        learner(
            "EVID",
            m1="2023-01-10",
            completed="2023-03-20",
            learner_type="co-funded",
            employer="E1",
            wants="Y",
            evidence="2023-03-20",
        ),
        learner(
            "LATE",
            m1="2023-01-10",
            completed="2023-03-20",
            learner_type="co-funded",
            employer="E1",
            wants="Y",
            evidence="2023-03-21",
        ),
        learner(
            "NOWANT",
            m1="2023-01-10",
            completed="2023-03-20",
            learner_type="co-funded",
            employer="E1",
        ),
    ]
    results = _run(learners, [], rules=rules)
    assert (results[0].numerator, results[0].denominator) == (1, 2)
    assert _found(results) == [("learner:LATE", "INT-NONE")]


def test_self_employed_defaults_and_life_cycle(rules):
    # SELF (self-employed, wants blank -> N) is not in the population; IND completes
    # 2023-03-01 with a valid offer; IND2 completes 2023-03-10 with none.
    learners = [
        learner("SELF", m1="2023-01-10", completed="2023-03-01", learner_type="self-employed"),
        learner("IND", m1="2023-01-10", completed="2023-03-01"),
        learner("IND2", m1="2023-01-10", completed="2023-03-10"),
    ]
    tables = build(learners=learners, interviews=[_offer("IND", day="2023-02-20")])

    def figures(day: date):
        r = guaranteed_interview(tables, as_of=day, rules=rules)[0]
        return r.numerator, r.denominator, r.status

    assert figures(date(2023, 2, 28)) == (0, 0, "not_due")  # before the first M2
    assert figures(date(2023, 3, 1)) == (1, 1, "on_track")
    assert figures(date(2023, 3, 10)) == (1, 2, "not_met")  # everyone done: due
    # had IND2 not completed yet but still be in learning, the bootcamp runs on:
    running = build(
        learners=learners[:2] + [learner("IND2", m1="2023-01-10")],
        interviews=[_offer("IND", day="2023-02-20")],
    )
    r = guaranteed_interview(running, as_of=date(2023, 3, 10), rules=rules)[0]
    assert (r.numerator, r.denominator, r.status) == (1, 1, "on_track")


def test_an_offer_from_the_ilr_is_unverified_never_failed_nor_met(rules):
    # Offers read from the ILR have role type "unknown" and no skills match (issue 23).
    # VALID: a job offer -> passes. ILR: only an ILR offer before completion -> unverified.
    # MIXED: an ILR offer and an offer of role "other" -> unverified (the ILR one may be
    # valid). BAD: role "other" -> INT-INVALID. LATE: an ILR offer the day after
    # completion -> INT-INVALID "offered after completion" (the date is known).
    # Bootcamp over (everyone completed 2023-03-20): value over the judged cases 1 / 3,
    # 2 unverified, never "not a job" for the ILR's offers.
    refs = ("VALID", "ILR", "MIXED", "BAD", "LATE")
    learners = [learner(r, m1="2023-01-10", completed="2023-03-20") for r in refs]
    offers = [
        _offer("VALID"),
        _offer("ILR", role="unknown", matches=""),
        _offer("MIXED", role="unknown", matches=""),
        _offer("MIXED", role="other"),
        _offer("BAD", role="other"),
        _offer("LATE", day="2023-03-21", role="unknown", matches=""),
    ]
    results = _run(learners, offers, rules=rules)
    provider = results[-1]
    assert (provider.numerator, provider.denominator, provider.unverified) == (1, 3, 2)
    assert provider.status == "not_met"  # judged on VALID, BAD and LATE
    assert _found(results) == [("learner:BAD", "INT-INVALID"), ("learner:LATE", "INT-INVALID")]
    messages = {f.entity: f.message for r in results for f in r.exceptions}
    assert "offered after completion" in messages["learner:LATE"]
    assert "not a job" in messages["learner:BAD"] and "not a job" not in messages["learner:LATE"]
    # only ILR offers, all before completion: nothing judged, nothing failed or met
    only = _run([learner("ILR", m1="2023-01-10", completed="2023-03-20")], offers[1:2], rules=rules)
    assert (only[-1].numerator, only[-1].denominator, only[-1].unverified) == (0, 0, 1)
    assert only[-1].status == "no_data" and _found(only) == []
