"""ILR-MISMATCH-*: what a provider told the monitoring team (its datasheet) against what
it told DfE (its ILR). Disagreement between the two is exactly what auditors look for.
The audit's hook (:func:`ilr_reviews`) also brings DfE's bootcamp validation rule
findings (``ILR-R_152`` ...) into the register, and lists the ILR's drop-outs with their
withdrawal reason.

Learners are matched on (learner_ref, bootcamp_id); a learner left unmatched whose
learner_ref appears exactly once on each side is then matched on learner_ref alone (the
bootcamp id of a datasheet need not be the ILR contract reference). Only what both
sources can know is compared: learners who started, and dates that fall, on or before
the cut-off (the ILR's latest ``FilePreparationDate``, or ``as_of`` if earlier), and
not before 1 August 2022 (bootcamps are in the ILR from then on: DfE's LearnStartDate_21).
"""

from __future__ import annotations

import itertools
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from kpitools.errors import KpiToolsError
from kpitools.ilr.dfe_rules import IlrRuleFinding, aim_source
from kpitools.ilr.events import BOOTCAMPS_IN_ILR_FROM, WITHDRAW_REASONS
from kpitools.ilr.mapping import IlrReads, IlrTables, tables_from_ilr_files, ukprn_findings
from kpitools.layout import ilr_files
from kpitools.model import (
    ILR_DROPOUTS,
    Finding,
    IlrScope,
    InputFile,
    ProviderReturn,
    irregularity,
    is_blank,
    learner_entity,
)
from kpitools.rules import ILR_RULES, Rules

logger = logging.getLogger(__name__)

_DATES = ("start_date", "withdrawal_date", "completion_date")
_COMPARED = ("learner_ref", "bootcamp_id", "learner_type", "employer_id", *_DATES, "source")
"""The learners' columns the comparison reads (the others are not carried through it)."""


@dataclass(frozen=True)
class Reconciliation:
    """One provider's datasheet against its ILR: every disagreement, and how many
    learners were compared.

    Attributes:
        findings: rule ids ILR-MISMATCH-MISSING-IN-ILR, -MISSING-IN-DATASHEET,
            -START-DATE, -WITHDRAWN, -WITHDRAWAL-DATE, -COMPLETION-DATE, -COFUNDING,
            -SME; each cites the datasheet row and the ILR ``Learner`` element.
        cutoff: what both sources can know up to (None: no cut-off).
        datasheet, ilr: the learners of each side in scope.
        matched: those matched across the two.
    """

    findings: list[Finding]
    cutoff: pd.Timestamp | None
    datasheet: int
    ilr: int
    matched: int


class _Compared(Protocol):
    """A learner as :func:`_rows_in_scope` keeps it: a named tuple of ``_COMPARED``."""

    learner_ref: object
    bootcamp_id: object
    learner_type: object
    employer_id: object
    start_date: object
    withdrawal_date: object
    completion_date: object
    source: str


def reconcile(
    pairs: Sequence[tuple[Mapping[str, pd.DataFrame], IlrTables]],
    *,
    rules: Rules,
    as_of: date | None,
) -> list[Reconciliation]:
    """Every disagreement between each provider's datasheet and its ILR, each pair on its
    own (the learners in scope are found for all the pairs at once).

    Args:
        pairs: per provider, its validated tables (``learners``; ``employers`` for the
            SME comparison) and its ILR (:func:`kpitools.ilr.mapping.tables_from_ilr_files`).
        rules: for ``sme_employee_limit``.
        as_of: the datasheet's measurement date, when known.

    Returns:
        Each pair's :class:`Reconciliation`, in order.
    """
    cutoffs = [_cutoff(ilr_tables.as_known, as_of) for _, ilr_tables in pairs]
    sheets = _rows_in_scope([tables["learners"] for tables, _ in pairs], cutoffs)
    ilrs = _rows_in_scope([ilr_tables.learners for _, ilr_tables in pairs], cutoffs)
    return [
        _disagreements(
            sheet,
            ilr,
            cutoff,
            _datasheet_sme(tables.get("employers"), rules),
            ilr_tables.learner_facts,
        )
        for (tables, ilr_tables), sheet, ilr, cutoff in zip(
            pairs, sheets, ilrs, cutoffs, strict=True
        )
    ]


def _disagreements(
    sheet: dict[object, _Compared],
    ilr: dict[object, _Compared],
    cutoff: pd.Timestamp | None,
    sizes: dict[str, bool],
    facts: pd.DataFrame,
) -> Reconciliation:
    """The findings of one provider's learners in scope, datasheet and ILR, and how many
    were compared."""
    pairs, sheet_only, ilr_only = _match(sheet, ilr)
    keys = list(zip(facts["learner_ref"], facts["bootcamp_id"], strict=True))
    sme = dict(zip(keys, facts["sme"], strict=True))
    aims = dict(zip(keys, facts["aim_seq"], strict=True))
    findings = [
        _missing("ILR-MISMATCH-MISSING-IN-ILR", sheet[i], "in the datasheet but not in the ILR")
        for i in sheet_only
    ]
    findings += [
        _missing(
            "ILR-MISMATCH-MISSING-IN-DATASHEET",
            _at_aim(ilr[j], aims),
            "in the ILR but not among the datasheet's accepted learners (see rejected rows)",
        )
        for j in ilr_only
    ]
    for sheet_index, ilr_index in pairs:
        a, b = sheet[sheet_index], _at_aim(ilr[ilr_index], aims)
        findings += _compare_dates(a, b, cutoff)
        findings += _compare_funding(a, b, sizes, sme)
    return Reconciliation(findings, cutoff, len(sheet), len(ilr), len(pairs))


def _at_aim(row: _Compared, aims: Mapping[tuple[object, object], int | None]) -> _Compared:
    """An ILR learner row whose source names the programme aim its dates and status were
    read from: ``file.xml:LINE (aim N)`` (:func:`~kpitools.ilr.dfe_rules.aim_source`)."""
    aim = aims.get((row.learner_ref, row.bootcamp_id))
    if aim is None or pd.isna(aim):
        return row
    return row._replace(source=aim_source(row.source, int(aim)))  # type: ignore[attr-defined]  # a named tuple


def _cutoff(as_known: date | None, as_of: date | None) -> pd.Timestamp | None:
    days = [d for d in (as_known, as_of) if d is not None]
    return pd.Timestamp(min(days)) if days else None


def _rows_in_scope(
    frames: Sequence[pd.DataFrame], cutoffs: Sequence[pd.Timestamp | None]
) -> list[dict[object, _Compared]]:
    """Of each learners frame, the learners started from 1 August 2022 and by its
    cut-off, with later dates treated as not yet known: index label → the row as a named
    tuple of the compared columns. The frames are stacked, so a period takes a few
    operations, not a few per provider."""
    found: list[dict[object, _Compared]] = [{} for _ in frames]
    if not frames:
        return found
    sizes = [len(frame) for frame in frames]
    # whole frames stacked, then the columns taken: one copy, not one per frame
    stacked = pd.concat(frames)[list(_COMPARED)]  # each frame's own index labels
    owner = np.repeat(np.arange(len(frames)), sizes)
    cutoff = np.repeat(
        np.array(
            [_NAT if c is None else c.to_datetime64() for c in cutoffs], dtype="datetime64[ns]"
        ),
        sizes,
    )
    unknown = np.isnat(cutoff)  # no cut-off: every date is known
    start = stacked["start_date"]
    keep = (start >= pd.Timestamp(BOOTCAMPS_IN_ILR_FROM)).to_numpy() & (
        unknown | (start <= cutoff).to_numpy()
    )
    scoped, cutoff, unknown = stacked[keep], cutoff[keep], unknown[keep]
    scoped = scoped.assign(
        **{
            column: scoped[column].where(unknown | (scoped[column] <= cutoff).to_numpy())
            for column in _DATES[1:]
        }
    )
    for code, label, row in zip(
        owner[keep].tolist(), scoped.index, scoped.itertuples(index=False), strict=True
    ):
        found[code][label] = row
    return found


_NAT = np.datetime64("NaT", "ns")


def _match(
    sheet: dict[object, _Compared], ilr: dict[object, _Compared]
) -> tuple[list[tuple[object, object]], list[object], list[object]]:
    by_key = {(str(r.learner_ref), str(r.bootcamp_id)): i for i, r in ilr.items()}
    pairs: list[tuple[object, object]] = []
    sheet_left: list[object] = []
    for i, r in sheet.items():
        j = by_key.pop((str(r.learner_ref), str(r.bootcamp_id)), None)
        if j is None:
            sheet_left.append(i)
        else:
            pairs.append((i, j))
    ilr_left = list(by_key.values())
    sheet_refs = Counter(str(sheet[i].learner_ref) for i in sheet_left)
    ilr_refs = Counter(str(ilr[j].learner_ref) for j in ilr_left)
    unique = {ref for ref, n in sheet_refs.items() if n == 1} & {
        ref for ref, n in ilr_refs.items() if n == 1
    }
    ilr_by_ref = {str(ilr[j].learner_ref): j for j in ilr_left if str(ilr[j].learner_ref) in unique}
    for i in list(sheet_left):
        ref = str(sheet[i].learner_ref)
        if ref in unique:
            j = ilr_by_ref[ref]
            pairs.append((i, j))
            sheet_left.remove(i)
            ilr_left.remove(j)
    pairs += _match_zero_stripped(sheet, ilr, sheet_left, ilr_left)
    return pairs, sheet_left, ilr_left


def _match_zero_stripped(
    sheet: dict[object, _Compared],
    ilr: dict[object, _Compared],
    sheet_left: list[object],
    ilr_left: list[object],
) -> list[tuple[object, object]]:
    """Pairs of learners left whose refs differ only by leading zeros (a spreadsheet
    saved the datasheet's learner_ref as numbers), each stripped ref unique on both
    sides; matched pairs leave ``sheet_left`` and ``ilr_left``."""

    def stripped(ref: object) -> str:
        return str(ref).lstrip("0") or "0"

    sheet_refs = Counter(stripped(sheet[i].learner_ref) for i in sheet_left)
    ilr_refs = Counter(stripped(ilr[j].learner_ref) for j in ilr_left)
    ilr_by_ref = {stripped(ilr[j].learner_ref): j for j in ilr_left}
    pairs = []
    for i in list(sheet_left):
        ref = stripped(sheet[i].learner_ref)
        if sheet_refs[ref] == 1 and ilr_refs[ref] == 1:
            j = ilr_by_ref[ref]
            pairs.append((i, j))
            sheet_left.remove(i)
            ilr_left.remove(j)
    return pairs


def _missing(rule_id: str, row: _Compared, where: str) -> Finding:
    return irregularity(
        rule_id,
        learner_entity(row.learner_ref),
        [row.source],
        f"the learner on bootcamp {row.bootcamp_id} is {where}",
        bootcamp_id=str(row.bootcamp_id),
    )


def _show(value: object) -> str:
    return "blank" if is_blank(value) else pd.Timestamp(value).date().isoformat()


def _finding(rule_id: str, a: _Compared, b: _Compared, message: str) -> Finding:
    return irregularity(
        rule_id,
        learner_entity(a.learner_ref),
        [a.source, b.source],
        message,
        bootcamp_id=str(a.bootcamp_id),
    )


def _compare_dates(a: _Compared, b: _Compared, cutoff: pd.Timestamp | None) -> list[Finding]:
    findings = []
    if _differ(a.start_date, b.start_date):
        findings.append(
            _finding(
                "ILR-MISMATCH-START-DATE",
                a,
                b,
                (
                    f"start date {_show(a.start_date)} in the datasheet, {_show(b.start_date)} in"
                    " the ILR"
                ),
            )
        )
    withdrawn_a, withdrawn_b = not is_blank(a.withdrawal_date), not is_blank(b.withdrawal_date)
    if withdrawn_a != withdrawn_b:
        side = "the datasheet" if withdrawn_a else "the ILR"
        other = "the ILR" if withdrawn_a else "the datasheet"
        day = a.withdrawal_date if withdrawn_a else b.withdrawal_date
        findings.append(
            _finding(
                "ILR-MISMATCH-WITHDRAWN",
                a,
                b,
                (f"withdrawn on {_show(day)} in {side}, not withdrawn in {other}"),
            )
        )
    elif withdrawn_a and _differ(a.withdrawal_date, b.withdrawal_date):
        findings.append(
            _finding(
                "ILR-MISMATCH-WITHDRAWAL-DATE",
                a,
                b,
                (
                    f"withdrawal date {_show(a.withdrawal_date)} in the datasheet,"
                    f" {_show(b.withdrawal_date)} in the ILR"
                ),
            )
        )
    elif not withdrawn_a and _differ(a.completion_date, b.completion_date):
        findings.append(
            _finding(
                "ILR-MISMATCH-COMPLETION-DATE",
                a,
                b,
                (
                    f"completion date {_show(a.completion_date)} in the datasheet,"
                    f" {_show(b.completion_date)} in the ILR (ILR: achieved component aim and"
                    " first event)"
                ),
            )
        )
    return findings


def _differ(left: object, right: object) -> bool:
    if type(left) is pd.Timestamp and type(right) is pd.Timestamp:  # most pairs: no NaT
        return left != right
    if is_blank(left) and is_blank(right):
        return False
    if is_blank(left) or is_blank(right):
        return True
    return pd.Timestamp(left) != pd.Timestamp(right)


def _compare_funding(
    a: _Compared, b: _Compared, sizes: dict[str, bool], sme: dict[tuple[object, object], object]
) -> list[Finding]:
    cofunded_a, cofunded_b = a.learner_type == "co-funded", b.learner_type == "co-funded"
    if cofunded_a != cofunded_b:
        return [
            _finding(
                "ILR-MISMATCH-COFUNDING",
                a,
                b,
                (
                    f"{'co-funded' if cofunded_a else 'fully funded'} in the datasheet,"
                    f" {'co-funded (FFI 2)' if cofunded_b else 'fully funded'} in the ILR"
                ),
            )
        ]
    if not cofunded_a or is_blank(a.employer_id):
        return []
    sheet_sme = sizes.get(str(a.employer_id))
    ilr_sme = sme.get((b.learner_ref, b.bootcamp_id), pd.NA)
    if sheet_sme is None or is_blank(ilr_sme) or bool(ilr_sme) == sheet_sme:
        return []
    return [
        _finding(
            "ILR-MISMATCH-SME",
            a,
            b,
            (
                f"employer {a.employer_id} is {'an SME' if sheet_sme else 'a large employer'} in the"
                f" datasheet, {'an SME (OET 2)' if ilr_sme else 'a large employer (no OET 2)'} in"
                " the ILR"
            ),
        )
    ]


def _datasheet_sme(employers: pd.DataFrame | None, rules: Rules) -> dict[str, bool]:
    """employer_id → SME? from employee_count (below the limit) or else size_band."""
    if employers is None or employers.empty:
        return {}
    sizes: dict[str, bool] = {}
    for employer_id, count, band in zip(
        employers["employer_id"], employers["employee_count"], employers["size_band"], strict=True
    ):
        if not is_blank(count):
            sizes[str(employer_id)] = int(count) < rules.sme_employee_limit
        elif not is_blank(band):
            sizes[str(employer_id)] = band == "SME"
    return sizes


@dataclass(frozen=True)
class IlrReview:
    """What the audit takes from a provider's ILR files: register findings (DfE rule
    breaches, kpitools' ILR rules and ILR-MISMATCH-*), worklists (drop-outs with
    withdrawal reason), what the review covered (None: no ILR file supplied) and every
    ILR file read, with its SHA-256 and role (used or superseded)."""

    findings: list[Finding] = field(default_factory=list)
    worklists: dict[str, pd.DataFrame] = field(default_factory=dict)
    scope: IlrScope | None = None
    inputs: tuple[InputFile, ...] = ()


def ilr_reviews(
    returns: Mapping[str, ProviderReturn],
    *,
    as_of: date,
    rules: Rules,
    reads: IlrReads | None = None,
) -> dict[str, IlrReview | KpiToolsError]:
    """The audit's hook for the returns of a run whose folders hold ILR files
    (:func:`kpitools.layout.ilr_files`, the files the loader reads), every return at once
    (a mapping of one for one provider): DfE's bootcamp rule findings always;
    ILR-MISMATCH-* when there is a datasheet beside the ILR (a return whose learners
    came from the ILR itself has nothing to reconcile); the ILR's drop-outs with their
    withdrawal reason. The ILR files of all the providers are mapped together
    (:func:`kpitools.ilr.mapping.tables_from_ilr_files`, with the run's ``reads``), the
    learners to compare and the drop-outs found over the stacked frames; each provider
    gets what it would get alone.

    Returns:
        Return key → its review (empty for a folder without ILR files), or the error
        that stops that provider (an ILR file that cannot be read).
    """
    paths = {key: ilr_files(current.path) for key, current in returns.items()}
    tables = tables_from_ilr_files({k: p for k, p in paths.items() if p}, rules=rules, reads=reads)
    mapped = [(key, found) for key in returns if isinstance(found := tables.get(key), IlrTables)]
    reviewed = dict(
        zip(
            [key for key, _ in mapped],
            _reviews(
                [(returns[key], ilr_tables) for key, ilr_tables in mapped],
                as_of=as_of,
                rules=rules,
            ),
            strict=True,
        )
    )
    failed = {key: found for key, found in tables.items() if isinstance(found, KpiToolsError)}
    return {
        key: IlrReview() if not paths[key] else failed[key] if key in failed else reviewed[key]
        for key in returns
    }


def _reviews(
    mapped: Sequence[tuple[ProviderReturn, IlrTables]], *, as_of: date, rules: Rules
) -> list[IlrReview]:
    """The review of each return whose ILR files are mapped (:func:`ilr_reviews`)."""
    compared = [i for i, (current, _) in enumerate(mapped) if _has_datasheet(current)]
    mismatches = dict(
        zip(
            compared,
            reconcile(
                [(mapped[i][0].tables, mapped[i][1]) for i in compared], rules=rules, as_of=as_of
            ),
            strict=True,
        )
    )
    reviews = []
    for i, ((current, ilr_tables), dropouts) in enumerate(
        zip(mapped, _dropouts([ilr_tables for _, ilr_tables in mapped]), strict=True)
    ):
        reconciled = mismatches.get(i)
        findings = dfe_rule_findings(
            ilr_tables,
            provider_id=current.provider_id,
            provider_ukprn=current.ukprn,
            # a return whose learners came from the ILR: the loader rejected the
            # second record, and the DUP-ROW check reports it from there
            duplicates=i in mismatches,
        ) + ([] if reconciled is None else reconciled.findings)
        logger.info(
            "%s: %d ILR file(s), %d ILR findings",
            current.provider_id,
            len(ilr_tables.inputs),
            len(findings),
        )
        reviews.append(
            IlrReview(
                findings,
                {ILR_DROPOUTS: dropouts},
                _scope(ilr_tables, reconciled),
                tuple(replace(f, path=f"ilr/{Path(f.path).name}") for f in ilr_tables.inputs),
            )
        )
    return reviews


def _scope(ilr_tables: IlrTables, compared: Reconciliation | None) -> IlrScope:
    count = ilr_tables.counts["learners"]
    return IlrScope(
        files_used=ilr_tables.files_used,
        files_superseded=ilr_tables.superseded,
        ukprn=ilr_tables.ukprn,
        as_known=ilr_tables.as_known,
        learners_read=ilr_tables.learners_read,
        bootcamp_learners=ilr_tables.bootcamp_learners,
        bootcamps=int(ilr_tables.learners["bootcamp_id"].nunique()),
        mapped=count.accepted,
        rejected=count.rejected,
        reconciled=compared is not None,
        cutoff=None if compared is None or compared.cutoff is None else compared.cutoff.date(),
        datasheet_in_scope=0 if compared is None else compared.datasheet,
        ilr_in_scope=0 if compared is None else compared.ilr,
        matched=0 if compared is None else compared.matched,
    )


def _has_datasheet(current: ProviderReturn) -> bool:
    """False for a return whose learners all came from its ILR (nothing to reconcile)."""
    sources = current.tables["learners"]["source"].tolist()
    return not sources or any(
        not (text.startswith("ILR-") or "/ILR-" in text) for text in map(str, sources)
    )


def dfe_rule_findings(
    ilr_tables: IlrTables,
    *,
    provider_id: str,
    provider_ukprn: str | None = None,
    duplicates: bool = True,
) -> list[Finding]:
    """The ILR's findings as register findings: DfE rule breaches (severity from the
    catalogue: DfE's Error high, Warning medium, DfE's own severity in the message) and
    kpitools' ILR rules; the UKPRNs compared with ``provider_ukprn`` (``provider.csv``'s)
    as well as with each other (ILR-UKPRN-MISMATCH, entity ``provider:<id>``). Messages
    name the aim but never the learner: the entity does, as the output's naming rule
    says. ``duplicates`` False leaves DUP-ROW out (a return whose learners came from the
    ILR reports it from its rejected rows)."""
    found = [
        f
        for f in ilr_tables.findings
        if f.rule != "ILR-UKPRN-MISMATCH" and (duplicates or f.rule != "DUP-ROW")
    ]
    found += ukprn_findings(ilr_tables.file_ukprns, expected=provider_ukprn)
    return [
        irregularity(
            f.rule,
            learner_entity(f.learner_ref) if f.learner_ref else f"provider:{provider_id}",
            [f.source],
            _message(f),
            bootcamp_id=f.bootcamp_id,
        )
        for f in found
    ]


def _message(finding: IlrRuleFinding) -> str:
    aim = "" if finding.aim_seq is None else f", aim {finding.aim_seq}"
    entry = ILR_RULES.get(finding.rule)
    if entry is None:  # kpitools' own rule of the catalogue: its message says it all
        return finding.message
    who = "DfE" if entry.source.startswith("DfE") else "kpitools"
    return f"{who} {finding.severity}{aim}: {finding.message}"


_DROPOUT_COLUMNS = (
    "learner_ref",
    "bootcamp_id",
    "start_date",
    "m1_date",
    "withdrawal_date",
    "withdraw_reason",
    "withdrawal_reason",
    "source",
)
_OWNER = "_ilr_tables"  # which of the stacked ILRs a row comes from


def _dropouts(tables: Sequence[IlrTables]) -> list[pd.DataFrame]:
    """Every withdrawn learner of each ILR with the withdrawal reason (code and meaning):
    shown with each drop-out; no reason excludes one (the guidance counts them all). The
    withdrawn learners are found and joined to their facts for all the ILRs at once."""
    if not tables:
        return []
    keys = [_OWNER, "learner_ref", "bootcamp_id"]
    learners = pd.concat([t.learners for t in tables], ignore_index=True)[
        ["learner_ref", "bootcamp_id", "start_date", "m1_date", "withdrawal_date", "source"]
    ]
    facts = pd.concat([t.learner_facts for t in tables], ignore_index=True)[
        [*keys[1:], "withdraw_reason"]
    ]
    learners[_OWNER] = np.repeat(np.arange(len(tables)), [len(t.learners) for t in tables])
    facts[_OWNER] = np.repeat(np.arange(len(tables)), [len(t.learner_facts) for t in tables])
    frame = learners[learners["withdrawal_date"].notna()].merge(facts, on=keys, how="left")
    bounds = np.searchsorted(frame[_OWNER].to_numpy(), np.arange(len(tables) + 1))
    columns = list(_DROPOUT_COLUMNS)
    # the reasons named and the columns taken once for every ILR, then cut per ILR; an
    # ILR without drop-outs keeps the frame its own empty part gives (its reason column
    # typed as pandas types the mapping of no value)
    rows = frame.assign(withdrawal_reason=frame["withdraw_reason"].map(_reason))[columns]
    empty = frame.iloc[0:0]
    none = empty.assign(withdrawal_reason=empty["withdraw_reason"].map(_reason))[columns]
    return [
        (rows.iloc[first:last] if last > first else none).reset_index(drop=True)
        for first, last in itertools.pairwise(bounds.tolist())
    ]


def _reason(code: object) -> str:
    """A withdrawal reason's meaning (:data:`~kpitools.ilr.events.WITHDRAW_REASONS`)."""
    if pd.isna(code):
        return "not given"
    return WITHDRAW_REASONS.get(int(code), f"code {int(code)}")  # type: ignore[call-overload]
