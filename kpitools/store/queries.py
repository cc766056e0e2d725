"""What the audit store tells: the run log (:func:`run_log`) and one exception's life
month by month (:func:`exception_history`), read from a connection of
:func:`kpitools.store.connection.read_store`. Printed by :mod:`kpitools.store.text`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kpitools.store.connection import first_row

BUILT, FAILED = "built", "FAILED"


@dataclass(frozen=True)
class LogEntry:
    """One run, as ``kpitools log`` shows it.

    Attributes:
        changed: the files of the returns (and ILR files) whose SHA-256 differs from the
            previous run of the same period, that it did not read (``(new)``) or that it
            read and this one did not (``(gone)``), then the registers read back in which
            an auditor changed values (``(N edits)``); None for the first run of its
            period (or a run that read nothing).
    """

    run_id: int
    started: datetime
    ended: datetime | None
    user: str
    host: str
    command: str
    arguments: tuple[str, ...]
    period: str | None
    key_fingerprint: str
    exit_status: int | None
    built: tuple[str, ...]
    failed: tuple[str, ...]
    changed: tuple[str, ...] | None


def run_log(con: Any) -> list[LogEntry]:
    """Every run, newest first."""
    files: dict[int, dict[tuple[str, str], str]] = {}
    registers: dict[int, list[str]] = {}
    for run_id, provider_id, path, sha256, edits in con.execute(
        "SELECT run_id, provider_id, path, sha256, edits FROM inputs ORDER BY path"
    ).fetchall():
        if edits is None:
            files.setdefault(int(run_id), {})[(str(provider_id), str(path))] = str(sha256)
        elif edits:
            registers.setdefault(int(run_id), []).append(f"{path} ({edits} edits)")
    runs = con.execute(
        "SELECT run_id, started_utc, ended_utc, user_name, host, command, arguments, period, "
        "key_fingerprint, exit_status, providers FROM runs ORDER BY run_id"
    ).fetchall()
    entries = []
    last_of_period: dict[str, int] = {}
    for row in runs:
        run_id, period, providers = int(row[0]), row[7], row[10] or []
        changed = None
        earlier = last_of_period.get(period) if period else None
        if earlier is not None and run_id in files:
            changed = (*_changed(files[earlier], files[run_id]), *registers.get(run_id, ()))
        if period and run_id in files:
            last_of_period[period] = run_id
        entries.append(
            LogEntry(
                run_id=run_id,
                started=row[1],
                ended=row[2],
                user=str(row[3]),
                host=str(row[4]),
                command=str(row[5]),
                arguments=tuple(row[6]),
                period=period,
                key_fingerprint=str(row[8]),
                exit_status=row[9],
                built=tuple(p["provider_id"] for p in providers if p["outcome"] == BUILT),
                failed=tuple(p["provider_id"] for p in providers if p["outcome"] == FAILED),
                changed=changed,
            )
        )
    return entries[::-1]


def _changed(
    before: dict[tuple[str, str], str], now: dict[tuple[str, str], str]
) -> tuple[str, ...]:
    changed = [
        path if (provider, path) in before else f"{path} (new)"
        for (provider, path), sha in sorted(now.items())
        if before.get((provider, path)) != sha
    ]
    changed += [f"{path} (gone)" for (provider, path) in sorted(set(before) - set(now))]
    return tuple(changed)


@dataclass(frozen=True)
class HistoryMonth:
    """An exception in the register of one period, as the latest run of that period
    wrote it (None values: blank), or not in it (``sheet`` blank)."""

    period: str
    run_id: int
    built: datetime
    user: str
    sheet: str
    values: dict[str, str | None]


@dataclass(frozen=True)
class HistoryEdit:
    """A value an auditor changed in a register, as read back by a run."""

    period: str
    register_path: str
    last_modified_by: str
    modified: str
    run_id: int
    read: datetime
    field: str
    written: str | None
    value: str


@dataclass(frozen=True)
class ExceptionHistory:
    exception_id: str
    provider_id: str
    rule: str
    severity: str
    months: tuple[HistoryMonth, ...]
    edits: tuple[HistoryEdit, ...]


_SHOWN = (
    "change",
    "status",
    "earlier_status",
    "owner",
    "due_date",
    "response",
    "response_date",
    "evidence_ref",
    "prepared_by",
    "reviewed_by",
    "reviewed_on",
    "first_seen",
    "last_seen",
    "review_note",
)


def exception_history(con: Any, exception_id: str) -> ExceptionHistory | None:
    """One exception's life: its row in each period's register (as the latest finished
    run of that period wrote it) and every edit an auditor made to it; None when the
    store has never seen the id."""
    found = first_row(
        con,
        "SELECT provider_id, rule, severity FROM register_rows WHERE exception_id = ? "
        "ORDER BY run_id DESC LIMIT 1",
        [exception_id],
    )
    if found is None:
        return None
    provider_id = str(found[0])
    columns = ", ".join(f"w.{c}" for c in _SHOWN)
    months = con.execute(
        f"""
        WITH latest AS (
            SELECT r.period, max(r.run_id) AS run_id
            FROM register_rows r JOIN runs ON runs.run_id = r.run_id
            WHERE r.provider_id = ? AND runs.ended_utc IS NOT NULL
            GROUP BY r.period
        )
        SELECT latest.period, latest.run_id, runs.started_utc, runs.user_name,
               coalesce(w.sheet, ''), {columns}
        FROM latest JOIN runs ON runs.run_id = latest.run_id
        LEFT JOIN register_rows w
            ON w.run_id = latest.run_id AND w.provider_id = ? AND w.exception_id = ?
        ORDER BY latest.period
        """,
        [provider_id, provider_id, exception_id],
    ).fetchall()
    edits = con.execute(
        "SELECT period, register_path, last_modified_by, modified, run_id, read_utc, field, "
        "written, value FROM register_events WHERE exception_id = ? AND provider_id = ? "
        "ORDER BY period, event_id",
        [exception_id, provider_id],
    ).fetchall()
    return ExceptionHistory(
        exception_id=exception_id,
        provider_id=provider_id,
        rule=str(found[1] or ""),
        severity=str(found[2] or ""),
        months=tuple(
            HistoryMonth(
                period=str(m[0]),
                run_id=int(m[1]),
                built=m[2],
                user=str(m[3]),
                sheet=str(m[4]),
                values=dict(zip(_SHOWN, m[5:], strict=True)),
            )
            for m in months
        ),
        edits=tuple(
            HistoryEdit(
                period=str(e[0]),
                register_path=str(e[1]),
                last_modified_by=str(e[2]),
                modified=str(e[3]),
                run_id=int(e[4]),
                read=e[5],
                field=str(e[6]),
                written=e[7],
                value=str(e[8]),
            )
            for e in edits
        ),
    )


@dataclass(frozen=True)
class KpiMonth:
    """One KPI figure's status of an earlier period, as the latest finished run of that
    period built it for the provider (``bootcamp_id`` ``ALL``: the provider as a whole)."""

    period: str
    provider_id: str
    bootcamp_id: str
    kpi: str
    stage: str
    status: str


def kpi_history(con: Any, *, before: str) -> list[KpiMonth]:
    """Every KPI status of the periods before ``before`` (``YYYY-MM``): for each period
    and provider, the results of the latest run of that period that finished and built
    the provider (a provider rebuilt alone counts with its rebuild); oldest period
    first. What the index compares this month with, and draws month by month."""
    found = con.execute(
        """
        WITH latest AS (
            SELECT k.period, k.provider_id, max(k.run_id) AS run_id
            FROM kpi_results k JOIN runs ON runs.run_id = k.run_id
            WHERE runs.ended_utc IS NOT NULL AND k.period < ?
            GROUP BY k.period, k.provider_id
        )
        SELECT k.period, k.provider_id, k.bootcamp_id, k.kpi, k.stage, k.status
        FROM kpi_results k JOIN latest
            ON k.run_id = latest.run_id AND k.period = latest.period
            AND k.provider_id = latest.provider_id
        ORDER BY k.period, k.provider_id, k.kpi, k.stage, k.bootcamp_id
        """,
        [before],
    ).fetchall()
    return [KpiMonth(*(str(v) for v in row)) for row in found]
