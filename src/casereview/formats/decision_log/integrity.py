"""Checking a decision-log file: is it intact, and does it say what the log says?

Two levels, both pure (the service layer supplies the regenerated export and the database
look-ups): `check_file` judges the file alone (its format, its digest, its structure), and
`compare` holds it against the same export regenerated from the database at the file's
own chain head, filter and options, row by row. What each level proves, and what a digest
without a key cannot: docs/exports.md ("What a verified export proves").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from casereview.formats import registry
from casereview.formats.decision_log.document import ExportFormatError, ParsedExport
from casereview.formats.decision_log.records import EXPORT_NAME, FORMAT_VERSION


@dataclass(frozen=True)
class Finding:
    """One thing that does not verify, with the event it concerns if any."""

    check: str  # digest | structure | database | row
    message: str
    seq: int | None = None

    def __str__(self) -> str:
        return f"event {self.seq}: {self.message}" if self.seq is not None else self.message


def read_export(data: bytes) -> ParsedExport:
    """Parse any decision-log format (ExportFormatError if the bytes are none of them)."""
    fmt = registry.detect(data)
    if fmt is None:
        raise ExportFormatError(
            "this is not a casereview decision-log export (it does not begin like a CSV, "
            "JSON or Markdown export)"
        )
    try:
        return fmt.codec().reader(data)
    except RecursionError:
        # JSON nested deeper than the parser's recursion: no export is.
        raise ExportFormatError(
            "this is not a casereview decision-log export (it nests arrays or objects too deeply)"
        ) from None


def check_file(parsed: ParsedExport) -> list[Finding]:
    """What the file alone shows to be wrong (empty when it is intact)."""
    found: list[Finding] = []
    if not parsed.digest_ok:
        found.append(
            Finding(
                "digest",
                f"the content does not match its digest: the file says {parsed.claimed_digest} "
                f"but its content hashes to {parsed.actual_digest}; it was changed after "
                "it was written",
            )
        )
    found.extend(Finding("structure", problem) for problem in parsed.problems)
    meta = parsed.meta
    if meta.export != EXPORT_NAME:
        found.append(
            Finding("structure", f"the metadata names {meta.export!r}, not a decision log")
        )
    if meta.format_version != FORMAT_VERSION:
        found.append(
            Finding(
                "structure",
                f"format version {meta.format_version} is not one this casereview reads "
                f"({FORMAT_VERSION})",
            )
        )
    if meta.format != parsed.format:
        found.append(
            Finding("structure", f"the metadata says {meta.format} but the file is {parsed.format}")
        )
    if meta.event_count != len(parsed.units):
        found.append(
            Finding(
                "structure",
                f"the metadata counts {meta.event_count} events but the file has "
                f"{len(parsed.units)}",
            )
        )
    cases = len(set(parsed.cases.values()))
    if meta.case_count != cases:
        found.append(
            Finding(
                "structure",
                f"the metadata counts {meta.case_count} cases but the file has {cases}",
            )
        )
    return found


def _differing(a: Any, b: Any) -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    return [] if a == b else ["text"]


def compare(file: ParsedExport, expected: ParsedExport) -> list[Finding]:
    """Differences between the file and the export regenerated from the database."""
    found: list[Finding] = []
    have, want = file.meta.to_json(), expected.meta.to_json()
    for key in sorted(set(have) | set(want)):
        if have.get(key) != want.get(key):
            found.append(
                Finding(
                    "database",
                    f"metadata {key} is {have.get(key)!r} in the file but {want.get(key)!r} "
                    "from the log",
                )
            )
    found.extend(_compare_frame(file.frame, expected.frame))
    for seq in sorted(file.units):
        if seq not in expected.units:
            found.append(
                Finding(
                    "row",
                    "is in the file but the log gives no such event for this export's "
                    "filter at its chain head",
                    seq,
                )
            )
            continue
        keys = _differing(file.units[seq], expected.units[seq])
        if keys:
            found.append(
                Finding("row", f"{', '.join(keys)} differ(s) from what the log records", seq)
            )
    for seq in sorted(set(expected.units) - set(file.units)):
        found.append(
            Finding(
                "row",
                f"(case {expected.cases.get(seq, '?')}) is in the log and matches this "
                "export's filter, but is missing from the file",
                seq,
            )
        )
    return found


def _compare_frame(have: list[tuple[str, str]], want: list[tuple[str, str]]) -> list[Finding]:
    """The visible text around the events (a Markdown export's title, metadata table,
    preamble, case headings and counts), part by part in file order."""
    found: list[Finding] = []
    for (part, text), (wanted, wanted_text) in zip(have, want, strict=False):
        if part != wanted or text != wanted_text:
            found.append(
                Finding(
                    "database",
                    f"the text of {part or 'the end of the file'} differs from what the "
                    f"log gives ({wanted or 'the end of the file'})"
                    if part != wanted
                    else f"the text of {part} differs from what the log gives",
                )
            )
    if len(have) != len(want):
        found.append(
            Finding(
                "database",
                f"the file has {len(have)} parts of text around its events (title, case "
                f"headings, end) where the log gives {len(want)}",
            )
        )
    return found
