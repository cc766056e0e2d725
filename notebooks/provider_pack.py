# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Skills Bootcamps KPI audit pack
#
# One provider, one reporting period. Figures, statuses and exceptions are computed by
# kpitools from the provider's monthly return; this notebook only presents them.
# Learners appear as a keyed pseudonym and the row of the return that holds them
# (`L-3f9a0c21d7 at learners.csv:14`); names and ULNs only when the pack was built with
# `include_pii`.

# %% tags=["parameters"]
provider_dir = "../data/demo/2023-03/P001"
out_dir = "../out/demo/2023-03/P001"  # blank: derived from provider_dir (kpitools.layout)
period = ""  # blank: the name of the period folder holding provider_dir
as_of = ""
previous_dir = ""  # blank: the same provider's previous month beside provider_dir
period_dir = ""  # DATA/PERIOD: run the cross-provider checks against its other providers
include_pii = False
profile = ""  # blank: dfe-2022-09, the guidance (kpitools.profiles)
rules = {}
audit_path = ""
pseudonym_key_file = ""
requested_by = ""
reply_by = ""
evidence_reply = ""

# %%
# One cell per section (every cell costs time when a batch builds packs): blocks.show
# puts a section's tables and charts into one output, charts as embedded PNG
# (plots.chart: the charts of plots.PACK_CHARTS, drawn by the runner or here); every
# section ends with it, which displays the section's escaped HTML (markupsafe.Markup).
from kpitools import load_context
from kpitools.present import blocks, breach, findings, plots, report

ctx = load_context(
    provider_dir=provider_dir,
    out_dir=out_dir,
    period=period,
    as_of=as_of,
    previous_dir=previous_dir,
    period_dir=period_dir,
    include_pii=include_pii,
    profile=profile,
    rules=rules,
    audit_path=audit_path,
    pseudonym_key_file=pseudonym_key_file,
    requested_by=requested_by,
    reply_by=reply_by,
    evidence_reply=evidence_reply,
)

# %% [markdown]
# ## Findings
#
# Start here: which KPIs of the provider and of its bootcamps are off track or not met, and which exceptions are new or resolved since last month's register.

# %%
blocks.show(report.headline(ctx), findings.findings_first(ctx))

# %% [markdown]
# ## Trends
#
# Look for a KPI moving towards or away from its target month by month, and for any month left out of the trend.

# %%
blocks.show(plots.chart(ctx, "kpi_trends"), report.trend_note(ctx))

# %% [markdown]
# ## KPI status
#
# Look for the red and amber cells (KPIs off track or not met, per bootcamp) and for the KPIs where the exceptions to follow up pile up.

# %%
blocks.show(report.status_matrix(ctx), report.exception_counts(ctx))

# %% [markdown]
# ## Employer engagement
#
# Look for bootcamps whose reached employers fail a stage (design, delivery, post) and for low satisfaction scores.

# %%
blocks.show(
    report.kpi_figures(ctx, "employer_engagement"),
    plots.chart(ctx, "satisfaction_distribution"),
    report.exceptions(ctx, "employer_engagement"),
    report.method(ctx, "employer_engagement"),
)

# %% [markdown]
# ## Employer co-funding
#
# Look for employers whose payments fall short of the contribution due (red bars) and the learners behind each shortfall.

# %%
blocks.show(
    report.kpi_figures(ctx, "employer_cofunding"),
    plots.chart(ctx, "cofunding_due_vs_paid"),
    report.exceptions(ctx, "employer_cofunding"),
    report.method(ctx, "employer_cofunding"),
)

# %% [markdown]
# ## Learner drop-out
#
# Look for bootcamps above the drop-out limit, running bootcamps likely to end above it, and withdrawals reported late.

# %%
blocks.show(
    report.kpi_figures(ctx, "learner_dropout"),
    plots.chart(ctx, "dropout_by_bootcamp"),
    breach.breach_risk(ctx),
    plots.chart(ctx, "dropout_trend"),
    report.exceptions(ctx, "learner_dropout"),
    report.method(ctx, "learner_dropout"),
)

# %% [markdown]
# ## New skills
#
# Look for completers without an initial assessment by M1 or without an achieved final assessment before completion.

# %%
blocks.show(
    report.kpi_figures(ctx, "new_skills"),
    report.exceptions(ctx, "new_skills"),
    report.method(ctx, "new_skills"),
)

# %% [markdown]
# ## Guaranteed interview
#
# Look for completers who wanted an interview but have no valid offer by completion.

# %%
blocks.show(
    report.kpi_figures(ctx, "guaranteed_interview"),
    plots.chart(ctx, "interview_funnel"),
    report.exceptions(ctx, "guaranteed_interview"),
    report.method(ctx, "guaranteed_interview"),
)

# %% [markdown]
# ## Career progression
#
# Look for completers whose outcome window has closed without a valid outcome, and the cases listed for information only.

# %%
blocks.show(
    report.kpi_figures(ctx, "career_progression"),
    plots.chart(ctx, "progression_funnel"),
    report.exceptions(ctx, "career_progression"),
    report.informational(ctx),
    report.method(ctx, "career_progression"),
)

# %% [markdown]
# ## Referral to alternative opportunities
#
# Look for unsuccessful learners who were not referred to alternative opportunities within the month allowed.

# %%
blocks.show(
    report.kpi_figures(ctx, "referral"),
    report.exceptions(ctx, "referral"),
    report.method(ctx, "referral"),
)

# %%
# The KPIs a rule profile adds (completion, starts under dfe-2025-extension), each with
# its own heading; nothing under the guidance's profile.
blocks.show(report.profile_kpis(ctx))

# %% [markdown]
# ## Irregularities
#
# Look for signs that the return cannot be taken at face value: duplicates, impossible date orders, missing evidence, unknown employers, restated records.

# %%
blocks.show(report.irregularities(ctx))

# %% [markdown]
# ## ILR reconciliation
#
# Look for learners whose datasheet and ILR records disagree, DfE rules the ILR breaks, and the drop-outs the ILR shows with their reason.

# %%
blocks.show(report.ilr_reconciliation(ctx))

# %% [markdown]
# ## Worklists
#
# Use these lists to choose what to verify with the provider: the samples to check against evidence and the exceptions left open longest.

# %%
blocks.show(report.worklists(ctx))

# %% [markdown]
# ## Data quality
#
# Check that every row read was accepted or rejected (nothing lost) and why rows were rejected.

# %%
blocks.show(report.data_quality(ctx), report.rejected_rows(ctx))

# %% [markdown]
# ## Provenance
#
# Confirm which input files (by checksum), parameters, rules and versions produced this pack.

# %%
blocks.show(report.provenance(ctx))
