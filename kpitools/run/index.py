"""What the index page lists (``OUT/PERIOD/.portfolio.json``): one row for every
provider folder of the period, what the batch did with it (built, FAILED, SKIPPED,
STALE), its KPI figures and worst bootcamps, its exceptions; the cross-provider
duplicates. For the monthly meeting, per provider: what changed since last month's
register (new, recurring, resolved, reopened, open long, past their due date, from the
register's follow-up), its high findings by rule, the KPI statuses better or worse than
the previous period's and links to its pack's sections, register and PDF; and the
number of providers in breach of each KPI month by month (earlier months from the audit
store, :func:`kpitools.store.queries.kpi_history`).

The batch writes it after every pack has run (:func:`kpitools.run.batch.write_index`);
``notebooks/portfolio.ipynb`` displays it (:mod:`kpitools.present.portfolio`). Only
provider-level figures, counts and pseudonymised cross-provider duplicates go in it: no
personal data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from kpitools.calendar import previous_period
from kpitools.io.files import write_atomic
from kpitools.layout import REGISTER_FILE
from kpitools.model import SEVERITIES, FollowUp, KpiResult, ProviderAudit
from kpitools.present.blocks import (
    BREACH_STATUSES,
    KPI_TITLES,
    kpi_label,
    kpi_order,
    severity_rank,
)
from kpitools.present.context import PackContext
from kpitools.run.runner import PackOutcome
from kpitools.store.queries import KpiMonth
from kpitools.worklists.followup import to_date

SUMMARY_FILE = ".portfolio.json"
PACK_FILE = "audit_pack.html"
LONG_OPEN_DAYS = (30, 90)  # the index counts exceptions open longer than these
# the pack's sections an index row links to, by their heading (nbconvert's anchor)
PACK_SECTIONS = ("Findings", "KPI status", "Irregularities", "ILR reconciliation")


def kpi_columns(audits: Mapping[str, ProviderAudit]) -> list[str]:
    """Matrix columns: every KPI, with one column per engagement stage present."""
    keys = {
        (r.kpi, r.stage) for a in audits.values() for r in a.kpi_results if r.bootcamp_id == "ALL"
    }
    ordered = sorted(keys, key=kpi_order)
    return [kpi_label(kpi, stage) for kpi, stage in ordered]


def shortfall(result: KpiResult) -> float:
    """How far a figure is on the wrong side of its target (negative when on the right
    side; 0 without a figure or target): above a maximum, below a minimum."""
    if result.value is None or result.target is None:
        return 0.0
    gap = result.value - result.target
    return gap if result.target_kind == "max" else -gap


def section_anchor(title: str) -> str:
    """The anchor nbconvert gives a pack's ``##`` heading: its words joined by ``-``."""
    return "-".join(title.split())


def finding_section(kpi: str, rule: str) -> str:
    """The pack section that shows a finding: its KPI's, the irregularities or the ILR
    reconciliation."""
    if rule.startswith("ILR-"):
        return "ILR reconciliation"
    return KPI_TITLES.get(kpi, "Irregularities")


def _high_rules(findings: pd.DataFrame, pack: str) -> list[dict[str, Any]]:
    """The provider's high findings by rule, most first, each with its count and a link
    to the pack's section that lists them."""
    if findings.empty:
        return []
    high = findings[findings["severity"] == "high"]
    counted = high.groupby(["rule", "kpi"]).size().reset_index(name="count")
    counted = counted.sort_values(["count", "rule"], ascending=[False, True])
    return [
        {
            "rule": str(r.rule),
            "count": int(r.count),
            "link": f"{pack}#{section_anchor(finding_section(str(r.kpi), str(r.rule)))}"
            if pack
            else "",
        }
        for r in counted.itertuples()
    ]


def _change(followup: FollowUp | None, as_of: str) -> dict[str, Any]:
    """What changed in the provider's register since last month's, as its follow-up
    computed it: counts by change, the reopened exceptions by id, and the exceptions
    open longer than 30 and 90 days or past the due date an auditor gave them."""
    if followup is None:
        return {"compared": False, "previous": ""}
    counts = followup.counts()
    frame = followup.exceptions
    ages = pd.to_numeric(frame["age_days"], errors="coerce").fillna(0)
    today = to_date(as_of)
    past_due = [
        eid
        for eid, due in zip(frame["exception_id"], frame["due_date"], strict=True)
        if (d := to_date(due)) is not None and today is not None and d < today
    ]
    reopened = frame[frame["status"] == "reopened"]
    return {
        "compared": followup.previous_found,
        "previous": followup.previous,
        **{k: counts[k] for k in ("total", "new", "recurring", "resolved", "reopened", "carried")},
        "reopened_ids": [
            f"{e} ({r})" for e, r in zip(reopened["exception_id"], reopened["rule"], strict=True)
        ],
        **{f"open_over_{days}": int((ages > days).sum()) for days in LONG_OPEN_DAYS},
        "past_due": len(past_due),
    }


def _kpi_changes(audit: ProviderAudit, before: Mapping[str, str]) -> list[dict[str, str]]:
    """The provider's KPI statuses that got better or worse than ``before`` (KPI label ->
    last period's status, the provider as a whole): worse when the status needs more
    action (not met, off track, at risk), better when less; worse first."""
    changes = []
    for r in sorted(audit.kpi_results, key=lambda r: kpi_order((r.kpi, r.stage))):
        label = kpi_label(r.kpi, r.stage)
        if r.bootcamp_id != "ALL" or label not in before:
            continue
        was, now = severity_rank(before[label]), severity_rank(r.status)
        if was != now:
            changes.append(
                {
                    "kpi": label,
                    "was": before[label],
                    "now": r.status,
                    "direction": "worse" if now > was else "better",
                }
            )
    return sorted(changes, key=lambda c: c["direction"] != "worse")


def _section_links(pack: str) -> list[dict[str, str]]:
    """Links to the pack's sections the meeting opens (:data:`PACK_SECTIONS`)."""
    if not pack:
        return []
    return [{"title": title, "href": f"{pack}#{section_anchor(title)}"} for title in PACK_SECTIONS]


def _kpi_cell(provider: KpiResult, bootcamps: list[KpiResult]) -> dict[str, Any]:
    """One KPI of one provider: its figure, how many bootcamps breach and the worst one."""
    worst = max(bootcamps, key=lambda r: (severity_rank(r.status), shortfall(r)), default=None)
    if worst is not None and severity_rank(worst.status) == 0:
        worst = None
    return {
        "status": provider.status,
        "value": provider.value,
        "unverified": provider.unverified,
        "open_short": provider.open_short,
        "bootcamps": len(bootcamps),
        "worst": None
        if worst is None
        else {
            "bootcamp_id": worst.bootcamp_id,
            "status": worst.status,
            "value": worst.value,
            "open_short": worst.open_short,
            "count": sum(r.status == worst.status for r in bootcamps),
        },
    }


def _breaches(results: Sequence[KpiResult]) -> list[dict[str, Any]]:
    """Every bootcamp whose KPI has not met its target or is off track, worst first."""
    found = [
        {
            "bootcamp_id": r.bootcamp_id,
            "kpi": kpi_label(r.kpi, r.stage),
            "status": r.status,
            "value": r.value,
            "open_short": r.open_short,
        }
        for r in results
        if r.bootcamp_id != "ALL" and r.status in BREACH_STATUSES
    ]
    return sorted(found, key=lambda b: (-severity_rank(b["status"]), b["bootcamp_id"], b["kpi"]))


def _provider_row(
    ctx: PackContext,
    outcome: PackOutcome | None,
    period_out: Path,
    before: Mapping[str, str],
) -> dict[str, Any]:
    audit = ctx.audit
    findings = audit.exceptions_frame()
    pack = Path(outcome.html_path) if outcome and outcome.html_path else None
    pdf = Path(outcome.pdf_path) if outcome and outcome.pdf_path else None
    register = Path(ctx.params.out_dir) / REGISTER_FILE
    pack_link = pack.relative_to(period_out).as_posix() if pack else ""
    per_kpi: dict[tuple[str, str], list[KpiResult]] = {}
    for r in audit.kpi_results:
        if r.bootcamp_id != "ALL":
            per_kpi.setdefault((r.kpi, r.stage), []).append(r)
    return {
        "provider_id": audit.provider_id,
        "name": audit.provider.provider_name,
        "status": "OK" if outcome and outcome.ok else "FAILED",
        "reason": outcome.error if outcome else "pack not run",
        "pack": pack_link,
        "pdf": pdf.relative_to(period_out).as_posix() if pdf else "",
        "register": register.relative_to(period_out).as_posix() if register.is_file() else "",
        "sections": _section_links(pack_link),
        "change": _change(audit.followup, audit.as_of.isoformat()),
        "high_rules": _high_rules(findings, pack_link),
        "kpi_changes": _kpi_changes(audit, before),
        "kpis": {
            kpi_label(r.kpi, r.stage): _kpi_cell(r, per_kpi.get((r.kpi, r.stage), []))
            for r in audit.kpi_results
            if r.bootcamp_id == "ALL"
        },
        "breaches": _breaches(audit.kpi_results),
        "exceptions": {str(k): int(v) for k, v in findings.groupby("kpi").size().items()}
        if len(findings)
        else {},
        **{s: int((findings["severity"] == s).sum()) if len(findings) else 0 for s in SEVERITIES},
        "high_findings": _high_findings(ctx),
    }


def _high_findings(ctx: PackContext) -> list[dict[str, str]]:
    """The provider's high findings by exception id and rule (their case files)."""
    if ctx.followup is None:
        return []
    high = ctx.followup.exceptions[ctx.followup.exceptions["severity"] == "high"]
    return [
        {"exception_id": str(i), "rule": str(r)}
        for i, r in zip(high["exception_id"], high["rule"], strict=True)
    ]


def provider_severity(provider: dict[str, Any]) -> tuple[int, int, int, int]:
    """How urgently a provider needs the auditor (larger first): a failed pack, then the
    worst status of any KPI or bootcamp, the number of bootcamp breaches, high findings."""
    worst = severity_rank(provider["status"]) if provider["status"] == "FAILED" else 0
    for kpi in provider["kpis"].values():
        worst = max(
            worst,
            severity_rank(kpi["status"]),
            severity_rank((kpi.get("worst") or {}).get("status")),
        )
    return (
        worst,
        len(provider.get("breaches", ())),
        provider["high"],
        sum(provider["exceptions"].values()),
    )


def portfolio_summary(
    contexts: Mapping[str, PackContext],
    outcomes: Mapping[str, PackOutcome],
    failures: Mapping[str, str],
    *,
    period: str,
    as_of: str,
    period_out: Path,
    skipped: Mapping[str, str] | None = None,
    stale: Mapping[str, str] | None = None,
    history: Sequence[KpiMonth] = (),
) -> dict[str, Any]:
    """The data of the index page: one row for every folder of the period's data and
    every provider folder in ``OUT/PERIOD`` after the run.

    Args:
        contexts: every provider whose audit was computed.
        outcomes: what happened to each provider's pack.
        failures: providers that could not be audited at all, with the reason.
        period: the reporting period.
        as_of: the measurement date (ISO).
        period_out: ``OUT/PERIOD``; pack links are relative to it.
        skipped: folders of the period's data not audited (status SKIPPED), with why.
        stale: provider folders in ``OUT/PERIOD`` this run did not rebuild (status
            STALE), with why; their old pack is linked.
        history: the KPI statuses of earlier periods from the audit store
            (:func:`kpitools.store.queries.kpi_history`): last month's are what each
            provider's KPI statuses are compared with, every month's are counted in the
            chart of providers in breach.
    """
    last_month = previous_period(period)
    before = _statuses_of(history, last_month)
    providers = [
        _provider_row(ctx, outcomes.get(pid), period_out, before.get(pid, {}))
        for pid, ctx in sorted(contexts.items())
    ]
    providers += [
        {
            "provider_id": pid,
            "name": "",
            "status": "FAILED",
            "reason": reason,
            "pack": "",
            "register": "",
            "kpis": {},
            "breaches": [],
            "exceptions": {},
            **dict.fromkeys(SEVERITIES, 0),
        }
        for pid, reason in sorted(failures.items())
    ]
    providers += [
        {
            "provider_id": name,
            "name": "",
            "status": "SKIPPED",
            "reason": reason,
            "pack": "",
            "kpis": {},
            "exceptions": {},
            **dict.fromkeys(SEVERITIES, 0),
        }
        for name, reason in sorted((skipped or {}).items())
    ]
    providers += [
        {
            "provider_id": pid,
            "name": "",
            "status": "STALE",
            "reason": reason,
            "pack": f"{pid}/{PACK_FILE}" if (period_out / pid / PACK_FILE).is_file() else "",
            "kpis": {},
            "exceptions": {},
            **dict.fromkeys(SEVERITIES, 0),
        }
        for pid, reason in sorted((stale or {}).items())
    ]
    duplicates = []
    for _, ctx in sorted(contexts.items()):
        duplicates += _duplicates(ctx)
    columns = kpi_columns({pid: c.audit for pid, c in contexts.items()})
    return {
        "period": period,
        "as_of": as_of,
        "previous_period": last_month,
        "previous_on_record": sorted(before),
        "breach_months": breach_months(history, providers, period, columns),
        "profiles": sorted({c.audit.rules.profile for c in contexts.values()}),
        "columns": columns,
        "providers": sorted(
            providers, key=lambda p: (tuple(-x for x in provider_severity(p)), p["provider_id"])
        ),
        "duplicates": duplicates,
    }


DUPLICATE_RULES = ("DUP-ULN-OVERLAP", "DUP-PERSON-OVERLAP", "DUP-PERSON-REPEAT")
"""The findings the index lists as duplicates: one ULN, or one person matched, twice."""


def _statuses_of(history: Sequence[KpiMonth], period: str) -> dict[str, dict[str, str]]:
    """Each provider's KPI statuses (the provider as a whole) in ``period``, from the
    store: provider -> KPI label -> status."""
    found: dict[str, dict[str, str]] = {}
    for month in history:
        if month.period == period and month.bootcamp_id == "ALL":
            found.setdefault(month.provider_id, {})[kpi_label(month.kpi, month.stage)] = (
                month.status
            )
    return found


def breach_months(
    history: Sequence[KpiMonth],
    providers: Sequence[dict[str, Any]],
    period: str,
    columns: Sequence[str],
) -> dict[str, Any]:
    """How many providers were in breach of each KPI month by month: not met or off track
    for the provider as a whole or for any of its bootcamps; the earlier months from the
    store, this one from the index's rows (:func:`_breached`). ``counts``: KPI label ->
    one count a period, ``providers``: how many providers each period has on record."""
    earlier = [m for m in history if m.period < period]
    periods = [*sorted({m.period for m in earlier}), period]
    labels = [*columns, *sorted({kpi_label(m.kpi, m.stage) for m in earlier} - set(columns))]
    breached = {
        (m.period, m.provider_id, kpi_label(m.kpi, m.stage))
        for m in earlier
        if m.status in BREACH_STATUSES
    }
    breached |= {(period, pid, label) for pid, label in _breached(providers)}
    built = [p["provider_id"] for p in providers if p.get("kpis")]
    return {
        "periods": periods,
        "counts": {
            label: [
                len({pid for p, pid, kpi in breached if p == month and kpi == label})
                for month in periods
            ]
            for label in labels
        },
        "providers": [
            len({m.provider_id for m in earlier if m.period == month}) for month in periods[:-1]
        ]
        + [len(built)],
    }


def _breached(providers: Sequence[dict[str, Any]]) -> set[tuple[str, str]]:
    """(provider, KPI label) of every index row's KPI in breach: its figure or its worst
    bootcamp not met or off track."""
    return {
        (p["provider_id"], label)
        for p in providers
        for label, cell in p.get("kpis", {}).items()
        if cell["status"] in BREACH_STATUSES
        or (cell.get("worst") or {}).get("status") in BREACH_STATUSES
    }


def _duplicates(ctx: PackContext) -> list[dict[str, Any]]:
    """The provider's DUP-ULN-OVERLAP and DUP-PERSON-* findings as the index lists them
    (pseudonymised; their messages name fields, never values)."""
    frame = ctx.findings("irregularity")
    frame = frame[frame["rule"].isin(DUPLICATE_RULES)]
    columns = ["provider_id", "bootcamp_id", "rule", "entity", "source", "message"]
    records: list[dict[str, Any]] = frame[columns].to_dict("records")
    return records


def with_rebuilt_provider(
    summary: dict[str, Any],
    ctx: PackContext,
    outcome: PackOutcome,
    *,
    period_out: Path,
    rebuilt_at: str,
    cross_provider: bool,
    history: Sequence[KpiMonth],
) -> dict[str, Any]:
    """The index's data after one provider was rebuilt alone (``kpitools pack`` into
    ``OUT/PERIOD/<provider>``): its row and its cross-provider duplicates replaced by the
    new build's, the providers ordered again, and the rebuild listed under ``rebuilt``
    (the index says which rows are newer than the run that built it, and whether their
    cross-provider checks ran).

    Args:
        summary: the index's data as the last run (or rebuild) wrote it.
        ctx: the rebuilt provider.
        outcome: its pack's outcome, paths in ``period_out``.
        period_out: ``OUT/PERIOD``.
        rebuilt_at: when (UTC, ISO).
        cross_provider: whether its cross-provider checks ran (``period_dir`` given).
        history: the audit store's earlier KPI statuses (:func:`kpitools.store.queries.kpi_history`):
            its row's KPI status changes and the breach chart are told again with it.
    """
    provider_id = ctx.audit.provider_id
    before = _statuses_of(history, previous_period(summary["period"])).get(provider_id, {})
    row = _provider_row(ctx, outcome, period_out, before)
    providers = [p for p in summary["providers"] if p["provider_id"] != provider_id] + [row]
    new_columns = kpi_columns({provider_id: ctx.audit})
    columns = [*summary["columns"], *(c for c in new_columns if c not in summary["columns"])]
    rebuilt = [r for r in summary.get("rebuilt", []) if r["provider_id"] != provider_id]
    return {
        **summary,
        "breach_months": breach_months(history, providers, summary["period"], columns),
        "columns": columns,
        # the profiles the index's rows were measured under: a rebuild under another
        # profile is named beside the batch's, never hidden
        "profiles": sorted({*summary.get("profiles", ()), ctx.audit.rules.profile}),
        "providers": sorted(
            providers, key=lambda p: (tuple(-x for x in provider_severity(p)), p["provider_id"])
        ),
        "duplicates": [d for d in summary["duplicates"] if d["provider_id"] != provider_id]
        + _duplicates(ctx),
        "rebuilt": [
            *rebuilt,
            {"provider_id": provider_id, "at": rebuilt_at, "cross_provider": cross_provider},
        ],
    }


def write_summary(summary: dict[str, Any], path: str | Path) -> Path:
    return write_atomic(Path(path), json.dumps(summary, indent=1, sort_keys=True).encode("utf-8"))
