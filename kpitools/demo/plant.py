"""Shared machinery of the plants: choosing learners and employers, recording specs.

A plant changes the world (or one period's snapshot through an edit) at a known place
and records :class:`~kpitools.demo.truth.PlantSpec` expectations. Plants never share a
learner, and the learners they pick are otherwise clean (a completer picked for an
interview plant still has a valid outcome, and so on), so each fails only its rule.
Planted providers are ``slots`` 0-4 (P001-P005 by default); the clean ones are untouched.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from kpitools.demo.lives import build_children
from kpitools.demo.truth import PlantSpec
from kpitools.demo.world import PLANT_EMPLOYERS, LearnerLife, ProviderWorld, Row, World
from kpitools.errors import ParameterError


class Planter:
    """Places plants in the planted providers and collects their specs."""

    def __init__(self, world: World, slots: list[ProviderWorld]) -> None:
        self.world = world
        self.slots = slots
        self.specs: list[PlantSpec] = []
        self.hostile: list[tuple[ProviderWorld, str, str, str, dict[str, object], str, str]] = []
        self._employers_used: dict[str, int] = {}
        # the person plants' pairs, same person or look-alike (kpitools.demo.plant_people)
        self.person_pairs: list[dict[str, object]] = []

    def provider(self, slot: int) -> ProviderWorld:
        return self.slots[slot % len(self.slots)]

    @property
    def period_count(self) -> int:
        return len(self.world.periods)

    def change_index(self, wanted: int) -> int:
        """The period a restatement shows in: ``wanted`` (1 or 2) if there are enough."""
        return min(wanted, self.period_count - 1)

    def pick(
        self,
        pw: ProviderWorld,
        plant: str,
        *,
        fate: str = "completed",
        learner_type: str = "independent",
        wants: str | None = None,
        bootcamp_index: int = 0,
        success: bool = True,
    ) -> LearnerLife:
        """An unplanted learner of the given fate and type in a bootcamp of ``pw``,
        rebuilt as a clean learner (``success`` says whether it wins an outcome).

        When no learner of a rarer type is there, an independent one is converted
        (a co-funded learner then trains with the provider's first own-staff employer).

        Raises:
            ParameterError: the bootcamp has too few learners for its plants.
        """
        bootcamp_id = str(pw.bootcamps[bootcamp_index]["bootcamp_id"])
        pool = [
            life for life in pw.learners_of(bootcamp_id) if not life.planted and life.fate == fate
        ]
        fits = [
            life
            for life in pool
            if life.row["learner_type"] == learner_type
            and (wants is None or life.row["wants_interview"] == wants)
        ]
        if not fits:
            fits = [life for life in pool if life.row["learner_type"] == "independent"]
        if not fits:
            raise ParameterError(
                f"demo: too few learners in {bootcamp_id} to plant {plant}; use more learners"
            )
        life = pw.rng("pick", plant).choice(sorted(fits, key=lambda x: x.ref))
        if life.row["learner_type"] != learner_type:
            _convert(pw, life, learner_type, wants)
        life.planted = True
        life.success = success and fate == "completed"
        build_children(pw, life)
        return life

    def take_employer(self, pw: ProviderWorld, *, share: bool = False) -> Row:
        """The next unused plant employer of ``pw`` (linked to the first bootcamp only,
        interviewing, with contacts at every stage). ``share``: a plant that does not
        spoil the employer (hostile text) reuses the last one when none is left.

        Raises:
            ParameterError: too many employer plants for one provider.
        """
        used = self._employers_used.get(pw.provider_id, 0)
        if used >= PLANT_EMPLOYERS:
            if share:
                pool = pw.employers[:PLANT_EMPLOYERS]
                return next(e for e in reversed(pool) if e["status"] == "active")
            raise ParameterError(
                f"demo: too many employer plants in {pw.provider_id}; use more providers"
            )
        self._employers_used[pw.provider_id] = used + 1
        return pw.employers[used]

    def expect(
        self,
        plant: str,
        rule_id: str,
        pw: ProviderWorld,
        entity: str,
        bootcamp_id: str,
        table: str,
        match: dict[str, object] | None,
        note: str,
        **extra: Any,  # the optional fields of PlantSpec
    ) -> None:
        self.specs.append(
            PlantSpec(
                plant=plant,
                rule=rule_id,
                provider_id=pw.provider_id,
                entity=entity,
                bootcamp_id=bootcamp_id,
                table=table,
                match=match,
                note=note,
                **extra,
            )
        )

    def expect_learner(
        self,
        plant: str,
        rule_id: str,
        pw: ProviderWorld,
        life: LearnerLife,
        note: str,
        table: str = "learners",
        match: dict[str, object] | None = None,
        **extra: Any,  # the optional fields of PlantSpec
    ) -> None:
        key = {"learner_ref": life.ref, "bootcamp_id": life.bootcamp_id}
        self.expect(
            plant,
            rule_id,
            pw,
            f"learner:{life.ref}",
            life.bootcamp_id,
            table,
            {**key, **(match or {})},
            note,
            **extra,
        )

    def expect_employer(
        self,
        plant: str,
        rule_id: str,
        pw: ProviderWorld,
        employer: Row,
        note: str,
        table: str = "employers",
        match: dict[str, object] | None = None,
        **extra: Any,  # the optional fields of PlantSpec
    ) -> None:
        links = employer["bootcamp_ids"]
        bootcamp_id = str(links[0]) if isinstance(links, list) and len(links) == 1 else "ALL"
        self.expect(
            plant,
            rule_id,
            pw,
            f"employer:{employer['employer_id']}",
            bootcamp_id,
            table,
            {"employer_id": employer["employer_id"], **(match or {})},
            note,
            **extra,
        )

    def add_hostile(
        self,
        pw: ProviderWorld,
        table: str,
        column: str,
        value: str,
        match: dict[str, object],
        entity: str,
        threat: str,
    ) -> None:
        self.hostile.append((pw, table, column, value, match, entity, threat))


def _convert(pw: ProviderWorld, life: LearnerLife, learner_type: str, wants: str | None) -> None:
    """Turn an independent learner into a co-funded or self-employed one."""
    row = life.row
    row["learner_type"] = learner_type
    row["wants_interview"] = wants
    if learner_type == "co-funded":
        employer = pw.employers_with_role("own_staff_training")[0]
        row["employer_id"] = employer["employer_id"]
        if life.bootcamp_id not in employer["bootcamp_ids"]:
            employer["bootcamp_ids"].append(life.bootcamp_id)


def reached_contacts(pw: ProviderWorld, employer: Row, stage: str) -> list[Row]:
    return [
        c
        for c in pw.contacts
        if c["employer_id"] == employer["employer_id"]
        and c["stage"] == stage
        and c["reached"] == "Y"
    ]


def last_day(rows: list[Row], column: str) -> date:
    return max(r[column] for r in rows)
