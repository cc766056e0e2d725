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

import csv
import hashlib
import io
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from kpitools import layout
from kpitools.calendar import previous_period
from kpitools.errors import KpiToolsError, PackError
from kpitools.model import (
    CARRIED,
    EVIDENCE_REPLY,
    EXCEPTION_ID_PREFIX,
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
from kpitools.privacy.pseudonym import Pseudonymiser, key_fingerprint
from kpitools.rules import CATALOGUE
from kpitools.text import TERMINAL_CONTROLS, visible_text

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
    "related",  # another provider's learner the finding rests on (Finding.related)
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
_UNTRACKED = _KNOWN - frozenset(AUDITOR_COLUMNS)  # kpitools's own, never on the hidden sheet
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
        ``entity``, ``learner_ref``, ``source``, ``message``, ``related`` (the sources,
        messages and related learners of the findings joined with ``; ``, each once), in
        order of first appearance.
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
            related=("related", _joined),
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
    """A date cell as an auditor may leave it: a date, a datetime, ISO text, or
    ``DD/MM/YYYY`` (a register saved as CSV by a UK Excel)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        text = value.strip()
        for parse in (lambda: date.fromisoformat(text[:10]), lambda: _day_first(text)):
            try:
                return parse()
            except ValueError:
                continue
    return None


def _day_first(text: str) -> date:
    return datetime.strptime(text.split(" ")[0], "%d/%m/%Y").date()


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


REPLY_LIMIT = 2000  # characters of a provider's response read back (the rest is cut)
REFERENCE_LIMIT = 200  # characters of its evidence reference


@dataclass(frozen=True)
class Reply:
    """A provider's reply to one line of its evidence request (for each exception id
    of the line)."""

    line: int
    response: str
    evidence_reference: str
    reply_date: date | None


@dataclass(frozen=True)
class RepliesRead:
    """A returned evidence request, read (:mod:`kpitools.worklists.replies`).

    Attributes:
        path: the file read.
        sha256: of its bytes (blank: it could not be read).
        size_bytes: its size.
        lines: the request's lines read (answered or not).
        replies: exception id -> the reply of its line (lines with a reply only).
        notes: what was passed over or cut, or why the file was not used.
    """

    path: Path
    sha256: str
    size_bytes: int
    lines: int
    replies: Mapping[str, Reply] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def provider_words(reply: Reply, where: str) -> str:
    """A reply as the register's ``response`` holds it, marked as the provider's words:
    ``[provider's reply, 2023-03/P001/evidence_request.xlsx line 3] ...``."""
    return f"[provider's reply, {where} line {reply.line}] {reply.response}".rstrip()


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
            register from a kpitools that did not record it (or saved as CSV).
        last_modified_by: the workbook's ``lastModifiedBy`` property.
        modified: the workbook's ``modified`` property, ISO 8601 (blank: not set).
        key_fingerprint: the pseudonym key its ids were made with, as its Summary says.
        provider_id: the provider it is for, as its Summary says (blank: not said).
        period: the period it is for, as its Summary says (blank: not said).
        handled: what reading it found and how it was handled (formulas, columns
            without a name), one line each, for the register's Summary.
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
    provider_id: str = ""
    period: str = ""
    handled: tuple[str, ...] = ()


def read_register(path: str | Path) -> RegisterReadback:
    """A register as the auditor left it: its Exceptions and Resolved sheets, what
    kpitools wrote into it, who saved it last and when, and what its Summary says it is
    (provider, period, key).

    The register is untrusted input, read like a datasheet: a workbook (``.xlsx``, or
    ``.xlsm`` as an auditor's Excel may save it; its macros are never run) must keep the
    datasheet's limits, checked before openpyxl parses it
    (:func:`kpitools.returns.workbook.check_workbook_limits`); a register saved as
    ``.csv`` is its one sheet of exceptions. Columns are taken by the header's names (the
    auditor may have reordered, hidden or added columns; one without a name, or a name
    repeated, is named by its letter; one an auditor added under a name kpitools has
    since given a column of its own, told by the hidden sheet, is read as
    ``<name> (added)``); cells keep their values (text, numbers, dates); a
    formula gives the value Excel last computed, its text when there is none (never
    evaluated); blank rows are skipped.

    Raises:
        PackError: not a readable workbook or CSV file, over a limit, or no
            ``Exceptions`` sheet with an ``exception_id`` column.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise PackError(f"cannot be read ({type(error).__name__})", path=path) from None
    if path.suffix.lower() == ".csv":
        sheets = {EXCEPTIONS_SHEET: _csv_frame(path, data)}
        saved, handled = ("", ""), [_CSV_NOTE]
    else:
        sheets, saved, handled = _workbook_sheets(path)
        if path.suffix.lower() == ".xlsm":
            handled.insert(0, _XLSM_NOTE)
    if EXCEPTIONS_SHEET not in sheets:
        raise PackError(
            f"no {EXCEPTIONS_SHEET!r} sheet (a register from an older kpitools?)", path=path
        )
    exceptions = sheets[EXCEPTIONS_SHEET]
    if "exception_id" not in exceptions.columns:
        raise PackError(f"the {EXCEPTIONS_SHEET!r} sheet has no exception_id column", path=path)
    resolved = sheets.get(RESOLVED_SHEET, pd.DataFrame(columns=["exception_id"]))
    written = sheets.get(WRITTEN_SHEET)
    if written is not None:
        written = written.reindex(columns=list(WRITTEN_COLUMNS)).map(cell_text)
        taken = _taken_names(written)
        if taken:  # an auditor's column under a name kpitools took since: kept as theirs
            exceptions, resolved = (f.rename(columns=taken) for f in (exceptions, resolved))
            written = written.assign(field=written["field"].replace(taken))
            handled += [
                f"a column {old!r} an auditor added, a name kpitools now gives a column of "
                f"its own: read as {new!r}"
                for old, new in taken.items()
            ]
    summary = sheets.get(SUMMARY_SHEET, pd.DataFrame())
    said: dict[str, str] = {}
    if {"item", "value"} <= set(summary.columns):
        for item, value in zip(summary["item"], summary["value"], strict=True):
            said.setdefault(cell_text(item), cell_text(value))
    return RegisterReadback(
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        exceptions=exceptions,
        resolved=resolved,
        written=written,
        last_modified_by=saved[0],
        modified=saved[1],
        key_fingerprint=said.get(KEY_ITEM, ""),
        provider_id=said.get("provider_id", ""),
        period=said.get("period", ""),
        handled=tuple(handled),
    )


def _taken_names(written: pd.DataFrame) -> dict[str, str]:
    """The columns of a register that an auditor added under a name a later kpitools
    gave a column of its own (``related``): those whose values kpitools wrote on the
    hidden sheet for a row it made, as it does for an added column and never for its
    own facts; each with the name it is read back as (``related (added)``), so that it
    is carried as an added column, with its values and edits, beside kpitools's."""
    if written.empty:
        return {}
    made = written["exception_id"].str.startswith(EXCEPTION_ID_PREFIX)
    fields = set(written.loc[made, "field"])
    return {name: f"{name} (added)" for name in sorted(fields & _UNTRACKED)}


_XLSM_NOTE = "saved as .xlsm (a workbook with macros): read like .xlsx, its macros never run"
_CSV_NOTE = (
    "saved as CSV: its one sheet read as the Exceptions; what kpitools wrote into it is "
    "not known (every value counts as set) and its provider, period and key are not on it"
)


def _workbook_sheets(path: Path) -> tuple[dict[str, pd.DataFrame], tuple[str, str], list[str]]:
    """Every sheet of a register workbook as a frame, who saved it and when, and what
    was handled: checked against the datasheet's limits first, then read by openpyxl
    (whatever openpyxl raises for a damaged part is a PackError)."""
    from kpitools.returns.workbook import check_workbook_limits, number_cells_as_text

    try:
        damaged = check_workbook_limits(path)
        source: Path | io.BytesIO = number_cells_as_text(path, damaged) if damaged else path
    except KpiToolsError as error:
        raise PackError(error.message, path=path) from None
    handled = [
        f"{len(refs)} cell(s) of {member} marked as numbers hold text: read as that text"
        for member, refs in sorted(damaged.items())
    ]
    try:
        grids, saved = _grids(source, data_only=False)
        formulas = [(s, r, c) for s, grid in grids.items() for r, c in grid.formulas]
        if formulas:
            handled += _cached_values(source, grids, formulas)
    except KpiToolsError:
        raise
    except Exception as error:  # openpyxl raises many types for a damaged workbook
        raise PackError(
            f"not a readable Excel workbook ({type(error).__name__})", path=path
        ) from None
    sheets = {}
    for name, grid in grids.items():
        sheets[name], renamed = _sheet_frame(grid.rows)
        handled += [f"sheet {name}: {text}" for text in renamed]
    return sheets, saved, handled


@dataclass
class _Grid:
    """A sheet's rows as read (blank ones too, so that two reads line up) and the
    (row, column) of its formula cells."""

    rows: list[list[object]] = field(default_factory=list)
    formulas: list[tuple[int, int]] = field(default_factory=list)


def _grids(
    source: Path | io.BytesIO, *, data_only: bool
) -> tuple[dict[str, _Grid], tuple[str, str]]:
    import openpyxl

    if isinstance(source, io.BytesIO):
        source.seek(0)
    book = openpyxl.load_workbook(source, read_only=True, data_only=data_only)
    try:
        grids = {}
        for sheet in book.worksheets:
            sheet.reset_dimensions()  # a stale <dimension> must not hide rows
            grid = _Grid()
            for r, cells in enumerate(sheet.iter_rows()):
                grid.rows.append([c.value for c in cells])
                grid.formulas += [
                    (r, c) for c, cell in enumerate(cells) if getattr(cell, "data_type", "") == "f"
                ]
            grids[sheet.title] = grid
        properties = book.properties
        saved = (cell_text(properties.lastModifiedBy), cell_text(properties.modified))
    finally:
        book.close()
    return grids, saved


def _cached_values(
    source: Path | io.BytesIO, grids: dict[str, _Grid], formulas: list[tuple[str, int, int]]
) -> list[str]:
    """Each formula cell given the value Excel last computed; one without (a workbook
    saved by a program that does not compute) keeps its formula as text. Returns the
    lines for the Summary."""
    cached, _ = _grids(source, data_only=True)
    kept = used = 0
    for sheet, r, c in formulas:
        rows = cached[sheet].rows
        value = rows[r][c] if r < len(rows) and c < len(rows[r]) else None
        if value is None:
            formula = grids[sheet].rows[r][c]
            grids[sheet].rows[r][c] = getattr(formula, "text", None) or str(formula)
            kept += 1
        else:
            grids[sheet].rows[r][c] = value
            used += 1
    return [
        line
        for count, line in (
            (used, f"{used} formula cell(s): the value Excel last computed is used"),
            (
                kept,
                f"{kept} formula cell(s) without a computed value (saved by a program "
                "that does not compute formulas): kept as their formula text",
            ),
        )
        if count
    ]


def _csv_frame(path: Path, data: bytes) -> pd.DataFrame:
    """A register saved as CSV (by Excel: UTF-8, or Windows-1252): its one sheet, within
    the datasheet's limits."""
    from kpitools.returns.workbook import (
        MAX_SHEET_COLUMNS,
        MAX_SHEET_ROWS,
        MAX_XLSX_UNCOMPRESSED_BYTES,
    )

    if len(data) > MAX_XLSX_UNCOMPRESSED_BYTES:
        raise PackError(
            f"too large to read: {len(data):,} bytes, the limit is "
            f"{MAX_XLSX_UNCOMPRESSED_BYTES:,} (MAX_XLSX_UNCOMPRESSED_BYTES)",
            path=path,
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    rows: list[list[object]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline="")):
            if len(rows) >= MAX_SHEET_ROWS or len(row) > MAX_SHEET_COLUMNS:
                raise PackError(
                    f"too large to read: over {MAX_SHEET_ROWS:,} rows or "
                    f"{MAX_SHEET_COLUMNS:,} columns (MAX_SHEET_ROWS, MAX_SHEET_COLUMNS)",
                    path=path,
                )
            rows.append([v if v != "" else None for v in row])
    except csv.Error as error:
        raise PackError(f"not a readable CSV file ({error})", path=path) from None
    frame, _ = _sheet_frame(rows)
    return frame


def _sheet_frame(rows: Sequence[Sequence[object]]) -> tuple[pd.DataFrame, list[str]]:
    """A sheet's rows as a frame, columns named by its first row, blank rows skipped. A
    column that holds values under no name, or under a name an earlier column has, is
    named by its letter (``column F``, ``notes (F)``), never dropped: returns the frame
    and those renamings."""
    from openpyxl.utils import get_column_letter

    header = [cell_text(v) for v in (rows[0] if rows else ())]
    records = [
        list(r) + [None] * (len(header) - len(r)) for r in rows[1:] if any(cell_text(v) for v in r)
    ]
    width = max([len(header), *(len(r) for r in records)])
    header += [""] * (width - len(header))
    records = [r + [None] * (width - len(r)) for r in records]
    names: list[str] = []
    renamed: list[str] = []
    for index, name in enumerate(header):
        letter = get_column_letter(index + 1)
        if name and name not in names:
            names.append(name)
            continue
        holds = any(cell_text(r[index]) for r in records)
        names.append((f"{name} ({letter})" if name else f"column {letter}") if holds else "")
        if holds:
            renamed.append(
                f"a column without a name at {letter}: named {names[-1]!r}"
                if not name
                else f"a second column {name!r} at {letter}: named {names[-1]!r}"
            )
    frame = pd.DataFrame(records, columns=names, dtype=object)
    keep = [bool(name) for name in names]
    return frame.loc[:, keep], renamed


@dataclass
class _Read:
    """One register read back, row by row: its rows by id (manual rows given theirs),
    the columns auditors added, their edits and the rows edited after review; the ids
    read as kpitools's although typed in another case or with spaces (``corrected``),
    rows repeated whole (``merged``), and the rows kept as added by hand because a row
    before had their id (``duplicates``) or kpitools never wrote it (``unknown``)."""

    source: RegisterReadback | None
    role: str
    rows: dict[str, dict[str, object]] = field(default_factory=dict)
    resolved: dict[str, dict[str, object]] = field(default_factory=dict)
    manual: set[str] = field(default_factory=set)
    added: list[str] = field(default_factory=list)
    edits: list[dict[str, object]] = field(default_factory=list)
    flagged: dict[str, str] = field(default_factory=dict)
    reviewed_again: set[str] = field(default_factory=set)
    corrected: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, source: RegisterReadback | None, role: str, provider_id: str, period: str) -> _Read:
        read = cls(source, role)
        if source is None:
            return read
        # the ids kpitools wrote into it (None: not known, an older register or a CSV)
        known = None if source.written is None else set(source.written["exception_id"])
        for frame, target in ((source.exceptions, read.rows), (source.resolved, read.resolved)):
            read.added += [c for c in frame.columns if c not in _KNOWN and c not in read.added]
            for position, record in enumerate(frame.to_dict("records"), start=2):
                typed = cell_text(record.get("exception_id"))
                given = normal_id(typed)
                if given != typed:
                    read.corrected.append(given)
                note = ""
                if (
                    given.startswith(EXCEPTION_ID_PREFIX)
                    and known is not None
                    and given not in known
                ):
                    note = f"id {given} is not one kpitools wrote into this register"
                    read.unknown.append(given)
                elif given in target:
                    if _same_row(target[given], record):
                        read.merged.append(given)
                        continue
                    note = f"a second row with id {given}"
                    read.duplicates.append(given)
                if note or not given:
                    cells = (cell_text(v) for v in record.values())
                    given = manual_id(provider_id, period, position, cells)
                if note:  # kept whole, as a row added by hand, saying why
                    earlier = cell_text(record.get("review_note"))
                    note = f"{note}: kept as a row added by hand"
                    record = {**record, "review_note": f"{earlier}; {note}" if earlier else note}
                if not given.startswith(EXCEPTION_ID_PREFIX):
                    read.manual.add(given)
                target[given] = {**record, "exception_id": given}
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
            handled=(*source.handled, *self._handled()),
        )

    def _handled(self) -> list[str]:
        """The Summary's lines for the ids and rows that were not as kpitools wrote them."""
        lines = (
            (self.corrected, "id(s) typed in another case or with spaces, read as kpitools's"),
            (self.merged, "row(s) repeated whole, read once"),
            (self.duplicates, "row(s) with an id a row above had, kept as rows added by hand"),
            (self.unknown, "id(s) kpitools did not write into it, kept as rows added by hand"),
        )
        return [f"{len(ids)} {what}: {', '.join(ids)}" for ids, what in lines if ids]


_ID = re.compile(r"(?:EX-[0-9A-F]{12}|MAN-[0-9A-F]{10})")


def normal_id(typed: str) -> str:
    """An id as kpitools writes it when it is one typed in another case or with spaces
    (``ex-24111d7145de ``); any other text as typed (an auditor's own id).

    >>> normal_id(" ex-24111d 7145de")
    'EX-24111D7145DE'
    >>> normal_id("visit 1")
    'visit 1'
    """
    compact = re.sub(r"\s+", "", typed).upper()
    return compact if _ID.fullmatch(compact) else typed


def _same_row(kept: Mapping[str, object], record: Mapping[str, object]) -> bool:
    """Two rows of a sheet with the same id that hold the same cells (a row pasted twice)."""
    names = (set(kept) | set(record)) - {"exception_id"}
    return all(cell_text(kept.get(n)) == cell_text(record.get(n)) for n in names)


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
    as :func:`cell_text` gives it, and one ``(row)`` row for each row, so that an id
    kpitools never wrote is told when the register is read back."""
    rows = []
    for sheet, frame in sheets.items():
        added = [c for c in frame.columns if c not in _KNOWN]
        for record in frame.to_dict("records"):
            eid = cell_text(record.get("exception_id"))
            rows.append((sheet, eid, ROW_FIELD, "present"))
            manual = not eid.startswith(EXCEPTION_ID_PREFIX)
            for name in _tracked(record, manual=manual, added=added):
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
    replies: RepliesRead | None = None,
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
        replies: the provider's returned evidence request, or None: each reply goes
            into its exceptions' ``response`` (marked as the provider's words, after
            what an auditor wrote), ``evidence_ref`` and ``response_date`` when blank.

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
            f"no previous register at {previous_where} (in the output folder): every "
            "exception is new"
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
            row["entity"] = found_entity(facts, provider_id)
            row["related"] = found_related(facts.get("related"))
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
    applied = _apply_replies(open_rows, replies)
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
    if replies is not None:
        if replies.sha256:  # read (else its notes say why it was not used)
            sources += (_reply_source(replies, applied),)
            notes.append(_reply_note(replies, applied))
        notes += replies.notes
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


def _apply_replies(rows: list[dict[str, object]], replies: RepliesRead | None) -> int:
    """Each reply into its exception's row: ``response`` gets the provider's words after
    what is there (once: a rerun finds them there already), ``evidence_ref`` and
    ``response_date`` when blank. Returns the exceptions a reply went into."""
    if replies is None:
        return 0
    where = layout.shown_path(replies.path)
    applied = 0
    for row in rows:
        reply = replies.replies.get(str(row["exception_id"]))
        if reply is None:
            continue
        applied += 1
        words = provider_words(reply, where)
        said = cell_text(row.get("response"))
        if reply.response and reply.response not in said:
            row["response"] = f"{said}\n{words}" if said else words
        if not cell_text(row.get("evidence_ref")) and reply.evidence_reference:
            row["evidence_ref"] = reply.evidence_reference
        if not cell_text(row.get("response_date")) and reply.reply_date is not None:
            row["response_date"] = reply.reply_date
    return applied


def _reply_source(replies: RepliesRead, applied: int) -> RegisterSource:
    return RegisterSource(
        path=str(replies.path),
        role=EVIDENCE_REPLY,
        sha256=replies.sha256,
        size_bytes=replies.size_bytes,
        rows=replies.lines,
        edits=applied,
    )


def _reply_note(replies: RepliesRead, applied: int) -> str:
    answered = len({r.line for r in replies.replies.values()})
    return (
        f"the provider's evidence reply {layout.shown_path(replies.path)} (in the data "
        f"folder): {answered} of {replies.lines} line(s) answered, put into the response "
        f"of {applied} exception(s)"
    )


def found_entity(row: Mapping[str, object], provider_id: str) -> str:
    """The entity of a register row kpitools wrote, as found (``learner:<ref>``,
    ``employer:<id>``, ``provider:<id>``): ``learner:`` and its ``learner_ref``; else the
    part of its ``entity`` cell that its exception id was made from (what include_pii
    added after it, an employer's contact details after ``, ``, is left out; when no
    part gives the id, as after an auditor edited the row, the part before the first
    ``, ``). What an older register's ``entity`` cell held beyond that (a name and ULN
    under include_pii) is never carried; each output names the entity by its own rule
    (:class:`kpitools.privacy.naming.LearnerNaming`).

    >>> found_entity({"learner_ref": "L7", "entity": "learner:L7 (L-1a), Ann Lee, ULN 1"}, "P1")
    'learner:L7'
    >>> eid = exception_id("P1", "COF-UNDERPAID", "employer:E1, north", "B1")
    >>> row = {"exception_id": eid, "rule": "COF-UNDERPAID", "bootcamp_id": "B1"}
    >>> found_entity({**row, "entity": "employer:E1, north, Jo Bloggs, jo@example.com"}, "P1")
    'employer:E1, north'
    """
    ref = cell_text(row.get("learner_ref"))
    if ref:
        return learner_entity(ref)
    parts = cell_text(row.get("entity")).split(", ")
    made = cell_text(row.get("exception_id"))
    rule, camp = cell_text(row.get("rule")), cell_text(row.get("bootcamp_id"))
    for count in range(len(parts), 0, -1):
        entity = ", ".join(parts[:count])
        if exception_id(provider_id, rule, entity, camp) == made:
            return entity
    return parts[0]


_RELATED_SHOWN = re.compile(
    rf"(?P<found>{layout.PROVIDER_ID_PATTERN}/learner:.+?)(?: \(L-[0-9a-f]{{10}}\))?", re.S
)


def found_related(cell: object) -> str:
    """The ``related`` cell of a register row kpitools wrote, as found: each learner of
    another provider (``; `` between them) as ``<provider>/learner:<ref>``
    (:func:`kpitools.model.related_learner`), without the pseudonym the register showed
    beside its ref; so that each output names it afresh by its own rule
    (:meth:`kpitools.privacy.naming.LearnerNaming.related`). A part that is not such a
    learner (typed by an auditor) is kept as it is; blank (a register from before the
    column) stays blank.

    >>> found_related("P002/learner:000826 (L-37a31732f0); P003/learner:A7")
    'P002/learner:000826; P003/learner:A7'
    """
    parts = [p for p in cell_text(cell).split(_JOIN) if p]
    found = [(m["found"] if (m := _RELATED_SHOWN.fullmatch(p)) else p) for p in parts]
    return _JOIN.join(dict.fromkeys(found))


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
        f"carried from this period's earlier register {layout.shown_path(source.path)}"
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
        reply: the evidence request the provider returned with this return
            (:func:`kpitools.layout.evidence_reply`), or None: its replies go into the
            ``response`` of the same exceptions (:mod:`kpitools.worklists.replies`).
    """

    out_dir: Path
    key: bytes = field(repr=False)
    reply: Path | None = None


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
    replies: RepliesRead | None = None,
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
        replies: the provider's returned evidence request
            (:func:`kpitools.worklists.replies.returned_replies` of ``trail.reply``).
    """
    where = layout.previous_register(trail.out_dir, period)
    check = _Expected(
        provider_id,
        key_fingerprint(trail.key),
        trail.out_dir.parent.parent,
        notes=[],
        unused=[],
    )
    previous = check.read_back(
        layout.register_of(where.parent) if where is not None else None,
        "last month's register",
        previous_period(period) if period else "",
    )
    current = check.read_back(
        layout.register_of(trail.out_dir), "this period's register", period or ""
    )
    result = follow_up(
        register_findings(findings, provider_id, Pseudonymiser(trail.key, provider_id)),
        provider_id=provider_id,
        as_of=as_of,
        period=period,
        previous=previous,
        current=current,
        previous_where=(
            layout.shown_path(where)
            if where is not None
            else layout.expected_previous_register(period, provider_id)
        ),
        replies=replies,
    )
    return replace(result, notes=(*check.notes, *result.notes), unused=tuple(check.unused))


@dataclass
class _Expected:
    """What a register read back must be to be used: the provider's, the period's and
    made with the run's key; the notes for the Summary and, for a register not used,
    the pack (paths under the output root, reasons without personal data)."""

    provider_id: str
    fingerprint: str
    out_root: Path
    notes: list[str]
    unused: list[str]

    def read_back(self, path: Path | None, what: str, period: str) -> RegisterReadback | None:
        """The register at ``path`` read back, or None: none there, or not used (why is
        noted: unreadable, over a limit, another provider's, period's or key's)."""
        if path is None:
            return None
        shown = self._shown(path)
        others = [p for p in layout.register_files(path.parent) if p != path]
        if others:
            self.notes.append(
                f"{what}: {shown} read (the newest); also there, older and not read: "
                + ", ".join(p.name for p in others)
            )
        try:
            source = read_register(path)
        except KpiToolsError as error:
            self._not_used(what, shown, error.message)
            return None
        reason = self._mismatch(source, period)
        if reason:
            self._not_used(what, shown, reason)
            return None
        missing = [
            name
            for name, said in (
                ("provider_id", source.provider_id),
                ("period", source.period),
                ("key fingerprint", source.key_fingerprint),
            )
            if not said
        ]
        if missing and path.suffix.lower() != ".csv":
            self.notes.append(
                f"{what} {shown}: its Summary does not give its {', '.join(missing)} "
                "(an older register?): not checked"
            )
        return source

    def _mismatch(self, source: RegisterReadback, period: str) -> str:
        if source.provider_id and source.provider_id != self.provider_id:
            return (
                f"it is provider {source.provider_id}'s register, not {self.provider_id}'s "
                "(its Summary's provider_id)"
            )
        if period and source.period and source.period != period:
            return f"it is the register of {source.period}, not of {period} (its Summary's period)"
        if source.key_fingerprint and source.key_fingerprint != self.fingerprint:
            return (
                f"its exception ids were made with another pseudonym key "
                f"({source.key_fingerprint}; this run's is {self.fingerprint})"
            )
        return ""

    def _not_used(self, what: str, shown: str, reason: str) -> None:
        line = f"{what} {shown} (in the output folder) not used: {reason}"
        log.warning("%s: %s", self.provider_id, visible_text(line, TERMINAL_CONTROLS))
        self.notes.append(line)
        self.unused.append(line)

    def _shown(self, path: Path) -> str:
        return layout.shown_path(path)
