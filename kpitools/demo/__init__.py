"""Seeded synthetic demo data: realistic monthly returns of Skills Bootcamp providers,
with known irregularities planted and a ground truth that tests check.

>>> from kpitools.demo import generate
>>> truth = generate(Path("data/demo"))          # doctest: +SKIP
"""

from __future__ import annotations

from kpitools.demo.generator import DEFAULT_PERIODS, DemoSet, build, generate
from kpitools.demo.truth import Expectation, GroundTruth, Hostile
from kpitools.demo.world import uln_check_digit

__all__ = [
    "DEFAULT_PERIODS", "DemoSet", "Expectation", "GroundTruth", "Hostile", "build",
    "generate", "uln_check_digit",
]
