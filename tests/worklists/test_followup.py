"""The register as a living worklist: stable exception ids, follow-up carried from last
month's register, new / recurring / resolved, on hand-made frames."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd
from builders import followup_of, hand_audit, write_provider

from kpitools.model import EXCEPTION_COLUMNS
from kpitools.privacy.pseudonym import Pseudonymiser
from kpitools.worklists.followup import (
    REGISTER_COLUMNS,
    RESOLVED_COLUMNS,
    RegisterReadback,
    RegisterTrail,
    exception_id,
    follow_up,
)

AS_OF = date(2023, 3, 31)


def _finding(
    rule: str, entity: str, bootcamp: str, source: str, message: str, severity: str = "medium"
) -> dict[str, str]:
    ref = entity.partition(":")[2] if entity.startswith("learner:") else ""
    return {
        "provider_id": "P001",
        "bootcamp_id": bootcamp,
        "kpi": "irregularity",
        "rule": rule,
        "severity": severity,
        "entity": entity.replace(ref, f"L-{ref}") if ref else entity,
        "source": source,
        "message": message,
        "learner_ref": ref,
        "id_entity": entity.replace(ref, f"L-{ref}") if ref else entity,
    }


def _findings(*rows: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=[*EXCEPTION_COLUMNS, "learner_ref", "id_entity"])


def register(
    exceptions: pd.DataFrame | list[dict[str, object]],
    *,
    resolved: list[dict[str, object]] | None = None,
    written: list[tuple[str, str, str, str]] | None = None,
    path: str = "out/2023-02/P001/exceptions.xlsx",
) -> RegisterReadback:
    """A register as read back (read_register's result) from hand-made rows; ``written``
    (sheet, id, field, value): what kpitools wrote into it, None for an older register."""
    return RegisterReadback(
        path=Path(path),
        sha256="0" * 64,
        size_bytes=0,
        exceptions=pd.DataFrame(exceptions, dtype=object),
        resolved=pd.DataFrame(resolved or [], columns=["exception_id"], dtype=object)
        if not resolved
        else pd.DataFrame(resolved, dtype=object),
        written=None
        if written is None
        else pd.DataFrame(written, columns=["sheet", "exception_id", "field", "value"]),
        last_modified_by="Sam Auditor",
        modified="2023-03-10T09:00:00",
    )


def test_the_same_rule_entity_and_bootcamp_give_the_same_id() -> None:
    same = exception_id("P001", "DATE-ORDER", "learner:L-1", "B1")
    assert same == exception_id("P001", "DATE-ORDER", "learner:L-1", "B1")
    assert same.startswith("EX-") and len(same) == 15
    others = {
        exception_id("P001", "DATE-ORDER", "learner:L-1", "B2"),
        exception_id("P001", "DUP-ROW", "learner:L-1", "B1"),
        exception_id("P001", "DATE-ORDER", "learner:L-2", "B1"),
        exception_id("P002", "DATE-ORDER", "learner:L-1", "B1"),
    }
    assert same not in others and len(others) == 4


def test_without_a_previous_register_everything_is_new_and_open() -> None:
    # Two FUTURE-DATED findings of learner A in B1 are one exception: sources and
    # messages joined; the DUP-ROW of B is another (high, so listed first).
    findings = _findings(
        _finding("FUTURE-DATED", "learner:A", "B1", "payments.csv:2", "paid 2023-04-02"),
        _finding("FUTURE-DATED", "learner:A", "B1", "payments.csv:3", "paid 2023-04-09"),
        _finding("DUP-ROW", "learner:B", "B1", "learners.csv:4", "twice", severity="high"),
    )
    result = follow_up(findings, provider_id="P001", as_of=AS_OF, previous_where="out/2023-02/P001")
    frame = result.exceptions
    assert list(frame.columns) == list(REGISTER_COLUMNS)
    assert list(frame["rule"]) == ["DUP-ROW", "FUTURE-DATED"]
    future = frame.iloc[1]
    assert future["source"] == "payments.csv:2; payments.csv:3"
    assert future["message"] == "paid 2023-04-02; paid 2023-04-09"
    assert (future["learner_ref"], future["entity"]) == ("A", "learner:L-A")
    assert future["exception_id"] == exception_id("P001", "FUTURE-DATED", "learner:L-A", "B1")
    assert set(frame["change"]) == {"new"} and set(frame["status"]) == {"open"}
    assert set(frame["first_seen"]) == {AS_OF} and set(frame["age_days"]) == {0}
    assert result.resolved.empty and list(result.resolved.columns) == list(RESOLVED_COLUMNS)
    assert not result.previous_found
    assert result.notes == (
        "no previous register at out/2023-02/P001 (in the output folder): every exception is new",
    )
    assert result.counts() == {
        "high": 1,
        "medium": 1,
        "low": 0,
        "total": 2,
        "new": 2,
        "recurring": 0,
        "carried": 0,
        "manual": 0,
        "resolved": 0,
        "reopened": 0,
        "edited_after_review": 0,
    }


def test_follow_up_is_carried_to_the_same_id_and_gone_ones_are_resolved() -> None:
    kept = exception_id("P001", "DATE-ORDER", "learner:L-A", "B1")
    gone = exception_id("P001", "REF-MISSING", "learner:L-C", "B2")
    # Last month's register as the auditor left it: columns reordered, an extra column of
    # their own, a notes row without an id, and a first_seen typed as text.
    previous = pd.DataFrame(
        [
            {
                "response": "asked for the start date",
                "exception_id": kept,
                "status": "queried",
                "owner": "Sam",
                "response_date": datetime(2023, 3, 2),
                "first_seen": datetime(2023, 1, 31),
                "my notes": "chase",
                "rule": "DATE-ORDER",
            },
            {
                "response": "",
                "exception_id": gone,
                "status": "open",
                "owner": None,
                "response_date": None,
                "first_seen": "2023-02-28",
                "my notes": None,
                "rule": "REF-MISSING",
                "entity": "learner:L-C",
                "learner_ref": "C",
                "bootcamp_id": "B2",
            },
            {
                "response": "notes row",
                "exception_id": None,
                "status": None,
                "owner": None,
                "response_date": None,
                "first_seen": None,
                "my notes": "x",
                "rule": None,
            },
        ]
    )
    findings = _findings(
        _finding("DATE-ORDER", "learner:A", "B1", "learners.csv:2", "M1 before start"),
        _finding("DUP-ROW", "employer:E1", "ALL", "employers.csv:3", "twice", severity="high"),
    )
    result = follow_up(
        findings,
        provider_id="P001",
        as_of=AS_OF,
        period="2023-03",
        previous=register(previous),
        previous_where="out/2023-02/P001/exceptions.xlsx",
    )
    frame = result.exceptions.set_index("exception_id")
    row = frame.loc[kept]
    assert (row["change"], row["status"], row["owner"], row["response"]) == (
        "recurring",
        "queried",
        "Sam",
        "asked for the start date",
    )
    assert row["response_date"] == datetime(2023, 3, 2)
    # first seen 2023-01-31, kept; 2023-01-31 -> 2023-03-31 is 28 + 31 = 59 days
    assert (row["first_seen"], row["age_days"]) == (date(2023, 1, 31), 59)
    new = frame.loc[exception_id("P001", "DUP-ROW", "employer:E1", "ALL")]
    assert (new["change"], new["status"], new["first_seen"], new["learner_ref"]) == (
        "new",
        "open",
        AS_OF,
        "",
    )
    assert list(result.resolved["exception_id"]) == [gone]
    resolved = result.resolved.iloc[0]
    assert (resolved["last_seen"], resolved["learner_ref"], resolved["first_seen"]) == (
        "2023-02",
        "C",
        "2023-02-28",
    )
    # the auditor's own row without an id is carried as a manual row, with an id
    (manual,) = frame.loc[frame["change"] == "manual"].index
    assert manual.startswith("MAN-") and frame.loc[manual, "response"] == "notes row"
    assert frame.loc[manual, "my notes"] == "x"
    assert result.previous_found and result.notes == ()
    assert result.counts()["resolved"] == 1 and result.counts()["recurring"] == 1


def test_a_recurring_exception_marked_accepted_is_reopened_its_status_kept_beside() -> None:
    kept = exception_id("P001", "DATE-ORDER", "learner:L-A", "B1")
    previous = pd.DataFrame(
        [{"exception_id": kept, "status": "accepted", "first_seen": "not a date"}]
    )
    findings = _findings(_finding("DATE-ORDER", "learner:A", "B1", "learners.csv:2", "x"))
    result = follow_up(findings, provider_id="P001", as_of=AS_OF, previous=register(previous))
    assert result.counts()["reopened"] == 1
    row = result.exceptions.iloc[0]
    assert (row["status"], row["earlier_status"]) == ("reopened", "accepted")
    assert result.exceptions.iloc[0]["first_seen"] == AS_OF  # unreadable: counted from now
    assert result.notes == (
        "1 first_seen value(s) of the previous register were not dates: counted from 2023-03-31",
    )


KEY = b"followup-tests-key-0123456789abc"


def test_provider_followup_keys_ids_and_keeps_entities_as_found(tmp_path) -> None:
    # the hand-made audit of tests/present/builders.py: L2's DROP-LATE-REPORT gets the id of
    # its keyed pseudonym, never of its ref; the entity stays learner:L2 until an output
    # names it
    audit = hand_audit(write_provider(tmp_path / "data" / "2023-03" / "P001"))
    trail = RegisterTrail(tmp_path / "out" / "2023-03" / "P001", KEY)
    followup = followup_of(audit, trail)
    late = followup.exceptions.set_index("rule").loc["DROP-LATE-REPORT"]
    pseudonym = Pseudonymiser(KEY, "P001").learner("L2")
    assert late["exception_id"] == exception_id(
        "P001", "DROP-LATE-REPORT", f"learner:{pseudonym}", "B1"
    )
    assert (late["entity"], late["learner_ref"]) == ("learner:L2", "L2")
    assert KEY.decode() not in repr(trail)


def test_an_unreadable_previous_register_is_noted_not_fatal(tmp_path) -> None:
    audit = hand_audit(write_provider(tmp_path / "data" / "2023-03" / "P001"))
    previous = tmp_path / "out" / "2023-02" / "P001"
    previous.mkdir(parents=True)
    (previous / "exceptions.xlsx").write_bytes(b"not a workbook")
    followup = followup_of(audit, RegisterTrail(tmp_path / "out" / "2023-03" / "P001", KEY))
    assert not followup.previous_found
    assert followup.notes[0].startswith(
        "last month's register 2023-02/P001/exceptions.xlsx (in the output folder) not used: "
    )
    assert "not a readable Excel workbook" in followup.notes[0]
    assert followup.unused == followup.notes[:1]
    assert set(followup.exceptions["change"]) == {"new"}
