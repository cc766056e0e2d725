"""Plants of every KPI exception rule (kpi-rules.md sections 1-7, and FUTURE-DATED).

Learner plants sit in each planted provider's first bootcamp, which ended long before
the first period: every case there is due in every period, so each expectation holds
for every period generated.
"""

from __future__ import annotations

from datetime import timedelta

from kpitools.calendar import add_months
from kpitools.demo.lives import build_children, required_pence
from kpitools.demo.plant import Planter, last_day, reached_contacts
from kpitools.demo.world import ProviderWorld, Row


def plant_kpi_learners(p: Planter) -> None:
    """Co-funding, drop-out, new skills, interview, progression, referral, future dates."""
    _cofunding(p)
    pw = p.provider(0)
    life = p.pick(pw, "DROP-LATE-REPORT", fate="withdrawn")
    withdrawal = life.row["withdrawal_date"]
    life.row["withdrawal_reported_date"] = add_months(withdrawal, 1) + timedelta(days=9)
    p.expect_learner(
        "DROP-LATE-REPORT",
        "DROP-LATE-REPORT",
        pw,
        life,
        f"withdrew {withdrawal}, reported {life.row['withdrawal_reported_date']}"
        " (one calendar month + 9 days later)",
    )
    _new_skills(p)
    _interviews(p)
    _progression(p)
    pw = p.provider(4)
    life = p.pick(pw, "REF-MISSING", fate="withdrawn")
    life.children["referrals"] = []
    p.expect_learner(
        "REF-MISSING", "REF-MISSING", pw, life, "withdrew after M1 and was never referred"
    )
    pw = p.provider(0)
    life = p.pick(pw, "FUTURE-DATED")
    future = p.world.anchor_end + timedelta(days=20)
    pw.extra_rows.setdefault("referrals", []).append(
        {
            "learner_ref": life.ref,
            "bootcamp_id": life.bootcamp_id,
            "referral_date": future,
            "referred_to": "National Careers Service",
        }
    )
    p.expect_learner(
        "FUTURE-DATED",
        "FUTURE-DATED",
        pw,
        life,
        f"referral dated {future}, after the last period's end, in every return",
        table="referrals",
        match={"referral_date": future},
    )
    _dropout_bootcamp(p)


def _cofunding(p: Planter) -> None:
    pw = p.provider(3)
    life = p.pick(pw, "COF-SIZE-MISMATCH", learner_type="co-funded")
    employer = pw.employer(str(life.row["employer_id"]))
    employer.update(employee_count=420, size_band="SME")
    for other in pw.learners:  # payments at the large-employer rate, 30 %
        if other.row["employer_id"] == employer["employer_id"] and (
            not other.planted or other is life
        ):
            build_children(pw, other)
    p.expect_employer(
        "COF-SIZE-MISMATCH",
        "COF-SIZE-MISMATCH",
        pw,
        employer,
        "420 employees declared as SME; its learners paid the large rate (30 %)",
    )
    pw = p.provider(2)
    life = p.pick(pw, "COF-UNDERPAID", learner_type="co-funded")
    due = required_pence(pw, life)
    payment = dict(life.children["cofunding_payments"][0], amount=due // 2)
    life.children["cofunding_payments"] = [payment]
    p.expect_learner(
        "COF-UNDERPAID",
        "COF-UNDERPAID",
        pw,
        life,
        f"paid {due // 2 / 100:.2f} of {due / 100:.2f} required",
        table="cofunding_payments",
        alt_entities=(f"employer:{life.row['employer_id']}",),
    )
    pw = p.provider(4)
    life = p.pick(pw, "COF-NO-EVIDENCE", learner_type="co-funded")
    life.children["cofunding_payments"] = []
    p.expect_learner(
        "COF-NO-EVIDENCE",
        "COF-NO-EVIDENCE",
        pw,
        life,
        "co-funded learner past M1 with no payment",
        alt_entities=(f"employer:{life.row['employer_id']}",),
    )


def _new_skills(p: Planter) -> None:
    pw = p.provider(1)
    life = p.pick(pw, "NS-NO-INITIAL")
    initial = next(a for a in life.children["assessments"] if a["kind"] == "initial")
    initial["assessment_date"] = life.row["m1_date"] + timedelta(days=2)
    p.expect_learner(
        "NS-NO-INITIAL",
        "NS-NO-INITIAL",
        pw,
        life,
        "initial assessment dated 2 days after M1",
        table="assessments",
        match={"kind": "initial"},
    )
    life = p.pick(pw, "NS-NO-FINAL")
    life.children["assessments"] = [a for a in life.children["assessments"] if a["kind"] != "final"]
    p.expect_learner("NS-NO-FINAL", "NS-NO-FINAL", pw, life, "completer without a final assessment")
    pw = p.provider(2)
    life = p.pick(pw, "NS-NOT-ACHIEVED")
    final = next(a for a in life.children["assessments"] if a["kind"] == "final")
    final["skills_achieved"] = "N"
    p.expect_learner(
        "NS-NOT-ACHIEVED",
        "NS-NOT-ACHIEVED",
        pw,
        life,
        "final assessment skills_achieved = N",
        table="assessments",
        match={"kind": "final"},
    )
    life = p.pick(pw, "NS-ORDER")
    final = next(a for a in life.children["assessments"] if a["kind"] == "final")
    final["assessment_date"] = life.row["completion_date"] + timedelta(days=5)
    p.expect_learner(
        "NS-ORDER",
        "NS-ORDER",
        pw,
        life,
        "final assessment dated 5 days after completion",
        table="assessments",
        match={"kind": "final"},
        may_also=("NS-NO-FINAL",),
    )


def _interviews(p: Planter) -> None:
    pw = p.provider(3)
    life = p.pick(pw, "INT-NONE")
    life.children["interviews"] = []
    for rule_id in ("INT-NONE", "M2-NO-EVIDENCE"):
        p.expect_learner(
            "INT-NONE", rule_id, pw, life, "independent completer without any interview offer"
        )
    life = p.pick(pw, "INT-INVALID-full-apprenticeship")
    offer = dict(life.children["interviews"][0], role_type="apprenticeship")
    life.children["interviews"] = [offer]
    p.expect_learner(
        "INT-INVALID-full-apprenticeship",
        "INT-INVALID",
        pw,
        life,
        f"only offer is a full apprenticeship on accelerated bootcamp {life.bootcamp_id}",
        table="interviews",
        may_also=("M2-NO-EVIDENCE",),
    )
    pw = p.provider(4)
    life = p.pick(pw, "INT-INVALID-no-skills-match")
    offer = dict(life.children["interviews"][0], matches_skills="N", role_type="job")
    life.children["interviews"] = [offer]
    p.expect_learner(
        "INT-INVALID-no-skills-match",
        "INT-INVALID",
        pw,
        life,
        "only offer does not match the skills learnt (matches_skills = N)",
        table="interviews",
        may_also=("M2-NO-EVIDENCE",),
    )


def _progression(p: Planter) -> None:
    pw = p.provider(0)
    life = p.pick(pw, "CP-NO-OUTCOME", success=False)
    p.expect_learner(
        "CP-NO-OUTCOME",
        "CP-NO-OUTCOME",
        pw,
        life,
        "window closed without any outcome (referred in time)",
    )
    pw = p.provider(1)
    life = p.pick(pw, "CP-INVALID-OUTCOME", success=False)
    interview = life.children["interviews"][0]
    outcome_date = life.row["completion_date"] + timedelta(days=30)
    life.children["outcomes"] = [
        {
            "learner_ref": life.ref,
            "bootcamp_id": life.bootcamp_id,
            "outcome_type": "new_job",
            "outcome_date": outcome_date,
            "employer_id": interview["employer_id"],
            "role_type": "job",
            "matches_skills": "N",
        }
    ]
    p.expect_learner(
        "CP-INVALID-OUTCOME",
        "CP-INVALID-OUTCOME",
        pw,
        life,
        "only outcome is a job that does not match the skills (referred in time)",
        table="outcomes",
    )


def _dropout_bootcamp(p: Planter) -> None:
    pw: ProviderWorld = p.provider(4)
    bootcamp = pw.bootcamps[1]
    lives = pw.learners_of(str(bootcamp["bootcamp_id"]))
    cohort = [life for life in lives if life.fate != "pre_m1_withdrawn"]
    dropped = [life for life in cohort if life.fate == "withdrawn"]
    p.expect(
        "DROP-ABOVE-LIMIT",
        "DROP-ABOVE-LIMIT",
        pw,
        f"bootcamp:{bootcamp['bootcamp_id']}",
        str(bootcamp["bootcamp_id"]),
        "bootcamps",
        {"bootcamp_id": bootcamp["bootcamp_id"]},
        f"{len(dropped)} of {len(cohort)} M1 learners withdrew "
        f"({len(dropped) / len(cohort):.1%} > 20 %)",
    )


def plant_engagement(p: Planter) -> None:
    """Employer engagement plants, placed after the contact log is built."""
    pw = p.provider(0)
    employer = p.take_employer(pw)
    for contact in reached_contacts(pw, employer, "design"):
        contact["design_vouched"] = "N"
    p.expect_employer(
        "EE-DESIGN-FAIL",
        "EE-DESIGN-FAIL",
        pw,
        employer,
        "reached at design stage; did not vouch for the design",
        table="employer_contacts",
        match={"stage": "design", "reached": "Y"},
    )
    employer = p.take_employer(pw)
    contacts = reached_contacts(pw, employer, "delivery")
    for contact in contacts:
        contact["support_provided"] = "N"
    p.expect_employer(
        "EE-DELIVERY-FAIL",
        "EE-DELIVERY-FAIL",
        pw,
        employer,
        "delivery-role employer reached; support not provided",
        table="employer_contacts",
        match={"stage": "delivery", "attempt_date": last_day(contacts, "attempt_date")},
    )
    pw = p.provider(1)
    employer = p.take_employer(pw)
    contacts = reached_contacts(pw, employer, "post")
    for contact in contacts:
        contact["satisfaction_score"] = 2
    p.expect_employer(
        "EE-POST-FAIL",
        "EE-POST-FAIL",
        pw,
        employer,
        "reached after the bootcamp; satisfaction score 2",
        table="employer_contacts",
        match={"stage": "post", "attempt_date": last_day(contacts, "attempt_date")},
    )
    _unreachable(p, pw, p.take_employer(pw))
    pw = p.provider(2)
    employer = p.take_employer(pw)
    employer.update(contact_name=None, contact_email=None, contact_phone=None)
    p.expect_employer(
        "EE-DETAILS-INCOMPLETE",
        "EE-DETAILS-INCOMPLETE",
        pw,
        employer,
        "listed employer without any contact name, e-mail or phone",
    )
    employer = p.take_employer(pw)
    employer.update(in_bid="Y", status="dropped", dropped_reason=None, replacement_employer_id=None)
    pw.contacts = [c for c in pw.contacts if c["employer_id"] != employer["employer_id"]]
    p.expect_employer(
        "EE-BID-DROPPED-UNEXPLAINED",
        "EE-BID-DROPPED-UNEXPLAINED",
        pw,
        employer,
        "named in the bid, dropped, no reason and no replacement",
    )


def _unreachable(p: Planter, pw: ProviderWorld, employer: Row) -> None:
    delivery = [
        c
        for c in pw.contacts
        if c["employer_id"] == employer["employer_id"] and c["stage"] == "delivery"
    ]
    first = min(c["attempt_date"] for c in delivery)
    pw.contacts = [c for c in pw.contacts if not any(c is d for d in delivery)]
    template = {k: None for k in delivery[0]}
    for attempt in range(3):
        pw.contacts.append(
            {
                **template,
                "employer_id": employer["employer_id"],
                "bootcamp_id": delivery[0]["bootcamp_id"],
                "stage": "delivery",
                "attempt_date": first + timedelta(days=7 * attempt),
                "reached": "N",
                "notes": "No answer",
            }
        )
    p.expect_employer(
        "EE-UNREACHABLE-3",
        "EE-UNREACHABLE-3",
        pw,
        employer,
        "three unanswered attempts in the delivery stage, never reached",
        table="employer_contacts",
        match={"stage": "delivery", "attempt_date": first + timedelta(days=14)},
    )
