"""Superseded ILR months are read only for their withdrawals: the header-only read, the
withdrawn-only pre-filter, and the mapping's results unchanged by them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from ilr_xml import ilr_tables

from kpitools.errors import FileLevelError
from kpitools.ilr.mapping import read_ilr_files as read_whole
from kpitools.ilr.mapping import superseded_positions, tables_from_ilr
from kpitools.ilr.reader import read_ilr, read_ilr_header
from kpitools.rules import Rules

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ilr"
F2223 = FIXTURES / "ILR-10012345-2223-20230331-120000-01.xml"
F2324 = FIXTURES / "ILR-10012345-2324-20240131-093000-01.xml"
WITHDRAWN = "<CompStatus>3</CompStatus><LearnActEndDate>2023-02-10</LearnActEndDate>"


def _month(tmp_path: Path, prepared: str, comp_status: str | None = "3") -> Path:
    """F2223 prepared on another day; L002's withdrawal written with ``comp_status``
    (None: L002 still continuing)."""
    text = F2223.read_text(encoding="utf-8").replace(
        "<FilePreparationDate>2023-03-31</FilePreparationDate>",
        f"<FilePreparationDate>{prepared}</FilePreparationDate>",
    )
    assert WITHDRAWN in text
    if comp_status is None:
        text = text.replace(
            WITHDRAWN + "<WithdrawReason>44</WithdrawReason><Outcome>3</Outcome>",
            "<CompStatus>1</CompStatus>",
        )
    else:
        text = text.replace(WITHDRAWN, WITHDRAWN.replace(">3<", f">{comp_status}<"))
    path = tmp_path / f"ILR-10012345-2223-{prepared.replace('-', '')}-120000-01.xml"
    path.write_text(text, encoding="utf-8")
    return path


def test_header_only_read_matches_the_whole_read(tmp_path: Path) -> None:
    assert read_ilr_header(F2223) == read_ilr(F2223).header
    not_xml = tmp_path / "ILR-10012345-2223-20230331-120000-01.xml"
    not_xml.write_text("not xml at all", encoding="utf-8")
    assert read_ilr_header(not_xml) is None
    hostile = tmp_path / "hostile.xml"
    hostile.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>', encoding="utf-8")
    assert read_ilr_header(hostile) is None


def test_withdrawn_only_builds_the_possibly_withdrawn_learners_and_counts_all() -> None:
    whole = read_ilr(F2223)
    light = read_ilr(F2223, withdrawn_only=True)
    assert light.learners_read == whole.learners_read == 5
    withdrawn = {
        learner.learn_ref_number
        for learner in whole.learners
        if any(aim.comp_status == 3 for aim in learner.deliveries)
    }
    assert withdrawn == {"L002"}
    assert {learner.learn_ref_number for learner in light.learners} == withdrawn
    assert light.learners == tuple(lr for lr in whole.learners if lr.learn_ref_number in withdrawn)


def test_only_files_not_latest_in_their_year_are_superseded(tmp_path: Path) -> None:
    jan, feb = _month(tmp_path, "2023-01-31"), _month(tmp_path, "2023-02-28")
    # positions: F2223 (March, latest of 2022-23), jan, F2324 (only one of 2023-24), feb
    assert superseded_positions([F2223, jan, F2324, feb]) == {1, 3}
    assert superseded_positions([F2223]) == set()
    broken = tmp_path / "ILR-10012345-2223-20230430-120000-01.xml"
    broken.write_text("<Message", encoding="utf-8")
    assert superseded_positions([F2223, jan, broken]) == set()  # a header unread: read all whole


@pytest.mark.parametrize("comp_status", ["3", "03", " 3 "])
def test_mapping_unchanged_when_the_withdrawal_is_in_a_superseded_month(
    tmp_path: Path, comp_status: str
) -> None:
    jan = _month(tmp_path, "2023-01-31", comp_status=None)
    feb = _month(tmp_path, "2023-02-28", comp_status=comp_status)
    paths = [jan, F2223, feb]
    fast = ilr_tables(paths, rules=Rules())
    whole = tables_from_ilr(read_whole(paths), rules=Rules())
    for name in ("learners", "interviews", "outcomes", "learner_facts", "rejected"):
        pd.testing.assert_frame_equal(getattr(fast, name), getattr(whole, name))
    assert (fast.counts, fast.inputs, fast.notes) == (whole.counts, whole.inputs, whole.notes)
    l002 = fast.learners[fast.learners["learner_ref"] == "L002"].iloc[0]
    assert l002.withdrawal_reported_date == pd.Timestamp("2023-02-28")


def test_a_broken_superseded_month_still_stops_the_mapping(tmp_path: Path) -> None:
    jan = _month(tmp_path, "2023-01-31")
    jan.write_text(jan.read_text(encoding="utf-8")[:-200], encoding="utf-8")  # truncated
    with pytest.raises(FileLevelError, match="not a well-formed ILR XML file"):
        ilr_tables([F2223, jan], rules=Rules())
