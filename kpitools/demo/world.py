"""The demo world: every provider's bootcamps, employers and learners as they really
happened, including what happens after the reporting periods.

A monthly return is a snapshot of this world (:mod:`kpitools.demo.snapshot`), so the
same learner evolves from month to month. Rows are plain dicts keyed by contract column
names; dates are ``datetime.date``, money is whole pence (``int``), flags are ``"Y"`` /
``"N"`` / None. The random draws come from ``random.Random`` seeded with strings built
from the seed, so the same seed always gives the same world.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from kpitools.calendar import add_months, parse_period, period_end
from kpitools.demo import names
from kpitools.returns.contract import DELIVERY_ROLES, EMPLOYER_ROLES

Row = dict[str, Any]
"""A row of any contract table, column name → value. The value's type is the column's
(date, pence, text, a list of bootcamp ids ...), which a type checker cannot tell from
a column name the plants choose at run time: values are ``Any``, not ``object``."""
Edit = Callable[[int, dict[str, list[Row]]], object]
"""A change to one period's snapshot: (period index, tables by name) -> ignored."""
PLANT_EMPLOYERS = 6  # employers 0-5 of each provider: first bootcamp only, for plants


@dataclass
class LearnerLife:
    """One learner's true story: the learners row and every dependent row.

    Attributes:
        row: the learners table row (all dates, including future ones).
        fate: ``pre_m1_withdrawn``, ``withdrawn`` (after M1) or ``completed``.
        success: a completer who wins a valid outcome inside the 6-month window.
        children: dependent rows per table (assessments, interviews, ...).
        planted: already used by a plant (plants never share a learner).
    """

    row: Row
    fate: str
    success: bool
    children: dict[str, list[Row]] = field(default_factory=dict)
    planted: bool = False

    @property
    def ref(self) -> str:
        return str(self.row["learner_ref"])

    @property
    def bootcamp_id(self) -> str:
        return str(self.row["bootcamp_id"])


@dataclass
class ProviderWorld:
    """One provider's world, its file style and the plants placed in it."""

    provider_id: str
    seed: int
    clean: bool
    provider: Row
    bootcamps: list[Row] = field(default_factory=list)
    employers: list[Row] = field(default_factory=list)
    contacts: list[Row] = field(default_factory=list)
    learners: list[LearnerLife] = field(default_factory=list)
    # rows present in every return whatever their dates (bad rows, future-dated rows)
    extra_rows: dict[str, list[Row]] = field(default_factory=dict)
    # per-period changes: callables (period index, tables) -> None
    edits: list[Edit] = field(default_factory=list)
    style: dict[str, object] = field(default_factory=dict)
    # how many employers to invent (a national-size run asks for more per provider)
    employer_range: tuple[int, int] = (10, 20)

    def rng(self, *purpose: object) -> random.Random:
        """A generator private to this provider and purpose (stable across code changes
        elsewhere, so adding a plant does not reshuffle unrelated data)."""
        return random.Random(":".join(str(p) for p in (self.seed, self.provider_id, *purpose)))

    def bootcamp(self, bootcamp_id: str) -> Row:
        return next(b for b in self.bootcamps if b["bootcamp_id"] == bootcamp_id)

    def employer(self, employer_id: str) -> Row:
        return next(e for e in self.employers if e["employer_id"] == employer_id)

    def learners_of(self, bootcamp_id: str) -> list[LearnerLife]:
        return [life for life in self.learners if life.bootcamp_id == bootcamp_id]

    def employers_with_role(self, role: str) -> list[Row]:
        return [
            e
            for e in self.employers
            if e["status"] == "active" and role in str(e["roles"] or "").split(";")
        ]


@dataclass
class World:
    """Every provider's world and the calendar it was built for."""

    seed: int
    periods: list[str]
    providers: list[ProviderWorld]

    @property
    def anchor_end(self) -> date:
        return period_end(self.periods[-1])


def uln_check_digit(first_nine: str) -> int | None:
    """ULN_04: weights 10..2 on digits 1-9, remainder mod 11; 0 is invalid."""
    remainder = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True)) % 11
    return None if remainder == 0 else 10 - remainder


def new_uln(rng: random.Random, taken: set[str]) -> str:
    """A fresh valid ULN not in ``taken`` (added to it)."""
    while True:
        first_nine = str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(8))
        check = uln_check_digit(first_nine)
        uln = f"{first_nine}{check}"
        if check is not None and uln not in taken and uln != "9999999999":
            taken.add(uln)
            return uln


def first_day(period: str, months: int = 0) -> date:
    year, month = parse_period(period)
    return add_months(date(year, month, 1), months)


def make_bootcamps(pw: ProviderWorld, periods: list[str], features: set[str]) -> None:
    """3-5 bootcamps: the first ends long before the first period (its outcome windows
    have closed), the second overlaps it, the last starts in the last four months
    (running or just finished), others in between; ``not_started`` adds one that
    starts after the last period."""
    rng = pw.rng("bootcamps")
    b0_start = first_day(periods[0], -10)
    months_to_anchor = (first_day(periods[-1]).year - b0_start.year) * 12 + (
        first_day(periods[-1]).month - b0_start.month
    )
    count = rng.randint(3, 4) if "not_started" in features else rng.randint(3, 5)
    offsets = [0, rng.choice([1, 2])]
    middle = list(range(offsets[1] + 1, months_to_anchor - 3))
    offsets += sorted(rng.sample(middle, min(len(middle), max(0, count - 3))))
    # the latest one started within the last four months: running or just finished
    offsets.append(rng.randint(max(offsets[-1] + 1, months_to_anchor - 3), months_to_anchor))
    if "not_started" in features:
        offsets.append(months_to_anchor + rng.choice([1, 2]))
    kinds = rng.sample(names.BOOTCAMP_KINDS, len(offsets))
    for number, (offset, (sector, title, accelerated)) in enumerate(
        zip(offsets, kinds, strict=True), 1
    ):
        start = add_months(b0_start, offset) + timedelta(days=rng.randint(0, 10))
        accelerated = accelerated or (number == 1 and "accelerated_b0" in features)
        pw.bootcamps.append(
            {
                "bootcamp_id": f"{pw.provider_id}-BC{number:02d}",
                "title": title,
                "sector": sector,
                "start_date": start,
                "end_date": start + timedelta(weeks=rng.randint(12, 16)) - timedelta(days=3),
                "price_per_learner": rng.randrange(2000, 6501, 50) * 100,
                "accelerated_apprenticeship": "Y" if accelerated else "N",
                "planned_learners": None,
            }
        )


def make_employers(pw: ProviderWorld) -> None:
    """``pw.employer_range`` (default 10-20) employers: the first six interview for the first bootcamp only (employer
    plants use them), the next two train their own staff (co-funders), the last is
    dropped from the bid with a reason and a replacement."""
    rng = pw.rng("employers")
    count = rng.randint(*pw.employer_range)
    started = [b["bootcamp_id"] for b in pw.bootcamps]
    used_names: set[str] = set()
    for k in range(count):
        name = _employer_name(rng, used_names)
        large = rng.random() < 0.3
        employees = rng.randint(250, 5000) if large else rng.randint(5, 249)
        roles = set(rng.sample(EMPLOYER_ROLES[:8], rng.randint(1, 3)))
        if k < PLANT_EMPLOYERS:
            roles |= {"interviewing", rng.choice(DELIVERY_ROLES)}
        elif k in (PLANT_EMPLOYERS, PLANT_EMPLOYERS + 1):
            roles = {"own_staff_training", rng.choice(DELIVERY_ROLES)}
        links = (
            [started[0]]
            if k < PLANT_EMPLOYERS
            else rng.sample(started, min(len(started), rng.randint(1, 2)))
        )
        given, family = rng.choice(names.GIVEN_NAMES), rng.choice(names.FAMILY_NAMES)
        domain = name.split()[0].lower() + ".example"
        pw.employers.append(
            {
                "employer_id": f"{pw.provider_id}-E{k + 1:02d}",
                "name": name,
                "employee_count": employees,
                "size_band": "large" if large else "SME",
                "roles": ";".join(r for r in EMPLOYER_ROLES if r in roles),
                "bootcamp_ids": links,
                "contact_name": f"{given} {family}",
                "contact_email": f"{given.lower()}.{family.lower()}@{domain}",
                "contact_phone": f"01632 960{rng.randint(0, 999):03d}",
                "in_bid": "Y" if rng.random() < 0.7 else "N",
                "status": "active",
                "dropped_reason": None,
                "replacement_employer_id": None,
            }
        )
    dropped = pw.employers[-1]
    dropped.update(
        in_bid="Y",
        status="dropped",
        bootcamp_ids=[started[0]],
        dropped_reason="Withdrew after restructuring; replaced",
        replacement_employer_id=pw.employers[PLANT_EMPLOYERS]["employer_id"],
    )
    for bootcamp_id in started:  # every bootcamp has an employer linked to it
        if not any(bootcamp_id in e["bootcamp_ids"] for e in pw.employers[:-1]):
            index = rng.randint(PLANT_EMPLOYERS, len(pw.employers) - 2)
            pw.employers[index]["bootcamp_ids"].append(bootcamp_id)


def _employer_name(rng: random.Random, used: set[str]) -> str:
    while True:
        name = " ".join(
            (
                rng.choice(names.EMPLOYER_FIRST),
                rng.choice(names.EMPLOYER_SECOND),
                rng.choice(names.EMPLOYER_SUFFIX),
            )
        )
        if name not in used:
            used.add(name)
            return name
