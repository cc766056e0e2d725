"""The identity rule: how each output names a learner, decided at write time."""

from __future__ import annotations

import pandas as pd

from kpitools.privacy.naming import (
    CIRCULATED,
    WITHHELD,
    WORKING,
    LearnerNaming,
    learner_naming,
    withheld_values,
)
from kpitools.privacy.pseudonym import Pseudonymiser
from kpitools.returns.personal import KnownValues, mark_personal

NAMES = Pseudonymiser(b"identity-test-key-0123456789", "P001")
TABLES = {
    "learners": pd.DataFrame(
        {
            "learner_ref": ["L1", "L1", "high"],
            "bootcamp_id": ["B1", "B2", "B1"],
            "uln": ["1234567890", "1234567890", None],
            "given_name": ["Zoë", "Zoë", "Ann"],
            "family_name": ["Smith", "Smith", None],
            "source": ["learners.csv:2", "learners.csv:3", "learners.csv:4"],
        }
    ),
    "employers": pd.DataFrame(
        {
            "employer_id": ["E1"],
            "contact_name": ["Bo Li"],
            "contact_email": ["bo@example.org"],
            "contact_phone": [None],
        }
    ),
}


def test_each_audience_names_a_learner_its_own_way() -> None:
    pseudonym = NAMES.learner("L1")
    working = learner_naming(TABLES, NAMES, audience=WORKING)
    circulated = learner_naming(TABLES, NAMES, audience=CIRCULATED)
    assert working.learner("L1") == f"L1 ({pseudonym})"
    # a learner on two bootcamps: both learner rows are its source
    assert circulated.learner("L1") == f"{pseudonym} at learners.csv:2; learners.csv:3"
    # a ref not in learners (e.g. an ILR-only learner): the pseudonym alone
    assert circulated.learner("X9") == NAMES.learner("X9")
    assert working.learner(None) == "" and circulated.learner(float("nan")) == ""


def test_another_providers_learner_is_named_by_its_ref_in_working_outputs() -> None:
    # a cross-provider duplicate's other learner: P002's X7, pseudonymised with P002's
    # pseudonyms (the same key), so it matches what P002's own outputs show
    theirs = Pseudonymiser(NAMES.key, "P002").learner("X7")
    working = learner_naming(TABLES, NAMES, audience=WORKING)
    circulated = learner_naming(TABLES, NAMES, audience=CIRCULATED)
    assert working.related("P002/learner:X7") == f"P002/learner:X7 ({theirs})"
    assert circulated.related("P002/learner:X7") == f"P002/learner:{theirs}"
    assert working.related("") == "" and working.related(None) is None
    shown = working.frame(pd.DataFrame({"related": ["P002/learner:X7", ""]}))
    assert shown["related"].tolist() == [f"P002/learner:X7 ({theirs})", ""]


def test_include_pii_adds_name_and_uln_in_every_output() -> None:
    pseudonym = NAMES.learner("L1")
    for audience, tail in ((WORKING, ""), (CIRCULATED, " at learners.csv:2; learners.csv:3")):
        naming = learner_naming(TABLES, NAMES, audience=audience, include_pii=True)
        assert naming.learner("L1") == f"L1 ({pseudonym}), Zoë Smith, ULN 1234567890{tail}"
        assert naming.entity("employer:E1") == "employer:E1, Bo Li, bo@example.org"
    plain = learner_naming(TABLES, NAMES, audience=WORKING)
    assert plain.entity("employer:E1") == "employer:E1"


def test_frame_names_ref_and_entity_cells_and_drops_personal_columns() -> None:
    naming = learner_naming(TABLES, NAMES, audience=WORKING)
    shown = naming.frame(TABLES["learners"])
    assert not {"uln", "given_name", "family_name"} & set(shown.columns)
    assert shown["learner_ref"].tolist() == [naming.learner(r) for r in ("L1", "L1", "high")]
    assert TABLES["learners"]["learner_ref"].tolist() == ["L1", "L1", "high"]  # input unchanged
    findings = pd.DataFrame(
        {
            "entity": ["learner:high", "employer:E1", "bootcamp:B1"],
            "severity": ["high", "high", "high"],
            "bootcamp_id": ["B1", "B1", "B1"],
            "message": ["high M1", "x", "y"],
        }
    )
    shown = learner_naming(TABLES, NAMES, audience=CIRCULATED).frame(findings)
    # a learner named "high" changes its own entity cell and nothing else
    assert shown["entity"].tolist() == [
        f"learner:{NAMES.learner('high')} at learners.csv:4",
        "employer:E1",
        "bootcamp:B1",
    ]
    assert shown[["severity", "bootcamp_id", "message"]].equals(
        findings[["severity", "bootcamp_id", "message"]]
    )


def _rejected(rows: list[tuple[str, str, str, str, str]]) -> pd.DataFrame:
    """Rejected entries marked as validation marks them (no personal values known)."""
    frame = pd.DataFrame(rows, columns=["table", "source", "column", "value", "rule"])
    return mark_personal(frame.assign(reason="r"), KnownValues())


def test_rejected_values_withheld_as_marked() -> None:
    # the mark (kpitools.returns.personal, tested there) decides; naming withholds it
    rejected = _rejected(
        [
            ("learners", "learners.csv:2", "uln", "12345", "BAD-ULN"),  # personal column
            ("learners", "learners.csv:3", "uln", "Smith", "BAD-ULN"),  # shifted row
            ("learners", "learners.csv:3", "start_date", "Zoë", "BAD-DATE"),  # shifted row
            ("learners", "learners.csv:3", "(beyond the last column)", "x", "EXTRA-FIELD"),
            ("learners", "learners.csv:4", "m1_date", "31/02/2023", "BAD-DATE"),  # kept
            ("employers", "employers.csv:3", "learner_ref", "P1", "BAD-DATE"),  # other table, row 3
            ("learners", "learners.csv:5", "learner_ref", "L7", "REQUIRED"),
            ("learners", "learners.csv:6", "learner_ref, bootcamp_id", "L1|B1", "DUP-KEY"),
        ]
    )
    assert withheld_values(rejected).tolist() == [
        True,
        True,
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    working = LearnerNaming(WORKING, NAMES).rejected(rejected)["value"].tolist()
    assert working == [WITHHELD] * 4 + ["31/02/2023", "P1", "L7", "L1|B1"]
    circulated = LearnerNaming(CIRCULATED, NAMES).rejected(rejected)["value"].tolist()
    assert circulated == [WITHHELD] * 4 + [
        "31/02/2023",
        NAMES.learner("P1"),
        NAMES.learner("L7"),
        WITHHELD,
    ]
    assert LearnerNaming(CIRCULATED, NAMES, include_pii=True).rejected(rejected)[
        "value"
    ].tolist() == (rejected["value"].tolist())


def test_the_mark_is_never_an_output_column() -> None:
    rejected = _rejected([("learners", "learners.csv:2", "uln", "12345", "BAD-ULN")])
    for naming in (LearnerNaming(WORKING, NAMES), LearnerNaming(WORKING, NAMES, include_pii=True)):
        assert list(naming.rejected(rejected).columns) == [
            "table",
            "source",
            "column",
            "value",
            "rule",
            "reason",
        ]


def test_the_other_side_of_a_person_match_is_named_by_its_own_provider() -> None:
    # the person_matches worklist (kpitools.checks.people): the other learner's ref is
    # ref and pseudonym in working files, the other provider's pseudonym in the pack; the
    # identity values of both sides are dropped without include_pii
    matches = pd.DataFrame(
        {
            "learner_ref": ["L1"],
            "other_provider_id": ["P002"],
            "other_learner_ref": ["M7"],
            "date_of_birth": ["1990-04-12"],
            "other_date_of_birth": ["1990-12-04"],
            "other_postcode": ["B1 1AA"],
            "other_ni_number": ["QQ123456C"],
        }
    )
    theirs = Pseudonymiser(NAMES.key, "P002").learner("M7")
    assert theirs != NAMES.learner("M7")
    working = learner_naming(TABLES, NAMES, audience=WORKING).frame(matches)
    circulated = learner_naming(TABLES, NAMES, audience=CIRCULATED).frame(matches)
    assert working["other_learner_ref"].tolist() == [f"M7 ({theirs})"]
    assert circulated["other_learner_ref"].tolist() == [theirs]
    for shown in (working, circulated):
        assert list(shown.columns) == ["learner_ref", "other_provider_id", "other_learner_ref"]
    with_pii = learner_naming(TABLES, NAMES, audience=CIRCULATED, include_pii=True).frame(matches)
    assert with_pii["other_postcode"].tolist() == ["B1 1AA"]
