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

import functools
import hashlib
import logging
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO, Literal, TypedDict, cast

from lxml import etree

from kpitools.errors import FileLevelError
from kpitools.ilr.records import (
    IlrLearner,
    learner_from_element,
    text_of,
)

logger = logging.getLogger(__name__)

__all__ = [
    "DOCTYPE_REFUSAL",
    "FILE_NAME",
    "KNOWN_NAMESPACES",
    "IlrFile",
    "IlrHeader",
    "read_ilr",
    "read_ilr_header",
]

KNOWN_NAMESPACES: dict[str, str] = {
    "ESFA/ILR/2022-23": "2223",
    "ESFA/ILR/2023-24": "2324",
    "ESFA/ILR/2024-25": "2425",
    "ESFA/ILR/2025-26": "2526",
}
"""ILR namespaces kpitools reads, with the short collection year each implies."""

FILE_NAME = re.compile(r"^ILR-(\d{8})-(\d{4})-(\d{8})-(\d{6})-(\d{2})\.xml$", re.IGNORECASE)
"""``ILR-<UKPRN>-<YYYY>-<yyyymmdd>-<hhmmss>-<serial>.xml``."""

_TOP_TAGS = (
    "{*}Message",
    "{*}Header",
    "{*}LearningProvider",
    "{*}Learner",
    "{*}LearnerDestinationandProgression",
)


@dataclass(frozen=True)
class IlrHeader:
    """The file's header and provider."""

    namespace: str
    year: str
    file_preparation_date: date
    ukprn: str
    serial_no: str | None = None
    date_time: str | None = None
    ukprn_line: int = 0  # the line of Header/Source/UKPRN


@dataclass(frozen=True)
class IlrFile:
    """A whole ILR file as read: header, the learners kept, and what was seen.

    Attributes:
        provider_ukprn: ``LearningProvider/UKPRN`` (None when absent), with its line in
            ``provider_line``: DfE's files repeat the header's UKPRN there, and a file of
            another provider is told by any of the two or the file name disagreeing.
        present: the ``LearnRefNumber`` of every learner the pre-filter let through
            (kept or only counted because it is not withdrawn, for a file read for its
            withdrawals alone): whether a learner is in the file at all.
    """

    path: Path
    header: IlrHeader
    learners: tuple[IlrLearner, ...]
    learners_read: int
    sha256: str
    size_bytes: int
    provider_ukprn: str | None = None
    provider_line: int = 0
    present: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        return self.path.name


def read_ilr(
    path: str | Path,
    *,
    keep: Callable[[IlrLearner], bool] | None = None,
    fund_models: Collection[str] | None = None,
    prog_types: Collection[str] = (),
    fam_types: Collection[str] = (),
    withdrawn_only: bool = False,
) -> IlrFile:
    """Read one ILR file, streaming, keeping the learners for which ``keep`` is true.

    Args:
        path: the ILR XML file.
        keep: a predicate deciding which learners to keep (all when None). Learners not
            kept are still counted in ``learners_read``.
        fund_models: when given, a learner none of whose aims has one of these
            ``FundModel`` codes (nor one of ``prog_types`` as ``ProgType``, nor a FAM of
            one of ``fam_types``) is counted but not even built (a fast pre-filter:
            most learners of a large college are not on a bootcamp).
        prog_types, fam_types: further codes that make the pre-filter keep a learner.
        withdrawn_only: when true, only learners with an aim whose ``CompStatus`` could
            read as 3 (withdrawn) are built; the others are counted only. For a file
            read for its withdrawals alone (a month superseded by a later return).

    Returns:
        The header, kept learners and counts; nothing is returned for a broken file.

    Raises:
        FileLevelError: not XML, truncated, a DOCTYPE or entity declaration, a namespace
            that is not a known ILR year, or a header without the year, preparation
            date or UKPRN.
    """
    path = Path(path)
    refuse_doctype_in_prolog(path)
    digest = hashlib.sha256()
    with path.open("rb") as raw:
        stream = _HashingReader(raw, digest)
        wanted = (
            None
            if fund_models is None
            else _prefilter(
                (
                    tuple(sorted(fund_models)),
                    tuple(sorted(prog_types)),
                    tuple(sorted(fam_types)),
                )
            )
        )
        withdrawn = _withdrawn_test() if withdrawn_only else None
        parsed = _parse(path, stream, keep, wanted, withdrawn)
        while stream.read(1 << 20):  # hash any bytes the parser did not need
            pass
    return IlrFile(
        path,
        parsed.header,
        tuple(parsed.kept),
        parsed.read,
        digest.hexdigest(),
        path.stat().st_size,
        provider_ukprn=parsed.provider_ukprn,
        provider_line=parsed.provider_line,
        present=frozenset(parsed.present),
    )


class _HashingReader:
    """File wrapper that hashes what the parser reads, so a file is read only once."""

    def __init__(self, raw: BinaryIO, digest: Any) -> None:
        self._raw = raw
        self._digest = digest

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read(size)
        self._digest.update(chunk)
        return chunk


DOCTYPE_REFUSAL = (
    "ILR file carries a DOCTYPE or entity declaration, which a real ILR never has;"
    " refused unread (export the file again from the MIS)"
)
"""The one message for a file with a DOCTYPE or entities, whoever notices it first: the
prolog scan, the parser's own DOCTYPE check, or libxml2's entity limits (whose wording
changes between lxml versions)."""

_SCAN_CHUNK = 65536
# libxml2's words when an entity is declared or expanded (amplification, loops, undeclared
# entities): each means the file declares entities, which a real ILR never does.
_ENTITY_ERROR = re.compile(r"entit|amplification|doctype|dtd", re.IGNORECASE)


def refuse_doctype_in_prolog(path: Path) -> None:
    """Refuse a file whose prolog (everything before the root element's start tag: the
    XML declaration, comments, processing instructions) holds a DOCTYPE or ENTITY.

    The whole prolog is scanned, however long, in chunks; the scan stops at the root
    element, so a real file costs a few hundred bytes of reading."""
    try:
        with path.open("rb") as raw:
            declares = _prolog_declares_doctype(raw)
    except OSError as error:
        raise FileLevelError(f"cannot read ILR file: {error.strerror}", path=path) from error
    if declares:
        raise FileLevelError(DOCTYPE_REFUSAL, path=path)


def _prolog_declares_doctype(raw: BinaryIO) -> bool:
    buffer = b""
    position = 0
    closing: bytes | None = None  # inside a comment (b"-->") or a processing instruction
    eof = False
    while True:
        if closing is not None:
            found = buffer.find(closing, position)
            if found >= 0:
                position, closing = found + len(closing), None
                continue
        else:
            found = buffer.find(b"<", position)
            if found >= 0 and (eof or len(buffer) - found >= 9):
                markup = buffer[found : found + 9]
                if markup.startswith(b"<!--"):
                    position, closing = found + 4, b"-->"
                elif markup.startswith(b"<?"):
                    position, closing = found + 2, b"?>"
                else:  # the root element, a DOCTYPE or an ENTITY: the prolog ends here
                    return markup.upper().startswith((b"<!DOCTYPE", b"<!ENTITY"))
                continue
        if eof:
            return False  # no root element: the parser says what is wrong
        keep = max(position, len(buffer) - 9)  # a marker may straddle two chunks
        buffer, position = buffer[keep:], max(0, position - keep)
        chunk = raw.read(_SCAN_CHUNK)
        eof = not chunk
        buffer += chunk


# Hardened explicitly, whatever lxml's defaults are in the installed version.
class _ParserOptions(TypedDict):
    """The keyword arguments of both parsers (typed, so they are checked against lxml's)."""

    events: tuple[Literal["start", "end"], ...]
    tag: tuple[str, ...]
    resolve_entities: bool
    no_network: bool
    load_dtd: bool
    huge_tree: bool
    remove_comments: bool
    remove_pis: bool
    remove_blank_text: bool


_PARSER_OPTIONS: _ParserOptions = {
    "events": ("start", "end"),
    "tag": _TOP_TAGS,
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
    # Indentation between elements is not kept (about 15 % of the parse): every
    # value is read stripped, and a value that is only blanks reads as absent either way.
    "remove_blank_text": True,
}
_HEADER_CHUNK = 4096  # the header is in a file's first kilobyte or so


def parser_events(stream: _HashingReader) -> Iterator[tuple[str, etree._Element]]:
    """lxml's events over the file, with the hardened parser options (no DTD, no
    entities, no network): the second guard after :func:`refuse_doctype_in_prolog`."""
    return etree.iterparse(stream, **_PARSER_OPTIONS)


@dataclass
class _Parsed:
    """What one pass over a file found (see :class:`IlrFile`)."""

    header: IlrHeader
    kept: list[IlrLearner]
    read: int
    present: set[str]
    provider_ukprn: str | None
    provider_line: int


def _parse(
    path: Path,
    stream: _HashingReader,
    keep: Callable[[IlrLearner], bool] | None,
    wanted: Callable[[str], etree.XPath] | None,
    withdrawn: Callable[[str], etree.XPath] | None,
) -> _Parsed:
    """One pass over the file. ``wanted`` (namespace → compiled test) decides which
    learners are worth anything (the others are only counted); ``withdrawn``, for a
    file read for its withdrawals alone, which of those are built (the others are only
    noted as present)."""
    namespace: str | None = None
    header: IlrHeader | None = None
    kept: list[IlrLearner] = []
    present: set[str] = set()
    provider_ukprn: str | None = None
    provider_line = 0
    read = 0
    try:
        for event, elem in parser_events(stream):
            if namespace is None:
                namespace = _check_root(path, elem)
                continue
            if event == "start":
                continue
            # a parsed element's tag is text (types-lxml also allows what a program sets)
            tag = cast(str, elem.tag)
            local = tag[len(namespace) + 2 :] if tag.startswith("{") else tag
            if local == "Header":
                header = _read_header(path, elem, namespace)
            elif local == "LearningProvider" and tag == f"{{{namespace}}}LearningProvider":
                found = elem.find(f"{{{namespace}}}UKPRN")
                provider_ukprn = text_of(found)
                provider_line = (found if found is not None else elem).sourceline or 0
            elif local == "Learner" and tag == f"{{{namespace}}}Learner":
                read += 1
                if wanted is None or wanted(namespace)(elem):
                    if withdrawn is not None:
                        ref = text_of(elem.find(f"{{{namespace}}}LearnRefNumber"))
                        if ref is not None:
                            present.add(ref)
                    if withdrawn is None or withdrawn(namespace)(elem):
                        learner = learner_from_element(elem, namespace, read)
                        if keep is None or keep(learner):
                            kept.append(learner)
                            if withdrawn is None and learner.learn_ref_number is not None:
                                present.add(learner.learn_ref_number)
            _release(elem)
    except etree.XMLSyntaxError as error:
        line = error.lineno if error.lineno else None
        if _ENTITY_ERROR.search(error.msg or ""):
            raise FileLevelError(DOCTYPE_REFUSAL, path=path, row=line) from error
        raise FileLevelError(
            f"not a well-formed ILR XML file ({error.msg})", path=path, row=line
        ) from error
    if namespace is None:
        raise FileLevelError("no ILR Message root element found (is this an ILR file?)", path=path)
    if header is None:
        raise FileLevelError("ILR file has no Header element", path=path)
    logger.info("%s: %d learners read, %d kept", path.name, read, len(kept))
    return _Parsed(header, kept, read, present, provider_ukprn, provider_line)


def _check_root(path: Path, root: etree._Element) -> str:
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None or docinfo.doctype:
        raise FileLevelError(DOCTYPE_REFUSAL, path=path)
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


@functools.lru_cache(maxsize=16)
def _prefilter(
    codes: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]],
) -> Callable[[str], etree.XPath]:
    """namespace → the compiled test of a learner worth building: "has an aim with one of
    these codes" (FundModel, ProgType and FAM type codes)."""
    fund_models, prog_types, fam_types = codes
    wanted = (
        " or ".join(
            [f"normalize-space(i:FundModel)='{code}'" for code in fund_models]
            + [f"normalize-space(i:ProgType)='{code}'" for code in prog_types]
            + [
                f"i:LearningDeliveryFAM[normalize-space(i:LearnDelFAMType)='{kind}']"
                for kind in fam_types
            ]
        )
        or "false()"
    )
    return _compiled(f"boolean(i:LearningDelivery[{wanted}])")


@functools.lru_cache(maxsize=1)
def _withdrawn_test() -> Callable[[str], etree.XPath]:
    """namespace → the compiled test "has an aim whose CompStatus could read as 3": a
    superset of it, as the typed read strips the text and wants ASCII digits, so any
    text it reads as 3 contains a "3"."""
    return _compiled("boolean(i:LearningDelivery[contains(i:CompStatus, '3')])")


def _compiled(expression: str) -> Callable[[str], etree.XPath]:
    @functools.lru_cache(maxsize=8)
    def compiled(ns: str) -> etree.XPath:
        # Compiled once: evaluated in C for every learner, which keeps large files fast.
        return etree.XPath(expression, namespaces={"i": ns})

    return compiled


def read_ilr_header(path: str | Path) -> IlrHeader | None:
    """Only the header of an ILR file (read from its top), or None when it cannot be
    read for any reason; :func:`read_ilr` then reports what is wrong with the file."""
    path = Path(path)
    try:
        refuse_doctype_in_prolog(path)
        # fed in small pieces (the same parser as read_ilr's), so that only the top of
        # the file is parsed
        parser = etree.XMLPullParser(**_PARSER_OPTIONS)
        namespace: str | None = None
        with path.open("rb") as raw:
            while chunk := raw.read(_HEADER_CHUNK):
                parser.feed(chunk)
                for event, elem in parser.read_events():
                    if namespace is None:
                        namespace = _check_root(path, elem)
                    elif event == "end" and elem.tag == f"{{{namespace}}}Header":
                        return _read_header(path, elem, namespace)
                    elif elem.tag == f"{{{namespace}}}Learner":
                        return None  # no header before the learners: leave it to read_ilr
    except (OSError, etree.XMLSyntaxError, FileLevelError):
        return None
    return None


def _release(elem: etree._Element) -> None:
    """Free a processed element and every earlier sibling: memory stays flat."""
    elem.clear(keep_tail=False)
    parent = elem.getparent()
    if parent is not None:
        while elem.getprevious() is not None:
            del parent[0]


def _read_header(path: Path, elem: etree._Element, ns: str) -> IlrHeader:
    year = text_of(elem.find(f"{{{ns}}}CollectionDetails/{{{ns}}}Year"))
    prepared = text_of(elem.find(f"{{{ns}}}CollectionDetails/{{{ns}}}FilePreparationDate"))
    ukprn = text_of(elem.find(f"{{{ns}}}Source/{{{ns}}}UKPRN"))
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
    ukprn_elem = elem.find(f"{{{ns}}}Source/{{{ns}}}UKPRN")
    return IlrHeader(
        ns,
        year or "",
        prepared_date,
        ukprn or "",
        text_of(elem.find(f"{{{ns}}}Source/{{{ns}}}SerialNo")),
        text_of(elem.find(f"{{{ns}}}Source/{{{ns}}}DateTime")),
        ukprn_line=(ukprn_elem.sourceline or 0) if ukprn_elem is not None else 0,
    )
