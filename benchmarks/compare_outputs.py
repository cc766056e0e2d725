"""Prove a refactor changed no output: build the demo's outputs into a folder, then
compare two such folders.

``build DIR`` writes a small demo (fixed seed, CSV and xlsx returns) and, with a fixed
pseudonym key, runs ``kpitools packs`` on its last period, ``kpitools kpis`` and
``kpitools sample`` (fixed seed) on its first provider. ``compare A B`` then checks:

- the same files on both sides (generated HTML/PDF/notebooks are listed, not compared);
- every CSV, JSON-lines and YAML text byte for byte (YAML minus the folders it names);
- every xlsx sheet's cell values;
- every ``*manifest*.json`` minus timestamps, paths, versions and the run's name;
- the audit store (``kpitools.duckdb``): every table's rows, minus the same.

It prints one line per difference and ``identical`` (exit 0) when there is none.

``build DIR --workers 1`` runs the packs' audit step in one process, where the period's
KPIs are measured together (:func:`kpitools.kpis.compute_kpis`); the outputs must
not change with the number of workers.

``period DATA/PERIOD DIR`` audits a whole period in this process (``audit_period``,
``--workers N``) and writes every provider's working outputs (kpi_results.csv,
exceptions.csv, rejected_rows.csv, manifest.json), each worklist as CSV and its notes,
its trends over the earlier months beside the period and its register's follow-up (no
earlier register: every exception is new) under ``DIR/<provider>``, or
``DIR/<provider>/error.txt`` for a provider that failed:
run it before a change (e.g. with ``PYTHONPATH`` naming the older package) and after,
then ``compare`` the two folders (the national set: every provider's CSV outputs).

Usage: ``python benchmarks/compare_outputs.py build DIR`` (run it on main before a
refactor and after it), ``python benchmarks/compare_outputs.py compare DIR_A DIR_B``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

SEED = "11"
KEY = "compare-outputs-fixed-key-0123456789"
PERIOD = "2023-03"
KPITOOLS = Path(sys.executable).with_name("kpitools")
NOT_COMPARED = {".html", ".pdf", ".ipynb", ".png", ".txt", ".log"}
VOLATILE = re.compile(
    r"(time|_at|_utc|date_run|path|dir|version|python|platform|host|duration|seconds|^run$)",
    re.I,
)


def run(*args: str | Path) -> None:
    env = {**os.environ, "KPITOOLS_PSEUDONYM_KEY": KEY}
    done = subprocess.run([str(KPITOOLS), *map(str, args)], env=env, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        sys.exit(f"kpitools {' '.join(map(str, args))} failed ({done.returncode}):\n{done.stderr}")


def build(root: Path, workers: int = 2) -> None:
    data, out = root / "data", root / "out"
    run(
        "demo",
        "--out",
        data,
        "--seed",
        SEED,
        "--providers",
        "3",
        "--learners",
        "600",
        "--periods",
        "2023-02,2023-03",
        "--format",
        "both",
    )
    run("packs", data / PERIOD, "--out", out, "--workers", str(workers), "--no-progress")
    first = sorted(p for p in (data / PERIOD).iterdir() if p.is_dir())[0]
    run(
        "kpis",
        first,
        "--as-of",
        "2023-03-31",
        "--out",
        root / "kpis",
        "--period-dir",
        data / PERIOD,
    )
    run("sample", first, "--out", root / "sample", "--seed", SEED)
    print(f"built {root}")


def period_outputs(period_dir: Path, out: Path, workers: int = 1) -> None:
    """Every provider's working outputs, worklists, chart figures and notes of one period's audit."""
    from datetime import date

    from kpitools.audit import audit_period
    from kpitools.calendar import period_end
    from kpitools.kpis.trends import TREND_MONTHS

    # an older package run as the "before" keeps these elsewhere: before issue 24's
    # layout in kpitools.packs.outputs, before issue 15's in kpitools.io.outputs
    try:
        from kpitools.io.files import csv_bytes
        from kpitools.outputs.results import write_provider_outputs
    except ImportError:
        try:  # csv_bytes is kpitools.io.files' there
            from kpitools.packs.outputs import write_provider_outputs
        except ImportError:
            from kpitools.io.outputs import csv_bytes, write_provider_outputs
    from kpitools.privacy.naming import WORKING, provider_naming

    os.environ["KPITOOLS_PSEUDONYM_KEY"] = KEY
    as_of: date = period_end(period_dir.name)
    # the trends (earlier months beside the period) and each register's follow-up (no
    # register of last month under ``out``: every exception new) are compared too
    audits = audit_period(
        period_dir,
        as_of=as_of,
        workers=workers,
        trend_months=TREND_MONTHS,
        period_out=out / period_dir.name,
        pseudonym_key=KEY.encode(),
    )
    for provider_id, audit in audits.items():
        folder = out / provider_id
        folder.mkdir(parents=True, exist_ok=True)
        if not hasattr(audit, "kpi_results"):
            (folder / "error.txt").write_text(f"{type(audit).__name__}: {audit}\n")
            continue
        write_provider_outputs(
            audit, folder, provider_naming(audit.provider, audience=WORKING, out_dir=folder)
        )
        for name, frame in audit.worklists.items():
            (folder / f"worklist_{name}.csv").write_bytes(csv_bytes(frame, tuple(frame.columns)))
        for name, frame in getattr(audit, "charts", {}).items():
            (folder / f"chart_{name}.csv").write_bytes(csv_bytes(frame, tuple(frame.columns)))
        (folder / "notes.csv").write_text("\n".join(audit.notes) + "\n")
        for name, part in (("trends", audit.trends), ("followup", audit.followup)):
            if part is None:
                continue
            frame = part.figures if name == "trends" else part.exceptions
            (folder / f"{name}.csv").write_bytes(csv_bytes(frame, tuple(frame.columns)))
            (folder / f"{name}_notes.csv").write_text("\n".join(part.notes) + "\n")
    print(f"wrote {out}")


def stable(value: object, root: Path) -> object:
    """A manifest without what changes from run to run (times, paths, versions; the
    folder the outputs were built in, where a note names it)."""
    if isinstance(value, dict):
        return {k: stable(v, root) for k, v in value.items() if not VOLATILE.search(str(k))}
    if isinstance(value, list):
        return [stable(v, root) for v in value]
    if isinstance(value, str):
        return value.replace(str(root.resolve()), "<ROOT>").replace(str(root), "<ROOT>")
    return value


def cells(path: Path) -> dict[str, list[tuple[object, ...]]]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    return {
        sheet.title: [tuple(row) for row in sheet.iter_rows(values_only=True)] for sheet in book
    }


def store_rows(path: Path, root: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table of an audit store (``kpitools.duckdb``), its rows sorted, without the
    columns that change from run to run (times, paths, versions: :data:`VOLATILE`; the
    process id) and with the build folder replaced in text (a run's arguments name it)."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [
            name
            for (name,) in con.execute(
                "SELECT table_name FROM information_schema.tables ORDER BY table_name"
            ).fetchall()
        ]
        found = {}
        for table in tables:
            columns = [
                name
                for (name,) in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                    "ORDER BY ordinal_position",
                    [table],
                ).fetchall()
                if not VOLATILE.search(name) and name not in ("pid", "created", "modified")
            ]
            listed = ", ".join(f'"{c}"' for c in columns)
            rows = con.execute(f'SELECT {listed} FROM "{table}"').fetchall()
            if table == "store_meta":  # name, value: the store's creation time is volatile
                rows = [row for row in rows if not VOLATILE.search(str(row[0]))]
            found[table] = sorted((tuple(stable(v, root) for v in row) for row in rows), key=repr)
        return found
    finally:
        con.close()


def compare(a: Path, b: Path) -> int:
    files_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    files_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    differences = [f"only in {a}: {p}" for p in sorted(files_a - files_b)]
    differences += [f"only in {b}: {p}" for p in sorted(files_b - files_a)]
    compared = 0
    for rel in sorted(files_a & files_b):
        left, right = a / rel, b / rel
        suffix = rel.suffix.lower()
        if suffix in NOT_COMPARED:
            continue
        compared += 1
        if suffix == ".xlsx":
            same = cells(left) == cells(right)
        elif suffix == ".duckdb":
            same = store_rows(left, a) == store_rows(right, b)
        elif suffix == ".json" and "manifest" in rel.name:
            same = stable(json.loads(left.read_text()), a) == stable(
                json.loads(right.read_text()), b
            )
        elif suffix in {".yaml", ".yml"}:
            same = [
                line
                for line in left.read_text().splitlines()
                if not VOLATILE.search(line.split(":")[0])
            ] == [
                line
                for line in right.read_text().splitlines()
                if not VOLATILE.search(line.split(":")[0])
            ]
        else:
            same = left.read_bytes() == right.read_bytes()
        if not same:
            differences.append(f"differs: {rel}")
    for line in differences:
        print(line)
    print(
        f"{compared} files compared ({len(files_a)} and {len(files_b)} files): "
        + ("identical" if not differences else f"{len(differences)} differences")
    )
    return 1 if differences else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    built = sub.add_parser("build")
    built.add_argument("folder", type=Path)
    built.add_argument("--workers", type=int, default=2)
    both = sub.add_parser("compare")
    both.add_argument("a", type=Path)
    both.add_argument("b", type=Path)
    whole = sub.add_parser("period")
    whole.add_argument("period_dir", type=Path)
    whole.add_argument("folder", type=Path)
    whole.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    if args.command == "build":
        build(args.folder, args.workers)
        return 0
    if args.command == "period":
        period_outputs(args.period_dir, args.folder, args.workers)
        return 0
    return compare(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
