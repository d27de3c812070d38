"""Parsing of the values people type: ISO dates, counts, KEY=VALUE pairs.

Parsers raise `InvalidInput` with a message that names the option and the value
expected, so the CLI can print one `Error: …` line and exit 2.
"""

from __future__ import annotations

import datetime as dt

from casereview.domain import dates
from casereview.errors import InvalidInput


def parse_date(text: str, what: str = "date") -> dt.date:
    """Parse a strict ISO `YYYY-MM-DD` date (no week dates, no times, no shorthand) in
    the range casereview supports (`domain.dates`, where the rules are)."""
    return dates.parse(text, what)


def _shown(text: str, limit: int = 40) -> str:
    """Quote a typed value for an error message, shortened and with control chars escaped."""
    shown = text if len(text) <= limit else text[:limit] + "…"
    return repr(shown)


def parse_assignments(
    items: list[str] | None, option: str = "--set", key: str = "FIELD"
) -> dict[str, str]:
    """`--set FIELD=VALUE` pairs (or those of another option) into a dict; a field given
    twice is an error."""
    result: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise InvalidInput(f"{option} takes {key}=VALUE, got {_shown(item)}")
        if name in result:
            raise InvalidInput(f"{option} {name} is given twice")
        result[name] = value
    return result
