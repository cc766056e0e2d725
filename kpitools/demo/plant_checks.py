"""Plants of the irregularities beyond the KPIs: duplicates, dates out of order,
completions without evidence, unknown employers and restatements between months."""

from __future__ import annotations

import copy
from datetime import timedelta

from kpitools.demo.plant import Planter
from kpitools.demo.snapshot import Tables, remove_learner
from kpitools.demo.world import LearnerLife, ProviderWorld


def plant_irregularities(p: Planter) -> None:
    """DUP-ROW, DUP-ULN-OVERLAP, DATE-ORDER (4 kinds), M2-NO-EVIDENCE, EMP-UNKNOWN."""
    _duplicates(p)
    _date_order(p)
    pw = p.provider(4)
    life = p.pick(pw, "M2-NO-EVIDENCE-co-funded", learner_type="co-funded")
    life.row["new_role_evidence_date"] = None
    p.expect_learner(
        "M2-NO-EVIDENCE-co-funded",
        "M2-NO-EVIDENCE",
        pw,
        life,
        "co-funded completer: no interview offer and no new-role evidence",
    )
    pw = p.provider(0)
    life = p.pick(pw, "M2-NO-EVIDENCE-self-employed", learner_type="self-employed", wants="N")
    plan = life.children["outcomes"][0]
    plan["outcome_date"] = life.row["completion_date"] + timedelta(days=20)
    p.expect_learner(
        "M2-NO-EVIDENCE-self-employed",
        "M2-NO-EVIDENCE",
        pw,
        life,
        "self-employed completer whose business plan is dated 20 days after completion",
    )
    pw = p.provider(3)
    life = p.pick(pw, "EMP-UNKNOWN")
    unknown = f"{pw.provider_id}-E99"
    offer = dict(
        life.children["interviews"][0],
        employer_id=unknown,
        offer_date=life.row["completion_date"] - timedelta(days=3),
    )
    life.children["interviews"].append(offer)
    p.expect_learner(
        "EMP-UNKNOWN",
        "EMP-UNKNOWN",
        pw,
        life,
        f"interview offer from {unknown}, not on the employer list",
        table="interviews",
        match={"employer_id": unknown},
    )


def _share_identity(source: LearnerLife, target: LearnerLife) -> None:
    for column in ("uln", "given_name", "family_name", "date_of_birth", "postcode", "ni_number"):
        target.row[column] = source.row[column]


def _duplicates(p: Planter) -> None:
    pw = p.provider(0)
    original = p.pick(pw, "DUP-ROW")
    twin = copy.deepcopy(original)
    twin.row["learner_ref"] = f"{max(int(x.ref) for x in pw.learners) + 7:06d}"
    for rows in twin.children.values():
        for row in rows:
            row["learner_ref"] = twin.ref
    pw.learners.append(twin)
    p.expect_learner(
        "DUP-ROW",
        "DUP-ROW",
        pw,
        twin,
        f"learner {original.ref} entered again as {twin.ref} (same ULN, name, dates)",
        alt_entities=(f"learner:{original.ref}",),
        may_also=("DUP-ULN-OVERLAP",),
    )
    pw = p.provider(1)
    first = p.pick(pw, "DUP-ULN-OVERLAP-within")
    second = p.pick(pw, "DUP-ULN-OVERLAP-within", bootcamp_index=1)
    assert second.row["start_date"] <= first.row["completion_date"]
    _share_identity(first, second)
    p.expect_learner(
        "DUP-ULN-OVERLAP-within",
        "DUP-ULN-OVERLAP",
        pw,
        second,
        f"ULN of learner {first.ref} ({first.bootcamp_id}) also on {second.bootcamp_id}, "
        "learning overlaps",
        alt_entities=(f"learner:{first.ref}",),
    )
    pw_a, pw_b = p.provider(2), p.provider(3)
    first = p.pick(pw_a, "DUP-ULN-OVERLAP-across")
    second = p.pick(pw_b, "DUP-ULN-OVERLAP-across")
    _share_identity(first, second)
    for pw_x, life, other, pw_y in ((pw_a, first, second, pw_b), (pw_b, second, first, pw_a)):
        p.expect_learner(
            "DUP-ULN-OVERLAP-across",
            "DUP-ULN-OVERLAP",
            pw_x,
            life,
            f"same ULN as learner {other.ref} of {pw_y.provider_id}, learning overlaps",
            alt_entities=(f"learner:{other.ref}",),
        )


def _date_order(p: Planter) -> None:
    pw = p.provider(2)
    life = p.pick(pw, "DATE-ORDER-m1-before-start")
    life.row["m1_date"] = life.row["start_date"] - timedelta(days=3)
    for assessment in life.children["assessments"]:
        if assessment["kind"] == "initial":
            assessment["assessment_date"] = life.row["m1_date"]
    p.expect_learner(
        "DATE-ORDER-m1-before-start", "DATE-ORDER", pw, life, "M1 dated 3 days before the start"
    )
    life = p.pick(pw, "DATE-ORDER-withdrawn-and-completed")
    withdrawal = life.row["completion_date"] - timedelta(days=15)
    life.row.update(
        withdrawal_date=withdrawal, withdrawal_reported_date=withdrawal + timedelta(days=5)
    )
    life.children["referrals"].append(
        {
            "learner_ref": life.ref,
            "bootcamp_id": life.bootcamp_id,
            "referral_date": withdrawal + timedelta(days=3),
            "referred_to": "Another Skills Bootcamp",
        }
    )
    p.expect_learner(
        "DATE-ORDER-withdrawn-and-completed",
        "DATE-ORDER",
        pw,
        life,
        "both a withdrawal (referred in time) and a completion",
    )
    pw = p.provider(3)
    life = p.pick(pw, "DATE-ORDER-completion-before-m1")
    life.row["m1_date"] = life.row["completion_date"] + timedelta(days=10)
    p.expect_learner(
        "DATE-ORDER-completion-before-m1",
        "DATE-ORDER",
        pw,
        life,
        "completion dated 10 days before M1",
    )
    pw = p.provider(4)
    life = p.pick(pw, "DATE-ORDER-outcome-before-start")
    early = dict(
        life.children["outcomes"][0], outcome_date=life.row["start_date"] - timedelta(days=10)
    )
    life.children["outcomes"].append(early)
    p.expect_learner(
        "DATE-ORDER-outcome-before-start",
        "DATE-ORDER",
        pw,
        life,
        "an extra outcome dated 10 days before the start (a valid one exists too)",
        table="outcomes",
        match={"outcome_date": early["outcome_date"]},
        may_also=("CP-INVALID-OUTCOME",),
    )


def plant_restatements(p: Planter) -> None:
    """RESTATED-* between consecutive returns (needs at least two periods)."""
    if p.period_count < 2:
        return
    first, second = p.change_index(1), p.change_index(2)
    pw = p.provider(0)
    gone = p.pick(pw, "RESTATED-DISAPPEARED")

    def disappear(index: int, tables: Tables) -> None:
        if index >= first:
            remove_learner(tables, gone.ref, gone.bootcamp_id)

    pw.edits.append(disappear)
    _expect_restated(
        p,
        pw,
        gone,
        "RESTATED-DISAPPEARED",
        first,
        "in the previous return, missing from this one",
        row_now=False,
    )
    life = p.pick(pw, "RESTATED-WITHDRAWAL-TO-COMPLETION")
    withdrawal = life.row["completion_date"] - timedelta(days=12)
    life.children["referrals"].append(
        {
            "learner_ref": life.ref,
            "bootcamp_id": life.bootcamp_id,
            "referral_date": withdrawal + timedelta(days=2),
            "referred_to": "National Careers Service",
        }
    )
    _set_before(
        pw,
        life,
        first,
        completion_date=None,
        withdrawal_date=withdrawal,
        withdrawal_reported_date=withdrawal + timedelta(days=4),
    )
    _expect_restated(
        p,
        pw,
        life,
        "RESTATED-WITHDRAWAL-TO-COMPLETION",
        first,
        f"withdrawn on {withdrawal} in the previous return, completed in this one",
        may_also=("RESTATED-WITHDRAWAL-DATE",),
    )
    pw = p.provider(1)
    life = p.pick(pw, "RESTATED-START-DATE")
    _set_before(pw, life, first, start_date=life.row["start_date"] - timedelta(days=7))
    _expect_restated(p, pw, life, "RESTATED-START-DATE", first, "start date moved 7 days later")
    life = p.pick(pw, "RESTATED-M1-DATE")
    _set_before(pw, life, second, m1_date=life.row["m1_date"] - timedelta(days=4))
    _expect_restated(p, pw, life, "RESTATED-M1-DATE", second, "M1 date moved 4 days later")
    life = p.pick(pw, "RESTATED-WITHDRAWAL-DATE", fate="withdrawn")
    withdrawal = life.row["withdrawal_date"]
    life.row["withdrawal_reported_date"] = withdrawal + timedelta(days=20)
    for referral in life.children["referrals"]:
        referral["referral_date"] = withdrawal + timedelta(days=12)
    _set_before(pw, life, second, withdrawal_date=withdrawal + timedelta(days=9))
    _expect_restated(
        p, pw, life, "RESTATED-WITHDRAWAL-DATE", second, "withdrawal date moved 9 days earlier"
    )
    _payments(p, first, second)


def _payments(p: Planter, first: int, second: int) -> None:
    pw = p.provider(2)
    life = p.pick(pw, "RESTATED-PAYMENT-CHANGED", learner_type="co-funded")
    payment = life.children["cofunding_payments"][0]
    payment["amount"] = sum(int(x["amount"]) for x in life.children["cofunding_payments"])
    life.children["cofunding_payments"] = [payment]
    ref, amount = payment["evidence_ref"], int(payment["amount"]) + 5000

    def raise_amount(index: int, tables: Tables) -> None:
        for row in tables["cofunding_payments"]:
            if index < first and row["evidence_ref"] == ref:
                row["amount"] = amount

    pw.edits.append(raise_amount)
    _expect_restated(
        p,
        pw,
        life,
        "RESTATED-PAYMENT-CHANGED",
        first,
        f"payment {ref} was {amount / 100:.2f}, now {payment['amount'] / 100:.2f}",
        table="cofunding_payments",
        match={"evidence_ref": ref},
    )
    life = p.pick(pw, "RESTATED-PAYMENT-REMOVED", learner_type="co-funded")
    extra = dict(life.children["cofunding_payments"][-1])
    extra["evidence_ref"] = f"{extra['evidence_ref']}-DUP"

    def add_duplicate(index: int, tables: Tables) -> None:
        if index < second:
            tables["cofunding_payments"].append(dict(extra))

    pw.edits.append(add_duplicate)
    _expect_restated(
        p,
        pw,
        life,
        "RESTATED-PAYMENT-REMOVED",
        second,
        f"payment {extra['evidence_ref']} (entered twice) removed; still fully paid",
        table="cofunding_payments",
        match={"evidence_ref": extra["evidence_ref"]},
        row_now=False,
    )


def _set_before(pw: ProviderWorld, life: LearnerLife, change: int, **values: object) -> None:
    """Show ``values`` in the learner's row in the returns before period ``change``."""

    def edit(index: int, tables: Tables) -> None:
        if index >= change:
            return
        for row in tables["learners"]:
            if row["learner_ref"] == life.ref and row["bootcamp_id"] == life.bootcamp_id:
                row.update(values)

    pw.edits.append(edit)


def _expect_restated(
    p: Planter,
    pw: ProviderWorld,
    life: LearnerLife,
    rule_id: str,
    change: int,
    note: str,
    *,
    table: str = "learners",
    match: dict[str, object] | None = None,
    row_now: bool = True,
    may_also: tuple[str, ...] = (),
) -> None:
    key = {"learner_ref": life.ref, "bootcamp_id": life.bootcamp_id, **(match or {})}
    p.expect(
        rule_id,
        rule_id,
        pw,
        f"learner:{life.ref}",
        life.bootcamp_id,
        table,
        key if row_now else None,
        note,
        periods=(change,),
        previous_match=key,
        may_also=may_also,
    )
