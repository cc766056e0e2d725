"""Write a provider's machine-readable outputs: the KPI results, the exceptions, the
rejected rows and a manifest that proves which data and rules produced them.

The CSVs hold no timestamp, so the same inputs and rules give byte-identical files;
the generation time lives only in ``manifest.json``. Every file is written to a
temporary name in the output folder and then renamed over the old one (atomic).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import tempfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from kpitools.model import EXCEPTION_COLUMNS, KPI_RESULT_COLUMNS, REJECTED_COLUMNS, ProviderAudit
from kpitools.privacy.naming import LearnerNaming

log = logging.getLogger(__name__)

# OWASP "CSV injection": a cell starting with one of these is a formula to a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")

VERSIONED_PACKAGES = (
    "kpitools", "pandas", "numpy", "papermill", "nbconvert", "nbformat", "matplotlib",
    "openpyxl", "lxml", "pyyaml", "click",
)


def neutralise_cell(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, made inert.

    Text starting with ``=``, ``+``, ``-``, ``@``, tab, CR or LF gets a leading single
    quote (the OWASP CSV-injection advice). Anything that is not text (numbers,
    including negative ones, dates, missing values) is returned unchanged.

    >>> neutralise_cell('=HYPERLINK("http://example.invalid","x")')
    '\\'=HYPERLINK("http://example.invalid","x")'
    >>> neutralise_cell(-3.5)
    -3.5
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell passed through :func:`neutralise_cell`."""
    text_columns = [c for c in frame.columns
                    if pd.api.types.is_object_dtype(frame[c]) or pd.api.types.is_string_dtype(frame[c])]
    return frame.assign(**{c: frame[c].map(neutralise_cell) for c in text_columns})


def csv_bytes(frame: pd.DataFrame, columns: tuple[str, ...]) -> bytes:
    """``frame`` as UTF-8 CSV bytes with exactly ``columns``, text cells neutralised."""
    safe = neutralise_frame(frame.reindex(columns=list(columns)))
    return safe.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _process_umask() -> int:
    mask = os.umask(0o077)  # reading the umask means setting it: done once, at import
    os.umask(mask)
    return mask


_UMASK = _process_umask()


def write_atomic(path: Path, data: bytes, *, private: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder.

    Args:
        path: the file to write (its folder is created if needed).
        data: the bytes.
        private: readable by the owner only (0600), for files holding personal data;
            otherwise the usual mode for new files (0666 less the umask).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False)
    try:
        with handle:  # created 0600 (mkstemp): never readable by others while written
            handle.write(data)
            if not private:
                os.chmod(handle.name, 0o666 & ~_UMASK)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return path


ERROR_FILE = "error.txt"


def write_error_file(out_dir: str | Path, summary: str, detail: str = "") -> Path:
    """``error.txt`` of a provider that failed: one plain line first, the detail (e.g.
    a traceback, or where the failed notebook is) after a blank line."""
    text = summary.strip().replace("\n", " ") + "\n"
    if detail.strip():
        text += "\n" + detail.rstrip() + "\n"
    return write_atomic(Path(out_dir) / ERROR_FILE, text.encode("utf-8"))


def write_provider_outputs(
    audit: ProviderAudit, out_dir: str | Path, naming: LearnerNaming
) -> dict[str, Path]:
    """Write kpi_results.csv, exceptions.csv, rejected_rows.csv and manifest.json.

    These are working outputs: learners are named by ``naming`` (the identity rule of
    :mod:`kpitools.privacy.naming`, decided here at write time), rejected values that could
    be personal data are withheld unless ``naming.include_pii``.

    Args:
        audit: the provider's audit.
        out_dir: the provider's output folder (created if needed).
        naming: the working-output naming of the provider's learners.

    Returns:
        The path of each file, by file name.
    """
    out_dir = Path(out_dir)
    frames = {
        "kpi_results.csv": (audit.kpi_frame(), KPI_RESULT_COLUMNS),
        "exceptions.csv": (naming.frame(audit.exceptions_frame()), EXCEPTION_COLUMNS),
        "rejected_rows.csv": (naming.rejected(audit.provider.rejected), REJECTED_COLUMNS),
    }
    tables = {name: (csv_bytes(frame, columns), len(frame))
              for name, (frame, columns) in frames.items()}
    written = {name: write_atomic(out_dir / name, data) for name, (data, _) in tables.items()}
    manifest = build_manifest(audit, tables)
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    written["manifest.json"] = write_atomic(out_dir / "manifest.json", text.encode("utf-8"))
    log.info("%s: outputs written to %s", audit.provider_id, out_dir)
    return written


def build_manifest(audit: ProviderAudit, outputs: dict[str, tuple[bytes, int]]) -> dict[str, Any]:
    """What an auditor needs to prove which inputs, rules and code gave the outputs.

    Args:
        audit: the provider's audit.
        outputs: the bytes and row count of each CSV written, by file name.
    """
    provider = audit.provider
    rules = audit.rules.as_dict() if hasattr(audit.rules, "as_dict") else dict(vars(audit.rules))
    return {
        "provider_id": provider.provider_id,
        "period": audit.period,
        "as_of": audit.as_of.isoformat(),
        "generated_at_utc": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "inputs": [
            {"path": f.path, "sha256": f.sha256, "size_bytes": f.size_bytes,
             "tables": list(f.tables), "rows": f.rows}
            for f in provider.inputs
        ],
        "row_counts": {
            name: {"read": c.read, "accepted": c.accepted, "rejected": c.rejected}
            for name, c in provider.counts.items()
        },
        "rules": rules,
        "versions": package_versions(),
        "outputs": {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "rows": rows}
            for name, (data, rows) in outputs.items()
        },
        "samples": sample_record(audit),
        "notes": list(audit.notes),
        "warnings": list(provider.warnings),
    }


def sample_record(audit: ProviderAudit) -> dict[str, dict[str, int]]:
    """The verification samples shown in the pack: seed and size of each, so that an
    auditor can draw the same sample again (``kpitools sample --seed``)."""
    record: dict[str, dict[str, int]] = {}
    for name, worklist in sorted(audit.worklists.items()):
        if name.startswith("sample_") and "sample_seed" in worklist.columns:
            seeds = worklist["sample_seed"].dropna().unique()
            record[name] = {"seed": int(seeds[0]) if len(seeds) else None, "picked": len(worklist)}
    return record


def package_versions() -> dict[str, str]:
    """Python and the versions of the packages that shape the results."""
    versions = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
