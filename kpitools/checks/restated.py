"""RESTATED-*: what changed between a provider's previous monthly return and this one."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from kpitools.calendar import iso
from kpitools.checks.common import source_prefixed
from kpitools.layout import is_period_name
from kpitools.model import Finding, ProviderReturn, irregularity, is_blank, learner_entity
from kpitools.money import pence, pounds_text
from kpitools.returns.period import Stacks, by_provider, owner_of, owners_of, stacked_tables

_KEY = ["learner_ref", "bootcamp_id"]
_PAYMENT_KEY = ["employer_id", "learner_ref", "bootcamp_id"]
_PaymentKey: TypeAlias = tuple[object, ...]  # the values of _PAYMENT_KEY
_Record: TypeAlias = dict[str, Any]  # a row of a frame, as to_dict("records") gives it
_COMPARED = [*_KEY, "source", "start_date", "m1_date", "withdrawal_date", "completion_date"]


def previous_label(previous: ProviderReturn) -> str:
    """How previous-month sources are prefixed: the period folder name, else ``previous``."""
    name = Path(previous.path).parent.name
    return name if is_period_name(name) else "previous"


def restatements(
    pairs: Mapping[str, tuple[ProviderReturn, ProviderReturn]],
    *,
    payments: Collection[str],
    stacks: Stacks | None = None,
) -> dict[str, list[Finding]]:
    """RESTATED-*: learners and payments of each provider's previous return changed in
    this one, every provider of a run at once (a mapping of one for one provider).

    - RESTATED-DISAPPEARED: a learner (learner_ref, bootcamp_id) accepted last month is
      not among this month's accepted learners;
    - RESTATED-WITHDRAWAL-TO-COMPLETION: withdrawn and not completed last month,
      completed now;
    - RESTATED-START-DATE / RESTATED-M1-DATE: the date changed or was removed (a first
      M1 date is progress, not a restatement);
    - RESTATED-WITHDRAWAL-DATE: the withdrawal date changed, or was removed without the
      learner becoming a completer (that case is the rule above);
    - RESTATED-PAYMENT-CHANGED / -REMOVED: see :func:`payment_changes`.

    Sources cite this month's row and last month's, the latter prefixed by its period
    (``2023-02/learners.csv:12``). The learners and payments of every provider are
    compared at once, over their tables stacked with their identifiers scoped
    (:func:`kpitools.returns.period.stacked_tables`); each provider gets the findings it
    gets alone, in the same order.

    Args:
        pairs: per provider id (a provider folder name when more than one), this
            month's return and last month's.
        payments: the providers whose payments are compared too (not those of a month
            whose cofunding_payments were not supplied).
        stacks: the run's stacked tables (:class:`~kpitools.returns.period.Stacks`).

    Returns:
        Findings per provider id, in the order given.
    """
    if not pairs:
        return {}
    findings: dict[str, list[Finding]] = {}
    labels: dict[str, str] = {}
    now: dict[str, dict[str, pd.DataFrame]] = {}
    before: dict[str, dict[str, pd.DataFrame]] = {}
    for provider, (current, previous) in pairs.items():
        labels[provider] = label = previous_label(previous)
        learners, paid = current.tables["learners"], current.tables["cofunding_payments"]
        findings[provider] = []
        renamed = zero_stripped_refs(learners, previous.tables["learners"])
        if renamed:
            findings[provider].append(
                _format_changed(
                    current.provider_id, learners, previous.tables["learners"], renamed, label
                )
            )
            learners, paid = _with_refs(learners, renamed), _with_refs(paid, renamed)
        now[provider] = {"learners": learners, "cofunding_payments": paid}
        before[provider] = {name: previous.tables[name] for name in _STACKED}
    providers = tuple(pairs)
    now_tables = stacked_tables(now, names=_STACKED, stacks=stacks)
    before_tables = stacked_tables(before, names=_STACKED, stacks=stacks)
    rows = _changed(_joined(now_tables["learners"], before_tables["learners"])).to_dict("records")
    owners = owners_of([r["bootcamp_id"] for r in rows], providers).tolist()
    learner_changes = by_provider(
        (
            (provider, finding)
            for row, provider in zip(rows, owners, strict=True)
            for finding in _learner_findings(row, labels[provider])
        ),
        providers,
    )
    paying = [p for p in pairs if p in payments]
    now_paid = _payments_of(now_tables, providers, paying)
    before_paid = _payments_of(before_tables, providers, paying)
    payment_findings = by_provider(
        (
            (provider, _payment_finding(key, old, new, labels[provider]))
            for key, old, new in payment_changes(now_paid, before_paid)
            for provider in (owner_of(key[2], providers),)
        ),
        providers,
    )
    return {
        provider: [*found, *learner_changes[provider], *payment_findings[provider]]
        for provider, found in findings.items()
    }


_STACKED = ("learners", "cofunding_payments")


def _payments_of(
    stacked: Mapping[str, pd.DataFrame], providers: tuple[str, ...], paying: list[str]
) -> pd.DataFrame:
    """The payments of the providers ``paying`` (of a stacked frame: its rows of them)."""
    payments = stacked["cofunding_payments"]
    if len(paying) == len(providers):
        return payments
    if not paying:
        return payments.iloc[:0]
    return payments[np.isin(owners_of(payments["bootcamp_id"], providers), paying)]


def zero_stripped_refs(now: pd.DataFrame, before: pd.DataFrame) -> dict[tuple[str, str], str]:
    """Learners whose ref only lost its leading zeros since last month (``000670`` is now
    ``670`` on the same bootcamp): a spreadsheet turned the column into numbers.

    Only refs missing from this month matched to refs new this month count, and only
    when exactly one of last month's refs strips to the new one.

    Returns:
        ``(ref now, bootcamp_id)`` → last month's ref.
    """
    old_keys = set(zip(before["learner_ref"], before["bootcamp_id"], strict=True))
    new_keys = set(zip(now["learner_ref"], now["bootcamp_id"], strict=True))
    candidates: dict[tuple[str, str], list[str]] = {}
    for ref, bootcamp in old_keys - new_keys:
        if isinstance(ref, str) and ref.startswith("0"):
            candidates.setdefault((ref.lstrip("0") or "0", bootcamp), []).append(ref)
    return {
        (ref, bootcamp): found[0]
        for ref, bootcamp in new_keys - old_keys
        if isinstance(ref, str) and len(found := candidates.get((ref, bootcamp), [])) == 1
    }


def _with_refs(frame: pd.DataFrame, renamed: Mapping[tuple[str, str], str]) -> pd.DataFrame:
    """``frame`` with this month's zero-stripped refs written as last month's."""
    refs = [
        renamed.get((ref, bootcamp), ref)
        for ref, bootcamp in zip(frame["learner_ref"], frame["bootcamp_id"], strict=True)
    ]
    return frame.assign(learner_ref=pd.Series(refs, index=frame.index, dtype=object))


def _format_changed(
    provider_id: str,
    now: pd.DataFrame,
    before: pd.DataFrame,
    renamed: Mapping[tuple[str, str], str],
    label: str,
    examples: int = 3,
) -> Finding:
    """REF-FORMAT-CHANGED: one finding for the return, with the count; the sources are
    the rows of the first ``examples`` learners in both months (no ref in the message:
    learners are named only when an output is written)."""
    old_rows = {
        (ref, bootcamp): source
        for ref, bootcamp, source in zip(
            before["learner_ref"], before["bootcamp_id"], before["source"], strict=True
        )
    }
    new_rows = {
        (ref, bootcamp): source
        for ref, bootcamp, source in zip(
            now["learner_ref"], now["bootcamp_id"], now["source"], strict=True
        )
    }
    pairs = sorted(renamed.items(), key=lambda item: str(new_rows.get(item[0], "")))[:examples]
    sources = [
        source
        for (new, bootcamp), old in pairs
        for source in (new_rows[(new, bootcamp)], source_prefixed(old_rows[(old, bootcamp)], label))
    ]
    return irregularity(
        "REF-FORMAT-CHANGED",
        f"provider:{provider_id}",
        sources,
        f"{len(renamed)} learner ref(s) lost their leading zeros since the {label} return "
        f"(the first {len(pairs)} at the rows cited): a spreadsheet saved the learner_ref "
        "column as numbers. They were matched to last month's refs and are not reported as "
        "restatements; format the column as Text before saving",
    )


def _joined(now: pd.DataFrame, before: pd.DataFrame) -> pd.DataFrame:
    """Last month's learners with this month's by key (``_merge`` says which were found)."""
    # only the columns compared: the merge and the records stay small
    now, before = now[_COMPARED], before[_COMPARED]
    return before.merge(now, on=_KEY, how="left", suffixes=("_before", "_now"), indicator=True)


def _learner_findings(row: _Record, label: str) -> list[Finding]:
    """The restatements of one joined learner (a record of :func:`_changed`)."""
    ref, bootcamp = row["learner_ref"], str(row["bootcamp_id"])
    old_source = source_prefixed(row["source_before"], label)
    if row["_merge"] == "left_only":
        return [
            irregularity(
                "RESTATED-DISAPPEARED",
                learner_entity(ref),
                [old_source],
                f"the learner on bootcamp {bootcamp} was in the {label} return and is "
                "not in this one",
                bootcamp,
            )
        ]
    sources = [row["source_now"], old_source]
    return [
        irregularity(rule_id, learner_entity(ref), sources, text, bootcamp)
        for rule_id, text in _date_changes(row)
    ]


def _changed(joined: pd.DataFrame) -> pd.DataFrame:
    """The joined learners that may be restated, in order: gone this month, a compared
    date set last month and not the same now, or a withdrawal and a new completion. The
    rest (most learners) cannot give a finding of :func:`_date_changes`, so they are not
    turned into records."""
    may = joined["_merge"].eq("left_only") | (
        joined["withdrawal_date_before"].notna()
        & joined["completion_date_before"].isna()
        & joined["completion_date_now"].notna()
    )
    for column in ("start_date", "m1_date", "withdrawal_date"):
        old, new = joined[f"{column}_before"], joined[f"{column}_now"]
        may |= old.notna() & ~old.eq(new)
    return joined[may.to_numpy(dtype=bool)]


def _date_changes(row: _Record) -> list[tuple[str, str]]:
    """(rule, message) for each restated date of one learner present in both months."""
    changes: list[tuple[str, str]] = []
    for column, rule_id, name in (
        ("start_date", "RESTATED-START-DATE", "start date"),
        ("m1_date", "RESTATED-M1-DATE", "M1 date"),
    ):
        old, new = row[f"{column}_before"], row[f"{column}_now"]
        if not is_blank(old) and (is_blank(new) or old != new):
            changes.append(
                (
                    rule_id,
                    f"{name} {iso(old, missing='blank')} last month is now {iso(new, missing='blank')}",
                )
            )
    old_w, new_w = row["withdrawal_date_before"], row["withdrawal_date_now"]
    was_withdrawn = not is_blank(old_w) and is_blank(row["completion_date_before"])
    completed_now = not is_blank(row["completion_date_now"])
    if was_withdrawn and completed_now:
        changes.append(
            (
                "RESTATED-WITHDRAWAL-TO-COMPLETION",
                f"withdrawn on {iso(old_w, missing='blank')} last month, now completed on "
                f"{iso(row['completion_date_now'], missing='blank')}",
            )
        )
    elif not is_blank(old_w) and (is_blank(new_w) or old_w != new_w):
        changes.append(
            (
                "RESTATED-WITHDRAWAL-DATE",
                f"withdrawal date {iso(old_w, missing='blank')} last month is now {iso(new_w, missing='blank')}",
            )
        )
    return changes


def payment_changes(
    now: pd.DataFrame, before: pd.DataFrame
) -> list[tuple[_PaymentKey, _Record, _Record | None]]:
    """RESTATED-PAYMENT-CHANGED / -REMOVED between two months' co-funding payments: each
    payment of ``before`` changed (with its partner of ``now``) or removed (None), with
    its key (employer, learner, bootcamp).

    Payments have no key, so within each (employer, learner, bootcamp) last month's
    payments are matched to this month's: first those identical in amount, date and
    evidence reference; then the rest by evidence reference, then in date order. A pair
    that differs is CHANGED; a previous payment left without a partner is REMOVED. New
    payments are not restatements.
    """
    changes: list[tuple[_PaymentKey, _Record, _Record | None]] = []
    if before.empty:
        return changes
    now_groups = _by_payment_key(now)
    for key, old_group in _by_payment_key(before).items():
        old_left, new_left = _drop_identical(old_group, now_groups.get(key, []))
        changes += [(key, old, new) for old, new in _pair_rest(old_left, new_left)]
    return changes


def _signature(row: Mapping[str, Any]) -> tuple[int, str, str]:
    """Amount in exact pence (:func:`kpitools.money.pence`), date and evidence ref."""
    evidence = "" if is_blank(row["evidence_ref"]) else str(row["evidence_ref"])
    return (pence(row["amount"]), iso(row["payment_date"], missing="blank"), evidence)


def _by_payment_key(payments: pd.DataFrame) -> dict[_PaymentKey, list[_Record]]:
    groups: dict[_PaymentKey, list[_Record]] = {}
    for row in payments.to_dict("records"):
        groups.setdefault(tuple(row[c] for c in _PAYMENT_KEY), []).append(row)
    return groups


def _drop_identical(old: list[_Record], new: list[_Record]) -> tuple[list[_Record], list[_Record]]:
    new_left = list(new)
    old_left: list[_Record] = []
    for row in old:
        match = next((i for i, n in enumerate(new_left) if _signature(n) == _signature(row)), None)
        if match is None:
            old_left.append(row)
        else:
            new_left.pop(match)
    return old_left, new_left


def _pair_rest(
    old_left: list[_Record], new_left: list[_Record]
) -> list[tuple[_Record, _Record | None]]:
    pairs: list[tuple[_Record, _Record | None]] = []
    unpaired: list[_Record] = []
    for row in old_left:
        evidence = _signature(row)[2]
        match = next(
            (i for i, n in enumerate(new_left) if evidence and _signature(n)[2] == evidence), None
        )
        if match is None:
            unpaired.append(row)
        else:
            pairs.append((row, new_left.pop(match)))
    new_left.sort(key=lambda n: n["payment_date"])
    for row in sorted(unpaired, key=lambda r: r["payment_date"]):
        pairs.append((row, new_left.pop(0) if new_left else None))
    return pairs


def _payment_finding(key: _PaymentKey, old: _Record, new: _Record | None, label: str) -> Finding:
    employer, ref, bootcamp = (str(k) for k in key)
    old_text = f"{pounds_text(pence(old['amount']))} on {iso(old['payment_date'], missing='blank')}"
    old_source = source_prefixed(old["source"], label)
    if new is None:
        return irregularity(
            "RESTATED-PAYMENT-REMOVED",
            learner_entity(ref),
            [old_source],
            f"payment of {old_text} by employer {employer} for the learner in the "
            f"{label} return is gone",
            bootcamp,
        )
    return irregularity(
        "RESTATED-PAYMENT-CHANGED",
        learner_entity(ref),
        [new["source"], old_source],
        f"payment by employer {employer} for the learner was {old_text} last month, "
        f"now {pounds_text(pence(new['amount']))} on "
        f"{iso(new['payment_date'], missing='blank')}",
        bootcamp,
    )
