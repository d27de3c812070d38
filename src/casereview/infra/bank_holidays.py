"""Where England's bank holidays come from, and the calendar built from them.

This module owns loading: the `holidays` package's expansion of the England (GB,
subdivision ENG) rules, kept between processes by `holiday_cache`; the overrides file
shipped in `casereview/data/bank_holiday_overrides.toml`; an optional partnership file
named in `CASEREVIEW_HOLIDAY_OVERRIDES`; and the process's default calendar with the
module-level shortcuts that use it. The calendar itself, its arithmetic and the
overrides format are `casereview.domain.calendar.workdays`.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path

from casereview.domain.calendar.workdays import (
    MAX_DATE,
    MIN_DATE,
    Explanation,
    Holiday,
    InvalidHolidayOverrides,
    OverridesFile,
    WorkingDayCalendar,
    parse_overrides,
)
from casereview.infra import holiday_cache

__all__ = [
    "OVERRIDES_ENV",
    "PACKAGED_OVERRIDES",
    "add_working_days",
    "count_working_days",
    "default_calendar",
    "england_calendar",
    "explain_add",
    "explain_before",
    "is_default_calendar",
    "is_working_day",
    "load_overrides",
    "packaged_overrides",
    "reset_default_calendar",
    "subtract_working_days",
]

OVERRIDES_ENV = "CASEREVIEW_HOLIDAY_OVERRIDES"
"""Environment variable naming a partnership overrides file, applied after the packaged one."""

PACKAGED_OVERRIDES = "bank_holiday_overrides.toml"


# --------------------------------------------------------------------------------------
# Overrides files
# --------------------------------------------------------------------------------------


def load_overrides(path: Path | str) -> OverridesFile:
    """Read and validate an overrides file from disk."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidHolidayOverrides(
            f"holiday overrides file {file} does not exist", ["file not found"]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InvalidHolidayOverrides(
            f"holiday overrides file {file} cannot be read: {reason}", [reason]
        ) from None
    return parse_overrides(text, str(file))


def packaged_overrides() -> OverridesFile:
    """The overrides file shipped inside the package (official names, corrections)."""
    resource = resources.files("casereview").joinpath("data", PACKAGED_OVERRIDES)
    return parse_overrides(
        resource.read_text(encoding="utf-8"), f"casereview/data/{PACKAGED_OVERRIDES}"
    )


# --------------------------------------------------------------------------------------
# The library's holidays
# --------------------------------------------------------------------------------------


@functools.cache
def _library_holidays(first_year: int, last_year: int) -> tuple[Holiday, ...]:
    """Weekday bank holidays for England from the `holidays` package, expanded once.

    Importing the package and expanding a century of its rules is the dearest part of
    building a calendar, so the expansion is cached per process (tests and the engine
    build many calendars) and on disk between processes (`holiday_cache`, keyed by the
    installed package).
    """
    key = holiday_cache.package_key()
    cached = holiday_cache.load(first_year, last_year, key) if key is not None else None
    if cached is not None:
        version, entries = cached
    else:
        version, entries = _expand_library_holidays(first_year, last_year)
        if key is not None:
            holiday_cache.store(first_year, last_year, key, version, entries)
    provenance = f"holidays {version} (GB, subdivision ENG)"
    return tuple(Holiday(day, name, provenance) for day, name in entries)


def _expand_library_holidays(
    first_year: int, last_year: int
) -> tuple[str, list[tuple[dt.date, str]]]:
    """The package's version and its weekday holidays, (date, GOV.UK-style name), sorted."""
    # Deferred: `casereview --help`, and `due` with a warm cache, should not pay for
    # importing the holidays package.
    import holidays
    from holidays.version import __version__ as library_version

    table = holidays.country_holidays(
        "GB", subdiv="ENG", years=range(first_year, last_year + 1), language="en_GB"
    )
    found: list[tuple[dt.date, str]] = []
    for day, name in table.items():
        if day.weekday() < 5:
            # GOV.UK calls an observed day a "substitute day"; use its words.
            found.append((day, str(name).replace(" (observed)", " (substitute day)")))
    found.sort()
    return str(library_version), found


# --------------------------------------------------------------------------------------
# The England calendar
# --------------------------------------------------------------------------------------


def england_calendar(
    *,
    overrides: Sequence[OverridesFile | Path | str] = (),
    known_through: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> WorkingDayCalendar:
    """The England calendar: library holidays, then each overrides file in turn.

    Order: the packaged file, the file named by `CASEREVIEW_HOLIDAY_OVERRIDES` in
    `environ` (default `os.environ`; pass `{}` to ignore it), then `overrides`. A
    later file wins for a date. The horizon is `known_through` if given, else the
    last file that sets one.
    """
    env = os.environ if environ is None else environ
    files = [packaged_overrides()]
    extra_path = env.get(OVERRIDES_ENV, "").strip()
    if extra_path:
        file = Path(extra_path).expanduser()
        if not file.is_file():
            raise InvalidHolidayOverrides(
                f"{OVERRIDES_ENV} names {file}, which is not an existing file; "
                "point it at a TOML overrides file or unset it"
            )
        files.append(load_overrides(file))
    files.extend(o if isinstance(o, OverridesFile) else load_overrides(o) for o in overrides)
    return WorkingDayCalendar.with_overrides(
        _library_holidays(MIN_DATE.year, MAX_DATE.year), files, known_through=known_through
    )


# --------------------------------------------------------------------------------------
# The default calendar and module-level shortcuts
# --------------------------------------------------------------------------------------

_default: WorkingDayCalendar | None = None


def default_calendar() -> WorkingDayCalendar:
    """The England calendar, built on first use from the packaged and environment files.

    Two threads racing here may each build one; both are equal, so no lock is needed.
    """
    global _default
    calendar = _default
    if calendar is None:
        calendar = _default = england_calendar()
    return calendar


def is_default_calendar(calendar: WorkingDayCalendar) -> bool:
    """True if `calendar` is the one `default_calendar()` returns in this process."""
    return calendar is _default


def reset_default_calendar() -> None:
    """Forget the default calendar (after changing `CASEREVIEW_HOLIDAY_OVERRIDES`)."""
    global _default
    _default = None


def is_working_day(d: dt.date) -> bool:
    """See `WorkingDayCalendar.is_working_day` (default calendar)."""
    return default_calendar().is_working_day(d)


def add_working_days(d: dt.date, n: int, *, start_is_day_one: bool = False) -> dt.date:
    """See `WorkingDayCalendar.add_working_days` (default calendar)."""
    return default_calendar().add_working_days(d, n, start_is_day_one=start_is_day_one)


def subtract_working_days(d: dt.date, n: int) -> dt.date:
    """See `WorkingDayCalendar.subtract_working_days` (default calendar)."""
    return default_calendar().subtract_working_days(d, n)


def count_working_days(start: dt.date, end: dt.date) -> int:
    """See `WorkingDayCalendar.count_working_days` (default calendar)."""
    return default_calendar().count_working_days(start, end)


def explain_add(d: dt.date, n: int, *, start_is_day_one: bool = False) -> Explanation:
    """See `WorkingDayCalendar.explain_add` (default calendar)."""
    return default_calendar().explain_add(d, n, start_is_day_one=start_is_day_one)


def explain_before(d: dt.date, n: int) -> Explanation:
    """See `WorkingDayCalendar.explain_before` (default calendar)."""
    return default_calendar().explain_before(d, n)
