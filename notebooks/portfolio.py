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
# # Skills Bootcamps KPI audit: portfolio overview
#
# Every provider of the period: what changed since last month, the status of each KPI
# for the provider as a whole, links to its audit pack, register and PDF, its exceptions,
# and the packs that failed with the reason.

# %% tags=["parameters"]
summary_path = "../out/demo/2023-03/.portfolio.json"

# %%
# every section is displayed by blocks.show (its escaped HTML, markupsafe.Markup)
from kpitools.present import blocks, portfolio

summary = portfolio.load_summary(summary_path)

# %% [markdown]
# ## What changed
#
# Start here: what is new, recurring, resolved and reopened since last month's registers, which KPI statuses got worse or better, and how many providers are in breach now.

# %%
blocks.show(portfolio.overview(summary), portfolio.what_changed(summary))

# %% [markdown]
# ## Overview
#
# Look for the providers with KPIs off track or not met, and open their packs from the links.

# %%
blocks.show(portfolio.provider_matrix(summary))

# %% [markdown]
# ## Since last month, per provider
#
# Look for reopened and long-open exceptions, KPIs that got worse, and the high findings; open the pack's section, the register or the PDF from the links.

# %%
blocks.show(portfolio.since_last_month(summary))

# %% [markdown]
# ## Providers in breach, month by month
#
# Look for KPIs whose number of providers in breach grows from month to month.

# %%
blocks.show(portfolio.breach_chart(summary))

# %% [markdown]
# ## Exceptions per provider
#
# Look for the providers with the most exceptions to follow up, high severity first.

# %%
blocks.show(portfolio.exceptions_per_provider(summary))

# %% [markdown]
# ## Failed packs
#
# Check that no pack failed and no provider folder was skipped or left stale: each names the reason.

# %%
blocks.show(portfolio.failures(summary))

# %% [markdown]
# ## Cross-provider duplicates
#
# Look for the same learner (one ULN, or one person matched on name, birth date, postcode and NI number) on overlapping bootcamps or starting again, at one provider or at two, shown pseudonymised.

# %%
blocks.show(portfolio.duplicates(summary))
