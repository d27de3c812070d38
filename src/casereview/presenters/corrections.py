"""Corrections, undos and voids as people read them, and their stable JSON shape
(documented in docs/user-guide.md: add keys, never rename or drop them).

The same words serve the command's own output, the timeline, `explain` and the report's
list of what was changed after the fact.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from casereview.domain.amendments import Change
from casereview.domain.corrections import ClockShift
from casereview.presenters.words import iso
from casereview.services.corrections import AmendResult


def change_words(change: Change) -> str:
    """`aware_on of event 1: 2026-10-02 → 2026-12-02`."""
    return change.describe()


def shift_words(shift: ClockShift) -> str:
    """`Serious incident notification: due 2026-10-09 → due 2026-12-09`."""
    return f"{shift.label}: {_clock_words(shift.due_before, shift.state_before)} → " + (
        _clock_words(shift.due_after, shift.state_after)
    )


def _clock_words(due: Any, state: str | None) -> str:
    if state is None:
        return "no clock"  # not started, or gone with a step undone or a case voided
    words = f"due {due.isoformat()}" if due is not None else "no due date"
    return words if state == "running" else f"{words} ({state})"


def headline(result: AmendResult) -> str:
    """The one line a command prints about what it recorded."""
    if result.trigger == "undo":
        return (
            f"Undid event {result.reverses} ({result.reversed_trigger}) on case {result.ref} "
            f"({result.from_state} → {result.to_state}), event {result.seq}."
        )
    if result.trigger == "void":
        return (
            f"Voided case {result.ref} as opened in error, event {result.seq}: it stays in "
            "the log and leaves every list, deadline and figure."
        )
    count = len(result.changes)
    return (
        f"Recorded a correction of {count} thing{'s' if count != 1 else ''} on case "
        f"{result.ref}, event {result.seq}."
    )


def change_json(change: Change) -> dict[str, Any]:
    return {
        "event": change.event,
        "what": change.what,
        "field": change.field,
        "was": change.was,
        "now": change.now,
        "text": change_words(change),
    }


def shift_json(shift: ClockShift) -> dict[str, Any]:
    data = dataclasses.asdict(shift)
    data["due_before"] = iso(shift.due_before)
    data["due_after"] = iso(shift.due_after)
    data["text"] = shift_words(shift)
    return data


def result_json(result: AmendResult) -> dict[str, Any]:
    """The JSON a correct, undo or void command prints."""
    return {
        "ref": result.ref,
        "seq": result.seq,
        "trigger": result.trigger,
        "from_state": result.from_state,
        "to_state": result.to_state,
        "occurred_on": result.occurred_on,
        "role": result.role,
        "rationale": result.rationale,
        "changes": [change_json(c) for c in result.changes],
        "reverses": result.reverses,
        "reversed_trigger": result.reversed_trigger,
        "clocks": [shift_json(s) for s in result.clocks],
        "entry_hash": result.entry_hash,
    }
