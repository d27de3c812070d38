"""The calendar feed, read back with icalendar's own parser."""

from __future__ import annotations

import datetime as dt

from icalendar import Calendar

from casereview.formats import ics

STAMP = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 23)


def deadline(**overrides: object) -> ics.Deadline:
    base: dict[str, object] = dict(
        case_ref="2026-009",
        pseudonym="Zoë – café",
        workflow_id="england-lcspr",
        workflow_version=1,
        clock_id="rapid_review",
        label="Rapid review to the Panel",
        kind="expectation",
        rule="15 working days after notified_on",
        anchor_on=dt.date(2026, 11, 4),
        due_on=dt.date(2026, 11, 25),
        warn_from=dt.date(2026, 11, 18),
        status="due_soon",
        sequence=3,
    )
    base.update(overrides)
    return ics.Deadline(**base)  # type: ignore[arg-type]


def parse(data: bytes) -> list:
    return list(Calendar.from_ical(data).walk("VEVENT"))


def test_one_all_day_event_per_deadline_with_stable_uid_and_sequence():
    data = ics.build(
        [deadline(), deadline(clock_id="notification", due_on=dt.date(2026, 11, 30))],
        stamp=STAMP,
        generator="casereview 0.1.0",
        today=TODAY,
    )
    events = parse(data)
    assert len(events) == 2
    first = events[0]
    assert str(first["uid"]) == "2026-009.rapid_review.england-lcspr@casereview"
    assert first.decoded("dtstart") == dt.date(2026, 11, 25)
    assert first.decoded("dtend") == dt.date(2026, 11, 26)
    assert int(first["sequence"]) == 3
    assert first.decoded("dtstamp") == STAMP
    assert str(first["summary"]) == "2026-009 (Zoë – café): Rapid review to the Panel"
    assert str(first["class"]) == "PRIVATE"
    assert str(first["transp"]) == "TRANSPARENT"


def test_description_gives_rule_anchor_dates_and_status():
    (event,) = parse(ics.build([deadline()], stamp=STAMP, generator="g", today=TODAY))
    text = str(event["description"])
    assert "Rule: 15 working days after notified_on, counted from 2026-11-04" in text
    assert "Due 2026-11-25; warning from 2026-11-18" in text
    assert "Status on 2026-11-23: due soon" in text


def test_alarm_fires_at_nine_on_the_warning_date():
    for warn in (dt.date(2026, 11, 18), dt.date(2026, 11, 25)):
        (event,) = parse(
            ics.build([deadline(warn_from=warn)], stamp=STAMP, generator="g", today=TODAY)
        )
        (alarm,) = event.walk("VALARM")
        start = dt.datetime.combine(event.decoded("dtstart"), dt.time())
        assert start + alarm.decoded("trigger") == dt.datetime.combine(warn, dt.time(9))
        assert str(alarm["action"]) == "DISPLAY"


def test_calendar_headers_and_empty_calendar():
    cal = Calendar.from_ical(ics.build([], stamp=STAMP, generator="casereview 0.1.0", today=TODAY))
    assert str(cal["version"]) == "2.0"
    assert str(cal["prodid"]) == "-//casereview//casereview 0.1.0//EN"
    assert str(cal["method"]) == "PUBLISH"
    assert list(cal.walk("VEVENT")) == []
