"""Where "now" comes from.

`SystemClock` is the only place in casereview that reads the real time; everything else
takes a `Clock`, so tests and demos can fix the date with `FixedClock`. Business dates
are in Europe/London (a date typed at 00:30 BST is that London day, not the UTC one);
recorded timestamps are UTC.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Protocol


@cache
def london() -> dt.tzinfo:
    """Europe/London, loaded on first use: importing `zoneinfo` is slow (it reads the
    interpreter's build configuration for its search path), which commands that never
    ask for today's date should not pay."""
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/London")


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current instant, timezone-aware, in UTC."""
        ...

    def today(self) -> dt.date:
        """Today's date in Europe/London."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def today(self) -> dt.date:
        return self.now().astimezone(london()).date()


class FixedClock:
    """A clock stopped at one instant; `advance` moves it for multi-step tests."""

    def __init__(self, when: dt.datetime | dt.date) -> None:
        if isinstance(when, dt.datetime):
            instant = when if when.tzinfo else when.replace(tzinfo=london())
        else:
            instant = dt.datetime.combine(when, dt.time(12, 0), tzinfo=london())
        self._instant = instant.astimezone(dt.UTC)

    def now(self) -> dt.datetime:
        return self._instant

    def today(self) -> dt.date:
        return self._instant.astimezone(london()).date()

    def advance(self, **delta: float) -> None:
        self._instant += dt.timedelta(**delta)
