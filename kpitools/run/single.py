"""One provider's pack from a params file, and params files for a whole period."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from kpitools import layout
from kpitools.errors import PackError, ParameterError
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
from kpitools.present.context import AUDIT_FILE, compute_audit, context_from_audit
from kpitools.run.batch import pack_job, write_provider_files
from kpitools.run.index import PACK_FILE
from kpitools.run.recording import BUILT, FAILED, recorded_run
from kpitools.run.runner import PROVIDER_NOTEBOOK, PackOutcome, notebook_path, run_pack_job
from kpitools.store.keys import check_run_key

log = logging.getLogger(__name__)

# Files that mark a folder as a pack's (or a failed provider's) set of outputs.
_OUR_FILES = (MANIFEST_FILE, ERROR_FILE, PACK_FILE)
# Keys a batch fills in per provider: a common params file may leave them out.
_PER_PROVIDER = ("provider_dir", "out_dir", "period", "previous_dir", "audit_path")


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


def build_pack(
    params_file: str | Path,
    *,
    notebooks: str | Path | None = None,
    pdf: bool = False,
    profile: str | None = None,
) -> PackOutcome:
    """``kpitools pack PARAMS.yaml``: audit one provider, write its files, run its pack.

    The audit is computed once here (without cross-provider checks, which need the
    whole period) and saved for the notebook, as in a batch.

    Args:
        params_file: the provider's params YAML.
        notebooks: the folder of the notebooks (default: see
            :func:`~kpitools.run.runner.notebook_path`).
        pdf: also print ``audit_pack.pdf`` when Chromium is installed.
        profile: the rule profile (``--profile``); replaces the file's when given.

    Raises:
        ParameterError: the params file does not fit the schema, or an unknown profile.
        PackError: the provider notebook cannot be found.
        KpiToolsError: the provider's return cannot be read.
    """
    params = load_params(params_file)
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
            arguments=[str(params_file)],
            period=out_dir.parent.name,
            key_fingerprint=fingerprint,
            rules=params.rules_object(),
        )
        if in_layout
        else contextlib.nullcontext()
    )
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
        if record is not None:
            record.results({ctx.audit.provider_id: ctx})
            outcome_text = (BUILT, "") if outcome.ok else (FAILED, outcome.error or "")
            record.finish(0 if outcome.ok else 1, {ctx.audit.provider_id: outcome_text})
    return replace(
        outcome,
        html_path=moved_path(outcome.html_path, staging, out_dir),
        executed_path=moved_path(outcome.executed_path, staging, out_dir),
        pdf_path=moved_path(outcome.pdf_path, staging, out_dir),
    )


def write_period_params(
    period_dir: str | Path,
    params_dir: str | Path,
    *,
    packs_out: str | Path = "out",
    as_of: date | None = None,
    include_pii: bool = False,
) -> list[Path]:
    """``kpitools params``: one params YAML per provider folder of a period.

    Args:
        period_dir: ``DATA/PERIOD``.
        params_dir: where the YAML files go (``params/<name>/PERIOD``).
        packs_out: output root written into each file (``OUT/PERIOD/<provider>``).
        as_of: the measurement date to write, or None for the period end.
        include_pii: written into each file.

    Raises:
        PackError: the period folder does not exist or holds no provider folder.
    """
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
            include_pii=include_pii,
        )
        written.append(write_params(params, Path(params_dir) / f"{provider.name}.yaml"))
    return written
