"""Every KPI figure opens to its members: they number its numerator and denominator,
exactly, measured alone or with the whole period (issue 26)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from kpitools.audit import audit_period
from kpitools.calendar import period_end
from kpitools.kpis.members import KPI_MEMBER_COLUMNS, figure_members, figures_of, kpi_members
from kpitools.model import ProviderAudit
from kpitools.profiles import load_profile

NATIONAL = Path(__file__).resolve().parents[2] / "benchmarks" / "_data" / "national" / "2023-03"


@pytest.fixture(scope="module")
def march(demo_dir) -> dict[str, ProviderAudit]:
    root, _ = demo_dir
    return audit_period(root / "2023-03", as_of=period_end("2023-03"))


def _mismatches(audit: ProviderAudit) -> list[str]:
    """The figures whose members do not add up to their counts."""
    wrong = []
    for result in audit.kpi_results:
        members = result.members
        counted = (int(members.in_population.sum()), int(members.in_numerator.sum()))
        if counted != (result.denominator, result.numerator):
            wrong.append(
                f"{audit.provider_id} {result.kpi} {result.stage} {result.bootcamp_id}: "
                f"members {counted}, figure {(result.denominator, result.numerator)}"
            )
        if (members.in_numerator & ~members.in_population).any():
            wrong.append(
                f"{audit.provider_id} {result.kpi} {result.bootcamp_id}: numerator outside"
            )
    return wrong


def test_p005_bc02_dropout_opens_to_its_49_learners_and_15_dropouts(march):
    audit = march["P005"]
    members = figure_members(audit.kpi_results, "learner_dropout", "P005-BC02").frame()
    # the figure of the issue: drop-out 15 of 49 (30.6 %, not met)
    population = members.loc[members["in_population"]]
    assert len(population) == 49
    assert int(population["in_numerator"].sum()) == 15
    assert population["member"].str.match(r"learner:\S+$").all()
    assert population["source"].str.match(r"learners\.csv:\d+$").all()
    dropouts = population.loc[population["in_numerator"], "reason"]
    assert set(dropouts) == {"withdrew on or after M1: a drop-out"}
    # withdrawals before M1 are members the rule leaves out, with its words
    early = members.loc[~members["in_population"]]
    assert set(early["reason"]) <= {"withdrew before M1: recorded, but not part of the KPI"}
    # one drop-out's figures: the bootcamp's and the provider's, in each numerator
    dropout = population.loc[population["in_numerator"], "member"].iloc[0]
    counted = figures_of(audit, dropout)
    mine = counted.loc[counted["kpi"].eq("learner_dropout")]
    assert mine[["bootcamp_id", "in_numerator"]].values.tolist() == [
        ["P005-BC02", True],
        ["ALL", True],
    ]


def test_every_figure_of_the_demo_numbers_its_members(demo_dir):
    root, truth = demo_dir
    figures = 0
    for period in ("2023-01", "2023-02", "2023-03"):
        for audit in audit_period(root / period, as_of=period_end(period)).values():
            assert _mismatches(audit) == []
            figures += len(audit.kpi_results)
            frame = kpi_members(audit)
            assert tuple(frame.columns) == KPI_MEMBER_COLUMNS
            assert len(frame) == sum(len(r.members) for r in audit.kpi_results)
    assert figures > 500


def test_the_extension_profiles_figures_number_their_members_too(demo_dir):
    # starts and completion are measured only under dfe-2025-extension: a start is a
    # learner, a planned place without a start its bootcamp's row
    root, _ = demo_dir
    rules = load_profile("dfe-2025-extension").rules
    audits = audit_period(root / "2023-03", as_of=period_end("2023-03"), rules=rules)
    wrong = [line for audit in audits.values() for line in _mismatches(audit)]
    assert wrong == []
    frame = pd.concat([kpi_members(a) for a in audits.values()], ignore_index=True)
    starts = frame.loc[frame["kpi"].eq("starts")]
    assert starts["member"].str.match(r"(learner|bootcamp):\S").all() and len(starts)
    places = starts.loc[starts["member"].str.startswith("bootcamp:")]
    assert places["source"].str.match(r"bootcamps\.csv:\d+$").all()
    assert len(frame.loc[frame["kpi"].eq("completion")])


def test_members_name_every_case_with_its_rows(march):
    frame = kpi_members(march["P001"])
    assert frame["member"].str.match(r"(learner|employer):\S").all()
    assert frame["source"].str.match(r"[\w./-]+:\d+").all()
    assert frame["reason"].str.len().gt(0).all()
    # a co-funding employer rests on its learners, its own row, the bootcamps' and payments
    cofunding = frame.loc[frame["kpi"].eq("employer_cofunding") & frame["in_population"]]
    assert cofunding["source"].str.contains("employers.csv:").all()
    assert cofunding["source"].str.contains("bootcamps.csv:").all()


@pytest.mark.slow
@pytest.mark.skipif(
    not (NATIONAL / "P200").is_dir() and not os.environ.get("KPITOOLS_NATIONAL"),
    reason="the national data set is generated by `make bench` (benchmarks/run.py)",
)
def test_every_figure_of_the_national_period_numbers_its_members():
    audits = audit_period(NATIONAL, as_of=period_end("2023-03"), workers=2)
    wrong = [line for audit in audits.values() for line in _mismatches(audit)]
    assert wrong == []
    assert sum(len(a.kpi_results) for a in audits.values()) > 5_000
