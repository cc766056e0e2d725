"""`kpitools packs`' progress bar: on a terminal only, so a log gets no carriage returns."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator

import pytest

from kpitools.run.batch import run_jobs
from kpitools.run.runner import PackJob, PackOutcome

JOBS = [PackJob(p, "pack.ipynb", {}, f"{p}.ipynb", f"{p}.html", p) for p in ("P001", "P002")]


class Terminal(io.StringIO):
    """Text written to a terminal (what tqdm asks stderr)."""

    def isatty(self) -> bool:
        return True


def _done(jobs: list[PackJob]) -> Iterator[PackOutcome]:
    return (PackOutcome(job.provider_id, True, job.html_path, job.executed_path) for job in jobs)


@pytest.mark.parametrize(
    ("stderr", "progress", "bar"),
    [
        pytest.param(io.StringIO, True, False, id="log file"),
        pytest.param(Terminal, True, True, id="terminal"),
        pytest.param(Terminal, False, False, id="terminal, --no-progress"),
    ],
)
def test_the_progress_bar_is_drawn_on_a_terminal_only(
    monkeypatch: pytest.MonkeyPatch, stderr: type[io.StringIO], progress: bool, bar: bool
) -> None:
    stream = stderr()
    monkeypatch.setattr(sys, "stderr", stream)
    outcomes = run_jobs(JOBS, progress=progress, runner=_done)
    assert sorted(outcomes) == ["P001", "P002"]
    written = stream.getvalue()
    assert ("\r" in written) is bar
    assert ("2/2" in written) is bar  # the bar itself, not only its carriage returns
