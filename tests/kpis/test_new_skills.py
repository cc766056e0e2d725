"""New skills: initial on/before M1, final between initial and completion, achieved."""

from __future__ import annotations

from datetime import date

from kpi_frames import build, learner

from kpitools.kpis.new_skills import new_skills


def _assessment(ref: str, kind: str, day: str, achieved: str = "") -> dict[str, str]:
    return {
        "learner_ref": ref,
        "bootcamp_id": "B1",
        "kind": kind,
        "assessment_date": day,
        "skills_achieved": achieved,
    }


def _rules_by_entity(results):
    return sorted((f.entity, f.rule) for r in results for f in r.exceptions)


def test_each_failure_kind_on_hand_made_completers(rules):
    # Five completers (M1 2023-01-10, completed 2023-03-20):
    # OK:    initial 2023-01-10 (= M1, allowed), final 2023-03-20 (= completion) Y -> pass
    # EARLY: initial 2023-01-11 (day after M1)  -> NS-NO-INITIAL, fails
    # NOFIN: initial ok, no final               -> NS-NO-FINAL
    # LATE:  initial ok, final 2023-03-21 (day after completion) -> NS-ORDER
    # NOTY:  initial ok, final in order with skills_achieved N   -> NS-NOT-ACHIEVED
    # Value 1 / 5; bootcamp over at 2023-04-01 (after end 2023-03-31) -> not_met.
    refs = ["OK", "EARLY", "NOFIN", "LATE", "NOTY"]
    learners = [learner(r, m1="2023-01-10", completed="2023-03-20") for r in refs]
    assessments = [
        _assessment("OK", "initial", "2023-01-10"),
        _assessment("OK", "final", "2023-03-20", "Y"),
        _assessment("EARLY", "initial", "2023-01-11"),
        _assessment("EARLY", "final", "2023-03-01", "Y"),
        _assessment("NOFIN", "initial", "2023-01-05"),
        _assessment("LATE", "initial", "2023-01-05"),
        _assessment("LATE", "final", "2023-03-21", "Y"),
        _assessment("NOTY", "initial", "2023-01-05"),
        _assessment("NOTY", "final", "2023-03-01", "N"),
    ]
    results = new_skills(
        build(learners=learners, assessments=assessments), as_of=date(2023, 4, 1), rules=rules
    )
    b1 = results[0]
    assert (b1.numerator, b1.denominator, b1.status) == (1, 5, "not_met")
    assert _rules_by_entity(results) == [
        ("learner:EARLY", "NS-NO-INITIAL"),
        ("learner:LATE", "NS-ORDER"),
        ("learner:NOFIN", "NS-NO-FINAL"),
        ("learner:NOTY", "NS-NOT-ACHIEVED"),
    ]


def test_final_before_initial_is_out_of_order(rules):
    # initial 2023-01-08, final 2023-01-07 (before the initial) -> NS-ORDER, 0 / 1.
    learners = [learner("L1", m1="2023-01-10", completed="2023-03-20")]
    assessments = [
        _assessment("L1", "initial", "2023-01-08"),
        _assessment("L1", "final", "2023-01-07", "Y"),
    ]
    results = new_skills(
        build(learners=learners, assessments=assessments), as_of=date(2023, 3, 25), rules=rules
    )
    assert (results[0].numerator, results[0].denominator) == (0, 1)
    assert _rules_by_entity(results) == [("learner:L1", "NS-ORDER")]


def test_life_cycle_not_due_off_track_met(rules):
    # A (M1 2023-01-10) has its initial assessment; B (M1 2023-01-20) has none until ...
    # never. Before 2023-01-10: not_due. On 2023-01-15 only A is past M1 and fine, no
    # completer yet -> no_data. On 2023-01-20 B is past M1 without an initial -> off_track.
    learners = [
        learner("A", m1="2023-01-10", completed="2023-03-10"),
        learner("B", m1="2023-01-20", withdrawn="2023-02-01"),
    ]
    assessments = [
        _assessment("A", "initial", "2023-01-02"),
        _assessment("A", "final", "2023-03-10", "Y"),
    ]
    tables = build(learners=learners, assessments=assessments)

    def status(day: date) -> str:
        return new_skills(tables, as_of=day, rules=rules)[0].status

    assert status(date(2023, 1, 9)) == "not_due"
    assert status(date(2023, 1, 15)) == "no_data"
    assert status(date(2023, 1, 20)) == "off_track"
    # B withdrew, A completed (1 / 1) and everyone is done on 2023-03-10 -> met: the
    # target is over completers; B's missing initial stays listed as NS-NO-INITIAL.
    final = new_skills(tables, as_of=date(2023, 3, 10), rules=rules)[0]
    assert (final.numerator, final.denominator, final.status) == (1, 1, "met")
    assert [f.entity for f in final.exceptions] == ["learner:B"]


def test_future_dated_assessment_is_ignored(rules):
    # The final assessment is dated 2023-03-20 but as_of is 2023-03-15 and completion
    # 2023-03-15: it has not happened yet -> NS-NO-FINAL, 0 / 1.
    learners = [learner("L1", m1="2023-01-10", completed="2023-03-15")]
    assessments = [
        _assessment("L1", "initial", "2023-01-02"),
        _assessment("L1", "final", "2023-03-20", "Y"),
    ]
    results = new_skills(
        build(learners=learners, assessments=assessments), as_of=date(2023, 3, 15), rules=rules
    )
    assert _rules_by_entity(results) == [("learner:L1", "NS-NO-FINAL")]


def test_completer_without_m1_is_in_the_population_and_fails(rules):
    # NOM1 completed 2023-03-20 with no m1_date and no assessments; WITHM1 is the same
    # learner with M1 2023-01-10 and both assessments. Completers 2; NOM1 cannot have an
    # initial on or before M1 -> NS-NO-INITIAL (and, with no final, NS-NO-FINAL); value
    # 1 / 2 (kpi-rules.md, clarified 2026-11-30). Before the fix NOM1 was left out: 1 / 1.
    learners = [
        learner("NOM1", completed="2023-03-20"),
        learner("WITHM1", m1="2023-01-10", completed="2023-03-20"),
    ]
    assessments = [
        _assessment("WITHM1", "initial", "2023-01-10"),
        _assessment("WITHM1", "final", "2023-03-20", "Y"),
    ]
    results = new_skills(
        build(learners=learners, assessments=assessments), as_of=date(2023, 4, 1), rules=rules
    )
    assert (results[0].numerator, results[0].denominator) == (1, 2)
    found = {
        (f.entity, f.rule): f.message
        for r in results
        for f in r.exceptions
        if r.bootcamp_id == "B1"
    }
    assert sorted(found) == [("learner:NOM1", "NS-NO-FINAL"), ("learner:NOM1", "NS-NO-INITIAL")]
    assert "no M1 date" in found[("learner:NOM1", "NS-NO-INITIAL")]
    # a learner with neither M1 nor completion is not (yet) a case
    results = new_skills(
        build(learners=[learner("NOTHING")], assessments=[]), as_of=date(2023, 4, 1), rules=rules
    )
    assert (results[0].numerator, results[0].denominator, results[0].exceptions) == (0, 0, ())


def test_several_assessments_pass_when_some_initial_and_some_final_fit(rules):
    # M1 on day 18 (2023-01-18), completion 2023-03-20. Initials on day 1 and day 13, an
    # achieved final on day 8: the day-1 initial is on or before M1 and the day-8 final is
    # after it and before completion -> passes, 1 / 1 (existence, not the latest initial).
    learners = [learner("L1", m1="2023-01-18", completed="2023-03-20")]
    assessments = [
        _assessment("L1", "initial", "2023-01-01"),
        _assessment("L1", "initial", "2023-01-13"),
        _assessment("L1", "final", "2023-01-08", "Y"),
    ]
    results = new_skills(
        build(learners=learners, assessments=assessments), as_of=date(2023, 4, 1), rules=rules
    )
    assert (results[0].numerator, results[0].denominator, results[0].exceptions) == (1, 1, ())
    # the other side: without the day-1 initial the only initial (day 13) is after the
    # final (day 8) -> NS-ORDER, 0 / 1
    results = new_skills(
        build(learners=learners, assessments=assessments[1:]), as_of=date(2023, 4, 1), rules=rules
    )
    assert (results[0].numerator, results[0].denominator) == (0, 1)
    assert _rules_by_entity(results) == [("learner:L1", "NS-ORDER")]


def test_failed_completer_without_m1_opens_the_stage(rules):
    # kpi-rules.md "Stage started" (clarified 2026-12-07), issue 27: B1 (2023-01-01 to
    # 2023-03-31) has one learner, NOM1, who completed on 2023-02-20 with no M1 date.
    # Its assessments are otherwise fine, but without M1 no initial assessment is on or
    # before M1: it fails (NS-NO-INITIAL), due at completion. B1 has no first M1, yet a
    # case has fallen due: off_track at 2023-03-15 while it runs (was not_due), 0 / 1;
    # not_met once it has ended (2023-04-01). ALL follows B1. Before the completion
    # (2023-02-10) nothing has fallen due: not_due.
    learners = [learner("NOM1", completed="2023-02-20")]
    assessments = [
        _assessment("NOM1", "initial", "2023-01-05"),
        _assessment("NOM1", "final", "2023-02-20", "Y"),
    ]
    tables = build(learners=learners, assessments=assessments)

    def figures(day):
        return [
            (r.bootcamp_id, r.numerator, r.denominator, r.status)
            for r in new_skills(tables, as_of=day, rules=rules)
        ]

    assert figures(date(2023, 3, 15)) == [("B1", 0, 1, "off_track"), ("ALL", 0, 1, "off_track")]
    assert figures(date(2023, 4, 1)) == [("B1", 0, 1, "not_met"), ("ALL", 0, 1, "not_met")]
    assert figures(date(2023, 2, 10)) == [("B1", 0, 0, "not_due"), ("ALL", 0, 0, "not_due")]
