"""The pack's sections other than the findings (:mod:`~kpitools.present.findings`) and the
breach risk (:mod:`~kpitools.present.breach`): tables with status colours.

Every function takes a :class:`~kpitools.present.context.PackContext` (or plain frames) and
returns a :class:`markupsafe.Markup` block (:mod:`kpitools.present.blocks`), which the
notebook displays with :func:`~kpitools.present.blocks.show`: every value put into it is
escaped, so a learner or employer named ``<script>alert(1)</script>`` appears as text.
Long lists are capped with a note pointing to ``exceptions.xlsx``. No KPI arithmetic
happens here: figures come from the audit (its :class:`~kpitools.model.KpiResult`
objects, worklists and trends).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pandas as pd
from markupsafe import Markup

from kpitools import layout
from kpitools.method import percent, target_text
from kpitools.model import ILR_DROPOUTS, OFF_COURSE, SEVERITIES, KpiResult
from kpitools.present.blocks import (
    EMPTY,
    ROW_LIMIT,
    STYLE,
    bullets,
    cell,
    figure_label,
    finding_titles,
    heading,
    html_table,
    kpi_label,
    kpi_order,
    note,
    row,
    status_cell,
    table,
)
from kpitools.privacy.pseudonym import key_fingerprint
from kpitools.returns.contract import PROFILE_KPIS
from kpitools.worklists import BREACH_RISK
from kpitools.worklists.followup import INFORMATIONAL_SHEET

if TYPE_CHECKING:
    from kpitools.method import MethodSection
    from kpitools.present.context import PackContext
    from kpitools.rules import Rules


def status_matrix(ctx: PackContext) -> Markup:
    """KPI (and engagement stage) × bootcamp status table, coloured, with values."""
    results = ctx.audit.kpi_results
    bootcamps = sorted({r.bootcamp_id for r in results} - {"ALL"}) + ["ALL"]
    rows_keys = sorted({(r.kpi, r.stage) for r in results}, key=kpi_order)
    lookup = {(r.kpi, r.stage, r.bootcamp_id): r for r in results}
    rows = []
    for kpi, stage in rows_keys:
        cells = []
        for bootcamp in bootcamps:
            result = lookup.get((kpi, stage, bootcamp))
            if result is None:
                cells.append(cell(""))
                continue
            shown = figure_label(result.status, result.value, open_short=result.open_short)
            if result.unverified:
                shown += f" · {result.unverified} unverified"
            cells.append(status_cell(result.status, shown))
        rows.append(row(cell(kpi_label(kpi, stage), "th"), *cells))
    return html_table(["KPI", *bootcamps], rows)


def exception_counts(ctx: PackContext) -> Markup:
    """Exceptions per KPI (and irregularities) by severity."""
    findings = ctx.audit.exceptions_frame()
    counts = (
        findings.groupby(["kpi", "severity"]).size().unstack(fill_value=0)
        if len(findings)
        else pd.DataFrame()
    )
    rows = []
    measured = {r.kpi for r in ctx.audit.kpi_results}
    for kpi, title in finding_titles(measured).items():
        by_severity = counts.loc[kpi] if kpi in counts.index else pd.Series(dtype=int)
        rows.append(
            {
                "KPI": title,
                **{s: int(by_severity.get(s, 0)) for s in ("high", "medium", "low")},
                "total": int(by_severity.sum()) if len(by_severity) else 0,
            }
        )
    return table(pd.DataFrame(rows), limit=len(rows))


def headline(ctx: PackContext) -> Markup:
    """Provider name, UKPRN, period, as_of and the rule profile as a definition list."""
    audit = ctx.audit
    items = {
        "Provider": audit.provider.provider_name,
        "Provider id": audit.provider_id,
        "UKPRN": audit.provider.ukprn or "not given",
        "Period": audit.period or ctx.params.resolved_period,
        "Measured as of": audit.as_of.isoformat(),
        "Rule profile": audit.rules.profile,
        "Personal data": "shown (include_pii)" if ctx.include_pii else "pseudonymised",
        "Pseudonym key": key_fingerprint(ctx.pseudonymiser.key),
    }
    rows = EMPTY.join(row(cell(k, "th"), v) for k, v in items.items())
    return STYLE + Markup('<table class="kpi">{}</table>').format(rows) + bullets(audit.notes)


def kpi_figures(ctx: PackContext, kpi: str) -> Markup:
    """The KPI's figure against its target, per bootcamp and for the provider; when some
    cases are unverified (evidence from the ILR, role type unknown), their count beside
    the figure and a note saying they are neither failed nor met."""
    results = [r for r in ctx.audit.kpi_results if r.kpi == kpi]
    if not results:
        return note("No results for this KPI.")
    unverified = any(r.unverified for r in results)
    rows = [
        row(
            r.bootcamp_id,
            r.stage,
            r.numerator,
            r.denominator,
            percent(r.value),
            *((r.unverified,) if unverified else ()),
            target_text(r.target, r.target_kind),
            status_cell(r.status, figure_label(r.status, None, open_short=r.open_short)),
            r.due_date.isoformat() if r.due_date else "",
            "; ".join(r.notes),
        )
        for r in results
    ]
    head = (
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
    shown = html_table(head, rows)
    shown += EMPTY.join(members(ctx, r) for r in results if r.status in OFF_COURSE)
    if unverified:
        shown += note(
            "Unverified: cases whose evidence comes from the ILR, which records the offer or "
            "outcome but not its role type nor whether it matches the skills (role type "
            "unknown, ILR). They are left out of numerator and denominator, neither failed "
            "nor met, and listed in the verification sample (worklist sample_unverified) to "
            "be checked with the provider."
        )
    return shown


MEMBER_LIMIT = 500
_SHORT_KPI = {
    "employer_engagement": "engagement",
    "employer_cofunding": "cofunding",
    "learner_dropout": "dropout",
    "new_skills": "skills",
    "guaranteed_interview": "interview",
    "career_progression": "progression",
    "referral": "referral",
}


def members_sheet_name(result: KpiResult) -> str:
    """The register sheet of a figure's members: ``Members <kpi> [<stage>] <bootcamp>``,
    cut to Excel's 31 characters (the register numbers a name already taken)."""
    stage = f" {result.stage}" if result.stage else ""
    kpi = _SHORT_KPI.get(result.kpi, result.kpi)
    return f"Members {kpi}{stage} {result.bootcamp_id}"[:31]


def members(ctx: PackContext, result: KpiResult, *, limit: int = MEMBER_LIMIT) -> Markup:
    """A figure's members under it, folded (``<details>``, no script): the drop-outs or
    failing cases first, then the rest of the population, then the cases the rule leaves
    out, each by pseudonym with its ``file:line`` and why it counts as it does."""
    frame = ctx.members(result)
    if frame.empty:
        return EMPTY
    order = frame.assign(
        _rank=frame["in_numerator"].eq("N").astype(int) + frame["in_population"].eq("N")
    ).sort_values("_rank", kind="stable")
    shown = order[["member", "in_numerator", "in_population", "reason", "source"]]
    where = f"kpi_members.csv and the register (sheet {members_sheet_name(result)})"
    summary = (
        f"{kpi_label(result.kpi, result.stage)}, {result.bootcamp_id}: "
        f"{int(frame['in_population'].eq('Y').sum())} in the population, "
        f"{int(frame['in_numerator'].eq('Y').sum())} in the numerator"
    )
    return Markup('<details class="members"><summary>{}</summary>{}</details>').format(
        summary, table(shown.reset_index(drop=True), limit=limit, more=f"in {where}")
    )


def exceptions(ctx: PackContext, kpi: str, *, limit: int = ROW_LIMIT) -> Markup:
    """The cases of one KPI to follow up (or ``irregularity``), safe to show."""
    frame = by_severity(ctx.findings(kpi)).drop(columns=["provider_id", "kpi"])
    return heading("Exceptions to follow up") + table(
        frame, limit=limit, more="in exceptions.xlsx, sheet Exceptions"
    )


def informational(ctx: PackContext, *, limit: int = ROW_LIMIT) -> Markup:
    """Cases reported for information and not flagged: career progression's due
    completers without any outcome while no progression target is set."""
    frame = ctx.informational()
    if frame.empty:
        return EMPTY
    return (
        heading("For information: due completers without any outcome")
        + note(
            "No progression target is set, so these are reported, not flagged: "
            "the register lists them apart from the exceptions."
        )
        + table(
            frame.drop(columns=["kpi", "rule"]),
            limit=limit,
            more=f"in exceptions.xlsx, sheet {INFORMATIONAL_SHEET}",
        )
    )


def by_severity(frame: pd.DataFrame) -> pd.DataFrame:
    """High severity first (stable), so a capped table keeps the most urgent cases."""
    if frame.empty:
        return frame
    rank = frame["severity"].map({s: i for i, s in enumerate(SEVERITIES)}).fillna(len(SEVERITIES))
    return frame.iloc[rank.argsort(kind="stable")].reset_index(drop=True)


def irregularities(ctx: PackContext, *, limit: int = ROW_LIMIT) -> Markup:
    """Irregularities other than ILR reconciliation."""
    frame = by_severity(ctx.findings("irregularity"))
    frame = frame[~frame["rule"].astype(str).str.startswith("ILR-")]
    return table(frame.drop(columns=["provider_id", "kpi"]), limit=limit)


NO_ILR = "No ILR file supplied: the ILR was not read, so no DfE rule and no reconciliation"
"""What the ILR section says of a provider folder without ``ilr/*.xml``."""


def ilr_scope(ctx: PackContext) -> Markup:
    """What the ILR review covered, or that no ILR file was supplied: the files used and
    superseded, the learners and bootcamps in scope, how many matched the datasheet."""
    scope = ctx.audit.ilr_scope
    if scope is None:
        return note(Markup("<b>{}</b>.").format(NO_ILR))
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
    body = EMPTY.join(row(cell(k, "th"), v) for k, v in rows.items())
    return STYLE + Markup('<table class="kpi">{}</table>').format(body)


def ilr_reconciliation(ctx: PackContext, *, limit: int = ROW_LIMIT) -> Markup:
    """The ILR section: its scope first (:func:`ilr_scope`, or that no ILR file was
    supplied), then the findings from the ILR: DfE's bootcamp validation rules the files
    break (``ILR-R_152`` ...), kpitools' ILR rules (``ILR-UKPRN-MISMATCH``,
    ``ILR-REENROLLED``) and the datasheet / ILR reconciliation (``ILR-MISMATCH-*``);
    then every drop-out the ILR shows, with its withdrawal reason. A learner twice in an
    ILR file (DUP-ROW) is listed with the other irregularities."""
    html = ilr_scope(ctx)
    if ctx.audit.ilr_scope is None:
        return html
    frame = by_severity(ctx.findings("irregularity", rule_prefix="ILR-"))
    html += heading("Findings from the ILR")
    if frame.empty:
        html += note("No ILR difference and no DfE rule broken.")
    else:
        html += table(frame.drop(columns=["provider_id", "kpi"]), limit=limit)
    dropouts = ctx.worklists().get(ILR_DROPOUTS)
    if dropouts is not None:
        html += heading("Drop-outs in the ILR, with the withdrawal reason") + table(
            dropouts, limit=limit, more=f"in exceptions.xlsx, sheet {ILR_DROPOUTS[:31]}"
        )
    return html


def worklists(ctx: PackContext, *, limit: int = ROW_LIMIT) -> Markup:
    """Every worklist the checks produced, one sub-section each, by name; the breach
    risk is shown beside the drop-out KPI instead (:func:`kpitools.present.breach.breach_risk`), the ILR's
    drop-outs in the ILR section (:func:`ilr_reconciliation`)."""
    lists = {
        name: frame
        for name, frame in ctx.worklists().items()
        if name not in (BREACH_RISK, ILR_DROPOUTS)
    }
    parts = []
    if BREACH_RISK in ctx.audit.worklists:
        parts.append(note("Drop-out breach risk: see Learner drop-out."))
    if not lists:
        return EMPTY.join([*parts, note("No other worklists for this provider.")])
    for name, frame in lists.items():
        title = str(name).replace("_", " ").capitalize()
        sheet = str(name)[:31]
        parts.append(
            heading(title) + table(frame, limit=limit, more=f"in exceptions.xlsx, sheet {sheet}")
        )
    return EMPTY.join(parts)


def data_quality(ctx: PackContext) -> Markup:
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
    warnings = bullets(ctx.audit.provider.warnings)
    extra = Markup("<p>Warnings:</p>") + warnings if warnings else EMPTY
    return table(pd.DataFrame(rows), limit=len(rows) or 1) + extra


def rejected_rows(ctx: PackContext, *, limit: int = ROW_LIMIT) -> Markup:
    """Rejected rows with their reasons (values that could be personal data withheld)."""
    frame = ctx.rejected()
    return table(frame, limit=limit, more="in rejected_rows.csv")


def provenance(ctx: PackContext) -> Markup:
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
        k: _shown_parameter(k, v)
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
    from kpitools.versions import package_versions  # the manifest's list, not a copy

    versions = pd.DataFrame([{"package": k, "version": v} for k, v in package_versions().items()])
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        heading("Input files")
        + table(inputs, limit=500)
        + heading("Parameters and rules")
        + table(settings, limit=500)
        + heading("Versions")
        + table(versions, limit=50)
        + note(f"Pack generated at {stamp}.")
    )


_FOLDERS = ("provider_dir", "previous_dir", "period_dir", "out_dir")


def _shown_parameter(name: str, value: object) -> object:
    """A parameter as a circulated pack shows it: folders from their period on,
    relative to DATA or OUT (:func:`kpitools.layout.shown_path`); the key file only as
    given or not (where it lives is nobody's business but the machine's)."""
    if name in _FOLDERS and value:
        return layout.shown_path(str(value))
    if name == "pseudonym_key_file":
        return "given" if value else ""
    return value


def method_section(rules: Rules, kpi: str) -> MethodSection | None:
    """The KPI's :class:`kpitools.method.MethodSection` under ``rules``, if known."""
    from kpitools.method import method_statement

    return next((section for section in method_statement(rules) if section.kpi == kpi), None)


def method(ctx: PackContext, kpi: str) -> Markup:
    """The method statement of one KPI: target, population, formula, exclusions,
    statuses, the guidance it implements and the rules in force (changed ones marked)."""
    section = method_section(ctx.audit.rules, kpi)
    if section is None:
        return heading("Rules applied") + note("No method statement available.")
    rows = [("Target", section.target)] + [
        (label.capitalize(), getattr(section, label))
        for label in ("population", "formula", "exclusions", "statuses", "guidance")
    ]
    rows += [
        (
            f"Rule {t.name}",
            f"{t.value}"
            + (f" (profile value {t.default})" if t.changed else "")
            + f": {t.meaning}",
        )
        for t in section.thresholds
    ]
    rows.append(("Exception rule ids", ", ".join(section.rule_ids)))
    body = EMPTY.join(row(cell(k, "th"), v) for k, v in rows)
    return (
        heading("Rules applied")
        + STYLE
        + Markup('<p>{}</p><table class="kpi">{}</table>').format(section.title, body)
    )


def profile_kpis(ctx: PackContext) -> Markup:
    """The KPIs the rule profile adds (``contract.PROFILE_KPIS``: completion, starts),
    one section each with its figures, exceptions and method; nothing under a profile
    that adds none (``dfe-2022-09``), so the guidance's pack is unchanged."""
    measured = {r.kpi for r in ctx.audit.kpi_results}
    return EMPTY.join(
        Markup('<h2 id="{}">{} (rule profile {})</h2>').format(
            kpi, kpi_label(kpi, ""), ctx.audit.rules.profile
        )
        + kpi_figures(ctx, kpi)
        + exceptions(ctx, kpi)
        + method(ctx, kpi)
        for kpi in PROFILE_KPIS
        if kpi in measured
    )


def trend_note(ctx: PackContext) -> Markup:
    """Which months the trends cover, and any month left out."""
    trends = ctx.trends
    if trends is None:
        return note("Trends were not computed for this audit.")
    periods = trends.periods
    text = (
        f"Each KPI of the provider at the end of each period found beside this one "
        f"(up to 12): {', '.join(periods)}. Points take the colour of the status then; "
        "the dashed line is the target; the latest figure is written beside its point. A "
        "panel marked 'axis zoomed' shows only the range of its figures and target (a "
        "target near 0 or 100 %), so that the gap to it shows."
    )
    if len(periods) < 2:
        text = f"Only this period ({', '.join(periods)}) was found: no trend yet."
    return note(text) + bullets(trends.notes)
