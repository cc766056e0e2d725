"""Properties over random returns: ALL pools the bootcamps, figures are sane, inputs stay."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kpi_frames import bootcamp, build, kpis_alone, learner

from kpitools.returns.contract import STATUSES
from kpitools.rules import Rules

_DAY0 = date(2023, 1, 1)
_POOLED_BY_LEARNER = {
    "learner_dropout",
    "new_skills",
    "guaranteed_interview",
    "career_progression",
    "referral",
}


def _day(offset: int | None) -> str:
    return "" if offset is None else (_DAY0 + timedelta(days=offset)).isoformat()


@st.composite
def learners(draw):
    rows = []
    for i in range(draw(st.integers(0, 12))):
        m1 = draw(st.one_of(st.none(), st.integers(5, 20)))
        end = draw(st.sampled_from(["withdrawn", "completed", "learning"]))
        finish = draw(st.integers(0, 120))
        rows.append(
            learner(
                f"L{i}",
                draw(st.sampled_from(["B1", "B2"])),
                m1=_day(m1),
                withdrawn=_day(finish) if end == "withdrawn" else "",
                completed=_day((m1 or 0) + 30 + finish) if end == "completed" and m1 else "",
                learner_type=draw(st.sampled_from(["independent", "self-employed"])),
            )
        )
    return rows


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=learners(), as_of_offset=st.integers(0, 400))
def test_provider_figure_pools_bootcamps(rows, as_of_offset):
    tables = build(bootcamps=[bootcamp("B1"), bootcamp("B2", end="2023-05-31")], learners=rows)
    before = {name: frame.copy() for name, frame in tables.items()}
    as_of = _DAY0 + timedelta(days=as_of_offset)
    results = kpis_alone(tables, as_of=as_of, rules=Rules())
    assert results == kpis_alone(tables, as_of=as_of, rules=Rules())  # deterministic
    for name, frame in tables.items():
        assert frame.equals(before[name])
    for result in results:
        assert 0 <= result.numerator <= result.denominator
        assert result.status in STATUSES
    for kpi in _POOLED_BY_LEARNER:
        rows_of = [r for r in results if r.kpi == kpi]
        pooled = rows_of[-1]
        assert pooled.bootcamp_id == "ALL"
        assert pooled.numerator == sum(r.numerator for r in rows_of[:-1])
        assert pooled.denominator == sum(r.denominator for r in rows_of[:-1])
    refs = {r["learner_ref"] for r in rows}
    for finding in (f for r in results for f in r.exceptions):
        if finding.entity.startswith("learner:"):
            assert finding.entity.removeprefix("learner:") in refs
