"""What the auditor asks a provider for, fit to send and to read back: one line per
learner or employer and topic, by the provider's own refs, derived from the register's
open exceptions.

Every rule a provider can answer asks for something (:data:`EVIDENCE_NEEDED`): missing
assessments, payment evidence, interview and completion evidence, withdrawals,
referrals and outcomes, duplicate records, dates to confirm, datasheet and ILR
disagreements, employer records. Rules no document can settle are left out
(:data:`NOT_ASKED`). A line says what was found, what is asked, where (``your learners
file, line 12, March 2023 return``), the old and new values of a restatement, and the
exception ids it answers; the provider replies in its reply columns
(:data:`REPLY_COLUMNS`). The request names no learner by name or ULN and carries no free
text from the return, so it can be sent as it is. Written as ``evidence_request.xlsx``
(:func:`kpitools.outputs.workbook.write_evidence_request`, with a header block:
:func:`request_header`) and ``evidence_request.csv``; a copy returned with replies is read
back by :mod:`kpitools.worklists.replies`.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pandas as pd

from kpitools.calendar import parse_period
from kpitools.rules import CATALOGUE

ASSESSMENTS = "missing assessments"
PAYMENTS = "payment evidence"
INTERVIEWS = "interview and completion evidence"
WITHDRAWALS = "withdrawals"
REFERRALS = "referral evidence"
OUTCOMES = "outcome evidence"
DUPLICATES = "duplicate records"
DATES = "dates to confirm"
ILR = "datasheet and ILR disagree"
EMPLOYERS = "employer records"
REQUEST_ORDER = (
    ASSESSMENTS,
    PAYMENTS,
    INTERVIEWS,
    WITHDRAWALS,
    REFERRALS,
    OUTCOMES,
    DUPLICATES,
    DATES,
    ILR,
    EMPLOYERS,
)

# rule id -> (topic, what the provider should send or say)
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
    "REF-MISSING": (REFERRALS, "evidence of the referral to alternative opportunities"),
    "CP-INVALID-OUTCOME": (OUTCOMES, "evidence of a valid outcome inside the window"),
    "CP-NO-OUTCOME": (OUTCOMES, "evidence of the learner's outcome inside the window"),
    "DUP-ROW": (
        DUPLICATES,
        "which row is the learner's record; correct or remove the other in the next return",
    ),
    "DUP-ULN-OVERLAP": (
        DUPLICATES,
        "whether this learner is also on another bootcamp whose learning overlaps, and "
        "evidence of attendance on yours (the ULN is the same)",
    ),
    "DUP-PERSON-OVERLAP": (
        DUPLICATES,
        "whether these records are one person on bootcamps whose learning overlaps",
    ),
    "DUP-PERSON-REPEAT": (DUPLICATES, "whether these records are one person, and which is right"),
    "DATE-ORDER": (DATES, "the correct dates of the record, with evidence"),
    "RESTATED-START-DATE": (DATES, "why the start date changed, with evidence of the date"),
    "RESTATED-M1-DATE": (DATES, "why the M1 date changed, with evidence of the date"),
    "FUTURE-DATED": (DATES, "the correct date of the record dated after the period"),
    "ILR-MISMATCH-MISSING-IN-ILR": (ILR, "whether the learner was returned in the ILR"),
    "ILR-MISMATCH-MISSING-IN-DATASHEET": (
        ILR,
        "why the ILR's learner is not among the datasheet's accepted learners",
    ),
    "ILR-MISMATCH-START-DATE": (ILR, "the correct start date: datasheet and ILR disagree"),
    "ILR-MISMATCH-WITHDRAWAL-DATE": (
        ILR,
        "the correct withdrawal date: datasheet and ILR disagree",
    ),
    "ILR-MISMATCH-COMPLETION-DATE": (
        ILR,
        "the correct completion date: datasheet and ILR disagree",
    ),
    "ILR-MISMATCH-WITHDRAWN": (ILR, "whether the learner withdrew: datasheet and ILR disagree"),
    "ILR-MISMATCH-COFUNDING": (
        ILR,
        "whether the learner is co-funded or fully funded: datasheet and ILR disagree",
    ),
    "ILR-MISMATCH-SME": (
        ILR,
        "whether the employer is an SME: datasheet and ILR disagree",
    ),
    "ILR-REENROLLED": (ILR, "why a later programme aim follows a withdrawn or completed one"),
    "ILR-UKPRN-MISMATCH": (ILR, "which UKPRN is right: the ILR file and provider.csv differ"),
    "EMP-UNKNOWN": (EMPLOYERS, "the employer's record, missing from the employers table"),
    "COF-SIZE-MISMATCH": (
        EMPLOYERS,
        "the employer's size band and employee count, with evidence",
    ),
    "EE-DESIGN-FAIL": (EMPLOYERS, "the employer's confirmation of the design-stage points"),
    "EE-DELIVERY-FAIL": (EMPLOYERS, "the employer's confirmation of the delivery-stage points"),
    "EE-POST-FAIL": (EMPLOYERS, "the employer's post-bootcamp confirmation and score"),
    "EE-UNREACHABLE-3": (EMPLOYERS, "the record of every attempt to reach the employer"),
    "EE-DETAILS-INCOMPLETE": (EMPLOYERS, "the employer's role and contact"),
    "EE-BID-DROPPED-UNEXPLAINED": (
        EMPLOYERS,
        "why the employer named in the bid was dropped, and its replacement",
    ),
}
NOT_ASKED: dict[str, str] = {
    "DROP-ABOVE-LIMIT": "a bootcamp's rate: its withdrawals are asked about one by one",
    "COMP-BELOW-TARGET": "a bootcamp's rate against its starts (a profile's KPI)",
    "STARTS-BELOW-TARGET": "a bootcamp's starts against its plan (a profile's KPI)",
    "REF-FORMAT-CHANGED": "the refs are matched; the next return should keep their zeros",
    "ILR-<DfE rule>": "DfE's validation rules are corrected in the next ILR file",
}
"""Rules that ask for nothing, and why (docs/packs.md lists both)."""

LINE_COLUMNS: tuple[str, ...] = (
    "line",
    "topic",
    "what_we_found",
    "what_we_ask",
    "learner_ref",
    "employer_id",
    "bootcamp_id",
    "where",
    "value_before",
    "value_now",
    "exception_ids",
)
REPLY_COLUMNS: tuple[str, ...] = ("response", "evidence_reference", "reply_date")
REQUEST_COLUMNS: tuple[str, ...] = (*LINE_COLUMNS, *REPLY_COLUMNS)
ID_SEPARATOR = ", "
REPLY_DAYS = 14  # the reply-by date, when not given: this many days after as_of
HOW_TO_REPLY = (
    "For each line, write your answer in 'response', the name or reference of the "
    "document that shows it in 'evidence_reference' and the date in 'reply_date' (the "
    "three columns shaded yellow); change nothing else. Save the workbook under the same "
    "name, evidence_request.xlsx, and send it back with your next monthly return, in the "
    "same folder as your return's files."
)
_CLOSED = ("resolved", "accepted")
# rules whose message may name another provider's learner: the request gives the meaning
_OTHER_RECORDS = ("DUP-ULN-OVERLAP", "DUP-PERSON-OVERLAP", "DUP-PERSON-REPEAT")
# what a restatement's message says, as (value before, value now)
_BEFORE_NOW = (
    re.compile(r"^(?:.+?) (?P<before>\S+) last month is now (?P<now>\S+)$"),
    re.compile(r"^withdrawn on (?P<before>\S+) last month, now (?P<now>completed on \S+)$"),
    re.compile(r"was (?P<before>£[\d,.]+ on \S+) last month, now (?P<now>£[\d,.]+ on \S+)$"),
    re.compile(r"^payment of (?P<before>£[\d,.]+ on \S+) .* is gone$"),
)
_SOURCE = re.compile(
    r"^(?:(?P<period>\d{4}-\d{2})/)?(?P<file>[^:\[]+?)(?:\[(?P<sheet>[^\]]+)\])?:(?P<row>\d+)$"
)


def month_name(period: str) -> str:
    """``2023-03`` as "March 2023"."""
    year, month = parse_period(period)
    return date(year, month, 1).strftime("%B %Y")


def plain_source(source: str, period: str) -> str:
    """A ``file:row`` as the provider reads it: "your learners file, line 12, March 2023
    return"; "your datasheet, sheet learners, row 12, ..."; "your ILR file X.xml, line
    3055"; a previous month's row (``2023-02/learners.csv:12``) with that month."""
    found = _SOURCE.match(source.strip())
    if found is None:
        return source.strip()
    month = found["period"] or period
    of_month = f", {month_name(month)} return" if month else ""
    name, row = found["file"].rsplit("/", 1)[-1], found["row"]
    if name.lower().endswith(".xml"):
        return f"your ILR file {name}, line {row}"
    if found["sheet"]:
        return f"your datasheet, sheet {found['sheet']}, row {row}{of_month}"
    return f"your {name.removesuffix('.csv')} file, line {row}{of_month}"


def before_and_now(message: str) -> tuple[str, str]:
    """The value before and now of a restatement, from its message (blank otherwise)."""
    for pattern in _BEFORE_NOW:
        found = pattern.search(message)
        if found:
            return found["before"], found["now"] if "now" in found.groupdict() else "removed"
    return "", ""


def _found_text(rule: str, message: str) -> str:
    """What was found, as the provider may read it: the finding's message (built from
    dates, amounts and the provider's own rows), except where it may name another
    provider's records (:data:`_OTHER_RECORDS`): then the rule's meaning."""
    if rule in _OTHER_RECORDS or not message:
        return CATALOGUE[rule].meaning
    return message


def _joined(values: pd.Series) -> str:
    return "; ".join(dict.fromkeys(str(v) for v in values if isinstance(v, str) and v))


def evidence_request(exceptions: pd.DataFrame, period: str = "") -> pd.DataFrame:
    """The lines to ask the provider about.

    Args:
        exceptions: the register's exceptions (:data:`kpitools.worklists.followup.REGISTER_COLUMNS`:
            at least ``exception_id``, ``rule``, ``entity``, ``learner_ref``,
            ``bootcamp_id``, ``source`` and ``message``; ``status``, when there, leaves
            out those closed).
        period: the return's period (its month names the sources).

    Returns:
        :data:`REQUEST_COLUMNS`, one line per learner (or employer) and topic, its
        exceptions' asks, sources and ids joined, reply columns blank; ordered by topic
        (:data:`REQUEST_ORDER`), bootcamp and ref, numbered from 1.
    """
    wanted = (
        exceptions.loc[exceptions["rule"].isin(list(EVIDENCE_NEEDED))]
        if len(exceptions)
        else exceptions
    )
    if "status" in wanted.columns:
        wanted = wanted.loc[~wanted["status"].isin(_CLOSED)]
    if wanted.empty:
        return pd.DataFrame(columns=list(REQUEST_COLUMNS))
    needs = wanted["rule"].map(EVIDENCE_NEEDED)
    kind_and_id = wanted["entity"].astype(str).str.partition(":")
    learner = wanted["learner_ref"].where(wanted["learner_ref"].notna(), "").astype(str)
    employer = kind_and_id[2].where(kind_and_id[0].eq("employer"), "")
    changes = [
        ("in the previous return", "not in this return")
        if rule == "RESTATED-DISAPPEARED"
        else before_and_now(str(message))
        for rule, message in zip(wanted["rule"], wanted["message"].fillna(""), strict=True)
    ]
    frame = wanted.assign(
        topic=needs.str[0],
        what_we_ask=needs.str[1],
        what_we_found=[
            _found_text(r, str(m))
            for r, m in zip(wanted["rule"], wanted["message"].fillna(""), strict=True)
        ],
        learner_ref=learner,
        employer_id=employer,
        who=learner.where(learner.ne(""), wanted["entity"].astype(str)),
        where=[
            "; ".join(plain_source(s, period) for s in str(source).split(";") if s.strip())
            for source in wanted["source"].fillna("")
        ],
        value_before=[b for b, _ in changes],
        value_now=[n for _, n in changes],
        order=needs.str[0].map({r: i for i, r in enumerate(REQUEST_ORDER)}),
    )
    lines = (
        frame.groupby(["order", "topic", "who"], sort=True, dropna=False)
        .agg(
            learner_ref=("learner_ref", "first"),
            employer_id=("employer_id", "first"),
            bootcamp_id=("bootcamp_id", _joined),
            what_we_found=("what_we_found", _joined),
            what_we_ask=("what_we_ask", _joined),
            where=("where", _joined),
            value_before=("value_before", _joined),
            value_now=("value_now", _joined),
            exception_ids=("exception_id", lambda ids: ID_SEPARATOR.join(map(str, ids))),
        )
        .reset_index()
        .sort_values(["order", "bootcamp_id", "learner_ref", "employer_id"], kind="stable")
    )
    lines = lines.assign(line=range(1, len(lines) + 1), **dict.fromkeys(REPLY_COLUMNS, ""))
    return lines[list(REQUEST_COLUMNS)].reset_index(drop=True)


def reply_by(as_of: date, given: date | None) -> date:
    """The reply-by date: as given, else :data:`REPLY_DAYS` days after ``as_of``."""
    return given if given is not None else as_of + timedelta(days=REPLY_DAYS)


def request_header(
    *,
    provider: str,
    provider_id: str,
    period: str,
    requested_by: str,
    reply_date: date,
    lines: int,
) -> list[tuple[str, object]]:
    """The header block above the lines: who asks whom, for which period, by when, and
    how to reply."""
    return [
        ("Evidence request", f"{provider} ({provider_id})"),
        ("period", f"{month_name(period)} return ({period})"),
        ("requested by", requested_by),
        ("reply by", reply_date),
        ("lines", lines),
        ("how to reply", HOW_TO_REPLY),
    ]
