"""Exports against real databases: golden files on the demo dataset, agreement with
replay, verification against the log, personal data, and the calendar feed.

Golden files live in tests/golden/exports/; regenerate them deliberately with
`CASEREVIEW_REGENERATE_GOLDEN=1 pytest tests/integration/test_exports.py`.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from icalendar import Calendar
from sqlalchemy import text

import casereview
from casereview.domain import clocks
from casereview.domain.replay import replay
from casereview.errors import InvalidInput, NotFound
from casereview.formats.decision_log import as_json as json_format
from casereview.formats.decision_log.as_csv import COLUMNS
from casereview.formats.decision_log.records import (
    EVENT_COLUMNS,
    DecisionLogBuilder,
    EventRow,
    WorkflowRef,
    clock_moments,
)
from casereview.infra.now import FixedClock
from casereview.services import cases, demo, exports, workflows
from casereview.services.context import ServiceContext
from casereview.store import event_log, projections
from tests.conftest import fixed_key

TODAY = dt.date(2026, 11, 23)
GOLDEN = Path(__file__).parents[1] / "golden" / "exports"
REGENERATE = os.environ.get("CASEREVIEW_REGENERATE_GOLDEN") == "1"
SUFFIX = {"csv": "csv", "json": "json", "md": "md"}


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    fixed_key("demo")  # the same hashes every run
    demo.seed(f"sqlite:///{path}", "demo", TODAY)
    return path


@pytest.fixture
def demo_copy(demo_db: Path, tmp_path: Path) -> Path:
    """A private copy of the demo database, for tests that write to it."""
    target = tmp_path / "copy.db"
    source = sqlite3.connect(demo_db)
    dest = sqlite3.connect(target)
    try:
        source.backup(dest)
    finally:
        source.close()
        dest.close()
    return target


@pytest.fixture
def contexts() -> Iterator[list[ServiceContext]]:
    made: list[ServiceContext] = []
    yield made
    for ctx in made:
        ctx.close()


@pytest.fixture
def ctx_for(contexts: list[ServiceContext]):
    def make(path: Path, day: dt.date = TODAY, account: str = "demo") -> ServiceContext:
        ctx = ServiceContext(url=f"sqlite:///{path}", account=account, clock=FixedClock(day))
        contexts.append(ctx)
        return ctx

    return make


def export_bytes(ctx: ServiceContext, **request: object) -> tuple[bytes, exports.LogExportResult]:
    buffer = io.BytesIO()
    result = exports.export_log(ctx, exports.LogExportRequest(**request), buffer)  # type: ignore[arg-type]
    return buffer.getvalue(), result


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def check_golden(name: str, data: bytes) -> None:
    path = GOLDEN / name
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    assert path.exists(), f"missing golden file {path}; run with CASEREVIEW_REGENERATE_GOLDEN=1"
    expected = path.read_bytes()
    if data != expected:
        # Compare as text first for a readable diff, then exactly (line endings, BOM).
        assert data.decode("utf-8") == expected.decode("utf-8")
        assert data == expected


# -- golden files ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "json", "md"])
def test_decision_log_golden(fmt: str, demo_db: Path, ctx_for) -> None:
    data, result = export_bytes(ctx_for(demo_db), format=fmt)
    assert result.meta.event_count == 100 and result.meta.case_count == 13
    assert result.meta.created_at == "2026-11-23T12:00:00.000000Z"
    check_golden(f"decision-log.{SUFFIX[fmt]}", data)


def test_calendar_golden(demo_db: Path, ctx_for) -> None:
    buffer = io.BytesIO()
    exports.export_calendar(ctx_for(demo_db), buffer)
    check_golden("deadlines.ics", buffer.getvalue())


# -- the builder agrees with replay -----------------------------------------------------------


def test_incremental_records_agree_with_replay_and_clock_history(demo_db: Path, ctx_for) -> None:
    ctx = ctx_for(demo_db)
    with ctx.db().reading() as conn:
        rows = [r for r in event_log.iter_events(conn) if r["kind"] == "case"]
        case_rows = projections.list_cases(conn)
    definitions: dict[WorkflowRef, object] = {}

    def lookup(ref: WorkflowRef):
        return definitions.setdefault(ref, ctx.registry.get_exact(*ref))

    builder = DecisionLogBuilder(lookup, ctx.calendar)
    records = {}
    for r in rows:
        record = builder.feed(EventRow(*(r[name] for name in EVENT_COLUMNS)))
        assert record is not None
        records[record.seq] = record
    checked = 0
    for case_row in case_rows:
        definition = ctx.registry.get_exact(
            case_row["workflow_id"], case_row["workflow_version"], case_row["workflow_hash"]
        )
        events = [r for r in rows if r["case_ref"] == case_row["ref"]]
        state = replay(definition, case_row["ref"], events)
        rules = clocks.rules_for(definition)
        for moment in clocks.history(rules, state.facts, ctx.calendar):
            record = records[moment.facts.seq]
            assert record.pseudonym == state.pseudonym
            expected = clock_moments(rules, moment.facts, moment.before, moment.after, ctx.calendar)
            assert record.clocks == expected, f"event {moment.facts.seq}"
            checked += 1
    assert checked == 100
    assert builder.open_cases() == len([c for c in case_rows if not c["closed"]])


def test_events_the_builder_skips_step_for_leave_every_demo_clock_alone(
    demo_db: Path, ctx_for
) -> None:
    """`leaves_clocks_alone` against `clocks.step` on every demonstration event, from
    the clocks as replay has them (stopped clocks left out, as the builder carries them)."""
    ctx = ctx_for(demo_db)
    with ctx.db().reading() as conn:
        rows = [r for r in event_log.iter_events(conn) if r["kind"] == "case"]
        case_rows = projections.list_cases(conn)
    builder = DecisionLogBuilder(lambda ref: ctx.registry.get_exact(*ref), ctx.calendar)
    verdicts = []
    for case_row in case_rows:
        ref = WorkflowRef(
            case_row["workflow_id"], case_row["workflow_version"], case_row["workflow_hash"]
        )
        wf = builder.workflow(ref)
        state = replay(
            wf.definition, case_row["ref"], [r for r in rows if r["case_ref"] == case_row["ref"]]
        )
        for moment in clocks.history(list(wf.rules), state.facts, ctx.calendar):
            live = {k: c for k, c in moment.before.items() if c.state != "stopped"}
            facts = moment.facts
            alone = wf.leaves_clocks_alone(live, facts.trigger, facts.to_state, facts.changed)
            if alone:
                after = clocks.step(live, wf.rules, facts, ctx.calendar)
                assert after.keys() == live.keys(), f"event {facts.seq}"
                assert all(after[k] is live[k] for k in live), f"event {facts.seq}"
            verdicts.append(alone)
    assert len(verdicts) == 100 and True in verdicts and False in verdicts


def test_a_log_under_two_workflow_versions_lists_both_and_exports_both(
    world, tmp_path, monkeypatch
) -> None:
    """The metadata's workflows come from one scan when the log has one workflow; with
    two, they are listed one by one, for the selection and for the whole log."""
    world.on("2025-06-02")
    cases.open_case(world.as_("bu"), "2025-001", aware_on=dt.date(2025, 6, 2))
    shipped = (Path(casereview.__file__).parent / "workflows" / "england-lcspr@1.toml").read_text()
    newer = tmp_path / "workflows"
    newer.mkdir()
    (newer / "england-lcspr@3.toml").write_text(
        shipped.replace("\nversion = 1\n", "\nversion = 3\n")
    )
    monkeypatch.setenv("CASEREVIEW_WORKFLOWS", str(newer))
    world.on("2025-06-10")
    workflows.install(world.as_("admin"), str(newer / "england-lcspr@3.toml"))
    later = ServiceContext(url=world.url, account="bu", clock=world.clock)  # sees version 3
    try:
        cases.open_case(
            later, "2025-002", aware_on=dt.date(2025, 6, 10), workflow="england-lcspr@3"
        )
    finally:
        later.close()
    ctx = world.as_("scrut")
    data, result = export_bytes(ctx, format="csv")
    assert [(w.id, w.version) for w in result.meta.workflows] == [
        ("england-lcspr", 1),
        ("england-lcspr", 3),
    ]
    assert (result.meta.event_count, result.meta.case_count) == (2, 2)
    assert exports.verify_export(write(tmp_path, "two.csv", data), ctx).ok
    _, dated = export_bytes(ctx, format="json", date_from=dt.date(2025, 6, 9))
    assert [w.version for w in dated.meta.workflows] == [3]
    assert (dated.meta.event_count, dated.meta.case_count) == (1, 1)
    _, none = export_bytes(ctx, format="json", date_from=dt.date(2030, 1, 1))
    assert none.meta.workflows == () and none.meta.event_count == 0


def test_demo_log_shows_pause_resume_and_lateness(demo_db: Path, ctx_for) -> None:
    data, _ = export_bytes(ctx_for(demo_db), format="json")
    events = json.loads(data)["events"]
    changes = {(c["clock"], c["change"]) for e in events for c in e["clocks"]}
    assert ("lcspr_publication", "paused") in changes
    assert ("notification", "stopped") in changes
    statuses = {c["status"] for e in events for c in e["clocks"]}
    assert {"running", "due_soon", "met", "missed", "paused"} <= statuses


# -- verification against the log -------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "json", "md"])
def test_untouched_export_verifies_alone_and_against_the_log(
    fmt: str, demo_db: Path, ctx_for, tmp_path: Path
) -> None:
    data, _ = export_bytes(ctx_for(demo_db), format=fmt)
    path = write(tmp_path, f"log.{fmt}", data)
    alone = exports.verify_export(path, None)
    assert alone.ok and not alone.database_checked and alone.rows == 100
    checked = exports.verify_export(path, ctx_for(demo_db))
    assert checked.ok, [str(f) for f in checked.findings]
    assert checked.database_checked


def test_export_still_verifies_after_the_log_moves_on(demo_copy: Path, ctx_for, tmp_path) -> None:
    data, result = export_bytes(ctx_for(demo_copy), format="csv")
    path = write(tmp_path, "log.csv", data)
    cases.advance(ctx_for(demo_copy), "2026-013", "notify", fields={"sin_reference": "SIN-9"})
    report = exports.verify_export(path, ctx_for(demo_copy))
    assert report.ok, [str(f) for f in report.findings]
    newer, _ = export_bytes(ctx_for(demo_copy), format="csv")
    assert newer != data
    assert exports.verify_export(write(tmp_path, "newer.csv", newer), None).ok
    assert result.meta.chain_head_seq == 113


def _redigest_csv(body: bytes) -> bytes:
    return body + f"digest,sha256,{hashlib.sha256(body).hexdigest()}\r\n".encode()


def _redigest_md(body: bytes) -> bytes:
    line = (
        f"**Digest:** `sha256:{hashlib.sha256(body).hexdigest()}` is the SHA-256 of every "
        "byte above this line; check it with `casereview log verify-export FILE`.\n"
    )
    return body + line.encode()


def forge(fmt: str, data: bytes, old: str, new: str) -> bytes:
    """Edit the content and recompute the digest, as someone with the file could."""
    if fmt == "json":
        doc = json.loads(data)
        for event in doc["events"]:
            if event["rationale"] == old:
                event["rationale"] = new
        digest = json_format.content_digest(doc["meta"], doc["events"])
        return json_format.render(doc["meta"], doc["events"], digest)
    marker = b"digest,sha256," if fmt == "csv" else b"**Digest:**"
    body = data[: data.rindex(marker)].replace(old.encode(), new.encode())
    return _redigest_csv(body) if fmt == "csv" else _redigest_md(body)


@pytest.mark.parametrize("fmt", ["csv", "json", "md"])
def test_an_edit_with_a_recomputed_digest_is_caught_only_against_the_log(
    fmt: str, demo_db: Path, ctx_for, tmp_path: Path
) -> None:
    data, _ = export_bytes(ctx_for(demo_db), format=fmt)
    path = write(tmp_path, f"forged.{fmt}", forge(fmt, data, "Panel agreed.", "Panel refused."))
    alone = exports.verify_export(path, None)
    assert alone.ok  # a digest without a key cannot tell
    report = exports.verify_export(path, ctx_for(demo_db))
    assert not report.ok
    rows = [f for f in report.findings if f.check == "row"]
    assert len(rows) == 2  # two demo cases record "Panel agreed."
    assert all(("rationale" if fmt != "md" else "text") in f.message for f in rows)


def test_a_row_removed_with_counts_and_digest_fixed_is_reported_missing(
    demo_db: Path, ctx_for, tmp_path: Path
) -> None:
    data, _ = export_bytes(ctx_for(demo_db), format="json")
    doc = json.loads(data)
    removed = doc["events"].pop(10)
    doc["meta"]["event_count"] -= 1
    forged = json_format.render(
        doc["meta"], doc["events"], json_format.content_digest(doc["meta"], doc["events"])
    )
    path = write(tmp_path, "short.json", forged)
    assert exports.verify_export(path, None).ok
    report = exports.verify_export(path, ctx_for(demo_db))
    messages = {f.seq: f.message for f in report.findings}
    assert "missing from the file" in messages[removed["seq"]]
    assert "event_count" in " ".join(f.message for f in report.findings if f.seq is None)


def test_an_entry_hash_not_in_the_log_is_reported(demo_db: Path, ctx_for, tmp_path) -> None:
    data, _ = export_bytes(ctx_for(demo_db), format="json")
    doc = json.loads(data)
    doc["events"][0]["entry_hash"] = "0" * 64
    forged = json_format.render(
        doc["meta"], doc["events"], json_format.content_digest(doc["meta"], doc["events"])
    )
    report = exports.verify_export(write(tmp_path, "h.json", forged), ctx_for(demo_db))
    assert any(
        f.check == "database" and "not in the log" in f.message and f.seq == 14
        for f in report.findings
    )


def test_an_entry_hash_of_another_event_is_placed_by_the_log(
    demo_db: Path, ctx_for, tmp_path
) -> None:
    """The log has no index on entry_hash: a hash not at its own seq is still found."""
    data, _ = export_bytes(ctx_for(demo_db), format="json")
    doc = json.loads(data)
    first, other = doc["events"][0], doc["events"][7]
    first["entry_hash"], other["entry_hash"] = other["entry_hash"], first["entry_hash"]
    forged = json_format.render(
        doc["meta"], doc["events"], json_format.content_digest(doc["meta"], doc["events"])
    )
    report = exports.verify_export(write(tmp_path, "swap.json", forged), ctx_for(demo_db))
    placed = {f.seq: f.message for f in report.findings if f.check == "database"}
    assert placed == {
        first["seq"]: f"its entry_hash belongs to event {other['seq']} in the log",
        other["seq"]: f"its entry_hash belongs to event {first['seq']} in the log",
    }


@pytest.mark.parametrize("forged_seq", [10**20, True], ids=["beyond-int64", "boolean"])
def test_a_seq_no_database_could_hold_is_a_finding(
    demo_db: Path, ctx_for, tmp_path, forged_seq
) -> None:
    """The file's seqs are looked up by primary key: one the database cannot bind must
    still end as findings (its hash is found at its real seq), not as a crash."""
    data, _ = export_bytes(ctx_for(demo_db), format="json")
    doc = json.loads(data)
    real_seq = doc["events"][0]["seq"]
    doc["events"][0]["seq"] = forged_seq
    forged = json_format.render(
        doc["meta"], doc["events"], json_format.content_digest(doc["meta"], doc["events"])
    )
    report = exports.verify_export(write(tmp_path, "seq.json", forged), ctx_for(demo_db))
    assert not report.ok
    assert f"its entry_hash belongs to event {real_seq} in the log" in [
        f.message for f in report.findings if f.check == "database"
    ]


def test_a_different_database_is_reported(demo_db: Path, ctx_for, tmp_path, world) -> None:
    data, _ = export_bytes(ctx_for(demo_db), format="csv")
    path = write(tmp_path, "log.csv", data)
    other = ServiceContext(url=world.url, account="scrut", clock=world.clock)
    try:
        report = exports.verify_export(path, other)
    finally:
        other.close()
    assert not report.ok
    assert "fewer than the 113" in report.findings[0].message


def test_tampered_byte_fails_with_a_digest_finding(demo_db: Path, ctx_for, tmp_path) -> None:
    data, _ = export_bytes(ctx_for(demo_db), format="csv")
    index = data.index(b"Panel agreed.")
    tampered = data[:index] + b"p" + data[index + 1 :]
    report = exports.verify_export(write(tmp_path, "t.csv", tampered), ctx_for(demo_db))
    assert not report.ok
    assert report.findings[0].check == "digest"


def test_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no such file"):
        exports.verify_export(tmp_path / "nope.csv", None)


# -- filters -------------------------------------------------------------------------------


def test_case_and_date_filters(demo_db: Path, ctx_for, tmp_path) -> None:
    ctx = ctx_for(demo_db)
    data, result = export_bytes(
        ctx,
        format="json",
        case="2026-002",
        date_from=dt.date(2026, 5, 1),
        date_to=dt.date(2026, 9, 30),
    )
    doc = json.loads(data)
    assert doc["meta"]["filter"] == {"case": "2026-002", "from": "2026-05-01", "to": "2026-09-30"}
    days = [e["occurred_on"] for e in doc["events"]]
    assert days and all("2026-05-01" <= d <= "2026-09-30" for d in days)
    assert {e["case_ref"] for e in doc["events"]} == {"2026-002"}
    with ctx.db().reading() as conn:
        expected = conn.execute(
            text(
                "SELECT COUNT(*) FROM events WHERE case_ref = '2026-002' "
                "AND occurred_on BETWEEN '2026-05-01' AND '2026-09-30'"
            )
        ).scalar_one()
    assert result.meta.event_count == len(days) == expected
    assert exports.verify_export(write(tmp_path, "f.json", data), ctx).ok


def test_unknown_case_and_reversed_dates_are_refused(demo_db: Path, ctx_for) -> None:
    with pytest.raises(NotFound, match="no case 'nope'"):
        export_bytes(ctx_for(demo_db), case="nope")
    with pytest.raises(InvalidInput, match="is after to"):
        export_bytes(ctx_for(demo_db), date_from=dt.date(2026, 2, 1), date_to=dt.date(2026, 1, 1))


# -- personal data and hostile text through the real write path ------------------------------


HOSTILE = '=HYPERLINK("http://evil.example","Zoë – café, \\"x\\"")\nsecond line, "quoted"'


@pytest.fixture
def hostile_case(world) -> ServiceContext:
    world.on("2025-06-02")
    cases.open_case(
        world.as_("bu"),
        "2025-001",
        aware_on=dt.date(2025, 6, 2),
        pseudonym="-Zoë – café",
        fields={"child_name": "Zoë Secret", "nature": "death"},
    )
    world.on("2025-06-04")
    cases.advance(
        world.as_("bu"), "2025-001", "add_note", rationale=HOSTILE, fields={"note": "@SUM(A1)"}
    )
    return world.as_("scrut")


def test_personal_fields_left_out_by_default_and_recorded_when_included(
    hostile_case: ServiceContext, world, tmp_path
) -> None:
    for fmt in ("csv", "json", "md"):
        data, result = export_bytes(hostile_case, format=fmt)
        assert b"Secret" not in data
        assert result.meta.include_personal is False
        assert result.meta.personal_fields == ("child_name",)
        assert exports.verify_export(write(tmp_path, f"p.{fmt}", data), hostile_case).ok
    # Only a role the workflow lets see personal fields may include them (the business
    # unit; not the scrutineer): tests/security/test_privacy_views.py.
    data, result = export_bytes(world.as_("bu"), format="json", include_personal=True)
    doc = json.loads(data)
    assert doc["meta"]["include_personal"] is True
    assert doc["events"][0]["fields"]["child_name"] == "Zoë Secret"
    path = write(tmp_path, "personal.json", data)
    report = exports.verify_export(path, hostile_case)
    assert report.ok and report.meta is not None and report.meta.include_personal


def test_hostile_text_survives_in_json_and_is_neutralised_in_csv(
    hostile_case: ServiceContext,
) -> None:
    data, _ = export_bytes(hostile_case, format="json")
    events = json.loads(data)["events"]
    assert events[1]["rationale"] == HOSTILE
    assert events[1]["pseudonym"] == "-Zoë – café"
    data, _ = export_bytes(hostile_case, format="csv")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    note = dict(zip(COLUMNS, rows[-2], strict=True))
    assert note["rationale"] == "'" + HOSTILE
    assert note["pseudonym"] == "'-Zoë – café"
    assert note["fields"] == "note: @SUM(A1)"  # inside the cell, not at its start


# -- the calendar feed ---------------------------------------------------------------------


def calendar_events(ctx: ServiceContext, case: str | None = None) -> list:
    buffer = io.BytesIO()
    exports.export_calendar(ctx, buffer, case=case)
    return list(Calendar.from_ical(buffer.getvalue()).walk("VEVENT"))


def open_clocks(path: Path) -> list[sqlite3.Row]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(
            "SELECT c.ref, k.* FROM case_clocks k JOIN cases c ON c.id = k.case_id "
            "WHERE c.closed = 0"
        ).fetchall()
    finally:
        conn.close()


def test_calendar_has_one_event_per_running_clock_and_leaves_out_paused(
    demo_db: Path, ctx_for
) -> None:
    events = calendar_events(ctx_for(demo_db))
    clocks_now = open_clocks(demo_db)
    running = {
        f"{c['ref']}.{c['clock_id']}.england-lcspr@casereview": c
        for c in clocks_now
        if c["state"] == "running"
        and c["due_on"]
        and not (c["ends_on_due"] and c["due_on"] < TODAY.isoformat())
    }
    assert {str(e["uid"]) for e in events} == set(running)
    paused = [c for c in clocks_now if c["state"] == "paused"]
    assert paused, "the demo has a review on hold"
    assert not {f"{c['ref']}.{c['clock_id']}" for c in paused} & {
        str(e["uid"]).rsplit(".", 1)[0] for e in events
    }
    for event in events:
        clock = running[str(event["uid"])]
        assert event.decoded("dtstart") == dt.date.fromisoformat(clock["due_on"])
        (alarm,) = event.walk("VALARM")
        start = dt.datetime.combine(event.decoded("dtstart"), dt.time())
        fires = start + alarm.decoded("trigger")
        assert fires == dt.datetime.combine(dt.date.fromisoformat(clock["warn_from"]), dt.time(9))


def test_calendar_uids_are_stable_and_sequence_grows_with_the_case(
    demo_copy: Path, ctx_for
) -> None:
    first = {str(e["uid"]): e for e in calendar_events(ctx_for(demo_copy))}
    again = {
        str(e["uid"]): e for e in calendar_events(ctx_for(demo_copy, TODAY + dt.timedelta(days=1)))
    }
    assert set(first) == set(again)
    assert all(int(first[u]["sequence"]) == int(again[u]["sequence"]) for u in first)
    uid = "2026-013.notification.england-lcspr@casereview"
    assert uid in first
    cases.advance(ctx_for(demo_copy), "2026-013", "add_note", fields={"note": "chased"})
    later = {str(e["uid"]): e for e in calendar_events(ctx_for(demo_copy))}
    assert int(later[uid]["sequence"]) == int(first[uid]["sequence"]) + 1
    cases.advance(ctx_for(demo_copy), "2026-013", "notify", fields={"sin_reference": "SIN-1"})
    notified = {str(e["uid"]) for e in calendar_events(ctx_for(demo_copy), "2026-013")}
    assert notified == {"2026-013.rapid_review.england-lcspr@casereview"}


def test_calendar_for_a_closed_or_unknown_case(demo_db: Path, ctx_for) -> None:
    assert calendar_events(ctx_for(demo_db), "2026-011") == []  # decided not to notify
    with pytest.raises(NotFound):
        calendar_events(ctx_for(demo_db), "nope")
