"""The bulk importer writes exactly what the one-event-at-a-time write path writes.

The same randomised case scripts (benchmarks/generate.py, every path of the England
workflow) go once through `services.cases.open_case`/`advance`, event by event, and
once through `services.bulk.apply_scripts`, into two fresh databases with the same
people and one FixedClock. Every column of every event (so every payload and hash),
every case row, every clock row and the chain head must be equal, and the bulk
database must pass `audit verify`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from benchmarks import generate

from casereview.errors import CaseReviewError, Conflict, InvalidInput, Refused
from casereview.infra.now import FixedClock
from casereview.services import audit, bulk, cases
from casereview.services.bulk import CaseScript, Step
from casereview.services.context import ServiceContext
from tests.conftest import BACKEND, record_by_hand, run_sql

TODAY = dt.date(2026, 3, 2)
ACCOUNT = "bench-bu"


@pytest.fixture
def second_database_url(tmp_path: Path) -> Iterator[str]:
    """Another empty database on the backend under test."""
    if BACKEND == "sqlite":
        yield f"sqlite:///{tmp_path / 'second.db'}"
        return
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from tests.conftest import _admin_engine

    name = f"cr_{uuid.uuid4().hex[:16]}"
    engine = _admin_engine()
    with engine.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    server = os.environ["CASEREVIEW_TEST_DATABASE_URL"]
    yield make_url(server).set(database=name).render_as_string(hide_password=False)
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    engine.dispose()


def _context(url: str, clock: FixedClock) -> ServiceContext:
    ctx = ServiceContext(url=url, account=ACCOUNT, clock=clock)
    generate.add_people(ctx)
    return ctx


def _table(url: str, sql: str) -> list[tuple]:
    return run_sql(url, sql)


def _scripts(count: int, seed: int, v2_share: float = 0.0) -> list[CaseScript]:
    """Generated scripts; by default on version 1 of the England workflow only, so that
    every step is one event (a version 2 lead's step is also taken by its linked cases)."""
    ctx = ServiceContext(url="sqlite://", account=ACCOUNT)
    return list(
        generate.make_scripts(count, seed=seed, today=TODAY, cal=ctx.calendar, v2_share=v2_share)
    )


def _followed(url: str) -> int:
    """Events linked cases took with their lead (`[links]` `follow`): not in any script."""
    return run_sql(url, "SELECT COUNT(*) FROM events WHERE rationale LIKE 'With case %'")[0][0]


@pytest.mark.parametrize(
    "batch_size",
    [
        7,  # batches of uneven size: on SQLite, written by the writer process
        19,  # the 19th script is a linked child: its batch takes its lead too
        100,  # one batch: written in this process
    ],
)
def test_bulk_writes_exactly_what_the_write_path_writes(
    database_url, second_database_url, batch_size
):
    # Half on England version 2: holds, parallel processes, a sibling review's linked
    # group whose children take the lead's steps (kept in one batch), fact dates.
    scripts = _scripts(30, seed=11, v2_share=0.5)
    assert {s.workflow for s in scripts} >= {generate.V2_WORKFLOW, generate.WORKFLOW}
    assert scripts[18].keep_with_next and not scripts[19].keep_with_next
    assert sum(1 + len(s.steps) for s in scripts) >= 30 * 10
    clock = FixedClock(TODAY)  # one clock: recorded_at is the same instant in both
    one_by_one = _context(second_database_url, clock)
    record_by_hand(one_by_one, scripts)
    bulk_ctx = _context(database_url, clock)
    result = bulk.apply_scripts(bulk_ctx, scripts, batch_size=batch_size)
    assert result.cases == len(scripts)
    followed = _followed(database_url)
    assert followed > 0
    assert result.events == sum(1 + len(s.steps) for s in scripts) + followed

    events = "SELECT * FROM events ORDER BY seq"
    assert _table(database_url, events) == _table(second_database_url, events)
    case_rows = "SELECT * FROM cases ORDER BY id"
    assert _table(database_url, case_rows) == _table(second_database_url, case_rows)
    clock_rows = "SELECT * FROM case_clocks ORDER BY case_id, clock_id"
    assert _table(database_url, clock_rows) == _table(second_database_url, clock_rows)
    head = "SELECT seq, entry_hash FROM chain_head"
    assert _table(database_url, head) == _table(second_database_url, head)
    assert _table(database_url, head)[0][0] == result.head_seq

    report = audit.verify(bulk_ctx)
    assert report.ok, [str(f) for f in report.findings]
    assert report.cases == len(scripts)
    one_by_one.close()
    bulk_ctx.close()


@pytest.mark.parametrize(
    "seal_apart_from",
    [
        1,  # sealed and signed in a second process, a part of 5 scripts at a time
        10_000,  # sealed in this process at the end
    ],
)
def test_a_checked_import_writes_exactly_what_the_write_path_writes(
    database_url, second_database_url, seal_apart_from, monkeypatch
):
    monkeypatch.setattr(bulk, "SEAL_APART_FROM", seal_apart_from)
    monkeypatch.setattr(bulk, "DEFAULT_BATCH", 5)
    # Parts of 5, 5, 5 and 2 scripts; half on England version 2, with a linked group.
    scripts = _scripts(17, seed=12, v2_share=0.5)
    assert any(s.keep_with_next for s in scripts)
    clock = FixedClock(TODAY)
    one_by_one = _context(second_database_url, clock)
    record_by_hand(one_by_one, scripts)
    checked_ctx = _context(database_url, clock)
    checked = bulk.check_and_write(checked_ctx, scripts, write=True)
    assert checked.refused == []
    assert checked.written is not None
    followed = _followed(database_url)
    assert followed > 0
    assert checked.written.events == sum(1 + len(s.steps) for s in scripts) + followed

    for table in (
        "SELECT * FROM events ORDER BY seq",
        "SELECT * FROM cases ORDER BY id",
        "SELECT * FROM case_clocks ORDER BY case_id, clock_id",
        "SELECT seq, entry_hash FROM chain_head",
    ):
        assert _table(database_url, table) == _table(second_database_url, table), table
    report = audit.verify(checked_ctx)
    assert report.ok, [str(f) for f in report.findings]
    one_by_one.close()
    checked_ctx.close()


def test_a_refused_script_in_a_checked_import_writes_nothing(database_url, monkeypatch):
    monkeypatch.setattr(bulk, "SEAL_APART_FROM", 1)
    monkeypatch.setattr(bulk, "DEFAULT_BATCH", 3)
    scripts = _scripts(10, seed=13)
    bad = scripts[7]
    scripts[7] = dataclasses.replace(bad, steps=(Step("teleport", bad.aware_on),))
    ctx = _context(database_url, FixedClock(TODAY))
    before = _table(database_url, "SELECT seq, entry_hash FROM chain_head")
    checked = bulk.check_and_write(ctx, scripts, write=True)
    assert [(index, step) for index, step, _error in checked.refused] == [(7, 1)]
    assert checked.written is None
    assert _table(database_url, "SELECT count(*) FROM cases") == [(0,)]
    assert _table(database_url, "SELECT seq, entry_hash FROM chain_head") == before
    ctx.close()


def test_generated_scripts_cover_the_workflow_and_verify(database_url):
    scripts = _scripts(300, seed=3)
    ctx = _context(database_url, FixedClock(TODAY))
    counts = [1 + len(s.steps) for s in scripts]
    assert min(counts) >= 10
    assert max(counts) <= 45  # 10-40 planned; a long path can exceed its target a little
    result = bulk.apply_scripts(ctx, scripts)
    assert result.events == sum(counts)
    assert audit.verify(ctx).ok

    states = {row[0] for row in run_sql(database_url, "SELECT DISTINCT state FROM cases")}
    assert {
        "screening",
        "rapid_review",
        "rapid_review_signoff",
        "awaiting_panel",
        "panel_query",
        "other_learning",
        "national_review",
        "lcspr_commissioning",
        "lcspr_in_progress",
        "draft_review",
        "final_signoff",
        "publication_hold",
        "publication_scheduled",
        "published",
        "action_monitoring",
        "closed",
    } <= states
    triggers = {row[0] for row in run_sql(database_url, "SELECT DISTINCT trigger FROM events")}
    assert {"decide_not_to_notify", "withdraw", "lift_hold", "review_hold", "close"} <= triggers
    assert {"reschedule_publication", "request_changes", "revise", "add_note"} <= triggers
    on_behalf = run_sql(database_url, "SELECT COUNT(*) FROM events WHERE on_behalf_of IS NOT NULL")
    assert on_behalf[0][0] > 0

    today = TODAY.isoformat()
    overdue = run_sql(
        database_url,
        f"SELECT COUNT(*) FROM case_clocks WHERE state = 'running' AND due_on < '{today}'",
    )
    paused = run_sql(database_url, "SELECT COUNT(*) FROM case_clocks WHERE state = 'paused'")
    running = run_sql(
        database_url,
        f"SELECT COUNT(*) FROM case_clocks WHERE state = 'running' AND due_on >= '{today}'",
    )
    assert overdue[0][0] > 0 and paused[0][0] > 0 and running[0][0] > 0
    ctx.close()


def test_version_1_cases_are_generated_as_before_whatever_the_version_2_share():
    """The version 1 scripts are those the seed gave before version 2 cases existed: a
    share of 0 gives only them, and with a share each number left on version 1 has the
    same script (so figures of the version 1 cases stay comparable)."""
    alone = _scripts(120, seed=21)
    assert {s.workflow for s in alone} <= {generate.WORKFLOW, f"{generate.PLAN_WORKFLOW}@1"}
    tally: dict[str, int] = {}
    ctx = ServiceContext(url="sqlite://", account=ACCOUNT)
    mixed = list(generate.make_scripts(120, seed=21, today=TODAY, cal=ctx.calendar, tally=tally))
    assert len(mixed) == 120
    kept = [(a, b) for a, b in zip(alone, mixed, strict=True) if b.workflow != generate.V2_WORKFLOW]
    assert all(a == b for a, b in kept)
    assert tally["v1"] == len(kept) and tally["v2"] == 120 - len(kept)
    assert 0.2 < tally["v2"] / 120 < 0.55  # about a third
    assert 0 < tally["v2_linked"] < tally["v2"]
    with pytest.raises(ValueError, match="between 0 and 1"):
        next(generate.make_scripts(1, seed=1, today=TODAY, v2_share=1.5))
    with pytest.raises(SystemExit) as usage:
        generate.main(["--out", "unused.db", "--v2-share", "half"])
    assert usage.value.code == 2


def test_generated_version_2_cases_cover_its_paths_and_verify(database_url):
    """England version 2's paths in a small generated database: holds in progress and
    while publication is scheduled (some lifted, some past their review date), parallel
    processes with key dates near and far from today, sibling reviews whose children
    follow the lead, notifications only, a local review folded into a national review,
    decisions not to publish with reasons, late keying of on-time facts."""
    scripts = _scripts(160, seed=4, v2_share=1.0)
    assert {s.workflow for s in scripts} == {generate.V2_WORKFLOW}
    ctx = _context(database_url, FixedClock(TODAY))
    bulk.apply_scripts(ctx, scripts)
    assert audit.verify(ctx).ok

    events = [
        (seq, ref, trigger, from_state, occurred_on, rationale, json.loads(fields))
        for seq, ref, trigger, from_state, occurred_on, rationale, fields in run_sql(
            database_url,
            "SELECT seq, case_ref, trigger, from_state, occurred_on, rationale, fields "
            "FROM events WHERE case_ref IS NOT NULL ORDER BY seq",
        )
    ]

    def where(trigger: str, **fields: str) -> list[tuple]:
        wanted = fields.items()
        return [e for e in events if e[2] == trigger and all(e[6].get(k) == v for k, v in wanted)]

    def held_from(trigger: str) -> set[str]:
        return {e[3] for e in where(trigger)}

    # Holds during the review and while publication is scheduled; reviewed and lifted.
    assert {"lcspr_in_progress", "publication_scheduled"} <= held_from("hold")
    assert {"lcspr_in_progress", "publication_scheduled"} <= held_from("lift_hold")
    assert where("review_hold") and where("hold", parallel_process="1")
    today = TODAY.isoformat()
    holds = [json.loads(h or "null") for (h,) in run_sql(database_url, "SELECT hold FROM cases")]
    review_by = [h["review_by"] for h in holds if h]
    assert min(review_by) < today <= max(review_by)  # some past their review date
    # Parallel processes: registered, updated, concluded; key dates near and far.
    assert where("register_parallel_process") and where("update_parallel_process")
    assert where("update_parallel_process", process_status="concluded")
    key_dates = [
        dt.date.fromisoformat(day)
        for (listed,) in run_sql(database_url, "SELECT processes FROM cases")
        for process in json.loads(listed or "[]")
        if not process["concluded"]
        for day in process["dates"].values()
    ]
    assert any(0 <= (d - TODAY).days <= 14 for d in key_dates)
    assert any((d - TODAY).days > 60 for d in key_dates)
    # Sibling reviews: the lead links each child; the children take its LCSPR steps.
    links = where("link_case", relation="sibling")
    assert links
    children = {e[6]["linked_case"] for e in links}
    followed = [e for e in events if (e[5] or "").startswith("With case ")]
    assert {e[1] for e in followed} <= children
    assert {"commission_lcspr", "appoint_reviewer", "record_progress_check"} <= {
        e[2] for e in followed
    }
    assert children <= {e[1] for e in where("notify")}  # each keeps its own notification
    # A notification only (some escalated), and local reviews of incidents not notified.
    assert where("notify_only") and where("escalate_to_rapid_review")
    assert where("start_local_review") and where("complete_local_review")
    # The Star Hobson pattern: a local review in progress merged into a national review.
    merged = where("panel_commissions_national_review", local_review_outcome="merged")
    assert "lcspr_in_progress" in {e[3] for e in merged}
    assert where("panel_commissions_national_review", local_review_outcome="not_started")
    assert where("record_national_report") and where("record_national_review_alongside")
    # The partners' decisions: not to publish (with reasons), to maintain a decision.
    not_published = where("decide_publication", publication_form="not_published")
    assert not_published and all(e[6].get("reasons") for e in not_published)
    assert where("record_not_published") and where("maintain_decision")
    assert where("record_panel_response", panel_position="disagreed")
    assert where("publish") and where("publish_despite_short_notice")
    # Facts keyed in after the day they happened (clocks stop on the fact date).
    assert any(e[6]["notified_on"] < e[4] for e in where("notify"))
    assert any(e[6].get("published_on", e[4]) < e[4] for e in where("publish"))
    ctx.close()


def test_a_refused_step_rolls_back_its_batch_only(database_url):
    scripts = _scripts(5, seed=5)
    bad = CaseScript(
        ref="BAD-1",
        aware_on=TODAY - dt.timedelta(days=10),
        fields={"nature": "death"},
        steps=(Step("publish", TODAY - dt.timedelta(days=5), {"url": "https://x"}),),
        opened_on=TODAY - dt.timedelta(days=9),
        pseudonym="Child Bad",
    )
    ctx = _context(database_url, FixedClock(TODAY))
    before = run_sql(database_url, "SELECT COUNT(*) FROM events")[0][0]
    with pytest.raises(Refused) as refused:
        bulk.apply_scripts(ctx, [*scripts[:4], bad, scripts[4]], batch_size=2)
    message = str(refused.value)
    assert "case BAD-1" in message and "step 1 (publish)" in message
    assert "not possible" in message
    assert "the 4 cases before it were" in message
    refs = {row[0] for row in run_sql(database_url, "SELECT ref FROM cases")}
    assert refs == {s.ref for s in scripts[:4]}  # the first two batches only
    after = run_sql(database_url, "SELECT COUNT(*) FROM events")[0][0]
    assert after == before + sum(1 + len(s.steps) for s in scripts[:4])
    assert audit.verify(ctx).ok
    ctx.close()


def test_existing_references_and_pseudonyms_are_refused(database_url):
    scripts = _scripts(3, seed=9)
    ctx = _context(database_url, FixedClock(TODAY))
    bulk.apply_scripts(ctx, scripts[:2])
    with pytest.raises(Conflict, match="already exists"):
        bulk.apply_scripts(ctx, [scripts[0]])
    with pytest.raises(Conflict, match="already exists"):  # twice within one batch
        bulk.apply_scripts(ctx, [scripts[2], scripts[2]])
    clash = CaseScript(
        ref="NEW-1",
        aware_on=scripts[2].aware_on,
        fields=dict(scripts[2].fields),
        opened_on=scripts[2].opened_on,
        pseudonym=scripts[1].pseudonym,  # written in an earlier transaction
    )
    with pytest.raises(Conflict, match="pseudonym"):
        bulk.apply_scripts(ctx, [clash])
    unnamed = CaseScript(
        ref="NEW-2", aware_on=scripts[2].aware_on, fields={"nature": "death"}, opened_on=TODAY
    )
    bulk.apply_scripts(ctx, [unnamed])
    assert cases.show_case(ctx, "NEW-2").pseudonym == "Child A"
    assert audit.verify(ctx).ok
    ctx.close()


def test_dates_are_checked_against_today_as_the_clock_moves(database_url):
    """The importer does not ask the clock for every event, but a day that begins
    during an import is still today for the steps after it, and a later date is still
    refused in the write path's words."""
    clock = FixedClock(TODAY)
    ctx = _context(database_url, clock)
    tomorrow = TODAY + dt.timedelta(days=1)

    def noted(ref: str, on: dt.date) -> CaseScript:
        return CaseScript(
            ref=ref,
            aware_on=TODAY - dt.timedelta(days=10),
            fields={"nature": "death"},
            steps=(Step("add_note", on, {"note": "Chronologies requested."}),),
            opened_on=TODAY - dt.timedelta(days=9),
            pseudonym=f"Child {ref}",
        )

    def scripts() -> Iterator[CaseScript]:
        yield noted("DAY-1", TODAY)
        clock.advance(days=1)  # midnight passes while the import runs
        yield noted("DAY-2", tomorrow)

    result = bulk.apply_scripts(ctx, scripts(), batch_size=1)
    assert result.cases == 2
    dates = run_sql(database_url, "SELECT occurred_on FROM events WHERE case_ref = 'DAY-2'")
    assert (tomorrow.isoformat(),) in [tuple(row) for row in dates]

    later = TODAY + dt.timedelta(days=3)
    with pytest.raises(Refused) as refused:
        bulk.apply_scripts(ctx, [noted("DAY-3", later)])
    message = str(refused.value)
    assert "case DAY-3" in message and "step 1 (add_note)" in message
    assert f"is in the future (today is {tomorrow.isoformat()})" in message
    assert audit.verify(ctx).ok
    ctx.close()


def test_references_and_pseudonyms_of_a_batch_still_being_written_are_refused(database_url):
    """On SQLite a batch is prepared while the one before is written: what that batch
    adds must already count, as it would if it had been committed."""
    scripts = _scripts(3, seed=13)
    ctx = _context(database_url, FixedClock(TODAY))
    with pytest.raises(Conflict, match="already exists") as refused:
        bulk.apply_scripts(ctx, [scripts[0], scripts[1], scripts[0]], batch_size=1)
    assert "the 2 cases before it were" in str(refused.value)
    again = CaseScript(
        ref="NEW-9",
        aware_on=scripts[2].aware_on,
        fields=dict(scripts[2].fields),
        opened_on=scripts[2].opened_on,
        pseudonym=scripts[2].pseudonym,
    )
    with pytest.raises(Conflict, match="pseudonym"):
        bulk.apply_scripts(ctx, [scripts[2], again], batch_size=1)
    refs = {row[0] for row in run_sql(database_url, "SELECT ref FROM cases")}
    assert refs == {scripts[0].ref, scripts[1].ref, scripts[2].ref}
    assert audit.verify(ctx).ok
    ctx.close()


def test_another_writer_between_batches_is_kept_and_the_import_completes(database_url):
    """A case opened by someone else while the import runs moves the log under the
    batch prepared meanwhile: that batch is not written from its stale position, the
    import carries on from the real one, and the log verifies with both in it."""
    scripts = _scripts(6, seed=17)
    clock = FixedClock(TODAY)
    ctx = _context(database_url, clock)
    bulk.apply_scripts(ctx, scripts[:1])
    other = ServiceContext(url=database_url, account=ACCOUNT, clock=clock)
    notes: list[int] = []

    def meanwhile(events: int) -> None:
        if not notes:  # once, after the first batch of the import below is committed
            cases.open_case(other, "LATE-1", aware_on=TODAY, fields={"nature": "death"})
            notes.append(run_sql(database_url, "SELECT MAX(seq) FROM events")[0][0])

    result = bulk.apply_scripts(ctx, scripts[1:], batch_size=2, progress=meanwhile)
    assert result.cases == 5
    assert result.events == sum(1 + len(s.steps) for s in scripts[1:])
    refs = [row[0] for row in run_sql(database_url, "SELECT ref FROM cases ORDER BY id")]
    assert refs == [s.ref for s in scripts[:3]] + ["LATE-1"] + [s.ref for s in scripts[3:]]
    late = run_sql(database_url, "SELECT seq FROM events WHERE case_ref = 'LATE-1'")
    assert late == [(notes[0],)]
    head = run_sql(database_url, "SELECT seq FROM chain_head")[0][0]
    assert head == result.head_seq == run_sql(database_url, "SELECT MAX(seq) FROM events")[0][0]
    assert audit.verify(ctx).ok
    other.close()
    ctx.close()


def test_a_failure_while_preparing_leaves_every_committed_batch_counted(database_url):
    """Something other than a refused step (here the scripts themselves fail) stops the
    import while a batch is being written: that batch is committed and reported, so
    what progress said matches what the database holds."""
    scripts = _scripts(6, seed=19)

    def failing() -> Iterator[CaseScript]:
        yield from scripts[:3]
        raise InvalidInput("row 4 of the import file cannot be read")

    ctx = _context(database_url, FixedClock(TODAY))
    before = run_sql(database_url, "SELECT COUNT(*) FROM events")[0][0]
    reported: list[int] = []
    with pytest.raises(InvalidInput, match="row 4"):
        bulk.apply_scripts(ctx, failing(), batch_size=1, progress=reported.append)
    after = run_sql(database_url, "SELECT COUNT(*) FROM events")[0][0]
    assert sum(reported) == after - before == sum(1 + len(s.steps) for s in scripts[:3])
    assert audit.verify(ctx).ok
    ctx.close()


@pytest.mark.sqlite_only
def test_a_writer_that_cannot_start_reports_why(database_url, tmp_path, monkeypatch):
    """The writer process's own error reaches the caller, not a broken pipe."""

    class Misdirected(bulk._WriterProcess):
        def __init__(self, url: str, signer) -> None:
            super().__init__(f"sqlite:///{tmp_path / 'missing' / 'none.db'}", signer)

    monkeypatch.setattr(bulk, "_WriterProcess", Misdirected)
    ctx = _context(database_url, FixedClock(TODAY))
    with pytest.raises(CaseReviewError) as failed:
        bulk.apply_scripts(ctx, _scripts(60, seed=23), batch_size=30)  # > a pipe buffer
    assert not isinstance(failed.value, Refused)
    assert run_sql(database_url, "SELECT COUNT(*) FROM cases")[0][0] == 0
    ctx.close()


def _v2_case(ref: str, *steps: Step) -> CaseScript:
    return CaseScript(
        ref=ref,
        aware_on=TODAY - dt.timedelta(days=30),
        fields={"nature": "serious_harm"},
        steps=steps,
        opened_on=TODAY - dt.timedelta(days=29),
        pseudonym=f"Child {ref}",
        workflow=generate.V2_WORKFLOW,
    )


def link_to(other: str, day: dt.date) -> Step:
    return Step("link_case", day, {"linked_case": other, "relation": "sibling"}, "Siblings.")


def test_a_link_to_a_case_that_does_not_exist_is_refused_as_the_write_path_refuses(
    database_url,
):
    ctx = _context(database_url, FixedClock(TODAY))
    day = TODAY - dt.timedelta(days=20)
    link = Step("link_case", day, {"linked_case": "NOPE-1", "relation": "sibling"}, "Siblings.")
    with pytest.raises(CaseReviewError) as refused:
        bulk.apply_scripts(ctx, [_v2_case("LINK-1", link)])
    assert "no case 'NOPE-1'" in str(refused.value)
    assert run_sql(database_url, "SELECT COUNT(*) FROM cases") == [(0,)]
    # A case of the same import, or one already recorded, can be linked.
    bulk.apply_scripts(ctx, [_v2_case("LINK-2"), _v2_case("LINK-3", link_to("LINK-2", day))])
    bulk.apply_scripts(ctx, [_v2_case("LINK-4", link_to("LINK-2", day))])
    assert audit.verify(ctx).ok
    ctx.close()


def test_a_step_that_needs_an_action_plan_is_refused_as_the_write_path_refuses(database_url):
    """Version 2 approves an action plan only once it has an action; a scripted case has
    no plan events, so the bulk write refuses the step as `case advance` would."""
    ctx = _context(database_url, FixedClock(TODAY))
    day = TODAY - dt.timedelta(days=20)
    script = _v2_case(
        "PLAN-1",
        Step("start_local_review", day, {"review_type": "learning_review"}, "Local learning."),
        Step("complete_local_review", day, {"learning_activity": "An event"}, "Done."),
        Step("approve_action_plan", day, {}, "Approved."),
    )
    with pytest.raises(Refused) as refused:
        bulk.apply_scripts(ctx, [script])
    assert "step 3 (approve_action_plan)" in str(refused.value)
    assert "needs at least one recommendation with an action" in str(refused.value)
    assert run_sql(database_url, "SELECT COUNT(*) FROM cases") == [(0,)]
    ctx.close()


def test_a_linked_case_in_another_batch_cannot_follow_its_lead(database_url, second_database_url):
    """A lead's step reaches its linked cases only within one batch, kept for it: a child
    that does not ask to stay with the next script is refused with its lead, not
    skipped, whether or not it happens to share the lead's batch."""
    scripts = _scripts(30, seed=11, v2_share=0.5)
    child, lead = scripts[18], scripts[19]
    assert child.keep_with_next
    ctx = _context(database_url, FixedClock(TODAY))
    apart = dataclasses.replace(child, keep_with_next=False)
    with pytest.raises(Refused) as refused:
        bulk.apply_scripts(ctx, [apart, lead], batch_size=1)
    assert f"linked case {child.ref} takes" in str(refused.value)
    assert "was not kept for it" in str(refused.value)
    assert {r[0] for r in run_sql(database_url, "SELECT ref FROM cases")} == {child.ref}
    together = [
        dataclasses.replace(s, ref=f"X{s.ref}", pseudonym=f"{s.pseudonym} X") for s in (apart, lead)
    ]
    lead_steps = [
        dataclasses.replace(step, fields={**step.fields, "linked_case": f"X{child.ref}"})
        if step.trigger == "link_case"
        else step
        for step in together[1].steps
    ]
    together[1] = dataclasses.replace(together[1], steps=tuple(lead_steps))
    with pytest.raises(Refused, match="was not kept for it"):
        bulk.apply_scripts(ctx, together, batch_size=10)
    ctx.close()
    # Kept with its lead, the child is in the lead's batch, however small the batches.
    other = _context(second_database_url, FixedClock(TODAY))
    result = bulk.apply_scripts(other, [child, lead], batch_size=1)
    followed = _followed(second_database_url)
    assert followed > 0
    assert result.events == 2 + len(child.steps) + len(lead.steps) + followed
    assert audit.verify(other).ok
    other.close()
