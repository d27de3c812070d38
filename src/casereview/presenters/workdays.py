"""Working-day answers as stable JSON shapes (documented in docs/calendar.md: add keys,
never rename or drop them): a date moved by N working days, a count, and the day-by-day
explanation of a count that `workdays explain` and `explain` both show."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from casereview.domain.calendar.workdays import Explanation, weekday_name


def shifted_json(operation: Literal["add", "before"], ex: Explanation) -> dict[str, Any]:
    """A date moved by N working days, after or before another."""
    data: dict[str, Any] = {"operation": operation, "date": ex.anchor.isoformat(), "n": ex.n}
    if operation == "add":
        data["start_day_counts_as"] = ex.start_day_counts_as
    data |= {
        "result": ex.result.isoformat(),
        "known_through": ex.known_through,
        "warnings": list(ex.warnings),
    }
    return data


def counted_json(
    start: dt.date, end: dt.date, total: int, known_through: int, warnings: tuple[str, ...]
) -> dict[str, Any]:
    """The number of working days in (start, end]."""
    return {
        "operation": "count",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "working_days": total,
        "known_through": known_through,
        "warnings": list(warnings),
    }


def explanation_json(ex: Explanation) -> dict[str, Any]:
    """An explanation: every counted and skipped day, with the summary sentence."""
    return {
        "operation": "explain",
        "direction": ex.direction,
        "date": ex.anchor.isoformat(),
        "n": ex.n,
        "start_day_counts_as": ex.start_day_counts_as,
        "result": ex.result.isoformat(),
        "anchor": {
            "date": ex.anchor.isoformat(),
            "weekday": weekday_name(ex.anchor),
            "working_day": ex.anchor_reason is None,
            "reason": ex.anchor_reason,
        },
        "counted": [
            {"date": c.date.isoformat(), "weekday": weekday_name(c.date), "ordinal": c.ordinal}
            for c in ex.counted
        ],
        "skipped": [
            {
                "date": s.date.isoformat(),
                "weekday": weekday_name(s.date),
                "reason": s.reason,
                "source": s.source,
            }
            for s in ex.skipped
        ],
        "summary": ex.summary(),
        "known_through": ex.known_through,
        "warnings": list(ex.warnings),
    }


def day_rows(ex: Explanation) -> list[tuple[dt.date, str, str]]:
    """The explanation day by day, in date order: (date, its count or "-" when skipped,
    a note: why it was skipped, or that it is the anchor)."""
    rows: list[tuple[dt.date, str, str]] = [(c.date, str(c.ordinal), "") for c in ex.counted]
    rows += [(s.date, "-", s.reason) for s in ex.skipped]
    anchor_counted = any(c.date == ex.anchor for c in ex.counted)
    if not anchor_counted:
        note = "anchor" if ex.anchor_reason is None else f"anchor; {ex.anchor_reason}"
        day_zero = ex.direction == "after" and ex.start_day_counts_as == 0
        rows.append((ex.anchor, "0" if day_zero else "", note))
    else:
        rows = [(d, c, "anchor" if d == ex.anchor else n) for d, c, n in rows]
    return sorted(rows)
