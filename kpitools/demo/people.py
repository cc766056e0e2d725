"""Learners' core stories: who they are, when they start, reach M1, withdraw or complete.

Fates are dealt by quota inside each bootcamp rather than drawn one by one, so clean
bootcamps stay safely under the drop-out limit (about 10 % of the M1 cohort withdraw,
against a 20 % limit and a 16 % amber margin) whatever the seed.
"""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

from kpitools.calendar import add_months
from kpitools.demo import names
from kpitools.demo.world import LearnerLife, ProviderWorld, Row, new_uln

PRE_M1_SHARE = 0.25  # withdraw in the first days, before M1 (not part of the KPI)
POST_M1_SHARE = 0.10  # of the M1 cohort; 0.08 in the first bootcamp (plants add some)
HIGH_DROPOUT_SHARE = 0.30  # the bootcamp planted as DROP-ABOVE-LIMIT
CO_FUNDED_SHARE = 0.10
SELF_EMPLOYED_SHARE = 0.04
OUTCOME_SHARE = {"independent": 0.40, "self-employed": 0.40, "co-funded": 0.75}


def share_learners(
    pw_list: list[ProviderWorld], total: int, rng: random.Random, last_day: date
) -> dict[str, int]:
    """Split ``total`` learners over every bootcamp that has started by ``last_day``,
    in proportion to random weights (largest remainders, so they add up exactly)."""
    started = [b for pw in pw_list for b in pw.bootcamps if b["start_date"] <= last_day]
    weights = [rng.uniform(0.7, 1.3) for _ in started]
    raw = [total * w / sum(weights) for w in weights]
    counts = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return {str(b["bootcamp_id"]): c for b, c in zip(started, counts, strict=True)}


def deal_fates(n: int, share_post: float, rng: random.Random) -> list[str]:
    """Fates for a bootcamp of ``n`` learners, shuffled."""
    pre = round(PRE_M1_SHARE * n)
    cohort = n - pre
    if share_post >= HIGH_DROPOUT_SHARE:
        post = math.ceil(share_post * cohort)
    else:
        post = int(share_post * cohort) if cohort >= 10 else 0
    fates = ["pre_m1_withdrawn"] * pre + ["withdrawn"] * post + ["completed"] * (cohort - post)
    rng.shuffle(fates)
    return fates


def make_learners(
    pw: ProviderWorld,
    counts: dict[str, int],
    ulns: set[str],
    last_day: date,
    high_dropout: str | None,
) -> None:
    """Every learner of the provider's started bootcamps, with dates and fate."""
    rng = pw.rng("learners")
    next_ref = rng.randint(100, 900)
    own_staff = pw.employers_with_role("own_staff_training")
    for index, bootcamp in enumerate(pw.bootcamps):
        bootcamp_id = str(bootcamp["bootcamp_id"])
        n = counts.get(bootcamp_id, 0)
        bootcamp["planned_learners"] = n + rng.randint(0, 6) if n else rng.randint(15, 30)
        share = (
            HIGH_DROPOUT_SHARE
            if bootcamp_id == high_dropout
            else (0.08 if index == 0 else POST_M1_SHARE)
        )
        for fate in deal_fates(n, share, rng):
            row = _learner_row(rng, bootcamp, f"{next_ref:06d}", new_uln(rng, ulns), fate)
            next_ref += rng.randint(1, 3)
            kind = rng.random()
            if kind < CO_FUNDED_SHARE and own_staff:
                employer = rng.choice(own_staff)
                row.update(
                    learner_type="co-funded",
                    employer_id=employer["employer_id"],
                    wants_interview=None,
                )
                if bootcamp_id not in employer["bootcamp_ids"]:
                    employer["bootcamp_ids"].append(bootcamp_id)
            elif kind < CO_FUNDED_SHARE + SELF_EMPLOYED_SHARE:
                row.update(
                    learner_type="self-employed", wants_interview="Y" if rng.random() < 0.4 else "N"
                )
            success = _success(pw, row, fate, rng, last_day)
            pw.learners.append(LearnerLife(row=row, fate=fate, success=success))


def _learner_row(rng: random.Random, bootcamp: Row, ref: str, uln: str, fate: str) -> Row:
    start = bootcamp["start_date"] + timedelta(days=rng.randint(0, 3))
    end = bootcamp["end_date"]
    m1 = withdrawal = reported = completion = None
    if fate == "pre_m1_withdrawn":
        withdrawal = start + timedelta(days=rng.randint(1, 6))
    else:
        m1 = start + timedelta(days=rng.randint(7, 14))
        if fate == "withdrawn":
            withdrawal = m1 + timedelta(days=rng.randint(14, (end - m1).days - 10))
        else:
            completion = end - timedelta(days=rng.randint(0, 3))
    if withdrawal is not None:
        reported = withdrawal + timedelta(days=rng.randint(0, 20))
    return {
        "learner_ref": ref,
        "uln": uln,
        "bootcamp_id": bootcamp["bootcamp_id"],
        "learner_type": "independent",
        "employer_id": None,
        "wants_interview": "Y" if rng.random() < 0.3 else None,
        "start_date": start,
        "m1_date": m1,
        "withdrawal_date": withdrawal,
        "withdrawal_reported_date": reported,
        "completion_date": completion,
        "new_role_evidence_date": None,
        "given_name": rng.choice(names.GIVEN_NAMES),
        "family_name": rng.choice(names.FAMILY_NAMES),
    }


def _success(pw: ProviderWorld, row: Row, fate: str, rng: random.Random, last_day: date) -> bool:
    """Whether a completer wins a valid outcome. The clean provider's completers whose
    window has closed all do (so it has no exception at all); self-employed learners
    who do not seek a job always have their plan (the M2 evidence)."""
    draw = rng.random()
    if fate != "completed":
        return False
    if row["learner_type"] == "self-employed" and row["wants_interview"] == "N":
        return True
    if pw.clean and add_months(row["completion_date"], 6) <= last_day:
        return True
    return draw < OUTCOME_SHARE[str(row["learner_type"])]
