"""Keyed learner pseudonyms: stable with one key, different with another, key kept out."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest

from kpitools.errors import ParameterError
from kpitools.privacy.pseudonym import Pseudonymiser, load_key

KEY = b"0123456789abcdef0123"


def test_pseudonym_is_the_hmac_of_provider_and_ref() -> None:
    # worked by hand: HMAC-SHA256(key, "P001\x1fL1"), first 10 hex digits, prefixed "L-"
    expected = "L-" + hmac.new(KEY, b"P001\x1fL1", hashlib.sha256).hexdigest()[:10]
    assert Pseudonymiser(KEY, "P001").learner("L1") == expected


def test_stable_across_instances_and_different_per_key_and_provider() -> None:
    one = Pseudonymiser(KEY, "P001").learner("L1")
    assert Pseudonymiser(KEY, "P001").learner("L1") == one
    assert Pseudonymiser(KEY + b"x", "P001").learner("L1") != one
    assert Pseudonymiser(KEY, "P002").learner("L1") != one
    assert "0123456789" not in repr(Pseudonymiser(KEY, "P001"))


def test_key_sources_and_refusals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPITOOLS_PSEUDONYM_KEY", "short")
    with pytest.raises(ParameterError, match="too short"):
        load_key()
    monkeypatch.delenv("KPITOOLS_PSEUDONYM_KEY")
    key_file = tmp_path / "out" / "key"
    key_file.parent.mkdir()
    key_file.write_bytes(KEY)
    assert load_key(key_file) == KEY
    with pytest.raises(ParameterError, match="outside the output folder"):
        load_key(key_file, out_dir=tmp_path / "out")
    # no key configured: one is created once, outside outputs, and reused
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    first = load_key()
    assert load_key() == first
    created = tmp_path / "config" / "kpitools" / "pseudonym.key"
    assert created.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("config", ["a_file", "missing/deeper"])
def test_an_unusable_config_folder_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: str
) -> None:
    # XDG_CONFIG_HOME naming a file (or a folder that cannot be made) was a traceback
    monkeypatch.delenv("KPITOOLS_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("KPITOOLS_PSEUDONYM_KEY_FILE", raising=False)
    (tmp_path / "a_file").write_text("not a folder")
    (tmp_path / "missing").write_text("a file where a folder should be")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / config))
    with pytest.raises(ParameterError) as refused:
        load_key()
    line = refused.value.one_line()
    assert line.startswith(f"{tmp_path / config / 'kpitools' / 'pseudonym.key'}: ")
    assert "cannot create the pseudonym key in" in line and "XDG_CONFIG_HOME" in line
    assert "\n" not in line
