"""The annual report of a dataset entered with mistakes and then put right equals the
report of the same dataset entered correctly in the first place (tests/integration/
test_report.py, whose figures are worked out by hand), apart from its list of what was
changed after the fact, which names every correction, undo and void with who made it
and why.

The mistakes, each put right through the real services:

  2025-101  aware_on typed 2 May for 2 June; corrected the next day (in the period).
  2025-102  notified_on typed 19 Jul for 9 Jul (which made a late rapid review look on
            time); corrected on 1 Jun 2026, after the period ended.
  2025-104  not-to-notify decision recorded as 24 Jan for 14 Jan; its date corrected.
  2025-105  the withdrawal's rationale pasted from another case; corrected by the chair.
  2025-106  withdrawn by mistake on 25 Mar; the withdrawal undone the next day.
  2025-107  opened with the wrong date; the opening's date corrected.
  2025-199  a duplicate of nothing real, notified and then voided as opened in error.
"""

from __future__ import annotations

import pytest

from casereview.services import corrections, users
from casereview.services.report import build_report
from tests.conftest import enrol_keys
from tests.integration import test_report as correct
from tests.integration.test_report import (
    FY_2025_26,
    PEOPLE,
    SCRIPT,
    D,
    _World,
    act,
    open_case,
    publish,
    rapid_review,
    to_final_signoff,
)


def put_right(world, day, who, ref, **request):
    world.on(day)
    corrections.correct(world.as_(who), ref, **request)


def seq_of(world, ref, trigger, nth=0):
    from tests.conftest import run_sql

    rows = run_sql(
        world.url,
        "SELECT seq FROM events WHERE case_ref = :ref AND trigger = :trigger ORDER BY seq",
        params={"ref": ref, "trigger": trigger},
    )
    return int(rows[nth][0])


def build_with_mistakes(world):
    open_case(world, "2024-050", "2025-02-03", "Child Zulu")
    rapid_review(
        world,
        "2024-050",
        notify="2025-02-07",
        propose="2025-02-20",
        submit="2025-02-25",
        recommendation="lcspr",
    )
    to_final_signoff(
        world, "2024-050", commission="2025-03-10", position="requested_lcspr", draft="2025-08-01"
    )
    publish(world, "2024-050", schedule="2025-08-04", sent="2025-09-01", published="2025-09-15")

    open_case(world, "2025-101", "2025-05-02", "Child Alpha", opened="2025-06-02")
    put_right(
        world, "2025-06-03", "bu", "2025-101", fields={"aware_on": "2025-06-02"}, rationale="May"
    )
    rapid_review(
        world,
        "2025-101",
        notify="2025-06-09",
        propose="2025-06-20",
        submit="2025-06-30",
        recommendation="lcspr",
    )
    to_final_signoff(
        world, "2025-101", commission="2025-07-08", position="agreed", draft="2025-09-15"
    )
    act(
        world,
        "2025-101",
        "2025-10-01",
        "chair",
        "hold_publication",
        "trial",
        hold_reason="criminal_proceedings",
        review_by="2025-12-01",
    )
    act(world, "2025-101", "2025-11-01", "chair", "lift_hold", "verdict")
    publish(world, "2025-101", schedule="2025-11-03", sent="2026-01-05", published="2026-01-20")
    act(world, "2025-101", "2026-02-10", "chair", "approve_action_plan", "agreed")
    act(world, "2025-101", "2026-05-01", "chair", "close", "done")

    open_case(world, "2025-102", "2025-07-01", "Child Beta")
    act(
        world,
        "2025-102",
        "2025-07-09",
        "bu",
        "notify",
        sin_reference="SIN-2025-102",
        notified_on="2025-07-19",
    )
    act(
        world,
        "2025-102",
        "2025-07-25",
        "chair",
        "propose_decision",
        "criteria",
        recommendation="no_lcspr",
    )
    for who in ("la", "police", "icb"):
        act(world, "2025-102", "2025-07-25", who, "sign_off")
    act(world, "2025-102", "2025-07-31", "bu", "submit_rapid_review")
    act(
        world,
        "2025-102",
        "2025-08-15",
        "chair",
        "record_other_learning",
        "learning event",
        learning_activity="event",
    )
    act(world, "2025-102", "2025-09-01", "chair", "approve_action_plan", "agreed")
    act(world, "2025-102", "2026-01-15", "chair", "close", "done")

    open_case(world, "2025-103", "2025-09-01", SCRIPT)
    rapid_review(
        world,
        "2025-103",
        notify="2025-09-05",
        propose="2025-09-30",
        submit="2025-10-03",
        recommendation="lcspr",
    )
    act(world, "2025-103", "2025-10-10", "bu", "record_panel_query", summary="why?")
    act(world, "2025-103", "2025-10-20", "bu", "answer_panel", summary="because")
    to_final_signoff(
        world, "2025-103", commission="2025-11-03", position="agreed", draft="2026-02-16"
    )
    act(
        world,
        "2025-103",
        "2026-03-02",
        "chair",
        "hold_publication",
        "inquest",
        hold_reason="inquest",
        review_by="2026-04-30",
    )
    act(world, "2025-103", "2026-05-05", "chair", "lift_hold", "inquest concluded")

    open_case(world, "2025-104", "2026-01-12", "Child Delta")
    act(world, "2025-104", "2026-01-24", "chair", "decide_not_to_notify", "criteria not met")
    put_right(
        world,
        "2026-01-26",
        "chair",
        "2025-104",
        event=seq_of(world, "2025-104", "decide_not_to_notify"),
        on=D("2026-01-14"),
        rationale="decided at the meeting of the 14th",
    )

    open_case(world, "2025-105", "2026-03-02", "Child Echo")
    act(world, "2025-105", "2026-03-04", "bu", "notify", sin_reference="SIN-105")
    act(world, "2025-105", "2026-03-10", "chair", "withdraw", "text from another case")
    put_right(
        world,
        "2026-03-11",
        "chair",
        "2025-105",
        event=seq_of(world, "2025-105", "withdraw"),
        event_rationale="criteria not met after all",
        rationale="the rationale of another case was pasted",
    )

    open_case(world, "2025-106", "2026-03-16", "Child Fox")
    act(world, "2025-106", "2026-03-20", "bu", "notify", sin_reference="SIN-2025-106")
    act(world, "2025-106", "2026-03-25", "chair", "withdraw", "wrong case")
    world.on("2026-03-26")
    corrections.undo(world.as_("chair"), "2025-106", rationale="withdrew the wrong case")
    act(
        world,
        "2025-106",
        "2026-04-15",
        "chair",
        "propose_decision",
        "criteria",
        recommendation="national_review",
    )
    for who in ("la", "police", "icb"):
        act(world, "2025-106", "2026-04-15", who, "sign_off")
    act(world, "2025-106", "2026-04-21", "bu", "submit_rapid_review")
    act(world, "2025-106", "2026-05-01", "chair", "panel_commissions_national_review", "letter")

    open_case(world, "2025-107", "2026-03-23", "Child Golf", opened="2026-03-26")
    put_right(
        world,
        "2026-03-27",
        "bu",
        "2025-107",
        event=seq_of(world, "2025-107", "open"),
        on=D("2026-03-25"),
        rationale="opened on the 25th",
    )
    act(world, "2025-107", "2026-04-02", "bu", "notify", sin_reference="SIN-107")

    open_case(world, "2025-199", "2026-02-01", "Child Twin", opened="2026-02-02")
    act(world, "2025-199", "2026-02-03", "bu", "notify", sin_reference="SIN-199")
    world.on("2026-02-10")
    corrections.void(world.as_("chair"), "2025-199", rationale="duplicate of a test entry")

    put_right(
        world,
        "2026-06-01",
        "bu",
        "2025-102",
        fields={"notified_on": "2025-07-09"},
        rationale="notified on the 9th; the 19th was a typo",
    )
    world.on("2026-07-31")
    return world.as_("scrut")


@pytest.fixture(scope="module")
def mistaken(tmp_path_factory):
    world = _World(f"sqlite:///{tmp_path_factory.mktemp('report-fixed') / 'cases.db'}")
    users.init(world.as_("admin"))
    for name, roles, agency in PEOPLE:
        users.add_user(world.as_("admin"), name, name.title(), roles, agency)
    enrol_keys(world.url, *(name for name, _, _ in PEOPLE), clock=world.clock)
    yield build_with_mistakes(world)
    for ctx in world.contexts.values():
        ctx.close()


def figures(report, *, corrections: bool):
    return {
        f.id: (f.value, list(f.records()))
        for f in report.figures
        if (f.section == "corrections") is corrections
    }


def test_corrected_figures_equal_those_of_the_dataset_entered_right(mistaken, dataset):
    fixed, right = build_report(mistaken, year=2025), build_report(dataset, year=2025)
    assert figures(fixed, corrections=False) == figures(right, corrections=False)
    assert {f.id: f.value for f in fixed.figures} == {
        **FY_2025_26,
        "corrections.recorded": 7,
        "corrections.corrections": 5,
        "corrections.undos": 1,
        "corrections.voids": 1,
    }
    assert list(fixed.timeline) == list(right.timeline)
    assert fixed.by_quarter == right.by_quarter


def test_the_mistakes_were_in_the_record_until_put_right(mistaken):
    """What was believed before each correction: the figures would have been wrong."""
    from casereview.services import cases

    before = cases.show_case(mistaken, "2025-102", as_at=D("2026-05-31"))
    assert before.fields["notified_on"] == "2025-07-19"
    rapid = {c.clock_id: c for c in before.clocks}["rapid_review"]
    assert (rapid.due_on, rapid.status) == ("2025-08-08", "met")  # looked on time
    after = {c.clock_id: c for c in cases.show_case(mistaken, "2025-102").clocks}
    assert (after["rapid_review"].due_on, after["rapid_review"].status) == ("2025-07-30", "missed")
    withdrawn = cases.show_case(mistaken, "2025-106", as_at=D("2026-03-25"))
    assert withdrawn.state == "closed"


def test_the_report_lists_every_correction_undo_and_void_with_who_and_why(mistaken):
    report = build_report(mistaken, year=2025)
    listed = {
        (r["ref"], r["recorded_on"], r["change"], r["by"], r["role"]): (r["why"], r["what"])
        for r in report.figure("corrections.recorded").records()
    }
    undone = seq_of_world(mistaken, "2025-106", "withdraw")
    # People by name, with the login in brackets.
    assert listed[("2025-106", "2026-03-26", "undo", "Chair (chair)", "chair")] == (
        "withdrew the wrong case",
        f"reversed event {undone} (withdraw)",
    )
    assert listed[("2025-199", "2026-02-10", "void", "Chair (chair)", "chair")] == (
        "duplicate of a test entry",
        "voided as opened in error",
    )
    why, what = listed[("2025-102", "2026-06-01", "correction", "Bu (bu)", "business_unit")]
    assert why == "notified on the 9th; the 19th was a typo"
    assert what == f"notified_on of event {seq_of_world(mistaken, '2025-102', 'notify')}: " + (
        "2025-07-19 → 2025-07-09"
    )
    assert len(listed) == 7
    # a voided case is in no other figure
    assert all(
        r["ref"] != "2025-199"
        for f in report.figures
        if f.section != "corrections"
        for r in f.records()
    )


def seq_of_world(ctx, ref, trigger):
    from tests.conftest import run_sql

    rows = run_sql(
        ctx.url,
        "SELECT seq FROM events WHERE case_ref = :ref AND trigger = :trigger ORDER BY seq",
        params={"ref": ref, "trigger": trigger},
    )
    return int(rows[0][0])


# `dataset` is test_report's own fixture: the same cases, entered right.
dataset = correct.dataset
