"""A period's returns as one frame per table, so that a step runs once for every provider.

Each provider's validated tables are stacked into one frame per table (rows in provider
order, then as loaded; ``source`` stays each row's ``file:row``). Identifiers are the
provider's own, so two providers may both have a bootcamp ``B1`` or a learner ``L001``:
in the stacked frames every identifier (every ``id`` and ``idlist`` column but
``provider_id``) is *scoped*, written ``<provider id><SCOPE><identifier>``. Keys built
from identifiers (learner_ref with bootcamp_id, employer_id ...) then never meet another
provider's, and text compared or sorted within one provider orders as it did unscoped.
:func:`unscoped` takes the scope out of any text that shows an identifier again.

``SCOPE`` is a control character, which a validated identifier cannot hold (BAD-ID),
and provider ids are :data:`kpitools.layout.PROVIDER_ID_PATTERN` (letters, digits, ``_``
and ``-``), so scoped text is unambiguous.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import replace

import numpy as np
import pandas as pd

from kpitools.layout import PROVIDER_ID_PATTERN
from kpitools.model import Finding
from kpitools.returns.contract import TABLES

SCOPE = "\x1f"
_SCOPED = re.compile(PROVIDER_ID_PATTERN + re.escape(SCOPE))

SCOPED_COLUMNS: dict[str, tuple[str, ...]] = {
    name: tuple(
        c.name for c in table.columns if c.kind in ("id", "idlist") and c.name != "provider_id"
    )
    for name, table in TABLES.items()
}
"""The columns of each contract table holding the provider's own identifiers."""


def scope(provider_id: str, value: str) -> str:
    """``value`` scoped to ``provider_id`` (unchanged for the unnamed provider ``""``)."""
    return f"{provider_id}{SCOPE}{value}" if provider_id else value


def provider_of(value: object) -> str:
    """The provider a scoped identifier belongs to; ``""`` for unscoped text or a blank."""
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


def unscoped(text: str) -> str:
    """``text`` with the scope taken out of every identifier it shows."""
    return _SCOPED.sub("", text) if SCOPE in text else text


def unscoped_finding(finding: Finding) -> Finding:
    """A finding on a period's stacked tables as its provider's own: no scope in its text."""
    return replace(
        finding,
        entity=unscoped(finding.entity),
        source=unscoped(finding.source),
        message=unscoped(finding.message),
        bootcamp_id=unscoped(finding.bootcamp_id),
    )


_StackKey = tuple[str, tuple[str, ...], tuple[int, ...]]
_shared: ContextVar[dict[_StackKey, tuple[list[pd.DataFrame], pd.DataFrame]] | None] = ContextVar(
    "shared_stacks", default=None
)


@contextlib.contextmanager
def shared_stacks() -> Iterator[None]:
    """Within the block, :func:`stacked_tables` stacks the same frames of the same
    providers once; the stacks are let go when the block ends.

    A period's KPIs, checks, charts and worklists each stack its tables, mostly the very
    same frames (a return's tables as they stood at ``as_of`` are its own tables when
    nothing is dated later), so the period engine stacks each table once. Each caller
    gets its own (shallow, copy-on-write) copy. Entered again inside, it changes nothing.
    """
    if _shared.get() is not None:
        yield
        return
    token = _shared.set({})
    try:
        yield
    finally:
        _shared.reset(token)


def stacked_tables(
    tables: Mapping[str, Mapping[str, pd.DataFrame]], names: Iterable[str] = tuple(TABLES)
) -> dict[str, pd.DataFrame]:
    """One frame per contract table holding every provider's rows, identifiers scoped
    (built once for the same frames within :func:`shared_stacks`).

    Args:
        tables: per provider id, its validated tables (every table of ``names`` present).
        names: the contract tables to stack (default: every one).

    Returns:
        Per table of ``names``, the providers' rows in the order given, index 0..n-1.
    """
    providers = tuple(tables)
    shared = _shared.get()
    stacked = {}
    for name in names:
        frames = [tables[provider][name] for provider in providers]
        if shared is None:
            stacked[name] = _stacked(providers, name, frames)
            continue
        # the frames are kept with their stack, so their ids stay theirs meanwhile
        key = (name, providers, tuple(map(id, frames)))
        if key not in shared:
            shared[key] = (frames, _stacked(providers, name, frames))
        stacked[name] = shared[key][1].copy(deep=False)
    return stacked


def _stacked(providers: tuple[str, ...], name: str, frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Table ``name`` of each provider (``frames``, in the order of ``providers``) as one
    frame, identifiers scoped."""
    whole = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    prefixes = np.array([f"{p}{SCOPE}" if p else "" for p in providers], dtype=object)
    prefix = np.repeat(prefixes, [len(frame) for frame in frames])
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
