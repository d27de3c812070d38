"""What every decision-log file shares, whatever its format.

A writer takes the metadata first, then records one by one, and on `finish` writes the
digest and returns it. A reader turns the bytes of a file back into a `ParsedExport`:
its metadata, one comparable *unit* per event (a CSV row's cells, a JSON event object,
a Markdown event block) keyed by `seq`, the entry hash each unit names, the digest it
claims and the digest its content actually has, and the *frame*: the visible text
around the events (a Markdown export's title, metadata table, preamble and case
headings; the other formats have none beyond their metadata). Verification compares
two parsed exports (the file's and one regenerated from the database) unit by unit and
frame part by frame part.

Digests are written `sha256:<64 hex digits>` in every format.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

from casereview.formats.decision_log.records import DecisionRecord, ExportMeta

DIGEST_ALGORITHM = "sha256"
DIGEST_PATTERN = re.compile(r"sha256:([0-9a-f]{64})")


def format_digest(hex_digest: str) -> str:
    return f"{DIGEST_ALGORITHM}:{hex_digest}"


class ExportFormatError(ValueError):
    """The bytes are not a well-formed casereview export (of the format tried)."""


class Writer(Protocol):
    def begin(self, meta: ExportMeta) -> None: ...

    def write(self, record: DecisionRecord) -> None: ...

    def finish(self) -> str:
        """Write the digest; return it as `sha256:<hex>`."""
        ...


class LineWriter(Writer, Protocol):
    """A writer whose events are independent lines of text, so they can be laid out
    elsewhere (a worker process) and handed over in order."""

    def write_text(self, text: str) -> None: ...


class HashingSink:
    """Writes bytes to a stream and, unless told otherwise, into a running sha256."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._hash = hashlib.sha256()

    def write(self, data: bytes, *, hashed: bool = True) -> None:
        self._stream.write(data)
        if hashed:
            self._hash.update(data)

    def update_hash_only(self, data: bytes) -> None:
        self._hash.update(data)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


@dataclass
class ParsedExport:
    """A decision-log file read back: see the module docstring."""

    format: str
    meta: ExportMeta
    claimed_digest: str
    actual_digest: str
    units: dict[int, Any] = field(default_factory=dict)
    entry_hashes: dict[int, str] = field(default_factory=dict)
    cases: dict[int, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    frame: list[tuple[str, str]] = field(default_factory=list)
    """(what the part is, its text) in file order: the visible text outside the units."""

    @property
    def digest_ok(self) -> bool:
        return self.claimed_digest == self.actual_digest

    def add_unit(self, seq: int, unit: Any, entry_hash: str, case_ref: str) -> None:
        if seq in self.units:
            self.problems.append(f"event {seq} appears more than once")
            return
        self.units[seq] = unit
        self.entry_hashes[seq] = entry_hash
        self.cases[seq] = case_ref
