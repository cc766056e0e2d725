"""Turning a KPI's cases into one KpiResult per bootcamp plus ``ALL``: the targets and
monitoring stages (:class:`Measure`), the counting and the statuses.

The shape of *cases* is described in :mod:`kpitools.kpis.common`; the KPIs import
these names from here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from kpitools.kpis._status import max_status, min_status
from kpitools.model import MEMBER_COLUMNS, Finding, KpiMembers, KpiResult, no_members
from kpitools.returns.period import provider_of, providers_of, scope, unscoped

ALL = "ALL"


def all_of(provider_id: str) -> str:
    """The ``ALL`` of one provider: ``ALL`` itself for one provider's tables, scoped
    (:mod:`kpitools.returns.period`) when the tables hold a whole period."""
    return scope(provider_id, ALL)


def is_all(bootcamp_id: object) -> bool:
    """True for ``ALL`` and for a provider's scoped ``ALL`` (:func:`all_of`)."""
    return isinstance(bootcamp_id, str) and unscoped(bootcamp_id) == ALL


@dataclass(frozen=True)
class Measure:
    """How a KPI is judged: its target and when its stage begins and falls due.

    Attributes:
        kpi: KPI name.
        stage: employer-engagement stage, or "".
        target: target fraction (minimum or maximum), or None when only reported.
        target_kind: ``"min"`` or ``"max"``.
        start_column: timing column at which the monitoring stage begins.
        lag_months: calendar months after the bootcamp is over until the target is due.
        amber_fraction: for maximum targets, share of the limit above which at risk.
        counted: why a member counts in the numerator, in the rule's words.
        not_counted: why a member of the population does not.
    """

    kpi: str
    target: float | None = 1.0
    target_kind: str = "min"
    stage: str = ""
    start_column: str = "first_m1"
    lag_months: int = 0
    amber_fraction: float = 0.8
    counted: str = "meets the KPI"
    not_counted: str = "does not meet the KPI"


@lru_cache(maxsize=4096)
def _months_after(day: pd.Timestamp, months: int) -> pd.Timestamp:
    """``day`` plus calendar ``months`` (NaT stays NaT); remembered, as each KPI asks."""
    return day + pd.DateOffset(months=months)


Cases: TypeAlias = pd.DataFrame | Mapping[str, Any]
"""A cases frame, or a mapping of its columns (see the module docstring)."""


def summarise(
    measure: Measure,
    cases: Cases,
    timing: pd.DataFrame,
    *,
    as_of: date,
    findings: Iterable[Finding] = (),
    all_cases: Cases | None = None,
    notes: Mapping[str, tuple[str, ...]] | None = None,
    last_due: Mapping[str, pd.Timestamp] | pd.Series | None = None,
    excluded: Cases | None = None,
) -> list[KpiResult]:
    """One KpiResult per bootcamp of ``timing`` (sorted) and one for ``ALL`` (last).

    Tables of a whole period (identifiers scoped, :mod:`kpitools.returns.period`) give
    one ``ALL`` per provider of ``timing`` (:func:`all_of`), each summing only its own
    provider's cases, findings and notes; a pooled case or a finding names its provider
    by its (scoped) bootcamp_id, or by its provider's ``ALL``.

    A bootcamp's stage has begun when ``measure.start_column`` is on or before as_of,
    the bootcamp has ended, or any of its cases has fallen due (kpi-rules.md, "Stage
    started": a failed new-skills case of a completer without M1 opens the stage though
    the bootcamp has no first M1); its target is due when the bootcamp is over and
    ``measure.lag_months`` have passed since it finished.

    Args:
        measure: the KPI, its target and timing.
        cases: the cases described in the module docstring.
        timing: :func:`bootcamp_timing` of the measured tables.
        as_of: the measurement date.
        findings: the failing cases; each goes to its bootcamp's result, or to ALL when
            its ``bootcamp_id`` is ``ALL`` (employer-level findings).
        all_cases: replaces the pooled cases for ``ALL`` when a case may not be counted
            twice (an employer linked to several bootcamps counts once).
        notes: plain-language notes per bootcamp id (and ``ALL``).
        last_due: when given, a finished bootcamp's target is due at its finish or at
            the last date any case of it (present or still possible) falls due,
            whichever is later, instead of ``lag_months`` after the finish; a bootcamp
            absent from it has no such case and is due at its finish.
        excluded: the cases the rule names and leaves out (``bootcamp_id``, ``member``,
            ``source``, ``reason``): members of the figure outside its population,
            counted nowhere.
    """
    today = pd.Timestamp(as_of)
    per_bootcamp = _counts(cases, today)
    # Per bootcamp as plain values: a provider has a handful, so scalars beat Series here.
    started = [
        bool(first <= today or end < today)
        or per_bootcamp.get(str(bootcamp_id), _ZERO)["fallen_due"] > 0
        for bootcamp_id, first, end in zip(
            timing.index,
            timing[measure.start_column].tolist(),
            timing["end_date"].tolist(),
            strict=True,
        )
    ]
    due_dates = [
        _months_after(finish, measure.lag_months) for finish in timing["finish_date"].tolist()
    ]
    if last_due is not None:
        due_dates = [
            _known_due(finish, last_due.get(bootcamp_id)) if finished else due
            for bootcamp_id, finish, finished, due in zip(
                timing.index,
                timing["finish_date"].tolist(),
                timing["finished"].tolist(),
                due_dates,
                strict=True,
            )
        ]
    target_due = [
        bool(finished and due <= today)
        for finished, due in zip(timing["finished"].tolist(), due_dates, strict=True)
    ]
    columns = _member_columns(measure, cases, excluded, today)
    members_of = _members(columns)
    by_bootcamp: dict[str, list[Finding]] = {}
    for finding in sorted(findings, key=_finding_key):
        by_bootcamp.setdefault(finding.bootcamp_id, []).append(finding)
    notes = notes or {}
    results = []
    for position, bootcamp_id in enumerate(timing.index):
        counts = per_bootcamp.get(bootcamp_id, _ZERO)
        results.append(
            _result(
                measure,
                bootcamp_id,
                counts,
                as_of=as_of,
                started=started[position],
                target_due=target_due[position],
                due_date=due_dates[position],
                findings=by_bootcamp.pop(bootcamp_id, []),
                notes=notes.get(bootcamp_id, ()),
                members=members_of.get(bootcamp_id, no_members()),
            )
        )
    pooled = _counts(cases if all_cases is None else all_cases, today, pool=True)
    pooled_members = _members(
        columns if all_cases is None else _member_columns(measure, all_cases, excluded, today),
        pool=True,
    )
    providers = providers_of(timing.index)
    scopes = list(dict.fromkeys(providers.tolist())) or [""]
    leftover: dict[str, list[Finding]] = {}
    for finding in (f for group in by_bootcamp.values() for f in group):
        leftover.setdefault(provider_of(finding.bootcamp_id), []).append(finding)
    if set(leftover) - set(scopes):
        raise ValueError(
            f"{measure.kpi}: findings of no provider of the tables "
            f"({sorted(set(leftover) - set(scopes))})"
        )
    bootcamps_of: dict[str, list[int]] = {}  # each provider's bootcamps, by position
    for position, name in enumerate(providers.tolist()):
        bootcamps_of.setdefault(name, []).append(position)
    for provider in scopes:
        mine = bootcamps_of.get(provider, [])
        dues = [due_dates[p] for p in mine]
        known_dues = [due for due in dues if not pd.isna(due)]
        due_now = [target_due[p] for p in mine]
        results.append(
            _result(
                measure,
                all_of(provider),
                pooled.get(all_of(provider), _ZERO),
                as_of=as_of,
                started=any(started[p] for p in mine),
                target_due=bool(due_now) and all(due_now),
                due_date=max(known_dues) if known_dues else pd.NaT,
                findings=leftover.get(provider, []),
                notes=notes.get(all_of(provider), ()),
                members=pooled_members.get(all_of(provider), no_members()),
            )
        )
    return results


def _known_due(finish: pd.Timestamp, last_case_due: object) -> pd.Timestamp:
    """The later of the finish and the last case's due date (the finish when none)."""
    if last_case_due is None or pd.isna(last_case_due):
        return finish
    return max(finish, pd.Timestamp(last_case_due))


_ZERO = {
    "numerator": 0,
    "denominator": 0,
    "overdue_short": 0,
    "open_short": 0,
    "unverified": 0,
    "fallen_due": 0,
}


def _flags(cases: Cases, today: pd.Timestamp) -> dict[str, np.ndarray]:
    """How each case counts: the one judgement behind a figure's counts and its members.

    An unverified case (the optional ``unverified`` column) is neither passed nor short:
    it is left out of every count but ``unverified``, which counts those in the value.
    """
    size = _size(cases)
    passed = _bools(cases["passed"], size)
    in_value = _bools(cases["in_value"], size)
    fallen_due = _fallen_due(cases["due"], size, today)
    unverified = (
        _bools(cases["unverified"], size) if "unverified" in cases else np.zeros(size, bool)
    )
    judged = in_value & ~unverified
    short = ~passed & ~unverified
    return {
        "numerator": judged & passed,
        "denominator": judged,
        "overdue_short": short & fallen_due,
        "open_short": short & ~fallen_due,
        "unverified": in_value & unverified,
        "fallen_due": fallen_due,
    }


def _groups(cases: Cases, size: int, *, pool: bool) -> tuple[np.ndarray, list[str]]:
    """Each case's group (a code, -1 for none) and the groups' keys: its bootcamp, or
    pooled the ``ALL`` of its provider (:func:`all_of`). Cases without a bootcamp_id
    have no bootcamp group, as a groupby would."""
    ids = _objects(cases["bootcamp_id"], size)
    if pool:
        codes, uniques = pd.factorize(providers_of(ids))
        return codes, [all_of(provider) for provider in uniques]
    codes, uniques = pd.factorize(ids)
    return codes, [str(key) for key in uniques]


def _counts(cases: Cases, today: pd.Timestamp, *, pool: bool = False) -> dict[str, dict[str, int]]:
    """The counts of ``cases`` per bootcamp (:data:`_ZERO`, from :func:`_flags`);
    pooled, every case under the ``ALL`` of its provider (:func:`all_of`: ``ALL`` for
    one provider's cases)."""
    size = _size(cases)
    if pool and not size:
        return {}
    flagged = _flags(cases, today)
    flags = np.stack([flagged[name] for name in _ZERO])
    codes, keys = _groups(cases, size, pool=pool)
    flags = flags[:, codes >= 0]
    codes = codes[codes >= 0]
    sums = [np.bincount(codes, weights=row, minlength=len(keys)) for row in flags]
    return {
        key: {name: int(total[i]) for name, total in zip(_ZERO, sums, strict=True)}
        for i, key in enumerate(keys)
    }


UNVERIFIED_REASON = (
    "unverified: the evidence comes from the ILR, which does not say the role type or "
    "whether the skills match (left out of numerator and denominator until verified)"
)
NOT_YET_DUE_REASON = "not yet due: counted once it falls due"


def _member_columns(
    measure: Measure, cases: Cases, excluded: Cases | None, today: pd.Timestamp
) -> dict[str, np.ndarray]:
    """Every member of the figures of ``cases`` (:class:`~kpitools.model.KpiMembers`'
    columns and ``bootcamp_id``), from the same :func:`_flags` as the counts; then the
    ``excluded`` cases."""
    size = _size(cases)
    flags = _flags(cases, today)
    # the first that holds: in the numerator, in the population, unverified, else not due
    reason = np.full(size, NOT_YET_DUE_REASON, dtype=object)
    reason[flags["unverified"]] = UNVERIFIED_REASON
    reason[flags["denominator"]] = measure.not_counted
    reason[flags["numerator"]] = measure.counted
    if "reason" in cases:
        given = _objects(cases["reason"], size)
        short = flags["denominator"] & ~flags["numerator"] & ~pd.isna(given)
        reason[short] = given[short]
    parts = [
        {
            "bootcamp_id": _objects(cases["bootcamp_id"], size),
            "member": _objects(cases["member"], size),
            "source": _objects(cases["source"], size),
            "in_population": flags["denominator"],
            "in_numerator": flags["numerator"],
            "reason": reason,
        }
    ]
    if excluded is not None and (left_out := _size(excluded)):
        parts.append(
            {
                "bootcamp_id": _objects(excluded["bootcamp_id"], left_out),
                "member": _objects(excluded["member"], left_out),
                "source": _objects(excluded["source"], left_out),
                "in_population": np.zeros(left_out, bool),
                "in_numerator": np.zeros(left_out, bool),
                "reason": _objects(excluded["reason"], left_out),
            }
        )
    if len(parts) == 1:
        return parts[0]
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


def _members(columns: Mapping[str, np.ndarray], *, pool: bool = False) -> dict[str, KpiMembers]:
    """The members of each figure (:class:`~kpitools.model.KpiMembers`) of
    :func:`_member_columns`, by bootcamp or pooled by provider as :func:`_counts`
    groups them. Each figure's members keep the order of its cases, which a provider's
    tables give alike measured alone or stacked in a period."""
    codes, keys = _groups(columns, len(columns["member"]), pool=pool)
    order = np.argsort(codes, kind="stable")  # each figure's members in case order
    order = order[codes[order] >= 0]
    codes = codes[order]
    bounds = np.searchsorted(codes, np.arange(len(keys) + 1)).tolist()
    chosen = {name: columns[name][order] for name in MEMBER_COLUMNS}
    return {
        key: KpiMembers(
            **{name: chosen[name][bounds[i] : bounds[i + 1]] for name in MEMBER_COLUMNS}
        )
        for i, key in enumerate(keys)
    }


def concat_cases(*parts: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Several mappings of case columns as one (scalars repeated over their part); the
    optional ``unverified`` and ``reason`` columns are False and blank where a part has
    none."""
    sizes = [_size(part) for part in parts]

    def column(
        name: str, convert: Callable[[Any, int], np.ndarray], absent: Any = None
    ) -> np.ndarray:
        return np.concatenate(
            [
                convert(part[name] if name in part else absent, size)
                for part, size in zip(parts, sizes, strict=True)
            ]
        )

    joined = {
        "bootcamp_id": column("bootcamp_id", _objects),
        "member": column("member", _objects),
        "source": column("source", _objects),
        "due": column("due", _dates),
        "passed": column("passed", _bools),
        "in_value": column("in_value", _bools),
    }
    if any("unverified" in part for part in parts):
        joined["unverified"] = column("unverified", _bools, False)
    if any("reason" in part for part in parts):
        joined["reason"] = column("reason", _objects)
    return joined


def _size(cases: Cases) -> int:
    """The number of cases: the length of any column that is not a scalar."""
    if isinstance(cases, pd.DataFrame):
        return len(cases)
    return next(len(column) for column in cases.values() if np.ndim(column))


def _objects(column: Any, size: int) -> np.ndarray:
    return (
        np.full(size, column, dtype=object)
        if np.ndim(column) == 0
        else np.asarray(column, dtype=object)
    )


def _dates(column: Any, size: int) -> np.ndarray:
    if np.ndim(column) == 0:
        return np.full(
            size, np.datetime64("NaT") if pd.isna(column) else column, dtype="datetime64[ns]"
        )
    return np.asarray(column, dtype="datetime64[ns]")


def _bools(column: Any, size: int) -> np.ndarray:
    """A cases column as booleans (truthiness, as ``astype(bool)``); a scalar repeats."""
    if np.ndim(column) == 0:
        return np.full(size, bool(column))
    return np.asarray(column).astype(bool)


def _fallen_due(due: Any, size: int, today: pd.Timestamp) -> np.ndarray:
    """Whether each case's due date is on or before ``today`` (never when unknown)."""
    return _dates(due, size) <= np.datetime64(today.value, "ns")


def _result(
    measure: Measure,
    bootcamp_id: str,
    counts: dict[str, int],
    *,
    as_of: date,
    started: bool,
    target_due: bool,
    due_date: pd.Timestamp,
    findings: list[Finding],
    notes: tuple[str, ...],
    members: KpiMembers,
) -> KpiResult:
    if measure.target_kind == "max":
        status = max_status(
            started=started,
            target_due=target_due,
            numerator=counts["numerator"],
            denominator=counts["denominator"],
            limit=measure.target,
            amber_fraction=measure.amber_fraction,
        )
    else:
        status = min_status(
            started=started,
            target_due=target_due,
            numerator=counts["numerator"],
            denominator=counts["denominator"],
            target=measure.target,
            overdue_short=counts["overdue_short"],
            open_short=counts["open_short"],
        )
    return KpiResult(
        kpi=measure.kpi,
        bootcamp_id=str(bootcamp_id),
        numerator=counts["numerator"],
        denominator=counts["denominator"],
        status=status,
        as_of=as_of,
        stage=measure.stage,
        target=measure.target,
        target_kind=None if measure.target is None else measure.target_kind,
        due_date=None if pd.isna(due_date) else due_date.date(),
        exceptions=tuple(findings),
        notes=tuple(notes),
        unverified=counts["unverified"],
        open_short=counts["open_short"],
        members=members,
    )


def _finding_key(finding: Finding) -> tuple[str, ...]:
    return (finding.bootcamp_id, finding.rule, finding.entity, finding.source)
