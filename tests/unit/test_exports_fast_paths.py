"""The export's short cuts agree with the plain computations they stand in for.

The CSV writer joins plain cells without `csv.writer`, the JSON writer writes event
objects without building dictionaries for the encoder, and the builder skips
`clocks.step` for events that leave the clocks alone and reads positions from dials. Each
is checked here against the straightforward way, on ordinary and hostile values.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import json
from collections.abc import Iterator

from casereview.domain import clocks
from casereview.domain.chain import canonical_json
from casereview.formats.decision_log.as_csv import BOM, COLUMNS, CsvWriter, safe_cell
from casereview.formats.decision_log.as_json import JsonWriter, event_line, read_json
from casereview.formats.decision_log.records import (
    Amend,
    ClockMoment,
    DecisionLogBuilder,
    DecisionRecord,
    EventRow,
    ExportMeta,
    FieldValue,
    WorkflowRef,
    clock_moments,
)
from casereview.infra.bank_holidays import default_calendar
from casereview.infra.workflows.registry import Registry

DEFINITION = Registry.from_environment().get("england-lcspr", 1)
REF = WorkflowRef(DEFINITION.id, DEFINITION.version, DEFINITION.content_hash)
CAL = default_calendar()
RULES = clocks.rules_for(DEFINITION)

HOSTILE = [
    "",
    "plain",
    "a,b",
    'say "hi"',
    "line\nbreak",
    "carriage\rreturn",
    "=1+2",
    "+x",
    "-x",
    "@x",
    "\tx",
    "\uff1dx",
    "x,=y",
    "Zoë – café · ✓",
    "\\back\\slash\x07",
]


def row(seq: int, trigger: str, frm: str | None, to: str, on: str, **fields: object) -> EventRow:
    return EventRow(
        seq=seq,
        case_ref="2025-001",
        trigger=trigger,
        from_state=frm,
        to_state=to,
        occurred_on=on,
        recorded_at="2025-07-01T09:00:00.000000Z",
        actor="bu",
        on_behalf_of=None,
        role="business_unit",
        rationale=None,
        fields=canonical_json(fields),
        workflow_id=REF.id,
        workflow_version=REF.version,
        definition_hash=REF.content_hash,
        entry_hash=f"{seq:064x}",
    )


def long_story() -> list[EventRow]:
    """A case whose clocks start, run over weekends and the August bank holiday, stop,
    restart, and pause and resume, with notes in between (which leave them alone)."""
    return [
        row(1, "open", None, "screening", "2025-06-02", aware_on="2025-06-02", pseudonym="A"),
        row(2, "add_note", "screening", "screening", "2025-06-04", note="n"),
        row(3, "notify", "screening", "rapid_review", "2025-06-05", notified_on="2025-06-05"),
        row(4, "add_note", "rapid_review", "rapid_review", "2025-06-05", note="same day"),
        row(5, "add_note", "rapid_review", "rapid_review", "2025-06-09", note="monday"),
        row(6, "submit_rapid_review", "rapid_review", "awaiting_panel", "2025-06-20"),
        row(7, "add_note", "awaiting_panel", "awaiting_panel", "2025-06-27", note="n"),
        row(8, "answer_panel", "awaiting_panel", "awaiting_panel", "2025-07-01"),
        row(9, "record_panel_query", "awaiting_panel", "panel_query", "2025-07-03"),
        row(10, "answer_panel", "panel_query", "awaiting_panel", "2025-07-08"),
        row(11, "add_note", "awaiting_panel", "awaiting_panel", "2025-08-26", note="n"),
        row(12, "commission_lcspr", "awaiting_panel", "lcspr_commissioning", "2025-09-01"),
        row(13, "add_note", "lcspr_commissioning", "lcspr_commissioning", "2025-12-29", note="n"),
        row(
            14,
            "hold_publication",
            "lcspr_commissioning",
            "publication_hold",
            "2026-01-05",
            review_by="2026-01-30",
        ),
        row(15, "add_note", "publication_hold", "publication_hold", "2026-01-12", note="n"),
        row(16, "lift_hold", "publication_hold", "lcspr_in_progress", "2026-02-02"),
        row(17, "add_note", "lcspr_in_progress", "lcspr_in_progress", "2026-02-20", note="n"),
    ]


def test_builder_records_agree_with_the_clock_history_event_by_event():
    rows = long_story()
    builder = DecisionLogBuilder(lambda _ref: DEFINITION, CAL)
    records = [builder.feed(r) for r in rows]
    facts = []
    known: dict[str, object] = {}
    for r in rows:
        changes = json.loads(r.fields)
        known.update({k: v for k, v in changes.items() if k != "pseudonym"})
        facts.append(
            clocks.EventFacts(
                trigger=r.trigger,
                occurred_on=dt.date.fromisoformat(r.occurred_on),
                to_state=r.to_state,
                fields_after=dict(known),
                changed=frozenset(k for k in changes if k != "pseudonym"),
                seq=r.seq,
            )
        )
    history = clocks.history(RULES, facts, CAL)
    changes_seen = set()
    for record, moment in zip(records, history, strict=True):
        assert record is not None
        expected = clock_moments(RULES, moment.facts, moment.before, moment.after, CAL)
        assert record.clocks == expected, f"event {record.seq}"
        changes_seen.update(c.change for c in record.clocks)
    assert {"started", "stopped", "restarted", "unchanged", "paused", "resumed"} <= changes_seen


def test_events_said_to_leave_the_clocks_alone_do_so():
    """`leaves_clocks_alone` against `clocks.step` for every event of the story, from
    the clocks as the builder carries them."""
    builder = DecisionLogBuilder(lambda _ref: DEFINITION, CAL)
    wf = builder.workflow(REF)
    live: dict[str, clocks.ClockState] = {}
    fields: dict[str, object] = {}
    verdicts = []
    for r in long_story():
        changes = json.loads(r.fields)
        fields.update({k: v for k, v in changes.items() if k != "pseudonym"})
        changed = frozenset(k for k in changes if k != "pseudonym")
        facts = clocks.EventFacts(
            r.trigger, dt.date.fromisoformat(r.occurred_on), r.to_state, fields, changed, r.seq
        )
        after = clocks.step(live, RULES, facts, CAL)
        alone = wf.leaves_clocks_alone(live, r.trigger, r.to_state, changed)
        untouched = after.keys() == live.keys() and all(after[k] is live[k] for k in live)
        if alone:
            assert untouched, f"event {r.seq}"
        verdicts.append(alone)
        live = {k: c for k, c in after.items() if c.state != "stopped"}
    assert True in verdicts and False in verdicts


def test_a_running_clock_in_a_pausing_state_is_not_left_alone():
    state = clocks.ClockState(
        rule=next(r for r in RULES if r.id == "lcspr_publication"),
        state="running",
        started_on=dt.date(2025, 9, 1),
        anchor_on=dt.date(2025, 9, 1),
        base_due_on=dt.date(2026, 3, 1),
        due_on=dt.date(2026, 3, 1),
        warn_from=dt.date(2026, 1, 1),
    )
    wf = DecisionLogBuilder(lambda _ref: DEFINITION, CAL).workflow(REF)
    live = {"lcspr_publication": state}
    assert wf.leaves_clocks_alone(live, "add_note", "lcspr_in_progress", frozenset())
    assert not wf.leaves_clocks_alone(live, "add_note", "publication_hold", frozenset())
    paused = {"lcspr_publication": dataclasses.replace(state, state="paused")}
    assert not wf.leaves_clocks_alone(paused, "add_note", "lcspr_in_progress", frozenset())
    assert not wf.leaves_clocks_alone(live, "add_note", "x", frozenset({"aware_on"}))


# -- writers --------------------------------------------------------------------------------


def base_record() -> DecisionRecord:
    builder = DecisionLogBuilder(lambda _ref: DEFINITION, CAL)
    builder.feed(long_story()[0])
    record = builder.feed(long_story()[2])
    assert record is not None and len(record.clocks) == 2 and record.fields
    return record


TEXT_COLUMNS = [
    name
    for name in DecisionRecord._fields
    if name not in {"seq", "fields", "omitted_fields", "clocks", "workflow", "amends"}
]


def variants() -> Iterator[DecisionRecord]:
    base = base_record()
    yield base
    for name in TEXT_COLUMNS:
        for text in HOSTILE:
            yield base._replace(**{name: text})
    for name in ("from_state", "from_state_label", "on_behalf_of", "role", "rationale"):
        yield base._replace(**{name: None})
    yield base._replace(seq=-5)
    yield base._replace(omitted_fields=("child_name", "a,b"))
    yield base._replace(omitted_fields=("=x",))
    values: list[object] = [True, False, 0, 12, None, ["b", "a"], {"z": 1, "a": [True]}, 1.5]
    yield base._replace(fields=tuple(FieldValue(f"f{i}", "F", v) for i, v in enumerate(values)))
    yield base._replace(fields=(FieldValue("zeta", "Z", "=1"), FieldValue("alpha", "A", "\n")))
    for text in HOSTILE:
        moment = ClockMoment("c", text, "unchanged", "due_soon", text or None, "2025-06-09")
        yield base._replace(clocks=(moment, *base.clocks))
        yield base._replace(fields=(FieldValue(text or "id", text, text),))
        # What a correction puts right: superseded and new values as typed.
        yield base._replace(
            amends=(
                Amend(3, "field", text or "f", text, None),
                Amend(4, "rationale", None, text, text),
                Amend(5, "reversed", None, text, None),
            )
        )
    yield base._replace(amends=(Amend(3, "field", "flag", True, False),))


def meta(fmt: str, count: int) -> ExportMeta:
    return ExportMeta(
        format=fmt,
        generator="casereview test",
        created_at="2026-11-23T12:00:00.000000Z",
        chain_head_seq=99,
        chain_head_hash="ab" * 32,
        case=None,
        date_from=None,
        date_to=None,
        include_personal=False,
        personal_fields=("child_name",),
        event_count=count,
        case_count=1,
        workflows=(REF,),
    )


def reference_csv(records: list[DecisionRecord]) -> bytes:
    """The CSV laid out by `csv.writer` alone, every cell neutralised."""
    text = io.StringIO()
    out = csv.writer(text, lineterminator="\r\n")
    rows = [list(COLUMNS), *(["meta", k, v] for k, v in meta("csv", len(records)).to_pairs())]
    for r in records:
        rows.append(
            [
                "event",
                str(r.seq),
                r.case_ref,
                r.pseudonym,
                r.occurred_on,
                r.recorded_at,
                r.trigger,
                r.trigger_label,
                r.from_state or "",
                r.from_state_label or "",
                r.to_state,
                r.to_state_label,
                r.actor,
                r.on_behalf_of or "",
                r.role or "",
                r.rationale or "",
                "\n".join(f"{f.id}: {f.text}" for f in r.fields),
                " ".join(r.omitted_fields),
                "\n".join(c.summary for c in r.clocks),
                r.entry_hash,
                "\n".join(a.text for a in r.amends),
            ]
        )
    for cells in rows:
        out.writerow([safe_cell(c) for c in cells])
    body = BOM + text.getvalue().encode("utf-8")
    return body + f"digest,sha256,{hashlib.sha256(body).hexdigest()}\r\n".encode()


def test_csv_rows_are_the_bytes_csv_writer_gives_whatever_the_cells_hold():
    records = list(variants())
    buffer = io.BytesIO()
    writer = CsvWriter(buffer)
    writer.begin(meta("csv", len(records)))
    for record in records:
        writer.write(record)
    writer.finish()
    produced, expected = buffer.getvalue().split(b"\r\n"), reference_csv(records).split(b"\r\n")
    for number, (line, want) in enumerate(zip(produced, expected, strict=True)):
        assert line == want, f"line {number}"


def encoded(record: DecisionRecord) -> str:
    """The record as the JSON encoder writes it (the documented canonical form)."""
    return json.dumps(
        record.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def test_json_event_line_is_the_canonical_encoding_of_the_record():
    records = list(variants())
    for number, record in enumerate(records):
        assert event_line(record) == encoded(record), f"variant {number}"
    assert len(records) > 200


def test_json_writer_batches_still_give_the_documented_layout_and_digest():
    usable = [r for r in variants() if not any(type(f.value) is float for f in r.fields)]
    records = [r._replace(seq=i) for i, r in enumerate(usable, start=1)]
    buffer = io.BytesIO()
    writer = JsonWriter(buffer)
    writer.FLUSH_EVENTS = 7  # several batches, one of them partial
    writer.begin(meta("json", len(records)))
    for record in records:
        writer.write(record)
    digest = writer.finish()
    parsed = read_json(buffer.getvalue())
    assert parsed.problems == [] and parsed.digest_ok and parsed.claimed_digest == digest
    assert [parsed.units[r.seq] for r in records] == [json.loads(encoded(r)) for r in records]
