"""The three decision-log formats: written, parsed back with their real parsers, and
refused when a single byte changes."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re

import pytest

from casereview.formats import registry
from casereview.formats.decision_log.as_csv import COLUMNS, CsvWriter, read_csv, safe_cell
from casereview.formats.decision_log.as_json import JsonWriter, read_json, render
from casereview.formats.decision_log.as_markdown import MarkdownWriter, md_text, read_markdown
from casereview.formats.decision_log.document import ExportFormatError, ParsedExport
from casereview.formats.decision_log.integrity import check_file, compare, read_export
from casereview.formats.decision_log.records import (
    ClockMoment,
    DecisionRecord,
    ExportMeta,
    FieldValue,
    WorkflowRef,
)

NASTY = 'Zoë – café, "quoted", and\nsecond line\r\nthird'
WRITERS = {"csv": CsvWriter, "json": JsonWriter, "md": MarkdownWriter}


def record(seq: int = 1, ref: str = "2026-001", **overrides: object) -> DecisionRecord:
    base = DecisionRecord(
        seq=seq,
        case_ref=ref,
        pseudonym="Child A",
        occurred_on="2026-01-05",
        recorded_at="2026-01-05T10:00:00.000000Z",
        trigger="propose_decision",
        trigger_label="Propose the rapid review decision",
        from_state="rapid_review",
        from_state_label="Rapid review",
        to_state="rapid_review_signoff",
        to_state_label="Rapid review sign-off",
        actor="bu",
        on_behalf_of="chair",
        role="chair",
        rationale="Criteria met.",
        fields=(FieldValue("recommendation", "Rapid review recommendation", "lcspr"),),
        omitted_fields=(),
        clocks=(
            ClockMoment(
                "rapid_review",
                "Rapid review to the Panel",
                "unchanged",
                "due_soon",
                "working day 13 of 15",
                "2026-01-26",
            ),
        ),
        workflow=WorkflowRef("england-lcspr", 1, "cd" * 32),
        entry_hash=hashlib.sha256(f"{ref}/{seq}".encode()).hexdigest(),
    )
    return base._replace(**overrides)


def meta(fmt: str, records: list[DecisionRecord]) -> ExportMeta:
    return ExportMeta(
        format=fmt,
        generator="casereview 0.1.0",
        created_at="2026-11-23T12:00:00.000000Z",
        chain_head_seq=max((r.seq for r in records), default=0),
        chain_head_hash="ab" * 32,
        case=None,
        date_from=None,
        date_to=None,
        include_personal=False,
        personal_fields=("child_name",),
        event_count=len(records),
        case_count=len({r.case_ref for r in records}),
        workflows=(WorkflowRef("england-lcspr", 1, "cd" * 32),),
    )


def export(fmt: str, records: list[DecisionRecord]) -> tuple[bytes, str]:
    buffer = io.BytesIO()
    writer = WRITERS[fmt](buffer)
    writer.begin(meta(fmt, records))
    for r in records:
        writer.write(r)
    digest = writer.finish()
    return buffer.getvalue(), digest


def sample() -> list[DecisionRecord]:
    return [
        record(1),
        record(2, rationale=NASTY, pseudonym="Zoë – café"),
        record(3, ref="2026-002", on_behalf_of=None, fields=(), clocks=()),
    ]


def verifies(data: bytes) -> bool:
    try:
        parsed = read_export(data)
    except ExportFormatError:
        return False
    return not check_file(parsed)


# -- CSV ---------------------------------------------------------------------------------


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_parses_with_the_csv_module_header_meta_events_digest():
    data, digest = export("csv", sample())
    assert data.startswith("\ufeff".encode())
    rows = csv_rows(data)
    assert tuple(rows[0]) == COLUMNS
    kinds = [r[0] for r in rows[1:]]
    assert kinds == ["meta"] * kinds.count("meta") + ["event"] * 3 + ["digest"]
    assert rows[-1] == ["digest", "sha256", digest.removeprefix("sha256:")]
    meta_rows = {r[1]: r[2] for r in rows if r[0] == "meta"}
    assert meta_rows["include_personal"] == "false"
    assert meta_rows["event_count"] == "3"
    events = [dict(zip(COLUMNS, r, strict=True)) for r in rows if r[0] == "event"]
    assert [e["seq"] for e in events] == ["1", "2", "3"]
    assert events[0]["clocks"] == (
        "Rapid review to the Panel: working day 13 of 15, due 2026-01-26 (due soon)"
    )
    assert events[0]["fields"] == "recommendation: lcspr"


def test_csv_digest_is_sha256_of_every_byte_before_the_digest_row():
    data, digest = export("csv", sample())
    body = data[: data.rindex(b"digest,sha256,")]
    assert digest == "sha256:" + hashlib.sha256(body).hexdigest()


def test_csv_keeps_non_ascii_commas_quotes_and_newlines():
    data, _ = export("csv", sample())
    event = [r for r in csv_rows(data) if r[0] == "event"][1]
    cells = dict(zip(COLUMNS, event, strict=True))
    assert cells["rationale"] == NASTY
    assert cells["pseudonym"] == "Zoë – café"


def test_csv_rationale_line_breaks_survive_exactly():
    data, _ = export("csv", [record(1, rationale="a\r\nb\nc")])
    event = next(r for r in csv_rows(data) if r[0] == "event")
    assert dict(zip(COLUMNS, event, strict=True))["rationale"] == "a\r\nb\nc"


@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r", "＝"])
def test_csv_cells_that_could_run_as_formulas_are_neutralised(lead: str):
    hostile = lead + 'HYPERLINK("http://evil.example","x")'
    data, _ = export("csv", [record(1, rationale=hostile, pseudonym=lead + "cmd|' /C calc'!A0")])
    event = next(r for r in csv_rows(data) if r[0] == "event")
    cells = dict(zip(COLUMNS, event, strict=True))
    assert cells["rationale"] == "'" + hostile
    assert cells["pseudonym"] == "'" + lead + "cmd|' /C calc'!A0"
    for row in csv_rows(data):
        for cell in row:
            assert cell[:1] not in {"=", "+", "-", "@", "\t", "\r"}, cell


def test_csv_neutralising_leaves_ordinary_text_alone():
    assert safe_cell("Panel agreed = yes") == "Panel agreed = yes"
    assert safe_cell("") == ""
    assert safe_cell("2026-01-05") == "2026-01-05"
    assert safe_cell("-1") == "'-1"


def test_csv_reader_gives_back_units_and_meta():
    records = sample()
    data, digest = export("csv", records)
    parsed = read_csv(data)
    assert parsed.digest_ok and parsed.claimed_digest == digest
    assert parsed.meta == meta("csv", records)
    assert sorted(parsed.units) == [1, 2, 3]
    assert parsed.entry_hashes[3] == records[2].entry_hash
    assert parsed.cases[3] == "2026-002"


# -- JSON --------------------------------------------------------------------------------


def test_json_parses_and_has_meta_events_digest():
    records = sample()
    data, digest = export("json", records)
    doc = json.loads(data)
    assert list(doc) == ["meta", "events", "digest"]
    assert doc["digest"] == digest
    assert doc["meta"]["include_personal"] is False
    assert doc["meta"]["chain_head"] == {"seq": 3, "entry_hash": "ab" * 32}
    assert [e["seq"] for e in doc["events"]] == [1, 2, 3]
    assert doc["events"][1]["rationale"] == NASTY
    assert doc["events"][1]["pseudonym"] == "Zoë – café"
    assert doc["events"][0]["fields"] == {"recommendation": "lcspr"}
    assert doc["events"][0]["clocks"][0]["position"] == "working day 13 of 15"
    assert "Zoë" in data.decode("utf-8")  # non-ASCII written as itself


def test_json_digest_follows_the_documented_canonicalisation():
    data, digest = export("json", sample())
    doc = json.loads(data)
    content = {"meta": doc["meta"], "events": doc["events"]}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert digest == "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_json_file_is_exactly_its_documented_layout():
    data, digest = export("json", sample())
    doc = json.loads(data)
    assert render(doc["meta"], doc["events"], digest) == data
    empty, empty_digest = export("json", [])
    assert json.loads(empty)["events"] == []
    assert render(json.loads(empty)["meta"], [], empty_digest) == empty


def test_json_whitespace_change_is_caught_by_the_layout_check():
    data, _ = export("json", sample())
    changed = data.replace(b'"events": [', b'"events":  [', 1)
    parsed = read_json(changed)
    assert parsed.digest_ok  # the canonical digest cannot see whitespace...
    assert any("layout" in p for p in parsed.problems)  # ...the layout check does
    assert check_file(parsed)


def test_json_duplicate_keys_are_refused():
    data, _ = export("json", sample())
    doubled = data.replace(b'{"actor":"bu",', b'{"actor":"bu","actor":"bu",', 1)
    with pytest.raises(ExportFormatError, match="twice"):
        read_json(doubled)


# -- Markdown ----------------------------------------------------------------------------


def test_markdown_structure_front_block_case_and_event_headings_digest_line():
    records = sample()
    data, digest = export("md", records)
    text = data.decode("utf-8")
    lines = text.splitlines()
    assert lines[0].startswith("<!-- casereview-export {")
    assert lines[1] == "# Decision log"
    assert "| Personal data | left out (child_name) |" in lines
    assert re.findall(r"^## (\S+) · ", text, re.MULTILINE) == ["2026-001", "2026-002"]
    assert re.findall(r"^### Event (\d+) · ", text, re.MULTILINE) == ["1", "2", "3"]
    assert lines[-1].startswith(f"**Digest:** `{digest}`")
    assert lines[-3] == "---"
    body = data[: data.rindex(b"**Digest:**")]
    assert digest == "sha256:" + hashlib.sha256(body).hexdigest()
    assert "- **Decided by:** chair (chair)" in lines
    assert "- **Recorded by:** bu at 2026-01-05T10:00:00.000000Z" in lines


def test_markdown_user_text_cannot_become_markup():
    hostile = "# Heading\n- item\n| a | b |\n<script>alert(1)</script>\n1. first\n[x](http://e)"
    data, _ = export("md", [record(1, rationale=hostile, pseudonym="*Bold*")])
    text = data.decode("utf-8")
    assert "<script>" not in text
    assert "\\<script\\>" in text
    assert "## 2026-001 · \\*Bold\\*" in text
    rationale = next(line for line in text.splitlines() if line.startswith("- **Rationale:**"))
    assert rationale == "- **Rationale:** \\# Heading\\"
    assert "  \\- item\\" in text
    assert "  1\\. first\\" in text
    assert "\\[x\\](http://e)" in text
    assert "\\| a \\| b \\|" in text


def test_md_text_drops_blank_lines_and_control_characters():
    assert md_text("a\n\n\nb") == "a\\\n  b"
    assert md_text("a\x07b") == "a\ufffdb"


def test_markdown_reader_finds_every_event_block_and_its_entry_hash():
    records = sample()
    data, _ = export("md", records)
    parsed = read_markdown(data)
    assert parsed.digest_ok
    assert parsed.meta == meta("md", records)
    assert sorted(parsed.units) == [1, 2, 3]
    assert parsed.entry_hashes == {r.seq: r.entry_hash for r in records}
    assert parsed.cases == {1: "2026-001", 2: "2026-001", 3: "2026-002"}
    assert not check_file(parsed)


# -- every format: detection, intact files, one changed byte -------------------------------


def detected(data: bytes) -> str | None:
    fmt = registry.detect(data)
    return fmt.name if fmt is not None else None


@pytest.mark.parametrize("fmt", ["csv", "json", "md"])
def test_untouched_export_verifies(fmt: str):
    data, _ = export(fmt, sample())
    assert detected(data) == fmt
    assert verifies(data)


@pytest.mark.parametrize("fmt", ["csv", "json", "md"])
def test_empty_export_verifies(fmt: str):
    data, _ = export(fmt, [])
    assert verifies(data)


@pytest.mark.parametrize("fmt", ["csv", "json", "md"])
def test_every_single_byte_change_is_detected(fmt: str):
    data, _ = export(fmt, sample())
    for i in range(len(data)):
        changed = bytearray(data)
        changed[i] ^= 0x01
        assert not verifies(bytes(changed)), f"{fmt}: flipping byte {i} went unnoticed"


@pytest.mark.parametrize("fmt", ["csv", "json", "md"])
def test_removed_or_inserted_bytes_are_detected(fmt: str):
    data, _ = export(fmt, sample())
    for i in range(0, len(data), 7):
        assert not verifies(data[:i] + data[i + 1 :]), f"{fmt}: deleting byte {i}"
        assert not verifies(data[:i] + b"x" + data[i:]), f"{fmt}: inserting at {i}"
    assert not verifies(data + b"\n")


def test_unrecognised_file_is_not_an_export():
    assert detected(b"hello") is None
    with pytest.raises(ExportFormatError, match="not a casereview"):
        read_export(b"hello")


def test_meta_that_miscounts_its_rows_is_a_finding_even_with_a_fresh_digest():
    records = sample()
    buffer = io.BytesIO()
    writer = CsvWriter(buffer)
    writer.begin(meta("csv", records))  # says 3 events
    for r in records[:2]:
        writer.write(r)
    writer.finish()
    findings = check_file(read_csv(buffer.getvalue()))
    assert [f.check for f in findings] == ["structure", "structure"]
    assert "counts 3 events but the file has 2" in str(findings[0])


# -- comparing a file with what the log gives -----------------------------------------------


def parsed(fmt: str, records: list[DecisionRecord], *, meta_from: list[DecisionRecord]):
    buffer = io.BytesIO()
    writer = WRITERS[fmt](buffer)
    writer.begin(meta(fmt, meta_from))
    for r in records:
        writer.write(r)
    writer.finish()
    return read_export(buffer.getvalue())


@pytest.mark.parametrize("fmt", ["csv", "json", "md"])
def test_compare_names_changed_missing_and_extra_rows(fmt: str):
    log = sample()
    expected: ParsedExport = parsed(fmt, log, meta_from=log)
    edited = [log[0]._replace(rationale="Something else."), log[1], record(9)]
    file = parsed(fmt, edited, meta_from=log)
    findings = {(f.seq, f.check): f.message for f in compare(file, expected)}
    assert ("rationale" if fmt != "md" else "text") in findings[(1, "row")]
    assert "missing from the file" in findings[(3, "row")]
    assert "no such event" in findings[(9, "row")]
    assert (2, "row") not in findings
    assert not compare(expected, expected)
