"""Reading providers' returns, one room: from the files in a provider folder to validated
tables.

- :mod:`~kpitools.returns.contract` the data contract as data (tables, columns, kinds,
  codes, keys);
- :mod:`~kpitools.returns.tables` one CSV file into a :class:`~kpitools.returns.tables.RawTable`
  (every cell text), :mod:`~kpitools.returns.workbook` one ``datasheet.xlsx``,
  :mod:`~kpitools.returns.folder` a whole provider folder;
- :mod:`~kpitools.returns.cell_kinds` the parser of each cell kind,
  :mod:`~kpitools.returns.cells` a column parsed by its kind;
- :mod:`~kpitools.returns.validate` (and :mod:`~kpitools.returns.validate_rules`, the
  table and reference rules) every row accepted or rejected with its reason;
- :mod:`~kpitools.returns.load` what was read into a
  :class:`~kpitools.model.ProviderReturn`.

The ILR never comes in here: :func:`kpitools.load.load_provider`, above both,
completes a folder without a learners table from its ILR files.
"""
