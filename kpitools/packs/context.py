"""What a pack notebook works from: one provider's audit, its params, and the privacy view.

The notebook's first cell calls :func:`load_context` with its parameters. With
``audit_path`` set (a batch run computed every provider once and saved each audit) it
only loads that file; otherwise it computes the audit itself, so the notebook runs on its
own in JupyterLab. Every table the pack or register shows goes through
:class:`PackContext`, which replaces learner refs by keyed pseudonyms and removes
personal data unless ``include_pii`` is set.
"""

from __future__ import annotations

import logging
import pickle
import re
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from kpitools.contract import PII_COLUMNS
from kpitools.errors import PackError
from kpitools.followup import FollowUp
from kpitools.model import Finding, ProviderAudit
from kpitools.params import PackParams, params_from_mapping
from kpitools.pseudonym import Pseudonymiser, load_key

log = logging.getLogger(__name__)

REDACTED = "[redacted]"
# Columns that may carry personal data in worklists and other free-form frames.
PII_COLUMN_NAMES = frozenset(c for cols in PII_COLUMNS.values() for c in cols) | {
    "date_of_birth", "email", "phone", "learner_name", "name_of_learner",
}
AUDIT_FILE = ".audit.pkl"
# Cross-provider findings name the other provider's learner (kpitools.checks.duplicates):
# that learner gets the pseudonym it has in its own provider's pack.
_OTHER_PROVIDER_LEARNER = re.compile(r"(provider ([A-Za-z0-9_-]{1,40})'s learner )([^\s,;()]+)")


def save_audit(audit: ProviderAudit, path: str | Path) -> Path:
    """Save one provider's computed audit for its notebook (atomic write)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as handle:
        pickle.dump(audit, handle, protocol=pickle.HIGHEST_PROTOCOL)
    partial.replace(path)
    return path


def load_audit(path: str | Path) -> ProviderAudit:
    """Load an audit saved by :func:`save_audit` (our own output folder only).

    Raises:
        PackError: missing, unreadable or not an audit.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            audit = pickle.load(handle)  # noqa: S301 - written by save_audit in our output folder
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError) as error:
        raise PackError(f"cannot load the saved audit: {error}", path=path) from None
    if not isinstance(audit, ProviderAudit):
        raise PackError(f"not a saved ProviderAudit but {type(audit).__name__}", path=path)
    return audit


def compute_audit(params: PackParams) -> ProviderAudit:
    """Compute one provider's audit from its folder (standalone runs)."""
    from kpitools.audit import audit_provider  # heavy; only when not loading a saved one

    return audit_provider(
        Path(params.provider_dir),
        as_of=params.resolved_as_of,
        rules=params.rules_object(),
        period=params.resolved_period,
        previous_dir=Path(params.previous_dir) if params.previous_dir else None,
    )


@dataclass(frozen=True)
class PackContext:
    """One provider's audit with the params it was run with and its privacy view.

    Attributes:
        audit: everything computed for the provider.
        params: the run's parameters.
        pseudonymiser: keyed pseudonyms for this provider's learners.
    """

    audit: ProviderAudit
    params: PackParams
    pseudonymiser: Pseudonymiser

    @property
    def include_pii(self) -> bool:
        return self.params.include_pii

    @cached_property
    def followup(self) -> FollowUp:
        """The register's follow-up: the one computed when the register was written, else
        computed now against last month's register (a notebook run on its own)."""
        if self.audit.followup is not None:
            return self.audit.followup
        from kpitools.packs.register import compute_followup

        return compute_followup(self)

    @cached_property
    def learner_refs(self) -> frozenset[str]:
        refs: set[str] = set()
        for ret in (self.audit.provider, self.audit.previous):
            if ret is not None and "learner_ref" in ret.tables.get("learners", pd.DataFrame()):
                refs.update(str(r) for r in ret.tables["learners"]["learner_ref"].dropna())
        return frozenset(refs)

    @cached_property
    def _pii_pattern(self) -> re.Pattern[str] | None:
        values: set[str] = set()
        for table, columns in PII_COLUMNS.items():
            frame = self.audit.provider.tables.get(table)
            if frame is None:
                continue
            for column in columns:
                if column in frame:
                    values.update(str(v).strip() for v in frame[column].dropna())
        values = {v for v in values if len(v) >= 2 and v != "9999999999"}
        if not values:
            return None
        alternatives = "|".join(re.escape(v) for v in sorted(values, key=len, reverse=True))
        return re.compile(r"(?<!\w)(" + alternatives + r")(?!\w)")

    def scrub(self, text: Any) -> Any:
        """Free text made safe to show: learner refs pseudonymised, personal data removed."""
        if self.include_pii or not isinstance(text, str) or not text:
            return text
        text = _OTHER_PROVIDER_LEARNER.sub(self._other_provider_learner, text)
        text = self.pseudonymiser.replace_refs(text, self.learner_refs)
        pattern = self._pii_pattern
        return pattern.sub(REDACTED, text) if pattern is not None else text

    def _other_provider_learner(self, match: re.Match[str]) -> str:
        other = Pseudonymiser(self.pseudonymiser.key, match.group(2))
        return match.group(1) + other.learner(match.group(3))

    def learner(self, learner_ref: str) -> str:
        """A learner as shown: the ref itself with include_pii, else the pseudonym."""
        return learner_ref if self.include_pii else self.pseudonymiser.learner(learner_ref)

    def show_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Any table made safe to show (a new frame; the input is not changed).

        Personal-data columns are dropped, ``learner_ref`` columns pseudonymised,
        ``entity`` columns mapped and every other text cell scrubbed.
        """
        if self.include_pii:
            return frame.copy()
        shown = frame.drop(columns=[c for c in frame.columns if c in PII_COLUMN_NAMES])
        updates: dict[str, pd.Series] = {}
        for column in shown.columns:
            series = shown[column]
            if column == "learner_ref":
                updates[column] = series.map(lambda v: self.learner(str(v)) if pd.notna(v) else v)
            elif column == "entity":
                updates[column] = series.map(lambda v: self.pseudonymiser.entity(v) if isinstance(v, str) else v)
            elif series.dtype == object or pd.api.types.is_string_dtype(series):
                updates[column] = series.map(self.scrub)
        return shown.assign(**updates) if updates else shown

    def findings(self, kpi: str | None = None, *, rule_prefix: str | None = None) -> pd.DataFrame:
        """The register rows (``exceptions.csv`` columns) safe to show, optionally filtered.

        With include_pii, ``person`` and ``uln`` columns name the learner (or the
        employer's contact) so the auditor can act on the case directly.
        """
        frame = self.audit.exceptions_frame()
        if kpi is not None:
            frame = frame[frame["kpi"] == kpi]
        if rule_prefix is not None:
            frame = frame[frame["rule"].astype(str).str.startswith(rule_prefix)]
        frame = frame.reset_index(drop=True)
        if self.include_pii:
            return self._identified(frame)
        return self.show_frame(frame)

    def _identified(self, frame: pd.DataFrame) -> pd.DataFrame:
        tables = self.audit.provider.tables
        learners = tables["learners"].drop_duplicates("learner_ref").set_index("learner_ref")
        employers = tables["employers"].drop_duplicates("employer_id").set_index("employer_id")

        def text(*values: object) -> str:
            return " ".join(str(v) for v in values if isinstance(v, str) and v)

        people: dict[str, str] = {}
        ulns: dict[str, str] = {}
        for ref, row in learners.iterrows():
            people[f"learner:{ref}"] = text(row.get("given_name"), row.get("family_name"))
            ulns[f"learner:{ref}"] = text(row.get("uln"))
        for employer, row in employers.iterrows():
            people[f"employer:{employer}"] = text(row.get("contact_name"), row.get("contact_email"), row.get("contact_phone"))
        return frame.assign(person=frame["entity"].map(people).fillna(""), uln=frame["entity"].map(ulns).fillna(""))

    def rejected(self) -> pd.DataFrame:
        """Rejected rows with reasons; values of personal-data columns masked."""
        frame = self.audit.provider.rejected
        if self.include_pii or frame.empty:
            return frame.copy()
        pii = frame["column"].isin(PII_COLUMN_NAMES)
        masked = frame.assign(value=frame["value"].where(~pii, REDACTED))
        return self.show_frame(masked)

    def safe_audit(self) -> ProviderAudit:
        """A copy of the audit for files others read (exceptions.csv, rejected_rows.csv,
        manifest): findings pseudonymised and scrubbed, personal rejected values masked.
        With include_pii, the audit itself."""
        if self.include_pii:
            return self.audit
        audit = self.audit

        def safe(finding: Finding) -> Finding:
            return replace(finding, entity=self.pseudonymiser.entity(finding.entity),
                           message=self.scrub(finding.message))

        results = [replace(r, exceptions=tuple(safe(f) for f in r.exceptions),
                           informational=tuple(safe(f) for f in r.informational))
                   for r in audit.kpi_results]
        provider = replace(audit.provider, rejected=self.rejected(),
                           warnings=[self.scrub(w) for w in audit.provider.warnings])
        return replace(audit, provider=provider, kpi_results=results,
                       irregularities=[safe(f) for f in audit.irregularities],
                       notes=[self.scrub(n) for n in audit.notes])

    def worklists(self) -> dict[str, pd.DataFrame]:
        """Every worklist the checks produced, safe to show."""
        return {name: self.show_frame(frame) for name, frame in self.audit.worklists.items()}


def context_from_audit(audit: ProviderAudit, params: PackParams) -> PackContext:
    """A context for an audit already in memory (registers, tests)."""
    key = load_key(params.pseudonym_key_file or None, out_dir=params.out_dir)
    return PackContext(audit, params, Pseudonymiser(key, audit.provider_id))


def load_context(**parameters: Any) -> PackContext:
    """The notebook's entry point: check its parameters, load or compute the audit.

    Args:
        **parameters: the notebook's ``parameters`` cell, see :mod:`kpitools.params`.

    Raises:
        ParameterError: parameters that do not fit the schema.
        PackError: a saved audit that cannot be loaded.
    """
    params = params_from_mapping(parameters, where="notebook parameters")
    if params.audit_path:
        audit = load_audit(params.audit_path)
    else:
        log.info("no saved audit given: computing %s", params.provider_dir)
        audit = compute_audit(params)
    return context_from_audit(audit, params)
