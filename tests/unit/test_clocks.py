"""Clock derivation: start, stop, pause ledger, re-projection, status words."""

from __future__ import annotations

import datetime as dt

import pytest

from casereview.domain import clocks
from casereview.domain.calendar import units
from casereview.infra.bank_holidays import default_calendar

D = dt.date.fromisoformat
CAL = default_calendar()


def rule(**overrides) -> clocks.ClockRule:
    base = dict(
        id="rapid_review",
        label="Rapid review",
        kind="expectation",
        budget=15,
        unit="working_days",
        direction="after",
        anchor_field="notified_on",
        day_one=False,
        warn_within=5,
        start_on=frozenset({"notify"}),
        stop_on=frozenset({"submit"}),
        pause_in=frozenset(),
        reproject_on=frozenset(),
        ends_on_due=False,
    )
    base.update(overrides)
    return clocks.ClockRule(**base)


def fact(trigger, day, state="s", changed=(), **fields) -> clocks.EventFacts:
    return clocks.EventFacts(trigger, D(day), state, fields, frozenset(changed))


def test_working_day_clock_due_date_and_warning_window():
    derived = clocks.derive([rule()], [fact("notify", "2026-12-10", notified_on="2026-12-10")], CAL)
    c = derived["rapid_review"]
    assert c.due_on == D("2027-01-05")
    # 5 working days before Tue 5 Jan 2027, skipping 1 Jan, 28 and 25 Dec: Thu 24 Dec
    assert c.warn_from == D("2026-12-24")
    assert clocks.status(c, D("2026-12-23")) == "running"
    assert clocks.status(c, D("2026-12-24")) == "due_soon"
    assert clocks.status(c, D("2027-01-05")) == "due_soon"
    assert clocks.status(c, D("2027-01-06")) == "overdue"


def test_day_one_rule_is_one_working_day_earlier():
    derived = clocks.derive(
        [rule(day_one=True)], [fact("notify", "2025-06-02", notified_on="2025-06-02")], CAL
    )
    assert derived["rapid_review"].due_on == D("2025-06-20")


def test_stop_before_or_on_due_is_met_after_is_missed():
    events = [fact("notify", "2025-06-02", notified_on="2025-06-02")]
    on_time = clocks.derive([rule()], [*events, fact("submit", "2025-06-23")], CAL)
    late = clocks.derive([rule()], [*events, fact("submit", "2025-06-24")], CAL)
    assert clocks.status(on_time["rapid_review"], D("2026-01-01")) == "met"
    assert clocks.status(late["rapid_review"], D("2026-01-01")) == "missed"
    assert clocks.position(late["rapid_review"], D("2025-06-24"), CAL) == clocks.Position(
        16, 15, "working_days"
    )
    assert (
        str(clocks.position(late["rapid_review"], D("2025-06-24"), CAL)) == "working day 16 of 15"
    )


def test_pause_keeps_remaining_days_and_reprojects_on_resume():
    months = rule(
        id="lcspr_publication",
        budget=6,
        unit="months",
        anchor_field=None,
        start_on=frozenset({"commission"}),
        stop_on=frozenset({"publish"}),
        pause_in=frozenset({"publication_hold"}),
    )
    events = [
        fact("commission", "2025-07-08", state="lcspr_commissioning"),
        fact("hold", "2025-09-10", state="publication_hold"),
    ]
    paused = clocks.derive([months], events, CAL)["lcspr_publication"]
    assert paused.state == "paused"
    assert paused.remaining == 120
    assert clocks.status(paused, D("2026-06-01")) == "paused"
    resumed = clocks.derive([months], [*events, fact("lift", "2025-10-06", state="final")], CAL)
    c = resumed["lcspr_publication"]
    assert c.due_on == D("2026-02-03")
    assert c.paused_days == 26
    assert c.base_due_on == D("2026-01-08")


def test_reprojection_moves_a_before_clock_when_its_anchor_changes():
    advance = rule(
        id="advance_copy",
        budget=7,
        direction="before",
        anchor_field="planned_publication_on",
        start_on=frozenset({"schedule"}),
        stop_on=frozenset({"send"}),
        reproject_on=frozenset({"planned_publication_on"}),
    )
    events = [
        fact(
            "schedule",
            "2025-09-01",
            changed=["planned_publication_on"],
            planned_publication_on="2025-09-30",
        ),
    ]
    assert clocks.derive([advance], events, CAL)["advance_copy"].due_on == D("2025-09-19")
    events.append(
        fact(
            "reschedule",
            "2025-09-02",
            changed=["planned_publication_on"],
            planned_publication_on="2023-05-10",
        )
    )
    c = clocks.derive([advance], events, CAL)["advance_copy"]
    assert c.due_on == D("2023-04-27")
    assert c.reprojections == ((D("2025-09-02"), D("2023-05-10")),)


def test_clock_restarts_from_a_later_start_event():
    panel = rule(
        id="panel_response",
        budget=10,
        anchor_field=None,
        start_on=frozenset({"submit", "answer"}),
        stop_on=frozenset({"query"}),
    )
    events = [
        fact("submit", "2025-06-27"),
        fact("query", "2025-07-01"),
        fact("answer", "2025-07-07"),
    ]
    c = clocks.derive([panel], events, CAL)["panel_response"]
    assert c.state == "running"
    assert c.started_on == D("2025-07-07")
    assert c.due_on == D("2025-07-21")


def test_reminder_clock_is_met_once_its_date_passes():
    retention = rule(
        id="publication_retention",
        budget=1,
        unit="years",
        anchor_field=None,
        start_on=frozenset({"publish"}),
        stop_on=frozenset(),
        ends_on_due=True,
        warn_within=0,
    )
    c = clocks.derive([retention], [fact("publish", "2024-02-29")], CAL)["publication_retention"]
    assert c.due_on == D("2025-02-28")
    assert clocks.status(c, D("2025-02-27")) == "running"
    assert clocks.status(c, D("2025-02-28")) == "due_soon"
    assert clocks.status(c, D("2025-03-01")) == "met"


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2025-08-31", 6, "2026-02-28"),
        ("2024-08-31", 6, "2025-02-28"),
        ("2023-08-31", 6, "2024-02-29"),
        ("2025-01-15", 12, "2026-01-15"),
        ("2025-03-31", -1, "2025-02-28"),
    ],
)
def test_add_months_clamps_to_month_end(start, months, expected):
    assert units.add_months(D(start), months) == D(expected)


def test_missing_anchor_is_reported_not_guessed():
    c = clocks.derive([rule()], [fact("notify", "2025-06-02")], CAL)["rapid_review"]
    assert c.due_on is None
    assert c.missing_anchor == "notified_on"
    assert clocks.status(c, D("2025-07-01")) == "running"


def test_history_reports_starts_stops_and_position_at_each_event():
    events = [
        fact("notify", "2025-06-02", notified_on="2025-06-02", changed=["notified_on"]),
        fact("note", "2025-06-10"),
        fact("submit", "2025-06-24"),
    ]
    moments = clocks.history([rule()], events, CAL)
    assert [c.rule.id for c in moments[0].started()] == ["rapid_review"]
    assert moments[1].started() == [] and moments[1].stopped() == []
    stopped = moments[2].stopped()
    assert [c.rule.id for c in stopped] == ["rapid_review"]
    before = moments[2].before["rapid_review"]
    assert str(clocks.position(before, D("2025-06-24"), CAL)) == "working day 16 of 15"
    assert clocks.status(stopped[0], D("2025-06-24")) == "missed"


@pytest.mark.parametrize(
    ("budget", "unit", "direction", "anchor", "expected"),
    [
        (15, "working_days", "after", "notified_on", "15 working days after notified_on"),
        (1, "working_days", "after", "notified_on", "1 working day after notified_on"),
        (7, "working_days", "before", "publication_date", "7 working days before publication_date"),
        (28, "calendar_days", "after", None, "28 calendar days after the date the clock started"),
        (1, "calendar_days", "after", None, "1 calendar day after the date the clock started"),
        (6, "months", "after", None, "6 months after the date the clock started"),
        (1, "years", "after", None, "1 year after the date the clock started"),
        (0, "months", "after", "published_on", "on published_on"),
        (0, "years", "after", None, "on the start date"),
    ],
)
def test_rules_describe_their_budget_in_their_unit(budget, unit, direction, anchor, expected):
    assert rule(budget=budget, unit=unit, direction=direction, anchor_field=anchor).describe() == (
        expected
    )


def test_a_rule_with_an_unknown_unit_cannot_project_a_due_date():
    with pytest.raises(ValueError, match="unknown clock unit 'fortnights'"):
        clocks.project_due(rule(unit="fortnights"), D("2025-06-02"), CAL)


def test_calendar_counted_positions_skip_time_on_hold():
    months = rule(
        id="lcspr_publication",
        budget=6,
        unit="months",
        anchor_field=None,
        start_on=frozenset({"commission"}),
        stop_on=frozenset({"publish"}),
        pause_in=frozenset({"publication_hold"}),
    )
    events = [
        fact("commission", "2025-07-08", state="lcspr_commissioning"),
        fact("hold", "2025-09-10", state="publication_hold"),
        fact("lift", "2025-10-06", state="final"),
    ]
    c = clocks.derive([months], events, CAL)["lcspr_publication"]
    where = clocks.position(c, D("2025-10-08"), CAL)
    # 92 days from 8 Jul to 8 Oct, less the 26 on hold; of 184 days to 8 Jan, the base due date.
    assert where == clocks.Position(66, 184, "calendar_days")
    assert str(where) == "day 66 of 184"


def test_a_working_day_pause_is_kept_in_working_days():
    held = rule(pause_in=frozenset({"on_hold"}))
    events = [
        fact("notify", "2025-06-02", notified_on="2025-06-02", changed=["notified_on"]),
        fact("hold", "2025-06-09", state="on_hold"),
    ]
    paused = clocks.derive([held], events, CAL)["rapid_review"]
    assert paused.remaining == 10  # due Mon 23 Jun; 10 working days after Mon 9 Jun
    resumed = clocks.derive([held], [*events, fact("lift", "2025-06-16")], CAL)["rapid_review"]
    assert resumed.due_on == D("2025-06-30")
    assert str(clocks.position(resumed, D("2025-06-20"), CAL)) == "working day 9 of 15"
