"""The ``kpitools`` command: argument parsing only; every command calls the package.

Any :class:`~kpitools.errors.KpiToolsError` becomes one line on stderr and exit code 2;
no traceback is shown for bad input.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import Any

import click

from kpitools import __version__
from kpitools.errors import KpiToolsError


def friendly_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn KpiToolsError into one line on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except KpiToolsError as error:
            click.echo(f"error: {error.one_line()}", err=True)
            sys.exit(2)

    return wrapper


@click.group()
@click.version_option(__version__, prog_name="kpitools")
@click.option("-v", "--verbose", is_flag=True, help="Log progress details to stderr.")
def main(verbose: bool) -> None:
    """Audit the KPIs of Skills Bootcamps from providers' monthly returns."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


# Commands are added below, one section each (validate, demo, kpis, rules, pack, packs,
# sample, ilr ...). Keep each a thin call into the package.


# --- validate (strict loading and row validation) -------------------------------------


@main.command()
@click.argument("provider_dirs", nargs=-1, required=True, type=click.Path(path_type=str))
@friendly_errors
def validate(provider_dirs: tuple[str, ...]) -> None:
    """Read and validate provider folders; list every rejected row with its reasons.

    Exit status: 0 when every row was accepted, 1 when rows were rejected, 2 when a file
    could not be read (that provider stops; the others go on).
    """
    from kpitools.errors import FileLevelError
    from kpitools.load import load_provider
    from kpitools.validate import reconciliation_lines, rejection_message

    status = 0
    for provider_dir in provider_dirs:
        try:
            provider = load_provider(provider_dir)
        except FileLevelError as error:
            click.echo(f"error: {error.one_line()}", err=True)
            status = 2
            continue
        click.echo(f"{provider.provider_id} ({provider_dir})")
        for line in reconciliation_lines(provider.counts):
            click.echo(f"  {line}")
        for warning in provider.warnings:
            click.echo(f"  warning: {warning}")
        for entry in provider.rejected.itertuples(index=False):
            message = rejection_message(
                entry.source, entry.column, entry.value, entry.reason, entry.rule
            )
            click.echo(f"  {message}")
        if len(provider.rejected) and status == 0:
            status = 1
    sys.exit(status)
