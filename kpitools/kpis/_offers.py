"""What makes a job offer or outcome valid for the guidance: shared by the guaranteed
interview and career progression KPIs, so the two can never disagree."""

from __future__ import annotations

import numpy as np
import pandas as pd

VALID_ROLE_TYPES = ("job", "apprenticeship", "accelerated_apprenticeship")


def offer_problems(
    role_type: pd.Series,
    matches_skills: pd.Series,
    accelerated: pd.Series,
    same_employer: pd.Series,
) -> pd.Series:
    """Why each offer is not valid, or ``""`` when it is.

    An offer is valid when its role is a job, an apprenticeship or an accelerated
    apprenticeship; it matches the skills of the bootcamp; it is not a full-length
    apprenticeship on a bootcamp leading to an accelerated apprenticeship; and, where the
    learner must move, it is not with the learner's own employer.

    Args:
        role_type: the offer's role type (may be missing).
        matches_skills: the offer's skills match (boolean, may be missing).
        accelerated: the bootcamp leads to an accelerated apprenticeship.
        same_employer: the offer is with an employer the learner must leave.
    """
    matches = matches_skills.astype("boolean").fillna(False).astype(bool)
    conditions = [
        ~role_type.isin(VALID_ROLE_TYPES),
        accelerated.astype(bool) & role_type.eq("apprenticeship"),
        ~matches,
        same_employer.astype(bool),
    ]
    reasons = [
        "role is not a job or apprenticeship",
        "a full apprenticeship on a bootcamp leading to an accelerated apprenticeship",
        "role does not match the skills of the bootcamp",
        "not with a new employer",
    ]
    return pd.Series(np.select(conditions, reasons, default=""), index=role_type.index,
                     dtype=object)


def same_employer(offer_employer: pd.Series, learner_employer: pd.Series) -> pd.Series:
    """True where both employer ids are known and equal."""
    both = offer_employer.notna() & learner_employer.notna()
    return both & offer_employer.astype(object).eq(learner_employer.astype(object))
