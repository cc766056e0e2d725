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

import numpy as np
import pandas as pd

from kpitools.calendar import add_months_series
from kpitools.checks.common import text_key
from kpitools.rules import Rules
from kpitools.worklists.period import PeriodTables
from kpitools.worklists.sampling import stage_population

BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-30", 0, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91-180", 91, 180),
    (">180", 181, None),
)
INVALID = "invalid date"
NOT_YET_DUE = "not yet due"
NOT_CONTACTED = "not contacted"
BUCKET_ORDER = (NOT_YET_DUE, NOT_CONTACTED, *(b[0] for b in BUCKETS), INVALID)
AGEING_WORKLISTS = (
    "ageing_awaiting_outcome",
    "ageing_unreached_employers",
    "ageing_unreported_withdrawals",
)
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


def age_buckets(days: pd.Series) -> list[str]:
    """:func:`age_bucket` of each age, at once."""
    values = days.to_numpy(dtype=float, na_value=np.nan)
    known = ~np.isnan(values) & (values >= 0)
    chosen = np.full(len(values), INVALID, dtype=object)
    for name, low, high in BUCKETS:
        chosen[known & (values >= low) & ((values <= high) if high is not None else True)] = name
    return chosen.tolist()


def _days(later: pd.Series | pd.Timestamp, earlier: pd.Series) -> pd.Series:
    return (later - earlier).dt.days


def _by_provider(
    frame: pd.DataFrame, owner: np.ndarray, column: str, *, ascending: bool
) -> tuple[pd.DataFrame, np.ndarray]:
    """``frame`` sorted provider by provider, by ``column`` within each (a stable sort:
    ties keep their order), index 0..n-1; with each row's provider."""
    ordered = frame.assign(_owner=owner).sort_values(
        ["_owner", column], ascending=[True, ascending], kind="stable"
    )
    return ordered.drop(columns="_owner").reset_index(drop=True), ordered["_owner"].to_numpy()


def _awaiting_outcome(period: PeriodTables, rules: Rules) -> tuple[pd.DataFrame, np.ndarray]:
    cutoff = pd.Timestamp(period.as_of)
    learners, outcomes = period.tables["learners"], period.tables["outcomes"]
    done = learners["completion_date"].notna().to_numpy()
    completers = learners[done]
    recorded = outcomes[outcomes["outcome_date"] <= cutoff]
    key = ["learner_ref", "bootcamp_id"]
    open_items = ~text_key(completers, key).isin(set(text_key(recorded, key))).to_numpy(dtype=bool)
    waiting = completers[open_items]
    owner = period.owners["learners"][done][open_items]
    days = _days(cutoff, waiting["completion_date"])
    invalid = (
        (waiting["completion_date"] > cutoff) | (waiting["completion_date"] < waiting["start_date"])
    ).to_numpy(dtype=bool)
    closes = add_months_series(waiting["completion_date"], rules.outcome_window_months)
    learner_ref = waiting["learner_ref"]
    buckets = np.where(invalid, INVALID, np.array(age_buckets(days), dtype=object))
    frame = pd.DataFrame(
        {
            "entity": "learner:" + learner_ref.astype(object),
            "learner_ref": learner_ref,
            "bootcamp_id": waiting["bootcamp_id"],
            "learner_type": waiting["learner_type"],
            "completion_date": waiting["completion_date"],
            "window_closes": closes,
            "days_since_completion": days.astype("Int64"),
            "days_to_window_close": _days(closes, pd.Series(cutoff, index=waiting.index)).astype(
                "Int64"
            ),
            "bucket": pd.Series(buckets, index=waiting.index, dtype="str"),
            "source": waiting["source"],
        }
    )
    return _by_provider(frame, owner, "days_since_completion", ascending=False)


_UNREACHED_COLUMNS = (
    "entity",
    "employer_id",
    "stage",
    "attempts",
    "first_attempt",
    "last_attempt",
    "days_since_first_attempt",
    "bucket",
    "escalate",
    "source",
)


def _unreached_employers(
    measured: PeriodTables, returned: PeriodTables, rules: Rules
) -> tuple[pd.DataFrame, np.ndarray]:
    """The unreached employers of every provider (:func:`ageing_worklists`): the
    population from the ``measured`` tables, the attempts from the tables as
    ``returned``."""
    cutoff = pd.Timestamp(returned.as_of)
    contacts = returned.tables["employer_contacts"]
    stages, stage_owner = stage_population(measured)
    pairs = pd.concat(
        [stages[["employer_id", "stage"]], contacts[["employer_id", "stage"]].astype(object)],
        ignore_index=True,
    )
    owner = np.concatenate([stage_owner, returned.owners["employer_contacts"]]).astype(int)
    first = ~pairs.assign(_owner=owner).duplicated().to_numpy()
    pairs, owner = pairs[first].reset_index(drop=True), owner[first]
    attempts = _attempts_by_pair(contacts, cutoff)
    at = {key: i for i, key in enumerate(attempts.index.tolist())}
    # a pair without a contact row takes the last row: never contacted
    found = [
        at.get(key, -1)
        for key in zip(pairs["employer_id"].tolist(), pairs["stage"].tolist(), strict=True)
    ]
    seen = pd.concat([attempts.reset_index(drop=True), _NEVER_CONTACTED], ignore_index=True).iloc[
        found
    ]
    keep = ~seen["reached"].to_numpy(dtype=bool)
    pairs, owner, seen = (
        pairs[keep].reset_index(drop=True),
        owner[keep],
        seen[keep].reset_index(drop=True),
    )
    count, late = seen["attempts"].to_numpy(dtype=int), seen["late"].to_numpy(dtype=bool)
    days = (cutoff - seen["first"]).dt.days.astype("Int64")
    buckets = np.where(
        late,
        INVALID,
        np.where(days.isna().to_numpy(), NOT_CONTACTED, np.array(age_buckets(days), dtype=object)),
    )
    employer_id = pairs["employer_id"]
    frame = pd.DataFrame(
        {
            "entity": [f"employer:{e}" for e in employer_id.tolist()],
            "employer_id": employer_id.tolist(),
            "stage": pairs["stage"].tolist(),
            "attempts": count.tolist(),
            "first_attempt": seen["first"].tolist(),
            "last_attempt": seen["last"].tolist(),
            "days_since_first_attempt": days.tolist(),
            "bucket": buckets.tolist(),
            "escalate": (count >= rules.unreachable_attempts).tolist(),
            "source": seen["source"].tolist(),
        },
        columns=list(_UNREACHED_COLUMNS),
    )
    # typed as the values make them, also when there is no row
    frame = frame.astype(
        {
            "attempts": "int64",
            "days_since_first_attempt": "Int64",
            "escalate": bool,
            "first_attempt": "datetime64[ns]",
            "last_attempt": "datetime64[ns]",
            **{c: "str" for c in ("entity", "employer_id", "stage", "bucket", "source")},
        }
    )
    ordered = frame.assign(_owner=owner).sort_values(
        ["_owner", "attempts", "employer_id", "stage"],
        ascending=[True, False, True, True],
        kind="stable",
    )
    return ordered.drop(columns="_owner").reset_index(drop=True), ordered["_owner"].to_numpy()


def _attempts_by_pair(contacts: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Per (employer_id, stage) with contact rows: ``attempts`` made on or before
    ``cutoff``, the ``first`` and ``last`` of them, whether one ``reached`` the employer,
    whether one is dated after ``cutoff`` (``late``), and every row's ``source`` joined
    by ``; `` in row order.

    Rows with a blank employer or stage are left out: a blank never equals anything.
    """
    named = contacts[(contacts["employer_id"].notna() & contacts["stage"].notna()).to_numpy()]
    attempt = named["attempt_date"]
    done = (attempt.notna() & (attempt <= cutoff)).to_numpy()
    frame = pd.DataFrame(
        {
            "employer_id": named["employer_id"].astype(object),
            "stage": named["stage"].astype(object),
            "done": done,
            "when": attempt.where(done),
            "reached": named["reached"].fillna(False).astype(bool).to_numpy() & done,
            "late": (attempt.notna() & (attempt > cutoff)).to_numpy(),
        }
    )
    grouped = frame.groupby(["employer_id", "stage"], sort=False)
    stats = grouped.agg(
        attempts=("done", "sum"),
        first=("when", "min"),
        last=("when", "max"),
        reached=("reached", "any"),
        late=("late", "any"),
    )
    group = grouped.ngroup().to_numpy()
    order = np.argsort(group, kind="stable")
    texts = named["source"].astype(str).to_numpy(dtype=object)[order].tolist()
    bounds = np.searchsorted(group[order], np.arange(len(stats) + 1)).tolist()
    return stats.assign(
        source=["; ".join(texts[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    )


_NEVER_CONTACTED = pd.DataFrame(
    {
        "attempts": [0],
        "first": pd.Series([pd.NaT], dtype="datetime64[ns]"),
        "last": pd.Series([pd.NaT], dtype="datetime64[ns]"),
        "reached": [False],
        "late": [False],
        "source": [""],
    }
)


def _unreported_withdrawals(period: PeriodTables, rules: Rules) -> tuple[pd.DataFrame, np.ndarray]:
    cutoff = pd.Timestamp(period.as_of)
    learners = period.tables["learners"]
    reported = learners["withdrawal_reported_date"].notna() & (
        learners["withdrawal_reported_date"] <= cutoff
    )
    mine = (learners["withdrawal_date"].notna() & ~reported).to_numpy(dtype=bool)
    open_items = learners[mine]
    owner = period.owners["learners"][mine]
    due = add_months_series(open_items["withdrawal_date"], rules.withdrawal_report_months)
    late = _days(pd.Series(cutoff, index=open_items.index), due)
    invalid = (
        (open_items["withdrawal_date"] > cutoff)
        | (open_items["withdrawal_date"] < open_items["start_date"])
    ).to_numpy(dtype=bool)
    not_due = (late <= 0).to_numpy(dtype=bool, na_value=False)
    buckets = np.where(
        invalid, INVALID, np.where(not_due, NOT_YET_DUE, np.array(age_buckets(late), dtype=object))
    )
    learner_ref = open_items["learner_ref"]
    frame = pd.DataFrame(
        {
            "entity": "learner:" + learner_ref.astype(object),
            "learner_ref": learner_ref,
            "bootcamp_id": open_items["bootcamp_id"],
            "withdrawal_date": open_items["withdrawal_date"],
            "report_due": due,
            "days_late": late.astype("Int64"),
            "bucket": pd.Series(buckets, index=open_items.index, dtype="str"),
            "source": open_items["source"],
        }
    )
    return _by_provider(frame, owner, "days_late", ascending=False)


def ageing_worklists(
    measured: PeriodTables, returned: PeriodTables, *, rules: Rules
) -> dict[str, dict[str, pd.DataFrame]]:
    """The three ageing worklists of every provider of a run at once (a mapping of one
    for one provider), each list built once over the stacked tables and cut into each
    provider's: the ``returned`` tables (what is dated after ``as_of`` is aged ``invalid
    date``) and the employers' stages from the ``measured`` ones
    (:class:`~kpitools.worklists.period.PeriodTables` of the same returns).

    - ``ageing_awaiting_outcome``: completers with no outcome recorded on or before
      ``as_of``, oldest first. Age = days from completion to ``as_of``;
      ``window_closes`` = completion + ``rules.outcome_window_months`` calendar months
      (the career-progression window). A completion after ``as_of`` or before the start
      is ``invalid date``.
    - ``ageing_unreached_employers``: employers not reached in an engagement stage, by
      attempts made. The population is every (employer, stage) being monitored at
      ``as_of`` (:func:`kpitools.worklists.sampling.stage_population`) plus any with
      attempts logged. An employer reached once in a stage (on or before ``as_of``)
      leaves the list. Age = days since the first attempt; never contacted is ``not
      contacted``; an attempt dated after ``as_of`` makes the row ``invalid date``.
      ``escalate`` is set from ``rules.unreachable_attempts`` attempts
      (EE-UNREACHABLE-3).
    - ``ageing_unreported_withdrawals``: withdrawals with no reported date on or before
      ``as_of``, by days late. The report is due ``rules.withdrawal_report_months``
      calendar month(s) after the withdrawal (DROP-LATE-REPORT); days late = ``as_of`` -
      due date. Not yet late is ``not yet due``; a withdrawal after ``as_of`` or before
      the start is ``invalid date``.

    Returns:
        Per provider id, its three ageing worklists (:data:`AGEING_WORKLISTS`).
    """
    lists = [
        returned.split(*_awaiting_outcome(returned, rules)),
        returned.split(*_unreached_employers(measured, returned, rules)),
        returned.split(*_unreported_withdrawals(returned, rules)),
    ]
    return {
        provider: {
            name: split[provider] for name, split in zip(AGEING_WORKLISTS, lists, strict=True)
        }
        for provider in returned.providers
    }


def bucket_counts(worklist: pd.DataFrame) -> pd.DataFrame:
    """Cases per bucket, in bucket order (buckets with no case left out)."""
    counts = worklist["bucket"].value_counts()
    order = [b for b in BUCKET_ORDER if b in counts.index]
    return pd.DataFrame({"bucket": order, "cases": [int(counts[b]) for b in order]})
