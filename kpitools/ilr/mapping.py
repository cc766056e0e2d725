"""Skills Bootcamp aims of ILR files → the contract tables ``learners``, ``interviews``
and ``outcomes`` (validated-frame format of :mod:`kpitools.model`).

Which aims are bootcamps, and how each contract column is found, follows the ILR
specification and provider support manual (docs/ilr.md keeps the facts):

- a bootcamp aim has ``FundModel`` 37, ``ProgType`` 32 and a FAM ``SOF`` 105; the
  programme aim (``ZPROG001``, ``AimType`` 1) gives the bootcamp (``ConRefNumber``), the
  start and the withdrawal (``CompStatus`` 3, ``LearnActEndDate``);
- events (interview offer, new-role offer, self-employment plan) come from event aims
  and from ``EVI`` event indicators, whichever the file uses (DfE's rules say which it
  should use by start date; a breach is a finding, see :mod:`kpitools.ilr.dfe_rules`);
- after a break and restart the latest programme aim on the contract is the bootcamp;
  completion is its ``LearnActEndDate`` when it is completed (``CompStatus`` 2);
- M1 is not in the ILR: start + ``Rules.m1_qualifying_days`` when the learner had not
  withdrawn before it and the files were prepared on or after it **(rule)**.

Learners without a bootcamp aim are ignored and counted; every learner with an aim of
``FundModel`` 37 or ``ProgType`` 32 or an event indicator is checked against DfE's
bootcamp validation rules (``IlrTables.findings``). With several files, the
latest file of each collection year is the current state, and a withdrawal's
``withdrawal_reported_date`` is the ``FilePreparationDate`` of the first file showing it.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

from kpitools.errors import FileLevelError, KpiToolsError
from kpitools.ilr.dfe_rules import IlrRuleFinding, aim_source, check_learners
from kpitools.ilr.events import (
    BOOTCAMP_FUND_MODEL,
    BOOTCAMP_PROG_TYPE,
    EVENT_INDICATOR_FAM,
    bootcamp_programmes,
    contract_state,
    event_indicator_table,
    is_bootcamp_aim,
    is_bootcamp_learner,
    is_bootcamp_related,
    learner_rows,
)
from kpitools.ilr.reader import FILE_NAME, IlrFile, read_ilr, read_ilr_header
from kpitools.ilr.records import IlrDelivery, IlrLearner
from kpitools.model import (
    ILR_SUPERSEDED,
    ILR_USED,
    PERSONAL,
    InputFile,
    TableCount,
    empty_rejected,
)
from kpitools.returns.contract import PII_COLUMNS, UNKNOWN_FROM_ILR
from kpitools.returns.personal import KnownValues, mark_personal
from kpitools.returns.tables import RawTable, problems_frame
from kpitools.rules import Rules, rule

logger = logging.getLogger(__name__)

_K = TypeVar("_K", bound=Hashable)  # what a run keys its providers by

__all__ = [
    "IlrReads",
    "IlrTables",
    "cell_text",
    "ilr_raw_tables",
    "read_ilr_files",
    "superseded_positions",
    "tables_from_ilr",
    "tables_from_ilr_files",
]


_FRAME_KINDS: dict[str, dict[str, str]] = {
    "learners": {
        "learner_ref": "id",
        "uln": "id",
        "bootcamp_id": "id",
        "learner_type": "id",
        "employer_id": "id",
        "wants_interview": "flag",
        "start_date": "date",
        "m1_date": "date",
        "withdrawal_date": "date",
        "withdrawal_reported_date": "date",
        "completion_date": "date",
        "new_role_evidence_date": "date",
        "given_name": "id",
        "family_name": "id",
        "date_of_birth": "date",
        "postcode": "id",
        "ni_number": "id",
        "source": "id",
    },
    "interviews": {
        "learner_ref": "id",
        "bootcamp_id": "id",
        "employer_id": "id",
        "offer_date": "date",
        "interview_date": "date",
        "role_title": "id",
        "role_type": "id",
        "matches_skills": "flag",
        "source": "id",
    },
    "outcomes": {
        "learner_ref": "id",
        "bootcamp_id": "id",
        "outcome_type": "id",
        "outcome_date": "date",
        "employer_id": "id",
        "role_type": "id",
        "matches_skills": "flag",
        "source": "id",
    },
    "learner_facts": {
        "learner_ref": "id",
        "bootcamp_id": "id",
        "cofunded": "flag",
        "sme": "flag",
        "self_employed": "flag",
        "comp_status": "int",
        "withdraw_reason": "int",
        "source": "id",
        "aim_seq": "int",
    },
}


@dataclass(frozen=True)
class IlrTables:
    """What a provider's ILR files say, as contract tables plus the counts behind them.

    Attributes:
        learners, interviews, outcomes: validated-frame tables (with ``source`` like
            ``ILR-10012345-2223-20230331-120000-01.xml:57``, the line of the learner's
            ``Learner`` element). Interview and outcome role type and skills match are not
            in the ILR: ``role_type`` is ``unknown``
            (:data:`~kpitools.returns.contract.UNKNOWN_FROM_ILR`), ``matches_skills`` <NA>.
        learner_facts: per learner and bootcamp, what the reconciliation needs beyond the
            contract: ``cofunded`` (FFI 2), ``sme`` (OET 2, co-funded only),
            ``self_employed`` (SEI 1), ``comp_status``, ``withdraw_reason``.
        rejected: learners whose bootcamp could not be read (bad value, no programme aim).
        counts: rows read / accepted / rejected for ``learners``.
        inputs: every ILR file read, with SHA-256.
        ukprn: the provider's UKPRN from the headers.
        as_known: the latest ``FilePreparationDate``: what the ILR can know up to.
        learners_read: ``Learner`` elements in the files that give the current state.
        bootcamp_learners / non_bootcamp_learners: of those, with / without a bootcamp aim.
        notes: plain-language remarks (e.g. an employment status dated after the start).
        lines: ``source`` → (line of the ``Learner`` element, its LearnRefNumber) for
            every bootcamp learner, mapped or rejected.
        findings: every breach of DfE's bootcamp validation rules and of kpitools' own
            ILR rules (ILR-UKPRN-MISMATCH between a file's header, LearningProvider and
            name, ILR-REENROLLED, DUP-ROW) in the files that give the current state
            (UKPRNs: in every file), file order.
        superseded: the files read only for when withdrawals were first reported (each
            an earlier month of a collection year whose latest file is also given).
        file_ukprns: the UKPRNs each file names (:class:`FileUkprn`), for comparing
            them with the provider's (:func:`ukprn_findings`).
    """

    learners: pd.DataFrame
    interviews: pd.DataFrame
    outcomes: pd.DataFrame
    learner_facts: pd.DataFrame
    rejected: pd.DataFrame
    counts: dict[str, TableCount]
    inputs: tuple[InputFile, ...]
    ukprn: str | None
    as_known: date | None
    learners_read: int
    bootcamp_learners: int
    non_bootcamp_learners: int
    notes: tuple[str, ...] = field(default_factory=tuple)
    lines: dict[str, tuple[int, str]] = field(default_factory=dict)
    findings: tuple[IlrRuleFinding, ...] = field(default_factory=tuple)
    superseded: tuple[str, ...] = ()
    file_ukprns: tuple[FileUkprn, ...] = ()

    @property
    def files_used(self) -> tuple[str, ...]:
        """The files that give the current state (each collection year's latest)."""
        return tuple(
            name for name in (Path(i.path).name for i in self.inputs) if name not in self.superseded
        )


class IlrReads:
    """The ILR files a run has parsed: a cache the audit engine owns for one run (each
    worker process, one for its share), like :class:`~kpitools.returns.period.Stacks`.

    A provider's ILR is read by the loader (its learners, when the return has none) and
    again by the review, and a previous month's by the trends: a file is parsed once
    while it is among the last ``kept`` read, by path, modification time, size and inode
    (a file changed since is parsed again) and whether only its withdrawals were read.
    Small, so memory stays bounded: a worker audits one provider after the other. With
    one worker a period loads every provider before its ILR review, so the files of
    providers whose learners come from the ILR, beyond the last few loaded, are parsed a
    second time there (a datasheet beside the ILR: read once, by the review).
    """

    KEPT = 8

    def __init__(self, kept: int = KEPT) -> None:
        self._kept = kept
        self._read: OrderedDict[tuple[str, int, int, int, bool], IlrFile] = OrderedDict()

    def read(self, path: Path, *, withdrawn_only: bool) -> IlrFile:
        """:func:`~kpitools.ilr.reader.read_ilr` of a bootcamp-related file, or the same
        file's result already read in this run (unchanged since).

        Raises:
            FileLevelError: the file cannot be read.
        """
        try:
            stat = path.stat()
        except OSError:
            stat = None  # read_ilr says what is wrong with the path
        key = (
            None
            if stat is None
            else (str(path.resolve()), stat.st_mtime_ns, stat.st_size, stat.st_ino, withdrawn_only)
        )
        if key is not None and key in self._read:
            self._read.move_to_end(key)
            return self._read[key]
        ilr = read_ilr(
            path,
            keep=is_bootcamp_related,
            fund_models=(str(BOOTCAMP_FUND_MODEL),),
            prog_types=(str(BOOTCAMP_PROG_TYPE),),
            fam_types=(EVENT_INDICATOR_FAM,),
            withdrawn_only=withdrawn_only,
        )
        if key is not None:
            self._read[key] = ilr
            while len(self._read) > self._kept:
                self._read.popitem(last=False)
        return ilr


def read_ilr_files(paths: Iterable[str | Path], *, reads: IlrReads | None = None) -> list[IlrFile]:
    """Read ILR files whole, keeping only bootcamp learners, ordered as they were prepared
    (with ``reads``, a file the run has parsed is not parsed again).

    Raises:
        FileLevelError: a file that cannot be read, or files of different providers.
    """
    return _read_files(list(paths), superseded=set(), reads=reads or IlrReads())


def _read_files(paths: list[str | Path], *, superseded: set[int], reads: IlrReads) -> list[IlrFile]:
    """:func:`read_ilr_files`; the files at the positions in ``superseded`` are read only
    for their withdrawals (see :func:`superseded_positions`)."""
    files = [reads.read(Path(p), withdrawn_only=i in superseded) for i, p in enumerate(paths)]
    ukprns = sorted({f.header.ukprn for f in files})
    if len(ukprns) > 1:
        raise FileLevelError(
            f"ILR files of several providers given (UKPRNs {', '.join(ukprns)});"
            " give one provider's files at a time",
            path=files[0].path.parent,
        )
    return sorted(files, key=_preparation_order)


def _preparation_order(ilr: IlrFile) -> tuple[date, str, str]:
    # Same preparation date: the file name's time and serial break the tie.
    return (ilr.header.file_preparation_date, ilr.header.date_time or "", ilr.name)


def superseded_positions(paths: Sequence[str | Path]) -> set[int]:
    """Positions of the files that are not their collection year's latest, judged from
    their headers as :func:`tables_from_ilr` will judge them. Of those files only the
    withdrawals are used (their first report date), so only possibly withdrawn learners
    need building. Empty when a header cannot be read: every file is then read whole
    and reports its own problem."""
    headers = [h for h in (read_ilr_header(p) for p in paths) if h is not None]
    if len(paths) < 2 or len(headers) < len(paths):
        return set()
    order = sorted(
        range(len(paths)),
        key=lambda i: (
            headers[i].file_preparation_date,
            headers[i].date_time or "",
            Path(paths[i]).name,
        ),
    )
    latest = {headers[i].year: i for i in order}  # the last one seen wins
    return set(range(len(paths))) - set(latest.values())


def tables_from_ilr(files: Sequence[IlrFile], *, rules: Rules) -> IlrTables:
    """Map already-read ILR files (ordered by preparation) onto the contract tables."""
    mapped = _map(files, rules)
    return mapped.tables({name: _frame(name, rows) for name, rows in mapped.rows.items()})


def tables_from_ilr_files(
    paths: Mapping[_K, Sequence[str | Path]],
    *,
    rules: Rules,
    reads: IlrReads | None = None,
) -> dict[_K, IlrTables | KpiToolsError]:
    """Map each provider's ILR files onto the contract tables, every provider of a run
    at once (a mapping of one for one provider, e.g. the loader's folder or
    ``kpitools ilr``'s files): each provider's files are read and mapped as alone
    (reading stays per file, strict), and the frames are built once for all of them
    and cut back into providers, which saves the fixed cost of a few hundred small
    frames.

    Args:
        paths: key (a provider) → its ILR files (:func:`kpitools.layout.ilr_files`):
            one or several files of one provider (monthly returns, any years).
        rules: the rules in force (``m1_qualifying_days``, ``ilr_event_indicators``).
        reads: the run's parsed files (:class:`IlrReads`); None: this call's own.

    Returns:
        Key → its tables, counts and inputs (:class:`IlrTables`), the same as mapped
        alone, or the error that stopped reading its files (a file that cannot be read,
        files of several providers): nothing of that provider is mapped then.
    """
    reads = reads or IlrReads()
    mapped: dict[_K, _Mapped] = {}
    failed: dict[_K, KpiToolsError] = {}
    for key, provider_paths in paths.items():
        try:
            files = _read_files(
                list(provider_paths),
                superseded=superseded_positions(list(provider_paths)),
                reads=reads,
            )
        except KpiToolsError as error:
            failed[key] = error
            continue
        mapped[key] = _map(files, rules)
    stacked = {
        name: _frame(name, [r for m in mapped.values() for r in m.rows[name]])
        for name in _FRAME_KINDS
    }
    start = dict.fromkeys(_FRAME_KINDS, 0)
    result: dict[_K, IlrTables | KpiToolsError] = {}
    for key, one in mapped.items():
        frames = {}
        for name, frame in stacked.items():
            stop = start[name] + len(one.rows[name])
            frames[name] = frame.iloc[start[name] : stop].reset_index(drop=True)
            start[name] = stop
        result[key] = one.tables(frames)
    return {key: result[key] if key in result else failed[key] for key in paths}


@dataclass
class _Mapped:
    """One provider's ILR files mapped into rows (per table), before they become frames
    (the files' records are not kept: a period maps every provider before any frame)."""

    inputs: tuple[InputFile, ...]
    ukprn: str
    learners_read: int
    as_known: date
    rows: dict[str, list[dict[str, object]]]
    rejected: list[dict[str, object]]
    notes: list[str]
    lines: dict[str, tuple[int, str]]
    findings: list[IlrRuleFinding]
    bootcamp: int
    superseded: tuple[str, ...]
    file_ukprns: tuple[FileUkprn, ...]

    def personal_values(self) -> KnownValues:
        """The personal data of the learners mapped (ULN, names), for
        :func:`~kpitools.returns.personal.mark_personal`."""
        known = KnownValues()
        for column in PII_COLUMNS["learners"]:
            known.add(row.get(column) for row in self.rows.get("learners", ()))
        return known

    def tables(self, frames: Mapping[str, pd.DataFrame]) -> IlrTables:
        """The :class:`IlrTables` of these rows, built into ``frames``."""
        rejected_frame = (
            mark_personal(
                pd.DataFrame(
                    self.rejected, columns=[c for c in empty_rejected().columns if c != PERSONAL]
                ),
                self.personal_values(),
            )
            if self.rejected
            else empty_rejected()
        )
        accepted = len(frames["learners"])
        rejected = len(rejected_rows(self.rejected))
        read = self.learners_read
        logger.info(
            "ILR: %d learners read, %d on a bootcamp, %d ignored",
            read,
            self.bootcamp,
            read - self.bootcamp,
        )
        return IlrTables(
            learners=frames["learners"],
            interviews=frames["interviews"],
            outcomes=frames["outcomes"],
            learner_facts=frames["learner_facts"],
            rejected=rejected_frame,
            counts={"learners": TableCount("learners", accepted + rejected, accepted, rejected)},
            inputs=self.inputs,
            ukprn=self.ukprn,
            as_known=self.as_known,
            learners_read=read,
            bootcamp_learners=self.bootcamp,
            non_bootcamp_learners=read - self.bootcamp,
            notes=tuple(dict.fromkeys(self.notes)),
            lines=self.lines,
            findings=tuple(self.findings),
            superseded=self.superseded,
            file_ukprns=self.file_ukprns,
        )


def rejected_rows(
    rejected: Iterable[Mapping[str, object]],
) -> dict[tuple[str, str | None], list[Mapping[str, object]]]:
    """The mapping's rejected entries grouped into the rows they reject: one per learner
    for a learner-level problem (key ``(source, None)``), one per bootcamp for a
    contract-level one (``(source, contract)``, column ``ConRefNumber``)."""
    grouped: dict[tuple[str, str | None], list[Mapping[str, object]]] = {}
    for entry in rejected:
        contract = str(entry["value"]) if entry["column"] == "ConRefNumber" else None
        grouped.setdefault((str(entry["source"]), contract), []).append(entry)
    return grouped


def _map(files: Sequence[IlrFile], rules: Rules) -> _Mapped:
    """The rows of every table from already-read ILR files (ordered by preparation)."""
    if not files:
        raise ValueError("no ILR files given")
    as_known = max(f.header.file_preparation_date for f in files)
    current = _latest_per_year(files)
    rows: dict[str, dict[tuple[str, str], list[dict[str, object]]]] = {
        name: {} for name in _FRAME_KINDS
    }
    rejected: list[dict[str, object]] = []
    notes: list[str] = []
    lines: dict[str, tuple[int, str]] = {}
    findings: list[IlrRuleFinding] = ukprn_findings(files, expected=None)
    events = event_indicator_table(rules.ilr_event_indicators)
    bootcamp = 0
    for ilr in current:  # later years override earlier ones for the same learner
        first_line: dict[str, int] = {}  # LearnRefNumber → line of its first record here
        sourced = [(learner, learner_source(ilr.name, learner.line)) for learner in ilr.learners]
        checked = check_learners(
            sourced,
            year=ilr.header.year,
            prepared=ilr.header.file_preparation_date,
            event_indicators=events,
        )
        for (learner, source), breaches in zip(sourced, checked, strict=True):
            findings += breaches
            if not is_bootcamp_learner(learner):
                continue  # kept for DfE's rules only (e.g. FundModel 37 without ProgType 32)
            bootcamp += 1
            ref = learner.learn_ref_number or ""
            lines[source] = (learner.line, ref)
            if ref in first_line:
                duplicate = _duplicate(ilr.name, ref, first_line[ref], learner.line)
                rejected.append(duplicate[0])
                findings.append(duplicate[1])
                continue
            if ref:
                first_line[ref] = learner.line
            mapped = learner_rows(
                learner,
                source,
                m1_days=rules.m1_qualifying_days,
                as_known=as_known,
                event_indicators=events,
            )
            rejected.extend(mapped.rejected)
            notes.extend(mapped.notes)
            findings += [_reenrolled(ref, source, *entry) for entry in mapped.reenrolled]
            for key in mapped.keys:  # one bootcamp (nearly every learner): all its rows
                for name in _FRAME_KINDS:
                    rows[name][key] = (
                        list(mapped.tables[name])
                        if len(mapped.keys) == 1
                        else [r for r in mapped.tables[name] if _key(r) == key]
                    )
    if len(files) > 1:
        withdrawn = [key for key, found in rows["learners"].items() if _withdrawn_row(found)]
        for key, when in _reported_withdrawals(files, withdrawn).items():
            rows["learners"][key][0]["withdrawal_reported_date"] = when
    return _Mapped(
        tuple(_input_file(f, superseded=f not in current) for f in files),
        files[0].header.ukprn,
        sum(f.learners_read for f in current),
        as_known,
        {name: [r for rs in by_key.values() for r in rs] for name, by_key in rows.items()},
        rejected,
        notes,
        lines,
        findings,
        bootcamp,
        tuple(f.name for f in files if f not in current),
        _file_ukprns(files),
    )


def _key(row: dict[str, object]) -> tuple[str, str]:
    return (str(row["learner_ref"]), str(row["bootcamp_id"]))


def _latest_per_year(files: Sequence[IlrFile]) -> list[IlrFile]:
    """The last-prepared file of each collection year, oldest year first."""
    latest: dict[str, IlrFile] = {}
    for ilr in files:  # ordered by preparation, so the last one seen wins
        latest[ilr.header.year] = ilr
    return [latest[year] for year in sorted(latest)]


def learner_source(file_name: str, line: int) -> str:
    """The source of an ILR learner: ``<file>:<line of its Learner element>``."""
    return f"{file_name}:{line}"


def _withdrawn_row(found: list[dict[str, object]]) -> bool:
    return bool(found) and found[0].get("withdrawal_date") is not None


def _duplicate(
    file_name: str, ref: str, first: int, line: int
) -> tuple[dict[str, object], IlrRuleFinding]:
    """The rejected row and the DUP-ROW finding of a second ``Learner`` record with the
    ``LearnRefNumber`` of an earlier one of the same file (the first is mapped)."""
    rejection: dict[str, object] = {
        "table": "learners",
        "source": learner_source(file_name, line),
        "column": "LearnRefNumber",
        "value": ref,
        "reason": f"same LearnRefNumber as line {first}: the learner is twice in the file",
        "rule": "DUP-KEY",
    }
    finding = kpitools_finding(
        "DUP-ROW",
        ref,
        f"{learner_source(file_name, first)}; {learner_source(file_name, line)}",
        f"two Learner records with the same LearnRefNumber in {file_name} (lines {first} and"
        f" {line}): the first is mapped, the second rejected, never silently replaced",
    )
    return rejection, finding


def _reenrolled(
    ref: str, source: str, con_ref: str, earlier: IlrDelivery, later: IlrDelivery, why: str
) -> IlrRuleFinding:
    started = later.learn_start_date.isoformat() if later.learn_start_date else "no date"
    return kpitools_finding(
        "ILR-REENROLLED",
        ref,
        aim_source(source, later.aim_seq_number),
        f"programme aim {later.aim_seq_number} starts {started} on contract {con_ref} after"
        f" programme aim {earlier.aim_seq_number}, {why}",
        aim_seq=later.aim_seq_number,
        bootcamp_id=con_ref,
    )


def kpitools_finding(
    rule_id: str,
    learner_ref: str,
    source: str,
    message: str,
    *,
    aim_seq: int | None = None,
    bootcamp_id: str = "ALL",
) -> IlrRuleFinding:
    """A finding of one of kpitools' own ILR rules (not DfE's: DUP-ROW,
    ILR-REENROLLED, ILR-UKPRN-MISMATCH), its severity the catalogue's."""
    return IlrRuleFinding(
        rule=rule_id,
        severity=rule(rule_id).severity,
        learner_ref=learner_ref,
        aim_seq=aim_seq,
        source=source,
        message=message,
        bootcamp_id=bootcamp_id,
    )


@dataclass(frozen=True)
class FileUkprn:
    """The UKPRNs one ILR file names: its header's, its ``LearningProvider``'s and its
    file name's (None when absent or the name is not DfE's pattern), with lines."""

    name: str
    header: str
    header_line: int
    provider: str | None
    provider_line: int
    file_name: str | None


def _file_ukprns(files: Sequence[IlrFile]) -> tuple[FileUkprn, ...]:
    return tuple(
        FileUkprn(
            f.name,
            f.header.ukprn,
            f.header.ukprn_line,
            f.provider_ukprn,
            f.provider_line,
            match.group(1) if (match := FILE_NAME.match(f.name)) else None,
        )
        for f in files
    )


def ukprn_findings(
    files: Sequence[IlrFile] | Sequence[FileUkprn], *, expected: str | None
) -> list[IlrRuleFinding]:
    """ILR-UKPRN-MISMATCH for each file whose header (``Source/UKPRN``),
    ``LearningProvider/UKPRN``, file name and ``expected`` (``provider.csv``'s ukprn,
    None when not known) do not all name one provider: a file of another provider is
    never audited silently as this one's."""
    found = []
    for f in files:
        named = f if isinstance(f, FileUkprn) else _file_ukprns([f])[0]
        sides = [
            ("the header (Source/UKPRN)", named.header),
            ("LearningProvider/UKPRN", named.provider),
            ("the file name", named.file_name),
            ("provider.csv", expected),
        ]
        given = [(where, value) for where, value in sides if value is not None]
        if len({value for _, value in given}) < 2:
            continue
        odd = named.provider is not None and named.provider != named.header
        found.append(
            kpitools_finding(
                "ILR-UKPRN-MISMATCH",
                "",
                learner_source(named.name, named.provider_line if odd else named.header_line),
                "the UKPRNs disagree: "
                + ", ".join(f"{value} in {where}" for where, value in given)
                + "; a file of another provider must not be audited as this one's",
            )
        )
    return found


def _reported_withdrawals(
    files: Sequence[IlrFile], keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], date]:
    """(learner_ref, bootcamp_id) → the preparation date of the first file of the last
    unbroken run of files (preparation order) that show the learner withdrawn from that
    bootcamp: a withdrawal keyed in error and undone leaves no date behind. A file that
    does not hold the learner at all (another year's, say) neither shows nor breaks the
    run; one that holds the learner not withdrawn (or not on that bootcamp) breaks it."""
    by_file = [_first_records(ilr) for ilr in files]
    reported: dict[tuple[str, str], date] = {}
    for ref, con_ref in keys:
        run: date | None = None
        for ilr, records in zip(files, by_file, strict=True):
            if ref not in ilr.present and ref not in records:
                continue
            learner = records.get(ref)
            if learner is not None and _shows_withdrawn(learner, con_ref):
                run = run or ilr.header.file_preparation_date
            else:
                run = None
        if run is not None:
            reported[(ref, con_ref)] = run
    return reported


def _first_records(ilr: IlrFile) -> dict[str, IlrLearner]:
    """LearnRefNumber → the first record of it built from the file."""
    found: dict[str, IlrLearner] = {}
    for learner in ilr.learners:
        if learner.learn_ref_number:
            found.setdefault(learner.learn_ref_number, learner)
    return found


def _shows_withdrawn(learner: IlrLearner, con_ref: str) -> bool:
    """Whether the learner's programme aims on ``con_ref`` read as withdrawn (restarts
    after a break followed, re-enrolments not erasing a withdrawal)."""
    aims = [a for a in learner.deliveries if is_bootcamp_aim(a) and a.con_ref_number == con_ref]
    programmes = [a for a in bootcamp_programmes(aims) if a.learn_start_date is not None]
    return bool(programmes) and contract_state(programmes).withdrawn is not None


def _frame(name: str, rows: list[dict[str, object]]) -> pd.DataFrame:
    kinds = _FRAME_KINDS[name]
    columns: dict[str, pd.Series] = {}
    for column, kind in kinds.items():
        values = [row.get(column) for row in rows]
        if kind == "date":
            columns[column] = pd.Series(_datetimes(values), dtype="datetime64[ns]")
        elif kind == "flag":
            columns[column] = pd.Series(values, dtype="boolean")
        elif kind == "int":
            columns[column] = pd.Series(values, dtype="Int64")
        else:
            columns[column] = pd.Series(values, dtype=object)
    return pd.DataFrame(columns)


def _datetimes(values: list[object]) -> np.ndarray | pd.DatetimeIndex:
    """Dates (``datetime.date`` or None, as the mapping gives them) as datetime64[ns];
    anything else goes through ``pd.to_datetime``."""
    dates = [v for v in values if v is None or type(v) is date]
    if len(dates) == len(values):
        return np.array(
            [_NAT if d is None else np.datetime64(d, "ns") for d in dates], dtype="datetime64[ns]"
        )
    return pd.to_datetime(values)


_NAT = np.datetime64("NaT", "ns")


def _input_file(ilr: IlrFile, *, superseded: bool) -> InputFile:
    return InputFile(
        str(ilr.path),
        ilr.sha256,
        ilr.size_bytes,
        ("learners", "interviews", "outcomes"),
        ilr.learners_read,
        role=ILR_SUPERSEDED if superseded else ILR_USED,
    )


def ilr_raw_tables(ilr: IlrTables) -> dict[str, RawTable]:
    """The ILR's ``learners``, ``interviews`` and ``outcomes`` as text tables for the
    loader's validation (a provider whose return is the ILR): label ``ilr/<file>``,
    rows = the line of the ``Learner`` element each row comes from.

    Learners the mapping rejected come along as rows carrying their problems, so the
    loader's counts still balance (read = accepted + rejected). Interview and outcome
    role type and skills match are not in the ILR: both are ``unknown``
    (:data:`~kpitools.returns.contract.UNKNOWN_FROM_ILR`), which validation accepts from
    these tables alone (:attr:`RawTable.from_ilr`).

    Raises:
        FileLevelError: the current learners come from files of several collection
            years (one ``ilr/`` folder must hold one year's returns).
    """
    files = sorted({source.rsplit(":", 1)[0] for source in ilr.lines})
    if len(files) > 1:
        raise FileLevelError(
            f"ilr/ holds the current returns of several collection years ({', '.join(files)});"
            " keep one year's files",
            path="ilr",
        )
    label = f"ilr/{files[0]}" if files else "ilr"
    tables = {
        name: _raw(name, frame, ilr, label)
        for name, frame in (("interviews", ilr.interviews), ("outcomes", ilr.outcomes))
    }
    tables["learners"] = _raw("learners", ilr.learners, ilr, label, with_rejected=True)
    return tables


def _raw(
    name: str, frame: pd.DataFrame, ilr: IlrTables, label: str, with_rejected: bool = False
) -> RawTable:
    records = [
        {k: cell_text(v) for k, v in r.items()}
        for r in frame.drop(columns="source").to_dict("records")
    ]
    if "role_type" in frame.columns:  # the ILR says neither: both unknown, not missing
        for record in records:
            if record.get("role_type") == UNKNOWN_FROM_ILR and record.get("matches_skills") is None:
                record["matches_skills"] = UNKNOWN_FROM_ILR
    rows = [ilr.lines[s][0] for s in frame["source"]]
    problems: list[tuple[int, str, str, str, str]] = []
    if with_rejected:
        # one row per learner rejected whole, one per bootcamp rejected alone
        entries = ilr.rejected.to_dict("records")
        for (source, contract), group in rejected_rows(entries).items():
            line, learner_ref = ilr.lines[source]
            problems += [
                (len(records), str(e["column"]), str(e["value"]), str(e["reason"]), str(e["rule"]))
                for e in group
            ]
            records.append({"learner_ref": learner_ref, "bootcamp_id": contract or None})
            rows.append(line)
    return replace(
        RawTable.from_records(name, records, label=label),
        rows=np.asarray(rows, dtype=np.int64),
        problems=problems_frame(problems),
        from_ilr=True,
    )


def cell_text(value: object) -> str | None:
    """A typed value as the text a file would hold (dates ISO, flags Y/N)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, bool | np.bool_):
        return "Y" if value else "N"
    if (
        isinstance(value, float) and value.is_integer()
    ):  # a whole-number column with blanks, made float
        return str(int(value))
    return str(value)
