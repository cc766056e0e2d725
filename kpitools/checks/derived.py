"""Per-return derived data shared by the worklists, built once per return and ``as_of``.

The samples, the ageing lists and the breach risk all start from the same frames: the
tables as they stood at ``as_of`` (:func:`~kpitools.kpis._common.measured_tables`), the
bootcamp timing, the employers in each engagement stage. Each used to rebuild them; for
a national period that was most of the worklists' time. Here they are kept beside the
return they came from, for as long as that return lives.

A cached value is only reused for the very same :class:`~kpitools.model.ProviderReturn`
object holding the very same table frames and for the same ``as_of``; anything else
rebuilds. Values are shared read-only (pandas copy-on-write keeps a caller's changes
its own).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

import pandas as pd

from kpitools.kpis._common import bootcamp_timing, measured_tables
from kpitools.model import ProviderReturn

_T = TypeVar("_T")


@dataclass
class _Entry:
    provider: weakref.ref
    frames: tuple[tuple[str, pd.DataFrame], ...]
    as_of: date
    values: dict[str, Any] = field(default_factory=dict)


_ENTRIES: dict[int, _Entry] = {}


def _frames(provider: ProviderReturn) -> tuple[tuple[str, pd.DataFrame], ...]:
    return tuple(provider.tables.items())


def _same_frames(entry: _Entry, provider: ProviderReturn) -> bool:
    tables = provider.tables
    return len(entry.frames) == len(tables) and all(
        tables.get(name) is frame for name, frame in entry.frames)


def return_derived(
    provider: ProviderReturn, as_of: date, name: str, build: Callable[[], _T]
) -> _T:
    """``build()``, computed once per return, ``as_of`` and ``name``.

    Args:
        provider: the validated return the value is derived from.
        as_of: the measurement date the value depends on.
        name: what the value is (one name per kind of value).
        build: computes the value from ``provider`` and ``as_of``.
    """
    key = id(provider)
    entry = _ENTRIES.get(key)
    if entry is None or entry.provider() is not provider:
        entry = _Entry(weakref.ref(provider), _frames(provider), as_of)
        _ENTRIES[key] = entry
        weakref.finalize(provider, _forget, key, entry)
    elif entry.as_of != as_of or not _same_frames(entry, provider):
        entry.frames, entry.as_of, entry.values = _frames(provider), as_of, {}
    if name not in entry.values:
        entry.values[name] = build()
    return entry.values[name]


def _forget(key: int, entry: _Entry) -> None:
    if _ENTRIES.get(key) is entry:
        del _ENTRIES[key]


def measured(provider: ProviderReturn, as_of: date) -> dict[str, pd.DataFrame]:
    """The return's tables as they stood at ``as_of`` (shared, read-only)."""
    return return_derived(provider, as_of, "measured",
                          lambda: measured_tables(provider.tables, as_of))


def timing(provider: ProviderReturn, as_of: date) -> pd.DataFrame:
    """:func:`~kpitools.kpis._common.bootcamp_timing` of :func:`measured` (shared)."""
    return return_derived(provider, as_of, "timing",
                          lambda: bootcamp_timing(measured(provider, as_of), as_of))


def derived_values(provider: ProviderReturn, as_of: date) -> dict[str, Any]:
    """Every value built so far for ``provider`` at ``as_of`` (to ship with the return
    from a worker process, see :func:`adopt`)."""
    entry = _ENTRIES.get(id(provider))
    if (entry is None or entry.provider() is not provider or entry.as_of != as_of
            or not _same_frames(entry, provider)):
        return {}
    return dict(entry.values)


def adopt(provider: ProviderReturn, as_of: date, values: dict[str, Any]) -> None:
    """Take ``values`` (from :func:`derived_values` of the same return, e.g. in a worker
    process) as already built for ``provider`` at ``as_of``."""
    for name, value in values.items():
        return_derived(provider, as_of, name, lambda value=value: value)
