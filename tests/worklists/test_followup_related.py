"""A finding's related learner of another provider (``Finding.related``: a
cross-provider DUP-ULN-OVERLAP) in the register (issue 26's leftover): a column among
the facts, named as the register names the finding's own learner, carried from register
to register as found; a register from before the column, or one where an auditor had
added a column of that name, read back without loss and without a spurious edit.

The registers are real ones: written by kpitools for the hand-made audit of
tests/present/builders.py (month 2023-02), changed with openpyxl as an older kpitools or
an auditor would have them, then read back by the next month's (2023-03) follow-up.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from builders import hand_audit, make_context, pii_strings, write_provider
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from kpitools.model import THIS_PERIOD_REGISTER, Finding, related_learner
from kpitools.outputs.register import write_provider_register
from kpitools.present.context import PackContext
from kpitools.present.findings import findings_first
from kpitools.present.report import headline
from kpitools.privacy.pseudonym import Pseudonymiser
from kpitools.worklists.followup import REGISTER_COLUMNS, WRITTEN_SHEET, found_related

KEY = "register-related-key-0123456789ab"
NOTE = "see the P002 visit notes"
MESSAGE = "the learner has the ULN of provider {}'s learner at learners.csv:9"
OVERLAP = Finding(  # L3 (B2) has the ULN of P002's X7: found in February and March
    "irregularity",
    "DUP-ULN-OVERLAP",
    "high",
    "learner:L3",
    "learners.csv:4",
    MESSAGE.format("P002"),
    "B2",
    related=related_learner("P002", "X7"),
)
OVERLAP_TOO = replace(  # and P003's Y1, in February: one exception, related joined
    OVERLAP, message=MESSAGE.format("P003"), related=related_learner("P003", "Y1")
)
GONE = replace(  # L2 (B1) has P002's X8's ULN, in February only: resolved in March
    OVERLAP,
    entity="learner:L2",
    source="learners.csv:3",
    bootcamp_id="B1",
    related=related_learner("P002", "X8"),
)


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPITOOLS_PSEUDONYM_KEY", KEY)


def theirs(provider: str, ref: str) -> str:
    """Another provider's learner as a working output names it: its provider, its ref
    and that provider's pseudonym."""
    return f"{provider}/learner:{ref} ({Pseudonymiser(KEY.encode(), provider).learner(ref)})"


def _context(
    tmp_path: Path, period: str, *found: Finding, include_pii: bool = False
) -> PackContext:
    folder = write_provider(tmp_path / "data" / period / "P001")
    audit = hand_audit(folder, period=period)
    audit = replace(audit, irregularities=(*audit.irregularities, *found))
    return make_context(audit, tmp_path / "out" / period / "P001", include_pii=include_pii)


def _february(tmp_path: Path, *, include_pii: bool = False) -> Path:
    ctx = _context(tmp_path, "2023-02", OVERLAP, OVERLAP_TOO, GONE, include_pii=include_pii)
    out = Path(ctx.params.out_dir)
    write_provider_register(ctx, out)
    return out / "exceptions.xlsx"


def _march(tmp_path: Path) -> PackContext:
    return _context(tmp_path, "2023-03", OVERLAP)


def _rows(register: Path, sheet: str) -> list[dict[str, object]]:
    rows = list(load_workbook(register)[sheet].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def _by_entity(rows: list[dict[str, object]], rule: str = "DUP-ULN-OVERLAP") -> dict[str, dict]:
    return {str(r["entity"]).split(" ")[0]: r for r in rows if r["rule"] == rule}


def _l3_overlap(sheet: Worksheet) -> int:
    """The row of February's overlap on L3 (L3 has other findings too)."""
    header = [c.value for c in sheet[1]]
    (row,) = (
        r
        for r in range(2, sheet.max_row + 1)
        if sheet.cell(r, header.index("rule") + 1).value == "DUP-ULN-OVERLAP"
        and str(sheet.cell(r, header.index("entity") + 1).value).startswith("learner:L3 ")
    )
    return row


def _edit(register: Path, values: dict[str, object]) -> None:
    """An auditor's edit of February's L3 overlap row."""
    book = load_workbook(register)
    sheet = book["Exceptions"]
    header = [c.value for c in sheet[1]]
    row = _l3_overlap(sheet)
    for name, value in values.items():
        sheet.cell(row, header.index(name) + 1, value)
    book.save(register)


def _without_related(register: Path) -> None:
    """The register as the kpitools before the column wrote it: no ``related`` in the
    Exceptions and Resolved sheets (its hidden sheet never held it)."""
    book = load_workbook(register)
    for name in ("Exceptions", "Resolved"):
        sheet = book[name]
        header = [c.value for c in sheet[1]]
        sheet.delete_cols(header.index("related") + 1)
    book.save(register)


@pytest.mark.parametrize("include_pii", [False, True])
def test_the_register_names_the_related_learner_as_it_names_the_findings_own(
    tmp_path: Path, include_pii: bool
) -> None:
    register = _february(tmp_path, include_pii=include_pii)
    rows = _by_entity(_rows(register, "Exceptions"))
    header = [c.value for c in load_workbook(register)["Exceptions"][1]]
    assert header == list(REGISTER_COLUMNS) and header[-2:] == ["message", "related"]
    # the two findings on L3 in B2 are one exception: their related learners joined like
    # their sources (once each), each named by its own provider's pseudonym (the ref and
    # pseudonym, as the register names the finding's own learner; never a name or ULN,
    # not even with include_pii: the other provider's identity is not in this return)
    mine = Pseudonymiser(KEY.encode(), "P001")
    assert rows["learner:L3"]["related"] == f"{theirs('P002', 'X7')}; {theirs('P003', 'Y1')}"
    assert str(rows["learner:L3"]["entity"]).startswith(f"learner:L3 ({mine.learner('L3')})")
    assert rows["learner:L3"]["source"] == "learners.csv:4"
    assert rows["learner:L2"]["related"] == theirs("P002", "X8")
    assert mine.learner("X7") not in str(rows["learner:L3"]["related"])
    # every other finding relates to no one: blank
    others = [r for r in _rows(register, "Exceptions") if r["rule"] != "DUP-ULN-OVERLAP"]
    assert others and all(r["related"] is None for r in others)
    # kpitools's own fact: never on the hidden sheet of what it wrote into working columns
    written = list(load_workbook(register)[WRITTEN_SHEET].iter_rows(values_only=True))
    assert "related" not in {r[2] for r in written}
    if not include_pii:
        texts = [str(v) for r in _rows(register, "Exceptions") for v in r.values() if v]
        assert [t for t in texts for p in pii_strings() if p and p in t] == []


def test_related_is_carried_as_found_and_named_again_never_an_edit(tmp_path: Path) -> None:
    register = _february(tmp_path)
    ctx = _march(tmp_path)
    followup = ctx.followup
    assert followup is not None and followup.previous_found
    (source,) = followup.sources
    assert (source.edits, source.added_columns) == (0, ())
    assert followup.edits is not None and followup.edits.empty
    # recurring: this month's finding (P003's Y1 no longer found); resolved: February's
    # related learner, carried as found and named by this run's rule, as it was
    recurring = _by_entity(followup.exceptions.to_dict("records"))["learner:L3"]
    assert (recurring["change"], recurring["related"]) == ("recurring", theirs("P002", "X7"))
    resolved = _by_entity(followup.resolved.to_dict("records"))["learner:L2"]
    assert resolved["related"] == theirs("P002", "X8")
    assert ctx.audit.followup is not None  # as found in the follow-up the audit holds
    found = _by_entity(ctx.audit.followup.resolved.to_dict("records"))["learner:L2"]
    assert found["related"] == "P002/learner:X8"
    # the pack (circulated) never shows it: its tables name their own columns
    pack = str(findings_first(ctx)) + str(headline(ctx))
    assert "X7" not in pack and "X8" not in pack
    write_provider_register(ctx, Path(ctx.params.out_dir))
    march = _by_entity(_rows(Path(ctx.params.out_dir) / "exceptions.xlsx", "Resolved"))
    assert march["learner:L2"]["related"] == theirs("P002", "X8")
    assert register.exists()  # February's, read back and left as it was


def test_a_register_from_before_the_column_is_read_back_without_loss(tmp_path: Path) -> None:
    # February's register as the kpitools before the column wrote it, worked by an
    # auditor: every value they set is carried, the missing column is neither an added
    # column nor an edit, and March's register has the column again
    register = _february(tmp_path)
    _edit(register, {"status": "queried", "owner": "Sam", "response": "asked P002"})
    _without_related(register)
    assert "related" not in [c.value for c in load_workbook(register)["Exceptions"][1]]
    ctx = _march(tmp_path)
    followup = ctx.followup
    assert followup is not None and followup.previous_found
    (source,) = followup.sources
    assert source.added_columns == () and source.handled == ()
    assert followup.edits is not None
    assert sorted(followup.edits["field"]) == ["owner", "response", "status"]
    assert list(followup.exceptions.columns) == list(REGISTER_COLUMNS)
    recurring = _by_entity(followup.exceptions.to_dict("records"))["learner:L3"]
    assert (recurring["status"], recurring["owner"], recurring["response"]) == (
        "queried",
        "Sam",
        "asked P002",
    )
    assert recurring["related"] == theirs("P002", "X7")  # found again this month
    resolved = _by_entity(followup.resolved.to_dict("records"))["learner:L2"]
    assert resolved["related"] == ""  # February's register did not say
    write_provider_register(ctx, Path(ctx.params.out_dir))
    march = Path(ctx.params.out_dir) / "exceptions.xlsx"
    assert [c.value for c in load_workbook(march)["Exceptions"][1]] == list(REGISTER_COLUMNS)
    # and March's register read back by a rerun: nothing changed, nothing added
    again = _march(tmp_path).followup
    assert again is not None
    this = next(s for s in again.sources if s.role == THIS_PERIOD_REGISTER)
    assert (this.edits, this.added_columns) == (0, ())


def test_an_auditors_own_related_column_is_kept_as_theirs(tmp_path: Path) -> None:
    # An auditor added a column "related" to a register of the kpitools before the
    # column, and that kpitools carried it as an added column (its values on the hidden
    # sheet, as it records every added column's): read back as "related (added)",
    # carried with its values, no edit; kpitools's own related beside it
    register = _february(tmp_path)
    _without_related(register)
    book = load_workbook(register)
    sheet, written = book["Exceptions"], book[WRITTEN_SHEET]
    header = [c.value for c in sheet[1]]
    column = len(header) + 1
    sheet.cell(1, column, "related")
    row = _l3_overlap(sheet)
    eid = sheet.cell(row, header.index("exception_id") + 1).value
    sheet.cell(row, column, NOTE)
    written.append(["Exceptions", eid, "related", NOTE])
    book.save(register)
    followup = _march(tmp_path).followup
    assert followup is not None
    (source,) = followup.sources
    assert source.added_columns == ("related (added)",) and source.edits == 0
    assert any("'related' an auditor added" in line for line in source.handled)
    columns = list(followup.exceptions.columns)
    assert columns.index("related (added)") == columns.index("reviewed_on") + 1
    carried = followup.exceptions.set_index("exception_id").loc[eid]
    assert (carried["related (added)"], carried["related"]) == (NOTE, theirs("P002", "X7"))


def test_found_related_takes_the_pseudonym_off_each_learner() -> None:
    shown = f"{theirs('P002', 'X7')}; {theirs('P003', 'Y1')}"
    assert found_related(shown) == "P002/learner:X7; P003/learner:Y1"
    assert found_related("P002/learner:X7") == "P002/learner:X7"
    assert found_related(None) == "" and found_related("") == ""
    # what is not a learner of another provider (typed by an auditor) stays as it is
    assert found_related("see notes; P002/learner:X7 (L-0123456789)") == (
        "see notes; P002/learner:X7"
    )
    # a ref that holds a space and brackets keeps them: only a pseudonym is taken off
    assert found_related("P002/learner:A (b) (L-0123456789)") == "P002/learner:A (b)"
