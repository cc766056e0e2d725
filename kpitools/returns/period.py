"""The returns of a run as one frame per table, so that each step runs once for every
provider: where identifiers are scoped, and the one place the scope is taken out again.

The audit engine (:mod:`kpitools.audit`) hands every step the returns of all the providers
of the run at once, a mapping of one when one provider is audited. A step stacks their
validated tables into one frame per table (:func:`stacked_tables`: rows in provider order,
then as loaded; ``source`` stays each row's ``file:row``). Identifiers are the provider's
own, so two providers may both have a bootcamp ``B1`` or a learner ``L001``: when the
stack holds several providers every identifier (every ``id`` and ``idlist`` column but
``provider_id``) is *scoped*, written ``<provider id><SCOPE><identifier>`` (:func:`scope`,
:func:`prefixes`). Keys built from identifiers (learner_ref with bootcamp_id,
employer_id ...) then never meet another provider's, and text compared or sorted within
one provider orders as it did unscoped. A stack of one provider is its tables as they
are: there is nothing to tell apart, and its id need not be a provider folder's name.

The way back: a finding or a KPI result leaves a stack for its provider through
:func:`by_provider`, a frame (a worklist) through :func:`split_frame`, both of which
unscope what they hand back (:func:`unscoped`, which takes the scope out of text, a
finding, a KPI result, a column or a frame). The few steps that need a provider's own
identifier while they still compute on a stack (a sample's case key, which must not
change with the providers drawn together; the ``ALL`` of a provider; a chart's
employer) call :func:`unscoped` themselves.

``SCOPE`` is a control character, which a validated identifier cannot hold (BAD-ID),
and provider ids are :data:`kpitools.layout.PROVIDER_ID_PATTERN` (letters, digits, ``_``
and ``-``), so scoped text is unambiguous.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TypeVar, cast

import numpy as np
import pandas as pd

from kpitools.layout import PROVIDER_ID_PATTERN, is_provider_name
from kpitools.model import Finding, KpiMembers, KpiResult
from kpitools.returns.contract import TABLES

SCOPE = "\x1f"
_SCOPED = re.compile(PROVIDER_ID_PATTERN + re.escape(SCOPE))
_T = TypeVar("_T")
_R = TypeVar("_R", Finding, KpiResult)

SCOPED_COLUMNS: dict[str, tuple[str, ...]] = {
    name: tuple(
        c.name for c in table.columns if c.kind in ("id", "idlist") and c.name != "provider_id"
    )
    for name, table in TABLES.items()
}
"""The columns of each contract table holding the provider's own identifiers."""

IDENTIFIER_COLUMNS = frozenset(
    {column for columns in SCOPED_COLUMNS.values() for column in columns} | {"entity"}
)
"""The columns of a frame made on a stack that may hold scoped identifiers: the
contract's, and the ``entity`` a worklist names (``learner:<ref>``, ``employer:<id>``).
Free text (names, sources) is never unscoped: it holds no scope."""


def scope(provider_id: str, value: str) -> str:
    """``value`` scoped to ``provider_id`` (unchanged for the unnamed provider ``""``)."""
    return f"{provider_id}{SCOPE}{value}" if provider_id else value


def prefixes(providers: Sequence[str]) -> tuple[str, ...]:
    """What each provider's identifiers are written behind in a stack of ``providers``:
    nothing for a stack of one, else the provider's scope.

    Raises:
        ValueError: several providers, one of them not named like a provider folder (its
            scope could not be told from the identifier behind it).
    """
    if len(providers) == 1:
        return ("",)
    unnamed = [p for p in providers if not is_provider_name(p)]
    if unnamed:
        raise ValueError(f"providers stacked together must be named like a folder: {unnamed}")
    return tuple(scope(p, "") for p in providers)


def provider_of(value: object) -> str:
    """The provider a scoped identifier belongs to; ``""`` for unscoped text or a blank
    (every value of a stack of one)."""
    if not isinstance(value, str):
        return ""
    provider, sep, _ = value.partition(SCOPE)
    return provider if sep else ""


def providers_of(values: object) -> np.ndarray:
    """:func:`provider_of` of each value (an array of ``str``); each distinct value is
    looked at once."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    names = np.array([provider_of(u) for u in uniques] + [""], dtype=object)
    return names[codes]  # code -1 (a blank) takes the last name, ""


def owners_of(values: object, providers: Sequence[str]) -> np.ndarray:
    """Which of ``providers`` (the providers of a stack) each value of the stack belongs
    to: the one provider of a stack of one, else the scope of the value."""
    if len(providers) == 1:
        return np.full(len(np.asarray(values, dtype=object)), providers[0], dtype=object)
    return providers_of(values)


def owner_of(value: object, providers: Sequence[str]) -> str:
    """:func:`owners_of` of one value."""
    return providers[0] if len(providers) == 1 else provider_of(value)


def unscoped(value: _T) -> _T:
    """``value`` as its provider writes it: the scope taken out of every identifier it
    shows. The one way back from a stack, for text, a :class:`~kpitools.model.Finding`, a
    :class:`~kpitools.model.KpiResult`, a column or a frame (its text columns); anything
    else, and what holds no scope, is given back as it is."""
    if isinstance(value, str):
        return cast(_T, _SCOPED.sub("", value) if SCOPE in value else value)
    if isinstance(value, Finding):
        return cast(_T, _unscoped_finding(value))
    if isinstance(value, KpiResult):
        return cast(_T, _unscoped_result(value))
    if isinstance(value, pd.Series):
        return cast(_T, _unscoped_column(value))
    if isinstance(value, pd.DataFrame):
        return cast(_T, _unscoped_columns(value, list(value.columns)))
    return value


def _unscoped_columns(frame: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """``frame`` with the columns ``names`` unscoped (itself when none held a scope)."""
    changed = {
        name: local
        for name in names
        if (local := _unscoped_column(column := frame[name])) is not column
    }
    return frame.assign(**changed) if changed else frame


def by_provider(found: Iterable[tuple[str, _R]], providers: Iterable[str]) -> dict[str, list[_R]]:
    """Findings or KPI results made on a stack, each with its provider, cut back into
    each provider's list (in the order found), each :func:`unscoped`: the one way a
    finding or a result leaves a stack.

    Args:
        found: (provider, finding or result) pairs.
        providers: the providers of the stack; each gets a list, maybe empty.

    Raises:
        ValueError: a finding or result of no provider of the stack.
    """
    cut: dict[str, list[_R]] = {provider: [] for provider in providers}
    for provider, item in found:
        if provider not in cut:
            raise ValueError(f"a result of no provider of the stack ({provider!r})")
        cut[provider].append(unscoped(item))
    return cut


def split_frame(
    frame: pd.DataFrame, owner: np.ndarray, providers: Sequence[str]
) -> dict[str, pd.DataFrame]:
    """``frame`` (made on a stack) cut into each provider's rows (``owner``: each row's
    provider, by position in ``providers``), each in the order of ``frame``, indexed
    0..n-1, its :data:`IDENTIFIER_COLUMNS` :func:`unscoped`: the one way a frame leaves
    a stack. A provider without a row gets the empty frame with the columns."""
    if len(owner) > 1 and (np.diff(owner) < 0).any():
        order = np.argsort(owner, kind="stable")
        frame, owner = frame.iloc[order], owner[order]
    ids = [column for column in frame.columns if column in IDENTIFIER_COLUMNS]
    frame = _unscoped_columns(frame, ids)
    bounds = np.searchsorted(owner, np.arange(len(providers) + 1)).tolist()
    return {
        provider: renumbered(frame.iloc[bounds[i] : bounds[i + 1]])
        for i, provider in enumerate(providers)
    }


def _unscoped_finding(finding: Finding) -> Finding:
    texts = (finding.entity, finding.source, finding.message, finding.bootcamp_id, finding.related)
    if not any(SCOPE in text for text in texts):
        return finding
    return replace(
        finding,
        related=unscoped(finding.related),
        entity=unscoped(finding.entity),
        source=unscoped(finding.source),
        message=unscoped(finding.message),
        bootcamp_id=unscoped(finding.bootcamp_id),
    )


def _unscoped_result(result: KpiResult) -> KpiResult:
    return replace(
        result,
        bootcamp_id=unscoped(result.bootcamp_id),
        exceptions=tuple(map(_unscoped_finding, result.exceptions)),
        informational=tuple(map(_unscoped_finding, result.informational)),
        notes=tuple(map(unscoped, result.notes)),
        members=_unscoped_members(result.members),
    )


def _unscoped_members(members: KpiMembers) -> KpiMembers:
    """A figure's members with the scope taken out of each ``member``, an entity
    (``learner:<scoped ref>``); its sources and reasons are free text, which holds no
    scope. A figure's members are one provider's, all scoped or none (a stack of one):
    a period has hundreds of thousands, so its provider's scope is cut out of each, not
    searched for with the pattern."""
    texts = members.member.tolist()
    if not texts:
        return members
    provider = provider_of(texts[0].partition(":")[2])
    if not provider:
        return members
    prefix = scope(provider, "")
    local = [text.replace(prefix, "", 1) for text in texts]
    if any(SCOPE in text for text in local):
        raise ValueError(f"members of several providers in one figure ({provider!r} and others)")
    return replace(members, member=np.asarray(local, dtype=object))


def _unscoped_column(column: pd.Series) -> pd.Series:
    """The column (itself when no value holds a scope), each distinct text once."""
    if not len(column) or not (column.dtype == object or isinstance(column.dtype, pd.StringDtype)):
        return column
    codes, uniques = pd.factorize(column.to_numpy(dtype=object), use_na_sentinel=True)
    texts = uniques.tolist()
    if not any(isinstance(t, str) and SCOPE in t for t in texts):
        return column
    local = np.empty(len(texts) + 1, dtype=object)
    local[:-1] = [unscoped(t) for t in texts]
    values = np.asarray(column.to_numpy(dtype=object), dtype=object).copy()
    known = codes >= 0
    values[known] = local[codes[known]]
    return pd.Series(values, index=column.index, dtype=column.dtype, name=column.name)


_StackKey = tuple[str, tuple[str, ...], tuple[int, ...]]


class Stacks:
    """The tables a run has stacked, each stacked once: a cache the audit engine owns for
    one run (each worker process, one for its share of the run).

    A run's KPIs, checks, charts and worklists each stack their tables, mostly the very
    same frames (a return's tables as they stood at ``as_of`` are its own tables when
    nothing is dated later), so they are stacked once and kept, with the frames they
    were stacked from (whose ids key them), until the cache is let go. Each caller gets
    its own shallow, copy-on-write copy.
    """

    def __init__(self) -> None:
        self._stacked: dict[_StackKey, tuple[list[pd.DataFrame], pd.DataFrame]] = {}

    def stacked(
        self, providers: tuple[str, ...], name: str, frames: list[pd.DataFrame]
    ) -> pd.DataFrame:
        """Table ``name`` of ``providers`` (``frames``, in their order), as :func:`stacked_tables`
        stacks it."""
        key = (name, providers, tuple(map(id, frames)))
        if key not in self._stacked:
            self._stacked[key] = (frames, _stacked(providers, name, frames))
        return self._stacked[key][1].copy(deep=False)


def stacked_tables(
    tables: Mapping[str, Mapping[str, pd.DataFrame]],
    names: Iterable[str] = tuple(TABLES),
    *,
    stacks: Stacks | None = None,
) -> dict[str, pd.DataFrame]:
    """One frame per contract table holding every provider's rows, identifiers scoped
    when there are several providers (:func:`prefixes`): the one place they are scoped.

    Args:
        tables: per provider id, its validated tables (every table of ``names`` present).
        names: the contract tables to stack (default: every one).
        stacks: the run's stacked tables, to stack each table once (default: none kept).

    Returns:
        Per table of ``names``, the providers' rows in the order given, index 0..n-1.
    """
    providers = tuple(tables)
    stacked = {}
    for name in names:
        frames = [tables[provider][name] for provider in providers]
        stacked[name] = (
            _stacked(providers, name, frames)
            if stacks is None
            else stacks.stacked(providers, name, frames)
        )
    return stacked


def _stacked(providers: tuple[str, ...], name: str, frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Table ``name`` of each provider (``frames``, in the order of ``providers``) as one
    frame, identifiers scoped when there are several."""
    whole = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    prefix = np.repeat(np.array(prefixes(providers), dtype=object), [len(f) for f in frames])
    scoped = (
        {
            column: _scoped_column(whole[column], prefix, column in _LIST_COLUMNS)
            for column in SCOPED_COLUMNS[name]
        }
        if len(whole) and prefix.any()
        else {}
    )
    return whole.assign(**scoped) if scoped else whole


def renumbered(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` (a new frame: a selection of another) indexed 0..n-1, in place: a period's
    stacked frames are cut into thousands of small ones, and ``reset_index`` costs
    twice as much."""
    rows.index = pd.RangeIndex(len(rows))
    return rows


def _scoped_column(column: pd.Series, prefix: np.ndarray, listed: bool) -> pd.Series:
    """Each known identifier of ``column`` behind its row's ``prefix`` (every one of a
    ``;``-separated list); blanks stay blank."""
    values = column.to_numpy(dtype=object)
    known = pd.notna(values)
    scoped = values.copy()
    if listed:
        scoped[known] = [
            p + v.replace(";", ";" + p)
            for p, v in zip(prefix[known].tolist(), values[known].tolist(), strict=True)
        ]
    else:
        scoped[known] = prefix[known] + values[known]
    return pd.Series(scoped, index=column.index, dtype=object)


_LIST_COLUMNS = {c.name for t in TABLES.values() for c in t.columns if c.kind == "idlist"}
