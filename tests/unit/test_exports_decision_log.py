"""The decision-log builder: records, clock positions, personal fields, date filter."""

from __future__ import annotations

import datetime as dt

import pytest

from casereview.domain.chain import canonical_json
from casereview.formats.decision_log.records import (
    DecisionLogBuilder,
    EventRow,
    ExportMeta,
    WorkflowRef,
)
from casereview.infra.bank_holidays import default_calendar
from casereview.infra.workflows.registry import Registry

DEFINITION = Registry.from_environment().get("england-lcspr", 1)
CAL = default_calendar()


def row(
    seq: int,
    trigger: str,
    frm: str | None,
    to: str,
    on: str,
    fields: dict[str, object] | None = None,
    *,
    ref: str = "2025-001",
    rationale: str | None = None,
    behalf: str | None = None,
    role: str = "business_unit",
) -> EventRow:
    return EventRow(
        seq=seq,
        case_ref=ref,
        trigger=trigger,
        from_state=frm,
        to_state=to,
        occurred_on=on,
        recorded_at="2025-07-01T09:00:00.000000Z",
        actor="bu",
        on_behalf_of=behalf,
        role=role,
        rationale=rationale,
        fields=canonical_json(fields or {}),
        workflow_id=DEFINITION.id,
        workflow_version=DEFINITION.version,
        definition_hash=DEFINITION.content_hash,
        entry_hash=f"{seq:064x}",
    )


def opening(seq: int = 1, ref: str = "2025-001", on: str = "2025-06-02") -> EventRow:
    return row(
        seq,
        "open",
        None,
        "screening",
        on,
        {"aware_on": on, "pseudonym": "Child A", "child_name": "Zoë Example", "nature": "death"},
        ref=ref,
    )


def builder(**options: object) -> DecisionLogBuilder:
    return DecisionLogBuilder(lambda _ref: DEFINITION, CAL, **options)  # type: ignore[arg-type]


def story(ref: str = "2025-001", start: int = 1) -> list[EventRow]:
    """Open Mon 2 Jun 2025, notify Thu 5 Jun, propose Fri 20 Jun."""
    return [
        opening(start, ref),
        row(
            start + 1,
            "notify",
            "screening",
            "rapid_review",
            "2025-06-05",
            {"sin_reference": "SIN-1", "notified_on": "2025-06-05"},
            ref=ref,
        ),
        row(
            start + 2,
            "propose_decision",
            "rapid_review",
            "rapid_review_signoff",
            "2025-06-20",
            {"recommendation": "lcspr"},
            ref=ref,
            rationale="Criteria met, see minutes.",
            role="chair",
        ),
    ]


def test_opening_record_names_pseudonym_labels_and_starts_the_notification_clock():
    record = builder().feed(opening())
    assert record is not None
    assert record.pseudonym == "Child A"
    assert record.trigger_label == "Case opened"
    assert record.from_state is None and record.to_state_label == "Screening"
    assert [c.clock for c in record.clocks] == ["notification"]
    clock = record.clocks[0]
    # 5 working days after Mon 2 Jun 2025 is Mon 9 Jun 2025 (domain worked example).
    assert (clock.change, clock.due_on, clock.position) == (
        "started",
        "2025-06-09",
        "working day 0 of 5",
    )
    assert clock.summary == "Serious incident notification: started, due 2025-06-09"


def test_positions_stop_and_start_clocks_at_each_event():
    b = builder()
    records = [b.feed(r) for r in story()]
    notify = records[1]
    assert notify is not None
    by_id = {c.clock: c for c in notify.clocks}
    assert by_id["notification"].change == "stopped"
    assert by_id["notification"].position == "working day 3 of 5"
    assert by_id["notification"].status == "met"
    assert by_id["rapid_review"].change == "started"
    assert by_id["rapid_review"].due_on == "2025-06-26"
    propose = records[2]
    assert propose is not None
    (rapid,) = propose.clocks
    assert (rapid.change, rapid.position, rapid.status) == (
        "unchanged",
        "working day 11 of 15",
        "due_soon",
    )
    assert (
        rapid.summary
        == "Rapid review to the Panel: working day 11 of 15, due 2025-06-26 (due soon)"
    )
    assert propose.rationale == "Criteria met, see minutes."
    assert [(f.id, f.label, f.value) for f in propose.fields] == [
        ("recommendation", "Rapid review recommendation", "lcspr")
    ]


def test_personal_fields_are_left_out_unless_asked_for():
    hidden = builder().feed(opening())
    assert hidden is not None
    assert "child_name" not in {f.id for f in hidden.fields}
    assert hidden.omitted_fields == ("child_name",)
    assert "Zoë" not in repr(hidden.to_json())
    shown = builder(include_personal=True).feed(opening())
    assert shown is not None
    assert {f.id: f.value for f in shown.fields}["child_name"] == "Zoë Example"
    assert shown.omitted_fields == ()


def test_pseudonym_is_a_column_not_a_field():
    record = builder(include_personal=True).feed(opening())
    assert record is not None
    assert "pseudonym" not in {f.id for f in record.fields}


def test_date_filter_skips_records_but_keeps_counting_the_clocks():
    b = builder(date_from=dt.date(2025, 6, 20), date_to=dt.date(2025, 6, 20))
    records = [b.feed(r) for r in story()]
    assert records[0] is None and records[1] is None
    last = records[2]
    assert last is not None
    # The rapid review clock started before the window; its position is still right.
    assert last.clocks[0].position == "working day 11 of 15"


def test_cases_interleaved_in_seq_order_keep_their_own_state():
    b = builder()
    a, c = story("2025-001", 1), story("2025-002", 10)
    mixed = [a[0], c[0], a[1], c[1], c[2], a[2]]
    out = [b.feed(r) for r in mixed]
    assert [r.case_ref for r in out if r] == [r.case_ref for r in mixed]
    assert all(r is not None and r.pseudonym == "Child A" for r in out)
    final = {r.case_ref: r for r in out if r}
    assert final["2025-001"].clocks == final["2025-002"].clocks


def test_closed_cases_are_released_from_memory():
    b = builder()
    b.feed(opening(1, "2025-001"))
    b.feed(opening(2, "2025-002"))
    assert b.open_cases() == 2
    closed = b.feed(
        row(
            3,
            "decide_not_to_notify",
            "screening",
            "closed",
            "2025-06-03",
            rationale="Criteria not met.",
            role="chair",
        )
    )
    assert closed is not None and closed.to_state_label == "Closed"
    assert closed.clocks[0].change == "stopped"
    assert b.open_cases() == 1


def test_on_behalf_of_is_kept():
    b = builder()
    b.feed(opening())
    record = b.feed(
        row(2, "add_note", "screening", "screening", "2025-06-03", {"note": "x"}, behalf="chair")
    )
    assert record is not None and record.on_behalf_of == "chair" and record.actor == "bu"


def test_definitions_are_looked_up_once_per_workflow_version():
    calls: list[WorkflowRef] = []

    def lookup(ref: WorkflowRef):
        calls.append(ref)
        return DEFINITION

    b = DecisionLogBuilder(lookup, CAL)
    for r in story("2025-001", 1) + story("2025-002", 10):
        b.feed(r)
    assert calls == [WorkflowRef(DEFINITION.id, DEFINITION.version, DEFINITION.content_hash)]


def meta(**overrides: object) -> ExportMeta:
    base: dict[str, object] = dict(
        format="csv",
        generator="casereview 0.1.0",
        created_at="2026-11-23T12:00:00.000000Z",
        chain_head_seq=7,
        chain_head_hash="ab" * 32,
        case=None,
        date_from="2026-01-01",
        date_to=None,
        include_personal=True,
        personal_fields=("child_name",),
        event_count=3,
        case_count=1,
        workflows=(WorkflowRef("england-lcspr", 1, "cd" * 32),),
    )
    base.update(overrides)
    return ExportMeta(**base)  # type: ignore[arg-type]


def test_meta_round_trips_through_json_and_csv_pairs():
    m = meta()
    assert ExportMeta.from_json(m.to_json()) == m
    assert ExportMeta.from_pairs(m.to_pairs()) == m
    assert dict(m.to_pairs())["include_personal"] == "true"


@pytest.mark.parametrize(
    "broken",
    [
        {"include_personal": "yes"},
        {"chain_head": {"seq": "7", "entry_hash": "x"}},
        {"workflows": "england-lcspr"},
    ],
)
def test_meta_from_json_refuses_malformed_values(broken: dict[str, object]):
    data = {**meta().to_json(), **broken}
    with pytest.raises(ValueError):
        ExportMeta.from_json(data)


def test_meta_from_pairs_refuses_a_key_given_twice():
    pairs = [*meta().to_pairs(), ("event_count", "4")]
    with pytest.raises(ValueError, match="twice"):
        ExportMeta.from_pairs(pairs)
