"""The decision-log export formats, in one list: each format's name, file suffix, media
type and readers, how a file of it is recognised, and its writer and reader.

The command line offers these names, the export service writes with these writers,
and verification recognises a file by these first bytes and reads it with these
readers. Importing this module is cheap (the command line reads it on every start): a
format's code is imported the first time its `codec()` is asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, BinaryIO, NamedTuple

if TYPE_CHECKING:
    from casereview.formats.decision_log.document import LineWriter, ParsedExport, Writer
    from casereview.formats.decision_log.records import DecisionRecord


class Lines(NamedTuple):
    """A format whose events are independent lines of text, which worker processes can
    lay out and the writer then writes in order."""

    writer: Callable[[BinaryIO], LineWriter]
    event_text: Callable[[DecisionRecord], str]


class Codec(NamedTuple):
    """The code behind one format."""

    starts_with: bytes  # every file of the format begins with these bytes
    writer: Callable[[BinaryIO], Writer]
    reader: Callable[[bytes], ParsedExport]
    lines: Lines | None = None


class ExportFormat(NamedTuple):
    name: str  # as the person chooses it, and as the export's metadata records it
    suffix: str
    media_type: str
    audience: str  # who the format is for
    lines: bool  # its events are independent lines (`Codec.lines`)
    codec: Callable[[], Codec]


@cache
def _csv() -> Codec:
    from casereview.formats.decision_log import as_csv

    return Codec(
        as_csv.BOM, as_csv.CsvWriter, as_csv.read_csv, Lines(as_csv.CsvWriter, as_csv.event_text)
    )


@cache
def _json() -> Codec:
    from casereview.formats.decision_log import as_json

    return Codec(
        b"{", as_json.JsonWriter, as_json.read_json, Lines(as_json.JsonWriter, as_json.event_line)
    )


@cache
def _markdown() -> Codec:
    from casereview.formats.decision_log import as_markdown

    return Codec(
        as_markdown.META_PREFIX.encode("ascii"),
        as_markdown.MarkdownWriter,
        as_markdown.read_markdown,
    )


DECISION_LOG_FORMATS = (
    ExportFormat("csv", ".csv", "text/csv", "spreadsheets", True, _csv),
    ExportFormat("json", ".json", "application/json", "programs", True, _json),
    ExportFormat("md", ".md", "text/markdown", "papers", False, _markdown),
)
"""Every decision-log format, the default (csv) first."""

NAMES = tuple(f.name for f in DECISION_LOG_FORMATS)


def decision_log_format(name: str) -> ExportFormat | None:
    """The format called `name`, or None."""
    return next((f for f in DECISION_LOG_FORMATS if f.name == name), None)


def detect(data: bytes) -> ExportFormat | None:
    """The format whose first bytes `data` begins with, or None."""
    return next((f for f in DECISION_LOG_FORMATS if data.startswith(f.codec().starts_with)), None)


def event_text(name: str) -> Callable[[DecisionRecord], str]:
    """How the format called `name` lays out one event as a line (KeyError if it is not
    a format whose events are lines)."""
    fmt = decision_log_format(name)
    lines = fmt.codec().lines if fmt is not None else None
    if lines is None:
        raise KeyError(name)
    return lines.event_text
