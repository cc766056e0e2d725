"""The data contract as data: every table, column, type, required flag, code list and key.

Loaders, validators, the demo generator and the docs all read this module, so the
contract is written down once. Column kinds:

``id``      identifier kept as text exactly as written (leading zeros survive)
``text``    free text; ``NA``/``None``/``NULL`` are text, not missing
``date``    ISO ``YYYY-MM-DD``, UK ``DD/MM/YYYY`` or an Excel date cell
``flag``    Y/N, yes/no, true/false in any case; blank = not known
``money``   pounds: ``1250``, ``1,250.00``, ``£1,250``
``int``     whole number
``score``   whole number 0-5
``code``    one of ``codes``
``codelist`` semicolon-separated list, each one of ``codes``
``idlist``  semicolon-separated list of identifiers
``uln``     10 digits with the ULN_04 check digit (``9999999999`` = not known)
``ukprn``   8 digits
``birth_date`` a date as ``date``, from 1900 (the age at the start is checked: 16 to 100)
``postcode`` a UK postcode, any case, with or without its space
``ni_number`` a National Insurance number, ``QQ 12 34 56 C`` or ``QQ123456C``
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kpitools.layout import PROVIDER_ID_PATTERN

KINDS = (
    "id",
    "text",
    "date",
    "flag",
    "money",
    "int",
    "score",
    "code",
    "codelist",
    "idlist",
    "uln",
    "ukprn",
    "birth_date",
    "postcode",
    "ni_number",
)


@dataclass(frozen=True)
class Column:
    """One column of a contract table."""

    name: str
    kind: str
    required: bool = False
    codes: tuple[str, ...] = ()
    description: str = ""
    unknown_from_ilr: bool = False  # rows mapped from the ILR may hold UNKNOWN_FROM_ILR

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r} for {self.name}")


@dataclass(frozen=True)
class Reference:
    """Rows of this table must name a row of ``table`` through ``columns``.

    ``when`` optionally restricts the check to rows whose column equals a value,
    e.g. a co-funded learner must name a known employer.
    """

    columns: tuple[str, ...]
    table: str
    target_columns: tuple[str, ...]
    rule: str
    when: tuple[str, str] | None = None
    optional: bool = False  # a blank value is not checked


@dataclass(frozen=True)
class Table:
    """One contract table: its columns, key and references."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    references: tuple[Reference, ...] = ()
    required_table: bool = False
    description: str = ""
    defaults: dict[str, str] = field(default_factory=dict)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


LEARNER_TYPES = ("independent", "co-funded", "self-employed")
STAGES = ("design", "delivery", "post")
SIZE_BANDS = ("SME", "large")
EMPLOYER_ROLES = (
    "co_design",
    "needs_analysis",
    "vacancy_approval",
    "mentoring",
    "insight_days",
    "content",
    "interview_prep",
    "interviewing",
    "own_staff_training",
)
DELIVERY_ROLES = ("mentoring", "insight_days", "content", "interview_prep")
ROLE_TYPES = ("job", "apprenticeship", "accelerated_apprenticeship", "other")
UNKNOWN_FROM_ILR = "unknown"
"""The ``role_type`` of an interview offer or outcome read from the ILR, which records
that an offer (or achievement) happened but not its role type nor whether it matches the
skills (``matches_skills`` is then blank, not known). Only the ILR mapping sets it, for
rows labelled ``ilr/<file>`` (:attr:`kpitools.returns.tables.RawTable.from_ilr`): in a
provider's CSV or workbook ``unknown`` is not one of :data:`ROLE_TYPES` and the row is
rejected (BAD-CODE), so it can never stand in for evidence a provider must give. KPIs
count such evidence as *unverified* (:mod:`kpitools.kpis._offers`)."""
OUTCOME_TYPES = ("new_job", "new_role", "self_employment_plan")
ASSESSMENT_KINDS = ("initial", "final")
EMPLOYER_STATUSES = ("active", "dropped")

C = Column

PROVIDER = Table(
    "provider",
    (
        C("provider_id", "id", True, description=f"provider id, {PROVIDER_ID_PATTERN}"),
        C("name", "text", True),
        C("ukprn", "ukprn", True),
    ),
    key=("provider_id",),
    required_table=True,
    description="one row: who the provider is",
)

BOOTCAMPS = Table(
    "bootcamps",
    (
        C("bootcamp_id", "id", True),
        C("title", "text"),
        C("sector", "text"),
        C("start_date", "date", True),
        C("end_date", "date", True),
        C("price_per_learner", "money", True),
        C("accelerated_apprenticeship", "flag", description="Y/N, default N"),
        C(
            "planned_learners",
            "int",
            description="places planned: the starts KPI of profile dfe-2025-extension",
        ),
    ),
    key=("bootcamp_id",),
    required_table=True,
    defaults={"accelerated_apprenticeship": "N"},
)

LEARNERS = Table(
    "learners",
    (
        C("learner_ref", "id", True),
        C("uln", "uln"),
        C("bootcamp_id", "id", True),
        C("learner_type", "code", True, LEARNER_TYPES),
        C("employer_id", "id", description="required when co-funded"),
        C("wants_interview", "flag", description="default Y for independent, N otherwise"),
        C("start_date", "date", True),
        C("m1_date", "date"),
        C("withdrawal_date", "date"),
        C("withdrawal_reported_date", "date"),
        C("completion_date", "date"),
        C("new_role_evidence_date", "date"),
        C("given_name", "text"),
        C("family_name", "text"),
        # identity, for matching one person across providers and months (issue 28)
        C("date_of_birth", "birth_date", description="an age of 16 to 100 at start_date"),
        C("postcode", "postcode", description="the learner's home postcode"),
        C("ni_number", "ni_number", description="National Insurance number"),
    ),
    key=("learner_ref", "bootcamp_id"),
    references=(
        Reference(("bootcamp_id",), "bootcamps", ("bootcamp_id",), "REF-BOOTCAMP"),
        Reference(
            ("employer_id",),
            "employers",
            ("employer_id",),
            "REF-EMPLOYER",
            when=("learner_type", "co-funded"),
        ),
    ),
    required_table=True,
)

EMPLOYERS = Table(
    "employers",
    (
        C("employer_id", "id", True),
        C("name", "text", True),
        C("employee_count", "int"),
        C("size_band", "code", codes=SIZE_BANDS),
        C("roles", "codelist", codes=EMPLOYER_ROLES),
        C("bootcamp_ids", "idlist", description="blank = every bootcamp of the provider"),
        C("contact_name", "text"),
        C("contact_email", "text"),
        C("contact_phone", "text"),
        C("in_bid", "flag"),
        C("status", "code", codes=EMPLOYER_STATUSES),
        C("dropped_reason", "text"),
        C("replacement_employer_id", "id"),
    ),
    key=("employer_id",),
)

EMPLOYER_CONTACTS = Table(
    "employer_contacts",
    (
        C("employer_id", "id", True),
        C("bootcamp_id", "id"),
        C("stage", "code", True, STAGES),
        C("attempt_date", "date", True),
        C("reached", "flag", True),
        C("design_vouched", "flag"),
        C("info_correct", "flag"),
        C("support_provided", "flag"),
        C("satisfied", "flag"),
        C("will_interview", "flag"),
        C("candidates_interviewed", "int"),
        C("candidates_offered", "int"),
        C("satisfaction_score", "score"),
        C("notes", "text"),
    ),
    references=(
        Reference(("employer_id",), "employers", ("employer_id",), "REF-EMPLOYER"),
        Reference(("bootcamp_id",), "bootcamps", ("bootcamp_id",), "REF-BOOTCAMP", optional=True),
    ),
)

_LEARNER_REF = Reference(
    ("learner_ref", "bootcamp_id"), "learners", ("learner_ref", "bootcamp_id"), "REF-LEARNER"
)

COFUNDING_PAYMENTS = Table(
    "cofunding_payments",
    (
        C("employer_id", "id", True),
        C("learner_ref", "id", True),
        C("bootcamp_id", "id", True),
        C("amount", "money", True),
        C("payment_date", "date", True),
        C("evidence_ref", "text"),
    ),
    references=(_LEARNER_REF,),
)

ASSESSMENTS = Table(
    "assessments",
    (
        C("learner_ref", "id", True),
        C("bootcamp_id", "id", True),
        C("kind", "code", True, ASSESSMENT_KINDS),
        C("assessment_date", "date", True),
        C("skills_achieved", "flag"),
        C("score", "money"),
    ),
    references=(_LEARNER_REF,),
)

INTERVIEWS = Table(
    "interviews",
    (
        C("learner_ref", "id", True),
        C("bootcamp_id", "id", True),
        C("employer_id", "id"),
        C("offer_date", "date", True),
        C("interview_date", "date"),
        C("role_title", "text"),
        C("role_type", "code", True, ROLE_TYPES, unknown_from_ilr=True),
        C("matches_skills", "flag", True, unknown_from_ilr=True),
    ),
    references=(_LEARNER_REF,),
)

OUTCOMES = Table(
    "outcomes",
    (
        C("learner_ref", "id", True),
        C("bootcamp_id", "id", True),
        C("outcome_type", "code", True, OUTCOME_TYPES),
        C("outcome_date", "date", True),
        C("employer_id", "id"),
        C("role_type", "code", codes=ROLE_TYPES, unknown_from_ilr=True),
        C("matches_skills", "flag", unknown_from_ilr=True),
    ),
    references=(_LEARNER_REF,),
)

REFERRALS = Table(
    "referrals",
    (
        C("learner_ref", "id", True),
        C("bootcamp_id", "id", True),
        C("referral_date", "date", True),
        C("referred_to", "text"),
    ),
    references=(_LEARNER_REF,),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        PROVIDER,
        BOOTCAMPS,
        LEARNERS,
        EMPLOYERS,
        EMPLOYER_CONTACTS,
        COFUNDING_PAYMENTS,
        ASSESSMENTS,
        INTERVIEWS,
        OUTCOMES,
        REFERRALS,
    )
}
"""Every contract table, in the order they are read (referenced tables first)."""

AGE_AT_START = (16, 100)
"""The ages a learner may have at ``start_date`` (``date_of_birth`` outside them: BAD-AGE):
Skills Bootcamps are for adults of 19 or over, and a provider's return may hold a few of
16 to 18; an age outside is a typing error (a start date as birth date, a wrong century)."""

# Validation order: a table is validated after the tables it references.
LOAD_ORDER: tuple[str, ...] = (
    "provider",
    "bootcamps",
    "employers",
    "learners",
    "employer_contacts",
    "cofunding_payments",
    "assessments",
    "interviews",
    "outcomes",
    "referrals",
)

# The date that makes a row of each table "happen": a row dated after as_of has not
# happened yet for the measurement (KPIs leave it out; the demo's snapshots omit it).
EVENT_DATE: dict[str, str] = {
    "employer_contacts": "attempt_date",
    "cofunding_payments": "payment_date",
    "assessments": "assessment_date",
    "interviews": "offer_date",
    "outcomes": "outcome_date",
    "referrals": "referral_date",
}

# Personal data: never in a pack or register unless include_pii is set.
PII_COLUMNS: dict[str, tuple[str, ...]] = {
    "learners": (
        "uln",
        "given_name",
        "family_name",
        "date_of_birth",
        "postcode",
        "ni_number",
    ),
    "employers": ("contact_name", "contact_email", "contact_phone"),
}
# The ILR's fields that hold personal data: a value the ILR mapping rejects is named by
# its field (``DateOfBirth``), never by a contract column.
ILR_PII_FIELDS = (
    "ULN",
    "FamilyName",
    "GivenNames",
    "DateOfBirth",
    "NINumber",
    "Postcode",
    "PostcodePrior",
    "Email",
    "TelNumber",
    "AddLine1",
    "AddLine2",
    "AddLine3",
    "AddLine4",
)
# Columns that may carry personal data in any frame (contract tables, worklists, samples,
# a sheet's unknown columns, the ILR's rejected values).
PII_COLUMN_NAMES = frozenset(c for cols in PII_COLUMNS.values() for c in cols) | {
    "date_of_birth",
    "postcode",
    "ni_number",
    "email",
    "phone",
    "learner_name",
    "name_of_learner",
    *ILR_PII_FIELDS,
    # the other learner of a probable match (kpitools.checks.people), side by side
    *(f"other_{c}" for c in PII_COLUMNS["learners"]),
}

KPIS: tuple[str, ...] = (
    "employer_engagement",
    "employer_cofunding",
    "learner_dropout",
    "new_skills",
    "guaranteed_interview",
    "career_progression",
    "referral",
)
PROFILE_KPIS: tuple[str, ...] = ("completion", "starts")
"""KPIs a rule profile may add (kpitools/profiles): measured, and shown, only under a
profile whose rules set their targets (``completion_target``, ``starts_target``)."""
STATUSES: tuple[str, ...] = (
    "not_due",
    "on_track",
    "at_risk",
    "off_track",
    "met",
    "not_met",
    "no_data",
    "reported",
)

# Validated frames carry this extra column: "learners.csv:14" (file or sheet, and row).
SOURCE_COLUMN = "source"
ULN_UNKNOWN = "9999999999"
