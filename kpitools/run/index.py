"""What the index page lists (``OUT/PERIOD/.portfolio.json``): one row for every
provider folder of the period, what the batch did with it (built, FAILED, SKIPPED,
STALE), its KPI figures and worst bootcamps, its exceptions; the cross-provider
duplicates.

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

from kpitools.io.files import write_atomic
from kpitools.layout import REGISTER_FILE
from kpitools.model import SEVERITIES, KpiResult, ProviderAudit
from kpitools.present.blocks import BREACH_STATUSES, kpi_label, kpi_order, severity_rank
from kpitools.present.context import PackContext
from kpitools.run.runner import PackOutcome

SUMMARY_FILE = ".portfolio.json"
PACK_FILE = "audit_pack.html"


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


def _kpi_cell(provider: KpiResult, bootcamps: list[KpiResult]) -> dict[str, Any]:
    """One KPI of one provider: its figure, how many bootcamps breach and the worst one."""
    worst = max(bootcamps, key=lambda r: (severity_rank(r.status), shortfall(r)), default=None)
    if worst is not None and severity_rank(worst.status) == 0:
        worst = None
    return {
        "status": provider.status,
        "value": provider.value,
        "unverified": provider.unverified,
        "bootcamps": len(bootcamps),
        "worst": None
        if worst is None
        else {
            "bootcamp_id": worst.bootcamp_id,
            "status": worst.status,
            "value": worst.value,
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
        }
        for r in results
        if r.bootcamp_id != "ALL" and r.status in BREACH_STATUSES
    ]
    return sorted(found, key=lambda b: (-severity_rank(b["status"]), b["bootcamp_id"], b["kpi"]))


def _provider_row(
    ctx: PackContext, outcome: PackOutcome | None, period_out: Path
) -> dict[str, Any]:
    audit = ctx.audit
    findings = audit.exceptions_frame()
    pack = Path(outcome.html_path) if outcome and outcome.html_path else None
    pdf = Path(outcome.pdf_path) if outcome and outcome.pdf_path else None
    register = Path(ctx.params.out_dir) / REGISTER_FILE
    per_kpi: dict[tuple[str, str], list[KpiResult]] = {}
    for r in audit.kpi_results:
        if r.bootcamp_id != "ALL":
            per_kpi.setdefault((r.kpi, r.stage), []).append(r)
    return {
        "provider_id": audit.provider_id,
        "name": audit.provider.provider_name,
        "status": "OK" if outcome and outcome.ok else "FAILED",
        "reason": outcome.error if outcome else "pack not run",
        "pack": pack.relative_to(period_out).as_posix() if pack else "",
        "pdf": pdf.relative_to(period_out).as_posix() if pdf else "",
        "register": register.relative_to(period_out).as_posix() if register.is_file() else "",
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
    """
    providers = [
        _provider_row(ctx, outcomes.get(pid), period_out) for pid, ctx in sorted(contexts.items())
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
    return {
        "period": period,
        "as_of": as_of,
        "profiles": sorted({c.audit.rules.profile for c in contexts.values()}),
        "columns": kpi_columns({pid: c.audit for pid, c in contexts.items()}),
        "providers": sorted(
            providers, key=lambda p: (tuple(-x for x in provider_severity(p)), p["provider_id"])
        ),
        "duplicates": duplicates,
    }


DUPLICATE_RULES = ("DUP-ULN-OVERLAP", "DUP-PERSON-OVERLAP", "DUP-PERSON-REPEAT")
"""The findings the index lists as duplicates: one ULN, or one person matched, twice."""


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
    """
    provider_id = ctx.audit.provider_id
    row = _provider_row(ctx, outcome, period_out)
    providers = [p for p in summary["providers"] if p["provider_id"] != provider_id] + [row]
    new_columns = kpi_columns({provider_id: ctx.audit})
    rebuilt = [r for r in summary.get("rebuilt", []) if r["provider_id"] != provider_id]
    return {
        **summary,
        "columns": [*summary["columns"], *(c for c in new_columns if c not in summary["columns"])],
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
