"""Memory of a provider whose every learner row is bad: refused up front, or under the limit.

Issue 29 item 5 (run on demand, never in CI). A learner row whose 14 fields are all bad
gives about ten rejection reasons; 100,000 such rows (3.3 MB of CSV) were estimated at
48 MB and peaked at 2.6 GB under ``kpitools --memory-limit 300``. This builds that
return (``benchmarks/_data/bad_rows/``, git-ignored; seconds), then, in a fresh
interpreter with ``KPITOOLS_MEMORY_LIMIT_MB`` set, prepares its pack exactly as
``kpitools packs`` does before the notebook runs
(:func:`kpitools.run.batch.prepare_period`: load, validate, audit, write every output,
the register and the saved audit) and prints whether it was refused up front, its peak
RSS, the estimate :mod:`kpitools.io.memory` made before loading, and the rows read,
accepted and rejected (which must balance).

Goal: refused before loading, or done with a peak RSS under the limit.

Usage: ``python benchmarks/bad_rows_memory.py [--rows 100000] [--limit 300]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent / "_data" / "bad_rows"
PERIOD = "2023-03"
PROVIDER = "P001"
HEADER = (
    "learner_ref,uln,bootcamp_id,learner_type,employer_id,wants_interview,start_date,m1_date,"
    "withdrawal_date,withdrawal_reported_date,completion_date,new_role_evidence_date,"
    "given_name,family_name\n"
)


def say(line: str) -> None:
    print(line, flush=True)


def data_set(rows: int) -> Path:
    """``DATA/<period>`` of one provider whose ``rows`` learner rows are all bad."""
    folder = DATA / f"rows_{rows}" / PERIOD / PROVIDER
    learners = folder / "learners.csv"
    if not learners.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "provider.csv").write_text(
            f"provider_id,name,ukprn\n{PROVIDER},Bad Rows Ltd,10012345\n", encoding="utf-8"
        )
        (folder / "bootcamps.csv").write_text(
            "bootcamp_id,start_date,end_date,price_per_learner\nB1,2023-01-09,2023-06-30,3000\n",
            encoding="utf-8",
        )
        # every field bad: ULN, bootcamp, type, flag and six dates (about ten reasons)
        with learners.open("w", encoding="utf-8") as handle:
            handle.write(HEADER)
            for i in range(rows):
                handle.write(f"R{i},1{i % 10},X{i % 7},zz,,qq,a{i % 9},b,c,d,e,f,g,h\n")
    return folder.parent


_PREPARE = """
import json, resource, sys, tempfile
from pathlib import Path
from kpitools.errors import KpiToolsError
from kpitools.io.memory import estimated_mb
from kpitools.run.batch import prepare_period
from kpitools.run.single import batch_base
from kpitools.returns.validate import MAX_REJECTED_REASONS
period_dir = Path(sys.argv[1])
with tempfile.TemporaryDirectory() as tmp:
    (Path(tmp) / "work").mkdir(mode=0o700)
    prepared = prepare_period(period_dir, Path(tmp) / "out", base=batch_base(),
                              work_dir=Path(tmp) / "work")
    counts = {}
    for ctx in prepared.contexts.values():
        counts = {n: [c.read, c.accepted, c.rejected] for n, c in ctx.audit.provider.counts.items()}
print(json.dumps({"failures": prepared.failures, "counts": counts,
                  "estimate_mb": estimated_mb([period_dir / sys.argv[2]],
                                             reasons_per_table=MAX_REJECTED_REASONS),
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(rows: int, limit: float) -> dict:
    """One run in a fresh interpreter (an honest peak RSS), under ``limit`` MB."""
    period_dir = data_set(rows)
    env = {**os.environ, "KPITOOLS_MEMORY_LIMIT_MB": f"{limit:g}"}
    env.setdefault("KPITOOLS_PSEUDONYM_KEY", "bad-rows-benchmark-key-0123456789")
    done = subprocess.run(
        [sys.executable, "-c", _PREPARE, str(period_dir), PROVIDER],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench(rows: int, limit: float) -> dict:
    say(f"\n== {rows:,} learner rows of bad fields under a memory limit of {limit:g} MB")
    size = (data_set(rows) / PROVIDER / "learners.csv").stat().st_size
    run = measure(rows, limit)
    refused = run["failures"].get(PROVIDER, "")
    learners = run["counts"].get("learners")
    outcome = (
        f"refused before loading: {refused}"
        if "not loaded" in refused
        else f"FAILED: {refused}"
        if refused
        else f"built; learners read {learners[0]:,} = {learners[1]:,} accepted + "
        f"{learners[2]:,} rejected"
    )
    say(
        f"learners.csv {size / 1e6:.1f} MB, estimated before loading at {run['estimate_mb']:,.0f} MB"
    )
    say(outcome)
    say(f"peak RSS {run['rss_mb']:,.0f} MB (goal: refused, or under {limit:g} MB)")
    met = "not loaded" in refused or (not refused and run["rss_mb"] < limit)
    say(f"met: {'yes' if met else 'NO'}")
    return {"bad_rows_peak_rss_mb": round(run["rss_mb"], 1), "bad_rows_goal_met": met}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--limit", type=float, default=300.0, metavar="MB")
    args = parser.parse_args()
    bench(args.rows, args.limit)


if __name__ == "__main__":
    main()
