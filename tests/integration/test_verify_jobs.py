"""`audit verify` in several processes reports exactly what one process reports, and
falls back to one process whenever the workers cannot be trusted to have seen the same
log (SQLite) or did not finish. Runs on both backends (PostgreSQL shares a snapshot)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from casereview.services import audit, audit_cases, audit_jobs, cases
from casereview.services.context import WorkerSetup
from casereview.store import database, event_log
from tests.conftest import BACKEND, run_sql, unprotected

D = dt.date.fromisoformat
REFS = [f"2025-{n:03d}" for n in range(1, 13)]


@pytest.fixture
def many(world):
    """Twelve cases, a few events each, so several processes get a run of cases."""
    world.on("2025-06-02")
    for ref in REFS:
        cases.open_case(world.as_("bu"), ref, aware_on=D("2025-06-02"))
    world.on("2025-06-03")
    for ref in REFS[::2]:
        cases.advance(world.as_("bu"), ref, "notify", fields={"sin_reference": f"S-{ref}"})
    world.on("2025-06-04")
    for ref in REFS[::3]:
        cases.advance(world.as_("bu"), ref, "add_note", fields={"note": "minutes filed"})
    return world


def report(world, jobs):
    done = audit.verify(world.as_("scrut"), jobs=jobs)
    return done.events, done.cases, done.users, done.head_hash, done.findings


def test_an_intact_log_verifies_the_same_in_one_two_and_three_processes(many):
    one = report(many, 1)
    assert one[4] == []
    assert one[1] == len(REFS)
    assert report(many, 2) == one
    assert report(many, 3) == one


def test_findings_come_out_identical_and_in_the_same_order(many):
    """Tampering in different runs of cases, an orphaned event, a user row and an event
    under no case: every finding, in the same order, whatever the split."""
    ids = dict(run_sql(many.url, "SELECT ref, id FROM cases"))
    if BACKEND == "postgresql":  # a tamperer who can also drop the foreign key
        run_sql(many.url, "ALTER TABLE events DROP CONSTRAINT events_case_id_fkey")
    unprotected(
        many.url,
        f"UPDATE events SET rationale = 'rewritten' WHERE case_id = {ids[REFS[1]]}",
        f"UPDATE events SET case_id = 9999 WHERE case_id = {ids[REFS[9]]} AND trigger = 'add_note'",
        "UPDATE events SET actor = 'mallory' WHERE case_id IS NULL AND seq = 2",
    )
    run_sql(
        many.url,
        f"UPDATE cases SET state = 'closed' WHERE ref = '{REFS[7]}'",
        f"UPDATE case_clocks SET due_on = '2030-01-01' WHERE case_id = {ids[REFS[4]]}",
        "UPDATE users SET display_name = 'Someone Else' WHERE username = 'chair'",
    )
    one = report(many, 1)
    checks = {f.check for f in one[4]}
    assert {"payload", "replay", "projection"} <= checks
    assert any("9999" in f.message for f in one[4])
    assert any(f.seq == 2 for f in one[4])
    assert any("user chair" in f.message for f in one[4])
    assert report(many, 2) == one
    assert report(many, 4) == one


def test_the_default_stays_in_one_process_below_the_threshold(many, monkeypatch):
    started = []
    real = audit_jobs.start

    def spy(ctx, conn, head, jobs, timeline):
        workers = real(ctx, conn, head, jobs, timeline)
        started.append(workers)
        return workers

    monkeypatch.setattr(audit_jobs, "start", spy)
    assert audit.verify(many.as_("scrut")).ok
    assert started == [None]
    assert audit_jobs.auto_jobs(audit_jobs.PARALLEL_FROM_EVENTS - 1, 8) == 1
    assert audit_jobs.auto_jobs(audit_jobs.PARALLEL_FROM_EVENTS, 8) == audit_jobs.MAX_AUTO_JOBS
    assert audit_jobs.auto_jobs(audit_jobs.PARALLEL_FROM_EVENTS, 2) == 2
    assert audit_jobs.auto_jobs(audit_jobs.PARALLEL_FROM_EVENTS, None) == 1


def _started(world, head_offset=0):
    ctx = world.as_("scrut")
    db = ctx.db()
    manager = db.reading()
    conn = manager.__enter__()
    database.hold_snapshot(conn)
    seq, head = event_log.chain_head(conn)
    workers = audit_jobs.start(
        ctx, conn, (seq + head_offset, head), 2, audit.replay_authority(ctx, conn)[0]
    )
    return manager, workers


def test_workers_that_saw_another_log_are_not_used(many):
    """On SQLite a write can commit between the coordinator's snapshot and a worker's:
    the workers report the head they saw, and a different head means redo it here."""
    manager, workers = _started(many, head_offset=-1)  # as if a write came in between
    try:
        assert workers is not None
        assert workers.finish(None) is None
    finally:
        manager.__exit__(None, None, None)
    manager, workers = _started(many)
    try:
        assert workers is not None
        outcome = workers.finish(None)
    finally:
        manager.__exit__(None, None, None)
    assert outcome is not None
    passes, sealed = outcome
    assert sum(p.cases for p in passes) == len(REFS)
    assert sealed == []
    assert all(p.authority == [] for p in passes)


def test_a_worker_that_fails_sends_the_pass_back_to_one_process(many, tmp_path, monkeypatch):
    ctx = many.as_("scrut")
    with ctx.db().reading() as conn:
        database.hold_snapshot(conn)
        head = event_log.chain_head(conn)
        timeline = audit.replay_authority(ctx, conn)[0]
    directories, shipped = ctx.registry.sources()

    def job(url, cases, unfiled):
        setup = WorkerSetup(url, "scrut", directories, shipped, None)
        return audit_jobs.Job(setup, cases, unfiled, None, timeline)

    # One worker cannot open its database: it reports a failure (its type only) and
    # the coordinator is told to do the pass itself, whatever the other worker found.
    missing = f"sqlite:///{tmp_path / 'missing' / 'none.db'}"
    workers = audit_jobs.launch(
        head, [job(missing, (None, 2), True), job(many.url, (2, None), False)]
    )
    assert workers.finish(None) is None
    assert all(not p.is_alive() for p in workers.processes)
    # Through verify: when the workers' outcome is unusable the report is still whole.
    monkeypatch.setattr(audit_jobs.Workers, "finish", lambda self, progress: None)
    done = audit.verify(ctx, jobs=2)
    assert done.ok
    assert done.cases == len(REFS)
    assert done.events == head[0]


def test_a_write_during_a_parallel_verify_leaves_a_consistent_report(many):
    """The coordinator's snapshot decides what is reported: an event committed while
    verification runs is either wholly in it or wholly out of it."""
    ctx = many.as_("scrut")
    before = run_sql(many.url, "SELECT COUNT(*) FROM events")[0][0]
    with ctx.db().reading() as conn:
        database.hold_snapshot(conn)
        seq, head = event_log.chain_head(conn)
        timeline = audit.replay_authority(ctx, conn)[0]
        workers = audit_jobs.start(ctx, conn, (seq, head), 2, timeline)
        assert workers is not None
        many.on("2025-06-05")
        cases.advance(many.as_("bu"), REFS[0], "add_note", fields={"note": "late"})
        outcome = workers.finish(None)
        if BACKEND == "postgresql":
            assert outcome is not None  # the workers read the coordinator's snapshot
        if outcome is None:  # SQLite workers saw the new head: redone in this snapshot
            events = audit_cases.EventPass(None, audit.replay_authority(ctx, conn)[2])
            passes = [audit_cases.verify_cases(ctx, conn, events)]
        else:  # PostgreSQL: the workers imported this snapshot
            passes = outcome[0]
        assert audit_cases.case_findings(passes) == []
        assert int(conn.execute(text("SELECT COUNT(*) FROM events")).scalar_one()) == before
    assert run_sql(many.url, "SELECT COUNT(*) FROM events")[0][0] == before + 1
    assert audit.verify(ctx, jobs=2).ok


def test_no_worker_outlives_a_verify_that_fails(many, monkeypatch):
    import multiprocessing

    from casereview.domain import chain

    def broken(rows, head):
        list(rows)  # the workers are running meanwhile
        raise RuntimeError("the links pass failed")

    monkeypatch.setattr(chain, "check_links", broken)
    with pytest.raises(RuntimeError, match="links pass"):
        audit.verify(many.as_("scrut"), jobs=2)
    assert multiprocessing.active_children() == []


def test_progress_after_a_fallback_counts_each_event_once():
    shown: list[int] = []
    told = audit_jobs.after(shown.append, 7)
    assert told is not None
    for batch in (5, 5, 5):
        told(batch)
    assert shown == [3, 5]
    assert audit_jobs.after(None, 7) is None
    tell = shown.append
    assert audit_jobs.after(tell, 0) is tell
