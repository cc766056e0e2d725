"""The portfolio overview (``OUT/PERIOD/index.html``): summary data and its HTML.

The batch writes a small JSON summary (:func:`portfolio_summary`) after every pack has
run; the portfolio notebook loads it and displays the tables below. Only provider-level
figures, counts and pseudonymised cross-provider duplicates go in it: no personal data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup, escape

from kpitools.io.files import write_atomic
from kpitools.layout import REGISTER_FILE
from kpitools.model import SEVERITIES, KpiResult, ProviderAudit
from kpitools.packs.blocks import (
    BREACH_STATUSES,
    EMPTY,
    FINDING_TITLES,
    KPI_SHORT_TITLES,
    KPI_TITLES,
    STATUS_COLOURS,
    cell,
    html_table,
    kpi_label,
    kpi_order,
    note,
    percent,
    relative_link,
    row,
    severity_rank,
    status_cell,
    status_words,
    table,
    unverified_text,
)
from kpitools.packs.context import PackContext
from kpitools.packs.runner import PackOutcome
from kpitools.returns.contract import KPIS, STAGES

SUMMARY_FILE = ".portfolio.json"
PACK_FILE = "audit_pack.html"
# The index names a KPI by its short title ("Drop-out", "Engagement (post)"), its full
# title in the header's tooltip: the summary keeps the full titles
_SHORT_LABELS = {kpi_label(k, s): kpi_label(k, s, short=True) for k in KPIS for s in ("", *STAGES)}


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
    }


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
        frame = ctx.findings("irregularity")
        frame = frame[frame["rule"] == "DUP-ULN-OVERLAP"]
        duplicates += frame[["provider_id", "bootcamp_id", "entity", "source", "message"]].to_dict(
            "records"
        )
    return {
        "period": period,
        "as_of": as_of,
        "columns": kpi_columns({pid: c.audit for pid, c in contexts.items()}),
        "providers": sorted(
            providers, key=lambda p: (tuple(-x for x in provider_severity(p)), p["provider_id"])
        ),
        "duplicates": duplicates,
    }


def write_summary(summary: dict[str, Any], path: str | Path) -> Path:
    return write_atomic(Path(path), json.dumps(summary, indent=1, sort_keys=True).encode("utf-8"))


def load_summary(path: str | Path) -> dict[str, Any]:
    """The summary written by a batch (the portfolio notebook's first call)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def overview(summary: dict[str, Any]) -> Markup:
    """The period in one sentence: providers audited, packs built, failed, skipped, stale."""
    providers = summary["providers"]
    counts = {
        status: sum(p["status"] == status for p in providers)
        for status in ("OK", "FAILED", "SKIPPED", "STALE")
    }
    others = EMPTY.join(
        Markup(", <b>{}</b> {}").format(counts[s], s.lower())
        for s in ("SKIPPED", "STALE")
        if counts[s]
    )
    audited = counts["OK"] + counts["FAILED"]
    return Markup(
        "<p>Period <b>{}</b>, measured as of <b>{}</b>: {} providers, {} packs built, "
        "<b>{}</b> failed{}.</p>"
    ).format(summary["period"], summary["as_of"], audited, counts["OK"], counts["FAILED"], others)


def _short_bootcamp(provider_id: str, bootcamp_id: str) -> str:
    """``P005-BC02`` shown as ``BC02`` beside its provider (any other id as it is)."""
    prefix = f"{provider_id}-"
    return bootcamp_id[len(prefix) :] if bootcamp_id.startswith(prefix) else bootcamp_id


def _figure(value: float) -> Markup:
    """A percentage kept on one line ("100.0 %" never breaks before its "%")."""
    return Markup('<span class="n">{}</span>').format(percent(value))


def _small(text: object) -> Markup:
    """A cell's second line, in smaller type."""
    return Markup('<br><span class="bc">{}</span>').format(text)


def kpi_cell(provider_id: str, kpi: dict[str, Any]) -> Markup:
    """A matrix cell: the provider's figure and its worst bootcamp, e.g. "on track · 11.6 %"
    over "1 of 5 not met: BC02 30.6 %" (1 of its 5 bootcamps), coloured by the worse of
    the two; the cases left unverified (evidence from the ILR, role type unknown) on a
    line of their own under the figure."""
    shown = escape(status_words(kpi["status"]))
    if kpi["value"] is not None:
        shown += Markup(" · {}").format(_figure(kpi["value"]))
    if kpi.get("unverified"):
        shown += _small(unverified_text(kpi["unverified"]))
    status = kpi["status"]
    worst = kpi.get("worst")
    if worst:
        if severity_rank(worst["status"]) > severity_rank(status):
            status = worst["status"]
        figure = Markup(" {}").format(_figure(worst["value"])) if worst["value"] is not None else ""
        shown += _small(
            Markup("{} of {} {}: {}{}").format(
                worst["count"],
                kpi["bootcamps"],
                status_words(worst["status"]),
                _short_bootcamp(provider_id, worst["bootcamp_id"]),
                figure,
            )
        )
    return status_cell(status, shown)


def _breach_list(provider: dict[str, Any]) -> Markup:
    """One line per bootcamp in breach: "BC01 Co-funding not met 50.0 %"."""
    items = [
        Markup("{} {} {}{}").format(
            _short_bootcamp(provider["provider_id"], b["bootcamp_id"]),
            _SHORT_LABELS.get(b["kpi"], b["kpi"]),
            status_words(b["status"]),
            Markup(" {}").format(_figure(b["value"])) if b["value"] is not None else "",
        )
        for b in provider.get("breaches", ())
    ]
    return Markup("<br>").join(items) if items else Markup("none")


def _exceptions_cell(provider: dict[str, Any]) -> Markup:
    """The provider's exceptions and their severities: "6" over "3 high · 2 medium · 1 low"."""
    counts = " · ".join(f"{provider[s]} {s}" for s in SEVERITIES)
    total = sum(provider["exceptions"].values())
    return cell(Markup("<b>{}</b>").format(total) + _small(counts))


def _provider_cell(provider: dict[str, Any]) -> Markup:
    """The provider's id, its name on a smaller line, and links to its pack and register."""
    links = []
    if provider["pack"]:
        links.append(relative_link(provider["pack"], "pack"))
    if provider.get("register"):
        links.append(relative_link(provider["register"], "register (xlsx)"))
    name = _small(provider["name"]) if provider["name"] else EMPTY
    return Markup('<td class="who"><b>{}</b>{}<br>{}</td>').format(
        provider["provider_id"], name, Markup(" · ").join(links)
    )


def provider_matrix(summary: dict[str, Any]) -> Markup:
    """Providers × KPIs, most urgent provider first: each cell shows the provider's
    figure and its worst bootcamp, coloured by the worse of the two; a column lists the
    bootcamps in breach, one with the exceptions by severity; each provider links to its
    pack and its register. KPIs are headed by their short titles (the full title is the
    header's tooltip and is listed below the table), so the table fits a 1280 px screen."""
    columns = summary["columns"]
    head = [
        "Provider",
        "Pack",
        *(Markup('<th title="{}">{}</th>').format(c, _SHORT_LABELS.get(c, c)) for c in columns),
        "Bootcamps in breach",
        "Exceptions",
    ]
    rows = []
    for p in summary["providers"]:
        cells = [_provider_cell(p), status_cell(p["status"])]
        for column in columns:
            kpi = p["kpis"].get(column)
            cells.append(cell("") if kpi is None else kpi_cell(p["provider_id"], kpi))
        cells.append(Markup('<td class="breaches">{}</td>').format(_breach_list(p)))
        cells.append(_exceptions_cell(p))
        rows.append(row(*cells))
    titles = "; ".join(f"{KPI_SHORT_TITLES[k]}: {KPI_TITLES[k]}" for k in KPIS)
    legend = Markup(" ").join(
        Markup('<span style="background:{};padding:1px 6px">{}</span>').format(c, status_words(s))
        for s, c in STATUS_COLOURS.items()
    )
    return (
        html_table(head, rows, classes="kpi matrix")
        + note(
            "Providers are ordered by urgency: the worst status of any KPI or "
            "bootcamp, then the number of bootcamps in breach (not met or off track), then high "
            "findings. A cell takes the colour of the worse of the provider's figure and its "
            "worst bootcamp; its second line counts the provider's bootcamps with that worst "
            f'status ("1 of 5 not met": 1 of its 5 bootcamps) and names it. KPIs: {titles}.'
        )
        + note(legend)
    )


def exceptions_per_provider(summary: dict[str, Any]) -> Markup:
    """Exceptions per provider and KPI."""
    rows = [
        {
            "provider": p["provider_id"],
            **{title: p["exceptions"].get(k, 0) for k, title in FINDING_TITLES.items()},
        }
        for p in summary["providers"]
    ]
    return table(pd.DataFrame(rows), limit=len(rows) or 1)


def failures(summary: dict[str, Any]) -> Markup:
    """Providers whose pack failed, folders skipped and stale folders, with the reason."""
    rows = [
        {
            "provider": p["provider_id"],
            "status": p["status"],
            "reason": p["reason"],
            "executed notebook": p["pack"] or "none",
        }
        for p in summary["providers"]
        if p["status"] != "OK"
    ]
    if not rows:
        return Markup("<p>Every provider's pack was built.</p>")
    return table(pd.DataFrame(rows), limit=len(rows))


def duplicates(summary: dict[str, Any]) -> Markup:
    """The same ULN on overlapping bootcamps (within and across providers), pseudonymised."""
    return table(
        pd.DataFrame(summary["duplicates"]), limit=200, more="in the providers' exceptions.xlsx"
    )
