"""Whole cases through the England workflow, with clock dates checked against the
worked examples in the domain reference (day 0 = anchor)."""

from __future__ import annotations

from casereview.services import audit, cases


def clock(view, clock_id):
    found = {c.clock_id: c for c in view.clocks}
    return found[clock_id]


def advance(world, who, day, trigger, rationale=None, **fields):
    world.on(day)
    return cases.advance(
        world.as_(who),
        "2025-001",
        trigger,
        rationale=rationale,
        fields={k: str(v) for k, v in fields.items()},
    )


def open_case(world, day="2025-06-02", aware="2025-06-02", ref="2025-001"):
    import datetime as dt

    world.on(day)
    return cases.open_case(
        world.as_("bu"), ref, aware_on=dt.date.fromisoformat(aware), fields={"nature": "death"}
    )


def rapid_review_to_panel(world, recommendation="lcspr", notify=True):
    if notify:
        advance(world, "bu", "2025-06-09", "notify", sin_reference="SIN-0001")
    advance(
        world,
        "chair",
        "2025-06-20",
        "propose_decision",
        "criteria met",
        recommendation=recommendation,
    )
    advance(world, "la", "2025-06-23", "sign_off")
    advance(world, "police", "2025-06-24", "sign_off")
    advance(world, "icb", "2025-06-25", "sign_off")
    return advance(world, "bu", "2025-06-27", "submit_rapid_review")


def test_full_lcspr_path_with_hold_reschedule_and_action_plan(world):
    view = open_case(world)
    assert view.state == "screening"
    assert view.pseudonym == "Child A"
    # Mon 2 Jun 2025 + 5 working days = Mon 9 Jun 2025
    assert clock(view, "notification").due_on == "2025-06-09"

    result = advance(world, "bu", "2025-06-09", "notify", sin_reference="SIN-0001")
    assert (result.from_state, result.to_state) == ("screening", "rapid_review")
    shown = cases.show_case(world.as_("bu"), "2025-001")
    assert clock(shown, "notification").status == "met"
    # Variant A: 15 working days after the SIN sent on Mon 9 Jun 2025 = Mon 30 Jun 2025
    assert clock(shown, "rapid_review").due_on == "2025-06-30"

    result = rapid_review_to_panel(world, notify=False)
    assert result.to_state == "awaiting_panel"
    shown = cases.show_case(world.as_("bu"), "2025-001")
    assert clock(shown, "rapid_review").status == "met"
    assert clock(shown, "panel_response").due_on == "2025-07-11"

    advance(
        world, "chair", "2025-07-08", "commission_lcspr", "Panel agreed", panel_position="agreed"
    )
    shown = cases.show_case(world.as_("bu"), "2025-001")
    assert shown.state == "lcspr_commissioning"
    assert clock(shown, "panel_response").status == "met"
    assert clock(shown, "lcspr_publication").due_on == "2026-01-08"

    advance(
        world,
        "chair",
        "2025-07-15",
        "appoint_reviewer",
        reviewer="Independent reviewer",
        scope_from="2024-01-01",
        scope_to="2025-06-02",
    )
    advance(world, "chair", "2025-08-01", "record_progress_check", note="on track")
    advance(world, "bu", "2025-08-20", "receive_draft")
    advance(world, "chair", "2025-08-22", "request_changes", "family chronology incomplete")
    advance(world, "bu", "2025-08-29", "receive_draft")
    advance(world, "chair", "2025-09-01", "accept_final")
    for who, day in (("la", "2025-09-02"), ("police", "2025-09-03"), ("icb", "2025-09-04")):
        advance(world, who, day, "sign_off")
    advance(
        world,
        "bu",
        "2025-09-05",
        "schedule_publication",
        planned_publication_on="2025-09-30",
        publication_form="full_report",
    )
    shown = cases.show_case(world.as_("bu"), "2025-001")
    # 7 working days before Tue 30 Sep 2025 = Fri 19 Sep 2025
    assert clock(shown, "advance_copy").due_on == "2025-09-19"

    advance(
        world,
        "chair",
        "2025-09-10",
        "hold_publication",
        "trial listed",
        hold_reason="criminal_proceedings",
        review_by="2025-10-10",
    )
    shown = cases.show_case(world.as_("bu"), "2025-001")
    assert shown.state == "publication_hold"
    publication = clock(shown, "lcspr_publication")
    assert publication.status == "paused"
    assert publication.remaining_days == 120  # 10 Sep 2025 -> 8 Jan 2026
    assert clock(shown, "hold_review").due_on == "2025-10-10"

    advance(world, "chair", "2025-10-06", "lift_hold", "verdict given")
    shown = cases.show_case(world.as_("bu"), "2025-001")
    assert shown.state == "final_signoff"
    assert clock(shown, "hold_review").status == "met"
    # Resumed on 6 Oct 2025 with 120 days left.
    assert clock(shown, "lcspr_publication").due_on == "2026-02-03"

    advance(
        world,
        "bu",
        "2025-12-01",
        "schedule_publication",
        planned_publication_on="2026-01-05",
        publication_form="full_report",
    )
    shown = cases.show_case(world.as_("bu"), "2025-001")
    # 7 working days before Mon 5 Jan 2026 = Mon 22 Dec 2025
    assert clock(shown, "advance_copy").due_on == "2025-12-22"

    advance(
        world,
        "bu",
        "2025-12-02",
        "reschedule_publication",
        "author illness",
        planned_publication_on="2026-01-14",
    )
    shown = cases.show_case(world.as_("bu"), "2025-001")
    assert clock(shown, "advance_copy").due_on == "2026-01-05"

    advance(world, "bu", "2025-12-19", "send_advance_copy")
    advance(world, "bu", "2026-01-14", "publish", url="https://example.org/reviews/child-a")
    shown = cases.show_case(world.as_("bu"), "2025-001")
    assert shown.state == "published"
    assert clock(shown, "advance_copy").status == "met"
    assert clock(shown, "lcspr_publication").status == "met"
    assert clock(shown, "publication_retention").due_on == "2027-01-14"

    advance(world, "chair", "2026-02-10", "approve_action_plan", "plan agreed by partners")
    advance(world, "bu", "2026-03-10", "record_action_update", note="2 of 5 actions complete")
    advance(world, "chair", "2026-06-01", "close", "all actions complete; impact evidenced")
    final = cases.show_case(world.as_("scrut"), "2025-001")
    assert final.state == "closed" and final.closed
    assert final.possible == ()

    report = audit.verify(world.as_("scrut"))
    assert report.ok, [str(f) for f in report.findings]
    # init (the admin and their key, then the six shipped workflow versions installed) +
    # six users, each key enrolled and confirmed + open + 26 transitions
    assert report.events == 2 + 6 + 6 + 6 * 2 + 1 + 26


def test_no_lcspr_path(world):
    open_case(world)
    rapid_review_to_panel(world, recommendation="no_lcspr")
    advance(
        world,
        "chair",
        "2025-07-08",
        "record_other_learning",
        "learning event instead",
        learning_activity="multi-agency learning event",
    )
    advance(world, "chair", "2025-07-20", "approve_action_plan", "plan agreed")
    advance(world, "chair", "2025-12-01", "close", "complete")
    shown = cases.show_case(world.as_("bu"), "2025-001")
    assert shown.state == "closed"
    assert audit.verify(world.as_("scrut")).ok


def test_national_review_path(world):
    open_case(world)
    rapid_review_to_panel(world, recommendation="national_review")
    advance(world, "chair", "2025-07-08", "panel_commissions_national_review", "Panel letter")
    shown = cases.show_case(world.as_("bu"), "2025-001")
    assert shown.state == "national_review"
    assert clock(shown, "panel_response").status == "met"
    advance(world, "chair", "2026-01-20", "approve_action_plan", "local actions on national recs")
    advance(world, "chair", "2026-06-01", "close", "complete")
    assert cases.show_case(world.as_("bu"), "2025-001").closed
    assert audit.verify(world.as_("scrut")).ok


def test_decide_not_to_notify(world):
    open_case(world)
    result = advance(world, "chair", "2025-06-04", "decide_not_to_notify", "s16C not met")
    assert result.to_state == "closed"
    shown = cases.show_case(world.as_("bu"), "2025-001")
    assert clock(shown, "notification").status == "met"
    assert shown.possible == ()


def test_as_at_reproduces_an_earlier_state_and_clocks(world):
    open_case(world)
    rapid_review_to_panel(world)
    earlier = cases.show_case(
        world.as_("bu"), "2025-001", as_at=__import__("datetime").date(2025, 6, 21)
    )
    assert earlier.state == "rapid_review_signoff"
    assert clock(earlier, "rapid_review").status == "running"
    assert clock(earlier, "rapid_review").due_on == "2025-06-30"
    assert "panel_response" not in {c.clock_id for c in earlier.clocks}
    now = cases.show_case(world.as_("bu"), "2025-001")
    assert now.state == "awaiting_panel"
