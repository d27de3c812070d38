"""Bank-holiday overrides files: the packaged one, partnership ones, and strict validation."""

from __future__ import annotations

import datetime as dt

import pytest

from casereview.domain.calendar.workdays import InvalidHolidayOverrides, parse_overrides
from casereview.errors import CaseReviewError, ExitCode
from casereview.infra.bank_holidays import (
    OVERRIDES_ENV,
    england_calendar,
    load_overrides,
    packaged_overrides,
)

D = dt.date


def write(tmp_path, text: str, name: str = "overrides.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- the packaged file ---------------------------------------------------------------------


def test_packaged_file_is_valid_and_every_entry_cites_a_source():
    packaged = packaged_overrides()
    assert packaged.known_through == 2028
    assert packaged.entries
    for entry in packaged.entries:
        assert entry.source.startswith("https://www.gov.uk/"), entry
    renamed = {e.date: e.name for e in packaged.entries if e.action == "rename"}
    assert renamed[D(2023, 5, 8)] == "Coronation of King Charles III"


# -- add, remove, rename ---------------------------------------------------------------------


def test_add_remove_and_rename_are_honoured(tmp_path):
    path = write(
        tmp_path,
        """
        known_through = 2030

        [[add]]
        date = 2026-06-15
        name = "Local closure day"
        source = "Partnership board minutes, 1 March 2026, item 4"

        [[remove]]
        date = "2026-05-25"
        source = "https://example.org/announcement"
        note = "dates quoted as strings are accepted"

        [[rename]]
        date = 2026-12-28
        name = "Boxing Day substitute"
        source = "https://example.org/names"
        """,
    )
    cal = england_calendar(overrides=[path], environ={})
    assert not cal.is_working_day(D(2026, 6, 15))
    assert cal.non_working_reason(D(2026, 6, 15)) == "bank holiday: Local closure day"
    added = cal.holiday(D(2026, 6, 15))
    assert added is not None and added.source.startswith("Partnership board minutes")
    assert cal.is_working_day(D(2026, 5, 25))
    assert cal.non_working_reason(D(2026, 12, 28)) == "bank holiday: Boxing Day substitute"
    assert cal.known_through == 2030
    # The packaged renames still apply underneath.
    assert cal.non_working_reason(D(2023, 5, 8)) == ("bank holiday: Coronation of King Charles III")


def test_an_added_day_moves_a_due_date(tmp_path):
    baseline = england_calendar(environ={})
    path = write(
        tmp_path,
        '[[add]]\ndate = 2026-12-11\nname = "Closure"\nsource = "minutes"\n',
    )
    cal = england_calendar(overrides=[path], environ={})
    assert baseline.add_working_days(D(2026, 12, 10), 15) == D(2027, 1, 5)
    assert cal.add_working_days(D(2026, 12, 10), 15) == D(2027, 1, 6)


def test_later_files_win_and_the_argument_beats_every_file(tmp_path):
    first = write(tmp_path, "known_through = 2029\n", "first.toml")
    second = write(tmp_path, "known_through = 2031\n", "second.toml")
    assert england_calendar(overrides=[first, second], environ={}).known_through == 2031
    assert (
        england_calendar(overrides=[first, second], environ={}, known_through=2027).known_through
        == 2027
    )


def test_the_environment_file_is_applied(tmp_path):
    path = write(
        tmp_path,
        'known_through = 2029\n[[remove]]\ndate = 2026-12-28\nsource = "test"\n',
    )
    cal = england_calendar(environ={OVERRIDES_ENV: str(path)})
    assert cal.is_working_day(D(2026, 12, 28))
    assert cal.known_through == 2029


def test_an_empty_environment_variable_is_ignored():
    cal = england_calendar(environ={OVERRIDES_ENV: "  "})
    assert cal.known_through == 2028


def test_the_environment_file_must_exist(tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(InvalidHolidayOverrides, match=f"{OVERRIDES_ENV} names .*nope.toml"):
        england_calendar(environ={OVERRIDES_ENV: str(missing)})


def test_an_invalid_environment_file_is_a_casereview_error(tmp_path):
    path = write(tmp_path, "[[add]]\ndate = 2026-06-15\n")
    with pytest.raises(InvalidHolidayOverrides) as caught:
        england_calendar(environ={OVERRIDES_ENV: str(path)})
    assert isinstance(caught.value, CaseReviewError)
    assert caught.value.exit_code == ExitCode.ERROR
    assert str(path) in caught.value.message


# -- validation -------------------------------------------------------------------------------

INVALID = [
    ("colour = 1\n", "unknown top-level key 'colour'"),
    (
        '[[add]]\ndate = 2026-06-15\nname = "x"\nsource = "y"\nwhen = 1\n',
        "add[1]: unknown key 'when'",
    ),
    ('[[add]]\ndate = 2026-06-15\nname = "x"\n', "add[1]: missing 'source'"),
    ('[[remove]]\ndate = 2026-05-25\nsource = "  "\n', "remove[1].source: must be non-empty text"),
    ('[[rename]]\ndate = 2026-05-25\nsource = "y"\n', "rename[1]: missing 'name'"),
    ('[[add]]\ndate = "2023-02-30"\nname = "x"\nsource = "y"\n', "'2023-02-30' is not a real date"),
    ('[[add]]\ndate = "15/06/2026"\nname = "x"\nsource = "y"\n', "'15/06/2026' is not a real date"),
    ('[[add]]\ndate = 20260615\nname = "x"\nsource = "y"\n', "must be a date in YYYY-MM-DD form"),
    (
        '[[add]]\ndate = 2026-06-15T09:00:00\nname = "x"\nsource = "y"\n',
        "not a date and time",
    ),
    ('[[add]]\ndate = 2026-06-13\nname = "x"\nsource = "y"\n', "2026-06-13 is a Saturday"),
    ('[[add]]\ndate = 2150-06-15\nname = "x"\nsource = "y"\n', "outside the supported range"),
    (
        '[[add]]\ndate = 2026-06-15\nname = "x"\nsource = "y"\n'
        '[[remove]]\ndate = 2026-06-15\nsource = "y"\n',
        "already listed in add[1]",
    ),
    ("known_through = true\n", "known_through must be a year"),
    ("known_through = 1980\n", "known_through must be a year"),
    ('known_through = "2028"\n', "known_through must be a year"),
    ('add = "2026-06-15"\n', "'add' must be an array of tables"),
    ("[[add]\n", "is not valid TOML"),
]


@pytest.mark.parametrize(("text", "message"), INVALID)
def test_invalid_files_are_refused_with_a_specific_message(text, message):
    with pytest.raises(InvalidHolidayOverrides) as caught:
        parse_overrides(text, "test.toml")
    assert message in caught.value.message
    assert "test.toml" in caught.value.message


def test_every_problem_in_a_file_is_reported_at_once():
    text = 'colour = 1\n[[add]]\ndate = "2023-02-30"\nname = "x"\n'
    with pytest.raises(InvalidHolidayOverrides) as caught:
        parse_overrides(text, "test.toml")
    assert len(caught.value.problems) == 3
    assert any("colour" in p for p in caught.value.problems)
    assert any("2023-02-30" in p for p in caught.value.problems)
    assert any("missing 'source'" in p for p in caught.value.problems)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[remove]]\ndate = 2026-06-15\nsource = "y"\n', "remove 2026-06-15"),
        ('[[rename]]\ndate = 2026-06-15\nname = "x"\nsource = "y"\n', "rename 2026-06-15"),
    ],
)
def test_removing_or_renaming_a_day_that_is_not_a_holiday_is_refused(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(
        InvalidHolidayOverrides, match="does not match a weekday bank holiday"
    ) as caught:
        england_calendar(overrides=[path], environ={})
    assert message in caught.value.message


def test_a_missing_file_is_reported(tmp_path):
    with pytest.raises(InvalidHolidayOverrides, match="does not exist"):
        load_overrides(tmp_path / "absent.toml")


def test_a_file_that_is_not_utf8_is_reported(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'[[add]]\nname = "caf\xe9"\n')
    with pytest.raises(InvalidHolidayOverrides, match="cannot be read"):
        load_overrides(path)
