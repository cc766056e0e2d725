"""Row validation: typed frames, every reason for a rejected row, references, counts."""

from __future__ import annotations

import pandas as pd
import pytest

from kpitools.errors import KpiToolsError
from kpitools.validate import empty_table, frame_from_records

LEARNER = {
    "learner_ref": "L1",
    "bootcamp_id": "B1",
    "learner_type": "independent",
    "start_date": "2023-01-09",
}


def test_frame_from_records_types_and_sources():
    # Two learners; learner_ref 000123 keeps its zeros, family name NA is a name,
    # wants_interview defaults to Y for the independent learner and N for the co-funded one.
    frame = frame_from_records(
        "learners",
        [
            {**LEARNER, "learner_ref": "000123", "family_name": "NA", "start_date": "01/03/2023"},
            {**LEARNER, "learner_ref": "2", "learner_type": "co-funded", "employer_id": "E1"},
        ],
        file="learners.csv",
    )
    assert frame["learner_ref"].tolist() == ["000123", "2"]
    assert frame["family_name"].tolist() == ["NA", None]
    assert frame["wants_interview"].tolist() == [True, False]
    assert frame["start_date"].tolist() == [pd.Timestamp("2023-03-01"), pd.Timestamp("2023-01-09")]
    assert frame["source"].tolist() == ["learners.csv:2", "learners.csv:3"]
    assert str(frame["start_date"].dtype) == "datetime64[ns]"
    assert str(frame["wants_interview"].dtype) == "boolean"
    assert frame["learner_ref"].dtype == object and frame["source"].dtype == object


def test_frame_from_records_rejects_bad_cell_naming_row_and_rule():
    with pytest.raises(
        KpiToolsError, match=r"learners.csv line 3: m1_date '31/02/2023'.*BAD-DATE"
    ) as info:
        frame_from_records(
            "learners",
            [LEARNER, {**LEARNER, "learner_ref": "L2", "m1_date": "31/02/2023"}],
            file="learners.csv",
        )
    assert (info.value.row, info.value.column, info.value.value) == (3, "m1_date", "31/02/2023")


def test_frame_from_records_unknown_column_is_an_error():
    with pytest.raises(KpiToolsError, match="'m1date' is not a column of learners"):
        frame_from_records("learners", [{**LEARNER, "m1date": "2023-02-01"}])


def test_empty_table_has_every_column_and_dtype():
    frame = empty_table("bootcamps")
    assert len(frame) == 0
    assert list(frame.columns[-1:]) == ["source"]
    assert str(frame["price_per_learner"].dtype) == "float64"
    assert str(frame["planned_learners"].dtype) == "Int64"
    assert str(frame["accelerated_apprenticeship"].dtype) == "boolean"
