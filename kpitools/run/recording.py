"""A batch's or a pack's run on record in the audit store (:mod:`kpitools.store`).

:func:`recorded_run` records the run as started (who, where, the command, the key's
fingerprint, the rules' hash, the versions), and as ended with its exit status and each
provider's outcome, whatever the end: done, a provider failed, refused on bad input
(exit 2), stopped by Ctrl-C or SIGTERM. A run killed outright stays *unfinished* in the
log. In between, :meth:`RunRecord.reads` records what each provider's audit read and the
edits found in its registers, *before* any provider's outputs are replaced, and
:meth:`RunRecord.results` what the run built. Each is one short transaction.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kpitools.errors import KpiToolsError
from kpitools.present.context import PackContext
from kpitools.rules import Rules
from kpitools.store.connection import open_store
from kpitools.store.record import (
    Built,
    RunStart,
    end_run,
    record_reads,
    record_results,
    rules_sha256,
    start_run,
)
from kpitools.versions import package_versions

log = logging.getLogger(__name__)

BUILT, FAILED, SKIPPED, STALE = "built", "FAILED", "SKIPPED", "STALE"


@dataclass
class RunRecord:
    """A run being recorded in the store of ``out_root``."""

    out_root: Path
    key_fingerprint: str
    run_id: int
    exit_status: int | None = None
    outcomes: dict[str, tuple[str, str]] = field(default_factory=dict)

    def reads(self, contexts: Mapping[str, PackContext]) -> int:
        """What each provider's audit read and the edits in the registers it read back
        (call before the outputs are replaced); the edits recorded."""
        with open_store(self.out_root, key_fingerprint=self.key_fingerprint) as con:
            return record_reads(con, self.run_id, _built(contexts), self.out_root)

    def results(self, contexts: Mapping[str, PackContext]) -> None:
        """What the run built for each provider audited."""
        with open_store(self.out_root, key_fingerprint=self.key_fingerprint) as con:
            record_results(con, self.run_id, _built(contexts))

    def finish(self, exit_status: int, outcomes: Mapping[str, tuple[str, str]]) -> None:
        """The exit status and each provider's outcome, recorded when the run ends."""
        self.exit_status = exit_status
        self.outcomes = dict(outcomes)


@contextlib.contextmanager
def recorded_run(
    out_root: Path,
    *,
    command: str,
    arguments: Sequence[str],
    period: str | None,
    key_fingerprint: str,
    rules: Rules,
) -> Iterator[RunRecord]:
    """Record a run in the store of ``out_root`` (created with ``key_fingerprint`` at the
    first run) from its start to its end (:class:`RunRecord`; the exit status the block
    sets with :meth:`RunRecord.finish`, else 0; 2 when it raises a KpiToolsError, 130 on
    Ctrl-C, the code of a SystemExit (SIGTERM: 143), 1 on any other error).

    Raises:
        StoreError: the store cannot be written (newer, not a store, held too long).
    """
    start = RunStart(
        command=command,
        arguments=tuple(arguments),
        period=period,
        key_fingerprint=key_fingerprint,
        rules_sha256=rules_sha256(rules.as_dict()),
        versions=package_versions(),
    )
    with open_store(out_root, key_fingerprint=key_fingerprint) as con:
        run_id = start_run(con, start)
    record = RunRecord(out_root, key_fingerprint, run_id)
    try:
        yield record
    except BaseException as error:
        try:
            _end(record, _exit_status(error))
        except KpiToolsError as store_error:  # the first error is the one to tell
            log.warning("run %d not recorded as ended: %s", run_id, store_error.one_line())
        raise
    _end(record, 0 if record.exit_status is None else record.exit_status)


def _built(contexts: Mapping[str, PackContext]) -> list[Built]:
    return [Built(c.audit, c.audit.followup, c.pseudonymiser) for c in contexts.values()]


def _exit_status(error: BaseException) -> int:
    if isinstance(error, KpiToolsError):
        return 2
    if isinstance(error, KeyboardInterrupt):
        return 130
    if isinstance(error, SystemExit):
        return error.code if isinstance(error.code, int) else 1
    return 1


def _end(record: RunRecord, exit_status: int) -> None:
    with open_store(record.out_root, key_fingerprint=record.key_fingerprint) as con:
        end_run(con, record.run_id, exit_status, record.outcomes)
