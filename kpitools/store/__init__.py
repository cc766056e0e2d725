"""The audit store: one embedded DuckDB database per output root, ``OUT/kpitools.duckdb``,
holding every run (who, when, what command, on which inputs, with which key and rules,
with what outcome), the KPI results, findings and learner facts of every period built,
and every value an auditor set in a register, as read back. No server: the file is the
store. Its tables are documented in docs/store.md.

- :mod:`~kpitools.store.schema`: the tables, the schema version and its migrations;
- :mod:`~kpitools.store.connection`: opening the store safely (one writer at a time
  across processes, owner-only files, a newer store refused, an older one migrated);
- :mod:`~kpitools.store.keys`: the pseudonym key checked against the store's before any
  work;
- :mod:`~kpitools.store.rows`: an audit, its inputs and its register's follow-up as the
  rows of the tables;
- :mod:`~kpitools.store.record`: writing a run and what it read and built;
- :mod:`~kpitools.store.queries`: the run log and an exception's history.
"""
