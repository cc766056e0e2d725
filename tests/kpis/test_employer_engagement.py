"""Employer engagement: three stages, latest reached contact, unreachable employers."""

from __future__ import annotations

from datetime import date

from kpi_frames import bootcamp, build, learner

from kpitools.kpis.employer_engagement import employer_engagement


def _employer(
    employer_id: str, roles: str = "co_design", bootcamps: str = "", **kw: str
) -> dict[str, str]:
    row = {
        "employer_id": employer_id,
        "name": f"Employer {employer_id}",
        "roles": roles,
        "bootcamp_ids": bootcamps,
        "contact_name": "Pat Example",
        "contact_email": "pat@example.invalid",
        "status": "active",
    }
    row.update(kw)
    return row


def _contact(
    employer_id: str, stage: str, day: str, reached: str = "Y", **answers: str
) -> dict[str, str]:
    return {
        "employer_id": employer_id,
        "stage": stage,
        "attempt_date": day,
        "reached": reached,
        **answers,
    }


_DESIGN_OK = {"design_vouched": "Y", "info_correct": "Y"}
_LEARNERS = [learner("L1", m1="2023-01-10", completed="2023-03-20"), learner("L2", m1="2023-01-10")]


def _stage(results, stage, bootcamp_id="B1"):
    return next(r for r in results if r.stage == stage and r.bootcamp_id == bootcamp_id)


def test_latest_reached_contact_counts_and_unreachable_left_out(rules):
    # Design stage at 2023-02-01 (bootcamp running, started at M1 2023-01-10):
    # E1: reached 01-05 failing (info_correct N), reached again 01-20 passing -> passes.
    # E2: reached 01-05 passing, reached 01-25 failing -> fails (latest counts).
    # E3: three unreached attempts -> EE-UNREACHABLE-3, not in the denominator.
    # E4: two unreached attempts -> neither counted nor listed.
    # Value 1 / 2, a failing reached employer can still be put right -> at_risk.
    employers = [_employer(e) for e in ("E1", "E2", "E3", "E4")]
    contacts = [
        _contact("E1", "design", "2023-01-05", design_vouched="Y", info_correct="N"),
        _contact("E1", "design", "2023-01-20", **_DESIGN_OK),
        _contact("E2", "design", "2023-01-05", **_DESIGN_OK),
        _contact("E2", "design", "2023-01-25", design_vouched="N", info_correct="Y"),
        *[_contact("E3", "design", f"2023-01-0{d}", reached="N") for d in (2, 3, 4)],
        *[_contact("E4", "design", f"2023-01-0{d}", reached="N") for d in (2, 3)],
    ]
    tables = build(learners=_LEARNERS, employers=employers, employer_contacts=contacts)
    results = employer_engagement(tables, as_of=date(2023, 2, 1), rules=rules)
    design = _stage(results, "design")
    assert (design.numerator, design.denominator, design.status) == (1, 2, "at_risk")
    found = sorted((f.entity, f.rule) for r in results for f in r.exceptions)
    assert found == [("employer:E2", "EE-DESIGN-FAIL"), ("employer:E3", "EE-UNREACHABLE-3")]
    # two attempts are not escalated; a third makes it so
    assert "3 attempts" in next(
        f.message for r in results for f in r.exceptions if f.rule == "EE-UNREACHABLE-3"
    )


def test_delivery_and_post_points_depend_on_roles(rules):
    # Delivery (as_of 2023-03-25; first M2 2023-03-20 so post has started too):
    # D1 mentoring, support Y satisfied Y -> pass; D2 mentoring, support N -> fail;
    # D3 interviewing only, will_interview Y (satisfied blank is not asked) -> pass.
    # Post: D1 score 3 (the pass mark) -> pass; D2 score 2 -> fail; D3 interviewing with
    # numbers given, satisfied Y, score 5 -> pass; D3 without numbers would fail (D4).
    employers = [
        _employer("D1", "mentoring"),
        _employer("D2", "mentoring"),
        _employer("D3", "interviewing"),
        _employer("D4", "interviewing"),
    ]
    contacts = [
        _contact("D1", "delivery", "2023-02-01", support_provided="Y", satisfied="Y"),
        _contact("D2", "delivery", "2023-02-01", support_provided="N", satisfied="Y"),
        _contact("D3", "delivery", "2023-02-01", will_interview="Y"),
        _contact("D1", "post", "2023-03-21", satisfaction_score="3"),
        _contact("D2", "post", "2023-03-21", satisfaction_score="2"),
        _contact(
            "D3",
            "post",
            "2023-03-21",
            satisfied="Y",
            satisfaction_score="5",
            candidates_interviewed="4",
            candidates_offered="1",
        ),
        _contact("D4", "post", "2023-03-21", satisfied="Y", satisfaction_score="5"),
    ]
    tables = build(learners=_LEARNERS, employers=employers, employer_contacts=contacts)
    results = employer_engagement(tables, as_of=date(2023, 3, 25), rules=rules)
    delivery, post = _stage(results, "delivery"), _stage(results, "post")
    assert (delivery.numerator, delivery.denominator) == (2, 3)
    assert (post.numerator, post.denominator) == (2, 4)
    found = sorted((f.entity, f.rule) for r in results for f in r.exceptions)
    assert found == [
        ("employer:D2", "EE-DELIVERY-FAIL"),
        ("employer:D2", "EE-POST-FAIL"),
        ("employer:D4", "EE-POST-FAIL"),
    ]
    notes = _stage(results, "post", "ALL").notes
    assert notes == (
        "post-stage satisfaction scores (5 Excellent .. 0 Unacceptable): "
        "5: 2, 4: 0, 3: 1, 2: 1, 1: 0, 0: 0",
    )


def test_own_staff_training_alone_needs_the_new_role_confirmed(rules):
    # Delivery at 2023-02-01 (M1 2023-01-10, bootcamp running): O1's only role is
    # own_staff_training, reached, satisfied Y. With will_interview N the new role is not
    # confirmed: 0/1, at risk, EE-DELIVERY-FAIL (kpi-rules.md, clarified 2026-11-30).
    # The same employer with will_interview Y passes: 1/1, on track, no exception.
    for answer, expected, rules_found in (
        ("N", (0, 1, "at_risk"), ["EE-DELIVERY-FAIL"]),
        ("Y", (1, 1, "on_track"), []),
    ):
        employers = [_employer("O1", "own_staff_training")]
        contacts = [_contact("O1", "delivery", "2023-01-20", satisfied="Y", will_interview=answer)]
        tables = build(learners=_LEARNERS, employers=employers, employer_contacts=contacts)
        results = employer_engagement(tables, as_of=date(2023, 2, 1), rules=rules)
        delivery = _stage(results, "delivery")
        assert (delivery.numerator, delivery.denominator, delivery.status) == expected, answer
        assert [f.rule for f in delivery.exceptions] == rules_found, answer


def test_stage_statuses_through_the_bootcamp_life(rules):
    # One employer passing every stage. Design: not_due before the first M1 (2023-01-10),
    # on_track while running, met when the bootcamp is over (all done 2023-03-20, L2
    # withdrew 2023-02-15). Post starts at the first M2 and is due 6 months later.
    learners = [
        learner("L1", m1="2023-01-10", completed="2023-03-20"),
        learner("L2", m1="2023-01-10", withdrawn="2023-02-15"),
    ]
    contacts = [
        _contact("E1", "design", "2023-01-05", **_DESIGN_OK),
        _contact("E1", "post", "2023-03-25", satisfaction_score="4"),
    ]
    tables = build(learners=learners, employers=[_employer("E1")], employer_contacts=contacts)

    def status(stage: str, day: date) -> str:
        return _stage(employer_engagement(tables, as_of=day, rules=rules), stage).status

    assert status("design", date(2023, 1, 9)) == "not_due"
    assert status("design", date(2023, 1, 10)) == "on_track"
    assert status("design", date(2023, 3, 20)) == "met"
    assert status("post", date(2023, 3, 19)) == "not_due"
    assert status("post", date(2023, 3, 20)) == "no_data"  # nobody reached yet
    assert status("post", date(2023, 3, 25)) == "on_track"
    assert status("post", date(2023, 9, 20)) == "met"  # 2023-03-20 + 6 months


def test_employer_counts_once_and_bootcamp_links(rules):
    # E1 linked to B1 and B2 (blank bootcamp_ids = all), E2 to B2 only.
    # E1 passes, E2 fails. B1: 1/1; B2: 1/2; ALL: E1 and E2 once each = 1/2 (not 2/3).
    boots = [bootcamp("B1"), bootcamp("B2")]
    learners = [learner("L1", "B1", m1="2023-01-10"), learner("L2", "B2", m1="2023-01-10")]
    employers = [_employer("E1"), _employer("E2", bootcamps="B2")]
    contacts = [
        _contact("E1", "design", "2023-01-05", **_DESIGN_OK),
        _contact("E2", "design", "2023-01-05", design_vouched="N", info_correct="Y"),
    ]
    tables = build(
        bootcamps=boots, learners=learners, employers=employers, employer_contacts=contacts
    )
    results = employer_engagement(tables, as_of=date(2023, 2, 1), rules=rules)
    figures = [(r.bootcamp_id, r.numerator, r.denominator) for r in results if r.stage == "design"]
    assert figures == [("B1", 1, 1), ("B2", 1, 2), ("ALL", 1, 2)]
    fail = next(f for r in results for f in r.exceptions)
    assert (fail.entity, fail.bootcamp_id) == ("employer:E2", "B2")


def test_list_quality(rules):
    # L1: no role -> EE-DETAILS-INCOMPLETE. L2: no email nor phone -> incomplete.
    # L3: phone only -> complete. DROP: in bid, dropped, reason but no replacement ->
    # EE-BID-DROPPED-UNEXPLAINED. DROPOK: reason and replacement -> fine.
    employers = [
        _employer("L1", roles=""),
        _employer("L2", contact_email=""),
        _employer("L3", contact_email="", contact_phone="0100 000000"),
        _employer("DROP", in_bid="Y", status="dropped", dropped_reason="closed"),
        _employer(
            "DROPOK",
            in_bid="Y",
            status="dropped",
            dropped_reason="closed",
            replacement_employer_id="L3",
        ),
    ]
    tables = build(learners=_LEARNERS, employers=employers)
    results = employer_engagement(tables, as_of=date(2023, 2, 1), rules=rules)
    found = sorted((f.entity, f.rule) for r in results for f in r.exceptions)
    assert found == [
        ("employer:DROP", "EE-BID-DROPPED-UNEXPLAINED"),
        ("employer:L1", "EE-DETAILS-INCOMPLETE"),
        ("employer:L2", "EE-DETAILS-INCOMPLETE"),
    ]
    messages = " ".join(f.message for r in results for f in r.exceptions)
    assert "pat@example.invalid" not in messages and "Pat Example" not in messages
