"""The demo's ILR-only provider: a provider whose learners, interview offers and outcomes
come only from its ILR files, the way most providers' returns look since DfE funds
Skills Bootcamps through the ILR (issue 23).

It is one more provider after the ``--providers`` ones (``P007`` by default), built from
its own seeded world (so the other providers' data do not change): three bootcamps that
start from August 2022 (bootcamps are in the ILR from then on) and from the start of the
first period's collection year, the first one short enough that its outcome windows
have closed by the last period. Its folder holds no learners, interviews or outcomes
table: only what the ILR does not carry (provider, bootcamps, employers listed under
their ILR ``EmpId``, the contact log, co-funding payments, assessments, referrals), and
``ilr/`` with every monthly ILR file of the period's collection year so far, each
prepared on its month's last day, as a provider keeps them. A learner is in a file once
started, and in a later collection year's files only while still in learning at its
start (as in real returns).

The world is as real as the others', with three choices that an ILR-only return needs:
M1 is the start + 7 days (the ILR's rule), a withdrawal is reported on the day it
happens (so monthly files report it in time), and self-employed learners do not seek
a job (the ILR cannot say they do). Its plants, each recorded in the ground truth:

=================================  ====================================================
rule                               what its ILR files say
=================================  ====================================================
DUP-ROW (and a DUP-KEY row)        one learner's ``Learner`` record twice in each file
ILR-R_135 (and a REQUIRED row)     a stray component on another bootcamp's contract
ILR-REENROLLED                     a withdrawn learner's new programme aim on the same
                                   contract (the drop-out still counts)
ILR-UKPRN-MISMATCH                 another UKPRN under ``LearningProvider`` in the first
                                   period's file (reported while that file is in the
                                   folder)
DROP-LATE-REPORT                   a withdrawal keyed in error in one month, undone the
(last period) and                  next, the real one first shown the month after (at
RESTATED-WITHDRAWAL-DATE (the      least three periods)
month it is undone)
=================================  ====================================================

Completers' interview offers and outcomes are in the ILR as events and achievement
dates without a role type: guaranteed interview and career progression count them as
unverified, and every unverified learner is in the verification sample. Due completers
without an outcome are the ground truth's background (CP-NO-OUTCOME), as elsewhere.
"""

from __future__ import annotations

import copy
import logging
import random
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
from lxml import etree

from kpitools.calendar import add_months, parse_period, period_end
from kpitools.demo import names
from kpitools.demo.ilr_demo import evidence_for_completers
from kpitools.demo.ilr_writer import collection_year, employer_number, namespace_for, write_ilr
from kpitools.demo.lives import build_children, build_contacts
from kpitools.demo.people import make_learners
from kpitools.demo.snapshot import Tables, take
from kpitools.demo.truth import Expectation
from kpitools.demo.world import LearnerLife, ProviderWorld, World, first_day, make_employers
from kpitools.demo.writers import write_csv_folder, write_workbook
from kpitools.errors import ParameterError
from kpitools.ilr.events import BOOTCAMPS_IN_ILR_FROM
from kpitools.ilr.mapping import learner_source
from kpitools.returns.contract import TABLES
from kpitools.rules import rule

log = logging.getLogger(__name__)

DATASHEET_TABLES = (
    "provider",
    "bootcamps",
    "employers",
    "employer_contacts",
    "cofunding_payments",
    "assessments",
    "referrals",
)
"""The tables of the ILR-only provider's folder: what the ILR does not carry."""
CHILD_TABLES = ("cofunding_payments", "assessments", "referrals")
OTHER_UKPRN = "10099999"  # the LearningProvider UKPRN of the planted mismatch
RESTART_DAYS = 14  # the re-enrolment starts this long after the withdrawal


@dataclass
class IlrOnlyPlan:
    """Which learner carries which plant (None: not planted, e.g. too few periods)."""

    duplicate: LearnerLife | None = None
    stray: LearnerLife | None = None
    stray_contract: str = ""
    reenrolled: LearnerLife | None = None
    undone: LearnerLife | None = None
    undone_error: date | None = None  # the withdrawal keyed in error
    undone_months: tuple[str, str, str] | None = None  # keyed, undone, real one shown
    ukprn_month: str | None = None  # the month whose file names another UKPRN


@dataclass
class IlrOnlyProvider:
    """The ILR-only provider's world, its returns and its plants."""

    world: ProviderWorld
    returns: dict[str, Tables]
    plan: IlrOnlyPlan

    @property
    def provider_id(self) -> str:
        return self.world.provider_id


def ilr_only_provider(
    world: World, learners: int, employer_range: tuple[int, int]
) -> IlrOnlyProvider | None:
    """The ILR-only provider of ``world`` (id after the last provider's), with about
    ``learners`` learners; None when no period of ``world`` can have ILR files (before
    August 2022, or a collection year kpitools has no DfE schema for), with a warning."""
    periods = world.periods
    if not all(_ilr_period(period) for period in periods):
        log.warning(
            "demo: no ILR-only provider: every period needs ILR files of a year kpitools"
            " reads, from August 2022 (periods %s)",
            ", ".join(periods),
        )
        return None
    index = len(world.providers)
    provider_id = f"P{index + 1:03d}"
    rng = random.Random(f"{world.seed}:{provider_id}:ilr-only")
    pw = ProviderWorld(
        provider_id=provider_id,
        seed=world.seed,
        clean=False,
        provider={
            "provider_id": provider_id,
            "name": names.provider_name(index),
            "ukprn": str(rng.randrange(10100000, 10200000)),
        },
        employer_range=employer_range,
    )
    _bootcamps(pw, periods, rng)
    make_employers(pw)
    _employers_under_ilr_numbers(pw)
    started = [b for b in pw.bootcamps if _day(b["start_date"]) <= world.anchor_end]
    weights = [rng.uniform(0.7, 1.3) for _ in started]
    counts = {
        str(b["bootcamp_id"]): max(10, round(learners * w / sum(weights)))
        for b, w in zip(started, weights, strict=True)
    }
    taken = {str(life.row["uln"]) for other in world.providers for life in other.learners}
    make_learners(pw, counts, taken, world.anchor_end, None)
    for life in pw.learners:
        _as_an_ilr_only_provider_records(life)
        build_children(pw, life)
    plan = _plan(pw, periods, rng)
    build_contacts(pw)
    returns = {period: take(pw, i, period_end(period)) for i, period in enumerate(periods)}
    return IlrOnlyProvider(pw, returns, plan)


def _day(value: object) -> date:
    """A date of the world's rows (typed ``object`` there), known to be one."""
    if not isinstance(value, date):
        raise TypeError(f"expected a date, got {value!r}")
    return value


def _set_text(element: etree._Element, path: str, text: str) -> None:
    """The text of ``element``'s child at ``path`` (the writer always writes it)."""
    found = element.find(path)
    if found is None:
        raise ValueError(f"the demo's ILR file has no {path}")
    found.text = text


def _ilr_period(period: str) -> bool:
    """Whether a period can hold ILR files: from August 2022, of a year with a schema."""
    end = period_end(period)
    if end < BOOTCAMPS_IN_ILR_FROM:
        return False
    try:
        namespace_for(collection_year(end))
    except ParameterError:
        return False
    return True


def _year_start(day: date) -> date:
    """1 August of the collection year holding ``day``."""
    return date(day.year if day.month >= 8 else day.year - 1, 8, 1)


def _bootcamps(pw: ProviderWorld, periods: list[str], rng: random.Random) -> None:
    """Three bootcamps, none before August 2022 nor before the first period's collection
    year: an 8-week one about eight months before the last period (its outcome windows
    closed by then), a 16-week one about four months before (running into the month
    before the last), a 12-week one starting in the last month or the one before."""
    earliest = max(BOOTCAMPS_IN_ILR_FROM, _year_start(period_end(periods[0])))
    first = max(first_day(periods[-1], -8), earliest)
    second = max(first_day(periods[-1], -4), add_months(first, 1))
    third = max(first_day(periods[-1], -1), add_months(second, 1))
    kinds = rng.sample(names.BOOTCAMP_KINDS, 3)
    for number, (start, weeks, (sector, title, _)) in enumerate(
        zip((first, second, third), (8, 16, 12), kinds, strict=True), 1
    ):
        start += timedelta(days=rng.randint(0, 3))
        pw.bootcamps.append(
            {
                "bootcamp_id": f"{pw.provider_id}-BC{number:02d}",
                "title": title,
                "sector": sector,
                "start_date": start,
                "end_date": start + timedelta(weeks=weeks) - timedelta(days=3),
                "price_per_learner": rng.randrange(2000, 6501, 50) * 100,
                "accelerated_apprenticeship": "N",
                "planned_learners": None,
            }
        )


def _employers_under_ilr_numbers(pw: ProviderWorld) -> None:
    """Employers listed under their ILR ``EmpId``, as the co-funded learners read from
    the ILR name them (docs/ilr.md: providers whose return is the ILR)."""
    numbers = {str(e["employer_id"]): employer_number(str(e["employer_id"])) for e in pw.employers}
    for employer in pw.employers:
        employer["employer_id"] = numbers[str(employer["employer_id"])]
        replacement = employer.get("replacement_employer_id")
        if replacement:
            employer["replacement_employer_id"] = numbers[str(replacement)]


def _as_an_ilr_only_provider_records(life: LearnerLife) -> None:
    """M1 at start + 7 days (the ILR's rule), a withdrawal reported the day it happens,
    a self-employed learner not seeking a job (the ILR cannot say so)."""
    row = life.row
    if row["m1_date"] is not None:
        row["m1_date"] = _day(row["start_date"]) + timedelta(days=7)
    row["withdrawal_reported_date"] = row["withdrawal_date"]
    if row["learner_type"] == "self-employed":
        row["wants_interview"] = "N"
        life.success = life.fate == "completed"  # the plan is the M2 evidence


def _plan(pw: ProviderWorld, periods: list[str], rng: random.Random) -> IlrOnlyPlan:
    """One learner per plant, each started by the first period's end; none shared."""
    first_end = period_end(periods[0])
    used: set[str] = set()

    def pick(condition: Callable[[LearnerLife], bool]) -> LearnerLife | None:
        pool = [
            life
            for life in pw.learners
            if life.ref not in used
            and _day(life.row["start_date"]) <= first_end
            and condition(life)
        ]
        if not pool:
            return None
        chosen = rng.choice(pool)
        used.add(chosen.ref)
        chosen.planted = True
        return chosen

    plan = IlrOnlyPlan(ukprn_month=periods[0])
    plan.duplicate = pick(lambda life: True)
    plan.stray = pick(lambda life: True)
    if plan.stray is not None:
        others = [b for b in pw.bootcamps if b["bootcamp_id"] != plan.stray.bootcamp_id]
        plan.stray_contract = str(others[-1]["bootcamp_id"])
    plan.reenrolled = pick(
        lambda life: (
            life.fate == "withdrawn"
            and _day(life.row["withdrawal_date"]) + timedelta(days=RESTART_DAYS) <= first_end
        )
    )
    if len(periods) >= 3:
        keyed, undone, shown = periods[-3], periods[-2], periods[-1]
        month = _month_bounds(undone)[0]

        def fits(life: LearnerLife) -> bool:
            bootcamp = pw.bootcamp(life.bootcamp_id)
            m1 = life.row["m1_date"]
            return (
                life.fate != "pre_m1_withdrawn"
                and isinstance(m1, date)
                and m1 <= period_end(keyed)
                and _day(bootcamp["end_date"]) >= month
            )

        plan.undone = pick(fits)
        if plan.undone is not None:
            _withdraw(pw, plan.undone, month + timedelta(days=rng.randint(0, 20)))
            plan.undone_error = max(_day(plan.undone.row["m1_date"]), _month_bounds(keyed)[0])
            plan.undone_months = (keyed, undone, shown)
    return plan


def _withdraw(pw: ProviderWorld, life: LearnerLife, day: date) -> None:
    """The learner's story becomes a withdrawal on ``day`` (reported that day; in the
    undone month, no later than its 21st, so a month on is before the next month's end),
    its dependent rows built again from it."""
    life.fate, life.success = "withdrawn", False
    life.row.update(withdrawal_date=day, withdrawal_reported_date=day, completion_date=None)
    build_children(pw, life)


def _month_bounds(period: str) -> tuple[date, date]:
    year, month = parse_period(period)
    return date(year, month, 1), period_end(period)


# --- writing ---------------------------------------------------------------------------


def write_ilr_only(out: Path, provider: IlrOnlyProvider, fmt: str) -> list[Expectation]:
    """Write the ILR-only provider's folder for every period (its datasheet tables and
    ``ilr/``) and return the ground truth of its plants."""
    pw = provider.world
    periods = list(provider.returns)
    months = _months(periods)
    written: dict[str, Path] = {}
    lines: dict[str, dict[str, list[int]]] = {}
    with _scratch(out) as scratch:
        for month in months:
            snapshot = provider.returns.get(month) or take(pw, 0, period_end(month))
            path = _write_month(scratch, provider, month, snapshot)
            written[month] = path
            lines[month] = _learner_lines(path)
        for period in periods:
            keys = _learner_keys(provider, period)
            tables = _datasheet(provider.returns[period], keys)
            for folder, workbook in _folders(out, period, pw.provider_id, fmt):
                if workbook:
                    write_workbook(folder, tables, DATASHEET_TABLES)
                else:
                    write_csv_folder(folder, tables, pw.style, DATASHEET_TABLES)
                ilr = folder / "ilr"
                ilr.mkdir(parents=True, exist_ok=True)
                for month in _folder_months(period, months):
                    shutil.copyfile(written[month], ilr / written[month].name)
    log.info("demo ILR-only provider %s: %d monthly ILR files", pw.provider_id, len(months))
    return _expectations(provider, periods, months, written, lines)


class _scratch:
    """A folder for the monthly files before they are copied into each period's."""

    def __init__(self, out: Path) -> None:
        self.path = out / ".ilr-only-months"

    def __enter__(self) -> Path:
        self.path.mkdir(parents=True, exist_ok=True)
        return self.path

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _folders(out: Path, period: str, provider_id: str, fmt: str) -> list[tuple[Path, bool]]:
    """The provider's folders of ``period`` and whether each holds a workbook, as the
    generator writes the other providers' (``both``: CSV files, and a copy as a workbook
    under ``xlsx/``)."""
    folders = [(out / period / provider_id, fmt == "xlsx")]
    if fmt == "both":
        folders.append((out / "xlsx" / period / provider_id, True))
    return folders


def _months(periods: list[str]) -> list[str]:
    """Every month whose file some period's folder holds: from the first period's
    collection year start (August 2022 at the earliest) to the last period."""
    start = max(BOOTCAMPS_IN_ILR_FROM, _year_start(period_end(periods[0])))
    month, months = start, []
    while month <= period_end(periods[-1]):
        months.append(f"{month.year:04d}-{month.month:02d}")
        month = add_months(month, 1)
    return months


def _folder_months(period: str, months: list[str]) -> list[str]:
    """The months of ``period``'s collection year up to it (one year's files a folder)."""
    end = period_end(period)
    first = _year_start(end)
    return [m for m in months if first <= period_end(m) <= end]


def _learner_keys(provider: IlrOnlyProvider, period: str) -> set[tuple[str, str]]:
    """The learners of ``period``'s current ILR state."""
    return {
        (str(row["learner_ref"]), str(row["bootcamp_id"]))
        for row in _in_file(provider.returns[period]["learners"], period_end(period))
    }


def _in_file(rows: Iterable[Mapping[str, object]], prepared: date) -> list[Mapping[str, object]]:
    """The learners a file prepared on ``prepared`` holds: those still in learning at its
    collection year's start (a learner who ended in an earlier year is not returned)."""
    start = _year_start(prepared)
    kept = []
    for row in rows:
        ended = row.get("withdrawal_date") or row.get("completion_date")
        if ended is None or _day(ended) >= start:
            kept.append(row)
    return kept


def _datasheet(snapshot: Tables, keys: set[tuple[str, str]]) -> Tables:
    """The datasheet tables of a period: what the ILR lacks, for its learners only."""
    tables = {name: list(snapshot[name]) for name in DATASHEET_TABLES}
    for name in CHILD_TABLES:
        tables[name] = [
            r for r in tables[name] if (str(r["learner_ref"]), str(r["bootcamp_id"])) in keys
        ]
    for name in TABLES:
        tables.setdefault(name, [])
    return tables


def _write_month(scratch: Path, provider: IlrOnlyProvider, month: str, snapshot: Tables) -> Path:
    """One month's ILR file, with the plants that month shows."""
    prepared = period_end(month)
    frames = _frames(snapshot, prepared)
    _undo(frames, provider.plan, month)
    evidence_for_completers(frames)
    stamp = datetime.combine(prepared, datetime.min.time()).replace(hour=18)
    path = write_ilr(scratch, frames, ukprn=str(provider.world.provider["ukprn"]), prepared=stamp)
    _edit(path, provider.plan, month)
    return path


_DATES = {
    name: [c.name for c in TABLES[name].columns if c.kind == "date"]
    for name in ("learners", "bootcamps", "interviews", "outcomes")
}


def _frames(snapshot: Tables, prepared: date) -> dict[str, pd.DataFrame]:
    """The snapshot's tables the ILR writer reads, as frames with Timestamp dates."""
    rows: dict[str, Sequence[Mapping[str, object]]] = {
        "learners": _in_file(snapshot["learners"], prepared),
        "bootcamps": snapshot["bootcamps"],
        "employers": snapshot["employers"],
        "interviews": snapshot["interviews"],
        "outcomes": snapshot["outcomes"],
    }
    frames = {}
    for name, found in rows.items():
        columns = TABLES[name].column_names
        frame = pd.DataFrame([{c: r.get(c) for c in columns} for r in found], columns=columns)
        for column in _DATES.get(name, []):
            frame[column] = pd.to_datetime(frame[column])
        frames[name] = frame
    return frames


def _undo(frames: dict[str, pd.DataFrame], plan: IlrOnlyPlan, month: str) -> None:
    """The withdrawal keyed in error (its month), undone (the next), then shown as it
    happened (later months show the world's)."""
    if plan.undone is None or plan.undone_months is None:
        return
    keyed, undone, _ = plan.undone_months
    if month not in (keyed, undone):
        return
    learners = frames["learners"]
    mine = (learners["learner_ref"] == plan.undone.ref) & (
        learners["bootcamp_id"] == plan.undone.bootcamp_id
    )
    day = pd.Timestamp(plan.undone_error) if month == keyed else pd.NaT
    learners.loc[mine, "withdrawal_date"] = day


def _edit(path: Path, plan: IlrOnlyPlan, month: str) -> None:
    """The plants made in the XML itself: a duplicate learner, a stray component, a
    re-enrolment, another provider's UKPRN under LearningProvider."""
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
    tree = etree.parse(str(path), parser)
    root = tree.getroot()
    ns = etree.QName(root).namespace

    def q(name: str) -> str:
        return f"{{{ns}}}{name}"

    learners = {
        element.findtext(q("LearnRefNumber")): element for element in root.iter(q("Learner"))
    }
    prepared = period_end(month)
    if plan.ukprn_month == month:
        _set_text(root, f"{q('LearningProvider')}/{q('UKPRN')}", OTHER_UKPRN)
    if plan.stray is not None and plan.stray.ref in learners:
        element = learners[plan.stray.ref]
        component = _aims(element, q)[1]
        stray = _new_aim(component, q, seq=_next_seq(element, q), contract=plan.stray_contract)
        element.append(stray)
    if plan.reenrolled is not None and plan.reenrolled.ref in learners:
        restart = _day(plan.reenrolled.row["withdrawal_date"]) + timedelta(days=RESTART_DAYS)
        if restart <= prepared:
            element = learners[plan.reenrolled.ref]
            programme, component = _aims(element, q)[:2]
            seq = _next_seq(element, q)
            for offset, aim in enumerate((programme, component)):
                element.append(_new_aim(aim, q, seq=seq + offset, start=restart))
    if plan.duplicate is not None and plan.duplicate.ref in learners:
        element = learners[plan.duplicate.ref]
        element.addnext(copy.deepcopy(element))
    path.write_bytes(
        etree.tostring(tree, xml_declaration=True, encoding="utf-8", pretty_print=True)
    )


Qualify = Callable[[str], str]  # a local name → its name in the file's namespace


def _aims(learner: etree._Element, q: Qualify) -> list[etree._Element]:
    return list(learner.iter(q("LearningDelivery")))


def _next_seq(learner: etree._Element, q: Qualify) -> int:
    return 1 + max(int(a.findtext(q("AimSeqNumber")) or 0) for a in _aims(learner, q))


_ENDED = ("LearnActEndDate", "WithdrawReason", "Outcome", "AchDate")


def _new_aim(
    template: etree._Element,
    q: Qualify,
    *,
    seq: int,
    start: date | None = None,
    contract: str | None = None,
) -> etree._Element:
    """A copy of ``template`` as a new, continuing aim: its sequence number, start (and
    a planned end twelve weeks on), contract; no end, outcome or event indicator."""
    aim = copy.deepcopy(template)
    _set_text(aim, q("AimSeqNumber"), str(seq))
    if start is not None:
        _set_text(aim, q("LearnStartDate"), start.isoformat())
        end = start + timedelta(weeks=12)
        _set_text(aim, q("LearnPlanEndDate"), end.isoformat())
    if contract is not None:
        _set_text(aim, q("ConRefNumber"), contract)
    _set_text(aim, q("CompStatus"), "1")
    for name in _ENDED:
        for found in aim.findall(q(name)):
            aim.remove(found)
    for fam in aim.findall(q("LearningDeliveryFAM")):
        if fam.findtext(q("LearnDelFAMType")) not in ("SOF", "FFI"):
            aim.remove(fam)
    return aim


def _learner_lines(path: Path) -> dict[str, list[int]]:
    """LearnRefNumber → the lines of its ``Learner`` elements, in file order."""
    found: dict[str, list[int]] = {}
    for _, element in etree.iterparse(str(path), tag="{*}Learner", resolve_entities=False):
        ref = element.findtext("{*}LearnRefNumber")
        found.setdefault(str(ref), []).append(element.sourceline or 0)
    return found


# --- ground truth ----------------------------------------------------------------------


def _expectations(
    provider: IlrOnlyProvider,
    periods: list[str],
    months: list[str],
    written: Mapping[str, Path],
    lines: Mapping[str, Mapping[str, list[int]]],
) -> list[Expectation]:
    plan, pid = provider.plan, provider.provider_id
    found: list[Expectation] = []
    for period in periods:
        name = written[period].name
        at = lines[period]

        def expect(
            rule_id: str,
            entity: str,
            note: str,
            *,
            bootcamp_id: str = "ALL",
            line: int | None = None,
            column: str = "",
            value: str = "",
            kind: str | None = None,
            period: str = period,
            name: str = name,
        ) -> Expectation:
            return Expectation(
                period=period,
                provider_id=pid,
                rule=rule_id,
                kind=kind or rule(rule_id).kpi,
                entity=entity,
                bootcamp_id=bootcamp_id,
                table="ilr",
                row=line,
                source="" if line is None else f"ilr/{learner_source(name, line)}",
                plant=f"ilr-only-{rule_id}",
                note=note,
                column=column,
                value=value,
            )

        if plan.duplicate is not None and plan.duplicate.ref in at:
            first, second = at[plan.duplicate.ref][:2]
            who = f"learner:{plan.duplicate.ref}"
            found.append(
                expect(
                    "DUP-ROW",
                    who,
                    "a Learner record twice in the ILR file",
                    bootcamp_id=plan.duplicate.bootcamp_id,
                    line=first,
                )
            )
            found.append(
                expect(
                    "DUP-KEY",
                    who,
                    "the second Learner record of the same LearnRefNumber",
                    line=second,
                    column="LearnRefNumber",
                    value=plan.duplicate.ref,
                )
            )
        if plan.stray is not None and plan.stray.ref in at:
            line = at[plan.stray.ref][0]
            who = f"learner:{plan.stray.ref}"
            found.append(
                expect(
                    "ILR-R_135",
                    who,
                    f"a stray component on contract {plan.stray_contract}",
                    bootcamp_id=plan.stray_contract,
                    line=line,
                )
            )
            found.append(
                expect(
                    "REQUIRED",
                    who,
                    "the stray component's contract has no programme aim: that bootcamp alone"
                    " is rejected",
                    line=line,
                    column="ConRefNumber",
                    value=plan.stray_contract,
                )
            )
        if plan.reenrolled is not None and plan.reenrolled.ref in at:
            restart = _day(plan.reenrolled.row["withdrawal_date"]) + timedelta(days=RESTART_DAYS)
            if restart <= period_end(period):
                found.append(
                    expect(
                        "ILR-REENROLLED",
                        f"learner:{plan.reenrolled.ref}",
                        "a new programme aim after the withdrawal, on the same contract",
                        bootcamp_id=plan.reenrolled.bootcamp_id,
                        line=at[plan.reenrolled.ref][0],
                    )
                )
        if plan.ukprn_month in _folder_months(period, months):
            found.append(
                expect(
                    "ILR-UKPRN-MISMATCH",
                    f"provider:{pid}",
                    f"LearningProvider/UKPRN {OTHER_UKPRN} in the {plan.ukprn_month} file",
                )
            )
        if plan.undone is not None and plan.undone_months is not None:
            keyed, undone, shown = plan.undone_months
            who = f"learner:{plan.undone.ref}"
            where = at[plan.undone.ref][0] if plan.undone.ref in at else None
            if period == undone:
                found.append(
                    expect(
                        "RESTATED-WITHDRAWAL-DATE",
                        who,
                        f"the withdrawal keyed in {keyed}'s file is undone in {undone}'s",
                        bootcamp_id=plan.undone.bootcamp_id,
                        line=where,
                    )
                )
            if period == shown:
                found.append(
                    expect(
                        "DROP-LATE-REPORT",
                        who,
                        f"the real withdrawal of {undone} first shown in {shown}'s file",
                        bootcamp_id=plan.undone.bootcamp_id,
                        line=where,
                    )
                )
    return found


def background(provider: IlrOnlyProvider) -> list[Expectation]:
    """Due completers without an outcome (CP-NO-OUTCOME, reported for information), as
    for the other providers."""
    found = []
    for period in provider.returns:
        as_of = period_end(period)
        keys = _learner_keys(provider, period)
        for life in provider.world.learners:
            completion = life.row["completion_date"]
            if (
                life.fate != "completed"
                or life.success
                # the ILR reads a co-funded learner's new-role evidence (an event) as a
                # new_role outcome too
                or life.row["learner_type"] == "co-funded"
                or add_months(_day(completion), 6) > as_of
                or (life.ref, life.bootcamp_id) not in keys
            ):
                continue
            found.append(
                Expectation(
                    period=period,
                    provider_id=provider.provider_id,
                    rule="CP-NO-OUTCOME",
                    kind="career_progression",
                    entity=f"learner:{life.ref}",
                    bootcamp_id=life.bootcamp_id,
                    table="ilr",
                    row=None,
                    source="",
                    plant="background",
                    note="window closed without an outcome (not planted; referred)",
                )
            )
    return found
