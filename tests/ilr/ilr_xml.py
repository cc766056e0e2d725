"""Hand-written ILR files for the tests: a few lines per learner, in the element order of
DfE's 2025-26 schema (valid against ``schemafile25.xsd``: tested in test_ilr_first.py).

Synthetic people only. A learner is a dict (``learner``), its aims dicts (``aim``,
``programme``, ``component``); ``ilr_xml`` puts them in a file of one provider as
prepared on one day. The XML is one element per line, so that a learner's line is
easy to find (``line_of``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kpitools.errors import KpiToolsError
from kpitools.ilr.mapping import IlrTables, tables_from_ilr_files
from kpitools.rules import Rules

AIM_FIELDS = (
    "LearnAimRef",
    "AimType",
    "AimSeqNumber",
    "LearnStartDate",
    "LearnPlanEndDate",
    "FundModel",
    "ProgType",
    "DelLocPostCode",
    "ConRefNumber",
    "CompStatus",
    "LearnActEndDate",
    "WithdrawReason",
    "Outcome",
    "AchDate",
)
Aim = dict[str, object]
Learner = dict[str, object]


def aim(
    ref: str, aim_type: int, seq: int, start: str, plan_end: str, con: str, **fields: object
) -> Aim:
    """A bootcamp aim (FundModel 37, ProgType 32, SOF 105, FFI 1), continuing unless
    ``fields`` say otherwise; ``fams`` lists (type, code, date from) beyond SOF and FFI."""
    found: Aim = {
        "LearnAimRef": ref,
        "AimType": aim_type,
        "AimSeqNumber": seq,
        "LearnStartDate": start,
        "LearnPlanEndDate": plan_end,
        "FundModel": 37,
        "ProgType": 32,
        "DelLocPostCode": "ZZ99 9ZZ",
        "ConRefNumber": con,
        "CompStatus": 1,
        "fams": [],
    }
    found.update(fields)
    return found


def closed(status: int, end: str, **fields: object) -> dict[str, object]:
    """The fields of an aim that ended: completed (2, Outcome 1) or withdrawn (3,
    reason 98, Outcome 3)."""
    if status == 2:
        return {"CompStatus": 2, "LearnActEndDate": end, "Outcome": 1, **fields}
    return {"CompStatus": 3, "LearnActEndDate": end, "WithdrawReason": 98, "Outcome": 3, **fields}


def bootcamp(
    con: str,
    start: str,
    plan_end: str,
    *,
    seq: int = 1,
    ended: dict[str, object] | None = None,
    evi: Sequence[tuple[str, str]] = (),
    restart: bool = False,
) -> list[Aim]:
    """A programme aim (``seq``) and its component (``seq + 1``), ended alike when
    ``ended`` is given (:func:`closed`); ``evi`` are (code, date) event indicators on
    the programme aim; ``restart`` puts the restart indicator RES on it."""
    fams = [("EVI", code, day) for code, day in evi] + ([("RES", "1", None)] if restart else [])
    programme = aim("ZPROG001", 1, seq, start, plan_end, con, fams=fams, **(ended or {}))
    component = aim("60000005", 3, seq + 1, start, plan_end, con, **(ended or {}))
    return [programme, component]


def learner(ref: str, uln: str, aims: list[Aim], *, employed_from: str = "2025-08-01") -> Learner:
    return {"ref": ref, "uln": uln, "aims": aims, "employed_from": employed_from}


def ilr_xml(
    learners: Sequence[Learner],
    *,
    prepared: str,
    ukprn: str = "10012345",
    provider_ukprn: str | None = None,
    year: str = "2526",
) -> str:
    """One ILR file's text."""
    ns = f"ESFA/ILR/20{year[:2]}-{year[2:]}"
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<Message xmlns="{ns}">',
        "<Header>",
        "<CollectionDetails><Collection>ILR</Collection>"
        f"<Year>{year}</Year><FilePreparationDate>{prepared}</FilePreparationDate>"
        "</CollectionDetails>",
        "<Source><ProtectiveMarking>OFFICIAL-SENSITIVE-Personal</ProtectiveMarking>",
        f"<UKPRN>{ukprn}</UKPRN>",
        f"<SerialNo>01</SerialNo><DateTime>{prepared}T18:00:00</DateTime></Source>",
        "</Header>",
        "<LearningProvider>",
        f"<UKPRN>{provider_ukprn or ukprn}</UKPRN>",
        "</LearningProvider>",
    ]
    for one in learners:
        lines += [
            "<Learner>",
            f"<LearnRefNumber>{one['ref']}</LearnRefNumber><ULN>{one['uln']}</ULN>"
            "<DateOfBirth>1990-01-01</DateOfBirth><Ethnicity>98</Ethnicity><Sex>F</Sex>"
            "<LLDDHealthProb>9</LLDDHealthProb><PostcodePrior>ZZ99 9ZZ</PostcodePrior>"
            "<Postcode>ZZ99 9ZZ</Postcode>",
            f"<LearnerEmploymentStatus><EmpStat>11</EmpStat><DateEmpStatApp>"
            f"{one['employed_from']}</DateEmpStatApp></LearnerEmploymentStatus>",
        ]
        for found in one["aims"]:  # type: ignore[attr-defined]
            parts = ["<LearningDelivery>"]
            parts += [f"<{k}>{found[k]}</{k}>" for k in AIM_FIELDS if found.get(k) is not None]
            for kind, code, day in [("SOF", "105", None), ("FFI", "1", None), *found["fams"]]:
                date_from = f"<LearnDelFAMDateFrom>{day}</LearnDelFAMDateFrom>" if day else ""
                parts.append(
                    f"<LearningDeliveryFAM><LearnDelFAMType>{kind}</LearnDelFAMType>"
                    f"<LearnDelFAMCode>{code}</LearnDelFAMCode>{date_from}</LearningDeliveryFAM>"
                )
            parts.append("</LearningDelivery>")
            lines.append("".join(parts))
        lines.append("</Learner>")
    lines.append("</Message>")
    return "\n".join(lines) + "\n"


def file_name(ukprn: str, year: str, prepared: str) -> str:
    return f"ILR-{ukprn}-{year}-{prepared.replace('-', '')}-180000-01.xml"


def write(folder: Path, text: str, *, ukprn: str, prepared: str, year: str = "2526") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name(ukprn, year, prepared)
    path.write_text(text, encoding="utf-8")
    return path


def line_of(path: Path, learn_ref: str, nth: int = 1) -> int:
    """The line of the ``Learner`` element of the ``nth`` learner with this ref."""
    lines = path.read_text(encoding="utf-8").splitlines()
    hits = [
        number - 1  # the <Learner> line is the one before its LearnRefNumber
        for number, text in enumerate(lines, start=1)
        if text.startswith(f"<LearnRefNumber>{learn_ref}</LearnRefNumber>")
    ]
    return hits[nth - 1]


def ilr_tables(paths: Sequence[str | Path], *, rules: Rules | None = None) -> IlrTables:
    """One provider's ILR files mapped as the audit maps them (the one mapping function,
    over a mapping of one); the error that stops reading them raised."""
    found = tables_from_ilr_files({"provider": list(paths)}, rules=rules or Rules())["provider"]
    if isinstance(found, KpiToolsError):
        raise found
    return found
