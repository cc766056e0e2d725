"""The lock files and environment.yml agree with pyproject.toml (docs/development.md).

pyproject.toml is where a dependency is declared; ``make lock`` compiles
requirements/dev.lock (what ``make setup`` installs) and requirements/floors.lock (the
lowest versions allowed, for ``make test-floors``) from it, and environment.yml repeats it
for conda. These tests fail when one of them is edited without the others: a requirement
added, a floor raised or lowered, or a ceiling set, without ``make lock`` after it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# the extras `make lock` compiles; `dev` includes `test`, which includes `dask`
LOCKED_EXTRAS = ("dev", "lab")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)
# conda-forge names of a PyPI requirement that has extras
CONDA_NAMES = {"dask[distributed]": ("dask", "distributed")}


def _requirements(extras: tuple[str, ...]) -> list[Requirement]:
    """pyproject.toml's dependencies and those of ``extras``, self-references followed."""
    project = PYPROJECT["project"]
    found = [Requirement(text) for text in project["dependencies"]]
    pending, seen = list(extras), set()
    while pending:
        extra = pending.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for text in project["optional-dependencies"][extra]:
            requirement = Requirement(text)
            if canonicalize_name(requirement.name) == canonicalize_name(project["name"]):
                pending.extend(requirement.extras)
            else:
                found.append(requirement)
    return found


def _locked() -> list[Requirement]:
    """What the lock files are compiled from: the locked extras and the build backend."""
    build = [Requirement(text) for text in PYPROJECT["build-system"]["requires"]]
    return _requirements(LOCKED_EXTRAS) + build


def _pins(lock: str) -> dict[str, list[Version]]:
    """Each package of a lock file with its pinned versions (a universal lock may pin a
    package twice, under two environment markers)."""
    pins: dict[str, list[Version]] = {}
    for name, version in PIN.findall((ROOT / "requirements" / lock).read_text(encoding="utf-8")):
        pins.setdefault(canonicalize_name(name), []).append(Version(version))
    return pins


def _floor(requirement: Requirement) -> Version:
    (floor,) = [spec.version for spec in requirement.specifier if spec.operator == ">="]
    return Version(floor)


@pytest.mark.parametrize("requirement", _locked(), ids=str)
def test_dev_lock_pins_every_requirement_within_its_bounds(requirement: Requirement) -> None:
    pins = _pins("dev.lock").get(canonicalize_name(requirement.name))
    assert pins, f"{requirement.name} is not in requirements/dev.lock: run `make lock`"
    for version in pins:
        assert version in requirement.specifier, (
            f"requirements/dev.lock pins {requirement.name} {version}, outside "
            f"{requirement.specifier}: run `make lock`"
        )


@pytest.mark.parametrize("requirement", _locked(), ids=str)
def test_floors_lock_pins_every_requirement_at_its_floor(requirement: Requirement) -> None:
    # the floor's own release, or the first of its series on PyPI when that one is gone
    # (setuptools>=77 gets 77.0.1: there is no 77.0.0)
    floor = _floor(requirement)
    (version,) = _pins("floors.lock").get(canonicalize_name(requirement.name), [None])
    assert version is not None, (
        f"{requirement.name} is not in requirements/floors.lock: run `make lock`"
    )
    assert version in requirement.specifier and (
        version.release[: len(floor.release)] == floor.release
    ), (
        f"requirements/floors.lock pins {requirement.name} {version}, not its floor "
        f"{floor}: run `make lock`"
    )


def test_every_requirement_has_a_floor() -> None:
    assert [str(r) for r in _locked() if not [s for s in r.specifier if s.operator == ">="]] == []


def test_environment_yml_lists_what_make_setup_installs_with_the_same_bounds() -> None:
    environment = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    listed: dict[str, str] = {}
    for entry in environment["dependencies"]:
        if isinstance(entry, str):
            name, _, spec = re.match(r"([A-Za-z0-9._-]+)(\s*)(.*)", entry).groups()
            listed[canonicalize_name(name)] = spec.replace(" ", "")
    expected = {"python": "=3.11", "pip": ""}
    for requirement in _requirements(LOCKED_EXTRAS):
        spec = ",".join(sorted(str(s) for s in requirement.specifier))
        key = f"{requirement.name}[{','.join(sorted(requirement.extras))}]"
        for name in CONDA_NAMES.get(key, (requirement.name,)):
            expected[canonicalize_name(name)] = spec
    listed = {name: ",".join(sorted(spec.split(","))) for name, spec in listed.items()}
    assert listed == expected
