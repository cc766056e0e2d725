"""Keyed pseudonyms for learners: HMAC-SHA256 with a key kept outside the outputs.

The same key gives the same pseudonym for a learner in every pack, register and run,
so auditors can follow a case from month to month; without the key the pseudonym does
not lead back to the learner. The key comes, in this order, from an explicit key file,
the environment variable ``KPITOOLS_PSEUDONYM_KEY`` (the key itself), the file named
by ``KPITOOLS_PSEUDONYM_KEY_FILE``, or a key file created on first use in the user's
config folder (``~/.config/kpitools/pseudonym.key``, mode 0600).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from kpitools.errors import ParameterError

log = logging.getLogger(__name__)

KEY_ENV = "KPITOOLS_PSEUDONYM_KEY"
KEY_FILE_ENV = "KPITOOLS_PSEUDONYM_KEY_FILE"
_MIN_KEY_BYTES = 16
_FINGERPRINT_LABEL = b"kpitools pseudonym key fingerprint"


def default_key_file() -> Path:
    """The key file used when none is configured (outside any output folder)."""
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "kpitools" / "pseudonym.key"


def _read_key_file(path: Path) -> bytes:
    try:
        key = path.read_bytes().strip()
    except OSError as error:
        raise ParameterError(
            f"cannot read the pseudonym key: {error.strerror}", path=path
        ) from None
    if len(key) < _MIN_KEY_BYTES:
        raise ParameterError(
            f"pseudonym key is too short ({len(key)} bytes, need {_MIN_KEY_BYTES})", path=path
        )
    return key


def _create_key_file(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key)
    log.warning(
        "created a new pseudonym key at %s; keep it to get the same pseudonyms next run", path
    )
    return key


def check_key(key_file: str | Path | None = None, *, out_root: str | Path) -> bytes:
    """The key a run will use, checked before any work: :func:`load_key` with the whole
    output root as the folder it must stay out of, and a warning (with the ``chmod``
    that fixes it) when the key file can be read by group or others.

    Raises:
        ParameterError: as :func:`load_key`.
    """
    key = load_key(key_file, out_dir=out_root)
    path = key_file_in_use(key_file)
    if path is not None:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            log.warning(
                "the pseudonym key %s can be read by others (mode %04o): anyone who can "
                "read it can undo the pseudonyms; run: chmod 600 %s",
                path,
                mode,
                path,
            )
    return key


def key_file_in_use(key_file: str | Path | None = None) -> Path | None:
    """The file the key comes from (None when it is given in ``KPITOOLS_PSEUDONYM_KEY``)."""
    if key_file:
        return Path(key_file)
    if os.environ.get(KEY_ENV):
        return None
    if os.environ.get(KEY_FILE_ENV):
        return Path(os.environ[KEY_FILE_ENV])
    return default_key_file()


def key_fingerprint(key: bytes) -> str:
    """A short public name of a key: the first 12 hex digits of the HMAC-SHA256 of a
    fixed label with the key, ``KF-`` before them. It tells two keys apart (in the audit
    store, the manifest, the register and the pack) and reveals nothing of the key.

    >>> key_fingerprint(b"0123456789abcdef0123456789abcdef")
    'KF-44e2c39644f1'
    """
    return "KF-" + hmac.new(key, _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:12]


def key_origin(key_file: str | Path | None = None) -> str:
    """Where a run expects its key, for messages: the key file's path, or the variable
    that holds the key itself."""
    path = key_file_in_use(key_file)
    return f"${KEY_ENV}" if path is None else str(path)


def key_would_be_created(key_file: str | Path | None = None) -> bool:
    """True when :func:`load_key` would create a new key (no key configured, and no key
    file in the user's config folder yet)."""
    path = key_file_in_use(key_file)
    return (
        path is not None and not key_file and not os.environ.get(KEY_FILE_ENV) and not _exists(path)
    )


def load_key(key_file: str | Path | None = None, *, out_dir: str | Path | None = None) -> bytes:
    """Find the pseudonym key (see module docstring for the order).

    Args:
        key_file: an explicit key file, or None/blank.
        out_dir: the output folder; a key file inside it is refused.

    Raises:
        ParameterError: unreadable or short key, or a key file inside ``out_dir``.
    """
    path = key_file_in_use(key_file)
    if path is None:
        key = os.environ[KEY_ENV].strip().encode()
        if len(key) < _MIN_KEY_BYTES:
            raise ParameterError(f"{KEY_ENV} is too short (need {_MIN_KEY_BYTES} characters)")
        return key
    if out_dir is not None and Path(out_dir).resolve() in path.resolve().parents:
        raise ParameterError(
            f"the pseudonym key must be kept outside the output folder {out_dir}", path=path
        )
    if key_would_be_created(key_file):
        try:
            return _create_key_file(path)
        except FileExistsError:  # another worker created it first
            pass
        except OSError as error:  # the config folder cannot hold it
            raise ParameterError(
                f"cannot create the pseudonym key in {path.parent}: "
                f"{error.strerror or error}; set XDG_CONFIG_HOME to a folder you can "
                f"write, or name a key file with {KEY_FILE_ENV}",
                path=path,
            ) from None
    return _read_key_file(path)


def _exists(path: Path) -> bool:
    """Whether the key file exists; True when that cannot be told (the read then says
    why in one line)."""
    try:
        return path.exists()
    except OSError:
        return True


@dataclass(frozen=True)
class Pseudonymiser:
    """Turns learner refs into stable keyed pseudonyms such as ``L-3f9a0c21d7``.

    Attributes:
        key: the HMAC key (never written to any output).
        provider_id: learner refs are unique within a provider, so it is part of the
            message: the same ref at two providers gets two pseudonyms.
    """

    key: bytes
    provider_id: str

    def __repr__(self) -> str:  # never show the key in logs or tracebacks
        return f"Pseudonymiser(provider_id={self.provider_id!r})"

    def learner(self, learner_ref: str) -> str:
        """The pseudonym of one learner of this provider."""
        message = f"{self.provider_id}\x1f{learner_ref}".encode()
        return "L-" + hmac.new(self.key, message, hashlib.sha256).hexdigest()[:10]
