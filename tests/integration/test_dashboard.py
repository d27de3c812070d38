"""The dashboard services against a real store: the due list (indexed queries), a
case's timeline and the explanation of a due date, through pauses, restarts and a
rescheduled publication."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest
from sqlalchemy import event

from casereview.errors import InvalidInput, NotFound
from casereview.presenters import explain as explain_words
from casereview.presenters import timeline as timeline_words
from casereview.services import cases, due, explain, timeline
from casereview.services.context import ServiceContext
from casereview.store import dashboard_queries as views

REF = "2025-001"


def advance(world, who, day, trigger, rationale=None, ref=REF, **fields):
    world.on(day)
    return cases.advance(
        world.as_(who),
        ref,
        trigger,
        rationale=rationale,
        fields={k: str(v) for k, v in fields.items()},
    )


def open_case(world, ref=REF, day="2025-06-02", aware="2025-06-02", pseudonym=None):
    world.on(day)
    return cases.open_case(
        world.as_("bu"),
        ref,
        aware_on=dt.date.fromisoformat(aware),
        pseudonym=pseudonym,
        fields={"nature": "death"},
    )


def to_panel(world, ref=REF, submit_on="2025-06-27"):
    advance(world, "bu", "2025-06-09", "notify", ref=ref, sin_reference="SIN-0001")
    advance(
        world,
        "chair",
        "2025-06-20",
        "propose_decision",
        "criteria met",
        ref=ref,
        recommendation="lcspr",
    )
    advance(world, "la", "2025-06-23", "sign_off", ref=ref)
    advance(world, "police", "2025-06-24", "sign_off", ref=ref)
    advance(world, "icb", "2025-06-25", "sign_off", ref=ref)
    advance(world, "bu", submit_on, "submit_rapid_review", ref=ref)


def publication_path(world, until=None):
    """One case from opening towards publication: a late rapid review, a hold that
    pauses the publication clock, a restart of the advance-copy clock and a rescheduled
    date. Stops after the trigger `until` (None: the whole path)."""
    open_case(world)
    to_panel(world, submit_on="2025-07-02")  # due Mon 30 Jun: 2 working days late
    steps = [
        ("chair", "2025-07-08", "commission_lcspr", "Panel agreed", {"panel_position": "agreed"}),
        (
            "chair",
            "2025-07-15",
            "appoint_reviewer",
            None,
            {"reviewer": "Reviewer", "scope_from": "2024-01-01", "scope_to": "2025-06-02"},
        ),
        ("bu", "2025-08-29", "receive_draft", None, {}),
        ("chair", "2025-09-01", "accept_final", None, {}),
        ("la", "2025-09-02", "sign_off", None, {}),
        ("police", "2025-09-03", "sign_off", None, {}),
        ("icb", "2025-09-04", "sign_off", None, {}),
        (
            "bu",
            "2025-09-05",
            "schedule_publication",
            None,
            {"planned_publication_on": "2025-09-30", "publication_form": "full_report"},
        ),
        (
            "chair",
            "2025-09-10",
            "hold_publication",
            "trial listed",
            {"hold_reason": "criminal_proceedings", "review_by": "2025-10-10"},
        ),
        ("chair", "2025-10-06", "lift_hold", "verdict given", {}),
        (
            "bu",
            "2025-12-01",
            "schedule_publication",
            None,
            {"planned_publication_on": "2026-01-05", "publication_form": "full_report"},
        ),
        (
            "bu",
            "2025-12-02",
            "reschedule_publication",
            "author illness",
            {"planned_publication_on": "2026-01-14"},
        ),
    ]
    for who, day, trigger, rationale, fields in steps:
        advance(world, who, day, trigger, rationale, **fields)
        if trigger == until:
            break
    return world


@pytest.fixture
def long_case(world):
    publication_path(world)
    world.on("2025-12-15")
    return world


# -- due ---------------------------------------------------------------------------


def test_due_lists_open_clocks_soonest_first_with_working_days_left(world):
    open_case(world, "A-1", day="2025-06-02", aware="2025-06-02")  # notification due 9 Jun
    open_case(world, "A-2", day="2025-06-03", aware="2025-06-03")  # due Tue 10 Jun
    advance(world, "bu", "2025-06-04", "notify", ref="A-2", sin_reference="S-2")  # RR due 25 Jun
    result = due.due_list(world.as_("bu"), as_of=dt.date(2025, 6, 11))
    rows = [(i.ref, i.clock_id, i.due_on, i.working_days_left, i.status) for i in result.items]
    assert rows == [
        ("A-1", "notification", "2025-06-09", -2, "overdue"),
        ("A-2", "rapid_review", "2025-06-25", 10, "running"),
    ]
    assert result.summary.overdue == 1
    assert result.summary.open == 2
    assert result.summary.due_next_5 == 0


def test_due_filters_within_and_overdue_but_summary_counts_everything(world):
    open_case(world, "A-1", day="2025-06-02", aware="2025-06-02")  # due Mon 9 Jun
    open_case(world, "A-2", day="2025-06-05", aware="2025-06-05")  # due Thu 12 Jun
    open_case(world, "A-3", day="2025-06-09", aware="2025-06-09")  # due Mon 16 Jun
    ctx = world.as_("bu")
    on = dt.date(2025, 6, 10)
    within = due.due_list(ctx, as_of=on, within=2)
    assert [i.ref for i in within.items] == ["A-1", "A-2"]
    assert due.due_list(ctx, as_of=on, within=4).items[-1].ref == "A-3"
    overdue = due.due_list(ctx, as_of=on, overdue_only=True)
    assert [i.ref for i in overdue.items] == ["A-1"]
    assert overdue.summary.open == 3 and overdue.summary.shown == 1
    assert overdue.summary.due_next_5 == 2
    with pytest.raises(InvalidInput):
        due.due_list(ctx, within=2, overdue_only=True)


def test_due_shows_paused_clocks_last_without_a_due_date(world):
    publication_path(world, until="hold_publication")
    result = due.due_list(world.as_("bu"), as_of=dt.date(2025, 9, 20))
    # On hold: the hold review runs; publication and the advance copy are paused.
    assert [(i.clock_id, i.status) for i in result.items] == [
        ("hold_review", "running"),
        ("advance_copy", "paused"),
        ("lcspr_publication", "paused"),
    ]
    paused = result.items[-1]
    assert paused.due_on is None and paused.working_days_left is None
    assert paused.remaining_days == 120
    assert result.summary.paused == 2
    assert due.due_list(world.as_("bu"), as_of=dt.date(2025, 9, 20), within=30).items == (
        result.items[0],
    )


def test_a_reminder_clock_is_not_open_after_its_date(world):
    publication_path(world)
    advance(world, "bu", "2025-12-19", "send_advance_copy")
    advance(world, "bu", "2026-01-14", "publish", url="https://example.org/r")
    ctx = world.as_("bu")
    # "Report kept published" ends on its date, 14 Jan 2027; nothing stops it.
    on_the_day = due.due_list(ctx, as_of=dt.date(2027, 1, 14))
    assert [(i.clock_id, i.due_on) for i in on_the_day.items] == [
        ("publication_retention", "2027-01-14")
    ]
    assert due.due_list(ctx, as_of=dt.date(2027, 1, 15)).items == ()


def _count_statements(ctx, call):
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    engine = ctx.db().engine  # opened (and migrated) before counting
    event.listen(engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return statements


@pytest.mark.parametrize("number_of_cases", [1, 12])
def test_due_runs_a_fixed_number_of_queries_whatever_the_number_of_cases(world, number_of_cases):
    for n in range(number_of_cases):
        open_case(world, f"Q-{n:02d}", day="2025-06-02", aware="2025-06-02")
        if n % 2:
            advance(world, "bu", "2025-06-03", "notify", ref=f"Q-{n:02d}", sin_reference=f"S{n}")
    ctx = world.as_("bu")
    assert ctx.calendar is not None  # built before counting: not a database query
    result: list[due.DueList] = []
    statements = _count_statements(ctx, lambda: result.append(due.due_list(ctx)))
    # The reader's own user row (read access), the counts, then dated, undated and
    # paused clocks, then the open actions' counts (none open: no page of them): never
    # a query per case.
    assert len(statements) == 6, statements
    assert "FROM users WHERE username" in statements[0]
    assert "COUNT(*)" in statements[1]
    assert all("case_clocks" in s and "JOIN cases" in s for s in statements[2:5])
    assert "COUNT(*)" in statements[5] and "case_actions" in statements[5]
    assert len(result[0].items) == number_of_cases
    limited = _count_statements(ctx, lambda: due.due_list(ctx, limit=1))
    assert len(limited) == 4  # the first page query filled the limit


def test_due_limit_keeps_the_most_urgent_and_counts_what_it_left_out(world):
    for n, day in enumerate(("2025-06-02", "2025-06-03", "2025-06-04")):
        open_case(world, f"L-{n}", day=day, aware=day)
    ctx = world.as_("bu")
    on = dt.date(2025, 6, 10)
    every = due.due_list(ctx, as_of=on)
    two = due.due_list(ctx, as_of=on, limit=2)
    assert two.items == every.items[:2]
    assert (two.summary.matching, two.summary.shown, two.summary.open) == (3, 2, 3)
    # Due 9, 10 and 11 June: on the 12th all three are late; the oldest comes first.
    overdue = due.due_list(ctx, as_of=dt.date(2025, 6, 12), overdue_only=True, limit=1)
    assert [i.ref for i in overdue.items] == ["L-0"]
    assert (overdue.summary.matching, overdue.summary.shown) == (3, 1)
    with pytest.raises(InvalidInput):
        due.due_list(ctx, limit=0)


def test_due_paging_reaches_paused_clocks_after_the_running_ones(world):
    publication_path(world, until="hold_publication")
    ctx = world.as_("bu")
    on = dt.date(2025, 9, 20)
    assert [i.clock_id for i in due.due_list(ctx, as_of=on, limit=2).items] == [
        "hold_review",
        "advance_copy",
    ]


@pytest.mark.parametrize("as_of", ["2025-06-02", "2025-06-20", "2025-07-15", "2025-09-20"])
def test_due_counts_from_sql_agree_with_counting_every_row(world, as_of):
    """The summary's SQL counts against the statuses the service computes row by row."""
    publication_path(world, until="hold_publication")
    open_case(world, "B-1", day="2025-06-02", aware="2025-06-02")
    open_case(world, "B-2", day="2025-06-16", aware="2025-06-13")
    advance(world, "bu", "2025-06-17", "notify", ref="B-2", sin_reference="S-B2")
    ctx = world.as_("bu")
    on = dt.date.fromisoformat(as_of)
    result = due.due_list(ctx, as_of=on)
    items = result.items
    s = result.summary
    assert s.open == len(items) == s.matching == s.shown
    assert s.overdue == sum(i.status == "overdue" for i in items)
    assert s.due_soon == sum(i.status == "due_soon" for i in items)
    assert s.paused == sum(i.status == "paused" for i in items)
    assert s.due_next_5 == sum(
        i.status != "overdue" and i.working_days_left is not None and i.working_days_left <= 5
        for i in items
    )
    for n in (0, 3, 10):
        within = due.due_list(ctx, as_of=on, within=n)
        expected = [
            i
            for i in items
            if i.state == "running"
            and (
                i.status == "overdue"
                or (i.working_days_left is not None and i.working_days_left <= n)
            )
        ]
        assert within.items == tuple(expected)
        assert within.summary.matching == len(expected)


def test_a_fresh_context_reads_the_same_due_list_and_case_without_sqlalchemy(world, tmp_path):
    """Read commands open the database through the driver alone: same answers."""
    publication_path(world, until="hold_publication")
    on = dt.date(2025, 9, 20)
    opened = world.as_("bu")
    expected_due = due.due_list(opened, as_of=on)
    expected_case = cases.show_case(opened, REF)
    expected_timeline = timeline.timeline(opened, REF)
    fresh = ServiceContext(url=world.url, account="bu", clock=world.clock)
    try:
        assert due.due_list(fresh, as_of=on) == expected_due
        assert cases.show_case(fresh, REF) == expected_case
        assert timeline.timeline(fresh, REF) == expected_timeline
        assert fresh._db is None  # nothing opened through SQLAlchemy
    finally:
        fresh.close()
    if not world.url.startswith("sqlite"):
        return
    script = (
        "import datetime as dt, sys\n"
        "from casereview.services.context import ServiceContext\n"
        "from casereview.services import cases, due, timeline\n"
        f"ctx = ServiceContext(url={world.url!r}, account='bu')\n"
        "due.due_list(ctx); cases.show_case(ctx, 'REF'); timeline.timeline(ctx, 'REF')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'sqlmodel')))\n"
    ).replace("REF", REF)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_another_front_end_gets_the_same_sentences_without_the_cli(long_case):
    """The timeline and the explanation in words come from services and presenters
    alone: nothing from the CLI, typer or rich is imported to produce them."""
    if not long_case.url.startswith("sqlite"):
        pytest.skip("one backend is enough for an import check")
    script = (
        "import sys\n"
        "from casereview.infra.now import FixedClock\n"
        "from casereview.services.context import ServiceContext\n"
        "from casereview.services import explain, timeline\n"
        "from casereview.presenters import explain as e, timeline as t\n"
        "import datetime as dt\n"
        f"ctx = ServiceContext(url={long_case.url!r}, account='chair',"
        " clock=FixedClock(dt.date(2025, 12, 15)))\n"
        "view = t.present(timeline.timeline(ctx, 'REF'))\n"
        "print(view.bars[0].result)\n"
        "print(e.present(explain.explain(ctx, 'REF', 'rapid_review')).outcome)\n"
        "front = ('casereview.cli', 'typer', 'rich', 'click')\n"
        "print(sorted(m for m in sys.modules if m.startswith(front)))\n"
    ).replace("REF", REF)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines() == [
        "met on the due date",
        "Rapid review to the Panel stopped by submit_rapid_review on working day 17 of 15: "
        "2 working days late",
        "[]",
    ]


def test_the_due_queries_are_served_by_the_clock_index(world):
    if not world.url.startswith("sqlite"):
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    open_case(world)
    params = {
        "no": False,
        "as_of": "2025-06-02",
        "before": "2025-06-20",
        "next_before": "2025-06-10",
        "within_before": "",
    }
    with world.as_("bu").db().reading() as conn:

        def plan(sql):
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
            return " | ".join(str(row[-1]) for row in rows)

        counts = plan(views.COUNTS_SQL)
        dated = plan(views.DATED_SQL) + plan(views.DATED_BEFORE_SQL)
    assert "USING COVERING INDEX ix_case_clocks_due" in counts
    assert "USING INDEX ix_case_clocks_due" in dated
    assert "SCAN k" not in counts + dated


# -- timeline ------------------------------------------------------------------------


def _notes(view):
    return [
        (e.on, n.change, n.clock_id) for e in view.entries if e.kind == "event" for n in e.clocks
    ]


def test_timeline_interleaves_events_clock_changes_and_due_dates(long_case):
    view = timeline_words.present(timeline.timeline(long_case.as_("chair"), REF))
    kinds = [(e.on, e.kind) for e in view.entries]
    assert kinds == sorted(kinds, key=lambda k: k[0])  # chronological
    first = view.entries[0]
    assert first.kind == "event" and first.trigger == "open" and first.to_state == "screening"
    texts = [n.text for e in view.entries if e.kind == "event" for n in e.clocks]
    assert (
        "Rapid review to the Panel started: due 2025-06-30 "
        "(15 working days after notified_on 2025-06-09)"
    ) in texts
    assert (
        "Rapid review to the Panel stopped by submit_rapid_review on working day 17 of 15: "
        "2 working days late"
    ) in texts
    passed = [e for e in view.entries if e.kind == "due_passed"]
    assert [(p.clock_id, p.due_on) for p in passed] == [("rapid_review", "2025-06-30")]
    # The due date passed between the sign-offs and the late submission.
    index = view.entries.index(passed[0])
    assert view.entries[index - 1].on <= "2025-06-30" < view.entries[index + 1].on
    notes = _notes(view)
    assert ("2025-09-10", "paused", "lcspr_publication") in notes
    assert ("2025-10-06", "resumed", "lcspr_publication") in notes
    assert ("2025-10-06", "stopped", "hold_review") in notes
    assert ("2025-12-01", "restarted", "advance_copy") in notes
    assert ("2025-12-02", "moved", "advance_copy") in notes
    moved = next(
        n for e in view.entries if e.kind == "event" for n in e.clocks if n.change == "moved"
    )
    assert moved.text == (
        "Advance copy before publication due date moved from 2025-12-22 to 2026-01-05 "
        "(planned_publication_on changed to 2026-01-14)"
    )
    resumed = next(
        n for e in view.entries if e.kind == "event" for n in e.clocks if n.change == "resumed"
    )
    assert "120 days left, now due 2026-02-03" in resumed.text


def test_timeline_keeps_who_decided_and_who_recorded(world):
    open_case(world)
    world.on("2025-06-05")
    cases.advance(
        world.as_("bu"),
        REF,
        "decide_not_to_notify",
        rationale="criteria not met",
        on_behalf_of="chair",
    )
    view = timeline_words.present(timeline.timeline(world.as_("bu"), REF))
    last = view.entries[-1]
    assert (last.actor, last.on_behalf_of, last.role) == ("bu", "chair", "chair")
    assert last.rationale == "criteria not met"
    assert [n.status for n in last.clocks] == ["met"]
    assert view.closed and view.now == ()


def test_timeline_bars_show_overrun_pauses_and_restarts(long_case):
    view = timeline_words.present(timeline.timeline(long_case.as_("chair"), REF))
    bars = {(b.clock_id, b.run): b for b in view.bars}
    rapid = bars[("rapid_review", 1)]
    assert (rapid.planned_to, rapid.actual_to, rapid.status, rapid.overrun) == (
        "2025-06-30",
        "2025-07-02",
        "missed",
        2,
    )
    first_copy = bars[("advance_copy", 1)]
    assert first_copy.status == "restarted" and first_copy.actual_to == "2025-12-01"
    second_copy = bars[("advance_copy", 2)]
    assert second_copy.open and second_copy.planned_to == "2026-01-05"
    publication = bars[("lcspr_publication", 1)]
    assert publication.pauses == (("2025-09-10", "2025-10-06"),)
    assert publication.overrun == 0
    assert view.axis_from == "2025-06-02" and view.axis_to >= "2026-01-05"


def test_timeline_of_an_unknown_case_is_not_found(world):
    with pytest.raises(NotFound, match="no case 'nope'"):
        timeline.timeline(world.as_("bu"), "nope")


# -- explain -------------------------------------------------------------------------


def test_explain_a_working_day_clock_lists_every_counted_and_skipped_day(long_case):
    result = explain_words.present(explain.explain(long_case.as_("chair"), REF, "rapid_review"))
    assert result.anchor_field == "notified_on"
    assert result.anchor_setting == "rapid_review_anchor"
    assert (result.anchor_on, result.anchor_set_by) == ("2025-06-09", "notify")
    assert result.due_on == "2025-06-30" and result.status == "missed"
    assert result.day_zero == "anchor_is_day_0"
    calc = result.calculation
    assert calc is not None and calc.result == dt.date(2025, 6, 30)
    assert len(calc.counted) == 15
    assert [s.reason for s in calc.skipped] == ["Saturday", "Sunday"] * 3
    assert result.outcome.endswith("2 working days late")


def test_explain_a_resumed_clock_counts_from_the_resumption(long_case):
    result = explain_words.present(
        explain.explain(long_case.as_("chair"), REF, "lcspr_publication")
    )
    assert result.base_due_on == "2026-01-08"
    assert result.due_on == "2026-02-03"
    assert [(p.paused_on, p.paused_in, p.resumed_on, p.remaining) for p in result.pauses] == [
        ("2025-09-10", "publication_hold", "2025-10-06", 120)
    ]
    assert "Resumed on Mon 2025-10-06 with 120 days left" in result.calculation_text
    assert result.calculation_text.endswith("is Tue 2026-02-03.")


def test_explain_a_moved_deadline_shows_the_reprojection(long_case):
    result = explain_words.present(
        explain.explain(long_case.as_("chair"), REF, "Advance copy before publication")
    )
    assert result.clock_id == "advance_copy"
    assert [(m.on, m.trigger, m.anchor_on, m.due_from, m.due_to) for m in result.moves] == [
        ("2025-12-02", "reschedule_publication", "2026-01-14", "2025-12-22", "2026-01-05")
    ]
    assert result.earlier_runs == (("2025-09-05", "2025-12-01"),)
    calc = result.calculation
    assert calc is not None and calc.direction == "before"
    assert calc.anchor == dt.date(2026, 1, 14) and calc.result == dt.date(2026, 1, 5)
    assert {s.reason for s in calc.skipped} == {"Saturday", "Sunday"}


def test_explain_unknown_or_unstarted_clock_lists_the_case_clocks(world):
    open_case(world)
    with pytest.raises(NotFound) as unknown:
        explain.explain(world.as_("bu"), REF, "nope")
    assert "has no clock 'nope'" in unknown.value.message
    assert "its clocks: notification" in unknown.value.message
    with pytest.raises(NotFound) as waiting:
        explain.explain(world.as_("bu"), REF, "rapid_review")
    assert "has not started" in waiting.value.message
    assert "not started yet: rapid_review" in waiting.value.message


# -- due by clock ----------------------------------------------------------------------


def test_due_by_clock_lists_and_counts_only_those_clocks(world):
    publication_path(world, until="hold_publication")
    for n, day in enumerate(("2025-06-02", "2025-06-03")):
        open_case(world, f"K-{n}", day=day, aware=day)
    ctx = world.as_("bu")
    on = dt.date(2025, 9, 20)
    every = due.due_list(ctx, as_of=on)
    ids = {i.clock_id for i in every.items}
    assert {"hold_review", "advance_copy"} <= ids and len(ids) > 2
    one = due.due_list(ctx, as_of=on, clocks=["hold_review"])
    assert [i.clock_id for i in one.items] == ["hold_review"]
    assert one.clocks == ("hold_review",)
    assert one.summary.open == one.summary.matching == 1
    assert one.summary.open < every.summary.open
    two = due.due_list(ctx, as_of=on, clocks=["advance_copy", "hold_review", "advance_copy"])
    assert two.clocks == ("advance_copy", "hold_review")  # once each, as given
    assert sorted(i.clock_id for i in two.items) == ["advance_copy", "hold_review"]
    assert two.items == tuple(i for i in every.items if i.clock_id in two.clocks)
    # The counts agree with counting the rows the filter keeps, for every count.
    kept = [i for i in every.items if i.clock_id in two.clocks]
    assert two.summary.open == len(kept)
    assert two.summary.overdue == sum(i.status == "overdue" for i in kept)
    assert two.summary.paused == sum(i.status == "paused" for i in kept)
    # With another filter and a limit, and on a past day (the replayed path) alike.
    limited = due.due_list(ctx, as_of=on, clocks=["advance_copy", "hold_review"], limit=1)
    assert (limited.summary.matching, limited.summary.shown) == (2, 1)
    assert limited.items == two.items[:1]
    past = due.due_list(ctx, as_of=dt.date(2025, 6, 10), clocks=["notification"])
    assert past.items and {i.clock_id for i in past.items} == {"notification"}
    assert past.summary.open == len(past.items)


def test_due_by_clock_leaves_out_actions_and_processes_which_are_no_workflow_clock(world):
    open_case(world)
    ctx = world.as_("bu")
    listed = due.due_list(ctx, as_of=dt.date(2025, 6, 3), clocks=["notification"])
    assert {i.kind for i in listed.items} <= {"statutory", "expectation", "local"}


def test_due_by_an_unknown_clock_is_refused_naming_the_installed_clocks(world):
    open_case(world)
    ctx = world.as_("bu")
    with pytest.raises(InvalidInput) as refused:
        due.due_list(ctx, clocks=["notification", "no_such_clock"])
    message = str(refused.value)
    assert "'no_such_clock'" in message
    declared = {c.id for e in ctx.registry.list() for c in e.definition.clocks}
    assert all(c in message for c in declared)
    assert refused.value.params["clock"].name == "clock"  # the form field it points at


def test_the_due_by_clock_queries_stay_index_ordered_sql(world):
    """The clock filter is a condition of the same page queries (no re-scan in Python):
    one IN list on `clock_id` after the WHERE line, the ORDER BY kept; the counts read
    `ix_case_clocks_clock_due` alone and one clock's page comes in its due_on order."""
    one, _ = views._only(views.DATED_SQL, None, ("a",))
    two, _ = views._only(views.DATED_SQL, None, ("a", "b"))
    assert "AND k.clock_id IN (:clock_0, :clock_1)" in two
    assert two.endswith(views.DATED_SQL.rsplit("\n", 1)[1])
    assert views._only(views.COUNTS_SQL, None, ("a", "b"))[1] == {"clock_0": "a", "clock_1": "b"}
    if not world.url.startswith("sqlite"):
        return
    open_case(world)
    counts, _ = views._only(views.COUNTS_SQL, None, ("a", "b"))
    with world.as_("bu").db().reading() as conn:

        def plan(query):
            rows = conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + query,
                {
                    "no": False,
                    "as_of": "2025-06-02",
                    "next_before": "2025-06-10",
                    "within_before": "",
                    "clock_0": "a",
                    "clock_1": "b",
                },
            ).fetchall()
            return " | ".join(str(row[-1]) for row in rows)

        assert "USING COVERING INDEX ix_case_clocks_clock_due" in plan(counts)
        page = plan(one)
        assert "USING INDEX ix_case_clocks_clock_due (clock_id=? AND state=? AND due_on>?)" in page
        assert "TEMP B-TREE FOR ORDER BY" not in page  # only ties on due_on are sorted
        assert "SCAN k" not in plan(counts) + page + plan(two)
