"""The method statement comes from the KPI docstrings and the rules in force."""

from __future__ import annotations

from dataclasses import fields

from click.testing import CliRunner

from kpitools.cli import main
from kpitools.kpis import KPI_FUNCTIONS
from kpitools.method import (
    PERSON_RULES,
    SECTIONS,
    docstring_sections,
    method_statement,
    method_statement_text,
    rule_meanings,
)
from kpitools.profiles import load_profile
from kpitools.returns.contract import KPIS
from kpitools.rules import CATALOGUE, Rules


def test_every_kpi_documents_every_section_and_its_rule_ids():
    sections = method_statement(Rules())
    assert [s.kpi for s in sections] == list(KPIS)
    for section in sections:
        assert section.population and section.formula and section.guidance
        # every exception rule id of the KPI is explained in its statuses
        for rule_id in section.rule_ids:
            assert rule_id in section.statuses, (section.kpi, rule_id)
    for name in KPIS:
        parts = docstring_sections(KPI_FUNCTIONS[name])
        assert set(SECTIONS) <= set(parts)


def test_every_rule_is_used_by_a_kpi_or_documented_as_not():
    # under the profile that measures every KPI (completion and starts too)
    every_kpi = load_profile("dfe-2025-extension").rules
    used = {t.name for s in method_statement(every_kpi) for t in s.thresholds}
    # m1_qualifying_days applies when M1 comes from the ILR (loader), not in a KPI;
    # ilr_event_indicators extends the ILR's event indicator table (ILR mapping);
    # profile names the set of rules, it is no threshold; the person matching's rules
    # are printed in its own section
    not_in_a_kpi = {"m1_qualifying_days", "ilr_event_indicators", "profile", *PERSON_RULES}
    assert used | not_in_a_kpi == {f.name for f in fields(Rules)}
    assert set(rule_meanings()) == {f.name for f in fields(Rules)}


def test_thresholds_follow_the_rules_in_force():
    rules = Rules(dropout_limit=0.25, progression_target=0.4)
    sections = {s.kpi: s for s in method_statement(rules)}
    dropout = {t.name: t for t in sections["learner_dropout"].thresholds}
    assert (dropout["dropout_limit"].value, dropout["dropout_limit"].changed) == (0.25, True)
    # the pack's one way of stating a target (blocks.target_text), as its findings say it
    assert sections["learner_dropout"].target == "at most 25.0 % drop-out (at risk above 20.0 %)"
    assert sections["career_progression"].target == "at least 40.0 % (rule progression_target)"
    assert sections["new_skills"].target == "at least 100.0 %"
    reported = {s.kpi: s for s in method_statement(Rules())}["career_progression"]
    assert reported.target.startswith("no target: none set by the guidance")
    text = method_statement_text(rules)
    assert "Rule dropout_limit = 0.25 (profile value 0.2)" in text
    assert "  dropout_limit = 0.25  (profile value 0.2)" in text


def test_rules_command_prints_the_statement(tmp_path):
    params = tmp_path / "p.yaml"
    params.write_text("rules:\n  amber_fraction: 0.9\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["rules", "--params", str(params)])
    assert result.exit_code == 0, result.output
    assert result.output == method_statement_text(Rules(amber_fraction=0.9))
    for kpi in KPIS:
        assert f"\n{kpi}: " in result.output
    assert all(r.id in result.output for r in CATALOGUE.values() if r.kpi in KPIS)


def test_rules_command_states_the_person_matching_and_its_rules(tmp_path):
    params = tmp_path / "p.yaml"
    params.write_text(
        "rules:\n  person_match_threshold: 0.99\n"
        "  person_match_levels: {uln:exact: [0.6, 0.0001]}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["rules", "--params", str(params)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Person matching: one person under two providers" in text
    assert "Rule person_match_threshold = 0.99 (default 0.95)" in text
    assert "uln:exact m=0.6 u=0.0001" in text and "(1 changed from the defaults)" in text
    assert "Exception rule ids: DUP-PERSON-OVERLAP, DUP-PERSON-REPEAT" in text


def test_rules_command_says_how_the_ilr_is_read_and_judged():
    # issue 23: kpitools rules describes ILR-first (restarts, reported date, UKPRN,
    # per-contract rejection, duplicates, unverified evidence) and names every ILR rule
    from kpitools.rules import ILR_RULES

    text = " ".join(method_statement_text(Rules()).split())
    for words in (
        "history only when it ended in a break (CompStatus 6) and the next restarts it (RES)",
        "ILR-REENROLLED and the earlier withdrawal or completion still counts",
        "first file of the last unbroken run of files showing the learner withdrawn",
        "ILR-UKPRN-MISMATCH (high)",
        "rejects that bootcamp alone",
        "DUP-ROW lists both",
        "count such learners as unverified",
    ):
        assert words in text, words
    assert all(rule_id in text for rule_id in ILR_RULES)
    # the KPIs that can leave cases unverified say so in their method
    sections = {s.kpi: s for s in method_statement(Rules())}
    for kpi in ("guaranteed_interview", "career_progression", "referral"):
        assert "unverified" in sections[kpi].exclusions, kpi
