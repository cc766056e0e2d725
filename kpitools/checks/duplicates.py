"""Duplicates: the same learner twice in one file (DUP-ROW) and the same ULN on two
bootcamps whose learning overlaps, at one provider or across providers (DUP-ULN-OVERLAP).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Protocol

import pandas as pd

from kpitools.calendar import iso
from kpitools.checks.common import known_uln, learning_periods, text_key
from kpitools.layout import is_provider_name
from kpitools.model import (
    Finding,
    employer_entity,
    irregularity,
    is_blank,
    learner_entity,
    related_learner,
)
from kpitools.returns.period import Stacks, by_provider, providers_of, stacked_tables

# Tables where two identical rows (every column but the source) double-count evidence.
EXACT_DUPLICATE_TABLES = (
    "cofunding_payments",
    "assessments",
    "interviews",
    "outcomes",
    "referrals",
    "employer_contacts",
)


class _Rejection(Protocol):
    """A rejected row (``itertuples`` of the return's rejected rows)."""

    source: str
    column: str
    value: object
    reason: str


class _Learner(Protocol):
    """The columns of an accepted learner row (``itertuples``) a DUP-ROW finding cites."""

    learner_ref: str
    bootcamp_id: str
    source: str


def duplicate_learner_rows(learners: pd.DataFrame, rejected: pd.DataFrame) -> list[Finding]:
    """DUP-ROW: the same learner (learner_ref, bootcamp_id) twice in ``learners``.

    The loader keeps the first row of a key and rejects every later one with rule
    ``DUP-KEY``; each such rejected learner row is one finding citing the kept row and
    the duplicate.

    Args:
        learners: accepted learners (validated frame).
        rejected: the return's rejected rows (table, source, column, value, reason, rule).

    Returns:
        One finding per duplicate learner row.
    """
    if rejected.empty:
        return []
    dups = rejected[(rejected["table"] == "learners") & (rejected["rule"] == "DUP-KEY")]
    dups = dups.drop_duplicates(subset=["source"])
    findings: list[Finding] = []
    for dup in dups.itertuples(index=False):
        kept = _kept_learner_row(learners, dup)
        if kept is None:
            findings.append(
                irregularity(
                    "DUP-ROW",
                    learner_entity(_first_token(dup.value)),
                    [dup.source],
                    "the same learner appears twice in learners; the later row was rejected",
                )
            )
            continue
        findings.append(
            irregularity(
                "DUP-ROW",
                learner_entity(kept.learner_ref),
                [kept.source, dup.source],
                f"the learner appears twice on bootcamp {kept.bootcamp_id}; "
                f"the first row ({kept.source}) was kept, the later ({dup.source}) rejected",
                kept.bootcamp_id,
            )
        )
    return findings


def _kept_learner_row(learners: pd.DataFrame, dup: _Rejection) -> _Learner | None:
    """The accepted learner a DUP-KEY rejection duplicates.

    The loader's reason names the kept row ("same learner_ref, bootcamp_id as line 2");
    failing that, the key is looked for among the words of the column and value.
    """
    line = re.search(r"\b(?:line|row)\s+(\d+)", str(dup.reason))
    if line:
        kept_source = f"{str(dup.source).rsplit(':', 1)[0]}:{line.group(1)}"
        hits = learners[learners["source"] == kept_source]
        if len(hits) == 1:
            return next(hits.itertuples(index=False))
    tokens = set(re.split(r"[\s,;|/()=:'\"]+", f"{dup.column} {dup.value}")) - {""}
    hits = learners[learners["learner_ref"].isin(tokens) & learners["bootcamp_id"].isin(tokens)]
    if hits.empty:
        hits = learners[learners["learner_ref"].isin(tokens)]
    if len(hits) != 1:
        return None
    return next(hits.itertuples(index=False))


def _first_token(value: object) -> str:
    parts = re.split(r"[\s,;|/]+", "" if is_blank(value) else str(value))
    return parts[0] if parts and parts[0] else "unknown"


def exact_duplicate_rows(tables: Mapping[str, pd.DataFrame]) -> list[Finding]:
    """DUP-ROW: a row repeated word for word in an evidence table (payments, assessments,
    interviews, outcomes, referrals, employer contacts), which would count twice.

    Returns:
        One finding per repeated row, citing the first occurrence and the repeat.
    """
    findings: list[Finding] = []
    for table in EXACT_DUPLICATE_TABLES:
        frame = tables.get(table)
        if frame is None or frame.empty:
            continue
        columns = [c for c in frame.columns if c != "source"]
        # Rows with equal text keys are equal values (one dtype per column; blanks are
        # blank either way): only the rows pandas finds repeated need a text key.
        repeated = frame.duplicated(subset=columns, keep=False).to_numpy(dtype=bool)
        if not repeated.any():
            continue
        row_keys = text_key(frame.loc[repeated], columns)
        first_label: dict[str, object] = {}
        for label, key in row_keys.items():
            if key not in first_label:
                first_label[key] = label
                continue
            row, first = frame.loc[label], frame.loc[first_label[key]]
            if "learner_ref" in frame.columns:
                entity = learner_entity(row["learner_ref"])
            else:
                entity = employer_entity(row["employer_id"])
            bootcamp = "ALL" if is_blank(row.get("bootcamp_id")) else str(row["bootcamp_id"])
            findings.append(
                irregularity(
                    "DUP-ROW",
                    entity,
                    [first["source"], row["source"]],
                    f"{table} row {row['source']} repeats {first['source']} exactly "
                    "and would be counted twice",
                    bootcamp,
                )
            )
    return findings


def uln_overlaps_within(learners: pd.DataFrame, bootcamps: pd.DataFrame) -> list[Finding]:
    """Two learner rows of one provider with one ULN.

    On two bootcamps whose learning periods intersect (see
    :func:`~kpitools.checks.common.learning_periods`) it is DUP-ULN-OVERLAP; on the
    same bootcamp under two learner refs it is the same learner twice in the file,
    DUP-ROW, whatever the dates. ULN 9999999999 (not known) and blank ULNs never match.

    ``learners`` and ``bootcamps`` may be a period's stacked tables (identifiers
    scoped, :func:`kpitools.returns.period.stacked_tables`): rows are then paired
    within each provider only.

    Returns:
        One finding per pair, on the later row's learner.
    """
    periods = learning_periods(learners, bootcamps)
    periods = periods.assign(provider_id=providers_of(periods["bootcamp_id"]))
    findings: list[Finding] = []
    for first, second in _same_uln_pairs(periods, same_provider=True):
        if first["bootcamp_id"] == second["bootcamp_id"]:
            findings.append(
                irregularity(
                    "DUP-ROW",
                    learner_entity(second["learner_ref"]),
                    [first["source"], second["source"]],
                    f"the learner at {second['source']} and the learner at {first['source']} on "
                    f"bootcamp {second['bootcamp_id']} share one ULN: the same learner entered twice",
                    str(second["bootcamp_id"]),
                )
            )
        elif _overlap(first, second):
            findings.append(
                irregularity(
                    "DUP-ULN-OVERLAP",
                    learner_entity(second["learner_ref"]),
                    [first["source"], second["source"]],
                    f"the learner at {first['source']} (bootcamp {first['bootcamp_id']}, "
                    f"{iso(first['learning_start'], missing='blank')} to {iso(first['learning_end'], missing='blank')}) and "
                    f"the learner at {second['source']} (bootcamp {second['bootcamp_id']}, "
                    f"{iso(second['learning_start'], missing='blank')} to {iso(second['learning_end'], missing='blank')}) "
                    "share one ULN and their learning overlaps",
                    str(second["bootcamp_id"]),
                )
            )
    return findings


def uln_overlaps_across(
    learners_by_provider: Mapping[str, pd.DataFrame],
    bootcamps_by_provider: Mapping[str, pd.DataFrame],
    *,
    stacks: Stacks | None = None,
) -> dict[str, list[Finding]]:
    """DUP-ULN-OVERLAP across providers: one ULN at two providers with overlapping
    learning. Pairs within one provider are left to :func:`uln_overlaps_within`.

    Each pair is reported to both providers, each finding on its own learner and
    bootcamp; the message names both providers, bootcamps and the other learner's
    ``file:row``, never a learner ref or the ULN; ``related`` names the other learner
    (its provider and ref), which working files show (:mod:`kpitools.privacy.naming`).

    Providers named like a folder (a period's) are paired over their stacked tables
    (:func:`kpitools.returns.period.stacked_tables`, ``stacks`` the run's); others (a
    run on one provider, against the providers its provider.csv names) one by one.

    Returns:
        Findings per provider id (every given provider present, maybe empty).
    """
    findings: dict[str, list[Finding]] = {p: [] for p in learners_by_provider}
    if not findings:
        return findings
    scoped = len(findings) > 1 and all(map(is_provider_name, findings))
    if scoped:  # every provider's learning periods at once, over its stacked tables
        stacked = stacked_tables(
            {
                p: {"learners": learners, "bootcamps": bootcamps_by_provider[p]}
                for p, learners in learners_by_provider.items()
            },
            names=("learners", "bootcamps"),
            stacks=stacks,
        )
        everyone = learning_periods(stacked["learners"], stacked["bootcamps"])
        everyone = everyone.assign(provider_id=providers_of(everyone["bootcamp_id"]))
    else:
        everyone = pd.concat(
            [
                learning_periods(learners, bootcamps_by_provider[p]).assign(provider_id=p)
                for p, learners in learners_by_provider.items()
            ],
            ignore_index=True,
        )
    pairs = _same_uln_pairs(everyone, across_providers=True)
    overlapping = [pair for pair in pairs if _overlap(*pair)]
    return by_provider(
        (
            (
                this["provider_id"],
                irregularity(
                    "DUP-ULN-OVERLAP",
                    learner_entity(this["learner_ref"]),
                    [this["source"]],
                    f"the learner (bootcamp {this['bootcamp_id']}, "
                    f"{iso(this['learning_start'], missing='blank')} to {iso(this['learning_end'], missing='blank')}) has the "
                    f"ULN of provider {other['provider_id']}'s learner at {other['source']} "
                    f"(bootcamp {other['bootcamp_id']}, {iso(other['learning_start'], missing='blank')} to "
                    f"{iso(other['learning_end'], missing='blank')}) and their learning overlaps",
                    str(this["bootcamp_id"]),
                    related_learner(other["provider_id"], other["learner_ref"]),
                ),
            )
            for first, second in overlapping
            for this, other in ((first, second), (second, first))
        ),
        findings,
    )


def _same_uln_pairs(
    periods: pd.DataFrame, *, across_providers: bool = False, same_provider: bool = False
) -> list[tuple[pd.Series, pd.Series]]:
    """Pairs of rows (earlier row first) sharing one known ULN; of two providers
    (``across_providers``) or of one (``same_provider``) by their ``provider_id``."""
    # a boolean array, not the mapped Series: an empty object Series would select columns
    known = periods["uln"].map(known_uln).to_numpy(dtype=bool)
    usable = periods[known].reset_index(drop=True)
    usable = usable.assign(
        _row=range(len(usable)), _uln=usable["uln"].map(lambda u: str(u).strip())
    )
    if not usable["_uln"].duplicated().any():
        return []  # no ULN twice: the self-join below would give only each row with itself
    pairs = usable.merge(usable, on="_uln", suffixes=("_a", "_b"))
    pairs = pairs[pairs["_row_a"] < pairs["_row_b"]]
    if across_providers:
        pairs = pairs[pairs["provider_id_a"] != pairs["provider_id_b"]]
    if same_provider:
        pairs = pairs[pairs["provider_id_a"] == pairs["provider_id_b"]]
    return [
        (usable.loc[int(a)], usable.loc[int(b)])
        for a, b in zip(pairs["_row_a"], pairs["_row_b"], strict=True)
    ]


def _overlap(first: pd.Series, second: pd.Series) -> bool:
    """Learning periods intersect, both ends included."""
    return bool(
        first["learning_start"] <= second["learning_end"]
        and second["learning_start"] <= first["learning_end"]
    )
