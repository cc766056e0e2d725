"""One person under two providers, or twice at one: probabilistic matching of learners
across the providers of a period and against earlier periods (DUP-PERSON-OVERLAP,
DUP-PERSON-REPEAT).

DUP-ULN-OVERLAP (:mod:`kpitools.checks.duplicates`) finds a learner funded twice only when
both providers gave the same ULN. A ULN mistyped, not yet known or another altogether
hides the same person; DfE de-duplicated the bootcamp data sheets on NI number,
postcode, name and dates for that reason. Here every learner row is compared with the
others on given and family name, date of birth, postcode, NI number and ULN
(:mod:`kpitools.checks.person_model`, Splink) and a pair whose match probability reaches
``person_match_threshold`` is taken for one person:

- **DUP-PERSON-OVERLAP** (high): two bootcamps (of two providers, or two of one) whose
  learning overlaps, as DUP-ULN-OVERLAP judges it;
- **DUP-PERSON-REPEAT** (medium): a bootcamp started within ``person_repeat_months`` of
  completing another (a learner repeating learning already achieved).

A pair that shares one known ULN and overlaps is DUP-ULN-OVERLAP's and is not reported
again. Each finding is on each side's own learner of the providers audited, with the
match probability and the fields that agreed, disagreed or were missing, by name: the
values are personal data and stay out of every message. The :data:`PERSON_MATCHES`
worklist holds both sides (ref, provider, bootcamp, period, source) for the working
files, and their values, shown only with ``--include-pii``.

The identity values are read from the returns on disk by the audit engine at run time
(:mod:`kpitools.audit`) and are never stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kpitools.calendar import add_months, iso
from kpitools.checks.common import known_uln, learning_periods, source_prefixed
from kpitools.checks.person_model import FIELDS, MatchModel, field_words, scored_pairs
from kpitools.layout import is_provider_name
from kpitools.model import Finding, ProviderReturn, irregularity, learner_entity
from kpitools.returns.period import Stacks, stacked_tables, unscoped
from kpitools.rules import Rules

PERSON_MATCHES = "person_matches"
"""The worklist of the probable matches behind each provider's DUP-PERSON-* findings."""

RECORD_COLUMNS = (
    "period",
    "provider_id",
    "learner_ref",
    "bootcamp_id",
    "source",
    "learning_start",
    "learning_end",
    "completion_date",
    *FIELDS,
)
"""An identity record: one learner row of one period's return, with its learning period."""

PERSONAL_FIELDS = ("given_name", "family_name", "date_of_birth", "postcode", "ni_number", "uln")

PERSON_METHOD = (
    (
        "Population",
        "every accepted learner row of every provider of the period, and of the earlier "
        "periods found beside it (person_history_months; a row of the period replaces the "
        "same provider's, learner's and bootcamp's row of an earlier month)",
    ),
    (
        "Comparison",
        "given name (exact, nickname, similar spelling, initial, names swapped), family name "
        "(exact, similar), date of birth (exact, day and month swapped, one digit off), "
        "postcode (exact, same sector; case and spaces ignored), NI number and ULN (exact); "
        "only pairs sharing a blocking key are scored (a birth date, a postcode and "
        "initial, an NI number, a ULN, a name)",
    ),
    (
        "Probability",
        "Splink's Fellegi-Sunter model with fixed m and u per level (person_match_levels) "
        "and prior person_match_prior; a pair from person_match_threshold is one person",
    ),
    (
        "Findings",
        "DUP-PERSON-OVERLAP when the two rows' learning overlaps, DUP-PERSON-REPEAT when one "
        "started within person_repeat_months of completing the other; a pair with one known "
        "ULN that overlaps is DUP-ULN-OVERLAP only",
    ),
)
"""The method of the person matching, as the method statement prints it."""


def identity_records(
    returns: Mapping[str, ProviderReturn], *, period: str, stacks: Stacks | None = None
) -> pd.DataFrame:
    """The identity records of some providers' returns of one period: each accepted
    learner row with its learning period (:func:`~kpitools.checks.common.learning_periods`)
    and identity fields (a ULN not known is blank), in the order of ``returns``.

    The learners and bootcamps are stacked (:func:`kpitools.returns.period.stacked_tables`,
    ``stacks`` the run's, which already hold a period's stacked for its cross-provider
    checks) and their learning periods taken at once; a stack of several providers
    needs them named like a folder, as the providers of a period are, so others (a run
    on one provider, against the providers its provider.csv names) are taken one by one.
    """
    if all(current.tables["learners"].empty for current in returns.values()):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in RECORD_COLUMNS})
    if len(returns) == 1 or all(map(is_provider_name, returns)):
        return _identity_records(returns, period, stacks)
    return pd.concat(
        [
            _identity_records({provider_id: current}, period, stacks)
            for provider_id, current in returns.items()
            if not current.tables["learners"].empty
        ],
        ignore_index=True,
    )


def _identity_records(
    returns: Mapping[str, ProviderReturn], period: str, stacks: Stacks | None
) -> pd.DataFrame:
    """:func:`identity_records` of providers stacked together."""
    stacked = stacked_tables(
        {
            provider_id: {
                "learners": current.tables["learners"],
                "bootcamps": current.tables["bootcamps"],
            }
            for provider_id, current in returns.items()
        },
        names=("learners", "bootcamps"),
        stacks=stacks,
    )
    periods = learning_periods(stacked["learners"], stacked["bootcamps"])
    owner = np.repeat(
        np.array(list(returns), dtype=object),
        [len(current.tables["learners"]) for current in returns.values()],
    )
    uln = periods["uln"]
    return periods.assign(
        period=pd.Series(period, index=periods.index).astype("str"),
        provider_id=pd.Series(owner, index=periods.index).astype("str"),
        learner_ref=unscoped(periods["learner_ref"]),
        bootcamp_id=unscoped(periods["bootcamp_id"]),
        uln=uln.where(uln.map(known_uln), None).astype(object),
    )[list(RECORD_COLUMNS)]


@dataclass(frozen=True)
class PersonMatching:
    """What the matching found, per provider id of the providers it reports to.

    Attributes:
        findings: DUP-PERSON-* findings.
        worklists: the :data:`PERSON_MATCHES` worklist.
        model: the model and what it compared, for manifest.json.
    """

    findings: dict[str, list[Finding]] = field(default_factory=dict)
    worklists: dict[str, pd.DataFrame] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)


def person_matches(
    current: pd.DataFrame,
    earlier: pd.DataFrame,
    *,
    report_to: tuple[str, ...],
    rules: Rules,
    db_api: Any | None = None,
) -> PersonMatching:
    """DUP-PERSON-OVERLAP and DUP-PERSON-REPEAT of the providers ``report_to``.

    Args:
        current: the identity records of the period (:func:`identity_records`), every
            provider compared (those audited and any others).
        earlier: the identity records of earlier periods (empty: none found).
        report_to: the provider ids whose findings are wanted (of ``current``).
        rules: the rules in force (``person_*``).
        db_api: Splink's database API (default DuckDB in memory; Spark: docs/checks.md).

    Returns:
        Findings and worklist per provider of ``report_to`` (every one present), and the
        model's record.
    """
    people = _people(current, earlier)
    model = MatchModel.of(rules)
    pairs = scored_pairs(people, model, db_api=db_api)
    findings: dict[str, list[Finding]] = {p: [] for p in report_to}
    rows: dict[str, list[dict[str, object]]] = {p: [] for p in report_to}
    for pair in pairs.itertuples(index=False):
        first, second = people.iloc[int(pair.left)], people.iloc[int(pair.right)]
        rule = _rule(first, second, rules)
        if rule is None:
            continue
        levels = {f: str(getattr(pair, f)) for f in FIELDS}
        for this, other in ((first, second), (second, first)):
            provider = str(this["provider_id"])
            if not this["is_current"] or provider not in findings:
                continue
            findings[provider].append(_finding(rule, this, other, pair.match_probability, levels))
            rows[provider].append(_worklist_row(rule, this, other, pair.match_probability, levels))
    record = {
        **model.record(),
        "periods": sorted({str(p) for p in people["period"]}) if len(people) else [],
        "records": len(people),
        "pairs_at_threshold": len(pairs),
    }
    return PersonMatching(
        findings=findings,
        worklists={p: _worklist(found) for p, found in rows.items()},
        model=record,
    )


def _people(current: pd.DataFrame, earlier: pd.DataFrame) -> pd.DataFrame:
    """The records compared: the period's, and the earlier periods' rows not repeated in
    it (a learner row's latest month only), ``is_current`` marking the period's."""
    key = ["provider_id", "learner_ref", "bootcamp_id"]
    now = current.assign(is_current=True)
    if earlier.empty:
        return now.reset_index(drop=True)
    before = earlier.sort_values("period", kind="stable").drop_duplicates(key, keep="last")
    seen = pd.MultiIndex.from_frame(now[key].astype(str))
    repeated = pd.MultiIndex.from_frame(before[key].astype(str)).isin(seen)
    return pd.concat([now, before[~repeated].assign(is_current=False)], ignore_index=True)


def _rule(first: pd.Series, second: pd.Series, rules: Rules) -> str | None:
    """The finding a probable match makes, if any."""
    same_row = all(first[c] == second[c] for c in ("provider_id", "learner_ref", "bootcamp_id"))
    if same_row or not (first["is_current"] or second["is_current"]):
        return None
    overlap = (
        first["learning_start"] <= second["learning_end"]
        and second["learning_start"] <= first["learning_end"]
    )
    if overlap:
        if _same_known_uln(first, second):
            return None  # DUP-ULN-OVERLAP reports it
        if (
            first["bootcamp_id"] == second["bootcamp_id"]
            and first["provider_id"] == second["provider_id"]
        ):
            return None  # two refs on one bootcamp: a DUP-ROW matter, not double funding
        return "DUP-PERSON-OVERLAP"
    earlier, later = sorted((first, second), key=lambda row: row["learning_start"])
    completed = earlier["completion_date"]
    if pd.isna(completed) or pd.isna(later["learning_start"]):
        return None
    within = add_months(pd.Timestamp(completed).date(), rules.person_repeat_months)
    if (
        pd.Timestamp(completed) <= later["learning_start"]
        and later["learning_start"].date() <= within
    ):
        return "DUP-PERSON-REPEAT"
    return None


def _same_known_uln(first: pd.Series, second: pd.Series) -> bool:
    return bool(
        known_uln(first["uln"]) and known_uln(second["uln"]) and first["uln"] == second["uln"]
    )


def _where(row: pd.Series, current_period: bool) -> str:
    """How a finding cites the other row: its ``file:row``, prefixed by its period when
    it is an earlier month's."""
    source = str(row["source"])
    return source if current_period else source_prefixed(source, str(row["period"]))


def _finding(
    rule: str, this: pd.Series, other: pd.Series, probability: float, levels: Mapping[str, str]
) -> Finding:
    agreed, disagreed, missing = field_words(levels)
    other_at = _where(other, bool(other["is_current"]))
    span = (
        f"bootcamp {other['bootcamp_id']}, {_day(other['learning_start'])} to "
        f"{_day(other['learning_end'])}"
    )
    if rule == "DUP-PERSON-OVERLAP":
        what = "their learning overlaps"
    else:
        first, second = sorted((this, other), key=lambda row: row["learning_start"])
        what = (
            f"one completed bootcamp {first['bootcamp_id']} on {_day(first['completion_date'])} "
            f"and the other started bootcamp {second['bootcamp_id']} on "
            f"{_day(second['learning_start'])}"
        )
    message = (
        f"the learner (bootcamp {this['bootcamp_id']}, {_day(this['learning_start'])} to "
        f"{_day(this['learning_end'])}) is probably the same person as provider "
        f"{other['provider_id']}'s learner at {other_at} ({span}): match probability "
        f"{probability:.3f}; agreed: {_listed(agreed)}; disagreed: {_listed(disagreed)}; "
        f"missing: {_listed(missing)}; {what}"
    )
    return irregularity(
        rule,
        learner_entity(this["learner_ref"]),
        [this["source"]],
        message,
        str(this["bootcamp_id"]),
    )


def _listed(names: list[str]) -> str:
    return ", ".join(names) if names else "none"


def _day(value: object) -> str:
    return iso(value, missing="blank")


WORKLIST_COLUMNS = (
    "learner_ref",
    "bootcamp_id",
    "rule",
    "match_probability",
    "agreed",
    "disagreed",
    "missing",
    "other_provider_id",
    "other_learner_ref",
    "other_bootcamp_id",
    "other_period",
    "other_source",
    *PERSONAL_FIELDS,
    *(f"other_{f}" for f in PERSONAL_FIELDS),
)


def _worklist_row(
    rule: str, this: pd.Series, other: pd.Series, probability: float, levels: Mapping[str, str]
) -> dict[str, object]:
    agreed, disagreed, missing = field_words(levels)
    return {
        "learner_ref": this["learner_ref"],
        "bootcamp_id": this["bootcamp_id"],
        "rule": rule,
        "match_probability": round(float(probability), 4),
        "agreed": ", ".join(agreed),
        "disagreed": ", ".join(disagreed),
        "missing": ", ".join(missing),
        "other_provider_id": other["provider_id"],
        "other_learner_ref": other["learner_ref"],
        "other_bootcamp_id": other["bootcamp_id"],
        "other_period": other["period"],
        "other_source": other["source"],
        **{f: _value(this[f]) for f in PERSONAL_FIELDS},
        **{f"other_{f}": _value(other[f]) for f in PERSONAL_FIELDS},
    }


def _value(value: object) -> object:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def _worklist(rows: list[dict[str, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(WORKLIST_COLUMNS))
