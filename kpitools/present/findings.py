"""The pack's first section, findings first: what is off track or not met and by how much,
how many findings of each severity, what is new since last month and what was resolved.

Figures come from the audit's KPI results and the register's follow-up
(:class:`kpitools.model.FollowUp`); nothing is computed here but differences to the
target and counts for the sentences.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
from markupsafe import Markup

from kpitools.method import percent, target_text
from kpitools.model import (
    CARRIED,
    EXCEPTION_ID_PREFIX,
    LAST_MONTH_REGISTER,
    MANUAL,
    REOPENED,
    THIS_PERIOD_REGISTER,
    FollowUp,
    KpiResult,
    ProviderAudit,
)
from kpitools.present.blocks import (
    BREACH_STATUSES,
    EMPTY,
    bullets,
    case_command,
    heading,
    html_table,
    kpi_label,
    kpi_order,
    row,
    severity_rank,
    short_text,
    status_cell,
    status_words,
    table,
    unverified_text,
)
from kpitools.worklists.followup import FOLLOW_UP_STATUSES, found_entity

if TYPE_CHECKING:
    from kpitools.model import FollowUp
    from kpitools.present.context import PackContext

LIST_LIMIT = 20


def _label(result: KpiResult) -> str:
    return kpi_label(result.kpi, result.stage)


def gap_text(result: KpiResult) -> str:
    """How far the figure is on the wrong side of the target, in percentage points."""
    if result.value is None or result.target is None:
        return ""
    points = (result.value - result.target) * 100
    if result.target_kind == "max":
        return f"{points:.1f} points over" if points > 0 else "within the limit"
    return f"{-points:.1f} points short" if points < 0 else "at or above the target"


def off_target(audit: ProviderAudit) -> list[KpiResult]:
    """KPI results (provider and bootcamps) not met or off track, worst first."""
    found = [r for r in audit.kpi_results if r.status in BREACH_STATUSES]
    return sorted(
        found,
        key=lambda r: (
            -severity_rank(r.status),
            r.bootcamp_id != "ALL",
            kpi_order((r.kpi, r.stage)),
            r.bootcamp_id,
        ),
    )


def _figure(result: KpiResult, *, status: bool = True) -> str:
    """A KPI figure in words: "off track at 33.3 % (at most 20.0 %, 13.3 points over)";
    without ``status``, the figure alone ("33.3 % (at most ...)"), for a sentence that
    has said the status already."""
    said = status_words(result.status) if status else ""
    details = [d for d in (unverified_text(result.unverified), short_text(result.open_short)) if d]
    if result.value is None:
        return ", ".join([said, *details] if said else details)
    gap = gap_text(result)
    target = target_text(result.target, result.target_kind)
    inside = ", ".join([target, *([gap] if gap else [])]) + "".join(f"; {d}" for d in details)
    figure = f"{percent(result.value)} ({inside})"
    return f"{said} at {figure}" if said else figure


# the order statuses are told in: the worst first, then those needing no action
STATUS_ORDER = (
    "not_met",
    "off_track",
    "at_risk",
    "on_track",
    "met",
    "reported",
    "not_due",
    "no_data",
)
WORRYING = ("not_met", "off_track", "at_risk")


def status_groups(results: list[KpiResult]) -> list[tuple[str, list[KpiResult]]]:
    """KPI results grouped by status, worst status first (:data:`STATUS_ORDER`; a status
    it does not know last), each group in the contract's KPI order."""
    ordered = sorted(results, key=lambda r: kpi_order((r.kpi, r.stage)))
    known = [s for s in STATUS_ORDER if any(r.status == s for r in ordered)]
    others = sorted({r.status for r in ordered} - set(STATUS_ORDER))
    return [(s, [r for r in ordered if r.status == s]) for s in (*known, *others)]


def provider_sentence(audit: ProviderAudit) -> str:
    """The provider's KPI figures told by the statuses the status table shows, every KPI
    under its own status: "The provider as a whole, 7 KPI figure(s): at risk (2):
    Employer engagement (design) 94.4 % (at least 100.0 %, 5.6 points short), ...;
    on track (3): ...". Figures are given for the statuses that need action."""
    provider = [r for r in audit.kpi_results if r.bootcamp_id == "ALL"]
    if not provider:
        return "The provider has no KPI figure."
    groups = [
        f"{status_words(status)} ({len(members)}): "
        + ", ".join(
            f"{_label(r)} {_figure(r, status=False)}".rstrip() if status in WORRYING else _label(r)
            for r in members
        )
        for status, members in status_groups(provider)
    ]
    return f"The provider as a whole, {len(provider)} KPI figure(s): " + "; ".join(groups) + "."


def bootcamp_sentence(audit: ProviderAudit) -> str:
    """The bootcamps' KPI figures that need action (not met, off track, at risk), by
    status, each named; or that there are none."""
    results = [r for r in audit.kpi_results if r.bootcamp_id != "ALL" and r.status in WORRYING]
    if not results:
        return "No bootcamp has a KPI not met, off track or at risk."
    camps = sorted({r.bootcamp_id for r in results})
    groups = [
        f"{status_words(status)} ({len(members)}): "
        + "; ".join(
            f"{r.bootcamp_id} {_label(r)} {_figure(r, status=False)}"
            if status in BREACH_STATUSES
            else f"{r.bootcamp_id} {_label(r)}"  # at risk: named, figures in the table
            for r in members
        )
        for status, members in status_groups(results)
    ]
    return (
        f"{len(camps)} bootcamp(s) have a KPI not met, off track or at risk: "
        + " | ".join(groups)
        + "."
    )


def kpi_sentences(audit: ProviderAudit) -> list[tuple[str, str]]:
    """One sentence per KPI (and stage): the provider's figure and its bootcamps that
    are not met or off track, as (KPI, sentence)."""
    provider = sorted(
        (r for r in audit.kpi_results if r.bootcamp_id == "ALL"),
        key=lambda r: kpi_order((r.kpi, r.stage)),
    )
    lines = []
    for total in provider:
        bootcamps = [
            r
            for r in audit.kpi_results
            if (r.kpi, r.stage) == (total.kpi, total.stage) and r.bootcamp_id != "ALL"
        ]
        bad = [r for r in bootcamps if r.status in BREACH_STATUSES]
        sentence = f"provider {_figure(total)}"
        if bad:
            sentence += (
                f"; {len(bad)} of {len(bootcamps)} bootcamps not met or off track: "
                + ", ".join(f"{r.bootcamp_id} {_figure(r)}" for r in bad)
            )
        lines.append((_label(total), sentence))
    return lines


def _off_target_table(audit: ProviderAudit) -> Markup:
    rows = [
        row(
            _label(r),
            "provider" if r.bootcamp_id == "ALL" else r.bootcamp_id,
            status_cell(r.status),
            percent(r.value),
            target_text(r.target, r.target_kind),
            gap_text(r),
            f"{r.numerator} / {r.denominator}",
        )
        for r in off_target(audit)
    ]
    head = ("KPI", "bootcamp", "status", "value", "target", "against the target", "cases")
    return html_table(head, rows)


def _named(frame: pd.DataFrame, *, limit: int = LIST_LIMIT) -> str:
    """The rows behind a count, named: "EX-… (RULE), …" (the first ``limit``, then how
    many more)."""
    names = [f"{e} ({r})" for e, r in zip(frame["exception_id"], frame["rule"], strict=True)]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _sentences(audit: ProviderAudit, followup: FollowUp | None) -> list[str]:
    lines = [provider_sentence(audit), bootcamp_sentence(audit)]
    if followup is not None:
        counts = followup.counts()
        lines.append(
            f"{counts['total']} exceptions to follow up: {counts['high']} high, "
            f"{counts['medium']} medium, {counts['low']} low severity (sheet Exceptions of "
            "exceptions.xlsx)."
        )
        if followup.previous_found:
            lines.append(
                f"Since last month's register ({followup.previous} in the output folder): "
                f"{counts['new']} new, {counts['recurring']} recurring, {counts['resolved']} "
                "resolved (new and resolved listed below)."
            )
            exceptions = followup.exceptions
            reopened = exceptions[exceptions["status"] == REOPENED]
            if len(reopened):
                lines.append(
                    f"{len(reopened)} recurring exception(s) had been marked resolved or "
                    f"accepted and are reopened: {_named(reopened)}."
                )
        elif followup.previous and not followup.unused:
            lines.append(
                f"No previous register was found at {followup.previous} in the output "
                "folder: every exception is new."
            )
        elif not followup.unused:
            lines.append("No previous register was looked for (no period): every exception is new.")
        for line in followup.unused:  # a register read back but not used, and why
            new = " Every exception is new." if line.startswith(LAST_MONTH_REGISTER) else ""
            lines.append(f"{line[:1].upper()}{line[1:]}.{new}")
        lines += _carried_sentences(followup, counts)
    informational = len(audit.informational())
    if informational:
        lines.append(
            f"For information, not flagged: {informational} due completers without any "
            "career-progression outcome (no progression target is set); listed under "
            "Career progression."
        )
    return lines


def _carried_sentences(followup: FollowUp, counts: dict[str, int]) -> list[str]:
    """What the register carried and from where, and what was edited after review."""
    lines = []
    exceptions = followup.exceptions
    if counts["carried"]:
        carried = exceptions[exceptions["change"] == CARRIED]
        lines.append(
            f"{counts['carried']} event(s) (restatements, late reports) not repeated this "
            f"month stay open until an auditor closes them: {_named(carried)}."
        )
    if counts["manual"]:
        manual = exceptions[exceptions["change"] == MANUAL]
        lines.append(
            f"{counts['manual']} row(s) added to the register by hand are carried: "
            f"{', '.join(manual['exception_id'].astype(str))}."
        )
    for source in followup.sources:
        if source.role != THIS_PERIOD_REGISTER:
            continue
        # counts only: who saved it, what the added columns are called and what was
        # typed stay in the register (a working file)
        saved = f", saved {source.modified}" if source.modified else ""
        lines.append(
            f"This period's register was built before{saved}: its {source.edits} edit(s), "
            f"{len(source.added_columns)} added column(s) and {source.manual_rows} row(s) "
            "added by hand are carried into this one, winning over last month's."
        )
    handled = sum(len(source.handled) for source in followup.sources)
    if handled:
        lines.append(
            f"{handled} thing(s) in the registers read back were not as kpitools wrote them "
            "(formulas, ids typed in another case, repeated or unknown ids, a CSV): each was "
            "read without loss, and is named on the register's Summary sheet."
        )
    if followup.edited_after_review:
        lines.append(
            f"{len(followup.edited_after_review)} exception(s) were edited after review "
            f"(review_note in the register): {', '.join(followup.edited_after_review)}."
        )
    return lines


def _change_table(frame: pd.DataFrame, ctx: PackContext, columns: list[str], more: str) -> Markup:
    """Register rows as the pack shows them: only rows kpitools made (a row added by hand
    is the auditor's own text), the entity as found (:func:`found_entity`) named by the
    pack's rule, a status only when it is one of the register's statuses; never a working
    column an auditor types in (owner, response, ...)."""
    made = frame[frame["exception_id"].astype(str).str.startswith(EXCEPTION_ID_PREFIX)]
    provider_id = ctx.audit.provider_id
    entity = [ctx.naming.entity(found_entity(r, provider_id)) for r in made.to_dict("records")]
    shown = made.assign(entity=entity)
    if "status" in shown.columns:
        shown = shown.assign(
            status=shown["status"].map(
                lambda s: s if s in FOLLOW_UP_STATUSES else "other (see the register)"
            )
        )
    return table(shown[[c for c in columns if c in shown.columns]], limit=LIST_LIMIT, more=more)


def findings_first(ctx: PackContext) -> Markup:
    """The pack's first section: sentences, the table of KPIs and bootcamps not met or off
    track against their targets, and what is new and resolved since last month."""
    audit = ctx.audit
    followup = ctx.followup
    # the table of what is not met or off track first: it fits page 1 of the PDF, the
    # sentences (which name every KPI by its status) follow it
    parts = []
    if off_target(audit):
        parts.append(heading("Not met or off track") + _off_target_table(audit))
    parts.append(bullets(_sentences(audit, followup), classes="findings"))
    columns = ["exception_id", "severity", "rule", "bootcamp_id", "entity", "message"]
    if followup is not None and followup.previous_found:
        new = followup.exceptions[followup.exceptions["change"] == "new"]
        parts.append(
            heading("New since last month")
            + _change_table(
                new, ctx, columns, "in exceptions.xlsx, sheet Exceptions (change = new)"
            )
        )
        parts.append(
            heading("Resolved since last month")
            + _change_table(
                followup.resolved,
                ctx,
                [*columns, "status"],
                "in exceptions.xlsx, sheet Resolved",
            )
        )
    if followup is not None:
        parts.append(_case_commands(followup, ctx))
    return EMPTY.join(parts)


def _case_commands(followup: FollowUp, ctx: PackContext) -> Markup:
    """Each high finding with the command that builds its case file."""
    high = followup.exceptions[followup.exceptions["severity"] == "high"]
    if high.empty:
        return EMPTY
    shown = high.assign(
        case_file=[
            case_command(ctx.audit.period or "", ctx.audit.provider_id, str(i))
            for i in high["exception_id"]
        ]
    )
    return heading("Case files for the high findings") + _change_table(
        shown,
        ctx,
        ["exception_id", "rule", "entity", "case_file"],
        "in exceptions.xlsx (severity = high)",
    )
