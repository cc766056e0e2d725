"""The ILR, one room: a provider's ILR XML files read, mapped onto the contract, checked.

- :mod:`~kpitools.ilr.reader` streams one file (hardened lxml) into the typed records of
  :mod:`~kpitools.ilr.records`;
- :mod:`~kpitools.ilr.events` reads employment and EVI events as bootcamp events
  (``evi_codes.csv`` holds the event indicator table);
- :mod:`~kpitools.ilr.dfe_rules` checks DfE's bootcamp validation rules
  (``dfe_rules.csv``);
- :mod:`~kpitools.ilr.mapping` turns each provider's files into contract tables (the
  files a run has parsed kept in its :class:`~kpitools.ilr.mapping.IlrReads`);
- :mod:`~kpitools.ilr.reconcile` compares them with the datasheet (``ILR-MISMATCH-*``)
  and reviews each provider's ILR for the audit;
- :mod:`~kpitools.ilr.outputs` writes what ``kpitools ilr --out`` shows.

Loading a provider folder, its datasheet and its learners from the ILR when it has no
learners table, is :mod:`kpitools.load`, above both.
"""
