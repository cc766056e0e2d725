"""The packs' presentation: what the notebooks import and display.

- :mod:`~kpitools.present.context`: a pack's audit, naming and rules
  (:func:`~kpitools.present.context.load_context`), the saved audit;
- :mod:`~kpitools.present.blocks`: the HTML building blocks (escaped by default);
- :mod:`~kpitools.present.findings`, :mod:`~kpitools.present.report`,
  :mod:`~kpitools.present.breach`, :mod:`~kpitools.present.plots`: the provider pack's
  sections and charts;
- :mod:`~kpitools.present.portfolio`: the index page's tables.

A pack's kernel imports these modules and nothing that runs notebooks
(:mod:`kpitools.run`) or writes the working files (:mod:`kpitools.outputs`):
``tests/run/test_kernel_imports.py`` keeps the kernel light.
"""
