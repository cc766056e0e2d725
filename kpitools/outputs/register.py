"""What the exceptions register holds, sheet by sheet, and the follow-up it carries.

The register (``exceptions.xlsx``) is the auditor's living worklist: a *Summary*, the
open *Exceptions* (with the follow-up carried from last month's register, computed with
the audit by :func:`kpitools.worklists.followup.provider_followup`), the *Resolved* ones, the *Evidence request* for
the provider, the *Rejected rows*, the informational list of career progression and
every worklist and sample the pack summarises. Written by
:func:`kpitools.outputs.workbook.write_register`, read back next month by
:func:`kpitools.worklists.followup.read_register`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from kpitools.errors import PackError
from kpitools.layout import REGISTER_FILE
from kpitools.model import FollowUp
from kpitools.present.findings import kpi_sentences
from kpitools.privacy.naming import WORKING
from kpitools.worklists.evidence_request import evidence_request
from kpitools.worklists.followup import (
    EXCEPTIONS_SHEET,
    FOLLOW_UP_STATUSES,
    INFORMATIONAL_SHEET,
)

if TYPE_CHECKING:
    from kpitools.present.context import PackContext

EVIDENCE_FILE = "evidence_request.csv"


def summary_frame(ctx: PackContext, followup: FollowUp) -> pd.DataFrame:
    """The register's *Summary* sheet: who, when, counts, changes and KPI statuses."""
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
        (
            "previous register",
            followup.previous
            if followup.previous_found
            else f"none ({followup.previous or 'no period'})",
        ),
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
        INFORMATIONAL_SHEET: ctx.informational(WORKING),
    }
    for name, frame in ctx.worklists(WORKING).items():
        sheets[str(name)[:31]] = frame
    return sheets


def write_provider_register(ctx: PackContext, out_dir: Path | None = None) -> FollowUp:
    """Write ``exceptions.xlsx`` and ``evidence_request.csv`` into ``out_dir`` (default:
    the params' ``out_dir``; a batch writes into a staging folder published afterwards)
    from the follow-up computed with the audit.

    Raises:
        PackError: the audit was computed without its register's follow-up.
    """
    from kpitools.io.files import csv_bytes, write_atomic
    from kpitools.outputs.workbook import write_register  # openpyxl: not in a pack's kernel

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
        sheets, out_dir / REGISTER_FILE, status_sheets={EXCEPTIONS_SHEET: FOLLOW_UP_STATUSES}
    )
    request = sheets["Evidence request"]
    write_atomic(out_dir / EVIDENCE_FILE, csv_bytes(request, tuple(request.columns)))
    return followup
