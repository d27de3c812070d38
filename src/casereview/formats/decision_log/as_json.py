"""The decision log as JSON, for programs.

One object, `{"meta": ..., "events": [...], "digest": "sha256:..."}`, in a fixed layout
(`meta` indented with sorted keys, one event per line in canonical form). The digest is
the sha256 of the canonical JSON of `{"events": [...], "meta": {...}}`, the encoding the
event log itself uses (`casereview.domain.chain.canonical_json`), so anyone can recompute
it; `verify-export` also checks the layout byte for byte, which a canonical digest cannot
see. The layout and the digest in full: docs/exports.md ("JSON (programs)").
A control or bidirectional-control character is written as a `\\u` escape in the layout
(`formats.text.json_safe`); the digest is of the canonical text, which holds it as itself.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from json.encoder import encode_basestring
from typing import Any, BinaryIO

from casereview.domain.chain import CanonicalEncodingError, canonical_json
from casereview.formats.decision_log.document import (
    DIGEST_PATTERN,
    ExportFormatError,
    HashingSink,
    ParsedExport,
    format_digest,
)
from casereview.formats.decision_log.records import DecisionRecord, ExportMeta, FieldValue
from casereview.formats.text import json_safe

# Exactly `chain.canonical_json`'s encoding without its type walk: the records are built
# from values the log already encoded canonically, and this runs once per event. One
# encoder, built once (`json.dumps` builds one per call).
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def _canonical(value: Any) -> str:
    return _CANONICAL.encode(value)


_string = encode_basestring  # the encoder's own quoting of a string (C)


def _value(value: Any) -> str:
    """A value as the canonical encoder writes it; the common kinds without its walk."""
    kind = type(value)
    if kind is str:
        return _string(value)
    if value is None:
        return "null"
    if kind is int:
        return str(value)
    return _CANONICAL.encode(value)


def event_line(record: DecisionRecord) -> str:
    """`_canonical(record.to_json())`, written out directly.

    The keys are fixed and already in sorted order, nearly every value is a string, and
    strings are quoted by the encoder's own function, so the text is the same; a field's
    value (which may be a list or an object) still goes through the encoder. Building
    the dictionaries and having the encoder walk and sort them took two thirds of the
    JSON writer's time. A test holds the two to agreement, hostile text included.
    """
    v = _value
    clocks = ",".join(
        [
            f'{{"change":{v(c.change)},"clock":{v(c.clock)},"due_on":{v(c.due_on)},'
            f'"label":{v(c.label)},"position":{v(c.position)},"status":{v(c.status)},'
            f'"summary":{v(c.summary)}}}'
            for c in record.clocks
        ]
    )
    fields = ",".join([f"{v(f.id)}:{v(f.value)}" for f in sorted(record.fields, key=_field_id)])
    omitted = ",".join([v(f) for f in record.omitted_fields])
    amends = ",".join(
        [
            f'{{"event":{v(a.event)},"field":{v(a.field)},"now":{v(a.now)},'
            f'"was":{v(a.was)},"what":{v(a.what)}}}'
            for a in record.amends
        ]
    )
    return (
        f'{{"actor":{v(record.actor)},"amends":[{amends}],'
        f'"case_ref":{v(record.case_ref)},"clocks":[{clocks}],'
        f'"entry_hash":{v(record.entry_hash)},"fields":{{{fields}}},'
        f'"from_state":{v(record.from_state)},"from_state_label":{v(record.from_state_label)},'
        f'"occurred_on":{v(record.occurred_on)},"omitted_fields":[{omitted}],'
        f'"on_behalf_of":{v(record.on_behalf_of)},"pseudonym":{v(record.pseudonym)},'
        f'"rationale":{v(record.rationale)},"recorded_at":{v(record.recorded_at)},'
        f'"role":{v(record.role)},"seq":{v(record.seq)},"to_state":{v(record.to_state)},'
        f'"to_state_label":{v(record.to_state_label)},"trigger":{v(record.trigger)},'
        f'"trigger_label":{v(record.trigger_label)}}}'
    )


def _field_id(field: FieldValue) -> str:
    return field.id


def _head(meta: dict[str, Any]) -> str:
    body = json.dumps(meta, indent=2, sort_keys=True, ensure_ascii=False)
    return '{\n  "meta": ' + body.replace("\n", "\n  ") + ',\n  "events": ['


def _event_piece(index: int, line: str) -> str:
    return (",\n    " if index else "\n    ") + line


def _tail(digest: str) -> str:
    return '\n  ],\n  "digest": ' + json.dumps(digest) + "\n}\n"


def render(meta: dict[str, Any], events: Iterable[dict[str, Any]], digest: str) -> bytes:
    """The exact bytes casereview writes for this content (used to check the layout)."""
    parts = [_head(meta)]
    parts.extend(_event_piece(i, _canonical(e)) for i, e in enumerate(events))
    parts.append(_tail(digest))
    return json_safe("".join(parts)).encode("utf-8")


class JsonWriter:
    """Event lines are collected and written out (and into the digest) every
    `FLUSH_EVENTS` events: one encode, one write and one hash update per batch rather
    than three writes per event."""

    FLUSH_EVENTS = 500

    def __init__(self, stream: BinaryIO) -> None:
        self._sink = HashingSink(stream)
        self._meta = ""
        self._count = 0  # events flushed
        self._lines: list[str] = []

    def begin(self, meta: ExportMeta) -> None:
        data = meta.to_json()
        self._meta = _canonical(data)
        self._sink.write(json_safe(_head(data)).encode("utf-8"), hashed=False)
        self._sink.update_hash_only(b'{"events":[')

    def write(self, record: DecisionRecord) -> None:
        self.write_text(event_line(record))

    def write_text(self, text: str) -> None:
        """An event already laid out by `event_line` (by this process or a worker)."""
        self._lines.append(text)
        if len(self._lines) >= self.FLUSH_EVENTS:
            self._flush()

    def _flush(self) -> None:
        lines = self._lines
        if not lines:
            return
        # The file has each event on its own line after a comma (none before the
        # first); the digest's canonical text has the events separated by commas.
        first = ",\n    " if self._count else "\n    "
        # The file shows control characters as JSON escapes (`formats.text.json_safe`);
        # the digest is of the canonical text, which holds them as themselves.
        self._sink.write(json_safe(first + ",\n    ".join(lines)).encode("utf-8"), hashed=False)
        self._sink.update_hash_only(
            (("," if self._count else "") + ",".join(lines)).encode("utf-8")
        )
        self._count += len(lines)
        lines.clear()

    def finish(self) -> str:
        self._flush()
        self._sink.update_hash_only(('],"meta":' + self._meta + "}").encode("utf-8"))
        digest = format_digest(self._sink.hexdigest())
        self._sink.write(_tail(digest).encode("utf-8"), hashed=False)
        return digest


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ExportFormatError(f"key {key!r} appears twice in one object")
        result[key] = value
    return result


def content_digest(meta: dict[str, Any], events: list[Any]) -> str:
    """The documented digest of a JSON export's content."""
    try:
        text = canonical_json({"meta": meta, "events": events})
    except CanonicalEncodingError as exc:
        raise ExportFormatError(f"the content has no canonical encoding ({exc})") from None
    return format_digest(hashlib.sha256(text.encode("utf-8")).hexdigest())


def read_json(data: bytes) -> ParsedExport:
    """Parse a JSON decision log (ExportFormatError if it is not one)."""
    try:
        doc = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except UnicodeDecodeError as exc:
        raise ExportFormatError(f"the file is not valid UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ExportFormatError(f"the file is not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or set(doc) != {"meta", "events", "digest"}:
        raise ExportFormatError("the file is not an object with meta, events and digest")
    meta_data, events, claimed = doc["meta"], doc["events"], doc["digest"]
    if not isinstance(claimed, str) or not DIGEST_PATTERN.fullmatch(claimed):
        raise ExportFormatError("digest is not 'sha256:<64 hex digits>'")
    if not isinstance(meta_data, dict) or not isinstance(events, list):
        raise ExportFormatError("meta is not an object, or events is not a list")
    try:
        meta = ExportMeta.from_json(meta_data)
    except ValueError as exc:
        raise ExportFormatError(str(exc)) from None
    parsed = ParsedExport(
        format="json",
        meta=meta,
        claimed_digest=claimed,
        actual_digest=content_digest(meta_data, events),
    )
    if render(meta_data, events, claimed) != data:
        parsed.problems.append(
            "the file is not byte for byte in the layout casereview writes "
            "(whitespace or key order was changed)"
        )
    for event in events:
        if not (
            isinstance(event, dict)
            and isinstance(event.get("seq"), int)
            and isinstance(event.get("entry_hash"), str)
            and isinstance(event.get("case_ref"), str)
        ):
            raise ExportFormatError("an event lacks a seq, case_ref or entry_hash")
        parsed.add_unit(event["seq"], event, event["entry_hash"], event["case_ref"])
    return parsed
