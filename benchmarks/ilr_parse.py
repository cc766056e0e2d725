"""ILR parsing benchmark (run on demand, not a unit test).

Generates ILR files of about 110 MB and 220 MB under benchmarks/_data/ (git-ignored),
then, for each size in a fresh subprocess (so each peak is that run's own), maps the
file with :func:`kpitools.ilr.mapping.tables_from_ilr_files` and prints MB/s and the
peak memory: the process's maximum resident set size (``ru_maxrss``) and, over the
same parse, the peak of Python allocations (``tracemalloc``, run separately because it
slows the parse). Speed is given by the wall clock and per second of the process's own
CPU time (the machine's load does not change the second). One learner in 20 is on a Skills Bootcamp, like a large college's
return; the others are adult-skills learners with several aims. Every bootcamp learner
is also checked against DfE's bootcamp validation rules (the synthetic aims lack some
fields DfE requires, so the findings column is not zero: checking them is part of the
cost measured).

Usage: ``python benchmarks/ilr_parse.py [--sizes 110 220] [--keep]``
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

DATA = Path(__file__).parent / "_data"
UKPRN = "10012345"

_HEADER = """<?xml version="1.0" encoding="utf-8"?>
<Message xmlns="ESFA/ILR/2024-25">
  <Header>
    <CollectionDetails><Collection>ILR</Collection><Year>2425</Year><FilePreparationDate>2025-03-31</FilePreparationDate></CollectionDetails>
    <Source><ProtectiveMarking>OFFICIAL-SENSITIVE-Personal</ProtectiveMarking><UKPRN>{ukprn}</UKPRN><SerialNo>01</SerialNo><DateTime>2025-03-31T18:00:00</DateTime></Source>
  </Header>
  <LearningProvider><UKPRN>{ukprn}</UKPRN></LearningProvider>
"""
_PERSON = """  <Learner>
    <LearnRefNumber>{ref}</LearnRefNumber><ULN>9999999999</ULN><FamilyName>Bench</FamilyName><GivenNames>Mark</GivenNames><DateOfBirth>1990-05-17</DateOfBirth>
    <Ethnicity>99</Ethnicity><Sex>F</Sex><LLDDHealthProb>9</LLDDHealthProb><PostcodePrior>ZZ99 9ZZ</PostcodePrior><Postcode>ZZ99 9ZZ</Postcode>
    <LearnerEmploymentStatus><EmpStat>10</EmpStat><DateEmpStatApp>2024-08-01</DateEmpStatApp><EmpId>123456789</EmpId>
      <EmploymentStatusMonitoring><ESMType>OET</ESMType><ESMCode>2</ESMCode></EmploymentStatusMonitoring>
    </LearnerEmploymentStatus>
"""
_AIM = """    <LearningDelivery>
      <LearnAimRef>{aim}</LearnAimRef><AimType>{aim_type}</AimType><AimSeqNumber>{seq}</AimSeqNumber><LearnStartDate>2024-10-07</LearnStartDate><LearnPlanEndDate>2025-01-24</LearnPlanEndDate><FundModel>{fund}</FundModel>{prog}<DelLocPostCode>ZZ99 9ZZ</DelLocPostCode><ConRefNumber>SB-BENCH-01</ConRefNumber><CompStatus>2</CompStatus><LearnActEndDate>2025-01-24</LearnActEndDate><Outcome>1</Outcome>
      <LearningDeliveryFAM><LearnDelFAMType>SOF</LearnDelFAMType><LearnDelFAMCode>{sof}</LearnDelFAMCode></LearningDeliveryFAM>
      <LearningDeliveryFAM><LearnDelFAMType>FFI</LearnDelFAMType><LearnDelFAMCode>2</LearnDelFAMCode></LearningDeliveryFAM>
    </LearningDelivery>
"""


def _learner(number: int) -> str:
    bootcamp = number % 20 == 0
    aims = (
        [("ZPROG001", 1), ("ZSBC0001", 3), ("Z0059747", 3)]
        if bootcamp
        else [(f"6{number % 9999999:07d}", 4) for _ in range(4)]
    )
    fund, sof = ("37", "105") if bootcamp else ("35", "105")
    prog = "<ProgType>32</ProgType>" if bootcamp else ""  # adult skills has no ProgType
    body = "".join(
        _AIM.format(aim=a, aim_type=t, seq=s, fund=fund, sof=sof, prog=prog)
        for s, (a, t) in enumerate(aims, start=1)
    )
    return _PERSON.format(ref=f"B{number:08d}") + body + "  </Learner>\n"


def generate(size_mb: int) -> Path:
    """An ILR file of at least ``size_mb`` MB (reused when already there)."""
    DATA.mkdir(parents=True, exist_ok=True)
    # the serial tells sizes apart: ILR file names carry two digits there
    path = DATA / f"ILR-{UKPRN}-2425-20250331-180000-{size_mb % 100:02d}.xml"
    marker = path.with_suffix(f".{size_mb}mb")
    if path.exists() and marker.exists():
        return path
    target = size_mb * 1_000_000
    with path.open("w", encoding="utf-8") as out:
        out.write(_HEADER.format(ukprn=UKPRN))
        written, number = 0, 0
        while written < target:
            chunk = "".join(_learner(number + k) for k in range(1000))
            out.write(chunk)
            written += len(chunk)
            number += 1000
        out.write("</Message>\n")
    marker.write_text(str(size_mb))
    return path


def measure(path: Path, trace: bool) -> dict[str, float | int]:
    """Map ``path`` once in this process; report speed and peaks."""
    from kpitools.errors import KpiToolsError
    from kpitools.ilr.mapping import tables_from_ilr_files
    from kpitools.rules import Rules

    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if trace:
        tracemalloc.start()
    started, cpu_started = time.perf_counter(), time.process_time()
    tables = tables_from_ilr_files({path: [path]}, rules=Rules())[path]
    elapsed = time.perf_counter() - started
    if isinstance(tables, KpiToolsError):
        raise tables
    cpu = time.process_time() - cpu_started  # what the parse costs, whatever else runs
    traced_peak = tracemalloc.get_traced_memory()[1] if trace else 0
    size = path.stat().st_size
    return {
        "size_mb": size / 1e6,
        "seconds": elapsed,
        "mb_per_s": size / 1e6 / elapsed,
        "mb_per_cpu_s": size / 1e6 / cpu,
        "learners_read": tables.learners_read,
        "bootcamp_learners": tables.bootcamp_learners,
        "findings": len(tables.findings),
        "baseline_rss_mb": baseline_kb / 1024,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "tracemalloc_peak_mb": traced_peak / 1e6,
    }


def _child(path: Path, trace: bool) -> dict[str, float | int]:
    command = [sys.executable, __file__, "--child", str(path)] + (["--trace"] if trace else [])
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[110, 220])
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.trace)))
        return
    print(
        f"{'file MB':>8} {'learners':>9} {'bootcamp':>9} {'findings':>9} {'s':>6} {'MB/s':>6} {'MB/cpu-s':>8} "
        f"{'base RSS':>9} {'peak RSS':>9} {'py peak':>8}"
    )
    for size in args.sizes:
        path = generate(size)
        fast = _child(path, trace=False)
        traced = _child(path, trace=True)
        print(
            f"{fast['size_mb']:8.1f} {fast['learners_read']:9d} {fast['bootcamp_learners']:9d} "
            f"{fast['findings']:9d} "
            f"{fast['seconds']:6.1f} {fast['mb_per_s']:6.1f} {fast['mb_per_cpu_s']:8.1f} "
            f"{fast['baseline_rss_mb']:8.0f}M "
            f"{fast['peak_rss_mb']:8.0f}M {traced['tracemalloc_peak_mb']:7.1f}M"
        )
        if not args.keep:
            path.unlink()
            path.with_suffix(f".{size}mb").unlink()


if __name__ == "__main__":
    main()
