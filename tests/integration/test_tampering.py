"""Raw-SQL tampering with the store is detected by `audit verify` (and, for a cut-short
log, by a checkpoint). The attacker here can drop and recreate the append-only trigger."""

from __future__ import annotations

import datetime as dt

import pytest

from casereview.domain import chain
from casereview.services import audit, cases
from tests.conftest import run_sql, unprotected

D = dt.date.fromisoformat


@pytest.fixture
def populated(world):
    world.on("2025-06-02")
    cases.open_case(world.as_("bu"), "2025-001", aware_on=D("2025-06-02"))
    cases.open_case(world.as_("bu"), "2025-002", aware_on=D("2025-06-02"))
    steps = [
        ("bu", "2025-06-03", "notify", {"sin_reference": "S1"}, None),
        ("chair", "2025-06-04", "propose_decision", {"recommendation": "lcspr"}, "meeting held"),
        ("la", "2025-06-05", "sign_off", {}, None),
        ("bu", "2025-06-06", "add_note", {"note": "waiting for police"}, None),
    ]
    for who, day, trigger, fields, rationale in steps:
        world.on(day)
        cases.advance(world.as_(who), "2025-001", trigger, fields=fields, rationale=rationale)
    assert audit.verify(world.as_("scrut")).ok
    return world


def raw(world, *statements, unprotect=True):
    if unprotect:
        unprotected(world.url, *statements)
    else:
        run_sql(world.url, *statements)


def checks(world, **kwargs):
    report = audit.verify(world.as_("scrut"), **kwargs)
    return {f.check for f in report.findings}, report


def last_seq(world):
    return run_sql(world.url, "SELECT MAX(seq) FROM events")[0][0]


def test_edited_rationale_is_detected(populated):
    raw(
        populated,
        "UPDATE events SET rationale = 'nothing to see' WHERE trigger = 'propose_decision'",
    )
    found, report = checks(populated)
    assert "payload" in found
    assert any("rationale" in f.message for f in report.findings)


def test_deleted_middle_event_is_detected(populated):
    raw(populated, "DELETE FROM events WHERE trigger = 'propose_decision'")
    found, _ = checks(populated)
    assert {"sequence", "link"} <= found


def test_swapped_events_are_detected(populated):
    n = last_seq(populated)
    raw(
        populated,
        f"UPDATE events SET seq = -1 WHERE seq = {n - 1}",
        f"UPDATE events SET seq = {n - 1} WHERE seq = {n}",
        f"UPDATE events SET seq = {n} WHERE seq = -1",
    )
    found, _ = checks(populated)
    assert "link" in found or "payload" in found


def test_state_changed_behind_the_logs_back_is_detected(populated):
    raw(populated, "UPDATE cases SET state = 'closed' WHERE ref = '2025-001'", unprotect=False)
    found, report = checks(populated)
    assert found == {"projection"}
    assert any("2025-001: stored state" in f.message for f in report.findings)


def test_clock_moved_behind_the_logs_back_is_detected(populated):
    raw(populated, "UPDATE case_clocks SET due_on = '2099-01-01'", unprotect=False)
    found, _ = checks(populated)
    assert found == {"projection"}


def test_dropped_protection_is_detected(populated):
    if populated.url.startswith("sqlite"):
        run_sql(populated.url, "DROP TRIGGER events_no_delete")
    else:
        run_sql(populated.url, "DROP TRIGGER events_append_only ON events")
    found, _ = checks(populated)
    assert found == {"protection"}


def test_truncated_tail_needs_a_checkpoint(populated, tmp_path):
    checkpoint = tmp_path / "cp.json"
    checkpoint.write_text(audit.checkpoint(populated.as_("scrut")).to_json())
    n = last_seq(populated)
    # Remove the last event and move the head back consistently: the chain alone is fine…
    prev_hash = run_sql(populated.url, f"SELECT entry_hash FROM events WHERE seq = {n - 1}")[0][0]
    raw(
        populated,
        f"DELETE FROM events WHERE seq = {n}",
        f"UPDATE chain_head SET seq = {n - 1}, entry_hash = '{prev_hash}'",
    )
    found, _ = checks(populated)
    assert "checkpoint" not in found
    # …but the note event's projection is still there, and a checkpoint catches the cut.
    found_cp, report = checks(populated, checkpoint_file=checkpoint)
    assert "checkpoint" in found_cp
    assert report.checkpoint_used


def test_checkpoint_of_an_intact_log_verifies(populated, tmp_path):
    checkpoint = tmp_path / "cp.json"
    checkpoint.write_text(audit.checkpoint(populated.as_("scrut")).to_json())
    world = populated.on("2025-06-09")
    cases.advance(world.as_("police"), "2025-001", "sign_off")
    report = audit.verify(world.as_("scrut"), checkpoint_file=checkpoint)
    assert report.ok and report.checkpoint_used


def test_forged_event_appended_with_valid_hashes_shows_in_replay(populated):
    """Even a forger who recomputes hashes cannot make an illegal move verify."""
    n = last_seq(populated)
    row = run_sql(populated.url, f"SELECT entry_hash, case_id FROM events WHERE seq = {n}")[0]
    record = {
        "seq": n + 1,
        "kind": "case",
        "case_ref": "2025-001",
        "trigger": "close",
        "from_state": "rapid_review_signoff",
        "to_state": "closed",
        "occurred_on": "2025-06-07",
        "recorded_at": "2025-06-07T09:00:00.000000Z",
        "actor": "chair",
        "on_behalf_of": None,
        "role": "chair",
        "rationale": "forged",
        "fields": {},
        "workflow_id": "england-lcspr",
        "workflow_version": 1,
        "definition_hash": None,
        "algorithm": "sha256",
        "prev_hash": row[0],
    }
    sealed = chain.seal(record)
    values = {
        **{k: v for k, v in record.items() if k != "fields"},
        "fields": "{}",
        "case_id": row[1],
        "payload": sealed.payload,
        "entry_hash": sealed.entry_hash,
    }
    names = ", ".join(values)
    run_sql(
        populated.url,
        f"INSERT INTO events ({names}) VALUES ({', '.join(':' + k for k in values)})",
        "UPDATE chain_head SET seq = :seq, entry_hash = :entry_hash",
        params=values,
    )
    found, _ = checks(populated)
    assert "replay" in found or "projection" in found
    assert "hash" not in found and "link" not in found


def test_a_writer_between_the_two_passes_is_not_a_finding(populated, monkeypatch):
    """verify reads the links first and whole events after: an event committed in
    between must be invisible to both passes (one snapshot), not a head or replay
    finding."""
    from casereview.store import event_log

    whole_events = event_log.iter_sealed_events_by_case
    written = []

    def write_first(conn, *args, **kwargs):
        world = populated.on("2025-06-09")
        cases.advance(world.as_("bu"), "2025-002", "add_note", fields={"note": "meanwhile"})
        written.append(last_seq(populated))
        return whole_events(conn, *args, **kwargs)

    monkeypatch.setattr(event_log, "iter_sealed_events_by_case", write_first)
    before = last_seq(populated)
    read: list[int] = []  # progress counts the events the second pass read
    report = audit.verify(populated.as_("scrut"), progress=read.append)
    assert written == [before + 1]
    assert report.ok, report.findings
    assert report.events == sum(read) == before
    monkeypatch.undo()
    assert audit.verify(populated.as_("scrut")).events == before + 1


def test_prev_hash_rewritten_to_non_ascii_text_is_a_finding(populated):
    raw(populated, "UPDATE events SET prev_hash = 'é' || substr(prev_hash, 2) WHERE seq = 2")
    found, report = checks(populated)
    assert {"link", "hash"} <= found
    assert all(f.seq == 2 for f in report.findings if f.check in {"link", "hash"})
