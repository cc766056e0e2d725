"""How a learner is named in each output: one rule, decided at write time.

Findings, rejected rows and worklists carry structured fields (the learner's ref, the
``file:row`` of the evidence, the column and the rule); their messages never embed a
learner ref, a name or a ULN. When an output is written, :class:`LearnerNaming` turns the
learner's ref into the text that output may show:

- **circulated** outputs (the pack: ``audit_pack.html`` and the executed
  ``audit_pack.ipynb``; the portfolio index): the keyed pseudonym and the learner's source
  ``file:row``, e.g. ``L-3f9a0c21d7 at learners.csv:14``;
- **working** outputs for the audit team and the provider (``exceptions.csv``,
  ``exceptions.xlsx``, worklists, samples, ``kpi_results.csv``, ``rejected_rows.csv``):
  the provider's own ``learner_ref`` (what the provider can look up) and the pseudonym,
  e.g. ``P001-L0001 (L-3f9a0c21d7)``;
- with ``include_pii``, every output adds the ref, the learner's name and ULN (and an
  employer's contact details) in the same form; without it, no output holds a ULN, a
  name, an e-mail address or a phone number.

Rejected rows follow the same rule (:meth:`LearnerNaming.rejected`): a rejected value
that could be personal data, by its column or by its value (marked when the return was
read: :mod:`kpitools.returns.personal`), is shown by column and reason only unless
``include_pii`` is set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from kpitools.model import PERSONAL, ProviderReturn, entity_learner_ref, learner_entity
from kpitools.privacy.pseudonym import Pseudonymiser, load_key
from kpitools.returns.contract import PII_COLUMN_NAMES, PII_COLUMNS

Audience = Literal["circulated", "working"]
CIRCULATED: Audience = "circulated"
WORKING: Audience = "working"

WITHHELD = "[withheld]"


def _text(*values: object) -> str:
    return " ".join(str(v).strip() for v in values if isinstance(v, str) and v.strip())


@dataclass(frozen=True)
class LearnerNaming:
    """The identity rule for one provider and one kind of output.

    Attributes:
        audience: ``"circulated"`` (packs, index) or ``"working"`` (registers, CSVs).
        pseudonymiser: the provider's keyed pseudonyms.
        include_pii: add names, ULNs and contact details (same form in every output).
        sources: ``learner_ref`` -> ``file:row`` of its learner row(s).
        people: ``learner_ref`` -> name and ULN (filled only with ``include_pii``).
        contacts: ``employer_id`` -> contact details (filled only with ``include_pii``).
    """

    audience: Audience
    pseudonymiser: Pseudonymiser
    include_pii: bool = False
    sources: Mapping[str, str] = field(default_factory=dict)
    people: Mapping[str, str] = field(default_factory=dict)
    contacts: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.audience not in (CIRCULATED, WORKING):
            raise ValueError(f"unknown audience {self.audience!r}")

    def learner(self, learner_ref: object) -> str:
        """How this output names one learner of the provider (see the module docstring).

        >>> from kpitools.privacy.pseudonym import Pseudonymiser
        >>> names = Pseudonymiser(b"0123456789abcdef", "P001")
        >>> LearnerNaming("working", names).learner("L1")
        'L1 (L-eea8896fb9)'
        >>> LearnerNaming("circulated", names, sources={"L1": "learners.csv:2"}).learner("L1")
        'L-eea8896fb9 at learners.csv:2'
        """
        if learner_ref is None or (not isinstance(learner_ref, str) and pd.isna(learner_ref)):
            return ""
        ref = str(learner_ref)
        pseudonym = self.pseudonymiser.learner(ref)
        shown = (
            f"{ref} ({pseudonym})" if self.audience == WORKING or self.include_pii else pseudonym
        )
        if self.include_pii and self.people.get(ref):
            shown += f", {self.people[ref]}"
        if self.audience == CIRCULATED and self.sources.get(ref):
            shown += f" at {self.sources[ref]}"
        return shown

    def other_learner(self, provider_id: object, learner_ref: object) -> str:
        """How this output names a learner of another provider (the other side of a
        probable match, :mod:`kpitools.checks.people`): as :meth:`learner` names its own,
        the pseudonym being that provider's (no source: it is in its own column)."""
        if learner_ref is None or (not isinstance(learner_ref, str) and pd.isna(learner_ref)):
            return ""
        ref = str(learner_ref)
        pseudonym = Pseudonymiser(self.pseudonymiser.key, str(provider_id)).learner(ref)
        return f"{ref} ({pseudonym})" if self.audience == WORKING or self.include_pii else pseudonym

    def entity(self, entity: object) -> object:
        """An ``entity`` cell: ``learner:<ref>`` named by :meth:`learner`; an employer
        keeps its id, with its contact details under ``include_pii``."""
        if not isinstance(entity, str):
            return entity
        kind, sep, ident = entity.partition(":")
        if not sep or not ident:
            return entity
        if kind == "learner":
            return learner_entity(self.learner(ident))
        if kind == "employer" and self.include_pii and self.contacts.get(ident):
            return f"{entity}, {self.contacts[ident]}"
        return entity

    def related(self, related: object) -> object:
        """A ``related`` cell, another provider's learner (``<provider>/learner:<ref>``,
        :func:`~kpitools.model.related_learner`; in a register several, joined by
        ``; ``): in a working output its provider, ref and that provider's pseudonym, so
        the auditor can find the learner without the other provider's register; in a
        circulated one the pseudonym alone. Never a name or ULN, even with
        ``include_pii`` (the other provider's identity records are not this output's).

        >>> from kpitools.privacy.pseudonym import Pseudonymiser
        >>> names = LearnerNaming("working", Pseudonymiser(b"0123456789abcdef", "P001"))
        >>> names.related("P002/learner:L1; P003/learner:L1")
        'P002/learner:L1 (L-21df532ef0); P003/learner:L1 (L-c4036d8c06)'
        """
        if not isinstance(related, str) or not related:
            return related
        return "; ".join(self._one_related(part) for part in related.split("; "))

    def _one_related(self, related: str) -> str:
        provider, sep, entity = related.partition("/")
        ref = entity_learner_ref(entity)
        if not sep or not ref:
            return related
        return f"{provider}/{learner_entity(self.other_learner(provider, ref))}"

    def frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Any table as this output may show it (a new frame; the input is unchanged):
        ``learner_ref``, ``entity`` and ``related`` cells named by the rule,
        personal-data columns dropped unless ``include_pii``."""
        shown = (
            frame
            if self.include_pii
            else frame.drop(columns=[c for c in frame.columns if c in PII_COLUMN_NAMES])
        )
        updates: dict[str, pd.Series] = {}
        if "learner_ref" in shown.columns:
            updates["learner_ref"] = shown["learner_ref"].map(self.learner)
        if "entity" in shown.columns:
            updates["entity"] = shown["entity"].map(self.entity)
        if "related" in shown.columns:
            updates["related"] = shown["related"].map(self.related)
        if {"other_learner_ref", "other_provider_id"} <= set(shown.columns):
            updates["other_learner_ref"] = pd.Series(
                [
                    self.other_learner(provider, ref)
                    for provider, ref in zip(
                        shown["other_provider_id"], shown["other_learner_ref"], strict=True
                    )
                ],
                index=shown.index,
                dtype=object,
            )
        return shown.assign(**updates) if updates else shown.copy()

    def rejected(self, rejected: pd.DataFrame) -> pd.DataFrame:
        """Rejected rows (table, source, column, value, reason, rule) as this output may
        show them.

        Without ``include_pii``, every value that could be personal data
        (:func:`withheld_values`) is replaced by ``[withheld]`` (column and reason still
        say what is wrong). In a circulated output a ``learner_ref`` value is the
        pseudonym and a key value that contains a learner ref is withheld too.
        """
        shown = rejected.drop(columns=[PERSONAL], errors="ignore")
        if rejected.empty or self.include_pii:
            return shown
        withheld = withheld_values(rejected)
        values = rejected["value"].where(~withheld, WITHHELD)
        if self.audience == CIRCULATED:
            column = rejected["column"].astype(str)
            is_ref = (column == "learner_ref") & ~withheld
            values = values.where(
                ~is_ref,
                rejected["value"].map(
                    lambda v: self.pseudonymiser.learner(str(v)) if isinstance(v, str) and v else v
                ),
            )
            values = values.where(~(column.str.contains("learner_ref") & ~is_ref), WITHHELD)
        return shown.assign(value=values)


def withheld_values(rejected: pd.DataFrame) -> pd.Series:
    """True for each rejected entry whose value could be personal data (its
    :data:`~kpitools.model.PERSONAL` mark: :mod:`kpitools.returns.personal`).

    Raises:
        KeyError: the frame carries no mark (rejected rows are marked when read).
    """
    return rejected[PERSONAL].astype(bool)


def learner_naming(
    tables: Mapping[str, pd.DataFrame],
    pseudonymiser: Pseudonymiser,
    *,
    audience: Audience,
    include_pii: bool = False,
) -> LearnerNaming:
    """The naming of one provider's learners for one kind of output.

    Args:
        tables: the provider's validated tables (``learners``; ``employers`` for
            contact details).
        pseudonymiser: the provider's keyed pseudonyms.
        audience: ``"circulated"`` or ``"working"``.
        include_pii: add names, ULNs and contact details.
    """
    learners = tables.get("learners", pd.DataFrame())
    sources: dict[str, str] = {}
    people: dict[str, str] = {}
    if {"learner_ref", "source"} <= set(learners.columns):
        for ref, source in zip(learners["learner_ref"], learners["source"], strict=True):
            if isinstance(ref, str) and isinstance(source, str):
                sources[ref] = f"{sources[ref]}; {source}" if ref in sources else source
    contacts: dict[str, str] = {}
    if include_pii:
        for row in learners.drop_duplicates("learner_ref").itertuples(index=False):
            name = _text(getattr(row, "given_name", None), getattr(row, "family_name", None))
            uln = _text(getattr(row, "uln", None))
            people[str(row.learner_ref)] = ", ".join(
                p for p in (name, f"ULN {uln}" if uln else "") if p
            )
        employers = tables.get("employers", pd.DataFrame())
        if "employer_id" in employers.columns:
            for row in employers.drop_duplicates("employer_id").itertuples(index=False):
                contacts[str(row.employer_id)] = ", ".join(
                    p
                    for p in (_text(getattr(row, name, None)) for name in PII_COLUMNS["employers"])
                    if p
                )
    return LearnerNaming(audience, pseudonymiser, include_pii, sources, people, contacts)


def provider_naming(
    provider: ProviderReturn,
    *,
    audience: Audience,
    include_pii: bool = False,
    key_file: str | None = None,
    out_dir: str | None = None,
) -> LearnerNaming:
    """:func:`learner_naming` for a loaded return, with the pseudonym key found by
    :func:`kpitools.privacy.pseudonym.load_key` (commands that write outputs without a pack).

    Raises:
        ParameterError: the key cannot be read, is too short or lies inside ``out_dir``.
    """
    key = load_key(key_file or None, out_dir=out_dir)
    return learner_naming(
        provider.tables,
        Pseudonymiser(key, provider.provider_id),
        audience=audience,
        include_pii=include_pii,
    )
