"""The rules: every threshold and choice of the KPI rules, as one frozen, typed object
(:class:`Rules`), and every rule id kpitools reports (:data:`CATALOGUE`, with DfE's ILR
validation rules read from ``kpitools/dfe_rules.csv``, :data:`ILR_RULES`).

Defaults are those of ``kpi-rules.md``; choices marked **(rule)** there, where the
guidance is silent, are parameters here so an auditor can see and challenge them. A
params YAML may override any of them under ``rules:``; an unknown key is an error.
"""

from __future__ import annotations

import csv
import math
from dataclasses import asdict, dataclass, fields, replace
from importlib import resources
from typing import Any

from kpitools.errors import ParameterError

INTERVIEW_OFFER = "interview_offer"
NEW_ROLE_OFFER = "new_role_offer"
SELF_EMPLOYMENT_PLAN = "self_employment_plan"
UNSPECIFIED_EVENT = "unspecified"
"""An event whose meaning kpitools does not know: read and counted, never turned into
an interview or outcome (the HGV event aims, EVI codes seen only in DfE's sample)."""
EVENT_KINDS = (INTERVIEW_OFFER, NEW_ROLE_OFFER, SELF_EMPLOYMENT_PLAN, UNSPECIFIED_EVENT)
"""What an ILR event (an event aim or an ``EVI`` code) is read as: the values of the
rule ``ilr_event_indicators`` and of ``kpitools/ilr/evi_codes.csv``."""


DEFAULT_PROFILE = "dfe-2022-09"
"""The profile of the guidance (kpi-rules.md): the defaults of :class:`Rules`."""


@dataclass(frozen=True)
class Rules:
    """The rules in force for one measurement.

    A named profile (``kpitools/profiles/*.yaml``, :mod:`kpitools.profiles`) gives the
    starting values; ``rules:`` in a params file overrides them one by one. The defaults
    here are the profile ``dfe-2022-09`` (the guidance).

    Attributes:
        profile: the named rule profile these rules start from (dfe-2022-09 = the
            guidance; dfe-2025-extension = the 2025 DfE contract extensions).
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
        completion_target: minimum share of starts past M1 that complete, per bootcamp
            once it has ended, or None: no completion KPI (dfe-2025-extension: 0.8).
        starts_target: minimum share of a bootcamp's planned_learners that start (reach
            M1), or None: no starts KPI (dfe-2025-extension: 0.5).
        person_match_threshold: the match probability from which two learner rows are
            taken for one person (DUP-PERSON-OVERLAP, DUP-PERSON-REPEAT; docs/checks.md).
        person_match_prior: the probability that two learner rows drawn at random are one
            person, before their fields are compared (the model's prior, lambda).
        person_match_levels: the model's fixed m and u probabilities of each comparison
            level, as (level, m, u); in YAML a mapping ``{level: [m, u]}`` overriding
            some of them (the levels: PERSON_MATCH_LEVELS in kpitools/rules.py).
        person_repeat_months: a person starting a bootcamp within this many months of
            completing another is DUP-PERSON-REPEAT.
        person_history_months: earlier periods whose returns the person matching reads
            beside the period (0: the period alone).
    """

    profile: str = DEFAULT_PROFILE
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
    completion_target: float | None = None
    starts_target: float | None = None
    person_match_threshold: float = 0.95
    person_match_prior: float = 0.00000001
    person_match_levels: tuple[tuple[str, float, float], ...] = ()
    person_repeat_months: int = 12
    person_history_months: int = 12

    def __post_init__(self) -> None:
        # the fixed m and u values: the defaults, with those given replacing theirs
        given = {name: (m, u) for name, m, u in self.person_match_levels}
        levels = tuple(
            (name, *given.get(name, default)) for name, default in PERSON_MATCH_LEVELS.items()
        )
        object.__setattr__(self, "person_match_levels", levels)

    @classmethod
    def from_mapping(cls, overrides: dict[str, Any] | None, *, base: Rules | None = None) -> Rules:
        """``base`` (the defaults when None: a profile's rules, :mod:`kpitools.profiles`)
        with ``overrides`` applied; unknown keys or wrong types fail.

        Raises:
            ParameterError: a key that is not a rule (``profile`` among them: it is given
                beside ``rules:``, not inside), or a value of the wrong type.
        """
        defaults = cls() if base is None else base
        if not overrides:
            return defaults
        if not isinstance(overrides, dict):
            raise ParameterError(f"rules must be a mapping of name: value, got {overrides!r}")
        if "profile" in overrides:
            raise ParameterError(
                "profile is not a rule: give it as `profile:` beside `rules:` (or --profile)"
            )
        known = {f.name: f for f in fields(cls) if f.name != "profile"}
        unknown = sorted(set(overrides) - set(known))
        if unknown:
            raise ParameterError(
                f"unknown rule(s) {', '.join(unknown)}; known rules: {', '.join(sorted(known))}"
            )
        coerced: dict[str, Any] = {}
        for name, value in overrides.items():
            default = getattr(defaults, name)
            coerced[name] = _coerce(name, value, default)
        return replace(defaults, **coerced)

    def as_dict(self) -> dict[str, Any]:
        """Plain mapping, for manifests and the method statement."""
        return asdict(self)


FRACTIONS = frozenset(
    {
        "dropout_limit",
        "cofunding_rate_sme",
        "cofunding_rate_large",
        "amber_fraction",
        "progression_target",
        "completion_target",
        "starts_target",
        "person_match_threshold",
        "person_match_prior",
    }
)
"""Rules that are shares: a value in (0, 1], e.g. 0.2 for 20 % (25 would be 2,500 %)."""

OPTIONAL_TARGETS = {
    "progression_target": "null (report only)",
    "completion_target": "null (no completion KPI)",
    "starts_target": "null (no starts KPI)",
}
"""Targets that may be null, and what null means."""


def _number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def _coerce(name: str, value: Any, default: Any) -> Any:
    if name == "ilr_event_indicators":
        return _event_indicators(value)
    if name == "person_match_levels":
        return _match_levels(value)
    if name in OPTIONAL_TARGETS and value is None:
        return None
    if name in FRACTIONS:
        if not _number(value) or not 0 < value <= 1:
            also = f" or {OPTIONAL_TARGETS[name]}" if name in OPTIONAL_TARGETS else ""
            raise ParameterError(
                f"rule {name} must be a fraction in (0, 1], e.g. 0.2 for 20 %{also}; got {value!r}"
            )
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
    if not isinstance(value, dict) or not all(
        isinstance(k, str | int) and not isinstance(k, bool) and v in EVENT_KINDS
        for k, v in value.items()
    ):
        raise ParameterError(
            "rule ilr_event_indicators must map EVI codes to one of "
            f"{', '.join(EVENT_KINDS)}, got {value!r}"
        )
    return tuple((str(code), str(event)) for code, event in value.items())


PERSON_MATCH_LEVELS: dict[str, tuple[float, float]] = {
    # level: (m, u). m: the share of pairs of rows of one person at this level; u: the
    # share of pairs of rows of two people. Each level's weight is log2(m / u); a field
    # missing on either side weighs nothing. Fixed rather than trained, so that a pair's
    # probability does not move with the other learners of the month: set from the
    # error rates of learner records (misspelt and shortened given names, day and month
    # swapped, postcodes retyped, ULNs mistyped or new) and from how often two different
    # people agree by chance (a family name 1 in 1,000, a birth date 1 in 25,000, a full
    # postcode 1 in 10,000). kpitools/checks/people.py says what each level compares.
    "given_name:exact": (0.80, 0.005),
    "given_name:nickname": (0.09, 0.0005),
    "given_name:similar": (0.08, 0.002),
    "given_name:initial": (0.029, 0.03),
    # rarely another given name altogether: what tells twins apart
    "given_name:other": (0.001, 0.9625),
    "family_name:exact": (0.88, 0.001),
    "family_name:similar": (0.07, 0.0005),
    "family_name:other": (0.05, 0.9985),
    "names:swapped": (0.01, 0.00001),
    "date_of_birth:exact": (0.90, 0.00004),
    "date_of_birth:day_month_swapped": (0.03, 0.000003),
    "date_of_birth:one_digit": (0.05, 0.0004),
    "date_of_birth:other": (0.02, 0.999557),
    "postcode:exact": (0.80, 0.0001),
    "postcode:sector": (0.05, 0.002),
    "postcode:other": (0.15, 0.9979),
    "ni_number:exact": (0.99, 0.00001),
    "ni_number:other": (0.01, 0.99999),
    "uln:exact": (0.50, 0.00001),
    "uln:other": (0.50, 0.99999),
}
"""The person matching's comparison levels with their default m and u probabilities
(the rule ``person_match_levels`` overrides them one by one)."""


def _match_levels(value: Any) -> tuple[tuple[str, float, float], ...]:
    def probability(p: Any) -> bool:
        return _number(p) and 0 < p < 1

    if not isinstance(value, dict) or not all(
        name in PERSON_MATCH_LEVELS
        and isinstance(pair, list | tuple)
        and len(pair) == 2
        and all(map(probability, pair))
        for name, pair in value.items()
    ):
        raise ParameterError(
            "rule person_match_levels must map comparison levels to [m, u], each a "
            f"probability in (0, 1); levels: {', '.join(PERSON_MATCH_LEVELS)}; got {value!r}"
        )
    return tuple((str(name), float(m), float(u)) for name, (m, u) in value.items())


# --- rule ids ---------------------------------------------------------------------
# Every rule id kpitools reports, with its KPI (or ``irregularity`` / ``validation``),
# severity and a one-line meaning. The generator's ground truth, the KPIs, the checks,
# the registers and the method statement all use these ids and no others.
@dataclass(frozen=True)
class RuleId:
    """One rule id. ``event``: its finding records something that happened between two
    returns (a restatement, a late report) rather than a condition of the data: its
    exception stays open in the register until an auditor closes it, even when the next
    month's return does not repeat it (:mod:`kpitools.worklists.followup`)."""

    id: str
    kpi: str  # a KPI name, "irregularity", or "validation" (rejected rows)
    severity: str  # high | medium | low
    meaning: str
    event: bool = False


_R = RuleId
CATALOGUE: dict[str, RuleId] = {
    r.id: r
    for r in (
        # employer engagement
        _R(
            "EE-DESIGN-FAIL",
            "employer_engagement",
            "medium",
            "reached employer did not confirm the design-stage points",
        ),
        _R(
            "EE-DELIVERY-FAIL",
            "employer_engagement",
            "medium",
            "reached employer did not confirm the delivery-stage points",
        ),
        _R(
            "EE-POST-FAIL",
            "employer_engagement",
            "medium",
            "reached employer did not confirm the post-bootcamp points or scored below 3",
        ),
        _R(
            "EE-UNREACHABLE-3",
            "employer_engagement",
            "high",
            "employer not reached after 3 attempts in a stage (escalate to DfE)",
        ),
        _R(
            "EE-DETAILS-INCOMPLETE",
            "employer_engagement",
            "medium",
            "listed employer without a role or a contact (scores 0)",
        ),
        _R(
            "EE-BID-DROPPED-UNEXPLAINED",
            "employer_engagement",
            "medium",
            "employer named in the bid dropped without a reason and a replacement",
        ),
        # co-funding
        _R(
            "COF-UNDERPAID",
            "employer_cofunding",
            "high",
            "payments short of the required contribution by more than the tolerance",
        ),
        _R(
            "COF-NO-EVIDENCE",
            "employer_cofunding",
            "high",
            "co-funded learner past M1 with no payment recorded",
        ),
        _R(
            "COF-SIZE-MISMATCH",
            "employer_cofunding",
            "medium",
            "declared size band disagrees with the employee count",
        ),
        # drop-out
        _R("DROP-ABOVE-LIMIT", "learner_dropout", "high", "bootcamp drop-out rate above the limit"),
        _R(
            "DROP-LATE-REPORT",
            "learner_dropout",
            "medium",
            "withdrawal reported more than one calendar month after it happened",
        ),
        # new skills
        _R(
            "NS-NO-INITIAL",
            "new_skills",
            "medium",
            "learner past M1 without an initial assessment on or before M1",
        ),
        _R("NS-NO-FINAL", "new_skills", "medium", "completer without a final assessment"),
        _R(
            "NS-NOT-ACHIEVED",
            "new_skills",
            "medium",
            "final assessment does not record the skills as achieved",
        ),
        _R(
            "NS-ORDER",
            "new_skills",
            "medium",
            "final assessment not between the initial assessment and completion",
        ),
        # guaranteed interview
        _R(
            "INT-NONE",
            "guaranteed_interview",
            "high",
            "completer who wants an interview has no offer (nor new-role evidence)",
        ),
        _R(
            "INT-INVALID",
            "guaranteed_interview",
            "medium",
            "interview offers exist but none is valid: another should be identified",
        ),
        # career progression
        _R(
            "CP-NO-OUTCOME",
            "career_progression",
            "medium",
            "due completer without any outcome in the window",
        ),
        _R(
            "CP-INVALID-OUTCOME",
            "career_progression",
            "medium",
            "due completer whose outcomes are invalid or outside the window",
        ),
        # referral
        _R(
            "REF-MISSING",
            "referral",
            "medium",
            "unsuccessful learner not referred within one calendar month",
        ),
        # the KPIs of a profile (dfe-2025-extension), measured only when it sets them
        _R(
            "COMP-BELOW-TARGET",
            "completion",
            "high",
            "bootcamp whose completions are below the profile's share of its starts",
        ),
        _R(
            "STARTS-BELOW-TARGET",
            "starts",
            "high",
            "bootcamp whose starts are below the profile's share of its planned_learners",
        ),
        # irregularities
        _R("FUTURE-DATED", "irregularity", "medium", "record dated after as_of"),
        _R("DUP-ROW", "irregularity", "high", "the same learner twice in one file"),
        _R(
            "DUP-ULN-OVERLAP",
            "irregularity",
            "high",
            "the same ULN on two bootcamps whose learning overlaps",
        ),
        _R(
            "DUP-PERSON-OVERLAP",
            "irregularity",
            "high",
            "probably one person (matched on name, birth date, postcode, NI number) on two"
            " bootcamps whose learning overlaps, with different or missing ULNs",
        ),
        _R(
            "DUP-PERSON-REPEAT",
            "irregularity",
            "medium",
            "probably one person starting a bootcamp within person_repeat_months of"
            " completing another",
        ),
        _R(
            "DATE-ORDER",
            "irregularity",
            "medium",
            "dates out of order (M1 before start, completion before M1 or without one, withdrawn and completed, outcome before start)",
        ),
        _R(
            "M2-NO-EVIDENCE",
            "irregularity",
            "high",
            "completion claimed without the evidence the guidance ties to M2",
        ),
        _R(
            "EMP-UNKNOWN",
            "irregularity",
            "medium",
            "employer named in learners, payments, interviews or outcomes but not listed",
        ),
        _R(
            "RESTATED-DISAPPEARED",
            "irregularity",
            "high",
            "learner in the previous return missing from this one",
        ),
        _R(
            "RESTATED-WITHDRAWAL-TO-COMPLETION",
            "irregularity",
            "high",
            "a withdrawal turned into a completion",
        ),
        _R(
            "RESTATED-START-DATE",
            "irregularity",
            "medium",
            "start date moved since the previous return",
        ),
        _R("RESTATED-M1-DATE", "irregularity", "medium", "M1 date moved since the previous return"),
        _R(
            "RESTATED-WITHDRAWAL-DATE",
            "irregularity",
            "medium",
            "withdrawal date moved or removed since the previous return",
        ),
        _R(
            "RESTATED-PAYMENT-CHANGED",
            "irregularity",
            "medium",
            "a co-funding payment amount or date changed",
        ),
        _R(
            "RESTATED-PAYMENT-REMOVED",
            "irregularity",
            "high",
            "a co-funding payment in the previous return is gone",
        ),
        _R(
            "REF-FORMAT-CHANGED",
            "irregularity",
            "low",
            "learner refs lost their leading zeros since the previous return (a spreadsheet made them numbers): matched, not restated",
        ),
        _R(
            "ILR-MISMATCH-MISSING-IN-ILR",
            "irregularity",
            "high",
            "learner in the datasheet, not in the ILR",
        ),
        _R(
            "ILR-MISMATCH-MISSING-IN-DATASHEET",
            "irregularity",
            "high",
            "learner in the ILR, not in the datasheet",
        ),
        _R(
            "ILR-MISMATCH-START-DATE",
            "irregularity",
            "medium",
            "start dates differ between datasheet and ILR",
        ),
        _R(
            "ILR-MISMATCH-WITHDRAWAL-DATE",
            "irregularity",
            "medium",
            "withdrawal dates differ between datasheet and ILR",
        ),
        _R(
            "ILR-MISMATCH-COMPLETION-DATE",
            "irregularity",
            "medium",
            "completion dates differ between datasheet and ILR",
        ),
        _R(
            "ILR-MISMATCH-WITHDRAWN",
            "irregularity",
            "high",
            "withdrawn in one source and not the other",
        ),
        _R(
            "ILR-MISMATCH-COFUNDING",
            "irregularity",
            "high",
            "co-funded in one source, fully funded in the other",
        ),
        _R(
            "ILR-MISMATCH-SME",
            "irregularity",
            "medium",
            "SME in one source, large employer in the other",
        ),
        _R(
            "ILR-UKPRN-MISMATCH",
            "irregularity",
            "high",
            "an ILR file's header, LearningProvider, file name and provider.csv name different"
            " UKPRNs: a file of another provider",
        ),
        _R(
            "ILR-REENROLLED",
            "irregularity",
            "high",
            "a later programme aim on the same contract after a withdrawn or completed one"
            " (not a restart after a break): the earlier withdrawal or completion still counts",
        ),
        # validation: why a row was rejected
        _R("REQUIRED", "validation", "high", "a required value is blank"),
        _R(
            "BAD-DATE", "validation", "high", "not a date (YYYY-MM-DD, DD/MM/YYYY or an Excel date)"
        ),
        _R("DATE-RANGE", "validation", "high", "date outside the sane range"),
        _R("BAD-FLAG", "validation", "high", "not Y/N/yes/no/true/false"),
        _R("BAD-MONEY", "validation", "high", "not an amount in pounds"),
        _R("BAD-INT", "validation", "high", "not a whole number"),
        _R("BAD-SCORE", "validation", "high", "not a score 0-5"),
        _R("BAD-CODE", "validation", "high", "not one of the allowed codes"),
        _R("BAD-ID", "validation", "high", "identifier of the wrong form"),
        _R("BAD-ULN", "validation", "high", "ULN not 10 digits or failing the check digit"),
        _R("BAD-UKPRN", "validation", "high", "UKPRN not 8 digits"),
        _R(
            "BAD-AGE",
            "validation",
            "high",
            "date of birth giving an age outside 16 to 100 at the start",
        ),
        _R("BAD-POSTCODE", "validation", "high", "not a UK postcode"),
        _R("BAD-NI-NUMBER", "validation", "high", "not a National Insurance number"),
        _R("DUP-KEY", "validation", "high", "a second row with the same key"),
        _R("REF-BOOTCAMP", "validation", "high", "names a bootcamp that is not in bootcamps"),
        _R(
            "REF-EMPLOYER",
            "validation",
            "high",
            "co-funded learner names an employer that is not in employers",
        ),
        _R(
            "REF-LEARNER",
            "validation",
            "high",
            "names a learner that is not in (accepted) learners",
        ),
        _R("SHORT-ROW", "validation", "high", "fewer fields than the header"),
        _R("EXTRA-FIELD", "validation", "high", "more fields than the header"),
        _R(
            "CELL-TOO-LONG",
            "validation",
            "high",
            "a cell longer than MAX_CELL_CHARS (32,767 characters, Excel's own limit)",
        ),
    )
}


@dataclass(frozen=True)
class IlrRule:
    """One row of ``kpitools/dfe_rules.csv``: one of DfE's bootcamp ILR validation rules
    that can be checked from the file alone (the checks are :mod:`kpitools.ilr.dfe_rules`)."""

    rule_id: str
    severity: str  # DfE's: Error | Warning
    message: str
    source: str
    checked_as: str


def _load_ilr_rules() -> dict[str, IlrRule]:
    text = resources.files("kpitools").joinpath("dfe_rules.csv").read_text("utf-8")
    return {row["rule_id"]: IlrRule(**row) for row in csv.DictReader(text.splitlines())}


ILR_RULES: dict[str, IlrRule] = _load_ilr_rules()
"""Rule id (``ILR-`` + DfE's rule name) → :class:`IlrRule`, in the order of the data file."""


def _ilr_rules() -> dict[str, RuleId]:
    """DfE's bootcamp ILR validation rules (``ILR-R_152`` ...) as catalogue entries: DfE's
    Error is ``high``, Warning ``medium``."""
    return {
        r.rule_id: RuleId(
            r.rule_id,
            "irregularity",
            "high" if r.severity == "Error" else "medium",
            f"ILR file breaks DfE rule ({r.severity}): {r.message}",
        )
        for r in ILR_RULES.values()
    }


CATALOGUE.update(_ilr_rules())

_EVENTS = ("DROP-LATE-REPORT", "REF-FORMAT-CHANGED")
CATALOGUE.update(
    {
        r.id: replace(r, event=True)
        for r in CATALOGUE.values()
        if r.id in _EVENTS or r.id.startswith("RESTATED-")
    }
)


def rule(rule_id: str) -> RuleId:
    """Look up a rule id; an unknown id is a programming error (KeyError)."""
    return CATALOGUE[rule_id]
