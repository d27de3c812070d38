"""The account's private files: its signing keys, and its record of what it has verified.

Each recorder's Ed25519 private key is a file readable by that operating-system account
alone (0600, in a 0700 folder): `<user data dir>/casereview/keys/<account>.key`, or
under `$CASEREVIEW_KEY_DIR` when set (tests, the demo and the benchmark generator use
their own). One file per account name; created on first use. A key file (or folder) that
another account can read or write, or that this account does not own, is refused: a key
anyone else can read is not the recorder's alone.

The verification record (`<folder>/verified/<log id>.json`, the same permissions) keeps,
per log, the (seq, entry hash) through which this account has checked every signature,
so the next `audit verify` checks only what is newer (docs/audit.md).
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from casereview.domain.signing import Signer
from casereview.errors import CaseReviewError, Refused

KEY_DIR_ENV = "CASEREVIEW_KEY_DIR"
RECORD_LIMIT = 64 * 1024


class KeyFileError(Refused):
    """A key file or folder that may not be used (permissions, owner, content)."""


def key_dir() -> Path:
    configured = os.environ.get(KEY_DIR_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_data_path

    return user_data_path("casereview", appauthor=False) / "keys"


def key_path(account: str, folder: Path | None = None) -> Path:
    return (folder or key_dir()) / f"{account}.key"


def _private_folder(folder: Path) -> Path:
    """`folder`, created 0700 if missing; refused if another account may use it."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    _check_private(folder, 0o077, "folder")
    return folder


def _check_private(path: Path, forbidden: int, what: str) -> None:
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode):
        raise KeyFileError(f"the key {what} {path} is a symbolic link; refusing to use it")
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        raise KeyFileError(f"the key {what} {path} belongs to another account; refusing it")
    if st.st_mode & forbidden:
        raise KeyFileError(
            f"the key {what} {path} can be read or written by other accounts "
            f"(mode {stat.S_IMODE(st.st_mode):o}); make it private (chmod "
            f"{'700' if what == 'folder' else '600'}) before using it"
        )


def _write_private(target: Path, data: bytes, *, replace: bool) -> None:
    """Write a 0600 file whole: a temporary file beside it, renamed (or linked, when it
    must not replace one) into place."""
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            Path(temporary).replace(target)
        else:
            os.link(temporary, target)  # FileExistsError if another process got there
    finally:
        Path(temporary).unlink(missing_ok=True)


def load_key(account: str, folder: Path | None = None) -> Signer | None:
    """The account's key, or None if it has none yet."""
    path = key_path(account, folder)
    if not path.parent.exists() or not os.path.lexists(path):
        return None
    _check_private(path.parent, 0o077, "folder")
    _check_private(path, 0o077, "file")
    try:
        return Signer.from_pem(path.read_bytes()[:RECORD_LIMIT])
    except (ValueError, TypeError, OSError):
        raise KeyFileError(f"the key file {path} does not hold an Ed25519 key") from None


def create_key(account: str, folder: Path | None = None) -> Signer:
    """A new key for the account, written to its key file (which must not exist)."""
    path = key_path(account, folder)
    _private_folder(path.parent)
    signer = Signer.generate()
    try:
        _write_private(path, signer.pem(), replace=False)
    except FileExistsError:
        raise KeyFileError(f"the key file {path} already exists") from None
    return signer


def load_or_create_key(account: str, folder: Path | None = None) -> tuple[Signer, bool]:
    """The account's key, created on first use; (key, whether it was created now)."""
    found = load_key(account, folder)
    if found is not None:
        return found, False
    return create_key(account, folder), True


def retire_key(account: str, folder: Path | None = None) -> Path | None:
    """Move the account's key file aside (`<account>.key.<key id>.retired`), so the next
    enrolment creates a new key; where it went, or None if there was none."""
    current = load_key(account, folder)
    if current is None:
        return None
    path = key_path(account, folder)
    retired = path.with_name(f"{path.name}.{current.key_id}.retired")
    path.replace(retired)
    return retired


# -- the verification record ---------------------------------------------------------------


def _record_path(log_id: str, folder: Path | None) -> Path:
    if not log_id.isalnum():
        raise CaseReviewError("a log id is hex digits")
    return (folder or key_dir()) / "verified" / f"{log_id}.json"


def load_record(log_id: str, folder: Path | None = None) -> dict[str, Any] | None:
    """What this account recorded of its last full check of the log `log_id`, or None
    (none yet, or a record that cannot be read: then everything is checked again)."""
    path = _record_path(log_id, folder)
    if not path.exists():
        return None
    _check_private(path.parent, 0o077, "folder")
    _check_private(path, 0o077, "file")
    try:
        data = json.loads(path.read_bytes()[:RECORD_LIMIT])
    except (ValueError, OSError):
        return None
    return data if isinstance(data, dict) else None


def save_record(log_id: str, record: Mapping[str, Any], folder: Path | None = None) -> None:
    path = _record_path(log_id, folder)
    _private_folder(path.parent.parent)
    _private_folder(path.parent)
    _write_private(path, json.dumps(dict(record), indent=2).encode("utf-8"), replace=True)
