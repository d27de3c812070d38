"""Fact dates: the day a recorded thing happened, as distinct from the day it was recorded.

A trigger may name one of its required date fields as its `fact_date` (`notified_on`,
`published_on`, `sent_on`). Clocks start and stop on that day (`EventFacts.happened_on`),
so a notification sent on time and keyed in a week later is on time. This module owns
the one rule for which days a fact date may take:

- not after the day the event is recorded (its `occurred_on`): a fact records something
  that has happened;
- not before the previous fact on its *path*. A fact's path is the clocks its trigger
  stops: it cannot be earlier than the day any of them (still running or paused) began
  counting, which is its anchor for a clock counted after a date (`aware_on` for the
  notification, the submission for the Panel's response) and the day it started for a
  clock counted back from a date. A trigger that stops no running clock is on the
  case's own path, which begins on the day the case was opened.

Pure: the case's facts (its corrected history as replay gives it) in, a refusal out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from casereview.domain.clocks import OPEN_TRIGGER, EventFacts
from casereview.domain.workflow.model import WorkflowDefinition
from casereview.errors import Refused


def fact_on(field_id: str | None, changes: Mapping[str, Any]) -> dt.date | None:
    """The fact date an event's fields carry in `field_id` (None: no fact date, or a
    stored value that is no date, which `audit verify` reports)."""
    if field_id is None:
        return None
    value = changes.get(field_id)
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def floor(
    definition: WorkflowDefinition, trigger_id: str, facts: Sequence[EventFacts]
) -> tuple[dt.date, str] | None:
    """The earliest day `trigger_id`'s fact may take on a case with these `facts`, and
    what that day is in words; None when the case has no facts yet."""
    if not facts:
        return None
    found: list[tuple[dt.date, str]] = []
    for clock in definition.clocks_stopped_by(trigger_id):
        start: EventFacts | None = None
        for fact in facts:
            if fact.trigger in clock.start_on:
                start = fact
            # A `stop_all` trigger alone does not end the path: the clock waits for the rest.
            elif start is not None and fact.trigger in clock.stop_on:
                start = None
        if start is None:
            continue
        anchor_field = definition.anchor_field(clock)
        counting: dt.date | None = start.happened_on
        if clock.direction == "after" and anchor_field is not None:
            counting = fact_on(anchor_field, facts[-1].fields_after)
            what = f"{anchor_field}, from which the {clock.label} clock counts"
        else:
            what = f"the day the {clock.label} clock started"
        if counting is not None:
            found.append((counting, what))
    if found:
        return max(found, key=lambda pair: pair[0])
    opening = facts[0]
    if opening.trigger != OPEN_TRIGGER:
        return None
    return opening.occurred_on, "the day the case was opened"


def problem(
    definition: WorkflowDefinition,
    trigger_id: str,
    field_id: str,
    day: dt.date,
    occurred_on: dt.date,
    facts: Sequence[EventFacts],
) -> str | None:
    """Why a fact date is outside its bounds (see the module's docstring); None when it
    is within them. `facts` are the case's facts before the event."""
    if day > occurred_on:
        return (
            f"{field_id} {day.isoformat()} is after the event date {occurred_on.isoformat()}: "
            "a fact date records something that had happened by the day it is recorded"
        )
    bound = floor(definition, trigger_id, facts)
    if bound is not None and day < bound[0]:
        return (
            f"{field_id} {day.isoformat()} is before {bound[0].isoformat()} ({bound[1]}); "
            f"{trigger_id} cannot have happened before the step it follows on its path"
        )
    return None


def check(
    definition: WorkflowDefinition,
    trigger_id: str,
    field_id: str,
    day: dt.date,
    occurred_on: dt.date,
    facts: Sequence[EventFacts],
) -> None:
    """Refuse a fact date outside its bounds."""
    found = problem(definition, trigger_id, field_id, day, occurred_on, facts)
    if found is not None:
        raise Refused(found)
