"""`casereview report` figures on a fixed dataset whose every figure is worked out by hand.

The dataset is built through the real services. Eight cases, dates chosen to sit on the
boundaries the figures depend on:

  2024-050 Child Zulu  FY 2024-25 notified and submitted on time; Panel *requested* the
                       LCSPR (10 Mar 2025); published 15 Sep 2025 (189 days, no hold;
                       6-month due 10 Sep 2025, so late); no action plan.
  2025-101 Child Alpha aware Mon 2 Jun 2025, notified Mon 9 Jun (day 5: on time); rapid
                       review due Mon 30 Jun, submitted Mon 30 Jun (working day 15: on
                       time); LCSPR commissioned 8 Jul (Panel agreed); held 1 Oct–1 Nov
                       (31 days); published 20 Jan 2026 (196 days, 165 less the hold;
                       due 8 Jan + 31 days = 8 Feb: met); plan approved 10 Feb 2026,
                       closed 1 May 2026.
  2025-102 Child Beta  aware Tue 1 Jul 2025, notified Wed 9 Jul (due 8 Jul: 1 day late);
                       due Wed 30 Jul, submitted Thu 31 Jul (working day 16: 1 day late);
                       other learning 15 Aug; plan approved 1 Sep, closed 15 Jan 2026.
  2025-103 <script>…   aware 1 Sep 2025, notified Fri 5 Sep (on time); due Fri 26 Sep,
                       submitted Fri 3 Oct (5 working days late); Panel query 10 Oct,
                       answered 20 Oct; LCSPR commissioned 3 Nov; on hold from 2 Mar 2026
                       across the year end, lifted 5 May 2026.
  2025-104 Child Delta aware 12 Jan 2026; decided not to notify 14 Jan.
  2025-105 Child Echo  aware 2 Mar 2026, notified 4 Mar; withdrawn 10 Mar.
  2025-106 Child Fox   aware 16 Mar 2026, notified 20 Mar; rapid review due Tue 14 Apr
                       (Easter), so still under way (not overdue) at 31 Mar; submitted
                       21 Apr (5 days late); national review 1 May (as recommended).
  2025-107 Child Golf  aware Mon 23 Mar 2026 (due Mon 30 Mar), still in screening on
                       31 Mar (1 working day overdue); notified 2 Apr (3 days late);
                       rapid review due 27 Apr, still open on 30 Jun (44 days overdue).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from casereview.domain import clocks
from casereview.domain.clocks import ClockRule, EventFacts
from casereview.domain.reporting.case_facts import (
    CaseHistory,
    ReportPlan,
    cannot_count,
    case_rows,
    timeline_entry,
)
from casereview.domain.reporting.events import ReplayedEvents
from casereview.domain.reporting.figures import Period, quarters
from casereview.domain.workflow.loader import load_path
from casereview.errors import InvalidInput
from casereview.formats.report import as_csv as csv_out
from casereview.formats.report import as_html as html
from casereview.formats.report import as_json as json_out
from casereview.formats.report import as_markdown as markdown
from casereview.infra.bank_holidays import default_calendar
from casereview.infra.now import FixedClock
from casereview.services import cases, users
from casereview.services import report as report_service
from casereview.services.context import ServiceContext
from casereview.services.report import build_report, working_days_late
from tests.conftest import enrol_keys

SCRIPT = "<script>alert(1)</script>"
PEOPLE = (
    ("bu", ["business_unit"], None),
    ("chair", ["chair"], None),
    ("la", ["partner"], "local_authority"),
    ("police", ["partner"], "police"),
    ("icb", ["partner"], "icb"),
    ("scrut", ["scrutineer"], None),
)
D = dt.date.fromisoformat
ROOT = Path(__file__).resolve().parents[2]


def act(world, ref, day, who, trigger, rationale=None, **fields):
    world.on(day)
    cases.advance(
        world.as_(who),
        ref,
        trigger,
        rationale=rationale,
        fields={k: str(v) for k, v in fields.items()},
    )


def open_case(world, ref, aware, pseudonym, opened=None):
    world.on(opened or aware)
    cases.open_case(world.as_("bu"), ref, aware_on=D(aware), pseudonym=pseudonym)


def rapid_review(world, ref, *, notify, propose, submit, recommendation):
    act(world, ref, notify, "bu", "notify", sin_reference=f"SIN-{ref}")
    act(world, ref, propose, "chair", "propose_decision", "criteria", recommendation=recommendation)
    for who in ("la", "police", "icb"):
        act(world, ref, propose, who, "sign_off")
    if submit is not None:
        act(world, ref, submit, "bu", "submit_rapid_review")


def to_final_signoff(world, ref, *, commission, position, draft):
    act(world, ref, commission, "chair", "commission_lcspr", "decided", panel_position=position)
    act(
        world,
        ref,
        commission,
        "chair",
        "appoint_reviewer",
        reviewer="Reviewer",
        scope_from="2024-01-01",
        scope_to="2025-01-01",
    )
    act(world, ref, draft, "bu", "receive_draft")
    act(world, ref, draft, "chair", "accept_final")
    for who in ("la", "police", "icb"):
        act(world, ref, draft, who, "sign_off")


def publish(world, ref, *, schedule, sent, published):
    act(
        world,
        ref,
        schedule,
        "bu",
        "schedule_publication",
        planned_publication_on=published,
        publication_form="full_report",
    )
    act(world, ref, sent, "bu", "send_advance_copy")
    act(world, ref, published, "bu", "publish", url=f"https://example.org/{ref}")


def build(world):
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

    open_case(world, "2025-101", "2025-06-02", "Child Alpha")
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
    rapid_review(
        world,
        "2025-102",
        notify="2025-07-09",
        propose="2025-07-25",
        submit="2025-07-31",
        recommendation="no_lcspr",
    )
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
    act(world, "2025-104", "2026-01-14", "chair", "decide_not_to_notify", "criteria not met")

    open_case(world, "2025-105", "2026-03-02", "Child Echo")
    act(world, "2025-105", "2026-03-04", "bu", "notify", sin_reference="SIN-105")
    act(world, "2025-105", "2026-03-10", "chair", "withdraw", "criteria not met after all")

    open_case(world, "2025-106", "2026-03-16", "Child Fox")
    rapid_review(
        world,
        "2025-106",
        notify="2026-03-20",
        propose="2026-04-15",
        submit="2026-04-21",
        recommendation="national_review",
    )
    act(world, "2025-106", "2026-05-01", "chair", "panel_commissions_national_review", "letter")

    open_case(world, "2025-107", "2026-03-23", "Child Golf", opened="2026-03-25")
    act(world, "2025-107", "2026-04-02", "bu", "notify", sin_reference="SIN-107")

    world.on("2026-07-31")
    return world.as_("scrut")


class _World:
    """The integration `world`, built once for this module: the reports only read it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.clock = FixedClock(D("2025-01-06"))
        self.contexts: dict[str, ServiceContext] = {}

    def as_(self, account: str) -> ServiceContext:
        if account not in self.contexts:
            self.contexts[account] = ServiceContext(self.url, account, self.clock)
        return self.contexts[account]

    def on(self, day: str) -> _World:
        self.clock._instant = FixedClock(D(day)).now()
        return self


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    shared = _World(f"sqlite:///{tmp_path_factory.mktemp('report') / 'cases.db'}")
    users.init(shared.as_("admin"))
    for name, roles, agency in PEOPLE:
        users.add_user(shared.as_("admin"), name, name.title(), roles, agency)
    enrol_keys(shared.url, *(name for name, _, _ in PEOPLE), clock=shared.clock)
    yield build(shared)
    for ctx in shared.contexts.values():
        ctx.close()


def values(report):
    return {f.id: f.value for f in report.figures}


def refs(report, figure_id):
    return [row.ref for row in report.figure(figure_id).cases]


def detail(report, figure_id, ref):
    [row] = [r for r in report.figure(figure_id).records() if r["ref"] == ref]
    return row


V2_ONLY = (
    "notifications.only",
    "notifications.only_on_time",
    "notifications.only_escalated",
    "panel.disputed",
    "panel.maintained",
    "panel.maintained_signed",
    "panel.reconsidered",
    "local_reviews.revised_target",
    "local_reviews.published_within_revised_target",
    "local_reviews.past_revised_target",
    "publication.decided",
    "publication.full",
    "publication.redacted",
    "publication.improvements_only",
    "publication.not_published",
    "publication.not_published_with_reasons",
    "publication.despite_short_notice",
    "national_reviews.commissioned",
    "national_reviews.by_panel",
    "national_reviews.by_secretary_of_state",
    "national_reviews.local_continued",
    "national_reviews.local_superseded",
    "national_reviews.local_merged",
    "national_reviews.local_not_started",
    "national_reviews.reported",
    "local_learning.started",
    "local_learning.completed",
    "local_learning.completed_on_time",
    "local_learning.open_at_end",
    "local_learning.overdue_at_end",
)
"""Figures version 1 of the England workflow does not measure (not applicable)."""

FY_2025_26 = {
    "caseload.opened": 7,
    "caseload.closed": 3,
    "caseload.open_at_end": 5,
    "notifications.made": 5,
    "notifications.on_time": 4,
    "notifications.late": 1,
    "notifications.pending_at_end": 1,
    "notifications.overdue_at_end": 1,
    "rapid_reviews.completed": 3,
    "rapid_reviews.on_time": 1,
    "rapid_reviews.late": 2,
    "rapid_reviews.median_days_late": 3,
    "rapid_reviews.worst_days_late": 5,
    "rapid_reviews.open_at_end": 1,
    "rapid_reviews.overdue_at_end": 0,
    "decisions.local_review": 2,
    "decisions.other_learning": 1,
    "decisions.national_review": 0,
    "decisions.not_notified": 1,
    "decisions.withdrawn": 1,
    "panel.responses": 3,
    "panel.agreed_first_response": 2,
    "panel.after_query": 1,
    "panel.panel_decided": 0,
    "panel.queries": 1,
    "local_reviews.commissioned": 2,
    "local_reviews.in_progress_at_end": 1,
    "local_reviews.on_hold_at_end": 1,
    "local_reviews.held_in_period": 2,
    "local_reviews.hold_days": 31 + 30,
    "local_reviews.published": 2,
    "local_reviews.published_within_expectation": 1,
    "local_reviews.median_months_elapsed": 6.3,  # (189 + 196) / 2 = 192.5 days
    "local_reviews.median_months_adjusted": 5.8,  # (189 + 165) / 2 = 177 days
    "action_plans.approved": 2,
    "action_plans.closed": 1,
    "action_plans.open_at_end": 1,
    "corrections.recorded": 0,
    "corrections.corrections": 0,
    "corrections.undos": 0,
    "corrections.voids": 0,
    # Version 1 measures these of the figures England's version 2 added: its one review
    # in progress is on hold (not past its hold-adjusted date) and was commissioned on
    # 3 Nov (6 months: 3 May), and both published reviews took longer than 6 months
    # elapsed (Zulu 10 Mar to 15 Sep, Alpha 8 Jul to 20 Jan).
    "local_reviews.overdue_at_end": 0,
    "local_reviews.elapsed_at_end": 0,
    "local_reviews.published_within_elapsed": 0,
    # ... and none of the others: version 1's report table has no such step.
    **dict.fromkeys(V2_ONLY),
}


def test_financial_year_figures_are_the_ones_worked_out_by_hand(dataset):
    report = build_report(dataset, year=2025)
    assert (report.period.start, report.period.end) == (D("2025-04-01"), D("2026-03-31"))
    assert report.period.label == "2025-26"
    assert report.complete and report.as_at == D("2026-03-31")
    assert values(report) == FY_2025_26


def test_each_figure_lists_exactly_the_cases_behind_it(dataset):
    report = build_report(dataset, year=2025)
    for figure in report.figures:
        if figure.unit == "cases" and figure.applicable:
            assert figure.value == len(figure.cases), figure.id
        elif not figure.applicable:
            assert figure.value is None and not figure.cases, figure.id
    assert refs(report, "rapid_reviews.on_time") == ["2025-101"]
    assert refs(report, "rapid_reviews.late") == ["2025-102", "2025-103"]
    assert refs(report, "rapid_reviews.worst_days_late") == ["2025-103"]
    assert refs(report, "decisions.withdrawn") == ["2025-105"]
    assert refs(report, "local_reviews.published") == ["2024-050", "2025-101"]
    assert refs(report, "local_reviews.published_within_expectation") == ["2025-101"]
    assert refs(report, "panel.after_query") == ["2025-103"]
    assert [r.pseudonym for r in report.figure("panel.after_query").cases] == [SCRIPT]


def test_rapid_review_on_working_day_15_is_on_time_and_on_day_16_late(dataset):
    report = build_report(dataset, year=2025)
    alpha = detail(report, "rapid_reviews.completed", "2025-101")
    assert alpha["counted_from"] == "2025-06-09"
    assert alpha["due_on"] == alpha["submitted_on"] == "2025-06-30"
    assert (alpha["working_days_late"], alpha["on_time"]) == (0, True)
    beta = detail(report, "rapid_reviews.completed", "2025-102")
    assert (beta["due_on"], beta["submitted_on"]) == ("2025-07-30", "2025-07-31")
    assert (beta["working_days_late"], beta["on_time"]) == (1, False)
    assert detail(report, "rapid_reviews.late", "2025-103")["working_days_late"] == 5


def test_notification_deadline_is_five_working_days_after_awareness(dataset):
    report = build_report(dataset, year=2025)
    alpha = detail(report, "notifications.made", "2025-101")
    assert (alpha["aware_on"], alpha["due_on"], alpha["notified_on"]) == (
        "2025-06-02",
        "2025-06-09",
        "2025-06-09",
    )
    assert alpha["on_time"] is True
    beta = detail(report, "notifications.late", "2025-102")
    assert (beta["due_on"], beta["notified_on"], beta["working_days_late"]) == (
        "2025-07-08",
        "2025-07-09",
        1,
    )


def test_cases_still_open_at_period_end(dataset):
    report = build_report(dataset, year=2025)
    assert refs(report, "caseload.open_at_end") == [
        "2024-050",
        "2025-101",
        "2025-103",
        "2025-106",
        "2025-107",
    ]
    golf = detail(report, "notifications.overdue_at_end", "2025-107")
    assert (golf["due_on"], golf["working_days_overdue"]) == ("2026-03-30", 1)
    fox = detail(report, "rapid_reviews.open_at_end", "2025-106")
    assert (fox["due_on"], fox["state_at_end"], fox["working_days_overdue"]) == (
        "2026-04-14",
        "rapid_review",
        0,
    )
    # Events after the period (Fox's late submission, Golf's notification) are not counted.
    assert "2025-106" not in refs(report, "rapid_reviews.completed")
    assert "2025-107" not in refs(report, "notifications.made")


def test_hold_spanning_the_period_end(dataset):
    report = build_report(dataset, year=2025)
    held = detail(report, "local_reviews.on_hold_at_end", "2025-103")
    assert (held["held_since"], held["review_by"]) == ("2026-03-02", "2026-04-30")
    # Due 3 May 2026 (6 months from 3 Nov); held 2 Mar with 62 days left: were the hold
    # lifted on 31 Mar, it would fall due on 1 Jun.
    running = detail(report, "local_reviews.in_progress_at_end", "2025-103")
    assert (running["state_at_end"], running["due_on"]) == ("publication_hold", "2026-06-01")
    spells = {r["ref"]: r for r in report.figure("local_reviews.hold_days").records()}
    assert spells["2025-101"] == {
        "ref": "2025-101",
        "pseudonym": "Child Alpha",
        "held_from": "2025-10-01",
        "held_to": "2025-11-01",
        "days_in_period": 31,
    }
    # 2 March to 31 March inclusive; the hold ended only in May.
    assert (spells["2025-103"]["held_to"], spells["2025-103"]["days_in_period"]) == (None, 30)


def test_publication_time_elapsed_and_hold_adjusted(dataset):
    report = build_report(dataset, year=2025)
    alpha = detail(report, "local_reviews.published", "2025-101")
    assert (alpha["elapsed_days"], alpha["held_days"], alpha["adjusted_days"]) == (196, 31, 165)
    assert (alpha["elapsed_months"], alpha["adjusted_months"]) == (6.4, 5.4)
    assert (alpha["due_on"], alpha["within_expectation"]) == ("2026-02-08", True)
    zulu = detail(report, "local_reviews.published", "2024-050")
    assert (zulu["elapsed_days"], zulu["held_days"], zulu["due_on"]) == (189, 0, "2025-09-10")
    assert zulu["within_expectation"] is False


def test_rapid_reviews_by_quarter(dataset):
    report = build_report(dataset, year=2025)
    assert [(q.quarter.label, q.on_time, q.late) for q in report.by_quarter] == [
        ("2025-26 Q1", 1, 0),
        ("2025-26 Q2", 0, 1),
        ("2025-26 Q3", 0, 1),
        ("2025-26 Q4", 0, 0),
    ]
    assert not any(q.quarter.partial for q in report.by_quarter)


def test_period_split_across_financial_years(dataset):
    report = build_report(dataset, start=D("2026-01-01"), end=D("2026-06-30"))
    assert report.period.label == "2026-01-01 to 2026-06-30"
    assert report.period.financial_year is None
    got = values(report)
    expected = {
        "caseload.opened": 4,
        "caseload.closed": 4,
        "caseload.open_at_end": 4,
        "notifications.made": 3,
        "notifications.on_time": 2,
        "notifications.late": 1,
        "notifications.pending_at_end": 0,
        "rapid_reviews.completed": 1,
        "rapid_reviews.on_time": 0,
        "rapid_reviews.late": 1,
        "rapid_reviews.median_days_late": 5,
        "rapid_reviews.worst_days_late": 5,
        "rapid_reviews.open_at_end": 1,
        "rapid_reviews.overdue_at_end": 1,
        "decisions.local_review": 0,
        "decisions.national_review": 1,
        "decisions.not_notified": 1,
        "decisions.withdrawn": 1,
        "panel.responses": 1,
        "panel.agreed_first_response": 1,
        "local_reviews.commissioned": 0,
        "local_reviews.in_progress_at_end": 1,
        "local_reviews.on_hold_at_end": 0,
        "local_reviews.held_in_period": 1,
        "local_reviews.hold_days": 64,
        "local_reviews.published": 1,
        "local_reviews.median_months_elapsed": 6.4,
        "local_reviews.median_months_adjusted": 5.4,
        "action_plans.approved": 1,
        "action_plans.closed": 2,
        "action_plans.open_at_end": 0,
    }
    assert {k: got[k] for k in expected} == expected
    golf = detail(report, "rapid_reviews.overdue_at_end", "2025-107")
    assert (golf["due_on"], golf["working_days_overdue"]) == ("2026-04-27", 44)
    assert detail(report, "notifications.late", "2025-107")["working_days_late"] == 3
    assert [(q.quarter.label, q.on_time, q.late) for q in report.by_quarter] == [
        ("2025-26 Q4", 0, 0),
        ("2026-27 Q1", 0, 1),
    ]
    # Each financial year counts the events that happened in it; the two halves add up.
    first = build_report(dataset, start=D("2026-01-01"), end=D("2026-03-31"))
    second = build_report(dataset, start=D("2026-04-01"), end=D("2026-06-30"))
    for figure_id in ("notifications.made", "rapid_reviews.completed", "caseload.closed"):
        assert values(first)[figure_id] + values(second)[figure_id] == got[figure_id]
    assert values(first)["local_reviews.hold_days"] == 30
    assert values(second)["local_reviews.hold_days"] == 34


def test_previous_financial_year(dataset):
    got = values(build_report(dataset, year=2024))
    assert got["notifications.made"] == got["notifications.on_time"] == 1
    assert got["rapid_reviews.completed"] == got["rapid_reviews.on_time"] == 1
    assert got["panel.responses"] == got["panel.panel_decided"] == 1
    assert got["local_reviews.in_progress_at_end"] == 1
    assert got["rapid_reviews.median_days_late"] is None
    assert got["local_reviews.median_months_elapsed"] is None


def test_default_period_is_the_current_financial_year_to_date(world):
    open_case(world, "2025-201", "2025-06-02", "Child Hotel")
    rapid_review(
        world,
        "2025-201",
        notify="2025-06-04",
        propose="2025-06-10",
        submit="2025-06-12",
        recommendation="lcspr",
    )
    to_final_signoff(
        world, "2025-201", commission="2025-06-20", position="agreed", draft="2025-09-01"
    )
    act(
        world,
        "2025-201",
        "2025-10-01",
        "chair",
        "hold_publication",
        "trial",
        hold_reason="criminal_proceedings",
        review_by="2025-11-01",
    )
    report = build_report(world.on("2025-10-15").as_("scrut"))
    assert report.period.label == "2025-26"
    assert not report.complete
    assert report.as_at == D("2025-10-15")
    # Days on hold count to today, not to 31 March.
    assert report.figure("local_reviews.hold_days").value == 15
    assert report.figure("local_reviews.on_hold_at_end").value == 1
    [case] = report.timeline
    [lane] = [lane for lane in case.lanes if lane.clock_id == "lcspr_publication"]
    assert lane.status == "paused"
    # 6 months from 20 Jun is 20 Dec; paused 1 Oct with 80 days left; if the hold ended
    # on 15 Oct the review would be due 80 days later.
    assert lane.due_on == D("2026-01-03")


def test_january_falls_in_the_financial_year_that_began_the_april_before(world):
    report = build_report(world.on("2026-02-10").as_("scrut"))
    assert (report.period.start, report.period.end) == (D("2025-04-01"), D("2026-03-31"))
    assert report.figure("caseload.opened").value == 0
    assert report.timeline == ()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"year": 2025, "start": D("2025-04-01")}, "cannot be combined"),
        ({"start": D("2025-04-01")}, "give both from and to"),
        ({"end": D("2025-04-01")}, "give both from and to"),
        ({"start": D("2025-05-01"), "end": D("2025-04-01")}, "after to"),
        ({"year": 2030}, "after today"),
    ],
)
def test_conflicting_or_inverted_periods_are_refused(world, options, message):
    with pytest.raises(InvalidInput, match=message):
        build_report(world.on("2026-01-05").as_("scrut"), **options)


def test_explicit_dates_matching_a_financial_year_are_named_as_one(world):
    report = build_report(
        world.on("2026-05-01").as_("scrut"), start=D("2025-04-01"), end=D("2026-03-31")
    )
    assert report.period.financial_year == "2025-26"


def test_timeline_holds_every_case_open_in_the_period(dataset):
    report = build_report(dataset, year=2025)
    # Delta (closed 14 Jan 2026) and Zulu (open since 2025) are in; all eight cases are.
    assert [c.ref for c in report.timeline] == [
        "2024-050",
        "2025-101",
        "2025-102",
        "2025-103",
        "2025-104",
        "2025-105",
        "2025-106",
        "2025-107",
    ]
    alpha = next(c for c in report.timeline if c.ref == "2025-101")
    lanes = {lane.clock_id: lane for lane in alpha.lanes}
    assert "publication_retention" not in lanes  # a reminder, not a window
    assert lanes["rapid_review"].due_on == lanes["rapid_review"].stopped_on == D("2025-06-30")
    assert lanes["rapid_review"].status == "met"
    assert lanes["lcspr_publication"].pauses == ((D("2025-10-01"), D("2025-11-01")),)
    zulu = next(c for c in report.timeline if c.ref == "2024-050")
    assert "notification" not in {lane.clock_id for lane in zulu.lanes}  # ended in Feb 2025


def test_cases_opened_after_the_period_are_left_out(dataset):
    report = build_report(dataset, start=D("2025-04-01"), end=D("2025-06-30"))
    assert [c.ref for c in report.timeline] == ["2024-050", "2025-101"]
    assert report.figure("caseload.open_at_end").value == 2


def test_a_weekend_step_after_the_deadline_is_late_by_the_next_working_day():
    cal = default_calendar()
    due = D("2025-06-27")  # Friday
    assert working_days_late(cal, due, D("2025-06-27")) == 0
    assert working_days_late(cal, due, D("2025-06-28")) == 1  # Saturday: as if Monday
    assert working_days_late(cal, due, D("2025-06-30")) == 1
    assert working_days_late(cal, due, D("2025-06-20")) == 0
    assert working_days_late(cal, None, D("2025-06-30")) == 0
    assert working_days_late(cal, D("2025-12-24"), D("2025-12-27")) == 1  # 29 Dec


# -- streaming: cases passed over, packed rows, documents written in pieces ----------------


def everything(report):
    """All a writer can see: figures with the cases behind them, quarters, timeline."""
    return (
        report.period,
        report.generated_on,
        [
            (f.id, f.label, f.value, f.unit, f.part_of, f.columns, list(f.cases))
            for f in report.figures
        ],
        report.by_quarter,
        list(report.timeline),
    )


@pytest.mark.parametrize(
    ("period", "passed_over"),
    [
        ({"year": 2025}, 0),
        # Beta (closed 15 Jan), Delta (not notified 14 Jan), Echo (withdrawn 10 Mar).
        ({"year": 2026}, 3),
        ({"start": D("2026-03-11"), "end": D("2026-03-31")}, 3),
        ({"start": D("2026-03-10"), "end": D("2026-03-31")}, 2),  # Echo closes that day
        ({"start": D("2025-04-01"), "end": D("2025-06-30")}, 0),
    ],
)
def test_cases_passed_over_without_their_clocks_would_have_counted_nowhere(
    dataset, monkeypatch, period, passed_over
):
    verdicts: list[bool] = []

    def recording(*args):
        verdicts.append(cannot_count(*args))
        return verdicts[-1]

    monkeypatch.setattr(report_service, "cannot_count", recording)
    quick = build_report(dataset, **period)
    assert verdicts.count(True) == passed_over
    monkeypatch.setattr(report_service, "cannot_count", lambda *args: False)
    assert everything(quick) == everything(build_report(dataset, **period))


NOTIFICATION = ClockRule(
    id="notification",
    label="Notification",
    kind="statutory",
    budget=5,
    unit="working_days",
    direction="after",
    anchor_field=None,
    day_one=False,
    warn_within=0,
    start_on=frozenset({"open"}),
    stop_on=frozenset({"notify"}),
    pause_in=frozenset(),
    reproject_on=frozenset(),
    ends_on_due=False,
)
FY = Period(D("2025-04-01"), D("2026-03-31"), "2025-26")
ENGLAND_PLAN = ReportPlan.of(load_path(ROOT / "workflows" / "england-lcspr@1.toml").report)


def history(*steps, rules=(NOTIFICATION,)):
    facts = tuple(
        EventFacts(trigger, D(day), state, {"aware_on": "2024-05-01"}, frozenset())
        for trigger, day, state in steps
    )
    return CaseHistory(
        ref="X-1",
        pseudonym="Child X",
        facts=facts,
        clocks=clocks.derive(rules, facts, default_calendar()),
        rules=rules,
        terminal_states=frozenset({"closed"}),
        plan=ENGLAND_PLAN,
    )


@pytest.mark.parametrize(
    ("steps", "passed_over", "listed"),
    [
        # Closed before the period with the notification clock stopped: nowhere.
        ((("open", "2024-05-01", "screening"), ("notify", "2024-05-03", "rapid_review"),
          ("close", "2024-06-01", "closed")), True, False),
        # Closed with the clock still running: awaiting notification at period end.
        ((("open", "2024-05-01", "screening"), ("close", "2024-06-01", "closed")), False, True),
        # Still open.
        ((("open", "2024-05-01", "screening"), ("notify", "2024-05-03", "rapid_review")),
         False, True),
        # A note in the period counts nowhere, but the case is not passed over unreplayed.
        ((("open", "2024-05-01", "screening"), ("notify", "2024-05-03", "rapid_review"),
          ("close", "2024-06-01", "closed"), ("add_note", "2025-04-01", "closed")),
         False, False),
        # Closed on the period's first day.
        ((("open", "2024-05-01", "screening"), ("notify", "2024-05-03", "rapid_review"),
          ("close", "2025-04-01", "closed")), False, True),
    ],
)  # fmt: skip
def test_a_case_is_passed_over_only_when_no_figure_lists_it(steps, passed_over, listed):
    case = history(*steps)
    cal = default_calendar()
    assert cannot_count(case.facts, case.rules, case.terminal_states, FY, case.plan) is passed_over
    rows = case_rows(case, FY, FY.end, cal, quarters(FY))
    line = timeline_entry(case, FY, FY.end, cal)
    assert (rows != [] or line is not None) is listed


@pytest.mark.parametrize(
    "period",
    [{"year": 2025}, {"year": 2026}, {"start": D("2025-10-01"), "end": D("2025-10-31")}],
)
def test_leaving_notes_and_sign_offs_out_of_the_replay_changes_no_figure(
    dataset, monkeypatch, period
):
    left_out: list[int] = []
    real = ReplayedEvents.needed

    def counting(self, events, until):
        kept = real(self, events, until)
        left_out.append(len([e for e in events if e["occurred_on"] <= str(until)]) - len(kept))
        return kept

    monkeypatch.setattr(ReplayedEvents, "needed", counting)
    quick = build_report(dataset, **period)
    assert sum(left_out) >= 15  # three sign-offs per rapid review and final report
    monkeypatch.setattr(ReplayedEvents, "needed", _keep_all_before)
    assert everything(quick) == everything(build_report(dataset, **period))


def _keep_all_before(self, events, until):
    """Replay's own cut at the period end, leaving nothing else out."""
    kept = []
    for row in events:
        if D(str(row["occurred_on"])) > until:
            break
        kept.append(row)
    return kept


def test_only_events_that_stay_put_and_set_no_case_field_are_left_out(dataset):
    from casereview.infra.workflows.registry import Registry

    definition = Registry.from_environment().get("england-lcspr", 1)
    events = ReplayedEvents(definition, clocks.rules_for(definition))
    # Left out when they set no case field; the last two always set one.
    assert events.inert_triggers == {
        "add_note",
        "sign_off",
        "record_action_update",
        "record_progress_check",
        "record_extension",
        "reschedule_publication",
    }

    def row(trigger, day, **fields):
        return {"trigger": trigger, "occurred_on": day, "fields": json.dumps(fields)}

    log = [
        row("add_note", "2025-01-01", note="first event: always kept"),
        row("add_note", "2025-01-02", note="left out"),
        row("add_note", "2025-01-03", note="sets a case field", aware_on="2025-01-01"),
        row("sign_off", "2025-01-04", agency="police"),
        row("record_extension", "2025-01-05", extension_agreed_on="2025-02-01", note="x"),
        row("add_note", "2025-02-01", note="after the period: replay stops here"),
        row("add_note", "2025-01-06", note="never reached"),
    ]
    kept = events.needed(log, D("2025-01-31"))
    assert [r["occurred_on"] for r in kept] == ["2025-01-01", "2025-01-03", "2025-01-05"]


def test_the_cases_behind_a_figure_behave_as_a_sequence(dataset):
    report = build_report(dataset, year=2025)
    for figure in report.figures:
        listed = list(figure.cases)
        assert len(figure.cases) == len(listed), figure.id
        assert figure.cases == tuple(listed)
        assert list(figure.cases) == listed  # a second pass gives the same rows
    late = report.figure("rapid_reviews.late").cases
    assert (late[0].ref, late[-1].ref, [r.ref for r in late[:1]]) == (
        "2025-102",
        "2025-103",
        ["2025-102"],
    )
    assert late != ()
    assert len(report.timeline) == 8 and report.timeline[0].ref == "2024-050"


@pytest.mark.parametrize("detail", [False, True])
def test_json_written_in_pieces_is_the_whole_document(dataset, detail):
    report = build_report(dataset, year=2025)
    pieces = list(json_out.chunks(report, detail=detail))
    whole = json.dumps(json_out.to_data(report, detail=detail), indent=2, ensure_ascii=False)
    assert "".join(pieces) == whole + "\n"
    assert len(pieces) > (40 if detail else 0)  # the lists really were streamed


@pytest.mark.parametrize(
    ("writer", "piece_size"),
    [(markdown, "_BATCH"), (csv_out, "_PIECE"), (html, "_ROWS_PER_PIECE")],
)
def test_documents_handed_out_in_small_pieces_are_unchanged(
    dataset, monkeypatch, writer, piece_size
):
    report = build_report(dataset, year=2025)
    whole = writer.render(report, detail=True)
    monkeypatch.setattr(writer, piece_size, 1)
    pieces = list(writer.chunks(report, detail=True))
    assert len(pieces) > 40
    assert "".join(pieces) == whole
