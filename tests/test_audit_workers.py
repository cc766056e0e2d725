"""audit_period in worker processes: the same results, in the same order, as in one."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd

from kpitools.audit import audit_period
from kpitools.errors import KpiToolsError
from kpitools.model import ProviderAudit

AS_OF = date(2023, 3, 31)


def _period(small_demo: Path, root: Path) -> Path:
    """A small demo (3 providers, planted irregularities) plus one unreadable provider."""
    shutil.copytree(small_demo, root, dirs_exist_ok=True)
    broken = root / "2023-03" / "P009"
    shutil.copytree(root / "2023-03" / "P001", broken)
    (broken / "bootcamps.csv").unlink()  # a required table: the provider cannot be read
    return root / "2023-03"


def _same_audit(one: ProviderAudit, other: ProviderAudit) -> None:
    assert one.irregularities == other.irregularities
    assert one.kpi_results == other.kpi_results
    assert (one.notes, one.period) == (other.notes, other.period)
    assert (one.previous is None) == (other.previous is None)
    assert list(one.worklists) == list(other.worklists)
    for name, frame in one.worklists.items():
        pd.testing.assert_frame_equal(frame, other.worklists[name])


def test_two_workers_give_the_single_process_results_in_order(small_demo_dir, tmp_path):
    period_dir = _period(small_demo_dir, tmp_path)
    alone = audit_period(period_dir, as_of=AS_OF)
    shared = audit_period(period_dir, as_of=AS_OF, workers=2)
    assert list(shared) == list(alone) == ["P001", "P002", "P003", "P009"]
    for provider_id, result in alone.items():
        if isinstance(result, KpiToolsError):
            assert type(shared[provider_id]) is type(result)
            assert shared[provider_id].one_line() == result.one_line()
        else:
            _same_audit(result, shared[provider_id])
    # the planted irregularities, cross-provider ones included, came back from the workers
    assert sum(len(a.irregularities) for a in shared.values()
               if isinstance(a, ProviderAudit)) > 0
