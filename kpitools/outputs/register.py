"""What the exceptions register holds, sheet by sheet, and the follow-up it carries.

The register (``exceptions.xlsx``) is the auditor's living worklist: a *Summary*, the
open *Exceptions* (with the follow-up carried from this period's earlier register and
last month's, computed with the audit by
:func:`kpitools.worklists.followup.provider_followup`), the *Resolved* ones, the
*Evidence request* for the provider, the *Rejected rows*, the informational list of
career progression, every worklist and sample the pack summarises, the members of every
KPI figure off track or not met (a sheet each, :func:`members_sheet`), and a hidden sheet of
what kpitools wrote into the working columns (the baseline an auditor's edits are told
by). Written by :func:`kpitools.outputs.workbook.write_register`, laid out for work
(:func:`register_layouts`); read back by :func:`kpitools.worklists.followup.read_register`.
A register a run replaces is kept under ``.history`` (:func:`keep_replaced_register`).
"""

from __future__ import annotations

import shutil
from collections.abc import Collection
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from kpitools import layout
from kpitools.errors import PackError
from kpitools.layout import REGISTER_FILE
from kpitools.model import (
    EVIDENCE_REPLY,
    LAST_MONTH_REGISTER,
    OFF_COURSE,
    REOPENED,
    FollowUp,
    KpiResult,
)
from kpitools.present.findings import kpi_sentences
from kpitools.present.report import members_sheet_name
from kpitools.privacy.naming import WORKING
from kpitools.privacy.pseudonym import key_fingerprint
from kpitools.worklists.evidence_request import (
    LINE_COLUMNS,
    REPLY_COLUMNS,
    evidence_request,
    reply_by,
    request_header,
)
from kpitools.worklists.followup import (
    DATE_COLUMNS,
    EXCEPTIONS_SHEET,
    FOLLOW_UP_STATUSES,
    INFORMATIONAL_SHEET,
    KEY_ITEM,
    RESOLVED_SHEET,
    SUMMARY_SHEET,
    WRITTEN_SHEET,
    written_frame,
)
from kpitools.worklists.replies import REFERENCE_LIMIT, REPLY_LIMIT

if TYPE_CHECKING:
    from kpitools.outputs.workbook import SheetLayout
    from kpitools.present.context import PackContext

EVIDENCE_FILE = "evidence_request.csv"
EVIDENCE_WORKBOOK = layout.EVIDENCE_WORKBOOK
EVIDENCE_SHEET = "Evidence request"
REQUESTED_BY = "the Skills Bootcamps KPI audit"  # the header's "requested by" when not given
_REPLY_FILL = "FFF2CC"  # the reply columns, shaded where the provider types
AGE_FLAG_DAYS = 30  # an exception open longer than this is highlighted
_WIDTHS = {
    "exception_id": 17,
    "severity": 9,
    "rule": 24,
    "status": 11,
    "earlier_status": 11,
    "owner": 16,
    "due_date": 12,
    "response": 40,
    "response_date": 13,
    "evidence_ref": 18,
    "prepared_by": 14,
    "reviewed_by": 14,
    "reviewed_on": 12,
    "change": 10,
    "first_seen": 12,
    "last_seen": 12,
    "age_days": 9,
    "review_note": 30,
    "entity": 30,
    "source": 30,
    "message": 50,
    "related": 30,
}
_WORKED_DATES = tuple(c for c in DATE_COLUMNS if c not in ("first_seen", "last_seen"))


def register_layouts() -> dict[str, SheetLayout]:
    """How the register's sheets are laid out for work: the id column frozen with the
    header, a status drop-down (``reopened`` among the choices), date checks on the dates
    an auditor fills in, severity colours, ages over 30 days and reopened rows
    highlighted, readable widths; the baseline sheet hidden."""
    from kpitools.outputs.workbook import Highlight, SheetLayout  # openpyxl: not in a kernel

    severity = (
        Highlight("severity", "equal", '"high"', "FFC7CE"),
        Highlight("severity", "equal", '"medium"', "FFEB9C"),
        Highlight("severity", "equal", '"low"', "DDEBF7"),
    )
    worked = SheetLayout(
        statuses=FOLLOW_UP_STATUSES,
        date_columns=_WORKED_DATES,
        frozen_columns=1,
        highlights=severity,
        widths=_WIDTHS,
    )
    return {
        EXCEPTIONS_SHEET: replace(
            worked,
            highlights=(
                Highlight("status", "equal", f'"{REOPENED}"', "F8CBAD", whole_row=True),
                *severity,
                Highlight("age_days", "greaterThan", str(AGE_FLAG_DAYS), "F4B183"),
            ),
        ),
        RESOLVED_SHEET: worked,
        WRITTEN_SHEET: SheetLayout(hidden=True),
    }


def summary_frame(ctx: PackContext, followup: FollowUp) -> pd.DataFrame:
    """The register's *Summary* sheet: who, when, the key, counts, changes, what was
    carried and from where, and KPI statuses."""
    audit = ctx.audit
    counts = followup.counts()
    rows: list[tuple[str, object]] = [
        ("provider", audit.provider.provider_name),
        ("provider_id", audit.provider_id),
        ("period", audit.period or ctx.params.resolved_period),
        ("as_of", audit.as_of),
        ("personal data", "shown (include_pii)" if ctx.include_pii else "pseudonymised"),
        (KEY_ITEM, key_fingerprint(ctx.pseudonymiser.key)),
        ("open exceptions", counts["total"]),
        *((f"{s} severity", counts[s]) for s in ("high", "medium", "low")),
        ("new since last month", counts["new"]),
        ("recurring", counts["recurring"]),
        ("events not repeated, open until closed (change = carried)", counts["carried"]),
        ("rows added by hand (change = manual)", counts["manual"]),
        ("resolved since last month (sheet Resolved)", counts["resolved"]),
        ("reopened: recurring although marked resolved or accepted", counts["reopened"]),
        ("edited after review (see review_note)", counts["edited_after_review"]),
        *(("edited after review", eid) for eid in followup.edited_after_review),
        ("previous register (in the output folder)", _previous_shown(followup)),
        ("informational (sheet " + INFORMATIONAL_SHEET + ")", len(audit.informational())),
    ]
    for source in followup.sources:
        if source.role == EVIDENCE_REPLY:
            rows += [
                ("provider's evidence reply (in the data folder)", layout.shown_path(source.path)),
                ("provider's evidence reply: sha256", source.sha256),
                ("provider's evidence reply: lines read", source.rows),
                ("provider's evidence reply: exceptions answered (in response)", source.edits),
            ]
            continue
        what = (
            "last month's register"
            if source.role == LAST_MONTH_REGISTER
            else "this period's earlier register"
        )
        rows += [
            (f"carried from {what} (in the output folder)", layout.shown_path(source.path)),
            (
                f"{what}: saved by, at",
                f"{source.last_modified_by or '-'}, {source.modified or '-'}",
            ),
            (f"{what}: sha256", source.sha256),
            (f"{what}: values an auditor changed in it", source.edits),
            (f"{what}: columns an auditor added", ", ".join(source.added_columns) or "none"),
            (f"{what}: rows added by hand", source.manual_rows),
            *((f"{what}: not as kpitools wrote it", line) for line in source.handled),
        ]
    rows.append(("registers this run replaced", f"kept under {layout.HISTORY_FOLDER}/"))
    rows += [("note", note) for note in followup.notes]
    rows += [(label, sentence) for label, sentence in kpi_sentences(audit)]
    return pd.DataFrame(rows, columns=["item", "value"])


def _previous_shown(followup: FollowUp) -> str:
    """Last month's register as the Summary names it: its path in the output folder, or
    that none was found there (or looked for: no period)."""
    if followup.previous_found:
        return followup.previous
    return f"none found at {followup.previous}" if followup.previous else "none looked for"


def register_sheets(ctx: PackContext, followup: FollowUp) -> dict[str, pd.DataFrame]:
    """Every sheet of the register, in order, learners named as working outputs name them,
    the hidden baseline last."""
    exceptions = followup.exceptions
    sheets = {
        SUMMARY_SHEET: summary_frame(ctx, followup),
        EXCEPTIONS_SHEET: exceptions,
        RESOLVED_SHEET: followup.resolved,
        EVIDENCE_SHEET: evidence_request(exceptions, _period(ctx))[list(LINE_COLUMNS)],
        "Rejected rows": ctx.rejected(WORKING),
        INFORMATIONAL_SHEET: ctx.informational(WORKING),
    }
    for name, frame in ctx.worklists(WORKING).items():
        sheets[str(name)[:31]] = frame
    for result in ctx.audit.kpi_results:
        if result.status in OFF_COURSE:
            sheets[members_sheet(result, sheets)] = ctx.members(result, WORKING)
    sheets[WRITTEN_SHEET] = written_frame(
        {EXCEPTIONS_SHEET: exceptions, RESOLVED_SHEET: followup.resolved}
    )
    return sheets


def members_sheet(result: KpiResult, taken: Collection[str]) -> str:
    """The register sheet of an off-course figure's members
    (:func:`kpitools.present.report.members_sheet_name`), numbered when that name is
    taken."""
    name = members_sheet_name(result)
    number = 2
    while name in taken:
        suffix = f" ({number})"
        name = name[: 31 - len(suffix)] + suffix
        number += 1
    return name


def write_provider_register(ctx: PackContext, out_dir: Path | None = None) -> FollowUp:
    """Write ``exceptions.xlsx`` and ``evidence_request.csv`` into ``out_dir`` (default:
    the params' ``out_dir``; a batch writes into a staging folder published afterwards)
    from the follow-up computed with the audit.

    Raises:
        PackError: the audit was computed without its register's follow-up.
    """
    from kpitools.io.files import csv_bytes, write_atomic
    from kpitools.outputs.workbook import (  # openpyxl: not in a pack's kernel
        write_evidence_request,
        write_register,
    )

    followup = ctx.followup
    if followup is None:
        raise PackError(
            "the audit holds no register follow-up: compute it with the provider's "
            "register trail (kpitools.worklists.followup.RegisterTrail)",
            path=ctx.audit.provider.path,
        )
    out_dir = Path(ctx.params.out_dir) if out_dir is None else out_dir
    sheets = register_sheets(ctx, followup)
    write_register(
        sheets, out_dir / REGISTER_FILE, layouts=register_layouts(), note_sheet="Summary"
    )
    request = evidence_request(followup.exceptions, _period(ctx))
    write_evidence_request(
        request_header(
            provider=ctx.audit.provider.provider_name,
            provider_id=ctx.audit.provider_id,
            period=_period(ctx),
            requested_by=ctx.params.requested_by or REQUESTED_BY,
            reply_date=reply_by(ctx.audit.as_of, ctx.params.reply_by),
            lines=len(request),
        ),
        request,
        out_dir / EVIDENCE_WORKBOOK,
        sheet_name=EVIDENCE_SHEET,
        layout=evidence_layout(),
    )
    write_atomic(out_dir / EVIDENCE_FILE, csv_bytes(request, tuple(request.columns)))
    return followup


def _period(ctx: PackContext) -> str:
    return ctx.audit.period or ctx.params.resolved_period


def evidence_layout() -> SheetLayout:
    """The evidence request's lines laid out for the provider: line and topic frozen,
    the reply columns shaded, the reply date checked as a date and the texts as fitting
    a register cell."""
    from kpitools.outputs.workbook import SheetLayout

    return SheetLayout(
        date_columns=("reply_date",),
        frozen_columns=2,
        widths={
            "line": 6,
            "topic": 18,
            "what_we_found": 40,
            "what_we_ask": 40,
            "where": 34,
            "exception_ids": 17,
            "response": 45,
            "evidence_reference": 22,
            "reply_date": 12,
        },
        text_limits={"response": REPLY_LIMIT, "evidence_reference": REFERENCE_LIMIT},
        fills=dict.fromkeys(REPLY_COLUMNS, _REPLY_FILL),
    )


def keep_replaced_register(final: Path, staging: Path) -> Path | None:
    """Before ``final`` (``OUT/<period>/<provider>``) is replaced by the new set in
    ``staging``: the registers kept in its ``.history`` folder and its case files
    (``cases/``, ``kpitools case``) go into the new set, and its registers
    (``exceptions.xlsx`` and an ``exceptions.xlsm`` or ``.csv`` an auditor saved) into
    the new set's ``.history`` (under a UTC timestamp), so that no register or case an
    auditor worked in is ever lost, whatever the new set holds (a failed provider's holds
    only ``error.txt``).

    Returns:
        Where the newest of its registers (the one a run reads back) is kept (None:
        ``final`` holds none).
    """
    for folder in (layout.HISTORY_FOLDER, layout.CASES_FOLDER):
        if (final / folder).is_dir():
            shutil.copytree(final / folder, staging / folder, dirs_exist_ok=True)
    kept_at = None
    now = datetime.now(UTC)
    for register in layout.register_files(final):  # the .xlsm or .csv an auditor saved too
        suffix = register.suffix
        target = layout.history_register(staging, now.strftime("%Y%m%dT%H%M%SZ"), suffix)
        if target.exists():  # two runs within a second: the microseconds tell them apart
            target = layout.history_register(staging, now.strftime("%Y%m%dT%H%M%S%fZ"), suffix)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(register, target)
        kept_at = kept_at or target
    return kept_at
