"""The params schema: one YAML per pack run, checked strictly before anything runs.

A params file names one provider's return and where its pack goes::

    provider_dir: data/demo/2023-03/P001
    period: "2023-03"
    as_of: "2023-03-31"          # blank = the last day of the period
    out_dir: out/demo/2023-03/P001         # blank = derived from provider_dir
    previous_dir: data/demo/2023-02/P001   # blank = derived from provider_dir
    period_dir: data/demo/2023-03          # blank = no cross-provider checks
    include_pii: false
    profile: dfe-2022-09         # blank = dfe-2022-09 (the guidance); see kpitools.profiles
    rules: {dropout_limit: 0.2}  # optional overrides of the profile, see kpitools.rules.Rules
    audit_path: ""               # set by `kpitools packs`: the saved ProviderAudit
    pseudonym_key_file: ""       # blank = $KPITOOLS_PSEUDONYM_KEY or the default key

The YAML is read by :func:`kpitools.io.params_file.read_params_file`, which does not
resolve timestamps, so ``2023-03-31`` stays text until :func:`kpitools.calendar.parse_date`
parses it explicitly; ids and paths must be text (a bare ``202303`` is refused rather than
silently turned into a number). Unknown keys
fail. Relative paths are taken from the folder the command is run in. A blank
``previous_dir`` or ``out_dir`` is derived from ``provider_dir`` by the folder layout
(:mod:`kpitools.layout`), exactly as ``kpitools packs`` and ``kpitools kpis`` find them.
A period that contradicts the folders is refused in one line (:func:`check_folders`):
``period`` against the period folder holding ``provider_dir``, and ``out_dir`` and
``period_dir`` against the period, so that a pack is never built from one month's
return under another month's name.

The notebook's ``parameters`` cell has exactly these names (a test checks this with
``papermill.inspect_notebook``); :meth:`PackParams.notebook_parameters` gives the
plain values papermill injects.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from kpitools import layout
from kpitools.calendar import parse_date, parse_period, period_end
from kpitools.errors import ParameterError
from kpitools.io.params_file import read_params_file
from kpitools.profiles import rules_for
from kpitools.rules import Rules


@dataclass(frozen=True)
class PackParams:
    """One pack run, as validated from a params YAML or the command line.

    Attributes:
        provider_dir: the provider's folder for the period (``DATA/2023-03/P001``).
        period: the reporting period ``YYYY-MM``; blank = the name of the parent folder.
        as_of: the measurement date; None = the last day of the period.
        out_dir: where the pack and registers go (``OUT/2023-03/P001``); given blank,
            :func:`kpitools.layout.default_provider_out_dir` of ``provider_dir``.
        previous_dir: the previous month's folder of the same provider, if any; given
            blank, the folder :func:`kpitools.layout.previous_provider_dir` finds.
        period_dir: ``DATA/PERIOD`` holding the other providers of the period: the
            cross-provider checks (DUP-ULN-OVERLAP) run against them; blank = not run.
        include_pii: show names, ULNs and contact details (off by default).
        profile: the named rule profile (:mod:`kpitools.profiles`); blank = the default
            ``dfe-2022-09``.
        rules: overrides of the profile's :class:`kpitools.rules.Rules`, checked by it.
        audit_path: a saved ProviderAudit (written by a batch run); blank = compute.
        pseudonym_key_file: the HMAC key for learner pseudonyms; blank = default.
        requested_by: who asks, in the evidence request's header (blank: "the Skills
            Bootcamps KPI audit").
        reply_by: the evidence request's reply-by date; None = 14 days after as_of.
        evidence_reply: a returned evidence request to read back (blank: the provider
            folder's ``evidence_request.xlsx``, when there is one).
    """

    provider_dir: str
    out_dir: str
    period: str = ""
    as_of: date | None = None
    previous_dir: str = ""
    period_dir: str = ""
    include_pii: bool = False
    profile: str = ""
    rules: dict[str, Any] = field(default_factory=dict)
    audit_path: str = ""
    pseudonym_key_file: str = ""
    requested_by: str = ""
    reply_by: date | None = None
    evidence_reply: str = ""

    @property
    def resolved_period(self) -> str:
        """The period, or the provider folder's parent name when the period is blank."""
        return self.period or Path(self.provider_dir).resolve().parent.name

    @property
    def resolved_as_of(self) -> date:
        """``as_of``, or the last day of the period."""
        return self.as_of or period_end(self.resolved_period)

    def rules_object(self) -> Rules:
        """The rules in force (the profile's, with the overrides applied)."""
        return rules_for(self.profile, self.rules)

    def notebook_parameters(self) -> dict[str, Any]:
        """Plain values for papermill: dates as ISO text, paths as text."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["as_of"] = self.as_of.isoformat() if self.as_of else ""
        values["reply_by"] = self.reply_by.isoformat() if self.reply_by else ""
        values["rules"] = dict(self.rules)
        return values

    def to_yaml(self) -> str:
        """The YAML text of this run (dates quoted, so any YAML reader keeps them text)."""
        return yaml.safe_dump(self.notebook_parameters(), sort_keys=False, allow_unicode=True)


PARAMETER_NAMES: tuple[str, ...] = tuple(f.name for f in fields(PackParams))
_REQUIRED = ("provider_dir",)
_TEXT = (
    "provider_dir",
    "out_dir",
    "period",
    "previous_dir",
    "profile",
    "period_dir",
    "audit_path",
    "pseudonym_key_file",
    "requested_by",
    "evidence_reply",
)


def params_from_mapping(raw: object, *, where: str = "") -> PackParams:
    """Check a mapping (from YAML or a caller) against the schema.

    Raises:
        ParameterError: not a mapping, unknown or missing keys, wrong types, bad dates,
            bad period or bad rules.
    """
    if not isinstance(raw, dict):
        raise ParameterError("a params file must be a mapping of name: value", path=where or None)
    unknown = sorted(str(k) for k in set(raw) - set(PARAMETER_NAMES))
    if unknown:
        raise ParameterError(
            f"unknown parameter(s) {', '.join(unknown)}; allowed: {', '.join(PARAMETER_NAMES)}",
            path=where or None,
        )
    missing = [k for k in _REQUIRED if not raw.get(k)]
    if missing:
        raise ParameterError(
            f"missing required parameter(s) {', '.join(missing)}", path=where or None
        )
    values: dict[str, Any] = {}
    for name in _TEXT:
        value = raw.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ParameterError(
                f"{name} must be text (quote it), got {type(value).__name__} {value!r}",
                path=where or None,
            )
        values[name] = value.strip()
    if values.get("period"):
        try:
            parse_period(values["period"])
        except ValueError as error:
            raise ParameterError(str(error), path=where or None) from None
    check_folders(values, where=where)
    values.update(_derived_paths(values, where=where))
    values["as_of"] = parse_date(raw.get("as_of"), name="as_of", where=where)
    values["reply_by"] = parse_date(raw.get("reply_by"), name="reply_by", where=where)
    include_pii = raw.get("include_pii", False)
    if not isinstance(include_pii, bool):
        raise ParameterError(
            f"include_pii must be true or false, got {include_pii!r}", path=where or None
        )
    values["include_pii"] = include_pii
    rules = raw.get("rules") or {}
    _checked_rules(values.get("profile"), rules, where=where)
    values["rules"] = dict(rules)
    return PackParams(**values)


def _checked_rules(profile: str | None, rules: object, *, where: str | Path) -> Rules:
    """The rules of ``profile`` with ``rules`` applied; an error names the params file."""
    if rules and not isinstance(rules, dict):
        raise ParameterError(
            f"rules must be a mapping of name: value, got {rules!r}", path=where or None
        )
    try:
        return rules_for(profile, rules or None)  # type: ignore[arg-type]
    except ParameterError as error:
        prefix = "" if error.message.startswith("unknown rule profile") else "rules: "
        raise ParameterError(f"{prefix}{error.message}", path=where or None) from None


def check_folders(values: dict[str, Any], *, where: str = "") -> None:
    """Refuse a period that contradicts the folders, in one line: ``period`` given and
    ``provider_dir`` in the folder of another period (a notebook whose ``provider_dir``
    was changed to another month, its ``period`` left as it was); ``out_dir`` or
    ``period_dir`` in, or named for, another period than the provider's.

    Raises:
        ParameterError: the period, ``out_dir`` or ``period_dir`` contradicts
            ``provider_dir``.
    """
    provider_dir = values["provider_dir"]
    folder = layout.provider_period(provider_dir)
    given = values.get("period") or ""
    if given and folder and given != folder:
        raise ParameterError(
            f"period {given} contradicts provider_dir {provider_dir}, a folder of {folder}: "
            "leave period blank to take it from the folder",
            path=where or None,
        )
    period = given or folder
    out_dir = values.get("out_dir") or ""
    out_period = layout.provider_period(out_dir) if out_dir else None
    if period and out_period and out_period != period:
        raise ParameterError(
            f"out_dir {out_dir} is the output folder of {out_period}, but the return in "
            f"provider_dir {provider_dir} is of {period}: give the out_dir of {period} "
            "(or leave it blank)",
            path=where or None,
        )
    period_dir = values.get("period_dir") or ""
    named = Path(period_dir).resolve().name if period_dir else ""
    if period and layout.is_period_name(named) and named != period:
        raise ParameterError(
            f"period_dir {period_dir} is the folder of {named}, but the return in "
            f"provider_dir {provider_dir} is of {period}: give DATA/{period}",
            path=where or None,
        )


def _derived_paths(values: dict[str, Any], *, where: str) -> dict[str, str]:
    """``previous_dir`` and ``out_dir`` left blank, derived from ``provider_dir`` by the
    folder layout (the same function the CLI and the batch use)."""
    derived: dict[str, str] = {}
    provider_dir = values["provider_dir"]
    period = values.get("period") or None
    if not values.get("previous_dir"):
        previous = layout.previous_provider_dir(provider_dir, period)
        derived["previous_dir"] = previous.as_posix() if previous else ""
    if not values.get("out_dir"):
        try:
            derived["out_dir"] = layout.default_provider_out_dir(provider_dir, period).as_posix()
        except ValueError as error:
            raise ParameterError(
                f"out_dir is blank and cannot be derived: {error}; give out_dir", path=where or None
            ) from None
    return derived


def load_params(path: str | Path) -> PackParams:
    """Read and check one params YAML.

    Raises:
        ParameterError: unreadable file or a value that does not fit the schema.
    """
    return params_from_mapping(read_params_file(path), where=str(path))


def rules_from_params(path: str | Path | None, *, profile: str | None = None) -> Rules:
    """The rules of a params YAML (its ``profile:`` and ``rules:``), or the default
    profile's without one (``kpitools kpis --params``, ``rules --params``, ``ilr
    --params``); ``profile`` (``--profile``) replaces the file's profile.

    The file may be a full pack params file or hold only ``profile:`` and ``rules:``;
    any other key is an error, as is an unknown profile or rule.

    Raises:
        ParameterError: unreadable file, not YAML, unknown key, profile or rule.
    """
    if path is None:
        return _checked_rules(profile, None, where="")
    raw = read_params_file(path) or {}
    if not isinstance(raw, dict):
        raise ParameterError("a params file must be a mapping of name: value", path=path)
    unknown = sorted(str(k) for k in set(raw) - set(PARAMETER_NAMES))
    if unknown:
        raise ParameterError(f"unknown parameter(s) {', '.join(unknown)}", path=path)
    named = raw.get("profile")
    if named is not None and not isinstance(named, str):
        raise ParameterError(f"profile must be text, got {named!r}", path=path)
    return _checked_rules(profile or named, raw.get("rules"), where=path)


def write_params(params: PackParams, path: str | Path) -> Path:
    """Write ``params`` as YAML (atomically) and return the path."""
    from kpitools.io.files import write_atomic  # pandas-heavy: not at the kernel's import

    return write_atomic(Path(path), params.to_yaml().encode("utf-8"))
