"""The pack's sections other than the findings (:mod:`~kpitools.packs.findings`) and the
breach risk (:mod:`~kpitools.packs.breach`): escaped HTML tables with status colours.

Every function takes a :class:`~kpitools.packs.context.PackContext` (or plain frames) and
returns :class:`~kpitools.packs.blocks.Html`, which Jupyter displays as it is. All data
is escaped by :mod:`kpitools.packs.blocks`, so a learner or employer named
``<script>alert(1)</script>`` appears as text. Long lists are capped with a note
pointing to ``exceptions.xlsx``. No KPI arithmetic happens here: figures come from the
audit (its :class:`~kpitools.model.KpiResult` objects, worklists and trends).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pandas as pd

from kpitools.model import ILR_DROPOUTS, SEVERITIES
from kpitools.packs import register
from kpitools.packs.blocks import (
    KPI_TITLES,
    ROW_LIMIT,
    STYLE,
    Html,
    esc,
    kpi_label,
    kpi_order,
    percent,
    status_cell,
    table,
)
from kpitools.returns.contract import KPIS
from kpitools.worklists import BREACH_RISK

if TYPE_CHECKING:
    from kpitools.packs.context import PackContext
    from kpitools.packs.method import MethodSection
    from kpitools.rules import Rules


def status_matrix(ctx: PackContext) -> Html:
    """KPI (and engagement stage) × bootcamp status table, coloured, with values."""
    results = ctx.audit.kpi_results
    bootcamps = sorted({r.bootcamp_id for r in results} - {"ALL"}) + ["ALL"]
    rows_keys = sorted({(r.kpi, r.stage) for r in results}, key=kpi_order)
    lookup = {(r.kpi, r.stage, r.bootcamp_id): r for r in results}
    head = "".join(f"<th>{esc(b)}</th>" for b in bootcamps)
    lines = [f'{STYLE}<table class="kpi"><thead><tr><th>KPI</th>{head}</tr></thead><tbody>']
    for kpi, stage in rows_keys:
        cells = []
        for bootcamp in bootcamps:
            result = lookup.get((kpi, stage, bootcamp))
            if result is None:
                cells.append("<td></td>")
                continue
            shown = result.status.replace("_", " ")
            if result.value is not None:
                shown += f" · {percent(result.value)}"
            if result.unverified:
                shown += f" · {result.unverified} unverified"
            cells.append(status_cell(result.status, shown))
        lines.append(f"<tr><th>{esc(kpi_label(kpi, stage))}</th>{''.join(cells)}</tr>")
    lines.append("</tbody></table>")
    return Html("".join(lines))


def exception_counts(ctx: PackContext) -> Html:
    """Exceptions per KPI (and irregularities) by severity."""
    findings = ctx.audit.exceptions_frame()
    order = [*KPIS, "irregularity"]
    counts = (
        findings.groupby(["kpi", "severity"]).size().unstack(fill_value=0)
        if len(findings)
        else pd.DataFrame()
    )
    rows = []
    for kpi in order:
        by_severity = counts.loc[kpi] if kpi in counts.index else pd.Series(dtype=int)
        rows.append(
            {
                "KPI": KPI_TITLES.get(kpi, "Irregularities"),
                **{s: int(by_severity.get(s, 0)) for s in ("high", "medium", "low")},
                "total": int(by_severity.sum()) if len(by_severity) else 0,
            }
        )
    return table(pd.DataFrame(rows), limit=len(rows))


def headline(ctx: PackContext) -> Html:
    """Provider name, UKPRN, period and as_of as a definition list."""
    audit = ctx.audit
    items = {
        "Provider": audit.provider.provider_name,
        "Provider id": audit.provider_id,
        "UKPRN": audit.provider.ukprn or "not given",
        "Period": audit.period or ctx.params.resolved_period,
        "Measured as of": audit.as_of.isoformat(),
        "Personal data": "shown (include_pii)" if ctx.include_pii else "pseudonymised",
    }
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in items.items())
    notes = "".join(f"<li>{esc(n)}</li>" for n in audit.notes)
    return Html(
        f'{STYLE}<table class="kpi">{rows}</table>' + (f"<ul>{notes}</ul>" if notes else "")
    )


def kpi_figures(ctx: PackContext, kpi: str) -> Html:
    """The KPI's figure against its target, per bootcamp and for the provider; when some
    cases are unverified (evidence from the ILR, role type unknown), their count beside
    the figure and a note saying they are neither failed nor met."""
    results = [r for r in ctx.audit.kpi_results if r.kpi == kpi]
    if not results:
        return Html('<p class="note">No results for this KPI.</p>')
    unverified = any(r.unverified for r in results)
    rows = []
    for r in results:
        target = (
            ""
            if r.target is None
            else f"{'at most' if r.target_kind == 'max' else 'at least'} {percent(r.target)}"
        )
        rows.append(
            f"<tr><td>{esc(r.bootcamp_id)}</td><td>{esc(r.stage)}</td><td>{r.numerator}</td>"
            f"<td>{r.denominator}</td><td>{esc(percent(r.value))}</td>"
            + (f"<td>{r.unverified}</td>" if unverified else "")
            + f"<td>{esc(target)}</td>"
            f"{status_cell(r.status)}<td>{esc(r.due_date.isoformat() if r.due_date else '')}</td>"
            f"<td>{esc('; '.join(r.notes))}</td></tr>"
        )
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "bootcamp",
            "stage",
            "numerator",
            "denominator",
            "value",
            *(("unverified",) if unverified else ()),
            "target",
            "status",
            "due",
            "notes",
        )
    )
    note = (
        '<p class="note">Unverified: cases whose evidence comes from the ILR, which records '
        "the offer or outcome but not its role type nor whether it matches the skills "
        "(role type unknown, ILR). They are left out of numerator and denominator, neither "
        "failed nor met, and listed in the verification sample (worklist "
        "sample_unverified) to be checked with the provider.</p>"
        if unverified
        else ""
    )
    return Html(
        f'{STYLE}<table class="kpi"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}'
        f"</tbody></table>{note}"
    )


def exceptions(ctx: PackContext, kpi: str, *, limit: int = ROW_LIMIT) -> Html:
    """The cases of one KPI to follow up (or ``irregularity``), safe to show."""
    frame = by_severity(ctx.findings(kpi)).drop(columns=["provider_id", "kpi"])
    return Html(
        "<h3>Exceptions to follow up</h3>"
        + str(table(frame, limit=limit, more="in exceptions.xlsx, sheet Exceptions"))
    )


def informational(ctx: PackContext, *, limit: int = ROW_LIMIT) -> Html:
    """Cases reported for information and not flagged: career progression's due
    completers without any outcome while no progression target is set."""
    frame = register.informational(ctx)
    if frame.empty:
        return Html("")
    return Html(
        "<h3>For information: due completers without any outcome</h3>"
        '<p class="note">No progression target is set, so these are reported, not flagged: '
        "the register lists them apart from the exceptions.</p>"
        + str(
            table(
                frame.drop(columns=["kpi", "rule"]),
                limit=limit,
                more=f"in exceptions.xlsx, sheet {register.INFORMATIONAL_SHEET}",
            )
        )
    )


def by_severity(frame: pd.DataFrame) -> pd.DataFrame:
    """High severity first (stable), so a capped table keeps the most urgent cases."""
    if frame.empty:
        return frame
    rank = frame["severity"].map({s: i for i, s in enumerate(SEVERITIES)}).fillna(len(SEVERITIES))
    return frame.iloc[rank.argsort(kind="stable")].reset_index(drop=True)


def irregularities(ctx: PackContext, *, limit: int = ROW_LIMIT) -> Html:
    """Irregularities other than ILR reconciliation."""
    frame = by_severity(ctx.findings("irregularity"))
    frame = frame[~frame["rule"].astype(str).str.startswith("ILR-")]
    return table(frame.drop(columns=["provider_id", "kpi"]), limit=limit)


NO_ILR = "No ILR file supplied: the ILR was not read, so no DfE rule and no reconciliation"
"""What the ILR section says of a provider folder without ``ilr/*.xml``."""


def ilr_scope(ctx: PackContext) -> Html:
    """What the ILR review covered, or that no ILR file was supplied: the files used and
    superseded, the learners and bootcamps in scope, how many matched the datasheet."""
    scope = ctx.audit.ilr_scope
    if scope is None:
        return Html(f'<p class="note"><b>{esc(NO_ILR)}</b>.</p>')
    provider_ukprn = ctx.audit.provider.ukprn or "not given"
    rows = {
        "ILR files used (the current state of each collection year)": ", ".join(scope.files_used),
        "Superseded ILR files (read for when withdrawals were first reported)": ", ".join(
            scope.files_superseded
        )
        or "none",
        "UKPRN": f"{scope.ukprn or 'not given'} in the files; {provider_ukprn} in provider.csv",
        "Prepared up to": scope.as_known.isoformat() if scope.as_known else "",
        "Learners read": f"{scope.learners_read}, of whom {scope.bootcamp_learners} on a"
        f" Skills Bootcamp",
        "Bootcamps and learners in scope": f"{scope.bootcamps} bootcamp(s); {scope.mapped}"
        f" learner row(s) mapped, {scope.rejected} rejected",
    }
    if scope.reconciled:
        cutoff = scope.cutoff.isoformat() if scope.cutoff else "no cut-off"
        rows["Matched with the datasheet"] = (
            f"{scope.matched} learner(s) matched of {scope.datasheet_in_scope} in the"
            f" datasheet and {scope.ilr_in_scope} in the ILR (started from 1 August 2022 and"
            f" by {cutoff})"
        )
    else:
        rows["Matched with the datasheet"] = (
            "not reconciled: the return's learners come from the ILR itself"
        )
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows.items())
    return Html(f'{STYLE}<table class="kpi">{body}</table>')


def ilr_reconciliation(ctx: PackContext, *, limit: int = ROW_LIMIT) -> Html:
    """The ILR section: its scope first (:func:`ilr_scope`, or that no ILR file was
    supplied), then the findings from the ILR: DfE's bootcamp validation rules the files
    break (``ILR-R_152`` ...), kpitools' ILR rules (``ILR-UKPRN-MISMATCH``,
    ``ILR-REENROLLED``) and the datasheet / ILR reconciliation (``ILR-MISMATCH-*``);
    then every drop-out the ILR shows, with its withdrawal reason. A learner twice in an
    ILR file (DUP-ROW) is listed with the other irregularities."""
    html = str(ilr_scope(ctx))
    if ctx.audit.ilr_scope is None:
        return Html(html)
    frame = by_severity(ctx.findings("irregularity", rule_prefix="ILR-"))
    html += "<h3>Findings from the ILR</h3>"
    if frame.empty:
        html += '<p class="note">No ILR difference and no DfE rule broken.</p>'
    else:
        html += str(table(frame.drop(columns=["provider_id", "kpi"]), limit=limit))
    dropouts = ctx.worklists().get(ILR_DROPOUTS)
    if dropouts is not None:
        html += "<h3>Drop-outs in the ILR, with the withdrawal reason</h3>" + str(
            table(dropouts, limit=limit, more=f"in exceptions.xlsx, sheet {ILR_DROPOUTS[:31]}")
        )
    return Html(html)


def worklists(ctx: PackContext, *, limit: int = ROW_LIMIT) -> Html:
    """Every worklist the checks produced, one sub-section each, by name; the breach
    risk is shown beside the drop-out KPI instead (:func:`kpitools.packs.breach.breach_risk`), the ILR's
    drop-outs in the ILR section (:func:`ilr_reconciliation`)."""
    lists = {
        name: frame
        for name, frame in ctx.worklists().items()
        if name not in (BREACH_RISK, ILR_DROPOUTS)
    }
    parts = []
    if BREACH_RISK in ctx.audit.worklists:
        parts.append('<p class="note">Drop-out breach risk: see Learner drop-out.</p>')
    if not lists:
        return Html("".join(parts) + '<p class="note">No other worklists for this provider.</p>')
    for name, frame in lists.items():
        title = esc(str(name).replace("_", " ").capitalize())
        sheet = str(name)[:31]
        parts.append(
            f"<h3>{title}</h3>"
            f"{table(frame, limit=limit, more=f'in exceptions.xlsx, sheet {sheet}')}"
        )
    return Html("".join(parts))


def data_quality(ctx: PackContext) -> Html:
    """Rows read / accepted / rejected per table, with a check that nothing was lost."""
    rows = [
        {
            "table": c.table,
            "read": c.read,
            "accepted": c.accepted,
            "rejected": c.rejected,
            "balances": "yes" if c.balances else "NO",
        }
        for c in ctx.audit.provider.counts.values()
    ]
    warnings = "".join(f"<li>{esc(w)}</li>" for w in ctx.audit.provider.warnings)
    extra = f"<p>Warnings:</p><ul>{warnings}</ul>" if warnings else ""
    return Html(str(table(pd.DataFrame(rows), limit=len(rows) or 1)) + extra)


def rejected_rows(ctx: PackContext, *, limit: int = ROW_LIMIT) -> Html:
    """Rejected rows with their reasons (values that could be personal data withheld)."""
    frame = ctx.rejected()
    return table(frame, limit=limit, more="in rejected_rows.csv")


def provenance(ctx: PackContext) -> Html:
    """Input files with their role, SHA-256 and rows (the return, every ILR file used or
    superseded, the previous month's return), parameters, rules, versions and time."""
    inputs = pd.DataFrame(
        [
            {
                "file": i.path,
                "read as": i.role,
                "sha256": i.sha256,
                "bytes": i.size_bytes,
                "tables": ", ".join(i.tables),
                "rows": i.rows,
            }
            for i in ctx.audit.inputs()
        ]
    )
    # audit_path: a private temporary file, gone once the pack is built
    parameters = {
        k: v
        for k, v in ctx.params.notebook_parameters().items()
        if k not in ("rules", "audit_path")
    }
    rules = ctx.audit.rules.as_dict()
    settings = pd.DataFrame(
        [
            {"name": k, "value": "" if v is None else str(v)}
            for k, v in {**parameters, **{f"rules.{k}": v for k, v in rules.items()}}.items()
        ]
    )
    from kpitools.packs.outputs import package_versions  # the manifest's list, not a copy

    versions = pd.DataFrame([{"package": k, "version": v} for k, v in package_versions().items()])
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return Html(
        "<h3>Input files</h3>"
        + str(table(inputs, limit=500))
        + "<h3>Parameters and rules</h3>"
        + str(table(settings, limit=500))
        + "<h3>Versions</h3>"
        + str(table(versions, limit=50))
        + f'<p class="note">Pack generated at {esc(stamp)}.</p>'
    )


def method_section(rules: Rules, kpi: str) -> MethodSection | None:
    """The KPI's :class:`kpitools.packs.method.MethodSection` under ``rules``, if known."""
    from kpitools.packs.method import method_statement

    return next((section for section in method_statement(rules) if section.kpi == kpi), None)


def method(ctx: PackContext, kpi: str) -> Html:
    """The method statement of one KPI: target, population, formula, exclusions,
    statuses, the guidance it implements and the rules in force (changed ones marked)."""
    section = method_section(ctx.audit.rules, kpi)
    if section is None:
        return Html('<h3>Rules applied</h3><p class="note">No method statement available.</p>')
    rows = [("Target", section.target)] + [
        (label.capitalize(), getattr(section, label))
        for label in ("population", "formula", "exclusions", "statuses", "guidance")
    ]
    rows += [
        (
            f"Rule {t.name}",
            f"{t.value}" + (f" (default {t.default})" if t.changed else "") + f": {t.meaning}",
        )
        for t in section.thresholds
    ]
    rows.append(("Exception rule ids", ", ".join(section.rule_ids)))
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    return Html(
        f'<h3>Rules applied</h3>{STYLE}<p>{esc(section.title)}</p><table class="kpi">{body}</table>'
    )


def trend_note(ctx: PackContext) -> Html:
    """Which months the trends cover, and any month left out."""
    trends = ctx.trends
    if trends is None:
        return Html('<p class="note">Trends were not computed for this audit.</p>')
    periods = trends.periods
    text = (
        f"Each KPI of the provider at the end of each period found beside this one "
        f"(up to 12): {', '.join(periods)}. Points take the colour of the status then; "
        "the dashed line is the target."
    )
    if len(periods) < 2:
        text = f"Only this period ({', '.join(periods)}) was found: no trend yet."
    notes = "".join(f"<li>{esc(n)}</li>" for n in trends.notes)
    return Html(f'<p class="note">{esc(text)}</p>' + (f"<ul>{notes}</ul>" if notes else ""))
