"""The auditor's worklists, one room: what to verify, chase or ask for next.

- :mod:`~kpitools.worklists.sampling` reproducible verification samples;
- :mod:`~kpitools.worklists.ageing` how long each open item has been waiting;
- :mod:`~kpitools.worklists.risk` drop-out breach risk of running bootcamps;
- :mod:`~kpitools.worklists.build` all of them for one provider, as
  ``ProviderAudit.worklists`` holds them;
- :mod:`~kpitools.worklists.followup` the exceptions register carried month to month,
  and :mod:`~kpitools.worklists.evidence_request` what to ask the provider for.

This module itself imports nothing, so a pack's kernel can name a worklist without
loading the code that builds it.
"""

BREACH_RISK = "breach_risk"
"""The breach-risk worklist's name in ``ProviderAudit.worklists``."""
