"""Hostile ILR files: each is a file-level error and reads nothing, with small memory (how
fast each is refused: ``python benchmarks/small_timings.py``)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
from ilr_xml import ilr_tables
from lxml import etree

from kpitools.errors import FileLevelError
from kpitools.ilr import reader
from kpitools.ilr.reader import DOCTYPE_REFUSAL, read_ilr
from kpitools.rules import Rules

HOSTILE = Path(__file__).parent.parent / "fixtures" / "ilr" / "hostile"
GOOD_2425 = HOSTILE.parent / "ILR-10012345-2425-20250228-170000-02.xml"

CASES = {
    "doctype_internal_entity.xml": "DOCTYPE",
    "external_entity_passwd.xml": "DOCTYPE",
    "parameter_entity.xml": "DOCTYPE",
    "billion_laughs.xml": "DOCTYPE",
    "wrong_namespace.xml": "ESFA/ILR/2021-22",
    "truncated.xml": "not a well-formed",
    "not_xml.xml": "not a well-formed",
}


def _refused(path: Path) -> tuple[FileLevelError, int]:
    """Read ``path`` expecting a FileLevelError; return it and the peak bytes allocated."""
    tracemalloc.start()
    try:
        with pytest.raises(FileLevelError) as caught:
            read_ilr(path)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return caught.value, peak


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_file_is_refused_with_small_memory(name: str) -> None:
    error, peak = _refused(HOSTILE / name)
    assert CASES[name] in error.message
    assert error.path == str(HOSTILE / name)  # the message names the file
    assert peak < 5 * 1024 * 1024  # 5 MB: nothing was expanded or accumulated


def test_billion_laughs_is_refused_unexpanded() -> None:
    # Fully expanded, lol9 would be 10**9 x "lol" = 3 GB of text.
    _, peak = _refused(HOSTILE / "billion_laughs.xml")
    assert peak < 1024 * 1024


def test_external_entity_content_never_appears(tmp_path: Path) -> None:
    passwd = Path("/etc/passwd").read_text(encoding="utf-8", errors="replace")
    first_line = passwd.splitlines()[0]
    error, _ = _refused(HOSTILE / "external_entity_passwd.xml")
    assert first_line not in str(error)
    assert first_line not in repr(error.value)


def _padded(tmp_path: Path, prolog: str) -> Path:
    hostile = (HOSTILE / "billion_laughs.xml").read_text(encoding="utf-8")
    declaration, rest = hostile.split("\n", 1)
    padded = tmp_path / "padded.xml"
    padded.write_text(f"{declaration}\n{prolog}\n{rest}", encoding="utf-8")
    return padded


@pytest.mark.parametrize(
    "prolog",
    [
        f"<!-- {'x' * 70_000} -->",  # past any fixed-size first read
        f"<?pi {'<!DOCTYPE' * 10} ?><!-- <!DOCTYPE in a comment --> <!-- {'y' * 1_100_000} -->",
    ],
    ids=["70KB-comment", "1MB-comment-and-decoys"],
)
def test_doctype_after_a_long_prolog_is_refused_with_the_advice(
    tmp_path: Path, prolog: str
) -> None:
    error, _ = _refused(_padded(tmp_path, prolog))
    assert error.message == DOCTYPE_REFUSAL  # names DOCTYPE/entities and gives the advice
    assert "DOCTYPE" in error.message and "export the file again" in error.message


@pytest.mark.parametrize(
    "name",
    [
        "billion_laughs.xml",
        "doctype_internal_entity.xml",
        "external_entity_passwd.xml",
        "parameter_entity.xml",
    ],
)
def test_parser_level_refusal_is_the_same_whatever_lxml_says(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the prolog scan, the file reaches libxml2, whose reaction depends on its
    # version (a DOCTYPE seen at the root, or an entity/amplification error): either way
    # the refusal is the same sentence, with the advice, and no learner is read.
    monkeypatch.setattr(reader, "refuse_doctype_in_prolog", lambda path: None)
    error, peak = _refused(HOSTILE / name)
    assert error.message == DOCTYPE_REFUSAL
    assert peak < 5 * 1024 * 1024


def test_entity_errors_of_any_wording_map_to_the_refusal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The wordings libxml2 has used for entity trouble; a future one with "entity" in it
    # maps the same way.
    good = GOOD_2425.read_bytes()
    for wording in (
        "Maximum entity amplification factor exceeded",
        "Detected an entity reference loop",
        "Entity 'lol9' not defined",
    ):

        def broken(stream: object, wording: str = wording) -> object:
            raise etree.XMLSyntaxError(wording, None, 1, 7)

        monkeypatch.setattr(reader, "parser_events", broken)
        path = tmp_path / "file.xml"
        path.write_bytes(good)
        error, _ = _refused(path)
        assert error.message == DOCTYPE_REFUSAL


def test_truncated_file_gives_nothing_even_after_complete_learners() -> None:
    # truncated.xml holds one complete bootcamp learner (L201) before the cut.
    with pytest.raises(FileLevelError):
        ilr_tables([HOSTILE / "truncated.xml"], rules=Rules())


def test_one_hostile_file_among_good_ones_stops_the_whole_mapping() -> None:
    with pytest.raises(FileLevelError) as caught:
        ilr_tables([GOOD_2425, HOSTILE / "wrong_namespace.xml"], rules=Rules())
    assert "wrong_namespace.xml" in str(caught.value)


def test_header_year_must_match_namespace(tmp_path: Path) -> None:
    text = GOOD_2425.read_text(encoding="utf-8").replace("<Year>2425</Year>", "<Year>2324</Year>")
    path = tmp_path / "mismatch.xml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FileLevelError, match="does not match namespace"):
        read_ilr(path)


def test_header_without_preparation_date_is_refused(tmp_path: Path) -> None:
    text = GOOD_2425.read_text(encoding="utf-8").replace(
        "<FilePreparationDate>2025-02-28</FilePreparationDate>", ""
    )
    path = tmp_path / "noprep.xml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FileLevelError, match="FilePreparationDate"):
        read_ilr(path)


def test_good_file_is_read_and_hashed() -> None:
    import hashlib

    ilr = read_ilr(GOOD_2425)
    assert ilr.header.namespace == "ESFA/ILR/2024-25"
    assert ilr.header.year == "2425"
    assert ilr.header.ukprn == "10012345"
    assert ilr.learners_read == 2
    assert ilr.sha256 == hashlib.sha256(GOOD_2425.read_bytes()).hexdigest()
    assert ilr.size_bytes == GOOD_2425.stat().st_size


def test_billion_laughs_past_the_prolog_scan_keeps_process_memory_small(tmp_path: Path) -> None:
    # tracemalloc does not see libxml2's own allocations: measure the peak resident set
    # of a fresh process instead, for the case where the parser itself meets the DTD.
    import subprocess
    import sys

    hostile = (HOSTILE / "billion_laughs.xml").read_text(encoding="utf-8")
    declaration, rest = hostile.split("\n", 1)
    padded = tmp_path / "padded.xml"
    padded.write_text(f"{declaration}\n<!-- {'x' * 70_000} -->\n{rest}", encoding="utf-8")
    code = (
        "import resource, sys\n"
        "from kpitools.errors import FileLevelError\n"
        "from kpitools.ilr.reader import read_ilr\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n"
        "    read_ilr(sys.argv[1])\n"
        "except FileLevelError:\n"
        "    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(padded)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    growth_kb = int(done.stdout.strip())
    assert growth_kb < 10 * 1024  # under 10 MB more than after the imports


F2223 = HOSTILE.parent / "ILR-10012345-2223-20230331-120000-01.xml"


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("<LearnRefNumber>   \n  </LearnRefNumber>", None),  # blanks only: absent
        ("<LearnRefNumber>\n  L001  \n</LearnRefNumber>", "L001"),  # stripped
        ("<LearnRefNumber> <!-- a comment --> L001 </LearnRefNumber>", "L001"),
        ("<LearnRefNumber>\n <?pi x?>L001</LearnRefNumber>", "L001"),
        ("<LearnRefNumber><![CDATA[  ]]>L001</LearnRefNumber>", "L001"),
        ("<LearnRefNumber>  <X>1</X>L001</LearnRefNumber>", None),  # its text is the blanks
    ],
)
def test_odd_but_well_formed_values_read_stripped(
    tmp_path: Path, written: str, read: str | None
) -> None:
    # the parser drops indentation between elements (remove_blank_text): a value is
    # read the same whatever blanks, comments or instructions surround it
    text = F2223.read_text(encoding="utf-8")
    assert text.count("<LearnRefNumber>L001</LearnRefNumber>") == 1
    path = tmp_path / F2223.name
    path.write_text(
        text.replace("<LearnRefNumber>L001</LearnRefNumber>", written), encoding="utf-8"
    )
    learners = read_ilr(path).learners
    assert learners[0].learn_ref_number == read
    # the others unchanged but for their line (the value above may span several)
    assert [(lr.learn_ref_number, lr.deliveries, lr.employments) for lr in learners[1:]] == [
        (lr.learn_ref_number, lr.deliveries, lr.employments) for lr in read_ilr(F2223).learners[1:]
    ]
