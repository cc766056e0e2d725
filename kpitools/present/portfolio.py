"""The portfolio overview (``OUT/PERIOD/index.html``), the monthly meeting's page: its HTML.

The batch writes a small JSON summary after every pack has run
(:func:`kpitools.run.index.portfolio_summary`); the portfolio notebook loads it
(:func:`load_summary`) and displays the sections below: what changed since last month
(:func:`what_changed`, every sentence counted from the same rows the tables show), the
providers × KPIs matrix, each provider's change since last month with its high findings
and links (:func:`since_last_month`), the providers in breach month by month
(:func:`breach_chart`), exceptions, failures and duplicates. Status and counts only: no
auditor's free text, no personal data.
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
    DPI,
    EMPTY,
    KPI_SHORT_TITLES,
    KPI_TITLES,
    STATUS_COLOURS,
    case_command,
    cell,
    figure_html,
    finding_titles,
    heading,
    html_table,
    kpi_label,
    note,
    relative_link,
    row,
    severity_rank,
    short_text,
    status_cell,
    status_words,
    table,
    unverified_text,
)
from kpitools.present.plots import label
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
    if kpi.get("open_short"):
        shown += _small(short_text(kpi["open_short"]))
    if kpi.get("unverified"):
        shown += _small(unverified_text(kpi["unverified"]))
    status = kpi["status"]
    worst = kpi.get("worst")
    if worst:
        if severity_rank(worst["status"]) > severity_rank(status):
            status = worst["status"]
        figure = Markup(" {}").format(_figure(worst["value"])) if worst["value"] is not None else ""
        if worst.get("open_short"):
            figure += Markup(" ({})").format(short_text(worst["open_short"]))
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


_CHANGES = ("new", "recurring", "resolved", "reopened")


def _built(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The providers whose audit was computed (a row with the change since last month)."""
    return [p for p in summary["providers"] if "change" in p]


def what_changed(summary: dict[str, Any]) -> Markup:
    """The meeting's first minute: what changed since last month, as sentences counted
    from the same rows as the table below (:func:`since_last_month`) and naming them:
    exceptions new, recurring, resolved and reopened across the providers compared with
    last month's register; the KPI statuses that got worse or better; the providers in
    breach now and last month (the chart's figures); the providers with nothing to
    compare with."""
    built = _built(summary)
    compared = [p for p in built if p["change"]["compared"]]
    last = summary.get("previous_period", "")
    lines: list[Markup] = []
    if compared:
        totals = {k: sum(p["change"][k] for p in compared) for k in _CHANGES}
        lines.append(
            Markup("Since the registers of {} ({} of {} providers): {}.").format(
                last,
                len(compared),
                len(built),
                ", ".join(f"{totals[k]} {k}" for k in _CHANGES),
            )
        )
        reopened = [(p["provider_id"], i) for p in compared for i in p["change"]["reopened_ids"]]
        if reopened:
            lines.append(
                Markup("Reopened (marked resolved or accepted, but recurring): {}.").format(
                    "; ".join(f"{pid} {eid}" for pid, eid in reopened)
                )
            )
    alone = [p["provider_id"] for p in built if not p["change"]["compared"]]
    if alone:
        lines.append(
            Markup("No register of {} to compare with: {} (every exception is new).").format(
                last or "the previous month", ", ".join(alone)
            )
        )
    for direction in ("worse", "better"):
        moved = [
            f"{p['provider_id']} {_SHORT_LABELS.get(c['kpi'], c['kpi'])} "
            f"{status_words(c['was'])} → {status_words(c['now'])}"
            for p in built
            for c in p["kpi_changes"]
            if c["direction"] == direction
        ]
        if moved:
            lines.append(
                Markup("KPI statuses {} than in {} ({}): {}.").format(
                    direction, last, len(moved), "; ".join(moved)
                )
            )
    if summary.get("previous_on_record") is not None and not summary["previous_on_record"]:
        lines.append(
            Markup("No KPI status of {} in the audit store: no KPI compared.").format(last)
        )
    lines += _breach_sentence(summary)
    items = EMPTY.join(Markup("<li>{}</li>").format(line) for line in lines)
    return Markup('<ul class="changed">{}</ul>').format(items)


def _breach_sentence(summary: dict[str, Any]) -> list[Markup]:
    """Providers in breach of each KPI this month against last month (the chart's
    counts), for the KPIs with any."""
    months = summary.get("breach_months") or {}
    periods = months.get("periods", [])
    if summary["period"] not in periods:
        return []
    now = periods.index(summary["period"])
    before = (
        periods.index(summary["previous_period"]) if summary["previous_period"] in periods else None
    )
    parts = [
        f"{_SHORT_LABELS.get(kpi, kpi)} {counts[now]}"
        + (f" (was {counts[before]})" if before is not None else "")
        for kpi, counts in months["counts"].items()
        if counts[now] or (before is not None and counts[before])
    ]
    if not parts:
        return [Markup("No provider is in breach of any KPI (not met or off track).")]
    return [
        Markup(
            "Providers in breach (not met or off track, as a whole or in a bootcamp): {}."
        ).format("; ".join(parts))
    ]


def _change_cell(change: dict[str, Any]) -> Markup:
    """A provider's change since last month: "2 new · 10 recurring · 1 resolved · 1
    reopened", the exceptions open long or past due, the reopened ones by id."""
    if not change["compared"]:
        where = f" at {change['previous']}" if change.get("previous") else ""
        return cell(
            Markup("no register of last month{}").format(where)
            + _small(f"{change.get('total', 0)} open, all new")
        )
    shown = Markup(" · ").join(Markup("<b>{}</b> {}").format(change[k], k) for k in _CHANGES)
    ages = f"open over 30 days: {change['open_over_30']} · over 90: {change['open_over_90']}"
    ages += f" · past due date: {change['past_due']}"
    shown += _small(ages)
    if change["reopened_ids"]:
        shown += _small("reopened: " + ", ".join(change["reopened_ids"]))
    return cell(shown)


def _kpi_changes_cell(changes: list[dict[str, str]]) -> Markup:
    """The KPI statuses that got worse or better: "worse: Drop-out on track → at risk"."""
    if not changes:
        return cell("none")
    lines = [
        Markup("{}: {} {} → {}").format(
            c["direction"],
            _SHORT_LABELS.get(c["kpi"], c["kpi"]),
            status_words(c["was"]),
            status_words(c["now"]),
        )
        for c in changes
    ]
    return cell(Markup("<br>").join(lines))


def _high_cell(rules: list[dict[str, Any]]) -> Markup:
    """The high findings by rule with counts, each linked to the pack's section."""
    if not rules:
        return cell("none")
    lines = [
        relative_link(r["link"], f"{r['rule']} {r['count']}")
        if r["link"]
        else Markup("{} {}").format(r["rule"], r["count"])
        for r in rules
    ]
    return cell(Markup("<br>").join(lines))


def _links_cell(provider: dict[str, Any]) -> Markup:
    """Links to the pack's sections, the register and the PDF (when printed)."""
    links = [relative_link(s["href"], s["title"]) for s in provider["sections"]]
    if provider.get("register"):
        links.append(relative_link(provider["register"], "register (xlsx)"))
    if provider.get("pdf"):
        links.append(relative_link(provider["pdf"], "PDF"))
    return cell(Markup("<br>").join(links) if links else "")


def since_last_month(summary: dict[str, Any]) -> Markup:
    """Per provider, in the matrix's order: the change since last month's register, the
    KPI statuses better or worse than last month's, the high findings by rule (linked to
    the pack's section) and links to the pack's sections, register and PDF."""
    head = ["Provider", "Since last month", "KPI status changes", "High findings", "Open"]
    rows = [
        row(
            cell(Markup("<b>{}</b>").format(p["provider_id"])),
            _change_cell(p["change"]),
            _kpi_changes_cell(p["kpi_changes"]),
            _high_cell(p["high_rules"]),
            _links_cell(p),
        )
        for p in _built(summary)
    ]
    if not rows:
        return note("No provider was audited.")
    return html_table(head, rows, classes="kpi changes") + note(
        "Counts from each provider's register (exceptions.xlsx): new since last month's "
        "register, recurring, resolved (no longer occurring), reopened (marked resolved or "
        "accepted last month, occurring again); open for over 30 and 90 days since first "
        "seen; past the due date an auditor gave them. KPI statuses are the provider's as "
        "a whole, compared with last month's in the audit store: worse when they need more "
        "action (not met, off track, at risk), better when less."
    )


def breach_chart(summary: dict[str, Any]) -> Markup:
    """Providers in breach of each KPI month by month (not met or off track, as a whole
    or in a bootcamp), from the audit store and this run: one line a KPI with any breach."""
    months = summary.get("breach_months") or {}
    periods = months.get("periods", [])
    shown = {k: v for k, v in months.get("counts", {}).items() if any(v)}
    if not periods or not shown:
        return note("No provider is in breach of any KPI in the months on record.")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    kpis = list(shown)
    fig = Figure(figsize=(7.5, 0.9 + 0.32 * len(kpis) * max(len(periods), 2) / 2), dpi=DPI)
    fig.set_layout_engine("constrained")
    ax = fig.add_subplot()
    height = 0.8 / len(periods)
    for i, period in enumerate(periods):  # one bar a month, the latest at the bottom
        positions = [k + (i - (len(periods) - 1) / 2) * height for k in range(len(kpis))]
        counts = [shown[k][i] for k in kpis]
        bars = ax.barh(positions, counts, height=height * 0.9, label=period)
        ax.bar_label(bars, fontsize=7, padding=2)
    ax.set_yticks(range(len(kpis)), [label(_SHORT_LABELS.get(k, k)) for k in kpis])
    ax.invert_yaxis()
    ax.set_title("Providers in breach per KPI, month by month", y=1.0)
    ax.set_xlabel("providers (not met or off track, as a whole or in a bootcamp)")
    ax.set_xlim(0, max(max(months["providers"]), 1) + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="lower right", fontsize=8)
    table_rows = [row(cell(_SHORT_LABELS.get(k, k), "th"), *v) for k, v in shown.items()]
    figures = html_table(["KPI", *periods], table_rows, classes="kpi")
    return (
        figure_html(fig)
        + figures
        + note(
            "Providers on record each month: "
            + ", ".join(f"{p} {n}" for p, n in zip(periods, months["providers"], strict=True))
            + " (earlier months as their latest finished run built them, from the audit store)."
        )
    )
