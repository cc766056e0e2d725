"""Prove a refactor changed no output: build the demo's outputs into a folder, then
compare two such folders.

``build DIR`` writes a small demo (fixed seed, CSV and xlsx returns) and, with a fixed
pseudonym key, runs ``kpitools packs`` on its last period, ``kpitools kpis`` and
``kpitools sample`` (fixed seed) on its first provider. ``compare A B`` then checks:

- the same files on both sides (generated HTML/PDF/notebooks are listed, not compared);
- every CSV, JSON-lines and YAML text byte for byte (YAML minus the folders it names);
- every xlsx sheet's cell values;
- every ``*manifest*.json`` minus timestamps, paths and versions.

It prints one line per difference and ``identical`` (exit 0) when there is none.

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
VOLATILE = re.compile(r"(time|_at|_utc|date_run|path|dir|version|python|platform|host|duration|seconds)", re.I)


def run(*args: str | Path) -> None:
    env = {**os.environ, "KPITOOLS_PSEUDONYM_KEY": KEY}
    done = subprocess.run([str(KPITOOLS), *map(str, args)], env=env, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        sys.exit(f"kpitools {' '.join(map(str, args))} failed ({done.returncode}):\n{done.stderr}")


def build(root: Path) -> None:
    data, out = root / "data", root / "out"
    run("demo", "--out", data, "--seed", SEED, "--providers", "3", "--learners", "600",
        "--periods", "2023-02,2023-03", "--format", "both")
    run("packs", data / PERIOD, "--out", out, "--workers", "2", "--no-progress")
    first = sorted(p for p in (data / PERIOD).iterdir() if p.is_dir())[0]
    run("kpis", first, "--as-of", "2023-03-31", "--out", root / "kpis", "--period-dir", data / PERIOD)
    run("sample", first, "--out", root / "sample", "--seed", SEED)
    print(f"built {root}")


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
    return {sheet.title: [tuple(row) for row in sheet.iter_rows(values_only=True)] for sheet in book}


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
        elif suffix == ".json" and "manifest" in rel.name:
            same = stable(json.loads(left.read_text()), a) == stable(json.loads(right.read_text()), b)
        elif suffix in {".yaml", ".yml"}:
            same = [line for line in left.read_text().splitlines() if not VOLATILE.search(line.split(":")[0])] == \
                   [line for line in right.read_text().splitlines() if not VOLATILE.search(line.split(":")[0])]
        else:
            same = left.read_bytes() == right.read_bytes()
        if not same:
            differences.append(f"differs: {rel}")
    for line in differences:
        print(line)
    print(f"{compared} files compared ({len(files_a)} and {len(files_b)} files): "
          + ("identical" if not differences else f"{len(differences)} differences"))
    return 1 if differences else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build").add_argument("folder", type=Path)
    both = sub.add_parser("compare")
    both.add_argument("a", type=Path)
    both.add_argument("b", type=Path)
    args = parser.parse_args()
    if args.command == "build":
        build(args.folder)
        return 0
    return compare(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
