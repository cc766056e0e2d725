"""Arrows between modules point one way (issue 15): kpitools.io is low-level (it imports
only kpitools.errors, kpitools.calendar and itself), and the modules of kpitools.packs
form no cycle. Every import counts: module-level, function-level and type-only."""

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
        _module(path): sorted(name for name in _imports(path)
                              if name not in allowed and not name.startswith("kpitools.io"))
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
        assert module not in trail, f"import cycle: {' -> '.join((*trail[trail.index(module):], module))}"
        if module in done:
            return
        for name in sorted(graph.get(module, ())):
            visit(name, (*trail, module))
        done.add(module)

    for module in sorted(graph):
        visit(module, ())
