"""The shapes that pass between loaders, KPIs, checks and packs.

Validated tables are pandas DataFrames holding every contract column of the table (an
optional column absent from the file is all-missing) plus ``source``, e.g.
``"learners.csv:14"`` (file or sheet name, and the row a person sees). Column dtypes:

- id, text, code, codelist, idlist, uln, ukprn: ``object`` holding ``str`` or ``None``
- date: ``datetime64[ns]`` (``NaT`` when blank)
- flag: pandas ``boolean`` (True / False / ``<NA>`` when not known); contract defaults
  (``accelerated_apprenticeship`` N; ``wants_interview`` Y for independent learners, N
  otherwise) are filled in by validation
- money: ``float64``; int and score: ``Int64``
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

from kpitools.rules import Rules, rule

_V = TypeVar("_V")

# The output files that pass between stages (data-contract.md, "What the toolkit
# writes"): exact column order.
KPI_RESULT_COLUMNS: tuple[str, ...] = (
    "provider_id",
    "bootcamp_id",
    "kpi",
    "stage",
    "numerator",
    "denominator",
    "value",
    "target",
    "status",
    "due_date",
    "as_of",
    "unverified",  # added by issue 23, at the end: the contract is extended, not renamed
)
EXCEPTION_COLUMNS: tuple[str, ...] = (
    "provider_id",
    "bootcamp_id",
    "kpi",
    "rule",
    "severity",
    "entity",
    "source",
    "message",
    "related",  # added by issue 26, at the end: another provider's learner it names
)
REJECTED_COLUMNS: tuple[str, ...] = ("table", "source", "column", "value", "reason")
PERSONAL = "personal"
"""A column of the rejected-rows frame, never written out: True where the value could be
personal data (set by :func:`kpitools.returns.personal.mark_personal`; outputs withhold
it unless ``include_pii``)."""

SEVERITIES = ("high", "medium", "low")
NEW, RECURRING = "new", "recurring"
"""An exception's change since last month's register (:class:`FollowUp`)."""
REOPENED = "reopened"
"""The status of an exception marked resolved or accepted that occurs again."""
CARRIED, MANUAL = "carried", "manual"
"""The change of a register row kept open although nothing found it this month: an event
(a restatement, a late report) not repeated, open until an auditor closes it; a row an
auditor added by hand (its id ``MAN-…``)."""
EXCEPTION_ID_PREFIX = "EX-"
"""The start of the id kpitools gives an exception it found (``EX-`` and 12 hex digits);
any other id in a register is a row an auditor added by hand."""
IRREGULARITY = "irregularity"
"""The ``kpi`` of a finding that is an irregularity rather than a KPI exception."""
ILR_DROPOUTS = "ilr_dropouts_with_withdrawal_reason"
"""The worklist of the ILR's drop-outs with their withdrawal reason
(:mod:`kpitools.ilr.reconcile`), shown in the pack's ILR section."""


RETURN_FILE = "return"
ILR_USED = "ILR, current state"
ILR_SUPERSEDED = "ILR, superseded (read for withdrawal report dates)"
PREVIOUS_RETURN = "previous month's return"
"""The roles of an input (:attr:`InputFile.role`): a table of the return, an ILR file
that gives the current state of its collection year, an earlier month's ILR file of
that year (read only for when each withdrawal was first reported), a file of the
previous month's return (read for RESTATED-*)."""


@dataclass(frozen=True)
class InputFile:
    """One input file as read: what an auditor needs to prove which data was used.

    Attributes:
        path: as the provider folder names it (``learners.csv``, ``ilr/<file>.xml``).
        role: what it was read for (:data:`RETURN_FILE`, :data:`ILR_USED`,
            :data:`ILR_SUPERSEDED`, :data:`PREVIOUS_RETURN`).
    """

    path: str
    sha256: str
    size_bytes: int
    tables: tuple[str, ...]
    rows: int
    role: str = RETURN_FILE


@dataclass(frozen=True)
class IlrScope:
    """What a provider's ILR review covered: the pack's ILR section starts with it.

    Attributes:
        files_used: the ILR files that give the current state (each year's latest).
        files_superseded: earlier months' files, read for withdrawal report dates only.
        ukprn: the UKPRN the files' headers give.
        as_known: the latest ``FilePreparationDate``.
        learners_read: ``Learner`` elements of the files used.
        bootcamp_learners: of those, learners with a Skills Bootcamp aim.
        bootcamps: bootcamps (contract references) the ILR maps learners onto.
        mapped: learner rows (learner and bootcamp) mapped.
        rejected: learner rows the mapping rejected.
        reconciled: whether a datasheet beside the ILR was reconciled with it (False
            when the return's learners come from the ILR itself).
        cutoff: the reconciliation's cut-off (the ILR's latest preparation date or
            as_of, if earlier), None when not reconciled.
        datasheet_in_scope / ilr_in_scope / matched: learners of each side compared
            (started from 1 August 2022 and by the cut-off) and how many were matched.
    """

    files_used: tuple[str, ...]
    files_superseded: tuple[str, ...]
    ukprn: str | None
    as_known: date | None
    learners_read: int
    bootcamp_learners: int
    bootcamps: int
    mapped: int
    rejected: int
    reconciled: bool = False
    cutoff: date | None = None
    datasheet_in_scope: int = 0
    ilr_in_scope: int = 0
    matched: int = 0


@dataclass(frozen=True)
class TableCount:
    """Rows read = accepted + rejected, for one table.

    ``unlisted_rows`` of the rejected rows, with ``unlisted_reasons`` reasons, are counted
    but not listed among the rejected rows: validation keeps the reasons of a table's
    first rejected rows only, up to :data:`kpitools.returns.validate.MAX_REJECTED_REASONS`
    (a file of bad rows must not hold memory in proportion)."""

    table: str
    read: int
    accepted: int
    rejected: int
    unlisted_rows: int = 0
    unlisted_reasons: int = 0

    @property
    def balances(self) -> bool:
        return self.read == self.accepted + self.rejected


@dataclass
class ProviderReturn:
    """One provider's monthly return after loading and validation.

    Attributes:
        provider_id: the provider's id (folder name and ``provider.provider_id``).
        path: the provider folder.
        tables: accepted rows per contract table (every table present, maybe empty).
        rejected: one row per (rejected row, reason): table, source, column, value,
            reason, rule, and :data:`PERSONAL` (the value could be personal data).
        counts: rows read / accepted / rejected per table.
        inputs: every file read, with SHA-256 and rows.
        warnings: non-fatal notes for the user (e.g. a cp1252 file).
        not_supplied: the optional tables absent from the return, each with the file
            (or sheet) that was looked for. An absent table is *not supplied*, unlike a
            file with a header and no rows (a supplied, empty table): KPIs and checks
            that need it are ``no_data`` / not checked, nothing is inferred from it.
    """

    provider_id: str
    path: Path
    tables: dict[str, pd.DataFrame]
    rejected: pd.DataFrame
    counts: dict[str, TableCount]
    inputs: list[InputFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    not_supplied: dict[str, str] = field(default_factory=dict)

    @property
    def provider_name(self) -> str:
        frame = self.tables["provider"]
        return str(frame["name"].iloc[0]) if len(frame) else self.provider_id

    @property
    def ukprn(self) -> str | None:
        frame = self.tables["provider"]
        return str(frame["ukprn"].iloc[0]) if len(frame) else None


def empty_rejected() -> pd.DataFrame:
    """An empty rejected-rows frame with the contract columns plus ``rule`` and
    :data:`PERSONAL` (a copy of one built once: a period asks for hundreds, and building
    one costs ten copies)."""
    return _EMPTY_REJECTED.copy()


_EMPTY_REJECTED = pd.DataFrame(
    {c: pd.Series(dtype=object) for c in (*REJECTED_COLUMNS, "rule")}
    | {PERSONAL: pd.Series(dtype=bool)}
)


def learner_entity(learner_ref: object) -> str:
    """The entity of a finding about a learner: ``learner:<learner_ref>``."""
    return f"learner:{learner_ref}"


def employer_entity(employer_id: object) -> str:
    """The entity of a finding about an employer: ``employer:<employer_id>``."""
    return f"employer:{employer_id}"


def entity_learner_ref(entity: str) -> str:
    """The learner ref of a ``learner:<ref>`` entity, '' for any other entity."""
    kind, sep, ident = str(entity).partition(":")
    return ident if sep and kind == "learner" else ""


@dataclass(frozen=True)
class Finding:
    """One case that fails a KPI rule or an irregularity check: a row of the register.

    ``entity`` names the case: ``learner:<learner_ref>`` or ``employer:<employer_id>``
    (packs replace learner refs by keyed pseudonyms unless include_pii is set).
    ``source`` is ``file:row`` of the evidence (several joined by ``; ``). ``related``
    names another provider's learner the finding rests on (:func:`related_learner`,
    e.g. a cross-provider duplicate), named at write time like ``entity``.
    """

    kpi: str  # a KPI name, or "irregularity"
    rule: str
    severity: str
    entity: str
    source: str
    message: str
    bootcamp_id: str = "ALL"
    related: str = ""

    @property
    def learner_ref(self) -> str:
        """The provider's own ref of the learner the finding is about ('' for others)."""
        return entity_learner_ref(self.entity)

    def as_row(self, provider_id: str) -> dict[str, str]:
        return {
            "provider_id": provider_id,
            "bootcamp_id": self.bootcamp_id,
            "kpi": self.kpi,
            "rule": self.rule,
            "severity": self.severity,
            "entity": self.entity,
            "source": self.source,
            "message": self.message,
            "related": self.related,
        }


def related_learner(provider_id: str, learner_ref: object) -> str:
    """Another provider's learner, as a finding's ``related`` names it:
    ``<provider_id>/learner:<learner_ref>``."""
    return f"{provider_id}/{learner_entity(learner_ref)}"


def finding(
    rule_id: str,
    entity: str,
    sources: Iterable[str],
    message: str,
    bootcamp_id: str = "ALL",
    related: str = "",
) -> Finding:
    """A register row for a rule of the catalogue (:mod:`kpitools.rules`), its KPI (or
    ``irregularity``) and severity taken from the catalogue: the one way KPIs, checks
    and the ILR reconciliation build a :class:`Finding`.

    Args:
        rule_id: a catalogue rule id (an unknown id is a KeyError).
        entity: ``learner:<ref>`` (:func:`learner_entity`), ``employer:<id>``
            (:func:`employer_entity`) or ``bootcamp:<id>``.
        sources: the ``file:row`` of every row that is evidence, in citation order.
        message: plain words, never a name, ULN or contact detail.
        bootcamp_id: the bootcamp concerned, or ``ALL``.
        related: another provider's learner it rests on (:func:`related_learner`).
    """
    entry = rule(rule_id)
    return Finding(
        kpi=entry.kpi,
        rule=rule_id,
        severity=entry.severity,
        entity=entity,
        source=join_sources(sources),
        message=message,
        bootcamp_id=bootcamp_id or "ALL",
        related=related,
    )


def irregularity(
    rule_id: str,
    entity: str,
    sources: Iterable[str],
    message: str,
    bootcamp_id: str = "ALL",
    related: str = "",
) -> Finding:
    """:func:`finding` for an irregularity; a rule of a KPI is a ValueError."""
    if rule(rule_id).kpi != IRREGULARITY:
        raise ValueError(f"{rule_id} is a {rule(rule_id).kpi} rule, not an irregularity")
    return finding(rule_id, entity, sources, message, bootcamp_id, related)


def join_sources(sources: Iterable[str]) -> str:
    """``file:row`` references joined by ``"; "``, blanks and repeats left out."""
    seen: list[str] = []
    for source in sources:
        text = "" if is_blank(source) else str(source)
        if text and text not in seen:
            seen.append(text)
    return "; ".join(seen)


def is_blank(value: object) -> bool:
    """True for None, NaN, NaT, pd.NA and empty text."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


OFF_COURSE = ("off_track", "not_met")
"""The statuses of a figure whose members the register and the pack list."""

MEMBER_COLUMNS: tuple[str, ...] = (
    "member",
    "source",
    "in_population",
    "in_numerator",
    "reason",
)
"""The columns of :meth:`KpiMembers.frame`: one row per member of a figure."""


@dataclass(frozen=True, eq=False)
class KpiMembers:
    """The members of one KPI figure: every case of its population, and the cases the
    rule names but leaves out, each with how it counts. Built with the figure's counts
    from the same flags (:func:`kpitools.kpis.summary.summarise`), so the members with
    ``in_population`` number the denominator and those with ``in_numerator`` the
    numerator, exactly.

    Equally long arrays, one entry per member:

    Attributes:
        member: the case, as a finding's entity names it: ``learner:<learner_ref>`` or
            ``employer:<employer_id>``.
        source: the ``file:row`` of the rows it rests on (several joined by ``; ``).
        in_population: counted in the denominator.
        in_numerator: counted in the numerator.
        reason: why it counts as it does, in the rule's words (excluded, not yet due or
            unverified ones say why they are not in the population).
    """

    member: np.ndarray
    source: np.ndarray
    in_population: np.ndarray
    in_numerator: np.ndarray
    reason: np.ndarray

    def __len__(self) -> int:
        return len(self.member)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KpiMembers):
            return NotImplemented
        return all(
            np.array_equal(getattr(self, name), getattr(other, name)) for name in MEMBER_COLUMNS
        )

    __hash__ = None  # type: ignore[assignment]  # equal by content, like a frame

    def frame(self) -> pd.DataFrame:
        """The members as a frame (:data:`MEMBER_COLUMNS`), in_population and
        in_numerator as booleans."""
        return pd.DataFrame({name: getattr(self, name) for name in MEMBER_COLUMNS})


def no_members() -> KpiMembers:
    """The members of a figure with none (nothing measured)."""
    return _NO_MEMBERS


_NO_MEMBERS = KpiMembers(
    member=np.empty(0, dtype=object),
    source=np.empty(0, dtype=object),
    in_population=np.empty(0, dtype=bool),
    in_numerator=np.empty(0, dtype=bool),
    reason=np.empty(0, dtype=object),
)


@dataclass(frozen=True)
class KpiResult:
    """One KPI (and stage) for one bootcamp, or for the provider (``bootcamp_id='ALL'``).

    ``value`` is numerator / denominator (None when the denominator is 0); ``target`` is
    the target as a fraction, with ``target_kind`` ``"max"`` (drop-out) or ``"min"``
    (100 % targets), or None when the KPI is only reported. ``informational`` are cases
    reported for information and not flagged: career progression's due completers
    without any outcome while no progression target is set. ``unverified`` counts the
    cases left out of numerator and denominator because the evidence that would decide
    them comes from the ILR, which does not say the role type or the skills match
    (:data:`~kpitools.returns.contract.UNKNOWN_FROM_ILR`): neither failed nor met until
    someone verifies them (they are in the verification sample). ``members`` are the
    cases behind the figure (:class:`KpiMembers`). ``open_short`` counts
    the failing cases not yet due (what makes a 100 % target ``at_risk`` while every due
    case passes: the figure alone would not say why).
    """

    kpi: str
    bootcamp_id: str
    numerator: int
    denominator: int
    status: str
    as_of: date
    stage: str = ""
    target: float | None = None
    target_kind: str | None = None
    due_date: date | None = None
    exceptions: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = ()
    informational: tuple[Finding, ...] = ()
    unverified: int = 0
    open_short: int = 0
    members: KpiMembers = field(default_factory=no_members, repr=False)

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    def as_row(self, provider_id: str) -> dict[str, object]:
        return {
            "provider_id": provider_id,
            "bootcamp_id": self.bootcamp_id,
            "kpi": self.kpi,
            "stage": self.stage,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "value": None if self.value is None else round(self.value, 6),
            "target": self.target,
            "status": self.status,
            "due_date": self.due_date.isoformat() if self.due_date else "",
            "as_of": self.as_of.isoformat(),
            "unverified": self.unverified,
        }


def findings_frame(findings: list[Finding] | tuple[Finding, ...], provider_id: str) -> pd.DataFrame:
    """Findings as an ``exceptions.csv`` frame (contract column order)."""
    return pd.DataFrame([f.as_row(provider_id) for f in findings], columns=list(EXCEPTION_COLUMNS))


@dataclass(frozen=True)
class RegisterSource:
    """A register read back for a provider's follow-up, and what came of it.

    Attributes:
        path: where it was read (absolute).
        role: :data:`THIS_PERIOD_REGISTER` (an earlier run of this period: its edits win),
            :data:`LAST_MONTH_REGISTER` or :data:`EVIDENCE_REPLY` (the provider's replies:
            ``rows`` its lines read, ``edits`` the exceptions its replies went into).
        sha256: of the file as read.
        size_bytes: its size.
        last_modified_by: the workbook's ``lastModifiedBy`` property (who saved it last).
        modified: the workbook's ``modified`` property, ISO 8601 (when it was saved).
        rows: rows of its Exceptions and Resolved sheets read.
        edits: values an auditor changed in it since kpitools wrote it (or every value
            set, for a register from a kpitools that did not record what it wrote).
        added_columns: columns an auditor added to it.
        manual_rows: rows an auditor added to it by hand.
        handled: what was not as kpitools wrote it and how it was read (formulas, ids in
            another case, repeated or unknown ids, a CSV), one line each: the Summary's.
    """

    path: str
    role: str
    sha256: str
    size_bytes: int
    last_modified_by: str = ""
    modified: str = ""
    rows: int = 0
    edits: int = 0
    added_columns: tuple[str, ...] = ()
    manual_rows: int = 0
    handled: tuple[str, ...] = ()


THIS_PERIOD_REGISTER = "this period's register (an earlier run)"
EVIDENCE_REPLY = "the provider's evidence reply"
"""A :class:`RegisterSource` role: the evidence request a provider returned with its
return, whose replies went into the register's ``response``."""
LAST_MONTH_REGISTER = "last month's register"
"""The roles of a register read back (:attr:`RegisterSource.role`)."""


@dataclass(frozen=True)
class FollowUp:
    """This month's register and what changed since the previous one.

    Attributes:
        exceptions: one row per exception (:data:`kpitools.worklists.followup.REGISTER_COLUMNS`,
            with the columns auditors added after the working columns), most severe first.
        resolved: the exceptions that no longer occur
            (:data:`kpitools.worklists.followup.RESOLVED_COLUMNS`, the same added columns).
        previous: where the previous register was looked for / found (blank: not looked).
        previous_found: whether a previous register was read.
        notes: plain-language notes (no previous register, unreadable dates, ...).
        sources: the registers read back (this period's first, then last month's).
        edits: every value an auditor changed in them since kpitools wrote it
            (:data:`kpitools.worklists.followup.EDIT_COLUMNS`), for the audit store.
        edited_after_review: ids of the exceptions whose auditor fields changed after
            their ``reviewed_on`` (flagged in ``review_note``).
        unused: registers found but not used, each with why (unreadable, over a limit,
            another provider's, period's or key's): said in the pack too (no personal
            data: a path under ``OUT`` and the reason).
    """

    exceptions: pd.DataFrame
    resolved: pd.DataFrame
    previous: str = ""
    previous_found: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)
    sources: tuple[RegisterSource, ...] = ()
    edits: pd.DataFrame | None = None
    edited_after_review: tuple[str, ...] = ()
    unused: tuple[str, ...] = ()

    def counts(self) -> dict[str, int]:
        """Exceptions by severity and change, resolved ones, reopened ones (recurring
        although the auditor had marked them resolved or accepted), and those edited
        after review."""
        frame = self.exceptions
        counts = {s: int((frame["severity"] == s).sum()) for s in SEVERITIES}
        counts.update(
            total=len(frame),
            new=int((frame["change"] == NEW).sum()),
            recurring=int((frame["change"] == RECURRING).sum()),
            carried=int((frame["change"] == CARRIED).sum()),
            manual=int((frame["change"] == MANUAL).sum()),
            resolved=len(self.resolved),
            reopened=int((frame["status"] == REOPENED).sum()),
            edited_after_review=len(self.edited_after_review),
        )
        return counts


@dataclass(frozen=True)
class Trends:
    """A provider's KPI figures month by month.

    Attributes:
        figures: :data:`kpitools.kpis.trends.TREND_COLUMNS`, oldest period first; ``bootcamp_id`` is ``ALL``
            for the provider, a bootcamp id for the KPIs of :data:`kpitools.kpis.trends.PER_BOOTCAMP`.
        notes: months left out and why.
    """

    figures: pd.DataFrame
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def periods(self) -> list[str]:
        return sorted(set(self.figures["period"]))


def findings_of(
    kpi_results: Iterable[KpiResult], irregularities: Iterable[Finding]
) -> list[Finding]:
    """An audit's findings: the KPI exceptions, then the irregularities, in a stable
    order (what the register lists, :meth:`ProviderAudit.findings`)."""
    return [f for r in kpi_results for f in r.exceptions] + list(irregularities)


class ReadOnly(Mapping[str, _V]):
    """A mapping that cannot be changed once built (a copy of the one given): what a
    :class:`ProviderAudit` holds its named tables in. Unlike ``types.MappingProxyType``
    it can be pickled (audits are saved for the packs and sent back by worker processes).
    """

    def __init__(self, items: Mapping[str, _V] | None = None) -> None:
        self._items: dict[str, _V] = dict(items or {})

    def __getitem__(self, name: str) -> _V:
        return self._items[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"ReadOnly({list(self._items)})"


@dataclass(frozen=True, eq=False)
class ProviderAudit:
    """Everything computed for one provider and period: what packs and registers show.

    Built once and whole by the audit engine (:mod:`kpitools.audit`:
    :func:`~kpitools.audit.audit_provider`, :func:`~kpitools.audit.audit_single_provider`,
    :func:`~kpitools.audit.audit_period`), frozen: its collections are tuples and
    read-only mappings (:class:`ReadOnly`), nothing is added to it afterwards; notebooks
    only present it. (Two audits are the same audit only when they are one object: their
    tables cannot be compared with ``==``.)

    Attributes:
        provider: the validated current return.
        as_of: the measurement date.
        rules: the rules in force for this provider.
        kpi_results: every KPI (and stage) per bootcamp and for ``ALL``.
        period: the reporting period ``YYYY-MM`` (or None when not known).
        irregularities: findings of the irregularity checks (incl. ILR reconciliation
            and cross-provider checks), ``kpi == "irregularity"``.
        previous: the previous month's return when one was found, else None.
        worklists: named tables for the auditor (samples, ageing, breach risk, ...).
        charts: the figures the pack's charts draw, by name (:mod:`kpitools.kpis.charts`).
        notes: plain-language notes (e.g. "no previous return found at ...").
        followup: the register's follow-up against the previous month's register
            (:class:`FollowUp`, :func:`kpitools.worklists.followup.provider_followup`), when
            the audit was given the provider's register trail (packs).
        trends: the KPI figures month by month (:class:`Trends`,
            :func:`kpitools.kpis.trends.kpi_trends`), when asked for (packs).
        person_model: the person matching's model and what it compared (the periods,
            how many learner rows and pairs), recorded in manifest.json
            (:mod:`kpitools.checks.people`).
    """

    provider: ProviderReturn
    as_of: date
    rules: Rules
    kpi_results: tuple[KpiResult, ...]
    period: str | None = None
    irregularities: tuple[Finding, ...] = ()
    previous: ProviderReturn | None = None
    worklists: Mapping[str, pd.DataFrame] = field(default_factory=ReadOnly)
    charts: Mapping[str, pd.DataFrame] = field(default_factory=ReadOnly)
    notes: tuple[str, ...] = ()
    followup: FollowUp | None = None
    trends: Trends | None = None
    ilr_scope: IlrScope | None = None
    ilr_inputs: tuple[InputFile, ...] = ()
    person_model: Mapping[str, object] = field(default_factory=ReadOnly)

    def __post_init__(self) -> None:
        # whatever sequences and mappings it is given, it holds them read-only
        for name in ("kpi_results", "irregularities", "notes"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        for name in ("worklists", "charts", "person_model"):
            object.__setattr__(self, name, ReadOnly(getattr(self, name)))

    @property
    def provider_id(self) -> str:
        return self.provider.provider_id

    def inputs(self) -> list[InputFile]:
        """Every file the audit read, each with its role (:attr:`InputFile.role`): the
        return's tables, every ILR file in its ``ilr/`` folder (used and superseded,
        whether the learners came from them or they were reconciled with a datasheet),
        and the previous month's return (read for RESTATED-*), paths as the period
        folder names them (``2023-02/P001/learners.csv``)."""
        found = list(self.provider.inputs)
        known = {(Path(f.path).name, f.sha256) for f in found}
        found += [f for f in self.ilr_inputs if (Path(f.path).name, f.sha256) not in known]
        if self.previous is not None:
            folder = Path(self.previous.path)
            found += [
                replace(
                    f,
                    path=f"{folder.parent.name}/{folder.name}/{f.path}",
                    role=PREVIOUS_RETURN,
                )
                for f in self.previous.inputs
            ]
        return found

    def findings(self) -> list[Finding]:
        """KPI exceptions then irregularities, in a stable order (:func:`findings_of`)."""
        return findings_of(self.kpi_results, self.irregularities)

    def informational(self) -> list[Finding]:
        """Cases reported for information, not flagged (see :class:`KpiResult`)."""
        return [f for r in self.kpi_results for f in r.informational]

    def kpi_frame(self) -> pd.DataFrame:
        rows = [r.as_row(self.provider_id) for r in self.kpi_results]
        return pd.DataFrame(rows, columns=list(KPI_RESULT_COLUMNS))

    def exceptions_frame(self) -> pd.DataFrame:
        return findings_frame(self.findings(), self.provider_id)
