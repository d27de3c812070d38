"""`domain.dates`: the supported range and the plausibility of the dates of an opening."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casereview.domain import dates
from casereview.domain.calendar import workdays
from casereview.errors import Input, InvalidInput, OutOfRange, Refused

D = dt.date.fromisoformat
TODAY = D("2026-11-23")


def test_the_range_is_the_calendars():
    assert (workdays.MIN_DATE, workdays.MAX_DATE) == (dates.MIN_DATE, dates.MAX_DATE)


@pytest.mark.parametrize("text", ["1990-01-01", "2026-11-02", "2099-12-31", " 2026-11-02 "])
def test_parse_takes_iso_dates_in_range(text):
    assert dates.parse(text, "date") == D(text.strip())


@pytest.mark.parametrize("text", ["1026-11-02", "1989-12-31", "2100-01-01", "9999-12-31"])
def test_parse_refuses_a_year_outside_the_range_naming_the_input(text):
    with pytest.raises(OutOfRange) as caught:
        dates.parse(text, Input("aware_on"))
    assert caught.value.message == (
        f"aware_on {text} is outside the dates casereview supports (1990-01-01 to 2099-12-31); "
        "check the year"
    )


@pytest.mark.parametrize("text", ["2026-13-01", "2026-02-30", "2026-W01-1", "26-11-02", ""])
def test_parse_refuses_what_is_not_an_iso_date(text):
    with pytest.raises(InvalidInput):
        dates.parse(text, "date")


def test_an_opening_on_the_awareness_day_or_after_it_is_plausible():
    dates.check_opening(opened_on=D("2026-11-20"), aware_on=D("2026-11-20"), today=TODAY)
    dates.check_opening(opened_on=TODAY, aware_on=D("2026-11-02"), today=TODAY)


@pytest.mark.parametrize(
    ("opened_on", "aware_on", "words"),
    [
        ("2026-11-19", "2026-11-20", "the opening date 2026-11-19 is before aware_on 2026-11-20"),
        ("2026-11-24", "2026-11-20", "the opening date 2026-11-24 is in the future"),
        ("2026-11-20", "2026-11-24", "aware_on 2026-11-24 is in the future"),
    ],
)
def test_implausible_openings_are_refused(opened_on, aware_on, words):
    with pytest.raises(Refused) as caught:
        dates.check_opening(opened_on=D(opened_on), aware_on=D(aware_on), today=TODAY)
    assert caught.value.message.startswith(words)


def test_an_opening_field_is_a_fact_by_the_opening_date():
    dates.check_opening_facts({"incident_on": D("2026-11-01")}, opened_on=TODAY, today=TODAY)
    with pytest.raises(Refused, match="incident_on 2026-11-24 is in the future"):
        dates.check_opening_facts({"incident_on": D("2026-11-24")}, opened_on=TODAY, today=TODAY)
    with pytest.raises(Refused, match="incident_on 2026-11-21 is after the opening date"):
        dates.check_opening_facts(
            {"incident_on": D("2026-11-21")}, opened_on=D("2026-11-20"), today=TODAY
        )
    with pytest.raises(OutOfRange, match="incident_on 1026-11-01 is outside"):
        dates.check_opening_facts({"incident_on": D("1026-11-01")}, opened_on=TODAY, today=TODAY)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("2026-11-02", None),
        (
            "1026-11-02",
            "1026-11-02 is outside the dates casereview supports (1990-01-01 to 2099-12-31)",
        ),
        ("2026-02-30", "2026-02-30 is not a real calendar date"),
        ("soon", "'soon' is not a date"),
        (None, "'None' is not a date"),
        (20261102, "'20261102' is not a date"),
    ],
)
def test_stored_problem_describes_a_stored_value_without_refusing_it(value, problem):
    assert dates.stored_problem(value) == problem


@given(st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)))
def test_a_stored_date_is_fine_exactly_when_it_would_be_accepted_on_input(day):
    try:
        dates.parse(day.isoformat(), "date")
        accepted = True
    except OutOfRange:
        accepted = False
    assert (dates.stored_problem(day.isoformat()) is None) == accepted
