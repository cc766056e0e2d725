"""What a pack notebook works from: one provider's audit, its params, and the privacy view.

The notebook's first cell calls :func:`load_context` with its parameters. With
``audit_path`` set (a batch run computed every provider once and saved each audit) it
only loads that file, and the charts a runner drew beside it (:func:`save_charts`) if
any; otherwise it computes the audit itself, so the notebook runs on its
own in JupyterLab. Every table the pack or register shows goes through
:class:`PackContext`, which names learners by the identity rule of
:mod:`kpitools.privacy.naming`.
"""

from __future__ import annotations

import json
import logging
import pickle
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from kpitools import layout
from kpitools.errors import PackError
from kpitools.layout import charts_path
from kpitools.model import (
    EXCEPTION_ID_PREFIX,
    FollowUp,
    KpiResult,
    ProviderAudit,
    Trends,
    findings_frame,
)
from kpitools.params import PackParams, params_from_mapping
from kpitools.privacy.naming import CIRCULATED, WORKING, Audience, LearnerNaming, learner_naming
from kpitools.privacy.pseudonym import Pseudonymiser, load_key

log = logging.getLogger(__name__)

AUDIT_FILE = ".audit.pkl"


def save_audit(audit: ProviderAudit, path: str | Path) -> Path:
    """Save one provider's computed audit for its notebook (atomic write, mode 0600;
    batches put it in a private folder, :func:`kpitools.io.workspace.private_folder`)."""
    from kpitools.io.files import write_atomic  # not imported by every pack kernel

    # the audit holds the raw return, personal data included: only its owner may read it
    return write_atomic(
        Path(path), pickle.dumps(audit, protocol=pickle.HIGHEST_PROTOCOL), private=True
    )


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


def save_charts(charts: dict[str, str], audit_path: str | Path) -> Path:
    """Save the charts drawn for the audit saved at ``audit_path``
    (:func:`kpitools.present.plots.draw_charts`) for its notebook (atomic, mode 0600)."""
    from kpitools.io.files import write_atomic

    return write_atomic(charts_path(audit_path), json.dumps(charts).encode("utf-8"), private=True)


def load_charts(audit_path: str | Path) -> dict[str, str]:
    """The charts saved beside the audit at ``audit_path``; none (the notebook draws
    them) when there is no such file or it cannot be read."""
    path = charts_path(audit_path)
    try:
        charts = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        log.warning("%s: ignoring the saved charts (%s); drawing them", path, error)
        return {}
    if not isinstance(charts, dict) or not all(isinstance(v, str) for v in charts.values()):
        log.warning(
            "%s: ignoring the saved charts (not a mapping of name to HTML); drawing them", path
        )
        return {}
    return charts


def compute_audit(params: PackParams) -> ProviderAudit:
    """Compute one provider's audit from its folder (``kpitools pack``, a notebook on its
    own): everything its pack shows, the trends and the register's follow-up included,
    and the cross-provider checks against the other providers of ``period_dir`` when
    it is given."""
    from kpitools.audit import audit_single_provider  # heavy; only when not loading a saved one
    from kpitools.kpis.trends import TREND_MONTHS
    from kpitools.worklists.followup import RegisterTrail

    key = load_key(params.pseudonym_key_file or None, out_dir=params.out_dir)
    return audit_single_provider(
        Path(params.provider_dir),
        as_of=params.resolved_as_of,
        rules=params.rules_object(),
        period=params.resolved_period,
        previous_dir=Path(params.previous_dir) if params.previous_dir else None,
        period_dir=params.period_dir or None,
        trend_months=TREND_MONTHS,
        register=RegisterTrail(
            Path(params.out_dir),
            key,
            reply=Path(params.evidence_reply)
            if params.evidence_reply
            else layout.evidence_reply(params.provider_dir),
        ),
    )


@dataclass(frozen=True)
class PackContext:
    """One provider's audit with the params it was run with and its privacy view.

    Every table goes out through the identity rule (:mod:`kpitools.privacy.naming`): the pack
    (``circulated``) shows pseudonyms and source rows, the register and CSVs
    (``working``) the provider's refs and the pseudonyms.

    Attributes:
        audit: everything computed for the provider.
        params: the run's parameters.
        pseudonymiser: keyed pseudonyms for this provider's learners.
        charts: the pack's charts drawn before the notebook ran, by name
            (:func:`kpitools.present.plots.chart`); empty: the notebook draws them.
    """

    audit: ProviderAudit
    params: PackParams
    pseudonymiser: Pseudonymiser
    charts: dict[str, str] = field(default_factory=dict)

    @property
    def include_pii(self) -> bool:
        return self.params.include_pii

    @cached_property
    def followup(self) -> FollowUp | None:
        """The register's follow-up computed with the audit, the ``entity`` and
        ``related`` of every row kpitools made (found this month, or carried from a
        register read back: rebuilt as found,
        :func:`~kpitools.worklists.followup.found_entity`,
        :func:`~kpitools.worklists.followup.found_related`) named by this run's rule for
        the register, so that no name or ULN of an include_pii register is carried into
        a default one; a row added by hand keeps what the auditor typed. None for an
        audit computed without its register
        (:class:`kpitools.worklists.followup.RegisterTrail`)."""
        followup = self.audit.followup
        if followup is None:
            return None
        return replace(
            followup,
            exceptions=self._named(followup.exceptions),
            resolved=self._named(followup.resolved),
        )

    def _named(self, frame: pd.DataFrame) -> pd.DataFrame:
        if "entity" not in frame.columns or frame.empty:
            return frame
        made = frame["exception_id"].map(lambda eid: str(eid).startswith(EXCEPTION_ID_PREFIX))
        named = frame["entity"].where(~made, frame["entity"].map(self.working.entity))
        related = frame["related"].where(~made, frame["related"].map(self.working.related))
        return frame.assign(entity=named, related=related)

    @property
    def trends(self) -> Trends | None:
        """The KPI figures month by month, computed with the audit (None for an audit
        computed without them)."""
        return self.audit.trends

    @cached_property
    def naming(self) -> LearnerNaming:
        """How the pack and the index name learners."""
        return self._naming(CIRCULATED)

    @cached_property
    def working(self) -> LearnerNaming:
        """How the register, the CSVs and the worklists name learners."""
        return self._naming(WORKING)

    def _naming(self, audience: Audience) -> LearnerNaming:
        return learner_naming(
            self.audit.provider.tables,
            self.pseudonymiser,
            audience=audience,
            include_pii=self.include_pii,
        )

    def _for(self, audience: Audience) -> LearnerNaming:
        return self.working if audience == WORKING else self.naming

    def show_frame(self, frame: pd.DataFrame, audience: Audience = CIRCULATED) -> pd.DataFrame:
        """Any table as the given output may show it (a new frame)."""
        return self._for(audience).frame(frame)

    def findings(
        self,
        kpi: str | None = None,
        *,
        rule_prefix: str | None = None,
        audience: Audience = CIRCULATED,
    ) -> pd.DataFrame:
        """The register rows (``exceptions.csv`` columns), optionally filtered, with the
        ``entity`` named as the given output may show it; the pack leaves out ``related``
        (another provider's learner: its message names that provider and row)."""
        frame = self.audit.exceptions_frame()
        if audience == CIRCULATED:
            frame = frame.drop(columns=["related"])
        if kpi is not None:
            frame = frame[frame["kpi"] == kpi]
        if rule_prefix is not None:
            frame = frame[frame["rule"].astype(str).str.startswith(rule_prefix)]
        return self.show_frame(frame.reset_index(drop=True), audience)

    def rejected(self, audience: Audience = CIRCULATED) -> pd.DataFrame:
        """Rejected rows with reasons, values shown as the given output may show them."""
        return self._for(audience).rejected(self.audit.provider.rejected)

    def informational(self, audience: Audience = CIRCULATED) -> pd.DataFrame:
        """Cases reported for information, not flagged (career progression without a
        target: due completers without any outcome), as the given output may show them."""
        frame = findings_frame(self.audit.informational(), self.audit.provider_id)
        shown = frame.drop(columns=["provider_id", "severity", "related"])
        return self.show_frame(shown, audience)

    def members(self, result: KpiResult, audience: Audience = CIRCULATED) -> pd.DataFrame:
        """The members of one figure (:func:`kpitools.kpis.members.kpi_members`) as the
        given output may show them: in the pack a learner is its pseudonym (its rows are
        in ``source`` beside it), in the register its ref and pseudonym."""
        # kpitools.kpis loads every KPI: only a pack with a figure off course needs it
        from kpitools.kpis.members import members_of, shown_members

        naming = self._for(audience)
        if audience == CIRCULATED:
            naming = replace(naming, sources={})  # the rows are the source column
        return shown_members(members_of([result], self.audit.provider_id), naming.entity)

    def worklists(self, audience: Audience = CIRCULATED) -> dict[str, pd.DataFrame]:
        """Every worklist the checks produced, as the given output may show it."""
        return {
            name: self.show_frame(frame, audience) for name, frame in self.audit.worklists.items()
        }


def context_from_audit(
    audit: ProviderAudit, params: PackParams, charts: dict[str, str] | None = None
) -> PackContext:
    """A context for an audit already in memory (registers, tests), with its charts
    when they are drawn already."""
    key = load_key(params.pseudonym_key_file or None, out_dir=params.out_dir)
    return PackContext(audit, params, Pseudonymiser(key, audit.provider_id), charts or {})


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
        return context_from_audit(
            load_audit(params.audit_path), params, load_charts(params.audit_path)
        )
    log.info("no saved audit given: computing %s", params.provider_dir)
    return context_from_audit(compute_audit(params), params)
