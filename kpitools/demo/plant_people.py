"""Who the demo's learners are (date of birth, postcode, NI number), and the people it
plants for the person matching (DUP-PERSON-OVERLAP, DUP-PERSON-REPEAT): one person
entered by two providers with the noise real returns carry, and look-alikes who are two
people.

Identities come from each provider's own generator (``pw.rng("identity")``) and the
plants only rewrite the identity of learners already there (names, birth date, postcode,
NI number; never a date of their learning, a ULN or a dependent row), so no other
figure, finding or sample of the demo moves with them.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from kpitools.calendar import add_months, period_end
from kpitools.demo.plant import Planter
from kpitools.demo.world import LearnerLife, ProviderWorld, Row

# West Midlands postcode areas and their districts, for plausible synthetic postcodes
_AREAS = {"B": 99, "CV": 12, "WV": 14, "WS": 15, "DY": 14}
_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters an inward code uses
NI_SHARE = 0.7  # of learners whose NI number the return gives
POSTCODE_SHARE = 0.9
REPEAT_MONTHS = 12  # the rule person_repeat_months' default
# nicknames the matching knows (kpitools.checks.person_model), as (given, shortened)
_SHORTENED = (("Daniel", "Dan"), ("Oliver", "Olly"), ("Samuel", "Sam"), ("Thomas", "Tom"))


def give_identities(pw: ProviderWorld) -> None:
    """A date of birth (19 to 55 at the start), a postcode (most learners) and an NI
    number (some) for every learner of ``pw``, from its own generator."""
    rng = pw.rng("identity")
    for life in pw.learners:
        life.row.update(identity(rng, life.row["start_date"]))


def identity(rng: random.Random, start: date) -> Row:
    """One synthetic identity. NI numbers start with Q, a first letter HMRC never
    issues, so none can be a real person's."""
    born = start - timedelta(days=rng.randint(19 * 366, 55 * 365))
    return {
        "date_of_birth": born,
        "postcode": postcode(rng) if rng.random() < POSTCODE_SHARE else None,
        "ni_number": (
            f"Q{rng.choice(string.ascii_uppercase)}{rng.randint(0, 999999):06d}{rng.choice('ABCD')}"
            if rng.random() < NI_SHARE
            else None
        ),
    }


def postcode(rng: random.Random) -> str:
    area = rng.choice(sorted(_AREAS))
    unit = "".join(rng.choice(_UNIT_LETTERS) for _ in range(2))
    return f"{area}{rng.randint(1, _AREAS[area])} {rng.randint(0, 9)}{unit}"


@dataclass(frozen=True)
class _Pair:
    """Two learners of two planted providers, chosen for one plant."""

    first: tuple[ProviderWorld, LearnerLife]
    second: tuple[ProviderWorld, LearnerLife]


Noise = Callable[[LearnerLife, LearnerLife, random.Random], None]
"""How the second provider's row of a person differs from the first's."""


def plant_people(p: Planter) -> None:
    """Four people each entered by two providers with overlapping learning, one who
    starts again after completing elsewhere, and three look-alike pairs. Each plant
    records its pair in the ground truth (``Planter.person_pairs``)."""
    if len(p.slots) < 2:
        return
    taken: set[tuple[str, str]] = set()
    noises: tuple[tuple[str, Noise], ...] = (
        ("misspelt-given", _misspelt_given),
        ("shortened-given", _shortened_given),
        ("day-month-swapped", _day_month_swapped),
        ("misspelt-family", _misspelt_family),
    )
    for index, (noise, change) in enumerate(noises):
        pair = _overlapping(p, index, taken)
        if pair is not None:
            _same_person(p, pair, f"DUP-PERSON-OVERLAP-{noise}", "DUP-PERSON-OVERLAP", change)
    pair = _repeating(p, taken)
    if pair is not None:
        _same_person(p, pair, "DUP-PERSON-REPEAT", "DUP-PERSON-REPEAT", _shortened_given)
    look_alikes: tuple[tuple[str, Callable[[_Pair, random.Random], None]], ...] = (
        ("twins", _twins),
        ("common-name", _common_name),
        ("neighbours", _neighbours),
    )
    for index, (kind, look_alike) in enumerate(look_alikes):
        pair = _overlapping(p, len(noises) + index, taken)
        if pair is not None:
            look_alike(pair, pair.first[0].rng("look-alike", kind))
            p.person_pairs.append(_record(pair, f"LOOK-ALIKE-{kind}", same=False))


def _candidates(pw: ProviderWorld, taken: set[tuple[str, str]]) -> list[LearnerLife]:
    """The learners of ``pw`` free for a person plant: not planted otherwise (their
    rows are as generated), started before the first period's end."""
    return sorted(
        (
            life
            for life in pw.learners
            if not life.planted and (pw.provider_id, life.ref) not in taken
        ),
        key=lambda life: (life.row["start_date"], life.ref),
    )


def _learning(pw: ProviderWorld, life: LearnerLife) -> tuple[date, date]:
    """The learning period as it truly is (a month that does not know the withdrawal or
    completion yet shows it longer, to the bootcamp's end)."""
    row = life.row
    end = (
        row["withdrawal_date"]
        or row["completion_date"]
        or pw.bootcamp(life.bootcamp_id)["end_date"]
    )
    return row["start_date"], max(end, row["start_date"])


def _overlapping(p: Planter, index: int, taken: set[tuple[str, str]]) -> _Pair | None:
    """Two learners of providers ``index`` and ``index + 1`` (planted slots), both in
    every period's return, whose learning overlaps, each withdrawn or completed."""
    first_day = period_end(p.world.periods[0])
    pw_a, pw_b = p.provider(index), p.provider(index + 1)
    if pw_a is pw_b:
        return None
    rng = pw_a.rng("person-pair", index)
    pool_a = [life for life in _candidates(pw_a, taken) if life.row["start_date"] <= first_day]
    rng.shuffle(pool_a)
    for life_a in pool_a:
        start_a, end_a = _learning(pw_a, life_a)
        for life_b in _candidates(pw_b, taken):
            start_b, end_b = _learning(pw_b, life_b)
            if start_b <= first_day and start_a <= end_b and start_b <= end_a:
                taken.update({(pw_a.provider_id, life_a.ref), (pw_b.provider_id, life_b.ref)})
                return _Pair((pw_a, life_a), (pw_b, life_b))
    return None


def _repeating(p: Planter, taken: set[tuple[str, str]]) -> _Pair | None:
    """A completer of one provider and a learner of another who started after the
    first's bootcamp ended (so never overlapping) and within :data:`REPEAT_MONTHS` of
    the completion, both in every period's return."""
    first_day = period_end(p.world.periods[0])
    for index in range(len(p.slots)):
        pw_a, pw_b = p.provider(index), p.provider(index + 1)
        for life_a in _candidates(pw_a, taken):
            completed = life_a.row["completion_date"]
            if life_a.fate != "completed" or completed is None or completed > first_day:
                continue
            end_a = pw_a.bootcamp(life_a.bootcamp_id)["end_date"]
            for life_b in _candidates(pw_b, taken):
                start_b = life_b.row["start_date"]
                if end_a < start_b <= min(first_day, add_months(completed, REPEAT_MONTHS)):
                    taken.update({(pw_a.provider_id, life_a.ref), (pw_b.provider_id, life_b.ref)})
                    return _Pair((pw_a, life_a), (pw_b, life_b))
    return None


def _same_person(p: Planter, pair: _Pair, plant: str, rule_id: str, noise: Noise) -> None:
    """The second learner made the first under another ULN, with ``noise``; the finding
    expected on both, in every period."""
    (pw_a, life_a), (pw_b, life_b) = pair.first, pair.second
    for column in ("given_name", "family_name", "date_of_birth", "postcode", "ni_number"):
        life_b.row[column] = life_a.row[column]
    # the first always gives its postcode; the second writes it its own way
    if life_a.row["postcode"] is None:
        life_a.row["postcode"] = life_b.row["postcode"] = postcode(pw_a.rng("postcode", plant))
    life_b.row["postcode"] = str(life_a.row["postcode"]).replace(" ", "").lower()
    life_b.row["ni_number"] = None  # NI missing on one side
    noise(life_a, life_b, pw_b.rng("noise", plant))
    for pw_x, life, other, pw_y in ((pw_a, life_a, life_b, pw_b), (pw_b, life_b, life_a, pw_a)):
        p.expect_learner(
            plant,
            rule_id,
            pw_x,
            life,
            f"the same person as learner {other.ref} of {pw_y.provider_id} under another ULN"
            f" ({plant.removeprefix(rule_id + '-') or 'repeat'})",
            alt_entities=(f"learner:{other.ref}",),
        )
    p.person_pairs.append(_record(pair, plant, same=True))


def _misspelt_given(a: LearnerLife, b: LearnerLife, rng: random.Random) -> None:
    name = str(a.row["given_name"])
    at = rng.randint(1, len(name) - 2)
    b.row["given_name"] = name[:at] + name[at + 1] + name[at] + name[at + 2 :]


def _shortened_given(a: LearnerLife, b: LearnerLife, rng: random.Random) -> None:
    full, short = rng.choice(_SHORTENED)
    a.row["given_name"], b.row["given_name"] = full, short


def _day_month_swapped(a: LearnerLife, b: LearnerLife, rng: random.Random) -> None:
    born = a.row["date_of_birth"]
    day = rng.randint(1, 12)
    month = rng.choice([m for m in range(1, 13) if m != day])
    a.row["date_of_birth"] = date(born.year, month, day)
    b.row["date_of_birth"] = date(born.year, day, month)


def _misspelt_family(a: LearnerLife, b: LearnerLife, rng: random.Random) -> None:
    name = str(a.row["family_name"])
    at = rng.randint(1, len(name) - 1)
    b.row["family_name"] = name[:at] + name[at - 1] + name[at:]  # a letter doubled


def _twins(pair: _Pair, rng: random.Random) -> None:
    """One family name, birth date and postcode; their own given names and NI numbers."""
    (_, a), (_, b) = pair.first, pair.second
    b.row["family_name"] = a.row["family_name"]
    b.row["date_of_birth"] = a.row["date_of_birth"]
    a.row["postcode"] = b.row["postcode"] = postcode(rng)
    a.row["given_name"], b.row["given_name"] = "Amara", "Isla"
    for life in (a, b):
        life.row["ni_number"] = f"QZ{rng.randint(0, 999999):06d}A"


def _common_name(pair: _Pair, rng: random.Random) -> None:
    """One common name and birth date, living apart, each with an NI number."""
    (_, a), (_, b) = pair.first, pair.second
    for life in (a, b):
        life.row["given_name"], life.row["family_name"] = "Mohammed", "Khan"
        life.row["ni_number"] = f"QY{rng.randint(0, 999999):06d}B"
        life.row["postcode"] = postcode(rng)
    b.row["date_of_birth"] = a.row["date_of_birth"]


def _neighbours(pair: _Pair, rng: random.Random) -> None:
    """One birth date and postcode, other names."""
    (_, a), (_, b) = pair.first, pair.second
    b.row["date_of_birth"] = a.row["date_of_birth"]
    a.row["postcode"] = b.row["postcode"] = postcode(rng)
    if a.row["family_name"] == b.row["family_name"]:
        b.row["family_name"] = "Nowak" if a.row["family_name"] != "Nowak" else "Owen"


def _record(pair: _Pair, plant: str, *, same: bool) -> dict[str, object]:
    (pw_a, a), (pw_b, b) = pair.first, pair.second
    return {
        "plant": plant,
        "same_person": same,
        "learners": [
            {"provider_id": pw_a.provider_id, "learner_ref": a.ref, "bootcamp_id": a.bootcamp_id},
            {"provider_id": pw_b.provider_id, "learner_ref": b.ref, "bootcamp_id": b.bootcamp_id},
        ],
    }
