"""DfE's rules asked for every learner of a file at once (``check_learners``, which asks a
rule tested aim by aim once for all the file's aims) give each learner exactly what the
rule's own check gives that learner alone: the same rules, aims, messages and order.

The learners are those of every case of ``test_ilr_dfe_rules`` (each rule broken and
passed), plus blanks, unknown codes and unreadable dates, all in one file.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree
from test_ilr_dfe_rules import BASE, CASES, NAME, _changed, _learner, _set, _xml

from kpitools.ilr.dfe_rules import CHECKS, PreparedLearner, aim_source, check_learners
from kpitools.ilr.events import event_indicator_table
from kpitools.ilr.reader import read_ilr
from kpitools.rules import ILR_RULES


def _one_file(learners: list[dict], tmp_path: Path) -> Path:
    """One file holding every learner, each with its own LearnRefNumber."""
    root = None
    for n, learner in enumerate(learners):
        tree = etree.fromstring(_xml(learner))
        ns = tree.nsmap[None]
        [element] = tree.findall(f"{{{ns}}}Learner")
        element.find(f"{{{ns}}}LearnRefNumber").text = f"LRN{n}"
        if root is None:
            root = tree
        else:
            root.append(element)
    path = tmp_path / NAME
    path.write_bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))
    return path


def test_every_learner_of_a_file_at_once_as_each_alone(tmp_path: Path) -> None:
    learners = [BASE] + [
        _changed(*changes) for breaks, passes, _ in CASES.values() for changes in (breaks, passes)
    ]
    learners += [
        _changed(_set(1, FundModel=None, ProgType=None)),  # blanks
        _changed(_set(2, FundModel=99, ProgType=2, CompStatus=9, Outcome=7)),  # unknown codes
        _changed(_set(1, AchDate="2025-13-40")),  # a date that cannot be read
        _changed(_learner(dob="not a date")),
    ]
    ilr = read_ilr(_one_file(learners, tmp_path))
    assert len(ilr.learners) == len(learners)
    table = event_indicator_table()
    year, prepared = ilr.header.year, ilr.header.file_preparation_date
    sourced = [(learner, f"{NAME}:{learner.line}") for learner in ilr.learners]
    found = check_learners(sourced, year=year, prepared=prepared, event_indicators=table)
    fired = set()
    for (learner, source), breaches in zip(sourced, found, strict=True):
        ctx = PreparedLearner(learner, year, prepared, table)
        alone = [
            (
                rule_id,
                None if aim is None else aim.aim_seq_number,
                source if aim is None else aim_source(source, aim.aim_seq_number),
                f"{ILR_RULES[rule_id].message} ({detail})",
            )
            for rule_id in ILR_RULES
            for aim, detail in CHECKS[rule_id](ctx)
        ]
        assert [(f.rule, f.aim_seq, f.source, f.message) for f in breaches] == alone
        fired |= {f.rule for f in breaches}
    # every rule broken by some learner of the file, but those whose cases change the
    # file's preparation date (one file, one date)
    assert set(ILR_RULES) - fired == {"ILR-ULN_06", "ILR-ULN_07"}
