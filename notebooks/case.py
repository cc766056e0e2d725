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
# # Case file
#
# One learner, employer, bootcamp or provider gathered across the months of a provider's
# returns: its rows in every table month by month, its ILR record, every finding about
# it with its register history, the KPI figures it counts in, and what the auditor
# wrote. `kpitools case` builds it; this notebook only presents it. Learners appear as a
# keyed pseudonym and the row of the return that holds them; names and ULNs only when
# built with `include_pii`.

# %% tags=["parameters"]
out = "../out/demo"
period = "2023-03"
provider_id = "P002"
learner = "001002"  # exactly one of learner, employer, exception
employer = ""
exception = ""
include_pii = False
case_path = ""  # blank: gathered here, from the audit store and the returns
pseudonym_key_file = ""

# %%
# the case as kpitools case saved it, or gathered here (JupyterLab)
from kpitools.present import blocks
from kpitools.present import case as show

case = show.open_case(
    out,
    period,
    provider_id,
    learner=learner,
    employer=employer,
    exception=exception,
    include_pii=include_pii,
    case_path=case_path,
    pseudonym_key_file=pseudonym_key_file,
)
blocks.show(show.summary(case))

# %% [markdown]
# ## Rows, month by month
#
# Look for the values marked *changed*: a restatement, a date moved, a payment changed, a
# row gone. Each month's `file:line` is the row of that month's return.

# %%
blocks.show(show.month_rows(case))

# %% [markdown]
# ## ILR record
#
# Where the learner is in the period's ILR files, each aim as the file writes it, and the
# values the audit compared with the datasheet (a disagreement is an ILR-MISMATCH finding).

# %%
blocks.show(show.ilr(case))

# %% [markdown]
# ## Findings and their register history
#
# Every finding about it, month by month, at this provider and at others, and what
# was done about each: its status in each month's register, and when each value an
# auditor changed was saved and read back (what was typed: the case workbook).

# %%
blocks.show(show.findings(case))

# %% [markdown]
# ## KPI figures it counts in
#
# Each KPI figure, month by month, whose population holds it: counted in the numerator,
# in the population only, or left out of it, in the rule's words, with its rows.

# %%
blocks.show(show.members(case))

# %% [markdown]
# ## The auditor's notes
#
# Which of the allegation, the work done and the conclusion are written in the case
# workbook (their text stays there, a working file).

# %%
blocks.show(show.auditor(case))

# %% [markdown]
# ## Explore
#
# In JupyterLab: the audit store's tables, and the period's returns as the audit reads
# them, as pandas frames for questions no check anticipated (docs/investigate.md).

# %%
import duckdb
import pandas as pd

from kpitools import load_provider
from kpitools.layout import provider_folders

with duckdb.connect(f"{out}/kpitools.duckdb", read_only=True) as store:
    findings = store.sql("SELECT * FROM findings").df()
    learner_facts = store.sql("SELECT * FROM learner_facts").df()
    kpi_results = store.sql("SELECT * FROM kpi_results").df()
    register_rows = store.sql("SELECT * FROM register_rows").df()
    register_events = store.sql("SELECT * FROM register_events").df()
returns = {f.name: load_provider(f) for f in provider_folders(f"{case.data_root}/{period}")}
learners = pd.concat(r.tables["learners"].assign(provider_id=p) for p, r in returns.items())
employers = pd.concat(r.tables["employers"].assign(provider_id=p) for p, r in returns.items())
