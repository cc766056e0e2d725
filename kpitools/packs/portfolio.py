"""The portfolio overview (``OUT/PERIOD/index.html``): summary data and its HTML.

The batch writes a small JSON summary (:func:`portfolio_summary`) after every pack has
run; the portfolio notebook loads it and displays the tables below. Only provider-level
figures, counts and pseudonymised cross-provider duplicates go in it: no personal data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from kpitools.contract import KPIS
from kpitools.io.outputs import write_atomic
from kpitools.model import ProviderAudit
from kpitools.packs.context import PackContext
from kpitools.packs.runner import PackOutcome
from kpitools.report import (
    KPI_TITLES,
    STATUS_COLOURS,
    STYLE,
    Html,
    esc,
    kpi_order,
    percent,
    status_cell,
    table,
)

SUMMARY_FILE = ".portfolio.json"
PACK_FILE = "audit_pack.html"


def _column(kpi: str, stage: str) -> str:
    title = KPI_TITLES.get(kpi, kpi)
    return f"{title} ({stage})" if stage else title


def kpi_columns(audits: Mapping[str, ProviderAudit]) -> list[str]:
    """Matrix columns: every KPI, with one column per engagement stage present."""
    keys = {(r.kpi, r.stage) for a in audits.values() for r in a.kpi_results if r.bootcamp_id == "ALL"}
    ordered = sorted(keys, key=kpi_order)
    return [_column(kpi, stage) for kpi, stage in ordered]


def _provider_row(ctx: PackContext, outcome: PackOutcome | None, period_out: Path) -> dict[str, Any]:
    audit = ctx.audit
    findings = audit.exceptions_frame()
    pack = Path(outcome.html_path) if outcome and outcome.html_path else None
    return {
        "provider_id": audit.provider_id,
        "name": audit.provider.provider_name,
        "status": "OK" if outcome and outcome.ok else "FAILED",
        "reason": outcome.error if outcome else "pack not run",
        "pack": pack.relative_to(period_out).as_posix() if pack else "",
        "kpis": {
            _column(r.kpi, r.stage): {"status": r.status, "value": r.value}
            for r in audit.kpi_results if r.bootcamp_id == "ALL"
        },
        "exceptions": {str(k): int(v) for k, v in findings.groupby("kpi").size().items()} if len(findings) else {},
        "high": int((findings["severity"] == "high").sum()) if len(findings) else 0,
    }


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
    providers = [_provider_row(ctx, outcomes.get(pid), period_out) for pid, ctx in sorted(contexts.items())]
    providers += [
        {"provider_id": pid, "name": "", "status": "FAILED", "reason": reason, "pack": "",
         "kpis": {}, "exceptions": {}, "high": 0}
        for pid, reason in sorted(failures.items())
    ]
    providers += [
        {"provider_id": name, "name": "", "status": "SKIPPED", "reason": reason, "pack": "",
         "kpis": {}, "exceptions": {}, "high": 0}
        for name, reason in sorted((skipped or {}).items())
    ]
    providers += [
        {"provider_id": pid, "name": "", "status": "STALE", "reason": reason,
         "pack": f"{pid}/{PACK_FILE}" if (period_out / pid / PACK_FILE).is_file() else "",
         "kpis": {}, "exceptions": {}, "high": 0}
        for pid, reason in sorted((stale or {}).items())
    ]
    duplicates = []
    for _, ctx in sorted(contexts.items()):
        frame = ctx.findings("irregularity")
        frame = frame[frame["rule"] == "DUP-ULN-OVERLAP"]
        duplicates += frame[["provider_id", "bootcamp_id", "entity", "source", "message"]].to_dict("records")
    return {
        "period": period,
        "as_of": as_of,
        "columns": kpi_columns({pid: c.audit for pid, c in contexts.items()}),
        "providers": sorted(providers, key=lambda p: p["provider_id"]),
        "duplicates": duplicates,
    }


def write_summary(summary: dict[str, Any], path: str | Path) -> Path:
    return write_atomic(Path(path), json.dumps(summary, indent=1, sort_keys=True).encode("utf-8"))


def load_summary(path: str | Path) -> dict[str, Any]:
    """The summary written by a batch (the portfolio notebook's first call)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def headline(summary: dict[str, Any]) -> Html:
    providers = summary["providers"]
    counts = {status: sum(p["status"] == status for p in providers)
              for status in ("OK", "FAILED", "SKIPPED", "STALE")}
    others = "".join(f", <b>{counts[s]}</b> {s.lower()}" for s in ("SKIPPED", "STALE") if counts[s])
    audited = counts["OK"] + counts["FAILED"]
    return Html(
        f"<p>Period <b>{esc(summary['period'])}</b>, measured as of <b>{esc(summary['as_of'])}</b>: "
        f"{audited} providers, {counts['OK']} packs built, "
        f"<b>{counts['FAILED']}</b> failed{others}.</p>"
    )


def status_matrix(summary: dict[str, Any]) -> Html:
    """Providers × KPIs, coloured by status, each provider linking to its pack."""
    columns = summary["columns"]
    head = "".join(f"<th>{esc(c)}</th>" for c in ["Provider", "Pack", *columns, "Exceptions", "High"])
    rows = []
    for p in summary["providers"]:
        name = esc(f"{p['provider_id']} {p['name']}".strip())
        link = f'<a href="{esc(p["pack"])}">{name}</a>' if p["pack"] else name
        cells = [f"<td>{link}</td>", status_cell(p["status"])]
        for column in columns:
            kpi = p["kpis"].get(column)
            if kpi is None:
                cells.append("<td></td>")
                continue
            shown = kpi["status"].replace("_", " ")
            if kpi["value"] is not None:
                shown += f" · {percent(kpi['value'])}"
            cells.append(status_cell(kpi["status"], shown))
        cells.append(f"<td>{sum(p['exceptions'].values())}</td><td>{p['high']}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    legend = " ".join(
        f'<span style="background:{c};padding:1px 6px">{esc(s.replace("_", " "))}</span>'
        for s, c in STATUS_COLOURS.items()
    )
    return Html(
        f'{STYLE}<table class="kpi">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f'<p class="note">{legend}</p>'
    )


def exception_counts(summary: dict[str, Any]) -> Html:
    """Exceptions per provider and KPI."""
    order = [*KPIS, "irregularity"]
    rows = [
        {"provider": p["provider_id"], **{KPI_TITLES.get(k, "Irregularities"): p["exceptions"].get(k, 0) for k in order}}
        for p in summary["providers"]
    ]
    return table(pd.DataFrame(rows), limit=len(rows) or 1)


def failures(summary: dict[str, Any]) -> Html:
    """Providers whose pack failed, folders skipped and stale folders, with the reason."""
    rows = [
        {"provider": p["provider_id"], "status": p["status"], "reason": p["reason"],
         "executed notebook": p["pack"] or "none"}
        for p in summary["providers"] if p["status"] != "OK"
    ]
    if not rows:
        return Html("<p>Every provider's pack was built.</p>")
    return table(pd.DataFrame(rows), limit=len(rows))


def duplicates(summary: dict[str, Any]) -> Html:
    """The same ULN on overlapping bootcamps (within and across providers), pseudonymised."""
    return table(pd.DataFrame(summary["duplicates"]), limit=200, more="in the providers' exceptions.xlsx")
