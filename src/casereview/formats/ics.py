"""Open deadlines as an iCalendar file (RFC 5545) that Outlook and Google Calendar import.

One all-day VEVENT per running clock with a due date, with a UID that stays the same in
every export (so a newer file updates the entry), SEQUENCE the case's version, and a
reminder on the clock's warning date; private and transparent. The properties in full:
docs/exports.md ("casereview calendar export"). Built with the `icalendar` library; pure
(the service passes the deadlines, the timestamp and today's date).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from icalendar import Alarm, Calendar, Event

from casereview.formats.text import visible

ALARM_HOUR = 9
CALENDAR_NAME = "casereview deadlines"


@dataclass(frozen=True)
class Deadline:
    """A running clock with a due date, with what the calendar entry needs to say."""

    case_ref: str
    pseudonym: str
    workflow_id: str
    workflow_version: int
    clock_id: str
    label: str
    kind: str
    rule: str
    anchor_on: dt.date | None
    due_on: dt.date
    warn_from: dt.date
    status: str
    sequence: int
    type: str = ""
    """The review type's short label ("SAR"), when the feed holds several types."""

    @property
    def uid(self) -> str:
        return f"{self.case_ref}.{self.clock_id}.{self.workflow_id}@casereview"

    @property
    def summary(self) -> str:
        kind = f" [{self.type}]" if self.type else ""
        return visible(f"{self.case_ref}{kind} ({self.pseudonym}): {self.label}", keep_breaks=False)

    def description(self, today: dt.date) -> str:
        counted = f", counted from {self.anchor_on.isoformat()}" if self.anchor_on else ""
        lines = [
            f"Case {self.case_ref} ({self.pseudonym}), workflow {self.workflow_id} "
            f"v{self.workflow_version}",
            f"{self.label} ({self.kind})",
            f"Rule: {self.rule}{counted}",
            f"Due {self.due_on.isoformat()}; warning from {self.warn_from.isoformat()}",
            f"Status on {today.isoformat()}: {self.status.replace('_', ' ')}",
            f"Details: casereview case show {self.case_ref}",
        ]
        return "\n".join(visible(line, keep_breaks=False) for line in lines)

    @property
    def alarm_trigger(self) -> dt.timedelta:
        """09:00 on the warning date, relative to the start (00:00) of the due date."""
        return dt.timedelta(hours=ALARM_HOUR) - dt.timedelta(
            days=(self.due_on - self.warn_from).days
        )


def build(
    deadlines: Iterable[Deadline],
    *,
    stamp: dt.datetime,
    generator: str,
    today: dt.date,
    partnership: str | None = None,
) -> bytes:
    """The iCalendar file for these deadlines (in the order given); the calendar is
    named after the partnership once it has a name."""
    cal = Calendar()
    cal.add("prodid", f"-//casereview//{generator}//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{partnership}: {CALENDAR_NAME}" if partnership else CALENDAR_NAME)
    stamp = stamp.astimezone(dt.UTC)
    for deadline in deadlines:
        event = Event()
        event.add("uid", deadline.uid)
        event.add("sequence", deadline.sequence)
        event.add("dtstamp", stamp)
        event.add("dtstart", deadline.due_on)
        event.add("dtend", deadline.due_on + dt.timedelta(days=1))
        event.add("summary", deadline.summary)
        event.add("description", deadline.description(today))
        event.add("categories", ["casereview", deadline.kind])
        event.add("class", "PRIVATE")
        event.add("transp", "TRANSPARENT")
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"{deadline.summary}: due {deadline.due_on.isoformat()}")
        alarm.add("trigger", deadline.alarm_trigger)
        event.add_component(alarm)
        cal.add_component(event)
    return bytes(cal.to_ical())
