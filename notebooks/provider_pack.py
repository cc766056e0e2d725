# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
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
period = "2023-03"
as_of = ""
previous_dir = ""  # blank: the same provider's previous month beside provider_dir
include_pii = False
rules = {}
audit_path = ""
pseudonym_key_file = ""

# %%
# One cell per section (every cell costs time when a batch builds packs): report.show
# puts a section's tables and charts into one output, charts as embedded PNG.
from kpitools.packs import findings, plots, report
from kpitools.packs.context import load_context

ctx = load_context(
    provider_dir=provider_dir,
    out_dir=out_dir,
    period=period,
    as_of=as_of,
    previous_dir=previous_dir,
    include_pii=include_pii,
    rules=rules,
    audit_path=audit_path,
    pseudonym_key_file=pseudonym_key_file,
)

# %% [markdown]
# ## Findings

# %%
report.show(report.headline(ctx), findings.findings_first(ctx))

# %% [markdown]
# ## Trends

# %%
report.show(plots.kpi_trends(ctx.trends), report.trend_note(ctx))

# %% [markdown]
# ## KPI status

# %%
report.show(report.status_matrix(ctx), report.exception_counts(ctx))

# %% [markdown]
# ## Employer engagement

# %%
report.show(
    report.kpi_figures(ctx, "employer_engagement"),
    plots.satisfaction_distribution(ctx.audit),
    report.exceptions(ctx, "employer_engagement"),
    report.method(ctx, "employer_engagement"),
)

# %% [markdown]
# ## Employer co-funding

# %%
report.show(
    report.kpi_figures(ctx, "employer_cofunding"),
    plots.due_vs_paid(report.cofunding_due_vs_paid(ctx), tolerance=ctx.audit.rules.payment_tolerance),
    report.exceptions(ctx, "employer_cofunding"),
    report.method(ctx, "employer_cofunding"),
)

# %% [markdown]
# ## Learner drop-out

# %%
report.show(
    report.kpi_figures(ctx, "learner_dropout"),
    plots.dropout_by_bootcamp(ctx.audit),
    report.breach_risk(ctx),
    plots.dropout_trend(ctx.trends),
    report.exceptions(ctx, "learner_dropout"),
    report.method(ctx, "learner_dropout"),
)

# %% [markdown]
# ## New skills

# %%
report.show(
    report.kpi_figures(ctx, "new_skills"),
    report.exceptions(ctx, "new_skills"),
    report.method(ctx, "new_skills"),
)

# %% [markdown]
# ## Guaranteed interview

# %%
report.show(
    report.kpi_figures(ctx, "guaranteed_interview"),
    plots.kpi_funnel(ctx.audit, "guaranteed_interview", ("completers", "want an interview", "valid interview offer")),
    report.exceptions(ctx, "guaranteed_interview"),
    report.method(ctx, "guaranteed_interview"),
)

# %% [markdown]
# ## Career progression

# %%
report.show(
    report.kpi_figures(ctx, "career_progression"),
    plots.kpi_funnel(ctx.audit, "career_progression", ("completers", "window closed", "valid outcome")),
    report.exceptions(ctx, "career_progression"),
    report.informational(ctx),
    report.method(ctx, "career_progression"),
)

# %% [markdown]
# ## Referral to alternative opportunities

# %%
report.show(
    report.kpi_figures(ctx, "referral"),
    report.exceptions(ctx, "referral"),
    report.method(ctx, "referral"),
)

# %% [markdown]
# ## Irregularities

# %%
report.irregularities(ctx)

# %% [markdown]
# ## ILR reconciliation

# %%
report.ilr_reconciliation(ctx)

# %% [markdown]
# ## Worklists

# %%
report.worklists(ctx)

# %% [markdown]
# ## Data quality

# %%
report.show(report.data_quality(ctx), report.rejected_rows(ctx))

# %% [markdown]
# ## Provenance

# %%
report.provenance(ctx)
