"""Which rejected values could be personal data: by column, by row and by value."""

from __future__ import annotations

import pandas as pd
import pytest

from kpitools.model import PERSONAL
from kpitools.returns import contract
from kpitools.returns.personal import (
    KnownValues,
    known_values,
    mark_personal,
    personal_entries,
    shaped_like_personal,
)
from kpitools.returns.tables import RawTable
from kpitools.returns.validate import validate_tables

PROVIDER = [{"provider_id": "P001", "name": "Northern Skills", "ukprn": "10001234"}]
BOOTCAMPS = [
    {
        "bootcamp_id": "P001-BC01",
        "start_date": "2023-01-09",
        "end_date": "2023-04-28",
        "price_per_learner": "3000",
    }
]
# Quintessa Marchbanks (ULN 1234567899, quintessa@example.org) is a learner of the return;
# so is "Xæ A-12", a given name holding digits (words alone would not catch it).
LEARNERS = [
    {
        "learner_ref": "L1",
        "uln": "1234567899",
        "bootcamp_id": "P001-BC01",
        "learner_type": "independent",
        "start_date": "2023-01-09",
        "given_name": "Quintessa",
        "family_name": "Marchbanks",
    },
    {
        "learner_ref": "L2",
        "bootcamp_id": "P001-BC01",
        "learner_type": "independent",
        "start_date": "2023-01-09",
        "given_name": "Xæ A-12",
        "family_name": "Musk",
    },
]


def _marked(learners: list[dict[str, str]], **tables: list[dict[str, str]]) -> pd.DataFrame:
    records = {
        "provider": PROVIDER,
        "bootcamps": BOOTCAMPS,
        "learners": LEARNERS + learners,
        **tables,
    }
    raw = {
        name: RawTable.from_records(name, rows, label=f"{name}.csv")
        for name, rows in records.items()
    }
    _, rejected, counts = validate_tables(raw)
    assert all(c.balances for c in counts.values())
    return rejected


def _shown(rejected: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(column, value, rule) of every entry that may be shown (not marked)."""
    kept = rejected[~rejected[PERSONAL]]
    return list(kept[["column", "value", "rule"]].itertuples(index=False, name=None))


def _learner(ref: str, **cells: str) -> dict[str, str]:
    return {
        "learner_ref": ref,
        "bootcamp_id": "P001-BC01",
        "learner_type": "independent",
        "start_date": "2023-01-09",
        **cells,
    }


def test_swapped_and_shifted_values_are_marked() -> None:
    # each row has one rejected value: only what the value is can withhold it
    rejected = _marked(
        [
            # names and bootcamp swapped: the name is an unknown bootcamp id
            _learner("S1", bootcamp_id="Ottoline", given_name="P001-BC01"),
            _learner("S2", start_date="Ottoline Fairweather"),  # a name typed into a date
            _learner("S3", wants_interview="2345678901"),  # a ULN into a flag
            _learner("S4", m1_date="Marchbanks 2023"),  # a word of the return's names
            _learner("S5", m1_date="xæ a-12"),  # a name of the return, case and spaces aside
            _learner("S6", withdrawal_date="QQ 12 34 56 C"),  # an NI number
            _learner("S7", completion_date="B1 1AA"),  # a postcode
            _learner("S8", learner_type="+44 (0)121 496 0000"),  # a phone number
            # harmless: shown
            _learner("K1", m1_date="31/02/2023"),
            _learner("K2", m1_date="44927"),
            _learner("K3", bootcamp_id="P001-BC99"),
            _learner("K4", learner_type="dropped"),  # a word of the contract
        ],
        employers=[{"employer_id": "E1", "name": "Acme", "size_band": "q@example.org"}],
    )
    assert sorted(_shown(rejected)) == [
        ("bootcamp_id", "P001-BC99", "REF-BOOTCAMP"),
        ("learner_type", "dropped", "BAD-CODE"),
        ("m1_date", "31/02/2023", "BAD-DATE"),
        ("m1_date", "44927", "BAD-DATE"),
    ]
    assert rejected[PERSONAL].sum() == 9  # S1..S8 and the e-mail in size_band


def test_a_row_with_two_rejected_values_is_withheld_whole() -> None:
    # a shifted row: each value alone would pass, together the row is suspect
    rejected = _marked([_learner("R1", m1_date="31/02/2023", completion_date="30/02/2023")])
    assert len(rejected) == 2 and rejected[PERSONAL].all()


def test_a_name_in_an_id_column_is_marked_even_when_it_names_no_one_known() -> None:
    rejected = _marked([_learner("R1", bootcamp_id="Ottoline")])
    assert rejected[["column", "rule", PERSONAL]].values.tolist() == [
        ["bootcamp_id", "REF-BOOTCAMP", True]
    ]


def test_known_values_are_read_from_the_contracts_personal_columns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # date_of_birth is one of PII_COLUMNS (issue 28): a birth date typed as a start
    # date is withheld because it is known; without the column among them it would not be
    learners = RawTable.from_records(
        "learners",
        [{"learner_ref": "L1", "date_of_birth": "1990-05-17", "given_name": "Ann"}],
        label="learners.csv",
    )
    entry = pd.DataFrame(
        [["learners", "learners.csv:3", "start_date", "1990-05-17", "r", "DATE-RANGE"]],
        columns=["table", "source", "column", "value", "reason", "rule"],
    )
    assert "date_of_birth" in contract.PII_COLUMNS["learners"]
    assert personal_entries(entry, known_values({"learners": learners})).all()
    monkeypatch.setitem(
        contract.PII_COLUMNS,
        "learners",
        tuple(c for c in contract.PII_COLUMNS["learners"] if c != "date_of_birth"),
    )
    assert not personal_entries(entry, known_values({"learners": learners})).any()


def test_known_values_hold_names_joined_and_words() -> None:
    known = known_values(
        {
            "learners": RawTable.from_records(
                "learners",
                [{"learner_ref": "L1", "given_name": "Zoë", "family_name": "Smith-Jones"}],
                label="learners.csv",
            )
        }
    )
    assert known.holds("ZOË SMITH-JONES") and known.holds("smith-jones zoë")
    assert known.holds("Jones 2023") and not known.holds("Zo 2023")
    assert not known.holds("31/02/2023")


@pytest.mark.parametrize(
    ("value", "shaped"),
    [
        ("someone@example.org", True),
        ("2345678901", True),
        ("07700 900123", True),
        ("+44 121 496 0000", True),
        ("call 0121-496-0000 after 5", True),
        ("QQ123456C", True),
        ("qq 12 34 56", True),
        ("SW1A 1AA", True),
        ("b11aa", True),
        ("31/02/2023", False),
        ("2023-13-01", False),
        ("44927", False),
        ("P001-BC01", False),
        ("£1,250.00", False),
        ("123456789", False),
    ],
)
def test_personal_shapes(value: str, shaped: bool) -> None:
    assert shaped_like_personal(value) is shaped


def test_ilr_personal_fields_and_misaligned_rows_are_marked() -> None:
    entries = pd.DataFrame(
        [
            ["learners", "ilr/a.xml:40", "DateOfBirth", "1999-13-01", "r", "BAD-DATE"],
            ["learners", "learners.csv:5", "(beyond the last column)", "x", "r", "EXTRA-FIELD"],
            ["learners", "learners.csv:5", "m1_date", "31/02/2023", "r", "BAD-DATE"],
            ["learners", "learners.csv:6", "m1_date", "31/02/2023", "r", "BAD-DATE"],
        ],
        columns=["table", "source", "column", "value", "reason", "rule"],
    )
    marked = mark_personal(entries, KnownValues())
    assert marked[PERSONAL].tolist() == [True, True, True, False]
