"""Dependent rows of the demo world: each learner's assessments, payments, interview
offers, outcomes and referrals, and the monitoring team's employer contact log.

Everything a clean learner needs to pass every KPI is built here, dated so that a month
end snapshot never shows a case that is short but not yet due (for example a referral
is never later than the report of the withdrawal it follows).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from kpitools.calendar import add_months
from kpitools.demo import names
from kpitools.demo.world import LearnerLife, ProviderWorld, Row

CHILD_TABLES = ("cofunding_payments", "assessments", "interviews", "outcomes", "referrals")


def required_pence(pw: ProviderWorld, life: LearnerLife) -> int:
    """10 % of the price for an SME, 30 % for a large employer (by employee count)."""
    employer = pw.employer(str(life.row["employer_id"]))
    price = int(pw.bootcamp(life.bootcamp_id)["price_per_learner"])
    rate = 30 if int(employer["employee_count"]) >= 250 else 10
    return price * rate // 100


def build_children(pw: ProviderWorld, life: LearnerLife) -> None:
    """(Re)build every dependent row of one learner from its core story.

    The generator is seeded by the learner, so rebuilding after a plant changed the
    learner gives the same rows for everything the plant did not touch.
    """
    rng = pw.rng("children", life.ref, life.bootcamp_id)
    row, ref, bootcamp_id = life.row, life.ref, life.bootcamp_id
    life.children = {table: [] for table in CHILD_TABLES}
    key = {"learner_ref": ref, "bootcamp_id": bootcamp_id}
    start, m1 = row["start_date"], row["m1_date"]
    row["new_role_evidence_date"] = None
    initial = start + timedelta(days=rng.randint(0, max(0, min(3, (m1 - start).days)) if m1 else 0))
    life.children["assessments"].append(
        {
            **key,
            "kind": "initial",
            "assessment_date": initial,
            "skills_achieved": None,
            "score": rng.randint(20, 60) * 100,
        }
    )
    if row["learner_type"] == "co-funded":
        _payments(pw, life, rng, key)
    if life.fate == "withdrawn":
        reported = row["withdrawal_reported_date"]
        gap = (reported - row["withdrawal_date"]).days
        _referral(
            life, rng, key, row["withdrawal_date"] + timedelta(days=rng.randint(0, min(gap, 25)))
        )
    if life.fate != "completed":
        return
    completion = row["completion_date"]
    final = max(initial + timedelta(days=1), completion - timedelta(days=rng.randint(0, 5)))
    life.children["assessments"].append(
        {
            **key,
            "kind": "final",
            "assessment_date": final,
            "skills_achieved": "Y",
            "score": rng.randint(60, 98) * 100,
        }
    )
    if row["learner_type"] == "co-funded":
        row["new_role_evidence_date"] = max(start, completion - timedelta(days=rng.randint(0, 7)))
    if wants_job(row):
        for _ in range(rng.choice((1, 1, 2))):
            life.children["interviews"].append(_offer(pw, life, rng, key))
    _outcome(pw, life, rng, key)


def wants_job(row: Row) -> bool:
    """In the guaranteed-interview population: independent unless they said N,
    self-employed only when they said Y."""
    if row["learner_type"] == "independent":
        return row["wants_interview"] != "N"
    return row["learner_type"] == "self-employed" and row["wants_interview"] == "Y"


def _payments(pw: ProviderWorld, life: LearnerLife, rng: random.Random, key: Row) -> None:
    start, m1 = life.row["start_date"], life.row["m1_date"]
    due = required_pence(pw, life)
    latest = (m1 - start).days if m1 else 0
    employer_id = life.row["employer_id"]
    parts = [due // 2, due - due // 2] if due % 2 == 0 and rng.random() < 0.3 else [due]
    for number, amount in enumerate(parts, 1):
        pw_ref = f"INV-{life.ref}-{number}"
        life.children["cofunding_payments"].append(
            {
                "employer_id": employer_id,
                **key,
                "amount": amount,
                "payment_date": start + timedelta(days=rng.randint(0, latest)),
                "evidence_ref": pw_ref,
            }
        )


def _referral(life: LearnerLife, rng: random.Random, key: Row, day: date) -> None:
    life.children["referrals"].append(
        {**key, "referral_date": day, "referred_to": rng.choice(names.REFERRAL_DESTINATIONS)}
    )


def valid_role_type(pw: ProviderWorld, life: LearnerLife, rng: random.Random) -> str:
    accelerated = pw.bootcamp(life.bootcamp_id)["accelerated_apprenticeship"] == "Y"
    return rng.choice(
        ("job", "job", "accelerated_apprenticeship" if accelerated else "apprenticeship")
    )


def _offer(pw: ProviderWorld, life: LearnerLife, rng: random.Random, key: Row) -> Row:
    row = life.row
    sector = str(pw.bootcamp(life.bootcamp_id)["sector"])
    offer = max(
        row["m1_date"] + timedelta(days=1),
        row["completion_date"] - timedelta(days=rng.randint(0, 25)),
    )
    return {
        **key,
        "employer_id": rng.choice(pw.employers_with_role("interviewing"))["employer_id"],
        "offer_date": offer,
        "interview_date": offer + timedelta(days=rng.randint(3, 10)),
        "role_title": rng.choice(names.ROLE_TITLES[sector]),
        "role_type": valid_role_type(pw, life, rng),
        "matches_skills": "Y",
    }


def _outcome(pw: ProviderWorld, life: LearnerLife, rng: random.Random, key: Row) -> None:
    row = life.row
    completion = row["completion_date"]
    close = add_months(completion, 6)
    if not life.success:
        _referral(life, rng, key, close + timedelta(days=rng.randint(1, 20)))
        return
    if row["learner_type"] == "co-funded":
        outcome = {
            "outcome_type": "new_role",
            "employer_id": row["employer_id"],
            "outcome_date": completion + timedelta(days=rng.randint(5, 150)),
            "role_type": "job",
            "matches_skills": "Y",
        }
    elif wants_job(row):
        outcome = {
            "outcome_type": "new_job",
            "employer_id": rng.choice(pw.employers_with_role("interviewing"))["employer_id"],
            "outcome_date": completion
            + timedelta(days=rng.randint(5, (close - completion).days - 1)),
            "role_type": valid_role_type(pw, life, rng),
            "matches_skills": "Y",
        }
    else:  # self-employed, not seeking a job: the business plan is the M2 evidence too
        outcome = {
            "outcome_type": "self_employment_plan",
            "employer_id": None,
            "outcome_date": max(row["start_date"], completion - timedelta(days=rng.randint(0, 10))),
            "role_type": None,
            "matches_skills": None,
        }
    life.children["outcomes"].append({**key, **outcome})


def build_contacts(pw: ProviderWorld) -> None:
    """The monitoring team's log: per employer, linked bootcamp and stage, a reached
    contact when the stage starts (design two to three weeks before the start,
    delivery monthly from the first M1 to the last M2, post monthly for three months
    from the first M2), sometimes after one or two unanswered attempts."""
    pw.contacts = []
    for employer in pw.employers:
        if employer["status"] != "active":
            continue
        for bootcamp_id in employer["bootcamp_ids"]:
            rng = pw.rng("contacts", employer["employer_id"], bootcamp_id)
            for stage, days in stage_dates(pw, bootcamp_id, rng).items():
                if days and rng.random() < 0.2:
                    for back in range(rng.randint(1, 2), 0, -1):
                        pw.contacts.append(
                            _contact(
                                employer,
                                bootcamp_id,
                                stage,
                                days[0] - timedelta(days=2 * back),
                                rng,
                                False,
                            )
                        )
                for day in days:
                    pw.contacts.append(_contact(employer, bootcamp_id, stage, day, rng, True))


def stage_dates(pw: ProviderWorld, bootcamp_id: str, rng: random.Random) -> dict[str, list[date]]:
    bootcamp = pw.bootcamp(bootcamp_id)
    lives = pw.learners_of(bootcamp_id)
    m1s = [life.row["m1_date"] for life in lives if life.row["m1_date"]]
    m2s = [life.row["completion_date"] for life in lives if life.row["completion_date"]]
    design = [bootcamp["start_date"] - timedelta(days=rng.randint(14, 21))]
    delivery: list[date] = []
    if m1s:
        last = max(m2s) if m2s else bootcamp["end_date"]
        day = min(m1s)
        while day <= last:
            delivery.append(day)
            day += timedelta(days=30)
    post = [min(m2s) + timedelta(days=30 * k) for k in range(3)] if m2s else []
    return {"design": design, "delivery": delivery, "post": post}


def _contact(
    employer: Row, bootcamp_id: str, stage: str, day: date, rng: random.Random, reached: bool
) -> Row:
    row: Row = {
        "employer_id": employer["employer_id"],
        "bootcamp_id": bootcamp_id,
        "stage": stage,
        "attempt_date": day,
        "reached": "Y" if reached else "N",
        "design_vouched": None,
        "info_correct": None,
        "support_provided": None,
        "satisfied": None,
        "will_interview": None,
        "candidates_interviewed": None,
        "candidates_offered": None,
        "satisfaction_score": None,
        "notes": rng.choice(
            names.CONTACT_NOTES_REACHED if reached else names.CONTACT_NOTES_UNREACHED
        ),
    }
    if not reached:
        return row
    if stage == "design":
        row.update(design_vouched="Y", info_correct="Y")
    elif stage == "delivery":
        row.update(support_provided="Y", satisfied="Y", will_interview="Y")
    else:
        interviewed = rng.randint(1, 6)
        row.update(
            satisfied="Y",
            candidates_interviewed=interviewed,
            candidates_offered=rng.randint(1, interviewed),
            satisfaction_score=rng.choices((3, 4, 5), (20, 45, 35))[0],
        )
    return row
