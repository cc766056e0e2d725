"""The provider's employer list: which bootcamps each employer serves, and its quality
(design stage of employer engagement)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpitools.kpis.summary import all_of
from kpitools.model import Finding, employer_entity, finding
from kpitools.returns.period import provider_of


def employer_links(employers: pd.DataFrame, bootcamps: pd.DataFrame) -> pd.DataFrame:
    """One row per (employer_id, bootcamp_id) the employer is linked to.

    A blank ``bootcamp_ids`` links the employer to every bootcamp of the provider (of
    its own provider, in a period's tables).
    """
    all_ids: dict[str, list[str]] = {}
    for bootcamp_id in sorted(bootcamps["bootcamp_id"].dropna().unique()):
        all_ids.setdefault(provider_of(bootcamp_id), []).append(bootcamp_id)
    # A few dozen short lists: parsed in plain Python, far cheaper than explode.
    pairs = [
        (employer_id, bootcamp_id)
        for employer_id, ids in zip(
            employers["employer_id"].tolist(), employers["bootcamp_ids"].tolist(), strict=True
        )
        for bootcamp_id in (_id_list(ids) or all_ids.get(provider_of(employer_id), []))
    ]
    links = pd.DataFrame(pairs, columns=["employer_id", "bootcamp_id"], dtype=object)
    return links.drop_duplicates().reset_index(drop=True)


def _id_list(ids: object) -> list[str]:
    """The identifiers of a ``;``-separated list cell (none when blank)."""
    if ids is None or pd.isna(ids):
        return []
    return [i.strip() for i in str(ids).split(";") if i.strip()]


def employer_bootcamp(links: pd.DataFrame) -> pd.Series:
    """employer_id -> its bootcamp when it serves exactly one, else (its provider's)
    ``ALL``."""
    served: dict[str, list[str]] = {}
    for employer, bootcamp in zip(
        links["employer_id"].tolist(), links["bootcamp_id"].tolist(), strict=True
    ):
        if not pd.isna(employer) and not pd.isna(bootcamp):
            served.setdefault(employer, []).append(bootcamp)
    employers = sorted(served)
    return pd.Series(
        [served[e][0] if len(set(served[e])) == 1 else all_of(provider_of(e)) for e in employers],
        index=pd.Index(employers, name="employer_id"),
        name="bootcamp_id",
        dtype=object,
    )


def list_quality(employers: pd.DataFrame, home: pd.Series) -> list[Finding]:
    """EE-DETAILS-INCOMPLETE and EE-BID-DROPPED-UNEXPLAINED over the employer list.

    An active employer needs at least one role and a contact (a name, and an email or a
    phone); an employer named in the bid and dropped needs a reason and a replacement.
    Messages name what is missing, never the contact details themselves.
    """

    def blank(column: str) -> np.ndarray:
        return np.array(
            [
                value is None or pd.isna(value) or not str(value).strip()
                for value in employers[column].tolist()
            ],
            dtype=bool,
        )

    dropped = employers["status"].eq("dropped").to_numpy(dtype=bool, na_value=False)
    no_role, no_name = blank("roles"), blank("contact_name")
    no_reach = blank("contact_email") & blank("contact_phone")
    no_reason, no_replacement = blank("dropped_reason"), blank("replacement_employer_id")
    in_bid = employers["in_bid"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    incomplete = ~dropped & (no_role | no_name | no_reach)
    unexplained = dropped & in_bid & (no_reason | no_replacement)
    ids, sources = employers["employer_id"].tolist(), employers["source"].tolist()
    findings = []
    for row in np.flatnonzero(incomplete):
        missing = [
            what
            for what, flag in (
                ("role", no_role[row]),
                ("contact name", no_name[row]),
                ("contact email or phone", no_reach[row]),
            )
            if flag
        ]
        findings.append(
            finding(
                "EE-DETAILS-INCOMPLETE",
                employer_entity(ids[row]),
                [sources[row]],
                f"employer list lacks {', '.join(missing)} (scores 0 in the matrix)",
                str(home.get(ids[row], all_of(provider_of(ids[row])))),
            )
        )
    for row in np.flatnonzero(unexplained):
        missing = [
            what
            for what, flag in (("reason", no_reason[row]), ("replacement", no_replacement[row]))
            if flag
        ]
        findings.append(
            finding(
                "EE-BID-DROPPED-UNEXPLAINED",
                employer_entity(ids[row]),
                [sources[row]],
                f"named in the bid, dropped without a {' or a '.join(missing)}",
                str(home.get(ids[row], all_of(provider_of(ids[row])))),
            )
        )
    return findings
