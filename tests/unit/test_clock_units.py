"""Clock units: each strategy's due dates, counts, pause arithmetic, positions and words."""

from __future__ import annotations

import datetime as dt
from calendar import monthrange
from typing import get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casereview.domain.calendar import units
from casereview.domain.calendar.units import (
    CALENDAR_DAYS,
    MONTHS,
    UNITS,
    WORKING_DAYS,
    YEARS,
    unit_named,
)
from casereview.domain.workflow.model import ClockUnit
from casereview.infra.bank_holidays import england_calendar

D = dt.date.fromisoformat
CAL = england_calendar(environ={})

# Clear of the supported range's edges, so a budget never runs off it.
days = st.dates(min_value=dt.date(1995, 1, 1), max_value=dt.date(2090, 12, 31))
working_days = days.filter(CAL.is_working_day)
budgets = st.integers(min_value=0, max_value=400)


# -- the lookup ------------------------------------------------------------------------------


def test_every_unit_a_workflow_may_name_has_a_strategy():
    assert set(get_args(ClockUnit)) == set(UNITS)
    for name, unit in UNITS.items():
        assert unit.name == name
        assert unit_named(name) is unit
        assert unit_named(unit.counted_in).counted_in == unit.counted_in


def test_an_unknown_unit_is_a_value_error():
    with pytest.raises(ValueError, match="unknown clock unit 'fortnights'"):
        unit_named("fortnights")


def test_units_skipping_no_day_count_in_calendar_days():
    assert WORKING_DAYS.counted_in == "working_days"
    assert {CALENDAR_DAYS.counted_in, MONTHS.counted_in, YEARS.counted_in} == {"calendar_days"}


# -- words -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "one", "many", "one_day", "many_days"),
    [
        (WORKING_DAYS, "1 working day", "15 working days", "1 working day", "3 working days"),
        (CALENDAR_DAYS, "1 calendar day", "15 calendar days", "1 day", "3 days"),
        (MONTHS, "1 month", "15 months", "1 day", "3 days"),
        (YEARS, "1 year", "15 years", "1 day", "3 days"),
    ],
)
def test_words(unit, one, many, one_day, many_days):
    assert unit.amount(1) == one
    assert unit.amount(15) == many
    assert unit.amount(0) == many.replace("15", "0")
    assert unit.days(1) == one_day
    assert unit.days(3) == many_days
    assert unit.days(-2) == many_days.replace("3", "-2")
    assert unit.day_word == one_day.removeprefix("1 ")


def test_how_each_unit_counts():
    assert WORKING_DAYS.how_counted(15) == (
        "The anchor is day 0, whether or not it is a working day (workflow setting "
        "day_zero = anchor_is_day_0); the due date is the 15th working day after it."
    )
    assert WORKING_DAYS.how_counted(15, day_one=True) == (
        "The anchor is day 1 when it is a working day (workflow setting "
        "day_zero = anchor_is_day_1); an anchor on a non-working day is not counted."
    )
    assert WORKING_DAYS.how_counted(7, direction="before") == (
        "Counted back from the anchor, which is not counted: the due date is the "
        "7th working day before it."
    )
    for n, ordinal in [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (21, "21st")]:
        assert WORKING_DAYS.how_counted(n, direction="before").endswith(
            f"the {ordinal} working day before it."
        )
    assert "the 11th working day" in WORKING_DAYS.how_counted(11)
    assert "the 22nd working day" in WORKING_DAYS.how_counted(22)
    assert "the 113th working day" in WORKING_DAYS.how_counted(113)
    assert CALENDAR_DAYS.how_counted(28) == (
        "Calendar days: weekends and bank holidays do not move the date."
    )
    months = (
        "Calendar months: the same day of the month, or that month's last day when it "
        "is shorter; weekends and bank holidays do not move the date."
    )
    assert MONTHS.how_counted(6) == months
    assert YEARS.how_counted(1) == months


# -- working days ------------------------------------------------------------------------------


def test_working_day_due_dates_follow_the_calendar():
    # 15 working days after Thu 10 Dec 2026 skips Christmas, Boxing Day (substitute) and
    # New Year's Day.
    assert WORKING_DAYS.due(D("2026-12-10"), 15, CAL) == D("2027-01-05")
    assert WORKING_DAYS.due(D("2025-06-02"), 15, CAL, day_one=True) == D("2025-06-20")
    assert WORKING_DAYS.due(D("2025-09-30"), 7, CAL, direction="before") == D("2025-09-19")
    # day_one has no meaning counting back.
    assert WORKING_DAYS.due(D("2025-09-30"), 7, CAL, direction="before", day_one=True) == D(
        "2025-09-19"
    )


def test_working_day_explanations_reach_the_due_date():
    after = WORKING_DAYS.explain_due(D("2026-12-10"), 15, CAL)
    assert after is not None and after.result == D("2027-01-05")
    before = WORKING_DAYS.explain_due(D("2025-09-30"), 7, CAL, direction="before")
    assert before is not None and before.result == D("2025-09-19")
    assert before.direction == "before"
    resumed = WORKING_DAYS.explain_resume(D("2026-12-10"), 15, CAL)
    assert resumed is not None and resumed.result == D("2027-01-05")
    late = WORKING_DAYS.explain_resume(D("2025-09-30"), -7, CAL)
    assert late is not None and late.result == D("2025-09-19")


def test_a_working_day_pause_keeps_working_days_and_reprojects_them():
    # Paused on Fri 18 Dec 2026 with the clock due Tue 5 Jan 2027: 21-24, 29-31 Dec and
    # 4-5 Jan are left (25 and 28 Dec and 1 Jan are bank holidays).
    left = WORKING_DAYS.remaining(D("2026-12-18"), D("2027-01-05"), CAL)
    assert left == 9
    # Resumed a month later, the same working days are counted from the resume day.
    assert WORKING_DAYS.resume(D("2027-01-18"), left, CAL) == D("2027-01-29")
    # Paused when already late: the lateness is kept too.
    assert WORKING_DAYS.remaining(D("2025-06-24"), D("2025-06-20"), CAL) == -2
    assert WORKING_DAYS.resume(D("2025-07-01"), -2, CAL) == D("2025-06-27")


def test_working_day_position_skips_time_on_hold():
    anchor, due = D("2025-06-02"), D("2025-06-23")
    assert WORKING_DAYS.position(anchor, D("2025-06-20"), due, 15, [], CAL) == (14, 15)
    assert WORKING_DAYS.position(anchor, D("2025-06-20"), due, 15, [], CAL, day_one=True) == (
        15,
        15,
    )
    # A week on hold (five working days) does not count.
    held = [(D("2025-06-09"), D("2025-06-16"))]
    assert WORKING_DAYS.position(anchor, D("2025-06-20"), due, 15, held, CAL) == (9, 15)
    # An anchor on a Saturday is not day 1, whatever the setting.
    saturday = D("2025-06-07")
    assert WORKING_DAYS.position(saturday, D("2025-06-09"), due, 15, [], CAL, day_one=True) == (
        1,
        15,
    )


@given(day=days, n=budgets, day_one=st.booleans())
def test_working_days_counted_after_adding_give_the_budget_back(day, n, day_one):
    due = WORKING_DAYS.due(day, n, CAL, day_one=day_one)
    expected = n - 1 if day_one and n > 0 and CAL.is_working_day(day) else n
    assert WORKING_DAYS.between(day, due, CAL) == expected
    assert WORKING_DAYS.between(due, day, CAL) == -expected


@given(day=working_days, n=budgets)
def test_working_days_before_undoes_after_from_a_working_day(day, n):
    assert WORKING_DAYS.before(WORKING_DAYS.after(day, n, CAL), n, CAL) == day


@given(on=working_days, due=working_days)
def test_resuming_with_what_was_left_gives_the_due_date_back(on, due):
    left = WORKING_DAYS.remaining(on, due, CAL)
    assert WORKING_DAYS.resume(on, left, CAL) == due


@given(anchor=days, n=budgets)
def test_working_day_position_on_the_due_date_is_the_budget(anchor, n):
    due = WORKING_DAYS.due(anchor, n, CAL)
    assert WORKING_DAYS.position(anchor, due, due, n, [], CAL) == (n, n)


# -- calendar days -----------------------------------------------------------------------------


def test_calendar_days_ignore_weekends_and_bank_holidays():
    assert CALENDAR_DAYS.due(D("2026-12-24"), 3, CAL) == D("2026-12-27")
    assert CALENDAR_DAYS.due(D("2026-12-24"), 3, CAL, direction="before") == D("2026-12-21")
    assert CALENDAR_DAYS.due(D("2026-12-24"), 3, CAL, day_one=True) == D("2026-12-27")
    assert CALENDAR_DAYS.explain_due(D("2026-12-24"), 3, CAL) is None
    assert CALENDAR_DAYS.explain_resume(D("2026-12-24"), 3, CAL) is None


def test_calendar_day_position_is_against_the_span_to_the_due_date():
    anchor = D("2025-01-01")
    held = [(D("2025-01-05"), D("2025-01-08"))]
    # Due date moved three days by the pause: the span less the pause is the budget.
    assert CALENDAR_DAYS.position(anchor, D("2025-01-20"), D("2025-02-03"), 30, held, CAL) == (
        16,
        30,
    )


@given(day=days, n=st.integers(min_value=-400, max_value=400))
def test_calendar_days_count_and_resume_are_inverse(day, n):
    later = CALENDAR_DAYS.resume(day, n, CAL)
    assert CALENDAR_DAYS.between(day, later, CAL) == n
    assert CALENDAR_DAYS.remaining(day, later, CAL) == n
    if n >= 0:
        assert CALENDAR_DAYS.after(day, n, CAL) == later
        assert CALENDAR_DAYS.before(later, n, CAL) == day


# -- months and years --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "start", "n", "direction", "expected"),
    [
        (MONTHS, "2025-08-31", 6, "after", "2026-02-28"),
        (MONTHS, "2027-08-31", 6, "after", "2028-02-29"),
        (MONTHS, "2025-01-31", 1, "after", "2025-02-28"),
        (MONTHS, "2025-03-31", 1, "before", "2025-02-28"),
        (MONTHS, "2024-03-31", 1, "before", "2024-02-29"),
        (MONTHS, "2025-05-15", 0, "after", "2025-05-15"),
        (MONTHS, "2025-11-30", 3, "after", "2026-02-28"),
        (MONTHS, "2026-01-10", 14, "before", "2024-11-10"),
        (YEARS, "2024-02-29", 1, "after", "2025-02-28"),
        (YEARS, "2024-02-29", 4, "after", "2028-02-29"),
        (YEARS, "2025-02-28", 1, "before", "2024-02-28"),
        # Weekends and bank holidays never move a month date: 25 Dec 2027 is a Saturday.
        (MONTHS, "2027-06-25", 6, "after", "2027-12-25"),
    ],
)
def test_month_dates_clamp_to_the_month_end(unit, start, n, direction, expected):
    assert unit.due(D(start), n, CAL, direction=direction) == D(expected)


def test_month_clocks_keep_calendar_days_when_paused():
    due = MONTHS.due(D("2025-01-15"), 6, CAL)
    assert due == D("2025-07-15")
    left = MONTHS.remaining(D("2025-03-01"), due, CAL)
    assert left == (due - D("2025-03-01")).days == 136
    assert MONTHS.resume(D("2025-04-01"), left, CAL) == D("2025-08-15")
    assert MONTHS.explain_due(D("2025-01-15"), 6, CAL) is None
    # The position is in days against the span to the due date, not against "6".
    assert MONTHS.position(D("2025-01-15"), D("2025-02-15"), due, 6, [], CAL) == (31, 181)


@given(day=days, n=st.integers(min_value=0, max_value=240))
def test_months_land_n_months_on_with_the_same_day_or_the_month_end(day, n):
    due = MONTHS.after(day, n, CAL)
    assert (due.year * 12 + due.month) - (day.year * 12 + day.month) == n
    assert due.day == min(day.day, monthrange(due.year, due.month)[1])
    back = MONTHS.before(day, n, CAL)
    assert (day.year * 12 + day.month) - (back.year * 12 + back.month) == n
    assert back.day == min(day.day, monthrange(back.year, back.month)[1])


@settings(max_examples=50)
@given(day=days, n=st.integers(min_value=0, max_value=20))
def test_a_year_is_twelve_months(day, n):
    assert YEARS.after(day, n, CAL) == MONTHS.after(day, 12 * n, CAL)
    assert YEARS.before(day, n, CAL) == MONTHS.before(day, 12 * n, CAL)
    assert units.add_months(day, 12 * n) == YEARS.after(day, n, CAL)
