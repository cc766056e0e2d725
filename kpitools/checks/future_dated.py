"""FUTURE-DATED: records dated after ``as_of``.

Such records have not happened yet for the measurement: the KPIs leave them out
(:func:`kpitools.kpis.common.measured_tables`) and this check lists each record once,
naming every date of it that lies after ``as_of``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import numpy as np
import pandas as pd

from kpitools.model import Finding, employer_entity, irregularity, learner_entity

# The dates of each table that say something has happened. Bootcamp dates are plans
# (end_date is normally in the future) and interview_date may be a booked interview,
# so neither is checked.
EVENT_DATES: dict[str, tuple[str, ...]] = {
    "learners": (
        "start_date",
        "m1_date",
        "withdrawal_date",
        "withdrawal_reported_date",
        "completion_date",
        "new_role_evidence_date",
    ),
    "employer_contacts": ("attempt_date",),
    "cofunding_payments": ("payment_date",),
    "assessments": ("assessment_date",),
    "interviews": ("offer_date",),
    "outcomes": ("outcome_date",),
    "referrals": ("referral_date",),
}


def future_dated(tables: Mapping[str, pd.DataFrame], *, as_of: date) -> list[Finding]:
    """One FUTURE-DATED finding per record with any event date after ``as_of``.

    Args:
        tables: validated tables by name (absent tables are skipped).
        as_of: the measurement date.

    Returns:
        Findings in table order, then row order; the entity is the learner (or the
        employer for the contact log).
    """
    limit = np.datetime64(pd.Timestamp(as_of).value, "ns")
    findings: list[Finding] = []
    for name, columns in EVENT_DATES.items():
        frame = tables.get(name)
        if frame is None or frame.empty:
            continue
        # Dates as numpy: a blank (NaT) is never after as_of. Most returns have none late.
        dates = {c: frame[c].to_numpy(dtype="datetime64[ns]") for c in columns}
        late = {c: values > limit for c, values in dates.items()}
        rows = np.flatnonzero(np.logical_or.reduce(list(late.values())))
        if not len(rows):
            continue
        entity_column = "employer_id" if name == "employer_contacts" else "learner_ref"
        entity = employer_entity if name == "employer_contacts" else learner_entity
        entities = frame[entity_column].to_numpy()
        bootcamps = frame["bootcamp_id"].to_numpy()
        sources = frame["source"].to_numpy()
        for row in rows:
            dated = [
                f"{c} {pd.Timestamp(dates[c][row]).date().isoformat()}"
                for c in columns
                if late[c][row]
            ]
            bootcamp = bootcamps[row]
            findings.append(
                irregularity(
                    "FUTURE-DATED",
                    entity(entities[row]),
                    [sources[row]],
                    f"{name}: {', '.join(dated)} after as_of {as_of.isoformat()}; "
                    "left out of the KPIs",
                    str(bootcamp) if isinstance(bootcamp, str) and bootcamp else "ALL",
                )
            )
    return findings
