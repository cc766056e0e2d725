"""Every threshold and choice of the KPI rules, as one frozen, typed object.

Defaults are those of ``kpi-rules.md``; choices marked **(rule)** there, where the
guidance is silent, are parameters here so an auditor can see and challenge them. A
params YAML may override any of them under ``rules:``; an unknown key is an error.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from kpitools.errors import ParameterError


@dataclass(frozen=True)
class Rules:
    """The rules in force for one measurement.

    Attributes:
        dropout_limit: maximum drop-out rate (guidance: "Max 20% dropout").
        cofunding_rate_sme: employer contribution for an SME (guidance: 10 %).
        cofunding_rate_large: employer contribution for a large employer (guidance: 30 %).
        sme_employee_limit: an SME has fewer than this many employees (250).
        payment_tolerance: co-funding shortfall tolerated, in pounds (rule: £1).
        outcome_window_months: months after completion for a positive outcome (6).
        withdrawal_report_months: months allowed to report a withdrawal (1).
        satisfaction_pass_score: lowest passing employer satisfaction score (3 of 5).
        amber_fraction: a maximum-type target is at risk above this share of its limit.
        m1_qualifying_days: days from start to M1 when only the ILR is given (rule: 7).
        progression_target: career progression target, or None to report only (rule).
        referral_includes_withdrawn: learners who withdrew after M1 need a referral (rule).
        referral_months: months after becoming unsuccessful to refer a learner (rule: 1).
        unreachable_attempts: attempts after which an unreached employer is escalated (3).
        ilr_event_indicators: ILR ``EVI`` codes to add to (or override in) the shipped
            code table, as (code, event) pairs; in YAML a mapping ``{code: event}`` with
            event one of interview_offer, new_role_offer, self_employment_plan,
            unspecified (docs/ilr.md).
    """

    dropout_limit: float = 0.20
    cofunding_rate_sme: float = 0.10
    cofunding_rate_large: float = 0.30
    sme_employee_limit: int = 250
    payment_tolerance: float = 1.00
    outcome_window_months: int = 6
    withdrawal_report_months: int = 1
    satisfaction_pass_score: int = 3
    amber_fraction: float = 0.8
    m1_qualifying_days: int = 7
    progression_target: float | None = None
    referral_includes_withdrawn: bool = True
    referral_months: int = 1
    unreachable_attempts: int = 3
    ilr_event_indicators: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_mapping(cls, overrides: dict[str, Any] | None) -> Rules:
        """The defaults with ``overrides`` applied; unknown keys or wrong types fail.

        Raises:
            ParameterError: a key that is not a rule, or a value of the wrong type.
        """
        if not overrides:
            return cls()
        if not isinstance(overrides, dict):
            raise ParameterError(f"rules must be a mapping of name: value, got {overrides!r}")
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(overrides) - set(known))
        if unknown:
            raise ParameterError(
                f"unknown rule(s) {', '.join(unknown)}; known rules: {', '.join(sorted(known))}"
            )
        coerced: dict[str, Any] = {}
        defaults = cls()
        for name, value in overrides.items():
            default = getattr(defaults, name)
            coerced[name] = _coerce(name, value, default)
        return replace(defaults, **coerced)

    def as_dict(self) -> dict[str, Any]:
        """Plain mapping, for manifests and the method statement."""
        return asdict(self)


FRACTIONS = frozenset({"dropout_limit", "cofunding_rate_sme", "cofunding_rate_large",
                       "amber_fraction", "progression_target"})
"""Rules that are shares: a value in (0, 1], e.g. 0.2 for 20 % (25 would be 2,500 %)."""


def _number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def _coerce(name: str, value: Any, default: Any) -> Any:
    if name == "ilr_event_indicators":
        return _event_indicators(value)
    if name == "progression_target" and value is None:
        return None
    if name in FRACTIONS:
        if not _number(value) or not 0 < value <= 1:
            also = " or null (report only)" if name == "progression_target" else ""
            raise ParameterError(f"rule {name} must be a fraction in (0, 1], e.g. 0.2 for 20 %"
                                 f"{also}; got {value!r}")
        return float(value)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ParameterError(f"rule {name} must be true or false, got {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ParameterError(f"rule {name} must be a whole number >= 0, got {value!r}")
        return value
    if not _number(value) or value < 0:
        raise ParameterError(f"rule {name} must be a finite number >= 0, got {value!r}")
    return float(value)


def _event_indicators(value: Any) -> tuple[tuple[str, str], ...]:
    from kpitools.ilr.events import EVENT_KINDS

    if not isinstance(value, dict) or not all(
            isinstance(k, str | int) and not isinstance(k, bool) and v in EVENT_KINDS
            for k, v in value.items()):
        raise ParameterError(
            "rule ilr_event_indicators must map EVI codes to one of "
            f"{', '.join(EVENT_KINDS)}, got {value!r}")
    return tuple((str(code), str(event)) for code, event in value.items())
