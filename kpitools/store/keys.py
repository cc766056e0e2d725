"""The pseudonym key is part of the record: a run into an output root whose audit store
was written with another key is refused before any work.

Exception ids and pseudonyms are keyed (:mod:`kpitools.privacy.pseudonym`): with another
key (a new laptop, a colleague, a lost config folder) every exception would look new and
the auditors' follow-up would move to *Resolved*. :func:`check_run_key` compares the
fingerprint of the run's key with the one the store recorded when it was created, reading
only: a refused run changes nothing in OUT.
"""

from __future__ import annotations

from pathlib import Path

from kpitools.errors import ParameterError
from kpitools.privacy.pseudonym import (
    check_key,
    key_fingerprint,
    key_origin,
    key_would_be_created,
)
from kpitools.store.connection import store_path, stored_key_fingerprint


def check_run_key(key_file: str | Path | None, *, out_root: str | Path) -> tuple[bytes, str]:
    """The run's pseudonym key and its fingerprint, checked (before any work) against the
    key the store of ``out_root`` was written with.

    Args:
        key_file: the key file a params file names, or None (see
            :func:`kpitools.privacy.pseudonym.load_key`).
        out_root: the output root (``OUT``).

    Raises:
        ParameterError: the store was written with another key, or with a key while none
            is in place (one line naming both fingerprints and where the key is expected);
            or the key itself is unusable (:func:`~kpitools.privacy.pseudonym.check_key`).
        StoreError: the store cannot be read (newer, not a store).
    """
    recorded = stored_key_fingerprint(out_root)
    where = key_origin(key_file)
    store = store_path(out_root)
    if recorded is not None and key_would_be_created(key_file):
        raise ParameterError(
            f"{store} was written with pseudonym key {recorded}, and there is no key at "
            f"{where}: put that key there (or point KPITOOLS_PSEUDONYM_KEY_FILE at it) and "
            "run again; a new key would make every exception look new"
        )
    key = check_key(key_file, out_root=out_root)
    fingerprint = key_fingerprint(key)
    if recorded is not None and recorded != fingerprint:
        raise ParameterError(
            f"{store} was written with pseudonym key {recorded}, but this run's key is "
            f"{fingerprint} (from {where}): give this run the key {recorded} (at {where}, "
            "or point KPITOOLS_PSEUDONYM_KEY_FILE at it), or write to another output folder"
        )
    return key, fingerprint
