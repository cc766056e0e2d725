"""Writing to the audit store: a run's start and end, what each provider read, what the
registers read back said, and what the run built. Every function writes within the
transaction of the connection it is given (:func:`kpitools.store.connection.open_store`)
and only ever inserts (``runs`` gets its end filled in once): the store is append-only.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from kpitools import __version__
from kpitools.model import FollowUp, ProviderAudit
from kpitools.privacy.pseudonym import Pseudonymiser
from kpitools.store import rows
from kpitools.store.schema import TABLES

_TEMPORARY = "kpitools_rows"


@dataclass(frozen=True)
class RunStart:
    """What a run is, recorded when it starts.

    Attributes:
        command: the kpitools command (``packs``, ``pack``).
        arguments: its arguments as given.
        period: the period it builds (``YYYY-MM``), when it is one.
        key_fingerprint: its pseudonym key's fingerprint.
        rules_sha256: SHA-256 of its rules (:func:`rules_sha256`).
        versions: Python's and the key libraries' versions.
    """

    command: str
    arguments: tuple[str, ...]
    period: str | None
    key_fingerprint: str
    rules_sha256: str
    versions: Mapping[str, str] = field(default_factory=dict)


def rules_sha256(rules: Mapping[str, Any]) -> str:
    """SHA-256 of the rules in force (as ``Rules.as_dict()`` gives them), keys sorted."""
    import hashlib

    text = json.dumps(rules, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for the uid (a container)
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def start_run(con: Any, start: RunStart) -> int:
    """Record a run as started (UTC), by whom, where, with what; its id."""
    (run_id,) = con.execute("SELECT nextval('run_ids')").fetchall()[0]
    con.execute(
        "INSERT INTO runs (run_id, command, arguments, period, started_utc, user_name, host, "
        "pid, kpitools_version, versions, rules_sha256, key_fingerprint) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            start.command,
            list(start.arguments),
            start.period,
            _now(),
            _user(),
            socket.gethostname(),
            os.getpid(),
            __version__,
            json.dumps(dict(start.versions), sort_keys=True),
            start.rules_sha256,
            start.key_fingerprint,
        ],
    ).fetchall()
    return int(run_id)


def end_run(
    con: Any, run_id: int, exit_status: int, outcomes: Mapping[str, tuple[str, str]]
) -> None:
    """Record a run's end (UTC), its exit status and each provider's outcome
    (``built``, ``FAILED``, ``SKIPPED``, ``STALE``, with the reason)."""
    providers = [
        {"provider_id": pid, "outcome": outcome, "reason": reason}
        for pid, (outcome, reason) in sorted(outcomes.items())
    ]
    con.execute(
        "UPDATE runs SET ended_utc = ?, exit_status = ?, providers = ? WHERE run_id = ?",
        [_now(), exit_status, providers, run_id],
    ).fetchall()


def insert(con: Any, table: str, frame: pd.DataFrame, **constant: object) -> int:
    """Insert ``frame``'s rows into ``table`` (columns by name; ``constant`` adds columns
    of one value, e.g. ``run_id``); the rows inserted."""
    if frame.empty:
        return 0
    frame = frame.assign(**constant)
    floats = [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])]
    if floats:  # DuckDB reads a float NaN as NaN: a missing figure is NULL
        frame = frame.assign(
            **{c: frame[c].astype(object).where(frame[c].notna(), None) for c in floats}
        )
    known = [line.split()[0] for line in TABLES[table].strip().splitlines()]
    columns = [c for c in frame.columns if c in known]
    con.register(_TEMPORARY, frame[columns])
    try:
        names = ", ".join(columns)
        con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {_TEMPORARY}").fetchall()
    finally:
        con.unregister(_TEMPORARY)
    return len(frame)


@dataclass(frozen=True)
class Built:
    """One provider's audit as a run built it: the audit, its register's follow-up (None:
    computed without one) and the keyed pseudonyms of its learners."""

    audit: ProviderAudit
    followup: FollowUp | None
    pseudonymiser: Pseudonymiser


def _stacked(frames: list[pd.DataFrame], built: list[Built], run_id: int) -> pd.DataFrame:
    """Each provider's rows with its run, period and provider, one frame for the table."""
    tagged = [
        frame.assign(run_id=run_id, period=b.audit.period or "", provider_id=b.audit.provider_id)
        for frame, b in zip(frames, built, strict=True)
        if not frame.empty
    ]
    return pd.concat(tagged, ignore_index=True) if tagged else pd.DataFrame()


def record_reads(con: Any, run_id: int, built: list[Built], out_root: Path) -> int:
    """What each provider's audit read: every input file (the return, the ILR files, the
    previous month's return) and every register read back, with the values an auditor
    changed in each register (``register_events``; a register already read back with
    the same SHA-256 adds no event twice). Returns the events recorded."""
    followed = [(b, b.followup) for b in built if b.followup is not None]
    insert(con, "inputs", _stacked([rows.input_rows(b.audit) for b in built], built, run_id))
    registers = [rows.register_input_rows(f, out_root) for _, f in followed]
    insert(con, "inputs", _stacked(registers, [b for b, _ in followed], run_id))
    seen = {
        (str(provider), str(digest))
        for provider, digest in con.execute(
            "SELECT DISTINCT provider_id, register_sha256 FROM register_events"
        ).fetchall()
    }
    frames = []
    for b, followup in followed:
        events = rows.event_rows(followup, out_root, b.audit.period)
        fresh = [(b.audit.provider_id, d) not in seen for d in events["register_sha256"]]
        frames.append(events.loc[fresh].assign(provider_id=b.audit.provider_id))
    events = pd.concat([f for f in frames if not f.empty] or [pd.DataFrame()], ignore_index=True)
    return insert(con, "register_events", events, run_id=run_id, read_utc=_now())


def record_results(con: Any, run_id: int, built: list[Built]) -> None:
    """What a run built for each provider: its KPI results and their members, findings (with exception ids
    and first_seen), learner facts and the register's rows as written; one insert a
    table for all the providers."""
    insert(con, "kpi_results", _stacked([rows.kpi_rows(b.audit) for b in built], built, run_id))
    members = [rows.member_rows(b.audit, b.pseudonymiser) for b in built]
    insert(con, "kpi_members", _stacked(members, built, run_id))
    findings = [rows.finding_rows(b.audit, b.followup, b.pseudonymiser) for b in built]
    insert(con, "findings", _stacked(findings, built, run_id))
    learners = [rows.learner_rows(b.audit, b.pseudonymiser) for b in built]
    insert(con, "learner_facts", _stacked(learners, built, run_id))
    followed = [(b, b.followup) for b in built if b.followup is not None]
    registers = [rows.register_rows(f) for _, f in followed]
    insert(con, "register_rows", _stacked(registers, [b for b, _ in followed], run_id))


def record_case_edits(con: Any, run_id: int, events: pd.DataFrame) -> int:
    """What auditors changed in a case workbook (``kpitools case``), as
    ``register_events`` of sheet ``Case`` whose ``exception_id`` is the case's id
    (``CASE-<case>``); the events recorded."""
    return insert(con, "register_events", events, run_id=run_id, read_utc=_now())
