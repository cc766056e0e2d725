"""The exceptions register as a living worklist: stable ids, carried follow-up, changes.

An auditor works the register month after month. Each exception gets an id that stays the
same while the same rule keeps firing for the same entity in the same bootcamp, so that
what the auditor wrote (the working columns :data:`AUDITOR_COLUMNS`, and any column or
row they added) is carried to this month's row, ``first_seen`` keeps the first month and
``change`` says whether the exception is ``new`` or ``recurring``.

Two registers are read back (:func:`read_register`), and what an auditor typed in either
is never dropped:

- **last month's** (``OUT/<previous period>/<provider>/exceptions.xlsx``): its follow-up
  is carried to the exceptions that recur; one marked resolved or accepted that recurs is
  ``reopened``, its earlier status kept beside it;
- **this period's**, when an earlier run of the same period wrote one (a rerun): its
  edits win over last month's, its added columns and its rows added by hand (ids
  ``MAN-…``) are carried.

An exception that no longer occurs is *resolved* when it was a condition of the data;
one that records an event (:attr:`kpitools.rules.RuleId.event`: a restatement, a late
report) and a row added by hand stay open (``change`` = ``carried`` / ``manual``) until
an auditor closes them. Each register also holds, on a hidden sheet, what kpitools wrote
into its working columns (:data:`WRITTEN_SHEET`): what differs when it is read back is
what an auditor changed (:data:`EDIT_COLUMNS`, recorded in the audit store), and a change
to a row after its ``reviewed_on`` without a new review is flagged ``edited after
review`` in its ``review_note``.

The follow-up is an input of the audit (:func:`provider_followup`, called by the audit
engine, :mod:`kpitools.audit`, when given the provider's :class:`RegisterTrail`, once
every finding is known); :func:`follow_up` is a pure function of the findings and the two
registers read back. Writing the register is :mod:`kpitools.outputs.register`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from kpitools import layout
from kpitools.calendar import previous_period
from kpitools.errors import PackError
from kpitools.model import (
    CARRIED,
    LAST_MONTH_REGISTER,
    MANUAL,
    NEW,
    RECURRING,
    REOPENED,
    SEVERITIES,
    THIS_PERIOD_REGISTER,
    Finding,
    FollowUp,
    RegisterSource,
    findings_frame,
    learner_entity,
)
from kpitools.privacy.pseudonym import Pseudonymiser
from kpitools.rules import CATALOGUE

log = logging.getLogger(__name__)

EXCEPTIONS_SHEET = "Exceptions"  # the register's sheet of open exceptions, read back
RESOLVED_SHEET = "Resolved"
SUMMARY_SHEET = "Summary"
WRITTEN_SHEET = "_written"
"""The register's hidden sheet: what kpitools wrote into each row's working columns
(:data:`WRITTEN_COLUMNS`, one value a row), the baseline an auditor's edits are told by."""
WRITTEN_COLUMNS: tuple[str, ...] = ("sheet", "exception_id", "field", "value")
KEY_ITEM = "pseudonym key fingerprint"  # the Summary item naming the key of the ids
# the register's sheet of cases reported for information (the pack points to it)
INFORMATIONAL_SHEET = "CP no outcome (info)"

AUDITOR_COLUMNS: tuple[str, ...] = (
    "status",
    "owner",
    "due_date",
    "response",
    "response_date",
    "evidence_ref",
    "prepared_by",
    "reviewed_by",
    "reviewed_on",
)
"""The working columns: what an auditor fills in, carried from register to register."""
SIGN_OFF: tuple[str, ...] = ("prepared_by", "reviewed_by", "reviewed_on")
DATE_COLUMNS: tuple[str, ...] = (
    "due_date",
    "response_date",
    "reviewed_on",
    "first_seen",
    "last_seen",
)
"""Columns whose cells are dates (a date validation on those an auditor fills in)."""
_FACTS: tuple[str, ...] = (
    "kpi",
    "bootcamp_id",
    "entity",
    "learner_ref",
    "source",
    "message",
)
REGISTER_COLUMNS: tuple[str, ...] = (
    "exception_id",
    "severity",
    "rule",
    "status",
    "earlier_status",
    *AUDITOR_COLUMNS[1:],
    "change",
    "first_seen",
    "last_seen",
    "age_days",
    "review_note",
    *_FACTS,
)
"""The Exceptions sheet: id, severity and rule, the working columns (``earlier_status``
beside ``status``), then the facts. Columns an auditor added go after ``reviewed_on``."""
RESOLVED_COLUMNS: tuple[str, ...] = tuple(
    c for c in REGISTER_COLUMNS if c not in ("change", "age_days")
)
FOLLOW_UP_STATUSES: tuple[str, ...] = ("open", "queried", REOPENED, "resolved", "accepted")
CLOSED: tuple[str, ...] = ("resolved", "accepted")
EDIT_COLUMNS: tuple[str, ...] = (
    "register",
    "sheet",
    "exception_id",
    "field",
    "written",
    "value",
)
"""An auditor's edit found in a register read back: the register's path, the sheet, the
row's id, the column, what kpitools wrote there (None: not known, a register from an
older kpitools) and the value read back (``(row)`` / ``removed``: a row deleted)."""
ROW_FIELD, REMOVED = "(row)", "removed"
_KNOWN = frozenset(REGISTER_COLUMNS) | frozenset(RESOLVED_COLUMNS)
_KEPT = ("earlier_status", "review_note")  # kpitools's own, carried like the working ones
# What one exception is: a rule firing for an entity in a bootcamp (several findings of
# the same rule for the same entity and bootcamp, e.g. two FUTURE-DATED payments, are one
# exception to follow up, their sources and messages joined).
IDENTITY = ("rule", "id_entity", "bootcamp_id")
_JOIN = "; "
_AFTER_REVIEW = "edited after review"


def exception_id(provider_id: str, rule: str, entity: str, bootcamp_id: str) -> str:
    """The stable id of an exception: the same provider, rule, entity and bootcamp always
    give the same id (``entity`` is the keyed form, ``learner:L-…``, so the id reveals no
    learner ref).

    >>> exception_id("P001", "DUP-ROW", "learner:L-0a1b2c3d4e", "B1")
    'EX-DF5E7A2A6CBD'
    """
    text = "\x1f".join((provider_id, rule, entity, bootcamp_id))
    return "EX-" + hashlib.sha256(text.encode()).hexdigest()[:12].upper()


def manual_id(provider_id: str, period: str, position: int, values: Iterable[str]) -> str:
    """The id given to a row an auditor added by hand without one: ``MAN-`` and 10 hex
    digits of the provider, the register's period, the row's place and its cells (it is
    written into the row, so it stays once given)."""
    text = "\x1f".join((provider_id, period, str(position), *values))
    return "MAN-" + hashlib.sha256(text.encode()).hexdigest()[:10].upper()


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
    columns = ["exception_id", "rule", "severity", *_FACTS]
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


def cell_text(value: object) -> str:
    """A cell as text, the form an auditor's edit is told and recorded by: blank for an
    empty cell, ISO 8601 for a date (a date-time at midnight is a date), a whole number
    without ``.0``."""
    if value is None or (
        not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value)
    ):
        return ""
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return (
            value.date() if value == datetime(value.year, value.month, value.day) else value
        ).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@dataclass(frozen=True)
class RegisterReadback:
    """A register as an auditor left it (:func:`read_register`).

    Attributes:
        path: the file read.
        sha256: of its bytes.
        size_bytes: its size.
        exceptions: its Exceptions sheet, columns by header name, cells as typed.
        resolved: its Resolved sheet, likewise (empty when it has none).
        written: what kpitools wrote into it (:data:`WRITTEN_COLUMNS`), or None for a
            register from a kpitools that did not record it.
        last_modified_by: the workbook's ``lastModifiedBy`` property.
        modified: the workbook's ``modified`` property, ISO 8601 (blank: not set).
        key_fingerprint: the pseudonym key its ids were made with, as its Summary says.
    """

    path: Path
    sha256: str
    size_bytes: int
    exceptions: pd.DataFrame
    resolved: pd.DataFrame = field(default_factory=pd.DataFrame)
    written: pd.DataFrame | None = None
    last_modified_by: str = ""
    modified: str = ""
    key_fingerprint: str = ""


def read_register(path: str | Path) -> RegisterReadback:
    """A register as the auditor left it: its Exceptions and Resolved sheets, what
    kpitools wrote into it, who saved it last and when.

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
        data = path.read_bytes()
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
        exceptions = _sheet_frame(book[EXCEPTIONS_SHEET])
        if "exception_id" not in exceptions.columns:
            raise PackError(f"the {EXCEPTIONS_SHEET!r} sheet has no exception_id column", path=path)
        sheets = {name: _sheet_frame(book[name]) for name in book.sheetnames}
        properties = book.properties
    finally:
        book.close()
    written = sheets.get(WRITTEN_SHEET)
    summary = sheets.get(SUMMARY_SHEET, pd.DataFrame())
    fingerprint = ""
    if {"item", "value"} <= set(summary.columns):
        found = summary.loc[summary["item"] == KEY_ITEM, "value"]
        fingerprint = cell_text(found.iloc[0]) if len(found) else ""
    return RegisterReadback(
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        exceptions=exceptions,
        resolved=sheets.get(RESOLVED_SHEET, pd.DataFrame(columns=["exception_id"])),
        written=(
            written.reindex(columns=list(WRITTEN_COLUMNS)).map(cell_text)
            if written is not None
            else None
        ),
        last_modified_by=cell_text(properties.lastModifiedBy),
        modified=cell_text(properties.modified),
        key_fingerprint=fingerprint,
    )


def _sheet_frame(sheet: Any) -> pd.DataFrame:
    """A sheet's rows as a frame, columns named by its first row (unnamed and repeated
    columns left out), blank rows skipped."""
    rows = sheet.iter_rows(values_only=True)
    header = [str(v).strip() if v is not None else "" for v in next(rows, ())]
    records = [
        list(r) + [None] * (len(header) - len(r))
        for r in rows
        if any(v is not None and str(v).strip() for v in r)
    ]
    frame = pd.DataFrame([r[: len(header)] for r in records], columns=header, dtype=object)
    keep = [bool(name) for name in header] & ~frame.columns.duplicated()
    return frame.loc[:, keep]


@dataclass
class _Read:
    """One register read back, row by row: its rows by id (manual rows given theirs),
    the columns auditors added, their edits and the rows edited after review."""

    source: RegisterReadback | None
    role: str
    rows: dict[str, dict[str, object]] = field(default_factory=dict)
    resolved: dict[str, dict[str, object]] = field(default_factory=dict)
    manual: set[str] = field(default_factory=set)
    added: list[str] = field(default_factory=list)
    edits: list[dict[str, object]] = field(default_factory=list)
    flagged: dict[str, str] = field(default_factory=dict)
    reviewed_again: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, source: RegisterReadback | None, role: str, provider_id: str, period: str) -> _Read:
        read = cls(source, role)
        if source is None:
            return read
        for frame, target in ((source.exceptions, read.rows), (source.resolved, read.resolved)):
            read.added += [c for c in frame.columns if c not in _KNOWN and c not in read.added]
            for position, record in enumerate(frame.to_dict("records"), start=2):
                given = cell_text(record.get("exception_id"))
                if not given:
                    given = manual_id(
                        provider_id, period, position, (cell_text(v) for v in record.values())
                    )
                if not given.startswith("EX-"):
                    read.manual.add(given)
                target.setdefault(given, {**record, "exception_id": given})
        read._compare()
        return read

    def _compare(self) -> None:
        """The auditor's edits: each row's working (and added) columns against what
        kpitools wrote; a row kpitools never wrote (added by hand) has every cell edited."""
        source = self.source
        assert source is not None
        written: dict[tuple[str, str], dict[str, str]] = {}
        if source.written is not None:
            for record in source.written.to_dict("records"):
                key = (str(record["sheet"]), str(record["exception_id"]))
                written.setdefault(key, {})[str(record["field"])] = str(record["value"])
        for sheet, rows in ((EXCEPTIONS_SHEET, self.rows), (RESOLVED_SHEET, self.resolved)):
            for eid, row in rows.items():
                before = written.get((sheet, eid))
                changed = []
                for name in _tracked(row, manual=eid in self.manual, added=self.added):
                    value = cell_text(row.get(name))
                    # None: what kpitools wrote is not known (an older register)
                    was = None if source.written is None else (before or {}).get(name, "")
                    if value != (was or ""):
                        self.edits.append(self._edit(sheet, eid, name, was, value))
                        changed.append(name)
                self._review(eid, before or {}, changed)
            for known_sheet, eid in written:
                if known_sheet == sheet and eid not in rows:
                    self.edits.append(self._edit(sheet, eid, ROW_FIELD, "present", REMOVED))

    def _edit(
        self, sheet: str, eid: str, name: str, was: str | None, value: str
    ) -> dict[str, object]:
        return dict(
            zip(
                EDIT_COLUMNS,
                (str(self.source.path) if self.source else "", sheet, eid, name, was, value),
                strict=True,
            )
        )

    def _review(self, eid: str, before: Mapping[str, str], changed: list[str]) -> None:
        """A row whose working columns changed while the ``reviewed_on`` kpitools wrote
        stayed as it was is flagged; a new ``reviewed_on`` is a new review."""
        if "reviewed_on" in changed:
            self.reviewed_again.add(eid)
            return
        worked = [c for c in changed if c not in SIGN_OFF]
        reviewed = before.get("reviewed_on", "")
        if worked and reviewed:
            self.flagged[eid] = f"{_AFTER_REVIEW} on {reviewed}: {', '.join(worked)}"

    def register_source(self) -> RegisterSource | None:
        source = self.source
        if source is None:
            return None
        return RegisterSource(
            path=str(source.path),
            role=self.role,
            sha256=source.sha256,
            size_bytes=source.size_bytes,
            last_modified_by=source.last_modified_by,
            modified=source.modified,
            rows=len(self.rows) + len(self.resolved),
            edits=len(self.edits),
            added_columns=tuple(self.added),
            manual_rows=len(self.manual & set(self.rows)),
        )


def _tracked(row: Mapping[str, object], *, manual: bool, added: Iterable[str]) -> list[str]:
    """The columns of a register row whose edits are told and recorded: the working
    columns and the added ones; every column but those kpitools computes for a row
    added by hand."""
    if manual:
        return [c for c in row if c not in ("exception_id", "change", "age_days")]
    return [c for c in (*AUDITOR_COLUMNS, *added) if c in row]


def written_frame(sheets: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """What kpitools writes into the tracked columns of the given sheets of a register
    (:data:`WRITTEN_SHEET`, :data:`WRITTEN_COLUMNS`): one row a value that is not blank,
    as :func:`cell_text` gives it."""
    rows = []
    for sheet, frame in sheets.items():
        added = [c for c in frame.columns if c not in _KNOWN]
        for record in frame.to_dict("records"):
            eid = cell_text(record.get("exception_id"))
            for name in _tracked(record, manual=not eid.startswith("EX-"), added=added):
                text = cell_text(record[name])
                if text:
                    rows.append((sheet, eid, name, text))
    return pd.DataFrame(rows, columns=list(WRITTEN_COLUMNS), dtype=object)


def _filled(value: object) -> bool:
    return cell_text(value) != ""


def _kind(eid: str, rule: object, manual: bool) -> str:
    if manual:
        return MANUAL
    found = CATALOGUE.get(str(rule))
    return CARRIED if found is not None and found.event else "condition"


def follow_up(
    findings: pd.DataFrame,
    *,
    provider_id: str,
    as_of: date,
    period: str | None = None,
    previous: RegisterReadback | None = None,
    current: RegisterReadback | None = None,
    previous_where: str = "",
) -> FollowUp:
    """This month's register rows, with what auditors wrote carried over.

    Args:
        findings: finding rows (see :func:`group_exceptions`).
        provider_id: the provider.
        as_of: this month's measurement date (``first_seen`` of new exceptions, and the
            date ages are counted to).
        period: this month (``last_seen`` of what occurs; last month is the one before).
        previous: last month's register read back, or None when there is none.
        current: this period's register read back (an earlier run of this period), or
            None; its edits win over last month's.
        previous_where: where last month's register was looked for (for the notes).

    Returns:
        The :class:`FollowUp`. An exception that occurs keeps the working columns, added
        columns and ``first_seen`` it had (this period's register first, then last
        month's); ``change`` is ``recurring`` when it was in last month's register, else
        ``new`` (``status`` ``open``, ``first_seen`` ``as_of``); one last month's
        register had marked resolved or accepted is ``reopened``, with that status in
        ``earlier_status``. What no longer occurs is *Resolved*, except an event and a
        row added by hand that no one has closed: they stay (``carried``, ``manual``).
        ``age_days`` is the days from ``first_seen`` to ``as_of``.
    """
    this_month = period or ""
    last_month = previous_period(period) if period else ""
    prev = _Read.of(previous, LAST_MONTH_REGISTER, provider_id, last_month)
    cur = _Read.of(current, THIS_PERIOD_REGISTER, provider_id, this_month)
    added = list(dict.fromkeys([*cur.added, *prev.added]))
    notes: list[str] = []
    if previous is None:
        notes.append(
            f"no previous register at {previous_where}: every exception is new"
            if previous_where
            else "no previous register: every exception is new"
        )
    found = group_exceptions(findings, provider_id)
    found_ids = set(found["exception_id"])
    open_rows: list[dict[str, object]] = []
    resolved_rows: list[dict[str, object]] = []
    bad_dates = 0
    for record in found.to_dict("records"):
        eid = str(record["exception_id"])
        state, origin = _state(eid, cur, prev)
        seen, unreadable = _first_seen(eid, (cur, prev), as_of)
        bad_dates += unreadable
        row = {**record, **_carried(state, added)}
        status = cell_text(state.get("status")) or "open"
        if origin is prev and status in CLOSED:
            row.update(earlier_status=status, status=REOPENED)
        else:
            row["status"] = status
        row.update(
            change=RECURRING if eid in prev.rows else NEW,
            first_seen=seen,
            last_seen=this_month or as_of.isoformat(),
            age_days=(as_of - seen).days,
            review_note=_review_note(eid, state, prev, cur),
        )
        open_rows.append(row)
    for eid in dict.fromkeys([*cur.rows, *cur.resolved, *prev.rows]):
        if eid in found_ids:
            continue
        state, _ = _state(eid, cur, prev)
        facts = cur.rows.get(eid) or cur.resolved.get(eid) or prev.rows[eid]
        kind = _kind(eid, facts.get("rule"), eid in cur.manual or eid in prev.manual)
        row = {**facts, **_carried(state, added)}
        if kind != MANUAL:  # named afresh by each output's rule, never copied
            row["entity"] = found_entity(facts)
        row["review_note"] = _review_note(eid, state, prev, cur)
        if not _filled(row.get("last_seen")) and kind != MANUAL:
            row["last_seen"] = this_month if eid in cur.rows else last_month
        stays = kind != "condition" and (
            eid in cur.rows
            or (eid not in cur.resolved and cell_text(state.get("status")) not in CLOSED)
        )
        if not stays:
            resolved_rows.append(row)
            continue
        given = to_date(row.get("first_seen"))
        seen = given if given is not None and given <= as_of else as_of
        row.update(
            change=kind,
            status=cell_text(row.get("status")) or "open",
            first_seen=seen,
            age_days=(as_of - seen).days,
        )
        open_rows.append(row)
    if bad_dates:
        notes.append(
            f"{bad_dates} first_seen value(s) of the previous register were not dates: "
            f"counted from {as_of.isoformat()}"
        )
    exceptions = _frame(open_rows, _with_added(REGISTER_COLUMNS, added))
    reads = [r for r in (cur, prev) if r.source is not None]
    edits = pd.DataFrame([e for r in reads for e in r.edits], columns=list(EDIT_COLUMNS))
    resolved = _frame(resolved_rows, _with_added(RESOLVED_COLUMNS, added))
    flagged = [
        str(eid)
        for frame in (exceptions, resolved)
        for eid, note in zip(frame["exception_id"], frame["review_note"], strict=True)
        if cell_text(note).startswith(_AFTER_REVIEW)
    ]
    sources = tuple(s for s in (r.register_source() for r in reads) if s is not None)
    notes += [_carried_note(s) for s in sources if s.role == THIS_PERIOD_REGISTER]
    return FollowUp(
        exceptions=_most_severe_first(exceptions),
        resolved=resolved,
        previous=previous_where,
        previous_found=previous is not None,
        notes=tuple(notes),
        sources=sources,
        edits=edits,
        edited_after_review=tuple(flagged),
    )


def found_entity(row: Mapping[str, object]) -> str:
    """The entity of a register row kpitools wrote, as found (``learner:<ref>``,
    ``employer:<id>``, ``provider:<id>``), rebuilt from its ``learner_ref`` and the kind
    and id its ``entity`` cell starts with: what an older register's ``entity`` cell
    added (a name and ULN under include_pii, an employer's contact details after ``, ``)
    is never carried; each output names the entity by its own rule
    (:class:`kpitools.privacy.naming.LearnerNaming`).

    >>> found_entity({"learner_ref": "L7", "entity": "learner:L7 (L-1a), Ann Lee, ULN 1"})
    'learner:L7'
    >>> found_entity({"entity": "employer:E1, Jo Bloggs, jo@example.com"})
    'employer:E1'
    """
    ref = cell_text(row.get("learner_ref"))
    if ref:
        return learner_entity(ref)
    kind, sep, ident = cell_text(row.get("entity")).partition(":")
    ident = ident.split(",")[0].split(" (")[0].strip()
    return f"{kind.strip()}:{ident}" if sep and ident else ""


def _state(eid: str, cur: _Read, prev: _Read) -> tuple[dict[str, object], _Read | None]:
    """The latest word on an exception: this period's register first (either sheet),
    then last month's; with the register it came from."""
    for read, rows in ((cur, cur.rows), (cur, cur.resolved), (prev, prev.rows)):
        if eid in rows:
            return rows[eid], read
    return {}, None


def _carried(state: Mapping[str, object], added: list[str]) -> dict[str, object]:
    """The working columns, kpitools's carried ones and the added columns of a row."""
    return {c: state.get(c) for c in (*AUDITOR_COLUMNS, *_KEPT, *added)}


def _first_seen(eid: str, reads: tuple[_Read, ...], as_of: date) -> tuple[date, int]:
    """The earliest first_seen any register read back gives an exception (as_of when
    none, or when none is a date: then 1, counted for a note)."""
    given = [read.rows[eid].get("first_seen") for read in reads if eid in read.rows]
    dates = [d for d in (to_date(v) for v in given) if d is not None and d <= as_of]
    if dates:
        return min(dates), 0
    return as_of, int(bool(given))


def _review_note(eid: str, state: Mapping[str, object], prev: _Read, cur: _Read) -> str:
    """The row's review note: carried, cleared by a new review, set when it was edited
    after its review (this period's register last, so that it wins)."""
    note = cell_text(state.get("review_note"))
    for read in (prev, cur):
        if eid in read.reviewed_again:
            note = ""
        note = read.flagged.get(eid, note)
    return note


def _with_added(columns: tuple[str, ...], added: list[str]) -> list[str]:
    at = columns.index("reviewed_on") + 1
    return [*columns[:at], *added, *columns[at:]]


def _frame(rows: list[dict[str, object]], columns: list[str]) -> pd.DataFrame:
    return (
        pd.DataFrame(rows, columns=columns, dtype=object)
        if rows
        else pd.DataFrame(columns=columns, dtype=object)
    )


def _carried_note(source: RegisterSource) -> str:
    saved = " ".join(
        part
        for part in (
            f"saved {source.modified}" if source.modified else "",
            f"by {source.last_modified_by}" if source.last_modified_by else "",
        )
        if part
    )
    extra = "".join(
        (
            f"; added column(s) {', '.join(source.added_columns)}" if source.added_columns else "",
            f"; {source.manual_rows} row(s) added by hand" if source.manual_rows else "",
        )
    )
    return (
        f"carried from this period's earlier register {source.path}"
        + (f" ({saved})" if saved else "")
        + f": {source.edits} edit(s){extra}; they win over last month's"
    )


def _most_severe_first(frame: pd.DataFrame) -> pd.DataFrame:
    rank = frame["severity"].map({s: i for i, s in enumerate(SEVERITIES)}).fillna(len(SEVERITIES))
    return frame.iloc[rank.argsort(kind="stable")].reset_index(drop=True)


@dataclass(frozen=True)
class RegisterTrail:
    """Where a provider's register is kept month after month: what its follow-up needs
    besides the findings.

    Attributes:
        out_dir: the provider's output folder this month (``OUT/<period>/<provider>``):
            this period's register is read back from it (a rerun), last month's beside
            it (:func:`kpitools.layout.previous_register`).
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
    from this period's register (a rerun) and last month's (an unreadable register is
    noted, never fatal: the run that replaces it keeps it under ``.history``): an input
    of the provider's audit, computed by the audit engine once every finding is known
    (:mod:`kpitools.audit`).

    Args:
        findings: every finding of the audit, KPI exceptions then irregularities
            (cross-provider ones included), as ``ProviderAudit.findings()`` orders them.
        provider_id: the provider.
        period: the reporting period ``YYYY-MM`` (None: no previous register looked for).
        as_of: the measurement date.
        trail: where the register is kept and the key of its exception ids.
    """
    where = layout.previous_register(trail.out_dir, period)
    notes: list[str] = []
    previous = _read_back(
        layout.register_of(where.parent) if where is not None else None,
        "previous register",
        provider_id,
        notes,
    )
    current = _read_back(
        layout.register_of(trail.out_dir), "this period's register", provider_id, notes
    )
    result = follow_up(
        register_findings(findings, provider_id, Pseudonymiser(trail.key, provider_id)),
        provider_id=provider_id,
        as_of=as_of,
        period=period,
        previous=previous,
        current=current,
        previous_where=(
            where.as_posix()
            if where is not None
            else layout.expected_previous_register(period, provider_id)
        ),
    )
    if notes:
        result = replace(result, notes=(*notes, *result.notes))
    return result


def _read_back(
    path: Path | None, what: str, provider_id: str, notes: list[str]
) -> RegisterReadback | None:
    if path is None:
        return None
    try:
        return read_register(path)
    except PackError as error:
        log.warning("%s: %s not used: %s", provider_id, what, error.one_line())
        notes.append(f"{what} not used: {error.one_line()}")
        return None
