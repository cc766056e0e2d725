"""One provider's pack from a params file, and params files for a whole period."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kpitools import layout
from kpitools.audit import SINGLE_PROVIDER_NOTE
from kpitools.errors import PackError, ParameterError, StoreError
from kpitools.io.params_file import read_params_file
from kpitools.io.workspace import (
    check_output_folder,
    moved_path,
    private_folder,
    replace_folder,
    run_lock,
    staging_folder,
)
from kpitools.outputs.register import keep_replaced_register
from kpitools.outputs.results import ERROR_FILE, MANIFEST_FILE
from kpitools.params import (
    PackParams,
    load_params,
    params_from_mapping,
    write_params,
)
from kpitools.present.context import AUDIT_FILE, PackContext, compute_audit, context_from_audit
from kpitools.present.portfolio import load_summary
from kpitools.profiles import rules_for
from kpitools.run.batch import (
    earlier_kpis,
    index_job,
    pack_job,
    write_provider_files,
    write_stale_index,
)
from kpitools.run.index import PACK_FILE, SUMMARY_FILE, with_rebuilt_provider, write_summary
from kpitools.run.recording import BUILT, FAILED, recorded_run
from kpitools.run.runner import (
    PORTFOLIO_NOTEBOOK,
    PROVIDER_NOTEBOOK,
    PackOutcome,
    notebook_path,
    run_pack_job,
)
from kpitools.store.keys import check_run_key

if TYPE_CHECKING:
    from kpitools.run.kernel import WarmKernel

log = logging.getLogger(__name__)

# Files that mark a folder as a pack's (or a failed provider's) set of outputs.
_OUR_FILES = (MANIFEST_FILE, ERROR_FILE, PACK_FILE)
# Keys a batch fills in per provider: a common params file may leave them out.
_PER_PROVIDER = (
    "provider_dir",
    "out_dir",
    "period",
    "previous_dir",
    "period_dir",
    "audit_path",
    "evidence_reply",
)


def batch_base(
    params_file: str | Path | None = None,
    *,
    include_pii: bool | None = None,
    pseudonym_key_file: str | None = None,
    profile: str | None = None,
) -> PackParams:
    """The settings every provider of a batch shares.

    Args:
        params_file: an optional params YAML: its ``profile``, ``rules``,
            ``include_pii``, ``as_of`` and ``pseudonym_key_file`` apply to every
            provider; per-provider keys in it (``provider_dir``, ``out_dir``, ...) are
            refused to avoid surprises.
        include_pii: overrides the file's value when given.
        pseudonym_key_file: overrides the file's value when given.
        profile: the rule profile (``--profile``); overrides the file's when given.

    Raises:
        ParameterError: the file does not fit the schema.
    """
    raw: dict[str, Any] = {}
    where = ""
    if params_file:
        where = str(params_file)
        loaded = read_params_file(params_file)
        if not isinstance(loaded, dict):
            raise ParameterError("a params file must be a mapping of name: value", path=where)
        given = sorted(k for k in _PER_PROVIDER if loaded.get(k))
        if given:
            raise ParameterError(
                f"{', '.join(given)} are set per provider by `kpitools packs`; remove them",
                path=where,
            )
        raw = dict(loaded)
    raw.update(provider_dir="-", out_dir="-")
    if include_pii is not None:
        raw["include_pii"] = include_pii
    if pseudonym_key_file:
        raw["pseudonym_key_file"] = pseudonym_key_file
    if profile:
        raw["profile"] = profile
    base = params_from_mapping(raw, where=where)
    return replace(base, provider_dir="", out_dir="")


@dataclass(frozen=True)
class BuiltPack:
    """What ``kpitools pack`` did.

    Attributes:
        outcome: the pack's outcome, its paths in the provider's output folder.
        cross_provider: the audit's note on the cross-provider checks (run against the
            other providers of ``period_dir``, or not run).
        index: what became of the period's index when the pack went into a batch's
            ``OUT/PERIOD/<provider>``: "" (no index there), the index refreshed, or why
            it was marked out of date instead (:func:`refresh_index`).
    """

    outcome: PackOutcome
    cross_provider: str
    index: str = ""


def build_pack(
    params_file: str | Path,
    *,
    notebooks: str | Path | None = None,
    pdf: bool = False,
    period_dir: str | Path | None = None,
    profile: str | None = None,
) -> BuiltPack:
    """``kpitools pack PARAMS.yaml``: audit one provider, write its files, run its pack.

    The audit is computed once here and saved for the notebook, as in a batch; with a
    ``period_dir`` (the params' or the argument's) the cross-provider checks run against
    the other providers there. A pack built into a batch's ``OUT/PERIOD/<provider>``
    refreshes that provider's row of the period's index (:func:`refresh_index`).

    Args:
        params_file: the provider's params YAML.
        notebooks: the folder of the notebooks (default: see
            :func:`~kpitools.run.runner.notebook_path`).
        pdf: also print ``audit_pack.pdf`` when Chromium is installed.
        period_dir: ``DATA/PERIOD``, in place of the params' ``period_dir``.
        profile: the rule profile (``--profile``); replaces the file's when given.

    Raises:
        ParameterError: the params file does not fit the schema, ``period_dir``
            contradicts it (:func:`kpitools.params.check_folders`), or an unknown
            profile.
        PackError: the provider notebook cannot be found.
        KpiToolsError: the provider's return cannot be read.
    """
    params = load_params(params_file)
    if period_dir is not None:
        raw = {**params.notebook_parameters(), "period_dir": str(period_dir)}
        params = params_from_mapping(raw, where=f"{params_file} with --period-dir")
    if profile:
        params = replace(params, profile=profile)
        params.rules_object()  # an unknown profile is refused before any work
    notebook = notebook_path(PROVIDER_NOTEBOOK.name, notebooks)
    provider_dir = Path(params.provider_dir).resolve()
    if not provider_dir.is_dir():
        raise PackError("provider folder not found", path=params.provider_dir)
    out_dir = check_output_folder(params.out_dir, inputs=[provider_dir])
    if any(out_dir.iterdir()) and not any((out_dir / name).exists() for name in _OUR_FILES):
        raise PackError(
            "the output folder holds files that are not a pack's; give an empty folder "
            "or the folder of an earlier pack (it is replaced whole)",
            path=params.out_dir,
        )
    in_layout = layout.is_period_name(out_dir.parent.name)  # OUT/PERIOD/<provider>
    period_out = out_dir.parent if in_layout else out_dir
    # in OUT/PERIOD/<provider>: checked against the audit store of OUT, and on record in it
    _, fingerprint = check_run_key(
        params.pseudonym_key_file or None, out_root=period_out.parent if in_layout else out_dir
    )
    from kpitools.run.kernel import PRELOAD_CHARTS, WarmKernel

    recording = (
        recorded_run(
            period_out.parent,
            command="pack",
            arguments=[
                str(params_file),
                *(["--period-dir", str(period_dir)] if period_dir else []),
            ],
            period=out_dir.parent.name,
            key_fingerprint=fingerprint,
            rules=params.rules_object(),
        )
        if in_layout
        else contextlib.nullcontext()
    )
    index = ""
    with (
        run_lock(period_out),
        recording as record,
        private_folder() as work_dir,
        WarmKernel() as kernel,
    ):
        # the pack's kernel starts, and imports what the notebook imports, while the
        # audit is computed; the notebook then runs in it (papermill's warm engine)
        kernel.launch(preload=PRELOAD_CHARTS)
        params = replace(
            params,
            provider_dir=str(provider_dir),
            out_dir=str(out_dir),
            previous_dir=str(Path(params.previous_dir).resolve()) if params.previous_dir else "",
            period_dir=str(Path(params.period_dir).resolve()) if params.period_dir else "",
            audit_path=str(work_dir / AUDIT_FILE),
        )
        from kpitools.run.pdf import find_chromium

        ctx = context_from_audit(compute_audit(params), params)
        if record is not None:  # before the provider's outputs are replaced
            record.reads({ctx.audit.provider_id: ctx})
        staging = staging_folder(out_dir)
        write_provider_files(ctx, staging)
        title = f"Audit pack {ctx.audit.provider_id} {params.resolved_period}"
        outcome = run_pack_job(
            pack_job(
                params,
                title,
                notebook=notebook,
                out_dir=staging,
                pdf=pdf and find_chromium() is not None,
            ),
            kernel,
        )
        keep_replaced_register(out_dir, staging)
        replace_folder(staging, out_dir)
        outcome = replace(
            outcome,
            html_path=moved_path(outcome.html_path, staging, out_dir),
            executed_path=moved_path(outcome.executed_path, staging, out_dir),
            pdf_path=moved_path(outcome.pdf_path, staging, out_dir),
        )
        cross_provider = next(
            (n for n in ctx.audit.notes if n.startswith("cross-provider checks")), ""
        )
        if in_layout:
            index = refresh_index(period_out, ctx, outcome, kernel=kernel, notebooks=notebooks)
        if record is not None:
            record.results({ctx.audit.provider_id: ctx})
            outcome_text = (BUILT, "") if outcome.ok else (FAILED, outcome.error or "")
            record.finish(0 if outcome.ok else 1, {ctx.audit.provider_id: outcome_text})
    return BuiltPack(outcome, cross_provider, index)


def refresh_index(
    period_out: Path,
    ctx: PackContext,
    outcome: PackOutcome,
    *,
    kernel: WarmKernel | None = None,
    notebooks: str | Path | None = None,
) -> str:
    """After one provider was rebuilt alone into ``OUT/PERIOD/<provider>``: its row of
    the period's index replaced by the new build's and ``index.html`` rendered again
    (:func:`kpitools.run.index.with_rebuilt_provider`), so that the index never shows
    the figures of a pack that is no longer there. Where that cannot be done (an index
    without its data, a portfolio notebook that fails) the index is replaced by a page
    of its own saying it is out of date and why
    (:func:`kpitools.run.batch.write_stale_index`).

    Returns:
        "" when the period has no index; else what was done, in one line.
    """
    summary_path = period_out / SUMMARY_FILE
    period = period_out.name
    provider_id = ctx.audit.provider_id
    if not summary_path.is_file():
        if not (period_out / "index.html").is_file():
            return ""
        return _stale(period_out, provider_id, "the index's data (.portfolio.json) is missing")
    rebuilt_at = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        summary = with_rebuilt_provider(
            load_summary(summary_path),
            ctx,
            outcome,
            period_out=period_out,
            rebuilt_at=rebuilt_at,
            cross_provider=SINGLE_PROVIDER_NOTE not in ctx.audit.notes,
            history=earlier_kpis(period_out.parent, period),
        )
        write_summary(summary, summary_path)
        job = index_job(period_out, period, notebook_path(PORTFOLIO_NOTEBOOK.name, notebooks))
    except (OSError, ValueError, KeyError, TypeError, PackError, StoreError) as error:
        return _stale(period_out, provider_id, f"its data could not be updated ({error})")
    rendered = run_pack_job(job, kernel)
    if not rendered.ok:
        return _stale(period_out, provider_id, f"it could not be rendered ({rendered.error})")
    return f"index {period_out / 'index.html'}: the row of {provider_id} refreshed"


def _stale(period_out: Path, provider_id: str, why: str) -> str:
    """Mark the period's index out of date after ``provider_id`` was rebuilt alone."""
    text = (
        f"{provider_id} was rebuilt alone by kpitools pack after this index was written, "
        f"and the index could not be refreshed: {why}. Its row would show the pack that "
        f"was replaced. Run kpitools packs for {period_out.name} again to rebuild the index."
    )
    write_stale_index(period_out, period_out.name, text)
    return f"index {period_out / 'index.html'} marked out of date: {why}"


def write_period_params(
    period_dir: str | Path,
    params_dir: str | Path,
    *,
    packs_out: str | Path = "out",
    as_of: date | None = None,
    include_pii: bool = False,
    profile: str = "",
) -> list[Path]:
    """``kpitools params``: one params YAML per provider folder of a period.

    Args:
        period_dir: ``DATA/PERIOD``.
        params_dir: where the YAML files go (``params/<name>/PERIOD``).
        packs_out: output root written into each file (``OUT/PERIOD/<provider>``).
        as_of: the measurement date to write, or None for the period end.
        include_pii: written into each file.
        profile: the rule profile written into each file (blank: the default).

    Raises:
        PackError: the period folder does not exist or holds no provider folder.
        ParameterError: ``profile`` is not a known rule profile (nothing written).
    """
    if profile:
        rules_for(profile)  # an unknown profile is refused before any file is written
    period_dir = Path(period_dir)
    if not period_dir.is_dir():
        raise PackError("period folder not found", path=period_dir)
    period = period_dir.name
    providers = layout.provider_folders(period_dir)
    for name, reason in layout.skipped_folders(period_dir).items():
        log.warning("%r: %s", name, reason)
    if not providers:
        raise PackError("no provider folder in the period folder", path=period_dir)
    written = []
    for provider in providers:
        previous = layout.previous_provider_dir(provider, period)
        params = PackParams(
            provider_dir=provider.as_posix(),
            out_dir=layout.provider_out_dir(packs_out, period, provider.name).as_posix(),
            period=period,
            as_of=as_of,
            previous_dir=previous.as_posix() if previous else "",
            period_dir=period_dir.as_posix(),
            include_pii=include_pii,
            profile=profile,
        )
        written.append(write_params(params, Path(params_dir) / f"{provider.name}.yaml"))
    return written
