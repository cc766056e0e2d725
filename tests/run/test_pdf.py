"""The pack printed to A4 PDF by headless Chromium, for a person to read: the findings
on the first page, sections flowing without forced page breaks (the demo's P001 in a
third of the 26 pages it took when each section started a page), no header broken
inside a word, every column of every table on the page (a column cut at the right edge
would not be in the PDF's text), tables too wide for portrait A4 on landscape pages,
and the pack's title (provider, period) and page number on every page.

Skipped where Chromium (Debian's ``chromium``) or pypdfium2 is not installed, as CI may be.
The pack is the demo's P001 of 2023-03 built by ``kpitools pack`` (the demo's samples
give it the widest table a pack shows: sample_employers, 20 columns with long names).
"""

from __future__ import annotations

import json
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from kpitools.params import PackParams, write_params
from kpitools.run.pdf import chromium_command, find_chromium, html_to_pdf
from kpitools.run.single import build_pack

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        find_chromium() is None, reason="chromium not installed (apt-get install chromium)"
    ),
]
pdfium = pytest.importorskip("pypdfium2")

A4_POINTS = (595.3, 841.9)  # 210 x 297 mm; Chromium rounds to whole device pixels
PAGES_BEFORE = 26  # the demo's P001 when each section started a page (issue 27: 27)


class _Headers(HTMLParser):
    """The text of every ``<th>`` of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.headers: list[str] = []
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "th":
            self._inside = True
            self.headers.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "th":
            self._inside = False

    def handle_data(self, data: str) -> None:
        if self._inside:
            self.headers[-1] += data


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _texts(pdf_path: Path) -> list[str]:
    pdf = pdfium.PdfDocument(str(pdf_path))
    return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]


def _sizes(pdf_path: Path) -> list[tuple[float, float]]:
    pdf = pdfium.PdfDocument(str(pdf_path))
    return [pdf[i].get_size() for i in range(len(pdf))]


def _is(size: tuple[float, float], expected: tuple[float, float]) -> bool:
    return abs(size[0] - expected[0]) < 1 and abs(size[1] - expected[1]) < 1


@pytest.fixture(scope="module")
def printed(
    demo_dir: tuple[Path, object], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    root, _ = demo_dir
    base = tmp_path_factory.mktemp("pdf")
    mp = pytest.MonkeyPatch()
    mp.setenv("KPITOOLS_PSEUDONYM_KEY", "pack-tests-key-0123456789abcdef")
    try:
        params = write_params(
            PackParams(
                provider_dir=str(root / "2023-03" / "P001"),
                out_dir=str(base / "out" / "2023-03" / "P001"),
            ),
            base / "P001.yaml",
        )
        outcome = build_pack(params, pdf=True).outcome
    finally:
        mp.undo()
    assert outcome.ok, outcome.error
    assert outcome.pdf_path == str(base / "out" / "2023-03" / "P001" / "audit_pack.pdf")
    assert outcome.notes == ()
    return Path(outcome.html_path), Path(outcome.pdf_path)


def test_findings_on_the_first_page(printed: tuple[Path, Path], tmp_path: Path) -> None:
    _, pdf_path = printed
    first = _texts(pdf_path)[0]
    assert "Skills Bootcamps KPI audit pack" in first and "Contents" in first
    assert "Provenance" in first  # the contents list names the last section too
    # the findings themselves follow the contents, not only their heading
    assert "Findings" in first and "Measured as of" in first and "Not met or off track" in first
    pdf = pdfium.PdfDocument(str(pdf_path))
    png = tmp_path / "page1.png"
    image = pdf[0].render(scale=1).to_pil()
    image.save(png)
    assert png.read_bytes().startswith(b"\x89PNG")
    assert image.convert("L").getextrema()[0] < 100  # text drawn, not a blank page


def test_sections_flow_without_forced_page_breaks(printed: tuple[Path, Path]) -> None:
    _, pdf_path = printed
    texts = _texts(pdf_path)
    assert len(texts) <= PAGES_BEFORE * 2 // 3, len(texts)
    # sections share pages: some page holds the end of one and the start of the next
    assert any("Employer engagement" in t and "Employer co-funding" in t for t in texts)


def test_no_header_broken_inside_a_word(printed: tuple[Path, Path]) -> None:
    html, pdf_path = printed
    parser = _Headers()
    parser.feed(html.read_text(encoding="utf-8"))
    words = {w for h in parser.headers for w in re.split(r"[\s_]+", h) if len(w) > 1}
    assert {"severity", "status", "attempt", "date", "candidates", "interviewed"} <= words
    text = "\n".join(_texts(pdf_path))
    broken = sorted(
        f"{word[:i]} {word[i:]}"
        for word in words
        for i in range(1, len(word))
        # a word broken in a narrow column goes on in the cell's next line
        if re.search(
            rf"(?<![^\W\d_]){re.escape(word[:i])}[ \t]*\r?\n[ \t]*{re.escape(word[i:])}(?![^\W\d_])",
            text,
        )
    )
    assert broken == []


def test_every_column_of_every_table_is_printed(printed: tuple[Path, Path]) -> None:
    html, pdf_path = printed
    parser = _Headers()
    parser.feed(html.read_text(encoding="utf-8"))
    headers = {_squeezed(h) for h in parser.headers if h.strip()}
    assert {"candidates_interviewed", "satisfaction_score", "sample_seed", "verified_by"} <= headers
    text = _squeezed("".join(_texts(pdf_path)))
    assert sorted(h for h in headers if h not in text) == []


def test_wide_tables_on_landscape_pages(printed: tuple[Path, Path]) -> None:
    _, pdf_path = printed
    landscape = A4_POINTS[::-1]
    sizes, texts = _sizes(pdf_path), _texts(pdf_path)
    assert all(_is(size, A4_POINTS) or _is(size, landscape) for size in sizes)
    wide = [t for size, t in zip(sizes, texts, strict=True) if _is(size, landscape)]
    assert any("Sample employers" in t and "candidates_" in t for t in wide)
    assert _is(sizes[0], A4_POINTS) and _is(sizes[-1], A4_POINTS)  # the rest portrait


def test_title_and_page_number_on_every_page(printed: tuple[Path, Path]) -> None:
    _, pdf_path = printed
    texts = _texts(pdf_path)
    for number, text in enumerate(texts, start=1):
        assert "Audit pack P001 2023-03" in text, number
        assert f"page {number} of {len(texts)}" in text, number


def test_printing_without_chromium_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kpitools.errors import PackError

    monkeypatch.setenv("KPITOOLS_CHROMIUM", str(tmp_path / "no-such-chromium"))
    assert find_chromium() is None
    with pytest.raises(PackError, match="chromium not found, no PDF written"):
        html_to_pdf(tmp_path / "page.html", tmp_path / "page.pdf")


def test_chromium_prints_with_no_network_at_all(tmp_path: Path) -> None:
    # Chromium's own calls (component updates, accounts, network time) used to resolve
    # names and send queries while printing; its NetLog now shows nothing sent
    html = tmp_path / "page.html"
    html.write_text("<!DOCTYPE html><html><body><p>offline</p></body></html>", encoding="utf-8")
    profile = tmp_path / "profile"
    profile.mkdir()
    command = chromium_command(find_chromium(), html, tmp_path / "page.pdf", profile)
    net_log = tmp_path / "net.json"
    subprocess.run([*command, f"--log-net-log={net_log}"], capture_output=True, timeout=180)
    assert (tmp_path / "page.pdf").stat().st_size > 0
    log = json.loads(net_log.read_text(encoding="utf-8"))
    names = {number: name for name, number in log["constants"]["logEventTypes"].items()}
    happened = {names[event["type"]] for event in log["events"]}
    # no DNS query (DNS_TRANSACTION*), no datagram or byte sent on any socket
    sent = sorted(n for n in happened if n.endswith("BYTES_SENT") or "DNS_TRANSACTION" in n)
    assert sent == []
    assert "--host-resolver-rules=MAP * ~NOTFOUND" in command
