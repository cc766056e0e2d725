"""A case file's sections (``notebooks/case.ipynb``): what the case is, the entity's
rows month by month with changed values marked, its ILR record beside the datasheet,
every finding about it with its register history, and what the auditor wrote.

Learners are named as in a pack (:class:`~kpitools.privacy.naming.LearnerNaming`,
circulated: pseudonym and row; names and ULNs only with ``include_pii``); every value
goes into :class:`markupsafe.Markup`, escaped.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pandas as pd
from markupsafe import Markup

from kpitools.cases.compare import RowHistory, row_histories
from kpitools.cases.gather import FINDING_COLUMNS, NOTE_FIELDS, Case, gather_case
from kpitools.errors import PackError
from kpitools.present.blocks import (
    EMPTY,
    bullets,
    cell,
    heading,
    html_table,
    kpi_label,
    note,
    row,
    table,
)
from kpitools.privacy.pseudonym import load_key
from kpitools.store.queries import ExceptionHistory
from kpitools.worklists.followup import FOLLOW_UP_STATUSES

CHANGED_COLOUR = "#ffe2a8"
DISAGREE_COLOUR = "#f7b9b4"
CASE_FILE = ".case.pkl"
_REGISTER_SHOWN = ("change", "first_seen", "last_seen")
"""What the page shows of a register row: what kpitools wrote. What an auditor types
(owner, response, the other working columns, who saved the register) stays in the
working files, here the case workbook, as it stays out of the pack (docs/packs.md)."""
OTHER_STATUS = "other (see the case workbook)"


def save_case(case: Case, path: str | Path) -> Path:
    """Save a gathered case for its notebook (atomic, mode 0600: it holds the returns'
    rows, personal data included)."""
    from kpitools.io.files import write_atomic

    return write_atomic(
        Path(path), pickle.dumps(case, protocol=pickle.HIGHEST_PROTOCOL), private=True
    )


def load_case(path: str | Path) -> Case:
    """A case saved by :func:`save_case`.

    Raises:
        PackError: missing, unreadable or not a case.
    """
    try:
        with Path(path).open("rb") as handle:
            case = pickle.load(handle)  # noqa: S301 - written by save_case, private
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError) as error:
        raise PackError(f"cannot load the saved case: {error}", path=path) from None
    if not isinstance(case, Case):
        raise PackError(f"not a saved case but {type(case).__name__}", path=path)
    return case


def open_case(
    out: str,
    period: str,
    provider_id: str,
    *,
    learner: str = "",
    employer: str = "",
    exception: str = "",
    include_pii: bool = False,
    case_path: str = "",
    pseudonym_key_file: str = "",
) -> Case:
    """What the case notebook presents: the case ``kpitools case`` saved at
    ``case_path``, or, when blank (the notebook opened in JupyterLab), the case gathered
    here from the audit store and the returns (:func:`gather_case`).

    Raises:
        PackError: the saved case cannot be loaded.
        KpiToolsError: the case cannot be gathered.
    """
    if case_path:
        return load_case(case_path)
    return gather_case(
        out,
        period,
        provider_id,
        key=load_key(pseudonym_key_file or None),
        learner=learner,
        employer=employer,
        exception=exception,
        include_pii=include_pii,
    )


def summary(case: Case) -> Markup:
    """What the case is about, where its facts come from, and how it names people."""
    months = [m.period for m in case.months]
    items = [
        ("case", case.case_id),
        ("about", case.subject),
        ("provider", case.entity.provider_id),
        ("built for", case.period),
        ("months read", ", ".join(months) or "none"),
        ("returns", f"{case.data_root}/<month>/{case.entity.provider_id}"),
        ("audit store", f"{case.out_root}/kpitools.duckdb"),
        (
            "findings",
            f"{len(case.findings)} in {case.findings['exception_id'].nunique()} exception(s)",
        ),
        ("built (UTC)", case.built_utc),
        ("pseudonym key", case.key_fingerprint),
        (
            "personal data",
            "included (--include-pii)"
            if case.include_pii
            else "pseudonymised: no names, ULNs or contact details",
        ),
    ]
    return html_table(("item", "value"), (row(k, v) for k, v in items))


def month_rows(case: Case) -> Markup:
    """Every row of the entity in every table, the months side by side, each value that
    changed since the month before marked, each month's ``file:line``."""
    notes = [f"{m.period}: {text}" for m in case.months for text in m.notes]
    histories = row_histories(case, case.naming)
    if not histories:
        return note("The entity has no accepted row in any month's return.") + bullets(notes)
    parts = [note("Values marked changed differ from the month before (both months hold the row).")]
    parts.append(bullets(notes))
    for history in histories:
        parts.append(heading(f"{history.table}{': ' + history.key if history.key else ''}"))
        parts.append(_side_by_side(history))
    return EMPTY.join(parts)


def _side_by_side(history: RowHistory) -> Markup:
    periods = list(history.values.columns)
    lines = []
    for name, values in history.values.iterrows():
        cells = [cell(Markup("<strong>{}</strong>").format(name))]
        for period, value in zip(periods, values, strict=True):
            if (str(name), period) in history.changed:
                cells.append(
                    Markup(
                        '<td style="background:{}" title="changed since the month before">'
                        "{} <em>(changed)</em></td>"
                    ).format(CHANGED_COLOUR, value)
                )
            else:
                cells.append(cell(value))
        lines.append(row(*cells))
    return html_table(("field", *periods), lines)


def ilr(case: Case) -> Markup:
    """The learner's ILR record: the files and which one is current, each aim, and the
    values compared with the datasheet."""
    if case.ilr is None:
        return note(case.ilr_note or "Not a learner: no ILR record.")
    compared = case.ilr.compared
    lines = [
        row(
            *(
                Markup('<td style="background:{}">{}</td>').format(DISAGREE_COLOUR, v)
                if c == "agree" and v != "yes"
                else v
                for c, v in zip(compared.columns, values, strict=True)
            )
        )
        for values in compared.itertuples(index=False)
    ]
    return EMPTY.join(
        [
            heading("ILR files of the period"),
            table(case.ilr.files),
            heading("Aims, as each file writes them"),
            table(case.ilr.aims, limit=200),
            heading("What the audit compared: the datasheet beside the ILR (current files)"),
            html_table(tuple(compared.columns), lines) if len(compared) else note("None."),
        ]
    )


def findings(case: Case) -> Markup:
    """Every finding about the entity, month by month and provider by provider (each
    with the other provider's learner it rests on, ``related``, named as the page names
    learners: its provider and pseudonym), then each exception's register history."""
    if case.findings.empty:
        return note("No finding about it in any run on record.")
    shown = case.findings.assign(
        who=_who(case.findings), related=case.findings["related"].map(case.naming.related)
    )[list(FINDING_COLUMNS)]
    parts = [table(shown, limit=500)]
    for exception_id, history in case.histories.items():
        parts.append(
            heading(f"Register history of {exception_id} ({history.rule}, {history.severity})")
        )
        parts.append(register_history(history))
    return EMPTY.join(parts)


def _who(findings: pd.DataFrame) -> pd.Series:
    """Whom each finding is about: a learner by pseudonym (each provider's own), other
    entities as found."""
    return findings["pseudonym"].where(findings["pseudonym"].astype(str) != "", findings["entity"])


def register_history(history: ExceptionHistory) -> Markup:
    """An exception's row in each month's register (its status when it is one of the
    register's, what kpitools wrote, the run that wrote it, by whom and when) and when
    each value an auditor changed was saved and read back; the values typed, the owner,
    the response and who saved them are in the case workbook."""
    months = pd.DataFrame(
        [
            {
                "period": m.period,
                "register sheet": m.sheet or "(not in the register)",
                "status": _status(m.values.get("status")),
                **{c: m.values.get(c) for c in _REGISTER_SHOWN},
                "written by run": f"{m.run_id}, {m.user}, {m.built:%Y-%m-%d %H:%M} UTC",
            }
            for m in history.months
        ]
    )
    edits = pd.DataFrame(
        [
            {
                "period": e.period,
                "field changed": e.field,
                "saved": e.modified,
                "read back by run": f"{e.run_id}, {e.read:%Y-%m-%d %H:%M} UTC",
            }
            for e in history.edits
        ]
    )
    return table(months) + (
        note("No value changed by an auditor.")
        if edits.empty
        else table(edits, limit=500)
        + note("What was typed, the owner, the response and who saved them: the case workbook.")
    )


def _status(status: object) -> str:
    """A register status as the page shows it: one of the register's, else not the text
    typed (:data:`OTHER_STATUS`)."""
    if status is None or status == "":
        return ""
    return str(status) if status in FOLLOW_UP_STATUSES else OTHER_STATUS


def members(case: Case) -> Markup:
    """Every KPI figure the entity counts in, month by month: in its numerator, only in
    its population, or left out of it and why (the rule's words), with its rows."""
    if case.members.empty:
        return note("It is a member of no KPI figure on record.")
    shown = case.members.assign(
        kpi=[
            kpi_label(k, s) for k, s in zip(case.members["kpi"], case.members["stage"], strict=True)
        ],
        counted=[
            "numerator" if numerator else "population, not numerator" if population else "left out"
            for population, numerator in zip(
                case.members["in_population"], case.members["in_numerator"], strict=True
            )
        ],
    )
    return table(shown[["period", "kpi", "bootcamp_id", "counted", "reason", "source"]], limit=500)


def auditor(case: Case) -> Markup:
    """Which of the auditor's notes are written, as last read back; their text stays in
    the case workbook (a working file), as what auditors type stays out of the pack."""
    lines = [
        row(
            f.replace("_", " "),
            f"written ({len(case.notes[f])} characters)" if case.notes.get(f) else "blank",
        )
        for f in NOTE_FIELDS
    ]
    return html_table(("", "as last read back from the case workbook"), lines) + note(
        f"Write them in cases/{case.name}.xlsx (sheet Case, column value) and build the "
        "case again: what you wrote is read back into the audit store first, and the "
        "workbook you wrote in kept under cases/.history."
    )
