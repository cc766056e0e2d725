"""Named rule profiles: the set of thresholds a funder judges by, shipped as data.

A profile is a YAML file beside this module, ``<name>.yaml``::

    profile: dfe-2025-extension      # its name, the file's name
    title: DfE contract extensions, 2025
    rules: {dropout_limit: 0.15, completion_target: 0.80, starts_target: 0.50}

Its ``rules`` override the defaults of :class:`kpitools.rules.Rules` (which are the
profile ``dfe-2022-09``, the guidance); a params file names a profile (``profile:``,
or ``--profile`` on the command line) and may override any rule of it under
``rules:`` (:func:`rules_for`). The profile in force is ``Rules.profile``: the method
statement, every manifest and the index name it.

Profiles are read by the one params YAML reader (:func:`kpitools.io.params_file.
load_yaml_text`), so they obey what params files obey.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any

from kpitools.errors import ParameterError
from kpitools.io.params_file import load_yaml_text
from kpitools.rules import DEFAULT_PROFILE, Rules

_SUFFIX = ".yaml"
_KEYS = ("profile", "title", "rules")


@dataclass(frozen=True)
class Profile:
    """One shipped rule profile: its name, a title for people and its rules."""

    name: str
    title: str
    rules: Rules


def profile_names() -> tuple[str, ...]:
    """The shipped profiles' names, sorted (the ``*.yaml`` files of this package)."""
    folder = resources.files(__name__)
    return tuple(
        sorted(
            entry.name.removesuffix(_SUFFIX)
            for entry in folder.iterdir()
            if entry.name.endswith(_SUFFIX)
        )
    )


@cache
def load_profile(name: str) -> Profile:
    """The shipped profile ``name``.

    Raises:
        ParameterError: no such profile (one line naming the known ones), or a profile
            file that does not fit (a packaging error, said as such).
    """
    if name not in profile_names():
        raise ParameterError(
            f"unknown rule profile {name!r}; known profiles: {', '.join(profile_names())}"
        )
    where = f"kpitools/profiles/{name}{_SUFFIX}"
    raw = load_yaml_text(
        resources.files(__name__).joinpath(name + _SUFFIX).read_text("utf-8"), where=where
    )
    if not isinstance(raw, dict) or sorted(raw) != sorted(_KEYS) or raw["profile"] != name:
        raise ParameterError(
            f"a profile holds exactly {', '.join(_KEYS)} with profile: {name}", path=where
        )
    try:
        rules = Rules.from_mapping(raw["rules"] or {})
    except ParameterError as error:
        raise ParameterError(f"rules: {error.message}", path=where) from None
    return Profile(name=name, title=str(raw["title"]), rules=replace(rules, profile=name))


def rules_for(profile: str | None, overrides: Mapping[str, Any] | None = None) -> Rules:
    """The rules in force: profile ``profile`` (blank or None: the default,
    ``dfe-2022-09``) with ``overrides`` (a params file's ``rules:``) applied.

    Raises:
        ParameterError: an unknown profile, an unknown rule or a bad value.
    """
    base = load_profile(profile or DEFAULT_PROFILE).rules
    return Rules.from_mapping(dict(overrides) if overrides else None, base=base)
