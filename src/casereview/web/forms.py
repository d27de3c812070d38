"""Reading what a form or a filter gave: GOV.UK date inputs (three boxes, day, month and
year, named `NAME-day`, `NAME-month`, `NAME-year`) and whole numbers. A value that
cannot be read raises `InvalidInput` naming the input, so the page shows it in the error
summary beside its field. The rules for which dates are accepted stay in
`domain.dates`; this only turns three boxes into one date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from casereview.domain import dates
from casereview.errors import Input, InvalidInput

PARTS = ("day", "month", "year")


def date_parts(values: Mapping[str, object], name: str) -> dict[str, str]:
    """The three boxes of date input `name` as typed (for filling the form again)."""
    return {part: str(values.get(f"{name}-{part}") or "").strip() for part in PARTS}


def date_input(values: Mapping[str, object], name: str, what: Input) -> dt.date | None:
    """The date typed in the three boxes of `name`; None if all three are empty."""
    parts = date_parts(values, name)
    if not any(parts.values()):
        return None
    missing = [part for part in PARTS if not parts[part]]
    if missing:
        raise InvalidInput(
            "{what} must include a {parts}", what=what, parts=" and a ".join(missing)
        )
    if not all(p.isdigit() for p in parts.values()) or len(parts["year"]) != 4:
        raise InvalidInput("{what} must be a real date, for example 27 3 2026", what=what)
    try:
        day = dt.date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except ValueError:
        raise InvalidInput("{what} must be a real date", what=what) from None
    return dates.supported(day, what)


def whole_number(values: Mapping[str, object], name: str, what: Input) -> int | None:
    """A whole number of 0 or more typed in `name`; None if empty."""
    text = str(values.get(name) or "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 6:
        raise InvalidInput("{what} must be a whole number, like 5", what=what)
    return int(text)
