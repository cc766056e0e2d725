"""The person matching (kpitools.checks.people, person_model): one person under two
providers or twice at one, found through the noise real returns carry, and look-alikes
who are different people left alone (issue 28)."""

from __future__ import annotations

import json
import math
import random
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from kpitools import audit_period
from kpitools.calendar import period_end
from kpitools.checks.people import PERSON_MATCHES, identity_records, person_matches
from kpitools.checks.person_model import (
    comparable,
    field_words,
    normal_family_name,
    normal_name,
    normal_ni_number,
    normal_postcode,
)
from kpitools.demo.world import new_uln
from kpitools.demo.writers import write_csv_folder
from kpitools.model import ProviderAudit
from kpitools.outputs.results import write_provider_outputs
from kpitools.privacy.naming import WORKING, learner_naming
from kpitools.privacy.pseudonym import Pseudonymiser
from kpitools.returns.contract import TABLES
from kpitools.rules import Rules

START, END = date(2023, 1, 9), date(2023, 4, 28)

# Ten people each entered by two providers under different ULNs, with the noise returns
# carry: (given, family, birth, postcode, NI) as one provider wrote them, then the other.
SAME_PERSON = [
    # misspelt given name, postcode without its space, NI missing on one side
    (
        ("Katherine", "Oduya", "1991-05-17", "B15 2TT", "JA112233A"),
        ("Kathrine", "Oduya", "1991-05-17", "B152TT", None),
    ),
    # shortened given name, day and month swapped
    (
        ("Thomas", "Brennan", "1988-03-07", "CV1 5FB", "JB223344B"),
        ("Tom", "Brennan", "1988-07-03", "CV1 5FB", "JB223344B"),
    ),
    # misspelt family name, postcode in lower case
    (
        ("Priyanka", "Chaudhry", "1995-11-23", "WS1 1AA", None),
        ("Priyanka", "Chaudry", "1995-11-23", "ws1 1aa", None),
    ),
    # one digit of the birth date typed wrong, NI missing on one side
    (
        ("Marcus", "Whitfield", "1979-08-14", "DY1 4QX", "JC334455C"),
        ("Marcus", "Whitfield", "1979-08-15", "DY1 4QX", None),
    ),
    # given and family name swapped
    (("Chen", "Wei", "2000-02-29", "B5 7RN", None), ("Wei", "Chen", "2000-02-29", "B5 7RN", None)),
    # nickname, moved within the postcode sector
    (
        ("Elizabeth", "Harrow", "1985-06-02", "WV3 9DX", "JD445566D"),
        ("Beth", "Harrow", "1985-06-02", "WV3 9DY", "JD445566D"),
    ),
    # accents and a hyphen dropped, NI written with spaces
    (
        ("Zoë", "Ashworth-Pryce", "1993-09-30", "B29 6HJ", "JE556677A"),
        ("Zoe", "AshworthPryce", "1993-09-30", "B29 6HJ", "JE 55 66 77 A"),
    ),
    # day and month swapped and given name initial only
    (
        ("Rahul", "Venkataraman", "1990-10-04", "CV4 7AL", None),
        ("R", "Venkataraman", "1990-04-10", "CV4 7AL", None),
    ),
    # misspelt given name, family name in capitals, no postcode on one side
    (
        ("Siobhan", "McAllister", "1987-12-19", "B12 0XS", "JF667788B"),
        ("Siobahn", "MCALLISTER", "1987-12-19", None, "JF667788B"),
    ),
    # transposed letters in both names
    (
        ("Gareth", "Llewellyn", "1982-01-25", "WS2 8NE", None),
        ("Garteh", "Llewelyn", "1982-01-25", "WS2 8NE", None),
    ),
]
# Five pairs who look alike and are two people.
LOOK_ALIKES = [
    # twins: one family name, birth date and postcode, another given name and NI number
    (
        ("Amelia", "Kowalczyk", "1998-04-11", "B23 5PQ", "JG778899C"),
        ("Hannah", "Kowalczyk", "1998-04-11", "B23 5PQ", "JG778800D"),
    ),
    (
        ("Daniel", "Osei", "2001-07-08", "CV6 1DD", "JH889900A"),
        ("Samuel", "Osei", "2001-07-08", "CV6 1DD", "JH889911B"),
    ),
    # a common name and a shared birth date, living apart
    (
        ("James", "Smith", "1990-01-01", "B1 1BB", "JJ990011C"),
        ("James", "Smith", "1990-01-01", "WV10 6QZ", "JK001122D"),
    ),
    # a common name, another birth date and place
    (
        ("Mohammed", "Khan", "1994-03-15", "B8 2AB", None),
        ("Mohammed", "Khan", "1996-08-22", "B10 0AA", None),
    ),
    # one birth date and postcode, other names (neighbours)
    (
        ("Olivia", "Turner", "1986-09-09", "DY4 7LJ", None),
        ("Grace", "Baker", "1986-09-09", "DY4 7LJ", None),
    ),
]
GIVEN = ["Aisha", "Ben", "Callum", "Deepa", "Erin", "Faisal", "Isla", "Kofi", "Leah", "Nadia"]
FAMILY = ["Ahmed", "Begum", "Clarke", "Davies", "Evans", "Fraser", "Green", "Hughes", "Iqbal"]


def _learner(ref: str, uln: str, person: tuple[object, ...]) -> dict[str, object]:
    given, family, born, postcode, ni = person
    return {
        "learner_ref": ref,
        "uln": uln,
        "bootcamp_id": "B1",
        "learner_type": "independent",
        "start_date": START,
        "m1_date": date(2023, 1, 20),
        "given_name": given,
        "family_name": family,
        "date_of_birth": date.fromisoformat(str(born)),
        "postcode": postcode,
        "ni_number": ni,
    }


def _background(rng: random.Random, ulns: set[str], provider: str) -> list[dict[str, object]]:
    """Twenty learners of distinct birth dates, as a return has around the planted ones."""
    rows = []
    for i in range(20):
        born = date(1975 + rng.randint(0, 25), rng.randint(1, 12), rng.randint(1, 28))
        person = (rng.choice(GIVEN), rng.choice(FAMILY), born.isoformat(), None, None)
        rows.append(_learner(f"{provider}-BG{i:02d}", new_uln(rng, ulns), person))
    return rows


def _period(root: Path) -> Path:
    """DATA/2023-03 with P001, P002, P003: pair i's first row at provider i % 3, its
    second at the next provider, every row under its own ULN."""
    rng = random.Random(28)
    ulns: set[str] = set()
    providers = ["P001", "P002", "P003"]
    learners: dict[str, list[dict[str, object]]] = {p: _background(rng, ulns, p) for p in providers}
    for kind, pairs in (("SAME", SAME_PERSON), ("LOOK", LOOK_ALIKES)):
        for i, (first, second) in enumerate(pairs):
            here, there = providers[i % 3], providers[(i + 1) % 3]
            learners[here].append(_learner(f"{kind}{i}A", new_uln(rng, ulns), first))
            learners[there].append(_learner(f"{kind}{i}B", new_uln(rng, ulns), second))
    for number, provider in enumerate(providers, 1):
        tables: dict[str, list[dict[str, object]]] = {name: [] for name in TABLES}
        tables["provider"] = [
            {"provider_id": provider, "name": "Test", "ukprn": f"1001000{number}"}
        ]
        tables["bootcamps"] = [
            {"bootcamp_id": "B1", "start_date": START, "end_date": END, "price_per_learner": 300000}
        ]
        tables["learners"] = learners[provider]
        write_csv_folder(root / "2023-03" / provider, tables, {})
    return root / "2023-03"


@pytest.fixture(scope="module")
def audits(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ProviderAudit]:
    period = _period(tmp_path_factory.mktemp("people"))
    audited = audit_period(period, as_of=date(2023, 3, 31))
    assert all(isinstance(a, ProviderAudit) for a in audited.values())
    return audited  # type: ignore[return-value]


def _flagged(audits: dict[str, ProviderAudit]) -> set[str]:
    return {
        f.learner_ref
        for audit in audits.values()
        for f in audit.irregularities
        if f.rule.startswith("DUP-PERSON")
    }


def test_nine_of_ten_same_people_are_found_on_both_sides(audits: dict[str, ProviderAudit]) -> None:
    flagged = _flagged(audits)
    found = [i for i in range(len(SAME_PERSON)) if {f"SAME{i}A", f"SAME{i}B"} <= flagged]
    assert len(found) >= 9, found
    rules = {
        f.rule for audit in audits.values() for f in audit.irregularities if "SAME" in f.entity
    }
    assert rules == {"DUP-PERSON-OVERLAP"}  # one bootcamp's dates: learning overlaps


def test_no_look_alike_and_no_background_learner_is_flagged(
    audits: dict[str, ProviderAudit],
) -> None:
    assert {ref for ref in _flagged(audits) if not ref.startswith("SAME")} == set()


def test_findings_name_fields_not_values_and_the_worklist_holds_both_sides(
    audits: dict[str, ProviderAudit],
) -> None:
    audit = audits["P003"]  # SAME1B (Tom Brennan) is at P003, SAME1A at P002
    [finding] = [f for f in audit.irregularities if f.learner_ref == "SAME1B"]
    assert finding.severity == "high" and finding.source.startswith("learners.csv:")
    assert "provider P002's learner at learners.csv:" in finding.message
    assert "agreed: given_name (nickname), family_name, date_of_birth (day_month_swapped)" in (
        finding.message
    )
    assert "disagreed: uln" in finding.message and "match probability" in finding.message
    for value in ("Tom", "Brennan", "1988", "CV1", "JB223344B", "SAME1A"):
        assert value not in finding.message
    worklist = audit.worklists[PERSON_MATCHES]
    row = worklist[worklist["learner_ref"] == "SAME1B"].iloc[0]
    assert (row["other_provider_id"], row["other_learner_ref"]) == ("P002", "SAME1A")
    assert (row["given_name"], row["other_given_name"]) == ("Tom", "Thomas")
    assert audit.person_model["records"] == 90 and audit.person_model["periods"] == ["2023-03"]
    assert {level["level"] for level in audit.person_model["levels"]} >= {"uln:exact"}


def test_the_demo_plants_are_found_and_nothing_else(demo_dir: tuple[Path, object]) -> None:
    # every planted same-person pair on both sides, in every period, and no other
    # DUP-PERSON finding anywhere: not the look-alikes, not the clean provider
    root, truth = demo_dir
    planted = {
        (e.period, e.provider_id, e.entity, e.rule)
        for e in truth.expectations  # type: ignore[attr-defined]
        if e.rule.startswith("DUP-PERSON-")
    }
    assert {rule for *_, rule in planted} == {"DUP-PERSON-OVERLAP", "DUP-PERSON-REPEAT"}
    found = set()
    for period in truth.periods:  # type: ignore[attr-defined]
        for provider, audit in audit_period(root / period, as_of=period_end(period)).items():
            assert isinstance(audit, ProviderAudit), provider
            found |= {
                (period, provider, f.entity, f.rule)
                for f in audit.irregularities
                if f.rule.startswith("DUP-PERSON-")
            }
    assert found == planted
    look_alikes = [p for p in truth.person_pairs if not p["same_person"]]  # type: ignore[attr-defined]
    assert len(look_alikes) == 3


def test_a_pair_with_one_known_uln_is_reported_once_as_dup_uln_overlap() -> None:
    # two providers, one person, one ULN, learning overlapping: DUP-ULN-OVERLAP's alone
    person = ("Ada", "Lovelace", "1990-12-10", "B1 1AA", None)
    rows = [
        {**_learner("A", "1000000043", person), "source": "learners.csv:2"},
        {**_learner("B", "1000000043", person), "source": "learners.csv:2"},
    ]
    records = _records(rows, ["P001", "P002"])
    matched = person_matches(records, records.iloc[:0], report_to=("P001", "P002"), rules=Rules())
    assert matched.findings == {"P001": [], "P002": []}
    # under two ULNs it is a person match, reported to both
    rows[1]["uln"] = "1000000051"
    records = _records(rows, ["P001", "P002"])
    matched = person_matches(records, records.iloc[:0], report_to=("P001", "P002"), rules=Rules())
    assert [f.rule for f in matched.findings["P001"] + matched.findings["P002"]] == [
        "DUP-PERSON-OVERLAP"
    ] * 2


def _records(rows: list[dict[str, object]], providers: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows).assign(
        period="2023-03",
        provider_id=providers,
        learning_start=pd.Timestamp(START),
        learning_end=pd.Timestamp(END),
        completion_date=pd.NaT,
        date_of_birth=lambda f: pd.to_datetime(f["date_of_birth"]),
    )
    return frame[list(identity_records({}, period="").columns)]


def test_repeat_within_the_months_of_the_rule_across_periods() -> None:
    # one person completed B1 at P001 on 2022-06-30 (an earlier period) and started B2 at
    # P002 on 2023-01-09: 6 months and 10 days later, within 12 months (the default) but
    # not within 6
    person = ("Ada", "Lovelace", "1990-12-10", "B1 1AA", "JA000001A")
    now = _records([{**_learner("B", "1000000051", person), "source": "learners.csv:2"}], ["P002"])
    before = _records(
        [{**_learner("A", "1000000043", person), "source": "learners.csv:5"}], ["P001"]
    ).assign(
        period="2022-06",
        learning_start=pd.Timestamp("2022-03-01"),
        learning_end=pd.Timestamp("2022-06-30"),
        completion_date=pd.Timestamp("2022-06-30"),
    )
    matched = person_matches(now, before, report_to=("P002",), rules=Rules())
    [finding] = matched.findings["P002"]
    assert finding.rule == "DUP-PERSON-REPEAT" and finding.severity == "medium"
    assert "provider P001's learner at 2022-06/learners.csv:5" in finding.message
    assert "completed bootcamp B1 on 2022-06-30" in finding.message
    six = Rules.from_mapping({"person_repeat_months": 6})
    assert person_matches(now, before, report_to=("P002",), rules=six).findings["P002"] == []


@pytest.mark.parametrize(
    ("function", "value", "expected"),
    [
        (normal_name, " Zoë-Ann ", "zoeann"),
        (normal_name, "O'Neil", "oneil"),
        (normal_name, "Mary Jane", "mary"),
        (normal_family_name, "De Silva", "desilva"),
        (normal_postcode, "b1 1aa", "B11AA"),
        (normal_ni_number, "qq 12 34 56 c", "QQ123456"),
        (normal_name, "  ", None),
    ],
)
def test_normalised_values(function: object, value: str, expected: str | None) -> None:
    assert function(value) == expected  # type: ignore[operator]


def test_comparable_rows_swap_only_dates_whose_day_can_be_a_month() -> None:
    people = pd.DataFrame(
        {
            "given_name": ["Tom", None],
            "family_name": ["Brennan", "x"],
            "date_of_birth": [pd.Timestamp("1988-03-07"), pd.Timestamp("1988-03-17")],
            "postcode": ["CV1 5FB", None],
            "ni_number": [None, None],
            "uln": [None, None],
        }
    )
    rows = comparable(people)
    assert rows["birth_swapped"].tolist() == ["1988-07-03", None]
    assert rows["given_canonical"].tolist() == ["thomas", None]
    assert rows["postcode_sector"].tolist() == ["CV15", None]


def test_field_words() -> None:
    levels = {
        "given_name": "nickname",
        "family_name": "exact",
        "date_of_birth": "other",
        "postcode": "missing",
        "ni_number": "missing",
        "uln": "exact",
    }
    assert field_words(levels) == (
        ["given_name (nickname)", "family_name", "uln"],
        ["date_of_birth"],
        ["postcode", "ni_number"],
    )


def test_the_manifest_records_the_model_and_no_identity_value(
    audits: dict[str, ProviderAudit], tmp_path: Path
) -> None:
    audit = audits["P003"]
    naming = learner_naming(
        audit.provider.tables,
        Pseudonymiser(b"people-test-key-0123456789", "P003"),
        audience=WORKING,
    )
    written = write_provider_outputs(audit, tmp_path, naming)
    manifest = json.loads(written["manifest.json"].read_text(encoding="utf-8"))
    model = manifest["person_matching"]
    assert model["threshold"] == 0.95 and model["records"] == 90
    weights = {level["level"]: level["weight"] for level in model["levels"]}
    assert weights["date_of_birth:exact"] == pytest.approx(math.log2(0.9 / 0.00004), abs=1e-3)
    assert len(model["blocking_rules"]) == 6
    for name in ("manifest.json", "exceptions.csv"):
        text = written[name].read_text(encoding="utf-8")
        for value in ("Brennan", "1988-03-07", "1988-07-03", "CV1 5FB", "JB223344B"):
            assert value not in text, (name, value)
