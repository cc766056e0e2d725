"""The ground truth: what was planted where, as expectations a test can check.

Each :class:`Expectation` says "rule R must be reported for entity E of provider P in
period T", with the bootcamp, the table and the ``file:row`` of the evidence in that
period's return. ``may_also`` lists rule ids a correct implementation may reasonably
report for the same entity as a consequence (e.g. INT-NONE implies M2-NO-EVIDENCE).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kpitools.rules import rule


def source_name(table: str, row: int | None, fmt: str = "csv") -> str:
    """The ``source`` the loader gives a row: ``learners.csv:14`` or, for a workbook,
    ``datasheet.xlsx[learners]:14``; empty when the row is absent."""
    if row is None:
        return ""
    return f"datasheet.xlsx[{table}]:{row}" if fmt == "xlsx" else f"{table}.csv:{row}"


@dataclass(frozen=True)
class Expectation:
    """One planted case in one period's return.

    Attributes:
        period: reporting period ``YYYY-MM``.
        provider_id: the provider whose register must show it.
        rule: the exact rule id of :mod:`kpitools.rules`.
        kind: the rule's KPI, ``irregularity`` or ``validation``.
        entity: ``learner:<ref>``, ``employer:<id>`` or ``bootcamp:<id>``.
        bootcamp_id: the bootcamp concerned, or ``ALL``.
        table: the contract table holding the evidence.
        row: the row a person sees in that table (header = 1), or None when the row
            is absent (e.g. a learner who disappeared: see ``previous_row``).
        source: as the loader names it: ``<table>.csv:<row>``, or
            ``datasheet.xlsx[<table>]:<row>`` when only workbooks were written.
        plant: short name of the plant, shared by the expectations it causes.
        note: what was done, in words.
        column / value: for rejected rows, the offending column and text.
        previous_row: for restatements, the row in the previous period's table.
        may_also: rule ids that may also be reported for this entity.
        alt_entities: other entities a finding may name instead (e.g. the employer of
            a co-funded learner, the other half of a duplicate pair).
    """

    period: str
    provider_id: str
    rule: str
    kind: str
    entity: str
    bootcamp_id: str
    table: str
    row: int | None
    source: str
    plant: str
    note: str
    column: str = ""
    value: str = ""
    previous_row: int | None = None
    may_also: tuple[str, ...] = ()
    alt_entities: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hostile:
    """Text planted to test neutralisation downstream (HTML, Excel, mathtext)."""

    period: str
    provider_id: str
    table: str
    column: str
    value: str
    row: int | None
    source: str
    entity: str
    threat: str


@dataclass
class GroundTruth:
    """Everything planted in one generated demo data set.

    Attributes:
        seed / periods / providers: what was generated.
        fmt: the form of the returns the sources refer to (``csv`` or ``xlsx``).
        clean_providers: providers with nothing planted (no finding expected at all).
        ilr_only_providers: providers whose learners, interviews and outcomes come from
            their ILR files only (no learners, interviews or outcomes table): the demo's
            ILR-only provider (:mod:`kpitools.demo.ilr_only`); its expectations' table is
            ``ilr`` and their rows and sources the line of the learner in its ILR file.
        expectations: planted KPI exceptions, irregularities and rejected rows.
        hostile: hostile text values.
        background: findings that arise naturally, not planted: due completers
            without a valid outcome (``CP-NO-OUTCOME``) in providers other than the
            clean one (career progression has no target, so they are realistic).
        stats: headline rates of the generated learners.
        person_pairs: the pairs of learners the person plants made
            (:mod:`kpitools.demo.plant_people`): the same person under two providers
            (``same_person``, expected as DUP-PERSON-* on both) or look-alikes who are two
            people (no finding), each with both learners' provider, ref and bootcamp.
    """

    seed: int
    periods: list[str]
    providers: list[str]
    clean_providers: list[str]
    fmt: str = "csv"
    ilr_only_providers: list[str] = field(default_factory=list)
    expectations: list[Expectation] = field(default_factory=list)
    hostile: list[Hostile] = field(default_factory=list)
    background: list[Expectation] = field(default_factory=list)
    stats: dict[str, float | int] = field(default_factory=dict)
    person_pairs: list[dict[str, Any]] = field(default_factory=list)

    def rules(self) -> set[str]:
        """Every rule id planted."""
        return {e.rule for e in self.expectations}

    def for_provider(self, provider_id: str, period: str | None = None) -> list[Expectation]:
        return [
            e
            for e in self.expectations
            if e.provider_id == provider_id and (period is None or e.period == period)
        ]

    def rejected(self, provider_id: str, period: str) -> list[Expectation]:
        """The rows the loader must reject for one provider and period."""
        return [e for e in self.for_provider(provider_id, period) if e.kind == "validation"]

    def to_json(self) -> str:
        """Stable JSON: sorted keys, fixed indent, no timestamp."""
        return json.dumps(asdict(self), indent=1, sort_keys=True, ensure_ascii=False) + "\n"

    def write(self, path: Path) -> None:
        path.write_text(self.to_json(), encoding="utf-8", newline="\n")

    @classmethod
    def read(cls, path: Path) -> GroundTruth:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        exp = [_expectation(e) for e in data.pop("expectations")]
        back = [_expectation(e) for e in data.pop("background")]
        hostile = [Hostile(**h) for h in data.pop("hostile")]
        return cls(expectations=exp, background=back, hostile=hostile, **data)


def _expectation(data: dict[str, Any]) -> Expectation:
    data = dict(data)
    data["may_also"] = tuple(data.get("may_also", ()))
    data["alt_entities"] = tuple(data.get("alt_entities", ()))
    return Expectation(**data)


@dataclass
class PlantSpec:
    """A plant's expectation before row numbers are known (resolved per period).

    ``match`` finds the evidence row in ``table``; ``periods`` are period indexes (None
    = every period); ``previous_match`` finds the row in the previous period's table.
    """

    plant: str
    rule: str
    provider_id: str
    entity: str
    bootcamp_id: str
    table: str
    match: dict[str, object] | None
    note: str
    periods: tuple[int, ...] | None = None
    column: str = ""
    value: str = ""
    previous_match: dict[str, object] | None = None
    may_also: tuple[str, ...] = ()
    alt_entities: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return rule(self.rule).kpi
