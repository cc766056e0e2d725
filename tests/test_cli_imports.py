"""The commands that build no pack (`kpitools kpis`, `rules`, `ilr`) import nothing that
runs notebooks (kpitools.run) or presents a pack (kpitools.present): each is run in a
fresh interpreter, which then lists the kpitools modules it loaded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from builders import write_provider

FIXTURES = Path(__file__).parent / "fixtures" / "ilr"
PACK_FOLDERS = ("kpitools.run", "kpitools.present")
PROBE = """
import json, sys
from kpitools.cli import main
try:
    main(sys.argv[1:], prog_name="kpitools")
except SystemExit as done:
    status = done.code
print(json.dumps({"status": status, "loaded": sorted(m for m in sys.modules if m.startswith("kpitools"))}))
"""


def loaded_by(*args: str | Path) -> tuple[int, list[str]]:
    """The exit status of `kpitools ARGS` and the kpitools modules it imported."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *map(str, args)], capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["status"], result["loaded"]


@pytest.fixture
def commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[str | Path, ...]]:
    monkeypatch.setenv("KPITOOLS_PSEUDONYM_KEY", "cli-imports-key-0123456789abcdef")
    provider = write_provider(tmp_path / "data" / "2023-03" / "P001")
    return {
        "kpis": ("kpis", provider, "--as-of", "2023-03-31", "--out", tmp_path / "kpis"),
        "rules": ("rules",),
        "ilr": ("ilr", FIXTURES / "ILR-10012345-2223-20230331-120000-01.xml"),
    }


@pytest.mark.parametrize("command", ["kpis", "rules", "ilr"])
def test_commands_without_packs_import_no_pack_machinery(
    command: str, commands: dict[str, tuple[str | Path, ...]]
) -> None:
    status, loaded = loaded_by(*commands[command])
    assert status in (0, 1)  # the command ran (1: rows rejected or learners not mapped)
    assert "kpitools.cli" in loaded
    assert [m for m in loaded if m.startswith(PACK_FOLDERS)] == []


def test_the_pack_command_does_import_them(tmp_path: Path) -> None:
    """The probe sees the pack folders when a command does import them."""
    status, loaded = loaded_by("pack", tmp_path / "missing.yaml")
    assert status == 2  # refused: no such params file
    assert "kpitools.run.single" in loaded
