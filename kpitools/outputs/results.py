"""Write a provider's machine-readable outputs: the KPI results and their members, the
exceptions, the rejected rows and a manifest that proves which data and rules produced them; or, for a
provider that failed, ``error.txt``.

The CSVs hold no timestamp, so the same inputs and rules give byte-identical files;
the generation time lives only in ``manifest.json``. Every file is written through
:func:`kpitools.io.files.write_atomic`, text cells neutralised by
:func:`kpitools.io.files.csv_bytes`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from kpitools.io.files import csv_bytes, write_atomic
from kpitools.kpis.members import KPI_MEMBER_COLUMNS, kpi_members, shown_members
from kpitools.model import EXCEPTION_COLUMNS, KPI_RESULT_COLUMNS, REJECTED_COLUMNS, ProviderAudit
from kpitools.privacy.naming import LearnerNaming
from kpitools.privacy.pseudonym import key_fingerprint
from kpitools.text import visible_text
from kpitools.versions import package_versions

log = logging.getLogger(__name__)

ERROR_FILE = "error.txt"
MANIFEST_FILE = "manifest.json"


def write_error_file(out_dir: str | Path, summary: str, detail: str = "") -> Path:
    """``error.txt`` of a provider that failed: one plain line first, the detail (e.g.
    a traceback, or where the failed notebook is) after a blank line; control characters
    (a value quoted in the error) shown as ``\\xNN`` (:func:`kpitools.text.visible_text`)."""
    text = summary.strip().replace("\n", " ") + "\n"
    if detail.strip():
        text += "\n" + detail.rstrip() + "\n"
    return write_atomic(Path(out_dir) / ERROR_FILE, visible_text(text).encode("utf-8"))


def write_provider_outputs(
    audit: ProviderAudit, out_dir: str | Path, naming: LearnerNaming, *, run: int | None = None
) -> dict[str, Path]:
    """Write kpi_results.csv, kpi_members.csv, exceptions.csv, rejected_rows.csv and
    manifest.json.

    These are working outputs: learners are named by ``naming`` (the identity rule of
    :mod:`kpitools.privacy.naming`, decided here at write time), rejected values that could
    be personal data are withheld unless ``naming.include_pii``.

    Args:
        audit: the provider's audit.
        out_dir: the provider's output folder (created if needed).
        naming: the working-output naming of the provider's learners.
        run: the batch run writing them, its number in the audit store (recorded in the
            manifest), if any.

    Returns:
        The path of each file, by file name.
    """
    out_dir = Path(out_dir)
    frames = {
        "kpi_results.csv": (audit.kpi_frame(), KPI_RESULT_COLUMNS),
        "kpi_members.csv": (members_output(audit, naming), KPI_MEMBER_COLUMNS),
        "exceptions.csv": (naming.frame(audit.exceptions_frame()), EXCEPTION_COLUMNS),
        "rejected_rows.csv": (naming.rejected(audit.provider.rejected), REJECTED_COLUMNS),
    }
    tables = {
        name: (csv_bytes(frame, columns), len(frame)) for name, (frame, columns) in frames.items()
    }
    written = {name: write_atomic(out_dir / name, data) for name, (data, _) in tables.items()}
    manifest = build_manifest(audit, tables, key_fingerprint(naming.pseudonymiser.key))
    if run is not None:
        manifest["run"] = run
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    written[MANIFEST_FILE] = write_atomic(out_dir / MANIFEST_FILE, text.encode("utf-8"))
    log.info("%s: outputs written to %s", audit.provider_id, out_dir)
    return written


def members_output(audit: ProviderAudit, naming: LearnerNaming) -> pd.DataFrame:
    """``kpi_members.csv``: every member of every KPI figure
    (:func:`kpitools.kpis.members.kpi_members`), each named by ``naming`` (a learner by
    its ref and pseudonym), ``in_population`` and ``in_numerator`` as Y / N."""
    return shown_members(kpi_members(audit), naming.entity)


def build_manifest(
    audit: ProviderAudit, outputs: dict[str, tuple[bytes, int]], fingerprint: str = ""
) -> dict[str, Any]:
    """What an auditor needs to prove which inputs, rules and code gave the outputs:
    every file read (:meth:`kpitools.model.ProviderAudit.inputs`: the return, every ILR
    file used or superseded, the previous month's return), each with its role and
    SHA-256, the row counts, the rules, the versions, the pseudonym key's fingerprint and
    the outputs' SHA-256.

    Args:
        audit: the provider's audit.
        outputs: the bytes and row count of each CSV written, by file name.
        fingerprint: the fingerprint of the pseudonym key the outputs' pseudonyms and
            exception ids are made with (:func:`kpitools.privacy.pseudonym.key_fingerprint`).
    """
    provider = audit.provider
    return {
        "provider_id": provider.provider_id,
        "period": audit.period,
        "as_of": audit.as_of.isoformat(),
        "generated_at_utc": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "inputs": [
            {
                "path": f.path,
                "role": f.role,
                "sha256": f.sha256,
                "size_bytes": f.size_bytes,
                "tables": list(f.tables),
                "rows": f.rows,
            }
            for f in audit.inputs()
        ],
        "row_counts": {
            name: {"read": c.read, "accepted": c.accepted, "rejected": c.rejected}
            for name, c in provider.counts.items()
        },
        "profile": audit.rules.profile,
        "rules": audit.rules.as_dict(),
        "pseudonym_key_fingerprint": fingerprint,
        "versions": package_versions(),
        "outputs": {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "rows": rows}
            for name, (data, rows) in outputs.items()
        },
        "samples": sample_record(audit),
        "person_matching": dict(audit.person_model),
        "notes": list(audit.notes),
        "warnings": list(provider.warnings),
    }


def sample_record(audit: ProviderAudit) -> dict[str, dict[str, int | None]]:
    """The verification samples shown in the pack: seed and size of each, so that an
    auditor can draw the same sample again (``kpitools sample --seed``)."""
    record: dict[str, dict[str, int | None]] = {}
    for name, worklist in sorted(audit.worklists.items()):
        if name.startswith("sample_") and "sample_seed" in worklist.columns:
            seeds = worklist["sample_seed"].dropna().unique()
            record[name] = {"seed": int(seeds[0]) if len(seeds) else None, "picked": len(worklist)}
    return record
