"""The working-day calendar: which days count, and date arithmetic over them.

This module owns the answer to "is this a working day?" and what follows from it: N
working days after or before a date, the working days between two dates, an explanation
of each result that lists every day counted and every day skipped with its reason, and
the bank-holiday overrides format (parsed from text) with how overrides correct a list
of holidays. It is pure: where England's holidays come from (the `holidays` package, the
overrides files, the default calendar) is `casereview.infra.bank_holidays`. The counting
rules (day 0 and day 1, counting back, the supported range, the `known_through` horizon)
are stated in docs/calendar.md; every method's docstring gives its own.
"""

from __future__ import annotations

import datetime as dt
import itertools
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from casereview.domain.dates import MAX_DATE, MIN_DATE
from casereview.errors import CaseReviewError, ExitCode, InvalidInput, OutOfRange

__all__ = [
    "MAX_DATE",
    "MIN_DATE",
    "CountedDay",
    "Explanation",
    "Holiday",
    "HolidayOverride",
    "InvalidHolidayOverrides",
    "OverridesFile",
    "SkippedDay",
    "WorkingDayCalendar",
    "parse_overrides",
    "weekday_name",
]


_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class InvalidHolidayOverrides(CaseReviewError):
    """A bank-holiday overrides file could not be read or failed validation.

    `problems` lists every finding, each naming the entry and key at fault, so one run
    shows everything that needs fixing.
    """

    exit_code = ExitCode.ERROR

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


# --------------------------------------------------------------------------------------
# Value types
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Holiday:
    """A weekday bank holiday and where casereview learnt of it."""

    date: dt.date
    name: str
    source: str


@dataclass(frozen=True, slots=True)
class HolidayOverride:
    """One entry of an overrides file: add, remove or rename a bank holiday."""

    action: Literal["add", "remove", "rename"]
    date: dt.date
    name: str | None
    source: str
    note: str | None
    origin: str


@dataclass(frozen=True, slots=True)
class OverridesFile:
    """A validated overrides file: its horizon (if it sets one) and its entries."""

    origin: str
    known_through: int | None
    entries: tuple[HolidayOverride, ...]


@dataclass(frozen=True, slots=True)
class CountedDay:
    """A working day that was counted, with its place in the count (1 is nearest the anchor)."""

    date: dt.date
    ordinal: int


@dataclass(frozen=True, slots=True)
class SkippedDay:
    """A day inside the counted span that is not a working day, and why."""

    date: dt.date
    reason: str
    source: str | None


@dataclass(frozen=True, slots=True)
class Explanation:
    """How a working-day result was reached, day by day, in date order.

    `counted` and `skipped` together cover every day of the span between the anchor and
    the result (the anchor itself is included only when it counts as day 1).
    `anchor_reason` says why the anchor is not a working day, or is None when it is one.
    """

    direction: Literal["after", "before"]
    anchor: dt.date
    n: int
    start_day_counts_as: Literal[0, 1]
    result: dt.date
    anchor_reason: str | None
    counted: tuple[CountedDay, ...]
    skipped: tuple[SkippedDay, ...]
    known_through: int
    warnings: tuple[str, ...]

    def summary(self) -> str:
        """One sentence a person can check against a paper calendar."""
        if self.direction == "before":
            rule = "anchor not counted"
        elif self.start_day_counts_as == 0:
            rule = "anchor is day 0"
        elif self.anchor_reason is None:
            rule = "anchor is day 1"
        else:
            rule = "anchor is not a working day, so not counted"
        return (
            f"{_plural(self.n)} {self.direction} {_short(self.anchor)} ({rule}) "
            f"is {_short(self.result)}"
        )


def _plural(n: int) -> str:
    return f"{n} working day" if n == 1 else f"{n} working days"


def weekday_name(d: dt.date) -> str:
    """'Monday' … 'Sunday', independent of the process locale (strftime is not)."""
    return _WEEKDAY_NAMES[d.weekday()]


def _short(d: dt.date) -> str:
    return f"{weekday_name(d)[:3]} {d.isoformat()}"


# --------------------------------------------------------------------------------------
# Overrides files
# --------------------------------------------------------------------------------------

_ENTRY_KEYS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # action: (required keys, optional keys)
    "add": (frozenset({"date", "name", "source"}), frozenset({"note"})),
    "remove": (frozenset({"date", "source"}), frozenset({"note"})),
    "rename": (frozenset({"date", "name", "source"}), frozenset({"note"})),
}
_TOP_KEYS = frozenset({"known_through", *_ENTRY_KEYS})


def parse_overrides(text: str, origin: str) -> OverridesFile:
    """Validate the text of an overrides file strictly; raise listing every problem.

    Unknown keys, dates that are not real ISO dates, weekend additions, dates outside
    the supported range, a missing or empty `source`, and a date listed twice in one
    file are all errors: a silently ignored correction would move a statutory deadline.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidHolidayOverrides(
            f"holiday overrides file {origin} is not valid TOML: {exc}", [str(exc)]
        ) from None
    except RecursionError:
        problem = "arrays or tables are nested too deeply to read"
        raise InvalidHolidayOverrides(
            f"holiday overrides file {origin} is not valid: {problem}", [problem]
        ) from None

    problems: list[str] = []
    for key in sorted(set(data) - _TOP_KEYS):
        problems.append(f"unknown top-level key {key!r} (allowed: {_listing(_TOP_KEYS)})")

    known_through = _check_year(data.get("known_through"), problems)

    entries: list[HolidayOverride] = []
    first_seen: dict[dt.date, str] = {}
    for action, (required, optional) in _ENTRY_KEYS.items():
        raw = data.get(action, [])
        if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
            problems.append(f"{action!r} must be an array of tables ([[{action}]] entries)")
            continue
        for index, item in enumerate(raw, start=1):
            where = f"{action}[{index}]"
            entry = _check_entry(action, where, item, required, optional, origin, problems)
            if entry is None:
                continue
            if entry.date in first_seen:
                problems.append(
                    f"{where}: {entry.date.isoformat()} is already listed in "
                    f"{first_seen[entry.date]}; give each date once per file"
                )
                continue
            first_seen[entry.date] = where
            entries.append(entry)

    if problems:
        raise InvalidHolidayOverrides(
            f"holiday overrides file {origin} is invalid: " + "; ".join(problems), problems
        )
    return OverridesFile(origin=origin, known_through=known_through, entries=tuple(entries))


def _check_year(value: object, problems: list[str]) -> int | None:
    if value is None:
        return None
    # bool is an int subclass; `known_through = true` is a mistake, not the year 1.
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not MIN_DATE.year <= value <= MAX_DATE.year
    ):
        problems.append(
            f"known_through must be a year from {MIN_DATE.year} to {MAX_DATE.year}, got {value!r}"
        )
        return None
    return value


def _check_entry(
    action: str,
    where: str,
    item: dict[str, Any],
    required: frozenset[str],
    optional: frozenset[str],
    origin: str,
    problems: list[str],
) -> HolidayOverride | None:
    before = len(problems)
    allowed = required | optional
    for key in sorted(set(item) - allowed):
        problems.append(f"{where}: unknown key {key!r} (allowed: {_listing(allowed)})")
    for key in sorted(required - set(item)):
        hint = " (a URL or citation for the announcement)" if key == "source" else ""
        problems.append(f"{where}: missing {key!r}{hint}")

    day = _check_date(item.get("date"), where, problems) if "date" in item else None
    texts: dict[str, str | None] = {}
    for key in ("name", "source", "note"):
        value = item.get(key)
        if key in item and (not isinstance(value, str) or not value.strip()):
            problems.append(f"{where}.{key}: must be non-empty text")
            value = None
        texts[key] = value.strip() if isinstance(value, str) else None

    if day is not None and action == "add" and day.weekday() >= 5:
        problems.append(
            f"{where}.date: {day.isoformat()} is a {_WEEKDAY_NAMES[day.weekday()]}; "
            "weekends are never working days, so only weekday holidays can be added"
        )
    if len(problems) > before or day is None or texts["source"] is None:
        return None
    return HolidayOverride(
        action=action,  # type: ignore[arg-type]
        date=day,
        name=texts["name"],
        source=texts["source"],
        note=texts["note"],
        origin=origin,
    )


def _check_date(value: object, where: str, problems: list[str]) -> dt.date | None:
    # TOML has a native date type; an ISO string is accepted too because people quote
    # dates by habit. A datetime is refused: a holiday is a whole day.
    day: dt.date | None = None
    if isinstance(value, dt.datetime):
        problems.append(f"{where}.date: give a date (YYYY-MM-DD), not a date and time")
        return None
    if isinstance(value, dt.date):
        day = value
    elif isinstance(value, str):
        try:
            if len(value) != 10:
                raise ValueError
            day = dt.date.fromisoformat(value)
        except ValueError:
            problems.append(f"{where}.date: {value!r} is not a real date in YYYY-MM-DD form")
            return None
    else:
        problems.append(f"{where}.date: must be a date in YYYY-MM-DD form, got {value!r}")
        return None
    if not MIN_DATE <= day <= MAX_DATE:
        problems.append(
            f"{where}.date: {day.isoformat()} is outside the supported range "
            f"{MIN_DATE.isoformat()} to {MAX_DATE.isoformat()}"
        )
        return None
    return day


def _listing(keys: Iterable[str]) -> str:
    return ", ".join(sorted(keys))


# --------------------------------------------------------------------------------------
# The calendar
# --------------------------------------------------------------------------------------


class WorkingDayCalendar:
    """Working days over `MIN_DATE`..`MAX_DATE`, indexed for constant-time arithmetic.

    The England calendar is built by `casereview.infra.bank_holidays.england_calendar()`;
    construct one directly from a list of holidays to test code that takes a calendar.
    Instances are immutable once built and safe to share between threads.
    """

    __slots__ = (
        "_base",
        "_cum",
        "_holidays",
        "_horizon_end",
        "_ndays",
        "_workdays",
        "_working",
        "known_through",
    )

    def __init__(self, holidays: Iterable[Holiday], *, known_through: int) -> None:
        if type(known_through) is not int or not MIN_DATE.year <= known_through <= MAX_DATE.year:
            raise InvalidInput(
                f"known_through must be a year from {MIN_DATE.year} to {MAX_DATE.year}, "
                f"got {known_through!r}"
            )
        self.known_through = known_through
        self._horizon_end = dt.date(known_through, 12, 31)
        # Only weekday holidays change anything; weekend ones are dropped here so the
        # reason shown for a Saturday is always "Saturday".
        self._holidays: dict[dt.date, Holiday] = {
            h.date: h for h in holidays if h.date.weekday() < 5 and MIN_DATE <= h.date <= MAX_DATE
        }

        base = MIN_DATE.toordinal()
        ndays = MAX_DATE.toordinal() - base + 1
        first_weekday = MIN_DATE.weekday()
        week = bytes(1 if (first_weekday + i) % 7 < 5 else 0 for i in range(7))
        working = bytearray((week * (ndays // 7 + 1))[:ndays])
        for day in self._holidays:
            working[day.toordinal() - base] = 0

        self._base = base
        self._ndays = ndays
        self._working = bytes(working)
        # _cum[i]: working days in [MIN_DATE, MIN_DATE + i]. Every question below is a
        # difference of two entries or an index into _workdays; nothing walks day by day.
        self._cum: tuple[int, ...] = tuple(itertools.accumulate(working))
        self._workdays: tuple[dt.date, ...] = tuple(
            map(dt.date.fromordinal, itertools.compress(range(base, base + ndays), working))
        )

    # -- construction ------------------------------------------------------------------

    @classmethod
    def with_overrides(
        cls,
        holidays: Iterable[Holiday],
        files: Sequence[OverridesFile],
        *,
        known_through: int | None = None,
    ) -> WorkingDayCalendar:
        """A calendar of `holidays` corrected by each overrides file in turn.

        A later file wins for a date. The horizon is `known_through` if given, else the
        last file that sets one.
        """
        table = {h.date: h for h in holidays}
        horizon: int | None = None
        for file in files:
            _apply(table, file)
            if file.known_through is not None:
                horizon = file.known_through
        if known_through is not None:
            horizon = known_through
        if horizon is None:
            raise InvalidHolidayOverrides(
                "no overrides file sets known_through (the last year whose bank holidays "
                "are published); set it in the packaged file or pass known_through"
            )
        return cls(table.values(), known_through=horizon)

    # -- lookups -------------------------------------------------------------------------

    def is_working_day(self, d: dt.date) -> bool:
        """True for Monday to Friday when the day is not a bank holiday."""
        return bool(self._working[self._offset(d)])

    def non_working_reason(self, d: dt.date) -> str | None:
        """'Saturday', 'Sunday' or 'bank holiday: <name>'; None for a working day."""
        self._offset(d)
        weekday = d.weekday()
        if weekday >= 5:
            return _WEEKDAY_NAMES[weekday]
        holiday = self._holidays.get(_plain(d))
        return None if holiday is None else f"bank holiday: {holiday.name}"

    def holiday(self, d: dt.date) -> Holiday | None:
        """The weekday bank holiday on `d`, with its provenance, if there is one."""
        self._offset(d)
        return self._holidays.get(_plain(d))

    def holidays(self, start: dt.date = MIN_DATE, end: dt.date = MAX_DATE) -> tuple[Holiday, ...]:
        """Weekday bank holidays from `start` to `end` inclusive, in date order."""
        self._offset(start)
        self._offset(end)
        return tuple(h for d, h in sorted(self._holidays.items()) if start <= d <= end)

    # -- arithmetic ----------------------------------------------------------------------

    def add_working_days(self, d: dt.date, n: int, *, start_is_day_one: bool = False) -> dt.date:
        """The Nth working day after `d` (day 0), or with `start_is_day_one` counting a
        working `d` as day 1. `n == 0` gives `d`."""
        i = self._offset(d)
        if type(n) is not int or n < 0:
            _reject_count(n)
        if n == 0:
            return dt.date.fromordinal(self._base + i)
        k = self._cum[i] + n - 1
        if start_is_day_one and self._working[i]:
            k -= 1
        if k >= len(self._workdays):
            raise _beyond_end(d, n, "after")
        return self._workdays[k]

    def subtract_working_days(self, d: dt.date, n: int) -> dt.date:
        """The Nth working day counting back from `d`, `d` not counted. `n == 0` gives `d`."""
        i = self._offset(d)
        if type(n) is not int or n < 0:
            _reject_count(n)
        if n == 0:
            return dt.date.fromordinal(self._base + i)
        # Working days strictly before d are _workdays[0 : cum[i] - working[i]].
        k = self._cum[i] - self._working[i] - n
        if k < 0:
            raise _beyond_end(d, n, "before")
        return self._workdays[k]

    def count_working_days(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]; negative (the count of (end, start]) if end < start."""
        return self._cum[self._offset(end)] - self._cum[self._offset(start)]

    def horizon_warnings(self, *days: dt.date) -> tuple[str, ...]:
        """A warning if any of `days` is after the last year whose holidays are known.

        Pass the anchor and the result of a computation: every day it considered lies
        between them.
        """
        if not days:
            return ()
        latest = max(days)
        if latest <= self._horizon_end:
            return ()
        return (
            f"{latest.isoformat()} is after {self.known_through}, the last year whose bank "
            "holidays are known; a one-off bank holiday announced later would move this "
            "result. Check https://www.gov.uk/bank-holidays nearer the time.",
        )

    # -- explanations ----------------------------------------------------------------------

    def explain_add(self, d: dt.date, n: int, *, start_is_day_one: bool = False) -> Explanation:
        """`add_working_days` with every counted and skipped day listed."""
        result = self.add_working_days(d, n, start_is_day_one=start_is_day_one)
        i = self._offset(d)
        anchor_counts = start_is_day_one and n > 0 and bool(self._working[i])
        first = i if anchor_counts else i + 1
        counted, skipped = self._walk(first, result.toordinal() - self._base, ascending=True)
        return Explanation(
            direction="after",
            anchor=_plain(d),
            n=n,
            start_day_counts_as=1 if start_is_day_one else 0,
            result=result,
            anchor_reason=self.non_working_reason(d),
            counted=counted,
            skipped=skipped,
            known_through=self.known_through,
            warnings=self.horizon_warnings(_plain(d), result),
        )

    def explain_before(self, d: dt.date, n: int) -> Explanation:
        """`subtract_working_days` with every counted and skipped day listed."""
        result = self.subtract_working_days(d, n)
        i = self._offset(d)
        first = result.toordinal() - self._base
        counted, skipped = self._walk(first, i - 1, ascending=False)
        return Explanation(
            direction="before",
            anchor=_plain(d),
            n=n,
            start_day_counts_as=0,
            result=result,
            anchor_reason=self.non_working_reason(d),
            counted=counted,
            skipped=skipped,
            known_through=self.known_through,
            warnings=self.horizon_warnings(_plain(d), result),
        )

    def _walk(
        self, first: int, last: int, *, ascending: bool
    ) -> tuple[tuple[CountedDay, ...], tuple[SkippedDay, ...]]:
        # Day by day on purpose: an explanation lists every day, so it is O(span) anyway.
        counted: list[CountedDay] = []
        skipped: list[SkippedDay] = []
        for offset in range(first, last + 1):
            day = dt.date.fromordinal(self._base + offset)
            if self._working[offset]:
                counted.append(CountedDay(day, 0))
            else:
                holiday = self._holidays.get(day)
                reason = self.non_working_reason(day)
                assert reason is not None
                skipped.append(SkippedDay(day, reason, None if holiday is None else holiday.source))
        total = len(counted)
        numbered = tuple(
            CountedDay(c.date, index if ascending else total + 1 - index)
            for index, c in enumerate(counted, start=1)
        )
        return numbered, tuple(skipped)

    # -- internals -----------------------------------------------------------------------

    def _offset(self, d: dt.date) -> int:
        if type(d) is not dt.date:
            d = _plain(d)
        i = d.toordinal() - self._base
        if i < 0 or i >= self._ndays:
            raise OutOfRange(
                f"{d.isoformat()} is outside the dates casereview supports "
                f"({MIN_DATE.isoformat()} to {MAX_DATE.isoformat()})"
            )
        return i

    def __repr__(self) -> str:
        return (
            f"WorkingDayCalendar({len(self._holidays)} weekday holidays, "
            f"known_through={self.known_through})"
        )


def _plain(d: object) -> dt.date:
    """A plain `datetime.date` for any date (e.g. pendulum's); refuse date-times."""
    if type(d) is dt.date:
        return d
    if isinstance(d, dt.datetime) or not isinstance(d, dt.date):
        # A date-time would silently drop its time and zone; make the caller choose the day.
        raise TypeError(f"expected a datetime.date, got {type(d).__name__}")
    return dt.date(d.year, d.month, d.day)


def _reject_count(n: object) -> None:
    if type(n) is not int:
        raise TypeError(f"the number of working days must be an int, got {type(n).__name__}")
    raise InvalidInput(f"the number of working days must be 0 or more, got {n}")


def _beyond_end(d: dt.date, n: int, direction: Literal["after", "before"]) -> OutOfRange:
    edge = MAX_DATE if direction == "after" else MIN_DATE
    word = "after" if direction == "after" else "before"
    return OutOfRange(
        f"{_plural(n)} {direction} {d.isoformat()} would fall {word} {edge.isoformat()}, "
        f"outside the dates casereview supports ({MIN_DATE.isoformat()} to "
        f"{MAX_DATE.isoformat()})"
    )


def _apply(table: dict[dt.date, Holiday], file: OverridesFile) -> None:
    """Apply one file's entries to `table`; removing or renaming a non-holiday is an error
    (it usually means a mistyped date, which would otherwise pass unnoticed)."""
    problems: list[str] = []
    for entry in file.entries:
        where = f"{entry.action} {entry.date.isoformat()}"
        if entry.action == "add":
            assert entry.name is not None
            table[entry.date] = Holiday(entry.date, entry.name, entry.source)
        elif entry.date not in table:
            problems.append(f"{where} does not match a weekday bank holiday; check the date")
        elif entry.action == "remove":
            del table[entry.date]
        else:
            assert entry.name is not None
            table[entry.date] = Holiday(entry.date, entry.name, entry.source)
    if problems:
        raise InvalidHolidayOverrides(
            f"holiday overrides file {file.origin} is invalid: " + "; ".join(problems), problems
        )
