"""``kpitools ilr --out DIR``: what a provider's ILR maps onto, as CSV files an auditor
can open in Excel.

- ``learners.csv``, ``interviews.csv``, ``outcomes.csv``: the contract tables the ILR
  fills, in the contract's columns (plus ``source``, the ``Learner`` element);
- ``ilr_learner_facts.csv``: per learner and bootcamp what the contract has no column
  for: co-funded, SME, self-employed, the programme aim's ``CompStatus`` and the
  ``WithdrawReason`` kept with every drop-out;
- ``ilr_findings.csv``: every breach of DfE's bootcamp validation rules (rule,
  severity, learner_ref, aim_seq, source, message).

These are working outputs: ULNs and names are left blank (dates of birth are never
written) unless ``include_pii`` is set. Each file is written atomically.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kpitools.ilr.dfe_rules import FINDING_COLUMNS
from kpitools.ilr.mapping import IlrTables, cell_text
from kpitools.io.files import csv_bytes, write_atomic
from kpitools.returns.contract import PII_COLUMNS, TABLES

FACT_COLUMNS = (
    "learner_ref",
    "bootcamp_id",
    "cofunded",
    "sme",
    "self_employed",
    "comp_status",
    "withdraw_reason",
    "source",
    "aim_seq",
)


def write_ilr_outputs(
    tables: IlrTables, out_dir: str | Path, *, include_pii: bool = False
) -> dict[str, Path]:
    """Write the ILR's contract tables and findings into ``out_dir``.

    Returns:
        File name → path written.
    """
    out = Path(out_dir)
    frames = {
        "learners.csv": (tables.learners, (*TABLES["learners"].column_names, "source")),
        "interviews.csv": (tables.interviews, (*TABLES["interviews"].column_names, "source")),
        "outcomes.csv": (tables.outcomes, (*TABLES["outcomes"].column_names, "source")),
        "ilr_learner_facts.csv": (tables.learner_facts, FACT_COLUMNS),
        "ilr_findings.csv": (
            pd.DataFrame([f.as_row() for f in tables.findings], columns=list(FINDING_COLUMNS)),
            FINDING_COLUMNS,
        ),
    }
    written: dict[str, Path] = {}
    for name, (frame, columns) in frames.items():
        text = frame.reindex(columns=list(columns)).astype(object).map(cell_text)
        if not include_pii:
            text = text.assign(**{c: None for c in PII_COLUMNS["learners"] if c in text.columns})
        written[name] = write_atomic(out / name, csv_bytes(text, columns))
    return written
