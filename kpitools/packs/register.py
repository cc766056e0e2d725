"""What the exceptions register holds, sheet by sheet, and the follow-up it carries.

The register (``exceptions.xlsx``) is the auditor's living worklist: a *Summary*, the
open *Exceptions* (with the follow-up carried from last month's register by
:func:`kpitools.worklists.followup.follow_up`), the *Resolved* ones, the *Evidence request* for
the provider, the *Rejected rows*, the informational list of career progression and
every worklist and sample the pack summarises. Written by
:func:`kpitools.packs.workbook.write_register`, read back next month by
:func:`kpitools.worklists.followup.read_register`.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from kpitools.errors import PackError
from kpitools.model import findings_frame
from kpitools.privacy.naming import CIRCULATED, WORKING, Audience
from kpitools.worklists.evidence_request import evidence_request
from kpitools.worklists.followup import (
    EXCEPTIONS_SHEET,
    FOLLOW_UP_STATUSES,
    FollowUp,
    follow_up,
    read_register,
)

if TYPE_CHECKING:
    from kpitools.packs.context import PackContext

log = logging.getLogger(__name__)

REGISTER_FILE = "exceptions.xlsx"
EVIDENCE_FILE = "evidence_request.csv"
INFORMATIONAL_SHEET = "CP no outcome (info)"


def previous_register(ctx: PackContext) -> Path | None:
    """Last month's register of this provider, ``OUT/<previous period>/<provider>/
    exceptions.xlsx`` beside this pack's folder, when that folder exists."""
    from kpitools.layout import previous_provider_dir

    period = ctx.audit.period or ctx.params.resolved_period
    folder = previous_provider_dir(ctx.params.out_dir, period) if period else None
    return None if folder is None else folder / REGISTER_FILE


def expected_previous_register(ctx: PackContext) -> str:
    """Where last month's register would be, named in the pack and register when it is
    not there: ``OUT/<previous period>/<provider>/exceptions.xlsx`` with the real period
    (relative to the output folder, so the text is the same wherever OUT is)."""
    from kpitools.calendar import previous_period

    period = ctx.audit.period or ctx.params.resolved_period
    month = previous_period(period) if period else "<previous period>"
    return f"OUT/{month}/{ctx.audit.provider_id}/{REGISTER_FILE}"


def compute_followup(ctx: PackContext) -> FollowUp:
    """This month's register rows with the follow-up carried from last month's register
    (an unreadable previous register is noted, never fatal)."""
    from kpitools.calendar import previous_period

    period = ctx.audit.period or ctx.params.resolved_period
    where = previous_register(ctx)
    previous = None
    note = ""
    if where is not None and where.is_file():
        try:
            previous = read_register(where)
        except PackError as error:
            log.warning("%s: previous register not used: %s", ctx.audit.provider_id, error.one_line())
            note = f"previous register not used: {error.one_line()}"
    result = follow_up(
        register_findings(ctx), provider_id=ctx.audit.provider_id, as_of=ctx.audit.as_of,
        previous=previous, previous_period=previous_period(period) if period else "",
        previous_where=where.as_posix() if where is not None else expected_previous_register(ctx),
    )
    if note:
        result = replace(result, notes=(note, *result.notes))
    return result


def register_findings(ctx: PackContext) -> pd.DataFrame:
    """The findings as the register lists them: the ``exceptions.csv`` columns named as
    a working output names learners, the provider's own ``learner_ref`` (from each
    finding's learner key) and ``id_entity``, the keyed entity the exception id is made
    from (the same with or without include_pii, and revealing no learner ref)."""
    findings = ctx.audit.findings()
    shown = ctx.findings(audience=WORKING)
    refs = [f.learner_ref for f in findings]
    return shown.assign(
        learner_ref=refs,
        id_entity=[f"learner:{ctx.pseudonymiser.learner(ref)}" if ref else f.entity
                   for ref, f in zip(refs, findings, strict=True)],
    )


def informational(ctx: PackContext, audience: Audience = CIRCULATED) -> pd.DataFrame:
    """Cases reported for information, not flagged (career progression without a
    target: due completers without any outcome), as the given output names learners."""
    frame = findings_frame(ctx.audit.informational(), ctx.audit.provider_id)
    return ctx.show_frame(frame.drop(columns=["provider_id", "severity"]), audience)


def summary_frame(ctx: PackContext, followup: FollowUp) -> pd.DataFrame:
    """The register's *Summary* sheet: who, when, counts, changes and KPI statuses."""
    from kpitools.packs.findings import kpi_sentences

    audit = ctx.audit
    counts = followup.counts()
    rows: list[tuple[str, object]] = [
        ("provider", audit.provider.provider_name),
        ("provider_id", audit.provider_id),
        ("period", audit.period or ctx.params.resolved_period),
        ("as_of", audit.as_of),
        ("personal data", "shown (include_pii)" if ctx.include_pii else "pseudonymised"),
        ("open exceptions", counts["total"]),
        *((f"{s} severity", counts[s]) for s in ("high", "medium", "low")),
        ("new since last month", counts["new"]),
        ("recurring", counts["recurring"]),
        ("resolved since last month (sheet Resolved)", counts["resolved"]),
        ("recurring although marked resolved or accepted", counts["reopened"]),
        ("previous register", followup.previous if followup.previous_found
         else f"none ({followup.previous or 'no period'})"),
        ("informational (sheet " + INFORMATIONAL_SHEET + ")", len(audit.informational())),
    ]
    rows += [("note", note) for note in followup.notes]
    rows += [(label, sentence) for label, sentence in kpi_sentences(audit)]
    return pd.DataFrame(rows, columns=["item", "value"])


def register_sheets(ctx: PackContext, followup: FollowUp) -> dict[str, pd.DataFrame]:
    """Every sheet of the register, in order, learners named as working outputs name them."""
    exceptions = followup.exceptions
    sheets = {
        "Summary": summary_frame(ctx, followup),
        EXCEPTIONS_SHEET: exceptions,
        "Resolved": followup.resolved,
        "Evidence request": evidence_request(exceptions),
        "Rejected rows": ctx.rejected(WORKING),
        INFORMATIONAL_SHEET: informational(ctx, WORKING),
    }
    for name, frame in ctx.worklists(WORKING).items():
        sheets[str(name)[:31]] = frame
    return sheets


def write_provider_register(ctx: PackContext, out_dir: Path | None = None) -> FollowUp:
    """Compute the follow-up, write ``exceptions.xlsx`` and ``evidence_request.csv``
    into ``out_dir`` (default: the params' ``out_dir``; a batch writes into a staging
    folder published afterwards), and keep the follow-up on the audit (the pack shows
    what is new and resolved from it)."""
    from kpitools.io.files import csv_bytes, write_atomic
    from kpitools.packs.workbook import write_register  # openpyxl: not in a pack's kernel

    followup = compute_followup(ctx)
    out_dir = Path(ctx.params.out_dir) if out_dir is None else out_dir
    sheets = register_sheets(ctx, followup)
    write_register(sheets, out_dir / REGISTER_FILE,
                   status_sheets={EXCEPTIONS_SHEET: FOLLOW_UP_STATUSES})
    request = sheets["Evidence request"]
    write_atomic(out_dir / EVIDENCE_FILE, csv_bytes(request, tuple(request.columns)))
    ctx.audit.followup = followup
    return followup
