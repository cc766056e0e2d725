"""The pack printed to A4 PDF by headless Chromium: every column of every table is on the
page (a column cut at the right edge would not be in the PDF's text), a contents page,
each section on its own page, and two pages rendered to PNG.

Skipped where Chromium (Debian's ``chromium``) or pypdfium2 is not installed, as CI may be.
The hand-made audit gets the real verification samples, whose sample_employers list is
the widest table a pack shows (20 columns with long names).
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from builders import AS_OF, hand_audit, write_provider

from kpitools.params import PackParams
from kpitools.present.context import save_audit
from kpitools.rules import Rules
from kpitools.run.batch import pack_job
from kpitools.run.pdf import chromium_command, find_chromium, html_to_pdf
from kpitools.run.runner import run_pack_job
from kpitools.worklists.build import build_worklists

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        find_chromium() is None, reason="chromium not installed (apt-get install chromium)"
    ),
]
pdfium = pytest.importorskip("pypdfium2")

A4_POINTS = (595.3, 841.9)  # 210 x 297 mm; Chromium rounds to whole device pixels


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


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("pdf")
    mp = pytest.MonkeyPatch()
    mp.setenv("KPITOOLS_PSEUDONYM_KEY", "pack-tests-key-0123456789abcdef")
    try:
        audit = hand_audit(write_provider(base / "data" / "2023-03" / "P001"))
        samples = build_worklists({"P001": audit.provider}, as_of=AS_OF, rules=Rules())["P001"]
        audit = replace(audit, worklists={**audit.worklists, **samples})
        out_dir = base / "out"
        params = PackParams(
            provider_dir=str(audit.provider.path),
            out_dir=str(out_dir),
            period="2023-03",
            audit_path=str(out_dir / ".audit.pkl"),
        )
        save_audit(audit, params.audit_path)
        outcome = run_pack_job(pack_job(params, "Audit pack P001 2023-03", pdf=True))
    finally:
        mp.undo()
    assert outcome.ok, outcome.error
    assert outcome.pdf_path == str(out_dir / "audit_pack.pdf") and outcome.notes == ()
    return Path(outcome.html_path), Path(outcome.pdf_path)


def test_every_column_of_every_table_is_printed(printed: tuple[Path, Path]) -> None:
    html, pdf_path = printed
    parser = _Headers()
    parser.feed(html.read_text(encoding="utf-8"))
    headers = {_squeezed(h) for h in parser.headers if h.strip()}
    assert {"candidates_interviewed", "satisfaction_score", "sample_seed", "verified_by"} <= headers
    pdf = pdfium.PdfDocument(str(pdf_path))
    text = _squeezed("".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf))))
    assert sorted(h for h in headers if h not in text) == []
    for index in range(len(pdf)):
        width, height = pdf[index].get_size()
        assert abs(width - A4_POINTS[0]) < 1 and abs(height - A4_POINTS[1]) < 1


def test_contents_first_then_a_page_per_section(printed: tuple[Path, Path], tmp_path: Path) -> None:
    _, pdf_path = printed
    pdf = pdfium.PdfDocument(str(pdf_path))
    first, second = (pdf[i].get_textpage().get_text_range() for i in (0, 1))
    assert "Skills Bootcamps KPI audit pack" in first and "Contents" in first
    assert "Provenance" in first  # the contents list names the last section too
    assert second.startswith("Findings")
    starts = [pdf[i].get_textpage().get_text_range().split("\r\n", 1)[0] for i in range(len(pdf))]
    for section in ("Trends", "KPI status", "Learner drop-out", "Worklists", "Provenance"):
        assert section in starts, section
    for index in (0, 1):
        png = tmp_path / f"page{index + 1}.png"
        pdf[index].render(scale=1).to_pil().save(png)
        image = pdf[index].render(scale=1).to_pil().convert("L")
        assert abs(image.size[0] - A4_POINTS[0]) < 1 and abs(image.size[1] - A4_POINTS[1]) < 1
        assert png.read_bytes().startswith(b"\x89PNG")
        assert image.getextrema()[0] < 100  # text drawn, not a blank page


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
