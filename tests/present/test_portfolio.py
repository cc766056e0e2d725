"""The index's HTML from a hand-made summary: hostile text in every field is shown as text,
links only to files beside the index, and the same sentence and cells as the auditor
reads them (the real index, built by a batch: test_hostile_pack.py, test_register_demo.py).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from pack_html import read_page

from kpitools.present import portfolio

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
ENTITY = "&amp; &lt;b&gt;"


def _summary(**provider: Any) -> dict[str, Any]:
    """One provider with one KPI: drop-out on track at 10 % for the provider, its
    bootcamp ``B1`` + ATTRIBUTE not met at 30 % (1 of its 2 bootcamps)."""
    bootcamp = f"P001-B1{ATTRIBUTE}"
    row = {
        "provider_id": "P001",
        "name": f"Acme {SCRIPT} {ENTITY}",
        "status": "OK",
        "reason": "",
        "pack": "P001/audit_pack.html",
        "pdf": "P001/audit_pack.pdf",
        "register": "P001/exceptions.xlsx",
        "kpis": {
            "Learner drop-out": {
                "status": "on_track",
                "value": 0.1,
                "bootcamps": 2,
                "worst": {"bootcamp_id": bootcamp, "status": "not_met", "value": 0.3, "count": 1},
            }
        },
        "breaches": [
            {"bootcamp_id": bootcamp, "kpi": "Learner drop-out", "status": "not_met", "value": 0.3}
        ],
        "exceptions": {"learner_dropout": 2, "irregularity": 1},
        "high": 2,
        "medium": 1,
        "low": 0,
        **provider,
    }
    failed = {
        **row,
        "provider_id": "P002",
        "name": "",
        "status": "FAILED",
        "reason": f"ValueError: {SCRIPT}",
        "pack": "",
        "pdf": "",
        "register": "",
        "kpis": {},
        "breaches": [],
        "exceptions": {},
    }
    return {
        "period": "2023-03",
        "as_of": "2023-03-31",
        "columns": ["Learner drop-out"],
        "providers": [row, failed],
        "duplicates": [],
    }


def test_hostile_summary_values_are_text() -> None:
    summary = _summary()
    html = "".join(
        str(block)
        for block in (
            portfolio.overview(summary),
            portfolio.provider_matrix(summary),
            portfolio.exceptions_per_provider(summary),
            portfolio.failures(summary),
        )
    )
    page = read_page(html)
    assert not [tag for tag, _ in page.tags if tag in ("script", "img")]
    assert not [name for _, attrs in page.tags for name in attrs if name.startswith("on")]
    text = " ".join(page.text.split())
    assert f"Acme {SCRIPT} {ENTITY}" in text  # the provider's name, under its id
    assert f"1 of 2 not met: B1{ATTRIBUTE} 30.0 %" in text  # its worst bootcamp
    assert f"B1{ATTRIBUTE} Drop-out not met 30.0 %" in text  # the bootcamps in breach
    assert f"ValueError: {SCRIPT}" in text  # a failed pack's reason
    sentence = "Period 2023-03, measured as of 2023-03-31: 2 providers, 1 packs built, 1 failed."
    assert sentence in re.sub(r" ([,.:])", r"\1", text)  # the parser spaces <b>'s text
    links = [attrs["href"] for tag, attrs in page.tags if tag == "a"]
    assert links == ["P001/audit_pack.html", "P001/audit_pack.pdf", "P001/exceptions.xlsx"]


@pytest.mark.parametrize(
    "target",
    ["javascript:alert(1)", " JavaScript:alert(1)", "https://evil.example/p", "//evil.example/p"],
)
def test_the_index_links_only_to_files_beside_it(target: str) -> None:
    with pytest.raises(ValueError, match="not a relative path"):
        portfolio.provider_matrix(_summary(pack=target))
    with pytest.raises(ValueError, match="not a relative path"):
        portfolio.provider_matrix(_summary(register=target))
    with pytest.raises(ValueError, match="not a relative path"):
        portfolio.provider_matrix(_summary(pdf=target))


def test_the_index_names_the_rule_profile_in_force() -> None:
    # the batch puts the profile of its rules in the summary (run/index.portfolio_summary)
    text = " ".join(read_page(str(portfolio.overview(_summary()))).text.split())
    assert "Rule profile" not in text  # a summary written before profiles: nothing claimed
    summary = {**_summary(), "profiles": ["dfe-2025-extension"]}
    text = " ".join(read_page(str(portfolio.overview(summary))).text.split())
    assert "Rule profile in force: dfe-2025-extension ." in text
    # a profile's KPIs get an exceptions column only when the index measured them
    assert "Completion" not in str(portfolio.exceptions_per_provider(_summary()))
    extended = {**summary, "columns": ["Learner drop-out", "Completion"]}
    assert "Completion" in str(portfolio.exceptions_per_provider(extended))


def _meeting(**change: Any) -> dict[str, Any]:
    """The summary with P001's change since last month: 2 new, 3 recurring, 1 resolved,
    1 reopened (EX-A, DUP-ROW); drop-out worse than last month; 2 high DUP-ROW findings;
    drop-out in breach by 1 provider in 2023-02 and 2023-03."""
    summary = _summary()
    provider = summary["providers"][0]
    provider.update(
        change={
            "compared": True,
            "previous": "2023-02/P001/exceptions.xlsx",
            "total": 6,
            "new": 2,
            "recurring": 3,
            "resolved": 1,
            "reopened": 1,
            "carried": 0,
            "reopened_ids": [f"EX-A (DUP-ROW{SCRIPT})"],
            "open_over_30": 2,
            "open_over_90": 0,
            "past_due": 1,
            **change,
        },
        kpi_changes=[
            {"kpi": "Learner drop-out", "was": "on_track", "now": "at_risk", "direction": "worse"}
        ],
        high_rules=[{"rule": "DUP-ROW", "count": 2, "link": "P001/audit_pack.html#Irregularities"}],
        sections=[{"title": "Findings", "href": "P001/audit_pack.html#Findings"}],
        pdf="P001/audit_pack.pdf",
    )
    summary.update(
        previous_period="2023-02",
        previous_on_record=["P001"],
        breach_months={
            "periods": ["2023-02", "2023-03"],
            "counts": {"Learner drop-out": [1, 1], "New skills": [0, 0]},
            "providers": [2, 2],
        },
    )
    return summary


def test_what_changed_counts_and_names_the_rows_of_the_table() -> None:
    summary = _meeting()
    changed = read_page(str(portfolio.what_changed(summary)))
    text = " ".join(changed.text.split())
    assert (
        "Since the registers of 2023-02 (1 of 1 providers): 2 new, 3 recurring, 1 resolved, 1 reopened."
        in text
    )
    assert (
        f"Reopened (marked resolved or accepted, but recurring): P001 EX-A (DUP-ROW{SCRIPT})."
        in text
    )
    assert "KPI statuses worse than in 2023-02 (1): P001 Drop-out on track → at risk." in text
    assert "Drop-out 1 (was 1)" in text and "New skills" not in text  # no breach: not named
    table = read_page(str(portfolio.since_last_month(summary)))
    text = " ".join(table.text.split())
    assert "2 new · 3 recurring · 1 resolved · 1 reopened" in text
    assert "open over 30 days: 2 · over 90: 0 · past due date: 1" in text
    assert not [tag for tag, _ in table.tags if tag == "script"]
    links = [attrs["href"] for tag, attrs in table.tags if tag == "a"]
    assert links == [
        "P001/audit_pack.html#Irregularities",
        "P001/audit_pack.html#Findings",
        "P001/exceptions.xlsx",
        "P001/audit_pack.pdf",
    ]


def test_a_provider_without_last_months_register_is_named() -> None:
    summary = _meeting(compared=False)
    text = " ".join(read_page(str(portfolio.what_changed(summary))).text.split())
    assert "No register of 2023-02 to compare with: P001 (every exception is new)." in text
    assert "Since the registers" not in text


def test_the_breach_chart_draws_the_kpis_in_breach() -> None:
    chart = str(portfolio.breach_chart(_meeting()))
    assert chart.startswith('<img alt="Providers in breach per KPI, month by month"')
    assert "Providers on record each month: 2023-02 2, 2023-03 2" in chart
    empty = _meeting()
    empty["breach_months"]["counts"] = {"Learner drop-out": [0, 0]}
    assert "No provider is in breach" in str(portfolio.breach_chart(empty))
