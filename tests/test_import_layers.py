"""Arrows between modules point one way (issue 15): kpitools.io is low-level (it imports
only kpitools.errors, kpitools.calendar and itself); the foundation (errors, calendar,
rules, model, layout) imports no stage folder; returns/ imports only the foundation, and
ilr/ and privacy/ only returns/ and below; no module of the package is in an import cycle.
Every import counts: module-level, function-level and type-only."""

from __future__ import annotations

import ast
from pathlib import Path

import kpitools

PACKAGE = Path(kpitools.__file__).parent


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The kpitools modules ``path`` imports, anywhere in it (relative imports resolved)."""
    here = _module(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            found.update(f"{base}.{alias.name}" for alias in node.names)
    modules = {_module(p) for p in PACKAGE.rglob("*.py")}
    resolved = set()
    for name in found:
        while name not in modules and "." in name:
            name = name.rsplit(".", 1)[0]
        if name in modules and name != _module(path):
            resolved.add(name)
    return resolved


def test_io_imports_only_the_foundation_it_needs() -> None:
    allowed = {"kpitools", "kpitools.errors", "kpitools.calendar"}
    upward = {
        _module(path): sorted(
            name
            for name in _imports(path)
            if name not in allowed and not name.startswith("kpitools.io")
        )
        for path in sorted((PACKAGE / "io").glob("*.py"))
    }
    assert {module: names for module, names in upward.items() if names} == {}


def test_packs_modules_form_no_cycle() -> None:
    graph = {
        _module(path): {name for name in _imports(path) if name.startswith("kpitools.packs.")}
        for path in sorted((PACKAGE / "packs").glob("*.py"))
    }
    done: set[str] = set()

    def visit(module: str, trail: tuple[str, ...]) -> None:
        assert module not in trail, (
            f"import cycle: {' -> '.join((*trail[trail.index(module) :], module))}"
        )
        if module in done:
            return
        for name in sorted(graph.get(module, ())):
            visit(name, (*trail, module))
        done.add(module)

    for module in sorted(graph):
        visit(module, ())


FOUNDATION = {f"kpitools.{name}" for name in ("errors", "calendar", "rules", "model", "layout")}


def _arrows(folder: Path) -> dict[str, set[str]]:
    return {_module(path): _imports(path) for path in sorted(folder.rglob("*.py"))}


def _outside(
    graph: dict[str, set[str]], allowed: set[str], allowed_packages: tuple[str, ...]
) -> dict[str, list[str]]:
    """The imports of each module that are neither ``allowed`` nor in ``allowed_packages``."""
    found = {
        module: sorted(
            name for name in names if name not in allowed and not name.startswith(allowed_packages)
        )
        for module, names in graph.items()
    }
    return {module: names for module, names in found.items() if names}


def test_the_foundation_imports_no_stage_folder() -> None:
    graph = {module: _imports(PACKAGE / f"{module.split('.')[1]}.py") for module in FOUNDATION}
    assert _outside(graph, FOUNDATION | {"kpitools"}, ("kpitools.io.",)) == {}


def test_returns_imports_only_the_foundation() -> None:
    graph = _arrows(PACKAGE / "returns")
    assert _outside(graph, FOUNDATION | {"kpitools.returns"}, ("kpitools.returns.",)) == {}


def test_ilr_and_privacy_import_only_returns_and_below() -> None:
    below = ("kpitools.returns", "kpitools.io")
    assert _outside(_arrows(PACKAGE / "ilr"), FOUNDATION, (*below, "kpitools.ilr")) == {}
    assert _outside(_arrows(PACKAGE / "privacy"), FOUNDATION, (*below, "kpitools.privacy")) == {}


def test_no_module_of_the_package_is_in_an_import_cycle() -> None:
    graph = {_module(path): _imports(path) for path in sorted(PACKAGE.rglob("*.py"))}
    done: set[str] = set()

    def visit(module: str, trail: tuple[str, ...]) -> None:
        assert module not in trail, (
            f"import cycle: {' -> '.join((*trail[trail.index(module) :], module))}"
        )
        if module in done:
            return
        for name in sorted(graph.get(module, ())):
            visit(name, (*trail, module))
        done.add(module)

    for module in sorted(graph):
        visit(module, ())
