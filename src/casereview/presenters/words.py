"""The small words every sentence shares: counts with their plural, amounts of days in a
clock's counting unit, ordinals and dates with their weekday."""

from __future__ import annotations

import datetime as dt

from casereview.domain.calendar.units import unit_named
from casereview.domain.calendar.workdays import weekday_name


def plural(n: int, word: str) -> str:
    """`1 open clock`, `2 open clocks`."""
    return f"{n} {word}" + ("" if n == 1 else "s")


def amount(n: int, unit: str) -> str:
    """`n` days in the unit a clock counts time left in (its `counted_in`):
    `1 working day`, `3 days`."""
    return unit_named(unit).days(n)


def ordinal(n: int) -> str:
    """`1st`, `2nd`, `11th`, `23rd`."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def day(d: dt.date) -> str:
    """A date with its weekday, locale-free: `Mon 2026-11-23`."""
    return f"{weekday_name(d)[:3]} {d.isoformat()}"


_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
)  # fmt: skip


def long_day(d: dt.date) -> str:
    """A date as GOV.UK's style guide writes it, locale-free: `Mon 7 December 2026`."""
    return f"{weekday_name(d)[:3]} {d.day} {_MONTHS[d.month - 1]} {d.year}"


def iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d is not None else None
