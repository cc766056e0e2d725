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
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from kpitools import __version__
from kpitools.calendar import parse_date, period_end
from kpitools.checks.common import text_key
from kpitools.errors import ParameterError
from kpitools.io.files import write_atomic
from kpitools.kpis.measured import bootcamp_timing, derived, measured
from kpitools.model import ProviderReturn
from kpitools.privacy.naming import LearnerNaming
from kpitools.returns.contract import STAGES, TABLES

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


def rank_population(population: pd.DataFrame, keys: pd.Series, *, seed: int, name: str) -> pd.DataFrame:
    """The population in pick order, with ``pick_rank`` (1 = first) and ``pick_id``.

    Args:
        population: one row per case.
        keys: a text key per case (aligned to ``population``), stable between runs.
        seed: the recorded seed.
        name: the population's name, so that two populations are ranked independently.
    """
    digests = [
        hashlib.sha256(f"{seed}|{name}|{key}".encode()).hexdigest() for key in keys
    ]
    # a stable sort by digest (equal keys keep their order), then one copy of the rows
    order = sorted(range(len(digests)), key=digests.__getitem__)
    ranked = population.iloc[order].assign(
        pick_rank=range(1, len(order) + 1),
        pick_id=[f"{name}-{digests[i][:10]}" for i in order],
    )
    return ranked.reset_index(drop=True)


def draw(
    population: pd.DataFrame, keys: pd.Series, *, seed: int, name: str, fraction: float, minimum: int
) -> Sample:
    """The first n cases of :func:`rank_population` (see the module docstring)."""
    ranked = rank_population(population, keys, seed=seed, name=name)
    size = sample_size(len(ranked), fraction=fraction, minimum=minimum)
    return Sample(name=name, population=len(ranked), worklist=ranked.head(size))


def employer_stage_population(provider: ProviderReturn, *, as_of: date) -> pd.DataFrame:
    """Every listed employer in each engagement stage being monitored at ``as_of``.

    An employer is in a stage when a bootcamp it is linked to (``bootcamp_ids``; blank =
    every bootcamp) is in that stage: design from the bootcamp's first M1, delivery from
    its first M1 until it is over, post from its first M2 (kpi-rules.md section 1).
    Built once per return and ``as_of`` (:mod:`kpitools.kpis.measured`); the frame is
    shared read-only.

    Returns:
        employer_id, stage, bootcamp_id (the one linked bootcamp in the stage, blank when
        several), bootcamps (all of them, ``;``-separated), employer_name, status, source.
    """
    return derived(measured(provider, as_of), "employer_stage_population",
                   lambda: _employer_stage_population(provider, as_of))


def _employer_stage_population(provider: ProviderReturn, as_of: date) -> pd.DataFrame:
    timing = bootcamp_timing(measured(provider, as_of), as_of)
    cutoff = pd.Timestamp(as_of)
    in_stage = {
        "design": set(timing.index[timing["first_m1"] <= cutoff]),
        "delivery": set(timing.index[(timing["first_m1"] <= cutoff) & ~timing["finished"]]),
        "post": set(timing.index[timing["first_m2"] <= cutoff]),
    }
    all_bootcamps = list(timing.index)
    employers = measured(provider, as_of)["employers"]
    rows = []
    for employer_id, bootcamp_ids, name, status, source in zip(
        employers["employer_id"], employers["bootcamp_ids"], employers["name"],
        employers["status"], employers["source"], strict=True,
    ):
        linked = _linked_bootcamps(bootcamp_ids, all_bootcamps)
        for stage in STAGES:
            running = [b for b in linked if b in in_stage[stage]]
            if running:
                rows.append({
                    "employer_id": employer_id, "stage": stage,
                    "bootcamp_id": running[0] if len(running) == 1 else None,
                    "bootcamps": ";".join(running), "employer_name": name,
                    "status": status, "source": source,
                })
    columns = ["employer_id", "stage", "bootcamp_id", "bootcamps", "employer_name", "status", "source"]
    return pd.DataFrame(rows, columns=columns).astype(object)


def _linked_bootcamps(bootcamp_ids: object, all_bootcamps: list[str]) -> list[str]:
    if bootcamp_ids is None or (not isinstance(bootcamp_ids, str) and pd.isna(bootcamp_ids)):
        return all_bootcamps
    named = [b.strip() for b in str(bootcamp_ids).split(";") if b.strip()]
    return [b for b in all_bootcamps if b in named] if named else all_bootcamps


def draw_samples(
    provider: ProviderReturn,
    *,
    as_of: date,
    seed: int,
    fraction: float = DEFAULT_FRACTION,
    minimum: int = DEFAULT_MINIMUM,
) -> SampleSet:
    """Verification worklists for one provider: employers per engagement stage,
    completers, and outcomes.

    Populations (each sampled on its own, with the same seed):

    - ``employers_<stage>``: :func:`employer_stage_population`; the worklist has the
      columns of ``employer_contacts`` so that, filled in, it is next month's table;
    - ``completers``: learners with a completion date on or before ``as_of``;
    - ``outcomes``: outcome rows dated on or before ``as_of``.

    Args:
        provider: the validated return.
        as_of: the measurement date; later records are not yet cases.
        seed: recorded in the manifest; the same seed gives the same picks.
        fraction: share of each population to pick (default 10 %).
        minimum: smallest sample (default 5; the whole population when smaller).

    The worklists name learners and employers by their refs and ids only; how an output
    shows them (pseudonym, names) is decided when it is written (:func:`write_samples`).
    """
    samples: list[Sample] = []
    employers = employer_stage_population(provider, as_of=as_of)
    for stage in STAGES:
        population = employers[employers["stage"] == stage]
        keys = text_key(population, ["employer_id"])
        sample = draw(population, keys, seed=seed, name=f"employers_{stage}",
                      fraction=fraction, minimum=minimum)
        samples.append(_as_employer_worklist(sample))
    tables = measured(provider, as_of)
    completers = tables["learners"][tables["learners"]["completion_date"].notna()]
    keys = text_key(completers, ["learner_ref", "bootcamp_id"])
    sample = draw(completers, keys, seed=seed, name="completers", fraction=fraction, minimum=minimum)
    samples.append(_as_learner_worklist(sample, "completion"))
    outcomes = tables["outcomes"]
    keys = text_key(outcomes, ["learner_ref", "bootcamp_id", "outcome_type", "outcome_date",
                               "employer_id"])
    sample = draw(outcomes, keys, seed=seed, name="outcomes", fraction=fraction, minimum=minimum)
    samples.append(_as_learner_worklist(sample, "outcome"))
    return SampleSet(provider.provider_id, as_of, seed, fraction, minimum, tuple(samples))


def _as_employer_worklist(sample: Sample) -> Sample:
    picked = sample.worklist
    blank = pd.Series([None] * len(picked), index=picked.index, dtype=object)
    columns: dict[str, pd.Series] = {
        "pick_id": picked["pick_id"], "pick_rank": picked["pick_rank"],
        "entity": "employer:" + picked["employer_id"].astype(str),
        "employer_name": picked["employer_name"],
    }
    for name in EMPLOYER_CONTACT_COLUMNS:
        columns[name] = picked[name] if name in ("employer_id", "bootcamp_id", "stage") else blank
    columns["verified_by"] = blank
    worklist = pd.DataFrame(columns, index=picked.index)
    return Sample(sample.name, sample.population, worklist.reset_index(drop=True))


def _as_learner_worklist(sample: Sample, stage: str) -> Sample:
    picked = sample.worklist
    facts = {
        "completion": ["learner_type", "completion_date"],
        "outcome": ["outcome_type", "outcome_date", "employer_id"],
    }[stage]
    worklist = pd.DataFrame({
        "pick_id": picked["pick_id"], "pick_rank": picked["pick_rank"],
        "entity": "learner:" + picked["learner_ref"].astype(str),
        "learner_ref": picked["learner_ref"], "bootcamp_id": picked["bootcamp_id"],
        "stage": stage,
        **{name: picked[name] for name in facts},
        "source": picked["source"],
        **{name: pd.Series([None] * len(picked), index=picked.index, dtype=object)
           for name in LEARNER_FILL_COLUMNS},
    }, index=picked.index)
    return Sample(sample.name, sample.population, worklist.reset_index(drop=True))


def write_samples(sample_set: SampleSet, out_dir: str | Path, naming: LearnerNaming) -> list[Path]:
    """Write each worklist as ``<name>.csv`` and ``sample_manifest.json`` in ``out_dir``.

    Samples are working outputs: learners and employers are named by ``naming`` (the
    identity rule of :mod:`kpitools.privacy.naming`), with names, ULNs and contact details
    only when ``naming.include_pii``.

    Files are written under a temporary name and renamed, so a rerun replaces its own
    outputs whole. (Kept beside the sampler rather than in ``kpitools.io``: it is the
    only writer of these files.)

    Returns:
        The paths written, manifest last.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for sample in sample_set.samples:
        text = naming.frame(sample.worklist).to_csv(index=False, date_format="%Y-%m-%d")
        written.append(write_atomic(out / f"{sample.name}.csv", text.encode("utf-8")))
    manifest = {"kpitools_version": __version__, **sample_set.manifest(),
                "files": [p.name for p in written]}
    written.append(write_atomic(out / "sample_manifest.json", json.dumps(manifest, indent=2).encode("utf-8")))
    return written


def measurement_date(provider_dir: Path, as_of: str | None) -> date:
    """``as_of`` as a date, or the last day of the provider folder's period.

    Raises:
        ParameterError: ``as_of`` is not YYYY-MM-DD, or is absent and the folder's parent
            is not named ``YYYY-MM``.
    """
    if as_of:
        return parse_date(as_of, name="--as-of")
    try:
        return period_end(provider_dir.resolve().parent.name)
    except ValueError:
        raise ParameterError(
            f"no --as-of given and {provider_dir.resolve().parent.name!r} is not a YYYY-MM "
            "period folder; give --as-of YYYY-MM-DD", path=provider_dir,
        ) from None
