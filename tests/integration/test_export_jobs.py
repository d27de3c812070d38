"""`log export` laid out by several processes writes exactly the bytes one process
writes, and a worker that stops ends the export with an error rather than a short
file. Runs on both backends."""

from __future__ import annotations

import datetime as dt
import io
import json
import multiprocessing

import pytest

from casereview.errors import CaseReviewError
from casereview.services import cases, export_jobs, exports
from casereview.services.exports import LogExportRequest

D = dt.date.fromisoformat
REFS = [f"2025-{n:03d}" for n in range(1, 14)]


@pytest.fixture
def interleaved(world):
    """Thirteen cases whose events interleave in the log, with text that takes the CSV
    writer's slow path (quotes, commas, a formula, a line break) and a personal field."""
    world.on("2025-06-02")
    for number, ref in enumerate(REFS):
        fields = {"child_name": f"Name {number}"} if number % 4 == 0 else None
        cases.open_case(world.as_("bu"), ref, aware_on=D("2025-06-02"), fields=fields)
    notes = ['said "no", then yes', "=SUM(A1:A2)", "two\nlines", "a, b and c", "plain"]
    for day, (step, picked) in zip(
        ("2025-06-03", "2025-06-04", "2025-06-05"),
        (("notify", REFS[::2]), ("add_note", REFS[::3]), ("add_note", REFS[1::2])),
        strict=True,
    ):
        world.on(day)
        for number, ref in enumerate(picked):
            if step == "notify":
                fields = {"sin_reference": f"S-{ref}"}
            else:
                fields = {"note": notes[number % len(notes)]}
            cases.advance(world.as_("bu"), ref, step, fields=fields)
    return world


def export(world, jobs: int | None, **request) -> bytes:
    sink = io.BytesIO()
    # Personal fields are for the business unit, and each such export is recorded in the
    # log (moving its head): tests/security/test_privacy_views.py.
    who = "bu" if request.get("include_personal") else "scrut"
    exports.export_log(world.as_(who), LogExportRequest(**request), sink, jobs=jobs)
    return sink.getvalue()


def events_of(data: bytes, fmt: str) -> object:
    """The events of an export, without the metadata that names the log's head."""
    if fmt == "json":
        return json.loads(data)["events"]
    return [line for line in data.split(b"\n") if line.startswith(b"event,")]


@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize(
    "request_",
    [{}, {"date_from": D("2025-06-04")}, {"date_to": D("2025-06-03")}, {"include_personal": True}],
    ids=["all", "from", "to", "personal"],
)
def test_two_and_three_workers_write_the_bytes_one_process_writes(interleaved, fmt, request_):
    alone = export(interleaved, 1, format=fmt, **request_)
    assert b"2025-013" in alone and b"2025-001" in alone  # events of both ends
    for jobs in (2, 3):
        laid_out = export(interleaved, jobs, format=fmt, **request_)
        if request_.get("include_personal"):  # each export was logged: a later head
            assert events_of(laid_out, fmt) == events_of(alone, fmt)
        else:
            assert laid_out == alone
    assert multiprocessing.active_children() == []


def test_progress_counts_every_event_read_once(interleaved):
    told: list[int] = []
    exports.export_log(
        interleaved.as_("scrut"), LogExportRequest(), io.BytesIO(), progress=told.append, jobs=2
    )
    alone: list[int] = []
    exports.export_log(
        interleaved.as_("scrut"), LogExportRequest(), io.BytesIO(), progress=alone.append, jobs=1
    )
    assert sum(told) == sum(alone) == 13 + 7 + 5 + 6


def test_which_exports_get_workers():
    wanted = export_jobs.workers_wanted
    assert wanted(10, lines=True, one_case=False, jobs=3) == 3
    assert wanted(10, lines=True, one_case=False, jobs=1) == 0
    assert wanted(10, lines=False, one_case=False, jobs=3) == 0  # Markdown groups by case
    assert wanted(10, lines=True, one_case=True, jobs=3) == 0
    assert wanted(0, lines=True, one_case=False, jobs=3) == 0
    assert wanted(10, lines=True, one_case=False, jobs=None) == 0  # a short log: one process


def test_a_worker_that_dies_ends_the_export_with_an_error(interleaved):
    streams = export_jobs.start(interleaved.as_("scrut"), 2, 10_000, LogExportRequest())
    streams.processes[1].kill()
    with pytest.raises(CaseReviewError, match="worker process of the export stopped"):
        list(streams.lines(None))
    assert multiprocessing.active_children() == []


def test_a_worker_that_cannot_read_reports_its_failure_without_case_data(interleaved):
    ctx = interleaved.as_("scrut")
    broken = type(ctx)(url=ctx.url + "-missing", account="scrut", clock=interleaved.clock)
    try:
        streams = export_jobs.start(broken, 2, 10, LogExportRequest(format="json"))
        with pytest.raises(CaseReviewError) as failure:
            list(streams.lines(None))
    finally:
        broken.close()
    # casereview's own error is passed on (it names the database, never a case)
    assert "missing" in str(failure.value) and "2025-" not in str(failure.value)
    assert multiprocessing.active_children() == []


def test_an_event_no_worker_reads_stops_the_export_instead_of_leaving_it_out(interleaved):
    """A damaged log (a case event with no case id) falls to no worker: the count
    check ends the export with an error; one process still exports it."""
    from tests.conftest import run_sql, unprotected

    seq = run_sql(interleaved.url, "SELECT MAX(seq) FROM events WHERE trigger = 'add_note'")[0][0]
    unprotected(interleaved.url, f"UPDATE events SET case_id = NULL WHERE seq = {seq}")
    with pytest.raises(CaseReviewError, match="laid out 30 of the 31 events"):
        export(interleaved, 2, format="csv")
    assert multiprocessing.active_children() == []
    assert f"\r\nevent,{seq},".encode() in export(interleaved, 1, format="csv")


def test_a_worker_waits_for_a_lock_only_so_long(world):
    """PostgreSQL: a worker's wait for a lock is bounded (the coordinator waits on its
    pipe, which the server cannot see); SQLite's own busy timeout already bounds it."""
    from sqlalchemy import text

    from casereview.store import database

    with world.as_("scrut").db().reading() as conn:
        database.bound_waits(conn)
        if conn.dialect.name == "postgresql":
            assert conn.execute(text("SHOW lock_timeout")).scalar_one() == "1min"
        else:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
