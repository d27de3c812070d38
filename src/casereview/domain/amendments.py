"""What the engine's own amending events record, and reading it back. Pure.

Three events put a case's record right without touching what was logged before (the
log is append-only): a correction, the undo of the case's latest step, and the void of
a case opened in error. Their trigger ids are reserved (`clocks.CORRECT_TRIGGER`,
`UNDO_TRIGGER`, `VOID_TRIGGER`); replay applies them (`domain.replay`), and whether one
may be recorded is `domain.corrections`' to decide.

Their fields, as stored and hashed:

- a correction: `{"changes": [{"event": 1, "what": "field", "field": "aware_on",
  "was": "2026-10-02", "now": "2026-12-02"}, ...]}`, one entry per thing put right;
  `what` is `field` (a recorded field), `occurred_on` (the date an event is recorded as
  having happened; `field` is null) or `rationale` (the reasons recorded with it);
- an undo: `{"reverses": 7}`, the seq of the step it reverses;
- a void: no fields; its rationale says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

FIELD = "field"
"""A correction of a field an event recorded."""
OCCURRED_ON = "occurred_on"
"""A correction of the date an event is recorded as having happened."""
RATIONALE = "rationale"
"""A correction of the rationale recorded with an event."""
WHATS = (FIELD, OCCURRED_ON, RATIONALE)


@dataclass(frozen=True, slots=True)
class Change:
    """One thing a correction puts right: in event `event`, `was` becomes `now`."""

    event: int
    what: str  # field | occurred_on | rationale
    field: str | None  # the field's id when `what` is "field"
    was: Any
    now: Any

    @property
    def item(self) -> str:
        """What was corrected, as one word: the field's id, `occurred_on` or `rationale`."""
        return self.field if self.what == FIELD and self.field else self.what

    def describe(self, *, hide_values: bool = False) -> str:
        """`aware_on of event 1: 2026-10-02 → 2026-12-02`; with `hide_values` (a
        personal field), which field was corrected but not its values."""
        if self.what == FIELD:
            where = f"{self.field} of event {self.event}"
        elif self.what == OCCURRED_ON:
            where = f"date of event {self.event}"
        else:
            where = f"rationale of event {self.event}"
        if hide_values:
            return f"{where}: corrected (personal: values left out)"
        return f"{where}: {shown(self.was)} → {shown(self.now)}"

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "what": self.what,
            "field": self.field,
            "was": self.was,
            "now": self.now,
        }


def shown(value: Any) -> str:
    """A recorded value in a sentence: yes/no, text as it is, nothing as "(none)"."""
    if value is None or value == "":
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def correction_fields(changes: Sequence[Change]) -> dict[str, Any]:
    """A correction event's fields."""
    return {"changes": [change.to_json() for change in changes]}


def undo_fields(seq: int) -> dict[str, Any]:
    """An undo event's fields: the step it reverses."""
    return {"reverses": seq}


def changes_of(fields: Mapping[str, Any]) -> tuple[Change, ...]:
    """The changes a correction event's fields record (ValueError if malformed: a
    tampered row is a finding for `audit verify`, not a crash)."""
    items = fields.get("changes")
    if not isinstance(items, list) or not items:
        raise ValueError("a correction names no changes")
    found: list[Change] = []
    for item in items:
        if not isinstance(item, dict):
            raise ValueError("a correction's change is not an object")
        event, what, name = item.get("event"), item.get("what"), item.get("field")
        if type(event) is not int or what not in WHATS:
            raise ValueError("a correction's change names no event or no kind")
        if (what == FIELD) != isinstance(name, str):
            raise ValueError("a correction's change names a field only for a field")
        found.append(Change(event, str(what), name, item.get("was"), item.get("now")))
    return tuple(found)


def reversed_seq(fields: Mapping[str, Any]) -> int:
    """The step an undo event reverses (ValueError if it names none)."""
    seq = fields.get("reverses")
    if type(seq) is not int:
        raise ValueError("an undo names no step")
    return seq
