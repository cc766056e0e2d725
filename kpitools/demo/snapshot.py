"""A provider's monthly return as it stood at a month end: a snapshot of its world.

Rows dated after the month end are left out (the learner has not started, the offer
has not been made); dates of a learner's later milestones are blank until they have
happened; a withdrawal shows once it has been reported. Plants then add their bad rows
and per-month restatements, and every table is put in a stable order.
"""

from __future__ import annotations

import copy
import functools
from datetime import date

from kpitools.demo.lives import CHILD_TABLES
from kpitools.demo.world import ProviderWorld, Row
from kpitools.returns.contract import EVENT_DATE, TABLES

Tables = dict[str, list[Row]]


SORT_KEYS: dict[str, tuple[str, ...]] = {
    "provider": ("provider_id",),
    "bootcamps": ("bootcamp_id",),
    "learners": ("bootcamp_id", "learner_ref"),
    "employers": ("employer_id",),
    "employer_contacts": ("employer_id", "bootcamp_id", "stage", "attempt_date"),
    "cofunding_payments": ("bootcamp_id", "learner_ref", "payment_date", "evidence_ref"),
    "assessments": ("bootcamp_id", "learner_ref", "kind", "assessment_date"),
    "interviews": ("bootcamp_id", "learner_ref", "offer_date"),
    "outcomes": ("bootcamp_id", "learner_ref", "outcome_date"),
    "referrals": ("bootcamp_id", "learner_ref", "referral_date"),
}
_STAGE_ORDER = {"design": "1", "delivery": "2", "post": "3"}


def _shown(day: object, as_of: date) -> bool:
    return isinstance(day, date) and day <= as_of


def learner_as_of(row: Row, as_of: date) -> Row:
    """The learners row as the provider knew it at ``as_of``."""
    shown = dict(row)
    for column in ("m1_date", "completion_date", "new_role_evidence_date"):
        if not _shown(shown[column], as_of):
            shown[column] = None
    if not _shown(shown["withdrawal_reported_date"], as_of):
        shown["withdrawal_date"] = shown["withdrawal_reported_date"] = None
    return shown


def take(pw: ProviderWorld, index: int, as_of: date) -> Tables:
    """The return of ``pw`` for period number ``index`` (0 = first), ending ``as_of``."""
    tables: Tables = {name: [] for name in TABLES}
    tables["provider"] = [dict(pw.provider)]
    tables["bootcamps"] = [dict(b) for b in pw.bootcamps]
    tables["employers"] = [dict(e) for e in pw.employers]
    tables["employer_contacts"] = [dict(c) for c in pw.contacts if _shown(c["attempt_date"], as_of)]
    for life in pw.learners:
        if not _shown(life.row["start_date"], as_of):
            continue
        tables["learners"].append(learner_as_of(life.row, as_of))
        for table in CHILD_TABLES:
            for child in life.children.get(table, []):
                if _shown(child[EVENT_DATE[table]], as_of):
                    shown = dict(child)
                    if table == "interviews" and not _shown(shown["interview_date"], as_of):
                        shown["interview_date"] = None
                    tables[table].append(shown)
    for table, rows in pw.extra_rows.items():
        tables[table].extend(copy.deepcopy(rows))
    for edit in pw.edits:
        edit(index, tables)
    for table, rows in tables.items():
        rows.sort(key=functools.partial(_sort_key, table))
    return tables


def _sort_key(table: str, row: Row) -> tuple[str, ...]:
    key = []
    for column in SORT_KEYS[table]:
        value = row.get(column)
        if column == "stage":
            value = _STAGE_ORDER.get(str(value), str(value))
        key.append("" if value is None else str(value))
    return tuple(key)


def find_row(tables: Tables, table: str, match: Row) -> int | None:
    """The row number a person sees (header = 1) of the first row matching ``match``."""
    for number, row in enumerate(tables[table], start=2):
        if all(row.get(column) == value for column, value in match.items()):
            return number
    return None


def remove_learner(tables: Tables, ref: str, bootcamp_id: str) -> None:
    """Drop a learner and every row that names them (so nothing is left dangling)."""
    for table in ("learners", *CHILD_TABLES):
        tables[table][:] = [
            r
            for r in tables[table]
            if not (r.get("learner_ref") == ref and r.get("bootcamp_id") == bootcamp_id)
        ]
