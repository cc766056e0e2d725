"""What a case is about: the entity asked for (an exception through the store), and the
case's file name, which never holds a learner ref nor a path."""

from __future__ import annotations

import duckdb
import pytest

from kpitools.cases.gather import EMPLOYER, LEARNER, Entity, case_name, resolve_entity
from kpitools.errors import ParameterError
from kpitools.privacy.pseudonym import Pseudonymiser
from kpitools.store.schema import create_statements


@pytest.fixture
def store() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    for statement in create_statements():
        con.execute(statement)
    con.execute(
        "INSERT INTO findings (run_id, period, provider_id, exception_id, bootcamp_id, kpi, "
        "rule, severity, entity, learner_ref, pseudonym, source, message) VALUES "
        "(1, '2023-03', 'P001', 'EX-1', 'B1', 'irregularity', 'DUP-ROW', 'high', "
        "'learner:000433', '000433', 'L-x', 'learners.csv:2', 'm'), "
        "(1, '2023-03', 'P001', 'EX-2', 'ALL', 'employer_cofunding', 'COF-SIZE-MISMATCH', "
        "'medium', 'employer:E 1', '', '', 'employers.csv:3', 'm'), "
        "(1, '2023-03', 'P001', 'EX-3', 'ALL', 'irregularity', 'X', 'low', 'run:1', '', '', "
        "'', 'm')"
    )
    return con


def test_an_exception_opens_its_entitys_case(store: duckdb.DuckDBPyConnection) -> None:
    assert resolve_entity(store, "P001", exception="EX-1") == Entity(LEARNER, "000433", "P001")
    assert resolve_entity(store, "P001", exception=" EX-2 ") == Entity(EMPLOYER, "E 1", "P001")
    assert resolve_entity(store, "P001", learner=" 000433") == Entity(LEARNER, "000433", "P001")


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({}, "exactly one of"),
        ({"learner": "1", "employer": "E1"}, "exactly one of"),
        ({"exception": "EX-9"}, "in no finding on record"),
        ({"exception": "EX-3"}, "which has no case file"),
    ],
)
def test_what_cannot_be_a_case_is_refused(
    store: duckdb.DuckDBPyConnection, given: dict[str, str], message: str
) -> None:
    with pytest.raises(ParameterError, match=message):
        resolve_entity(store, "P001", **given)
    with pytest.raises(ParameterError, match="a finding of provider P001, not P002"):
        resolve_entity(store, "P002", exception="EX-1")


def test_the_case_name_holds_no_ref_and_no_path() -> None:
    names = Pseudonymiser(b"case-unit-tests-key-0123456789ab", "P001")
    assert case_name(Entity(LEARNER, "000433", "P001"), names) == names.learner("000433")
    assert case_name(Entity(EMPLOYER, "P001-E05", "P001"), names) == "employer-P001-E05"
    hostile = case_name(Entity(EMPLOYER, "../../etc/<x>", "P001"), names)
    assert hostile.startswith("employer-") and "/" not in hostile and "<" not in hostile
