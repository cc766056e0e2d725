"""What makes a job offer or outcome valid for the guidance, and how a learner's offers
or outcomes are tallied: shared by the guaranteed interview and career progression
KPIs, so the two can never disagree.

An offer or outcome read from the ILR has its role type ``unknown``
(:data:`~kpitools.returns.contract.UNKNOWN_FROM_ILR`) and no skills match: it exists,
but whether it is valid cannot be told from the file. Its problem is
:data:`UNVERIFIED` ("role type unknown (ILR)"), never "not a job"; a learner whose only
candidates are such is *unverified*, neither failed nor met."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpitools.kpis.common import learner_key, lookup, per_learner
from kpitools.returns.contract import UNKNOWN_FROM_ILR

VALID_ROLE_TYPES = ("job", "apprenticeship", "accelerated_apprenticeship")
UNVERIFIED = "role type unknown (ILR)"
"""The problem of an offer or outcome whose validity the ILR cannot tell."""


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
    learner must move, it is not with the learner's own employer. An offer read from the
    ILR (role type ``unknown``) is :data:`UNVERIFIED` unless it is known to be with the
    learner's own employer.

    Args:
        role_type: the offer's role type (may be missing).
        matches_skills: the offer's skills match (boolean, may be missing).
        accelerated: the bootcamp leads to an accelerated apprenticeship.
        same_employer: the offer is with an employer the learner must leave.
    """
    matches = matches_skills.astype("boolean").fillna(False).astype(bool)
    unknown = role_type.eq(UNKNOWN_FROM_ILR)
    moved = same_employer.astype(bool)
    conditions = [
        unknown & moved,
        unknown,
        ~role_type.isin(VALID_ROLE_TYPES),
        accelerated.astype(bool) & role_type.eq("apprenticeship"),
        ~matches,
        same_employer.astype(bool),
    ]
    reasons = [
        "not with a new employer",
        UNVERIFIED,
        "role is not a job or apprenticeship",
        "a full apprenticeship on a bootcamp leading to an accelerated apprenticeship",
        "role does not match the skills of the bootcamp",
        "not with a new employer",
    ]
    return pd.Series(
        np.select(conditions, reasons, default=""), index=role_type.index, dtype=object
    )


def same_employer(offer_employer: pd.Series, learner_employer: pd.Series) -> pd.Series:
    """True where both employer ids are known and equal."""
    both = offer_employer.notna() & learner_employer.notna()
    return both & offer_employer.astype(object).eq(learner_employer.astype(object))


def tally(
    people: pd.DataFrame,
    events: pd.DataFrame,
    problems: pd.Series,
    *,
    date_column: str,
    counted: str,
    valid: str,
) -> pd.DataFrame:
    """``people`` with, per learner, how many ``events`` (offers or outcomes) they have
    (column ``counted``), how many are valid (``valid``: a blank problem), how many are
    :data:`UNVERIFIED` (``unverified``) and the problem of the earliest-dated invalid one
    (``problem``; ties: log order; blank when none; unverified ones are not invalid).

    ``events`` hold ``learner_ref``, ``bootcamp_id`` and ``date_column``; ``problems``
    is why each event is not valid (:func:`offer_problems`), ``""`` when it is.
    """
    events = events.assign(
        valid=problems.eq(""), unverified=problems.eq(UNVERIFIED), problem=problems
    )
    key = learner_key(events)
    counts = per_learner(key, events["valid"], ["size", "sum"])
    unknown = per_learner(key, events["unverified"], "sum")
    invalid = events.loc[~events["valid"] & ~events["unverified"]].sort_values(
        date_column, kind="stable"
    )
    first_problem = per_learner(key[invalid.index], invalid["problem"], "first")
    person = learner_key(people)
    return people.assign(
        **{
            counted: lookup(person, counts["size"]).fillna(0).astype(int),
            valid: lookup(person, counts["sum"]).fillna(0).astype(int),
            "unverified": lookup(person, unknown).fillna(0).astype(int),
            "problem": lookup(person, first_problem),
        }
    )
