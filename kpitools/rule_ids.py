"""Every rule id kpitools reports, with its KPI (or ``irregularity`` / ``validation``),
severity and a one-line meaning. The generator's ground truth, the KPIs, the checks,
the registers and the method statement all use these ids and no others.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuleId:
    id: str
    kpi: str  # a KPI name, "irregularity", or "validation" (rejected rows)
    severity: str  # high | medium | low
    meaning: str


_R = RuleId
CATALOGUE: dict[str, RuleId] = {
    r.id: r
    for r in (
        # employer engagement
        _R("EE-DESIGN-FAIL", "employer_engagement", "medium", "reached employer did not confirm the design-stage points"),
        _R("EE-DELIVERY-FAIL", "employer_engagement", "medium", "reached employer did not confirm the delivery-stage points"),
        _R("EE-POST-FAIL", "employer_engagement", "medium", "reached employer did not confirm the post-bootcamp points or scored below 3"),
        _R("EE-UNREACHABLE-3", "employer_engagement", "high", "employer not reached after 3 attempts in a stage (escalate to DfE)"),
        _R("EE-DETAILS-INCOMPLETE", "employer_engagement", "medium", "listed employer without a role or a contact (scores 0)"),
        _R("EE-BID-DROPPED-UNEXPLAINED", "employer_engagement", "medium", "employer named in the bid dropped without a reason and a replacement"),
        # co-funding
        _R("COF-UNDERPAID", "employer_cofunding", "high", "payments short of the required contribution by more than the tolerance"),
        _R("COF-NO-EVIDENCE", "employer_cofunding", "high", "co-funded learner past M1 with no payment recorded"),
        _R("COF-SIZE-MISMATCH", "employer_cofunding", "medium", "declared size band disagrees with the employee count"),
        # drop-out
        _R("DROP-ABOVE-LIMIT", "learner_dropout", "high", "bootcamp drop-out rate above the limit"),
        _R("DROP-LATE-REPORT", "learner_dropout", "medium", "withdrawal reported more than one calendar month after it happened"),
        # new skills
        _R("NS-NO-INITIAL", "new_skills", "medium", "learner past M1 without an initial assessment on or before M1"),
        _R("NS-NO-FINAL", "new_skills", "medium", "completer without a final assessment"),
        _R("NS-NOT-ACHIEVED", "new_skills", "medium", "final assessment does not record the skills as achieved"),
        _R("NS-ORDER", "new_skills", "medium", "final assessment not between the initial assessment and completion"),
        # guaranteed interview
        _R("INT-NONE", "guaranteed_interview", "high", "completer who wants an interview has no offer (nor new-role evidence)"),
        _R("INT-INVALID", "guaranteed_interview", "medium", "interview offers exist but none is valid: another should be identified"),
        # career progression
        _R("CP-NO-OUTCOME", "career_progression", "medium", "due completer without any outcome in the window"),
        _R("CP-INVALID-OUTCOME", "career_progression", "medium", "due completer whose outcomes are invalid or outside the window"),
        # referral
        _R("REF-MISSING", "referral", "medium", "unsuccessful learner not referred within one calendar month"),
        # irregularities
        _R("FUTURE-DATED", "irregularity", "medium", "record dated after as_of"),
        _R("DUP-ROW", "irregularity", "high", "the same learner twice in one file"),
        _R("DUP-ULN-OVERLAP", "irregularity", "high", "the same ULN on two bootcamps whose learning overlaps"),
        _R("DATE-ORDER", "irregularity", "medium", "dates out of order (M1 before start, completion before M1 or without one, withdrawn and completed, outcome before start)"),
        _R("M2-NO-EVIDENCE", "irregularity", "high", "completion claimed without the evidence the guidance ties to M2"),
        _R("EMP-UNKNOWN", "irregularity", "medium", "employer named in learners, payments, interviews or outcomes but not listed"),
        _R("RESTATED-DISAPPEARED", "irregularity", "high", "learner in the previous return missing from this one"),
        _R("RESTATED-WITHDRAWAL-TO-COMPLETION", "irregularity", "high", "a withdrawal turned into a completion"),
        _R("RESTATED-START-DATE", "irregularity", "medium", "start date moved since the previous return"),
        _R("RESTATED-M1-DATE", "irregularity", "medium", "M1 date moved since the previous return"),
        _R("RESTATED-WITHDRAWAL-DATE", "irregularity", "medium", "withdrawal date moved or removed since the previous return"),
        _R("RESTATED-PAYMENT-CHANGED", "irregularity", "medium", "a co-funding payment amount or date changed"),
        _R("RESTATED-PAYMENT-REMOVED", "irregularity", "high", "a co-funding payment in the previous return is gone"),
        _R("REF-FORMAT-CHANGED", "irregularity", "low", "learner refs lost their leading zeros since the previous return (a spreadsheet made them numbers): matched, not restated"),
        _R("ILR-MISMATCH-MISSING-IN-ILR", "irregularity", "high", "learner in the datasheet, not in the ILR"),
        _R("ILR-MISMATCH-MISSING-IN-DATASHEET", "irregularity", "high", "learner in the ILR, not in the datasheet"),
        _R("ILR-MISMATCH-START-DATE", "irregularity", "medium", "start dates differ between datasheet and ILR"),
        _R("ILR-MISMATCH-WITHDRAWAL-DATE", "irregularity", "medium", "withdrawal dates differ between datasheet and ILR"),
        _R("ILR-MISMATCH-COMPLETION-DATE", "irregularity", "medium", "completion dates differ between datasheet and ILR"),
        _R("ILR-MISMATCH-WITHDRAWN", "irregularity", "high", "withdrawn in one source and not the other"),
        _R("ILR-MISMATCH-COFUNDING", "irregularity", "high", "co-funded in one source, fully funded in the other"),
        _R("ILR-MISMATCH-SME", "irregularity", "medium", "SME in one source, large employer in the other"),
        # validation: why a row was rejected
        _R("REQUIRED", "validation", "high", "a required value is blank"),
        _R("BAD-DATE", "validation", "high", "not a date (YYYY-MM-DD, DD/MM/YYYY or an Excel date)"),
        _R("DATE-RANGE", "validation", "high", "date outside the sane range"),
        _R("BAD-FLAG", "validation", "high", "not Y/N/yes/no/true/false"),
        _R("BAD-MONEY", "validation", "high", "not an amount in pounds"),
        _R("BAD-INT", "validation", "high", "not a whole number"),
        _R("BAD-SCORE", "validation", "high", "not a score 0-5"),
        _R("BAD-CODE", "validation", "high", "not one of the allowed codes"),
        _R("BAD-ID", "validation", "high", "identifier of the wrong form"),
        _R("BAD-ULN", "validation", "high", "ULN not 10 digits or failing the check digit"),
        _R("BAD-UKPRN", "validation", "high", "UKPRN not 8 digits"),
        _R("DUP-KEY", "validation", "high", "a second row with the same key"),
        _R("REF-BOOTCAMP", "validation", "high", "names a bootcamp that is not in bootcamps"),
        _R("REF-EMPLOYER", "validation", "high", "co-funded learner names an employer that is not in employers"),
        _R("REF-LEARNER", "validation", "high", "names a learner that is not in (accepted) learners"),
        _R("SHORT-ROW", "validation", "high", "fewer fields than the header"),
        _R("EXTRA-FIELD", "validation", "high", "more fields than the header"),
        _R("CELL-TOO-LONG", "validation", "high", "a cell longer than MAX_CELL_CHARS (32,767 characters, Excel's own limit)"),
    )
}


def _ilr_rules() -> dict[str, RuleId]:
    """DfE's bootcamp ILR validation rules (``ILR-R_152`` ...), from their data file
    (kpitools/ilr/dfe_rules.csv): DfE's Error is ``high``, Warning ``medium``."""
    from kpitools.ilr.dfe_rules import ILR_RULES

    return {r.rule_id: RuleId(r.rule_id, "irregularity",
                              "high" if r.severity == "Error" else "medium",
                              f"ILR file breaks DfE rule ({r.severity}): {r.message}")
            for r in ILR_RULES.values()}


CATALOGUE.update(_ilr_rules())


def rule(rule_id: str) -> RuleId:
    """Look up a rule id; an unknown id is a programming error (KeyError)."""
    return CATALOGUE[rule_id]
