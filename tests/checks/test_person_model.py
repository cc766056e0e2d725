"""The person matching's shortcuts give what the plain way gives: identity records taken
over a stack of providers, each distinct text normalised once, and the birth date's
one-digit level computed only where the first or last four characters agree."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
from auditkit_frames import bootcamp, learner, provider_return

from kpitools.checks.people import identity_records
from kpitools.checks.person_model import (
    BIRTH_DATE_ONE_DIGIT,
    CANONICAL_GIVEN_NAME,
    comparable,
    normal_family_name,
    normal_name,
    normal_ni_number,
    normal_postcode,
)
from kpitools.returns.period import Stacks


def _birth_dates() -> list[str]:
    """ISO birth dates and their near misses: each digit changed, each two neighbours
    swapped, and dates far apart."""
    rng = random.Random(7)
    dates = [date(1960, 1, 1) + timedelta(days=rng.randrange(20000)) for _ in range(40)]
    texts = {d.isoformat() for d in dates}
    for text in sorted(texts):
        for i in range(len(text)):
            texts.add(text[:i] + "7" + text[i + 1 :])
            if i + 1 < len(text):
                texts.add(text[:i] + text[i + 1] + text[i] + text[i + 2 :])
    return sorted(texts)


def test_the_birth_date_guard_keeps_every_pair_within_one_edit() -> None:
    level = BIRTH_DATE_ONE_DIGIT
    texts = _birth_dates()
    assert {len(text) for text in texts} == {10}
    connection = duckdb.connect()
    connection.register("d", pd.DataFrame({"date_of_birth": texts}))
    within = "damerau_levenshtein(date_of_birth_l, date_of_birth_r) <= 1"
    guarded, plain, pairs = connection.execute(
        f"""
        select count(*) filter (where {level.when} and {within}),
               count(*) filter (where {within}), count(*)
        from (select l.date_of_birth as date_of_birth_l, r.date_of_birth as date_of_birth_r
              from d l, d r where l.date_of_birth <> r.date_of_birth)
        """
    ).fetchone()
    assert guarded == plain > 1000 and pairs > 100 * plain
    [missed] = connection.execute(
        f"""
        select count(*) from (
            select l.date_of_birth as date_of_birth_l, r.date_of_birth as date_of_birth_r
            from d l, d r) where {within} and not ({level.when})
        """
    ).fetchone()
    assert missed == 0


def test_comparable_normalises_each_distinct_text_as_each_row() -> None:
    given = ["Tom", "tom ", None, np.nan, "", "Zoë-Ann", "Tom", "Elizabeth", "  "]
    family = ["Brennan", "De Silva", "O'Neil", None, "x", "Brennan", np.nan, "", "Smith"]
    postcode = ["cv1 5fb", "CV1 5FB", None, "B1", "", "b1 1aa", np.nan, "CV1 5FB", "WV10 6QZ"]
    ni = ["qq 12 34 56 c", None, "QQ123456C", "", np.nan, "qq123456", "x", None, "AB"]
    uln = ["1000000043", None, "1000000043", None, "1000000051", None, None, None, None]
    people = pd.DataFrame(
        {
            "given_name": pd.Series(given, dtype=object),
            "family_name": pd.Series(family, dtype=object),
            "date_of_birth": pd.to_datetime(
                ["1988-03-07", None, "1988-03-17", "2000-12-31"] + ["1990-01-01"] * 5
            ),
            "postcode": pd.Series(postcode, dtype=object),
            "ni_number": pd.Series(ni, dtype=object),
            "uln": pd.Series(uln, dtype=object),
        }
    )
    rows = comparable(people)

    def each(values: Sequence[object], normal: Callable[[str], str | None]) -> list[object]:
        return [normal(v) if isinstance(v, str) else None for v in values]

    names = each(given, normal_name)
    families = each(family, normal_family_name)
    codes = each(postcode, normal_postcode)
    assert rows["unique_id"].tolist() == list(range(9))
    assert rows["given_name"].tolist() == names
    assert rows["given_canonical"].tolist() == [
        CANONICAL_GIVEN_NAME.get(n, n) if n else None for n in names
    ]
    assert rows["family_name"].tolist() == families
    assert rows["family_initial"].tolist() == [f[:1] if f else None for f in families]
    assert rows["postcode"].tolist() == codes
    assert rows["postcode_sector"].tolist() == [c[:-2] if c and len(c) > 4 else None for c in codes]
    assert rows["ni_number"].tolist() == each(ni, normal_ni_number)
    assert rows["uln"].tolist() == uln
    assert (
        rows["date_of_birth"].tolist()
        == [
            "1988-03-07",
            None,
            "1988-03-17",
            "2000-12-31",
        ]
        + ["1990-01-01"] * 5
    )
    assert rows["birth_swapped"].tolist() == ["1988-07-03", None, None, None] + ["1990-01-01"] * 5
    assert all(rows[c].dtype == object for c in rows.columns if c != "unique_id")


def _returns() -> dict[str, object]:
    """Three providers, two with a bootcamp B1 of their own ends, one without learners."""
    return {
        "P001": provider_return(
            "P001",
            bootcamps=[bootcamp("B1", end="2023-03-31"), bootcamp("B2", end="2023-05-31")],
            learners=[
                learner("L1", "B1", given_name="Ada", uln="1000000043"),
                learner("L2", "B2", given_name="Tom", uln="9999999999"),
            ],
        ),
        "P002": provider_return("P002", bootcamps=[bootcamp("B1")]),
        "P003": provider_return(
            "P003",
            bootcamps=[bootcamp("B1", end="2023-06-30")],
            learners=[learner("L1", "B1", completion_date="2023-04-02", uln=None)],
        ),
    }


def test_identity_records_of_a_stack_are_each_providers_records_in_turn() -> None:
    returns = _returns()
    together = identity_records(returns, period="2023-03", stacks=Stacks())
    alone = pd.concat(
        [identity_records({p: r}, period="2023-03") for p, r in returns.items() if p != "P002"],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(together, alone)
    assert together["provider_id"].tolist() == ["P001", "P001", "P003"]
    assert together["learner_ref"].tolist() == ["L1", "L2", "L1"]
    assert together["bootcamp_id"].tolist() == ["B1", "B2", "B1"]
    assert together["learning_end"].dt.strftime("%Y-%m-%d").tolist() == [
        "2023-03-31",
        "2023-05-31",
        "2023-04-02",
    ]
    assert together["uln"].tolist() == ["1000000043", None, None]
    # providers not named like a folder cannot be stacked: taken one by one, the same
    named = {f"provider {p}": r for p, r in returns.items()}
    one_by_one = identity_records(named, period="2023-03")
    pd.testing.assert_frame_equal(
        one_by_one, alone.assign(provider_id=("provider " + alone["provider_id"]).astype("str"))
    )
    assert identity_records({"P002": returns["P002"]}, period="2023-03").empty
