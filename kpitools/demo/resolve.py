"""Turn plant specs into the ground truth: row numbers per period, background findings
and the headline rates of the generated learners."""

from __future__ import annotations

from datetime import date

from kpitools.calendar import add_months, period_end
from kpitools.demo.plant import Planter
from kpitools.demo.snapshot import Tables, find_row
from kpitools.demo.truth import Expectation, GroundTruth, Hostile, PlantSpec, source_name
from kpitools.demo.world import LearnerLife, World


def resolve_truth(
    world: World, planter: Planter, returns: dict[str, dict[str, Tables]], fmt: str = "csv"
) -> GroundTruth:
    """The ground truth of ``world`` as written in ``returns`` (sources for ``fmt``).

    Raises:
        RuntimeError: a planted row is missing from a return (a generator bug).
    """
    periods = world.periods
    truth = GroundTruth(
        seed=world.seed,
        periods=list(periods),
        providers=[pw.provider_id for pw in world.providers],
        clean_providers=[pw.provider_id for pw in world.providers if pw.clean],
        fmt=fmt,
    )
    for spec in planter.specs:
        for index in spec.periods if spec.periods is not None else range(len(periods)):
            truth.expectations.append(_resolve(spec, periods, index, returns, fmt))
    for pw, table, column, value, match, entity, threat in planter.hostile:
        for period in periods:
            row = find_row(returns[period][pw.provider_id], table, match)
            truth.hostile.append(
                Hostile(
                    period,
                    pw.provider_id,
                    table,
                    column,
                    value,
                    row,
                    source_name(table, row, fmt),
                    entity,
                    threat,
                )
            )
    truth.background = _background(world, returns, fmt)
    truth.person_pairs = list(planter.person_pairs)
    truth.stats = learner_stats(world)
    return truth


def _resolve(
    spec: PlantSpec, periods: list[str], index: int, returns: dict[str, dict[str, Tables]], fmt: str
) -> Expectation:
    period = periods[index]
    tables = returns[period][spec.provider_id]
    row = find_row(tables, spec.table, spec.match) if spec.match is not None else None
    if spec.match is not None and row is None:
        raise RuntimeError(
            f"demo: planted {spec.plant} row not found in {period}/{spec.provider_id}"
        )
    previous_row = None
    if spec.previous_match is not None:
        previous = returns[periods[index - 1]][spec.provider_id]
        previous_row = find_row(previous, spec.table, spec.previous_match)
    return Expectation(
        period=period,
        provider_id=spec.provider_id,
        rule=spec.rule,
        kind=spec.kind,
        entity=spec.entity,
        bootcamp_id=spec.bootcamp_id,
        table=spec.table,
        row=row,
        source=source_name(spec.table, row, fmt),
        plant=spec.plant,
        note=spec.note,
        column=spec.column,
        value=spec.value,
        previous_row=previous_row,
        may_also=spec.may_also,
        alt_entities=spec.alt_entities,
    )


def _background(world: World, returns: dict[str, dict[str, Tables]], fmt: str) -> list[Expectation]:
    """Unplanted due completers without an outcome (providers other than the clean)."""
    found = []
    for period in world.periods:
        as_of = period_end(period)
        for pw in world.providers:
            tables = returns[period][pw.provider_id]
            for life in pw.learners:
                completion = life.row["completion_date"]
                if (
                    life.planted
                    or life.fate != "completed"
                    or life.success
                    or add_months(completion, 6) > as_of
                ):
                    continue
                match = {"learner_ref": life.ref, "bootcamp_id": life.bootcamp_id}
                row = find_row(tables, "learners", match)
                found.append(
                    Expectation(
                        period=period,
                        provider_id=pw.provider_id,
                        rule="CP-NO-OUTCOME",
                        kind="career_progression",
                        entity=f"learner:{life.ref}",
                        bootcamp_id=life.bootcamp_id,
                        table="learners",
                        row=row,
                        source=source_name("learners", row, fmt),
                        plant="background",
                        note="window closed without an outcome (not planted; referred)",
                    )
                )
    return found


def learner_stats(world: World) -> dict[str, float | int]:
    """Headline rates over every learner who has started by the last period's end."""
    lives = [life for pw in world.providers for life in pw.learners]
    starts = len(lives)
    closed = [life for life in lives if add_months(_end(world, life), 6) <= world.anchor_end]
    cohort = [life for life in lives if life.fate != "pre_m1_withdrawn"]

    def share(part: int, whole: int) -> float:
        return round(part / whole, 4) if whole else 0.0

    return {
        "learners": starts,
        "completion_rate": share(sum(x.fate == "completed" for x in lives), starts),
        "withdrawn_before_m1_rate": share(sum(x.fate == "pre_m1_withdrawn" for x in lives), starts),
        "dropout_rate_after_m1": share(sum(x.fate == "withdrawn" for x in cohort), len(cohort)),
        "co_funded_rate": share(sum(x.row["learner_type"] == "co-funded" for x in lives), starts),
        "self_employed_rate": share(
            sum(x.row["learner_type"] == "self-employed" for x in lives), starts
        ),
        "positive_outcome_rate_closed_windows": share(sum(x.success for x in closed), len(closed)),
        "learners_with_closed_windows": len(closed),
    }


def _end(world: World, life: LearnerLife) -> date:
    for pw in world.providers:
        for bootcamp in pw.bootcamps:
            if bootcamp["bootcamp_id"] == life.bootcamp_id:
                return bootcamp["end_date"]
    return period_end(world.periods[-1])  # unknown bootcamp (planted REF-BOOTCAMP)
