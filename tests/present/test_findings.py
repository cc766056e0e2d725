"""The pack's first section on the hand-made audit (builders.py): sentences, the table of
KPIs not met or off track against their targets, and what is new and resolved since last
month's register, with learners named as the pack names them.

The hand audit's drop-out: B1 1/2 = 50 % off track (limit 20 %, 30.0 points over), the
provider 1/3 = 33.3 % off track (13.3 points over); co-funding: the provider 0/1 = 0 %
off track (100.0 points short of 100 %). Findings: DROP-ABOVE-LIMIT (high,
bootcamp:B1), DROP-LATE-REPORT (medium, learner L2), COF-UNDERPAID (high, employer E1),
and the irregularities of builders.hand_audit.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from builders import LEARNERS, make_context

from kpitools.outputs.workbook import write_register
from kpitools.present.context import PackContext
from kpitools.present.findings import findings_first, gap_text, off_target
from kpitools.worklists.followup import exception_id


def test_off_target_results_and_gaps(ctx: PackContext) -> None:
    bad = off_target(ctx.audit)
    # worst status first, then the provider before bootcamps, then the contract's KPI order
    assert [(r.kpi, r.bootcamp_id, r.status) for r in bad] == [
        ("employer_cofunding", "ALL", "off_track"),
        ("learner_dropout", "ALL", "off_track"),
        ("learner_dropout", "B1", "off_track"),
    ]
    assert [gap_text(r) for r in bad] == [
        "100.0 points short",
        "13.3 points over",
        "30.0 points over",
    ]


def test_first_section_without_a_previous_register(ctx: PackContext) -> None:
    text = str(findings_first(ctx))
    # every provider KPI under the status the status table gives it, figures for those
    # needing action
    assert (
        "The provider as a whole, 4 KPI figure(s): off track (2): Employer co-funding 0.0 % "
        "(at least 100.0 %, 100.0 points short), Learner drop-out 33.3 % (at most 20.0 %, "
        "13.3 points over); on track (1): Employer engagement (post); met (1): New skills."
    ) in text
    assert (
        "1 bootcamp(s) have a KPI not met, off track or at risk: off track (1): B1 Learner "
        "drop-out 50.0 % (at most 20.0 %, 30.0 points over)."
    ) in text
    # it names the file it looked for with the real month, relative to the output
    # folder: no placeholder, no absolute path
    assert (
        "No previous register was found at 2023-02/P001/exceptions.xlsx in the output "
        "folder: every exception is new."
    ) in text
    assert str(ctx.params.out_dir) not in text
    assert "New since last month" not in text  # nothing to compare with


def test_new_and_resolved_since_last_month_name_learners_as_the_pack_does(
    ctx: PackContext, tmp_path: Path
) -> None:
    # Last month's register (OUT/2023-02/P001/exceptions.xlsx beside this pack's folder)
    # held L2's DROP-LATE-REPORT (so it recurs) and L1's REF-MISSING (gone: resolved).
    out_dir = Path(ctx.params.out_dir)
    previous = out_dir.parent.parent / "2023-02" / out_dir.name
    previous.mkdir(parents=True)
    pseudonym = ctx.pseudonymiser.learner
    late = exception_id("P001", "DROP-LATE-REPORT", f"learner:{pseudonym('L2')}", "B1")
    gone = exception_id("P001", "REF-MISSING", f"learner:{pseudonym('L1')}", "B1")
    rows = pd.DataFrame(
        [
            {
                "exception_id": late,
                "rule": "DROP-LATE-REPORT",
                "status": "queried",
                "first_seen": "2023-02-28",
            },
            {
                "exception_id": gone,
                "rule": "REF-MISSING",
                "severity": "medium",
                "bootcamp_id": "B1",
                "entity": "learner:L1 (x)",
                "learner_ref": "L1",
                "message": "no referral",
                "status": "open",
            },
        ]
    )
    write_register({"Exceptions": rows}, previous / "exceptions.xlsx")
    ctx = make_context(ctx.audit, out_dir)  # the audit's follow-up, now with last month's register
    followup = ctx.followup
    assert followup.previous_found
    changes = dict(zip(followup.exceptions["rule"], followup.exceptions["change"], strict=True))
    assert changes["DROP-LATE-REPORT"] == "recurring" and changes["DROP-ABOVE-LIMIT"] == "new"
    text = str(findings_first(ctx))
    shown = f"2023-02/{out_dir.name}/exceptions.xlsx"  # relative to OUT, never absolute
    assert f"Since last month&#39;s register ({shown} in the output folder):" in text
    new, resolved = text.split("<h3>New since last month</h3>")[1].split(
        "<h3>Resolved since last month</h3>"
    )
    assert "DROP-ABOVE-LIMIT" in new and "DROP-LATE-REPORT" not in new
    assert gone in resolved and f"learner:{pseudonym('L1')}" in resolved
    refs = {row[0] for row in LEARNERS}
    assert not any(f">{ref}<" in text or f"learner:{ref} " in text for ref in refs)


def test_the_pack_says_what_was_carried_and_what_was_edited_after_review(
    ctx: PackContext,
) -> None:
    # a rerun: this period's register read back, with edits, an added column and a row
    # added by hand, one exception edited after its review
    from dataclasses import replace

    from kpitools.model import THIS_PERIOD_REGISTER, RegisterSource
    from kpitools.present.report import headline
    from kpitools.privacy.pseudonym import key_fingerprint

    assert ctx.audit.followup is not None
    source = RegisterSource(
        "/out/2023-03/P001/exceptions.xlsx",
        THIS_PERIOD_REGISTER,
        "a" * 64,
        10,
        last_modified_by="Sam Auditor",
        modified="2023-04-02T10:00:00",
        edits=5,
        added_columns=("auditor_notes",),
        manual_rows=1,
    )
    followup = replace(ctx.audit.followup, sources=(source,), edited_after_review=("EX-1",))
    text = str(findings_first(replace(ctx, audit=replace(ctx.audit, followup=followup))))
    assert (
        "This period&#39;s register was built before, saved 2023-04-02T10:00:00: its 5 "
        "edit(s), 1 added column(s) and 1 row(s) added by hand are carried into this one, "
        "winning over last month&#39;s."
    ) in text
    # who saved it and what the auditor named a column stay in the register
    assert "Sam Auditor" not in text and "auditor_notes" not in text
    assert "1 exception(s) were edited after review (review_note in the register): EX-1." in text
    assert key_fingerprint(ctx.pseudonymiser.key) in str(headline(ctx))
