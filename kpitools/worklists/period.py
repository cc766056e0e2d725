"""Several returns' tables as one frame per table, for building every provider's
worklists at once, and the stacked worklists cut back into each provider's.

The tables are :func:`kpitools.returns.period.stacked_tables` of each return's tables
(identifiers scoped to their provider when there are several), with each row's provider
kept by position (:attr:`PeriodTables.owners`), so that a worklist built on the stacked
frames is sorted provider by provider and sliced back (:meth:`PeriodTables.split`),
identifiers shown as the provider writes them (:func:`kpitools.returns.period.split_frame`).
One provider is the same machinery on one return: a provider's worklists are the same
whether it is built alone or with its period.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from kpitools.kpis.measured import MeasuredTables, Measurements, table
from kpitools.model import ProviderReturn
from kpitools.returns.contract import TABLES
from kpitools.returns.period import Stacks, prefixes, split_frame, stacked_tables
from kpitools.returns.validate import empty_table

RETURNED_TABLES = ("learners", "outcomes", "employer_contacts")
"""The tables the ageing lists read as returned."""


@dataclass(frozen=True)
class PeriodTables:
    """Several returns' tables stacked (as they stood at ``as_of``, or as returned).

    Attributes:
        providers: the providers' ids (the keys given), in stacking order.
        tables: one frame per table stacked, identifiers scoped: the
            :class:`~kpitools.kpis.measured.MeasuredTables` of the returns at ``as_of``,
            or their tables as returned.
        owners: per table, each row's provider (its position in ``providers``).
        as_of: the measurement date.
    """

    providers: tuple[str, ...]
    tables: Mapping[str, pd.DataFrame]
    owners: Mapping[str, np.ndarray]
    as_of: date

    @classmethod
    def of(
        cls,
        returns: Mapping[str, ProviderReturn],
        as_of: date,
        *,
        as_returned: bool = False,
        measurements: Measurements | None = None,
        stacks: Stacks | None = None,
    ) -> PeriodTables:
        """The tables the worklists read of each return, as they stood at ``as_of``
        (``measurements``, the run's, or measured here), stacked; or, with
        ``as_returned``, the ones the ageing lists read as returned (what is dated
        after ``as_of`` is aged ``invalid date``). ``stacks``: the run's stacked tables."""
        if as_returned:
            return cls.from_tables(
                {p: r.tables for p, r in returns.items()},
                as_of,
                measured=False,
                names=RETURNED_TABLES,
                stacks=stacks,
            )
        if not returns:
            return cls.from_tables({}, as_of, stacks=stacks)
        measurements = measurements or Measurements(as_of)
        measured = measurements.tables(returns)
        # the KPIs' and charts' stack of the same tables, with the frames derived from it
        stacked = measurements.stacked(measured, as_of, stacks=stacks)
        return cls(tuple(measured), stacked, _owners(measured, TABLES), as_of)

    @classmethod
    def from_tables(
        cls,
        tables: Mapping[str, Mapping[str, pd.DataFrame]],
        as_of: date,
        *,
        measured: bool = True,
        names: Iterable[str] = tuple(TABLES),
        stacks: Stacks | None = None,
    ) -> PeriodTables:
        """Tables ``names`` of each provider stacked (an absent table is empty);
        ``measured``: they are already :func:`kpitools.kpis.measured.measured_tables` at
        ``as_of``."""
        providers, names = tuple(tables), tuple(names)
        complete = {p: {name: table(tables[p], name) for name in names} for p in providers}
        owners = _owners(complete, names)
        stacked = (
            stacked_tables(complete, names, stacks=stacks)
            if providers
            else {name: empty_table(name) for name in names}
        )
        return cls(
            providers, MeasuredTables(stacked, as_of) if measured else stacked, owners, as_of
        )

    @property
    def prefixes(self) -> tuple[str, ...]:
        """What each provider's identifiers are written behind in the stacked tables
        (:func:`kpitools.returns.period.prefixes`), by position."""
        return prefixes(self.providers)

    def bootcamp_owners(self, bootcamps: pd.Index) -> np.ndarray:
        """The provider (its position in ``providers``) of each stacked bootcamp id."""
        frame = self.tables["bootcamps"]
        first = ~frame["bootcamp_id"].duplicated().to_numpy()
        owners = pd.Series(self.owners["bootcamps"][first], index=frame["bootcamp_id"][first])
        return owners.reindex(bootcamps).to_numpy(dtype=int)

    def split(self, frame: pd.DataFrame, owner: np.ndarray) -> dict[str, pd.DataFrame]:
        """``frame`` cut into each provider's rows (``owner``, row by row), identifiers
        as the provider writes them (:func:`kpitools.returns.period.split_frame`)."""
        return split_frame(frame, owner, self.providers)


def _owners(
    tables: Mapping[str, Mapping[str, pd.DataFrame]], names: Iterable[str]
) -> dict[str, np.ndarray]:
    """Per table of ``names`` stacked, each row's provider (its position in ``tables``)."""
    positions = np.arange(len(tables))
    return {
        name: np.repeat(positions, [len(frames[name]) for frames in tables.values()]).astype(int)
        for name in names
    }
