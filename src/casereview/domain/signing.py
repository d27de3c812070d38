"""Signed events: Ed25519 over each event's entry hash, and the key ring replayed from the
key events.

Every event from a log's first `key_enrol` on carries a signature (base64) over its
`entry_hash` (ASCII) by a key that only its recorder holds, and that key's id (the first
16 hex digits of sha256 of the raw public key). Which keys count is itself in the log:

- `key_enrol` (kind "key", by the key's owner): the public key, signed by that key
  (proof of possession). The log's first enrolment, if by an admin, is confirmed by
  being first (the bootstrap); every other key needs
- `key_confirm` (kind "admin"): an admin, signing with their own confirmed key,
  confirms a user's enrolled key;
- `key_revoke` (kind "admin"): an admin or the key's owner retires a key; events after
  it signed by that key are findings.

`KeyRing` replays these in seq order and answers whether key K was enrolled for user U,
confirmed by an admin and not revoked at event N (`problem`). Who was an admin at each
point is the caller's (a callable over the users' replay); `Admins` is the minimal
replay of the user events that answers it. Pure: the `cryptography` library does the
arithmetic, nothing here reads a file or the database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "ed25519"
KEY_ENROL = "key_enrol"
KEY_CONFIRM = "key_confirm"
KEY_REVOKE = "key_revoke"
KEY_TRIGGERS = frozenset({KEY_ENROL, KEY_CONFIRM, KEY_REVOKE})
ADMIN = "admin"


def key_id(public_key: bytes) -> str:
    """A key's id: the first 16 hex digits of sha256 of its raw 32-byte public key."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def decode(text: Any) -> bytes | None:
    """The bytes of base64 `text`, or None if it is not base64 text."""
    if not isinstance(text, str):
        return None
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeError):
        return None


@dataclass(frozen=True)
class Signer:
    """An account's private key, able to sign entry hashes. Picklable (the raw 32
    bytes), so a writer process can be handed it."""

    private: bytes

    def __post_init__(self) -> None:
        if len(self.private) != 32:
            raise ValueError("an Ed25519 private key is 32 bytes")

    @classmethod
    def generate(cls) -> Signer:
        key = Ed25519PrivateKey.generate()
        return cls(key.private_bytes_raw())

    @classmethod
    def from_pem(cls, data: bytes) -> Signer:
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("not an Ed25519 private key")
        return cls(key.private_bytes_raw())

    def pem(self) -> bytes:
        return self._key().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def _key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.private)

    @property
    def public_key(self) -> bytes:
        return self._key().public_key().public_bytes_raw()

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def signing(self) -> Callable[[str], str]:
        """A function from an entry hash to its signature (base64), with the key
        object built once for a batch."""
        sign = self._key().sign
        return lambda entry_hash: encode(sign(entry_hash.encode("ascii")))

    def sign(self, entry_hash: str) -> str:
        return self.signing()(entry_hash)

    def event_signing(self) -> Callable[[int, str], str]:
        """`signing` for the append path, which also says which event (its seq) each
        signature is for: a signer that must account for every use (a key the server
        holds for a person) overrides this one."""
        sign = self.signing()
        return lambda _seq, entry_hash: sign(entry_hash)


def verifier(public_key: bytes) -> Callable[[Any, Any], bool]:
    """A function (entry hash, signature as stored) -> whether the signature is this
    key's over that hash; anything malformed is simply not a valid signature."""
    try:
        key = Ed25519PublicKey.from_public_bytes(public_key)
    except ValueError:
        return lambda _hash, _signature: False

    def check(entry_hash: Any, signature: Any) -> bool:
        raw = decode(signature)
        if raw is None or len(raw) != 64 or not isinstance(entry_hash, str):
            return False
        try:
            key.verify(raw, entry_hash.encode("ascii"))
        except (InvalidSignature, UnicodeError):
            return False
        return True

    return check


def verify(public_key: bytes, entry_hash: Any, signature: Any) -> bool:
    return verifier(public_key)(entry_hash, signature)


# -- the key ring ------------------------------------------------------------------------


@dataclass
class EnrolledKey:
    """One enrolled key and what the log says of it (seqs of the events)."""

    username: str
    key_id: str
    public_key: bytes
    enrolled_seq: int
    confirmed_seq: int | None = None
    confirmed_by: str | None = None  # None with a confirmed_seq: the bootstrap
    revoked_seq: int | None = None
    revoked_by: str | None = None

    def __post_init__(self) -> None:
        self.check = verifier(self.public_key)

    @property
    def state(self) -> str:
        if self.revoked_seq is not None:
            return "revoked"
        return "confirmed" if self.confirmed_seq is not None else "unconfirmed"


@dataclass(frozen=True)
class SignedEvent:
    """What the ring needs of an event: who recorded it, its signature, and for key
    events what they say."""

    seq: int
    actor: Any
    key_id: Any
    signature: Any
    entry_hash: Any
    trigger: Any = None
    fields: Any = None


@dataclass(frozen=True)
class KeyFinding:
    seq: int
    message: str


class KeyRing:
    """The keys of a log, replayed from its key events in seq order.

    `is_admin(username)` answers, when it is called, whether the user is an active admin
    at the point the replay has reached: the caller applies user events and key events
    to both replays in one pass in seq order.

    `signatures=False` leaves the Ed25519 arithmetic out and takes every signature as
    valid: the write path's question (is my key enrolled, confirmed, not revoked?),
    answered inside the write transaction, where a few milliseconds per key event
    would hold the lock; a forged key event there changes nothing, since `audit verify`
    checks every signature and reports the events signed under it.
    """

    def __init__(self, is_admin: Callable[[str], bool], *, signatures: bool = True) -> None:
        self.is_admin = is_admin
        self.signatures = signatures
        self.keys: dict[str, EnrolledKey] = {}
        self.first_enrol: int | None = None
        self.findings: list[KeyFinding] = []

    def apply(self, event: SignedEvent) -> None:
        """Apply a key event (`trigger` in KEY_TRIGGERS; others are ignored). A key event
        that does not do what it says (not signed as it must be, by someone not allowed
        to) is a finding and changes nothing."""
        trigger = event.trigger
        fields = event.fields if isinstance(event.fields, Mapping) else {}
        if trigger == KEY_ENROL:
            self._enrol(event, fields)
        elif trigger == KEY_CONFIRM:
            self._confirm(event, fields)
        elif trigger == KEY_REVOKE:
            self._revoke(event, fields)

    def _fail(self, event: SignedEvent, message: str) -> None:
        self.findings.append(KeyFinding(event.seq, message))

    def _enrol(self, event: SignedEvent, fields: Mapping[str, Any]) -> None:
        username, kid = fields.get("username"), fields.get("key_id")
        public = decode(fields.get("public_key"))
        if username != event.actor:
            self._fail(event, f"a key enrolment for {username!r} recorded by {event.actor!r}")
            return
        if fields.get("algorithm") != ALGORITHM or public is None or len(public) != 32:
            self._fail(event, "a key enrolment whose public key cannot be read")
            return
        if kid != key_id(public) or event.key_id != kid:
            self._fail(event, "a key enrolment whose key id is not its public key's")
            return
        if kid in self.keys:
            self._fail(event, f"key {kid} is enrolled a second time")
            return
        key = EnrolledKey(str(username), str(kid), public, event.seq)
        if self.signatures and not key.check(event.entry_hash, event.signature):
            self._fail(event, f"the enrolment of key {kid} is not signed by that key")
            return
        if self.first_enrol is None:
            self.first_enrol = event.seq
            if self.is_admin(str(username)):
                key.confirmed_seq = event.seq  # the bootstrap: confirmed by being first
        self.keys[key.key_id] = key

    def _confirm(self, event: SignedEvent, fields: Mapping[str, Any]) -> None:
        problem = self.problem(event)
        if problem is not None:
            self._fail(event, f"a key confirmation that does not count: {problem}")
            return
        if not self.is_admin(str(event.actor)):
            self._fail(event, f"a key confirmation by {event.actor!r}, who is not an admin")
            return
        key = self.keys.get(str(fields.get("key_id")))
        if key is None or key.username != fields.get("username"):
            self._fail(event, "a confirmation of a key not enrolled for that user")
            return
        if key.revoked_seq is not None or key.confirmed_seq is not None:
            self._fail(event, f"a confirmation of key {key.key_id}, already {key.state}")
            return
        key.confirmed_seq, key.confirmed_by = event.seq, str(event.actor)

    def _revoke(self, event: SignedEvent, fields: Mapping[str, Any]) -> None:
        key = self.keys.get(str(fields.get("key_id")))
        if key is None or key.username != fields.get("username"):
            self._fail(event, "a revocation of a key not enrolled for that user")
            return
        problem = self.problem(event)
        if problem is not None:
            self._fail(event, f"a key revocation that does not count: {problem}")
            return
        if event.actor != key.username and not self.is_admin(str(event.actor)):
            self._fail(event, f"a revocation of {key.username}'s key by {event.actor!r}")
            return
        if key.revoked_seq is None:
            key.revoked_seq, key.revoked_by = event.seq, str(event.actor)

    def signed(self, seq: int) -> bool:
        """Whether event `seq` must be signed: from the log's first enrolment on."""
        return self.first_enrol is not None and seq >= self.first_enrol

    def problem(self, event: SignedEvent) -> str | None:
        """Why event `event.seq` is not validly signed by a key of its actor that was
        enrolled, confirmed and not revoked at that point; None if it is."""
        if event.signature is None or event.key_id is None:
            return "it is not signed"
        key = self.keys.get(str(event.key_id))
        seq = event.seq
        if key is None or key.enrolled_seq > seq:
            return f"it is signed with key {event.key_id}, which was not enrolled"
        if key.username != event.actor:
            return f"it is signed with key {key.key_id}, enrolled for another user"
        if seq != key.enrolled_seq:  # an enrolment is signed by the key it enrols
            if key.confirmed_seq is None or key.confirmed_seq >= seq:
                return f"it is signed with key {key.key_id}, not confirmed by an admin"
            if key.revoked_seq is not None and seq > key.revoked_seq:
                return f"it is signed with key {key.key_id}, revoked at event {key.revoked_seq}"
        if self.signatures and not key.check(event.entry_hash, event.signature):
            return f"its signature is not key {key.key_id}'s over its entry hash"
        return None


class Admins:
    """Who is an active admin, from the user events replayed in seq order (the minimal
    replay of users the key ring needs; the event shapes: docs/audit.md)."""

    def __init__(self) -> None:
        self.roles: dict[str, set[str]] = {}
        self.inactive: set[str] = set()

    def __call__(self, username: str) -> bool:
        return username not in self.inactive and ADMIN in self.roles.get(username, ())

    def apply(self, trigger: Any, fields: Any) -> None:
        if not isinstance(fields, Mapping):
            return
        username = fields.get("username")
        if not isinstance(username, str):
            return
        if trigger in ("user_add", "user_change") and isinstance(fields.get("roles"), list):
            self.roles[username] = {str(r) for r in fields["roles"]}
        elif trigger == "user_grant":
            self.roles.setdefault(username, set()).add(str(fields.get("role")))
        elif trigger == "user_revoke":
            self.roles.setdefault(username, set()).discard(str(fields.get("role")))
        elif trigger == "user_deactivate":
            self.inactive.add(username)
        elif trigger == "user_reactivate":
            self.inactive.discard(username)
