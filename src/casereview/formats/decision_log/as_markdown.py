"""The decision log as Markdown: an appendix for a committee paper.

A hidden first line with the metadata as JSON, a title and a table describing the export,
a `##` heading per case and a `###` heading per event, and a last line giving the digest
(the sha256 of every byte above it). Typed text is escaped so it can never become
Markdown structure or HTML. Cases are grouped, so the writer holds the records until the
end: suited to a committee paper, not to a whole large log. The layout in full:
docs/exports.md ("Markdown (committee papers)").
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Mapping
from typing import BinaryIO

from casereview.domain.text import HIDDEN
from casereview.formats.decision_log.document import (
    ExportFormatError,
    HashingSink,
    ParsedExport,
    format_digest,
)
from casereview.formats.decision_log.records import DecisionRecord, ExportMeta

META_PREFIX = "<!-- casereview-export "
META_SUFFIX = " -->"
_SPECIAL = set("\\`*_[]<>#|~&$^@")
_LINE_START = re.compile(r"^([-+=]|\d+[.)])")
_CONTROL = re.compile(f"[{HIDDEN}]")  # shown as U+FFFD (tab and line breaks: see _lines)
_DIGEST_LINE = re.compile(
    rb"\*\*Digest:\*\* `sha256:([0-9a-f]{64})` is the SHA-256 of every byte above this "
    rb"line; check it with `casereview log verify-export FILE`\.\n\Z"
)
_EVENT_HEADING = re.compile(r"^### Event (\d+) · ")
_CASE_HEADING = re.compile(r"^## (\S+) · ")
_ENTRY_HASH = re.compile(r"^- \*\*Entry hash:\*\* `([0-9a-f]{64})`$", re.MULTILINE)


# Every special character gets a backslash; one C-level pass instead of a Python loop
# over the characters (this runs on every label, name and clock line of every event).
_ESCAPES = str.maketrans({ch: "\\" + ch for ch in _SPECIAL})


def _escape_line(line: str) -> str:
    escaped = line.translate(_ESCAPES)
    match = _LINE_START.match(escaped)
    if match:
        lead = match.group(1)
        escaped = (lead[:-1] + "\\" + lead[-1]) + escaped[len(lead) :]
    return escaped


def _lines(text: str) -> list[str]:
    cleaned = _CONTROL.sub("\ufffd", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = (line.strip() for line in cleaned.replace("\t", " ").split("\n"))
    return [_escape_line(line) for line in lines if line]


def md_text(text: str, indent: str = "  ") -> str:
    """User text for a list item: escaped, one hard line break per line of text."""
    return ("\\\n" + indent).join(_lines(text))


def md_inline(text: str) -> str:
    """User text for a heading or a table cell: escaped, on one line."""
    return " ".join(_lines(text))


def _meta_comment(meta: ExportMeta) -> str:
    body = json.dumps(meta.to_json(), sort_keys=True, ensure_ascii=False)
    # `<` and `>` occur in JSON only inside strings, so escaping them keeps it valid
    # JSON and guarantees the comment cannot be closed early.
    body = body.replace("<", "\\u003c").replace(">", "\\u003e")
    return META_PREFIX + body + META_SUFFIX + "\n"


def _front(meta: ExportMeta) -> str:
    cases = f"case {md_inline(meta.case)}" if meta.case else "all cases"
    if meta.date_from and meta.date_to:
        dates = f"from {meta.date_from} to {meta.date_to}"
    elif meta.date_from:
        dates = f"from {meta.date_from}"
    elif meta.date_to:
        dates = f"up to {meta.date_to}"
    else:
        dates = "all dates"
    named = ", ".join(meta.personal_fields) or "none defined"
    personal = f"**included** (fields: {named})" if meta.include_personal else f"left out ({named})"
    workflows = "; ".join(
        f"{w.id} v{w.version} (sha256 `{w.content_hash}`)" for w in meta.workflows
    )
    rows = [
        *([("Partnership", md_inline(meta.partnership))] if meta.partnership else []),
        ("Produced by", f"{md_inline(meta.generator)} at {meta.created_at}"),
        ("Cases", cases),
        ("Event dates", dates),
        *([("Recorded by or for", md_inline(meta.actor))] if meta.actor is not None else []),
        *([("Steps", md_inline(meta.trigger))] if meta.trigger is not None else []),
        *([("Review type", md_inline(meta.workflow))] if meta.workflow is not None else []),
        ("Events", f"{meta.event_count} events in {meta.case_count} cases"),
        ("Personal data", personal),
        ("Log position", f"event {meta.chain_head_seq}, entry hash `{meta.chain_head_hash}`"),
        ("Workflows", workflows or "none"),
    ]
    table = "\n".join(f"| {k} | {v} |" for k, v in rows)
    return (
        "# Decision log\n\n"
        "| Item | Value |\n|---|---|\n" + table + "\n\n"
        "Dates are the business dates recorded for each event; each clock is shown as it "
        "stood on that date. Pseudonyms only. Check this document with "
        "`casereview log verify-export FILE`.\n\n"
    )


# Labels, states, account names and roles: a few hundred texts between them, escaped
# once each rather than once per event.
_md_name = functools.lru_cache(maxsize=4096)(md_inline)


def _person(login: str | None, names: Mapping[str, str]) -> str:
    """`Jo Bloggs (jo)`: the name the export's metadata gives a login, with the login
    (as recorded) in brackets; the login alone when it has no other name."""
    if not login:
        return ""
    name = names.get(login)
    if not name or name == login:
        return _md_name(login)
    return f"{_md_name(name)} ({_md_name(login)})"


_NO_NAMES: Mapping[str, str] = {}


def event_block(record: DecisionRecord, names: Mapping[str, str] = _NO_NAMES) -> str:
    """One event's heading and list; `names` gives people's names by login."""
    name = _md_name
    lines = [
        f"### Event {record.seq} · {record.occurred_on} · {name(record.trigger_label)}",
        "",
        f"- **State:** {name(record.from_state_label or '(new case)')} → "
        f"{name(record.to_state_label)}",
        f"- **Decided by:** {_person(record.on_behalf_of or record.actor, names)}"
        # With names, "Jo Bloggs (jo) as chair" reads better than a second bracket; a
        # file made before names were shown keeps its "jo (chair)".
        + (
            (f" as {name(record.role)}" if names else f" ({name(record.role)})")
            if record.role
            else ""
        ),
        f"- **Recorded by:** {_person(record.actor, names)} at {record.recorded_at}",
    ]
    if record.rationale and record.rationale.strip():
        lines.append(f"- **Rationale:** {md_text(record.rationale)}")
    if record.fields:
        lines.append("- **Fields:**")
        lines.extend(f"  - {name(f.label)}: {md_text(f.text, '    ')}" for f in record.fields)
    if record.omitted_fields:
        lines.append(f"- **Personal fields left out:** {', '.join(record.omitted_fields)}")
    if record.amends:
        lines.append("- **Puts right:**")
        lines.extend(f"  - {md_text(a.text, '    ')}" for a in record.amends)
    if record.clocks:
        lines.append("- **Clocks:**")
        lines.extend(f"  - {md_inline(c.summary)}" for c in record.clocks)
    lines.append(f"- **Entry hash:** `{record.entry_hash}`")
    return "\n".join(lines) + "\n\n"


def _case_heading(first: DecisionRecord, count: int) -> str:
    pseudonym = md_inline(first.pseudonym) or "(no pseudonym)"
    return (
        f"## {md_inline(first.case_ref)} · {pseudonym}\n\n"
        f"Workflow {first.workflow.describe()}; {count} event{'s' if count != 1 else ''}.\n\n"
    )


class MarkdownWriter:
    """Cases are grouped, so the writer holds every selected event until `finish`: as
    the bytes of its rendered block (a third of the memory of the record it came from),
    with the first record of each case for its heading."""

    def __init__(self, stream: BinaryIO) -> None:
        self._sink = HashingSink(stream)
        self._by_case: dict[str, tuple[DecisionRecord, list[bytes]]] = {}
        self._names: Mapping[str, str] = _NO_NAMES

    def begin(self, meta: ExportMeta) -> None:
        self._names = meta.names()
        self._sink.write((_meta_comment(meta) + _front(meta)).encode("utf-8"))

    def write(self, record: DecisionRecord) -> None:
        held = self._by_case.get(record.case_ref)
        if held is None:
            held = self._by_case[record.case_ref] = (record, [])
        held[1].append(event_block(record, self._names).encode("utf-8"))

    def finish(self) -> str:
        if not self._by_case:
            self._sink.write(b"No events match this export's filter.\n\n")
        for ref in sorted(self._by_case):
            first, blocks = self._by_case[ref]
            self._sink.write(_case_heading(first, len(blocks)).encode("utf-8"))
            self._sink.write(b"".join(blocks))
        self._sink.write(b"---\n\n")
        digest = self._sink.hexdigest()
        line = (
            f"**Digest:** `sha256:{digest}` is the SHA-256 of every byte above this line; "
            "check it with `casereview log verify-export FILE`.\n"
        )
        self._sink.write(line.encode("utf-8"), hashed=False)
        return format_digest(digest)


def read_markdown(data: bytes) -> ParsedExport:
    """Parse a Markdown decision log (ExportFormatError if it is not one)."""
    found = _DIGEST_LINE.search(data)
    if found is None:
        raise ExportFormatError("the last line is not the decision log's digest line")
    content = data[: found.start()]
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ExportFormatError(f"the file is not valid UTF-8 (byte {exc.start})") from None
    first, _, rest = text.partition("\n")
    if not (first.startswith(META_PREFIX) and first.endswith(META_SUFFIX)):
        raise ExportFormatError("the first line is not the decision log's metadata comment")
    try:
        meta = ExportMeta.from_json(json.loads(first[len(META_PREFIX) : -len(META_SUFFIX)]))
    except ValueError as exc:
        raise ExportFormatError(f"the metadata comment cannot be read ({exc})") from None
    if not rest.endswith("\n---\n\n"):
        raise ExportFormatError("the closing rule before the digest line is missing")
    parsed = ParsedExport(
        format="md",
        meta=meta,
        claimed_digest=format_digest(found.group(1).decode("ascii")),
        actual_digest=format_digest(hashlib.sha256(content).hexdigest()),
    )
    case_ref = ""
    block: list[str] = []
    seq: int | None = None
    # Every visible line outside an event block belongs to one frame part: the front
    # (title, metadata table, preamble), a case's heading and event count, the end.
    part, part_lines = FRONT, list[str]()

    def close() -> None:
        if seq is None:
            return
        body = "\n".join(block)
        hashes = _ENTRY_HASH.findall(body)
        if len(hashes) != 1:
            parsed.problems.append(f"event {seq} does not give exactly one entry hash")
        parsed.add_unit(seq, body, hashes[0] if hashes else "", case_ref)

    def close_part(following: str) -> None:
        nonlocal part, part_lines
        parsed.frame.append((part, "\n".join(part_lines)))
        part, part_lines = following, []

    for line in rest.split("\n"):
        event = _EVENT_HEADING.match(line)
        if event or line.startswith(("## ", "---")):
            close()
            seq, block = None, []
        if event:
            seq = int(event.group(1))
        case = _CASE_HEADING.match(line)
        if case:
            case_ref = re.sub(r"\\(.)", r"\1", case.group(1))
        if line.startswith("## "):
            close_part(f"the heading of case {case_ref}" if case else "a case heading")
        elif line.startswith("---") and seq is None:
            close_part(END)
        if seq is not None:
            block.append(line)
        else:
            part_lines.append(line)
    close()
    close_part("")
    return parsed


FRONT = "the title, metadata table and preamble"
END = "the closing rule"
