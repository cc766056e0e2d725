"""Plants of bad input: rows the loader must reject, and hostile text that must be
neutralised downstream (HTML, spreadsheet formulas, matplotlib mathtext).

Rejected rows are chosen so that rejecting them changes nothing else: learners rows
belong to learners who withdrew in their first days and have no dependent rows, other
bad rows are extra copies beside a learner's valid rows. They appear in every return.
"""

from __future__ import annotations

from kpitools.demo.plant import Planter
from kpitools.demo.world import LearnerLife, ProviderWorld


def _childless(p: Planter, pw: ProviderWorld, plant: str) -> LearnerLife:
    life = p.pick(pw, plant, fate="pre_m1_withdrawn")
    life.children = {table: [] for table in life.children}
    return life


def plant_rejected_rows(p: Planter) -> None:
    """BAD-ULN, REF-BOOTCAMP, BAD-DATE (31/02/2023), REQUIRED and BAD-CODE."""
    pw = p.provider(1)
    life = _childless(p, pw, "BAD-ULN")
    uln = str(life.row["uln"])
    bad = uln[:9] + str((int(uln[9]) + 1) % 10)
    life.row["uln"] = bad
    p.expect_learner(
        "BAD-ULN",
        "BAD-ULN",
        pw,
        life,
        f"ULN {bad}: check digit should be {uln[9]}",
        column="uln",
        value=bad,
    )
    pw = p.provider(2)
    life = _childless(p, pw, "REF-BOOTCAMP")
    unknown = f"{pw.provider_id}-BC99"
    life.row["bootcamp_id"] = unknown
    p.expect_learner(
        "REF-BOOTCAMP",
        "REF-BOOTCAMP",
        pw,
        life,
        f"bootcamp {unknown} is not listed",
        column="bootcamp_id",
        value=unknown,
    )
    life = p.pick(pw, "BAD-DATE")
    key = {"learner_ref": life.ref, "bootcamp_id": life.bootcamp_id}
    pw.extra_rows.setdefault("assessments", []).append(
        {
            **key,
            "kind": "initial",
            "assessment_date": "31/02/2023",
            "skills_achieved": None,
            "score": 4000,
        }
    )
    p.expect_learner(
        "BAD-DATE",
        "BAD-DATE",
        pw,
        life,
        "extra initial assessment dated 31/02/2023 (no such day)",
        table="assessments",
        match={"assessment_date": "31/02/2023"},
        column="assessment_date",
        value="31/02/2023",
    )
    pw = p.provider(3)
    life = p.pick(pw, "REQUIRED")
    offer = dict(life.children["interviews"][0], offer_date=None, role_title="Blank offer date")
    pw.extra_rows.setdefault("interviews", []).append(offer)
    p.expect_learner(
        "REQUIRED",
        "REQUIRED",
        pw,
        life,
        "extra interview row with offer_date blank",
        table="interviews",
        match={"role_title": "Blank offer date"},
        column="offer_date",
        value="",
    )
    pw = p.provider(4)
    life = p.pick(pw, "BAD-CODE")
    outcome = dict(life.children["outcomes"][0], outcome_type="job")
    pw.extra_rows.setdefault("outcomes", []).append(outcome)
    p.expect_learner(
        "BAD-CODE",
        "BAD-CODE",
        pw,
        life,
        "extra outcome row with outcome_type 'job' (not a code)",
        table="outcomes",
        match={"outcome_type": "job"},
        column="outcome_type",
        value="job",
    )


def plant_hostile_learners(p: Planter) -> None:
    """Hostile learner names (run with the learner plants)."""
    pw = p.provider(1)
    life = p.pick(pw, "hostile-html-name")
    value = "<img src=x onerror=alert(1)>"
    life.row["given_name"] = value
    p.add_hostile(
        pw,
        "learners",
        "given_name",
        value,
        {"learner_ref": life.ref, "bootcamp_id": life.bootcamp_id},
        f"learner:{life.ref}",
        "html",
    )
    pw = p.provider(4)
    life = p.pick(pw, "hostile-mathtext-name")
    life.row["family_name"] = "Ba$$in"
    p.add_hostile(
        pw,
        "learners",
        "family_name",
        "Ba$$in",
        {"learner_ref": life.ref, "bootcamp_id": life.bootcamp_id},
        f"learner:{life.ref}",
        "mathtext",
    )


def plant_hostile_employers(p: Planter) -> None:
    """Hostile employer names and contact notes (after the contact log is built)."""
    for slot, value, threat in (
        (0, "<script>alert(1)</script>", "html"),
        (2, '=HYPERLINK("http://example.invalid","x")', "formula"),
        (4, "Ba$$in Haulage Ltd (demo)", "mathtext"),
    ):
        pw = p.provider(slot)
        employer = p.take_employer(pw, share=True)
        employer["name"] = value
        p.add_hostile(
            pw,
            "employers",
            "name",
            value,
            {"employer_id": employer["employer_id"]},
            f"employer:{employer['employer_id']}",
            threat,
        )
    pw = p.provider(3)
    employer = p.take_employer(pw, share=True)
    notes = (
        "+44 1632 960123 rang back",
        "-- chased twice, then confirmed",
        "@finance to confirm numbers",
    )
    stages = ("design", "delivery", "post")
    for stage, note in zip(stages, notes, strict=True):
        contact = next(
            (
                c
                for c in pw.contacts
                if c["employer_id"] == employer["employer_id"]
                and c["stage"] == stage
                and c["reached"] == "Y"
            ),
            None,
        )
        if contact is None:
            continue
        contact["notes"] = note
        p.add_hostile(
            pw,
            "employer_contacts",
            "notes",
            note,
            {
                "employer_id": employer["employer_id"],
                "stage": stage,
                "attempt_date": contact["attempt_date"],
            },
            f"employer:{employer['employer_id']}",
            "formula",
        )
