"""The statuses a clock can have, as people read them: each status's word and meaning.

`domain.clocks.status` decides a clock's status; this is the one table of how each is
written (`running` reads "on track"), for every view, export and front end. Colours
belong to each front end.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClockStatus:
    id: str
    word: str
    meaning: str


STATUSES = (
    ClockStatus("overdue", "overdue", "running, and its due date has passed"),
    ClockStatus("missed", "missed", "stopped after its due date"),
    ClockStatus("due_soon", "due soon", "running, inside its warning window before the due date"),
    ClockStatus(
        "paused",
        "paused",
        "not counting while the case is in a state that pauses it; the budget left is kept",
    ),
    ClockStatus("running", "on track", "running, before its warning window"),
    ClockStatus(
        "met", "met", "stopped on or before its due date, or a reminder whose date has passed"
    ),
    ClockStatus(
        "undetermined",
        "cannot be computed",
        "a date it counts from is outside the dates casereview supports; the audit reports it",
    ),
)
"""Every status `domain.clocks.status` gives, with its word and its meaning."""

STATUS_WORD = {s.id: s.word for s in STATUSES}


def status_word(status: str) -> str:
    """The word for a status (an unknown status is shown as it is)."""
    return STATUS_WORD.get(status, status)
