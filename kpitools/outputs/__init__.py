"""The working files written beside a provider's pack.

- :mod:`~kpitools.outputs.results`: ``kpi_results.csv``, ``kpi_members.csv``, ``exceptions.csv``,
  ``rejected_rows.csv``, ``manifest.json`` and, for a provider that failed, ``error.txt``
  (``kpitools kpis`` writes these alone);
- :mod:`~kpitools.outputs.register`: what the exceptions register holds, sheet by sheet,
  and ``evidence_request.csv``; :mod:`~kpitools.outputs.workbook` writes it as xlsx.

The register is built from what the pack presents (:mod:`kpitools.present`: its
context, its sentences); nothing here runs a notebook.
"""
