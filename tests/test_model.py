"""The audit is complete when returned: a ProviderAudit cannot be changed once built, its
collections held read-only whatever it was given, and it still pickles (saved for the
packs, sent back by worker processes)."""

from __future__ import annotations

import pickle
from dataclasses import FrozenInstanceError, replace
from datetime import date

import pandas as pd
import pytest
from auditkit_frames import bootcamp, learner, provider_return

from kpitools.model import Finding, KpiResult, ProviderAudit, ReadOnly, Trends, findings_of
from kpitools.rules import Rules

AS_OF = date(2023, 3, 31)
LATE = Finding("learner_dropout", "DROP-LATE-REPORT", "medium", "learner:L1", "l.csv:2", "late")
DUP = Finding("irregularity", "DUP-ROW", "high", "learner:L1", "l.csv:2", "twice")


def _audit() -> ProviderAudit:
    # built from plain lists and dicts, as a caller may give them
    return ProviderAudit(
        provider=provider_return(bootcamps=[bootcamp()], learners=[learner("L1")]),
        as_of=AS_OF,
        rules=Rules(),
        kpi_results=[
            KpiResult("learner_dropout", "ALL", 0, 1, "on_track", AS_OF, exceptions=(LATE,))
        ],
        irregularities=[DUP],
        worklists={"breach_risk": pd.DataFrame({"bootcamp_id": ["B1"]})},
        charts={"funnels": pd.DataFrame()},
        notes=["a note"],
    )


def test_a_provider_audit_cannot_be_changed_once_built() -> None:
    audit = _audit()
    assert isinstance(audit.kpi_results, tuple) and isinstance(audit.irregularities, tuple)
    assert audit.notes == ("a note",)
    for name, value in (
        ("notes", ()),
        ("trends", Trends(pd.DataFrame())),
        ("followup", None),
        ("worklists", {}),
        ("irregularities", ()),
    ):
        with pytest.raises(FrozenInstanceError):
            setattr(audit, name, value)
    with pytest.raises(TypeError):
        audit.worklists["sample"] = pd.DataFrame()  # type: ignore[index]
    with pytest.raises(TypeError):
        audit.charts["more"] = pd.DataFrame()  # type: ignore[index]
    with pytest.raises(AttributeError):
        audit.notes.append("later")  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        audit.irregularities.extend([DUP])  # type: ignore[attr-defined]
    # a changed audit is another audit, built whole
    other = replace(audit, notes=(*audit.notes, "another"))
    assert (audit.notes, other.notes) == (("a note",), ("a note", "another"))


def test_the_mappings_it_is_given_are_copied_not_kept() -> None:
    worklists = {"breach_risk": pd.DataFrame({"bootcamp_id": ["B1"]})}
    audit = replace(_audit(), worklists=worklists)
    worklists["sample"] = pd.DataFrame()
    assert list(audit.worklists) == ["breach_risk"]
    assert isinstance(audit.worklists, ReadOnly) and len(audit.worklists) == 1


def test_a_frozen_audit_pickles_whole() -> None:
    audit = _audit()
    copy = pickle.loads(pickle.dumps(audit))
    assert list(copy.worklists) == ["breach_risk"]
    pd.testing.assert_frame_equal(copy.worklists["breach_risk"], audit.worklists["breach_risk"])
    assert (copy.kpi_results, copy.irregularities, copy.notes) == (
        audit.kpi_results,
        audit.irregularities,
        audit.notes,
    )
    with pytest.raises(FrozenInstanceError):
        copy.notes = ()  # type: ignore[misc]


def test_findings_are_kpi_exceptions_then_irregularities() -> None:
    audit = _audit()
    assert audit.findings() == [LATE, DUP] == findings_of(audit.kpi_results, audit.irregularities)
