"""M2-NO-EVIDENCE: a completion claimed without the evidence the guidance ties to M2."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from kpitools.calendar import iso
from kpitools.model import Finding, irregularity, learner_entity


def m2_without_evidence(
    learners: pd.DataFrame, interviews: pd.DataFrame, outcomes: pd.DataFrame, *, as_of: date
) -> list[Finding]:
    """M2-NO-EVIDENCE: a completer without the evidence dated on or before completion.

    Population: learners with a completion date on or before ``as_of`` (a later one is
    FUTURE-DATED, not yet an M2). The evidence required, by learner type:

    - independent, or self-employed wanting employment (``wants_interview`` Y): an
      interview offer (``interviews.offer_date``);
    - co-funded: an interview offer, or the employer's new-role evidence
      (``learners.new_role_evidence_date``);
    - any other self-employed learner: a ``self_employment_plan`` outcome.

    Any offer counts here, valid or not: whether it is valid is the guaranteed-interview
    KPI's question (INT-INVALID); this check asks whether M2 has evidence at all.

    Returns:
        One finding per completer without the evidence.
    """
    cutoff = pd.Timestamp(as_of)
    completers = learners[
        learners["completion_date"].notna() & (learners["completion_date"] <= cutoff)
    ]
    # Whole columns at once (a period's stacked tables hold tens of thousands of
    # completers); a blank date (NaT) is never on or before the completion.
    completion = completers["completion_date"]
    offer_ok = _first_date(completers, interviews, "offer_date") <= completion
    plan_ok = (
        _first_date(
            completers, outcomes[outcomes["outcome_type"] == "self_employment_plan"], "outcome_date"
        )
        <= completion
    )
    cofunded = completers["learner_type"].eq("co-funded").to_numpy()
    planner = completers["learner_type"].eq("self-employed").to_numpy() & ~_wants_interview(
        completers
    )
    evidenced = np.where(
        cofunded,
        offer_ok | (completers["new_role_evidence_date"] <= completion),
        np.where(planner, plan_ok, offer_ok),
    )
    findings: list[Finding] = []
    for row, is_cofunded, is_planner in zip(
        completers[~evidenced].itertuples(index=False),
        cofunded[~evidenced].tolist(),
        planner[~evidenced].tolist(),
        strict=True,
    ):
        if is_cofunded:
            needed = "an interview offer or the employer's new-role evidence"
        elif is_planner:
            needed = "a self-employment plan outcome"
        else:
            needed = "an interview offer"
        findings.append(
            irregularity(
                "M2-NO-EVIDENCE",
                learner_entity(row.learner_ref),
                [row.source],
                f"{row.learner_type} learner completed on {iso(row.completion_date, missing='blank')} "
                f"without {needed} dated on or before completion",
                str(row.bootcamp_id),
            )
        )
    return findings


def _wants_interview(learners: pd.DataFrame) -> np.ndarray:
    """Whether each learner wants an interview; unknown: the contract default (yes for
    an independent learner)."""
    wants = learners["wants_interview"]
    return np.where(
        wants.isna().to_numpy(),
        learners["learner_type"].eq("independent").to_numpy(),
        wants.fillna(False).astype(bool).to_numpy(),
    )


def _first_date(learners: pd.DataFrame, frame: pd.DataFrame, column: str) -> pd.Series:
    """For each learner (aligned with ``learners``), the earliest date of ``column``
    among the rows of ``frame`` of the same (learner_ref, bootcamp_id); NaT when none
    (rows with a blank key or date left out)."""
    known = frame.dropna(subset=["learner_ref", "bootcamp_id", column])
    if known.empty:
        return pd.Series(pd.NaT, index=learners.index, dtype="datetime64[ns]")
    firsts = known.groupby(["learner_ref", "bootcamp_id"])[column].min()
    keys = pd.MultiIndex.from_arrays([learners["learner_ref"], learners["bootcamp_id"]])
    return pd.Series(firsts.reindex(keys).to_numpy(), index=learners.index)
