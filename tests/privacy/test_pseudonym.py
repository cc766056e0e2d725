"""Keyed learner pseudonyms: stable with one key, different with another, key kept out."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest

from kpitools.errors import ParameterError
from kpitools.privacy.pseudonym import (
    Pseudonymiser,
    key_fingerprint,
    key_origin,
    key_would_be_created,
    load_key,
)

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


def test_the_fingerprint_names_a_key_without_revealing_it() -> None:
    # HMAC-SHA256 of a fixed label with the key, 12 hex digits
    expected = hmac.new(KEY, b"kpitools pseudonym key fingerprint", hashlib.sha256).hexdigest()
    assert key_fingerprint(KEY) == "KF-" + expected[:12]
    assert key_fingerprint(KEY) == key_fingerprint(bytes(KEY))
    assert key_fingerprint(KEY) != key_fingerprint(KEY + b"x")
    assert KEY.hex()[:12] not in key_fingerprint(KEY)


def test_where_the_key_is_expected_and_when_one_would_be_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert key_origin() == "$KPITOOLS_PSEUDONYM_KEY"  # the suite's key is in the variable
    assert not key_would_be_created()
    monkeypatch.delenv("KPITOOLS_PSEUDONYM_KEY")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert key_origin() == str(tmp_path / "kpitools" / "pseudonym.key")
    assert key_would_be_created() and not key_would_be_created(tmp_path / "given.key")
    load_key()
    assert not key_would_be_created()
