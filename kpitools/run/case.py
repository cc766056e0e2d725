"""``kpitools case``: one case file built, its notebook run and rendered, its workbook
written, and what an auditor wrote in the workbook before read back into the audit store.

The order keeps what a person typed: the case's workbook, when there is one, is read
first, its changed notes recorded in the store (``register_events``, sheet ``Case``) and
a copy kept under ``cases/.history``; only then is the case gathered (its notes from the
store) and its files written anew. The run is on record (command ``case``) and holds
the period's lock, so a batch rebuilding the period waits for it, and the other way
round.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kpitools.cases.gather import CASE_SHEET, built_from, case_name, gather_case, resolve_entity
from kpitools.errors import ParameterError
from kpitools.io.workspace import private_folder, run_lock
from kpitools.layout import cases_dir, is_period_name, period_out_dir
from kpitools.outputs.case_workbook import (
    keep_case_workbook,
    read_case_notes,
    write_case_workbook,
)
from kpitools.present.case import CASE_FILE, save_case
from kpitools.privacy.pseudonym import Pseudonymiser
from kpitools.run.recording import BUILT, FAILED, RunRecord, recorded_run
from kpitools.run.runner import NOTEBOOKS_DIR, PackJob, PackOutcome, notebook_path, run_pack_job
from kpitools.store.connection import open_store, read_store
from kpitools.store.keys import check_run_key
from kpitools.store.record import record_case_edits

log = logging.getLogger(__name__)

CASE_NOTEBOOK = NOTEBOOKS_DIR / "case.ipynb"


@dataclass(frozen=True)
class CaseFiles:
    """What ``kpitools case`` wrote: the HTML (None when the notebook failed), the
    workbook, the notes read back into the store, and the notebook's outcome."""

    html_path: str | None
    xlsx_path: str
    edits: int
    outcome: PackOutcome


def build_case(
    out: str | Path,
    period: str,
    provider_id: str,
    *,
    learner: str | None = None,
    employer: str | None = None,
    exception: str | None = None,
    include_pii: bool = False,
    notebooks: str | Path | None = None,
    arguments: Sequence[str] = (),
) -> CaseFiles:
    """Build one case file under ``OUT/PERIOD/PROVIDER/cases`` (see the module).

    Raises:
        ParameterError: what the case is about cannot be found; another key.
        StoreError: no audit store, or it cannot be read or written.
        PackError: the case notebook cannot be found; a workbook that cannot be read.
    """
    if not is_period_name(period):
        raise ParameterError(f"the period must be YYYY-MM (a month built into OUT), not {period!r}")
    out_root = Path(out)
    notebook = notebook_path(CASE_NOTEBOOK.name, notebooks)
    key, fingerprint = check_run_key(None, out_root=out_root)
    with read_store(out_root) as con:
        entity = resolve_entity(
            con, provider_id, learner=learner, employer=employer, exception=exception
        )
    _, rules = built_from(out_root, period, provider_id)
    folder = cases_dir(out_root, period, provider_id)
    name = case_name(entity, Pseudonymiser(key, provider_id))
    xlsx = folder / f"{name}.xlsx"
    with (
        run_lock(period_out_dir(out_root, period)),
        recorded_run(
            out_root,
            command="case",
            arguments=arguments,
            period=period,
            key_fingerprint=fingerprint,
            rules=rules,
        ) as record,
        private_folder() as work,
    ):
        edits = _read_back(xlsx, record, period, provider_id, f"CASE-{name}")
        case = gather_case(
            out_root,
            period,
            provider_id,
            key=key,
            learner=learner,
            employer=employer,
            exception=exception,
            include_pii=include_pii,
        )
        saved = save_case(case, work / CASE_FILE)
        outcome = run_pack_job(
            PackJob(
                provider_id=provider_id,
                notebook=str(notebook),
                parameters={
                    "out": str(out_root),
                    "period": period,
                    "provider_id": provider_id,
                    "learner": learner or "",
                    "employer": employer or "",
                    "exception": exception or "",
                    "include_pii": include_pii,
                    "case_path": str(saved),
                },
                executed_path=str(work / f"{name}.ipynb"),
                html_path=str(folder / f"{name}.html"),
                title=f"Case {case.case_id} {provider_id} {period}",
            )
        )
        write_case_workbook(case, xlsx)
        record.finish(
            0 if outcome.ok else 1,
            {provider_id: (BUILT, "") if outcome.ok else (FAILED, outcome.error)},
        )
    return CaseFiles(outcome.html_path if outcome.ok else None, str(xlsx), edits, outcome)


def _read_back(xlsx: Path, record: RunRecord, period: str, provider_id: str, case_id: str) -> int:
    """Read the case's workbook back, when there is one: its changed notes into the
    store, a copy kept under ``cases/.history``; the notes recorded."""
    if not xlsx.is_file():
        return 0
    found = read_case_notes(xlsx)
    kept = keep_case_workbook(xlsx)
    log.info("case workbook kept at %s before it is replaced", kept)
    if not found.changed:
        return 0
    events = pd.DataFrame(
        [
            {
                "period": period,
                "provider_id": provider_id,
                "register_path": xlsx.relative_to(record.out_root).as_posix(),
                "register_sha256": found.sha256,
                "last_modified_by": found.last_modified_by,
                "modified": found.modified,
                "sheet": CASE_SHEET,
                "exception_id": case_id,
                "field": field,
                "written": written,
                "value": value,
            }
            for field, written, value in found.changed
        ]
    )
    with open_store(record.out_root, key_fingerprint=record.key_fingerprint) as con:
        return record_case_edits(con, record.run_id, events)
