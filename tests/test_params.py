"""The params schema: unknown keys fail, dates parsed explicitly, ids stay text, and
the notebook's parameters cell has exactly the schema's names."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import papermill
import pytest

from kpitools.errors import KpiToolsError, ParameterError
from kpitools.params import (
    PARAMETER_NAMES,
    PackParams,
    load_params,
    params_from_mapping,
    rules_from_params,
    write_params,
)
from kpitools.rules import Rules
from kpitools.run.runner import PROVIDER_NOTEBOOK


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "P001.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_unquoted_yaml_date_is_parsed_explicitly_and_ids_stay_text(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "provider_dir: data/2023-03/0012\nout_dir: out/x\nperiod: 2023-03\nas_of: 2023-03-15\n",
    )
    params = load_params(path)
    assert params.as_of == date(2023, 3, 15)
    assert params.period == "2023-03"
    assert params.provider_dir == "data/2023-03/0012"


def test_unknown_key_fails_naming_it(tmp_path: Path) -> None:
    path = _write(tmp_path, "provider_dir: a\nout_dir: b\ninclude_pi: true\n")
    with pytest.raises(ParameterError, match="include_pi") as caught:
        load_params(path)
    assert caught.value.path == str(path)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("as_of: 2023-02-30", "not a real date"),
        ("as_of: 31/03/2023", "YYYY-MM-DD"),
        ("period: 202303", "must be text"),
        ("period: 2023-13", "not YYYY-MM"),
        ("include_pii: 'yes'", "true or false"),
        ("rules: {dropout_limt: 0.2}", "dropout_limt"),
    ],
)
def test_bad_values_fail(tmp_path: Path, text: str, match: str) -> None:
    path = _write(tmp_path, f"provider_dir: a\nout_dir: b\n{text}\n")
    with pytest.raises(ParameterError, match=match):
        load_params(path)


def test_missing_required_and_non_mapping_fail() -> None:
    with pytest.raises(ParameterError, match="out_dir"):
        params_from_mapping({"provider_dir": "a"})
    with pytest.raises(ParameterError, match="mapping"):
        params_from_mapping(["provider_dir"])


def test_defaults_period_end_and_folder_period(tmp_path: Path) -> None:
    folder = tmp_path / "2023-02" / "P001"
    params = params_from_mapping({"provider_dir": str(folder), "out_dir": "o"})
    # blank period: the provider folder's parent; blank as_of: the period's last day
    assert params.resolved_period == "2023-02"
    assert params.resolved_as_of == date(2023, 2, 28)
    assert params.rules_object().dropout_limit == 0.2


def test_round_trip_keeps_every_value(tmp_path: Path) -> None:
    params = PackParams(
        provider_dir="d/2023-03/P001",
        out_dir="o/2023-03/P001",
        period="2023-03",
        as_of=date(2023, 3, 31),
        include_pii=True,
        rules={"dropout_limit": 0.25},
    )
    assert load_params(write_params(params, tmp_path / "p.yaml")) == params


def test_notebook_parameters_cell_matches_the_schema() -> None:
    cell = papermill.inspect_notebook(str(PROVIDER_NOTEBOOK))
    assert set(cell) == set(PARAMETER_NAMES)
    # the defaults of the notebook pass the schema themselves (demo data, period end)
    defaults = {name: eval(spec["default"]) for name, spec in cell.items()}  # noqa: S307 - our own notebook
    params = params_from_mapping(defaults)
    assert params.include_pii is False
    # the period blank: taken from the folder holding provider_dir
    assert params.period == "" and params.resolved_period == "2023-03"


def test_the_notebook_changed_to_another_month_is_refused_in_one_line() -> None:
    # issue 27: provider_dir changed to February, the rest left as it was, built
    # February's data labelled 2023-03; now the period comes from the folder, and the
    # out_dir of March is refused (February's pack would replace March's)
    cell = papermill.inspect_notebook(str(PROVIDER_NOTEBOOK))
    defaults = {name: eval(spec["default"]) for name, spec in cell.items()}  # noqa: S307 - our own notebook
    february = {**defaults, "provider_dir": "../data/demo/2023-02/P001"}
    with pytest.raises(ParameterError) as caught:
        params_from_mapping(february, where="notebook parameters")
    assert caught.value.one_line() == (
        "notebook parameters: out_dir ../out/demo/2023-03/P001 is the output folder of "
        "2023-03, but the return in provider_dir ../data/demo/2023-02/P001 is of 2023-02: "
        "give the out_dir of 2023-02 (or leave it blank)"
    )
    february["out_dir"] = "../out/demo/2023-02/P001"
    assert params_from_mapping(february).resolved_period == "2023-02"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            {"period": "2023-03"},
            "period 2023-03 contradicts provider_dir data/2023-02/P001, a folder of 2023-02: "
            "leave period blank to take it from the folder",
        ),
        (
            {"out_dir": "out/2023-03/P001"},
            "out_dir out/2023-03/P001 is the output folder of 2023-03, but the return in "
            "provider_dir data/2023-02/P001 is of 2023-02",
        ),
        (
            {"period_dir": "data/2023-03"},
            "period_dir data/2023-03 is the folder of 2023-03, but the return in provider_dir "
            "data/2023-02/P001 is of 2023-02: give DATA/2023-02",
        ),
    ],
)
def test_a_period_that_contradicts_the_folders_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: dict[str, str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data" / "2023-02" / "P001").mkdir(parents=True)
    raw = {"provider_dir": "data/2023-02/P001", "out_dir": "out/2023-02/P001", **given}
    with pytest.raises(ParameterError) as caught:
        params_from_mapping(raw)
    assert message in caught.value.one_line()
    assert "\n" not in caught.value.one_line()
    # what agrees with the folders passes: the period given or blank, the folders of 2023-02
    agreed = params_from_mapping(
        {**raw, "period": "2023-02", "out_dir": "out/2023-02/P001", "period_dir": "data/2023-02"}
    )
    assert agreed.period_dir == "data/2023-02" and agreed.resolved_period == "2023-02"
    # folders not named for a period say nothing either way
    loose = params_from_mapping(
        {"provider_dir": "elsewhere/P001", "out_dir": "o", "period": "2023-03"}
    )
    assert loose.resolved_period == "2023-03"


def test_committed_params_files_fit_the_schema() -> None:
    files = sorted((Path(__file__).parents[1] / "params").rglob("*.yaml"))
    assert files, "params/demo examples are missing"
    for path in files:
        params = load_params(path)
        assert params.provider_dir.endswith(path.stem)
        assert not params.include_pii


def test_batch_common_params(tmp_path: Path) -> None:
    from kpitools.run.single import batch_base

    common = _write(
        tmp_path, "rules: {dropout_limit: 0.25}\ninclude_pii: true\nas_of: 2023-03-15\n"
    )
    base = batch_base(common)
    assert (base.rules, base.include_pii, base.as_of) == (
        {"dropout_limit": 0.25},
        True,
        date(2023, 3, 15),
    )
    assert batch_base(common, include_pii=False).include_pii is False
    per_provider = _write(tmp_path, "provider_dir: data/2023-03/P001\n")
    with pytest.raises(ParameterError, match="set per provider"):
        batch_base(per_provider)


def test_blank_previous_and_out_dir_are_derived_from_provider_dir(tmp_path: Path) -> None:
    (tmp_path / "demo" / "2023-02" / "P002").mkdir(parents=True)
    provider = tmp_path / "demo" / "2023-03" / "P002"
    provider.mkdir(parents=True)
    params = params_from_mapping({"provider_dir": str(provider), "previous_dir": "", "out_dir": ""})
    # the same provider's previous month, never another provider's
    assert params.previous_dir == (tmp_path / "demo" / "2023-02" / "P002").as_posix()
    assert params.out_dir == (tmp_path / "out" / "demo" / "2023-03" / "P002").as_posix()
    # no previous month beside it: blank stays blank (the audit notes it)
    lonely = tmp_path / "demo" / "2023-03" / "P003"
    lonely.mkdir()
    assert params_from_mapping({"provider_dir": str(lonely)}).previous_dir == ""
    # a given value is kept as given
    given = params_from_mapping(
        {"provider_dir": str(provider), "out_dir": "o", "previous_dir": "p"}
    )
    assert (given.out_dir, given.previous_dir) == ("o", "p")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # a duplicated include_pii would otherwise silently build a pack with personal data
        ("include_pii: false\ninclude_pii: true\n", "line 4: duplicate key 'include_pii'"),
        ("rules: &r {dropout_limit: 0.2}\nas_of: *r\n", "line 3: anchors and aliases"),
        ("rules: {dropout_limit: .nan}\n", "line 3: .nan is not a finite number"),
        ("rules: {dropout_limit: -.inf}\n", "line 3: -.inf is not a finite number"),
        (
            "rules: {outcome_window_months: " + "9" * 5000 + "}\n",
            "line 3: integer longer than 18 digits",
        ),
        ("rules: " + "[" * 40 + "]" * 40 + "\n", "line 3: nested deeper than 10 levels"),
        (
            "as_of: !!python/object/apply:os.system ['true']\n",
            "python/object/apply:os.system' is not allowed",
        ),
        ("rules: {dropout_limit: 25}\n", "rules: rule dropout_limit must be a fraction in (0, 1]"),
        ("rules: [1,\n", "not valid YAML: line 4"),
    ],
)
def test_params_yaml_refusals_are_one_line_exit_2(tmp_path: Path, text: str, message: str) -> None:
    from click.testing import CliRunner

    from kpitools.cli import main

    path = _write(tmp_path, f"provider_dir: a\nout_dir: b\n{text}")
    with pytest.raises(ParameterError) as caught:
        load_params(path)
    assert message in caught.value.one_line()
    result = CliRunner().invoke(main, ["pack", str(path)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and message in result.output
    assert "Traceback" not in result.output


def test_a_params_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "P001.yaml"
    # 16 + 11 + 24 bytes before the é: it is byte 51 (from 0)
    path.write_bytes(
        "provider_dir: a\nout_dir: b\nperiod: '2023-03'  # caf\u00e9\n".encode("cp1252")
    )
    with pytest.raises(ParameterError, match=r"not UTF-8 text \(byte 51\); save the file as UTF-8"):
        load_params(path)


def test_every_params_reader_uses_the_safe_loader(tmp_path: Path) -> None:
    # kpis/rules --params (rules_from_params) and packs --params (batch_base) too
    from kpitools.run.single import batch_base

    path = _write(tmp_path, "include_pii: false\ninclude_pii: true\n")
    for reader in (rules_from_params, batch_base):
        with pytest.raises(ParameterError, match="duplicate key 'include_pii'"):
            reader(path)


def test_rules_from_params(tmp_path):
    assert rules_from_params(None) == Rules()
    params = tmp_path / "p.yaml"
    params.write_text("rules:\n  progression_target: 0.4\n", encoding="utf-8")
    assert rules_from_params(params).progression_target == 0.4
    params.write_text("colour: blue\n", encoding="utf-8")
    try:
        rules_from_params(params)
    except ParameterError as error:
        assert "unknown parameter(s) colour" in error.one_line()
    else:
        raise AssertionError("an unknown key must be refused")
    assert issubclass(ParameterError, KpiToolsError)
