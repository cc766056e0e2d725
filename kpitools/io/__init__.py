"""Low-level file and process utilities, below every stage: atomic writes and cells a
spreadsheet cannot run (:mod:`~kpitools.io.files`), the one params-YAML reader
(:mod:`~kpitools.io.params_file`), the output workspace (:mod:`~kpitools.io.workspace`:
locks, output-folder checks) and the process pool (:mod:`~kpitools.io.workers`). Nothing
here knows a return, an audit or a learner: reading returns is :mod:`kpitools.returns`,
the ILR :mod:`kpitools.ilr`, the provider's output files :mod:`kpitools.outputs`."""
