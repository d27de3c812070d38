"""Signing keys a server holds for the people signed in to it, and the log of their use.

On a shared installation the web server signs each person's events with that person's
own Ed25519 key, which it holds for them (docs/deployment.md, "The web interface on a
shared installation"). Each key is a file of its own in the server's key folder (0700,
owned by the server's account): `<username>.key.enc`, 0600, the raw private key
encrypted with AES-256-GCM under a key-encryption key, with the username (and the
key-encryption key's id) as associated data, so a file renamed to another person's
name does not decrypt. The key-encryption key is 32 random bytes, written as 64
hexadecimal characters, in a file named by `$CASEREVIEW_KEY_ENCRYPTION_KEY_FILE`: 0600
(or stricter), owned by the server's account, refused otherwise.

Every signature is accounted for: before it is made, one JSON line (UTC time, username,
key id, event seq, entry hash) is appended to `key-use.log` beside the keys (0600) and
flushed to disk. A line whose event is not in the log is a signature for a write that
was then refused or rolled back; an event signed with a held key that has no line is
what a scrutineer looks for.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from casereview.domain.signing import Signer
from casereview.infra.keys import (
    KeyFileError,
    _check_private,
    _private_folder,
    _write_private,
    key_dir,
)

KEK_FILE_ENV = "CASEREVIEW_KEY_ENCRYPTION_KEY_FILE"
"""Names the file holding the key-encryption key."""

FOLDER_ENV = "CASEREVIEW_SERVER_KEY_DIR"
"""Names the folder of the keys the server holds (default: `server/` in the account's
key folder)."""

USE_LOG = "key-use.log"
_MAGIC = b"casereview server key 1\n"
_NONCE = 12
_KEY_SUFFIX = ".key.enc"


class ServerKeyError(KeyFileError):
    """A held key, the key-encryption key or the use log that may not be used."""


def _kek_id(kek: bytes) -> str:
    """Which key-encryption key a file was encrypted under (not the key: a hash of it)."""
    return hashlib.sha256(b"casereview key-encryption key id\0" + kek).hexdigest()[:16]


def read_kek(path: Path) -> bytes:
    """The key-encryption key in `path`: 64 hex digits in a file of this account's alone."""
    if not path.exists() and not path.is_symlink():
        raise ServerKeyError(f"the key-encryption key file {path} does not exist")
    _check_private(path, 0o077, "file")
    if not stat.S_ISREG(path.lstat().st_mode):
        raise ServerKeyError(f"the key-encryption key file {path} is not a regular file")
    text = path.read_bytes()[:256].strip()
    try:
        kek = bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        kek = b""
    if len(kek) != 32:
        raise ServerKeyError(
            f"the key-encryption key file {path} must hold 32 random bytes as 64 "
            "hexadecimal characters (e.g. from 'openssl rand -hex 32')"
        )
    return kek


def read_secret(path: Path, what: str = "secret") -> str:
    """The text in `path` (e.g. an OpenID Connect client secret): a regular file of this
    account's alone, refused otherwise, as the key-encryption key's file is."""
    if not path.exists() and not path.is_symlink():
        raise ServerKeyError(f"the {what} file {path} does not exist")
    _check_private(path, 0o077, "file")
    if not stat.S_ISREG(path.lstat().st_mode):
        raise ServerKeyError(f"the {what} file {path} is not a regular file")
    text = path.read_bytes()[:4096].decode("utf-8", errors="replace").strip()
    if not text:
        raise ServerKeyError(f"the {what} file {path} is empty")
    return text


@dataclass(frozen=True)
class LoggedSigner(Signer):
    """A held key that writes a line to the use log before each signature it makes."""

    username: str = ""
    log: Path = Path()

    def event_signing(self) -> Callable[[int, str], str]:
        sign = self.signing()
        kid = self.key_id

        def logged(seq: int, entry_hash: str) -> str:
            _append_use(self.log, self.username, kid, seq, entry_hash)
            return sign(entry_hash)

        return logged


def _append_use(log: Path, username: str, kid: str, seq: int, entry_hash: str) -> None:
    line = json.dumps(
        {
            "at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "username": username,
            "key_id": kid,
            "seq": seq,
            "entry_hash": entry_hash,
        },
        sort_keys=True,
    )
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(log, flags, 0o600)
    except OSError as exc:
        raise ServerKeyError(f"cannot write the key-use log {log}: {exc.strerror}") from None
    try:
        _check_private(log, 0o077, "file")
        os.write(fd, (line + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


class ServerKeys:
    """The keys this server holds for people, in `folder`, under one key-encryption key."""

    def __init__(self, folder: Path, kek: bytes) -> None:
        self.folder = folder
        self._aead = AESGCM(kek)
        self._kek_id = _kek_id(kek)

    @classmethod
    def from_environment(cls, folder: Path | None = None) -> ServerKeys:
        """The server's keys: the key-encryption key from the file
        `$CASEREVIEW_KEY_ENCRYPTION_KEY_FILE` names; the folder `folder`, else
        `$CASEREVIEW_SERVER_KEY_DIR`, else `server/` in the account's key folder."""
        named = os.environ.get(KEK_FILE_ENV, "").strip()
        if not named:
            raise ServerKeyError(
                f"no key-encryption key: set {KEK_FILE_ENV} to the file that holds it"
            )
        configured = os.environ.get(FOLDER_ENV, "").strip()
        where = folder or (Path(configured) if configured else key_dir() / "server")
        return cls(where, read_kek(Path(named).expanduser()))

    @property
    def use_log(self) -> Path:
        return self.folder / USE_LOG

    def _path(self, username: str) -> Path:
        if not username or "/" in username or "\\" in username or username.startswith("."):
            raise ServerKeyError(f"{username!r} cannot name a key file")
        return self.folder / f"{username}{_KEY_SUFFIX}"

    def _associated(self, username: str) -> bytes:
        return _MAGIC + self._kek_id.encode("ascii") + b"\0" + username.encode("utf-8")

    def load(self, username: str) -> LoggedSigner | None:
        """`username`'s held key (None if the server holds none for them)."""
        path = self._path(username)
        if not path.parent.exists() or not os.path.lexists(path):
            return None
        _check_private(path.parent, 0o077, "folder")
        _check_private(path, 0o077, "file")
        data = path.read_bytes()[:4096]
        header = _MAGIC + self._kek_id.encode("ascii")
        if not data.startswith(_MAGIC):
            raise ServerKeyError(f"the key file {path} is not a key this server holds")
        if not data.startswith(header):
            raise ServerKeyError(
                f"the key file {path} was encrypted under another key-encryption key than "
                f"the one {KEK_FILE_ENV} names; nothing was signed"
            )
        body = data[len(header) :]
        try:
            private = self._aead.decrypt(body[:_NONCE], body[_NONCE:], self._associated(username))
        except InvalidTag:
            raise ServerKeyError(
                f"the key file {path} does not decrypt for {username!r}: it was altered, "
                "or it is another person's; nothing was signed"
            ) from None
        return LoggedSigner(private, username=username, log=self.use_log)

    def create(self, username: str) -> LoggedSigner:
        """A new key for `username`, held encrypted (refused if one is held already)."""
        path = self._path(username)
        _private_folder(self.folder)
        fresh = Signer.generate()
        nonce = secrets.token_bytes(_NONCE)
        sealed = self._aead.encrypt(nonce, fresh.private, self._associated(username))
        data = _MAGIC + self._kek_id.encode("ascii") + nonce + sealed
        try:
            _write_private(path, data, replace=False)
        except FileExistsError:
            raise ServerKeyError(f"the key file {path} already exists") from None
        return LoggedSigner(fresh.private, username=username, log=self.use_log)

    def retire(self, username: str) -> Path | None:
        """Move `username`'s held key aside (`<name>.key.enc.<key id>.retired`)."""
        current = self.load(username)
        if current is None:
            return None
        path = self._path(username)
        retired = path.with_name(f"{path.name}.{current.key_id}.retired")
        path.replace(retired)
        return retired
