"""An audit, its inputs and its register's follow-up as rows of the store's tables
(:data:`kpitools.store.schema.TABLES`): frames whose columns are the tables' columns,
less ``run_id`` (and ``period`` / ``provider_id`` where the caller adds them).

Nothing personal goes in: learners are their provider's ref and keyed pseudonym;
names, ULNs and contact details are left out whatever the run's ``--include-pii``.
Paths of the return's files are relative to the data root (``2023-03/P001/learners.csv``),
those of registers relative to the output root (``2023-03/P001/exceptions.xlsx``).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd

from kpitools.calendar import previous_period
from kpitools.kpis.members import kpi_members
from kpitools.model import (
    PREVIOUS_RETURN,
    THIS_PERIOD_REGISTER,
    FollowUp,
    ProviderAudit,
    RegisterSource,
    entity_learner_ref,
)
from kpitools.privacy.pseudonym import Pseudonymiser
from kpitools.worklists.followup import (
    AUDITOR_COLUMNS,
    EXCEPTIONS_SHEET,
    RESOLVED_SHEET,
    cell_text,
    exception_id,
    register_findings,
)

REGISTER_READ_BACK = "register read back"
"""The role of a register in ``inputs`` (then ``:`` and which: this period's or last
month's, :attr:`kpitools.model.RegisterSource.role`)."""
LEARNER_DATES = (
    "start_date",
    "m1_date",
    "withdrawal_date",
    "withdrawal_reported_date",
    "completion_date",
    "new_role_evidence_date",
)
_REGISTER_ROW_COLUMNS = (
    "rule",
    "severity",
    "change",
    "status",
    "earlier_status",
    *AUDITOR_COLUMNS[1:],
    "first_seen",
    "last_seen",
    "review_note",
)


def input_rows(audit: ProviderAudit) -> pd.DataFrame:
    """Every file the audit read (:meth:`kpitools.model.ProviderAudit.inputs`) with its
    role, size, SHA-256 and the rows read, accepted and rejected of its tables (rows
    read only, for a file whose rows are not a table's: an ILR file's learners)."""
    provider = audit.provider
    folder = f"{audit.period}/{audit.provider_id}" if audit.period else audit.provider_id
    rows = []
    for item in audit.inputs():
        previous = item.role == PREVIOUS_RETURN
        counts = audit.previous.counts if previous and audit.previous else provider.counts
        tables = [counts[t] for t in item.tables if t in counts]
        counted = bool(tables) and len(tables) == len(item.tables)
        rows.append(
            {
                "path": item.path if previous else f"{folder}/{item.path}",
                "role": item.role,
                "size_bytes": item.size_bytes,
                "sha256": item.sha256,
                "rows_read": sum(c.read for c in tables) if counted else item.rows,
                "rows_accepted": sum(c.accepted for c in tables) if counted else None,
                "rows_rejected": sum(c.rejected for c in tables) if counted else None,
            }
        )
    return pd.DataFrame(rows, columns=_INPUT_COLUMNS)


_INPUT_COLUMNS = [
    "path",
    "role",
    "size_bytes",
    "sha256",
    "rows_read",
    "rows_accepted",
    "rows_rejected",
]


def relative_to(path: str, root: Path) -> str:
    """``path`` relative to ``root`` when it lies inside it, else as given."""
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


def register_input_rows(followup: FollowUp, out_root: Path) -> pd.DataFrame:
    """The registers the follow-up read back, as ``inputs`` rows."""
    rows = [
        {
            "path": relative_to(s.path, out_root),
            "role": f"{REGISTER_READ_BACK}: {s.role}",
            "size_bytes": s.size_bytes,
            "sha256": s.sha256,
            "rows_read": s.rows,
            "rows_accepted": None,
            "rows_rejected": None,
            "edits": s.edits,
        }
        for s in followup.sources
    ]
    return pd.DataFrame(rows, columns=[*_INPUT_COLUMNS, "edits"])


def register_period(source: RegisterSource, period: str | None) -> str:
    """The period of a register read back for ``period``'s follow-up."""
    if not period:
        return ""
    return period if source.role == THIS_PERIOD_REGISTER else previous_period(period)


def event_rows(followup: FollowUp, out_root: Path, period: str | None) -> pd.DataFrame:
    """Every value an auditor changed in the registers read back
    (:attr:`kpitools.model.FollowUp.edits`), each with its register's period, path,
    SHA-256, ``lastModifiedBy`` and modified time."""
    columns = [
        "period",
        "register_path",
        "register_sha256",
        "last_modified_by",
        "modified",
        "sheet",
        "exception_id",
        "field",
        "written",
        "value",
    ]
    edits = followup.edits
    if edits is None or edits.empty:
        return pd.DataFrame(columns=columns)
    by_path = {s.path: s for s in followup.sources}
    rows = []
    for edit in edits.to_dict("records"):
        source = by_path[str(edit["register"])]
        rows.append(
            {
                "period": register_period(source, period),
                "register_path": relative_to(source.path, out_root),
                "register_sha256": source.sha256,
                "last_modified_by": source.last_modified_by,
                "modified": source.modified,
                "sheet": edit["sheet"],
                "exception_id": edit["exception_id"],
                "field": edit["field"],
                "written": edit["written"],
                "value": edit["value"],
            }
        )
    return pd.DataFrame(rows, columns=columns)


def kpi_rows(audit: ProviderAudit) -> pd.DataFrame:
    """The KPI results, as ``kpi_results.csv`` holds them (dates as dates)."""
    frame = audit.kpi_frame().drop(columns=["provider_id"])
    return frame.assign(
        due_date=[date.fromisoformat(d) if d else None for d in frame["due_date"]],
        as_of=[date.fromisoformat(d) for d in frame["as_of"]],
    )


def member_rows(audit: ProviderAudit, pseudonymiser: Pseudonymiser) -> pd.DataFrame:
    """The members of every KPI figure (:func:`kpitools.kpis.members.kpi_members`): the
    member as found (``learner:<ref>``, ``employer:<id>``), a learner's ref and
    pseudonym, whether it is in the population and the numerator, why, and its rows."""
    members = kpi_members(audit).drop(columns=["provider_id"])
    refs = [entity_learner_ref(m) for m in members["member"].tolist()]
    names = {ref: pseudonymiser.learner(ref) for ref in set(refs) if ref}
    return members.assign(
        learner_ref=refs,
        pseudonym=[names.get(ref, "") for ref in refs],
        source=members["source"].fillna("").astype(str),
    )


def finding_rows(
    audit: ProviderAudit, followup: FollowUp | None, pseudonymiser: Pseudonymiser
) -> pd.DataFrame:
    """Every finding with its exception's id and first_seen, its entity as found
    (``learner:<ref>``), its learner's ref and pseudonym, and the other provider's
    learner it rests on as found (``<provider>/learner:<ref>``,
    :func:`kpitools.model.related_learner`; blank for most), named as ``entity`` is:
    its ref, never a name or ULN; joined with that provider's findings by
    ``provider_id || '/' || entity``."""
    findings = register_findings(audit.findings(), audit.provider_id, pseudonymiser)
    ids = [
        exception_id(audit.provider_id, r, str(e), str(b))
        for r, e, b in zip(
            findings["rule"], findings["id_entity"], findings["bootcamp_id"], strict=True
        )
    ]
    first_seen: dict[str, object] = {}
    if followup is not None:
        first_seen = dict(
            zip(followup.exceptions["exception_id"], followup.exceptions["first_seen"], strict=True)
        )
    refs = findings["learner_ref"].fillna("").astype(str)
    return pd.DataFrame(
        {
            "exception_id": ids,
            "first_seen": [_date(first_seen.get(i)) for i in ids],
            "bootcamp_id": findings["bootcamp_id"].astype(str),
            "kpi": findings["kpi"].astype(str),
            "rule": findings["rule"].astype(str),
            "severity": findings["severity"].astype(str),
            "entity": findings["entity"].astype(str),
            "learner_ref": refs,
            "pseudonym": [pseudonymiser.learner(r) if r else "" for r in refs],
            "source": findings["source"].fillna("").astype(str),
            "message": findings["message"].fillna("").astype(str),
            "related": findings["related"].fillna("").astype(str),
        }
    )


def learner_rows(audit: ProviderAudit, pseudonymiser: Pseudonymiser) -> pd.DataFrame:
    """Each learner row of the return: ref, pseudonym, bootcamp, type, employer, the
    milestone dates and the source row; no name, ULN or contact detail."""
    learners = audit.provider.tables.get("learners")
    columns = [
        "learner_ref",
        "pseudonym",
        "bootcamp_id",
        "learner_type",
        "employer_id",
        *LEARNER_DATES,
        "source",
    ]
    if learners is None or learners.empty:
        return pd.DataFrame(columns=columns)
    refs = learners["learner_ref"].astype(str)
    names = {ref: pseudonymiser.learner(ref) for ref in refs.unique()}
    frame = pd.DataFrame(
        {
            "learner_ref": refs,
            "pseudonym": refs.map(names),
            "bootcamp_id": learners["bootcamp_id"].astype(str),
            "learner_type": _text(learners.get("learner_type"), len(learners)),
            "employer_id": _text(learners.get("employer_id"), len(learners)),
            "source": learners["source"].astype(str),
        }
    )
    for name in LEARNER_DATES:
        frame[name] = [_date(v) for v in learners[name]] if name in learners else None
    return frame[columns].reset_index(drop=True)


def register_rows(followup: FollowUp) -> pd.DataFrame:
    """The register as written: each row of its Exceptions and Resolved sheets, its
    working columns and its change, as text."""
    frames = []
    for sheet, frame in (
        (EXCEPTIONS_SHEET, followup.exceptions),
        (RESOLVED_SHEET, followup.resolved),
    ):
        shown = frame.reindex(columns=["exception_id", *_REGISTER_ROW_COLUMNS])
        texts = shown.map(cell_text)
        frames.append(texts.assign(sheet=sheet))
    rows = pd.concat(frames, ignore_index=True)
    return rows.replace("", None).assign(exception_id=rows["exception_id"])


def _text(values: pd.Series | None, count: int) -> list[str | None]:
    if values is None:
        return [None] * count
    return [cell_text(v) or None for v in values]


def _date(value: object) -> date | None:
    """A date cell as a date: None for a blank, NaT, or anything that is not a date."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None
