"""The rule that keeps pack HTML escaped by default, read from the source: no module of
kpitools (nor a notebook) builds HTML from an f-string, ``%``, ``+`` or ``str.format``
on a literal holding a tag, nor asks pandas not to escape; HTML is built with
:class:`markupsafe.Markup`, which escapes every value put into it. Text is declared HTML
(``Markup(text)`` on anything but a literal) only where :data:`DECLARED_HTML` says why.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([*(ROOT / "kpitools").rglob("*.py"), *(ROOT / "notebooks").glob("*.py")])

HTML_TAG = re.compile(
    r"<\s*/?\s*(a|b|br|body|caption|code|col|colgroup|details|div|em|embed|figure|form|"
    r"h[1-6]|head|hr|html|i|iframe|img|input|li|link|meta|nav|object|ol|p|pre|script|"
    r"section|small|span|strong|style|sub|summary|sup|svg|table|tbody|td|tfoot|th|thead|"
    r"title|tr|u|ul|wbr)(\s|/|>|$)",
    re.IGNORECASE,
)

# (module, function) -> why the text it declares HTML is HTML already
DECLARED_HTML = {
    ("kpitools/present/blocks.py", "table"): "pandas' to_html(escape=True) escaped every value",
    ("kpitools/present/plots.py", "chart"): "a chart drawn by chart_html, saved beside the audit",
}


def _has_tag(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and bool(HTML_TAG.search(node.value))
    )


def _functions(tree: ast.AST) -> dict[ast.AST, str]:
    """Every node of ``tree`` with the name of the function it is in ("" at module level)."""
    owner: dict[ast.AST, str] = {}

    def visit(node: ast.AST, name: str) -> None:
        owner[node] = name
        inner = node.name if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else name
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    visit(tree, "")
    return owner


def html_problems(path: Path, source: str) -> list[str]:
    """Where ``source`` builds HTML other than by Markup, or declares text HTML without a
    reason in :data:`DECLARED_HTML`."""
    tree = ast.parse(source)
    owner = _functions(tree)
    module = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
    problems = []
    for node in ast.walk(tree):
        where = f"{module}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.JoinedStr) and any(_has_tag(v) for v in node.values):
            problems.append(f"{where}: HTML built by an f-string")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
            if _has_tag(node.left) or _has_tag(node.right):
                problems.append(f"{where}: HTML built by + or % on text")
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "format" and _has_tag(func.value):
                problems.append(f"{where}: HTML built by str.format")
            if any(
                k.arg == "escape" and isinstance(k.value, ast.Constant) and k.value.value is False
                for k in node.keywords
            ):
                problems.append(f"{where}: escape=False")
            named = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if named == "Markup" and node.args and not isinstance(node.args[0], ast.Constant):
                if (module, owner[node]) not in DECLARED_HTML:
                    problems.append(f"{where}: text declared HTML in {owner[node]}()")
    return problems


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_html_but_markup(path: Path) -> None:
    assert html_problems(path, path.read_text(encoding="utf-8")) == []


def test_every_declared_html_site_exists() -> None:
    """A site that no longer declares text HTML leaves the list (it must not grow stale)."""
    found = set()
    for module in {module for module, _ in DECLARED_HTML}:
        tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
        owner = _functions(tree)
        found |= {
            (module, owner[node])
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", "")) == "Markup"
            and node.args
            and not isinstance(node.args[0], ast.Constant)
        }
    assert found == set(DECLARED_HTML)


@pytest.mark.parametrize(
    "code",
    [
        'cell = f"<td>{value}</td>"',
        "cell = f'<TD class=\"x\">{value}</td>'",
        'cell = "<td>" + value + "</td>"',
        'cell = "<p>%s</p>" % value',
        'cell = "<li>{}</li>".format(value)',
        "html = frame.to_html(escape=False)",
        "block = Markup(text)",
        "block = markupsafe.Markup(f'<p>{text}</p>')",
    ],
)
def test_the_check_finds_html_built_by_hand(code: str) -> None:
    assert html_problems(Path("example.py"), code) != []


@pytest.mark.parametrize(
    "code",
    [
        'cell = Markup("<td>{}</td>").format(value)',
        'cell = Markup("<p>") + value',
        'row = Markup("").join(cells)',
        'entity = f"learner:<{ref}>"',  # not a tag
        'text = f"OUT/PERIOD/<provider>/{name}"',
        'shown = f"{value} <= {limit}"',
    ],
)
def test_the_check_lets_markup_and_plain_text_pass(code: str) -> None:
    assert html_problems(Path("example.py"), code) == []
