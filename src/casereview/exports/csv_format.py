"""The decision log as CSV, for people working in Excel or LibreOffice.

Layout (every row parses with Python's `csv` module; the first column says what a row is):

1. the header row: `row_type` and the columns in `COLUMNS`;
2. `meta` rows: `meta,<key>,<value>` (see `ExportMeta.to_pairs`);
3. `event` rows, one per event, in `seq` order;
4. the last row: `digest,sha256,<64 hex digits>`.

Encoding: UTF-8 with a byte-order mark (so Excel detects UTF-8 and shows "Zoë" rather
than mojibake); rows end with CRLF (RFC 4180); cells are quoted only when they contain a
comma, a quote or a line break. The digest is the sha256 of every byte of the file before
the digest row, the byte-order mark included.

Formula injection: a spreadsheet runs a cell that begins with `=`, `+`, `-` or `@` (and
some versions one beginning with a tab or carriage return) as a formula. Every cell that
begins with one of those, or with their full-width forms, is written with a leading `'`
so it is shown as text. The JSON export keeps such text exactly as typed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from typing import BinaryIO

from casereview.exports.decision_log import DecisionRecord, ExportMeta
from casereview.exports.document import (
    ExportFormatError,
    HashingSink,
    ParsedExport,
    format_digest,
)

BOM = "\ufeff".encode()
COLUMNS = (
    "row_type",
    "seq",
    "case_ref",
    "pseudonym",
    "occurred_on",
    "recorded_at",
    "trigger",
    "trigger_label",
    "from_state",
    "from_state_label",
    "to_state",
    "to_state_label",
    "actor",
    "on_behalf_of",
    "role",
    "rationale",
    "fields",
    "omitted_fields",
    "clocks",
    "entry_hash",
)
FORMULA_START = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
"""First characters a spreadsheet may read as the start of a formula (with full-width forms)."""
_DIGEST_ROW = re.compile(rb"digest,sha256,([0-9a-f]{64})\r\n\Z")
_FIELD_SIZE_LIMIT = 2**31 - 1


def safe_cell(text: str) -> str:
    """The cell as a spreadsheet will show it: text, never a formula."""
    return "'" + text if text[:1] in FORMULA_START else text


def event_cells(record: DecisionRecord) -> list[str]:
    """An event row's cells (before neutralising), in `COLUMNS` order."""
    return [
        "event",
        str(record.seq),
        record.case_ref,
        record.pseudonym,
        record.occurred_on,
        record.recorded_at,
        record.trigger,
        record.trigger_label,
        record.from_state or "",
        record.from_state_label or "",
        record.to_state,
        record.to_state_label,
        record.actor,
        record.on_behalf_of or "",
        record.role or "",
        record.rationale or "",
        "\n".join(f"{f.id}: {f.text}" for f in record.fields),
        " ".join(record.omitted_fields),
        "\n".join(c.summary for c in record.clocks),
        record.entry_hash,
    ]


class CsvWriter:
    """Rows go through `csv.writer` into a text buffer, which is encoded, hashed and
    written out every `FLUSH_ROWS` rows (one encode and one write per batch, not per row)."""

    FLUSH_ROWS = 500

    def __init__(self, stream: BinaryIO) -> None:
        self._sink = HashingSink(stream)
        self._buffer = io.StringIO()
        self._csv = csv.writer(self._buffer, lineterminator="\r\n")
        self._pending = 0

    def _row(self, cells: list[str]) -> None:
        formula = FORMULA_START
        self._csv.writerow([("'" + c) if c[:1] in formula else c for c in cells])
        self._pending += 1
        if self._pending >= self.FLUSH_ROWS:
            self._flush()

    def _flush(self, *, hashed: bool = True) -> None:
        text = self._buffer.getvalue()
        if text:
            self._sink.write(text.encode("utf-8"), hashed=hashed)
        self._buffer.seek(0)
        self._buffer.truncate()
        self._pending = 0

    def begin(self, meta: ExportMeta) -> None:
        self._sink.write(BOM)
        self._row(list(COLUMNS))
        for key, value in meta.to_pairs():
            self._row(["meta", key, value])

    def write(self, record: DecisionRecord) -> None:
        self._row(event_cells(record))

    def finish(self) -> str:
        self._flush()
        digest = self._sink.hexdigest()
        self._row(["digest", "sha256", digest])
        self._flush(hashed=False)
        return format_digest(digest)


def read_csv(data: bytes) -> ParsedExport:
    """Parse a CSV decision log (ExportFormatError if it is not one)."""
    if not data.startswith(BOM):
        raise ExportFormatError("the file does not start with the UTF-8 byte-order mark")
    found = _DIGEST_ROW.search(data)
    if found is None or not data[: found.start()].endswith(b"\r\n"):
        raise ExportFormatError("the last row is not 'digest,sha256,<64 hex digits>'")
    content = data[: found.start()]
    try:
        text = content[len(BOM) :].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ExportFormatError(f"the file is not valid UTF-8 (byte {exc.start})") from None
    csv.field_size_limit(max(csv.field_size_limit(), _FIELD_SIZE_LIMIT))
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise ExportFormatError(f"the file is not well-formed CSV ({exc})") from None
    if not rows or tuple(rows[0]) != COLUMNS:
        raise ExportFormatError("the first row is not the decision log's header row")
    pairs: list[tuple[str, str]] = []
    events: list[list[str]] = []
    problems: list[str] = []
    for number, row in enumerate(rows[1:], start=2):
        kind = row[0] if row else ""
        if kind == "meta" and len(row) == 3:
            pairs.append((row[1], row[2]))
        elif kind == "event" and len(row) == len(COLUMNS):
            events.append(row)
        else:
            problems.append(f"row {number} is neither a meta row nor an event row")
    try:
        meta = ExportMeta.from_pairs(pairs)
    except ValueError as exc:
        raise ExportFormatError(str(exc)) from None
    parsed = ParsedExport(
        format="csv",
        meta=meta,
        claimed_digest=format_digest(found.group(1).decode("ascii")),
        actual_digest=format_digest(hashlib.sha256(content).hexdigest()),
        problems=problems,
    )
    for row in events:
        try:
            seq = int(row[1])
        except ValueError:
            parsed.problems.append(f"an event row has seq {row[1]!r}, not a number")
            continue
        parsed.add_unit(seq, dict(zip(COLUMNS[1:], row[1:], strict=True)), row[-1], row[2])
    return parsed
