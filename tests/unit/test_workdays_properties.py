"""Properties of the working-day calendar, checked against a day-by-day reference model.

The calendar answers from a precomputed index; the model below walks the days one at a
time using only the weekday and the holiday list, so the two share no arithmetic.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casereview.infra.bank_holidays import england_calendar

CAL = england_calendar(environ={})
HOLIDAYS = frozenset(h.date for h in CAL.holidays())
ONE_DAY = dt.timedelta(days=1)

# Anchors well inside the supported range so that n up to 1,000 never leaves it.
dates = st.dates(min_value=dt.date(1995, 1, 1), max_value=dt.date(2095, 12, 31))
counts = st.integers(min_value=0, max_value=1000)
small_counts = st.integers(min_value=0, max_value=60)


def model_is_working(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in HOLIDAYS


def model_add(day: dt.date, n: int) -> dt.date:
    while n > 0:
        day += ONE_DAY
        if model_is_working(day):
            n -= 1
    return day


def model_subtract(day: dt.date, n: int) -> dt.date:
    while n > 0:
        day -= ONE_DAY
        if model_is_working(day):
            n -= 1
    return day


@given(dates, small_counts)
def test_add_matches_the_day_by_day_model(day, n):
    assert CAL.add_working_days(day, n) == model_add(day, n)


@given(dates, small_counts)
def test_subtract_matches_the_day_by_day_model(day, n):
    assert CAL.subtract_working_days(day, n) == model_subtract(day, n)


@given(dates, counts)
def test_result_is_a_working_day_and_never_a_weekend_or_holiday(day, n):
    for result in (
        CAL.add_working_days(day, n + 1),
        CAL.add_working_days(day, n + 1, start_is_day_one=True),
        CAL.subtract_working_days(day, n + 1),
    ):
        assert CAL.is_working_day(result)
        assert result.weekday() < 5
        assert result not in HOLIDAYS


@given(dates, counts)
def test_count_inverts_add(day, n):
    assert CAL.count_working_days(day, CAL.add_working_days(day, n)) == n


@given(dates, counts)
def test_count_back_over_a_subtraction(day, n):
    # (result, day] holds the n-1 working days strictly between them, plus day itself
    # when it is a working day (it was not counted going back).
    expected = 0 if n == 0 else n - 1 + int(CAL.is_working_day(day))
    assert CAL.count_working_days(CAL.subtract_working_days(day, n), day) == expected


@given(dates, counts)
def test_add_is_strictly_increasing_in_n(day, n):
    assert CAL.add_working_days(day, n) < CAL.add_working_days(day, n + 1)
    assert CAL.subtract_working_days(day, n) > CAL.subtract_working_days(day, n + 1)


@given(dates, counts)
def test_subtract_inverts_add_on_working_days(day, n):
    start = CAL.add_working_days(day, 1)  # a working day
    assert CAL.subtract_working_days(CAL.add_working_days(start, n), n) == start


@given(dates, counts)
def test_day_one_rule_is_one_working_day_earlier_on_working_anchors(day, n):
    day_one = CAL.add_working_days(day, n + 1, start_is_day_one=True)
    if CAL.is_working_day(day):
        assert day_one == CAL.add_working_days(day, n)
    else:
        assert day_one == CAL.add_working_days(day, n + 1)


@given(dates, dates)
def test_count_is_antisymmetric_and_matches_the_model(a, b):
    assert CAL.count_working_days(a, b) == -CAL.count_working_days(b, a)
    lo, hi = min(a, b), max(a, b)
    if (hi - lo).days <= 400:
        expected = sum(
            1 for k in range(1, (hi - lo).days + 1) if model_is_working(lo + k * ONE_DAY)
        )
        assert CAL.count_working_days(lo, hi) == expected


@settings(max_examples=60)
@given(dates, small_counts, st.booleans())
def test_explain_add_agrees_with_add_and_covers_the_span(day, n, day_one):
    ex = CAL.explain_add(day, n, start_is_day_one=day_one)
    assert ex.result == CAL.add_working_days(day, n, start_is_day_one=day_one)
    assert [c.ordinal for c in ex.counted] == list(range(1, n + 1))
    if n:
        assert ex.counted[-1].date == ex.result
    first = day if (day_one and n and CAL.is_working_day(day)) else day + ONE_DAY
    span = [first + k * ONE_DAY for k in range((ex.result - first).days + 1)]
    assert [c.date for c in ex.counted] == [d for d in span if model_is_working(d)]
    assert [s.date for s in ex.skipped] == [d for d in span if not model_is_working(d)]
    for skipped in ex.skipped:
        expected = CAL.non_working_reason(skipped.date)
        assert skipped.reason == expected
        assert skipped.reason in ("Saturday", "Sunday") or skipped.reason.startswith(
            "bank holiday: "
        )


@settings(max_examples=60)
@given(dates, small_counts)
def test_explain_before_agrees_with_subtract_and_covers_the_span(day, n):
    ex = CAL.explain_before(day, n)
    assert ex.result == CAL.subtract_working_days(day, n)
    assert sorted(c.ordinal for c in ex.counted) == list(range(1, n + 1))
    span = [ex.result + k * ONE_DAY for k in range((day - ex.result).days)]
    assert [c.date for c in ex.counted] == [d for d in span if model_is_working(d)]
    assert [s.date for s in ex.skipped] == [d for d in span if not model_is_working(d)]


@pytest.mark.parametrize("year", range(1990, 2100, 11))
def test_weekend_days_are_never_working_days_across_the_range(year):
    day = dt.date(year, 1, 1)
    while day.year == year:
        assert CAL.is_working_day(day) == model_is_working(day)
        day += ONE_DAY
