"""The method statement: how each KPI is measured, with the rules in force.

It is built from the KPI functions' own docstrings (sections Population, Formula,
Exclusions, Statuses, Rules, Guidance) and from the :class:`~kpitools.rules.Rules`
object of the run, so what the pack and ``kpitools rules`` print cannot drift from what
the code does.

It also holds the one way kpitools words a figure and a target (:func:`percent`,
:func:`target_text`): the method statement states each target with them, and so does
every part of a pack (:mod:`kpitools.present`) and the register. It sits below the
presentation because ``kpitools rules`` prints it and builds no pack.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, fields

from kpitools.kpis import KPI_FUNCTIONS, kpis_in_force
from kpitools.profiles import load_profile, profile_names
from kpitools.rules import CATALOGUE, ILR_RULES, Rules

SECTIONS = ("Population", "Formula", "Exclusions", "Statuses", "Rules", "Guidance")
_HEADER = re.compile(r"^(\w+):\s*$")

WITHDRAWN_AND_COMPLETED = (
    "A learner with both a withdrawal and a completion (a DATE-ORDER finding) is read "
    "adversely for each KPI: a drop-out when the withdrawal is on or after M1, and also a "
    "completer for the KPIs that start at M2 (new skills, guaranteed interview, career "
    "progression), where their evidence is tested; for referral one case, unsuccessful at "
    "the withdrawal; for a completion KPI (a profile's), not a completer."
)
"""How a learner with both dates is counted (kpi-rules.md, clarified 2026-12-07)."""

COMMON_TEXT = (
    "Records dated after as_of have not happened yet for the measurement: they are left "
    "out of every KPI and listed as FUTURE-DATED. Statuses: not_due before the KPI's "
    "monitoring stage begins (at its usual date, such as the first M1, or as soon as any "
    "case of the bootcamp has fallen due, even when that date is blank); on_track, at_risk or off_track while it runs; met or "
    "not_met once every case of the bootcamp's population has fallen due; no_data when "
    "there is nothing to measure; reported when there is no target. A 100 % target is "
    "at_risk while a case is short but can still be put right before its own due date, "
    "and off_track once a case is past it. The provider figure (ALL) sums numerators and "
    "denominators over its bootcamps (never averaging rates) and counts an employer once. "
    "'+ n calendar months' keeps the day of the month or takes the month's last day; "
    "windows include both ends. "
    + WITHDRAWN_AND_COMPLETED
    + " Money is exact: amounts in whole pence, a required contribution rounded half up "
    "to the penny (10 % of £4,205.45 = £420.545 is £420.55) before the tolerance is applied."
)


def percent(value: float | None) -> str:
    """A fraction as a percentage with one decimal: "20.0 %"; blank for None."""
    return "" if value is None else f"{value * 100:.1f} %"


def target_text(target: float | None, kind: str | None) -> str:
    """A target as a phrase: "at most 20.0 %" (``kind`` ``"max"``), "at least 100.0 %"
    or "no target" (the one way every part of a pack states a target)."""
    if target is None:
        return "no target"
    return f"{'at most' if kind == 'max' else 'at least'} {percent(target)}"


@dataclass(frozen=True)
class Threshold:
    """One rule in force: its parameter name, value, default and meaning."""

    name: str
    value: object
    default: object
    meaning: str

    @property
    def changed(self) -> bool:
        return self.value != self.default


@dataclass(frozen=True)
class MethodSection:
    """How one KPI is measured, for the pack and ``kpitools rules``."""

    kpi: str
    title: str
    target: str
    population: str
    formula: str
    exclusions: str
    statuses: str
    guidance: str
    thresholds: tuple[Threshold, ...]
    rule_ids: tuple[str, ...]


def profile_defaults(rules: Rules) -> Rules:
    """The rules of the profile ``rules`` start from: what a changed rule is set
    against ("(profile value 0.15)")."""
    return load_profile(rules.profile).rules


def method_statement(rules: Rules) -> list[MethodSection]:
    """One section per KPI in force (:func:`kpitools.kpis.kpis_in_force`: the
    guidance's seven, then those the profile adds), with ``rules`` in force."""
    meanings = rule_meanings()
    defaults = profile_defaults(rules)
    sections = []
    for kpi in kpis_in_force(rules):
        parts = docstring_sections(KPI_FUNCTIONS[kpi])
        names = rule_names(parts["Rules"])
        sections.append(
            MethodSection(
                kpi=kpi,
                title=parts["title"],
                target=stated_target(kpi, rules),
                population=parts["Population"],
                formula=parts["Formula"],
                exclusions=parts["Exclusions"],
                statuses=parts["Statuses"],
                guidance=parts["Guidance"],
                thresholds=tuple(
                    Threshold(n, getattr(rules, n), getattr(defaults, n), meanings[n])
                    for n in names
                ),
                rule_ids=tuple(r.id for r in CATALOGUE.values() if r.kpi == kpi),
            )
        )
    return sections


def method_statement_text(rules: Rules) -> str:
    """The method statement as plain text (``kpitools rules``)."""
    lines = [
        "Method statement: how kpitools measures the KPIs",
        "",
        profile_line(rules),
        "",
        _wrap(COMMON_TEXT),
        "",
    ]
    for section in method_statement(rules):
        lines += [f"{section.kpi}: {section.title}", f"  Target: {section.target}"]
        for label in ("population", "formula", "exclusions", "statuses", "guidance"):
            lines.append(_wrap(f"{label.capitalize()}: {getattr(section, label)}", indent="  "))
        for t in section.thresholds:
            flag = f" (profile value {t.default})" if t.changed else ""
            lines.append(f"  Rule {t.name} = {t.value}{flag}: {t.meaning}")
        lines.append(f"  Exception rule ids: {', '.join(section.rule_ids)}")
        lines.append("")
    lines += _ilr_lines()
    lines += _person_lines(rules)
    lines.append(
        f"Rules in force (profile {rules.profile}; rules: in a params YAML overrides them):"
    )
    defaults = profile_defaults(rules)
    for name, value in rules.as_dict().items():
        default = getattr(defaults, name)
        flag = "" if value == default else f"  (profile value {default})"
        lines.append(f"  {name} = {value}{flag}")
    return "\n".join(lines) + "\n"


def profile_line(rules: Rules) -> str:
    """The profile in force in words, with the other profiles shipped:
    "Rule profile: dfe-2022-09 (DfE / WMCA KPI guidance, September 2022) ..."."""
    others = [name for name in profile_names() if name != rules.profile]
    return _wrap(
        f"Rule profile: {rules.profile} ({load_profile(rules.profile).title}). "
        f"Other profiles: {', '.join(others) or 'none'} (profile: in a params YAML, or "
        "--profile)."
    )


def _ilr_lines() -> list[str]:
    """How an ILR is read and judged (ILR-first), with every ILR rule id checked."""
    from kpitools.ilr.events import ILR_METHOD  # plain data: no XML parser is loaded

    lines = [
        "ILR: how a provider's ILR files are read (its learners when it has no learners table)"
    ]
    lines += [_wrap(f"{title}: {text}", indent="  ") for title, text in ILR_METHOD]
    dfe = ", ".join(r.rule_id for r in ILR_RULES.values() if r.source.startswith("DfE"))
    ours = ", ".join(
        r.id
        for r in CATALOGUE.values()
        if r.kpi == "irregularity"
        and r.id.startswith("ILR-")
        and not (r.id in ILR_RULES and ILR_RULES[r.id].source.startswith("DfE"))
    )
    lines.append(_wrap(f"DfE's bootcamp validation rules checked (docs/ilr.md): {dfe}", "  "))
    lines.append(_wrap(f"kpitools' own ILR rules: {ours}, DUP-ROW", "  "))
    lines.append("")
    return lines


def _person_lines(rules: Rules) -> list[str]:
    """How one person is found under two providers or twice (DUP-PERSON-*), with the
    rules of the matching in force."""
    from kpitools.checks.people import PERSON_METHOD  # plain data: Splink is not loaded

    lines = ["Person matching: one person under two providers, or twice (docs/checks.md)"]
    lines += [_wrap(f"{title}: {text}", indent="  ") for title, text in PERSON_METHOD]
    meanings = rule_meanings()
    defaults = profile_defaults(rules)
    for name in PERSON_RULES:
        value, default = getattr(rules, name), getattr(defaults, name)
        if name == "person_match_levels":
            changed = [lvl for lvl, old in zip(value, default, strict=True) if lvl != old]
            shown = ", ".join(f"{n} m={m:g} u={u:g}" for n, m, u in value)
            flag = f" ({len(changed)} changed from the defaults)" if changed else ""
        else:
            shown, flag = str(value), "" if value == default else f" (default {default})"
        lines.append(_wrap(f"Rule {name} = {shown}{flag}: {meanings[name]}", indent="  "))
    ids = ", ".join(r for r in CATALOGUE if r.startswith("DUP-PERSON-"))
    lines += [f"  Exception rule ids: {ids}", ""]
    return lines


PERSON_RULES = (
    "person_match_threshold",
    "person_match_prior",
    "person_match_levels",
    "person_repeat_months",
    "person_history_months",
)
"""The rules of the person matching, as the method statement prints them."""


def stated_target(kpi: str, rules: Rules) -> str:
    """The target of ``kpi`` under ``rules``, in words, as the pack states every target
    (:func:`target_text`): "at most 20.0 % drop-out (at risk
    above 16.0 %)", "at least 100.0 %"."""
    if kpi == "learner_dropout":
        return (
            f"{target_text(rules.dropout_limit, 'max')} drop-out (at risk above "
            f"{percent(rules.amber_fraction * rules.dropout_limit)})"
        )
    if kpi == "career_progression":
        if rules.progression_target is None:
            return (
                f"{target_text(None, None)}: none set by the guidance, reported "
                "(rule progression_target)"
            )
        return f"{target_text(rules.progression_target, 'min')} (rule progression_target)"
    if kpi == "completion":
        return f"{target_text(rules.completion_target, 'min')} of starts past M1"
    if kpi == "starts":
        return f"{target_text(rules.starts_target, 'min')} of planned_learners"
    return target_text(1.0, "min")


def docstring_sections(function: object) -> dict[str, str]:
    """The title and the method sections of a KPI function's Google-style docstring.

    Raises:
        ValueError: a method section is missing (a KPI must document all of them).
    """
    doc = inspect.getdoc(function) or ""
    lines = doc.splitlines()
    parts: dict[str, list[str]] = {"title": [lines[0].strip()] if lines else []}
    current = None
    for line in lines[1:]:
        header = _HEADER.match(line)
        if header and not line.startswith(" "):
            current = header.group(1)
            parts[current] = []
        elif current is not None and line.strip():
            parts[current].append(line.strip())
    missing = [s for s in SECTIONS if s not in parts]
    if missing:
        raise ValueError(f"{getattr(function, '__name__', function)} lacks {', '.join(missing)}")
    return {name: " ".join(text) for name, text in parts.items()}


def rule_names(text: str) -> tuple[str, ...]:
    """The rule parameter names listed in a docstring's Rules section."""
    known = {f.name for f in fields(Rules)}
    names = tuple(n.strip() for n in text.split(",") if n.strip() in known)
    return names


def rule_meanings() -> dict[str, str]:
    """Each rule's meaning, from the Attributes section of the Rules docstring."""
    meanings: dict[str, str] = {}
    doc = inspect.getdoc(Rules) or ""
    current = None
    for line in doc.splitlines():
        match = re.match(r"^\s+(\w+): (.*)$", line)
        if match and match.group(1) in {f.name for f in fields(Rules)}:
            current = match.group(1)
            meanings[current] = match.group(2).strip()
        elif current and line.startswith("            "):
            meanings[current] += " " + line.strip()
    return meanings


def _wrap(text: str, indent: str = "") -> str:
    import textwrap

    return textwrap.fill(
        text,
        width=92,
        initial_indent=indent,
        subsequent_indent=indent + "  ",
        break_on_hyphens=False,
        break_long_words=False,
    )
