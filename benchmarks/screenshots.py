"""Screenshots of the portfolio index, the audit packs and two pages of a pack's PDF.

Not part of CI: a person runs it to look at what auditors will see, offline, with
scripts blocked by the pack's Content-Security-Policy. Uses Debian's ``chromium``
(``apt-get install -y chromium``) with an empty profile and no background networking,
and pypdfium2 (a dev dependency) to render PDF pages.

Usage::

    python benchmarks/screenshots.py OUT/PERIOD [--out DIR] [--providers 2] [--height 1600]

Writes ``DIR/index.png``, ``DIR/<provider>.png`` (each pack's first screen) and
``DIR/<provider>-pdf-page1.png`` / ``-page2.png`` for the first pack (its
``audit_pack.pdf``, printed first when there is none) and prints each path. The default
DIR is ``OUT/screenshots/PERIOD``: outside ``OUT/PERIOD``, whose sub-folders are providers
(a ``screenshots`` folder there would be listed as a stale provider).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    sys.exit("chromium not found: apt-get update && apt-get install -y chromium")


def screenshot(page: Path, png: Path, *, width: int, height: int, timeout: int = 120) -> Path:
    """Render ``page`` (a local HTML file) to ``png`` with a fresh, empty profile."""
    with tempfile.TemporaryDirectory(prefix="kpitools-chromium-") as profile:
        command = [
            chromium(),
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--screenshot={png}",
            page.resolve().as_uri(),
        ]
        subprocess.run(command, check=True, timeout=timeout, capture_output=True)
    if not png.exists():
        raise RuntimeError(f"chromium wrote no screenshot for {page}")
    return png


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("period_out", type=Path, help="OUT/PERIOD, holding index.html")
    parser.add_argument("--out", type=Path, default=None, help="folder for the PNGs")
    parser.add_argument("--providers", type=int, default=2, help="how many packs to capture")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument(
        "--height", type=int, default=1600, help="pack screenshot height (first screen)"
    )
    args = parser.parse_args(argv)
    index = args.period_out / "index.html"
    if not index.exists():
        sys.exit(f"{index} not found: run `kpitools packs DATA/PERIOD --out OUT` first")
    target = args.out or args.period_out.parent / "screenshots" / args.period_out.name
    target.mkdir(parents=True, exist_ok=True)
    pages = [("index", index)] + [
        (pack.parent.name, pack)
        for pack in sorted(args.period_out.glob("*/audit_pack.html"))[: args.providers]
    ]
    for name, page in pages:
        height = 1400 if name == "index" else args.height
        print(screenshot(page, target / f"{name}.png", width=args.width, height=height))
    if len(pages) > 1:
        for png in pdf_pages(pages[1][1], target / pages[1][0]):
            print(png)
    return 0


def pdf_pages(pack: Path, stem: Path, pages: tuple[int, ...] = (0, 1)) -> list[Path]:
    """Render two pages of the pack's PDF (printed with the pack's own stylesheet by
    kpitools.run.pdf when it is not there yet) to ``<stem>-pdf-pageN.png``."""
    import pypdfium2

    from kpitools.run.pdf import PDF_FILE, html_to_pdf

    pdf_path = pack.with_name(PDF_FILE)
    if not pdf_path.exists():
        html_to_pdf(pack, pdf_path)
    document = pypdfium2.PdfDocument(str(pdf_path))
    written = []
    for index in pages:
        if index < len(document):
            png = stem.with_name(f"{stem.name}-pdf-page{index + 1}.png")
            document[index].render(scale=1.5).to_pil().save(png)
            written.append(png)
    return written


if __name__ == "__main__":
    raise SystemExit(main())
