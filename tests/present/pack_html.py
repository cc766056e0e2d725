"""Reading a rendered pack the way a browser would: elements, attributes, sections."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


@dataclass
class Page:
    tags: list[tuple[str, dict[str, str | None]]] = field(default_factory=list)
    sections: dict[str, str] = field(default_factory=dict)
    text: str = ""


class _Parser(HTMLParser):
    def __init__(self, page: Page) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.in_style = False
        self.chunks: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.page.tags.append((tag, dict(attrs)))
        self.in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self.in_style = False

    def handle_data(self, data: str) -> None:
        if not self.in_style:
            self.chunks.append(data)


def read_page(html: str) -> Page:
    """Tags with attributes, the visible text, and the HTML of each ``<h2>`` section."""
    page = Page()
    parser = _Parser(page)
    parser.feed(html)
    page.text = " ".join(parser.chunks)
    parts = re.split(r'<h2 id="([^"]+)"', html)
    page.sections = {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}
    return page


def unsafe_findings(page: Page) -> list[str]:
    """Everything that would make the pack run code or reach the network."""
    problems = []
    for tag, attrs in page.tags:
        if tag in ("script", "iframe", "object", "embed", "link"):
            problems.append(f"<{tag}> element")
        for name, value in attrs.items():
            if name.startswith("on"):
                problems.append(f"{name} attribute on <{tag}>")
            if (
                name in ("src", "href")
                and value
                and re.match(r"\s*(https?:|//|javascript:)", value)
            ):
                problems.append(f"{name}={value} on <{tag}>")
    csp = [
        a.get("content")
        for t, a in page.tags
        if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    ]
    if csp != [CSP]:
        problems.append(f"CSP meta missing or different: {csp}")
    return problems


def embedded_images(section_html: str) -> int:
    return len(re.findall(r'<img[^>]+src="data:image/png;base64,', section_html))
