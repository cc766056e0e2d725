"""Hostile text in every field that reaches a pack or the index is shown as text: a real
period built by ``kpitools packs`` (the notebook run by papermill, rendered by nbconvert)
on returns whose provider names, bootcamp ids and titles, employer ids and names,
learner refs, ILR file name and data folder carry HTML, attribute-breaking quotes,
entities and ``javascript:``. The folder's name reaches the pack's notes (previous
return) and parameters; the ILR file's name its sources (ILR reconciliation) and input
files; the ids the rule messages, entities and tables.

A payload shown as text is in the page's visible text, whole; none makes an element or
an attribute (:func:`pack_html.unsafe_findings`: no script, no ``on*`` attribute, no
link or source off the page)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from builders import write_provider
from click.testing import CliRunner
from pack_html import Page, read_page, unsafe_findings

from kpitools.cli import main
from kpitools.run.index import SUMMARY_FILE

pytestmark = pytest.mark.slow

KEY = "pack-tests-key-0123456789abcdef"  # the same as conftest.TEST_KEY
SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
ENTITY = "&amp; &lt;b&gt;"  # must be shown as typed, not as "& <b>"
# an id cannot hold ';' (BAD-ID): entities without it, which browsers decode all the same
ID_ENTITY = "&lt &amp"
QUOTES = 'it\'s "quoted"'
LINK = "javascript:alert(1)"

PROVIDER_NAMES = {
    "P001": f"Acme {SCRIPT} {ENTITY} Training",
    "P002": f"Brill {ATTRIBUTE} {QUOTES} Ltd",
}
# ids are text to the contract (only ';', tabs and line breaks are refused)
BOOTCAMPS = {"B1": f"B1 {ATTRIBUTE}", "B2": f"B2 {SCRIPT} {ID_ENTITY}"}
EMPLOYERS = {"E1": f"E1 {LINK} {QUOTES}"}
LEARNERS = {"L1": f"L1 {SCRIPT}", "L2": f"L2 {ATTRIBUTE}", "L3": f"L3 {ID_ENTITY} {QUOTES}"}
TITLE = f"<b>Ba$$in</b> {QUOTES}"
EMPLOYER_NAME = f"{SCRIPT} {ENTITY} Haulage"
FOLDER = "data \"'><img src=x onerror=alert(2)> &amp;"  # a folder name cannot hold '/'
ILR_FILE = "ilr <img src=x onerror=alert(3)> &amp; 'x'.xml"
ILR_FIXTURE = (
    Path(__file__).parent.parent / "fixtures" / "ilr" / "ILR-10012345-2223-20230331-120000-01.xml"
)


def _hostile(folder: Path, provider_id: str) -> None:
    """:func:`builders.write_provider` with its ids, names and title made hostile."""
    write_provider(folder, provider_id)
    ids = {**BOOTCAMPS, **EMPLOYERS, **LEARNERS}
    for table in folder.glob("*.csv"):
        with table.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        header = rows[0]
        for row in rows[1:]:
            for i, column in enumerate(header):
                if column.endswith(("_id", "_ref", "_ids")) and column != "provider_id":
                    row[i] = ids.get(row[i], row[i])
            if table.name == "provider.csv":
                row[header.index("name")] = PROVIDER_NAMES[provider_id]
            if table.name == "bootcamps.csv" and row[0] == BOOTCAMPS["B1"]:
                row[header.index("title")] = TITLE
            if table.name == "employers.csv":
                row[header.index("name")] = EMPLOYER_NAME
        with table.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(rows)
    (folder / "ilr").mkdir()
    shutil.copyfile(ILR_FIXTURE, folder / "ilr" / ILR_FILE)


def _build(data: Path, out: Path, *extra: str) -> None:
    result = CliRunner().invoke(
        main, ["packs", str(data / "2023-03"), "--out", str(out), "--no-progress", *extra]
    )
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def period(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Page]:
    """Two providers, two months, built without and with ``--include-pii``: every pack and
    the index, read as a browser would."""
    mp = pytest.MonkeyPatch()
    mp.setenv("KPITOOLS_PSEUDONYM_KEY", KEY)
    try:
        data = tmp_path_factory.mktemp("hostile") / FOLDER
        for month in ("2023-02", "2023-03"):
            for provider_id in PROVIDER_NAMES:
                _hostile(data / month / provider_id, provider_id)
        pages = {}
        for name, extra in (("plain", ()), ("pii", ("--include-pii",))):
            out = data.parent / f"out-{name}"
            _build(data, out, "--workers", "1", *extra)
            for page in sorted((out / "2023-03").rglob("*.html")):
                pages[f"{name}:{page.relative_to(out / '2023-03')}"] = read_page(
                    page.read_text(encoding="utf-8")
                )
            summary = json.loads((out / "2023-03" / SUMMARY_FILE).read_text(encoding="utf-8"))
            assert {p["status"] for p in summary["providers"]} == {"OK"}
            for provider_id in PROVIDER_NAMES:  # every hostile value accepted as it is
                rejected = (out / "2023-03" / provider_id / "rejected_rows.csv").read_text()
                # only builders.py's own bad ULN (L5) is rejected
                lines = rejected.splitlines()[1:]
                assert [line.split(",")[:3] for line in lines] == [
                    ["learners", "learners.csv:6", "uln"]
                ]
        return pages
    finally:
        mp.undo()


def test_nothing_hostile_becomes_markup(period: dict[str, Page]) -> None:
    assert sorted(period) == [
        f"{name}:{page}"
        for name in ("pii", "plain")
        for page in ("P001/audit_pack.html", "P002/audit_pack.html", "index.html")
    ]
    for name, page in period.items():
        assert unsafe_findings(page) == [], name
        images = [attrs for tag, attrs in page.tags if tag == "img"]
        assert all(str(a.get("src")).startswith("data:image/png;base64,") for a in images), name


def _section(page: Page, section: str) -> str:
    return read_page(page.sections[section]).text


@pytest.mark.parametrize("provider_id", sorted(PROVIDER_NAMES))
def test_the_pack_shows_every_hostile_field_as_text(
    period: dict[str, Page], provider_id: str
) -> None:
    page = period[f"plain:{provider_id}/audit_pack.html"]
    b1, b2 = BOOTCAMPS.values()
    shown = [
        ("Findings", PROVIDER_NAMES[provider_id]),  # the headline
        # a note: the previous return, named from its period on (never the machine's folders)
        ("Findings", f"previous return: 2023-02/{provider_id} (in the data folder)"),
        ("KPI-status", b1),  # the matrix's header, and every table naming a bootcamp
        ("KPI-status", b2),
        ("Employer-engagement", f"employer:{EMPLOYERS['E1']}"),  # an exception's entity
        ("Irregularities", f"the learner (bootcamp {b1}, 2023-01-09"),  # a rule's message
        ("ILR-reconciliation", f"the learner on bootcamp {b2} is in the datasheet"),
        ("ILR-reconciliation", f"{ILR_FILE}:"),  # a finding's source: file.xml:LINE
        ("Worklists", EMPLOYER_NAME),
        ("Provenance", f"2023-03/{provider_id}"),  # the parameters: provider_dir
    ]
    for section, value in shown:
        assert value in _section(page, section), (section, value)
    assert FOLDER not in page.text  # the data folder's own name is no business of the pack
    # the learner refs stand beside personal data: the pack shows their pseudonyms only
    assert not [ref for ref in LEARNERS.values() if ref in page.text]


def test_the_pack_with_personal_data_shows_learner_refs_as_text(period: dict[str, Page]) -> None:
    page = period["pii:P001/audit_pack.html"]
    for ref in LEARNERS.values():
        assert f"learner:{ref} (" in page.text, ref


def test_the_index_shows_names_and_bootcamps_as_text(period: dict[str, Page]) -> None:
    index = period["plain:index.html"]
    for name in PROVIDER_NAMES.values():
        assert name in index.text
    # the bootcamps in breach (B1's drop-out is over the limit at both providers)
    assert f"{BOOTCAMPS['B1']} Drop-out" in index.text
    links = [attrs["href"] for tag, attrs in index.tags if tag == "a" and "href" in attrs]
    # each provider's pack (its sections too) and register, nothing else
    assert sorted({h.partition("#")[0] for h in links if not h.startswith("#")}) == [
        "P001/audit_pack.html",
        "P001/exceptions.xlsx",
        "P002/audit_pack.html",
        "P002/exceptions.xlsx",
    ]


def test_the_bootcamp_title_is_not_shown(period: dict[str, Page]) -> None:
    """No page shows a bootcamp's title (its id names it): not as text, and (by
    test_nothing_hostile_becomes_markup) not as markup either."""
    for name, page in period.items():
        assert "Ba$$in" not in page.text, name
