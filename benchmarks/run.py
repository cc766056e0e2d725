"""Issue 7 benchmarks: run on demand (``make bench``), never in CI; prints every figure.

Each benchmark compares kpitools with a baseline measured in the same run, on this
machine, so the ratio means something even when the absolute times do not travel:

- ``national``: load + validate + every KPI + every check for one national period
  (200 providers, 50,000 learners, ~6,000 employers), against the bare read of every
  input: pandas reading every CSV (as text) and lxml parsing every ILR file of the
  period (goals: within 3x the bare read, and under 10 s on 2 cores; issue 24).
- ``packs``: one provider's pack (papermill + nbconvert of the real notebook) against a
  minimal papermill + nbconvert run of a trivial notebook (goal: within 1.5x); and a
  20-pack batch with 2 workers against 1 (goal: at least 1.7x faster).
- ``ilr``: ILR parsing of ~110 MB and ~220 MB files: MB/s and peak memory (goals: at least
  20 MB/s, peak under 300 MB and flat as the file grows) — ``benchmarks/ilr_parse.py``.
- ``size``: the HTML pack of a ~500-learner provider (goal: at most 1.5 MB).
- ``scaling``: one provider at 1k, 10k and 100k learners, its audit + outputs + pack
  preparation: seconds per learner row and peak memory (goal: seconds per row at 100k
  within 2x those at 1k, ``provider_scaling_ratio``) — ``benchmarks/provider_scaling.py``.
- ``badrows``: 100,000 learner rows of bad fields under a memory limit of 300 MB: refused
  before loading or built under it (issue 29) — ``benchmarks/bad_rows_memory.py``.

Data is generated once under ``benchmarks/_data/`` (git-ignored) and reused.

Usage: ``python benchmarks/run.py [--only national,packs,ilr,size,scaling,badrows] [--json FILE]``

``--json FILE`` also writes the run's figures as one JSON object (keys of issue 16:
``national_ratio_to_bare_read``, ``national_seconds``, ``pack_ratio_to_trivial``,
``batch_pack_ratio_to_trivial``, ``peak_rss_mb``, ``provider_scaling_ratio``, and of
issue 24: ``bare_read_seconds``, ``bare_read_includes_ilr``; a figure
the chosen benchmarks did not measure is ``null``), with the load average.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
NATIONAL = DATA / "national"
PERIOD = "2023-03"
PERIODS = "2023-02,2023-03"


def say(line: str) -> None:
    print(line, flush=True)


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def kpitools_cmd(*args: str) -> None:
    subprocess.run(
        [str(Path(sys.executable).with_name("kpitools")), *args],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def national_data() -> Path:
    if not (NATIONAL / PERIOD / "P200").is_dir():
        say(f"generating the national data set under {NATIONAL} (once; about 3 minutes) ...")
        shutil.rmtree(NATIONAL, ignore_errors=True)
        kpitools_cmd("demo", "--out", str(NATIONAL), "--national", "--periods", PERIODS)
    return NATIONAL / PERIOD


def _child(code: str) -> dict:
    """Run ``code`` in a fresh interpreter (cold caches, honest peak memory); it prints JSON."""
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


_BARE_READ = """
import json, resource, sys, time
from pathlib import Path
import pandas as pd
from lxml import etree
period = Path({period!r})
t = time.perf_counter(); rows = 0
for f in sorted(period.glob("*/*.csv")):
    rows += len(pd.read_csv(f, dtype=str, keep_default_na=False))
csv_seconds = time.perf_counter() - t
ilr_files = ilr_bytes = 0
for f in sorted(period.glob("*/ilr/*.xml")):
    etree.parse(str(f), etree.XMLParser(resolve_entities=False, huge_tree=True))
    ilr_files += 1; ilr_bytes += f.stat().st_size
print(json.dumps({{"seconds": time.perf_counter() - t, "csv_seconds": csv_seconds, "rows": rows,
                   "ilr_files": ilr_files, "ilr_mb": ilr_bytes / 1e6,
                   "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""

_AUDIT = """
import json, resource, time
from datetime import date
from kpitools.audit import audit_period
kwargs = {kwargs!r}
t = time.perf_counter()
results = audit_period({period!r}, as_of=date(2023, 3, 31), **kwargs)
seconds = time.perf_counter() - t
failed = [k for k, v in results.items() if not hasattr(v, "kpi_results")]
findings = sum(len(v.findings()) for v in results.values() if hasattr(v, "kpi_results"))
print(json.dumps({{"seconds": seconds, "providers": len(results), "failed": failed,
                   "findings": findings,
                   "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def bench_national() -> dict:
    period_dir = national_data()
    say("\n== national period: load + validate + KPIs + checks vs a bare read of every input")
    bare = _child(_BARE_READ.format(period=str(period_dir)))
    say(
        f"bare read of every input: {bare['seconds']:.2f} s (pandas, every CSV: "
        f"{bare['csv_seconds']:.2f} s, {bare['rows']:,} rows; lxml, every ILR file: "
        f"{bare['seconds'] - bare['csv_seconds']:.2f} s, {bare['ilr_files']} files of {bare['ilr_mb']:.0f} MB)"
    )
    from kpitools.audit import audit_period

    runs = [{}]
    if "workers" in inspect.signature(audit_period).parameters:
        runs.append({"workers": 2})
    figures: dict = {}
    for kwargs in runs:
        audit = _child(_AUDIT.format(period=str(period_dir), kwargs=kwargs))
        label = f"workers={kwargs.get('workers', 1)}"
        say(
            f"kpitools audit_period ({label}): {audit['seconds']:.2f} s for {audit['providers']} providers "
            f"({audit['findings']:,} findings, {len(audit['failed'])} failed), "
            f"peak {audit['rss_mb']:.0f} MB; ratio {audit['seconds'] / bare['seconds']:.1f}x the bare read "
            f"(goals: <= 3x and < 10 s)"
        )
        if not kwargs:  # the one-worker run is the figure of record
            figures = {
                "national_seconds": round(audit["seconds"], 2),
                "national_ratio_to_bare_read": round(audit["seconds"] / bare["seconds"], 2),
                "peak_rss_mb": round(audit["rss_mb"], 1),
                "bare_read_seconds": round(bare["seconds"], 2),
                "bare_read_includes_ilr": True,
            }
    return figures


_TRIVIAL = {
    "cells": [
        {
            "id": "parameters",
            "cell_type": "code",
            "metadata": {"tags": ["parameters"]},
            "source": "x = 1",
            "outputs": [],
            "execution_count": None,
        },
        {
            "id": "work",
            "cell_type": "code",
            "metadata": {},
            "source": "x + 1",
            "outputs": [],
            "execution_count": None,
        },
    ],
    "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}


def _trivial_seconds(work: Path) -> float:
    import papermill
    from nbconvert import HTMLExporter

    source = work / "trivial.ipynb"
    source.write_text(json.dumps(_TRIVIAL), encoding="utf-8")
    t = time.perf_counter()
    papermill.execute_notebook(
        str(source),
        str(work / "trivial_out.ipynb"),
        parameters={"x": 2},
        progress_bar=False,
        kernel_name="python3",
    )
    body, _ = HTMLExporter(exclude_input=True).from_filename(str(work / "trivial_out.ipynb"))
    (work / "trivial.html").write_text(body, encoding="utf-8")
    return time.perf_counter() - t


def _subset(period_dir: Path, providers: list[str], dest: Path) -> Path:
    """A period folder holding only ``providers`` (linked, not copied), previous month too."""
    for period in (period_dir.name, "2023-02"):
        for provider in providers:
            target = dest / period / provider
            target.parent.mkdir(parents=True, exist_ok=True)
            source = period_dir.parent / period / provider
            if source.is_dir() and not target.exists():
                target.symlink_to(source, target_is_directory=True)
    return dest / period_dir.name


def _pack_jobs(period_dir: Path, out: Path):
    from kpitools.run.batch import prepare_period
    from kpitools.run.single import batch_base

    # the saved audits go to a folder beside the outputs, inside the benchmark's own
    # temporary folder (a batch uses kpitools.io.workspace.private_folder)
    work = out.with_name(out.name + "_audits")
    work.mkdir(mode=0o700, exist_ok=True)
    return prepare_period(period_dir, out, base=batch_base(), work_dir=work)


def bench_packs() -> dict:
    from kpitools.run.batch import run_jobs

    say("\n== packs: one pack vs a trivial papermill + nbconvert run; 20 packs, 2 workers vs 1")
    period_dir = national_data()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        _trivial_seconds(work)  # warm the kernel spec and imports once
        trivial = min(_trivial_seconds(work) for _ in range(3))
        one = _pack_jobs(_subset(period_dir, ["P001"], work / "one"), work / "one_out")
        singles = []
        for _ in range(3):
            t = time.perf_counter()
            outcome = run_jobs(one.jobs, workers=1, progress=False)["P001"]
            singles.append(time.perf_counter() - t)
            assert outcome.ok, outcome.error
        pack = min(singles)
        say(
            f"trivial notebook: {trivial:.2f} s; one provider's pack: {pack:.2f} s; "
            f"ratio {pack / trivial:.1f}x (goal <= 1.5x)"
        )

        twenty = [f"P{n:03d}" for n in range(1, 21)]
        batch = _pack_jobs(_subset(period_dir, twenty, work / "twenty"), work / "twenty_out")
        timings = {}
        for workers in (1, 2):
            t = time.perf_counter()
            outcomes = run_jobs(batch.jobs, workers=workers, progress=False)
            timings[workers] = time.perf_counter() - t
            failed = [p for p, o in outcomes.items() if not o.ok]
            say(
                f"20 packs with {workers} worker(s): {timings[workers]:.1f} s"
                + (f" ({len(failed)} failed: {failed})" if failed else "")
            )
        say(f"speed-up with 2 workers: {timings[1] / timings[2]:.2f}x (goal >= 1.7x)")
        per_pack = timings[1] / len(batch.jobs)
        say(
            f"warm batch, 1 worker: {per_pack:.2f} s per pack; ratio {per_pack / trivial:.2f}x the trivial "
            f"notebook (goal <= 1.0x)"
        )
    return {
        "pack_ratio_to_trivial": round(pack / trivial, 2),
        "batch_pack_ratio_to_trivial": round(per_pack / trivial, 2),
        "two_worker_speedup": round(timings[1] / timings[2], 2),
    }


def bench_ilr() -> dict:
    say("\n== ILR parsing (benchmarks/ilr_parse.py)")
    subprocess.run([sys.executable, str(HERE / "ilr_parse.py")], check=True)
    return {}


def bench_size() -> dict:
    say("\n== HTML pack size for a ~500-learner provider")
    from kpitools.run.batch import build_packs
    from kpitools.run.single import batch_base

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        kpitools_cmd(
            "demo",
            "--out",
            str(data),
            "--providers",
            "3",
            "--learners",
            "1500",
            "--periods",
            PERIODS,
        )
        result = build_packs(
            data / PERIOD, Path(tmp) / "out", base=batch_base(), workers=2, progress=False
        )
        for provider, outcome in sorted(result.outcomes.items()):
            if not outcome.ok:
                say(f"{provider}: FAILED {outcome.error}")
                continue
            learners = (
                sum(
                    1 for _ in open(data / PERIOD / provider / "learners.csv", encoding="utf-8-sig")
                )
                - 1
            )
            size = Path(outcome.html_path).stat().st_size / 1e6
            say(f"{provider}: {learners} learners, audit_pack.html {size:.2f} MB (goal <= 1.5 MB)")
    return {}


def bench_scaling() -> dict:
    from provider_scaling import bench  # benchmarks/ is this script's folder

    return bench()


def bench_bad_rows() -> dict:
    from bad_rows_memory import bench  # benchmarks/ is this script's folder

    return bench(100_000, 300.0)


JSON_KEYS = (
    "national_ratio_to_bare_read",
    "national_seconds",
    "pack_ratio_to_trivial",
    "batch_pack_ratio_to_trivial",
    "peak_rss_mb",
    "provider_scaling_ratio",
    "bare_read_seconds",
    "bare_read_includes_ilr",
)
BENCHES = {
    "national": bench_national,
    "packs": bench_packs,
    "ilr": bench_ilr,
    "size": bench_size,
    "scaling": bench_scaling,
    "badrows": bench_bad_rows,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", default=",".join(BENCHES), help=f"comma-separated subset of {', '.join(BENCHES)}"
    )
    parser.add_argument(
        "--json", metavar="FILE", help="also write the run's figures as JSON to FILE"
    )
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(BENCHES))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    say(f"kpitools benchmarks on {machine()}, {date.today().isoformat()}")
    figures = dict.fromkeys(JSON_KEYS)
    for name in chosen:
        figures.update(BENCHES[name]())
    if args.json:
        figures.update(
            load_average=os.getloadavg(),
            machine=machine(),
            date=date.today().isoformat(),
            benchmarks=chosen,
        )
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        say(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
