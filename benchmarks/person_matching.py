"""The person matching (issue 28), measured: run on demand, never in CI.

- ``quality``: precision and recall of DUP-PERSON-* on the demo's planted pairs over
  several seeds (``ground_truth.json``'s ``person_pairs``: people entered twice with
  noise, and look-alikes who are two people), at the default threshold, for the last
  period of each demo (goal: both at least 0.95). A pair is *found* when the audit of
  either side's provider reports it (the ``person_matches`` worklist names both sides).
- ``scale``: the national period (200 providers, 50,000 learners) audited alone
  (``person_history_months`` 0) and with 3 and 12 earlier months: the whole
  ``audit_period``, the matching step within it, and the peak memory, each in a fresh
  interpreter (goal: growth close to linear; with 12 months under 2 minutes and 2 GB).

Data is generated once under ``benchmarks/_data/`` (git-ignored): five default demos
(``people_seeds/<seed>``) and a national demo of 13 months (``people_national``, 2022-03
to 2023-03: about 20 minutes).

Usage: ``python benchmarks/person_matching.py [--only quality,scale] [--seeds 2023,7,11,42,99]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
SEEDS = (2023, 7, 11, 42, 99)
NATIONAL = DATA / "people_national"
PERIOD = "2023-03"


def say(line: str) -> None:
    print(line, flush=True)


def _demo(seed: int) -> Path:
    from kpitools.demo.generator import generate

    root = DATA / "people_seeds" / str(seed)
    if not (root / "ground_truth.json").is_file():
        generate(root, seed=seed)
    return root


def _pair(
    provider: str, ref: str, other_provider: str, other_ref: str
) -> frozenset[tuple[str, str]]:
    return frozenset({(provider, ref), (other_provider, other_ref)})


def quality(seeds: list[int]) -> dict[str, float]:
    """Precision and recall over the seeds' last periods."""
    from kpitools import audit_period
    from kpitools.calendar import period_end
    from kpitools.checks.people import PERSON_MATCHES

    true_found = planted = found_total = 0
    for seed in seeds:
        root = _demo(seed)
        truth = json.loads((root / "ground_truth.json").read_text(encoding="utf-8"))
        period = truth["periods"][-1]
        same = {
            frozenset((s["provider_id"], s["learner_ref"]) for s in pair["learners"])
            for pair in truth["person_pairs"]
            if pair["same_person"]
        }
        look_alikes = {
            frozenset((s["provider_id"], s["learner_ref"]) for s in pair["learners"])
            for pair in truth["person_pairs"]
            if not pair["same_person"]
        }
        found: set[frozenset[tuple[str, str]]] = set()
        for provider, audit in audit_period(root / period, as_of=period_end(period)).items():
            worklist = getattr(audit, "worklists", {}).get(PERSON_MATCHES)
            if worklist is None:
                continue
            for row in worklist.itertuples(index=False):
                found.add(
                    _pair(provider, row.learner_ref, row.other_provider_id, row.other_learner_ref)
                )
        hits = len(found & same)
        say(
            f"seed {seed}: {len(same)} planted same-person pairs, {len(look_alikes)} look-alikes;"
            f" found {len(found)} pairs, {hits} of them planted, look-alikes found"
            f" {len(found & look_alikes)}"
        )
        true_found += hits
        planted += len(same)
        found_total += len(found)
    precision = true_found / found_total if found_total else 1.0
    recall = true_found / planted if planted else 1.0
    say(
        f"precision {precision:.3f} ({true_found}/{found_total}), recall {recall:.3f}"
        f" ({true_found}/{planted}) over {len(seeds)} seeds (goal: both >= 0.95)"
    )
    return {"precision": round(precision, 3), "recall": round(recall, 3), "pairs": planted}


_SCALE = """
import json, resource, time
from datetime import date
import kpitools.audit as engine
from kpitools.rules import Rules
spent = []
matching = engine._people
def timed(*args, **kwargs):
    t = time.perf_counter()
    try:
        return matching(*args, **kwargs)
    finally:
        spent.append(time.perf_counter() - t)
engine._people = timed
rules = Rules(person_history_months={months})
t = time.perf_counter()
results = engine.audit_period({period!r}, as_of=date(2023, 3, 31), rules=rules)
seconds = time.perf_counter() - t
audits = [a for a in results.values() if hasattr(a, "person_model")]
model = audits[0].person_model
found = sum(1 for a in audits for f in a.irregularities if f.rule.startswith("DUP-PERSON"))
print(json.dumps({{"seconds": seconds, "matching": sum(spent), "records": model["records"],
                   "periods": len(model["periods"]), "pairs": model["pairs_at_threshold"],
                   "findings": found,
                   "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def scale() -> dict[str, dict[str, float]]:
    """audit_period of the national period with 0, 3 and 12 earlier months."""
    period_dir = NATIONAL / PERIOD
    if not (period_dir / "P200").is_dir():
        say(f"generating the 13-month national demo under {NATIONAL} (once; about 20 minutes)")
        periods = ",".join(f"2022-{m:02d}" for m in range(3, 13)) + ",2023-01,2023-02,2023-03"
        subprocess.run(
            [str(Path(sys.executable).with_name("kpitools")), "demo", "--out", str(NATIONAL)]
            + ["--national", "--periods", periods],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    figures = {}
    for months in (0, 3, 12):
        code = _SCALE.format(months=months, period=str(period_dir))
        done = subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        )
        run = json.loads(done.stdout.strip().splitlines()[-1])
        say(
            f"national period with {months} earlier months: audit_period {run['seconds']:.1f} s, of"
            f" which the person matching {run['matching']:.1f} s ({run['records']:,} learner rows"
            f" of {run['periods']} periods, {run['pairs']} pairs at the threshold,"
            f" {run['findings']} findings), peak {run['rss_mb']:.0f} MB"
        )
        figures[f"history_{months}"] = {k: round(v, 1) for k, v in run.items()}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="quality,scale")
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    wanted = set(args.only.split(","))
    say(f"person matching benchmark, {date.today().isoformat()}")
    results: dict[str, object] = {}
    if "quality" in wanted:
        results["quality"] = quality([int(s) for s in args.seeds.split(",")])
    if "scale" in wanted:
        results["scale"] = scale()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
