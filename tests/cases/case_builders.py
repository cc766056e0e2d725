"""A hand-made case: one learner in two months, its withdrawal date restated."""

from __future__ import annotations

import pandas as pd

from kpitools.cases.gather import LEARNER, Case, Entity, Month
from kpitools.privacy.naming import CIRCULATED, WORKING, learner_naming
from kpitools.privacy.pseudonym import Pseudonymiser

KEY = b"case-unit-tests-key-0123456789ab"


def learners(withdrawal: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "learner_ref": ["000433"],
            "uln": ["1234567897"],
            "bootcamp_id": ["B1"],
            "learner_type": ["independent"],
            "start_date": [pd.Timestamp("2022-10-03")],
            "withdrawal_date": [pd.Timestamp(withdrawal)],
            "given_name": ["Octavia"],
            "family_name": ["Brambleworth"],
            "source": ["learners.csv:14"],
        }
    )


def payments(amounts: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "employer_id": ["E1"] * len(amounts),
            "learner_ref": ["000433"] * len(amounts),
            "bootcamp_id": ["B1"] * len(amounts),
            "amount": amounts,
            "evidence_ref": ["INV-1"] * len(amounts),
            "source": [f"cofunding_payments.csv:{i + 2}" for i in range(len(amounts))],
        }
    )


def hand_case(*, include_pii: bool = False, notes: dict[str, str] | None = None) -> Case:
    february = {"learners": learners("2022-10-07"), "cofunding_payments": payments([100.0])}
    march = {"learners": learners("2022-10-06"), "cofunding_payments": payments([100.0, 100.0])}
    names = Pseudonymiser(KEY, "P001")
    return Case(
        entity=Entity(LEARNER, "000433", "P001"),
        period="2023-03",
        name=names.learner("000433"),
        out_root="OUT",
        data_root="DATA",
        built_utc="2023-04-01T00:00:00+00:00",
        key_fingerprint="KF-000000000000",
        include_pii=include_pii,
        naming=learner_naming(march, names, audience=CIRCULATED, include_pii=include_pii),
        working=learner_naming(march, names, audience=WORKING, include_pii=include_pii),
        months=(
            Month("2023-02", "2023-02/P001", february),
            Month("2023-03", "2023-03/P001", march),
        ),
        ilr=None,
        ilr_note="the provider gave no ILR file for the period",
        findings=pd.DataFrame(
            columns=[
                "period",
                "provider_id",
                "exception_id",
                "rule",
                "severity",
                "entity",
                "learner_ref",
                "pseudonym",
                "source",
                "message",
                "related",
            ]
        ),
        histories={},
        members=pd.DataFrame(
            {
                "period": ["2023-03"],
                "kpi": ["learner_dropout"],
                "stage": [""],
                "bootcamp_id": ["B1"],
                "in_population": [True],
                "in_numerator": [True],
                "reason": [""],
                "source": ["learners.csv:14"],
            }
        ),
        notes=notes or {},
    )


def overlap_findings() -> pd.DataFrame:
    """The case's learner and P002's X7 share one ULN (DUP-ULN-OVERLAP): its own finding
    and P002's, as the store holds them (each learner as found, ``related`` the other)."""
    ours, theirs = Pseudonymiser(KEY, "P001"), Pseudonymiser(KEY, "P002")
    return pd.DataFrame(
        {
            "period": ["2023-03", "2023-03"],
            "provider_id": ["P001", "P002"],
            "exception_id": ["EX-000000000001", "EX-000000000002"],
            "rule": ["DUP-ULN-OVERLAP"] * 2,
            "severity": ["high"] * 2,
            "entity": ["learner:000433", "learner:X7"],
            "learner_ref": ["000433", "X7"],
            "pseudonym": [ours.learner("000433"), theirs.learner("X7")],
            "source": ["learners.csv:14", "learners.csv:9"],
            "message": [
                "the learner has the ULN of provider P002's learner at learners.csv:9",
                "the learner has the ULN of provider P001's learner at learners.csv:14",
            ],
            "related": ["P002/learner:X7", "P001/learner:000433"],
        }
    )
