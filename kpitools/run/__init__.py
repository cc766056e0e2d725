"""Running the notebooks: papermill executes them, nbconvert renders self-contained HTML.

- :mod:`~kpitools.run.batch`: ``kpitools packs``, every provider of a period, then the
  index (:func:`~kpitools.run.batch.build_packs`, or step by step:
  ``prepare_period``, ``run_jobs``, ``publish``, ``write_index``);
- :mod:`~kpitools.run.single`: ``kpitools pack PARAMS.yaml``, one provider from its
  params file, and ``kpitools params``;
- :mod:`~kpitools.run.runner`: one notebook job (execute, render, print), whatever runs it;
- :mod:`~kpitools.run.kernel`: the kernel machinery (warm kernels, the quiet transport,
  one final save, the HTML exporter); :mod:`~kpitools.run.provisioner`: the environment's
  kernel; :mod:`~kpitools.run.pdf`: printing with Chromium;
- :mod:`~kpitools.run.index`: what the index page lists, one row per provider folder.

What a pack's kernel imports is in :mod:`kpitools.present`, which imports nothing from
here; the files written beside a pack are in :mod:`kpitools.outputs`.
"""
