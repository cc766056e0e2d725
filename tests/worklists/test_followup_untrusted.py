"""A register read back is untrusted input (issue 29, items 2 and 3): what an auditor
typed stays in working files, every carried value is named by this run's rule, and a
register that is another provider's, another key's, malformed, or odd in any of the
ways an auditor's Excel can make it odd is handled without loss and named.

The registers are real ones: written by kpitools for the hand-made audit of
tests/present/builders.py (month 2023-02), edited with openpyxl as an auditor would,
then read back by the next month's (2023-03) follow-up.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from builders import hand_audit, make_context, pii_strings, write_provider
from openpyxl import load_workbook

from kpitools.model import Finding, ProviderAudit
from kpitools.outputs.register import write_provider_register
from kpitools.present.context import PackContext
from kpitools.present.findings import findings_first
from kpitools.present.report import headline

TEST_KEY = "register-untrusted-key-0123456789"
# L1's name and ULN are in builders.LEARNERS; the note an auditor should never have typed
NOTE = "INTERNAL NOTE: phoned Zebedee Quattlebaum (ULN 1234567897) at home, suspect fraud"
GONE = Finding(  # found in February only: resolved in March
    "irregularity", "DATE-ORDER", "medium", "learner:L1", "learners.csv:2", "M1 before start", "B1"
)


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPITOOLS_PSEUDONYM_KEY", TEST_KEY)


def _february(tmp_path: Path, *, include_pii: bool = False, provider: str = "P001") -> Path:
    """February's register of the hand audit (one more finding than March), as written."""
    folder = write_provider(tmp_path / "data" / "2023-02" / provider, provider)
    audit = hand_audit(folder, period="2023-02")
    audit = replace(audit, irregularities=(*audit.irregularities, GONE))
    out = tmp_path / "out" / "2023-02" / provider
    write_provider_register(make_context(audit, out, include_pii=include_pii), out)
    return out / "exceptions.xlsx"


def _march(tmp_path: Path, **options: object) -> PackContext:
    folder = write_provider(tmp_path / "data" / "2023-03" / "P001")
    audit: ProviderAudit = hand_audit(folder)
    return make_context(audit, tmp_path / "out" / "2023-03" / "P001", **options)  # type: ignore[arg-type]


def _edit(register: Path, sheet: str, match: dict[str, str], values: dict[str, object]) -> None:
    """Set ``values`` in each row of ``sheet`` whose cells equal ``match`` (as an auditor)."""
    book = load_workbook(register)
    rows = book[sheet]
    header = [c.value for c in rows[1]]
    for number in range(2, rows.max_row + 1):
        cells = {h: rows.cell(number, i + 1).value for i, h in enumerate(header)}
        if all(cells.get(k) == v for k, v in match.items()):
            for name, value in values.items():
                rows.cell(number, header.index(name) + 1, value)
    book.save(register)


def _cells(register: Path) -> dict[str, list[tuple[str, str]]]:
    """Every cell of every sheet of a register: sheet -> (column, text)."""
    book = load_workbook(register)
    found: dict[str, list[tuple[str, str]]] = {}
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        header = [str(h) for h in rows[0]] if rows else []
        found[sheet.title] = [
            (header[i] if i < len(header) else "", str(v))
            for row in rows[1:]
            for i, v in enumerate(row)
            if v is not None
        ]
    return found


def test_a_resolved_exceptions_response_never_reaches_the_pack(tmp_path: Path) -> None:
    # The auditor resolves February's DATE-ORDER with a note naming the learner; in March
    # it no longer occurs: the pack lists it as resolved, by id and status only.
    register = _february(tmp_path)
    _edit(
        register,
        "Exceptions",
        {"rule": "DATE-ORDER"},
        {"status": "resolved", "response": NOTE, "owner": "Sam Secret"},
    )
    ctx = _march(tmp_path)
    assert ctx.followup is not None
    (resolved,) = ctx.followup.resolved.to_dict("records")
    assert (resolved["rule"], resolved["response"]) == ("DATE-ORDER", NOTE)  # in the register
    pack = str(findings_first(ctx)) + str(headline(ctx))
    assert resolved["exception_id"] in pack.split("Resolved since last month")[1]
    for secret in ("INTERNAL NOTE", "Quattlebaum", "1234567897", "Sam Secret"):
        assert secret not in pack
    # the register, a working file, keeps what the auditor typed
    write_provider_register(ctx, Path(ctx.params.out_dir))
    cells = _cells(Path(ctx.params.out_dir) / "exceptions.xlsx")
    assert ("response", NOTE) in cells["Resolved"]


def test_an_include_pii_registers_entities_are_not_carried_into_a_default_one(
    tmp_path: Path,
) -> None:
    # February was built with --include-pii: its entity cells name learners. March's
    # default register carries February's rows (resolved, and the event that stays open)
    # with their entity named by March's rule: no name, no ULN.
    register = _february(tmp_path, include_pii=True)
    february = _cells(register)
    assert any("Quattlebaum" in text for _, text in february["Exceptions"])  # the repro
    ctx = _march(tmp_path)
    out = Path(ctx.params.out_dir)
    write_provider_register(ctx, out)
    march = _cells(out / "exceptions.xlsx")
    personal = pii_strings()
    leaks = [
        (sheet, column, text)
        for sheet, cells in march.items()
        for column, text in cells
        for value in personal
        if value and value in text
    ]
    assert leaks == []
    resolved = dict(march["Resolved"])
    assert resolved["entity"].startswith("learner:L1 (L-")
    assert str(findings_first(ctx)).count("Quattlebaum") == 0
