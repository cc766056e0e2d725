"""What the auditor asks a provider for: one line per piece of evidence, by the
provider's own refs (learner ref, employer id, bootcamp id and the file row), derived
from the register's exceptions.

Only rules that a document from the provider can settle ask for something: missing
assessments, payment evidence, interview and completion evidence, unexplained
withdrawals and restatements, referrals and outcomes. The request names no learner by
name or ULN and carries no free text from the return, so it can be sent as it is.
"""

from __future__ import annotations

import pandas as pd

ASSESSMENTS = "missing assessments"
PAYMENTS = "payment evidence"
INTERVIEWS = "interview evidence"
WITHDRAWALS = "unexplained withdrawals"
REFERRALS = "referral evidence"
OUTCOMES = "outcome evidence"
REQUEST_ORDER = (ASSESSMENTS, PAYMENTS, INTERVIEWS, WITHDRAWALS, REFERRALS, OUTCOMES)

# rule id -> (request, what the provider should send)
EVIDENCE_NEEDED: dict[str, tuple[str, str]] = {
    "NS-NO-INITIAL": (ASSESSMENTS, "the initial assessment, dated on or before M1"),
    "NS-NO-FINAL": (ASSESSMENTS, "the final assessment"),
    "NS-NOT-ACHIEVED": (ASSESSMENTS, "the final assessment recording the skills as achieved"),
    "NS-ORDER": (ASSESSMENTS, "the initial and final assessments with their dates"),
    "COF-NO-EVIDENCE": (PAYMENTS, "evidence of the employer's co-funding payments"),
    "COF-UNDERPAID": (PAYMENTS, "evidence of the full co-funding contribution, or why it is short"),
    "RESTATED-PAYMENT-CHANGED": (PAYMENTS, "why the payment changed since the previous return"),
    "RESTATED-PAYMENT-REMOVED": (PAYMENTS, "why the payment was removed since the previous return"),
    "INT-NONE": (INTERVIEWS, "evidence of an interview offer, or the employer's new-role evidence"),
    "INT-INVALID": (INTERVIEWS, "evidence of a valid interview offer (role type, skills match)"),
    "M2-NO-EVIDENCE": (
        INTERVIEWS,
        "the evidence behind the completion (M2): interview offer, "
        "new-role evidence or self-employment plan",
    ),
    "DROP-LATE-REPORT": (WITHDRAWALS, "why the withdrawal was reported more than a month late"),
    "RESTATED-DISAPPEARED": (WITHDRAWALS, "why the learner is no longer in the return"),
    "RESTATED-WITHDRAWAL-TO-COMPLETION": (
        WITHDRAWALS,
        "evidence of completion of a learner reported as withdrawn last month",
    ),
    "RESTATED-WITHDRAWAL-DATE": (WITHDRAWALS, "why the withdrawal date changed or was removed"),
    "ILR-MISMATCH-WITHDRAWN": (
        WITHDRAWALS,
        "whether the learner withdrew: datasheet and ILR disagree",
    ),
    "ILR-MISMATCH-WITHDRAWAL-DATE": (
        WITHDRAWALS,
        "the withdrawal date: datasheet and ILR disagree",
    ),
    "REF-MISSING": (REFERRALS, "evidence of the referral to alternative opportunities"),
    "CP-INVALID-OUTCOME": (OUTCOMES, "evidence of a valid outcome inside the window"),
}
REQUEST_COLUMNS: tuple[str, ...] = (
    "request",
    "what_is_needed",
    "learner_ref",
    "employer_id",
    "bootcamp_id",
    "source",
    "rule",
    "exception_id",
)


def evidence_request(exceptions: pd.DataFrame) -> pd.DataFrame:
    """The evidence to ask the provider for.

    Args:
        exceptions: the register's exceptions (:data:`kpitools.worklists.followup.REGISTER_COLUMNS`:
            at least ``exception_id``, ``rule``, ``entity``, ``learner_ref``,
            ``bootcamp_id`` and ``source``).

    Returns:
        :data:`REQUEST_COLUMNS`, one row per exception whose rule asks for evidence,
        ordered by request (:data:`REQUEST_ORDER`), bootcamp and learner ref.
    """
    wanted = (
        exceptions.loc[exceptions["rule"].isin(list(EVIDENCE_NEEDED))]
        if len(exceptions)
        else exceptions
    )
    if wanted.empty:
        return pd.DataFrame(columns=list(REQUEST_COLUMNS))
    needs = wanted["rule"].map(EVIDENCE_NEEDED)
    kind_and_id = wanted["entity"].astype(str).str.partition(":")
    employer = kind_and_id[2].where(kind_and_id[0].eq("employer"), "")
    frame = wanted.assign(
        request=needs.str[0],
        what_is_needed=needs.str[1],
        employer_id=employer,
        learner_ref=wanted["learner_ref"].fillna(""),
        order=needs.str[0].map({r: i for i, r in enumerate(REQUEST_ORDER)}),
    )
    frame = frame.sort_values(
        ["order", "bootcamp_id", "learner_ref", "employer_id", "rule"], kind="stable"
    )
    return frame[list(REQUEST_COLUMNS)].reset_index(drop=True)
