"""A learner's ILR record for a case: where it is (file, line, ``LearnRefNumber``), each
of its aims as the file writes it, which file gives the current state, and the values
the audit compared with the datasheet (:mod:`kpitools.ilr.reconcile`), side by side.

The files are the period's (``DATA/PERIOD/PROVIDER/ilr/*.xml``, as the audit reads
them): each collection year's latest file gives the current state, the earlier ones are
read by the audit only for when withdrawals were first reported
(:func:`kpitools.ilr.mapping.superseded_positions`). Personal fields of the ILR (ULN,
names, date of birth) are never taken into the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kpitools.errors import KpiToolsError
from kpitools.ilr.events import WITHDRAW_REASONS
from kpitools.ilr.mapping import superseded_positions, tables_from_ilr_files
from kpitools.ilr.reader import read_ilr
from kpitools.ilr.records import IlrDelivery, IlrLearner
from kpitools.layout import ilr_files
from kpitools.rules import Rules

CURRENT, SUPERSEDED = "current state", "superseded (read for withdrawal report dates)"
COMPARED = ("start_date", "withdrawal_date", "completion_date", "learner_type")
"""The datasheet's values the audit compares with the ILR (ILR-MISMATCH-*)."""
AIM_COLUMNS = (
    "file",
    "line",
    "LearnRefNumber",
    "AimSeqNumber",
    "LearnAimRef",
    "AimType",
    "LearnStartDate",
    "LearnPlanEndDate",
    "LearnActEndDate",
    "CompStatus",
    "WithdrawReason",
    "Outcome",
    "AchDate",
    "FAMs",
)


@dataclass(frozen=True)
class IlrRecord:
    """A learner in the period's ILR files.

    Attributes:
        files: each ILR file of the period with its role (:data:`CURRENT` or
            :data:`SUPERSEDED`) and the line of the learner's ``Learner`` element there
            (blank: not in that file).
        aims: one row per aim per file the learner is in (:data:`AIM_COLUMNS`).
        compared: per bootcamp, each value of :data:`COMPARED`: the datasheet's and its
            ``file:line``, the ILR's (as mapped from the current files) and its
            ``file:line``, and whether they agree.
    """

    files: pd.DataFrame
    aims: pd.DataFrame
    compared: pd.DataFrame


def ilr_record(
    provider_dir: Path | None, learner_ref: str, datasheet: pd.DataFrame | None, rules: Rules
) -> tuple[IlrRecord | None, str]:
    """The learner's ILR record in the ILR files of ``provider_dir``, with the datasheet
    rows (``learners``) it is compared with, mapped with the period's ``rules``; (None,
    why) when there is none."""
    paths = ilr_files(provider_dir) if provider_dir is not None else []
    if not paths:
        return None, "the provider gave no ILR file for the period"
    superseded = superseded_positions(paths)
    files, aims = [], []
    try:
        for position, path in enumerate(paths):
            read = read_ilr(path, keep=lambda found: found.learn_ref_number == learner_ref)
            role = SUPERSEDED if position in superseded else CURRENT
            lines = ", ".join(str(learner.line) for learner in read.learners)
            files.append({"file": f"ilr/{path.name}", "role": role, "learner at line": lines})
            aims += [
                _aim(f"ilr/{path.name}", learner, d)
                for learner in read.learners
                for d in learner.deliveries
            ]
        mapped = tables_from_ilr_files({"ilr": paths}, rules=rules)["ilr"]
    except KpiToolsError as error:
        return None, f"the ILR files could not be read: {error.one_line()}"
    if isinstance(mapped, KpiToolsError):
        return None, f"the ILR files could not be read: {mapped.one_line()}"
    if not aims:
        return None, "the learner is in none of the period's ILR files"
    ilr_rows = mapped.learners[mapped.learners["learner_ref"].astype(str) == learner_ref]
    return (
        IlrRecord(
            files=pd.DataFrame(files),
            aims=pd.DataFrame(aims, columns=list(AIM_COLUMNS)),
            compared=_compared(datasheet, ilr_rows),
        ),
        "",
    )


def _aim(file: str, learner: IlrLearner, aim: IlrDelivery) -> dict[str, object]:
    reason = aim.withdraw_reason
    return {
        "file": file,
        "line": learner.line,
        "LearnRefNumber": learner.learn_ref_number,
        "AimSeqNumber": aim.aim_seq_number,
        "LearnAimRef": aim.learn_aim_ref,
        "AimType": aim.aim_type,
        "LearnStartDate": aim.learn_start_date,
        "LearnPlanEndDate": aim.learn_plan_end_date,
        "LearnActEndDate": aim.learn_act_end_date,
        "CompStatus": aim.comp_status,
        "WithdrawReason": ""
        if reason is None
        else f"{reason} ({WITHDRAW_REASONS.get(reason, 'not a known code')})",
        "Outcome": aim.outcome,
        "AchDate": aim.ach_date,
        "FAMs": "; ".join(f"{fam.fam_type} {fam.code}" for fam in aim.fams),
    }


def _compared(datasheet: pd.DataFrame | None, ilr: pd.DataFrame) -> pd.DataFrame:
    """Each compared value of each bootcamp, datasheet beside ILR."""
    sheet = datasheet if datasheet is not None else pd.DataFrame(columns=["bootcamp_id"])
    rows = []
    for bootcamp in sorted({*sheet["bootcamp_id"].astype(str), *ilr["bootcamp_id"].astype(str)}):
        a = sheet[sheet["bootcamp_id"].astype(str) == bootcamp]
        b = ilr[ilr["bootcamp_id"].astype(str) == bootcamp]
        for name in COMPARED:
            left = _value(a, name)
            right = _value(b, name)
            rows.append(
                {
                    "bootcamp_id": bootcamp,
                    "field": name,
                    "datasheet": left,
                    "datasheet source": _value(a, "source"),
                    "ILR": right,
                    "ILR source": _value(b, "source"),
                    "agree": "yes" if left == right else "NO",
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "bootcamp_id",
            "field",
            "datasheet",
            "datasheet source",
            "ILR",
            "ILR source",
            "agree",
        ],
    )


def _value(rows: pd.DataFrame, name: str) -> str:
    """The first row's value as text (dates as ``YYYY-MM-DD``), blank when missing."""
    if rows.empty or name not in rows.columns:
        return ""
    value = rows[name].iloc[0]
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return str(value)
