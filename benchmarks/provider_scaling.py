"""One provider at 1k, 10k and 100k learners: does the cost per learner row stay flat?

Issue 16 item 4 (run on demand, never in CI). For each size, a fresh subprocess prepares
one provider's pack exactly as ``kpitools packs`` does before its notebook runs
(:func:`kpitools.run.batch.prepare_period` on a period holding only that provider):
load and validate the return and the previous month's, every KPI, every check, the ILR
review, the KPI trends, then write ``kpi_results.csv``, ``exceptions.csv``,
``rejected_rows.csv``, ``exceptions.xlsx``, ``manifest.json``, the params and the saved
audit. It prints the seconds per learner row, the process's peak RSS beside the memory
:mod:`kpitools.io.memory` estimates from the file sizes before loading, and the key
figure ``provider_scaling_ratio`` = seconds per row at the largest size / at the smallest
(goal: at most 2).

The provider is the demo generator's (:func:`kpitools.demo.generator.build_world` through
``generate``): two providers over two months, of which ``P002`` (clean, with ILR files
each month) is measured; about half the learners are its. The data sets are generated
once under ``benchmarks/_data/scaling/`` (git-ignored; about 8 minutes for 100k the
first time).

Usage: ``python benchmarks/provider_scaling.py [--sizes 1000 10000 100000] [--profile N]``
(``--profile N`` runs cProfile on size ``N`` and prints the top functions instead).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent / "_data" / "scaling"
SIZES = (1000, 10000, 100000)
PERIODS = ("2023-02", "2023-03")
PROVIDER = "P002"  # the clean provider of two: it also sends ILR files every month


def say(line: str) -> None:
    print(line, flush=True)


def data_set(learners: int) -> Path:
    """``DATA/<period>`` for a demo whose measured provider has about ``learners``
    learners (generated once)."""
    root = DATA / f"learners_{learners}"
    if not (root / PERIODS[-1] / PROVIDER / "learners.csv").is_file():
        say(f"generating a provider of about {learners:,} learners under {root} (once) ...")
        subprocess.run(
            [
                sys.executable,
                "-c",
                _GENERATE.format(out=str(root), learners=2 * learners, periods=list(PERIODS)),
            ],
            check=True,
        )
    return root / PERIODS[-1]


# The demo CLI caps a data set at 60,000 learners (a national set is 50,000); a benchmark
# of one large provider needs more, so it calls the generator below that check.
_GENERATE = """
import shutil
from pathlib import Path
from kpitools.demo import generator
out = Path({out!r})
shutil.rmtree(out, ignore_errors=True)
generator.MAX_LEARNERS = max(generator.MAX_LEARNERS, {learners})
generator.generate(out, providers=2, learners={learners}, periods={periods!r}, ilr_only=False)
"""

_PREPARE = """
import json, resource, sys, tempfile, time
from pathlib import Path
from kpitools.run.batch import prepare_period
from kpitools.run.single import batch_base
from kpitools.returns.validate import MAX_REJECTED_REASONS
from kpitools.io.memory import estimated_mb
period_dir, provider, profile = Path(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"
base_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    # a period holding only the measured provider (and its previous month), linked
    for folder in (period_dir, period_dir.parent / {previous!r}):
        (tmp / "data" / folder.name).mkdir(parents=True)
        (tmp / "data" / folder.name / provider).symlink_to(folder / provider, target_is_directory=True)
    (tmp / "work").mkdir(mode=0o700)
    def run():
        return prepare_period(tmp / "data" / period_dir.name, tmp / "out", base=batch_base(),
                              work_dir=tmp / "work")
    if profile:
        import cProfile, pstats
        profiler = cProfile.Profile()
        t = time.perf_counter()
        prepared = profiler.runcall(run)
        seconds = time.perf_counter() - t
        stats = pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative")
        stats.print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
    else:
        t = time.perf_counter()
        prepared = run()
        seconds = time.perf_counter() - t
    assert not prepared.failures, prepared.failures
    rows = sum(1 for _ in open(period_dir / provider / "learners.csv", encoding="utf-8-sig")) - 1
    size = sum(f.stat().st_size for f in (period_dir / provider).rglob("*") if f.is_file())
estimate = estimated_mb([period_dir / provider, period_dir.parent / {previous!r} / provider],
                        reasons_per_table=MAX_REJECTED_REASONS)
print(json.dumps({{"seconds": seconds, "rows": rows, "input_mb": size / 1e6, "base_mb": base_mb,
                   "estimate_mb": estimate,
                   "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def measure(learners: int, *, profile: bool = False) -> dict:
    """One size's figures, from a fresh interpreter (honest peak memory)."""
    period_dir = data_set(learners)
    code = _PREPARE.format(previous=PERIODS[0])
    done = subprocess.run(
        [sys.executable, "-c", code, str(period_dir), PROVIDER, "1" if profile else "0"],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench(sizes: tuple[int, ...] = SIZES) -> dict:
    """Every size, then the ratio of the largest's seconds per row to the smallest's."""
    say("\n== one provider at growing size: audit + outputs + pack preparation (prepare_period)")
    runs = {}
    for learners in sizes:
        run = runs[learners] = measure(learners)
        say(
            f"{run['rows']:>7,} learner rows ({run['input_mb']:.1f} MB of input, this month): "
            f"{run['seconds']:7.2f} s, {1e3 * run['seconds'] / run['rows']:.3f} ms per row, "
            f"peak RSS {run['rss_mb']:,.0f} MB: {run['rss_mb'] - run['base_mb']:,.0f} MB above the "
            f"interpreter's, estimated before loading at {run['estimate_mb']:,.0f} MB (kpitools.io.memory)"
        )
    small, large = runs[min(sizes)], runs[max(sizes)]
    ratio = (large["seconds"] / large["rows"]) / (small["seconds"] / small["rows"])
    say(
        f"seconds per row at {large['rows']:,} / at {small['rows']:,} rows: {ratio:.2f} (goal <= 2)"
    )
    return {
        "provider_scaling_ratio": round(ratio, 2),
        "provider_seconds_per_row": {
            str(k): round(v["seconds"] / v["rows"], 6) for k, v in runs.items()
        },
        "provider_peak_rss_mb": {str(k): round(v["rss_mb"], 1) for k, v in runs.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument(
        "--profile",
        type=int,
        metavar="N",
        help="cProfile the size N (printed to stderr) instead of timing every size",
    )
    args = parser.parse_args()
    if args.profile:
        run = measure(args.profile, profile=True)
        say(
            f"{run['rows']:,} rows: {run['seconds']:.2f} s under cProfile, peak RSS {run['rss_mb']:,.0f} MB"
        )
        return
    bench(tuple(sorted(args.sizes)))


if __name__ == "__main__":
    main()
