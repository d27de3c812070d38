"""Which dates casereview accepts: the supported range, and what makes a date plausible.

Pure, and the one place these rules live. Every date a person gives — an option, a
field of type date, an opening's dates, a period — is checked here before anything is
computed or recorded: it is a real ISO date, it lies in the range the working-day
calendar covers (`MIN_DATE`..`MAX_DATE`, so a typo such as 1026 for 2026 is refused at
once instead of stopping every later export), and the dates of an opening agree with
one another and with today.

Readers of what is already stored use `stored_problem`, which says what is wrong with a
stored value instead of refusing it: a value in the log stays as it was recorded, and
`audit verify` reports it.

What a date is called in a message is given by the caller: an `errors.Input` for
something the person gives (each front end spells it), or plain words.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from casereview.errors import Input, InvalidInput, OutOfRange, Refused

MIN_DATE = dt.date(1990, 1, 1)
"""The first date casereview computes with; earlier than any case it will hold."""

MAX_DATE = dt.date(2099, 12, 31)
"""The last date casereview computes with; bank holidays that far out are rules, not facts."""

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_EARLIEST, _LATEST = MIN_DATE.isoformat(), MAX_DATE.isoformat()

if TYPE_CHECKING:
    from casereview.domain.workflow.model import WorkflowDefinition

Named = Input | str
"""What a date is called in a message: an input the person gives, or words."""


def supported(day: dt.date, what: Named) -> dt.date:
    """`day` itself, or OutOfRange if it is outside `MIN_DATE`..`MAX_DATE`."""
    if not MIN_DATE <= day <= MAX_DATE:
        raise OutOfRange(
            "{what} {day} is outside the dates casereview supports ({earliest} to {latest}); "
            "check the year",
            what=what,
            day=day.isoformat(),
            earliest=_EARLIEST,
            latest=_LATEST,
        )
    return day


def parse(text: str, what: Named) -> dt.date:
    """A strict ISO `YYYY-MM-DD` date (no week dates, times or shorthand) in the
    supported range, or InvalidInput saying what was wrong."""
    cleaned = text.strip()
    if not _ISO_DATE.fullmatch(cleaned):
        raise InvalidInput(
            "{what} must be an ISO date YYYY-MM-DD, got {shown}", what=what, shown=_shown(text)
        )
    try:
        day = dt.date.fromisoformat(cleaned)
    except ValueError:
        raise InvalidInput(
            "{what} {shown} is not a real calendar date", what=what, shown=_shown(cleaned)
        ) from None
    return supported(day, what)


def _shown(text: str, limit: int = 40) -> str:
    """A typed value quoted for a message: shortened, control characters escaped."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def not_in_future(day: dt.date, today: dt.date, what: Named) -> None:
    """Refuse a date of something that has happened when it is after today."""
    if day > today:
        raise Refused(
            "{what} {day} is in the future (today is {today})",
            what=what,
            day=day.isoformat(),
            today=today.isoformat(),
        )


def check_opening(*, opened_on: dt.date, aware_on: dt.date, today: dt.date) -> None:
    """The two dates every opening has: each in the supported range and not in the
    future, and the case not opened before the day its subject became known
    (`aware_on`)."""
    supported(opened_on, "the opening date")
    not_in_future(opened_on, today, "the opening date")
    supported(aware_on, Input("aware_on"))
    not_in_future(aware_on, today, Input("aware_on"))
    if opened_on < aware_on:
        raise Refused(
            "the opening date {opened} is before {aware} {day}: a case is opened on or "
            "after the day it became known",
            opened=opened_on.isoformat(),
            aware=Input("aware_on"),
            day=aware_on.isoformat(),
        )


def check_opening_facts(
    facts: Mapping[str, dt.date], *, opened_on: dt.date, today: dt.date
) -> None:
    """Dates given as opening fields (by field id: an incident date, a notification
    date) record something that had happened by the opening date: each is in range,
    not in the future, and not after the opening date."""
    for name, day in facts.items():
        supported(day, name)
        not_in_future(day, today, name)
        if day > opened_on:
            raise Refused(
                "{name} {day} is after the opening date {opened}; a date given when a case "
                "is opened records something that has already happened",
                name=name,
                day=day.isoformat(),
                opened=opened_on.isoformat(),
            )


def given_dates(definition: WorkflowDefinition, values: Mapping[str, Any]) -> dict[str, dt.date]:
    """The values of `definition`'s date fields among `values` (ISO text), as dates."""
    found: dict[str, dt.date] = {}
    for name, value in values.items():
        spec = definition.fields_by_id.get(name)
        if spec is not None and spec.type == "date" and isinstance(value, str) and value:
            found[name] = dt.date.fromisoformat(value)
    return found


def stored_problem(value: Any) -> str | None:
    """What is wrong with a date already stored (None: nothing): not a date at all, or a
    date outside the supported range. For readers that report rather than refuse."""
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        return f"{str(value)[:40]!r} is not a date"
    if _EARLIEST <= value <= _LATEST:
        # ISO dates compare as text; only a value in range needs the real check.
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return f"{value} is not a real calendar date"
        return None
    return f"{value} is outside the dates casereview supports ({_EARLIEST} to {_LATEST})"
