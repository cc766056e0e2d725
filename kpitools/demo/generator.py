"""Build the demo world, plant the irregularities, take the monthly snapshots and write
them with the ground truth.

:func:`build` keeps everything in memory (:class:`DemoSet`); :func:`generate` writes it.
Further writers (e.g. an ILR XML writer) take a :class:`DemoSet` and use
``demo.returns[period][provider_id]`` (rows per table, typed Python values) and
``demo.world`` (every learner's full story).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from kpitools.calendar import parse_period, period_end, previous_period
from kpitools.demo import names
from kpitools.demo.ilr_demo import write_demo_ilr
from kpitools.demo.ilr_only import IlrOnlyProvider, background, ilr_only_provider, write_ilr_only
from kpitools.demo.lives import build_children, build_contacts
from kpitools.demo.people import make_learners, share_learners
from kpitools.demo.plant import Planter
from kpitools.demo.plant_checks import plant_irregularities, plant_restatements
from kpitools.demo.plant_input import (
    plant_hostile_employers,
    plant_hostile_learners,
    plant_rejected_rows,
)
from kpitools.demo.plant_kpi import plant_engagement, plant_kpi_learners
from kpitools.demo.plant_people import give_identities, plant_people
from kpitools.demo.resolve import resolve_truth
from kpitools.demo.snapshot import Tables, take
from kpitools.demo.truth import Expectation, GroundTruth
from kpitools.demo.world import ProviderWorld, World, make_bootcamps, make_employers
from kpitools.demo.writers import write_csv_folder, write_workbook
from kpitools.errors import ParameterError

log = logging.getLogger(__name__)

DEFAULT_PERIODS = ("2023-01", "2023-02", "2023-03")
FORMATS = ("csv", "xlsx", "both")
MAX_PROVIDERS = 250
MAX_LEARNERS = 60000
DEFAULT_EMPLOYERS = (10, 20)


class _Scale(TypedDict):
    """The size of a demo data set (the ``--national`` one)."""

    providers: int
    learners: int
    employers_per_provider: tuple[int, int]


# a national monitoring team's year (issue 7): about 200 providers, 50,000 learners and
# 6,000 employers
NATIONAL: _Scale = {"providers": 200, "learners": 50000, "employers_per_provider": (20, 40)}
PLANTED_SLOTS = 5
# house styles of the planted providers (all within the data contract)
STYLES: dict[int, dict[str, object]] = {
    1: {"money": "pounds"},
    2: {"bom": True},
    3: {"dates": "uk"},
}
# structural features the plants rely on, by slot
FEATURES: dict[int, set[str]] = {0: {"not_started"}, 2: {"not_started"}, 3: {"accelerated_b0"}}


@dataclass
class DemoSet:
    """A generated demo data set held in memory.

    Attributes:
        world: every provider's full story (past and future of the periods).
        returns: ``returns[period][provider_id][table]`` = rows as typed values.
        truth: the ground truth of what was planted.
        ilr_only: the ILR-only provider (:mod:`kpitools.demo.ilr_only`), one more
            after the ``providers`` of ``world``, its own world and returns (written with
            its ILR files once the others are on disk); None when the periods cannot
            have ILR files.
    """

    world: World
    returns: dict[str, dict[str, Tables]]
    truth: GroundTruth
    ilr_only: IlrOnlyProvider | None = None


def check_arguments(
    periods: list[str],
    providers: int,
    learners: int,
    fmt: str,
    employers_per_provider: tuple[int, int] = DEFAULT_EMPLOYERS,
) -> None:
    """Raises ParameterError for arguments the generator cannot honour."""
    if not periods:
        raise ParameterError("demo: give at least one period (YYYY-MM)")
    for period in periods:
        try:
            parse_period(period)
        except ValueError as error:
            raise ParameterError(f"demo: {error}") from None
    for before, after in zip(periods, periods[1:], strict=False):
        if previous_period(after) != before:
            raise ParameterError(
                f"demo: periods must be consecutive months, got {before} then {after}"
            )
    if not 2 <= providers <= MAX_PROVIDERS:
        raise ParameterError(f"demo: providers must be 2-{MAX_PROVIDERS}, got {providers}")
    if not 100 * providers <= learners <= MAX_LEARNERS:
        raise ParameterError(
            f"demo: learners must be 100 per provider to {MAX_LEARNERS}, got {learners}"
        )
    low, high = employers_per_provider
    if not 10 <= low <= high <= 200:
        raise ParameterError(
            f"demo: employers per provider must be a range within 10-200, got {low}-{high}"
        )
    if fmt not in FORMATS:
        raise ParameterError(f"demo: format must be one of {', '.join(FORMATS)}, got {fmt!r}")


def build_world(
    seed: int,
    periods: list[str],
    providers: int,
    learners: int,
    employers_per_provider: tuple[int, int] = DEFAULT_EMPLOYERS,
) -> tuple[World, Planter]:
    """The world with every plant placed."""
    rng = random.Random(f"{seed}:demo")
    ukprns = rng.sample(range(10000000, 10099999), providers)
    planted = min(PLANTED_SLOTS, providers - 1)
    worlds = []
    for index in range(providers):
        provider_id = f"P{index + 1:03d}"
        clean = index >= planted
        # with fewer providers, slot s lands in provider s % planted (Planter.provider)
        slots = [] if clean else [s for s in range(PLANTED_SLOTS) if s % planted == index]
        style = {k: v for s in slots for k, v in STYLES.get(s, {}).items()}
        features = {f for s in slots for f in FEATURES.get(s, set())}
        pw = ProviderWorld(
            provider_id=provider_id,
            seed=seed,
            clean=clean,
            provider={
                "provider_id": provider_id,
                "name": names.provider_name(index),
                "ukprn": str(ukprns[index]),
            },
            style=style,
            employer_range=employers_per_provider,
        )
        make_bootcamps(pw, periods, features)
        make_employers(pw)
        worlds.append(pw)
    world = World(seed=seed, periods=list(periods), providers=worlds)
    counts = share_learners(worlds, learners, rng, world.anchor_end)
    ulns: set[str] = set()
    for index, pw in enumerate(worlds):
        high = str(pw.bootcamps[1]["bootcamp_id"]) if index == 4 % planted else None
        make_learners(pw, counts, ulns, world.anchor_end, high)
        give_identities(pw)
        for life in pw.learners:
            build_children(pw, life)
    planter = Planter(world, worlds[:planted])
    plant_kpi_learners(planter)
    plant_irregularities(planter)
    plant_restatements(planter)
    plant_rejected_rows(planter)
    plant_hostile_learners(planter)
    for pw in worlds:
        build_contacts(pw)
    plant_engagement(planter)
    plant_hostile_employers(planter)
    plant_people(planter)
    return world, planter


def build(
    *,
    seed: int = 2023,
    periods: list[str] | tuple[str, ...] = DEFAULT_PERIODS,
    providers: int = 6,
    learners: int = 1500,
    fmt: str = "csv",
    employers_per_provider: tuple[int, int] = DEFAULT_EMPLOYERS,
    ilr_only: bool = True,
) -> DemoSet:
    """Everything :func:`generate` writes, in memory (ground-truth sources for ``fmt``);
    ``ilr_only`` False leaves the ILR-only provider out.

    Raises:
        ParameterError: periods not consecutive ``YYYY-MM`` months, or too few learners.
    """
    periods = list(periods)
    check_arguments(periods, providers, learners, fmt, employers_per_provider)
    world, planter = build_world(seed, periods, providers, learners, employers_per_provider)
    returns = {
        period: {pw.provider_id: take(pw, index, period_end(period)) for pw in world.providers}
        for index, period in enumerate(periods)
    }
    truth = resolve_truth(world, planter, returns, "xlsx" if fmt == "xlsx" else "csv")
    extra = (
        ilr_only_provider(world, learners // providers, employers_per_provider)
        if ilr_only
        else None
    )
    if extra is not None:
        truth.providers.append(extra.provider_id)
        truth.ilr_only_providers.append(extra.provider_id)
        truth.background += background(extra)
    return DemoSet(world=world, returns=returns, truth=truth, ilr_only=extra)


def generate(
    out: Path,
    *,
    seed: int = 2023,
    periods: list[str] | tuple[str, ...] = DEFAULT_PERIODS,
    providers: int = 6,
    learners: int = 1500,
    fmt: str = "csv",
    employers_per_provider: tuple[int, int] = DEFAULT_EMPLOYERS,
    ilr_only: bool = True,
) -> GroundTruth:
    """Write a seeded synthetic demo data set and its ground truth.

    Layout: ``out/<YYYY-MM>/<provider_id>/<table>.csv`` (``fmt="csv"``) or
    ``.../datasheet.xlsx`` (``"xlsx"``); ``"both"`` writes the CSV tree and the same
    returns as workbooks under ``out/xlsx/<YYYY-MM>/<provider_id>/``; plus
    ``out/ground_truth.json``. The same arguments always give byte-identical files.

    Args:
        out: the folder to write (created; existing files of the same names are replaced).
        seed: the random seed.
        periods: consecutive reporting periods ``YYYY-MM``, oldest first.
        providers: number of providers (2-250); the last one(s) are clean.
        learners: number of learners over all providers (at least 100 per provider).
        employers_per_provider: range of employers invented per provider (10-20;
            :data:`NATIONAL` asks for 20-40, about 6,000 for 200 providers).
        fmt: ``csv``, ``xlsx`` or ``both``.
        ilr_only: add one provider, after the others, whose learners come only from its
            ILR files (:mod:`kpitools.demo.ilr_only`; when the periods allow ILR files).

    Returns:
        The ground truth written to ``out/ground_truth.json``.

    Raises:
        ParameterError: an argument the generator cannot honour.
    """
    check_arguments(list(periods), providers, learners, fmt, employers_per_provider)
    demo = build(
        seed=seed,
        periods=periods,
        providers=providers,
        learners=learners,
        fmt=fmt,
        employers_per_provider=employers_per_provider,
        ilr_only=ilr_only,
    )
    out = Path(out)
    for period, by_provider in demo.returns.items():
        for pw in demo.world.providers:
            tables = by_provider[pw.provider_id]
            if fmt in ("csv", "both"):
                write_csv_folder(out / period / pw.provider_id, tables, pw.style)
            if fmt == "xlsx":
                write_workbook(out / period / pw.provider_id, tables)
            if fmt == "both":
                write_workbook(out / "xlsx" / period / pw.provider_id, tables)
    demo.truth.expectations.extend(after_writing(out, demo, fmt))
    demo.truth.write(out / "ground_truth.json")
    log.info("demo: %d providers x %d periods written to %s", providers, len(demo.returns), out)
    return demo.truth


def after_writing(out: Path, demo: DemoSet, fmt: str) -> list[Expectation]:
    """Hook for writers that need the returns on disk, e.g. ILR files built from the
    returns read back through the loader. Each adds its files under
    ``out/<period>/<provider>/`` and returns its ground-truth expectations, which
    :func:`generate` adds before writing ``ground_truth.json``: the ILR files of some
    providers (:mod:`kpitools.demo.ilr_demo`), and the ILR-only provider's whole
    folder (:mod:`kpitools.demo.ilr_only`; ``fmt`` says whether its datasheet tables
    are CSV files or a workbook)."""
    # ILR XML for some providers each month, with planted ILR-MISMATCH-* (kpitools.demo.ilr_demo)
    truth = demo.truth
    regular = [p for p in truth.providers if p not in truth.ilr_only_providers]
    expectations = write_demo_ilr(out, truth.periods, regular, truth.clean_providers, truth.seed)
    # the ILR-only provider: its datasheet tables and every monthly ILR file
    # (kpitools.demo.ilr_only)
    if demo.ilr_only is not None:
        expectations += write_ilr_only(out, demo.ilr_only, fmt)
    return expectations
