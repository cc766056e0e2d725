"""Timings of small operations that the unit tests no longer assert (run on demand; a
timed unit test fails on a busy machine for no fault of the code). Prints each figure
beside its goal:

- the demo generator: three months of the default demo built in memory (goal: under 4 s of
  CPU on one core) and generated to disk, ILR files included (goal: under 12 s of CPU);
- hostile ILR files (``tests/fixtures/ilr/hostile``, and the billion-laughs file with its
  DOCTYPE after 70 KB of comment, past the quick prolog scan): each refused in under a
  second of wall clock, the billion-laughs file in under 0.2 s
  (``tests/ilr/test_ilr_reader_hostile.py`` checks that each is refused, names the file
  and allocates little; here how fast).

Usage: ``python benchmarks/small_timings.py``
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from kpitools.demo.generator import build, generate
from kpitools.errors import FileLevelError
from kpitools.ilr.reader import read_ilr

HOSTILE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "ilr" / "hostile"


def say(what: str, measured: float, goal: float, unit: str) -> bool:
    met = measured < goal
    print(
        f"{what:<58} {measured:8.3f} {unit:<2}  goal < {goal:g} {unit}  {'yes' if met else 'NO'}",
        flush=True,
    )
    return met


def demo_generation() -> list[bool]:
    started = time.process_time()
    build()
    built = time.process_time() - started
    with tempfile.TemporaryDirectory() as out:
        started = time.process_time()
        generate(Path(out))
        written = time.process_time() - started
    return [
        say("demo, three months built in memory (CPU)", built, 4.0, "s"),
        say("demo, three months written with ILR files (CPU)", written, 12.0, "s"),
    ]


def refusal_ms(path: Path) -> float:
    """Milliseconds of wall clock that reading the hostile ``path`` takes to fail."""
    started = time.perf_counter()
    try:
        read_ilr(path)
    except FileLevelError:
        return (time.perf_counter() - started) * 1000
    raise SystemExit(f"{path} was read: a hostile file must be refused")


def hostile_ilr() -> list[bool]:
    results = []
    for path in sorted(HOSTILE.glob("*.xml")):
        goal = 200 if path.name == "billion_laughs.xml" else 1000
        results.append(say(f"hostile ILR {path.name} refused (wall)", refusal_ms(path), goal, "ms"))
    declaration, rest = (HOSTILE / "billion_laughs.xml").read_text(encoding="utf-8").split("\n", 1)
    with tempfile.TemporaryDirectory() as folder:
        padded = Path(folder) / "padded.xml"
        padded.write_text(f"{declaration}\n<!-- {'x' * 70_000} -->\n{rest}", encoding="utf-8")
        results.append(
            say(
                "hostile ILR, DOCTYPE after 70 KB of comment (wall)", refusal_ms(padded), 1000, "ms"
            )
        )
    return results


def main() -> int:
    met = demo_generation() + hostile_ilr()
    print(f"{sum(met)} of {len(met)} goals met")
    return 0 if all(met) else 1


if __name__ == "__main__":
    raise SystemExit(main())
