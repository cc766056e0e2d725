"""On the demo data, every planted KPI exception (and FUTURE-DATED) is reported, the clean
provider has none, and nothing is reported that the generator did not plant or explain."""

from __future__ import annotations

import json
import re

import pytest

from kpitools.audit import audit_provider
from kpitools.calendar import period_end
from kpitools.returns.contract import KPIS
from kpitools.rules import CATALOGUE

KPI_RULES = {r.id for r in CATALOGUE.values() if r.kpi in KPIS} | {"FUTURE-DATED"}


@pytest.fixture(scope="module")
def demo(demo_dir):
    root, _ = demo_dir
    truth = json.loads((root / "ground_truth.json").read_text(encoding="utf-8"))
    found = {}
    naming = []  # messages that name a learner of the return (the identity rule forbids it)
    for period in truth["periods"]:
        for provider_dir in sorted((root / period).iterdir()):
            audit = audit_provider(provider_dir, as_of=period_end(period))
            # reported = flagged, or listed for information (CP-NO-OUTCOME, no target)
            found[(period, provider_dir.name)] = {
                (f.rule, f.entity)
                for f in audit.findings() + audit.informational()
                if f.rule in KPI_RULES
            }
            naming += _messages_naming_learners(audit)
    return truth, found, naming


def _messages_naming_learners(audit) -> list[str]:
    learners = audit.provider.tables["learners"]
    words = {str(v) for c in ("learner_ref", "uln") for v in learners[c].dropna()}
    full_names = {
        f"{g} {f}"
        for g, f in zip(learners["given_name"], learners["family_name"], strict=True)
        if g and f
    }
    return [
        f"{audit.provider_id} {f.rule}: {f.message}"
        for f in audit.findings()
        if words & set(re.findall(r"[\w-]+", f.message))
        or any(name in f.message for name in full_names)
    ]


def _entities(expectation) -> set[str]:
    return {expectation["entity"], *expectation.get("alt_entities", [])}


def test_every_planted_kpi_rule_is_reported(demo):
    truth, found, _ = demo
    planted = [e for e in truth["expectations"] if e["rule"] in KPI_RULES]
    assert {e["rule"] for e in planted} == KPI_RULES  # the demo plants every one of them
    missed = [
        (e["period"], e["provider_id"], e["rule"], e["entity"])
        for e in planted
        if not any((e["rule"], x) in found[(e["period"], e["provider_id"])] for x in _entities(e))
    ]
    assert missed == []


def test_clean_provider_has_no_exception_and_nothing_unexplained(demo):
    truth, found, _ = demo
    for period in truth["periods"]:
        for provider_id in truth["clean_providers"]:
            assert found[(period, provider_id)] == set()
    explained = set()
    for e in truth["expectations"] + truth["background"]:
        for entity in _entities(e):
            explained.add((e["period"], e["provider_id"], e["rule"], entity))
        for also in e.get("may_also", []):
            explained.add((e["period"], e["provider_id"], also, e["entity"]))
    unexplained = sorted(
        (period, provider_id, rule_id, entity)
        for (period, provider_id), pairs in found.items()
        for rule_id, entity in pairs
        if (period, provider_id, rule_id, entity) not in explained
    )
    assert unexplained == []


def test_no_message_names_a_learner(demo):
    # every KPI exception and irregularity of every demo return, against every learner
    # ref, ULN and full name of that return: learners are named only at write time
    _, _, naming = demo
    assert naming == []


def test_the_period_measured_together_gives_each_provider_its_own_results(demo_dir):
    # compute_kpis runs each KPI once over every provider's tables stacked; each
    # provider must get exactly what it gets measured on its own, planted cases of
    # every KPI rule included
    from kpi_frames import kpis_alone

    from kpitools.kpis import compute_kpis
    from kpitools.load import load_provider
    from kpitools.rules import Rules

    demo_root, _ = demo_dir
    for period in json.loads((demo_root / "ground_truth.json").read_text())["periods"]:
        returns = {
            folder.name: load_provider(folder)
            for folder in sorted((demo_root / period).iterdir())
            if folder.is_dir()
        }
        as_of, rules = period_end(period), Rules()
        together = compute_kpis(
            {p: r.tables for p, r in returns.items()},
            as_of=as_of,
            rules=rules,
            not_supplied={p: r.not_supplied for p, r in returns.items()},
        )
        assert list(together) == list(returns)
        for provider_id, ret in returns.items():
            alone = kpis_alone(ret.tables, as_of=as_of, rules=rules, not_supplied=ret.not_supplied)
            assert together[provider_id] == alone, (period, provider_id)


def test_the_period_checked_together_gives_each_provider_its_own_findings(demo_dir):
    # run_checks runs the row checks once over every provider's tables stacked; each
    # provider must get exactly what it gets checked on its own (a run of one)
    from kpitools.checks import run_checks
    from kpitools.load import load_provider
    from kpitools.rules import Rules

    demo_root, _ = demo_dir
    periods = json.loads((demo_root / "ground_truth.json").read_text())["periods"]
    for before, period in zip([None, *periods], periods, strict=False):
        pairs = {}
        for folder in sorted((demo_root / period).iterdir()):
            if folder.is_dir():
                previous = demo_root / before / folder.name if before else None
                pairs[folder.name] = (
                    load_provider(folder),
                    load_provider(previous) if previous and previous.is_dir() else None,
                )
        as_of, rules = period_end(period), Rules()
        together = run_checks(pairs, as_of=as_of, rules=rules)
        assert list(together) == list(pairs)
        found = 0
        for provider_id, pair in pairs.items():
            alone = run_checks({provider_id: pair}, as_of=as_of, rules=rules)[provider_id]
            assert together[provider_id] == alone, (period, provider_id)
            found += len(alone)
        assert found  # the demo plants irregularities: there was something to mix up


def test_the_period_s_cofunding_chart_gives_each_provider_its_own(demo_dir):
    # cofunding_due_vs_paid computes the contributions once over every provider's tables
    # stacked; each provider must get exactly what it gets on its own (a run of one)
    import pandas as pd

    from kpitools.kpis.charts import cofunding_due_vs_paid
    from kpitools.load import load_provider
    from kpitools.rules import Rules

    demo_root, _ = demo_dir
    for period in json.loads((demo_root / "ground_truth.json").read_text())["periods"]:
        tables = {
            folder.name: load_provider(folder).tables
            for folder in sorted((demo_root / period).iterdir())
            if folder.is_dir()
        }
        as_of, rules = period_end(period), Rules()
        together = cofunding_due_vs_paid(tables, as_of=as_of, rules=rules)
        assert list(together) == list(tables)
        for provider_id, frames in tables.items():
            alone = cofunding_due_vs_paid({provider_id: frames}, as_of=as_of, rules=rules)[
                provider_id
            ]
            pd.testing.assert_frame_equal(together[provider_id], alone, obj=provider_id)
        assert any(len(frame) for frame in together.values())  # something to mix up
