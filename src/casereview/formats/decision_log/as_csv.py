"""The decision log as CSV, for people working in Excel or LibreOffice.

A header row, `meta` rows, one `event` row per event in `seq` order, and a last `digest`
row: the sha256 of every byte before it, the byte-order mark included. UTF-8 with a
byte-order mark, CRLF line ends, cells quoted only when they must be, and every cell
through the one formula rule of `formats.cells`. The layout in full: docs/exports.md
("CSV (spreadsheets)").
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from typing import BinaryIO

from casereview.formats.cells import FORMULA_START, safe_cell
from casereview.formats.decision_log.document import (
    ExportFormatError,
    HashingSink,
    ParsedExport,
    format_digest,
)
from casereview.formats.decision_log.records import (
    DecisionRecord,
    ExportMeta,
    FieldValue,
    display_value,
)
from casereview.formats.text import visible

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
    "amends",
)
_ENTRY_HASH_AT = COLUMNS.index("entry_hash")
_DIGEST_ROW = re.compile(rb"digest,sha256,([0-9a-f]{64})\r\n\Z")
_FIELD_SIZE_LIMIT = 2**31 - 1


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
        _fields_cell(record.fields),
        " ".join(record.omitted_fields),
        "\n".join([c.summary for c in record.clocks]),
        record.entry_hash,
        _amends_cell(record),
    ]


def _amends_cell(record: DecisionRecord) -> str:
    """One line per thing a correction or undo puts right: `event 8 aware_on: 2026-11-02
    → 2026-11-01` (the superseded value, then the new one)."""
    return "\n".join([a.text for a in record.amends])


def _fields_cell(fields: tuple[FieldValue, ...]) -> str:
    """One line per field, `id: value`; text values (most of them) as they are."""
    return "\n".join(
        [
            f"{fid}: {value if type(value) is str else display_value(value)}"
            for fid, _, value in fields
        ]
    )


# A cell starting like a formula, inside a run of cells joined by commas that starts with
# "event" (a literal first character lets the regex engine skip from comma to comma).
_FORMULA_AFTER_COMMA = re.compile(f",[{re.escape(''.join(sorted(FORMULA_START)))}]").search


def _text_cell(text: str) -> str:
    """A cell of free text as `csv.writer` (minimal quoting, quotes doubled) writes it
    after neutralising."""
    if text[:1] in FORMULA_START:
        text = "'" + text
    if '"' in text:
        return '"' + text.replace('"', '""') + '"'
    if "," in text or "\n" in text or "\r" in text:
        return '"' + text + '"'
    return text


def event_text(record: DecisionRecord) -> str:
    """An event row as the text `csv.writer` writes for it, line ending included.

    The cells other than the three of free text (rationale, fields, clocks) are checked
    together, and when none of them needs quoting or neutralising (nearly always: they
    are references, dates, ids, labels, names and hashes) they are joined as they
    stand; anything else goes through `csv.writer`. The bytes are the same either way
    (a test holds the two paths to agreement); `csv.writer` and the per-cell formula
    check were over a third of the time of a whole export.
    """
    (
        seq,
        ref,
        pseudonym,
        occurred,
        recorded,
        trigger,
        trigger_label,
        from_state,
        from_label,
        to_state,
        to_label,
        actor,
        behalf,
        role,
        rationale,
        fields,
        omitted,
        moments,
        _,
        entry_hash,
        amends,
    ) = record
    listed = " ".join(omitted)
    try:
        plain = ",".join(
            (
                "event",
                str(seq),
                ref,
                pseudonym,
                occurred,
                recorded,
                trigger,
                trigger_label,
                from_state or "",
                from_label or "",
                to_state,
                to_label,
                actor,
                behalf or "",
                role or "",
                listed,
                entry_hash,
            )
        )
    except TypeError:  # a missing value where text belongs: csv.writer decides
        plain = '"'
    # Joined as they stand only if no cell holds a comma (the count), a quote or a
    # line break (they must be quoted), or starts like a formula (neutralised).
    if (
        plain.count(",") != 16
        or '"' in plain
        or "\n" in plain
        or "\r" in plain
        or _FORMULA_AFTER_COMMA(plain) is not None
    ):
        return row_text(event_cells(record))
    # `plain` ends with the omitted fields and the entry hash, which the row has
    # after the free text.
    # Every cell as `safe_cell` leaves it: control characters shown as escapes, before
    # the quoting is decided (the cells above hold no line break, so no quoting changes).
    plain, listed, entry_hash = visible(plain), visible(listed), visible(entry_hash)
    head = plain[: len(plain) - len(listed) - len(entry_hash) - 2]
    clocks = "\n".join([m.summary for m in moments])
    tail = _text_cell(visible(_amends_cell(record))) if amends else ""
    return (
        f"{head},{_text_cell(visible(rationale or ''))},"
        f"{_text_cell(visible(_fields_cell(fields)))},"
        f"{listed},{_text_cell(visible(clocks))},{entry_hash},{tail}\r\n"
    )


def row_text(cells: list[str]) -> str:
    """One row as `csv.writer` writes it, every cell neutralised. A writer per call
    (rows that need it are few), so callers on different threads never share one."""
    lines = _Lines()
    csv.writer(lines, lineterminator="\r\n").writerow([safe_cell(c) for c in cells])
    return "".join(lines)


class _Lines(list[str]):
    """Collects the text `csv.writer` writes, as one string per row."""

    write = list.append


class CsvWriter:
    """Rows are collected as text and encoded, hashed and written out every
    `FLUSH_ROWS` rows (one encode and one write per batch, not per row). Event rows are
    laid out by `event_text`, here (`write`) or in a worker process (`write_text`)."""

    FLUSH_ROWS = 500

    def __init__(self, stream: BinaryIO) -> None:
        self._sink = HashingSink(stream)
        self._lines: list[str] = []

    def _row(self, cells: list[str]) -> None:
        self.write_text(row_text(cells))

    def _flush(self, *, hashed: bool = True) -> None:
        if self._lines:
            self._sink.write("".join(self._lines).encode("utf-8"), hashed=hashed)
            self._lines.clear()

    def begin(self, meta: ExportMeta) -> None:
        self._sink.write(BOM)
        self._row(list(COLUMNS))
        for key, value in meta.to_pairs():
            self._row(["meta", key, value])

    def write(self, record: DecisionRecord) -> None:
        self.write_text(event_text(record))

    def write_text(self, text: str) -> None:
        """An event row already laid out by `event_text` (by this process or a worker)."""
        self._lines.append(text)
        if len(self._lines) >= self.FLUSH_ROWS:
            self._flush()

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
        unit = dict(zip(COLUMNS[1:], row[1:], strict=True))
        parsed.add_unit(seq, unit, row[_ENTRY_HASH_AT], row[2])
    return parsed
