"""Write ILR XML files from the demo's in-memory tables (synthetic people only).

One file is a provider's ILR as prepared on a given day: every learner of the tables
(with start, withdrawal, completion and events as those tables show them), in the
element order of the ILR specification (``Header``, ``LearningProvider``, ``Learner``;
inside a learner ``LearnRefNumber`` ... ``LearnerEmploymentStatus``,
``LearningDelivery``; inside an aim ``LearnAimRef`` ... ``AchDate``,
``LearningDeliveryFAM``), with the elements the schema requires. Files are valid
against DfE's XSD of their year (tested for 2024-25 and 2025-26) and break none of
DfE's bootcamp validation rules that :mod:`kpitools.ilr.dfe_rules` checks. Only the years
the reader accepts are written: there is no 2026-27 XSD here, so no 2026-27 file.

Tables are ``{table: rows}`` where rows are dicts keyed by contract column names (the
demo's shape) or DataFrames in the validated-frame shape; dates may be ``date`` or
``Timestamp``. Identifiers the ILR types differently are converted:
``employer_id`` → a 9-digit ``EmpId`` (:func:`employer_number`).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeAlias

import pandas as pd
from lxml import etree

from kpitools.calendar import add_months
from kpitools.errors import ParameterError
from kpitools.ilr.events import (
    EVENT_AIMS,
    EVENT_INDICATORS,
    EVENT_INDICATORS_FROM,
    UNKNOWN_POSTCODE,
)
from kpitools.ilr.reader import KNOWN_NAMESPACES
from kpitools.rules import INTERVIEW_OFFER, NEW_ROLE_OFFER, SELF_EMPLOYMENT_PLAN

Row = Mapping[str, Any]  # a datasheet row: column → a value of that column's type
Table: TypeAlias = pd.DataFrame | Iterable[Row]  # as read, or as the demo builds it
COMPONENT_AIM_REF = "ZSBC0001"  # synthetic component learning aim (category 62 in real life)
_AIM_FOR = {kind: ref for ref, kind in EVENT_AIMS.items()}
# Codes 1-3 of the EVI table are kpitools' assumption (kpitools/ilr/evi_codes.csv): the
# demo writes them, and the reader maps them back, so the demo stays self-consistent.
_EVI_FOR = {
    row.event: code
    for code, row in EVENT_INDICATORS.items()
    if row.event in (INTERVIEW_OFFER, NEW_ROLE_OFFER, SELF_EMPLOYMENT_PLAN)
}
_DEFAULT_WEEKS = 16  # planned length when the bootcamp's end date is not given


def collection_year(day: date) -> str:
    """The ILR collection year holding ``day``: 1 August to 31 July, e.g. ``"2223"``."""
    first = day.year if day.month >= 8 else day.year - 1
    return f"{first % 100:02d}{(first + 1) % 100:02d}"


def namespace_for(year: str) -> str:
    """``"2223"`` → ``"ESFA/ILR/2022-23"``, for the years the reader accepts only.

    Raises:
        ParameterError: a year kpitools does not read (e.g. 2026-27, for which kpitools
            has no DfE schema): the writer never emits a namespace the reader refuses.
    """
    namespace = f"ESFA/ILR/20{year[:2]}-{year[2:]}"
    if KNOWN_NAMESPACES.get(namespace) != year:
        known = ", ".join(KNOWN_NAMESPACES)
        raise ParameterError(
            f"cannot write an ILR file for collection year {year}: kpitools reads only"
            f" {known} (no DfE schema for other years)"
        )
    return namespace


def ilr_file_name(ukprn: str, year: str, prepared: datetime, serial: int = 1) -> str:
    """``ILR-<UKPRN>-<YYYY>-<yyyymmdd>-<hhmmss>-<serial>.xml``."""
    return f"ILR-{ukprn}-{year}-{prepared:%Y%m%d}-{prepared:%H%M%S}-{serial:02d}.xml"


def date_of_birth(learner_ref: str, start: date) -> date:
    """A synthetic date of birth, stable per ref: in the calendar year 20 to 54 years
    before the one in which the start's teaching year begins, so the learner is 19 or
    over on 31 August of that teaching year and of every later one, as DfE's
    DateOfBirth_25 requires of every file the learner is in.

    >>> date_of_birth("000103", date(2023, 1, 9)) <= date(2003, 8, 31)
    True
    """
    seed = zlib.crc32(learner_ref.encode("utf-8"))
    teaching_year = start.year if start.month >= 8 else start.year - 1
    return date(teaching_year - 20 - seed % 35, 1 + seed % 12, 1 + seed % 28)


def employer_number(employer_id: str) -> str:
    """A stable 9-digit ``EmpId`` for a contract ``employer_id`` (the ILR's is numeric);
    an id that already is one (the demo's ILR-only provider lists its employers under
    their ILR number) is kept."""
    if len(employer_id) == 9 and employer_id.isascii() and employer_id.isdigit():
        return employer_id
    return str(100_000_000 + zlib.crc32(employer_id.encode("utf-8")) % 900_000_000)


def write_ilr(
    folder: str | Path,
    tables: Mapping[str, Table],
    *,
    ukprn: str,
    prepared: datetime,
    serial: int = 1,
    year: str | None = None,
) -> Path:
    """Write one ILR file into ``folder`` and return its path.

    Args:
        folder: where to write (created if needed).
        tables: ``learners`` (required), ``bootcamps``, ``employers``, ``interviews``,
            ``outcomes`` as the return shows them at ``prepared``.
        ukprn: the provider's 8-digit UKPRN.
        prepared: the ``FilePreparationDate`` and the time in the file name.
        serial: the file's serial number (two digits).
        year: the collection year (``"2223"``); from ``prepared`` when None.
    """
    year = year or collection_year(prepared.date())
    namespace_for(year)  # refuse a year the reader would refuse, before writing anything
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ilr_file_name(ukprn, year, prepared, serial)
    tmp = path.with_suffix(".xml.tmp")
    tmp.write_bytes(ilr_xml(tables, ukprn=ukprn, prepared=prepared, serial=serial, year=year))
    tmp.replace(path)
    return path


def ilr_xml(
    tables: Mapping[str, Table], *, ukprn: str, prepared: datetime, serial: int, year: str
) -> bytes:
    """The ILR document for ``tables`` as UTF-8 bytes."""
    ns = namespace_for(year)
    root = etree.Element(f"{{{ns}}}Message", nsmap={None: ns})
    header = _sub(root, ns, "Header")
    details = _sub(header, ns, "CollectionDetails")
    _leaves(
        details,
        ns,
        [
            ("Collection", "ILR"),
            ("Year", year),
            ("FilePreparationDate", prepared.date().isoformat()),
        ],
    )
    source = _sub(header, ns, "Source")
    _leaves(
        source,
        ns,
        [
            ("ProtectiveMarking", "OFFICIAL-SENSITIVE-Personal"),
            ("UKPRN", ukprn),
            ("SoftwareSupplier", "kpitools demo"),
            ("SoftwarePackage", "kpitools"),
            ("SerialNo", f"{serial:02d}"),
            ("DateTime", prepared.strftime("%Y-%m-%dT%H:%M:%S")),
        ],
    )
    _leaves(_sub(root, ns, "LearningProvider"), ns, [("UKPRN", ukprn)])
    context = _Context(tables)
    for learner in _rows(tables.get("learners")):
        _learner(root, ns, learner, context)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


class _Context:
    """Lookups a learner's elements need from the other tables."""

    def __init__(self, tables: Mapping[str, Table]) -> None:
        self.bootcamp_end = {
            str(b["bootcamp_id"]): _day(b.get("end_date")) for b in _rows(tables.get("bootcamps"))
        }
        self.sme: dict[str, bool] = {}
        for employer in _rows(tables.get("employers")):
            count, band = employer.get("employee_count"), employer.get("size_band")
            sme = band == "SME" if count is None or _blank(count) else int(count) < 250
            self.sme[str(employer["employer_id"])] = sme
        self.children: dict[tuple[str, str], dict[str, list[Row]]] = {}
        for table in ("interviews", "outcomes"):
            for row in _rows(tables.get(table)):
                key = (str(row["learner_ref"]), str(row["bootcamp_id"]))
                self.children.setdefault(key, {}).setdefault(table, []).append(row)


def _learner(root: etree._Element, ns: str, row: Row, context: _Context) -> None:
    start = _day(row["start_date"])
    assert start is not None, f"learner {row['learner_ref']} has no start date"
    learner = _sub(root, ns, "Learner")
    _leaves(
        learner,
        ns,
        [
            ("LearnRefNumber", row["learner_ref"]),
            ("ULN", row.get("uln") or "9999999999"),
            ("FamilyName", row.get("family_name")),
            ("GivenNames", row.get("given_name")),
            ("DateOfBirth", date_of_birth(str(row["learner_ref"]), start).isoformat()),
            ("Ethnicity", "99"),
            ("Sex", "F" if zlib.crc32(str(row["learner_ref"]).encode()) % 2 else "M"),
            ("LLDDHealthProb", "9"),
            ("PostcodePrior", UNKNOWN_POSTCODE),
            ("Postcode", UNKNOWN_POSTCODE),
        ],
    )
    _employment(learner, ns, row, start, context)
    key = (str(row["learner_ref"]), str(row["bootcamp_id"]))
    events = _events(row, context.children.get(key, {}))
    end = context.bootcamp_end.get(key[1]) or start + timedelta(weeks=_DEFAULT_WEEKS)
    _aims(learner, ns, row, start, max(end, start), events, context.children.get(key, {}))


def _employment(learner: etree._Element, ns: str, row: Row, start: date, context: _Context) -> None:
    learner_type = row.get("learner_type")
    status = _sub(learner, ns, "LearnerEmploymentStatus")
    employed = learner_type in ("co-funded", "self-employed")
    _leaves(
        status,
        ns,
        [
            ("EmpStat", "10" if employed else "11"),
            ("DateEmpStatApp", (start - timedelta(days=7)).isoformat()),
        ],
    )
    if learner_type == "co-funded" and not _blank(row.get("employer_id")):
        employer_id = str(row["employer_id"])
        _leaves(status, ns, [("EmpId", employer_number(employer_id))])
        if context.sme.get(employer_id):
            _monitoring(status, ns, "OET", "2")
    if learner_type == "self-employed":
        _monitoring(status, ns, "SEI", "1")


def _monitoring(status: etree._Element, ns: str, esm_type: str, code: str) -> None:
    _leaves(
        _sub(status, ns, "EmploymentStatusMonitoring"),
        ns,
        [("ESMType", esm_type), ("ESMCode", code)],
    )


def _events(row: Row, children: dict[str, list[Row]]) -> list[tuple[str, date]]:
    """Interview offers, new-role evidence and self-employment plans, by date."""
    events = [(INTERVIEW_OFFER, _day(i["offer_date"])) for i in children.get("interviews", [])]
    if not _blank(row.get("new_role_evidence_date")):
        events.append((NEW_ROLE_OFFER, _day(row["new_role_evidence_date"])))
    events += [
        (SELF_EMPLOYMENT_PLAN, _day(o["outcome_date"]))
        for o in children.get("outcomes", [])
        if o.get("outcome_type") == "self_employment_plan"
    ]
    return sorted({(k, d) for k, d in events if d is not None}, key=lambda e: (e[1], e[0]))


def _aims(
    learner: etree._Element,
    ns: str,
    row: Row,
    start: date,
    end: date,
    events: list[tuple[str, date]],
    children: dict[str, list[Row]],
) -> None:
    withdrawal, completion = _day(row.get("withdrawal_date")), _day(row.get("completion_date"))
    achieved = _achievement(completion, children.get("outcomes", []))
    ffi = [("FFI", "2" if row.get("learner_type") == "co-funded" else "1", None)]
    programme = _aim(
        learner, ns, "ZPROG001", 1, 1, start, end, row, withdrawal, completion, achieved
    )
    use_evi = start >= EVENT_INDICATORS_FROM
    fams: list[tuple[str, str, date | None]] = list(ffi)
    if use_evi:
        # DfE's LearnDelFAMDateFrom_07: an indicator dates within the programme, so an
        # offer after the programme's end stays in the datasheet only.
        closed = withdrawal or completion
        fams += [
            ("EVI", _EVI_FOR[kind], max(day, start))
            for kind, day in events
            if closed is None or day <= closed
        ]
    _fams(programme, ns, fams)
    # The component aim ends with the programme (DfE's R_140 and R_143).
    _aim(
        learner,
        ns,
        COMPONENT_AIM_REF,
        3,
        2,
        start,
        end,
        row,
        withdrawal,
        completion,
        None,
        component=True,
        fams=ffi,
    )
    if not use_evi:
        # DfE's R_143: no AimType 3 aim, event aims included, ends after the programme,
        # so an offer after the programme's end stays in the datasheet only (as for EVI)
        closed = withdrawal or completion
        kept = [(kind, day) for kind, day in events if closed is None or day <= closed]
        for seq, (kind, day) in enumerate(kept, start=3):
            _event_aim(learner, ns, _AIM_FOR[kind], seq, max(day, start), row, ffi)


def _achievement(completion: date | None, outcomes: list[Row]) -> date | None:
    """The programme's achievement date: the first positive outcome on or after
    completion and within six months of it (DfE's AchDate_13)."""
    if completion is None:
        return None
    days = [_day(o["outcome_date"]) for o in outcomes]
    later = [d for d in days if d is not None and completion <= d <= add_months(completion, 6)]
    return min(later) if later else None


def _aim(
    learner: etree._Element,
    ns: str,
    ref: str,
    aim_type: int,
    seq: int,
    start: date,
    end: date,
    row: Row,
    withdrawal: date | None,
    completion: date | None,
    achieved: date | None,
    component: bool = False,
    fams: Sequence[tuple[str, str, date | None]] = (),
) -> etree._Element:
    aim = _sub(learner, ns, "LearningDelivery")
    _leaves(
        aim,
        ns,
        [
            ("LearnAimRef", ref),
            ("AimType", aim_type),
            ("AimSeqNumber", seq),
            ("LearnStartDate", start.isoformat()),
            ("LearnPlanEndDate", end.isoformat()),
            ("FundModel", "37"),
            ("ProgType", "32"),
            ("DelLocPostCode", UNKNOWN_POSTCODE),
            ("ConRefNumber", row["bootcamp_id"]),
        ],
    )
    tail: list[tuple[str, str | None]]
    if withdrawal is not None:
        tail = [
            ("CompStatus", "3"),
            ("LearnActEndDate", withdrawal.isoformat()),
            ("WithdrawReason", "98"),
            ("Outcome", "3"),
        ]
    elif completion is not None:
        outcome = "1" if component or achieved else "8"
        tail = [
            ("CompStatus", "2"),
            ("LearnActEndDate", completion.isoformat()),
            ("Outcome", outcome),
            ("AchDate", achieved.isoformat() if achieved else None),
        ]
    else:
        tail = [("CompStatus", "1")]
    _leaves(aim, ns, tail)
    if component:
        _fams(aim, ns, fams)
    return aim


def _event_aim(
    learner: etree._Element,
    ns: str,
    ref: str,
    seq: int,
    day: date,
    row: Row,
    fams: Sequence[tuple[str, str, date | None]],
) -> None:
    aim = _sub(learner, ns, "LearningDelivery")
    iso = day.isoformat()
    _leaves(
        aim,
        ns,
        [
            ("LearnAimRef", ref),
            ("AimType", "3"),
            ("AimSeqNumber", seq),
            ("LearnStartDate", iso),
            ("LearnPlanEndDate", iso),
            ("FundModel", "37"),
            ("ProgType", "32"),
            ("DelLocPostCode", UNKNOWN_POSTCODE),
            ("ConRefNumber", row["bootcamp_id"]),
            ("CompStatus", "2"),
            ("LearnActEndDate", iso),
            ("Outcome", "1"),
        ],
    )
    _fams(aim, ns, fams)


def _fams(aim: etree._Element, ns: str, extra: Sequence[tuple[str, str, date | None]]) -> None:
    for fam_type, code, day in [("SOF", "105", None), *extra]:
        fam = _sub(aim, ns, "LearningDeliveryFAM")
        _leaves(fam, ns, [("LearnDelFAMType", fam_type), ("LearnDelFAMCode", code)])
        if day is not None:
            _leaves(fam, ns, [("LearnDelFAMDateFrom", day.isoformat())])


def _sub(parent: etree._Element, ns: str, name: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{ns}}}{name}")


def _leaves(parent: etree._Element, ns: str, pairs: Sequence[tuple[str, object]]) -> None:
    """Child elements in the given order; blank values are left out (optional fields)."""
    for name, value in pairs:
        if not _blank(value):
            _sub(parent, ns, name).text = str(value)


def _rows(table: Table | None) -> list[Row]:
    if table is None:
        return []
    if isinstance(table, pd.DataFrame):
        records = table.astype(object).where(table.notna(), None).to_dict("records")
        return [{str(k): v for k, v in r.items()} for r in records]
    return list(table)


def _blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _day(value: object) -> date | None:
    if _blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return pd.Timestamp(str(value)).date()
