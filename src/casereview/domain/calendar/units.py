"""Clock units: one strategy for each unit a clock's budget can be written in.

A unit owns how a budget becomes a due date (after or before an anchor), how time left
and time elapsed are counted (in working days, or in calendar days for every unit that
does not skip days), how a paused clock's remaining budget is re-projected when it
resumes, and the words for its amounts. `unit_named` finds the strategy for a unit name
as written in workflow files; a new unit is one new class and its entry in `UNITS`.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from calendar import monthrange
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar, Protocol

if TYPE_CHECKING:
    from casereview.domain.calendar.workdays import Explanation

__all__ = [
    "CALENDAR_DAYS",
    "MONTHS",
    "UNITS",
    "WORKING_DAYS",
    "YEARS",
    "Calendar",
    "CalendarDays",
    "ExplainingCalendar",
    "Months",
    "Unit",
    "WorkingDays",
    "Years",
    "add_months",
    "unit_named",
]


class Calendar(Protocol):
    """What clock arithmetic needs of a working-day calendar (`WorkingDayCalendar` is one)."""

    def is_working_day(self, d: dt.date) -> bool: ...

    def add_working_days(
        self, d: dt.date, n: int, *, start_is_day_one: bool = False
    ) -> dt.date: ...

    def subtract_working_days(self, d: dt.date, n: int) -> dt.date: ...

    def count_working_days(self, start: dt.date, end: dt.date) -> int: ...


class ExplainingCalendar(Calendar, Protocol):
    """A calendar that can also list the days behind a working-day result."""

    def explain_add(self, d: dt.date, n: int, *, start_is_day_one: bool = False) -> Explanation: ...

    def explain_before(self, d: dt.date, n: int) -> Explanation: ...


def add_months(d: dt.date, months: int) -> dt.date:
    """Calendar months later, clamped to the month's last day (31 Aug + 6 = 28/29 Feb)."""
    index = d.month - 1 + months
    year, month = d.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(d.day, monthrange(year, month)[1]))


def _counted(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class Unit(ABC):
    """A clock unit. Instances hold no state; use the ones in `UNITS`.

    `direction` is a clock's direction: "after" counts forward from the anchor, anything
    else counts back. `day_one` is the workflow's `day_zero = anchor_is_day_1` setting,
    which only a unit that skips days can honour.
    """

    name: ClassVar[str]
    """The unit as written in workflow files: "working_days"."""
    noun: ClassVar[str]
    """A budget's noun, singular: "working day", "calendar day", "month", "year"."""
    counted_in: ClassVar[str]
    """The unit time left and time elapsed are counted in: "working_days" or
    "calendar_days" (a paused month clock keeps the calendar days it had left)."""
    day_word: ClassVar[str]
    """The word of that count, singular: "working day" or "day"."""

    # -- the budget ----------------------------------------------------------------------

    def amount(self, n: int) -> str:
        """A budget in words: "15 working days", "1 calendar day", "6 months"."""
        return _counted(n, self.noun)

    def due(
        self,
        anchor: dt.date,
        n: int,
        cal: Calendar,
        *,
        direction: str = "after",
        day_one: bool = False,
    ) -> dt.date:
        """The due date of a budget of `n` after (or before) `anchor`."""
        if direction == "after":
            return self.after(anchor, n, cal, day_one=day_one)
        return self.before(anchor, n, cal)

    @abstractmethod
    def after(self, anchor: dt.date, n: int, cal: Calendar, *, day_one: bool = False) -> dt.date:
        """The date `n` of this unit after `anchor`."""

    @abstractmethod
    def before(self, anchor: dt.date, n: int, cal: Calendar) -> dt.date:
        """The date `n` of this unit before `anchor`."""

    def explain_due(
        self,
        anchor: dt.date,
        n: int,
        cal: ExplainingCalendar,
        *,
        direction: str = "after",
        day_one: bool = False,
    ) -> Explanation | None:
        """Every day counted and skipped to reach `due(...)`; None for a unit that skips
        no day, whose due date is plain date arithmetic."""
        return None

    @abstractmethod
    def how_counted(self, n: int, *, direction: str = "after", day_one: bool = False) -> str:
        """One sentence on how a budget of `n` in this unit is counted from its anchor."""

    # -- time left and time elapsed, in `counted_in` ----------------------------------------

    def days(self, n: int) -> str:
        """A count of time left or elapsed in words: "3 working days", "1 day"."""
        return _counted(n, self.day_word)

    @abstractmethod
    def between(self, start: dt.date, end: dt.date, cal: Calendar) -> int:
        """The count from `start` to `end`: days in (start, end], negative if end < start."""

    def remaining(self, on: dt.date, due: dt.date, cal: Calendar) -> int:
        """What is left on `on` of a budget due on `due` (negative: how late)."""
        return self.between(on, due, cal)

    @abstractmethod
    def resume(self, on: dt.date, remaining: int, cal: Calendar) -> dt.date:
        """The due date of a clock that resumes on `on` with `remaining` left (a paused
        clock keeps what was left, not a date)."""

    def explain_resume(
        self, on: dt.date, remaining: int, cal: ExplainingCalendar
    ) -> Explanation | None:
        """Every day counted and skipped to reach `resume(...)`; None for a unit that
        skips no day."""
        return None

    @abstractmethod
    def position(
        self,
        anchor: dt.date,
        on: dt.date,
        due: dt.date,
        budget: int,
        paused: Sequence[tuple[dt.date, dt.date]],
        cal: Calendar,
        *,
        day_one: bool = False,
    ) -> tuple[int, int]:
        """Where a clock counted forward from `anchor` stands on `on`: (day, of), as in
        "working day 13 of 15". `paused` holds each finished pause (paused on, resumed
        on); time on hold does not count."""

    def __repr__(self) -> str:
        return f"<clock unit {self.name}>"


class WorkingDays(Unit):
    """Working days: weekends and bank holidays are skipped, and a pause keeps the working
    days left."""

    name = "working_days"
    noun = "working day"
    counted_in = "working_days"
    day_word = "working day"

    def after(self, anchor: dt.date, n: int, cal: Calendar, *, day_one: bool = False) -> dt.date:
        return cal.add_working_days(anchor, n, start_is_day_one=day_one)

    def before(self, anchor: dt.date, n: int, cal: Calendar) -> dt.date:
        return cal.subtract_working_days(anchor, n)

    def explain_due(
        self,
        anchor: dt.date,
        n: int,
        cal: ExplainingCalendar,
        *,
        direction: str = "after",
        day_one: bool = False,
    ) -> Explanation | None:
        if direction == "after":
            return cal.explain_add(anchor, n, start_is_day_one=day_one)
        return cal.explain_before(anchor, n)

    def how_counted(self, n: int, *, direction: str = "after", day_one: bool = False) -> str:
        if direction != "after":
            return (
                "Counted back from the anchor, which is not counted: the due date is the "
                f"{_ordinal(n)} working day before it."
            )
        if day_one:
            return (
                "The anchor is day 1 when it is a working day (workflow setting "
                "day_zero = anchor_is_day_1); an anchor on a non-working day is not counted."
            )
        return (
            "The anchor is day 0, whether or not it is a working day (workflow setting "
            f"day_zero = anchor_is_day_0); the due date is the {_ordinal(n)} working "
            "day after it."
        )

    def between(self, start: dt.date, end: dt.date, cal: Calendar) -> int:
        return cal.count_working_days(start, end)

    def remaining(self, on: dt.date, due: dt.date, cal: Calendar) -> int:
        return cal.count_working_days(on, due)

    def resume(self, on: dt.date, remaining: int, cal: Calendar) -> dt.date:
        if remaining >= 0:
            return cal.add_working_days(on, remaining)
        return cal.subtract_working_days(on, -remaining)

    def explain_resume(
        self, on: dt.date, remaining: int, cal: ExplainingCalendar
    ) -> Explanation | None:
        if remaining >= 0:
            return cal.explain_add(on, remaining)
        return cal.explain_before(on, -remaining)

    def position(
        self,
        anchor: dt.date,
        on: dt.date,
        due: dt.date,
        budget: int,
        paused: Sequence[tuple[dt.date, dt.date]],
        cal: Calendar,
        *,
        day_one: bool = False,
    ) -> tuple[int, int]:
        held = sum(cal.count_working_days(start, end) for start, end in paused) if paused else 0
        day = cal.count_working_days(anchor, on) - held
        if day_one and cal.is_working_day(anchor):
            day += 1
        return day, budget


class _CountedInCalendarDays(Unit):
    """A unit that skips no day: time left and elapsed are calendar days, and a pause keeps
    the calendar days left."""

    counted_in = "calendar_days"
    day_word = "day"

    def between(self, start: dt.date, end: dt.date, cal: Calendar) -> int:
        return (end - start).days

    def remaining(self, on: dt.date, due: dt.date, cal: Calendar) -> int:
        return (due - on).days

    def resume(self, on: dt.date, remaining: int, cal: Calendar) -> dt.date:
        return on + dt.timedelta(days=remaining)

    def position(
        self,
        anchor: dt.date,
        on: dt.date,
        due: dt.date,
        budget: int,
        paused: Sequence[tuple[dt.date, dt.date]],
        cal: Calendar,
        *,
        day_one: bool = False,
    ) -> tuple[int, int]:
        # Measured against the span to the due date, not the budget: for months the
        # budget is not a number of days.
        held = sum((end - start).days for start, end in paused) if paused else 0
        return (on - anchor).days - held, (due - anchor).days - held


class CalendarDays(_CountedInCalendarDays):
    """Calendar days: every day counts; weekends and bank holidays do not move the date."""

    name = "calendar_days"
    noun = "calendar day"

    def after(self, anchor: dt.date, n: int, cal: Calendar, *, day_one: bool = False) -> dt.date:
        return anchor + dt.timedelta(days=n)

    def before(self, anchor: dt.date, n: int, cal: Calendar) -> dt.date:
        return anchor + dt.timedelta(days=-n)

    def how_counted(self, n: int, *, direction: str = "after", day_one: bool = False) -> str:
        return "Calendar days: weekends and bank holidays do not move the date."


class Months(_CountedInCalendarDays):
    """Calendar months: the same day of the month, or that month's last day when it is
    shorter (`add_months`)."""

    name = "months"
    noun = "month"
    months_each: ClassVar[int] = 1

    def after(self, anchor: dt.date, n: int, cal: Calendar, *, day_one: bool = False) -> dt.date:
        return add_months(anchor, self.months_each * n)

    def before(self, anchor: dt.date, n: int, cal: Calendar) -> dt.date:
        return add_months(anchor, -self.months_each * n)

    def how_counted(self, n: int, *, direction: str = "after", day_one: bool = False) -> str:
        return (
            "Calendar months: the same day of the month, or that month's last day when it "
            "is shorter; weekends and bank holidays do not move the date."
        )


class Years(Months):
    """Years: twelve calendar months, so 29 February and one year is 28 February."""

    name = "years"
    noun = "year"
    months_each = 12


WORKING_DAYS = WorkingDays()
CALENDAR_DAYS = CalendarDays()
MONTHS = Months()
YEARS = Years()

UNITS: Mapping[str, Unit] = {
    unit.name: unit for unit in (WORKING_DAYS, CALENDAR_DAYS, MONTHS, YEARS)
}
"""Every clock unit by its name in workflow files."""


def unit_named(name: str) -> Unit:
    """The strategy for a unit name; ValueError for a name no unit has."""
    try:
        return UNITS[name]
    except KeyError:
        raise ValueError(f"unknown clock unit {name!r}") from None
