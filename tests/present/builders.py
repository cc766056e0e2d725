"""Tiny provider returns and hand-made audits for the pack tests.

One provider, two bootcamps, four learners. Learner names and an employer name carry
XSS and formula-injection payloads, and a bootcamp title has ``$`` signs, so every test
that renders them checks escaping. Figures of the hand-made KPI results:

- learner_dropout B1: cohort 2 (L1, L2 have M1 on or before as_of), L2 withdrew after M1
  → 1/2 = 50 % (limit 20 %: off track); B2: cohort 1 (L3), no withdrawal → 0/1 = 0 %;
  ALL pools counts: 1/3.
- new_skills ALL: 1 completer (L3) with both assessments → 1/1.
- breach risk (kpitools.worklists.build.breach_risks with a flat portfolio hazard of 2 % a week): B2 is
  over (its one cohort learner, L3, completed), so only B1 runs. B2's L3 gives the
  provider 1 learner at risk in weeks 0-8 and no withdrawal, which pulls weeks 0-8 to
  (0 + 20 x 0.02) / (1 + 20); weeks from 9 stay at 2 %. B1: cohort 2, L2 withdrawn, L1
  active from week (2023-03-31 - M1 2023-01-16 = 74 days) // 7 + 1 = 11 to week
  (2023-06-30 - M1 = 165 days) // 7 = 23, i.e. 13 weeks at 2 %: chance 1 - 0.98^13 =
  0.2310; projected (1 + 0.2310) / 2 = 0.6155 = 61.5 %; the limit is breached from
  floor(0.2 x 2) + 1 = 1 withdrawal, already reached → P = 100 %, at risk.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np

from kpitools.kpis.charts import pack_charts
from kpitools.load import load_provider
from kpitools.model import Finding, FollowUp, IlrScope, KpiMembers, KpiResult, ProviderAudit
from kpitools.params import PackParams
from kpitools.present.context import PackContext, context_from_audit
from kpitools.privacy.pseudonym import load_key
from kpitools.rules import Rules
from kpitools.worklists.build import breach_risks
from kpitools.worklists.followup import RegisterTrail, provider_followup
from kpitools.worklists.risk import Hazard

AS_OF = date(2023, 3, 31)
FLAT_HAZARD = Hazard(weekly=(), tail=0.02, basis="hand-made portfolio: 2 % a week")
XSS_NAME = "<script>alert(1)</script>"
IMG_NAME = "<img src=x onerror=alert(1)>"
FORMULA = '=HYPERLINK("http://evil.example","click")'
DOLLAR_TITLE = "Ba$$in data skills"


def uln(stem: str) -> str:
    """A ULN passing the ULN_04 check digit, from 9 digits."""
    total = sum(int(d) * w for d, w in zip(stem, range(10, 1, -1), strict=True))
    remainder = total % 11
    assert remainder != 0, "pick another stem"
    return stem + str(10 - remainder)


LEARNERS = [
    # learner_ref, uln, bootcamp, type, employer, start, m1, withdrawal, completion, given, family
    (
        "L1",
        uln("123456789"),
        "B1",
        "independent",
        "",
        "2023-01-09",
        "2023-01-16",
        "",
        "",
        "Zebedee",
        "Quattlebaum",
    ),
    (
        "L2",
        uln("234567891"),
        "B1",
        "independent",
        "",
        "2023-01-09",
        "2023-01-16",
        "2023-02-20",
        "",
        XSS_NAME,
        "Fothergill",
    ),
    (
        "L3",
        uln("345678912"),
        "B2",
        "co-funded",
        "E1",
        "2023-01-02",
        "2023-01-09",
        "",
        "2023-03-10",
        IMG_NAME,
        "Wetherspoonly",
    ),
    (
        "L4",
        uln("456789123"),
        "B2",
        "independent",
        "",
        "2023-04-03",
        "",
        "",
        "",
        FORMULA,
        "Pennywhistle",
    ),
]
EMAIL = "zebedee.contact@example.org"


def _write(path: Path, header: list[str], rows: list[tuple]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def write_provider(folder: Path, provider_id: str = "P001") -> Path:
    """Write a small valid provider return (plus one rejected learner row)."""
    folder.mkdir(parents=True, exist_ok=True)
    _write(
        folder / "provider.csv",
        ["provider_id", "name", "ukprn"],
        [(provider_id, f"Acme {XSS_NAME} Training", "10012345")],
    )
    _write(
        folder / "bootcamps.csv",
        ["bootcamp_id", "title", "start_date", "end_date", "price_per_learner"],
        [
            ("B1", DOLLAR_TITLE, "2023-01-09", "2023-06-30", "3000"),
            ("B2", "Cloud", "2023-01-02", "2023-05-31", "2500"),
        ],
    )
    _write(
        folder / "learners.csv",
        [
            "learner_ref",
            "uln",
            "bootcamp_id",
            "learner_type",
            "employer_id",
            "start_date",
            "m1_date",
            "withdrawal_date",
            "completion_date",
            "given_name",
            "family_name",
        ],
        [
            *LEARNERS,
            ("L5", "12345", "B1", "independent", "", "2023-01-09", "", "", "", "Bad", "Uln"),
        ],
    )
    _write(
        folder / "employers.csv",
        [
            "employer_id",
            "name",
            "employee_count",
            "roles",
            "contact_name",
            "contact_email",
            "contact_phone",
        ],
        [("E1", FORMULA, "40", "interviewing", "Octavia Brambleworth", EMAIL, "07700 900123")],
    )
    _write(
        folder / "employer_contacts.csv",
        ["employer_id", "stage", "attempt_date", "reached", "satisfaction_score"],
        [("E1", "post", "2023-03-15", "Y", "4"), ("E1", "delivery", "2023-02-15", "Y", "2")],
    )
    # every table has a row: empty compound-key tables are not what these tests are about
    _write(
        folder / "cofunding_payments.csv",
        ["employer_id", "learner_ref", "bootcamp_id", "amount", "payment_date"],
        [("E1", "L3", "B2", "100", "2023-01-20")],
    )
    _write(
        folder / "assessments.csv",
        ["learner_ref", "bootcamp_id", "kind", "assessment_date", "skills_achieved"],
        [("L3", "B2", "initial", "2023-01-05", ""), ("L3", "B2", "final", "2023-03-08", "Y")],
    )
    _write(
        folder / "interviews.csv",
        ["learner_ref", "bootcamp_id", "employer_id", "offer_date", "role_type", "matches_skills"],
        [("L1", "B1", "E1", "2023-03-01", "job", "Y")],
    )
    _write(
        folder / "outcomes.csv",
        ["learner_ref", "bootcamp_id", "outcome_type", "outcome_date", "employer_id"],
        [("L3", "B2", "new_role", "2023-03-20", "E1")],
    )
    _write(
        folder / "referrals.csv",
        ["learner_ref", "bootcamp_id", "referral_date", "referred_to"],
        [("L2", "B1", "2023-03-01", "National Careers Service")],
    )
    return folder


def write_months(root: Path) -> Path:
    """The return of :func:`write_provider` for P001 in 2023-01 (unreadable: learners.csv
    has no header), 2023-02 and 2023-03 under ``root``; the 2023-03 folder (trends)."""
    for period in ("2023-01", "2023-02", "2023-03"):
        write_provider(root / period / "P001")
    (root / "2023-01" / "P001" / "learners.csv").write_text("no,header\n1,2\n", encoding="utf-8")
    return root / "2023-03" / "P001"


def hand_members(*members: tuple[str, str, bool, bool, str]) -> KpiMembers:
    """A figure's members by hand: (member, source, in_population, in_numerator, reason)."""
    member, source, population, numerator, reason = zip(*members, strict=True)
    return KpiMembers(
        member=np.asarray(member, dtype=object),
        source=np.asarray(source, dtype=object),
        in_population=np.asarray(population, dtype=bool),
        in_numerator=np.asarray(numerator, dtype=bool),
        reason=np.asarray(reason, dtype=object),
    )


DROPOUT_B1 = hand_members(
    ("learner:L1", "learners.csv:2", True, False, "reached M1 and has not withdrawn"),
    ("learner:L2", "learners.csv:3", True, True, "withdrew on or after M1: a drop-out"),
)
DROPOUT_B2 = hand_members(
    ("learner:L3", "learners.csv:4", True, False, "reached M1 and has not withdrawn"),
)
COFUNDING_E1 = hand_members(
    (
        "employer:E1",
        "learners.csv:4; employers.csv:2; cofunding_payments.csv:2",
        True,
        False,
        "short of the required contribution for a co-funded learner past M1",
    ),
)
"""The members of the hand audit's figures that are off track (the others have none)."""


def hand_audit(folder: Path, *, period: str = "2023-03") -> ProviderAudit:
    """A ProviderAudit for :func:`write_provider` with the hand-worked figures above."""
    provider = load_provider(folder)
    drop = Finding(
        "learner_dropout",
        "DROP-ABOVE-LIMIT",
        "high",
        "bootcamp:B1",
        "learners.csv:3",
        "drop-out 50.0 % above the 20 % limit",
        "B1",
    )
    late = Finding(
        "learner_dropout",
        "DROP-LATE-REPORT",
        "medium",
        "learner:L2",
        "learners.csv:3",
        "withdrawal reported late",
        "B1",
    )
    formula = Finding(
        "employer_cofunding",
        "COF-UNDERPAID",
        "high",
        "employer:E1",
        "cofunding_payments.csv:2",
        f"paid 100.00 of 250.00 for the learner at learners.csv:4; see {FORMULA}",
        "B2",
    )
    results = [
        KpiResult(
            "learner_dropout",
            "B1",
            1,
            2,
            "off_track",
            AS_OF,
            target=0.2,
            target_kind="max",
            exceptions=(drop, late),
            members=DROPOUT_B1,
        ),
        KpiResult(
            "learner_dropout",
            "B2",
            0,
            1,
            "on_track",
            AS_OF,
            target=0.2,
            target_kind="max",
            members=DROPOUT_B2,
        ),
        KpiResult(
            "learner_dropout",
            "ALL",
            1,
            3,
            "off_track",
            AS_OF,
            target=0.2,
            target_kind="max",
            members=hand_members(
                *zip(
                    *(
                        np.concatenate([getattr(DROPOUT_B1, n), getattr(DROPOUT_B2, n)])
                        for n in ("member", "source", "in_population", "in_numerator", "reason")
                    ),
                    strict=True,
                )
            ),
        ),
        KpiResult("new_skills", "ALL", 1, 1, "met", AS_OF, target=1.0, target_kind="min"),
        KpiResult(
            "employer_cofunding",
            "ALL",
            0,
            1,
            "off_track",
            AS_OF,
            target=1.0,
            target_kind="min",
            exceptions=(formula,),
            members=COFUNDING_E1,
        ),
        KpiResult(
            "employer_engagement",
            "ALL",
            1,
            1,
            "on_track",
            AS_OF,
            stage="post",
            target=1.0,
            target_kind="min",
        ),
    ]
    irregular = [
        Finding(
            "irregularity",
            "DUP-ULN-OVERLAP",
            "high",
            "learner:L1",
            "learners.csv:2",
            "the ULN is also at P002 on an overlapping bootcamp",
            "B1",
        ),
        Finding(
            "irregularity",
            "ILR-MISMATCH-START-DATE",
            "medium",
            "learner:L3",
            "learners.csv:4",
            "start date 2023-01-02 in the datasheet, 2023-01-03 in the ILR",
            "B2",
        ),
    ]
    risk = breach_risks({"P001": provider}, as_of=AS_OF, rules=Rules(), portfolio=FLAT_HAZARD)[
        "P001"
    ]
    charts = pack_charts({"P001": provider}, {"P001": results}, as_of=AS_OF, rules=Rules())
    return ProviderAudit(
        provider=provider,
        as_of=AS_OF,
        rules=Rules(),
        kpi_results=results,
        period=period,
        irregularities=irregular,
        worklists={"breach_risk": risk},
        charts=charts["P001"],
        # the ILR behind the ILR-MISMATCH finding: one file, B2's three learners in scope
        ilr_scope=IlrScope(
            files_used=("ILR-10012345-2223-20230331-120000-01.xml",),
            files_superseded=(),
            ukprn="10012345",
            as_known=AS_OF,
            learners_read=3,
            bootcamp_learners=3,
            bootcamps=2,
            mapped=3,
            rejected=0,
            reconciled=True,
            cutoff=AS_OF,
            datasheet_in_scope=3,
            ilr_in_scope=3,
            matched=3,
        ),
    )


def make_context(audit: ProviderAudit, out_dir: Path, *, include_pii: bool = False) -> PackContext:
    """The pack's context of ``audit`` written to ``out_dir``, its register's follow-up
    computed as the audit computes it (against last month's register beside ``out_dir``)."""
    params = PackParams(
        provider_dir=str(audit.provider.path),
        out_dir=str(out_dir),
        period="2023-03",
        include_pii=include_pii,
    )
    followup = followup_of(audit, RegisterTrail(out_dir, load_key()))
    return context_from_audit(replace(audit, followup=followup), params)


def followup_of(audit: ProviderAudit, trail: RegisterTrail) -> FollowUp:
    """The register's follow-up of ``audit``'s findings, as the audit engine computes it."""
    return provider_followup(
        audit.findings(),
        provider_id=audit.provider_id,
        period=audit.period,
        as_of=audit.as_of,
        trail=trail,
    )


def pii_strings() -> list[str]:
    """Personal data of the fixture that must not appear without include_pii."""
    values = [EMAIL, "Octavia Brambleworth", "07700 900123"]
    for row in LEARNERS:
        values += [row[1], row[10]]
    return values
