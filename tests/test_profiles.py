"""Named rule profiles: shipped as data, chosen by `profile:` or --profile, overridden
key by key, named wherever the rules are; an unknown one refused in one line."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from kpi_frames import build, learner, small_return, write_return

from kpitools.cli import main
from kpitools.errors import ParameterError
from kpitools.kpis import kpis_in_force
from kpitools.kpis.learner_dropout import learner_dropout
from kpitools.params import params_from_mapping, rules_from_params
from kpitools.profiles import load_profile, profile_names, rules_for
from kpitools.returns.contract import KPIS
from kpitools.rules import Rules
from kpitools.run.single import batch_base


def test_shipped_profiles_and_the_default_is_the_guidance():
    assert profile_names() == ("dfe-2022-09", "dfe-2025-extension")
    # the class defaults are the guidance's profile, field by field
    assert load_profile("dfe-2022-09").rules == Rules()
    assert Rules().profile == "dfe-2022-09"
    assert kpis_in_force(Rules()) == KPIS


def test_extension_profile_changes_only_its_three_targets():
    extension = load_profile("dfe-2025-extension").rules
    changed = {
        f.name: getattr(extension, f.name)
        for f in fields(Rules)
        if getattr(extension, f.name) != getattr(Rules(), f.name)
    }
    assert changed == {
        "profile": "dfe-2025-extension",
        "dropout_limit": 0.15,
        "completion_target": 0.8,
        "starts_target": 0.5,
    }
    assert kpis_in_force(extension) == (*KPIS, "completion", "starts")


def test_params_start_from_a_profile_and_override_keys():
    rules = rules_for("dfe-2025-extension", {"dropout_limit": 0.1})
    assert (rules.profile, rules.dropout_limit, rules.completion_target) == (
        "dfe-2025-extension",
        0.1,
        0.8,
    )
    # a profile's KPI can be switched off by a null override
    assert "starts" not in kpis_in_force(rules_for("dfe-2025-extension", {"starts_target": None}))
    with pytest.raises(ParameterError, match="profile is not a rule"):
        rules_for(None, {"profile": "dfe-2025-extension"})


def test_unknown_profile_is_refused_naming_the_known_ones(tmp_path: Path):
    with pytest.raises(ParameterError) as caught:
        params_from_mapping({"provider_dir": "d/2023-03/P1", "out_dir": "o", "profile": "dfe"})
    assert caught.value.one_line() == (
        "unknown rule profile 'dfe'; known profiles: dfe-2022-09, dfe-2025-extension"
    )
    kpis = ["kpis", str(tmp_path), "--as-of", "2023-03-31", "--out", str(tmp_path / "o")]
    for command in (["rules"], kpis):
        result = CliRunner().invoke(main, [*command, "--profile", "dfe"])
        assert result.exit_code == 2
        assert result.output.strip().splitlines() == [
            "error: unknown rule profile 'dfe'; known profiles: dfe-2022-09, dfe-2025-extension"
        ]
    assert not (tmp_path / "o").exists()


def test_profile_dfe_2025_extension_judges_dropout_against_15_percent(tmp_path: Path):
    # Issue 27, "Done when". B1 (2023-01-01 to 2023-03-31) has 25 starts (M1
    # 2023-01-10): 4 withdrew after M1 on 2023-02-01, 21 completed on 2023-03-20. At
    # 2023-04-30 it has ended: drop-out 4 / 25 = 16 %. The guidance (20 %): met. A params
    # file with `profile: dfe-2025-extension` (15 %): not_met, DROP-ABOVE-LIMIT.
    learners = [learner(f"W{i}", m1="2023-01-10", withdrawn="2023-02-01") for i in range(4)]
    learners += [learner(f"C{i}", m1="2023-01-10", completed="2023-03-20") for i in range(21)]
    tables = build(learners=learners)
    params = tmp_path / "params.yaml"
    params.write_text("profile: dfe-2025-extension\n", encoding="utf-8")
    for rules, status, limit in (
        (rules_from_params(None), "met", 0.20),
        (rules_from_params(params), "not_met", 0.15),
    ):
        b1 = learner_dropout(tables, as_of=date(2023, 4, 30), rules=rules)[0]
        assert (b1.numerator, b1.denominator, b1.target, b1.status) == (4, 25, limit, status)
    assert [f.message for f in b1.exceptions] == [
        "drop-out 4 of 25 (16.0%) is above the 15% limit; its 25 members, the 4 drop-outs"
        " first cited, are in kpi_members.csv"
    ]


def test_profile_flag_replaces_the_params_file_profile(tmp_path: Path):
    params = tmp_path / "params.yaml"
    params.write_text("profile: dfe-2025-extension\nrules: {amber_fraction: 0.9}\n", "utf-8")
    rules = rules_from_params(params, profile="dfe-2022-09")
    assert (rules.profile, rules.dropout_limit, rules.amber_fraction) == ("dfe-2022-09", 0.2, 0.9)
    base = batch_base(params)
    assert base.rules_object() == replace(
        load_profile("dfe-2025-extension").rules, amber_fraction=0.9
    )
    assert batch_base(params, profile="dfe-2022-09").rules_object().profile == "dfe-2022-09"


def test_kpis_command_measures_and_names_the_profile(tmp_path: Path):
    # The small return (kpi_frames.small_return): under the extension profile its
    # results gain completion and starts, and its manifest names the profile; under the
    # default they have neither.
    folder = tmp_path / "2023-03" / "P1"
    write_return(folder, small_return())
    outputs = {}
    for profile in ("dfe-2022-09", "dfe-2025-extension"):
        out = tmp_path / profile
        result = CliRunner().invoke(
            main,
            ["kpis", str(folder), "--as-of", "2023-03-31", "--out", str(out), "--profile", profile],
        )
        assert result.exit_code == 0, result.output
        kpis = {
            line.split(",")[2] for line in (out / "kpi_results.csv").read_text().splitlines()[1:]
        }
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["profile"] == manifest["rules"]["profile"] == profile
        outputs[profile] = kpis
    assert outputs["dfe-2022-09"] == set(KPIS)
    assert outputs["dfe-2025-extension"] == {*KPIS, "completion", "starts"}


def test_rules_command_names_the_profile_and_its_kpis():
    default = CliRunner().invoke(main, ["rules"])
    extension = CliRunner().invoke(main, ["rules", "--profile", "dfe-2025-extension"])
    assert default.exit_code == extension.exit_code == 0
    assert "Rule profile: dfe-2022-09 (DfE / WMCA KPI guidance, September 2022)" in default.output
    assert "\ncompletion: " not in default.output
    assert "Rule profile: dfe-2025-extension (DfE contract extensions, 2025)" in extension.output
    assert "Target: at most 15.0 % drop-out" in extension.output
    assert "\ncompletion: " in extension.output and "\nstarts: " in extension.output
    assert "COMP-BELOW-TARGET" in extension.output
