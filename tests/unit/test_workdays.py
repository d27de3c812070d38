"""The working-day calendar: worked examples, the GOV.UK list, semantics, ranges, horizon."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from casereview.domain.calendar.workdays import (
    MAX_DATE,
    MIN_DATE,
    Holiday,
    WorkingDayCalendar,
)
from casereview.errors import InvalidInput, OutOfRange
from casereview.infra.bank_holidays import (
    add_working_days,
    count_working_days,
    default_calendar,
    england_calendar,
    explain_add,
    explain_before,
    is_working_day,
    reset_default_calendar,
    subtract_working_days,
)

D = dt.date


@pytest.fixture(scope="module")
def cal() -> WorkingDayCalendar:
    # environ={} so a developer's own CASEREVIEW_HOLIDAY_OVERRIDES cannot change results.
    return england_calendar(environ={})


# england-lcspr.md "Worked examples" and PROCESS.md §8.4:
# anchor, +5 (day 0), +15 (day 0), 15th working day counting a working anchor as day 1.
WORKED = [
    (D(2025, 6, 2), D(2025, 6, 9), D(2025, 6, 23), D(2025, 6, 20)),
    (D(2023, 4, 28), D(2023, 5, 9), D(2023, 5, 23), D(2023, 5, 22)),
    (D(2022, 6, 1), D(2022, 6, 10), D(2022, 6, 24), D(2022, 6, 23)),
    (D(2022, 9, 10), D(2022, 9, 16), D(2022, 10, 3), D(2022, 10, 3)),
    (D(2020, 5, 5), D(2020, 5, 13), D(2020, 5, 28), D(2020, 5, 27)),
    (D(2020, 12, 14), D(2020, 12, 21), D(2021, 1, 7), D(2021, 1, 6)),
    (D(2026, 12, 10), D(2026, 12, 17), D(2027, 1, 5), D(2027, 1, 4)),
    (D(2025, 12, 15), D(2025, 12, 22), D(2026, 1, 8), D(2026, 1, 7)),
]

# "At least 7 working days before publication", counting back, publication day excluded.
SEVEN_BEFORE = [
    (D(2025, 9, 30), D(2025, 9, 19)),
    (D(2026, 1, 5), D(2025, 12, 22)),
    (D(2023, 5, 10), D(2023, 4, 27)),
]


@pytest.mark.parametrize(("anchor", "plus5", "plus15", "plus15_day_one"), WORKED)
def test_worked_examples_day_zero(cal, anchor, plus5, plus15, plus15_day_one):
    assert cal.add_working_days(anchor, 5) == plus5
    assert cal.add_working_days(anchor, 15) == plus15


@pytest.mark.parametrize(("anchor", "plus5", "plus15", "plus15_day_one"), WORKED)
def test_worked_examples_day_one(cal, anchor, plus5, plus15, plus15_day_one):
    assert cal.add_working_days(anchor, 15, start_is_day_one=True) == plus15_day_one


@pytest.mark.parametrize(("publication", "send_by"), SEVEN_BEFORE)
def test_seven_working_days_before_publication(cal, publication, send_by):
    assert cal.subtract_working_days(publication, 7) == send_by


def test_combined_rapid_review_variants(cal):
    # PROCESS.md §8.4: SIN sent on the last allowed day, then 15 working days from it.
    assert cal.add_working_days(cal.add_working_days(D(2025, 6, 2), 5), 15) == D(2025, 6, 30)
    assert cal.add_working_days(cal.add_working_days(D(2026, 12, 10), 5), 15) == D(2027, 1, 12)


def _fixture_dates(fixtures_dir) -> set[dt.date]:
    data = json.loads((fixtures_dir / "bank-holidays-england-and-wales.json").read_text())
    return {D.fromisoformat(text) for dates in data["dates"].values() for text in dates}


def test_every_govuk_bank_holiday_2019_2028_is_not_a_working_day(cal, fixtures_dir):
    holidays = _fixture_dates(fixtures_dir)
    assert len(holidays) == 83
    for day in sorted(holidays):
        assert not cal.is_working_day(day), day
        assert cal.non_working_reason(day).startswith("bank holiday: "), day


def test_every_other_weekday_2019_2028_is_a_working_day(cal, fixtures_dir):
    holidays = _fixture_dates(fixtures_dir)
    day = D(2019, 1, 1)
    checked = 0
    while day <= D(2028, 12, 31):
        if day.weekday() < 5 and day not in holidays:
            assert cal.is_working_day(day), day
            assert cal.non_working_reason(day) is None
            checked += 1
        day += dt.timedelta(days=1)
    assert checked == 2609 - 83


def test_weekends_are_never_working_days_and_say_which_day(cal):
    assert not cal.is_working_day(D(2026, 12, 12))
    assert cal.non_working_reason(D(2026, 12, 12)) == "Saturday"
    assert cal.non_working_reason(D(2026, 12, 13)) == "Sunday"
    # 26 Dec 2026 is Boxing Day but a Saturday: the weekend is the reason.
    assert cal.non_working_reason(D(2026, 12, 26)) == "Saturday"


def test_one_off_days_carry_official_names_and_sources(cal):
    coronation = cal.holiday(D(2023, 5, 8))
    assert coronation is not None
    assert cal.non_working_reason(D(2023, 5, 8)) == "bank holiday: Coronation of King Charles III"
    assert coronation.source.startswith("https://www.gov.uk/")
    funeral = cal.holiday(D(2022, 9, 19))
    assert funeral is not None and funeral.name == "State Funeral of Queen Elizabeth II"


def test_rule_based_holidays_name_the_library_as_provenance(cal):
    christmas = cal.holiday(D(2025, 12, 25))
    assert christmas is not None
    assert christmas.name == "Christmas Day"
    assert christmas.source.startswith("holidays ")
    substitute = cal.holiday(D(2026, 12, 28))
    assert substitute is not None and substitute.name == "Boxing Day (substitute day)"


def test_holidays_lists_weekday_holidays_in_order(cal):
    listed = cal.holidays(D(2022, 1, 1), D(2022, 12, 31))
    assert [h.date for h in listed] == sorted(h.date for h in listed)
    assert [h.date.isoformat() for h in listed][:2] == ["2022-01-03", "2022-04-15"]
    assert len(listed) == 10


# -- semantics --------------------------------------------------------------------------


def test_zero_working_days_is_the_anchor_itself(cal):
    saturday = D(2026, 12, 12)
    assert cal.add_working_days(saturday, 0) == saturday
    assert cal.add_working_days(saturday, 0, start_is_day_one=True) == saturday
    assert cal.subtract_working_days(saturday, 0) == saturday


def test_day_one_rule_counts_a_working_anchor_as_day_one(cal):
    monday = D(2025, 6, 2)
    assert cal.add_working_days(monday, 1, start_is_day_one=True) == monday
    assert cal.add_working_days(monday, 1) == D(2025, 6, 3)


def test_day_one_rule_agrees_with_day_zero_on_a_non_working_anchor(cal):
    for anchor in (D(2022, 9, 10), D(2022, 9, 19), D(2023, 5, 8)):
        for n in (1, 5, 15):
            assert cal.add_working_days(anchor, n, start_is_day_one=True) == (
                cal.add_working_days(anchor, n)
            )


def test_count_is_half_open_and_antisymmetric(cal):
    assert cal.count_working_days(D(2026, 12, 10), D(2027, 1, 5)) == 15
    assert cal.count_working_days(D(2027, 1, 5), D(2026, 12, 10)) == -15
    assert cal.count_working_days(D(2026, 12, 10), D(2026, 12, 10)) == 0
    # (Fri, Mon]: the Monday only.
    assert cal.count_working_days(D(2025, 6, 6), D(2025, 6, 9)) == 1


def test_date_subclasses_are_accepted_and_results_are_plain_dates(cal):
    class MyDate(dt.date):
        pass

    result = cal.add_working_days(MyDate(2026, 12, 10), 0)
    assert type(result) is dt.date
    assert cal.add_working_days(MyDate(2026, 12, 10), 15) == D(2027, 1, 5)


def test_datetimes_are_refused(cal):
    with pytest.raises(TypeError, match=r"datetime\.date"):
        cal.add_working_days(dt.datetime(2026, 12, 10, 9, 0), 5)


@pytest.mark.parametrize("bad", [1.0, "5", True, None])
def test_non_integer_counts_are_refused(cal, bad):
    with pytest.raises(TypeError, match="int"):
        cal.add_working_days(D(2026, 12, 10), bad)


def test_negative_counts_are_invalid_input(cal):
    with pytest.raises(InvalidInput, match="0 or more"):
        cal.add_working_days(D(2026, 12, 10), -1)
    with pytest.raises(InvalidInput, match="0 or more"):
        cal.subtract_working_days(D(2026, 12, 10), -1)


# -- supported range ----------------------------------------------------------------------


@pytest.mark.parametrize("day", [MIN_DATE - dt.timedelta(days=1), MAX_DATE + dt.timedelta(days=1)])
def test_dates_outside_the_supported_range_are_out_of_range(cal, day):
    for call in (
        lambda: cal.add_working_days(day, 1),
        lambda: cal.subtract_working_days(day, 1),
        lambda: cal.count_working_days(day, D(2026, 1, 1)),
        lambda: cal.count_working_days(D(2026, 1, 1), day),
        lambda: cal.is_working_day(day),
    ):
        with pytest.raises(OutOfRange, match="1990-01-01 to 2099-12-31"):
            call()


def test_range_edges_are_supported(cal):
    assert cal.add_working_days(MAX_DATE, 0) == MAX_DATE
    assert cal.subtract_working_days(MIN_DATE, 0) == MIN_DATE
    weekdays = sum(
        1
        for offset in range(1, (MAX_DATE - MIN_DATE).days + 1)
        if (MIN_DATE + dt.timedelta(days=offset)).weekday() < 5
    )
    holidays = [h for h in cal.holidays() if h.date > MIN_DATE]
    assert cal.count_working_days(MIN_DATE, MAX_DATE) == weekdays - len(holidays)


def test_absurd_counts_are_out_of_range_with_a_clear_message(cal):
    with pytest.raises(OutOfRange, match=r"would fall after 2099-12-31"):
        cal.add_working_days(D(2026, 12, 10), 10**9)
    with pytest.raises(OutOfRange, match=r"would fall before 1990-01-01"):
        cal.subtract_working_days(D(2026, 12, 10), 10**9)


def test_the_last_reachable_working_day_is_allowed_and_one_more_is_not(cal):
    total = cal.count_working_days(D(2026, 12, 10), MAX_DATE)
    last = cal.add_working_days(D(2026, 12, 10), total)
    assert last <= MAX_DATE and cal.is_working_day(last)
    with pytest.raises(OutOfRange):
        cal.add_working_days(D(2026, 12, 10), total + 1)


# -- explanations --------------------------------------------------------------------------


def test_explain_add_lists_counted_days_and_named_skips(cal):
    ex = cal.explain_add(D(2023, 4, 28), 5)
    assert ex.result == D(2023, 5, 9)
    assert [(c.date, c.ordinal) for c in ex.counted] == [
        (D(2023, 5, 2), 1),
        (D(2023, 5, 3), 2),
        (D(2023, 5, 4), 3),
        (D(2023, 5, 5), 4),
        (D(2023, 5, 9), 5),
    ]
    assert [(s.date, s.reason) for s in ex.skipped] == [
        (D(2023, 4, 29), "Saturday"),
        (D(2023, 4, 30), "Sunday"),
        (D(2023, 5, 1), "bank holiday: May Day"),
        (D(2023, 5, 6), "Saturday"),
        (D(2023, 5, 7), "Sunday"),
        (D(2023, 5, 8), "bank holiday: Coronation of King Charles III"),
    ]
    assert ex.anchor_reason is None
    assert ex.warnings == ()
    assert ex.summary() == (
        "5 working days after Fri 2023-04-28 (anchor is day 0) is Tue 2023-05-09"
    )


def test_explain_add_day_one_counts_the_anchor(cal):
    ex = cal.explain_add(D(2025, 6, 2), 15, start_is_day_one=True)
    assert ex.counted[0].date == D(2025, 6, 2) and ex.counted[0].ordinal == 1
    assert ex.counted[-1].date == ex.result == D(2025, 6, 20)
    assert ex.start_day_counts_as == 1


def test_explain_on_a_weekend_anchor_gives_its_reason(cal):
    ex = cal.explain_add(D(2022, 9, 10), 15)
    assert ex.anchor_reason == "Saturday"
    assert (D(2022, 9, 19), "bank holiday: State Funeral of Queen Elizabeth II") in [
        (s.date, s.reason) for s in ex.skipped
    ]
    assert all(c.date != ex.anchor for c in ex.counted)


def test_explain_before_numbers_days_counting_back(cal):
    ex = cal.explain_before(D(2023, 5, 10), 7)
    assert ex.result == D(2023, 4, 27)
    assert ex.direction == "before"
    assert [c.ordinal for c in ex.counted] == [7, 6, 5, 4, 3, 2, 1]
    assert ex.counted[-1].date == D(2023, 5, 9)
    assert {s.date for s in ex.skipped} >= {D(2023, 5, 1), D(2023, 5, 8)}
    assert ex.summary().startswith("7 working days before Wed 2023-05-10 (anchor not counted)")


def test_explain_zero_days_is_empty(cal):
    ex = cal.explain_add(D(2026, 12, 12), 0)
    assert ex.result == D(2026, 12, 12) and ex.counted == () and ex.skipped == ()


# -- horizon ------------------------------------------------------------------------------


def test_no_warning_up_to_the_horizon(cal):
    assert cal.known_through == 2028
    ex = cal.explain_add(D(2028, 12, 1), 5)
    assert ex.result.year == 2028
    assert ex.warnings == ()
    assert cal.horizon_warnings(D(2028, 12, 31)) == ()


def test_warning_when_the_result_passes_the_horizon(cal):
    ex = cal.explain_add(D(2028, 12, 20), 15)
    assert ex.result.year == 2029
    assert len(ex.warnings) == 1
    assert "after 2028" in ex.warnings[0] and ex.result.isoformat() in ex.warnings[0]


def test_warning_when_the_anchor_is_past_the_horizon_counting_back(cal):
    ex = cal.explain_before(D(2029, 1, 10), 3)
    assert ex.result.year == 2029
    assert ex.warnings and "2029-01-10" in ex.warnings[0]
    assert cal.horizon_warnings(D(2026, 1, 1), D(2029, 1, 1))


def test_known_through_argument_moves_the_horizon(cal):
    earlier = england_calendar(environ={}, known_through=2026)
    assert earlier.known_through == 2026
    assert earlier.explain_add(D(2026, 12, 10), 15).warnings  # result is in 2027
    assert cal.explain_add(D(2026, 12, 10), 15).warnings == ()


def test_known_through_must_be_a_supported_year():
    with pytest.raises(InvalidInput, match="known_through"):
        WorkingDayCalendar([], known_through=1900)


# -- injected calendars and the module-level shortcuts -------------------------------------


def test_a_calendar_can_be_built_from_injected_holidays():
    closure = Holiday(D(2026, 12, 11), "Test closure", "test")
    weekend = Holiday(D(2026, 12, 12), "Ignored", "test")
    cal = WorkingDayCalendar([closure, weekend], known_through=2030)
    assert not cal.is_working_day(D(2026, 12, 11))
    assert cal.non_working_reason(D(2026, 12, 11)) == "bank holiday: Test closure"
    assert cal.non_working_reason(D(2026, 12, 12)) == "Saturday"
    # No Christmas in this calendar: 25 Dec 2026 (a Friday) is an ordinary working day.
    assert cal.is_working_day(D(2026, 12, 25))
    assert cal.add_working_days(D(2026, 12, 10), 1) == D(2026, 12, 14)


def test_module_functions_use_the_default_calendar(monkeypatch):
    monkeypatch.delenv("CASEREVIEW_HOLIDAY_OVERRIDES", raising=False)
    reset_default_calendar()
    try:
        assert default_calendar() is default_calendar()
        assert add_working_days(D(2026, 12, 10), 15) == D(2027, 1, 5)
        assert add_working_days(D(2025, 6, 2), 15, start_is_day_one=True) == D(2025, 6, 20)
        assert subtract_working_days(D(2025, 9, 30), 7) == D(2025, 9, 19)
        assert count_working_days(D(2026, 12, 10), D(2027, 1, 5)) == 15
        assert is_working_day(D(2027, 1, 5)) and not is_working_day(D(2027, 1, 1))
        assert explain_add(D(2026, 12, 10), 15).result == D(2027, 1, 5)
        assert explain_before(D(2025, 9, 30), 7).result == D(2025, 9, 19)
    finally:
        reset_default_calendar()
