"""The run log and an exception's history as the lines ``kpitools log`` and
``kpitools history`` print (from :mod:`kpitools.store.queries`)."""

from __future__ import annotations

from datetime import datetime
from itertools import groupby

from kpitools.store.queries import ExceptionHistory, LogEntry

_LISTED = 6  # changed inputs named on a log line before "and N more"


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def log_lines(entries: list[LogEntry]) -> list[str]:
    """One line a run, newest first: when, who, command and period, providers built and
    failed, exit status, and the inputs changed since the previous run of its period."""
    lines = []
    for entry in entries:
        if entry.exit_status is None:
            status = "unfinished (killed, or still running)"
        else:
            status = f"exit {entry.exit_status}"
        failed = f" ({', '.join(entry.failed)})" if entry.failed else ""
        if entry.command == "case":  # builds from what the store and the returns hold
            changed = "a case file"
        elif entry.changed is None:
            changed = f"first run of {entry.period}" if entry.period else "-"
        elif not entry.changed:
            changed = "inputs unchanged since the previous run"
        else:
            shown = ", ".join(entry.changed[:_LISTED])
            more = len(entry.changed) - _LISTED
            changed = "inputs changed: " + shown + (f" and {more} more" if more > 0 else "")
        lines.append(
            f"run {entry.run_id}  {_when(entry.started)}  {entry.user}@{entry.host}  "
            f"{entry.command} {entry.period or ''}  built {len(entry.built)}, failed "
            f"{len(entry.failed)}{failed}  {status}  key {entry.key_fingerprint}  {changed}"
        )
    return lines


def history_lines(history: ExceptionHistory) -> list[str]:
    """The exception month by month: its row in each period's register (change, status
    and the working columns set), then each edit an auditor made in that period's
    register, who saved it and when."""
    lines = [f"{history.exception_id}  {history.provider_id}  {history.rule}  {history.severity}"]
    edits = {
        period: list(found) for period, found in groupby(history.edits, key=lambda e: e.period)
    }
    for month in history.months:
        if not month.sheet:
            lines.append(f"{month.period}  not in the register (run {month.run_id})")
        else:
            values = month.values
            where = "" if month.sheet == "Exceptions" else f" [{month.sheet}]"
            parts = [
                month.period,
                values.get("change") or "-",
                f"{values.get('status') or '-'}{where}",
                *(
                    f"{name} {value!r}" if " " in str(value) else f"{name} {value}"
                    for name, value in values.items()
                    if value and name not in ("change", "status")
                ),
                f"(run {month.run_id}, {_when(month.built)} by {month.user})",
            ]
            lines.append("  ".join(parts))
        for (path, who, modified, run_id), found in groupby(
            edits.get(month.period, []),
            key=lambda e: (e.register_path, e.last_modified_by, e.modified, e.run_id),
        ):
            changes = "; ".join(f"{e.field} {e.written or ''!r} -> {e.value!r}" for e in found)
            lines.append(
                f"  edited in {path}, saved {modified or '-'} by {who or '-'} "
                f"(read by run {run_id}): {changes}"
            )
    return lines
