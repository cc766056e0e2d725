"""The register never loses what an auditor typed: this period's register read back on
a rerun (its edits win over last month's), added columns, rows added by hand, events
that stay open until closed, the edits told from what kpitools wrote, and rows edited
after review. Hand-made registers (tests/worklists/test_followup.py's ``register``)."""

from __future__ import annotations

from datetime import date

import pandas as pd
from test_followup import AS_OF, _finding, _findings, register

from kpitools.worklists.followup import (
    REGISTER_COLUMNS,
    exception_id,
    follow_up,
    manual_id,
    written_frame,
)

DATE_ID = exception_id("P001", "DATE-ORDER", "learner:L-A", "B1")
RESTATED_ID = exception_id("P001", "RESTATED-START-DATE", "learner:L-B", "B1")
DUP_ID = exception_id("P001", "DUP-ROW", "learner:L-C", "B1")
THIS_MONTH = "out/2023-03/P001/exceptions.xlsx"


def _date_order() -> pd.DataFrame:
    return _findings(_finding("DATE-ORDER", "learner:A", "B1", "learners.csv:2", "M1 first"))


def _row(eid: str, rule: str, **values: object) -> dict[str, object]:
    return {"exception_id": eid, "rule": rule, "severity": "medium", **values}


def test_a_rerun_keeps_this_periods_edits_over_last_months() -> None:
    # Last month: the auditor queried DATE-ORDER (owner Sam). This month's first run
    # carried that; then the auditor answered it in this month's register, added a
    # column and a row of their own. The rerun keeps this month's word, the column and
    # the row (with an id), and nothing of last month's overwrites them.
    previous = register(
        [_row(DATE_ID, "DATE-ORDER", status="queried", owner="Sam", first_seen=date(2023, 1, 31))]
    )
    current = register(
        [
            _row(
                DATE_ID,
                "DATE-ORDER",
                status="resolved",
                owner="Alex",
                response="letter received",
                first_seen=date(2023, 1, 31),
                auditor_notes="filed",
            ),
            {
                "exception_id": None,
                "rule": "VISIT",
                "message": "visit the provider",
                "owner": "Sam",
            },
        ],
        path=THIS_MONTH,
        written=[
            ("Exceptions", DATE_ID, "status", "queried"),
            ("Exceptions", DATE_ID, "owner", "Sam"),
        ],
    )
    result = follow_up(
        _date_order(),
        provider_id="P001",
        as_of=AS_OF,
        period="2023-03",
        previous=previous,
        current=current,
    )
    frame = result.exceptions.set_index("exception_id")
    row = frame.loc[DATE_ID]
    # resolved in this period's register: kept as the auditor set it (not reopened:
    # reopening is for what recurs in a later month)
    assert (row["status"], row["owner"], row["response"], row["auditor_notes"]) == (
        "resolved",
        "Alex",
        "letter received",
        "filed",
    )
    assert (row["change"], row["first_seen"], row["age_days"]) == (
        "recurring",
        date(2023, 1, 31),
        59,
    )
    # the added column stands after the working columns, before the facts
    columns = list(result.exceptions.columns)
    assert columns.index("auditor_notes") == columns.index("reviewed_on") + 1
    assert [c for c in columns if c != "auditor_notes"] == list(REGISTER_COLUMNS)
    # the row added by hand: given an id (MAN-, from the provider, the period, its place
    # and its cells: the same register read twice gives it the same id)
    (man,) = frame.index[frame["change"] == "manual"]
    assert man.startswith("MAN-") and len(man) == 14
    assert frame.loc[man, "message"] == "visit the provider"
    again = follow_up(
        _date_order(), provider_id="P001", as_of=AS_OF, period="2023-03", current=current
    )
    assert man in set(again.exceptions["exception_id"])
    assert man != manual_id("P001", "2023-02", 3, [])
    assert (frame.loc[man, "status"], frame.loc[man, "first_seen"]) == ("open", AS_OF)
    # the edits, told from what kpitools wrote: status and owner changed, response and
    # the added column set, and every cell of the row added by hand
    edits = result.edits
    mine = edits.loc[(edits["exception_id"] == DATE_ID) & (edits["register"] == THIS_MONTH)]
    mine = mine.set_index("field")
    assert mine.loc["status", ["written", "value"]].tolist() == ["queried", "resolved"]
    assert mine.loc["owner", ["written", "value"]].tolist() == ["Sam", "Alex"]
    assert mine.loc["response", ["written", "value"]].tolist() == ["", "letter received"]
    assert mine.loc["auditor_notes", "value"] == "filed"
    assert set(edits.loc[edits["exception_id"] == man, "field"]) == {"rule", "message", "owner"}
    # last month's register was not written by a kpitools that records it: its values
    # count as set (written unknown)
    last = edits.loc[edits["register"] == "out/2023-02/P001/exceptions.xlsx"]
    assert set(last["field"]) == {"status", "owner"} and last["written"].isna().all()
    this = next(s for s in result.sources if s.path == THIS_MONTH)
    assert (this.edits, this.added_columns, this.manual_rows) == (7, ("auditor_notes",), 1)
    assert (this.last_modified_by, this.modified) == ("Sam Auditor", "2023-03-10T09:00:00")
    assert any("carried from this period's earlier register" in n for n in result.notes)


def test_an_event_stays_open_until_closed_a_condition_is_resolved() -> None:
    # Last month: a restatement (an event) and a duplicate (a condition), both open; this
    # month neither fires. The restatement stays (change carried, its facts and month
    # kept), the duplicate is resolved.
    previous = register(
        [
            _row(
                RESTATED_ID,
                "RESTATED-START-DATE",
                status="queried",
                first_seen=date(2023, 2, 28),
                message="start moved",
                last_seen="2023-02",
            ),
            _row(DUP_ID, "DUP-ROW", status="open", first_seen=date(2023, 2, 28)),
        ]
    )
    result = follow_up(
        _date_order(), provider_id="P001", as_of=AS_OF, period="2023-03", previous=previous
    )
    frame = result.exceptions.set_index("exception_id")
    carried = frame.loc[RESTATED_ID]
    assert (carried["change"], carried["status"], carried["message"]) == (
        "carried",
        "queried",
        "start moved",
    )
    assert (carried["last_seen"], carried["first_seen"], carried["age_days"]) == (
        "2023-02",
        date(2023, 2, 28),
        31,
    )
    assert list(result.resolved["exception_id"]) == [DUP_ID]
    assert result.counts()["carried"] == 1


def test_an_event_closed_last_month_moves_to_resolved_closed_this_month_stays() -> None:
    previous = register([_row(RESTATED_ID, "RESTATED-START-DATE", status="accepted")])
    result = follow_up(
        _date_order(), provider_id="P001", as_of=AS_OF, period="2023-03", previous=previous
    )
    assert list(result.resolved["exception_id"]) == [RESTATED_ID]
    # closed in this period's register (a rerun): it stays on this month's sheet as closed
    current = register(
        [_row(RESTATED_ID, "RESTATED-START-DATE", status="resolved", change="carried")],
        path=THIS_MONTH,
    )
    previous = register([_row(RESTATED_ID, "RESTATED-START-DATE", status="queried")])
    result = follow_up(
        _date_order(),
        provider_id="P001",
        as_of=AS_OF,
        period="2023-03",
        previous=previous,
        current=current,
    )
    row = result.exceptions.set_index("exception_id").loc[RESTATED_ID]
    assert (row["change"], row["status"]) == ("carried", "resolved")
    assert result.resolved.empty


def test_a_resubmission_that_clears_a_condition_resolves_it_with_this_months_word() -> None:
    # this month's first run found DUP-ROW (new), the auditor queried it; the provider
    # resubmitted and the rerun does not find it: resolved, last seen this month, the
    # auditor's query kept on the Resolved sheet
    current = register(
        [_row(DUP_ID, "DUP-ROW", status="queried", owner="Sam", change="new", last_seen="2023-03")],
        path=THIS_MONTH,
    )
    result = follow_up(
        _date_order(), provider_id="P001", as_of=AS_OF, period="2023-03", current=current
    )
    resolved = result.resolved.set_index("exception_id").loc[DUP_ID]
    assert (resolved["status"], resolved["owner"], resolved["last_seen"]) == (
        "queried",
        "Sam",
        "2023-03",
    )


def test_edited_after_review_is_flagged_and_a_new_review_clears_it() -> None:
    # kpitools wrote the row reviewed on 2023-03-05; the auditor then changed its status
    # without a new review: flagged. Another row got a new reviewed_on with its edit:
    # not flagged.
    other = exception_id("P001", "DUP-ROW", "learner:L-A", "B1")
    findings = _findings(
        _finding("DATE-ORDER", "learner:A", "B1", "learners.csv:2", "M1 first"),
        _finding("DUP-ROW", "learner:A", "B1", "learners.csv:2", "twice"),
    )
    written = [
        ("Exceptions", DATE_ID, "status", "queried"),
        ("Exceptions", DATE_ID, "reviewed_by", "Kim"),
        ("Exceptions", DATE_ID, "reviewed_on", "2023-03-05"),
        ("Exceptions", other, "status", "queried"),
        ("Exceptions", other, "reviewed_on", "2023-03-05"),
    ]
    current = register(
        [
            _row(
                DATE_ID,
                "DATE-ORDER",
                status="accepted",
                reviewed_by="Kim",
                reviewed_on=date(2023, 3, 5),
            ),
            _row(other, "DUP-ROW", status="accepted", reviewed_on=date(2023, 3, 20)),
        ],
        path=THIS_MONTH,
        written=written,
    )
    result = follow_up(findings, provider_id="P001", as_of=AS_OF, period="2023-03", current=current)
    frame = result.exceptions.set_index("exception_id")
    assert frame.loc[DATE_ID, "review_note"] == "edited after review on 2023-03-05: status"
    assert frame.loc[other, "review_note"] == ""
    assert result.edited_after_review == (DATE_ID,)
    # the note is carried until a new review: the next rerun reads it back as written
    again = register(
        [
            _row(
                DATE_ID,
                "DATE-ORDER",
                status="accepted",
                reviewed_on=date(2023, 3, 5),
                review_note=frame.loc[DATE_ID, "review_note"],
            )
        ],
        path=THIS_MONTH,
        written=[
            ("Exceptions", DATE_ID, "status", "accepted"),
            ("Exceptions", DATE_ID, "reviewed_on", "2023-03-05"),
        ],
    )
    kept = follow_up(
        _date_order(), provider_id="P001", as_of=AS_OF, period="2023-03", current=again
    )
    assert kept.edited_after_review == (DATE_ID,)
    reviewed = register(
        [
            _row(
                DATE_ID,
                "DATE-ORDER",
                status="accepted",
                reviewed_on=date(2023, 3, 25),
                review_note=frame.loc[DATE_ID, "review_note"],
            )
        ],
        path=THIS_MONTH,
        written=[
            ("Exceptions", DATE_ID, "status", "accepted"),
            ("Exceptions", DATE_ID, "reviewed_on", "2023-03-05"),
        ],
    )
    cleared = follow_up(
        _date_order(), provider_id="P001", as_of=AS_OF, period="2023-03", current=reviewed
    )
    assert cleared.edited_after_review == ()


def test_a_row_deleted_by_an_auditor_is_recorded_and_what_was_written_reads_back_unedited() -> None:
    result = follow_up(_date_order(), provider_id="P001", as_of=AS_OF, period="2023-03")
    exceptions = result.exceptions.assign(status="queried", owner="Sam")
    written = written_frame({"Exceptions": exceptions, "Resolved": result.resolved})
    # the working columns set, and the row itself (an id kpitools wrote, told from one typed)
    assert set(written["field"]) == {"(row)", "status", "owner"}
    rows = list(written.itertuples(index=False, name=None))
    unedited = register(exceptions, path=THIS_MONTH, written=rows)
    again = follow_up(
        _date_order(), provider_id="P001", as_of=AS_OF, period="2023-03", current=unedited
    )
    assert again.edits.empty
    deleted = register([{"exception_id": None}], path=THIS_MONTH, written=rows)
    gone = follow_up(
        _date_order(), provider_id="P001", as_of=AS_OF, period="2023-03", current=deleted
    )
    assert gone.edits[["exception_id", "field", "value"]].values.tolist() == [
        [DATE_ID, "(row)", "removed"]
    ]
