"""Ageing of open items: how long each thing an auditor is waiting for has been open.

Three worklists, each with a ``bucket`` column:

- completers awaiting an outcome, by days since completion, with the date the outcome
  window closes;
- employers not yet reached in a stage, by attempts made (and days since the first);
- withdrawals not yet reported, by days past the one-month reporting deadline.

Buckets are ``0-30``, ``31-60``, ``61-90``, ``91-180`` and ``>180`` days, and
``invalid date`` for a date after ``as_of`` or before the learner's start.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from kpitools.calendar import add_months_series
from kpitools.checks.common import text_key
from kpitools.model import ProviderReturn
from kpitools.rules import Rules
from kpitools.worklists.sampling import employer_stage_population

BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-30", 0, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("91-180", 91, 180),
    (">180", 181, None),
)
INVALID = "invalid date"
NOT_YET_DUE = "not yet due"
NOT_CONTACTED = "not contacted"
BUCKET_ORDER = (NOT_YET_DUE, NOT_CONTACTED, *(b[0] for b in BUCKETS), INVALID)
AGEING_WORKLISTS = ("ageing_awaiting_outcome", "ageing_unreached_employers",
                    "ageing_unreported_withdrawals")
"""The ageing worklists' names in ``ProviderAudit.worklists``, in their order."""


def age_bucket(days: float | None) -> str:
    """The bucket of an age in days (``invalid date`` for a negative or unknown age).

    >>> [age_bucket(d) for d in (0, 30, 31, 180, 181, -1)]
    ['0-30', '0-30', '31-60', '91-180', '>180', 'invalid date']
    """
    if days is None or pd.isna(days) or days < 0:
        return INVALID
    for name, low, high in BUCKETS:
        if days >= low and (high is None or days <= high):
            return name
    raise AssertionError(f"unreachable: {days}")


def _days(later: pd.Series | pd.Timestamp, earlier: pd.Series) -> pd.Series:
    return (later - earlier).dt.days


def awaiting_outcome(
    learners: pd.DataFrame, outcomes: pd.DataFrame, *, as_of: date, rules: Rules
) -> pd.DataFrame:
    """Completers with no outcome recorded on or before ``as_of``, oldest first.

    Age = days from completion to ``as_of``; ``window_closes`` = completion +
    ``rules.outcome_window_months`` calendar months (the career-progression window).
    A completion after ``as_of`` or before the start is ``invalid date``.
    """
    cutoff = pd.Timestamp(as_of)
    completers = learners[learners["completion_date"].notna()]
    recorded = outcomes[outcomes["outcome_date"] <= cutoff]
    key = ["learner_ref", "bootcamp_id"]
    waiting = completers[~text_key(completers, key).isin(set(text_key(recorded, key)))]
    days = _days(cutoff, waiting["completion_date"])
    invalid = (waiting["completion_date"] > cutoff) | (
        waiting["completion_date"] < waiting["start_date"]
    )
    closes = add_months_series(waiting["completion_date"], rules.outcome_window_months)
    frame = pd.DataFrame({
        "entity": "learner:" + waiting["learner_ref"].astype(object),
        "learner_ref": waiting["learner_ref"], "bootcamp_id": waiting["bootcamp_id"],
        "learner_type": waiting["learner_type"], "completion_date": waiting["completion_date"],
        "window_closes": closes, "days_since_completion": days.astype("Int64"),
        "days_to_window_close": _days(closes, pd.Series(cutoff, index=waiting.index)).astype("Int64"),
        "bucket": [INVALID if bad else age_bucket(d) for bad, d in zip(invalid, days, strict=True)],
        "source": waiting["source"],
    })
    return frame.sort_values("days_since_completion", ascending=False, kind="stable").reset_index(drop=True)


def unreached_employers(
    provider: ProviderReturn, *, as_of: date, rules: Rules
) -> pd.DataFrame:
    """Employers not reached in an engagement stage, by attempts made.

    The population is every (employer, stage) being monitored at ``as_of`` (see
    :func:`kpitools.worklists.sampling.employer_stage_population`) plus any with attempts logged.
    An employer reached once in a stage (on or before ``as_of``) leaves the list. Age =
    days since the first attempt; never contacted is ``not contacted``; an attempt dated
    after ``as_of`` makes the row ``invalid date``. ``escalate`` is set from
    ``rules.unreachable_attempts`` attempts (EE-UNREACHABLE-3).
    """
    cutoff = pd.Timestamp(as_of)
    contacts = provider.tables["employer_contacts"]
    stages = employer_stage_population(provider, as_of=as_of)[["employer_id", "stage"]]
    logged = contacts[["employer_id", "stage"]].astype(object)
    pairs = pd.concat([stages, logged]).drop_duplicates()
    attempts = _attempts_by_pair(contacts)
    rows = []
    for employer_id, stage in zip(pairs["employer_id"], pairs["stage"], strict=True):
        row = _unreached_row(employer_id, stage, attempts.get((employer_id, stage), []),
                             cutoff, rules)
        if row is not None:
            rows.append(row)
    frame = pd.DataFrame(rows, columns=list(_UNREACHED_COLUMNS))
    frame = frame.astype({"attempts": "int64", "days_since_first_attempt": "Int64",
                          "escalate": bool, "first_attempt": "datetime64[ns]",
                          "last_attempt": "datetime64[ns]"})
    return frame.sort_values(["attempts", "employer_id", "stage"], ascending=[False, True, True],
                             kind="stable").reset_index(drop=True)


_UNREACHED_COLUMNS = ("entity", "employer_id", "stage", "attempts", "first_attempt",
                      "last_attempt", "days_since_first_attempt", "bucket", "escalate", "source")


def _attempts_by_pair(contacts: pd.DataFrame) -> dict[tuple[object, object], list[tuple]]:
    """(employer_id, stage) → its contact rows (attempt date, reached, source), in order.

    Rows with a blank employer or stage are left out: a blank never equals anything.
    """
    grouped: dict[tuple[object, object], list[tuple]] = {}
    columns = (contacts["employer_id"], contacts["stage"], contacts["attempt_date"],
               contacts["reached"].fillna(False).astype(bool), contacts["source"].astype(str))
    for employer_id, stage, attempt, reached, source in zip(*columns, strict=True):
        if pd.isna(employer_id) or pd.isna(stage):
            continue
        grouped.setdefault((employer_id, stage), []).append((attempt, reached, source))
    return grouped


def _unreached_row(employer_id: object, stage: object, mine: list[tuple],
                   cutoff: pd.Timestamp, rules: Rules) -> dict[str, object] | None:
    """One worklist row, or None when the employer was reached in the stage by ``cutoff``."""
    done = [(attempt, reached) for attempt, reached, _ in mine
            if pd.notna(attempt) and attempt <= cutoff]
    if any(reached for _, reached in done):
        return None
    first = min(a for a, _ in done) if done else pd.NaT
    days = (cutoff - first).days if done else None
    if any(pd.notna(attempt) and attempt > cutoff for attempt, _, _ in mine):
        bucket = INVALID
    else:
        bucket = NOT_CONTACTED if days is None else age_bucket(days)
    return {
        "entity": f"employer:{employer_id}", "employer_id": employer_id,
        "stage": stage, "attempts": len(done), "first_attempt": first,
        "last_attempt": max(a for a, _ in done) if done else pd.NaT,
        "days_since_first_attempt": days, "bucket": bucket,
        "escalate": len(done) >= rules.unreachable_attempts,
        "source": "; ".join(source for _, _, source in mine),
    }


def unreported_withdrawals(learners: pd.DataFrame, *, as_of: date, rules: Rules) -> pd.DataFrame:
    """Withdrawals with no reported date on or before ``as_of``, by days late.

    The report is due ``rules.withdrawal_report_months`` calendar month(s) after the
    withdrawal (DROP-LATE-REPORT); days late = ``as_of`` - due date. Not yet late is
    ``not yet due``; a withdrawal after ``as_of`` or before the start is
    ``invalid date``.
    """
    cutoff = pd.Timestamp(as_of)
    reported = learners["withdrawal_reported_date"].notna() & (
        learners["withdrawal_reported_date"] <= cutoff
    )
    open_items = learners[learners["withdrawal_date"].notna() & ~reported]
    due = add_months_series(open_items["withdrawal_date"], rules.withdrawal_report_months)
    late = _days(pd.Series(cutoff, index=open_items.index), due)
    invalid = (open_items["withdrawal_date"] > cutoff) | (
        open_items["withdrawal_date"] < open_items["start_date"]
    )
    buckets = [
        INVALID if bad else (NOT_YET_DUE if d <= 0 else age_bucket(d))
        for bad, d in zip(invalid, late, strict=True)
    ]
    frame = pd.DataFrame({
        "entity": "learner:" + open_items["learner_ref"].astype(object),
        "learner_ref": open_items["learner_ref"], "bootcamp_id": open_items["bootcamp_id"],
        "withdrawal_date": open_items["withdrawal_date"], "report_due": due,
        "days_late": late.astype("Int64"), "bucket": buckets, "source": open_items["source"],
    })
    return frame.sort_values("days_late", ascending=False, kind="stable").reset_index(drop=True)


def ageing_worklists(provider: ProviderReturn, *, as_of: date, rules: Rules) -> dict[str, pd.DataFrame]:
    """The three ageing worklists of one return, named for ``ProviderAudit.worklists``."""
    tables = provider.tables
    lists = (awaiting_outcome(tables["learners"], tables["outcomes"], as_of=as_of, rules=rules),
             unreached_employers(provider, as_of=as_of, rules=rules),
             unreported_withdrawals(tables["learners"], as_of=as_of, rules=rules))
    return dict(zip(AGEING_WORKLISTS, lists, strict=True))


def bucket_counts(worklist: pd.DataFrame) -> pd.DataFrame:
    """Cases per bucket, in bucket order (buckets with no case left out)."""
    counts = worklist["bucket"].value_counts()
    order = [b for b in BUCKET_ORDER if b in counts.index]
    return pd.DataFrame({"bucket": order, "cases": [int(counts[b]) for b in order]})
