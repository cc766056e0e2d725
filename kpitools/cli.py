"""The ``kpitools`` command: argument parsing only; every command calls the package.

Any :class:`~kpitools.errors.KpiToolsError` becomes one line on stderr and exit code 2;
no traceback is shown for bad input.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from kpitools import __version__
from kpitools.errors import KpiToolsError, ParameterError
from kpitools.text import TERMINAL_CONTROLS, visible_text


def terminal_text(text: object) -> str:
    """``text`` with every control character but tab and newline escaped (``\\x1b``):
    a provider's data (an ANSI escape in an id, a carriage return, a bidi override)
    must not rewrite what the terminal shows (:data:`kpitools.text.TERMINAL_CONTROLS`)."""
    return visible_text(str(text), TERMINAL_CONTROLS)


def echo(message: object = "", *, err: bool = False, nl: bool = True) -> None:
    """``click.echo`` of :func:`terminal_text`: the only way this module prints."""
    click.echo(terminal_text(message), err=err, nl=nl)


class _TerminalFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return terminal_text(super().format(record))


def friendly_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn KpiToolsError into one line on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except KpiToolsError as error:
            echo(f"error: {error.one_line()}", err=True)
            sys.exit(2)

    return wrapper


@click.group()
@click.version_option(__version__, prog_name="kpitools")
@click.option("-v", "--verbose", is_flag=True, help="Log progress details to stderr.")
@click.option(
    "--memory-limit",
    "memory_limit",
    type=click.FloatRange(0),
    default=None,
    metavar="MB",
    help="Refuse, before loading, a provider whose audit is estimated to need more "
    "memory than MB (0: no limit; default: 80% of the memory available, or "
    "$KPITOOLS_MEMORY_LIMIT_MB).",
)
def main(verbose: bool, memory_limit: float | None) -> None:
    """Audit the KPIs of Skills Bootcamps from providers' monthly returns."""
    from kpitools.io.workers import skip_unused_imports

    skip_unused_imports()
    if memory_limit is not None:
        from kpitools.io.memory import LIMIT_ENV

        # through the environment, so worker processes and pack kernels apply it too
        os.environ[LIMIT_ENV] = f"{memory_limit:g}"
    handler = logging.StreamHandler()
    handler.setFormatter(_TerminalFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler])


# Commands are added below, one section each (validate, demo, kpis, rules, pack, packs,
# sample, ilr ...). Keep each a thin call into the package.


# --- validate (strict loading and row validation) -------------------------------------


@main.command()
@click.argument("provider_dirs", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option(
    "--include-pii",
    is_flag=True,
    help="Show rejected values that could be personal data (names, ULNs, contact "
    "details, every value of a misaligned row); withheld by default.",
)
@friendly_errors
def validate(provider_dirs: tuple[str, ...], include_pii: bool) -> None:
    """Read and validate provider folders; list every rejected row with its reasons.

    Exit status: 0 when every row was accepted, 1 when rows were rejected, 2 when a file
    could not be read (that provider stops; the others go on).
    """
    from kpitools.errors import FileLevelError
    from kpitools.load import load_provider
    from kpitools.privacy.naming import WITHHELD, withheld_values
    from kpitools.returns.validate import reconciliation_lines, rejection_message

    status = 0
    for provider_dir in provider_dirs:
        try:
            provider = load_provider(provider_dir)
        except FileLevelError as error:
            echo(f"error: {error.one_line()}", err=True)
            status = 2
            continue
        echo(f"{provider.provider_id} ({provider_dir})")
        for line in reconciliation_lines(provider.counts):
            echo(f"  {line}")
        for warning in provider.warnings:
            echo(f"  warning: {warning}")
        withheld = withheld_values(provider.rejected) & (not include_pii)
        for entry, hide in zip(provider.rejected.itertuples(index=False), withheld, strict=True):
            message = rejection_message(
                entry.source,
                entry.column,
                WITHHELD if hide else entry.value,
                entry.reason,
                entry.rule,
            )
            echo(f"  {message}")
        if len(provider.rejected) and status == 0:
            status = 1
    sys.exit(status)


# --- pack, packs, params: audit packs (kpitools.run) ------------------------------------


def _date_option(value: str | None) -> Any:
    from kpitools.calendar import parse_date

    return parse_date(value, name="--as-of") if value else None


_NOTEBOOKS_HELP = (
    "Folder of provider_pack.ipynb and portfolio.ipynb (default: the checkout's "
    "notebooks/, or $KPITOOLS_NOTEBOOKS); needed with a non-editable install."
)
_PDF_HELP = "Also print each pack to audit_pack.pdf (A4) with Debian's chromium, when installed."


def _pdf_report(outcomes: list[Any]) -> None:
    """Say on stderr what --pdf gave: the PDFs written, or clearly why there are none."""
    from kpitools.run.pdf import INSTALL_HINT, find_chromium

    if find_chromium() is None:
        echo(f"--pdf: chromium not found, so no PDF was written ({INSTALL_HINT})", err=True)
        return
    written = [o.pdf_path for o in outcomes if o.pdf_path]
    for outcome in outcomes:
        for note in outcome.notes:
            echo(f"--pdf: {outcome.provider_id}: {note}", err=True)
    echo(f"--pdf: {len(written)} PDF(s) written (audit_pack.pdf beside each pack)", err=True)


_PROFILE_HELP = (
    "Rule profile: dfe-2022-09 (the guidance, the default) or dfe-2025-extension; "
    "replaces the params file's profile: (rules: in it still override the profile)."
)


@main.command("pack")
@click.argument("params_file", type=click.Path(dir_okay=False))
@click.option("--profile", default=None, metavar="NAME", help=_PROFILE_HELP)
@click.option("--notebooks", default=None, type=click.Path(file_okay=False), help=_NOTEBOOKS_HELP)
@click.option("--pdf", is_flag=True, help=_PDF_HELP)
@click.option(
    "--period-dir",
    "period_dir",
    type=click.Path(file_okay=False, path_type=str),
    default=None,
    help="DATA/PERIOD: run the cross-provider checks against the other providers there "
    "(default: the params file's period_dir).",
)
@friendly_errors
def pack_command(
    params_file: str, profile: str | None, notebooks: str | None, pdf: bool, period_dir: str | None
) -> None:
    """Build one provider's audit pack from a params YAML (see `kpitools params`).

    Built into a batch's OUT/PERIOD/<provider>, it refreshes the provider's row of the
    period's index (or, when it cannot, marks the index out of date on its own page).
    Exit status: 0 when the pack was built (rejected rows are listed in it), 1 when the
    pack failed, 2 for bad input or arguments. With --pdf, whether PDFs were written
    is said on stderr and does not change it.
    """
    from kpitools.run.single import build_pack

    built = build_pack(
        params_file, notebooks=notebooks, pdf=pdf, period_dir=period_dir, profile=profile
    )
    outcome = built.outcome
    echo(f"note: {built.cross_provider}", err=True)
    if built.index:
        echo(built.index, err=True)
    if pdf:
        _pdf_report([outcome])
    if not outcome.ok:
        echo(f"error: {outcome.provider_id}: pack FAILED: {outcome.error}", err=True)
        if outcome.html_path:
            echo(f"executed notebook rendered at {outcome.html_path}", err=True)
        sys.exit(1)
    echo(outcome.html_path)


@main.command("packs")
@click.argument("period_dir", type=click.Path(file_okay=False))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False),
    help="Output root; packs go to OUT/PERIOD/<provider>.",
)
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Local worker processes.",
)
@click.option(
    "--as-of",
    "as_of",
    default=None,
    help="Measurement date YYYY-MM-DD (default: the period's last day).",
)
@click.option(
    "--include-pii",
    is_flag=True,
    default=None,
    help="Show names, ULNs and contact details (off by default).",
)
@click.option(
    "--params",
    "params_file",
    default=None,
    type=click.Path(dir_okay=False),
    help="Common params YAML: profile, rules, include_pii, as_of, pseudonym_key_file.",
)
@click.option("--profile", default=None, metavar="NAME", help=_PROFILE_HELP)
@click.option(
    "--scheduler",
    default=None,
    help="Dask scheduler address (tcp://host:8786): run the packs on that cluster.",
)
@click.option(
    "--no-progress", is_flag=True, help="Hide the progress bar (shown only on a terminal)."
)
@click.option(
    "--cell-timeout",
    default=600,
    show_default=True,
    type=click.IntRange(1),
    help="Seconds any notebook cell may run.",
)
@click.option("--notebooks", default=None, type=click.Path(file_okay=False), help=_NOTEBOOKS_HELP)
@click.option("--pdf", is_flag=True, help=_PDF_HELP)
@friendly_errors
def packs_command(
    period_dir: str,
    out: str,
    workers: int,
    as_of: str | None,
    include_pii: bool | None,
    params_file: str | None,
    profile: str | None,
    scheduler: str | None,
    no_progress: bool,
    cell_timeout: int,
    notebooks: str | None,
    pdf: bool,
) -> None:
    """Audit every provider of DATA/PERIOD once, build each pack and the index page.

    Exit status: 0 when every pack was built (rejected rows are listed in each pack),
    1 when any provider failed (the others are still built and the index lists the
    failures), 2 for bad arguments.
    """
    from pathlib import Path

    from kpitools.calendar import as_of_outside
    from kpitools.run.batch import build_packs
    from kpitools.run.single import batch_base

    if scheduler and importlib.util.find_spec("distributed") is None:
        raise ParameterError("--scheduler needs Dask: pip install 'kpitools[dask]'")
    base = batch_base(params_file, include_pii=True if include_pii else None, profile=profile)
    measured = _date_option(as_of) or base.as_of
    outside = measured and as_of_outside(measured, Path(period_dir).name)
    if outside:
        echo(f"warning: {outside}", err=True)
    result = build_packs(
        period_dir,
        out,
        base=base,
        as_of=measured,
        workers=workers,
        scheduler=scheduler,
        progress=not no_progress,
        cell_timeout=cell_timeout,
        notebooks=notebooks,
        pdf=pdf,
        command_line=_command_line(),
    )
    if pdf:
        _pdf_report([o for _, o in sorted(result.outcomes.items())])
    for provider_id in result.failed:
        reason = result.failures.get(provider_id) or result.outcomes[provider_id].error
        echo(f"FAILED {provider_id}: {reason}", err=True)
    for name, reason in result.skipped.items():
        echo(f"SKIPPED {name!r}: {reason}", err=True)
    for name, reason in result.stale.items():
        echo(f"STALE {name}: {reason}", err=True)
    if result.index is None or not result.index.ok:
        echo(f"error: index page FAILED: {result.index.error if result.index else ''}", err=True)
    built = sum(o.ok for o in result.outcomes.values())
    others = "".join(
        f", {len(found)} {word}"
        for word, found in (("skipped", result.skipped), ("stale", result.stale))
        if found
    )
    index = result.index.html_path if result.index is not None and result.index.ok else None
    ending = " Open:" if index else " No index page was written."
    echo(f"{built} packs built, {len(result.failed)} failed{others}.{ending}", err=True)
    if index:
        echo(index)
    sys.exit(0 if result.ok else 1)


def _command_line() -> list[str]:
    """The running command's arguments as given to it (for the audit store's record):
    the arguments, then each option set, from click's context."""
    context = click.get_current_context()
    arguments: list[str] = []
    for parameter in context.command.params:
        value = context.params.get(parameter.name or "")
        if value is None or value is False or value == ():
            continue
        if isinstance(parameter, click.Argument):
            arguments += [str(v) for v in value] if isinstance(value, tuple) else [str(value)]
        elif value is True:
            arguments.append(parameter.opts[0])
        else:
            arguments += [parameter.opts[0], str(value)]
    return arguments


@main.command("params")
@click.argument("period_dir", type=click.Path(file_okay=False))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder for the YAML files, e.g. params/demo/2023-03.",
)
@click.option(
    "--packs-out", default="out", show_default=True, help="Output root written into each file."
)
@click.option(
    "--as-of",
    "as_of",
    default=None,
    help="Measurement date YYYY-MM-DD (default: blank = period end).",
)
@click.option("--include-pii", is_flag=True, help="Write include_pii: true.")
@click.option(
    "--profile",
    default=None,
    metavar="NAME",
    help="Write profile: NAME into each file (dfe-2022-09, the default, or dfe-2025-extension).",
)
@friendly_errors
def params_command(
    period_dir: str,
    out: str,
    packs_out: str,
    as_of: str | None,
    include_pii: bool,
    profile: str | None,
) -> None:
    """Write one params YAML per provider of DATA/PERIOD, for `kpitools pack`.

    Exit status: 0 when every file was written, 2 for bad input or arguments.
    """
    from kpitools.run.single import write_period_params

    for path in write_period_params(
        period_dir,
        out,
        packs_out=packs_out,
        as_of=_date_option(as_of),
        include_pii=include_pii,
        profile=profile or "",
    ):
        echo(path)


# --- log, history: the audit store (kpitools.store) -------------------------------------


@main.command("log")
@click.argument("out", type=click.Path(file_okay=False))
@friendly_errors
def log_command(out: str) -> None:
    """Print the run log of the output root OUT, newest first.

    One line a run: when (UTC), who and where, the command and period, the providers
    built and failed, the exit status (or unfinished: killed, or still running), the
    pseudonym key's fingerprint, and the inputs (return and ILR files, registers read
    back) changed since the previous run of that period. Read from OUT/kpitools.duckdb.
    Exit status: 0, or 2 when OUT has no audit store.
    """
    from kpitools.store.connection import read_store
    from kpitools.store.queries import run_log
    from kpitools.store.text import log_lines

    with read_store(out) as con:
        entries = run_log(con)
    for line in log_lines(entries):
        echo(line)


@main.command("history")
@click.argument("out", type=click.Path(file_okay=False))
@click.argument("exception_id")
@friendly_errors
def history_command(out: str, exception_id: str) -> None:
    """Print one exception's life month by month, from the audit store of OUT.

    For each period: the exception's change and status and the working columns set in
    that period's register (as its latest run wrote it), then each value an auditor
    changed in that register, who saved it and when (the workbook's lastModifiedBy and
    modified time) and the run that read it back. Exit status: 0, or 2 when OUT has no
    audit store or the store has never seen the id.
    """
    from kpitools.store.connection import read_store
    from kpitools.store.queries import exception_history
    from kpitools.store.text import history_lines

    with read_store(out) as con:
        history = exception_history(con, exception_id.strip())
    if history is None:
        raise ParameterError(
            f"{exception_id.strip()} is in no register on record in {out}/kpitools.duckdb"
        )
    for line in history_lines(history):
        echo(line)


# --- case: one learner's, employer's or exception's case file (kpitools.run.case) ------


@main.command("case")
@click.argument("out", type=click.Path(file_okay=False))
@click.argument("period")
@click.argument("provider_id")
@click.option("--learner", default=None, metavar="REF", help="The learner's ref at the provider.")
@click.option("--employer", default=None, metavar="ID", help="The employer's id at the provider.")
@click.option(
    "--exception", "exception_id", default=None, metavar="EX-…", help="An exception's id."
)
@click.option(
    "--include-pii", is_flag=True, help="Show names, ULNs and contact details (off by default)."
)
@click.option("--notebooks", default=None, type=click.Path(file_okay=False), help=_NOTEBOOKS_HELP)
@friendly_errors
def case_command(
    out: str,
    period: str,
    provider_id: str,
    learner: str | None,
    employer: str | None,
    exception_id: str | None,
    include_pii: bool,
    notebooks: str | None,
) -> None:
    """Build the case file of one learner, employer or exception of PROVIDER_ID.

    Writes OUT/PERIOD/PROVIDER_ID/cases/<case>.html (self-contained, no scripts,
    pseudonymised unless --include-pii) and <case>.xlsx beside it: the rows of every
    month's return side by side with changed values marked, the ILR record, every finding
    with its register history, and the auditor's allegation, work done and conclusion
    (read back into OUT/kpitools.duckdb before the workbook is written again). Prints the
    HTML's path last. Exit status: 0, 1 when the notebook failed (the workbook is still
    written), 2 for bad input or arguments.
    """
    from kpitools.run.case import build_case

    built = build_case(
        out,
        period,
        provider_id,
        learner=learner,
        employer=employer,
        exception=exception_id,
        include_pii=include_pii,
        notebooks=notebooks,
        arguments=_command_line(),
    )
    if built.edits:
        echo(f"{built.edits} note(s) of the case workbook read back into the audit store")
    echo(built.xlsx_path)
    if built.html_path is None:
        echo(f"error: the case notebook FAILED: {built.outcome.error}", err=True)
        sys.exit(1)
    echo(built.html_path)


# --- sample (verification worklists for the monitoring team) --------------------------


@main.command()
@click.argument("provider_dir", type=click.Path(path_type=str))
@click.option(
    "--as-of",
    "as_of",
    default=None,
    help="Measurement date YYYY-MM-DD (default: the last day of the period "
    "folder, DATA/<YYYY-MM>/<provider>).",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=str),
    help="Folder for the CSV worklists and sample_manifest.json.",
)
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Seed of the draw (default: a fresh random one, recorded in the manifest).",
)
@click.option(
    "--fraction",
    type=click.FloatRange(0, 1),
    default=0.10,
    show_default=True,
    help="Share of each population to pick.",
)
@click.option(
    "--minimum",
    type=click.IntRange(0),
    default=5,
    show_default=True,
    help="Smallest sample (all cases when the population is smaller).",
)
@click.option(
    "--include-pii", is_flag=True, help="Add contact details, learner names and ULNs for the calls."
)
@friendly_errors
def sample(
    provider_dir: str,
    as_of: str | None,
    out_dir: str,
    seed: int | None,
    fraction: float,
    minimum: int,
    include_pii: bool,
) -> None:
    """Draw reproducible verification samples (employers per stage, completers, outcomes).

    Learners appear as the provider's ref and the keyed pseudonym. Exit status: 0 when
    every row was accepted, 1 when rows were rejected (samples are drawn from the
    accepted rows; `kpitools validate` lists the others), 2 for bad input or arguments.
    """
    from pathlib import Path

    from kpitools.io.workspace import check_output_folder
    from kpitools.load import load_provider
    from kpitools.privacy.naming import WORKING, provider_naming
    from kpitools.worklists.sampling import draw_samples, measurement_date, new_seed, write_samples

    measured = measurement_date(Path(provider_dir), as_of)
    check_output_folder(out_dir, inputs=[provider_dir])
    provider = load_provider(provider_dir)
    naming = provider_naming(provider, audience=WORKING, include_pii=include_pii, out_dir=out_dir)
    chosen_seed = new_seed() if seed is None else seed
    key = provider.provider_id
    sample_set = draw_samples(
        {key: provider},
        as_of=measured,
        seeds={key: chosen_seed},
        fraction=fraction,
        minimum=minimum,
    )[key]
    for path in write_samples(sample_set, out_dir, naming):
        echo(str(path))
    for sample in sample_set.samples:
        echo(f"  {sample.name}: {sample.size} of {sample.population}")
    echo(f"seed {chosen_seed} (recorded in sample_manifest.json)")
    _exit_for_rejected(provider)


def _exit_for_rejected(provider: Any) -> None:
    """Exit 1 when rows of the return were rejected (the outputs are written)."""
    rejected = len(provider.rejected)
    if rejected:
        echo(
            f"{rejected} rejected row reason(s): see rejected_rows.csv or `kpitools validate`",
            err=True,
        )
    sys.exit(1 if rejected else 0)


# --- kpis, rules: the seven KPIs and the method statement (kpitools.kpis) -------------


@main.command("kpis")
@click.argument("provider_dir", type=click.Path(exists=True, file_okay=False, path_type=str))
@click.option(
    "--as-of",
    "as_of",
    required=True,
    help="Measurement date, YYYY-MM-DD (normally the period's last day).",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=str),
    help="Folder for kpi_results.csv, kpi_members.csv, exceptions.csv, rejected_rows.csv, manifest.json.",
)
@click.option(
    "--params",
    "params_file",
    type=click.Path(exists=True, dir_okay=False, path_type=str),
    default=None,
    help="YAML whose profile: and rules: set the rules (default: profile dfe-2022-09).",
)
@click.option("--profile", default=None, metavar="NAME", help=_PROFILE_HELP)
@click.option(
    "--period-dir",
    "period_dir",
    type=click.Path(file_okay=False, path_type=str),
    default=None,
    help="DATA/PERIOD: also run the cross-provider checks against the other providers there.",
)
@friendly_errors
def kpis_command(
    provider_dir: str,
    as_of: Any,
    out_dir: str,
    params_file: str | None,
    profile: str | None,
    period_dir: str | None,
) -> None:
    """Compute every KPI of one provider's return and write the four output files.

    Learners appear as the provider's ref and the keyed pseudonym; no names, ULNs or
    contact details. Notes (tables not supplied, no accepted learner, checks not run)
    are printed and recorded in manifest.json. Exit status: 0 when every row was
    accepted, 1 when rows were rejected (the outputs are still written;
    rejected_rows.csv lists them), 2 for bad input or arguments.
    """
    from kpitools.audit import audit_single_provider
    from kpitools.io.workspace import check_output_folder
    from kpitools.layout import previous_provider_dir
    from kpitools.outputs.results import write_provider_outputs
    from kpitools.params import rules_from_params
    from kpitools.privacy.naming import WORKING, provider_naming

    measured = _date_option(as_of)
    rules = rules_from_params(params_file, profile=profile)
    check_output_folder(out_dir, inputs=[provider_dir])
    audit = audit_single_provider(
        provider_dir,
        as_of=measured,
        rules=rules,
        previous_dir=previous_provider_dir(provider_dir),
        period_dir=period_dir,
    )
    naming = provider_naming(audit.provider, audience=WORKING, out_dir=out_dir)
    written = write_provider_outputs(audit, out_dir, naming)
    echo(
        f"{audit.provider_id} as of {audit.as_of.isoformat()}: "
        f"{len(audit.findings())} exception(s), "
        f"{len(audit.provider.rejected)} rejected row reason(s)"
    )
    for warning in audit.provider.warnings:
        echo(f"  warning: {warning}")
    for note in audit.notes:
        echo(f"  note: {note}")
    for result in audit.kpi_results:
        if result.bootcamp_id == "ALL":
            value = "-" if result.value is None else f"{result.value:.1%}"
            label = f"{result.kpi}{'/' + result.stage if result.stage else ''}"
            unverified = f", {result.unverified} unverified" if result.unverified else ""
            echo(
                f"  {label:<34} {result.numerator:>6} / {result.denominator:<6} "
                f"{value:>7}  {result.status}{unverified}"
            )
    for path in written.values():
        echo(str(path))
    _exit_for_rejected(audit.provider)


@main.command("rules")
@click.option(
    "--params",
    "params_file",
    type=click.Path(exists=True, dir_okay=False, path_type=str),
    default=None,
    help="YAML whose profile: and rules: set the rules (default: profile dfe-2022-09).",
)
@click.option("--profile", default=None, metavar="NAME", help=_PROFILE_HELP)
@friendly_errors
def rules_command(params_file: str | None, profile: str | None) -> None:
    """Print the method statement: each KPI's population, formula and rules in force.

    Exit status: 0, or 2 for a bad params file.
    """
    from kpitools.method import method_statement_text
    from kpitools.params import rules_from_params

    echo(method_statement_text(rules_from_params(params_file, profile=profile)), nl=False)


# --- demo (seeded synthetic returns with planted irregularities; kpitools.demo) --------


@main.command("demo")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder to write: <YYYY-MM>/<provider>/... and ground_truth.json.",
)
@click.option("--seed", default=2023, show_default=True, type=int, help="Random seed.")
@click.option(
    "--periods",
    default="2023-01,2023-02,2023-03",
    show_default=True,
    help="Consecutive reporting periods YYYY-MM, comma-separated, oldest first.",
)
@click.option(
    "--providers",
    default=6,
    show_default=True,
    type=int,
    help="Number of providers (the last one is kept clean), before the ILR-only one.",
)
@click.option(
    "--learners",
    default=1500,
    show_default=True,
    type=int,
    help="Number of learners over all providers.",
)
@click.option(
    "--format",
    "fmt",
    default="csv",
    show_default=True,
    type=click.Choice(["csv", "xlsx", "both"]),
    help="CSV files, one datasheet.xlsx per provider, or both (xlsx under OUT/xlsx).",
)
@click.option(
    "--national",
    is_flag=True,
    help="National size: 200 providers, 50,000 learners, about 6,000 employers "
    "(overrides --providers and --learners).",
)
@click.option(
    "--ilr-only/--no-ilr-only",
    default=True,
    show_default=True,
    help="Add one provider whose learners come only from its ILR files.",
)
@friendly_errors
def demo_command(
    out_dir: str,
    seed: int,
    periods: str,
    providers: int,
    learners: int,
    fmt: str,
    national: bool,
    ilr_only: bool,
) -> None:
    """Write realistic synthetic monthly returns, with known irregularities planted.

    Exit status: 0, or 2 for bad arguments.
    """
    from pathlib import Path

    from kpitools.demo.generator import DEFAULT_EMPLOYERS, NATIONAL, generate

    wanted = [p.strip() for p in periods.split(",") if p.strip()]
    employers = DEFAULT_EMPLOYERS
    if national:
        providers, learners = NATIONAL["providers"], NATIONAL["learners"]
        employers = NATIONAL["employers_per_provider"]
    truth = generate(
        Path(out_dir),
        seed=seed,
        periods=wanted,
        providers=providers,
        learners=learners,
        fmt=fmt,
        employers_per_provider=employers,
        ilr_only=ilr_only,
    )
    stats = truth.stats
    echo(
        f"demo data written to {out_dir}: {len(truth.providers)} providers x "
        f"{len(truth.periods)} periods ({', '.join(truth.periods)}), "
        f"{stats['learners']} learners"
    )
    echo(
        f"completion {stats['completion_rate']:.0%}, co-funded {stats['co_funded_rate']:.0%}, "
        f"positive outcome (closed windows) {stats['positive_outcome_rate_closed_windows']:.0%}"
    )
    echo(
        f"planted: {len(truth.rules())} rule ids, {len(truth.expectations)} expectations; "
        f"clean: {', '.join(truth.clean_providers)}; ground truth: "
        f"{Path(out_dir) / 'ground_truth.json'}"
    )


# --- ilr (ILR XML files: streamed, hardened reading and bootcamp mapping) --------------


@main.command("ilr")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=str))
@click.option(
    "--m1-days",
    type=click.IntRange(0),
    default=None,
    help="Days from start to M1 for ILR-only learners (rule; default 7).",
)
@click.option(
    "--params",
    "params_file",
    type=click.Path(exists=True, dir_okay=False, path_type=str),
    default=None,
    help="YAML whose rules: mapping overrides the default rules (e.g. ilr_event_indicators).",
)
@click.option(
    "--out",
    "out_dir",
    default=None,
    type=click.Path(file_okay=False, path_type=str),
    help="Write learners.csv, interviews.csv, outcomes.csv, ilr_learner_facts.csv "
    "and ilr_findings.csv here.",
)
@click.option(
    "--include-pii",
    is_flag=True,
    help="Write ULNs and names into --out's learners.csv (off by default).",
)
@click.option("--profile", default=None, metavar="NAME", help=_PROFILE_HELP)
@friendly_errors
def ilr_command(
    files: tuple[str, ...],
    m1_days: int | None,
    params_file: str | None,
    out_dir: str | None,
    include_pii: bool,
    profile: str | None,
) -> None:
    """Read one provider's ILR files; print what maps onto the contract tables and
    which of DfE's bootcamp validation rules the files break.

    Shows the learners read, those on a Skills Bootcamp and those ignored, the rows of
    learners / interviews / outcomes, every rejected learner and the DfE rule findings
    per rule. No personal data. With --out, also writes them as CSV files.
    Exit status: 0 when every bootcamp learner mapped (DfE rule findings are reported,
    they do not change it), 1 when some were rejected, 2 when a file could not be read
    (a DOCTYPE, wrong namespace, broken XML, ...).
    """
    from collections import Counter
    from dataclasses import replace

    from kpitools.ilr.mapping import tables_from_ilr_files
    from kpitools.ilr.outputs import write_ilr_outputs
    from kpitools.params import rules_from_params
    from kpitools.privacy.naming import WITHHELD, withheld_values

    rules = rules_from_params(params_file, profile=profile)
    if m1_days is not None:
        rules = replace(rules, m1_qualifying_days=m1_days)
    # one provider's files: the run's one mapping, over a mapping of one
    tables = tables_from_ilr_files({"files": files}, rules=rules)["files"]
    if isinstance(tables, KpiToolsError):
        raise tables
    for item in tables.inputs:
        echo(f"{item.path}: {item.rows} learners, sha256 {item.sha256[:16]}...")
    echo(f"UKPRN {tables.ukprn}, as known on {tables.as_known}")
    echo(
        f"learners read: {tables.learners_read} "
        f"(Skills Bootcamp: {tables.bootcamp_learners}, "
        f"other learners ignored: {tables.non_bootcamp_learners})"
    )
    count = tables.counts["learners"]
    echo(
        f"learners: {count.read} bootcamp rows = {count.accepted} mapped "
        f"+ {count.rejected} rejected"
    )
    echo(f"interviews: {len(tables.interviews)}, outcomes: {len(tables.outcomes)}")
    withheld = withheld_values(tables.rejected)
    for entry, hide in zip(tables.rejected.itertuples(index=False), withheld, strict=True):
        value = WITHHELD if hide else repr(entry.value)
        echo(f"  rejected {entry.source}: {entry.column} {value}: {entry.reason} [{entry.rule}]")
    for note in tables.notes:
        echo(f"  note: {note}")
    by_rule = Counter((f.rule, f.severity) for f in tables.findings)
    echo(f"DfE rule findings: {len(tables.findings)}")
    for (rule_id, severity), n in sorted(by_rule.items()):
        echo(f"  {rule_id} ({severity}): {n}")
    if out_dir is not None:
        for path in write_ilr_outputs(tables, out_dir, include_pii=include_pii).values():
            echo(str(path))
    sys.exit(1 if count.rejected else 0)
