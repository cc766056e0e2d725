"""One case gathered: an entity's rows in every table of each month's return, its ILR
record, and every finding about it with its register history from the audit store.

A case is asked for by what an auditor holds: a learner's ref, an employer's id, or an
exception id (whose entity the store knows). What it gathers comes from three places,
each named in the case: the returns themselves (``DATA/<month>/<provider>``, found from
the ``params.yaml`` the run wrote beside the pack, each month read and validated as the
audit reads it, each row with its ``file:line``), the provider's ILR files of the period
(:mod:`kpitools.cases.ilr_record`), and the audit store ``OUT/kpitools.duckdb`` (the
findings of the latest finished run of each month, their register history, what each
run read, and what auditors wrote in the case before). Nothing is computed again: a
finding is what the run that built the month found.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from kpitools.cases.ilr_record import IlrRecord, ilr_record
from kpitools.errors import KpiToolsError, ParameterError
from kpitools.layout import is_period_name, provider_out_dir
from kpitools.load import load_provider
from kpitools.model import related_learner
from kpitools.params import load_params
from kpitools.privacy.naming import CIRCULATED, WORKING, LearnerNaming, learner_naming
from kpitools.privacy.pseudonym import Pseudonymiser, key_fingerprint
from kpitools.returns.contract import TABLES
from kpitools.rules import Rules
from kpitools.store.connection import read_store
from kpitools.store.queries import ExceptionHistory, exception_history

LEARNER, EMPLOYER, BOOTCAMP, PROVIDER = "learner", "employer", "bootcamp", "provider"
ENTITY_COLUMN = {
    LEARNER: "learner_ref",
    EMPLOYER: "employer_id",
    BOOTCAMP: "bootcamp_id",
    PROVIDER: "provider_id",
}
"""The column that names each kind of entity in the contract tables."""
ENTITY_TABLES = {
    LEARNER: tuple(t for t, table in TABLES.items() if "learner_ref" in table.column_names),
    EMPLOYER: tuple(t for t, table in TABLES.items() if "employer_id" in table.column_names),
    # a bootcamp's or a provider's learners are the KPI members' business, not a case's
    BOOTCAMP: ("bootcamps",),
    PROVIDER: ("provider",),
}
"""The tables whose rows a case of each kind shows: every table that names it."""
PAIR_KEYS: dict[str, tuple[str, ...]] = {
    "provider": ("provider_id",),
    "bootcamps": ("bootcamp_id",),
    "learners": ("learner_ref", "bootcamp_id"),
    "employers": ("employer_id",),
    "employer_contacts": ("employer_id", "stage", "attempt_date"),
    "cofunding_payments": ("learner_ref", "evidence_ref"),
    "assessments": ("learner_ref", "bootcamp_id", "kind"),
    "interviews": ("learner_ref", "bootcamp_id", "offer_date"),
    "outcomes": ("learner_ref", "bootcamp_id", "outcome_type"),
    "referrals": ("learner_ref", "bootcamp_id", "referral_date"),
}
"""How a row of one month is set beside the same row of another: the table's key, or
the columns that tell one event of the entity from another (a key that changed makes
the row look gone in one month and new in the next, which is what happened)."""
NOTE_FIELDS = ("allegation", "work_done", "conclusion")
FINDING_COLUMNS = (
    "period",
    "provider_id",
    "exception_id",
    "rule",
    "severity",
    "who",
    "related",
    "source",
    "message",
)
"""The columns a case shows of each finding, on its page and in its workbook alike
(``who``: the learner or entity as that output names it; ``related``: the other
provider's learner the finding rests on)."""
"""What the auditor writes in a case (the case workbook's Case sheet)."""
CASE_SHEET = "Case"
"""The sheet of ``register_events`` that holds what auditors wrote in case workbooks."""
CROSS_PROVIDER = "provider {provider}'s learner at {source}"
"""How a finding of another provider names one of this provider's learners
(DUP-ULN-OVERLAP), by the row that holds it that month."""

_SAFE_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")


@dataclass(frozen=True)
class Entity:
    """What a case is about: its kind (:data:`ENTITY_COLUMN`), its identifier as the
    provider writes it, and the provider."""

    kind: str
    ident: str
    provider_id: str

    @property
    def entity(self) -> str:
        """As findings name it: ``learner:000433``."""
        return f"{self.kind}:{self.ident}"


@dataclass(frozen=True)
class Month:
    """The entity's rows in one month's return.

    Attributes:
        period: the month.
        folder: the return's folder, relative to the data root (``2023-03/P002``).
        tables: table → the entity's accepted rows, with their ``source`` (``file:line``),
            in file order; only the tables where it has rows.
        notes: what the reader should know: files changed since the run on record read
            them, a month the store has no run for, a return that could not be read.
    """

    period: str
    folder: str
    tables: dict[str, pd.DataFrame]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Case:
    """A case, gathered (:func:`gather_case`); the presentation and the case workbook
    name its learners through ``naming`` (circulated: the HTML) and ``working`` (the
    xlsx), as the pack and the register do.

    Attributes:
        name: the case's file name without extension (``L-3f9a0c21d7``,
            ``employer-P002-E05``), also its id in the store (``CASE-<name>``).
        months: every month of the provider found, oldest first.
        ilr: the learner's ILR record in the period's ILR files (None: not a learner,
            or no ILR file); ``ilr_note`` says why there is none.
        findings: every finding about the entity in the latest finished run of each
            month up to the period, at this provider and others (columns of the store's
            ``findings``), oldest month first.
        histories: exception id → its register history (:func:`exception_history`).
        members: every KPI figure the entity counts in, month by month (the store's
            ``kpi_members`` of the latest finished run of each month up to the period):
            in its population, its numerator, or left out and why, with its rows.
        notes: what auditors wrote in the case, as last recorded (:data:`NOTE_FIELDS`).
    """

    entity: Entity
    period: str
    name: str
    out_root: str
    data_root: str
    built_utc: str
    key_fingerprint: str
    include_pii: bool
    naming: LearnerNaming
    working: LearnerNaming
    months: tuple[Month, ...]
    ilr: IlrRecord | None
    ilr_note: str
    findings: pd.DataFrame
    histories: dict[str, ExceptionHistory]
    members: pd.DataFrame
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def case_id(self) -> str:
        """Its id in the store's ``register_events``."""
        return f"CASE-{self.name}"

    @property
    def subject(self) -> str:
        """The entity as the HTML names it (a learner by pseudonym and row)."""
        if self.entity.kind == LEARNER:
            return f"learner {self.naming.learner(self.entity.ident)}"
        return f"{self.entity.kind} {self.entity.ident}"


def case_name(entity: Entity, pseudonymiser: Pseudonymiser) -> str:
    """The case's file name: a learner's pseudonym (never its ref: the file name is seen
    wherever the file goes), else the kind and the id when it is a plain name, else the
    kind and a digest of the id."""
    if entity.kind == LEARNER:
        return pseudonymiser.learner(entity.ident)
    ident = entity.ident
    if not _SAFE_NAME.fullmatch(ident):
        ident = hashlib.sha256(ident.encode()).hexdigest()[:12]
    return f"{entity.kind}-{ident}"


def resolve_entity(
    con: Any,
    provider_id: str,
    *,
    learner: str | None = None,
    employer: str | None = None,
    exception: str | None = None,
) -> Entity:
    """The entity a case is asked for: exactly one of a learner ref, an employer id or
    an exception id (whose entity and provider the store knows).

    Raises:
        ParameterError: none or several given; an exception id the store has never seen,
            or one of another provider.
    """
    given = [v for v in (learner, employer, exception) if v]
    if len(given) != 1:
        raise ParameterError("give exactly one of --learner REF, --employer ID, --exception EX-…")
    if learner:
        return Entity(LEARNER, learner.strip(), provider_id)
    if employer:
        return Entity(EMPLOYER, employer.strip(), provider_id)
    ident = str(exception).strip()
    found = con.execute(
        "SELECT provider_id, entity FROM findings WHERE exception_id = ? "
        "ORDER BY run_id DESC LIMIT 1",
        [ident],
    ).fetchall()
    if not found:
        raise ParameterError(f"{ident} is in no finding on record in the audit store")
    owner, entity = str(found[0][0]), str(found[0][1])
    if owner != provider_id:
        raise ParameterError(f"{ident} is a finding of provider {owner}, not {provider_id}")
    kind, _, value = entity.partition(":")
    if kind not in ENTITY_COLUMN or not value:
        raise ParameterError(f"{ident} is about {kind or 'nothing'}, which has no case file")
    return Entity(kind, value, provider_id)


def built_from(out_root: str | Path, period: str, provider_id: str) -> tuple[Path, Rules]:
    """The data root the period was built from and the rules it was built with, read
    from the ``params.yaml`` the run wrote beside the pack (``provider_dir:
    DATA/PERIOD/PROVIDER``).

    Raises:
        ParameterError: no pack of the provider for the period, or its data is gone.
    """
    params_path = provider_out_dir(out_root, period, provider_id) / "params.yaml"
    if not params_path.is_file():
        raise ParameterError(
            f"no pack of {provider_id} for {period} here (no params.yaml): build the period "
            "with kpitools packs first",
            path=params_path,
        )
    params = load_params(params_path)
    provider_dir = Path(params.provider_dir)
    if not provider_dir.is_dir():
        raise ParameterError(
            "the return this pack was built from is no longer there", path=provider_dir
        )
    return provider_dir.resolve().parent.parent, params.rules_object()


def month_folders(data_root: Path, period: str, provider_id: str) -> list[tuple[str, Path]]:
    """The provider's folders of the period and every earlier month beside it, oldest
    first."""
    return sorted(
        (folder.parent.name, folder)
        for folder in data_root.glob(f"*/{provider_id}")
        if folder.is_dir() and is_period_name(folder.parent.name) and folder.parent.name <= period
    )


def gather_case(
    out_root: str | Path,
    period: str,
    provider_id: str,
    *,
    key: bytes,
    learner: str | None = None,
    employer: str | None = None,
    exception: str | None = None,
    include_pii: bool = False,
) -> Case:
    """Gather one case (see the module's docstring).

    Args:
        out_root: the output root (``OUT``), holding the audit store.
        period: the month the case is built for (``YYYY-MM``); earlier months are read
            beside it.
        provider_id: whose case it is.
        key: the pseudonym key (the store's: checked by the caller).
        learner, employer, exception: exactly one, what the case is about.
        include_pii: name learners and employers' contacts in full.

    Raises:
        ParameterError: what the case is about cannot be found, or no pack was built.
        StoreError: the store cannot be read.
    """
    out_root = Path(out_root)
    data_root, rules = built_from(out_root, period, provider_id)
    with read_store(out_root) as con:
        entity = resolve_entity(
            con, provider_id, learner=learner, employer=employer, exception=exception
        )
        recorded = _recorded_inputs(con, provider_id, period)
        findings = _findings(con, entity, period)
        notes = _notes(con, provider_id, entity, key)
        members = _members(con, entity, period)
        folders = month_folders(data_root, period, provider_id)
        months = [_month(entity, p, f, data_root, recorded.get(p), rules) for p, f in folders]
        findings = pd.concat(
            [findings, _cross_provider(con, entity, months)], ignore_index=True
        ).sort_values(["period", "provider_id", "exception_id"], ignore_index=True)
        histories = {
            i: h for i in findings["exception_id"].unique() if (h := exception_history(con, i))
        }
    if not any(m.tables for m in months) and findings.empty:
        raise ParameterError(
            f"the {entity.kind} given is in no return of {provider_id} up to {period} "
            "and in no finding on record"
        )
    pseudonymiser = Pseudonymiser(key, provider_id)
    latest = next((m for m in reversed(months) if m.tables), None)
    tables = latest.tables if latest else {}
    ilr, ilr_note = (None, "")
    if entity.kind == LEARNER:
        current = next((f for p, f in folders if p == period), None)
        ilr, ilr_note = ilr_record(current, entity.ident, tables.get("learners"), rules)
    return Case(
        entity=entity,
        period=period,
        name=case_name(entity, pseudonymiser),
        out_root=str(out_root),
        data_root=str(data_root),
        built_utc=datetime.now(UTC).replace(microsecond=0).isoformat(),
        key_fingerprint=key_fingerprint(key),
        include_pii=include_pii,
        naming=learner_naming(tables, pseudonymiser, audience=CIRCULATED, include_pii=include_pii),
        working=learner_naming(tables, pseudonymiser, audience=WORKING, include_pii=include_pii),
        months=tuple(months),
        ilr=ilr,
        ilr_note=ilr_note,
        findings=findings,
        histories=histories,
        members=members,
        notes=notes,
    )


def _month(
    entity: Entity,
    period: str,
    folder: Path,
    data_root: Path,
    recorded: dict[str, str] | None,
    rules: Rules,
) -> Month:
    """The entity's rows in one month's return, with what changed since the run on
    record read it."""
    where = folder.relative_to(data_root).as_posix()
    try:
        provider = load_provider(folder, rules=rules)
    except KpiToolsError as error:
        return Month(period, where, {}, (f"not read: {error.one_line()}",))
    column = ENTITY_COLUMN[entity.kind]
    tables = {}
    for name in ENTITY_TABLES[entity.kind]:
        frame = provider.tables.get(name)
        if frame is None or column not in frame.columns or frame.empty:
            continue
        rows = frame[frame[column].astype("string").eq(entity.ident).fillna(False)]
        if not rows.empty:
            tables[name] = rows.reset_index(drop=True)
    notes = []
    if recorded is None:
        notes.append("no run of this month on record in the audit store")
    else:
        changed = [
            item.path
            for item in provider.inputs
            if recorded.get(f"{where}/{item.path}", item.sha256) != item.sha256
        ]
        if changed:
            notes.append(
                f"changed since the audit's last run read them: {', '.join(sorted(changed))}"
            )
    return Month(period, where, tables, tuple(notes))


_LATEST_RUNS = """
    SELECT f.period, f.provider_id, max(f.run_id) AS run_id
    FROM findings f JOIN runs r ON r.run_id = f.run_id
    WHERE r.ended_utc IS NOT NULL AND f.period <= ?
    GROUP BY f.period, f.provider_id
"""
"""The latest finished run of each month and provider that recorded findings."""


def _recorded_inputs(con: Any, provider_id: str, period: str) -> dict[str, dict[str, str]]:
    """Month → path → SHA-256 of the return's files as the latest finished run of the
    month read them."""
    found = con.execute(
        """
        WITH latest AS (
            SELECT i.period, max(i.run_id) AS run_id FROM inputs i
            JOIN runs r ON r.run_id = i.run_id
            WHERE r.ended_utc IS NOT NULL AND i.provider_id = ? AND i.period <= ?
            GROUP BY i.period)
        SELECT i.period, i.path, i.sha256 FROM inputs i JOIN latest USING (period, run_id)
        WHERE i.provider_id = ? AND i.edits IS NULL
        """,
        [provider_id, period, provider_id],
    ).fetchall()
    recorded: dict[str, dict[str, str]] = {}
    for month, path, sha256 in found:
        recorded.setdefault(str(month), {})[str(path)] = str(sha256)
    return recorded


def _findings(con: Any, entity: Entity, period: str) -> pd.DataFrame:
    """The entity's own findings at its provider, month by month."""
    return con.execute(
        f"""
        WITH latest AS ({_LATEST_RUNS})
        SELECT f.* FROM findings f JOIN latest USING (period, provider_id, run_id)
        WHERE f.provider_id = ? AND f.entity = ?
        """,
        [period, entity.provider_id, entity.entity],
    ).df()


def _members(con: Any, entity: Entity, period: str) -> pd.DataFrame:
    """The KPI figures the entity counts in, month by month, as the latest finished run
    of each month recorded them."""
    return con.execute(
        """
        WITH latest AS (
            SELECT m.period, max(m.run_id) AS run_id FROM kpi_members m
            JOIN runs r ON r.run_id = m.run_id
            WHERE r.ended_utc IS NOT NULL AND m.provider_id = ? AND m.period <= ?
            GROUP BY m.period)
        SELECT m.period, m.kpi, m.stage, m.bootcamp_id, m.in_population, m.in_numerator,
               m.reason, m.source
        FROM kpi_members m JOIN latest USING (period, run_id)
        WHERE m.provider_id = ? AND m.member = ?
        ORDER BY m.period, m.kpi, m.stage, m.bootcamp_id
        """,
        [entity.provider_id, period, entity.provider_id, entity.entity],
    ).df()


def _cross_provider(con: Any, entity: Entity, months: list[Month]) -> pd.DataFrame:
    """Other providers' findings about one of this provider's learners: those whose
    ``related`` learner it is (:func:`kpitools.model.related_learner`), and, from runs
    recorded before the store kept ``related`` (blank there), those that name it by the
    row that held it that month (:data:`CROSS_PROVIDER`)."""
    mine = related_learner(entity.provider_id, entity.ident)
    others = con.execute(
        f"""
        WITH latest AS ({_LATEST_RUNS})
        SELECT f.* FROM findings f JOIN latest USING (period, provider_id, run_id)
        WHERE f.provider_id <> ? AND (f.related = ? OR contains(f.message, ?))
        """,
        [max((m.period for m in months), default=""), entity.provider_id, mine, entity.provider_id],
    ).df()
    if entity.kind != LEARNER or others.empty:
        return others.iloc[0:0]
    named = {
        (m.period, CROSS_PROVIDER.format(provider=entity.provider_id, source=source))
        for m in months
        for source in m.tables.get("learners", pd.DataFrame({"source": []}))["source"]
    }
    keep = [
        related == mine if related else any(p == month and text in message for p, text in named)
        for month, message, related in zip(
            others["period"], others["message"], others["related"], strict=True
        )
    ]
    return others[keep]


def _notes(con: Any, provider_id: str, entity: Entity, key: bytes) -> dict[str, str]:
    """What auditors last wrote in the case's workbook, as the store recorded it."""
    name = case_name(entity, Pseudonymiser(key, provider_id))
    found = con.execute(
        "SELECT field, value FROM register_events WHERE provider_id = ? AND sheet = ? "
        "AND exception_id = ? ORDER BY event_id",
        [provider_id, CASE_SHEET, f"CASE-{name}"],
    ).fetchall()
    return {str(f): str(v) for f, v in found if str(f) in NOTE_FIELDS}
