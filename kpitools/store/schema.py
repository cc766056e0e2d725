"""The audit store's tables, their schema version and the migrations between versions.

:data:`SCHEMA_VERSION` is the version this kpitools writes, recorded in ``store_meta``.
A store of an older version is migrated (:data:`MIGRATIONS`, each step in the same
transaction as the version it sets); a store of a newer version is refused
(:func:`kpitools.store.connection.open_store`). Change a table only by adding a
migration and raising :data:`SCHEMA_VERSION` (and docs/store.md).
"""

from __future__ import annotations

from typing import Any

SCHEMA_VERSION = 3

META_TABLE = "store_meta"
VERSION_KEY = "schema_version"
KEY_FINGERPRINT_KEY = "key_fingerprint"

TABLES: dict[str, str] = {
    META_TABLE: """
        name VARCHAR PRIMARY KEY,
        value VARCHAR NOT NULL
    """,
    "runs": """
        run_id BIGINT PRIMARY KEY,
        command VARCHAR NOT NULL,
        arguments VARCHAR[] NOT NULL,
        period VARCHAR,
        started_utc TIMESTAMP NOT NULL,
        ended_utc TIMESTAMP,
        user_name VARCHAR NOT NULL,
        host VARCHAR NOT NULL,
        pid INTEGER NOT NULL,
        kpitools_version VARCHAR NOT NULL,
        versions VARCHAR NOT NULL,
        rules_sha256 VARCHAR NOT NULL,
        key_fingerprint VARCHAR NOT NULL,
        exit_status INTEGER,
        providers STRUCT(provider_id VARCHAR, outcome VARCHAR, reason VARCHAR)[]
    """,
    "inputs": """
        run_id BIGINT NOT NULL,
        period VARCHAR NOT NULL,
        provider_id VARCHAR NOT NULL,
        path VARCHAR NOT NULL,
        role VARCHAR NOT NULL,
        size_bytes BIGINT NOT NULL,
        sha256 VARCHAR NOT NULL,
        rows_read BIGINT,
        rows_accepted BIGINT,
        rows_rejected BIGINT,
        edits BIGINT
    """,
    "kpi_results": """
        run_id BIGINT NOT NULL,
        period VARCHAR NOT NULL,
        provider_id VARCHAR NOT NULL,
        bootcamp_id VARCHAR NOT NULL,
        kpi VARCHAR NOT NULL,
        stage VARCHAR NOT NULL,
        numerator BIGINT NOT NULL,
        denominator BIGINT NOT NULL,
        value DOUBLE,
        target DOUBLE,
        status VARCHAR NOT NULL,
        due_date DATE,
        as_of DATE NOT NULL,
        unverified BIGINT NOT NULL
    """,
    "kpi_members": """
        run_id BIGINT NOT NULL,
        period VARCHAR NOT NULL,
        provider_id VARCHAR NOT NULL,
        bootcamp_id VARCHAR NOT NULL,
        kpi VARCHAR NOT NULL,
        stage VARCHAR NOT NULL,
        member VARCHAR NOT NULL,
        learner_ref VARCHAR NOT NULL,
        pseudonym VARCHAR NOT NULL,
        in_population BOOLEAN NOT NULL,
        in_numerator BOOLEAN NOT NULL,
        reason VARCHAR NOT NULL,
        source VARCHAR NOT NULL
    """,
    "findings": """
        run_id BIGINT NOT NULL,
        period VARCHAR NOT NULL,
        provider_id VARCHAR NOT NULL,
        exception_id VARCHAR NOT NULL,
        first_seen DATE,
        bootcamp_id VARCHAR NOT NULL,
        kpi VARCHAR NOT NULL,
        rule VARCHAR NOT NULL,
        severity VARCHAR NOT NULL,
        entity VARCHAR NOT NULL,
        learner_ref VARCHAR NOT NULL,
        pseudonym VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        message VARCHAR NOT NULL,
        related VARCHAR NOT NULL DEFAULT ''
    """,
    "learner_facts": """
        run_id BIGINT NOT NULL,
        period VARCHAR NOT NULL,
        provider_id VARCHAR NOT NULL,
        learner_ref VARCHAR NOT NULL,
        pseudonym VARCHAR NOT NULL,
        bootcamp_id VARCHAR NOT NULL,
        learner_type VARCHAR,
        employer_id VARCHAR,
        start_date DATE,
        m1_date DATE,
        withdrawal_date DATE,
        withdrawal_reported_date DATE,
        completion_date DATE,
        new_role_evidence_date DATE,
        source VARCHAR NOT NULL
    """,
    "register_rows": """
        run_id BIGINT NOT NULL,
        period VARCHAR NOT NULL,
        provider_id VARCHAR NOT NULL,
        sheet VARCHAR NOT NULL,
        exception_id VARCHAR NOT NULL,
        rule VARCHAR,
        severity VARCHAR,
        change VARCHAR,
        status VARCHAR,
        earlier_status VARCHAR,
        owner VARCHAR,
        due_date VARCHAR,
        response VARCHAR,
        response_date VARCHAR,
        evidence_ref VARCHAR,
        prepared_by VARCHAR,
        reviewed_by VARCHAR,
        reviewed_on VARCHAR,
        first_seen VARCHAR,
        last_seen VARCHAR,
        review_note VARCHAR
    """,
    "register_events": """
        event_id BIGINT PRIMARY KEY DEFAULT nextval('event_ids'),
        run_id BIGINT NOT NULL,
        read_utc TIMESTAMP NOT NULL,
        period VARCHAR NOT NULL,
        provider_id VARCHAR NOT NULL,
        register_path VARCHAR NOT NULL,
        register_sha256 VARCHAR NOT NULL,
        last_modified_by VARCHAR NOT NULL,
        modified VARCHAR NOT NULL,
        sheet VARCHAR NOT NULL,
        exception_id VARCHAR NOT NULL,
        field VARCHAR NOT NULL,
        written VARCHAR,
        value VARCHAR NOT NULL
    """,
}
"""Every table of the current schema: name → column definitions (docs/store.md)."""

SEQUENCES = ("run_ids", "event_ids")

MIGRATIONS: dict[int, tuple[str, ...]] = {
    # 2: the members of every KPI figure (issue 26); earlier runs have none
    1: (f"CREATE TABLE IF NOT EXISTS kpi_members ({TABLES['kpi_members']})",),
    # 3: a finding's related learner of another provider (issue 26); earlier runs' ''.
    # In two steps: DuckDB before 2.0 adds no column with a constraint
    2: (
        "ALTER TABLE findings ADD COLUMN related VARCHAR DEFAULT ''",
        "ALTER TABLE findings ALTER COLUMN related SET NOT NULL",
    ),
}
"""From version N (the key) to N + 1: the statements, run in order in one transaction."""


def create_statements() -> list[str]:
    """The statements that make an empty store of :data:`SCHEMA_VERSION`."""
    statements = [f"CREATE SEQUENCE {name} START 1" for name in SEQUENCES]
    statements += [f"CREATE TABLE {name} ({columns})" for name, columns in TABLES.items()]
    return statements


def migrate(con: Any, found: int) -> list[int]:
    """Bring a store of version ``found`` to :data:`SCHEMA_VERSION` (the caller holds
    the transaction); the versions passed through.

    Raises:
        KeyError: no migration from a version (a programming error).
    """
    passed = []
    for version in range(found, SCHEMA_VERSION):
        for statement in MIGRATIONS[version]:
            con.execute(statement).fetchall()
        passed.append(version + 1)
    con.execute(
        f"UPDATE {META_TABLE} SET value = ? WHERE name = ?", [str(SCHEMA_VERSION), VERSION_KEY]
    ).fetchall()
    return passed
