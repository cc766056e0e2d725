"""Seeded synthetic demo data: realistic monthly returns of Skills Bootcamp providers,
with known irregularities planted and a ground truth that tests check.

- :mod:`~kpitools.demo.generator` builds the world and writes the returns
  (:func:`~kpitools.demo.generator.generate`, :func:`~kpitools.demo.generator.build`);
- :mod:`~kpitools.demo.truth` the ground truth (:class:`~kpitools.demo.truth.GroundTruth`);
- :mod:`~kpitools.demo.ilr_demo` and :mod:`~kpitools.demo.ilr_writer` the ILR files.

>>> from kpitools.demo.generator import generate
>>> truth = generate(Path("data/demo"))          # doctest: +SKIP
"""
