"""A case's workbook, ``OUT/PERIOD/PROVIDER/cases/<case>.xlsx``: a working file (learners
as the provider's ref and pseudonym, as in the register) beside the case's HTML.

Its ``Case`` sheet holds what the case is and the auditor's space: ``allegation``,
``work_done`` and ``conclusion`` (:data:`~kpitools.cases.gather.NOTE_FIELDS`), one a
row, written in the ``value`` column. The other sheets are the case's facts: its rows
month by month (one value a line, changed values marked), its ILR aims and comparison,
its findings and their register history. As in the register, a very hidden ``_written``
sheet holds what kpitools wrote into the auditor's cells: when the case is built again,
:func:`read_case_notes` tells what the auditor changed from it, and those changes go
into the audit store before the workbook is replaced (a copy of it kept under
``cases/.history``).
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from kpitools.cases.compare import row_histories
from kpitools.cases.gather import CASE_SHEET, FINDING_COLUMNS, NOTE_FIELDS, Case
from kpitools.errors import PackError
from kpitools.layout import HISTORY_FOLDER
from kpitools.outputs.workbook import SheetLayout, write_register
from kpitools.worklists.followup import WRITTEN_SHEET, cell_text

_INFO_COLUMNS = ("field", "value")
_WRAPPED = SheetLayout(frozen_columns=1, widths={"value": 80})


@dataclass(frozen=True)
class CaseEdits:
    """What an auditor changed in a case workbook (:func:`read_case_notes`).

    Attributes:
        values: each note field as the workbook holds it now.
        changed: (field, what kpitools wrote, the auditor's value) of each that differs.
        sha256: of the workbook's bytes.
        last_modified_by, modified: the workbook's properties (who saved it last, when).
    """

    values: dict[str, str]
    changed: tuple[tuple[str, str, str], ...]
    sha256: str
    last_modified_by: str
    modified: str


def write_case_workbook(case: Case, path: str | Path) -> Path:
    """Write the case's workbook (atomically), the auditor's notes as last recorded."""
    naming = case.working
    info = [
        ("case", case.case_id),
        ("about", f"{case.entity.kind} {naming.entity(case.entity.entity)}"),
        ("provider", case.entity.provider_id),
        ("built for", case.period),
        ("months read", ", ".join(m.period for m in case.months)),
        ("built (UTC)", case.built_utc),
        ("pseudonym key", case.key_fingerprint),
    ]
    notes = [(f, case.notes.get(f, "")) for f in NOTE_FIELDS]
    sheets = {
        CASE_SHEET: pd.DataFrame(info + notes, columns=list(_INFO_COLUMNS)),
        "Rows": _rows(case),
        "ILR aims": case.ilr.aims if case.ilr else pd.DataFrame(),
        "ILR compared": case.ilr.compared if case.ilr else pd.DataFrame(),
        "Findings": _findings(case),
        "Register history": _history(case),
        "Register edits": _edits(case),
        "KPI figures": case.members,
        WRITTEN_SHEET: pd.DataFrame(notes, columns=list(_INFO_COLUMNS)),
    }
    return write_register(
        sheets,
        path,
        layouts={CASE_SHEET: _WRAPPED, WRITTEN_SHEET: SheetLayout(hidden=True)},
        note_sheet=CASE_SHEET,
    )


def _rows(case: Case) -> pd.DataFrame:
    records = [
        {
            "table": history.table,
            "row": history.key,
            "period": period,
            "source": history.values.at["source", period],
            "field": field,
            "value": history.values.at[field, period],
            "changed": "changed" if (field, period) in history.changed else "",
        }
        for history in row_histories(case, case.working)
        for period in history.values.columns
        for field in history.values.index
        if field != "source"
    ]
    columns = ["table", "row", "period", "source", "field", "value", "changed"]
    return pd.DataFrame(records, columns=columns)


def _findings(case: Case) -> pd.DataFrame:
    found = case.findings
    if found.empty:
        return pd.DataFrame(columns=["period", "provider_id", "exception_id"])
    who = [
        f"{ref} ({pseudonym})" if ref else entity
        for ref, pseudonym, entity in zip(
            found["learner_ref"], found["pseudonym"], found["entity"], strict=True
        )
    ]
    related = found["related"].map(case.working.related)
    return found.assign(who=who, related=related)[list(FINDING_COLUMNS)]


def _history(case: Case) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "exception_id": exception_id,
                "period": m.period,
                "sheet": m.sheet,
                **m.values,
                "run": m.run_id,
                "run by": m.user,
                "run started (UTC)": m.built,
            }
            for exception_id, history in case.histories.items()
            for m in history.months
        ]
    )


def _edits(case: Case) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "exception_id": exception_id,
                "period": e.period,
                "register": e.register_path,
                "field": e.field,
                "kpitools wrote": e.written,
                "value": e.value,
                "saved by": e.last_modified_by,
                "saved": e.modified,
                "read back by run": e.run_id,
                "read (UTC)": e.read,
            }
            for exception_id, history in case.histories.items()
            for e in history.edits
        ]
    )


def read_case_notes(path: str | Path) -> CaseEdits:
    """The auditor's notes in a case workbook, and what changed from what kpitools wrote.

    Raises:
        PackError: not a readable workbook, or not a case workbook (no Case sheet).
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
        if CASE_SHEET not in book.sheetnames:
            raise PackError(f"no {CASE_SHEET!r} sheet: not a case workbook", path=path)
        values = _fields(book[CASE_SHEET])
        written = _fields(book[WRITTEN_SHEET]) if WRITTEN_SHEET in book.sheetnames else {}
        properties = book.properties
    finally:
        book.close()
    changed = tuple(
        (f, written.get(f, ""), values.get(f, ""))
        for f in NOTE_FIELDS
        if values.get(f, "") != written.get(f, "")
    )
    return CaseEdits(
        values={f: values.get(f, "") for f in NOTE_FIELDS},
        changed=changed,
        sha256=hashlib.sha256(data).hexdigest(),
        last_modified_by=cell_text(properties.lastModifiedBy),
        modified=cell_text(properties.modified),
    )


def _fields(sheet: object) -> dict[str, str]:
    """The note fields of a two-column sheet (field, value), wherever their rows are."""
    found: dict[str, str] = {}
    for cells in sheet.iter_rows(values_only=True):  # type: ignore[attr-defined]
        if len(cells) >= 1 and cell_text(cells[0]).strip() in NOTE_FIELDS:
            found[cell_text(cells[0]).strip()] = cell_text(cells[1]) if len(cells) > 1 else ""
    return found


def keep_case_workbook(path: Path) -> Path:
    """Copy a case workbook an auditor may have worked in to ``cases/.history`` under a
    UTC timestamp, before it is replaced; where it is kept."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = path.parent / HISTORY_FOLDER / f"{path.stem}-{stamp}{path.suffix}"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, target)
    return target
