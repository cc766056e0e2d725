"""A run's pseudonym key is checked against the key the audit store was written with,
before any work and changing nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpitools.errors import ParameterError
from kpitools.privacy.pseudonym import KEY_ENV, KEY_FILE_ENV, key_fingerprint
from kpitools.store.connection import open_store
from kpitools.store.keys import check_run_key

KEY_A = "store-tests-key-aaaaaaaaaaaaaaaa"
KEY_B = "store-tests-key-bbbbbbbbbbbbbbbb"


def _store(out: Path, key: str) -> None:
    with open_store(out, key_fingerprint=key_fingerprint(key.encode())):
        pass


def test_without_a_store_the_key_is_taken_and_named(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY_A)
    key, fingerprint = check_run_key(None, out_root=tmp_path / "out")
    assert key == KEY_A.encode() and fingerprint == key_fingerprint(KEY_A.encode())
    assert not (tmp_path / "out").exists()  # checking the key writes nothing


def test_the_stores_key_is_accepted(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY_A)
    _store(tmp_path, KEY_A)
    assert check_run_key(None, out_root=tmp_path)[1] == key_fingerprint(KEY_A.encode())


def test_another_key_is_refused_naming_both_fingerprints_and_where(
    tmp_path: Path, monkeypatch
) -> None:
    _store(tmp_path, KEY_A)
    key_file = tmp_path.parent / "colleague.key"
    key_file.write_text(KEY_B)
    monkeypatch.delenv(KEY_ENV)
    monkeypatch.setenv(KEY_FILE_ENV, str(key_file))
    with pytest.raises(ParameterError) as refused:
        check_run_key(None, out_root=tmp_path)
    message = refused.value.one_line()
    assert key_fingerprint(KEY_A.encode()) in message
    assert key_fingerprint(KEY_B.encode()) in message
    assert str(key_file) in message and "\n" not in message
    assert KEY_A not in message and KEY_B not in message  # fingerprints, never keys


def test_a_missing_key_is_not_created_for_a_store_written_with_one(
    tmp_path: Path, monkeypatch
) -> None:
    # a new laptop: no key in the config folder yet; the run must not make one
    _store(tmp_path / "out", KEY_A)
    monkeypatch.delenv(KEY_ENV)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    with pytest.raises(ParameterError, match="there is no key at .*pseudonym.key"):
        check_run_key(None, out_root=tmp_path / "out")
    assert not (tmp_path / "config").exists()
