"""The portfolio overview (``OUT/PERIOD/index.html``): its HTML.

The batch writes a small JSON summary after every pack has run
(:func:`kpitools.run.index.portfolio_summary`); the portfolio notebook loads it
(:func:`load_summary`) and displays the tables below.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup, escape

from kpitools.method import percent
from kpitools.model import SEVERITIES
from kpitools.present.blocks import (
    EMPTY,
    KPI_SHORT_TITLES,
    KPI_TITLES,
    STATUS_COLOURS,
    case_command,
    cell,
    finding_titles,
    heading,
    html_table,
    kpi_label,
    note,
    relative_link,
    row,
    severity_rank,
    status_cell,
    status_words,
    table,
    unverified_text,
)
from kpitools.returns.contract import KPIS, PROFILE_KPIS, STAGES

# The index names a KPI by its short title ("Drop-out", "Engagement (post)"), its full
# title in the header's tooltip: the summary keeps the full titles
_SHORT_LABELS = {
    kpi_label(k, s): kpi_label(k, s, short=True)
    for k in (*KPIS, *PROFILE_KPIS)
    for s in ("", *STAGES)
}


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
    run = (
        Markup(
            " Built by run {} of the audit store (each pack's manifest.json names its run)."
        ).format(summary["run"])
        if summary.get("run")
        else EMPTY
    )
    profiles = summary.get("profiles") or []
    profile = (
        Markup(" Rule profile{} in force: <b>{}</b>.").format(
            "s" if len(profiles) > 1 else "", ", ".join(profiles)
        )
        if profiles
        else EMPTY
    )
    return Markup(
        "<p>Period <b>{}</b>, measured as of <b>{}</b>: {} providers, {} packs built, "
        "<b>{}</b> failed{}.{}{}</p>"
    ).format(
        summary["period"],
        summary["as_of"],
        audited,
        counts["OK"],
        counts["FAILED"],
        others,
        profile,
        run,
    ) + rebuilt(summary)


def rebuilt(summary: dict[str, Any]) -> Markup:
    """The providers rebuilt alone (``kpitools pack``) since the run that built the
    index: their rows are the new builds', said with when and whether their
    cross-provider checks ran; nothing when there is none."""
    items = [
        Markup("<b>{}</b> at {} ({})").format(
            r["provider_id"],
            r["at"],
            "cross-provider checks run"
            if r["cross_provider"]
            else "without the cross-provider checks: its duplicates across providers are not shown",
        )
        for r in summary.get("rebuilt", ())
    ]
    if not items:
        return EMPTY
    return Markup(
        "<p>Rebuilt alone by kpitools pack since this run, their rows showing the new "
        "build: {}.</p>"
    ).format(Markup("; ").join(items))


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
    """The provider's id, its name on a smaller line, and links to its pack, its PDF
    (built with --pdf) and its register."""
    links = []
    if provider["pack"]:
        links.append(relative_link(provider["pack"], "pack"))
    if provider.get("pdf"):
        links.append(relative_link(provider["pdf"], "PDF"))
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
    shown = set(columns)
    titles = "; ".join(
        f"{KPI_SHORT_TITLES[k]}: {KPI_TITLES[k]}"
        for k in (*KPIS, *(k for k in PROFILE_KPIS if kpi_label(k, "") in shown))
    )
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
    """Exceptions per provider and KPI, then each high finding with the command that
    builds its case file."""
    columns = set(summary.get("columns", ()))
    titles = finding_titles({k for k in PROFILE_KPIS if kpi_label(k, "") in columns})
    rows = [
        {
            "provider": p["provider_id"],
            **{title: p["exceptions"].get(k, 0) for k, title in titles.items()},
        }
        for p in summary["providers"]
    ]
    cases = [
        {
            "provider": p["provider_id"],
            "exception_id": h["exception_id"],
            "rule": h["rule"],
            "case file": case_command(summary["period"], p["provider_id"], h["exception_id"]),
        }
        for p in summary["providers"]
        for h in p.get("high_findings", ())
    ]
    return table(pd.DataFrame(rows), limit=len(rows) or 1) + (
        heading("Case files for the high findings") + table(pd.DataFrame(cases), limit=500)
        if cases
        else EMPTY
    )


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
    """The same ULN on overlapping bootcamps, and one person matched twice (within and
    across providers), pseudonymised."""
    return table(
        pd.DataFrame(summary["duplicates"]), limit=200, more="in the providers' exceptions.xlsx"
    )
