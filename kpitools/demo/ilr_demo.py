"""The demo's ILR files: for some providers, one ILR file per month in
``DATA/<period>/<provider>/ilr/`` (every month's file so far, as a provider keeps them),
with ILR-MISMATCH-* disagreements planted and recorded in the ground truth.

Each month's ILR says what the accepted datasheet of that month says (the return is
read back with the real loader, so rows the loader rejects are not in the ILR either;
learners who started before 1 August 2022, when bootcamps entered the ILR, are not in
it either), except for the planted disagreements, one learner each:

=====================================  ===============================================
rule                                   what the ILR says differently
=====================================  ===============================================
ILR-MISMATCH-MISSING-IN-ILR            the learner is left out
ILR-MISMATCH-MISSING-IN-DATASHEET      an extra learner the datasheet does not have
ILR-MISMATCH-START-DATE                start 7 days later
ILR-MISMATCH-WITHDRAWN                 a completer recorded as withdrawn
ILR-MISMATCH-WITHDRAWAL-DATE           withdrawal 3 days earlier
ILR-MISMATCH-COMPLETION-DATE           completion 4 days earlier
ILR-MISMATCH-COFUNDING                 a co-funded learner recorded as fully funded
ILR-MISMATCH-SME                       an SME's co-funded learner with a large employer
=====================================  ===============================================

The clean provider(s) get ILR files with no disagreement at all. Periods of a
collection year the reader does not accept (from August 2026: kpitools has no DfE
schema for 2026-27) get no ILR files, and a warning says so. A datasheet completer
without evidence on or before completion is given an interview-offer event aim on its
completion date in the ILR (the ILR cannot record a completion without an event), so
that only the planted cases disagree.
"""

from __future__ import annotations

import logging
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from kpitools.calendar import period_end
from kpitools.demo.ilr_writer import collection_year, namespace_for, write_ilr
from kpitools.demo.truth import Expectation
from kpitools.demo.world import new_uln
from kpitools.errors import ParameterError
from kpitools.ilr.events import BOOTCAMPS_IN_ILR_FROM
from kpitools.load import load_provider

log = logging.getLogger(__name__)

ILR_SLOTS = (1, 3)  # planted providers (P002, P004 by default) that also send ILR files
EXTRA_REF = "ILR900001"  # the learner only the ILR has
Frames = dict[str, pd.DataFrame]


@dataclass(frozen=True)
class IlrPlant:
    """One planted disagreement: which learner, and how the ILR tables change."""

    rule: str
    learner_ref: str
    bootcamp_id: str
    note: str
    change: Callable[[Frames], None]


def write_demo_ilr(
    out: Path, periods: list[str], providers: list[str], clean: list[str], seed: int
) -> list[Expectation]:
    """Write the ILR files of the demo written under ``out`` and return the ground truth
    of the planted disagreements (one expectation per plant and period)."""
    chosen = [p for i, p in enumerate(providers) if i in ILR_SLOTS and p not in clean]
    chosen += list(clean)
    expectations: list[Expectation] = []
    readable = [p for p in periods if _ilr_year_written(p)]
    for provider_id in chosen:
        monthly = {period: _frames(out / period / provider_id) for period in periods}
        plants = [] if provider_id in clean else _plan(monthly, periods, seed, provider_id)
        ukprn = str(monthly[periods[0]]["provider"]["ukprn"].iloc[0])
        written: dict[str, Path] = {}  # a month's file: the same in every later period
        for index, period in enumerate(periods):
            if period not in readable:
                continue
            folder = out / period / provider_id / "ilr"
            for month in periods[: index + 1]:
                if month not in readable:  # a year no DfE schema covers: no file for it
                    continue
                if month in written:
                    folder.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(written[month], folder / written[month].name)
                    continue
                prepared = datetime.combine(period_end(month), datetime.min.time()).replace(hour=18)
                written[month] = write_ilr(
                    folder, _ilr_tables(monthly[month], plants), ukprn=ukprn, prepared=prepared
                )
            expectations += [
                _expect(plant, period, provider_id, monthly[period]) for plant in plants
            ]
        log.info("demo ILR: %s, %d plants, %d months", provider_id, len(plants), len(periods))
    return expectations


def _ilr_year_written(period: str) -> bool:
    """Whether the period's ILR collection year can be written (and read back)."""
    year = collection_year(period_end(period))
    try:
        namespace_for(year)
    except ParameterError as error:
        log.warning("demo: no ILR files for %s: %s", period, error)
        return False
    return True


def _frames(folder: Path) -> Frames:
    provider = load_provider(folder)
    return {
        name: provider.tables[name]
        for name in ("provider", "bootcamps", "employers", "learners", "interviews", "outcomes")
    }


def _ilr_tables(frames: Frames, plants: list[IlrPlant]) -> Frames:
    tables = {name: frame.copy() for name, frame in frames.items()}
    learners = tables["learners"]
    tables["learners"] = learners[
        learners["start_date"] >= pd.Timestamp(BOOTCAMPS_IN_ILR_FROM)
    ].assign(given_name=None, family_name=None)
    evidence_for_completers(tables)
    for plant in plants:
        plant.change(tables)
    return tables


def evidence_for_completers(tables: Frames) -> None:
    """An interview offer on the completion date for completers with no event by then."""
    learners, interviews = tables["learners"], tables["interviews"]
    outcomes = tables["outcomes"]
    plans = outcomes[outcomes["outcome_type"] == "self_employment_plan"]
    # each learner's first offer and first self-employment plan: an event by the
    # completion date is one on or before it
    first_offer = _first(interviews, "offer_date")
    first_plan = _first(plans, "outcome_date")
    added = []
    for row in learners[learners["completion_date"].notna()].itertuples(index=False):
        done, key = row.completion_date, (row.learner_ref, row.bootcamp_id)
        mine = key in first_offer and first_offer[key] <= done
        plan = key in first_plan and first_plan[key] <= done
        evidence = pd.notna(row.new_role_evidence_date) and row.new_role_evidence_date <= done
        if not (mine or plan or evidence):
            added.append(
                {"learner_ref": row.learner_ref, "bootcamp_id": row.bootcamp_id, "offer_date": done}
            )
    if added:
        tables["interviews"] = pd.concat([interviews, pd.DataFrame(added)], ignore_index=True)


def _first(frame: pd.DataFrame, column: str) -> dict[tuple[object, object], pd.Timestamp]:
    """The earliest ``column`` date of each (learner_ref, bootcamp_id) that has one."""
    dated = frame[frame[column].notna()]
    return dated.groupby(["learner_ref", "bootcamp_id"])[column].min().to_dict()


def _plan(
    monthly: dict[str, Frames], periods: list[str], seed: int, provider_id: str
) -> list[IlrPlant]:
    """One learner per rule, present and unchanged in every month's datasheet."""
    rng = random.Random(f"{seed}:{provider_id}:ilr")
    stable = _stable_learners(monthly, periods)
    first_end = pd.Timestamp(period_end(periods[0]))
    employers = monthly[periods[-1]]["employers"]
    sme = set(employers.loc[employers["employee_count"] < 250, "employer_id"].astype(str))
    used: set[str] = set()
    rows = [row for _, row in stable.iterrows()]

    def pick(condition: Callable[[pd.Series], bool]) -> pd.Series | None:
        pool = [
            row
            for row in rows
            if row.learner_ref not in used
            and condition(row)
            and row.start_date >= pd.Timestamp(BOOTCAMPS_IN_ILR_FROM)
        ]
        if not pool:
            return None
        row = rng.choice(pool)
        used.add(str(row.learner_ref))
        return row

    plants: list[IlrPlant] = []
    # (which learner fits, how its ILR differs), one per rule; see the module table
    specs: list[tuple[Callable[[pd.Series], bool], Callable[[pd.Series], IlrPlant]]] = [
        (lambda r: True, _drop),
        (
            lambda r: r.start_date + timedelta(days=7) <= first_end and _ends_after(r, 7),
            _later_start,
        ),
        (lambda r: pd.notna(r.completion_date), _withdrawn),
        (
            lambda r: (
                pd.notna(r.withdrawal_date) and r.withdrawal_date - timedelta(days=3) > r.start_date
            ),
            _earlier_withdrawal,
        ),
        (
            lambda r: (
                pd.notna(r.completion_date) and r.completion_date - timedelta(days=4) > r.start_date
            ),
            _earlier_completion,
        ),
        (lambda r: r.learner_type == "co-funded" and str(r.employer_id) in sme, _large),
        (lambda r: r.learner_type == "co-funded", _fully_funded),
    ]
    for condition, make in specs:
        row = pick(condition)
        if row is not None:
            plants.append(make(row))
    extra = _extra(monthly[periods[0]])
    if extra is not None:
        plants.append(extra)
    return plants


def _stable_learners(monthly: dict[str, Frames], periods: list[str]) -> pd.DataFrame:
    """Learners of the first month whose row is the same in every month (so a plant
    shows identically in each), completed or withdrawn rows included."""
    columns = [
        "learner_ref",
        "bootcamp_id",
        "learner_type",
        "employer_id",
        "start_date",
        "withdrawal_date",
        "completion_date",
    ]
    first = monthly[periods[0]]["learners"][columns]
    keep = pd.Series(True, index=first.index)
    for period in periods[1:]:
        later = monthly[period]["learners"][columns]
        merged = first.merge(
            later,
            how="left",
            on=["learner_ref", "bootcamp_id"],
            suffixes=("", "_later"),
            indicator=True,
        )
        same = merged["_merge"] == "both"
        for column in columns[2:]:
            a, b = merged[column], merged[f"{column}_later"]
            same &= (a == b) | (a.isna() & b.isna())
        keep &= same.to_numpy()
    counts = first.groupby("learner_ref")["bootcamp_id"].transform("count")
    return first[keep & (counts == 1)].sort_values("learner_ref")


def _ends_after(row: pd.Series, days: int) -> bool:
    """The learner neither withdrew nor completed within ``days`` of starting."""
    limit = row.start_date + timedelta(days=days)
    return all(pd.isna(day) or day > limit for day in (row.withdrawal_date, row.completion_date))


def _update(tables: Frames, row: pd.Series, **values: object) -> None:
    learners = tables["learners"]
    mask = (learners["learner_ref"] == row.learner_ref) & (
        learners["bootcamp_id"] == row.bootcamp_id
    )
    for column, value in values.items():
        learners.loc[mask, column] = value


def _plant(rule_id: str, row: pd.Series, note: str, change: Callable[[Frames], None]) -> IlrPlant:
    return IlrPlant(rule_id, str(row.learner_ref), str(row.bootcamp_id), note, change)


def _drop(row: pd.Series) -> IlrPlant:
    def change(tables: Frames) -> None:
        learners = tables["learners"]
        tables["learners"] = learners[
            ~(
                (learners["learner_ref"] == row.learner_ref)
                & (learners["bootcamp_id"] == row.bootcamp_id)
            )
        ]

    return _plant("ILR-MISMATCH-MISSING-IN-ILR", row, "learner left out of the ILR", change)


def _later_start(row: pd.Series) -> IlrPlant:
    start = row.start_date + timedelta(days=7)
    return _plant(
        "ILR-MISMATCH-START-DATE",
        row,
        "ILR start 7 days after the datasheet's",
        lambda t: _update(t, row, start_date=start),
    )


def _withdrawn(row: pd.Series) -> IlrPlant:
    day = row.start_date + timedelta(days=(row.completion_date - row.start_date).days // 2)
    return _plant(
        "ILR-MISMATCH-WITHDRAWN",
        row,
        "completer recorded as withdrawn in the ILR",
        lambda t: _update(t, row, withdrawal_date=day, completion_date=pd.NaT),
    )


def _earlier_withdrawal(row: pd.Series) -> IlrPlant:
    day = row.withdrawal_date - timedelta(days=3)
    return _plant(
        "ILR-MISMATCH-WITHDRAWAL-DATE",
        row,
        "ILR withdrawal 3 days earlier",
        lambda t: _update(t, row, withdrawal_date=day),
    )


def _earlier_completion(row: pd.Series) -> IlrPlant:
    day = row.completion_date - timedelta(days=4)

    def change(tables: Frames) -> None:
        _update(tables, row, completion_date=day)
        evidence_for_completers(tables)  # an event by the new completion date

    return _plant("ILR-MISMATCH-COMPLETION-DATE", row, "ILR completion 4 days earlier", change)


def _fully_funded(row: pd.Series) -> IlrPlant:
    return _plant(
        "ILR-MISMATCH-COFUNDING",
        row,
        "co-funded learner claimed as fully funded (FFI 1) in the ILR",
        lambda t: _update(t, row, learner_type="independent", employer_id=None),
    )


def _large(row: pd.Series) -> IlrPlant:
    def change(tables: Frames) -> None:
        large = pd.DataFrame(
            [{"employer_id": "ILR-LARGE", "employee_count": 5000, "size_band": "large"}]
        )
        tables["employers"] = pd.concat([tables["employers"], large], ignore_index=True)
        _update(tables, row, employer_id="ILR-LARGE")

    return _plant("ILR-MISMATCH-SME", row, "SME employer recorded as large (no OET 2)", change)


def _extra(first: Frames) -> IlrPlant | None:
    """A learner only in the ILR, on the earliest bootcamp the ILR can hold; None when no
    bootcamp of the first month can be in the ILR (every one started before August 2022),
    so nothing is planted rather than the demo failing."""
    bootcamps = first["bootcamps"]
    # the earliest bootcamp the ILR can hold a learner of (starts from 1 August 2022)
    eligible = bootcamps[
        bootcamps["start_date"] + timedelta(days=1) >= pd.Timestamp(BOOTCAMPS_IN_ILR_FROM)
    ]
    if eligible.empty:
        return None
    bootcamp = eligible.sort_values("start_date").iloc[0]
    start = bootcamp.start_date + timedelta(days=1)
    # a real ULN: DfE's placeholder 9999999999 breaks ULN_07 in files from January
    uln = new_uln(random.Random(f"{bootcamp.bootcamp_id}:{EXTRA_REF}"), set())

    def change(tables: Frames) -> None:
        extra = pd.DataFrame(
            [
                {
                    "learner_ref": EXTRA_REF,
                    "uln": uln,
                    "bootcamp_id": bootcamp.bootcamp_id,
                    "learner_type": "independent",
                    "start_date": start,
                }
            ]
        )
        tables["learners"] = pd.concat([tables["learners"], extra], ignore_index=True)

    row = pd.Series({"learner_ref": EXTRA_REF, "bootcamp_id": bootcamp.bootcamp_id})
    return _plant("ILR-MISMATCH-MISSING-IN-DATASHEET", row, "learner only in the ILR", change)


def _expect(plant: IlrPlant, period: str, provider_id: str, frames: Frames) -> Expectation:
    learners = frames["learners"]
    match = learners[
        (learners["learner_ref"] == plant.learner_ref)
        & (learners["bootcamp_id"] == plant.bootcamp_id)
    ]
    source = str(match["source"].iloc[0]) if len(match) else ""
    row = int(source.rsplit(":", 1)[1]) if source else None
    return Expectation(
        period=period,
        provider_id=provider_id,
        rule=plant.rule,
        kind="irregularity",
        entity=f"learner:{plant.learner_ref}",
        bootcamp_id=plant.bootcamp_id,
        table="learners",
        row=row,
        source=source,
        plant=f"ilr-{plant.rule}",
        note=plant.note,
    )
