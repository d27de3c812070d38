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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring as encode_json_string
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
    # A sound prev_hash is 64 hex digits, so its UTF-8 bytes are its ASCII bytes. A
    # tampered one may hold any text (even a lone surrogate from a damaged row); it must
    # still hash, so verify reports a mismatch instead of failing on the encoding.
    data = prev_hash.encode("utf-8", "surrogatepass") + payload.encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


# The key order of every canonical payload (sorted), and where some columns sit in it:
# `check_event` takes an event's hashed values as one tuple in this order.
PAYLOAD_ORDER = tuple(sorted(HASHED_COLUMNS))
# What comes before each value in a payload: `{"actor":`, `,"algorithm":`, …
_KEY_PREFIXES = tuple(
    ("{" if at == 0 else ",") + encode_json_string(name) + ":"
    for at, name in enumerate(PAYLOAD_ORDER)
)


def event_payload(record: Mapping[str, Any], fields_text: str | None = None) -> str:
    """The canonical payload of an event record (fields given as a mapping).

    `fields_text` is `canonical_json(record["fields"])` when the caller has already
    encoded the fields (the store keeps that text too), so they are encoded once.
    """
    # An event's columns are str, int or None apart from its fields, so the payload is
    # laid out key by key with the json module's own string encoder: the same text as
    # canonical_json of the whole mapping (a property test holds them equal) at a third
    # of its cost. Anything else goes through canonical_json, which decides or refuses.
    parts = []
    for prefix, name in zip(_KEY_PREFIXES, PAYLOAD_ORDER, strict=True):
        value: Any = record.get(name)
        kind = type(value)
        if kind is str:
            text = encode_json_string(value)
        elif value is None:
            text = "null"
        elif kind is int:
            text = int.__repr__(value)
        elif name == "fields" and fields_text is not None:
            text = fields_text
        elif kind is dict and _plain(value):
            text = _ENCODER.encode(value)
        else:
            return canonical_json({name: record.get(name) for name in HASHED_COLUMNS})
        parts.append(prefix)
        parts.append(text)
    parts.append("}")
    return "".join(parts)


@dataclass(frozen=True)
class SealedEvent:
    payload: str
    entry_hash: str


def seal(record: Mapping[str, Any], fields_text: str | None = None) -> SealedEvent:
    """Encode an event record (which must include seq and prev_hash) and hash it.

    `fields_text`, if given, must be `canonical_json(record["fields"])`.
    """
    payload = event_payload(record, fields_text)
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


_SEQ_AT = PAYLOAD_ORDER.index("seq")
_FIELDS_AT = PAYLOAD_ORDER.index("fields")
_PREV_AT = PAYLOAD_ORDER.index("prev_hash")
_ALGORITHM_AT = PAYLOAD_ORDER.index("algorithm")

# Findings about one event come in this order, as `verify_chain` has always given them;
# `merge_findings` restores it when the checks ran in separate passes.
_CHECK_ORDER = {"sequence": 0, "link": 1, "payload": 2, "hash": 3}


def verify_chain(
    rows: Iterable[Mapping[str, Any]],
    head: tuple[int, str] | None,
) -> tuple[list[Finding], int, str]:
    """Check every event row in `seq` order against its payload and the chain.

    `rows` are mappings of the stored columns, with `fields` as the stored JSON text.
    Returns (findings, events read, last entry hash). The two halves, `check_links` and
    `check_event`, are what `audit verify` runs, in separate passes over the log.
    """
    sealed: list[Finding] = []

    def links() -> Iterator[tuple[Any, Any, Any]]:
        for row in rows:
            values = tuple(row.get(name) for name in PAYLOAD_ORDER)
            sealed.extend(check_event(values, row["payload"], row["entry_hash"])[0])
            yield row["seq"], row["prev_hash"], row["entry_hash"]

    findings, count, last = check_links(links(), head)
    return merge_findings([*findings, *sealed]), count, last


def merge_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Chain findings in log order: by event, and within one event sequence, link,
    payload, hash; findings about no event (the head) last. `seq` is the events
    table's primary key, so no two events share one."""
    return sorted(
        findings,
        key=lambda f: (f.seq is None, f.seq or 0, _CHECK_ORDER.get(f.check, len(_CHECK_ORDER))),
    )


def check_links(
    rows: Iterable[Sequence[Any]], head: tuple[int, str] | None
) -> tuple[list[Finding], int, str]:
    """The chain's shape, from (seq, prev_hash, entry_hash) rows in `seq` order.

    `seq` runs 1…N without gaps, every `prev_hash` is the previous row's `entry_hash`,
    and the head agrees with the last row. That each `entry_hash` is the hash of its own
    event is `check_event`'s half. Returns (findings, events read, last entry hash).
    """
    findings: list[Finding] = []
    expected_seq = 1
    prev_hash = GENESIS_HASH
    count = 0
    for raw_seq, stored_prev, entry_hash in rows:
        count += 1
        seq = int(raw_seq)
        if seq != expected_seq:
            findings.append(
                Finding("sequence", f"expected event {expected_seq} next but found {seq}", seq)
            )
        expected_seq = seq + 1
        if stored_prev != prev_hash:
            findings.append(
                Finding("link", "prev_hash does not match the previous entry's hash", seq)
            )
        prev_hash = str(entry_hash)
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


class _FloatMet(Exception):
    """The fields decoder met a float (or NaN, Infinity): not plain data."""


def _refuse_float(_text: str) -> Any:
    raise _FloatMet


# Decodes as `json.loads` does, but stops at a float: a float has no canonical form, so
# such an event takes `_payload_findings`, which reports it. The C scanner calls these
# hooks only when it meets a float or NaN/Infinity, so plain data pays nothing for them.
_FIELDS_DECODER = json.JSONDecoder(parse_float=_refuse_float, parse_constant=_refuse_float)


def _no_canonical_form(value: Any) -> Any:
    raise CanonicalEncodingError(f"{type(value).__name__} has no canonical form")


# `_ENCODER.encode` builds a C encoder (and a dict for circular-reference checks) on
# every call, about a third of the cost of encoding an event; this one is built once,
# with `_ENCODER`'s settings. No circular-reference markers: it is only given values
# made of database columns and `json` decoder output, which cannot hold a cycle.
_make_c_encoder = getattr(json.encoder, "c_make_encoder", None)
_C_ENCODE: Any = (
    None
    if _make_c_encoder is None
    else _make_c_encoder(
        None, _no_canonical_form, json.encoder.encode_basestring, None, ":", ",", True, False, False
    )
)


def _encode_plain(value: Any) -> str:
    """`canonical_json(value)` for a value `_plain` accepts."""
    if _C_ENCODE is None:
        return _ENCODER.encode(value)
    return "".join(_C_ENCODE(value, 0))


_NO_FINDINGS: tuple[Finding, ...] = ()


def check_event(
    values: Sequence[Any], payload: Any, entry_hash: Any
) -> tuple[Sequence[Finding], Any]:
    """One stored event against its own payload and hash.

    `values` are the event's hashed columns in `PAYLOAD_ORDER`, `fields` as the stored
    JSON text. The columns must re-encode to exactly the stored payload, and
    `entry_hash` must be the hash of the event's stored `prev_hash` ‖ payload (whether
    that `prev_hash` is the previous entry's hash is `check_links`' half).

    Returns (findings, fields): `fields` decoded if they are a JSON object, otherwise
    the stored value untouched, so replay meets the same problem it would on its own.
    The decoded object may be shared with other events: read it, do not change it.
    """
    fields_text = values[_FIELDS_AT]
    fields: Any = fields_text
    matches = False
    if type(fields_text) is str:
        cached = _CANONICAL_FIELDS.get(fields_text)
        if cached is not None:
            fields, canonical = cached, True
        else:
            fields, canonical = _decode_fields(fields_text)
        if canonical:
            matches = _is_canonical_payload(values, payload, fields_text)
    found: Sequence[Finding] = _NO_FINDINGS if matches else _payload_findings(values, payload)
    try:
        recomputed = chain_hash(str(values[_PREV_AT]), str(payload), values[_ALGORITHM_AT])
    except CanonicalEncodingError as exc:
        found = [*found, Finding("hash", str(exc), int(values[_SEQ_AT]))]
    else:
        if recomputed != entry_hash:
            message = "entry_hash does not match the hash of its payload"
            found = [*found, Finding("hash", message, int(values[_SEQ_AT]))]
    return found, (fields if type(fields) is dict else fields_text)


# Fields texts known to be canonical JSON objects, with what they decode to: most
# events' fields are one of a few texts ({} above all), so this saves decoding and
# re-encoding them. Bounded; emptied when full.
_CANONICAL_FIELDS: dict[str, dict[str, Any]] = {}
_CANONICAL_FIELDS_MAX = 4096


def _decode_fields(text: str) -> tuple[Any, bool]:
    """(fields as `json.loads` gives them or the text if it is not JSON, whether the
    text is canonical JSON of plain values)."""
    try:
        fields = _FIELDS_DECODER.decode(text)
    except _FloatMet:
        return json.loads(text), False
    except ValueError:
        return text, False
    canonical = _encode_plain(fields) == text
    if canonical and type(fields) is dict:
        if len(_CANONICAL_FIELDS) >= _CANONICAL_FIELDS_MAX:
            _CANONICAL_FIELDS.clear()
        _CANONICAL_FIELDS[text] = fields
    return fields, canonical


def _payload_template(types: tuple[type, ...]) -> tuple[str, int] | None:
    """For hashed values of these types (in `PAYLOAD_ORDER`): a %-template that lays
    them out as canonical JSON when no string among them needs escaping, and how many
    quotes, backslashes and control characters the template itself puts in. None for
    types it cannot lay out exactly (anything but str or None, and int for the two
    integer columns); such events take the full encoding."""
    parts = []
    for name, kind in zip(PAYLOAD_ORDER, types, strict=True):
        if name == "fields":
            if kind is not str:
                return None
            value = "%s"  # the stored text, shown canonical before this is used
        elif name in ("seq", "workflow_version"):
            if kind is int:
                value = "%s"
            elif kind is type(None) and name == "workflow_version":
                value = "null%.0s"  # prints nothing for the None it is given
            else:
                return None
        elif kind is str:
            value = '"%s"'
        elif kind is type(None):
            value = "null%.0s"
        else:
            return None
        parts.append(f'"{name}":{value}')
    template = "{" + ",".join(parts) + "}"
    return template, template.count('"')


_TEMPLATES: dict[tuple[type, ...], tuple[str, int] | None] = {}
_MAX_TEMPLATES = 1024  # a tampered log could show many type patterns; a real one few
# The characters JSON escapes: a quote, a backslash and the control characters. They
# are ASCII, and in UTF-8 a byte below 0x80 is always that ASCII character, so they can
# be counted in the encoded bytes.
_ESCAPED = bytes([*range(0x20), ord('"'), ord("\\")])


def _escaped_count(data: bytes) -> int:
    return len(data) - len(data.translate(None, _ESCAPED))


def _is_canonical_payload(values: Sequence[Any], payload: Any, fields_text: str) -> bool:
    """True only if `payload` is exactly `canonical_json` of the columns, given that
    `fields_text` is canonical: the payload check of nearly every event, at a fraction
    of the cost of encoding. False means "not shown"; `_payload_findings` then decides.

    The columns are laid out as canonical JSON would if no string needed escaping, the
    fields text as stored. If that equals the payload, the payload holds exactly as many
    characters JSON escapes as the layout's own quotes plus the fields text's: any more
    would be a string column's, which canonical JSON would have escaped.
    """
    types = tuple(map(type, values))
    try:
        found = _TEMPLATES[types]
    except KeyError:
        found = _payload_template(types)
        if len(_TEMPLATES) < _MAX_TEMPLATES:
            _TEMPLATES[types] = found
    if found is None or type(payload) is not str:
        return False
    template, template_quotes = found
    try:
        if template % tuple(values) != payload:
            return False
        expected = template_quotes + _escaped_count(fields_text.encode("utf-8"))
        return _escaped_count(payload.encode("utf-8")) == expected
    except (ValueError, UnicodeError):
        return False


def _payload_findings(values: Sequence[Any], payload: Any) -> list[Finding]:
    """The payload check for any stored values, however odd their types."""
    seq = int(values[_SEQ_AT])
    columns = dict(zip(PAYLOAD_ORDER, values, strict=True))
    try:
        columns["fields"] = json.loads(str(values[_FIELDS_AT]))
        recomputed = canonical_json(columns)
    except (ValueError, CanonicalEncodingError):
        return [Finding("payload", "stored columns cannot be encoded", seq)]
    if recomputed != payload:
        return [_payload_differs(seq, payload, columns)]
    return []


def _payload_differs(seq: int, payload: Any, columns: Mapping[str, Any]) -> Finding:
    differing = _differing_columns(str(payload), columns)
    return Finding(
        "payload",
        "stored columns differ from the hashed payload"
        + (f" ({', '.join(differing)})" if differing else ""),
        seq,
    )


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
        """The checkpoint `text` holds; ValueError (or KeyError) if it is not one.

        Whatever the file holds is only data: numbers longer than any event count are
        refused before they are converted, nesting deeper than the parser's recursion is
        a ValueError, and the count must be one a database can hold."""
        try:
            data = json.loads(text, parse_int=_bounded_int, parse_float=_no_float)
        except RecursionError:
            raise ValueError("it nests arrays or objects too deeply to be one") from None
        if not isinstance(data, dict) or type(data.get("casereview_checkpoint")) is not int:
            raise ValueError("not a casereview checkpoint")
        if data["casereview_checkpoint"] != 1:
            raise ValueError("not a casereview checkpoint")
        count = data["event_count"]
        head = data["head_hash"]
        if type(count) is not int or not 0 <= count <= MAX_SEQ or not isinstance(head, str):
            raise ValueError("checkpoint has a malformed event_count or head_hash")
        created, algorithm = data.get("created_at", ""), data.get("algorithm")
        if not isinstance(created, str) or not isinstance(algorithm, str | None):
            raise ValueError("checkpoint has a malformed created_at or algorithm")
        return cls(count, head, created, str(algorithm))


MAX_SEQ = 2**63 - 1
"""The largest event number either database can store."""


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > 19:  # more digits than any 64-bit integer has
        raise ValueError("a number larger than any event count")
    return int(text)


def _no_float(_text: str) -> Any:
    raise ValueError("a number that is not a whole number")


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
