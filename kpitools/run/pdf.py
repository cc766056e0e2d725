"""A4 PDF of a pack, printed by Debian's headless Chromium (``apt-get install chromium``).

The pack's own print stylesheet (``templates/kpipack``) lays it out for A4: the findings
on the first page, sections flowing without forced page breaks, headers broken only
between words, tables too wide for portrait on landscape pages, table headers repeated,
the pack's title and page number on every page. Chromium runs with an empty profile and the pack's Content-Security-Policy
still in force (no script runs, nothing is fetched), and with no network at all: every
host name resolves to nothing (``--host-resolver-rules``), so Chromium's own calls
(component updates, accounts, network time) send nothing, and the background services
that make them are turned off.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from kpitools.errors import PackError

PDF_FILE = "audit_pack.pdf"
CHROMIUM_ENV = "KPITOOLS_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser")
PDF_TIMEOUT = 180
_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--no-pdf-header-footer",
    "--run-all-compositor-stages-before-draw",
    # no network: no name resolves (a file:// pack needs none), no proxy looked for ...
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--no-proxy-server",
    "--disable-quic",
    # ... and the services that would call out turned off
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-breakpad",
    "--metrics-recording-only",
    "--no-pings",
    "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate,"
    "AutofillServerCommunication,CertificateTransparencyComponentUpdater",
)
INSTALL_HINT = "apt-get update && apt-get install -y chromium"


def find_chromium() -> str | None:
    """The Chromium to print with: ``$KPITOOLS_CHROMIUM`` when set, else ``chromium`` or
    ``chromium-browser`` on the PATH; None when there is none."""
    explicit = os.environ.get(CHROMIUM_ENV)
    if explicit:
        return explicit if Path(explicit).is_file() else shutil.which(explicit)
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_command(chromium: str, html_path: Path, pdf_path: Path, profile: Path) -> list[str]:
    """The command that prints ``html_path`` to ``pdf_path`` with the empty profile
    folder ``profile``, offline (see the module docstring)."""
    return [
        chromium,
        *_FLAGS,
        f"--user-data-dir={profile}",
        f"--print-to-pdf={pdf_path.resolve()}",
        html_path.resolve().as_uri(),
    ]


def html_to_pdf(html_path: str | Path, pdf_path: str | Path, *, timeout: int = PDF_TIMEOUT) -> Path:
    """Print a pack (a local HTML file) to an A4 PDF, atomically.

    Raises:
        PackError: Chromium is not installed, fails, times out or writes nothing.
    """
    chromium = find_chromium()
    if chromium is None:
        raise PackError(f"chromium not found, no PDF written ({INSTALL_HINT})")
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path)
    partial = pdf_path.with_name(pdf_path.name + ".partial")
    partial.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="kpitools-chromium-") as profile:
        command = chromium_command(chromium, html_path, partial, Path(profile))
        try:
            done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            partial.unlink(missing_ok=True)
            raise PackError(
                f"chromium did not finish printing within {timeout} s", path=html_path
            ) from None
    if done.returncode != 0 or not partial.is_file() or partial.stat().st_size == 0:
        partial.unlink(missing_ok=True)
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise PackError(
            f"chromium could not print the pack (exit {done.returncode}"
            + (f": {detail[-1]}" if detail else "")
            + ")",
            path=html_path,
        )
    partial.replace(pdf_path)
    return pdf_path
