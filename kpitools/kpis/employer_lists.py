"""The provider's employer list: which bootcamps each employer serves, and its quality
(design stage of employer engagement)."""

from __future__ import annotations

import pandas as pd

from kpitools.kpis._common import ALL
from kpitools.model import Finding
from kpitools.rule_ids import rule

KPI = "employer_engagement"


def employer_links(employers: pd.DataFrame, bootcamps: pd.DataFrame) -> pd.DataFrame:
    """One row per (employer_id, bootcamp_id) the employer is linked to.

    A blank ``bootcamp_ids`` links the employer to every bootcamp of the provider.
    """
    all_ids = sorted(bootcamps["bootcamp_id"].dropna().unique())
    named = employers["bootcamp_ids"].fillna("").str.split(";").map(
        lambda ids: [i.strip() for i in ids if i.strip()])
    named = named.map(lambda ids: ids or all_ids)
    links = pd.DataFrame({"employer_id": employers["employer_id"], "bootcamp_id": named})
    links = links.explode("bootcamp_id").dropna(subset=["bootcamp_id"])
    return links.drop_duplicates().reset_index(drop=True).astype(object)


def employer_bootcamp(links: pd.DataFrame) -> pd.Series:
    """employer_id -> its bootcamp when it serves exactly one, else ``ALL``."""
    grouped = links.groupby("employer_id")["bootcamp_id"]
    single = grouped.nunique().eq(1)
    return grouped.first().where(single, ALL)


def list_quality(employers: pd.DataFrame, home: pd.Series) -> list[Finding]:
    """EE-DETAILS-INCOMPLETE and EE-BID-DROPPED-UNEXPLAINED over the employer list.

    An active employer needs at least one role and a contact (a name, and an email or a
    phone); an employer named in the bid and dropped needs a reason and a replacement.
    Messages name what is missing, never the contact details themselves.
    """
    def blank(column: str) -> pd.Series:
        return employers[column].fillna("").astype(str).str.strip().eq("")

    dropped = employers["status"].eq("dropped")
    no_role, no_name = blank("roles"), blank("contact_name")
    no_reach = blank("contact_email") & blank("contact_phone")
    incomplete = employers.loc[~dropped & (no_role | no_name | no_reach)]
    in_bid = employers["in_bid"].astype("boolean").fillna(False).astype(bool)
    unexplained = employers.loc[dropped & in_bid & (blank("dropped_reason")
                                                    | blank("replacement_employer_id"))]
    details, bid = rule("EE-DETAILS-INCOMPLETE"), rule("EE-BID-DROPPED-UNEXPLAINED")
    findings = []
    for index, employer_id, source in zip(incomplete.index, incomplete["employer_id"],
                                          incomplete["source"], strict=True):
        missing = [what for what, flag in (("role", no_role[index]),
                                           ("contact name", no_name[index]),
                                           ("contact email or phone", no_reach[index])) if flag]
        findings.append(Finding(
            kpi=KPI, rule=details.id, severity=details.severity,
            entity=f"employer:{employer_id}", source=str(source),
            bootcamp_id=str(home.get(employer_id, ALL)),
            message=f"employer list lacks {', '.join(missing)} (scores 0 in the matrix)"))
    for index, employer_id, source in zip(unexplained.index, unexplained["employer_id"],
                                          unexplained["source"], strict=True):
        missing = [what for what, flag in (("reason", blank("dropped_reason")[index]),
                                           ("replacement", blank("replacement_employer_id")[index]))
                   if flag]
        findings.append(Finding(
            kpi=KPI, rule=bid.id, severity=bid.severity, entity=f"employer:{employer_id}",
            source=str(source), bootcamp_id=str(home.get(employer_id, ALL)),
            message=f"named in the bid, dropped without a {' or a '.join(missing)}"))
    return findings
