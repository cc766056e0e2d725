# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Skills Bootcamps KPI audit: portfolio overview
#
# Every provider of the period: the status of each KPI for the provider as a whole,
# a link to its audit pack, its exceptions, and the packs that failed with the reason.

# %% tags=["parameters"]
summary_path = "../out/demo/2023-03/.portfolio.json"

# %%
from kpitools.packs import portfolio

summary = portfolio.load_summary(summary_path)

# %% [markdown]
# ## Overview

# %%
portfolio.headline(summary)

# %%
portfolio.status_matrix(summary)

# %% [markdown]
# ## Exceptions per provider

# %%
portfolio.exception_counts(summary)

# %% [markdown]
# ## Failed packs

# %%
portfolio.failures(summary)

# %% [markdown]
# ## Cross-provider duplicates

# %%
portfolio.duplicates(summary)
