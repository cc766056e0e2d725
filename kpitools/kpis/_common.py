"""Shared machinery of the KPIs: typed empty tables, the as_of view, bootcamp timing
and the step that turns a frame of cases into one KpiResult per bootcamp plus ``ALL``.

A KPI builds its *cases*, one per case of its population: a frame, or (cheaper for a
provider's few hundred rows) a mapping of equally long columns, a scalar standing for
the same value in every row:

``bootcamp_id``  the bootcamp of the case
``due``          the date the case falls due (``NaT`` when not yet known)
``passed``       True when the case meets the KPI (for a maximum-type KPI such as
                 drop-out: True when the case counts in the numerator)
``in_value``     True when the case counts in numerator/denominator (it has fallen due)

Cases that are not ``in_value`` only drive the status: a short case not yet due makes a
running KPI ``at_risk``; a short case past its own due date makes it ``off_track``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from kpitools.contract import EVENT_DATE, SOURCE_COLUMN, TABLES
from kpitools.kpis._status import max_status, min_status
from kpitools.model import Finding, KpiResult

ALL = "ALL"

_T = TypeVar("_T")

_DTYPES = {
    "date": "datetime64[ns]", "flag": "boolean", "money": "float64",
    "int": "Int64", "score": "Int64",
}



def empty_table(name: str) -> pd.DataFrame:
    """An empty validated frame of contract table ``name`` with the model's dtypes."""
    columns = {
        c.name: pd.Series(dtype=_DTYPES.get(c.kind, object)) for c in TABLES[name].columns
    }
    columns[SOURCE_COLUMN] = pd.Series(dtype=object)
    return pd.DataFrame(columns)


def table(tables: Mapping[str, pd.DataFrame], name: str) -> pd.DataFrame:
    """Table ``name`` from ``tables``; an absent table is empty (data contract)."""
    frame = tables.get(name)
    return empty_table(name) if frame is None else frame


class MeasuredTables(dict):
    """Tables as they stood at ``as_of`` (:func:`measured_tables`), with a cache.

    Several KPIs derive the same frames from the same tables (bootcamp timing, the
    outcome facts); the cache lets them be built once per provider and as_of. The frames
    are shared read-only (pandas copy-on-write keeps every caller's changes its own).
    """

    def __init__(self, tables: Mapping[str, pd.DataFrame], as_of: date) -> None:
        super().__init__(tables)
        self.as_of = as_of
        self.derived: dict[Hashable, Any] = {}


def derived(tables: Mapping[str, pd.DataFrame], key: Hashable, build: Callable[[], _T]) -> _T:
    """``build()``, computed once per :class:`MeasuredTables` and ``key``.

    Plain mappings carry no cache: ``build()`` is called every time.
    """
    cache = getattr(tables, "derived", None)
    if cache is None:
        return build()
    if key not in cache:
        cache[key] = build()
    return cache[key]


def measured_tables(
    tables: Mapping[str, pd.DataFrame], as_of: date
) -> MeasuredTables:
    """The tables as they stood at ``as_of``: what happened later is left out.

    Learners who start after ``as_of`` are dropped and their later milestone dates are
    blanked; rows of the event tables dated after ``as_of`` are dropped. These records
    are reported separately as FUTURE-DATED (:mod:`kpitools.checks.future_dated`).
    Inputs are never changed. Measuring tables already measured at the same ``as_of``
    changes nothing, so they are returned as they are (with their cache).
    """
    if isinstance(tables, MeasuredTables) and tables.as_of == as_of:
        return tables
    limit = pd.Timestamp(as_of)
    result = {name: table(tables, name) for name in TABLES}
    learners = _on_or_before(result["learners"], "start_date", limit)
    blanks = {
        column: learners[column].where(learners[column] <= limit)
        for column in ("m1_date", "withdrawal_date", "withdrawal_reported_date",
                       "completion_date", "new_role_evidence_date")
        if (learners[column] > limit).any()
    }
    result["learners"] = learners.assign(**blanks) if blanks else learners
    for name, column in EVENT_DATE.items():
        result[name] = _on_or_before(result[name], column, limit)
    interviews = result["interviews"]
    if (interviews["interview_date"] > limit).any():
        result["interviews"] = interviews.assign(
            interview_date=interviews["interview_date"].where(
                interviews["interview_date"] <= limit))
    return MeasuredTables(result, as_of)


def _on_or_before(frame: pd.DataFrame, column: str, limit: pd.Timestamp) -> pd.DataFrame:
    """The rows of ``frame`` whose ``column`` is on or before ``limit`` (blank: left out)."""
    keep = frame[column] <= limit
    return frame if keep.all() else frame.loc[keep]


def wants_interview(learners: pd.DataFrame) -> pd.Series:
    """The stated aim, with the contract default where blank (Y independent, N others)."""
    default = learners["learner_type"].eq("independent")
    return learners["wants_interview"].astype("boolean").fillna(default).astype(bool)


def bootcamp_timing(tables: Mapping[str, pd.DataFrame], as_of: date) -> pd.DataFrame:
    """Per bootcamp: when its milestones began and whether it is over at ``as_of``.

    Columns: ``end_date``, ``first_m1``, ``first_m2``, ``finished`` (every cohort learner
    has completed or withdrawn, or ``as_of`` is past ``end_date``) and ``finish_date``
    (the last completion or withdrawal when all are done, else ``end_date``).
    ``tables`` must already be :func:`measured_tables`; the frame is built once per
    measured tables and ``as_of``, and shared.
    """
    return derived(tables, ("bootcamp_timing", as_of), lambda: _bootcamp_timing(tables, as_of))


def _bootcamp_timing(tables: Mapping[str, pd.DataFrame], as_of: date) -> pd.DataFrame:
    bootcamps = table(tables, "bootcamps").drop_duplicates("bootcamp_id")
    timing = bootcamps.set_index("bootcamp_id")[["end_date"]].sort_index()
    learners = table(tables, "learners")
    # A provider has a handful of bootcamps: one numpy mask each beats a groupby.
    row = timing.index.get_indexer(learners["bootcamp_id"])
    m1 = learners["m1_date"].to_numpy()
    completion = learners["completion_date"].to_numpy()
    last = learners["completion_date"].fillna(learners["withdrawal_date"]).to_numpy()
    in_cohort = ~np.isnat(m1)
    still_open = in_cohort & np.isnat(last)
    first_m1, first_m2, last_finish, all_done = [], [], [], []
    for position in range(len(timing)):
        mine = row == position
        first_m1.append(_earliest(m1[mine & in_cohort]))
        first_m2.append(_earliest(completion[mine & ~np.isnat(completion)]))
        cohort = mine & in_cohort
        all_done.append(bool(cohort.any() and not still_open[mine].any()))
        last_finish.append(last[cohort].max() if all_done[-1] else np.datetime64("NaT"))
    all_done = np.array(all_done, dtype=bool)
    end = timing["end_date"]
    return timing.assign(
        first_m1=np.array(first_m1, dtype=m1.dtype),
        first_m2=np.array(first_m2, dtype=completion.dtype),
        finished=all_done | (end < pd.Timestamp(as_of)).to_numpy(),
        finish_date=pd.Series(np.array(last_finish, dtype=last.dtype),
                              index=timing.index).where(all_done, end),
    )


def _earliest(dates: np.ndarray) -> np.datetime64:
    """The earliest of ``dates`` (all known), or NaT when there are none."""
    return dates.min() if len(dates) else np.datetime64("NaT")


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
    """

    kpi: str
    target: float | None = 1.0
    target_kind: str = "min"
    stage: str = ""
    start_column: str = "first_m1"
    lag_months: int = 0
    amber_fraction: float = 0.8


@lru_cache(maxsize=4096)
def _months_after(day: pd.Timestamp, months: int) -> pd.Timestamp:
    """``day`` plus calendar ``months`` (NaT stays NaT); remembered, as each KPI asks."""
    return day + pd.DateOffset(months=months)


Cases = pd.DataFrame | Mapping[str, Any]
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
) -> list[KpiResult]:
    """One KpiResult per bootcamp of ``timing`` (sorted) and one for ``ALL`` (last).

    A bootcamp's stage has begun when ``measure.start_column`` is on or before as_of or
    the bootcamp has ended; its target is due when the bootcamp is over and
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
    """
    today = pd.Timestamp(as_of)
    # Per bootcamp as plain values: a provider has a handful, so scalars beat Series here.
    started = [bool(first <= today or end < today) for first, end in
               zip(timing[measure.start_column].tolist(), timing["end_date"].tolist(),
                   strict=True)]
    due_dates = [_months_after(finish, measure.lag_months)
                 for finish in timing["finish_date"].tolist()]
    target_due = [bool(finished and due <= today)
                  for finished, due in zip(timing["finished"].tolist(), due_dates, strict=True)]
    per_bootcamp = _counts(cases, today)
    by_bootcamp: dict[str, list[Finding]] = {}
    for finding in sorted(findings, key=_finding_key):
        by_bootcamp.setdefault(finding.bootcamp_id, []).append(finding)
    notes = notes or {}
    results = []
    for position, bootcamp_id in enumerate(timing.index):
        counts = per_bootcamp.get(bootcamp_id, _ZERO)
        results.append(_result(
            measure, bootcamp_id, counts, as_of=as_of, started=started[position],
            target_due=target_due[position], due_date=due_dates[position],
            findings=by_bootcamp.pop(bootcamp_id, []), notes=notes.get(bootcamp_id, ()),
        ))
    pooled = _counts(cases if all_cases is None else all_cases, today, pool=True)
    leftover = [f for group in by_bootcamp.values() for f in group]
    known_dues = [due for due in due_dates if not pd.isna(due)]
    results.append(_result(
        measure, ALL, pooled.get(ALL, _ZERO), as_of=as_of, started=any(started),
        target_due=bool(target_due) and all(target_due),
        due_date=max(known_dues) if known_dues else pd.NaT,
        findings=leftover, notes=notes.get(ALL, ()),
    ))
    return results


_ZERO = {"numerator": 0, "denominator": 0, "overdue_short": 0, "open_short": 0}


def _counts(cases: Cases, today: pd.Timestamp, *,
            pool: bool = False) -> dict[str, dict[str, int]]:
    """The four counts of ``cases`` per bootcamp (every case under ``ALL`` when pooled).

    Cases without a bootcamp_id are left out, as a groupby would.
    """
    size = _size(cases)
    passed = _bools(cases["passed"], size)
    in_value = _bools(cases["in_value"], size)
    fallen_due = _fallen_due(cases["due"], size, today)
    flags = np.stack([in_value & passed, in_value, ~passed & fallen_due, ~passed & ~fallen_due])
    if pool:
        if not size:
            return {}
        codes, keys = np.zeros(size, dtype=np.intp), [ALL]
    else:
        ids = cases["bootcamp_id"]
        codes, uniques = pd.factorize(_objects(ids, size))
        keys = [str(key) for key in uniques]
        flags = flags[:, codes >= 0]
        codes = codes[codes >= 0]
    sums = [np.bincount(codes, weights=row, minlength=len(keys)) for row in flags]
    return {key: {name: int(total[i]) for name, total in zip(_ZERO, sums, strict=True)}
            for i, key in enumerate(keys)}


def concat_cases(*parts: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Several mappings of case columns as one (scalars repeated over their part)."""
    sizes = [_size(part) for part in parts]

    def column(name: str, convert: Callable[[Any, int], np.ndarray]) -> np.ndarray:
        return np.concatenate([convert(part[name], size)
                               for part, size in zip(parts, sizes, strict=True)])

    return {"bootcamp_id": column("bootcamp_id", _objects), "due": column("due", _dates),
            "passed": column("passed", _bools), "in_value": column("in_value", _bools)}


def _size(cases: Cases) -> int:
    """The number of cases: the length of any column that is not a scalar."""
    if isinstance(cases, pd.DataFrame):
        return len(cases)
    return next(len(cases[c]) for c in _CASE_COLUMNS if np.ndim(cases[c]))


_CASE_COLUMNS = ("bootcamp_id", "due", "passed", "in_value")


def _objects(column: Any, size: int) -> np.ndarray:
    return np.full(size, column, dtype=object) if np.ndim(column) == 0 else np.asarray(
        column, dtype=object)


def _dates(column: Any, size: int) -> np.ndarray:
    if np.ndim(column) == 0:
        return np.full(size, np.datetime64("NaT") if pd.isna(column) else column,
                       dtype="datetime64[ns]")
    return np.asarray(column, dtype="datetime64[ns]")


def _bools(column: Any, size: int) -> np.ndarray:
    """A cases column as booleans (truthiness, as ``astype(bool)``); a scalar repeats."""
    if np.ndim(column) == 0:
        return np.full(size, bool(column))
    return np.asarray(column).astype(bool)


def _fallen_due(due: Any, size: int, today: pd.Timestamp) -> np.ndarray:
    """Whether each case's due date is on or before ``today`` (never when unknown)."""
    return _dates(due, size) <= np.datetime64(today.value, "ns")


def _result(measure: Measure, bootcamp_id: str, counts: dict[str, int], *, as_of: date,
            started: bool, target_due: bool, due_date: pd.Timestamp,
            findings: list[Finding], notes: tuple[str, ...]) -> KpiResult:
    if measure.target_kind == "max":
        status = max_status(
            started=started, target_due=target_due, numerator=counts["numerator"],
            denominator=counts["denominator"], limit=measure.target,
            amber_fraction=measure.amber_fraction,
        )
    else:
        status = min_status(
            started=started, target_due=target_due, numerator=counts["numerator"],
            denominator=counts["denominator"], target=measure.target,
            overdue_short=counts["overdue_short"], open_short=counts["open_short"],
        )
    return KpiResult(
        kpi=measure.kpi, bootcamp_id=str(bootcamp_id), numerator=counts["numerator"],
        denominator=counts["denominator"], status=status, as_of=as_of, stage=measure.stage,
        target=measure.target, target_kind=None if measure.target is None else measure.target_kind,
        due_date=None if pd.isna(due_date) else due_date.date(),
        exceptions=tuple(findings), notes=tuple(notes),
    )


def _finding_key(finding: Finding) -> tuple[str, ...]:
    return (finding.bootcamp_id, finding.rule, finding.entity, finding.source)


def learner_findings(
    frame: pd.DataFrame, *, kpi: str, rule: str, severity: str, messages: Iterable[str],
    sources: Iterable[str] | None = None,
) -> list[Finding]:
    """One Finding per row of ``frame`` (learner_ref, bootcamp_id, source columns).

    Messages must never hold names, ULNs or contact details.
    """
    sources = frame[SOURCE_COLUMN] if sources is None else sources
    return [
        Finding(kpi=kpi, rule=rule, severity=severity, entity=f"learner:{ref}",
                source=str(source), message=message, bootcamp_id=str(bootcamp))
        for ref, bootcamp, source, message in zip(
            frame["learner_ref"], frame["bootcamp_id"], sources, messages, strict=True
        )
    ]


def learner_key(frame: pd.DataFrame) -> pd.Series:
    """``learner_ref`` and ``bootcamp_id`` as one value per row, to group and look up by.

    Grouping by one column is much cheaper than by two; validated identifiers cannot hold
    ``;`` (BAD-ID), so the joined text is unambiguous. A blank part gives a blank key.
    """
    return frame["learner_ref"] + ";" + frame["bootcamp_id"]


def per_learner(key: pd.Series, values: pd.Series,
                how: str | list[str]) -> pd.Series | dict[str, pd.Series]:
    """``values`` aggregated per learner ``key`` (:func:`learner_key`); blank keys left out.

    ``how`` names a groupby method (``"sum"``, ``"max"``, ``"first"`` ...); for a list of
    names, one Series per name, by name, from a single grouping.
    """
    grouped = values.groupby(key, sort=False)
    if isinstance(how, str):
        return getattr(grouped, how)()
    return {name: getattr(grouped, name)() for name in how}


def lookup(keys: pd.Series, per: pd.Series) -> pd.Series:
    """``per`` (indexed by learner key) for each of ``keys``, as a left join would give.

    Unlike ``Series.map`` it keeps the dtype of an empty ``per`` (dates stay dates).
    """
    return per.reindex(keys.to_numpy()).set_axis(keys.index)


def iso(value: object) -> str:
    """A Timestamp as ``YYYY-MM-DD`` (blank when missing), for messages."""
    return "" if value is None or pd.isna(value) else pd.Timestamp(value).date().isoformat()


def join_sources(frame: pd.DataFrame, key: list[str]) -> pd.Series:
    """The ``source`` of every row of ``frame`` joined by ``"; "`` per ``key``."""
    return frame.groupby(key, sort=False)[SOURCE_COLUMN].agg(lambda s: "; ".join(map(str, s)))
