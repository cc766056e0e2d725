"""What a run records (tests/packs/builders.py's hand-made provider) and what the log
and an exception's history say, from hand-made rows."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
from builders import hand_audit, make_context, pii_strings, write_provider

from kpitools.model import (
    THIS_PERIOD_REGISTER,
    Finding,
    FollowUp,
    RegisterSource,
    related_learner,
)
from kpitools.store.connection import open_store, read_store
from kpitools.store.queries import exception_history, run_log
from kpitools.store.record import (
    Built,
    RunStart,
    end_run,
    insert,
    record_reads,
    record_results,
    start_run,
)
from kpitools.store.text import history_lines, log_lines

FP = "KF-000000000001"


def _start(period: str = "2023-03") -> RunStart:
    return RunStart("packs", (f"DATA/{period}", "--out", "OUT"), period, FP, "0" * 64)


def _everything(out: Path) -> str:
    with read_store(out) as con:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        return "\n".join(str(con.execute(f"SELECT * FROM {t}").fetchall()) for t in sorted(tables))


def test_a_providers_run_is_recorded_without_personal_data(tmp_path: Path) -> None:
    audit = hand_audit(write_provider(tmp_path / "data" / "2023-03" / "P001"))
    # a cross-provider finding: L3 has the ULN of P002's learner X7
    overlap = Finding(
        "irregularity",
        "DUP-ULN-OVERLAP",
        "high",
        "learner:L3",
        "learners.csv:4",
        "the learner has the ULN of provider P002's learner at learners.csv:9",
        "B2",
        related=related_learner("P002", "X7"),
    )
    audit = replace(audit, irregularities=(*audit.irregularities, overlap))
    # built with --include-pii: the register shows names; the store never does
    ctx = make_context(audit, tmp_path / "out" / "2023-03" / "P001", include_pii=True)
    followup = ctx.audit.followup
    assert followup is not None
    out = tmp_path / "out"
    with open_store(out, key_fingerprint=FP) as con:
        run_id = start_run(con, _start())
        built = [Built(ctx.audit, followup, ctx.pseudonymiser)]
        record_reads(con, run_id, built, out)
        record_results(con, run_id, built)
        end_run(con, run_id, 0, {"P001": ("built", "")})
    with read_store(out) as con:
        inputs = con.execute(
            "SELECT path, role, rows_read, rows_accepted, rows_rejected, sha256 FROM inputs"
        ).fetchall()
        findings = con.execute("SELECT exception_id, rule FROM findings").fetchall()
        related = con.execute(
            "SELECT entity, learner_ref, pseudonym, related FROM findings WHERE related <> ''"
        ).fetchall()
        facts = con.execute("SELECT * FROM learner_facts").fetchall()
        columns = [r[0] for r in con.execute("DESCRIBE learner_facts").fetchall()]
        rows = con.execute("SELECT exception_id FROM register_rows").fetchall()
        members = con.execute(
            "SELECT kpi, stage, bootcamp_id, count(*) FILTER (in_population),"
            " count(*) FILTER (in_numerator) FROM kpi_members GROUP BY ALL"
        ).fetchall()
        learner_members = con.execute(
            "SELECT DISTINCT learner_ref, pseudonym FROM kpi_members WHERE learner_ref <> ''"
        ).fetchall()
    # every figure's members, as many in the population and numerator as it counts (the
    # hand audit gives members to its off-track figures and the one beside them)
    counted = {(k, s, b): (d, n) for k, s, b, d, n in members}
    assert counted == {
        (r.kpi, r.stage, r.bootcamp_id): (r.denominator, r.numerator)
        for r in audit.kpi_results
        if len(r.members)
    }
    assert len(counted) == 4
    assert learner_members and all(p == ctx.pseudonymiser.learner(r) for r, p in learner_members)
    by_path = {i[0]: i for i in inputs}
    learners = by_path["2023-03/P001/learners.csv"]
    counts = audit.provider.counts["learners"]
    assert learners[1:5] == ("return", counts.read, counts.accepted, counts.rejected)
    assert {i.sha256 for i in audit.inputs()} <= {i[5] for i in inputs}
    assert len(findings) == len(audit.findings())
    # the other provider's learner as found, as entity holds the finding's own: the ref
    # (a name or ULN never, whatever --include-pii), the pseudonym the key gives it
    assert related == [("learner:L3", "L3", ctx.pseudonymiser.learner("L3"), "P002/learner:X7")]
    assert {f[0] for f in findings} == set(followup.exceptions["exception_id"])
    assert {r[0] for r in rows} == set(followup.exceptions["exception_id"])
    assert len(facts) == len(audit.provider.tables["learners"])
    assert not {"uln", "given_name", "family_name"} & set(columns)
    stored = _everything(out)
    assert not [value for value in pii_strings() if value and value in stored]


def test_a_registers_edits_are_recorded_once(tmp_path: Path) -> None:
    audit = hand_audit(write_provider(tmp_path / "data" / "2023-03" / "P001"))
    ctx = make_context(audit, tmp_path / "out" / "2023-03" / "P001")
    register = str(tmp_path / "out" / "2023-03" / "P001" / "exceptions.xlsx")
    source = RegisterSource(
        register, THIS_PERIOD_REGISTER, "a" * 64, 100, "Sam Auditor", "2023-03-10T09:00:00"
    )
    edits = pd.DataFrame(
        [[register, "Exceptions", "EX-1", "status", "open", "queried"]],
        columns=["register", "sheet", "exception_id", "field", "written", "value"],
    )
    followup: FollowUp = replace(ctx.audit.followup, sources=(source,), edits=edits)
    out = tmp_path / "out"
    with open_store(out, key_fingerprint=FP) as con:
        built = [Built(ctx.audit, followup, ctx.pseudonymiser)]
        first = start_run(con, _start())
        assert record_reads(con, first, built, out) == 1
        second = start_run(con, _start())
        assert record_reads(con, second, built, out) == 0  # same file again
    with read_store(out) as con:
        events = con.execute(
            "SELECT run_id, period, register_path, register_sha256, last_modified_by, "
            "field, written, value FROM register_events"
        ).fetchall()
    assert events == [
        (
            first,
            "2023-03",
            "2023-03/P001/exceptions.xlsx",
            "a" * 64,
            "Sam Auditor",
            "status",
            "open",
            "queried",
        )
    ]


def _inputs(
    run_id: int, files: dict[str, str], edits: dict[str, int] | None = None
) -> pd.DataFrame:
    rows = [
        {"path": p, "role": "return", "size_bytes": 1, "sha256": s, "rows_read": 1}
        for p, s in files.items()
    ]
    rows += [
        {"path": p, "role": "register read back", "size_bytes": 1, "sha256": "r", "edits": n}
        for p, n in (edits or {}).items()
    ]
    return pd.DataFrame(rows)


def test_the_log_lists_every_run_newest_first_with_what_changed(tmp_path: Path) -> None:
    where = {"period": "2023-03", "provider_id": "P001"}
    with open_store(tmp_path, key_fingerprint=FP) as con:
        one = start_run(con, _start())
        insert(con, "inputs", _inputs(one, {"a.csv": "1", "b.csv": "2"}), run_id=one, **where)
        end_run(con, one, 0, {"P001": ("built", ""), "X 1": ("SKIPPED", "not an id")})
        other = start_run(con, _start("2023-02"))
        end_run(con, other, 1, {"P001": ("FAILED", "bad file")})
        two = start_run(con, _start())
        files = {"a.csv": "1x", "c.csv": "3"}
        insert(
            con, "inputs", _inputs(two, files, {"reg.xlsx": 2, "old.xlsx": 0}), run_id=two, **where
        )
        end_run(con, two, 0, {"P001": ("built", "")})
        killed = start_run(con, _start())
    with read_store(tmp_path) as con:
        entries = run_log(con)
    assert [e.run_id for e in entries] == [killed, two, other, one]
    assert entries[1].changed == ("a.csv", "c.csv (new)", "b.csv (gone)", "reg.xlsx (2 edits)")
    assert entries[3].changed is None and entries[2].failed == ("P001",)
    lines = log_lines(entries)
    assert "unfinished (killed, or still running)" in lines[0]
    assert "built 1, failed 0  exit 0" in lines[1]
    assert "inputs changed: a.csv, c.csv (new), b.csv (gone), reg.xlsx (2 edits)" in lines[1]
    assert "packs 2023-02  built 0, failed 1 (P001)  exit 1" in lines[2]
    assert lines[3].endswith("first run of 2023-03")


def test_an_exceptions_history_month_by_month(tmp_path: Path) -> None:
    rows = pd.DataFrame(
        [
            {
                "sheet": "Exceptions",
                "exception_id": "EX-1",
                "rule": "DUP-ROW",
                "severity": "high",
                "change": "new",
                "status": "open",
            },
        ]
    )
    where = {"provider_id": "P001"}
    with open_store(tmp_path, key_fingerprint=FP) as con:
        jan = start_run(con, _start("2023-01"))
        insert(con, "register_rows", rows, run_id=jan, period="2023-01", **where)
        end_run(con, jan, 0, {})
        feb = start_run(con, _start("2023-02"))
        later = rows.assign(change="recurring", status="queried", owner="Sam", response="asked")
        insert(con, "register_rows", later, run_id=feb, period="2023-02", **where)
        insert(
            con,
            "register_events",
            pd.DataFrame(
                [
                    {
                        "period": "2023-01",
                        "register_path": "2023-01/P001/exceptions.xlsx",
                        "register_sha256": "s",
                        "last_modified_by": "Sam Auditor",
                        "modified": "2023-02-10T09:00:00",
                        "sheet": "Exceptions",
                        "exception_id": "EX-1",
                        "field": "status",
                        "written": "open",
                        "value": "queried",
                    }
                ]
            ),
            run_id=feb,
            read_utc=pd.Timestamp("2023-03-01"),
            **where,
        )
        end_run(con, feb, 0, {})
        mar = start_run(con, _start("2023-03"))  # never ended: not in the history
        insert(con, "register_rows", rows.assign(status="x"), run_id=mar, period="2023-03", **where)
    with read_store(tmp_path) as con:
        history = exception_history(con, "EX-1")
        assert exception_history(con, "EX-404") is None
    assert history is not None
    assert [m.period for m in history.months] == ["2023-01", "2023-02"]
    lines = history_lines(history)
    assert lines[0] == "EX-1  P001  DUP-ROW  high"
    assert lines[1].startswith("2023-01  new  open  (run 1,")
    assert lines[2] == (
        "  edited in 2023-01/P001/exceptions.xlsx, saved 2023-02-10T09:00:00 by Sam Auditor "
        "(read by run 2): status 'open' -> 'queried'"
    )
    assert lines[3].startswith("2023-02  recurring  queried  owner Sam  response asked  (run 2,")
