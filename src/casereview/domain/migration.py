"""Moving a case from one version of its workflow to a later one: where it arrives, and
how replay reads its history across the move. Pure.

The later version's file holds the state map (`[[migrations]]`, `VersionMap`). A move is
one event, trigger `migrate` (event kind `migrate`), recorded under the new version: its
`from_state` is the state the case was in, its `to_state` where it arrives, its fields
say which version it came from (`from_version`, `from_hash`) and, for a case arriving
held, since when it has been held (`held_since`) and the hold's reason and review date.

Replay reads a migrated case with the new version. Each step recorded under the earlier
version is read through the map: the case moves to the mapped state of the state the
step led to (the earlier version checked the move when it was made), keeps the fields
the new version keeps on a case, signs and clears rounds as the new version's trigger of
that name does, and counts as held where the map says the earlier state arrives held.
The clocks are then those of the new version's rules over that history
(`domain.clocks.derive`): a v1 case's clocks are re-derived from v2's rules, so a
recomputation from v2 gives the same dates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from casereview.domain.workflow.model import VersionMap, WorkflowDefinition

MIGRATE = "migrate"
"""The trigger (and event kind) of a move between versions."""
MIGRATE_KIND = "migrate"
FROM_VERSION, FROM_HASH, HELD_SINCE = "from_version", "from_hash", "held_since"


@dataclass(frozen=True)
class Arrival:
    """Where a case arrives in the new version, or why it cannot move."""

    state: str
    held: bool
    problem: str | None = None


def state_map(new: WorkflowDefinition, old: WorkflowDefinition) -> VersionMap | str:
    """The map from `old` to `new`, or why there is none: the versions must be of one
    workflow, `new` later, with a map from `old` that covers every state of `old`."""
    if new.id != old.id:
        return f"{old.label} and {new.label} are different workflows"
    if new.version <= old.version:
        return f"{new.label} is not later than {old.label}"
    found = new.migration_from(old.version)
    if found is None:
        return f"{new.label} has no state map from version {old.version} ([[migrations]])"
    missing = sorted(s.id for s in old.states if s.id not in found.states)
    if missing:
        return f"{new.label}'s map from version {old.version} leaves out {', '.join(missing)}"
    return found


def arrival(
    m: VersionMap, new: WorkflowDefinition, state: str, states_before: Sequence[str]
) -> Arrival:
    """Where a case in `state` arrives: the mapped state; for a `resume` state, the state
    it was in before it entered that one (`states_before`, latest last), where the new
    version can hold a case there."""
    target = m.states.get(state)
    if target is None:
        return Arrival("", False, f"state {state!r} has no place in {new.label}")
    held = state in m.held
    if state in m.resume and new.holds is not None:
        previous = next((s for s in reversed(states_before) if s != state), None)
        mapped = m.states.get(previous) if previous is not None else None
        if mapped is not None and mapped in new.holds.states:
            target = mapped
    return Arrival(target, held)


def hold_of(
    new: WorkflowDefinition, changes: Mapping[str, Any], seq: int, fields: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The hold a migrated case arrives with (the shape of `Replayed.hold`), from the
    migrate event's fields and the case's own; None when it does not arrive held."""
    holds = new.holds
    since = changes.get(HELD_SINCE)
    if holds is None or not isinstance(since, str):
        return None
    review_by = changes.get(holds.review_by, fields.get(holds.review_by))
    kept = {
        k: v
        for k, v in changes.items()
        if k not in (FROM_VERSION, FROM_HASH, HELD_SINCE, holds.review_by)
    }
    return {
        "since": since,
        "review_by": review_by,
        "trigger": MIGRATE,
        "seq": seq,
        "fields": kept,
    }


def hold_start(new: WorkflowDefinition) -> str:
    """The trigger a case arriving held counts as for the new version's clocks: its first
    hold trigger (the review clock starts, the clocks a hold pauses pause)."""
    return new.holds.hold[0] if new.holds is not None else MIGRATE
