"""Read-side queries for dashboards: plain SQL over the projection tables.

This module owns the SQL that dashboards run. Each function issues exactly one
statement against the projections (`cases`, `case_clocks`), never against the event
log: no replay, no workflow definition, no state machine. It returns plain frozen
records of ISO date text and numbers; whatever needs the working-day calendar (days
left, status) is added by the service layer.

The projection is rebuilt from the events on every write (see `services.cases`), so
what these queries read is what a replay of the log would produce; `audit verify`
checks that promise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, text

OPEN_CLOCKS_SQL = """
SELECT c.ref, c.pseudonym, c.state AS case_state,
       k.clock_id, k.label, k.kind, k.state, k.anchor_on, k.due_on, k.warn_from,
       k.started_on, k.remaining_days, k.paused_days, k.ends_on_due
FROM case_clocks AS k
JOIN cases AS c ON c.id = k.case_id
WHERE k.state IN ('running', 'paused')
  AND (k.ends_on_due = :no OR k.due_on IS NULL OR k.due_on >= :as_of)
ORDER BY k.state = 'paused', k.due_on IS NULL, k.due_on, c.ref, k.clock_id
"""
"""Every open clock, soonest first; served by the index ix_case_clocks_open_due.

A clock is open while it runs or is paused. A reminder clock (`ends_on_due`) is over
once its date has passed, so it is left out from the day after. Paused clocks come
last: while paused they have no due date (the stored one is the date before the
pause), and clocks with no due date yet (an unset anchor field) come after the dated
ones.
"""


@dataclass(frozen=True, slots=True)
class OpenClockRow:
    """One open clock joined to its case, as stored in the projection."""

    ref: str
    pseudonym: str
    case_state: str
    clock_id: str
    label: str
    kind: str
    state: str  # running | paused
    anchor_on: str | None
    due_on: str | None
    warn_from: str | None
    started_on: str | None
    remaining_days: int | None
    paused_days: int
    ends_on_due: bool


def open_clocks(conn: Connection, as_of: dt.date) -> Sequence[OpenClockRow]:
    """Every clock open on `as_of` across all cases, soonest due first (one query)."""
    rows = conn.execute(text(OPEN_CLOCKS_SQL), {"no": False, "as_of": as_of.isoformat()})
    return [
        OpenClockRow(
            ref=str(r.ref),
            pseudonym=str(r.pseudonym),
            case_state=str(r.case_state),
            clock_id=str(r.clock_id),
            label=str(r.label),
            kind=str(r.kind),
            state=str(r.state),
            anchor_on=_text(r.anchor_on),
            due_on=_text(r.due_on),
            warn_from=_text(r.warn_from),
            started_on=_text(r.started_on),
            remaining_days=None if r.remaining_days is None else int(r.remaining_days),
            paused_days=int(r.paused_days),
            ends_on_due=bool(r.ends_on_due),
        )
        for r in rows
    ]


def _text(value: object) -> str | None:
    return None if value is None else str(value)
