"""Streamed, hardened reading of ILR XML files (the learner return providers send to DfE).

Real ILR files reach hundreds of megabytes, so a file is read with lxml ``iterparse``:
each ``Learner`` element is turned into a small frozen record and then cleared, with
its already-processed siblings deleted, so memory stays flat however large the file.

The parser is hardened explicitly: no entity resolution, no network, no DTD loading,
no ``huge_tree``. A real ILR never carries a DOCTYPE, so any DOCTYPE is refused as a
:class:`~kpitools.errors.FileLevelError` before a single learner is read (this is what
stops billion-laughs, external-entity and parameter-entity attacks). The root must be
``Message`` in one of the namespaces of :data:`KNOWN_NAMESPACES`.

A file is all-or-nothing: learners are only handed back once the whole file has parsed,
so a truncated file yields nothing but its error.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from lxml import etree

from kpitools.errors import FileLevelError

logger = logging.getLogger(__name__)

KNOWN_NAMESPACES: dict[str, str] = {
    "ESFA/ILR/2022-23": "2223",
    "ESFA/ILR/2023-24": "2324",
    "ESFA/ILR/2024-25": "2425",
    "ESFA/ILR/2025-26": "2526",
}
"""ILR namespaces kpitools reads, with the short collection year each implies."""

FILE_NAME = re.compile(r"^ILR-(\d{8})-(\d{4})-(\d{8})-(\d{6})-(\d{2})\.xml$", re.IGNORECASE)
"""``ILR-<UKPRN>-<YYYY>-<yyyymmdd>-<hhmmss>-<serial>.xml``."""

_PROLOG_BYTES = 65536  # a DOCTYPE must come before the root element, i.e. near the top
_TOP_TAGS = (
    "{*}Message",
    "{*}Header",
    "{*}LearningProvider",
    "{*}Learner",
    "{*}LearnerDestinationandProgression",
)


@dataclass(frozen=True)
class IlrFam:
    """One ``LearningDeliveryFAM``: funding and monitoring type, code and dates."""

    fam_type: str
    code: str
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class IlrDelivery:
    """One ``LearningDelivery`` (learning aim), with the fields kpitools uses."""

    learn_aim_ref: str
    aim_type: int | None
    aim_seq_number: int | None
    learn_start_date: date | None
    learn_plan_end_date: date | None
    fund_model: int | None
    prog_type: int | None = None
    con_ref_number: str | None = None
    comp_status: int | None = None
    learn_act_end_date: date | None = None
    withdraw_reason: int | None = None
    outcome: int | None = None
    ach_date: date | None = None
    fams: tuple[IlrFam, ...] = ()

    def fam_codes(self, fam_type: str) -> tuple[str, ...]:
        """Codes of every FAM of ``fam_type`` on this aim."""
        return tuple(f.code for f in self.fams if f.fam_type == fam_type)


@dataclass(frozen=True)
class IlrEmployment:
    """One ``LearnerEmploymentStatus`` with its ``EmploymentStatusMonitoring`` pairs."""

    emp_stat: int | None
    date_applies: date | None
    emp_id: str | None
    monitoring: tuple[tuple[str, str], ...] = ()

    def has(self, esm_type: str, code: str) -> bool:
        return (esm_type, code) in self.monitoring


@dataclass(frozen=True)
class IlrLearner:
    """One ``Learner`` element.

    Attributes:
        position: 1-based position among the file's ``Learner`` elements.
        line: the line of its opening tag.
        problems: (field, value, reason, rule id) for each value that could not be
            read (a bad date or number); the mapping rejects such a learner.
    """

    position: int
    line: int
    learn_ref_number: str | None
    uln: str | None
    family_name: str | None
    given_names: str | None
    employments: tuple[IlrEmployment, ...]
    deliveries: tuple[IlrDelivery, ...]
    problems: tuple[tuple[str, str, str, str], ...] = ()


@dataclass(frozen=True)
class IlrHeader:
    """The file's header and provider."""

    namespace: str
    year: str
    file_preparation_date: date
    ukprn: str
    serial_no: str | None = None
    date_time: str | None = None


@dataclass(frozen=True)
class IlrFile:
    """A whole ILR file as read: header, the learners kept, and what was seen."""

    path: Path
    header: IlrHeader
    learners: tuple[IlrLearner, ...]
    learners_read: int
    sha256: str
    size_bytes: int

    @property
    def name(self) -> str:
        return self.path.name


def read_ilr(path: str | Path, *, keep: Callable[[IlrLearner], bool] | None = None) -> IlrFile:
    """Read one ILR file, streaming, keeping the learners for which ``keep`` is true.

    Args:
        path: the ILR XML file.
        keep: a predicate deciding which learners to keep (all when None). Learners not
            kept are still counted in ``learners_read``.

    Returns:
        The header, kept learners and counts; nothing is returned for a broken file.

    Raises:
        FileLevelError: not XML, truncated, a DOCTYPE or entity declaration, a namespace
            that is not a known ILR year, or a header without the year, preparation
            date or UKPRN.
    """
    path = Path(path)
    _refuse_doctype_in_prolog(path)
    digest = hashlib.sha256()
    with path.open("rb") as raw:
        stream = _HashingReader(raw, digest)
        header, learners, read = _parse(path, stream, keep)
        while stream.read(1 << 20):  # hash any bytes the parser did not need
            pass
    return IlrFile(path, header, tuple(learners), read, digest.hexdigest(), path.stat().st_size)


class _HashingReader:
    """File wrapper that hashes what the parser reads, so a file is read only once."""

    def __init__(self, raw: BinaryIO, digest: Any) -> None:
        self._raw = raw
        self._digest = digest

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read(size)
        self._digest.update(chunk)
        return chunk


def _refuse_doctype_in_prolog(path: Path) -> None:
    try:
        with path.open("rb") as raw:
            head = raw.read(_PROLOG_BYTES)
    except OSError as error:
        raise FileLevelError(f"cannot read ILR file: {error.strerror}", path=path) from error
    if re.search(rb"<!DOCTYPE|<!ENTITY", head, re.IGNORECASE):
        raise FileLevelError(
            "ILR file carries a DOCTYPE or entity declaration, which a real ILR never has;"
            " refused unread (export the file again from the MIS)",
            path=path,
        )


def _parser_events(stream: object) -> etree.iterparse:
    # Hardened explicitly, whatever lxml's defaults are in the installed version.
    return etree.iterparse(
        stream,
        events=("start", "end"),
        tag=_TOP_TAGS,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _parse(
    path: Path, stream: object, keep: Callable[[IlrLearner], bool] | None
) -> tuple[IlrHeader, list[IlrLearner], int]:
    namespace: str | None = None
    header: IlrHeader | None = None
    kept: list[IlrLearner] = []
    read = 0
    try:
        for event, elem in _parser_events(stream):
            if namespace is None:
                namespace = _check_root(path, elem)
                continue
            if event == "start":
                continue
            local = elem.tag[len(namespace) + 2 :] if elem.tag.startswith("{") else elem.tag
            if local == "Header":
                header = _read_header(path, elem, namespace)
            elif local == "Learner" and elem.tag == f"{{{namespace}}}Learner":
                read += 1
                learner = learner_from_element(elem, namespace, read)
                if keep is None or keep(learner):
                    kept.append(learner)
            _release(elem)
    except etree.XMLSyntaxError as error:
        line = error.lineno if error.lineno else None
        raise FileLevelError(
            f"not a well-formed ILR XML file ({error.msg})", path=path, row=line
        ) from error
    if namespace is None:
        raise FileLevelError("no ILR Message root element found (is this an ILR file?)", path=path)
    if header is None:
        raise FileLevelError("ILR file has no Header element", path=path)
    logger.info("%s: %d learners read, %d kept", path.name, read, len(kept))
    return header, kept, read


def _check_root(path: Path, root: etree._Element) -> str:
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None or docinfo.doctype:
        raise FileLevelError(
            "ILR file carries a DOCTYPE, which a real ILR never has; refused", path=path
        )
    qname = etree.QName(root)
    if qname.localname != "Message":
        raise FileLevelError(
            f"root element is {qname.localname!r}, expected ILR 'Message'", path=path
        )
    if qname.namespace not in KNOWN_NAMESPACES:
        known = ", ".join(KNOWN_NAMESPACES)
        raise FileLevelError(
            f"namespace {qname.namespace!r} is not an ILR year kpitools reads ({known})", path=path
        )
    return qname.namespace


def _release(elem: etree._Element) -> None:
    """Free a processed element and every earlier sibling: memory stays flat."""
    elem.clear(keep_tail=False)
    parent = elem.getparent()
    if parent is not None:
        while elem.getprevious() is not None:
            del parent[0]


def _read_header(path: Path, elem: etree._Element, ns: str) -> IlrHeader:
    year = _text(elem.find(f"{{{ns}}}CollectionDetails/{{{ns}}}Year"))
    prepared = _text(elem.find(f"{{{ns}}}CollectionDetails/{{{ns}}}FilePreparationDate"))
    ukprn = _text(elem.find(f"{{{ns}}}Source/{{{ns}}}UKPRN"))
    missing = [
        n for n, v in (("Year", year), ("FilePreparationDate", prepared), ("UKPRN", ukprn)) if not v
    ]
    if missing:
        raise FileLevelError(
            f"ILR Header lacks {', '.join(missing)}", path=path, row=elem.sourceline
        )
    if year != KNOWN_NAMESPACES[ns]:
        raise FileLevelError(
            f"Header Year {year!r} does not match namespace {ns!r} (expected"
            f" {KNOWN_NAMESPACES[ns]!r})",
            path=path,
            row=elem.sourceline,
            value=year,
        )
    if not re.fullmatch(r"\d{8}", ukprn or ""):
        raise FileLevelError(
            f"Header UKPRN {ukprn!r} is not 8 digits", path=path, row=elem.sourceline, value=ukprn
        )
    try:
        prepared_date = date.fromisoformat(prepared or "")
    except ValueError as error:
        raise FileLevelError(
            f"FilePreparationDate {prepared!r} is not a date (YYYY-MM-DD)",
            path=path,
            row=elem.sourceline,
            value=prepared,
        ) from error
    source = elem.find(f"{{{ns}}}Source")
    return IlrHeader(
        ns,
        year or "",
        prepared_date,
        ukprn or "",
        _text(source.find(f"{{{ns}}}SerialNo")),
        _text(source.find(f"{{{ns}}}DateTime")),
    )


def _text(elem: etree._Element | None) -> str | None:
    if elem is None or elem.text is None:
        return None
    value = elem.text.strip()
    return value or None


def learner_from_element(elem: etree._Element, ns: str, position: int) -> IlrLearner:
    """Build an :class:`IlrLearner` from a parsed ``Learner`` element."""
    values = _Values(position)
    prefix = len(ns) + 2
    fields: dict[str, str | None] = {}
    employments: list[IlrEmployment] = []
    deliveries: list[IlrDelivery] = []
    for child in elem:
        name = child.tag[prefix:] if isinstance(child.tag, str) else ""
        if name == "LearnerEmploymentStatus":
            employments.append(_employment(child, prefix, values))
        elif name == "LearningDelivery":
            deliveries.append(_delivery(child, prefix, values))
        elif name in ("LearnRefNumber", "ULN", "FamilyName", "GivenNames"):
            fields[name] = _text(child)
    return IlrLearner(
        position=position,
        line=elem.sourceline or 0,
        learn_ref_number=fields.get("LearnRefNumber"),
        uln=fields.get("ULN"),
        family_name=fields.get("FamilyName"),
        given_names=fields.get("GivenNames"),
        employments=tuple(employments),
        deliveries=tuple(deliveries),
        problems=tuple(values.problems),
    )


class _Values:
    """Typed reads of element text that record, rather than raise, a bad value."""

    def __init__(self, position: int) -> None:
        self.position = position
        self.problems: list[tuple[str, str, str, str]] = []

    def date(self, field: str, text: str | None) -> date | None:
        if text is None:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.problems.append((field, text, "not a date (YYYY-MM-DD)", "BAD-DATE"))
            return None

    def int(self, field: str, text: str | None) -> int | None:
        if text is None:
            return None
        if not re.fullmatch(r"-?\d{1,9}", text):
            self.problems.append((field, text, "not a whole number", "BAD-INT"))
            return None
        return int(text)


def _children(elem: etree._Element, prefix: int) -> Iterable[tuple[str, etree._Element]]:
    for child in elem:
        if isinstance(child.tag, str):
            yield child.tag[prefix:], child


def _employment(elem: etree._Element, prefix: int, values: _Values) -> IlrEmployment:
    fields: dict[str, str | None] = {}
    monitoring: list[tuple[str, str]] = []
    for name, child in _children(elem, prefix):
        if name == "EmploymentStatusMonitoring":
            pair = {n: _text(c) for n, c in _children(child, prefix)}
            monitoring.append((pair.get("ESMType") or "", pair.get("ESMCode") or ""))
        else:
            fields[name] = _text(child)
    return IlrEmployment(
        emp_stat=values.int("EmpStat", fields.get("EmpStat")),
        date_applies=values.date("DateEmpStatApp", fields.get("DateEmpStatApp")),
        emp_id=fields.get("EmpId"),
        monitoring=tuple(monitoring),
    )


def _delivery(elem: etree._Element, prefix: int, values: _Values) -> IlrDelivery:
    fields: dict[str, str | None] = {}
    fams: list[IlrFam] = []
    for name, child in _children(elem, prefix):
        if name == "LearningDeliveryFAM":
            fam = {n: _text(c) for n, c in _children(child, prefix)}
            fams.append(
                IlrFam(
                    fam.get("LearnDelFAMType") or "",
                    fam.get("LearnDelFAMCode") or "",
                    values.date("LearnDelFAMDateFrom", fam.get("LearnDelFAMDateFrom")),
                    values.date("LearnDelFAMDateTo", fam.get("LearnDelFAMDateTo")),
                )
            )
        else:
            fields[name] = _text(child)
    d, i = values.date, values.int
    return IlrDelivery(
        learn_aim_ref=fields.get("LearnAimRef") or "",
        aim_type=i("AimType", fields.get("AimType")),
        aim_seq_number=i("AimSeqNumber", fields.get("AimSeqNumber")),
        learn_start_date=d("LearnStartDate", fields.get("LearnStartDate")),
        learn_plan_end_date=d("LearnPlanEndDate", fields.get("LearnPlanEndDate")),
        fund_model=i("FundModel", fields.get("FundModel")),
        prog_type=i("ProgType", fields.get("ProgType")),
        con_ref_number=fields.get("ConRefNumber"),
        comp_status=i("CompStatus", fields.get("CompStatus")),
        learn_act_end_date=d("LearnActEndDate", fields.get("LearnActEndDate")),
        withdraw_reason=i("WithdrawReason", fields.get("WithdrawReason")),
        outcome=i("Outcome", fields.get("Outcome")),
        ach_date=d("AchDate", fields.get("AchDate")),
        fams=tuple(fams),
    )
