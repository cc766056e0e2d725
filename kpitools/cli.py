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
