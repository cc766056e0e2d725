"""Verification samples: reproducible, prefix property, sizes, worklist round trip."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from auditkit_frames import bootcamp, learner, provider_return
from hypothesis import given, settings
from hypothesis import strategies as st

from kpitools.load import load_provider
from kpitools.model import ProviderReturn
from kpitools.privacy.naming import WORKING, LearnerNaming, learner_naming
from kpitools.privacy.pseudonym import Pseudonymiser
from kpitools.returns.contract import TABLES
from kpitools.worklists.period import PeriodTables
from kpitools.worklists.sampling import (
    SampleSet,
    draw,
    draw_samples,
    sample_size,
    stage_population,
    write_samples,
)

AS_OF = date(2023, 3, 31)


def _drawn(provider: ProviderReturn, *, as_of: date = AS_OF, seed: int, **options) -> SampleSet:
    """One provider's draw: the one function over a mapping of one, as kpitools sample."""
    key = provider.provider_id
    return draw_samples({key: provider}, as_of=as_of, seeds={key: seed}, **options)[key]


@pytest.mark.parametrize(
    ("population", "fraction", "minimum", "expected"),
    [
        (0, 0.1, 5, 0),  # nothing to pick
        (3, 0.1, 5, 3),  # fewer than the minimum: all of them
        (50, 0.1, 5, 5),  # 10 % of 50 = 5 = the minimum
        (51, 0.1, 5, 6),  # 5.1 rounds up to 6
        (30, 0.1, 0, 3),  # 3.0000000000000004 in floats is still 3
        (200, 0.25, 5, 50),
    ],
)
def test_sample_size(population, fraction, minimum, expected):
    assert sample_size(population, fraction=fraction, minimum=minimum) == expected


def _population(n: int) -> tuple[pd.DataFrame, pd.Series]:
    frame = pd.DataFrame({"case": [f"C{i:03d}" for i in range(n)]})
    return frame, frame["case"]


def test_same_seed_same_sample_and_other_seed_differs():
    frame, keys = _population(100)
    first = draw(frame, keys, seed=7, name="x", fraction=0.1, minimum=5).worklist
    again = draw(frame, keys, seed=7, name="x", fraction=0.1, minimum=5).worklist
    other = draw(frame, keys, seed=8, name="x", fraction=0.1, minimum=5).worklist
    assert list(first["case"]) == list(again["case"])
    assert len(first) == 10
    assert set(first["case"]) != set(other["case"])


def test_larger_size_keeps_every_earlier_pick_in_the_same_order():
    frame, keys = _population(100)
    small = draw(frame, keys, seed=42, name="x", fraction=0.1, minimum=5).worklist
    large = draw(frame, keys, seed=42, name="x", fraction=0.3, minimum=5).worklist
    assert len(small) == 10 and len(large) == 30
    assert list(large["case"].head(10)) == list(small["case"])
    assert list(large["pick_id"].head(10)) == list(small["pick_id"])


def test_a_cases_pick_does_not_depend_on_row_order():
    frame, keys = _population(60)
    shuffled = frame.sample(frac=1, random_state=3)
    a = draw(frame, keys, seed=1, name="x", fraction=0.1, minimum=5).worklist
    b = draw(shuffled, shuffled["case"], seed=1, name="x", fraction=0.1, minimum=5).worklist
    assert list(a["case"]) == list(b["case"])


def _return():
    # B1 (first M1 2023-01-16, first M2 2023-03-10, not over at 2023-03-31): design,
    # delivery and post all running. B2 starts after as_of: no stage. E1 linked to B1,
    # E2 to B2 only, E3 to every bootcamp (blank).
    employers = [
        {
            "employer_id": "E1",
            "name": "Acme",
            "bootcamp_ids": "B1",
            "contact_name": "Ann Smith",
            "contact_email": "ann@example.com",
        },
        {"employer_id": "E2", "name": "Beta", "bootcamp_ids": "B2"},
        {"employer_id": "E3", "name": "Gamma"},
    ]
    learners = [
        learner(f"L{i}", m1_date="2023-01-16", given_name="Jo", uln="9999999999")
        for i in range(1, 9)
    ]
    learners[0]["completion_date"] = "2023-03-10"
    learners[1]["completion_date"] = "2023-04-10"  # after as_of: not yet a completer
    return provider_return(
        bootcamps=[bootcamp("B1", end="2023-04-30"), bootcamp("B2", "2023-05-01", "2023-07-31")],
        learners=learners,
        employers=employers,
        outcomes=[
            {
                "learner_ref": "L1",
                "bootcamp_id": "B1",
                "outcome_type": "new_job",
                "outcome_date": "2023-03-20",
            }
        ],
    )


def _stages(as_of: date) -> pd.DataFrame:
    """The employers in a stage of _return() at ``as_of`` (a period of one: ids as written)."""
    population, owner = stage_population(PeriodTables.of({"P001": _return()}, as_of))
    assert set(owner) <= {0}
    return population


def test_employer_stage_population():
    population = _stages(AS_OF)
    got = sorted(
        zip(population["employer_id"], population["stage"], population["bootcamp_id"], strict=True)
    )
    # E3 is linked to B1 and B2, but only B1 is in a stage: bootcamp_id B1.
    assert got == [
        ("E1", "delivery", "B1"),
        ("E1", "design", "B1"),
        ("E1", "post", "B1"),
        ("E3", "delivery", "B1"),
        ("E3", "design", "B1"),
        ("E3", "post", "B1"),
    ]
    # on 2023-01-15 no bootcamp has an M1: nobody to contact yet
    assert _stages(date(2023, 1, 15)).empty


def test_draw_samples_worklists_and_no_pii_by_default():
    samples = {s.name: s for s in _drawn(_return(), seed=5).samples}
    assert [samples[f"employers_{s}"].population for s in ("design", "delivery", "post")] == [
        2,
        2,
        2,
    ]
    assert samples["completers"].population == 1  # L2 completes after as_of
    assert list(samples["completers"].worklist["entity"]) == ["learner:L1"]
    assert samples["outcomes"].size == 1
    employer_list = samples["employers_design"].worklist
    assert set(TABLES["employer_contacts"].column_names) <= set(employer_list.columns)
    text = pd.concat([s.worklist for s in samples.values()]).to_csv()
    assert "Ann Smith" not in text and "ann@example.com" not in text and "Jo" not in text


def test_written_samples_name_learners_by_the_identity_rule(tmp_path):
    # working output: the provider's ref and the pseudonym; names, ULN and contact
    # details only with include_pii (added to the same cells the rule names)
    provider = _return()
    sample_set = _drawn(provider, seed=5)
    names = Pseudonymiser(b"sampling-test-key-0123456789", provider.provider_id)
    write_samples(
        sample_set, tmp_path / "plain", learner_naming(provider.tables, names, audience=WORKING)
    )
    completers = pd.read_csv(tmp_path / "plain" / "completers.csv", dtype=str)
    assert list(completers["learner_ref"]) == [f"L1 ({names.learner('L1')})"]
    plain = "".join(p.read_text() for p in (tmp_path / "plain").iterdir())
    assert "Ann Smith" not in plain and "ann@example.com" not in plain and "Jo" not in plain
    write_samples(
        sample_set,
        tmp_path / "pii",
        learner_naming(provider.tables, names, audience=WORKING, include_pii=True),
    )
    assert "ann@example.com" in (tmp_path / "pii" / "employers_design.csv").read_text()
    completers = pd.read_csv(tmp_path / "pii" / "completers.csv", dtype=str)
    assert list(completers["learner_ref"]) == [f"L1 ({names.learner('L1')}), Jo, ULN 9999999999"]


def _naming() -> LearnerNaming:
    return learner_naming(
        _return().tables, Pseudonymiser(b"sampling-test-key-0123456789", "P001"), audience=WORKING
    )


def test_written_manifest_records_seed_and_sizes(tmp_path):
    sample_set = _drawn(_return(), seed=123, fraction=0.5, minimum=1)
    paths = write_samples(sample_set, tmp_path, _naming())
    manifest = json.loads((tmp_path / "sample_manifest.json").read_text())
    assert paths[-1].name == "sample_manifest.json"
    assert manifest["seed"] == 123 and manifest["fraction"] == 0.5 and manifest["minimum"] == 1
    sizes = {s["name"]: (s["population"], s["sampled"]) for s in manifest["samples"]}
    assert sizes["employers_design"] == (2, 1) and sizes["completers"] == (1, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        manifest["files"] + ["sample_manifest.json"]
    )


def _provider_folder(folder: Path) -> Path:
    """A small valid provider folder on disk (B1 running, E1-E3 listed)."""
    folder.mkdir(parents=True)
    (folder / "provider.csv").write_text("provider_id,name,ukprn\nP001,Test,10000001\n")
    (folder / "bootcamps.csv").write_text(
        "bootcamp_id,start_date,end_date,price_per_learner\n"
        "B1,2023-01-09,2023-04-30,3000\nB2,2023-05-01,2023-07-31,3000\n"
    )
    (folder / "learners.csv").write_text(
        "learner_ref,bootcamp_id,learner_type,start_date\nL1,B1,independent,2023-01-09\n"
    )
    (folder / "employers.csv").write_text("employer_id,name\nE1,Acme\nE2,Beta\nE3,Gamma\n")
    return folder


def test_filled_employer_worklist_loads_as_employer_contacts(tmp_path):
    # Draw, "fill in" the design worklist as the monitoring team would, and put it in a
    # provider folder as employer_contacts.csv: the loader accepts every row.
    sample_set = _drawn(_return(), seed=9, minimum=5)
    write_samples(sample_set, tmp_path / "out", _naming())
    worklist = pd.read_csv(tmp_path / "out" / "employers_design.csv", dtype=str)
    filled = worklist.assign(
        attempt_date="2023-04-05",
        reached="Y",
        design_vouched="Y",
        info_correct="Y",
        verified_by="auditor 1",
    )
    folder = _provider_folder(tmp_path / "2023-04" / "P001")
    filled.to_csv(folder / "employer_contacts.csv", index=False)
    loaded = load_provider(folder)
    contacts = loaded.tables["employer_contacts"]
    assert len(contacts) == len(filled) == 2
    assert loaded.counts["employer_contacts"].rejected == 0
    assert set(contacts["employer_id"]) == {"E1", "E3"}
    assert contacts["reached"].all() and set(contacts["stage"]) == {"design"}


def test_cli_sample_writes_worklists_and_manifest(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from kpitools.cli import main

    monkeypatch.setenv("KPITOOLS_PSEUDONYM_KEY", "sampling-cli-key-0123456789")

    folder = _provider_folder(tmp_path / "2023-03" / "P001")
    (folder / "learners.csv").write_text(
        "learner_ref,bootcamp_id,learner_type,start_date,m1_date,completion_date\n"
        "L1,B1,independent,2023-01-09,2023-01-16,2023-03-10\n"
    )
    out = tmp_path / "out"
    args = ["sample", str(folder), "--out", str(out), "--seed", "11", "--minimum", "1"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "sample_manifest.json").read_text())
    # as_of defaults to the period folder's last day, 2023-03-31
    assert manifest["as_of"] == "2023-03-31" and manifest["seed"] == 11
    completers = pd.read_csv(out / "completers.csv", dtype=str)
    pseudonym = Pseudonymiser(b"sampling-cli-key-0123456789", "P001").learner("L1")
    assert list(completers["learner_ref"]) == [f"L1 ({pseudonym})"]
    assert list(completers["completion_date"]) == ["2023-03-10"]
    again = CliRunner().invoke(main, [*args[:2], "--out", str(tmp_path / "again"), *args[4:]])
    assert again.exit_code == 0
    assert (tmp_path / "again" / "employers_design.csv").read_text() == (
        out / "employers_design.csv"
    ).read_text()
    bad = CliRunner().invoke(
        main, ["sample", str(folder), "--out", str(out), "--as-of", "31/03/2023"]
    )
    assert bad.exit_code == 2 and "must be a date written YYYY-MM-DD" in bad.output
    # one rejected learner row (no learner_type): samples still written, exit 1 (README)
    with (folder / "learners.csv").open("a") as handle:
        handle.write("L2,B1,,2023-01-09,,\n")
    rejected = CliRunner().invoke(main, [*args[:2], "--out", str(tmp_path / "rej"), *args[4:]])
    assert rejected.exit_code == 1, rejected.output
    assert (tmp_path / "rej" / "sample_manifest.json").exists()


@settings(max_examples=40, deadline=None)
@given(
    cases=st.lists(st.text(min_size=1, max_size=8), min_size=0, max_size=60, unique=True),
    seed=st.integers(min_value=0, max_value=2**31 - 1),
    small=st.floats(min_value=0, max_value=1),
    extra=st.floats(min_value=0, max_value=1),
    minimum=st.integers(min_value=0, max_value=10),
)
def test_prefix_property_for_any_population(cases, seed, small, extra, minimum):
    # For any population and seed, a larger fraction keeps every earlier pick in order.
    frame = pd.DataFrame({"case": pd.Series(cases, dtype=object)})
    large = min(1.0, small + extra)
    a = draw(frame, frame["case"], seed=seed, name="p", fraction=small, minimum=minimum).worklist
    b = draw(frame, frame["case"], seed=seed, name="p", fraction=large, minimum=minimum).worklist
    assert len(a) <= len(b) <= len(cases)
    assert list(b["case"].head(len(a))) == list(a["case"])


def test_measurement_date_needs_a_period_folder_or_as_of(tmp_path):
    from kpitools.errors import ParameterError
    from kpitools.worklists.sampling import measurement_date

    assert measurement_date(tmp_path / "2024-02" / "P001", None) == date(2024, 2, 29)
    assert measurement_date(tmp_path / "anything" / "P001", "2023-05-17") == date(2023, 5, 17)
    with pytest.raises(ParameterError, match="give --as-of"):
        measurement_date(tmp_path / "anything" / "P001", None)


def test_cli_sample_refuses_an_output_folder_under_a_file(tmp_path):
    from click.testing import CliRunner

    from kpitools.cli import main

    folder = _provider_folder(tmp_path / "2023-03" / "P001")
    (tmp_path / "report.txt").write_text("a file")
    result = CliRunner().invoke(
        main, ["sample", str(folder), "--out", str(tmp_path / "report.txt" / "samples")]
    )
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {tmp_path / 'report.txt' / 'samples'}: output folder: "
        f"{tmp_path / 'report.txt'} is a file, not a folder; give a folder\n"
    )
