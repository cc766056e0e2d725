"""Output files: contract columns, CSV-injection neutralising, atomic and repeatable writes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pandas as pd
from kpi_frames import build, small_return

from kpitools.checks.future_dated import future_dated
from kpitools.kpis import compute_kpis
from kpitools.kpis.members import KPI_MEMBER_COLUMNS
from kpitools.model import (
    EXCEPTION_COLUMNS,
    KPI_RESULT_COLUMNS,
    REJECTED_COLUMNS,
    InputFile,
    ProviderAudit,
    ProviderReturn,
    TableCount,
)
from kpitools.outputs.results import write_error_file, write_provider_outputs
from kpitools.privacy.naming import WORKING, LearnerNaming
from kpitools.privacy.pseudonym import Pseudonymiser, key_fingerprint
from kpitools.rules import Rules

NAMING = LearnerNaming(WORKING, Pseudonymiser(b"outputs-test-key-0123456789", "P1"))


def _audit(tmp_path: Path):
    tables = build(**small_return())
    rejected = pd.DataFrame(
        [
            {
                "table": "employers",
                "source": "employers.csv:3",
                "column": "name",
                "value": '=HYPERLINK("http://x.invalid","x")',
                "reason": "name is required",
                "rule": "REQUIRED",
                "personal": False,  # as validation marks it (kpitools.returns.personal)
            }
        ]
    )
    source = tmp_path / "learners.csv"
    source.write_bytes(b"learner_ref\n")
    current = ProviderReturn(
        provider_id="P1",
        path=tmp_path,
        tables=tables,
        rejected=rejected,
        counts={"learners": TableCount("learners", 5, 5, 0)},
        inputs=[
            InputFile(
                str(source), hashlib.sha256(b"learner_ref\n").hexdigest(), 12, ("learners",), 5
            )
        ],
    )
    as_of = date(2023, 3, 31)
    return ProviderAudit(
        provider=current,
        as_of=as_of,
        rules=Rules(),
        kpi_results=compute_kpis({"P1": tables}, as_of=as_of, rules=Rules())["P1"],
        period="2023-03",
        irregularities=future_dated(tables, as_of=as_of),
    )


def test_five_files_with_contract_columns_and_neutralised_text(tmp_path):
    written = write_provider_outputs(_audit(tmp_path), tmp_path / "out", NAMING)
    assert sorted(written) == [
        "exceptions.csv",
        "kpi_members.csv",
        "kpi_results.csv",
        "manifest.json",
        "rejected_rows.csv",
    ]
    for name, columns in (
        ("kpi_results.csv", KPI_RESULT_COLUMNS),
        ("kpi_members.csv", KPI_MEMBER_COLUMNS),
        ("exceptions.csv", EXCEPTION_COLUMNS),
        ("rejected_rows.csv", REJECTED_COLUMNS),
    ):
        frame = pd.read_csv(written[name], dtype=str, keep_default_na=False)
        assert tuple(frame.columns) == columns, name
    rejected = pd.read_csv(written["rejected_rows.csv"], dtype=str, keep_default_na=False)
    assert rejected["value"].tolist() == ['\'=HYPERLINK("http://x.invalid","x")']
    kpis = pd.read_csv(written["kpi_results.csv"], dtype=str, keep_default_na=False)
    dropout = kpis.loc[(kpis["kpi"] == "learner_dropout") & (kpis["bootcamp_id"] == "ALL")]
    # small_return: 1 drop-out of 5 learners past M1 = 0.2, target 0.2, amber -> at_risk
    assert dropout[
        ["numerator", "denominator", "value", "target", "status", "as_of"]
    ].values.tolist() == [["1", "5", "0.2", "0.2", "at_risk", "2023-03-31"]]
    members = pd.read_csv(written["kpi_members.csv"], dtype=str, keep_default_na=False)
    counted = members.loc[(members["kpi"] == "learner_dropout") & (members["bootcamp_id"] == "ALL")]
    # the figure's members: its 5 learners past M1, the 1 drop-out among them; each
    # named by the working rule (ref and pseudonym) at its learners row
    assert counted["in_population"].tolist().count("Y") == 5
    assert counted["in_numerator"].tolist().count("Y") == 1
    assert counted["member"].str.match(r"learner:\S+ \(L-[0-9a-f]{10}\)$").all()
    assert counted["source"].str.match(r"learners\.csv:\d+$").all()
    exceptions = pd.read_csv(written["exceptions.csv"], dtype=str, keep_default_na=False)
    assert set(exceptions["rule"]) == {"DROP-LATE-REPORT", "FUTURE-DATED"}
    assert set(exceptions["provider_id"]) == {"P1"}
    assert not list(tmp_path.joinpath("out").glob(".*"))  # no temporary file left


def test_manifest_lists_inputs_rules_versions_and_time(tmp_path):
    written = write_provider_outputs(_audit(tmp_path), tmp_path / "out", NAMING)
    manifest = json.loads(written["manifest.json"].read_text(encoding="utf-8"))
    assert manifest["inputs"][0]["sha256"] == hashlib.sha256(b"learner_ref\n").hexdigest()
    assert manifest["row_counts"]["learners"] == {"read": 5, "accepted": 5, "rejected": 0}
    assert manifest["rules"]["dropout_limit"] == 0.2
    assert {"kpitools", "pandas", "numpy", "papermill", "nbconvert"} <= set(manifest["versions"])
    assert manifest["generated_at_utc"].endswith("+00:00")
    assert (manifest["as_of"], manifest["period"]) == ("2023-03-31", "2023-03")
    csv_hash = hashlib.sha256(written["kpi_results.csv"].read_bytes()).hexdigest()
    assert manifest["outputs"]["kpi_results.csv"]["sha256"] == csv_hash
    # the key is part of the record: its fingerprint, never the key
    fingerprint = key_fingerprint(NAMING.pseudonymiser.key)
    assert manifest["pseudonym_key_fingerprint"] == fingerprint
    assert NAMING.pseudonymiser.key.decode() not in written["manifest.json"].read_text("utf-8")


def test_rerun_gives_byte_identical_csvs(tmp_path):
    first = write_provider_outputs(_audit(tmp_path), tmp_path / "a", NAMING)
    before = {n: p.read_bytes() for n, p in first.items() if n.endswith(".csv")}
    again = write_provider_outputs(_audit(tmp_path), tmp_path / "a", NAMING)  # overwrite in place
    other = write_provider_outputs(_audit(tmp_path), tmp_path / "b", NAMING)
    for name, data in before.items():
        assert again[name].read_bytes() == data
        assert other[name].read_bytes() == data


def test_manifest_records_the_sample_seeds(tmp_path):
    import pandas as pd

    audit = _audit(tmp_path)
    worklists = {
        "sample_completers": pd.DataFrame(
            {"entity": ["learner:1", "learner:7"], "sample_seed": [4242, 4242]}
        ),
        "ageing_outcomes": pd.DataFrame({"entity": ["learner:1"]}),
    }
    audit = replace(audit, worklists={**audit.worklists, **worklists})
    written = write_provider_outputs(audit, tmp_path / "out", NAMING)
    manifest = json.loads(written["manifest.json"].read_text(encoding="utf-8"))
    # the completers sample is recorded as given: seed 4242, 2 picks; ageing is not a sample
    assert manifest["samples"]["sample_completers"] == {"seed": 4242, "picked": 2}
    assert "ageing_outcomes" not in manifest["samples"]


def test_error_file_shows_control_characters_as_escapes(tmp_path):
    # an error quoting a value (openpyxl's IllegalCharacterError did) held raw ESC bytes
    path = write_error_file(tmp_path, "failed on 'Acme\x1b[2J\x07'", "detail \x0b here")
    assert path.read_text(encoding="utf-8") == (
        "failed on 'Acme\\x1b[2J\\x07'\n\ndetail \\x0b here\n"
    )
