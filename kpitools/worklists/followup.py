"""The exceptions register as a living worklist: stable ids, carried follow-up, changes.

An auditor works the register month after month. Each exception gets an id that stays the
same while the same rule keeps firing for the same entity in the same bootcamp, so that
what the auditor wrote last month (``status``, ``owner``, ``response``,
``response_date``) is carried to this month's row, ``first_seen`` keeps the first month
and ``change`` says whether the exception is ``new`` or ``recurring``. Last month's
exceptions that no longer occur are listed as resolved.

The follow-up is an input of the audit (:func:`provider_followup`, called by the audit
engine, :mod:`kpitools.audit`, when given the provider's :class:`RegisterTrail`, once
every finding is known): last month's register is read back by :func:`read_register`;
the rest are pure functions on frames. Writing the register is :mod:`kpitools.outputs.register`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from kpitools import layout
from kpitools.calendar import previous_period
from kpitools.errors import PackError
from kpitools.model import NEW, RECURRING, SEVERITIES, Finding, FollowUp, findings_frame
from kpitools.privacy.pseudonym import Pseudonymiser

log = logging.getLogger(__name__)

EXCEPTIONS_SHEET = "Exceptions"  # the register's sheet of open exceptions, read back next month
# the register's sheet of cases reported for information (the pack points to it)
INFORMATIONAL_SHEET = "CP no outcome (info)"
REGISTER_COLUMNS: tuple[str, ...] = (
    "exception_id",
    "rule",
    "severity",
    "kpi",
    "bootcamp_id",
    "entity",
    "learner_ref",
    "source",
    "message",
    "first_seen",
    "age_days",
    "change",
    "status",
    "owner",
    "response",
    "response_date",
)
FOLLOW_UP_STATUSES: tuple[str, ...] = ("open", "queried", "resolved", "accepted")
RESOLVED_COLUMNS: tuple[str, ...] = (
    "exception_id",
    "rule",
    "severity",
    "kpi",
    "bootcamp_id",
    "entity",
    "learner_ref",
    "source",
    "message",
    "first_seen",
    "last_seen",
    "status",
    "owner",
    "response",
    "response_date",
)
# What one exception is: a rule firing for an entity in a bootcamp (several findings of
# the same rule for the same entity and bootcamp, e.g. two FUTURE-DATED payments, are one
# exception to follow up, their sources and messages joined).
IDENTITY = ("rule", "id_entity", "bootcamp_id")
_JOIN = "; "


def exception_id(provider_id: str, rule: str, entity: str, bootcamp_id: str) -> str:
    """The stable id of an exception: the same provider, rule, entity and bootcamp always
    give the same id (``entity`` is the keyed form, ``learner:L-…``, so the id reveals no
    learner ref).

    >>> exception_id("P001", "DUP-ROW", "learner:L-0a1b2c3d4e", "B1")
    'EX-DF5E7A2A6CBD'
    """
    text = "\x1f".join((provider_id, rule, entity, bootcamp_id))
    return "EX-" + hashlib.sha256(text.encode()).hexdigest()[:12].upper()


def _joined(values: pd.Series) -> str:
    seen = dict.fromkeys(str(v) for v in values if isinstance(v, str) and v)
    return _JOIN.join(seen)


def group_exceptions(findings: pd.DataFrame, provider_id: str) -> pd.DataFrame:
    """One row per exception with its id, from finding rows.

    Args:
        findings: rows with the ``exceptions.csv`` columns as shown, plus
            ``learner_ref`` (the provider's own ref, blank for non-learner entities) and
            ``id_entity`` (the keyed entity the id is made from).
        provider_id: the provider.

    Returns:
        Columns ``exception_id``, ``rule``, ``severity``, ``kpi``, ``bootcamp_id``,
        ``entity``, ``learner_ref``, ``source``, ``message`` (sources and messages of the
        findings joined with ``; ``), in order of first appearance.
    """
    columns = ["exception_id", *REGISTER_COLUMNS[1:9]]
    if findings.empty:
        return pd.DataFrame(columns=columns)
    grouped = (
        findings.groupby(list(IDENTITY), sort=False, dropna=False)
        .agg(
            severity=("severity", "first"),
            kpi=("kpi", "first"),
            entity=("entity", "first"),
            learner_ref=("learner_ref", "first"),
            source=("source", _joined),
            message=("message", _joined),
        )
        .reset_index()
    )
    ids = [
        exception_id(provider_id, r, str(e), str(b))
        for r, e, b in zip(
            grouped["rule"], grouped["id_entity"], grouped["bootcamp_id"], strict=True
        )
    ]
    return grouped.assign(exception_id=ids)[columns]


def to_date(value: object) -> date | None:
    """A date cell as an auditor may leave it: a date, a datetime or ISO text."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def follow_up(
    findings: pd.DataFrame,
    *,
    provider_id: str,
    as_of: date,
    previous: pd.DataFrame | None = None,
    previous_period: str = "",
    previous_where: str = "",
) -> FollowUp:
    """This month's register rows, with last month's follow-up carried over.

    Args:
        findings: finding rows (see :func:`group_exceptions`).
        provider_id: the provider.
        as_of: this month's measurement date (``first_seen`` of new exceptions, and the
            date ages are counted to).
        previous: the previous register's exceptions as the auditor left them (columns
            by name, at least ``exception_id``), or None when there is none.
        previous_period: the previous period (``last_seen`` of resolved exceptions).
        previous_where: where the previous register was looked for (for the notes).

    Returns:
        The :class:`FollowUp`: for an exception whose id was in the previous register,
        ``status``, ``owner``, ``response`` and ``response_date`` are carried over,
        ``first_seen`` is kept and ``change`` is ``recurring``; otherwise ``status`` is
        ``open``, ``first_seen`` is ``as_of`` and ``change`` is ``new``. ``age_days`` is
        the days from ``first_seen`` to ``as_of``.
    """
    current = group_exceptions(findings, provider_id)
    notes: list[str] = []
    before = _previous_rows(previous)
    if previous is None:
        notes.append(
            f"no previous register at {previous_where}: every exception is new"
            if previous_where
            else "no previous register: every exception is new"
        )
    known = current["exception_id"].isin(before.index)
    carried = before.reindex(current["exception_id"])
    first_seen = [
        _first_seen(value, as_of) if was_known else as_of
        for value, was_known in zip(carried["first_seen"], known, strict=True)
    ]
    bad_dates = sum(
        k and to_date(v) is None for v, k in zip(carried["first_seen"], known, strict=True)
    )
    if bad_dates:
        notes.append(
            f"{bad_dates} first_seen value(s) of the previous register were not dates: "
            f"counted from {as_of.isoformat()}"
        )
    status = carried["status"].where(carried["status"].map(_filled), "open")
    exceptions = current.assign(
        first_seen=first_seen,
        age_days=[(as_of - seen).days for seen in first_seen],
        change=[RECURRING if k else NEW for k in known],
        status=status.to_numpy(),
        owner=carried["owner"].to_numpy(),
        response=carried["response"].to_numpy(),
        response_date=carried["response_date"].to_numpy(),
    )[list(REGISTER_COLUMNS)]
    gone = before.loc[~before.index.isin(current["exception_id"])]
    resolved = (
        gone.reset_index().assign(last_seen=previous_period).reindex(columns=list(RESOLVED_COLUMNS))
    )
    return FollowUp(
        exceptions=_most_severe_first(exceptions),
        resolved=resolved.reset_index(drop=True),
        previous=previous_where,
        previous_found=previous is not None,
        notes=tuple(notes),
    )


def _filled(value: object) -> bool:
    return (
        isinstance(value, str | date | int | float)
        and not pd.isna(value)
        and str(value).strip() != ""
    )


def _first_seen(value: object, as_of: date) -> date:
    seen = to_date(value)
    return seen if seen is not None and seen <= as_of else as_of


def _previous_rows(previous: pd.DataFrame | None) -> pd.DataFrame:
    """The previous register indexed by exception id (rows without an id are dropped: the
    auditor's own notes rows); every register column present."""
    columns = [c for c in RESOLVED_COLUMNS if c != "exception_id"]
    if previous is None or previous.empty or "exception_id" not in previous.columns:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="exception_id"), dtype=object)
    rows = previous.loc[previous["exception_id"].map(_filled)]
    rows = rows.assign(exception_id=rows["exception_id"].astype(str).str.strip())
    rows = rows.drop_duplicates("exception_id")
    return rows.set_index("exception_id").reindex(columns=columns).astype(object)


def _most_severe_first(frame: pd.DataFrame) -> pd.DataFrame:
    rank = frame["severity"].map({s: i for i, s in enumerate(SEVERITIES)}).fillna(len(SEVERITIES))
    return frame.iloc[rank.argsort(kind="stable")].reset_index(drop=True)


def read_register(path: str | Path) -> pd.DataFrame:
    """The ``Exceptions`` sheet of a register as the auditor left it.

    Columns are taken by the header's names (the auditor may have reordered, hidden or
    added columns); cells keep their values (text, numbers, dates); blank rows are
    skipped.

    Raises:
        PackError: not a readable workbook, or no ``Exceptions`` sheet with an
            ``exception_id`` column (a register written by an older kpitools).
    """
    import openpyxl

    path = Path(path)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a broken file
        raise PackError(
            f"not a readable Excel workbook ({type(error).__name__})", path=path
        ) from None
    try:
        if EXCEPTIONS_SHEET not in book.sheetnames:
            raise PackError(
                f"no {EXCEPTIONS_SHEET!r} sheet (a register from an older kpitools?)", path=path
            )
        rows = book[EXCEPTIONS_SHEET].iter_rows(values_only=True)
        header = [str(v).strip() if v is not None else "" for v in next(rows, ())]
        if "exception_id" not in header:
            raise PackError(f"the {EXCEPTIONS_SHEET!r} sheet has no exception_id column", path=path)
        records = [
            list(r) + [None] * (len(header) - len(r))
            for r in rows
            if any(v is not None and str(v).strip() for v in r)
        ]
    finally:
        book.close()
    frame = pd.DataFrame([r[: len(header)] for r in records], columns=header, dtype=object)
    keep = [bool(name) for name in header] & ~frame.columns.duplicated()
    return frame.loc[:, keep]


@dataclass(frozen=True)
class RegisterTrail:
    """Where a provider's register is kept month after month: what its follow-up needs
    besides the findings.

    Attributes:
        out_dir: the provider's output folder this month (``OUT/<period>/<provider>``);
            last month's register is looked for beside it
            (:func:`kpitools.layout.previous_register`).
        key: the pseudonym key the exception ids are made with (never shown).
    """

    out_dir: Path
    key: bytes = field(repr=False)


def register_findings(
    findings: Sequence[Finding], provider_id: str, pseudonymiser: Pseudonymiser
) -> pd.DataFrame:
    """The findings as the register groups them: the ``exceptions.csv`` columns, the
    provider's own ``learner_ref`` (from each finding's learner key) and ``id_entity``,
    the keyed entity the exception id is made from (the same with or without
    include_pii, and revealing no learner ref). ``entity`` is as found
    (``learner:<ref>``): each output names it as it names learners."""
    refs = [f.learner_ref for f in findings]
    return findings_frame(tuple(findings), provider_id).assign(
        learner_ref=refs,
        id_entity=[
            f"learner:{pseudonymiser.learner(ref)}" if ref else f.entity
            for ref, f in zip(refs, findings, strict=True)
        ],
    )


def provider_followup(
    findings: Sequence[Finding],
    *,
    provider_id: str,
    period: str | None,
    as_of: date,
    trail: RegisterTrail,
) -> FollowUp:
    """This month's register rows of a provider's findings with the follow-up carried
    from last month's register (an unreadable previous register is noted, never fatal):
    an input of the provider's audit, computed by the audit engine once every finding
    is known (:mod:`kpitools.audit`).

    Args:
        findings: every finding of the audit, KPI exceptions then irregularities
            (cross-provider ones included), as ``ProviderAudit.findings()`` orders them.
        provider_id: the provider.
        period: the reporting period ``YYYY-MM`` (None: no previous register looked for).
        as_of: the measurement date.
        trail: where the register is kept and the key of its exception ids.
    """
    where = layout.previous_register(trail.out_dir, period)
    previous = None
    note = ""
    if where is not None and where.is_file():
        try:
            previous = read_register(where)
        except PackError as error:
            log.warning("%s: previous register not used: %s", provider_id, error.one_line())
            note = f"previous register not used: {error.one_line()}"
    result = follow_up(
        register_findings(findings, provider_id, Pseudonymiser(trail.key, provider_id)),
        provider_id=provider_id,
        as_of=as_of,
        previous=previous,
        previous_period=previous_period(period) if period else "",
        previous_where=(
            where.as_posix()
            if where is not None
            else layout.expected_previous_register(period, provider_id)
        ),
    )
    if note:
        result = replace(result, notes=(note, *result.notes))
    return result
