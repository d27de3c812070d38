"""The audit trail's mathematics: canonical encoding, the hash chain, checkpoints.

Pure functions over plain values; nothing here touches the database. Every event is
encoded as canonical JSON (sorted keys, no insignificant whitespace, UTF-8, no floats,
dates and instants as fixed-format strings); those exact bytes are stored beside the
event, and `entry_hash = sha256(prev_hash ‖ payload)` links it to the one before. The
first event's `prev_hash` is 64 zeros. The algorithm is named in every entry so a later
version can change it without rewriting history.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ALGORITHM = "sha256"
GENESIS_HASH = "0" * 64

# Columns of an event that are hashed, in the names used by the payload. `case_id`
# (a local surrogate key) is not hashed; verify checks it against `case_ref` instead.
HASHED_COLUMNS = (
    "seq",
    "kind",
    "case_ref",
    "trigger",
    "from_state",
    "to_state",
    "occurred_on",
    "recorded_at",
    "actor",
    "on_behalf_of",
    "role",
    "rationale",
    "fields",
    "workflow_id",
    "workflow_version",
    "definition_hash",
    "algorithm",
    "prev_hash",
)


class CanonicalEncodingError(ValueError):
    """A value that has no canonical encoding (a float, a non-string key, …)."""


def format_instant(instant: dt.datetime) -> str:
    """UTC instant with microseconds and a `Z`, the only timestamp format hashed."""
    if instant.tzinfo is None:
        raise CanonicalEncodingError("instants must be timezone-aware")
    utc = instant.astimezone(dt.UTC)
    if utc.year >= 1000:  # isoformat is strftime's text here, at half the cost
        return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _check(value: Any, path: str) -> None:
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, int):
        return
    if isinstance(value, float):
        raise CanonicalEncodingError(f"{path}: floats are not allowed in hashed data")
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalEncodingError(f"{path}: keys must be strings")
            _check(item, f"{path}.{key}")
        return
    raise CanonicalEncodingError(f"{path}: {type(value).__name__} has no canonical form")


_PLAIN = frozenset({str, int, bool, type(None)})


def _plain(value: Any) -> bool:
    """True if `value` is made only of exact str/int/bool/None, lists and dicts with
    string keys: the common case, checked without building a path for every item.
    Anything else (a float, a subclass, a tuple …) goes to `_check`, which decides and
    names the offending path."""
    kind = type(value)
    if kind in _PLAIN:
        return True
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or (type(item) not in _PLAIN and not _plain(item)):
                return False
        return True
    if kind is list:
        return all(type(item) in _PLAIN or _plain(item) for item in value)
    return False


def canonical_json(value: Any) -> str:
    """Canonical JSON text for `value` (raises CanonicalEncodingError)."""
    if not _plain(value):
        _check(value, "$")
    return _ENCODER.encode(value)


# One encoder, built once: `json.dumps` with these options would build it per call.
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def chain_hash(prev_hash: str, payload: str, algorithm: str = ALGORITHM) -> str:
    if algorithm != ALGORITHM:
        raise CanonicalEncodingError(f"unknown hash algorithm {algorithm!r}")
    return hashlib.sha256(prev_hash.encode("ascii") + payload.encode("utf-8")).hexdigest()


def event_payload(record: Mapping[str, Any]) -> str:
    """The canonical payload of an event record (fields given as a mapping)."""
    return canonical_json({name: record.get(name) for name in HASHED_COLUMNS})


@dataclass(frozen=True)
class SealedEvent:
    payload: str
    entry_hash: str


def seal(record: Mapping[str, Any]) -> SealedEvent:
    """Encode an event record (which must include seq and prev_hash) and hash it."""
    payload = event_payload(record)
    return SealedEvent(payload, chain_hash(str(record["prev_hash"]), payload))


@dataclass(frozen=True)
class Finding:
    """One thing verification found wrong, with the event it concerns if any."""

    check: str
    message: str
    seq: int | None = None

    def __str__(self) -> str:
        where = f"event {self.seq}: " if self.seq is not None else ""
        return f"{where}{self.message}"


def verify_chain(
    rows: Iterable[Mapping[str, Any]],
    head: tuple[int, str] | None,
) -> tuple[list[Finding], int, str]:
    """Check every event row in `seq` order against its payload and the chain.

    `rows` are mappings of the stored columns, with `fields` as the stored JSON text.
    Returns (findings, events read, last entry hash).
    """
    findings: list[Finding] = []
    expected_seq = 1
    prev_hash = GENESIS_HASH
    count = 0
    for row in rows:
        count += 1
        seq = int(row["seq"])
        if seq != expected_seq:
            findings.append(
                Finding("sequence", f"expected event {expected_seq} next but found {seq}", seq)
            )
        expected_seq = seq + 1
        if row["prev_hash"] != prev_hash:
            findings.append(
                Finding("link", "prev_hash does not match the previous entry's hash", seq)
            )
        # The hashed columns only, fields decoded: what `event_payload` encodes.
        columns = {name: row.get(name) for name in HASHED_COLUMNS}
        try:
            columns["fields"] = json.loads(str(row["fields"]))
            recomputed_payload = canonical_json(columns)
        except (ValueError, CanonicalEncodingError):
            findings.append(Finding("payload", "stored columns cannot be encoded", seq))
            recomputed_payload = None
        if recomputed_payload is not None and recomputed_payload != row["payload"]:
            differing = _differing_columns(str(row["payload"]), columns)
            findings.append(
                Finding(
                    "payload",
                    "stored columns differ from the hashed payload"
                    + (f" ({', '.join(differing)})" if differing else ""),
                    seq,
                )
            )
        try:
            recomputed = chain_hash(str(row["prev_hash"]), str(row["payload"]), row["algorithm"])
        except CanonicalEncodingError as exc:
            findings.append(Finding("hash", str(exc), seq))
        else:
            if recomputed != row["entry_hash"]:
                findings.append(
                    Finding("hash", "entry_hash does not match the hash of its payload", seq)
                )
        prev_hash = str(row["entry_hash"])
    if head is not None:
        head_seq, head_hash = head
        if head_seq != count or head_hash != prev_hash:
            findings.append(
                Finding(
                    "head",
                    f"the chain head records {head_seq} events ending {head_hash[:12]}… "
                    f"but the log has {count} ending {prev_hash[:12]}…",
                )
            )
    elif count:
        findings.append(Finding("head", "the chain head record is missing"))
    return findings, count, prev_hash


def _differing_columns(payload: str, columns: Mapping[str, Any]) -> list[str]:
    try:
        hashed = json.loads(payload)
    except ValueError:
        return []
    if not isinstance(hashed, dict):
        return []
    return [name for name in HASHED_COLUMNS if hashed.get(name) != columns.get(name)]


@dataclass(frozen=True)
class Checkpoint:
    """What a scrutineer keeps: how long the log was and how it ended, at a moment."""

    event_count: int
    head_hash: str
    created_at: str
    algorithm: str = ALGORITHM

    def to_json(self) -> str:
        return json.dumps(
            {
                "casereview_checkpoint": 1,
                "event_count": self.event_count,
                "head_hash": self.head_hash,
                "created_at": self.created_at,
                "algorithm": self.algorithm,
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> Checkpoint:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("casereview_checkpoint") != 1:
            raise ValueError("not a casereview checkpoint")
        count = data["event_count"]
        head = data["head_hash"]
        if not isinstance(count, int) or count < 0 or not isinstance(head, str):
            raise ValueError("checkpoint has a malformed event_count or head_hash")
        return cls(count, head, str(data.get("created_at", "")), str(data.get("algorithm")))


def check_against_checkpoint(
    checkpoint: Checkpoint, hash_at: Mapping[int, str], total: int
) -> list[Finding]:
    """Compare a checkpoint with the log: it must still contain the checkpointed prefix.

    `hash_at` maps seq -> entry_hash (only the checkpoint's seq is needed).
    """
    if checkpoint.event_count == 0:
        if checkpoint.head_hash != GENESIS_HASH:
            return [
                Finding(
                    "checkpoint",
                    "the checkpoint records no events but a head hash other than the "
                    "empty log's: it is damaged or not from this log",
                )
            ]
        return []
    if total < checkpoint.event_count:
        return [
            Finding(
                "checkpoint",
                f"the log has {total} events but the checkpoint of {checkpoint.created_at} "
                f"recorded {checkpoint.event_count}: events were removed or an older copy "
                "was restored",
            )
        ]
    if hash_at.get(checkpoint.event_count) != checkpoint.head_hash:
        return [
            Finding(
                "checkpoint",
                f"event {checkpoint.event_count} no longer has the hash the checkpoint "
                "recorded: the log was rewritten from that point or earlier",
                checkpoint.event_count,
            )
        ]
    return []
