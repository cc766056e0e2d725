"""Presentation helpers: escaping, status colours, capped tables, the privacy view, and
the data behind the charts, on the hand-made audit of builders.py."""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
from builders import EMAIL, LEARNERS, XSS_NAME, make_context, pii_strings
from kpi_frames import small_return, write_return

from kpitools.audit import audit_single_provider
from kpitools.present import blocks, report
from kpitools.present.context import PackContext
from kpitools.privacy.naming import WITHHELD
from kpitools.profiles import load_profile


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags_of(text: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(text)
    return parser.tags


def test_headline_escapes_provider_name(ctx: PackContext) -> None:
    text = str(report.headline(ctx))
    assert "Acme &lt;script&gt;alert(1)&lt;/script&gt; Training" in text
    assert "<script" not in text
    assert "10012345" in text  # UKPRN kept as text


def test_status_matrix_values_and_colours(ctx: PackContext) -> None:
    text = str(report.status_matrix(ctx))
    # drop-out B1 1/2 = 50 %, off track (red); B2 0/1 = 0 % on track; ALL 1/3 = 33.3 %
    assert (
        f'background:{blocks.STATUS_COLOURS["off_track"]}" title="off_track">off track · 50.0 %'
        in text
    )
    assert (
        f'background:{blocks.STATUS_COLOURS["on_track"]}" title="on_track">on track · 0.0 %' in text
    )
    assert "off track · 33.3 %" in text
    assert [t for t, _ in tags_of(text)].count("tr") == 1 + 4  # header + 4 KPI rows


def test_exception_counts_by_severity(ctx: PackContext) -> None:
    frame = pd.read_html(__import__("io").StringIO(str(report.exception_counts(ctx))))[0]
    counts = frame.set_index("KPI")
    # drop-out: DROP-ABOVE-LIMIT (high) + DROP-LATE-REPORT (medium); irregularities 1 + 1
    assert counts.loc["Learner drop-out", ["high", "medium", "total"]].tolist() == [1, 1, 2]
    assert counts.loc["Irregularities", "total"] == 2
    assert counts.loc["New skills", "total"] == 0


def test_table_caps_long_lists_with_a_note() -> None:
    frame = pd.DataFrame({"n": range(60)})
    text = str(blocks.table(frame, limit=50))
    assert text.count("<tr") == 51  # header + 50 rows
    assert "10 more in exceptions.xlsx" in text
    assert "60 more" not in str(blocks.table(frame, limit=60))


def test_findings_name_learners_by_pseudonym_and_source(ctx: PackContext) -> None:
    shown = ctx.findings()
    entities = set(shown["entity"])
    # L2's learner row is learners.csv:3: the pack shows the pseudonym and that row
    assert f"learner:{ctx.pseudonymiser.learner('L2')} at learners.csv:3" in entities
    assert not [e for e in entities if e.startswith("learner:L2")]
    # messages are the checks' own words, shown unchanged (no text is searched and replaced)
    assert set(shown["message"]) == {f.message for f in ctx.audit.findings()}
    assert not [s for s in pii_strings() if s in shown.to_csv()]


def test_working_findings_name_the_providers_ref_and_pseudonym(ctx: PackContext) -> None:
    entities = set(ctx.findings(audience="working")["entity"])
    assert f"learner:L2 ({ctx.pseudonymiser.learner('L2')})" in entities
    assert "employer:E1" in entities  # employers keep their id


def test_include_pii_shows_refs_and_names(ctx_pii: PackContext) -> None:
    entities = set(ctx_pii.findings()["entity"])
    # L2 is the learner whose given name is the script payload; E1's contact is known
    pseudonym = ctx_pii.pseudonymiser.learner("L2")
    assert (
        f"learner:L2 ({pseudonym}), {XSS_NAME} Fothergill, ULN {LEARNERS[1][1]} at learners.csv:3"
    ) in entities
    assert [e for e in entities if e.startswith("employer:E1") and EMAIL in e]
    # the same form in the working register
    working = set(ctx_pii.findings(audience="working")["entity"])
    assert f"learner:L2 ({pseudonym}), {XSS_NAME} Fothergill, ULN {LEARNERS[1][1]}" in working


def test_rejected_rows_mask_personal_values(ctx: PackContext, ctx_pii: PackContext) -> None:
    # L5's ULN "12345" is rejected (BAD-ULN): the value is personal data
    assert ctx.rejected()["value"].tolist() == [WITHHELD]
    assert ctx.rejected(audience="working")["value"].tolist() == [WITHHELD]
    assert ctx_pii.rejected()["value"].tolist() == ["12345"]


def test_show_frame_drops_pii_columns_without_changing_input(ctx: PackContext) -> None:
    learners = ctx.audit.provider.tables["learners"]
    before = learners.copy()
    shown = ctx.show_frame(learners)
    assert not {"uln", "given_name", "family_name"} & set(shown.columns)
    assert shown["learner_ref"].tolist() == [
        f"{ctx.pseudonymiser.learner(r)} at {source}"
        for r, source in zip(before["learner_ref"], before["source"], strict=True)
    ]
    pd.testing.assert_frame_equal(learners, before)
    rendered = str(blocks.table(shown))
    assert not [s for s in pii_strings() if s in rendered]


def test_every_section_helper_escapes_and_hides_pii(ctx: PackContext) -> None:
    parts = [
        report.headline(ctx),
        report.status_matrix(ctx),
        report.exception_counts(ctx),
        report.irregularities(ctx),
        report.ilr_reconciliation(ctx),
        report.worklists(ctx),
        report.data_quality(ctx),
        report.rejected_rows(ctx),
        report.provenance(ctx),
    ]
    for kpi in ("employer_cofunding", "learner_dropout", "new_skills"):
        parts += [
            report.kpi_figures(ctx, kpi),
            report.exceptions(ctx, kpi),
            report.method(ctx, kpi),
        ]
    text = "".join(str(p) for p in parts)
    assert not [t for t, _ in tags_of(text) if t in ("script", "img", "iframe")]
    assert not [s for s in pii_strings() if s in text]
    assert XSS_NAME not in text and EMAIL not in text


def test_ilr_section_lists_only_ilr_findings(ctx: PackContext) -> None:
    ilr = str(report.ilr_reconciliation(ctx))
    other = str(report.irregularities(ctx))
    assert "ILR-MISMATCH-START-DATE" in ilr and "DUP-ULN-OVERLAP" not in ilr
    assert "DUP-ULN-OVERLAP" in other and "ILR-MISMATCH" not in other


def test_ilr_section_starts_with_its_scope(ctx: PackContext) -> None:
    # the builder's ILR: one file used, none superseded, 3 learners on 2 bootcamps, all
    # 3 matched with the datasheet
    ilr = str(report.ilr_reconciliation(ctx))
    assert ilr.index("ILR files used") < ilr.index("ILR-MISMATCH-START-DATE")
    assert "ILR-10012345-2223-20230331-120000-01.xml" in ilr
    assert "3 learner(s) matched of 3 in the datasheet and 3 in the ILR" in ilr
    assert "2 bootcamp(s); 3 learner row(s) mapped, 0 rejected" in ilr
    assert "No ILR file supplied" not in ilr


def test_ilr_section_says_plainly_when_no_ilr_file_was_supplied(ctx: PackContext) -> None:
    from dataclasses import replace

    bare = replace(ctx, audit=replace(ctx.audit, ilr_scope=None))
    ilr = str(report.ilr_reconciliation(bare))
    assert "No ILR file supplied" in ilr and "ILR files used" not in ilr
    assert "No ILR difference" not in ilr  # never "agreed" when nothing was checked


def test_data_quality_balances(ctx: PackContext) -> None:
    frame = pd.read_html(__import__("io").StringIO(str(report.data_quality(ctx))))[0].set_index(
        "table"
    )
    # learners.csv: 5 rows read, L5 rejected for its ULN
    assert frame.loc["learners", ["read", "accepted", "rejected"]].tolist() == [5, 4, 1]
    assert set(frame["balances"]) == {"yes"}


def test_method_statement_names_rules_in_force(ctx: PackContext) -> None:
    text = str(report.method(ctx, "learner_dropout"))
    assert "Rules applied" in text and "dropout_limit" in text and "0.2" in text


def test_kpi_order_follows_contract_and_stages() -> None:
    keys = [
        ("referral", ""),
        ("employer_engagement", "post"),
        ("employer_engagement", "design"),
        ("learner_dropout", ""),
        ("employer_engagement", "delivery"),
    ]
    assert sorted(keys, key=blocks.kpi_order) == [
        ("employer_engagement", "design"),
        ("employer_engagement", "delivery"),
        ("employer_engagement", "post"),
        ("learner_dropout", ""),
        ("referral", ""),
    ]


def test_exceptions_high_severity_first_then_file_order() -> None:
    frame = pd.DataFrame({"severity": ["medium", "high", "low", "high"], "n": [1, 2, 3, 4]})
    assert report.by_severity(frame)["n"].tolist() == [2, 4, 1, 3]


def test_a_figure_off_course_opens_to_its_members_by_pseudonym_and_row(ctx: PackContext) -> None:
    text = str(report.kpi_figures(ctx, "learner_dropout"))
    assert not [t for t, _ in tags_of(text) if t in ("script", "img", "iframe")]
    # off track: B1 (1 of 2) and ALL (1 of 3); B2 is on track, folded away from the pack
    assert text.count('<details class="members">') == 2
    assert "Learner drop-out, B1: 2 in the population, 1 in the numerator" in text
    assert "Learner drop-out, ALL: 3 in the population, 1 in the numerator" in text
    b1 = text[text.index("Learner drop-out, B1") : text.index("Learner drop-out, ALL")]
    # the drop-out first, each learner as its pseudonym with its file:line, never its ref
    l2, l1 = ctx.pseudonymiser.learner("L2"), ctx.pseudonymiser.learner("L1")
    assert b1.index(l2) < b1.index(l1)
    assert "learners.csv:3" in b1 and "withdrew on or after M1: a drop-out" in b1
    assert "learner:L1" not in text and "learner:L2" not in text
    assert "sheet Members dropout B1" not in text  # fewer than the limit: no "more" note
    capped = str(report.members(ctx, ctx.audit.kpi_results[2], limit=1))
    assert "2 more in kpi_members.csv and the register (sheet Members dropout ALL)" in capped


def test_profile_kpis_only_under_a_profile_that_has_them(ctx: PackContext, tmp_path: Path) -> None:
    # The hand-made audit is measured under the guidance (dfe-2022-09): no section.
    assert str(report.profile_kpis(ctx)) == ""
    assert "Completion" not in str(report.exception_counts(ctx))
    assert "<td>dfe-2022-09</td>" in str(report.headline(ctx))
    folder = tmp_path / "2023-03" / "P1"
    write_return(folder, small_return())
    audit = audit_single_provider(
        folder, as_of=date(2023, 3, 31), rules=load_profile("dfe-2025-extension").rules
    )
    extended = make_context(audit, tmp_path / "out")
    text = str(report.profile_kpis(extended))
    assert [(t, a.get("id")) for t, a in tags_of(text) if t == "h2"] == [
        ("h2", "completion"),
        ("h2", "starts"),
    ]
    assert "Completion (rule profile dfe-2025-extension)" in text
    assert "at least 80.0 % of starts past M1" in text
    assert "<td>dfe-2025-extension</td>" in str(report.headline(extended))
    counts = str(report.exception_counts(extended))
    assert "<td>Completion</td>" in counts and "<td>Starts against planned learners</td>" in counts
