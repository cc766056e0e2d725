"""Verification samples: reproducible random worklists for the monitoring team.

Method (docs/checks.md explains it for analysts): every case of a population gets a
random key, the SHA-256 of ``"<seed>|<population>|<case key>"``; cases are ranked by
that key and the first n are picked, n = max(minimum, ceil(fraction x population)),
capped at the population. Because the key of a case depends only on the seed and the
case, re-running with the same seed and a larger size keeps every earlier pick (the
sample is a prefix of one fixed order), and a case's pick does not depend on which other
cases are present. The whole population is ranked before anything is filtered.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from kpitools import __version__
from kpitools.calendar import parse_date, period_end
from kpitools.checks.common import text_key
from kpitools.errors import ParameterError
from kpitools.io.files import csv_bytes, write_atomic
from kpitools.kpis.measured import bootcamp_timing, derived
from kpitools.kpis.unverified import unverified_cases
from kpitools.model import ProviderReturn
from kpitools.privacy.naming import LearnerNaming
from kpitools.returns.contract import STAGES, TABLES
from kpitools.returns.period import unscoped
from kpitools.rules import Rules
from kpitools.worklists.period import PeriodTables

DEFAULT_FRACTION = 0.10
DEFAULT_MINIMUM = 5
# Columns the monitoring team fills in on learner worklists.
LEARNER_FILL_COLUMNS = ("contacted_on", "reached", "outcome", "notes", "verified_by")
# The employer worklist is next month's employer_contacts table, with the pick, the
# employer's name and verified_by around it (the loader ignores columns not in the contract).
EMPLOYER_CONTACT_COLUMNS = TABLES["employer_contacts"].column_names


@dataclass(frozen=True)
class Sample:
    """One drawn worklist: the population size and the picked rows."""

    name: str
    population: int
    worklist: pd.DataFrame

    @property
    def size(self) -> int:
        return len(self.worklist)


@dataclass(frozen=True)
class SampleSet:
    """Every worklist of one draw, with what is needed to repeat it."""

    provider_id: str
    as_of: date
    seed: int
    fraction: float
    minimum: int
    samples: tuple[Sample, ...] = field(default_factory=tuple)

    def manifest(self) -> dict[str, object]:
        """Seed, sizes and population sizes: enough to re-draw and check the sample."""
        return {
            "provider_id": self.provider_id,
            "as_of": self.as_of.isoformat(),
            "seed": self.seed,
            "fraction": self.fraction,
            "minimum": self.minimum,
            "method": "rank every case by sha256('<seed>|<population>|<case key>') and take "
            "the first max(minimum, ceil(fraction x population)), capped at the population",
            "samples": [
                {"name": s.name, "population": s.population, "sampled": s.size}
                for s in self.samples
            ],
        }


def new_seed() -> int:
    """A fresh seed for a draw nobody can predict in advance (it is recorded)."""
    return secrets.randbelow(2**31)


def sample_size(population: int, *, fraction: float, minimum: int) -> int:
    """max(minimum, ceil(fraction x population)), capped at the population.

    >>> sample_size(30, fraction=0.1, minimum=5), sample_size(73, fraction=0.1, minimum=5)
    (5, 8)
    """
    if not 0 <= fraction <= 1 or minimum < 0:
        raise ValueError(f"fraction must be 0..1 and minimum >= 0, got {fraction}, {minimum}")
    # round first: 0.1 x 30 is 3.0000000000000004 in floating point, not 4 cases
    wanted = max(minimum, math.ceil(round(fraction * population, 9)))
    return min(population, wanted)


def case_digest(seed: int, name: str, key: str) -> str:
    """The random key of one case: the SHA-256 of ``"<seed>|<population>|<case key>"``."""
    return hashlib.sha256(f"{seed}|{name}|{key}".encode()).hexdigest()


def draw(
    population: pd.DataFrame,
    keys: pd.Series,
    *,
    seed: int,
    name: str,
    fraction: float,
    minimum: int,
) -> Sample:
    """The first n cases of ``population`` ranked by their random key (see the module
    docstring), with ``pick_rank`` (1 = first) and ``pick_id``.

    Args:
        population: one row per case.
        keys: a text key per case (aligned to ``population``), stable between runs.
        seed: the recorded seed.
        name: the population's name, so that two populations are ranked independently.
        fraction, minimum: as for :func:`sample_size`.
    """
    picked, _, _ = _draw_each(
        population,
        np.zeros(len(population), dtype=int),
        keys,
        [seed],
        name=name,
        fraction=fraction,
        minimum=minimum,
    )
    return Sample(name=name, population=len(population), worklist=picked)


def _draw_each(
    population: pd.DataFrame,
    owner: np.ndarray,
    keys: pd.Series,
    seeds: list[int],
    *,
    name: str,
    fraction: float,
    minimum: int,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """:func:`draw` of each owner's cases (``owner``, ascending) with its own seed
    (``seeds``, by owner): the picks owner after owner, their owners, and each owner's
    population size."""
    owners = owner.tolist()
    digests = [
        case_digest(seeds[o], name, key) for o, key in zip(owners, keys.tolist(), strict=True)
    ]
    # each owner's cases by digest (a stable sort: equal keys keep their order)
    order = sorted(range(len(digests)), key=lambda i: (owners[i], digests[i]))
    counts = np.bincount(owner, minlength=len(seeds)).astype(int)
    picks: list[int] = []
    ranks: list[int] = []
    for start, count in zip((np.cumsum(counts) - counts).tolist(), counts.tolist(), strict=True):
        size = sample_size(count, fraction=fraction, minimum=minimum)
        picks += order[start : start + size]
        ranks += range(1, size + 1)
    picked = (
        population.iloc[picks]
        .reset_index(drop=True)
        .assign(
            pick_rank=np.array(ranks, dtype=np.int64),
            # typed as when something is picked, also when nothing is
            pick_id=pd.Series([f"{name}-{digests[i][:10]}" for i in picks], dtype="str"),
        )
    )
    return picked, owner[picks], counts


def stage_population(period: PeriodTables) -> tuple[pd.DataFrame, np.ndarray]:
    """Every listed employer of every provider of ``period`` (a period of one for one
    provider) in each engagement stage being monitored at ``as_of``, with each row's
    provider; built once per stacked tables and shared read-only.

    An employer is in a stage when a bootcamp it is linked to (``bootcamp_ids``; blank =
    every bootcamp) is in that stage: design from the bootcamp's first M1, delivery from
    its first M1 until it is over, post from its first M2 (kpi-rules.md section 1).

    Returns:
        The population: employer_id, stage, bootcamp_id (the one linked bootcamp in the
        stage, blank when several), bootcamps (all of them, ``;``-separated),
        employer_name, status, source; identifiers scoped as ``period`` holds them.
        Rows are in employer order (provider by provider), each employer's stages in
        :data:`STAGES` order. And each row's provider (its position in
        ``period.providers``).
    """
    return derived(period.tables, "employer_stage_population", lambda: _stage_population(period))


def _stage_population(period: PeriodTables) -> tuple[pd.DataFrame, np.ndarray]:
    timing = bootcamp_timing(period.tables, period.as_of)
    cutoff = pd.Timestamp(period.as_of)
    in_stage = {
        "design": (timing["first_m1"] <= cutoff).to_numpy(),
        "delivery": ((timing["first_m1"] <= cutoff) & ~timing["finished"]).to_numpy(),
        "post": (timing["first_m2"] <= cutoff).to_numpy(),
    }
    employers = period.tables["employers"]
    owner = period.owners["employers"]
    rows, positions = _links(period, timing.index)
    names = timing.index.to_numpy(dtype=object)
    parts = []
    for order, stage in enumerate(STAGES):
        keep = in_stage[stage][positions]
        row, running = rows[keep], names[positions[keep]].tolist()
        found, first, count = np.unique(row, return_index=True, return_counts=True)
        joined = [
            ";".join(running[a : a + n])
            for a, n in zip(first.tolist(), count.tolist(), strict=True)
        ]
        parts.append(
            pd.DataFrame(
                {
                    "row": found,
                    "order": order,
                    "employer_id": employers["employer_id"].to_numpy(object)[found],
                    "stage": stage,
                    "bootcamp_id": [
                        running[a] if n == 1 else None
                        for a, n in zip(first.tolist(), count.tolist(), strict=True)
                    ],
                    "bootcamps": joined,
                    "employer_name": employers["name"].to_numpy(object)[found],
                    "status": employers["status"].to_numpy(object)[found],
                    "source": employers["source"].to_numpy(object)[found],
                }
            )
        )
    stacked = pd.concat(parts, ignore_index=True)
    stacked = stacked.iloc[np.lexsort((stacked["order"].to_numpy(), stacked["row"].to_numpy()))]
    columns = [
        "employer_id",
        "stage",
        "bootcamp_id",
        "bootcamps",
        "employer_name",
        "status",
        "source",
    ]
    population = stacked[columns].astype(object).reset_index(drop=True)
    return population, owner[stacked["row"].to_numpy(dtype=int)]


def _links(period: PeriodTables, bootcamps: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """Each employer's linked bootcamps, as (employer row, bootcamp position in
    ``bootcamps``) pairs in row, then position, order: the bootcamps it names that its
    provider has (blank: every one of its provider's)."""
    employers = period.tables["employers"]
    owner = period.owners["employers"]
    at = {bootcamp: position for position, bootcamp in enumerate(bootcamps.tolist())}
    mine: dict[int, list[int]] = {}
    for position, provider in enumerate(period.bootcamp_owners(bootcamps).tolist()):
        mine.setdefault(provider, []).append(position)
    prefixes = period.prefixes
    rows: list[int] = []
    positions: list[int] = []
    local = unscoped(employers["bootcamp_ids"]).tolist()
    for row, (ids, provider) in enumerate(zip(local, owner.tolist(), strict=True)):
        named = _named(ids)
        linked = (
            sorted({at[b] for b in (prefixes[provider] + n for n in named) if b in at})
            if named
            else mine.get(provider, [])
        )
        rows += [row] * len(linked)
        positions += linked
    return np.array(rows, dtype=int), np.array(positions, dtype=int)


def _named(bootcamp_ids: object) -> list[str]:
    """The bootcamps a ``bootcamp_ids`` cell names; none for a blank (every bootcamp)."""
    if bootcamp_ids is None or (not isinstance(bootcamp_ids, str) and pd.isna(bootcamp_ids)):
        return []
    return [b.strip() for b in str(bootcamp_ids).split(";") if b.strip()]


def _local_population(population: pd.DataFrame) -> pd.DataFrame:
    """The population with its identifiers as each provider writes them."""
    return population.assign(
        **{
            column: unscoped(population[column])
            for column in ("employer_id", "bootcamp_id", "bootcamps")
        }
    )


def draw_samples(
    returns: Mapping[str, ProviderReturn],
    *,
    as_of: date,
    seeds: Mapping[str, int],
    fraction: float = DEFAULT_FRACTION,
    minimum: int = DEFAULT_MINIMUM,
    rules: Rules | None = None,
) -> dict[str, SampleSet]:
    """Verification worklists for every return of a draw (``kpitools sample``: a mapping
    of one): employers per engagement stage, completers, outcomes, and every unverified
    case, each provider's drawn from its own cases with its own seed
    (:func:`period_samples`, which the audit's worklists also draw from).

    Populations (each sampled on its own, with the same seed):

    - ``employers_<stage>``: :func:`stage_population`; the worklist has the columns of
      ``employer_contacts`` so that, filled in, it is next month's table;
    - ``completers``: learners with a completion date on or before ``as_of``;
    - ``outcomes``: outcome rows dated on or before ``as_of``;
    - ``unverified``: every learner whose KPI case is unverified, its evidence read
      from the ILR with the role type unknown (:func:`kpitools.kpis.unverified.
      unverified_cases`): all of them are picked (in the random order), since none
      counts until verified; left out when there is none.

    Args:
        returns: per provider id, its validated return.
        as_of: the measurement date; later records are not yet cases.
        seeds: per provider id, its seed, recorded in the manifest; the same seed gives
            the same picks.
        fraction: share of each population to pick (default 10 %).
        minimum: smallest sample (default 5; the whole population when smaller).
        rules: the rules the KPIs judge by (the outcome window decides which outcomes
            are cases); the defaults when None.

    Returns:
        Per provider id, its :class:`SampleSet`. The worklists name learners and
        employers by their refs and ids only; how an output shows them (pseudonym,
        names) is decided when it is written (:func:`write_samples`).
    """
    period = PeriodTables.of(returns, as_of)
    drawn = period_samples(period, seeds=seeds, fraction=fraction, minimum=minimum, rules=rules)
    picks = [(sample, period.split(sample.worklist, sample.owner)) for sample in drawn]
    return {
        key: SampleSet(
            key,
            as_of,
            seeds[key],
            fraction,
            minimum,
            tuple(
                Sample(sample.name, int(sample.populations[position]), split[key])
                for sample, split in picks
                # only a provider with unverified cases (evidence from its ILR) has that list
                if sample.name != "unverified" or sample.populations[position]
            ),
        )
        for position, key in enumerate(period.providers)
    }


def period_samples(
    period: PeriodTables,
    *,
    seeds: Mapping[str, int],
    fraction: float = DEFAULT_FRACTION,
    minimum: int = DEFAULT_MINIMUM,
    rules: Rules | None = None,
) -> list[PeriodSample]:
    """The samples of every provider of ``period`` at once, stacked (the audit's
    worklists, :func:`kpitools.worklists.build.build_worklists`, and
    :func:`draw_samples` lay them out per provider): each population is built once for
    the period, and each provider's sample drawn from its own cases with its own seed
    (``seeds``, per provider id), exactly as it is drawn alone.

    Returns:
        The samples in :func:`draw_samples` order, each holding every provider's picks.
    """
    population, owner = stage_population(period)
    population = _local_population(population)
    stage = population["stage"].to_numpy(dtype=object)
    samples = []
    for name in STAGES:
        mine = stage == name
        cases = population[mine]
        samples.append(
            _draw_period(
                period,
                cases,
                owner[mine],
                text_key(cases, ["employer_id"]),
                seeds=seeds,
                name=f"employers_{name}",
                fraction=fraction,
                minimum=minimum,
                layout=_employer_worklist,
            )
        )
    learners = period.tables["learners"]
    done = learners["completion_date"].notna().to_numpy()
    completers = _local_ids(learners[done])
    samples.append(
        _draw_period(
            period,
            completers,
            period.owners["learners"][done],
            text_key(completers, ["learner_ref", "bootcamp_id"]),
            seeds=seeds,
            name="completers",
            fraction=fraction,
            minimum=minimum,
            layout=lambda picked: _learner_worklist(picked, "completion"),
        )
    )
    outcomes = _local_ids(period.tables["outcomes"])
    keys = text_key(
        outcomes, ["learner_ref", "bootcamp_id", "outcome_type", "outcome_date", "employer_id"]
    )
    samples.append(
        _draw_period(
            period,
            outcomes,
            period.owners["outcomes"],
            keys,
            seeds=seeds,
            name="outcomes",
            fraction=fraction,
            minimum=minimum,
            layout=lambda picked: _learner_worklist(picked, "outcome"),
        )
    )
    unverified = unverified_cases(period.tables, as_of=period.as_of, rules=rules or Rules())
    owner = period.bootcamp_owners(pd.Index(unverified["bootcamp_id"]))
    unverified = _local_ids(unverified)
    samples.append(
        _draw_period(
            period,
            unverified,
            owner,
            text_key(unverified, ["learner_ref", "bootcamp_id"]),
            seeds=seeds,
            name="unverified",
            fraction=1.0,  # every unverified case: none counts until verified
            minimum=0,
            layout=_unverified_worklist,
        )
    )
    return samples


def _local_ids(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its identifier columns as each provider writes them."""
    columns = [c for c in ("learner_ref", "bootcamp_id", "employer_id") if c in frame]
    return frame.assign(**{column: unscoped(frame[column]) for column in columns})


@dataclass(frozen=True)
class PeriodSample:
    """One population's worklist for every provider of a period, provider after provider
    (``PeriodTables.split(worklist, owner)`` gives each provider's).

    Attributes:
        name: the population's name.
        worklist: every provider's picks, in pick order within each provider.
        owner: each pick's provider (its position in ``PeriodTables.providers``).
        populations: per provider (by position), the population's size.
    """

    name: str
    worklist: pd.DataFrame
    owner: np.ndarray
    populations: np.ndarray


def _draw_period(
    period: PeriodTables,
    population: pd.DataFrame,
    owner: np.ndarray,
    keys: pd.Series,
    *,
    seeds: Mapping[str, int],
    name: str,
    fraction: float,
    minimum: int,
    layout: Callable[[pd.DataFrame], pd.DataFrame],
) -> PeriodSample:
    """:func:`draw` of each provider's cases (``owner``) with its own seed, the picks
    laid out by ``layout``."""
    picked, owners, counts = _draw_each(
        population,
        owner,
        keys,
        [seeds[provider] for provider in period.providers],
        name=name,
        fraction=fraction,
        minimum=minimum,
    )
    return PeriodSample(name, layout(picked), owners, counts)


def _employer_worklist(picked: pd.DataFrame) -> pd.DataFrame:
    blank = pd.Series([None] * len(picked), index=picked.index, dtype=object)
    columns: dict[str, pd.Series] = {
        "pick_id": picked["pick_id"],
        "pick_rank": picked["pick_rank"],
        "entity": "employer:" + picked["employer_id"].astype(str),
        "employer_name": picked["employer_name"],
    }
    for name in EMPLOYER_CONTACT_COLUMNS:
        columns[name] = picked[name] if name in ("employer_id", "bootcamp_id", "stage") else blank
    columns["verified_by"] = blank
    return pd.DataFrame(columns, index=picked.index)


def _learner_worklist(picked: pd.DataFrame, stage: str) -> pd.DataFrame:
    facts = {
        "completion": ["learner_type", "completion_date"],
        "outcome": ["outcome_type", "outcome_date", "employer_id"],
    }[stage]
    return pd.DataFrame(
        {
            "pick_id": picked["pick_id"],
            "pick_rank": picked["pick_rank"],
            "entity": "learner:" + picked["learner_ref"].astype(str),
            "learner_ref": picked["learner_ref"],
            "bootcamp_id": picked["bootcamp_id"],
            "stage": pd.Series(stage, index=picked.index, dtype="str"),
            **{name: picked[name] for name in facts},
            "source": picked["source"],
            **{
                name: pd.Series([None] * len(picked), index=picked.index, dtype=object)
                for name in LEARNER_FILL_COLUMNS
            },
        },
        index=picked.index,
    )


def _unverified_worklist(picked: pd.DataFrame) -> pd.DataFrame:
    blank = {
        name: pd.Series([None] * len(picked), index=picked.index, dtype=object)
        for name in LEARNER_FILL_COLUMNS
    }
    return pd.DataFrame(
        {
            "pick_id": picked["pick_id"],
            "pick_rank": picked["pick_rank"],
            "entity": "learner:" + picked["learner_ref"].astype(str),
            "learner_ref": picked["learner_ref"],
            "bootcamp_id": picked["bootcamp_id"],
            "stage": pd.Series("unverified", index=picked.index, dtype="str"),
            "kpis": picked["kpis"],
            "evidence": picked["evidence"],
            "reason": picked["reason"],
            "source": picked["source"],
            **blank,
        },
        index=picked.index,
    )


def write_samples(sample_set: SampleSet, out_dir: str | Path, naming: LearnerNaming) -> list[Path]:
    """Write each worklist as ``<name>.csv`` and ``sample_manifest.json`` in ``out_dir``.

    Samples are working outputs: learners and employers are named by ``naming`` (the
    identity rule of :mod:`kpitools.privacy.naming`), with names, ULNs and contact details
    only when ``naming.include_pii``.

    Each CSV goes through :func:`kpitools.io.files.csv_bytes`, the one CSV writer (text
    cells a spreadsheet would run as formulas made inert), and is written under a
    temporary name and renamed, so a rerun replaces its own outputs whole.

    Returns:
        The paths written, manifest last.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for sample in sample_set.samples:
        worklist = naming.frame(sample.worklist)
        data = csv_bytes(worklist, tuple(worklist.columns))
        written.append(write_atomic(out / f"{sample.name}.csv", data))
    manifest = {
        "kpitools_version": __version__,
        **sample_set.manifest(),
        "files": [p.name for p in written],
    }
    written.append(
        write_atomic(out / "sample_manifest.json", json.dumps(manifest, indent=2).encode("utf-8"))
    )
    return written


def measurement_date(provider_dir: Path, as_of: str | None) -> date:
    """``as_of`` as a date, or the last day of the provider folder's period.

    Raises:
        ParameterError: ``as_of`` is not YYYY-MM-DD, or is absent and the folder's parent
            is not named ``YYYY-MM``.
    """
    given = parse_date(as_of, name="--as-of")  # None when not given (or blank)
    if given is not None:
        return given
    try:
        return period_end(provider_dir.resolve().parent.name)
    except ValueError:
        raise ParameterError(
            f"no --as-of given and {provider_dir.resolve().parent.name!r} is not a YYYY-MM "
            "period folder; give --as-of YYYY-MM-DD",
            path=provider_dir,
        ) from None
